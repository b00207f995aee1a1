#!/usr/bin/env python3
"""Sketch faces: an independent generator of synthetic happy / sad face images (evaluation only).

What it draws
-------------
Every image is one face, labelled ``happy`` or ``sad``, in one of four drawing styles:

* **sticker**  – flat emoji-like discs (mostly yellow, also human tones and odd colours), optional
  dark outline, white die-cut border, drop shadow, glossy highlight or radial gradient;
* **cartoon**  – round / oval / egg / squarish heads with outlines, ears, hair (cap, fringe,
  spikes, curls, long hair, bun), hats, glasses, a neck and shirt-coloured shoulders;
* **sketch**   – pen or pencil line drawings with a wobbly hand-drawn stroke on paper (plain,
  ruled, squared) or chalk on a board, scribbled hair, sometimes a sloppy colour wash;
* **shaded**   – rough photo-like heads: per-pixel lit ellipsoid skin with soft edges, skin
  texture, eye sockets, soft hair, neck and shoulders, almond eyes with irises, lips, blur.

The label is carried by the mouth only: for ``happy`` its corners turn up (from a faint curve to
an open "D" grin with teeth / tongue), for ``sad`` they turn down (from a slight bend to a deep
arch, an open wailing mouth or a wobbly line).  About a third of the mouths of each class are
subtle (corner rise / drop of 3-12 % of the mouth width).  On about 27 % of the faces of each
class one or two extra signs are added: happy – eyes closed into ^ ^ arcs, rosy cheeks, tears of
joy; sad – brows with raised inner ends, droopy half-closed eyes, tears, a pout.  They never
replace the mouth.

Everything else (style, head shape and size 40-95 % of the frame, position incl. partial
cut-off, rotation up to 25 degrees, skin / hair / background colours, eyes, brows, nose, ears,
hair, hats, glasses, mouth width / thickness / colour / position, blur, noise, JPEG quality,
greyscale on ~10 %, low resolution on ~10 %) is drawn from a random stream that never sees the
label: each image has its own seed sequence ``[seed, class_index, i]`` which is split into an
appearance stream, an expression stream (the only one that knows the label) and a stream for
pen jitter and pixel noise.

Provenance: this script was written from a short written description of what happy and sad
faces look like, without reading the project's other face generators.

Usage::

    python scripts/sketch_faces.py --out DIR --per-class N --size PX --seed S

or ``generate(out, per_class, image_size, seed)`` from Python.  A marker file
(``.sketch_faces.json``) records the arguments; a later call with the same arguments reuses the
images instead of drawing them again.
"""

from __future__ import annotations

import argparse
import colorsys
import json
import math
import time
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace as NS

import cv2
import numpy as np

GENERATOR = "sketch_faces"
VERSION = 1
MARKER = ".sketch_faces.json"
CLASSES = ("happy", "sad")
STYLES = ("sticker", "cartoon", "sketch", "shaded")
STYLE_P = (0.27, 0.29, 0.20, 0.24)
SUBTLE_P = 1 / 3  # share of subtle mouths in each class
SIGN_P = 0.27  # share of faces (each class) with extra expression signs
HAPPY_SIGNS = ("arc_eyes", "cheeks", "joy_tears")
SAD_SIGNS = ("slant_brows", "droopy_eyes", "tears", "pout")
SHIFT = 4  # sub-pixel bits for cv2 drawing
ONE = float(1 << SHIFT)
TAU = 2 * math.pi

HUMAN_SKIN = np.array(
    [
        [255, 228, 206],
        [243, 204, 175],
        [231, 180, 142],
        [212, 154, 112],
        [184, 124, 84],
        [150, 98, 64],
        [112, 72, 48],
        [80, 52, 36],
        [58, 38, 28],
    ],
    float,
)
HAIR_COLOURS = np.array(
    [
        [20, 16, 14],
        [45, 30, 20],
        [90, 58, 30],
        [140, 96, 50],
        [210, 170, 100],
        [235, 210, 150],
        [160, 60, 25],
        [150, 150, 150],
        [230, 230, 225],
    ],
    float,
)


# --------------------------------------------------------------------------- small helpers
def _u(r: np.random.Generator, lo: float, hi: float) -> float:
    return float(r.uniform(lo, hi))


def _pick(r: np.random.Generator, items, p=None):
    if p is not None:
        p = np.asarray(p, float)
        p = p / p.sum()
    return items[int(r.choice(len(items), p=p))]


def _col(c) -> tuple[float, float, float]:
    return tuple(float(min(255.0, max(0.0, x))) for x in c)  # type: ignore[return-value]


def _lum(c) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v)) * 255.0


def _mix(a, b, t: float) -> np.ndarray:
    return np.asarray(a, float) * (1 - t) + np.asarray(b, float) * t


def _dist(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a, float) - np.asarray(b, float)))


def _contrast(c, bg, min_dist: float = 90.0, min_lum: float = 40.0):
    """c if it stands out from bg (also in grey), else black or white (whichever is further)."""
    if _dist(c, bg) >= min_dist and abs(_lum(c) - _lum(bg)) >= min_lum:
        return np.asarray(c, float)
    return np.array([25.0, 20, 20]) if _lum(bg) > 110 else np.array([240.0, 235, 230])


def _ell(u, v, a, b, ang=0.0, t0=0.0, t1=TAU, n=40) -> np.ndarray:
    t = np.linspace(t0, t1, n)
    x, y = a * np.cos(t), b * np.sin(t)
    ca, sa = math.cos(ang), math.sin(ang)
    return np.stack([u + x * ca - y * sa, v + x * sa + y * ca], 1)


def _xy(u, v) -> np.ndarray:
    return np.stack([np.asarray(u, float), np.asarray(v, float)], 1)


@lru_cache(maxsize=4)
def _grid(w: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:w, 0:w].astype(np.float32)
    return x, y


def _smooth01(t):
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


