"""Yonder faces: a held-out, report-only set of synthetic happy/sad faces in unusual media.

How it was written: from a short task description only ("a happy face smiles: the mouth's
corners turn up; a sad face frowns: they turn down; nothing else may depend on the label"),
without reading any of the project's other face generators, so that its look owes nothing to
the images a classifier was trained on.

Styles (twelve, chosen to differ from every style used elsewhere in the project): knitted wool
(a colour chart rendered as V stitches), pizza toppings, beach pebbles laid out on rippled
sand, a printed circuit board with copper traces, a blueprint drawing with construction lines
and dimensions, a tattoo on skin, a piped-icing cake seen from above, a vintage sepia print
with scratches and dust, a face etched into glass over a blurred street, a face card on a
felt table, a mural painted on a brick wall seen in perspective, and an X-ray-like negative.

Label blindness: every random choice (style, head, eyes, brows, colours, background, clutter,
position, size 30-95 % of the frame, tilt up to +-25 degrees, degradations such as blur,
noise, low contrast, colour casts, file type and JPEG quality) is drawn from one generator in
the same order whatever the label. The label only multiplies the vertical offsets of the mouth
(relative to the mouth's own centre) by +1 (happy: corners up) or -1 (sad: corners down), so a
happy image and a sad image rendered from one seed differ in the mouth only. Mouths vary in
width, bend (a minority only slightly bent), thickness, open/closed and position.

Seeding: image i of class c (0 happy, 1 sad) is rendered from SeedSequence([seed, c, i]).
Images are drawn at twice the output size and reduced with cv2.INTER_AREA.

Report-only: this set exists to measure how a classifier generalises. Never tune anything
(models, thresholds, augmentations, hyper-parameters) on it, or it stops measuring that.

Usage: python scripts/yonder_faces.py --out DIR [--per-class 200] [--image-size 128] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

CLASSES = ("happy", "sad")
MARKER = "YONDER_FACES.json"
VERSION = 1
_SH = 4  # sub-pixel bits for cv2 drawing
_ONE = 1 << _SH
AA = cv2.LINE_AA

# ---------------------------------------------------------------- drawing helpers


def _col(c) -> tuple[int, ...]:
    """A colour (scalar or sequence) as a tuple of ints clipped to 0..255."""
    c = np.atleast_1d(np.asarray(c, float))
    return tuple(int(np.clip(round(x), 0, 255)) for x in c)


def _fx(p: np.ndarray) -> np.ndarray:
    """Pixel coordinates as fixed-point int32 points for cv2 (shift=_SH)."""
    return np.round(np.asarray(p, float).reshape(-1, 2) * _ONE).astype(np.int32)


def _th(t: float) -> int:
    return max(1, round(t))


def line(img, xy, color, th: float, closed: bool = False, lt: int = AA) -> None:
    """A polyline through pixel points xy."""
    cv2.polylines(img, [_fx(xy)], closed, _col(color), _th(th), lt, _SH)


def fill(img, xy, color, lt: int = AA) -> None:
    """A filled polygon."""
    cv2.fillPoly(img, [_fx(xy)], _col(color), lt, _SH)


def disc(img, xy, rad: float, color, th: float = -1, lt: int = AA) -> None:
    """A circle (filled when th < 0)."""
    c = _fx(xy)[0]
    t = -1 if th < 0 else _th(th)
    cv2.circle(img, (int(c[0]), int(c[1])), max(1, round(rad * _ONE)), _col(color), t, lt, _SH)


def oval(img, xy, ax: float, ay: float, ang: float, color, th: float = -1, lt: int = AA) -> None:
    """An ellipse rotated by ang degrees (filled when th < 0)."""
    c = _fx(xy)[0]
    axes = (max(1, round(ax * _ONE)), max(1, round(ay * _ONE)))
    t = -1 if th < 0 else _th(th)
    cv2.ellipse(img, (int(c[0]), int(c[1])), axes, ang, 0, 360, _col(color), t, lt, _SH)


def _rc(rng: np.random.Generator, lo, hi) -> np.ndarray:
    """A random colour between lo and hi (per channel)."""
    return rng.uniform(np.broadcast_to(lo, 3), np.broadcast_to(hi, 3))


def _smooth_noise(rng: np.random.Generator, s: int, cell: float) -> np.ndarray:
    """Low-frequency noise (about unit variance) of shape (s, s)."""
    n = max(2, int(s / cell) + 2)
    base = rng.standard_normal((n, n)).astype(np.float32)
    return cv2.resize(base, (s, s), interpolation=cv2.INTER_CUBIC)


def _resample(uv: np.ndarray, spacing: float) -> np.ndarray:
    """Points spaced about `spacing` apart along a polyline (count from its arc length)."""
    seg = np.hypot(*np.diff(uv, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(2, round(float(cum[-1]) / max(spacing, 1e-6)) + 1)
    s = np.linspace(0, cum[-1], n)
    return np.stack([np.interp(s, cum, uv[:, 0]), np.interp(s, cum, uv[:, 1])], 1)


@dataclass(frozen=True)
class Frame:
    """Maps face coordinates (u right, v down, head radius 1) to pixels: centre, radius, tilt."""

    cx: float
    cy: float
    r: float
    theta: float  # radians, clockwise on screen

    def xy(self, uv) -> np.ndarray:
        uv = np.asarray(uv, float).reshape(-1, 2)
        c, s = np.cos(self.theta), np.sin(self.theta)
        x = self.cx + self.r * (uv[:, 0] * c - uv[:, 1] * s)
        y = self.cy + self.r * (uv[:, 0] * s + uv[:, 1] * c)
        return np.stack([x, y], 1)

    @property
    def deg(self) -> float:
        return float(np.degrees(self.theta))

    def scaled(self, k: float) -> Frame:
        return Frame(self.cx * k, self.cy * k, self.r * k, self.theta)


@dataclass(frozen=True)
class Geo:
    """Face geometry in face coordinates; `sign` is used by the mouth only."""

    sign: int
    aspect: float
    ex: float
    ey: float
    er: float
    eye_aspect: float
    eye_kind: int
    brow: bool
    brow_dy: float
    brow_tilt: float
    brow_len: float
    nose: bool
    mx: float
    my: float
    mw: float
    mb: float
    mt: float
    mo: float

    def eyes(self) -> list[tuple[float, float]]:
        return [(-self.ex, self.ey), (self.ex, self.ey)]

    def mouth_line(self, n: int = 41) -> np.ndarray:
        """The mouth's centre line; the label flips its bend about the mouth's centre."""
        t = np.linspace(-1, 1, n)
        return np.stack([self.mx + self.mw * t, self.my + self.sign * self.mb * (0.5 - t**2)], 1)

    def mouth_poly(self, n: int = 41) -> np.ndarray:
        """An open mouth's outline (top lip, then bottom lip reversed), mirrored by the label."""
        t = np.linspace(-1, 1, n)
        top = self.mb * (0.5 - t**2)
        bot = top + self.mo * (1 - t**2)
        u = np.concatenate([self.mx + self.mw * t, (self.mx + self.mw * t)[::-1]])
        v = self.my + self.sign * np.concatenate([top, bot[::-1]])
        return np.stack([u, v], 1)

    def mouth_box(self, pad: float = 0.12) -> tuple[float, float, float, float]:
        """A label-blind box around both possible mouths (u0, v0, u1, v1)."""
        h = self.mb / 2 + self.mo + self.mt + pad
        return (self.mx - self.mw - pad, self.my - h, self.mx + self.mw + pad, self.my + h)

    def near_features(self, u: float, v: float, pad: float = 0.1) -> bool:
        """Whether (u, v) is near the eyes or the mouth (label-blind)."""
        u0, v0, u1, v1 = self.mouth_box(pad)
        if u0 < u < u1 and v0 < v < v1:
            return True
        return any(np.hypot(u - a, v - b) < self.er * 1.6 + pad for a, b in self.eyes())

    def with_min_bend(self, mb: float) -> Geo:
        return replace(self, mb=max(self.mb, mb))


