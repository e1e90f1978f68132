"""HTML tables of the report, each drawn from the report's JSON structure (:mod:`data`).

Number cells are plain ``td`` and text cells ``td class=t``. Numbers keep the text report's precision
where it prints them (probabilities ``.3f``, normalisation factors ``.3g``, matrices ``.5f``); a missing
figure (0/0, an overflow) shows as "n/a", never a junk value.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

#: Formats shared with the printed output, so the HTML and text show the same digits.
PROBABILITY = ".3f"
NORM_FACTOR = ".3g"
VALUE = ".3f"
MATRIX = ".5f"
ACCURACY = ".4f"
P_VALUE = ".3g"
SCORE = ".4g"


def esc(text: object) -> str:
    return html.escape(str(text))


def fmt(value: float | int | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def num(value: float | int | None, spec: str, extra: str = "") -> str:
    """A number cell: a plain ``td`` (text cells are ``td class=t``, so a page of 1,000 images stays small)."""
    classes = extra.strip()
    return f'<td class="{classes}">{fmt(value, spec)}</td>' if classes else f"<td>{fmt(value, spec)}</td>"


def table(table_id: str, caption: str, head: Sequence[str], rows: Iterable[str], wide: bool = False) -> str:
    """A table in a scrolling box (phones), with a caption and header cells."""
    heads = "".join(f"<th>{esc(h)}</th>" for h in head)
    return (f'<div class="scroll{" wide" if wide else ""}"><table id="{table_id}"><caption>{esc(caption)}</caption>'
            f"<thead><tr>{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def dataset_table(table_id: str, caption: str, summary: list[dict[str, Any]], numeric: bool) -> str:
    rows = []
    for row in summary:
        value = num(row["value"], ".3g") if numeric else ""
        rows.append(f"<tr><th>{esc(row['class'] or 'UNKNOWN')}</th>{value}{num(row['images'], 'd')}</tr>")
    head = ["Class", *(["Value"] if numeric else []), "Images"]
    return table(table_id, caption, head, rows)


def split_params(data: dict[str, Any]) -> str:
    counts = data["images_per_split"]
    rows = [f"<tr><th>{name}</th>" + "".join(num(v, "d") for v in counts[key]) + num(sum(counts[key]), "d") + "</tr>"
            for name, key in (("Testing", "testing"), ("Training", "training"))]
    caption = "Images for training and testing" + (" (per split)" if len(data["splits"]) > 1 else "")
    return table("classifier_split_params", caption, ["", *data["classes"], "total"], rows)


def _continuous_results(data: dict[str, Any]) -> str:
    rows = []
    for index, split in enumerate(data["splits"], start=1):
        pearson = split["pearson"] or {}
        rows.append(f'<tr><th><a href="#split{index}">Split {index}</a></th>' + num(pearson.get("correlation"), ".4f")
                    + num(pearson.get("p_value"), P_VALUE) + num(pearson.get("mean_abs_difference"), ".4f")
                    + num(split["weight_file_distance"], ".4g") + "</tr>")
    head = ["Split", "Pearson r", "P", "Mean absolute difference", "Weight file distance"]
    return table("test_results", "Interpolation of each split", head, rows)


def results_table(data: dict[str, Any]) -> str:
    """Each split's accuracy and chance P value (with ``-C``: its correlation instead)."""
    if data["continuous"]:
        return _continuous_results(data)
    rows = []
    for index, split in enumerate(data["splits"], start=1):
        pearson = split["pearson"] or {}
        rows.append(f'<tr><th><a href="#split{index}">Split {index}</a></th>' + num(split["accuracy"], ACCURACY)
                    + num(split["p_value"], P_VALUE) + num(split["class_accuracy_mean"], ACCURACY)
                    + num(split["class_accuracy_spread"], ACCURACY) + num(pearson.get("correlation"), ".4f")
                    + num(split["weight_file_distance"], ".4g") + "</tr>")
    head = ["Split", "Accuracy", "P (chance)", "Mean per-class accuracy", "± (largest class difference)",
            "Pearson r", "Weight file distance"]
    return table("test_results", "Accuracy of each split", head, rows)


def groups_table(data: dict[str, Any]) -> str:
    """``-A``: the average accuracy with each feature group left out (empty without ``-A``)."""
    rows = [f"<tr><td class=t>{esc(g['left_out'])}</td>{num(g['average_accuracy'], ACCURACY)}</tr>"
            for g in data["feature_groups"]]
    if not rows:
        return ""
    return table("feature_group_assessment", "Average accuracy without each feature group (-A)",
                 ["Feature group left out", "Average accuracy"], rows)


