"""Calibration: the expected calibration error of every evaluation, the reliability diagram,
and temperature scaling (`model.calibration=temperature`) from the fit to every place a
packaged model's probabilities leave it.

The numbers are checked on hand-made arrays whose ECE is known, and the temperature fit on
synthetic predictions of a calibrated model whose logits were scaled by a known factor.
"""

from __future__ import annotations

import numpy as np
import pytest

# --------------------------------------------------------------------------- ECE


def _calibrated_binary(conf: float, n: int, right: int, positive: bool = True):
    """n predictions of confidence `conf`, `right` of them right (class 1 predicted if
    `positive`, else class 0)."""
    p = np.full(n, conf if positive else 1.0 - conf)
    y = np.full(n, 1 if positive else 0)
    y[right:] = 1 - y[right:]
    return y, p


def test_ece_of_a_perfectly_calibrated_model_is_zero() -> None:
    from happysad.evaluate import expected_calibration_error

    # In each bin the confidence is the fraction right: 0.8 -> 80 %, 0.6 -> 60 %, 0.95 -> 95 %,
    # for both predicted classes (binary confidence is max(p, 1 - p)).
    parts = [
        _calibrated_binary(0.8, 100, 80),
        _calibrated_binary(0.6, 50, 30, positive=False),
        _calibrated_binary(0.95, 200, 190),
    ]
    y = np.concatenate([a for a, _ in parts])
    p = np.concatenate([b for _, b in parts])
    assert expected_calibration_error(y, p) == pytest.approx(0.0, abs=1e-12)

    # Sampled from its own probabilities, a model is calibrated up to sampling noise.
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 50_000)
    y = (rng.uniform(0, 1, p.size) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.01


def test_ece_of_an_over_confident_model_is_its_gap() -> None:
    from happysad.evaluate import evaluate_predictions, expected_calibration_error

    # Says 0.97 and is right 3 times in 4: ECE = |0.75 - 0.97| = 0.22, whichever class.
    y, p = _calibrated_binary(0.97, 100, 75)
    assert expected_calibration_error(y, p) == pytest.approx(0.22)
    y0, p0 = _calibrated_binary(0.97, 100, 75, positive=False)
    assert expected_calibration_error(y0, p0) == pytest.approx(0.22)
    assert expected_calibration_error(y, p[:, None]) == pytest.approx(0.22)  # (N, 1) outputs

    # Two bins: 0.9 right half the time (gap 0.4, 60 %), 0.7 always right (gap 0.3, 40 %).
    probs = np.array([[0.9, 0.05, 0.05]] * 6 + [[0.1, 0.7, 0.2]] * 4)
    labels = np.array([0, 0, 0, 1, 2, 1] + [1] * 4)
    assert expected_calibration_error(labels, probs) == pytest.approx(0.6 * 0.4 + 0.4 * 0.3)

    # Every evaluation reports it, with the prefix of its split.
    ev = evaluate_predictions(y, p, ["happy", "sad"], prefix="test_")
    assert ev.metrics["test_ece"] == pytest.approx(0.22)
    ev = evaluate_predictions(labels, probs, ["a", "b", "c"], prefix="")
    assert ev.metrics["ece"] == pytest.approx(0.36)


def test_ece_uses_15_equal_width_bins_of_the_predicted_class_confidence() -> None:
    from happysad.evaluate import ECE_BINS, calibration_bins, top_label

    assert ECE_BINS == 15
    conf, right = top_label(np.array([1, 0, 0]), np.array([0.9, 0.2, 0.6]))
    np.testing.assert_allclose(conf, [0.9, 0.8, 0.6])
    np.testing.assert_array_equal(right, [1.0, 1.0, 0.0])  # 0.6 -> class 1, label 0: wrong
    # 0.8 and 0.9 share no bin of width 1/15 ([0.8, 0.867) and [0.867, 0.933)).
    mean, observed, counts, ece = calibration_bins(conf, right)
    np.testing.assert_allclose(mean[counts > 0], [0.6, 0.8, 0.9])
    np.testing.assert_array_equal(observed[counts > 0], [0.0, 1.0, 1.0])
    assert counts.sum() == 3 and (counts > 0).sum() == 3
    assert ece == pytest.approx((0.1 + 0.2 + 0.6) / 3)
    assert np.isnan(calibration_bins(np.array([]), np.array([]))[3])


# --------------------------------------------------------------------------- temperature


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("scale", [0.5, 2.5])
def test_the_temperature_fit_recovers_a_known_scaling_of_a_calibrated_binary_model(
    scale: float,
) -> None:
    """Labels drawn from sigmoid(z) (a calibrated model); the model under test outputs
    sigmoid(scale * z): over-confident for scale > 1. The fitted T is `scale`."""
    from happysad.evaluate import apply_temperature, expected_calibration_error, fit_temperature

    rng = np.random.default_rng(1)
    z = rng.normal(0.0, 2.0, 40_000)
    y = (rng.uniform(0, 1, z.size) < _sigmoid(z)).astype(int)
    probs = _sigmoid(scale * z).astype(np.float32)
    t = fit_temperature(y, probs)
    assert t == pytest.approx(scale, rel=0.05)
    fixed = apply_temperature(probs, t)
    assert fixed.dtype == np.float32 and fixed.shape == probs.shape
    np.testing.assert_allclose(fixed, _sigmoid(z), atol=0.02)
    assert expected_calibration_error(y, fixed) < 0.015 < expected_calibration_error(y, probs)
    np.testing.assert_array_equal(fixed >= 0.5, probs >= 0.5)  # the decisions stay


def test_the_temperature_fit_recovers_a_known_scaling_of_a_calibrated_softmax_model() -> None:
    from happysad.evaluate import apply_temperature, expected_calibration_error, fit_temperature

    rng = np.random.default_rng(2)
    z = rng.normal(0.0, 1.5, (30_000, 4))
    true = _softmax(z)
    y = (rng.uniform(0, 1, (len(z), 1)) > true.cumsum(axis=1)).sum(axis=1)
    probs = _softmax(3.0 * z)
    t = fit_temperature(y, probs)
    assert t == pytest.approx(3.0, rel=0.05)
    fixed = apply_temperature(probs, t)
    np.testing.assert_allclose(fixed, true, atol=0.02)
    np.testing.assert_array_equal(fixed.argmax(axis=1), probs.argmax(axis=1))
    assert expected_calibration_error(y, fixed) < 0.015 < expected_calibration_error(y, probs)


def test_temperature_one_is_the_identity_and_bad_inputs_are_refused() -> None:
    from happysad.evaluate import apply_temperature, fit_temperature

    p = np.array([0.2, 0.9], np.float32)
    assert apply_temperature(p, 1.0) is p
    np.testing.assert_allclose(apply_temperature(p, 2.0), _sigmoid(np.log(p / (1 - p)) / 2))
    with pytest.raises(ValueError):
        fit_temperature(np.array([], int), np.array([]))
    with pytest.raises(ValueError):
        fit_temperature(np.array([0, 1]), np.array([0.2, np.nan]))
    with pytest.raises(ValueError):
        fit_temperature(np.array([0, 3]), np.array([[0.5, 0.5], [0.1, 0.9]]))


# --------------------------------------------------------------------------- the diagram


def test_the_reliability_diagram_is_drawn_with_its_ece_in_the_title(tmp_path) -> None:
    from happysad.evaluate import expected_calibration_error
    from happysad.insight import figures as plots

    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, 300)
    y = (rng.uniform(0, 1, p.size) < p**0.5).astype(int)
    fig = plots.plot_calibration(y, p, ["happy", "sad"])
    ece = expected_calibration_error(y, p)
    top = fig.axes[0]
    assert f"ECE {ece:.3f}" in top.get_title() and "15 bins" in top.get_title()
    assert top.get_ylabel().startswith("accuracy")
    assert fig.axes[1].get_xlabel() == "confidence of the predicted class"
    # the diagonal, and one point per non-empty bin
    xs, ys = top.lines[0].get_data()
    assert list(xs) == [0, 1] and list(ys) == [0, 1]
    counts = fig.axes[1].patches
    assert sum(b.get_height() for b in counts) == 300 and len(counts) == 15
    fig = plots.plot_calibration(y, p, ["happy", "sad"], uncalibrated=p**0.9)
    assert "was" in fig.axes[0].get_title() and len(fig.axes[0].lines) == 3
    assert plots.save_figure(fig, tmp_path / "calibration.png").stat().st_size > 5000
