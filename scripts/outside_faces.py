"""Outside faces: an independent, report-only happy/sad image set.

This generator was written from a short written description of the task only
("a happy face's mouth corners turn up, a sad face's turn down; nothing else may
depend on the label"), without reading the project's other face generators. It
measures how a model trained on the project's own synthetic faces generalises to
faces drawn by someone else. Styles:

- mosaic: a face laid in square tiles with grout lines;
- oil: an oil-painted portrait with visible brush strokes and canvas weave;
- felt: a felt or plush-toy face with seams, ears and button eyes;
- graffiti: a spray-painted face with drips on a brick or concrete wall;
- blurry: an out-of-focus, photo-like head and shoulders;
- crowd: several smaller neutral faces around one larger central face;
- snowman: a snowman's head with coal eyes and a carrot nose;
- robot: a metal robot head with a dot-matrix or glowing mouth panel;
- pumpkin: a carved, glowing or a painted pumpkin;
- food: latte art in a cup or an iced cookie on a plate;
- screen: a face on a monitor with scanlines and glow;
- finger: a face drawn with a finger on a fogged window or in sand.

Each image comes from ``SeedSequence([seed, class_index, image_index])`` split
into a scene stream and a mouth stream; the label only flips the sign of the
mouth's bend, so a happy and a sad image rendered from the same seed differ only
around the mouth.

Report-only: never use this set to tune a default, pick a model or choose a
threshold; it is meant to stay unseen.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

CLASSES = ("happy", "sad")
MARKER = "OUTSIDE_FACES.json"
GENERATOR = "outside_faces"
VERSION = 1

SS = 2  # the canvas is drawn at SS times the output size, then shrunk
_SHIFT = 4
_ONE = 1 << _SHIFT
TAU = 2.0 * math.pi

Color = tuple[float, float, float]
Rng = np.random.Generator
T = TypeVar("T")

SKINS: tuple[Color, ...] = (
    (255, 226, 200),
    (243, 202, 168),
    (228, 180, 140),
    (206, 150, 110),
    (172, 114, 80),
    (130, 86, 60),
    (94, 64, 46),
)
TOY_SKINS: tuple[Color, ...] = (
    *SKINS,
    (255, 214, 90),
    (130, 200, 250),
    (170, 225, 140),
    (255, 175, 200),
    (200, 175, 250),
)
HAIRS: tuple[Color, ...] = (
    (22, 18, 18),
    (62, 42, 30),
    (112, 74, 42),
    (190, 150, 92),
    (232, 204, 136),
    (164, 66, 34),
    (140, 140, 140),
    (236, 236, 230),
)


# --------------------------------------------------------------------------- helpers


def _pick(rng: Rng, seq: Sequence[T]) -> T:
    """One element of ``seq``."""
    return seq[int(rng.integers(len(seq)))]


def _c(col: Sequence[float]) -> tuple[int, int, int]:
    """A colour as a cv2-friendly int tuple."""
    return (
        int(np.clip(col[0], 0, 255)),
        int(np.clip(col[1], 0, 255)),
        int(np.clip(col[2], 0, 255)),
    )


def _jit(rng: Rng, col: Sequence[float], amount: float = 12.0) -> Color:
    """A colour jittered per channel."""
    out = np.clip(np.asarray(col, np.float64) + rng.normal(0.0, amount, 3), 0, 255)
    return (float(out[0]), float(out[1]), float(out[2]))


def _rand_col(rng: Rng, lo: float = 0.0, hi: float = 255.0) -> Color:
    """A random colour."""
    v = rng.uniform(lo, hi, 3)
    return (float(v[0]), float(v[1]), float(v[2]))


def _mix(a: Sequence[float], b: Sequence[float], t: float) -> Color:
    """Linear mix of two colours."""
    return (
        a[0] * (1 - t) + b[0] * t,
        a[1] * (1 - t) + b[1] * t,
        a[2] * (1 - t) + b[2] * t,
    )


def _dark(rng: Rng) -> Color:
    """A dark drawing colour."""
    return _pick(rng, ((25, 22, 22), (40, 28, 24), (20, 24, 48), (60, 30, 30), (10, 10, 10)))


def _ip(xy: np.ndarray) -> np.ndarray:
    """Float canvas points to cv2 fixed-point polygon points."""
    return np.round(np.asarray(xy, np.float64).reshape(-1, 2) * _ONE).astype(np.int32)


def _fill(img: np.ndarray, xy: np.ndarray, col: Sequence[float]) -> None:
    """Fill a polygon (antialiased)."""
    cv2.fillPoly(img, [_ip(xy)], _c(col) if img.ndim == 3 else int(col[0]), cv2.LINE_AA, _SHIFT)


def _line(
    img: np.ndarray, xy: np.ndarray, col: Sequence[float], th: float, closed: bool = False
) -> None:
    """Draw a polyline (antialiased, round caps)."""
    colour = _c(col) if img.ndim == 3 else int(col[0])
    cv2.polylines(img, [_ip(xy)], closed, colour, max(1, round(th)), cv2.LINE_AA, _SHIFT)


def _disc(img: np.ndarray, x: float, y: float, rad: float, col: Sequence[float]) -> None:
    """Fill a circle."""
    colour = _c(col) if img.ndim == 3 else int(col[0])
    centre = (round(x * _ONE), round(y * _ONE))
    cv2.circle(img, centre, max(1, round(rad * _ONE)), colour, -1, cv2.LINE_AA, _SHIFT)


def _mask(S: int) -> np.ndarray:
    """An empty drawing mask."""
    return np.zeros((S, S), np.uint8)


def _f(mask: np.ndarray) -> np.ndarray:
    """A uint8 mask as float in [0, 1]."""
    return mask.astype(np.float32) * (1.0 / 255.0)


def _blend(
    img: np.ndarray, mask: np.ndarray, col: Sequence[float] | np.ndarray, alpha: float = 1.0
) -> None:
    """Alpha-blend a colour (or a colour image) into ``img`` through a [0, 1] mask."""
    a = (mask * alpha)[..., None]
    src = np.asarray(col, np.float32)
    img[:] = np.clip(img * (1.0 - a) + src * a + 0.5, 0, 255).astype(np.uint8)


def _add(img: np.ndarray, mask: np.ndarray, col: Sequence[float], k: float = 1.0) -> None:
    """Add light of a colour through a [0, 1] mask."""
    light = (mask * k)[..., None] * np.asarray(col, np.float32)
    img[:] = np.clip(img + light, 0, 255).astype(np.uint8)


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (no-op for tiny sigma)."""
    return a if sigma < 0.3 else cv2.GaussianBlur(a, (0, 0), sigma)


