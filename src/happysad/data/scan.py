"""Walk a folder-per-class tree, check every file, and report what cannot be used.

The user's data folder is read-only to this module: files are never deleted or modified.
Bad files are skipped and listed (path, reason); in the opt-in quarantine mode they are
moved, intact, to a folder the user names.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import shutil
import stat
import threading
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, NamedTuple

from happysad import IMAGE_EXTENSIONS
from happysad.data.image import (
    DEFAULT_MAX_FILE_BYTES,
    ImageDecodeError,
    NotReadable,
    decode,
    file_kind,
    read_regular_file,
    too_large,
)
from happysad.data.progress import Progress
from happysad.errors import DataError, csv_row
from happysad.paths import open_listing
from happysad.resources import available_cpus

SYSTEM_FILES = {"thumbs.db", "desktop.ini", ".ds_store"}


class ImageRecord(NamedTuple):
    """One usable image: where it is, its class, and what its bytes hash to.

    A NamedTuple, not a dataclass: a cached rescan builds one per file, and a tuple is
    several times cheaper to make."""

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
    """A file the run does not use as it is: one row of the cleaning report."""

    path: str
    class_name: str
    reason: str
    action: str = "skipped"


# The cleaning report's columns, one per field of Rejected (path, class_name, reason, action).
CLEANING_REPORT_COLUMNS = tuple(f.name for f in fields(Rejected))


def write_cleaning_report(path: str | Path, rows: Iterable[Rejected], append: bool = False) -> Path:
    """Write (or append to) a cleaning report CSV; the header goes on a new file only.
    Every writer goes through here, so the scan and the face crop agree on the columns."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    new_file = not (append and path.is_file())
    with open_listing(path, "w" if new_file else "a") as fh:
        w = csv.DictWriter(fh, fieldnames=CLEANING_REPORT_COLUMNS)
        if new_file:
            w.writeheader()
        for r in rows:
            w.writerow(csv_row(asdict(r)))
    return path


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
        return write_cleaning_report(path, self.rejected)


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

    Per folder, its files sorted, then each sub-folder (sorted, hidden ones skipped) in turn:
    os.walk's top-down order. Plain strings from os.scandir: building a Path per file, or
    joining names, costs more than a cached rescan's stat. An unreadable sub-folder is passed
    over (as os.walk does); an unreadable class folder is a DataError naming it.
    """
    out: list[str] = []
    stack: list[str] = [str(class_dir)]  # explicit: no recursion limit on deep trees
    while stack:
        folder = stack.pop()
        files, dirs = [], []
        try:
            with os.scandir(folder) as entries:
                for e in entries:
                    try:
                        is_dir = e.is_dir()
                    except OSError:
                        is_dir = False
                    if not is_dir:
                        files.append(e.path)
                    elif recursive and not e.name.startswith(".") and not e.is_symlink():
                        dirs.append(e.path)
        except OSError as err:
            if folder == str(class_dir):
                raise DataError(
                    f"class folder {class_dir}: cannot be read ({err.strerror or err})"
                ) from None
            continue
        files.sort()
        out.extend(files)
        stack.extend(sorted(dirs, reverse=True))  # popped in sorted order
    return out


def _suffix(name: str) -> str:
    """pathlib's PurePath.suffix for a file name."""
    i = name.rfind(".")
    return name[i:] if 0 < i < len(name) - 1 else ""


def _quick_reject(path: str, extensions: set[str], lst: os.stat_result | None = None) -> str | None:
    """Reasons that need no reading: system/hidden files, dangling links, wrong extension.

    `lst`: the file's lstat when the caller has it (saves a system call per file)."""
    name = os.path.basename(path)
    if name.lower() in SYSTEM_FILES or name.startswith("._"):
        return "system file"
    if name.startswith("."):
        return "hidden file"
    linked = os.path.islink(path) if lst is None else stat.S_ISLNK(lst.st_mode)
    if linked and not os.path.exists(path):
        return "broken symlink"
    ext = _suffix(name).lower()
    if ext not in extensions:
        return f"not an image extension ({ext or 'none'})"
    return None


@dataclass(frozen=True)
class _EntryPolicy:
    """What a file must be, checked with a stat (no read): regular, under the cap, and (by
    default) inside the data root once its symlinks are resolved."""

    roots: tuple[str, ...]  # data.root and each class folder, resolved
    max_bytes: int
    follow_external_links: bool

    def reject(self, path: str, lst: os.stat_result | None = None) -> str | None:
        """`lst`: the file's lstat when the caller has it (one system call per file)."""
        try:
            st = os.lstat(path) if lst is None else lst
            linked = stat.S_ISLNK(st.st_mode)
            if linked:
                st = os.stat(path)
        except OSError as err:
            return f"unreadable ({err.strerror or err})"
        if not stat.S_ISREG(st.st_mode):
            return f"not a regular file ({file_kind(st.st_mode)})"
        if st.st_size > self.max_bytes:
            return too_large(st.st_size, self.max_bytes)
        if linked and not self.follow_external_links:
            target = os.path.realpath(path)
            if not any(target == r or target.startswith(os.path.join(r, "")) for r in self.roots):
                return f"symlink outside data.root (to {target}; data.follow_external_links=false)"
        return None


