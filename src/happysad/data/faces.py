"""Largest-face detection and cropping with OpenCV's frontal-face Haar cascade, in numpy.

Why not ``cv2.CascadeClassifier``: OpenCV 5 (the ``opencv-python-headless`` this project
installs) dropped the cascade classifier and the ``cv2.data.haarcascades`` XML files from its
main modules. The cascade itself is data: ``haarcascade_frontalface_default.xml`` (Lienhart's
24x24 stump cascade, Intel License, notice kept inside the file) ships with this package,
gzipped, so nothing is ever downloaded. This module evaluates it with integral images the way
OpenCV's ``detectMultiScale`` does (same feature values, variance normalisation, stage
thresholds, image pyramid, window step and rectangle grouping), vectorised over all windows
of a scale. One implementation everywhere means training, evaluation, prediction and serving
crop identically whatever OpenCV version is installed.

Cost: a few milliseconds to ~100 ms per image (images are detected at most ``DETECT_MAX_SIDE``
pixels on a side); crops are cached with the resized images (see ``data/loader.py``).
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

CASCADE_FILE = Path(__file__).with_name("cascades") / "haarcascade_frontalface_default.xml.gz"
DETECT_MAX_SIDE = 320  # larger images are shrunk for detection; the crop uses full resolution
MIN_FACE_FRACTION = 0.1  # smallest face searched: this fraction of the image's shorter side
SCALE_FACTOR = 1.1
MIN_NEIGHBORS = 3
GROUP_EPS = 0.2
_THRESHOLD_EPS = 1e-5  # OpenCV subtracts this from every stage threshold
_CHUNK = 2_000_000  # max windows x features x rects evaluated at once (bounds memory)


@dataclass(frozen=True)
class _Stage:
    threshold: float
    rx: np.ndarray  # (F, 3) rect x in the 24x24 window
    ry: np.ndarray
    rw: np.ndarray
    rh: np.ndarray
    weight: np.ndarray  # (F, 3); 0 for the unused third rect
    node_threshold: np.ndarray  # (F,)
    left: np.ndarray  # (F,) leaf value when feature < threshold
    right: np.ndarray  # (F,)


@dataclass(frozen=True)
class Cascade:
    width: int
    height: int
    stages: tuple[_Stage, ...]
    # (stage index, integral-image stride) -> _stage_corners(); images of one size share it
    corner_cache: dict = field(default_factory=dict, compare=False, repr=False)

    def corners(self, i: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
        found = self.corner_cache.get((i, stride))
        if found is None:  # threads may compute one twice; the result is the same
            if len(self.corner_cache) > 20_000:
                self.corner_cache.clear()
            found = self.corner_cache[(i, stride)] = _stage_corners(self.stages[i], stride)
        return found


@dataclass(frozen=True)
class FaceBox:
    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h


def _floats(text: str | None) -> list[float]:
    return [float(v) for v in (text or "").split()]


@lru_cache(maxsize=4)
def load_cascade(path: str | Path = CASCADE_FILE) -> Cascade:
    """Parse an OpenCV (new-format, HAAR, stump) cascade XML, gzipped or plain."""
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    root = ET.fromstring(raw)
    node = root.find("cascade")
    if node is None or (node.findtext("featureType") or "").strip() != "HAAR":
        raise ValueError(f"{path}: not an OpenCV HAAR cascade")
    width, height = int(node.findtext("width") or 0), int(node.findtext("height") or 0)
    features = []
    for feat in node.find("features") or []:
        if (feat.findtext("tilted") or "0").strip() not in ("0", ""):
            raise ValueError(f"{path}: tilted Haar features are not supported")
        rects = [_floats(r.text) for r in feat.find("rects") or []]
        features.append(rects)
    stages = []
    for st in node.find("stages") or []:
        weak = st.find("weakClassifiers") or []
        n = len(weak)
        arr = np.zeros((5, n, 3), dtype=np.float64)
        node_t, left, right = np.zeros(n), np.zeros(n), np.zeros(n)
        for i, wc in enumerate(weak):
            internal = _floats(wc.findtext("internalNodes"))
            leaves = _floats(wc.findtext("leafValues"))
            if len(internal) != 4 or len(leaves) != 2:
                raise ValueError(f"{path}: only stump (depth-1) cascades are supported")
            for j, rect in enumerate(features[int(internal[2])]):
                arr[:, i, j] = rect  # x, y, w, h, weight
            node_t[i], left[i], right[i] = internal[3], leaves[0], leaves[1]
        rx, ry, rw, rh, wt = arr
        stages.append(
            _Stage(
                threshold=float(st.findtext("stageThreshold") or 0) - _THRESHOLD_EPS,
                rx=rx.astype(np.int64),
                ry=ry.astype(np.int64),
                rw=rw.astype(np.int64),
                rh=rh.astype(np.int64),
                weight=wt,
                node_threshold=node_t,
                left=left,
                right=right,
            )
        )
    if not stages or not width or not height:
        raise ValueError(f"{path}: empty cascade")
    return Cascade(width, height, tuple(stages))


def _stage_corners(st: _Stage, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """A stage's features as one matrix: feature values = integral[window + offsets] @ weights.

    Each rect sum is 4 integral-image corners (+ - - +); corners shared between features are
    read once, and the weighted sums become one matrix product instead of 12 gathers each.
    """
    top, left = st.ry, st.rx
    corners = np.stack(
        [
            (top + st.rh) * stride + left + st.rw,
            top * stride + left + st.rw,
            (top + st.rh) * stride + left,
            top * stride + left,
        ],
        axis=-1,
    )  # (F, 3, 4)
    signs = np.array([1.0, -1.0, -1.0, 1.0])
    coef = st.weight[:, :, None] * signs  # (F, 3, 4)
    offsets, inverse = np.unique(corners.ravel(), return_inverse=True)
    weights = np.zeros((offsets.size, st.weight.shape[0]))
    feature = np.broadcast_to(np.arange(st.weight.shape[0])[:, None, None], corners.shape)
    np.add.at(weights, (inverse, feature.ravel()), coef.ravel())
    return offsets, weights


def _pyramid_windows(
    gray: np.ndarray, cascade: Cascade, min_side: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, list[tuple[float, int, int, int]]]:
    """Every pyramid level's integral images packed into one canvas with one row stride.

    Window-relative feature offsets are then the same for every level, so all windows of all
    scales go through the cascade together (OpenCV packs its levels the same way). Returns
    (integral, squared integral, window offsets, window level, stride, levels) where a level is
    (scale, canvas row, window width, window height) for mapping windows back to the image.
    """
    h, w = gray.shape
    ww, wh = cascade.width, cascade.height
    levels: list[tuple[float, int, int, int, np.ndarray, int]] = []
    factor, rows = 1.0, 0
    while True:
        scale = float(np.float32(factor))  # OpenCV keeps its scales as float
        win_w, win_h = round(ww * scale), round(wh * scale)
        sw, sh = round(w / scale), round(h / scale)
        if sw < ww or sh < wh or win_w > w or win_h > h:
            break
        if min(win_w, win_h) >= min_side:
            img = (
                gray if scale == 1.0 else cv2.resize(gray, (sw, sh), interpolation=cv2.INTER_LINEAR)
            )
            levels.append((scale, rows, win_w, win_h, img, 1 if scale >= 2 else 2))
            rows += sh + 1
        factor *= SCALE_FACTOR
    stride = w + 1
    ii = np.zeros((max(rows, 1), stride), dtype=np.float64)
    sq = np.zeros_like(ii)
    bases, level_of = [], []
    for k, (_, row, _, _, img, step) in enumerate(levels):
        sh, sw = img.shape
        f = img.astype(np.float64)
        ii[row + 1 : row + sh + 1, 1 : sw + 1] = f.cumsum(0).cumsum(1)
        sq[row + 1 : row + sh + 1, 1 : sw + 1] = (f * f).cumsum(0).cumsum(1)
        ys, xs = np.meshgrid(
            np.arange(0, sh - wh + 1, step), np.arange(0, sw - ww + 1, step), indexing="ij"
        )
        b = ((ys + row) * stride + xs).ravel()
        bases.append(b)
        level_of.append(np.full(b.size, k, dtype=np.int32))
    base = np.concatenate(bases) if bases else np.zeros(0, dtype=np.int64)
    level = np.concatenate(level_of) if level_of else np.zeros(0, dtype=np.int32)
    info = [(scale, row, win_w, win_h) for scale, row, win_w, win_h, _, _ in levels]
    return ii.ravel(), sq.ravel(), base, level, stride, info


def _raw_detections(
    gray: np.ndarray, cascade: Cascade, min_side: float
) -> list[tuple[int, int, int, int]]:
    """(x, y, w, h) of every window, at every scale, that passes all the stages."""
    flat, flat_sq, base, level, stride, levels = _pyramid_windows(gray, cascade, min_side)
    if base.size == 0:
        return []
    ww, wh = cascade.width, cascade.height

    def box(values: np.ndarray, x: int, y: int, bw: int, bh: int) -> np.ndarray:
        o = base + y * stride + x
        return values[o + bh * stride + bw] - values[o + bw] - values[o + bh * stride] + values[o]

    # Variance normalisation over the window's inner (w-2) x (h-2) rectangle, as OpenCV does.
    s = box(flat, 1, 1, ww - 2, wh - 2)
    s2 = box(flat_sq, 1, 1, ww - 2, wh - 2)
    nf = (ww - 2) * (wh - 2) * s2 - s * s
    inv_norm = 1.0 / np.where(nf > 0, np.sqrt(np.maximum(nf, 0)), 1.0)

    for i, st in enumerate(cascade.stages):
        offsets, weights = cascade.corners(i, stride)
        chunk = max(1, _CHUNK // offsets.size)
        keep = np.empty(base.size, dtype=bool)
        for a in range(0, base.size, chunk):
            corners = flat[base[a : a + chunk, None] + offsets]  # (n, K) integral values
            value = (corners @ weights) * inv_norm[a : a + chunk, None]  # (n, F) feature values
            votes = np.where(value < st.node_threshold, st.left, st.right).sum(axis=1)
            keep[a : a + chunk] = votes >= st.threshold
        base, inv_norm, level = base[keep], inv_norm[keep], level[keep]
        if base.size == 0:
            return []
    out = []
    for b, k in zip(base.tolist(), level.tolist(), strict=True):
        scale, row, win_w, win_h = levels[k]
        y, x = divmod(b, stride)
        out.append((round(x * scale), round((y - row) * scale), win_w, win_h))
    return out


def _group(rects: list[tuple[int, int, int, int]]) -> list[tuple[FaceBox, int]]:
    """OpenCV's groupRectangles: cluster similar boxes, average them, drop weak and nested ones."""
    n = len(rects)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            r1, r2 = rects[i], rects[j]
            delta = GROUP_EPS * (min(r1[2], r2[2]) + min(r1[3], r2[3])) * 0.5
            if (
                abs(r1[0] - r2[0]) <= delta
                and abs(r1[1] - r2[1]) <= delta
                and abs(r1[0] + r1[2] - r2[0] - r2[2]) <= delta
                and abs(r1[1] + r1[3] - r2[1] - r2[3]) <= delta
            ):
                parent[find(i)] = find(j)
    clusters: dict[int, list[tuple[int, int, int, int]]] = {}
    for i in range(n):
        clusters.setdefault(find(i), []).append(rects[i])
    avg = [
        (FaceBox(*(round(float(v)) for v in np.mean(np.asarray(c), axis=0))), len(c))
        for c in clusters.values()
    ]
    out = []
    for i, (r1, n1) in enumerate(avg):
        if n1 <= MIN_NEIGHBORS:
            continue
        nested = False
        for j, (r2, n2) in enumerate(avg):
            if j == i or n2 <= MIN_NEIGHBORS:
                continue
            dx, dy = int(r2.w * GROUP_EPS), int(r2.h * GROUP_EPS)
            if (
                r1.x >= r2.x - dx
                and r1.y >= r2.y - dy
                and r1.x + r1.w <= r2.x + r2.w + dx
                and r1.y + r1.h <= r2.y + r2.h + dy
                and (n2 > max(3, n1) or n1 < 3)
            ):
                nested = True
                break
        if not nested:
            out.append((r1, n1))
    return out


def detect_faces(rgb: np.ndarray, cascade: Cascade | None = None) -> list[FaceBox]:
    """Faces in a uint8 RGB (or grayscale) image, largest first, in the image's pixels."""
    cascade = cascade or load_cascade()
    gray = rgb if rgb.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    if gray.ndim == 3:
        gray = gray[:, :, 0]
    h0, w0 = gray.shape
    shrink = max(1.0, max(h0, w0) / DETECT_MAX_SIDE)
    if shrink > 1.0:
        size = (max(1, round(w0 / shrink)), max(1, round(h0 / shrink)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    h, w = gray.shape
    min_side = max(cascade.width, MIN_FACE_FRACTION * min(h, w))
    raw = _raw_detections(gray, cascade, min_side)
    faces = [box for box, _ in _group(raw)]
    if shrink > 1.0:
        faces = [
            FaceBox(
                round(f.x * shrink), round(f.y * shrink), round(f.w * shrink), round(f.h * shrink)
            )
            for f in faces
        ]
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