@lru_cache(maxsize=8)
def _grid(S: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinate grids (x, y) of a canvas."""
    ys, xs = np.mgrid[0:S, 0:S].astype(np.float32)
    return xs, ys


def _noise(rng: Rng, S: int, cells: int) -> np.ndarray:
    """Smooth value noise in about [0, 1]."""
    small = rng.random((cells, cells)).astype(np.float32)
    return cv2.resize(small, (S, S), interpolation=cv2.INTER_CUBIC)


def _gradient(S: int, c1: Sequence[float], c2: Sequence[float], ang: float) -> np.ndarray:
    """A linear two-colour gradient image (float32)."""
    xs, ys = _grid(S)
    t = np.clip((xs / S - 0.5) * math.cos(ang) + (ys / S - 0.5) * math.sin(ang) + 0.5, 0, 1)
    a, b = np.asarray(c1, np.float32), np.asarray(c2, np.float32)
    return a * (1 - t[..., None]) + b * t[..., None]


def _u8(a: np.ndarray) -> np.ndarray:
    """Clip a float image to uint8."""
    return np.clip(a + 0.5, 0, 255).astype(np.uint8)


def _rrect(w: float, h: float, rc: float, n: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """A rounded rectangle outline (local u, v) with half sizes w, h."""
    rc = min(rc, w, h)
    us: list[np.ndarray] = []
    vs: list[np.ndarray] = []
    for cu, cv, a0 in ((w - rc, -h + rc, -90), (w - rc, h - rc, 0), (-w + rc, h - rc, 90)):
        t = np.radians(np.linspace(a0, a0 + 90, n))
        us.append(cu + rc * np.cos(t))
        vs.append(cv + rc * np.sin(t))
    t = np.radians(np.linspace(180, 270, n))
    us.append(-w + rc + rc * np.cos(t))
    vs.append(-h + rc + rc * np.sin(t))
    return np.concatenate(us), np.concatenate(vs)


# --------------------------------------------------------------------------- face frame


@dataclass
class Face:
    """A face's frame: centre, radius (canvas px), rotation and feature layout (r units)."""

    cx: float
    cy: float
    r: float
    ang: float
    ax: float = 0.9
    ay: float = 1.05
    yaw: float = 0.0
    eye_v: float = -0.12
    eye_du: float = 0.34
    mouth_v: float = 0.45

    def xy(self, u: np.ndarray | float, v: np.ndarray | float) -> np.ndarray:
        """Face-local (u, v) in radius units to canvas (x, y)."""
        u = np.asarray(u, np.float64)
        v = np.asarray(v, np.float64)
        c, s = math.cos(self.ang), math.sin(self.ang)
        return np.stack(
            [self.cx + self.r * (u * c - v * s), self.cy + self.r * (u * s + v * c)], -1
        )

    def ell(
        self,
        u: float,
        v: float,
        a: float,
        b: float,
        rot: float = 0.0,
        n: int = 44,
        t0: float = 0.0,
        t1: float = TAU,
    ) -> np.ndarray:
        """An ellipse (or arc) in face-local coordinates, as canvas points."""
        t = np.linspace(t0, t1, n)
        eu, ev = a * np.cos(t), b * np.sin(t)
        if rot:
            cr, sr = math.cos(rot), math.sin(rot)
            eu, ev = eu * cr - ev * sr, eu * sr + ev * cr
        return self.xy(u + eu, v + ev)

    def local(self, S: int) -> tuple[np.ndarray, np.ndarray]:
        """Face-local (u, v) of every canvas pixel."""
        xs, ys = _grid(S)
        dx, dy = xs - self.cx, ys - self.cy
        c, s = math.cos(self.ang), math.sin(self.ang)
        return (dx * c + dy * s) / self.r, (-dx * s + dy * c) / self.r


def _place(
    rng: Rng,
    S: int,
    lo: float,
    hi: float,
    centre: tuple[float, float] = (0.0, 1.0),
    ang_scale: float = 1.0,
    **over: float,
) -> Face:
    """A face with a log-uniform radius in [lo, hi] * S whose mouth lands inside the frame.

    ``over`` overrides layout fields (e.g. ``ax``) before the face is positioned.
    """
    lo = max(lo, 10.0 * SS / S)
    hi = max(hi, lo * 1.01)
    r = S * math.exp(rng.uniform(math.log(lo), math.log(hi)))
    face = Face(
        cx=0.0,
        cy=0.0,
        r=r,
        ang=float(np.clip(rng.normal(0.0, 0.2), -0.6, 0.6)),
        ax=rng.uniform(0.82, 1.0),
        ay=rng.uniform(0.98, 1.15),
        yaw=rng.uniform(-0.1, 0.1),
        eye_v=rng.uniform(-0.22, -0.06),
        eye_du=rng.uniform(0.28, 0.4),
        mouth_v=rng.uniform(0.38, 0.52),
    )
    face.ang *= ang_scale
    for key, val in over.items():
        setattr(face, key, float(val))
    m = min(0.45, max(0.13, 0.5 * r / S))
    a, b = max(m, centre[0]), min(1 - m, centre[1])
    if a > b:
        a = b = 0.5
    mx, my = rng.uniform(a, b, 2) * S
    off = face.xy(face.yaw, face.mouth_v)
    face.cx, face.cy = float(mx - off[0]), float(my - off[1])
    return face


# --------------------------------------------------------------------------- the mouth

KINDS = ("line", "stroke", "brush", "dots", "stitch", "dimple", "open", "outline", "lips")
_KIND_W = {
    "line": 1.3,
    "stroke": 1.3,
    "brush": 1.0,
    "dots": 0.7,
    "stitch": 0.6,
    "dimple": 0.6,
    "open": 1.6,
    "outline": 0.7,
    "lips": 0.9,
}


@dataclass
class Limits:
    """Style constraints on the mouth (canvas px); they never depend on the label."""

    min_hw: float = 0.0
    min_depth: float = 0.0
    min_thick: float = 0.0
    min_alpha: float = 0.0
    open_top: float = 0.45
    kinds: tuple[str, ...] = KINDS
    prefer: tuple[str, ...] = ()
    prefer_p: float = 0.0


@dataclass
class Mouth:
    """The mouth as [0, 1] masks by part, plus its label-free placement."""

    masks: dict[str, np.ndarray]
    alpha: float
    cx: float
    cy: float
    ang: float
    ext_w: float
    ext_h: float
    kind: str = ""

    def union(
        self, parts: Sequence[str] = ("lip", "cavity", "tongue", "ink", "teeth", "lipline")
    ) -> np.ndarray:
        """The maximum over the given parts."""
        out = np.zeros_like(next(iter(self.masks.values())))
        for k in parts:
            if k in self.masks:
                np.maximum(out, self.masks[k], out=out)
        return out


def _make_mouth(rng: Rng, sign: int, face: Face, S: int, lim: Limits) -> Mouth:
    """Draw the mouth from the mouth stream; ``sign`` only flips the bend."""
    subtle = rng.random() < 0.15
    mode = int(rng.integers(3))
    slight, small, faint = subtle and mode == 0, subtle and mode == 1, subtle and mode == 2
    kinds = lim.prefer if lim.prefer and rng.random() < lim.prefer_p else lim.kinds
    w = np.array([_KIND_W[k] for k in kinds])
    kind = kinds[int(rng.choice(len(kinds), p=w / w.sum()))]

    hw = face.r * rng.uniform(0.22, 0.42) * (rng.uniform(0.6, 0.75) if small else 1.0)
    hw = max(hw, lim.min_hw, (4.0 if small else 4.5) * SS)
    hw = min(hw, max(0.25 * S, lim.min_hw), 0.3 * S)
    if slight:
        ratio = rng.uniform(0.15, 0.22)
    elif kind in ("open", "outline"):
        ratio = rng.uniform(0.5, 0.85)
    else:
        ratio = rng.uniform(0.3, 0.7)
    alpha = rng.uniform(0.45, 0.6) if faint else rng.uniform(0.85, 1.0)
    alpha = max(alpha, lim.min_alpha)
    thin = max(lim.min_thick, SS * rng.uniform(1.0, 1.7))
    depth = max(ratio * hw, lim.min_depth, (1.9 if slight else 2.5) * SS)
    thick = max(lim.min_thick, 2.0 * SS, rng.uniform(0.13, 0.28) * hw)
    thick = min(thick, max(1.3 * depth, 2.0 * SS, lim.min_thick))
    rad = max(lim.min_thick * 0.6, 1.1 * SS, rng.uniform(0.06, 0.1) * hw)
    if kind == "dots":
        depth = max(depth, 2.2 * rad)
    lip_t = max(1.5 * SS, min(rng.uniform(0.12, 0.26) * hw, 0.75 * depth))
    hw = max(hw, depth)

    # the bend profile c(t): 1 in the middle, 0 at the corners
    n = 41
    t = np.linspace(-1.0, 1.0, n)
    shape = int(rng.integers(3))
    if shape == 0:
        prof = 1 - np.abs(t) ** rng.uniform(1.8, 2.4)
    elif shape == 1:
        prof = 1 - np.abs(t) ** rng.uniform(3.0, 4.5)
    else:
        rr = (hw * hw + depth * depth) / (2 * depth)
        prof = (np.sqrt(np.maximum(rr * rr - (t * hw) ** 2, 0)) - (rr - depth)) / depth
    tilt = rng.uniform(-0.2, 0.2) * depth / hw
    wob = np.interp(t, np.linspace(-1, 1, 5), rng.normal(0, 1, 5)) * 0.05 * depth
    x = t * hw
    s = float(sign)

    def bend(dep: float, full: float) -> np.ndarray:
        """A curve of bend ``dep``, centred so the full mouth's box is label-free."""
        return s * (dep * prof - full / 2) + tilt * x

    mx, my = face.xy(face.yaw, face.mouth_v + rng.uniform(-0.03, 0.03))
    ca, sa = math.cos(face.ang), math.sin(face.ang)

    def cv(px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """Mouth-local points to canvas points."""
        return np.stack([mx + px * ca - py * sa, my + px * sa + py * ca], -1)

    masks: dict[str, np.ndarray] = {}

    def mk(name: str) -> np.ndarray:
        if name not in masks:
            masks[name] = _mask(S)
        return masks[name]

    def normals(py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tx, ty = np.gradient(x), np.gradient(py)
        ln = np.hypot(tx, ty) + 1e-9
        return -ty / ln, tx / ln

    white = (255.0, 255.0, 255.0)
    ext_h = depth / 2 + abs(tilt) * hw
    ext_w = hw
    if kind in ("line", "stroke", "dimple"):
        y = bend(depth, depth)
        th = thin if kind == "line" or (kind == "dimple" and rng.random() < 0.5) else thick
        _line(mk("ink"), cv(x, y), white, th)
        ext_h += th / 2
        ext_w += th / 2
        if kind == "dimple":
            nx, ny = normals(y)
            ln = max(rng.uniform(0.15, 0.25) * hw, 2 * SS)
            for i in (0, n - 1):
                px = x[i] + np.array([-nx[i], nx[i]]) * ln / 2
                py = y[i] + np.array([-ny[i], ny[i]]) * ln / 2
                _line(mk("ink"), cv(px, py), white, max(thin, th * 0.6))
            ext_h += ln / 2
    elif kind == "brush":
        y = bend(depth, depth) + wob
        nx, ny = normals(y)
        half = thick / 2 * (0.3 + 0.7 * np.sqrt(np.clip(1 - t * t, 0, 1)))
        half = half * (1 + 0.12 * np.interp(t, np.linspace(-1, 1, 7), rng.normal(0, 1, 7)))
        poly = np.concatenate(
            [cv(x + nx * half, y + ny * half), cv(x - nx * half, y - ny * half)[::-1]]
        )
        _fill(mk("ink"), poly, white)
        ext_h += thick / 2 + 0.15 * depth
    elif kind == "dots":
        y = bend(depth, depth)
        k = int(rng.integers(5, 10))
        k = max(4, min(k, int(2 * hw / (2.5 * rad)) + 1))
        idx = np.round(np.linspace(0, n - 1, k)).astype(int)
        pts = cv(x[idx], y[idx])
        for px, py in pts:
            _disc(mk("ink"), px, py, rad, white)
        ext_h += rad
        ext_w += rad
    elif kind == "stitch":
        y = bend(depth, depth)
        if rng.random() < 0.5:
            _line(mk("ink"), cv(x, y), white, thin)
        else:
            segs = int(rng.integers(5, 9)) * 2 + 1
            cuts = np.round(np.linspace(0, n - 1, segs + 1)).astype(int)
            for j in range(0, segs, 2):
                sl = slice(cuts[j], cuts[j + 1] + 1)
                _line(mk("ink"), cv(x[sl], y[sl]), white, thin)
        nx, ny = normals(y)
        ln = max(rng.uniform(0.18, 0.32) * hw, 2.5 * SS)
        for tt in np.linspace(-0.75, 0.75, int(rng.integers(3, 7))):
            i = round((tt + 1) / 2 * (n - 1))
            px = x[i] + np.array([-nx[i], nx[i]]) * ln / 2
            py = y[i] + np.array([-ny[i], ny[i]]) * ln / 2
            _line(mk("ink"), cv(px, py), white, thin)
        ext_h += ln / 2
    elif kind in ("open", "outline"):
        d1 = depth * rng.uniform(0.0, 1.0) * lim.open_top
        top, bot = bend(d1, depth), bend(depth, depth)
        upper, lower = np.minimum(top, bot), np.maximum(top, bot)
        poly = np.concatenate([cv(x, upper), cv(x, lower)[::-1]])
        if kind == "outline":
            _line(mk("ink"), poly, white, thin if rng.random() < 0.6 else thick * 0.7, True)
        else:
            cav = mk("cavity")
            _fill(cav, poly, white)
            gap = depth - d1
            teeth = int(rng.choice(3, p=[0.45, 0.4, 0.15]))
            band = gap * (rng.uniform(0.15, 0.22) if teeth == 2 else rng.uniform(0.18, 0.3))
            if teeth:
                tm = mk("teeth")
                _line(tm, cv(x, upper + band / 2), white, band)
                if teeth == 2:
                    _line(tm, cv(x, lower - band / 2), white, band)
                np.minimum(tm, cav, out=tm)
            if rng.random() < 0.35:
                tg = mk("tongue")
                tx = rng.uniform(-0.15, 0.15) * hw
                ty = float(np.interp(tx, x, lower)) - gap * 0.15
                c = cv(np.array([tx]), np.array([ty]))[0]
                cv2.ellipse(
                    tg,
                    (round(c[0] * _ONE), round(c[1] * _ONE)),
                    (round(hw * 0.42 * _ONE), round(gap * 0.42 * _ONE)),
                    math.degrees(face.ang),
                    0,
                    360,
                    255,
                    -1,
                    cv2.LINE_AA,
                    _SHIFT,
                )
                np.minimum(tg, cav, out=tg)
            if rng.random() < 0.5:
                _line(mk("ink"), poly, white, thin, True)
        ext_h += thin
    else:  # lips
        y = bend(depth, depth)
        e = np.clip(1 - t * t, 0, 1) ** 0.6
        up = y - lip_t * e * rng.uniform(0.8, 1.2)
        lo = y + lip_t * e * rng.uniform(0.8, 1.2)
        _fill(mk("lip"), np.concatenate([cv(x, up), cv(x, lo)[::-1]]), white)
        _line(mk("lipline"), cv(x, y), white, max(SS * 1.5, lim.min_thick))
        ext_h += 1.2 * lip_t
    fm = {k: _f(v) for k, v in masks.items()}
    return Mouth(fm, alpha, float(mx), float(my), face.ang, ext_w, ext_h, kind)


def _paint_mouth(
    img: np.ndarray,
    mouth: Mouth,
    pal: dict[str, Color],
    alpha: float = 1.0,
    fn: Callable[[np.ndarray, np.ndarray, Color, float], None] | None = None,
) -> None:
    """Paint the mouth's parts with a palette (optionally through a custom blend)."""
    a = alpha * mouth.alpha
    for key in ("lip", "cavity", "teeth", "tongue", "lipline", "ink"):
        if key in mouth.masks and key in pal:
            (fn or _blend)(img, mouth.masks[key], pal[key], a)


def _lum(col: Sequence[float]) -> float:
    """Perceived grey level of a colour."""
    return 0.299 * col[0] + 0.587 * col[1] + 0.114 * col[2]


def _contrast(col: Color, refs: Sequence[Sequence[float]], need: float) -> Color:
    """``col`` pushed (as little as possible) darker or lighter to differ from ``refs``."""
    best, best_d = col, -1.0
    for t in np.linspace(0.0, 1.0, 21):
        for target in ((0.0, 0.0, 0.0), (255.0, 218.0, 205.0)):
            cand = _mix(col, target, float(t))
            d = min(abs(_lum(cand) - _lum(r)) for r in refs)
            if d >= need:
                return cand
            if d > best_d:
                best, best_d = cand, d
    return best


def _under(img: np.ndarray, mouth: Mouth) -> Color:
    """Mean colour of the canvas in the mouth's (label-free) box; call before painting it."""
    S = img.shape[0]
    x0, x1 = max(0, int(mouth.cx - mouth.ext_w)), min(S, int(mouth.cx + mouth.ext_w) + 1)
    y0, y1 = max(0, int(mouth.cy - mouth.ext_h)), min(S, int(mouth.cy + mouth.ext_h) + 1)
    if x1 <= x0 or y1 <= y0:
        return (128.0, 128.0, 128.0)
    m = img[y0:y1, x0:x1].reshape(-1, 3).mean(0)
    return (float(m[0]), float(m[1]), float(m[2]))


def _pal(
    rng: Rng,
    ink: Color,
    lip: Color | None = None,
    ref: Sequence[Sequence[float]] = (),
) -> dict[str, Color]:
    """A generic mouth palette around an ink colour, readable on the ``ref`` colours."""
    cav = _pick(rng, ((90, 20, 30), (50, 15, 20), ink, (120, 30, 40)))
    lip = lip if lip is not None else _jit(rng, (200, 70, 80), 20)
    if ref:
        ink = _contrast(ink, ref, 95)
        cav = _contrast(cav, ref, 85)
        lip = _contrast(lip, ref, 55)
    return {
        "ink": ink,
        "cavity": cav,
        "teeth": _jit(rng, (245, 242, 230), 6),
        "tongue": _jit(rng, (230, 110, 120), 10),
        "lip": lip,
        "lipline": _contrast(_mix(lip, (0, 0, 0), 0.55), (lip,), 75),
    }


# --------------------------------------------------------------------------- shared features

EYE_KINDS = ("dot", "pupil", "ring", "closed_up", "closed_down", "lash")


def _eyes(
    img: np.ndarray,
    face: Face,
    rng: Rng,
    ink: Color,
    *,
    white: Color = (250, 250, 250),
    iris: Color | None = None,
    kinds: Sequence[str] = EYE_KINDS,
    scale: float = 1.0,
    min_px: float = 0.0,
    min_th: float = 0.0,
) -> None:
    """Two eyes; their kind, size and gaze come from the scene stream."""
    kind = _pick(rng, kinds)
    e = max(face.r * rng.uniform(0.07, 0.12) * scale, min_px, 1.5 * SS) / face.r
    gu, gv = rng.uniform(-0.3, 0.3, 2) * e
    th = max(SS * 1.0, e * face.r * 0.3, min_th)
    iris = iris if iris is not None else ink
    for side in (-1, 1):
        u, v = face.yaw + side * face.eye_du, face.eye_v
        if kind == "dot":
            _fill(img, face.ell(u, v, e * 0.8, e), ink)
        elif kind == "pupil":
            _fill(img, face.ell(u, v, e * 1.15, e * 1.35), white)
            _line(img, face.ell(u, v, e * 1.15, e * 1.35), ink, max(SS * 0.8, th * 0.5), True)
            _fill(img, face.ell(u + gu, v + gv, e * 0.65, e * 0.7), iris)
            if iris != ink:
                _fill(img, face.ell(u + gu, v + gv, e * 0.32, e * 0.34), (15, 15, 15))
            p = face.xy(u + gu - e * 0.25, v + gv - e * 0.3)
            _disc(img, p[0], p[1], max(SS * 0.6, e * face.r * 0.18), (255, 255, 255))
        elif kind == "ring":
            _line(img, face.ell(u, v, e, e * 1.1), ink, th, True)
            _fill(img, face.ell(u + gu, v + gv, e * 0.4, e * 0.45), ink)
        elif kind == "closed_up":
            _line(
                img,
                face.ell(u, v + e * 0.5, e * 1.2, e, t0=1.1 * math.pi, t1=1.9 * math.pi),
                ink,
                th,
            )
        elif kind == "closed_down":
            _line(
                img,
                face.ell(u, v - e * 0.5, e * 1.2, e, t0=0.1 * math.pi, t1=0.9 * math.pi),
                ink,
                th,
            )
        else:  # lash: an almond with a lid line
            _fill(img, face.ell(u, v, e * 1.3, e * 0.7), white)
            _fill(img, face.ell(u + gu * 0.5, v, e * 0.55, e * 0.62), iris)
            _line(img, face.ell(u, v, e * 1.35, e * 0.75, t0=math.pi, t1=TAU), ink, th)


def _brows(
    img: np.ndarray, face: Face, rng: Rng, ink: Color, p: float = 0.5, min_th: float = 0.0
) -> None:
    """Optional brows with a random (label-free) tilt."""
    if rng.random() >= p:
        return
    tilt = rng.uniform(-0.4, 0.4)
    lift = rng.uniform(0.16, 0.26)
    ln = rng.uniform(0.11, 0.19)
    th = max(SS * 1.0, face.r * rng.uniform(0.025, 0.06), min_th)
    arch = rng.uniform(-0.03, 0.05)
    t = np.linspace(-1, 1, 9)
    for side in (-1, 1):
        u = face.yaw + side * face.eye_du + t * ln
        v = face.eye_v - lift + side * tilt * t * ln - arch * (1 - t * t)
        _line(img, face.xy(u, v), ink, th)


def _nose(
    img: np.ndarray, face: Face, rng: Rng, ink: Color, p: float = 0.6, th: float = 0.0
) -> None:
    """An optional small nose between the eyes and the mouth."""
    if rng.random() >= p:
        return
    kind = int(rng.integers(4))
    v = face.eye_v + 0.45 * (face.mouth_v - face.eye_v)
    u = face.yaw * 1.3
    s = rng.uniform(0.05, 0.08)
    th = max(th, SS * 1.0, face.r * 0.025)
    if kind == 0:
        _fill(img, face.ell(u, v, s * 0.8, s * 0.6), ink)
    elif kind == 1:
        _line(
            img,
            face.xy(u + np.array([0.0, -s * 0.6, 0.0]), v + np.array([-2 * s, s * 0.6, s])),
            ink,
            th,
        )
    elif kind == 2:
        _line(img, face.ell(u, v, s, s * 0.7, t0=0.15 * math.pi, t1=0.85 * math.pi), ink, th)
    else:
        for side in (-1, 1):
            _fill(img, face.ell(u + side * s * 0.6, v + s * 0.5, s * 0.3, s * 0.22), ink)


def _blush(img: np.ndarray, face: Face, rng: Rng, p: float = 0.3) -> None:
    """Optional soft cheek blush."""
    if rng.random() >= p:
        return
    S = img.shape[0]
    m = _mask(S)
    for side in (-1, 1):
        _fill(
            m,
            face.ell(face.yaw + side * (face.eye_du + 0.1), face.mouth_v - 0.2, 0.14, 0.08),
            (255,),
        )
    _blend(img, _blur(_f(m), face.r * 0.04), _jit(rng, (240, 120, 130), 10), rng.uniform(0.25, 0.5))


def _hair_back(img: np.ndarray, face: Face, rng: Rng, col: Color, style: int) -> None:
    """Hair behind the head (long hair) for style 3."""
    if style == 3:
        length = rng.uniform(0.9, 1.6)
        u, v = _rrect(face.ax * 1.18, length, 0.7)
        _fill(img, face.xy(u, v + (length - 1.15)), col)


def _hair_front(img: np.ndarray, face: Face, rng: Rng, col: Color, style: int) -> None:
    """Hair on top of the head: 1 cap with fringe, 2 spikes, 3 long with fringe, 4 bun."""
    if style == 0:
        return
    ax, ay = face.ax, face.ay
    if style in (1, 3):
        t = np.linspace(math.pi, TAU, 30)
        au, av = ax * 1.04 * np.cos(t), ay * 1.04 * np.sin(t)
        fr = rng.uniform(-0.6, -0.35)
        slope = rng.uniform(-0.2, 0.2)
        fu = np.linspace(ax * 0.95, -ax * 0.95, 16)
        fv = fr + slope * fu + 0.05 * np.sin(fu * rng.uniform(6, 14))
        av = np.minimum(av, 0.0)
        _fill(img, face.xy(np.concatenate([au, fu]), np.concatenate([av, fv])), col)
    elif style == 2:
        k = int(rng.integers(5, 9))
        t = np.linspace(1.08 * math.pi, 1.92 * math.pi, 2 * k + 1)
        rad = np.where(np.arange(2 * k + 1) % 2 == 1, 1.3, 0.98)
        u = np.concatenate([[ax * math.cos(1.08 * math.pi) * 0.9], ax * rad * np.cos(t)])
        v = np.concatenate([[-0.3], ay * rad * np.sin(t)])
        u = np.concatenate([u, [ax * math.cos(1.92 * math.pi) * 0.9]])
        v = np.concatenate([v, [-0.3]])
        _fill(img, face.xy(u, np.minimum(v, -0.3)), col)
    else:
        _fill(img, face.ell(0, -ay * 1.05, 0.32, 0.28), col)
        t = np.linspace(math.pi, TAU, 24)
        _fill(img, face.xy(ax * 1.03 * np.cos(t), np.minimum(ay * 1.03 * np.sin(t), -0.45)), col)


def _hat(img: np.ndarray, face: Face, rng: Rng, p: float = 0.2) -> None:
    """An optional hat: beanie, cap or top hat."""
    if rng.random() >= p:
        return
    col = _rand_col(rng, 20, 230)
    kind = int(rng.integers(3))
    ax, ay = face.ax, face.ay
    if kind == 0:
        t = np.linspace(math.pi, TAU, 24)
        _fill(img, face.xy(ax * 1.08 * np.cos(t), -0.45 + ay * 0.75 * np.sin(t)), col)
        u, v = _rrect(ax * 1.1, 0.13, 0.08)
        _fill(img, face.xy(u, v - 0.48), _mix(col, (255, 255, 255), 0.3))
        _fill(img, face.ell(0, -0.45 - ay * 0.8, 0.18, 0.18), (245, 245, 245))
    elif kind == 1:
        t = np.linspace(math.pi, TAU, 24)
        _fill(img, face.xy(ax * 1.02 * np.cos(t), -0.5 + ay * 0.6 * np.sin(t)), col)
        side = 1 if rng.random() < 0.5 else -1
        _fill(img, face.ell(side * ax * 0.6, -0.5, ax * 0.75, 0.1), _mix(col, (0, 0, 0), 0.3))
    else:
        u, v = _rrect(ax * 0.62, 0.55, 0.05)
        _fill(img, face.xy(u, v - ay * 0.75 - 0.55), col)
        u, v = _rrect(ax * 1.05, 0.07, 0.05)
        _fill(img, face.xy(u, v - ay * 0.75), _mix(col, (0, 0, 0), 0.3))


def _glasses(img: np.ndarray, face: Face, rng: Rng, p: float = 0.15, min_th: float = 0.0) -> None:
    """Optional glasses around the eyes."""
    if rng.random() >= p:
        return
    col = _pick(rng, ((20, 20, 20), (120, 60, 30), (180, 30, 40), (40, 60, 160)))
    g = rng.uniform(0.15, 0.2)
    th = max(SS * 1.0, face.r * 0.03, min_th)
    rect = rng.random() < 0.5
    for side in (-1, 1):
        u = face.yaw + side * face.eye_du
        if rect:
            ru, rv = _rrect(g * 1.2, g * 0.85, 0.06)
            _line(img, face.xy(u + ru, face.eye_v + rv), col, th, True)
        else:
            _line(img, face.ell(u, face.eye_v, g * 1.1, g), col, th, True)
    bu = face.yaw + np.array([-face.eye_du + g, face.eye_du - g])
    _line(img, face.xy(bu, np.array([face.eye_v - 0.03] * 2)), col, th)


def _torso(face: Face) -> np.ndarray:
    """Shoulders and chest below the head, as canvas points."""
    u, v = _rrect(1.45, 1.4, 0.75)
    return face.xy(u, v + 2.45)


def _person(
    img: np.ndarray,
    face: Face,
    rng: Rng,
    *,
    skin: Color,
    ink: Color,
    outline: bool = False,
    body: bool = True,
    extras: bool = True,
    eye_kinds: Sequence[str] = EYE_KINDS,
    min_th: float = 0.0,
    min_eye: float = 0.0,
    shade: float = 0.0,
) -> None:
    """A cartoon person without the mouth: body, hair, head, eyes, brows, nose."""
    S = img.shape[0]
    hair = _pick(rng, HAIRS)
    style = int(rng.choice(5, p=[0.2, 0.35, 0.1, 0.25, 0.1]))
    th = max(SS * 1.0, face.r * rng.uniform(0.025, 0.05), min_th)
    if body:
        cloth = _rand_col(rng, 20, 235)
        _fill(img, face.xy(*_rrect(0.22, 0.5, 0.05)) + face.xy(0, 1.2) - face.xy(0, 0), skin)
        _fill(img, _torso(face), cloth)
        if outline:
            _line(img, _torso(face), ink, th, True)
    _hair_back(img, face, rng, hair, style)
    for side in (-1, 1):
        _fill(img, face.ell(side * face.ax * 0.98, 0.0, 0.14, 0.2), _mix(skin, (0, 0, 0), 0.08))
    head = face.ell(0, 0, face.ax, face.ay)
    if shade > 0:
        m = _mask(S)
        _fill(m, head, (255,))
        u, v = face.local(S)
        lu, lv = rng.uniform(-0.6, 0.6), rng.uniform(-0.8, -0.2)
        q = 1 - (u / face.ax) ** 2 - (v / face.ay) ** 2
        nz = np.sqrt(np.clip(q, 0, 1))
        lum = 1 - shade + shade * np.clip((u * lu + v * lv) / 1.0 + nz * 0.7, 0, 1.2)
        col = np.asarray(skin, np.float32) * lum[..., None]
        _blend(img, _f(m), col)
    else:
        _fill(img, head, skin)
    if outline:
        _line(img, head, ink, th, True)
    _hair_front(img, face, rng, hair, style)
    if extras:
        _hat(img, face, rng)
    _eyes(img, face, rng, ink, kinds=eye_kinds, min_px=min_eye, min_th=min_th)
    _brows(img, face, rng, hair if rng.random() < 0.5 else ink, min_th=min_th)
    _nose(img, face, rng, _mix(skin, (0, 0, 0), 0.45), th=min_th)
    _blush(img, face, rng)
    if extras:
        _glasses(img, face, rng, min_th=min_th)


# --------------------------------------------------------------------------- styles


def _st_mosaic(rng: Rng, mrng: Rng, sign: int, S: int) -> tuple[np.ndarray, float]:
    """A face laid in square tiles with grout."""
    face = _place(rng, S, max(0.28, 28.0 * SS / S), 0.6)
    nt = max(8, round(S / float(np.clip(face.r / rng.uniform(12.0, 16.0), 2.0 * SS, S / 24))))
    tile = S / nt
    c1, c2 = _rand_col(rng), _rand_col(rng)
    kind = int(rng.integers(3))
    if kind == 0:
        bg = _gradient(S, c1, c2, rng.uniform(0, TAU))
    elif kind == 1:
        xs, ys = _grid(S)
        d = np.hypot(xs - face.cx, ys - face.cy) / (tile * rng.uniform(1.5, 3.0))
        t = (np.floor(d) % 2)[..., None]
        bg = np.asarray(c1, np.float32) * (1 - t) + np.asarray(c2, np.float32) * t
    else:
        t = _noise(rng, S, 4)[..., None]
        bg = np.asarray(c1, np.float32) * (1 - t) + np.asarray(c2, np.float32) * t
    img = _u8(bg)
    ink = _dark(rng)
    skin = _pick(rng, TOY_SKINS)
    _person(
        img,
        face,
        rng,
        skin=skin,
        ink=ink,
        outline=rng.random() < 0.6,
        extras=rng.random() < 0.5,
        eye_kinds=("dot", "pupil", "ring", "closed_up", "closed_down"),
        min_th=1.1 * tile,
        min_eye=1.3 * tile,
    )
    lim = Limits(
        min_hw=5.0 * tile,
        min_depth=4.0 * tile,
        min_thick=2.0 * tile,
        min_alpha=0.9,
        open_top=0.15,
        kinds=("stroke", "brush", "open"),
        prefer=("stroke", "brush"),
        prefer_p=0.4,
    )
    mouth = _make_mouth(mrng, sign, face, S, lim)
    mink = _pick(rng, (ink, (120, 20, 30), (200, 40, 50)))
    mink = _contrast(mink, (skin, _under(img, mouth)), 100)
    _paint_mouth(img, mouth, {"ink": mink, "cavity": mink})

    small = cv2.resize(img, (nt, nt), interpolation=cv2.INTER_AREA).astype(np.float32)
    small += rng.normal(0, rng.uniform(3, 9), (nt, nt, 1)) + rng.normal(0, 3, (nt, nt, 3))
    idx = (np.arange(S) * nt) // S
    frac = ((np.arange(S) * nt) % S) / S
    big = small[idx][:, idx]
    fy, fx = frac[:, None], frac[None, :]
    big *= (1 + 0.12 * (0.5 - fx) + 0.12 * (0.5 - fy))[..., None]
    g = rng.uniform(0.08, 0.2)
    grout = (fx < g) | (fy < g)
    big[grout] = _jit(rng, _pick(rng, ((200, 200, 195), (70, 70, 70), (235, 230, 215))), 8)
    return _u8(big), face.r


def _brush_strokes(img: np.ndarray, rng: Rng, strength: float) -> np.ndarray:
    """Repaint an image with short strokes following its edges."""
    S = img.shape[0]
    grey = _blur(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32), S / 80)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    length = S * rng.uniform(0.035, 0.06)
    width = max(2, round(S * rng.uniform(0.011, 0.02)))
    n = min(2500, int(1.3 * S * S / (length * width)))
    xs = rng.uniform(0, S, n)
    ys = rng.uniform(0, S, n)
    ix, iy = np.clip(xs.astype(int), 0, S - 1), np.clip(ys.astype(int), 0, S - 1)
    theta = np.arctan2(gy[iy, ix], gx[iy, ix]) + math.pi / 2 + rng.normal(0, 0.3, n)
    weak = np.hypot(gx[iy, ix], gy[iy, ix]) < 2.0
    theta = np.where(weak, rng.uniform(0, math.pi, n), theta)
    cols = np.clip(img[iy, ix].astype(np.float32) + rng.normal(0, strength, (n, 3)), 0, 255)
    ln = length * rng.uniform(0.5, 1.3, n) / 2
    dx, dy = np.cos(theta) * ln, np.sin(theta) * ln
    p0 = np.round(np.stack([xs - dx, ys - dy], -1) * _ONE).astype(int)
    p1 = np.round(np.stack([xs + dx, ys + dy], -1) * _ONE).astype(int)
    out = img.copy()
    for i in range(n):
        cv2.line(out, tuple(p0[i]), tuple(p1[i]), _c(cols[i]), width, cv2.LINE_AA, _SHIFT)
    return out


def _st_oil(rng: Rng, mrng: Rng, sign: int, S: int) -> tuple[np.ndarray, float]:
    """An oil-painted portrait with visible strokes."""
    face = _place(rng, S, 0.2, 0.7)
    c1 = _rand_col(rng, 30, 200)
    c2 = _mix(c1, _rand_col(rng, 0, 255), 0.6)
    t = _noise(rng, S, 3)[..., None]
    img = _u8(np.asarray(c1, np.float32) * (1 - t) + np.asarray(c2, np.float32) * t)
    skin = _jit(rng, _pick(rng, SKINS), 8)
    hair = _pick(rng, HAIRS)
    style = int(rng.choice(4, p=[0.15, 0.4, 0.1, 0.35]))
    cloth = _rand_col(rng, 20, 200)
    _fill(img, _torso(face), cloth)
    _fill(
        img,
        face.xy(*_rrect(0.25, 0.5, 0.05)) + face.xy(0, 1.15) - face.xy(0, 0),
        _mix(skin, (0, 0, 0), 0.2),
    )
    _hair_back(img, face, rng, hair, style)
    m = _mask(S)
    _fill(m, face.ell(0, 0, face.ax, face.ay), (255,))
    u, v = face.local(S)
    lu = rng.uniform(-0.7, 0.7)
    nz = np.sqrt(np.clip(1 - (u / face.ax) ** 2 - (v / face.ay) ** 2, 0, 1))
    lum = 0.55 + 0.5 * np.clip(u * lu - v * 0.3 + nz * 0.6, 0, 1)
    _blend(img, _f(m), np.asarray(skin, np.float32) * lum[..., None])
    _hair_front(img, face, rng, hair, style)
    img = _brush_strokes(img, rng, rng.uniform(6, 16))
    ink = _jit(rng, (60, 30, 25), 10)
    _eyes(
        img,
        face,
        rng,
        ink,
        white=(235, 230, 220),
        iris=_pick(rng, ((90, 60, 30), (60, 100, 150), (70, 110, 60))),
        kinds=("pupil", "lash", "dot", "closed_down"),
    )
    _brows(img, face, rng, _mix(hair, (0, 0, 0), 0.3), p=0.8)
    _nose(img, face, rng, _mix(skin, (0, 0, 0), 0.4), p=0.8)
    _blush(img, face, rng, p=0.4)
    mouth = _make_mouth(
        mrng,
        sign,
        face,
        S,
        Limits(min_thick=1.2 * SS, prefer=("lips", "open", "brush"), prefer_p=0.4),
    )
    _paint_mouth(
        img,
        mouth,
        _pal(
            rng,
            _jit(rng, (90, 35, 35), 15),
            _jit(rng, (190, 90, 90), 20),
            ref=(_mix(skin, (0, 0, 0), 0.15), _under(img, mouth)),
        ),
    )
    xs, ys = _grid(S)
    p = rng.uniform(3.0, 5.0)
    weave = 1 + 0.05 * np.sin(xs * TAU / p) * np.sin(ys * TAU / p)
    img = _u8(img.astype(np.float32) * weave[..., None])
    return cv2.GaussianBlur(img, (0, 0), 0.6), face.r


def _fabric(rng: Rng, S: int, col: Color) -> np.ndarray:
    """A woven fabric texture (float32)."""
    xs, ys = _grid(S)
    p = rng.uniform(3.0, 6.0)
    weave = 0.06 * np.sin(xs * TAU / p) * np.sin(ys * TAU / p)
    grain = (rng.random((S, S)).astype(np.float32) - 0.5) * 0.12
    return (
        np.asarray(col, np.float32)
        * (1 + weave + grain + 0.1 * (_noise(rng, S, 5) - 0.5))[..., None]
    )


def _st_felt(rng: Rng, mrng: Rng, sign: int, S: int) -> tuple[np.ndarray, float]:
    """A felt or plush-toy face with a seam and button or felt eyes."""
    face = _place(rng, S, 0.2, 0.7)
    img = _u8(_fabric(rng, S, _rand_col(rng, 40, 230)))
    felt = _pick(
        rng,
        (
            (200, 150, 100),
            (240, 200, 80),
            (230, 120, 140),
            (120, 170, 220),
            (160, 160, 160),
            (240, 235, 220),
            (150, 100, 70),
            (120, 190, 120),
        ),
    )
    felt = _jit(rng, felt, 10)
    dark = _mix(felt, (0, 0, 0), 0.25)
    ears = int(rng.integers(3))
    for side in (-1, 1):
        if ears == 1:
            _fill(img, face.ell(side * 0.68, -0.78, 0.32, 0.32), dark)
            _fill(img, face.ell(side * 0.68, -0.78, 0.18, 0.18), _mix(felt, (255, 200, 200), 0.4))
        elif ears == 2:
            pu = side * np.array([0.3, 0.85, 0.8])
            pv = np.array([-0.85, -1.35, -0.5])
            _fill(img, face.xy(pu, pv), dark)
    m = _mask(S)
    _fill(m, face.ell(0, 0, face.ax, face.ay), (255,))
    mf = _f(m)
    inner = _blur(mf, face.r * 0.12)
    col = np.asarray(felt, np.float32) * (0.75 + 0.25 * inner)[..., None]
    _blend(img, mf, col)
    thread = _pick(rng, ((30, 25, 25), (245, 240, 230), (150, 30, 40), (40, 50, 120)))
    if rng.random() < 0.5:
        _fill(
            img,
            face.ell(face.yaw, face.mouth_v - 0.08, 0.55, 0.36),
            _mix(felt, (255, 250, 240), 0.45),
        )
    th = max(SS * 0.8, face.r * 0.02)
    seam = face.ell(0, 0, face.ax * 0.9, face.ay * 0.9, n=121)
    for i in range(0, 120, 4):
        _line(img, seam[i : i + 3], thread, th)
    if rng.random() < 0.5:
        e = rng.uniform(0.08, 0.13)
        bcol = _rand_col(rng, 0, 200)
        for side in (-1, 1):
            u, v = face.yaw + side * face.eye_du, face.eye_v
            _fill(img, face.ell(u, v, e, e), bcol)
            _line(img, face.ell(u, v, e * 0.8, e * 0.8), _mix(bcol, (0, 0, 0), 0.4), th, True)
            for hu, hv in ((-0.3, -0.3), (0.3, -0.3), (-0.3, 0.3), (0.3, 0.3)):
                _fill(
                    img,
                    face.ell(u + hu * e, v + hv * e, e * 0.13, e * 0.13),
                    _mix(bcol, (0, 0, 0), 0.6),
                )
            p = face.xy(u - 0.5 * e, v - 0.5 * e)
            _disc(img, p[0], p[1], max(SS * 0.5, 0.12 * e * face.r), (255, 255, 255))
    else:
        _eyes(
            img,
            face,
            rng,
            _dark(rng),
            kinds=("dot", "pupil", "closed_up", "closed_down"),
            min_th=1.5 * SS,
        )
    _brows(img, face, rng, thread, p=0.3)
    nv = face.eye_v + 0.5 * (face.mouth_v - face.eye_v) - 0.04
    if rng.random() < 0.7:
        _fill(img, face.ell(face.yaw * 1.3, nv, 0.09, 0.065), _dark(rng))
    mouth = _make_mouth(
        mrng,
        sign,
        face,
        S,
        Limits(min_thick=1.5 * SS, prefer=("stitch", "line", "stroke"), prefer_p=0.4),
    )
    _paint_mouth(
        img,
        mouth,
        _pal(rng, thread, ref=(felt, _mix(felt, (255, 250, 240), 0.45), _under(img, mouth))),
    )
    fibre = _blur((rng.random((S, S)).astype(np.float32) - 0.5), 0.7) * rng.uniform(25, 45)
    return _u8(img.astype(np.float32) + fibre[..., None]), face.r


def _wall(rng: Rng, S: int) -> np.ndarray:
    """A brick or concrete wall (float32)."""
    if rng.random() < 0.6:
        mortar = _jit(rng, (190, 185, 175), 15)
        out = np.empty((S, S, 3), np.float32)
        out[:] = mortar
        bh = S / rng.uniform(9, 16)
        bw = bh * rng.uniform(2.0, 2.6)
        gap = max(1.0, bh * 0.1)
        base = _jit(
            rng, _pick(rng, ((160, 70, 50), (140, 90, 70), (180, 110, 80), (110, 100, 95))), 10
        )
        rows = int(S / bh) + 2
        for rr in range(rows):
            off = (rr % 2) * bw / 2 - bw * rng.random() * 0.1
            for k in range(int(S / bw) + 3):
                x0, y0 = k * bw - off, rr * bh
                col = _jit(rng, base, 14)
                cv2.rectangle(
                    out, (int(x0), int(y0)), (int(x0 + bw - gap), int(y0 + bh - gap)), col, -1
                )
    else:
        out = np.empty((S, S, 3), np.float32)
        out[:] = _jit(rng, (150, 150, 145), 25)
    grime = 0.75 + 0.35 * _noise(rng, S, 6) + (rng.random((S, S)).astype(np.float32) - 0.5) * 0.15
    return out * grime[..., None]


def _st_graffiti(rng: Rng, mrng: Rng, sign: int, S: int) -> tuple[np.ndarray, float]:
    """A spray-painted face with drips on a wall."""
    face = _place(rng, S, 0.2, 0.7)
    wall = _wall(rng, S)
    tex = np.clip(wall.mean(-1) / max(1.0, float(wall.mean())), 0.6, 1.3)
    img = _u8(wall)
    speck = rng.random((S, S)).astype(np.float32)
    sig = face.r * rng.uniform(0.01, 0.025) + 0.6 * SS

    def spray(dst: np.ndarray, m: np.ndarray, col: Color, a: float = 1.0) -> None:
        soft = _blur(m, sig)
        over = _blur(m, sig * 4) * (speck > 0.8) * 0.7
        _blend(dst, np.clip(np.maximum(soft * 1.15, over), 0, 1), col, a)

    # background tags away from the face
    for _ in range(int(rng.integers(0, 4))):
        a0 = rng.uniform(0, TAU)
        dist = rng.uniform(1.7, 2.7)
        pts = face.xy(
            np.cos(a0) * dist + rng.uniform(-0.3, 0.3, 6),
            np.sin(a0) * dist + rng.uniform(-0.3, 0.3, 6),
        )
        tm = _mask(S)
        _line(tm, pts, (255,), max(2.0, face.r * 0.05))
        spray(img, _f(tm), _rand_col(rng, 0, 255), 0.8)
    fillc = _pick(
        rng,
        (
            (250, 210, 40),
            (240, 90, 160),
            (60, 200, 230),
            (120, 220, 80),
            (250, 140, 40),
            (170, 110, 240),
        ),
    )
    fillc = _jit(rng, fillc, 10)
    line = _pick(rng, ((15, 15, 15), (40, 20, 70), (20, 30, 90), (250, 250, 250)))
    th = max(2.5 * SS, face.r * rng.uniform(0.05, 0.09))
    m = _mask(S)
    head = face.ell(0, 0, face.ax, face.ay, n=60)
    filled = rng.random() < 0.8
    if filled:
        _fill(m, head, (255,))
        spray(img, _f(m), fillc, 0.95)
    m[:] = 0
    _line(m, head, (255,), th, True)
    # drips from the lower rim
    for _ in range(int(rng.integers(1, 5))):
        a0 = rng.uniform(0.25, 0.75) * math.pi
        p = face.xy(face.ax * math.cos(a0), face.ay * math.sin(a0))
        ln = face.r * rng.uniform(0.2, 0.7)
        w = max(1, round(th * rng.uniform(0.25, 0.45)))
        cv2.line(m, (int(p[0]), int(p[1])), (int(p[0]), int(p[1] + ln)), 255, w, cv2.LINE_AA)
        _disc(m, p[0], p[1] + ln, w * 0.8, (255,))
    spray(img, _f(m), line)
    eyem, pup = _mask(S), _mask(S)
    e = rng.uniform(0.1, 0.16)
    for side in (-1, 1):
        u = face.yaw + side * face.eye_du
        _fill(eyem, face.ell(u, face.eye_v, e, e * 1.3), (255,))
        _fill(pup, face.ell(u, face.eye_v + e * 0.2, e * 0.5, e * 0.6), (255,))
    spray(img, _f(eyem), (250, 250, 250))
    spray(img, _f(pup), line if line[0] < 200 else (20, 20, 20))
    mouth = _make_mouth(
        mrng,
        sign,
        face,
        S,
        Limits(
            min_thick=max(2.5 * SS, 2 * sig),
            min_depth=3 * sig,
            kinds=("line", "stroke", "brush", "dots", "dimple", "open", "outline"),
        ),
    )
    under = fillc if filled else tuple(float(c) for c in wall.reshape(-1, 3).mean(0))
    ink = _contrast(line, (under,), 90)
    _paint_mouth(img, mouth, _pal(rng, ink, ref=(under, _under(img, mouth))), fn=spray)
    return _u8(img.astype(np.float32) * (0.85 + 0.15 * tex)[..., None]), face.r


def _st_blurry(rng: Rng, mrng: Rng, sign: int, S: int) -> tuple[np.ndarray, float]:
    """An out-of-focus, photo-like head and shoulders."""
    face = _place(rng, S, 0.18, 0.7)
    wall1 = _rand_col(rng, 40, 230)
    img = _u8(
        _gradient(S, wall1, _mix(wall1, (0, 0, 0), rng.uniform(0.1, 0.5)), rng.uniform(0, TAU))
    )
    for _ in range(int(rng.integers(1, 5))):
        x0, y0 = rng.uniform(-0.2, 1.0, 2) * S
        w, h = rng.uniform(0.1, 0.6, 2) * S
        cv2.rectangle(
            img, (int(x0), int(y0)), (int(x0 + w), int(y0 + h)), _rand_col(rng, 20, 240), -1
        )
    bok = _mask(S)
    for _ in range(int(rng.integers(0, 12))):
        x0, y0 = rng.uniform(0, S, 2)
        _disc(bok, x0, y0, S * rng.uniform(0.02, 0.06), (255,))
    _add(img, _f(bok), _rand_col(rng, 100, 255), rng.uniform(0.2, 0.6))
    skin = _jit(rng, _pick(rng, SKINS), 8)
    ink = _jit(rng, (40, 28, 24), 8)
    hair = _pick(rng, HAIRS)
    style = int(rng.choice(4, p=[0.1, 0.45, 0.05, 0.4]))
    _fill(img, _torso(face), _rand_col(rng, 10, 220))
    _fill(
        img,
        face.xy(*_rrect(0.27, 0.5, 0.05)) + face.xy(0, 1.15) - face.xy(0, 0),
        _mix(skin, (0, 0, 0), 0.25),
    )
    _hair_back(img, face, rng, hair, style)
    for side in (-1, 1):
        _fill(img, face.ell(side * face.ax * 0.97, 0.05, 0.13, 0.2), _mix(skin, (0, 0, 0), 0.12))
    m = _mask(S)
    _fill(m, face.ell(0, 0, face.ax, face.ay), (255,))
    u, v = face.local(S)
    lu, lv = rng.uniform(-0.8, 0.8), rng.uniform(-0.6, 0.1)
    nz = np.sqrt(np.clip(1 - (u / face.ax) ** 2 - (v / face.ay) ** 2, 0, 1))
    lum = 0.5 + 0.55 * np.clip(u * lu + v * lv + nz * 0.75, 0, 1.1)
    _blend(img, _f(m), np.asarray(skin, np.float32) * lum[..., None])
    _hair_front(img, face, rng, hair, style)
    _eyes(
        img,
        face,
        rng,
        ink,
        white=(235, 232, 225),
        iris=_pick(rng, ((80, 55, 30), (60, 100, 150), (70, 110, 60), (40, 30, 25))),
        kinds=("pupil", "lash"),
        scale=0.8,
    )
    _brows(img, face, rng, _mix(hair, (0, 0, 0), 0.4), p=0.9)
    _nose(img, face, rng, _mix(skin, (0, 0, 0), 0.35), p=0.9)
    _glasses(img, face, rng, p=0.2)
    rho = max(SS * 0.8, face.r * rng.uniform(0.02, 0.045))
    lim = Limits(min_depth=2.4 * rho, min_thick=1.6 * rho, prefer=("lips", "open"), prefer_p=0.5)
    mouth = _make_mouth(mrng, sign, face, S, lim)
    _paint_mouth(
        img,
        mouth,
        _pal(
            rng,
            _jit(rng, (80, 30, 30), 10),
            _mix(skin, (170, 40, 60), 0.5),
            ref=(_mix(skin, (0, 0, 0), 0.15), _under(img, mouth)),
        ),
    )
    k = math.ceil(rho)
    ker = np.zeros((2 * k + 1, 2 * k + 1), np.float32)
    cv2.circle(ker, (k, k), k, 1.0, -1, cv2.LINE_AA)
    ker /= ker.sum()
    return cv2.filter2D(img, -1, ker, borderType=cv2.BORDER_REFLECT), face.r


def _st_crowd(rng: Rng, mrng: Rng, sign: int, S: int) -> tuple[np.ndarray, float]:
    """Several smaller neutral faces around one larger, central, labelled face."""
    face = _place(rng, S, 0.13, 0.3, centre=(0.3, 0.7))
    top = _rand_col(rng, 60, 240)
    img = _u8(_gradient(S, top, _rand_col(rng, 20, 200), math.pi / 2 + rng.normal(0, 0.2)))
    ink = _dark(rng)
    outline = rng.random() < 0.5
    shade = rng.uniform(0.2, 0.5) if rng.random() < 0.5 else 0.0
    cand = rng.uniform(-0.05, 1.05, (40, 2)) * S
    rs = face.r * rng.uniform(0.45, 0.75, 40)
    keep = [
        i
        for i in range(40)
        if math.hypot(cand[i, 0] - face.cx, cand[i, 1] - face.cy) > face.r * 1.1 + rs[i] * 0.4
    ]
    keep = keep[: int(rng.integers(4, 10))]
    keep.sort(key=lambda i: cand[i, 1])
    for i in keep:
        other = Face(
            cx=float(cand[i, 0]),
            cy=float(cand[i, 1]),
            r=float(rs[i]),
            ang=float(rng.normal(0, 0.15)),
            ax=rng.uniform(0.82, 1.0),
            ay=rng.uniform(0.98, 1.15),
            yaw=rng.uniform(-0.1, 0.1),
            eye_v=rng.uniform(-0.2, -0.06),
            eye_du=rng.uniform(0.28, 0.4),
            mouth_v=rng.uniform(0.38, 0.5),
        )
        if rng.random() < 0.15:  # seen from behind
            _fill(img, _torso(other), _rand_col(rng, 20, 235))
            _fill(img, other.ell(0, 0, other.ax, other.ay), _pick(rng, HAIRS))
            continue
        _person(
            img,
            other,
            rng,
            skin=_pick(rng, SKINS),
            ink=ink,
            outline=outline,
            extras=rng.random() < 0.4,
            eye_kinds=("dot", "pupil", "ring"),
            shade=shade,
        )
        w = rng.uniform(0.15, 0.3)
        if rng.random() < 0.75:
            _line(
                img,
                other.xy(other.yaw + np.array([-w, w]), np.array([other.mouth_v] * 2)),
                ink,
                max(SS * 1.0, other.r * 0.04),
            )
        else:
            _line(
                img,
                other.ell(other.yaw, other.mouth_v, 0.08, 0.1),
                ink,
                max(SS * 1.0, other.r * 0.035),
                True,
            )
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.5) * SS)
    skin = _pick(rng, SKINS)
    _person(
        img,
        face,
        rng,
        skin=skin,
        ink=ink,
        outline=outline,
        shade=shade,
        eye_kinds=("dot", "pupil", "ring", "lash", "closed_up", "closed_down"),
    )
    mouth = _make_mouth(mrng, sign, face, S, Limits(min_thick=1.2 * SS))
    _paint_mouth(
        img, mouth, _pal(rng, ink, ref=(_mix(skin, (0, 0, 0), shade * 0.5), _under(img, mouth)))
    )
    return img, face.r


