"""Turn one read image into the samples wndchrm computes features on, exactly as the C++ wndchrm 1.60 does.

Its order (``ImageMatrix::OpenImage`` then ``TrainingSet::AddImageFile``): the ``-B`` block is cut from the
image as read, ``-d`` downsamples by area averaging, ``-S`` shifts (and scales) intensities; then each
sample is a rotation (``-R``: 0, 90, 180, 270) and a tile of it (``-tCxR``). Samples come rotation by
rotation, and within one, tile column by tile column, rows inside each column (``setup_featureset``).
Tiles are ``width // C`` by ``height // R`` pixels; the remainder at the right and bottom is dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from depqueue import BadJob
from wndchrm.formats.cpp_names import ROTATIONS, sample_names
from wndchrm.options import Options

#: Smallest tile side CharmFeatures gives meaningful texture features for (its transforms need room).
MIN_TILE_SIDE = 8


@dataclass(frozen=True)
class Sample:
    """Where one sample comes from: rotation (quarter turns) and tile column and row."""

    rotation: int
    column: int
    row: int


def samples(options: Options) -> list[Sample]:
    """Every sample of one image, in the C++ program's order (its ``.sig`` files and ``.fit`` lines; the
    names are ``cpp_names.sample_names``)."""
    rotations = ROTATIONS if options.rotations else 1
    return [
        Sample(rotation, column, row)
        for rotation in range(rotations)
        for column in range(options.tile_cols)
        for row in range(options.tile_rows)
    ]


def sample_name(options: Options, sample: Sample) -> str:
    """The C++ program's name for one sample (``-B..-d..-S..-R_1-t3x2_0_1-c-l``), from ``cpp_names``."""
    index = (sample.rotation * options.tile_cols + sample.column) * options.tile_rows + sample.row
    return sample_names(options)[index]


def samples_per_image(options: Options) -> int:
    """Rows of an image's feature matrix: tiles times rotations."""
    return (ROTATIONS if options.rotations else 1) * options.tiles


def _cut_block(image: NDArray[np.float64], options: Options, name: str) -> NDArray[np.float64]:
    if options.block is None:
        return image
    b = options.block
    rows, cols = image.shape
    if b.x + b.w > cols or b.y + b.h > rows:
        raise BadJob(f"block -B{b.x},{b.y},{b.w},{b.h} does not fit image {name!r} ({cols}x{rows} pixels)")
    return image[b.y : b.y + b.h, b.x : b.x + b.w]


def _windows(old: int, ratio: float) -> list[list[tuple[int, float]]]:
    """The C++ ``ImageMatrix::Downsample`` along one axis: for each new pixel, the old pixels it sums,
    in the C++ order, with their weights (the covered fraction at either end, 1 in between).

    Window starts accumulate ``x += dx`` in floating point as the C++ loop does, so the same pixels fall
    on window edges.
    """
    dx = 1.0 / ratio
    windows: list[list[tuple[int, float]]] = []
    x = 0.0
    while x < old and len(windows) < int(ratio * old):
        window: list[tuple[int, float]] = []
        first, end = math.floor(x), math.floor(x + dx)
        if math.ceil(x) - x > 0 and first < old:
            window.append((first, math.ceil(x) - x))
        window += [(full, 1.0) for full in range(math.ceil(x), min(end, old))]
        last = max(math.ceil(x), end)
        if x + dx - end > 0 and last < old:
            window.append((last, x + dx - end))
        windows.append(window)
        x += dx
    return windows


def _shrink_rows(image: NDArray[np.float64], ratio: float) -> NDArray[np.float64]:
    """Downsample axis 0, every column at once, adding and dividing in the C++ program's order
    (a feature that compares gradients with zero tells a different rounding apart)."""
    dx = 1.0 / ratio
    out = np.empty((int(ratio * image.shape[0]), image.shape[1]))
    for index, window in enumerate(_windows(image.shape[0], ratio)):
        total = np.zeros(image.shape[1])
        for old, weight in window:
            total = total + (image[old] * weight if weight != 1.0 else image[old])
        out[index] = total / dx
    return out


def downsample(image: NDArray[np.float64], percent: int) -> NDArray[np.float64]:
    """``-dN``: area-average to ``int(N/100 * side)`` pixels per side (columns first, as the C++ does)."""
    if not 0 < percent < 100:
        return image
    ratio = percent / 100.0
    across = _shrink_rows(np.ascontiguousarray(image.T), ratio).T
    return _shrink_rows(np.ascontiguousarray(across), ratio)


def preprocess_planes(planes: list[NDArray[np.uint8]], options: Options, name: str) -> list[NDArray[np.uint8]]:
    """``-B`` then ``-d`` of the colour planes (hue, saturation and value bytes), as ``OpenImage`` treats its
    colour plane: the grey image's block and windows, each pass's averages cut to a byte
    (``(byte)(sum / dx)``). ``-S`` normalises the grey image only."""
    prepared = []
    for plane in planes:
        values = _cut_block(np.asarray(plane, dtype=np.float64), options, name)
        if 0 < options.downsample < 100:
            ratio = options.downsample / 100.0
            values = np.trunc(_shrink_rows(np.ascontiguousarray(values.T), ratio)).T
            values = np.trunc(_shrink_rows(np.ascontiguousarray(values), ratio))
        prepared.append(values.astype(np.uint8))
    return prepared


