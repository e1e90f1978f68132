"""Features of one image: from its cache when the cache can be trusted, else computed and cached."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from services.kinds.wndchrm import cache
from services.kinds.wndchrm.engine import get_engine
from services.kinds.wndchrm.images import load_tiles
from services.kinds.wndchrm.options import Options

log = logging.getLogger(__name__)


def cached_features(root: Path, image: Path, options: Options) -> NDArray[np.float64] | None:
    """The trusted cached long features (tiles x 2,895) of ``image``, or None."""
    engine = get_engine()
    return cache.load(cache.cache_path(root, image, options), image, options, engine)


def needs_features(root: Path, image: Path, options: Options) -> bool:
    return options.overwrite or cached_features(root, image, options) is None


def image_features(root: Path, image: Path, options: Options) -> NDArray[np.float64]:
    """Long features of every tile of ``image``; computes and caches them if needed.

    Raises cache.CacheBusy if another process is computing this image now, and BadJob if the image
    cannot be read or tiled. With ``options.overwrite`` a valid cache is recomputed anyway.
    """
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