def overall_list(data: dict[str, Any]) -> str:
    overall = data["overall"]
    centre, half = overall["accuracy_interval"]
    method = "Wilson score" if overall["interval_method"] == "wilson" else "normal approximation"
    items = [
        f'<li>Images tested: <b class="n" id="total_tested">{overall["tested"]}</b>'
        + ("" if data["continuous"] else f', correct: <b class="n" id="total_correct">{overall["correct"]}</b>')
        + "</li>",
        f'<li>Average accuracy over splits: <b class="n" id="average_accuracy">{fmt(overall["accuracy"], ACCURACY)}'
        f'</b> (P by chance <span class="n" id="overall_p">{fmt(overall["p_value"], P_VALUE)}</span>)</li>',
        f'<li>Accuracy of all tested images, 95% interval ({method}): <b class="n" id="interval_centre">'
        f'{fmt(centre, ACCURACY)}</b> ± <span class="n" id="interval_half">{fmt(half, ACCURACY)}</span></li>',
    ]
    if data["continuous"]:  # no classes: accuracy means nothing
        items = items[:1]
    pearson = overall["pearson"]
    if pearson:
        items.append(f'<li>Pearson r (mean over splits): <b class="n" id="overall_pearson">'
                     f'{fmt(pearson["correlation"], ".4f")}</b>, P <span class="n">{fmt(pearson["p_value"], P_VALUE)}'
                     f'</span>, mean absolute difference <span class="n">{fmt(pearson["mean_abs_difference"], ".4f")}'
                     "</span></li>")
    return f'<ul class="overall">{"".join(items)}</ul>'


def matrix_table(table_id: str, caption: str, classes: list[str], cells: list[list[Any]], spec: str,
                 halves: list[list[Any]] | None = None) -> str:
    """A class matrix, rows actual and columns predicted class; the diagonal shaded."""
    rows = []
    for r, name in enumerate(classes):
        tds = []
        for c, value in enumerate(cells[r]):
            diagonal = " diag" if r == c else ""
            if halves is None:
                tds.append(num(value, spec, diagonal))
            else:
                tds.append(f'<td class="pm{diagonal}"><span class="num">{fmt(value, spec)}</span> ± '
                           f'<span class="num">{fmt(halves[r][c], spec)}</span></td>')
        rows.append(f"<tr><th>{esc(name)}</th>{''.join(tds)}</tr>")
    return table(table_id, caption, ["", *classes], rows)


def confusion_table(data: dict[str, Any]) -> str:
    classes = data["classes"]
    rows = []
    for r, name in enumerate(classes):
        cells = "".join(num(v, "d", " diag" if r == c else "") for c, v in enumerate(data["confusion_matrix"][r]))
        per = data["per_class"][r]
        centre, half = per["interval"]
        rows.append(f"<tr><th>{esc(name)}</th>{cells}{num(per['tested'], 'd')}{num(per['accuracy'], ACCURACY)}"
                    f"{num(centre, ACCURACY)}{num(half, ACCURACY)}<td class=t>{per['interval_method']}</td></tr>")
    head = ["", *classes, "Total tested", "Per-class accuracy", "95% centre", "±", "Interval"]
    return table("master_confusion_matrix", "Confusion matrix (sum of all splits)", head, rows)


def stats_table(table_id: str, caption: str, rows: list[dict[str, Any]]) -> str:
    body = [f"<tr>{num(rank, 'd')}<td class=t>{esc(row['name'])}</td>" + "".join(
        num(row[key], SCORE) for key in ("min", "max", "mean", "std")) + "</tr>" for rank, row in enumerate(rows, 1)]
    return table(table_id, caption, ["Rank", "Name", "Min", "Max", "Mean", "Std. dev."], body, wide=True)


def weights_table(table_id: str, rows: list[dict[str, Any]]) -> str:
    body = [f"<tr>{num(rank, 'd')}<td class=t>{esc(row['name'])}</td>{num(row['weight'], SCORE)}</tr>"
            for rank, row in enumerate(rows, 1)]
    return table(table_id, "Selected features by weight", ["Rank", "Name", "Weight"], body, wide=True)


def image_rows(images: list[dict[str, Any]], classes: list[str], thumbs: dict[str, int], numeric: bool) -> list[str]:
    """One row per test image: its number, normalisation factor, p(class)..., actual, predicted, value."""
    rows = []
    for number, image in enumerate(images, start=1):
        wrong = image["correct"] is False
        probabilities = [image["probabilities"].get(c) for c in classes]
        best = max(range(len(classes)), key=lambda c: probabilities[c] or -1.0) if classes else -1
        cells = "".join(num(p, PROBABILITY, " best" if c == best else "") for c, p in enumerate(probabilities))
        actual = image["actual"] or ((image["given"] or "") + "*")
        verdict = {True: "correct", False: "WRONG", None: "unknown class"}[image["correct"]]
        thumb = f'<i class="th t{thumbs[image["path"]]}"></i>' if image["path"] in thumbs else "<i class='th'></i>"
        value = num(image["value"], VALUE) if numeric else ""
        rows.append(f'<tr{" class=wrong" if wrong else ""}>{num(number, "d")}<td class=t>{thumb}</td>'
                    f"<td class=t>{esc(image['path'])}</td>{num(image['norm_factor'], NORM_FACTOR)}{cells}"
                    f"<td class=t>{esc(actual)}</td><td class='t flag'>{esc(image['predicted'] or '')}</td>"
                    f"<td class='t flag'>{verdict}</td>{value}</tr>")
    return rows


def images_table(table_id: str, images: list[dict[str, Any]], classes: list[str], thumbs: dict[str, int],
                 numeric: bool, caption: str = "Individual image predictions") -> str:
    head = ["No.", "Image", "Path", "Norm. factor", *(f"p({c})" for c in classes), "Actual", "Predicted",
            "Correct", *(["Interpolated value"] if numeric else [])]
    return table(table_id, caption, head, image_rows(images, classes, thumbs, numeric), wide=True)
