"""Continue a run that was killed: same run dir, same config, same MLflow run.

`trainer.resume` takes the run dir (outputs/runs/<date>/<time>) or the MLflow run id.
The job reloads that run's composed config (`.hydra/config.yaml`), so the data, split and
model are the ones the run started with; Keras' BackupAndRestore (written at the end of
every epoch into `<run dir>/backup/`) restores weights, optimizer state and the epoch count.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from happysad.errors import REDACTED, ConfigError, redact, redact_text

log = logging.getLogger(__name__)

STATE_FILE = "happysad_run.json"


def write_state(run_dir: Path, run_id: str | None, tracking_uri: str | None) -> None:
    state = {"run_id": run_id, "tracking_uri": redact_text(tracking_uri or "") or None}
    (run_dir / STATE_FILE).write_text(json.dumps(state))


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
    from happysad.tracking.tracker import TAG_RUN_DIR, client

    try:
        run = client(str(cfg.tracking.uri)).get_run(ref)
    except Exception:
        raise ConfigError(
            f"trainer.resume={ref!r}: neither a run dir nor a run id in {cfg.tracking.uri}"
        ) from None
    run_dir = run.data.tags.get(TAG_RUN_DIR)
    if not run_dir or not Path(run_dir).is_dir():
        raise ConfigError(
            f"trainer.resume={ref!r}: the run's dir {run_dir!r} is gone; cannot resume"
        )
    return Path(run_dir)


def _restore_secrets(old: DictConfig, given: DictConfig) -> None:
    """Put back the secrets the saved config had redacted (a URI password, a token), from the
    config given now, where the given value redacts to exactly the saved one."""
    for key, value in list(old.items_ex(resolve=False)):
        now = given.get(key) if isinstance(given, DictConfig) else None
        if isinstance(value, DictConfig) and isinstance(now, DictConfig):
            _restore_secrets(value, now)
        elif isinstance(value, str) and REDACTED in value and now is not None:
            raw = OmegaConf.to_container(given, resolve=False)[key]  # type: ignore[index]
            if isinstance(raw, str) and (
                redact_text(raw) == value or redact({key: raw})[key] == value
            ):
                old[key] = raw


def _node(cfg: DictConfig, key: str) -> Any:
    """The value at a dotted key, unresolved (as .hydra/config.yaml saves it); None if absent."""
    node: Any = OmegaConf.to_container(cfg, resolve=False)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def refuse_changed_keys(ref: str, old: DictConfig, given: DictConfig, overrides: list[str]) -> None:
    """A resumed run continues with the config it started with: a key given now with another
    value would be silently ignored (more epochs, another learning rate), so it is refused
    with the keys named. Keys given with the run's own value are fine."""
    changed = []
    for override in overrides:
        key = override.lstrip("+~").split("=", 1)[0]
        if key == "trainer.resume" or key.startswith(("hydra.", "hydra/")):
            continue
        if _node(given, key) != _node(old, key):
            changed.append(key)
    if changed:
        raise ConfigError(
            f"trainer.resume={ref}: a resumed run keeps the config it started with; "
            f"{', '.join(changed)} differ from it (drop them, or start a new run with them)"
        )


def resume_config(cfg: DictConfig, overrides: list[str] | None = None) -> tuple[DictConfig, str]:
    """(the interrupted run's config with trainer.resume kept, its run dir).

    `overrides`: the ones given now; any that changes the run's config is refused."""
    ref = str(cfg.trainer.resume)
    run_dir = _find_run_dir(ref, cfg)
    saved = run_dir / ".hydra" / "config.yaml"
    if not saved.is_file() or not (run_dir / STATE_FILE).is_file():
        raise ConfigError(f"trainer.resume={ref!r}: {run_dir} is not a happysad run dir")
    old = OmegaConf.load(saved)
    assert isinstance(old, DictConfig)
    _restore_secrets(old, cfg)
    refuse_changed_keys(ref, old, cfg, list(overrides or []))
    old.paths.run_dir = str(run_dir)  # was ${hydra:runtime.output_dir}: pin it to the old dir
    old.trainer.resume = ref
    # Reopen the run in the store it started in, whatever $MLFLOW_TRACKING_URI (which
    # tracking.uri reads by default) says today; a redacted URI comes back from the given one.
    started_in = read_state(run_dir).get("tracking_uri")
    if started_in and REDACTED not in started_in:
        old.tracking.uri = started_in
    return old, str(run_dir)


HISTORY_FILE = "history.csv"
BACKUP_DIR = "backup"
RUN_MODEL_DIR = "model"  # serving.packaging.MODEL_DIR, without importing MLflow


