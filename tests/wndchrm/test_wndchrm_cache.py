"""The per-image feature cache: only trusted when it matches, atomic, locked, bit-identical to CharmFeatures
where CharmFeatures computes the values."""

from __future__ import annotations

import contextlib
import importlib
import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from wndchrm_helpers import FakeQueue

from depqueue import RetryLater
from services.kinds import JobContext
from services.kinds.wndchrm import WNDCHRM
from wndchrm.features import cache
from wndchrm.features.engine import get_engine
from wndchrm.features.featureset import FeatureSet, columns_of
from wndchrm.formats.names import v5_to_42
from wndchrm.options import parse


def _features(ctx: JobContext, *words: str) -> None:
    WNDCHRM.run(None, 2, ["wndchrm", "features", *words], ctx)  # type: ignore[arg-type]


def _cache_file(ctx: JobContext, image: Path, *options: str) -> Path:
    return cache.cache_path(ctx.data_root, image.resolve(), parse(["wndchrm", "check", *options, "x"]).options)


def _missing(ctx: JobContext, *words: str) -> list[list[str]]:
    queue = FakeQueue()
    WNDCHRM.expand(queue, "deps", 1, ["wndchrm", "classify", *words], ctx)  # type: ignore[arg-type]
    return queue.params


def _charm(**kwargs: Any) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        module = importlib.import_module("CharmFeatures")
    return module.CharmFeatures(forking_executor=False, forking_gabor=False, forking_haralick=False,
                                verbosity=0, **kwargs)


def _load(path: Path) -> dict[str, Any]:
    with np.load(path) as npz:
        return {key: npz[key] for key in npz.files}


