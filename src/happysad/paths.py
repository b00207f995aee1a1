"""Where the project lives: the config folder and the root that `outputs/` hangs from.

Paths are resolved once, absolutely, so a Hydra run dir or a sweep job never changes
where the MLflow store, the demo data or the cache land.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

_PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT_ROOT = _PACKAGE_DIR.parents[1]  # src/happysad -> repo root (editable install)
# The configs are package data (src/happysad/conf; the checkout's top-level conf/ links
# to it), so a wheel installed anywhere composes the same configs as the checkout.
PACKAGE_CONFIG_DIR = _PACKAGE_DIR / "conf"


def config_dir() -> Path:
    """The `conf/` folder shipped inside the package (or $HAPPYSAD_CONFIG_DIR).

    Whoever composes it needs the model schema registered with Hydra (`model/schema`):
    asking for the folder registers it.
    """
    from happysad.config import register_schemas

    register_schemas()
    env = os.environ.get("HAPPYSAD_CONFIG_DIR")
    candidate = Path(env).resolve() if env else PACKAGE_CONFIG_DIR
    if (candidate / "config.yaml").is_file():
        return candidate
    raise RuntimeError(
        f"HAPPYSAD_CONFIG_DIR={env}: no config.yaml there"
        if env
        else f"happysad's configs are missing from {candidate} (a broken install?)"
    )


def in_checkout() -> bool:
    """True when the package runs from a source checkout (src/happysad beside pyproject.toml)."""
    return _PACKAGE_DIR.parent.name == "src" and (_CHECKOUT_ROOT / "pyproject.toml").is_file()


def project_root() -> Path:
    """$HAPPYSAD_ROOT, else the checkout the package runs from, else the working directory.

    An installed wheel has no checkout: `outputs/` then hangs from wherever it is run.
    """
    env = os.environ.get("HAPPYSAD_ROOT")
    if env:
        return Path(env).resolve()
    if in_checkout():
        return _CHECKOUT_ROOT
    return Path.cwd().resolve()


def default_tracking_uri() -> str:
    """The project's local SQLite store, as the `tracking=local` config resolves it."""
    return os.environ.get("MLFLOW_TRACKING_URI") or (
        f"sqlite:///{project_root() / 'outputs' / 'mlflow.db'}"
    )


def _threads_per_job() -> int:
    from happysad.resources import threads_per_job

    return threads_per_job()


def register_resolvers() -> None:
    """Register `${happysad_root:}` and `${happysad_threads:}` for the configs (idempotent)."""
    if not OmegaConf.has_resolver("happysad_root"):
        OmegaConf.register_new_resolver("happysad_root", lambda: str(project_root()))
    if not OmegaConf.has_resolver("happysad_threads"):
        OmegaConf.register_new_resolver("happysad_threads", _threads_per_job)


register_resolvers()


# --- file names are bytes: a name that is not UTF-8 (`\xff\xfe-x.jpg`) reaches Python as
# a str with surrogates (PEP 383), which strict UTF-8 refuses to write.
NAME_ERRORS = "surrogateescape"


def open_listing(path: str | os.PathLike, mode: str = "w") -> Any:
    """A text file (CSV) that lists file paths: such a name is written as its own bytes,
    so the listing names the file exactly as it is on disk (and reads back the same)."""
    return open(path, mode, encoding="utf-8", errors=NAME_ERRORS, newline="")


def displayable(text: str) -> str:
    """`text` as valid UTF-8 for people (HTML, a terminal, MLflow): undecodable bytes of a
    file name shown as `\\xff` escapes instead of crashing the writer."""
    return text.encode("utf-8", NAME_ERRORS).decode("utf-8", "backslashreplace")
