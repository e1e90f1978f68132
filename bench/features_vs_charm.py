"""Wall time of feature extraction through the queue versus ``charm-image-features`` on the same images.

    .venv/bin/python bench/features_vs_charm.py [--images 24] [--size 256] [--processes 2] [--json FILE]

(a) the queue: a private beanstalkd, ``wndchrm-worker -p N`` and one ``wndchrm train -l`` job whose
    dependencies compute one image's features each (CharmFeatures in the worker process, libcharm's
    forking off, cached as .npz), timed from submit to the parent's outcome;
(b) CharmFeatures' own ``charm-image-features -c N`` (its multiprocessing pool, libcharm forking on)
    on a separate copy of the same images.
Both start from empty caches, in one run, on the same machine. The images are crops of scikit-image's
bundled CC0 textures, so nothing is downloaded. Goal (issue): the queue at least 1.2x faster.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import beanstalkd
from depqueue import DepQueue
from testkit.example_data import TEXTURES
from testkit.workers import BIN, children_of, wait_until


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


def time_queue(root: Path, processes: int, images: int | None = None) -> float:
    """Submit a ``wndchrm train -l`` of ``root/images`` to the moment the parent's outcome arrives, workers
    already up; ``images`` (default: every .tif under ``root``) is the dependency count it must have had."""
    with beanstalkd() as port:
        env = {**os.environ, "BEANSTALKD_PORT": str(port), "DATA_ROOT": str(root), "NUM_WORKERS": str(processes)}
        worker = subprocess.Popen([str(BIN / "wndchrm-worker"), "--log", str(root / "worker.log")], env=env)
        try:
            wait_until(lambda: len(children_of(worker.pid)) == processes, 30, "the workers")
            queue = DepQueue(port=port)
            started = time.perf_counter()
            parent = queue.add_job(["wndchrm", "train", "-l", "images", "out/bench.fit"], batch="bench")
            outcome: dict[str, object] = {}
            while not outcome:
                for record in queue.collect_outcomes("bench"):
                    if record.body["parent"] == parent:
                        outcome = record.body
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
    expected = len(list(root.rglob("*.tif"))) if images is None else images
    if outcome.get("status") != "succeeded" or outcome.get("deps") != expected:
        raise RuntimeError(f"queue run did not compute every image: {outcome}")
    return elapsed


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
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        queue_root, charm_root = Path(temp) / "queue", Path(temp) / "charm"
        make_images(queue_root / "images", args.images, args.size)
        shutil.copytree(queue_root / "images", charm_root)
        queue_seconds = time_queue(queue_root, args.processes)
        charm_seconds = time_charm(charm_root, args.processes)
    print(f"{args.images} images of {args.size}x{args.size}, {args.processes} processes, fresh caches")
    print(f"(a) through the queue (wndchrm-worker -p {args.processes}): {queue_seconds:7.1f} s "
          f"({queue_seconds / args.images:.2f} s/image)")
    print(f"(b) charm-image-features -c {args.processes}:            {charm_seconds:7.1f} s "
          f"({charm_seconds / args.images:.2f} s/image)")
    print(f"queue speed-up (b)/(a): {charm_seconds / queue_seconds:.2f}x (goal >= 1.2x)")
    if args.json:
        args.json.write_text(json.dumps({
            "images": args.images, "size": args.size, "processes": args.processes,
            "queue_seconds": round(queue_seconds, 2), "peer_seconds": round(charm_seconds, 2),
            "speedup": round(charm_seconds / queue_seconds, 3)}, indent=2))


if __name__ == "__main__":
    main()
