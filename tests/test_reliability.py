"""Reliability: bad configs, interruptions, resume, and tracking faults, for real.

Every case runs the real CLI in a subprocess (real signals, a real `mlflow server`).
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from .conftest import (
    BIN,
    CLI_ENV,
    ROOT,
    ROOT_PYTHONPATH,
    MlflowServer,
    free_port,
    no_tensorflow_env,
    run_cli,
    tiny_train_args,
)

SLOW_EPOCHS = "+callbacks.slow={_target_: tests.helpers.SleepEachEpoch, seconds: %s}"
ENV = {**CLI_ENV, "PYTHONPATH": ROOT_PYTHONPATH}  # lets the subprocess import tests.helpers


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


# One case per path an error can take to the CLI (schema, cross-field check, composition,
# instantiation of a layer / optimizer / callback, the data root); the many values each check
# refuses are tested in-process (test_config, test_model, test_scan), where they cost no
# subprocess.
BAD_CONFIGS = [
    (["trainer.epoch=5"], "error: trainer.epoch=5: unknown key"),
    (["trainer.epochs=abc"], "error: trainer.epochs"),
    (["data.split.train=0.6"], "error: data.split="),
    (["experiment=nope"], "error: experiment=nope: no such option"),
    (
        ["model.layers.0._target_=keras.layers.Conv2DD"],
        "error: model.layers[0]: keras.layers.Conv2DD",
    ),
    (
        ["optimizer._target_=keras.optimizers.Adamm"],
        "error: optimizer._target_='keras.optimizers.Adamm'",
    ),
    (
        ["data=folder", "data.root=/no/such/folder"],
        "error: data.root='/no/such/folder': folder does not exist",
    ),
    (
        ["callbacks.early_stopping._target_=keras.callbacks.EarlyStop"],
        "error: callbacks.early_stopping",
    ),
    # A multirun's values are composed one by one before the sweep (and its parent run) starts.
    (["-m", "optimizer.lr=1e-3,3e-4", "model=tiny_cnn,nope"], "error: model=nope: no such option"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("overrides", "expected"), BAD_CONFIGS, ids=lambda v: str(v)[:40])
def test_bad_config_fails_in_one_line_before_any_work(tmp_path: Path, overrides, expected) -> None:
    res = run_cli("happysad-train", f"paths.output_dir={tmp_path}", *overrides)
    assert res.returncode != 0
    errors = _error_lines(res.stderr)
    assert len(errors) == 1 and errors[0].startswith(expected), res.stderr[-2000:]
    assert "Traceback" not in res.stderr
    # Nothing was generated or scanned, and no MLflow run exists (so none is left RUNNING).
    assert not (tmp_path / "demo_data").exists()
    assert not (tmp_path / "mlflow.db").exists()


def _history_rows(out: Path) -> int:
    files = list(out.rglob("history.csv"))
    if not files:
        return 0
    with files[0].open() as fh:
        return len(list(csv.DictReader(fh)))


# Runs the CLI with SIGINT as a terminal delivers it. A test run started in the background by
# a script (`.ci/run &`) inherits SIGINT ignored, and the CLI keeps an ignored SIGINT ignored
# (as Python does), so the Ctrl-C tests would see training carry on. (An exec wrapper, not
# preexec_fn: that is unsafe in a parent with threads.)
_DEFAULT_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def _start_training(out: Path, data: Path, *extra: str) -> subprocess.Popen:
    args = tiny_train_args(out, data, SLOW_EPOCHS % 1.0, "callbacks.early_stopping=null", *extra)
    return subprocess.Popen(
        [sys.executable, "-c", _DEFAULT_SIGINT, str(BIN / "happysad-train"), *args],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_epochs(proc: subprocess.Popen, out: Path, n: int, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while _history_rows(out) < n:
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.time() < deadline, "training did not reach the epoch in time"
        time.sleep(0.2)


def _run(out: Path):
    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("happysad")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1
    return client, runs[0]


@pytest.mark.slow
def test_ctrl_c_checkpoints_and_ends_the_run_killed(tmp_path: Path, demo_data: Path) -> None:
    out = tmp_path / "out"
    proc = _start_training(out, demo_data, "trainer.epochs=30")
    _wait_for_epochs(proc, out, 2)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-3000:]
    assert "interrupted" in stderr and "trainer.resume=" in stderr
    client, run = _run(out)
    assert run.info.status == "KILLED"
    steps = [m.step for m in client.get_metric_history(run.info.run_id, "loss")]
    # Every backed-up epoch, once and in order, even when the signal came between an epoch's
    # backup and its MLflow record (that epoch is logged from the journal on the way out).
    backup = next(out.rglob("backup")) / "training_metadata.json"
    done = json.loads(backup.read_text())["epoch"]
    assert steps == list(range(1, done + 1)) and done >= 1
    assert next(out.rglob("checkpoints/interrupted.keras")).stat().st_size > 0


@pytest.mark.slow
def test_kill_9_then_resume_continues_the_same_run(tmp_path: Path, demo_data: Path) -> None:
    out = tmp_path / "out"
    proc = _start_training(out, demo_data, "trainer.epochs=6")
    _wait_for_epochs(proc, out, 2)
    proc.kill()  # SIGKILL: no handler, no cleanup
    proc.communicate()
    run_dir = next(out.rglob("happysad_run.json")).parent
    client, run = _run(out)
    assert run.info.status == "RUNNING"  # what a kill -9 leaves behind
    done_before = _history_rows(out)
    assert 2 <= done_before < 6

    resume = [f"trainer.resume={run_dir}", f"paths.output_dir={out}"]
    res = run_cli("happysad-train", *resume, env={"PYTHONPATH": ROOT_PYTHONPATH})
    assert res.returncode == 0, res.stderr[-3000:]
    client, run = _run(out)  # still exactly one run
    assert run.info.status == "FINISHED"
    for key in ("loss", "val_loss", "accuracy"):
        steps = [m.step for m in client.get_metric_history(run.info.run_id, key)]
        assert sorted(steps) == [1, 2, 3, 4, 5, 6], (key, steps)  # every epoch once, none twice
    assert _history_rows(out) == 6
    assert "test_accuracy" in run.data.metrics
    assert (run_dir / "model" / "MLmodel").is_file()
    # The splits were logged before the kill and are not logged again by the resume.
    contexts = sorted(
        t.value for i in run.inputs.dataset_inputs for t in i.tags if t.key == "mlflow.data.context"
    )
    assert contexts == ["test", "training", "validation"]


@pytest.mark.slow
@pytest.mark.parametrize("where", ["before_backup", "after_backup", "after_record"])
def test_a_crash_at_any_point_of_an_epoch_end_loses_no_epoch(
    tmp_path: Path, demo_data: Path, where: str
) -> None:
    """The crash is injected at an exact point (no timing): the resumed run still holds
    every epoch exactly once in MLflow, each with the values history.csv has for it."""

    out = tmp_path / "out"
    args = tiny_train_args(out, demo_data, "callbacks.early_stopping=null", "trainer.epochs=3")
    code = f"from tests.helpers import train_and_crash; train_and_crash({where!r}, 2, {args!r})"
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True
    )
    assert res.returncode == 137, res.stderr[-3000:]
    run_dir = next(out.rglob("happysad_run.json")).parent
    client, run = _run(out)
    logged = [m.step for m in client.get_metric_history(run.info.run_id, "loss")]
    assert logged == {"before_backup": [1], "after_backup": [1], "after_record": [1, 2]}[where]

    resume = [f"trainer.resume={run_dir}", f"paths.output_dir={out}"]
    res = run_cli("happysad-train", *resume, env={"PYTHONPATH": ROOT_PYTHONPATH})
    assert res.returncode == 0, res.stderr[-3000:]
    client, run = _run(out)
    assert run.info.status == "FINISHED"
    with (run_dir / "history.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    for key in ("loss", "val_loss", "accuracy"):
        hist = client.get_metric_history(run.info.run_id, key)
        assert sorted(m.step for m in hist) == [1, 2, 3], (key, [m.step for m in hist])
        by_step = {m.step: m.value for m in hist}
        for r in rows:  # each epoch with its own values, not a re-run's
            assert by_step[int(r["epoch"]) + 1] == pytest.approx(float(r[key]), rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("where", ["before_backup", "after_backup", "inside_record"])
def test_ctrl_c_between_journal_backup_and_record_leaves_mlflow_complete(
    tmp_path: Path, demo_data: Path, where: str
) -> None:
    """Ctrl-C at epoch 2's end: MLflow ends with exactly the backed-up epochs (a resume keeps
    those), each once: epoch 2 included once it was backed up, even if its record had not
    happened yet, and not twice if the signal cut off a record MLflow had stored."""

    out = tmp_path / "out"
    args = tiny_train_args(out, demo_data, "callbacks.early_stopping=null", "trainer.epochs=3")
    code = (
        "from tests.helpers import train_and_crash; "
        f"train_and_crash({where!r}, 2, {args!r}, how='ctrl_c')"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True
    )
    assert res.returncode == 130, res.stderr[-3000:]
    client, run = _run(out)
    assert run.info.status == "KILLED"
    logged = [m.step for m in client.get_metric_history(run.info.run_id, "loss")]
    # Each backed-up epoch once: not missing, and not twice when the signal cut off a record
    # that MLflow had already stored.
    assert logged == {"before_backup": [1], "after_backup": [1, 2], "inside_record": [1, 2]}[where]


@pytest.mark.slow
def test_unreachable_tracking_server_fails_fast_or_warns(tmp_path: Path, demo_data: Path) -> None:
    uri = f"http://127.0.0.1:{free_port()}"
    env, tf_marker = no_tensorflow_env(tmp_path)
    res = run_cli(
        "happysad-train", *tiny_train_args(tmp_path, demo_data, f"tracking.uri={uri}"), env=env
    )
    assert res.returncode == 5, res.stderr[-3000:]
    errors = _error_lines(res.stderr)
    assert len(errors) == 1 and uri in errors[0] and "not reachable" in errors[0]
    assert not list(tmp_path.rglob("history.csv"))  # no training happened
    assert not tf_marker.exists()  # refused before TensorFlow (and any retry loop) started
    res = run_cli(
        "happysad-train",
        *tiny_train_args(
            tmp_path,
            demo_data,
            f"tracking.uri={uri}",
            "tracking.required=false",
            "trainer.epochs=1",
        ),
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "training without MLflow" in res.stdout + res.stderr
    assert list(tmp_path.rglob("model/MLmodel"))


@pytest.mark.slow
def test_training_survives_the_tracking_server_restarting(tmp_path: Path, demo_data: Path) -> None:
    server = MlflowServer(tmp_path / "server").start()
    try:
        out = tmp_path / "out"
        proc = _start_training(
            out, demo_data, "trainer.epochs=6", "tracking=server", f"tracking.uri={server.uri}"
        )
        _wait_for_epochs(proc, out, 2)
        server.stop()  # the server goes away mid-run...
        _wait_for_epochs(proc, out, 3)
        server.start()  # ...and comes back on the same port and store
        _, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr[-3000:]
        client = MlflowClient(tracking_uri=server.uri)
        runs = client.search_runs([client.get_experiment_by_name("happysad").experiment_id])
        assert len(runs) == 1 and runs[0].info.status == "FINISHED"
        steps = [m.step for m in client.get_metric_history(runs[0].info.run_id, "loss")]
        assert sorted(steps) == [1, 2, 3, 4, 5, 6]  # buffered while down, none lost or doubled
        arts = {a.path for a in client.list_artifacts(runs[0].info.run_id)}
        assert {"plots", "data", "config"} <= arts
        from happysad.serving.packaging import load_model

        loaded = load_model(f"runs:/{runs[0].info.run_id}/model", tracking_uri=server.uri)
        assert loaded.metadata.class_names == ["happy", "sad"]
    finally:
        server.stop()


def test_models_with_lambda_layers_are_refused_unless_unsafe(tmp_path: Path) -> None:
    import keras
    import numpy as np

    from happysad.data.image import Preprocessing
    from happysad.errors import ModelLoadError
    from happysad.serving.packaging import ModelMetadata, load_model, save_model

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)  # arbitrary code inside the file
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    meta = ModelMetadata(["a", "b"], Preprocessing(image_size=(8, 8)))
    model_dir = save_model(model, meta, tmp_path / "model")
    with pytest.raises(ModelLoadError, match="Lambda layer") as info:
        load_model(str(model_dir))
    assert "\n" not in str(info.value)
    img = tmp_path / "x.png"
    import cv2

    cv2.imwrite(str(img), np.zeros((8, 8, 3), np.uint8))
    res = run_cli("happysad-predict", str(model_dir), str(img))
    assert res.returncode == 4 and "Lambda layer" in res.stderr and "Traceback" not in res.stderr
    assert load_model(str(model_dir), safe_mode=False).metadata.class_names == ["a", "b"]
    res = run_cli("happysad-predict", str(model_dir), str(img), "--unsafe")
    assert res.returncode == 0 and res.stdout.split("\t")[1] in {"a", "b"}
