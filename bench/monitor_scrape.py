"""Time wndchrm-monitor scrapes with 1,000 active parents: ``python bench/monitor_scrape.py``.

Builds the queue by hand in a private beanstalkd (binlog in a temp dir): N parents parked in the main
tube, each with a dependency tube holding a few ready dependencies and its buried manifest, plus
connections watching the main tube as idle workers. Then times full scrapes (collect and render the
text exposition, as an HTTP scrape does): the first one with cold caches, then --scrapes warm ones.
Goal: under 1 s per scrape.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import greenstalk
from prometheus_client import CollectorRegistry, generate_latest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import testkit.queue_state as q  # noqa: E402
from services.monitor.collector import QueueCollector  # noqa: E402
from services.monitor.snapshot import Reader  # noqa: E402
from testkit.beanstalkd import running_beanstalkd  # noqa: E402

T = "wndchrm"


def build(client: greenstalk.Client[bytes], parents: int, deps: int) -> None:
    for i in range(parents):
        batch = f"bench-{i // 100}"
        parent = q.put_parent(client, T, batch)
        q.park(client, parent)
        q.put_deps(client, T, parent, batch, deps)
        q.write_manifest(client, T, parent, batch, deps + 1)  # one already done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parents", type=int, default=1000)
    parser.add_argument("--deps", type=int, default=3, help="ready dependencies per parent")
    parser.add_argument("--workers", type=int, default=10, help="connections watching the main tube")
    parser.add_argument("--scrapes", type=int, default=20)
    parser.add_argument("--max-parents", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    with running_beanstalkd() as server:
        address = server.address
        client = greenstalk.Client(address, encoding=None)
        started = time.perf_counter()
        build(client, args.parents, args.deps)
        workers = [q.idle_worker(address, T) for _ in range(args.workers)]
        q.wait_for(lambda: client.stats_tube(T)["current-waiting"] == args.workers, timeout=10)
        print(f"built {args.parents} parents x {args.deps} deps, {args.workers} workers "
              f"in {time.perf_counter() - started:.1f} s")

        registry = CollectorRegistry()
        QueueCollector(Reader(*address, T), max_parents=args.max_parents, registry=registry)
        cold = _timed_scrape(registry)
        warm = [_timed_scrape(registry) for _ in range(args.scrapes)]
        size = len(generate_latest(registry))
        print(f"cold scrape (empty caches): {cold:.3f} s")
        print(f"warm scrapes: n={len(warm)} median {statistics.median(warm):.3f} s  max {max(warm):.3f} s")
        print(f"exposition size: {size / 1024:.0f} KiB (max-parents {args.max_parents})")
        if args.json:
            args.json.write_text(json.dumps({
                "parents": args.parents, "deps": args.deps, "workers": args.workers, "scrapes": len(warm),
                "median_s": round(statistics.median(warm), 3), "max_s": round(max(warm), 3),
                "cold_s": round(cold, 3), "exposition_kib": round(size / 1024)}, indent=2))
        for sock in workers:
            sock.close()
        client.close()


def _timed_scrape(registry: CollectorRegistry) -> float:
    started = time.perf_counter()
    generate_latest(registry)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
