"""An image's features: read and cut into samples as wndchrm 1.60 does, computed by CharmFeatures, kept.

- ``images``: read a TIFF or PPM the way the C++ program reads it (:func:`read_image`), and its samples
  (:func:`load_tiles`).
- ``sampling``: the samples of one image: ``-B`` block, ``-d`` downsampling, ``-S`` normalisation,
  ``-R`` rotations, ``-t`` tiles, in the C++ program's order and with its names.
- ``engine``: CharmFeatures (libcharm), loaded once per process, with its forking off.
- ``extract``: one image's features, trusted from its ``.sig`` files or the cache, else computed
  (:func:`image_features`), and whether a job still needs them (:func:`needs_features`).
- ``sigfile``: wndchrm's ``.sig`` files, one sample's features beside its image. They live here, not in
  :mod:`wndchrm.formats`, because their names and order are the samples'.
- ``cache``: this project's per-image ``.npz`` cache under the data root.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wndchrm._lazy import attach

if TYPE_CHECKING:
    from wndchrm.features.cache import CACHE_DIR, cache_key, cache_path
    from wndchrm.features.engine import Engine, get_engine
    from wndchrm.features.extract import cached_features, image_features, needs_features, sig_features
    from wndchrm.features.images import Picture, load_tiles, read_image
    from wndchrm.features.sampling import Sample, cut_samples, sample_name, samples, samples_per_image
    from wndchrm.features.sigfile import SigFile, read_image_sigs, read_sig, sig_path, write_image_sigs, write_sig

__all__ = [
    "CACHE_DIR", "Engine", "Picture", "Sample", "SigFile", "cache_key", "cache_path", "cached_features",
    "cut_samples", "get_engine", "image_features", "load_tiles", "needs_features", "read_image",
    "read_image_sigs", "read_sig", "sample_name", "samples", "samples_per_image", "sig_features", "sig_path",
    "write_image_sigs", "write_sig",
]

if not TYPE_CHECKING:  # at run time each name is imported on first use; mypy reads the imports above
    __getattr__, __dir__ = attach(__name__, __file__, __all__)
