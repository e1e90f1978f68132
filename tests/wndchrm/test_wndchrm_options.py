"""wndchrm command-line parsing: every option of the 1.60 usage to its effect, and the built-in refusals."""

from __future__ import annotations

from typing import Any

import pytest

from depqueue import BadJob
from wndchrm.cli import support
from wndchrm.options import Block, Options, parse


def _options(*words: str) -> Options:
    return parse(["wndchrm", "test", *words, "set"]).options


def test_defaults_are_wndchrms() -> None:
    cmd = parse(["wndchrm", "test", "set"])
    opts = cmd.options
    assert (cmd.name, cmd.args, opts.words) == ("test", ["set"], ())
    assert (opts.long, opts.tiles, opts.downsample, opts.splits) == (False, 1, 100, 1)
    assert (opts.feature_fraction, opts.train_fraction, opts.wnn) == (0.15, None, False)
    assert (opts.verbosity, opts.distance_method, opts.report) == (2, 5, False)


#: One word per option of the usage text, and the Options fields it sets (every other field keeps its
#: default, which the test checks too).
EFFECTS: list[tuple[str, dict[str, Any]]] = [
    ("-m", {"save_sigs": True}),
    ("-R", {"rotations": True}),
    ("-t3", {"tile_cols": 3, "tile_rows": 3}),
    ("-t3x2", {"tile_cols": 3, "tile_rows": 2}),
    ("-t2X", {"tile_cols": 2, "tile_rows": 2}),
    ("-t#2", {"tile_cols": 2, "tile_rows": 2, "tile_areas": True}),
    ("-t#^2x4", {"tile_cols": 2, "tile_rows": 4, "tile_areas": True, "max_tile": True}),
    ("-d50", {"downsample": 50}),
    ("-S100", {"normalize_mean": 100.0}),
    ("-S100:30", {"normalize_mean": 100.0, "normalize_std": 30.0}),
    ("-B1,2,30,40", {"block": Block(1, 2, 30, 40)}),
    ("-l", {"long": True}),
    ("-c", {"color": True}),
    ("-o", {"overwrite": True}),
    ("-O", {"skip_sig_check": True}),
    ("-f0.2", {"feature_fraction": 0.2}),
    ("-f0.2:0.5", {"feature_fraction": 0.2, "mrmr": 0.5}),
    ("-vrw.txt", {"weights_action": "r", "weights_path": "w.txt"}),
    ("-vwout/w.txt", {"weights_action": "w", "weights_path": "out/w.txt"}),
    ("-v+w.txt", {"weights_action": "+", "weights_path": "w.txt"}),
    ("-v-w.txt", {"weights_action": "-", "weights_path": "w.txt"}),
    ("-A", {"assess": True}),
    ("-w", {"wnn": True}),
    ("-q3", {"first_n": 3}),
    ("-r0.5", {"train_fraction": 0.5}),
    ("-r#0.9", {"train_fraction": 0.9, "unbalanced": True}),
    ("-i8", {"max_train": 8}),
    ("-i#8", {"max_train": 8, "exact_train": True}),
    ("-j4", {"max_test": 4}),
    ("-i0", {}),  # 0: no limit, the default
    ("-j0", {}),
    ("-N0", {}),
    ("-n5", {"splits": 5}),
    ("-N3", {"max_classes": 3}),
    ("-C", {"continuous": True}),
    ("-s", {"verbosity": 0}),
    ("-s3", {"verbosity": 3}),
    ("-p", {"report": True, "phylip_algorithm": 1}),
    ("-p+2#/opt/phylip", {"report": True, "export_tsv": True, "phylip_algorithm": 2,
                          "image_similarities": True, "phylip_path": "/opt/phylip"}),
    ("-p./phylip", {"report": True, "phylip_algorithm": 1, "phylip_path": "./phylip"}),
    ("-P2", {"distance_method": 2}),
    ("-Dsaved/set.fit", {"dataset_fit": "saved/set.fit"}),
    ("-Ttest-lm.fit", {"testset_fit": "test-lm.fit"}),  # the path's letters are not switches
]


@pytest.mark.parametrize(("word", "effect"), EFFECTS, ids=[w for w, _ in EFFECTS])
def test_each_option_parses_to_its_effect(word: str, effect: dict[str, Any]) -> None:
    opts = _options(word)
    default = Options()
    changed = {name: getattr(opts, name) for name in vars(default) if getattr(opts, name) != getattr(default, name)}
    assert changed == {**effect, "words": (word,)}


def test_every_letter_of_the_usage_is_covered() -> None:
    usage_letters = set("mtslcdowfrijnpqvNSBACDTh") | {"R", "O", "P"}
    covered = {word[1] for word, _ in EFFECTS} | {"h"}
    assert usage_letters <= covered


def test_combined_letters_as_in_the_usage_example() -> None:
    cmd = parse(["wndchrm", "train", "-mcl", "/path/to/dataset/", "testset.fit"])
    assert (cmd.options.save_sigs, cmd.options.color, cmd.options.long) == (True, True, True)
    assert cmd.args == ["/path/to/dataset/", "testset.fit"] and cmd.options.words == ("-mcl",)
    opts = _options("-lt2x3d50wn4", "-r#0.5f0.1")
    assert (opts.long, opts.tile_cols, opts.tile_rows, opts.downsample, opts.wnn, opts.splits) == (
        True, 2, 3, 50, True, 4)
    assert (opts.unbalanced, opts.train_fraction, opts.feature_fraction) == (True, 0.5, 0.1)


