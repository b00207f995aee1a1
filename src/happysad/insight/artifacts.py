"""The run's insight artifacts: the evaluation figures, the face-crop notes and the HTML report.

- ``draw_evaluation``: every figure of an evaluation (confusion matrix, ROC/PR, samples,
  calibration, threshold, Grad-CAM, most-wrong examples, and the training curves when there is
  a history). The training job and ``happysad-eval`` both call it, so a re-evaluated model gets
  the same pictures as its run. Each figure is best-effort: one that fails is a warning and a
  note, never a failed run.
- ``face_crop_notes``: which images had no detectable face (used whole): appended to the
  cleaning report and written in full to ``data/face_crop.csv``.
- ``write_run_report``: the one-page ``report.html`` of a training run.

Kept out of the training job so the job stays a readable list of steps.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from omegaconf import DictConfig, OmegaConf

from happysad.data.scan import Rejected, write_cleaning_report
from happysad.errors import csv_row, redact, redact_text
from happysad.insight import figures as plots
from happysad.paths import open_listing

if TYPE_CHECKING:
    from happysad.evaluate import Evaluation

log = logging.getLogger(__name__)

FALLBACK_ACTION = "used whole image"
FALLBACK_REASON = "face_crop: no face found"


def face_crop_notes(
    splits: Any, faces: dict[str, np.ndarray | None], data_dir: str | Path
) -> dict | None:
    """Write data/face_crop.csv, add the no-face images to data/cleaning_report.csv.

    Returns {"per_split": {split: [found, total]}, "fallback": [relpath, ...]}, or None when
    face cropping is off.
    """
    if all(v is None for v in faces.values()):
        return None
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    per_split: dict[str, list[int]] = {}
    fallback: list[tuple[str, str]] = []
    with open_listing(data_dir / "face_crop.csv") as fh:
        w = csv.writer(fh)
        w.writerow(["relpath", "class_name", "split", "face_found", "x", "y", "w", "h"])
        for s, boxes in faces.items():
            if boxes is None:
                continue
            found = 0
            for rec, box in zip(splits[s], boxes, strict=True):
                ok = bool(box[2] > 0)
                found += ok
                w.writerow(
                    csv_row([rec.relpath, rec.class_name, s, int(ok), *(int(v) for v in box)])
                )
                if not ok:
                    fallback.append((rec.path, rec.class_name))
            per_split[s] = [found, len(boxes)]
    write_cleaning_report(
        data_dir / "cleaning_report.csv",
        (Rejected(path, cls, FALLBACK_REASON, FALLBACK_ACTION) for path, cls in fallback),
        append=True,
    )
    total = sum(n for _, n in per_split.values())
    found = sum(f for f, _ in per_split.values())
    log.info(
        "face crop: a face was found in %d of %d images; %d used whole (data/face_crop.csv)",
        found,
        total,
        len(fallback),
    )
    return {"per_split": per_split, "fallback": [p for p, _ in fallback]}


def _read_csv(path: Path) -> list[dict]:
    """The rows of a CSV the run wrote, or none when it did not write one."""
    if not path.is_file():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _key_settings(
    cfg: DictConfig, model: Any, epochs_run: int, calibration: str = "none"
) -> dict[str, Any]:
    """The settings a reader of the report needs first, in reading order."""
    d = cfg.data
    aug = [str(a.get("_target_", "?")).rsplit(".", 1)[-1] for a in d.augment]
    cbs = [k for k, v in (cfg.callbacks or {}).items() if v is not None]
    return {
        "data": f"{d.source}: {d.root}",
        "image size / channels": f"{list(d.image_size)} / {d.channels}"
        + (" (letterboxed)" if d.keep_aspect else ""),
        "face crop": f"on, margin {d.face_margin}" if d.face_crop else "off",
        "augmentation (train only)": ", ".join(aug) or "none",
        "model": f"{cfg.model.name}: {len(cfg.model.layers)} layers, "
        f"{model.count_params():,} parameters",
        "optimizer": f"{str(cfg.optimizer._target_).rsplit('.', 1)[-1]}, lr {cfg.optimizer.lr}",
        "epochs": f"{epochs_run} run of {cfg.trainer.epochs} max",
        "batch size": d.batch_size,
        "decision threshold": cfg.trainer.threshold,
        "calibration": calibration,
        "callbacks": ", ".join(cbs) or "none",
        "seed": cfg.get("seed"),
    }


def most_wrong(y_true: np.ndarray, probs: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k examples with the lowest probability for their true class."""
    y = np.asarray(y_true).astype(int)
    p = np.asarray(probs, dtype=float)
    p_true = np.where(y == 1, p, 1.0 - p) if p.ndim == 1 else p[np.arange(len(y)), y]
    return np.argsort(p_true, kind="stable")[:k]


