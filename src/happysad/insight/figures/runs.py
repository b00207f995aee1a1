"""Figures that compare runs (``happysad-compare --plot``): a metric against a param, and curves.

Drawn on a plain :class:`~matplotlib.figure.Figure` like every other figure, so comparing runs
needs no pyplot backend; the caller saves them with ``save_figure``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

from happysad.insight.figures.common import _literal_text
from happysad.tracking.compare import RunInfo, _finite, _value_of


def _as_number(v: str | None) -> float | None:
    """A param value as a number, or None for categorical values such as a model name."""
    try:
        return float(v) if v is not None else None
    except ValueError:
        return None


def plot_metric_vs_param(runs: Sequence[RunInfo], param: str, metric: str) -> Figure:
    """Scatter of ``metric`` against one param, to see which values of it work.

    Numeric params use a log x axis when they span more than 20x (learning rates); others are
    categories. Raises LookupError when no run has both the param and a finite metric.
    """
    pts = [(_value_of(r, param), r.metrics.get(metric)) for r in runs]
    pts = [(x, y) for x, y in pts if x is not None and _finite(y)]
    if not pts:
        raise LookupError(f"no run has both {param!r} and the metric {metric!r}")
    fig = Figure(figsize=(6, 4), constrained_layout=True)
    ax = fig.add_subplot()
    nums = [_as_number(x) for x, _ in pts]
    if all(n is not None for n in nums):
        xs = [float(n) for n in nums if n is not None]
        ax.scatter(xs, [y for _, y in pts])
        if min(xs) > 0 and max(xs) / min(xs) > 20:
            ax.set_xscale("log")
    else:
        cats = sorted({str(x) for x, _ in pts})
        ax.scatter([cats.index(str(x)) for x, _ in pts], [y for _, y in pts])
        ax.set_xticks(range(len(cats)), cats, rotation=20, ha="right")
    ax.set_xlabel(param)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} vs {param} ({len(pts)} runs)")
    ax.grid(alpha=0.3)
    return _literal_text(fig)


def plot_curves(client: Any, runs: Sequence[RunInfo], metric: str, labels: Sequence[str]) -> Figure:
    """Per-epoch ``metric`` of each run (e.g. val_accuracy of the top runs), one line per run.

    ``client`` is an MLflow client (its ``get_metric_history`` is all that is used). Raises
    LookupError when none of the runs has a history of ``metric``.
    """
    fig = Figure(figsize=(7, 4.5), constrained_layout=True)
    ax = fig.add_subplot()
    drawn = 0
    for r, label in zip(runs, labels, strict=False):
        hist = sorted(client.get_metric_history(r.run_id, metric), key=lambda m: m.step)
        if not hist:
            continue
        ax.plot([m.step for m in hist], [m.value for m in hist], marker="o", ms=3, label=label)
        drawn += 1
    if not drawn:
        raise LookupError(f"no per-epoch history of {metric!r} in these runs")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} per epoch, top {drawn} runs")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return _literal_text(fig)
