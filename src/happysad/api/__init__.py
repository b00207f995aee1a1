"""The Python API: train, predict and evaluate from a notebook or a script.

The console scripts are thin wrappers over these functions, so `api.train([...])` and
`happysad-train ...` compose the same configs, write the same run dir (config, train.log,
reports, model) and log the same MLflow run; `api.predict` and `happysad-predict` share
every line that turns image files into class names.

    from happysad import api
    result = api.train(["trainer.epochs=1", "data=folder", "data.root=/data/faces"])
    api.predict(result, ["photo.jpg"])        # [Prediction(path, class_name, probability, ...)]
    api.evaluate(result, "/data/other_faces")  # {"metrics": {...}, "scan": ..., ...}

Errors are raised as `happysad.errors.HappysadError` subclasses with the one line the CLI
prints (ConfigError names the key). TensorFlow is imported only once a config is valid, and
never by predict/evaluate of a model with a portable (ONNX) copy (`runtime="auto"`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from happysad.errors import (
    ConfigError,
    DataError,
    HappysadError,
    check_batch_size,
    check_threshold,
    first_line,
)

if TYPE_CHECKING:
    from omegaconf import DictConfig

# Training imports Hydra, OmegaConf and MLflow inside the functions that need them: predict
# and evaluate of a local model folder import none of them (nor TensorFlow, given the
# model's portable copy), so `from happysad import api` stays cheap.

__all__ = [
    "TrainResult",
    "compose",
    "evaluate",
    "load",
    "predict",
    "train",
]

PathLike = str | os.PathLike


@dataclass
class TrainResult:
    """What a training run produced; `predict(result, ...)` and `evaluate(result, ...)` accept it."""

    run_id: str | None  # None with tracking=none
    run_dir: Path
    metrics: dict[str, float]  # test_* (or val_*) metrics, best_val_*, objective, timings
    model_uri: str  # runs:/<run_id>/model when logged, else the local model folder
    class_names: list[str]
    model_dir: Path
    tracking_uri: str | None  # the store the run went to (resolves runs:/ in model_uri)
    summary: dict[str, Any] = field(default_factory=dict, repr=False)  # everything train returned

    @property
    def objective(self) -> float | None:
        return self.metrics.get("objective")


# --- configs -------------------------------------------------------------------------------


def explain_hydra_error(err: Exception, overrides: Sequence[str]) -> str:
    """Hydra's multi-line composition errors, as one line that names the key or option."""
    text = str(err)
    m = re.search(r"Could not override '([^']+)'", text)
    if m:
        key = m.group(1)
        value = next((o.split("=", 1)[1] for o in overrides if o.split("=", 1)[0] == key), "")
        return f"{key}={value}: unknown key (a typo? `happysad-train --cfg job` lists the keys; to add a new key use +{key}={value})"
    if "LexerNoViableAltException" in text or "mismatched input" in text:
        bad = next((o for o in overrides if o in text), " ".join(overrides))
        return (
            f"{bad}: Hydra cannot parse this override (`~`, `$`, `=` and brackets are part of "
            f"its grammar); quote the value, e.g. {bad.split('=', 1)[0]}='<value>'"
        )
    m = re.search(r"Error merging override (\S+?)=(.*)", text)
    if m and err.__cause__ is not None:  # a value of the wrong type for a schema key
        key, value = m.groups()
        return f"{key}={value}: {first_line(err.__cause__)}"
    m = re.search(r"Could not find '([^'/]+)/([^']+)'", text)
    if m:
        group, option = m.groups()
        # A nested group (hydra/launcher=nope): the override that names this path, not the
        # first slash (an option may hold slashes, e.g. a URI given by mistake).
        named = (o.lstrip("+~").split("=", 1) for o in overrides if "=" in o)
        group, option = next(
            ((k, v) for k, v in named if f"{k}/{v}" == f"{group}/{option}"), (group, option)
        )
        from happysad.paths import INTERNAL_OPTIONS

        listed = re.findall(r"^\t(\S+)$", text.split("Config search path")[0], flags=re.M)
        avail = [o for o in listed if o not in INTERNAL_OPTIONS]  # not the `schema` entries
        return f"{group}={option}: no such option in conf/{group}/ (available: {', '.join(avail) or 'none'})"
    return f"{' '.join(overrides)}: {first_line(err)}"


