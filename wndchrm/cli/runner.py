"""Running each wndchrm command with the built-in CharmFeatures engine."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from depqueue import BadJob, RetryLater
from wndchrm import reports
from wndchrm.classifier import evaluation, interpolate, weights
from wndchrm.classifier.experiment import FloatArray, Labelled
from wndchrm.classifier.training_data import (
    BUSY_RETRY_DELAY,
    Vector,
    features_of,
    fit_samples,
    job_vector,
    labelled,
    save_loaded_fits,
)
from wndchrm.cli import notices, report_files
from wndchrm.cli.commands import Job, classify_output, missing_images, needed_images, report_paths
from wndchrm.dataroot import JobContext
from wndchrm.features import cache
from wndchrm.features.extract import image_features
from wndchrm.formats.dataset import load_dataset, relative
from wndchrm.formats.files import is_model
from wndchrm.formats.fitfile import FitFile, write_fit
from wndchrm.formats.outputs import default_output, output_path, write_atomic
from wndchrm.options import Options

log = logging.getLogger(__name__)


#: Receives what wndchrm prints for a ``test`` or ``classify`` run (a terminal shows it; a worker has none).
Show = Callable[[str], None]


def run(job: Job, ctx: JobContext, argv: list[str], show: Show | None = None) -> dict[str, Any] | None:
    """Run the command; ``train``, ``test`` and ``classify`` return the files they wrote (data-root-relative;
    ``replaced``: those that were there before) and where their report is, for the outcome record, and
    ``test`` and ``classify`` hand their printout to ``show`` too, as the C++ program prints it."""
    name = job.command.name
    if name == "features":
        run_features(job, ctx)
        return None
    if name == "check":
        run_check(job, ctx)
        return None
    existed = [path for path in expected_outputs(job, ctx) if path.exists()]
    if name == "test":
        written = run_test(job, ctx, argv, show)
    elif name == "classify":
        written = run_classify(job, ctx, argv, show)
    else:
        written = run_train(job, ctx)
    return {**written, "replaced": [relative(ctx, path) for path in existed]} if existed else written


def run_features(job: Job, ctx: JobContext) -> None:
    """The dependency job: compute, cache and verify one image's features (idempotent)."""
    image = ctx.confine(job.dataset, must_exist=True)
    try:
        image_features(ctx.data_root, image, job.options)
    except cache.CacheBusy as exc:
        raise RetryLater(str(exc), BUSY_RETRY_DELAY) from None


def run_train(job: Job, ctx: JobContext) -> dict[str, Any]:
    """As wndchrm's ``train``: every image of the dataset, in dataset order (-r, -i, -j only matter to tests)."""
    vector = job_vector([job.dataset], job.options)
    data = labelled(ctx, job.dataset, job.options, vector=vector)
    if len(data.classes) < 2:
        raise BadJob(f"training needs at least two classes; dataset {job.dataset!r} has {data.classes}")
    rows = np.concatenate(data.features)
    labels = np.repeat(data.labels, [len(f) for f in data.features])
    paths = [path for path, f in zip(data.paths, data.features, strict=True) for _ in range(len(f))]
    out = output_path(ctx, str(job.output or job.options.dataset_fit))
    write_fit(out, FitFile(data.classes, vector.names, rows, labels, paths))
    log.info("trained %s: %d classes, %d images -> %s", job.dataset, len(data.classes), len(data.paths), out)
    return {"model": relative(ctx, out), "files": [relative(ctx, out)]}


def expected_outputs(job: Job, ctx: JobContext) -> list[Path]:
    """Every file the command may write, for telling a new file from one it replaces."""
    opts = job.options
    named = [opts.dataset_fit, opts.testset_fit, opts.weights_path if opts.weights_action == "w" else None]
    paths = [output_path(ctx, p) for p in named if p]
    name = job.command.name
    if name == "train" and job.output:
        paths.append(output_path(ctx, job.output))
    elif name == "test":
        paths += report_paths(ctx, job)
    elif name == "classify":
        tsv = classify_output(ctx, job)
        paths += [tsv, tsv.with_suffix(".txt") if tsv.suffix.lower() == ".tsv" else tsv.with_name(tsv.name + ".txt")]
        if job.report:
            paths += [output_path(ctx, job.report), output_path(ctx, job.report).with_suffix(".json")]
    return paths


