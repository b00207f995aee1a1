"""Farther faces: a held-out, report-only set of synthetic happy/sad faces in twelve new styles.

Written from the task's short description alone ("A happy face smiles: the corners of the mouth
turn up. A sad face frowns: the corners turn down. Nothing else in the image may depend on the
label."), without reading the project's other face generators or its demo data code, so that the
drawing owes nothing to the images the classifier was trained on.

Styles: a face drawn with a stick in beach sand seen from above (grooves lit from one side, ripples,
wet sand, shells, footprints); string art, thread wound round nails on a board or pegboard; a
patchwork quilt with an appliqué face and running stitches; a bowl of noodle soup from above whose
toppings (egg halves, fish cake, scallions, nori) make the face; highlighter-pen marks over a
printed page of text columns; a ceramic plate with a painted rim pattern and a brush-painted face;
crop art in a rice paddy seen from a drone among fields, roads and trees; a two-colour risograph
print with grainy ink, knocked-out features and misregistration; a single continuous line on a
magic drawing screen toy; a transit-map diagram with coloured lines and station dots; rainbow
scratch-art paper; strips of coloured tape stuck on a wall.

Label blindness: every random choice (style, head, eyes, brows, nose, hair or hat, colours,
background, clutter, position, size 30-95 % of the frame, tilt up to ±25 degrees, blur, noise, low
contrast, colour casts, file type and JPEG quality) comes from one random generator, drawn in the
same order whatever the label. The label only flips the sign of the mouth's bend (happy: corners
up; sad: corners down), so a happy and a sad image rendered from one seed differ around the mouth
only. Image i of class c (0 happy, 1 sad) is rendered from np.random.SeedSequence([seed, c, i]),
drawn at twice the output size and reduced with cv2.INTER_AREA.

Report-only: use it to measure how a trained model generalises to faces drawn by a stranger's
hand. Never tune anything (models, thresholds, augmentations, hyper-parameters) on it, or it stops
measuring that.

Usage: python scripts/farther_faces.py --out DIR [--per-class 200] [--image-size 128] [--seed 0]
"""

from __future__ import annotations

import argparse
import colorsys
import functools
import itertools
import json
import operator
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

CLASSES = ("happy", "sad")
MARKER = "FARTHER_FACES.json"
VERSION = 1

_SHIFT = 4
_ONE = 1 << _SHIFT
_AA = cv2.LINE_AA
Color = tuple[int, int, int]


# ----------------------------------------------------------------------------- small helpers


def _rgb(h: float, s: float, v: float) -> Color:
    """HSV in [0, 1] to an RGB tuple of ints."""
    r, g, b = colorsys.hsv_to_rgb(
        float(h) % 1.0, min(max(float(s), 0.0), 1.0), min(max(v, 0.0), 1.0)
    )
    return (int(r * 255 + 0.5), int(g * 255 + 0.5), int(b * 255 + 0.5))


def _shade(c: Color, k: float) -> Color:
    """Scale a colour's brightness by k."""
    return tuple(int(min(255.0, max(0.0, x * k))) for x in c)  # type: ignore[return-value]


def _ip(pts: np.ndarray) -> np.ndarray:
    """Float canvas points to fixed-point int32 for cv2 with _SHIFT."""
    return np.round(np.asarray(pts, np.float64) * _ONE).astype(np.int32).reshape(-1, 2)


def _pt(p) -> tuple[int, int]:
    """One float point to fixed point."""
    return (round(float(p[0]) * _ONE), round(float(p[1]) * _ONE))


def _poly(img: np.ndarray, pts, color, th: float, closed: bool = False) -> None:
    """Anti-aliased polyline."""
    cv2.polylines(img, [_ip(pts)], closed, color, max(1, round(th)), _AA, _SHIFT)


def _fill(img: np.ndarray, pts, color) -> None:
    """Anti-aliased filled polygon."""
    cv2.fillPoly(img, [_ip(pts)], color, _AA, _SHIFT)


def _line(img: np.ndarray, a, b, color, th: float) -> None:
    """Anti-aliased segment."""
    cv2.line(img, _pt(a), _pt(b), color, max(1, round(th)), _AA, _SHIFT)


def _disc(img: np.ndarray, c, rad: float, color, th: float = -1) -> None:
    """Anti-aliased circle, filled when th < 0."""
    t = -1 if th < 0 else max(1, round(th))
    cv2.circle(img, _pt(c), max(1, round(rad * _ONE)), color, t, _AA, _SHIFT)


def _ell(img: np.ndarray, c, rx: float, ry: float, ang: float, color, th: float = -1) -> None:
    """Anti-aliased ellipse (ang in degrees), filled when th < 0."""
    t = -1 if th < 0 else max(1, round(th))
    axes = (max(1, round(rx * _ONE)), max(1, round(ry * _ONE)))
    cv2.ellipse(img, _pt(c), axes, float(ang), 0, 360, color, t, _AA, _SHIFT)


def _ellipse_pts(c, rx: float, ry: float, ang: float = 0.0, n: int = 28) -> np.ndarray:
    """Points on an ellipse (ang in radians)."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x, y = rx * np.cos(t), ry * np.sin(t)
    ca, sa = np.cos(ang), np.sin(ang)
    return np.stack([c[0] + x * ca - y * sa, c[1] + x * sa + y * ca], 1)


def _length(pts: np.ndarray, closed: bool) -> float:
    """Polyline length."""
    p = np.vstack([pts, pts[:1]]) if closed else pts
    return float(np.hypot(*np.diff(p, axis=0).T).sum())


def _resample(pts: np.ndarray, n: int, closed: bool = False) -> np.ndarray:
    """n points evenly spaced along a polyline."""
    p = np.vstack([pts, pts[:1]]) if closed else np.asarray(pts, np.float64)
    d = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(p, axis=0).T))])
    t = np.linspace(0.0, d[-1], n, endpoint=not closed)
    return np.stack([np.interp(t, d, p[:, 0]), np.interp(t, d, p[:, 1])], 1)


def _normals(p: np.ndarray, closed: bool) -> np.ndarray:
    """Unit normals of a polyline's points."""
    g = np.roll(p, -1, 0) - np.roll(p, 1, 0) if closed else np.gradient(p, axis=0)
    g /= np.maximum(np.hypot(g[:, 0], g[:, 1]), 1e-6)[:, None]
    return np.stack([-g[:, 1], g[:, 0]], 1)


def _dashes(img, pts, closed: bool, step: float, color, th: float) -> None:
    """Running stitch: every other piece of a polyline cut into pieces of length step."""
    n = max(3, int(_length(pts, closed) / step))
    p = _resample(pts, n + (0 if closed else 1), closed)
    for i in range(0, len(p) - 1, 2):
        _line(img, p[i], p[i + 1], color, th)


@functools.lru_cache(maxsize=4)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinate grids (x, y) as float32."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y


