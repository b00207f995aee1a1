"""Matplotlib figures of a run, one module per family; every public name is re-exported here.

- ``training``: the train/validation history (``plot_history``).
- ``classification``: confusion matrix, ROC/PR, sample grid, calibration, threshold sweep.
- ``gradcam``: the Grad-CAM grid of an evaluation and one prediction explained.
- ``runs``: comparing runs (a metric against a param, per-epoch curves of several runs).
- ``common``: ``save_figure`` and what the families share.

Every function builds a :class:`matplotlib.figure.Figure` directly instead of going through
``pyplot`` (no global state, safe from worker threads) with ``constrained_layout``, and shows
file and class names literally (a ``$`` in a name is not mathtext). ``save_figure`` never
raises: a figure that cannot be drawn is a warning, not a failed run.
"""

from happysad.insight.figures.classification import (
    calibration_bins,
    plot_calibration,
    plot_confusion_matrix,
    plot_roc_pr,
    plot_sample_grid,
    plot_threshold,
    threshold_sweep,
)
from happysad.insight.figures.common import save_figure
from happysad.insight.figures.gradcam import plot_explanation, plot_gradcam_grid
from happysad.insight.figures.runs import plot_curves, plot_metric_vs_param
from happysad.insight.figures.training import plot_history

__all__ = [
    "calibration_bins",
    "plot_calibration",
    "plot_confusion_matrix",
    "plot_curves",
    "plot_explanation",
    "plot_gradcam_grid",
    "plot_history",
    "plot_metric_vs_param",
    "plot_roc_pr",
    "plot_sample_grid",
    "plot_threshold",
    "save_figure",
    "threshold_sweep",
]
