"""An Optuna sweeper for Hydra on current Optuna (4+), with persistent storage.

Why not the official `hydra-optuna-sweeper`: its 1.3.0 pins `optuna<3` (2.10.1), whose RDB
storage fails with SQLAlchemy 2 (`AssertionError` in `get_current_version`), so a study can
only live in memory: no resuming an interrupted study, no sharing one between machines.
This sweeper keeps its configuration shape (`params` in Hydra's override grammar, `sampler`,
`direction`, `storage`, `study_name`, `n_trials`, `n_jobs`) on an Optuna that works with
the rest of the stack.

Search expressions (the official plugin's mapping):
  choice(a, b, c)                  -> categorical (lists such as [64,64] become "[64,64]")
  range(lo, hi[, step])            -> int or float grid, `hi` excluded as in Python
  interval(lo, hi)                 -> uniform float (Hydra parses the ends as floats)
  int(interval(lo, hi))            -> uniform int
  tag(log, interval(lo, hi))       -> log-uniform (also tag(log, int(interval(lo, hi))))
  key=value (no sweep)             -> fixed for every trial
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from happysad.errors import redact_file, redact_text

log = logging.getLogger("happysad.optuna")


def _distribution(override: Any) -> Any:
    """A parsed Hydra sweep override -> an Optuna distribution."""
    from hydra.core.override_parser.types import (
        ChoiceSweep,
        IntervalSweep,
        RangeSweep,
        Transformer,
    )
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    value = override.value()
    key = override.get_key_element()
    if isinstance(value, ChoiceSweep) or (isinstance(value, RangeSweep) and value.shuffle):
        choices = list(override.sweep_iterator(transformer=Transformer.encode))
        return CategoricalDistribution(choices)
    if isinstance(value, RangeSweep):
        start, stop, step = value.start, value.stop, value.step
        if step is None or step == 0:
            raise ValueError(f"{key}: range() needs a non-zero step")
        n = math.ceil((stop - start) / step)
        if n <= 0:
            raise ValueError(f"{key}: empty range({start}, {stop}, {step})")
        last = start + (n - 1) * step
        if all(isinstance(v, int) for v in (start, stop, step)):
            return IntDistribution(int(start), int(last), step=int(step))
        return FloatDistribution(float(start), float(last), step=float(step))
    if isinstance(value, IntervalSweep):
        log_scale = "log" in value.tags
        if isinstance(value.start, int) and isinstance(value.end, int):
            return IntDistribution(int(value.start), int(value.end), log=log_scale)
        return FloatDistribution(float(value.start), float(value.end), log=log_scale)
    raise ValueError(f"{key}: unsupported search expression {override.input_line!r}")


def parse_search_space(overrides: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(name -> distribution, name -> fixed override line); a fixed key wins over a range."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    space: dict[str, Any] = {}
    fixed: dict[str, str] = {}
    for o in OverridesParser.create().parse_overrides(overrides):
        key = o.get_key_element()
        if o.is_sweep_override():
            space[key] = _distribution(o)
            fixed.pop(key, None)
        else:
            fixed[key] = o.input_line or f"{key}={o.get_value_element_as_str()}"
            space.pop(key, None)
    return space, fixed


def _override_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    return str(v)


class OptunaSearch:
    """The sweeper's logic (the Hydra plugin class in hydra_plugins/ delegates here)."""

    def __init__(
        self,
        sampler: Any = None,
        direction: str = "maximize",
        storage: Any = None,
        study_name: Any = None,
        n_trials: int = 20,
        n_jobs: Any = None,
        max_failure_rate: float = 0.25,
        params: Any = None,
    ) -> None:
        if str(direction) not in ("maximize", "minimize"):
            raise ValueError(f"hydra.sweeper.direction={direction!r}: maximize or minimize")
        if not 0.0 <= float(max_failure_rate) <= 1.0:
            raise ValueError(f"hydra.sweeper.max_failure_rate={max_failure_rate}: in [0, 1]")
        self.sampler = sampler
        self.direction = str(direction)
        self.storage = str(storage) if storage else None
        self.study_name = str(study_name) if study_name else None
        self.n_trials = int(n_trials)
        self.n_jobs = n_jobs
        self.max_failure_rate = float(max_failure_rate)
        if isinstance(params, DictConfig):
            params = OmegaConf.to_container(params, resolve=True)
        self.params: dict[str, str] = {str(k): str(v) for k, v in (params or {}).items()}
        self.config: DictConfig | None = None
        self.launcher: Any = None
        self.job_idx = 0

    def setup(self, *, hydra_context: Any, task_function: Any, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            config=config, hydra_context=hydra_context, task_function=task_function
        )
        self.job_idx = 0

    def _batch_size(self) -> int:
        if self.n_jobs is not None and int(self.n_jobs) > 0:
            return int(self.n_jobs)
        assert self.config is not None
        launcher = self.config.hydra.launcher
        if "joblib" in str(launcher.get("_target_", "")).lower():
            from happysad.resources import available_cpus, joblib_workers

            return joblib_workers(launcher.get("n_jobs", -1), available_cpus())
        return 1

    def _sampler(self) -> Any:
        import optuna
        from hydra.utils import instantiate

        s = self.sampler
        if s is None:
            return optuna.samplers.TPESampler()
        if isinstance(s, DictConfig | dict):
            return instantiate(s)
        return s  # already built by Hydra's recursive instantiation

    def _storage(self) -> Any:
        url = self.storage
        if url and url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return url

    def sweep(self, arguments: list[str]) -> Any:
        import optuna
        from hydra.core.utils import JobStatus
        from optuna.trial import TrialState

        assert self.config is not None and self.launcher is not None
        lines = [f"{k}={v}" for k, v in self.params.items()] + list(arguments)
        space, fixed = parse_search_space(lines)
        if not space:
            raise ValueError("hydra.sweeper.params defines no search space (nothing to optimise)")
        if self.storage and not self.study_name:
            log.warning("hydra.sweeper.storage without study_name: this study cannot be resumed")
        study = optuna.create_study(
            study_name=self.study_name,
            storage=self._storage(),
            sampler=self._sampler(),
            direction=self.direction,
            load_if_exists=True,
        )
        before = len(study.trials)
        batch = self._batch_size()
        log.info(
            "Optuna study %r (%s, %s, %d earlier trials): %d trials, %d at a time, searching %s",
            study.study_name,
            redact_text(self.storage or "") or "in memory",
            self.direction,
            before,
            self.n_trials,
            batch,
            ", ".join(space),
        )
        sweep_dir = str(self.config.hydra.sweep.dir)
        failures = 0
        to_go = self.n_trials
        while to_go > 0:
            n = min(batch, to_go)
            trials = [study.ask(space) for _ in range(n)]
            overrides = []
            for i, trial in enumerate(trials):
                trial.set_user_attr("hydra_job_num", self.job_idx + i)
                trial.set_user_attr("hydra_sweep_dir", sweep_dir)
                ov = [f"{k}={_override_value(v)}" for k, v in trial.params.items()]
                overrides.append(tuple(ov + list(fixed.values())))
            returns = self.launcher.launch(overrides, initial_job_idx=self.job_idx)
            # The launcher (re)writes multirun.yaml as composed: keep no secret in it.
            redact_file(Path(str(self.config.hydra.sweep.dir)) / "multirun.yaml")
            self.job_idx += len(returns)
            for trial, ret in zip(trials, returns, strict=True):
                value = None
                if ret.status == JobStatus.COMPLETED:
                    try:
                        value = float(ret.return_value)
                    except (TypeError, ValueError):
                        value = None
                if value is not None and math.isfinite(value):
                    study.tell(trial, value)
                    continue
                failures += 1
                study.tell(trial, state=TrialState.FAIL)
                why = (
                    f"{type(ret._return_value).__name__}: {ret._return_value}"
                    if ret.status != JobStatus.COMPLETED
                    else f"returned {ret.return_value!r}, not a finite number"
                )
                log.warning("trial %d (job %s) failed: %s", trial.number, ret.overrides, why)
            if failures > self.max_failure_rate * self.n_trials:
                log.error(
                    "%d of %d trials failed (max_failure_rate=%g): stopping the study",
                    failures,
                    self.n_trials - to_go + n,
                    self.max_failure_rate,
                )
                for ret in returns:
                    if ret.status != JobStatus.COMPLETED:
                        _ = ret.return_value  # re-raises the job's exception
                raise RuntimeError(f"{failures} trials did not return a finite objective")
            to_go -= n
        return self._report(study, before)

    def _report(self, study: Any, before: int) -> dict[str, Any]:
        from optuna.trial import TrialState

        assert self.config is not None
        done = [t for t in study.trials if t.state == TrialState.COMPLETE]
        if not done:
            raise RuntimeError("no trial completed: see the failed jobs above")
        best = study.best_trial
        results = {
            "name": "optuna",
            "study_name": study.study_name,
            "storage": redact_text(self.storage or "") or None,
            "direction": self.direction,
            "best_params": dict(best.params),
            "best_value": float(best.value),
            "best_trial": best.number,
            "best_hydra_job_num": best.user_attrs.get("hydra_job_num"),
            "n_trials_this_sweep": len(study.trials) - before,
            "n_trials_in_study": len(study.trials),
        }
        log.info("Best parameters: %s", results["best_params"])
        log.info("Best value: %s (trial %d)", results["best_value"], best.number)
        out = Path(str(self.config.hydra.sweep.dir))
        out.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(OmegaConf.create(results), out / "optimization_results.yaml")
        return results
