"""wndchrm's files and names, read and written as the C++ wndchrm 1.60 reads and writes them.

- ``fitfile``: ``.fit`` training sets (:func:`read_fit`, :func:`write_fit`).
- ``names``: feature names of wndchrm 4.2 (its files) and of CharmFeatures v5, and the map between them.
- ``cpp_names``: the names the C++ program gives its ``.sig`` files, and the lines ``wndchrm check`` prints.
- ``dataset``: a DATASET argument (class folders, a ``.tsv`` list, unlabelled images) as a list of images.
- ``files``: what an argument names, by its name alone (an image, a ``.fit`` model).
- ``ppm``: binary PPM images.
- ``outputs``: output paths under the data root, written atomically; a full disk retries later.

``.sig`` files live with the features they hold (:mod:`wndchrm.features.sigfile`): their layout follows
the samples an image is cut into. ``files``, ``dataset``, ``cpp_names`` and ``outputs`` need no numpy, so
checking a job before it is queued needs none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wndchrm._lazy import attach

if TYPE_CHECKING:
    from wndchrm.formats.cpp_names import check_lines, sample_names, sig_files
    from wndchrm.formats.dataset import Dataset, load_dataset, relative
    from wndchrm.formats.files import IMAGE_SUFFIXES, is_image, is_model
    from wndchrm.formats.fitfile import UNKNOWN, FitFile, parse_fit, read_fit, write_fit
    from wndchrm.formats.names import is_42, names_42, to_42, v5_to_42, v42_to_v5
    from wndchrm.formats.outputs import default_output, full_disk_retries_later, output_path, write_atomic
    from wndchrm.formats.ppm import read_ppm

__all__ = [
    "IMAGE_SUFFIXES", "UNKNOWN", "Dataset", "FitFile", "check_lines", "default_output", "full_disk_retries_later",
    "is_42", "is_image", "is_model", "load_dataset", "names_42", "output_path", "parse_fit", "read_fit",
    "read_ppm", "relative", "sample_names", "sig_files", "to_42", "v5_to_42", "v42_to_v5", "write_atomic",
    "write_fit",
]

if not TYPE_CHECKING:  # at run time each name is imported on first use; mypy reads the imports above
    __getattr__, __dir__ = attach(__name__, __file__, __all__)
