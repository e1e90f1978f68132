"""Static checks of the Kubernetes manifests (kustomize base, overlays, components)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from depqueue import defaults
from tests.containers.container_checks import (
    COMPOSE,
    OVERLAYS,
    POD_KINDS,
    RENDERED,
    ROOT,
    WORKLOAD_PROBES,
    documents,
    pod_specs,
    render,
    run,
    tool,
)


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
            # What must be writable is an emptyDir or a volume claim, never a hostPath; a Secret is read-only.
            for mount in container.get("volumeMounts", []):
                volume = volumes.get(mount["name"], {})
                if "secret" in volume and mount.get("readOnly") is True:
                    continue
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




def test_workers_and_the_submit_job_sign_with_the_job_secret() -> None:
    """Signed jobs are on as shipped: the pods that put jobs mount the Secret and name it."""
    for path, name in (("k8s/base", "wndchrm-worker"), ("k8s/base/submit-job", "wndchrm-submit")):
        docs = [d for d in yaml.safe_load_all(render(path)) if d]
        workloads = [d for d in docs if d["kind"] in ("Deployment", "Job") and d["metadata"]["name"] == name]
        assert workloads, f"{path}: no {name}"
        for doc in workloads:
            spec = doc["spec"]["template"]["spec"]
            secret = [v for v in spec["volumes"] if "secret" in v]
            assert [v["secret"]["secretName"] for v in secret] == ["wndchrm-job-secret"], doc["metadata"]["name"]
            for container in spec["containers"]:
                env = {e["name"]: e.get("value") for e in container.get("env", [])}
                assert env.get("JOB_SECRET_FILE") == "/run/secrets/wndchrm/job-secret"
