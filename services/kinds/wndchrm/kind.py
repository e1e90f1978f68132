"""The ``wndchrm`` job kind: WND-CHARM feature extraction as per-image dependencies, then the command.

``expand`` queues one ``wndchrm features [options] IMAGE`` dependency per image whose cached features
are missing or untrustworthy; ``run`` runs either such a dependency or, once they are all done, the
submitted command (whose own fallback computes any feature still missing, so a parent is never wrong,
only slower, if a dependency's result was lost).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from depqueue import BadJob
from services.kinds import JobContext
from wndchrm.cli.commands import (
    Job,
    check_outputs,
    feature_argv,
    inputs_of,
    missing_images,
    parse_job,
)
from wndchrm.cli.external import ExternalWndchrm, written_by
from wndchrm.cli.support import check_external, check_supported

if TYPE_CHECKING:
    from depqueue import DepQueue

#: Commands that read no image features, so never have dependencies.
NO_DEPENDENCIES = ("features", "check")


class WndchrmKind:
    """The ``wndchrm`` kind. ``binary``: path of a C++ wndchrm to run jobs through; None (the default)
    uses the built-in CharmFeatures engine. The configuration's ``wndchrm_binary`` decides, for the
    workers and the submitter alike (services.kinds.builtin.register_kinds)."""

    name = "wndchrm"

    def __init__(self, binary: str | os.PathLike[str] | None = None) -> None:
        self.external = ExternalWndchrm(binary) if binary else None

    def _job(self, argv: list[str], ctx: JobContext) -> Job:
        job = parse_job(argv, ctx, as_cpp=self.external is not None)
        if self.external is None:
            check_supported(job.options)
        else:
            _check_for_binary(job, ctx)
        return job

    def validate(self, argv: list[str], ctx: JobContext) -> None:
        self._job(argv, ctx)

    def expand(self, queue: DepQueue, dep_tube: str, job_id: int, argv: list[str], ctx: JobContext) -> int:
        job = self._job(argv, ctx)
        if job.command.name in NO_DEPENDENCIES:
            return 0
        external = self.external
        images = missing_images(job, ctx) if external is None else external.missing_images(job, ctx)
        for image in images:
            queue.add_dependent_job(dep_tube, feature_argv(job, ctx, image))
        return len(images)

    def run(self, queue: DepQueue, job_id: int, argv: list[str], ctx: JobContext) -> dict[str, Any] | None:
        job = self._job(argv, ctx)
        if self.external is not None:
            self.external.run(job, argv, ctx)
            return None
        # Imported on first run: the engine needs numpy, CharmFeatures and the image libraries, which the
        # submitter, validating the same kind, must not (its image carries none of them).
        from wndchrm.cli import runner

        return runner.run(job, ctx, argv)  # where the report is, for the outcome record


def _check_for_binary(job: Job, ctx: JobContext) -> None:
    """What a C++ wndchrm 1.60 could not do, or must not be given, refused before it runs."""
    if job.options.out is not None:
        raise BadJob("--out is an option of the built-in engine; the configured wndchrm binary has none")
    dashed = [arg for arg in job.command.args if arg.startswith("-")]
    if dashed:
        raise BadJob(f"wndchrm 1.60 would read the argument {dashed[0][:200]!r} as options (it reads every "
                     "word starting with '-' before the arguments as options); name it './...' instead")
    if len(job.images) > 1:
        raise BadJob(f"wndchrm classify reads one test set; {job.images[1][:200]!r} would be taken for its "
                     "report and overwritten (the built-in engine takes several)")
    check_external(job.options)
    check_outputs(ctx, written_by(job, ctx), inputs_of(job, ctx, as_cpp=True))  # inside the root, no input
