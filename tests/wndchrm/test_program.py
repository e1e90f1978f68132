"""``wndchrm`` run as a user runs it: a program started in a folder of images, with no server anywhere.

Its stdout is what the C++ wndchrm 1.60 prints (held against the C++ program's own output, the fixtures of
test_classify_cpp.py), then one line per file written, with its absolute path.
"""

from __future__ import annotations

import lzma
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from testkit import cpp_wndchrm
from testkit.example_data import build_textures
from wndchrm.cli import terminal
from wndchrm.cli.external import is_this_program
from wndchrm.cli.program import settings

ROOT = Path(__file__).resolve().parents[2]
CPP = Path(__file__).parent / "fixtures" / "cpp" / "classify"


def wndchrm(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The program, as the console script runs it (``wndchrm.cli.program:main``), in ``folder``."""
    base = {k: v for k, v in os.environ.items() if k not in ("DATA_ROOT", "WNDCHRM_JOBS")}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-c", "import sys; from wndchrm.cli.program import main; "
                           "sys.exit(main())", *args], cwd=folder, env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=300)


def cpp_printout(name: str) -> str:
    """The C++ stdout from the first split on (before it: its progress messages and data set summaries)."""
    text = (CPP / name).read_text()
    return text[text.index("\n", text.index("samples per image=")) + 1 :]


def split_stdout(stdout: str) -> tuple[str, list[str]]:
    """The printout, and the lines naming the files written (which follow it)."""
    lines = stdout.splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith(("wrote ", "replaced ")))
    return "".join(lines[:first]), [line.rstrip("\n") for line in lines[first:]]


@pytest.fixture
def fits(tmp_path: Path) -> Path:
    for name in ("test-l.fit", "unbalanced.fit"):
        (tmp_path / name).write_bytes(lzma.decompress((CPP / f"{name}.xz").read_bytes()))
    return tmp_path


@pytest.mark.parametrize(("fixture", "args"), [
    ("classify-test-l.txt", ["classify", "-l", "test-l.fit", "test-l.fit"]),
    ("classify-unbalanced-q2-on-test-l.txt", ["classify", "-l", "-q2", "unbalanced.fit", "test-l.fit"]),
    ("test-test-l-i10-w.txt", ["test", "-l", "-i10", "-w", "test-l.fit", "test-l.fit"]),
])
def test_stdout_is_what_wndchrm_prints_then_the_files_written(fits: Path, fixture: str, args: list[str]) -> None:
    done = wndchrm(fits, *args)
    assert done.returncode == 0, done.stderr
    printout, files = split_stdout(done.stdout)
    # Where nothing of a class was scored, wndchrm's "-nan" accuracy is said in words (the file keeps it).
    assert printout == terminal.truthful(cpp_printout(fixture))
    written = [Path(line.split()[1]) for line in files]
    assert all(p.is_absolute() and p.is_file() and p.parent.parent == fits for p in written), files
    suffixes = {".tsv", ".txt"} if args[0] == "classify" else {".txt", ".json", ".html"}
    assert {p.suffix for p in written} == suffixes
    assert all(line.startswith("wrote ") for line in files)
    # The text file beside them holds exactly what wndchrm prints; a second run says it replaced the files.
    assert next(p for p in written if p.suffix == ".txt").read_text() == cpp_printout(fixture)
    again = wndchrm(fits, *args)
    assert all(line.startswith("replaced ") and "it was there before" in line for line in split_stdout(again.stdout)[1])


def test_nothing_scored_is_said_in_words_where_wndchrm_prints_nan() -> None:
    cpp = cpp_printout("classify-test-l-f0.05-on-t1_s01_c05_ij.txt")
    ours = terminal.truthful(cpp)
    assert "Average accuracy (1 splits): -nan\n" in cpp
    assert f"Average accuracy (1 splits): {terminal.NOTHING_SCORED}\n" in ours
    changed = [(a, b) for a, b in zip(cpp.splitlines(), ours.splitlines(), strict=True) if a != b]
    assert len(changed) == 1  # the layout and every other line are wndchrm's


def test_train_in_a_folder_of_images(tmp_path: Path) -> None:
    build_textures(tmp_path, per_class=2, size=32)  # textures/<class>/
    done = wndchrm(tmp_path, "--jobs", "2", "train", "-l", "textures", "x.fit")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("----------\nSummary of 'textures' (6 samples total, 1 samples per image):\n"
                           "'Class label' (interpreted value) number of samples.\n'brick'\t(0)\t2\n'grass'\t(0)\t2\n"
                           "'gravel'\t(0)\t2\n----------\nSaved dataset to 'x.fit'.\n"
                           f"wrote    {tmp_path / 'x.fit'}  (features of the dataset (the model))\n")
    assert "features of 6 image(s) computed" in done.stderr  # no terminal: one line, no progress bar
    # Classify images of a class the model lacks: said, not only shown as an empty matrix.
    (tmp_path / "new" / "stone").mkdir(parents=True)
    (tmp_path / "new" / "stone" / "a.tif").write_bytes((tmp_path / "textures/brick/brick-000.tif").read_bytes())
    done = wndchrm(tmp_path, "classify", "-l", "x.fit", "new", "r/new.html")
    assert done.returncode == 0, done.stderr
    assert "1 of 1 test images have a class the training set lacks (stone" in done.stderr
    assert f"Average accuracy (1 splits): {terminal.NOTHING_SCORED}" in done.stdout
    files = sorted(line.split()[1] for line in split_stdout(done.stdout)[1])
    assert files == [str(tmp_path / "r" / f"new.{s}") for s in ("html", "json", "tsv", "txt")]
    assert "No test image has a class of the training set" in (tmp_path / "r/new.html").read_text()
    # An RGB image against grey training images: classified (made grey as wndchrm does), and said.
    rgb = np.random.default_rng(1).integers(0, 255, (24, 32, 3), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "colour.tif", rgb, photometric="rgb")
    done = wndchrm(tmp_path, "classify", "-l", "x.fit", "colour.tif")
    assert done.returncode == 0, done.stderr
    assert "1 test image(s) are RGB (colour.tif) but the training images are grey" in done.stderr


def test_errors_name_the_data_root_and_where_it_came_from(tmp_path: Path) -> None:
    done = wndchrm(tmp_path, "train", "imagse", "x.fit")
    assert done.returncode == 2
    assert "path 'imagse' does not exist" in done.stderr
    assert f"paths are read from the data root {tmp_path}, the working directory" in done.stderr
    done = wndchrm(tmp_path, "train", "imagse", "x.fit", env={"DATA_ROOT": str(tmp_path / "gone")})
    assert done.returncode == 2
    assert f"no such folder: the data root {tmp_path / 'gone'}, set by the DATA_ROOT environment" in done.stderr
    done = wndchrm(tmp_path, "--data-root", str(tmp_path), "train", "imagse", "x.fit")
    assert "set by --data-root" in done.stderr


def test_jobs_is_spelt_long_since_j_is_wndchrms() -> None:
    found = settings(["train", "-j5", "--jobs=3", "set", "x.fit"], env={})
    assert found.jobs == 3 and found.command == ["train", "-j5", "set", "x.fit"]
    assert settings(["test", "set"], env={"WNDCHRM_JOBS": "4"}).jobs == 4
    assert settings(["-v", "test", "-vrw.txt", "set"], env={}).command == ["test", "-vrw.txt", "set"]
    with pytest.raises(Exception, match="--jobs must be a whole number"):
        settings(["--jobs", "0", "test", "set"], env={})


def test_our_console_script_is_never_taken_for_the_cpp_program(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "wndchrm"  # what pip writes for [project.scripts] wndchrm
    script.write_text("#!/usr/bin/python3\nimport sys\nfrom wndchrm.cli.program import main\nsys.exit(main())\n")
    script.chmod(0o755)
    monkeypatch.delenv("WNDCHRM_BINARY", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert is_this_program(script) and cpp_wndchrm.cpp_wndchrm() is None
