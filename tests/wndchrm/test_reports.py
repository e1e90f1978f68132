"""The ``test`` and ``classify`` reports: every section of wndchrm's HTML report, with the text's numbers."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from report_helpers import build_numeric_set, parse_tables, shared_numeric_root
from wndchrm_helpers import run_through_kind

from services.kinds import JobContext
from services.kinds.wndchrm import WNDCHRM

FIXTURES = Path(__file__).parent / "fixtures" / "cpp" / "reports"


def _load(html: Path) -> tuple[str, dict[str, Any], str]:
    return html.read_text(), json.loads(html.with_suffix(".json").read_text()), html.with_suffix(".txt").read_text()


@pytest.fixture(scope="module")
def textures_report(examples_root: Path) -> Path:
    """``test -n2 -p+`` of the bundled textures: two splits, tsv exports."""
    ctx = JobContext(examples_root)
    run_through_kind(WNDCHRM, ctx, ["wndchrm", "test", "-n2", "-p+", "-i6", "-j4", "ex/textures",
                                    "reports/textures.html"])
    return examples_root / "reports" / "textures.html"


@pytest.fixture(scope="module")
def numeric_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 10-class dataset with numeric labels (stripes whose frequency is the label), ``-p#``."""
    root = shared_numeric_root(tmp_path_factory.getbasetemp())
    run_through_kind(WNDCHRM, JobContext(root), ["wndchrm", "test", "-r0.5", "-p#", "-P2", "numeric",
                                                 "out/numeric.html"])
    return root / "out" / "numeric.html"


def _close(shown: str, value: float | int | None) -> bool:
    """Whether a cell's text is ``value`` at the cell's own precision ("n/a" for a missing figure)."""
    if value is None:
        return shown == "n/a"
    digits = len(shown.split(".")[1]) if "." in shown and "e" not in shown else None
    if digits is None:
        return math.isclose(float(shown), value, rel_tol=5e-3, abs_tol=1e-12)
    return abs(float(shown) - value) <= 0.5 * 10**-digits + 1e-12


def _numbers(rows: list[list[tuple[str, str, str]]]) -> list[list[str]]:
    return [[text for tag, cls, text in row if tag == "td" and "t" not in cls.split()] for row in rows[1:]]


def _check_matrix(rows: list[list[tuple[str, str, str]]], expected: list[list[Any]]) -> None:
    cells = _numbers(rows)
    assert len(cells) == len(expected)
    for shown, values in zip(cells, expected, strict=True):
        assert len(shown) >= len(values)
        assert all(_close(s, v) for s, v in zip(shown, values, strict=False)), (shown, values)


def test_every_number_in_the_html_is_the_jsons(textures_report: Path) -> None:
    page, data, _ = _load(textures_report)
    tables = parse_tables(page)
    classes = data["classes"]
    _check_matrix(tables.tables["master_confusion_matrix"], data["confusion_matrix"])
    _check_matrix(tables.tables["average_similarity_matrix"], data["similarity_matrix"])
    _check_matrix(tables.tables["average_class_probability_matrix"], data["class_probability_matrix"])
    for row, per in zip(_numbers(tables.tables["master_confusion_matrix"]), data["per_class"], strict=True):
        assert [_close(s, v) for s, v in zip(row[len(classes):], [per["tested"], per["accuracy"], *per["interval"]],
                                             strict=True)] == [True] * 4
    for k, split in enumerate(data["splits"], start=1):
        _check_matrix(tables.tables[f"confusion_matrix-split{k}"], split["confusion_matrix"])
        _check_matrix(tables.tables[f"similarity_matrix-split{k}"], split["similarity_matrix"])
        shown = _numbers(tables.tables[f"FeaturesUsed_split{k}"])
        assert [len(shown)] == [len(split["selected_features"])] and len(shown) > 0
        assert all(_close(s[1], f["weight"]) for s, f in zip(shown, split["selected_features"], strict=True))
        families = _numbers(tables.tables[f"FeaturesGroups_split{k}"])
        assert all(_close(s[3], f["mean"]) for s, f in zip(families, split["feature_families"], strict=True))
    top = _numbers(tables.tables["aggregated_feature_stats"])
    assert len(top) == 50 and all(_close(s[3], f["mean"]) for s, f in zip(top, data["top_features"], strict=True))
    assert tables.ids["total_tested"] == str(data["overall"]["tested"])
    assert _close(tables.ids["average_accuracy"], data["overall"]["accuracy"])
    assert _close(tables.ids["interval_half"], data["overall"]["accuracy_interval"][1])


def test_every_image_line_of_the_text_is_in_the_html(textures_report: Path) -> None:
    page, data, text = _load(textures_report)
    tables = parse_tables(page)
    printed = [line.split("\t") for line in text.splitlines() if line.startswith("ex/textures/")]
    shown = [row for k in range(1, len(data["splits"]) + 1) for row in tables.tables[f"IndividualImages_split{k}"][1:]]
    assert len(printed) == len(shown) == sum(len(s["test"]) for s in data["splits"]) > 0
    n = len(data["classes"])
    for line, row in zip(printed, shown, strict=True):
        texts = [cell[2] for cell in row]
        # path, norm. factor, p(class)..., actual, predicted: the text's own digits
        assert [texts[2], texts[3], *texts[4 : 4 + n], texts[4 + n], texts[5 + n]] == line[: 4 + n]


def _text_rows(text: str, title: str, count: int) -> list[list[str]]:
    """A matrix the text report prints under ``title``: each row's cells after the class name."""
    lines = text.splitlines()
    start = lines.index(title) + 2  # the title, then the column header
    return [line.split()[1:] for line in lines[start : start + count]]


