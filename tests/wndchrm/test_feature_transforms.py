"""wndchrm's transforms computed here are the images libcharm transforms internally.

CharmFeatures never hands back a transformed image, so each transform chain is checked through
features: a family computed by CharmFeatures on ``transforms.apply_chain(image, chain)`` must equal the
same family CharmFeatures computes itself on ``(chain ())`` of the image. Haralick Textures quantise
the image to 256 grey levels, so they also show that pixels sit on the same side of every level.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from wndchrm.features import transforms
from wndchrm.features.families import charm_values

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
