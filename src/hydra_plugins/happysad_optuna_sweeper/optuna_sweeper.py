"""Hydra discovers this module (namespace package `hydra_plugins`) and registers
`hydra/sweeper=happysad_optuna`. The work is done in `happysad.sweeps.optuna_search`, imported only
when a sweep starts, so discovering the plugin costs nothing for ordinary runs.

No `from __future__ import annotations` here: Hydra executes plugin modules without putting
them in sys.modules, and dataclasses then cannot resolve string annotations.
"""

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


@dataclass
class HappysadOptunaSweeperConf:
    _target_: str = "hydra_plugins.happysad_optuna_sweeper.optuna_sweeper.HappysadOptunaSweeper"
    # Any Optuna sampler, built with hydra.utils.instantiate.
    sampler: Any = field(
        default_factory=lambda: {"_target_": "optuna.samplers.TPESampler", "seed": None}
    )
    direction: str = "maximize"  # maximize | minimize: must match what the app returns
    # An Optuna storage URL (e.g. sqlite:///abs/path/optuna.db): the study persists, a rerun
    # with the same study_name continues it, several sweeps can share it. null: in memory.
    storage: Any = None
    study_name: Any = None
    n_trials: int = 20  # trials to run in this invocation
    # Trials launched at once (one launcher batch); null or <= 0: as many as the launcher
    # runs in parallel (joblib n_jobs), else 1.
    n_jobs: Any = None
    # Stop the sweep once more than this fraction of n_trials has failed.
    max_failure_rate: float = 0.25
    # key: search expression in Hydra's override grammar, e.g.
    # optimizer.lr: tag(log, interval(1e-4, 1e-2)); data.batch_size: choice(16, 32, 64)
    params: dict[str, Any] | None = None


ConfigStore.instance().store(
    group="hydra/sweeper",
    name="happysad_optuna",
    node=HappysadOptunaSweeperConf,
    provider="happysad",
)


class HappysadOptunaSweeper(Sweeper):
    def __init__(self, **kwargs: Any) -> None:
        from happysad.sweeps.optuna_search import OptunaSearch

        self._impl = OptunaSearch(**kwargs)

    def setup(
        self,
        *,
        hydra_context: HydraContext,
        task_function: TaskFunction,
        config: DictConfig,
    ) -> None:
        self._impl.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        return self._impl.sweep(arguments)
