"""The C++ wndchrm 1.60's classify prints on a ``.fit`` written here what it prints on its own ``.fit`` of
the same images, with ``-l -c`` (4,059 values) and ``-l`` (2,919), and our classify prints its lines.

Fixtures and commands: fixtures/cpp/classify-colour/README.txt. The committed outputs are always
compared; with a C++ binary (``WNDCHRM_BINARY`` or ``wndchrm`` on the PATH) it is also run.
"""

from __future__ import annotations

import gzip
import lzma
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from services.kinds import JobContext
from services.kinds.wndchrm.kind import WndchrmKind
from tests.wndchrm.wndchrm_helpers import run_through_kind

FIXTURES = Path(__file__).parent / "fixtures" / "cpp" / "classify-colour"
COLOUR = Path(__file__).parent / "fixtures" / "cpp" / "colour"
CPP_BINARY = os.environ.get("WNDCHRM_BINARY") or shutil.which("wndchrm")
#: The feature set of each pair of files: the options both programs were given.
SETS = {"cl": ("-l", "-c"), "l": ("-l",)}


def _rows(text: str) -> dict[str, list[str]]:
    return {line.split("\t")[0]: line.split("\t") for line in text.splitlines() if line.startswith("test/")}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The fixture's folder as the programs ran in it: the .fit files, and test/ with its .sig files."""
    folder = tmp_path / "data"
    (folder / "test").mkdir(parents=True)
    for image in (FIXTURES / "test").glob("*.tif"):
        shutil.copy(image, folder / "test" / image.name)
    for sig in (FIXTURES / "test").glob("*.sig.gz"):
        (folder / "test" / sig.name.removesuffix(".gz")).write_bytes(gzip.decompress(sig.read_bytes()))
    for fit in FIXTURES.glob("*.fit.xz"):
        (folder / fit.name.removesuffix(".xz")).write_bytes(lzma.decompress(fit.read_bytes()))
    return folder


@pytest.mark.parametrize("name", sorted(SETS))
def test_wndchrm_prints_the_same_on_a_fit_written_here(name: str) -> None:
    ours = (FIXTURES / f"cpp-classify-ours-{name}.txt").read_text()
    own = (FIXTURES / f"cpp-classify-cpp-{name}.txt").read_text()
    assert ours.replace(f"ours-{name}.fit", f"cpp-{name}.fit") == own
    assert _rows(own).keys() == {"test/astronaut_test_97x71.tif", "test/ihc_test_97x71.tif"}


@pytest.mark.parametrize("name", sorted(SETS))
def test_the_fit_written_here_is_the_one_wndchrm_writes(root: Path, name: str) -> None:
    assert (root / f"ours-{name}.fit").read_text() == (root / f"cpp-{name}.fit").read_text()


@pytest.mark.parametrize("name", sorted(SETS))
def test_our_classify_prints_wndchrms_lines(root: Path, name: str) -> None:
    argv = ["wndchrm", "classify", *SETS[name], "--out=c.tsv", f"ours-{name}.fit", "test"]
    run_through_kind(WndchrmKind(), JobContext(root), argv)
    assert _rows((root / "c.txt").read_text()) == _rows((FIXTURES / f"cpp-classify-cpp-{name}.txt").read_text())


@pytest.mark.slow
def test_training_here_writes_the_committed_fit_files(root: Path) -> None:
    for folder in ("ihc", "photo"):
        (root / "set" / folder).mkdir(parents=True)
        for image in (COLOUR / folder).glob("*.tif"):
            shutil.copy(image, root / "set" / folder / image.name)
    for name, words in SETS.items():  # -l -c first: -l then reads its grey values from that cache
        run_through_kind(WndchrmKind(), JobContext(root), ["wndchrm", "train", *words, "set", f"new-{name}.fit"])
        assert (root / f"new-{name}.fit").read_text() == (root / f"ours-{name}.fit").read_text()


@pytest.mark.skipif(CPP_BINARY is None, reason="no C++ wndchrm: set WNDCHRM_BINARY or put wndchrm on PATH "
                    "(test_wndchrm_prints_the_same_on_a_fit_written_here checks its committed output)")
@pytest.mark.parametrize("name", sorted(SETS))
def test_wndchrm_classifies_with_the_fit_written_here(root: Path, name: str) -> None:
    assert CPP_BINARY is not None
    done = subprocess.run([CPP_BINARY, "classify", *SETS[name], f"ours-{name}.fit", "test"], cwd=root,
                          capture_output=True, text=True, timeout=300, check=False)
    assert _rows(done.stdout) == _rows((FIXTURES / f"cpp-classify-cpp-{name}.txt").read_text()), done.stderr
