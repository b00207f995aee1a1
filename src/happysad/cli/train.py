"""`happysad-train`: the Hydra app that composes conf/, validates it, and trains.

Usage: `happysad-train [group=option ...] [key=value ...]`, `happysad-train --cfg job`,
`happysad-train -m optimizer.lr=1e-3,3e-4`.
"""

from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig, open_dict

from happysad.config import validate
from happysad.errors import HappysadError
from happysad.paths import config_dir

log = logging.getLogger("happysad")


def _overrides() -> list[str]:
    from hydra.core.hydra_config import HydraConfig

    try:
        return list(HydraConfig.get().overrides.task)
    except ValueError:
        return []


def _run_dir() -> str:
    from hydra.core.hydra_config import HydraConfig

    return HydraConfig.get().runtime.output_dir


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def app(cfg: DictConfig) -> float | None:
    """Validate, train, and return the objective (trainer.objective) for sweepers."""
    from happysad import sweep

    try:
        validate(cfg)
        from happysad.train import train

        tags = sweep.job_tags(cfg, _overrides())
        if tags and not cfg.tracking.run_name:  # a sweep job: name it by what it varies
            with open_dict(cfg):
                cfg.tracking.run_name = sweep.job_run_name(_overrides())
        summary = train(cfg, run_dir=_run_dir(), overrides=_overrides(), extra_tags=tags)
    except HappysadError as err:
        print(f"error: {err}", file=sys.stderr)
        if sweep.is_multirun():
            raise  # Hydra marks this job failed and runs the sweep's other jobs
        sys.exit(err.exit_code)
    finally:
        _release_state()
    return summary.get("objective")


def _release_state() -> None:
    """Sweep jobs may share a process: drop Keras graphs so job N+1 starts clean."""
    if "keras" in sys.modules:
        import keras

        keras.backend.clear_session()
    if "mlflow" in sys.modules:
        import mlflow

        while mlflow.active_run() is not None:  # never leak a run into the next job
            mlflow.end_run("FAILED")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
