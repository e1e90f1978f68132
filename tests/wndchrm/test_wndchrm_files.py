"""wndchrm's own files both ways: .fit and .sig as the C++ wndchrm 1.60 reads and writes them.

Reference files come from the C++ program (fixtures/cpp/files/README.txt gives each command); the
images are 64x64 crops, computed once for the module (the maximal correlation coefficient of twelve
transform chains takes most of that time).
"""

from __future__ import annotations

import lzma
import re
import shutil
import stat
import subprocess
from pathlib import Path

import numpy as np
import pytest

from depqueue import BadJob
from services.kinds import JobContext
from services.kinds.wndchrm.kind import WndchrmKind
from testkit.cpp_wndchrm import cpp_wndchrm
from tests.wndchrm.wndchrm_helpers import run_through_kind
from wndchrm.classifier.training_data import features_of
from wndchrm.features.engine import get_engine
from wndchrm.features.extract import image_features, needs_features
from wndchrm.features.featureset import FeatureSet
from wndchrm.features.images import load_samples
from wndchrm.features.sampling import Sample
from wndchrm.features.sigfile import old_sig_path, read_sig, sig_path
from wndchrm.formats import names as fnames
from wndchrm.formats.fitfile import UNKNOWN, FitFile, atof, read_fit, write_fit
from wndchrm.options import Options

FIXTURES = Path(__file__).parent / "fixtures" / "cpp" / "files"
#: A C++ wndchrm 1.60 to run, if this machine has one: WNDCHRM_BINARY, else a ``wndchrm`` on PATH not ours.
CPP_BINARY = cpp_wndchrm()
LONG = Options(long=True)
#: %.8g keeps 8 significant digits: the relative error of a value written by either program.
PRINTED = 1e-7


def _unpacked(name: str, folder: Path) -> Path:
    path = folder / name.removesuffix(".xz")
    path.write_bytes(lzma.decompress((FIXTURES / name).read_bytes()))
    return path


