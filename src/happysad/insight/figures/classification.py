"""Figures of a classifier's predictions: confusion matrix, ROC/PR, samples, calibration, threshold.

ROC and precision-recall curves are computed with numpy here (same definitions as scikit-learn's
``roc_curve`` / ``average_precision_score``) so figures only need matplotlib and numpy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from happysad.evaluate import ECE_BINS, calibration_bins, top_label
from happysad.insight.figures.common import (
    _RIGHT_COLOR,
    _WRONG_COLOR,
    _class_colors,
    _literal_text,
    _pretty,
    _short_name,
    _to_displayable,
)

# --------------------------------------------------------------------------- confusion matrix


def plot_confusion_matrix(
    cm: np.ndarray, class_names: list[str], normalize: bool = False
) -> Figure:
    """Annotated confusion matrix (rows = true, columns = predicted) to see *which* classes mix.

    Cells always show the raw count; with ``normalize=True`` they also show the row percentage
    (recall per true class) and are coloured by it, so imbalanced classes stay comparable.
    Sized and font-scaled for 2..20 classes; x tick labels rotate when names would collide.
    """
    cm = np.asarray(cm)
    c = len(class_names)
    if cm.shape != (c, c):
        raise ValueError(f"cm has shape {cm.shape}, expected ({c}, {c}) for {c} class names")

    counts = cm.astype(float)
    row_sums = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        fractions = np.where(row_sums > 0, counts / row_sums, 0.0)
    shown = fractions if normalize else counts

    longest = max((len(str(name)) for name in class_names), default=1)
    side = max(4.8, 0.6 * c + 0.09 * min(longest, 25) + 2.6)
    fig = Figure(figsize=(side + 1.0, side), constrained_layout=True)
    ax = fig.add_subplot()
    vmax = 1.0 if normalize else max(float(counts.max()), 1.0)
    image = ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=vmax, interpolation="nearest")
    cbar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    cbar.set_label("fraction of true class" if normalize else "count")

    fontsize = 11 if c <= 5 else 9 if c <= 10 else 7 if c <= 15 else 6
    cmap: Colormap = image.get_cmap()
    for i in range(c):
        for j in range(c):
            count = cm[i, j]
            count_text = f"{int(count)}" if float(count).is_integer() else f"{count:.2f}"
            text = f"{count_text}\n{100 * fractions[i, j]:.0f}%" if normalize else count_text
            r, g, b, _ = cmap(shown[i, j] / vmax)
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=fontsize,
                color="white" if dark else "black",
            )

    ticks = np.arange(c)
    ax.set_xticks(ticks, labels=[str(n) for n in class_names])
    ax.set_yticks(ticks, labels=[str(n) for n in class_names])
    if c > 4 or longest > 8:
        for label in ax.get_xticklabels():
            label.set_rotation(45)
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")
    ax.tick_params(labelsize=max(fontsize, 7))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    total = counts.sum()
    accuracy = np.trace(counts) / total if total > 0 else float("nan")
    title = "Confusion matrix" + (" (row-normalised)" if normalize else "")
    ax.set_title(f"{title}\naccuracy {100 * accuracy:.1f}% (n={int(total)})")
    return _literal_text(fig)


# --------------------------------------------------------------------------- ROC / PR


def _binary_curves(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative true/false positives at each distinct threshold, highest score first.

    Tied scores share one threshold (one point), as in scikit-learn.
    """
    order = np.argsort(-score, kind="mergesort")
    y, score = y[order], score[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(score)), y.size - 1]
    tps = np.cumsum(y)[last_of_run].astype(float)
    fps = (last_of_run + 1) - tps
    return tps, fps


