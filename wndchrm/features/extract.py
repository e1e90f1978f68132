"""Features of one image: from its ``.sig`` files or cache when they can be trusted, else computed and cached.

Order of trust, as the C++ wndchrm reuses its files: the image's ``.sig`` files (beside it, named by the
options; see :mod:`sigfile`), then this project's ``.npz`` cache, then computing. ``-o`` skips both and
recomputes; ``-m`` writes ``.sig`` files beside the image, as the C++ program does.

Every matrix is samples x wndchrm's vector for the options (:mod:`featureset`: 1,059 values, 2,919 with
``-l``, 2,199 with ``-c``, 4,059 with both). Only that set is computed; a job also takes its values
from the image's cache of a larger set if there is one (the short set is a subset of the long one, the
grey set of the colour one, equal bit for bit).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from depqueue import BadJob
from wndchrm.features import cache, sigfile
from wndchrm.features.featureset import columns_of, feature_set
from wndchrm.features.haralick import TooFewTones
from wndchrm.features.images import load_samples
from wndchrm.formats.cpp_names import sample_names
from wndchrm.options import Options

log = logging.getLogger(__name__)


def sig_features(image: Path, options: Options) -> NDArray[np.float64] | None:
    """The image's features from usable ``.sig`` files beside it, or None (always with ``-o``)."""
    if options.overwrite:
        return None
    return sigfile.read_image_sigs(image, options, feature_set(options).names)


def _from_cache(root: Path, image: Path, options: Options) -> NDArray[np.float64] | None:
    """The image's cache for ``options``, or its values from the cache of a larger set (long for a short
    set, colour for a grey one), since a smaller set's values are the larger set's of the same names."""
    wanted = feature_set(options)
    found = cache.load(cache.cache_path(root, image, options), image, options, wanted)
    if found is not None:
        return found
    for larger in _larger_sets(options):
        path = cache.cache_path(root, image, larger)
        if not path.is_file():
            continue
        columns = columns_of(wanted, feature_set(larger))
        found = cache.load(path, image, larger, feature_set(larger))
        if found is not None and columns is not None:
            return found[:, columns]
    return None


def _larger_sets(options: Options) -> list[Options]:
    """The options of every vector holding the vector of ``options`` (``-l`` and ``-c`` added)."""
    sets = {(options.long or long, options.color or colour) for long in (False, True) for colour in (False, True)}
    sets.discard((options.long, options.color))
    return [replace(options, long=long, color=colour) for long, colour in sorted(sets)]


def cached_features(root: Path, image: Path, options: Options) -> NDArray[np.float64] | None:
    """The image's trusted features (samples x the options' vector) from its ``.sig`` files or cache, or None."""
    from_sigs = sig_features(image, options)
    if from_sigs is not None:
        return from_sigs
    return _from_cache(root, image, options)


def needs_features(root: Path, image: Path, options: Options) -> bool:
    """True if the image needs a dependency job: no usable ``.sig`` or cache, or ``-o``."""
    return options.overwrite or cached_features(root, image, options) is None


def image_features(root: Path, image: Path, options: Options, use_sigs: bool = True) -> NDArray[np.float64]:
    """Features of every sample of ``image``; computes and caches them if needed.

    Raises cache.CacheBusy if another process is computing this image now, and BadJob if the image
    cannot be read, tiled or computed (wndchrm 1.60 aborts on fewer than three grey tones). With
    ``options.overwrite`` a valid cache is recomputed anyway. With ``options.save_sigs`` the image's
    ``.sig`` files are written unless usable ones exist. ``use_sigs=False`` skips existing ``.sig``
    files (a ``-o`` job's parent, reading what its dependencies recomputed).
    """
    from_sigs = sig_features(image, options) if use_sigs else None
    if from_sigs is not None:
        return from_sigs
    features = _computed_or_cached(root, image, options)
    if options.save_sigs:
        _save_sigs(root, image, options, features)
    return features


def _computed_or_cached(root: Path, image: Path, options: Options) -> NDArray[np.float64]:
    path = cache.cache_path(root, image, options)
    if not options.overwrite:
        found = _from_cache(root, image, options)
        if found is not None:
            return found
    with cache.computing(path):
        # Another worker may have finished this image between our look and our lock.
        if not options.overwrite:
            found = _from_cache(root, image, options)
            if found is not None:
                return found
        cache.remove_orphans(path)
        started = time.monotonic()
        features = compute_samples(image, options)
        cache.write(path, image, options, feature_set(options), features)
        log.info("features of %s: %d tile(s) in %.2fs", image, len(features), time.monotonic() - started)
        return features


def compute_samples(image: Path, options: Options) -> NDArray[np.float64]:
    """Compute every sample's vector; BadJob naming the image and sample where wndchrm 1.60 would abort."""
    wanted = feature_set(options)
    rows = []
    for name, tile in zip(sample_names(options), load_samples(image, options), strict=True):
        try:
            rows.append(wanted.compute(tile))
        except TooFewTones as exc:
            sample = f" (sample {name})" if options.tiles > 1 or options.rotations else ""
            raise BadJob(f"image {image.name!r}{sample} cannot be computed as wndchrm 1.60 computes it, "
                         f"which aborts on it: {exc}") from None
    return np.stack(rows)


def _save_sigs(root: Path, image: Path, options: Options, features: NDArray[np.float64]) -> None:
    label = image.relative_to(root.resolve()).as_posix()
    try:
        sigfile.write_image_sigs(image, options, features, feature_set(options).names, label)
    except OSError as exc:
        # A read-only image folder must not fail the job: the features themselves are fine.
        log.warning("cannot write the .sig files of %s (-m): %s", image, exc)
