"""Wall time of feature extraction: the wndchrm kind's dependency jobs versus ``charm-image-features``.

    .venv/bin/python bench/features_vs_charm.py [--images 24] [--size 256] [--processes 2]

(a) the kind's dependency-run code (``wndchrm features IMAGE``: CharmFeatures in process, libcharm's
    forking off, cached as .npz) split over N worker processes (multiprocessing stands in for N queue
    workers);
(b) CharmFeatures' own ``charm-image-features -c N`` (its multiprocessing pool, libcharm forking on)
    on a separate copy of the same images.
Both start from empty caches, in one run, on the same machine. The images are crops of scikit-image's
bundled CC0 textures, so nothing is downloaded.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.worker.kinds import JobContext
from services.worker.wndchrm import WNDCHRM
from services.worker.wndchrm.example_data import TEXTURES

_CTX: JobContext | None = None


def make_images(folder: Path, count: int, size: int) -> list[Path]:
    """``count`` random ``size`` x ``size`` crops spread over the three textures."""
    from skimage import data

    rng = np.random.default_rng(1)
    paths = []
    for k in range(count):
        name = TEXTURES[k % len(TEXTURES)]
        photo = getattr(data, name)()
        r, c = rng.integers(0, photo.shape[0] - size + 1), rng.integers(0, photo.shape[1] - size + 1)
        path = folder / name / f"{name}-{k:03d}.tif"
        path.parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(path, photo[r : r + size, c : c + size])
        paths.append(path)
    return paths


def _run_dependency(argv: list[str]) -> None:
    assert _CTX is not None
    WNDCHRM.run(None, 0, argv, _CTX)  # type: ignore[arg-type]


def time_kind(root: Path, images: list[Path], processes: int) -> float:
    global _CTX
    _CTX = JobContext(root)
    jobs = [["wndchrm", "features", p.relative_to(root).as_posix()] for p in images]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pool.map(_run_dependency, jobs, chunksize=1)
    return time.perf_counter() - started


def time_charm(folder: Path, processes: int) -> float:
    exe = Path(sys.executable).parent / "charm-image-features"
    started = time.perf_counter()
    subprocess.run([str(exe), "-c", str(processes), "-v", "0", str(folder)], check=True,
                   stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    written = list(folder.rglob("*.npz"))
    if len(written) != len(list(folder.rglob("*.tif"))):
        raise RuntimeError(f"charm-image-features wrote {len(written)} feature files")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        kind_root, charm_root = Path(temp) / "kind", Path(temp) / "charm"
        images = make_images(kind_root / "images", args.images, args.size)
        shutil.copytree(kind_root / "images", charm_root)
        kind_seconds = time_kind(kind_root, images, args.processes)
        charm_seconds = time_charm(charm_root, args.processes)
    print(f"{args.images} images of {args.size}x{args.size}, {args.processes} processes")
    print(f"(a) wndchrm kind, in process, forking off: {kind_seconds:7.1f} s "
          f"({kind_seconds / args.images:.2f} s/image wall)")
    print(f"(b) charm-image-features -c {args.processes}:          {charm_seconds:7.1f} s "
          f"({charm_seconds / args.images:.2f} s/image wall)")
    print(f"ratio (a)/(b): {kind_seconds / charm_seconds:.2f}")


if __name__ == "__main__":
    main()
