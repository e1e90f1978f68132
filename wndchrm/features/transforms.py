"""wndchrm 1.60's image transforms, as numpy arrays (rows x columns).

CharmFeatures computes every transform chain inside libcharm and never hands the transformed image
back; features it does not compute (Haralick's maximal correlation coefficient, see
:mod:`wndchrm.features.haralick`) need the images themselves. Each function here follows the C++
method named in its docstring (``src/cmatrix.cpp`` and ``src/transforms/`` of wnd-charm), and
:data:`CHAINS` names the chains as wndchrm's feature names write them (``"Fourier (Wavelet ())"`` is
the Fourier transform of the wavelet transform).

Haralick quantises a transformed image to 256 grey levels, so a pixel a rounding away from a level
boundary must round as wndchrm's does: the images here equal wndchrm 1.60's bit for bit, except the
Fourier transform's, which numpy's FFT (pocketfft) and FFTW round apart by about 1e-16 relative (and
every chain through it, up to about 5e-15). Measured on lab images by
tests/wndchrm/test_feature_transforms.py against the images wndchrm wrote (fixtures/cpp/transforms/).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from wndchrm.features import exact

Image = NDArray[np.float64]

#: Symlet 5 decomposition filters (``transforms/wavelet/Symlet5.cpp``: ``sym5LowDe``, ``sym5HighDe``).
SYM5_LOW = np.array([0.027333068345077982, 0.029519490925774643, -0.039134249302383094, 0.1993975339773936,
                     0.72340769040242059, 0.63397896345821192, 0.016602105764522319, -0.17532808990845047,
                     -0.021101834024758855, 0.019538882735286728])
SYM5_HIGH = np.array([-0.019538882735286728, -0.021101834024758855, 0.17532808990845047, 0.016602105764522319,
                      -0.63397896345821192, 0.72340769040242059, -0.1993975339773936, -0.039134249302383094,
                      -0.029519490925774643, 0.027333068345077982])


def fourier(image: Image) -> Image:
    """``ImageMatrix::fft2``: the modulus of the 2-D DFT, same size as the image.

    wndchrm computes the half spectrum (rows 0 .. rows/2) and copies the rest from it by conjugate
    symmetry, ``out(y, x) = out(rows - y, (columns - x) % columns)``; copying (rather than computing
    the full spectrum) keeps mirrored pixels equal to the bit, as Haralick's quantisation needs.
    """
    rows, columns = image.shape
    half = rows // 2 + 1
    out = np.empty((rows, columns))
    out[:half] = np.abs(np.fft.rfft2(image, axes=(1, 0)))
    mirror_columns = (columns - np.arange(columns)) % columns
    out[half:] = out[rows - np.arange(half, rows)][:, mirror_columns]
    return out


def chebyshev(image: Image) -> Image:
    """``ImageMatrix::ChebyshevTransform(N=0)`` (``Chebyshev2D``): N x N coefficients, N = min(rows, columns).

    Output row j, column k holds the coefficient of order j along the columns (x) and order k along
    the rows (y), as wndchrm stores it. Computed as wndchrm computes it, to the bit
    (:func:`wndchrm.features.exact.chebyshev`): a matrix product would round otherwise, and move
    pixels across Haralick's grey levels.
    """
    return exact.chebyshev(image)


def _dwt_zero_padded(signal: Image, filters: Image, axis: int) -> Image:
    """``downsampling_convolution`` in ``MODE_ZEROPAD`` along ``axis``: the full convolution with the
    filter taken at odd positions 1, 3, ..., floor((N + F - 1) / 2) values."""
    moved = np.moveaxis(signal, axis, -1)
    length, taps = moved.shape[-1], filters.shape[-1]
    full = np.zeros((*moved.shape[:-1], length + taps - 1))
    for tap in range(taps):
        full[..., tap:tap + length] += moved * filters[tap]
    return np.moveaxis(full[..., 1::2], -1, axis)


def wavelet(image: Image) -> Image:
    """``ImageMatrix::Symlet5Transform``: one level of the Symlet 5 DWT (``Wavelet::transform2D``),
    zero-padded, the four sub-bands laid out as wndchrm lays them out.

    The output is 2 * floor((rows + 9) / 2) by 2 * floor((columns + 9) / 2): high-high at the top
    left, low along x / high along y at the bottom left, high along x / low along y at the top right,
    low-low at the bottom right.
    """
    low_y = _dwt_zero_padded(image, SYM5_LOW, axis=0)
    high_y = _dwt_zero_padded(image, SYM5_HIGH, axis=0)
    top = np.hstack([_dwt_zero_padded(high_y, SYM5_HIGH, axis=1), _dwt_zero_padded(low_y, SYM5_HIGH, axis=1)])
    bottom = np.hstack([_dwt_zero_padded(high_y, SYM5_LOW, axis=1), _dwt_zero_padded(low_y, SYM5_LOW, axis=1)])
    return np.vstack([top, bottom])


def edge(image: Image) -> Image:
    """``ImageMatrix::EdgeTransform``: each pixel's largest absolute difference to its four neighbours,
    counting a direction only where the pixel has neighbours on both sides of it."""
    out = np.zeros_like(image, dtype=np.float64)
    vertical = np.maximum(np.abs(image[1:-1, :] - image[:-2, :]), np.abs(image[1:-1, :] - image[2:, :]))
    horizontal = np.maximum(np.abs(image[:, 1:-1] - image[:, :-2]), np.abs(image[:, 1:-1] - image[:, 2:]))
    out[1:-1, :] = vertical
    out[:, 1:-1] = np.maximum(out[:, 1:-1], horizontal)
    return out


TRANSFORMS: Mapping[str, Callable[[Image], Image]] = {
    "Fourier": fourier,
    "Chebyshev": chebyshev,
    "Wavelet": wavelet,
    "Edge": edge,
}

#: The chains wndchrm's long grey set runs Haralick Textures on, in the order of its ``.sig`` files.
CHAINS = (
    "",
    "Fourier",
    "Wavelet",
    "Chebyshev",
    "Chebyshev (Fourier)",
    "Wavelet (Fourier)",
    "Fourier (Wavelet)",
    "Fourier (Chebyshev)",
    "Chebyshev (Wavelet)",
    "Edge",
    "Fourier (Edge)",
    "Wavelet (Edge)",
)


def chain_steps(chain: str) -> list[str]:
    """The transforms of a chain, innermost first: ``"Fourier (Wavelet)"`` is ``["Wavelet", "Fourier"]``."""
    return [word.strip("()") for word in chain.split()][::-1] if chain else []


def chain_name(chain: str) -> str:
    """A chain as wndchrm's feature names write it: ``"Fourier (Wavelet)"`` -> ``"(Fourier (Wavelet ()))"``."""
    name = "()"
    for step in chain_steps(chain):
        name = f"({step} {name})"
    return name


def apply_chain(image: Image, chain: str, cache: dict[str, Image] | None = None) -> Image:
    """The image of one chain; ``cache`` (chain -> image) shares the inner transforms between chains."""
    cache = {} if cache is None else cache
    done = ""
    current = np.asarray(image, dtype=np.float64)
    for step in chain_steps(chain):
        done = f"{step} ({done})" if done else step
        if done not in cache:
            cache[done] = TRANSFORMS[step](current)
        current = cache[done]
    return current
