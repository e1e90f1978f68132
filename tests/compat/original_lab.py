"""A lab's scripts for the original wndchrm-queue, with only their import pointing at this project.

Written from reading the original DepQueue-submit.py and wndchrm-worker.py (not copied; Python 3): the
same calls on ``DepQueue`` and ``QueueMain``, the same attributes, callback shapes and return values, in
the same order. ``worker`` is wndchrm-worker.py: its callbacks expand a wndchrm job by running the same
argv with ``check`` and queue ``wndchrm train [options] IMAGE /dev/null`` per listed image, then run the
job as it is. ``submit`` is DepQueue-submit.py: resolve argv[0] with ``which``, add the job, and print
the queue's figures from ``get_stats()`` attributes (every ``INTERVAL`` seconds, until no job is left;
the original printed every 10 s forever).

    python original_lab.py worker [-f CONF]
    python original_lab.py submit INTERVAL [-f CONF] [-c] PROGRAM ARGS...
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time

from depqueue import DepQueue, QueueMain


def is_wndchrm_command(command: str) -> bool:
    return command[command.rfind("/") + 1:] == "wndchrm"


def run_job_callback(queue: DepQueue, job_id: int, job_params: list[str]) -> None:
    if is_wndchrm_command(job_params[0]):
        subprocess.Popen(job_params, stdout=subprocess.PIPE, stderr=subprocess.PIPE).communicate()


def add_job_deps_callback(queue: DepQueue, dep_tube: str, job_id: int, job_params: list[str]) -> int:
    n_deps = 0
    if is_wndchrm_command(job_params[0]) and len(job_params) > 2 and job_params[1] != "check":
        job_params[1] = "check"
        dep_job: list[str | None] = [job_params[0], "train", *[p for p in job_params[2:] if p.startswith("-")]]
        dep_job.extend([None, "/dev/null"])
        input_idx = len(dep_job) - 2
        proc = subprocess.Popen(job_params, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for line in iter(proc.stdout.readline, ""):
            file_path = line.strip()
            dep_job[input_idx] = file_path
            if os.path.isfile(file_path):
                queue.add_dependent_job(dep_tube, [str(word) for word in dep_job])
                n_deps += 1
        proc.wait()
    return n_deps


def worker() -> None:
    main_scope = QueueMain(run_job_callback, add_job_deps_callback)
    main_scope.launch_workers()
    while not QueueMain.terminating:
        time.sleep(100)


def submit(interval: float) -> None:
    queue = DepQueue()
    queue.connect()
    param_idx = 1
    if sys.argv[1].startswith("-"):
        param_idx = sys.argv.index("-c") + 1
    params = sys.argv[param_idx:]
    program = DepQueue.which(params[0])
    if program is None:
        print("First parameter", repr(params[0]), "is not an executable file.")
        sys.exit(0)
    params[0] = program
    print("Adding job:", " ".join(params))
    queue.add_job(params)
    while True:
        queue.get_stats()
        print(str(datetime.datetime.now().replace(microsecond=0)))
        print("Total workers:  ", queue.total_workers)
        print("Idle workers:   ", queue.idle_workers)
        print("Busy workers:   ", queue.busy_workers)
        print("Jobs with deps: ", queue.jobs_with_deps)
        print("Jobs left:      ", queue.jobs_left)
        for job_id, job_info in queue.job_stats.items():
            print("    ID:", job_id, "working: ", job_info["working_workers"], "idle: ", job_info["idle_workers"],
                  "deps: ", job_info["n_deps"], "left: ", job_info["n_deps_left"],
                  "job:", job_info["job"].id if job_info["job"] else None)
        print("-------------------------", flush=True)
        if queue.jobs_left == 0:
            return
        time.sleep(interval)


if __name__ == "__main__":
    role = sys.argv.pop(1)
    if role == "worker":
        worker()
    else:
        submit(float(sys.argv.pop(1)))
