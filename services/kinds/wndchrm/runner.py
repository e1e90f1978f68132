"""Running each wndchrm command with the built-in CharmFeatures engine."""

from __future__ import annotations

import logging
import shlex

import numpy as np

from depqueue.errors import BadJob, RetryLater
from services.kinds import JobContext
from services.kinds.wndchrm import cache, experiment, reports, wnd
from services.kinds.wndchrm.commands import Job, classify_output, missing_images, report_paths
from services.kinds.wndchrm.dataset import load_dataset, relative
from services.kinds.wndchrm.features import image_features
from services.kinds.wndchrm.fitfile import FitFile, write_fit
from services.kinds.wndchrm.outputs import default_output, output_path, write_atomic
from services.kinds.wndchrm.training_data import BUSY_RETRY_DELAY, feature_names, features_of, labelled

log = logging.getLogger(__name__)


def run(job: Job, ctx: JobContext, argv: list[str]) -> None:
    name = job.command.name
    if name == "features":
        run_features(job, ctx)
    elif name == "train":
        run_train(job, ctx)
    elif name == "test":
        run_test(job, ctx, argv)
    elif name == "classify":
        run_classify(job, ctx)
    else:
        run_check(job, ctx)


def run_features(job: Job, ctx: JobContext) -> None:
    """The dependency job: compute, cache and verify one image's features (idempotent)."""
    image = ctx.confine(job.dataset, must_exist=True)
    try:
        image_features(ctx.data_root, image, job.options)
    except cache.CacheBusy as exc:
        raise RetryLater(str(exc), BUSY_RETRY_DELAY) from None


def run_train(job: Job, ctx: JobContext) -> None:
    data = labelled(ctx, job.dataset, job.options)
    if len(data.classes) < 2:
        raise BadJob(f"training needs at least two classes; dataset {job.dataset!r} has {data.classes}")
    # As in wndchrm, -r and -i limit the images per class a model is trained on; by default all are.
    rng = np.random.default_rng(experiment.SPLIT_SEED)
    chosen = np.sort(experiment.cap_per_class(data, job.options.train_fraction, job.options.max_train, rng))
    rows = np.concatenate([data.features[i] for i in chosen])
    labels = np.repeat(data.labels[chosen], [len(data.features[i]) for i in chosen])
    paths = [data.paths[i] for i in chosen for _ in range(len(data.features[i]))]
    out = output_path(ctx, str(job.output))
    write_fit(out, FitFile(data.classes, feature_names(job.options), rows, labels, paths))
    log.info("trained %s: %d classes, %d images -> %s", job.dataset, len(data.classes), len(chosen), out)


def run_test(job: Job, ctx: JobContext, argv: list[str]) -> None:
    data = labelled(ctx, job.dataset, job.options)
    test_set = labelled(ctx, job.testset, job.options, data.classes) if job.testset else None
    result = experiment.run_test(data, test_set, job.options)
    classifier = "WNN" if job.options.wnn else "WND-5"
    title = job.dataset + (f" tested on {job.testset}" if job.testset else "")
    text_path, json_path, html_path = report_paths(ctx, job)
    meta = {
        "version": 1,
        "command": shlex.join(argv),
        "dataset": job.dataset,
        "testset": job.testset,
        "classifier": classifier,
        "split_seed": experiment.SPLIT_SEED,
        "feature_fraction": job.options.feature_fraction,
        "long_features": job.options.long,
    }
    write_atomic(json_path, reports.json_report(result, meta))
    write_atomic(html_path, reports.html_report(result, title, classifier))
    write_atomic(text_path, reports.text_report(result, title, classifier))
    log.info("test %s: average accuracy %.4f over %d split(s) -> %s",
             title, result.mean_accuracy, len(result.splits), text_path)


def run_classify(job: Job, ctx: JobContext) -> None:
    data = labelled(ctx, job.dataset, job.options)
    model = experiment.model_for(data, np.arange(len(data.paths)), job.options)
    images = [s.path for source in job.images for s in load_dataset(ctx, source).samples]
    prediction = wnd.classify(model, features_of(ctx, images, job.options), wnn=job.options.wnn)
    header = ["image", "predicted class", "norm. fact.", *(f"p({c})" for c in data.classes)]
    lines = ["\t".join(header)]
    for k, image in enumerate(images):
        probs = [f"{p:.4f}" for p in prediction.probabilities[k]]
        norm = f"{prediction.norm_factor[k]:.4g}"
        lines.append("\t".join([relative(ctx, image), data.classes[prediction.predicted[k]], norm, *probs]))
    out = classify_output(ctx, job)
    write_atomic(out, "\n".join(lines) + "\n")
    log.info("classified %d image(s) with %s -> %s", len(images), job.dataset, out)


def check_list(job: Job, ctx: JobContext) -> list[str]:
    """Data-root-relative paths of the images still needing features: what ``wndchrm check`` prints."""
    return [relative(ctx, p) for p in missing_images(job, ctx)]


def run_check(job: Job, ctx: JobContext) -> None:
    """As a queue job the list goes to a file (the worker's stdout is only its log)."""
    found = check_list(job, ctx)
    out = output_path(ctx, job.output) if job.output else default_output(ctx, job.dataset, "-check.txt")
    write_atomic(out, "".join(f"{p}\n" for p in found))
    log.info("check %s: %d image(s) need features -> %s", job.dataset, len(found), out)
