"""Splits as wndchrm chooses them, each classifier option's effect, and train/test/classify/check end to end.

Split and option tests run on small synthetic feature matrices (fast); the end-to-end ones on the example
sets whose features the session fixture computed once.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from wndchrm_helpers import run_through_kind

from depqueue import BadJob
from services.kinds import JobContext
from services.kinds.wndchrm import WNDCHRM
from wndchrm import options
from wndchrm.classifier import evaluation, experiment, wnd
from wndchrm.classifier.experiment import Labelled
from wndchrm.cli.commands import parse_job, report_paths
from wndchrm.formats.fitfile import read_fit
from wndchrm.reports import printout


def _opts(*words: str) -> options.Options:
    return options.parse(["wndchrm", "test", *words, "x"]).options


def _synthetic(per_class: list[int], tiles: int = 1, seed: int = 1, classes: list[str] | None = None) -> Labelled:
    """Images whose 6 features drift with the class index (2 informative, 4 noise)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(per_class)), per_class).astype(np.intp)
    features = [np.column_stack([rng.normal(c, 0.3, (tiles, 2)), rng.normal(0, 1, (tiles, 4))]) for c in labels]
    names = classes or [f"c{k}" for k in range(len(per_class))]
    return Labelled([f"img{i}.tif" for i in range(len(labels))], features, labels, names)


def _counts(data: Labelled, indices: np.ndarray) -> list[int]:
    return np.bincount(data.labels[indices], minlength=len(data.classes)).tolist()


def test_balanced_split_by_the_smallest_class() -> None:
    data = _synthetic([20, 8, 12])
    chosen = experiment.plan(data, _opts(), has_testset=False, classify=False)
    # floor(0.75 * 8 + 0.5) = 6 training images per class; the test set is the other 2 of 8, per class.
    assert (chosen.n_train, chosen.n_test, chosen.ratio) == (6, 2, 0.0)
    train, test = experiment.split(data, chosen, True, np.random.default_rng(0))
    assert _counts(data, train) == [6, 6, 6] and _counts(data, test) == [2, 2, 2]
    assert not set(train) & set(test)


def test_unbalanced_split_with_r_hash() -> None:
    data = _synthetic([20, 8, 12])
    chosen = experiment.plan(data, _opts("-r#0.5"), has_testset=False, classify=False)
    train, test = experiment.split(data, chosen, True, np.random.default_rng(0))
    # Half of each class's own images trains (floor(0.5 n + 0.5)), the rest of each class tests.
    assert _counts(data, train) == [10, 4, 6] and _counts(data, test) == [10, 4, 6]


def test_i_and_j_cap_the_images_per_class() -> None:
    data = _synthetic([20, 8, 12])
    chosen = experiment.plan(data, _opts("-i3", "-j4"), has_testset=False, classify=False)
    train, test = experiment.split(data, chosen, True, np.random.default_rng(0))
    assert _counts(data, train) == [3, 3, 3] and _counts(data, test) == [4, 4, 4]
    # -j beyond what the smallest class leaves is cut to it (8 - 3 = 5).
    assert experiment.plan(data, _opts("-i3", "-j9"), False, False).n_test == 5
    with pytest.raises(BadJob, match="leaves no test images"):
        experiment.plan(data, _opts("-i8"), has_testset=False, classify=False)


def test_classify_trains_on_each_class_s_first_images() -> None:
    data = _synthetic([5, 3])
    chosen = experiment.plan(data, _opts(), has_testset=True, classify=True)
    train, test = experiment.split(data, chosen, False, None)
    # -r 1.0 of the smallest class (3), balanced, in dataset order; no test images from the dataset.
    assert train.tolist() == [0, 1, 2, 5, 6, 7] and test.tolist() == []
    unbalanced = experiment.plan(data, _opts("-r#1"), has_testset=True, classify=True)
    assert experiment.split(data, unbalanced, False, None)[0].tolist() == list(range(8))


def test_n_keeps_the_first_classes_and_i_hash_drops_small_ones() -> None:
    data = _synthetic([10, 4, 10, 10])
    assert experiment.select_classes(data, _opts("-N2")).classes == ["c0", "c1"]
    kept = experiment.select_classes(data, _opts("-i#5"))
    assert kept.classes == ["c0", "c2", "c3"] and len(kept.paths) == 30
    assert set(kept.labels.tolist()) == {0, 1, 2}


def _run(data: Labelled, *words: str, test_set: Labelled | None = None) -> evaluation.TestResult:
    return evaluation.run_test(data, test_set, _opts(*words))


