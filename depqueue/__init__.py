"""depqueue: a dependency queue on beanstalkd.

A submitted job's ``add_job_deps_callback`` adds dependencies; workers run them in parallel, and the
job itself runs once, after the last one. The seed's API::

    from depqueue import DepQueue, QueueMain

    main_scope = QueueMain(run_job_callback, add_job_deps_callback)
    main_scope.queue.add_job(["program", "arg"])
    main_scope.launch_workers()
"""

from depqueue.config import Config, load_config, load_settings
from depqueue.envelope import Envelope
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
from depqueue.hooks import WorkerHooks
from depqueue.original import DepQueue, OriginalApiRemoved, QueueMain  # today's API plus the original's
from depqueue.worker import Worker, WorkerSettings

__all__ = [
    "BadJob", "BeanstalkdUnreachable", "Config", "ConfigError", "DepQueue", "DepQueueError", "Envelope",
    "JobTooBig", "MalformedJob", "NotCancellable", "OriginalApiRemoved", "QueueMain", "RetryLater",
    "TimeLimitExceeded", "Worker", "WorkerHooks", "WorkerSettings", "load_config", "load_settings",
]
