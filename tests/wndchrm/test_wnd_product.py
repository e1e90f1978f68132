"""WND-5's distances through one matrix product equal the term-by-term sums, near neighbours included."""

from __future__ import annotations

import numpy as np
import pytest

from wndchrm.classifier import wnd


def problem(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scaled tiles (0-100) above the product's size threshold, with near and exact duplicates of training
    tiles among the test tiles, and differences under DBL_EPSILON in some features."""
    rng = np.random.default_rng(seed)
    train = rng.uniform(0, 100, (120, 40))
    test = rng.uniform(0, 100, (60, 40))
    test[:10] = train[:10] + rng.normal(0, 1e-6, (10, 40))  # near neighbours: the sums that cancel most
    test[10:15] = train[20:25]  # exact matches (0, skipped by WND-5)
    test[15, :20] = train[30, :20] + 1e-17  # differences classify2 skips
    weights = rng.uniform(0, 3, 40)
    weights[:5] = 0.0
    assert len(test) * len(train) >= wnd.PRODUCT_MIN_PAIRS
    return test, train, weights


def test_product_distances_match_the_term_by_term_sums() -> None:
    for seed in range(3):
        test, train, weights = problem(seed)
        fast = wnd._weighted_squares(test, train, weights, skip_tiny=True)
        exact = wnd._exact_squares(test, train, weights, skip_tiny=True)
        assert (fast[10:15, 20:25].diagonal() == 0).all()
        nonzero = exact > 0
        assert np.array_equal(nonzero, fast > 0)
        assert np.max(np.abs(fast[nonzero] - exact[nonzero]) / exact[nonzero]) < 1e-12


def test_product_distances_give_the_same_probabilities() -> None:
    test, train, weights = problem(5)
    labels = np.arange(len(train)) % 3
    model = wnd.Model(np.zeros(40), np.full(40, 100.0), weights, weights, train, labels, 3)
    fast = wnd.wnd5(model, wnd._weighted_squares(test, train, weights**2, skip_tiny=True))
    exact = wnd.wnd5(model, wnd._exact_squares(test, train, weights**2, skip_tiny=True))
    assert np.array_equal(fast.predicted, exact.predicted)
    np.testing.assert_allclose(fast.probabilities, exact.probabilities, rtol=1e-11)
    np.testing.assert_allclose(fast.norm_factor, exact.norm_factor, rtol=1e-11)


def test_blocks_of_test_tiles_give_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    test, train, weights = problem(7)
    labels = np.arange(len(train)) % 3
    model = wnd.Model(np.zeros(40), np.full(40, 100.0), weights, weights, train, labels, 3,
                      values=np.linspace(0.0, 1.0, len(train)))
    whole = [wnd.classify_tiles(model, test), wnd.classify_tiles(model, test, wnn_method=True)]
    values = wnd.continuous_values(model, test, 3)
    monkeypatch.setattr(wnd, "BLOCK_BYTES", 8 * len(train) * 7)  # 7 test tiles a block
    blocked = [wnd.classify_tiles(model, test), wnd.classify_tiles(model, test, wnn_method=True)]
    for one, other in zip(whole, blocked, strict=True):
        np.testing.assert_allclose(other.probabilities, one.probabilities, rtol=1e-11)
        np.testing.assert_allclose(other.norm_factor, one.norm_factor, rtol=1e-11)
        assert np.array_equal(other.predicted, one.predicted)
    np.testing.assert_allclose(wnd.continuous_values(model, test, 3), values, rtol=1e-11)
    assert len(wnd.classify_tiles(model, test[:0]).predicted) == 0
