"""wndchrm's ``.fit`` training-set text format, read and written as the C++ TrainingSet does.

Layout (TrainingSet::SaveToFile / ReadFromFile in wndchrm 1.60)::

    <class count>[<TAB><version>.<type>]    e.g. "2\t4.2"; no version means 1.0 (older files)
    <feature count>
    <sample count>
    <feature name>                          one line per feature
    <class label>                           class_count + 1 lines: "" for class 0 ("unknown"), then
                                            the classes in strcmp order (wndchrm refuses any other)
    <value> <value> ... <class index>       one line per sample (tile); class 0 is an unknown sample
    <image path>                            the sample's image (may be empty)

Files this project wrote before had the same layout with no version on the first line; they read as
version 1.0, as the C++ program reads them. wndchrm derives each class's numeric value from its label
with ``atof`` ("2cell" is 2.0): :attr:`FitFile.class_values`.

Files are written in the C++ program's 4.2 feature vector (:func:`as_cpp`), so ``wndchrm classify``
reads them. Values are written as SaveToFile writes them (an integral value as an integer, else ``%.8g``): the C++
reader's line buffer is 50,000 characters, which 2,919 features at 17 digits would overflow.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from depqueue import BadJob
from wndchrm.formats.names import is_42, to_42
from wndchrm.formats.outputs import write_atomic

#: The C++ reader's fgets buffer: a longer sample line is misread by wndchrm.
CPP_LINE_LIMIT = 50_000
#: The feature vector version wndchrm 1.60 computes, and its type by feature count (short, long, short
#: colour, long colour).
CPP_VERSION = 4
CPP_TYPES = {1059: 1, 2919: 2, 2199: 3, 4059: 4}
#: Label index of a sample of class 0 ("unknown") in :attr:`FitFile.labels`.
UNKNOWN = -1

_LEADING_NUMBER = re.compile(r"\s*[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf(?:inity)?|nan)", re.I)


@dataclass(frozen=True)
class FitFile:
    """A wndchrm training set.

    ``classes`` are the class labels (class 1 first; class 0, "unknown", is not listed); ``labels`` holds
    each sample's index into ``classes``, or :data:`UNKNOWN` for a class-0 sample. ``features`` is
    samples x features, one row per tile; ``paths`` the image of each row. ``version`` is the feature
    vector's (major, type) from the first line: (4, 2) long, (4, 1) short... (1, 0) when absent.
    """

    classes: list[str]
    feature_names: list[str]
    features: NDArray[np.float64]
    labels: NDArray[np.intp]
    paths: list[str]
    version: tuple[int, int] = field(default=(1, 0))

    @property
    def class_values(self) -> list[float]:
        """Each class label read as a number the way wndchrm's ``atof`` reads it (0.0 if it is not one)."""
        return [atof(label) for label in self.classes]


def atof(text: str) -> float:
    """C's ``atof``: the longest leading number (after blanks), 0.0 when there is none."""
    found = _LEADING_NUMBER.match(text)
    return float(found.group().strip()) if found else 0.0


def format_value(value: float) -> str:
    """One feature value as SaveToFile prints it: an integer if integral, else ``%.8g``."""
    if np.isfinite(value) and value == int(value) and abs(value) < 2**63:
        return str(int(value))
    return f"{value:.8g}"


def as_cpp(fit: FitFile) -> FitFile:
    """The same training set in the C++ program's 4.2 feature vector, for a file it can read.

    A v5 vector (CharmFeatures' names) gets 4.2's names and order; the 4.2 features v5 does not compute
    (Haralick [16] and [17]) are written as 0, which wndchrm scales to 0 and weighs 0 (no spread), so
    they change neither its classes nor its probabilities. A 4.2 vector is returned as it is.
    """
    if is_42(fit.feature_names):
        if fit.version[0] >= CPP_VERSION:
            return fit
        kind = CPP_TYPES.get(len(fit.feature_names), fit.version[1])
        return FitFile(fit.classes, fit.feature_names, fit.features, fit.labels, fit.paths, (CPP_VERSION, kind))
    names, features = to_42(fit.features, fit.feature_names)
    kind = CPP_TYPES.get(len(names), fit.version[1])
    return FitFile(fit.classes, names, features, fit.labels, fit.paths, (CPP_VERSION, kind))