def test_splits_are_seeded_and_each_counts() -> None:
    data = _synthetic([12, 12])
    first, again = _run(data, "-n4"), _run(data, "-n4")
    assert [s.train_paths for s in first.splits] == [s.train_paths for s in again.splits]
    assert len({tuple(s.train_paths) for s in first.splits}) == 4
    assert first.mean_accuracy > 0.9
    assert first.confusion.sum() == 4 * 2 * 3


def test_q_counts_a_class_among_the_n_best() -> None:
    data = _synthetic([12, 12, 12, 12], seed=3)
    data = Labelled(data.paths, [f[:, 2:] for f in data.features], data.labels, data.classes)  # noise only
    plain, ranked = _run(data, "-n3"), _run(data, "-n3", "-q3")
    assert ranked.mean_accuracy > plain.mean_accuracy


def test_tile_positions_train_separate_models() -> None:
    data = _synthetic([10, 10], tiles=4)
    rng = np.random.default_rng(7)
    for image in data.features:  # only position 0 carries the class
        image[1:, :2] = rng.normal(0, 0.3, (3, 2))
    train = np.arange(0, 20, 2)
    models, _ = evaluation.models_for(data, train, _opts("-t#2"))
    assert len(models) == 4 and all(len(m.train) == 10 for m in models)
    assert models[0].train.tolist() == models[0].train.tolist()
    informative = [m.scores[:2].max() for m in models]
    assert informative[0] > 10 * max(informative[1:])  # position 0's model alone sees the class
    areas = _run(data, "-t#2", "-n3")
    image = areas.splits[0].images[0]
    features = data.features[data.paths.index(image.path)]
    split_models, _ = evaluation.models_for(data, np.array([data.paths.index(p) for p in areas.splits[0].train_paths]),
                                            _opts("-t#2"))
    per_position = [wnd.classify_tiles(m, features[k : k + 1]).probabilities[0] for k, m in enumerate(split_models)]
    assert image.probabilities == pytest.approx(np.mean(per_position, axis=0))
    closest = _run(data, "-t#^2", "-n3").splits[0].images[0]
    assert any(np.allclose(closest.probabilities, p) for p in per_position)  # one tile's, not the mean


def test_continuous_values_predict_numbers() -> None:
    data = _synthetic([8, 8, 8], classes=["1", "2", "3"])
    result = _run(data, "-C", "-n2")
    assert result.continuous and result.classes == [""]
    for split in result.splits:
        predicted = np.array([r.value for r in split.images])
        actual = np.array([r.actual_value for r in split.images])
        assert np.abs(predicted - actual).mean() < 0.5
        correlation = split.pearson(result.classes)
        assert correlation is not None and correlation[0] > 0.8
    assert "Average Pearson Correlation (2 splits): " in printout.printout([result])


def test_continuous_test_set_keeps_its_own_values() -> None:
    data = _synthetic([8, 8, 8], classes=["1", "2", "3"])
    other = _synthetic([4, 4], seed=5, classes=["1", "7"])
    given = tuple(other.classes[c] for c in other.labels.tolist())
    test_set = Labelled(other.paths, other.features, np.array([0] * 4 + [-1] * 4), data.classes, given=given)
    result = _run(data, "-C", test_set=test_set)
    assert [r.actual_value for r in result.splits[0].images] == [1.0] * 4 + [7.0] * 4


def test_assessment_leaves_out_each_feature_group() -> None:
    data = _synthetic([10, 10])
    names = ["Alpha a [0]", "Alpha a [1]", "Beta b [0]", "Beta b [1]", "Beta b [2]", "Beta b [3]"]
    results = evaluation.run_assessment(data, None, _opts("-n2"), names)
    assert [r.left_out for r in results] == [None, "Alpha a [ ]", "Beta b [ ]"]
    # Leaving out the informative group ("Alpha") costs accuracy; leaving out the noise does not.
    assert results[1].mean_accuracy < results[0].mean_accuracy <= results[2].mean_accuracy + 0.1
    text = printout.printout(results)
    assert "Accuracy assessment without using feature group 'Alpha a [ ]' - Average accuracy (2 splits)" in text


