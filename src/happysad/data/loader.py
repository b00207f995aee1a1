"""Decode and resize each image once into uint8 arrays, optionally cached on disk.

uint8 (not float32) keeps the cache 4x smaller; the model scales pixels itself. Decoding
streams into a preallocated array (memory) or a memory-mapped temp file (disk), a window of
images at a time, so the peak is the data set once (memory) or a few MB (disk), never a list
of every image plus its `np.stack`ed copy. The disk cache key covers the preprocessing
settings, the decoder version, the face detector (when cropping) and every file's content
hash, so a changed file, setting, decoder or detector can never be served stale. With face
cropping on, where each image's face was found (or that none was) is cached beside the
arrays, so the cleaning report can say which images were used whole without detecting again.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from happysad.data import cache
from happysad.data.image import PIXELS_VERSION, Preprocessing, preprocess_file_detailed
from happysad.data.progress import Progress
from happysad.data.scan import ImageRecord
from happysad.errors import StorageError
from happysad.resources import available_cpus, available_memory_bytes

# data.cache=auto keeps the decoded arrays in memory while they take at most this share of
# the available memory (docs/configuration.md); the rest is TensorFlow's and the batches'.
AUTO_MEMORY_FRACTION = 0.5
CHUNK_BYTES = 16 * 2**20  # decoded images in flight while streaming into the array/cache


def cache_key(records: list[ImageRecord], prep: Preprocessing) -> str:
    """Preprocessing settings, the face detector when cropping, and every file's content."""
    h = hashlib.sha256(json.dumps(prep.to_dict(), sort_keys=True).encode())
    h.update(f"pixels-v{PIXELS_VERSION}".encode())  # a decoder change invalidates old caches
    if prep.face_crop:
        from happysad.data.faces import DETECTOR

        h.update(DETECTOR.encode())
    for r in records:
        h.update(r.sha256.encode())
    return h.hexdigest()[:20]


def load_images(
    records: list[ImageRecord],
    prep: Preprocessing,
    workers: int = 0,
    cache_dir: str | Path | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (images uint8 (N, H, W, C), labels int32 (N,)) in the order of `records`.

    Without `cache_dir` the images are decoded into memory; with it they are decoded once
    into `images-<key>.npy` and returned memory-mapped (reruns skip decoding entirely).
    """
    images, labels, _ = load_images_with_faces(records, prep, workers, cache_dir)
    return images, labels


def decoded_bytes(n_images: int, prep: Preprocessing) -> int:
    """Bytes that `n_images` decoded images take (uint8, image_size x channels)."""
    h, w = prep.image_size
    return int(n_images) * int(h) * int(w) * int(prep.channels)


def resolve_cache_mode(
    mode: str,
    n_bytes: int,
    available: int | None = None,
    fraction: float = AUTO_MEMORY_FRACTION,
) -> str:
    """`data.cache=auto`: memory when the decoded arrays take at most `fraction` of the memory
    still available (`resources.available_memory_bytes`, unless given), else disk.

    The rest is left to TensorFlow, the model and the batches in flight. Unknown available
    memory (not Linux): memory. Other modes are returned as they are.
    """
    if mode != "auto":
        return mode
    if available is None:
        available = available_memory_bytes()
    if available is None:
        return "memory"
    return "memory" if n_bytes <= fraction * available else "disk"


def load_images_with_faces(
    records: list[ImageRecord],
    prep: Preprocessing,
    workers: int = 0,
    cache_dir: str | Path | None = None,
    chunk_size: int = 0,
    max_cache_bytes: int | None = None,
    keep_keys: Iterable[str] = (),
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Like `load_images`, plus the face crop boxes: int32 (N, 4) x, y, w, h in the decoded
    image, all -1 where no face was found (the image was used whole); None without face_crop.

    Decoding streams: at most `chunk_size` decoded images (0: ~16 MB worth) are in flight
    before they are written into the preallocated array or, with `cache_dir`, into the
    memory-mapped temp file that becomes the cache entry; the data set is never held twice.
    `max_cache_bytes`: the cache folder's budget; older entries (not `keep_keys`) are evicted
    to make room for a new one.
    """
    labels = np.asarray([r.label for r in records], dtype=np.int32)
    h, w = prep.image_size
    shape = (len(records), h, w, prep.channels)
    if not records:
        empty = np.zeros(shape, dtype=np.uint8)
        return empty, labels, (np.full((0, 4), -1, np.int32) if prep.face_crop else None)
    if cache_dir is None:
        images = np.empty(shape, dtype=np.uint8)
        faces = _decode_into(images, records, prep, workers, chunk_size)
        return images, labels, faces
    cache_dir = Path(cache_dir)
    key = cache_key(records, prep)
    cache_file = cache_dir / f"images-{key}.npy"
    faces_file = cache_dir / f"faces-{key}.npy"
    if cache_file.is_file() and (not prep.face_crop or faces_file.is_file()):
        try:
            faces = np.load(faces_file) if prep.face_crop else None
            # Memory-mapped: a dataset larger than RAM streams from disk, batch by batch.
            images = np.load(cache_file, mmap_mode="r")
        except FileNotFoundError:  # evicted by another job between the check and the load
            pass
        else:
            cache.touch(cache_file)
            return images, labels, faces
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache.clean_temp(cache_dir)
    if max_cache_bytes is not None:
        incoming = decoded_bytes(len(records), prep)
        cache.evict(cache_dir, max_cache_bytes, keep={*keep_keys, key}, incoming=incoming)
    tmp = cache.temp_path(cache_file)
    try:
        with cache.locked(tmp):
            out = _reserved_memmap(tmp, shape, cache_dir)
            faces = _decode_into(out, records, prep, workers, chunk_size)
            out.flush()
            del out
            if faces is not None:  # written first: a present images file implies its faces file
                _save_atomic(faces_file, faces)
            os.replace(tmp, cache_file)  # atomic: parallel jobs never read a half-written cache
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return np.load(cache_file, mmap_mode="r"), labels, faces


def _reserved_memmap(tmp: Path, shape: tuple[int, ...], cache_dir: Path) -> np.ndarray:
    """The cache file, memory-mapped, with its disk blocks reserved before any pixel goes in.

    open_memmap makes a sparse file: on a nearly full filesystem the first write to a page
    with no block behind it killed the process with SIGBUS (exit 135, no message, the MLflow
    run left RUNNING). posix_fallocate claims every block now, or fails with a clean error."""
    try:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
        if hasattr(os, "posix_fallocate"):
            fd = os.open(tmp, os.O_RDWR)
            try:
                os.posix_fallocate(fd, 0, os.fstat(fd).st_size)
            finally:
                os.close(fd)
    except OSError as err:
        n = int(np.prod(shape))
        need = f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n / 2**10:.0f} kB"
        raise StorageError(
            f"paths.cache_dir={cache_dir}: cannot write the {need} decode cache "
            f"({err.strerror or err}); free space there, point paths.cache_dir elsewhere, "
            "or set data.cache=memory"
        ) from None
    return out


