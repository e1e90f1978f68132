"""A stand-in for one worker of the original wndchrm-queue (2013), as it behaves on the wire.

Written from reading the original's DepQueue.run (not copied): it watches the main tube ``T``, ``T-deps``
and ``T-ready`` (and beanstalkd's ``default``, which it never ignored), reserves with the original's
loop, expands a job from ``T`` by putting it in ``T-ready`` (its callbacks here find no dependencies),
runs jobs from ``T-ready`` by appending their tab-split argv to a file, and kicks one buried job of ``T``
when a reserve times out. Bodies are argv joined with tabs, TTR 300, as the original put them.

    python original_worker.py PORT TUBE RAN_FILE
"""

from __future__ import annotations

import sys

import greenstalk

TTR = 300


def main(port: int, tube: str, ran_file: str) -> None:
    deps_tube, ready_tube = f"{tube}-deps", f"{tube}-ready"
    client = greenstalk.Client(("127.0.0.1", port), use=tube, watch=[tube, deps_tube, ready_tube, "default"])
    print("watching", flush=True)
    while True:
        try:
            job = client.reserve(timeout=1)  # the original waited 60 s; shorter so tests end quickly
        except greenstalk.TimedOutError:
            client.use(tube)
            client.kick(1)  # the original's clean()
            continue
        job_tube = client.stats_job(job)["tube"]
        if job_tube == tube:  # a new job: no dependencies here, so straight to the ready tube
            client.use(ready_tube)
            client.put(job.body, priority=2**31, ttr=TTR)
            client.delete(job)
        elif job_tube == deps_tube:
            client.delete(job)
        else:
            with open(ran_file, "a") as out:
                out.write(repr(job.body.split("\t")) + "\n")
            client.delete(job)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