def read_history_rows(path: Path) -> list[dict[str, float]]:
    """history.csv as rows ({"epoch": 0-based, metric: value, ...}); [] when absent."""
    import csv

    if not path.is_file():
        return []
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    return [
        {k: float(v) for k, v in row.items() if k is not None and v not in (None, "")}
        for row in rows
    ]


def read_history(path: Path) -> dict[str, list[float]]:
    """Per-epoch metrics by name from history.csv: complete across a resume, unlike History."""
    rows = read_history_rows(path)
    keys = sorted({k for r in rows for k in r if k != "epoch"})
    return {k: [r[k] for r in rows if k in r] for k in keys}


def write_history_rows(path: Path, rows: list[dict[str, float]]) -> None:
    """Replace history.csv atomically (a kill leaves the old or the new file, never half a row)."""
    import csv
    import os

    keys = sorted({k for r in rows for k in r if k != "epoch"})
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["epoch", *keys])
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (int(v) if k == "epoch" else repr(v)) for k, v in r.items()})
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def backup_epoch(run_dir: Path) -> int | None:
    """The epoch count in the run's backup (what BackupAndRestore would restore), or None."""
    meta = Path(run_dir) / BACKUP_DIR / "training_metadata.json"
    try:
        return int(json.loads(meta.read_text())["epoch"])
    except (OSError, ValueError, KeyError):
        return None


def update_state(run_dir: Path, **values: Any) -> None:
    """Add keys to the run's state file (e.g. where the second training phase started)."""
    state = read_state(run_dir)
    state.update(values)
    (run_dir / STATE_FILE).write_text(json.dumps(state))


# Run dirs the pre-Hydra check saw, by absolute path: True if the folder already existed
# (then it was empty, or the check refused it). The clean-up of a failed run asks here, so
# that it removes only what the run made.
_SEEN_BEFORE_HYDRA: dict[str, bool] = {}


def hydra_job_files() -> set[str]:
    """What Hydra's job setup writes into a run dir: `.hydra/` and the job's log file."""
    from hydra.core.hydra_config import HydraConfig

    job = str(HydraConfig.get().job.name) if HydraConfig.initialized() else "train"
    return {".hydra", f"{job}.log"}


def existed_before_run(run_dir: str | Path) -> bool | None:
    """Whether the run dir existed before this run (None: not checked before Hydra wrote)."""
    return _SEEN_BEFORE_HYDRA.get(os.path.abspath(run_dir))


def _refuse_unwritable(run_dir: Path) -> None:
    """The run dir, or the nearest folder above it that exists, must be writable: a
    read-only paths.output_dir gave a 24-line traceback from Hydra's first mkdir."""
    here = Path(os.path.abspath(run_dir))
    while not here.exists() and here != here.parent:
        here = here.parent
    if here.is_dir() and not os.access(here, os.W_OK | os.X_OK):
        raise ConfigError(
            f"hydra.run.dir={run_dir}: cannot be written ({here} is read-only or not yours); "
            "point paths.output_dir or hydra.run.dir at a writable folder"
        )


def refuse_reused_run_dir(run_dir: Path, hydra_wrote: Collection[str] = ()) -> None:
    """A run dir that already holds a run is not reused: its history would be appended to,
    its backup restored into the new model, its model folder replaced. Nor is a folder that
    holds anything else: a run writes report.html, metrics.json, plots/... over the user's
    files of those names. Nothing is deleted or written here.

    `hydra_wrote`: the entries Hydra's job setup already made when called after it (the
    callback before Hydra passes none: then any entry at all is someone else's)."""
    run_dir = Path(run_dir)
    found = [
        n for n in (STATE_FILE, HISTORY_FILE, BACKUP_DIR, RUN_MODEL_DIR) if (run_dir / n).exists()
    ]
    if found:
        raise ConfigError(
            f"hydra.run.dir={run_dir}: already holds a run ({', '.join(found)}); continue it "
            f"with trainer.resume={run_dir}, or pick a new run dir (nothing was changed)"
        )
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"hydra.run.dir={run_dir}: is a file, not a folder (nothing was changed)")
    _refuse_unwritable(run_dir)
    try:
        others = sorted(p.name for p in run_dir.iterdir() if p.name not in hydra_wrote)
    except FileNotFoundError:
        others = []
    except OSError as err:
        raise ConfigError(
            f"hydra.run.dir={run_dir}: cannot be read ({err.strerror or err})"
        ) from None
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise ConfigError(
            f"hydra.run.dir={run_dir}: not empty and not a happysad run ({shown}); "
            "pick a new or empty folder (nothing was changed)"
        )
    if not hydra_wrote:
        _SEEN_BEFORE_HYDRA[os.path.abspath(run_dir)] = run_dir.exists()
