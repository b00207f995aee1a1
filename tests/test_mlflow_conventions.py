"""What an MLflow user sees of a run (issue 21): params that are choices, not per-run paths;
short run names without `/`; no metric that means nothing for the run; datasets; the Keras
model back from a model URI."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from happysad.tracking.params import chosen_params, readable_overrides, run_name

from .conftest import TrackedRun


def _tracked(tracked_run: TrackedRun):
    """(client, the tracked run) from the shared CLI run's own store."""
    client = MlflowClient(tracking_uri=tracked_run.tracking_uri)
    exp = client.get_experiment_by_name("happysad")
    (run,) = client.search_runs([exp.experiment_id])
    return client, run


# --- params and run names (pure) ---------------------------------------------------------------


def test_chosen_params_leave_out_where_a_run_wrote() -> None:
    flat = {
        "paths.cache_dir": "/p/outputs/cache",
        "callbacks.model_checkpoint.filepath": "/p/outputs/runs/1/checkpoints/best.keras",
        "callbacks.model_checkpoint.monitor": "val_loss",
        "callbacks.tensorboard.log_dir": "/elsewhere/tb",
        "tracking.uri": "http://mlflow:5000",
        "tracking.artifact_location": "/p/outputs/mlartifacts",
        "tracking.experiment": "happysad",
        "data.root": "/p/outputs/demo_data/v2",
        "model.init_from": "/p/outputs/runs/0",
        "optimizer.lr": 0.003,
    }
    kept = chosen_params(flat, ["/p/outputs/runs/1", "/p/outputs"])
    assert kept == {
        "callbacks.model_checkpoint.monitor": "val_loss",
        "tracking.uri": "http://mlflow:5000",  # a store of its own: the same for every run
        "tracking.experiment": "happysad",
        "data.root": "/p/outputs/demo_data/v2",  # the data and warm start as given: choices
        "model.init_from": "/p/outputs/runs/0",
        "optimizer.lr": 0.003,
    }


def test_run_names_keep_readable_overrides_only() -> None:
    overrides = [
        "data=folder",
        "data.root=/data/faces",
        "paths.output_dir=/tmp/out",
        "model.init_from=runs:/abc/model",
        "tracking.uri=sqlite:///x.db",
        "optimizer.lr=3e-4",
    ]
    assert readable_overrides(overrides) == ["data=folder", "optimizer.lr=3e-4"]
    assert run_name(overrides, "small_cnn") == "data=folder optimizer.lr=3e-4"
    assert run_name(["data.root=/d"], "small_cnn") == "small_cnn"  # nothing readable: the model
    assert run_name(["optimizer.lr=0.1"], "tiny_cnn", prefix="#3") == "#3 optimizer.lr=0.1"


# --- the real CLI run ---------------------------------------------------------------------------


@pytest.mark.slow
def test_no_param_holds_a_per_run_path_and_the_name_has_no_slash(
    tracked_run: TrackedRun,
) -> None:
    """The compare view's parallel coordinates pick params that differ: per-run paths must
    not be among them. The full overrides stay a tag, the resolved config an artifact."""
    client, run = _tracked(tracked_run)
    params = run.data.params
    assert params["optimizer.lr"] == "0.003" and params["model.name"] == "tiny_cnn"
    run_dir, outputs = str(tracked_run.run_dir), str(tracked_run.out)
    leaks = {k: v for k, v in params.items() if k != "data.root" and (run_dir in v or outputs in v)}
    assert not leaks
    assert not any(k.startswith("paths.") for k in params)
    # Derived facts (replicas, batch per replica) are tags: as params they differed with
    # data.batch_size and crowded the swept params out of the compare view's default plot.
    assert not any(k.startswith("distribute.") for k in params)
    assert run.data.tags["happysad.distribute.global_batch_size"] == "16"
    assert run.data.tags["happysad.distribute.num_replicas"] == "1"
    assert "/" not in run.info.run_name and run.info.run_name
    assert "optimizer.lr=0.003" in run.info.run_name
    assert f"paths.output_dir={outputs}" in run.data.tags["happysad.overrides"]
    assert run.data.tags["happysad.run_dir"] == run_dir
    artifacts = {f.path for f in client.list_artifacts(run.info.run_id, "config")}
    assert "config/config_resolved.yaml" in artifacts


@pytest.mark.slow
def test_a_one_phase_run_has_no_phase_metric(tracked_run: TrackedRun) -> None:
    _, run = _tracked(tracked_run)
    assert "loss" in run.data.metrics and "phase" not in run.data.metrics
    assert "phase:" not in tracked_run.output  # nor in the Keras epoch lines
    header = (tracked_run.run_dir / "history.csv").read_text().splitlines()[0]
    assert "phase" not in header.split(",")


