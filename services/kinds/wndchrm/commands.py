"""The built-in engine's commands: argument checking, the images a job needs, and running each command.

Paths travel through the queue relative to the data root, so a job means the same files on every worker
whatever its mount point; every path is resolved through ``JobContext.confine``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from depqueue.errors import BadJob
from services.kinds import JobContext
from services.kinds.wndchrm import options
from services.kinds.wndchrm.dataset import Sample, load_dataset, relative
from services.kinds.wndchrm.features import needs_features
from services.kinds.wndchrm.images import IMAGE_SUFFIXES
from services.kinds.wndchrm.options import Command, Options
from services.kinds.wndchrm.outputs import default_output, output_path
from services.kinds.wndchrm.training_data import is_model as _is_model

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """A parsed, checked wndchrm command line."""

    command: Command
    dataset: str
    testset: str | None = None
    images: tuple[str, ...] = ()
    output: str | None = None

    @property
    def options(self) -> Options:
        return self.command.options


def _arity(cmd: Command, low: int, high: int, usage: str) -> None:
    if not low <= len(cmd.args) <= high:
        raise BadJob(f"usage: wndchrm {cmd.name} [options] {usage} (got {len(cmd.args)} argument(s))")


def _is_dataset_arg(ctx: JobContext, arg: str) -> bool:
    # wndchrm's ambiguity in "test DATASET X": X is a test set if it looks like one, else the report.
    return arg.lower().endswith((".tsv", *IMAGE_SUFFIXES)) or ctx.confine(arg).is_dir()


def parse_job(argv: list[str], ctx: JobContext) -> Job:
    """Parse and check a whole argv: options, argument counts, and that paths exist under the data root."""
    cmd = options.parse(argv)
    if cmd.name == "train":
        _arity(cmd, 2, 2, "DATASET OUT.fit")
        job = Job(cmd, cmd.args[0], output=cmd.args[1])
    elif cmd.name == "test":
        _arity(cmd, 1, 3, "DATASET [TESTSET] [REPORT]")
        rest = cmd.args[1:]
        testset = rest.pop(0) if rest and (len(rest) == 2 or _is_dataset_arg(ctx, rest[0])) else None
        job = Job(cmd, cmd.args[0], testset=testset, output=rest[0] if rest else cmd.options.out)
    elif cmd.name == "classify":
        _arity(cmd, 2, 10_000, "DATASET|MODEL.fit IMAGE...")
        job = Job(cmd, cmd.args[0], images=tuple(cmd.args[1:]), output=cmd.options.out)
    elif cmd.name == "check":
        _arity(cmd, 1, 1, "DATASET")
        job = Job(cmd, cmd.args[0], output=cmd.options.out)
    else:
        _arity(cmd, 1, 1, "IMAGE")
        job = Job(cmd, cmd.args[0])
    _check_paths(job, ctx)
    return job


def _check_paths(job: Job, ctx: JobContext) -> None:
    if job.command.name == "features":
        image = ctx.confine(job.dataset, must_exist=True)
        if not image.is_file() or image.suffix.lower() not in IMAGE_SUFFIXES:
            raise BadJob(f"{job.dataset!r} is not a .tif/.tiff image")
    elif _is_model(job.dataset):
        if job.command.name not in ("classify", "test"):
            raise BadJob(f"wndchrm {job.command.name} needs a dataset, not a model ({job.dataset!r})")
        ctx.confine(job.dataset, must_exist=True)
    else:
        load_dataset(ctx, job.dataset)
    for extra in (job.testset, *job.images):
        if extra is not None:
            load_dataset(ctx, extra)
    if job.output is not None:
        output_path(ctx, job.output)


def _samples(job: Job, ctx: JobContext) -> list[Sample]:
    sources = [] if _is_model(job.dataset) else [job.dataset]
    if job.command.name == "features":
        return [Sample(ctx.confine(job.dataset, must_exist=True), None)]
    sources += [s for s in (job.testset, *job.images) if s is not None]
    return [sample for source in sources for sample in load_dataset(ctx, source).samples]


def needed_images(job: Job, ctx: JobContext) -> list[Path]:
    """Every image whose features the job reads, once each, in dataset order."""
    return list(dict.fromkeys(s.path for s in _samples(job, ctx)))


def missing_images(job: Job, ctx: JobContext) -> list[Path]:
    """The images whose cached features are missing, invalid, or to be overwritten (``-o``)."""
    return [p for p in needed_images(job, ctx) if needs_features(ctx.data_root, p, job.options)]


def feature_argv(job: Job, ctx: JobContext, image: Path) -> list[str]:
    """The dependency job computing one image's features for this job."""
    return ["wndchrm", options.FEATURES_COMMAND, *job.options.feature_argv(), relative(ctx, image)]


def report_paths(ctx: JobContext, job: Job) -> tuple[Path, Path, Path]:
    """Text, JSON and HTML report paths: REPORT (or the default) with .txt/.json/.html."""
    named = output_path(ctx, job.output) if job.output else default_output(ctx, job.dataset, "-test.txt")
    known = named.suffix.lower() in (".txt", ".html", ".json")
    base = named.with_suffix("") if known else named
    text = base.with_name(base.name + ".txt") if known else named
    return text, base.with_name(base.name + ".json"), base.with_name(base.name + ".html")


def classify_output(ctx: JobContext, job: Job) -> Path:
    """``--out=PATH``, else a default named by the model and a digest of the images classified."""
    if job.output:
        return output_path(ctx, job.output)
    digest = hashlib.sha1("\0".join(job.images).encode()).hexdigest()[:8]
    return default_output(ctx, job.dataset, f"-classify-{digest}.tsv")
