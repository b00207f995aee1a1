"""Ctrl-C and SIGTERM that cannot be lost.

The CLI's signal handlers record the request here before raising KeyboardInterrupt. If a
library on the way catches that exception (a callback run from C code, a retry loop), the
request is still recorded: `InterruptWatch` (a Keras callback in training/callbacks.py)
raises it again at the next batch or epoch boundary, and `check()` does at the job's stage boundaries. Without the CLI's
handlers (the Python API) nothing is recorded and nothing changes.
"""

from __future__ import annotations


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: checkpoint, end the run KILLED, exit non-zero."""


_requested: type[KeyboardInterrupt] | None = None


def request(kind: type[KeyboardInterrupt] = KeyboardInterrupt) -> None:
    """Record an interrupt (from a signal handler); the caller then raises it."""
    global _requested
    _requested = kind


def clear() -> None:
    global _requested
    _requested = None


def check() -> None:
    """Raise the recorded interrupt again (a request the first raise did not deliver)."""
    if _requested is not None:
        raise _requested()
