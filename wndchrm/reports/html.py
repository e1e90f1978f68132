"""The HTML report of ``test`` and ``classify``: every section of wndchrm 1.60's report, with pictures.

One self-contained file: pictures and thumbnails are PNG ``data:`` URIs (each thumbnail once, in the
style sheet, however many splits test its image); per-split details fold away so a page of 1,000
images opens at once; tables scroll sideways on a phone; printing unfolds every section.
"""

from __future__ import annotations

from typing import Any

from wndchrm.reports import charts
from wndchrm.reports import tables as t
from wndchrm.reports.tables import esc

STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:0 12px;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.6em}
.scroll{overflow-x:auto;max-width:100%;margin:.6em 0}.wide table{font-size:.85em}
table{border-collapse:collapse}caption{text-align:left;font-weight:bold;padding:4px 0}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right;white-space:nowrap}
th{background:#f3f3f3}td.t{text-align:left}.diag{background:#dde6f3}.best{font-weight:bold}
tr.wrong td{background:#fde2e2}tr.wrong td.flag{color:#a00;font-weight:bold}
img{max-width:100%;height:auto}.charts{display:flex;flex-wrap:wrap;gap:12px}
.th{display:inline-block;width:40px;height:40px;background-size:contain;background-repeat:no-repeat}
pre{white-space:pre-wrap;word-break:break-all;background:#f7f7f7;padding:6px}
details{margin:.5em 0}summary{cursor:pointer;font-weight:bold}.warn{color:#a00}
@media print{details>summary{display:none}.scroll{overflow:visible}body{max-width:none}
table{font-size:7pt}td,th{padding:1px 3px}.charts img{max-width:32%}img,tr{break-inside:avoid}}
"""

#: Unfolds every section before printing, so a printed report is complete.
SCRIPT = ("window.addEventListener('beforeprint',function(){"
          "document.querySelectorAll('details').forEach(function(d){d.open=true;});});")


def _img(uri: str | None, alt: str) -> str:
    return f'<img alt="{esc(alt)}" src="{uri}">' if uri else ""


def _thumb_css(thumbs: dict[str, str]) -> tuple[str, dict[str, int]]:
    numbers = {path: k for k, path in enumerate(sorted(thumbs))}
    rules = "".join(f".t{numbers[path]}{{background-image:url({uri})}}" for path, uri in thumbs.items())
    return rules, numbers


def _summary(data: dict[str, Any]) -> str:
    numeric = data.get("class_values") is not None
    parts = [t.dataset_table("trainset_summary", f"Dataset {data['dataset']}", data["dataset_summary"], numeric)]
    if data.get("testset_summary"):
        parts.append(t.dataset_table("testset_summary", f"Test set {data['testset']}", data["testset_summary"],
                                     numeric))
    parts.append(f"<p>Command line:</p><pre>{esc(data['command'])}</pre>")
    parts += [f'<p class="warn">{esc(w)}</p>' for w in data.get("warnings", [])]
    return "<h2>Dataset</h2>" + "".join(parts) + t.split_params(data)


def _matrices(data: dict[str, Any]) -> str:
    classes = data["classes"]
    pictures = [
        charts.heat_map(data["confusion_matrix"], classes, "Confusion (sum of all splits)", ".0f"),
        charts.heat_map(data["similarity_matrix"], classes, "Average similarity", ".2f"),
        charts.heat_map(data["class_probability_matrix"], classes, "Average class probability", ".2f"),
    ]
    tables = [
        t.confusion_table(data),
        t.matrix_table("average_similarity_matrix", "Average similarity matrix", classes,
                       data["similarity_matrix"], t.MATRIX),
        t.matrix_table("average_class_probability_matrix", "Average class probability matrix", classes,
                       data["class_probability_matrix"], t.MATRIX),
        t.matrix_table("class_probability_intervals", "Class probability of every tested image, with 95% intervals",
                       classes, data["class_probability_observed"], ".4f", data["class_probability_interval"]),
    ]
    charts_html = "".join(_img(uri, "matrix heat map") for uri in pictures)
    if not any(any(row) for row in data["confusion_matrix"]):
        # Every cell would be 0 or 0/0: say why rather than draw empty pictures.
        charts_html = ('<p class="warn">No test image has a class of the training set, so nothing was scored: '
                       "the matrices are empty. Each image's prediction is under Splits.</p>")
    dendrogram = charts.dendrogram(data["class_distances"], classes, data.get("distance_method", 5))
    tree = f"<h3>Class dendrogram</h3>{_img(dendrogram, 'class dendrogram')}" if dendrogram else ""
    tiles = data.get("tile_area_accuracy")
    if tiles:
        rows = ["<tr>" + "".join(t.num(v, ".3f") for v in row) + "</tr>" for row in tiles]
        tables.append(t.table("tile_area_accuracy", "Accuracy of each tile position (-t#)", [], rows))
    return f'<h2>Matrices</h2><div class="charts">{charts_html}</div>{"".join(tables)}{tree}'


def _scatter(data: dict[str, Any]) -> str:
    """Interpolated against actual values, where wndchrm reports a Pearson correlation for them."""
    pearson = data["overall"]["pearson"]
    if pearson is None:
        return ""
    values = data["class_values"] or []
    pairs = [(i["actual_value"] if i["actual_value"] is not None else values[data["classes"].index(i["actual"])],
              i["value"]) for s in data["splits"] for i in s["test"]
             if i["value"] is not None and (i["actual_value"] is not None or (i["actual"] and values))]
    if not pairs:
        return ""
    uri = charts.value_scatter([a for a, _ in pairs], [v for _, v in pairs], pearson["correlation"])
    return f"<h3>Interpolated against actual value</h3>{_img(uri, 'interpolated against actual value')}"


def _features(data: dict[str, Any]) -> str:
    parts = []
    if data["top_features"]:
        parts.append(t.stats_table("aggregated_feature_stats", "Top 50 features across splits (weights)",
                                   data["top_features"]))
    families = data["splits"][0].get("feature_families", [])
    bars = charts.family_bars(families)
    if bars:
        parts.append(f"<h3>Feature families (split 1, mean score)</h3>{_img(bars, 'feature family scores')}")
    return "<h2>Features</h2>" + "".join(parts) if parts else ""


def _split(index: int, split: dict[str, Any], data: dict[str, Any], numbers: dict[str, int]) -> str:
    classes = data["classes"]
    numeric = any(i["value"] is not None for i in split["test"])
    wrong = [i for i in split["test"] if i["correct"] is False]
    parts = [] if data["continuous"] else [
        t.matrix_table(f"confusion_matrix-split{index}", "Confusion matrix", classes, split["confusion_matrix"], "d"),
        t.matrix_table(f"similarity_matrix-split{index}", "Similarity matrix", classes, split["similarity_matrix"],
                       t.MATRIX),
        t.matrix_table(f"class_probability_matrix-split{index}", "Class probability matrix", classes,
                       split["class_probability_matrix"], t.MATRIX),
    ]
    if "selected_features" in split:
        parts.append(f"<p>{len(split['selected_features'])} features selected (of {split['features_computed']}"
                     " computed).</p>")
        parts.append(t.weights_table(f"FeaturesUsed_split{index}", split["selected_features"]))
        parts.append(t.stats_table(f"FeaturesGroups_split{index}", "Scores of each feature family, by mean",
                                   split["feature_families"]))
    if "image_distances" in split:
        labels = [i["actual"] or "" for i in split["test"]]
        parts.append(_img(charts.image_map(split["image_distances"], labels), "test image similarity map"))
    parts.append(f"<p>{len(split['train'])} training images: <small>{esc(', '.join(split['train']))}</small></p>")
    tested = t.images_table(f"IndividualImages_split{index}", split["test"], classes, numbers, numeric)
    misses = (t.images_table(f"Misclassified_split{index}", wrong, classes, numbers, numeric, "Misclassified") if wrong
              else "<p>No test image was misclassified.</p>")
    accuracy = t.fmt(split["accuracy"], t.ACCURACY)
    if data["continuous"]:
        misses, accuracy = "", "n/a (values, not classes)"
    return (f'<h3 id="split{index}">Split {index}: accuracy {accuracy}, {len(wrong)} misclassified</h3>'
            f"{misses}<details><summary>Matrices, features and every image of split "
            f"{index}</summary>{''.join(parts)}{tested}</details>")


def html_report(data: dict[str, Any], title: str, thumbnails: dict[str, str]) -> str:
    """The page for the report's JSON structure ``data``; ``thumbnails`` maps image paths to PNG data URIs."""
    rules, numbers = _thumb_css(thumbnails)
    splits = "".join(_split(k, s, data, numbers) for k, s in enumerate(data["splits"], start=1))
    body = (f"<h1>WND-CHARM {esc(data['command_name'])}: {esc(title)}</h1><p>{esc(data['program'])}, "
            f"{esc(data['classifier'])}; generated {esc(data['generated'])}.</p>"
            f"{_summary(data)}<h2>Results</h2>{t.overall_list(data)}{t.results_table(data)}{t.groups_table(data)}{_scatter(data)}"
            f"{'' if data['continuous'] else _matrices(data)}{_features(data)}<h2>Splits</h2>{splits}")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,"><title>{esc(title)}</title>'
            f"<style>{STYLE}{rules}</style></head><body>{body}<script>{SCRIPT}</script></body></html>\n")