@pytest.mark.slow
def test_the_compare_views_default_metric_is_a_test_metric(tracked_run: TrackedRun) -> None:
    """MLflow's compare view preselects the first metric the compared runs share, in the order
    the store returns them (first logged, first): test_accuracy, logged first as NaN at step -1
    and measured at step 0; the split sizes are tags (facts of the data), not metrics."""
    import json
    import math

    client, run = _tracked(tracked_run)
    assert next(iter(run.data.metrics)) == "test_accuracy"
    assert 0 <= run.data.metrics["test_accuracy"] <= 1  # the latest: the measured value
    history = client.get_metric_history(run.info.run_id, "test_accuracy")
    assert [h.step for h in history] == [-1, 0] and math.isnan(history[0].value)
    assert not [k for k in run.data.metrics if k.startswith("n_")]
    summary = json.loads((tracked_run.run_dir / "data" / "summary.json").read_text())
    for split in ("train", "val", "test"):
        n = sum(summary["counts"][split].values())
        assert run.data.tags[f"happysad.data.n_{split}"] == str(n)
    assert run.data.tags["happysad.data.n_rejected"] == str(summary["rejected"])
    # The logged model carries the run's step-0 metrics: the measured test_accuracy only.
    (output,) = run.outputs.model_outputs
    model_metrics = client.get_logged_model(output.model_id).metrics or []
    values = [m.value for m in model_metrics if m.key == "test_accuracy"]
    assert values == [run.data.metrics["test_accuracy"]]


# --- datasets ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_splits_are_the_runs_dataset_inputs(tracked_run: TrackedRun) -> None:
    """The runs table's Dataset column: train, validation and test, each with its own split's
    fingerprint as digest, the data folder as source and the images per class as profile."""
    import json

    from happysad.tracking.datasets import digest

    _, run = _tracked(tracked_run)
    fingerprint = run.data.tags["dataset_fingerprint"]
    inputs = run.inputs.dataset_inputs
    contexts = {
        t.value: i.dataset for i in inputs for t in i.tags if t.key == "mlflow.data.context"
    }
    assert sorted(contexts) == ["test", "training", "validation"] and len(inputs) == 3
    summary = json.loads((tracked_run.run_dir / "data" / "summary.json").read_text())
    for split, context in (("train", "training"), ("val", "validation"), ("test", "test")):
        ds = contexts[context]
        profile = json.loads(ds.profile)
        assert ds.digest == digest(profile["split_fingerprint"])
        assert ds.name == f"demo_faces-{split}"
        assert "demo_faces" in json.loads(ds.source)["uri"]
        assert profile["classes"] == summary["counts"][split]
        assert profile["fingerprint"] == fingerprint
    # The split assignment itself tells the three apart (one digest for all three did not).
    assert len({ds.digest for ds in contexts.values()}) == 3


def test_datasets_are_logged_once_per_run(tmp_path: Path) -> None:
    """A resume logs the same inputs again: the run keeps one of each."""
    import mlflow

    from happysad.tracking.datasets import split_datasets
    from happysad.tracking.tracker import Tracker

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    cfg = OmegaConf.create(
        {"uri": uri, "experiment": "e", "artifact_location": str(tmp_path / "a"), "tags": {}}
    )
    counts = {"train": {"a": 3, "b": 2}, "val": {"a": 1, "b": 1}, "test": {"a": 0, "b": 0}}
    by_split = {"train": "1" * 64, "val": "2" * 64, "test": "3" * 64}
    datasets = split_datasets(tmp_path, "f" * 64, counts, by_split)
    assert [c for _, c in datasets] == ["training", "validation"]  # an empty split: none
    tracker = Tracker(cfg)
    with tracker.run("first", {}):
        tracker.log_datasets(datasets)
    with tracker.run("resumed", {}, run_id=tracker.run_id):
        tracker.log_datasets(split_datasets(tmp_path, "f" * 64, counts, by_split))
    client = mlflow.MlflowClient(tracking_uri=uri)
    assert len(client.get_run(tracker.run_id).inputs.dataset_inputs) == 2
    with tracker.run("resumed on other data", {}, run_id=tracker.run_id):
        other = {"train": "4" * 64, "val": "5" * 64, "test": "6" * 64}
        tracker.log_datasets(split_datasets(tmp_path, "e" * 64, counts, other))
    assert len(client.get_run(tracker.run_id).inputs.dataset_inputs) == 4  # new digest: logged


# --- the Keras model back ------------------------------------------------------------------------