def test_weight_file_replaces_the_computed_weights(tmp_path: Path) -> None:
    data = _synthetic([10, 10])
    zero_informative = tmp_path / "w.weights"
    zero_informative.write_text("".join(f"{w:f} f{k}\n" for k, w in enumerate([0, 0, 1, 1, 1, 1])))
    read = evaluation.WeightFile("r", zero_informative, "w.weights")
    replaced = evaluation.run_test(data, None, _opts("-n2"), weight_file=read)
    assert replaced.weights is not None and replaced.weights.tolist() == [0, 0, 1, 1, 1, 1]
    assert replaced.mean_accuracy < _run(data, "-n2").mean_accuracy
    # -v- subtracts the file's weights; a weight that goes below 0 becomes 0.
    minus = evaluation.WeightFile("-", zero_informative, "w.weights")
    models, distance = evaluation.models_for(data, np.arange(20), _opts(), minus)
    computed, _ = evaluation.models_for(data, np.arange(20), _opts())
    assert models[0].weights.tolist() == np.maximum(computed[0].weights - [0, 0, 1, 1, 1, 1], 0).tolist()
    assert distance == pytest.approx(float(np.sqrt(((computed[0].weights - [0, 0, 1, 1, 1, 1]) ** 2).sum())))
    short = tmp_path / "short.weights"
    short.write_text("1.0 f0\n")
    with pytest.raises(BadJob, match="has 1 line"):
        evaluation.run_test(data, None, _opts(), weight_file=evaluation.WeightFile("+", short, "short.weights"))


# End to end, through expand and run as the queue calls them, on the example sets.

def _test(root: Path, *words: str, check_accuracy: bool = True) -> dict[str, Any]:
    report = f"out/{'-'.join(w.strip('-').replace('/', '_').replace('.', '_') for w in words)}.txt"
    queue = run_through_kind(WNDCHRM, JobContext(root), ["wndchrm", "test", f"--out={report}", *words])
    assert queue.deps == []  # the session fixture cached every image
    text = (root / report).read_text()
    body: dict[str, Any] = json.loads((root / report).with_suffix(".json").read_text())
    if check_accuracy:
        assert f"Average accuracy ({len(body['splits'])} splits): {body['average_accuracy']:f}" in text
    return body


def test_textures_are_told_apart(examples_root: Path) -> None:
    body = _test(examples_root, "-n5", "ex/textures")
    assert body["average_accuracy"] >= 0.95, body["accuracies"]
    assert body["classes"] == ["brick", "grass", "gravel"]


def test_digits_are_told_apart(examples_root: Path) -> None:
    body = _test(examples_root, "-l", "-n5", "ex/digits")
    assert body["average_accuracy"] >= 0.9, body["accuracies"]
    assert len(body["classes"]) == 10


def test_shuffled_digit_labels_stay_near_chance(examples_root: Path) -> None:
    body = _test(examples_root, "-l", "-n5", "ex/digits-shuffled.tsv")
    assert body["average_accuracy"] <= 0.25, body["accuracies"]


def test_reports_hold_every_split(examples_root: Path) -> None:
    body = _test(examples_root, "-n3", "-w", "ex/textures")
    assert body["classifier"] == "WNN" and len(body["splits"]) == 3
    for split in body["splits"]:
        tested = [t["path"] for t in split["test"]]
        assert len(split["train"]) == 3 * 15 and len(tested) == 3 * 5  # 0.75 of 20 per class
        assert not set(tested) & set(split["train"])
        for t in split["test"]:
            assert sum(t["probabilities"].values()) == pytest.approx(1.0)
    assert sum(map(sum, body["confusion_matrix"])) == 3 * 15
    html = (examples_root / "out/n3-w-ex_textures.html").read_text()
    png = html.split('src="data:image/png;base64,')[1].split('"')[0]
    assert base64.b64decode(png).startswith(b"\x89PNG")


def test_continuous_needs_numbers_as_labels(examples_root: Path) -> None:
    # Digit folders are named 0-9: values. Texture names are not: wndchrm keeps classes (and warns).
    digits = _test(examples_root, "-l", "-C", "-n2", "ex/digits", check_accuracy=False)
    assert digits["continuous"] and digits["classes"] == [""]
    assert all(s["pearson"]["correlation"] > 0.5 for s in digits["splits"])
    textures = _test(examples_root, "-C", "ex/textures")
    assert not textures["continuous"] and textures["classes"] == ["brick", "grass", "gravel"]


