"""The reports of ``test`` and ``classify``: wndchrm's text, a JSON record, a TSV, and a self-contained HTML page."""

from __future__ import annotations

import base64
import html
import io
import json
import math
from typing import Any

import numpy as np

from services.kinds.wndchrm.evaluation import SplitResult, TestResult
from services.kinds.wndchrm.predict import ImageResult
from services.kinds.wndchrm.printout import printout


def _num(value: float) -> float | None:
    # JSON has no Infinity/NaN; a normalisation factor can overflow, so it becomes null.
    return value if math.isfinite(value) else None


def text_report(results: list[TestResult], verbosity: int = 2) -> str:
    """What wndchrm prints for the run at ``-s`` ``verbosity``, from its first split on (see :mod:`printout`)."""
    return printout(results, verbosity)


def _label(classes: list[str], index: int) -> str | None:
    return classes[index] if index >= 0 else None


def _image(r: ImageResult, classes: list[str]) -> dict[str, Any]:
    return {
        "path": r.path,
        "actual": _label(classes, r.actual),
        "predicted": _label(classes, r.predicted),
        "norm_factor": _num(r.norm_factor),
        "probabilities": dict(zip(classes, (_num(float(p)) for p in r.probabilities), strict=False)),
        "value": None if r.value is None else _num(r.value),
        "actual_value": None if r.actual_value is None else _num(r.actual_value),
    }


def _split(split: SplitResult, classes: list[str]) -> dict[str, Any]:
    pearson = split.pearson(classes)
    return {
        "accuracy": _num(split.accuracy),
        "pearson": None if pearson is None else dict(zip(("correlation", "p_value", "mean_abs_difference"),
                                                          (_num(v) for v in pearson), strict=True)),
        "weight_file_distance": split.weight_distance,
        "train": split.train_paths,
        "test": [_image(r, classes) for r in split.images],
    }


def json_report(results: list[TestResult], meta: dict[str, Any]) -> str:
    """Every split's training and test images, and every test image's probabilities and prediction."""
    result = results[0]
    classes = result.classes

    def matrix(values: Any) -> list[list[float | None]]:
        return [[_num(float(v)) for v in row] for row in values]

    body = {
        **meta,
        "classes": classes,
        "continuous": result.continuous,
        "average_accuracy": _num(result.mean_accuracy),
        "accuracies": [_num(a) for a in result.accuracies],
        "confusion_matrix": result.confusion.tolist(),
        "similarity_matrix": matrix(result.similarity),
        "class_probability_matrix": matrix(result.class_probability),
        "splits": [_split(split, classes) for split in result.splits],
        "feature_groups": [{"left_out": r.left_out, "average_accuracy": _num(r.mean_accuracy)} for r in results[1:]],
    }
    return json.dumps(body, indent=1, allow_nan=False) + "\n"


def classify_tsv(result: TestResult) -> str:
    """One line per image: image, predicted class, normalisation factor, each class's probability, value."""
    classes = result.classes
    header = ["image", "predicted class", "norm. fact.", *(f"p({c})" for c in classes), "value"]
    lines = ["\t".join(header)]
    for r in result.splits[0].images:
        probabilities = [f"{p:.4f}" for p in r.probabilities]
        value = "" if r.value is None else f"{r.value:.4g}"
        predicted = _label(classes, r.predicted) or ""
        lines.append("\t".join([r.path, predicted, f"{r.norm_factor:.4g}", *probabilities, value]))
    return "\n".join(lines) + "\n"


def confusion_png(result: TestResult) -> bytes:
    """The summed confusion matrix as a PNG heat map with counts in the cells."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a worker
    from matplotlib.figure import Figure

    matrix = result.confusion
    size = 2.0 + 0.45 * len(result.classes)
    figure = Figure(figsize=(size, size), dpi=100)
    axes = figure.add_subplot()
    axes.imshow(matrix, cmap="Blues")
    ticks = range(len(result.classes))
    axes.set_xticks(ticks, result.classes, rotation=45, ha="right")
    axes.set_yticks(ticks, result.classes)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("actual class")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, col), count in np.ndenumerate(matrix):
        axes.text(col, row, str(count), ha="center", va="center",
                  color="white" if count > threshold else "black", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def html_report(result: TestResult, title: str, classifier: str) -> str:
    """A single page, image embedded as base64, so it can be mailed or archived as one file."""
    image = base64.b64encode(confusion_png(result)).decode("ascii")
    confusion = result.confusion
    rows = []
    for index, name in enumerate(result.classes):
        total = int(confusion[index].sum())
        accuracy = confusion[index, index] / total if total else float("nan")
        rows.append(f"<tr><td>{html.escape(name)}</td><td>{total}</td><td>{accuracy:.3f}</td></tr>")
    splits = "".join(
        f"<tr><td>{n}</td><td>{len(s.train_paths)}</td><td>{len(s.images)}</td><td>{s.accuracy:.3f}</td></tr>"
        for n, s in enumerate(result.splits, start=1)
    )
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif}} td,th{{padding:2px 8px;text-align:right}}</style></head>
<body><h1>WND-CHARM test: {html.escape(title)}</h1>
<p>Classifier {html.escape(classifier)}; average accuracy <b>{result.mean_accuracy:.3f}</b>
over {len(result.splits)} split(s).</p>
<h2>Confusion matrix (summed over splits)</h2>
<img alt="confusion matrix" src="data:image/png;base64,{image}">
<h2>Per-class accuracy</h2>
<table><tr><th>class</th><th>test images</th><th>accuracy</th></tr>{"".join(rows)}</table>
<h2>Splits</h2>
<table><tr><th>split</th><th>training images</th><th>test images</th><th>accuracy</th></tr>{splits}</table>
</body></html>
"""
