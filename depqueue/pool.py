"""QueueMain: the seed's pool of worker processes, with restarts, draining and reloads.

The parent forks N long-lived worker processes (job code is imported once, before the fork), restarts
any that die, forwards SIGTERM/SIGINT to them (first: drain, second: hand jobs back at once) and on
SIGHUP re-reads its configuration and replaces its workers. Each worker is given the guard against
the original wndchrm-queue's workers (depqueue.legacy.cutover).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any, ClassVar

from depqueue.client.queue import DepQueue
from depqueue.config import Config, load_config
from depqueue.cpus import allowed_cpus
from depqueue.legacy.cutover import LegacyGuard
from depqueue.legacy.original import OriginalPoolNames, get_argv_conf, read_original_config
from depqueue.worker import Worker, WorkerHooks, WorkerSettings
from depqueue.worker.heartbeat import EXIT_HANDED_BACK

log = logging.getLogger("depqueue.pool")

HooksFactory = Callable[[], WorkerHooks]
#: The seed's two callbacks (``run_job_callback`` returns nothing the queue needs; a dict lands in the
#: parent's outcome record as ``outputs``).
RunCallback = Callable[[DepQueue, int, list[str]], Any]
DepsCallback = Callable[[DepQueue, str, int, list[str]], int]
_fork = multiprocessing.get_context("fork")
#: prctl(2) option: a signal the kernel sends this process when the thread that forked it ends.
_PR_SET_PDEATHSIG = 1
#: The signal a worker gets when its supervisor dies; it then hands back its job and exits.
SUPERVISOR_GONE = signal.SIGUSR2
#: How often a worker also checks its parent's pid: the signal handler waits while job code runs in C.
ORPHAN_CHECK_INTERVAL = 0.2


@dataclass
class _Slot:
    process: BaseProcess
    started: float
    generation: int


def _ask_for_death_signal() -> None:
    """Have the kernel signal this process when its supervisor dies (Linux; elsewhere the pid check alone)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(SUPERVISOR_GONE), 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed: %s", os.strerror(ctypes.get_errno()))
    except (OSError, AttributeError):
        pass


def _watch_supervisor(worker: Worker, supervisor: int) -> None:
    """Stop ``worker`` cold once its supervisor is gone: the heartbeat hands its job back, unspent.

    A thread, because a signal handler runs only between Python bytecodes, not while job code runs in C.
    """
    while os.getppid() == supervisor:
        time.sleep(ORPHAN_CHECK_INTERVAL)
    log.error("the pool's supervisor (pid %d) is gone; handing back any job and exiting", supervisor)
    worker.request_stop(cold=True)


def _worker_main(run_job_callback: RunCallback, add_job_deps_callback: DepsCallback, config: Config,
                 hooks_factory: HooksFactory | None, supervisor: int) -> None:
    """Body of a worker process; ``supervisor`` is the pool's pid, which the worker must not outlive."""
    _ask_for_death_signal()
    if os.getppid() != supervisor:  # it died between the fork and the prctl
        os._exit(EXIT_HANDED_BACK)
    queue = DepQueue.from_config(config)
    worker = Worker(queue, run_job_callback, add_job_deps_callback, WorkerSettings.from_config(config),
                    hooks_factory() if hooks_factory else None,
                    guard=LegacyGuard(queue.conn, queue.tube, converts=queue.signer is None))
    signals = {"count": 0}

    def _stop(signum: int, frame: object) -> None:
        signals["count"] += 1
        worker.request_stop(cold=signals["count"] > 1)

    def _orphaned(signum: int, frame: object) -> None:
        if os.getppid() != supervisor:  # not the end of the forking thread alone
            log.error("the pool's supervisor (pid %d) is gone; handing back any job and exiting", supervisor)
            worker.request_stop(cold=True)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(SUPERVISOR_GONE, _orphaned)
    threading.Thread(target=_watch_supervisor, args=(worker, supervisor), name="orphan-check", daemon=True).start()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent forwards Ctrl-C as SIGTERM
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    sys.exit(worker.run())


