"""The values of wndchrm's options (``-t2x3``, ``-B1,2,30,40``, ``-r#0.5`` ...), checked the C++ program's way.

Each parser takes the text after its letter and stores the Options fields it sets in ``values``; a value
out of range is a BadJob naming the option, the value and the range, where the C++ program would stop
with a terse message or, for most options, silently use ``atoi``'s reading of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from depqueue import BadJob

#: Guards against jobs that would run for days or exhaust memory by a typo (``-t1000``).
MAX_TILES_PER_SIDE = 32
#: The C++ program's MAX_SPLITS.
MAX_SPLITS = 10_000


@dataclass(frozen=True)
class Block:
    """The ``-Bx,y,w,h`` rectangle, in pixels of the original image."""

    x: int
    y: int
    w: int
    h: int


def _int(letter: str, value: str, lo: int, hi: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise BadJob(f"option -{letter} needs an integer, got {value!r}") from None
    if not lo <= number <= hi:
        raise BadJob(f"option -{letter}{value}: value must be between {lo} and {hi}")
    return number


def _limit(letter: str, value: str, lo: int, hi: int) -> int | None:
    # -i0, -j0 and -N0 are the C++ program's "no limit", its default.
    return None if value.isdigit() and int(value) == 0 else _int(letter, value, lo, hi)


def _float(letter: str, value: str, lo: float, hi: float, what: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise BadJob(f"option -{letter} needs a number, got {value!r}") from None
    if not lo < number <= hi:
        raise BadJob(f"option -{letter}{value}: value must be {what}")
    return number


def _tiles(value: str, values: dict[str, object]) -> None:
    # wndchrm's -t[#][^]C[xR]: C columns by R rows; a single number means a square grid.
    match = re.fullmatch(r"(#?)(\^?)(\d+)(?:[xX](\d*))?", value)
    if match is None:
        raise BadJob(f"option -t{value}: expected -tN or -tCxR (columns x rows), optionally -t#N or -t#^N")
    if match.group(2) and not match.group(1):
        raise BadJob(f"option -t{value}: '^' (closest tile only) needs '#' before it (-t#^N)")
    cols = _int("t", match.group(3), 1, MAX_TILES_PER_SIDE)
    rows = _int("t", match.group(4), 1, MAX_TILES_PER_SIDE) if match.group(4) else cols
    values.update(tile_cols=cols, tile_rows=rows, tile_areas=bool(match.group(1)), max_tile=bool(match.group(2)))


def _block(value: str) -> Block:
    parts = value.split(",")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        raise BadJob(f"option -B{value}: expected -Bx,y,w,h with four non-negative integers")
    x, y, w, h = (int(p) for p in parts)
    if w < 1 or h < 1:
        raise BadJob(f"option -B{value}: width and height must be at least 1")
    return Block(x, y, w, h)


def _normalize(value: str, values: dict[str, object]) -> None:
    # Whole numbers: the C++ program reads both with atoi and names the .sig files by them (-S100_30).
    mean, colon, std = value.partition(":")
    if not mean.isdigit() or (colon and not std.isdigit()):
        raise BadJob(f"option -S{value}: expected -Smean or -Smean:stddev, whole numbers >= 0")
    values["normalize_mean"] = float(int(mean))
    if colon:
        values["normalize_std"] = float(int(std))


def _features(value: str, values: dict[str, object]) -> None:
    count, _, mrmr = value.partition(":")
    # Above 1 keeps every feature, as in the C++ program (it keeps round(f * count) of them).
    values["feature_fraction"] = _float("f", count, 0.0, float("inf"), "a fraction of the features, > 0")
    if mrmr:
        values["mrmr"] = _float("f", mrmr, 0.0, float("inf"), "the fraction of them mRMR keeps, > 0")


def _fraction(value: str, values: dict[str, object]) -> None:
    if value.startswith("#"):
        values["unbalanced"] = True
        value = value[1:]
    values["train_fraction"] = _float("r", value, 0.0, 1.0, "a fraction in (0, 1]")


def _max_train(value: str, values: dict[str, object]) -> None:
    if value.startswith("#"):
        values["exact_train"] = True
        value = value[1:]
    values["max_train"] = _limit("i", value, 1, 10**7)


def parse_report(value: str, values: dict[str, object]) -> None:
    """``-p[+][k][#][path]`` (``value`` is what follows ``p``), read in that order as the C++ program does."""
    values["report"] = True
    values["phylip_algorithm"] = 1  # the C++ program's default once -p is given
    if value.startswith("+"):
        values["export_tsv"], value = True, value[1:]
    if value[:1].isdigit():
        values["phylip_algorithm"] = _int("p", value[0], 1, 3)
        value = value[1:]
    if value.startswith("#"):
        values["image_similarities"], value = True, value[1:]
    if value:
        if value[0] not in "/.":
            raise BadJob(f"option -p: the PHYLIP path must start with '/' or '.', got {value[:40]!r}")
        values["phylip_path"] = value


def parse_weights(word: str, values: dict[str, object]) -> None:
    """``-v[r|w|+|-]PATH``: what to do with a feature weights file, and its path."""
    action, path = word[2:3], word[3:]
    if action not in ("r", "w", "+", "-") or not path:
        raise BadJob(f"option {word[:40]!r}: expected -vrPATH, -vwPATH, -v+PATH or -v-PATH (read, write, add, "
                     "subtract feature weights)")
    values["weights_action"], values["weights_path"] = action, path


def parse_value(letter: str, value: str, values: dict[str, object]) -> None:
    """The value following ``letter`` in a word of combined letters."""
    if letter == "t":
        _tiles(value, values)
    elif letter == "d":
        values["downsample"] = _int("d", value, 1, 100)
    elif letter == "S":
        _normalize(value, values)
    elif letter == "B":
        values["block"] = _block(value)
    elif letter == "f":
        _features(value, values)
    elif letter == "q":
        values["first_n"] = _int("q", value, 1, 10**4)
    elif letter == "r":
        _fraction(value, values)
    elif letter == "i":
        _max_train(value, values)
    elif letter == "j":
        values["max_test"] = _limit("j", value, 1, 10**7)
    elif letter == "n":
        values["splits"] = _int("n", value, 1, MAX_SPLITS)
    elif letter == "N":
        values["max_classes"] = _limit("N", value, 2, 10**4)
    elif letter == "s":
        values["verbosity"] = _int("s", value or "0", 0, 99)
    elif letter == "P":
        values["distance_method"] = _int("P", value, 1, 5)
