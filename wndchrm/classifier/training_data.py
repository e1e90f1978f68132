"""The features a command works on: per image (cache, ``.sig`` or computed) and per labelled dataset or ``.fit``."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

import numpy as np
from numpy.typing import NDArray

from depqueue import BadJob, RetryLater
from wndchrm.classifier.experiment import Labelled
from wndchrm.dataroot import JobContext
from wndchrm.features import cache
from wndchrm.features.engine import get_engine
from wndchrm.features.extract import image_features
from wndchrm.features.sampling import samples_per_image
from wndchrm.formats.dataset import load_dataset, relative
from wndchrm.formats.files import is_model
from wndchrm.formats.fitfile import UNKNOWN, FitFile, read_fit, write_fit
from wndchrm.formats.names import columns_in, is_42, is_dropped, names_42, to_42
from wndchrm.formats.outputs import output_path
from wndchrm.options import Options

#: Seconds before a job whose image another worker is computing comes back.
BUSY_RETRY_DELAY = 10

FloatArray = NDArray[np.float64]


def features_of(ctx: JobContext, images: list[Path], opts: Options) -> list[FloatArray]:
    """Tiles x features of each image in the feature set of ``opts`` (short unless ``-l``).

    Images still without trusted features are computed here, as a fallback; one that another worker is
    computing right now hands the whole job back for later.
    """
    engine = get_engine()
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
        found.append(matrix if opts.long else matrix[:, engine.short_index])
    return found


def feature_names(opts: Options) -> list[str]:
    """The v5 names of the feature set of ``opts`` (long with ``-l``, else short)."""
    return list(_set_names(opts.long))


@functools.lru_cache(maxsize=2)
def _set_names(long: bool) -> tuple[str, ...]:
    engine = get_engine()
    names = tuple(engine.names)
    return names if long else tuple(names[i] for i in engine.short_index)


@functools.lru_cache(maxsize=2)
def _columns_42(long: bool) -> NDArray[np.intp]:
    """For each 4.2 feature, its column in the v5 set (-1 where v5 has none): ``to_42`` applied to the
    column numbers once, rather than its name mapping for each of thousands of images."""
    numbered = np.arange(1, len(_set_names(long)) + 1, dtype=np.float64)[None, :]
    return np.asarray(to_42(numbered, _set_names(long))[1][0], dtype=np.intp) - 1


@dataclass(frozen=True)
class Vector:
    """The feature vector a job works in: always wndchrm's 4.2 vector (2,919 long, 1,059 short).

    CharmFeatures computes 24 fewer values (v5 lacks Haralick [16] and [17] of each transform); in a job
    they are 0, as in every ``.fit`` this project writes, and wndchrm weighs a feature with no spread 0. So
    the Fisher weights, the selection count (``-f0.15`` keeps the 439th largest of 2,919) and the
    probabilities are the ones the C++ program computes on the same inputs. When every input is a ``.fit``
    (``keep_dropped``), a C++ file's real values for the 24 are kept: the job then computes exactly what
    wndchrm computes on those files. With images among the inputs they are 0 in every input alike, since
    images computed here have none.
    """

    names: list[str]
    keep_dropped: bool

    @property
    def dropped(self) -> NDArray[np.bool_]:
        return np.array([is_dropped(name) for name in self.names])


def job_vector(sources: list[str], opts: Options) -> Vector:
    """The :class:`Vector` of a job reading ``sources`` (its dataset, test sets, images)."""
    return Vector(names_42(feature_names(opts)), bool(sources) and all(is_model(s) for s in sources))


def in_vector(matrix: FloatArray, opts: Options) -> FloatArray:
    """A v5 matrix (CharmFeatures' features of ``opts``) in the 4.2 vector, 0 where v5 has no value."""
    columns = _columns_42(opts.long)
    return np.where(columns >= 0, matrix[..., columns], 0.0)


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
    features = [in_vector(m, opts) for m in features_of(ctx, paths, opts)]
    return Labelled([relative(ctx, p) for p in paths], features, labels, names)


def fit_samples(ctx: JobContext, source: str, opts: Options, vector: Vector | None = None) -> Labelled:
    """Every image of a ``.fit`` in the job's 4.2 ``vector``; class-0 (unknown) images labelled -1.

    ``given`` holds each image's class label ("" for unknown). A file in v5 names (written here before
    files were written in wndchrm's vector) gets 0 for the 24 values v5 lacks. A file of the other feature
    set (long for a short job or the reverse) is refused, as wndchrm refuses it.
    """
    vector = vector or job_vector([source], opts)
    fit = read_fit(ctx.confine(source, must_exist=True), source)
    v5 = feature_names(opts)
    if is_42(fit.feature_names):
        if fit.feature_names != vector.names:
            _other_set(source, opts, len(fit.feature_names), len(vector.names))
        features = fit.features if vector.keep_dropped else np.where(vector.dropped, 0.0, fit.features)
    else:
        columns = columns_in(fit.feature_names, v5)
        if columns is None or len(fit.feature_names) != len(v5):
            _other_set(source, opts, len(fit.feature_names), len(v5))
        features = in_vector(fit.features[:, columns], opts)
    rows = _rows_per_image(fit, source)
    samples = samples_per_image(opts)
    if any(len(r) != samples for r in rows):
        raise BadJob(f"model {source!r} has {len(rows[0])} sample(s) per image, not the {samples} of "
                     f"{opts.tile_cols}x{opts.tile_rows} tile(s){' and 4 rotations (-R)' if opts.rotations else ''}")
    labels = np.array([fit.labels[r[0]] for r in rows], dtype=np.intp)
    matrices = [features[np.array(r, dtype=np.intp)] for r in rows]
    given = tuple(fit.classes[c] if c >= 0 else "" for c in labels.tolist())
    return Labelled([fit.paths[r[0]] for r in rows], matrices, labels, fit.classes, given=given)


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