def _inspect_bytes(
    path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> tuple[dict | None, str | None]:
    """Read and decode one file: (facts, None) if usable, else (None, reason)."""
    try:
        data = read_regular_file(path, max_bytes)
    except NotReadable as err:
        return None, str(err)
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


_NO_SHA = "-" * 64  # placeholder hash of a cached rejection


class ScanCache:
    """Per-file results keyed by (size, mtime, inode, ctime): an unchanged file is never re-read.

    A rescan of an unchanged 100k-file folder costs one stat per file instead of a read and
    a decode. Permission failures are not cached (fixing permissions does not touch mtime).
    ctime is in the key because size and mtime survive an in-place rewrite by `cp -p`,
    `rsync -t` or `tar` (they set mtime back), while ctime cannot be set back by a user.

    On disk: JSON in columns (paths relative to the root joined by NUL, flat int lists, the
    hashes as one string), which parses 2-4x faster than an object per file: at 20k files
    the parse was most of a rescan after the stats.
    """

    VERSION = 4

    def __init__(
        self, cache_dir: str | Path, root: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES
    ) -> None:
        pixels = os.environ.get("OPENCV_IO_MAX_IMAGE_PIXELS")
        # `bytes-cap`: verdicts made before the decoded-bytes cap (a 16-bit bomb cached as
        # usable) live under another key, so they are checked again.
        key = hashlib.sha256(f"{root}|{pixels}|{max_bytes}|bytes-cap".encode())
        self.max_bytes = max_bytes
        self.path = Path(cache_dir) / f"scan-{key.hexdigest()[:16]}.json"
        self.prefix = len(os.path.join(str(root), ""))  # scan paths are root/<class>/...
        # relative path -> (size, mtime_ns, inode, ctime_ns, sha256, height, width, channels,
        # size_bytes, reason): reason is None for a usable image, the rest is unused if not.
        self.entries: dict[str, tuple] = {}
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError, AttributeError):
            self.entries = self._load(json.loads(self.path.read_text()))
        self.kept: list[str] = []  # cached entries reused in this scan
        self.fresh: dict[str, tuple] = {}  # entries made in this scan

    @classmethod
    def _load(cls, blob: dict) -> dict[str, tuple]:
        if blob.get("version") != cls.VERSION:
            return {}
        rels = blob["paths"].split("\0") if blob["paths"] else []
        n = len(rels)
        stamps, dims, sha = blob["stamps"], blob["dims"], blob["sha"]
        if len(stamps) != 4 * n or len(dims) != 4 * n or len(sha) != 64 * n:
            raise ValueError("inconsistent scan cache")
        reasons = {int(k): str(v) for k, v in blob["reasons"].items()}
        four = [iter(stamps)] * 4
        dims4 = [iter(dims)] * 4
        return {
            rel: (*st, sha[64 * i : 64 * i + 64], *dm, reasons.get(i))
            for i, (rel, st, dm) in enumerate(
                zip(rels, zip(*four, strict=True), zip(*dims4, strict=True), strict=True)
            )
        }

    @property
    def hits(self) -> int:
        return len(self.kept)

    @staticmethod
    def stamp(path: str | Path, st: os.stat_result | None = None) -> list[int] | None:
        """(size, mtime, inode, ctime) of the file (symlinks followed); `st`: its stat if known."""
        if st is None:
            try:
                st = os.stat(path)
            except OSError:
                return None
        return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]

    def hit_entry(self, path: str, st: os.stat_result) -> tuple | None:
        """The cached entry if `st` (the file's stat) matches its stamp: the rescan fast path
        (a dict lookup and four comparisons)."""
        rel = path[self.prefix :]
        e = self.entries.get(rel)
        if (
            e is None
            or e[0] != st.st_size
            or e[1] != st.st_mtime_ns
            or e[2] != st.st_ino
            or e[3] != st.st_ctime_ns
        ):
            return None
        self.kept.append(rel)
        return e

    def hit(
        self, path: str, st: os.stat_result | None = None
    ) -> tuple[dict | None, str | None] | None:
        """The cached result if the file's stamp is unchanged (one stat), else None.

        `st`: the file's stat (not lstat of a symlink) when the caller already has it."""
        if st is None:
            try:
                st = os.stat(path)
            except OSError:
                return None
        e = self.hit_entry(path, st)
        if e is None:
            return None
        if e[9] is not None:
            return None, e[9]
        return dict(
            zip(("sha256", "height", "width", "channels", "size_bytes"), e[4:9], strict=True)
        ), None

    def miss(self, path: str) -> tuple[dict | None, str | None]:
        """Read and decode the file, and remember the result under its stamp."""
        stamp = self.stamp(path)
        facts, reason = _inspect_bytes(Path(path), self.max_bytes)
        if stamp is not None and not (reason or "").startswith("unreadable"):
            if facts is None:
                values: tuple = (_NO_SHA, 0, 0, 0, 0, reason or "unusable")
            else:
                values = (
                    facts["sha256"],
                    facts["height"],
                    facts["width"],
                    facts["channels"],
                    facts["size_bytes"],
                    None,
                )
            self.fresh[path[self.prefix :]] = (*stamp, *values)
        return facts, reason

    def save(self) -> None:
        """Write atomically; only files seen in this scan are kept (deleted ones drop out)."""
        if not self.fresh and len(set(self.kept)) == len(self.entries):
            return  # unchanged folder: rewriting the same JSON would cost more than the scan
        keep = {rel: self.entries[rel] for rel in self.kept}
        keep.update(self.fresh)
        blob = {
            "version": self.VERSION,
            "paths": "\0".join(keep),
            "stamps": [v for e in keep.values() for v in e[:4]],
            "dims": [v for e in keep.values() for v in e[5:9]],
            "sha": "".join(e[4] for e in keep.values()),
            "reasons": {str(i): e[9] for i, e in enumerate(keep.values()) if e[9] is not None},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp-{os.getpid()}-{threading.get_ident()}")
        tmp.write_text(json.dumps(blob, separators=(",", ":")))
        os.replace(tmp, self.path)


def _check_quarantine(root: Path, qdir: Path) -> Path:
    """The quarantine folder, resolved; refused inside the data root (files would nest deeper
    on every run) and for a root that is a filesystem root or a home folder."""
    qdir = Path(os.path.realpath(os.path.expanduser(qdir)))
    if root == Path(root.anchor) or root == Path(os.path.realpath(Path.home())):
        raise DataError(
            f"data.root={str(root)!r}: a filesystem root or home folder; refusing to quarantine "
            "(moving) files under it, point data.root at the dataset folder"
        )
    if qdir == root or root in qdir.parents:
        raise DataError(
            f"data.quarantine_dir={str(qdir)!r}: inside data.root={str(root)!r}; "
            "pick a folder outside the data"
        )
    return qdir


def _move_exclusive(src: str, dest: Path) -> Path:
    """Move a regular file to dest or dest.1, dest.2...; never replaces an existing file, even
    against a concurrent run (a hard link, or an O_EXCL create across filesystems, claims it)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    while True:
        candidate = dest if n == 0 else dest.with_name(f"{dest.stem}.{n}{dest.suffix}")
        n += 1
        try:
            os.link(src, candidate, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError as err:
            if err.errno not in (18, 1, 95):  # EXDEV, EPERM, EOPNOTSUPP: copy instead
                raise
            try:
                fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                continue
            with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
                shutil.copyfileobj(inp, out)
            shutil.copystat(src, candidate)
        try:
            os.unlink(src)
        except OSError:
            os.unlink(candidate)  # ours, just made: the file stays where it was, once
            raise
        return candidate


def _outside_root(path: str, root: Path) -> str | None:
    """The real folder holding `path` when it is not inside `root` (resolved), else None.

    A class folder may be a link to elsewhere (scanning through it is allowed), but moving
    files there would move the user's files out of a folder they never handed to us (a link
    to the home folder would empty it): quarantine only moves what really lies in the root."""
    real = os.path.realpath(os.path.dirname(path))
    inside = real == str(root) or real.startswith(os.path.join(str(root), ""))
    return None if inside else real


def _quarantine(path: str, root: Path, qdir: Path) -> tuple[str, str]:
    """(action, note) for one bad file: moved intact under qdir, or why it was not."""
    outside = _outside_root(path, root)
    if outside is not None:
        return "skipped", f"not moved: its real folder {outside} is outside data.root={root}"
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return "skipped", "a symlink: not moved"
    if not stat.S_ISREG(st.st_mode):
        return "skipped", f"a {file_kind(st.st_mode)}: not moved"
    try:
        dest = _move_exclusive(path, qdir / Path(path).relative_to(root))
    except OSError as err:
        return "skipped", f"not moved: {err.strerror or err}"
    return "quarantined", f"moved to {dest}"


def _check_entries(
    jobs: list[tuple[str, str, int]],
    exts: set[str],
    policy: _EntryPolicy,
    cache: ScanCache | None,
    prefix: int,
) -> tuple[list, list[int]]:
    """The checks that need no reading, per job: an ImageRecord (a cache hit, built at once)
    or (facts, reason); and the indices of the jobs that must still be read and decoded.

    `prefix`: the length of the root path plus its separator (every job path starts so).
    """
    results: list = []
    todo: list[int] = []
    is_reg = stat.S_ISREG
    for i, (path, cls, label) in enumerate(jobs):
        # One lstat per file serves every check and, for a regular file (not a symlink),
        # the cache stamp too: a cached rescan is one system call per file.
        try:
            lst: os.stat_result | None = os.lstat(path)
        except OSError:
            lst = None  # gone or unreadable: policy.reject says why
        if cache is not None and lst is not None and is_reg(lst.st_mode):
            # Fast path: a plain file with its stamp in the cache passed the name checks
            # when it was cached (they depend on the name alone) and the size cap (part of
            # the cache's key); only the extension list can have changed since.
            e = cache.hit_entry(path, lst)
            if e is not None and _suffix(path).lower() in exts:
                if e[9] is not None:
                    results.append((None, e[9]))
                else:
                    rel = path[prefix:].replace(os.sep, "/")
                    results.append(ImageRecord(path, rel, cls, label, e[4], e[5], e[6], e[7], e[8]))
                continue
            if e is not None:  # cached, but now excluded by data.extensions
                cache.kept.pop()
        reason = _quick_reject(path, exts, lst) or policy.reject(path, lst)
        plain = lst is not None and not stat.S_ISLNK(lst.st_mode)
        found = None if reason or cache is None else cache.hit(path, lst if plain else None)
        results.append((None, reason) if reason else found or (None, None))
        if not reason and found is None:
            todo.append(i)
    return results, todo


def _inspect_all(
    results: list, todo: list[int], paths: list[str], inspect: Any, workers: int, name: str
) -> None:
    """Read and decode paths (jobs `todo`) in threads; results[todo[k]] = (facts, reason)."""
    n_workers = workers or available_cpus()
    # A few dozen files per task: one task per file spent more time handing results between
    # threads (and waiting for the GIL) than reading small images takes.
    step = max(1, min(64, len(todo) // (8 * n_workers)))
    batches = [range(k, min(k + step, len(todo))) for k in range(0, len(todo), step)]
    with (
        ThreadPoolExecutor(max_workers=n_workers) as pool,
        Progress(len(todo), f"scan {name}") as bar,
    ):
        work = pool.map(lambda b: [inspect(paths[k]) for k in b], batches)
        for batch, found in zip(batches, work, strict=True):
            for k, res in zip(batch, found, strict=True):
                results[todo[k]] = res
            bar.update(len(batch))


def scan_folder(
    root: str | Path,
    class_names: list[str] | None = None,
    extensions: list[str] | tuple[str, ...] = IMAGE_EXTENSIONS,
    recursive: bool = True,
    workers: int = 0,
    quarantine_dir: str | Path | None = None,
    min_images_per_class: int = 1,
    cache_dir: str | Path | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    follow_external_links: bool = False,
) -> ScanResult:
    """Check every file under root/<class>/; decode each one to be sure it is usable.

    Only regular files (after resolving symlinks) of at most `max_file_bytes` are read;
    symlinks whose target is outside the root (or a class folder) are reported and skipped
    unless `follow_external_links`. With `cache_dir`, results are reused for files whose
    (size, mtime, inode, ctime) are unchanged.
    """
    root_path = Path(root).resolve()
    classes, ignored = discover_classes(root_path, class_names)
    if quarantine_dir is not None:
        quarantine_dir = _check_quarantine(root_path, Path(quarantine_dir))
    exts = {e.lower() for e in extensions}
    jobs: list[tuple[str, str, int]] = []
    for label, cls in enumerate(classes):
        jobs.extend((p, cls, label) for p in _list_files(root_path / cls, recursive))
    roots = (str(root_path), *(os.path.realpath(root_path / c) for c in classes))
    policy = _EntryPolicy(roots, int(max_file_bytes), bool(follow_external_links))

    cache = ScanCache(cache_dir, root_path, max_file_bytes) if cache_dir is not None else None
    inspect = (
        cache.miss if cache is not None else (lambda p: _inspect_bytes(Path(p), max_file_bytes))
    )

    results, todo = _check_entries(jobs, exts, policy, cache, len(os.path.join(str(root_path), "")))
    if todo:
        _inspect_all(results, todo, [jobs[i][0] for i in todo], inspect, workers, root_path.name)
    if cache is not None:
        cache.save()

    records: list[ImageRecord] = []
    rejected: list[Rejected] = []
    prefix = len(os.path.join(str(root_path), ""))  # every job path is root_path/class/...
    for (path, cls, label), res in zip(jobs, results, strict=True):
        if type(res) is ImageRecord:
            records.append(res)
            continue
        facts, reason = res
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
            action, note = _quarantine(path, root_path, Path(quarantine_dir))
            reason = f"{reason} ({note})"
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
