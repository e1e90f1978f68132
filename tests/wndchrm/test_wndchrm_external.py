"""Jobs run through a configured C++ wndchrm: against a replay of the real program's captured calls (CI has
no binary; fixtures/cpp/external/README.txt says how each was made), and against the real program when
WNDCHRM_BINARY names one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from wndchrm_helpers import FakeQueue, run_through_kind

from depqueue import BadJob
from services.kinds import JobContext
from services.kinds.wndchrm import WndchrmKind
from wndchrm.cli.external import ExternalFailed
from wndchrm.formats.cpp_names import check_lines, sig_files
from wndchrm.options import Options, parse

CAPTURED = Path(__file__).parent / "fixtures" / "cpp" / "external"
IMAGES = ("set/a/img0.tif", "set/a/img1.tif", "set/b/img0.tif", "set/b/img1.tif")


def _features(*words: str) -> list[list[str]]:
    return [["wndchrm", "features", *words, image] for image in IMAGES]


@pytest.fixture
def tree(ctx: JobContext, make_image: Callable[..., Path]) -> JobContext:
    """The captured data root's four images (their pixels do not matter to a replay)."""
    for seed, image in enumerate(IMAGES):
        make_image(image, size=32, seed=seed)
    return ctx


@pytest.fixture
def replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], WndchrmKind]:
    """``replay(SEQUENCE)``: a kind whose binary replays that captured sequence, call by call."""
    script = tmp_path / "bin" / "wndchrm"
    script.parent.mkdir()
    script.write_text(f"#!{sys.executable}\n" + (CAPTURED / "replay.py").read_text())
    script.chmod(0o755)

    def kind(sequence: str) -> WndchrmKind:
        monkeypatch.setenv("REPLAY_SEQUENCE", str(CAPTURED / sequence))
        monkeypatch.setenv("REPLAY_COUNT", str(tmp_path / f"{sequence}.count"))
        return WndchrmKind(binary=script)

    return kind


def _captured(sequence: str, call: int, part: str) -> str:
    return (CAPTURED / sequence / f"{call}.{part}").read_text()


def test_train_then_test_through_the_replayed_binary(
        tree: JobContext, data_root: Path, replay: Callable[[str], WndchrmKind]) -> None:
    kind = replay("train")
    # Expansion reads check's image lines, not its "Processing directory" lines; each dependency's
    # "train IMAGE /dev/null" must leave the .sig its image needs; the parent writes out.fit.
    queue = run_through_kind(kind, tree, ["wndchrm", "train", "set", "out.fit"])
    assert "Processing directory 'set/a'" in _captured("train", 1, "stdout")
    assert queue.params == _features()
    assert all(path.is_file() for image in IMAGES for path in sig_files(data_root / image, Options()))
    assert (data_root / "out.fit").read_text() == (CAPTURED / "train/6.out/out.fit").read_text()
    # Without a report file the results are wndchrm's stdout: kept as the job's output.
    assert run_through_kind(kind, tree, ["wndchrm", "test", "-r0.5", "set"]).params == []
    assert (data_root / "wndchrm-reports/set-test.txt").read_text() == _captured("train", 8, "stdout")
    run_through_kind(kind, tree, ["wndchrm", "test", "-r0.5", "set", "report.html"])
    assert (data_root / "report.html").read_text().lstrip().lower().startswith("<html")
    # wndchrm 1.60 stops on an error with exit status 0 and says why on stderr.
    with pytest.raises(ExternalFailed, match=r"wndchrm test stopped \(exit status 0\): ERROR: No images left "
                                             r"for testing"):
        run_through_kind(kind, tree, ["wndchrm", "test", "set"])


def test_check_and_tiled_signatures_through_the_replayed_binary(
        tree: JobContext, data_root: Path, replay: Callable[[str], WndchrmKind]) -> None:
    kind = replay("tiles")
    kind.run(None, 1, ["wndchrm", "check", "-l", "-t2", "set"], tree)  # type: ignore[arg-type]
    assert (data_root / "wndchrm-reports/set-check.txt").read_text() == "".join(f"{i}\n" for i in IMAGES)
    kind.run(None, 2, _features("-l", "-t2x2")[0], tree)  # type: ignore[arg-type]
    queue = FakeQueue()
    assert kind.expand(queue, "deps", 3, ["wndchrm", "train", "-l", "-t2", "set", "out.fit"], tree) == 3  # type: ignore[arg-type]
    assert queue.params == _features("-l", "-t2x2")[1:]


