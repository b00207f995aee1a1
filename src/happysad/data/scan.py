"""Walk a folder-per-class tree, check every file, and report what cannot be used.

The user's data folder is read-only to this module: files are never deleted or modified.
Bad files are skipped and listed (path, reason); in the opt-in quarantine mode they are
moved, intact, to a folder the user names.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from happysad.data.image import ImageDecodeError, decode
from happysad.data.progress import Progress
from happysad.errors import DataError

SYSTEM_FILES = {"thumbs.db", "desktop.ini", ".ds_store"}


@dataclass(frozen=True)
class ImageRecord:
    """One usable image: where it is, its class, and what its bytes hash to."""

    path: str  # absolute
    relpath: str  # relative to the data root, '/'-separated
    class_name: str
    label: int
    sha256: str
    height: int
    width: int
    channels: int
    size_bytes: int


@dataclass(frozen=True)
class Rejected:
    path: str
    class_name: str
    reason: str
    action: str = "skipped"


@dataclass
class ScanResult:
    root: str
    class_names: list[str]
    records: list[ImageRecord]
    rejected: list[Rejected] = field(default_factory=list)
    ignored_folders: list[str] = field(default_factory=list)
    cache_hits: int = 0  # files whose check was reused from the scan cache

    def counts(self) -> dict[str, int]:
        c = Counter(r.class_name for r in self.records)
        return {name: c.get(name, 0) for name in self.class_names}

    def summary(self) -> str:
        """One line for the console, e.g. `803 files, 799 usable (happy 400, sad 399); 4 skipped: ...`."""
        per_class = ", ".join(f"{k} {v}" for k, v in self.counts().items())
        total = len(self.records) + len(self.rejected)
        line = f"{total} files in {len(self.class_names)} classes, {len(self.records)} usable ({per_class})"
        if self.rejected:
            reasons = Counter(r.reason.split(" (")[0] for r in self.rejected)
            action = (
                "quarantined"
                if any(r.action == "quarantined" for r in self.rejected)
                else "skipped"
            )
            line += f"; {len(self.rejected)} {action}: " + ", ".join(
                f"{n} {why}" for why, n in reasons.most_common()
            )
        if self.cache_hits:
            line += f" [{self.cache_hits} checks reused from the scan cache]"
        if self.ignored_folders:
            line += f"; folders not in data.class_names ignored: {', '.join(self.ignored_folders)}"
        return line

    def write_report(self, path: str | Path) -> Path:
        """The cleaning report as CSV: path, class, reason, action."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=["path", "class_name", "reason", "action"])
            w.writeheader()
            for r in self.rejected:
                w.writerow(asdict(r))
        return path


def discover_classes(
    root: str | Path, class_names: list[str] | None = None
) -> tuple[list[str], list[str]]:
    """Class names (sorted folder names, or the configured list) without reading any image.

    Cheap on purpose: the model's output head depends on it and is built before the scan.
    Returns (class_names, ignored_folders).
    """
    root_path = Path(root)
    if not root_path.exists():
        raise DataError(f"data.root={str(root)!r}: folder does not exist")
    if not root_path.is_dir():
        raise DataError(
            f"data.root={str(root)!r}: is a file, expected a folder with one sub-folder per class"
        )
    try:
        folders = sorted(
            p.name for p in root_path.iterdir() if p.is_dir() and not p.name.startswith(".")
        )
    except PermissionError:
        raise DataError(f"data.root={str(root)!r}: permission denied") from None
    if class_names:
        missing = [c for c in class_names if c not in folders]
        if missing:
            raise DataError(
                f"data.class_names: no folder {root_path / missing[0]} "
                f"(sub-folders found: {', '.join(folders) or 'none'})"
            )
        return list(class_names), [f for f in folders if f not in class_names]
    if len(folders) < 2:
        raise DataError(
            f"data.root={str(root)!r}: found {len(folders)} class folder(s) "
            f"({', '.join(folders) or 'none'}); need one sub-folder per class and at least 2 classes"
        )
    return folders, []