@dataclass
class EvalFigures:
    """What the figures of one evaluation are drawn from, and which optional ones to draw."""

    ev: Evaluation  # ev.class_names holds the names
    images: np.ndarray  # uint8 images of the evaluated split
    paths: list[str]  # their relative paths (for labels)
    plot_dir: Path  # where the PNGs go
    threshold: float
    eval_split: str = "test"
    history: dict[str, list[float]] | None = None  # per-epoch metrics; None skips curves.png
    model: Any = None  # the Keras model; None skips Grad-CAM
    gradcam: bool = True
    gradcam_layer: str | None = None
    gradcam_images: int = 16
    most_wrong: int = 12  # 0 skips most_wrong.png
    # ev.probs before temperature scaling (model.calibration=temperature), drawn beside them
    uncalibrated: np.ndarray | None = None


def draw_evaluation(inp: EvalFigures) -> tuple[dict[str, Path], list[str]]:
    """All figures of an evaluation, each best-effort: returns (kind -> file made, notes such as
    'No Grad-CAM: ...').

    A kind is the file's stem in ``inp.plot_dir`` (``confusion_matrix`` -> confusion_matrix.png).
    A figure that cannot be built or saved is logged, noted and left out of the result, so the
    caller goes on to save its model whatever happens here.
    """
    ev, names = inp.ev, inp.ev.class_names
    made: dict[str, Path] = {}
    notes: list[str] = []

    def draw(kind: str, build: Callable[[], Figure]) -> None:
        try:
            path = plots.save_figure(build(), Path(inp.plot_dir) / f"{kind}.png")
        except Exception as err:
            log.warning("no %s figure: %s: %s", kind, type(err).__name__, err, exc_info=True)
            path = None
        if path is None:
            notes.append(f"No {kind.replace('_', ' ')} figure (see the run's log).")
        else:
            made[kind] = path

    if inp.history is not None:
        draw("curves", lambda: plots.plot_history(inp.history or {}))
    draw("confusion_matrix", lambda: plots.plot_confusion_matrix(ev.confusion, names))
    draw("roc_pr", lambda: plots.plot_roc_pr(ev.y_true, ev.probs, names))
    draw(
        "samples",
        lambda: plots.plot_sample_grid(
            inp.images, ev.y_true, ev.y_pred, ev.confidence, names, paths=inp.paths
        ),
    )
    draw(
        "calibration",
        lambda: plots.plot_calibration(ev.y_true, ev.probs, names, uncalibrated=inp.uncalibrated),
    )
    draw("threshold", lambda: plots.plot_threshold(ev.y_true, ev.probs, names, inp.threshold))
    if inp.gradcam and inp.model is not None and len(inp.images):
        try:
            grid = _gradcam_figure(inp)
        except Exception as err:
            log.warning("no Grad-CAM: %s", err, exc_info=not _is_gradcam_error(err))
            notes.append(f"No Grad-CAM: {err}")
        else:
            draw("gradcam", lambda: grid)
    if inp.most_wrong and len(inp.images):
        draw("most_wrong", lambda: _most_wrong_figure(inp))
    return made, notes


def _is_gradcam_error(err: Exception) -> bool:
    """A model Grad-CAM cannot explain (an expected case) rather than a bug worth a traceback."""
    from happysad.insight.gradcam import GradCamError

    return isinstance(err, GradCamError)


