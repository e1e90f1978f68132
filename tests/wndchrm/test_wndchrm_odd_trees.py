"""Odd dataset trees and caches: symlink loops, unreadable files, non-ASCII names, wrong-shape caches.
Each ends in a clear error or a correct result, never a hang or a crash."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from wndchrm_helpers import FakeQueue, run_through_kind

from depqueue import BadJob
from services.kinds import JobContext
from services.kinds.wndchrm import WNDCHRM
from wndchrm.features import cache
from wndchrm.options import parse


def _expand(ctx: JobContext, argv: list[str]) -> list[list[str]]:
    queue = FakeQueue()
    WNDCHRM.expand(queue, "deps", 1, argv, ctx)  # type: ignore[arg-type]
    return queue.params


def test_symlink_loop_in_a_dataset_is_refused_or_skipped_never_followed(
        ctx: JobContext, make_image: Callable[..., Path], data_root: Path) -> None:
    for k in range(2):
        make_image(f"set/a/a{k}.tif", seed=k)
        make_image(f"set/b/b{k}.tif", seed=10 + k)
    (data_root / "set" / "a" / "loop").symlink_to(data_root / "set")  # a folder that contains itself
    (data_root / "set" / "b" / "self.tif").symlink_to(data_root / "set" / "b" / "self.tif")
    argv = ["wndchrm", "train", "set", "out.fit"]
    try:
        WNDCHRM.validate(argv, ctx)
        deps = _expand(ctx, argv)
    except BadJob as exc:  # a clear refusal is fine
        assert "self.tif" in str(exc) or "loop" in str(exc) or "symlink" in str(exc).lower()
        return
    assert len(deps) <= 4 and all("loop/" not in " ".join(d) for d in deps)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file whatever its mode")
def test_unreadable_image_fails_its_dependency_with_its_name(ctx: JobContext,
                                                              make_image: Callable[..., Path]) -> None:
    image = make_image("set/a/secret.tif")
    image.chmod(0)
    with pytest.raises(BadJob, match=r"secret\.tif"):
        WNDCHRM.run(None, 2, ["wndchrm", "features", "set/a/secret.tif"], ctx)  # type: ignore[arg-type]


def test_unreadable_image_as_root_is_still_a_clear_error(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    image = make_image("set/a/gone.tif")
    image.unlink()
    image.mkdir()  # a folder named like an image: unreadable as a file even for root
    with pytest.raises(BadJob, match=r"gone\.tif"):
        WNDCHRM.run(None, 2, ["wndchrm", "features", "set/a/gone.tif"], ctx)  # type: ignore[arg-type]


def test_non_ascii_names_round_trip(ctx: JobContext, make_image: Callable[..., Path], data_root: Path) -> None:
    for k in range(3):
        make_image(f"données/clé/ü{k}.tif", seed=k)
        make_image(f"données/日本/画像{k}.tif", seed=20 + k)
    queue = run_through_kind(WNDCHRM, ctx, ["wndchrm", "train", "données", "modèles/été.fit"])
    assert len(queue.params) == 6
    fit = (data_root / "modèles" / "été.fit").read_text(encoding="utf-8")
    assert "clé" in fit and "日本" in fit


@pytest.mark.parametrize("shape", [(0,), (1, 10), (2, 2895), (1, 2895, 1)])
def test_wrong_shape_cache_is_recomputed(ctx: JobContext, make_image: Callable[..., Path], data_root: Path,
                                         shape: tuple[int, ...]) -> None:
    image = make_image("img.tif")
    WNDCHRM.run(None, 2, ["wndchrm", "features", "img.tif"], ctx)  # type: ignore[arg-type]
    options = parse(["wndchrm", "check", "x"]).options
    path = cache.cache_path(data_root, image.resolve(), options)
    with np.load(path) as npz:
        fields = {key: npz[key] for key in npz.files}
    good = fields["features"].copy()
    fields["features"] = np.zeros(shape)
    np.savez(path, **fields)
    assert _expand(ctx, ["wndchrm", "classify", "img.tif", "img.tif"]) == [["wndchrm", "features", "img.tif"]]
    WNDCHRM.run(None, 2, ["wndchrm", "features", "img.tif"], ctx)  # type: ignore[arg-type]
    with np.load(path) as npz:
        assert np.array_equal(npz["features"], good)
