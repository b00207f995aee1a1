"""Matplotlib figures for a CNN classifier run (training curves, confusion matrix, ROC/PR, samples,
calibration, threshold sweep, Grad-CAM).

Every function builds a :class:`matplotlib.figure.Figure` directly instead of going through
``pyplot``: no global figure registry, no backend selection, nothing to ``close`` and safe to call
from worker threads (e.g. an MLflow logging callback or a serving endpoint). Figures use
``constrained_layout`` so titles, tick labels and legends do not overlap.

ROC and precision-recall curves are computed with numpy here (same definitions as scikit-learn's
``roc_curve`` / ``average_precision_score``) so this module only needs matplotlib and numpy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

__all__ = [
    "calibration_bins",
    "plot_calibration",
    "plot_confusion_matrix",
    "plot_explanation",
    "plot_gradcam_grid",
    "plot_history",
    "plot_roc_pr",
    "plot_sample_grid",
    "plot_threshold",
    "save_figure",
    "threshold_sweep",
]

_WRONG_COLOR = "#c62828"  # red, dark enough to read on white
_RIGHT_COLOR = "#2e7d32"  # green, dark enough to read on white
_LR_KEYS = ("learning_rate", "lr")
_PRETTY = {"auc": "AUC", "prc": "PR AUC", "mae": "MAE", "mse": "MSE", "rmse": "RMSE"}


# --------------------------------------------------------------------------- training history


def _pretty(name: str) -> str:
    """Human title for a Keras metric key: ``"top_k_accuracy"`` -> ``"Top k accuracy"``."""
    if name in _PRETTY:
        return _PRETTY[name]
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _history_families(history: dict[str, Sequence[float]]) -> list[str]:
    """Metric families worth a panel: loss and accuracy always, others only with train *and* val.

    Metrics without a validation counterpart (other than loss/accuracy) add panels without adding
    the one thing a reader looks for (the train/val gap), so they are left out.
    """
    bases: list[str] = []
    for key in history:
        base = key[4:] if key.startswith("val_") else key
        if base in _LR_KEYS or base in bases or len(history[key]) == 0:
            continue
        bases.append(base)
    families = [
        b
        for b in bases
        if b in ("loss", "accuracy")
        or (len(history.get(b, ())) > 0 and len(history.get(f"val_{b}", ())) > 0)
    ]
    head = [b for b in ("loss", "accuracy") if b in families]
    return head + [b for b in families if b not in head]


def plot_history(history: dict[str, list[float]]) -> Figure:
    """Train-vs-validation curves, one panel per metric family, so over/underfitting is obvious.

    ``history`` is Keras' ``History.history``. ``loss`` and ``accuracy`` always get a panel; other
    metrics only when both ``name`` and ``val_name`` exist. A ``learning_rate`` (or ``lr``) series
    gets its own log-scaled panel (a free grid cell, else a short row at the bottom). Epochs are
    numbered from 1 and every point has a marker, so a 1-epoch run still shows something. The best
    validation-loss epoch is marked when there is more than one epoch.
    """
    families = _history_families(history)
    lr_key = next((k for k in _LR_KEYS if len(history.get(k, ())) > 0), None)

    n = len(families)
    ncols = 2 if n == 4 else min(max(n, 1), 3)
    nrows = max(math.ceil(n / ncols), 1)
    lr_in_grid = lr_key is not None and n > 0 and n < nrows * ncols  # fill an empty cell
    lr_row = lr_key is not None and not lr_in_grid
    height_ratios = [1.0] * nrows + ([0.45] if lr_row else [])
    fig = Figure(
        figsize=(4.6 * ncols + 0.4, 3.4 * nrows + (1.7 if lr_row else 0.0)),
        constrained_layout=True,
    )
    grid = fig.add_gridspec(len(height_ratios), ncols, height_ratios=height_ratios)
    n_epochs = max((len(v) for v in history.values()), default=0)
    fig.suptitle(f"Training history ({n_epochs} epoch{'s' if n_epochs != 1 else ''})")

    if n == 0:
        ax = fig.add_subplot(grid[0, :])
        ax.text(0.5, 0.5, "no train/validation metrics recorded", ha="center", va="center")
        ax.set_axis_off()

    for i, base in enumerate(families):
        ax = fig.add_subplot(grid[i // ncols, i % ncols])
        for key, label, color in (
            (base, "train", "tab:blue"),
            (f"val_{base}", "val", "tab:orange"),
        ):
            values = np.asarray(history.get(key, ()), dtype=float)
            if values.size:
                epochs = np.arange(1, values.size + 1)
                ax.plot(epochs, values, marker="o", markersize=4, color=color, label=label)
        val_loss = np.asarray(history.get("val_loss", ()), dtype=float)
        if base == "loss" and n_epochs > 1 and np.isfinite(val_loss).any():
            best = int(np.nanargmin(np.where(np.isfinite(val_loss), val_loss, np.nan))) + 1
            ax.axvline(best, color="0.4", linestyle=":", label=f"best val (epoch {best})")
        ax.set_title(_pretty(base))
        ax.set_xlabel("epoch")
        ax.set_ylabel(_pretty(base).lower() if base not in _PRETTY else _PRETTY[base])
        _epoch_axis(ax, n_epochs)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")

    if lr_key:
        ax = fig.add_subplot(grid[n // ncols, n % ncols] if lr_in_grid else grid[-1, :])
        lr = np.asarray(history[lr_key], dtype=float)
        ax.plot(np.arange(1, lr.size + 1), lr, marker="o", markersize=3, color="tab:green")
        if np.all(lr[np.isfinite(lr)] > 0):
            ax.set_yscale("log")
        ax.set_title("Learning rate", fontsize="medium" if lr_row else "large")
        ax.set_xlabel("epoch")
        ax.set_ylabel("lr")
        _epoch_axis(ax, n_epochs)
        ax.grid(alpha=0.3, which="both")
    return fig


def _epoch_axis(ax, n_epochs: int) -> None:
    """Integer epoch ticks starting at 1, with a half-epoch margin so 1-epoch runs look sane."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlim(0.5, max(n_epochs, 1) + 0.5)


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
    return fig


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


