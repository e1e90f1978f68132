"""Input that can never work fails with a BadJob naming the problem, before or while the job runs."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from wndchrm_helpers import FakeQueue

from depqueue import BadJob
from services.kinds import JobContext
from services.kinds.wndchrm import WNDCHRM


def _two_classes(make_image: Callable[..., Path]) -> None:
    for k in range(2):
        make_image(f"set/a/a{k}.tif", seed=k)
        make_image(f"set/b/b{k}.tif", seed=10 + k)


def _expand(ctx: JobContext, argv: list[str]) -> FakeQueue:
    queue = FakeQueue()
    WNDCHRM.expand(queue, "deps", 1, argv, ctx)  # type: ignore[arg-type]
    return queue


def test_truncated_tiff_fails_its_own_dependency(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    _two_classes(make_image)
    good = make_image("set/a/broken.tif", seed=5)
    good.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    argv = ["wndchrm", "train", "set", "out.fit"]
    WNDCHRM.validate(argv, ctx)  # listing the dataset reads no pixels
    queue = _expand(ctx, argv)
    assert ["wndchrm", "features", "set/a/broken.tif"] in queue.params
    with pytest.raises(BadJob, match=r"image 'broken.tif' is not a readable TIFF"):
        WNDCHRM.run(queue, 2, ["wndchrm", "features", "set/a/broken.tif"], ctx)  # type: ignore[arg-type]
    # The parent's in-process fallback meets the same image and names it too.
    with pytest.raises(BadJob, match=r"broken\.tif"):
        WNDCHRM.run(queue, 1, argv, ctx)  # type: ignore[arg-type]


def test_non_image_named_tif(ctx: JobContext, data_root: Path) -> None:
    fake = data_root / "notes.tif"
    fake.write_text("this is a text file\n")
    with pytest.raises(BadJob, match=r"image 'notes.tif' is not a readable TIFF.*not a TIFF file"):
        WNDCHRM.run(None, 2, ["wndchrm", "features", "notes.tif"], ctx)  # type: ignore[arg-type]


def test_empty_class_folder(ctx: JobContext, make_image: Callable[..., Path], data_root: Path) -> None:
    _two_classes(make_image)
    (data_root / "set" / "c").mkdir()
    with pytest.raises(BadJob, match=r"class folder 'c' of dataset 'set' holds no \.tif/\.tiff/\.ppm images"):
        WNDCHRM.validate(["wndchrm", "test", "set"], ctx)


def test_missing_dataset(ctx: JobContext) -> None:
    with pytest.raises(BadJob, match="path 'nowhere' does not exist"):
        WNDCHRM.validate(["wndchrm", "test", "nowhere"], ctx)


@pytest.mark.parametrize("path", ["../outside", "/etc", "set/../../x"])
def test_path_escaping_the_root(ctx: JobContext, make_image: Callable[..., Path], path: str) -> None:
    _two_classes(make_image)
    with pytest.raises(BadJob, match="outside the data root"):
        WNDCHRM.validate(["wndchrm", "test", path], ctx)


def test_output_escaping_the_root(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    _two_classes(make_image)
    with pytest.raises(BadJob, match="outside the data root"):
        WNDCHRM.validate(["wndchrm", "train", "set", "../model.fit"], ctx)


def test_symlink_escaping_the_root(ctx: JobContext, make_image: Callable[..., Path], data_root: Path,
                                   tmp_path: Path) -> None:
    _two_classes(make_image)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.tif").write_bytes((data_root / "set/a/a0.tif").read_bytes())
    os.symlink(outside / "secret.tif", data_root / "set/a/link.tif")
    with pytest.raises(BadJob, match=r"'.*link.tif' is outside the data root"):
        WNDCHRM.validate(["wndchrm", "test", "set"], ctx)
    os.symlink(outside, data_root / "linked")
    with pytest.raises(BadJob, match="outside the data root"):
        WNDCHRM.validate(["wndchrm", "test", "linked"], ctx)


def test_tsv_line_escaping_the_root(ctx: JobContext, make_image: Callable[..., Path], data_root: Path) -> None:
    _two_classes(make_image)
    (data_root / "list.tsv").write_text("# comment\nset/a/a0.tif\ta\n../../etc/x.tif\tb\n")
    with pytest.raises(BadJob, match=r"list\.tsv, line 3: path .* is outside the data root"):
        WNDCHRM.validate(["wndchrm", "test", "list.tsv"], ctx)


def test_unknown_option(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    _two_classes(make_image)
    with pytest.raises(BadJob, match="unknown wndchrm option letter 'x'"):
        WNDCHRM.validate(["wndchrm", "test", "-x", "set"], ctx)


def test_wrong_argument_count(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    _two_classes(make_image)
    with pytest.raises(BadJob, match=r"usage: wndchrm train \[options\] DATASET OUT.fit"):
        WNDCHRM.validate(["wndchrm", "train", "set"], ctx)


def test_single_class_cannot_be_tested(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    make_image("one/a/a0.tif")
    make_image("one/a/a1.tif", seed=1)
    with pytest.raises(BadJob, match="at least two classes"):
        WNDCHRM.run(None, 1, ["wndchrm", "test", "one"], ctx)  # type: ignore[arg-type]


def test_block_outside_the_image(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    make_image("img.tif", size=48)
    with pytest.raises(BadJob, match=r"block -B40,0,20,20 does not fit image 'img.tif' \(48x48 pixels\)"):
        WNDCHRM.run(None, 2, ["wndchrm", "features", "-B40,0,20,20", "img.tif"], ctx)  # type: ignore[arg-type]


def test_model_for_train_is_refused(ctx: JobContext, data_root: Path) -> None:
    (data_root / "m.fit").write_text("2\n")
    with pytest.raises(BadJob, match="needs a dataset, not a model"):
        WNDCHRM.validate(["wndchrm", "train", "m.fit", "out.fit"], ctx)
