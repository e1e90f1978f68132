"""``wndchrm-monitor``: a Prometheus exporter for the queue's state in beanstalkd.

Settings come, weakest first, from the defaults, the configuration file (``-f``, else
/etc/wndchrm/wndchrm-queue.conf if present: ``beanstalkd_host``, ``beanstalkd_port``, ``beanstalkd_tube``,
``monitor_port``), the environment (``BEANSTALKD_HOST``, ``BEANSTALKD_PORT``, ``BEANSTALKD_TUBE``,
``MONITOR_PORT``) and the flags, as for every role. ``--beanstalkd-host``, ``--beanstalkd-port`` and
``--tube`` mean what they mean in the other roles; the address served on is ``--listen-host`` and
``--listen-port`` (the old ``--host`` and ``--port`` still work, with a warning).
"""

from __future__ import annotations

import logging
import time

import click
from prometheus_client.registry import CollectorRegistry

from services.common import ServiceConfig, beanstalkd_options, exit_on_sigterm, load, renamed
from services.monitor.collector import DEFAULT_MAX_PARENTS, QueueCollector
from services.monitor.server import serve
from services.monitor.snapshot import Reader


def resolve(config_file: str | None, port: int | None = None, beanstalkd_host: str | None = None,
            beanstalkd_port: int | None = None, tube: str | None = None) -> ServiceConfig:
    """The role's configuration: flags (None when not given) over environment over file over defaults."""
    return load(config_file, monitor_port=port, beanstalkd_host=beanstalkd_host, beanstalkd_port=beanstalkd_port,
                beanstalkd_tube=tube)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@beanstalkd_options
@click.option("--listen-host", envvar="MONITOR_HOST",
              help="Address to serve /metrics and /healthz on [MONITOR_HOST; 0.0.0.0].")
@click.option("--listen-port", type=click.IntRange(1, 65535), help="Port to serve on [MONITOR_PORT; 9310].")
@click.option("--host", "old_host", hidden=True, callback=renamed("--host", "--listen-host"))
@click.option("--port", "old_port", type=click.IntRange(1, 65535), hidden=True,
              callback=renamed("--port", "--listen-port"))
@click.option("--max-parents", type=click.IntRange(min=0), default=DEFAULT_MAX_PARENTS, show_default=True,
              envvar="MONITOR_MAX_PARENTS",
              help="Parents given their own series; the rest are summed into parent=\"other\".")
@click.option("--timeout", type=float, default=5.0, show_default=True,
              help="Seconds a beanstalkd command may take before the scrape counts as failed.")
def main(config_file: str | None, beanstalkd_host: str | None, beanstalkd_port: int | None, beanstalkd_tube: str | None,
         listen_host: str | None, listen_port: int | None, old_host: str | None, old_port: int | None,
         max_parents: int, timeout: float) -> None:
    """Export the queue's tubes, workers and per-parent progress as Prometheus metrics."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    exit_on_sigterm(0)
    config = resolve(config_file, listen_port or old_port, beanstalkd_host, beanstalkd_port, beanstalkd_tube)
    host = listen_host or old_host or "0.0.0.0"
    registry = CollectorRegistry()
    reader = Reader(config.beanstalkd_host, config.beanstalkd_port, config.beanstalkd_tube, timeout=timeout)
    collector = QueueCollector(reader, max_parents=max_parents, registry=registry)

    def health() -> str:
        if collector.last_success is None:
            return "ok (beanstalkd not scraped yet)"
        return f"ok (last successful beanstalkd scrape {time.time() - collector.last_success:.0f}s ago)"

    logging.getLogger(__name__).info(
        "serving metrics for tube %r of beanstalkd %s:%d on %s:%d (configuration: %s)", config.beanstalkd_tube,
        config.beanstalkd_host, config.beanstalkd_port, host, config.monitor_port, config.source)
    serve(registry, health, host, config.monitor_port)


if __name__ == "__main__":
    main()