def _st_snowman(rng: Rng, mrng: Rng, sign: int, S: int) -> tuple[np.ndarray, float]:
    """A snowman's head with coal features and a carrot nose."""
    rb = rng.uniform(0.95, 1.05)
    face = _place(rng, S, 0.18, 0.65, ax=rb, ay=rb)
    night = rng.random() < 0.3
    sky = _jit(rng, (30, 40, 80) if night else (150, 190, 235), 20)
    img = _u8(_gradient(S, sky, _mix(sky, (255, 255, 255), 0.5), math.pi / 2))
    hor = int(S * rng.uniform(0.5, 0.85))
    snow = (235, 240, 250) if not night else (150, 160, 190)
    img[hor:] = _c(_jit(rng, snow, 5))
    for _ in range(int(rng.integers(0, 5))):
        x0 = rng.uniform(0, S)
        h = S * rng.uniform(0.1, 0.3)
        tri = np.array([[x0, hor - h], [x0 - h * 0.35, hor + 2], [x0 + h * 0.35, hor + 2]])
        _fill(img, tri, _jit(rng, (30, 80, 50), 10))
    white = np.asarray(snow, np.float32)
    u, v = face.local(S)
    lu = rng.uniform(-0.7, 0.7)
    for cu, cv_, rb in ((0.0, face.ay + 1.2, 1.4), (0.0, 0.0, face.ax)):
        m = _mask(S)
        _fill(m, face.ell(cu, cv_, rb, rb), (255,))
        nz = np.sqrt(np.clip(1 - ((u - cu) / rb) ** 2 - ((v - cv_) / rb) ** 2, 0, 1))
        lum = 0.72 + 0.3 * np.clip((u - cu) / rb * lu - (v - cv_) / rb * 0.4 + nz * 0.5, 0, 1)
        col = white * lum[..., None] * np.array([0.97, 0.98, 1.02], np.float32)
        _blend(img, _f(m), col)
        if cu == 0.0 and cv_ > 0:
            for side in (-1, 1):
                arm = face.xy(
                    side * np.array([1.2, 2.2, 2.6]),
                    cv_ + np.array([-0.2, -0.9, -1.4]) * rng.uniform(0.3, 1.0),
                )
                _line(img, arm, (90, 60, 35), max(SS, face.r * 0.05))
            if rng.random() < 0.7:
                sc = _rand_col(rng, 30, 230)
                _fill(img, face.ell(0, face.ay * 0.98, 0.8, 0.17), sc)
                _fill(
                    img,
                    face.xy(*_rrect(0.12, 0.4, 0.05))
                    + face.xy(0.45, face.ay + 0.4)
                    - face.xy(0, 0),
                    sc,
                )
    coal = (25, 25, 28)
    e = rng.uniform(0.08, 0.12)
    for side in (-1, 1):
        ang = np.linspace(0, TAU, 9)[:-1]
        rad = e * rng.uniform(0.75, 1.15, 8)
        _fill(
            img,
            face.xy(
                face.yaw + side * face.eye_du + rad * np.cos(ang), face.eye_v + rad * np.sin(ang)
            ),
            coal,
        )
    nv = face.eye_v + 0.5 * (face.mouth_v - face.eye_v) - 0.05
    d = 1 if rng.random() < 0.5 else -1
    ln = rng.uniform(0.3, 0.6)
    _fill(
        img,
        face.xy(face.yaw + np.array([0.0, 0.0, d * ln]), nv + np.array([-0.07, 0.07, 0.02])),
        _jit(rng, (240, 120, 30), 10),
    )
    hat = int(rng.integers(3))
    if hat == 0:
        hc = _jit(rng, (25, 25, 30), 8)
        _fill(
            img, face.xy(*_rrect(0.55, 0.45, 0.04)) + face.xy(0, -face.ay - 0.3) - face.xy(0, 0), hc
        )
        _fill(
            img,
            face.xy(*_rrect(0.95, 0.07, 0.05)) + face.xy(0, -face.ay * 0.78) - face.xy(0, 0),
            hc,
        )
        _fill(
            img,
            face.xy(*_rrect(0.56, 0.08, 0.0)) + face.xy(0, -face.ay * 0.95) - face.xy(0, 0),
            _rand_col(rng, 60, 230),
        )
    elif hat == 1:
        _hat(img, face, rng, p=1.0)
    mouth = _make_mouth(
        mrng, sign, face, S, Limits(min_thick=1.5 * SS, prefer=("dots",), prefer_p=0.5)
    )
    _paint_mouth(img, mouth, {**_pal(rng, coal), "cavity": (40, 40, 45)})
    flakes = _mask(S)
    for x0, y0, rr in zip(
        rng.uniform(0, S, 60), rng.uniform(0, S, 60), rng.uniform(0.5, 1.6, 60) * SS, strict=True
    ):
        _disc(flakes, x0, y0, rr, (255,))
    if rng.random() < 0.7:
        _blend(img, _f(flakes) * 0.85, (255, 255, 255))
    return img, face.r


