"""Running jobs through an existing C++ ``wndchrm`` executable, the way the original wndchrm-queue did.

- Expansion runs ``wndchrm check [options] DATASET`` (and the test set): each image line of its stdout
  (its ``Processing directory '...'`` lines skipped) is an image still lacking a .sig file, and becomes
  one dependency job.
- A dependency (``wndchrm features [options] IMAGE``) runs ``wndchrm train [options] IMAGE /dev/null``:
  wndchrm 1.60 always saves the .sig files of the images it reads (``-m`` changes nothing), so training
  on a one-image dataset computes and saves that image's, and the one-image model goes to /dev/null.
- A parent runs the command exactly as submitted, with the binary in place of ``wndchrm``.

wndchrm 1.60 exits with 1 when it finishes and with 0 when it stops on an error (its showError calls
``exit(0)``), so a run is judged by its outputs: a run that exits 0 with a message on stderr, exits with
any other status, or finishes without writing a file it had to write (each .sig of the image, the .fit,
the report) has failed, and the job fails with the program's stderr.

Every run is an argv list, never a shell, started in the data root so relative paths mean the same as
for the built-in engine; every path the binary prints is confined to the data root before it is queued.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from depqueue import BadJob
from wndchrm.cli.commands import Job, classify_output
from wndchrm.dataroot import JobContext
from wndchrm.formats.cpp_names import check_lines, sig_files
from wndchrm.formats.dataset import relative
from wndchrm.formats.files import is_model
from wndchrm.formats.outputs import default_output, output_path, write_atomic

log = logging.getLogger(__name__)

#: Characters of the binary's stderr kept in a job's failure reason.
STDERR_TAIL = 2000
#: Exit statuses of a run that got to its end: wndchrm 1.60 returns 1; a build returning 0 is allowed
#: when its stderr is empty (1.60 exits 0 only after printing why it stopped).
FINISHED = 1


def is_this_program(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is this project's own ``wndchrm`` console script (a Python script calling our
    program), which pip puts on the PATH under the C++ program's name."""
    try:
        with open(path, "rb") as program:
            head = program.read(4096)
    except OSError:
        return False
    return head.startswith(b"#!") and b"wndchrm.cli.program" in head


def resolve_binary(binary: str | os.PathLike[str]) -> Path:
    """The absolute path of a configured ``wndchrm_binary``, looked up on the PATH when it is a bare name;
    ValueError saying why when it cannot be the C++ program here.

    Absolute because every run starts in the data root, where a relative path would name another file.
    """
    name = os.fspath(binary)
    found = shutil.which(name)
    if found is None:
        where = "on the PATH" if os.sep not in name else "at that path"
        raise ValueError(f"wndchrm_binary {name!r}: no executable file {where} (give the path of the C++ "
                         "wndchrm, or leave wndchrm_binary unset to use the built-in engine)")
    if is_this_program(found):
        raise ValueError(f"wndchrm_binary {name!r} is {found}, this project's own wndchrm program, not the C++ "
                         "one: leave wndchrm_binary unset to use the built-in engine, or give the C++ "
                         "wndchrm's path")
    return Path(found).absolute()


class ExternalFailed(RuntimeError):
    """The binary stopped on an error or did not write its outputs; retried like any failed job."""


@dataclass(frozen=True)
class Finished:
    """A run of the binary: its stdout, stderr and exit status."""

    stdout: str
    stderr: str
    status: int


