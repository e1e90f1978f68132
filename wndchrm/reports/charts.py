"""The report's pictures, each a PNG ``data:`` URI so the HTML stays one self-contained file."""

from __future__ import annotations

import base64
import io
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from depqueue import BadJob
from wndchrm.features.images import read_image

log = logging.getLogger(__name__)

#: Thumbnail edge in pixels: enough to recognise an image, small enough for 1,000 in one page.
THUMBNAIL_PIXELS = 40
#: Percentiles a thumbnail's contrast is stretched between (16-bit microscopy is mostly dark).
STRETCH = (0.5, 99.5)


def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display on a worker
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=90)


def _uri(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def heat_map(cells: list[list[Any]], classes: list[str], title: str, spec: str) -> str:
    """A matrix (rows actual, columns predicted class) as a heat map with its values printed in the cells."""
    values = np.array([[math.nan if v is None else float(v) for v in row] for row in cells], dtype=np.float64)
    size = 2.2 + 0.42 * len(classes)
    figure = _figure(size + 0.6, size)
    axes = figure.add_subplot()
    image = axes.imshow(np.nan_to_num(values, nan=0.0), cmap="Blues")
    figure.colorbar(image, ax=axes, shrink=0.7)
    ticks = range(len(classes))
    axes.set_xticks(ticks, classes, rotation=45, ha="right", fontsize=8)
    axes.set_yticks(ticks, classes, fontsize=8)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("actual class")
    axes.set_title(title, fontsize=10)
    top = np.nanmax(values) if np.isfinite(values).any() else 0.0
    if len(classes) <= 12:
        for (row, col), value in np.ndenumerate(values):
            text = "" if math.isnan(value) else format(value, spec)
            axes.text(col, row, text, ha="center", va="center", fontsize=7,
                      color="white" if value > top / 2 else "black")
    figure.tight_layout()
    return _uri(figure)


def dendrogram(distances: list[list[Any]], classes: list[str], method: int) -> str | None:
    """The classes clustered by the ``-P`` distance (average linkage), or None for fewer than 3 classes."""
    from scipy.cluster.hierarchy import dendrogram as draw
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    if len(classes) < 3:
        return None
    values = np.array([[math.nan if v is None else float(v) for v in row] for row in distances])
    finite = values[np.isfinite(values)]
    values = np.nan_to_num(values, nan=float(finite.max()) if finite.size else 1.0)
    values = np.clip((values + values.T) / 2, 0.0, None)
    np.fill_diagonal(values, 0.0)
    tree = linkage(squareform(values, checks=False), method="average")
    figure = _figure(6.0, 1.0 + 0.3 * len(classes))
    axes = figure.add_subplot()
    draw(tree, labels=classes, orientation="right", ax=axes, color_threshold=0)
    axes.set_xlabel(f"class distance (-P{method})")
    figure.tight_layout()
    return _uri(figure)


def family_bars(families: list[dict[str, Any]], shown: int = 20) -> str | None:
    """Mean score of the highest-scoring feature families, as horizontal bars."""
    if not families:
        return None
    rows = families[:shown][::-1]
    figure = _figure(7.0, 1.0 + 0.25 * len(rows))
    axes = figure.add_subplot()
    axes.barh(range(len(rows)), [row["mean"] for row in rows], color="#4a7ab5")
    axes.set_yticks(range(len(rows)), [row["name"] for row in rows], fontsize=7)
    axes.set_xlabel("mean score of the family's features")
    figure.tight_layout()
    return _uri(figure)


def value_scatter(actual: list[float], predicted: list[float], correlation: float | None) -> str:
    """Interpolated against actual value, with the diagonal and Pearson r in the title."""
    figure = _figure(4.5, 4.2)
    axes = figure.add_subplot()
    axes.scatter(actual, predicted, s=12, alpha=0.6, color="#4a7ab5")
    low, high = min(actual + predicted), max(actual + predicted)
    axes.plot([low, high], [low, high], color="#999", linewidth=1)
    axes.set_xlabel("actual value")
    axes.set_ylabel("interpolated value")
    axes.set_title("Pearson r = " + ("n/a" if correlation is None else f"{correlation:.3f}"), fontsize=10)
    figure.tight_layout()
    return _uri(figure)


def image_map(distances: list[list[Any]], labels: list[str]) -> str:
    """``-p#``: the test images' distance matrix, images ordered by actual class."""
    values = np.array([[math.nan if v is None else float(v) for v in row] for row in distances])
    order = np.argsort(np.array(labels), kind="stable")
    figure = _figure(5.0, 4.5)
    axes = figure.add_subplot()
    image = axes.imshow(values[np.ix_(order, order)], cmap="viridis_r")
    figure.colorbar(image, ax=axes, shrink=0.7, label="distance (0 nearest, 1 farthest)")
    axes.set_xlabel("test image (by actual class)")
    axes.set_ylabel("test image (by actual class)")
    figure.tight_layout()
    return _uri(figure)


def stretched(pixels: NDArray[np.float64]) -> NDArray[np.uint8]:
    """8-bit grey with the contrast stretched between percentiles (16-bit images look black otherwise)."""
    low, high = np.percentile(pixels, STRETCH)
    scaled = (pixels - low) / (high - low) if high > low else np.zeros_like(pixels)
    return np.asarray(np.clip(scaled * 255.0 + 0.5, 0, 255), dtype=np.uint8)


def thumbnail(path: Path) -> str | None:
    """A small PNG of the image, or None when it cannot be read (a report never fails for a picture)."""
    from PIL import Image

    try:
        pixels = read_image(path).pixels
    except (BadJob, OSError) as exc:
        log.info("no thumbnail for %s: %s", path, exc)
        return None
    picture = Image.fromarray(stretched(pixels), mode="L")
    picture.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
