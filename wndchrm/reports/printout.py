"""What wndchrm 1.60 prints for ``test`` and ``classify`` (its stdout from the first split on), as text.

Per split: a ``----------`` line, the column header, one line per image (``%.3g`` normalisation
factor, ``%.3f`` probabilities, actual and predicted class, ``%.3f`` interpolated value); then the
average accuracy and the confusion, similarity and class probability matrices in PrintConfusion's
fixed-width layout. An image of unknown class shows its label (empty if unlabelled) followed by ``*``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from wndchrm.classifier.evaluation import TestResult
from wndchrm.classifier.predict import ImageResult

SEPARATOR = "----------"


def c_float(value: float, spec: str) -> str:
    """printf's rendering, including glibc's ``nan``/``-nan``/``inf`` spellings."""
    if math.isnan(value):
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return format(value, spec)


def header(classes: list[str], numeric: bool, continuous: bool) -> str:
    if continuous:
        return "image\tact. val.\tpred. val."
    columns = ["image", "norm. fact.", *(f"p({c})" for c in classes), "act. class", "pred. class"]
    return "\t".join(columns + (["pred. val."] if numeric else []))


def image_lines(r: ImageResult, classes: list[str], continuous: bool, tile_lines: bool = True) -> list[str]:
    """An image's line, after one line per tile if it has several (from wndchrm's default verbosity, 2)."""
    count = len(r.tile_values) if r.tile_values is not None else (len(r.tiles.norm_factor) if r.tiles else 1)
    lines = [_tile_line(r, k, count, classes, continuous) for k in range(count)] if count > 1 and tile_lines else []
    return [*lines, _image_line(r, classes, count, continuous)]


def _actual(r: ImageResult, classes: list[str]) -> str:
    return classes[r.actual] if r.actual >= 0 else f"{r.given}*"


def _tile_line(r: ImageResult, k: int, count: int, classes: list[str], continuous: bool) -> str:
    name = f"{r.path} ({k + 1}/{count})"
    value = float(r.tile_values[k]) if r.tile_values is not None else None
    if continuous:
        actual = c_float(r.actual_value, ".3g") if r.actual_value is not None else "N/A"
        return f"{name}\t{actual}\t{c_float(float('nan') if value is None else value, '.3g')}"
    assert r.tiles is not None
    probabilities = "".join(c_float(float(p), ".3f") + "\t" for p in r.tiles.probabilities[k])
    predicted = int(r.tiles.predicted[k])
    line = (f"{name}\t{c_float(float(r.tiles.norm_factor[k]), '.3g')}\t{probabilities}{_actual(r, classes)}\t"
            f"{classes[predicted] if predicted >= 0 else ''}")
    return line + (f"\t{c_float(value, '.3f')}" if value is not None else "")


def _image_line(r: ImageResult, classes: list[str], tiles: int, continuous: bool) -> str:
    name = r.path + (" (AVG)" if tiles > 1 else "")
    if continuous:
        actual = c_float(r.actual_value, "f") if r.actual_value is not None else "N/A"
        value = float("nan") if r.value is None else r.value
        line = f"{name}\t{c_float(0.0, '.3f')}\t{actual}\t{c_float(value, 'f')}"
        if r.actual_value is not None:
            line += "\t" + c_float(abs((r.actual_value - value) / r.actual_value) if r.actual_value else math.inf, "f")
        return line
    probabilities = "".join(c_float(float(p), ".3f") + "\t" for p in r.probabilities)
    predicted = classes[r.predicted] if r.predicted >= 0 else ""
    line = f"{name}\t{c_float(r.norm_factor, '.3g')}\t{probabilities}{_actual(r, classes)}\t{predicted}"
    return line + (f"\t{c_float(r.value, '.3f')}" if r.value is not None else "")


def matrix(classes: list[str], cells: NDArray[np.float64] | NDArray[np.int64], counts: bool,
           unknown: list[float] | None = None) -> list[str]:
    """TrainingSet::PrintConfusion: 18-wide columns; counts get totals and per-class accuracy; an
    UNKNOWN row when it has a value above 0."""
    head = f"{' ':>18}" + "".join(f"{c:>18}" for c in classes)
    lines = [head + (f"{'Total Tested':>18}{'Per-Class Accuracy':>20}" if counts else "")]
    for index, name in enumerate(classes):
        row = cells[index]
        if counts:
            total = int(row.sum())
            accuracy = row[index] / total if total else -math.nan  # C's 0/0
            body = "".join(f"{int(v):>18}" for v in row) + f"{total:>18}{' ':>13}{c_float(accuracy, '1.5f')}"
        else:
            body = "".join(f"{' ':>11}{c_float(float(v), '1.5f')}" for v in row)
        lines.append(f"{name:>18}{body}")
    if unknown is not None and any(v > 0 for v in unknown):
        cells_text = (f"{int(v):>18}" if counts else f"{' ':>11}{c_float(v, '1.5f')}" for v in unknown)
        lines.append(f"{'UNKNOWN':>18}" + "".join(cells_text))
    return [*lines, ""]


def split_matrices(result: TestResult, index: int) -> list[str]:
    """What wndchrm prints after each split at verbosity 3 and above: its two matrices and accuracy.

    Images of unknown class make an UNKNOWN row: their predictions, and (wndchrm's indexing) the
    summed probabilities of the 2nd to last class, then 0.
    """
    split = result.splits[index]
    if result.continuous:
        found = split.pearson(result.classes)
        return ["", f"Pearson Correlation: {c_float(found[0] if found else 0.0, 'f')} ", ""]
    confusion, probability = result.split_matrices(split)
    with np.errstate(invalid="ignore", divide="ignore"):
        similarity = probability / np.diag(probability)[:, None]
    unknown = [r for r in split.images if r.actual < 0]
    predicted = [float(sum(r.predicted == c for r in unknown)) for c in range(len(result.classes))]
    sums = [float(sum(r.probabilities[c] for r in unknown)) for c in range(1, len(result.classes))] + [0.0]
    lines = ["", *matrix(result.classes, confusion, True, predicted)]
    lines += matrix(result.classes, similarity, False, sums)
    return [*lines, "", f"Accuracy: {c_float(split.accuracy, 'f')} "]


def split_block(result: TestResult, index: int, numeric: bool, verbosity: int) -> list[str]:
    """A split's lines: separator, then (verbosity 1+) header and images, (2+) tiles, (3+) matrices."""
    lines = ["", SEPARATOR]
    if verbosity >= 1:
        lines.append(header(result.classes, numeric, result.continuous))
        for r in result.splits[index].images:
            lines += image_lines(r, result.classes, result.continuous, verbosity >= 2)
    if verbosity > 2 and result.left_out is None:
        lines += split_matrices(result, index)
    return lines


def summary(result: TestResult) -> list[str]:
    """The lines after the last split: the average and the three matrices."""
    prefix = f"Accuracy assessment without using feature group '{result.left_out}' - " if result.left_out else ""
    count = len(result.splits)
    if result.continuous:
        correlations = [p[0] if (p := s.pearson(result.classes)) else 0.0 for s in result.splits]
        return ["", SEPARATOR, f"{prefix}Average Pearson Correlation ({count} splits): "
                + c_float(float(np.mean(correlations)), "f"), "", SEPARATOR]
    lines = ["", SEPARATOR, f"{prefix}Average accuracy ({count} splits): {c_float(result.mean_accuracy, 'f')}", ""]
    lines += ["Confusion Matrix (sum of all splits)", *matrix(result.classes, result.confusion, True), ""]
    lines += ["Average Similarity Matrix", *matrix(result.classes, result.similarity, False), ""]
    lines += ["Average Class Probability Matrix", *matrix(result.classes, result.class_probability, False), ""]
    return [*lines, SEPARATOR]


def printout(results: list[TestResult], verbosity: int = 2) -> str:
    """The whole text for one run, or for ``-A`` the run with every feature and one per group left out.

    ``verbosity`` is wndchrm's ``-sN`` (default 2); at 1 it prints no summary, as wndchrm does.
    """
    lines: list[str] = []
    for result in results:
        numeric = any(r.value is not None for s in result.splits for r in s.images)
        for index in range(len(result.splits)):
            lines += split_block(result, index, numeric, verbosity)
        if verbosity != 1:
            lines += summary(result)
    return "\n".join(lines) + "\n"
