"""MLflow conventions: the experiment kind the UI reads, and `mlflow run .` with the MLproject."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from happysad.tracking.tracker import (
    EXPERIMENT_KIND,
    TAG_EXPERIMENT_KIND,
    client,
    ensure_experiment,
)

from .conftest import BIN, CLI_ENV, ROOT, tiny_train_args


def test_experiments_open_in_the_model_training_view(tmp_path: Path) -> None:
    mlflow_client = client(f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp_id = ensure_experiment(mlflow_client, "happysad", str(tmp_path / "artifacts"))
    tags = mlflow_client.get_experiment(exp_id).tags
    assert tags[TAG_EXPERIMENT_KIND] == EXPERIMENT_KIND == "custom_model_development"

    # An experiment made before the tag existed gets it; a kind someone chose stays.
    old = mlflow_client.create_experiment("older")
    chosen = mlflow_client.create_experiment(
        "chosen", tags={TAG_EXPERIMENT_KIND: "genai_development"}
    )
    assert ensure_experiment(mlflow_client, "older", None) == old
    assert ensure_experiment(mlflow_client, "chosen", None) == chosen
    assert mlflow_client.get_experiment(old).tags[TAG_EXPERIMENT_KIND] == EXPERIMENT_KIND
    assert mlflow_client.get_experiment(chosen).tags[TAG_EXPERIMENT_KIND] == "genai_development"


@pytest.mark.slow
def test_mlflow_run_trains_into_the_project_run(demo_data: Path, tmp_path: Path) -> None:
    """`mlflow run . -P overrides=...` is one FINISHED run holding the whole training, with
    the venv's `mlflow` called by its path, not activated: the entry point runs the interpreter
    running `mlflow` (the first `python` on the PATH would be another one)."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    overrides = " ".join(tiny_train_args(tmp_path / "out", demo_data, "trainer.epochs=1"))
    fake = tmp_path / "not_this_python"
    fake.mkdir()
    (fake / "python").write_text("#!/bin/sh\necho 'the PATH python ran' >&2; exit 3\n")
    (fake / "python").chmod(0o755)
    env = {k: v for k, v in CLI_ENV.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    env |= {"MLFLOW_TRACKING_URI": uri, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    cmd = [str(BIN / "mlflow"), "run", str(ROOT), "--env-manager", "local"]
    res = subprocess.run(
        [*cmd, "--experiment-name", "happysad", "-P", f"overrides={overrides}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=900,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("happysad")
    assert exp.tags[TAG_EXPERIMENT_KIND] == EXPERIMENT_KIND
    (run,) = client.search_runs([exp.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params["trainer.epochs"] == "1"  # the overrides reached Hydra
    assert run.data.params["data.image_size"] == "[32, 32]"
    assert "test_accuracy" in run.data.metrics
    assert run.data.tags.get("mlflow.project.entryPoint") == "main"  # the project's own run
    # MLflow logs each -P value as it put it into the shell command: shlex-quoted once, by
    # itself (mlflow/projects: compute_parameters). The MLproject adds no quoting of its own,
    # so one shell-unquoting gives back what was typed; the training's tag holds it as typed.
    assert run.data.params["overrides"] == shlex.quote(overrides)
    assert shlex.split(run.data.params["overrides"]) == [overrides]
    assert run.data.tags["happysad.overrides"] == overrides
    assert not (tmp_path / "out" / "mlflow.db").exists()  # nothing went to the config's store
