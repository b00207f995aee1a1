"""`happysad-train`: the Hydra app that composes conf/, validates it, and trains.

Usage: `happysad-train [group=option ...] [key=value ...]`, `happysad-train --cfg job`,
`happysad-train -m optimizer.lr=1e-3,3e-4`, `happysad-train trainer.resume=<run dir|run id>`.

Exit status: 0 done, 2 bad config, 3 bad data, 5 tracking unavailable, 130 interrupted.
"""

from __future__ import annotations

import logging
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import hydra
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, open_dict

from happysad.config import validate
from happysad.errors import (
    HappysadError,
    first_line,
    redact_file,
    redact_logs,
    redact_text,
    redacted_stdout,
)
from happysad.paths import config_dir

log = logging.getLogger("happysad")


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: checkpoint, end the run KILLED, exit non-zero."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def _hydra_context() -> tuple[str, list[str]]:
    from hydra.core.hydra_config import HydraConfig

    hc = HydraConfig.get()
    return hc.runtime.output_dir, list(hc.overrides.task)


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def app(cfg: DictConfig) -> float | None:
    """Validate, train, and return the objective (trainer.objective) for sweepers."""
    from happysad.sweeps import runs as sweep

    run_dir, overrides = _hydra_context()
    redact_logs()  # console and Hydra's train.log: no URI password, no token
    for hydra_file in sorted(Path(run_dir, ".hydra").glob("*.yaml")):
        redact_file(hydra_file)  # Hydra wrote the overrides as given
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main else None
    try:
        if cfg.trainer.get("resume"):
            from happysad.training.resume import resume_config

            cfg, run_dir = resume_config(cfg)
        cfg = validate(cfg)
        if cfg.data.source == "folder":  # a missing data root costs a second, not a TF import
            from happysad.data.scan import discover_classes

            discover_classes(cfg.data.root, list(cfg.data.class_names or []) or None)
        from happysad.training.job import train

        tags = sweep.job_tags(cfg, overrides)
        if tags and not cfg.tracking.run_name:  # a sweep job: name it by what it varies
            with open_dict(cfg):
                cfg.tracking.run_name = sweep.job_run_name(overrides)
        summary = train(cfg, run_dir=run_dir, overrides=overrides, extra_tags=tags)
    except HappysadError as err:
        print(f"error: {redact_text(str(err))}", file=sys.stderr)
        if sweep.is_multirun():
            raise  # Hydra marks this job failed and runs the sweep's other jobs
        _drop_empty_run_dir(run_dir)
        sys.exit(err.exit_code)
    except KeyboardInterrupt as err:
        what = "terminated" if isinstance(err, Terminated) else "interrupted"
        print(
            f"{what}: the run was checkpointed and marked KILLED; continue it with "
            f"happysad-train trainer.resume={run_dir}",
            file=sys.stderr,
        )
        sys.exit(130)
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
        _release_state()
    return summary.get("objective")


class RunDirGuard(Callback):
    """Hydra callback (conf/config.yaml): refuse a run dir that holds a run before Hydra's
    job setup writes `.hydra/` and `train.log` into it (on_run_start comes first)."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        from happysad.training.resume import refuse_reused_run_dir

        if config.get("trainer", {}).get("resume"):
            return  # resuming continues its own run dir; checked there
        try:
            refuse_reused_run_dir(Path(str(config.hydra.run.dir)))
        except HappysadError as err:
            print(f"error: {redact_text(str(err))}", file=sys.stderr)
            sys.exit(err.exit_code)


def _drop_empty_run_dir(run_dir: str) -> None:
    """A job refused before any work leaves no clutter: only Hydra's own files were there."""
    import shutil
    from pathlib import Path

    path = Path(run_dir)
    if path.is_dir() and {p.name for p in path.iterdir()} <= {".hydra", "train.log"}:
        shutil.rmtree(path, ignore_errors=True)


def _release_state() -> None:
    """Sweep jobs may share a process: drop Keras graphs so job N+1 starts clean."""
    if "keras" in sys.modules:
        import keras

        keras.backend.clear_session()
    if "mlflow" in sys.modules:
        import mlflow

        while mlflow.active_run() is not None:  # never leak a run into the next job
            with redacted_stdout():  # MLflow prints the run's URL
                mlflow.end_run("FAILED")


def _explain_hydra_error(err: Exception, overrides: list[str]) -> str:
    """Hydra's multi-line composition errors, as one line that names the key or option."""
    text = str(err)
    m = re.search(r"Could not override '([^']+)'", text)
    if m:
        key = m.group(1)
        value = next((o.split("=", 1)[1] for o in overrides if o.split("=", 1)[0] == key), "")
        return f"{key}={value}: unknown key (a typo? `happysad-train --cfg job` lists the keys; to add a new key use +{key}={value})"
    m = re.search(r"Could not find '([^'/]+)/([^']+)'", text)
    if m:
        group, option = m.groups()
        avail = re.findall(r"^\t(\S+)$", text.split("Config search path")[0], flags=re.M)
        return f"{group}={option}: no such option in conf/{group}/ (available: {', '.join(avail) or 'none'})"
    return f"{' '.join(overrides)}: {first_line(err)}"


# Flags that leave the composed job config as plain `key=value` overrides would: the
# precheck composes with them removed. Any other flag (-m, --config-name, --help...) skips it.
_NEUTRAL_FLAGS = {"--cfg": 1, "-c": 1, "--package": 1, "-p": 1, "--resolve": 0}


def _precheck_overrides(argv: list[str]) -> list[str] | None:
    """The overrides to compose for the precheck, or None to leave everything to Hydra."""
    out: list[str] = []
    skip = 0
    for arg in argv:
        if skip:
            skip -= 1
        elif arg in _NEUTRAL_FLAGS:
            skip = _NEUTRAL_FLAGS[arg]
        elif arg.startswith("-"):
            if arg.split("=", 1)[0] not in _NEUTRAL_FLAGS:
                return None
        elif not arg.lstrip("+~").startswith(("hydra.", "hydra/")):
            out.append(arg)  # hydra.* only shapes Hydra's own config, not the job's
    return out


def _precheck(argv: list[str]) -> None:
    """Compose single-run overrides first so a typo gets one clear line, not Hydra's block.

    hydra.* overrides and --cfg/--package/--resolve are left out of this compose; multirun
    and the flags that change what is composed (--config-name...) skip it (Hydra reports).
    """
    overrides = _precheck_overrides(argv)
    if overrides is None:
        return
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    try:
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            compose("config", overrides=overrides)
    except Exception as err:
        print(f"error: {redact_text(_explain_hydra_error(err, overrides))}", file=sys.stderr)
        sys.exit(2)
    finally:
        GlobalHydra.instance().clear()


def main() -> None:
    _precheck(sys.argv[1:])
    app()


if __name__ == "__main__":
    main()
