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


def env_or(name: str, default: Any = None) -> Any:
    """$name, or `default` when it is unset or empty (as MLflow reads MLFLOW_TRACKING_URI;
    OmegaConf's oc.env would return the empty string)."""
    return os.environ.get(name) or default


SERVER_SCHEMES = ("http://", "https://", "databricks")


def local_artifacts(uri: Any, folder: str) -> str | None:
    """`folder` for a store in a file or database (MLflow would put artifacts under ./mlruns of
    whatever the working directory is), None for a tracking server, which decides itself."""
    return None if str(uri or "").startswith(SERVER_SCHEMES) else folder


def use_mlflow_store(uri: str) -> None:
    """Point this process's MLflow client (tracking and registry) at `uri`.

    `mlflow.set_tracking_uri` also exports MLFLOW_TRACKING_URI into os.environ: the next job
    in the same process (a notebook's second `api.train`, a sweep's next trial) would then
    read the previous job's store as the user's choice (`tracking.uri` defaults to it). The
    environment is left as the user set it.
    """
    import mlflow

    names = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    saved = {name: os.environ.get(name) for name in names}
    try:
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def default_tracking_uri() -> str:
    """$MLFLOW_TRACKING_URI, else the project's local SQLite store: what `tracking=local`
    resolves `tracking.uri` to (`${happysad_env:MLFLOW_TRACKING_URI,...}`), so predict,
    compare and the API look at the store training writes to."""
    return env_or("MLFLOW_TRACKING_URI", f"sqlite:///{project_root() / 'outputs' / 'mlflow.db'}")


def _threads_per_job() -> int:
    from happysad.resources import threads_per_job

    return threads_per_job()


# Options every listing leaves out: the structured-config schemas (config.register_schemas)
# that each YAML of their group starts from, never picked on the command line.
INTERNAL_OPTIONS = frozenset({"schema"})


def is_pointer(group: str, option: str) -> bool:
    """Whether conf/<group>/<option>.yaml only picks other options (has a `defaults` list)."""
    import yaml

    path = config_dir() / group / f"{option}.yaml"
    if not path.is_file():
        return False
    body = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return isinstance(body, dict) and "defaults" in body


def help_groups() -> str:
    """`happysad-train --help`'s "Configuration groups" (`${happysad_help_groups:}` in
    conf/config.yaml's hydra.help.template): Hydra's listing without the internal options,
    generated from what Hydra finds, so it cannot drift from conf/.

    Internal: the `schema` entries, and in a group whose default is `${data}` (augment,
    optimizer, schedule, init) the options named after a data source that only point at
    another option (a `defaults` list): each is that source's measured default, picked
    through `data=`, not a choice of its own (augment/faces.yaml, a list of its own, stays a
    choice).
    """
    import yaml
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.object_type import ObjectType

    loader = GlobalHydra.instance().config_loader()
    primary = yaml.safe_load((config_dir() / "config.yaml").read_text(encoding="utf-8"))
    by_data = {
        group
        for entry in primary.get("defaults", [])
        if isinstance(entry, dict)
        for group, option in entry.items()
        if option == "${data}"
    }
    sources = set(loader.get_group_options("data", ObjectType.CONFIG))
    lines = []
    for group in sorted(loader.list_groups("")):
        if group == "hydra":
            continue
        hidden = INTERNAL_OPTIONS | (
            {s for s in sources if is_pointer(group, s)} if group in by_data else set()
        )
        options = sorted(set(loader.get_group_options(group, ObjectType.CONFIG)) - hidden)
        if options:
            lines.append(f"{group}: {', '.join(options)}")
    return "\n".join(lines)


def register_resolvers() -> None:
    """Register `${happysad_root:}`, `${happysad_threads:}`, `${happysad_env:NAME,default}`,
    `${happysad_artifacts:uri,folder}` and `${happysad_help_groups:}` for the configs
    (idempotent)."""
    if not OmegaConf.has_resolver("happysad_root"):
        OmegaConf.register_new_resolver("happysad_root", lambda: str(project_root()))
    if not OmegaConf.has_resolver("happysad_env"):
        OmegaConf.register_new_resolver("happysad_env", env_or)
    if not OmegaConf.has_resolver("happysad_artifacts"):
        OmegaConf.register_new_resolver("happysad_artifacts", local_artifacts)
    if not OmegaConf.has_resolver("happysad_threads"):
        OmegaConf.register_new_resolver("happysad_threads", _threads_per_job)
    if not OmegaConf.has_resolver("happysad_help_groups"):
        OmegaConf.register_new_resolver("happysad_help_groups", help_groups)


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