def _roc(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """ROC curve and its trapezoidal AUC; ``y`` must contain both classes."""
    tps, fps = _binary_curves(y, score)
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return fpr, tpr, float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def _pr(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Precision-recall step curve and average precision; ``y`` must contain a positive."""
    tps, fps = _binary_curves(y, score)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    # "steps-pre" drawing of these points is exactly the area that AP sums.
    return np.r_[0.0, recall], np.r_[precision[0], precision], ap


def _roc_inputs(
    y_true: np.ndarray, probs: np.ndarray, class_names: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, probs) checked for ``plot_roc_pr``; an (N, 2) binary array becomes (N,)."""
    y_true = np.asarray(y_true).astype(int).ravel()
    probs = np.asarray(probs, dtype=float)
    c = len(class_names)
    if c < 2:
        raise ValueError("need at least 2 class names")
    if probs.ndim == 2 and probs.shape[1] == 2 and c == 2:
        probs = probs[:, 1]
    if probs.ndim == 1:
        if c != 2:
            raise ValueError(f"1-D probs means binary, but {c} class names were given")
    elif probs.ndim != 2 or probs.shape[1] != c:
        raise ValueError(f"probs has shape {probs.shape}, expected (N,) or (N, {c})")
    if probs.shape[0] != y_true.size:
        raise ValueError(f"{y_true.size} labels but {probs.shape[0]} rows of probs")
    if y_true.size and (y_true.min() < 0 or y_true.max() >= c):
        raise ValueError(f"y_true has labels outside 0..{c - 1}")
    if not np.all(np.isfinite(probs)):
        raise ValueError("probs contains NaN or inf")
    return y_true, probs


def plot_roc_pr(y_true: np.ndarray, probs: np.ndarray, class_names: list[str]) -> Figure:
    """ROC and precision-recall panels, to judge ranking quality independently of the threshold.

    Binary: ``probs`` is (N,) = P(``class_names[1]``) (an (N, 2) array is also accepted) and one
    curve is drawn for that positive class. Multiclass: ``probs`` is (N, C) and each class gets a
    one-vs-rest curve. ROC legends carry the AUC and the chance diagonal; PR legends carry the
    average precision, with dashed baselines at each class's positive rate (a random ranker's AP).
    A class absent from ``y_true`` has no defined curve: it is skipped and listed in the legend
    instead of raising (likewise the ROC of a class that is *all* of ``y_true``).
    """
    y_true, probs = _roc_inputs(y_true, probs, class_names)
    c = len(class_names)
    binary = probs.ndim == 1
    targets = [1] if binary else list(range(c))
    colors = _class_colors(c)

    n_entries = len(targets) + (1 if binary else 2)  # curves + chance/baseline entries
    legend_below = n_entries > 7  # many classes: legend under the panel, not over the curves
    legend_height = 0.19 * math.ceil(n_entries / 2) + 0.15 if legend_below else 0.0
    fig = Figure(figsize=(11.5, 5.4 + legend_height), constrained_layout=True)
    # A dedicated legend row (rather than bbox_to_anchor) keeps constrained_layout exact.
    grid = fig.add_gridspec(
        2 if legend_below else 1, 2, height_ratios=[5.4, legend_height] if legend_below else None
    )
    ax_roc, ax_pr = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    ax_roc.plot([0, 1], [0, 1], linestyle="--", color="0.6", linewidth=1, label="chance (AUC 0.50)")

    skipped: list[str] = []
    aucs: list[float] = []
    aps: list[float] = []
    for k in targets:
        name = str(class_names[k])
        y = (y_true == k).astype(np.int64)
        if not y.any():
            skipped.append(name)
            for ax in (ax_roc, ax_pr):
                ax.plot([], [], " ", label=f"{name}: absent from y_true, skipped")
            continue
        auc, ap = _class_curves(
            ax_roc,
            ax_pr,
            y,
            probs if binary else probs[:, k],
            name,
            "tab:blue" if binary else colors[k],
            binary,
        )
        aucs += [auc] if auc is not None else []
        aps.append(ap)
    if not binary:
        ax_pr.plot([], [], linestyle="--", color="0.5", label="baselines: class positive rate")

    positive = f"positive class: {class_names[1]}" if binary else "one-vs-rest"
    roc_title = f"ROC ({positive})"
    pr_title = f"Precision-recall ({positive})"
    if not binary and aucs:
        roc_title += f"\nmacro AUC {np.mean(aucs):.3f} over {len(aucs)} classes"
    if not binary and aps:
        pr_title += f"\nmean AP {np.mean(aps):.3f} over {len(aps)} classes"
    if skipped:
        fig.suptitle(f"Skipped (absent from y_true): {', '.join(skipped)}", color=_WRONG_COLOR)

    ax_roc.set_title(roc_title)
    ax_roc.set_xlabel("false positive rate")
    ax_roc.set_ylabel("true positive rate (recall)")
    ax_pr.set_title(pr_title)
    ax_pr.set_xlabel("recall")
    ax_pr.set_ylabel("precision")
    for ax in (ax_roc, ax_pr):
        ax.set_xlim(-0.01, 1.01)
        ax.set_ylim(-0.01, 1.03)
        ax.set_aspect("equal")
        ax.grid(alpha=0.3)
        if not legend_below:
            ax.legend(loc="lower right" if ax is ax_roc else "lower left", fontsize="small")
    if legend_below:
        for column, ax in enumerate((ax_roc, ax_pr)):
            holder = fig.add_subplot(grid[1, column])
            holder.set_axis_off()
            handles, labels = ax.get_legend_handles_labels()
            holder.legend(
                handles, labels, loc="upper center", ncol=2, fontsize="small", frameon=False
            )
    return _literal_text(fig)


def _class_curves(
    ax_roc: Axes,
    ax_pr: Axes,
    y: np.ndarray,
    score: np.ndarray,
    name: str,
    color: Any,
    binary: bool,
) -> tuple[float | None, float]:
    """Draw one class's ROC and PR curves (``y`` has a positive); return (AUC or None, AP)."""
    auc = None
    n_pos = int(y.sum())
    if n_pos < y.size:
        fpr, tpr, auc = _roc(y, score)
        ax_roc.plot(fpr, tpr, color=color, linewidth=1.8, label=f"{name} (AUC {auc:.3f})")
    else:
        ax_roc.plot([], [], " ", label=f"{name}: no negatives, ROC undefined")
    recall, precision, ap = _pr(y, score)
    ax_pr.plot(
        recall,
        precision,
        drawstyle="steps-pre",
        color=color,
        linewidth=1.8,
        label=f"{name} (AP {ap:.3f})",
    )
    rate = n_pos / y.size
    baseline_label = f"baseline: positive rate {rate:.2f}" if binary else None
    ax_pr.axhline(rate, color=color, linestyle="--", linewidth=1, alpha=0.6, label=baseline_label)
    return auc, ap


# --------------------------------------------------------------------------- sample grid


def plot_sample_grid(
    images: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    confidence: np.ndarray,
    class_names: list[str],
    max_images: int = 25,
    paths: list[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Near-square grid of predictions, misclassified first, so errors are eyeballed first.

    ``images`` is (N, H, W, 3) uint8 RGB or float in [0, 1] (grayscale (N, H, W[, 1]) also
    works). Misclassified samples come first, then the correct ones, each group in input order;
    at most ``max_images`` are shown. Each title reads ``"true: X\\npred: Y (0.93)"`` in red
    (wrong) or green (right), and the frame has the same colour; ``paths`` adds the file name
    under each image.
    """
    if max_images < 1:
        raise ValueError("max_images must be >= 1")
    y_true = np.asarray(y_true).astype(int).ravel()
    y_pred = np.asarray(y_pred).astype(int).ravel()
    confidence = np.asarray(confidence, dtype=float).ravel()
    images = _to_displayable(images)
    n = images.shape[0] if images.ndim >= 3 else 0
    if not (len(y_true) == len(y_pred) == len(confidence) == n):
        raise ValueError(
            f"length mismatch: images {n}, y_true {len(y_true)}, y_pred {len(y_pred)}, "
            f"confidence {len(confidence)}"
        )
    if paths is not None and len(paths) != n:
        raise ValueError(f"{len(paths)} paths for {n} images")

    wrong = y_true != y_pred
    order = np.argsort(~wrong, kind="stable")[:max_images]  # wrong (False after ~) first
    k = len(order)
    ncols = max(math.ceil(math.sqrt(k)), 1)
    nrows = max(math.ceil(k / ncols), 1)
    cell_h = 2.75 if paths is not None else 2.5  # image + 2-line title (+ file name), no overlap
    fig = Figure(figsize=(2.1 * ncols + 0.3, cell_h * nrows + 0.5), constrained_layout=True)
    fig.suptitle(title or f"{k} of {n} shown, {int(wrong.sum())} misclassified", fontsize="large")
    if k == 0:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no images", ha="center", va="center")
        ax.set_axis_off()
        return _literal_text(fig)

    def name(label: int) -> str:
        return str(class_names[label]) if 0 <= label < len(class_names) else str(label)

    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, idx in zip(axes, order, strict=False):  # spare cells stay empty
        color = _WRONG_COLOR if wrong[idx] else _RIGHT_COLOR
        image = images[idx]
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None, interpolation="nearest")
        ax.set_title(
            f"true: {name(y_true[idx])}\npred: {name(y_pred[idx])} ({confidence[idx]:.2f})",
            color=color,
            fontsize=9,
        )
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_edgecolor(color)
            spine.set_linewidth(2.5 if wrong[idx] else 1.2)
        if paths is not None:
            ax.set_xlabel(_short_name(paths[idx], 24, 10), fontsize=7)
    for ax in axes[k:]:
        ax.set_axis_off()
    legend_handles = [
        Line2D([], [], color=_WRONG_COLOR, linewidth=3, label="misclassified"),
        Line2D([], [], color=_RIGHT_COLOR, linewidth=3, label="correct"),
    ]
    if k < len(axes):  # use an empty cell for the key; otherwise rely on the coloured titles
        axes[-1].legend(handles=legend_handles, loc="center", frameon=False)
    return _literal_text(fig)


# --------------------------------------------------------------------------- calibration


def plot_calibration(
    y_true: np.ndarray,
    probs: np.ndarray,
    class_names: list[str],
    n_bins: int = ECE_BINS,
    uncalibrated: np.ndarray | None = None,
) -> Figure:
    """Reliability diagram: is a prediction made with confidence 0.8 right 80% of the time?

    Accuracy against the confidence of the predicted class (``evaluate.top_label``: binary
    max(p, 1-p), multiclass the top probability) in ``n_bins`` equal-width bins, the bins the
    expected calibration error (ECE, in the title) is computed over. On the diagonal the model
    is calibrated; below it, over-confident. The lower panel counts the predictions per bin
    (where the diagram is trustworthy). ``uncalibrated``: the same predictions before
    temperature scaling, drawn grey for comparison.
    """
    conf, right = top_label(y_true, probs)
    mean_conf, accuracy, counts, ece = calibration_bins(conf, right, n_bins)
    fig = Figure(figsize=(6.2, 6.4), constrained_layout=True)
    grid = fig.add_gridspec(2, 1, height_ratios=[3.2, 1.1])
    ax = fig.add_subplot(grid[0])
    hist = fig.add_subplot(grid[1], sharex=ax)
    ax.plot([0, 1], [0, 1], linestyle="--", color="0.6", linewidth=1, label="perfectly calibrated")
    title = f"Reliability diagram: ECE {ece:.3f} ({n_bins} bins, n={len(conf)})"
    label = f"model (ECE {ece:.3f})"
    if uncalibrated is not None:
        raw_conf, raw_right = top_label(y_true, uncalibrated)
        raw_mean, raw_acc, _, raw_ece = calibration_bins(raw_conf, raw_right, n_bins)
        ok = ~np.isnan(raw_mean)
        ax.plot(
            raw_mean[ok],
            raw_acc[ok],
            marker="s",
            color="0.55",
            linewidth=1.2,
            label=f"before temperature scaling (ECE {raw_ece:.3f})",
        )
        title = (
            f"Reliability diagram: ECE {ece:.3f} (was {raw_ece:.3f}; {n_bins} bins, n={len(conf)})"
        )
        label = f"temperature-scaled (ECE {ece:.3f})"
    ok = counts > 0
    ax.plot(
        mean_conf[ok],
        accuracy[ok],
        marker="o",
        color="tab:blue",
        linewidth=1.8,
        label=label,
    )
    # The top class of C classes has confidence >= 1/C: start at the bin holding 1/C.
    low = math.floor(n_bins / max(len(class_names), 2)) / n_bins
    ax.set_ylabel("accuracy (fraction right)")
    ax.set_xlim(low - 0.01, 1.01)
    ax.set_ylim(-0.01, 1.03)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")  # clear of the points, wherever they lie
    ax.set_title(title, fontsize="medium")
    ax.tick_params(labelbottom=False)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    hist.bar(edges[:-1], counts, width=1.0 / n_bins, align="edge", color="tab:blue", alpha=0.5)
    for left, n in zip(edges[:-1], counts, strict=True):
        if n:
            hist.annotate(
                f"{int(n)}",
                (left + 0.5 / n_bins, n),
                ha="center",
                va="bottom",
                fontsize="x-small",
            )
    hist.set_ylim(0, max(float(counts.max()), 1.0) * 1.25)
    hist.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
    hist.set_xlabel("confidence of the predicted class")
    hist.set_ylabel("count")
    hist.grid(alpha=0.3)
    return _literal_text(fig)


# --------------------------------------------------------------------------- threshold sweep


def threshold_sweep(
    y_true: np.ndarray, score: np.ndarray, thresholds: np.ndarray
) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and accuracy of ``score >= t`` (positive = 1) at each threshold.

    Precision is NaN where nothing is predicted positive.
    """
    y = np.asarray(y_true).astype(int).ravel() == 1
    score = np.asarray(score, dtype=float).ravel()
    pred = score[None, :] >= np.asarray(thresholds, dtype=float)[:, None]
    tp = (pred & y).sum(axis=1).astype(float)
    fp = (pred & ~y).sum(axis=1).astype(float)
    fn = (~pred & y).sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        f1 = np.where(tp > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    accuracy = (pred == y).mean(axis=1) if y.size else np.full(len(thresholds), np.nan)
    return {"precision": precision, "recall": recall, "f1": f1, "accuracy": accuracy}


def plot_threshold(
    y_true: np.ndarray, probs: np.ndarray, class_names: list[str], threshold: float = 0.5
) -> Figure:
    """Precision, recall, F1 and accuracy against the decision threshold (binary models).

    Shows what moving ``trainer.threshold`` (or ``--threshold``) would trade; the threshold in
    use is marked. Multiclass models get accuracy and coverage against a minimum confidence.
    """
    y_true = np.asarray(y_true).astype(int).ravel()
    probs = np.asarray(probs, dtype=float)
    if probs.ndim == 2 and probs.shape[1] == 2 and len(class_names) == 2:
        probs = probs[:, 1]
    thresholds = np.linspace(0.0, 1.0, 201)
    fig = Figure(figsize=(7.2, 5.0), layout="constrained")
    ax = fig.add_subplot()
    if probs.ndim == 1:
        sweep = threshold_sweep(y_true, probs, thresholds)
        for key, color in (
            ("precision", "tab:blue"),
            ("recall", "tab:orange"),
            ("f1", "tab:green"),
            ("accuracy", "0.35"),
        ):
            style = "--" if key == "accuracy" else "-"
            ax.plot(thresholds, sweep[key], style, color=color, linewidth=1.8, label=_pretty(key))
        positive = class_names[1]
        ax.set_xlabel(f"threshold on P({positive})  (predict {positive} when P >= threshold)")
        ax.set_title(f"Precision / recall vs threshold (positive class: {positive})")
        at = threshold_sweep(y_true, probs, np.asarray([threshold]))
        note = f"in use: {threshold:g} (P {at['precision'][0]:.2f}, R {at['recall'][0]:.2f})"
    else:
        conf = probs.max(axis=1)
        right = probs.argmax(axis=1) == y_true
        kept = conf[None, :] >= thresholds[:, None]
        coverage = kept.mean(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            acc = (kept & right[None, :]).sum(axis=1) / kept.sum(axis=1)
        ax.plot(thresholds, acc, color="tab:blue", linewidth=1.8, label="accuracy of kept")
        ax.plot(thresholds, coverage, color="tab:orange", linewidth=1.8, label="coverage (kept)")
        ax.set_xlabel("minimum confidence to keep a prediction")
        ax.set_title("Accuracy / coverage vs confidence threshold (multiclass)")
        note = "argmax decision (no threshold)"
    ax.axvline(threshold if probs.ndim == 1 else 0.0, color="0.3", linestyle=":", label=note)
    ax.set_ylabel("score")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(-0.02, 1.05)
    ax.grid(alpha=0.3)
    fig.legend(loc="outside lower center", fontsize="small", ncol=3, frameon=False)
    return _literal_text(fig)