@pytest.mark.slow
def test_keras_model_from_a_runs_uri_predicts_as_the_pyfunc(
    tracked_run: TrackedRun, demo_data: Path
) -> None:
    """`api.load(uri).keras_model` and `mlflow.tensorflow.load_model(uri)` give the Keras
    model; its probabilities are the served pyfunc's (which answers through the ONNX copy) on
    a few images."""
    import base64

    import keras
    import mlflow
    import mlflow.artifacts
    import mlflow.tensorflow
    import numpy as np
    import pandas as pd

    from happysad import api
    from happysad.data.image import preprocess_bytes

    _, run = _tracked(tracked_run)
    uri = f"runs:/{run.info.run_id}/model"
    loaded = api.load(uri, tracking_uri=tracked_run.tracking_uri)
    model = loaded.keras_model
    assert isinstance(model, keras.Model) and model is loaded.keras_model  # loaded once
    bad = ("empty", "text", "truncated", "notes")  # the demo's planted bad files
    files = [
        f
        for cls in ("happy", "sad")
        for f in sorted((demo_data / cls).iterdir())
        if not any(b in f.name for b in bad)
    ]
    files = files[:2] + files[-2:]
    raw = [f.read_bytes() for f in files]
    x = np.stack([preprocess_bytes(b, loaded.metadata.preprocessing) for b in raw])
    p_sad = np.asarray(model.predict(x, verbose=0))[:, 0]
    mlflow.set_tracking_uri(tracked_run.tracking_uri)
    served = mlflow.pyfunc.load_model(uri).predict(
        pd.DataFrame({"image_b64": [base64.b64encode(b).decode() for b in raw]})
    )
    # The Keras model answers the graph's raw probabilities; the served model applies the
    # model's temperature (model.calibration, metadata.calibrate) on top.
    calibrated = loaded.metadata.calibrate(p_sad)
    np.testing.assert_allclose(served["p_sad"].to_numpy(float), calibrated, atol=1e-4)
    assert len(set(np.round(p_sad, 3))) > 1  # four different answers, not one constant

    # MLflow's own call: the logged model's tensorflow flavor (beside pyfunc) is Keras 3's,
    # on the same .keras file the pyfunc carries (one copy), TensorFlow not required to serve.
    flavored = mlflow.tensorflow.load_model(uri)
    assert isinstance(flavored, keras.Model)
    p_flavor = np.asarray(flavored.predict(x, verbose=0))[:, 0]
    np.testing.assert_allclose(p_flavor, p_sad, atol=1e-5)  # the same graph, uncalibrated
    local = Path(mlflow.artifacts.download_artifacts(uri))
    assert [p.relative_to(local).as_posix() for p in local.rglob("*.keras")] == [
        "artifacts/model.keras"
    ]
    reqs = {r.split("==")[0] for r in (local / "requirements.txt").read_text().split()}
    assert "onnxruntime" in reqs and not reqs & {"tensorflow", "keras"}, reqs


# --- a model of your own, from the docs ------------------------------------------------------------


def _docs_model_yaml() -> str:
    """The `~/my_conf/model/my_cnn.yaml` example of docs/configuration.md, as printed there."""
    from .conftest import ROOT

    text = (ROOT / "docs" / "configuration.md").read_text()
    after = text.split("`~/my_conf/model/my_cnn.yaml`", 1)[1]
    return after.split("```yaml\n", 1)[1].split("```", 1)[0]


@pytest.mark.slow
def test_the_docs_model_yaml_trains_on_scaled_pixels(tmp_path: Path, demo_data: Path) -> None:
    """A model YAML that says nothing about input_scale inherits 1/255: one epoch of the docs'
    example ends with a loss below 1 (unscaled 0-255 pixels gave 44-53)."""
    import csv

    import keras

    from happysad import api

    from .conftest import tiny_train_args

    yaml = _docs_model_yaml()
    assert "name: my_cnn" in yaml and "input_scale" not in yaml
    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "conf" / "model" / "my_cnn.yaml").write_text(yaml)
    args = tiny_train_args(tmp_path / "out", demo_data, "trainer.epochs=1", "trainer.verbose=0")
    args = [a for a in args if not a.startswith("model=")]
    try:
        result = api.train(
            [
                *args,
                "model=my_cnn",
                "tracking=none",
                "insight.gradcam=false",
                "insight.report=false",
            ],
            config_dir=tmp_path / "conf",
        )
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert result.summary["class_names"] == ["happy", "sad"]
    (row,) = csv.DictReader((result.run_dir / "history.csv").open())
    assert float(row["loss"]) < 1.0


def test_a_backbone_model_must_say_input_scale_null() -> None:
    """The schema scales pixels; a backbone scales them itself: the error names the key and
    the fix, and the backbone presets say null."""
    from happysad import api
    from happysad.config import validate
    from happysad.errors import ConfigError

    with pytest.raises(ConfigError, match=r"model\.input_scale=.*input_scale: null"):
        validate(api.compose(["model=small_cnn", "model.backbone=mobilenet_v3_small"]))
    assert validate(api.compose(["model=mobilenet_v3_small"])).model.input_scale is None
    assert validate(api.compose(["model=tiny_cnn"])).model.input_scale == pytest.approx(1 / 255)
