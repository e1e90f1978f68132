"""CharmFeatures families on any 2-D image, and wndchrm 4.2's Haralick Textures with [16] and [17].

``CharmFeatures(f_names=['<Family> <chain> [0]', ...])`` builds a custom executor that computes each
named family whole (every value, not only [0]), transforms of its chain included, on whatever array
``get_features`` is given, in the order the names are given. So wndchrm's colour chains can be had
from it: ``Zernike Coefficients (Fourier ())`` on the hue image is wndchrm's
``Zernike Coefficients (Fourier (Hue ()))``.

As in the engine, an image goes in as its row-major buffer shaped (columns, rows), which is how
CharmFeatures 1.3 reads an array; libcharm's own forking is off (a worker is one process a core).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wndchrm.features.haralick import maximal_correlation_features
from wndchrm.features.transforms import Image, apply_chain, chain_name

#: The algorithms wndchrm runs on each colour image, in its order (groups B then C of its plans),
#: with the number of values each writes.
COLOUR_FAMILIES = (
    ("Chebyshev-Fourier Coefficients", 32),
    ("Chebyshev Coefficients", 32),
    ("Zernike Coefficients", 72),
    ("Comb Moments", 48),
    ("Haralick Textures", 28),
    ("Multiscale Histograms", 24),
    ("Tamura Textures", 6),
    ("Radon Coefficients", 12),
    ("Fractal Features", 20),
    ("Pixel Intensity Statistics", 5),
    ("Gini Coefficient", 1),
)
#: Where wndchrm 4.2's Haralick Textures hold the maximal correlation coefficient (CharmFeatures'
#: 26 values lack these two: its [16] onwards are 4.2's [18] onwards).
MCC_INDEX = 16


@functools.cache
def _executor(names: tuple[str, ...]) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):  # importing CharmFeatures prints a line
        charm_features = importlib.import_module("CharmFeatures").CharmFeatures
        return charm_features(f_names=[f"{name} [0]" for name in names], forking_executor=False,
                              forking_gabor=False, forking_haralick=False, verbosity=0)


def charm_values(families: Sequence[str], image: Image) -> NDArray[np.float64]:
    """CharmFeatures' values of ``families`` (e.g. ``'Zernike Coefficients (Fourier ())'``), in that order,
    on a rows x columns image."""
    pixels = np.ascontiguousarray(image, dtype=np.float64)
    vector = _executor(tuple(families)).get_features(pixels.reshape(pixels.shape[1], pixels.shape[0]))
    return np.asarray(vector, dtype=np.float64)


def charm_names(families: Sequence[str]) -> list[str]:
    """The names CharmFeatures gives the values of ``families``."""
    return [str(name) for name in _executor(tuple(families)).feature_names]


def algorithm_set(image: Image, chain: str = "") -> NDArray[np.float64]:
    """wndchrm's 280 values of :data:`COLOUR_FAMILIES` on ``chain`` of ``image``: CharmFeatures' families,
    with Haralick [16] and [17] computed here (:mod:`wndchrm.features.haralick`) on the chain's image."""
    suffix = chain_name(chain)
    values = charm_values([f"{family} {suffix}" for family, _ in COLOUR_FAMILIES], image)
    haralick_start = sum(count for family, count in COLOUR_FAMILIES[:4])
    mcc = maximal_correlation_features(apply_chain(image, chain))
    return np.insert(values, haralick_start + MCC_INDEX, mcc)


def algorithm_set_names(image_name: str) -> list[str]:
    """wndchrm's names of the 280 values on an image called ``image_name`` (e.g. ``'Fourier (Hue ())'``)."""
    return [f"{family} ({image_name}) [{i}]" for family, count in COLOUR_FAMILIES for i in range(count)]