def _st_robot(rng: Rng, mrng: Rng, sign: int, S: int) -> tuple[np.ndarray, float]:
    """A metal robot head with an LED mouth panel."""
    face = _place(rng, S, 0.18, 0.65)
    bgc = _rand_col(rng, 10, 200)
    img = _u8(_gradient(S, bgc, _mix(bgc, (0, 0, 0), 0.5), rng.uniform(0, TAU)))
    if rng.random() < 0.5:
        cc = _mix(bgc, (255, 255, 255), 0.3)
        for _ in range(12):
            p = rng.uniform(0, S, 2)
            q = p + np.where(
                rng.random() < 0.5, [rng.uniform(-0.3, 0.3) * S, 0], [0, rng.uniform(-0.3, 0.3) * S]
            )
            _line(img, np.array([p, q]), cc, SS)
            _disc(img, q[0], q[1], 1.5 * SS, cc)
    metal = _jit(
        rng,
        _pick(
            rng,
            (
                (180, 185, 195),
                (120, 130, 150),
                (200, 80, 60),
                (230, 200, 80),
                (90, 150, 200),
                (235, 235, 235),
            ),
        ),
        10,
    )
    darkm = _mix(metal, (0, 0, 0), 0.45)
    w, h = face.ax * 0.98, face.ay * 0.95
    for side in (-1, 1):
        _fill(
            img,
            face.xy(side * (w + 0.08) + _rrect(0.1, 0.25, 0.05)[0], _rrect(0.1, 0.25, 0.05)[1]),
            darkm,
        )
    _line(img, face.xy(np.array([0, 0]), np.array([-h, -h - 0.35])), darkm, max(SS, face.r * 0.04))
    led = _pick(
        rng, ((80, 255, 120), (80, 220, 255), (255, 80, 80), (255, 200, 60), (255, 255, 255))
    )
    p = face.xy(0, -h - 0.4)
    _disc(img, p[0], p[1], face.r * 0.08, led)
    m = _mask(S)
    hu, hv = _rrect(w, h, rng.uniform(0.15, 0.45))
    _fill(m, face.xy(hu, hv), (255,))
    u, v = face.local(S)
    lum = (
        1.1
        - 0.35 * np.clip((v + h) / (2 * h), 0, 1)
        + 0.15 * np.exp(-(((u - 0.4 * w) / 0.15) ** 2))
    )
    _blend(img, _f(m), np.asarray(metal, np.float32) * lum[..., None])
    _line(img, face.xy(hu, hv), darkm, max(SS, face.r * 0.03), True)
    for bu, bv in (
        (-w + 0.12, -h + 0.12),
        (w - 0.12, -h + 0.12),
        (-w + 0.12, h - 0.12),
        (w - 0.12, h - 0.12),
    ):
        _fill(img, face.ell(bu, bv, 0.04, 0.04), darkm)
    glow = _mask(S)
    e = rng.uniform(0.09, 0.14)
    ek = int(rng.integers(3))
    for side in (-1, 1):
        eu = face.yaw + side * face.eye_du
        if ek == 0:
            _fill(img, face.ell(eu, face.eye_v, e * 1.3, e * 1.3), (20, 22, 26))
            _fill(glow, face.ell(eu, face.eye_v, e, e), (255,))
        elif ek == 1:
            ru, rv = _rrect(e * 1.4, e * 0.7, e * 0.2)
            _fill(img, face.xy(eu + ru, face.eye_v + rv), (20, 22, 26))
            _fill(glow, face.xy(eu + ru * 0.75, face.eye_v + rv * 0.6), (255,))
        else:
            _fill(img, face.ell(eu, face.eye_v, e * 1.4, e * 1.4), darkm)
            _fill(img, face.ell(eu, face.eye_v, e, e), (15, 15, 20))
            _fill(glow, face.ell(eu, face.eye_v, e * 0.35, e * 0.35), (255,))
    pitch = max(1.6 * SS, face.r * rng.uniform(0.045, 0.065))
    lim = Limits(
        min_hw=4.5 * pitch,
        min_depth=2.4 * pitch,
        min_thick=1.1 * pitch,
        kinds=("line", "stroke", "brush", "dots", "open", "outline", "dimple"),
    )
    mouth = _make_mouth(mrng, sign, face, S, lim)
    pw = mouth.ext_w + pitch * rng.uniform(1.2, 2.2)
    ph = mouth.ext_h + pitch * rng.uniform(1.2, 2.2)
    ca, sa = math.cos(face.ang), math.sin(face.ang)
    pu, pv = _rrect(pw, ph, pitch)
    panel = np.stack([mouth.cx + pu * ca - pv * sa, mouth.cy + pu * sa + pv * ca], -1)
    _fill(img, panel, (18, 20, 24))
    _line(img, panel, darkm, max(SS, face.r * 0.02), True)
    lit = _mask(S)
    if rng.random() < 0.6:
        src = _blur(mouth.union(("cavity", "ink", "tongue", "teeth")), pitch * 0.35)
        gx = np.arange(-pw + pitch, pw - pitch * 0.5 + 1e-6, pitch)
        gy = np.arange(-ph + pitch, ph - pitch * 0.5 + 1e-6, pitch)
        gx = gx - (gx.mean() if len(gx) else 0)
        gy = gy - (gy.mean() if len(gy) else 0)
        GX, GY = np.meshgrid(gx, gy)
        px = mouth.cx + GX * ca - GY * sa
        py = mouth.cy + GX * sa + GY * ca
        ix = np.clip(np.round(px).astype(int), 0, S - 1)
        iy = np.clip(np.round(py).astype(int), 0, S - 1)
        on = src[iy, ix] > 0.22
        for x0, y0, o in zip(px.ravel(), py.ravel(), on.ravel(), strict=True):
            if o:
                _disc(lit, x0, y0, pitch * 0.38, (255,))
            else:
                _disc(img, x0, y0, pitch * 0.3, _mix((18, 20, 24), led, 0.15))
        lf = _f(lit) * mouth.alpha
    else:
        lf = mouth.union(("cavity", "ink", "tongue")) * mouth.alpha
    gf = _f(glow)
    both = np.maximum(gf, lf)
    _blend(img, both, led)
    _add(img, _blur(both, face.r * 0.06), led, 0.6)
    return img, face.r


