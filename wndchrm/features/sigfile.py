"""wndchrm's ``.sig`` files: one sample's features, beside its image, read and written as the C++ does.

Layout (signatures::SaveToFile / LoadFromFilep in wndchrm 1.60)::

    <class index><TAB><version>.<type>     e.g. "2\t4.2" (a continuous set writes its value, "%f")
    <image path>                           as the program was given it
    <value><TAB><feature name>             one line per feature, "%.8g"; old files have no names

Names (setup_featureset, signatures::GetFileName): the image path up to its last ``.``, then the sample
name ``[-Bx_y_w_h][-dN][-Sm[_s]][-R_r][-tC_x_y|-tCxR_x_y][-c][-l]``, then ``.sig``: ``cell-l.sig``,
``cell-t2_0_1-l.sig``. The C++ program trusts a file by its name alone, so the name is how a ``.sig``
made with other options is told apart. Older wndchrm versions named them ``<image>_<x>_<y>.sig``
(old style), which the C++ program reuses only after recomputing part of the features to compare, or
unchecked with ``-O``.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
from numpy.typing import NDArray

from wndchrm.features.sampling import Sample, sample_name, samples
from wndchrm.formats.names import is_dropped
from wndchrm.formats.outputs import full_disk_retries_later
from wndchrm.options import Options

log = logging.getLogger(__name__)

#: The feature vector version the C++ wndchrm 1.60 computes and this module writes.
VERSION_MAJOR = 4
#: Permissions of a finished ``.sig`` (r--r--r--), as the C++ program leaves them.
FINISHED_MODE = 0o444
#: Its feature vector types (StdFeatureComputationPlans::feature_vec_types).
TYPE_SHORT, TYPE_LONG, TYPE_SHORT_COLOR, TYPE_LONG_COLOR = 1, 2, 3, 4


@dataclass(frozen=True)
class SigFile:
    """One sample's features as a ``.sig`` holds them (``names`` are empty strings in old files)."""

    sample_class: str
    version: tuple[int, int]
    image_path: str
    values: NDArray[np.float64]
    names: list[str]


def feature_type(options: Options) -> int:
    """The feature vector type the C++ program computes for ``options``."""
    if options.color:
        return TYPE_LONG_COLOR if options.long else TYPE_SHORT_COLOR
    return TYPE_LONG if options.long else TYPE_SHORT


def sig_path(image: Path, options: Options, sample: Sample) -> Path:
    """Where the C++ program keeps this sample's ``.sig``: beside the image, named by the options."""
    return image.with_name(_stem(image) + sample_name(options, sample) + ".sig")


def old_sig_path(image: Path, sample: Sample) -> Path:
    """The old-style name of a tile's ``.sig`` (``<image>_<column>_<row>.sig``), read with ``-O``."""
    return image.with_name(f"{_stem(image)}_{sample.column}_{sample.row}.sig")


def _stem(image: Path) -> str:
    # GetFileName cuts the path at its last '.', so "a.b.tif" gives "a.b" and "a" stays "a".
    return image.name.rpartition(".")[0] or image.name


def read_sig(path: Path) -> SigFile:
    """Parse a ``.sig``; OSError if unreadable, ValueError saying what is wrong if it is not one."""
    lines = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    if len(lines) < 3:
        raise ValueError(f"{path.name}: {len(lines)} line(s), no features")
    head = lines[0].split()
    if not 1 <= len(head) <= 2:
        raise ValueError(f"{path.name}: line 1 is {lines[0]!r}, not '<class>[<TAB><version>]'")
    version = (1, 0)
    if len(head) == 2:
        major, _, kind = head[1].partition(".")
        version = (int(major), int(kind or 0))
    # sscanf "%lf%*[\t ]%[^\t\r\n]": the value, blanks, then the name (absent in old files). One split
    # per line and one conversion of every value at once: a parent reads thousands of these files.
    fields = [line.split(None, 1) for line in lines[2:]]
    try:
        values = np.array([field[0] for field in fields], dtype=np.float64)
    except (IndexError, ValueError):
        _raise_bad_line(path, lines)
    names = [field[1] if len(field) > 1 else "" for field in fields]
    return SigFile(head[0], version, lines[1], values, names)


def _raise_bad_line(path: Path, lines: list[str]) -> NoReturn:
    """The ValueError naming the first line that is not a value (and perhaps a name)."""
    for i, line in enumerate(lines[2:]):
        value = (line.split(None, 1) or [""])[0]
        try:
            float(value)
        except ValueError:
            raise ValueError(f"{path.name}: line {i + 3} is {line[:60]!r}, not '<value>[<TAB><name>]'") from None
    raise ValueError(f"{path.name}: its values do not read as numbers")


