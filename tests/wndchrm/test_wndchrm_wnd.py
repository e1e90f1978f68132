"""WND-5 on tiny matrices whose every number is worked out by hand in the comments."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from services.kinds.wndchrm import wnd


def test_scale_uses_training_range_and_clips_test_values() -> None:
    minimum, maximum = np.array([0.0, 10.0, 5.0]), np.array([4.0, 20.0, 5.0])
    values = np.array([[1.0, 15.0, 5.0], [-2.0, 30.0, 7.0]])
    # (1-0)/4*100 = 25; (15-10)/10*100 = 50; a constant feature is 0; out-of-range values clip to 0 and 100.
    assert wnd.scale(values, minimum, maximum).tolist() == [[25.0, 50.0, 0.0], [0.0, 100.0, 0.0]]


def test_fisher_scores_by_hand() -> None:
    scaled = np.array([[0.0, 0.0], [2.0, 10.0], [10.0, 0.0], [12.0, 10.0]])
    labels = np.array([0, 0, 1, 1])
    # Feature 0: class means 1 and 11, mean of means 6; between = (25 + 25) / (2 - 1) = 50;
    # variances (population) 1 and 1, mean 1; score 50.
    # Feature 1: class means 5 and 5; between 0; variances 25 and 25; score 0.
    assert wnd.fisher_scores(scaled, labels, 2).tolist() == [50.0, 0.0]


def test_fisher_floors_zero_within_class_variance() -> None:
    scaled = np.array([[0.0], [0.0], [100.0], [100.0]])
    # between = (50^2 + 50^2) / 1 = 5000; within-class variance 0 is floored at 1e-6.
    score = wnd.fisher_scores(scaled, np.array([0, 0, 1, 1]), 2)
    assert score[0] == pytest.approx(5000 / 1e-6)


def test_fisher_with_three_classes() -> None:
    scaled = np.array([[0.0], [2.0], [4.0], [6.0], [8.0], [10.0]])
    # class means 1, 5, 9; mean 5; between = (16 + 0 + 16) / 2 = 16; variances 1, 1, 1; score 16.
    assert wnd.fisher_scores(scaled, np.array([0, 0, 1, 1, 2, 2]), 3).tolist() == [16.0]


def test_select_keeps_the_top_fraction() -> None:
    scores = np.array([1.0, 9.0, 3.0, 7.0, 5.0, 0.0, 2.0, 8.0, 4.0, 6.0])
    # wndchrm keeps n - int((1 - f) * n) features: 10 - int(0.7 * 10) = 3 (floating point: 0.7*10 = 7.0).
    assert wnd.select(scores, 0.3).tolist() == [1, 7, 3]
    assert wnd.select(scores, 0.01).tolist() == [1]  # at least one feature


def test_train_zeroes_unselected_weights() -> None:
    features = np.array([[0.0, 0.0, 1.0], [2.0, 10.0, 3.0], [10.0, 0.0, 1.0], [12.0, 10.0, 4.0]])
    model = wnd.train(features, np.array([0, 0, 1, 1]), 2, fraction=0.34)
    # 3 - int(0.66 * 3) = 2 features kept; feature 1 has score 0 and is dropped.
    assert model.selected.tolist()[0] == 0
    assert model.weights[1] == 0.0
    assert model.weights[0] > 0


def _two_feature_model() -> wnd.Model:
    # Scaled training points on feature 0 only; feature 1 has weight 0. Weight of feature 0 is 2.
    return wnd.Model(
        minimum=np.array([0.0, 0.0]),
        maximum=np.array([100.0, 100.0]),
        weights=np.array([2.0, 0.0]),
        scores=np.array([2.0, 0.0]),
        selected=np.array([0, 1]),
        train=np.array([[10.0, 0.0], [20.0, 0.0], [50.0, 0.0]]),
        labels=np.array([0, 0, 1]),
        n_classes=2,
    )


def test_wnd5_probabilities_by_hand() -> None:
    model = _two_feature_model()
    test = np.array([[30.0, 77.0]])
    # d = w^2 (x - t)^2: 4*400 = 1600, 4*100 = 400, 4*400 = 1600.
    # class 0: mean(1600^-5, 400^-5); class 1: 1600^-5.
    s0 = (1600.0**-5 + 400.0**-5) / 2
    s1 = 1600.0**-5
    prediction = wnd.classify(model, [test])
    assert prediction.probabilities[0] == pytest.approx([s0 / (s0 + s1), s1 / (s0 + s1)], rel=1e-12)
    assert prediction.norm_factor[0] == pytest.approx(s0 + s1, rel=1e-12)
    assert prediction.predicted.tolist() == [0]


def test_identical_training_sample_is_skipped() -> None:
    model = _two_feature_model()
    # Exactly on the class-0 sample at 10: d = 0 is skipped, class 0 keeps only 4*100 = 400 (sample 20);
    # class 1: 4*1600 = 6400.
    s0, s1 = 400.0**-5, 6400.0**-5
    prediction = wnd.classify(model, [np.array([[10.0, 0.0]])])
    assert prediction.probabilities[0][0] == pytest.approx(s0 / (s0 + s1), rel=1e-12)


def test_tiles_are_averaged_per_image() -> None:
    model = _two_feature_model()
    one, other = np.array([[30.0, 0.0]]), np.array([[50.0, 0.0], [12.0, 0.0]])
    alone = wnd.classify(model, [one, other[:1], other[1:]])
    together = wnd.classify(model, [one, other])
    assert together.probabilities[1] == pytest.approx((alone.probabilities[1] + alone.probabilities[2]) / 2)
    assert together.probabilities.sum(axis=1) == pytest.approx([1.0, 1.0])


def test_tiny_distances_do_not_overflow() -> None:
    model = replace(_two_feature_model(), train=np.array([[0.0, 0.0], [20.0, 0.0], [50.0, 0.0]]))
    # d = 4 * (1e-70)^2 = 4e-140 from the class-0 sample at 0: d^-5 is far beyond float64; the
    # log-space sums still give finite probabilities, all but 1 for class 0.
    prediction = wnd.classify(model, [np.array([[1e-70, 0.0]])])
    assert np.isfinite(prediction.probabilities).all()
    assert prediction.probabilities[0][0] == pytest.approx(1.0)
    assert prediction.predicted.tolist() == [0]


def test_wnn_votes_for_the_nearest_neighbour() -> None:
    model = _two_feature_model()
    prediction = wnd.classify(model, [np.array([[40.0, 0.0]]), np.array([[16.0, 0.0], [45.0, 0.0]])], wnn=True)
    assert prediction.probabilities.tolist() == [[0.0, 1.0], [0.5, 0.5]]


def test_train_refuses_a_class_without_samples() -> None:
    with pytest.raises(ValueError, match="no training samples"):
        wnd.train(np.zeros((2, 3)), np.array([0, 0]), 2, 0.5)
