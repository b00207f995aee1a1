"""`happysad-train`: the Hydra app that composes conf/, validates it, and trains.

Usage: `happysad-train [group=option ...] [key=value ...]`, `happysad-train --cfg job`,
`happysad-train -m optimizer.lr=1e-3,3e-4`, `happysad-train trainer.resume=<run dir|run id>`.

Exit status: 0 done, 2 bad config, 3 bad data, 5 tracking unavailable, 130 interrupted.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import hydra
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from happysad import api
from happysad.errors import HappysadError, redact_file, redact_logs, redact_text
from happysad.paths import config_dir
from happysad.training import interrupt
from happysad.training.interrupt import Terminated

log = logging.getLogger("happysad")


def _on_sigterm(signum: int, frame: Any) -> None:
    interrupt.request(Terminated)
    raise Terminated()


def _on_sigint(signum: int, frame: Any) -> None:
    interrupt.request(KeyboardInterrupt)
    raise KeyboardInterrupt


def _install(signum: int, handler: Any) -> Any:
    """Install handler unless the signal is ignored; returns the handler to restore."""
    current = signal.getsignal(signum)
    if current == signal.SIG_IGN:
        return current
    signal.signal(signum, handler)
    return current


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def app(cfg: DictConfig) -> float | None:
    """Validate, train, and return the objective (trainer.objective) for sweepers."""
    from happysad.sweeps import runs as sweep

    run_dir, overrides = api.hydra_context()
    redact_logs()  # console and Hydra's train.log: no URI password, no token
    for hydra_file in sorted(Path(run_dir, ".hydra").glob("*.yaml")):
        redact_file(hydra_file)  # Hydra wrote the overrides as given
    in_main = threading.current_thread() is threading.main_thread()
    # Not over an ignored signal: `happysad-train ... &` in a script keeps SIGINT ignored.
    previous = _install(signal.SIGTERM, _on_sigterm) if in_main else None
    previous_int = _install(signal.SIGINT, _on_sigint) if in_main else None
    try:
        job = api.prepare_job(cfg, run_dir, overrides)
        run_dir = job.run_dir  # a resumed run continues in its own dir
        summary = job.run()
    except HappysadError as err:
        print(f"error: {redact_text(str(err))}", file=sys.stderr)
        if sweep.is_multirun():
            raise  # Hydra marks this job failed and runs the sweep's other jobs
        api.drop_empty_run_dir(run_dir)
        sys.exit(err.exit_code)
    except KeyboardInterrupt as err:
        what = "terminated" if isinstance(err, Terminated) else "interrupted"
        print(
            f"{what}: the run was checkpointed and marked KILLED; continue it with "
            f"happysad-train trainer.resume={run_dir}",
            file=sys.stderr,
        )
        sys.exit(130)
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)
        interrupt.clear()  # a multirun's next job starts clean
        api.release_state()
    return summary.get("objective")


class RunDirGuard(Callback):
    """Hydra callback (conf/config.yaml): refuse a run dir that holds a run before Hydra's
    job setup writes `.hydra/` and `train.log` into it (on_run_start comes first)."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        from happysad.training.resume import refuse_reused_run_dir

        if config.get("trainer", {}).get("resume"):
            return  # resuming continues its own run dir; checked there
        try:
            refuse_reused_run_dir(Path(str(config.hydra.run.dir)))
        except HappysadError as err:
            if not _IN_CLI:
                raise  # happysad.api.train: the caller gets the error, not an exit
            print(f"error: {redact_text(str(err))}", file=sys.stderr)
            sys.exit(err.exit_code)


def _split_config_dir(argv: list[str]) -> tuple[list[str], str | None]:
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


# Flags that leave the composed job config as plain `key=value` overrides would: the
# precheck composes with them removed. Any other flag (--config-name, --help...) skips it.
_NEUTRAL_FLAGS = {"--cfg": 1, "-c": 1, "--package": 1, "-p": 1, "--resolve": 0}
_MULTIRUN_FLAGS = ("-m", "--multirun")
_MAX_PRECHECK_COMPOSES = 24  # a multirun's values checked one by one up to this many


def _precheck_overrides(argv: list[str]) -> tuple[list[str], bool] | None:
    """(the overrides to compose for the precheck, multirun?), or None to leave everything
    to Hydra."""
    out: list[str] = []
    multirun = False
    skip = 0
    for arg in argv:
        if skip:
            skip -= 1
        elif arg in _NEUTRAL_FLAGS:
            skip = _NEUTRAL_FLAGS[arg]
        elif arg in _MULTIRUN_FLAGS:
            multirun = True
        elif arg.startswith("-"):
            if arg.split("=", 1)[0] not in _NEUTRAL_FLAGS:
                return None
        elif not arg.lstrip("+~").startswith(("hydra.", "hydra/")):
            out.append(arg)  # hydra.* only shapes Hydra's own config, not the job's
    return out, multirun


def _sweep_variants(overrides: list[str]) -> list[list[str]]:
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
    return variants[:_MAX_PRECHECK_COMPOSES]


def _precheck(argv: list[str]) -> None:
    """Compose the overrides first so a typo gets one clear line, not Hydra's block.

    `--config-dir` is honoured; hydra.* overrides and --cfg/--package/--resolve are left out
    of this compose; a multirun (-m) composes each value of each sweep (before any job, or
    the sweep's parent MLflow run, starts); flags that change what is composed
    (--config-name...) skip it (Hydra reports).
    """
    argv, user_dir = _split_config_dir(argv)
    found = _precheck_overrides(argv)
    if found is None:
        return
    overrides, multirun = found
    try:
        variants = _sweep_variants(overrides) if multirun else [overrides]
    except Exception:  # Hydra's own grammar error: Hydra reports it
        return
    try:
        for variant in variants:
            api.compose(variant, config_dir=user_dir)
    except HappysadError as err:
        print(f"error: {redact_text(str(err))}", file=sys.stderr)
        sys.exit(2)


_IN_CLI = False


def main() -> None:
    global _IN_CLI
    _IN_CLI = True
    _precheck(sys.argv[1:])
    app()


if __name__ == "__main__":
    main()
