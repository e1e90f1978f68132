"""Colour features (``-l -c``) per image here against the C++ wndchrm, in the same run.

    .venv/bin/python bench/colour_vs_cpp.py [--wndchrm PATH] [--size 256] [--images 3] [--json FILE]
    .venv/bin/python bench/colour_vs_cpp.py --smoke

Per image, one process each, on 8-bit RGB crops (``--size`` square) of scikit-image's bundled CC0
photographs: the built-in engine computing wndchrm's whole ``-l -c`` vector (4,059 values: read,
CharmFeatures, Haralick [16] and [17] of twelve chains, the 1,140 colour values) in this process, and
the C++ ``wndchrm train -l -c -m`` on a folder holding just that image (its ``.sig`` written beside it),
and the same without options (the short set, 1,059 values) against the short set here.
Also printed, here only: the long grey set (``-l``, 2,919 values), the short set (1,059) and the maximal
correlation coefficient alone (the twelve chains of the long set). Goal: ``-l -c`` no slower than the
C++ program. Without a C++ binary (``--wndchrm``, ``WNDCHRM_BINARY`` or a ``wndchrm`` on the PATH that is not
this project's) the
C++ column is left out, and the output says so. ``--smoke``: one 48x48 image.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tifffile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testkit.cpp_wndchrm import cpp_wndchrm
from wndchrm.features.extract import compute_samples
from wndchrm.features.haralick import maximal_correlation_features
from wndchrm.features.images import read_image
from wndchrm.features.transforms import CHAINS, Image, apply_chain
from wndchrm.options import Options, parse

PHOTOS = ("astronaut", "coffee", "chelsea", "immunohistochemistry", "rocket")


def make_images(folder: Path, count: int, size: int) -> list[Path]:
    """8-bit RGB crops of the photographs, each in a folder of its own."""
    from skimage import data

    rng = np.random.default_rng(11)
    paths = []
    for k in range(count):
        photo = getattr(data, PHOTOS[k % len(PHOTOS)])()[..., :3]
        side = min(size, *photo.shape[:2])
        r, c = rng.integers(0, photo.shape[0] - side + 1), rng.integers(0, photo.shape[1] - side + 1)
        path = folder / f"image{k:02d}" / f"rgb-{k:02d}.tif"
        path.parent.mkdir(parents=True)
        tifffile.imwrite(path, np.ascontiguousarray(photo[r:r + side, c:c + side]), photometric="rgb")
        paths.append(path)
    return paths


def _options(*words: str) -> Options:
    return parse(["wndchrm", "check", *words, "x"]).options


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _mcc(image: Path) -> None:
    grey = read_image(image).pixels
    transformed: dict[str, Image] = {}
    for chain in CHAINS:
        maximal_correlation_features(apply_chain(grey, chain, transformed))


def time_here(image: Path) -> dict[str, float]:
    """Seconds of each set here, computed from the file each time (no cache)."""
    return {
        "colour_long": _timed(lambda: compute_samples(image, _options("-l", "-c"))),
        "long": _timed(lambda: compute_samples(image, _options("-l"))),
        "short": _timed(lambda: compute_samples(image, _options())),
        "mcc_long": _timed(lambda: _mcc(image)),
    }


def time_cpp(wndchrm: str, image: Path, scratch: Path, *words: str) -> float:
    """``wndchrm train <words> -m`` on the image's own folder; it exits 1 even on success, so the .sig
    is what tells success (removed after, so that the next run computes again)."""
    started = time.perf_counter()
    subprocess.run([wndchrm, "train", *words, "-m", str(image.parent), str(scratch / f"{image.stem}.fit")],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - started
    suffix = ("-c" if "-c" in words else "") + ("-l" if "-l" in words else "")
    sig = image.with_name(f"{image.stem}{suffix}.sig")
    if not sig.is_file() or not sig.stat().st_size:
        raise RuntimeError(f"wndchrm wrote no features for {image} ({' '.join(words) or 'short set'})")
    sig.unlink()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wndchrm", default=cpp_wndchrm(),
                        help="the C++ wndchrm 1.60 (default: WNDCHRM_BINARY, else a wndchrm on the PATH not ours)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--images", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="one 48x48 image")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.smoke:
        args.size, args.images = 48, 1
    report: dict[str, object] = {"load_before": os.getloadavg()[0], "size": args.size, "images": args.images}
    with tempfile.TemporaryDirectory() as temp:
        images = make_images(Path(temp) / "images", args.images, args.size)
        here = [time_here(image) for image in images]
        cpp: list[float] = []
        cpp_short: list[float] = []
        if args.wndchrm and Path(args.wndchrm).is_file():
            cpp = [time_cpp(args.wndchrm, image, Path(temp), "-l", "-c") for image in images]
            cpp_short = [time_cpp(args.wndchrm, image, Path(temp)) for image in images]
        else:
            where = f"no file {args.wndchrm}" if args.wndchrm else "none given (WNDCHRM_BINARY, --wndchrm, PATH)"
            print(f"C++ wndchrm column left out: {where}")
    report["load_after"] = os.getloadavg()[0]
    print(f"load average {report['load_before']:.2f} before, {report['load_after']:.2f} after")
    mean = {key: float(np.mean([t[key] for t in here])) for key in here[0]}
    line = f"{args.size}x{args.size} 8-bit RGB, -l -c (4,059 values): built-in {mean['colour_long']:6.2f} s/image"
    if cpp:
        report["colour_long_cpp_seconds"] = round(float(np.mean(cpp)), 3)
        line += (f"; C++ wndchrm {np.mean(cpp):6.2f} s/image; C++/built-in "
                 f"{np.mean(cpp) / mean['colour_long']:.2f}x (goal >= 1)")
    print(line + f" (n={len(images)})")
    if cpp_short:
        report["short_cpp_seconds"] = round(float(np.mean(cpp_short)), 3)
        print(f"  short set (1,059 values): built-in {mean['short']:.2f} s/image; C++ wndchrm "
              f"{np.mean(cpp_short):.2f} s/image; C++/built-in {np.mean(cpp_short) / mean['short']:.2f}x")
    print(f"  here only: -l {mean['long']:.2f} s, short set {mean['short']:.2f} s, maximal correlation "
          f"coefficient of the 12 long-set chains {mean['mcc_long']:.2f} s per image")
    report.update({f"{key}_builtin_seconds": round(value, 3) for key, value in mean.items()})
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
