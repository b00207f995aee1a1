"""A lock file beside a SQLite tracking store, held while a process first opens the store.

MLflow creates and migrates a SQLite store's tables the first time a process opens it. Two
runs started together on a new `mlflow.db` both migrated it at once: tracebacks (`table
_alembic_tmp_... already exists`) and, 1 time in 3, a store broken for good. Under the lock the
first process migrates and the others wait, then find the tables made.
"""

from __future__ import annotations

import contextlib
import os
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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # flock needs no write access: a lock file another user made (mode 0644) still locks.
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o666)
    except OSError:
        # A store on a read-only mount, or in a folder that is not ours: nothing here can
        # migrate it either, so readers (happysad-compare, resume by run id) go on unlocked.
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