def test_features_are_bit_identical_to_charmfeatures(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    image = make_image("img.tif", size=64)
    _features(ctx, "-l", "img.tif")
    _features(ctx, "-l", "-t2x2", "img.tif")
    pixels = tifffile.imread(image).astype(np.float64)
    direct = _charm().get_features(pixels)
    cached = _load(_cache_file(ctx, image, "-l"))
    names = list(FeatureSet(long=True, colour=False).names)
    assert cached["features"].shape == (1, 2919) and cached["names"].tolist() == names
    # CharmFeatures' 2,895 values sit in wndchrm's vector under their 4.2 names, unchanged.
    charm_columns = [names.index(v5_to_42(name)) for name in get_engine().names]
    assert np.array_equal(cached["features"][0, charm_columns], direct)
    tiled = _load(_cache_file(ctx, image, "-l", "-t2x2"))["features"][:, charm_columns]
    charm = _charm()
    # The C++ program's sample order: tile column by tile column, rows inside each column.
    quarters = [pixels[r:r + 32, c:c + 32] for c in (0, 32) for r in (0, 32)]
    assert np.array_equal(tiled, np.stack([charm.get_features(np.ascontiguousarray(q)) for q in quarters]))


def test_short_set_is_a_bit_identical_subset_of_the_long_set(ctx: JobContext,
                                                             make_image: Callable[..., Path]) -> None:
    image = make_image("img.tif", size=48)
    _features(ctx, "img.tif")  # the short set alone: no long set is computed for it
    assert not _cache_file(ctx, image, "-l").exists()
    short = _load(_cache_file(ctx, image))["features"]
    assert short.shape == (1, 1059)
    _features(ctx, "-l", "img.tif")
    long = _load(_cache_file(ctx, image, "-l"))["features"]
    columns = columns_of(FeatureSet(long=False, colour=False), FeatureSet(long=True, colour=False))
    assert columns is not None and np.array_equal(long[:, columns], short)


def test_a_long_cache_serves_short_set_jobs(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    image = make_image("img.tif", size=32)
    _features(ctx, "-l", "img.tif")
    assert _missing(ctx, "img.tif", "img.tif") == []
    _features(ctx, "img.tif")
    assert not _cache_file(ctx, image).exists()


@pytest.mark.parametrize("damage", ["truncate", "empty", "garbage"])
def test_damaged_cache_is_recomputed(ctx: JobContext, make_image: Callable[..., Path], damage: str) -> None:
    image = make_image("img.tif")
    _features(ctx, "img.tif")
    path = _cache_file(ctx, image)
    good = path.read_bytes()
    assert _missing(ctx, "img.tif", "img.tif") == []
    damaged = {"truncate": good[: len(good) // 2], "empty": b"", "garbage": b"PK\x03\x04" + b"x" * 100}[damage]
    path.write_bytes(damaged)
    assert _missing(ctx, "img.tif", "img.tif") == [["wndchrm", "features", "img.tif"]]
    _features(ctx, "img.tif")
    assert np.array_equal(_load(path)["features"], np.load(io.BytesIO(good))["features"])


def test_cache_of_other_tiling_is_not_reused(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    image = make_image("img.tif")
    _features(ctx, "img.tif")
    assert _missing(ctx, "-t2", "img.tif", "img.tif") == [["wndchrm", "features", "-t2x2", "img.tif"]]
    # Even a 1x1 cache copied to the 2x2 name is refused: the key inside the file is checked.
    tiled = _cache_file(ctx, image, "-t2")
    tiled.write_bytes(_cache_file(ctx, image).read_bytes())
    assert _missing(ctx, "-t2", "img.tif", "img.tif") == [["wndchrm", "features", "-t2x2", "img.tif"]]
    _features(ctx, "-t2", "img.tif")
    assert _load(tiled)["features"].shape == (4, 1059)
    assert str(_load(tiled)["key"]) == "t2x2-d100"


def test_cache_key_names_every_option_that_changes_the_features() -> None:
    keys = {words: cache.cache_key(parse(["wndchrm", "check", *words, "x"]).options) for words in [
        (), ("-t2",), ("-t2x3",), ("-d50",), ("-B1,2,30,40",), ("-S100",), ("-S100:30",), ("-S100:20",), ("-R",),
        ("-c",), ("-l", "-s3", "-o", "-n5", "-f0.2", "-r0.5", "-w"),
    ]}
    assert len(set(keys.values())) == len(keys)
    assert keys[("-l", "-s3", "-o", "-n5", "-f0.2", "-r0.5", "-w")] == "t1x1-d100-l" and keys[()] == "t1x1-d100"
    assert keys[("-c",)] == "t1x1-d100-c"
    assert keys[("-S100:30",)] == "t1x1-d100-S100_30" and keys[("-R",)] == "t1x1-d100-R"


def test_rotations_cache_four_samples_per_tile(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    image = make_image("img.tif", size=32)
    _features(ctx, "-R", "img.tif")
    assert _load(_cache_file(ctx, image, "-R"))["features"].shape == (4, 1059)


@pytest.mark.parametrize(("field", "value"), [("featurevec_version", "4.2.1"), ("format", 99),
                                              ("image_mtime_ns", 1), ("n_features", 7),
                                              ("names", np.array(["a"]))])
def test_cache_with_wrong_metadata_is_recomputed(ctx: JobContext, make_image: Callable[..., Path],
                                                 field: str, value: Any) -> None:
    image = make_image("img.tif")
    _features(ctx, "img.tif")
    path = _cache_file(ctx, image)
    content = _load(path)
    content[field] = value
    np.savez(path, **content)
    assert _missing(ctx, "img.tif", "img.tif") != []


def test_wrong_length_cache_is_recomputed(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    image = make_image("img.tif")
    _features(ctx, "img.tif")
    path = _cache_file(ctx, image)
    content = _load(path)
    content["features"] = content["features"][:, :100]
    np.savez(path, **content)
    assert _missing(ctx, "img.tif", "img.tif") != []


def test_busy_image_hands_the_job_back(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    image = make_image("set/a/img.tif")
    make_image("set/b/other.tif", seed=1)
    with cache.computing(_cache_file(ctx, image)), pytest.raises(RetryLater, match="another worker"):
        _features(ctx, "set/a/img.tif")
    # A parent whose fallback meets the busy image is handed back too, not failed.
    with cache.computing(_cache_file(ctx, image)), pytest.raises(RetryLater, match="another worker"):
        WNDCHRM.run(None, 1, ["wndchrm", "train", "set", "m.fit"], ctx)  # type: ignore[arg-type]
    _features(ctx, "set/a/img.tif")  # lock released: computes


def test_lock_of_a_killed_process_does_not_block(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    image = make_image("img.tif")
    lock = f"{_cache_file(ctx, image)}.lock"
    Path(lock).parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR);"
         "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)", lock],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(RetryLater):
            _features(ctx, "img.tif")
    finally:
        holder.kill()
        holder.wait()
    assert Path(lock).exists()  # the file stays; the lock went with its process
    _features(ctx, "img.tif")
    assert _missing(ctx, "img.tif", "img.tif") == []


def test_overwrite_recomputes_a_valid_cache(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    image = make_image("img.tif")
    _features(ctx, "img.tif")
    path = _cache_file(ctx, image)
    before = path.stat().st_mtime_ns
    assert _missing(ctx, "-o", "img.tif", "img.tif") == [["wndchrm", "features", "-o", "img.tif"]]
    _features(ctx, "-o", "img.tif")
    assert path.stat().st_mtime_ns != before
    assert not list(path.parent.glob("*.tmp"))  # no temp files left behind


def test_changed_image_is_recomputed(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    make_image("img.tif")
    _features(ctx, "img.tif")
    make_image("img.tif", seed=3)  # rewritten: new mtime and pixels
    assert _missing(ctx, "img.tif", "img.tif") == [["wndchrm", "features", "img.tif"]]


def test_temp_file_of_a_killed_writer_is_removed(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    image = make_image("img.tif")
    path = _cache_file(ctx, image)
    path.parent.mkdir(parents=True, exist_ok=True)
    orphan = path.parent / f".{path.name}.abc123.tmp"
    orphan.write_bytes(b"half a zip")
    _features(ctx, "img.tif")
    assert not orphan.exists() and path.is_file()
