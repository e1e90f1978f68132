"""Data safety through the real queue: workers killed while computing and writing features leave no
file that a later run trusts, and the batch still finishes with features equal to CharmFeatures'."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import random
import signal
import time
from pathlib import Path

import numpy as np
import tifffile

from depqueue import DepQueue
from testkit.example_data import build_textures
from tests.conftest import Beanstalkd
from tests.queue_helpers import WorkerPool, wait_outcomes, wait_until
from wndchrm.features import cache
from wndchrm.features.engine import get_engine
from wndchrm.features.featureset import feature_set
from wndchrm.formats.names import v5_to_42
from wndchrm.options import parse


def test_killing_workers_mid_feature_never_leaves_a_trusted_corrupt_cache(
        beanstalkd: Beanstalkd, tmp_path: Path) -> None:
    root = tmp_path / "data"
    build_textures(root / "ex", per_class=8, size=64)
    images = sorted((root / "ex").rglob("*.tif"))
    queue = DepQueue(port=beanstalkd.port)
    parent = queue.add_job(["wndchrm", "train", "-l", "ex/textures", "out/t.fit"], batch="crash", attempts=20,
                           backoff=0.2)
    rng = random.Random(3)
    with WorkerPool(beanstalkd.port, root, tmp_path / "w.log", processes=2) as pool:
        wait_until(lambda: "wndchrm features" in pool.log_text(), 60, "feature dependencies to start")
        for _ in range(6):  # each kill lands inside a CharmFeatures computation or a cache write
            time.sleep(rng.uniform(0.3, 0.9))
            children = pool.children()
            if children:
                os.kill(rng.choice(children), signal.SIGKILL)
        outcome = wait_outcomes(queue, "crash", [parent], timeout=300)[parent]
        killed = pool.log_text().count("exited with code -9")
    assert killed >= 3  # the pool logged the deaths it reaped (the last one may still be pending)
    assert outcome["status"] == "succeeded", outcome
    options = parse(["wndchrm", "check", "-l", "x"]).options
    wanted = feature_set(options)
    charm_columns = [list(wanted.names).index(v5_to_42(name)) for name in get_engine().names]
    with contextlib.redirect_stdout(io.StringIO()):
        charm = importlib.import_module("CharmFeatures").CharmFeatures(
            forking_executor=False, forking_gabor=False, forking_haralick=False, verbosity=0)
    for image in images:
        path = cache.cache_path(root, image.resolve(), options)
        features = cache.load(path, image.resolve(), options, wanted)
        assert features is not None, f"{path} is not a valid cache"
        if image in images[:3]:  # bit-identical to CharmFeatures computing the image directly
            pixels = tifffile.imread(image).astype(np.float64)
            # CharmFeatures reads an array's shape as (width, height): hand it (columns, rows).
            direct = charm.get_features(pixels.reshape(pixels.shape[::-1]))
            assert np.array_equal(features[0, charm_columns], direct)
    fit = (root / "out" / "t.fit").read_text()
    assert fit.count(str(images[0].relative_to(root))) == 1 or fit.count(images[0].name) >= 1
