"""The seed README's example, with only its import changed (and its slips fixed: ``time`` imported,
one name for the dependency count, a real list of dependencies).

    python examples/seed_example.py touch /tmp/out

runs ``touch /tmp/out.dep0`` .. ``.dep2`` as dependencies on the worker pool, then ``touch /tmp/out``.
"""

import subprocess
import sys
import time

from depqueue import DepQueue, QueueMain  # noqa: F401  (DepQueue: the seed imported it too)


def get_job_deps(job_params):
    # one dependency per part: the same command on <last argument>.depN
    return [job_params[:-1] + [f"{job_params[-1]}.dep{i}"] for i in range(3)]


def run_job_callback(queue, job_id, job_params):
    # job_params is just like sys.argv[]
    (out, err) = subprocess.Popen(job_params, stdout=subprocess.PIPE, stderr=subprocess.PIPE).communicate()


def add_job_deps_callback(queue, dep_tube, job_id, job_params):
    # job_params is the sys.argv[] of the submitted job
    # do something to get dependencies for the specified job
    dep_jobs = get_job_deps(job_params)
    ndeps = 0
    for job in dep_jobs:
        queue.add_dependent_job(dep_tube, job)
        ndeps += 1
    return ndeps


def main():
    main_scope = QueueMain(run_job_callback, add_job_deps_callback)
    main_scope.queue.add_job(sys.argv[1:])  # Don't add ourselves - argv[0]

    # QueueMain takes care of the signal handling to clean up children, relaunch dead ones, etc.
    main_scope.launch_workers()
    # this process is forked and workers end up in QueueMain.work()
    # We are still in the parent, so if we terminate, our child processes (the workers doing the work) will terminate also
    # Note that the queue will only terminate on errors, not when it runs out of jobs.
    while (not QueueMain.terminating):
        time.sleep(100)


if __name__ == "__main__":
    main()