@pytest.mark.parametrize(
    ("sequence", "call", "words", "image"),
    [
        ("train", 2, [], "set/a/img0.tif"),
        ("tiles", 2, ["-l", "-t2x2"], "set/a/img0.tif"),
        ("names", 2, ["-B0,0,24,24", "-d50", "-S100:30", "-t1x2", "-c"], "set/b/img1.tif"),
    ],
)
def test_sig_names_are_the_ones_the_program_wrote(sequence: str, call: int, words: list[str], image: str) -> None:
    assert _captured(sequence, call, "argv").splitlines() == ["train", *words, image, "/dev/null"]
    written = [line.rsplit(" ", 1)[0] for line in _captured(sequence, call, "files").splitlines()]
    opts = parse(["wndchrm", "features", *words, image]).options
    assert sorted(str(path) for path in sig_files(Path(image), opts)) == sorted(written)


def test_an_aborted_dependency_fails_with_its_signal_and_message(
        tree: JobContext, replay: Callable[[str], WndchrmKind]) -> None:
    kind = replay("names")
    argv = ["wndchrm", "features", "-B0,0,24,24", "-d50", "-S100:30", "-t1x2", "-c", "set/b/img1.tif"]
    queue = FakeQueue()
    kind.expand(queue, "d", 1, ["wndchrm", "train", *argv[2:], "out.fit"], tree)  # type: ignore[arg-type]
    assert queue.params == [["wndchrm", "features", "-c", "-t1x2", "-d50", "-S100:30", "-B0,0,24,24",
                             "set/b/img1.tif"]]
    with pytest.raises(ExternalFailed, match=r"stopped \(exit status -6\): wndchrm: .*Assertion"):
        kind.run(queue, 2, argv, tree)  # type: ignore[arg-type]


def test_minus_d_writes_its_letter_too(tree: JobContext, data_root: Path,
                                       replay: Callable[[str], WndchrmKind]) -> None:
    kind = replay("names")
    kind.run(None, 1, ["wndchrm", "check", "-B0,0,24,24", "-d50", "-S100:30", "-t1x2", "-c",  # type: ignore[arg-type]
                       "set/b/img1.tif"], tree)
    with pytest.raises(ExternalFailed):
        kind.run(None, 2, ["wndchrm", "features", "-B0,0,24,24", "-d50", "-S100:30", "-t1x2", "-c",  # type: ignore[arg-type]
                           "set/b/img1.tif"], tree)
    kind.run(None, 3, ["wndchrm", "train", "-Dsaved.fit", "set/b/img0.tif"], tree)  # type: ignore[arg-type]
    assert (data_root / "Dsaved.fit").is_file() and not (data_root / "saved.fit").exists()


def test_check_output_lines() -> None:
    stdout = _captured("tiles", 3, "stdout")
    assert stdout.startswith("Processing directory 'set/a'\n")
    assert check_lines(stdout) == list(IMAGES[1:])


# A stand-in that logs its argv and prints STAND_IN_PRINT_<COMMAND>, else STAND_IN_PRINT: for what the
# captured runs do not show.
ECHO = """\
import json, os, sys
with open(os.environ["STAND_IN_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
print(os.environ.get("STAND_IN_PRINT_" + sys.argv[1].upper(), os.environ.get("STAND_IN_PRINT", "")))
sys.exit(1)
"""


@pytest.fixture
def echo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    script = tmp_path / "bin" / "wndchrm"
    script.parent.mkdir(exist_ok=True)
    script.write_text(f"#!{sys.executable}\n" + ECHO)
    script.chmod(0o755)
    monkeypatch.setenv("STAND_IN_LOG", str(tmp_path / "calls.log"))
    return script


