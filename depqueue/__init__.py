"""depqueue: a dependency queue on beanstalkd.

A submitted job's ``add_job_deps_callback`` adds dependencies; workers run them in parallel, and the
job itself runs once, after the last one. The seed's API::

    from depqueue import DepQueue, QueueMain

    main_scope = QueueMain(run_job_callback, add_job_deps_callback)
    main_scope.queue.add_job(["program", "arg"])
    main_scope.launch_workers()

Everything a program built on the library uses is exported here; the folders read as layers, lowest
first: ``wire`` (what travels to beanstalkd), ``worker`` (one worker process), ``client`` (DepQueue and
the figures it reads), the pool (``QueueMain``); ``legacy`` is fenced off: it only moves installations
of the original wndchrm-queue over.
"""

from depqueue.client.progress import DepCounts, ParentProgress, Throughput, TubeReader, TubeScan
from depqueue.client.queue import DepQueue
from depqueue.config import DEFAULT_CONFIG_FILE, Config, load_config, load_settings
from depqueue.cpus import allowed_cpus
from depqueue.errors import (
    BadJob,
    BeanstalkdUnreachable,
    ConfigError,
    DepQueueError,
    JobTooBig,
    MalformedJob,
    NotCancellable,
    RetryLater,
    TimeLimitExceeded,
)
from depqueue.legacy.cutover import original_workers
from depqueue.legacy.original import OriginalApiRemoved
from depqueue.pool import QueueMain
from depqueue.wire import tubes
from depqueue.wire.connection import Connection, StatsTube, pending
from depqueue.wire.envelope import Envelope, decode_record
from depqueue.wire.records import FailedJob, Manifest, Outcome, Record, read_manifest
from depqueue.worker import Worker, WorkerHooks, WorkerSettings
from depqueue.worker.logs import setup_logging

__all__ = [
    "DEFAULT_CONFIG_FILE", "BadJob", "BeanstalkdUnreachable", "Config", "ConfigError", "Connection", "DepCounts",
    "DepQueue", "DepQueueError", "Envelope", "FailedJob", "JobTooBig", "MalformedJob", "Manifest", "NotCancellable",
    "OriginalApiRemoved", "Outcome", "ParentProgress", "QueueMain", "Record", "RetryLater", "StatsTube",
    "Throughput", "TimeLimitExceeded", "TubeReader", "TubeScan", "Worker", "WorkerHooks", "WorkerSettings",
    "allowed_cpus", "decode_record", "load_config", "load_settings", "original_workers", "pending", "read_manifest",
    "setup_logging", "tubes",
]
