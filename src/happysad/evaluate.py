"""Classification metrics from true labels and predicted probabilities (no TensorFlow).

Binary models emit P(class_names[1]); that class is the "positive" one for precision,
recall and F1, and the decision threshold is configurable. Multiclass models emit one
probability per class and are scored with macro averages plus per-class figures.

Calibration (pure numpy, part of the served model's code): the expected calibration error
of the predicted class's confidence, and temperature scaling (one T fitted on held-out
predictions; `apply_temperature` is what predict, eval and the served model apply).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Evaluation:
    metrics: dict[str, float]
    y_true: np.ndarray
    y_pred: np.ndarray
    confidence: np.ndarray  # probability of the predicted class
    probs: np.ndarray  # (N,) for binary, (N, C) for multiclass
    confusion: np.ndarray
    class_names: list[str]


def predict_labels(probs: np.ndarray, threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(label index, probability of that label) for binary (N,) or multiclass (N, C) outputs."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 2 and probs.shape[1] == 1:
        probs = probs[:, 0]
    if probs.ndim == 1:
        pred = (probs >= threshold).astype(np.int64)
        conf = np.where(pred == 1, probs, 1.0 - probs)
        return pred, conf
    pred = probs.argmax(axis=1)
    return pred, probs[np.arange(len(probs)), pred]


# --- calibration ----------------------------------------------------------------------------

ECE_BINS = 15  # Guo et al. 2017's choice, and the reliability diagram's
_EPS = 1e-7  # probabilities are clipped to [eps, 1 - eps] before a log (float32 saturates)
TEMPERATURE_BOUNDS = (0.05, 20.0)  # the search interval of fit_temperature


def _squeeze(probs: np.ndarray) -> np.ndarray:
    probs = np.asarray(probs, dtype=np.float64)
    return probs[:, 0] if probs.ndim == 2 and probs.shape[1] == 1 else probs


def top_label(y_true: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(confidence of the predicted class, 1.0 where that prediction is right).

    The predicted class is the most probable one, whatever the decision threshold: binary
    (N,) P(class 1) -> max(p, 1 - p), right when (p >= 0.5) == y; multiclass -> max prob,
    right when argmax == y. Calibration is a property of the probabilities, not of a threshold.
    """
    y = np.asarray(y_true, dtype=np.int64).reshape(-1)
    probs = _squeeze(probs)
    if probs.ndim == 1:
        pred = (probs >= 0.5).astype(np.int64)
        conf = np.maximum(probs, 1.0 - probs)
    else:
        pred = probs.argmax(axis=1) if len(probs) else np.zeros(0, np.int64)
        conf = probs.max(axis=1) if len(probs) else np.zeros(0)
    return conf, (pred == y).astype(np.float64)


