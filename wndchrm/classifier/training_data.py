"""The features a command works on: per image (cache, ``.sig`` or computed) and per labelled dataset or ``.fit``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

import numpy as np
from numpy.typing import NDArray

from depqueue import BadJob, RetryLater
from wndchrm.classifier.experiment import Labelled
from wndchrm.dataroot import JobContext
from wndchrm.features import cache
from wndchrm.features.extract import image_features
from wndchrm.features.featureset import feature_set
from wndchrm.features.sampling import samples_per_image
from wndchrm.formats.dataset import load_dataset, relative
from wndchrm.formats.files import is_model
from wndchrm.formats.fitfile import UNKNOWN, FitFile, read_fit, write_fit
from wndchrm.formats.names import columns_in, is_42, is_dropped, v42_to_v5
from wndchrm.formats.outputs import output_path
from wndchrm.options import Options

#: Seconds before a job whose image another worker is computing comes back.
BUSY_RETRY_DELAY = 10

FloatArray = NDArray[np.float64]


def features_of(ctx: JobContext, images: list[Path], opts: Options) -> list[FloatArray]:
    """Tiles x features of each image in wndchrm's vector for ``opts`` (short unless ``-l``, colour with ``-c``).

    Images still without trusted features are computed here, as a fallback; one that another worker is
    computing right now hands the whole job back for later.
    """
    # -o (and -m with it) applies to the dependencies, not to every reread. The .sig files -o asked to
    # replace are skipped: the cache the dependencies recomputed is read instead.
    reading = replace(opts, overwrite=False, save_sigs=opts.save_sigs and not opts.overwrite)
    use_sigs = not opts.overwrite
    found = []
    for image in images:
        try:
            matrix = image_features(ctx.data_root, image, reading, use_sigs=use_sigs)
        except cache.CacheBusy as exc:
            raise RetryLater(str(exc), BUSY_RETRY_DELAY) from None
        found.append(matrix)
    return found


def feature_names(opts: Options) -> list[str]:
    """wndchrm's names of the vector of ``opts`` (1,059; 2,919 with ``-l``; 2,199 with ``-c``; 4,059 both)."""
    return list(feature_set(opts).names)


@dataclass(frozen=True)
class Vector:
    """The feature vector a job works in: wndchrm's vector for its options (:mod:`wndchrm.features.featureset`),
    every value computed as wndchrm 1.60 computes it."""

    names: list[str]


def job_vector(sources: list[str], opts: Options) -> Vector:
    """The :class:`Vector` of a job reading ``sources`` (its dataset, test sets, images)."""
    return Vector(feature_names(opts))


def labelled(ctx: JobContext, source: str, opts: Options, classes: list[str] | None = None,
             vector: Vector | None = None) -> Labelled:
    """A labelled dataset (or ``.fit`` model) with features in the job's 4.2 ``vector``; ``classes`` fixes
    the class order."""
    if is_model(source):
        model = fit_samples(ctx, source, opts, vector)
        if not (model.labels >= 0).any():
            raise BadJob(f"model {source!r} has no samples of a known class")
        return model
    dataset = load_dataset(ctx, source)
    if not dataset.labelled:
        unlabelled = next(s for s in dataset.samples if s.label is None)
        raise BadJob(
            f"dataset {source!r} has unlabelled images ({unlabelled.path.name!r}); classes are needed"
        )
    names = classes or dataset.classes
    unknown = sorted(set(dataset.classes) - set(names))
    if unknown:
        raise BadJob(f"dataset {source!r} has classes {unknown} that the training set does not have")
    paths = [s.path for s in dataset.samples]
    labels = np.array([names.index(str(s.label)) for s in dataset.samples], dtype=np.intp)
    features = features_of(ctx, paths, opts)
    return Labelled([relative(ctx, p) for p in paths], features, labels, names)


