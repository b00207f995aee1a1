"""Grad-CAM figures: where the evidence for the predicted class is, next to the input.

The maths (heatmaps, overlays) lives in :mod:`happysad.insight.gradcam`, which never imports
figures; this module only draws.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from happysad.insight.figures.common import (
    _RIGHT_COLOR,
    _WRONG_COLOR,
    _literal_text,
    _short_name,
    _to_displayable,
)
from happysad.insight.gradcam import overlay


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

    ``overlays`` are uint8 RGB images (``happysad.insight.gradcam.overlay``); red marks where the
    evidence for the *predicted* class is. Misclassified pairs are framed red, correct ones green.
    """
    images = _to_displayable(images)
    n = len(overlays)
    if n == 0:
        fig = Figure(figsize=(5, 2), constrained_layout=True)
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no images to explain", ha="center", va="center")
        ax.set_axis_off()
        return _literal_text(fig)
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
            sf.supxlabel(_short_name(paths[k], 30, 12), fontsize=7)
    return _literal_text(fig)


def plot_explanation(
    image: np.ndarray,
    heatmap: np.ndarray,
    class_name: str | None,
    probability: float | None,
    layer_name: str = "",
    path: str | None = None,
) -> Figure:
    """One prediction explained: the model's input and its Grad-CAM overlay, side by side."""
    fig = Figure(figsize=(6.0, 3.5), constrained_layout=True)
    title = f"predicted: {class_name}"
    if probability is not None:
        title += f" ({probability:.2f})"
    if path:
        title += f"\n{_short_name(path, 48, 20)}"
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
    return _literal_text(fig)