def _search_path(user_dir: PathLike | None) -> list[str]:
    """A user's config folder as an extra search path: its files compose with happysad's."""
    if user_dir is None:
        return []
    path = Path(user_dir).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(f"config_dir={user_dir}: not a folder")
    return [f"hydra.searchpath=[file://{path}]"]


@contextmanager
def _hydra() -> Iterator[Any]:
    """Hydra initialised on the packaged conf/ for one call, then restored as it was.

    Restoring (not just clearing) lets the API run twice in one process and also from
    inside someone else's Hydra app.
    """
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.initialize import get_gh_backup, restore_gh_from_backup

    import happysad.config  # noqa: F401  (registers the model schema with Hydra)
    from happysad.paths import config_dir as package_config_dir

    backup = get_gh_backup()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(
            config_dir=str(package_config_dir()), version_base="1.3", job_name="train"
        ):
            yield GlobalHydra.instance().hydra
    finally:
        restore_gh_from_backup(backup)


def compose(
    overrides: Sequence[str] | None = None,
    config_dir: PathLike | None = None,
    return_hydra_config: bool = False,
) -> DictConfig:
    """The composed (not yet validated) training config, as `happysad-train --cfg job` shows it.

    `config_dir`: a folder of the user's own YAMLs (e.g. `model/my_cnn.yaml`) composed on
    top of happysad's, like `happysad-train --config-dir DIR`.
    """
    from hydra import compose as hydra_compose

    overrides = list(overrides or [])
    extra = _search_path(config_dir)
    with _hydra():
        try:
            return hydra_compose(
                "config", overrides=overrides + extra, return_hydra_config=return_hydra_config
            )
        except Exception as err:
            raise ConfigError(explain_hydra_error(err, overrides)) from None


# --- training ------------------------------------------------------------------------------


@dataclass
class Job:
    """One training job, checked and ready: the validated config and where it runs."""

    cfg: DictConfig
    run_dir: str
    overrides: list[str]
    tags: dict[str, str]

    def run(self) -> dict[str, Any]:
        from happysad.training.job import train as train_job

        return train_job(
            self.cfg, run_dir=self.run_dir, overrides=self.overrides, extra_tags=self.tags
        )


def prepare_job(cfg: DictConfig, run_dir: str, overrides: list[str]) -> Job:
    """Resume (trainer.resume), validate, check the data root, and tag sweep jobs.

    Everything here fails in about a second, before TensorFlow is imported.
    """
    from omegaconf import open_dict

    from happysad.config import validate
    from happysad.sweeps import runs as sweep
    from happysad.tracking.tracker import launched_run

    if cfg.trainer.get("resume"):
        from happysad.training.resume import resume_config

        cfg, run_dir = resume_config(cfg, overrides)
    cfg = validate(cfg)
    if cfg.data.source == "folder":  # a missing data root costs a second, not a TF import
        from happysad.data.scan import discover_classes

        discover_classes(cfg.data.root, list(cfg.data.class_names or []) or None)
    tags = sweep.job_tags(cfg, overrides)
    if tags and not cfg.tracking.run_name:  # a sweep job: name it by what it varies
        with open_dict(cfg):
            cfg.tracking.run_name = sweep.job_run_name(overrides)
    launched = launched_run()
    if launched and not tags and cfg.tracking.enabled and not cfg.trainer.get("resume"):
        # Started by `mlflow run`: train in the run it opened, in its store.
        with open_dict(cfg):
            cfg.tracking.uri = launched[1]
    return Job(cfg, str(run_dir), list(overrides), tags)


def drop_empty_run_dir(run_dir: str | Path) -> None:
    """A job refused before any work leaves no clutter, and removes only what it made.

    Only Hydra's own entries (`.hydra/`, the job log) may be there; the folder itself goes
    only if it did not exist before the run. When the pre-Hydra check did not see this run
    dir (so nobody knows what was there before), nothing is removed: a user's `train.log`
    is worth more than a tidy outputs folder.
    """
    import shutil

    from happysad.training.resume import existed_before_run, hydra_job_files

    path = Path(run_dir)
    existed = existed_before_run(path)
    if existed is None or not path.is_dir():
        return
    entries = list(path.iterdir())
    if not {p.name for p in entries} <= hydra_job_files():
        return
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    if not existed:
        with contextlib.suppress(OSError):
            path.rmdir()