def test_feature_argv_keeps_what_changes_the_features() -> None:
    opts = _options("-l", "-t3x2", "-d50", "-B1,2,30,40", "-S100:30", "-R", "-c", "-m", "-o", "-O",
                    "-n5", "-r0.5", "-i8", "-j4", "-f0.2", "-w", "-s2")
    assert opts.feature_argv() == ["-l", "-c", "-t3x2", "-d50", "-S100:30", "-B1,2,30,40", "-R", "-m", "-o", "-O"]
    again = parse(["wndchrm", "features", *opts.feature_argv(), "img.tif"]).options
    assert again.feature_argv() == opts.feature_argv()


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("-x", "unknown wndchrm option letter 'x'"),
        ("-lx", "unknown wndchrm option letter 'x'"),
        ("-vq", "expected -vrPATH"),
        ("-vw", "expected -vrPATH"),
        ("-t0", "between 1 and 32"),
        ("-t33", "between 1 and 32"),
        ("-tx", "expected -tN or -tCxR"),
        ("-t^2", "needs '#' before it"),
        ("-d0", "between 1 and 100"),
        ("-d101", "between 1 and 100"),
        ("-d", "-d needs a value"),
        ("-B1,2,3", "expected -Bx,y,w,h"),
        ("-B1,2,0,4", "width and height must be at least 1"),
        ("-S1.5", "whole numbers"),
        ("-S100:", "whole numbers"),
        ("-r1.5", r"fraction in \(0, 1\]"),
        ("-r0", r"fraction in \(0, 1\]"),
        ("-fabc", "-f needs a value"),
        ("-f0", "a fraction of the features"),
        ("-n0", "between 1 and 10000"),
        ("-n10001", "between 1 and 10000"),
        ("-P6", "between 1 and 5"),
        ("-p4", "between 1 and 3"),
        ("-pfoo", "PHYLIP path must start with '/' or '.'"),
        ("-N1", "between 2 and"),
        ("-D", "-D needs a .fit path"),
        ("-lDout.fit", "-D takes the rest of its word as a path"),
        ("-lp", "-p takes the rest of its word as a path"),
        ("-h", r"option -h shows the C\+\+ program's help"),
    ],
)
def test_bad_options_are_named(word: str, message: str) -> None:
    with pytest.raises(BadJob, match=message):
        _options(word)


def test_options_come_before_the_arguments() -> None:
    with pytest.raises(BadJob, match="option '-l' after the arguments"):
        parse(["wndchrm", "test", "set", "-l"])
    assert parse(["wndchrm", "test", "--", "-odd-name"]).args == ["-odd-name"]
    assert parse(["wndchrm", "classify", "m.fit", "img.tif", "--out=x.tsv"]).options.out == "x.tsv"


def test_unknown_command() -> None:
    with pytest.raises(BadJob, match="unknown wndchrm command 'frobnicate'"):
        parse(["wndchrm", "frobnicate", "set"])


#: A word using each option the built-in engine has refused, by the spelling its REFUSED entry gives.
REFUSED_EXAMPLES = {
    "-m": "-m", "-R": "-R", "-t#": "-t#2", "-S": "-S100", "-c": "-c", "-O": "-O", "-fN:M": "-f0.2:0.5",
    "-c with -R": "-cR",
    "-v": "-vrw.txt", "-A": "-A", "-q": "-q2", "-r#": "-r#0.5", "-i#": "-i#3", "-N": "-N3", "-C": "-C",
    "-p": "-p", "-D": "-Dd.fit", "-T": "-Tt.fit",
}


@pytest.mark.parametrize(("spelling", "reason"), [(s, r) for _, s, r in support.REFUSED])
def test_each_refused_option_gives_its_message(spelling: str, reason: str) -> None:
    assert spelling in REFUSED_EXAMPLES, f"add an example word for the refused option {spelling}"
    opts = _options(REFUSED_EXAMPLES[spelling])
    with pytest.raises(BadJob) as caught:
        support.check_supported(opts)
    message = str(caught.value)
    assert f"{spelling} ({reason})" in message and "WNDCHRM_BINARY" in message
    named = [s for _, s, r in support.REFUSED if f"{s} ({r})" in message]
    assert named == [spelling], f"only {spelling} should be refused: {message}"


@pytest.mark.parametrize("spelling", sorted(REFUSED_EXAMPLES))
def test_an_option_is_refused_exactly_while_its_entry_is_listed(spelling: str) -> None:
    # Holds both ways, so the table cannot pass vacuously: an entry removed when the engine learns its
    # option makes that option accepted, and one still listed keeps it refused.
    listed = spelling in {s for _, s, _ in support.REFUSED}
    opts = _options(REFUSED_EXAMPLES[spelling])
    if listed:
        with pytest.raises(BadJob, match=f"cannot honour {spelling} "):
            support.check_supported(opts)
    else:
        support.check_supported(opts)


def test_defaults_and_supported_options_are_not_refused() -> None:
    support.check_supported(Options())
    support.check_supported(_options("-l", "-t2x3", "-d50", "-B0,0,10,10", "-n3", "-r0.5", "-i4", "-j2",
                                     "-f0.3", "-w", "-o", "-s1", "-P3"))
    support.check_supported(_options("-c", "-l", "-t2x2"))
    assert len(REFUSED_EXAMPLES) == 18
