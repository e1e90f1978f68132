"""The data root: the one folder every path of a job must stay inside.

Jobs carry paths relative to it, so a job means the same files on every worker whatever its mount point.
The queue's job kinds hand this same object to their code (``services.kinds`` re-exports it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from depqueue import BadJob


@dataclass(frozen=True)
class JobContext:
    """What job code needs from the worker's configuration."""

    data_root: Path

    def confine(self, path: str, *, must_exist: bool = False) -> Path:
        """Resolve ``path`` (relative paths are taken from the data root) and refuse any escape.

        Symlinks are resolved before the check, so a link inside the root that points outside is refused.
        """
        if not path or "\x00" in path:
            raise BadJob(f"invalid path {path!r}")
        root = self.data_root.resolve()
        candidate = Path(path)
        try:
            resolved = (candidate if candidate.is_absolute() else root / candidate).resolve()
        except (RuntimeError, OSError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
            raise BadJob(f"path {path!r} cannot be resolved: {'symlink loop' if isinstance(exc, RuntimeError) else exc}"
                         ) from None
        if resolved != root and root not in resolved.parents:
            raise BadJob(f"path {path!r} is outside the data root {str(root)!r}")
        if must_exist and not resolved.exists():
            raise BadJob(f"path {path!r} does not exist")
        return resolved