def _sample_geo(rng: np.random.Generator, sign: int) -> Geo:
    """Draw the face geometry; the draws never depend on sign."""
    aspect = rng.uniform(0.8, 1.0)
    ex, ey, er = rng.uniform(0.25, 0.4), rng.uniform(-0.34, -0.12), rng.uniform(0.06, 0.12)
    eye_aspect, eye_kind = rng.uniform(0.8, 1.6), int(rng.integers(4))
    brow = bool(rng.random() < 0.5)
    brow_dy, brow_tilt, brow_len = rng.uniform(0.15, 0.24), rng.uniform(-0.05, 0.05), 0.0
    brow_len = rng.uniform(0.14, 0.26)
    nose = bool(rng.random() < 0.45)
    mw = rng.uniform(0.22, 0.46)
    slight = rng.random() < 0.2
    mb = mw * (rng.uniform(0.25, 0.35) if slight else rng.uniform(0.45, 0.8))
    mb = float(np.clip(mb, 0.08, 0.3))
    mt = rng.uniform(0.035, 0.085)
    mo = rng.uniform(0.06, 0.16) if rng.random() < 0.3 else 0.0
    my, mx = rng.uniform(0.3, 0.48), rng.uniform(-0.06, 0.06)
    return Geo(
        sign,
        aspect,
        ex,
        ey,
        er,
        eye_aspect,
        eye_kind,
        brow,
        brow_dy,
        brow_tilt,
        brow_len,
        nose,
        mx,
        my,
        mw,
        mb,
        mt,
        mo,
    )


def draw_eyes(img, f: Frame, g: Geo, color, white=None, k: float = 1.0, lt: int = AA) -> None:
    """Eyes (dots, ovals with pupils, rings or bars) and optional brows."""
    for u, v in g.eyes():
        p = f.xy([u, v])
        a, b = g.er * f.r * k, g.er * g.eye_aspect * f.r * k
        if g.eye_kind == 0:
            oval(img, p, a, b, f.deg, color, lt=lt)
        elif g.eye_kind == 1:
            oval(img, p, a * 1.3, b * 1.1, f.deg, color if white is None else white, lt=lt)
            oval(img, p, a * 1.3, b * 1.1, f.deg, color, th=max(1.0, 0.2 * a), lt=lt)
            disc(img, p, 0.6 * min(a, b), color, lt=lt)
        elif g.eye_kind == 2:
            oval(img, p, a, b, f.deg, color, th=max(1.0, 0.35 * a), lt=lt)
        else:
            oval(img, p, a * 0.45, b * 1.15, f.deg, color, lt=lt)
        if g.brow:
            s = np.sign(u)
            inner = [u - s * g.brow_len / 2, v - g.brow_dy - g.brow_tilt]
            outer = [u + s * g.brow_len / 2, v - g.brow_dy + g.brow_tilt]
            line(img, f.xy([inner, outer]), color, max(1.0, 0.04 * f.r * k), lt=lt)
    if g.nose:
        line(img, f.xy([[0.0, -0.02], [-0.05, 0.12], [0.02, 0.14]]), color, 0.025 * f.r, lt=lt)


def draw_mouth(img, f: Frame, g: Geo, color, inner=None, k: float = 1.0, lt: int = AA) -> None:
    """The mouth: a bent stroke, or an open shape filled with `inner`."""
    t = max(1.0, g.mt * f.r * k)
    if g.mo > 0:
        fill(img, f.xy(g.mouth_poly()), color if inner is None else inner, lt=lt)
        line(img, f.xy(g.mouth_poly()), color, max(1.0, t * 0.6), closed=True, lt=lt)
    else:
        line(img, f.xy(g.mouth_line()), color, t, lt=lt)


def head(img, f: Frame, g: Geo, color, th: float = -1, lt: int = AA) -> None:
    oval(img, f.xy([0, 0]), g.aspect * f.r, f.r, f.deg, color, th=th, lt=lt)


def _in_head(g: Geo, u: float, v: float, k: float = 1.0) -> bool:
    return (u / g.aspect) ** 2 + v**2 < k * k


# ---------------------------------------------------------------- styles
# Each style gets (rng, S, frame, geo) and returns an S x S x 3 uint8 RGB image.


def _knit(rng, S: int, f: Frame, g: Geo) -> np.ndarray:
    """Knitted wool: a colour chart rendered as rows of V stitches."""
    cp = max(4, int(np.ceil(S / np.clip(S / f.r * rng.uniform(8.5, 11), 18, 60))))
    n = int(np.ceil(S / cp))
    fs = f.scaled(n / S)
    g = g.with_min_bend(1.7 / fs.r)
    bg, face, ink, acc = (_rc(rng, 30, 230) for _ in range(4))
    face = 0.5 * face + 0.5 * np.array([235, 200, 80]) * rng.uniform(0.6, 1.1)
    ink = ink * 0.25
    chart = np.zeros((n, n, 3), np.uint8)
    chart[:] = _col(bg)
    period = int(rng.integers(3, 7))
    stripes = rng.random() < 0.6
    for row in range(n):
        if stripes and row % period == 0:
            chart[row] = _col(acc)
    nearest = cv2.LINE_8
    head(chart, fs, g, face, lt=nearest)
    draw_eyes(chart, fs, g, ink, white=(240, 240, 240), lt=nearest)
    draw_mouth(chart, fs, g, ink, inner=(150, 20, 30), lt=nearest)
    big = cv2.resize(chart, (n * cp, n * cp), interpolation=cv2.INTER_NEAREST)[:S, :S]
    z = 8
    tpl = np.full((cp * z, cp * z), 0.45, np.float32)
    for sx, ang in ((0.28, -28), (0.72, 28)):
        oval(tpl, (sx * cp * z, 0.5 * cp * z), 0.26 * cp * z, 0.6 * cp * z, ang, 1.0)
    tpl = cv2.GaussianBlur(tpl, (0, 0), cp * z * 0.08)
    tpl *= np.linspace(1.05, 0.8, cp * z, dtype=np.float32)[:, None]
    tpl = cv2.resize(tpl, (cp, cp), interpolation=cv2.INTER_AREA)
    shade = np.tile(tpl, (n, n))[:S, :S]
    fuzz = 1 + 0.06 * rng.standard_normal((S, S)).astype(np.float32)
    out = big.astype(np.float32) * (shade * fuzz)[..., None] * 1.1
    return np.clip(out, 0, 255).astype(np.uint8)


