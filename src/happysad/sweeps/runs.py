"""Sweeps: one MLflow parent run per Hydra multirun, its jobs nested under it.

Parent side (the process running `happysad-train -m ...`), `SweepCallback`, a Hydra callback
listed in conf/config.yaml:

- `on_multirun_start` creates the store's tables and the experiment once, before any job
  starts (parallel jobs that each migrate a fresh SQLite store race and lose runs), opens
  the sweep's parent run with the sweep's config, and writes `<sweep dir>/happysad_sweep.json`
  so that every job - in this process, a joblib worker or a SLURM node sharing the folder -
  finds the sweep id and the parent run.
- `on_multirun_end` (or, when a failed job made Hydra stop before it, at interpreter exit)
  records the best trial's run id, params and objective on the parent, a table of all trials,
  names every failed job, and ends the parent run.

Job side: `job_tags` (the tags that nest a job's run under the parent), `objective_value`
(the number a job returns to the sweeper), `threads_per_job` (the `${happysad_threads:}`
resolver), and `on_job_end`, which leaves `<job dir>/happysad_job.json` with the job's outcome.

Nothing here imports TensorFlow or MLflow at module level: Hydra instantiates the callback
for every run, swept or not.
"""

from __future__ import annotations

import atexit
import csv
import json
import logging
import math
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from happysad.config import with_schemas
from happysad.errors import (
    csv_row,
    redact,
    redact_file,
    redact_logs,
    redact_text,
    redacted_stdout,
)
from happysad.resources import _hydra_cfg, is_multirun
from happysad.tracking.compare import (
    RunInfo,
    best_run,
    override_key,
    trial_runs,
    varying_override_keys,
)
from happysad.tracking.params import readable_overrides, run_name
from happysad.tracking.tracker import (
    MAX_PARAM_LEN,
    TAG_BEST_RUN_ID,
    TAG_BEST_RUN_NAME,
    TAG_BEST_TRIAL,
    TAG_NOTE,
    TAG_OVERRIDES,
    TAG_OVERRIDES_JSON,
    TAG_PARENT,
    TAG_ROLE,
    TAG_SWEEP_DIR,
    TAG_SWEEP_ID,
    TAG_TRIAL,
    ensure_experiment,
)
from happysad.tracking.tracker import client as mlflow_client

log = logging.getLogger("happysad.sweeps.runs")

SWEEP_FILE = "happysad_sweep.json"
JOB_FILE = "happysad_job.json"


# --- job side --------------------------------------------------------------------------------


def read_sweep_info(sweep_dir: str | Path) -> dict[str, Any] | None:
    path = Path(sweep_dir) / SWEEP_FILE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def job_run_name(overrides: list[str]) -> str | None:
    """`#3 optimizer.lr=0.003 model=small_cnn`: a sweep job's number and the overrides that
    set it apart from the sweep's fixed ones. None outside a sweep."""
    hc = _hydra_cfg()
    if hc is None or not is_multirun():
        return None
    info = read_sweep_info(hc.sweep.dir) or {}
    fixed = {_canonical(o) for o in info.get("fixed_overrides") or []}  # stored redacted
    own = [o for o in overrides if _canonical(redact_text(o)) not in fixed]
    model = str(_select(hc, "runtime.choices.model", "") or "")
    return run_name(own, model or "job", prefix=f"#{hc.job.num}")


def _canonical(override: str) -> str:
    """One spelling per override (launchers may re-spell `x=false` as `x=False`)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        (o,) = OverridesParser.create().parse_overrides([override])
        return f"{o.get_key_element()}={o.get_value_element_as_str()}"
    except Exception:
        return override


def job_tags(cfg: DictConfig, overrides: list[str]) -> dict[str, str]:
    """Tags for a sweep job's run: sweep id, trial number, parent run, its own overrides."""
    hc = _hydra_cfg()
    if hc is None or not is_multirun():
        return {}
    tags = {
        TAG_ROLE: "trial",
        TAG_TRIAL: str(hc.job.num),
        TAG_OVERRIDES_JSON: json.dumps(overrides)[:MAX_PARAM_LEN],
    }
    info = read_sweep_info(hc.sweep.dir)
    if info is None:
        log.warning("no %s in %s: this job is not grouped with its sweep", SWEEP_FILE, hc.sweep.dir)
        return tags
    tags[TAG_SWEEP_ID] = str(info["sweep_id"])
    # Nest under the parent only in the parent's own store and experiment.
    same_store = info.get("tracking_uri") == redact_text(str(cfg.tracking.uri))
    same_exp = info.get("experiment") == str(cfg.tracking.experiment)
    if info.get("parent_run_id") and same_store and same_exp:
        tags[TAG_PARENT] = str(info["parent_run_id"])
    return tags


