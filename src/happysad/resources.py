"""How many CPUs a job may use, and how a sweep shares them between its parallel jobs.

Low-level on purpose: `paths` registers `${happysad_threads:}` from here, and the sweep code
and the Optuna sweeper read it too; nothing here imports TensorFlow or MLflow.
"""

from __future__ import annotations

import os
from typing import Any

from omegaconf import OmegaConf


def _hydra_cfg() -> Any:
    from hydra.core.hydra_config import HydraConfig

    try:
        return HydraConfig.get()
    except ValueError:  # not inside a Hydra app (e.g. the compose API)
        return None


def is_multirun() -> bool:
    from hydra.types import RunMode

    hc = _hydra_cfg()
    return hc is not None and hc.mode == RunMode.MULTIRUN


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def joblib_workers(n_jobs: Any, cpus: int) -> int:
    """joblib's meaning of n_jobs: -1 = all CPUs, -2 = all but one, None = 1."""
    if n_jobs is None:
        return 1
    n = int(n_jobs)
    if n < 0:
        n = cpus + 1 + n
    return max(n, 1)


def threads_per_job() -> int:
    """TensorFlow threads for one job: share the cores between the jobs running at once.

    joblib: cpus // n_jobs (at least 1); submitit: cpus_per_task; ray: remote num_cpus;
    anything else (a single run, the sequential basic launcher): 0 = TensorFlow's default.
    """
    hc = _hydra_cfg()
    if hc is None or not is_multirun():
        return 0
    launcher = hc.launcher
    target = str(launcher.get("_target_") or "").lower()
    if "joblib" in target:
        cpus = available_cpus()
        return max(1, cpus // joblib_workers(launcher.get("n_jobs", -1), cpus))
    if "submitit" in target:
        return int(launcher.get("cpus_per_task") or 0)
    if "ray" in target:
        remote = OmegaConf.select(launcher, "ray.remote", default=None) or {}
        return int(remote.get("num_cpus") or 0)
    return 0
