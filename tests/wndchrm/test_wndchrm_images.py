"""Reading images as the C++ wndchrm does (grey, RGB, 8/16-bit, compressed, multi-page, PPM) and cutting
samples in its order and sizes. Feature values against the C++ program are in test_features_cpp.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from depqueue import BadJob
from wndchrm.features.images import RGB_WEIGHTS, load_tiles, read_image
from wndchrm.features.sampling import downsample, rotate, sample_name, samples
from wndchrm.formats.cpp_names import sample_names
from wndchrm.options import parse


def _options(*words: str):  # type: ignore[no-untyped-def]
    return parse(["wndchrm", "check", *words, "x"]).options


@pytest.mark.parametrize("planar", [False, True])
def test_rgb_becomes_grey_with_the_cpp_weights(tmp_path: Path, planar: bool) -> None:
    rgb = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    path = tmp_path / "rgb.tif"
    if planar:
        tifffile.imwrite(path, np.moveaxis(rgb, -1, 0), photometric="rgb", planarconfig="separate")
    else:
        tifffile.imwrite(path, rgb, photometric="rgb")
    picture = read_image(path)
    assert RGB_WEIGHTS == (0.2989, 0.5870, 0.1140)
    assert picture.bits == 8 and np.allclose(picture.pixels, rgb.astype(np.float64) @ np.array(RGB_WEIGHTS))


def test_rgb_16_bit_is_scaled_to_bytes_over_all_channels(tmp_path: Path) -> None:
    rgb = np.random.default_rng(2).integers(100, 4000, (12, 10, 3), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "rgb16.tif", rgb, photometric="rgb")
    low, high = rgb.min(), rgb.max()
    bytes_ = np.trunc((rgb - float(low)) * (255.0 / (high - low)))
    assert np.allclose(read_image(tmp_path / "rgb16.tif").pixels, bytes_ @ np.array(RGB_WEIGHTS))


@pytest.mark.parametrize("compression", [None, "lzw", "zlib", "packbits"])
def test_grey_16_bit_is_read_as_is_whatever_the_compression(tmp_path: Path, compression: str | None) -> None:
    grey = np.random.default_rng(1).integers(0, 65535, (16, 24), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "g.tif", grey, compression=compression)
    picture = read_image(tmp_path / "g.tif")
    assert picture.bits == 16 and picture.pixels.dtype == np.float64 and np.array_equal(picture.pixels, grey)


def test_multi_page_tiff_gives_its_first_page(tmp_path: Path) -> None:
    pages = np.random.default_rng(3).integers(0, 255, (3, 9, 14), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "stack.tif", pages, photometric="minisblack")
    assert np.array_equal(read_image(tmp_path / "stack.tif").pixels, pages[0])


@pytest.mark.parametrize(("magic", "maxval", "channels"), [(b"P5", 255, 1), (b"P5", 4095, 1), (b"P6", 255, 3),
                                                           (b"P6", 65535, 3)])
def test_ppm_reads_as_the_same_pixels_in_a_tiff(tmp_path: Path, magic: bytes, maxval: int, channels: int) -> None:
    dtype = np.uint8 if maxval < 256 else np.uint16
    shape = (7, 11, 3) if channels == 3 else (7, 11)
    pixels = np.random.default_rng(4).integers(0, maxval + 1, shape).astype(dtype)
    header = magic + b"\n# a comment\n11 7\n%d\n" % maxval
    (tmp_path / "p.ppm").write_bytes(header + pixels.astype(np.dtype(dtype).newbyteorder(">")).tobytes())
    tifffile.imwrite(tmp_path / "p.tif", pixels, photometric="rgb" if channels == 3 else "minisblack")
    ppm, tif = read_image(tmp_path / "p.ppm"), read_image(tmp_path / "p.tif")
    assert ppm.bits == tif.bits and np.array_equal(ppm.pixels, tif.pixels)


@pytest.mark.parametrize(("name", "content", "cause"), [
    ("short.ppm", b"P5\n4 4\n255\n" + bytes(10), "truncated"),
    ("text.ppm", b"P3\n1 1\n255\n0\n", "not a binary PGM/PPM"),
    ("header.ppm", b"P6\n4 x\n255\n", "malformed PPM header"),
])
def test_bad_ppm_is_a_clear_bad_job(tmp_path: Path, name: str, content: bytes, cause: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(BadJob, match=cause) as caught:
        read_image(tmp_path / name)
    assert name in str(caught.value)


@pytest.mark.parametrize(("pixels", "cause"), [
    (np.zeros((8, 8), np.float32), "8- and 16-bit"),
    (np.zeros((8, 8, 2), np.uint8), "samples per pixel"),
    (np.zeros((8, 8), np.uint32), "8- and 16-bit"),
])
def test_images_the_cpp_program_cannot_read_are_refused(tmp_path: Path, pixels: np.ndarray, cause: str) -> None:
    tifffile.imwrite(tmp_path / "odd.tif", pixels, planarconfig="contig" if pixels.ndim == 3 else None)
    with pytest.raises(BadJob, match=cause):
        read_image(tmp_path / "odd.tif")


def test_tiles_come_column_by_column_with_the_remainder_dropped(tmp_path: Path) -> None:
    grey = np.arange(61 * 97, dtype=np.uint16).reshape(61, 97)
    tifffile.imwrite(tmp_path / "g.tif", grey)
    options = _options("-t3x2")
    tiles = load_tiles(tmp_path / "g.tif", options)
    # 97 // 3 = 32 wide, 61 // 2 = 30 high; order (col, row): (0,0) (0,1) (1,0) (1,1) (2,0) (2,1).
    assert [t.shape for t in tiles] == [(30, 32)] * 6
    assert np.array_equal(tiles[1], grey[30:60, 0:32]) and np.array_equal(tiles[2], grey[0:30, 32:64])
    assert sample_names(options)[:3] == ["-t3x2_0_0", "-t3x2_0_1", "-t3x2_1_0"]
    rotated = _options("-R", "-t2x3", "-l")
    assert [sample_name(rotated, s) for s in samples(rotated)] == sample_names(rotated)


def test_block_then_downsample(tmp_path: Path) -> None:
    grey = np.arange(64 * 80, dtype=np.uint16).reshape(64, 80)
    tifffile.imwrite(tmp_path / "g.tif", grey)
    (block,) = load_tiles(tmp_path / "g.tif", _options("-B10,4,60,40"))
    assert np.array_equal(block, grey[4:44, 10:70])
    (half,) = load_tiles(tmp_path / "g.tif", _options("-d50"))
    assert half.shape == (32, 40) and half[0, 0] == grey[0:2, 0:2].mean()


def test_downsample_averages_fractional_windows_as_the_cpp_loop() -> None:
    # -d30: windows 3.333 pixels wide; the first covers pixels 0, 1, 2 and a third of pixel 3.
    wide = downsample(np.tile(np.arange(10.0), (10, 1)), 30)
    assert wide.shape == (3, 3)
    assert wide[0, 0] == pytest.approx((0 + 1 + 2 + 3 / 3) / (10 / 3))


def test_rotations_are_the_cpp_programs() -> None:
    image = np.arange(6.0).reshape(2, 3)
    assert np.array_equal(rotate(image, 1), np.rot90(image, -1))
    assert np.array_equal(rotate(image, 2), image[::-1, ::-1])
    assert np.array_equal(rotate(image, 3), image.T)  # the C++ "270" is a transpose


def test_rotated_tiles_that_run_past_the_edge_are_refused(tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "wide.tif", np.zeros((40, 90), np.uint8))
    with pytest.raises(BadJob, match="run past its edge"):
        load_tiles(tmp_path / "wide.tif", _options("-R", "-t2"))
    tifffile.imwrite(tmp_path / "square.tif", np.zeros((41, 40), np.uint8))
    assert len(load_tiles(tmp_path / "square.tif", _options("-R", "-t2"))) == 16


def test_normalising_the_deviation_of_a_uniform_image_is_a_bad_job(tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "flat.tif", np.full((20, 20), 7, np.uint8))
    assert load_tiles(tmp_path / "flat.tif", _options("-S100"))[0].max() == 100
    with pytest.raises(BadJob, match=r"flat\.tif.*one intensity"):
        load_tiles(tmp_path / "flat.tif", _options("-S100:30"))