def _list_files(class_dir: Path, recursive: bool) -> list[str]:
    """Every entry below a class folder (symlinked folders are not followed: no loops).

    Plain strings: building a Path per file costs more than a cached rescan's stat.
    """
    out: list[str] = []
    if recursive:
        for dirpath, dirnames, filenames in os.walk(class_dir, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            out.extend(os.path.join(dirpath, f) for f in sorted(filenames))
    else:
        with os.scandir(class_dir) as entries:
            out = sorted(e.path for e in entries if not e.is_dir())
    return out


def _suffix(name: str) -> str:
    """pathlib's PurePath.suffix for a file name."""
    i = name.rfind(".")
    return name[i:] if 0 < i < len(name) - 1 else ""


def _quick_reject(path: str, extensions: set[str]) -> str | None:
    """Reasons that need no reading: system/hidden files, dangling links, wrong extension."""
    name = os.path.basename(path)
    if name.lower() in SYSTEM_FILES or name.startswith("._"):
        return "system file"
    if name.startswith("."):
        return "hidden file"
    if os.path.islink(path) and not os.path.exists(path):
        return "broken symlink"
    ext = _suffix(name).lower()
    if ext not in extensions:
        return f"not an image extension ({ext or 'none'})"
    return None


def _inspect_bytes(path: Path) -> tuple[dict | None, str | None]:
    """Read and decode one file: (facts, None) if usable, else (None, reason)."""
    try:
        data = path.read_bytes()
    except PermissionError:
        return None, "unreadable (permission denied)"
    except OSError as err:
        return None, f"unreadable ({err.strerror or err})"
    if not data:
        return None, "empty file"
    try:
        img = decode(data)
    except ImageDecodeError as err:
        return None, str(err)
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "height": int(img.shape[0]),
        "width": int(img.shape[1]),
        "channels": int(img.shape[2]),
        "size_bytes": len(data),
    }, None


class ScanCache:
    """Per-file results keyed by (size, mtime, inode): an unchanged file is never re-read.

    A rescan of an unchanged 100k-file folder costs one stat per file instead of a read and
    a decode. Permission failures are not cached (fixing permissions does not touch mtime).
    """

    VERSION = 1

    def __init__(self, cache_dir: str | Path, root: Path) -> None:
        key = hashlib.sha256(f"{root}|{os.environ.get('OPENCV_IO_MAX_IMAGE_PIXELS')}".encode())
        self.path = Path(cache_dir) / f"scan-{key.hexdigest()[:16]}.json"
        self.entries: dict[str, list] = {}
        self.hits = 0
        try:
            blob = json.loads(self.path.read_text())
            if blob.get("version") == self.VERSION:
                self.entries = blob["entries"]
        except (OSError, ValueError, KeyError):
            pass
        self.fresh: dict[str, list] = {}

    @staticmethod
    def stamp(path: str | Path) -> list[int] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return [st.st_size, st.st_mtime_ns, st.st_ino]

    def hit(self, path: str) -> tuple[dict | None, str | None] | None:
        """The cached result if the file's stamp is unchanged (one stat), else None."""
        entry = self.entries.get(path)
        if entry is None or entry[0] != self.stamp(path):
            return None
        self.hits += 1
        self.fresh[path] = entry
        return entry[1], entry[2]

    def lookup(self, path: str) -> tuple[dict | None, str | None]:
        found = self.hit(path)
        return found if found is not None else self.miss(path)

    def miss(self, path: str) -> tuple[dict | None, str | None]:
        """Read and decode the file, and remember the result under its stamp."""
        stamp = self.stamp(path)
        facts, reason = _inspect_bytes(Path(path))
        if stamp is not None and not (reason or "").startswith("unreadable"):
            self.fresh[path] = [stamp, facts, reason]
        return facts, reason

    def save(self) -> None:
        """Write atomically; only files seen in this scan are kept (deleted ones drop out)."""
        if self.fresh == self.entries:
            return  # unchanged folder: rewriting the same JSON would cost more than the scan
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp-{os.getpid()}-{threading.get_ident()}")
        tmp.write_text(json.dumps({"version": self.VERSION, "entries": self.fresh}))
        os.replace(tmp, self.path)