def calibration_bins(
    score: np.ndarray, outcome: np.ndarray, n_bins: int = ECE_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Equal-width bins over [0, 1]: (mean score, observed rate, count) per bin, and the ECE.

    Bin m holds scores in [m/M, (m+1)/M) (1.0 in the last). Empty bins are NaN (count 0).
    ECE = sum over bins of count/N * |observed - mean score|; NaN when there is no score.
    """
    score = np.clip(np.asarray(score, dtype=float).reshape(-1), 0.0, 1.0)
    outcome = np.asarray(outcome, dtype=float).reshape(-1)
    which = np.minimum((score * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(which, minlength=n_bins).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_score = np.bincount(which, weights=score, minlength=n_bins) / counts
        observed = np.bincount(which, weights=outcome, minlength=n_bins) / counts
    total = counts.sum()
    gaps = np.where(counts > 0, np.abs(observed - mean_score), 0.0)
    ece = float((counts * gaps).sum() / total) if total else float("nan")
    return mean_score, observed, counts, ece


def expected_calibration_error(
    y_true: np.ndarray, probs: np.ndarray, n_bins: int = ECE_BINS
) -> float:
    """Expected calibration error (Guo, Pleiss, Sun and Weinberger, "On Calibration of Modern
    Neural Networks", ICML 2017, eq. 3): the confidence of the predicted class (`top_label`)
    in `n_bins` equal-width bins, and the bin-size-weighted mean |accuracy - confidence|.

    0 for a model whose "0.8" is right 80% of the time in every bin; an over-confident model
    that says 0.97 and is right 75% of the time scores 0.22. NaN for no predictions.
    """
    conf, right = top_label(y_true, probs)
    return calibration_bins(conf, right, n_bins)[3]


# What apply_temperature computes, for a reader elsewhere (happysad-export's contract, docs).
TEMPERATURE_FORMULAS = {
    "sigmoid": "p = 1 / (1 + exp(-log(q / (1 - q)) / T)), q = the output clipped to "
    "[1e-7, 1 - 1e-7]",
    "softmax": "p = softmax(log(q) / T), q = the outputs clipped to [1e-7, 1 - 1e-7]",
}


def _logits(probs: np.ndarray) -> np.ndarray:
    """What temperature divides: the logit of a sigmoid output, log p of a softmax."""
    p = np.clip(probs, _EPS, 1.0 - _EPS)
    return np.log(p / (1.0 - p)) if p.ndim == 1 else np.log(p)


def _scaled(logits: np.ndarray, temperature: float) -> np.ndarray:
    z = logits / temperature
    if z.ndim == 1:
        return 1.0 / (1.0 + np.exp(-z))
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities recalibrated by temperature scaling: sigmoid(logit(p) / T) for a sigmoid
    output (N,) or (N, 1), softmax(log p / T) for a softmax (N, C); same shape and float
    dtype as given. T = 1 returns `probs` untouched; T > 1 softens, T < 1 sharpens. The
    predicted class (argmax, or p >= 0.5) never changes."""
    if float(temperature) == 1.0:
        return probs
    arr = np.asarray(probs)
    flat = _squeeze(arr)
    out = _scaled(_logits(flat), float(temperature)).reshape(arr.shape)
    return out.astype(arr.dtype) if np.issubdtype(arr.dtype, np.floating) else out


def _nll(y: np.ndarray, logits: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of the labels under the scaled probabilities."""
    z = logits / temperature
    if z.ndim == 1:  # log sigmoid(z) for y = 1, log sigmoid(-z) for y = 0, stably
        return float(np.mean(np.logaddexp(0.0, np.where(y == 1, -z, z))))
    z = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    return float(np.mean(log_norm - z[np.arange(len(y)), y]))


def fit_temperature(
    y_true: np.ndarray,
    probs: np.ndarray,
    bounds: tuple[float, float] = TEMPERATURE_BOUNDS,
    tol: float = 1e-4,
) -> float:
    """The temperature T > 0 that minimises the NLL of `y_true` under
    `apply_temperature(probs, T)` (Guo et al. 2017, section 4.2): a golden-section search
    over log T within `bounds` (NLL is unimodal there: convex in 1/T).

    ValueError for no predictions, labels outside the outputs, non-finite probabilities, or
    a minimum at a bound (predictions that separate the classes: the NLL falls as T -> 0).
    """
    y = np.asarray(y_true, dtype=np.int64).reshape(-1)
    probs = _squeeze(probs)
    if not len(y) or len(probs) != len(y):
        raise ValueError(f"{len(y)} labels for {len(probs)} predictions: nothing to fit on")
    if not np.isfinite(probs).all():
        raise ValueError("non-finite probabilities")
    n_out = 2 if probs.ndim == 1 else probs.shape[1]
    if y.min() < 0 or y.max() >= n_out:
        raise ValueError(f"labels outside 0..{n_out - 1}")
    logits = _logits(probs)
    lo, hi = np.log(bounds[0]), np.log(bounds[1])
    if np.ptp([_nll(y, logits, t) for t in (bounds[0], 1.0, bounds[1])]) < 1e-12:
        raise ValueError("every prediction is the same: the NLL does not depend on T")
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = lo + (1 - ratio) * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = _nll(y, logits, np.exp(a)), _nll(y, logits, np.exp(b))
    while hi - lo > tol:
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = lo + (1 - ratio) * (hi - lo)
            fa = _nll(y, logits, np.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = _nll(y, logits, np.exp(b))
    best = (lo + hi) / 2.0
    if best - np.log(bounds[0]) < 2 * tol:
        raise ValueError(
            f"the NLL keeps falling towards T={bounds[0]:g}: the predictions separate the "
            "classes (every one right), so no finite temperature fits"
        )
    if np.log(bounds[1]) - best < 2 * tol:
        raise ValueError(
            f"the NLL keeps falling towards T={bounds[1]:g}: the predictions are no better "
            "than chance (the fit would answer 1/classes for everything)"
        )
    return float(np.exp(best))


def evaluate_predictions(
    y_true: np.ndarray,
    probs: np.ndarray,
    class_names: list[str],
    threshold: float = 0.5,
    prefix: str = "test_",
) -> Evaluation:
    """Accuracy, precision, recall, F1, ROC AUC, average precision, log loss, expected
    calibration error (`ece`, 15 bins), confusion matrix."""
    # Imported here: predict_labels is part of the served model, which must not need sklearn.
    from sklearn import metrics as skm

    y_true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 2 and probs.shape[1] == 1:
        probs = probs[:, 0]
    y_pred, conf = predict_labels(probs, threshold)
    labels = list(range(len(class_names)))
    m: dict[str, float] = {"accuracy": skm.accuracy_score(y_true, y_pred)}
    binary = probs.ndim == 1
    present = set(np.unique(y_true).tolist())
    if binary:
        m["precision"] = skm.precision_score(y_true, y_pred, zero_division=0)
        m["recall"] = skm.recall_score(y_true, y_pred, zero_division=0)
        m["f1"] = skm.f1_score(y_true, y_pred, zero_division=0)
        if present == {0, 1}:
            m["roc_auc"] = skm.roc_auc_score(y_true, probs)
            m["average_precision"] = skm.average_precision_score(y_true, probs)
        p2 = np.clip(np.stack([1 - probs, probs], axis=1), 1e-7, 1 - 1e-7)
        m["log_loss"] = skm.log_loss(y_true, p2, labels=labels)
    else:
        m["precision"] = skm.precision_score(
            y_true, y_pred, labels=labels, average="macro", zero_division=0
        )
        m["recall"] = skm.recall_score(
            y_true, y_pred, labels=labels, average="macro", zero_division=0
        )
        m["f1"] = skm.f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        if present == set(labels):
            m["roc_auc"] = skm.roc_auc_score(y_true, probs, multi_class="ovr", labels=labels)
        m["log_loss"] = skm.log_loss(y_true, np.clip(probs, 1e-7, 1.0), labels=labels)
    per_p = skm.precision_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    per_r = skm.recall_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    for i, name in enumerate(class_names):
        m[f"precision_{name}"] = per_p[i]
        m[f"recall_{name}"] = per_r[i]
    m["ece"] = expected_calibration_error(y_true, probs)
    m["n_images"] = len(y_true)
    cm = skm.confusion_matrix(y_true, y_pred, labels=labels)
    return Evaluation(
        metrics={f"{prefix}{k}": float(v) for k, v in m.items()},
        y_true=y_true,
        y_pred=y_pred,
        confidence=conf,
        probs=probs,
        confusion=cm,
        class_names=list(class_names),
    )


def format_metrics(metrics: dict[str, float], prefix: str = "test_") -> str:
    """The headline figures on one line: accuracy, precision, recall, F1, ROC AUC, ECE."""
    keys = ["accuracy", "precision", "recall", "f1", "roc_auc", "ece"]
    parts = [f"{k} {metrics[prefix + k]:.4f}" for k in keys if prefix + k in metrics]
    return ", ".join(parts)


def objective_value(
    trainer: Any, history: Mapping[str, list[float]], final: Mapping[str, Any]
) -> float | None:
    """The configured objective: a per-epoch metric at its best epoch, else a final metric.

    None when the run has no such metric (e.g. val_accuracy without a validation split).
    """
    name = str(trainer.objective)
    maximize = str(trainer.objective_direction) == "maximize"
    if history.get(name):
        values = [float(v) for v in history[name] if math.isfinite(float(v))]
        if not values:
            return float("nan")
        return max(values) if maximize else min(values)
    value = final.get(name)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None
