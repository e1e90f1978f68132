"""Jobs run through a configured wndchrm executable; here a stand-in script speaking the same protocol."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from wndchrm_helpers import FakeQueue, run_through_kind

from depqueue.errors import BadJob
from services.kinds import JobContext
from services.kinds.wndchrm import WndchrmKind
from services.kinds.wndchrm.external import ExternalFailed

# The stand-in: `check` prints each image without a .sig beside it; `train IMAGE /dev/null` writes the
# image's .sig; `train DATASET OUT` needs every .sig and writes OUT. Every call is logged as JSON argv.
STAND_IN = """\
    import json, os, pathlib, sys
    with open(os.environ["STAND_IN_LOG"], "a") as log:
        log.write(json.dumps(sys.argv[1:]) + "\\n")
    command, words = sys.argv[1], [w for w in sys.argv[2:] if not w.startswith("-")]
    if os.environ.get("STAND_IN_FAIL") == command:
        sys.exit(print("stand-in: simulated failure", file=sys.stderr) or 3)
    def images(dataset):
        path = pathlib.Path(dataset)
        return [path] if path.is_file() else sorted(path.rglob("*.tif"))
    if command == "check":
        for image in images(words[0]):
            if not pathlib.Path(str(image) + ".sig").exists():
                print(image)
        print(os.environ.get("STAND_IN_EXTRA", ""))
    elif command == "train" and pathlib.Path(words[0]).is_file():
        pathlib.Path(words[0] + ".sig").write_text("signatures\\n")
    elif command == "train":
        missing = [str(i) for i in images(words[0]) if not pathlib.Path(str(i) + ".sig").exists()]
        if missing:
            sys.exit(print("missing signatures:", missing, file=sys.stderr) or 1)
        pathlib.Path(words[1]).write_text("\\n".join(str(i) for i in images(words[0])) + "\\n")
"""


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    script = tmp_path / "bin" / "wndchrm"
    script.parent.mkdir()
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(STAND_IN))
    script.chmod(0o755)
    monkeypatch.setenv("STAND_IN_LOG", str(tmp_path / "calls.log"))
    return script


def _calls(stand_in: Path) -> list[list[str]]:
    log = stand_in.parent.parent / "calls.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_check_lines_become_dependencies_and_the_parent_runs_as_submitted(
        stand_in: Path, ctx: JobContext, make_image: Callable[..., Path], data_root: Path) -> None:
    make_image("set/a/one.tif")
    make_image("set/b/two; rm -rf x.tif", seed=1)  # a shell would split this name; an argv list does not
    kind = WndchrmKind(binary=stand_in)
    queue = run_through_kind(kind, ctx, ["wndchrm", "train", "-l", "-t2", "set", "out/model.fit"])
    assert queue.params == [
        ["wndchrm", "features", "-l", "-t2x2", "set/a/one.tif"],
        ["wndchrm", "features", "-l", "-t2x2", "set/b/two; rm -rf x.tif"],
    ]
    assert _calls(stand_in) == [
        ["check", "-l", "-t2", "set"],
        ["train", "-l", "-t2x2", "set/a/one.tif", os.devnull],
        ["train", "-l", "-t2x2", "set/b/two; rm -rf x.tif", os.devnull],
        ["train", "-l", "-t2", "set", "out/model.fit"],
    ]
    assert (data_root / "out/model.fit").read_text().splitlines() == ["set/a/one.tif", "set/b/two; rm -rf x.tif"]
    again = FakeQueue()
    assert kind.expand(again, "deps", 1, ["wndchrm", "train", "set", "o.fit"], ctx) == 0  # type: ignore[arg-type]


def test_failing_binary_fails_the_job_with_its_stderr(
        stand_in: Path, ctx: JobContext, make_image: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    make_image("set/a/one.tif")
    make_image("set/b/two.tif", seed=1)
    monkeypatch.setenv("STAND_IN_FAIL", "train")
    kind = WndchrmKind(binary=stand_in)
    with pytest.raises(ExternalFailed, match="exited with 3: stand-in: simulated failure"):
        kind.run(None, 2, ["wndchrm", "features", "set/a/one.tif"], ctx)  # type: ignore[arg-type]


def test_check_output_outside_the_root_is_refused(
        stand_in: Path, ctx: JobContext, make_image: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    make_image("set/a/one.tif")
    make_image("set/b/two.tif", seed=1)
    monkeypatch.setenv("STAND_IN_EXTRA", "/etc/passwd")
    with pytest.raises(BadJob, match=r"wndchrm check listed an unusable image: .*outside the data root"):
        WndchrmKind(binary=stand_in).expand(FakeQueue(), "d", 1, ["wndchrm", "test", "set"], ctx)  # type: ignore[arg-type]


def test_missing_binary_is_a_clear_failure(ctx: JobContext, make_image: Callable[..., Path]) -> None:
    make_image("set/a/one.tif")
    make_image("set/b/two.tif", seed=1)
    kind = WndchrmKind(binary="/nonexistent/wndchrm")
    with pytest.raises(ExternalFailed, match="cannot run wndchrm binary /nonexistent/wndchrm"):
        kind.expand(FakeQueue(), "d", 1, ["wndchrm", "test", "set"], ctx)  # type: ignore[arg-type]


def test_built_in_engine_stays_the_default() -> None:
    from services.kinds.wndchrm import WNDCHRM

    assert WNDCHRM.external is None and WNDCHRM.name == "wndchrm"
