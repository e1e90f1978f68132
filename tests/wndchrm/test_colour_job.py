"""``-c`` on the built-in engine: whole vectors as wndchrm 1.60 writes them, and the images it aborts on.

References: the C++ program's ``.sig`` files of fixtures/cpp/colour/ (README.txt there gives the
commands), compared by the rule of :mod:`tests.wndchrm.cpp_sig`. Every value of each vector is
compared: the grey features (CharmFeatures and Haralick [16], [17] computed here) and the 1,140 colour
values, in wndchrm's order and names.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile

from depqueue import BadJob
from services.kinds import JobContext
from services.kinds.wndchrm.kind import WndchrmKind
from tests.wndchrm.cpp_sig import disagreements, read_sig, sig_version
from tests.wndchrm.wndchrm_helpers import run_through_kind
from wndchrm.features.extract import compute_samples, image_features
from wndchrm.features.featureset import feature_set
from wndchrm.features.sigfile import read_sig as read_our_sig
from wndchrm.formats.cpp_names import sample_names
from wndchrm.formats.fitfile import read_fit
from wndchrm.options import Options, parse

FIXTURES = Path(__file__).parent / "fixtures" / "cpp" / "colour"


def _options(*words: str) -> Options:
    return parse(["wndchrm", "check", *words, "x"]).options


def _compare(image: str, *words: str) -> int:
    """Compute every sample of ``image`` under ``words`` and compare it with the C++ .sig of its name."""
    options = _options(*words)
    wanted = feature_set(options)
    stem = image.rsplit(".", 1)[0]
    computed = compute_samples(FIXTURES / image, options)
    for name, values in zip(sample_names(options), computed, strict=True):
        cpp = read_sig(FIXTURES / f"{stem}{name}.sig.gz")
        assert list(cpp) == list(wanted.names), f"{stem}{name}: wndchrm's names, in its order"
        assert sig_version(FIXTURES / f"{stem}{name}.sig.gz") == f"4.{wanted.kind}"
        bad = disagreements(values, list(wanted.names), cpp)
        assert not bad, f"{len(bad)} of {wanted.count} differ for {stem}{name}: {bad[:5]}"
    return len(computed)


def test_long_colour_vector_of_a_16_bit_rgb_image() -> None:
    assert _compare("ihc/ihc_97x71_u16.tif", "-c", "-l") == 1


def test_short_colour_vector_of_a_16_bit_rgb_image() -> None:
    assert _compare("photo/coffee_97x71_u16.tif", "-c") == 1


def test_colour_vectors_after_downsampling_a_block_and_normalising() -> None:
    # -d averages the colour plane's bytes in the grey image's windows, -B cuts it, -S leaves it as it is.
    assert _compare("ihc/ihc_173x131.tif", "-c", "-l", "-d60") == 1
    assert _compare("photo/coffee_97x71_u16.tif", "-c", "-B10,8,70,50", "-S100:20") == 1


def test_colour_with_rotations_is_refused_naming_why() -> None:
    # wndchrm 1.60 turns only the grey image of a -R sample: its colour plane is unset memory.
    with pytest.raises(BadJob, match=r"-c with -R: wndchrm 1\.60 turns only the grey image"):
        compute_samples(FIXTURES / "ihc/ihc_173x131.tif", _options("-c", "-R"))


def test_colour_tiles_named_and_computed_as_wndchrm() -> None:
    assert sample_names(_options("-c", "-t2x2")) == ["-t2_0_0-c", "-t2_0_1-c", "-t2_1_0-c", "-t2_1_1-c"]
    assert _compare("ihc/ihc_97x71_u16.tif", "-c", "-t2x2") == 4


@pytest.mark.slow
@pytest.mark.parametrize("image", ["ihc/ihc_173x131.tif", "photo/astronaut_173x131.tif",
                                   "photo/coffee_97x71_u16.tif"])
def test_long_colour_vectors_of_more_images(image: str) -> None:
    assert _compare(image, "-c", "-l") == 1


@pytest.mark.slow
def test_short_colour_vector_of_an_8_bit_rgb_image() -> None:
    assert _compare("ihc/ihc_173x131.tif", "-c") == 1


def test_long_grey_vector_of_an_rgb_image_is_the_grey_part_of_its_colour_vector() -> None:
    # 1.60's -l files of these images equal the same-named values of their -c-l files (README.txt).
    options = _options("-l")
    wanted = feature_set(options)
    cpp = read_sig(FIXTURES / "photo/coffee_97x71_u16-c-l.sig.gz")
    assert not disagreements(compute_samples(FIXTURES / "photo/coffee_97x71_u16.tif", options)[0],
                             list(wanted.names), cpp)


def test_a_grey_image_under_c_is_a_bad_job_naming_it() -> None:
    with pytest.raises(BadJob, match=r"'chelsea_120x90_u16.tif' is grey: -c needs RGB images"):
        compute_samples(FIXTURES / "grey/chelsea_120x90_u16.tif", _options("-c"))


def test_a_four_sample_tiff_is_a_bad_job_naming_it(tmp_path: Path) -> None:
    rgba = np.zeros((48, 64, 4), dtype=np.uint8)
    rgba[..., :3] = np.arange(64, dtype=np.uint8)[None, :, None] * 3
    tifffile.imwrite(tmp_path / "rgba.tif", rgba, photometric="rgb", extrasamples=["unassalpha"])
    for words in (("-c",), ()):
        with pytest.raises(BadJob, match=r"'rgba.tif' has 4 samples per pixel"):
            compute_samples(tmp_path / "rgba.tif", _options(*words))


@pytest.mark.parametrize(("pixels", "words"), [
    (np.full((48, 64), 77, dtype=np.uint8), ()),
    (np.where(np.arange(64)[None, :] < 32, 0, 200).repeat(48, axis=0).astype(np.uint8), ()),
    (np.full((48, 64, 3), (200, 120, 40), dtype=np.uint8), ("-c",)),
])
def test_fewer_than_three_grey_tones_is_a_bad_job_where_wndchrm_aborts(
        tmp_path: Path, pixels: np.ndarray, words: tuple[str, ...]) -> None:
    # wndchrm 1.60 aborts on these (exit 134, an empty .sig): no values are made up for them.
    tifffile.imwrite(tmp_path / "flat.tif", pixels, photometric="rgb" if pixels.ndim == 3 else None)
    with pytest.raises(BadJob, match=r"'flat.tif' cannot be computed as wndchrm 1.60 computes it, which aborts "
                                     r"on it: Haralick Textures \(\): [12] grey tone"):
        compute_samples(tmp_path / "flat.tif", _options(*words))


def test_three_tones_are_computed_and_differ_only_where_the_fft_rounds_apart() -> None:
    # The fewest tones 1.60 survives. Its spectrum is exactly symmetric, and numpy's FFT and FFTW round
    # its near-zero values apart, which moves pixels of Chebyshev (Fourier ()) across Haralick's grey
    # levels: those two values differ (1.7e-3 and 4.2e-3 relative), the other 1,057 agree.
    options = _options()
    names = list(feature_set(options).names)
    values = compute_samples(FIXTURES / "odd/three_tone_64x48.tif", options)[0]
    bad = disagreements(values, names, read_sig(FIXTURES / "odd/three_tone_64x48.sig.gz"))
    assert [line.split(":")[0] for line in bad] == [
        "Haralick Textures (Chebyshev (Fourier ())) [16]", "Haralick Textures (Chebyshev (Fourier ())) [17]"]


def test_a_colour_job_writes_wndchrms_sig_and_fit_files(tmp_path: Path) -> None:
    root = tmp_path / "data"
    for name in ("ihc/ihc_97x71_u16.tif", "photo/coffee_97x71_u16.tif"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / name, root / name)
    run_through_kind(WndchrmKind(), JobContext(root), ["wndchrm", "train", "-m", "-c", ".", "ours-c.fit"])
    fit = read_fit(root / "ours-c.fit", "ours-c.fit")
    assert fit.version == (4, 3) and fit.classes == ["ihc", "photo"] and fit.features.shape == (2, 2199)
    assert fit.feature_names == list(read_sig(FIXTURES / "ihc/ihc_97x71_u16-t2_0_0-c.sig.gz"))
    sig = read_our_sig(root / "photo/coffee_97x71_u16-c.sig")
    assert sig.version == (4, 3) and sig.names == fit.feature_names
    assert not disagreements(sig.values, sig.names, read_sig(FIXTURES / "photo/coffee_97x71_u16-c.sig.gz"))
    # Read back from those files, the features are the ones computed.
    again = image_features(root, root / "photo/coffee_97x71_u16.tif", _options("-c"))
    assert np.allclose(again[0], fit.features[1], rtol=1e-7, equal_nan=True)
