"""`happysad-train`'s precheck: compose the command line's overrides before Hydra runs, so a
typo gets one clear line (`error: model=nope: no such option ...`, exit status 2) instead
of Hydra's block, and before any run dir, data or MLflow run exists.

It reads only the part of Hydra's command line that shapes the job's config: `key=value`
overrides, `--config-dir`, `-m`, and flags that leave the composed config as it is
(--cfg/--package/--resolve). hydra.* overrides only shape Hydra's own config and are left
out; any other flag (--config-name, --help, ...) skips the precheck and Hydra reports. A
multirun composes each value of each sweep (before the sweep's parent MLflow run starts).
Each composed variant is validated too (`happysad.config.validate`, no TensorFlow): inside
a multirun a job's ConfigError would reach Hydra and print its traceback. A
`hydra/launcher=` or `hydra/sweeper=` whose plugin is not installed is named with the
extra to install.
"""

from __future__ import annotations

import sys

from happysad import api
from happysad.errors import ConfigError, HappysadError, redact_text

# Flags that leave the composed job config as plain `key=value` overrides would (value:
# how many arguments follow the flag); the precheck composes with them removed.
NEUTRAL_FLAGS = {"--cfg": 1, "-c": 1, "--package": 1, "-p": 1, "--resolve": 0}
MULTIRUN_FLAGS = ("-m", "--multirun")
MAX_COMPOSES = 24  # a multirun's values checked one by one up to this many


def split_config_dir(argv: list[str]) -> tuple[list[str], str | None]:
    """`--config-dir DIR` / `--config-dir=DIR` / `-cd DIR` taken out of argv."""
    rest: list[str] = []
    user_dir = None
    it = iter(argv)
    for a in it:
        if a in ("--config-dir", "-cd"):
            user_dir = next(it, None)
        elif a.startswith("--config-dir="):
            user_dir = a.split("=", 1)[1]
        else:
            rest.append(a)
    return rest, user_dir


def precheck_overrides(argv: list[str]) -> tuple[list[str], bool] | None:
    """(the overrides to compose for the precheck, multirun?), or None to leave everything
    to Hydra."""
    out: list[str] = []
    multirun = False
    skip = 0
    for arg in argv:
        if skip:
            skip -= 1
        elif arg in NEUTRAL_FLAGS:
            skip = NEUTRAL_FLAGS[arg]
        elif arg in MULTIRUN_FLAGS:
            multirun = True
        elif arg.startswith("-"):
            if arg.split("=", 1)[0] not in NEUTRAL_FLAGS:
                return None
        elif not arg.lstrip("+~").startswith(("hydra.", "hydra/")):
            out.append(arg)  # hydra.* only shapes Hydra's own config, not the job's
    return out, multirun


def sweep_variants(overrides: list[str]) -> list[list[str]]:
    """Single-run override lists covering a multirun's values: every sweep at its first value,
    then each other value of each sweep in turn (`model=a,b` composes model=a and model=b).
    Sweeps without a list of values (interval(), for Optuna) are left out, for Hydra."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(overrides)
    base: list[str] = []
    choices: list[tuple[int, list[str]]] = []
    for o in parsed:
        if not o.is_sweep_override():
            base.append(o.input_line)
            continue
        try:
            values = list(o.sweep_string_iterator())
        except Exception:  # interval(): no values to list
            continue
        if not values:
            continue
        key = o.get_key_element()
        choices.append((len(base), [f"{key}={v}" for v in values]))
        base.append(choices[-1][1][0])
    variants = [base]
    for index, values in choices:
        for value in values[1:]:
            variants.append([*base[:index], value, *base[index + 1 :]])
    return variants[:MAX_COMPOSES]


def variants(argv: list[str]) -> tuple[list[list[str]], str | None] | None:
    """(the override lists to compose, the user's --config-dir), or None when the precheck
    leaves the command line to Hydra (a flag it does not know, Hydra's own grammar error)."""
    argv, user_dir = split_config_dir(argv)
    found = precheck_overrides(argv)
    if found is None:
        return None
    overrides, multirun = found
    try:
        return (sweep_variants(overrides) if multirun else [overrides]), user_dir
    except Exception:  # Hydra's own grammar error: Hydra reports it
        return None


def shows_config(argv: list[str]) -> bool:
    """`--cfg`/`-c`: the user asked to see the composed config, valid or not."""
    return any(a in ("--cfg", "-c") or a.startswith("--cfg=") for a in argv)


def check_variant(variant: list[str], user_dir: str | None, validate_it: bool) -> None:
    """Compose one variant and, unless it resumes a run (whose saved config is merged in the
    job), validate it: in a multirun a job's ConfigError would reach Hydra as a traceback."""
    from happysad.config import validate

    cfg = api.compose(variant, config_dir=user_dir)
    if validate_it and not cfg.get("trainer", {}).get("resume"):
        validate(cfg)


def plugin_packages() -> dict[str, str]:
    """Installable name -> happysad extra (`ray`) that pulls it in, from the installed
    metadata (pyproject's optional-dependencies), so the hint follows pyproject."""
    import re
    from importlib import metadata

    try:
        requires = metadata.requires("happysad") or []
    except metadata.PackageNotFoundError:
        return {}
    out: dict[str, str] = {}
    for req in requires:
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", req)
        name = re.match(r"[A-Za-z0-9_.-]+", req)
        if extra and name:
            out[name.group(0).lower().replace("_", "-")] = extra.group(1)
    return out


def plugin_error(argv: list[str], user_dir: str | None) -> str | None:
    """`hydra/launcher=X` / `hydra/sweeper=X` whose plugin is not installed: one line naming
    what to install, instead of Hydra's "Unknown plugin class" traceback."""
    import importlib.util

    picks = [a for a in argv if a.startswith(("hydra/launcher=", "hydra/sweeper="))]
    if not picks:
        return None
    composed = api.compose(picks, config_dir=user_dir, return_hydra_config=True)
    for pick in picks:
        group = pick.split("=", 1)[0].split("/", 1)[1]
        target = str(composed.hydra[group].get("_target_") or "")
        module = target.rsplit(".", 1)[0]
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:  # a parent package is missing too
            found = False
        if not module or found:
            continue
        parts = module.split(".")
        dist = parts[1] if parts[0] == "hydra_plugins" and len(parts) > 1 else parts[0]
        dist = dist.replace("_", "-")
        extra = plugin_packages().get(dist)
        hint = f"pip install 'happysad[{extra}]'" if extra else f"pip install {dist}"
        return f"error: {pick}: its plugin ({dist}) is not installed: {hint}"
    return None


def first_error(argv: list[str]) -> str | None:
    """The one-line error (`error: ...`, secrets redacted) of the first variant that does
    not compose or validate, or of a launcher/sweeper plugin that is missing; None when all
    is well (or the precheck leaves argv to Hydra)."""
    planned = variants(argv)
    if planned is None:
        return None
    overrides, user_dir = planned
    try:
        missing = plugin_error(argv, user_dir)
        if missing:
            return missing
        for variant in overrides:
            check_variant(variant, user_dir, validate_it=not shows_config(argv))
    except HappysadError as err:
        return f"error: {redact_text(str(err))}"
    return None


def precheck(argv: list[str]) -> int:
    """0 when Hydra may go on; else the exit status, after the error line on stderr."""
    error = first_error(argv)
    if error is None:
        return 0
    print(error, file=sys.stderr)
    return ConfigError.exit_code  # what the job exits with for a bad config, too
