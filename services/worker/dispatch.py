"""The worker role's two depqueue callbacks: each job goes to the registered kind its argv[0] names."""

from __future__ import annotations

from typing import Any

from depqueue import DepQueue
from services import kinds
from services.common import as_kind_argv
from services.kinds import JobContext


class KindDispatcher:
    """Routes ``run_job_callback`` and ``add_job_deps_callback`` to job kinds; never runs a program."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx

    def run_job_callback(self, queue: DepQueue, job_id: int, job_params: list[str]) -> dict[str, Any] | None:
        argv = as_kind_argv(job_params)
        return kinds.get(argv[0]).run(queue, job_id, argv, self.ctx)

    def add_job_deps_callback(self, queue: DepQueue, dep_tube: str, job_id: int, job_params: list[str]) -> int:
        argv = as_kind_argv(job_params)
        return kinds.get(argv[0]).expand(queue, dep_tube, job_id, argv, self.ctx)