def _decode_into(
    out: np.ndarray,
    records: list[ImageRecord],
    prep: Preprocessing,
    workers: int,
    chunk_size: int,
) -> np.ndarray | None:
    """Decode records[i] into out[i] with a thread pool, at most `chunk_size` in flight.

    Each task decodes a run of consecutive images straight into their rows of `out` (the
    array, or the memory-mapped cache file): a task per image spent more on thread hand-offs
    and the GIL than decoding a small image takes.
    """
    n_workers = workers or available_cpus()
    per_image = max(1, decoded_bytes(1, prep))
    window = chunk_size or max(4 * n_workers, CHUNK_BYTES // per_image)
    step = max(1, min(32, window // (2 * n_workers)))  # images per task
    faces = np.full((len(records), 4), -1, dtype=np.int32) if prep.face_crop else None
    what = "decode + face crop" if prep.face_crop else "decode"

    def run(start: int) -> int:
        for i in range(start, min(start + step, len(records))):
            img, box = preprocess_file_detailed(records[i].path, prep)
            out[i] = img
            if faces is not None and box is not None:
                faces[i] = (box.x, box.y, box.w, box.h)
        return min(step, len(records) - start)

    with ThreadPoolExecutor(max_workers=n_workers) as pool, Progress(len(records), what) as bar:
        pending: deque = deque()
        starts = iter(range(0, len(records), step))
        for start in itertools.islice(starts, max(1, window // step)):
            pending.append(pool.submit(run, start))
        try:
            while pending:
                bar.update(pending.popleft().result())
                for start in itertools.islice(starts, 1):  # keep the window full
                    pending.append(pool.submit(run, start))
        except BaseException:
            for fut in pending:  # an unreadable file: stop the rest, then re-raise
                fut.cancel()
            raise
    return faces


def _save_atomic(path: Path, array: np.ndarray) -> None:
    tmp = cache.temp_path(path)
    with cache.locked(tmp):
        np.save(tmp, array)
        os.replace(tmp, path)  # atomic: parallel jobs never read a half-written cache