def test_weights_written_then_read_through_the_kind(examples_root: Path) -> None:
    ctx = JobContext(examples_root)
    run_through_kind(WNDCHRM, ctx, ["wndchrm", "test", "--out=out/vw.txt", "-vwout/tex.weights", "ex/textures"])
    lines = (examples_root / "out/tex.weights").read_text().splitlines()
    # wndchrm's short vector (1,059 lines, 0 for the 12 values CharmFeatures lacks): the file the C++ reads;
    # -f0.15 keeps every weight at or above the 160th largest (floor(0.15 x 1,059 + 0.5) + 1).
    assert len(lines) == 1059 and sum(float(line.split(" ", 1)[0]) > 0 for line in lines) == 160
    run_through_kind(WNDCHRM, ctx, ["wndchrm", "test", "--out=out/vr.txt", "-vrout/tex.weights", "ex/textures"])
    body = json.loads((examples_root / "out/vr.json").read_text())
    assert body["splits"][0]["weight_file_distance"] == pytest.approx(0.0, abs=1e-3)
    with pytest.raises(BadJob, match=r"out/none\.weights"):
        run_through_kind(WNDCHRM, ctx, ["wndchrm", "test", "--out=out/x.txt", "-vrout/none.weights", "ex/textures"])
    image = "ex/textures/brick/brick-000.tif"
    with pytest.raises(BadJob, match="also an input"):  # -vw never overwrites an image it reads
        run_through_kind(WNDCHRM, ctx, ["wndchrm", "test", "--out=out/x.txt", f"-vw{image}", "ex/textures"])
    assert (examples_root / image).read_bytes()[:2] in (b"II", b"MM")


def test_train_then_classify_with_the_model(examples_root: Path) -> None:
    ctx = JobContext(examples_root)
    run_through_kind(WNDCHRM, ctx, ["wndchrm", "train", "ex/textures", "models/textures.fit"])
    fit = read_fit(examples_root / "models/textures.fit", "textures.fit")
    assert fit.classes == ["brick", "grass", "gravel"]
    assert fit.features.shape == (60, 1059) and len(fit.paths) == 60  # written as wndchrm 4.2 (v5 + 12)
    queries = ["ex/textures/brick/brick-003.tif", "ex/textures/gravel"]
    run_through_kind(WNDCHRM, ctx, ["wndchrm", "classify", "--out=out/classified.tsv", "models/textures.fit",
                                    *queries])
    rows = [line.split("\t") for line in (examples_root / "out/classified.tsv").read_text().splitlines()]
    assert rows[0][:3] == ["image", "predicted class", "norm. fact."]
    assert len(rows) == 1 + 1 + 20
    for row in rows[1:]:
        assert row[1] == Path(row[0]).parent.name  # training images classify as their own class
        assert sum(float(p) for p in row[3:6]) == pytest.approx(1.0, abs=1e-3)
    text = (examples_root / "out/classified.txt").read_text()
    assert text.startswith("\n----------\nimage\tnorm. fact.\tp(brick)\tp(grass)\tp(gravel)\tact. class\tpred. class")
    # Images given as a folder of images or one image have no class: wndchrm marks them "*", and the
    # accuracy over no known image is C's 0/0.
    assert "\t*\tgravel\t" in text and "Average accuracy (1 splits): -nan" in text


def test_train_writes_every_image(examples_root: Path) -> None:
    ctx = JobContext(examples_root)
    run_through_kind(WNDCHRM, ctx, ["wndchrm", "train", "-i4", "-l", "ex/textures", "models/small.fit"])
    fit = read_fit(examples_root / "models/small.fit", "small.fit")
    assert fit.features.shape == (60, 2919)  # as wndchrm's train: -i only matters to test and classify


def test_check_prints_only_paths(examples_root: Path) -> None:
    fresh = examples_root / "fresh"
    fresh.mkdir()
    for name in ("b.tif", "a.tif"):
        (fresh / name).write_bytes((examples_root / "ex/textures/brick/brick-000.tif").read_bytes())
    command = [sys.executable, "-m", "wndchrm", "--data-root", str(examples_root), "check"]
    done = subprocess.run([*command, "fresh"], capture_output=True, text=True, check=True)
    assert done.stdout == "fresh/a.tif\nfresh/b.tif\n"
    old_name = [sys.executable, "-m", "services.kinds.wndchrm", *command[3:]]  # still runs the same program
    assert subprocess.run([*old_name, "fresh"], capture_output=True, text=True, check=True).stdout == done.stdout
    done = subprocess.run([*command, "ex/textures"], capture_output=True, text=True, check=True)
    assert done.stdout == ""


def test_report_paths(examples_root: Path) -> None:
    ctx = JobContext(examples_root)
    job = parse_job(["wndchrm", "test", "--out=r/rep.txt", "ex/textures"], ctx)
    assert report_paths(ctx, job) == tuple(examples_root / w for w in ("r/rep.txt", "r/rep.json", "r/rep.html"))
