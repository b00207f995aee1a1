"""The training job: validated config -> data -> model -> fit -> evaluate -> MLflow.

Steps run in an order that fails cheaply: config errors and model-definition errors surface
before the data folder is scanned, and everything after the MLflow run starts is inside
it, so a failure leaves a FAILED run with whatever was logged so far.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from happysad.data.image import Preprocessing
from happysad.errors import ConfigError, DataError
from happysad.paths import project_root

log = logging.getLogger(__name__)


def _configure_tensorflow(cfg: DictConfig) -> Any:
    """Threads, the distribution strategy and determinism, before TensorFlow's first op."""
    import keras
    import tensorflow as tf

    from happysad.training.distribute import make_strategy

    t = cfg.trainer
    try:
        if t.intra_op_threads:
            tf.config.threading.set_intra_op_parallelism_threads(int(t.intra_op_threads))
        if t.inter_op_threads:
            tf.config.threading.set_inter_op_parallelism_threads(int(t.inter_op_threads))
    except RuntimeError:  # already initialised (e.g. a second job in the same process)
        log.warning("TensorFlow already initialised: trainer.*_op_threads ignored for this job")
    strategy = make_strategy(str(t.get("strategy", "auto")))
    keras.utils.set_random_seed(int(cfg.seed))
    # Global in Keras: set for every job (a sweep's previous job may have changed it).
    keras.mixed_precision.set_global_policy(
        "mixed_float16" if t.get("mixed_precision") else "float32"
    )
    if t.deterministic:
        tf.config.experimental.enable_op_determinism()
    return strategy


def _build_callbacks(cfg: DictConfig) -> list[Any]:
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    out = []
    for name, spec in (cfg.callbacks or {}).items():
        if spec is None:
            continue
        try:
            out.append(instantiate(spec, _convert_="all"))
        except InstantiationException as err:
            cause = err.__cause__ or err
            msg = str(cause).strip().splitlines()
            text = msg[-1] if msg else type(cause).__name__
            if "Error locating target" in str(err):
                text = f"cannot import {spec.get('_target_')!r}"
            raise ConfigError(f"callbacks.{name}: {text}") from None
    return out


def _run_name(cfg: DictConfig, overrides: list[str]) -> str:
    if cfg.tracking.run_name:
        return str(cfg.tracking.run_name)
    return ",".join(overrides) if overrides else "default"


def _verbose(setting: Any) -> int:
    if setting == "auto":
        return 1 if sys.stdout.isatty() else 2
    return int(setting)