def _st_pumpkin(rng: Rng, mrng: Rng, sign: int, S: int) -> tuple[np.ndarray, float]:
    """A carved, glowing or a painted pumpkin."""
    pax, pay, pmv = rng.uniform(1.05, 1.3), rng.uniform(0.82, 0.95), rng.uniform(0.36, 0.45)
    face = _place(rng, S, 0.18, 0.62, ax=pax, ay=pay, mouth_v=pmv)
    carved = rng.random() < 0.7
    if carved:
        sky = _jit(rng, (25, 20, 50), 12)
        img = _u8(_gradient(S, sky, _mix(sky, (0, 0, 0), 0.6), math.pi / 2))
        if rng.random() < 0.5:
            p = rng.uniform(0, S, 2)
            _disc(img, p[0], p[1], S * rng.uniform(0.04, 0.1), (235, 230, 200))
        for x0, y0 in rng.uniform(0, S, (30, 2)):
            _disc(img, x0, y0, 0.5 * SS, (220, 220, 240))
    else:
        sky = _rand_col(rng, 120, 240)
        img = _u8(_gradient(S, sky, _mix(sky, (90, 60, 30), 0.5), math.pi / 2))
    orange = _jit(rng, (235, 120, 25), 12)
    stem = face.xy(np.array([-0.08, 0.1, 0.18, 0.02]), -face.ay + np.array([0.1, 0.1, -0.3, -0.35]))
    _fill(img, stem, _jit(rng, (90, 110, 40), 12))
    m = _mask(S)
    _fill(m, face.ell(0, 0, face.ax, face.ay), (255,))
    u, v = face.local(S)
    nz = np.sqrt(np.clip(1 - (u / face.ax) ** 2 - (v / face.ay) ** 2, 0, 1))
    amb = 0.45 if carved else 0.65
    lum = amb + (1 - amb) * np.clip(nz * 0.9 - v * 0.2 + u * rng.uniform(-0.3, 0.3), 0, 1.2)
    _blend(img, _f(m), np.asarray(orange, np.float32) * lum[..., None])
    rib = _mix(orange, (60, 20, 0), 0.45)
    for fa in (0.28, 0.6, 0.85):
        _line(
            img,
            face.ell(0, 0, face.ax * fa, face.ay * 0.99, t0=1.2 * math.pi, t1=1.8 * math.pi),
            rib,
            max(SS, face.r * 0.02),
        )
        _line(
            img,
            face.ell(0, 0, face.ax * fa, face.ay * 0.99, t0=0.2 * math.pi, t1=0.8 * math.pi),
            rib,
            max(SS, face.r * 0.02),
        )
    carve = _mask(S)
    e = rng.uniform(0.12, 0.18)
    ek = int(rng.integers(3))
    for side in (-1, 1):
        eu, ev = face.yaw + side * face.eye_du, face.eye_v
        if ek == 0:
            _fill(
                carve,
                face.xy(eu + np.array([-e, e, 0.0]), ev + np.array([e * 0.6, e * 0.6, -e * 0.9])),
                (255,),
            )
        elif ek == 1:
            _fill(carve, face.ell(eu, ev, e * 0.9, e), (255,))
        else:
            _fill(
                carve,
                face.xy(
                    eu + np.array([-e, e, side * e * 0.6]),
                    ev + np.array([-e * 0.6, -e * 0.6, e * 0.8]),
                ),
                (255,),
            )
    nv = face.eye_v + 0.5 * (face.mouth_v - face.eye_v) - 0.02
    s = rng.uniform(0.05, 0.08)
    _fill(carve, face.xy(face.yaw + np.array([-s, s, 0.0]), nv + np.array([s, s, -s])), (255,))
    glowc = _jit(rng, (255, 220, 90), 8)
    if carved:
        lim = Limits(
            min_thick=max(2.5 * SS, face.r * 0.05),
            kinds=("stroke", "brush", "dots", "open", "dimple"),
            prefer=("open",),
            prefer_p=0.4,
        )
        mouth = _make_mouth(mrng, sign, face, S, lim)
        cf = _f(carve)
        _blend(img, cf, glowc)
        _paint_mouth(img, mouth, {"cavity": glowc, "ink": glowc, "tongue": glowc, "teeth": orange})
        light = np.maximum(cf, mouth.union(("cavity", "ink", "tongue")) * mouth.alpha)
        _add(img, _blur(light, face.r * 0.08), (255, 170, 60), 0.7)
    else:
        ink = (20, 15, 10)
        mouth = _make_mouth(mrng, sign, face, S, Limits(min_thick=1.5 * SS))
        _blend(img, _f(carve), ink)
        _paint_mouth(img, mouth, _pal(rng, ink))
    return img, face.r


