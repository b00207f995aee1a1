"""A Ctrl-C that something swallowed is raised again at the next batch: never lost."""

from __future__ import annotations

import numpy as np
import pytest


def test_a_swallowed_interrupt_is_raised_again_at_the_next_batch() -> None:
    import keras

    from happysad.training import interrupt
    from happysad.training.callbacks import InterruptWatch

    batches: list[int] = []

    class Swallower(keras.callbacks.Callback):
        """Stands for a library that catches KeyboardInterrupt and carries on."""

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            batches.append(batch)
            if batch == 2:
                interrupt.request()  # what the CLI's SIGINT handler records...
                try:
                    raise KeyboardInterrupt  # ...before raising
                except KeyboardInterrupt:
                    pass  # swallowed

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((64, 3)), np.zeros((64, 1))
    try:
        with pytest.raises(KeyboardInterrupt):
            model.fit(
                x,
                y,
                batch_size=4,
                epochs=3,
                verbose=0,
                callbacks=[Swallower(), InterruptWatch()],
            )
    finally:
        interrupt.clear()
    assert batches == [0, 1, 2]  # stopped at the batch it came in, not 3 epochs later
    interrupt.check()  # cleared: nothing pending
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[InterruptWatch()])


def test_terminated_is_raised_as_itself() -> None:
    from happysad.training import interrupt

    interrupt.request(interrupt.Terminated)
    try:
        with pytest.raises(interrupt.Terminated):
            interrupt.check()
    finally:
        interrupt.clear()


def test_an_ignored_signal_stays_ignored() -> None:
    """`happysad-train ... &` in a script starts with SIGINT ignored: the CLI keeps it so."""
    import signal

    from happysad.cli.train import _install, _on_sigint

    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert _install(signal.SIGINT, _on_sigint) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        signal.signal(signal.SIGINT, signal.default_int_handler)
        assert _install(signal.SIGINT, _on_sigint) == signal.default_int_handler
        assert signal.getsignal(signal.SIGINT) == _on_sigint
    finally:
        signal.signal(signal.SIGINT, before)
