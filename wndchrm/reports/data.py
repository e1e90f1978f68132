"""The one structure every report is drawn from: the JSON beside the HTML, so both show the same numbers."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from wndchrm.classifier import interpolate
from wndchrm.classifier.evaluation import SplitResult, TestResult
from wndchrm.classifier.predict import ImageResult
from wndchrm.reports import stats

#: The JSON format: 3 added every section of wndchrm's HTML report to 2's figures.
FORMAT_VERSION = 3


def num(value: float) -> float | None:
    """JSON has no Infinity/NaN (a normalisation factor can overflow, 0/0 is NaN): null instead."""
    return float(value) if math.isfinite(value) else None


def matrix(values: Any) -> list[list[float | None]]:
    return [[num(float(v)) for v in row] for row in values]


def _label(classes: list[str], index: int) -> str | None:
    return classes[index] if index >= 0 else None


def _image(r: ImageResult, classes: list[str]) -> dict[str, Any]:
    return {
        "path": r.path,
        "actual": _label(classes, r.actual),
        "given": r.given or None,
        "predicted": _label(classes, r.predicted),
        "correct": None if r.actual < 0 else bool(r.actual == r.predicted),
        "norm_factor": num(r.norm_factor),
        "probabilities": dict(zip(classes, (num(float(p)) for p in r.probabilities), strict=False)),
        "value": None if r.value is None else num(r.value),
        "actual_value": None if r.actual_value is None else num(r.actual_value),
    }


def _class_counts(classes: list[str], labels: list[int]) -> list[int]:
    return [labels.count(c) for c in range(len(classes))]


def _split(result: TestResult, split: SplitResult, names: list[str], image_map: bool) -> dict[str, Any]:
    classes = result.classes
    confusion, probability = result.split_matrices(split)
    with np.errstate(invalid="ignore", divide="ignore"):
        similarity = probability / np.diag(probability)[:, None]
    known = [r for r in split.images if r.actual >= 0]
    correct = sum(r.actual == r.predicted for r in known)
    pearson = split.pearson(classes)
    class_accuracy = [confusion[c, c] / confusion[c].sum() if confusion[c].sum() else math.nan
                      for c in range(len(classes))]
    body: dict[str, Any] = {
        "accuracy": num(split.accuracy),
        "known": len(known),
        "correct": int(correct),
        "p_value": num(stats.chance_p_value(int(correct), len(known), len(classes))),
        "class_accuracy_mean": num(float(np.mean(class_accuracy))),
        "class_accuracy_spread": num(max((abs(a - split.accuracy) for a in class_accuracy), default=math.nan)),
        "pearson": None if pearson is None else dict(zip(("correlation", "p_value", "mean_abs_difference"),
                                                          (num(v) for v in pearson), strict=True)),
        "weight_file_distance": split.weight_distance,
        "confusion_matrix": confusion.tolist(),
        "similarity_matrix": matrix(similarity),
        "class_probability_matrix": matrix(probability),
        "train": split.train_paths,
        "test": [_image(r, classes) for r in split.images],
    }
    if split.scores is not None and split.weights is not None and len(names) == len(split.scores):
        body["features_computed"] = len(names)
        body["selected_features"] = stats.selected_features(split.scores, split.weights, names)
        body["feature_families"] = stats.family_scores(split.scores, names)
    if image_map and split.images:
        body["image_distances"] = matrix(stats.image_distances(np.vstack([r.probabilities for r in split.images])))
    return body


def _overall(result: TestResult, splits: list[dict[str, Any]]) -> dict[str, Any]:
    tested = sum(s["known"] for s in splits)
    correct = sum(s["correct"] for s in splits)
    wilson = stats.uses_wilson(correct, tested)
    centre, half = stats.interval(correct, tested, wilson)
    pearsons = [s["pearson"] for s in splits if s["pearson"] and s["pearson"]["correlation"]]
    body: dict[str, Any] = {
        "tested": tested, "correct": correct, "accuracy": num(result.mean_accuracy),
        "p_value": num(stats.chance_p_value(correct, tested, len(result.classes))),
        "interval_method": "wilson" if wilson else "normal",
        "accuracy_interval": [num(centre), num(half)],
        "pearson": None,
    }
    if pearsons:  # wndchrm sums the splits that have one and divides by every split
        body["pearson"] = {key: num(sum(p[key] or 0.0 for p in pearsons) / len(splits))
                           for key in ("correlation", "p_value", "mean_abs_difference")}
    return body


def _per_class(result: TestResult) -> list[dict[str, Any]]:
    """Each class's accuracy and 95% interval; the method is chosen per class by its own counts (wndchrm
    applies the overall choice to every class, giving e.g. 0.5 +/- 0.69 for a class of 2 images)."""
    rows = []
    for c, name in enumerate(result.classes):
        tested, correct = int(result.confusion[c].sum()), int(result.confusion[c, c])
        wilson = stats.uses_wilson(correct, tested)
        centre, half = stats.interval(correct, tested, wilson)
        rows.append({"class": name, "tested": tested, "correct": correct,
                     "accuracy": num(correct / tested) if tested else None, "interval": [num(centre), num(half)],
                     "interval_method": "wilson" if wilson else "normal"})
    return rows


def tile_area_accuracy(result: TestResult, cols: int, rows: int) -> list[list[float | None]] | None:
    """``-t#``: per tile position (rows x cols), the share of test images whose tile there was classified
    right, averaged over the splits (wndchrm divides by every test image, and averages split 1 N times)."""
    per_split = []
    for split in result.splits:
        hits = np.zeros(cols * rows)
        for r in split.images:
            if r.tiles is not None and len(r.tiles.predicted) == cols * rows:
                hits += np.asarray(r.tiles.predicted) == r.actual
        per_split.append(hits / len(split.images) if split.images else hits * math.nan)
    if not per_split:
        return None
    return matrix(np.mean(per_split, axis=0).reshape(rows, cols))


def dataset_summary(classes: list[str], labels: list[int]) -> list[dict[str, Any]]:
    """Each class with its value (numeric labels) and image count; unknown images as class None."""
    numeric = interpolate.labels_numeric(classes)
    rows: list[dict[str, Any]] = [
        {"class": name, "value": num(interpolate.c_atof(name)) if numeric else None, "images": count}
        for name, count in zip(classes, _class_counts(classes, labels), strict=True)
    ]
    if labels.count(-1):
        rows.append({"class": None, "value": None, "images": labels.count(-1)})
    return rows


def report_data(results: list[TestResult], meta: dict[str, Any], names: list[str],
                train_labels: dict[str, int], image_map: bool = False) -> dict[str, Any]:
    """Every figure of the run: what the JSON holds and the HTML shows.

    ``meta`` adds the command, dataset summary etc.; ``train_labels`` maps training image paths to class
    indices; ``image_map`` (``-p#``) adds each split's test-image distances.
    """
    result = results[0]
    classes = result.classes
    splits = [_split(result, s, names, image_map) for s in result.splits]
    overall = _overall(result, splits)
    per_image = [(r.actual, r.probabilities) for s in result.splits for r in s.images if r.actual >= 0]
    means, halves = stats.probability_intervals(per_image, len(classes))
    first = result.splits[0]
    weights = [s.weights for s in result.splits if s.weights is not None and len(s.weights) == len(names)]
    return {
        "version": FORMAT_VERSION,
        "generated": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        **meta,
        "classes": classes,
        "class_values": [num(v) for v in interpolate.label_values(classes)]
        if interpolate.labels_numeric(classes) else None,
        "continuous": result.continuous,
        "images_per_split": {
            "training": _class_counts(classes, [train_labels.get(p, -1) for p in first.train_paths]),
            "testing": _class_counts(classes, [r.actual for r in first.images]),
        },
        "average_accuracy": num(result.mean_accuracy),
        "accuracies": [num(a) for a in result.accuracies],
        "overall": overall,
        "confusion_matrix": result.confusion.tolist(),
        "per_class": _per_class(result),
        "similarity_matrix": matrix(result.similarity),
        "class_probability_matrix": matrix(result.class_probability),
        "class_probability_observed": matrix(means),
        "class_probability_interval": matrix(halves),
        "top_features": stats.top_features(weights, names) if weights else [],
        "tile_area_accuracy": tile_area_accuracy(result, *meta["tile_areas"]) if meta.get("tile_areas") else None,
        "class_distances": matrix(stats.class_distances(result.similarity, result.class_probability,
                                                        int(meta.get("distance_method", 5)))),
        "splits": splits,
        "feature_groups": [{"left_out": r.left_out, "average_accuracy": num(r.mean_accuracy)} for r in results[1:]],
    }