def _lowfreq(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Smooth random field, roughly unit scale."""
    n = rng.standard_normal((cells, cells), dtype=np.float32)
    return cv2.resize(n, (size, size), interpolation=cv2.INTER_CUBIC)


def _u8(img: np.ndarray) -> np.ndarray:
    """Float image to uint8."""
    return np.clip(img, 0, 255).astype(np.uint8)


def _comp(img: np.ndarray, mask: np.ndarray, color, alpha: float = 1.0) -> None:
    """Lay a colour over a float image through a uint8 mask, in place."""
    a = mask.astype(np.float32)[..., None] * (alpha / 255.0)
    img += (np.float32(color) - img) * a


def _seg_dist(c, a, b) -> float:
    """Distance from point c to segment ab."""
    a, b, c = np.asarray(a, float), np.asarray(b, float), np.asarray(c, float)
    ab = b - a
    t = float(np.clip(np.dot(c - a, ab) / max(np.dot(ab, ab), 1e-9), 0, 1))
    return float(np.hypot(*(a + t * ab - c)))


# ----------------------------------------------------------------------------- the face


@dataclass
class _Shape:
    """One part of a face in canvas pixels."""

    pts: np.ndarray
    closed: bool
    filled: bool
    width: float
    part: str  # head, hat, hair, brow, eye, pupil, nose, mouth


class _Face:
    """Label-free face geometry in head units (radius 1, y down) and its place on the canvas."""

    def __init__(self, rng: np.random.Generator, size: int) -> None:
        self.r = float(rng.uniform(0.30, 0.95)) * size / 2
        m = self.r * 1.02
        self.cx = float(rng.uniform(m, size - m))
        self.cy = float(rng.uniform(m, size - m))
        self.ang = float(np.deg2rad(rng.uniform(-25.0, 25.0)))
        kind = int(rng.integers(4))
        squash = float(rng.uniform(0.84, 1.0))
        ax, ay = (squash, 1.0) if rng.random() < 0.5 else (1.0, squash)
        if kind == 3:
            ax = ay = 1.0
        expo = float(rng.uniform(3.0, 4.5)) if kind == 1 else 2.0
        egg = float(rng.uniform(-0.12, 0.12)) if kind == 2 else 0.0
        t = np.linspace(0, 2 * np.pi, 72, endpoint=False)
        c, s = np.cos(t), np.sin(t)
        y = ay * np.sign(s) * np.abs(s) ** (2 / expo)
        x = ax * np.sign(c) * np.abs(c) ** (2 / expo) * (1 + egg * y) / (1 + abs(egg))
        self.ax, self.ay = ax, ay
        self.round = kind in (0, 3)
        self.head = np.stack([x, y], 1)
        # eyes
        self.eye_kind = ("dot", "dot", "oval", "ring", "bar")[int(rng.integers(5))]
        self.ex = float(rng.uniform(0.25, 0.38)) * ax
        self.ey = float(rng.uniform(-0.36, -0.14)) * ay
        self.er = float(rng.uniform(0.06, 0.105))
        self.pupil = rng.uniform(-0.35, 0.35, 2)
        # brows
        self.brows = rng.random() < 0.45
        self.bl = float(rng.uniform(0.09, 0.15))
        self.bh = float(rng.uniform(0.1, 0.15)) + self.er
        self.arch = float(rng.uniform(0.0, 0.04))
        self.btilt = float(rng.uniform(-0.025, 0.025))
        # mouth
        self.m_cy = float(rng.uniform(0.30, 0.52)) * ay
        self.m_cx = float(rng.uniform(-0.06, 0.06))
        self.m_hw = float(rng.uniform(0.22, 0.46)) * ax
        slight = rng.random() < 0.15
        bend_slight, bend = float(rng.uniform(0.2, 0.28)), float(rng.uniform(0.34, 0.62))
        self.m_bend = bend_slight if slight else bend
        self.m_open = (rng.random() < 0.35) and not slight
        self.m_ro = float(rng.uniform(0.0, 0.4))
        # nose
        self.nose = ("none", "dot", "hook", "line", "button")[int(rng.integers(5))]
        self.ny = min(0.06, self.m_cy - 0.27)
        self.ns = float(rng.uniform(0.8, 1.2))
        # hair or hat
        self.hair = ("none", "none", "tufts", "spikes", "curl", "cap")[int(rng.integers(6))]
        self.hn = int(rng.integers(3, 6))
        self.hlen = float(rng.uniform(0.15, 0.3))
        self.hcurl = float(rng.uniform(-0.12, 0.12))
        self.brim = float(rng.uniform(0.15, 0.35)) * (1 if rng.random() < 0.5 else -1)
        # line widths in head units
        self.lw = float(rng.uniform(0.045, 0.085))
        self.hlw = float(rng.uniform(0.035, 0.07))
        self.mw = float(rng.uniform(0.05, 0.1))

    def canvas(self, p, k: float = 1.0) -> np.ndarray:
        """Head units to canvas pixels (scaled by k about the head centre)."""
        p = np.asarray(p, np.float64).reshape(-1, 2) * (k * self.r)
        c, s = np.cos(self.ang), np.sin(self.ang)
        return np.stack(
            [self.cx + p[:, 0] * c - p[:, 1] * s, self.cy + p[:, 0] * s + p[:, 1] * c], 1
        )

    def px(self, w: float, k: float = 1.0, lo: float = 2.0) -> float:
        """A width in head units to pixels, at least lo."""
        return max(lo, w * self.r * k)

    def mouth_local(self, sign: int) -> tuple[np.ndarray, bool]:
        """The mouth in head units: an open curve, or a closed outline when the mouth is open."""
        u = np.linspace(-1.0, 1.0, 25)
        rise = self.m_bend * self.m_hw
        yc = self.m_cy - sign * rise * 2 / 3
        x = self.m_cx + u * self.m_hw
        outer = np.stack([x, yc + sign * rise * (1 - u * u)], 1)
        if not self.m_open:
            return outer, False
        inner = np.stack([x, yc + sign * rise * self.m_ro * (1 - u * u)], 1)[::-1]
        return np.vstack([outer, inner[1:-1]]), True

    def eye_local(self) -> list[tuple[np.ndarray, bool, bool, str]]:
        """Eye parts in head units: (points, closed, filled, part)."""
        out = []
        er = self.er
        for sx in (-1, 1):
            c = (sx * self.ex, self.ey)
            if self.eye_kind == "dot":
                out.append((_ellipse_pts(c, er, er), True, True, "eye"))
            elif self.eye_kind == "oval":
                out.append((_ellipse_pts(c, er * 0.72, er * 1.35), True, True, "eye"))
            elif self.eye_kind == "ring":
                out.append((_ellipse_pts(c, er * 1.25, er * 1.25), True, False, "eye"))
                pc = (c[0] + self.pupil[0] * er * 0.5, c[1] + self.pupil[1] * er * 0.5)
                out.append((_ellipse_pts(pc, er * 0.55, er * 0.55, n=18), True, True, "pupil"))
            else:
                out.append(
                    (
                        np.array([[c[0], c[1] - er * 1.2], [c[0], c[1] + er * 1.2]]),
                        False,
                        False,
                        "eye",
                    )
                )
        return out

    def brow_local(self) -> list[np.ndarray]:
        """Brow polylines in head units (empty without brows)."""
        if not self.brows:
            return []
        u = np.linspace(-1, 1, 7)
        out = []
        for sx in (-1, 1):
            x = sx * self.ex + u * self.bl
            y = self.ey - self.bh - self.arch * (1 - u * u) + self.btilt * u * sx
            out.append(np.stack([x, y], 1))
        return out

    def nose_local(self) -> tuple[np.ndarray, bool, bool] | None:
        """Nose in head units: (points, closed, filled), or None."""
        y, s = self.ny, 0.06 * self.ns
        if self.nose == "dot":
            return _ellipse_pts((0, y), s * 0.7, s * 0.7, n=16), True, True
        if self.nose == "hook":
            return (
                np.array(
                    [[0.01, y - 1.6 * s], [-0.04 * self.ns, y + 0.6 * s], [0.03, y + 0.8 * s]]
                ),
                False,
                False,
            )
        if self.nose == "line":
            return np.array([[0.0, y - 1.3 * s], [0.0, y + 0.7 * s]]), False, False
        if self.nose == "button":
            return _ellipse_pts((0, y), s * 1.0, s * 0.7, n=18), True, True
        return None

    def hair_local(self) -> list[tuple[np.ndarray, bool, bool, str]]:
        """Hair strokes or a cap in head units: (points, closed, filled, part)."""
        ax, ay = self.ax, self.ay
        if self.hair == "tufts":
            out = []
            for j in range(self.hn):
                a = -np.pi / 2 + (j - (self.hn - 1) / 2) * 0.28
                b = np.array([np.cos(a) * ax * 0.97, np.sin(a) * ay * 0.97])
                d = np.array([np.cos(a), np.sin(a)])
                nrm = np.array([-d[1], d[0]])
                t = np.linspace(0, 1, 5)[:, None]
                pts = b + d * t * self.hlen + nrm * (t * t) * self.hcurl * 1.5
                out.append((pts, False, False, "hair"))
            return out
        if self.hair == "spikes":
            a = np.linspace(-np.pi * 0.82, -np.pi * 0.18, 2 * self.hn + 1)
            rr = np.where(np.arange(a.size) % 2 == 0, 0.97, 0.97 + self.hlen * 0.8)
            return [(np.stack([np.cos(a) * ax * rr, np.sin(a) * ay * rr], 1), False, False, "hair")]
        if self.hair == "curl":
            t = np.linspace(0, 2.6 * np.pi, 30)
            rad = 0.13 * (1 - t / (3.2 * np.pi))
            c = (self.hcurl * 0.5, -ay * 1.0 - 0.1)
            pts = np.stack(
                [c[0] + rad * np.sin(t) * np.sign(self.brim), c[1] + 0.1 - rad * np.cos(t)], 1
            )
            pts = np.vstack([[[self.hcurl * 0.3, -ay * 0.97]], pts])
            return [(pts, False, False, "hair")]
        if self.hair == "cap":
            base = self.ey - self.bh - 0.12 if self.brows else self.ey - self.er * 1.4 - 0.14
            base = min(base, -0.45 * ay)
            d = float(np.arcsin(min(0.99, -base / (1.04 * ay))))
            a = np.linspace(-np.pi + d, -d, 24)
            arc = np.stack([np.cos(a) * ax * 1.04, np.sin(a) * ay * 1.04], 1)
            x0, x1 = arc[0, 0], arc[-1, 0]
            if self.brim > 0:
                brim = [[x1 + self.brim, base], [x1 + self.brim, base + 0.07], [x0, base + 0.07]]
            else:
                brim = [[x1, base + 0.07], [x0 + self.brim, base + 0.07], [x0 + self.brim, base]]
            return [(np.vstack([arc, brim]), True, True, "hat")]
        return []

    def shapes(self, sign: int, k: float = 1.0) -> list[_Shape]:
        """Every part in drawing order, in canvas pixels; only the mouth depends on sign."""
        T = functools.partial(self.canvas, k=k)
        lw = self.px(self.lw, k)
        out = [_Shape(T(self.head), True, False, self.px(self.hlw, k), "head")]
        for pts, closed, filled, part in self.hair_local():
            out.append(_Shape(T(pts), closed, filled, lw, part))
        for pts in self.brow_local():
            out.append(_Shape(T(pts), False, False, lw, "brow"))
        for pts, closed, filled, part in self.eye_local():
            out.append(_Shape(T(pts), closed, filled, lw, part))
        nose = self.nose_local()
        if nose is not None:
            out.append(_Shape(T(nose[0]), nose[1], nose[2], lw, "nose"))
        mouth, is_open = self.mouth_local(sign)
        out.append(_Shape(T(mouth), is_open, is_open, self.px(self.mw, k), "mouth"))
        return out

    def near(self, p, rad: float = 0.0, k: float = 1.1) -> bool:
        """Whether a disc at p with radius rad touches the face's surroundings."""
        return float(np.hypot(p[0] - self.cx, p[1] - self.cy)) < self.r * k + rad


# ----------------------------------------------------------------------------- styles


def _sand(rng: np.random.Generator, S: int, f: _Face, sign: int) -> np.ndarray:
    """A face drawn with a stick in beach sand, seen from above."""
    X, Y = _grid(S)
    base = np.float32(_rgb(rng.uniform(0.07, 0.12), rng.uniform(0.2, 0.45), rng.uniform(0.7, 0.92)))
    tone = 1 + 0.07 * _lowfreq(rng, S, 5) + 0.06 * rng.standard_normal((S, S), dtype=np.float32)
    img = tone[..., None] * base
    height = np.zeros((S, S), np.float32)
    if rng.random() < 0.6:
        th, per = rng.uniform(0, np.pi), rng.uniform(0.05, 0.1) * S
        wob = _lowfreq(rng, S, 4) * rng.uniform(3, 8) * S / 256
        height += 0.18 * np.sin((X * np.cos(th) + Y * np.sin(th) + wob) * (2 * np.pi / per))
    wet = rng.random() < 0.35
    side, pos = int(rng.integers(4)), rng.uniform(0.06, 0.22) * S
    amp, fr, ph = (
        rng.uniform(2, 8) * S / 256,
        rng.uniform(0.02, 0.06) * 256 / S,
        rng.uniform(0, 6.3),
    )
    if wet:
        coord, along = ((Y, X), (S - 1 - Y, X), (X, Y), (S - 1 - X, Y))[side]
        edge = pos + amp * np.sin(along * fr + ph)
        w = np.clip((edge - coord) / 3 + 0.5, 0, 1)
        img *= (1 - 0.3 * w)[..., None]
        img += (np.exp(-(((coord - edge - 2) / (1.5 * S / 256)) ** 2)) * 70)[..., None]
    depth = np.zeros((S, S), np.uint8)
    steps = rng.random() < 0.3
    p0, fa = rng.uniform(0, S, 2), rng.uniform(0, 2 * np.pi)
    if steps:
        d, nrm = np.array([np.cos(fa), np.sin(fa)]), np.array([-np.sin(fa), np.cos(fa)])
        for j in range(6):
            p = p0 + d * j * S * 0.09 + nrm * (1 if j % 2 else -1) * S * 0.025
            if not f.near(p, S * 0.05):
                _ell(depth, p, S * 0.045, S * 0.02, np.degrees(fa), 170)
    gw = max(2.5, f.r * rng.uniform(0.05, 0.08))
    for sh in f.shapes(sign):
        if sh.filled:
            _fill(depth, sh.pts, 255)
        w = max(gw, sh.width) if sh.part == "head" else max(2.5, sh.width * 1.1)
        if not sh.filled or sh.part == "mouth":
            _poly(depth, sh.pts, 255, w, sh.closed)
    d = cv2.GaussianBlur(depth, (0, 0), max(0.8, gw * 0.22)).astype(np.float32) / 255
    rim = cv2.GaussianBlur(d, (0, 0), max(1.5, gw * 0.8))
    h = height - d + 0.5 * rim
    gx = cv2.Sobel(h, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(h, cv2.CV_32F, 0, 1, ksize=3)
    la = rng.uniform(0, 2 * np.pi)
    img = img * (1 - 0.45 * d)[..., None] + ((gx * np.cos(la) + gy * np.sin(la)) * 40)[..., None]
    out = _u8(img)
    for _ in range(int(rng.integers(0, 6))):
        p, sz = rng.uniform(0, S, 2), rng.uniform(0.012, 0.03) * S
        kind, a, hue = int(rng.integers(2)), rng.uniform(0, 180), rng.uniform(0, 0.12)
        if f.near(p, sz):
            continue
        if kind == 0:
            col = _rgb(hue, 0.2, 0.45)
            _ell(out, p + 1.5, sz, sz * 0.7, a, _shade(tuple(base.astype(int)), 0.7))
            _ell(out, p, sz, sz * 0.7, a, col)
            _ell(out, p - sz * 0.3, sz * 0.3, sz * 0.2, a, _shade(col, 1.5))
        else:
            col = _rgb(hue * 0.3 + 0.95, 0.25, 0.95)
            cv2.ellipse(
                out,
                _pt(p),
                (round(sz * _ONE), round(sz * 0.8 * _ONE)),
                a,
                180,
                360,
                col,
                -1,
                _AA,
                _SHIFT,
            )
            for q in range(5):
                t = np.radians(a + 180 + 30 + q * 30)
                e = p + sz * 0.9 * np.array([np.cos(t), np.sin(t) * 0.8])
                _line(out, p, e, _shade(col, 0.75), 1)
    stick = rng.random() < 0.35
    a0, a1 = rng.uniform(0, S, 2), rng.uniform(0, S, 2)
    if stick and _seg_dist((f.cx, f.cy), a0, a1) > f.r * 1.15:
        _line(out, a0 + 2, a1 + 2, _shade(tuple(base.astype(int)), 0.6), S * 0.018)
        _line(out, a0, a1, _rgb(0.08, 0.5, 0.45), S * 0.016)
    return out


def _string(rng: np.random.Generator, S: int, f: _Face, sign: int) -> np.ndarray:
    """String art: thread wound round nails on a board."""
    _, Y = _grid(S)
    kind, hue = int(rng.integers(4)), rng.random()
    lf = _lowfreq(rng, S, 4)
    if kind == 0:
        base = np.float32(
            _rgb(rng.uniform(0.06, 0.1), rng.uniform(0.35, 0.6), rng.uniform(0.5, 0.8))
        )
        per = S * rng.uniform(0.015, 0.04)
        grain = np.sin((Y + lf * S * 0.06) * (2 * np.pi / per))
        img, dark = base * (1 + 0.08 * grain + 0.04 * lf)[..., None], rng.random() < 0.5
    elif kind == 1:
        v = rng.uniform(0.15, 0.4) if rng.random() < 0.5 else rng.uniform(0.72, 0.95)
        base = np.float32(_rgb(hue, rng.uniform(0.1, 0.55), v))
        img, dark = base * (1 + 0.03 * lf)[..., None], v < 0.5
    elif kind == 2:
        base = np.float32((205, 172, 125) if rng.random() < 0.6 else (232, 230, 224))
        img, dark = base * (1 + 0.03 * lf)[..., None], False
    else:
        base = np.float32(_rgb(hue, rng.uniform(0, 0.35), rng.uniform(0.06, 0.16)))
        fuzz = rng.standard_normal((S, S), dtype=np.float32)
        img, dark = base * (1 + 0.1 * fuzz)[..., None], True
    out = _u8(img)
    spacing, off = S * rng.uniform(0.05, 0.075), rng.uniform(0, 1, 2)
    if kind == 2:
        hole = _shade(tuple(int(v) for v in base), 0.5)
        for yy in np.arange(off[1] * spacing, S, spacing):
            for xx in np.arange(off[0] * spacing, S, spacing):
                _disc(out, (xx, yy), spacing * 0.12, hole)

    def thread() -> Color:
        h = rng.random()
        if dark:
            return _rgb(h, rng.uniform(0.0, 0.8), rng.uniform(0.88, 1.0))
        return _rgb(h, rng.uniform(0.6, 0.95), rng.uniform(0.12, 0.35))

    c_head, c_feat = thread(), thread()
    if rng.random() < 0.4:
        c_feat = c_head
    spool = rng.random() < 0.35
    sp_p, sp_c = rng.uniform(0, S, 2), thread()
    th = max(1.0, S / 170)
    sp = max(S * 0.022, f.r * 0.11)
    nails = []
    for sh in f.shapes(sign):
        col = c_head if sh.part in ("head", "hair", "hat") else c_feat
        ln = _length(sh.pts, sh.closed)
        if sh.filled:
            n = int(np.clip(ln / (sp * 0.7), 7, 40))
            p = _resample(sh.pts, n, True)
            for step in sorted({n // 2, n // 2 - 1, max(2, n // 3)}):
                for i in range(n):
                    _line(out, p[i], p[(i + step) % n], col, th)
            nails.append(p)
            continue
        n = int(np.clip(ln / sp, 2, 60)) + (0 if sh.closed else 1)
        p = _resample(sh.pts, max(n, 3 if sh.closed else 2), sh.closed)
        rails = [p]
        if sh.width >= 4:
            nv = _normals(p, sh.closed) * (sh.width * 0.55)
            rails = [p + nv, p - nv]
        m = len(p)
        last = m if sh.closed else m - 1
        for rail in rails:
            for i in range(last):
                _line(out, rail[i], rail[(i + 1) % m], col, th)
        if len(rails) == 2:
            a, b = rails
            for i in range(last):
                _line(out, a[i], b[(i + 1) % m], col, th)
                _line(out, b[i], a[(i + 1) % m], col, th)
        else:
            for i in range(m if sh.closed else m - 2):
                _line(out, p[i], p[(i + 2) % m], col, th)
        nails.extend(rails)
    nr = max(1.2, S * 0.0055)
    for p in nails:
        for q in p:
            _disc(out, q + nr * 0.6, nr, (30, 30, 30))
            _disc(out, q, nr, (168, 168, 172))
            _disc(out, q - nr * 0.35, nr * 0.35, (240, 240, 240))
    if spool and not f.near(sp_p, S * 0.08):
        _disc(out, sp_p, S * 0.07, (215, 190, 140))
        _disc(out, sp_p, S * 0.055, sp_c)
        for j in range(6):
            _disc(out, sp_p, S * (0.02 + j * 0.006), _shade(sp_c, 0.8), 1)
        _disc(out, sp_p, S * 0.015, (90, 70, 50))
    return out


def _quilt(rng: np.random.Generator, S: int, f: _Face, sign: int) -> np.ndarray:
    """A patchwork quilt with an appliqué face and running stitches."""
    X, Y = _grid(S)
    n = int(rng.integers(3, 6))
    ps = S / n
    h0 = rng.random()
    pal = [
        _rgb(
            h0 + rng.uniform(-0.12, 0.12) + (0.5 if rng.random() < 0.3 else 0),
            rng.uniform(0.25, 0.7),
            rng.uniform(0.5, 0.95),
        )
        for _ in range(5)
    ]
    img = np.empty((S, S, 3), np.uint8)
    for gy in range(n):
        for gx in range(n):
            y0, y1, x0, x1 = (
                round(gy * ps),
                round((gy + 1) * ps),
                round(gx * ps),
                round((gx + 1) * ps),
            )
            c1, c2 = pal[int(rng.integers(5))], pal[int(rng.integers(5))]
            if c1 == c2:
                c2 = _shade(c1, 0.6)
            kind, per = int(rng.integers(5)), rng.uniform(5, 11) * S / 256
            diag = rng.random() < 0.4
            patch = np.empty((y1 - y0, x1 - x0, 3), np.uint8)
            patch[:] = c1
            xx, yy = X[y0:y1, x0:x1], Y[y0:y1, x0:x1]
            if kind == 1:
                m = np.sin((xx + (yy if diag else 0)) * (2 * np.pi / per)) > 0
                patch[m] = c2
            elif kind == 2:
                a = np.sin(xx * (2 * np.pi / per)) > 0
                b = np.sin(yy * (2 * np.pi / per)) > 0
                patch[a ^ b] = _shade(c2, 1.15)
                patch[a & b] = c2
            elif kind in (3, 4):
                g = per * 1.6
                for j, cy in enumerate(np.arange(g / 2, y1 - y0, g)):
                    for cx in np.arange(g / 2 + (g / 2 if j % 2 else 0), x1 - x0, g):
                        if kind == 3:
                            _disc(patch, (cx, cy), per * 0.32, c2)
                        else:
                            for q in range(4):
                                t = q * np.pi / 2
                                _disc(
                                    patch,
                                    (cx + np.cos(t) * per * 0.3, cy + np.sin(t) * per * 0.3),
                                    per * 0.2,
                                    c2,
                                )
                            _disc(patch, (cx, cy), per * 0.14, (245, 220, 90))
            img[y0:y1, x0:x1] = patch
    fx, fy = (X % ps) / ps, (Y % ps) / ps
    pil = (np.sin(np.pi * fx) * np.sin(np.pi * fy)) ** 0.3
    out = _u8(img.astype(np.float32) * (0.8 + 0.2 * pil)[..., None])
    seam = _rgb(rng.uniform(0, 1), rng.uniform(0, 0.2), rng.uniform(0.85, 1.0))
    st = max(1.0, S / 200)
    for j in range(1, n):
        for o in (-S * 0.015, S * 0.015):
            _dashes(out, np.array([[j * ps + o, 0], [j * ps + o, S]]), False, S * 0.022, seam, st)
            _dashes(out, np.array([[0, j * ps + o], [S, j * ps + o]]), False, S * 0.022, seam, st)
    hc = _rgb(rng.random(), rng.uniform(0.05, 0.4), rng.uniform(0.82, 0.97))
    fc = _rgb(rng.random(), rng.uniform(0.4, 0.85), rng.uniform(0.12, 0.35))
    hat_c, hair_c = pal[int(rng.integers(5))], _shade(pal[int(rng.integers(5))], 0.6)
    tiny = rng.random() < 0.35
    tiny_c = _shade(hc, 0.88)
    head_thread, feat_thread = _shade(fc, 1.0), _shade(hc, 1.0)
    shapes = f.shapes(sign)
    shadow = np.zeros((S, S), np.uint8)
    _fill(shadow, shapes[0].pts + S * 0.012, 255)
    shadow = cv2.GaussianBlur(shadow, (0, 0), S * 0.008)
    of = out.astype(np.float32)
    _comp(of, shadow, (0, 0, 0), 0.35)
    out = _u8(of)
    for sh in shapes:
        if sh.part == "head":
            _fill(out, sh.pts, hc)
            if tiny:
                lay = out.copy()
                g = S * 0.04
                for yy in np.arange(g / 2, S, g):
                    for xx in np.arange(g / 2, S, g):
                        _disc(lay, (xx, yy), g * 0.12, tiny_c)
                m = np.zeros((S, S), np.uint8)
                _fill(m, sh.pts, 255)
                out = np.where(m[..., None] > 128, lay, out)
            inset = f.canvas(f.head * 0.93)
            _dashes(out, inset, True, S * 0.02, head_thread, st)
        elif sh.filled:
            col = hat_c if sh.part == "hat" else fc
            _fill(out, sh.pts, col)
            if sh.part in ("hat", "mouth"):
                c = sh.pts.mean(0)
                _dashes(out, c + (sh.pts - c) * 0.8, True, S * 0.018, feat_thread, st)
        else:
            col = hair_c if sh.part == "hair" else fc
            if sh.part == "eye" and sh.closed:
                _fill(out, sh.pts, (250, 250, 245))
                _poly(out, sh.pts, fc, max(2.0, sh.width * 0.6), True)
                continue
            w = max(3.0, sh.width * 1.2)
            _poly(out, sh.pts, col, w, sh.closed)
            if w >= 5:
                _dashes(out, sh.pts, sh.closed, S * 0.016, feat_thread, max(1.0, st * 0.8))
    return out


def _noodles(rng: np.random.Generator, S: int, f: _Face, sign: int) -> np.ndarray:
    """A bowl of noodle soup from above; the toppings make the face."""
    X, Y = _grid(S)
    tk, lf = int(rng.integers(4)), _lowfreq(rng, S, 4)
    t1 = np.float32(_rgb(rng.uniform(0.05, 0.12), rng.uniform(0.3, 0.6), rng.uniform(0.35, 0.75)))
    t2 = np.float32(_rgb(rng.random(), rng.uniform(0.1, 0.5), rng.uniform(0.4, 0.9)))
    per = S * rng.uniform(0.02, 0.05)
    if tk == 0:  # wood
        g = np.sin((Y + lf * S * 0.05) * (2 * np.pi / per))
        img = t1 * (1 + 0.07 * g + 0.05 * lf)[..., None]
    elif tk == 1:  # bamboo mat
        g = np.abs(np.sin(X * (np.pi / per * 0.6)))
        img = (t1 * 1.15) * (0.72 + 0.28 * g**0.3)[..., None]
    elif tk == 2:  # plain table
        img = t2 * (1 + 0.04 * lf)[..., None]
    else:  # checked cloth
        a = (np.sin(X * (np.pi / per)) > 0) ^ (np.sin(Y * (np.pi / per)) > 0)
        img = np.where(a[..., None], t2, np.float32((240, 238, 230)))
    c, R = np.array([f.cx, f.cy]), f.r
    sh_m = np.zeros((S, S), np.uint8)
    _disc(sh_m, c + R * np.array([0.06, 0.08]), R * 1.0, 255)
    sh_m = cv2.GaussianBlur(sh_m, (0, 0), R * 0.05 + 1)
    _comp(img, sh_m, (0, 0, 0), 0.4)
    bowls = (
        (238, 236, 230),
        (30, 30, 34),
        (150, 32, 28),
        (215, 225, 238),
        (150, 108, 78),
        (172, 200, 180),
    )
    bowl = bowls[int(rng.integers(len(bowls)))]
    broths = ((226, 176, 82), (150, 88, 40), (205, 85, 40), (236, 216, 182), (222, 202, 150))
    broth = np.float32(broths[int(rng.integers(len(broths)))])
    kb = rng.uniform(0.8, 0.88)
    out = _u8(img)
    _disc(out, c, R, bowl)
    _disc(out, c - R * 0.02, R * 0.98, _shade(bowl, 1.12), max(2.0, R * 0.05))
    _disc(out, c, R * kb + R * 0.02, _shade(bowl, 0.75))
    bm = np.zeros((S, S), np.uint8)
    _disc(bm, c, R * kb, 255)
    soup = broth * (1 + 0.06 * _lowfreq(rng, S, 6))[..., None]
    lay = _u8(soup)
    for _ in range(int(rng.integers(15, 40))):
        a, rr, s = (
            rng.uniform(0, 2 * np.pi),
            np.sqrt(rng.random()) * R * kb,
            rng.uniform(0.008, 0.025) * S,
        )
        p = c + rr * np.array([np.cos(a), np.sin(a)])
        _disc(lay, p, s, _shade(tuple(int(v) for v in broth), 1.12))
        _disc(lay, p, s, _shade(tuple(int(v) for v in broth), 0.85), 1)
    ncol = ((242, 222, 150), (236, 226, 200), (190, 150, 95))[int(rng.integers(3))]
    nth = max(2.0, S * rng.uniform(0.01, 0.016))
    half = rng.random() < 0.4
    hdir = rng.uniform(0, 2 * np.pi)
    for _ in range(int(rng.integers(14, 30))):
        a, off, wob, ph = (
            rng.uniform(0, np.pi),
            rng.uniform(-1, 1) * R * kb,
            rng.uniform(0.02, 0.06),
            rng.uniform(0, 6),
        )
        if half and off < 0:
            continue
        d, nv = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
        if half:
            nv = np.array([np.cos(hdir), np.sin(hdir)])
            d = np.array([-nv[1], nv[0]])
        t = np.linspace(-1.2, 1.2, 40)[:, None] * R * kb
        pts = c + nv * off + d * t + nv * (np.sin(t / (R * 0.12) + ph) * wob * R)
        _poly(lay, pts, _shade(ncol, 0.72), nth + 2)
        _poly(lay, pts, ncol, nth)
    onion = (95, 165, 60)
    for _ in range(int(rng.integers(4, 16))):
        a, rr = rng.uniform(0, 2 * np.pi), np.sqrt(rng.random()) * R * kb * 0.95
        p = c + rr * np.array([np.cos(a), np.sin(a)])
        _disc(lay, p, S * 0.012, onion, max(1.0, S * 0.006))
    out = np.where(bm[..., None] > 127, lay, out)
    # toppings = face
    k = kb * 0.95
    nori = (24, 34, 26)
    egg_w, yolk = (
        (248, 246, 236),
        ((242, 150, 30), (235, 120, 25), (250, 185, 40))[int(rng.integers(3))],
    )
    pink = (235, 100, 140)
    hair_sheets = f.hair != "none"
    for sh in f.shapes(sign, k):
        if sh.part in ("head", "hat", "hair"):
            continue
        if sh.part == "eye" and (sh.filled or f.eye_kind == "ring"):
            cc = sh.pts.mean(0)
            rad = max(np.ptp(sh.pts[:, 0]), np.ptp(sh.pts[:, 1])) / 2
            rw, rh = max(rad * 1.6, S * 0.03), max(rad * 1.25, S * 0.024)
            ang = np.degrees(f.ang) + 90 if f.eye_kind == "oval" else np.degrees(f.ang)
            if f.eye_kind == "ring":
                _disc(out, cc, rw, egg_w)
                _disc(out, cc, rw, _shade(egg_w, 0.8), 1)
                t = np.linspace(0, 4 * np.pi, 40)
                spir = (
                    cc
                    + np.stack([np.cos(t), np.sin(t)], 1) * (rw * 0.75 * t / (4 * np.pi))[:, None]
                )
                _poly(out, spir, pink, max(2.0, rw * 0.16))
                continue
            _ell(out, cc, rw, rh, ang, _shade(egg_w, 0.8))
            _ell(out, cc, rw * 0.96, rh * 0.94, ang, egg_w)
            _ell(out, cc, rw * 0.5, rh * 0.6, ang, yolk)
            continue
        if sh.part == "pupil":
            continue
        if sh.part == "eye":
            _poly(out, sh.pts, (120, 80, 30), max(S * 0.02, sh.width * 1.6))
            _poly(out, sh.pts, (205, 160, 80), max(S * 0.014, sh.width * 1.2))
        elif sh.part == "brow":
            _poly(out, sh.pts, _shade(onion, 0.7), max(S * 0.016, sh.width * 1.1) + 2)
            _poly(out, sh.pts, onion, max(S * 0.016, sh.width * 1.1))
        elif sh.part == "nose":
            if sh.filled:
                _fill(out, sh.pts, pink)
            else:
                _poly(out, sh.pts, (238, 130, 90), max(S * 0.014, sh.width))
        else:
            w = max(S * 0.022, sh.width * 1.2)
            if sh.filled:
                _fill(out, sh.pts, nori)
            _poly(out, sh.pts, nori, w, sh.closed)
    if hair_sheets:
        for j in range(3):
            a = -np.pi / 2 + f.ang + (j - 1) * 0.45
            d = np.array([np.cos(a), np.sin(a)])
            nv = np.array([-d[1], d[0]])
            p = c + d * R * kb * 0.9
            quad = np.array(
                [
                    p - nv * R * 0.1,
                    p + nv * R * 0.1,
                    p + nv * R * 0.1 + d * R * 0.22,
                    p - nv * R * 0.1 + d * R * 0.22,
                ]
            )
            _fill(out, quad, nori)
    sticks = rng.random() < 0.7
    a, off = rng.uniform(0, np.pi), rng.uniform(-1, 1) * S * 0.5
    col = ((190, 140, 80), (40, 30, 30), (200, 40, 40))[int(rng.integers(3))]
    d, nv = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    m = np.array([S / 2, S / 2]) + nv * off
    for q in (0.0, S * 0.035):
        e0, e1 = m + nv * q - d * S * 0.6, m + nv * q + d * S * 0.6
        if sticks and _seg_dist(c, e0, e1) > R * 1.06:
            _line(out, e0 + 2, e1 + 2, (0, 0, 0), S * 0.014)
            _line(out, e0, e1, col, S * 0.014)
    return out


def _highlighter(rng: np.random.Generator, S: int, f: _Face, sign: int) -> np.ndarray:
    """Highlighter-pen marks over a printed page of text columns."""
    paper = ((250, 250, 247), (246, 240, 222), (226, 224, 216))[int(rng.integers(3))]
    img = np.float32(paper) * (1 + 0.02 * _lowfreq(rng, S, 5))[..., None]
    out = _u8(img)
    ink = _rgb(0, 0, rng.uniform(0.4, 0.6))
    cols = int(rng.integers(1, 4))
    margin, gutter = S * rng.uniform(0.03, 0.08), S * 0.035
    scale = rng.uniform(0.26, 0.36) * S / 256
    lh = round(S * rng.uniform(0.035, 0.05))
    font = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_COMPLEX_SMALL, cv2.FONT_HERSHEY_DUPLEX)[
        int(rng.integers(3))
    ]
    (cw, _), _ = cv2.getTextSize("n", font, scale, 1)
    top = margin
    if rng.random() < 0.7:
        nch = int((S - 2 * margin) / (cw * 2.2))
        word = bytes(rng.integers(65, 91, nch).astype(np.uint8)).decode()
        top += S * 0.09
        cv2.putText(out, word, (round(margin), round(top - S * 0.02)), font, scale * 2, ink, 2, _AA)
        _line(out, (margin, top), (S - margin, top), ink, 1)
    colw = (S - 2 * margin - (cols - 1) * gutter) / cols
    nchar = max(4, int(colw / cw))
    rows = int((S - top - margin) / lh)
    letters = rng.integers(97, 123, (cols, rows, nchar)).astype(np.uint8)
    letters[rng.random((cols, rows, nchar)) < 0.17] = 32
    ends = rng.random((cols, rows)) < 0.15
    box = rng.random() < 0.3
    bc, br = int(rng.integers(cols)), int(rng.integers(max(1, rows - 6)))
    for ci in range(cols):
        x0 = margin + ci * (colw + gutter)
        view = out[:, round(x0) : round(x0 + colw)]
        for ri in range(rows):
            y = top + (ri + 1) * lh
            if box and ci == bc and br <= ri < br + 6:
                if ri == br:
                    cv2.rectangle(
                        view,
                        (0, round(y - lh * 0.7)),
                        (view.shape[1] - 1, round(y + 5 * lh - lh)),
                        (150, 150, 150),
                        -1,
                    )
                continue
            row = letters[ci, ri, : nchar // 2] if ends[ci, ri] else letters[ci, ri]
            cv2.putText(view, bytes(row).decode(), (0, round(y)), font, scale, ink, 1, _AA)
    if cols > 1 and rng.random() < 0.5:
        for ci in range(1, cols):
            x = margin + ci * (colw + gutter) - gutter / 2
            _line(out, (x, top + lh * 0.3), (x, S - margin), _shade(ink, 1.5), 1)
    fold = rng.random() < 0.3
    fpos = rng.uniform(0.2, 0.8) * S
    of = out.astype(np.float32)
    if fold:
        X, _ = _grid(S)
        of *= (1 - 0.1 * np.exp(-(((X - fpos) / (S * 0.03)) ** 2)))[..., None]
    marks = (
        (255, 235, 0),
        (255, 60, 170),
        (80, 225, 50),
        (255, 135, 20),
        (40, 165, 255),
        (170, 90, 255),
    )
    ih = int(rng.integers(6))
    ch, cf = marks[ih], marks[1 + (ih + int(rng.integers(4))) % 5]
    alpha = rng.uniform(0.85, 0.95)
    W = max(4.0, f.r * rng.uniform(0.08, 0.13))
    mh, mf = np.zeros((S, S), np.uint8), np.zeros((S, S), np.uint8)
    for sh in f.shapes(sign):
        m = mh if sh.part in ("head", "hat", "hair") else mf
        if sh.filled:
            _fill(m, sh.pts, 255)
            _poly(m, sh.pts, 255, max(3.0, W * 0.5), True)
        else:
            w = W if sh.part == "head" else max(5.0, W * 1.1, sh.width * 1.6)
            _poly(m, sh.pts, 255, w, sh.closed)
    for m, col in ((mh, ch), (mf, cf)):
        a = m.astype(np.float32)[..., None] * (alpha / 255)
        of *= 1 - a * (1 - np.float32(col) / 255)
    return _u8(of)


def _plate(rng: np.random.Generator, S: int, f: _Face, sign: int) -> np.ndarray:
    """A ceramic plate with a painted rim; the face is brush-painted in the well."""
    X, Y = _grid(S)
    tk, lf = int(rng.integers(4)), _lowfreq(rng, S, 5)
    tc = np.float32(_rgb(rng.random(), rng.uniform(0.1, 0.5), rng.uniform(0.3, 0.85)))
    per = S * rng.uniform(0.04, 0.08)
    if tk == 0:
        img = tc * (1 + 0.05 * lf + 0.04 * rng.standard_normal((S, S), dtype=np.float32))[..., None]
    elif tk == 1:
        g = np.sin((Y + lf * S * 0.05) * (2 * np.pi / per * 0.4))
        img = np.float32(_rgb(0.07, 0.5, 0.55)) * (1 + 0.08 * g)[..., None]
    elif tk == 2:
        a = np.sin(X * (np.pi / per)) > 0
        b = np.sin(Y * (np.pi / per)) > 0
        img = np.float32((245, 245, 240)) * np.ones((S, S, 1), np.float32)
        img[a ^ b] = tc * 1.1
        img[a & b] = tc * 0.8
    else:
        img = np.float32((60, 62, 66)) * (1 + 0.08 * lf)[..., None]
    c, R = np.array([f.cx, f.cy]), f.r
    sh_m = np.zeros((S, S), np.uint8)
    _disc(sh_m, c + R * 0.05, R, 255)
    _comp(img, cv2.GaussianBlur(sh_m, (0, 0), R * 0.05 + 1), (0, 0, 0), 0.35)
    body = ((250, 250, 246), (246, 240, 222), (226, 238, 228), (232, 236, 244))[
        int(rng.integers(4))
    ]
    paints = (
        (30, 60, 160),
        (180, 40, 40),
        (40, 120, 70),
        (185, 145, 50),
        (30, 30, 35),
        (190, 95, 50),
    )
    p1 = paints[int(rng.integers(6))]
    p2 = paints[int(rng.integers(6))]
    pf = p1 if rng.random() < 0.6 else p2
    out = _u8(img)
    _disc(out, c, R, _shade(body, 0.85))
    _disc(out, c, R * 0.985, body)
    well = np.zeros((S, S), np.uint8)
    _disc(well, c, R * 0.74, 255)
    ring = cv2.GaussianBlur(well, (0, 0), R * 0.03 + 0.5).astype(np.float32) - well.astype(
        np.float32
    )
    of = out.astype(np.float32)
    of -= np.abs(ring)[..., None] * 0.12
    out = _u8(of)
    motifs = rng.permutation(6)[: int(rng.integers(1, 3))]
    nm = int(rng.integers(12, 28))
    a0 = f.ang
    lw = max(1.5, R * 0.02)
    for mo in motifs:
        col = p1 if mo == motifs[0] else p2
        ang = a0 + np.arange(nm) * 2 * np.pi / nm
        uv = np.stack([np.cos(ang), np.sin(ang)], 1)
        if mo == 0:
            _disc(out, c, R * 0.82, col, lw)
            _disc(out, c, R * 0.94, col, lw)
        elif mo == 1:
            for q in uv:
                _disc(out, c + q * R * 0.88, R * 0.03, col)
        elif mo == 2:
            for q, a in zip(uv, ang, strict=True):
                cv2.ellipse(
                    out,
                    _pt(c + q * R * 0.93),
                    (round(R * np.pi / nm * _ONE),) * 2,
                    float(np.degrees(a)) + 90,
                    0,
                    180,
                    col,
                    max(1, round(lw)),
                    _AA,
                    _SHIFT,
                )
        elif mo == 3:
            for q, a in zip(uv, ang, strict=True):
                _ell(out, c + q * R * 0.88, R * 0.055, R * 0.022, np.degrees(a) + 90 + 30, col)
        elif mo == 4:
            t = a0 + np.arange(2 * nm + 1) * np.pi / nm
            rr = np.where(np.arange(t.size) % 2 == 0, 0.82, 0.95) * R
            _poly(out, c + np.stack([np.cos(t), np.sin(t)], 1) * rr[:, None], col, lw)
        else:
            _disc(out, c, R * 0.885, col, R * 0.08)
            for q in uv:
                _disc(out, c + q * R * 0.885, R * 0.018, body)
    if rng.random() < 0.6:
        _disc(out, c, R * 0.74, p1, max(1.0, lw * 0.7))
    k = 0.66
    for sh in f.shapes(sign, k):
        if sh.part == "head":
            continue
        if sh.filled:
            _fill(out, sh.pts, pf)
            if sh.part == "mouth":
                _poly(out, sh.pts, pf, max(2.0, sh.width * 0.6), True)
            continue
        w = max(2.5, sh.width * 1.1)
        p = _resample(
            sh.pts, max(4, int(_length(sh.pts, sh.closed) / max(1.5, w * 0.5))), sh.closed
        )
        t = np.linspace(0, 1, len(p))
        wid = (
            w * (0.5 + 0.5 * np.sin(np.pi * t) ** 0.5)
            if not sh.closed
            else np.full(len(p), w * 0.8)
        )
        for i in range(len(p) - (0 if sh.closed else 1)):
            _line(out, p[i], p[(i + 1) % len(p)], pf, wid[i])
    gl = np.zeros((S, S), np.uint8)
    ga = rng.uniform(0, 2 * np.pi)
    gp = c + R * 0.45 * np.array([np.cos(ga), np.sin(ga)])
    _ell(gl, gp, R * 0.28, R * 0.08, np.degrees(ga) + 90, 255)
    of = out.astype(np.float32)
    _comp(of, cv2.GaussianBlur(gl, (0, 0), R * 0.06 + 1), (255, 255, 255), 0.45)
    return _u8(of)


def _crops(rng: np.random.Generator, S: int, f: _Face, sign: int) -> np.ndarray:
    """Crop art in a rice paddy, seen from a drone over fields, roads and trees."""
    X, Y = _grid(S)
    K = int(rng.integers(4, 8))
    seeds = rng.uniform(0, S, (K, 2)).astype(np.float32)
    d = (X[None] - seeds[:, 0, None, None]) ** 2 + (Y[None] - seeds[:, 1, None, None]) ** 2
    lab = np.argmin(d, 0)
    kinds = rng.integers(0, 4, K)
    colk = np.array(
        [
            _rgb(rng.uniform(0.2, 0.33), rng.uniform(0.35, 0.7), rng.uniform(0.35, 0.65))
            if kk < 2
            else _rgb(rng.uniform(0.11, 0.15), rng.uniform(0.45, 0.7), rng.uniform(0.7, 0.88))
            if kk == 2
            else _rgb(rng.uniform(0.06, 0.09), rng.uniform(0.3, 0.5), rng.uniform(0.35, 0.6))
            for kk in kinds
        ],
        np.float32,
    )
    ang = rng.uniform(0, np.pi, K).astype(np.float32)
    per = (rng.uniform(0.012, 0.025, K) * S).astype(np.float32)
    rows = np.sin((X * np.cos(ang)[lab] + Y * np.sin(ang)[lab]) * (2 * np.pi) / per[lab])
    img = colk[lab] * (0.88 + 0.12 * rows + 0.05 * _lowfreq(rng, S, 8))[..., None]
    edge = np.zeros((S, S), np.uint8)
    edge[:-1] |= (lab[:-1] != lab[1:]).astype(np.uint8)
    edge[:, :-1] |= (lab[:, :-1] != lab[:, 1:]).astype(np.uint8)
    edge = cv2.dilate(edge * 255, np.ones((3, 3), np.uint8))
    _comp(img, edge, (70, 90, 50), 0.6)
    out = _u8(img)
    road = _rgb(0.08, rng.uniform(0.1, 0.35), rng.uniform(0.6, 0.8))
    for _ in range(int(rng.integers(0, 3))):
        a, b = rng.uniform(0, S, 2), rng.uniform(0, S, 2)
        _line(out, a, b, road, S * rng.uniform(0.01, 0.02))
    pa = np.deg2rad(rng.uniform(-12, 12))
    hx, hy = f.r * rng.uniform(1.1, 1.35), f.r * rng.uniform(1.1, 1.35)
    u, v = np.array([np.cos(pa), np.sin(pa)]), np.array([-np.sin(pa), np.cos(pa)])
    c = np.array([f.cx, f.cy])
    rect = np.array(
        [c - u * hx - v * hy, c + u * hx - v * hy, c + u * hx + v * hy, c - u * hx + v * hy]
    )
    for _ in range(int(rng.integers(0, 30))):
        p, s = rng.uniform(0, S, 2), rng.uniform(0.01, 0.025) * S
        if cv2.pointPolygonTest(rect.astype(np.float32), (float(p[0]), float(p[1])), True) > -s:
            continue
        _disc(out, p + s * 0.5, s, (35, 45, 30))
        _disc(out, p, s, _rgb(rng.uniform(0.25, 0.35), 0.6, rng.uniform(0.25, 0.4)))
    house = rng.random() < 0.5
    hp = rng.uniform(0, S, 2)
    if (
        house
        and cv2.pointPolygonTest(rect.astype(np.float32), (float(hp[0]), float(hp[1])), True)
        < -S * 0.06
    ):
        hs = S * 0.03
        cv2.rectangle(out, _pt(hp - hs + 2), _pt(hp + hs + 2), (40, 40, 40), -1, _AA, _SHIFT)
        cv2.rectangle(out, _pt(hp - hs), _pt(hp + hs), (170, 60, 50), -1, _AA, _SHIFT)
        _line(out, hp - np.array([hs, 0]), hp + np.array([hs, 0]), (110, 40, 35), 1)
    green = _rgb(rng.uniform(0.22, 0.3), rng.uniform(0.5, 0.75), rng.uniform(0.45, 0.65))
    c1 = (
        _rgb(rng.uniform(0.12, 0.16), rng.uniform(0.45, 0.7), rng.uniform(0.8, 0.92))
        if rng.random() < 0.6
        else _rgb(0.15, 0.12, rng.uniform(0.85, 0.95))
    )
    c2 = (
        _rgb(rng.uniform(0.8, 0.92), rng.uniform(0.3, 0.6), rng.uniform(0.15, 0.3))
        if rng.random() < 0.6
        else _rgb(0.1, 0.3, rng.uniform(0.08, 0.18))
    )
    pm = np.zeros((S, S), np.uint8)
    _fill(pm, rect, 255)
    lay = out.copy()
    _fill(lay, rect, green)
    for sh in f.shapes(sign):
        if sh.part == "head":
            _fill(lay, sh.pts, c1)
            _poly(lay, sh.pts, c2, max(3.0, sh.width * 1.2), True)
        elif sh.filled:
            _fill(lay, sh.pts, c2)
        else:
            if sh.part == "eye" and sh.closed:
                _fill(lay, sh.pts, green)
            _poly(lay, sh.pts, c2, max(3.0, sh.width * 1.2), sh.closed)
    pr = np.sin(
        ((X - c[0]) * u[0] + (Y - c[1]) * u[1]) * (2 * np.pi / (S * rng.uniform(0.012, 0.02)))
    )
    tex = 0.88 + 0.1 * pr + 0.05 * rng.standard_normal((S, S), dtype=np.float32)
    of = out.astype(np.float32)
    pmf = (pm.astype(np.float32) / 255)[..., None]
    of = of * (1 - pmf) + lay.astype(np.float32) * tex[..., None] * pmf
    out = _u8(of)
    _poly(out, rect, road, max(2.0, S * 0.01), True)
    haze = rng.uniform(0, 0.22)
    return _u8(out.astype(np.float32) * (1 - haze) + np.float32((200, 210, 220)) * haze)


_RISO_LIGHT = (
    (255, 72, 176),
    (255, 232, 0),
    (255, 108, 47),
    (255, 102, 94),
    (120, 210, 200),
    (0, 169, 92),
)
_RISO_DARK = (
    (0, 120, 191),
    (0, 131, 138),
    (118, 91, 165),
    (40, 38, 45),
    (145, 50, 70),
    (61, 85, 136),
    (30, 100, 60),
)


def _riso(rng: np.random.Generator, S: int, f: _Face, sign: int) -> np.ndarray:
    """A two-colour risograph print: grainy ink, knocked-out features, misregistration."""
    papers = ((246, 244, 236), (250, 240, 220), (240, 228, 226), (228, 228, 224), (214, 190, 150))
    paper = np.float32(papers[int(rng.integers(5))])
    ia = np.float32(_RISO_LIGHT[int(rng.integers(len(_RISO_LIGHT)))])
    ib = np.float32(_RISO_DARK[int(rng.integers(len(_RISO_DARK)))])
    ma, mb, knock = (np.zeros((S, S), np.uint8) for _ in range(3))
    deco = rng.random(4) < np.array([0.4, 0.3, 0.5, 0.3])
    bc, brr = rng.uniform(0.2, 0.8, 2) * S, rng.uniform(0.25, 0.5) * S
    if deco[0]:
        _disc(ma, bc, brr, 140)
    sa, sp = rng.uniform(0, np.pi), rng.uniform(0.06, 0.12) * S
    if deco[1]:
        X, Y = _grid(S)
        ma[np.sin((X * np.cos(sa) + Y * np.sin(sa)) * (2 * np.pi / sp)) > 0.6] = 110
    conf = rng.uniform(0, S, (14, 2))
    csz = rng.uniform(0.01, 0.025, 14) * S
    ctri = rng.random(14) < 0.5
    for p, s, tri in zip(conf, csz, ctri, strict=True):
        if deco[2] and not f.near(p, s):
            m = mb if tri else ma
            if tri:
                _fill(m, p + np.array([[0, -s], [s, s], [-s, s]]), 255)
            else:
                _disc(m, p, s, 255)
    if deco[3]:
        _poly(
            mb,
            [
                [S * 0.04, S * 0.04],
                [S * 0.96, S * 0.04],
                [S * 0.96, S * 0.96],
                [S * 0.04, S * 0.96],
            ],
            255,
            S * 0.012,
            True,
        )
    outline = rng.random() < 0.5
    hair_b = rng.random() < 0.5
    kw = max(2.0, S * 0.008)
    for sh in f.shapes(sign):
        if sh.part == "head":
            _fill(ma, sh.pts, 255)
            if outline:
                _poly(mb, sh.pts, 255, sh.width, True)
            continue
        if sh.part in ("hat", "hair"):
            m = mb if hair_b else ma
            if sh.filled:
                _fill(m, sh.pts, 255)
            else:
                _poly(m, sh.pts, 255, sh.width * 1.3)
            continue
        if sh.part == "eye" and sh.closed and not sh.filled:
            _fill(knock, sh.pts, 255)
            _poly(mb, sh.pts, 255, sh.width * 0.8, True)
            continue
        if sh.filled:
            _fill(mb, sh.pts, 255)
            _fill(knock, sh.pts, 255)
            _poly(knock, sh.pts, 255, kw, True)
            if sh.part == "mouth":
                _poly(mb, sh.pts, 255, max(2.0, sh.width * 0.6), True)
                _poly(knock, sh.pts, 255, max(2.0, sh.width * 0.6) + kw, True)
        else:
            w = max(3.0, sh.width * 1.1)
            _poly(mb, sh.pts, 255, w, sh.closed)
            _poly(knock, sh.pts, 255, w + kw, sh.closed)
    ma = cv2.subtract(ma, knock)
    rot, dx, dy = rng.uniform(-1.5, 1.5), *(rng.uniform(-0.018, 0.018, 2) * S)
    M = cv2.getRotationMatrix2D((S / 2, S / 2), rot, 1.0)
    M[:, 2] += (dx, dy)
    mb = cv2.warpAffine(mb, M, (S, S), flags=cv2.INTER_LINEAR)
    out = paper * (1 + 0.03 * rng.standard_normal((S, S, 1), dtype=np.float32))
    for m, ink in ((ma, ia), (mb, ib)):
        dens = (
            rng.uniform(0.78, 0.95)
            + 0.1 * _lowfreq(rng, S, 6)
            + 0.15 * rng.standard_normal((S, S), dtype=np.float32)
        )
        dens[rng.random((S, S), dtype=np.float32) < 0.04] = 0.25
        a = (np.clip(dens, 0, 1) * m.astype(np.float32) / 255)[..., None]
        out *= 1 - a * (1 - ink / 255)
    return _u8(out)


def _etch(rng: np.random.Generator, S: int, f: _Face, sign: int) -> np.ndarray:
    """A single continuous line on a magic drawing screen toy."""
    frames = (
        (200, 30, 36),
        (200, 30, 36),
        (200, 30, 36),
        (30, 80, 170),
        (230, 180, 30),
        (40, 140, 80),
        (225, 90, 150),
    )
    frame = frames[int(rng.integers(len(frames)))]
    screen = np.float32(_rgb(0.6, rng.uniform(0, 0.06), rng.uniform(0.72, 0.84)))
    mrg = rng.uniform(0.06, 0.16, 4) * S
    room = np.array([f.cx, f.cy, S - f.cx, S - f.cy]) - f.r * 1.04
    mrg = np.maximum(np.minimum(mrg, room), S * 0.035)
    mrg[3] = max(mrg[3], min(S * 0.12, room[3]))
    _, Y = _grid(S)
    img = (
        screen
        * (1 + 0.025 * _lowfreq(rng, S, 3) + 0.02 * rng.standard_normal((S, S), dtype=np.float32))[
            ..., None
        ]
    )
    out = _u8(img)
    ghost = _shade(tuple(int(v) for v in screen), 0.93)
    for _ in range(int(rng.integers(2, 8))):
        pts = rng.uniform(0, S, (int(rng.integers(2, 5)), 2))
        _poly(out, pts, ghost, 1)
    line_c = _rgb(0.6, 0.05, rng.uniform(0.22, 0.38))
    th = max(1.5, S * rng.uniform(0.006, 0.01))
    g = max(1.0, S * rng.uniform(0.004, 0.01))
    x0, y0, x1, y1 = mrg[0], mrg[1], S - mrg[2], S - mrg[3]
    T = f.canvas
    # one unbroken line: up from the frame to the chin, round the head, along the outline to the
    # eyes and brows, down the middle (and nose) into the mouth, which is drawn last
    head = f.head

    def near(p: np.ndarray) -> int:
        return int(np.argmin(np.hypot(*(head - p).T)))

    def via(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        n, i0, i1 = len(head), near(p), near(q)
        fwd = (i1 - i0) % n
        step = np.arange(fwd + 1) if fwd <= n // 2 else -np.arange(n - fwd + 1)
        return head[(i0 + step) % n]

    def eye(side: int) -> list[np.ndarray]:
        out_: list[np.ndarray] = []
        for pts, closed, filled, _part in f.eye_local():
            if (pts[:, 0].mean() > 0) != bool(side):
                continue
            if filled:
                c = pts.mean(0)
                out_ += [
                    np.vstack([c + (pts - c) * s, c + (pts[:1] - c) * s]) for s in (1, 0.66, 0.33)
                ]
            elif closed:
                out_.append(np.vstack([pts, pts[:1]]))
            else:
                out_.append(np.vstack([pts, pts[::-1], pts]))
        return out_

    bot = near(np.array([0.0, 2.0]))
    loop = np.roll(head, -bot, 0)
    loc: list[np.ndarray] = [np.vstack([loop, loop[:1]])]
    right, left, brows = eye(1), eye(0), f.brow_local()
    loc += [via(loop[0], right[0][0]), *right]
    if brows:
        loc += [brows[1], via(brows[1][-1], brows[0][0]), brows[0]]
    else:
        loc.append(via(right[-1][-1], left[0][0]))
    loc += [*left, np.array([[0.0, f.ey]])]
    nose = f.nose_local()
    if nose is not None:
        pts = nose[0]
        loc.append(np.vstack([pts, pts[:1]]) if nose[1] else pts)
    loc.append(np.array([[f.m_cx, f.m_cy - f.m_bend * f.m_hw / 3 - 0.05]]))
    body = T(np.vstack(loc))
    mouth, is_open = f.mouth_local(sign)
    if is_open:  # enter an open mouth at its upper lip's middle so the way in crosses nothing
        top = 36 if sign > 0 else 12
        tail = T(np.vstack([mouth[top:], mouth[: top + 1]]))
    else:
        tail = T(np.vstack([mouth[12:], mouth[::-1]]))
    # the label-free part and the mouth are resampled apart, so only the mouth's pixels move
    pre = np.vstack([[[body[0, 0], y1 - 2.0]], body])
    tail = np.vstack([pre[-1:], tail])
    pieces = [_resample(q, max(2, int(_length(q, False)))) for q in (pre, tail)]
    dense = np.round(np.vstack([pieces[0], pieces[1][1:]]) / g) * g
    keep = np.any(np.diff(dense, axis=0) != 0, axis=1)
    dense = np.vstack([dense[:1], dense[1:][keep]])
    stair = np.empty((2 * len(dense) - 1, 2))
    stair[0::2] = dense
    stair[1::2, 0] = dense[1:, 0]
    stair[1::2, 1] = dense[:-1, 1]
    _poly(out, stair, line_c, th)
    fm = np.ones((S, S), np.uint8) * 255
    cv2.rectangle(fm, _pt((x0, y0)), _pt((x1, y1)), 0, -1, _AA, _SHIFT)
    fm = cv2.GaussianBlur(fm, (0, 0), 1.0)
    fimg = np.float32(frame) * (1.05 - 0.25 * (Y / S))[..., None]
    lip = cv2.dilate(fm, np.ones((5, 5), np.uint8)).astype(np.float32) - fm.astype(np.float32)
    of = out.astype(np.float32)
    of = of * (1 - fm[..., None] / 255) + fimg * (fm[..., None] / 255)
    of -= (lip * 0.25)[..., None]
    out = _u8(of)
    kr = S * rng.uniform(0.07, 0.1)
    for kx in (x0 * 0.5 + kr * 0.2, S - (S - x1) * 0.5 - kr * 0.2):
        ky = S - mrg[3] * 0.45
        if mrg[3] > S * 0.08:
            _disc(out, (kx + 2, ky + 3), kr, (40, 20, 20))
            _disc(out, (kx, ky), kr, (236, 236, 232))
            _disc(out, (kx, ky), kr * 0.75, (205, 205, 200), 1)
    if mrg[1] > S * 0.07:
        txt = ("MAGIC SCREEN", "Draw It", "SKETCH PAD")[int(rng.integers(3))]
        cv2.putText(
            out,
            txt,
            (round(S * 0.3), round(mrg[1] * 0.7)),
            cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
            S / 256 * 0.6,
            (232, 196, 90),
            max(1, S // 200),
            _AA,
        )
    return out


def _metro(rng: np.random.Generator, S: int, f: _Face, sign: int) -> np.ndarray:
    """A transit-map diagram: coloured lines, stations and labels."""
    bg = ((252, 252, 250), (248, 244, 232), (238, 240, 242))[int(rng.integers(3))]
    out = np.empty((S, S, 3), np.uint8)
    out[:] = bg
    palette = (
        (225, 30, 40),
        (0, 120, 200),
        (0, 150, 70),
        (250, 170, 0),
        (150, 60, 160),
        (240, 110, 30),
        (0, 160, 170),
        (120, 80, 40),
        (230, 90, 150),
        (30, 30, 30),
    )
    order = rng.permutation(len(palette))
    lw = max(3.0, f.r * rng.uniform(0.06, 0.1), S * 0.012)
    if rng.random() < 0.6:
        a = rng.integers(0, 8) * np.pi / 4
        p = np.array([S / 2, S / 2]) + rng.uniform(-0.3, 0.3, 2) * S
        d = np.array([np.cos(a), np.sin(a)])
        _poly(
            out,
            [
                p - d * S * 1.5,
                p - d * S * 0.1,
                p + np.array([np.cos(a + np.pi / 4), np.sin(a + np.pi / 4)]) * S * 1.5,
            ],
            (200, 225, 245),
            S * 0.08,
        )
    for _ in range(int(rng.integers(0, 3))):
        p, wh = rng.uniform(0, S, 2), rng.uniform(0.06, 0.15, 2) * S
        cv2.rectangle(out, _pt(p), _pt(p + wh), (215, 236, 205), -1, _AA, _SHIFT)
    nb = int(rng.integers(2, 5))
    label_c = (60, 60, 60)
    fs = 0.28 * S / 256
    for j in range(nb):
        col = palette[order[3 + j]]
        p = rng.uniform(0, S, 2)
        a = int(rng.integers(8))
        pts = [p.copy()]
        turns = rng.integers(-1, 2, 6)
        lens = rng.uniform(0.15, 0.35, 6) * S
        for t, ln in zip(turns, lens, strict=True):
            a = (a + t) % 8
            p = p + ln * np.array([np.cos(a * np.pi / 4), np.sin(a * np.pi / 4)])
            pts.append(p.copy())
        pts = np.array(pts)
        for a0, a1 in itertools.pairwise(pts):
            if _seg_dist((f.cx, f.cy), a0, a1) > f.r * 1.1 + lw:
                _line(out, a0, a1, col, lw * 0.8)
        for q in pts[1:-1]:
            if not f.near(q, lw, 1.1):
                _disc(out, q, lw * 0.55, (255, 255, 255))
                _disc(out, q, lw * 0.55, (30, 30, 30), max(1.0, lw * 0.2))
        names = rng.integers(65, 91, (len(pts), 5)).astype(np.uint8)
        for q, nm in zip(pts[1:-1], names[1:-1], strict=True):
            if not f.near(q, S * 0.05, 1.0):
                cv2.putText(
                    out,
                    bytes(nm).decode().title(),
                    (round(q[0] + lw), round(q[1] - lw)),
                    cv2.FONT_HERSHEY_SIMPLEX,
                    fs,
                    label_c,
                    1,
                    _AA,
                )
    c_head, c_feat, c_mouth = (palette[int(i)] for i in order[:3])
    T = f.canvas
    oct_t = np.arange(8) * np.pi / 4 + np.pi / 8
    octo = np.stack([np.cos(oct_t) * f.ax, np.sin(oct_t) * f.ay], 1) / np.cos(np.pi / 8) * 0.97
    if f.round:
        octo = f.head[::3]
    hp = T(octo)
    _poly(out, hp, c_head, lw, True)
    for q in hp[:: 2 if len(hp) == 8 else 6]:
        _line(out, q, q + (np.array([f.cx, f.cy]) - q) * 0.08, c_head, lw * 0.7)
    for pts in f.brow_local():
        _poly(out, T(pts[[0, -1]]), c_feat, lw * 0.8)
    sr = max(lw * 0.9, f.er * f.r)
    for pts, closed, filled, part in f.eye_local():
        c = T(pts.mean(0, keepdims=True))[0]
        if part == "pupil":
            _disc(out, c, sr * 0.45, (30, 30, 30))
        elif filled:
            _disc(out, c, sr * 1.1, (255, 255, 255))
            _disc(out, c, sr * 0.9, c_feat)
        elif closed:
            _disc(out, c, sr * 1.2, (255, 255, 255))
            _disc(out, c, sr * 1.2, (30, 30, 30), max(2.0, lw * 0.45))
        else:
            q = T(pts)
            _poly(out, q, c_feat, lw)
            nv = _normals(q, False)[0] * lw * 0.9
            for e in q:
                _line(out, e - nv, e + nv, c_feat, lw * 0.6)
    nose = f.nose_local()
    if nose is not None:
        c = T(nose[0].mean(0, keepdims=True))[0]
        _disc(out, c, lw * 0.6, (255, 255, 255))
        _disc(out, c, lw * 0.6, (30, 30, 30), max(1.0, lw * 0.25))
    hw, rise = f.m_hw, f.m_bend * f.m_hw
    d = float(np.clip(rise, 0.2 * hw, 0.5 * hw))
    yc, ym = f.m_cy - sign * rise / 2, f.m_cy + sign * rise / 2
    x = f.m_cx
    if f.m_open:
        yc, ym = f.m_cy - sign * rise * 0.5, f.m_cy + sign * rise * 0.5
        mp = T([[x - hw, yc], [x + hw, yc], [x + hw - d, ym], [x - hw + d, ym]])
        _poly(out, mp, c_mouth, lw, True)
        ends = mp[:2]
    else:
        mp = T([[x - hw, yc], [x - hw + d, ym], [x + hw - d, ym], [x + hw, yc]])
        _poly(out, mp, c_mouth, lw)
        ends = mp[[0, -1]]
    for e in ends:
        _disc(out, e, lw * 0.75, (255, 255, 255))
        _disc(out, e, lw * 0.75, (30, 30, 30), max(1.0, lw * 0.3))
    legend = rng.random() < 0.4
    corner = int(rng.integers(4))
    lx = S * 0.03 if corner % 2 == 0 else S * 0.7
    ly = S * 0.03 if corner < 2 else S * 0.8
    if legend and not f.near((lx + S * 0.13, ly + S * 0.085), S * 0.12, 1.0):
        cv2.rectangle(
            out,
            _pt((lx, ly)),
            _pt((lx + S * 0.27, ly + S * 0.17)),
            (255, 255, 255),
            -1,
            _AA,
            _SHIFT,
        )
        cv2.rectangle(
            out, _pt((lx, ly)), _pt((lx + S * 0.27, ly + S * 0.17)), (90, 90, 90), 1, _AA, _SHIFT
        )
        for j in range(3):
            yy = ly + S * (0.04 + j * 0.045)
            _line(out, (lx + S * 0.02, yy), (lx + S * 0.08, yy), palette[order[j]], lw * 0.6)
            cv2.putText(
                out,
                "Line",
                (round(lx + S * 0.1), round(yy + S * 0.012)),
                cv2.FONT_HERSHEY_SIMPLEX,
                fs,
                label_c,
                1,
                _AA,
            )
    return out


def _scratch(rng: np.random.Generator, S: int, f: _Face, sign: int) -> np.ndarray:
    """Rainbow scratch-art paper: a black coat scratched away with a stylus."""
    X, Y = _grid(S)
    kind = int(rng.integers(5))
    a, h0, span = rng.uniform(0, 2 * np.pi), rng.random(), rng.uniform(0.6, 1.2)
    lf = _lowfreq(rng, S, 3)
    if kind <= 1:
        t = ((X * np.cos(a) + Y * np.sin(a)) / S + 0.7) / 1.4
    elif kind == 2:
        t = np.hypot(X - S * (0.5 + 0.3 * np.cos(a)), Y - S * (0.5 + 0.3 * np.sin(a))) / (S * 1.1)
    else:
        t = 0.5 + 0.35 * lf
    hue = ((h0 + span * t) % 1.0 * 180).astype(np.uint8)
    if kind == 4:
        metal = np.float32((222, 184, 90) if rng.random() < 0.6 else (200, 202, 208))
        under = metal * (0.8 + 0.2 * np.sin(X * 0.3 + Y * 0.1 + lf * 4))[..., None]
    else:
        hsv = np.dstack([hue, np.full_like(hue, 230), np.full_like(hue, 250)])
        under = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).astype(np.float32)
    coat = np.float32(_rgb(rng.random(), rng.uniform(0, 0.3), rng.uniform(0.04, 0.1)))
    m = np.zeros((S, S), np.uint8)
    sw = max(1.5, S * rng.uniform(0.007, 0.011))
    hatch = rng.uniform(0, np.pi)
    hs = max(3.0, sw * 2.2)
    for _ in range(int(rng.integers(0, 10))):
        p, s, kd = rng.uniform(0, S, 2), rng.uniform(0.015, 0.04) * S, int(rng.integers(3))
        if f.near(p, s):
            continue
        if kd == 0:
            for q in range(4):
                e = np.array([np.cos(q * np.pi / 4), np.sin(q * np.pi / 4)]) * s
                _line(m, p - e, p + e, 255, sw * 0.7)
        elif kd == 1:
            t = np.linspace(0, 3 * np.pi, 24)
            _poly(
                m,
                p + np.stack([np.cos(t), np.sin(t)], 1) * (s * t / (3 * np.pi))[:, None],
                255,
                sw * 0.7,
            )
        else:
            _disc(m, p, s * 0.25, 255)
    if rng.random() < 0.4:
        _poly(
            m,
            [
                [S * 0.04, S * 0.04],
                [S * 0.96, S * 0.04],
                [S * 0.96, S * 0.96],
                [S * 0.04, S * 0.96],
            ],
            255,
            sw,
            True,
        )
    for sh in f.shapes(sign):
        if sh.filled:
            hm = np.zeros((S, S), np.uint8)
            lo, hi = sh.pts.min(0) - hs, sh.pts.max(0) + hs
            d = np.array([np.cos(hatch), np.sin(hatch)])
            nv = np.array([-d[1], d[0]])
            c = (lo + hi) / 2
            ext = float(np.hypot(*(hi - lo)))
            for o in np.arange(-ext / 2, ext / 2, hs):
                _line(hm, c + nv * o - d * ext, c + nv * o + d * ext, 255, sw * 0.8)
            sm = np.zeros((S, S), np.uint8)
            _fill(sm, sh.pts, 255)
            m = np.maximum(m, cv2.bitwise_and(hm, sm))
            _poly(m, sh.pts, 255, sw, True)
        else:
            w = sw * (1.5 if sh.part == "mouth" else 1.0)
            nv = _normals(sh.pts, sh.closed)
            _poly(m, sh.pts, 255, w, sh.closed)
            _poly(
                m, sh.pts + nv * w * (1.0 if sh.part == "mouth" else 0.6), 255, sw * 0.6, sh.closed
            )
    crumbs = rng.random((S, S), dtype=np.float32) < 0.22
    m[crumbs] = (m[crumbs] * 0.3).astype(np.uint8)
    a = (m.astype(np.float32) / 255)[..., None]
    img = coat * (1 + 0.06 * lf)[..., None] * (1 - a) + under * a
    out = _u8(img)
    if rng.random() < 0.4:
        p0 = np.array([rng.uniform(0.1, 0.9) * S, S * 0.96])
        ang = rng.uniform(-0.6, 0.6) - np.pi / 2
        p1 = p0 + S * 0.45 * np.array([np.cos(ang), np.sin(ang)])
        if _seg_dist((f.cx, f.cy), p0, p1) > f.r * 1.1:
            _line(out, p0, p1, (196, 150, 96), S * 0.025)
            _line(out, p1, p1 + (p1 - p0) * 0.06, (90, 70, 50), S * 0.01)
    return out


def _tape(rng: np.random.Generator, S: int, f: _Face, sign: int) -> np.ndarray:
    """Strips of coloured tape stuck on a wall."""
    X, _ = _grid(S)
    wk, lf = int(rng.integers(3)), _lowfreq(rng, S, 6)
    wall = np.float32(_rgb(rng.random(), rng.uniform(0.03, 0.3), rng.uniform(0.72, 0.95)))
    if wk == 0:
        img = (
            wall
            * (1 + 0.025 * lf + 0.015 * rng.standard_normal((S, S), dtype=np.float32))[..., None]
        )
    elif wk == 1:
        img = (
            np.float32((175, 175, 170))
            * (1 + 0.06 * lf + 0.06 * rng.standard_normal((S, S), dtype=np.float32))[..., None]
        )
    else:
        w = S * rng.uniform(0.12, 0.2)
        seams = np.exp(-(((X % w) / 1.5) ** 2))
        img = wall * (1 + 0.02 * lf - 0.18 * seams)[..., None]
    out = _u8(img)
    jit = rng.uniform(-1, 1, 512)
    ji = [0]

    def jv(n: int) -> np.ndarray:
        i = ji[0]
        ji[0] = (i + n) % (512 - 16)
        return jit[i : i + n]

    tapes = (
        (222, 200, 150),
        (30, 30, 32),
        (210, 40, 40),
        (30, 80, 190),
        (245, 205, 30),
        (40, 150, 70),
        (200, 200, 205),
        (245, 245, 240),
    )
    dark_t = ((30, 30, 32), (210, 40, 40), (30, 80, 190), (40, 150, 70))
    th_ = tapes[int(rng.integers(len(tapes)))]
    tf = dark_t[int(rng.integers(len(dark_t)))]
    washi = rng.random() < 0.3
    wcol = _rgb(rng.random(), 0.35, 0.95)
    tw = max(3.0, f.r * rng.uniform(0.1, 0.15))
    nh = int(rng.integers(9, 15))
    nm = int(rng.integers(3, 6))
    plate = rng.random() < 0.4
    pp = rng.uniform(0.1, 0.9, 2) * S
    if plate and not f.near(pp, S * 0.1):
        cv2.rectangle(
            out,
            _pt(pp - S * 0.06 + 2),
            _pt(pp + S * 0.06 + 2),
            _shade(tuple(int(v) for v in wall), 0.7),
            -1,
            _AA,
            _SHIFT,
        )
        cv2.rectangle(out, _pt(pp - S * 0.06), _pt(pp + S * 0.06), (240, 238, 232), -1, _AA, _SHIFT)
        for o in (-1, 1):
            cv2.rectangle(
                out,
                _pt(pp + np.array([o * S * 0.02 - 2, -S * 0.02])),
                _pt(pp + np.array([o * S * 0.02 + 2, S * 0.02])),
                (60, 60, 60),
                -1,
                _AA,
                _SHIFT,
            )

    def strip(
        a: np.ndarray, b: np.ndarray, w: float, col: Color, ext: float = 0.35, pattern: bool = False
    ) -> None:
        d = b - a
        ln = max(float(np.hypot(*d)), 1e-6)
        d = d / ln
        nv = np.array([-d[1], d[0]])
        a, b = a - d * w * ext, b + d * w * ext
        k = 5
        t = np.linspace(-0.5, 0.5, k)[:, None]
        ea = a + nv * t * w + d * (jv(k)[:, None] * w * 0.12)
        eb = b - nv * t * w + d * (jv(k)[:, None] * w * 0.12)
        poly = np.vstack([ea, eb])
        _fill(out, poly + w * 0.12, _shade(tuple(int(v) for v in wall), 0.72))
        _fill(out, poly, col)
        if washi and pattern:
            for s in np.linspace(0.1, 0.9, 4):
                _line(
                    out,
                    a + (b - a) * s - nv * w * 0.3,
                    a + (b - a) * s + nv * w * 0.3,
                    wcol,
                    max(1.0, w * 0.12),
                )
        _line(out, a + nv * w * 0.28, b + nv * w * 0.28, _shade(col, 1.2), max(1.0, w * 0.1))

    def chain(
        pts: np.ndarray, n: int, closed: bool, w: float, col: Color, pat: bool = False
    ) -> None:
        p = _resample(pts, n + (0 if closed else 1), closed)
        for i in range(n):
            strip(p[i], p[(i + 1) % len(p)], w, col, 0.3, pat)

    for sh in f.shapes(sign):
        if sh.part == "head":
            chain(sh.pts, nh, True, tw, th_, True)
        elif sh.part == "hair":
            chain(sh.pts, 2, False, tw * 0.8, th_)
        elif sh.part == "hat":
            continue
        elif sh.part == "mouth":
            w = max(tw * 0.8, sh.width)
            if sh.closed:
                u = len(sh.pts) // 2 + 1
                chain(sh.pts[:u], nm, False, w, tf)
                strip(sh.pts[0], sh.pts[u - 1], w * 0.8, tf, 0.2)
            else:
                chain(sh.pts, nm, False, w, tf)
        elif sh.part in ("eye", "pupil", "nose") and sh.closed:
            c = sh.pts.mean(0)
            ext = sh.pts.max(0) - sh.pts.min(0)
            hh = max(tw * 0.8, float(ext[1]))
            vtx = f.canvas([[0, -1]]) - f.canvas([[0, 0]])
            v = vtx[0] / np.hypot(*vtx[0])
            col = (248, 248, 244) if (sh.part == "eye" and not sh.filled) else tf
            strip(c - v * hh / 2, c + v * hh / 2, max(tw * 0.8, float(ext[0])), col, 0.05)
        else:
            strip(sh.pts[0], sh.pts[-1], max(tw * 0.7, sh.width), tf, 0.2)
    return out


_STYLES: tuple[tuple[str, Callable[[np.random.Generator, int, _Face, int], np.ndarray]], ...] = (
    ("sand", _sand),
    ("string_art", _string),
    ("quilt", _quilt),
    ("noodle_soup", _noodles),
    ("highlighter", _highlighter),
    ("painted_plate", _plate),
    ("crop_art", _crops),
    ("risograph", _riso),
    ("magic_screen", _etch),
    ("transit_map", _metro),
    ("scratch_art", _scratch),
    ("tape", _tape),
)
STYLE_NAMES = tuple(name for name, _ in _STYLES)


# ----------------------------------------------------------------------------- rendering


def _degrade(rng: np.random.Generator, img: np.ndarray) -> tuple[np.ndarray, str, int]:
    """Label-free camera and file degradations; returns image, extension and JPEG quality."""
    cast, cast_v = rng.random() < 0.25, 1 + rng.normal(0, 0.08, 3)
    low, low_k = rng.random() < 0.2, rng.uniform(0.45, 0.75)
    gam, gam_v = rng.random() < 0.25, float(np.exp(rng.uniform(-0.35, 0.35)))
    blur, sig = rng.random() < 0.25, rng.uniform(0.4, 1.1)
    noise, nsig = rng.random() < 0.3, rng.uniform(2, 10)
    jpg, q = rng.random() < 0.5, int(rng.integers(35, 96))
    out = img.astype(np.float32)
    if cast:
        out *= cast_v.astype(np.float32)
    if low:
        out = out.mean() + (out - out.mean()) * low_k
    if gam:
        out = 255 * (np.clip(out, 0, 255) / 255) ** gam_v
    if blur:
        out = cv2.GaussianBlur(out, (0, 0), sig)
    if noise:
        out += rng.standard_normal(out.shape, dtype=np.float32) * nsig
    return _u8(out), (".jpg" if jpg else ".png"), (q if jpg else 0)


def _render_rng(rng: np.random.Generator, sign: int, size: int) -> tuple[np.ndarray, str, int]:
    """Render with a given generator (the label only bends the mouth)."""
    S = 2 * size
    style = int(rng.integers(len(_STYLES)))
    face = _Face(rng, S)
    big = _STYLES[style][1](rng, S, face, sign)
    small = cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA)
    return _degrade(rng, small)


def render(ss: np.random.SeedSequence, sign: int, size: int) -> tuple[np.ndarray, str, int]:
    """One RGB uint8 face (size x size), its file extension and JPEG quality (0 for png).

    sign is +1 for happy (mouth corners up) and -1 for sad (corners down); nothing else depends
    on it.
    """
    if sign not in (1, -1):
        raise ValueError(f"sign must be +1 or -1, not {sign!r}")
    return _render_rng(np.random.default_rng(ss), int(sign), int(size))


# ----------------------------------------------------------------------------- the set on disk


def _meta(per_class: int, image_size: int, seed: int, files: dict[str, list[str]] | None) -> dict:
    """Marker contents."""
    meta: dict = {
        "generator": "farther_faces",
        "version": VERSION,
        "per_class": per_class,
        "image_size": image_size,
        "seed": seed,
        "classes": list(CLASSES),
        "styles": list(STYLE_NAMES),
        "report_only": True,
    }
    if files is not None:
        meta["files"] = files
    return meta


def _holds_set(out: Path, want: dict) -> bool:
    """Whether out already holds exactly this set (marker matches and its files exist)."""
    marker = out / MARKER
    if not marker.is_file():
        return False
    try:
        got = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(got, dict) or any(got.get(k) != v for k, v in want.items()):
        return False
    files = got.get("files")
    if not isinstance(files, dict) or set(files) != set(CLASSES):
        return False
    for name in CLASSES:
        names = files[name]
        if not isinstance(names, list) or len(names) != want["per_class"]:
            return False
        for fn in names:
            if (
                not isinstance(fn, str)
                or "/" in fn
                or "\\" in fn
                or not (out / name / fn).is_file()
            ):
                return False
    return True


def generate(out: Path, per_class: int, image_size: int, seed: int) -> Path:
    """Write out/happy and out/sad atomically and return out (untouched if it already holds
    the set)."""
    per_class, image_size, seed = (operator.index(v) for v in (per_class, image_size, seed))
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, not {per_class}")
    if image_size < 32:
        raise ValueError(f"image_size must be at least 32, not {image_size}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, not {seed}")
    out = Path(out)
    want = _meta(per_class, image_size, seed, None)
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise FileExistsError(f"{out} exists and is not a folder")
        if _holds_set(out, want):
            return out
        if any(out.iterdir()):
            raise FileExistsError(
                f"{out} is not empty and does not hold this farther_faces set; pick another --out"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        files: dict[str, list[str]] = {}
        for c, name in enumerate(CLASSES):
            (tmp / name).mkdir()
            files[name] = []
            for i in range(per_class):
                img, ext, q = render(
                    np.random.SeedSequence([seed, c, i]), 1 if c == 0 else -1, image_size
                )
                fn = f"{name}_{i:05d}{ext}"
                params = (
                    [cv2.IMWRITE_JPEG_QUALITY, q]
                    if ext == ".jpg"
                    else [cv2.IMWRITE_PNG_COMPRESSION, 3]
                )
                if not cv2.imwrite(
                    str(tmp / name / fn), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), params
                ):
                    raise OSError(f"could not write {tmp / name / fn}")
                files[name].append(fn)
        meta = _meta(per_class, image_size, seed, files)
        (tmp / MARKER).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise FileExistsError(f"{out} appeared while writing; leaving it alone")
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out", required=True, type=Path, help="new or empty folder for happy/ and sad/"
    )
    ap.add_argument("--per-class", type=int, default=200, help="images per class (default 200)")
    ap.add_argument("--image-size", type=int, default=128, help="side in pixels (default 128)")
    ap.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        path = generate(args.out, args.per_class, args.image_size, args.seed)
    except (FileExistsError, ValueError) as exc:
        print(f"farther_faces: {exc}", file=sys.stderr)
        return 2
    print(f"{path} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