def hydra_context() -> tuple[str, list[str]]:
    """The running Hydra job's output dir and its task overrides."""
    from hydra.core.hydra_config import HydraConfig

    hc = HydraConfig.get()
    return hc.runtime.output_dir, list(hc.overrides.task)


def release_state() -> None:
    """Jobs may share a process (sweeps, notebooks): drop Keras graphs, never leak a run."""
    if "keras" in sys.modules:
        import keras

        keras.backend.clear_session()
    if "mlflow" in sys.modules:
        import mlflow

        from happysad.errors import redacted_stdout

        while mlflow.active_run() is not None:
            with redacted_stdout():  # MLflow prints the run's URL, credentials included
                mlflow.end_run("FAILED")


def train(
    overrides: Sequence[str] | None = None, config_dir: PathLike | None = None
) -> TrainResult:
    """Train once with Hydra overrides, exactly as `happysad-train OVERRIDES` does.

    The run dir, its `.hydra/` files and `train.log`, and the MLflow run are the CLI's.
    Raises ConfigError / DataError / ... (HappysadError) with the CLI's one-line message.
    """
    overrides = list(overrides or [])
    extra = _search_path(config_dir)
    outcome: dict[str, Any] = {}

    def task(cfg: DictConfig) -> None:
        run_dir, task_overrides = hydra_context()
        try:
            job = prepare_job(cfg, run_dir, task_overrides)
            outcome["job"] = job
            outcome["summary"] = job.run()
        except BaseException as err:  # raised below, outside Hydra (which would print it)
            outcome["error"] = err
            if isinstance(err, HappysadError):
                drop_empty_run_dir(run_dir)
        finally:
            release_state()

    # A bad override: one line naming it, before any run dir.
    composed = compose(overrides, config_dir, return_hydra_config=True)
    _refuse_run_dir_before_hydra(composed)
    with _hydra() as hydra_app:
        hydra_app.run(config_name="config", task_function=task, overrides=overrides + extra)
    if "error" in outcome:
        raise outcome["error"]
    return _result(outcome["job"], outcome["summary"])


def _refuse_run_dir_before_hydra(composed: DictConfig) -> None:
    """Refuse someone else's folder as the run dir before Hydra writes `.hydra/` and its log
    there. The CLI's Hydra callback does this too, but Hydra turns an exception raised in a
    callback into a warning and carries on writing, so here it is checked first.

    A default run dir (with a timestamp) composes to another instant than the run's: it is
    new either way, and the callback notes the real one."""
    from happysad.training.resume import refuse_reused_run_dir

    if not composed.trainer.resume:
        refuse_reused_run_dir(Path(str(composed.hydra.run.dir)))


