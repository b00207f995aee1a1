"""Remote faces: an independent, report-only happy/sad image set.

This generator was written from a short task description only ("a happy face's mouth
corners turn up, a sad face's mouth corners turn down; nothing else may depend on the
label"), without reading the project's other generators or its training-data generator.
Every scene is drawn procedurally with numpy and OpenCV at twice the output size and
reduced with area interpolation.

Styles:

- denim_embroidery: a face stitched on denim, either on a felt patch or straight on the cloth.
- pool_ripples: a face painted on the tiled floor of a pool, seen through rippling water.
- wood_marquetry: a face inlaid from contrasting wood veneers on a veneer panel.
- azulejo_tile: a cobalt-blue painted face on glazed, crackled ceramic tiles.
- coin_emboss: a face in relief on a metal coin or in a wax seal, lit from one side.
- spray_stencil: a spray-painted stencil face on brick, concrete, plaster or a shutter.
- shadow_puppet: a backlit shadow puppet with cut-out eyes and mouth on a paper screen.
- constellation: a face drawn as stars and lines in a night sky or on a printed star chart.
- ink_wash: a sumi-e style brush-and-ink face on rice paper with a red seal.
- road_sign: a face pictogram on a traffic or information sign outdoors.
- thermal_camera: a false-colour thermal-camera view of a head with a HUD overlay.
- object_collage: a face laid out from buttons, beads, pebbles, leaves and yarn.

Seeding: image i of either class uses the scene seed sequence
``np.random.SeedSequence([seed, i])`` (identical for both classes). ``render`` derives two
child streams from it without mutating it, ``SeedSequence(ss.entropy,
spawn_key=(*ss.spawn_key, k))`` with k=0 for the scene (style, layout, head, eyes, colours,
background, clutter, post-processing) and k=1 for the mouth (width, bend magnitude,
thickness, open/closed, teeth, tongue, colour). The label only sets ``sign`` (+1 happy,
-1 sad), which flips the sign of the mouth's bend, so a happy and a sad twin differ only
around the mouth.

Report-only: never use this set to tune a default, pick a model or choose a threshold; it is meant to stay unseen.
"""

from __future__ import annotations

import argparse
import itertools
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

import cv2
import numpy as np

CLASSES = ("happy", "sad")
MARKER = "REMOTE_FACES.json"
GENERATOR = "remote_faces"
VERSION = 1
STYLES = (
    "denim_embroidery",
    "pool_ripples",
    "wood_marquetry",
    "azulejo_tile",
    "coin_emboss",
    "spray_stencil",
    "shadow_puppet",
    "constellation",
    "ink_wash",
    "road_sign",
    "thermal_camera",
    "object_collage",
)

_SHIFT = 4
_ONE = 1 << _SHIFT
_TAU = 2.0 * math.pi
F32 = np.float32
Rng = np.random.Generator
Img = np.ndarray
Color = Sequence[float]

# --------------------------------------------------------------------------------------
# small drawing helpers
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _grid(d: int) -> tuple[np.ndarray, np.ndarray]:
    """Return read-only (xx, yy) pixel coordinate grids for a d x d canvas."""
    yy, xx = np.mgrid[0:d, 0:d].astype(F32)
    xx.setflags(write=False)
    yy.setflags(write=False)
    return xx, yy


def _col(c: Color) -> np.ndarray:
    """Colour tuple as a float32 array."""
    return np.asarray(c, F32)


def _pick(rng: Rng, seq: Sequence):
    """Pick one element of seq with rng."""
    return seq[int(rng.integers(len(seq)))]


def _pick_u(u: float, seq: Sequence):
    """Pick one element of seq with a uniform number u in [0, 1)."""
    return seq[min(len(seq) - 1, int(u * len(seq)))]


def _fix(pts: np.ndarray) -> np.ndarray:
    """Float points to OpenCV fixed-point int32 coordinates."""
    return np.round(np.asarray(pts, np.float64).reshape(-1, 2) * _ONE).astype(np.int32)


def _fillr(h: int, w: int, polys: Sequence[np.ndarray]) -> np.ndarray:
    """Anti-aliased filled polygons as a float mask of shape (h, w)."""
    m = np.zeros((h, w), np.uint8)
    cv2.fillPoly(m, [_fix(q) for q in polys], 255, cv2.LINE_AA, _SHIFT)
    return m.astype(F32) * (1.0 / 255.0)


def _fill(d: int, *polys: np.ndarray) -> np.ndarray:
    """Anti-aliased filled polygons as a float d x d mask."""
    return _fillr(d, d, polys)


def _lines(d: int, pts: np.ndarray, th: float, closed: bool = False) -> np.ndarray:
    """Anti-aliased polyline of thickness th as a float d x d mask."""
    m = np.zeros((d, d), np.uint8)
    cv2.polylines(m, [_fix(pts)], closed, 255, max(1, round(float(th))), cv2.LINE_AA, _SHIFT)
    return m.astype(F32) * (1.0 / 255.0)


def _ell(cx: float, cy: float, ax: float, ay: float, rot: float = 0.0, n: int = 64) -> np.ndarray:
    """Points of a rotated ellipse."""
    t = np.linspace(0.0, _TAU, n, endpoint=False)
    x, y = ax * np.cos(t), ay * np.sin(t)
    c, s = math.cos(rot), math.sin(rot)
    return np.stack([cx + x * c - y * s, cy + x * s + y * c], 1)


def _disc(d: int, c: Sequence[float], r: float) -> np.ndarray:
    """Anti-aliased disc mask."""
    return _fill(d, _ell(c[0], c[1], r, r, n=max(16, min(96, int(r * 1.5)))))


def _paint(img: Img, a: np.ndarray, col, k: float = 1.0) -> None:
    """Blend colour (or colour image) col into img in place with alpha mask a."""
    aa = a[..., None] * k if a.ndim == 2 else a * k
    img += (np.asarray(col, F32) - img) * aa


def _blur(a: np.ndarray, s: float) -> np.ndarray:
    """Gaussian blur with sigma s (no-op for tiny sigma)."""
    if s < 0.05:
        return a
    return cv2.GaussianBlur(a, (0, 0), s)


def _shift(a: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Translate a mask by (dx, dy) pixels."""
    h, w = a.shape[:2]
    mat = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
    return cv2.warpAffine(a, mat, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def _drop(img: Img, a: np.ndarray, dx: float, dy: float, s: float, k: float) -> None:
    """Darken img under a shifted, blurred copy of mask a (a soft drop shadow)."""
    sh = _blur(_shift(a, dx, dy), s)
    img *= (1.0 - k * sh)[..., None]


def _noise(rng: Rng, d: int, cells: int, octaves: int = 1) -> np.ndarray:
    """Smooth value noise in [0, 1] on a d x d canvas."""
    out = np.zeros((d, d), F32)
    amp, tot = 1.0, 0.0
    for o in range(octaves):
        c = max(1, int(cells * 2**o))
        g = rng.random((c + 1, c + 1), dtype=F32)
        out += amp * cv2.resize(g, (d, d), interpolation=cv2.INTER_CUBIC)
        tot += amp
        amp *= 0.5
    return np.clip(out / tot, 0.0, 1.0)


def _stripes(d: int, ang: float, period: float) -> np.ndarray:
    """Sinusoidal stripes in [0, 1] varying along direction ang."""
    xx, yy = _grid(d)
    proj = xx * math.cos(ang) + yy * math.sin(ang)
    return 0.5 + 0.5 * np.sin(proj * (_TAU / period))


def _resample(pts: np.ndarray, step: float) -> np.ndarray:
    """Resample a polyline at roughly equal arc-length steps (ends kept)."""
    pts = np.asarray(pts, np.float64)
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(2, round(float(s[-1] / max(step, 1e-6))) + 1)
    q = np.linspace(0.0, s[-1], n)
    return np.stack([np.interp(q, s, pts[:, 0]), np.interp(q, s, pts[:, 1])], 1)


def _brush(d: int, pts: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Variable-width stroke along pts (a brush mark) as a float mask."""
    pts = np.asarray(pts, np.float64)
    widths = np.maximum(np.asarray(widths, np.float64), 1.0)
    tan = np.gradient(pts, axis=0)
    tan /= np.linalg.norm(tan, axis=1, keepdims=True) + 1e-9
    nrm = np.stack([-tan[:, 1], tan[:, 0]], 1)
    half = widths[:, None] / 2
    poly = np.concatenate([pts + nrm * half, (pts - nrm * half)[::-1]])
    m = _fill(d, poly)
    for i in (0, -1):
        m = np.maximum(m, _disc(d, pts[i], half[i, 0]))
    return m


def _stitches(
    d: int, pts: np.ndarray, th: float, step: float, gap: float = 0.15
) -> tuple[np.ndarray, np.ndarray]:
    """Thread stitches along a polyline: (stitch mask, highlight mask)."""
    q = _resample(pts, step)
    m = np.zeros((d, d), np.uint8)
    hl = np.zeros((d, d), np.uint8)
    t = max(1, round(float(th)))
    th_hl = max(1, round(float(th * 0.35)))
    for a, b in itertools.pairwise(q):
        v = b - a
        ln = float(np.hypot(*v)) + 1e-9
        a2, b2 = a + v * gap / 2, b - v * gap / 2
        cv2.line(m, tuple(_fix(a2)[0]), tuple(_fix(b2)[0]), 255, t, cv2.LINE_AA, _SHIFT)
        off = np.array([v[1], -v[0]]) / ln * th * 0.2
        a3, b3 = a + v * 0.25 + off, b - v * 0.25 + off
        cv2.line(hl, tuple(_fix(a3)[0]), tuple(_fix(b3)[0]), 255, th_hl, cv2.LINE_AA, _SHIFT)
    return m.astype(F32) / 255.0, hl.astype(F32) / 255.0


def _edge(mask: np.ndarray, it: int = 1) -> np.ndarray:
    """Thin outline of a mask (morphological gradient)."""
    m8 = (mask > 0.5).astype(np.uint8)
    g = cv2.morphologyEx(m8, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8), iterations=it)
    return g.astype(F32)


def _text_mask(d: int, text: str, org: tuple[float, float], scale: float, th: int) -> np.ndarray:
    """Hershey text drawn into a float mask."""
    m = np.zeros((d, d), np.uint8)
    cv2.putText(
        m,
        text,
        (int(org[0]), int(org[1])),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        255,
        max(1, th),
        cv2.LINE_AA,
    )
    return m.astype(F32) / 255.0


def _rand_text(rng: Rng, n: int, digits: bool = False) -> str:
    """A random upper-case (or digit) string of length n."""
    alpha = "0123456789" if digits else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(alpha[int(i)] for i in rng.integers(0, len(alpha), n))


# --------------------------------------------------------------------------------------
# face geometry (scene stream) and mouth geometry (mouth stream + sign)
# --------------------------------------------------------------------------------------


