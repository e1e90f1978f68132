"""wndchrm's argument rules: which argument is the test set, the report, the output; outputs never overwrite
inputs; and what the submitter accepts when the workers run a C++ binary."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from wndchrm_helpers import run_through_kind

from depqueue import BadJob
from services.kinds import JobContext
from services.kinds.builtin import register_kinds
from services.kinds.wndchrm import WNDCHRM, WndchrmKind
from wndchrm.cli import support
from wndchrm.cli.commands import parse_job, report_paths

BIN = Path(sys.executable).parent


@pytest.fixture
def tree(ctx: JobContext, make_image: Callable[..., Path], data_root: Path) -> JobContext:
    """``set/{a,b}/`` with two small images each, ``one.tif``, two lists of images, a weights file and
    two empty models."""
    for k in range(2):
        make_image(f"set/a/a{k}.tif", size=32, seed=k)
        make_image(f"set/b/b{k}.tif", size=32, seed=10 + k)
    make_image("one.tif", size=32, seed=20)
    make_image("-one.tif", size=32, seed=21)
    for listing in ("list.tsv", "Dlist.tsv"):
        (data_root / listing).write_text("set/a/a0.tif\ta\nset/b/b0.tif\tb\n")
    (data_root / "w.txt").write_text("0.5 a feature name\n")
    for model in ("a.fit", "b.fit"):
        (data_root / model).write_text("")
    return ctx


def _job(ctx: JobContext, *args: str) -> tuple[str | None, str | None, str | None, tuple[str, ...]]:
    job = parse_job(["wndchrm", *args], ctx)
    return job.testset, job.report, job.output, job.images


@pytest.mark.parametrize(
    ("args", "testset", "report", "output"),
    [
        (("test", "a.fit", "b.fit"), "b.fit", None, None),  # a test set, as in wndchrm: never a report
        (("test", "set", "list.tsv"), "list.tsv", None, None),
        (("test", "set", "r/out.html"), None, "r/out.html", "r/out.html"),
        (("test", "set", "list.tsv", "r/out.htm"), "list.tsv", "r/out.htm", "r/out.htm"),
        (("test", "-p", "set", "r/out.html"), None, "r/out.html", "r/out.html"),
        (("test", "--out=r/t.txt", "set"), None, None, "r/t.txt"),
        (("train", "set", "m.fit"), None, None, "m.fit"),
        (("train", "-Dm.fit", "set"), None, None, None),
        (("check", "set"), None, None, None),
    ],
)
def test_which_argument_is_which(tree: JobContext, args: tuple[str, ...], testset: str | None,
                                 report: str | None, output: str | None) -> None:
    assert _job(tree, *args)[:3] == (testset, report, output)


def test_classify_takes_test_sets_then_a_report(tree: JobContext) -> None:
    assert _job(tree, "classify", "a.fit", "one.tif") == (None, None, None, ("one.tif",))
    assert _job(tree, "classify", "set", "one.tif", "list.tsv", "r.html") == (None, "r.html", None,
                                                                              ("one.tif", "list.tsv"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("test", "set", "reports/x.txt"), r"path 'reports/x.txt' does not exist \(in 'test DATASET X', X is the "
                                           r"test set unless it contains '.htm'"),
        (("test", "set", "list.tsv", "x.txt"), "the report 'x.txt' must end in .htm or .html"),
        (("test", "set", "list.tsv", "x.html", "y"), r"got 4 argument\(s\)"),
        (("test", "set", "x.html", "list.tsv"), "'list.tsv' after the report"),
        (("test", "-p", "set"), "a report html file must be specified with -p"),
        (("test", "--out=o.txt", "set", "x.html"), "name the report once"),
        (("classify", "a.fit"), "the classify command must have a test set"),
        (("classify", "a.fit", "r.html"), "the classify command must have a test set"),
        (("classify", "a.fit", "one.tif", "r.html", "set"), "'set' after the report"),
        (("train", "set"), r"got 1 argument\(s\); OUT may be given as -DOUT"),
        (("train", "-Dm.fit", "set", "o.fit"), "name the output once"),
        (("train", "a.fit", "o.fit"), "wndchrm train needs a dataset, not a model"),
        (("check", "set", "extra"), "got 2 argument"),
        (("train", "list.tsv", "list.tsv"), "output 'list.tsv' is also an input of this job"),
        (("train", "set", "set/a/a0.tif"), "output 'set/a/a0.tif' is also an input"),
        (("classify", "set", "one.tif", "--out=one.tif"), "output 'one.tif' is also an input"),
        (("test", "set", "--out=list.tsv", "list.tsv"), "output 'list.tsv' is also an input"),
        (("test", "set", "../outside.html"), "outside the data root"),
        (("test", "-Dlist.tsv", "list.tsv"), "output 'list.tsv' is also an input"),
        (("test", "-vwlist.tsv", "list.tsv"), "output 'list.tsv' is also an input"),
        (("test", "-vrw.txt", "set", "w.html"), "output 'w.txt' is also an input"),  # REPORT.txt beside
        (("test", "-vrmissing.txt", "set"), "'missing.txt' does not exist"),
    ],
)
def test_argument_mistakes_are_named(tree: JobContext, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(BadJob, match=message):
        parse_job(["wndchrm", *args], tree)


def test_report_html_gets_the_html_and_the_others_go_beside_it(tree: JobContext, data_root: Path) -> None:
    job = parse_job(["wndchrm", "test", "set", "r/out.htm"], tree)
    assert report_paths(tree, job) == (data_root / "r/out.txt", data_root / "r/out.json", data_root / "r/out.htm")


def test_test_with_a_model_and_a_fit_test_set_never_writes_the_test_set(
        tree: JobContext, data_root: Path, make_image: Callable[..., Path]) -> None:
    make_image("other/a/c0.tif", size=32, seed=30)
    make_image("other/b/d0.tif", size=32, seed=40)
    run_through_kind(WNDCHRM, tree, ["wndchrm", "train", "set", "a.fit"])
    run_through_kind(WNDCHRM, tree, ["wndchrm", "train", "other", "b.fit"])
    before = (data_root / "b.fit").read_bytes(), (data_root / "b.fit").stat().st_mtime_ns
    run_through_kind(WNDCHRM, tree, ["wndchrm", "test", "-r0.5", "a.fit", "b.fit"])
    assert ((data_root / "b.fit").read_bytes(), (data_root / "b.fit").stat().st_mtime_ns) == before
    report = (data_root / "wndchrm-reports/a-test.txt").read_text()
    assert "other/a/c0.tif" in report and "set/a/a0.tif" not in report  # b.fit's images were the test set


def test_built_in_engine_and_a_binary_take_a_classify_report(tree: JobContext) -> None:
    argv = ["wndchrm", "classify", "a.fit", "one.tif", "r.html"]
    WNDCHRM.validate(argv, tree)
    WndchrmKind(binary="/site/bin/wndchrm").validate(argv, tree)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("classify", "a.fit", "one.tif", "list.tsv"), "wndchrm classify reads one test set; 'list.tsv' would be "
                                                       "taken for its report"),
        (("test", "--out=x.txt", "set"), "--out is an option of the built-in engine"),
        (("test", "-f0.2:0.5", "set"), r"-fN:M \(wndchrm 1.60 runs ./mrmr"),
        (("test", "-p/opt/phylip", "set", "r.html"), r"-pPATH \(wndchrm 1.60 runs PATH/exe/fitch"),
        (("test", "-p+", "set", "r.html"), r"-p\+ \(wndchrm 1.60 builds ./tsv"),
        (("test", "-vr/etc/w.txt", "set"), "outside the data root"),
        (("test", "-vrmissing.txt", "set"), "'missing.txt' does not exist"),
        (("test", "-vw../w.txt", "set"), "outside the data root"),
        (("train", "-D/../../x.fit", "set"), "outside the data root"),  # the binary writes 'D/../../x.fit'
        (("train", "-Dlist.tsv", "Dlist.tsv"), "output 'Dlist.tsv' is also an input"),
        (("classify", "a.fit", "--", "-one.tif"), "would read the argument '-one.tif' as options"),
    ],
)
def test_what_a_binary_must_not_be_given(tree: JobContext, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(BadJob, match=message):
        WndchrmKind(binary="/site/bin/wndchrm").validate(["wndchrm", *args], tree)


@pytest.fixture
def binary_only() -> tuple[str, str]:
    """(spelling, example word) of an option the built-in engine refuses and a binary takes."""
    from test_wndchrm_options import REFUSED_EXAMPLES

    external = {spelling for _, spelling, _ in support.EXTERNAL_REFUSED}
    for _, spelling, _ in support.REFUSED:
        if spelling not in external and spelling in REFUSED_EXAMPLES:
            return spelling, REFUSED_EXAMPLES[spelling]
    pytest.skip("the built-in engine now honours every option a binary takes")


def test_a_binary_takes_the_options_the_built_in_engine_refuses(
        tree: JobContext, binary_only: tuple[str, str]) -> None:
    spelling, word = binary_only
    argv = ["wndchrm", "train", "-mcl", "-R", "-S100:30", "-Dsaved.fit", word, "set"]
    with pytest.raises(BadJob, match=f"cannot honour {re.escape(spelling)} "):
        WNDCHRM.validate(argv, tree)
    WndchrmKind(binary="/site/bin/wndchrm").validate(argv, tree)


def test_registered_kinds_follow_the_configuration() -> None:
    try:
        kind = register_kinds("/site/bin/wndchrm")["wndchrm"]
        assert isinstance(kind, WndchrmKind) and kind.external is not None
    finally:
        registry = register_kinds(None)
        assert registry["wndchrm"] is WNDCHRM and set(registry) == {"demo", "wndchrm"}


@pytest.mark.parametrize("binary", [None, "/site/bin/wndchrm"])
def test_submitter_validates_for_the_workers_engine(tree: JobContext, data_root: Path, binary: str | None,
                                                    binary_only: tuple[str, str]) -> None:
    # The submitter reads wndchrm_binary like the workers: with it, a job only the binary can run is
    # accepted (and then fails to connect to the closed port: exit 4); without it, refused (exit 2).
    spelling, word = binary_only
    env = {**os.environ, "DATA_ROOT": str(data_root), "BEANSTALKD_PORT": "1", "BEANSTALKD_RETRIES": "1",
           "BEANSTALKD_WAIT_RETRY": "0.01"}
    env.pop("WNDCHRM_BINARY", None)
    if binary:
        env["WNDCHRM_BINARY"] = binary
    done = subprocess.run([str(BIN / "wndchrm-submit"), "--", "wndchrm", "train", word, "set", "m.fit"],
                          env=env, capture_output=True, text=True, timeout=60)
    if binary:
        assert done.returncode == 4, done.stderr
    else:
        assert done.returncode == 2 and f"cannot honour {spelling} " in done.stderr, done.stderr


def test_running_in_process_refuses_what_the_built_in_engine_cannot_honour(
        tree: JobContext, data_root: Path, capsys: pytest.CaptureFixture[str], binary_only: tuple[str, str]) -> None:
    from wndchrm.cli.program import main

    spelling, word = binary_only
    assert main(["--data-root", str(data_root), "train", word, "set", "m.fit"]) == 2
    assert f"cannot honour {spelling} " in capsys.readouterr().err and not (data_root / "m.fit").exists()


def test_a_binary_reads_lists_of_images_as_wndchrm_does(tree: JobContext, data_root: Path) -> None:
    # wndchrm 1.60: any file that is not an image is a list; its paths are relative to the working
    # directory (the data root); lines that are not image paths are skipped. Confined all the same.
    (data_root / "lists").mkdir()
    (data_root / "lists/test.txt").write_text("image\tclass\nset/a/a1.tif\ta\nset/b/b1.tif\tb\n")
    argv = ["wndchrm", "test", "set", "lists/test.txt"]
    WndchrmKind(binary="/site/bin/wndchrm").validate(argv, tree)
    with pytest.raises(BadJob, match=r"is not a folder, a \.tsv file"):
        WNDCHRM.validate(argv, tree)
    (data_root / "lists/out.txt").write_text("set/a/a1.tif\ta\n../../outside.tif\tb\n")
    with pytest.raises(BadJob, match=r"lists/out.txt, line 2: path .*outside the data root"):
        WndchrmKind(binary="/site/bin/wndchrm").validate(["wndchrm", "test", "set", "lists/out.txt"], tree)
