"""End to end with a site's binary: wndchrm-submit and wndchrm-worker both configured with
``WNDCHRM_BINARY``, a real beanstalkd, and the replay of the real wndchrm 1.60's captured calls standing
in for the binary (fixtures/cpp/external/README.txt). One worker process, so the calls come in the
captured order: the expansion's check, the four dependencies, the parent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import tifffile

from testkit.workers import WorkerPool
from tests.conftest import Beanstalkd

BIN = Path(sys.executable).parent
CAPTURED = Path(__file__).parent / "fixtures" / "cpp" / "external"


def test_train_through_the_queue_with_the_binary(beanstalkd: Beanstalkd, tmp_path: Path) -> None:
    root = tmp_path / "data"
    for seed, image in enumerate(("set/a/img0.tif", "set/a/img1.tif", "set/b/img0.tif", "set/b/img1.tif")):
        (root / image).parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(root / image, np.random.default_rng(seed).integers(0, 200, (32, 32), dtype=np.uint8))
    binary = tmp_path / "bin" / "wndchrm"
    binary.parent.mkdir()
    binary.write_text(f"#!{sys.executable}\n" + (CAPTURED / "replay.py").read_text())
    binary.chmod(0o755)
    replay = {"WNDCHRM_BINARY": str(binary), "REPLAY_SEQUENCE": str(CAPTURED / "train"),
              "REPLAY_COUNT": str(tmp_path / "count")}
    env = {**os.environ, "BEANSTALKD_PORT": str(beanstalkd.port), "DATA_ROOT": str(root), **replay}
    log = tmp_path / "worker.log"
    with WorkerPool(beanstalkd.port, root, log, processes=1, **replay):
        submit = subprocess.run(
            [str(BIN / "wndchrm-submit"), "submit", "--wait", "--timeout", "60", "--no-progress", "--",
             "wndchrm", "train", "set", "out.fit"],
            env=env, capture_output=True, text=True, timeout=120)
    detail = f"{submit.stdout}\n{submit.stderr}\n{log.read_text() if log.exists() else ''}"
    assert submit.returncode == 0, detail
    assert (root / "out.fit").read_text() == (CAPTURED / "train/6.out/out.fit").read_text()
    assert (tmp_path / "count").read_text() == "6", detail  # check, four dependencies, the parent
    assert all((root / f"set/{c}/img{i}.sig").is_file() for c in "ab" for i in "01")
