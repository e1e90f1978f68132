"""Parse a wndchrm command line (``wndchrm COMMAND [options] ARGS...``) the way the C++ wndchrm 1.60 reads it.

Every option of its usage text is understood (shared/wndchrm/USAGE-1.60.txt), with the C++ program's rules:

- switches come before the positional arguments, each word starting with ``-``; letters may be combined
  in one word (``-mcl``, ``-lt2x2``), each letter followed by its value (``-t2x3``, ``-d50``, ``-f0.2``);
- ``-p...``, ``-v...``, ``-D...`` and ``-T...`` take the rest of their word (a path), so the path's letters
  are not read as more switches; as in the C++ program they must start their word (``-l -pPATH``);
- the hidden ``-C`` of the C++ program (continuous class values) is understood too.

Where the C++ program silently ignores a malformed value (``-vq``, ``-pfoo``, ``-B1,2``) or reads one
with ``atoi`` (``-d5x`` as 5), this parser refuses the word and says why: a job that runs for hours on
options the user did not mean is worse than one refused at submission.

Parsing is separate from support: :mod:`wndchrm.cli.support` says which parsed options the
built-in engine honours; a configured C++ binary receives the words unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from depqueue import BadJob
from wndchrm.option_values import (
    MAX_SPLITS,
    MAX_TILES_PER_SIDE,
    Block,
    parse_report,
    parse_value,
    parse_weights,
)

__all__ = ["MAX_SPLITS", "MAX_TILES_PER_SIDE", "Block", "Command", "Options", "parse"]

#: The commands a user may submit, and the internal per-image dependency command.
USER_COMMANDS = ("train", "test", "classify", "check")
FEATURES_COMMAND = "features"
COMMANDS = (*USER_COMMANDS, FEATURES_COMMAND)

#: wndchrm's defaults: 75% of the smallest class trains in ``test``, all of it in ``classify``;
#: 15% of the features are kept; class distances for the dendrogram by method 5.
DEFAULT_TRAIN_FRACTION = 0.75
CLASSIFY_TRAIN_FRACTION = 1.0
DEFAULT_FEATURE_FRACTION = 0.15
DEFAULT_DISTANCE_METHOD = 5

#: Letters that are flags (no value), and the Options field each sets.
FLAGS = {
    "m": "save_sigs",
    "R": "rotations",
    "l": "long",
    "c": "color",
    "o": "overwrite",
    "O": "skip_sig_check",
    "A": "assess",
    "w": "wnn",
    "C": "continuous",
}
#: Letters that take the rest of their word.
PATH_LETTERS = "pvDT"
#: Letters followed by a value made of these characters.
VALUE_CHARS = {
    "t": r"[#^]*[0-9xX]*",
    "d": r"[0-9]*",
    "S": r"[0-9.]*(?::[0-9.]*)?",
    "B": r"[0-9,]*",
    "f": r"[0-9.eE+-]*(?::[0-9.eE+-]*)?",
    "q": r"[0-9]*",
    "r": r"#?[0-9.eE+-]*",
    "i": r"#?[0-9]*",
    "j": r"[0-9]*",
    "n": r"[0-9]*",
    "N": r"[0-9]*",
    "s": r"[0-9]*",
    "P": r"[0-9]*",
}
LETTERS = "".join(FLAGS) + PATH_LETTERS + "".join(VALUE_CHARS) + "h"


@dataclass(frozen=True)
class Options:
    """Parsed wndchrm options; defaults are the C++ program's. Comments give the letter."""

    # Image sampling (change what is computed per image)
    save_sigs: bool = False  # -m: save and reuse .sig files beside the images
    rotations: bool = False  # -R: training images also at 90, 180, 270 degrees
    tile_cols: int = 1  # -tC[xR]
    tile_rows: int = 1
    tile_areas: bool = False  # -t#: each tile position a separate dataset (test only)
    max_tile: bool = False  # -t#^: only the closest tile
    downsample: int = 100  # -dN
    normalize_mean: float | None = None  # -Sx[:y]
    normalize_std: float | None = None
    block: Block | None = None  # -Bx,y,w,h
    # Image features
    long: bool = False  # -l
    color: bool = False  # -c
    overwrite: bool = False  # -o
    skip_sig_check: bool = False  # -O
    # Feature reduction
    feature_fraction: float = DEFAULT_FEATURE_FRACTION  # -fN
    mrmr: float | None = None  # -fN:M
    weights_action: str | None = None  # -v[r|w|+|-]path
    weights_path: str | None = None
    assess: bool = False  # -A
    # Classifier
    wnn: bool = False  # -w
    first_n: int | None = None  # -qN
    train_fraction: float | None = None  # -r[#]N (None: the command's default)
    unbalanced: bool = False  # -r#
    max_train: int | None = None  # -i[#]N
    exact_train: bool = False  # -i#: skip classes with fewer than N samples
    max_test: int | None = None  # -jN
    splits: int = 1  # -nN
    max_classes: int | None = None  # -Nx
    continuous: bool = False  # -C (hidden in the usage): class labels are values
    # Output
    verbosity: int = 2  # -s[N] (-s alone: 0); the C++ default is 2, or WNDCHRM_VERBOSITY
    report: bool = False  # -p...
    export_tsv: bool = False  # -p+
    phylip_algorithm: int | None = None  # -p[+]k
    image_similarities: bool = False  # -p#
    phylip_path: str | None = None  # -p.../path
    distance_method: int = DEFAULT_DISTANCE_METHOD  # -PN
    dataset_fit: str | None = None  # -Dpath
    testset_fit: str | None = None  # -Tpath
    out: str | None = None  # --out=PATH (this project's: where classify/check write)
    #: The option words as given, for a C++ binary that gets them unchanged.
    words: tuple[str, ...] = ()

    @property
    def tiles(self) -> int:
        return self.tile_cols * self.tile_rows

    def feature_argv(self) -> list[str]:
        """The options that change what is computed per image, for a dependency job's argv."""
        argv: list[str] = ["-l"] if self.long else []
        if self.color:
            argv.append("-c")
        if self.tiles > 1:
            argv.append(f"-t{self.tile_cols}x{self.tile_rows}")
        if self.downsample != 100:
            argv.append(f"-d{self.downsample}")
        if self.normalize_mean is not None:
            std = "" if self.normalize_std is None else f":{_number(self.normalize_std)}"
            argv.append(f"-S{_number(self.normalize_mean)}{std}")
        if self.block is not None:
            b = self.block
            argv.append(f"-B{b.x},{b.y},{b.w},{b.h}")
        if self.rotations:
            argv.append("-R")
        if self.save_sigs:
            argv.append("-m")
        if self.overwrite:
            argv.append("-o")
        if self.skip_sig_check:
            argv.append("-O")
        return argv


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


