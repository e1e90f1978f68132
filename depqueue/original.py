"""The original wndchrm-queue's API, beside today's: ``from depqueue import DepQueue, QueueMain`` gives
these classes, so a lab's scripts written for the original keep working unchanged.

Every public name of the original's DepQueue and QueueMain is here with its behaviour, on today's queue:

- ``DepQueue()`` with no arguments reads the configuration as the original did: the file named by
  ``-f PATH`` on the command line, else ``/etc/wndchrm/wndchrm-queue.conf`` (if present), then the
  environment (``BEANSTALKD_HOST`` ...); keys the library does not know are reported once and ignored.
  ``conf``, ``max_retries``, ``wait_retry``, ``process_name`` are set as the original set them.
- ``connect()``, ``wait_connect()``, ``beanstalk`` (None until connected), ``jobs_tube``, ``deps_tube``,
  ``jobs_ready_tube``, ``standard_tubes``; ``get_stats()`` returns today's dict *and* sets
  ``total_workers``, ``idle_workers``, ``busy_workers``, ``jobs_with_deps``, ``jobs_left`` and
  ``job_stats`` (keyed by the parent's id as text, each with ``job``, ``working_workers``,
  ``idle_workers``, ``n_deps``, ``n_deps_left``);
- ``run(run_job_callback, add_job_deps_callback)`` serves the queue in this process; ``run_job(job)`` and
  ``add_job_deps(job, dep_tube)`` call the callbacks for one reserved job, as the original's loop did;
- ``clean()`` promotes parents whose dependencies are done (the original kicked one buried job);
- ``which(program)``, ``get_argv_conf()``, ``read_config()``, ``write_log(*args)``, ``job_time``,
  ``conf_path``, ``has_beanstalkc``;
- ``clear_all()`` deleted every job in every tube of the queue, other users' included, with no way back:
  it raises OriginalApiRemoved naming ``cancel`` (``wndchrm-submit cancel``) instead.

``QueueMain(run_job_callback, add_job_deps_callback, parse_conf_arg=True)`` takes the original's third
argument; ``workers``, ``work(worker_name)``, ``sighandler``, ``signals_handled`` and ``fatal_exit`` are
there too.
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, ClassVar

from depqueue import pool, queue, tubes
from depqueue.compat import ORIGINAL_TTR, legacy_params, notice_tube, ready_tube
from depqueue.config import DEFAULT_CONFIG_FILE, Config, load_config
from depqueue.connection import Connection, Job, pending
from depqueue.cpus import allowed_cpus
from depqueue.envelope import decode
from depqueue.errors import BeanstalkdUnreachable, DepQueueError, MalformedJob

#: The original's configuration keys, in its spelling, as its ``conf`` dict held them.
ORIGINAL_KEYS = ("num_workers", "beanstalkd_host", "beanstalkd_port", "beanstalkd_tube", "beanstalkd_wait_retry",
                 "beanstalkd_retries", "worker_PID_dir", "worker_log", "worker_host")


class OriginalApiRemoved(DepQueueError):
    """A name of the original API that was unsafe and is gone; the message names its replacement."""


def read_original_config(path: str | None = None) -> Config:
    """The configuration as the original's ``DepQueue()`` read it (see the module's docstring)."""
    if path is None and DepQueue.conf_path != DEFAULT_CONFIG_FILE:
        path = DepQueue.conf_path
    return load_config(path, lenient=True)


class DepQueue(queue.DepQueue):
    """Today's DepQueue with the original's public names (see the module's docstring)."""

    conf_path: ClassVar[str] = DEFAULT_CONFIG_FILE
    #: The original's TTR; jobs here default to a shorter one, kept alive by a heartbeat.
    job_time: ClassVar[int] = ORIGINAL_TTR
    #: The original needed the beanstalkc module; the client here is always installed.
    has_beanstalkc: ClassVar[bool] = True

    def __init__(self, host: str | None = None, port: int | None = None, tube: str | None = None,
                 **options: Any) -> None:
        config = self.read_config() if host is None and port is None and tube is None else Config()
        super().__init__(host or config.beanstalkd_host, port or config.beanstalkd_port,
                         tube or config.beanstalkd_tube, **options)
        self.beanstalk: Connection | None = None
        self.process_name = _process_name(self.conf.get("worker_host") if hasattr(self, "conf") else None)

    @classmethod
    def adopt(cls, base: queue.DepQueue) -> DepQueue:
        """Give a DepQueue made elsewhere (by ``queue_from``, with its signer) the original's names."""
        base.__class__ = cls
        adopted: DepQueue = base  # type: ignore[assignment]
        adopted.beanstalk = None
        adopted.process_name = _process_name(None)
        return adopted

    # -- configuration --------------------------------------------------------------------------------
    def read_config(self, use_argv_conf: bool = True) -> Config:
        """Read the configuration (``-f PATH`` from the command line when ``use_argv_conf``) into ``conf``."""
        if use_argv_conf:
            DepQueue.get_argv_conf()
        config = read_original_config()
        values = {key: getattr(config, key.lower()) for key in ORIGINAL_KEYS}
        values["num_workers"] = config.num_workers or allowed_cpus()
        self.conf: dict[str, Any] = values
        self.config = config
        self.max_retries = config.beanstalkd_retries
        self.wait_retry = config.beanstalkd_wait_retry
        return config

    @classmethod
    def get_argv_conf(cls) -> list[str]:
        """Take the configuration file from ``-f PATH`` on the command line into ``conf_path``; returns the
        arguments without them (``sys.argv`` itself is left as it is)."""
        args = list(sys.argv)
        if "-f" in args[1:]:
            at = args.index("-f", 1)
            if at + 1 < len(args) and args[at + 1]:
                DepQueue.conf_path = args[at + 1]
                del args[at:at + 2]
        return args

    @staticmethod
    def which(program: str) -> str | None:
        """The absolute path of an executable ``program`` (a path, or a name looked up on PATH), or None."""
        def is_exe(path: str) -> bool:
            return os.path.isfile(path) and os.access(path, os.X_OK)

        if os.path.dirname(program):
            return os.path.abspath(program) if is_exe(program) else None
        for folder in os.environ.get("PATH", "").split(os.pathsep):
            candidate = os.path.join(folder.strip('"'), program)
            if is_exe(candidate):
                return os.path.abspath(candidate)
        return None

    def write_log(self, *args: object) -> None:
        """Append ``<time> <process name> <args>`` to the configured ``worker_log`` (stderr when unset)."""
        stamp = str(datetime.datetime.now().replace(microsecond=0))
        line = f"{stamp} {self.process_name} {' '.join(map(str, args))}\n"
        log_path = getattr(self, "conf", {}).get("worker_log")
        if log_path:
            with open(log_path, "a") as out:
                out.write(line)
        else:
            sys.stderr.write(line)

    # -- connecting -----------------------------------------------------------------------------------
    def connect(self) -> None:
        """Connect (BeanstalkdUnreachable when the server does not answer) and name the original's tubes."""
        self.conn.stats()
        self.beanstalk = self.conn
        self.jobs_tube = self.tube
        self.deps_tube = notice_tube(self.tube)
        self.jobs_ready_tube = ready_tube(self.tube)
        self.standard_tubes = [self.jobs_tube, self.deps_tube, self.jobs_ready_tube]

    def wait_connect(self) -> None:
        """Try to connect every ``beanstalkd_wait_retry`` seconds until the server answers."""
        first = True
        while self.beanstalk is None:
            try:
                self.connect()
            except BeanstalkdUnreachable:
                if first:
                    self.write_log("Cannot connect to beanstalk server on", self.host, "port", self.port)
                    first = False
                time.sleep(getattr(self, "wait_retry", 1.0) or 1.0)

    # -- monitoring -----------------------------------------------------------------------------------
    def get_stats(self) -> dict[str, Any]:
        """Today's figures (returned) and the original's attributes (set), from one reading. Connects when
        needed (the original raised ValueError before ``connect()``; today's callers never call it)."""
        if self.beanstalk is None:
            self.connect()
        stats = super().get_stats()
        workers = stats["workers"]
        self.total_workers = workers["total"]
        self.busy_workers = workers["busy"]
        self.idle_workers = workers["idle"]
        self.jobs_with_deps = stats["jobs_with_deps"]
        self.jobs_left = stats["jobs_left"]
        self.job_stats = {str(parent): self._job_figures(parent, figures)
                          for parent, figures in stats["parents"].items()}
        return stats

    def _job_figures(self, parent: int, figures: dict[str, int]) -> dict[str, Any]:
        """One parent's entry of ``job_stats``; ``idle_workers`` are, as in the original, the workers
        waiting in a reserve on its dependency tube (today's ``idle`` counts dependencies waiting)."""
        dep_tube = self.conn.stats_tube(self.dep_tube(parent))
        return {"job": self.conn.peek(parent), "working_workers": figures["working"],
                "idle_workers": dep_tube["current-waiting"] if dep_tube else 0, "n_deps": figures["deps"],
                "n_deps_left": figures["left"]}

    # -- running --------------------------------------------------------------------------------------
    def run(self, run_job_callback: Callable[..., Any], add_job_deps_callback: Callable[..., Any]) -> None:
        """Serve the queue in this process with the two callbacks until SIGTERM."""
        if not callable(run_job_callback) or not callable(add_job_deps_callback):
            raise ValueError("both run_job_callback and add_job_deps_callback must be functions")
        from depqueue.worker import Worker

        self.run_job_callback, self.add_job_deps_callback = run_job_callback, add_job_deps_callback
        config = getattr(self, "config", Config())
        Worker(self, run_job_callback, add_job_deps_callback, pool.settings_from(config)).run()

    def add_job_deps(self, job: Job, job_dep_tube: str) -> int:
        """Call ``add_job_deps_callback`` for one reserved parent; returns its dependency count."""
        return int(self.add_job_deps_callback(self, job_dep_tube, job.id, _params_of(job)) or 0)

    def run_job(self, job: Job) -> None:
        """Call ``run_job_callback`` for one reserved job, then delete it."""
        self.run_job_callback(self, job.id, _params_of(job))
        self.conn.delete(job.id)

    def clean(self) -> int:
        """Promote parked parents whose dependencies are all done (workers' sweep does this too); returns
        how many."""
        promoted = 0
        for parent, name in self.dep_tubes().items():
            info = self.conn.stats_job(parent)
            if info is not None and info["state"] == "delayed" and pending(self.conn.stats_tube(name)) == 0:
                promoted += self.conn.kick_job(parent)
        return promoted

    def clear_all(self) -> None:
        """Removed: it deleted every job of every tube of the queue, other users' included."""
        raise OriginalApiRemoved(
            "clear_all() is gone: it deleted every job in every tube of the queue, other users' work included. "
            "Cancel your own parents instead: DepQueue.cancel(parent) or `wndchrm-submit cancel PARENT...` "
            f"(list them with `wndchrm-submit status`); tubes of {self.tube!r}: {tubes.failed(self.tube)} holds "
            "failed jobs, `wndchrm-submit failed` lists them")


def _params_of(job: Job) -> list[str]:
    params = legacy_params(job.body)
    if params is not None:
        return params
    try:
        return decode(job.body).params
    except MalformedJob:
        raise MalformedJob(f"job {job.id} is neither the original's argv nor today's envelope") from None


def _process_name(host: str | None) -> str:
    """``Main[pid]@host:`` (or the worker's name), as the original's log lines began."""
    process = multiprocessing.current_process()
    name = "Main" if "main" in process.name.lower() else process.name
    return f"{name}[{os.getpid()}]@{host or os.uname().nodename}:"


class QueueMain(pool.QueueMain):
    """Today's QueueMain; its third argument may be the original's ``parse_conf_arg``."""

    signals_handled: ClassVar[dict[int, str]] = {signal.SIGTERM: "SIGTERM", signal.SIGINT: "SIGINT",
                                                 signal.SIGCHLD: "SIGCHLD", signal.SIGHUP: "SIGHUP"}
    fatal_exit: ClassVar[int] = 3

    def __init__(self, run_job_callback: Callable[..., Any], add_job_deps_callback: Callable[..., Any],
                 config: Config | bool | None = None, **options: Any) -> None:
        parse_conf_arg = config if isinstance(config, bool) else True
        if not isinstance(config, Config):
            config_file = options.pop("config_file", None)
            if parse_conf_arg and config_file is None:
                DepQueue.get_argv_conf()
            config = read_original_config(config_file)
            options.setdefault("reload_config", lambda: read_original_config(config_file))
        super().__init__(run_job_callback, add_job_deps_callback, config, **options)
        self.queue = DepQueue.adopt(self.queue)

    @property
    def workers(self) -> dict[str, dict[str, Any]]:
        """The original's view of the pool: ``W1``.. by name, each with ``name`` and ``process``."""
        width = len(str(len(self.slots)))
        return {f"W{n:0{width}d}": {"name": f"W{n:0{width}d}", "process": slot.process}
                for n, slot in enumerate(self.slots, 1)}

    def work(self, worker_name: str) -> None:
        """Serve the queue in this process (the original's worker entry point)."""
        DepQueue.adopt(pool.queue_from(self.config)).run(self.run_job_callback, self.add_job_deps_callback)

    def sighandler(self, signum: int, frame: object) -> None:
        """SIGTERM/SIGINT drain the workers and end; SIGHUP reloads and replaces them; SIGCHLD needs
        nothing (the pool's supervisor restarts dead workers)."""
        if signum == signal.SIGHUP:
            self._reload.set()
        elif signum in (signal.SIGTERM, signal.SIGINT):
            self.stop()
            pool.QueueMain.terminating = True


__all__ = ["DepQueue", "OriginalApiRemoved", "QueueMain", "read_original_config"]
