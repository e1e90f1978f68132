"""The built-in engine's commands: argument checking, the images a job needs, and running each command.

Paths travel through the queue relative to the data root, so a job means the same files on every worker
whatever its mount point; every path is resolved through ``JobContext.confine``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from depqueue import BadJob
from wndchrm import options
from wndchrm.dataroot import JobContext
from wndchrm.formats.dataset import Sample, load_dataset, relative
from wndchrm.formats.files import IMAGE_SUFFIXES
from wndchrm.formats.files import is_model as _is_model
from wndchrm.formats.outputs import default_output, output_path
from wndchrm.options import Command, Options

log = logging.getLogger(__name__)


#: What the C++ program looks for to tell a report from a test set: ``strstr(arg, ".htm")``.
REPORT_MARK = ".htm"
#: What the usage says a report must end in.
REPORT_SUFFIXES = (".htm", ".html")
#: Feature counts of a ``.fit`` model by set (wndchrm 4.2's, and v5's in files written here before).
LONG_SET_COUNTS = (2919, 2895)
SHORT_SET_COUNTS = (1059, 1047)


@dataclass(frozen=True)
class Job:
    """A parsed, checked wndchrm command line.

    ``report`` is the positional HTML report of ``test``/``classify``; ``output`` is where the built-in
    engine writes its result (``train``'s OUT, ``test``'s REPORT, or ``--out=PATH``).
    """

    command: Command
    dataset: str
    testset: str | None = None
    images: tuple[str, ...] = ()
    output: str | None = None
    report: str | None = None

    @property
    def options(self) -> Options:
        return self.command.options


def _usage(cmd: Command, usage: str, why: str) -> BadJob:
    return BadJob(f"usage: wndchrm {cmd.name} [options] {usage}: {why}")


def _report_arg(cmd: Command, arg: str, usage: str) -> str:
    if not arg.lower().endswith(REPORT_SUFFIXES):
        raise _usage(cmd, usage, f"the report {arg[:200]!r} must end in .htm or .html (wndchrm writes HTML "
                                 "into it)")
    return arg


def _train(cmd: Command) -> Job:
    usage = "DATASET OUT.fit"
    fit = cmd.options.dataset_fit
    if len(cmd.args) not in (1, 2) or (len(cmd.args) == 1 and fit is None):
        raise _usage(cmd, usage, f"got {len(cmd.args)} argument(s); OUT may be given as -DOUT instead")
    if len(cmd.args) == 2 and fit is not None:
        # wndchrm 1.60 would silently ignore OUT.
        raise _usage(cmd, usage, f"name the output once, as OUT ({cmd.args[1][:200]!r}) or -D, not both")
    return Job(cmd, cmd.args[0], output=cmd.args[1] if len(cmd.args) == 2 else None)


def _test(cmd: Command) -> Job:
    # As the C++ program reads them: after DATASET, an argument without ".htm" in it is the test set,
    # and the argument after that is the report. So "test a.fit b.fit" reads b.fit, never writes it.
    usage = "DATASET [TESTSET] [REPORT.html]"
    args = list(cmd.args)
    if not 1 <= len(args) <= 3:
        raise _usage(cmd, usage, f"got {len(args)} argument(s)")
    testset = args.pop(1) if len(args) > 1 and REPORT_MARK not in args[1] else None
    if len(args) > 2:
        raise _usage(cmd, usage, f"{args[2][:200]!r} after the report")
    report = _report_arg(cmd, args[1], usage) if len(args) == 2 else None
    if cmd.options.report and len(cmd.args) == 1:
        raise _usage(cmd, usage, "a report html file must be specified with -p")
    if report is not None and cmd.options.out is not None:
        raise _usage(cmd, usage, "name the report once, as REPORT or --out, not both")
    return Job(cmd, cmd.args[0], testset=testset, output=report or cmd.options.out, report=report)


def _classify(cmd: Command) -> Job:
    # The C++ program reads one test set and an optional report; the built-in engine also takes several
    # test sets (images, folders, lists). An argument with ".htm" in it ends the test sets: the report.
    usage = "DATASET|MODEL.fit TESTSET... [REPORT.html]"
    marks = [i for i, arg in enumerate(cmd.args) if i > 0 and REPORT_MARK in arg]
    end = marks[0] if marks else len(cmd.args)
    if end < 2:
        raise _usage(cmd, usage, "the classify command must have a test set to work on")
    if marks and marks[0] != len(cmd.args) - 1:
        raise _usage(cmd, usage, f"{cmd.args[marks[0] + 1][:200]!r} after the report")
    report = _report_arg(cmd, cmd.args[-1], usage) if marks else None
    return Job(cmd, cmd.args[0], images=tuple(cmd.args[1:end]), output=cmd.options.out, report=report)


def parse_job(argv: list[str], ctx: JobContext, *, as_cpp: bool = False) -> Job:
    """Parse and check a whole argv: options, arguments, and that paths exist under the data root.

    ``as_cpp``: for a C++ binary, whose lists of images are read as it reads them (``load_dataset``).
    """
    cmd = options.parse(argv)
    if cmd.name == "train":
        job = _train(cmd)
    elif cmd.name == "test":
        job = _test(cmd)
    elif cmd.name == "classify":
        job = _classify(cmd)
    elif len(cmd.args) != 1:
        raise _usage(cmd, "IMAGE" if cmd.name == "features" else "DATASET", f"got {len(cmd.args)} argument(s)")
    else:
        job = Job(cmd, cmd.args[0], output=cmd.options.out if cmd.name == "check" else None)
    check_outputs(ctx, _built_in_outputs(job, ctx), inputs_of(job, ctx, as_cpp=as_cpp))
    return job


def inputs_of(job: Job, ctx: JobContext, *, as_cpp: bool = False) -> set[Path]:
    """Every file the job reads (arguments and their images), resolved; BadJob if one is unusable."""
    if job.command.name == "features":
        image = ctx.confine(job.dataset, must_exist=True)
        if not image.is_file() or image.suffix.lower() not in IMAGE_SUFFIXES:
            raise BadJob(f"{job.dataset!r} is not a .tif/.tiff/.ppm image")
        return {image}
    if _is_model(job.dataset) and job.command.name not in ("classify", "test"):
        raise BadJob(f"wndchrm {job.command.name} needs a dataset, not a model ({job.dataset!r})")
    found: set[Path] = set()
    for index, source in enumerate(s for s in (job.dataset, job.testset, *job.images) if s is not None):
        found.add(ctx.confine(source, must_exist=True) if _is_model(source) else ctx.confine(source))
        if _is_model(source):
            check_feature_set(ctx.confine(source), source, job.options.long)
            continue
        try:
            found.update(sample.path for sample in load_dataset(ctx, source, as_cpp=as_cpp).samples)
        except BadJob as exc:
            if index == 1 and job.command.name == "test":
                raise BadJob(f"{exc} (in 'test DATASET X', X is the test set unless it contains '.htm', "
                             "as in wndchrm; a report must end in .htm or .html)") from None
            raise
    opts = job.options
    if opts.weights_action in ("r", "+", "-") and opts.weights_path is not None:
        found.add(ctx.confine(opts.weights_path, must_exist=True))
    return found


def check_feature_set(path: Path, name: str, long: bool) -> None:
    """BadJob naming the fix if a model holds the other feature set than the job's (``-l`` or not); only
    the header's feature count is read, so the submitter catches it before the job is queued."""
    try:
        with path.open(encoding="utf-8", errors="replace") as lines:
            count = int([lines.readline() for _ in range(2)][1])
    except (OSError, ValueError):
        return  # an unreadable or malformed model is reported where it is read in full
    if long and count in SHORT_SET_COUNTS:
        raise BadJob(f"model {name!r} has {count} features (the short set): remove -l")
    if not long and count in LONG_SET_COUNTS:
        raise BadJob(f"model {name!r} has {count} features (the long set): add -l")