def train(
    cfg: DictConfig,
    run_dir: str | Path,
    overrides: list[str] | None = None,
    extra_tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run one training job; return the final metrics, the best validation figures and the
    objective (trainer.objective). `extra_tags` go on the MLflow run (e.g. a sweep's)."""
    t0 = time.time()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    overrides = list(overrides or [])

    from happysad.tracking.tracker import Tracker
    from happysad.training.resume import epoch_bookkeeping, read_state, write_state

    resuming = bool(cfg.trainer.get("resume"))
    tracker = Tracker(cfg.tracking)
    tracker.check_reachable()  # before any data or model work: a down server costs seconds

    strategy = _configure_tensorflow(cfg)
    import keras

    from happysad.training.distribute import describe, is_chief

    chief = is_chief(strategy)
    if not chief:
        # Workers other than the chief train in lockstep but write nothing to the run:
        # their files go to a scratch dir that is removed at the end, and they don't track.
        tracker.enabled = False
        run_dir = Path(tempfile.mkdtemp(prefix="happysad-worker-"))
        cfg.paths.run_dir = str(run_dir)

    from happysad.data import augment, demo, loader, pipeline, scan, split
    from happysad.evaluate import evaluate_predictions, format_metrics
    from happysad.insight import artifacts as insight
    from happysad.insight import figures as plots
    from happysad.serving import packaging
    from happysad.tracking.tracker import flatten, git_info
    from happysad.training import model as model_lib

    d = cfg.data
    wanted = list(d.class_names) if d.class_names else None
    # The model (and its config errors) comes before any data work; the demo's classes are
    # known without generating it, a folder's from its sub-folder names alone.
    if d.source == "demo":
        class_names, ignored = wanted or list(demo.CLASSES), []
    else:
        class_names, ignored = scan.discover_classes(d.root, wanted)
    prep = Preprocessing.from_data_config(d)
    augmenter = augment.build_augmenter(d.get("augment"), seed=int(cfg.seed))  # fail early
    with strategy.scope():  # variables (model and optimizer) must live in the strategy
        model = model_lib.build_model(
            cfg.model, (*prep.image_size, prep.channels), len(class_names)
        )
        binary = model_lib.is_binary_output(model)
        model.compile(
            optimizer=model_lib.build_optimizer(cfg.optimizer),
            loss=model_lib.resolve_loss(cfg.model, model),
            metrics=model_lib.build_metrics(list(cfg.trainer.metrics), binary),
            jit_compile=cfg.trainer.get("jit_compile", "auto"),
        )
    dist = describe(strategy)
    dist["global_batch_size"] = int(d.batch_size)
    dist["per_replica_batch_size"] = int(d.batch_size) // max(dist["num_replicas"], 1)
    if dist["num_replicas"] > 1:
        log.info("distributed: %s", dist)
    callbacks = _build_callbacks(cfg)
    if d.source == "demo":
        log.info("demo data: %s (generated on first use, then reused)", d.root)
        try:
            demo.ensure_demo_dataset(
                d.root,
                per_class=int(d.demo.per_class),
                image_size=int(d.demo.image_size),
                seed=int(d.demo.seed),
                n_corrupt=int(d.demo.n_corrupt),
            )
        except (ValueError, FileExistsError) as err:
            raise DataError(f"data.root={str(d.root)!r}: {err}") from None
        class_names, ignored = scan.discover_classes(d.root, class_names)

    tags = {
        "happysad.overrides": " ".join(overrides) or "(none)",
        "happysad.run_dir": str(run_dir),
        "model_name": str(cfg.model.name),
    }
    tags.update(git_info(project_root()))
    tags.update(extra_tags or {})
    previous_run_id = read_state(run_dir).get("run_id") if resuming else None
    with tracker.run(_run_name(cfg, overrides), tags, run_id=previous_run_id):
        resolved = OmegaConf.to_container(cfg, resolve=True)
        if resuming:
            log.info("resuming %s (MLflow run %s)", run_dir, previous_run_id)
        else:
            write_state(run_dir, tracker.run_id, str(cfg.tracking.uri) if tracker.enabled else None)
            (run_dir / "config_resolved.yaml").write_text(OmegaConf.to_yaml(resolved))
            tracker.log_params(flatten(resolved) | {f"distribute.{k}": v for k, v in dist.items()})
            tracker.log_artifact(run_dir / "config_resolved.yaml", "config")
            tracker.log_artifacts(run_dir / ".hydra", "config/hydra")

        # --- data -----------------------------------------------------------------
        scanned = scan.scan_folder(
            d.root,
            class_names=class_names,
            extensions=list(d.extensions),
            recursive=bool(d.recursive),
            workers=int(d.workers),
            quarantine_dir=d.quarantine_dir if d.bad_files == "quarantine" else None,
            min_images_per_class=int(d.min_images_per_class),
            cache_dir=cfg.paths.cache_dir if d.get("scan_cache", True) else None,
        )
        log.info("scan %s: %s", d.root, scanned.summary())
        data_dir = run_dir / "data"
        scanned.write_report(data_dir / "cleaning_report.csv")
        splits = split.split_records(
            scanned.records,
            class_names,
            {k: float(d.split[k]) for k in ("train", "val", "test")},
            seed=int(d.split.seed),
            group_duplicates=bool(d.split.group_duplicates),
        )
        log.info("split: %s", splits.summary())
        splits.write_manifest(data_dir / "split_manifest.csv")
        splits.write_duplicates(data_dir / "duplicates.csv")
        (data_dir / "summary.json").write_text(
            json.dumps(
                {
                    "scan": scanned.summary(),
                    "split": splits.summary(),
                    "counts": splits.counts(),
                    "rejected": len(scanned.rejected),
                    "class_names": class_names,
                },
                indent=2,
            )
        )
        tracker.log_artifacts(data_dir, "data")
        fingerprint = splits.fingerprint()
        tracker.set_tags({"dataset_fingerprint": fingerprint, "class_names": ",".join(class_names)})
        tracker.log_metrics(
            {f"n_{s}": float(len(splits[s])) for s in ("train", "val", "test")}
            | {"n_rejected": float(len(scanned.rejected))}
        )

        cache_dir = Path(cfg.paths.cache_dir) if d.cache == "disk" else None
        loaded = {
            s: loader.load_images_with_faces(
                splits[s], prep, workers=int(d.workers), cache_dir=cache_dir
            )
            for s in ("train", "val", "test")
        }
        arrays = {s: (x, y) for s, (x, y, _) in loaded.items()}
        face_summary = insight.face_crop_notes(
            splits, {s: f for s, (_, _, f) in loaded.items()}, data_dir
        )
        if face_summary is not None:
            tracker.log_artifacts(data_dir, "data")

        def ds(s: str, shuffle: bool = False) -> Any:
            x, y = arrays[s]
            y = y.astype("float32").reshape(-1, 1) if binary else y
            return pipeline.make_dataset(
                x,
                y,
                int(d.batch_size),
                shuffle=shuffle,
                seed=int(cfg.seed),
                augment=augmenter if s == "train" else None,  # training batches only
            )

        has_val = len(splits.val) > 0
        if not has_val:
            callbacks = [
                c
                for c in callbacks
                if not isinstance(
                    c, keras.callbacks.EarlyStopping | keras.callbacks.ModelCheckpoint
                )
            ]
            log.warning(
                "data.split.val=0: no validation split; EarlyStopping/ModelCheckpoint disabled"
            )

        # --- fit ------------------------------------------------------------------
        # One callback journals, backs up and records each epoch, in that order, and on
        # resume reconciles the three (see resume.epoch_bookkeeping).
        history_csv = run_dir / "history.csv"
        bookkeeping = epoch_bookkeeping(run_dir, tracker, backup=bool(cfg.trainer.backup))
        t_fit = time.time()
        try:
            model.fit(
                ds("train", shuffle=True),
                validation_data=ds("val") if has_val else None,
                epochs=int(cfg.trainer.epochs),
                callbacks=[*callbacks, bookkeeping],
                verbose=_verbose(cfg.trainer.verbose),
                shuffle=False,  # the train dataset reshuffles itself each epoch
            )
        except KeyboardInterrupt:
            interrupted = run_dir / "checkpoints" / "interrupted.keras"
            interrupted.parent.mkdir(parents=True, exist_ok=True)
            model.save(interrupted)
            log.warning(
                "interrupted: model saved to %s; last completed epoch is in %s",
                interrupted,
                run_dir / "backup",
            )
            tracker.log_artifact(history_csv, "history")
            raise
        fit_seconds = time.time() - t_fit
        hist = _read_history(history_csv)
        epochs_run = len(hist.get("loss", []))
        log.info("trained to epoch %d in %.1f s", epochs_run, fit_seconds)
        tracker.log_artifact(history_csv)

        # --- evaluate -------------------------------------------------------------
        eval_split = "test" if len(splits.test) else ("val" if has_val else "train")
        if eval_split != "test":
            log.warning("data.split.test=0: reporting metrics on the %s split instead", eval_split)
        x_eval, y_eval = arrays[eval_split]
        probs = model.predict(x_eval, batch_size=int(d.batch_size), verbose=0)
        probs = probs[:, 0] if binary else probs
        ev = evaluate_predictions(
            y_eval, probs, class_names, float(cfg.trainer.threshold), prefix=f"{eval_split}_"
        )
        summary: dict[str, Any] = dict(ev.metrics)
        summary.update(
            {
                "epochs_run": epochs_run,
                "fit_seconds": fit_seconds,
                "train_images_per_second": len(splits.train)
                * (epochs_run - bookkeeping.restored)
                / max(fit_seconds, 1e-9),
            }
        )
        for k in ("val_accuracy", "val_loss"):
            if k in hist:
                best = max(hist[k]) if "accuracy" in k else min(hist[k])
                summary[f"best_{k}"] = best
        _add_objective(cfg, hist, summary)
        tracker.log_metrics({k: v for k, v in summary.items() if isinstance(v, int | float)})
        (run_dir / "metrics.json").write_text(json.dumps(summary, indent=2))
        tracker.log_artifact(run_dir / "metrics.json")
        log.info(
            "%s metrics (%d images): %s",
            eval_split,
            len(y_eval),
            format_metrics(ev.metrics, f"{eval_split}_"),
        )

        # --- plots ----------------------------------------------------------------
        plot_dir = run_dir / "plots"
        plots.save_figure(plots.plot_history(hist), plot_dir / "curves.png")
        plots.save_figure(
            plots.plot_confusion_matrix(ev.confusion, class_names),
            plot_dir / "confusion_matrix.png",
        )
        plots.save_figure(
            plots.plot_roc_pr(ev.y_true, ev.probs, class_names), plot_dir / "roc_pr.png"
        )
        plots.save_figure(
            plots.plot_sample_grid(
                x_eval,
                ev.y_true,
                ev.y_pred,
                ev.confidence,
                class_names,
                paths=[r.relpath for r in splits[eval_split]],
            ),
            plot_dir / "samples.png",
        )
        made = insight.make_insight(
            cfg=cfg,
            model=model,
            ev=ev,
            images=x_eval,
            paths=[r.relpath for r in splits[eval_split]],
            class_names=class_names,
            eval_split=eval_split,
            hist=hist,
            run_dir=run_dir,
            splits=splits,
            scan_summary=scanned.summary(),
            face_summary=face_summary,
            run_id=tracker.run_id,
            run_name=_run_name(cfg, overrides),
            epochs_run=epochs_run,
        )
        tracker.log_artifacts(plot_dir, "plots")
        if "report" in made:
            tracker.log_artifact(made["report"])
        tb = cfg.callbacks.get("tensorboard") if cfg.callbacks else None
        if tb is not None and tb.get("log_dir"):
            tracker.log_artifacts(tb.log_dir, "tensorboard")

        # --- model ----------------------------------------------------------------
        meta = packaging.ModelMetadata(
            class_names=class_names,
            preprocessing=prep,
            threshold=float(cfg.trainer.threshold),
            extra={
                "run_id": tracker.run_id,
                "model_name": str(cfg.model.name),
                "dataset_fingerprint": fingerprint,
                "happysad_version": _version(),
            },
        )
        example = x_eval[0] if len(x_eval) else None
        model_dir = packaging.save_model(model, meta, run_dir / "model", example=example)
        if tracker.enabled and cfg.tracking.log_model:
            info = packaging.log_model(model_dir, meta, example=example)
            if cfg.tracking.get("register_as"):
                summary["registered_version"] = tracker.register_model(
                    info.model_uri, str(cfg.tracking.register_as)
                )
        summary["model_dir"] = str(model_dir)
        summary["run_id"] = tracker.run_id
        summary["run_dir"] = str(run_dir)
        tracker.log_metrics({"total_seconds": time.time() - t0})
    if ignored:
        log.info("folders not in data.class_names were ignored: %s", ", ".join(ignored))
    if not chief:
        shutil.rmtree(run_dir, ignore_errors=True)
        log.info("worker done (not the chief: nothing kept, nothing tracked)")
        return summary
    log.info(
        "model saved to %s%s; run report: %s",
        model_dir,
        f" and MLflow run {tracker.run_id}" if tracker.run_id else "",
        run_dir / "report.html",
    )
    return summary


def _read_history(path: Path) -> dict[str, list[float]]:
    """Per-epoch metrics from CSVLogger's file: complete across a resume, unlike History."""
    import csv

    if not path.is_file():
        return {}
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    keys = [k for k in (rows[0].keys() if rows else []) if k != "epoch"]
    return {k: [float(r[k]) for r in rows if r.get(k) not in (None, "")] for k in keys}


def _add_objective(cfg: DictConfig, hist: dict[str, list[float]], summary: dict) -> None:
    """summary["objective"]: what sweeps optimise (logged with the other final metrics)."""
    from happysad.sweeps.runs import objective_value

    value = objective_value(cfg.trainer, hist, summary)
    if value is None:
        log.warning(
            "trainer.objective=%s: this run has no such metric (per-epoch: %s)",
            cfg.trainer.objective,
            ", ".join(sorted(hist)) or "none",
        )
    else:
        summary["objective"] = value


def _version() -> str:
    from happysad import __version__

    return __version__
