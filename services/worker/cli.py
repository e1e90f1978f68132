"""``wndchrm-worker``: runs a pool of worker processes for the registered job kinds."""

from __future__ import annotations

import logging
import os
from typing import Any

import click

from depqueue import QueueMain, setup_logging
from services.common import config_options, job_context, load
from services.kinds.builtin import register_kinds
from services.worker.dispatch import KindDispatcher

log = logging.getLogger("wndchrm.worker")


@click.command(context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": None})
@config_options
@click.option("-p", "--processes", "num_workers", type=click.IntRange(1, 512),
              help="Worker processes [NUM_WORKERS]; default: the CPUs this container may use.")
@click.option("--log", "worker_log", type=click.Path(dir_okay=False), help="Log file [WORKER_LOG]; default stderr.")
@click.option("--metrics-port", "metrics_port", type=click.IntRange(1, 65535),
              help="Serve worker metrics for all processes on this port [METRICS_PORT]; default: none.")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def main(config_file: str | None, verbose: bool, **flags: Any) -> None:
    """Run worker processes that serve the wndchrm queue until SIGTERM (drain) or SIGINT."""
    config = load(config_file, **flags)
    setup_logging(config.worker_log, verbose)
    # The wndchrm kind runs a site's own C++ wndchrm, the original way, only when one is configured.
    registry = register_kinds(config.wndchrm_binary)
    log.info("job kinds: %s; data root %s", ", ".join(sorted(registry)), config.data_root)
    dispatcher = KindDispatcher(job_context(config))

    def reload() -> Any:
        return load(config_file, **flags)

    hooks = None
    if config.metrics_port:
        # Imported only when wanted: multiprocess mode must see its directory before prometheus-client loads.
        from services.worker import metrics
        metrics.prepare_multiprocess_dir(os.environ.get(metrics.ENV, "/tmp/wndchrm-metrics"))
        metrics.start_metrics_server(config.metrics_port)
        hooks = metrics.WorkerMetrics
    pool = QueueMain(dispatcher.run_job_callback, dispatcher.add_job_deps_callback, config,
                     reload_config=reload, hooks_factory=hooks)
    if config.metrics_port:
        pool.on_child_exit = metrics.mark_process_dead
    pool.launch_workers()
    raise SystemExit(pool.wait())