def _class_colors(n: int) -> list[tuple[float, float, float, float]]:
    """Distinct colours: tab10 up to 10 classes, tab20 beyond."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def plot_roc_pr(y_true: np.ndarray, probs: np.ndarray, class_names: list[str]) -> Figure:
    """ROC and precision-recall panels, to judge ranking quality independently of the threshold.

    Binary: ``probs`` is (N,) = P(``class_names[1]``) (an (N, 2) array is also accepted) and one
    curve is drawn for that positive class. Multiclass: ``probs`` is (N, C) and each class gets a
    one-vs-rest curve. ROC legends carry the AUC and the chance diagonal; PR legends carry the
    average precision, with dashed baselines at each class's positive rate (a random ranker's AP).
    A class absent from ``y_true`` has no defined curve: it is skipped and listed in the legend
    instead of raising (likewise the ROC of a class that is *all* of ``y_true``).
    """
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
        score = probs if binary else probs[:, k]
        color = "tab:blue" if binary else colors[k]
        n_pos = int(y.sum())
        if n_pos == 0:
            skipped.append(name)
            for ax in (ax_roc, ax_pr):
                ax.plot([], [], " ", label=f"{name}: absent from y_true, skipped")
            continue
        if n_pos < y.size:
            fpr, tpr, auc = _roc(y, score)
            aucs.append(auc)
            ax_roc.plot(fpr, tpr, color=color, linewidth=1.8, label=f"{name} (AUC {auc:.3f})")
        else:
            ax_roc.plot([], [], " ", label=f"{name}: no negatives, ROC undefined")
        recall, precision, ap = _pr(y, score)
        aps.append(ap)
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
        ax_pr.axhline(
            rate, color=color, linestyle="--", linewidth=1, alpha=0.6, label=baseline_label
        )
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
    return fig


# --------------------------------------------------------------------------- sample grid


def _to_displayable(images: np.ndarray) -> np.ndarray:
    """Images as uint8 or float in [0, 1], grayscale squeezed, so ``imshow`` shows true colours."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if np.issubdtype(images.dtype, np.floating):
        finite_max = np.nanmax(images) if images.size else 0.0
        if finite_max > 1.5:  # float 0..255 slipped through: rescale rather than saturate
            images = images / 255.0
        return np.clip(np.nan_to_num(images), 0.0, 1.0)
    if images.dtype != np.uint8:
        return np.clip(images, 0, 255).astype(np.uint8)
    return images


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
        return fig

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
            file_name = Path(str(paths[idx])).name
            if len(file_name) > 24:
                file_name = file_name[:10] + "…" + file_name[-13:]
            ax.set_xlabel(file_name, fontsize=7)
    for ax in axes[k:]:
        ax.set_axis_off()
    legend_handles = [
        Line2D([], [], color=_WRONG_COLOR, linewidth=3, label="misclassified"),
        Line2D([], [], color=_RIGHT_COLOR, linewidth=3, label="correct"),
    ]
    if k < len(axes):  # use an empty cell for the key; otherwise rely on the coloured titles
        axes[-1].legend(handles=legend_handles, loc="center", frameon=False)
    return fig


