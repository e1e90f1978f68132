"""``wndchrm train -l`` here (a local process pool) against the C++ wndchrm 1.60 (one core), in the same run.

    .venv/bin/python bench/program_vs_cpp.py [--images 24] [--size 256] [--jobs N] [--rounds 1] [--wndchrm PATH]
                                             [--json FILE]

Makes ``--images`` 16-bit non-square images (``--size`` wide, 3/4 of that high; random crops of
scikit-image's bundled CC0 textures, in three class folders), then times, each on its own fresh copy (no
``.sig`` files, no feature cache), the wall time of ``python -m wndchrm --jobs N train -l images x.fit``
(the ``wndchrm`` console script's code; N defaults to the cores this process may use) and of
``WNDCHRM train -l images x.fit``. Prints both, their ratio (goal: >= 1.8 on 2 cores) and the load average
before and after. ``--rounds`` alternates the two that many times and reports each one's median, since on a
shared machine the load moves under a single run. Without the C++ binary it times ours and says the C++
column is left out.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from depqueue import allowed_cpus
from testkit.cpp_wndchrm import cpp_wndchrm
from testkit.example_data import TEXTURES

ROOT = Path(__file__).resolve().parent.parent
CLASSES = 3


def make_images(folder: Path, count: int, width: int) -> None:
    """``count`` 16-bit crops, ``width`` x ``width * 3 // 4``, spread over three class folders."""
    from skimage import data

    rng = np.random.default_rng(11)
    rows, cols = width * 3 // 4, width
    for k in range(count):
        texture = TEXTURES[k % CLASSES % len(TEXTURES)]
        photo = np.asarray(getattr(data, texture)(), dtype=np.uint16) * 257
        photo = np.pad(photo, ((0, max(0, rows - photo.shape[0])), (0, max(0, cols - photo.shape[1]))),
                       mode="reflect")
        r, c = rng.integers(0, photo.shape[0] - rows + 1), rng.integers(0, photo.shape[1] - cols + 1)
        path = folder / texture / f"{texture}-{k:03d}.tif"
        path.parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(path, photo[r : r + rows, c : c + cols], compression="lzw")


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user and system, over every process it started) of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if not (cwd / "x.fit").is_file():  # the C++ program exits 1 even on success: its .fit tells
        sys.exit(f"{command[0]} wrote no x.fit (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--size", type=int, default=256, help="image width; the height is 3/4 of it")
    parser.add_argument("--jobs", type=int, default=allowed_cpus(), help="our processes (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=1, help="alternate ours and the C++ program this many times")
    parser.add_argument("--wndchrm", default=None,
                        help="the C++ wndchrm 1.60 (default: WNDCHRM_BINARY, else a wndchrm on the PATH not ours)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    binary = args.wndchrm or cpp_wndchrm()
    figures: dict[str, object] = {"images": args.images, "width": args.size, "height": args.size * 3 // 4,
                                  "jobs": args.jobs, "load_before": round(os.getloadavg()[0], 2)}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryDirectory(prefix="program-vs-cpp-") as scratch:
        source = Path(scratch) / "source" / "images"
        make_images(source, args.images, args.size)
        have_cpp = bool(binary and Path(binary).is_file())
        ours_runs: list[tuple[float, float]] = []
        cpp_runs: list[tuple[float, float]] = []
        for round_ in range(args.rounds):
            ours, cpp = Path(scratch) / f"ours{round_}", Path(scratch) / f"cpp{round_}"
            shutil.copytree(source.parent, ours)
            ours_runs.append(timed([sys.executable, "-m", "wndchrm", "--jobs", str(args.jobs), "train", "-l",
                                    "images", "x.fit"], ours, env))
            if have_cpp:
                shutil.copytree(source.parent, cpp)
                cpp_runs.append(timed([str(binary), "train", "-l", "images", "x.fit"], cpp))
        for name, runs in (("ours", ours_runs), ("cpp", cpp_runs)):
            if runs:
                figures[f"{name}_runs"] = [round(wall, 2) for wall, _ in runs]
                figures[f"{name}_seconds"] = round(statistics.median(wall for wall, _ in runs), 2)
                figures[f"{name}_cpu_seconds"] = round(statistics.median(cpu for _, cpu in runs), 2)
    figures["load_after"] = round(os.getloadavg()[0], 2)
    print(f"{args.images} images {figures['width']}x{figures['height']} 16-bit, wndchrm train -l, "
          f"load average {figures['load_before']} before, {figures['load_after']} after")
    print(f"  here ({args.jobs} processes): {figures['ours_seconds']:.2f} s (runs: {figures['ours_runs']}), "
          f"CPU {figures['ours_cpu_seconds']:.1f} s")
    if "cpp_seconds" in figures:
        figures["speedup"] = round(float(figures["cpp_seconds"]) / float(figures["ours_seconds"]), 2)  # type: ignore[arg-type]
        print(f"  C++ wndchrm 1.60:   {figures['cpp_seconds']:.2f} s (runs: {figures['cpp_runs']}), "
              f"CPU {figures['cpp_cpu_seconds']:.1f} s")
        print(f"  speed-up: {figures['speedup']}x (goal: >= 1.8x); CPU seconds, C++ over ours: "
              f"{float(figures['cpp_cpu_seconds']) / float(figures['ours_cpu_seconds']):.2f}")  # type: ignore[arg-type]
    else:
        where = f"no file {binary}" if binary else "none given (--wndchrm, WNDCHRM_BINARY, or one on the PATH)"
        print(f"C++ wndchrm column left out: {where}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
