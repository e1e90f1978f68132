"""WND-5, WNN and their per-image results on tiny matrices whose every number is worked out in the comments.

The same code reproduces the C++ program's output on real .fit files in test_classify_cpp.py; these
tests pin each rule (from TrainingSet.cpp) on its own.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from wndchrm.classifier import interpolate, predict, wnd
from wndchrm.classifier import weights as fw

FLT_MAX = float(np.finfo(np.float32).max)


def test_training_range_skips_nan_and_values_beyond_float_range() -> None:
    features = np.array([[1.0, np.nan, 5.0], [3.0, 2.0, np.inf], [2.0, 4.0, -1e300]])
    minimum, maximum = wnd.training_range(features)
    assert minimum.tolist() == [1.0, 2.0, 5.0] and maximum.tolist() == [3.0, 4.0, 5.0]
    # A feature with no usable value gets min FLT_MAX and max -FLT_MAX: every value then scales to 0.
    minimum, maximum = wnd.training_range(np.array([[np.nan], [np.inf]]))
    assert (minimum[0], maximum[0]) == (FLT_MAX, -FLT_MAX)
    assert wnd.scale(np.array([[7.0]]), minimum, maximum).tolist() == [[0.0]]


def test_scale_as_wndchrm() -> None:
    minimum, maximum = np.array([0.0, 10.0, 5.0, 0.0]), np.array([4.0, 20.0, 5.0, 1.0])
    values = np.array([[1.0, 15.0, 5.0, np.nan], [-2.0, 30.0, 7.0, np.inf]])
    # (1-0)/4*100 = 25; (15-10)/10*100 = 50; constant feature 0; NaN 0; below min 0; above max 100.
    assert wnd.scale(values, minimum, maximum).tolist() == [[25.0, 50.0, 0.0, 0.0], [0.0, 100.0, 0.0, 100.0]]


def test_fisher_uses_the_mean_of_all_samples_and_sample_variances() -> None:
    scaled = np.array([[0.0], [2.0], [4.0], [10.0], [12.0], [14.0], [16.0], [18.0]])
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    # mean of all samples 76/8 = 9.5 (the mean of class means would be (2 + 14) / 2 = 8);
    # between = (2 - 9.5)^2 + (14 - 9.5)^2 = 56.25 + 20.25 = 76.5, over C-1 = 1;
    # sample variances: class 0 (0,2,4) 4; class 1 (10..18) 10; within = (4 + 10) / 2 = 7; score 76.5 / 7.
    assert fw.fisher_scores(scaled, labels, 2)[0] == pytest.approx(76.5 / 7, rel=1e-12)


def test_fisher_counts_no_variance_for_a_class_of_two() -> None:
    scaled = np.array([[0.0], [4.0], [10.0], [12.0], [14.0]])
    labels = np.array([0, 0, 1, 1, 1])
    # mean 8; between (2-8)^2 + (12-8)^2 = 52; class 0 has 2 samples: variance 0; class 1 variance 4;
    # within (0 + 4) / 2 = 2; score 26.
    assert fw.fisher_scores(scaled, labels, 2).tolist() == [26.0]


def test_fisher_floors_zero_within_class_variance() -> None:
    scaled = np.array([[0.0], [0.0], [0.0], [100.0], [100.0], [100.0]])
    # mean 50; between 2500 + 2500 = 5000; within-class variance 0 is raised to 1e-6.
    assert fw.fisher_scores(scaled, np.array([0, 0, 0, 1, 1, 1]), 2)[0] == pytest.approx(5000 / 1e-6)


def test_threshold_keeps_the_weights_at_or_above_the_cut() -> None:
    scores = np.array([1.0, 9.0, 3.0, 7.0, 5.0, 0.0, 2.0, 8.0, 4.0, 6.0])
    # floor(0.3 * 10 + 0.5) = 3: the 4th largest (6) is the smallest kept, so 4 features stay.
    assert np.flatnonzero(fw.threshold(scores, 0.3)).tolist() == [1, 3, 7, 9]
    # Ties with the threshold are all kept.
    assert np.count_nonzero(fw.threshold(np.array([5.0, 5.0, 5.0, 1.0]), 0.25)) == 3
    # A count above 1 is that many of N; past the end every feature stays.
    assert np.array_equal(fw.threshold(scores, 3), fw.threshold(scores, 0.3))
    assert np.array_equal(fw.threshold(scores, 1.0), scores)


def _model(**changes: object) -> wnd.Model:
    # Scaled training tiles on feature 0 only (feature 1 has weight 0); weight of feature 0 is 2.
    model = wnd.Model(
        minimum=np.array([0.0, 0.0]),
        maximum=np.array([100.0, 100.0]),
        scores=np.array([2.0, 0.0]),
        weights=np.array([2.0, 0.0]),
        train=np.array([[10.0, 0.0], [20.0, 0.0], [50.0, 0.0]]),
        labels=np.array([0, 0, 1]),
        n_classes=2,
        paths=("a.tif", "b.tif", "c.tif"),
    )
    return replace(model, **changes)  # type: ignore[arg-type]


def test_wnd5_by_hand() -> None:
    result = wnd.classify_tiles(_model(), np.array([[30.0, 77.0]]))
    # d = w^2 (x - t)^2: 4*400 = 1600, 4*100 = 400, 4*400 = 1600; class 0: mean(1600^-5, 400^-5).
    s0, s1 = (1600.0**-5 + 400.0**-5) / 2, 1600.0**-5
    assert result.probabilities[0] == pytest.approx([s0 / (s0 + s1), s1 / (s0 + s1)], rel=1e-12)
    assert result.norm_factor[0] == pytest.approx(s0 + s1, rel=1e-12)
    assert result.predicted.tolist() == [0]


def test_wnd5_skips_exact_matches_and_tiny_differences() -> None:
    # On the class-0 tile at 10: d = 0 is skipped; class 0 keeps 4*100 = 400; class 1: 4*1600 = 6400.
    s0, s1 = 400.0**-5, 6400.0**-5
    exact = wnd.classify_tiles(_model(), np.array([[10.0, 0.0]]))
    assert exact.probabilities[0][0] == pytest.approx(s0 / (s0 + s1), rel=1e-12)
    # A difference under DBL_EPSILON in a feature counts as none, even with a huge weight.
    huge = _model(weights=np.array([1e9, 0.0]), train=np.array([[0.0, 0.0], [20.0, 0.0], [50.0, 0.0]]))
    assert wnd.wnd5_distances(huge, np.array([[1e-16, 0.0]]))[0, 0] == 0.0


def test_wnd5_class_with_only_exact_matches_has_no_similarity() -> None:
    model = _model(train=np.array([[10.0, 0.0], [20.0, 0.0], [50.0, 0.0]]), labels=np.array([0, 1, 1]))
    result = wnd.classify_tiles(model, np.array([[10.0, 0.0]]))
    assert result.probabilities[0].tolist() == [0.0, 1.0]
    # Every tile an exact match: wndchrm divides 0 by 0.
    lonely = wnd.classify_tiles(_model(train=np.array([[10.0, 0.0]] * 3)), np.array([[10.0, 0.0]]))
    assert np.isnan(lonely.probabilities).all() and lonely.norm_factor[0] == 0.0 and lonely.predicted[0] == -1


def test_wnd5_tiny_distances_do_not_overflow() -> None:
    model = _model(train=np.array([[0.0, 0.0], [20.0, 0.0], [50.0, 0.0]]))
    result = wnd.classify_tiles(model, np.array([[1e-7, 0.0]]))
    # d = 4e-14 from the tile at 0: d^-5 ~ 1e66 per tile; the log-space sums stay finite.
    assert np.isfinite(result.probabilities).all() and result.probabilities[0][0] == pytest.approx(1.0)


def test_wnn_by_hand() -> None:
    # d = sqrt(w (x - t)^2) with w = 2: from 40 to 10, 20, 50: sqrt(1800), sqrt(800), sqrt(200).
    result = wnd.classify_tiles(_model(), np.array([[40.0, 0.0]]), wnn_method=True, tile_paths=("q.tif",))
    inverse = np.array([1 / np.sqrt(800.0), 1 / np.sqrt(200.0)])
    assert result.probabilities[0] == pytest.approx(inverse / inverse.sum(), rel=1e-12)
    assert result.norm_factor[0] == pytest.approx(inverse.sum(), rel=1e-12)
    assert result.predicted.tolist() == [1]
    # A training tile of the same image never counts: from c.tif, class 1 has no tile (d = 1e201).
    own = wnd.classify_tiles(_model(), np.array([[40.0, 0.0]]), wnn_method=True, tile_paths=("c.tif",))
    assert own.predicted.tolist() == [0]
    assert own.probabilities[0][1] == pytest.approx((1 / 10e200) / (1 / np.sqrt(800.0)), rel=1e-9)


def test_ranked_prediction_with_q() -> None:
    probabilities = np.array([0.5, 0.3, 0.2])
    assert predict.ranked_prediction(probabilities, 2, 1, 0) == 0
    assert predict.ranked_prediction(probabilities, 1, 2, 0) == 1  # found among the 2 best: its own class
    assert predict.ranked_prediction(probabilities, 2, 2, 0) == 1  # not found: the 2nd best is printed
    assert predict.ranked_prediction(probabilities, -1, 3, 0) == 2
    assert predict.ranked_prediction(np.array([np.nan, np.nan]), 0, 1, -1) == -1


def _settings(classes: list[str], **changes: object) -> predict.Settings:
    return replace(predict.Settings(classes), **changes)  # type: ignore[arg-type]


def test_images_average_their_tiles_and_interpolate() -> None:
    model = _model()
    one, other = np.array([[30.0, 0.0]]), np.array([[50.0, 0.0], [12.0, 0.0]])
    labels = np.array([0, 1])
    alone = wnd.classify_tiles(model, np.concatenate([one, other]))
    results = predict.classify_images([model], [one, other], ["o.tif", "p.tif"], labels, _settings(["2", "4"]))
    assert results[1].probabilities == pytest.approx(alone.probabilities[1:].mean(axis=0))
    assert results[1].norm_factor == pytest.approx(alone.norm_factor[1:].mean())
    # Interpolated value: p(2) * 2 + p(4) * 4.
    assert results[0].value == pytest.approx(2 * results[0].probabilities[0] + 4 * results[0].probabilities[1])


def test_max_tile_keeps_the_most_confident_tile() -> None:
    model = _model()
    tiles = np.array([[30.0, 0.0], [11.0, 0.0]])  # the second tile is next to a class-0 tile
    every = wnd.classify_tiles(model, tiles)
    results = predict.classify_images([model], [tiles], ["i.tif"], np.array([0]), _settings(["a", "b"], max_tile=True))
    assert results[0].probabilities.tolist() == every.probabilities[1].tolist()


def test_one_model_per_tile_position() -> None:
    near_zero = _model(train=np.array([[0.0, 0.0], [2.0, 0.0], [90.0, 0.0]]))
    images = [np.array([[1.0, 0.0], [1.0, 0.0]])]
    # Position 0 uses a model where 1.0 is near class 0; position 1 one where it is near class 1.
    near_one = _model(train=np.array([[60.0, 0.0], [70.0, 0.0], [1.5, 0.0]]))
    results = predict.classify_images([near_zero, near_one], images, ["i.tif"], np.array([0]), _settings(["a", "b"]))
    p0 = wnd.classify_tiles(near_zero, images[0][:1]).probabilities[0]
    p1 = wnd.classify_tiles(near_one, images[0][1:]).probabilities[0]
    assert results[0].probabilities == pytest.approx((p0 + p1) / 2)


def test_continuous_value_from_the_nearest_tiles() -> None:
    model = _model(values=np.array([1.0, 2.0, 5.0]))
    # From 40: distances sqrt(1800), sqrt(800), sqrt(200); the two nearest weigh values 5 and 2 by 1/d.
    value = wnd.continuous_values(model, np.array([[40.0, 0.0]]), neighbours=2)[0]
    w5, w2 = 1 / np.sqrt(200.0), 1 / np.sqrt(800.0)
    assert value == pytest.approx((5 * w5 + 2 * w2) / (w5 + w2))
    assert np.isnan(wnd.continuous_values(model, np.array([[10.0, 0.0]]), neighbours=1)[0])  # exact match: 1/0


def test_class_labels_read_as_wndchrm_reads_them() -> None:
    assert [interpolate.check_numeric(s) for s in ("2cell", "3.5", "0x1A", "alpha", "nan")] == [1, 2, 2, 1, 0]
    read = [interpolate.c_atof(s) for s in ("2cell", " 7", "-2.5e-3x", "alpha", "010")]
    assert read == [2.0, 7.0, -0.0025, 0.0, 10.0]
    assert interpolate.labels_numeric(["alpha", "beta"])  # wndchrm interpolates (as 0) even these
    assert not interpolate.pearson_applies(["alpha", "2"]) and interpolate.pearson_applies(["0a", "2"])


def test_pearson_by_hand() -> None:
    correlation, p_value = interpolate.pearson(np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 4.0, 6.0, 9.0]))
    assert correlation == pytest.approx(np.corrcoef([1, 2, 3, 4], [2, 4, 6, 9])[0, 1], rel=1e-12)
    assert 0 < p_value < 0.1


def test_train_refuses_a_class_without_samples() -> None:
    with pytest.raises(ValueError, match="no training samples"):
        wnd.train(np.zeros((2, 3)), np.array([0, 0]), 2, 0.5)
