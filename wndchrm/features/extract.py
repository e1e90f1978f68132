"""Features of one image: from its ``.sig`` files or cache when they can be trusted, else computed and cached.

Order of trust, as the C++ wndchrm reuses its files: the image's ``.sig`` files (beside it, named by the
options; see :mod:`sigfile`), then this project's ``.npz`` cache, then computing. ``-o`` skips both and
recomputes; ``-m`` writes ``.sig`` files beside the image, as the C++ program does.

A short-set (no ``-l``) ``.sig`` holds only the short features: the long-width matrix returned then
has NaN in every column outside the short set, which callers never read for a short-set job.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from wndchrm.features import cache, sigfile
from wndchrm.features.engine import Engine, get_engine
from wndchrm.features.images import load_tiles
from wndchrm.options import Options

log = logging.getLogger(__name__)


def set_columns(engine: Engine, options: Options) -> NDArray[np.intp]:
    """Columns of the long vector in the feature set of ``options`` (all with ``-l``, else the short ones)."""
    return np.arange(engine.count, dtype=np.intp) if options.long else engine.short_index


def sig_features(image: Path, options: Options) -> NDArray[np.float64] | None:
    """Long-width features of ``image`` from usable ``.sig`` files beside it, or None (always with ``-o``)."""
    if options.overwrite:
        return None
    engine = get_engine()
    columns = set_columns(engine, options)
    found = sigfile.read_image_sigs(image, options, [engine.names[i] for i in columns])
    if found is None:
        return None
    matrix = np.full((len(found), engine.count), np.nan)
    matrix[:, columns] = found
    return matrix


def cached_features(root: Path, image: Path, options: Options) -> NDArray[np.float64] | None:
    """The image's trusted long features (tiles x 2,895) from its ``.sig`` files or cache, or None."""
    from_sigs = sig_features(image, options)
    if from_sigs is not None:
        return from_sigs
    return cache.load(cache.cache_path(root, image, options), image, options, get_engine())


def needs_features(root: Path, image: Path, options: Options) -> bool:
    """True if the image needs a dependency job: no usable ``.sig`` or cache, or ``-o``."""
    return options.overwrite or cached_features(root, image, options) is None


def image_features(root: Path, image: Path, options: Options, use_sigs: bool = True) -> NDArray[np.float64]:
    """Long features of every tile of ``image``; computes and caches them if needed.

    Raises cache.CacheBusy if another process is computing this image now, and BadJob if the image
    cannot be read or tiled. With ``options.overwrite`` a valid cache is recomputed anyway. With
    ``options.save_sigs`` the image's ``.sig`` files are written unless usable ones exist.
    ``use_sigs=False`` skips existing ``.sig`` files (a ``-o`` job's parent, reading what its
    dependencies recomputed).
    """
    from_sigs = sig_features(image, options) if use_sigs else None
    if from_sigs is not None:
        return from_sigs
    features = _computed_or_cached(root, image, options)
    if options.save_sigs:
        _save_sigs(root, image, options, features)
    return features


def _computed_or_cached(root: Path, image: Path, options: Options) -> NDArray[np.float64]:
    engine = get_engine()
    path = cache.cache_path(root, image, options)
    if not options.overwrite:
        found = cache.load(path, image, options, engine)
        if found is not None:
            return found
    with cache.computing(path):
        # Another worker may have finished this image between our look and our lock.
        if not options.overwrite:
            found = cache.load(path, image, options, engine)
            if found is not None:
                return found
        cache.remove_orphans(path)
        started = time.monotonic()
        tiles = load_tiles(image, options)
        features = np.stack([engine.compute(tile) for tile in tiles])
        cache.write(path, image, options, engine, features)
        log.info("features of %s: %d tile(s) in %.2fs", image, len(tiles), time.monotonic() - started)
        return features


def _save_sigs(root: Path, image: Path, options: Options, features: NDArray[np.float64]) -> None:
    engine = get_engine()
    columns = set_columns(engine, options)
    names = [engine.names[i] for i in columns]
    label = image.relative_to(root.resolve()).as_posix()
    try:
        sigfile.write_image_sigs(image, options, features[:, columns], names, label)
    except OSError as exc:
        # A read-only image folder must not fail the job: the features themselves are fine.
        log.warning("cannot write the .sig files of %s (-m): %s", image, exc)