def _quarantine(path: Path, root: Path, qdir: Path) -> Path:
    """Move a bad file to qdir, keeping its relative path; never overwrite, never delete."""
    dest = qdir / path.relative_to(root)
    dest.parent.mkdir(parents=True, exist_ok=True)
    candidate, n = dest, 1
    while candidate.exists() or candidate.is_symlink():
        candidate = dest.with_name(f"{dest.stem}.{n}{dest.suffix}")
        n += 1
    shutil.move(str(path), str(candidate))
    return candidate


def scan_folder(
    root: str | Path,
    class_names: list[str] | None = None,
    extensions: list[str] | tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".webp"),
    recursive: bool = True,
    workers: int = 0,
    quarantine_dir: str | Path | None = None,
    min_images_per_class: int = 1,
    cache_dir: str | Path | None = None,
) -> ScanResult:
    """Check every file under root/<class>/; decode each one to be sure it is usable.

    With `cache_dir`, results are reused for files whose (size, mtime, inode) are unchanged.
    """
    root_path = Path(root).resolve()
    classes, ignored = discover_classes(root_path, class_names)
    exts = {e.lower() for e in extensions}
    jobs: list[tuple[str, str, int]] = []
    for label, cls in enumerate(classes):
        jobs.extend((p, cls, label) for p in _list_files(root_path / cls, recursive))

    cache = ScanCache(cache_dir, root_path) if cache_dir is not None else None
    inspect = cache.miss if cache is not None else (lambda p: _inspect_bytes(Path(p)))

    # Cheap checks (name, extension, cache stamp) here; only files that must be read and
    # decoded go to the threads (a thread-pool task per cached file cost more than the stat).
    results: list[tuple[dict | None, str | None]] = []
    todo: list[int] = []
    for i, (path, _, _) in enumerate(jobs):
        reason = _quick_reject(path, exts)
        found = None if reason or cache is None else cache.hit(path)
        results.append((None, reason) if reason else found or (None, None))
        if not reason and found is None:
            todo.append(i)
    if todo:
        n_workers = workers or os.cpu_count() or 1
        with (
            ThreadPoolExecutor(max_workers=n_workers) as pool,
            Progress(len(todo), f"scan {root_path.name}") as bar,
        ):
            for i, res in zip(todo, pool.map(lambda i: inspect(jobs[i][0]), todo), strict=True):
                results[i] = res
                bar.update()
    if cache is not None:
        cache.save()

    records: list[ImageRecord] = []
    rejected: list[Rejected] = []
    prefix = len(os.path.join(str(root_path), ""))  # every job path is root_path/class/...
    for (path, cls, label), (facts, reason) in zip(jobs, results, strict=True):
        if facts is not None:
            records.append(
                ImageRecord(
                    path=path,
                    relpath=path[prefix:].replace(os.sep, "/"),
                    class_name=cls,
                    label=label,
                    **facts,
                )
            )
            continue
        action = "skipped"
        if quarantine_dir is not None and os.path.lexists(path):
            dest = _quarantine(Path(path), root_path, Path(quarantine_dir))
            action = "quarantined"
            reason = f"{reason} (moved to {dest})"
        rejected.append(Rejected(path=path, class_name=cls, reason=reason, action=action))

    result = ScanResult(str(root_path), classes, records, rejected, ignored)
    result.cache_hits = cache.hits if cache is not None else 0
    for cls, n in result.counts().items():
        if n < min_images_per_class:
            raise DataError(
                f"class folder {root_path / cls}: {n} usable image(s), need at least "
                f"{min_images_per_class} (data.min_images_per_class); scan: {result.summary()}"
            )
    return result