def test_words_reach_the_binary_unchanged_as_one_argv(
        echo: Path, ctx: JobContext, make_image: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    make_image("set/a/one.tif")
    make_image("set/b/two; rm -rf x.tif", seed=1)  # a shell would split this name; an argv list does not
    monkeypatch.setenv("STAND_IN_PRINT", "Processing directory 'set/b'\nset/b/two; rm -rf x.tif")
    queue = FakeQueue()
    argv = ["wndchrm", "test", "-mcl", "-R", "-S100:30", "-r#0.5", "-A", "-n3", "set"]
    kind = WndchrmKind(binary=echo)
    assert kind.expand(queue, "d", 1, argv, ctx) == 1  # type: ignore[arg-type]
    assert queue.params == [["wndchrm", "features", "-l", "-c", "-S100:30", "-R", "-m", "set/b/two; rm -rf x.tif"]]
    kind.run(queue, 1, argv, ctx)  # type: ignore[arg-type]
    calls = [json.loads(line) for line in (echo.parent.parent / "calls.log").read_text().splitlines()]
    assert calls == [["check", *argv[2:]], argv[1:]]


def test_check_output_outside_the_root_is_refused(
        echo: Path, ctx: JobContext, make_image: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    make_image("set/a/one.tif")
    make_image("set/b/two.tif", seed=1)
    monkeypatch.setenv("STAND_IN_PRINT", "/etc/passwd")
    with pytest.raises(BadJob, match=r"wndchrm check listed an unusable image: .*outside the data root"):
        WndchrmKind(binary=echo).expand(FakeQueue(), "d", 1, ["wndchrm", "test", "set"], ctx)  # type: ignore[arg-type]


def test_a_run_that_writes_nothing_has_failed(
        echo: Path, ctx: JobContext, make_image: Callable[..., Path]) -> None:
    make_image("set/a/one.tif")
    make_image("set/b/two.tif", seed=1)
    kind = WndchrmKind(binary=echo)
    with pytest.raises(ExternalFailed, match=r"finished without writing 'set/a/one.sig'"):
        kind.run(None, 2, ["wndchrm", "features", "set/a/one.tif"], ctx)  # type: ignore[arg-type]
    with pytest.raises(ExternalFailed, match=r"finished without writing 'out/m.fit'"):
        kind.run(None, 1, ["wndchrm", "train", "set", "out/m.fit"], ctx)  # type: ignore[arg-type]


def test_missing_binary_is_a_clear_failure(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    make_image("set/a/one.tif")
    make_image("set/b/two.tif", seed=1)
    kind = WndchrmKind(binary="/nonexistent/wndchrm")
    with pytest.raises(ExternalFailed, match="cannot run wndchrm binary /nonexistent/wndchrm"):
        kind.expand(FakeQueue(), "d", 1, ["wndchrm", "test", "set"], ctx)  # type: ignore[arg-type]


def test_built_in_engine_stays_the_default() -> None:
    from services.kinds.wndchrm import WNDCHRM

    assert WNDCHRM.external is None and WNDCHRM.name == "wndchrm"


REAL_BINARY = os.environ.get("WNDCHRM_BINARY")


@pytest.mark.skipif(not REAL_BINARY, reason="no C++ wndchrm: set WNDCHRM_BINARY to run this against one "
                                            "(CI has none; the replayed captures above stand in)")
def test_the_real_binary_end_to_end(ctx: JobContext, data_root: Path, make_image: Callable[..., Path]) -> None:
    make_image("set/a/img0.tif", size=32, seed=0)
    make_image("set/b/img0.tif", size=32, seed=1)
    kind = WndchrmKind(binary=str(REAL_BINARY))
    queue = run_through_kind(kind, ctx, ["wndchrm", "train", "set", "out.fit"])
    assert queue.params == [["wndchrm", "features", "set/a/img0.tif"], ["wndchrm", "features", "set/b/img0.tif"]]
    assert (data_root / "set/a/img0.sig").is_file() and (data_root / "set/b/img0.sig").is_file()
    assert (data_root / "out.fit").stat().st_size > 0
    assert kind.expand(FakeQueue(), "d", 2, ["wndchrm", "test", "set"], ctx) == 0  # type: ignore[arg-type]
    with pytest.raises(ExternalFailed, match=r"stopped \(exit status 0\): ERROR: No images left for testing"):
        kind.run(None, 2, ["wndchrm", "test", "set"], ctx)  # type: ignore[arg-type]


def test_empty_sigs_of_a_dead_run_are_removed_but_not_those_being_written(
        echo: Path, ctx: JobContext, data_root: Path, make_image: Callable[..., Path]) -> None:
    make_image("set/a/one.tif")
    make_image("set/a/two.tif", seed=1)
    abandoned, busy = data_root / "set/a/one.sig", data_root / "set/a/two.sig"
    abandoned.touch()
    busy.touch()
    holder = subprocess.Popen(  # holds the fcntl lock wndchrm 1.60 takes while it computes a .sig
        [sys.executable, "-c", "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR); "
         "fcntl.lockf(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()", str(busy)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        kind = WndchrmKind(binary=echo)
        for image in ("set/a/one.tif", "set/a/two.tif"):
            with pytest.raises(ExternalFailed, match="finished without writing"):  # the echo writes nothing
                kind.run(None, 2, ["wndchrm", "features", image], ctx)  # type: ignore[arg-type]
        assert not abandoned.exists() and busy.exists()
    finally:
        holder.communicate("")


def test_classify_without_a_report_keeps_what_wndchrm_prints(
        echo: Path, ctx: JobContext, data_root: Path, make_image: Callable[..., Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    make_image("new/one.tif")
    (data_root / "m.fit").write_text("a model\n")
    monkeypatch.setenv("STAND_IN_PRINT_CLASSIFY", "new/one.tif\t1.2e-130\t0.9\t0.1\t*\ta")
    run_through_kind(WndchrmKind(binary=echo), ctx, ["wndchrm", "classify", "m.fit", "new/one.tif"])
    kept = list((data_root / "wndchrm-reports").glob("m-classify-*.txt"))
    assert len(kept) == 1 and kept[0].read_text() == "new/one.tif\t1.2e-130\t0.9\t0.1\t*\ta\n"