def _gradcam_figure(inp: EvalFigures) -> Figure:
    """The Grad-CAM grid of a few evaluated images of every class, right and wrong."""
    from happysad.insight.gradcam import gradcam, overlay, select_samples

    ev, names, images = inp.ev, inp.ev.class_names, inp.images
    idx = select_samples(ev.y_true, ev.y_pred, ev.confidence, int(inp.gradcam_images), len(names))
    t0 = time.time()
    heat, _, _, layer = gradcam(
        inp.model, images[idx], ev.y_pred[idx], inp.gradcam_layer, threshold=inp.threshold
    )
    overlays = np.stack([overlay(images[i], h) for i, h in zip(idx, heat, strict=True)])
    log.info("Grad-CAM at layer %s for %d images (%.1f s)", layer, len(idx), time.time() - t0)
    return plots.plot_gradcam_grid(
        images[idx],
        overlays,
        ev.y_true[idx],
        ev.y_pred[idx],
        ev.confidence[idx],
        names,
        layer_name=layer,
        paths=[inp.paths[i] for i in idx],
    )


def _most_wrong_figure(inp: EvalFigures) -> Figure:
    """The evaluated images with the highest loss, to see what the model gets most wrong."""
    ev, k = inp.ev, int(inp.most_wrong)
    worst = most_wrong(ev.y_true, ev.probs, k)
    return plots.plot_sample_grid(
        inp.images[worst],
        ev.y_true[worst],
        ev.y_pred[worst],
        ev.confidence[worst],
        ev.class_names,
        max_images=k,
        paths=[inp.paths[i] for i in worst],
        title=f"Highest-loss {inp.eval_split} images "
        f"({int((ev.y_true != ev.y_pred).sum())} misclassified in all)",
    )


@dataclass
class ReportContext:
    """What the run report shows besides the figures already in ``run_dir/plots``."""

    cfg: DictConfig
    model: Any
    ev: Evaluation
    eval_split: str
    run_dir: Path
    splits: Any
    scan_summary: str
    face_summary: dict | None
    run_id: str | None
    run_name: str
    epochs_run: int
    notes: list[str]
    calibration: str = "none"  # model.calibration, as the config summary shows it


def write_run_report(ctx: ReportContext) -> Path:
    """Write ``report.html`` in ``ctx.run_dir``, embedding whichever plots were made."""
    from happysad.insight.report import ReportInputs, write_report

    run_dir = Path(ctx.run_dir)
    plot_dir = run_dir / "plots"
    names = ("curves", "confusion_matrix", "roc_pr", "calibration", "threshold", "gradcam")
    plot_files = {k: plot_dir / f"{k}.png" for k in (*names, "most_wrong")}
    ev, cfg, notes = ctx.ev, ctx.cfg, ctx.notes
    if len(ev.y_true) and not (ev.y_true != ev.y_pred).any():
        notes.append(
            f"No {ctx.eval_split} image is misclassified: 'most-wrong' shows the least sure."
        )
    resolved = redact(OmegaConf.to_container(cfg, resolve=True))
    inputs = ReportInputs(
        title=f"happysad run report: {cfg.model.name}",
        class_names=list(ev.class_names),
        metrics=dict(ev.metrics),
        eval_split=ctx.eval_split,
        run_id=ctx.run_id,
        run_name=redact_text(ctx.run_name),
        created=time.strftime("%Y-%m-%d %H:%M:%S"),
        settings=redact(_key_settings(cfg, ctx.model, ctx.epochs_run, ctx.calibration)),
        config_yaml=OmegaConf.to_yaml(resolved),
        split_counts=ctx.splits.counts(),
        scan_summary=ctx.scan_summary,
        split_summary=ctx.splits.summary(),
        rejected=_read_csv(run_dir / "data" / "cleaning_report.csv"),
        duplicates=_read_csv(run_dir / "data" / "duplicates.csv"),
        face_crop=ctx.face_summary,
        plots={k: p for k, p in plot_files.items() if p.is_file()},
        notes=notes,
    )
    return write_report(run_dir / "report.html", inputs)