class QueueMain(OriginalPoolNames):
    """Runs a pool of workers for the two callbacks; ``queue`` is ready for ``add_job`` at once.

    With no ``config`` (or the original's third argument, ``parse_conf_arg``, a bool), it reads the seed's
    configuration file and environment as the seed did: ``-f PATH`` on the command line unless
    ``parse_conf_arg`` is False (depqueue.legacy.original).
    """

    terminating: ClassVar[bool] = False

    def __init__(self, run_job_callback: RunCallback, add_job_deps_callback: DepsCallback,
                 config: Config | bool | None = None, *, num_workers: int | None = None,
                 config_file: str | None = None, hooks_factory: HooksFactory | None = None,
                 reload_config: Callable[[], Config] | None = None) -> None:
        self.run_job_callback = run_job_callback
        self.add_job_deps_callback = add_job_deps_callback
        if not isinstance(config, Config):
            if config is not False and config_file is None:
                get_argv_conf()
            config = read_original_config(config_file)
            reload_config = reload_config or (lambda: read_original_config(config_file))
        self.config = config
        self._num_workers = num_workers
        self._reload_config = reload_config or (lambda: load_config(config_file))
        self.hooks_factory = hooks_factory
        self.queue = DepQueue.from_config(self.config)
        self.slots: list[_Slot] = []
        self.generation = 0
        self._reload = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._signals = 0
        #: Called with the pid of each worker process that ended (metrics clean-up, for instance).
        self.on_child_exit: Callable[[int], None] | None = None

    @property
    def num_workers(self) -> int:
        return self._num_workers or self.config.num_workers or allowed_cpus()

    # -- lifecycle ------------------------------------------------------------------------------------
    def launch_workers(self) -> None:
        """Fork the workers and return; the calling process supervises them from a thread."""
        QueueMain.terminating = False
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._on_terminate)
            signal.signal(signal.SIGINT, self._on_terminate)
            signal.signal(signal.SIGHUP, lambda signum, frame: self._reload.set())
        self.queue.close()  # children open their own connections
        for _ in range(self.num_workers):
            self._start()
        log.info("started %d worker processes on %s:%d tube %s", self.num_workers, self.config.beanstalkd_host,
                 self.config.beanstalkd_port, self.config.beanstalkd_tube)
        self._supervisor = threading.Thread(target=self._supervise, name="supervisor", daemon=True)
        self._supervisor.start()

    def wait(self) -> int:
        """Block until terminated (SIGTERM/SIGINT or ``stop()``); returns the exit code."""
        try:
            while not QueueMain.terminating:
                time.sleep(0.5)
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    def stop(self, timeout: float | None = None) -> None:
        """Drain every worker (they finish or hand back their jobs) and wait for them."""
        QueueMain.terminating = True
        for slot in self.slots:
            if slot.process.is_alive() and slot.process.pid:
                os.kill(slot.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + (timeout if timeout is not None else self.config.grace_period + 10)
        for slot in self.slots:
            slot.process.join(max(0.0, deadline - time.monotonic()))
        for slot in self.slots:
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join()

    def _on_terminate(self, signum: int, frame: object) -> None:
        self._signals += 1
        if self._signals > 1:  # second signal: workers hand their jobs back now
            for slot in self.slots:
                if slot.process.is_alive() and slot.process.pid:
                    os.kill(slot.process.pid, signal.SIGTERM)
            return
        log.info("signal %d: draining %d workers", signum, len(self.slots))
        self.stop()
        raise SystemExit(0)

    # -- supervision ----------------------------------------------------------------------------------
    def _start(self) -> None:
        process = _fork.Process(target=_worker_main, name="depqueue-worker", daemon=False,
                                args=(self.run_job_callback, self.add_job_deps_callback, self.config,
                                      self.hooks_factory, os.getpid()))
        process.start()
        self.slots.append(_Slot(process, time.monotonic(), self.generation))

    def _supervise(self) -> None:
        while not QueueMain.terminating:
            time.sleep(0.2)
            if self._reload.is_set():
                self._reload.clear()
                self._do_reload()
            for slot in list(self.slots):
                if slot.process.is_alive() or QueueMain.terminating:
                    continue
                self.slots.remove(slot)
                if self.on_child_exit and slot.process.pid:
                    self.on_child_exit(slot.process.pid)
                if slot.generation != self.generation:
                    continue  # an old worker finished draining after a reload
                log.warning("worker %s exited with code %s; restarting it", slot.process.pid, slot.process.exitcode)
                if time.monotonic() - slot.started < 1.0:
                    time.sleep(1.0)  # a worker that dies at once must not spin the pool
                if not QueueMain.terminating:
                    self._start()

    def _do_reload(self) -> None:
        try:
            self.config = self._reload_config()
        except Exception as exc:
            log.error("SIGHUP: configuration not reloaded, keeping the old one: %s", exc)
            return
        old = [s for s in self.slots if s.generation == self.generation]
        self.generation += 1
        log.info("SIGHUP: configuration reloaded from %s; replacing %d workers", self.config.source, len(old))
        for slot in old:
            if slot.process.pid:
                os.kill(slot.process.pid, signal.SIGTERM)
        for _ in range(self.num_workers):
            self._start()
