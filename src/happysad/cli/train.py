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
from typing import Any, ClassVar

import hydra
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from happysad import api
from happysad.cli.precheck import precheck
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
    job setup writes `.hydra/` and `train.log` into it (on_run_start comes first).

    How a refusal ends depends on who started Hydra, so it is a named mode: under
    `happysad.api.train` (the default) the ConfigError goes to the caller; `happysad-train`'s
    `main()` sets `exit_on_refusal`, and the shell gets the one error line and exit status 2
    (an exception raised here would reach `hydra.main`, which prints its own block).
    """

    exit_on_refusal: ClassVar[bool] = False

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        from happysad.training.resume import refuse_reused_run_dir

        if config.get("trainer", {}).get("resume"):
            return  # resuming continues its own run dir; checked there
        try:
            refuse_reused_run_dir(Path(str(config.hydra.run.dir)))
        except HappysadError as err:
            if not self.exit_on_refusal:
                raise  # happysad.api.train: the caller gets the error, not an exit
            print(f"error: {redact_text(str(err))}", file=sys.stderr)
            sys.exit(err.exit_code)


def main() -> None:
    """The console script: precheck the overrides, then Hydra (`app`) with the run-dir guard
    in CLI mode (a refusal is one line and an exit status, not an exception)."""
    code = precheck(sys.argv[1:])
    if code:
        sys.exit(code)
    RunDirGuard.exit_on_refusal = True
    try:
        app()
    finally:
        RunDirGuard.exit_on_refusal = False


if __name__ == "__main__":
    main()