def format_value(value: float) -> str:
    """A feature value as the C++ program writes it in a ``.sig`` (``%.8g``)."""
    return f"{value:.8g}"


def sig_text(sig: SigFile) -> str:
    """The whole ``.sig`` text, as signatures::SaveToFile writes it (with feature names)."""
    lines = [f"{sig.sample_class}\t{sig.version[0]}.{sig.version[1]}", sig.image_path]
    lines += [f"{format_value(v)}\t{n}" for v, n in zip(sig.values.tolist(), sig.names, strict=True)]
    return "\n".join(lines) + "\n"


def write_sig(path: Path, sig: SigFile) -> None:
    """Write through a synced temp file and a rename: a reader sees the whole file or none of it.

    Replaces an existing (read-only) file, as ``-o`` asks; the folder must be writable. A full disk is
    RetryLater naming the file.
    """
    with full_disk_retries_later(path):
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as stream:
                stream.write(sig_text(sig))
                stream.flush()
                os.fsync(stream.fileno())
                # A finished C++ .sig is read-only (WORMfile::finish): a writable one is still being written.
                os.fchmod(stream.fileno(), FINISHED_MODE)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


def read_image_sigs(image: Path, options: Options, wanted: Sequence[str]) -> NDArray[np.float64] | None:
    """Samples x ``wanted`` features (wndchrm's vector for ``options``) of ``image`` from its ``.sig``
    files, or None.

    None unless every sample has a usable file: the name the options give (or, with ``-O``, the
    old-style name), the C++ program's version and type for these options, and every wanted feature.
    """
    rows = []
    for sample in samples(options):
        row = _usable(sig_path(image, options, sample), options, wanted, old_style=False)
        if row is None and options.skip_sig_check:
            row = _usable(old_sig_path(image, sample), options, wanted, old_style=True)
        if row is None:
            return None
        rows.append(row)
    return np.stack(rows)


def _usable(path: Path, options: Options, wanted: Sequence[str], old_style: bool) -> NDArray[np.float64] | None:
    """The file's values of ``wanted``, or None (logged) if it is not to be used."""
    if not path.is_file():
        return None
    try:
        sig = read_sig(path)
    except (OSError, ValueError) as exc:
        log.warning("%s is not used: %s", path, exc)
        return None
    if not old_style and sig.version != (VERSION_MAJOR, feature_type(options)):
        log.info("%s is not used: feature vector %d.%d, not %d.%d", path, *sig.version,
                 VERSION_MAJOR, feature_type(options))
        return None
    columns = _columns(tuple(sig.names), tuple(wanted))
    if columns is None:
        log.info("%s is not used: it does not hold the feature set of these options", path)
        return None
    values = sig.values[columns]
    mcc = _mcc_columns(tuple(wanted))
    if len(mcc) and not values[mcc].any():
        log.info("%s is not used: its Haralick [16] and [17] are all 0 (written by wndchrm-queue before it "
                 "computed them)", path)
        return None
    return values


@functools.lru_cache(maxsize=8)
def _columns(names: tuple[str, ...], wanted: tuple[str, ...]) -> NDArray[np.intp] | None:
    """Where a file named ``names`` holds ``wanted``; None unless it holds exactly that set.

    Cached: every .sig of a dataset has the same names, and mapping them costs more than parsing.
    """
    # A file without names (old wndchrm) is read in the C++ program's order if its length fits.
    if not any(names) and len(names) == len(wanted):
        return np.arange(len(wanted), dtype=np.intp)
    if len(names) != len(wanted):
        return None
    position = {name: i for i, name in enumerate(names)}
    try:
        return np.array([position[name] for name in wanted], dtype=np.intp)
    except KeyError:
        return None


@functools.lru_cache(maxsize=8)
def _mcc_columns(wanted: tuple[str, ...]) -> NDArray[np.intp]:
    """Columns of the grey Haralick [16] and [17] (never all 0 in a file the C++ program wrote)."""
    return np.array([i for i, name in enumerate(wanted) if is_dropped(name) and "Color" not in name
                     and "Hue" not in name], dtype=np.intp)


def write_image_sigs(image: Path, options: Options, features: NDArray[np.float64], names: Sequence[str],
                     image_label: str) -> None:
    """Write one ``.sig`` per sample, as the C++ program would name and fill it.

    ``features`` is samples x ``names`` (wndchrm's vector for ``options``). The class is written as 0
    (unknown), which the C++ program replaces with the class of the dataset it reads the file for.
    """
    for sample, values in zip(samples(options), features, strict=True):
        sig = SigFile("0", (VERSION_MAJOR, feature_type(options)), image_label, values, list(names))
        write_sig(sig_path(image, options, sample), sig)