def _pizza(rng, S: int, f: Frame, g: Geo) -> np.ndarray:
    """A pizza: pepperoni eyes, a pepper strip or a row of olives or sausage for the mouth."""
    img = np.zeros((S, S, 3), np.uint8)
    if rng.random() < 0.5:  # wooden table
        img[:] = _col(_rc(rng, (120, 75, 40), (190, 130, 80)))
        for _ in range(int(rng.integers(15, 30))):
            y = rng.uniform(0, S)
            xs = np.linspace(0, S, 20)
            ys = y + rng.uniform(2, 8) * np.sin(xs / S * rng.uniform(3, 9) + rng.uniform(0, 6))
            line(
                img, np.stack([xs, ys], 1), _rc(rng, (80, 45, 20), (130, 85, 50)), rng.uniform(1, 3)
            )
    else:  # checked tablecloth
        img[:] = (245, 240, 235)
        sq = int(S / rng.uniform(5, 10))
        c = _col(_rc(rng, (150, 20, 20), (220, 60, 60)) if rng.random() < 0.6 else (40, 80, 170))
        for i in range(0, S, sq * 2):
            cv2.rectangle(img, (i, 0), (i + sq, S), c, -1)
        tint = img.copy()
        for j in range(0, S, sq * 2):
            cv2.rectangle(tint, (0, j), (S, j + sq), (90, 40, 40), -1)
        img = cv2.addWeighted(img, 0.7, tint, 0.3, 0)
    c0 = f.xy([0, 0])
    oval(img, c0 + f.r * 0.06, f.r * 1.02, f.r * 1.02, 0, (40, 30, 20))  # shadow
    disc(img, c0, f.r, _rc(rng, (190, 120, 50), (230, 170, 90)))
    rs = rng.uniform(0.83, 0.9)
    disc(img, c0, f.r * rs, _rc(rng, (160, 30, 20), (200, 60, 35)))
    cheese = _rc(rng, (235, 190, 90), (250, 225, 140))
    disc(img, c0, f.r * (rs - 0.04), cheese)
    for _ in range(int(rng.integers(15, 35))):
        a, d = rng.uniform(0, 2 * np.pi), rs * np.sqrt(rng.random()) * 0.95
        col = (185, 55, 30) if rng.random() < 0.5 else (200, 140, 60)
        disc(img, f.xy([d * np.cos(a), d * np.sin(a)]), f.r * rng.uniform(0.015, 0.04), col)
    for _ in range(int(rng.integers(5, 14))):
        a, d = rng.uniform(0, 2 * np.pi), 0.78 * np.sqrt(rng.random())
        u, v, kind, size = (
            d * np.cos(a),
            d * np.sin(a),
            int(rng.integers(4)),
            rng.uniform(0.05, 0.09),
        )
        if g.near_features(u, v, 0.06 + size):
            continue
        p = f.xy([u, v])
        if kind == 0:  # basil
            oval(img, p, f.r * size * 1.4, f.r * size * 0.6, rng.uniform(0, 180), (40, 110, 35))
        elif kind == 1:  # mushroom
            oval(img, p, f.r * size, f.r * size * 0.8, f.deg, (215, 200, 175))
            oval(img, p, f.r * size, f.r * size * 0.8, f.deg, (150, 120, 90), th=2)
        elif kind == 2:  # onion ring
            disc(img, p, f.r * size, (245, 235, 240), th=max(1.0, f.r * 0.015))
        else:  # olive
            disc(img, p, f.r * size * 0.8, (35, 30, 30), th=max(1.0, f.r * 0.03))
    for u, v in g.eyes():
        p = f.xy([u, v])
        rad = f.r * (g.er + 0.05)
        disc(img, p, rad, (165, 35, 30))
        disc(img, p, rad, (110, 20, 20), th=max(1.0, rad * 0.12))
        if g.eye_kind in (1, 2):
            disc(img, p, rad * 0.45, (30, 25, 25))
    kind = int(rng.integers(3))
    t = max(g.mt, 0.05) * f.r
    if kind == 0:
        line(img, f.xy(g.mouth_line()), (35, 110, 30), t * 1.3)
        line(img, f.xy(g.mouth_line()), (90, 170, 60), t * 0.45)
    else:
        rad = t * 0.9
        col = (30, 28, 28) if kind == 1 else (120, 50, 30)
        for p in _resample(f.xy(g.mouth_line()), rad * 2.1):
            disc(img, p, rad, col)
            if kind == 1:
                disc(img, p, rad * 0.35, cheese)
    return img


def _pebble(img, rng, p, rad: float, col, sand) -> None:
    aspect, ang, jit = rng.uniform(0.65, 1.0), rng.uniform(0, 180), rng.uniform(0.8, 1.15)
    c = np.clip(np.asarray(col) * jit, 0, 255)
    oval(img, p + rad * 0.2, rad, rad * aspect, ang, np.asarray(sand) * 0.6)
    oval(img, p, rad, rad * aspect, ang, c)
    oval(img, p - rad * 0.3, rad * 0.35, rad * 0.25 * aspect, ang, np.minimum(c * 1.4 + 30, 255))


