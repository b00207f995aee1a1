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
