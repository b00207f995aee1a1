"""A second, independent face generator, for checking generalisation (never for training defaults).

It shares no code and no geometry with happysad's demo generator (src/happysad/data/demo.py,
OpenCV ellipses and parabolas on gradient backgrounds). Here every shape is a signed distance
field evaluated with numpy: superellipse heads (round to squarish), crescent or almond eyes,
circular-arc mouths of varying width and thickness, optional open mouths with teeth, brows
whose inner ends rise on sad faces, cheeks, tears, a shaded face (light from a random side),
value-noise skin texture and cluttered backgrounds of soft blobs. The label shows in the
mouth arc (corners up or down), plus on some faces in the brows or a tear, as real sad faces
do; everything else is drawn independently of the label.

    .venv/bin/python scripts/alt_faces.py --out /tmp/alt --per-class 300 --size 128 --seed 1
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import cv2
import numpy as np

CLASSES = ("happy", "sad")


def _value_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Smooth noise in [0, 1]: a random grid upsampled with cubic interpolation."""
    grid = rng.random((cells + 1, cells + 1)).astype(np.float32)
    return np.clip(cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC), 0, 1)


def _smooth_step(d: np.ndarray, aa: float) -> np.ndarray:
    """Coverage of a shape from its signed distance (negative inside), anti-aliased."""
    return np.clip(0.5 - d / aa, 0.0, 1.0)


def _paint(img: np.ndarray, mask: np.ndarray, colour: np.ndarray) -> None:
    img *= 1.0 - mask[..., None]
    img += mask[..., None] * colour


def _background(rng: np.random.Generator, n: int) -> np.ndarray:
    base = rng.uniform(20, 235, 3).astype(np.float32)
    img = np.ones((n, n, 3), np.float32) * base
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    for _ in range(int(rng.integers(2, 8))):  # soft blobs of clutter
        cx, cy, r = rng.uniform(0, n), rng.uniform(0, n), rng.uniform(0.08, 0.4) * n
        m = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)) * rng.uniform(0.3, 0.9)
        _paint(img, m.astype(np.float32), rng.uniform(0, 255, 3).astype(np.float32))
    img += (_value_noise(rng, n, 6)[..., None] - 0.5) * rng.uniform(0, 60)
    return img


def _arc_sdf(x: np.ndarray, y: np.ndarray, half_w: float, bend: float, thick: float) -> np.ndarray:
    """Distance to a circular arc through (-half_w, 0), (0, -bend), (half_w, 0), minus thick."""
    bend = bend if abs(bend) > 1e-3 else 1e-3
    r = (half_w**2 + bend**2) / (2 * abs(bend))
    cy = -bend + math.copysign(r, bend)  # the centre sits on the concave side
    d_circle = np.abs(np.hypot(x, y - cy) - r)
    ends = np.minimum(np.hypot(x - half_w, y), np.hypot(x + half_w, y))
    # Only the short arc between the chord's ends: same side of the chord as the bulge.
    near_side = (y <= 0) if bend > 0 else (y >= 0)
    inside = (np.abs(x) <= half_w) & near_side
    return np.where(inside, d_circle, ends) - thick