def _st_food(rng: Rng, mrng: Rng, sign: int, S: int) -> tuple[np.ndarray, float]:
    """Latte art in a cup, or an iced cookie on a plate."""
    face = _place(rng, S, 0.2, 0.55, ax=1.0, ay=1.0)
    wood = rng.random() < 0.6
    base = _jit(rng, (150, 100, 60) if wood else (225, 222, 215), 20)
    xs, ys = _grid(S)
    if wood:
        a = rng.uniform(0, math.pi)
        t = (xs * math.cos(a) + ys * math.sin(a)) / S
        grain = 0.85 + 0.15 * np.sin(t * rng.uniform(40, 90) + 3 * _noise(rng, S, 4))
    else:
        grain = 0.92 + 0.1 * _noise(rng, S, 5)
    img = _u8(np.asarray(base, np.float32) * grain[..., None])
    latte = rng.random() < 0.55
    r = face.r
    shadow = _mask(S)
    outer = r * (rng.uniform(1.12, 1.3) if latte else 1.08) * rng.uniform(1.3, 1.5)
    _disc(shadow, face.cx + r * 0.1, face.cy + r * 0.12, outer, (255,))
    _blend(img, _blur(_f(shadow), r * 0.1), (0, 0, 0), 0.35)
    plate = _jit(
        rng, _pick(rng, ((245, 245, 240), (230, 230, 235), (200, 220, 240), (240, 215, 200))), 6
    )
    _disc(img, face.cx, face.cy, outer, plate)
    _disc(img, face.cx, face.cy, outer * 0.8, _mix(plate, (0, 0, 0), 0.06))
    ink: Color
    if latte:
        rim = r * rng.uniform(1.12, 1.3)
        ha = rng.uniform(0, TAU)
        hx, hy = face.cx + math.cos(ha) * rim * 1.1, face.cy + math.sin(ha) * rim * 1.1
        cv2.ellipse(
            img,
            (int(hx), int(hy)),
            (int(rim * 0.35), int(rim * 0.18)),
            math.degrees(ha),
            0,
            360,
            _c(plate),
            max(2, int(r * 0.08)),
            cv2.LINE_AA,
        )
        _disc(img, face.cx, face.cy, rim, _mix(plate, (255, 255, 255), 0.5))
        _disc(img, face.cx, face.cy, r * 1.04, _jit(rng, (95, 55, 30), 8))
        m = _mask(S)
        _disc(m, face.cx, face.cy, r * 1.04, (255,))
        d = np.hypot(xs - face.cx, ys - face.cy) / (r * 1.04)
        crema = np.asarray(_jit(rng, (190, 130, 80), 10), np.float32)
        t = np.clip(1 - d, 0, 1) ** 0.5 * (0.8 + 0.4 * _noise(rng, S, 8))
        _blend(img, _f(m) * np.clip(t, 0, 1) * 0.7, crema)
        foam = _jit(rng, (245, 235, 215), 6)
        brown = _jit(rng, (110, 65, 35), 8)
        on_foam = rng.random() < 0.4
        if on_foam:
            fm = _mask(S)
            _fill(fm, face.ell(0, 0.02, 0.88, 0.92), (255,))
            _blend(img, _blur(_f(fm), r * 0.03), foam, 0.95)
            ink = brown
        else:
            ink = foam
            if rng.random() < 0.5:
                fm = _mask(S)
                _line(fm, face.ell(0, 0.02, 0.88, 0.92), (255,), max(2 * SS, r * 0.06), True)
                _blend(img, _blur(_f(fm), r * 0.015), foam, 0.9)
        soft = r * 0.012 + 0.4 * SS
        feat = _mask(S)
        _eyes(
            feat,
            face,
            rng,
            (255, 255, 255),
            white=(255, 255, 255),
            iris=(255, 255, 255),
            kinds=("dot", "closed_up", "closed_down"),
            min_th=2 * SS,
        )
        _blend(img, _blur(_f(feat), soft), ink, 0.95)
        mouth = _make_mouth(
            mrng,
            sign,
            face,
            S,
            Limits(min_thick=2 * SS, kinds=("line", "stroke", "brush", "dots", "dimple", "open")),
        )

        def soft_blend(dst: np.ndarray, mk: np.ndarray, col: Color, a: float) -> None:
            _blend(dst, _blur(mk, soft), col, a * 0.95)

        _paint_mouth(
            img,
            mouth,
            {"ink": ink, "cavity": ink, "tongue": ink},
            fn=soft_blend,
        )
    else:
        dough = _jit(rng, (205, 150, 90), 15)
        m = _mask(S)
        rr = r * 1.08
        ang = np.linspace(0, TAU, 40)[:-1]
        rad = rr * (1 + rng.normal(0, 0.015, 39))
        _fill(m, np.stack([face.cx + rad * np.cos(ang), face.cy + rad * np.sin(ang)], -1), (255,))
        d = np.hypot(xs - face.cx, ys - face.cy) / rr
        lum = 1.0 - 0.35 * np.clip(d - 0.75, 0, 1) / 0.25 + 0.12 * (_noise(rng, S, 12) - 0.5)
        _blend(img, _f(m), np.asarray(dough, np.float32) * lum[..., None])
        if rng.random() < 0.5:
            chips = _mask(S)
            for cu, cv_ in rng.uniform(-0.95, 0.95, (14, 2)):
                near_mouth = abs(cv_ - face.mouth_v) < 0.3 and abs(cu) < 0.6
                near_eyes = abs(cv_ - face.eye_v) < 0.22
                if cu * cu + cv_ * cv_ < 0.8 and not near_mouth and not near_eyes:
                    _fill(chips, face.ell(cu, cv_, 0.06, 0.05, rot=rng.uniform(0, 3)), (255,))
            _blend(img, _f(chips), (60, 35, 20))
        ink = _pick(rng, ((250, 250, 250), (240, 120, 170), (70, 40, 25), (80, 140, 230)))
        ink = _contrast(ink, (dough, _mix(dough, (0, 0, 0), 0.2)), 60)
        th = max(2.5 * SS, r * 0.05)
        feat = _mask(S)
        _eyes(
            feat,
            face,
            rng,
            (255, 255, 255),
            white=(255, 255, 255),
            iris=(255, 255, 255),
            kinds=("dot", "closed_up", "closed_down", "ring"),
            min_th=th,
        )
        mouth = _make_mouth(
            mrng,
            sign,
            face,
            S,
            Limits(min_thick=th, kinds=("line", "stroke", "dots", "dimple", "open", "outline")),
        )
        off = max(1, round(r * 0.02))
        ff = _f(feat)

        def icing(dst: np.ndarray, mk: np.ndarray, col: Color, a: float) -> None:
            _blend(dst, np.roll(mk, (off, off), (0, 1)), (0, 0, 0), a * 0.3)
            _blend(dst, mk, col, a)

        icing(img, ff, ink, 1.0)
        _paint_mouth(img, mouth, {"ink": ink, "cavity": ink, "tongue": ink}, fn=icing)
    return img, face.r


