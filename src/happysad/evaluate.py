"""Classification metrics from true labels and predicted probabilities (no TensorFlow).

Binary models emit P(class_names[1]); that class is the "positive" one for precision,
recall and F1, and the decision threshold is configurable. Multiclass models emit one
probability per class and are scored with macro averages plus per-class figures.
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


def evaluate_predictions(
    y_true: np.ndarray,
    probs: np.ndarray,
    class_names: list[str],
    threshold: float = 0.5,
    prefix: str = "test_",
) -> Evaluation:
    """Accuracy, precision, recall, F1, ROC AUC, average precision, log loss, confusion matrix."""
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
    """The headline figures on one line: accuracy, precision, recall, F1, ROC AUC."""
    keys = ["accuracy", "precision", "recall", "f1", "roc_auc"]
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
