"""The Keras callbacks the training job adds to every fit, as importable, typed classes.

This module imports keras at its top, so the job and its stages import it late (inside the
function that fits): config validation and `--help` still run before TensorFlow loads.
User-configured callbacks (`callbacks.<name>`, e.g. training/schedule.py) live elsewhere.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras

from happysad.training.interrupt import check
from happysad.training.resume import (
    BACKUP_DIR,
    HISTORY_FILE,
    backup_epoch,
    read_history_rows,
    write_history_rows,
)

if TYPE_CHECKING:
    from happysad.tracking.tracker import Tracker

log = logging.getLogger("happysad.training.resume")  # where these messages were always logged


class PhaseLogger(keras.callbacks.Callback):
    """Adds `phase` (1: frozen backbone, 2: fine-tuning) to each epoch's logs, so history.csv
    and MLflow tell the two phases of a fine-tuned run apart; a one-phase run goes without."""

    def __init__(self, phase: int) -> None:
        super().__init__()
        self.phase = int(phase)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["phase"] = float(self.phase)


class InterruptWatch(keras.callbacks.Callback):
    """Calls `interrupt.check()` after every batch and epoch: a Ctrl-C that a library
    swallowed (see training/interrupt.py) is raised again at the next boundary."""

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        check()

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        check()

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        check()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        check()


class EpochBookkeeping(keras.callbacks.Callback):
    """One Keras callback that records every completed epoch exactly once, kill -9 or not.

    At each epoch end, in this order: (1) the epoch's metrics go into history.csv (the
    journal), (2) BackupAndRestore saves weights, optimizer state and the epoch count,
    (3) the metrics go to MLflow at step = epoch + 1. A kill between (1) and (2) leaves a
    journal row for an epoch whose weights are lost: on resume that row is dropped and the
    epoch is trained again. A kill between (2) and (3) leaves an epoch that is backed up but
    not in MLflow: on resume it is logged from the journal, at its own step, with its own
    values, before training continues. One callback owns the order, so no other callback
    can land between the three writes.

    `start_epoch`: epochs already done before this fit (a second training phase); the
    backup is kept after training (the job removes it when every phase is done).
    """

    def __init__(
        self, run_dir: Path, tracker: Tracker, backup: bool = True, start_epoch: int = 0
    ) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.tracker = tracker
        self.start_epoch = int(start_epoch)
        self.history_csv = self.run_dir / HISTORY_FILE
        self.backup: keras.callbacks.BackupAndRestore | None = (
            keras.callbacks.BackupAndRestore(
                str(self.run_dir / BACKUP_DIR), double_checkpoint=True, delete_checkpoint=False
            )
            if backup
            else None
        )
        self.rows: list[dict[str, float]] = []
        self.logged: set[int] = set()
        self.restored = 0  # epochs restored from the backup (0 on a fresh run)

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        if self.backup is not None:
            self.backup.set_model(model)

    def on_train_begin(self, logs: dict | None = None) -> None:
        restored = self.start_epoch
        if self.backup is not None:
            self.backup.on_train_begin(logs)  # restores weights, optimizer and epoch
            restored = max(restored, int(getattr(self.model, "_initial_epoch", 0) or 0))
        self.restored = restored
        self.reconcile(restored)

    def reconcile(self, restored: int) -> None:
        """Make the journal and MLflow hold exactly epochs 1..restored, each once."""
        by_epoch = {int(r["epoch"]): r for r in read_history_rows(self.history_csv)}
        self.rows = [by_epoch[e] for e in sorted(by_epoch) if e < restored]
        if self.rows or self.history_csv.exists():
            write_history_rows(self.history_csv, self.rows)
        self.logged = self.tracker.logged_epochs()
        ahead = sorted(s for s in self.logged if s > restored)
        if ahead:
            log.warning(
                "MLflow holds epochs %s beyond the backup (epoch %d); kept as logged",
                ahead,
                restored,
            )
        missing = [r for r in self.rows if int(r["epoch"]) + 1 not in self.logged]
        for r in missing:
            step = int(r["epoch"]) + 1
            self.tracker.log_metrics({k: v for k, v in r.items() if k != "epoch"}, step=step)
            self.logged.add(step)
        if missing:
            log.info(
                "resume: logged epoch(s) %s to MLflow from %s (backed up, not yet recorded)",
                [int(r["epoch"]) + 1 for r in missing],
                self.history_csv.name,
            )

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        metrics = {k: float(v) for k, v in (logs or {}).items()}
        with contextlib.suppress(Exception):  # schedules etc.: skip rather than fail
            lr = self.model.optimizer.learning_rate
            metrics.setdefault("lr", float(keras.ops.convert_to_numpy(lr)))
        self.rows.append({"epoch": float(epoch), **metrics})
        write_history_rows(self.history_csv, self.rows)  # (1) journal
        if self.backup is not None:
            self.backup.on_epoch_end(epoch, logs)  # (2) backup
        if epoch + 1 not in self.logged:  # (3) record
            self.tracker.log_metrics(metrics, step=epoch + 1)
            self.logged.add(epoch + 1)

    def record_backed_up(self) -> list[int]:
        """On an interrupt: log the epochs that are journalled and backed up but not yet
        in MLflow (the signal came between the backup and the record), so the run that
        ends KILLED shows every epoch a resume would keep. A journalled epoch whose
        backup is missing is not logged: a resume trains it again. Returns the steps."""
        done = backup_epoch(self.run_dir) if self.backup is not None else None
        # Asked afresh: the signal may have cut a record off after MLflow stored it.
        self.logged |= self.tracker.logged_epochs()
        steps = []
        for r in self.rows:
            step = int(r["epoch"]) + 1
            if step in self.logged or (done is not None and step > done):
                continue
            self.tracker.log_metrics({k: v for k, v in r.items() if k != "epoch"}, step=step)
            self.logged.add(step)
            steps.append(step)
        return steps

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.backup is not None:
            self.backup.on_epoch_begin(epoch, logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.backup is not None:
            self.backup.on_train_batch_end(batch, logs)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.backup is not None:
            self.backup.on_train_end(logs)