def _pebbles(rng, S: int, f: Frame, g: Geo) -> np.ndarray:
    """Beach pebbles laid out as a face on rippled sand, with stray pebbles and shells."""
    sand = _rc(rng, (190, 165, 115), (235, 210, 165))
    img = np.empty((S, S, 3), np.float32)
    img[:] = sand
    a = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float32)
    w = _smooth_noise(rng, S, S / 4)
    ripple = np.sin((xx * np.cos(a) + yy * np.sin(a)) / S * rng.uniform(25, 45) + 2 * w)
    img *= (1 + 0.06 * ripple + 0.04 * rng.standard_normal((S, S)).astype(np.float32))[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    pr = rng.uniform(0.05, 0.075)
    g = g.with_min_bend(pr * 1.6)
    grey = _rc(rng, 60, 140)
    for _ in range(int(rng.integers(6, 16))):
        p = rng.uniform(0, S, 2)
        u = rng.uniform(0.02, 0.05) * S
        if rng.random() < 0.3:  # shell
            oval(img, p, u, u * 0.7, rng.uniform(0, 180), (240, 225, 210))
            oval(img, p, u, u * 0.7, rng.uniform(0, 180), (200, 160, 130), th=2)
        else:
            _pebble(img, rng, p, u, _rc(rng, 70, 170), sand)
    # clear the sand under the face a little (a smoothed patch), then lay the outline
    t = np.linspace(0, 2 * np.pi, 200)
    ring = f.xy(np.stack([g.aspect * np.cos(t), np.sin(t)], 1))
    patch = np.zeros((S, S), np.uint8)
    fill(patch, ring, 255)
    m = (patch > 0)[..., None]
    img = np.where(m, np.asarray(sand, np.float32).astype(np.uint8), img)
    for p in _resample(ring, pr * f.r * 2.2)[:-1]:
        _pebble(img, rng, p, pr * f.r, grey, sand)
    for u, v in g.eyes():
        _pebble(img, rng, f.xy([u, v])[0], (g.er + 0.02) * f.r, grey * 0.6, sand)
    pm = max(g.mt, 0.045) * f.r
    for p in _resample(f.xy(g.mouth_line()), pm * 2.1):
        _pebble(img, rng, p, pm, grey * 0.55, sand)
    return img


def _circuit(rng, S: int, f: Frame, g: Geo) -> np.ndarray:
    """A printed circuit board: copper traces, vias and chips; the face in traces and pads."""
    board = _rc(rng, (10, 70, 30), (40, 120, 60)) if rng.random() < 0.7 else _rc(rng, 10, 50)
    img = np.empty((S, S, 3), np.float32)
    img[:] = board
    img *= (1 + 0.05 * _smooth_noise(rng, S, S / 10))[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    copper = _rc(rng, (180, 130, 40), (230, 190, 90)) if rng.random() < 0.6 else _rc(rng, 190, 220)
    grid = S / rng.uniform(12, 20)
    dirs = np.array([[1, 0], [0, 1], [-1, 0], [0, -1], [1, 1], [1, -1], [-1, 1], [-1, -1]], float)
    tw = max(1.0, S * rng.uniform(0.006, 0.012))
    for _ in range(int(rng.integers(12, 26))):
        p = np.round(rng.uniform(0, S, 2) / grid) * grid
        pts = [p]
        d = dirs[int(rng.integers(4))]
        for _ in range(int(rng.integers(2, 6))):
            if rng.random() < 0.5:
                d = dirs[int(rng.integers(8))]
            p = p + d * grid * rng.integers(1, 4)
            pts.append(p)
        line(img, np.array(pts), copper, tw)
        disc(img, pts[0], tw * 1.8, copper)
        disc(img, pts[0], tw * 0.7, board * 0.5)
        disc(img, pts[-1], tw * 1.8, copper)
    for _ in range(int(rng.integers(3, 9))):  # silkscreen marks
        p = rng.uniform(0, S, 2)
        w, h = rng.uniform(0.02, 0.08) * S, rng.uniform(0.01, 0.04) * S
        cv2.rectangle(img, _col(p), _col(p + np.array([w, h])), (235, 235, 225), 1, AA)
    mask_col = np.minimum(board * 1.25 + 20, 255)
    head(img, f, g, mask_col)
    head(img, f, g, copper, th=max(2.0, f.r * 0.05))
    for u, v in g.eyes():
        p = f.xy([u, v])[0]
        if g.eye_kind in (0, 3):  # a chip with pins
            s = g.er * 1.2
            for k in np.linspace(-s * 0.7, s * 0.7, 4):
                for sd in (-1, 1):
                    line(
                        img,
                        f.xy([[u + sd * s, v + k], [u + sd * s * 1.4, v + k]]),
                        (200, 200, 200),
                        f.r * 0.02,
                    )
            fill(
                img,
                f.xy([[u - s, v - s], [u + s, v - s], [u + s, v + s], [u - s, v + s]]),
                (25, 25, 28),
            )
            disc(img, f.xy([u - s * 0.6, v - s * 0.6]), f.r * 0.015, (120, 120, 120))
        else:  # a big pad with a drill hole
            disc(img, p, f.r * (g.er + 0.02), copper)
            disc(img, p, f.r * g.er * 0.4, (15, 15, 15))
    if g.nose:
        disc(img, f.xy([0, 0.05]), f.r * 0.04, copper)
    t = max(1.5, max(g.mt, 0.04) * f.r * 0.8)
    if g.mo > 0:
        line(img, f.xy(g.mouth_poly()), copper, t, closed=True)
    else:
        line(img, f.xy(g.mouth_line()), copper, t)
    ml = f.xy(g.mouth_line())
    for p in (ml[0], ml[-1]):
        disc(img, p, t * 1.6, copper)
        disc(img, p, t * 0.6, (20, 20, 20))
    return img


def _dashed(img, a, b, color, th: float, dash: float) -> None:
    a, b = np.asarray(a, float), np.asarray(b, float)
    n = max(1, int(np.hypot(*(b - a)) / dash))
    for i in range(0, n, 2):
        line(img, [a + (b - a) * i / n, a + (b - a) * min(i + 1, n) / n], color, th)


def _blueprint(rng, S: int, f: Frame, g: Geo) -> np.ndarray:
    """A blueprint: grid, construction lines, dimension arrows, title block; white ink."""
    bg = _rc(rng, (15, 50, 110), (40, 90, 160))
    img = np.empty((S, S, 3), np.float32)
    img[:] = bg
    img *= (1 + 0.05 * _smooth_noise(rng, S, S / 6))[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    step = S / rng.uniform(14, 26)
    gc = np.minimum(bg * 1.35 + 15, 255)
    for i in range(int(S / step) + 1):
        th = 2 if i % 4 == 0 else 1
        cv2.line(img, (round(i * step), 0), (round(i * step), S), _col(gc), th)
        cv2.line(img, (0, round(i * step)), (S, round(i * step)), _col(gc), th)
    ink = _rc(rng, (215, 225, 235), (250, 250, 255))
    lw = max(1.5, f.r * rng.uniform(0.02, 0.035))
    x0, y0 = rng.uniform(0.55, 0.7) * S, rng.uniform(0.8, 0.88) * S
    fs = S / 500 * rng.uniform(0.8, 1.2)
    if f.cx + f.r * 1.3 < x0 or f.cy + f.r * 1.3 < y0:  # a title block clear of the face
        cv2.rectangle(img, (round(x0), round(y0)), (S - 4, S - 4), _col(ink), 2)
        cv2.line(img, (round(x0), round((y0 + S) / 2)), (S - 4, round((y0 + S) / 2)), _col(ink), 1)
        cv2.putText(
            img,
            f"FIG. {int(rng.integers(1, 30))}",
            (round(x0 + 6), round(y0 + (S - y0) * 0.42)),
            cv2.FONT_HERSHEY_SIMPLEX,
            fs,
            _col(ink),
            1,
            AA,
        )
    dash = f.r * 0.08
    _dashed(img, *f.xy([[0, -1.2], [0, 1.2]]), ink, 1, dash)
    _dashed(img, *f.xy([[-1.2, 0], [1.2, 0]]), ink, 1, dash)
    if rng.random() < 0.5:
        oval(img, f.xy([0, 0]), f.r * 0.7, f.r * 0.7, 0, ink, th=1)
    head(img, f, g, ink, th=lw)
    for u, v in g.eyes():
        _dashed(img, *f.xy([[u - 0.2, v], [u + 0.2, v]]), ink, 1, dash * 0.5)
    draw_eyes(img, f, g, ink)
    draw_mouth(img, f, g, ink, inner=bg * 0.6, k=0.9)
    a, b = f.xy([[-g.aspect, 1.2], [g.aspect, 1.2]])
    line(img, [a, b], ink, 1)
    for p, q in ((a, b), (b, a)):
        d = (q - p) / max(np.hypot(*(q - p)), 1e-6)
        nrm = np.array([-d[1], d[0]])
        line(
            img,
            [p + d * f.r * 0.1 + nrm * f.r * 0.04, p, p + d * f.r * 0.1 - nrm * f.r * 0.04],
            ink,
            1,
        )
    for u in (-g.aspect, g.aspect):
        line(img, f.xy([[u, 1.1], [u, 1.3]]), ink, 1)
    return img


def _tattoo(rng, S: int, f: Frame, g: Geo) -> np.ndarray:
    """A flash-style tattoo in bled ink on skin with curvature shading, pores and hairs."""
    tones = [(250, 215, 185), (235, 190, 150), (205, 150, 110), (170, 120, 85), (135, 95, 65)]
    skin = np.asarray(tones[int(rng.integers(len(tones)))], np.float32) * rng.uniform(0.92, 1.05)
    a = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float32) / S - 0.5
    curv = 0.85 + 0.2 * np.cos((xx * np.cos(a) + yy * np.sin(a)) * rng.uniform(1.5, 3))
    pores = 1 + 0.04 * rng.standard_normal((S, S)).astype(np.float32)
    pores *= 1 + 0.04 * _smooth_noise(rng, S, S / 12)
    base = skin[None, None, :] * (curv * pores)[..., None]
    ink = np.full((S, S, 3), 255, np.uint8)
    black = _rc(rng, (5, 8, 15), (30, 30, 50))
    flash = [(235, 80, 70), (250, 205, 70), (110, 200, 120), (130, 185, 240), (245, 160, 90)]
    fc = np.asarray(flash[int(rng.integers(len(flash)))], float)
    for _ in range(int(rng.integers(2, 6))):  # stars and dots around
        u, v = rng.uniform(-1.5, 1.5, 2)
        if _in_head(g, u, v, 1.15):
            continue
        p, s = f.xy([u, v])[0], f.r * rng.uniform(0.08, 0.16)
        ang = np.linspace(0, 2 * np.pi, 11)[:-1] + rng.uniform(0, 1)
        rad = np.where(np.arange(10) % 2 == 0, s, s * 0.45)
        star = np.stack([p[0] + rad * np.cos(ang), p[1] + rad * np.sin(ang)], 1)
        fill(ink, star, fc)
        line(ink, star, black, max(1.0, f.r * 0.025), closed=True)
    for k in range(int(rng.integers(0, 12))):  # rays
        ang = 2 * np.pi * k / 12 + rng.uniform(-0.1, 0.1)
        line(
            ink,
            f.xy(
                [[1.12 * np.cos(ang), 1.12 * np.sin(ang)], [1.3 * np.cos(ang), 1.3 * np.sin(ang)]]
            ),
            black,
            f.r * 0.03,
        )
    head(ink, f, g, fc)
    if rng.random() < 0.5:  # cheek blush
        for u in (-0.55, 0.55):
            oval(ink, f.xy([u * g.aspect, 0.2]), f.r * 0.12, f.r * 0.08, f.deg, (230, 120, 120))
    head(ink, f, g, black, th=f.r * rng.uniform(0.05, 0.09))
    draw_eyes(ink, f, g, black, white=(255, 255, 255))
    draw_mouth(ink, f, g, black, inner=(150, 20, 30), k=1.2)
    ink = cv2.GaussianBlur(ink, (0, 0), S * rng.uniform(0.002, 0.006)).astype(np.float32) / 255
    fade = rng.uniform(0.86, 0.97)
    out = base * (1 - fade * (1 - ink))
    for _ in range(int(rng.integers(0, 40))):  # hairs
        p = rng.uniform(0, S, 2)
        d = rng.uniform(-1, 1, 2) * S * 0.03
        line(out, [p, p + d], skin * 0.35, 1)
    return np.clip(out, 0, 255).astype(np.uint8)


def _cake(rng, S: int, f: Frame, g: Geo) -> np.ndarray:
    """A round cake from above: frosting, a piped border, sprinkles and a piped-icing face."""
    img = np.empty((S, S, 3), np.float32)
    img[:] = _rc(rng, 60, 200)
    img *= (1 + 0.05 * _smooth_noise(rng, S, S / 5))[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    c0 = f.xy([0, 0])
    disc(img, c0 + f.r * 0.05, f.r * 1.2, (50, 50, 50))
    disc(img, c0, f.r * 1.2, _rc(rng, 225, 250))
    disc(img, c0, f.r * 1.1, (200, 200, 205), th=2)
    frost = _rc(rng, (215, 175, 185), (255, 245, 240))
    disc(img, c0, f.r, frost)
    icing = [(85, 45, 25), (170, 30, 90), (40, 70, 160), (30, 120, 60)]
    ic = np.asarray(icing[int(rng.integers(len(icing)))], float)
    border = np.minimum(frost * rng.uniform(0.8, 0.95), 255)
    nb = int(rng.integers(18, 30))
    for k in range(nb):
        ang = 2 * np.pi * k / nb
        p = f.xy([0.92 * np.cos(ang), 0.92 * np.sin(ang)])[0]
        disc(img, p, f.r * 0.09, border)
        disc(img, p - f.r * 0.02, f.r * 0.04, np.minimum(border * 1.2, 255))
    for _ in range(int(rng.integers(25, 80))):
        a, d = rng.uniform(0, 2 * np.pi), 0.78 * np.sqrt(rng.random())
        u, v = d * np.cos(a), d * np.sin(a)
        col, ang = _rc(rng, 40, 255), rng.uniform(0, np.pi)
        if g.near_features(u, v, 0.06):
            continue
        dd = 0.035 * np.array([np.cos(ang), np.sin(ang)])
        c = np.array([u, v])
        line(img, f.xy([c - dd, c + dd]), col, max(1.0, f.r * 0.022))
    hi = np.minimum(ic + 90, 255)
    tmp = img.copy()
    draw_eyes(tmp, f, g, ic, white=(250, 250, 250), k=1.1)
    draw_mouth(tmp, f, g, ic, inner=ic * 0.7, k=1.3)
    mask = np.any(tmp != img, axis=2).astype(np.uint8)
    img = tmp
    off = np.float32([[1, 0, -f.r * 0.015], [0, 1, -f.r * 0.02]])
    shine = cv2.erode(mask, np.ones((3, 3), np.uint8), iterations=max(1, round(f.r * 0.012)))
    shine = cv2.warpAffine(shine, off, (S, S)) & mask
    img[shine > 0] = _col(hi)
    return img


def _sepia(rng, S: int, f: Frame, g: Geo) -> np.ndarray:
    """A vintage sepia print: soft portrait, grain, vignette, scratches, dust and a border."""
    gray = np.empty((S, S), np.float32)
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float32) / S
    a = rng.uniform(0, 2 * np.pi)
    gray[:] = rng.uniform(90, 200) + rng.uniform(20, 60) * (
        (xx - 0.5) * np.cos(a) + (yy - 0.5) * np.sin(a)
    )
    skin, hair = rng.uniform(150, 215), rng.uniform(20, 80)
    neck = f.xy([[-0.35, 0.6], [0.35, 0.6], [0.4, 2.0], [-0.4, 2.0]])
    fill(gray, neck, skin * 0.85)
    oval(gray, f.xy([0, -0.15]), f.r * g.aspect * 1.08, f.r * 0.98, f.deg, hair)
    for u in (-g.aspect, g.aspect):
        oval(gray, f.xy([u, 0.05]), f.r * 0.12, f.r * 0.2, f.deg, skin * 0.9)
    head(gray, f, g, skin)
    fr, fy = rng.uniform(-0.15, 0.15), rng.uniform(-0.55, -0.4)
    ang = np.linspace(np.pi + 0.25, 2 * np.pi - 0.25, 30)
    crown = np.stack([1.04 * g.aspect * np.cos(ang), 1.04 * np.sin(ang)], 1)
    uu = np.linspace(crown[-1, 0], crown[0, 0], 20)
    fringe = np.stack([uu, fy + fr * uu + 0.05 * np.sin(uu * 9)], 1)
    if rng.random() < 0.6:
        fill(gray, f.xy(np.concatenate([crown, fringe])), hair)
    shade = np.zeros((S, S), np.float32)
    oval(shade, f.xy([rng.choice([-1, 1]) * 0.7, 0.1]), f.r * 0.6, f.r * 1.1, f.deg, 1.0)
    gray -= cv2.GaussianBlur(shade, (0, 0), f.r * 0.3) * 35
    gray = cv2.GaussianBlur(gray, (0, 0), S * 0.006)
    draw_eyes(gray, f, g, 35.0, white=225.0)
    draw_mouth(gray, f, g, rng.uniform(25, 55), inner=15.0, k=1.15)
    gray = cv2.GaussianBlur(gray, (0, 0), S * 0.003)
    r = np.hypot(xx - 0.5, yy - 0.5)
    gray *= 1 - rng.uniform(0.2, 0.5) * np.clip(r - 0.3, 0, 1) * 2.5
    gray += rng.uniform(4, 12) * rng.standard_normal((S, S)).astype(np.float32)
    for _ in range(int(rng.integers(2, 12))):  # scratches
        x = rng.uniform(0, S)
        y0, y1 = sorted(rng.uniform(0, S, 2))
        line(gray, [[x, y0], [x + rng.uniform(-0.04, 0.04) * S, y1]], rng.choice([230.0, 30.0]), 1)
    for _ in range(int(rng.integers(5, 40))):  # dust
        disc(gray, rng.uniform(0, S, 2), rng.uniform(0.5, 2.5), rng.choice([240.0, 20.0]))
    tone = np.array([1.0, 0.82, 0.6]) * rng.uniform(0.95, 1.1)
    img = np.clip(gray[..., None] * tone + np.array([18, 8, 0]), 0, 255).astype(np.uint8)
    m = round(S * rng.uniform(0.02, 0.07))
    border = _col(_rc(rng, (225, 215, 190), (245, 238, 220)))
    img[:m], img[-m:], img[:, :m], img[:, -m:] = border, border, border, border
    return img


def _glass(rng, S: int, f: Frame, g: Geo) -> np.ndarray:
    """A face etched into a glass pane in front of a blurred, dim street scene."""
    bg = np.empty((S, S, 3), np.float32)
    yy = np.linspace(0, 1, S, dtype=np.float32)[:, None, None]
    bg[:] = _rc(rng, 10, 70) * (1 - yy) + _rc(rng, 20, 90) * yy
    for _ in range(int(rng.integers(12, 30))):
        disc(bg, rng.uniform(0, S, 2), rng.uniform(0.02, 0.1) * S, _rc(rng, 20, 150))
    bg = cv2.GaussianBlur(bg, (0, 0), S / rng.uniform(20, 35))
    m = np.zeros((S, S), np.float32)
    inverse = rng.random() < 0.45
    if inverse:  # a frosted disc with clear features
        head(m, f, g, 1.0)
        draw_eyes(m, f, g, 0.0, white=1.0, k=1.1)
        draw_mouth(m, f, g, 0.0, k=1.3)
    else:
        head(m, f, g, 1.0, th=f.r * rng.uniform(0.05, 0.09))
        draw_eyes(m, f, g, 1.0, white=0.0, k=1.1)
        draw_mouth(m, f, g, 1.0, inner=1.0, k=1.3)
    frost = _rc(rng, (205, 215, 220), (240, 245, 250))
    grain = 1 + 0.08 * rng.standard_normal((S, S)).astype(np.float32)
    edge = np.abs(cv2.Sobel(cv2.GaussianBlur(m, (0, 0), 1.5), cv2.CV_32F, 1, 1, ksize=3))
    out = bg * (1 - 0.88 * m[..., None]) + (m * grain)[..., None] * frost * 0.88
    out += np.clip(edge * 120, 0, 60)[..., None]
    a = rng.uniform(-1, 1)
    xx, yy2 = np.meshgrid(np.arange(S), np.arange(S))
    band = np.exp(-(((xx + a * yy2) / S - rng.uniform(0, 1)) ** 2) / 0.01)
    out += (band * rng.uniform(10, 35))[..., None]
    if rng.random() < 0.5:  # window frame
        w = round(S * rng.uniform(0.03, 0.06))
        fc = _col(_rc(rng, 150, 240))
        side = int(rng.integers(4))
        sl = [np.s_[:w], np.s_[-w:], np.s_[:, :w], np.s_[:, -w:]][side]
        out[sl] = fc
    return np.clip(out, 0, 255).astype(np.uint8)


def _suit(img, p, s: float, kind: int, color) -> None:
    """A small suit sign (heart, diamond, club or spade) at p of size s (upright)."""
    x, y = p
    if kind == 1:
        fill(img, [[x, y - s], [x + s * 0.7, y], [x, y + s], [x - s * 0.7, y]], color)
        return
    if kind == 2:
        for dx, dy in ((0, -0.45), (-0.45, 0.1), (0.45, 0.1)):
            disc(img, (x + dx * s, y + dy * s), s * 0.42, color)
        fill(img, [[x, y], [x + s * 0.3, y + s], [x - s * 0.3, y + s]], color)
        return
    flip = -1 if kind == 3 else 1
    for dx in (-0.4, 0.4):
        disc(img, (x + dx * s, y - flip * s * 0.3), s * 0.45, color)
    fill(
        img,
        [
            [x - s * 0.83, y - flip * s * 0.15],
            [x + s * 0.83, y - flip * s * 0.15],
            [x, y + flip * s],
        ],
        color,
    )
    if kind == 3:
        fill(img, [[x, y], [x + s * 0.3, y + s], [x - s * 0.3, y + s]], color)


def _card(rng, S: int, f: Frame, g: Geo) -> np.ndarray:
    """A face card lying on a felt table; the card (and its face) tilted together."""
    felt = _rc(rng, (10, 80, 40), (40, 130, 70)) if rng.random() < 0.6 else _rc(rng, 30, 140)
    img = np.empty((S, S, 3), np.float32)
    img[:] = felt
    img *= (1 + 0.04 * rng.standard_normal((S, S)).astype(np.float32))[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    fu = Frame(S / 2, S / 2, f.r, 0.0)
    card = np.zeros((S, S, 3), np.uint8)
    hw, hh = 1.3 * f.r, 1.8 * f.r
    x0, y0, x1, y1 = S / 2 - hw, S / 2 - hh * 0.85, S / 2 + hw, S / 2 + hh * 1.15
    rect = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    fill(card, rect, _rc(rng, 235, 252))
    kind = int(rng.integers(4))
    sc = (190, 25, 30) if kind < 2 else (20, 20, 25)
    ins = f.r * 0.22
    line(
        card,
        [[x0 + ins, y0 + ins], [x1 - ins, y0 + ins], [x1 - ins, y1 - ins], [x0 + ins, y1 - ins]],
        sc,
        2,
        closed=True,
    )
    rank = "KQJA"[int(rng.integers(4))]
    fs = max(0.3, f.r * 0.007)
    for cx, cy in ((x0 + ins * 0.15, y0 + ins * 1.0), (x1 - ins * 0.95, y1 - ins * 0.3)):
        cv2.putText(
            card,
            rank,
            (round(cx), round(cy)),
            cv2.FONT_HERSHEY_DUPLEX,
            fs,
            sc,
            max(1, round(fs * 1.5)),
            AA,
        )
    _suit(card, (x0 + ins * 0.5, y0 + ins * 1.6), ins * 0.4, kind, sc)
    _suit(card, (x1 - ins * 0.5, y1 - ins * 1.6), ins * 0.4, kind, sc)
    skin = _rc(rng, (220, 180, 140), (250, 220, 190))
    hair = _rc(rng, 20, 160)
    oval(card, fu.xy([0, -0.3]), f.r * g.aspect * 1.05, f.r * 0.9, 0, hair)
    head(card, fu, g, skin)
    head(card, fu, g, (30, 30, 30), th=max(1.0, f.r * 0.03))
    if rank != "J" and rng.random() < 0.8:  # crown
        cr = fu.xy(
            [
                [-0.6, -0.85],
                [-0.6, -1.35],
                [-0.3, -1.1],
                [0, -1.45],
                [0.3, -1.1],
                [0.6, -1.35],
                [0.6, -0.85],
            ]
        )
        fill(card, cr, (235, 190, 40))
        line(card, cr, (30, 30, 30), max(1.0, f.r * 0.025), closed=True)
    draw_eyes(card, fu, g, (25, 25, 30), white=(255, 255, 255))
    draw_mouth(
        card, fu, g, (150, 20, 25) if rng.random() < 0.5 else (25, 25, 30), inner=(90, 10, 15)
    )
    mask = np.zeros((S, S), np.uint8)
    fill(mask, rect, 255)
    M = cv2.getRotationMatrix2D((S / 2, S / 2), -f.deg, 1.0)
    M[:, 2] += (f.cx - S / 2, f.cy - S / 2)
    card = cv2.warpAffine(card, M, (S, S), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(mask, M, (S, S), flags=cv2.INTER_LINEAR).astype(np.float32) / 255
    sh = cv2.GaussianBlur(mask, (0, 0), S * 0.01)
    sh = np.roll(sh, (round(S * 0.015), round(S * 0.015)), (0, 1))
    out = img.astype(np.float32) * (1 - 0.5 * sh[..., None])
    out = out * (1 - mask[..., None]) + card.astype(np.float32) * mask[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def _mural(rng, S: int, f: Frame, g: Geo) -> np.ndarray:
    """A face painted on a brick wall, seen in perspective against sky and pavement."""
    brick = _rc(rng, (120, 55, 40), (185, 100, 75))
    mortar = _rc(rng, 160, 210)
    wall = np.empty((S, S, 3), np.uint8)
    wall[:] = _col(mortar)
    bh = S / rng.uniform(14, 22)
    bw = bh * rng.uniform(2.0, 2.6)
    gap = max(1, round(bh * 0.12))
    for row in range(int(S / bh) + 1):
        off = (row % 2) * bw / 2
        for k in range(-1, int(S / bw) + 2):
            x, y = k * bw + off, row * bh
            c = _col(brick * rng.uniform(0.85, 1.15))
            cv2.rectangle(
                wall, (round(x + gap), round(y + gap)), (round(x + bw), round(y + bh)), c, -1
            )
    paint = np.zeros((S, S, 3), np.uint8)
    pm = np.zeros((S, S), np.uint8)
    fc = _rc(rng, (150, 150, 0), (255, 255, 200))
    rng.shuffle(fc)
    dark = _rc(rng, 10, 60)
    if rng.random() < 0.5:  # painted backdrop circle
        bc = _rc(rng, 40, 255)
        disc(paint, f.xy([0, 0]), f.r * 1.3, bc)
        disc(pm, f.xy([0, 0]), f.r * 1.3, 255)
    head(paint, f, g, fc)
    head(paint, f, g, dark, th=f.r * 0.07)
    draw_eyes(paint, f, g, dark, white=(250, 250, 250))
    draw_mouth(paint, f, g, dark, inner=(120, 20, 30), k=1.3)
    head(pm, f, g, 255)
    pmask = (
        np.maximum(pm, np.any(paint > 0, axis=2).astype(np.uint8) * 255).astype(np.float32) / 255
    )
    tex = cv2.cvtColor(wall, cv2.COLOR_RGB2GRAY).astype(np.float32)
    tex = 0.8 + 0.3 * tex / max(float(tex.max()), 1.0)
    flat = (
        wall.astype(np.float32) * (1 - pmask[..., None])
        + paint.astype(np.float32) * (tex * pmask)[..., None]
    )
    flat = np.clip(flat, 0, 255)
    scene = np.empty((S, S, 3), np.float32)
    yy = np.linspace(0, 1, S, dtype=np.float32)[:, None, None]
    scene[:] = _rc(rng, (120, 160, 200), (180, 210, 245)) * (1 - yy) + _rc(rng, 70, 130) * yy
    k = rng.uniform(0.72, 0.95)
    lo, hi = S * (1 - k) / 2, S * (1 + k) / 2
    src = np.float32([[0, 0], [S, 0], [S, S], [0, S]])
    if rng.random() < 0.5:
        dst = np.float32([[0, 0], [S, lo], [S, hi], [0, S]])
    else:
        dst = np.float32([[0, lo], [S, 0], [S, S], [0, hi]])
    dst[:, 0] = dst[:, 0] * rng.uniform(0.9, 1.0) + rng.uniform(0, 0.05) * S
    H = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(flat, H, (S, S), flags=cv2.INTER_LINEAR)
    wm = cv2.warpPerspective(np.ones((S, S), np.float32), H, (S, S), flags=cv2.INTER_LINEAR)
    out = scene * (1 - wm[..., None]) + warped * wm[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def _xray(rng, S: int, f: Frame, g: Geo) -> np.ndarray:
    """An X-ray-like negative: glowing skull outline, dark sockets, a bright row of teeth."""
    gray = np.zeros((S, S), np.float32)
    head(gray, f, g, 0.22)
    head(gray, f, g, 0.85, th=f.r * rng.uniform(0.06, 0.1))
    line(
        gray,
        f.xy([[-0.7 * g.aspect, 0.45], [-0.3, 0.95], [0.3, 0.95], [0.7 * g.aspect, 0.45]]),
        0.6,
        f.r * 0.05,
    )
    for u, v in g.eyes():
        p = f.xy([u, v])
        oval(
            gray, p, f.r * (g.er + 0.07), f.r * (g.er + 0.07) * min(g.eye_aspect, 1.2), f.deg, 0.75
        )
        oval(
            gray, p, f.r * (g.er + 0.04), f.r * (g.er + 0.04) * min(g.eye_aspect, 1.2), f.deg, 0.04
        )
        if g.brow:
            line(
                gray, f.xy([[u - 0.15, v - g.brow_dy], [u + 0.15, v - g.brow_dy]]), 0.7, f.r * 0.04
            )
    fill(gray, f.xy([[0, -0.02], [0.08, 0.16], [-0.08, 0.16]]), 0.05)
    gray = cv2.GaussianBlur(gray, (0, 0), f.r * 0.03 + 0.5)
    ml = g.mouth_line()
    t = max(g.mt, 0.06) * 1.4
    line(gray, f.xy(ml), 0.95, f.r * t)
    d = np.gradient(ml, axis=0)
    nrm = np.stack([-d[:, 1], d[:, 0]], 1) / np.hypot(d[:, 0], d[:, 1])[:, None]
    idx = np.linspace(0, len(ml) - 1, int(rng.integers(6, 11))).round().astype(int)[1:-1]
    for i in idx:
        line(
            gray,
            f.xy([ml[i] - nrm[i] * t * 0.5, ml[i] + nrm[i] * t * 0.5]),
            0.25,
            max(1.0, f.r * 0.015),
        )
    gray = cv2.GaussianBlur(gray, (0, 0), 0.8)
    gray += 0.03 * rng.standard_normal((S, S)).astype(np.float32)
    tint = np.array([0.82, 0.92, 1.0]) * rng.uniform(0.85, 1.0)
    img = np.clip((gray[..., None] * tint + 0.04) * 255, 0, 255).astype(np.uint8)
    cv2.putText(
        img,
        "LR"[int(rng.integers(2))],
        (round(S * 0.05), round(S * 0.12)),
        cv2.FONT_HERSHEY_SIMPLEX,
        S / 250,
        (230, 230, 230),
        max(1, S // 120),
        AA,
    )
    return img


STYLES: dict[str, Callable[..., np.ndarray]] = {
    "knitted_wool": _knit,
    "pizza": _pizza,
    "beach_pebbles": _pebbles,
    "circuit_board": _circuit,
    "blueprint": _blueprint,
    "tattoo": _tattoo,
    "cake_icing": _cake,
    "sepia_print": _sepia,
    "etched_glass": _glass,
    "playing_card": _card,
    "brick_mural": _mural,
    "xray_negative": _xray,
}

# ---------------------------------------------------------------- rendering


def _degrade(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Label-blind degradations at output size: blur, low contrast, colour cast, noise."""
    out = img.astype(np.float32)
    if rng.random() < 0.25:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 1.1))
    if rng.random() < 0.25:
        k, pivot = rng.uniform(0.68, 0.88), rng.uniform(90, 160)
        out = pivot + (out - pivot) * k
    if rng.random() < 0.25:
        out *= rng.uniform(0.85, 1.15, 3)
    if rng.random() < 0.3:
        out += rng.uniform(2, 9) * rng.standard_normal(out.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def render(ss: np.random.SeedSequence, sign: int, size: int) -> tuple[np.ndarray, str, int]:
    """One face: an RGB uint8 (size, size, 3) array, its file extension and JPEG quality
    (0 for PNG). sign +1 = happy, -1 = sad; only the mouth's bend depends on it."""
    if sign not in (1, -1):
        raise ValueError("sign must be +1 (happy) or -1 (sad)")
    rng = np.random.default_rng(ss)
    names = list(STYLES)
    style = names[int(rng.integers(len(names)))]
    S = 2 * size
    frac = rng.uniform(0.3, 0.95)
    r = frac * S / 2
    margin = min(r * 0.9, S / 2)
    cx, cy = rng.uniform(margin, S - margin, 2)
    f = Frame(float(cx), float(cy), float(r), float(np.radians(rng.uniform(-25, 25))))
    g = _sample_geo(rng, sign)
    style_rng = np.random.default_rng(rng.integers(2**63))
    big = STYLES[style](style_rng, S, f, g)
    img = cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA)
    img = _degrade(rng, img)
    if rng.random() < 0.35:
        return img, ".jpg", int(rng.integers(35, 96))
    return img, ".png", 0


# ---------------------------------------------------------------- writing the set


def _expected(out: Path) -> dict | None:
    """The marker of the set in out, if it holds one whose files are all there."""
    try:
        marker = json.loads((out / MARKER).read_text())
        files = marker["files"]
        if all((out / c / name).is_file() for c in CLASSES for name in files[c]):
            return marker
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return None


def generate(out: Path, per_class: int, image_size: int, seed: int) -> Path:
    """Write out/happy and out/sad (per_class images each) atomically and return out. A folder
    already holding this very set is returned untouched; any other non-empty folder is refused."""
    if per_class < 1 or image_size < 32 or seed < 0:
        raise ValueError("need per_class >= 1, image_size >= 32 and seed >= 0")
    out = Path(out)
    want = {
        "generator": "yonder_faces",
        "version": VERSION,
        "per_class": per_class,
        "image_size": image_size,
        "seed": seed,
    }
    if out.exists():
        marker = _expected(out) if out.is_dir() else None
        if marker is not None and all(marker.get(k) == v for k, v in want.items()):
            return out
        if not out.is_dir() or any(out.iterdir()):
            raise FileExistsError(f"{out} exists and does not hold this yonder_faces set")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        files: dict[str, list[str]] = {}
        for c, name in enumerate(CLASSES):
            (tmp / name).mkdir()
            files[name] = []
            for i in range(per_class):
                ss = np.random.SeedSequence([seed, c, i])
                img, ext, q = render(ss, 1 if c == 0 else -1, image_size)
                fname = f"{name}_{i:05d}{ext}"
                params = [cv2.IMWRITE_JPEG_QUALITY, q] if ext == ".jpg" else []
                if not cv2.imwrite(str(tmp / name / fname), img[..., ::-1], params):
                    raise OSError(f"could not write {fname}")
                files[name].append(fname)
        marker = {**want, "classes": list(CLASSES), "files": files}
        (tmp / MARKER).write_text(json.dumps(marker, indent=1) + "\n")
        try:
            os.replace(tmp, out)
        except OSError as e:
            raise FileExistsError(f"{out} appeared while the set was written") from e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: write the set and print a one-line JSON summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="folder to create")
    ap.add_argument("--per-class", type=int, default=200)
    ap.add_argument("--image-size", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        out = generate(a.out, a.per_class, a.image_size, a.seed)
    except (FileExistsError, ValueError) as e:
        print(f"yonder_faces: {e}", file=sys.stderr)
        return 2
    summary = {
        "out": str(out),
        "per_class": a.per_class,
        "image_size": a.image_size,
        "seed": a.seed,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
