"""What kind of file an argument names, by its name alone: images wndchrm reads, and ``.fit`` models.

Kept free of numpy and the image libraries, so checking a job before it is queued (the submitter) needs
none of what computing features needs.
"""

from __future__ import annotations

from pathlib import Path

TIFF_SUFFIXES = (".tif", ".tiff")
#: Only ``.ppm`` (P5 or P6 inside), as the C++ program collects no ``.pgm`` from a class folder.
PPM_SUFFIXES = (".ppm",)
#: Suffixes read as images (the C++ program's); everything else in a dataset folder is ignored.
IMAGE_SUFFIXES = TIFF_SUFFIXES + PPM_SUFFIXES


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def is_model(arg: str) -> bool:
    """A ``.fit`` argument is a trained model, anything else a dataset."""
    return arg.lower().endswith(".fit")
