"""The 1,140 colour features (``-c``) equal wndchrm 1.60's, named and ordered as its ``.sig`` files.

References: ``.sig`` files the C++ program wrote for RGB fixtures (8-bit and 16-bit, LZW;
fixtures/cpp/colour/README.txt), compared by the rule of :mod:`tests.wndchrm.cpp_sig`. The colour
block is the same in the short (``-c``, version 4.3) and the long (``-c -l``, 4.4) vectors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from numpy.typing import NDArray

from tests.wndchrm.cpp_sig import disagreements, read_sig, sig_version
from wndchrm.features import colour, colour_rules

FIXTURES = Path(__file__).parent / "fixtures" / "cpp" / "colour"
IMAGES = ["ihc/ihc_173x131", "ihc/ihc_97x71_u16", "photo/astronaut_173x131", "photo/coffee_97x71_u16"]


def _rgb(stem: str) -> NDArray[np.uint8]:
    with tifffile.TiffFile(FIXTURES / f"{stem}.tif") as tif:
        page = tif.pages.first
        return colour.rgb_bytes(page.asarray(), int(page.bitspersample))


def _features(rgb: NDArray[np.uint8]) -> NDArray[np.float64]:
    return colour.colour_features(colour.rgb_to_hsv(rgb), colour.rgb_to_grey(rgb))


@pytest.mark.parametrize("stem", IMAGES)
def test_colour_features_of_rgb_images(stem: str) -> None:
    names = colour.colour_feature_names()
    bad = disagreements(_features(_rgb(stem)), names, read_sig(FIXTURES / f"{stem}-c-l.sig.gz"))
    assert not bad, f"{len(bad)} of {len(names)} differ: {bad[:5]}"


def test_colour_features_of_tiles() -> None:
    # -t2x2 on 97x71: tiles of 48x35 (the last column and row dropped), named -t2_<column>_<row>.
    rgb = _rgb("ihc/ihc_97x71_u16")
    names = colour.colour_feature_names()
    for column in range(2):
        for row in range(2):
            tile = rgb[row * 35:(row + 1) * 35, column * 48:(column + 1) * 48]
            cpp = read_sig(FIXTURES / f"ihc/ihc_97x71_u16-t2_{column}_{row}-c.sig.gz")
            assert not disagreements(_features(tile), names, cpp), (column, row)


@pytest.mark.parametrize(("sig", "version", "after"), [
    ("ihc/ihc_173x131-c-l.sig.gz", "4.4", "Gini Coefficient () [0]"),  # inside the long vector
    ("photo/coffee_97x71_u16-c.sig.gz", "4.3", "Zernike Coefficients (Fourier ()) [71]"),  # at its end
])
def test_names_and_order_are_wndchrms(sig: str, version: str, after: str) -> None:
    cpp = list(read_sig(FIXTURES / sig))
    start = cpp.index("Color Histogram () [0]")
    assert sig_version(FIXTURES / sig) == version
    assert cpp[start - 1] == after
    assert cpp[start:start + colour.COLOUR_FEATURE_COUNT] == colour.colour_feature_names()
    assert len(cpp) == {"4.3": 1059 + 1140, "4.4": 2919 + 1140}[version]


def test_sixteen_bit_rgb_is_scaled_by_its_range_over_all_channels() -> None:
    rgb = np.array([[[1000, 2000, 3000], [1000, 1000, 1000]]], dtype=np.uint16)
    np.testing.assert_array_equal(colour.rgb_bytes(rgb, 16), [[[0, 127, 255], [0, 0, 0]]])
    np.testing.assert_array_equal(colour.rgb_bytes(rgb.astype(np.uint8), 8), rgb.astype(np.uint8))
    assert not colour.rgb_bytes(np.full((1, 1, 3), 500, np.uint16), 16).any()


def test_hsv_bytes_as_rgb2hsv() -> None:
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 128, 128], [255, 128, 0]]], dtype=np.uint8)
    hsv = colour.rgb_to_hsv(rgb)
    np.testing.assert_array_equal(hsv.hue, [[0, 80, 160, 0, 20]])
    np.testing.assert_array_equal(hsv.saturation, [[240, 240, 240, 0, 240]])
    np.testing.assert_array_equal(hsv.value, [[240, 240, 240, 120, 240]])


@pytest.mark.parametrize(("hsv", "as_written", "as_built"), [
    ((0, 0, 240), "white", "white"),  # achromatic pixels have hue 0, where nothing is NaN
    ((82, 48, 17), "black", "dark_green"),
    ((42, 6, 71), "dark_grey", "light_grey"),  # no colour left above 0: the default
    ((184, 145, 138), "dark_fucia", "blue"),
])
def test_the_reference_builds_nan_light_fucia(hsv: tuple[int, int, int], as_written: str, as_built: str) -> None:
    # In the reference build the rules on the light fucia hue add NaN to black, white, both greys,
    # dark brown and both fucias wherever light fucia's own hue functions give 0 (hue 1-200, 230+),
    # so those colours cannot win there (38% of the hue x saturation x value bytes change colour).
    pixel = colour.HSV(*(np.array([[x]], dtype=np.uint8) for x in hsv))
    assert colour_rules.COLOURS[colour.find_colour(pixel, as_built=False)[0, 0] - 1] == as_written
    assert colour_rules.COLOURS[colour.find_colour(pixel)[0, 0] - 1] == as_built
    assert np.isnan(colour_rules.hue_membership_as_built("light_fucia", 100.0))
    assert colour_rules.hue_membership_as_built("light_fucia", 0.0) == 0.0
    assert colour_rules.hue_membership_as_built("light_fucia", 220.0) == 1.0


def test_colour_transform_is_the_grey_image_in_wndchrm_160() -> None:
    cpp = read_sig(FIXTURES / "photo/astronaut_173x131-c-l.sig.gz")
    transformed = {name: value for name, value in cpp.items() if "(Color Transform ())" in name}
    assert len(transformed) == 280
    assert all(cpp[name.replace("(Color Transform ())", "()")] == value for name, value in transformed.items())
