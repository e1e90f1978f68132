"""Parse a wndchrm command line (``wndchrm COMMAND [options] ARGS...``) the way the C++ program reads it.

Options are single letters with their value attached (``-t2x2``, ``-d50``, ``-f0.15``), as in wndchrm.
Only the options this engine honours are accepted; anything else is refused by name rather than ignored,
since a silently ignored option would give results the user did not ask for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from depqueue.errors import BadJob

#: The commands a user may submit, and the internal per-image dependency command.
USER_COMMANDS = ("train", "test", "classify", "check")
FEATURES_COMMAND = "features"
COMMANDS = (*USER_COMMANDS, FEATURES_COMMAND)

#: wndchrm's defaults: 75% of the smallest class trains, 15% of the features are kept.
DEFAULT_TRAIN_FRACTION = 0.75
DEFAULT_FEATURE_FRACTION = 0.15

#: Guards against jobs that would run for days or exhaust memory by a typo (``-t1000``).
MAX_TILES_PER_SIDE = 32
MAX_SPLITS = 1000

SUPPORTED = "-l -t -d -B -n -r -i -j -f -w -o -s --out="


@dataclass(frozen=True)
class Block:
    """The ``-Bx,y,w,h`` rectangle, in pixels of the original image."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Options:
    """Parsed wndchrm options; defaults are the C++ program's."""

    long: bool = False
    tile_cols: int = 1
    tile_rows: int = 1
    downsample: int = 100
    block: Block | None = None
    splits: int = 1
    train_fraction: float | None = None
    max_train: int | None = None
    max_test: int | None = None
    feature_fraction: float = DEFAULT_FEATURE_FRACTION
    wnn: bool = False
    overwrite: bool = False
    verbosity: int = 0
    out: str | None = None

    @property
    def tiles(self) -> int:
        return self.tile_cols * self.tile_rows

    def feature_argv(self) -> list[str]:
        """The options that change what is computed per image, for a dependency job's argv.

        ``-l`` is kept although the built-in engine always caches the long set: a real wndchrm binary
        computes a different signature file for it.
        """
        argv: list[str] = ["-l"] if self.long else []
        if self.tiles > 1:
            argv.append(f"-t{self.tile_cols}x{self.tile_rows}")
        if self.downsample != 100:
            argv.append(f"-d{self.downsample}")
        if self.block is not None:
            b = self.block
            argv.append(f"-B{b.x},{b.y},{b.w},{b.h}")
        if self.overwrite:
            argv.append("-o")
        return argv


@dataclass(frozen=True)
class Command:
    """One parsed command line: the command word, its options, and its positional arguments."""

    name: str
    options: Options
    args: list[str] = field(default_factory=list)


def _int(letter: str, value: str, lo: int, hi: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise BadJob(f"option -{letter} needs an integer, got {value!r}") from None
    if not lo <= number <= hi:
        raise BadJob(f"option -{letter}{value}: value must be between {lo} and {hi}")
    return number


def _fraction(letter: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise BadJob(f"option -{letter} needs a number, got {value!r}") from None
    if not 0.0 < number <= 1.0:
        raise BadJob(f"option -{letter}{value}: value must be a fraction in (0, 1]")
    return number


def _tiles(value: str) -> tuple[int, int]:
    # wndchrm's -tCxR: C columns by R rows; a single number means a square grid.
    match = re.fullmatch(r"(\d+)(?:x(\d+))?", value)
    if match is None:
        raise BadJob(f"option -t{value}: expected -tN or -tCxR (columns x rows), e.g. -t2 or -t3x2")
    cols = _int("t", match.group(1), 1, MAX_TILES_PER_SIDE)
    rows = _int("t", match.group(2), 1, MAX_TILES_PER_SIDE) if match.group(2) else cols
    return cols, rows


def _block(value: str) -> Block:
    parts = value.split(",")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        raise BadJob(f"option -B{value}: expected -Bx,y,w,h with four non-negative integers")
    x, y, w, h = (int(p) for p in parts)
    if w < 1 or h < 1:
        raise BadJob(f"option -B{value}: width and height must be at least 1")
    return Block(x, y, w, h)


def parse(argv: list[str]) -> Command:
    """Parse ``["wndchrm", COMMAND, options..., args...]``; raise BadJob naming anything unusable."""
    if len(argv) < 2 or argv[0] != "wndchrm":
        raise BadJob("expected 'wndchrm COMMAND [options] ARGS...'")
    name = argv[1]
    if name not in COMMANDS:
        raise BadJob(f"unknown wndchrm command {name[:40]!r}; known: {', '.join(USER_COMMANDS)}")
    values: dict[str, object] = {}
    args: list[str] = []
    rest = argv[2:]
    for index, word in enumerate(rest):
        if word == "--":
            args.extend(rest[index + 1 :])
            break
        if word.startswith("--out="):
            values["out"] = word[len("--out=") :]
        elif word.startswith("-") and len(word) > 1:
            _option(word, values)
        else:
            args.append(word)
    return Command(name, Options(**values), args)  # type: ignore[arg-type]


def _option(word: str, values: dict[str, object]) -> None:
    letter, value = word[1], word[2:]
    flags = {"l": "long", "w": "wnn", "o": "overwrite"}
    if letter in flags:
        if value:
            raise BadJob(f"option -{letter} takes no value (got {word!r})")
        values[flags[letter]] = True
    elif letter == "t":
        values["tile_cols"], values["tile_rows"] = _tiles(value)
    elif letter == "d":
        values["downsample"] = _int("d", value, 1, 100)
    elif letter == "B":
        values["block"] = _block(value)
    elif letter == "n":
        values["splits"] = _int("n", value, 1, MAX_SPLITS)
    elif letter == "r":
        values["train_fraction"] = _fraction("r", value)
    elif letter == "i":
        values["max_train"] = _int("i", value, 1, 10**7)
    elif letter == "j":
        values["max_test"] = _int("j", value, 1, 10**7)
    elif letter == "f":
        values["feature_fraction"] = _fraction("f", value)
    elif letter == "s":
        values["verbosity"] = _int("s", value or "1", 0, 9)
    else:
        raise BadJob(f"unsupported wndchrm option {word[:40]!r}; supported: {SUPPORTED}")
