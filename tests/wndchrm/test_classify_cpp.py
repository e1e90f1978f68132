"""Our classify/test on wnd-charm's reference .fit files reproduce the C++ wndchrm 1.60's output exactly.

Each fixture under fixtures/cpp/classify/ is the C++ program's stdout for the command in README.txt there;
the part from the first split on (after "samples per image=...") must equal ours character for character:
normalisation factors, marginal probabilities, predicted classes, interpolated values, accuracies and the
three matrices.
"""

from __future__ import annotations

import lzma
from pathlib import Path

import numpy as np
import pytest
from wndchrm_helpers import run_through_kind

from services.kinds import JobContext
from services.kinds.wndchrm import WNDCHRM
from wndchrm import options
from wndchrm.classifier import evaluation, wnd
from wndchrm.classifier import weights as fw
from wndchrm.classifier.experiment import Labelled
from wndchrm.classifier.training_data import fit_samples, job_vector
from wndchrm.formats.fitfile import FitFile, read_fit
from wndchrm.reports import printout

FIXTURES = Path(__file__).parent / "fixtures" / "cpp" / "classify"


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The .xz inputs, decompressed once (the .fit files are 0.5 MB as text)."""
    folder = tmp_path_factory.mktemp("cpp-inputs")
    for packed in FIXTURES.glob("*.xz"):
        (folder / packed.stem).write_bytes(lzma.decompress(packed.read_bytes()))
    return folder


def _fit(folder: Path, name: str) -> FitFile:
    return read_fit(folder / name, name)


def _labelled(fit: FitFile, classes: list[str]) -> Labelled:
    """Images as consecutive rows with one path (their tiles); labels mapped onto ``classes``."""
    starts = [i for i in range(len(fit.paths)) if i == 0 or fit.paths[i] != fit.paths[i - 1]]
    ends = [*starts[1:], len(fit.paths)]
    given = tuple(fit.classes[fit.labels[i]] if fit.labels[i] >= 0 else "" for i in starts)
    labels = np.array([classes.index(g) if g in classes else -1 for g in given], dtype=np.intp)
    features = [fit.features[a:b] for a, b in zip(starts, ends, strict=True)]
    return Labelled([fit.paths[i] for i in starts], features, labels, classes, given=given)


def _tiled(fit: FitFile, classes: list[str] | None = None) -> FitFile:
    """test-l.fit read as 10 images of 2 tiles: each odd sample takes the path of the one before it
    (README.txt gives the awk command that made the same file for the C++ program)."""
    paths = [fit.paths[i - i % 2] for i in range(len(fit.paths))]
    return FitFile(classes or fit.classes, fit.feature_names, fit.features, fit.labels, paths, fit.version)


def _from_sig(folder: Path, name: str, image: str) -> tuple[Labelled, list[str]]:
    """A wndchrm .sig (a version line, the image path, then ``value name`` lines) as one unknown image."""
    lines = (folder / name).read_text().splitlines()[2:]
    values = np.array([[float(line.split("\t", 1)[0]) for line in lines]])
    names = [line.split("\t", 1)[1] for line in lines]
    return Labelled([image], [values], np.array([-1], dtype=np.intp), [], given=("",)), names


def _cpp_printout(fixture: str) -> str:
    """The C++ stdout from the first split on, without its progress message about a weight file."""
    text = (FIXTURES / fixture).read_text()
    if "samples per image=" in text:  # verbosity 2 and up print the data sets' summaries first
        text = text[text.index("\n", text.index("samples per image=")) + 1 :]
    lines = text.splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith("Loading weight vector from file"))


def _ours(train: FitFile, test: Labelled, argv: list[str], folder: Path) -> str:
    """Our printout for ``wndchrm ARGV TRAIN TEST``, on the rows of the two .fit files."""
    command = options.parse(["wndchrm", argv[0], *argv[1:], "train.fit", "test.fit"])
    opts = command.options
    weight_file = None
    if opts.weights_action and opts.weights_path:
        weight_file = evaluation.WeightFile(opts.weights_action, folder / opts.weights_path, opts.weights_path)
    data = _labelled(train, train.classes)
    test = Labelled(test.paths, test.features,
                    np.array([data.classes.index(g) if g in data.classes else -1 for g in test.given]),
                    data.classes, given=test.given)
    result = evaluation.run_test(data, test, opts, classify=argv[0] == "classify", weight_file=weight_file)
    return printout.printout([result], opts.verbosity)


@pytest.mark.parametrize(("fixture", "train", "test", "argv"), [
    ("classify-test-l.txt", "test-l.fit", "test-l.fit", ["classify", "-l"]),
    ("classify-test-l-w.txt", "test-l.fit", "test-l.fit", ["classify", "-l", "-w"]),
    ("classify-unbalanced.txt", "unbalanced.fit", "unbalanced.fit", ["classify", "-l"]),
    ("classify-unbalanced-r-unbal0.9.txt", "unbalanced.fit", "unbalanced.fit", ["classify", "-l", "-r#0.9"]),
    ("classify-unbalanced-q2-on-test-l.txt", "unbalanced.fit", "test-l.fit", ["classify", "-l", "-q2"]),
    ("classify-test-l-f0.05-on-unbalanced.txt", "test-l.fit", "unbalanced.fit", ["classify", "-l", "-f0.05"]),
    ("classify-unbalanced-f0.002.txt", "unbalanced.fit", "unbalanced.fit", ["classify", "-l", "-f0.002"]),
    ("classify-unbalanced-f0.002-q2.txt", "unbalanced.fit", "unbalanced.fit", ["classify", "-l", "-f0.002", "-q2"]),
    ("classify-unbalanced-f0.002-w.txt", "unbalanced.fit", "unbalanced.fit", ["classify", "-l", "-f0.002", "-w"]),
    ("classify-test-l-vr.txt", "test-l.fit", "test-l.fit", ["classify", "-l", "-vrtest_fit-l.weights"]),
    ("classify-test-l-f0.05-vplus.txt", "test-l.fit", "test-l.fit",
     ["classify", "-l", "-f0.05", "-v+test_fit-l.weights"]),
    ("classify-unbalanced-vr-test_fit-l.txt", "unbalanced.fit", "unbalanced.fit",
     ["classify", "-l", "-vrtest_fit-l.weights"]),
    ("test-test-l-r-unbal1-n2-on-unbalanced.txt", "test-l.fit", "unbalanced.fit", ["test", "-l", "-r#1", "-n2"]),
    ("test-test-l-i10-w.txt", "test-l.fit", "test-l.fit", ["test", "-l", "-i10", "-w"]),
    ("test-test-l-i10-w-s3.txt", "test-l.fit", "test-l.fit", ["test", "-l", "-i10", "-w", "-s3"]),
    ("classify-unbalanced-q2-on-test-l-s0.txt", "unbalanced.fit", "test-l.fit", ["classify", "-l", "-q2", "-s0"]),
])
def test_output_equals_the_cpp_program(unpacked: Path, fixture: str, train: str, test: str, argv: list[str]) -> None:
    test_fit = _fit(unpacked, test)
    ours = _ours(_fit(unpacked, train), _labelled(test_fit, test_fit.classes), argv, unpacked)
    assert ours == _cpp_printout(fixture)


@pytest.mark.parametrize(("fixture", "argv", "test_classes"), [
    ("classify-tiled-t2x1.txt", ["classify", "-l", "-t2x1"], None),
    ("classify-tiled-t2x1-w.txt", ["classify", "-l", "-t2x1", "-w"], None),
    ("classify-tiled-t2x1-on-tiled-ab.txt", ["classify", "-l", "-t2x1"], ["alpha", "beta"]),
    ("test-tiled-t2x1-i5.txt", ["test", "-l", "-t2x1", "-i5"], None),
    # -s3 adds each split's matrices (with UNKNOWN rows) and accuracy; -s1 drops tiles and the summary.
    ("classify-tiled-t2x1-on-tiled-ab-s3.txt", ["classify", "-l", "-t2x1", "-s3"], ["alpha", "beta"]),
    ("classify-tiled-t2x1-s1.txt", ["classify", "-l", "-t2x1", "-s1"], None),
])
def test_tiled_images_equal_the_cpp_program(unpacked: Path, fixture: str, argv: list[str],
                                            test_classes: list[str] | None) -> None:
    # Per tile lines, then the image's "(AVG)"; a tile's value uses the test set's labels ("alpha" is 0).
    tiled = _tiled(_fit(unpacked, "test-l.fit"))
    test_fit = _tiled(_fit(unpacked, "test-l.fit"), test_classes)
    ours = _ours(tiled, _labelled(test_fit, test_fit.classes), argv, unpacked)
    assert ours == _cpp_printout(fixture)


@pytest.mark.parametrize("fraction", ["0.75", "0.15", "0.05"])
def test_single_sample_as_pywndcharm_expects(unpacked: Path, fraction: str) -> None:
    # wnd-charm's tests/pywndcharm_tests/test_SingleSamplePrediction.py: p(4cell) 0.917, 0.924, 0.934.
    sample, names = _from_sig(unpacked, "t1_s01_c05_ij-l.sig", "t1_s01_c05_ij.tif")
    fit = _fit(unpacked, "test-l.fit")
    assert names == fit.feature_names
    ours = _ours(fit, sample, ["classify", "-l", f"-f{fraction}"], unpacked)
    assert ours == _cpp_printout(f"classify-test-l-f{fraction}-on-t1_s01_c05_ij.txt")
    expected = {"0.75": "0.917", "0.15": "0.924", "0.05": "0.934"}[fraction]
    assert f"\t{expected}\t*\t4cell\t" in ours


def test_fisher_weights_equal_the_cpp_weights(unpacked: Path) -> None:
    fit = _fit(unpacked, "test-l.fit")
    minimum, maximum = wnd.training_range(fit.features)
    scores = fw.fisher_scores(wnd.scale(fit.features, minimum, maximum), fit.labels, len(fit.classes))
    # test_fit-l.weights is the C++ program's -vw file with every feature kept (%f, 6 decimals).
    cpp = np.loadtxt(unpacked / "test_fit-l.weights", usecols=0)
    assert np.abs(scores - cpp).max() <= 5e-7
    assert fw.weight_file_text(scores, fit.feature_names) == (unpacked / "test_fit-l.weights").read_text()
    # -f0.15 keeps every weight at or above the 439th largest: 439 features, the -vw file byte for byte.
    kept = fw.threshold(scores, 0.15)
    assert int((kept > 0).sum()) == 439
    assert fw.weight_file_text(kept, fit.feature_names) == (unpacked / "test-l-f0.15.weights").read_text()


def test_a_feature_count_selects_as_its_fraction(unpacked: Path) -> None:
    scores = fw.fisher_scores(*_scaled(_fit(unpacked, "test-l.fit")))
    assert np.array_equal(fw.threshold(scores, 438), fw.threshold(scores, 0.15))
    assert int((fw.threshold(scores, 20) > 0).sum()) == 21  # the (20+1)-th largest is the threshold


def _scaled(fit: FitFile) -> tuple[np.ndarray, np.ndarray, int]:
    minimum, maximum = wnd.training_range(fit.features)
    return wnd.scale(fit.features, minimum, maximum), fit.labels, len(fit.classes)


@pytest.mark.parametrize(("fixture", "train", "test", "argv"), [
    ("classify-test-l.txt", "test-l.fit", "test-l.fit", ["classify", "-l"]),
    ("classify-unbalanced-q2-on-test-l.txt", "unbalanced.fit", "test-l.fit", ["classify", "-l", "-q2"]),
    ("classify-test-l-f0.05-vplus.txt", "test-l.fit", "test-l.fit",
     ["classify", "-l", "-f0.05", "-v+test_fit-l.weights"]),
])
def test_a_job_on_cpp_fit_files_keeps_all_their_features(unpacked: Path, tmp_path: Path, fixture: str, train: str,
                                                         test: str, argv: list[str]) -> None:
    # A job whose every input is a C++ .fit works in the files' own 4.2 vector (2,919 features with the 24
    # Haralick values CharmFeatures lacks), so what it writes is what wndchrm prints, through the real kind.
    root = tmp_path / "data"
    root.mkdir()
    for name in ("test-l.fit", "unbalanced.fit", "test_fit-l.weights"):
        (root / name).write_bytes((unpacked / name).read_bytes())
    run_through_kind(WNDCHRM, JobContext(root), ["wndchrm", *argv, train, test, "--out=out/classified.tsv"])
    assert (root / "out" / "classified.txt").read_text() == _cpp_printout(fixture)


def test_a_job_mixing_images_and_a_cpp_fit_keeps_every_value_of_the_fit(unpacked: Path, tmp_path: Path) -> None:
    # Images are computed in wndchrm's whole vector now, so a .fit's values (Haralick [16] and [17]
    # included) are used as they are, whatever else the job reads.
    root = tmp_path / "data"
    root.mkdir()
    (root / "test-l.fit").write_bytes((unpacked / "test-l.fit").read_bytes())
    ctx = JobContext(root)
    opts = options.parse(["wndchrm", "classify", "-l", "test-l.fit", "img.tif"]).options
    only_fits, mixed = job_vector(["test-l.fit"], opts), job_vector(["test-l.fit", "img.tif"], opts)
    assert only_fits.names == mixed.names and len(mixed.names) == 2919
    read = fit_samples(ctx, "test-l.fit", opts, mixed)
    np.testing.assert_array_equal(np.concatenate(read.features), _fit(unpacked, "test-l.fit").features)
