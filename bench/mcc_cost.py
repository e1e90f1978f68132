"""CPU time of Haralick's maximal correlation coefficient (4.2's Haralick [16] and [17]) per image.

    .venv/bin/python bench/mcc_cost.py [--images 3] [--size 96] [--one-by-one] [--json FILE]

For each image, the twelve transform chains' images are made first (not timed); then one
``maximal_correlation_features_many`` call computes [16] and [17] of all twelve (48 Q matrices, four
directions each, up to 255 x 255), and its CPU time (``time.process_time``, so other processes' load
counts little) is the image's figure. ``--one-by-one`` times twelve ``maximal_correlation_features``
calls instead (each iterating only its own four Q matrices together). The images are crops of
scikit-image's bundled CC0 textures, so nothing is downloaded.

Before the matrices were iterated side by side, the exact (Eigen-order) eigenvalues took 11.6 to
13.6 s of CPU per image of about 100 x 100 pixels.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testkit.example_data import TEXTURES
from wndchrm.features import haralick, transforms


def crops(count: int, size: int) -> list[np.ndarray]:
    """``count`` random ``size`` x ``size`` crops spread over the textures, as float images."""
    from skimage import data

    rng = np.random.default_rng(3)
    images = []
    for k in range(count):
        photo = getattr(data, TEXTURES[k % len(TEXTURES)])()
        r, c = rng.integers(0, photo.shape[0] - size + 1), rng.integers(0, photo.shape[1] - size + 1)
        images.append(np.asarray(photo[r : r + size, c : c + size], dtype=np.float64))
    return images


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=3)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--one-by-one", action="store_true", help="one call per transformed image")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    seconds, tones = [], []
    for image in crops(args.images, args.size):
        cache: dict[str, transforms.Image] = {}
        chained = [transforms.apply_chain(image, chain, cache) for chain in transforms.CHAINS]
        tones.append(max(len(np.unique(haralick.quantise(c))) for c in chained))
        started = time.process_time()
        if args.one_by_one:
            for c in chained:
                haralick.maximal_correlation_features(c)
        else:
            haralick.maximal_correlation_features_many(chained)
        seconds.append(time.process_time() - started)
    figures = {"images": args.images, "size": args.size, "one_by_one": args.one_by_one,
               "cpu_s_per_image": round(statistics.mean(seconds), 3), "max_cpu_s": round(max(seconds), 3),
               "max_tones": max(tones), "load_before": round(load_before, 2),
               "load_after": round(os.getloadavg()[0], 2)}
    print(f"Haralick MCC of {len(transforms.CHAINS)} chains ({4 * len(transforms.CHAINS)} Q matrices, up to "
          f"{figures['max_tones']} x {figures['max_tones']}) on {args.images} image(s) of {args.size} x {args.size}"
          f"{', one call per chain' if args.one_by_one else ''}: {figures['cpu_s_per_image']} s CPU per image "
          f"(max {figures['max_cpu_s']} s; load average {figures['load_before']} before, "
          f"{figures['load_after']} after)")
    if args.json:
        args.json.write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
