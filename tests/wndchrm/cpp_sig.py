"""C++ ``.sig`` fixtures and the rule the feature tests compare values by.

A ``.sig`` is ``<class>\\t<version>``, the image path, then ``value\\tname`` lines (``%.8g``); the
fixtures keep them gzipped. Values are compared as ``tests/wndchrm/test_features_cpp.py`` compares
them: ``numpy.isclose(ours, cpp, rtol=1e-4, atol=1e-9)``, i.e. within 1e-4 of the C++ value plus an
absolute floor of 1e-9 for values at or near 0; NaN (which wndchrm prints as ``-nan``) equals NaN.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

RTOL, ATOL = 1e-4, 1e-9


def read_sig(path: Path) -> dict[str, float]:
    """The values of a (gzipped) C++ ``.sig`` by feature name, in the file's order."""
    with gzip.open(path, "rt") as stream:
        lines = stream.read().splitlines()[2:]
    return {name: float(value) for value, name in (line.split("\t", 1) for line in lines)}


def sig_version(path: Path) -> str:
    """The feature-vector version a ``.sig`` declares on its first line (4.2 long, 4.4 long colour ...)."""
    with gzip.open(path, "rt") as stream:
        return stream.readline().split("\t")[1].strip()


def disagreements(ours: NDArray[np.float64], names: list[str], cpp: dict[str, float]) -> list[str]:
    """The features of ``names`` whose values differ from the C++ ones by the rule above."""
    theirs = np.array([cpp[name] for name in names])
    close = np.isclose(ours, theirs, rtol=RTOL, atol=ATOL, equal_nan=True)
    return [f"{name}: ours {a!r}, C++ {b!r}" for name, a, b, ok in zip(names, ours, theirs, close, strict=True)
            if not ok]
