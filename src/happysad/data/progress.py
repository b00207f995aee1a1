"""Progress for long work that is not a Keras epoch (scanning, decoding, face cropping, demo
generation, batch prediction), always on stderr: stdout carries predict's results.

A tqdm bar when stderr is a terminal, else one log line (logger `happysad.progress`) every
~10%, so a CI log or a Hydra train.log shows that 20k photos are moving, not hanging. Like
tqdm's `mininterval`, log lines come at most one per `MIN_INTERVAL` seconds (plus the final
100% line): a step that takes 0.1 s writes one line, not ten.
`HAPPYSAD_PROGRESS=bar|log|off` forces one behaviour. Small jobs (under `MIN_TOTAL` items)
report nothing: they finish before anyone looks.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

log = logging.getLogger("happysad.progress")

MIN_TOTAL = 200
MIN_INTERVAL = 5.0  # seconds between two log lines (the final line always comes)


def _mode() -> str:
    forced = os.environ.get("HAPPYSAD_PROGRESS", "").strip().lower()
    if forced in ("bar", "log", "off"):
        return forced
    return "bar" if sys.stderr.isatty() else "log"


class Progress:
    """Count finished items of one step: `with Progress(n, "decode") as p: ... p.update()`."""

    def __init__(self, total: int, desc: str, unit: str = "img", min_total: int | None = None):
        self.total, self.desc, self.done = int(total), desc, 0
        small = self.total < (MIN_TOTAL if min_total is None else min_total)
        self.mode = "off" if small or self.total <= 0 else _mode()
        self._bar: Any = None
        self._next_log = 0.1
        self._t0 = time.monotonic()
        self._last_log = self._t0
        if self.mode == "bar":
            try:
                from tqdm import tqdm
            except ImportError:  # tqdm comes with optuna; without it, log lines
                self.mode = "log"
            else:
                self._bar = tqdm(total=self.total, desc=desc, unit=unit, file=sys.stderr)

    def update(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.mode == "log" and self.done >= self._next_log * self.total:
            now = time.monotonic()
            final = self.done >= self.total
            if not final and now - self._last_log < MIN_INTERVAL:
                return  # too soon after the last line: the next 10% mark after the pause
            self._last_log = now
            frac = self.done / self.total
            rate = self.done / max(now - self._t0, 1e-9)
            log.info("%s: %d%% (%d/%d, %.1f/s)", self.desc, frac * 100, self.done, self.total, rate)
            while self._next_log <= frac:  # one line per 10% crossed, even in big steps
                self._next_log += 0.1

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def log_to_stderr() -> None:
    """For console scripts without logging set up (predict, eval): progress lines on stderr."""
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.INFO)
