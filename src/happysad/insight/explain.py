"""``happysad-predict --explain``: one Grad-CAM picture per predicted file.

Kept apart from :mod:`happysad.insight.gradcam` (the maths) because it draws: it needs both
the maths and the figures, and the figures need the maths, so only this module imports both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from happysad.insight import figures as plots
from happysad.insight.gradcam import gradcam


def explain_files(
    loaded: Any,
    predictions: list[Any],
    out_dir: str | Path,
    layer_name: str | None = None,
    batch_size: int = 32,
) -> dict[str, str]:
    """Write ``<out_dir>/<name>.gradcam.png`` (input | Grad-CAM overlay, titled with the
    prediction) for each successful prediction; return {input path: png path}.

    Pictures that cannot be drawn are left out of the result (``save_figure`` warns); a model
    without a usable layer raises ``GradCamError``.
    """
    from happysad.data.image import preprocess_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = loaded.metadata.class_names
    ok = [p for p in predictions if not p.error and p.class_name is not None]
    if not ok:
        return {}
    images = np.stack([preprocess_file(p.path, loaded.metadata.preprocessing) for p in ok])
    cls = [names.index(p.class_name) for p in ok]
    heat, _, _, layer = gradcam(loaded.keras_model, images, cls, layer_name, batch_size=batch_size)
    written: dict[str, str] = {}
    used: set[str] = set()
    for pred, img, hm in zip(ok, images, heat, strict=True):
        stem = Path(pred.path).stem
        name, k = f"{stem}.gradcam.png", 2
        while name in used:  # same file name in two folders
            name, k = f"{stem}_{k}.gradcam.png", k + 1
        used.add(name)
        fig = plots.plot_explanation(img, hm, pred.class_name, pred.probability, layer, pred.path)
        saved = plots.save_figure(fig, out / name)
        if saved is not None:
            written[pred.path] = str(saved)
    return written
