"""Feature time per image here (CharmFeatures) against the C++ wndchrm, and the queue's per-core efficiency.

    .venv/bin/python bench/features_vs_cpp.py [--wndchrm PATH] [--small 8] [--large 4] [--processes 2]
                                              [--cpp-images N] [--json FILE]

(a) per image, one process each: the built-in engine (read, preprocess, wndchrm's long set: CharmFeatures
    and the maximal correlation coefficient of twelve chains) in this process, and the C++
    ``wndchrm train -l -m`` on a folder holding just that image (its ``.sig``
    written beside it), on the same 16-bit images: ``--small`` of 256x256 and ``--large`` of 1024x768,
    cut from scikit-image's bundled CC0 textures (mirrored to size, scaled to 16 bits). ``--cpp-images``
    times the C++ program on only the first N of each size when it is too slow to run on all.
(b) the queue, right after (a)'s built-in timings: a private beanstalkd, ``wndchrm-worker -p N`` and one
    ``wndchrm train -l`` job whose dependencies compute one image each; efficiency = the sum of (a)'s
    one-process times / (N x wall time from submit to the parent's outcome). Also printed: the fraction
    of that wall time the workers spent computing (from their log), which separates the queue's own
    losses from other load on a shared machine. Goals: (a) no slower than the C++ program; (b) >= 0.95.

Compare against an optimised C++ build: wndchrm's automake files leave CXXFLAGS without -O2 unless
given, and such a build is about 30 times slower (110 s for one 256x256 image against 3.3 s here).
Rebuild with ``make CXXFLAGS="-std=gnu++11 -O2"``; its .sig values are the same to 1e-6.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.features_vs_charm import time_queue
from testkit.cpp_wndchrm import cpp_wndchrm
from testkit.example_data import TEXTURES
from wndchrm.features.extract import compute_samples
from wndchrm.options import parse

SIZES = {"small": (256, 256), "large": (768, 1024)}  # rows, columns


def make_images(folder: Path, small: int, large: int) -> list[Path]:
    """16-bit crops of the textures, in two class folders (``train`` needs classes)."""
    from skimage import data

    rng = np.random.default_rng(7)
    paths = []
    for k, size in enumerate(["small"] * small + ["large"] * large):
        rows, cols = SIZES[size]
        photo = getattr(data, TEXTURES[k % len(TEXTURES)])().astype(np.uint16) * 257
        photo = np.pad(photo, ((0, max(0, rows - photo.shape[0])), (0, max(0, cols - photo.shape[1]))),
                       mode="reflect")
        r, c = rng.integers(0, photo.shape[0] - rows + 1), rng.integers(0, photo.shape[1] - cols + 1)
        path = folder / f"class{k % 2}" / f"{size}-{k:02d}.tif"
        path.parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(path, photo[r : r + rows, c : c + cols])
        paths.append(path)
    return paths


def time_builtin(image: Path) -> float:
    options = parse(["wndchrm", "check", "-l", "x"]).options
    started = time.perf_counter()
    compute_samples(image, options)
    return time.perf_counter() - started


def time_cpp(wndchrm: str, image: Path, scratch: Path) -> float:
    """The C++ program on a folder holding only ``image``; it exits 1 even on success, so the .sig is
    what tells success."""
    folder = scratch / image.stem
    folder.mkdir(parents=True)
    shutil.copy(image, folder / image.name)
    started = time.perf_counter()
    subprocess.run([wndchrm, "train", "-l", "-m", str(folder), str(scratch / f"{image.stem}.fit")],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - started
    if not (folder / f"{image.stem}-l.sig").stat().st_size:
        raise RuntimeError(f"wndchrm wrote no features for {image}")
    return elapsed


def _per_size(times: dict[Path, float], size: str) -> list[float]:
    return [t for path, t in times.items() if path.name.startswith(size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wndchrm", default=cpp_wndchrm(),
                        help="the C++ wndchrm 1.60 binary (default: WNDCHRM_BINARY, else wndchrm on the PATH)")
    parser.add_argument("--small", type=int, default=8)
    parser.add_argument("--large", type=int, default=4)
    parser.add_argument("--cpp-images", type=int, default=None, help="C++ on only the first N of each size")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.small + args.large < 2:
        parser.error("--small and --large: at least 2 images in all (train needs two classes)")
    report: dict[str, object] = {"load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "queue"
        images = make_images(root / "images", args.small, args.large)
        ours = {image: time_builtin(image) for image in images}
        wall = time_queue(root, args.processes, len(images))  # right after (a), under the same load
        in_workers = sum(float(m) for m in re.findall(r"tile\(s\) in ([0-9.]+)s", (root / "worker.log").read_text()))
        cpp: dict[Path, float] = {}
        if args.wndchrm and Path(args.wndchrm).is_file():
            for size in SIZES:
                chosen = [p for p in images if p.name.startswith(size)][: args.cpp_images]
                cpp.update({p: time_cpp(args.wndchrm, p, Path(temp) / "cpp") for p in chosen})
        else:
            where = f"no file {args.wndchrm}" if args.wndchrm else "none given (WNDCHRM_BINARY, --wndchrm, PATH)"
            print(f"C++ wndchrm column left out: {where}")
    print(f"load average before the run: {report['load_before']:.2f}")
    for size, (rows, cols) in SIZES.items():
        here, there = _per_size(ours, size), _per_size(cpp, size)
        if not here:  # --small 0 or --large 0
            continue
        line = f"{size} {cols}x{rows} 16-bit, long set: built-in {np.mean(here):6.2f} s/image (n={len(here)})"
        if there:
            mean_cpp = float(np.mean(there))
            ratio = mean_cpp / float(np.mean(here))
            line += f"; C++ wndchrm {mean_cpp:7.2f} s/image (n={len(there)}); C++/built-in {ratio:.1f}x"
            report[f"{size}_cpp_seconds"] = round(mean_cpp, 3)
        report[f"{size}_builtin_seconds"] = round(float(np.mean(here)), 3)
        print(line)
    efficiency = sum(ours.values()) / (args.processes * wall)
    print(f"queue, {len(images)} images on {args.processes} worker processes: wall {wall:.1f} s, "
          f"one-process sum {sum(ours.values()):.1f} s, per-core efficiency {efficiency:.3f} (goal >= 0.95)")
    # The workers' own compute times: what the pool lost to the queue itself, apart from CPU contention.
    busy = in_workers / (args.processes * wall)
    print(f"  the workers computed for {in_workers:.1f} s of it: busy {busy:.3f} of the pool's time "
          f"(their images took {in_workers / sum(ours.values()):.2f}x the one-process times)")
    report.update(queue_wall_seconds=round(wall, 2), one_process_sum=round(sum(ours.values()), 2),
                  efficiency=round(efficiency, 3), processes=args.processes, busy=round(busy, 3))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