def cpp_moments(values: NDArray[np.float64]) -> tuple[float, float]:
    """Mean and sample deviation exactly as the C++ ``Moments2`` accumulates them, value by value.

    Edge and Tamura features of a ``-S`` image tell apart gradients that are exactly zero from ones a
    rounding error away, so the shift must round as the C++ program's running mean does, not as numpy's
    pairwise sum.
    """
    count, mean, m2 = 0, 0.0, 0.0
    for value in values.tolist():
        before = count
        count += 1
        delta = value - mean
        delta_n = delta / count
        mean += delta_n
        m2 += delta * delta_n * before
    return mean, (math.sqrt(m2 / (count - 1)) if count > 2 else 0.0)


def normalize(image: NDArray[np.float64], options: Options, bits: int, name: str = "") -> NDArray[np.float64]:
    """``-Sx[:y]``: shift the mean to x (and scale the deviation about x to y), clipped to the bit depth.

    As the C++ program: x and y are read as integers, x <= 0 does nothing, the deviation is the sample
    standard deviation (n-1), and values are clipped to [0, 2^bits - 1]. Its statistics were gathered
    column by column if the image was downsampled, row by row otherwise.
    """
    mean = int(options.normalize_mean) if options.normalize_mean is not None else 0
    if mean <= 0:
        return image
    std = int(options.normalize_std) if options.normalize_std is not None else 0
    downsampled = 0 < options.downsample < 100
    image_mean, spread = cpp_moments((image.T if downsampled else image).ravel())
    values = image - (image_mean - mean)
    if std > 0:
        if spread == 0:
            # The C++ program would divide by zero and compute features of NaN pixels.
            raise BadJob(f"image {name!r} has one intensity throughout: -S{mean}:{std} cannot scale its deviation")
        values = mean + (values - mean) * (std / spread)
    return np.clip(values, 0.0, 2.0**bits - 1)


def preprocess(image: NDArray[np.float64], options: Options, bits: int, name: str) -> NDArray[np.float64]:
    """``-B``, then ``-d``, then ``-S``, as ``ImageMatrix::OpenImage``."""
    image = downsample(_cut_block(image, options, name), options.downsample)
    return np.ascontiguousarray(normalize(image, options, bits, name), dtype=np.float64)


def rotate(image: NDArray[np.float64], quarter_turns: int) -> NDArray[np.float64]:
    """``ImageMatrix::Rotate``: 90 is the transpose with each row reversed, 180 both axes reversed,
    and 270 the plain transpose (a mirror image of a 270-degree turn, kept to match the C++ features)."""
    if quarter_turns == 1:
        return image.T[:, ::-1]
    if quarter_turns == 2:
        return image[::-1, ::-1]
    if quarter_turns == 3:
        return image.T
    return image


def _tile(image: NDArray[np.float64], options: Options, sample: Sample, name: str) -> NDArray[np.float64]:
    return image[tile_box(image.shape[:2], options, sample, name)]


def tile_box(shape: tuple[int, ...], options: Options, sample: Sample, name: str) -> tuple[slice, slice]:
    """The rows and columns of one sample's tile in its (rotated) image of ``shape`` (rows, columns)."""
    rows, cols = shape
    if options.tiles == 1:
        return slice(0, rows), slice(0, cols)
    if sample.rotation % 2:
        # The C++ program sizes tiles of a quarter-turned image from the other axis; where that runs
        # past the image it reuses the previous tile's pixels, which no one can want.
        tile_w, tile_h = rows // options.tile_rows, cols // options.tile_cols
    else:
        tile_w, tile_h = cols // options.tile_cols, rows // options.tile_rows
    if options.tile_cols * tile_w > cols or options.tile_rows * tile_h > rows:
        raise BadJob(f"image {name!r}: with -R, the C++ program's tiles of the image turned 90 degrees "
                     f"({rows}x{cols} pixels) run past its edge; use a square image or no -R")
    if min(tile_w, tile_h) < MIN_TILE_SIDE:
        raise BadJob(f"image {name!r} ({cols}x{rows} after -B/-d) is too small for "
                     f"{options.tile_cols}x{options.tile_rows} tiles of at least {MIN_TILE_SIDE} pixels")
    top, left = sample.row * tile_h, sample.column * tile_w
    return slice(top, top + tile_h), slice(left, left + tile_w)


def cut_samples(image: NDArray[np.float64], options: Options, bits: int, name: str) -> list[NDArray[np.float64]]:
    """Every sample of a read image, in the C++ program's order, each a C-contiguous float64 array."""
    prepared = preprocess(image, options, bits, name)
    if min(prepared.shape) < MIN_TILE_SIDE:
        raise BadJob(f"image {name!r} is {prepared.shape[1]}x{prepared.shape[0]} pixels after -B/-d; "
                     f"features need at least {MIN_TILE_SIDE}")
    turned = {r: rotate(prepared, r) for r in range(ROTATIONS if options.rotations else 1)}
    return [np.ascontiguousarray(_tile(turned[s.rotation], options, s, name)) for s in samples(options)]