@pytest.fixture(scope="module")
def cached_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture images (train/binuc, train/norm, test) with their features cached, computed once."""
    folder = tmp_path_factory.mktemp("files") / "data"
    shutil.copytree(FIXTURES / "images", folder)
    for image in sorted(folder.rglob("*.tif")):
        image_features(folder, image, LONG)
    return folder


@pytest.fixture
def root(cached_root: Path, tmp_path: Path) -> Path:
    """A fresh copy of ``cached_root`` (mtimes kept, so the cache stays valid)."""
    return Path(shutil.copytree(cached_root, tmp_path / "data"))


def _close(ours: np.ndarray, theirs: np.ndarray, names: list[str] | None = None) -> bool:
    """Equal to the digits wndchrm prints; given the feature ``names``, Haralick [16] and [17] of the chains
    through the Fourier transform within 1e-4 (the tests' rule): wndchrm's FFT (FFTW_MEASURE) and numpy's
    round apart in the last bits, which moves a pixel across a grey level now and then (here one of 4,096
    in binuc2's Fourier (Chebyshev ()), [17] 0.15534997 against 0.15535003; fed the C++ image, ours gives
    0.15535003)."""
    tolerance = np.full(np.shape(theirs)[-1], PRINTED)
    if names is not None:
        fft = [k for k, name in enumerate(names) if "Fourier" in name and re.search(r"Haralick .* \[1[67]\]$", name)]
        tolerance[fft] = 1e-4
    return bool(np.all(np.abs(ours - theirs) <= tolerance * np.maximum(np.abs(theirs), 1e-30) + 1e-12))


def test_reads_the_reference_test_l_fit(tmp_path: Path) -> None:
    fit = read_fit(_unpacked("test-l.fit.xz", tmp_path), "test-l.fit")
    assert fit.version == (4, 2)
    assert fit.classes == ["2cell", "4cell"] and fit.class_values == [2.0, 4.0]
    assert fit.features.shape == (20, 2919) and len(fit.feature_names) == 2919
    assert fit.feature_names[0] == "Edge Features () [0]"
    assert fit.feature_names[-1] == "Gini Coefficient (Wavelet (Edge ())) [0]"
    assert fit.labels.tolist() == [0] * 10 + [1] * 10
    assert fit.paths[0] == "train/2cell/t54_s12_c04_ij.tif"
    assert fit.features[0, :3].tolist() == [3127, 4.86940e-02, 2.96320e-02]


def test_reads_the_old_layout_and_unknown_samples(tmp_path: Path) -> None:
    path = tmp_path / "old.fit"
    path.write_text("2\n2\n3\nf [0]\nf [1]\n\n1.5um\nb\n1 2.5 1\ni1.tif\n3 4 2\ni2.tif\n5 6 0\ni3.tif\n")
    fit = read_fit(path, "old.fit")
    assert fit.version == (1, 0) and fit.classes == ["1.5um", "b"] and fit.class_values == [1.5, 0.0]
    assert fit.labels.tolist() == [0, 1, UNKNOWN] and fit.paths == ["i1.tif", "i2.tif", "i3.tif"]
    assert fit.features.tolist() == [[1, 2.5], [3, 4], [5, 6]]


@pytest.mark.parametrize(("text", "cause"), [
    ("2\t4.2\n1\n1\nf\n\nb\na\n1 1\nx\n", "sorted order"),
    ("1\t4.2\n1\n2\nf\n\na\n1 1\nx\n", "ends early"),
    ("1\t4.2\n1\n1\nf\n\na\n1 2 1\nx\n", "has 3 values"),
    ("1\t4.2\n1\n1\nf\n\na\n1 3\nx\n", "class index 3 out of range"),
    ("1\t4.2\n1\n1\nf\nz\na\n1 1\nx\n", "class 0 must be"),
    ("Edge Features\n", "line 1"),
])
def test_a_broken_fit_is_a_bad_job_naming_file_and_cause(tmp_path: Path, text: str, cause: str) -> None:
    (tmp_path / "m.fit").write_text(text)
    with pytest.raises(BadJob, match=rf"model 'm.fit' is not a wndchrm \.fit file: .*{cause}"):
        read_fit(tmp_path / "m.fit", "m.fit")


def test_atof_reads_labels_as_c_does() -> None:
    assert [atof(s) for s in ("2cell", " -1.5e2x", "abc", "", ".5", "inf")] == [2, -150, 0, 0, 0.5, float("inf")]


def test_names_round_trip_and_match_the_cpp_files(tmp_path: Path) -> None:
    engine = get_engine()
    v5 = list(engine.names)
    assert all(fnames.v42_to_v5(fnames.v5_to_42(n)) == n for n in v5)
    long_42 = read_fit(_unpacked("test-l.fit.xz", tmp_path), "test-l.fit").feature_names
    assert fnames.names_42(v5) == long_42 and fnames.is_42(long_42) and not fnames.is_42(v5)
    dropped = [n for n in long_42 if fnames.is_dropped(n)]
    assert len(dropped) == 24 and all(re.search(r"Haralick .* \[1[67]\]$", n) for n in dropped)
    short_42 = read_sig(_unpacked("norm3-short.sig.xz", tmp_path)).names
    short_v5 = [v5[i] for i in engine.short_index]
    assert fnames.names_42(short_v5) == short_42 and len(short_42) == 1059
    assert list(FeatureSet(long=True, colour=False).names) == long_42
    assert list(FeatureSet(long=False, colour=False).names) == short_42
    columns = fnames.columns_in(long_42, v5)
    assert columns is not None and [long_42[i] for i in columns] == [fnames.v5_to_42(n) for n in v5]


def test_cpp_fit_and_sig_values_are_the_features_computed_here(root: Path, tmp_path: Path) -> None:
    """All 2,919 values, Haralick [16] and [17] included, equal the C++ program's to the 8 digits it prints."""
    fit = read_fit(_unpacked("cpp-train-l.fit.xz", tmp_path), "cpp-train-l.fit")
    assert fit.version == (4, 2) and fit.classes == ["binuc", "norm"] and fit.paths[0] == "train/binuc/binuc1.tif"
    assert fit.feature_names == list(FeatureSet(long=True, colour=False).names)
    ours = np.concatenate([image_features(root, root / path, LONG) for path in fit.paths])
    assert _close(ours, fit.features, fit.feature_names)
    sig = read_sig(_unpacked("norm3-l.sig.xz", tmp_path))
    assert sig.version == (4, 2) and sig.names == fit.feature_names
    assert _close(image_features(root, root / "test/norm3.tif", LONG)[0], sig.values, sig.names)


def test_sig_names_are_the_cpp_programs() -> None:
    image = Path("/d/cells/img.1.tif")
    assert sig_path(image, LONG, Sample(0, 0, 0)).name == "img.1-l.sig"
    assert sig_path(image, Options(), Sample(0, 0, 0)).name == "img.1.sig"
    tiled = Options(long=True, tile_cols=2, tile_rows=2)
    # As wndchrm 1.60 named the tiles of "train -t2 tiled.tif" (README.txt): tiled-t2_<column>_<row>.sig
    assert sig_path(image, tiled, Sample(0, 1, 0)).name == "img.1-t2_1_0-l.sig"
    assert sig_path(image, Options(tile_cols=3, tile_rows=2, downsample=50), Sample(0, 2, 1)).name == (
        "img.1-d50-t3x2_2_1.sig")
    assert old_sig_path(image, Sample(0, 1, 0)).name == "img.1_1_0.sig"


def _with_cpp_sig(root: Path, tmp_path: Path) -> Path:
    image = root / "test/norm3.tif"
    shutil.copy(_unpacked("norm3-l.sig.xz", tmp_path), root / "test/norm3-l.sig")
    return image


def test_a_valid_sig_means_no_dependency_and_its_values(root: Path, tmp_path: Path) -> None:
    image = _with_cpp_sig(root, tmp_path)
    shutil.rmtree(root / ".wndchrm-cache")
    lines = (root / "test/norm3-l.sig").read_text().splitlines()
    lines[2] = "12345\t" + lines[2].split("\t")[1]  # a marker: only a value read from the file has it
    (root / "test/norm3-l.sig").write_text("\n".join(lines) + "\n")
    assert not needs_features(root, image, LONG)
    assert image_features(root, image, LONG)[0, 0] == 12345
    # Other options name another file; -o recomputes.
    assert needs_features(root, image, Options())
    assert needs_features(root, image, Options(long=True, tile_cols=2, tile_rows=2))
    assert needs_features(root, image, Options(long=True, overwrite=True))
    assert image_features(root, image, Options(long=True, overwrite=True))[0, 0] != 12345
    # A -o job's parent reads what its dependencies recomputed, not the .sig -o replaces.
    ctx = JobContext(root)
    assert features_of(ctx, [image], Options(long=True, overwrite=True))[0][0, 0] != 12345
    assert features_of(ctx, [image], LONG)[0][0, 0] == 12345


def test_expansion_skips_images_with_a_valid_sig(root: Path, tmp_path: Path) -> None:
    shutil.rmtree(root / ".wndchrm-cache")
    shutil.rmtree(root / "train")
    _with_cpp_sig(root, tmp_path)
    ctx = JobContext(root)
    run_through_kind(WndchrmKind(), ctx, ["wndchrm", "check", "-l", "test"])
    assert (root / "wndchrm-reports/test-check.txt").read_text() == "test/binuc5.tif\n"
    shutil.copy(_unpacked("cpp-train-l.fit.xz", tmp_path), root / "model.fit")
    queue = run_through_kind(WndchrmKind(), ctx, ["wndchrm", "classify", "-l", "--out=c.tsv", "model.fit", "test"])
    assert queue.params == [["wndchrm", "features", "-l", "test/binuc5.tif"]]
    assert (root / "c.tsv").read_text().count("\n") == 3


def test_tile_sigs_are_reused_in_the_cpp_programs_sample_order(root: Path, tmp_path: Path) -> None:
    """``train -t2 tiled.tif`` wrote tiled-t2_<column>_<row>.sig (tiled.tif is test/binuc5.tif)."""
    shutil.rmtree(root / ".wndchrm-cache")
    image = Path(shutil.copy(root / "test/binuc5.tif", root / "test/tiled.tif"))
    tiled = Options(tile_cols=2, tile_rows=2)
    assert needs_features(root, image, tiled)
    for name in (FIXTURES / "cpp-train-t2-tiled.txt").read_text().split("'")[1::2][:4]:
        shutil.copy(_unpacked(name + ".xz", tmp_path), root / "test" / name)
    assert not needs_features(root, image, tiled)
    from_sigs = image_features(root, image, tiled)
    computed = [FeatureSet(long=False, colour=False).compute(tile) for tile in load_samples(image, tiled)]
    assert _close(from_sigs, np.array(computed))


def test_a_truncated_or_foreign_sig_is_not_trusted(root: Path, tmp_path: Path) -> None:
    image = _with_cpp_sig(root, tmp_path)
    shutil.rmtree(root / ".wndchrm-cache")
    assert not needs_features(root, image, LONG)
    whole = (root / "test/norm3-l.sig").read_text()
    (root / "test/norm3-l.sig").write_text(whole[:40960])  # as seen while the C++ program writes it
    assert needs_features(root, image, LONG)
    (root / "test/norm3-l.sig").write_text(whole.replace("\t4.2\n", "\t3.2\n", 1))
    assert needs_features(root, image, LONG)


def test_a_sig_written_here_before_the_maximal_correlation_was_computed_is_not_trusted(
        root: Path, tmp_path: Path) -> None:
    # This project once wrote Haralick [16] and [17] as 0 in every .sig; such a file is recomputed.
    image = _with_cpp_sig(root, tmp_path)
    shutil.rmtree(root / ".wndchrm-cache")
    lines = (root / "test/norm3-l.sig").read_text().splitlines()
    zeroed = [f"0\t{line.split(chr(9))[1]}" if re.search(r"Haralick .* \[1[67]\]$", line) else line
              for line in lines]
    (root / "test/norm3-l.sig").write_text("\n".join(zeroed) + "\n")
    assert needs_features(root, image, LONG)


def test_old_style_sig_is_read_only_with_capital_o(root: Path, tmp_path: Path) -> None:
    image = root / "test/norm3.tif"
    shutil.rmtree(root / ".wndchrm-cache")
    shutil.copy(_unpacked("norm3-l.sig.xz", tmp_path), old_sig_path(image, Sample(0, 0, 0)))
    assert needs_features(root, image, LONG)
    assert not needs_features(root, image, Options(long=True, skip_sig_check=True))


def test_m_writes_the_sigs_wndchrm_reuses(root: Path, tmp_path: Path) -> None:
    """-m writes what the C++ program computes (evidence: it reused such files, cpp-train-on-our-sigs.txt)."""
    image = root / "train/binuc/binuc1.tif"
    image_features(root, image, Options(long=True, save_sigs=True))
    written = root / "train/binuc/binuc1-l.sig"
    assert stat.S_IMODE(written.stat().st_mode) == 0o444
    sig = read_sig(written)
    cpp = read_fit(_unpacked("cpp-train-l.fit.xz", tmp_path), "cpp-train-l.fit")
    assert sig.version == (4, 2) and sig.names == cpp.feature_names and sig.image_path == "train/binuc/binuc1.tif"
    assert _close(sig.values, cpp.features[0], sig.names)
    for name in ("cpp-train-on-our-sigs.txt", "cpp-train-o-on-our-sigs.txt"):  # 1.60 ignores -o
        evidence = (FIXTURES / name).read_text()
        assert evidence.count("-l.sig' read in.") == 6 and "for sig calc" not in evidence


def _cpp_rows(text: str) -> dict[str, list[str]]:
    return {line.split("\t")[0]: line.split("\t") for line in text.splitlines() if line.startswith("test/")}


def test_a_fit_written_here_is_the_one_wndchrm_classified(root: Path, tmp_path: Path) -> None:
    run_through_kind(WndchrmKind(), JobContext(root), ["wndchrm", "train", "-l", "train", "ours-l.fit"])
    ours = read_fit(root / "ours-l.fit", "ours-l.fit")
    given = read_fit(_unpacked("ours-train-l.fit.xz", tmp_path), "ours-train-l.fit")
    assert (ours.version, ours.feature_names, ours.paths) == (given.version, given.feature_names, given.paths)
    assert _close(ours.features, given.features)
    # wndchrm classified with that file as with its own: the same lines, digit for digit.
    theirs = _cpp_rows((FIXTURES / "cpp-classify-ours-l.txt").read_text())
    own = _cpp_rows((FIXTURES / "cpp-classify-cpp-l.txt").read_text())
    assert theirs == own and theirs.keys() == {"test/binuc5.tif", "test/norm3.tif"}
    # And we classify with it as wndchrm did.
    _agrees_with_cpp(root, theirs)


def _agrees_with_cpp(root: Path, theirs: dict[str, list[str]]) -> None:
    """Our classify with ours-l.fit prints wndchrm's lines: norm. factors, probabilities and classes.

    The job works in wndchrm's 4.2 vector, every value computed, so it selects the features the C++
    program selected from the same file.
    """
    argv = ["wndchrm", "classify", "-l", "--out=c.tsv", "ours-l.fit", "test"]
    run_through_kind(WndchrmKind(), JobContext(root), argv)
    ours = _cpp_rows((root / "c.txt").read_text())
    assert theirs.keys() == ours.keys() == {"test/binuc5.tif", "test/norm3.tif"}
    for image, row in theirs.items():
        assert ours[image] == row


@pytest.mark.skipif(CPP_BINARY is None, reason="no C++ wndchrm: set WNDCHRM_BINARY or put wndchrm on PATH (CI has "
                    "none; test_a_fit_written_here_is_the_one_wndchrm_classified checks its committed output)")
def test_wndchrm_classifies_with_a_fit_written_here(root: Path, tmp_path: Path) -> None:
    ctx = JobContext(root)
    run_through_kind(WndchrmKind(), ctx, ["wndchrm", "train", "-l", "train", "ours-l.fit"])
    for name in ("binuc5-l.sig.xz", "norm3-l.sig.xz"):  # its own features: saves it minutes of computing
        shutil.copy(_unpacked(name, tmp_path), root / "test" / name.removesuffix(".xz"))
    assert CPP_BINARY is not None
    done = subprocess.run([CPP_BINARY, "classify", "-l", "ours-l.fit", "test"], cwd=root,
                          capture_output=True, text=True, timeout=120, check=False)
    assert "test/norm3.tif" in done.stdout, done.stdout + done.stderr
    _agrees_with_cpp(root, _cpp_rows(done.stdout))


def test_d_and_t_save_the_dataset_and_test_set(root: Path) -> None:
    argv = ["wndchrm", "classify", "-l", "-Dout/d.fit", "-Tout/t.fit", "--out=out/c.tsv", "train", "test"]
    run_through_kind(WndchrmKind(), JobContext(root), argv)
    dataset, testset = read_fit(root / "out/d.fit", "d.fit"), read_fit(root / "out/t.fit", "t.fit")
    assert dataset.version == testset.version == (4, 2) and dataset.classes == ["binuc", "norm"]
    assert dataset.labels.tolist() == [0, 0, 0, 0, 1, 1] and dataset.features.shape == (6, 2919)
    assert testset.classes == [] and testset.labels.tolist() == [UNKNOWN, UNKNOWN]
    assert testset.paths == ["test/binuc5.tif", "test/norm3.tif"]
    first_line = (root / "out/t.fit").read_text().splitlines()[0]
    assert first_line == "0\t4.2"
    # As with wndchrm, the saved files classify: the test set's unknown images included.
    again = ["wndchrm", "classify", "-l", "--out=out/again.tsv", "out/d.fit", "out/t.fit"]
    run_through_kind(WndchrmKind(), JobContext(root), again)
    assert (root / "out/again.tsv").read_text() == (root / "out/c.tsv").read_text()


def test_a_model_of_the_other_feature_set_is_refused(root: Path, tmp_path: Path) -> None:
    shutil.copy(_unpacked("cpp-train-l.fit.xz", tmp_path), root / "model.fit")
    argv = ["wndchrm", "classify", "--out=c.tsv", "model.fit", "test"]
    with pytest.raises(BadJob, match=r"'model.fit' has 2919 features \(the long set\): add -l$"):
        run_through_kind(WndchrmKind(), JobContext(root), argv)
    argv = ["wndchrm", "test", "-l", "model.fit", "test"]
    (root / "model.fit").write_text("2\t4.2\n1059\n")  # only the header is read
    with pytest.raises(BadJob, match=r"'model.fit' has 1059 features \(the short set\): remove -l$"):
        WndchrmKind().validate(argv, JobContext(root))


def test_written_fit_round_trips(tmp_path: Path) -> None:
    names = ["Haralick Textures () [15]", "Haralick Textures () [16]"]
    fit = FitFile(["a", "b"], names, np.array([[1.0, 0.123456789123], [2.5, -3e-9]]),
                  np.array([0, 1], dtype=np.intp), ["x.tif", "y.tif"])
    write_fit(tmp_path / "m.fit", fit)
    back = read_fit(tmp_path / "m.fit", "m.fit")
    assert back.feature_names == [names[0], "Haralick Textures () [16]", "Haralick Textures () [17]",
                                  "Haralick Textures () [18]"]
    assert back.features.tolist() == [[1, 0, 0, 0.12345679], [2.5, 0, 0, -3e-9]]
    assert (tmp_path / "m.fit").read_text().splitlines()[-4] == "1 0 0 0.12345679 1"