def _weight_file(ctx: JobContext, opts: Options) -> evaluation.WeightFile | None:
    """The ``-vr``/``-v+``/``-v-`` file to read, confined to the data root."""
    if opts.weights_action in (None, "w") or opts.weights_path is None:
        return None
    return evaluation.WeightFile(opts.weights_action, ctx.confine(opts.weights_path, must_exist=True),
                                 opts.weights_path)


def _continuous_allowed(opts: Options, dataset: str, data: Labelled) -> Options:
    """wndchrm takes -C from a dataset (not a .fit) only if every class label is wholly a number."""
    if opts.continuous and not is_model(dataset) and not interpolate.labels_pure_numeric(data.classes):
        log.warning("-C needs class labels that are numbers; %s are not: classes are used", data.classes)
        return replace(opts, continuous=False)
    return opts


def _written(job: Job, ctx: JobContext, arg: str | Path) -> Path:
    """An output path (``-vw``, classify's text) that is none of the job's inputs; BadJob if it is one."""
    path = output_path(ctx, str(arg))
    read_weights = job.options.weights_path if job.options.weights_action != "w" else None
    sources = [s for s in (job.dataset, job.testset, *job.images, read_weights) if s]
    if path in {ctx.confine(s) for s in sources} | set(needed_images(job, ctx)):
        raise BadJob(f"output {relative(ctx, path)!r} is also an input of this job; it would be overwritten")
    return path


def _run(job: Job, ctx: JobContext, data: Labelled, test_set: Labelled | None, opts: Options,
         classify: bool, vector: Vector) -> list[evaluation.TestResult]:
    """The run (or, with -A, one per feature group left out); writes -vw's weight file."""
    weight_out = _written(job, ctx, opts.weights_path) if opts.weights_action == "w" and opts.weights_path else None
    weight_file = _weight_file(ctx, opts)
    if opts.assess:
        results = evaluation.run_assessment(data, test_set, opts, vector.names, classify, weight_file)
    else:
        results = [evaluation.run_test(data, test_set, opts, classify, weight_file)]
    if weight_out is not None and results[0].weights is not None:
        write_atomic(weight_out, weights.weight_file_text(results[0].weights, vector.names))
    return results


def _notices(job: Job, ctx: JobContext, data: Labelled, test_set: Labelled | None) -> list[str]:
    found = notices.test_set_notices(ctx, job.dataset, data, test_set) if test_set is not None else []
    for notice in found:
        log.warning("%s", notice)
    return found


def run_test(job: Job, ctx: JobContext, argv: list[str], show: Show | None = None) -> dict[str, Any]:
    tests = [job.testset] if job.testset else []
    vector = job_vector([job.dataset, *tests], job.options)
    data = labelled(ctx, job.dataset, job.options, vector=vector)
    save_loaded_fits(ctx, job.options, job.dataset, tests)
    test_set = _test_set(ctx, tests, data, job.options, vector) if tests else None
    results = _run(job, ctx, data, test_set, _continuous_allowed(job.options, job.dataset, data), classify=False,
                   vector=vector)
    result = results[0]
    text_path, json_path, html_path = report_paths(ctx, job)
    written = report_files.write_reports(ctx, job, argv, (data, test_set), results, vector.names,
                                         report_files.ReportPaths(html_path, json_path, text_path),
                                         _notices(job, ctx, data, test_set))
    if show is not None:
        show(reports.text_report(results, job.options.verbosity))
    title = job.dataset + (f" tested on {job.testset}" if job.testset else "")
    log.info("test %s: average accuracy %.4f over %d split(s) -> %s",
             title, result.mean_accuracy, len(result.splits), text_path)
    return {**written, **_accuracy(result)}