# --- parent side -----------------------------------------------------------------------------


def _select(cfg: DictConfig, key: str, default: Any = None) -> Any:
    try:
        return OmegaConf.select(cfg, key, default=default, throw_on_resolution_failure=False)
    except Exception:
        return default


def _short_target(node: Any) -> str:
    target = str(_select(node, "_target_", "") or "") if node is not None else ""
    return target.rsplit(".", 1)[-1] or "?"


def _sweep_overrides(task_overrides: list[str], with_preset: bool = True) -> list[str]:
    """The overrides that make this a sweep (value lists, sweep functions, a search preset)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    out = []
    try:
        parsed = OverridesParser.create().parse_overrides(task_overrides)
    except Exception:
        return []
    for o in parsed:
        if o.is_sweep_override() or (with_preset and o.key_or_group == "hparams_search"):
            out.append(o.input_line or "")
    return [o for o in out if o]


def _sweep_params(config: DictConfig, trainer: DictConfig) -> dict[str, str]:
    """What defines the sweep: overrides, sweeper, launcher, search space, objective."""
    hydra = config.hydra
    sweeper, launcher = hydra.sweeper, hydra.launcher
    task = [str(o) for o in hydra.overrides.task]
    params: dict[str, Any] = {
        # Without paths (they differ per sweep); the full list is the TAG_OVERRIDES tag.
        "sweep.overrides": " ".join(readable_overrides(task)) or "(none)",
        "sweep.sweeper": _short_target(sweeper),
        "sweep.launcher": _short_target(launcher),
        "objective": trainer.objective,
        "objective_direction": trainer.objective_direction,
    }
    for key in ("n_jobs", "cpus_per_task", "timeout_min", "partition"):
        v = _select(launcher, key)
        if v is not None:
            params[f"sweep.launcher.{key}"] = v
    for key in ("n_trials", "n_jobs", "direction", "storage", "study_name", "max_failure_rate"):
        v = _select(sweeper, key)
        if v is not None:
            params[f"sweep.{key}"] = v
    sampler = _select(sweeper, "sampler")
    if sampler is not None:
        params["sweep.sampler"] = _short_target(sampler)
    space = _select(sweeper, "params")
    if space:
        for k, v in space.items():
            params[f"sweep.params.{k}"] = v
    return {k: str(v)[:MAX_PARAM_LEN] for k, v in redact(params).items()}


def _tracking_and_trainer(config: DictConfig) -> tuple[DictConfig, DictConfig]:
    """The sweep's tracking and trainer settings, every key there: the config Hydra gives the
    callback is as composed, not validated, and a user's YAML without `defaults: [schema]`
    lacks keys. Read through the schemas, as every job reads them (config.validate)."""
    filled = with_schemas(config, ("tracking", "trainer"))
    return filled.tracking, filled.trainer


def start_sweep(config: DictConfig) -> dict[str, Any]:
    """Prepare the store, open the parent run, write the sweep file; return the sweep state."""
    tracking, trainer = _tracking_and_trainer(config)
    # Read from Hydra's own config object: `${now:}` in the sweep dir resolves once per object
    # (a cached resolver), and the launcher reads the same object for the jobs' folders.
    sweep_dir = Path(str(config.hydra.sweep.dir))
    sweep_dir.mkdir(parents=True, exist_ok=True)
    sweep_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    task = [str(o) for o in config.hydra.overrides.task]
    swept = set(_sweep_overrides(task, with_preset=False))
    state: dict[str, Any] = {
        "sweep_id": sweep_id,
        "sweep_dir": str(sweep_dir),
        "parent_run_id": None,
        "tracking_uri": None,
        "experiment": str(tracking.experiment),
        "objective": str(trainer.objective),
        "direction": str(trainer.objective_direction),
        "started": time.time(),
        "fixed_overrides": [o for o in task if o not in swept],
    }
    if tracking.enabled:
        uri = str(tracking.uri)
        client = mlflow_client(uri)
        exp_id = ensure_experiment(client, state["experiment"], tracking.artifact_location)
        name = " ".join(readable_overrides(_sweep_overrides(task))) or "multirun"
        run = client.create_run(
            exp_id,
            run_name=redact_text(f"sweep: {name}")[:250],
            tags={
                TAG_OVERRIDES: redact_text(" ".join(task) or "(none)")[:MAX_PARAM_LEN],
                TAG_ROLE: "sweep",
                TAG_SWEEP_ID: sweep_id,
                TAG_SWEEP_DIR: str(sweep_dir),
                **{str(k): str(v) for k, v in redact(dict(tracking.tags)).items()},
            },
        )
        state.update(tracking_uri=uri, experiment_id=exp_id, parent_run_id=run.info.run_id)
        params = _sweep_params(config, trainer)
        for k, v in params.items():
            client.log_param(run.info.run_id, k, v)
        with tempfile.TemporaryDirectory() as tmp:
            OmegaConf.save(config, Path(tmp) / "multirun.yaml")  # unresolved: as composed
            redact_file(Path(tmp) / "multirun.yaml")
            client.log_artifact(run.info.run_id, str(Path(tmp) / "multirun.yaml"), "sweep")
        log.info(
            "sweep %s: parent MLflow run %s in %s (experiment %s)",
            sweep_id,
            run.info.run_id,
            redact_text(uri),
            state["experiment"],
        )
    # On disk without secrets; the state kept in memory has the real URI to finish the sweep.
    (sweep_dir / SWEEP_FILE).write_text(json.dumps(redact(state), indent=2))
    return state


def _job_records(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for path in Path(state["sweep_dir"]).glob(f"**/{JOB_FILE}"):
        try:
            rec = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if rec.get("sweep_id") == state["sweep_id"]:
            out.append(rec)
    return sorted(out, key=lambda r: int(r.get("num", 0)))


def finish_sweep(state: Mapping[str, Any], completed: bool) -> dict[str, Any]:
    """Record the best trial and a trials table on the parent run, end it, log a summary."""
    jobs = _job_records(state)
    failed_jobs = [j for j in jobs if j.get("status") != "COMPLETED"]
    summary: dict[str, Any] = {"n_jobs": len(jobs), "failed_jobs": failed_jobs, "best": None}
    for j in failed_jobs:
        log.error(
            "sweep %s: job %s failed (%s): %s",
            state["sweep_id"],
            j.get("num"),
            " ".join(j.get("overrides", [])),
            j.get("error", "?"),
        )
    parent_id = state.get("parent_run_id")
    if not parent_id:
        return summary
    client = mlflow_client(str(state["tracking_uri"]))
    runs = trial_runs(client, str(state["experiment_id"]), str(state["sweep_id"]))
    runs.sort(key=lambda r: int(r.trial) if r.trial.isdigit() else 0)
    best = best_run(runs, "objective", str(state["direction"]))
    n_failed = max(len(failed_jobs), sum(r.status == "FAILED" for r in runs))
    metrics = {
        "n_trials": float(max(len(jobs), len(runs))),
        "n_finished": float(sum(r.status == "FINISHED" for r in runs)),
        "n_failed": float(n_failed),
        "sweep_seconds": time.time() - float(state["started"]),
    }
    keys = _swept_keys(runs, state.get("fixed_overrides") or [])
    _log_trials(client, parent_id, runs, keys, str(state["direction"]))
    if best is not None:
        metrics["best_objective"] = best.metrics["objective"]
        best_params = redact({k: best.overrides.get(k) or best.params.get(k, "") for k in keys})
        for k, v in best_params.items():
            client.log_param(parent_id, f"best.{k}", str(v)[:MAX_PARAM_LEN])
        client.set_tag(parent_id, TAG_BEST_RUN_ID, best.run_id)
        client.set_tag(parent_id, TAG_BEST_TRIAL, best.trial)
        client.set_tag(parent_id, TAG_BEST_RUN_NAME, best.name)
        shown = " ".join(f"{k}={v}" for k, v in best_params.items())
        note = (
            f"Best trial {best.trial} (run {best.run_id}): {state['objective']} = "
            f"{best.metrics['objective']:.4f} ({state['direction']}) with {shown or '(no overrides)'}."
        )
        client.set_tag(parent_id, TAG_NOTE, redact_text(note))
        summary["best"] = {"run_id": best.run_id, "trial": best.trial, "params": best_params}
        log.info("sweep %s: %s", state["sweep_id"], note)
    for k, v in metrics.items():
        client.log_metric(parent_id, k, v)
    results = Path(state["sweep_dir"]) / "optimization_results.yaml"
    if results.is_file():
        client.log_artifact(parent_id, str(results), "sweep")
    ok = completed and n_failed == 0 and len(runs) > 0
    with redacted_stdout():  # MLflow prints the run's URL, password included
        client.set_terminated(parent_id, "FINISHED" if ok else "FAILED")
    summary.update(metrics)
    return summary


def _swept_keys(runs: list[RunInfo], fixed_overrides: list[str]) -> list[str]:
    """The keys a sweep set per trial: each trial's overrides beyond the sweep's fixed ones
    (all searched params for Optuna, the swept keys for a grid), plus any key that varies."""
    fixed = {_canonical(o) for o in fixed_overrides}
    keys: list[str] = []
    for r in runs:
        try:
            raw = [str(o) for o in json.loads(r.tags.get(TAG_OVERRIDES_JSON, "[]"))]
        except ValueError:
            raw = []
        for o in raw:
            kv = override_key(o)
            if kv and _canonical(o) not in fixed and kv[0] not in keys:
                keys.append(kv[0])
    return keys + [k for k in varying_override_keys(runs) if k not in keys]


def _log_trials(
    client: Any, parent_id: str, runs: list[RunInfo], keys: list[str], direction: str
) -> None:
    """Per-trial objective as a metric history on the parent, and a trials.csv artifact."""
    best_so_far: float | None = None
    for r in runs:
        value = r.metrics.get("objective")
        if value is None or not math.isfinite(value) or not r.trial.isdigit():
            continue
        step = int(r.trial)
        if best_so_far is None:
            best_so_far = value
        else:
            best_so_far = (
                max(best_so_far, value) if direction == "maximize" else min(best_so_far, value)
            )
        client.log_metric(parent_id, "trial_objective", value, step=step)
        client.log_metric(parent_id, "best_objective_so_far", best_so_far, step=step)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trials.csv"
        with path.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["trial", "run_id", "status", *keys, "objective"])
            for r in runs:
                row = [r.trial, r.run_id, r.status, *[r.overrides.get(k, "") for k in keys]]
                w.writerow([*csv_row(redact(row)), r.metrics.get("objective", "")])
        client.log_artifact(parent_id, str(path), "sweep")


def _write_job_record(config: DictConfig, job_return: Any) -> None:
    from hydra.core.utils import JobStatus

    hc = config.hydra
    info = read_sweep_info(str(hc.sweep.dir)) or {}
    failed = job_return.status != JobStatus.COMPLETED
    value = job_return._return_value
    record = {
        "sweep_id": info.get("sweep_id"),
        "num": int(hc.job.num),
        "overrides": [str(o) for o in hc.overrides.task],
        "status": "FAILED" if failed else "COMPLETED",
        "error": f"{type(value).__name__}: {value}" if failed else None,
        "return_value": value if isinstance(value, int | float) and not failed else None,
    }
    out = Path(str(hc.runtime.output_dir)) / JOB_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(redact(record), indent=2))


class SweepCallback(Callback):
    """Hydra callback: see the module docstring. Errors are logged, never fatal to a sweep."""

    def __init__(self) -> None:
        self._state: dict[str, Any] | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        redact_logs()
        try:
            self._state = start_sweep(config)
        except Exception as err:
            log.error("sweep: cannot open the parent MLflow run, jobs are not grouped: %s", err)
            self._state = None
            return
        atexit.register(self._finish_at_exit)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        redact_file(Path(str(config.hydra.sweep.dir)) / "multirun.yaml")  # Hydra's, as given
        if self._state is None:
            return
        atexit.unregister(self._finish_at_exit)
        state, self._state = self._state, None
        finish_sweep(state, completed=True)

    def _finish_at_exit(self) -> None:
        """Hydra stopped before on_multirun_end (a job failed): still record and close."""
        if self._state is None:
            return
        state, self._state = self._state, None
        try:
            finish_sweep(state, completed=False)
        except Exception as err:
            log.error("sweep %s: cannot finish the parent run: %s", state["sweep_id"], err)

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if is_multirun():
            _write_job_record(config, job_return)

    def __getstate__(self) -> dict[str, Any]:
        # Shipped to joblib/submitit workers: they need no parent state.
        return {"_state": None}