def _result(job: Job, summary: dict[str, Any]) -> TrainResult:
    metrics = {
        k: float(v)
        for k, v in summary.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    model_dir = Path(summary.get("model_dir") or Path(job.run_dir) / "model")
    tracking = job.cfg.tracking
    return TrainResult(
        run_id=summary.get("run_id"),
        run_dir=Path(summary.get("run_dir") or job.run_dir),
        metrics=metrics,
        model_uri=str(summary.get("model_uri") or model_dir),
        class_names=list(summary.get("class_names") or []),
        model_dir=model_dir,
        tracking_uri=str(tracking.uri) if tracking.enabled else None,
        summary=summary,
    )


# --- using a model -------------------------------------------------------------------------


def load(
    model: Any, tracking_uri: str | None = None, safe_mode: bool = True, runtime: str = "auto"
) -> Any:  # -> serving.loading.LoadedModel
    """A loaded model from a model folder, run dir, runs:/ or models:/ URI, or a TrainResult.

    Already-loaded models pass through. `safe_mode=False` allows Lambda layers (trusted
    models only: they run arbitrary code). `runtime`: "auto" runs the model's portable ONNX
    copy when it has one (no TensorFlow), else Keras; "portable" or "keras" insist.
    """
    from happysad.serving.loading import LoadedModel, is_uri, load_model

    if isinstance(model, LoadedModel):
        return model
    if isinstance(model, TrainResult):  # the local copy: no store needed
        return load_model(str(model.model_dir), safe_mode=safe_mode, runtime=runtime)
    if is_uri(str(model)) and not tracking_uri:
        from happysad.paths import default_tracking_uri

        tracking_uri = default_tracking_uri()
    return load_model(str(model), tracking_uri=tracking_uri, safe_mode=safe_mode, runtime=runtime)


def predict(
    model: Any,
    inputs: Sequence[PathLike] | PathLike,
    *,
    recursive: bool = False,
    batch_size: int = 64,
    threshold: float | None = None,
    tracking_uri: str | None = None,
    safe_mode: bool = True,
    runtime: str = "auto",
) -> list[Any]:  # -> list[serving.predict.Prediction]
    """Class name and probability per image file (files, folders, globs), as happysad-predict.

    Returns one `Prediction` per image, inputs that match nothing or cannot be read
    included (their `error` is set; the others still run). `.to_dict()` gives the JSON row.
    """
    from happysad.serving.predict import expand_inputs, predict_files

    check_threshold(threshold)
    check_batch_size(batch_size)
    items = [inputs] if isinstance(inputs, str | os.PathLike) else list(inputs)
    files, failures = expand_inputs([str(i) for i in items], recursive=recursive)
    loaded = load(model, tracking_uri=tracking_uri, safe_mode=safe_mode, runtime=runtime)
    return failures + predict_files(loaded, files, batch_size=batch_size, threshold=threshold)


def _keras_or_none(loaded: Any) -> Any:
    """The Keras model behind `loaded` (an ONNX-answering model loads it), or None when the
    model has none: the figures are then drawn without Grad-CAM."""
    from happysad.errors import ModelLoadError

    try:
        return loaded.keras_model
    except ModelLoadError:
        return None


def evaluate(
    model: Any,
    data_root: PathLike,
    *,
    threshold: float | None = None,
    batch_size: int = 64,
    out: PathLike | None = None,
    tracking_uri: str | None = None,
    runtime: str = "auto",
) -> dict[str, Any]:
    """Re-evaluate a model on a folder-per-class set, as happysad-eval does.

    The folder's class sub-folders carry (a subset of) the model's class names; bad files
    are skipped and counted as in training. With `out`, the evaluation figures, the
    metrics.json and the cleaning report are written there; the Grad-CAM figures need the
    Keras model, so `out` with `runtime="auto"` runs Keras (`runtime="portable"`: no Grad-CAM).
    """
    from happysad.data.loader import load_images
    from happysad.data.scan import scan_folder
    from happysad.evaluate import evaluate_predictions, format_metrics

    check_threshold(threshold)
    check_batch_size(batch_size)
    root = Path(data_root)
    if not root.is_dir():
        raise DataError(f"{data_root}: not a folder")
    if out and runtime == "auto":
        runtime = "keras"  # the figures include Grad-CAM, which differentiates the Keras model
    loaded = load(model, tracking_uri=tracking_uri, runtime=runtime)
    names = loaded.metadata.class_names
    folders = sorted(c.name for c in root.iterdir() if c.is_dir() and not c.name.startswith("."))
    present = [n for n in names if (root / n).is_dir()]
    if not present:
        raise DataError(
            f"{data_root}: no sub-folder named after the model's classes ({', '.join(names)})"
        )
    scanned = scan_folder(str(root), class_names=present)
    # Labels must be the model's indices, not positions in the subset found on disk.
    index = {n: i for i, n in enumerate(names)}
    records = [r._replace(label=index[r.class_name]) for r in scanned.records]
    if not records:
        raise DataError(f"{data_root}: no usable images ({scanned.summary()})")
    images, labels = load_images(records, loaded.metadata.preprocessing)
    probs = loaded.predict_arrays(images, batch_size=batch_size)
    threshold = loaded.metadata.threshold if threshold is None else threshold
    ev = evaluate_predictions(labels, probs, names, threshold, prefix="")
    result = {
        "model": model.model_uri if isinstance(model, TrainResult) else str(model),
        "data_root": str(data_root),
        "scan": scanned.summary(),
        "threshold": threshold,
        "metrics": ev.metrics,
        "ignored_folders": [f for f in folders if f not in names],
    }
    if out:
        from happysad.insight.artifacts import EvalFigures, draw_evaluation

        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "metrics.json").write_text(json.dumps(result, indent=2))
        scanned.write_report(out_dir / "cleaning_report.csv")
        draw_evaluation(
            EvalFigures(
                ev=ev,
                images=images,
                paths=[r.relpath for r in records],
                plot_dir=out_dir,
                threshold=threshold,
                eval_split="evaluated",
                model=_keras_or_none(loaded),  # Grad-CAM differentiates the Keras model
            )
        )
    result["headline"] = format_metrics(ev.metrics, prefix="")
    return result
