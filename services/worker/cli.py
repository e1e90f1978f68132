"""``wndchrm-worker``: runs a pool of worker processes for the registered job kinds."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import click

from depqueue import QueueMain, setup_logging
from services.common import ServiceConfig, config_options, job_context, load
from services.kinds.builtin import register_kinds
from services.worker.dispatch import KindDispatcher
from services.worker.server import BINLOG_FOLDER, HOST, PrivateServer, ServerError, free_port, submit_hint
from wndchrm.cli.external import resolve_binary

log = logging.getLogger("wndchrm.worker")


@click.command(context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": None})
@config_options
@click.option("-p", "--processes", "num_workers", type=click.IntRange(1, 512),
              help="Worker processes [NUM_WORKERS]; default: the CPUs this container may use.")
@click.option("--log", "worker_log", type=click.Path(dir_okay=False), help="Log file [WORKER_LOG]; default stderr.")
@click.option("--metrics-port", "metrics_port", type=click.IntRange(1, 65535),
              help="Serve worker metrics for all processes on this port [METRICS_PORT]; default: none.")
@click.option("--with-server", is_flag=True,
              help="One machine: start a private beanstalkd (loopback, binlog) with the pool, on "
                   "--beanstalkd-port [BEANSTALKD_PORT] if given, else a free port, and print how to submit.")
@click.option("--binlog", type=click.Path(file_okay=False, path_type=Path),
              help=f"With --with-server: the binlog's folder; default: {BINLOG_FOLDER} in the data root.")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def main(config_file: str | None, verbose: bool, with_server: bool, binlog: Path | None, **flags: Any) -> None:
    """Run worker processes that serve the wndchrm queue until SIGTERM (drain) or SIGINT."""
    config = load(config_file, **flags)
    if binlog is not None and not with_server:
        raise click.UsageError("--binlog goes with --with-server")
    # The wndchrm kind runs a site's own C++ wndchrm, the original way, only when one is configured; a
    # binary that is missing, or is our own program, is refused at start rather than failing every job.
    binary = None
    if config.wndchrm_binary:
        try:
            binary = resolve_binary(config.wndchrm_binary)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    server = None
    if with_server:
        data_root = Path(config.data_root).absolute()
        if not data_root.is_dir():
            raise click.UsageError(f"the data root {data_root} is not a folder: give --data-root DIR [DATA_ROOT]")
        port = flags.get("beanstalkd_port") or (config.beanstalkd_port if "BEANSTALKD_PORT" in os.environ
                                                else free_port())
        server = PrivateServer(port, binlog or data_root / BINLOG_FOLDER)
        try:
            server.start()
        except ServerError as exc:
            raise click.ClickException(str(exc)) from None
        flags.update(beanstalkd_host=HOST, beanstalkd_port=port, data_root=str(data_root))
        config = load(config_file, **flags)
        click.echo(submit_hint(port, data_root), err=True)
    try:
        _serve(config_file, config, binary, verbose, flags)
    finally:
        if server is not None:
            server.stop()


def _serve(config_file: str | None, config: ServiceConfig, binary: Path | None, verbose: bool,
           flags: dict[str, Any]) -> None:
    setup_logging(config.worker_log, verbose)
    registry = register_kinds(binary)
    log.info("job kinds: %s; wndchrm jobs run %s; data root %s", ", ".join(sorted(registry)),
             binary or "on the built-in engine", config.data_root)
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
