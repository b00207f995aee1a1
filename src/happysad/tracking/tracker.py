"""MLflow run lifecycle and logging helpers; a no-op tracker when tracking is off.

A run always ends with a truthful status: FINISHED on success, KILLED on Ctrl-C, FAILED on
any error. The experiment is created with an absolute artifact location so artifacts land
beside the store, not in whatever directory the job happened to run from.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from happysad.errors import (
    HappysadError,
    first_line,
    redact,
    redact_logs,
    redact_text,
    redacted_stdout,
)
from happysad.paths import use_mlflow_store
from happysad.tracking.names import is_refusal, mlflow_metric_names
from happysad.tracking.store_lock import store_lock

log = logging.getLogger(__name__)

MAX_PARAM_LEN = 6000  # MLflow's limit on a param value

# Tag names, one home for every writer and reader of runs.
TAG_OVERRIDES = "happysad.overrides"
TAG_OVERRIDES_JSON = "happysad.overrides_json"
TAG_RUN_DIR = "happysad.run_dir"
TAG_METRIC_NAMES = "happysad.metric_names"  # JSON {MLflow metric name: the run's own name}
TAG_INIT_FROM = "happysad.init_from"  # the model a warm start began from
TAG_PRECISION = "happysad.precision"  # the dtype policy training computed in (float32, mixed_*)
# + strategy, num_replicas, global_batch_size, per_replica_batch_size: facts derived from the
# config and the cluster, not choices; as params they would differ with data.batch_size and
# take the compare view's parallel coordinates from the swept params.
TAG_DISTRIBUTE = "happysad.distribute."
# + n_train, n_val, n_test, n_rejected: facts of the data (images per split, files refused),
# not measurements; as metrics the first of them took the compare view's default metric.
TAG_DATA = "happysad.data."
TAG_MODEL_NAME = "model_name"
TAG_DATASET_FINGERPRINT = "dataset_fingerprint"
TAG_CLASS_NAMES = "class_names"  # comma-separated, in label order
TAG_GIT_DIRTY = "git_dirty"
TAG_REGISTERED_MODEL = "registered_model"  # models:/<name>/<version>
TAG_BEST_RUN_ID = "best_run_id"  # on a sweep's parent run: its best trial
TAG_BEST_TRIAL = "best_trial"
TAG_BEST_RUN_NAME = "best_run_name"
TAG_SWEEP_ID = "happysad.sweep_id"
TAG_SWEEP_DIR = "happysad.sweep_dir"
TAG_ROLE = "happysad.role"  # "sweep" on a sweep's parent run, "trial" on its jobs
TAG_TRIAL = "happysad.trial"
TAG_PARENT = "mlflow.parentRunId"
TAG_RUN_NAME = "mlflow.runName"
TAG_NOTE = "mlflow.note.content"
TAG_GIT_COMMIT = "mlflow.source.git.commit"
# Marks the experiment as model development (runs, metrics, models), not GenAI. MLflow 3.17.2's
# UI still starts in GenAI mode unless the browser chose "Model training" (the switch, or
# ?workflowType=machine_learning in the URL): its browser-wide setting wins over this tag.
TAG_EXPERIMENT_KIND = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"


# MLflow's compare view (3.17) preselects, for its parallel coordinates, the first metric the
# compared runs share, in the order the store returns them: the order in which each was first
# logged (a SQLite store returns a run's metrics in insertion order). Each run logs this one
# first, as NaN at step -1 ("not measured yet"), so that default is a test metric: its value at
# step 0, when the run ends, is the latest (what tables, charts and the logged model show).
COMPARE_METRIC = "test_accuracy"
PENDING_STEP = -1


def client(uri: str) -> Any:
    """An MlflowClient on `uri` (a SQLite store's folder is created first). Made under the
    store's lock: making it opens the store, which migrates a new one (store_lock.py)."""
    from mlflow.tracking import MlflowClient

    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    with store_lock(uri):
        return MlflowClient(tracking_uri=uri)


def ensure_experiment(mlflow_client: Any, name: str, artifact_location: str | None) -> str:
    """The experiment's id, creating the store's tables and the experiment when needed.

    Safe against a racing creator: parallel sweep jobs that each migrate a fresh SQLite
    store or create the same experiment retry instead of failing. The experiment is tagged
    as model development (see TAG_EXPERIMENT_KIND for what MLflow's UI makes of it).
    """
    from mlflow.exceptions import MlflowException

    location = artifact_location
    if location and "://" not in str(location):
        Path(location).mkdir(parents=True, exist_ok=True)
        location = Path(location).resolve().as_uri()
    for attempt in range(5):
        exp = mlflow_client.get_experiment_by_name(name)  # the first call migrates a fresh store
        if exp is not None:
            ensure_experiment_kind(mlflow_client, exp)
            return exp.experiment_id
        try:
            return mlflow_client.create_experiment(
                name, artifact_location=location, tags={TAG_EXPERIMENT_KIND: EXPERIMENT_KIND}
            )
        except MlflowException as err:
            text = f"{err.error_code} {err}"
            if "RESOURCE_ALREADY_EXISTS" not in text and "UNIQUE" not in text:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise RuntimeError(f"cannot create or find MLflow experiment {name!r}")


def ensure_experiment_kind(mlflow_client: Any, exp: Any) -> None:
    """Tag an experiment made elsewhere (or before happysad set it); a kind chosen stays."""
    if TAG_EXPERIMENT_KIND not in (exp.tags or {}):
        mlflow_client.set_experiment_tag(exp.experiment_id, TAG_EXPERIMENT_KIND, EXPERIMENT_KIND)


def launched_run() -> tuple[str, str] | None:
    """(run id, tracking URI) of the run `mlflow run` opened for this process, if any.

    `mlflow run` starts the entry point with MLFLOW_RUN_ID and MLFLOW_TRACKING_URI set: a
    single training job logs into that run, so the project run is the training run.
    """
    run_id = os.environ.get("MLFLOW_RUN_ID")
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    return (run_id, uri) if run_id and uri else None


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
            TAG_GIT_COMMIT: commit.stdout.strip(),
            TAG_GIT_DIRTY: str(bool(dirty.stdout.strip())).lower(),
        }
    except (OSError, subprocess.SubprocessError):
        return {}


