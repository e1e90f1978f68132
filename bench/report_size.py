"""Size and load time of the HTML report of a test with 1,000 test images.

    python bench/report_size.py [--images 1000] [--classes 10] [--splits 1] [--out DIR]

Builds the run's results directly (10 classes with numeric labels, each image's probabilities drawn
near its own class, 2,895 feature scores per split) with a real 64x64 16-bit TIFF per test image for
its thumbnail, writes the report as the worker does (report_data, then the HTML), and loads it in
headless chromium through the DevTools protocol, timing navigation to the load event. Prints the size
in MB, the time to write it and the load time (best of three); without chromium, the load time is left out
and the output says so. Goals: under 5 MB, under 2 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "wndchrm")]

from report_browser import Browser, chromium  # noqa: E402

from wndchrm import reports  # noqa: E402
from wndchrm.classifier.evaluation import SplitResult, TestResult  # noqa: E402
from wndchrm.classifier.predict import ImageResult  # noqa: E402

FEATURES = 2895


def _images(root: Path, count: int, classes: int, rng: np.random.Generator) -> list[tuple[str, int]]:
    x = np.mgrid[0:64, 0:64][1]
    found = []
    for k in range(count):
        label = k % classes
        pixels = 2000 + 1500 * np.sin(x * (label + 1) / 10.0) + rng.normal(0, 300, (64, 64))
        path = f"set/{label + 1}/img{k:04d}.tif"
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(root / path, np.clip(pixels, 0, 65535).astype(np.uint16))
        found.append((path, label))
    return found


def _split(images: list[tuple[str, int]], classes: list[str], rng: np.random.Generator) -> SplitResult:
    results = []
    for path, label in images:
        weights = rng.dirichlet(np.ones(len(classes)) * 0.3)
        weights[label] += 1.5
        probabilities = weights / weights.sum()
        predicted = int(np.argmax(probabilities))
        value = float(probabilities @ np.arange(1, len(classes) + 1))
        results.append(ImageResult(path, label, predicted, probabilities, float(rng.uniform(1e-30, 1e-28)), value))
    scores = rng.gamma(1.0, 5.0, FEATURES)
    weights = np.where(scores >= np.quantile(scores, 0.85), scores, 0.0)
    return SplitResult([f"train/{k}.tif" for k in range(len(images))], results, None, scores, weights)


def build(root: Path, count: int, n_classes: int, n_splits: int) -> Path:
    """Write the report of a synthetic run under ``root``; return the HTML's path."""
    rng = np.random.default_rng(1)
    classes = [str(k) for k in range(1, n_classes + 1)]
    images = _images(root, count, n_classes, rng)
    result = TestResult(classes, [_split(images, classes, rng) for _ in range(n_splits)])
    names = [f"Feature Family {k // 24} () [{k % 24}]" for k in range(FEATURES)]
    meta = {"command_name": "test", "program": "bench", "command": "wndchrm test set report.html",
            "dataset": "set", "testset": None, "classifier": "WND-5", "distance_method": 5,
            "dataset_summary": [{"class": c, "value": float(c), "images": count // n_classes} for c in classes]}
    data = reports.report_data([result], meta, names, {})
    page = reports.html_report(data, "bench", reports.thumbnails([p for p, _ in images], root))
    out = root / "report.html"
    out.write_text(page)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--splits", type=int, default=1)
    parser.add_argument("--out", type=Path, help="keep the report in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = args.out or Path(scratch)
        start = time.monotonic()
        page = build(root, args.images, args.classes, args.splits)
        written = time.monotonic() - start
        loads = []
        if chromium() is not None:
            with Browser() as browser:
                loads = [browser.load(page) for _ in range(3)]
        size = page.stat().st_size / 1e6
    print(f"report of {args.images} test images, {args.classes} classes, {args.splits} split(s)")
    print(f"size: {size:.2f} MB (goal under 5)")
    print(f"written in {written:.1f} s (features aside)")
    if loads:
        best = min(load.seconds for load in loads)
        print(f"load in headless chromium: {best:.2f} s best of 3 (goal under 2); "
              f"console errors: {len(loads[0].errors)}")
    else:
        print("load in headless chromium: left out, chromium is not installed (apt-get install chromium)")


if __name__ == "__main__":
    main()