def _st_screen(rng: Rng, mrng: Rng, sign: int, S: int) -> tuple[np.ndarray, float]:
    """A face on a monitor with scanlines and glow."""
    face = _place(rng, S, 0.15, 0.42, ang_scale=0.6)
    r = face.r
    x0 = face.cx - r * rng.uniform(1.3, 2.0)
    x1 = face.cx + r * rng.uniform(1.3, 2.0)
    y0 = face.cy - r * rng.uniform(1.3, 1.9)
    y1 = face.cy + r * rng.uniform(1.3, 1.9)
    bez = S * rng.uniform(0.03, 0.09)
    wallc = _rand_col(rng, 40, 220)
    img = _u8(_gradient(S, wallc, _mix(wallc, (0, 0, 0), 0.4), rng.uniform(0, TAU)))
    bc = _pick(rng, ((30, 30, 32), (200, 195, 180), (90, 90, 95), (240, 240, 240)))
    cv2.rectangle(
        img, (int(x0 - bez), int(y0 - bez)), (int(x1 + bez), int(y1 + bez * 1.4)), _c(bc), -1
    )
    mode = int(rng.integers(3))
    scrbg = (8, 12, 10) if mode == 0 else _rand_col(rng, 0, 120 if mode == 1 else 60)
    scr = np.empty((S, S, 3), np.uint8)
    scr[:] = _c(scrbg)
    p = max(2, round(rng.uniform(1.5, 2.5) * SS))
    if mode == 0:  # vector phosphor
        ph = _pick(rng, ((90, 255, 120), (255, 190, 60), (120, 220, 255), (235, 235, 255)))
        th = max(1.2 * p, r * 0.04)
        _line(scr, face.ell(0, 0, face.ax, face.ay), ph, th, True)
        _eyes(
            scr,
            face,
            rng,
            ph,
            white=ph,
            iris=ph,
            kinds=("dot", "ring", "closed_up", "closed_down"),
            min_th=th,
        )
        _brows(scr, face, rng, ph, p=0.3, min_th=th)
        ink = ph
        pal = {
            "ink": ph,
            "cavity": _mix(ph, scrbg, 0.5),
            "teeth": ph,
            "tongue": ph,
            "lip": _mix(ph, scrbg, 0.5),
            "lipline": ph,
        }
    elif mode == 1:  # flat emoji-ish
        headc = _pick(rng, ((255, 210, 60), (250, 170, 200), (120, 210, 250), (250, 250, 250)))
        _fill(scr, face.ell(0, 0, face.ax, face.ay), headc)
        ink = _dark(rng)
        _eyes(scr, face, rng, ink, min_th=1.2 * p)
        _brows(scr, face, rng, ink, p=0.3, min_th=1.2 * p)
        ref0 = headc
    else:  # video call
        skin = _pick(rng, SKINS)
        _person(
            scr,
            face,
            rng,
            skin=skin,
            ink=(35, 25, 22),
            shade=0.4,
            min_th=1.1 * p,
            eye_kinds=("pupil", "lash", "dot"),
        )
        ink = (80, 30, 30)
        ref0 = _mix(skin, (0, 0, 0), 0.2)
    mouth = _make_mouth(
        mrng, sign, face, S, Limits(min_thick=1.3 * p, min_depth=2.2 * p, min_hw=4 * p)
    )
    if mode != 0:
        pal = _pal(rng, ink, ref=(ref0, _under(scr, mouth)))
    _paint_mouth(scr, mouth, pal)
    if mode == 0:
        scr = _u8(scr.astype(np.float32) + 0.8 * _blur(scr.astype(np.float32), 2.5 * SS))
    rows = (np.arange(S) % p) < max(1, p // 2)
    scr = scr.astype(np.float32)
    scr[rows] *= rng.uniform(0.4, 0.7)
    if rng.random() < 0.6:
        scr[..., 0] = np.roll(scr[..., 0], SS, 1)
    xs, ys = _grid(S)
    refl = np.clip(np.sin((xs + ys) / S * rng.uniform(4, 8)) * 0.5, 0, 1) * rng.uniform(0.0, 0.12)
    scr = scr * (1 - refl[..., None]) + 255 * refl[..., None]
    inside = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
    img[inside] = _u8(scr)[inside]
    return img, face.r


def _st_finger(rng: Rng, mrng: Rng, sign: int, S: int) -> tuple[np.ndarray, float]:
    """A face drawn with a finger on a fogged window or in sand."""
    face = _place(rng, S, 0.2, 0.7)
    fw = max(2.5 * SS, face.r * rng.uniform(0.06, 0.1))
    lines = _mask(S)
    _line(lines, face.ell(0, 0, face.ax, face.ay, n=60), (255,), fw, True)
    e = max(fw * 0.7, face.r * rng.uniform(0.06, 0.1))
    ek = int(rng.integers(3))
    for side in (-1, 1):
        eu, ev = face.yaw + side * face.eye_du, face.eye_v
        if ek == 0:
            p = face.xy(eu, ev)
            _disc(lines, p[0], p[1], e, (255,))
        elif ek == 1:
            _line(lines, face.xy(np.array([eu, eu]), np.array([ev - 0.1, ev + 0.06])), (255,), fw)
        else:
            _line(lines, face.ell(eu, ev, 0.1, 0.1), (255,), fw * 0.8, True)
    if rng.random() < 0.3:
        for side in (-1, 1):
            a0 = 1.3 * math.pi if side < 0 else 1.7 * math.pi
            _line(
                lines,
                face.ell(side * 0.35, -face.ay, 0.25, 0.3, t0=a0 - 0.5, t1=a0 + 0.5),
                (255,),
                fw,
            )
    lim = Limits(
        min_thick=fw * 0.9,
        min_depth=1.8 * fw,
        min_hw=3.5 * fw,
        min_alpha=0.6,
        kinds=("line", "stroke", "dimple", "open", "outline"),
    )
    mouth = _make_mouth(mrng, sign, face, S, lim)
    lf = _f(lines)
    mm = (
        np.clip(mouth.union(("cavity", "ink", "tongue")) - mouth.masks.get("teeth", 0.0), 0, 1)
        * mouth.alpha
    )
    if rng.random() < 0.55:  # fogged window
        c1 = _rand_col(rng, 10, 150)
        scene = _gradient(S, c1, _rand_col(rng, 20, 180), rng.uniform(0, TAU))
        for _ in range(int(rng.integers(4, 12))):
            pts = rng.uniform(0, S, 2)
            cv2.circle(
                scene,
                (int(pts[0]), int(pts[1])),
                int(S * rng.uniform(0.02, 0.12)),
                _rand_col(rng, 0, 255),
                -1,
            )
        scene = _blur(scene, S * 0.02) * rng.uniform(0.35, 0.6)
        drops = (_blur(rng.random((S, S)).astype(np.float32), 0.8) - 0.5) * 40
        fogc = np.asarray(_jit(rng, (215, 220, 225), 10), np.float32)
        k = rng.uniform(0.6, 0.8)
        fog = _blur(scene, S * 0.03) * (1 - k) + fogc * k + drops[..., None]
        wipe = np.maximum(lf, mm)
        dm = _mask(S)
        for _ in range(int(rng.integers(1, 5))):
            a0 = rng.uniform(0.2, 0.8) * math.pi
            p = face.xy(face.ax * math.cos(a0), face.ay * math.sin(a0))
            ln = face.r * rng.uniform(0.15, 0.6)
            wd = max(1, round(fw * 0.3))
            cv2.line(dm, (int(p[0]), int(p[1])), (int(p[0]), int(p[1] + ln)), 255, wd, cv2.LINE_AA)
            _disc(dm, p[0], p[1] + ln, wd * 0.9, (255,))
        wipe = np.maximum(wipe, _f(dm) * 0.8)
        wipe = _blur(wipe, fw * 0.12)[..., None]
        out = fog * (1 - wipe) + scene * wipe
    else:  # sand
        sand = np.asarray(_jit(rng, (222, 192, 140), 14), np.float32)
        xs, ys = _grid(S)
        a = rng.uniform(0, math.pi)
        rip = np.sin(
            (xs * math.cos(a) + ys * math.sin(a)) / S * rng.uniform(20, 50) + 4 * _noise(rng, S, 4)
        )
        grain = (rng.random((S, S)).astype(np.float32) - 0.5) * 0.18
        base = sand * (1 + 0.05 * rip + grain)[..., None]
        g = _blur(np.maximum(lf, mm), fw * 0.25)
        gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
        la = rng.uniform(0, TAU)
        sh = (gx * math.cos(la) + gy * math.sin(la)) * (fw * 0.6)
        out = base * (1 - 0.3 * g)[..., None] + np.clip(sh, -1, 1)[..., None] * 60
    return _u8(out), face.r


STYLES: dict[str, Callable[[Rng, Rng, int, int], tuple[np.ndarray, float]]] = {
    "mosaic": _st_mosaic,
    "oil": _st_oil,
    "felt": _st_felt,
    "graffiti": _st_graffiti,
    "blurry": _st_blurry,
    "crowd": _st_crowd,
    "snowman": _st_snowman,
    "robot": _st_robot,
    "pumpkin": _st_pumpkin,
    "food": _st_food,
    "screen": _st_screen,
    "finger": _st_finger,
}


# --------------------------------------------------------------------------- rendering


def _degrade(rng: Rng, img: np.ndarray, r_out: float) -> tuple[np.ndarray, str, int]:
    """Lighting, colour, noise, blur and a file format; all from the scene stream."""
    size = img.shape[0]
    f = img.astype(np.float32)
    xs, ys = _grid(size)
    a = rng.uniform(0, TAU)
    ramp = (xs / size - 0.5) * math.cos(a) + (ys / size - 0.5) * math.sin(a)
    f *= (1 + rng.uniform(0, 0.35) * ramp)[..., None]
    f = (f - 128) * rng.uniform(0.8, 1.15) + 128 + rng.uniform(-20, 20)
    f *= rng.uniform(0.9, 1.1, 3).astype(np.float32)
    if rng.random() < 0.3:
        d = np.hypot(xs / size - 0.5, ys / size - 0.5)
        f *= (1 - rng.uniform(0.2, 0.5) * np.clip(d - 0.3, 0, 1) / 0.4)[..., None]
    if rng.random() < 0.5:
        f += rng.normal(0, rng.uniform(1, 7), f.shape).astype(np.float32)
    out = _u8(f)
    big = r_out > 0.25 * size
    if big and rng.random() < 0.15:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 0.7))
    if big and rng.random() < 0.12:
        k = rng.uniform(0.55, 0.8)
        small = cv2.resize(out, (max(8, int(size * k)),) * 2, interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (size, size), interpolation=cv2.INTER_LINEAR)
    ext = "jpg" if rng.random() < 0.5 else "png"
    quality = int(rng.integers(45 if r_out > 0.2 * size else 65, 96)) if ext == "jpg" else 100
    return out, ext, quality


