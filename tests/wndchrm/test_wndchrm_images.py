"""Reading TIFFs: grey as is, RGB (interleaved or planar) to grey with wndchrm's weights; tiling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from services.kinds.wndchrm.images import RGB_WEIGHTS, load_tiles, read_image
from services.kinds.wndchrm.options import parse


@pytest.mark.parametrize("planar", [False, True])
def test_rgb_becomes_grey(tmp_path: Path, planar: bool) -> None:
    rgb = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    path = tmp_path / "rgb.tif"
    if planar:
        tifffile.imwrite(path, np.moveaxis(rgb, -1, 0), photometric="rgb", planarconfig="separate")
    else:
        tifffile.imwrite(path, rgb, photometric="rgb")
    assert np.allclose(read_image(path), rgb.astype(np.float64) @ np.array(RGB_WEIGHTS))


def test_grey_16_bit_is_read_as_is(tmp_path: Path) -> None:
    grey = np.random.default_rng(1).integers(0, 65535, (16, 24), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "g.tif", grey)
    image = read_image(tmp_path / "g.tif")
    assert image.dtype == np.float64 and np.array_equal(image, grey)


def test_block_downsample_and_tiles(tmp_path: Path) -> None:
    grey = np.arange(64 * 80, dtype=np.uint16).reshape(64, 80)
    tifffile.imwrite(tmp_path / "g.tif", grey)
    # Block 60 wide, 40 high at x=10, y=4; 3 columns x 2 rows of 20 x 20.
    tiles = load_tiles(tmp_path / "g.tif", parse(["wndchrm", "check", "-B10,4,60,40", "-t3x2", "x"]).options)
    assert len(tiles) == 6 and all(t.shape == (20, 20) for t in tiles)
    assert np.array_equal(tiles[1], grey[4:24, 30:50])  # row 0, column 1
    assert np.array_equal(tiles[3], grey[24:44, 10:30])  # row 1, column 0
    half = load_tiles(tmp_path / "g.tif", parse(["wndchrm", "check", "-d50", "x"]).options)
    assert half[0].shape == (32, 40)