def _accuracy(result: evaluation.TestResult) -> dict[str, Any]:
    """The mean accuracy and split count, for the outcome record; none when no image's class is known."""
    accuracy = result.mean_accuracy
    return {} if np.isnan(accuracy) else {"accuracy": round(accuracy, 6), "splits": len(result.splits)}


def _test_set(ctx: JobContext, sources: list[str], data: Labelled, opts: Options, vector: Vector) -> Labelled:
    """Images to classify, labelled by the training classes where their label is one (-1 otherwise)."""
    paths: list[str] = []
    features: list[FloatArray] = []
    given: list[str] = []
    for source in sources:
        if is_model(source):
            fit = fit_samples(ctx, source, opts, vector)  # its unknown (class 0) images too
            paths += fit.paths
            features += fit.features
            given += fit.given
            continue
        samples = load_dataset(ctx, source).samples
        paths += [relative(ctx, s.path) for s in samples]
        features += features_of(ctx, [s.path for s in samples], opts)
        given += [s.label or "" for s in samples]
    labels = np.array([data.classes.index(g) if g in data.classes else -1 for g in given], dtype=np.intp)
    return Labelled(paths, features, labels, data.classes, given=tuple(given))


def run_classify(job: Job, ctx: JobContext, argv: list[str], show: Show | None = None) -> dict[str, Any]:
    """The TSV of predictions, and beside it (``.txt``) what wndchrm prints for the same classification;
    with REPORT.html, all of them are REPORT.* (see :func:`commands.classify_output`)."""
    vector = job_vector([job.dataset, *job.images], job.options)
    data = labelled(ctx, job.dataset, job.options, vector=vector)
    save_loaded_fits(ctx, job.options, job.dataset, list(job.images))
    test_set = _test_set(ctx, list(job.images), data, job.options, vector)
    out = classify_output(ctx, job)
    text_out = _written(job, ctx, printout_path(out))
    results = _run(job, ctx, data, test_set, _continuous_allowed(job.options, job.dataset, data), classify=True,
                   vector=vector)
    found = _notices(job, ctx, data, test_set)
    text = reports.text_report(results, job.options.verbosity)
    write_atomic(out, reports.classify_tsv(results[0]))
    write_atomic(text_out, text)
    written = {"report": relative(ctx, out), "files": [relative(ctx, out), relative(ctx, text_out)]}
    if job.report is not None:
        html_path = _written(job, ctx, job.report)
        paths = report_files.ReportPaths(html_path, _written(job, ctx, html_path.with_suffix(".json")))
        html = report_files.write_reports(ctx, job, argv, (data, test_set), results, vector.names, paths, found)
        written = {"report": html["report"], "files": written["files"] + html["files"]}
    if show is not None:
        show(text)
    log.info("classified %d image(s) with %s -> %s", len(test_set.paths), job.dataset, out)
    return {**written, **_accuracy(results[0])}


def printout_path(tsv: Path) -> Path:
    """Where classify's wndchrm-format text goes: the TSV's name with ``.txt`` for ``.tsv`` (or added)."""
    return tsv.with_suffix(".txt") if tsv.suffix.lower() == ".tsv" else tsv.with_name(tsv.name + ".txt")


def check_list(job: Job, ctx: JobContext) -> list[str]:
    """Data-root-relative paths of the images still needing features: what ``wndchrm check`` prints."""
    return [relative(ctx, p) for p in missing_images(job, ctx)]


def run_check(job: Job, ctx: JobContext) -> None:
    """As a queue job the list goes to a file (the worker's stdout is only its log)."""
    found = check_list(job, ctx)
    out = output_path(ctx, job.output) if job.output else default_output(ctx, job.dataset, "-check.txt")
    write_atomic(out, "".join(f"{p}\n" for p in found))
    log.info("check %s: %d image(s) need features -> %s", job.dataset, len(found), out)
