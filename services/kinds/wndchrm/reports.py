"""The three reports of ``test``: wndchrm's text report, a JSON record, and a self-contained HTML page."""

from __future__ import annotations

import base64
import html
import io
import json
import math
from typing import Any

import numpy as np

from services.kinds.wndchrm.experiment import TestResult


def _num(value: float) -> float | None:
    # JSON has no Infinity/NaN; a normalisation factor can overflow, so it becomes null.
    return value if math.isfinite(value) else None


def _matrix(classes: list[str], cells: list[list[str]]) -> list[str]:
    return ["\t" + "\t".join(classes)] + [
        "\t".join([name, *row]) for name, row in zip(classes, cells, strict=True)
    ]


def text_report(result: TestResult, title: str, classifier: str) -> str:
    """wndchrm's plain-text layout: per-image lines per split, accuracies, the two matrices."""
    classes = result.classes
    out = [f"WND-CHARM test report: {title}", f"classifier: {classifier}", ""]
    header = "\t".join(["image", "norm. fact.", *(f"p({c})" for c in classes), "act. class", "pred. class"])
    for number, split in enumerate(result.splits, start=1):
        out += [f"Split {number}", header]
        for r in split.images:
            probs = "\t".join(f"{p:.3f}" for p in r.probabilities)
            out.append(f"{r.path}\t{r.norm_factor:.3g}\t{probs}\t{classes[r.actual]}\t{classes[r.predicted]}")
        correct = sum(r.actual == r.predicted for r in split.images)
        out += [f"Split {number} accuracy: {split.accuracy:.4f} ({correct}/{len(split.images)})", ""]
    spread = float(np.std(result.accuracies))
    average = f"{result.mean_accuracy:.4f} +/- {spread:.4f}"
    out += [f"Average accuracy over {len(result.splits)} split(s): {average}", ""]
    out += ["Confusion matrix (summed over splits; rows: actual class, columns: predicted class)"]
    out += _matrix(classes, [[str(int(v)) for v in row] for row in result.confusion])
    out += ["", "Average similarity matrix (rows: actual class, columns: mean class probability)"]
    out += _matrix(classes, [[f"{v:.3f}" for v in row] for row in result.similarity])
    return "\n".join(out) + "\n"


def json_report(result: TestResult, meta: dict[str, Any]) -> str:
    """Every split's training and test images, and every test image's probabilities and prediction."""
    classes = result.classes
    splits = [
        {
            "accuracy": split.accuracy,
            "train": split.train_paths,
            "test": [
                {
                    "path": r.path,
                    "actual": classes[r.actual],
                    "predicted": classes[r.predicted],
                    "norm_factor": _num(r.norm_factor),
                    "probabilities": dict(zip(classes, (float(p) for p in r.probabilities), strict=True)),
                }
                for r in split.images
            ],
        }
        for split in result.splits
    ]
    body = {
        **meta,
        "classes": classes,
        "average_accuracy": result.mean_accuracy,
        "accuracies": result.accuracies,
        "confusion_matrix": result.confusion.tolist(),
        "similarity_matrix": result.similarity.tolist(),
        "splits": splits,
    }
    return json.dumps(body, indent=1, allow_nan=False) + "\n"


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
