"""Writing a run's report files: text, JSON and HTML together, and ``-p+``'s tsv folder beside them."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wndchrm import reports
from wndchrm.classifier import experiment
from wndchrm.classifier.evaluation import TestResult
from wndchrm.classifier.experiment import Labelled
from wndchrm.cli.commands import Job
from wndchrm.dataroot import JobContext
from wndchrm.formats.dataset import relative
from wndchrm.formats.outputs import write_atomic
from wndchrm.reports.data import dataset_summary

#: What the report says made it.
PROGRAM = "wndchrm-queue built-in engine (CharmFeatures), wndchrm 1.60 methods"


@dataclass(frozen=True)
class ReportPaths:
    """Where each file goes; ``text`` None when another file (classify's) holds the printed output."""

    html: Path
    json: Path
    text: Path | None = None


def _meta(job: Job, argv: list[str], data: Labelled, test_set: Labelled | None,
          notices: list[str]) -> dict[str, Any]:
    opts = job.options
    meta: dict[str, Any] = {
        "command_name": job.command.name,
        "program": PROGRAM,
        "command": shlex.join(argv),
        "dataset": job.dataset,
        "testset": job.testset or (", ".join(job.images) if job.images else None),
        "classifier": "WNN" if opts.wnn else "WND-5",
        "split_seed": experiment.SPLIT_SEED,
        "feature_fraction": opts.feature_fraction,
        "long_features": opts.long,
        "distance_method": opts.distance_method,
        "tile_areas": [opts.tile_cols, opts.tile_rows] if opts.tile_areas else None,
        "dataset_summary": dataset_summary(data.classes, data.labels.tolist()),
    }
    if test_set is not None:
        meta["testset_summary"] = dataset_summary(data.classes, test_set.labels.tolist())
    warnings = list(notices)
    if opts.phylip_path is not None:
        warnings.append(f"-p{opts.phylip_path}: PHYLIP is not needed; the dendrogram is drawn with scipy")
    if warnings:
        meta["warnings"] = warnings
    return meta


def write_reports(ctx: JobContext, job: Job, argv: list[str], run: tuple[Labelled, Labelled | None],
                  results: list[TestResult], names: list[str], paths: ReportPaths,
                  notices: list[str] | None = None) -> dict[str, Any]:
    """Write the HTML and JSON (and text) of the run; ``-p+`` adds ``tsv/`` beside the HTML. ``notices``
    (:mod:`notices`) head the report.

    Returns what the queue's outcome record carries: the HTML report and every file written, relative
    to the data root.
    """
    data, test_set = run
    opts = job.options
    train_labels = dict(zip(data.paths, data.labels.tolist(), strict=True))
    body = reports.report_data(results, _meta(job, argv, data, test_set, notices or []), names, train_labels,
                               image_map=opts.image_similarities)
    tested = [image["path"] for split in body["splits"] for image in split["test"]]
    title = job.dataset + (f" tested on {body['testset']}" if body["testset"] else "")
    write_atomic(paths.json, reports.json_report(body))
    write_atomic(paths.html, reports.html_report(body, title, reports.thumbnails(tested, ctx.data_root.resolve())))
    if paths.text is not None:
        write_atomic(paths.text, reports.text_report(results, opts.verbosity))
    written = [paths.html, paths.json, *([paths.text] if paths.text is not None else [])]
    if opts.export_tsv:
        for name, text in reports.tsv_exports(body).items():
            written.append(paths.html.parent / reports.TSV_FOLDER / name)
            write_atomic(written[-1], text)
    return {"report": relative(ctx, paths.html), "files": [relative(ctx, p) for p in written]}