@dataclass
class Face:
    """A face frame: centre, half-height r (px), half-width/half-height aspect, rotation."""

    cx: float
    cy: float
    r: float
    aspect: float
    ang: float

    def xy(self, u, v) -> np.ndarray:
        """Face-local (u right, v down, units of r) to canvas points."""
        c, s = math.cos(self.ang), math.sin(self.ang)
        u = np.asarray(u, np.float64) * self.r
        v = np.asarray(v, np.float64) * self.r
        return np.stack([self.cx + u * c - v * s, self.cy + u * s + v * c], -1)

    def ell(
        self, u0: float, v0: float, ru: float, rv: float, rot: float = 0.0, n: int = 64
    ) -> np.ndarray:
        """Canvas points of an ellipse given in face-local units."""
        e = _ell(u0, v0, ru, rv, rot, n)
        return self.xy(e[:, 0], e[:, 1])

    def local(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """Face-local (u, v) coordinate maps for the whole canvas."""
        xx, yy = _grid(d)
        c, s = math.cos(self.ang), math.sin(self.ang)
        dx, dy = xx - self.cx, yy - self.cy
        return (dx * c + dy * s) / self.r, (-dx * s + dy * c) / self.r


@dataclass
class Layout:
    """Label-free face layout drawn from the scene stream."""

    face: Face
    eye_u: float
    eye_v: float
    eye_rx: float
    eye_ry: float
    mouth_v: float
    brow: bool
    brow_dv: float
    nose: int
    nose_v: float


def _layout(
    rs: Rng,
    d: int,
    scale: tuple[float, float] = (0.32, 0.93),
    rot: float = 20.0,
    aspect: tuple[float, float] = (0.74, 0.92),
) -> Layout:
    """Draw a face frame and feature positions (face height = scale * canvas)."""
    p = d / 64
    r = rs.uniform(*scale) * d / 2
    asp = rs.uniform(*aspect)
    ang = math.radians(rs.uniform(-rot, rot))
    mx, my = r * asp * 0.92, r * 0.88
    cx = rs.uniform(min(mx, d / 2), max(d - mx, d / 2))
    cy = rs.uniform(min(my, d / 2), max(d - my, d / 2))
    face = Face(cx, cy, r, asp, ang)
    eye_rx = max(rs.uniform(0.08, 0.14), 0.9 * p / r)
    eye_ry = eye_rx * rs.uniform(0.9, 1.45)
    eye_v = rs.uniform(-0.32, -0.1)
    mouth_v = rs.uniform(0.4, 0.5)
    return Layout(
        face=face,
        eye_u=rs.uniform(0.3, 0.42) * asp,
        eye_v=eye_v,
        eye_rx=eye_rx,
        eye_ry=eye_ry,
        mouth_v=mouth_v,
        brow=bool(rs.random() < 0.45),
        brow_dv=rs.uniform(0.12, 0.2),
        nose=int(rs.integers(0, 4)),
        nose_v=min(eye_v + 0.3, 0.12),
    )


@dataclass
class Mouth:
    """Mouth geometry in mouth-local pixels (x right, y down) plus placement."""

    kind: str
    c0: np.ndarray
    ang: float
    mw: float
    sag: float
    th: float
    x: np.ndarray
    yc: np.ndarray
    top: np.ndarray
    bot: np.ndarray
    teeth: bool
    tooth_f: float
    tongue: bool
    ticks: bool
    tone: float
    rand: np.ndarray

    def place(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Mouth-local pixels to canvas points."""
        c, s = math.cos(self.ang), math.sin(self.ang)
        x = np.asarray(x, np.float64)
        y = np.asarray(y, np.float64)
        return np.stack([self.c0[0] + x * c - y * s, self.c0[1] + x * s + y * c], -1)

    def center(self) -> np.ndarray:
        """Canvas points along the mouth's centre line, left to right."""
        return self.place(self.x, self.yc)

    def loop(self) -> np.ndarray:
        """Closed outline (upper boundary left to right, lower boundary back)."""
        return self.place(
            np.concatenate([self.x, self.x[::-1]]), np.concatenate([self.top, self.bot[::-1]])
        )


def _mouth(
    rm: Rng,
    lay: Layout,
    sign: int,
    d: int,
    weights: Sequence[float] = (0.45, 0.25, 0.30),
    min_th: float = 1.1,
    th_scale: float = 1.0,
) -> Mouth:
    """Draw mouth parameters from the mouth stream; sign only flips the bend."""
    p = d / 64
    f = lay.face
    w = np.asarray(weights, np.float64)
    w = w / w.sum()
    kind = ("line", "lips", "open")[int(rm.choice(3, p=w))]
    frac = rm.uniform(0.36, 0.58)
    k = rm.uniform(0.13, 0.32)
    alpha = rm.uniform(0.0, 0.45)
    tilt = rm.uniform(-0.05, 0.05)
    th_rel = rm.uniform(0.05, 0.1)
    o_top = rm.uniform(0.45, 1.0)
    o_bot = rm.uniform(0.55, 1.0)
    beta = rm.uniform(0.5, 1.0)
    lip_t = rm.uniform(0.3, 0.5)
    lip_u = rm.uniform(0.7, 1.1)
    teeth = bool(rm.random() < 0.55)
    tooth_f = rm.uniform(0.3, 0.5)
    tongue = bool(rm.random() < 0.35)
    ticks = bool(rm.random() < 0.18)
    tone = float(rm.random())
    rand = rm.random(64)

    r = f.r
    mw = frac * 2 * f.aspect * r
    mw = min(max(mw, 8.5 * p), 0.42 * d)
    sag = min(max(k * mw, 2.2 * p), 0.42 * mw, 0.28 * r)
    sag = max(sag, 2.0 * p)
    th = max(th_rel * r * th_scale, min_th * p)
    n = 41
    t = np.linspace(-1.0, 1.0, n)
    prof = (1 - alpha) * t**2 + alpha * t**4 - ((1 - alpha) / 3 + alpha / 5)
    x = t * mw / 2
    yc = -sign * sag * prof
    if kind == "open":
        wprof = (1 - t**2) ** beta
        ot, ob = min(o_top * sag, 0.22 * r), min(o_bot * sag, 0.25 * r)
        ot, ob = max(ot, 1.0 * p), max(ob, 1.3 * p)
        tot = ot + ob
        if tot > 0.5 * mw:
            ot, ob = ot * 0.5 * mw / tot, ob * 0.5 * mw / tot
        top, bot = yc - ot * wprof, yc + ob * wprof
    elif kind == "lips":
        h = max(lip_t * sag, 0.9 * p) * (0.3 + 0.7 * (1 - t**2) ** 0.7)
        top, bot = yc - h * lip_u, yc + h * (2 - lip_u)
    else:
        top, bot = yc.copy(), yc.copy()
    return Mouth(
        kind=kind,
        c0=f.xy(0.0, lay.mouth_v),
        ang=f.ang + tilt,
        mw=mw,
        sag=sag,
        th=th,
        x=x,
        yc=yc,
        top=top,
        bot=bot,
        teeth=teeth,
        tooth_f=tooth_f,
        tongue=tongue,
        ticks=ticks,
        tone=tone,
        rand=rand,
    )


def _mouth_masks(m: Mouth, d: int, th: float | None = None) -> dict[str, np.ndarray]:
    """Rasterise the mouth: shape, inner (open), teeth, tongue, edge and seam masks."""
    th = m.th if th is None else th
    z = np.zeros((d, d), F32)
    out = {"inner": z, "teeth": z, "tongue": z, "seam": z}
    if m.kind == "line":
        shape = _lines(d, m.center(), th)
        if m.ticks:
            hl = 0.09 * m.mw + 0.5 * th
            for i in (0, -1):
                j = 1 if i == 0 else -2
                tx, ty = m.x[i] - m.x[j], m.yc[i] - m.yc[j]
                ln = math.hypot(tx, ty) + 1e-9
                nx, ny = -ty / ln, tx / ln
                seg = m.place(
                    np.array([m.x[i] - nx * hl, m.x[i] + nx * hl]),
                    np.array([m.yc[i] - ny * hl, m.yc[i] + ny * hl]),
                )
                shape = np.maximum(shape, _lines(d, seg, max(1.0, th * 0.7)))
        out["shape"] = shape
        out["edge"] = shape
        return out
    loop = m.loop()
    region = _fill(d, loop)
    edge = _lines(d, loop, max(1.0, th * 0.45), closed=True)
    out["shape"] = np.maximum(region, edge)
    out["edge"] = edge
    if m.kind == "lips":
        out["seam"] = _lines(d, m.center(), max(1.0, th * 0.35))
        return out
    out["inner"] = region
    if m.teeth:
        tb = m.top + m.tooth_f * (m.bot - m.top)
        poly = m.place(np.concatenate([m.x, m.x[::-1]]), np.concatenate([m.top, tb[::-1]]))
        out["teeth"] = _fill(d, poly) * region
    if m.tongue:
        mid = len(m.x) // 2
        gap = m.bot[mid] - m.top[mid]
        e = _ell(0.0, m.bot[mid] - 0.3 * gap, 0.27 * m.mw, 0.45 * gap, 0.0, 40)
        out["tongue"] = _fill(d, m.place(e[:, 0], e[:, 1])) * region * (1 - out["teeth"])
    return out


def _eyes(lay: Layout, scale: float = 1.0) -> list[np.ndarray]:
    """Canvas outlines of both eyes."""
    f = lay.face
    return [
        f.ell(sx * lay.eye_u, lay.eye_v, lay.eye_rx * scale, lay.eye_ry * scale, n=40)
        for sx in (-1, 1)
    ]


def _brows(lay: Layout) -> list[np.ndarray]:
    """Canvas polylines of two flat, gently arched brows."""
    f = lay.face
    out = []
    for sx in (-1, 1):
        u = sx * lay.eye_u + np.linspace(-1.3, 1.3, 9) * lay.eye_rx
        t = np.linspace(-1, 1, 9)
        v = lay.eye_v - lay.eye_ry - lay.brow_dv + 0.03 * t**2
        out.append(f.xy(u, v))
    return out


def _nose(lay: Layout) -> np.ndarray | None:
    """Canvas polyline of a small nose (None when the layout has no nose line)."""
    f = lay.face
    top = lay.eye_v + 0.08
    if lay.nose == 2:
        return f.xy(np.array([0.0, 0.03, -0.04]), np.array([top, lay.nose_v, lay.nose_v]))
    if lay.nose == 3:
        t = np.linspace(-0.9, 0.9, 9)
        return f.xy(0.07 * t, lay.nose_v - 0.03 * (1 - t**2))
    return None


# --------------------------------------------------------------------------------------
# textures shared by several styles
# --------------------------------------------------------------------------------------

_WOODS = {
    "maple": ((0.93, 0.82, 0.62), (0.78, 0.60, 0.38)),
    "ash": ((0.90, 0.84, 0.72), (0.70, 0.62, 0.48)),
    "holly": ((0.96, 0.94, 0.87), (0.86, 0.83, 0.74)),
    "oak": ((0.82, 0.66, 0.44), (0.60, 0.43, 0.25)),
    "cherry": ((0.78, 0.46, 0.30), (0.55, 0.28, 0.16)),
    "padauk": ((0.78, 0.28, 0.16), (0.52, 0.15, 0.08)),
    "walnut": ((0.48, 0.33, 0.22), (0.26, 0.16, 0.10)),
    "wenge": ((0.34, 0.25, 0.20), (0.14, 0.10, 0.08)),
    "ebony": ((0.14, 0.11, 0.09), (0.05, 0.04, 0.04)),
}
_LIGHT_WOODS = ("maple", "ash", "holly", "oak")
_DARK_WOODS = ("cherry", "walnut", "wenge", "padauk")


def _wood(rng: Rng, d: int, name: str, ang: float | None = None) -> Img:
    """Procedural wood-grain texture of the named species."""
    xx, yy = _grid(d)
    light, dark = (_col(c) for c in _WOODS[name])
    a = rng.uniform(0, math.pi) if ang is None else ang
    v = -xx * math.sin(a) + yy * math.cos(a)
    warp = _noise(rng, d, 2, 2)
    freq = rng.uniform(5, 14) / d
    g = np.sin(_TAU * (v * freq + warp * rng.uniform(0.3, 1.0)))
    g = (0.5 + 0.5 * g) ** rng.uniform(1.5, 4.0)
    fib1 = cv2.GaussianBlur(rng.random((1, 3 * d), dtype=F32), (0, 0), 1.0)[0]
    idx = np.clip((v + 1.2 * d).astype(np.int32), 0, 3 * d - 1)
    fib = fib1[idx]
    t = np.clip(0.55 * g + 0.3 * (fib - 0.5) + 0.25 * warp, 0, 1)
    return light + (dark - light) * t[..., None]


def _paper(rng: Rng, d: int, base: Color, fib: float = 0.05) -> Img:
    """Paper with soft mottling and fibres."""
    p = d / 64
    img = np.empty((d, d, 3), F32)
    img[:] = _col(base)
    mott = _noise(rng, d, 4, 3) - 0.5
    fine = _noise(rng, d, max(4, d // 4)) - 0.5
    img *= (1 + 0.06 * mott + fib * fine)[..., None]
    fm = np.zeros((d, d), np.uint8)
    for _ in range(int(rng.integers(10, 30))):
        x, y = rng.uniform(0, d, 2)
        a = rng.uniform(0, math.pi)
        ln = rng.uniform(2, 7) * p
        pts = np.array([[x, y], [x + ln * math.cos(a), y + ln * math.sin(a)]])
        cv2.polylines(fm, [_fix(pts)], False, 255, 1, cv2.LINE_AA, _SHIFT)
    img *= (1 - 0.08 * fm.astype(F32) / 255)[..., None]
    return img


# --------------------------------------------------------------------------------------
# style: denim embroidery
# --------------------------------------------------------------------------------------

_DARK_THREADS = ((0.07, 0.07, 0.09), (0.62, 0.05, 0.08), (0.10, 0.12, 0.35), (0.30, 0.16, 0.08))
_LIGHT_THREADS = ((0.96, 0.95, 0.9), (0.97, 0.78, 0.3), (0.98, 0.62, 0.72), (0.99, 0.58, 0.3))


def _thread_fill(img: Img, mask: np.ndarray, col: Color, ang: float, p: float) -> None:
    """Satin-stitch fill: shadowed, stripes across direction ang."""
    d = img.shape[0]
    _drop(img, mask, 0.4 * p, 0.6 * p, 0.6 * p, 0.35)
    sat = 0.74 + 0.26 * np.abs(np.sin(_stripes(d, ang, 2.6 * p) * math.pi))
    _paint(img, mask, _col(col) * sat[..., None])


def _thread_line(
    img: Img, pts: np.ndarray, col: Color, th: float, step: float, p: float, gap: float = 0.12
) -> None:
    """Back-stitched thread line with a shadow and a sheen."""
    d = img.shape[0]
    st, hl = _stitches(d, pts, th, step, gap)
    _drop(img, st, 0.35 * p, 0.5 * p, 0.5 * p, 0.4)
    c = _col(col)
    _paint(img, st, c)
    _paint(img, hl * st, np.minimum(c * 1.25 + 0.12, 1.0), 0.6)


def _s_denim(rs: Rng, rm: Rng, sign: int, d: int) -> Img:
    """Embroidered face on denim (felt patch or direct stitching)."""
    p = d / 64
    xx, yy = _grid(d)
    base = _col(
        _pick(rs, [(0.09, 0.14, 0.30), (0.16, 0.25, 0.46), (0.32, 0.45, 0.64), (0.12, 0.12, 0.15)])
    )
    a = rs.uniform(0.55, 1.05)
    period = rs.uniform(2.2, 3.4) * p
    twill = np.sin((xx * math.cos(a) + yy * math.sin(a)) * (_TAU / period))
    fine = _noise(rs, d, max(4, d // 3))
    fade = _noise(rs, d, 3, 2)
    lum = 0.82 + 0.09 * twill + 0.22 * (fine - 0.5) + rs.uniform(0.2, 0.6) * (fade - 0.5)
    img = base * lum[..., None]
    img += (0.35 * np.clip(fine - 0.7, 0, 1))[..., None]
    gold = (0.86, 0.62, 0.26)
    if rs.random() < 0.55:
        pos = rs.uniform(0.04, 0.16) * d
        edge = int(rs.integers(4))
        for off in (0.0, 1.0):
            q = pos + off * 3.2 * p
            q = q if edge % 2 == 0 else d - q
            pts = (
                np.array([[q, -4.0], [q, d + 4.0]])
                if edge < 2
                else np.array([[-4.0, q], [d + 4.0, q]])
            )
            if off == 0.0:
                band = _lines(d, pts + (1.6 * p if edge % 2 == 0 else -1.6 * p), 6 * p)
                img *= (1 - 0.2 * band)[..., None]
            _thread_line(img, pts, gold, 1.0 * p, 2.4 * p, p, 0.25)
    if rs.random() < 0.3:
        c = rs.uniform(0.08, 0.92, 2) * d
        rv = rs.uniform(2.0, 3.0) * p
        disc = _disc(d, c, rv)
        _drop(img, disc, 0.5 * p, 0.7 * p, 0.7 * p, 0.5)
        _paint(img, disc, (0.66, 0.42, 0.22))
        _paint(img, _disc(d, c - 0.3 * rv, 0.4 * rv), (0.95, 0.8, 0.6), 0.8)

    lay = _layout(rs, d, (0.34, 0.92), 18)
    f = lay.face
    outline = f.ell(0, 0, f.aspect, 1.0, n=96)
    patch = rs.random() < 0.65
    if patch:
        pc = _col(
            _pick(
                rs,
                [
                    (0.98, 0.85, 0.25),
                    (0.96, 0.80, 0.70),
                    (0.95, 0.94, 0.88),
                    (0.60, 0.82, 0.52),
                    (0.97, 0.66, 0.68),
                    (0.98, 0.62, 0.22),
                    (0.62, 0.80, 0.95),
                ],
            )
        )
        pm = _fill(d, outline)
        _drop(img, pm, 1.0 * p, 1.4 * p, 1.2 * p, 0.5)
        felt = 0.93 + 0.14 * (_noise(rs, d, max(4, d // 6)) - 0.5)
        _paint(img, pm, pc * felt[..., None])
        ring = _lines(d, outline, max(2.0, 0.08 * f.r), closed=True)
        ang_map = np.arctan2(yy - f.cy, xx - f.cx)
        nst = max(24, int(_TAU * f.r / (1.3 * p)))
        satin = 0.72 + 0.28 * np.abs(np.sin(ang_map * (nst / 2)))
        bc = _col(
            _pick(rs, [(0.55, 0.1, 0.1), (0.1, 0.1, 0.12), (0.9, 0.9, 0.85), (0.2, 0.3, 0.6)])
        )
        _paint(img, ring, bc * satin[..., None])
        feat = _pick(rs, _DARK_THREADS[:3])
        threads = _DARK_THREADS
    else:
        feat = _pick(rs, _LIGHT_THREADS)
        _thread_line(img, np.vstack([outline, outline[:1]]), feat, 1.4 * p, 2.6 * p, p, 0.1)
        threads = _LIGHT_THREADS
    eye_kind = int(rs.integers(2))
    for e in _eyes(lay):
        em = _fill(d, e)
        if eye_kind == 0:
            _thread_fill(img, em, feat, f.ang, p)
        else:
            _drop(img, em, 0.4 * p, 0.6 * p, 0.6 * p, 0.4)
            _paint(img, em, feat)
            c = e.mean(0)
            _paint(
                img, _disc(d, c - 0.3 * lay.eye_rx * f.r, 0.3 * lay.eye_rx * f.r), (1, 1, 1), 0.5
            )
    if lay.brow:
        for b in _brows(lay):
            _thread_line(img, b, feat, 1.1 * p, 2.2 * p, p)
    nose = _nose(lay)
    if nose is not None:
        _thread_line(img, nose, feat, 1.0 * p, 2.0 * p, p)
    if patch and rs.random() < 0.35:
        for sx in (-1, 1):
            cm = _fill(d, f.ell(sx * lay.eye_u * 1.15, 0.22, 0.13, 0.09))
            _thread_fill(img, cm, (0.97, 0.55, 0.6), f.ang + 0.8, p)

    m = _mouth(rm, lay, sign, d, (0.5, 0.2, 0.3), min_th=1.3)
    mk = _mouth_masks(m, d)
    tc = _pick_u(m.tone, threads)
    step = max(2.4 * p, m.mw / 6)
    if m.kind == "line":
        _thread_line(img, m.center(), tc, m.th, step, p)
        if m.ticks:
            _paint(img, np.clip(mk["shape"] - _lines(d, m.center(), m.th), 0, 1), tc)
    elif m.kind == "lips":
        if patch:
            lips = [(0.82, 0.12, 0.15), (0.92, 0.42, 0.5), (0.6, 0.05, 0.1)]
        else:
            lips = [(1.0, 0.45, 0.5), (0.98, 0.62, 0.72), (0.99, 0.58, 0.3)]
        lc = _pick_u(m.rand[0], lips)
        _thread_fill(img, mk["shape"], lc, m.ang, p)
        _thread_line(img, m.center(), _DARK_THREADS[0], max(1.0, 0.5 * m.th), step, p)
    else:
        _thread_fill(img, mk["inner"], (0.18, 0.05, 0.07), m.ang, p)
        if m.teeth:
            _paint(img, mk["teeth"], (0.97, 0.96, 0.92))
        if m.tongue:
            _paint(img, mk["tongue"], (0.92, 0.4, 0.45))
        loop = m.loop()
        _thread_line(img, np.vstack([loop, loop[:1]]), tc, max(1.0 * p, 0.6 * m.th), step, p)
    return img


# --------------------------------------------------------------------------------------
# style: pool ripples
# --------------------------------------------------------------------------------------


def _s_pool(rs: Rng, rm: Rng, sign: int, d: int) -> Img:
    """A face painted on a tiled pool floor, seen through rippling water."""
    p = d / 64
    xx, yy = _grid(d)
    tile = rs.uniform(5, 11) * p
    ox, oy = rs.uniform(0, tile, 2)
    tcol = _col(_pick(rs, [(0.86, 0.94, 0.96), (0.93, 0.95, 0.96), (0.72, 0.88, 0.93)]))
    gw = rs.uniform(0.35, 0.7) * p
    fx, fy = (xx + ox) % tile, (yy + oy) % tile
    grout = _blur(((fx < gw) | (fy < gw)).astype(F32), 0.3 * p)
    img = tcol * (0.96 + 0.08 * (_noise(rs, d, 12) - 0.5))[..., None]
    _paint(img, grout, tcol * 0.72)

    lay = _layout(rs, d, (0.34, 0.92), 20)
    f = lay.face
    outline = f.ell(0, 0, f.aspect, 1.0, n=96)
    mode = int(rs.integers(3))
    fill_c = _col(_pick(rs, [(0.98, 0.82, 0.15), (0.98, 0.55, 0.15), (0.95, 0.35, 0.3), (1, 1, 1)]))
    dark = _col(_pick(rs, [(0.05, 0.08, 0.25), (0.08, 0.08, 0.08), (0.35, 0.05, 0.1)]))
    if mode == 2:
        face_c, feat = dark, _col((0.98, 0.97, 0.92))
    else:
        face_c, feat = fill_c, dark
    if mode in (0, 2):
        _paint(img, _fill(d, outline), face_c)
    _paint(img, _lines(d, outline, max(1.4 * p, 0.06 * f.r), True), feat)
    for e in _eyes(lay):
        _paint(img, _fill(d, e), feat)
        c = e.mean(0) - 0.3 * lay.eye_rx * f.r
        _paint(img, _disc(d, c, 0.28 * lay.eye_rx * f.r), face_c if mode != 1 else tcol)
    if lay.brow:
        for b in _brows(lay):
            _paint(img, _lines(d, b, max(1.0 * p, 0.04 * f.r)), feat)
    m = _mouth(rm, lay, sign, d, (0.5, 0.2, 0.3), min_th=1.4)
    mk = _mouth_masks(m, d)
    if m.kind == "open":
        _paint(img, mk["inner"], feat * 0.6 if mode != 2 else (0.4, 0.05, 0.1))
        _paint(img, mk["teeth"], (1, 1, 1))
        _paint(img, mk["tongue"], (0.9, 0.35, 0.4))
        _paint(img, mk["edge"], feat)
    elif m.kind == "lips":
        _paint(img, mk["shape"], _pick_u(m.tone, [(0.85, 0.1, 0.15), feat]))
        _paint(img, mk["seam"], feat * 0.5)
    else:
        _paint(img, mk["shape"], feat)
    img *= (1 - 0.12 * grout)[..., None]

    amp = rs.uniform(0.25, 0.5) * p
    dx = np.zeros((d, d), F32)
    dy = np.zeros((d, d), F32)
    for _ in range(2):
        a = rs.uniform(0, _TAU)
        lam = rs.uniform(12, 28) * p
        s = np.sin((xx * math.cos(a) + yy * math.sin(a)) * (_TAU / lam) + rs.uniform(0, _TAU))
        dx += amp * math.cos(a) * s
        dy += amp * math.sin(a) * s
    rc = rs.uniform(0, d, 2)
    rr = np.hypot(xx - rc[0], yy - rc[1]) + 1e-3
    ring = np.sin(rr * (_TAU / (rs.uniform(6, 12) * p))) * np.exp(-rr / (0.5 * d))
    ar = rs.uniform(0.2, 0.6) * p
    dx += ar * ring * (xx - rc[0]) / rr
    dy += ar * ring * (yy - rc[1]) / rr
    img = cv2.remap(img, xx + dx, yy + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    wcol = _col(_pick(rs, [(0.55, 0.85, 0.95), (0.45, 0.8, 0.85), (0.62, 0.9, 0.9)]))
    a = rs.uniform(0, _TAU)
    depth = np.clip(0.5 + ((xx - d / 2) * math.cos(a) + (yy - d / 2) * math.sin(a)) / d, 0, 1)
    img = img * wcol * (0.88 + 0.12 * (1 - depth))[..., None]
    img += _col((0.0, 0.06, 0.1)) * depth[..., None]
    n1 = _noise(rs, d, int(rs.integers(5, 9)), 2)
    n2 = _noise(rs, d, int(rs.integers(4, 8)), 2)
    caust = (1 - np.abs(2 * n1 - 1)) ** 10 + 0.7 * (1 - np.abs(2 * n2 - 1)) ** 12
    img += _col((0.85, 1.0, 1.0)) * (rs.uniform(0.12, 0.25) * np.clip(caust, 0, 1.2))[..., None]
    for _ in range(int(rs.integers(0, 4))):
        c = rs.uniform(0, d, 2)
        g = _fill(
            d,
            _ell(c[0], c[1], rs.uniform(2, 6) * p, rs.uniform(0.4, 1.0) * p, rs.uniform(-0.4, 0.4)),
        )
        _paint(img, _blur(g, 0.5 * p), (1, 1, 1), 0.5)
    return img


# --------------------------------------------------------------------------------------
# style: wood marquetry
# --------------------------------------------------------------------------------------


def _inlay(img: Img, mask: np.ndarray, tex, cut: float) -> None:
    """Inlay a veneer piece: fill with its texture and draw the dark cut line."""
    _paint(img, mask, tex)
    _paint(img, _blur(_edge(mask), 0.3), (0.1, 0.07, 0.05), cut)


def _s_wood(rs: Rng, rm: Rng, sign: int, d: int) -> Img:
    """A face inlaid from contrasting wood veneers."""
    p = d / 64
    xx, yy = _grid(d)
    bg_name = _pick(rs, list(_WOODS)[:8])
    img = _wood(rs, d, bg_name)
    bg_light = bg_name in _LIGHT_WOODS
    cut = rs.uniform(0.6, 0.9)
    if rs.random() < 0.5:
        bw = rs.uniform(0.04, 0.07) * d
        inner = (xx > bw) & (xx < d - bw) & (yy > bw) & (yy < d - bw)
        band = (~inner).astype(F32)
        chk = ((np.floor((xx + yy) / (1.6 * p)) % 2) == 0).astype(F32)
        strip = (
            _col(_WOODS["holly"][0])
            + (_col(_WOODS["ebony"][0]) - _col(_WOODS["holly"][0])) * chk[..., None]
        )
        _paint(img, band, strip)
        _paint(img, _blur(_edge(band), 0.3), (0.1, 0.07, 0.05), cut)

    lay = _layout(rs, d, (0.34, 0.9), 18)
    f = lay.face
    u, v = f.local(d)
    face_name = _pick(rs, _DARK_WOODS if bg_light else _LIGHT_WOODS)
    face_light = face_name in _LIGHT_WOODS
    ftex = _wood(rs, d, face_name)
    if rs.random() < 0.5:
        for sx in (-1, 1):
            _inlay(img, _fill(d, f.ell(sx * f.aspect * 0.98, 0.0, 0.16, 0.24)), ftex, cut)
    head = _fill(d, f.ell(0, 0, f.aspect, 1.0, n=96))
    _drop(img, head, 0.6 * p, 0.8 * p, 1.0 * p, 0.25)
    _inlay(img, head, ftex, cut)
    if rs.random() < 0.6:
        hair_name = _pick(rs, ["walnut", "wenge", "ebony", "cherry", "oak", "padauk"])
        htex = _wood(rs, d, hair_name)
        cap = _fill(d, f.ell(0, -0.08, f.aspect * 1.1, 1.0, n=96))
        line = -0.5 + 0.06 * np.sin(u * rs.uniform(6, 12) + rs.uniform(0, _TAU))
        hair = cap * np.clip((line - v) * f.r / p + 0.5, 0, 1)
        _inlay(img, hair, htex, cut)
    eye_tex = _wood(rs, d, "ebony" if face_light else "holly")
    pupil_tex = _wood(rs, d, "ebony")
    for e in _eyes(lay):
        em = _fill(d, e)
        _inlay(img, em, eye_tex, cut)
        if not face_light:
            c = e.mean(0)
            _inlay(img, _disc(d, c, 0.5 * lay.eye_rx * f.r), pupil_tex, cut)
    if lay.brow:
        bt = _wood(rs, d, "wenge" if face_light else "maple")
        for b in _brows(lay):
            _inlay(img, _lines(d, b, max(1.3 * p, 0.05 * f.r)), bt, cut)
    nose = _nose(lay)
    if nose is not None:
        _paint(img, _lines(d, nose, max(1.0, 0.5 * p)), (0.1, 0.07, 0.05), cut)
    if rs.random() < 0.3:
        ct = _wood(rs, d, "padauk" if face_light else "cherry")
        for sx in (-1, 1):
            _inlay(img, _fill(d, f.ell(sx * lay.eye_u * 1.1, 0.22, 0.12, 0.1)), ct, cut)

    m = _mouth(rm, lay, sign, d, (0.45, 0.25, 0.3), min_th=1.6)
    mk = _mouth_masks(m, d)
    if face_light:
        mname = _pick_u(m.tone, ["ebony", "wenge", "padauk", "walnut"])
    else:
        mname = _pick_u(
            m.tone, ["holly", "holly", "maple"] if face_name in ("walnut", "wenge") else ["holly"]
        )
    mtex = _wood(rm, d, mname)
    if m.kind == "line":
        _inlay(img, mk["shape"], mtex, cut)
    elif m.kind == "lips":
        _inlay(img, mk["shape"], _wood(rm, d, "padauk" if face_light else "holly"), cut)
        _paint(img, mk["seam"], (0.1, 0.07, 0.05), 0.9)
    else:
        if not face_light:
            band = _lines(d, m.loop(), max(1.4 * p, 0.5 * m.th), True)
            _inlay(img, np.maximum(band, mk["inner"]), _wood(rm, d, "holly"), cut)
        _inlay(img, mk["inner"], _wood(rm, d, "ebony"), cut)
        if m.teeth:
            _inlay(img, mk["teeth"], _wood(rm, d, "holly"), cut)
        if m.tongue:
            _inlay(img, mk["tongue"], _wood(rm, d, "padauk"), cut)

    a = rs.uniform(0, _TAU)
    ramp = ((xx - d / 2) * math.cos(a) + (yy - d / 2) * math.sin(a)) / d
    img *= (0.96 + rs.uniform(0.05, 0.2) * ramp)[..., None]
    c = rs.uniform(0.1, 0.9, 2) * d
    gl = _blur(_disc(d, c, rs.uniform(0.15, 0.35) * d), 0.1 * d)
    img += (rs.uniform(0.04, 0.12) * gl)[..., None]
    return img


# --------------------------------------------------------------------------------------
# style: azulejo tile
# --------------------------------------------------------------------------------------


def _s_azulejo(rs: Rng, rm: Rng, sign: int, d: int) -> Img:
    """A cobalt-painted face on glazed ceramic tiles."""
    p = d / 64
    xx, yy = _grid(d)
    glaze = _col((0.95, 0.94, 0.89)) * rs.uniform(0.95, 1.02)
    nt = int(_pick(rs, [1, 2, 2, 3, 3, 4]))
    tile = d / nt * rs.uniform(1.0, 1.25)
    ox, oy = rs.uniform(0, tile, 2)
    fx, fy = (xx + ox) % tile, (yy + oy) % tile
    ex = np.minimum(np.minimum(fx, tile - fx), np.minimum(fy, tile - fy))
    gw = rs.uniform(0.5, 1.0) * p
    ix = ((xx + ox) // tile).astype(np.int32)
    iy = ((yy + oy) // tile).astype(np.int32)
    tones = rs.uniform(-0.035, 0.035, (nt + 4, nt + 4)).astype(F32)
    img = glaze * (1 + tones[iy % (nt + 4), ix % (nt + 4)])[..., None]
    img *= (1 - 0.08 * np.exp(-np.maximum(ex - gw, 0) / (1.5 * p)))[..., None]
    _paint(img, _blur((ex < gw).astype(F32), 0.3 * p), (0.72, 0.7, 0.66))
    blue = _col(
        _pick(rs, [(0.08, 0.2, 0.58), (0.12, 0.25, 0.62), (0.05, 0.15, 0.45), (0.15, 0.3, 0.7)])
    )
    ochre = _col((0.86, 0.6, 0.16))
    pig = np.zeros((d, d), F32)
    yel = np.zeros((d, d), F32)

    motif = int(rs.integers(3))
    cr = rs.uniform(0.12, 0.22) * tile
    corners = []
    for i in range(-1, nt + 3):
        for j in range(-1, nt + 3):
            corners.append((i * tile - ox, j * tile - oy))
    cm = np.zeros((d, d), F32)
    for c in corners:
        if motif == 0:
            cm = np.maximum(cm, _disc(d, c, cr))
        elif motif == 1:
            for k in range(4):
                a = k * math.pi / 2 + math.pi / 4
                e = _ell(
                    c[0] + 0.8 * cr * math.cos(a),
                    c[1] + 0.8 * cr * math.sin(a),
                    0.55 * cr,
                    0.25 * cr,
                    a,
                    24,
                )
                cm = np.maximum(cm, _fill(d, e))
        else:
            cm = np.maximum(cm, _disc(d, c, 0.35 * cr))
            cm = np.maximum(
                cm, _lines(d, _ell(c[0], c[1], 1.1 * cr, 1.1 * cr, 0, 48), 0.8 * p, True)
            )
    pig = np.maximum(pig, cm * rs.uniform(0.6, 0.9))

    lay = _layout(rs, d, (0.36, 0.9), 18)
    f = lay.face
    u, v = f.local(d)
    head = _fill(d, f.ell(0, 0, f.aspect, 1.0, n=96))
    pig *= 1 - _blur(np.clip(head * 1.2, 0, 1), 2 * p)
    wash = rs.uniform(0.1, 0.28) if rs.random() < 0.7 else 0.0
    pig = np.maximum(pig, head * wash)
    use_yel = rs.random() < 0.35
    cap = _fill(d, f.ell(0, -0.1, f.aspect * 1.08, 1.0, n=96))
    hair = cap * np.clip((-0.45 + 0.07 * np.sin(u * 9 + rs.uniform(0, _TAU)) - v) * f.r / p, 0, 1)
    if use_yel:
        yel = np.maximum(yel, hair * 0.85)
    elif rs.random() < 0.6:
        pig = np.maximum(pig, hair * rs.uniform(0.45, 0.75))
    wout = max(1.2 * p, 0.045 * f.r)
    tt = np.linspace(0, _TAU, 97)
    op = f.xy(f.aspect * np.cos(tt), np.sin(tt))
    pig = np.maximum(
        pig, _brush(d, op, wout * (0.75 + 0.35 * np.sin(3 * tt + rs.uniform(0, _TAU))))
    )
    for e in _eyes(lay):
        c = e.mean(0)
        pig = np.maximum(pig, _lines(d, np.vstack([e, e[:1]]), max(1.0 * p, 0.03 * f.r)))
        pig = np.maximum(pig, _disc(d, c, 0.55 * lay.eye_rx * f.r))
    if lay.brow:
        for b in _brows(lay):
            w = max(1.0 * p, 0.04 * f.r) * (0.5 + 0.7 * (1 - np.linspace(-1, 1, len(b)) ** 2))
            pig = np.maximum(pig, _brush(d, b, w))
    nose = _nose(lay)
    if nose is not None:
        pig = np.maximum(pig, _lines(d, nose, max(1.0 * p, 0.03 * f.r)))
    if rs.random() < 0.4:
        for sx in (-1, 1):
            pig = np.maximum(pig, 0.25 * _fill(d, f.ell(sx * lay.eye_u * 1.1, 0.22, 0.12, 0.09)))

    m = _mouth(rm, lay, sign, d, (0.5, 0.25, 0.25), min_th=1.3)
    mk = _mouth_masks(m, d)
    if m.kind == "line":
        t = np.linspace(-1, 1, len(m.x))
        pig = np.maximum(pig, _brush(d, m.center(), m.th * (0.6 + 0.5 * (1 - t**2))))
        pig = np.maximum(pig, mk["shape"])
    elif m.kind == "lips":
        pig = np.maximum(pig, mk["shape"] * (0.5 + 0.2 * m.tone))
        pig = np.maximum(pig, mk["seam"])
        pig = np.maximum(pig, mk["edge"] * 0.9)
    else:
        pig = np.maximum(pig, mk["inner"] * 0.95)
        pig = pig * (1 - mk["teeth"]) + mk["teeth"] * 0.08
        pig = np.maximum(pig, mk["tongue"] * 0.55)
        pig = np.maximum(pig, mk["edge"])

    pig = _blur(pig, 0.35 * p) * (0.86 + 0.2 * (_noise(rs, d, 16) - 0.5))
    yel = _blur(yel, 0.35 * p)
    _paint(img, np.clip(yel, 0, 1), ochre)
    _paint(img, np.clip(pig, 0, 1), blue)
    crk = np.zeros((d, d), np.uint8)
    for _ in range(int(rs.integers(6, 18))):
        pt = rs.uniform(0, d, 2)
        a = rs.uniform(0, _TAU)
        pts = [pt.copy()]
        for _ in range(6):
            a += rs.uniform(-0.8, 0.8)
            pt = pt + rs.uniform(2, 6) * p * np.array([math.cos(a), math.sin(a)])
            pts.append(pt.copy())
        cv2.polylines(crk, [_fix(np.array(pts))], False, 255, 1, cv2.LINE_AA, _SHIFT)
    img *= (1 - rs.uniform(0.08, 0.18) * crk.astype(F32) / 255)[..., None]
    c = rs.uniform(0.1, 0.9, 2) * d
    gl = _blur(
        _fill(
            d,
            _ell(
                c[0], c[1], rs.uniform(0.06, 0.2) * d, rs.uniform(0.03, 0.08) * d, rs.uniform(0, 3)
            ),
        ),
        0.02 * d,
    )
    _paint(img, gl, (1, 1, 1), rs.uniform(0.15, 0.32))
    return img


# --------------------------------------------------------------------------------------
# style: coin / wax-seal emboss
# --------------------------------------------------------------------------------------


def _s_coin(rs: Rng, rm: Rng, sign: int, d: int) -> Img:
    """A face in relief on a coin or in a wax seal."""
    p = d / 64
    xx, yy = _grid(d)
    wax = rs.random() < 0.35
    bg_kind = int(rs.integers(3))
    if bg_kind == 0:
        vc = _col(
            _pick(rs, [(0.35, 0.05, 0.08), (0.05, 0.1, 0.3), (0.05, 0.2, 0.1), (0.08, 0.08, 0.08)])
        )
        img = vc * (0.8 + 0.4 * _noise(rs, d, max(4, d // 3)))[..., None]
    elif bg_kind == 1:
        img = _wood(rs, d, _pick(rs, ["oak", "walnut", "cherry", "maple"]))
    else:
        img = _paper(rs, d, _pick(rs, [(0.93, 0.9, 0.82), (0.75, 0.6, 0.42), (0.9, 0.9, 0.9)]))

    lay = _layout(rs, d, (0.42, 0.72), 20, aspect=(0.76, 0.9))
    f = lay.face
    rc = f.r / rs.uniform(0.6, 0.7)
    dist = np.hypot(xx - f.cx, yy - f.cy)
    H = np.zeros((d, d), F32)
    if not wax:
        disc = np.clip(rc - dist + 0.5, 0, 1).astype(F32)
        H += 0.5 * disc
        H += 0.45 * _lines(d, _ell(f.cx, f.cy, rc * 0.955, rc * 0.955, 0, 128), rc * 0.08, True)
        nb = int(_TAU * 0.84 * rc / (2.6 * p))
        bm = np.zeros((d, d), F32)
        for k in range(nb):
            a = _TAU * k / nb
            bm = np.maximum(
                bm,
                _disc(d, (f.cx + 0.84 * rc * math.cos(a), f.cy + 0.84 * rc * math.sin(a)), 0.8 * p),
            )
        H += 0.25 * bm
        alpha = disc
    else:
        th = np.arctan2(yy - f.cy, xx - f.cx)
        wob = np.zeros((d, d), F32)
        for k in range(2, 6):
            wob += rs.uniform(-0.04, 0.04) * np.sin(k * th + rs.uniform(0, _TAU))
        blob = np.clip((rc * (1.05 + wob) - dist) / p + 0.5, 0, 1).astype(F32)
        H += 0.8 * _blur(blob, 0.08 * rc)
        inner = np.clip(0.8 * rc - dist + 0.5, 0, 1).astype(F32)
        H -= 0.2 * inner
        H += 0.15 * _lines(d, _ell(f.cx, f.cy, 0.8 * rc, 0.8 * rc, 0, 128), 1.2 * p, True)
        alpha = blob
    u, v = f.local(d)
    rho2 = (u / f.aspect) ** 2 + v**2
    H += 0.35 * np.sqrt(np.clip(1 - rho2, 0, 1))
    if rs.random() < 0.6:
        cap = np.clip(1 - ((u / (f.aspect * 1.08)) ** 2 + ((v + 0.08) / 1.0) ** 2), 0, 1) > 0
        hl = cap & (v < -0.5 + 0.06 * np.sin(u * 10))
        curls = 0.5 + 0.5 * np.sin(u * 25) * np.sin(v * 25)
        H += (0.12 + 0.1 * curls) * hl.astype(F32)
    eye_s = 1.0 if rs.random() < 0.5 else -1.0
    for e in _eyes(lay):
        H += eye_s * 0.22 * _fill(d, e)
        H -= 0.15 * _disc(d, e.mean(0), 0.4 * lay.eye_rx * f.r)
    if lay.brow:
        for b in _brows(lay):
            H += 0.15 * _lines(d, b, max(1.2 * p, 0.05 * f.r))
    H += 0.15 * _lines(d, f.xy([0.0, 0.0], [lay.eye_v + 0.1, lay.nose_v]), max(1.5 * p, 0.06 * f.r))
    H += 0.15 * _disc(d, f.xy(0.0, lay.nose_v), 0.07 * f.r)

    m = _mouth(rm, lay, sign, d, (0.45, 0.25, 0.3), min_th=1.8, th_scale=1.4)
    mk = _mouth_masks(m, d)
    relief = (1.0 if m.tone < 0.5 else -1.0) * (1.0 if wax else 0.6)
    if m.kind == "line":
        H += relief * mk["shape"]
    elif m.kind == "lips":
        H += 0.35 * mk["shape"] - 0.3 * mk["seam"]
    else:
        H += -0.5 * mk["inner"] + 0.38 * mk["teeth"] + 0.15 * mk["tongue"] + 0.2 * mk["edge"]

    H = _blur(H, rs.uniform(0.5, 0.8) * p)
    hs = rs.uniform(4.0, 6.0) * p
    gx = cv2.Sobel(H, cv2.CV_32F, 1, 0, ksize=3) / 8 * hs
    gy = cv2.Sobel(H, cv2.CV_32F, 0, 1, ksize=3) / 8 * hs
    nz = 1 / np.sqrt(1 + gx**2 + gy**2)
    nx, ny = -gx * nz, -gy * nz
    az = math.radians(rs.uniform(-160, -20))
    el = math.radians(rs.uniform(35, 60))
    L = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
    hv = L + np.array([0, 0, 1.0])
    hv /= np.linalg.norm(hv)
    diff = np.clip(nx * L[0] + ny * L[1] + nz * L[2], 0, 1)
    spec = np.clip(nx * hv[0] + ny * hv[1] + nz * hv[2], 0, 1) ** rs.uniform(20, 60)
    cav = np.clip((_blur(H, 3 * p) - H) * 3.0, 0, 1)
    if wax:
        base = _col(
            _pick(
                rs,
                [
                    (0.88, 0.16, 0.12),
                    (0.6, 0.06, 0.08),
                    (0.22, 0.55, 0.28),
                    (0.22, 0.32, 0.72),
                    (0.85, 0.65, 0.22),
                ],
            )
        )
        ks = 0.45
    else:
        base = _col(
            _pick(
                rs, [(0.85, 0.65, 0.25), (0.78, 0.78, 0.8), (0.78, 0.45, 0.28), (0.55, 0.42, 0.25)]
            )
        )
        ks = 0.8
    col = base * (0.25 + 0.9 * diff)[..., None] * (1 - 0.8 * cav)[..., None]
    col += (ks * spec)[..., None] * np.minimum(base + 0.4, 1)
    if not wax and rs.random() < 0.4:
        _paint(col, cav * 0.8, (0.28, 0.42, 0.36))
    sh = -np.array([L[0], L[1]]) / (np.hypot(L[0], L[1]) + 1e-9) * rs.uniform(1.0, 2.5) * p
    _drop(img, alpha, sh[0], sh[1], 1.5 * p, 0.55)
    _paint(img, alpha, col)
    return img


# --------------------------------------------------------------------------------------
# style: spray stencil
# --------------------------------------------------------------------------------------


def _wall(rs: Rng, d: int) -> Img:
    """Brick, concrete, plaster or metal-shutter wall."""
    p = d / 64
    xx, yy = _grid(d)
    kind = int(rs.integers(4))
    tex = _noise(rs, d, max(4, d // 4)) - 0.5
    big = _noise(rs, d, 3, 3) - 0.5
    if kind == 0:
        bh = d / rs.uniform(6, 11)
        bw = bh * rs.uniform(2.0, 2.8)
        row = np.floor(yy / bh)
        off = (row % 2) * bw / 2
        colx = np.floor((xx + off) / bw)
        tones = rs.uniform(-0.1, 0.1, (64, 64)).astype(F32)
        tone = tones[row.astype(np.int32) % 64, colx.astype(np.int32) % 64]
        bc = _col(
            _pick(rs, [(0.62, 0.3, 0.22), (0.55, 0.35, 0.25), (0.75, 0.55, 0.35), (0.9, 0.9, 0.87)])
        )
        img = bc * (1 + tone + 0.2 * tex + 0.15 * big)[..., None]
        mw = rs.uniform(0.5, 1.0) * p
        mort = ((yy % bh) < mw) | (((xx + off) % bw) < mw)
        _paint(
            img,
            _blur(mort.astype(F32), 0.3 * p),
            _col((0.72, 0.7, 0.66)) * (1 + 0.2 * tex)[..., None],
        )
    elif kind == 1:
        g = rs.uniform(0.55, 0.75)
        img = np.empty((d, d, 3), F32)
        img[:] = g
        img *= (1 + 0.25 * tex + 0.3 * big)[..., None]
        st = _noise(rs, d, 5, 2)
        img *= (1 - 0.25 * np.clip(st - 0.6, 0, 1) * 3)[..., None]
        sp = rs.uniform(0.25, 0.4) * d
        o = rs.uniform(0, sp, 2)
        for i in range(-1, 5):
            for j in range(-1, 5):
                _paint(img, _disc(d, (o[0] + i * sp, o[1] + j * sp), 1.2 * p), (0.3, 0.3, 0.3), 0.6)
    elif kind == 2:
        pc = _col(
            _pick(rs, [(0.95, 0.92, 0.85), (0.95, 0.85, 0.6), (0.7, 0.85, 0.8), (0.9, 0.7, 0.65)])
        )
        img = pc * (1 + 0.08 * tex + 0.12 * big)[..., None]
        peel = _noise(rs, d, 6, 2)
        pm = _blur((peel > 0.72).astype(F32), 0.4 * p)
        _paint(img, pm, _col((0.6, 0.55, 0.5)) * (1 + 0.3 * tex)[..., None])
    else:
        period = rs.uniform(3, 5) * p
        corr = np.sin(yy * (_TAU / period))
        mc = _col(
            _pick(rs, [(0.6, 0.62, 0.64), (0.35, 0.5, 0.4), (0.3, 0.4, 0.6), (0.7, 0.6, 0.5)])
        )
        img = mc * (1 + 0.12 * corr + 0.1 * tex + 0.2 * big)[..., None]
        rust = _noise(rs, d, 5, 2)
        _paint(img, np.clip(rust - 0.62, 0, 1) * 2.5, (0.5, 0.25, 0.1))
    return img


def _spray(
    img: Img, mask: np.ndarray, col: Color, specks: np.ndarray, s1: float, s2: float, op: float
) -> None:
    """Spray paint a stencil mask: soft edge, overspray speckle, wall texture showing."""
    soft = _blur(mask, s1)
    halo = _blur(mask, s2)
    dots = (specks < halo * 0.3).astype(F32) * (1 - soft)
    a = np.clip(soft * op + dots * 0.6, 0, 1)
    shade = np.clip(img.mean(2, keepdims=True) / max(float(img.mean()), 1e-3), 0.6, 1.3)
    _paint(img, a, _col(col) * (0.75 + 0.25 * shade))


def _s_stencil(rs: Rng, rm: Rng, sign: int, d: int) -> Img:
    """Spray-paint stencil face on a wall."""
    p = d / 64
    img = _wall(rs, d)
    specks = rs.random((d, d), dtype=F32)
    s1 = rs.uniform(0.3, 0.7) * p
    s2 = rs.uniform(2.0, 3.5) * p
    op = rs.uniform(0.85, 0.97)
    lay = _layout(rs, d, (0.36, 0.92), 15)
    f = lay.face
    u, v = f.local(d)
    dark = _pick(rs, [(0.04, 0.04, 0.05)] * 3 + [(0.03, 0.04, 0.16), (0.22, 0.02, 0.04)])
    if rs.random() < 0.4:
        ac = _pick(rs, [(0.85, 0.1, 0.1), (0.95, 0.8, 0.1), (0.1, 0.7, 0.8), (0.95, 0.4, 0.6)])
        c = f.xy(rs.uniform(-0.6, 0.6), rs.uniform(-0.6, 0.3))
        _spray(img, _disc(d, c, f.r * rs.uniform(0.9, 1.3)), ac, specks, s1, s2, op)
    outline = f.ell(0, 0, f.aspect, 1.0, n=96)
    head = _fill(d, outline)
    if rs.random() < 0.55:
        mc = _pick(rs, [(0.55, 0.55, 0.55), (0.85, 0.85, 0.82), (0.9, 0.75, 0.6), (0.5, 0.75, 0.9)])
        _spray(img, head, mc, specks, s1, s2, op)
    dm = _lines(d, outline, max(1.6 * p, 0.07 * f.r), True)
    for _ in range(int(rs.integers(2, 5))):
        a = rs.uniform(0, _TAU)
        dm *= 1 - _disc(d, f.xy(f.aspect * math.cos(a), math.sin(a)), 0.06 * f.r + 0.6 * p)
    if rs.random() < 0.75:
        hair = np.zeros((d, d), F32)
        for _ in range(int(rs.integers(4, 9))):
            uu = rs.uniform(-0.9, 0.9) * f.aspect
            hair = np.maximum(
                hair,
                _fill(
                    d,
                    f.ell(uu, rs.uniform(-1.0, -0.7), rs.uniform(0.25, 0.5), rs.uniform(0.2, 0.35)),
                ),
            )
        line = -0.5 + 0.1 * np.sin(u * rs.uniform(5, 10) + rs.uniform(0, _TAU))
        hair = np.maximum(
            hair * np.clip((line + 0.1 - v) * 4, 0, 1), head * np.clip((line - v) * f.r / p, 0, 1)
        )
        dm = np.maximum(dm, hair)
    for e in _eyes(lay):
        em = _fill(d, e)
        em *= 1 - _disc(d, e.mean(0) - 0.3 * lay.eye_rx * f.r, 0.28 * lay.eye_rx * f.r)
        dm = np.maximum(dm, em)
    if rs.random() < 0.6:
        for b in _brows(lay):
            dm = np.maximum(dm, _lines(d, b, max(1.4 * p, 0.06 * f.r)))
    if rs.random() < 0.7:
        sx = 1 if rs.random() < 0.5 else -1
        nv = lay.nose_v
        tri = f.xy(np.array([0.0, sx * 0.1, 0.0]), np.array([nv - 0.22, nv, nv]))
        dm = np.maximum(dm, _fill(d, tri))

    m = _mouth(rm, lay, sign, d, (0.45, 0.2, 0.35), min_th=1.5)
    mk = _mouth_masks(m, d)
    if m.kind == "open":
        dm = np.maximum(dm, mk["inner"] * (1 - mk["teeth"]))
        dm = np.maximum(dm, mk["edge"])
    else:
        dm = np.maximum(dm, mk["shape"])
    _spray(img, dm, dark, specks, s1, s2, op)

    for _ in range(int(rs.integers(0, 5))):
        uu = rs.uniform(-0.6, 0.6) * f.aspect
        start = f.xy(uu, math.sqrt(max(0.0, 1 - (uu / f.aspect) ** 2)))
        ln = rs.uniform(0.04, 0.2) * d
        w = rs.uniform(0.5, 1.0) * p
        end = start + np.array([0.0, ln])  # the point ln below start
        drip = _lines(d, np.array([start, end]), w)
        drip = np.maximum(drip, _disc(d, end, w * 0.9))
        _paint(img, drip, dark, 0.9)
    if rs.random() < 0.5:
        txt = _rand_text(rs, int(rs.integers(3, 6)))
        org = (rs.uniform(0.03, 0.6) * d, rs.uniform(0.9, 0.97) * d)
        _paint(img, _text_mask(d, txt, org, d / 300, max(1, int(p / 2))), dark, 0.85)
    return img


# --------------------------------------------------------------------------------------
# style: shadow puppet
# --------------------------------------------------------------------------------------


def _s_puppet(rs: Rng, rm: Rng, sign: int, d: int) -> Img:
    """A backlit shadow puppet with cut-out features on a paper screen."""
    p = d / 64
    xx, yy = _grid(d)
    pal = _pick(
        rs,
        [
            ((1.0, 0.93, 0.7), (0.72, 0.36, 0.1)),
            ((0.98, 0.98, 0.95), (0.55, 0.6, 0.7)),
            ((1.0, 0.8, 0.55), (0.6, 0.18, 0.08)),
            ((0.95, 1.0, 0.85), (0.4, 0.5, 0.3)),
        ],
    )
    lc = rs.uniform(0.3, 0.7, 2) * d
    t = np.clip(np.hypot(xx - lc[0], yy - lc[1]) / (rs.uniform(0.6, 1.1) * d), 0, 1) ** 2
    scr = _col(pal[0]) + (_col(pal[1]) - _col(pal[0])) * t[..., None]
    scr *= (1 + 0.06 * (_noise(rs, d, max(4, d // 5)) - 0.5) + 0.05 * (_noise(rs, d, 4, 2) - 0.5))[
        ..., None
    ]
    img = scr.copy()

    lay = _layout(rs, d, (0.42, 0.88), 15)
    f = lay.face
    u, v = f.local(d)
    S = _fill(d, f.ell(0, 0, f.aspect, 1.0, n=96))
    gear = int(rs.integers(5))
    if gear == 1:
        n = int(rs.integers(3, 6))
        us = np.linspace(-0.8, 0.8, 2 * n + 1) * f.aspect
        vs = np.where(np.arange(2 * n + 1) % 2 == 0, -0.75, -1.35)
        S = np.maximum(S, _fill(d, f.xy(np.r_[us, us[::-1]], np.r_[vs, np.full_like(vs, -0.6)])))
    elif gear == 2:
        S = np.maximum(
            S,
            _fill(
                d,
                f.xy(
                    np.array([-0.6, 0.6, 0.5, -0.5]) * f.aspect, np.array([-0.7, -0.7, -1.6, -1.6])
                ),
            ),
        )
        S = np.maximum(S, _fill(d, f.ell(0, -0.72, f.aspect * 1.35, 0.1)))
    elif gear == 3:
        S = np.maximum(S, _fill(d, f.ell(0, -1.05, 0.35, 0.3)))
    elif gear == 4:
        for _k in range(int(rs.integers(5, 9))):
            a = -math.pi * (0.15 + 0.7 * rs.random())
            base = f.xy(0.9 * f.aspect * math.cos(a), 0.9 * math.sin(a))
            tip = f.xy(1.35 * f.aspect * math.cos(a), 1.35 * math.sin(a))
            nrm = np.array([-(tip - base)[1], (tip - base)[0]]) * 0.3
            S = np.maximum(S, _fill(d, np.array([base + nrm, tip, base - nrm])))
    if rs.random() < 0.6:
        for sx in (-1, 1):
            S = np.maximum(S, _fill(d, f.ell(sx * f.aspect * 0.98, 0.0, 0.15, 0.22)))
    body = ((v > 0.7) & (np.abs(u) < f.aspect * (0.35 + np.clip(v - 1.0, 0, None) * 1.8))).astype(
        F32
    )
    S = np.maximum(S, _blur(body, 0.3 * p))
    rod_end = np.array([rs.uniform(0.1, 0.9) * d, d + 5.0])
    S = np.maximum(S, _lines(d, np.array([f.xy(0.0, 1.3), rod_end]), max(1.0 * p, 0.025 * f.r)))

    cut = np.zeros((d, d), F32)
    for e in _eyes(lay):
        cut = np.maximum(cut, _fill(d, e))
    if lay.brow:
        for b in _brows(lay):
            cut = np.maximum(cut, _lines(d, b, max(1.0 * p, 0.035 * f.r)))
    if lay.nose in (1, 2):
        cut = np.maximum(cut, _disc(d, f.xy(0.0, lay.nose_v), max(0.8 * p, 0.05 * f.r)))
    holes = np.zeros((d, d), F32)
    if rs.random() < 0.6:
        nh = int(rs.integers(4, 9))
        for k in range(nh):
            uu = (k - (nh - 1) / 2) / max(nh - 1, 1) * 1.2 * f.aspect
            holes = np.maximum(
                holes, _disc(d, f.xy(uu, -0.72 + 0.1 * (k % 2)), max(0.7 * p, 0.04 * f.r))
            )
    cut = np.maximum(cut, holes)

    m = _mouth(rm, lay, sign, d, (0.5, 0.2, 0.3), min_th=1.6)
    mk = _mouth_masks(m, d)
    if m.kind == "open":
        cut = np.maximum(cut, mk["inner"] * (1 - mk["teeth"]))
    else:
        cut = np.maximum(cut, mk["shape"])
    A = S * (1 - cut)
    blur = rs.uniform(0.3, 0.8) * p
    A = _blur(A, blur)
    if rs.random() < 0.65:
        img = img * (1 - 0.93 * A)[..., None] + _col((0.05, 0.04, 0.03)) * (0.93 * A)[..., None]
    else:
        tint = _col(
            _pick(rs, [(0.75, 0.2, 0.08), (0.2, 0.5, 0.2), (0.8, 0.55, 0.15), (0.3, 0.2, 0.55)])
        )
        img = img * (1 - A[..., None] * (1 - tint * 0.35))
        ed = _blur(np.maximum(_edge(S * (1 - cut)), 0), blur)
        img *= (1 - 0.85 * ed)[..., None]
        pat = (0.5 + 0.5 * np.sin(u * 30) * np.sin(v * 30)) * (v < 0.1) * (v > -0.7)
        img *= (1 - 0.25 * A * pat)[..., None]
    if rs.random() < 0.35:
        fw = rs.uniform(0.03, 0.06) * d
        frame = ((xx < fw) | (xx > d - fw) | (yy < fw) | (yy > d - fw)).astype(F32)
        _paint(img, frame, (0.18, 0.1, 0.05))
    return img


# --------------------------------------------------------------------------------------
# style: constellation
# --------------------------------------------------------------------------------------


def _s_stars(rs: Rng, rm: Rng, sign: int, d: int) -> Img:
    """A face drawn as a constellation in the night sky or on a star chart."""
    p = d / 64
    xx, yy = _grid(d)
    chart = rs.random() < 0.3
    lay = _layout(rs, d, (0.36, 0.92), 20)
    f = lay.face
    u, v = f.local(d)
    inside = ((u / f.aspect) ** 2 + v**2) < 1.15
    if chart:
        dark_chart = rs.random() < 0.4
        base = (0.08, 0.12, 0.3) if dark_chart else (0.93, 0.91, 0.84)
        img = _paper(rs, d, base, 0.03)
        ink = _col((0.9, 0.9, 0.95)) if dark_chart else _col((0.08, 0.12, 0.3))
        line_c = _col((0.95, 0.6, 0.3)) if dark_chart else _col((0.7, 0.1, 0.1))
        pc = rs.uniform(-0.5, 1.5, 2) * d
        rr = np.hypot(xx - pc[0], yy - pc[1])
        th = np.arctan2(yy - pc[1], xx - pc[0])
        step = rs.uniform(0.18, 0.3) * d
        grid = (np.abs(((rr / step) % 1) - 0.5) > 0.5 - 0.25 / step * p) | (
            np.abs(((th * 12 / math.pi) % 1) - 0.5) > 0.5 - 0.0035 * d / (rr + 1) * p
        )
        _paint(img, _blur(grid.astype(F32), 0.3 * p), ink, 0.35)
        star_c = ink
    else:
        top = _col(_pick(rs, [(0.01, 0.02, 0.08), (0.04, 0.01, 0.08), (0.0, 0.0, 0.02)]))
        bot = _col(_pick(rs, [(0.05, 0.08, 0.22), (0.12, 0.05, 0.2), (0.02, 0.05, 0.1)]))
        gy = (yy / d)[..., None]
        img = top + (bot - top) * gy
        a = rs.uniform(0, math.pi)
        off = rs.uniform(-0.3, 0.3) * d
        dl = np.abs((xx - d / 2) * math.sin(a) - (yy - d / 2) * math.cos(a) - off)
        band = np.exp(-((dl / (rs.uniform(0.1, 0.25) * d)) ** 2)) * _noise(rs, d, 6, 3)
        img += _col((0.2, 0.2, 0.28)) * (band * rs.uniform(0.3, 0.8))[..., None]
        ink = _col((1.0, 1.0, 1.0))
        line_c = _col(_pick(rs, [(0.6, 0.75, 1.0), (0.9, 0.85, 0.6), (0.7, 0.9, 0.9)]))
        star_c = ink

    n = int(rs.integers(80, 260))
    sx = rs.uniform(0, d, n)
    sy = rs.uniform(0, d, n)
    sb = rs.random(n) ** 3
    ix = np.clip(sx.astype(np.int32), 0, d - 1)
    iy = np.clip(sy.astype(np.int32), 0, d - 1)
    sb = np.where(inside[iy, ix], sb * 0.35, sb)
    layer = np.zeros((d, d), F32)
    np.add.at(layer, (iy, ix), sb.astype(F32))
    s_core = 0.45 * p
    glow = (
        _blur(layer, s_core) * (_TAU * s_core**2)
        + 0.4 * _blur(layer, 1.6 * p) * (_TAU * (1.6 * p) ** 2) * 0.15
    )
    _paint(img, np.clip(glow, 0, 1), star_c)
    if not chart and rs.random() < 0.4:
        hz = max(float(f.xy(0.0, 1.0)[1]) + 2 * p, 0.86 * d)
        prof = hz + 0.04 * d * (_noise(rs, d, 6)[0] - 0.5) * 2
        _paint(img, _blur((yy > prof[None, :]).astype(F32), 0.3 * p), (0.01, 0.01, 0.02))

    def star(c: np.ndarray, r: float, spikes: bool = False) -> None:
        g = _blur(_disc(d, c, r * 2.2), r * 1.2)
        _paint(img, np.clip(g * 0.6, 0, 1), star_c)
        _paint(img, _disc(d, c, r), star_c)
        if spikes:
            for a in (0.0, math.pi / 2):
                dv = np.array([math.cos(a), math.sin(a)]) * r * 4
                _paint(img, _lines(d, np.array([c - dv, c + dv]), 1.0), star_c, 0.55)

    lt = max(1.0, rs.uniform(0.5, 0.9) * p)
    la = rs.uniform(0.45, 0.8)
    no = int(rs.integers(9, 16))
    ang = rs.uniform(0, _TAU) + _TAU * (np.arange(no) + rs.uniform(-0.3, 0.3, no)) / no
    rj = rs.uniform(0.95, 1.05, no)
    opts = f.xy(f.aspect * rj * np.cos(ang), rj * np.sin(ang))
    _paint(img, _lines(d, opts, lt, True), line_c, la)
    srad = rs.uniform(0.7, 1.1, no) * p
    for c, r in zip(opts, srad, strict=True):
        star(c, r)
    ring = rs.random() < 0.5
    for e in _eyes(lay):
        c = e.mean(0)
        star(c, max(1.3 * p, 0.45 * lay.eye_rx * f.r), spikes=True)
        if ring:
            _paint(img, _lines(d, np.vstack([e, e[:1]]), lt), line_c, la)
    if lay.nose in (1, 2):
        star(f.xy(0.0, lay.nose_v), 0.8 * p)

    m = _mouth(rm, lay, sign, d, (0.6, 0.1, 0.3), min_th=1.2)
    mt = max(1.2 * p, 0.6 * m.th)
    if m.kind == "line":
        nm = 5 + int(m.rand[0] * 4)
        idx = np.round(np.linspace(0, len(m.x) - 1, nm)).astype(int)
        path = m.center()
        _paint(img, _lines(d, path[idx], mt), line_c, 0.9)
        pts = path[idx]
    else:
        loop = m.loop()
        n2 = len(m.x)
        nm = 4 + int(m.rand[0] * 3)
        it = np.round(np.linspace(0, n2 - 1, nm)).astype(int)
        ib = np.round(np.linspace(0, n2 - 1, nm)).astype(int)[1:-1]
        pts = np.vstack([loop[:n2][it], loop[n2:][::-1][ib][::-1]])
        _paint(img, _lines(d, pts, mt, True), line_c, 0.9)
    for k, c in enumerate(pts):
        star(c, (0.9 + 0.5 * m.rand[1 + k % 20]) * p)
    return img


# --------------------------------------------------------------------------------------
# style: ink wash
# --------------------------------------------------------------------------------------


def _s_ink(rs: Rng, rm: Rng, sign: int, d: int) -> Img:
    """A sumi-e style brush-and-ink face on rice paper."""
    p = d / 64
    img = _paper(
        rs, d, _pick(rs, [(0.95, 0.93, 0.86), (0.93, 0.92, 0.9), (0.92, 0.88, 0.78)]), 0.06
    )
    inkc = _col(_pick(rs, [(0.07, 0.06, 0.06), (0.06, 0.07, 0.1), (0.12, 0.08, 0.06)]))
    lay = _layout(rs, d, (0.36, 0.88), 18)
    f = lay.face
    u, v = f.local(d)
    A = np.zeros((d, d), F32)
    streak = cv2.resize(rs.random((d // 2, 8), dtype=F32), (d, d), interpolation=cv2.INTER_LINEAR)
    streak = cv2.warpAffine(
        streak,
        cv2.getRotationMatrix2D((d / 2, d / 2), rs.uniform(0, 180), 1.3),
        (d, d),
        borderMode=cv2.BORDER_REFLECT,
    )
    dry = rs.uniform(0.0, 0.5)

    def stroke(pts: np.ndarray, w: np.ndarray, a: float = 1.0) -> None:
        nonlocal A
        s = _brush(d, pts, w) * a * (1 - dry * (streak > 0.75))
        A = 1 - (1 - A) * (1 - s)

    a0 = rs.uniform(0, _TAU)
    span = rs.uniform(4.6, 6.0)
    tt = np.linspace(a0, a0 + span, 80)
    wout = max(1.2 * p, rs.uniform(0.04, 0.07) * f.r)
    prof = np.sin(np.linspace(0.15, math.pi - 0.15, 80)) ** 0.6
    stroke(f.xy(f.aspect * np.cos(tt), np.sin(tt)), wout * (0.35 + 0.9 * prof))
    if rs.random() < 0.7:
        cap = _fill(d, f.ell(0, -0.15, f.aspect * 1.12, 0.98, n=96))
        hl = cap * np.clip(
            (-0.42 + 0.08 * np.sin(u * 7 + rs.uniform(0, 6)) - v) * f.r / (2 * p), 0, 1
        )
        wash = _blur(hl, 0.8 * p) * rs.uniform(0.35, 0.8)
        A = 1 - (1 - A) * (1 - wash)
        for _ in range(int(rs.integers(2, 5))):
            uu = rs.uniform(-0.7, 0.7) * f.aspect
            t2 = np.linspace(-1, 1, 20)
            stroke(
                f.xy(uu + 0.25 * t2, -0.95 + 0.15 * t2**2 + rs.uniform(-0.1, 0.1)),
                wout * (1.3 - 0.8 * t2**2),
            )
    eye_kind = int(rs.integers(2))
    for sx, e in zip((-1, 1), _eyes(lay, 0.8), strict=True):
        if eye_kind == 0:
            A = np.maximum(A, _fill(d, e))
        else:
            t2 = np.linspace(-1, 1, 12)
            pts = f.xy(sx * lay.eye_u + t2 * lay.eye_rx * 1.3, lay.eye_v + 0.02 * t2**2)
            stroke(pts, max(1.4 * p, 0.9 * lay.eye_ry * f.r) * (1 - 0.6 * t2**2))
    if lay.brow:
        for b in _brows(lay):
            t2 = np.linspace(-1, 1, len(b))
            stroke(b, max(1.0 * p, 0.05 * f.r) * (1.1 - 0.7 * (t2 + 1) / 2))
    nose = _nose(lay)
    if nose is not None:
        stroke(nose, np.full(len(nose), max(1.0 * p, 0.035 * f.r)))
    if rs.random() < 0.35:
        for sx in (-1, 1):
            A = 1 - (1 - A) * (
                1 - 0.18 * _blur(_fill(d, f.ell(sx * lay.eye_u * 1.1, 0.22, 0.14, 0.1)), 1.5 * p)
            )

    m = _mouth(rm, lay, sign, d, (0.55, 0.2, 0.25), min_th=1.3)
    mk = _mouth_masks(m, d)
    t = np.linspace(-1, 1, len(m.x))
    if m.kind == "line":
        stroke(m.center(), np.maximum(m.th * (0.55 + 0.7 * (1 - t**2) ** 0.5), 1.1 * p))
    elif m.kind == "lips":
        A = 1 - (1 - A) * (1 - 0.45 * mk["shape"])
        stroke(m.center(), np.maximum(0.5 * m.th * (0.5 + 0.6 * (1 - t**2)), 1.1 * p))
    else:
        A = 1 - (1 - A) * (1 - 0.8 * mk["inner"] * (1 - mk["teeth"]))
        A = 1 - (1 - A) * (1 - 0.35 * mk["tongue"])
        A = np.maximum(A, mk["edge"])

    A = _blur(A, 0.35 * p) * (0.9 + 0.15 * (_noise(rs, d, max(4, d // 8)) - 0.5))
    _paint(img, np.clip(A, 0, 1), inkc)
    corner = int(rs.integers(4))
    fc = np.array([f.cx, f.cy])
    cands = [
        np.array([0.12, 0.12]),
        np.array([0.88, 0.12]),
        np.array([0.12, 0.88]),
        np.array([0.88, 0.88]),
    ]
    far = max(range(4), key=lambda k: np.linalg.norm(cands[k] * d - fc) + 0.01 * (k == corner))
    sz = rs.uniform(0.07, 0.11) * d
    sc = cands[far] * d
    seal = _fill(d, sc + np.array([[-sz, -sz], [sz, -sz], [sz, sz], [-sz, sz]]) / 2)
    marks = np.zeros((d, d), F32)
    for _ in range(5):
        a = sc + rs.uniform(-0.35, 0.35, 2) * sz
        b = a + rs.uniform(-0.3, 0.3, 2) * sz
        marks = np.maximum(marks, _lines(d, np.array([a, b]), max(1.0, 0.08 * sz)))
    _paint(img, seal * (1 - marks) * rs.uniform(0.7, 0.95), (0.78, 0.12, 0.1))
    return img


# --------------------------------------------------------------------------------------
# style: road sign
# --------------------------------------------------------------------------------------


def _s_sign(rs: Rng, rm: Rng, sign: int, d: int) -> Img:
    """A face pictogram on an outdoor road or information sign."""
    p = d / 64
    xx, yy = _grid(d)
    sky = int(rs.integers(3))
    top, bot = [
        ((0.25, 0.5, 0.85), (0.7, 0.85, 0.95)),
        ((0.6, 0.62, 0.65), (0.82, 0.83, 0.85)),
        ((0.35, 0.3, 0.55), (0.98, 0.65, 0.4)),
    ][sky]
    img = _col(top) + (_col(bot) - _col(top)) * (yy / d)[..., None]
    cl = _noise(rs, d, 4, 3)
    _paint(img, np.clip((cl - 0.5) * 2.5, 0, 1), (0.97, 0.97, 0.97), 0.8 if sky != 1 else 0.3)
    hz = rs.uniform(0.7, 0.9) * d
    if rs.random() < 0.6:
        tree = _noise(rs, d, 10)[0]
        th = hz - (0.04 + 0.12 * tree) * d
        _paint(
            img,
            _blur((yy > th[None, :]).astype(F32), 0.5 * p),
            _pick(rs, [(0.15, 0.3, 0.15), (0.3, 0.32, 0.35)]),
        )
    _paint(img, (yy > hz).astype(F32), _pick(rs, [(0.35, 0.5, 0.25), (0.45, 0.45, 0.45)]))

    kind = int(rs.integers(6))
    lay = _layout(rs, d, (0.3, 0.8), 12, aspect=(0.93, 1.0))
    f = lay.face
    ratio = [0.45, 0.56, 0.6, 0.6, 0.55, 0.45][kind]
    S = f.r / ratio
    pw = 0.06 * S
    pole = np.array([f.xy(0.0, 0.0), [f.cx + rs.uniform(-0.05, 0.05) * d, d + 5.0]])
    _paint(img, _lines(d, pole, pw * 2), (0.55, 0.56, 0.58))

    def shape(scale: float) -> np.ndarray:
        s = S * scale / f.r
        if kind in (0, 5):
            return f.xy(np.array([0, s, 0, -s]), np.array([-s, 0, s, 0]))
        if kind == 1:
            return f.ell(0, 0, s, s, n=96)
        if kind == 4:
            a = np.arange(8) * math.pi / 4 + math.pi / 8
            return f.xy(s * np.cos(a), s * np.sin(a))
        h = 0.85 * s
        return f.xy(np.array([-h, h, h, -h]), np.array([-h, -h, h, h]))

    fills = [
        (0.98, 0.8, 0.1),
        (0.97, 0.97, 0.95),
        (0.1, 0.32, 0.72),
        (0.05, 0.45, 0.25),
        (0.8, 0.08, 0.1),
        (0.97, 0.5, 0.1),
    ]
    picto = [
        (0.05, 0.05, 0.05),
        (0.05, 0.05, 0.05),
        (0.97, 0.97, 0.97),
        (0.97, 0.97, 0.97),
        (0.97, 0.97, 0.97),
        (0.05, 0.05, 0.05),
    ][kind]
    sm = _fill(d, shape(1.0))
    if kind != 1:
        sm = np.maximum(sm, _lines(d, shape(1.0), 0.12 * S, True))
    _drop(img, sm, 0.8 * p, 1.0 * p, 1.0 * p, 0.3)
    _paint(img, sm, (0.6, 0.6, 0.62))
    inner = _fill(d, shape(0.96))
    _paint(img, inner, fills[kind])
    if kind == 1:
        _paint(img, _lines(d, shape(0.88), 0.16 * S, True), (0.8, 0.08, 0.1))
    else:
        bcol = (0.05, 0.05, 0.05) if picto[0] < 0.5 else (0.97, 0.97, 0.97)
        _paint(img, _lines(d, shape(0.87), max(1.0 * p, 0.045 * S), True), bcol)
    for sy in (-1, 1):
        _paint(
            img, _disc(d, f.xy(0.0, sy * 0.8 * S / f.r), max(0.8 * p, 0.025 * S)), (0.6, 0.6, 0.6)
        )
    neg = rs.random() < 0.35
    fg, bgc = (_col(fills[kind]), _col(picto)) if neg else (_col(picto), _col(fills[kind]))
    head = f.ell(0, 0, f.aspect, 1.0, n=96)
    wl = max(1.5 * p, 0.1 * f.r)
    if neg:
        _paint(img, _fill(d, head), bgc)
    else:
        _paint(img, _lines(d, head, wl, True), fg)
    for e in _eyes(lay, 1.0):
        _paint(img, _disc(d, e.mean(0), max(1.2 * p, 0.1 * f.r)), fg)
    m = _mouth(rm, lay, sign, d, (0.75, 0.0, 0.25), min_th=1.6, th_scale=1.5)
    mk = _mouth_masks(m, d)
    if m.kind == "open":
        _paint(img, mk["inner"], fg)
        if m.teeth:
            _paint(img, mk["teeth"] * (1 - _lines(d, m.loop(), max(1.0, 0.3 * m.th), True)), bgc)
    else:
        _paint(img, mk["shape"], fg)
    dirt = _noise(rs, d, 5, 2)
    img *= (1 - 0.18 * inner * np.clip(dirt - 0.4, 0, 1))[..., None]
    a = rs.uniform(0, _TAU)
    img += (
        rs.uniform(0.0, 0.1)
        * inner
        * (0.5 + 0.5 * np.sin((xx * math.cos(a) + yy * math.sin(a)) / (0.4 * d)))
    )[..., None]
    if rs.random() < 0.25:
        sx = 1 if rs.random() < 0.5 else -1
        c = f.xy(sx * 0.62 * S / f.r, -0.62 * S / f.r)
        st = _fill(d, _ell(c[0], c[1], 0.09 * S, 0.05 * S, rs.uniform(-0.5, 0.5), 4))
        _paint(img, st, _pick(rs, [(0.9, 0.2, 0.5), (0.2, 0.7, 0.9), (1, 1, 1)]))
    return img


# --------------------------------------------------------------------------------------
# style: thermal camera
# --------------------------------------------------------------------------------------

_CMAPS = (
    cv2.COLORMAP_INFERNO,
    cv2.COLORMAP_MAGMA,
    cv2.COLORMAP_JET,
    cv2.COLORMAP_HOT,
    cv2.COLORMAP_PLASMA,
    cv2.COLORMAP_TURBO,
    -1,
    -2,
)


def _cmap(u8: np.ndarray, cm: int) -> Img:
    """Apply a colour map (or white-hot / black-hot grey) to a uint8 image."""
    if cm == -1:
        g = u8.astype(F32) / 255
        return np.repeat(g[..., None], 3, 2)
    if cm == -2:
        g = 1 - u8.astype(F32) / 255
        return np.repeat(g[..., None], 3, 2)
    return cv2.cvtColor(cv2.applyColorMap(u8, cm), cv2.COLOR_BGR2RGB).astype(F32) / 255


def _s_thermal(rs: Rng, rm: Rng, sign: int, d: int) -> Img:
    """A false-colour thermal-camera view of a head with a HUD."""
    p = d / 64
    xx, _ = _grid(d)
    T = rs.uniform(0.12, 0.3) + 0.12 * (_noise(rs, d, 3, 2) - 0.5)
    for _ in range(int(rs.integers(0, 4))):
        k = int(rs.integers(3))
        c = rs.uniform(0, d, 2)
        temp = rs.uniform(0.35, 0.62) if k < 2 else rs.uniform(0.02, 0.1)
        if k == 1:
            mm = _disc(d, c, rs.uniform(0.05, 0.12) * d)
        else:
            w, h = rs.uniform(0.08, 0.25, 2) * d
            mm = _fill(
                d,
                np.array([[c[0], c[1]], [c[0] + w, c[1]], [c[0] + w, c[1] + h], [c[0], c[1] + h]]),
            )
            if k == 0:
                mm *= 0.7 + 0.3 * np.sin(xx * (_TAU / (3 * p)))
        T = T + (temp - T) * _blur(mm, 1.5 * p)
    lay = _layout(rs, d, (0.4, 0.95), 15, aspect=(0.72, 0.86))
    f = lay.face
    u, v = f.local(d)
    skin = rs.uniform(0.52, 0.6)
    body = ((v > 0.85) & (np.abs(u) < f.aspect * (0.9 + np.clip(v - 1.05, 0, None) * 1.8))).astype(
        F32
    )
    neck = ((v > 0.5) & (v < 1.2) & (np.abs(u) < 0.42 * f.aspect)).astype(F32)
    T = T + (rs.uniform(0.3, 0.42) - T) * _blur(body, 1.5 * p)
    T = T + (skin - 0.04 - T) * _blur(neck, 1.5 * p)
    if rs.random() < 0.7:
        for sx in (-1, 1):
            T = T + (skin - 0.06 - T) * _fill(d, f.ell(sx * f.aspect * 0.98, 0.0, 0.15, 0.22))
    head = _fill(d, f.ell(0, 0, f.aspect, 1.0, n=96))
    T = T + (skin - T) * head
    T += head * 0.05 * np.exp(-((u / f.aspect) ** 2 + ((v + 0.5) / 0.3) ** 2))
    T -= 0.09 * np.exp(-((u / 0.12) ** 2 + ((v - lay.nose_v) / 0.12) ** 2))
    if rs.random() < 0.65:
        cap = _fill(d, f.ell(0, -0.06, f.aspect * 1.07, 1.03, n=96))
        hl = cap * np.clip((-0.45 + 0.1 * (_noise(rs, d, 6) - 0.5) - v) * 6, 0, 1)
        T = T + (rs.uniform(0.3, 0.42) - T) * hl
    if rs.random() < 0.2:
        for e in _eyes(lay, 1.8):
            T = T + (0.25 - T) * _fill(d, e)
        T = T + (0.35 - T) * _lines(
            d,
            f.xy(
                [-lay.eye_u + lay.eye_rx * 1.8, lay.eye_u - lay.eye_rx * 1.8],
                [lay.eye_v, lay.eye_v],
            ),
            1.2 * p,
        )
    else:
        for sx in (-1, 1):
            T += 0.05 * _fill(d, f.ell(sx * lay.eye_u, lay.eye_v, lay.eye_rx, lay.eye_ry))
            uc = sx * (lay.eye_u - lay.eye_rx * 0.7)
            T += 0.12 * np.exp(-(((u - uc) / 0.06) ** 2 + ((v - lay.eye_v) / 0.06) ** 2))
    T = _blur(T, 0.8 * p)

    m = _mouth(rm, lay, sign, d, (0.45, 0.3, 0.25), min_th=2.2, th_scale=1.3)
    mk = _mouth_masks(m, d)
    hot = 0.3 + 0.1 * m.tone
    if m.kind == "open":
        T += (
            (hot + 0.05) * mk["inner"]
            - 0.14 * mk["teeth"]
            + 0.5 * hot * mk["edge"] * (1 - mk["inner"])
        )
    else:
        T += hot * mk["shape"]
    T = _blur(T, rs.uniform(0.2, 0.5) * p)
    if rs.random() < 0.5:
        k = int(_pick(rs, [2, 2, 3]))
        T = cv2.resize(
            cv2.resize(T, (d // k, d // k), interpolation=cv2.INTER_AREA),
            (d, d),
            interpolation=cv2.INTER_LINEAR,
        )
    T = T + rs.normal(0, 0.01, (d, d)).astype(F32) + rs.normal(0, 0.008, d).astype(F32)[None, :]
    lo, hi = rs.uniform(0.05, 0.2), rs.uniform(0.92, 1.08)
    cm = int(_pick(rs, _CMAPS))
    u8 = (np.clip((T - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8)
    img = _cmap(u8, cm)

    hud = np.zeros((d, d), F32)
    fs = d / 420 * rs.uniform(0.85, 1.15)
    tk = max(1, round(float(p / 3)))
    if rs.random() < 0.8:
        hud = np.maximum(
            hud, _text_mask(d, f"{rs.uniform(30, 38):.1f}C", (0.04 * d, 0.09 * d), fs, tk)
        )
    if rs.random() < 0.6:
        c = np.array([d / 2, d / 2])
        hud = np.maximum(hud, _lines(d, _ell(c[0], c[1], 2 * p, 2 * p, 0, 24), 1.0, True))
        for a in range(4):
            dv = np.array([math.cos(a * math.pi / 2), math.sin(a * math.pi / 2)])
            hud = np.maximum(hud, _lines(d, np.array([c + dv * 3 * p, c + dv * 5 * p]), 1.0))
    if rs.random() < 0.6:
        bw, bh = 0.035 * d, 0.55 * d
        x0, y0 = d - 0.07 * d, 0.22 * d
        ramp = np.linspace(255, 0, int(bh)).astype(np.uint8)[:, None].repeat(max(1, int(bw)), 1)
        bar = _cmap(ramp, cm)
        img[int(y0) : int(y0) + bar.shape[0], int(x0) : int(x0) + bar.shape[1]] = bar
        hud = np.maximum(
            hud,
            _text_mask(
                d, f"{rs.uniform(36, 42):.0f}", (x0 - 0.02 * d, y0 - 0.02 * d), fs * 0.8, tk
            ),
        )
        hud = np.maximum(
            hud,
            _text_mask(
                d, f"{rs.uniform(15, 24):.0f}", (x0 - 0.02 * d, y0 + bh + 0.06 * d), fs * 0.8, tk
            ),
        )
    if rs.random() < 0.6:
        L = 0.08 * d
        for cx, cy, sx, sy in (
            (0.03, 0.03, 1, 1),
            (0.97, 0.03, -1, 1),
            (0.03, 0.97, 1, -1),
            (0.97, 0.97, -1, -1),
        ):
            c = np.array([cx * d, cy * d])
            arm = np.array([c + np.array([sx * L, 0.0]), c, c + np.array([0.0, sy * L])])
            hud = np.maximum(hud, _lines(d, arm, max(1.0, 0.5 * p)))
    if rs.random() < 0.5:
        hud = np.maximum(
            hud, _text_mask(d, "IR " + _rand_text(rs, 3, True), (0.05 * d, 0.95 * d), fs * 0.8, tk)
        )
    _paint(img, hud, (1, 1, 1), 0.9)
    return img


# --------------------------------------------------------------------------------------
# style: object collage
# --------------------------------------------------------------------------------------

_OBJ_COLS = (
    (0.85, 0.15, 0.15),
    (0.95, 0.75, 0.1),
    (0.15, 0.35, 0.75),
    (0.1, 0.55, 0.3),
    (0.95, 0.95, 0.92),
    (0.12, 0.1, 0.1),
    (0.6, 0.35, 0.2),
    (0.9, 0.45, 0.65),
    (0.55, 0.3, 0.65),
)
_LEAF_COLS = (
    (0.3, 0.55, 0.15),
    (0.85, 0.5, 0.1),
    (0.7, 0.2, 0.1),
    (0.55, 0.4, 0.15),
    (0.2, 0.4, 0.15),
)
_PEBBLE_COLS = (
    (0.55, 0.55, 0.55),
    (0.7, 0.65, 0.58),
    (0.35, 0.35, 0.38),
    (0.85, 0.82, 0.78),
    (0.5, 0.45, 0.4),
)


def _obj(
    img: Img,
    kind: str,
    c: np.ndarray,
    r: float,
    col: Color,
    ang: float,
    rv: np.ndarray,
    sh: np.ndarray,
) -> None:
    """Draw one small object (button, bead, pebble, leaf, coin) with a soft shadow."""
    d = img.shape[0]
    pad = r * 2.2 + float(np.abs(sh).max()) + 4
    x0, x1 = int(max(0, c[0] - pad)), int(min(d, c[0] + pad + 1))
    y0, y1 = int(max(0, c[1] - pad)), int(min(d, c[1] + pad + 1))
    if x1 <= x0 or y1 <= y0:
        return
    sub = img[y0:y1, x0:x1]
    h, w = sub.shape[:2]
    o = np.array([x0, y0], np.float64)
    cc = np.asarray(c, np.float64) - o
    col = _col(col)

    def F(*polys: np.ndarray) -> np.ndarray:
        return _fillr(h, w, polys)

    def D(center: np.ndarray, rad: float) -> np.ndarray:
        return F(_ell(center[0], center[1], rad, rad, 0, max(12, min(64, int(rad * 2)))))

    if kind == "leaf":
        t = np.linspace(-1, 1, 24)
        hw = 0.42 * r * (1 - t**2) ** 0.8
        ca, sa = math.cos(ang), math.sin(ang)
        ax = np.stack([ca, sa])
        nr = np.stack([-sa, ca])
        up = cc + np.outer(t * r, ax) + np.outer(hw, nr)
        dn = cc + np.outer(t * r, ax) - np.outer(hw, nr)
        shape = np.concatenate([up, dn[::-1]])
    elif kind == "pebble":
        a = np.linspace(0, _TAU, 28, endpoint=False)
        rr = r * (1 + 0.12 * np.sin(2 * a + rv[0] * 6) + 0.08 * np.sin(3 * a + rv[1] * 6))
        asp = 0.75 + 0.25 * rv[2]
        x, y = rr * np.cos(a), rr * np.sin(a) * asp
        shape = cc + np.stack(
            [x * math.cos(ang) - y * math.sin(ang), x * math.sin(ang) + y * math.cos(ang)], 1
        )
    else:
        shape = _ell(cc[0], cc[1], r, r, 0, max(16, min(64, int(r * 2))))
    m = F(shape)
    sub *= (1 - 0.45 * _blur(_shift(m, sh[0], sh[1]), max(0.6, 0.25 * r)))[..., None]
    _paint(sub, m, col)
    if kind == "button":
        _paint(sub, np.clip(m - D(cc, 0.78 * r), 0, 1), np.minimum(col * 1.15 + 0.05, 1))
        _paint(sub, D(cc, 0.72 * r), col * 0.9)
        nh = 2 if rv[0] < 0.5 else 4
        for k in range(nh):
            a = ang + k * _TAU / nh
            _paint(
                sub,
                D(cc + 0.28 * r * np.array([math.cos(a), math.sin(a)]), max(0.11 * r, 0.6)),
                col * 0.35,
            )
    elif kind == "bead":
        yy, xx = np.mgrid[0:h, 0:w].astype(F32)
        rad = np.hypot(xx - cc[0], yy - cc[1]) / max(r, 1e-3)
        _paint(sub, m * np.clip(rad - 0.45, 0, 1), col * 0.55)
        _paint(sub, D(cc - 0.35 * r, 0.25 * r), (1, 1, 1), 0.75)
    elif kind == "coin":
        _paint(sub, np.clip(m - D(cc, 0.8 * r), 0, 1), col * 0.75)
        _paint(sub, D(cc - 0.3 * r, 0.3 * r), (1, 1, 1), 0.35)
    elif kind == "leaf":
        ca, sa = math.cos(ang), math.sin(ang)
        rib = np.array([cc - 1.15 * r * np.array([ca, sa]), cc + 0.9 * r * np.array([ca, sa])])
        mm = np.zeros((h, w), np.uint8)
        cv2.polylines(
            mm, [_fix(rib)], False, 255, max(1, round(float(0.08 * r))), cv2.LINE_AA, _SHIFT
        )
        _paint(sub, mm.astype(F32) / 255, col * 0.6)
    else:
        yy, xx = np.mgrid[0:h, 0:w].astype(F32)
        g = ((xx - cc[0]) + (yy - cc[1])) / max(r, 1e-3)
        _paint(sub, m * np.clip(g * 0.25, 0, 0.5), col * 0.6)
        _paint(sub, m * np.clip(-g * 0.25, 0, 0.4), np.minimum(col * 1.3, 1))


def _s_collage(rs: Rng, rm: Rng, sign: int, d: int) -> Img:
    """A face laid out from buttons, beads, pebbles, leaves and yarn."""
    p = d / 64
    xx, yy = _grid(d)
    bg = int(rs.integers(5))
    if bg == 0:
        fc = _col(
            _pick(
                rs,
                [
                    (0.75, 0.2, 0.2),
                    (0.2, 0.35, 0.6),
                    (0.85, 0.8, 0.7),
                    (0.3, 0.5, 0.3),
                    (0.9, 0.75, 0.3),
                ],
            )
        )
        img = fc * (0.9 + 0.2 * _noise(rs, d, max(4, d // 3)))[..., None]
    elif bg == 1:
        lc = _col(_pick(rs, [(0.85, 0.8, 0.7), (0.7, 0.68, 0.62), (0.9, 0.88, 0.85)]))
        wv = np.sin(xx * (_TAU / (1.5 * p))) * np.sin(yy * (_TAU / (1.5 * p)))
        img = lc * (0.95 + 0.05 * wv + 0.1 * (_noise(rs, d, 6) - 0.5))[..., None]
    elif bg == 2:
        img = _wood(rs, d, _pick(rs, ["oak", "maple", "walnut", "ash"]))
    elif bg == 3:
        g = np.zeros((d, d, 3), np.uint8)
        g[:] = (40, 90, 35)
        for _ in range(int(500 * (d / 256) ** 2) + 100):
            x, y = rs.uniform(0, d, 2)
            a = rs.uniform(-0.5, 0.5) - math.pi / 2
            ln = rs.uniform(2, 5) * p
            c = tuple(int(v) for v in rs.uniform([30, 80, 20], [90, 160, 60]))
            cv2.line(
                g,
                (int(x * _ONE), int(y * _ONE)),
                (int((x + ln * math.cos(a)) * _ONE), int((y + ln * math.sin(a)) * _ONE)),
                c,
                1,
                cv2.LINE_AA,
                _SHIFT,
            )
        img = g.astype(F32) / 255
    else:
        img = _paper(rs, d, (0.72, 0.58, 0.42), 0.1)
    sh = (
        np.array([rs.uniform(0.6, 1.6), rs.uniform(0.6, 1.6)])
        * p
        * np.array([1 if rs.random() < 0.5 else -1, 1])
    )

    lay = _layout(rs, d, (0.45, 0.92), 18)
    f = lay.face
    for _ in range(int(rs.integers(4, 16))):
        c = rs.uniform(0, d, 2)
        kind = _pick(rs, ["button", "bead", "pebble", "leaf", "coin"])
        rr = rs.uniform(1.5, 4.0) * p
        col = _pick(
            rs, _LEAF_COLS if kind == "leaf" else _PEBBLE_COLS if kind == "pebble" else _OBJ_COLS
        )
        rv = rs.random(4)
        ang = rs.uniform(0, _TAU)
        cu = (c[0] - f.cx) * math.cos(f.ang) + (c[1] - f.cy) * math.sin(f.ang)
        cv = -(c[0] - f.cx) * math.sin(f.ang) + (c[1] - f.cy) * math.cos(f.ang)
        if (cu / (f.r * f.aspect)) ** 2 + (cv / f.r) ** 2 < 1.3**2:
            continue
        _obj(img, kind, c, rr, col, ang, rv, sh)

    plate = rs.random() < 0.4
    if plate:
        pc = _col(
            _pick(rs, [(0.97, 0.97, 0.95), (0.95, 0.9, 0.8), (0.75, 0.85, 0.9), (0.95, 0.8, 0.75)])
        )
        pm = _fill(d, f.ell(0, 0, f.aspect * 1.08, 1.08, n=96))
        _drop(img, pm, sh[0] * 1.5, sh[1] * 1.5, 2 * p, 0.45)
        _paint(img, pm, pc)
        _paint(img, np.clip(pm - _fill(d, f.ell(0, 0, f.aspect * 0.9, 0.9, n=96)), 0, 1), pc * 0.9)
    else:
        kind = _pick(rs, ["button", "pebble", "leaf", "bead", "coin"])
        rr = max(1.6 * p, rs.uniform(0.07, 0.11) * f.r)
        n = max(10, int(_TAU * f.r * (1 + f.aspect) / 2 / (2.1 * rr)))
        col = _col(
            _pick(
                rs,
                _LEAF_COLS if kind == "leaf" else _PEBBLE_COLS if kind == "pebble" else _OBJ_COLS,
            )
        )
        a0 = rs.uniform(0, _TAU)
        jit = rs.random((n, 4))
        for k in range(n):
            a = a0 + _TAU * k / n
            c = f.xy(f.aspect * math.cos(a), math.sin(a))
            _obj(
                img,
                kind,
                c,
                rr * (0.9 + 0.2 * jit[k, 0]),
                col * (0.9 + 0.2 * jit[k, 1]),
                a + math.pi / 2,
                jit[k],
                sh,
            )
    ek = _pick(rs, ["button", "coin", "bead"])
    estart = int(rs.integers(len(_OBJ_COLS)))
    erv = rs.random(4)
    eref = img[int(np.clip(f.cy, 0, d - 1)), int(np.clip(f.cx, 0, d - 1))]
    for k in range(len(_OBJ_COLS)):
        ecol = _col(_OBJ_COLS[(estart + k) % len(_OBJ_COLS)])
        if float(np.abs(ecol - eref).max()) > 0.4:
            break
    for e in _eyes(lay):
        _obj(img, ek, e.mean(0), max(1.8 * p, lay.eye_rx * f.r * 1.2), ecol, f.ang, erv, sh)
    if lay.brow:
        for b in _brows(lay):
            tw = _lines(d, b, max(1.0 * p, 0.035 * f.r))
            _drop(img, tw, sh[0], sh[1], 0.6 * p, 0.4)
            _paint(img, tw, (0.35, 0.22, 0.12))
    if lay.nose in (1, 2):
        _obj(
            img,
            "bead" if lay.nose == 1 else "leaf",
            f.xy(0.0, lay.nose_v - 0.05),
            max(1.3 * p, 0.07 * f.r),
            _pick(rs, _OBJ_COLS),
            f.ang + math.pi / 2,
            rs.random(4),
            sh,
        )

    m = _mouth(rm, lay, sign, d, (0.65, 0.1, 0.25), min_th=1.6)
    mkind = _pick_u(m.rand[0], ["bead", "button", "yarn"]) if m.mw >= 14 * p else "yarn"
    u, v = f.local(d)
    near = ((u / f.aspect) ** 2 + (v - lay.mouth_v) ** 2 < 0.3) & (v > 0.0)
    ref = img[near].mean(0) if near.any() else img.reshape(-1, 3).mean(0)
    start = int(m.rand[1] * len(_OBJ_COLS))
    lum = np.array([0.3, 0.59, 0.11], F32)
    cands = [_col(_OBJ_COLS[(start + k) % len(_OBJ_COLS)]) for k in range(len(_OBJ_COLS))]
    gaps = [abs(float((c - ref) @ lum)) for c in cands]
    ok = [c for c, g in zip(cands, gaps, strict=True) if g > 0.3]
    mcol = ok[0] if ok else cands[int(np.argmax(gaps))]
    s = float(np.clip(m.mw / (5 + 3 * m.rand[2]), 1.9 * p, 0.2 * f.r))
    path = m.center() if m.kind == "line" else np.vstack([m.loop(), m.loop()[:1]])
    if mkind == "yarn":
        th = max(1.6 * p, 0.55 * s) if m.kind == "line" else max(1.3 * p, 0.4 * s)
        ym = _lines(d, path, th, m.kind != "line")
        _drop(img, ym, sh[0], sh[1], 0.6 * p, 0.45)
        _paint(img, ym, mcol)
        st, _ = _stitches(d, path, max(1.0, 0.3 * th), th * 0.9, 0.45)
        _paint(img, st * ym, mcol * 0.6)
    else:
        pts = _resample(path, s * 1.02)
        if m.kind != "line":
            pts = pts[:-1]
        for k, c in enumerate(pts):
            rv = m.rand[(4 + 3 * k) % 60 : (4 + 3 * k) % 60 + 4]
            _obj(
                img,
                mkind,
                c,
                s / 2 * (0.95 + 0.1 * rv[0]),
                mcol * (0.92 + 0.16 * rv[1]),
                m.ang + _TAU * rv[2],
                rv,
                sh,
            )
    return img


# --------------------------------------------------------------------------------------
# render / finish
# --------------------------------------------------------------------------------------

_STYLE_FUNCS: dict[str, Callable[[Rng, Rng, int, int], Img]] = {
    "denim_embroidery": _s_denim,
    "pool_ripples": _s_pool,
    "wood_marquetry": _s_wood,
    "azulejo_tile": _s_azulejo,
    "coin_emboss": _s_coin,
    "spray_stencil": _s_stencil,
    "shadow_puppet": _s_puppet,
    "constellation": _s_stars,
    "ink_wash": _s_ink,
    "road_sign": _s_sign,
    "thermal_camera": _s_thermal,
    "object_collage": _s_collage,
}


def _child(ss: np.random.SeedSequence, k: int) -> np.random.SeedSequence:
    """Child k of ss, derived without mutating ss."""
    return np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, k))


def _finish(rs: Rng, img: Img, size: int) -> tuple[np.ndarray, str, int]:
    """Downscale, then apply label-free lighting, colour, blur, noise and a format choice."""
    out = cv2.resize(np.clip(img, 0, 1).astype(F32), (size, size), interpolation=cv2.INTER_AREA)
    xx, yy = _grid(size)
    if rs.random() < 0.5:
        a = rs.uniform(0, _TAU)
        ramp = ((xx - size / 2) * math.cos(a) + (yy - size / 2) * math.sin(a)) / size
        out *= (1 + rs.uniform(0.1, 0.35) * ramp)[..., None]
    if rs.random() < 0.3:
        rr = np.hypot(xx - size / 2, yy - size / 2) / (size * 0.7)
        out *= (1 - rs.uniform(0.1, 0.35) * rr**2)[..., None]
    gains = 1 + rs.uniform(-0.06, 0.06, 3).astype(F32)
    expo = rs.uniform(0.88, 1.1)
    gamma = rs.uniform(0.85, 1.15)
    out = np.clip(out * gains * expo, 0, 1) ** gamma
    if rs.random() < 0.3:
        out = _blur(out, rs.uniform(0.3, 0.8) * size / 128)
    if rs.random() < 0.45:
        sig = rs.uniform(0.008, 0.035)
        ch = 1 if rs.random() < 0.5 else 3
        out = out + rs.normal(0, sig, (size, size, ch)).astype(F32)
    q = int(rs.integers(40, 96))
    ext = "jpg" if rs.random() < 0.5 else "png"
    img8 = (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)
    return img8, ext, q


def render(
    ss: np.random.SeedSequence, sign: int, size: int, style: str | None = None
) -> tuple[np.ndarray, str, int]:
    """Render one RGB uint8 (size, size, 3) face; sign=+1 happy, -1 sad.

    Returns (image, file extension "png" or "jpg", JPEG quality). ``style`` forces a style.
    """
    if sign not in (1, -1):
        raise ValueError("sign must be +1 (happy) or -1 (sad)")
    rs = np.random.default_rng(_child(ss, 0))
    rm = np.random.default_rng(_child(ss, 1))
    drawn = STYLES[int(rs.integers(len(STYLES)))]
    name = drawn if style is None else style
    if name not in _STYLE_FUNCS:
        raise ValueError(f"unknown style {name!r}")
    d = 2 * int(size)
    img = _STYLE_FUNCS[name](rs, rm, int(sign), d)
    return _finish(rs, img, int(size))


# --------------------------------------------------------------------------------------
# writing the set
# --------------------------------------------------------------------------------------


def _marker(per_class: int, image_size: int, seed: int) -> dict:
    """The marker content that identifies this set."""
    return {
        "generator": GENERATOR,
        "version": VERSION,
        "per_class": per_class,
        "image_size": image_size,
        "seed": seed,
        "classes": list(CLASSES),
    }


def _holds(out: Path, marker: dict, per_class: int) -> bool:
    """True if out already holds exactly this set (marker and file counts match)."""
    mp = out / MARKER
    if not mp.is_file():
        return False
    try:
        if json.loads(mp.read_text()) != marker:
            return False
    except (OSError, ValueError):
        return False
    if {e.name for e in out.iterdir()} != {*CLASSES, MARKER}:
        return False
    for cls in CLASSES:
        cd = out / cls
        if not cd.is_dir():
            return False
        names = sorted(e.name for e in cd.iterdir())
        if len(names) != per_class:
            return False
        for i, name in enumerate(names):
            if name not in (f"{i:05d}.png", f"{i:05d}.jpg"):
                return False
    return True


def generate(out: Path, per_class: int, image_size: int, seed: int) -> Path:
    """Write the remote-faces set to out (atomically) and return out."""
    if per_class < 1 or image_size < 32 or seed < 0:
        raise ValueError("need per_class >= 1, image_size >= 32 and seed >= 0")
    out = Path(out)
    marker = _marker(per_class, image_size, seed)
    empty_dir = False
    if out.exists() or out.is_symlink():
        if out.is_dir() and _holds(out, marker, per_class):
            return out
        if out.is_dir() and not out.is_symlink() and not any(out.iterdir()):
            empty_dir = True
        else:
            raise FileExistsError(f"{out} exists and does not hold this remote-faces set")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for c, cls in enumerate(CLASSES):
            cd = tmp / cls
            cd.mkdir()
            sign = 1 if c == 0 else -1
            for i in range(per_class):
                img, ext, q = render(np.random.SeedSequence([seed, i]), sign, image_size)
                path = cd / f"{i:05d}.{ext}"
                params = [cv2.IMWRITE_JPEG_QUALITY, int(q)] if ext == "jpg" else []
                if not cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), params):
                    raise OSError(f"could not write {path}")
        (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        if empty_dir:
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description="Write the report-only remote-faces happy/sad set.")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--per-class", type=int, default=200)
    ap.add_argument("--image-size", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        path = generate(args.out, args.per_class, args.image_size, args.seed)
    except (FileExistsError, ValueError) as exc:
        print(f"remote_faces: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