@dataclass(frozen=True)
class Command:
    """One parsed command line: the command word, its options, and its positional arguments."""

    name: str
    options: Options
    args: list[str] = field(default_factory=list)


def _switch(word: str, values: dict[str, object]) -> None:
    """One ``-...`` word: a path-taking switch, or letters each with its value."""
    letter = word[1]
    if letter == "p":
        parse_report(word[2:], values)
        return
    if letter == "v":
        parse_weights(word, values)
        return
    if letter in "DT":
        if len(word) < 3:
            raise BadJob(f"option -{letter} needs a .fit path attached (-{letter}path.fit)")
        values["dataset_fit" if letter == "D" else "testset_fit"] = word[2:]
        return
    _letters(word, values)


def _letters(word: str, values: dict[str, object]) -> None:
    """A word of combined letters (``-mcl``, ``-lt2x2d50``), each followed by its value if it takes one."""
    position = 1
    while position < len(word):
        letter = word[position]
        position += 1
        if letter == "h":
            raise BadJob("option -h shows the C++ program's help; it is not a job (see the wndchrm kind's README)")
        if letter in PATH_LETTERS:
            raise BadJob(f"option -{letter} takes the rest of its word as a path, so it must start a word of "
                         f"its own (write '-{letter}...' separately, not {word[:40]!r})")
        if letter in FLAGS:
            values[FLAGS[letter]] = True
        elif letter in VALUE_CHARS:
            match = re.match(VALUE_CHARS[letter], word[position:])
            value = match.group(0) if match else ""
            position += len(value)
            if not value and letter not in "s":
                raise BadJob(f"option -{letter} needs a value (in {word[:40]!r})")
            parse_value(letter, value, values)
        else:
            raise BadJob(f"unknown wndchrm option letter {letter!r} in {word[:40]!r}; "
                         f"the usage lists -{''.join(sorted(set(LETTERS)))}")


def parse(argv: list[str]) -> Command:
    """Parse ``["wndchrm", COMMAND, options..., args...]``; raise BadJob naming anything unusable.

    As in the C++ program, options come first; ``--out=PATH`` (this project's) may come anywhere.
    """
    if len(argv) < 2 or argv[0] != "wndchrm":
        raise BadJob("expected 'wndchrm COMMAND [options] ARGS...'")
    name = argv[1]
    if name not in COMMANDS:
        raise BadJob(f"unknown wndchrm command {name[:40]!r}; known: {', '.join(USER_COMMANDS)}")
    values: dict[str, object] = {}
    args: list[str] = []
    words: list[str] = []
    rest = argv[2:]
    for index, word in enumerate(rest):
        if word == "--":
            args.extend(rest[index + 1 :])
            break
        if word.startswith("--out="):
            values["out"] = word[len("--out=") :]
        elif word.startswith("-") and len(word) > 1 and not args:
            _switch(word, values)
            words.append(word)
        elif word.startswith("-") and len(word) > 1:
            raise BadJob(f"option {word[:40]!r} after the arguments; wndchrm reads options before them")
        else:
            args.append(word)
    return Command(name, Options(**values, words=tuple(words)), args)  # type: ignore[arg-type]
