"""train / test / classify / check on the example sets, through expand and run as the queue calls them."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from wndchrm_helpers import run_through_kind

from services.kinds import JobContext
from services.kinds.wndchrm import WNDCHRM
from services.kinds.wndchrm.commands import parse_job, report_paths
from services.kinds.wndchrm.fitfile import read_fit


def _test(root: Path, *words: str) -> dict[str, Any]:
    report = f"out/{'-'.join(w.strip('-').replace('/', '_').replace('.', '_') for w in words)}.txt"
    queue = run_through_kind(WNDCHRM, JobContext(root), ["wndchrm", "test", *words, report])
    assert queue.deps == []  # the session fixture cached every image
    text = (root / report).read_text()
    body: dict[str, Any] = json.loads((root / report).with_suffix(".json").read_text())
    assert f"Average accuracy over {len(body['splits'])} split(s): {body['average_accuracy']:.4f}" in text
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
            assert t["predicted"] == max(t["probabilities"], key=t["probabilities"].get)
    assert sum(map(sum, body["confusion_matrix"])) == 3 * 15
    html = (examples_root / "out/n3-w-ex_textures.html").read_text()
    png = html.split("data:image/png;base64,")[1].split('"')[0]
    assert base64.b64decode(png).startswith(b"\x89PNG")
    assert "Per-class accuracy" in html and "gravel" in html


def test_default_report_path_and_separate_test_set(examples_root: Path) -> None:
    ex = examples_root / "ex"
    images = sorted(ex.glob("textures/*/*.tif"))
    for name, part in (("train.tsv", images[0::2]), ("holdout.tsv", images[1::2])):
        lines = [f"{p.relative_to(ex).as_posix()}\t{p.parent.name}" for p in part]
        (ex / name).write_text("\n".join(lines) + "\n")
    run_through_kind(WNDCHRM, JobContext(examples_root), ["wndchrm", "test", "-j4", "ex/train.tsv", "ex/holdout.tsv"])
    body = json.loads((examples_root / "wndchrm-reports/ex_train-test.json").read_text())
    assert body["testset"] == "ex/holdout.tsv"
    assert len(body["splits"][0]["train"]) == 30 and len(body["splits"][0]["test"]) == 12
    assert body["average_accuracy"] >= 0.9
    assert (examples_root / "wndchrm-reports/ex_train-test.txt").is_file()


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
        assert sum(float(p) for p in row[3:]) == pytest.approx(1.0, abs=1e-3)


def test_model_with_other_tiling_is_refused(examples_root: Path) -> None:
    ctx = JobContext(examples_root)
    run_through_kind(WNDCHRM, ctx, ["wndchrm", "train", "ex/textures", "models/t.fit"])
    with pytest.raises(Exception, match=r"trained with 1 tile\(s\) per image, not 4"):
        WNDCHRM.run(None, 1, ["wndchrm", "classify", "-t2", "models/t.fit", "ex/textures/brick"], ctx)  # type: ignore[arg-type]


def test_check_prints_only_paths(examples_root: Path, tmp_path: Path) -> None:
    fresh = examples_root / "fresh"
    fresh.mkdir()
    for name in ("b.tif", "a.tif"):
        (fresh / name).write_bytes((examples_root / "ex/textures/brick/brick-000.tif").read_bytes())
    command = [sys.executable, "-m", "services.kinds.wndchrm", "--data-root", str(examples_root), "check"]
    done = subprocess.run([*command, "fresh"], capture_output=True, text=True, check=True)
    assert done.stdout == "fresh/a.tif\nfresh/b.tif\n"
    done = subprocess.run([*command, "ex/textures"], capture_output=True, text=True, check=True)
    assert done.stdout == ""
    # As a queue job, the list goes to a file instead of the worker's log.
    run_through_kind(WNDCHRM, JobContext(examples_root), ["wndchrm", "check", "fresh"])
    assert (examples_root / "wndchrm-reports/fresh-check.txt").read_text() == "fresh/a.tif\nfresh/b.tif\n"


def test_train_takes_at_most_i_images_per_class(examples_root: Path) -> None:
    ctx = JobContext(examples_root)
    run_through_kind(WNDCHRM, ctx, ["wndchrm", "train", "-i4", "-l", "ex/textures", "models/small.fit"])
    fit = read_fit(examples_root / "models/small.fit", "small.fit")
    assert fit.features.shape == (12, 2919)
    assert sorted(fit.labels.tolist()) == [0] * 4 + [1] * 4 + [2] * 4


@pytest.mark.parametrize(("report", "written"), [
    ("r/rep.txt", ("r/rep.txt", "r/rep.json", "r/rep.html")),
    ("r/rep.html", ("r/rep.txt", "r/rep.json", "r/rep.html")),
    ("r/rep", ("r/rep", "r/rep.json", "r/rep.html")),
])
def test_report_paths(examples_root: Path, report: str, written: tuple[str, str, str]) -> None:
    ctx = JobContext(examples_root)
    job = parse_job(["wndchrm", "test", "ex/textures", report], ctx)
    assert report_paths(ctx, job) == tuple(examples_root / w for w in written)
