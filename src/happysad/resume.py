"""Continue a run that was killed: same run dir, same config, same MLflow run.

`trainer.resume` takes the run dir (outputs/runs/<date>/<time>) or the MLflow run id.
The job reloads that run's composed config (`.hydra/config.yaml`), so the data, split and
model are the ones the run started with; Keras' BackupAndRestore (written at the end of
every epoch into `<run dir>/backup/`) restores weights, optimizer state and the epoch count.
"""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from happysad.errors import ConfigError

STATE_FILE = "happysad_run.json"


def write_state(run_dir: Path, run_id: str | None, tracking_uri: str | None) -> None:
    (run_dir / STATE_FILE).write_text(json.dumps({"run_id": run_id, "tracking_uri": tracking_uri}))


def read_state(run_dir: Path) -> dict:
    path = run_dir / STATE_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def _find_run_dir(ref: str, cfg: DictConfig) -> Path:
    path = Path(ref).expanduser()
    if path.is_dir():
        return path.resolve()
    if not cfg.tracking.enabled:
        raise ConfigError(
            f"trainer.resume={ref!r}: no such run dir (and tracking is off, so not a run id)"
        )
    import mlflow

    try:
        run = mlflow.MlflowClient(tracking_uri=str(cfg.tracking.uri)).get_run(ref)
    except Exception:
        raise ConfigError(
            f"trainer.resume={ref!r}: neither a run dir nor a run id in {cfg.tracking.uri}"
        ) from None
    run_dir = run.data.tags.get("happysad.run_dir")
    if not run_dir or not Path(run_dir).is_dir():
        raise ConfigError(
            f"trainer.resume={ref!r}: the run's dir {run_dir!r} is gone; cannot resume"
        )
    return Path(run_dir)


def resume_config(cfg: DictConfig) -> tuple[DictConfig, str]:
    """(the interrupted run's config with trainer.resume kept, its run dir)."""
    ref = str(cfg.trainer.resume)
    run_dir = _find_run_dir(ref, cfg)
    saved = run_dir / ".hydra" / "config.yaml"
    if not saved.is_file() or not (run_dir / STATE_FILE).is_file():
        raise ConfigError(f"trainer.resume={ref!r}: {run_dir} is not a happysad run dir")
    old = OmegaConf.load(saved)
    assert isinstance(old, DictConfig)
    old.paths.run_dir = str(run_dir)  # was ${hydra:runtime.output_dir}: pin it to the old dir
    old.trainer.resume = ref
    return old, str(run_dir)
