"""wndchrm's transforms computed here are the images libcharm transforms internally.

CharmFeatures never hands back a transformed image, so each transform chain is checked through
features: a family computed by CharmFeatures on ``transforms.apply_chain(image, chain)`` must equal the
same family CharmFeatures computes itself on ``(chain ())`` of the image. Haralick Textures quantise
the image to 256 grey levels, so they also show that pixels sit on the same side of every level.

And directly against the images wndchrm 1.60 itself made of lab images (fixtures/cpp/transforms/): every
chain not through the Fourier transform bit for bit; the Fourier chains, whose last bits vary from one
run of the C++ program to the next (FFTW_MEASURE), by their grey levels.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import tifffile

from testkit.lab_images import LAB_IMAGES, LabImage
from wndchrm.features import haralick, transforms
from wndchrm.features.families import charm_values
from wndchrm.features.images import read_image

FIXTURES = Path(__file__).parent / "fixtures" / "cpp" / "features"
FAMILIES = ("Haralick Textures", "Comb Moments", "Multiscale Histograms", "Zernike Coefficients",
            "Radon Coefficients")


@pytest.mark.parametrize("image", ["crop_97x61.tif", "crop_75x120_deflate.tif", "crop_120x75_u16_lzw.tif"])
def test_every_chain_gives_libcharms_image(image: str) -> None:
    pixels = tifffile.imread(FIXTURES / image).astype(np.float64)
    cache: dict[str, transforms.Image] = {}
    for chain in transforms.CHAINS[1:]:
        transformed = transforms.apply_chain(pixels, chain, cache)
        for family in FAMILIES:
            theirs = charm_values([f"{family} {transforms.chain_name(chain)}"], pixels)
            ours = charm_values([f"{family} ()"], transformed)
            np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-12, err_msg=f"{family} ({chain})")


@pytest.mark.parametrize("lab_image", LAB_IMAGES[:3], ids=lambda image: image.name)
def test_every_chain_is_wndchrms_image_of_a_lab_image(lab_image: LabImage, tmp_path: Path) -> None:
    fixture = np.load(Path(__file__).parent / "fixtures" / "cpp" / "transforms" / "chains.npz")
    grey = read_image(lab_image.write(tmp_path)).pixels
    cache: dict[str, transforms.Image] = {}
    for chain in transforms.CHAINS:
        ours = transforms.apply_chain(grey, chain, cache)
        key = f"{lab_image.name}|{chain}"
        if "Fourier" not in chain:
            assert hashlib.sha256(ours.tobytes()).hexdigest() == str(fixture[f"{key}|sha256"]), chain
            continue
        # numpy's FFT and FFTW round apart by about 1e-16 relative: measured, at most 2 of about 50,000
        # pixels move, by one grey level, as between two runs of the C++ program.
        levels = haralick.quantise(ours).astype(int) - fixture[f"{key}|grey"]
        assert np.abs(levels).max(initial=0) <= 1 and np.count_nonzero(levels) <= 3, chain


def test_chain_names_are_wndchrms() -> None:
    assert transforms.chain_name("") == "()"
    assert transforms.chain_name("Fourier (Wavelet)") == "(Fourier (Wavelet ()))"
    assert transforms.chain_steps("Chebyshev (Fourier)") == ["Fourier", "Chebyshev"]


def test_transform_shapes_follow_the_cpp_program() -> None:
    pixels = np.arange(7 * 12, dtype=np.float64).reshape(7, 12)
    assert transforms.fourier(pixels).shape == (7, 12)
    assert transforms.chebyshev(pixels).shape == (7, 7)  # N = min(rows, columns)
    assert transforms.wavelet(pixels).shape == (2 * 8, 2 * 10)  # 2 floor((n + 9) / 2) a side
    assert transforms.edge(pixels).shape == (7, 12)
