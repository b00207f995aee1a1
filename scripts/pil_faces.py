"""A third face generator, for held-out evaluation only (never for training or tuning defaults).

It shares no code with the demo generator (OpenCV ellipses and parabolas) nor with
scripts/alt_faces.py (numpy signed distance fields): faces are drawn with Pillow's ImageDraw
primitives at 4x and downsampled, in three families that other face sets tend to look like:

- ``emoji``: a round face with a darker rim, oval eyes, an arc or an open "D"/chord mouth;
- ``doodle``: black hand-drawn strokes on paper (jittered polylines), often an unclosed head;
- ``avatar``: a flat-colour head (circle or rounded square) with a hair block, on a colour tile.

The label shows in the mouth (an arc whose ends turn up or down) and, on some sad faces, in
slanted brows or a tear. The whole image is then rotated, blurred or JPEG-compressed at random.

    .venv/bin/python scripts/pil_faces.py --out /tmp/pil --per-class 200 --size 128 --seed 5
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CLASSES = ("happy", "sad")
_SS = 4  # supersampling factor


def _rgb(rng: np.random.Generator, lo: int = 0, hi: int = 256) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(lo, hi, 3))  # type: ignore[return-value]


def _jitter_line(rng: np.random.Generator, pts: np.ndarray, amp: float) -> list[tuple]:
    """A hand-drawn look: small random offsets along the stroke."""
    noisy = pts + rng.normal(0, amp, pts.shape)
    return [tuple(p) for p in noisy]


def _arc_points(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float) -> np.ndarray:
    t = np.radians(np.linspace(a0, a1, 24))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _mouth(
    rng: np.random.Generator, d: ImageDraw.ImageDraw, happy: bool, c: tuple, w: float, ink, lw: int
) -> None:
    """Happy: the lower half of an ellipse (ends up). Sad: the upper half (ends down)."""
    cx, cy = c
    ry = w * rng.uniform(0.25, 0.7)
    style = rng.random()
    if happy:
        box = [cx - w, cy - ry, cx + w, cy + ry]
        if style < 0.3:  # open "D" smile, sometimes with teeth
            d.chord(box, 0, 180, fill=_rgb(rng, 60, 200), outline=ink, width=lw)
            if rng.random() < 0.5:
                d.rectangle([cx - w * 0.7, cy, cx + w * 0.7, cy + ry * 0.3], fill=(250, 250, 250))
        else:
            d.arc(box, 10, 170, fill=ink, width=lw)
    else:
        box = [cx - w, cy, cx + w, cy + 2 * ry]
        if style < 0.2:
            d.chord(box, 180, 360, fill=_rgb(rng, 60, 200), outline=ink, width=lw)
        else:
            d.arc(box, 190, 350, fill=ink, width=lw)


def _eyes(rng, d, happy, cx, ey, ex, er, ink, lw, sad_brows: bool) -> None:
    style = rng.integers(3)
    for side in (-1, 1):
        x = cx + side * ex
        if style == 0:
            d.ellipse([x - er * 0.6, ey - er, x + er * 0.6, ey + er], fill=ink)
        elif style == 1:
            d.ellipse(
                [x - er, ey - er, x + er, ey + er], fill=(255, 255, 255), outline=ink, width=lw
            )
            d.ellipse([x - er * 0.4, ey - er * 0.4, x + er * 0.4, ey + er * 0.4], fill=ink)
        else:
            d.line([x - er, ey, x + er, ey], fill=ink, width=lw)
        if sad_brows:  # inner end raised
            inner, outer = x - side * er * 1.2, x + side * er * 1.2
            d.line([inner, ey - er * 2.6, outer, ey - er * 1.7], fill=ink, width=lw)
        elif rng.random() < 0.3:
            d.line([x - er * 1.2, ey - er * 2.0, x + er * 1.2, ey - er * 2.0], fill=ink, width=lw)


def render_face(rng: np.random.Generator, happy: bool, n: int) -> Image.Image:
    N = n * _SS
    family = rng.choice(["emoji", "doodle", "avatar"])
    bg = (int(rng.integers(225, 256)),) * 3 if family == "doodle" else _rgb(rng)
    img = Image.new("RGB", (N, N), bg)
    d = ImageDraw.Draw(img)
    r = N * rng.uniform(0.2, 0.45)
    cx, cy = N / 2 + rng.uniform(-0.1, 0.1) * N, N / 2 + rng.uniform(-0.1, 0.1) * N
    lw = max(1, int(N * rng.uniform(0.012, 0.04)))
    ink = (int(rng.integers(0, 60)),) * 3
    if family == "emoji":
        face = (int(rng.integers(220, 256)), int(rng.integers(160, 230)), int(rng.integers(0, 80)))
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=face, outline=(150, 90, 0), width=lw)
        ink = (int(rng.integers(40, 110)), int(rng.integers(20, 60)), 0)
    elif family == "doodle":
        a0 = rng.uniform(0, 60)
        pts = _arc_points(cx, cy, r, r * rng.uniform(0.9, 1.2), a0, a0 + rng.uniform(300, 365))
        d.line(_jitter_line(rng, pts, N * 0.004), fill=ink, width=lw, joint="curve")
    else:
        face = _rgb(rng, 90, 250)
        if rng.random() < 0.7:
            d.rectangle([cx - r * 1.05, cy - r * 1.1, cx + r * 1.05, cy - r * 0.2], fill=_rgb(rng))
        if rng.random() < 0.5:
            d.rounded_rectangle([cx - r, cy - r, cx + r, cy + r], radius=r * 0.4, fill=face)
        else:
            d.ellipse([cx - r, cy - r * 1.05, cx + r, cy + r * 1.05], fill=face)
    ey = cy - r * rng.uniform(0.15, 0.35)
    er = r * rng.uniform(0.08, 0.15)
    sad_brows = (not happy) and rng.random() < 0.35
    _eyes(rng, d, happy, cx, ey, r * rng.uniform(0.3, 0.45), er, ink, lw, sad_brows)
    if not happy and rng.random() < 0.15:  # a tear
        tx = cx + r * 0.38 * rng.choice([-1, 1])
        d.ellipse([tx - er * 0.5, ey + er * 1.5, tx + er * 0.5, ey + er * 2.8], fill=(90, 160, 255))
    my = cy + r * rng.uniform(0.3, 0.5)
    _mouth(rng, d, happy, (cx, my), r * rng.uniform(0.3, 0.55), ink, lw)
    img = img.resize((n, n), Image.LANCZOS)
    img = img.rotate(rng.uniform(-15, 15), resample=Image.BILINEAR, fillcolor=bg)
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2) * n / 128))
    if rng.random() < 0.5:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=int(rng.integers(40, 90)))
        img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return img


def generate(out: Path, per_class: int, size: int, seed: int) -> Path:
    """Write out/<class>/<class>_NNNN.png; reuse the folder if it is complete."""
    out = Path(out)
    marker = out / ".pil_faces"
    if marker.is_file() and marker.read_text() == f"{per_class} {size} {seed}":
        return out
    rng = np.random.default_rng([seed, 77])
    for cls in CLASSES:
        (out / cls).mkdir(parents=True, exist_ok=True)
    for i in range(per_class):
        for cls in CLASSES:
            render_face(rng, cls == "happy", size).save(out / cls / f"{cls}_{i:04d}.png")
    marker.write_text(f"{per_class} {size} {seed}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--per-class", type=int, default=200)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(generate(args.out, args.per_class, args.size, args.seed))


if __name__ == "__main__":
    main()
