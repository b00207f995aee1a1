"""Training-history figure: train vs validation per epoch, so over/underfitting is obvious."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from happysad.insight.figures.common import _PRETTY, _literal_text, _pretty

_LR_KEYS = ("learning_rate", "lr")


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
        _family_panel(fig.add_subplot(grid[i // ncols, i % ncols]), history, base, n_epochs)

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
    return _literal_text(fig)


def _family_panel(ax: Any, history: dict[str, list[float]], base: str, n_epochs: int) -> None:
    """One metric family: train and val curves, plus the best val-loss epoch on the loss panel."""
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


def _epoch_axis(ax: Any, n_epochs: int) -> None:
    """Integer epoch ticks starting at 1, with a half-epoch margin so 1-epoch runs look sane."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlim(0.5, max(n_epochs, 1) + 0.5)
