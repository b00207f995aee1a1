"""The built-in face prior: weights of the default CNN trained on the wide demo faces.

Why: a few hundred faces from an unknown source are too few to learn "where is the mouth and
which way does it bend" from scratch, and these machines cannot download ImageNet weights.
The demo generator can make as many varied faces as we like, so happysad ships the weights
of `model=small_cnn` trained on them (scripts/make_prior.py records how), and
`model.init_from=auto` (the default for `data=folder`) starts from them whenever they fit:

- every weight of the model has the prior's shape (the layer stack is small_cnn's, 3
  channels; any image size from 16 px works, the network ends in global pooling);
- the head is kept when the classes are the prior's (happy, sad in that order) and drawn
  fresh otherwise, like `model.init_from=<run dir>` does.

A model that does not fit (another preset, grayscale, edited layers) trains from scratch,
and the run says so (tag `happysad.init_from`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

PRIOR_DIR = Path(__file__).resolve().parent / "priors"
DEFAULT = "faces_small_cnn"
AUTO = "auto"


@dataclass
class Prior:
    """Weights in `model.weights` order, and what they were trained on."""

    name: str
    arrays: list[np.ndarray]
    class_names: list[str]
    info: dict[str, Any]


def load_prior(name: str = DEFAULT, folder: Path = PRIOR_DIR) -> Prior | None:
    """The packaged prior, or None if this installation has none."""
    meta, weights = folder / f"{name}.json", folder / f"{name}.npz"
    if not (meta.is_file() and weights.is_file()):
        return None
    info = json.loads(meta.read_text(encoding="utf-8"))
    with np.load(weights) as npz:
        arrays = [npz[f"w{i}"] for i in range(len(npz.files))]
    return Prior(name, arrays, list(info["class_names"]), info)


def _head_size(model: Any) -> int:
    try:
        return len(model.get_layer("output").weights)
    except ValueError:
        return 0


def apply_prior(model: Any, prior: Prior, class_names: list[str]) -> str | None:
    """Copy the prior into `model` if it fits; return what was done, or why not (None: no)."""
    variables = list(model.weights)
    keep_head = list(class_names) == prior.class_names
    n = len(variables) if keep_head else len(variables) - _head_size(model)
    if len(prior.arrays) != len(variables):
        return None
    for var, arr in zip(variables[:n], prior.arrays[:n], strict=True):
        if tuple(var.shape) != tuple(arr.shape):
            return None
    for var, arr in zip(variables[:n], prior.arrays[:n], strict=True):
        var.assign(arr.astype(var.dtype))
    head = "with its head" if keep_head else "with a new head for these classes"
    return f"{prior.name} ({head})"


def save_prior(
    model: Any, class_names: list[str], info: dict[str, Any], name: str, folder: Path
) -> Path:
    """Write `<folder>/<name>.npz` (weights) and `<name>.json` (classes and provenance)."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {f"w{i}": np.asarray(v.numpy()) for i, v in enumerate(model.weights)}
    np.savez_compressed(folder / f"{name}.npz", **arrays)
    meta = {"class_names": list(class_names), **info}
    (folder / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return folder / f"{name}.npz"


__all__ = ["AUTO", "DEFAULT", "PRIOR_DIR", "Prior", "apply_prior", "load_prior", "save_prior"]
