"""Features equal the C++ wndchrm 1.60's on any image, tile and preprocessing option.

The references are ``.sig`` files the C++ program wrote (gzipped, see fixtures/cpp/features/README.txt).
Every value of wndchrm's vector (Haralick [16] and [17] included) is compared by feature name within
1e-4 relative, so a change in CharmFeatures, in the way images are handed to it, in the preprocessing
or in the maximal correlation coefficient fails here.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import tifffile
from numpy.typing import NDArray

from tests.wndchrm.cpp_sig import disagreements
from wndchrm.features.engine import get_engine
from wndchrm.features.featureset import feature_set
from wndchrm.features.images import load_samples
from wndchrm.formats.cpp_names import sample_names
from wndchrm.formats.names import v42_to_v5
from wndchrm.options import parse

FIXTURES = Path(__file__).parent / "fixtures" / "cpp" / "features"
RTOL, ATOL = 1e-4, 1e-9


def _reference(sig_name: str) -> dict[str, float]:
    """A C++ .sig (class and version line, image path line, then ``value<TAB>name``) by v5 name."""
    with gzip.open(FIXTURES / f"{sig_name}.sig.gz", "rt") as stream:
        lines = stream.read().splitlines()[2:]
    values: dict[str, float] = {}
    for line in lines:
        value, name = line.split("\t", 1)
        v5 = v42_to_v5(name)
        if v5 is not None:
            values[v5] = float(value)
    return values


def _sig(sig_name: str) -> dict[str, float]:
    """A C++ .sig's values by its (4.2) names, in its order."""
    with gzip.open(FIXTURES / f"{sig_name}.sig.gz", "rt") as stream:
        lines = stream.read().splitlines()[2:]
    return {name: float(value) for value, name in (line.split("\t", 1) for line in lines)}


def _disagreements(vector: NDArray[np.float64], reference: dict[str, float]) -> list[str]:
    names = get_engine().names
    shared = [i for i, name in enumerate(names) if name in reference]
    assert len(shared) == len(reference), "every C++ feature CharmFeatures also computes is compared"
    return [f"{names[i]}: ours {vector[i]!r}, C++ {reference[names[i]]!r}" for i in shared
            if not np.isclose(vector[i], reference[names[i]], rtol=RTOL, atol=ATOL)]


def _check(image: Path, *words: str, only: tuple[str, ...] = ()) -> int:
    """Compute the samples of ``image`` under ``words`` (those whose name holds one of ``only``, if given)
    and compare each with its C++ .sig; how many were compared."""
    options = parse(["wndchrm", "check", *words, "x"]).options
    tiles = load_samples(image, options)
    stem = image.name.rsplit(".", 1)[0]
    wanted = feature_set(options)
    compared = 0
    for name, tile in zip(sample_names(options), tiles, strict=True):
        if only and not any(part in name for part in only):
            continue
        reference = _sig(stem + name)
        assert list(reference) == list(wanted.names), "wndchrm's names, in its order"
        bad = disagreements(wanted.compute(tile), list(wanted.names), reference)
        assert not bad, f"{len(bad)} of {len(reference)} features differ for {stem}{name}: {bad[:5]}"
        compared += 1
    return compared


@pytest.mark.parametrize("image", ["crop_97x61.tif", "crop_120x75_u16_lzw.tif", "crop_75x120_deflate.tif"])
def test_long_features_of_non_square_16_bit_and_compressed_images(image: str) -> None:
    assert _check(FIXTURES / image, "-l") == 1


@pytest.mark.parametrize("image", ["rgb_64x48.tif", "rgb16_64x48.tif"])
def test_rgb_images_are_made_grey_as_the_cpp_program_does(image: str) -> None:
    assert _check(FIXTURES / image) == 1


def test_charmfeatures_reads_an_arrays_shape_as_width_height() -> None:
    """CharmFeatures 1.3 takes ``width, height = ndarray.shape``; the engine hands it (columns, rows).

    If CharmFeatures ever reads (rows, columns), the first assertion fails: change Engine.compute.
    """
    pixels = tifffile.imread(FIXTURES / "crop_97x61.tif").astype(np.float64)
    reference = _reference("crop_97x61-l")
    charm = get_engine().charm
    as_width_height = charm.get_features(pixels.reshape(pixels.shape[1], pixels.shape[0]))
    assert not _disagreements(np.asarray(as_width_height), reference)
    as_rows_columns = charm.get_features(pixels)
    assert len(_disagreements(np.asarray(as_rows_columns), reference)) > len(reference) // 2


def _write_ppm(path: Path, pixels: NDArray[np.integer], maxval: int) -> None:
    magic = b"P6" if pixels.ndim == 3 else b"P5"
    big_endian = pixels.astype(">u2" if maxval > 255 else np.uint8)
    path.write_bytes(b"%s\n%d %d\n%d\n" % (magic, pixels.shape[1], pixels.shape[0], maxval) + big_endian.tobytes())


@pytest.mark.parametrize(("tiff", "maxval"), [("crop_120x75_u16_lzw.tif", 65535), ("rgb_64x48.tif", 255)])
def test_ppm_features_are_the_cpp_features_of_the_same_pixels(tmp_path: Path, tiff: str, maxval: int) -> None:
    # wndchrm 1.60 cannot open a PPM at all (its OpenImage wants ".tif" in the name); the reference is
    # the C++ program's .sig of the same pixels in a TIFF of the same depth.
    stem = tiff.rsplit(".", 1)[0]
    _write_ppm(tmp_path / f"{stem}.ppm", tifffile.imread(FIXTURES / tiff), maxval)
    assert _check(tmp_path / f"{stem}.ppm", *(["-l"] if maxval > 255 else [])) == 1


def test_tiles_in_the_cpp_order_and_sizes() -> None:
    # 97x61 at -t3x2: tiles of 32x30, the last column and row of pixels dropped, column by column.
    assert _check(FIXTURES / "crop_97x61.tif", "-l", "-t3x2") == 6


@pytest.mark.parametrize("words", [("-d50",), ("-d33",), ("-B10,5,60,40",), ("-S100:30",), ("-S120",), ("-R",)],
                         ids=lambda words: words[0])
def test_preprocessing_options_as_the_cpp_program(words: tuple[str, ...]) -> None:
    assert _check(FIXTURES / "crop_97x61.tif", *words) == (4 if words == ("-R",) else 1)


def test_downsampled_and_normalised_16_bit_image_as_the_cpp_program() -> None:
    # -d60 then -S110:30 on 16-bit data: every value of the short vector, Edge Features included.
    assert _check(FIXTURES / "crop_120x75_u16_lzw.tif", "-d60", "-S110:30") == 1


def test_rotated_tiles_as_the_cpp_program() -> None:
    # -R -t2 on a square crop: the quarter-turned images (90 and the C++ "270", a transpose) are tiled
    # with the C++ program's tile sizes taken from the other axis; 0 and 180 degrees tile as plain -t.
    assert _check(FIXTURES / "crop_64x64.tif", "-R", "-t2", only=("-R_1-", "-R_3-")) == 8
