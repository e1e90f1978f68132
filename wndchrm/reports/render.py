"""The reports of ``test`` and ``classify``: wndchrm's text, a JSON record, TSVs, and a self-contained HTML page.

The JSON and the HTML are both drawn from one structure (:func:`data.report_data`), whose
numbers are the ones the text (:mod:`printout`) prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wndchrm.classifier.evaluation import TestResult
from wndchrm.reports import charts
from wndchrm.reports.data import report_data
from wndchrm.reports.html import html_report
from wndchrm.reports.printout import printout

__all__ = ["classify_tsv", "html_report", "json_report", "report_data", "text_report", "thumbnails", "tsv_exports"]

#: What wndchrm's ``-p+`` writes into its ``tsv`` folder (TrainingSet::report), by file name.
TSV_FOLDER = "tsv"


def text_report(results: list[TestResult], verbosity: int = 2) -> str:
    """What wndchrm prints for the run at ``-s`` ``verbosity``, from its first split on (see :mod:`printout`)."""
    return printout(results, verbosity)


def json_report(data: dict[str, Any]) -> str:
    """The report structure as JSON (no NaN or Infinity: missing figures are null)."""
    return json.dumps(data, indent=1, allow_nan=False) + "\n"


def classify_tsv(result: TestResult) -> str:
    """One line per image: image, predicted class, normalisation factor, each class's probability, value."""
    classes = result.classes
    header = ["image", "predicted class", "norm. fact.", *(f"p({c})" for c in classes), "value"]
    lines = ["\t".join(header)]
    for r in result.splits[0].images:
        probabilities = [f"{p:.4f}" for p in r.probabilities]
        value = "" if r.value is None else f"{r.value:.4g}"
        predicted = classes[r.predicted] if r.predicted >= 0 else ""
        lines.append("\t".join([r.path, predicted, f"{r.norm_factor:.4g}", *probabilities, value]))
    return "\n".join(lines) + "\n"


def _tsv_matrix(classes: list[str], cells: list[list[Any]], spec: str) -> str:
    # wndchrm ends every cell, the header's too, with a tab; a missing figure is written as nan.
    lines = ["\t" + "".join(f"{c}\t" for c in classes)]
    for name, row in zip(classes, cells, strict=True):
        lines.append(f"{name}\t" + "".join(("nan" if v is None else format(v, spec)) + "\t" for v in row))
    return "\n".join(lines) + "\n"


def tsv_exports(data: dict[str, Any]) -> dict[str, str]:
    """``-p+``: the files wndchrm writes into ``tsv/`` beside the report, with its names and formats."""
    classes = data["classes"]
    return {
        "avg_confusion.tsv": _tsv_matrix(classes, data["confusion_matrix"], "d"),
        "avg_similarity.tsv": _tsv_matrix(classes, data["similarity_matrix"], ".2f"),
        "avg_class_prob.tsv": _tsv_matrix(classes, data["class_probability_observed"], ".4f"),
    }


def thumbnails(paths: list[str], root: Path) -> dict[str, str]:
    """A PNG data URI per readable image (paths relative to ``root``); unreadable ones are left out."""
    found: dict[str, str] = {}
    for path in dict.fromkeys(paths):
        uri = charts.thumbnail(root / path)
        if uri is not None:
            found[path] = uri
    return found
