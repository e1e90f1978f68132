"""One CharmFeatures family on an arbitrary 2-D image, for tests.

``CharmFeatures(f_names=['<Family> <chain> [0]'])`` builds a custom executor computing that whole
family (all its values, not just [0]) on whatever array ``get_features`` is given, transforms of the
chain included. Like the engine, the image goes in as its row-major buffer shaped (columns, rows),
which is how CharmFeatures 1.3 reads an array.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
from typing import Any

import numpy as np
from numpy.typing import NDArray


@functools.cache
def _executor(family: str) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        charm_features = importlib.import_module("CharmFeatures").CharmFeatures
        return charm_features(f_names=[f"{family} [0]"], forking_executor=False, forking_gabor=False,
                              forking_haralick=False, verbosity=0)


def family_names(family: str) -> list[str]:
    """The names CharmFeatures gives the family's values, e.g. ``'Gini Coefficient (Hue ()) [0]'``."""
    return [str(name) for name in _executor(family).feature_names]


def family_values(family: str, image: NDArray[np.float64]) -> NDArray[np.float64]:
    """The values of ``family`` (e.g. ``'Zernike Coefficients (Fourier ())'``) on a rows x columns image."""
    pixels = np.ascontiguousarray(image, dtype=np.float64)
    return np.asarray(_executor(family).get_features(pixels.reshape(pixels.shape[1], pixels.shape[0])),
                      dtype=np.float64)
