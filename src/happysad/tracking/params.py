"""What a run logs as MLflow params and how it is named: what the user chose, not where it ran.

MLflow's compare view picks params that differ between runs for its parallel coordinates:
per-run folders (the run dir, checkpoint and TensorBoard paths, the store's location) differ
in every run and would crowd out the swept values. They stay in the config artifact
(config/config_resolved.yaml) and the `happysad.run_dir` tag. Run names likewise keep only
the overrides a person reads: no paths, never a `/`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Whole groups or keys that say where a run writes or which store it uses.
_WHERE_PREFIXES = ("paths.", "hydra.")
_WHERE_KEYS = ("tracking.run_name",)  # a store's URI stays unless it holds outputs/
_WHERE_SUFFIXES = (".filepath", ".log_dir")  # callbacks' per-run files (checkpoint, TensorBoard)
# The data folder and a warm start's source as the user gave them: choices, not places.
_KEPT_PATH_KEYS = ("data.root", "model.init_from")
MAX_RUN_NAME = 250


def is_where(key: str, value: Any, folders: Iterable[str]) -> bool:
    """True for a param that only says where this run writes (its folders, the store)."""
    if key in _KEPT_PATH_KEYS:
        return False
    if key.startswith(_WHERE_PREFIXES) or key in _WHERE_KEYS:
        return True
    if key.startswith("callbacks.") and key.endswith(_WHERE_SUFFIXES):
        return True
    text = str(value)
    return any(folder and folder in text for folder in folders)


def chosen_params(flat: Mapping[str, Any], folders: Iterable[str]) -> dict[str, Any]:
    """The flattened config without per-run paths: `folders` are the run dir and outputs/,
    and any value holding one of them is left to the config artifact."""
    roots = [str(f).rstrip("/") for f in folders if f]
    return {k: v for k, v in flat.items() if not is_where(k, v, roots)}


def readable_overrides(overrides: Iterable[str]) -> list[str]:
    """The overrides worth a run name: no paths (any value with `/`), no `paths.`/`hydra.`
    keys, no tracking settings."""
    out = []
    for o in overrides:
        key = o.split("=", 1)[0].lstrip("+~")
        if "/" in o or key.startswith(_WHERE_PREFIXES) or key.startswith("tracking."):
            continue
        out.append(o)
    return out


def run_name(overrides: Iterable[str], model_name: str, prefix: str = "") -> str:
    """`model=small_cnn optimizer.lr=3e-4`: the readable overrides (else the model's name),
    after `prefix` (a sweep job's `#3`); never a `/`, at most MAX_RUN_NAME characters."""
    parts = readable_overrides(overrides) or [model_name.replace("/", "_")]
    return " ".join([p for p in (prefix, *parts) if p])[:MAX_RUN_NAME]