def fit_samples(ctx: JobContext, source: str, opts: Options, vector: Vector | None = None) -> Labelled:
    """Every image of a ``.fit`` in the job's 4.2 ``vector``; class-0 (unknown) images labelled -1.

    ``given`` holds each image's class label ("" for unknown). A file in v5 names (written here before
    files were written in wndchrm's vector) gets 0 for the 24 values v5 lacks, which then weigh 0 (no
    spread). A file of the other feature set (long for a short job or the reverse) is refused, as wndchrm
    refuses it.
    """
    vector = vector or job_vector([source], opts)
    fit = read_fit(ctx.confine(source, must_exist=True), source)
    if is_42(fit.feature_names):
        if fit.feature_names != vector.names:
            _other_set(source, opts, len(fit.feature_names), len(vector.names))
        features = fit.features
    else:
        features = _from_v5(fit, vector, source, opts)
    rows = _rows_per_image(fit, source)
    samples = samples_per_image(opts)
    if any(len(r) != samples for r in rows):
        raise BadJob(f"model {source!r} has {len(rows[0])} sample(s) per image, not the {samples} of "
                     f"{opts.tile_cols}x{opts.tile_rows} tile(s){' and 4 rotations (-R)' if opts.rotations else ''}")
    labels = np.array([fit.labels[r[0]] for r in rows], dtype=np.intp)
    matrices = [features[np.array(r, dtype=np.intp)] for r in rows]
    given = tuple(fit.classes[c] if c >= 0 else "" for c in labels.tolist())
    return Labelled([fit.paths[r[0]] for r in rows], matrices, labels, fit.classes, given=given)


def _from_v5(fit: FitFile, vector: Vector, source: str, opts: Options) -> FloatArray:
    """An old v5-named ``.fit``'s values in the job's vector, 0 for the maximal correlation values it lacks."""
    kept = [i for i, name in enumerate(vector.names) if not is_dropped(name)]
    v5 = [str(v42_to_v5(vector.names[i])) for i in kept]
    columns = columns_in(fit.feature_names, v5)
    if columns is None or len(fit.feature_names) != len(v5):
        _other_set(source, opts, len(fit.feature_names), len(vector.names))
    features = np.zeros((len(fit.paths), len(vector.names)))
    features[:, kept] = fit.features[:, columns]
    return features


def _other_set(source: str, opts: Options, found: int, expected: int) -> NoReturn:
    which = "long (-l)" if opts.long else "short"
    raise BadJob(f"model {source!r} does not hold the {which} feature set ({found} features, not {expected})")


def _rows_per_image(fit: FitFile, source: str) -> list[list[int]]:
    """Sample rows grouped by image: consecutive rows with one path and one class."""
    rows: list[list[int]] = []
    previous: tuple[str, int] | None = None
    for index, key in enumerate(zip(fit.paths, fit.labels.tolist(), strict=True)):
        if key != previous:
            rows.append([])
            previous = key
        rows[-1].append(index)
    if not rows:
        raise BadJob(f"model {source!r} has no samples")
    return rows


def loaded_fit(ctx: JobContext, sources: list[str], opts: Options) -> FitFile:
    """The training set the C++ program holds after loading ``sources``: what its ``-D``/``-T`` save.

    Every image and tile, in dataset order; classes sorted; an unlabelled image is class 0 (unknown).
    A ``.fit`` source is its file's content.
    """
    if len(sources) == 1 and is_model(sources[0]):
        return read_fit(ctx.confine(sources[0], must_exist=True), sources[0])
    samples = [s for source in sources for s in load_dataset(ctx, source).samples]
    classes = sorted({s.label for s in samples if s.label is not None})
    matrices = features_of(ctx, [s.path for s in samples], opts)
    labels = [UNKNOWN if s.label is None else classes.index(s.label) for s in samples]
    counts = [len(m) for m in matrices]
    return FitFile(
        classes,
        feature_names(opts),
        np.concatenate(matrices) if matrices else np.empty((0, len(feature_names(opts)))),
        np.repeat(np.array(labels, dtype=np.intp), counts),
        [relative(ctx, s.path) for s, n in zip(samples, counts, strict=True) for _ in range(n)],
    )


def save_loaded_fits(ctx: JobContext, opts: Options, dataset: str, testset: list[str]) -> None:
    """``-Dpath``: save the dataset as loaded; ``-Tpath``: save the test set (if there is one), as wndchrm does."""
    if opts.dataset_fit is not None:
        write_fit(output_path(ctx, opts.dataset_fit), loaded_fit(ctx, [dataset], opts))
    if opts.testset_fit is not None and testset:
        write_fit(output_path(ctx, opts.testset_fit), loaded_fit(ctx, testset, opts))