def _child(ss: np.random.SeedSequence, k: int) -> np.random.SeedSequence:
    """The k-th child of ``ss`` (as ``spawn`` would give on a fresh sequence, but stateless)."""
    return np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, k), pool_size=ss.pool_size)


def render(ss: np.random.SeedSequence, sign: int, size: int) -> tuple[np.ndarray, str, int]:
    """One RGB uint8 image, its extension and JPEG quality; ``sign`` +1 happy, -1 sad.

    The scene stream draws everything but the mouth; the mouth stream draws the
    mouth; the label only flips the sign of the mouth's bend.
    """
    if sign not in (1, -1):
        raise ValueError(f"sign must be +1 or -1, got {sign}")
    rng = np.random.default_rng(_child(ss, 0))
    mrng = np.random.default_rng(_child(ss, 1))
    names = list(STYLES)
    style = names[int(rng.integers(len(names)))]
    S = SS * size
    canvas, r = STYLES[style](rng, mrng, sign, S)
    img = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    out, ext, quality = _degrade(rng, img, r / SS)
    return np.ascontiguousarray(out[..., :3]), ext, quality


# --------------------------------------------------------------------------- the set


def _marker(per_class: int, image_size: int, seed: int) -> dict[str, object]:
    """The marker describing one generated set."""
    return {
        "generator": GENERATOR,
        "version": VERSION,
        "per_class": per_class,
        "image_size": image_size,
        "seed": seed,
    }


def generate(out: Path, per_class: int, image_size: int, seed: int) -> Path:
    """Write ``out/happy`` and ``out/sad`` (``per_class`` images each) plus the marker.

    Returns at once if ``out`` already holds exactly this set; raises
    FileExistsError if it holds anything else. Writes into a temporary directory
    next to ``out`` and renames it into place, so nothing is ever overwritten.
    """
    if per_class < 1 or image_size < 32 or seed < 0:
        raise ValueError("need per_class >= 1, image_size >= 32 and seed >= 0")
    out = Path(out)
    want = _marker(per_class, image_size, seed)
    if out.exists():
        marker = out / MARKER
        if marker.is_file():
            try:
                have = json.loads(marker.read_text())
            except (OSError, ValueError):
                have = None
            if have == want:
                return out
        if not out.is_dir() or any(out.iterdir()):
            raise FileExistsError(f"{out} exists and does not hold this outside-faces set")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for ci, name in enumerate(CLASSES):
            sign = 1 if name == "happy" else -1
            folder = tmp / name
            folder.mkdir()
            for i in range(per_class):
                ss = np.random.SeedSequence([seed, ci, i])
                img, ext, quality = render(ss, sign, image_size)
                bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
                params = [cv2.IMWRITE_JPEG_QUALITY, quality] if ext == "jpg" else []
                path = folder / f"{name}_{i:05d}.{ext}"
                if not cv2.imwrite(str(path), bgr, params):
                    raise OSError(f"could not write {path}")
        (tmp / MARKER).write_text(json.dumps(want, indent=2) + "\n")
        try:
            os.rename(tmp, out)
        except OSError as err:
            raise FileExistsError(f"{out} appeared while generating") from err
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: generate the set and print its path."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="output folder (must not exist)")
    ap.add_argument("--per-class", type=int, default=200, help="images per class")
    ap.add_argument("--image-size", type=int, default=128, help="square image size in px")
    ap.add_argument("--seed", type=int, default=0, help="base seed")
    args = ap.parse_args(argv)
    try:
        path = generate(args.out, args.per_class, args.image_size, args.seed)
    except FileExistsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