class Pen:
    """Draws in face-local units (u right, v DOWN, head from v=-1 to v=+1) onto an RGB image."""

    def __init__(self, img, cx, cy, s, rot_deg, rng, jit=0.0):
        self.img, self.cx, self.cy, self.s = img, cx, cy, s
        t = math.radians(rot_deg)
        self.c, self.sn = math.cos(t), math.sin(t)
        self.rng, self.jit = rng, jit

    def px(self, pts) -> np.ndarray:
        pts = np.asarray(pts, float).reshape(-1, 2)
        u, v = pts[:, 0], pts[:, 1]
        return np.stack(
            [
                self.cx + self.s * (u * self.c - v * self.sn),
                self.cy + self.s * (u * self.sn + v * self.c),
            ],
            1,
        )

    def local(self):
        """Per-pixel face-local coordinates (u, v)."""
        x, y = _grid(self.img.shape[0])
        dx, dy = x - self.cx, y - self.cy
        return (dx * self.c + dy * self.sn) / self.s, (-dx * self.sn + dy * self.c) / self.s

    def ipts(self, pts, jit=None) -> np.ndarray:
        j = self.jit if jit is None else jit
        pts = np.asarray(pts, float).reshape(-1, 2)
        if j > 0:
            if len(pts) < 16:  # densify short strokes so the jitter looks hand-drawn
                idx = np.linspace(0, len(pts) - 1, 16)
                pts = np.stack([np.interp(idx, np.arange(len(pts)), pts[:, i]) for i in (0, 1)], 1)
            # smooth wobble: random offsets at a few control points, interpolated along the stroke
            nc = max(4, len(pts) // 6)
            ctrl = self.rng.normal(0, j, (nc, 2))
            at = np.linspace(0, nc - 1, len(pts))
            pts = pts + np.stack([np.interp(at, np.arange(nc), ctrl[:, i]) for i in (0, 1)], 1)
        return np.round(self.px(pts) * ONE).astype(np.int32)

    def th(self, t: float) -> int:
        return max(1, round(t * self.s))

    def fill(self, pts, color, jit=0.0):
        cv2.fillPoly(self.img, [self.ipts(pts, jit)], _col(color), cv2.LINE_AA, SHIFT)

    def line(self, pts, color, t, closed=False, jit=None):
        cv2.polylines(
            self.img, [self.ipts(pts, jit)], closed, _col(color), self.th(t), cv2.LINE_AA, SHIFT
        )

    def dot(self, u, v, r, color):
        self.fill(_ell(u, v, r, r, n=24), color)

    def sample(self, u, v) -> np.ndarray:
        x, y = self.px([[u, v]])[0]
        w = self.img.shape[0] - 1
        return self.img[int(np.clip(round(y), 0, w)), int(np.clip(round(x), 0, w))].astype(float)

    def soft(self, polys, color, alpha, blur=0.0):
        """Alpha-blend filled polygons (optionally blurred) onto the image."""
        m = np.zeros(self.img.shape[:2], np.uint8)
        for p in polys:
            cv2.fillPoly(m, [self.ipts(p, 0.0)], 255, cv2.LINE_AA, SHIFT)
        if blur > 0:
            m = cv2.GaussianBlur(m, (0, 0), blur)
        a = (m.astype(np.float32) * (alpha / 255.0))[..., None]
        out = self.img.astype(np.float32) * (1 - a) + np.asarray(color, np.float32) * a
        self.img[:] = np.clip(out + 0.5, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- backgrounds
def _bg_colour(r) -> np.ndarray:
    return _hsv(r.random(), _u(r, 0.0, 0.85), _u(r, 0.12, 1.0))


def _background(r, w: int, kind: str) -> np.ndarray:
    x, y = _grid(w)
    xn, yn = x / w, y / w
    c0, c1 = _bg_colour(r), _bg_colour(r)
    if kind == "plain":
        img = np.empty((w, w, 3), np.float32)
        img[:] = c0
    elif kind == "gradient":
        if r.random() < 0.7:
            ang = _u(r, 0, TAU)
            t = (xn - 0.5) * math.cos(ang) + (yn - 0.5) * math.sin(ang)
        else:
            t = np.sqrt((xn - _u(r, 0, 1)) ** 2 + (yn - _u(r, 0, 1)) ** 2)
        t = (t - t.min()) / (np.ptp(t) + 1e-6)
        img = c0 + (c1 - c0) * t[..., None]
    elif kind == "noise":
        k = int(r.integers(2, 12))
        low = cv2.resize(
            r.uniform(0, 1, (k, k, 3)).astype(np.float32), (w, w), interpolation=cv2.INTER_CUBIC
        )
        img = c0 + (c1 - c0) * low
        img = img + r.normal(0, _u(r, 2, 22), (w, w, 1)).astype(np.float32)
    elif kind == "pattern":
        f = _u(r, 3, 14)
        sub = _pick(r, ("stripes", "checker", "dots", "waves"))
        if sub == "stripes":
            ang = _u(r, 0, TAU)
            t = np.sin(TAU * f * (xn * math.cos(ang) + yn * math.sin(ang))) > _u(r, -0.5, 0.5)
        elif sub == "checker":
            t = (np.floor(xn * f) + np.floor(yn * f)) % 2 > 0
        elif sub == "dots":
            t = ((xn * f) % 1 - 0.5) ** 2 + ((yn * f) % 1 - 0.5) ** 2 < _u(r, 0.05, 0.2)
        else:
            t = np.sin(TAU * f * yn + _u(r, 0.5, 3) * np.sin(TAU * _u(r, 1, 4) * xn)) > 0
        if r.random() < 0.5:  # low-contrast patterns too
            c1 = _mix(c0, c1, _u(r, 0.15, 0.6))
        img = np.where(t[..., None], c1.astype(np.float32), c0.astype(np.float32))
    elif kind == "clutter":
        base = _background(r, w, "gradient" if r.random() < 0.6 else "plain")
        for _ in range(int(r.integers(6, 30))):
            c = _col(_bg_colour(r))
            p = (int(r.integers(0, w)), int(r.integers(0, w)))
            sz = int(w * _u(r, 0.03, 0.3))
            th = -1 if r.random() < 0.6 else max(1, int(w * _u(r, 0.005, 0.03)))
            shp = r.integers(0, 4)
            if shp == 0:
                cv2.circle(base, p, sz, c, th, cv2.LINE_AA)
            elif shp == 1:
                cv2.rectangle(
                    base, p, (p[0] + sz, p[1] + int(sz * _u(r, 0.3, 2))), c, th, cv2.LINE_AA
                )
            elif shp == 2:
                q = (int(r.integers(0, w)), int(r.integers(0, w)))
                cv2.line(base, p, q, c, max(1, int(w * _u(r, 0.005, 0.04))), cv2.LINE_AA)
            else:
                tri = (np.array(p) + r.uniform(-sz, sz, (3, 2))).astype(np.int32)
                cv2.fillPoly(base, [tri], c, cv2.LINE_AA)
        if r.random() < 0.4:
            base = cv2.GaussianBlur(base, (0, 0), w * _u(r, 0.004, 0.03))
        return base
    elif kind == "paper":
        paper = np.array([_u(r, 232, 252), _u(r, 225, 246), _u(r, 200, 238)])
        img = np.empty((w, w, 3), np.float32)
        img[:] = paper
        k = int(r.integers(2, 6))
        low = cv2.resize(
            r.uniform(-1, 1, (k, k)).astype(np.float32), (w, w), interpolation=cv2.INTER_CUBIC
        )
        img = (
            img
            + (low * _u(r, 0, 12))[..., None]
            + r.normal(0, _u(r, 1, 6), (w, w, 1)).astype(np.float32)
        )
        ruled = r.random()
        if ruled < 0.45:
            step = w / _u(r, 7, 14)
            off = _u(r, 0, step)
            lc = np.array([_u(r, 120, 190), _u(r, 160, 210), _u(r, 210, 245)], np.float32)
            lines = np.abs(((y - off) % step) - step / 2) > step / 2 - max(1.0, w / 200)
            if ruled < 0.15:  # squared paper
                lines |= np.abs(((x - off) % step) - step / 2) > step / 2 - max(1.0, w / 200)
            img = np.where(lines[..., None], img * 0.4 + lc * 0.6, img)
    elif kind == "chalk":
        base = _pick(r, ([30, 55, 40], [25, 25, 28], [40, 45, 60]))
        img = np.empty((w, w, 3), np.float32)
        img[:] = np.asarray(base, float) + r.uniform(-10, 10, 3)
        k = int(r.integers(3, 8))
        low = cv2.resize(
            r.uniform(0, 1, (k, k)).astype(np.float32), (w, w), interpolation=cv2.INTER_CUBIC
        )
        img = img + (low * _u(r, 5, 30))[..., None] + r.normal(0, 4, (w, w, 1)).astype(np.float32)
    else:  # bokeh: gradient with big soft blobs
        img = _background(r, w, "gradient").astype(np.float32)
        over = img.copy()
        for _ in range(int(r.integers(4, 14))):
            cv2.circle(
                over,
                (int(r.integers(0, w)), int(r.integers(0, w))),
                int(w * _u(r, 0.04, 0.25)),
                _col(_bg_colour(r)),
                -1,
            )
        img = cv2.GaussianBlur(img * 0.4 + over * 0.6, (0, 0), w * _u(r, 0.02, 0.06))
    return np.clip(img, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- appearance
def _skin(r, style: str) -> np.ndarray:
    p = {
        "sticker": (0.2, 0.55, 0.25),
        "cartoon": (0.62, 0.12, 0.26),
        "sketch": (0.6, 0.15, 0.25),
        "shaded": (0.8, 0.04, 0.16),
    }[style]
    kind = _pick(r, ("human", "yellow", "odd"), p)
    if kind == "human":
        t = _u(r, 0, len(HUMAN_SKIN) - 1)
        i = int(t)
        c = _mix(HUMAN_SKIN[i], HUMAN_SKIN[min(i + 1, len(HUMAN_SKIN) - 1)], t - i)
        return np.clip(c + r.uniform(-10, 10, 3), 0, 255)
    if kind == "yellow":
        return np.array([_u(r, 240, 255), _u(r, 190, 228), _u(r, 20, 95)])
    return _hsv(r.random(), _u(r, 0.15, 0.85), _u(r, 0.4, 1.0))


def _head_pts(f, scale=1.0, t0=0.0, t1=TAU, n=96, endpoint=False) -> np.ndarray:
    """Head outline (superellipse, egg and jaw deformation) in local units; t=3pi/2 is the top."""
    t = np.linspace(t0, t1, n, endpoint=endpoint)
    c, s = np.cos(t), np.sin(t)
    e = 2.0 / f.n
    y = np.sign(s) * np.abs(s) ** e
    x = np.sign(c) * np.abs(c) ** e
    a = f.a * (1 - f.egg * y) * (1 - f.jaw * np.clip(y, 0, None) ** 2)
    return np.stack([x * a * scale, y * scale], 1)


def _head_halfwidth(f, v: float) -> float:
    v = min(abs(v), 0.999) * (1 if v >= 0 else -1)
    a = f.a * (1 - f.egg * v) * (1 - f.jaw * max(v, 0) ** 2)
    return a * (1 - abs(v) ** f.n) ** (1 / f.n)


def _sample_appearance(r, size: int) -> NS:
    ss = 2 if size <= 256 else 1
    f = NS(size=size, ss=ss, W=size * ss)
    W = f.W
    f.style = style = _pick(r, STYLES, STYLE_P)

    # head shape
    if style == "sticker":
        f.a, f.n, f.egg, f.jaw = _u(r, 0.86, 1.0), 2.0, _u(r, -0.05, 0.05), 0.0
        if r.random() < 0.2:
            f.n = _u(r, 2.2, 3.2)
    else:
        shape = _pick(r, ("round", "oval", "egg", "square"), (0.3, 0.3, 0.2, 0.2))
        f.n, f.egg, f.jaw = 2.0, _u(r, -0.04, 0.04), _u(r, 0.0, 0.12)
        f.a = _u(r, 0.84, 0.98)
        if shape == "oval":
            f.a, f.jaw = _u(r, 0.68, 0.84), _u(r, 0.0, 0.15)
        elif shape == "egg":
            f.a, f.jaw = _u(r, 0.72, 0.9), _u(r, 0.05, 0.25)
            f.egg = _u(r, 0.08, 0.18) if r.random() < 0.7 else _u(r, -0.15, -0.06)
        elif shape == "square":
            f.a, f.n, f.egg, f.jaw = (
                _u(r, 0.76, 0.95),
                _u(r, 2.8, 4.5),
                _u(r, -0.05, 0.08),
                _u(r, 0, 0.2),
            )

    f.frac = _u(r, 0.40, 0.95)
    f.s = f.frac * W / 2
    f.rot = float(np.clip(r.normal(0, 11), -25, 25))
    f.skin = _skin(r, style)
    slum = _lum(f.skin)
    dark_ink = np.array([_u(r, 10, 70), _u(r, 8, 50), _u(r, 5, 45)])
    f.ink = (
        dark_ink
        if slum > 95
        else (dark_ink * 0.3 if r.random() < 0.5 else np.array([235.0, 230, 225]))
    )

    # eyes
    eye_p = {
        "sticker": (0.2, 0.38, 0.26, 0.0, 0.08, 0.08, 0.0),
        "cartoon": (0.25, 0.1, 0.5, 0.0, 0.08, 0.07, 0.0),
        "sketch": (0.3, 0.0, 0.15, 0.35, 0.1, 0.1, 0.0),
        "shaded": (0.0, 0.0, 0.0, 0.0, 0.07, 0.06, 0.87),
    }[style]
    E = NS(type=_pick(r, ("dot", "oval", "sclera", "ring", "arc", "line", "real"), eye_p))
    E.ev = _u(r, -0.32, 0.0)
    E.ry = _u(r, 0.07, 0.17)
    E.rx = E.ry * _u(r, 0.6, 1.4)
    if E.type == "real":
        E.ry = _u(r, 0.06, 0.1)
        E.rx = E.ry * _u(r, 1.5, 2.1)
    E.ex = max(_u(r, 0.26, 0.44) * f.a, E.rx + 0.05)
    E.gaze = (
        (_u(r, 0.3, 0.7) * (1 if r.random() < 0.5 else -1), _u(r, -0.3, 0.3))
        if r.random() < 0.3
        else (0.0, 0.0)
    )
    E.pf = _u(r, 0.35, 0.65)
    E.iris = (
        _pick(r, ([90, 60, 30], [60, 100, 160], [80, 120, 70], [110, 110, 110], [40, 25, 15]))
        if r.random() < 0.5
        else None
    )
    E.sclera = np.array([_u(r, 235, 255)] * 3) - np.array([0, 0, _u(r, 0, 15)])
    E.highlight = r.random() < 0.5
    E.lt = _u(r, 0.015, 0.04)
    E.curv = _u(r, -0.15, 0.5)  # neutral closed eyes: mostly a downward bulge
    E.lash = r.random() < 0.25
    f.eye = E

    # brows (the spec always exists: sad faces may show them even when the style would not)
    B = NS(
        show=r.random() < {"sticker": 0.25, "cartoon": 0.6, "sketch": 0.45, "shaded": 0.9}[style]
    )
    B.gap = _u(r, 0.07, 0.2)
    B.bv = E.ev - E.ry - B.gap
    B.bl = _u(r, 0.1, 0.2)
    B.tilt = _u(r, -8, 8)
    B.arch = _u(r, -0.015, 0.05)
    B.th = _u(r, 0.02, 0.06)
    B.shift = _u(r, -0.03, 0.04)
    f.brow = B

    # mouth geometry (label-free)
    M = NS()
    M.my = _u(r, max(0.3, E.ev + E.ry + 0.14), 0.64)
    M.mx = _u(r, -0.05, 0.05)
    M.hw = min(_u(r, 0.15, 0.44) * f.a, 0.8 * _head_halfwidth(f, M.my))
    M.th = _u(r, 0.02, 0.07) if style != "sketch" else _u(r, 0.012, 0.035)
    M.p, M.p2 = _u(r, 1.6, 3.0), _u(r, 1.6, 3.0)
    M.asym = _u(r, -0.25, 0.25)
    M.tilt = _u(r, -0.25, 0.25)
    M.wob = _u(r, 0.06, 0.16) if r.random() < 0.15 else 0.0
    M.wf, M.wph = _u(r, 1.5, 3.5), _u(r, 0, TAU)
    mk = _pick(r, ("ink", "red", "light", "skin"), (0.45, 0.2, 0.15, 0.2))
    if mk == "red":
        mc = np.array([_u(r, 150, 225), _u(r, 20, 70), _u(r, 40, 80)])
    elif mk == "light" and slum < 120:
        mc = np.array([_u(r, 215, 250), _u(r, 180, 230), _u(r, 180, 230)])
    elif mk == "skin":
        mc = f.skin * _u(r, 0.3, 0.5)
    else:
        mc = f.ink
    M.colour = _contrast(mc, f.skin, 85)
    lip = _pick(r, ([200, 60, 70], [180, 80, 90], [150, 60, 60], [220, 110, 120], [120, 50, 60]))
    M.lip = _contrast(_mix(f.skin, lip, _u(r, 0.5, 1.0)), f.skin, 55)
    M.lipline = M.lip * 0.5
    M.lu, M.ll = _u(r, 0.025, 0.06), _u(r, 0.03, 0.08)
    M.inner = np.array([_u(r, 30, 110), _u(r, 5, 35), _u(r, 15, 45)])
    M.teeth = np.array([_u(r, 235, 255), _u(r, 235, 255), _u(r, 215, 245)])
    M.tongue = np.array([_u(r, 200, 240), _u(r, 70, 120), _u(r, 90, 130)])
    M.fill_open = style != "sketch" or r.random() < 0.6
    f.mouth = M

    # nose
    show_nose = r.random() < {"sticker": 0.15, "cartoon": 0.7, "sketch": 0.55, "shaded": 1.0}[style]
    f.nose = None
    if show_nose:
        f.nose = NS(
            type=_pick(r, ("dots", "L", "hook", "button", "tri", "line"))
            if style != "shaded"
            else "shade",
            nv=(E.ev + E.ry + M.my) / 2 + _u(r, -0.04, 0.04),
            size=_u(r, 0.06, 0.13),
            col=_contrast(f.skin * _u(r, 0.45, 0.7), f.skin, 50) if r.random() < 0.6 else f.ink,
        )

    # hair, ears, neck, hat, glasses
    hair_p = {"sticker": 0.1, "cartoon": 0.82, "sketch": 0.55, "shaded": 0.78}[style]
    f.hair = None
    if r.random() < hair_p:
        hc = HAIR_COLOURS[int(r.integers(len(HAIR_COLOURS)))] + r.uniform(-12, 12, 3)
        if r.random() < 0.1:
            hc = _hsv(r.random(), _u(r, 0.5, 1), _u(r, 0.5, 1))
        f.hair = NS(
            type=_pick(
                r,
                ("cap", "fringe", "spiky", "curly", "long", "bun", "mohawk"),
                (0.22, 0.2, 0.12, 0.12, 0.2, 0.07, 0.07),
            ),
            col=np.clip(hc, 0, 255),
            vf=min(_u(r, -0.78, -0.48), B.bv - 0.12),
            beta=_u(r, -0.15, 0.45),
            scale=_u(r, 1.03, 1.12),
            curv=_u(r, 0.0, 0.35),
            zz=_u(r, 0.0, 0.07) if r.random() < 0.35 else 0.0,
            sw=_u(r, -0.25, 0.25) if r.random() < 0.4 else 0.0,
            n=int(r.integers(5, 11)),
            long=_u(r, 0.7, 1.6),
        )
    f.ears = r.random() < {"sticker": 0.05, "cartoon": 0.7, "sketch": 0.4, "shaded": 0.5}[style]
    f.ear_v, f.ear_r = E.ev + _u(r, 0.0, 0.2), _u(r, 0.15, 0.25)
    f.neck = r.random() < {"sticker": 0.0, "cartoon": 0.65, "sketch": 0.3, "shaded": 0.75}[style]
    f.neck_w = _u(r, 0.28, 0.45) * f.a
    f.shoulder_v, f.shoulder_w = _u(r, 1.25, 1.5), _u(r, 1.5, 2.3) * f.a
    f.shirt = _hsv(r.random(), _u(r, 0, 0.9), _u(r, 0.2, 0.95))
    f.hat = None
    if r.random() < {"sticker": 0.08, "cartoon": 0.14, "sketch": 0.08, "shaded": 0.0}[style]:
        f.hat = NS(
            type=_pick(r, ("beanie", "cap", "tophat")),
            col=_bg_colour(r),
            col2=_bg_colour(r),
            pom=r.random() < 0.5,
            side=1 if r.random() < 0.5 else -1,
        )
    f.glasses = None
    if r.random() < (0.12 if E.type != "real" else 0.05):
        f.glasses = NS(
            round=r.random() < 0.5,
            sun=r.random() < 0.2,
            col=_pick(
                r, ([20, 20, 20], [90, 50, 20], [160, 30, 30], [30, 60, 150], [200, 170, 60])
            ),
            t=_u(r, 0.02, 0.045),
            size=_u(r, 1.3, 1.8),
        )

    # style-specific looks
    f.outline = None
    f.outline_t = _u(r, 0.02, 0.06)
    if style == "sticker":
        if r.random() < 0.55:
            f.outline = f.skin * _u(r, 0.25, 0.55) if r.random() < 0.6 else f.ink
        f.die_cut = r.random() < 0.25
        f.shadow = r.random() < 0.3
        f.highlight = r.random() < 0.4
        f.radial = r.random() < 0.35
    elif style == "cartoon":
        if r.random() < 0.8:
            f.outline = f.skin * _u(r, 0.3, 0.6) if r.random() < 0.6 else f.ink
        f.outline_t = _u(r, 0.015, 0.04)
    elif style == "sketch":
        chalk = r.random() < 0.15
        f.bg_kind = (
            "chalk"
            if chalk
            else _pick(r, ("paper", "plain", "noise", "gradient"), (0.75, 0.1, 0.08, 0.07))
        )
        if chalk:
            f.ink = np.array([_u(r, 215, 250), _u(r, 215, 250), _u(r, 200, 245)])
            if r.random() < 0.3:
                f.ink = _hsv(r.random(), _u(r, 0.2, 0.5), 0.95)
        else:
            f.ink = _pick(
                r,
                (
                    [40, 40, 45],
                    [90, 90, 95],
                    [25, 35, 130],
                    [20, 20, 20],
                    [110, 60, 30],
                    [150, 30, 30],
                ),
            )
            f.ink = np.asarray(f.ink, float) + r.uniform(-10, 10, 3)
        f.outline = f.ink
        f.outline_t = _u(r, 0.01, 0.03)
        f.jit = _u(r, 0.004, 0.016)
        f.passes = 1 if r.random() < 0.6 else 2
        f.wash = None if r.random() < 0.65 else f.skin
        f.wash_off = (_u(r, -0.08, 0.08), _u(r, -0.08, 0.08))
        f.mouth.colour = (
            f.ink if r.random() < 0.8 else np.array([_u(r, 170, 220), _u(r, 20, 60), _u(r, 30, 70)])
        )
        f.mouth.lip = f.mouth.colour
        f.mouth.lipline = f.ink
        f.eye.sclera = None
        if f.nose is not None:
            f.nose.col = f.ink
        f.brow_col = f.ink
    if style == "shaded":
        f.light = (_u(r, -0.7, 0.7), _u(r, -0.8, 0.3))
        f.amb = _u(r, 0.35, 0.6)
        f.soft = _u(r, 0.02, 0.08)
        f.tex = _u(r, 0.02, 0.08)
        f.blur = _u(r, 0.5, 1.5)
        f.mouth.lip = _mix(
            f.skin, _pick(r, ([190, 70, 85], [160, 60, 60], [140, 50, 65])), _u(r, 0.5, 0.85)
        )
        if _lum(f.skin) < 90:
            f.mouth.lip = _mix(f.mouth.lip, [235, 160, 165], _u(r, 0.2, 0.5))
        f.mouth.lipline = _contrast(f.mouth.lip * _u(r, 0.25, 0.45), f.skin, 60, 45)
        f.mouth.colour = f.mouth.lipline
        f.mouth.th = _u(r, 0.015, 0.035)
        f.eye.sclera = np.array([_u(r, 215, 240), _u(r, 210, 235), _u(r, 205, 230)])
        f.eye.iris = _pick(
            r, ([90, 60, 30], [60, 100, 150], [80, 110, 70], [50, 35, 25], [110, 100, 90])
        )
        f.ink = np.array([_u(r, 15, 50), _u(r, 10, 35), _u(r, 10, 30)])
    if style != "sketch":
        f.brow_col = f.hair.col * 0.85 if (f.hair is not None and r.random() < 0.7) else f.ink
        f.brow_col = _contrast(f.brow_col, f.skin, 60)
    if style in ("sticker", "cartoon"):
        f.bg_kind = _pick(
            r,
            ("plain", "gradient", "noise", "pattern", "clutter", "bokeh"),
            (0.2, 0.2, 0.15, 0.2, 0.2, 0.05),
        )
    elif style == "shaded":
        f.bg_kind = _pick(
            r, ("bokeh", "gradient", "noise", "clutter", "plain"), (0.35, 0.22, 0.23, 0.12, 0.08)
        )

    f.bg = _background(r, W, f.bg_kind)
    if style == "sketch" and f.bg_kind != "chalk" and f.bg_kind != "paper":
        f.bg = (f.bg.astype(np.float32) * 0.3 + 255 * 0.7).astype(np.uint8)
    if style == "shaded" and r.random() < 0.7:
        f.bg = cv2.GaussianBlur(f.bg, (0, 0), W * _u(r, 0.005, 0.02))

    # placement: allow partial cut-off, but keep the mouth inside the frame
    hx, hy = f.a * f.s, f.s
    cut = r.random() < 0.22
    lo_x = hx * (0.55 if cut else 1.0)
    lo_y = hy * (0.55 if cut else 1.0)
    for _ in range(20):
        cx = _u(r, lo_x, W - lo_x) if lo_x < W - lo_x else W / 2 + _u(r, -0.06, 0.06) * W
        cy = _u(r, lo_y, W - lo_y) if lo_y < W - lo_y else W / 2 + _u(r, -0.06, 0.06) * W
        pen = Pen(None, cx, cy, f.s, f.rot, None)
        pts = pen.px(
            [[M.mx - M.hw, M.my], [M.mx + M.hw, M.my], [M.mx, M.my - 0.25], [M.mx, M.my + 0.25]]
        )
        if pts.min() > 0.04 * W and pts.max() < 0.96 * W:
            break
    else:
        cx = cy = W / 2
    f.cx, f.cy = cx, cy

    # post-processing
    f.gain, f.bias, f.gamma = _u(r, 0.8, 1.15), _u(r, -20, 20), _u(r, 0.8, 1.25)
    f.post_blur = _u(r, 0.3, 1.0) if r.random() < 0.25 else 0.0
    f.lowres = _u(r, 0.3, 0.6) if r.random() < 0.1 else 0.0
    f.lowres_nearest = r.random() < 0.3
    f.noise = _u(r, 2, 10) if r.random() < 0.3 else 0.0
    f.grey = r.random() < 0.1
    f.jpeg = int(r.integers(30, 96)) if r.random() < 0.5 else 0
    return f


# --------------------------------------------------------------------------- expression
def _sample_expression(r, label: int, f) -> NS:
    e = NS(sg=-1.0 if label == 0 else 1.0)  # v points down: happy corners at smaller v
    e.subtle = r.random() < SUBTLE_P
    if e.subtle:
        e.k = _u(r, 0.03, 0.12)
        e.kind = _pick(r, ("line", "lips"), (0.62, 0.38))
    else:
        e.k = _u(r, 0.12, 0.42)
        e.kind = _pick(r, ("line", "lips", "open"), (0.4, 0.23, 0.37))
    e.h0, e.f1 = _u(r, 0.15, 0.65), _u(r, 0.0, 0.6)
    e.teeth, e.teeth_h, e.lower_teeth = r.random() < 0.5, _u(r, 0.2, 0.45), r.random() < 0.2
    e.tongue, e.tongue_h = r.random() < 0.35, _u(r, 0.25, 0.55)
    e.signs = set()
    if r.random() < SIGN_P:
        pool = list(HAPPY_SIGNS if label == 0 else SAD_SIGNS)
        if f.eye.type in ("line", "arc"):
            pool = [s for s in pool if s != "droopy_eyes"]
        if e.kind == "open":
            pool = [s for s in pool if s != "pout"]
        n = 1 if r.random() < 0.7 else 2
        e.signs = {pool[i] for i in r.choice(len(pool), size=n, replace=False)}
    e.brow_tilt = _u(r, 20, 35)
    e.droop = _u(r, 0.05, 0.35)
    e.n_tears = int(r.integers(1, 3))
    e.tear_r = _u(r, 0.035, 0.07)
    e.stream = r.random() < 0.3
    e.cheek_a = _u(r, 0.3, 0.65)
    e.arc_h = _u(r, 0.5, 1.0)
    return e


# --------------------------------------------------------------------------- drawing parts
def _mouth_curves(f, e):
    """Mouth polyline(s): (u, [v]) for a line, (u, [top, bottom]) for an open mouth."""
    m = f.mouth
    x = np.linspace(-1, 1, 41)
    ax, sx = np.abs(x), np.sign(x)
    d = e.k * 2 * m.hw  # corner rise / drop in local units
    prof = ax**m.p * (1 + m.asym * sx)  # 0 at the centre, ~1 at the corners
    tilt = m.tilt * d * x
    u = m.mx + m.hw * x
    if e.kind != "open":
        wob = 0.0 if e.subtle else m.wob * d * np.sin(m.wf * math.pi * x + m.wph) * (1 - x * x)
        vs = [e.sg * d * prof + tilt + wob]
    else:
        prof2 = ax**m.p2 * (1 + m.asym * sx)
        dt, db = e.f1 * d, d + e.h0 * m.hw
        if e.sg < 0:  # happy: both edges sag in the middle, corners up ("D")
            vs = [dt * (1 - prof) + tilt, db * (1 - prof2) + tilt]
        else:  # sad: both edges arch up in the middle, corners down
            vs = [-db * (1 - prof2) + tilt, -dt * (1 - prof) + tilt]
    lo = min(v.min() for v in vs)
    hi = max(v.max() for v in vs)
    mid = (lo + hi) / 2
    room = 2 * min(0.93 - m.my, m.my - (f.eye.ev + f.eye.ry + 0.06))
    sc = min(1.0, room / max(hi - lo, 1e-6)) if room > 0 else 1.0
    vs = [m.my + (v - mid) * sc for v in vs]
    return x, u, vs


def _draw_mouth(pen, f, e):
    m = f.mouth
    x, u, vs = _mouth_curves(f, e)
    jit = min(pen.jit * 0.5, 0.08 * e.k * 2 * m.hw)
    if e.kind == "line":
        if "pout" in e.signs:
            c = vs[0][len(x) // 2]
            pen.fill(
                _ell(m.mx, c + m.th * 0.5 + 0.035, 0.38 * m.hw, _u(pen.rng, 0.035, 0.06)), m.lip
            )
        pen.line(_xy(u, vs[0]), m.colour, m.th, jit=jit)
    elif e.kind == "lips":
        v = vs[0]
        env = (1 - x * x) ** 0.6
        up = v - m.lu * env * (1 - 0.15 * np.exp(-((x / 0.2) ** 2)))
        lo = v + m.ll * env * (1.35 if "pout" in e.signs else 1.0)
        poly = np.concatenate([_xy(u, up), _xy(u[::-1], lo[::-1])])
        if f.style == "sketch":
            pen.line(poly, m.colour, m.th * 0.7, closed=True, jit=jit)
        else:
            pen.fill(poly, m.lip)
        pen.line(_xy(u, v), m.lipline, max(0.012, m.th * 0.5), jit=jit)
    else:
        top, bot = vs
        poly = np.concatenate([_xy(u, top), _xy(u[::-1], bot[::-1])])
        gap = float((bot - top).max())
        if m.fill_open:
            pen.fill(poly, m.inner)
            if e.tongue:
                bump = np.clip(1 - (x / 0.6) ** 2, 0, None)
                tt = np.maximum(bot - e.tongue_h * gap * bump, top)
                pen.fill(np.concatenate([_xy(u, tt), _xy(u[::-1], bot[::-1])]), m.tongue)
            if e.teeth:
                tb = np.minimum(top + e.teeth_h * gap, bot)
                pen.fill(np.concatenate([_xy(u, top), _xy(u[::-1], tb[::-1])]), m.teeth)
            if e.lower_teeth:
                tb = np.maximum(bot - 0.18 * gap, top)
                pen.fill(np.concatenate([_xy(u, tb), _xy(u[::-1], bot[::-1])]), m.teeth)
        elif e.teeth and e.lower_teeth:
            pen.line(_xy(u, np.minimum(top + e.teeth_h * gap, bot)), m.colour, m.th * 0.6, jit=jit)
        pen.line(poly, m.colour, m.th, closed=True, jit=jit)


def _draw_eye(pen, f, e, side: int):
    E = f.eye
    cu, cv = side * E.ex, E.ev
    ink = f.ink
    lt = E.lt if f.style != "sketch" else max(E.lt * 0.6, f.outline_t)
    if "arc_eyes" in e.signs:  # happy: closed eyes bulging upwards (^ ^)
        x = np.linspace(-1, 1, 21)
        h = max(E.ry, 0.06) * e.arc_h
        v = cv + h * 0.4 - h * (1 - x * x) ** 1.2
        pen.line(_xy(cu + x * max(E.rx, 0.08) * 1.1, v), ink, max(lt * 1.4, 0.025))
        return
    skin_above = pen.sample(cu, cv - E.ry * 1.6)
    gx, gy = E.gaze
    if E.type == "dot":
        r = max(min(E.rx, E.ry) * 0.5, 0.03)
        pen.dot(cu + gx * r * 0.3, cv, r, ink)
        rx, ry = r, r
    elif E.type == "oval":
        rx, ry = E.rx * 0.55, E.ry
        pen.fill(_ell(cu + gx * rx * 0.3, cv, rx, ry), ink)
        if E.highlight:
            pen.dot(cu + gx * rx * 0.3 - rx * 0.3, cv - ry * 0.45, rx * 0.3, (250, 250, 250))
    elif E.type in ("sclera", "ring"):
        rx, ry = E.rx, E.ry
        if E.type == "sclera" and E.sclera is not None:
            pen.fill(_ell(cu, cv, rx, ry), E.sclera)
        pr = min(rx, ry) * E.pf
        pu, pv = cu + gx * (rx - pr) * 0.85, cv + gy * (ry - pr) * 0.85
        if E.iris is not None and E.type == "sclera" and f.style != "sketch":
            pen.dot(pu, pv, pr, E.iris)
            pen.dot(pu, pv, pr * 0.5, ink)
        else:
            pen.dot(pu, pv, pr * (0.8 if E.type == "sclera" else 0.55), ink)
        if E.highlight and E.type == "sclera":
            pen.dot(pu - pr * 0.35, pv - pr * 0.35, pr * 0.28, (255, 255, 255))
        pen.line(_ell(cu, cv, rx, ry), ink, lt, closed=True)
        if E.lash:
            for k in (-0.6, -0.2, 0.2):
                a0 = math.pi * 1.5 + side * k
                p0 = (cu + rx * math.cos(a0), cv + ry * math.sin(a0))
                pen.line([p0, (p0[0] + side * 0.04, p0[1] - 0.05)], ink, lt * 0.8)
    elif E.type == "real":
        x = np.linspace(-1, 1, 25)
        rx, ry = E.rx, E.ry
        up = cv - ry * (1 - x * x) ** 0.8 + 0.15 * ry * x * side
        lo = cv + ry * 0.6 * (1 - x * x) ** 0.9
        u = cu + rx * x
        pen.fill(np.concatenate([_xy(u, up), _xy(u[::-1], lo[::-1])]), E.sclera)
        pr = ry * 0.95
        pu, pv = cu + gx * rx * 0.45, cv + gy * ry * 0.2
        for rr, col in ((pr, E.iris), (pr * 0.45, (12, 10, 10))):
            c = _ell(pu, pv, rr, rr, n=30)
            xi = np.clip((c[:, 0] - cu) / rx, -1, 1)
            c[:, 1] = np.clip(
                c[:, 1],
                cv - ry * (1 - xi * xi) ** 0.8 + 0.15 * ry * xi * side,
                cv + ry * 0.6 * (1 - xi * xi) ** 0.9,
            )
            pen.fill(c, col)
        pen.line(_xy(u, up), ink, max(lt, 0.02))
        pen.line(_xy(u, lo), f.skin * 0.55, lt * 0.5)
    elif E.type == "line":
        x = np.linspace(-1, 1, 9)
        pen.line(_xy(cu + x * E.rx, cv + E.curv * 0.3 * E.ry * (1 - x * x)), ink, max(lt, 0.022))
        return
    else:  # neutral closed eye
        x = np.linspace(-1, 1, 15)
        pen.line(_xy(cu + x * E.rx, cv + E.curv * E.ry * (1 - x * x)), ink, max(lt, 0.022))
        return
    if "droopy_eyes" in e.signs:  # sad: heavy upper lid, lower at the outer corner
        x = np.linspace(-1.25, 1.25, 15)  # -1 = inner end
        lid = (
            cv
            - ry * 0.3
            + (x + 1.25) / 2.5 * ry * (0.3 + e.droop)
            - 0.12 * ry * (1 - (x / 1.25) ** 2)
        )
        u = cu + side * x * rx
        cover = np.concatenate([_xy(u, lid), [[u[-1], cv - ry * 1.45], [u[0], cv - ry * 1.45]]])
        pen.fill(cover, skin_above)
        pen.line(_xy(u, lid), ink, max(lt, 0.02))


def _draw_brow(pen, f, e, side: int):
    B = f.brow
    sad = "slant_brows" in e.signs
    tilt, bv, arch = (
        (e.brow_tilt, B.bv - 0.03, min(B.arch, 0.01)) if sad else (B.tilt, B.bv, B.arch)
    )
    t = math.tan(math.radians(tilt))
    if sad:
        bv -= max(0.0, B.bl * t - B.gap * 0.6)
    xs = np.linspace(-1, 1, 12)  # -1 = inner end (towards the nose)
    u = side * (f.eye.ex + B.shift) + side * xs * B.bl
    v = bv + xs * B.bl * t - arch * (1 - xs * xs)
    pen.line(_xy(u, v), f.brow_col, B.th)


def _draw_nose(pen, f):
    N = f.nose
    c, s, v = N.col, N.size, N.nv
    t = max(f.eye.lt, 0.018)
    if N.type == "dots":
        for sd in (-1, 1):
            pen.dot(sd * s * 0.4, v, s * 0.18, c)
    elif N.type == "L":
        pen.line([(0.02, v - s * 1.6), (-s * 0.5, v + s * 0.4), (s * 0.3, v + s * 0.5)], c, t)
    elif N.type == "hook":
        pen.line(_ell(0, v, s * 0.45, s * 0.6, t0=-1.2, t1=1.9, n=16), c, t)
    elif N.type == "button":
        pen.fill(_ell(0, v, s * 0.7, s * 0.55), _mix(f.skin, c, 0.45))
        pen.dot(-s * 0.25, v - s * 0.2, s * 0.15, _mix(f.skin, (255, 255, 255), 0.6))
    elif N.type == "tri":
        pen.line(
            [(0, v - s * 1.4), (-s * 0.6, v + s * 0.4), (s * 0.6, v + s * 0.4)], c, t, closed=True
        )
    elif N.type == "line":
        pen.line([(0, v - s), (0, v + s * 0.3)], c, t)
    else:  # shaded: nostrils
        for sd in (-1, 1):
            pen.fill(
                _ell(sd * s * 0.4, v + s * 0.2, s * 0.22, s * 0.12, ang=sd * 0.3), f.skin * 0.45
            )


def _draw_tears(pen, f, e, joy: bool):
    E = f.eye
    col = np.array([150.0, 205, 250])
    edge = np.array([60.0, 110, 190])
    for side in (1, -1) if e.n_tears == 2 or joy else (1,):
        r = e.tear_r * (1.3 if joy else 1.0)
        if joy:
            u, v, ang = side * (E.ex + E.rx + r * 1.2), E.ev + r, side * 0.6
        else:
            u, v, ang = side * (E.ex + E.rx * 0.3), E.ev + E.ry + r * 2.2, 0.0
            v = min(v, f.mouth.my - 0.15)
            if e.stream:
                pen.line([(u, E.ev + E.ry), (u, v)], col, r * 0.7)
        t = np.linspace(0, TAU, 36)
        x = r * np.sin(t) * np.sin(t / 2)
        y = -r * 1.7 * np.cos(t) + r * 0.5
        ca, sa = math.cos(ang), math.sin(ang)
        pts = _xy(u + x * ca - y * sa, v + x * sa + y * ca)
        pen.fill(pts, col)
        pen.line(pts, edge, max(0.008, r * 0.15), closed=True, jit=0.0)


def _draw_cheeks(pen, f, e):
    E = f.eye
    v = min(E.ev + E.ry + 0.14, f.mouth.my - 0.08)
    r = min(0.14, 0.45 * f.a - 0.1)
    polys = [_ell(sd * (E.ex + 0.04), v, r, r * 0.65, n=30) for sd in (1, -1)]
    col = (240, 90, 100) if _lum(f.skin) > 80 else (200, 60, 80)
    pen.soft(polys, col, e.cheek_a, blur=pen.s * 0.03 if f.style != "sticker" else 0.0)


def _draw_ears(pen, f):
    for sd in (1, -1):
        hw = _head_halfwidth(f, f.ear_v)
        p = _ell(sd * (hw - 0.02), f.ear_v, f.ear_r * 0.55, f.ear_r, n=30)
        if f.style == "sketch":
            pen.line(p, f.ink, f.outline_t)
        else:
            pen.fill(p, f.skin * 0.95)
            if f.outline is not None:
                pen.line(p, f.outline, f.outline_t * 0.8, closed=True)
            pen.line(
                _ell(
                    sd * (hw + 0.02), f.ear_v, f.ear_r * 0.25, f.ear_r * 0.6, t0=-1.4, t1=1.4, n=12
                ),
                f.skin * 0.7,
                0.015,
            )


def _draw_neck(pen, f):
    sv, sw = f.shoulder_v, f.shoulder_w
    sh = _ell(0, sv + 1.0, sw, 1.0, n=60)
    neck = [
        (-f.neck_w, 0.4),
        (f.neck_w, 0.4),
        (f.neck_w * 1.1, sv + 0.3),
        (-f.neck_w * 1.1, sv + 0.3),
    ]
    if f.style == "sketch":
        pen.line(
            _ell(0, sv + 1.0, sw, 1.0, t0=math.pi * 1.05, t1=math.pi * 1.95, n=40),
            f.ink,
            f.outline_t,
        )
        pen.line([(-f.neck_w, 0.8), (-f.neck_w * 1.05, sv + 0.05)], f.ink, f.outline_t)
        pen.line([(f.neck_w, 0.8), (f.neck_w * 1.05, sv + 0.05)], f.ink, f.outline_t)
        return
    pen.fill(sh, f.shirt)
    pen.fill(neck, f.skin * 0.88)
    pen.fill(_ell(0, sv, f.neck_w * 1.1, 0.2, t0=0, t1=math.pi, n=20), f.skin * 0.88)
    if f.outline is not None:
        pen.line(sh, f.outline, f.outline_t, closed=True)
        pen.line([neck[0], (neck[3][0], sv + 0.05)], f.outline, f.outline_t)
        pen.line([neck[1], (neck[2][0], sv + 0.05)], f.outline, f.outline_t)


def _hair_cap(f, H):
    top = _head_pts(f, H.scale, math.pi - H.beta, TAU + H.beta, 48, endpoint=True)
    xs = np.linspace(1, -1, 25)
    span = 0.88 * _head_halfwidth(f, H.vf)
    v = H.vf + H.curv * xs**2 * 0.5 + H.sw * xs
    if H.zz:
        v = v + H.zz * np.where(np.arange(len(xs)) % 2 == 0, 1.0, -1.0)
    return np.concatenate([top, _xy(xs * span, v)])


def _draw_hair(pen, f, back: bool):
    H = f.hair
    col = H.col
    sketch = f.style == "sketch"
    olc = f.outline if f.outline is not None else col * 0.6
    if back:
        if H.type == "long":
            top = _head_pts(f, H.scale + 0.06, math.pi - 0.25, TAU + 0.25, 40, endpoint=True)
            aw = f.a * (1.15 + 0.05 * H.scale)
            poly = np.concatenate(
                [
                    top,
                    [
                        (aw, H.long),
                        (0.5 * aw, H.long + 0.1),
                        (-0.5 * aw, H.long + 0.1),
                        (-aw, H.long),
                    ],
                ]
            )
            if sketch:
                pen.line(poly, f.ink, f.outline_t, closed=True)
            else:
                pen.fill(poly, col * 0.85)
        return
    if H.type == "mohawk":
        t = np.linspace(math.pi * 1.3, math.pi * 1.7, H.n + 1)
        for i in range(H.n):
            a, b = _head_pts(f, 0.98, t[i], t[i + 1], 2, endpoint=True)
            tip = _head_pts(f, 1.35, (t[i] + t[i + 1]) / 2, 0, 1)[0]
            if sketch:
                pen.line([a, tip, b], f.ink, f.outline_t)
            else:
                pen.fill([a, tip, b], col)
        return
    cap = _hair_cap(f, H)
    if sketch:
        pen.line(cap, f.ink, f.outline_t, closed=True)
        r = pen.rng
        for _ in range(H.n * 2):
            t = r.uniform(math.pi * 1.1, math.pi * 1.9)
            a = _head_pts(f, H.scale * 0.98, t, 0, 1)[0]
            b = _head_pts(f, 0.8, t + r.uniform(-0.2, 0.2), 0, 1)[0]
            b = (b[0], max(b[1], H.vf - 0.1))
            pen.line([a, b], f.ink, f.outline_t * 0.7)
    else:
        pen.fill(cap, col)
        if f.outline is not None:
            pen.line(cap, olc, f.outline_t * 0.8, closed=True)
    if H.type == "spiky":
        t = np.linspace(math.pi * 1.08, math.pi * 1.92, H.n + 1)
        for i in range(H.n):
            a, b = _head_pts(f, H.scale * 0.97, t[i], t[i + 1], 2, endpoint=True)
            tip = _head_pts(f, H.scale + 0.25, (t[i] + t[i + 1]) / 2, 0, 1)[0]
            if sketch:
                pen.line([a, tip, b], f.ink, f.outline_t)
            else:
                pen.fill([a, tip, b], col)
    elif H.type == "curly":
        for t in np.linspace(math.pi * 0.95, math.pi * 2.05, H.n + 4):
            c = _head_pts(f, H.scale, t, 0, 1)[0]
            p = _ell(c[0], c[1], 0.15, 0.15, n=20)
            if sketch:
                pen.line(p, f.ink, f.outline_t, closed=True)
            else:
                pen.fill(p, col)
                if f.outline is not None:
                    pen.line(
                        _ell(c[0], c[1], 0.15, 0.15, t0=math.pi, t1=TAU, n=12),
                        olc,
                        f.outline_t * 0.6,
                    )
    elif H.type == "bun":
        p = _ell(0, -1.12 * H.scale, 0.3, 0.24)
        if sketch:
            pen.line(p, f.ink, f.outline_t, closed=True)
        else:
            pen.fill(p, col)
            if f.outline is not None:
                pen.line(p, olc, f.outline_t * 0.8, closed=True)


def _draw_hat(pen, f):
    T = f.hat
    sketch = f.style == "sketch"

    def put(p, c, closed=True):
        if sketch:
            pen.line(p, f.ink, f.outline_t, closed=closed)
        else:
            pen.fill(p, c)
            if f.outline is not None:
                pen.line(p, f.outline, f.outline_t * 0.8, closed=closed)

    if T.type == "beanie":
        crown = _head_pts(f, 1.1, math.pi * 1.03, math.pi * 1.97, 40, endpoint=True)
        put(crown, T.col)
        hw = _head_halfwidth(f, -0.6) * 1.12
        put([(-hw, -0.68), (hw, -0.68), (hw, -0.5), (-hw, -0.5)], T.col2)
        if T.pom:
            put(_ell(0, -1.18, 0.16, 0.16), T.col2)
    elif T.type == "cap":
        crown = _head_pts(f, 1.08, math.pi * 1.02, math.pi * 1.98, 40, endpoint=True)
        put(crown, T.col)
        hw = _head_halfwidth(f, -0.55) * 1.08
        s = T.side
        put(
            [
                (-s * hw * 0.2, -0.62),
                (s * (hw + 0.55), -0.6),
                (s * (hw + 0.5), -0.48),
                (-s * hw * 0.2, -0.5),
            ],
            T.col2,
        )
    else:
        hw = _head_halfwidth(f, -0.7)
        put(
            [(-hw - 0.25, -0.78), (hw + 0.25, -0.78), (hw + 0.25, -0.66), (-hw - 0.25, -0.66)],
            T.col,
        )
        put([(-hw * 0.8, -1.7), (hw * 0.8, -1.7), (hw * 0.8, -0.78), (-hw * 0.8, -0.78)], T.col)
        put([(-hw * 0.8, -0.98), (hw * 0.8, -0.98), (hw * 0.8, -0.8), (-hw * 0.8, -0.8)], T.col2)


def _draw_glasses(pen, f):
    G, E = f.glasses, f.eye
    r = max(max(E.rx, E.ry) * G.size, 0.13)
    for sd in (1, -1):
        cu = sd * E.ex
        if G.round:
            p = _ell(cu, E.ev, r, r * 0.9, n=36)
        else:
            t = np.linspace(0, TAU, 40)
            c, s = np.cos(t), np.sin(t)
            p = _xy(
                cu + r * 1.1 * np.sign(c) * np.abs(c) ** 0.5,
                E.ev + r * 0.8 * np.sign(s) * np.abs(s) ** 0.5,
            )
        if G.sun:
            pen.fill(p, (25, 25, 30))
        pen.line(p, G.col, G.t, closed=True)
        hw = _head_halfwidth(f, E.ev)
        pen.line([(cu + sd * r * 1.05, E.ev - 0.03), (sd * hw, E.ev - 0.05)], G.col, G.t)
    pen.line(_ell(0, E.ev - r * 0.15, E.ex - r * 1.05, 0.05, t0=math.pi, t1=TAU, n=10), G.col, G.t)


# --------------------------------------------------------------------------- style heads
def _head_field(pen, f, scale=1.0):
    u, v = pen.local()
    y = v / scale
    yc = np.clip(y, -1.5, 1.5)
    a = f.a * (1 - f.egg * yc) * (1 - f.jaw * np.clip(yc, 0, None) ** 2) * scale
    q = (np.abs(u / a) ** f.n + np.abs(y) ** f.n) ** (1.0 / f.n)
    return u, v, a, q


def _shaded_body(pen, f, jt):
    """Photo-like head: lit ellipsoid skin with soft edges, hair, neck and shoulders."""
    img = pen.img.astype(np.float32)
    u, v, a, q = _head_field(pen, f)
    lx, ly = f.light
    n = math.sqrt(lx * lx + ly * ly + 1.0)
    L = (lx / n, ly / n, 1.0 / n)  # python floats keep the arrays float32
    soft = f.soft
    skin, shirt = np.float32(f.skin), np.float32(f.shirt)
    hair = np.float32(f.hair.col) if f.hair is not None else None

    def comp(alpha, colour):
        nonlocal img
        img = img * (1 - alpha[..., None]) + colour * alpha[..., None]

    def shade(nx, ny):
        nz = np.sqrt(np.clip(1 - nx * nx - ny * ny, 0, 1))
        d = np.clip(nx * L[0] + ny * L[1] + nz * L[2], 0, 1)
        return f.amb + (1 - f.amb) * d, d

    w = img.shape[0]
    k = 5
    tex = cv2.resize(
        jt.normal(0, 1, (k, k)).astype(np.float32), (w, w), interpolation=cv2.INTER_CUBIC
    )
    tex = 1 + f.tex * tex + jt.normal(0, f.tex * 0.4, (w, w)).astype(np.float32)

    if f.neck:
        sv, sw = f.shoulder_v, f.shoulder_w
        qs = np.sqrt((u / sw) ** 2 + ((v - sv - 1.0) / 1.0) ** 2)
        sh, _ = shade(np.clip(u / sw, -1, 1) * 0.8, np.clip((v - sv - 1.0), -1, 1) * 0.8)
        comp(_smooth01((1 - qs) / (soft * 2) + 0.5), shirt * sh[..., None] * tex[..., None])
        nw = f.neck_w * (1 + 0.15 * np.clip(v - 0.5, 0, None))
        an = (
            _smooth01((nw - np.abs(u)) / soft + 0.5)
            * _smooth01((v - 0.2) / soft)
            * _smooth01((sv + 0.3 - v) / soft)
        )
        ns, _ = shade(np.clip(u / nw, -1, 1) * 0.7, np.zeros_like(u))
        dark = 0.7 + 0.3 * _smooth01((v - 0.9) / 0.5)
        comp(an, skin * (ns * dark * tex)[..., None])
    if f.hair is not None and f.hair.type == "long":
        H = f.hair
        c, hh = (H.long - 1.15) / 2, (H.long + 1.15) / 2
        ql = ((u / (f.a * 1.18)) ** 4 + ((v - c) / hh) ** 4) ** 0.25
        ah = np.maximum(_smooth01((1 - ql) / soft + 0.5), _smooth01((1.12 - q) / soft))
        hs, _ = shade(np.clip(u / (f.a * 1.2), -1, 1), np.clip(v, -1, 1) * 0.5)
        comp(ah, hair * 0.8 * (hs * tex)[..., None])
    if f.ears:
        for sd in (1, -1):
            hw = _head_halfwidth(f, f.ear_v)
            qe = np.sqrt(
                ((u - sd * (hw - 0.02)) / (f.ear_r * 0.55)) ** 2 + ((v - f.ear_v) / f.ear_r) ** 2
            )
            comp(_smooth01((1 - qe) / (soft * 3) + 0.5), skin * 0.85 * tex[..., None])
    # head
    nx, ny = np.clip(u / a, -1, 1), np.clip(v, -1, 1)
    sh, d = shade(nx, ny)
    E = f.eye
    for sd in (1, -1):  # eye sockets
        g = np.exp(
            -(((u - sd * E.ex) / (E.rx * 1.6)) ** 2 + ((v - E.ev + 0.02) / (E.ry * 2.2)) ** 2)
        )
        sh = sh * (1 - 0.2 * g)
    m = f.mouth
    sh = sh * (
        1 - 0.15 * np.exp(-(((u - m.mx) / (m.hw * 0.8)) ** 2 + ((v - m.my - 0.14) / 0.06) ** 2))
    )
    if f.nose is not None:
        nv = f.nose.nv
        side = -1 if lx > 0 else 1
        sh = sh * (
            1 - 0.18 * np.exp(-(((u - side * 0.07) / 0.06) ** 2 + ((v - nv + 0.08) / 0.16) ** 2))
        )
        sh = sh * (
            1 + 0.08 * np.exp(-(((u + side * 0.03) / 0.04) ** 2 + ((v - nv + 0.05) / 0.1) ** 2))
        )
    col = skin * (sh * tex)[..., None] + (d**16 * 40)[..., None]
    comp(_smooth01((1 - q) / soft + 0.5), col)
    if f.hair is not None:
        H = f.hair
        hl = H.vf + (0.5 + H.curv) * np.abs(u / f.a) ** 3 + H.sw * (-u / f.a)
        ah = _smooth01((H.scale - q) / soft + 0.5) * _smooth01((hl - v) / (soft * 1.5) + 0.5)
        ang = np.arctan2(v + 1.6, u + H.sw)
        strands = 0.86 + 0.14 * np.sin(ang * H.n * 9 + 2 * np.sin(v * 5 + u * 3))
        hs, _ = shade(np.clip(u / (f.a * H.scale), -1, 1), np.clip(v / H.scale, -1, 1))
        comp(ah, hair * (hs * strands * tex)[..., None])
    pen.img[:] = np.clip(img + 0.5, 0, 255).astype(np.uint8)


def _sticker_body(pen, f):
    head = _head_pts(f)
    if f.shadow:
        sh = np.zeros_like(pen.img)
        sp = Pen(sh, pen.cx + pen.s * 0.08, pen.cy + pen.s * 0.1, pen.s, f.rot, None)
        sp.fill(head * (1.1 if f.die_cut else 1.0), (255, 255, 255))
        sh = cv2.GaussianBlur(sh, (0, 0), pen.s * 0.06).astype(np.float32) / 255 * 0.45
        pen.img[:] = (pen.img * (1 - sh)).astype(np.uint8)
    if f.die_cut:
        pen.fill(head * 1.1, (250, 250, 250))
    if f.radial:
        u, v, _, q = _head_field(pen, f)
        g = np.clip(q, 0, 1) ** 2
        r = np.sqrt((u + 0.3 * f.a) ** 2 + (v + 0.35) ** 2)
        col = f.skin * (1.08 - 0.3 * g)[..., None] + (np.clip(0.5 - r, 0, None) * 60)[..., None]
        alpha = _smooth01((1 - q) * pen.s / 1.5 + 0.5)[..., None]
        out = pen.img.astype(np.float32) * (1 - alpha) + col * alpha
        pen.img[:] = np.clip(out, 0, 255).astype(np.uint8)
    else:
        pen.fill(head, f.skin)
    if f.highlight:
        pen.soft(
            [_ell(-0.35 * f.a, -0.58, 0.3, 0.13, ang=-0.5)],
            (255, 255, 255),
            0.35,
            blur=pen.s * 0.04,
        )
    if f.outline is not None:
        pen.line(head, f.outline, f.outline_t, closed=True)


def _cartoon_body(pen, f):
    if f.neck:
        _draw_neck(pen, f)
    if f.hair is not None:
        _draw_hair(pen, f, back=True)
    if f.ears:
        _draw_ears(pen, f)
    head = _head_pts(f)
    pen.fill(head, f.skin)
    if f.outline is not None:
        pen.line(head, f.outline, f.outline_t, closed=True)


def _sketch_body(pen, f):
    if f.neck:
        _draw_neck(pen, f)
    if f.hair is not None:
        _draw_hair(pen, f, back=True)
    head = _head_pts(f)
    if f.wash is not None:
        ou, ov = f.wash_off
        pen.soft([head + np.array([ou, ov])], f.wash, 0.55)
    if f.ears:
        _draw_ears(pen, f)
    for i in range(f.passes):
        pen.line(head * (1 + 0.012 * i), f.ink, f.outline_t, closed=True)


# --------------------------------------------------------------------------- one image
def _render(label: int, size: int, seed: int, i: int) -> tuple[np.ndarray, int]:
    nz, ex, jt = (
        np.random.default_rng(s) for s in np.random.SeedSequence([seed, label, i]).spawn(3)
    )
    f = _sample_appearance(nz, size)
    e = _sample_expression(ex, label, f)
    if f.nose is not None:  # keep the nose clear of a tall mouth (same rule for both classes)
        top = min(v.min() for v in _mouth_curves(f, e)[2])
        f.nose.nv = max(min(f.nose.nv, top - 0.05 - 0.5 * f.nose.size), f.eye.ev + 0.05)
    img = f.bg.copy()
    pen = Pen(
        img, f.cx, f.cy, f.s, f.rot, jt, jit=getattr(f, "jit", 0.0) if f.style == "sketch" else 0.0
    )

    if f.style == "sticker":
        _sticker_body(pen, f)
    elif f.style == "cartoon":
        _cartoon_body(pen, f)
    elif f.style == "sketch":
        _sketch_body(pen, f)
    else:
        _shaded_body(pen, f, jt)

    if "cheeks" in e.signs:
        _draw_cheeks(pen, f, e)
    for side in (1, -1):
        _draw_eye(pen, f, e, side)
        if f.brow.show or "slant_brows" in e.signs:
            _draw_brow(pen, f, e, side)
    if f.nose is not None:
        _draw_nose(pen, f)
    _draw_mouth(pen, f, e)
    if f.hair is not None and f.style != "shaded":
        _draw_hair(pen, f, back=False)
    if f.hat is not None:
        _draw_hat(pen, f)
    if f.glasses is not None:
        _draw_glasses(pen, f)
    if "tears" in e.signs:
        _draw_tears(pen, f, e, joy=False)
    if "joy_tears" in e.signs:
        _draw_tears(pen, f, e, joy=True)
    if f.style == "shaded":
        img = cv2.GaussianBlur(img, (0, 0), f.blur)

    # post-processing (label-free)
    x = img.astype(np.float32) / 255.0
    x = np.clip(x * f.gain + f.bias / 255.0, 0, 1) ** f.gamma
    img = (x * 255 + 0.5).astype(np.uint8)
    if f.ss != 1:
        img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    if f.post_blur:
        img = cv2.GaussianBlur(img, (0, 0), f.post_blur)
    if f.lowres:
        lo = max(8, round(size * f.lowres))
        img = cv2.resize(img, (lo, lo), interpolation=cv2.INTER_AREA)
        img = cv2.resize(
            img,
            (size, size),
            interpolation=cv2.INTER_NEAREST if f.lowres_nearest else cv2.INTER_LINEAR,
        )
    if f.noise:
        img = np.clip(img + jt.normal(0, f.noise, img.shape), 0, 255).astype(np.uint8)
    if f.grey:
        img = np.repeat(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    return img, f.jpeg


# --------------------------------------------------------------------------- public API
def _marker_args(per_class: int, image_size: int, seed: int) -> dict:
    return {
        "generator": GENERATOR,
        "version": VERSION,
        "per_class": per_class,
        "image_size": image_size,
        "seed": seed,
    }


def _is_complete(out: Path, args: dict) -> bool:
    try:
        marker = json.loads((out / MARKER).read_text())
    except (OSError, ValueError):
        return False
    if marker.get("args") != args:
        return False
    files = marker.get("files", {})
    for cls in CLASSES:
        names = files.get(cls, [])
        have = {p.name for p in (out / cls).glob("*") if p.suffix in (".png", ".jpg")}
        if len(names) != args["per_class"] or set(names) != have:
            return False
    return True


def generate(out: Path, per_class: int, image_size: int, seed: int) -> Path:
    """Write ``per_class`` happy and sad faces of ``image_size`` px into out/happy and out/sad."""
    out = Path(out)
    if per_class < 0 or image_size < 16:
        raise ValueError("per_class must be >= 0 and image_size >= 16")
    args = _marker_args(int(per_class), int(image_size), int(seed))
    if _is_complete(out, args):
        return out
    if out.exists() and any(out.iterdir()):  # never delete or overwrite what is there
        raise FileExistsError(f"{out} is not empty and holds no set made with these arguments")
    files: dict[str, list[str]] = {}
    for label, cls in enumerate(CLASSES):
        d = out / cls
        d.mkdir(parents=True, exist_ok=True)
        names = []
        for i in range(per_class):
            img, q = _render(label, image_size, seed, i)
            bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
            if q:
                name = f"{cls}_{i:05d}.jpg"
                ok = cv2.imwrite(str(d / name), bgr, [cv2.IMWRITE_JPEG_QUALITY, q])
            else:
                name = f"{cls}_{i:05d}.png"
                ok = cv2.imwrite(str(d / name), bgr)
            if not ok:
                raise OSError(f"could not write {d / name}")
            names.append(name)
        files[cls] = names
    (out / MARKER).write_text(json.dumps({"args": args, "files": files}, indent=1))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="output folder (gets happy/ and sad/)")
    ap.add_argument("--per-class", type=int, default=600, help="images per class (default 600)")
    ap.add_argument("--size", type=int, default=128, help="image side in pixels (default 128)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    out = generate(a.out, a.per_class, a.size, a.seed)
    print(
        f"{out}: {a.per_class} per class, {a.size} px, seed {a.seed} ({time.perf_counter() - t0:.1f} s)"
    )


if __name__ == "__main__":
    main()
