"""What an MLflow user sees of a run (issue 21): params that are choices, not per-run paths;
short run names without `/`; no metric that means nothing for the run; datasets; the Keras
model back from a model URI."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient

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
        "tracking.experiment": "happysad",
        "data.root": "/p/outputs/demo_data/v2",
        "model.init_from": "/p/outputs/runs/0",
        "optimizer.lr": 0.003,
    }
    kept = chosen_params(flat, ["/p/outputs/runs/1", "/p/outputs"])
    assert kept == {
        "callbacks.model_checkpoint.monitor": "val_loss",
        "tracking.experiment": "happysad",
        "data.root": "/p/outputs/demo_data/v2",  # the data as given: a choice, kept
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
