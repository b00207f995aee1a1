"""The decode cache's housekeeping: a size budget, least-recently-used eviction, temp files.

One entry per (split's files, preprocessing): `images-<key>.npy` (decoded uint8, read
memory-mapped) and, with face cropping, `faces-<key>.npy`. Without housekeeping the folder
only grows (every changed data set or setting adds an entry) and a killed build leaves a
half-written `*.tmp-<pid>.npy` behind. Here:

- a build writes into a temp file it holds an exclusive `flock` on; `clean_temp` deletes only
  temp files nobody holds a lock on (their writer is gone) and that are older than
  `TMP_GRACE_S` (a writer that has just created its file but not yet locked it is safe);
- a cache hit touches the entry's mtime, which is its "last used" time;
- `evict` deletes whole entries, least recently used first, until the folder fits the budget
  (`data.cache_max_gb`), never an entry this run uses (`keep`). A process that still has a
  deleted file memory-mapped keeps reading it (Linux frees it on the last unmap).

`happysad-cache list|clear` (cli/cache.py) shows and empties the folder by the same rules.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

TMP_GRACE_S = 60.0  # a temp file younger than this is never deleted
_ENTRY = re.compile(r"^(images|faces)-([0-9a-f]+)\.npy$")
_TMP = re.compile(r"\.tmp-\d+\.npy$")
_SCAN = re.compile(r"^scan-[0-9a-f]+\.json$")


@dataclass
class Entry:
    """One cached decode: its key, files, total size and last use (mtime of the images file)."""

    key: str
    files: list[Path] = field(default_factory=list)
    size: int = 0
    last_used: float = 0.0


def entries(cache_dir: str | Path) -> list[Entry]:
    """The decode-cache entries in `cache_dir`, least recently used first."""
    found: dict[str, Entry] = {}
    root = Path(cache_dir)
    if not root.is_dir():
        return []
    for path in root.iterdir():
        m = _ENTRY.match(path.name)
        if not m:
            continue
        try:
            st = path.stat()
        except FileNotFoundError:  # evicted by another job meanwhile
            continue
        e = found.setdefault(m.group(2), Entry(m.group(2)))
        e.files.append(path)
        e.size += st.st_size
        if m.group(1) == "images":  # a hit touches the images file: its mtime is the last use
            e.last_used = st.st_mtime
        elif not any(f.name.startswith("images-") for f in e.files):
            e.last_used = max(e.last_used, st.st_mtime)
    return sorted(found.values(), key=lambda e: (e.last_used, e.key))


def other_files(cache_dir: str | Path) -> list[Path]:
    """Scan caches and temp files: listed and cleared, never evicted by the budget."""
    root = Path(cache_dir)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if _SCAN.match(p.name) or _TMP.search(p.name))


def touch(path: Path) -> None:
    """Mark a cache file as just used (its mtime is the LRU clock; atime is often off)."""
    with contextlib.suppress(OSError):
        os.utime(path)


def evict(
    cache_dir: str | Path, budget_bytes: int, keep: Iterable[str] = (), incoming: int = 0
) -> list[str]:
    """Delete least recently used entries until they fit `budget_bytes` with `incoming` more.

    Entries named in `keep` (this run's) are never deleted. Returns the evicted keys.
    """
    keep = set(keep)
    live = entries(cache_dir)
    total = sum(e.size for e in live) + incoming
    gone: list[str] = []
    for e in live:
        if total <= budget_bytes:
            break
        if e.key in keep:
            continue
        for path in e.files:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        total -= e.size
        gone.append(e.key)
        log.info("decode cache: evicted %s (%.1f MB, least recently used)", e.key, e.size / 2**20)
    if total > budget_bytes:
        log.warning(
            "decode cache: %.2f GB in use by this run exceeds data.cache_max_gb=%.2f",
            total / 2**30,
            budget_bytes / 2**30,
        )
    return gone


def is_stale_temp(path: Path, grace_s: float = TMP_GRACE_S) -> bool:
    """True for a temp file whose writer is gone: nobody holds its lock, and not brand new."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        if time.time() - os.fstat(fd).st_mtime < grace_s:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # being written right now
        except OSError:  # no locks on this filesystem: the age alone decides, generously
            return time.time() - os.fstat(fd).st_mtime > 24 * 3600
        return True
    finally:
        os.close(fd)


def clean_temp(cache_dir: str | Path, grace_s: float = TMP_GRACE_S) -> list[Path]:
    """Delete temp files left by killed builds; returns what was deleted."""
    root = Path(cache_dir)
    if not root.is_dir():
        return []
    removed = []
    for path in root.iterdir():
        if _TMP.search(path.name) and is_stale_temp(path, grace_s):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            removed.append(path)
            log.info("decode cache: removed %s, left by an interrupted build", path.name)
    return removed


def temp_path(final: Path) -> Path:
    return final.with_suffix(f".tmp-{os.getpid()}.npy")


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) while it is being written."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        with contextlib.suppress(OSError):  # a filesystem without locks: the grace time remains
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def clear(cache_dir: str | Path) -> tuple[int, int]:
    """Delete every entry, scan cache and stale temp file (not a build in progress).

    Returns (files deleted, bytes freed)."""
    n = freed = 0
    paths = [p for e in entries(cache_dir) for p in e.files]
    paths += [p for p in other_files(cache_dir) if not _TMP.search(p.name)]
    paths += [p for p in other_files(cache_dir) if _TMP.search(p.name) and is_stale_temp(p, 0)]
    for path in paths:
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        n += 1
        freed += size
    return n, freed
