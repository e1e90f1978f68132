"""The WND-5 and WNN classifiers of wndchrm 1.60, and the ``test`` and ``classify`` runs built on them.

- ``wnd``: scaling, distances and the two classifiers, vectorised (:func:`train`, :func:`classify_tiles`).
- ``weights``: Fisher (or, with ``-C``, Pearson) feature weights, their threshold and weight files.
- ``predict``: an image's result from its tiles (:class:`ImageResult`, :func:`classify_images`).
- ``interpolate``: class labels read as numbers, interpolated values and the Pearson correlation.
- ``experiment``: which images train and which are tested, split by split (:class:`Labelled`).
- ``evaluation``: a whole run: a model per split, its test images classified (:func:`run_test`).
- ``training_data``: the feature matrix a command works on, from a dataset or a ``.fit`` file
  (:func:`labelled`, :func:`fit_samples`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wndchrm._lazy import attach

if TYPE_CHECKING:
    from wndchrm.classifier.evaluation import SplitResult, TestResult, run_assessment, run_test
    from wndchrm.classifier.experiment import SPLIT_SEED, Labelled, plan, split
    from wndchrm.classifier.interpolate import interpolated, labels_numeric, nearest_value, pearson
    from wndchrm.classifier.predict import ImageResult, classify_images
    from wndchrm.classifier.training_data import feature_names, features_of, fit_samples, job_vector, labelled
    from wndchrm.classifier.weights import apply_weight_file, feature_groups, fisher_scores, pearson_scores, threshold
    from wndchrm.classifier.wnd import Model, classify_tiles, scale, train, training_range, wnd5, wnn

__all__ = [
    "SPLIT_SEED", "ImageResult", "Labelled", "Model", "SplitResult", "TestResult", "apply_weight_file",
    "classify_images", "classify_tiles", "feature_groups", "feature_names", "features_of", "fisher_scores",
    "fit_samples", "interpolated", "job_vector", "labelled", "labels_numeric", "nearest_value", "pearson",
    "pearson_scores", "plan", "run_assessment", "run_test", "scale", "split", "threshold", "train",
    "training_range", "wnd5", "wnn",
]

if not TYPE_CHECKING:  # at run time each name is imported on first use; mypy reads the imports above
    __getattr__, __dir__ = attach(__name__, __file__, __all__)
