"""CPU time of Haralick's maximal correlation coefficient (4.2's Haralick [16] and [17]) per image,
against CharmFeatures' long vector of the same image in the same process.

    .venv/bin/python bench/mcc_cost.py [--images 3] [--size 96] [--json FILE]

For each image, the twelve transform chains' images are made first (not timed); then [16] and [17] of
all twelve (48 Q matrices, four directions each, up to 255 x 255) are computed, and their CPU time
(``time.process_time``, so other processes' load counts little) is the image's figure. The peer is
CharmFeatures computing the long vector (2,895 values) of the same image. The images are crops of
scikit-image's bundled CC0 textures, so nothing is downloaded.

The exact (Eigen-order) eigenvalues took 11.6 to 13.6 s of CPU per image of 96 x 96 pixels in Python
one matrix after another, and 3.8 to 4.2 s with the matrices iterated side by side in numpy; the
iteration is now C (wndchrm/features/exact/_exact.c).
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
from wndchrm.features.engine import get_engine


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
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    seconds, charm, tones = [], [], []
    engine = get_engine()
    for image in crops(args.images, args.size):
        cache: dict[str, transforms.Image] = {}
        chained = [transforms.apply_chain(image, chain, cache) for chain in transforms.CHAINS]
        tones.append(max(len(np.unique(haralick.quantise(c))) for c in chained))
        started = time.process_time()
        for c in chained:
            haralick.maximal_correlation_features(c)
        seconds.append(time.process_time() - started)
        started = time.process_time()
        engine.compute(image, True)
        charm.append(time.process_time() - started)
    figures = {"images": args.images, "size": args.size,
               "cpu_s_per_image": round(statistics.mean(seconds), 3), "max_cpu_s": round(max(seconds), 3),
               "charm_cpu_s_per_image": round(statistics.mean(charm), 3),
               "share_of_charm": round(sum(seconds) / sum(charm), 3),
               "max_tones": max(tones), "load_before": round(load_before, 2),
               "load_after": round(os.getloadavg()[0], 2)}
    print(f"Haralick MCC of {len(transforms.CHAINS)} chains ({4 * len(transforms.CHAINS)} Q matrices, up to "
          f"{figures['max_tones']} x {figures['max_tones']}) on {args.images} image(s) of {args.size} x {args.size}: "
          f"{figures['cpu_s_per_image']} s CPU per image (max {figures['max_cpu_s']} s); CharmFeatures' long "
          f"vector of the same images {figures['charm_cpu_s_per_image']} s, so the MCC adds "
          f"{figures['share_of_charm']:.0%} (load average {figures['load_before']} before, "
          f"{figures['load_after']} after)")
    if args.json:
        args.json.write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