class ExternalWndchrm:
    """A site's ``wndchrm`` executable, given by path (the worker entry point reads WNDCHRM_BINARY)."""

    def __init__(self, binary: str | os.PathLike[str]) -> None:
        self.binary = Path(binary)

    def call(self, words: list[str], ctx: JobContext, outputs: tuple[Path, ...] = ()) -> Finished:
        """Run ``binary WORDS...`` in the data root; ExternalFailed unless it finished and wrote ``outputs``."""
        argv = [str(self.binary), *words]
        log.info("running %s", argv)
        started = time.time()
        try:
            done = subprocess.run(argv, cwd=ctx.data_root, capture_output=True, text=True, errors="replace",
                                  stdin=subprocess.DEVNULL, check=False)
        except OSError as exc:
            raise ExternalFailed(f"cannot run wndchrm binary {self.binary}: {exc}") from exc
        run = Finished(done.stdout, done.stderr, done.returncode)
        if run.stderr:
            log.info("%s stderr: %s", self.binary.name, run.stderr[-STDERR_TAIL:])
        what = f"{self.binary.name} {words[0]}"
        stderr = run.stderr[-STDERR_TAIL:].strip()
        if run.status not in (0, FINISHED) or (run.status == 0 and stderr):
            raise ExternalFailed(f"{what} stopped (exit status {run.status}): {stderr or 'no message'}")
        unwritten = [path for path in outputs if not _written_since(path, started)]
        if unwritten:
            names = ", ".join(repr(relative(ctx, p)) for p in unwritten[:5])
            raise ExternalFailed(f"{what} finished without writing {names}"
                                 + (f" ({len(unwritten)} files)" if len(unwritten) > 5 else "")
                                 + (f": {stderr}" if stderr else ""))
        return run

    def missing_images(self, job: Job, ctx: JobContext) -> list[Path]:
        """What ``wndchrm check`` lists for the job's dataset and test set, confined, once each."""
        # Not -D/-T: wndchrm 1.60 check would write the (feature-less) dataset to -D's file.
        option_words = [w for w in job.options.words if not w.startswith(("-D", "-T"))]
        sources = [s for s in (job.dataset, job.testset, *job.images) if s is not None and not is_model(s)]
        found: dict[Path, None] = {}
        for source in sources:
            for line in check_lines(self.call(["check", *option_words, source], ctx).stdout):
                try:
                    found[ctx.confine(line, must_exist=True)] = None
                except BadJob as exc:
                    raise BadJob(f"wndchrm check listed an unusable image: {exc}") from None
        return list(found)

    def run_features(self, job: Job, ctx: JobContext) -> None:
        """Compute one image's .sig files (the dependency job); fails unless every one was written."""
        image = ctx.confine(job.dataset, must_exist=True)
        expected = tuple(sig_files(image, job.options))
        if all(_nonempty(p) for p in expected):
            return  # computed already (an earlier attempt, another parent's dependency); 1.60 ignores -o
        _remove_abandoned(expected)
        self.call(["train", *job.options.words, relative(ctx, image), os.devnull], ctx, expected)

    def run(self, job: Job, argv: list[str], ctx: JobContext) -> None:
        """Run a dependency, or the command as submitted; keep its stdout where it is the result."""
        name = job.command.name
        if name == "features":
            self.run_features(job, ctx)
            return
        for named in (job.output, job.report):  # the C++ program does not create folders; we do
            if named is not None:
                output_path(ctx, named).parent.mkdir(parents=True, exist_ok=True)
        run = self.call(argv[1:], ctx, tuple(written_by(job, ctx)))
        if name == "check":
            write_atomic(default_output(ctx, job.dataset, "-check.txt"), "".join(
                f"{line}\n" for line in check_lines(run.stdout)))
        elif name in ("test", "classify") and job.report is None:
            # Without a report file wndchrm prints its results; they are the job's result, so keep them.
            kept = default_output(ctx, job.dataset, "-test.txt") if name == "test" else \
                classify_output(ctx, job).with_suffix(".txt")
            write_atomic(kept, run.stdout)
        elif run.stdout:
            log.info("%s %s output:\n%s", self.binary.name, name, run.stdout[-STDERR_TAIL:])


def written_by(job: Job, ctx: JobContext) -> list[Path]:
    """The files the binary must write for ``job``, the main one first, each confined to the data root.

    wndchrm 1.60 keeps the option letter in ``-Dpath`` and ``-Tpath`` (it writes ``Dpath``, ``Tpath``).
    """
    opts = job.options
    main = [job.output] if job.command.name == "train" and job.output else []
    paths = [*main, job.report]
    if opts.dataset_fit is not None:
        paths.append("D" + opts.dataset_fit)
    if opts.testset_fit is not None and (job.testset is not None or job.images):
        paths.append("T" + opts.testset_fit)
    if opts.weights_action == "w" and opts.weights_path is not None:
        paths.append(opts.weights_path)
    return [output_path(ctx, p) for p in paths if p is not None]


def _remove_abandoned(sigs: tuple[Path, ...]) -> None:
    """Delete empty .sig files no process holds a lock on: left by a run that died mid-image. wndchrm 1.60
    creates and fcntl-locks each one before computing it, and would take an unlocked empty one for
    another process's unfinished work, never computing it again."""
    for path in sigs:
        try:
            if path.stat().st_size:
                continue
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live wndchrm is computing it
        else:
            log.info("removing %s: empty, and no process is writing it", path)
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)


def _nonempty(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def _written_since(path: Path, started: float) -> bool:
    # A file the run wrote: present, not empty, modified after the run began (a second of slack for
    # file systems with coarse timestamps). /dev/null and other non-files count as written.
    try:
        stat = path.stat()
    except OSError:
        return False
    if not path.is_file():
        return True
    return stat.st_size > 0 and stat.st_mtime >= started - 1.0
