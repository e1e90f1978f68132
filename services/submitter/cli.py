"""``wndchrm-submit``: submit jobs or a batch file, wait for the outcome, and manage failures.

    wndchrm-submit [options] -- ARGV...          submit one job
    wndchrm-submit [options] --batch-file FILE   submit a batch
    wndchrm-submit status [--watch]              the queue at a glance
    wndchrm-submit failed                        failed parents and jobs set aside, with reasons
    wndchrm-submit retry ID... | --all           retry failed records
    wndchrm-submit cancel PARENT...              cancel parents and their pending dependencies
    wndchrm-submit                               no job: the queue's status, once (as the original's
                                                 submitter's first report; `status --watch` follows it)
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from depqueue import BadJob, BeanstalkdUnreachable, DepQueue, JobTooBig, MalformedJob, NotCancellable, original_workers
from services import kinds
from services.common import (
    ExitCode,
    ServiceConfig,
    as_kind_argv,
    config_options,
    data_root_said,
    exit_on_sigterm,
    fail,
    job_context,
    kind_name,
    load,
)
from services.kinds.builtin import register_kinds
from services.submitter.batchfile import BatchFileError, read_batch_file
from services.submitter.pace import BatchPace
from services.submitter.report import ParentResult, print_summary, write_junit
from services.submitter.status import ORIGINAL_WORKERS, print_status
from services.submitter.waiting import ProgressView, ServerLost, is_live_terminal, report_lost_server, wait_for_batch

SUBCOMMANDS = ("submit", "status", "failed", "retry", "cancel")


class DefaultToSubmit(click.Group):
    """``wndchrm-submit [options] -- ARGV`` means ``wndchrm-submit submit [options] -- ARGV``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args:
            click.echo(NO_JOB, err=True)
            args = ["status"]
        if args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["submit", *args]
        return super().parse_args(ctx, args)


class DefaultCommandContext(click.Context):
    """``submit`` is the default command: its usage line and hints name the program as the README writes
    it (``wndchrm-submit [OPTIONS] -- JOB...``), not a ``submit`` subcommand no one typed."""

    @property
    def command_path(self) -> str:
        return self.parent.command_path if self.parent is not None else super().command_path


class DefaultCommand(click.Command):
    context_class = DefaultCommandContext


def connect(config: ServiceConfig) -> DepQueue:
    """A queue whose server answered, after ``beanstalkd_retries`` tries; exit 4 when it never did."""
    queue = DepQueue.from_config(config)
    wait = config.beanstalkd_wait_retry
    for attempt in range(max(1, config.beanstalkd_retries)):
        try:
            queue.conn.stats()
            return queue
        except BeanstalkdUnreachable as exc:
            if attempt + 1 >= max(1, config.beanstalkd_retries):
                fail(str(exc), ExitCode.UNREACHABLE)
            time.sleep(wait)
            wait = min(wait * 2, 30)
    raise AssertionError("unreachable")


NO_JOB = ("No jobs specified: the queue's status follows (`wndchrm-submit status --watch --interval 10` "
          "refreshes it as the original submitter did).")

def original_argv(argv: tuple[str, ...], config: ServiceConfig) -> tuple[str, ...]:
    """The original submitter's habits: ``-c`` before the job, and a program's path as argv[0], which
    names its job kind (``/usr/local/bin/wndchrm`` the wndchrm kind; the path itself is never run)."""
    if argv[:1] == ("-c",):
        argv = argv[1:]
    if argv and kind_name(argv[0]) != argv[0]:
        runs = f"the configured wndchrm_binary {config.wndchrm_binary}" if config.wndchrm_binary else \
            "the built-in engine"
        click.echo(f"note: {argv[0]} names the {kind_name(argv[0])!r} job kind; workers run it with "
                   f"{runs if kind_name(argv[0]) == 'wndchrm' else 'that kind'}, not {argv[0]}", err=True)
        argv = (kind_name(argv[0]), *argv[1:])
    return argv


def refuse_beside_original_workers(queue: DepQueue) -> None:
    """An original worker would take today's job for an argv and lose it: submit nothing while one runs."""
    count = original_workers(queue.conn, queue.tube)
    if count:
        fail(ORIGINAL_WORKERS.format(count=count), ExitCode.FAILED)


