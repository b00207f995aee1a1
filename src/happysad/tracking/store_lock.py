"""A lock file beside a SQLite tracking store, held while a process first opens the store.

MLflow creates and migrates a SQLite store's tables the first time a process opens it. Two
runs started together on a new `mlflow.db` both migrated it at once: tracebacks (`table
_alembic_tmp_... already exists`) and, 1 time in 3, a store broken for good. Under the lock the
first process migrates and the others wait, then find the tables made.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; MLflow's own retries are all there is
    fcntl = None  # type: ignore[assignment]

SQLITE_PREFIX = "sqlite:///"


def lock_path(uri: str) -> Path | None:
    """The lock file of a SQLite store URI (`<db>.lock` beside it); None for other stores."""
    if not uri.startswith(SQLITE_PREFIX):
        return None
    db = Path(uri.removeprefix(SQLITE_PREFIX).split("?", 1)[0])
    return db.with_name(db.name + ".lock")


@contextlib.contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Hold the store's lock (exclusive, blocking) for the block; a no-op for other stores.

    The lock file is left in place: removing it would let a waiting process lock a file
    that a newcomer no longer sees."""
    path = lock_path(uri)
    if path is None or fcntl is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
