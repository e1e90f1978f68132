"""Output files: confined to the data root, folders created as needed, written atomically."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from depqueue import BadJob, RetryLater
from wndchrm.dataroot import JobContext

#: Where reports go when a command names no output: one folder under the data root, outside every
#: dataset (a report folder inside a dataset would be read as an empty class next time).
REPORTS_DIR = "wndchrm-reports"
#: Seconds before a job that found its disk full runs again; no attempt is spent, the disk may free up.
DISK_FULL_RETRY = 10
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


@contextmanager
def full_disk_retries_later(path: Path) -> Iterator[None]:
    """A full disk or quota (ENOSPC, EDQUOT) while writing ``path`` becomes RetryLater naming the path and
    the cause. Every writer here goes through a temp file and a rename, so nothing partial is left behind."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in _NO_SPACE:
            raise
        raise RetryLater(f"cannot write {path}: {os.strerror(exc.errno)} ({errno.errorcode[exc.errno]}); "
                         f"nothing was written, the job runs again in {DISK_FULL_RETRY}s", DISK_FULL_RETRY) from None


def output_path(ctx: JobContext, arg: str) -> Path:
    """Resolve an output argument; BadJob if it escapes the data root or is a folder."""
    path = ctx.confine(arg)
    if path.is_dir():
        raise BadJob(f"output {arg!r} is a folder; name a file")
    return path


def default_output(ctx: JobContext, source: str, suffix: str) -> Path:
    """``<data root>/wndchrm-reports/<source path with / as _><suffix>``."""
    stem = Path(source).with_suffix("").as_posix().strip("/").replace("/", "_") or "dataset"
    return ctx.data_root.resolve() / REPORTS_DIR / f"{stem}{suffix}"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write via a temp file in the same folder and a rename, so readers see all of it or none.

    The file gets the permissions an ordinary ``open`` would give (0666 less the umask), not the 0600 of
    a temp file: reports and models are meant for the lab to read.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with full_disk_retries_later(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o666 & ~_umask())
            with os.fdopen(fd, "wb") as stream:
                stream.write(payload)
                stream.flush()
                os.fsync(stream.fileno())  # a full disk shows here, not after the rename
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
