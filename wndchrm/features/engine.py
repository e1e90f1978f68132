"""The CharmFeatures (libcharm) feature engine, loaded once per process.

libcharm forks by default (one child per feature algorithm, plus forked Gabor and Haralick). A queue
worker already is one process per core, so forking inside it would oversubscribe the CPUs and leave
children behind if the worker is killed; it is switched off. Importing CharmFeatures prints a line to
stdout, which would corrupt ``check``'s one-path-a-line output, so the import is captured.

The long set has 2,895 features, the short set 1,047: the subset of the long one with the same names
(checked when the engine loads; computed alone, equal bit for bit to the long set's values, see the
tests), so a long cache also serves short-set jobs while a short-set job computes only its own set.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

_LOCK = threading.Lock()
_ENGINE: Engine | None = None


@dataclass(frozen=True)
class Engine:
    """Loaded long- and short-set CharmFeatures instances and what identifies their output."""

    charm: Any
    short_charm: Any
    #: CharmFeatures' feature-vector version (major.type.numerical), e.g. "5.2.2".
    version: str
    names: tuple[str, ...]
    #: Column indices of the short feature set inside the long vector.
    short_index: NDArray[np.intp]

    @property
    def count(self) -> int:
        return len(self.names)

    def compute(self, tile: NDArray[np.float64], long: bool = True) -> NDArray[np.float64]:
        """The long (or, ``long=False``, the short) v5 feature vector of one 2-D tile (rows x columns)."""
        pixels = np.ascontiguousarray(tile, dtype=np.float64)
        # CharmFeatures 1.3 reads ``width, height = ndarray.shape`` and maps the buffer as ``height`` rows
        # of ``width``: handing it the row-major buffer shaped (columns, rows) gives libcharm the image
        # as it is. A plain (rows, columns) array would be read transposed-and-rewrapped (tested).
        charm = self.charm if long else self.short_charm
        vector = charm.get_features(pixels.reshape(pixels.shape[1], pixels.shape[0]))
        return np.asarray(vector, dtype=np.float64)


def _load() -> Engine:
    with contextlib.redirect_stdout(io.StringIO()):
        # Imported by name: CharmFeatures ships no type information, and this is its only use.
        CharmFeatures = importlib.import_module("CharmFeatures").CharmFeatures
        no_forks: dict[str, Any] = {
            "forking_executor": False,
            "forking_gabor": False,
            "forking_haralick": False,
            "verbosity": 0,
        }
        charm = CharmFeatures(short=False, **no_forks)
        short = CharmFeatures(short=True, **no_forks)
    names = tuple(str(n) for n in charm.feature_names)
    position = {name: i for i, name in enumerate(names)}
    missing = [n for n in short.feature_names if n not in position]
    if missing:
        raise RuntimeError(f"CharmFeatures' short set is not a subset of the long set: {missing[:3]}")
    short_index = np.array([position[n] for n in short.feature_names], dtype=np.intp)
    return Engine(charm, short, str(charm.featurevec_version), names, short_index)


def get_engine() -> Engine:
    """The process's engine, loaded on first use (loading takes a fraction of a second)."""
    global _ENGINE
    with _LOCK:
        if _ENGINE is None:
            _ENGINE = _load()
        return _ENGINE
