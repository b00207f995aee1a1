"""How many CPUs and how much memory a job may use, and how a sweep shares the CPUs.

Low-level on purpose: `paths` registers `${happysad_threads:}` from here, and the sweep code
and the Optuna sweeper read it too; nothing here imports TensorFlow or MLflow.

The machine's core count (`os.cpu_count()`) is not what a job may use: a scheduler pins it to
some cores (affinity) or gives it a share of them (a cgroup CPU quota, e.g. a container with
`--cpus 2` on a 16-core host). Decoding threads, TensorFlow's thread pools and the joblib
launcher all size themselves from `available_cpus()`, so a job limited to 2 of 16 cores starts
2 decode threads, not 16. Likewise `available_memory_bytes()` reads the cgroup memory limit as
well as /proc/meminfo, so `data.cache=auto` does not plan with memory the job cannot have.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from typing import Any


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


CGROUP_ROOT = Path("/sys/fs/cgroup")
MEM_AVAILABLE_ENV = "HAPPYSAD_MEM_AVAILABLE_MB"  # overrides the measured available memory


def _affinity_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _cgroup_dirs(root: Path, controller: str, proc_cgroup: Path) -> list[Path]:
    """This process's cgroup folder for `controller` and every parent up to the mount.

    cgroup v2 (one `0::/path` line, files in root/path) and v1 (`N:cpu,cpuacct:/path`, files
    in root/<controller>/path). A path that does not exist under the mount (a container whose
    namespace hides it) falls back to the mount itself, which is then the container's own.
    """
    text = _read(proc_cgroup) or ""
    dirs: list[Path] = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, rel = parts
        if controllers == "" and (root / "cgroup.controllers").exists():
            base = root  # v2
        elif controller in controllers.split(","):
            base = root / controllers
            if not base.is_dir():
                base = root / controller
        else:
            continue
        here = base / rel.lstrip("/")
        while True:
            if here.is_dir():
                dirs.append(here)
            if here == base or base not in here.parents:
                break
            here = here.parent
        if base not in dirs:
            dirs.append(base)
    return dirs


def cgroup_cpu_limit(
    root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("/proc/self/cgroup")
) -> float | None:
    """CPUs the cgroup quota allows (e.g. 1.5), the tightest along the hierarchy; None: no quota."""
    best: float | None = None
    for d in _cgroup_dirs(root, "cpu", proc_cgroup):
        limit = None
        v2 = _read(d / "cpu.max")
        if v2 is not None:
            quota, _, period = v2.strip().partition(" ")
            if quota != "max" and period:
                limit = int(quota) / int(period)
        else:
            quota_us, period_us = _read(d / "cpu.cfs_quota_us"), _read(d / "cpu.cfs_period_us")
            if quota_us and period_us and int(quota_us) > 0:
                limit = int(quota_us) / int(period_us)
        if limit is not None and limit > 0:
            best = limit if best is None else min(best, limit)
    return best


def available_cpus(root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("/proc/self/cgroup")) -> int:
    """The CPUs this process may use: its affinity mask, capped by a cgroup CPU quota
    (rounded up: a quota of 1.5 CPUs keeps 2 threads busy)."""
    cpus = _affinity_cpus()
    try:
        quota = cgroup_cpu_limit(root, proc_cgroup)
    except (OSError, ValueError):  # an unreadable or odd cgroup file: affinity alone
        quota = None
    if quota is not None:
        cpus = min(cpus, max(1, math.ceil(quota)))
    return max(1, cpus)


def _meminfo_available(meminfo: Path) -> int | None:
    for line in (_read(meminfo) or "").splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return None


def _cgroup_memory_free(root: Path, proc_cgroup: Path) -> int | None:
    """Limit minus usage (less reclaimable file pages) of the tightest memory cgroup."""
    best: int | None = None
    for d in _cgroup_dirs(root, "memory", proc_cgroup):
        limit = _read(d / "memory.max") or _read(d / "memory.limit_in_bytes")
        usage = _read(d / "memory.current") or _read(d / "memory.usage_in_bytes")
        if not limit or not usage or limit.strip() == "max" or int(limit) >= 2**60:
            continue
        reclaimable = 0
        for line in (_read(d / "memory.stat") or "").splitlines():
            key, _, value = line.partition(" ")
            if key in ("inactive_file", "total_inactive_file"):
                reclaimable = max(reclaimable, int(value))
        free = max(0, int(limit) - int(usage) + reclaimable)
        best = free if best is None else min(best, free)
    return best


def available_memory_bytes(
    root: Path = CGROUP_ROOT,
    proc_cgroup: Path = Path("/proc/self/cgroup"),
    meminfo: Path = Path("/proc/meminfo"),
) -> int | None:
    """Memory a job can still take: MemAvailable, capped by the cgroup's limit; None: unknown.

    `$HAPPYSAD_MEM_AVAILABLE_MB` overrides the measurement (tests; a job that must leave
    room for another)."""
    forced = os.environ.get(MEM_AVAILABLE_ENV)
    if forced:
        return int(float(forced) * 2**20)
    candidates = [_meminfo_available(meminfo)]
    with contextlib.suppress(OSError, ValueError):
        candidates.append(_cgroup_memory_free(root, proc_cgroup))
    known = [c for c in candidates if c is not None]
    return min(known) if known else None


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
    anything else (a single run, the sequential basic launcher): 0 = the CPUs this process
    may use (training/stages.py configure_tensorflow reads 0 as available_cpus()).
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
        from omegaconf import OmegaConf

        remote = OmegaConf.select(launcher, "ray.remote", default=None) or {}
        return int(remote.get("num_cpus") or 0)
    return 0
