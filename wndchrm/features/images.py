"""Read an image the way the C++ wndchrm 1.60 reads it (``ImageMatrix::LoadTIFF``) and cut its samples.

- 8- and 16-bit samples only (12-bit data lives in 16-bit files); values are used as stored.
- One sample per pixel is the grey value; three are RGB, made grey as ``0.2989 R + 0.5870 G + 0.1140 B``
  of 8-bit values. 16-bit RGB is first scaled to 0-255 by the minimum and maximum over all three
  channels and truncated to whole numbers, as the C++ program does.
- Any compression tifffile reads (with imagecodecs: LZW, Deflate, PackBits, ...), strips or tiles.
- A multi-page TIFF gives its first page (the C++ program refuses such a file; see the README).
- Binary ``.ppm`` files too (:mod:`wndchrm.formats.ppm`).
- Under ``-c`` an RGB image also gives its HSV planes (:mod:`wndchrm.features.colour`), cut into the
  same tiles; a grey image, on which wndchrm 1.60 aborts under ``-c``, is a BadJob naming it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile
from numpy.typing import NDArray

from depqueue import BadJob
from wndchrm.features.colour import HSV, rgb_bytes, rgb_to_hsv
from wndchrm.features.featureset import Tile
from wndchrm.features.sampling import MIN_TILE_SIDE, cut_samples, preprocess_planes, samples, tile_box
from wndchrm.formats.cpp_names import COLOUR_ROTATIONS
from wndchrm.formats.files import IMAGE_SUFFIXES, PPM_SUFFIXES, is_image
from wndchrm.formats.ppm import read_ppm
from wndchrm.options import Options

__all__ = ["IMAGE_SUFFIXES", "MIN_TILE_SIDE", "RGB_WEIGHTS", "Picture", "is_image", "load_samples", "load_tiles",
           "read_image"]

#: The C++ program's RGB2GRAY weights (cmatrix.h).
RGB_WEIGHTS = (0.2989, 0.5870, 0.1140)

# What tifffile, imagecodecs and numpy raise on a truncated, corrupt or non-TIFF file.
_READ_ERRORS = (ValueError, OSError, EOFError, struct.error, KeyError, IndexError, RuntimeError)


@dataclass(frozen=True)
class Picture:
    """A read image: grey pixels (rows x cols, float64), the file's bits per sample (8 or 16) and, for an
    RGB image, its bytes as ``LoadTIFF`` keeps them for the colour features (rows x cols x 3)."""

    pixels: NDArray[np.float64]
    bits: int
    rgb: NDArray[np.uint8] | None = None


def _rgb_to_grey(rgb: NDArray[np.float64], bits: int) -> NDArray[np.float64]:
    if bits > 8:
        low, high = float(rgb.min()), float(rgb.max())
        scale = 255.0 / (high - low) if high > low else 0.0
        rgb = np.trunc((rgb - low) * scale)
    red, green, blue = (rgb[..., channel] for channel in range(3))
    # Added left to right as RGB2GRAY does: a matrix product may round differently, and edge features
    # tell a difference of exactly zero from one a rounding error away.
    return np.asarray(RGB_WEIGHTS[0] * red + RGB_WEIGHTS[1] * green + RGB_WEIGHTS[2] * blue, dtype=np.float64)


def _tiff_page(path: Path) -> tuple[NDArray[np.float64], int, int]:
    """The first page's samples (rows x cols [x samples]), bits per sample and samples per pixel."""
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            raw, axes = page.asarray(), str(page.axes)
            bits, spp = int(page.bitspersample), int(page.samplesperpixel)
    except _READ_ERRORS as exc:
        raise BadJob(f"image {path.name!r} is not a readable TIFF ({path}): {exc}") from exc
    if bits not in (8, 16) or raw.dtype.kind not in "ui":
        raise BadJob(f"image {path.name!r} has {bits}-bit {raw.dtype} samples; wndchrm reads 8- and 16-bit "
                     "integer images only")
    # The C++ program reads every sample as unsigned, so signed data wraps as it does there.
    pixels = raw.astype(f"u{raw.dtype.itemsize}").astype(np.float64)
    if "S" in axes and pixels.ndim == len(axes):
        pixels = np.moveaxis(pixels, axes.index("S"), -1)  # planar (SYX) or interleaved (YXS) alike
    while pixels.ndim > (3 if spp > 1 else 2):
        pixels = pixels[0]  # leading axes of size 1 (or pages tifffile joined into one series)
    return pixels, bits, spp


def read_image(path: Path) -> Picture:
    """The image as the C++ program sees it; BadJob naming the file and the cause if it cannot."""
    if path.suffix.lower() in PPM_SUFFIXES:
        pixels, bits, spp = read_ppm(path)
    else:
        pixels, bits, spp = _tiff_page(path)
    if bits not in (8, 16):
        raise BadJob(f"image {path.name!r} has {bits}-bit samples; wndchrm reads 8- and 16-bit images only")
    if spp not in (1, 3):
        raise BadJob(f"image {path.name!r} has {spp} samples per pixel; wndchrm reads grey (1) or RGB (3)")
    grey = _rgb_to_grey(pixels, bits) if spp == 3 else pixels
    if grey.ndim != 2 or min(grey.shape) < 1:
        raise BadJob(f"image {path.name!r} has unusable shape {pixels.shape} ({path})")
    rgb = rgb_bytes(pixels, bits) if spp == 3 else None
    return Picture(np.ascontiguousarray(grey), bits, rgb)


def load_tiles(path: Path, options: Options) -> list[NDArray[np.float64]]:
    """Read one image and cut its samples (rotations x tiles) in the C++ program's order."""
    picture = read_image(path)
    return cut_samples(picture.pixels, options, picture.bits, path.name)


def load_samples(path: Path, options: Options) -> list[Tile]:
    """Read one image and cut its samples, with their HSV planes under ``-c`` (``options.color``)."""
    picture = read_image(path)
    grey = cut_samples(picture.pixels, options, picture.bits, path.name)
    if not options.color:
        return [Tile(tile) for tile in grey]
    if picture.rgb is None:
        raise BadJob(f"image {path.name!r} is grey: -c needs RGB images (wndchrm 1.60 aborts on a grey one "
                     "under -c, an Eigen assertion on its missing colour plane)")
    if options.rotations:
        raise BadJob(f"-c with -R: {COLOUR_ROTATIONS}")
    hsv = rgb_to_hsv(picture.rgb)
    hsv = HSV(*preprocess_planes([hsv.hue, hsv.saturation, hsv.value], options, path.name))
    boxes = [tile_box(hsv.hue.shape, options, sample, path.name) for sample in samples(options)]
    return [Tile(tile, hsv.crop(*box)) for tile, box in zip(grey, boxes, strict=True)]