# --------------------------------------------------------------------------- calibration


def _binary_or_top_label(
    y_true: np.ndarray, probs: np.ndarray, class_names: list[str]
) -> tuple[np.ndarray, np.ndarray, str, str]:
    """(score, outcome, x label, y label) for a reliability diagram.

    Binary: score = P(class_names[1]), outcome = (y == 1). Multiclass: score = confidence of
    the predicted class, outcome = prediction correct (top-label calibration).
    """
    y_true = np.asarray(y_true).astype(int).ravel()
    probs = np.asarray(probs, dtype=float)
    if probs.ndim == 2 and probs.shape[1] == 2 and len(class_names) == 2:
        probs = probs[:, 1]
    if probs.ndim == 1:
        pos = class_names[1]
        return (
            probs,
            (y_true == 1).astype(float),
            f"predicted P({pos})",
            f"observed fraction {pos}",
        )
    pred = probs.argmax(axis=1)
    return (
        probs.max(axis=1),
        (pred == y_true).astype(float),
        "confidence of the predicted class",
        "observed accuracy",
    )


def calibration_bins(
    score: np.ndarray, outcome: np.ndarray, n_bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Equal-width bins over [0, 1]: (mean score, observed rate, count) per bin, and the ECE.

    Empty bins are NaN (count 0). ECE = sum over bins of count/N * |observed - mean score|.
    """
    score = np.clip(np.asarray(score, dtype=float), 0.0, 1.0)
    outcome = np.asarray(outcome, dtype=float)
    which = np.minimum((score * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(which, minlength=n_bins).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_score = np.bincount(which, weights=score, minlength=n_bins) / counts
        observed = np.bincount(which, weights=outcome, minlength=n_bins) / counts
    total = counts.sum()
    gaps = np.where(counts > 0, np.abs(observed - mean_score), 0.0)
    ece = float((counts * gaps).sum() / total) if total else float("nan")
    return mean_score, observed, counts, ece


def plot_calibration(
    y_true: np.ndarray, probs: np.ndarray, class_names: list[str], n_bins: int = 10
) -> Figure:
    """Reliability diagram: do predicted probabilities match observed frequencies?

    Points on the diagonal are perfectly calibrated; below it the model is over-confident.
    The lower panel shows how many predictions fall in each bin (where the diagram is trustworthy).
    """
    score, outcome, xlabel, ylabel = _binary_or_top_label(y_true, probs, class_names)
    mean_score, observed, counts, ece = calibration_bins(score, outcome, n_bins)
    fig = Figure(figsize=(6.2, 6.4), constrained_layout=True)
    grid = fig.add_gridspec(2, 1, height_ratios=[3.2, 1.1])
    ax = fig.add_subplot(grid[0])
    hist = fig.add_subplot(grid[1], sharex=ax)
    ax.plot([0, 1], [0, 1], linestyle="--", color="0.6", linewidth=1, label="perfectly calibrated")
    ok = counts > 0
    ax.plot(
        mean_score[ok],
        observed[ok],
        marker="o",
        color="tab:blue",
        linewidth=1.8,
        label=f"model (ECE {ece:.3f})",
    )
    ax.set_ylabel(ylabel)
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.03)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    ax.set_title(f"Calibration (reliability diagram, {n_bins} bins, n={len(score)})")
    ax.tick_params(labelbottom=False)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    hist.bar(edges[:-1], counts, width=1.0 / n_bins, align="edge", color="tab:blue", alpha=0.5)
    hist.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
    hist.set_xlabel(xlabel)
    hist.set_ylabel("count")
    hist.grid(alpha=0.3)
    return fig


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
    return fig


# --------------------------------------------------------------------------- Grad-CAM


def plot_gradcam_grid(
    images: np.ndarray,
    overlays: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    confidence: np.ndarray,
    class_names: list[str],
    layer_name: str = "",
    paths: list[str] | None = None,
    pairs_per_row: int = 4,
) -> Figure:
    """Each sample as a pair (input | Grad-CAM overlay), titled true/pred like the sample grid.

    ``overlays`` are uint8 RGB images (``explain.overlay``); red marks where the evidence for
    the *predicted* class is. Misclassified pairs are framed red, correct ones green.
    """
    images = _to_displayable(images)
    n = len(overlays)
    if n == 0:
        fig = Figure(figsize=(5, 2), constrained_layout=True)
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no images to explain", ha="center", va="center")
        ax.set_axis_off()
        return fig
    y_true = np.asarray(y_true).astype(int).ravel()
    y_pred = np.asarray(y_pred).astype(int).ravel()
    ncols = min(pairs_per_row, n)
    nrows = math.ceil(n / ncols)
    cell_h = 2.25 if paths is not None else 2.05
    fig = Figure(figsize=(3.3 * ncols + 0.2, cell_h * nrows + 0.7), constrained_layout=True)
    wrong = int((y_true != y_pred).sum())
    where = f" at layer '{layer_name}'" if layer_name else ""
    fig.suptitle(
        f"Grad-CAM{where}: evidence for the predicted class (red = most); "
        f"{n} test images, {wrong} misclassified",
        fontsize="medium",
    )
    subfigs = np.atleast_1d(fig.subfigures(nrows, ncols, squeeze=False)).ravel()
    for k, sf in enumerate(subfigs):
        if k >= n:
            continue
        bad = y_true[k] != y_pred[k]
        color = _WRONG_COLOR if bad else _RIGHT_COLOR
        t_name = class_names[y_true[k]] if 0 <= y_true[k] < len(class_names) else y_true[k]
        p_name = class_names[y_pred[k]] if 0 <= y_pred[k] < len(class_names) else y_pred[k]
        sf.suptitle(
            f"true: {t_name}  pred: {p_name} ({float(confidence[k]):.2f})",
            color=color,
            fontsize=8.5,
        )
        ax_img, ax_cam = sf.subplots(1, 2)
        img = images[k]
        ax_img.imshow(img, cmap="gray" if img.ndim == 2 else None, interpolation="nearest")
        ax_cam.imshow(overlays[k], interpolation="nearest")
        for ax in (ax_img, ax_cam):
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_edgecolor(color)
                spine.set_linewidth(2.2 if bad else 1.0)
        if paths is not None:
            file_name = Path(str(paths[k])).name
            if len(file_name) > 30:
                file_name = file_name[:12] + "…" + file_name[-17:]
            sf.supxlabel(file_name, fontsize=7)
    return fig


def plot_explanation(
    image: np.ndarray,
    heatmap: np.ndarray,
    class_name: str | None,
    probability: float | None,
    layer_name: str = "",
    path: str | None = None,
) -> Figure:
    """One prediction explained: the model's input and its Grad-CAM overlay, side by side."""
    from happysad.insight.gradcam import overlay

    fig = Figure(figsize=(6.0, 3.5), constrained_layout=True)
    title = f"predicted: {class_name}"
    if probability is not None:
        title += f" ({probability:.2f})"
    if path:
        name = Path(str(path)).name
        title += f"\n{name if len(name) <= 48 else name[:20] + '…' + name[-27:]}"
    fig.suptitle(title, fontsize="medium")
    ax_img, ax_cam = fig.subplots(1, 2)
    shown = _to_displayable(np.asarray(image)[None])[0]
    ax_img.imshow(shown, cmap="gray" if shown.ndim == 2 else None, interpolation="nearest")
    ax_img.set_title("model input", fontsize="small")
    ax_cam.imshow(overlay(image, heatmap), interpolation="nearest")
    ax_cam.set_title(f"Grad-CAM ({layer_name})" if layer_name else "Grad-CAM", fontsize="small")
    for ax in (ax_img, ax_cam):
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


# --------------------------------------------------------------------------- saving


def save_figure(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix, PNG if none), creating parent folders.

    Returns the path so callers can hand it straight to an artifact logger.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, facecolor="white")
    return path
