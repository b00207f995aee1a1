"""Test-only Keras callbacks, importable by training subprocesses (cwd is the repo root)."""

from __future__ import annotations

import time

import keras


class SleepEachEpoch(keras.callbacks.Callback):
    """Make epochs slow enough for a test to interrupt a run between two of them."""

    def __init__(self, seconds: float = 1.0) -> None:
        super().__init__()
        self.seconds = seconds

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        time.sleep(self.seconds)


def train_and_crash(where: str, epoch: int, argv: list[str], how: str = "kill") -> None:
    """Run `happysad-train argv` and die like kill -9 (os._exit) at a chosen point of `epoch`;
    with how="ctrl_c", a KeyboardInterrupt is raised there instead (what Ctrl-C does).

    `where` is "before_backup" (the epoch is journalled in history.csv, its weights are not
    backed up), "after_backup" (backed up, not yet in MLflow), "inside_record" (MLflow has
    stored the epoch, the call has not returned) or "after_record" (everything written: the
    crash hits the start of the next epoch). Deterministic, unlike a timed kill.
    """
    import os
    import sys

    def die() -> None:
        if how == "ctrl_c":
            raise KeyboardInterrupt
        os._exit(137)

    orig = keras.callbacks.BackupAndRestore.on_epoch_end

    def on_epoch_end(self, ep: int, logs: dict | None = None) -> None:
        if where == "before_backup" and ep + 1 == epoch:
            die()
        orig(self, ep, logs)
        if where == "after_backup" and ep + 1 == epoch:
            die()

    def on_epoch_begin(self, ep: int, logs: dict | None = None) -> None:
        if where == "after_record" and ep == epoch:
            die()

    if where == "inside_record":  # MLflow stored the epoch, then the signal came
        import mlflow

        log_metrics = mlflow.log_metrics

        def stored_then_die(metrics: dict, step: int | None = None, **kw: object) -> None:
            log_metrics(metrics, step=step, **kw)
            if step == epoch and "loss" in metrics:
                die()

        mlflow.log_metrics = stored_then_die

    keras.callbacks.BackupAndRestore.on_epoch_end = on_epoch_end
    keras.callbacks.BackupAndRestore.on_epoch_begin = on_epoch_begin
    sys.argv = ["happysad-train", *argv]
    from happysad.cli.train import main

    main()
