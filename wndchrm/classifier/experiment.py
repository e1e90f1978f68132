"""Which images train and which are tested, as wndchrm 1.60 chooses them, and the runs built on that.

``test`` (wndchrm's check_split_params and TrainingSet::split): with B images in the smallest class,
every class trains on ``-iN`` images (at most B - 1 without a test set) or ``floor(r * B + 0.5)``
(``-r``, default 0.75), drawn at random; the test images are the rest of B (at most ``-jN``), also
random, so the accuracy is not skewed by unbalanced classes. ``-r#`` trains on ``floor(r * n_c + 0.5)``
of each class's own n_c images and tests on the rest of each class (or ``-j``). With a separate test set
every test-set image is tested and ``-j`` is ignored. ``-i#N`` drops classes with fewer than N images;
``-Nx`` keeps the first x classes. ``classify`` trains the same way with ``-r`` 1.0, but takes each
class's first images in dataset order, so it always trains on the same images; ``-n`` does not apply.
Random draws come from numpy with a fixed seed (a rerun reports the same figures); they cannot be
wndchrm's own ``rand()`` sequence.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from depqueue import BadJob
from wndchrm.classifier import interpolate
from wndchrm.options import CLASSIFY_TRAIN_FRACTION, DEFAULT_TRAIN_FRACTION, Options

log = logging.getLogger(__name__)

SPLIT_SEED = 20080611

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]


@dataclass(frozen=True)
class Labelled:
    """Images (data-root-relative paths), each a tiles x features matrix, with class indices (-1 unknown)."""

    paths: list[str]
    features: list[FloatArray]
    labels: IndexArray
    classes: list[str]
    #: With ``-C``: each image's continuous value (its label read as a number).
    values: FloatArray | None = None
    #: Each image's own label where it may not be one of ``classes`` (a test set's); "" if unlabelled.
    given: tuple[str, ...] = ()


@dataclass(frozen=True)
class SplitPlan:
    """check_split_params' answer: per-class training/test image counts, or a training ratio (> 0)."""

    n_train: int
    n_test: int
    ratio: float


def restrict(data: Labelled, keep: list[int], drop_unknown: bool) -> Labelled:
    """Only the classes ``keep`` (by index, in that order); their images are kept, others dropped or unknown."""
    mapping = np.full(len(data.classes) + 1, -1, dtype=np.intp)
    mapping[np.asarray(keep, dtype=np.intp)] = np.arange(len(keep))
    labels = mapping[data.labels]  # index -1 reads the last slot, which stays -1
    chosen = np.flatnonzero(labels >= 0) if drop_unknown else np.arange(len(labels))
    values = data.values[chosen] if data.values is not None else None
    given = tuple(data.given[i] for i in chosen) if data.given else ()
    return Labelled([data.paths[i] for i in chosen], [data.features[i] for i in chosen], labels[chosen],
                    [data.classes[i] for i in keep], values, given)


def select_classes(data: Labelled, options: Options) -> Labelled:
    """``-Nx`` (first x classes) and ``-i#N`` (classes with at least N images) on a training dataset."""
    keep = list(range(len(data.classes)))[: options.max_classes or None]
    if options.exact_train and options.max_train:
        keep = [c for c in keep if int((data.labels == c).sum()) >= options.max_train]
    if len(keep) == len(data.classes):
        return data
    log.info("using classes %s of %s", [data.classes[c] for c in keep], data.classes)
    return restrict(data, keep, drop_unknown=True)


def as_continuous(data: Labelled) -> Labelled:
    """``-C``: one class holding every labelled image, each valued by its own label read as a number."""
    if data.given:  # a test set: its labels need not be training classes
        known = np.array([label != "" for label in data.given])
        values = np.array([interpolate.c_atof(label) for label in data.given])
    else:
        known = data.labels >= 0
        values = np.where(known, interpolate.label_values(data.classes)[data.labels], 0.0)
    labels = np.where(known, 0, -1).astype(np.intp)
    return replace(data, labels=labels, classes=[""], values=values)


def plan(data: Labelled, options: Options, has_testset: bool, classify: bool) -> SplitPlan:
    """Training/test counts per class, as check_split_params sets them; BadJob where wndchrm stops."""
    smallest = min(int((data.labels == c).sum()) for c in range(len(data.classes)))
    balanced = not options.unbalanced
    default = CLASSIFY_TRAIN_FRACTION if classify else DEFAULT_TRAIN_FRACTION
    ratio = options.train_fraction if options.train_fraction is not None else default
    if options.max_train and not options.exact_train:
        n_train = options.max_train
        if n_train > smallest and has_testset:
            log.warning("-i%d exceeds the %d images of the smallest class; %d used", n_train, smallest, smallest)
            n_train = smallest
        elif n_train >= smallest and not has_testset:
            raise BadJob(f"-i{n_train} leaves no test images: the smallest class has {smallest}; "
                         f"use -iN with N < {smallest}, -rN, or -r#N for unbalanced training")
        ratio = 0.0
    else:
        n_train = math.floor(ratio * smallest + 0.5)
        if n_train >= smallest and not has_testset:
            raise BadJob(f"-r{ratio:g} leaves no test images: the smallest class has {smallest}; "
                         f"use -rN with N < {(smallest - 1) / smallest:g} or -iN with N < {smallest}")
        if balanced:
            ratio = 0.0
    return SplitPlan(n_train, _test_count(options, smallest, n_train, balanced, has_testset), ratio)


def _test_count(options: Options, smallest: int, n_train: int, balanced: bool, has_testset: bool) -> int:
    left = smallest - n_train
    if not options.max_test:
        return left if balanced else 0
    if has_testset:
        log.warning("-j%d is ignored with a separate test set", options.max_test)
        return options.max_test
    return left if options.max_test > left > 0 else options.max_test


def split(data: Labelled, chosen: SplitPlan, make_test: bool,
          rng: np.random.Generator | None) -> tuple[IndexArray, IndexArray]:
    """TrainingSet::split: per class, training and test images (random with ``rng``, else in order)."""
    train: list[int] = []
    test: list[int] = []
    for c, name in enumerate(data.classes):
        pool = [int(i) for i in np.flatnonzero(data.labels == c)]
        if chosen.ratio > 0:
            n_train = math.floor(chosen.ratio * len(pool) + 0.5)
            n_test = (chosen.n_test or len(pool) - n_train) if make_test else 0
        else:
            n_train, n_test = chosen.n_train, chosen.n_test if make_test else 0
        if n_train + n_test > len(pool) or n_train < 1:
            raise BadJob(f"class {name!r} has {len(pool)} image(s): too few for {n_train} training "
                         f"and {n_test} test image(s) (see -r, -i, -j)")
        order = rng.permutation(len(pool)) if rng is not None else np.arange(len(pool))
        train += [pool[k] for k in order[:n_train]]
        rest = sorted(int(k) for k in order[n_train:])
        if len(rest) > n_test and rng is not None:
            rest = [rest[k] for k in rng.permutation(len(rest))[:n_test]]
        test += [pool[k] for k in rest[:n_test]]
    return np.asarray(train, dtype=np.intp), np.asarray(test, dtype=np.intp)