def _built_in_outputs(job: Job, ctx: JobContext) -> list[Path]:
    opts = job.options
    named = [job.output, job.report, opts.dataset_fit, opts.testset_fit]
    if opts.weights_action == "w":
        named.append(opts.weights_path)
    written = [output_path(ctx, path) for path in named if path is not None]
    return written + list(report_paths(ctx, job)) if job.command.name == "test" else written


def check_outputs(ctx: JobContext, outputs: list[Path], inputs: set[Path]) -> None:
    """BadJob if an output is also one of the job's inputs (it would be overwritten)."""
    for path in outputs:
        if path in inputs:
            raise BadJob(f"output {relative(ctx, path)!r} is also an input of this job; it would be overwritten")


def _samples(job: Job, ctx: JobContext) -> list[Sample]:
    sources = [] if _is_model(job.dataset) else [job.dataset]
    if job.command.name == "features":
        return [Sample(ctx.confine(job.dataset, must_exist=True), None)]
    sources += [s for s in (job.testset, *job.images) if s is not None and not _is_model(s)]
    return [sample for source in sources for sample in load_dataset(ctx, source).samples]


def needed_images(job: Job, ctx: JobContext) -> list[Path]:
    """Every image whose features the job reads, once each, in dataset order."""
    return list(dict.fromkeys(s.path for s in _samples(job, ctx)))


def missing_images(job: Job, ctx: JobContext) -> list[Path]:
    """The images whose cached features are missing, invalid, or to be overwritten (``-o``)."""
    # Imported here: reading feature files needs numpy, which checking a job before it is queued does not.
    from wndchrm.features.extract import needs_features

    return [p for p in needed_images(job, ctx) if needs_features(ctx.data_root, p, job.options)]


def feature_argv(job: Job, ctx: JobContext, image: Path) -> list[str]:
    """The dependency job computing one image's features for this job."""
    return ["wndchrm", options.FEATURES_COMMAND, *job.options.feature_argv(), relative(ctx, image)]


def report_paths(ctx: JobContext, job: Job) -> tuple[Path, Path, Path]:
    """Text, JSON and HTML report paths: beside REPORT.html (which gets the HTML), or ``--out``/the default.

    ``REPORT.html`` gives ``REPORT.txt``, ``REPORT.json`` and ``REPORT.html``; ``--out=NAME[.txt|.json|.html]``
    gives the same three; ``--out=NAME.other`` gives the text in NAME.other and the others beside it.
    """
    named = output_path(ctx, job.output) if job.output else default_output(ctx, job.dataset, "-test.txt")
    if job.report is not None:
        base = named.with_suffix("")
        return base.with_name(base.name + ".txt"), base.with_name(base.name + ".json"), named
    known = named.suffix.lower() in (".txt", ".html", ".json")
    base = named.with_suffix("") if known else named
    text = base.with_name(base.name + ".txt") if known else named
    return text, base.with_name(base.name + ".json"), base.with_name(base.name + ".html")


def classify_output(ctx: JobContext, job: Job) -> Path:
    """``--out=PATH``; else, with REPORT.html, REPORT.tsv beside it (so every file of the run is in one
    folder); else a default named by the model and a digest of the images classified."""
    if job.output:
        return output_path(ctx, job.output)
    if job.report:
        return output_path(ctx, job.report).with_suffix(".tsv")
    digest = hashlib.sha1("\0".join(job.images).encode()).hexdigest()[:8]
    return default_output(ctx, job.dataset, f"-classify-{digest}.tsv")