def test_the_texts_matrices_are_the_htmls(textures_report: Path) -> None:
    page, data, text = _load(textures_report)
    tables = parse_tables(page)
    n = len(data["classes"])
    for title, table_id in (("Average Similarity Matrix", "average_similarity_matrix"),
                            ("Average Class Probability Matrix", "average_class_probability_matrix")):
        assert _text_rows(text, title, n) == _numbers(tables.tables[table_id])
    confusion = _text_rows(text, "Confusion Matrix (sum of all splits)", n)
    shown = _numbers(tables.tables["master_confusion_matrix"])
    assert [row[: n + 1] for row in confusion] == [row[: n + 1] for row in shown]  # counts and total tested
    assert all(math.isclose(float(t[n + 1]), float(h[n + 1]), abs_tol=5e-5) for t, h in zip(confusion, shown,
                                                                                            strict=True))


def test_the_sections_of_wndchrms_report_are_all_there(textures_report: Path) -> None:
    page, data, _ = _load(textures_report)
    ours = set(parse_tables(page).tables)
    cpp = set(re.findall(r'<table\s+id="([^"]+)"', (FIXTURES / "report.html").read_text(), re.IGNORECASE))
    wanted = {re.sub(r"split(\d+)$", lambda m: f"split{int(m[1]) + 1}", name) for name in cpp}  # 1-based here
    assert wanted - ours == set()
    for key in ("generated", "command", "dataset_summary", "images_per_split", "overall", "per_class",
                "class_probability_interval", "top_features", "class_distances"):
        assert data[key] not in (None, [], {}), key
    assert data["overall"]["p_value"] < 0.05 and 0 < data["overall"]["accuracy_interval"][1] < 1
    assert "data:image/png;base64," in page and "<img" in page
    assert "-nan" not in page and "href=\"ex/" not in page  # no junk cells, no links to files never written


def test_p_plus_writes_wndchrms_tsv_files(textures_report: Path) -> None:
    _, data, _ = _load(textures_report)
    folder = textures_report.parent / "tsv"
    assert sorted(p.name for p in folder.iterdir()) == ["avg_class_prob.tsv", "avg_confusion.tsv",
                                                        "avg_similarity.tsv"]
    ours = (folder / "avg_confusion.tsv").read_text().splitlines()
    assert ours[0] == "\t" + "".join(f"{c}\t" for c in data["classes"])
    assert ours[1] == data["classes"][0] + "\t" + "".join(f"{v}\t" for v in data["confusion_matrix"][0])
    cpp = (FIXTURES / "tsv" / "avg_similarity.tsv").read_text().splitlines()
    shape = re.compile(r"^\S*\t(\S+\t)+$")
    assert all(shape.match(line) for line in cpp[1:] + (folder / "avg_similarity.tsv").read_text().splitlines()[1:])


def test_numeric_labels_give_values_pearson_and_an_image_map(numeric_report: Path) -> None:
    page, data, _ = _load(numeric_report)
    assert data["class_values"] == [float(c) for c in data["classes"]]  # sorted as text: 1, 10, 2, ...
    assert sorted(data["class_values"]) == [float(k) for k in range(1, 11)]
    pearson = data["overall"]["pearson"]
    assert pearson is not None and pearson["correlation"] > 0.5  # stripes frequency follows the label
    split = data["splits"][0]
    assert len(split["image_distances"]) == len(split["test"]) == 10  # one of each class's 3 images
    assert "interpolated against actual value" in page and "test image similarity map" in page
    assert "class dendrogram" in page
    tables = parse_tables(page)
    values = [row[-1][2] for row in tables.tables["IndividualImages_split1"][1:]]
    assert values == [format(i["value"], ".3f") for i in split["test"]]


def test_classify_writes_a_report_too(examples_root: Path) -> None:
    ctx = JobContext(examples_root)
    images = ["ex/textures/brick/brick-000.tif", "ex/textures/grass/grass-001.tif"]
    run_through_kind(WNDCHRM, ctx, ["wndchrm", "classify", "ex/textures", *images, "reports/classified.html"])
    page = (examples_root / "reports" / "classified.html").read_text()
    data = json.loads((examples_root / "reports" / "classified.json").read_text())
    assert data["command_name"] == "classify" and [i["path"] for i in data["splits"][0]["test"]] == images
    assert "IndividualImages_split1" in parse_tables(page).tables


def test_tile_areas_get_their_accuracy_table(tmp_path: Path) -> None:
    build_numeric_set(tmp_path, per_class=3, size=48, labels=["1", "8"])
    run_through_kind(WNDCHRM, JobContext(tmp_path), ["wndchrm", "test", "-t#2", "-r0.5", "numeric", "t.html"])
    page, data, _ = _load(tmp_path / "t.html")
    tiles = data["tile_area_accuracy"]
    assert len(tiles) == 2 and all(len(row) == 2 and all(0 <= v <= 1 for v in row) for row in tiles)
    _check_matrix([[], *parse_tables(page).tables["tile_area_accuracy"][1:]], tiles)


def test_a_feature_group_assessment_is_tabled(examples_root: Path) -> None:
    run_through_kind(WNDCHRM, JobContext(examples_root), ["wndchrm", "test", "-A", "-i6", "-j4", "ex/textures",
                                                          "reports/assess.html"])
    page, data, _ = _load(examples_root / "reports" / "assess.html")
    rows = parse_tables(page).tables["feature_group_assessment"][1:]
    assert [row[0][2] for row in rows] == [g["left_out"] for g in data["feature_groups"]] and len(rows) > 5
    assert all(_close(row[1][2], g["average_accuracy"]) for row, g in zip(rows, data["feature_groups"], strict=True))
