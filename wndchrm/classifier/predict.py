"""Per image results as wndchrm 1.60's TrainingSet::ClassifyImage forms them from its tiles.

An image's marginal probabilities and normalisation factor are the means over its tiles. The predicted
class is the most probable one; with ``-qN`` the N most probable classes are tried in turn and the image
counts as correct if its class is among them (the class printed is then its own, else the N-th). With
numeric class labels (see :mod:`interpolate`) the image's value is ``sum_c p(c) * value(c)``.

``-t#`` classifies each tile position with a model trained on that position's tiles only; ``-t#^``
keeps, per image, only the tile whose predicted class is most clearly ahead (the largest ratio of its
probability to the sum of the others). ``-C`` predicts a continuous value per image instead of a class:
the mean over tiles of each tile's value from its ``-q`` nearest training tiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from depqueue import BadJob
from wndchrm.classifier import interpolate, wnd

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]


@dataclass(frozen=True)
class Settings:
    """What ClassifyImage needs besides the models: method, rank, tile use, labels."""

    classes: list[str]
    #: The test set's own labels, which wndchrm uses for the per-tile interpolated values.
    test_classes: list[str] | None = None
    wnn: bool = False
    rank: int = 1
    max_tile: bool = False
    continuous: bool = False


@dataclass(frozen=True)
class ImageResult:
    """One classified image. ``actual``/``predicted`` are class indices, -1 for none (unknown)."""

    path: str
    actual: int
    predicted: int
    probabilities: FloatArray
    norm_factor: float
    #: The interpolated value (numeric labels) or, with ``-C``, the predicted value.
    value: float | None = None
    #: With ``-C``: the image's own value.
    actual_value: float | None = None
    #: The image's own label when it is not a training class ("" if unlabelled).
    given: str = ""
    #: Each tile's own result, which wndchrm prints before an image of several tiles.
    tiles: wnd.TileResult | None = None
    #: Each tile's value: interpolated with the test set's labels, or with ``-C`` predicted.
    tile_values: FloatArray | None = None


def ranked_prediction(probabilities: FloatArray, actual: int, rank: int, fallback: int) -> int:
    """ClassifyImage's choice among the ``rank`` most probable classes (``fallback`` if none is > 0)."""
    predicted = fallback
    tried = np.zeros(len(probabilities), dtype=bool)
    for _ in range(max(1, rank)):
        best = 0.0
        for index, p in enumerate(probabilities.tolist()):
            if p > best and not tried[index]:
                best, predicted = p, index
        if predicted >= 0:
            tried[predicted] = True
        if predicted == actual:
            break
    return predicted


def _most_confident_tile(tiles: wnd.TileResult, rows: range) -> int:
    best_row, best_ratio = rows[0], 0.0
    for row in rows:
        predicted = int(tiles.predicted[row])
        if predicted < 0:
            continue
        p = tiles.probabilities[row]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = float(np.float64(p[predicted]) / (np.nansum(p) - p[predicted]))
        if ratio > best_ratio:
            best_row, best_ratio = row, ratio
    return best_row


def _tile_results(models: list[wnd.Model], images: list[FloatArray], paths: list[str],
                  settings: Settings) -> wnd.TileResult:
    """Every tile of every image, in image then tile order; with one model per tile position if given."""
    counts = {len(tiles) for tiles in images}
    if len(models) > 1 and counts != {len(models)}:
        raise BadJob(f"-t# trains one model per tile position ({len(models)}), but the images to classify "
                     f"have {sorted(counts)} tile(s)")
    tile_paths = tuple(path for path, tiles in zip(paths, images, strict=True) for _ in range(len(tiles)))
    if len(models) == 1:
        return wnd.classify_tiles(models[0], np.concatenate(images), settings.wnn, tile_paths)
    per_position = [
        wnd.classify_tiles(model, np.stack([tiles[k] for tiles in images]), settings.wnn, tile_paths[k :: len(models)])
        for k, model in enumerate(models)
    ]

    def merged(name: str) -> NDArray[Any]:
        # position-major results to image-major rows: (images, positions, ...) flattened
        parts = [getattr(result, name) for result in per_position]
        return np.stack(parts, axis=1).reshape(-1, *parts[0].shape[1:])

    return wnd.TileResult(merged("probabilities"), merged("norm_factor"), merged("predicted"))


def classify_images(models: list[wnd.Model], images: list[FloatArray], paths: list[str],
                    actual: IndexArray, settings: Settings,
                    actual_values: FloatArray | None = None) -> list[ImageResult]:
    """Classify images (each a tiles x features matrix); ``models`` holds one model, or one per tile position.

    ``actual`` holds each image's class index (-1 unknown); with ``-C``, ``actual_values`` its value.
    """
    if not images:
        return []
    if settings.continuous:
        return _continuous_images(models, images, paths, actual, settings.rank, actual_values)
    tiles = _tile_results(models, images, paths, settings)
    numeric = interpolate.labels_numeric(settings.classes) and len(settings.classes) > 1
    results = []
    start = 0
    for index, image_tiles in enumerate(images):
        rows = range(start, start + len(image_tiles))
        start += len(image_tiles)
        if settings.max_tile:
            chosen = _most_confident_tile(tiles, rows)
            probabilities, fallback = tiles.probabilities[chosen], int(tiles.predicted[chosen])
        else:
            probabilities, fallback = tiles.probabilities[rows].mean(axis=0), int(tiles.predicted[rows[-1]])
        predicted = ranked_prediction(probabilities, int(actual[index]), settings.rank, fallback)
        value = float(interpolate.interpolated(probabilities, settings.classes)) if numeric else None
        own = wnd.TileResult(tiles.probabilities[rows], tiles.norm_factor[rows], tiles.predicted[rows])
        results.append(ImageResult(paths[index], int(actual[index]), predicted, probabilities,
                                   float(own.norm_factor.mean()), value, tiles=own,
                                   tile_values=_tile_values(own.probabilities, settings) if numeric else None))
    return results


def _tile_values(probabilities: FloatArray, settings: Settings) -> FloatArray:
    """ClassifyImage's per-tile value: p(c) times the value of the test set's c-th label (0 past its end)."""
    labels = settings.test_classes if settings.test_classes is not None else settings.classes
    values = [interpolate.c_atof(labels[c]) if c < len(labels) else 0.0 for c in range(len(settings.classes))]
    return np.asarray(probabilities @ np.array(values), dtype=np.float64)


def _continuous_images(models: list[wnd.Model], images: list[FloatArray], paths: list[str],
                       actual: IndexArray, neighbours: int, actual_values: FloatArray | None) -> list[ImageResult]:
    results = []
    for index, image_tiles in enumerate(images):
        if len(models) == 1:
            values = wnd.continuous_values(models[0], image_tiles, neighbours)
        else:
            values = np.array([wnd.continuous_values(model, image_tiles[k : k + 1], neighbours)[0]
                               for k, model in enumerate(models)])
        known = actual_values is not None and int(actual[index]) >= 0
        results.append(ImageResult(paths[index], int(actual[index]), -1, np.zeros(1), 0.0, float(values.mean()),
                                   float(actual_values[index]) if known and actual_values is not None else None,
                                   tile_values=values))
    return results
