"""Learning-rate schedules as Keras callbacks, so they compose with resume and fine-tuning.

A callback (not a `LearningRateSchedule` object) because the number of steps is only known
once the data is split, after the optimizer is built; and because it computes the rate from
the absolute epoch number Keras passes in, a resumed run continues the schedule exactly
where it stopped. The training job tells it each phase's span and peak rate (`set_span`).
"""

from __future__ import annotations

import math
from typing import Any

import keras


class WarmupCosineDecay(keras.callbacks.Callback):
    """Linear warm-up from `warmup_start` x peak to the peak rate, then cosine decay to
    `min_ratio` x peak at the end of the phase; updated every batch.

    The peak is the optimizer's configured rate (model.fine_tune.lr in a fine-tuning phase).
    The warm-up lasts `warmup_epochs`, but never more than `max_warmup_share` of the phase
    (the demo sets 0.25: its 5-epoch warm-up, measured for 32 epochs, must not turn
    `trainer.epochs=5` into a run that ends at its peak rate).
    """

    def __init__(
        self,
        warmup_epochs: float = 1.0,
        min_ratio: float = 0.05,
        warmup_start: float = 0.1,
        max_warmup_share: float = 1.0,
    ) -> None:
        super().__init__()
        self.warmup_epochs = float(warmup_epochs)
        self.min_ratio = float(min_ratio)
        self.warmup_start = float(warmup_start)
        self.max_warmup_share = float(max_warmup_share)
        if not 0.0 <= self.max_warmup_share <= 1.0:
            raise ValueError(f"max_warmup_share must be in [0, 1], got {max_warmup_share!r}")
        self.span: tuple[int, int, float] | None = None  # (first epoch, end epoch, peak)
        self.steps = 1
        self.epoch = 0

    def set_span(self, start: int, end: int, peak: float) -> None:
        self.span = (int(start), int(end), float(peak))

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.steps = max(int(self.params.get("steps") or 1), 1)
        if self.span is None:  # used outside the job: the whole fit, at the current rate
            peak = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            self.span = (0, int(self.params.get("epochs") or 1), peak)

    def rate(self, epoch: int, batch: int) -> float:
        start, end, peak = self.span or (0, 1, 1e-3)
        step = max((epoch - start) * self.steps + batch, 0)
        total = max((end - start) * self.steps, 1)
        warm = min(self.warmup_epochs * self.steps, self.max_warmup_share * total)
        if step < warm:
            return peak * (self.warmup_start + (1.0 - self.warmup_start) * step / max(warm, 1.0))
        progress = min((step - warm) / max(total - warm, 1.0), 1.0)
        low = peak * self.min_ratio
        return low + (peak - low) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.model.optimizer.learning_rate = self.rate(self.epoch, batch)

    def get_config(self) -> dict[str, Any]:
        return {
            "warmup_epochs": self.warmup_epochs,
            "min_ratio": self.min_ratio,
            "warmup_start": self.warmup_start,
            "max_warmup_share": self.max_warmup_share,
        }