def render_face(rng: np.random.Generator, happy: bool, n: int) -> np.ndarray:
    """One RGB uint8 face of n x n pixels."""
    img = _background(rng, n)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    aa = max(1.0, n / 128)
    cx, cy = n / 2 + rng.uniform(-0.12, 0.12) * n, n / 2 + rng.uniform(-0.1, 0.1) * n
    rx = rng.uniform(0.22, 0.4) * n
    ry = rx * rng.uniform(1.0, 1.35)
    tilt = math.radians(rng.uniform(-15, 15))
    c, s = math.cos(tilt), math.sin(tilt)
    x = ((xx - cx) * c + (yy - cy) * s) / rx  # face-local, unit radius
    y = (-(xx - cx) * s + (yy - cy) * c) / ry
    p = rng.uniform(2.0, 4.0)  # 2: ellipse ... 4: squarish
    head = (np.abs(x) ** p + np.abs(y) ** p) ** (1 / p) - 1.0
    skin = np.array(rng.uniform([60, 35, 20], [255, 225, 200]), np.float32)
    light = math.radians(rng.uniform(0, 360))
    shade = 1.0 + 0.25 * (x * math.cos(light) + y * math.sin(light))
    texture = 1.0 + (_value_noise(rng, n, 12) - 0.5) * rng.uniform(0, 0.3)
    face_col = np.clip(skin * (shade * texture)[..., None], 0, 255)
    m = _smooth_step(head * rx, aa)
    img = img * (1 - m[..., None]) + face_col * m[..., None]
    ink = np.array([20, 15, 15] if skin.mean() > 110 else [240, 235, 225], np.float32)
    ink = np.clip(ink + rng.normal(0, 15, 3), 0, 255).astype(np.float32)
    unit = rx  # distances below are in face-local units times rx (pixels)

    eye_y, eye_x = rng.uniform(-0.35, -0.1), rng.uniform(0.3, 0.48)
    eye_r = rng.uniform(0.07, 0.14)
    crescent = happy and rng.random() < 0.3  # closed, smiling eyes on some happy faces
    for side in (-1, 1):
        ex, ey = x - side * eye_x, y * ry / rx - eye_y
        if crescent:
            d = _arc_sdf(ex, ey, eye_r * 1.2, eye_r * 0.8, 0.02)
        else:
            d = np.hypot(ex, ey * rng.uniform(0.7, 1.3)) - eye_r
        _paint(img, _smooth_step(d * unit, aa), ink)
        if rng.random() < 0.5:  # brows: inner end up when sad (on some faces)
            lift = (0.08 if not happy and rng.random() < 0.6 else 0.0) * -side
            bx = ex + side * 0.0
            by = ey + eye_r + rng.uniform(0.08, 0.16) + lift * bx / max(eye_r * 1.5, 1e-3)
            d = np.maximum(np.abs(by + 2 * eye_r + 0.05) - 0.025, np.abs(bx) - eye_r * 1.4)
            _paint(img, _smooth_step(d * unit, aa), ink)
    if not happy and rng.random() < 0.2:  # a tear
        tx, ty = x - eye_x * rng.choice([-1, 1]), y * ry / rx - eye_y - eye_r - 0.12
        d = np.hypot(tx, ty * 0.7) - 0.05
        _paint(img, _smooth_step(d * unit, aa), np.array([120, 170, 255], np.float32))
    if rng.random() < 0.4:  # cheeks
        for side in (-1, 1):
            d = np.hypot(x - side * 0.55, y * ry / rx - 0.2) - 0.15
            blush = _smooth_step(d * unit, 6 * aa) * 0.35
            _paint(img, blush, np.array([230, 110, 120], np.float32))

    half_w = rng.uniform(0.25, 0.55)
    bend = rng.uniform(0.08, 0.3) * half_w / 0.4 * (1 if happy else -1)
    mouth_y = rng.uniform(0.35, 0.6)
    mx, my = x - rng.uniform(-0.05, 0.05), y * ry / rx - mouth_y
    mouth_col = np.clip(rng.normal([150, 40, 50], 30), 0, 255).astype(np.float32)
    # Image y points down: a smile's centre is below its corners (positive y = down).
    if rng.random() < 0.25:  # open mouth: the region between the arc and its chord
        r_bend = -bend
        inside = (np.abs(mx) < half_w) & (
            (my > 0) & (my < -r_bend * (1 - (mx / half_w) ** 2))
            if r_bend < 0
            else (my < 0) & (my > -r_bend * (1 - (mx / half_w) ** 2))
        )
        _paint(img, cv2.GaussianBlur(inside.astype(np.float32), (0, 0), aa * 0.6), mouth_col)
    d = _arc_sdf(mx, -my, half_w, bend, rng.uniform(0.02, 0.05))
    _paint(img, _smooth_step(d * unit, aa), mouth_col if rng.random() < 0.5 else ink)

    img += rng.normal(0, rng.uniform(0, 12), img.shape).astype(np.float32)
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.5) * aa)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def generate(out: Path, per_class: int, size: int, seed: int) -> Path:
    """Write out/<class>/<class>_NNNN.png; reuse the folder if it is complete."""
    out = Path(out)
    marker = out / ".alt_faces"
    if marker.is_file() and marker.read_text() == f"{per_class} {size} {seed}":
        return out
    rng = np.random.default_rng(seed)
    for cls in CLASSES:
        (out / cls).mkdir(parents=True, exist_ok=True)
    for i in range(per_class):
        for cls in CLASSES:
            rgb = render_face(rng, cls == "happy", size)
            cv2.imwrite(str(out / cls / f"{cls}_{i:04d}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    marker.write_text(f"{per_class} {size} {seed}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(generate(args.out, args.per_class, args.size, args.seed))


if __name__ == "__main__":
    main()