class TrackingUnavailable(HappysadError):
    """The tracking server cannot be reached and tracking.required=true."""

    exit_code = 5


class Tracker:
    """Thin wrapper over the fluent MLflow API; `NullTracker` is the same without MLflow,
    and `open_tracker` picks one from the config.

    Logging calls made while a run is open never crash training: if the server goes away,
    metric values are buffered (and retried at the next call and at the end); other calls
    are reported once and skipped. Everything also stays in the Hydra run dir.
    """

    enabled = True  # records to MLflow (NullTracker: False); fixed per class

    def __init__(self, cfg: DictConfig) -> None:
        self.cfg = cfg
        self.run_id: str | None = None
        self.pending: list[tuple[dict[str, float], int | None]] = []
        self.failures: list[str] = []
        self.renamed: dict[str, str] = {}  # MLflow metric name -> the run's own name

    def _mlflow(self) -> Any:
        import mlflow

        return mlflow

    def check_reachable(self) -> bool:
        """Fail fast (before any data or model work) when an HTTP tracking server is down;
        False when it is down and tracking.required=false (then train untracked)."""
        uri = str(self.cfg.uri)
        # The schema (config.TrackingConf) gives every key its default: no fallbacks here.
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(int(self.cfg.http_retries)))
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(int(self.cfg.http_timeout)))
        if not uri.startswith(("http://", "https://")):
            return True
        import requests

        try:
            requests.get(uri.rstrip("/") + "/health", timeout=float(self.cfg.connect_timeout))
        except requests.RequestException as err:
            why = type(err).__name__
            if isinstance(err, requests.ConnectionError):
                why = "connection refused or host unreachable"
            msg = f"tracking.uri={redact_text(uri)}: MLflow server not reachable ({why})"
            if self.cfg.required:
                raise TrackingUnavailable(
                    msg
                    + "; start it, fix the URI, or set tracking.required=false to train untracked"
                ) from None
            log.warning("%s; tracking.required=false: training without MLflow", msg)
            return False
        return True

    def _experiment_id(self) -> str:
        return ensure_experiment(
            client(str(self.cfg.uri)), self.cfg.experiment, self.cfg.artifact_location
        )

    def start(self, run_name: str, tags: dict[str, str], run_id: str | None = None) -> None:
        """Open a new run, or reopen `run_id` (resume after a crash)."""
        mlflow = self._mlflow()
        redact_logs()  # MLflow's own handlers print run URLs with the URI's password
        uri = str(self.cfg.uri)
        if uri.startswith("sqlite:///"):
            Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        use_mlflow_store(uri)
        launched = launched_run()
        if launched and run_id is None and TAG_TRIAL not in tags and launched[1] == uri:
            run = mlflow.start_run(run_id=launched[0])  # `mlflow run`'s: log into it
            mlflow.set_tags({TAG_RUN_NAME: run_name, **tags})
            client_ = mlflow.MlflowClient()
            ensure_experiment_kind(client_, client_.get_experiment(run.info.experiment_id))
        elif run_id is not None:
            run = mlflow.start_run(run_id=run_id)
        else:
            # A sweep trial or resumed run under `mlflow run` opens its own run, not the launcher's.
            os.environ.pop("MLFLOW_RUN_ID", None)
            exp_id = self._experiment_id()
            all_tags = {**tags, **{str(k): str(v) for k, v in (self.cfg.tags or {}).items()}}
            run = mlflow.start_run(
                experiment_id=exp_id, run_name=redact_text(run_name), tags=redact(all_tags)
            )
        self.run_id = run.info.run_id
        log.info("MLflow run %s (%s) in %s", self.run_id, run.info.run_name, redact_text(uri))

    def _safely(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> bool:
        try:
            fn(*args, **kwargs)
            return True
        except Exception as err:
            first = first_line(err)
            if not self.failures:
                log.warning(
                    "MLflow %s failed (%s); training goes on, results stay in the run dir",
                    what,
                    first[:200],
                )
            self.failures.append(f"{what}: {first[:200]}")
            return False

    def flush(self) -> bool:
        """Retry buffered metric values; True when nothing is left pending."""
        mlflow = self._mlflow()
        while self.pending:
            metrics, step = self.pending[0]
            try:
                mlflow.log_metrics(metrics, step=step)
            except Exception as err:
                if not is_refusal(err):
                    return False  # not answering: kept, retried at the next call
                self.pending.pop(0)
                self._log_one_by_one(metrics, step)
                continue
            except KeyboardInterrupt:
                # Cut off mid-request: MLflow may have stored it. Never sent again from here
                # (that could log the step twice); the epoch journal decides what is missing.
                self.pending.pop(0)
                raise
            self.pending.pop(0)
        return True

    def end(self, status: str = "FINISHED") -> None:
        if self.run_id is None:
            return
        if not self.flush():
            log.error(
                "%d metric batches could not reach MLflow (run %s); the run dir has them all "
                "(history.csv, metrics.json)",
                len(self.pending),
                self.run_id,
            )
        # end_run pops the active run before contacting the server, so a failure here
        # leaves no dangling active run in this process (the server may show it RUNNING).
        with redacted_stdout():
            self._safely("end_run", self._mlflow().end_run, status=status)

    def log_params(self, params: dict[str, Any]) -> None:
        clean = {k: str(v)[:MAX_PARAM_LEN] for k, v in redact(dict(params)).items()}
        self._safely("log_params", self._mlflow().log_params, clean)

    def _log_one_by_one(self, metrics: dict[str, float], step: int | None) -> None:
        """A batch MLflow refused (4xx): send each value alone, so only the refused ones are
        lost to MLflow, and name each in an error (the run dir keeps them all)."""
        for key, value in metrics.items():
            try:
                self._mlflow().log_metric(key, value, step=step)
            except Exception as err:
                if not is_refusal(err):
                    self.pending.append(({key: value}, step))  # gone away meanwhile: retried
                    continue
                log.error("MLflow refused metric %r: %s", key, first_line(err)[:300])
                self.failures.append(f"log_metrics {key}: refused")

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        names = mlflow_metric_names(metrics)
        renamed = {new: old for old, new in names.items() if new != old}
        if renamed.keys() - self.renamed.keys():
            self.renamed.update(renamed)
            self.set_tags({TAG_METRIC_NAMES: json.dumps(self.renamed, sort_keys=True)})
        self.pending.append(({names[k]: float(v) for k, v in metrics.items()}, step))
        if not self.flush() and len(self.failures) == 0:
            self.failures.append("log_metrics")
            log.warning("MLflow unreachable: buffering metrics and retrying at each epoch")

    def set_tags(self, tags: dict[str, Any]) -> None:
        clean = {k: str(v) for k, v in redact(dict(tags)).items()}
        self._safely("set_tags", self._mlflow().set_tags, clean)

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        if Path(path).exists():
            self._safely("log_artifact", self._mlflow().log_artifact, str(path), artifact_path)

    def log_artifacts(self, path: str | Path, artifact_path: str | None = None) -> None:
        if Path(path).is_dir():
            self._safely("log_artifacts", self._mlflow().log_artifacts, str(path), artifact_path)

    def log_datasets(self, datasets: list[tuple[Any, str]]) -> None:
        """Log (MLflow dataset, context) pairs as the run's inputs, each once: a resumed run
        skips those it already has (same name and digest)."""
        try:
            run = self._mlflow().MlflowClient().get_run(self.run_id)
            have = {(i.dataset.name, i.dataset.digest) for i in run.inputs.dataset_inputs}
        except Exception:
            have = set()
        new = [(d, c) for d, c in datasets if (d.name, d.digest) not in have]
        if new:
            self._safely(
                "log_inputs",
                self._mlflow().log_inputs,
                datasets=[d for d, _ in new],
                contexts=[c for _, c in new],
                tags_list=[None] * len(new),
            )

    def register_model(self, model_uri: str, name: str) -> str | None:
        """Register the logged model as a new version of `name` (models:/<name>/<version>)."""
        try:
            mv = self._mlflow().register_model(model_uri, name)
        except Exception as err:
            log.warning("could not register the model as %r: %s", name, first_line(err)[:200])
            return None
        self.set_tags({TAG_REGISTERED_MODEL: f"models:/{name}/{mv.version}"})
        log.info("registered as models:/%s/%s", name, mv.version)
        return str(mv.version)

    def logged_epochs(self, key: str = "loss") -> set[int]:
        """The epochs (steps) of `key` already in this run: resume logs only the others."""
        if not self.run_id:
            return set()
        try:
            hist = self._mlflow().MlflowClient().get_metric_history(self.run_id, key)
        except Exception:
            return set()
        return {int(m.step) for m in hist}

    @contextmanager
    def run(
        self, run_name: str, tags: dict[str, str], run_id: str | None = None
    ) -> Iterator[Tracker]:
        """Start a run; end it FINISHED, KILLED (Ctrl-C) or FAILED (any error), never RUNNING."""
        self.start(run_name, tags, run_id=run_id)
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


class NullTracker(Tracker):
    """The tracker when nothing is tracked (tracking off, its server down with
    tracking.required=false, or a worker that is not the chief): every call does nothing,
    so the job calls the same methods either way and never asks whether it tracks."""

    enabled = False

    def __init__(self, cfg: DictConfig | None = None) -> None:
        super().__init__(cfg if cfg is not None else OmegaConf.create({"enabled": False}))

    def check_reachable(self) -> bool:
        return True

    def start(self, run_name: str, tags: dict[str, str], run_id: str | None = None) -> None:
        pass

    def flush(self) -> bool:
        return True

    def end(self, status: str = "FINISHED") -> None:
        pass

    def log_params(self, params: dict[str, Any]) -> None:
        pass

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        pass

    def set_tags(self, tags: dict[str, Any]) -> None:
        pass

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        pass

    def log_artifacts(self, path: str | Path, artifact_path: str | None = None) -> None:
        pass

    def log_datasets(self, datasets: list[tuple[Any, str]]) -> None:
        pass

    def register_model(self, model_uri: str, name: str) -> str | None:
        return None

    def logged_epochs(self, key: str = "loss") -> set[int]:
        return set()


def open_tracker(cfg: DictConfig) -> Tracker:
    """The job's tracker for `cfg` (the tracking group): a NullTracker when tracking.enabled
    is false, or when an HTTP server is down and tracking.required=false; raises
    TrackingUnavailable when it is down and required. Called before any data or model work,
    so a down server costs seconds."""
    if not cfg.enabled:
        return NullTracker(cfg)
    tracker = Tracker(cfg)
    return tracker if tracker.check_reachable() else NullTracker(cfg)
