"""Helpers of the report tests: a 10-class dataset with numeric labels, and the HTML report's tables."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import tifffile

#: Classes of the numeric dataset: stripe frequency grows with the label, so values can be interpolated.
NUMERIC_LABELS = [str(k) for k in range(1, 11)]


def build_numeric_set(root: Path, per_class: int = 3, size: int = 48, labels: list[str] | None = None) -> Path:
    """``root/numeric/<label>/*.tif``: stripes of ``label`` cycles per image, with a little noise."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:size, 0:size]
    for label in labels or NUMERIC_LABELS:
        folder = root / "numeric" / label
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(per_class):
            angle = rng.uniform(0, np.pi)
            phase = (x * np.cos(angle) + y * np.sin(angle)) * 2 * np.pi * int(label) / size
            pixels = 120 + 90 * np.sin(phase) + rng.normal(0, 12, (size, size))
            tifffile.imwrite(folder / f"{label}_{k}.tif", np.clip(pixels, 0, 255).astype(np.uint8))
    return root / "numeric"


def shared_numeric_root(base: Path) -> Path:
    """One data root for the numeric set per test session (``base``: pytest's base temp folder), so its
    features, cached in that root, are computed once for every report test module."""
    root = base / "numeric-reports"
    if not (root / "numeric").exists():
        build_numeric_set(root)
    return root


class Tables(HTMLParser):
    """Every table's rows by id: each row a list of (cell tag, class attribute, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str, str]]]] = {}
        self.ids: dict[str, str] = {}
        self._table: str | None = None
        self._cell: tuple[str, str] | None = None
        self._text = ""
        self._id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table":
            self._table = attributes.get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell, self._text = (tag, attributes.get("class") or ""), ""
        elif attributes.get("id") and tag in ("b", "span"):
            self._id, self._text = attributes["id"], ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append((*self._cell, self._text.strip()))
            self._cell = None
        elif tag in ("b", "span") and self._id is not None:
            self.ids[self._id] = self._text.strip()
            self._id = None

    def handle_data(self, data: str) -> None:
        self._text += data


def parse_tables(page: str) -> Tables:
    parser = Tables()
    parser.feed(page)
    return parser
