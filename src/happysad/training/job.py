"""The training job: validated config -> data -> model -> fit -> evaluate -> MLflow.

A recipe of named stages (training/stages.py), in an order that fails cheaply: config and
model-definition errors surface before the data folder is scanned, and everything after the
MLflow run starts is inside it, so a failure leaves a FAILED run with what was logged so far.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from happysad.errors import storage_errors
from happysad.training import interrupt, stages

log = logging.getLogger("happysad.training")


def train(
    cfg: DictConfig,
    run_dir: str | Path,
    overrides: list[str] | None = None,
    extra_tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run one training job on a validated config (`happysad.config.validate`).

    Returns the final metrics, the best validation figures, the objective (trainer.objective)
    and where the model went. `extra_tags` go on the MLflow run (e.g. a sweep's).
    """
    # A full or read-only output folder: one line, and the MLflow run ends FAILED.
    from happysad.training import precision

    try:
        with storage_errors(f"writing the run's files (run dir {run_dir}, paths.output_dir)"):
            return _train(cfg, run_dir, overrides, extra_tags)
    finally:
        precision.reset()  # Keras' policy is global: a failed mixed run must not leak it


def _train(
    cfg: DictConfig,
    run_dir: str | Path,
    overrides: list[str] | None,
    extra_tags: dict[str, str] | None,
) -> dict[str, Any]:
    from happysad.data.augment import build_augmenter
    from happysad.training.resume import BACKUP_DIR, read_state

    ctx = stages.open_context(cfg, run_dir, list(overrides or []), extra_tags)
    class_names, ignored = stages.resolve_classes(cfg)
    augmenter = build_augmenter(cfg.data.augment, seed=int(cfg.seed))  # config errors first
    callbacks = stages.build_callbacks(cfg)
    model = stages.build_model(ctx, class_names)
    stages.ensure_demo_data(cfg)
    previous_run = read_state(ctx.run_dir).get("run_id") if ctx.resuming else None

    with ctx.tracker.run(ctx.run_name, ctx.tags, run_id=previous_run):
        stages.log_run_config(ctx)
        data = stages.prepare_data(ctx, class_names)
        interrupt.check()  # a Ctrl-C that a library swallowed is honoured between stages
        fitted = stages.fit(ctx, model, data, callbacks, augmenter)
        model = stages.float32_copy(ctx, model)  # trainer.mixed_precision: kept in float32
        interrupt.check()
        calibration = stages.calibrate(ctx, model, data)  # model.calibration: T on val
        summary = stages.evaluate(ctx, model, data, fitted, calibration)
        interrupt.check()
        model_dir = stages.package(ctx, model, data, summary, calibration)
    # Kept until the run is recorded: a kill during evaluation resumes from it.
    shutil.rmtree(ctx.run_dir / BACKUP_DIR, ignore_errors=True)

    if ignored:
        log.info("folders not in data.class_names were ignored: %s", ", ".join(ignored))
    if not ctx.chief:
        shutil.rmtree(ctx.run_dir, ignore_errors=True)
        log.info("worker done (not the chief: nothing kept, nothing tracked)")
        return summary
    log.info(
        "model saved to %s%s; run report: %s",
        model_dir,
        f" and MLflow run {ctx.tracker.run_id}" if ctx.tracker.run_id else "",
        ctx.run_dir / "report.html",
    )
    return summary
