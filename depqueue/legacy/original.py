"""The original wndchrm-queue's names that today's code does not use, mixed into DepQueue and QueueMain so
a lab's scripts written for the original keep working unchanged, and its configuration reader.

- ``DepQueue()`` with no arguments reads the configuration as the original did: the file named by
  ``-f PATH`` on the command line, else ``/etc/wndchrm/wndchrm-queue.conf`` (if present), then the
  environment (``BEANSTALKD_HOST`` ...); keys the library does not know are reported once and ignored.
  ``conf``, ``max_retries``, ``wait_retry``, ``process_name`` are set as the original set them.
- ``get_stats()`` also sets ``total_workers``, ``idle_workers``, ``busy_workers``, ``jobs_with_deps``,
  ``jobs_left`` and ``job_stats`` (keyed by the parent's id as text, each with ``job``,
  ``working_workers``, ``idle_workers``, ``n_deps``, ``n_deps_left``);
- ``run_job(job)`` and ``add_job_deps(job, dep_tube)`` call the callbacks for one reserved job, as the
  original's loop did; ``clean()`` promotes parents whose dependencies are done (the original kicked
  one buried job); ``which(program)``, ``get_argv_conf()``, ``read_config()``, ``write_log(*args)``,
  ``wait_connect()``, ``job_time``, ``conf_path``, ``has_beanstalkc``;
- ``clear_all()`` deleted every job in every tube of the queue, other users' included, with no way back:
  it raises OriginalApiRemoved naming ``cancel`` (``wndchrm-submit cancel``) instead.

``QueueMain(run_job_callback, add_job_deps_callback, parse_conf_arg=True)`` takes the original's third
argument (``read_original_config``); ``workers``, ``work(worker_name)``, ``sighandler``,
``signals_handled`` and ``fatal_exit`` come from ``OriginalPoolNames``.
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, Any, ClassVar

from depqueue.config import DEFAULT_CONFIG_FILE, Config, load_config
from depqueue.cpus import allowed_cpus
from depqueue.errors import BeanstalkdUnreachable, DepQueueError, MalformedJob
from depqueue.legacy.cutover import ORIGINAL_TTR, legacy_params
from depqueue.wire import tubes
from depqueue.wire.connection import Job, pending
from depqueue.wire.envelope import decode

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from depqueue.wire.connection import Connection

#: The original's configuration keys, in its spelling, as its ``conf`` dict held them.
ORIGINAL_KEYS = ("num_workers", "beanstalkd_host", "beanstalkd_port", "beanstalkd_tube", "beanstalkd_wait_retry",
                 "beanstalkd_retries", "worker_PID_dir", "worker_log", "worker_host")


class OriginalApiRemoved(DepQueueError):
    """A name of the original API that was unsafe and is gone; the message names its replacement."""


def get_argv_conf() -> list[str]:
    """Take the configuration file from ``-f PATH`` on the command line into ``DepQueue.conf_path``;
    returns the arguments without them (``sys.argv`` itself is left as it is)."""
    args = list(sys.argv)
    if "-f" in args[1:]:
        at = args.index("-f", 1)
        if at + 1 < len(args) and args[at + 1]:
            OriginalQueueNames.conf_path = args[at + 1]
            del args[at:at + 2]
    return args


def read_original_config(path: str | None = None) -> Config:
    """The configuration as the original's ``DepQueue()`` read it (see the module's docstring)."""
    if path is None and OriginalQueueNames.conf_path != DEFAULT_CONFIG_FILE:
        path = OriginalQueueNames.conf_path
    return load_config(path, lenient=True)


class OriginalQueueNames:
    """The original DepQueue's names that only its callers use (see the module's docstring)."""

    conf_path: ClassVar[str] = DEFAULT_CONFIG_FILE
    #: The original's TTR; jobs here default to a shorter one, kept alive by a heartbeat.
    job_time: ClassVar[int] = ORIGINAL_TTR
    #: The original needed the beanstalkc module; the client here is always installed.
    has_beanstalkc: ClassVar[bool] = True

    if TYPE_CHECKING:  # what the names below use of DepQueue
        host: str
        port: int
        tube: str
        beanstalk: Connection | None
        run_job_callback: Callable[..., Any]
        add_job_deps_callback: Callable[..., Any]

        @property
        def conn(self) -> Connection: ...
        def connect(self) -> None: ...
        def dep_tube(self, parent: int) -> str: ...
        def dep_tubes(self) -> dict[int, str]: ...

    # -- configuration --------------------------------------------------------------------------------
    def read_config(self, use_argv_conf: bool = True) -> Config:
        """Read the configuration (``-f PATH`` from the command line when ``use_argv_conf``) into ``conf``."""
        if use_argv_conf:
            get_argv_conf()
        config = read_original_config()
        values = {key: getattr(config, key.lower()) for key in ORIGINAL_KEYS}
        values["num_workers"] = config.num_workers or allowed_cpus()
        self.conf: dict[str, Any] = values
        self.config = config
        self.max_retries = config.beanstalkd_retries
        self.wait_retry = config.beanstalkd_wait_retry
        return config

    get_argv_conf = staticmethod(get_argv_conf)

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

    @property
    def process_name(self) -> str:
        """``Main[pid]@host:`` (or the worker's name), as the original's log lines began."""
        process = multiprocessing.current_process()
        name = "Main" if "main" in process.name.lower() else process.name
        host = getattr(self, "conf", {}).get("worker_host")
        return f"{name}[{os.getpid()}]@{host or os.uname().nodename}:"

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
    def set_original_stats(self, stats: dict[str, Any]) -> None:
        """The original's attributes from today's ``get_stats`` figures."""
        workers = stats["workers"]
        self.total_workers = workers["total"]
        self.busy_workers = workers["busy"]
        self.idle_workers = workers["idle"]
        self.jobs_with_deps = stats["jobs_with_deps"]
        self.jobs_left = stats["jobs_left"]
        self.job_stats = {str(parent): self._job_figures(parent, figures)
                          for parent, figures in stats["parents"].items()}

    def _job_figures(self, parent: int, figures: dict[str, int]) -> dict[str, Any]:
        """One parent's entry of ``job_stats``; ``idle_workers`` are, as in the original, the workers
        waiting in a reserve on its dependency tube (today's ``idle`` counts dependencies waiting)."""
        dep_tube = self.conn.stats_tube(self.dep_tube(parent))
        return {"job": self.conn.peek(parent), "working_workers": figures["working"],
                "idle_workers": dep_tube["current-waiting"] if dep_tube else 0, "n_deps": figures["deps"],
                "n_deps_left": figures["left"]}

    # -- running --------------------------------------------------------------------------------------
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


class OriginalPoolNames:
    """The original QueueMain's names that only its callers use."""

    signals_handled: ClassVar[dict[int, str]] = {signal.SIGTERM: "SIGTERM", signal.SIGINT: "SIGINT",
                                                 signal.SIGCHLD: "SIGCHLD", signal.SIGHUP: "SIGHUP"}
    fatal_exit: ClassVar[int] = 3

    if TYPE_CHECKING:  # what the names below use of QueueMain
        slots: list[Any]
        queue: Any
        config: Config
        run_job_callback: Callable[..., Any]
        add_job_deps_callback: Callable[..., Any]
        _reload: threading.Event

        def stop(self, timeout: float | None = None) -> None: ...

    @property
    def workers(self) -> dict[str, dict[str, Any]]:
        """The original's view of the pool: ``W1``.. by name, each with ``name`` and ``process``."""
        width = len(str(len(self.slots)))
        return {f"W{n:0{width}d}": {"name": f"W{n:0{width}d}", "process": slot.process}
                for n, slot in enumerate(self.slots, 1)}

    def work(self, worker_name: str) -> None:
        """Serve the queue in this process (the original's worker entry point)."""
        type(self.queue).from_config(self.config).run(self.run_job_callback, self.add_job_deps_callback)

    def sighandler(self, signum: int, frame: object) -> None:
        """SIGTERM/SIGINT drain the workers and end; SIGHUP reloads and replaces them; SIGCHLD needs
        nothing (the pool's supervisor restarts dead workers)."""
        if signum == signal.SIGHUP:
            self._reload.set()
        elif signum in (signal.SIGTERM, signal.SIGINT):
            self.stop()  # which marks the pool terminating
