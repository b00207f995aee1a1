"""MLflow run lifecycle and logging helpers; a no-op tracker when tracking is disabled.

A run always ends with a truthful status: FINISHED on success, KILLED on Ctrl-C, FAILED on
any error. The experiment is created with an absolute artifact location so artifacts land
beside the store, not in whatever directory the job happened to run from.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

log = logging.getLogger(__name__)

MAX_PARAM_LEN = 6000  # MLflow's limit on a param value


def flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    """{'a': {'b': 1}, 'l': [{'x': 2}]} -> {'a.b': 1, 'l.0.x': 2}; scalar lists stay one value."""
    if isinstance(d, DictConfig | ListConfig):
        d = OmegaConf.to_container(d, resolve=True)
    out: dict[str, Any] = {}
    if isinstance(d, Mapping):
        for k, v in d.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(d, list) and any(isinstance(v, Mapping | list) for v in d):
        for i, v in enumerate(d):
            out.update(flatten(v, f"{prefix}{i}."))
    else:
        out[prefix.rstrip(".")] = d
    return out


def git_info(cwd: Path) -> dict[str, str]:
    """Commit and dirty flag of the checkout, when there is one."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5
        )
        if commit.returncode != 0:
            return {}
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return {
            "mlflow.source.git.commit": commit.stdout.strip(),
            "git_dirty": str(bool(dirty.stdout.strip())).lower(),
        }
    except (OSError, subprocess.SubprocessError):
        return {}


class Tracker:
    """Thin wrapper over the fluent MLflow API that can be switched off by config."""

    def __init__(self, cfg: DictConfig) -> None:
        self.enabled = bool(cfg.enabled)
        self.cfg = cfg
        self.run_id: str | None = None

    def _mlflow(self) -> Any:
        import mlflow

        return mlflow

    def _experiment_id(self) -> str:
        mlflow = self._mlflow()
        from mlflow.exceptions import MlflowException

        client = mlflow.MlflowClient()
        exp = client.get_experiment_by_name(self.cfg.experiment)
        if exp is not None:
            return exp.experiment_id
        location = self.cfg.artifact_location
        if location and "://" not in str(location):
            Path(location).mkdir(parents=True, exist_ok=True)
            location = Path(location).resolve().as_uri()
        try:
            return client.create_experiment(self.cfg.experiment, artifact_location=location)
        except MlflowException as err:  # created by a parallel job meanwhile
            if "RESOURCE_ALREADY_EXISTS" not in str(err.error_code) and "UNIQUE" not in str(err):
                raise
            return client.get_experiment_by_name(self.cfg.experiment).experiment_id

    def start(self, run_name: str, tags: dict[str, str]) -> None:
        if not self.enabled:
            return
        mlflow = self._mlflow()
        uri = str(self.cfg.uri)
        if uri.startswith("sqlite:///"):
            Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        exp_id = self._experiment_id()
        all_tags = {**tags, **{str(k): str(v) for k, v in (self.cfg.tags or {}).items()}}
        run = mlflow.start_run(experiment_id=exp_id, run_name=run_name, tags=all_tags)
        self.run_id = run.info.run_id
        log.info("MLflow run %s (%s) in %s", self.run_id, run_name, uri)

    def end(self, status: str = "FINISHED") -> None:
        if self.enabled and self.run_id is not None:
            self._mlflow().end_run(status=status)

    def log_params(self, params: dict[str, Any]) -> None:
        if not self.enabled:
            return
        clean = {k: str(v)[:MAX_PARAM_LEN] for k, v in params.items()}
        self._mlflow().log_params(clean)

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        if self.enabled:
            self._mlflow().log_metrics({k: float(v) for k, v in metrics.items()}, step=step)

    def set_tags(self, tags: dict[str, Any]) -> None:
        if self.enabled:
            self._mlflow().set_tags({k: str(v) for k, v in tags.items()})

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        if self.enabled and Path(path).exists():
            self._mlflow().log_artifact(str(path), artifact_path)

    def log_artifacts(self, path: str | Path, artifact_path: str | None = None) -> None:
        if self.enabled and Path(path).is_dir():
            self._mlflow().log_artifacts(str(path), artifact_path)

    @contextmanager
    def run(self, run_name: str, tags: dict[str, str]) -> Iterator[Tracker]:
        """Start a run; end it FINISHED, KILLED (Ctrl-C) or FAILED (any error), never RUNNING."""
        self.start(run_name, tags)
        try:
            yield self
        except KeyboardInterrupt:
            self.end("KILLED")
            raise
        except BaseException:
            self.end("FAILED")
            raise
        else:
            self.end("FINISHED")


def epoch_logger(tracker: Tracker) -> Any:
    """A Keras callback logging every epoch's metrics once, at step = completed epochs."""
    import keras

    class MlflowEpochLogger(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            metrics = {k: float(v) for k, v in (logs or {}).items()}
            with contextlib.suppress(Exception):  # schedules etc.: skip rather than fail
                lr = self.model.optimizer.learning_rate
                metrics["lr"] = float(keras.ops.convert_to_numpy(lr))
            tracker.log_metrics(metrics, step=epoch + 1)

    return MlflowEpochLogger()
