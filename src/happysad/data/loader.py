"""Decode and resize each image once into uint8 arrays, optionally cached on disk.

uint8 (not float32) keeps the cache 4x smaller; the model scales pixels itself. The disk
cache key covers the preprocessing settings, the face detector (when cropping) and every
file's content hash, so a changed file, setting or detector can never be served stale. With face cropping on, where each image's face
was found (or that none was) is cached beside the arrays, so the cleaning report can say
which images were used whole without detecting again.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from happysad.data.image import Preprocessing, preprocess_file_detailed
from happysad.data.progress import Progress
from happysad.data.scan import ImageRecord


def cache_key(records: list[ImageRecord], prep: Preprocessing) -> str:
    """Preprocessing settings, the face detector when cropping, and every file's content."""
    h = hashlib.sha256(json.dumps(prep.to_dict(), sort_keys=True).encode())
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


def load_images_with_faces(
    records: list[ImageRecord],
    prep: Preprocessing,
    workers: int = 0,
    cache_dir: str | Path | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Like `load_images`, plus the face crop boxes: int32 (N, 4) x, y, w, h in the decoded
    image, all -1 where no face was found (the image was used whole); None without face_crop."""
    labels = np.asarray([r.label for r in records], dtype=np.int32)
    h, w = prep.image_size
    no_faces = np.full((len(records), 4), -1, dtype=np.int32)
    if not records:
        empty = np.zeros((0, h, w, prep.channels), dtype=np.uint8)
        return empty, labels, (no_faces if prep.face_crop else None)
    cache_file = faces_file = None
    if cache_dir is not None:
        key = cache_key(records, prep)
        cache_file = Path(cache_dir) / f"images-{key}.npy"
        faces_file = Path(cache_dir) / f"faces-{key}.npy"
        if cache_file.is_file() and (not prep.face_crop or faces_file.is_file()):
            faces = np.load(faces_file) if prep.face_crop else None
            # Memory-mapped: a dataset larger than RAM streams from disk, batch by batch.
            return np.load(cache_file, mmap_mode="r"), labels, faces
    n_workers = workers or os.cpu_count() or 1
    what = "decode + face crop" if prep.face_crop else "decode"
    done = []
    with ThreadPoolExecutor(max_workers=n_workers) as pool, Progress(len(records), what) as bar:
        for item in pool.map(lambda r: preprocess_file_detailed(r.path, prep), records):
            done.append(item)
            bar.update()
    images = np.stack([img for img, _ in done])
    faces = None
    if prep.face_crop:
        faces = no_faces
        for i, (_, box) in enumerate(done):
            if box is not None:
                faces[i] = (box.x, box.y, box.w, box.h)
    if cache_file is not None and faces_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        if faces is not None:  # written first: a present images file implies its faces file
            _save_atomic(faces_file, faces)
        _save_atomic(cache_file, images)
        return np.load(cache_file, mmap_mode="r"), labels, faces
    return images, labels, faces


def _save_atomic(path: Path, array: np.ndarray) -> None:
    tmp = path.with_suffix(f".tmp-{os.getpid()}.npy")
    np.save(tmp, array)
    os.replace(tmp, path)  # atomic: parallel jobs never read a half-written cache
