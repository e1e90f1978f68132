"""A synthetic lab-scale dataset whose features are already computed: tiny placeholder images, each with its
``.sig`` file beside it and its entry in the feature cache, so no feature computation is ever timed.

    python bench/lab_data.py ROOT [--images 10000] [--classes 4] [--test-images 1000]

Writes under ROOT (the data root): ``pool/<class>/img<N>.tif`` (8x8 16-bit) with ``img<N>_0_0.sig``
(wndchrm 1.60's short feature set, 1,059 values) and ``.wndchrm-cache`` entries; ``ds<K>.tsv`` listing the
first K images in class order for K in 1k, 3k and the full count; ``test1k/<class>/...`` for classify.
Features are class means plus noise, so WND-5 has something to find. Rerunning skips images already made.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import tifffile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wndchrm.features import cache, sigfile
from wndchrm.features.featureset import FeatureSet
from wndchrm.options import Options

SIZES = (1000, 3000, 10000)


def make_image(root: Path, image: Path, values: np.ndarray, options: Options) -> None:
    """One placeholder image with its .sig and cache entry (made-up values of the short set)."""
    short = FeatureSet(long=False, colour=False)
    image.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(image, np.full((8, 8), 1000, dtype=np.uint16))
    sigfile.write_image_sigs(image, options, values[None, :], short.names, image.relative_to(root).as_posix())
    cache.write(cache.cache_path(root, image, options), image, options, short, values[None, :])


def make_set(root: Path, folder: str, count: int, classes: int, seed: int) -> list[Path]:
    """``count`` images spread evenly over ``classes``, in class-major order; made only if missing."""
    count_short = FeatureSet(long=False, colour=False).count
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(7).normal(0.0, 1.0, (classes, count_short))
    scale = np.abs(np.random.default_rng(8).normal(10.0, 5.0, count_short)) + 1.0
    options = Options()
    images = []
    for c in range(classes):
        per_class = count // classes + (1 if c < count % classes else 0)
        for i in range(per_class):
            image = root / folder / f"class{c}" / f"img{i:05d}.tif"
            noise = rng.normal(0.0, 1.5, count_short)
            if not image.exists():
                make_image(root, image, (centres[c] + noise) * scale, options)
            images.append(image)
    return images


def main() -> None:
    # Made-up data for a benchmark: a crash here only means running the script again, so the cache's and
    # the .sig writer's fsync calls (half of the time per image on this machine) are skipped.
    os.fsync = lambda fd: None
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--test-images", type=int, default=1000)
    args = parser.parse_args()
    root = args.root.resolve()
    pool = make_set(root, "pool", args.images, args.classes, seed=1)
    make_set(root, "test1k", args.test_images, args.classes, seed=2)
    per_class: list[list[Path]] = [[p for p in pool if p.parent.name == f"class{c}"] for c in range(args.classes)]
    for size in [s for s in SIZES if s < args.images] + [args.images]:
        chosen = [p for images in per_class for p in images[: size // args.classes]]
        lines = [f"{p.relative_to(root).as_posix()}\t{p.parent.name}\n" for p in chosen]
        (root / f"ds{size // 1000}k.tsv").write_text("".join(lines))
    print(f"{len(pool)} images in {root / 'pool'}, {args.test_images} in {root / 'test1k'}")


if __name__ == "__main__":
    main()
