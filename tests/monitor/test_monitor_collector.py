"""The collector against a real beanstalkd holding a queue state built by hand, with exact values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

import testkit.queue_state as q
from services.monitor.collector import QueueCollector
from services.monitor.snapshot import Reader
from testkit.beanstalkd import Beanstalkd

T = "wndchrm"


@pytest.fixture
def state(beanstalkd: Beanstalkd) -> Iterator[q.DemoQueue]:
    demo = q.build_demo_queue(beanstalkd.address, T)
    yield demo
    demo.close()


def scrape(beanstalkd: Beanstalkd, max_parents: int = 200) -> tuple[CollectorRegistry, QueueCollector]:
    registry = CollectorRegistry()
    collector = QueueCollector(Reader(beanstalkd.host, beanstalkd.port, T), max_parents=max_parents, registry=registry)
    return registry, collector


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(f"wndchrm_queue_{name}", labels)


def test_queue_and_worker_gauges(beanstalkd: Beanstalkd, state: q.DemoQueue) -> None:
    registry, _ = scrape(beanstalkd)
    expected = {
        "beanstalkd_up": 1, "scrape_errors_total": 0,
        "workers": 3, "workers_busy": 2, "workers_idle": 1,
        # T: C reserved; deps: 3 ready (A 1, C 2) + 1 reserved (A).
        "depth": 5,
        # plus A and B parked in T and A's dependency in backoff.
        "jobs_left": 8,
        "parents_active": 3, "parents_expanding": 1, "parents_waiting_dependencies": 1, "manifests": 2,
    }
    assert {name: value(registry, name) for name in expected} == expected


def test_tube_groups(beanstalkd: Beanstalkd, state: q.DemoQueue) -> None:
    registry, _ = scrape(beanstalkd)
    expected = {
        T: {"ready": 0, "reserved": 1, "delayed": 2, "buried": 0, "urgent": 0},
        f"{T}-deps-*": {"ready": 3, "reserved": 1, "delayed": 1, "buried": 2, "urgent": 1},
        f"{T}-depfail-*": {"ready": 1, "reserved": 0, "delayed": 0, "buried": 0, "urgent": 0},
        f"{T}-outcomes-*": {"ready": 1, "reserved": 0, "delayed": 0, "buried": 0, "urgent": 0},
        f"{T}-failed": {"ready": 1, "reserved": 0, "delayed": 0, "buried": 0, "urgent": 0},
    }
    for tube, states in expected.items():
        assert {s: value(registry, "tube_jobs", tube=tube, state=s) for s in states} == states, tube
    assert value(registry, "tube_watching", tube=T) == 3
    assert value(registry, "tube_waiting", tube=T) == 1
    assert value(registry, "tube_watching", tube=f"{T}-deps-*") == 1
    assert value(registry, "tubes", tube=f"{T}-deps-*") == 3
    # Other applications' tubes get no series (unbounded cardinality, not ours).
    assert value(registry, "tube_jobs", tube="otherapp", state="ready") is None
    assert value(registry, "tube_jobs", tube="default", state="ready") is None


def test_server_counters_and_states(beanstalkd: Beanstalkd, state: q.DemoQueue) -> None:
    registry, _ = scrape(beanstalkd)
    stats = state.clients[0].stats()
    assert value(registry, "server_puts_total") == stats["cmd-put"] == 18
    assert value(registry, "server_deletes_total") == stats["cmd-delete"] == 4
    assert value(registry, "server_timeouts_total") == 0
    jobs = {s: value(registry, "server_jobs", state=s) for s in ("ready", "reserved", "delayed", "buried")}
    # ready: 3 deps, depfail, outcome, failed record, the stranger's job; delayed: A, B, A's backoff.
    assert jobs == {"ready": 7, "reserved": 2, "delayed": 3, "buried": 2}
    assert value(registry, "server_connections_total") == stats["total-connections"] + 1  # + the monitor


def test_per_parent_progress(beanstalkd: Beanstalkd, state: q.DemoQueue) -> None:
    registry, _ = scrape(beanstalkd)
    names = ["dependencies", "dependencies_done", "dependencies_running", "dependencies_waiting",
             "dependencies_failed", "dependencies_left"]

    def parent(pid: int, batch: str) -> list[float | None]:
        return [value(registry, f"parent_{n}", parent=str(pid), batch=batch) for n in names]

    assert parent(state.a, "b1") == [5, 1, 1, 2, 1, 3]
    assert parent(state.b, "b1") == [2, 2, 0, 0, 0, 0]
    # Still expanding: no manifest, so no batch yet and only the dependencies in sight.
    assert parent(state.c, "") == [2, 0, 0, 2, 0, 2]
    age = value(registry, "parent_age_seconds", parent=str(state.a), batch="b1")
    assert age is not None and 0 <= age < 10


def test_max_parents_sums_the_rest_into_other(beanstalkd: Beanstalkd, state: q.DemoQueue) -> None:
    registry, _ = scrape(beanstalkd, max_parents=1)
    assert value(registry, "parent_dependencies", parent=str(state.a), batch="b1") == 5
    assert value(registry, "parent_dependencies", parent=str(state.b), batch="b1") is None
    other = {n: value(registry, f"parent_{n}", parent="other", batch="other")
             for n in ("dependencies", "dependencies_done", "dependencies_left", "dependencies_failed")}
    assert other == {"dependencies": 4, "dependencies_done": 2, "dependencies_left": 2,
                     "dependencies_failed": 0}
    series = [s for m in registry.collect() if m.name == "wndchrm_queue_parent_dependencies"
              for s in m.samples]
    assert len(series) == 2


def test_second_scrape_uses_the_caches(beanstalkd: Beanstalkd, state: q.DemoQueue) -> None:
    registry, _ = scrape(beanstalkd)
    registry.get_sample_value("wndchrm_queue_depth")
    before = state.clients[0].stats()
    registry.get_sample_value("wndchrm_queue_depth")
    after = state.clients[0].stats()
    # Manifests and parent ages are read once: a steady scrape only lists and stats the tubes.
    assert after["cmd-peek-buried"] == before["cmd-peek-buried"]
    assert after["cmd-stats-job"] == before["cmd-stats-job"]
    assert after["cmd-stats-tube"] - before["cmd-stats-tube"] == 7  # T, then the 6 listed tubes of ours


def test_progress_is_seen_between_scrapes(beanstalkd: Beanstalkd, state: q.DemoQueue) -> None:
    registry, _ = scrape(beanstalkd)
    assert value(registry, "parent_dependencies_done", parent=str(state.a), batch="b1") == 1
    running_worker = state.clients[1]
    job = running_worker.reserve(timeout=0)
    running_worker.delete(job)
    assert value(registry, "parent_dependencies_done", parent=str(state.a), batch="b1") == 2


def test_restart_keeps_dependency_totals(beanstalkd: Beanstalkd, state: q.DemoQueue) -> None:
    registry, _ = scrape(beanstalkd)
    assert value(registry, "parent_dependencies", parent=str(state.a), batch="b1") == 5
    beanstalkd.restart()
    # The reservation went with the old server: the running dependency is ready again.
    assert value(registry, "beanstalkd_up") == 1
    assert value(registry, "scrape_errors_total") == 0
    with beanstalkd.client() as c:
        assert c.stats_tube(f"{T}-deps-{state.a}")["total-jobs"] != 5  # why the manifest is needed
    names = ["dependencies", "dependencies_done", "dependencies_running", "dependencies_waiting",
             "dependencies_failed"]
    assert [value(registry, f"parent_{n}", parent=str(state.a), batch="b1") for n in names] == [5, 1, 0, 3, 1]
    assert value(registry, "parent_dependencies", parent=str(state.b), batch="b1") == 2


def samples(registry: CollectorRegistry) -> dict[str, float]:
    """One scrape, as {name: value} for the unlabelled series."""
    return {s.name: s.value for m in registry.collect() for s in m.samples if not s.labels}


def test_beanstalkd_down_is_up_zero_not_an_error(beanstalkd: Beanstalkd) -> None:
    registry, _ = scrape(beanstalkd)
    assert samples(registry)["wndchrm_queue_beanstalkd_up"] == 1
    beanstalkd.stop()
    down = samples(registry)
    assert down["wndchrm_queue_beanstalkd_up"] == 0
    assert down["wndchrm_queue_scrape_errors_total"] == 1
    assert "wndchrm_queue_depth" not in down  # no stale zeros while blind
    assert "wndchrm_queue_scrape_duration_seconds" in down
    beanstalkd.start()
    up = samples(registry)
    assert (up["wndchrm_queue_beanstalkd_up"], up["wndchrm_queue_depth"]) == (1, 0)
    assert up["wndchrm_queue_scrape_errors_total"] == 1


def test_the_monitor_keeps_no_tube_alive_and_skips_empty_ones(beanstalkd: Beanstalkd,
                                                             state: q.DemoQueue) -> None:
    registry, _ = scrape(beanstalkd)
    assert value(registry, "parents_active") == 3
    c = state.clients[0]
    # Parent B finishes: its manifest goes, but a worker still watches the empty tube for a while.
    watcher = beanstalkd.client(watch=[f"{T}-deps-{state.b}"])
    c.use(f"{T}-deps-{state.b}")
    c.delete(c.peek_buried())
    c.use("default")
    assert value(registry, "parents_active") == 2
    assert value(registry, "parent_dependencies", parent=str(state.b), batch="b1") is None
    watcher.close()
    assert f"{T}-deps-{state.b}" not in c.tubes()  # the monitor's own connection did not pin it
