"""The run's insight artifacts, called from the training job after evaluation.

- ``face_crop_notes``: which images had no detectable face (used whole): appended to the
  cleaning report and written in full to ``data/face_crop.csv``.
- ``make_insight``: calibration and threshold plots, the Grad-CAM grid, the most-wrong
  examples and the HTML report (``report.html``), each saved in the run dir and logged.

Kept out of ``train.py`` so the job stays a readable list of steps.
"""

from __future__ import annotations

import csv
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)

FALLBACK_ACTION = "used whole image"
FALLBACK_REASON = "face_crop: no face found"
_DEFAULTS = {
    "gradcam": True,
    "gradcam_layer": None,
    "gradcam_images": 16,
    "report": True,
    "report_examples": 12,
}


def settings(cfg: DictConfig) -> dict[str, Any]:
    """insight.* with defaults (the group is optional in older configs)."""
    given = cfg.get("insight")
    return {**_DEFAULTS, **(OmegaConf.to_container(given) if given is not None else {})}


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
    with (data_dir / "face_crop.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["relpath", "class_name", "split", "face_found", "x", "y", "w", "h"])
        for s, boxes in faces.items():
            if boxes is None:
                continue
            found = 0
            for rec, box in zip(splits[s], boxes, strict=True):
                ok = bool(box[2] > 0)
                found += ok
                w.writerow([rec.relpath, rec.class_name, s, int(ok), *(int(v) for v in box)])
                if not ok:
                    fallback.append((rec.path, rec.class_name))
            per_split[s] = [found, len(boxes)]
    report = data_dir / "cleaning_report.csv"
    new_file = not report.is_file()
    with report.open("a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["path", "class_name", "reason", "action"])
        if new_file:
            w.writeheader()
        for path, cls in fallback:
            w.writerow(
                {
                    "path": path,
                    "class_name": cls,
                    "reason": FALLBACK_REASON,
                    "action": FALLBACK_ACTION,
                }
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
    if not path.is_file():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _key_settings(cfg: DictConfig, model: Any, epochs_run: int) -> dict[str, Any]:
    d = cfg.data
    aug = [str(a.get("_target_", "?")).rsplit(".", 1)[-1] for a in (d.get("augment") or [])]
    cbs = [k for k, v in (cfg.callbacks or {}).items() if v is not None]
    return {
        "data": f"{d.source}: {d.root}",
        "image size / channels": f"{list(d.image_size)} / {d.channels}"
        + (" (letterboxed)" if d.keep_aspect else ""),
        "face crop": f"on, margin {d.get('face_margin', 0.25)}" if d.get("face_crop") else "off",
        "augmentation (train only)": ", ".join(aug) or "none",
        "model": f"{cfg.model.name}: {len(cfg.model.layers)} layers, "
        f"{model.count_params():,} parameters",
        "optimizer": f"{str(cfg.optimizer._target_).rsplit('.', 1)[-1]}, lr {cfg.optimizer.lr}",
        "epochs": f"{epochs_run} run of {cfg.trainer.epochs} max",
        "batch size": d.batch_size,
        "decision threshold": cfg.trainer.threshold,
        "callbacks": ", ".join(cbs) or "none",
        "seed": cfg.get("seed"),
    }


def most_wrong(y_true: np.ndarray, probs: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k examples with the lowest probability for their true class."""
    y = np.asarray(y_true).astype(int)
    p = np.asarray(probs, dtype=float)
    p_true = np.where(y == 1, p, 1.0 - p) if p.ndim == 1 else p[np.arange(len(y)), y]
    return np.argsort(p_true, kind="stable")[:k]


def make_insight(
    *,
    cfg: DictConfig,
    model: Any,
    ev: Any,
    images: np.ndarray,
    paths: list[str],
    class_names: list[str],
    eval_split: str,
    hist: dict[str, list[float]],
    run_dir: str | Path,
    splits: Any,
    scan_summary: str,
    face_summary: dict | None,
    run_id: str | None,
    run_name: str,
    epochs_run: int,
) -> dict[str, Path]:
    """Make the plots and the report in run_dir; return {artifact kind: file} to log."""
    from happysad.insight import figures as plots

    opts = settings(cfg)
    run_dir = Path(run_dir)
    plot_dir = run_dir / "plots"
    made: dict[str, Path] = {}
    threshold = float(cfg.trainer.threshold)
    made["calibration"] = plots.save_figure(
        plots.plot_calibration(ev.y_true, ev.probs, class_names), plot_dir / "calibration.png"
    )
    made["threshold"] = plots.save_figure(
        plots.plot_threshold(ev.y_true, ev.probs, class_names, threshold),
        plot_dir / "threshold.png",
    )
    notes: list[str] = []
    if opts["gradcam"] and len(images):
        from happysad.insight.gradcam import GradCamError, gradcam, overlay, select_samples

        idx = select_samples(
            ev.y_true, ev.y_pred, ev.confidence, int(opts["gradcam_images"]), len(class_names)
        )
        try:
            t0 = time.time()
            heat, _, _, layer = gradcam(
                model,
                images[idx],
                ev.y_pred[idx],
                opts["gradcam_layer"],
                threshold=threshold,
            )
            overlays = np.stack([overlay(images[i], h) for i, h in zip(idx, heat, strict=True)])
            made["gradcam"] = plots.save_figure(
                plots.plot_gradcam_grid(
                    images[idx],
                    overlays,
                    ev.y_true[idx],
                    ev.y_pred[idx],
                    ev.confidence[idx],
                    class_names,
                    layer_name=layer,
                    paths=[paths[i] for i in idx],
                ),
                plot_dir / "gradcam.png",
            )
            log.info(
                "Grad-CAM at layer %s for %d images (%.1f s)", layer, len(idx), time.time() - t0
            )
        except GradCamError as err:
            log.warning("no Grad-CAM: %s", err)
            notes.append(f"No Grad-CAM: {err}")
    if opts["report"]:
        k = int(opts["report_examples"])
        if k and len(images):
            worst = most_wrong(ev.y_true, ev.probs, k)
            made["most_wrong"] = plots.save_figure(
                plots.plot_sample_grid(
                    images[worst],
                    ev.y_true[worst],
                    ev.y_pred[worst],
                    ev.confidence[worst],
                    class_names,
                    max_images=k,
                    paths=[paths[i] for i in worst],
                    title=f"Highest-loss {eval_split} images "
                    f"({int((ev.y_true != ev.y_pred).sum())} misclassified in all)",
                ),
                plot_dir / "most_wrong.png",
            )
        made["report"] = write_run_report(
            cfg=cfg,
            model=model,
            ev=ev,
            class_names=class_names,
            eval_split=eval_split,
            run_dir=run_dir,
            splits=splits,
            scan_summary=scan_summary,
            face_summary=face_summary,
            run_id=run_id,
            run_name=run_name,
            epochs_run=epochs_run,
            notes=notes,
        )
    return made


def write_run_report(
    *,
    cfg: DictConfig,
    model: Any,
    ev: Any,
    class_names: list[str],
    eval_split: str,
    run_dir: Path,
    splits: Any,
    scan_summary: str,
    face_summary: dict | None,
    run_id: str | None,
    run_name: str,
    epochs_run: int,
    notes: list[str],
) -> Path:
    from happysad.insight.report import ReportInputs, write_report

    plot_dir = run_dir / "plots"
    names = ("curves", "confusion_matrix", "roc_pr", "calibration", "threshold", "gradcam")
    plot_files = {k: plot_dir / f"{k}.png" for k in (*names, "most_wrong")}
    if len(ev.y_true) and not (ev.y_true != ev.y_pred).any():
        notes.append(f"No {eval_split} image is misclassified: 'most-wrong' shows the least sure.")
    resolved = OmegaConf.to_container(cfg, resolve=True)
    inputs = ReportInputs(
        title=f"happysad run report: {cfg.model.name}",
        class_names=class_names,
        metrics=dict(ev.metrics),
        eval_split=eval_split,
        run_id=run_id,
        run_name=run_name,
        created=time.strftime("%Y-%m-%d %H:%M:%S"),
        settings=_key_settings(cfg, model, epochs_run),
        config_yaml=OmegaConf.to_yaml(resolved),
        split_counts=splits.counts(),
        scan_summary=scan_summary,
        split_summary=splits.summary(),
        rejected=_read_csv(run_dir / "data" / "cleaning_report.csv"),
        duplicates=_read_csv(run_dir / "data" / "duplicates.csv"),
        face_crop=face_summary,
        plots={k: p for k, p in plot_files.items() if p.is_file()},
        notes=notes,
    )
    return write_report(run_dir / "report.html", inputs)
