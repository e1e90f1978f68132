"""Running jobs through an existing C++ ``wndchrm`` executable, the way the original wndchrm-queue did.

- Expansion runs ``wndchrm check [options] DATASET`` (and the test set / images to classify): each line
  of its stdout is an image still lacking a signature file, and becomes one dependency job.
- A dependency (``wndchrm features [options] IMAGE``) runs ``wndchrm train [options] IMAGE /dev/null``:
  training on a one-image dataset is how the C++ program computes and saves one image's ``.sig`` file,
  and the (useless) one-image model goes to /dev/null.
- A parent runs the command exactly as submitted, with the binary in place of ``wndchrm``.

Every run is an argv list, never a shell, started in the data root so relative paths mean the same as
for the built-in engine; every path the binary prints is confined to the data root before it is queued.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

from depqueue.errors import BadJob
from services.kinds import JobContext
from services.kinds.wndchrm.commands import Job
from services.kinds.wndchrm.dataset import relative
from services.kinds.wndchrm.outputs import default_output, output_path, write_atomic

log = logging.getLogger(__name__)

#: Characters of a failing binary's stderr kept in the job's failure reason.
STDERR_TAIL = 2000


class ExternalFailed(RuntimeError):
    """The binary exited non-zero; retried like any failed job, since the cause may be transient."""


class ExternalWndchrm:
    """A site's ``wndchrm`` executable, given by path (the worker entry point reads WNDCHRM_BINARY)."""

    def __init__(self, binary: str | os.PathLike[str]) -> None:
        self.binary = Path(binary)

    def _call(self, words: list[str], ctx: JobContext) -> str:
        argv = [str(self.binary), *words]
        log.info("running %s", argv)
        try:
            done = subprocess.run(argv, cwd=ctx.data_root, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise ExternalFailed(f"cannot run wndchrm binary {self.binary}: {exc}") from exc
        if done.stderr:
            log.info("%s stderr: %s", self.binary.name, done.stderr[-STDERR_TAIL:])
        if done.returncode != 0:
            tail = done.stderr[-STDERR_TAIL:].strip()
            raise ExternalFailed(f"{self.binary.name} {words[0]} exited with {done.returncode}: {tail}")
        return done.stdout

    def missing_images(self, job: Job, argv: list[str], ctx: JobContext) -> list[Path]:
        """What ``wndchrm check`` lists for every dataset argument of the job, confined, once each."""
        option_words = [w for w in argv[2:] if w.startswith("-")]
        sources = [] if job.dataset.lower().endswith(".fit") else [job.dataset]
        sources += [s for s in (job.testset, *job.images) if s is not None]
        found: dict[Path, None] = {}
        for source in sources:
            for line in self._call(["check", *option_words, source], ctx).splitlines():
                if line.strip():
                    try:
                        found[ctx.confine(line.strip(), must_exist=True)] = None
                    except BadJob as exc:
                        raise BadJob(f"wndchrm check listed an unusable image: {exc}") from None
        return list(found)

    def run_features(self, job: Job, ctx: JobContext) -> None:
        image = relative(ctx, ctx.confine(job.dataset, must_exist=True))
        self._call(["train", *job.options.feature_argv(), image, os.devnull], ctx)

    def run(self, job: Job, argv: list[str], ctx: JobContext) -> None:
        if job.command.name == "features":
            self.run_features(job, ctx)
            return
        if job.output:
            # The C++ program does not create folders; the built-in engine does, so both behave alike.
            output_path(ctx, job.output).parent.mkdir(parents=True, exist_ok=True)
        stdout = self._call(argv[1:], ctx)
        if job.command.name == "check":
            write_atomic(default_output(ctx, job.dataset, "-check.txt"), stdout)
        elif stdout:
            log.info("%s %s output:\n%s", self.binary.name, job.command.name, stdout[-STDERR_TAIL:])
