"""The training stages called in-process (training/stages.py), on tiny data, without a CLI.

One `experiment=quick tracking=none` run per test session (conftest.py `stage_run`) goes
through every stage; the tests read what each stage returned and wrote. A change to
`prepare_data`, `fit`, `evaluate` or `package` gets its answer here in seconds, without a
TensorFlow subprocess; tests/test_train.py keeps the few end-to-end CLI runs that prove the
wiring (Hydra, MLflow, exit codes).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest


def test_prepare_data_cleans_splits_and_decodes(stage_run) -> None:
    data = stage_run.data
    assert data.class_names == ["happy", "sad"]
    counts = {s: len(data.splits[s]) for s in ("train", "val", "test")}
    assert sum(counts.values()) == 80 and all(counts.values())  # 4 planted bad files left out
    assert len(data.scanned.rejected) == 4
    for split, n in counts.items():
        x, y = data.arrays[split]
        assert x.shape == (n, 32, 32, 3) and x.dtype == np.uint8, split
        assert set(np.unique(y)) <= {0, 1} and len(y) == n
    # Each split's labels match its records (the arrays are not shuffled against the manifest).
    for split in counts:
        assert list(data.arrays[split][1]) == [r.label for r in data.splits[split]]
    reports = stage_run.run_dir / "data"
    rows = list(csv.DictReader((reports / "cleaning_report.csv").open()))
    assert len(rows) == 4 and {r["action"] for r in rows} == {"skipped"}
    manifest = list(csv.DictReader((reports / "split_manifest.csv").open()))
    assert len(manifest) == 80 and {r["split"] for r in manifest} == {"train", "val", "test"}
    summary = json.loads((reports / "summary.json").read_text())
    assert summary["rejected"] == 4 and summary["class_names"] == ["happy", "sad"]
    assert len(data.fingerprint) >= 16


def test_fit_trains_the_configured_epochs_and_writes_the_history(stage_run) -> None:
    fitted = stage_run.fitted
    assert fitted.epochs_run == 1 and fitted.epochs_resumed == 0 and fitted.seconds > 0
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        assert len(fitted.history[key]) == 1 and np.isfinite(fitted.history[key][0]), key
    rows = list(csv.DictReader((stage_run.run_dir / "history.csv").open()))
    assert len(rows) == 1 and float(rows[0]["loss"]) == pytest.approx(fitted.history["loss"][0])


def test_evaluate_reports_test_metrics_figures_and_the_report(stage_run) -> None:
    summary = stage_run.summary
    n_test = len(stage_run.data.splits.test)
    for key in ("test_accuracy", "test_precision", "test_recall", "test_f1"):
        assert 0.0 <= summary[key] <= 1.0, key
    assert summary["test_n_images"] == n_test and summary["epochs_run"] == 1
    assert summary["final_epoch"] == 1
    written = json.loads((stage_run.run_dir / "metrics.json").read_text())
    assert written["test_accuracy"] == pytest.approx(summary["test_accuracy"])
    # The accuracy is the model's own on the test arrays, at the configured threshold.
    x, y = stage_run.data.arrays["test"]
    p = stage_run.model.predict(x, verbose=0)[:, 0]
    assert summary["test_accuracy"] == pytest.approx(float(np.mean((p >= 0.5) == (y == 1))))
    plots = stage_run.run_dir / "plots"
    for name in ("curves.png", "confusion_matrix.png", "roc_pr.png", "samples.png"):
        assert (plots / name).stat().st_size > 1000, name
    assert "<html" in (stage_run.run_dir / "report.html").read_text().lower()


def test_package_saves_a_model_that_predicts_like_the_trained_one(stage_run) -> None:
    from happysad.serving.packaging import load_model

    loaded = load_model(str(stage_run.model_dir))
    assert loaded.metadata.class_names == ["happy", "sad"]
    assert tuple(loaded.metadata.preprocessing.image_size) == (32, 32)
    assert loaded.metadata.extra["dataset_fingerprint"] == stage_run.data.fingerprint
    x = stage_run.data.arrays["test"][0]
    np.testing.assert_allclose(
        loaded.predict_arrays(x), stage_run.model.predict(x, verbose=0)[:, 0], atol=1e-6
    )
    assert stage_run.summary["model_dir"] == str(stage_run.model_dir)
    assert stage_run.summary["run_id"] is None  # tracking=none: no MLflow run, no store
    assert not (Path(stage_run.cfg.paths.output_dir) / "mlflow.db").exists()


def test_predict_files_labels_each_file_with_the_models_class_names(stage_run) -> None:
    from happysad.serving.packaging import load_model
    from happysad.serving.predict import predict_files

    loaded = load_model(str(stage_run.model_dir))
    records = stage_run.data.splits.test
    preds = predict_files(loaded, [r.path for r in records], batch_size=3)
    p = loaded.predict_arrays(stage_run.data.arrays["test"][0])
    for pred, want in zip(preds, p, strict=True):
        assert pred.error in ("", None)
        assert pred.class_name == ("sad" if want >= 0.5 else "happy")
        assert pred.probability == pytest.approx(max(want, 1 - want), abs=1e-5)


def test_tracking_none_runs_every_stage_on_a_null_tracker(stage_run) -> None:
    """tracking=none: the stages call the same tracker methods, and nothing is tracked."""
    from happysad.tracking.tracker import NullTracker

    assert type(stage_run.ctx.tracker) is NullTracker
    assert stage_run.summary["run_id"] is None and "model_uri" not in stage_run.summary
    assert not list(stage_run.run_dir.parent.rglob("mlflow.db"))


def test_fit_adds_the_jobs_own_callbacks(stage_run) -> None:
    """EpochBookkeeping journals the rate, per epoch; a one-phase run has no `phase` column
    (PhaseLogger marks the phases of a fine-tuned run only)."""
    rows = list(csv.DictReader((stage_run.run_dir / "history.csv").open()))
    assert len(rows) == 1 and "phase" not in rows[0]
    assert 0.0 < float(rows[0]["lr"]) <= float(stage_run.cfg.optimizer.lr)  # (a schedule's)


def test_the_final_weights_are_early_stoppings_best_epoch_and_say_so() -> None:
    """A run that swings does not end on its last epoch: EarlyStopping(restore_best_weights)
    puts the best epoch's weights back even when it never stopped early, and fit reports which
    epoch that was (final_epoch in metrics.json and MLflow)."""
    import keras

    from happysad.training.stages import _final_epoch

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 2, 64).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(5.0), loss="binary_crossentropy")
    es = keras.callbacks.EarlyStopping(patience=50, restore_best_weights=True)
    history = model.fit(x, y, validation_split=0.5, epochs=6, verbose=0, callbacks=[es])
    val = history.history["val_loss"]
    assert _final_epoch([es], len(val)) == int(np.argmin(val)) + 1
    assert model.evaluate(x[32:], y[32:], verbose=0) == pytest.approx(min(val), rel=1e-4)
    assert _final_epoch([keras.callbacks.EarlyStopping()], 6) == 6  # nothing restored: the last
