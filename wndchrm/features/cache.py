"""Per-image feature cache: one ``.npz`` per image and sampling, written atomically, trusted when checked.

Layout: ``<data root>/.wndchrm-cache/<image path relative to the root>.<key>.npz``, where the key names
everything that changes the values (``t<cols>x<rows>-d<percent>[-B<x>_<y>_<w>_<h>][-S<mean>[_<std>]][-R][-c][-l]``).
A folder of its own, rather than files beside the images, keeps dataset folders (whose subfolders are classes) clean and
lets a read-only image tree be analysed. The file stores the format version, CharmFeatures' feature-vector
version, the key, the image's size and mtime, the feature count and names (wndchrm's vector for the
options, :mod:`wndchrm.features.featureset`) and the tiles x features matrix; a file that disagrees on
any of these, or cannot be read, is recomputed, never trusted.

Two workers never compute one image at once: the computer holds ``fcntl.flock`` on ``<cache>.lock``
without blocking. The kernel drops the lock when its process dies, so a crashed worker leaves no stale
lock behind (the empty lock file itself is harmless and reused).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from wndchrm.features.engine import get_engine
from wndchrm.features.featureset import FeatureSet
from wndchrm.features.sampling import samples_per_image
from wndchrm.formats.outputs import full_disk_retries_later
from wndchrm.options import Options

log = logging.getLogger(__name__)

CACHE_DIR = ".wndchrm-cache"
#: Bumped whenever the layout of the file or the preprocessing changes meaning (2: images are handed to
#: CharmFeatures the right way round, RGB and 16-bit read and -d resampled as the C++ program does;
#: 3: wndchrm's own vector, Haralick [16] and [17] computed where format 2 held CharmFeatures' v5
#: vector without them, and a short-set cache of its own).
FORMAT_VERSION = 3

_LOAD_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, TypeError)


class CacheBusy(Exception):
    """Another process is computing this image's features right now."""


class CacheWriteFailed(Exception):
    """A just-written cache file did not read back correctly (full disk, flaky storage)."""


def cache_key(options: Options) -> str:
    """Names every option that changes what is computed per image (-t, -d, -B, -S, -R, -c, -l).

    -S is keyed by the integers the C++ program reads (``-S100.7`` and ``-S100`` compute the same).
    """
    key = f"t{options.tile_cols}x{options.tile_rows}-d{options.downsample}"
    if options.block is not None:
        b = options.block
        key += f"-B{b.x}_{b.y}_{b.w}_{b.h}"
    if options.normalize_mean is not None:
        key += f"-S{int(options.normalize_mean)}"
        if options.normalize_std is not None:
            key += f"_{int(options.normalize_std)}"
    if options.rotations:
        key += "-R"
    if options.color:
        key += "-c"
    if options.long:
        key += "-l"
    return key


def cache_path(root: Path, image: Path, options: Options) -> Path:
    """Where ``image`` (resolved, inside ``root``) caches its features for ``options``."""
    relative = image.relative_to(root.resolve())
    return root.resolve() / CACHE_DIR / relative.parent / f"{relative.name}.{cache_key(options)}.npz"


def _fingerprint(image: Path) -> tuple[int, int]:
    stat = image.stat()
    return stat.st_size, stat.st_mtime_ns


def load(path: Path, image: Path, options: Options, features_set: FeatureSet) -> NDArray[np.float64] | None:
    """The cached tiles x features matrix, or None if the file is missing or not to be trusted."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            problem = _problem(npz, image, options, features_set)
            features = None if problem else np.array(npz["features"], dtype=np.float64)
    except _LOAD_ERRORS as exc:
        problem = f"unreadable ({type(exc).__name__}: {exc})"
        features = None
    if problem:
        log.info("recomputing features of %s: cache %s is %s", image, path, problem)
    return features


def _problem(npz: np.lib.npyio.NpzFile, image: Path, options: Options, features_set: FeatureSet) -> str:
    if int(npz["format"]) != FORMAT_VERSION:
        return f"format {int(npz['format'])}, not {FORMAT_VERSION}"
    version = get_engine().version
    if str(npz["featurevec_version"]) != version:
        return f"CharmFeatures version {npz['featurevec_version']}, not {version}"
    if str(npz["key"]) != cache_key(options):
        return f"for sampling {npz['key']}, not {cache_key(options)}"
    if (int(npz["image_size"]), int(npz["image_mtime_ns"])) != _fingerprint(image):
        return "older than its image"
    if int(npz["n_features"]) != features_set.count:
        return f"for {int(npz['n_features'])} features, not {features_set.count}"
    names = npz["names"]
    if names.shape != (features_set.count,) or names.tolist() != list(features_set.names):
        return f"for {names.shape[0] if names.ndim else 0} other feature names"
    shape = npz["features"].shape
    expected = (samples_per_image(options), features_set.count)
    if shape != expected:
        return f"of shape {shape}, not {expected}"
    return ""


def write(path: Path, image: Path, options: Options, features_set: FeatureSet, features: NDArray[np.float64]) -> None:
    """Write atomically (temp file in the same folder, fsync, rename), then read it back to verify.

    A full disk is RetryLater naming the file (outputs.full_disk_retries_later)."""
    with full_disk_retries_later(path):
        _write(path, image, options, features_set, features)
    reread = load(path, image, options, features_set)
    if reread is None or not np.array_equal(reread, features, equal_nan=True):
        raise CacheWriteFailed(f"feature cache {path} did not read back as written")


def _write(path: Path, image: Path, options: Options, features_set: FeatureSet, features: NDArray[np.float64]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    size, mtime_ns = _fingerprint(image)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            np.savez_compressed(
                stream,
                format=np.int64(FORMAT_VERSION),
                featurevec_version=np.str_(get_engine().version),
                key=np.str_(cache_key(options)),
                image_size=np.int64(size),
                image_mtime_ns=np.int64(mtime_ns),
                n_features=np.int64(features_set.count),
                names=np.array(features_set.names),
                features=np.asarray(features, dtype=np.float64),
            )
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


def remove_orphans(path: Path) -> None:
    """Delete temp files a killed writer of ``path`` left behind. Only call while holding its lock:
    then no live process can be writing one."""
    for orphan in path.parent.glob(f".{path.name}.*.tmp"):
        orphan.unlink(missing_ok=True)


@contextlib.contextmanager
def computing(path: Path) -> Iterator[None]:
    """Hold the per-image compute lock, or raise CacheBusy at once if another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(f"{path}.lock", os.O_CREAT | os.O_RDWR, 0o664)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise CacheBusy(f"features of {path.name} are being computed by another worker") from None
            raise
        yield
    finally:
        os.close(fd)