@click.group(cls=DefaultToSubmit, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Submit wndchrm jobs to the queue and follow them."""
    exit_on_sigterm(128 + 15)


@main.command(cls=DefaultCommand, context_settings={"ignore_unknown_options": True})
@config_options
@click.option("--batch-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Submit every job in FILE (one per line, or a JSON/YAML list).")
@click.option("--batch", "batch_id", help="Batch id (default: a new one); outcomes are collected per batch.")
@click.option("--priority", type=click.IntRange(0, 2**24 - 1), default=1024, show_default=True,
              help="Lower runs first; a more urgent batch overtakes.")
@click.option("--attempts", type=click.IntRange(1, 255), default=3, show_default=True,
              help="Attempts per job before it fails for good.")
@click.option("--ttr", type=click.IntRange(1, 86400), default=60, show_default=True,
              help="beanstalkd time-to-run; workers keep long jobs alive with a heartbeat.")
@click.option("--time-limit", type=click.FloatRange(0, min_open=True), help="Seconds a job may run.")
@click.option("--tolerate-failed-deps", is_flag=True, help="Run parents even if some dependencies failed.")
@click.option("--wait", "wait_", is_flag=True, help="Wait for every parent's outcome, with progress.")
@click.option("--timeout", type=click.FloatRange(0, min_open=True), help="With --wait: give up after SECONDS (exit 3).")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="With --wait: write JUnit XML here.")
@click.option("--progress/--no-progress", default=None, help="Live bars (default: only on a terminal).")
@click.argument("argv", nargs=-1, type=click.UNPROCESSED, metavar="-- JOB...")
def submit(config_file: str | None, batch_file: Path | None, batch_id: str | None, priority: int, attempts: int,
           ttr: int, time_limit: float | None, tolerate_failed_deps: bool, wait_: bool, timeout: float | None,
           junit: Path | None, progress: bool | None, argv: tuple[str, ...], **flags: Any) -> None:
    """Submit one job (after --) or a batch file; with --wait, exit 0 only if every parent succeeded."""
    config = load(config_file, **flags)
    register_kinds(config.wndchrm_binary)  # validate jobs for the engine the workers run
    argv = original_argv(argv, config)
    if not argv and not batch_file:  # options but no job: the original submitter reported the queue
        click.echo(NO_JOB, err=True)
        print_status(connect(config), as_json=False)
        return
    if bool(argv) == bool(batch_file):
        raise click.UsageError("give either a job after -- or --batch-file FILE")
    if (timeout or junit) and not wait_:
        raise click.UsageError("--timeout and --junit need --wait")
    try:
        jobs = [as_kind_argv(job) for job in read_batch_file(batch_file)] if batch_file else [list(argv)]
    except BatchFileError as exc:
        raise click.UsageError(str(exc)) from None
    ctx = job_context(config)
    for number, job in enumerate(jobs, 1):
        try:
            kinds.get(job[0]).validate(job, ctx)
        except BadJob as exc:
            where = f"job {number} ({' '.join(job)[:80]})" if len(jobs) > 1 else "job"
            raise click.UsageError(f"{where}: {exc}; {data_root_said(config, flags)}") from None
    batch = batch_id or time.strftime("b%Y%m%d-%H%M%S-") + secrets.token_hex(2)
    queue = connect(config)
    refuse_beside_original_workers(queue)
    results = []
    try:
        for job in jobs:
            parent = queue.add_job(job, batch=batch, priority=priority, attempts=attempts, ttr=ttr,
                                   time_limit=time_limit, tolerate_failed_deps=tolerate_failed_deps)
            results.append(ParentResult(parent, job))
    except (JobTooBig, MalformedJob, ValueError) as exc:
        fail(f"{exc} ({len(results)} of {len(jobs)} jobs were submitted)", ExitCode.USAGE)
    except BeanstalkdUnreachable as exc:
        fail(f"{exc} ({len(results)} of {len(jobs)} jobs were submitted)", ExitCode.UNREACHABLE)
    click.echo(f"batch {batch}: submitted {len(results)} job(s): {' '.join(str(r.parent) for r in results[:20])}"
               f"{' ...' if len(results) > 20 else ''}")
    if not wait_:
        return
    # CI logs are no terminal: give the summary table room rather than rich's 80 columns.
    console = Console() if is_live_terminal() else Console(width=160)
    live = is_live_terminal() if progress is None else progress
    try:
        finished = wait_for_batch(queue, batch, results, timeout, ProgressView(console, results, live))
    except BeanstalkdUnreachable as exc:
        fail(f"{exc} while waiting for batch {batch}", ExitCode.UNREACHABLE)
    except ServerLost as exc:
        print_summary(console, batch, results, Path(config.data_root))
        report_lost_server(exc)
    print_summary(console, batch, results, Path(config.data_root))
    if junit:
        write_junit(junit, batch, results)
    if not finished:
        raise SystemExit(int(ExitCode.TIMED_OUT))
    raise SystemExit(int(ExitCode.OK if all(r.status == "succeeded" for r in results) else ExitCode.FAILED))


@main.command()
@config_options
@click.option("--watch", is_flag=True, help="Refresh until interrupted.")
@click.option("--interval", type=click.FloatRange(0.1), default=2.0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def status(config_file: str | None, watch: bool, interval: float, as_json: bool, **flags: Any) -> None:
    """Workers, parents waiting on dependencies, jobs left, per-parent progress (the seed's monitor view)."""
    queue = connect(load(config_file, **flags))
    paces: dict[str, BatchPace] = {}
    while True:
        print_status(queue, as_json, paces)
        if not watch:
            return
        try:
            time.sleep(interval)
        except KeyboardInterrupt:
            return


@main.command()
@config_options
@click.option("--json", "as_json", is_flag=True, help="One JSON record per line.")
def failed(config_file: str | None, as_json: bool, **flags: Any) -> None:
    """List failed parents and jobs set aside, with their reasons."""
    queue = connect(load(config_file, **flags))
    records = queue.failed()
    if as_json:
        for record in records:
            click.echo(json.dumps({"id": record.id, **record.body}, sort_keys=True))
        return
    table = Table("record", "job", "batch", "command", "reason", title=f"{len(records)} failed")
    for record in records:
        job = record.value
        command = " ".join((job.envelope or {}).get("params", [])) or f"(set aside from {job.tube})"
        table.add_row(str(record.id), str(job.job), job.batch or "", command[:80], job.reason[:200])
    Console().print(table)


@main.command()
@config_options
@click.option("--all", "all_", is_flag=True, help="Retry every failed record.")
@click.argument("records", nargs=-1, type=int)
def retry(config_file: str | None, all_: bool, records: tuple[int, ...], **flags: Any) -> None:
    """Retry failed records (ids from `failed`): failed parents are submitted again, set-aside jobs kicked."""
    if bool(records) == all_:
        raise click.UsageError("give record ids or --all")
    queue = connect(load(config_file, **flags))
    ids = [r.id for r in queue.failed()] if all_ else list(records)
    code = ExitCode.OK
    for record_id in ids:
        try:
            new_id = queue.retry(record_id)
        except (MalformedJob, JobTooBig) as exc:
            click.echo(f"record {record_id}: cannot retry: {exc}", err=True)
            code = ExitCode.FAILED
            continue
        if new_id is None:
            click.echo(f"record {record_id}: not found (already retried?)", err=True)
            code = ExitCode.FAILED
        else:
            click.echo(f"record {record_id}: retrying as job {new_id}")
    raise SystemExit(int(code))


@main.command()
@config_options
@click.argument("parents", nargs=-1, type=int, required=True)
def cancel(config_file: str | None, parents: tuple[int, ...], **flags: Any) -> None:
    """Cancel parents; their pending dependencies are removed too."""
    queue = connect(load(config_file, **flags))
    code = ExitCode.OK
    for parent in parents:
        try:
            found = queue.cancel(parent)
        except (NotCancellable, MalformedJob) as exc:
            click.echo(f"parent {parent}: {exc}", err=True)
            code = ExitCode.FAILED
            continue
        click.echo(f"parent {parent}: {'cancelled' if found else 'not found (already finished?)'}")
        if not found:
            code = ExitCode.FAILED
    raise SystemExit(int(code))
