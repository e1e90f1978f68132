"""wndchrm command-line parsing: the original option meanings, and refusal of anything else."""

from __future__ import annotations

import pytest

from depqueue.errors import BadJob
from services.kinds.wndchrm.options import Block, parse


def test_defaults_are_wndchrms() -> None:
    cmd = parse(["wndchrm", "test", "set"])
    opts = cmd.options
    assert (cmd.name, cmd.args) == ("test", ["set"])
    assert (opts.long, opts.tiles, opts.downsample, opts.splits) == (False, 1, 100, 1)
    assert (opts.feature_fraction, opts.train_fraction, opts.wnn) == (0.15, None, False)


def test_every_supported_option() -> None:
    argv = ["wndchrm", "train", "-l", "-t3x2", "-d50", "-B1,2,30,40", "-n5", "-r0.5", "-i8", "-j4",
            "-f0.2", "-w", "-o", "-s2", "set", "out.fit"]
    opts = parse(argv).options
    assert opts.long and opts.wnn and opts.overwrite
    assert (opts.tile_cols, opts.tile_rows, opts.tiles) == (3, 2, 6)
    assert opts.downsample == 50 and opts.block == Block(1, 2, 30, 40)
    assert (opts.splits, opts.train_fraction, opts.max_train, opts.max_test) == (5, 0.5, 8, 4)
    assert (opts.feature_fraction, opts.verbosity) == (0.2, 2)
    assert opts.feature_argv() == ["-l", "-t3x2", "-d50", "-B1,2,30,40", "-o"]


def test_single_tile_number_means_square() -> None:
    opts = parse(["wndchrm", "check", "-t2", "set"]).options
    assert (opts.tile_cols, opts.tile_rows) == (2, 2)


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("-x", "unknown wndchrm option letter 'x'"),
        ("-vq", "expected -vrPATH"),
        ("-t0", "between 1 and 32"),
        ("-tx", "expected -tN or -tCxR"),
        ("-d0", "between 1 and 100"),
        ("-B1,2,3", "expected -Bx,y,w,h"),
        ("-r1.5", "fraction"),
        ("-fabc", "-f needs a value"),
        ("-lx", "unknown wndchrm option letter 'x'"),
    ],
)
def test_bad_options_are_named(word: str, message: str) -> None:
    with pytest.raises(BadJob, match=message):
        parse(["wndchrm", "test", word, "set"])


def test_unknown_command() -> None:
    with pytest.raises(BadJob, match="unknown wndchrm command 'frobnicate'"):
        parse(["wndchrm", "frobnicate", "set"])