def fit_text(fit: FitFile) -> str:
    """The whole file's text, as the C++ SaveToFile writes it."""
    major, kind = fit.version
    lines = [f"{len(fit.classes)}\t{major}.{kind}", str(len(fit.feature_names)), str(len(fit.paths))]
    lines += fit.feature_names
    lines += ["", *fit.classes]
    for row, label, image in zip(fit.features.tolist(), fit.labels.tolist(), fit.paths, strict=True):
        lines.append(" ".join(format_value(v) for v in row) + f" {label + 1}")
        lines.append(image)
    return "\n".join(lines) + "\n"


def write_fit(path: Path, fit: FitFile) -> None:
    """Write in the C++ program's feature vector (:func:`as_cpp`), atomically so no reader sees half."""
    write_atomic(path, fit_text(as_cpp(fit)))


def read_fit(path: Path, name: str) -> FitFile:
    """Parse a ``.fit`` file; BadJob naming the file and the cause if it is not one."""
    try:
        lines = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    except OSError as exc:
        raise BadJob(f"model {name!r} cannot be read: {exc}") from exc
    try:
        return parse_fit(lines)
    except (ValueError, IndexError) as exc:
        raise BadJob(f"model {name!r} is not a wndchrm .fit file: {exc}") from None


def _first_line(line: str) -> tuple[int, tuple[int, int]]:
    parts = line.split()
    try:
        if not 1 <= len(parts) <= 2:
            raise ValueError
        major, _, kind = (parts[1] if len(parts) == 2 else "1.0").partition(".")
        return int(parts[0]), (int(major), int(kind or 0))
    except ValueError:
        raise ValueError(f"line 1 is {line[:60]!r}, not '<class count>[<TAB><version>]'") from None


def _count(lines: list[str], index: int, what: str) -> int:
    try:
        return int(lines[index])
    except ValueError:
        raise ValueError(f"line {index + 1} is {lines[index][:60]!r}, not the {what} count") from None


def parse_fit(lines: list[str]) -> FitFile:
    """Parse the lines of a ``.fit`` file; ValueError saying what is wrong."""
    n_classes, version = _first_line(lines[0])
    n_features, n_samples = _count(lines, 1, "feature"), _count(lines, 2, "sample")
    if min(n_classes, n_features, n_samples) < 0:
        raise ValueError("negative count in the header")
    names = lines[3 : 3 + n_features]
    labels_at = 3 + n_features
    class_lines = lines[labels_at : labels_at + n_classes + 1]
    if len(names) != n_features or len(class_lines) != n_classes + 1:
        raise ValueError("header is shorter than its counts")
    if class_lines[0] != "":
        raise ValueError(f"line {labels_at + 1}: class 0 must be the empty (unknown) label")
    classes = class_lines[1:]
    if any(a >= b for a, b in itertools.pairwise(classes)):
        raise ValueError("class labels are not unique and in sorted order, as wndchrm requires")
    start = labels_at + n_classes + 1
    if len(lines) < start + 2 * n_samples - 1:
        raise ValueError(f"expected {n_samples} samples, the file ends early")
    features = np.empty((n_samples, n_features))
    labels = np.empty(n_samples, dtype=np.intp)
    paths: list[str] = []
    for i in range(n_samples):
        at = start + 2 * i
        features[i], labels[i] = _sample(lines[at], at + 1, n_features, n_classes)
        paths.append(lines[at + 1] if at + 1 < len(lines) else "")
    return FitFile(classes, names, features, labels, paths, version)


def _sample(line: str, number: int, n_features: int, n_classes: int) -> tuple[list[float], int]:
    values = line.split()
    if len(values) != n_features + 1:
        raise ValueError(f"line {number} has {len(values)} values, not {n_features} features and a class")
    try:
        row = [float(v) for v in values[:-1]]
        index = int(values[-1])
    except ValueError as exc:
        raise ValueError(f"line {number}: {exc}") from None
    if not 0 <= index <= n_classes:
        raise ValueError(f"line {number}: class index {index} out of range 0..{n_classes}")
    return row, index - 1
