"""Import TensorFlow without its start-up chatter on stderr.

TensorFlow's C++ side logs through absl before any log level applies: `I0000 ... oneDNN`,
`I0000 ... Could not find cuda drivers`, `WARNING: All log messages before
absl::InitializeLog()` and, on every CPU-only machine, `E0000 ... failed call to cuInit`,
which reads like a failure. TF_CPP_MIN_LOG_LEVEL does not reach the first of these, so the
import (and the first device probe, which prints the cuInit line) runs with file descriptor
2 captured, and every captured line that is not such chatter is written back: real warnings
and errors still show. TF_CPP_MIN_LOG_LEVEL=0 (what `--verbose` sets) or HAPPYSAD_VERBOSE=1
shows everything.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

VERBOSE_ENV = "HAPPYSAD_VERBOSE"
# Informational absl/TF lines (I/W + date), absl's pre-init notice, and the CUDA probe's
# errors on a machine with no GPU driver.
_CHATTER = re.compile(
    r"^(?:[IW]\d{4} \d\d:\d\d:\d\d"
    r"|WARNING: All log messages before absl::InitializeLog\(\)"
    r"|E\d{4} \d\d:\d\d:\d\d\S* +\d+ cuda_\w+\.cc:\d+\] failed call to cuInit)"
)


def verbose() -> bool:
    """The user asked for TensorFlow's own log lines."""
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0" or os.environ.get(VERBOSE_ENV) == "1"


def set_verbose() -> None:
    """`--verbose`: let TensorFlow's start-up lines through, at every level."""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
    os.environ[VERBOSE_ENV] = "1"


_LOG_LINE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d\d|WARNING: |Traceback |\S+(?:Error|Warning)\b)"
)


def drop_chatter(text: str) -> str:
    """text without chatter lines, nor the continuation lines of a multi-line one (TF's
    `cpu_feature_guard` note goes on with "To enable the following instructions: ...")."""
    kept, in_chatter = [], False
    for line in text.splitlines(keepends=True):
        if _CHATTER.match(line):
            in_chatter = True
        elif in_chatter and not _LOG_LINE.match(line):
            continue
        else:
            in_chatter = False
            kept.append(line)
    return "".join(kept)


@contextmanager
def filtered_stderr() -> Iterator[None]:
    """Capture fd 2 for the block; write back every line that is not start-up chatter."""
    if verbose():
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            kept = drop_chatter(tmp.read().decode("utf-8", errors="replace"))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def import_tensorflow() -> None:
    """Import TensorFlow and Keras, and probe devices, with the chatter filtered out."""
    if "tensorflow" in sys.modules and "keras" in sys.modules:
        return
    with filtered_stderr():
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")  # the CUDA probe logs here, not at import
