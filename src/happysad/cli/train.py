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

log = logging.getLogger("happysad")


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: checkpoint, end the run KILLED, exit non-zero."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def app(cfg: DictConfig) -> float | None:
    """Validate, train, and return the objective (trainer.objective) for sweepers."""
    from happysad.sweeps import runs as sweep

    run_dir, overrides = api.hydra_context()
    redact_logs()  # console and Hydra's train.log: no URI password, no token
    for hydra_file in sorted(Path(run_dir, ".hydra").glob("*.yaml")):
        redact_file(hydra_file)  # Hydra wrote the overrides as given
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main else None
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
# precheck composes with them removed. Any other flag (-m, --config-name, --help...) skips it.
_NEUTRAL_FLAGS = {"--cfg": 1, "-c": 1, "--package": 1, "-p": 1, "--resolve": 0}


def _precheck_overrides(argv: list[str]) -> list[str] | None:
    """The overrides to compose for the precheck, or None to leave everything to Hydra."""
    out: list[str] = []
    skip = 0
    for arg in argv:
        if skip:
            skip -= 1
        elif arg in _NEUTRAL_FLAGS:
            skip = _NEUTRAL_FLAGS[arg]
        elif arg.startswith("-"):
            if arg.split("=", 1)[0] not in _NEUTRAL_FLAGS:
                return None
        elif not arg.lstrip("+~").startswith(("hydra.", "hydra/")):
            out.append(arg)  # hydra.* only shapes Hydra's own config, not the job's
    return out


def _precheck(argv: list[str]) -> None:
    """Compose single-run overrides first so a typo gets one clear line, not Hydra's block.

    `--config-dir` is honoured; hydra.* overrides and --cfg/--package/--resolve are left out
    of this compose; multirun and the flags that change what is composed (--config-name...)
    skip it (Hydra reports).
    """
    argv, user_dir = _split_config_dir(argv)
    overrides = _precheck_overrides(argv)
    if overrides is None:
        return
    try:
        api.compose(overrides, config_dir=user_dir)
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
