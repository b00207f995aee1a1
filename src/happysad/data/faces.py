"""Largest-face detection and cropping with OpenCV's frontal-face Haar cascade.

The cascade is ``cv2.CascadeClassifier`` (OpenCV 4.x; OpenCV 5 dropped it, hence the
``opencv-python-headless<5`` pin) with ``haarcascade_frontalface_default.xml`` (Lienhart's
24x24 stump cascade, Intel License, notice kept inside the file), which ships with this
package gzipped, so nothing depends on ``cv2.data`` or a download. Training, evaluation,
prediction and serving all crop through `crop_largest_face`.

Cost: about a millisecond per image (images are detected at most ``DETECT_MAX_SIDE`` pixels
on a side); crops are cached with the resized images, under a key that includes `DETECTOR`
(see ``data/loader.py``), so crops from another detector are never reused.
"""

from __future__ import annotations

import gzip
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

CASCADE_FILE = Path(__file__).with_name("cascades") / "haarcascade_frontalface_default.xml.gz"
DETECT_MAX_SIDE = 320  # larger images are shrunk for detection; the crop uses full resolution
MIN_FACE_FRACTION = 0.1  # smallest face searched: this fraction of the image's shorter side
SCALE_FACTOR = 1.1
MIN_NEIGHBORS = 3
# What produced a face box: part of the decode cache key, so a detector change (another
# OpenCV, another cascade or other settings) recomputes the crops instead of reusing them.
DETECTOR = (
    f"opencv-{cv2.__version__}:{CASCADE_FILE.name}:{DETECT_MAX_SIDE}:{MIN_FACE_FRACTION}:"
    f"{SCALE_FACTOR}:{MIN_NEIGHBORS}"
)

# One classifier per thread: detectMultiScale keeps per-call state in the classifier, so a
# shared one is not safe under the loader's decode threads.
_local = threading.local()


@dataclass(frozen=True)
class FaceBox:
    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h


def load_cascade(path: str | Path = CASCADE_FILE) -> cv2.CascadeClassifier:
    """An OpenCV cascade from an XML file, gzipped or plain (read in memory, no temp file)."""
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    classifier = cv2.CascadeClassifier()
    try:
        flags = cv2.FILE_STORAGE_READ | cv2.FILE_STORAGE_MEMORY
        storage = cv2.FileStorage(raw.decode("utf-8"), flags)
        ok = classifier.read(storage.getFirstTopLevelNode()) and not classifier.empty()
    except (cv2.error, SystemError, UnicodeDecodeError):  # OpenCV's parser refused the text
        ok = False
    if not ok:
        raise ValueError(f"{path}: not an OpenCV cascade")
    return classifier


def _classifier() -> cv2.CascadeClassifier:
    found = getattr(_local, "classifier", None)
    if found is None:
        found = _local.classifier = load_cascade()
    return found


def detect_faces(rgb: np.ndarray, cascade: cv2.CascadeClassifier | None = None) -> list[FaceBox]:
    """Faces in a uint8 RGB (or grayscale) image, largest first, in the image's pixels."""
    cascade = cascade or _classifier()
    gray = rgb if rgb.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    if gray.ndim == 3:
        gray = gray[:, :, 0]
    h0, w0 = gray.shape
    shrink = max(1.0, max(h0, w0) / DETECT_MAX_SIDE)
    if shrink > 1.0:
        size = (max(1, round(w0 / shrink)), max(1, round(h0 / shrink)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    h, w = gray.shape
    win_w, win_h = cascade.getOriginalWindowSize()
    side = max(win_w, win_h, math.ceil(MIN_FACE_FRACTION * min(h, w)))
    found = cascade.detectMultiScale(
        np.ascontiguousarray(gray),
        scaleFactor=SCALE_FACTOR,
        minNeighbors=MIN_NEIGHBORS,
        minSize=(side, side),
    )
    faces = [FaceBox(*(round(float(v) * shrink) for v in box)) for box in found]
    return sorted(faces, key=lambda f: f.area, reverse=True)


def crop_box(shape: tuple[int, ...], face: FaceBox, margin: float) -> FaceBox:
    """The face box grown by `margin` x its size on every side, clipped to the image."""
    h, w = shape[:2]
    mx, my = round(face.w * margin), round(face.h * margin)
    x0, y0 = max(0, face.x - mx), max(0, face.y - my)
    x1, y1 = min(w, face.x + face.w + mx), min(h, face.y + face.h + my)
    return FaceBox(x0, y0, max(1, x1 - x0), max(1, y1 - y0))


def crop_largest_face(rgb: np.ndarray, margin: float) -> tuple[np.ndarray, FaceBox | None]:
    """(crop around the largest face, its crop box) or (the whole image, None) if none found."""
    faces = detect_faces(rgb)
    if not faces:
        return rgb, None
    box = crop_box(rgb.shape, faces[0], margin)
    return np.ascontiguousarray(rgb[box.y : box.y + box.h, box.x : box.x + box.w]), box
