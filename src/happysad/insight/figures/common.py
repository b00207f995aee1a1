"""What every figure shares: colours, metric names, image conversion, literal text and saving.

Figures are built on :class:`matplotlib.figure.Figure` directly instead of ``pyplot``: no global
figure registry, no backend selection, nothing to ``close`` and safe to call from worker threads.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.text import Text

from happysad.paths import displayable

log = logging.getLogger(__name__)

_WRONG_COLOR = "#c62828"  # red, dark enough to read on white
_RIGHT_COLOR = "#2e7d32"  # green, dark enough to read on white
_PRETTY = {"auc": "AUC", "prc": "PR AUC", "mae": "MAE", "mse": "MSE", "rmse": "RMSE"}


def _pretty(name: str) -> str:
    """Human title for a Keras metric key: ``"top_k_accuracy"`` -> ``"Top k accuracy"``."""
    if name in _PRETTY:
        return _PRETTY[name]
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _class_colors(n: int) -> list[tuple[float, float, float, float]]:
    """Distinct colours: tab10 up to 10 classes, tab20 beyond."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


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


def _short_name(path: str, limit: int, head: int) -> str:
    """The file name of ``path``, cut in the middle to ``limit`` characters so labels stay short
    (undecodable bytes of the name shown as escapes: matplotlib refuses surrogates)."""
    name = displayable(Path(str(path)).name)
    if len(name) <= limit:
        return name
    return name[:head] + "…" + name[-(limit - 1 - head) :]


def _literal_text(fig: Figure) -> Figure:
    """Show every ``$`` in ``fig`` as a dollar sign, not as the start of mathtext.

    No label of ours is mathtext, so a ``$`` present when the figure is built came from the
    data (a file or class name such as ``cost_$5_to_$10.png``) and would otherwise fail to draw.
    Tick labels that formatters fill in at draw time (log-scale powers) are still empty here and
    keep their maths.
    """
    for text in fig.findobj(Text):
        if "$" in text.get_text():
            text.set_parse_math(False)
    return fig


def save_figure(fig: Figure, path: str | Path, dpi: int = 110) -> Path | None:
    """Write ``fig`` to ``path`` (format from the suffix, PNG if none), creating parent folders.

    Returns the path, so callers can hand it straight to an artifact logger, or None with a
    warning when the figure cannot be drawn or written: a figure is a by-product and must never
    cost a run its model. A half-written or stale file of that name is removed.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, facecolor="white")
    except Exception as err:
        detail = " ".join(str(err).split())[:300]  # mathtext errors span several lines
        log.warning("figure %s not written: %s: %s", path, type(err).__name__, detail)
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        return None
    return path
