"""Read a binary ``.ppm`` (``P5`` grey, ``P6`` RGB; 8-bit, or 16-bit big-endian when maxval > 255).

wndchrm 1.60 lists PPM among its formats and collects ``.ppm`` files from a class folder, but its
``OpenImage`` only opens names containing ``.tif``, so it fails on every one. Here a PPM gives what the
same pixels give in a TIFF of the same bit depth: values as stored (maxval is not used to rescale), RGB
to grey as the C++ program turns an RGB TIFF grey.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from depqueue import BadJob

#: Whitespace (with any ``#`` comment lines) then one decimal field of the header.
_FIELD = re.compile(rb"\s+(?:#[^\n]*\n\s*)*(\d+)")


def _header(data: bytes, name: str) -> tuple[str, list[int], int]:
    """Magic, [width, height, maxval], and where the pixels start."""
    if data[:2] not in (b"P5", b"P6"):
        raise BadJob(f"image {name!r} is not a binary PGM/PPM (expected P5 or P6, got {data[:2]!r})")
    fields: list[int] = []
    position = 2
    while len(fields) < 3:
        found = _FIELD.match(data, position)
        if found is None:
            raise BadJob(f"image {name!r} has a malformed PPM header (width, height and maxval expected)")
        fields.append(int(found.group(1)))
        position = found.end()
    if position >= len(data) or data[position : position + 1] not in b" \t\r\n":
        raise BadJob(f"image {name!r}: its PPM header does not end in one whitespace byte")
    return data[:2].decode(), fields, position + 1


def read_ppm(path: Path) -> tuple[NDArray[np.float64], int, int]:
    """Pixels (rows x cols, or rows x cols x 3 for P6), bits (8 or 16) and samples per pixel."""
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadJob(f"image {name!r} cannot be read ({path}): {exc}") from exc
    magic, (width, height, maxval), start = _header(data, name)
    if not 0 < maxval < 65536 or width < 1 or height < 1:
        raise BadJob(f"image {name!r}: PPM size {width}x{height} or maxval {maxval} out of range")
    samples = 3 if magic == "P6" else 1
    dtype = np.dtype(">u2") if maxval > 255 else np.dtype(np.uint8)
    needed = width * height * samples * dtype.itemsize
    if len(data) - start < needed:
        raise BadJob(f"image {name!r} is truncated: {len(data) - start} pixel bytes, {needed} needed ({path})")
    pixels = np.frombuffer(data, dtype=dtype, count=width * height * samples, offset=start)
    shape = (height, width, samples) if samples == 3 else (height, width)
    return pixels.reshape(shape).astype(np.float64), 8 * dtype.itemsize, samples
