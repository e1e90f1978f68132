"""Read a TIFF as a 2-D float64 array and cut it into the tiles features are computed on.

The order follows wndchrm: the ``-B`` block is cut from the original image, then ``-d`` downsamples,
then ``-t`` tiles. Tiles have equal size (``size // count``); a remainder of up to count-1 pixels at
the right and bottom is dropped, as CharmFeatures' own tiler does.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import tifffile
from numpy.typing import NDArray
from scipy import ndimage

from depqueue.errors import BadJob
from services.kinds.wndchrm.options import Options

#: Suffixes wndchrm reads as images; everything else in a dataset folder is ignored.
IMAGE_SUFFIXES = (".tif", ".tiff")

#: ITU-R 601 luma weights, the ones wndchrm and CharmFeatures use to turn RGB into grey.
RGB_WEIGHTS = (0.2990, 0.5870, 0.1140)

#: Smallest tile side CharmFeatures gives meaningful texture features for (its transforms need room).
MIN_TILE_SIDE = 8

# What tifffile and numpy raise on a truncated, corrupt or non-TIFF file (TiffFileError is a ValueError).
_READ_ERRORS = (ValueError, OSError, EOFError, struct.error, KeyError, IndexError, RuntimeError)


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def read_image(path: Path) -> NDArray[np.float64]:
    """The first page of a TIFF as grey float64; BadJob naming the file if it cannot be read."""
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            pixels, axes = page.asarray(), str(page.axes)
            rgb = page.photometric == tifffile.PHOTOMETRIC.RGB
    except _READ_ERRORS as exc:
        raise BadJob(f"image {path.name!r} is not a readable TIFF ({path}): {exc}") from exc
    image = np.asarray(pixels, dtype=np.float64)
    if "S" in axes and image.ndim == len(axes):
        # Samples per pixel, interleaved (YXS) or planar (SYX): RGB becomes grey, otherwise sample 0.
        samples = np.moveaxis(image, axes.index("S"), -1)
        image = samples[..., :3] @ np.array(RGB_WEIGHTS) if rgb and samples.shape[-1] >= 3 else samples[..., 0]
    while image.ndim > 2:
        image = image[0]
    if image.ndim != 2 or min(image.shape) < 1:
        raise BadJob(f"image {path.name!r} has unusable shape {pixels.shape} ({path})")
    if not np.isfinite(image).all():
        raise BadJob(f"image {path.name!r} has NaN or infinite pixels ({path})")
    return np.ascontiguousarray(image)


def preprocess(image: NDArray[np.float64], options: Options, name: str) -> NDArray[np.float64]:
    """Apply ``-B`` then ``-d``; BadJob if the block does not fit inside the image."""
    if options.block is not None:
        b = options.block
        rows, cols = image.shape
        if b.x + b.w > cols or b.y + b.h > rows:
            spec = f"-B{b.x},{b.y},{b.w},{b.h}"
            raise BadJob(f"block {spec} does not fit image {name!r} ({cols}x{rows} pixels)")
        image = image[b.y : b.y + b.h, b.x : b.x + b.w]
    if options.downsample != 100:
        # Linear interpolation, edge pixels repeated: a plain resize with no ringing added to textures.
        image = ndimage.zoom(image, options.downsample / 100.0, order=1, mode="nearest")
    return np.ascontiguousarray(image, dtype=np.float64)


def tiles(image: NDArray[np.float64], options: Options, name: str) -> list[NDArray[np.float64]]:
    """Row-major tiles: ``tile_rows`` rows of ``tile_cols`` columns."""
    rows, cols = image.shape
    tile_h, tile_w = rows // options.tile_rows, cols // options.tile_cols
    if min(tile_h, tile_w) < MIN_TILE_SIDE:
        raise BadJob(
            f"image {name!r} ({cols}x{rows} after -B/-d) is too small for "
            f"{options.tile_cols}x{options.tile_rows} tiles of at least {MIN_TILE_SIDE} pixels"
        )
    return [
        np.ascontiguousarray(image[r * tile_h : (r + 1) * tile_h, c * tile_w : (c + 1) * tile_w])
        for r in range(options.tile_rows)
        for c in range(options.tile_cols)
    ]


def load_tiles(path: Path, options: Options) -> list[NDArray[np.float64]]:
    """Read, preprocess and tile one image."""
    return tiles(preprocess(read_image(path), options, path.name), options, path.name)
