"""The job's Keras callbacks (training/callbacks.py), in-process on a tiny model.

The crash-injection tests in test_reliability kill a real CLI run at exact points; these
check the same bookkeeping rules in seconds: each epoch journalled, backed up and recorded
once, and a resume that reconciles the journal with the backup and the tracker.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from happysad.tracking.tracker import NullTracker
from happysad.training.resume import (
    HISTORY_FILE,
    backup_epoch,
    read_history_rows,
    write_history_rows,
)

keras = pytest.importorskip("keras")
from happysad.training.callbacks import EpochBookkeeping, PhaseLogger  # noqa: E402


class RecordingTracker(NullTracker):
    """A tracker that keeps what it was sent, standing in for an MLflow run."""

    def __init__(self, stored: set[int] | None = None) -> None:
        super().__init__()
        self.stored = set(stored or ())
        self.sent: list[tuple[int | None, dict[str, float]]] = []

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.sent.append((step, dict(metrics)))
        if step is not None:
            self.stored.add(step)

    def logged_epochs(self, key: str = "loss") -> set[int]:
        return set(self.stored)


def _fit(run_dir: Path, tracker: RecordingTracker, epochs: int) -> EpochBookkeeping:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    bookkeeping = EpochBookkeeping(run_dir, tracker)
    model.fit(
        x, x[:, :1], batch_size=8, epochs=epochs, verbose=0, callbacks=[PhaseLogger(1), bookkeeping]
    )
    return bookkeeping


def test_each_epoch_is_journalled_backed_up_and_recorded_once(tmp_path: Path) -> None:
    tracker = RecordingTracker()
    done = _fit(tmp_path, tracker, epochs=2)
    rows = read_history_rows(tmp_path / HISTORY_FILE)
    assert [r["epoch"] for r in rows] == [0.0, 1.0] and done.restored == 0
    assert [r["phase"] for r in rows] == [1.0, 1.0]  # PhaseLogger ran before the journal
    assert backup_epoch(tmp_path) == 2
    assert [step for step, _ in tracker.sent] == [1, 2]
    assert [m["loss"] for _, m in tracker.sent] == [r["loss"] for r in rows]


def test_a_resume_records_a_backed_up_epoch_from_the_journal(tmp_path: Path) -> None:
    """Killed between the backup and the record of epoch 2: the resume logs epoch 2 with
    the journal's values (not a re-run's), then trains epoch 3 only."""
    _fit(tmp_path, RecordingTracker(), epochs=2)
    journal = read_history_rows(tmp_path / HISTORY_FILE)
    tracker = RecordingTracker(stored={1})
    resumed = _fit(tmp_path, tracker, epochs=3)
    assert resumed.restored == 2
    assert [step for step, _ in tracker.sent] == [2, 3]
    assert tracker.sent[0][1]["loss"] == journal[1]["loss"]
    rows = read_history_rows(tmp_path / HISTORY_FILE)
    assert [r["epoch"] for r in rows] == [0.0, 1.0, 2.0]


def test_a_journal_row_without_its_backup_is_trained_again(tmp_path: Path) -> None:
    """Killed between the journal and the backup of epoch 3: its row is dropped on resume
    and the epoch trained again, recorded once."""
    _fit(tmp_path, RecordingTracker(), epochs=2)
    rows = read_history_rows(tmp_path / HISTORY_FILE)
    ghost = {**rows[-1], "epoch": 2.0, "loss": 123.0}
    write_history_rows(tmp_path / HISTORY_FILE, [*rows, ghost])
    tracker = RecordingTracker(stored={1, 2})
    _fit(tmp_path, tracker, epochs=3)
    rows = read_history_rows(tmp_path / HISTORY_FILE)
    assert [r["epoch"] for r in rows] == [0.0, 1.0, 2.0]
    assert rows[2]["loss"] != 123.0
    assert [step for step, _ in tracker.sent] == [3]
