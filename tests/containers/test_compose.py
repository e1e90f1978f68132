"""Static checks of the compose stack and the monitoring files it mounts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.containers.container_checks import (
    CI_OVERRIDE,
    COMPOSE,
    DOCKERFILE,
    PYTHON_TARGETS,
    ROOT,
    dockerfile_stages,
    run,
    tool,
)


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
    # beanstalkd has its own Dockerfile; the Python images are targets of the root one
    assert services["beanstalkd"]["build"]["dockerfile"] == "services/beanstalkd/Dockerfile"
    stages = {stage.name for stage in dockerfile_stages(DOCKERFILE)}
    for name in PYTHON_TARGETS:
        build = services[name]["build"]
        assert (build["dockerfile"], build["target"]) == ("Dockerfile", name), name
        assert name in stages, name
    binlog = services["beanstalkd"]["volumes"][0]
    assert binlog["target"] == "/var/lib/beanstalkd" if isinstance(binlog, dict) else "/var/lib/beanstalkd" in binlog
    assert services["worker"]["stop_grace_period"] in ("60s", "1m", "1m0s")
    # jobs are signed as shipped: both roles that put jobs read the compose secret
    assert set(config["secrets"]) == {"job-secret"}
    for role in ("worker", "submitter"):
        assert services[role]["environment"]["JOB_SECRET_FILE"] == "/run/secrets/job-secret", role
        assert [s["source"] if isinstance(s, dict) else s for s in services[role]["secrets"]] == ["job-secret"]


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


