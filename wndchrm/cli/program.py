"""``wndchrm``: the C++ wndchrm 1.60's command line, run here, no server (also ``python -m wndchrm``).

    wndchrm [--data-root DIR] [--jobs N] [-v] COMMAND [wndchrm 1.60 options] ARGS...

    wndchrm train -l images x.fit            the .fit of a folder of class folders
    wndchrm test -l -n5 images report.html   splits, accuracy; report.txt, .json and .html beside it
    wndchrm classify -l x.fit new/           each image's class probabilities and prediction
    wndchrm check -l images                  the images still needing features, one a line

The features an image needs are computed over a pool of processes, one per core this process may use
(its affinity and cgroup quota), and cached under DIR/.wndchrm-cache as the queue's workers cache them.
Every path is taken from, and must stay inside, the data root: --data-root, else $DATA_ROOT, else the
working directory. What wndchrm 1.60 prints goes to stdout, then the absolute path of every file written;
progress and warnings go to stderr. ``--jobs`` is spelt long because ``-jN`` is wndchrm 1.60's (the most
test images per class); $WNDCHRM_JOBS sets it too. ``-v`` before the command logs more (after it, ``-vPATH``
is wndchrm's weight file). Every other option is wndchrm 1.60's, with its meaning.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from depqueue import BadJob, RetryLater, allowed_cpus
from wndchrm.cli.commands import Job, parse_job
from wndchrm.cli.support import check_supported
from wndchrm.dataroot import JobContext
from wndchrm.formats.outputs import output_path
from wndchrm.options import USER_COMMANDS

#: Exit codes: a job that can never work (bad arguments, missing files), and one to try again later.
EXIT_BAD_JOB = 2
EXIT_RETRY = 75  # EX_TEMPFAIL: a full disk, or an image another process is computing
#: This program's options, which wndchrm 1.60 does not have (each takes a value).
VALUED = ("--data-root", "--jobs")


@dataclass
class Settings:
    """This program's own options, and where the data root came from (for messages)."""

    data_root: Path
    root_from: str
    jobs: int
    verbose: bool = False
    command: list[str] = field(default_factory=list)


def _jobs(text: str, source: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise BadJob(f"{source} must be a whole number of processes, 1 or more; got {text!r}")
    return value


def settings(args: list[str], env: dict[str, str] | os._Environ[str] = os.environ) -> Settings:
    """Split ``args`` into this program's options and the wndchrm command; BadJob on a bad value."""
    ours: dict[str, str] = {}
    verbose = False
    command: list[str] = []
    words = iter(args)
    for word in words:
        if word == "--":
            command += [word, *words]
            break
        name, equals, value = word.partition("=")
        if name in VALUED:
            if not equals:
                value = next(words, "")
                if not value:
                    raise BadJob(f"{name} needs a value")
            ours[name] = value
        elif word in ("-V", "--verbose") or (word == "-v" and not command):  # -vPATH is wndchrm's weights
            verbose = True
        else:
            command.append(word)
    if "--data-root" in ours:
        root, source = ours["--data-root"], "set by --data-root"
    elif env.get("DATA_ROOT"):
        root, source = env["DATA_ROOT"], "set by the DATA_ROOT environment variable"
    else:
        root, source = os.getcwd(), "the working directory (--data-root or DATA_ROOT names another)"
    if "--jobs" in ours:
        jobs = _jobs(ours["--jobs"], "--jobs")
    elif env.get("WNDCHRM_JOBS"):
        jobs = _jobs(env["WNDCHRM_JOBS"], "WNDCHRM_JOBS")
    else:
        jobs = allowed_cpus()
    return Settings(Path(root).absolute(), source, jobs, verbose, command)


def _run(job: Job, ctx: JobContext, argv: list[str], jobs: int) -> None:
    # Imported here: numpy, CharmFeatures and the image libraries load only once a command is to run.
    from wndchrm.cli import runner, terminal
    from wndchrm.cli.commands import missing_images
    from wndchrm.cli.pool import compute_features
    from wndchrm.formats.dataset import load_dataset

    missing = missing_images(job, ctx)
    if missing:
        with terminal.feature_progress(len(missing), min(jobs, len(missing))) as progress:
            compute_features(job, ctx, missing, jobs, progress)
    candidates = runner.expected_outputs(job, ctx)
    existed = {path for path in candidates if path.exists()}
    result = runner.run(job, ctx, argv, show=lambda text: print(terminal.truthful(text), end="", flush=True))
    written = [ctx.data_root / p for p in (result or {}).get("files", [])]
    if job.command.name == "train":
        fit = output_path(ctx, str(job.output or job.options.dataset_fit))
        opts = job.options
        per_image = opts.tiles * (4 if opts.rotations else 1)
        print(terminal.train_summary(job.dataset, load_dataset(ctx, job.dataset).samples, per_image,
                                     str(job.output or job.options.dataset_fit)), end="")
        written.insert(0, fit)
    written += [path for path in candidates if path.exists() and path not in written]  # -D, -T, -vw
    print(terminal.files_written([p.resolve() for p in written], {p.resolve() for p in existed}), end="", flush=True)


def main(args: list[str] | None = None, prog: str = "wndchrm") -> int:
    """Run the command in ``args`` (default: ``sys.argv``); ``prog`` is the name its messages show."""
    given = sys.argv[1:] if args is None else args
    if not given or "-h" in given or "--help" in given:  # wndchrm's -h: its note on usage
        print((__doc__ or "").replace("``", "").replace("wndchrm [", f"{prog} ["))
        return 0 if given else EXIT_BAD_JOB
    try:
        found = settings(given)
    except BadJob as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_BAD_JOB
    logging.basicConfig(level=logging.INFO if found.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s: %(message)s")
    where = f"the data root {found.data_root}, {found.root_from}"
    if not found.data_root.is_dir():
        print(f"{prog}: no such folder: {where}", file=sys.stderr)
        return EXIT_BAD_JOB
    ctx = JobContext(found.data_root.resolve())
    argv = ["wndchrm", *found.command]
    try:
        if not any(word in USER_COMMANDS for word in found.command):
            raise BadJob(f"name a command: {', '.join(USER_COMMANDS)} ({prog} -h shows how)")
        job = parse_job(argv, ctx)
        check_supported(job.options)  # the built-in engine runs here: refuse what it cannot honour
        if job.command.name == "check":
            from wndchrm.cli import runner

            for path in runner.check_list(job, ctx):
                print(path)
        else:
            _run(job, ctx, argv, found.jobs)
    except BadJob as exc:
        print(f"{prog}: {exc}\n{prog}: paths are read from {where}", file=sys.stderr)
        return EXIT_BAD_JOB
    except RetryLater as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_RETRY
    except ImportError as exc:  # installed without the engine's extras
        print(f"{prog}: the engine needs {exc.name or 'a module'} (pip install 'wndchrm-queue[wndchrm]')",
              file=sys.stderr)
        return EXIT_BAD_JOB
    except KeyboardInterrupt:
        # Nothing is half-written: every file goes through a temp file and a rename; cached features stay.
        print(f"\n{prog}: interrupted; the features computed so far are cached for the next run", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `... check DATASET | head`: the reader left; that is not an error of ours.
        sys.stderr.close()
        return 0
    return 0
