"""Fresh faces: an independent, report-only happy/sad test set.

This generator was written from a short written description only ("a happy face's mouth
corners turn up, a sad face's turn down; nothing else depends on the label"), without
reading the project's other image generators. It exists to measure how a model trained on
the project's own synthetic faces generalises to faces drawn by someone else.

Styles (one is picked per image from the label-blind scene stream):

- ``watercolour``: a painted head-and-shoulders portrait, soft washes on grainy paper;
- ``comic``: a comic-book panel face, ink outlines, Ben-Day halftone dots, speech bubble;
- ``clay``: a plasticine/clay 3-D look with soft studio lighting and cast shadows;
- ``neon``: a glowing neon-tube sign on a dark brick wall;
- ``object``: a face drawn on a fruit, egg, ball or stone on a table among other objects;
- ``chibi``: a big-headed cartoon character with a small body in a busy scene;
- ``photo``: a photographic-ish head and shoulders with hair, shading and a textured,
  out-of-focus background;
- ``whiteboard``: a marker stick figure among other whiteboard doodles;
- ``cross_stitch``: an embroidery/cross-stitch pixel face on cloth, often in a hoop;
- ``paper_cut``: a paper-cut collage with torn, shadowed paper layers.

Faces vary in size (tiny to frame-filling), position, rotation and cropping; hair, hats,
glasses, tears, brows, closed eyes and bodies come from the label-blind scene stream. A
happy and a sad image rendered from the same seed differ only around the mouth.

This set is for reporting only: it must never be used to tune a default, pick a model or
choose a threshold, or it stops measuring generalisation.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

CLASSES = ("happy", "sad")
MARKER = "FRESH_FACES.json"
GENERATOR = "fresh_faces"
VERSION = 1
STYLES = (
    "watercolour",
    "comic",
    "clay",
    "neon",
    "object",
    "chibi",
    "photo",
    "whiteboard",
    "cross_stitch",
    "paper_cut",
)

F32 = np.float32
TAU = 2.0 * math.pi
Col = np.ndarray
Rng = np.random.Generator

SKIN = (
    (255, 226, 200),
    (246, 206, 170),
    (236, 188, 140),
    (214, 160, 110),
    (188, 128, 84),
    (146, 94, 60),
    (108, 68, 44),
    (80, 52, 36),
)
TOON_SKIN = ((255, 214, 70), (250, 232, 210), (150, 210, 120), (140, 190, 250), (255, 170, 180))
HAIR = (
    (28, 22, 20),
    (62, 40, 26),
    (110, 70, 40),
    (160, 110, 60),
    (222, 190, 120),
    (170, 70, 30),
    (120, 120, 125),
    (230, 230, 225),
    (60, 60, 160),
    (210, 80, 150),
)
BRIGHT = (
    (230, 40, 50),
    (250, 140, 30),
    (250, 210, 40),
    (60, 170, 70),
    (40, 160, 200),
    (50, 80, 200),
    (140, 60, 190),
    (230, 80, 160),
    (30, 30, 30),
    (245, 245, 245),
    (120, 80, 50),
)
NEON = (
    (255, 60, 190),
    (60, 230, 255),
    (255, 235, 70),
    (90, 255, 120),
    (255, 140, 40),
    (190, 90, 255),
    (255, 60, 60),
    (255, 245, 225),
)


# ---------------------------------------------------------------- small helpers
def _u(rng: Rng, a: float, b: float) -> float:
    """One uniform float."""
    return float(rng.uniform(a, b))


def _pick(rng: Rng, seq: tuple | list, p: tuple | list | None = None):
    """One element of ``seq``."""
    return seq[int(rng.choice(len(seq), p=None if p is None else np.asarray(p) / np.sum(p)))]


def _c(rgb: tuple | list | np.ndarray) -> Col:
    """A colour as a float32 vector."""
    return np.asarray(rgb, F32)


def _jit(rng: Rng, rgb: tuple | list | np.ndarray, sd: float = 10.0) -> Col:
    """A colour with a little random jitter."""
    return np.clip(_c(rgb) + rng.normal(0.0, sd, 3), 0, 255).astype(F32)


def _mix(a: Col, b: Col | tuple, t: float) -> Col:
    """Linear blend of two colours."""
    return (_c(a) * (1.0 - t) + _c(b) * t).astype(F32)


def _lum(c: Col) -> float:
    """Luma of a colour."""
    return float(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2])


def _side(rng: Rng) -> float:
    """A random side, -1 or 1."""
    return float(rng.choice([-1.0, 1.0]))


def _fbm(rng: Rng, h: int, w: int, cell: int, octaves: int = 3) -> np.ndarray:
    """Smooth value noise in [0, 1]."""
    out = np.zeros((h, w), F32)
    amp, tot = 1.0, 0.0
    for _ in range(octaves):
        g = rng.random((max(2, h // cell + 2), max(2, w // cell + 2)), dtype=F32)
        out += amp * cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC)
        tot += amp
        amp *= 0.5
        cell = max(1, cell // 2)
    return np.clip(out / tot, 0.0, 1.0)


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; large sigmas go through a downscaled copy."""
    if sigma < 0.3:
        return a
    if sigma <= 4.0:
        return cv2.GaussianBlur(a, (0, 0), sigma)
    k = int(sigma // 2)
    h, w = a.shape[:2]
    sm = cv2.resize(a, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)
    sm = cv2.GaussianBlur(sm, (0, 0), sigma / k)
    return cv2.resize(sm, (w, h), interpolation=cv2.INTER_LINEAR)


# ---------------------------------------------------------------- geometry
class Frame:
    """Maps face-local coordinates (head radius about 1, y down) to canvas pixels."""

    __slots__ = ("ang", "cx", "cy", "s")

    def __init__(self, cx: float, cy: float, s: float, ang: float = 0.0) -> None:
        self.cx, self.cy, self.s, self.ang = cx, cy, s, ang

    @staticmethod
    def ident() -> Frame:
        """The pixel frame."""
        return Frame(0.0, 0.0, 1.0, 0.0)

    def px(self, p: np.ndarray) -> np.ndarray:
        """Local points (n, 2) to pixel points."""
        c, s = math.cos(self.ang), math.sin(self.ang)
        x, y = p[:, 0], p[:, 1]
        return np.stack([self.cx + self.s * (c * x - s * y), self.cy + self.s * (s * x + c * y)], 1)


def ell(
    cx: float,
    cy: float,
    rx: float,
    ry: float,
    rot: float = 0.0,
    n: int = 40,
    t0: float = 0.0,
    t1: float = TAU,
) -> np.ndarray:
    """Points on an ellipse (or an arc of it)."""
    closed = abs(t1 - t0 - TAU) < 1e-6
    t = np.linspace(t0, t1, n, endpoint=not closed)
    x, y = rx * np.cos(t), ry * np.sin(t)
    c, s = math.cos(rot), math.sin(rot)
    return np.stack([cx + c * x - s * y, cy + s * x + c * y], 1)


def pts(*xy: float) -> np.ndarray:
    """Points from a flat coordinate list."""
    return np.asarray(xy, float).reshape(-1, 2)


def bez(p0: tuple, p1: tuple, p2: tuple, n: int = 16) -> np.ndarray:
    """A quadratic Bezier curve."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    a, b, c = (np.asarray(v, float) for v in (p0, p1, p2))
    return (1 - t) ** 2 * a + 2 * (1 - t) * t * b + t**2 * c


def blob(rng: Rng, cx: float, cy: float, r: float, n: int = 18, rough: float = 0.25) -> np.ndarray:
    """An irregular closed blob."""
    k = np.convolve(np.r_[rng.normal(0, 1, n), rng.normal(0, 1, 2)], [0.3, 0.4, 0.3], "same")[:n]
    rr = r * (1.0 + rough * np.tanh(k))
    t = np.linspace(0, TAU, n, endpoint=False) + rng.uniform(0, TAU)
    return np.stack([cx + rr * np.cos(t), cy + rr * np.sin(t)], 1)


def strip(p: np.ndarray, w: float) -> np.ndarray:
    """The outline polygon of a polyline thickened to width ``w``."""
    d = np.gradient(p, axis=0)
    d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-6)
    nrm = np.stack([-d[:, 1], d[:, 0]], 1) * (w / 2)
    return np.concatenate([p + nrm, (p - nrm)[::-1]])


def _bbox(pf: np.ndarray, pad: float, h: int, w: int) -> tuple[int, int, int, int] | None:
    """Clipped integer bounding box (y0, y1, x0, x1) of pixel points."""
    x0 = max(math.floor(pf[:, 0].min() - pad), 0)
    x1 = min(math.ceil(pf[:, 0].max() + pad) + 1, w)
    y0 = max(math.floor(pf[:, 1].min() - pad), 0)
    y1 = min(math.ceil(pf[:, 1].max() + pad) + 1, h)
    return (y0, y1, x0, x1) if x1 > x0 and y1 > y0 else None


def _mask(
    b: tuple[int, int, int, int],
    pf: np.ndarray,
    thick: float = 0.0,
    closed: bool = False,
    aa: bool = True,
) -> np.ndarray:
    """A float mask of a filled polygon (thick == 0) or a polyline inside box ``b``."""
    y0, y1, x0, x1 = b
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    q = np.round((pf - (x0, y0)) * 16).astype(np.int32).reshape(-1, 1, 2)
    lt = cv2.LINE_AA if aa else cv2.LINE_8
    if thick <= 0:
        cv2.fillPoly(m, [q], 255, lt, 4)
    else:
        cv2.polylines(m, [q], closed, 255, max(1, round(thick)), lt, 4)
    return m.astype(F32) / 255.0


# ---------------------------------------------------------------- painters
class Painter:
    """Flat painter: antialiased fills and strokes with optional outlines."""

    def __init__(
        self,
        img: np.ndarray,
        fr: Frame,
        rng: Rng,
        outline: Col | None = None,
        ow: float = 0.0,
        aa: bool = True,
        cov: np.ndarray | None = None,
    ) -> None:
        self.img, self.fr, self.rng = img, fr, rng
        self.outline, self.ow, self.aa, self.cov = outline, ow, aa, cov

    def tpx(self, w: float) -> float:
        """A local width in pixels (at least one)."""
        return max(1.0, w * self.fr.s)

    def comp(
        self, b: tuple[int, int, int, int], m: np.ndarray, col: Col, alpha: float = 1.0
    ) -> None:
        """Composite a colour through a mask."""
        y0, y1, x0, x1 = b
        reg = self.img[y0:y1, x0:x1]
        reg += (_c(col) - reg) * (m * alpha)[..., None]
        if self.cov is not None:
            np.maximum(self.cov[y0:y1, x0:x1], m, out=self.cov[y0:y1, x0:x1])

    def fill(self, p: np.ndarray, col: Col, edge: bool = True, alpha: float = 1.0) -> None:
        """Fill a local polygon."""
        self.fill_px(self.fr.px(p), col, edge, alpha)

    def fill_px(self, pf: np.ndarray, col: Col, edge: bool = True, alpha: float = 1.0) -> None:
        """Fill a pixel polygon."""
        h, w = self.img.shape[:2]
        t = self.tpx(self.ow) if self.outline is not None and edge else 0.0
        b = _bbox(pf, t + 2, h, w)
        if b is None:
            return
        m = _mask(b, pf, aa=self.aa)
        if not self.aa:
            m = (m > 0.5).astype(F32)
        self.comp(b, m, col, alpha)
        if t:
            self.comp(b, _mask(b, pf, t, True, self.aa), self.outline, alpha)

    def line(
        self, p: np.ndarray, col: Col, w: float, closed: bool = False, alpha: float = 1.0
    ) -> None:
        """Stroke a local polyline."""
        pf = self.fr.px(p)
        h, wd = self.img.shape[:2]
        t = self.tpx(w)
        b = _bbox(pf, t + 2, h, wd)
        if b is not None:
            self.comp(b, _mask(b, pf, t, closed, self.aa), col, alpha)


class WashPainter(Painter):
    """Watercolour: irregular, granulating, multiplicative washes with darker edges."""

    def __init__(
        self, img: np.ndarray, fr: Frame, rng: Rng, tex: np.ndarray, grain: np.ndarray
    ) -> None:
        super().__init__(img, fr, rng)
        self.tex, self.grain = tex, grain
        self.soft = max(1.0, img.shape[0] / 200)

    def _apply(self, b: tuple[int, int, int, int], a: np.ndarray, col: Col) -> None:
        y0, y1, x0, x1 = b
        reg = self.img[y0:y1, x0:x1]
        reg *= 1.0 - np.clip(a, 0, 1)[..., None] * (1.0 - _c(col) / 255.0)

    def fill_px(self, pf: np.ndarray, col: Col, edge: bool = True, alpha: float = 0.8) -> None:
        """A wash over a pixel polygon."""
        h, w = self.img.shape[:2]
        b = _bbox(pf, 4 * self.soft + 2, h, w)
        if b is None:
            return
        y0, y1, x0, x1 = b
        m = _blur(_mask(b, pf), self.soft)
        n, g = self.tex[y0:y1, x0:x1], self.grain[y0:y1, x0:x1]
        m = np.clip((m - 0.5) * 2.4 + 0.5 + (n - 0.5) * 0.9, 0, 1)
        e = np.clip(m - _blur(m, 2 * self.soft), 0, 1)
        self._apply(b, alpha * (m * (0.72 + 0.45 * g) + 1.3 * e), col)

    def line(
        self, p: np.ndarray, col: Col, w: float, closed: bool = False, alpha: float = 0.9
    ) -> None:
        """A brush stroke."""
        pf = self.fr.px(p)
        h, wd = self.img.shape[:2]
        t = self.tpx(w)
        b = _bbox(pf, t + 3, h, wd)
        if b is None:
            return
        y0, y1, x0, x1 = b
        m = _blur(_mask(b, pf, t, closed), 0.6 * self.soft)
        self._apply(b, alpha * m * (0.8 + 0.3 * self.grain[y0:y1, x0:x1]), col)


class ReliefPainter(Painter):
    """Shaded 3-D blobs (clay, fruit, soft photographic skin) with cast shadows."""

    def __init__(
        self,
        img: np.ndarray,
        fr: Frame,
        rng: Rng,
        light: tuple[float, float],
        k: float = 1.0,
        spec: float = 0.25,
        shadow: float = 0.3,
        amb: float = 0.45,
        tex: np.ndarray | None = None,
        tex_amp: float = 0.0,
        rnd: float = 0.8,
    ) -> None:
        super().__init__(img, fr, rng)
        lx, ly = light
        lv = np.array([lx, ly, 0.9])
        self.L = lv / np.linalg.norm(lv)
        hv = self.L + np.array([0.0, 0.0, 1.0])
        self.H = hv / np.linalg.norm(hv)
        self.k, self.spec, self.shadow, self.amb = k, spec, shadow, amb
        self.tex, self.tex_amp, self.rnd = tex, tex_amp, rnd

    def _paint(self, pf: np.ndarray, col: Col, thick: float, closed: bool, alpha: float) -> None:
        h, w = self.img.shape[:2]
        size = float(np.ptp(pf, axis=0).max()) if thick <= 0 else thick
        off = -self.L[:2] * (0.06 * size + 1.0)
        b = _bbox(np.concatenate([pf, pf - off]), thick + 0.05 * size + 6, h, w)
        if b is None:
            return
        y0, y1, x0, x1 = b
        reg = self.img[y0:y1, x0:x1]
        if self.shadow > 0:
            ms = _blur(_mask(b, pf - off, thick, closed), 0.04 * size + 1.0)
            reg *= 1.0 - self.shadow * ms[..., None]
        m = _mask(b, pf, thick, closed)
        mb = (m > 0.5).astype(np.uint8)
        if not mb.any():
            self.comp(b, m, col, alpha)
            return
        if mb.all():  # no visible edge: a flat plateau
            d = np.full(mb.shape, 1e4, F32)
        else:
            d = cv2.distanceTransform(mb, cv2.DIST_L2, 3)
        rr = max(1.0, float(d.max()) * self.rnd)
        t = np.minimum(d / rr, 1.0)
        hgt = rr * np.sqrt(1.0 - (1.0 - t) ** 2)
        if self.tex is not None:
            hgt = hgt + self.tex_amp * self.tex[y0:y1, x0:x1]
        hgt = cv2.GaussianBlur(hgt, (0, 0), 1.0)
        gx = cv2.Sobel(hgt, cv2.CV_32F, 1, 0, ksize=3) * (self.k / 8)
        gy = cv2.Sobel(hgt, cv2.CV_32F, 0, 1, ksize=3) * (self.k / 8)
        inv = 1.0 / np.sqrt(gx * gx + gy * gy + 1.0)
        nx, ny = -gx * inv, -gy * inv
        dif = np.clip(nx * self.L[0] + ny * self.L[1] + inv * self.L[2], 0, 1)
        sp = np.clip(nx * self.H[0] + ny * self.H[1] + inv * self.H[2], 0, 1) ** 24
        shade = self.amb + (1 - self.amb) * dif
        colour = _c(col)[None, None, :] * shade[..., None] + (255 * self.spec * sp)[..., None]
        reg += (colour - reg) * (m * alpha)[..., None]

    def fill_px(self, pf: np.ndarray, col: Col, edge: bool = True, alpha: float = 1.0) -> None:
        """A shaded blob."""
        self._paint(pf, col, 0.0, True, alpha)

    def line(
        self, p: np.ndarray, col: Col, w: float, closed: bool = False, alpha: float = 1.0
    ) -> None:
        """A shaded rolled strand."""
        self._paint(self.fr.px(p), col, self.tpx(w), closed, alpha)


class NeonPainter(Painter):
    """Glowing tubes: big shapes become outlines, small ones glowing dots."""

    def __init__(self, img: np.ndarray, fr: Frame, rng: Rng, tube: float) -> None:
        super().__init__(img, fr, rng)
        self.tube = tube

    def _glow(self, pf: np.ndarray, col: Col, thick: float, closed: bool, alpha: float) -> None:
        h, w = self.img.shape[:2]
        t = max(thick, 1.5)
        b = _bbox(pf, 9 * t + 4, h, w)
        if b is None:
            return
        y0, y1, x0, x1 = b
        m = _mask(b, pf, thick, closed)
        g = _blur(m, 1.3 * t) * 1.5 + _blur(m, 4.5 * t) * 1.1
        reg = self.img[y0:y1, x0:x1]
        reg += (_c(col) * alpha)[None, None, :] * g[..., None]
        core = _mix(_c(col), (255, 255, 255), 0.6)
        reg += (core - reg) * (m * 0.9 * alpha)[..., None]

    def fill_px(self, pf: np.ndarray, col: Col, edge: bool = True, alpha: float = 1.0) -> None:
        """Small shapes glow filled; larger ones as a tube outline."""
        if float(np.ptp(pf, axis=0).max()) < 6 * self.tube:
            self._glow(pf, col, 0.0, True, alpha)
        else:
            self._glow(pf, col, self.tube, True, alpha)

    def line(
        self, p: np.ndarray, col: Col, w: float, closed: bool = False, alpha: float = 1.0
    ) -> None:
        """A tube."""
        self._glow(self.fr.px(p), col, self.tube, closed, alpha)


class MarkerPainter(Painter):
    """Wobbly whiteboard-marker strokes; big shapes are outlined, small ones filled."""

    def __init__(self, img: np.ndarray, fr: Frame, rng: Rng, streak: np.ndarray) -> None:
        super().__init__(img, fr, rng)
        self.streak = streak

    def _wobble(self, pf: np.ndarray, closed: bool) -> np.ndarray:
        if closed:
            pf = np.concatenate([pf, pf[:1]])
        seg = np.linalg.norm(np.diff(pf, axis=0), axis=1)
        s = np.r_[0.0, np.cumsum(seg)]
        n = max(2, int(s[-1] / 3) + 2)
        si = np.linspace(0, s[-1], n)
        q = np.stack([np.interp(si, s, pf[:, 0]), np.interp(si, s, pf[:, 1])], 1)
        d = np.gradient(q, axis=0)
        d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-6)
        f1, f2, ph1, ph2, amp = self.rng.uniform(
            (0.02, 0.06, 0, 0, 0.4), (0.05, 0.15, TAU, TAU, 1.2)
        )
        off = amp * (np.sin(si * f1 + ph1) + 0.4 * np.sin(si * f2 + ph2)) * self.img.shape[0] / 256
        return q + np.stack([-d[:, 1], d[:, 0]], 1) * off[:, None]

    def fill_px(self, pf: np.ndarray, col: Col, edge: bool = True, alpha: float = 1.0) -> None:
        """Small shapes filled, big ones outlined."""
        if float(np.ptp(pf, axis=0).max()) < 0.07 * self.img.shape[0]:
            super().fill_px(pf, col, False, alpha)
        else:
            self._stroke(self._wobble(pf, True), col, max(1.5, self.img.shape[0] / 110), alpha)

    def _stroke(self, q: np.ndarray, col: Col, t: float, alpha: float) -> None:
        h, w = self.img.shape[:2]
        b = _bbox(q, t + 2, h, w)
        if b is not None:
            y0, y1, x0, x1 = b
            m = _mask(b, q, t) * (0.82 + 0.18 * self.streak[y0:y1, x0:x1])
            self.comp(b, m, col, alpha)

    def line(
        self, p: np.ndarray, col: Col, w: float, closed: bool = False, alpha: float = 1.0
    ) -> None:
        """A marker stroke."""
        self._stroke(self._wobble(self.fr.px(p), closed), col, self.tpx(w), alpha)


class PaperPainter(Painter):
    """Cut paper: slightly ragged flat pieces with drop shadows and paper grain."""

    def __init__(
        self, img: np.ndarray, fr: Frame, rng: Rng, off: tuple[float, float], grain: np.ndarray
    ) -> None:
        super().__init__(img, fr, rng)
        self.off, self.grain = np.asarray(off, float), grain

    def fill_px(self, pf: np.ndarray, col: Col, edge: bool = True, alpha: float = 1.0) -> None:
        """A paper piece."""
        h, w = self.img.shape[:2]
        q = np.concatenate([pf, pf[:1]])
        seg = np.linalg.norm(np.diff(q, axis=0), axis=1)
        s = np.r_[0.0, np.cumsum(seg)]
        n = max(4, int(s[-1] / 2.5))
        si = np.linspace(0, s[-1], n, endpoint=False)
        q = np.stack([np.interp(si, s, q[:, 0]), np.interp(si, s, q[:, 1])], 1)
        q = q + self.rng.normal(0, 0.45 * h / 256, q.shape)
        sh = float(np.hypot(*self.off))
        b = _bbox(np.concatenate([q, q + self.off]), sh * 2 + 4, h, w)
        if b is None:
            return
        y0, y1, x0, x1 = b
        reg = self.img[y0:y1, x0:x1]
        ms = _blur(_mask(b, q + self.off), 0.5 * sh + 0.5)
        reg *= 1.0 - 0.4 * alpha * ms[..., None]
        m = _mask(b, q)
        c = _c(col)[None, None, :] * (0.93 + 0.1 * self.grain[y0:y1, x0:x1])[..., None]
        reg += (c - reg) * (m * alpha)[..., None]

    def line(
        self, p: np.ndarray, col: Col, w: float, closed: bool = False, alpha: float = 1.0
    ) -> None:
        """A paper strip."""
        q = self.fr.px(p)
        if closed:
            q = np.concatenate([q, q[:1]])
        self.fill_px(strip(q, self.tpx(w)), col, True, alpha)


# ---------------------------------------------------------------- face description
@dataclass
class Face:
    """Label-blind face geometry and accessories (face-local units)."""

    rx: float
    ry: float
    chin: float
    eye_y: float
    eye_dx: float
    eye_r: float
    eye_kind: str
    closed_dir: float
    look: tuple[float, float]
    brow: bool
    brow_tilt: float
    brow_arch: float
    brow_gap: float
    brow_len: float
    brow_w: float
    nose: str
    nose_y: float
    mouth_y: float
    mouth_hw: float
    ears: bool
    blush: bool
    freckles: bool
    tear: int
    glasses: str
    hair: str
    fringe: float
    hat: str
    side: float
    lw: float


def sample_face(
    rng: Rng,
    eyes: tuple[str, ...] = ("dot", "oval", "white", "closed"),
    eye_p: tuple[float, ...] | None = None,
    hairs: tuple[str, ...] = ("none", "cap", "bangs", "long", "spiky", "curly", "bun"),
    hats: tuple[str, ...] = ("top", "beanie", "cap", "party", "beret"),
    p_hat: float = 0.2,
    p_glasses: float = 0.15,
    lw: tuple[float, float] = (0.04, 0.065),
) -> Face:
    """Sample face geometry from the scene stream."""
    kind = _pick(rng, eyes, eye_p)
    big = kind in ("anime", "googly")
    return Face(
        rx=_u(rng, 0.86, 1.0),
        ry=_u(rng, 0.92, 1.1),
        chin=_u(rng, 0.0, 0.25),
        eye_y=_u(rng, -0.24, -0.06),
        eye_dx=_u(rng, 0.3, 0.42),
        eye_r=_u(rng, 0.12, 0.17) if big else _u(rng, 0.08, 0.14),
        eye_kind=kind,
        closed_dir=float(rng.choice([-1.0, 1.0])),
        look=(_u(rng, -0.5, 0.5), _u(rng, -0.4, 0.4)),
        brow=bool(rng.random() < 0.7),
        brow_tilt=_u(rng, -0.45, 0.45),
        brow_arch=_u(rng, -0.03, 0.06),
        brow_gap=_u(rng, 0.1, 0.2),
        brow_len=_u(rng, 0.16, 0.3),
        brow_w=_u(rng, 0.035, 0.07),
        nose=_pick(rng, ("none", "dot", "hook", "button", "shade"), (2, 2, 2, 1, 2)),
        nose_y=_u(rng, 0.06, 0.18),
        mouth_y=_u(rng, 0.42, 0.55),
        mouth_hw=_u(rng, 0.28, 0.44),
        ears=bool(rng.random() < 0.5),
        blush=bool(rng.random() < 0.3),
        freckles=bool(rng.random() < 0.12),
        tear=int(rng.choice([-1, 1])) if rng.random() < 0.07 else 0,
        glasses=_pick(rng, ("round", "rect", "sun")) if rng.random() < p_glasses else "none",
        hair=_pick(rng, hairs),
        fringe=_u(rng, -0.62, -0.42),
        hat=_pick(rng, hats) if rng.random() < p_hat else "none",
        side=float(rng.choice([-1.0, 1.0])),
        lw=_u(rng, *lw),
    )


def base_colours(rng: Rng, skin: Col) -> dict[str, Col]:
    """A label-blind colour set for a person."""
    hair = _jit(rng, _pick(rng, HAIR), 12)
    ink = _jit(rng, (35, 28, 30), 8)
    return {
        "skin": skin,
        "skin_dark": _mix(skin, (60, 30, 20), 0.25),
        "hair": hair,
        "brow": _mix(hair, (20, 15, 10), 0.4),
        "ink": ink,
        "cloth": _jit(rng, _pick(rng, BRIGHT), 20),
        "cloth2": _jit(rng, _pick(rng, BRIGHT), 20),
        "sclera": _c((250, 250, 248)),
        "iris": _jit(
            rng, _pick(rng, ((70, 110, 170), (90, 60, 30), (60, 120, 70), (40, 30, 25))), 10
        ),
        "lip": _mix(skin, (190, 70, 80), _u(rng, 0.35, 0.6)),
        "mouth_dark": _c((70, 20, 28)),
        "teeth": _c((248, 246, 238)),
        "tongue": _c((225, 100, 110)),
        "blush": _mix(skin, (255, 90, 110), 0.45),
        "hat": _jit(rng, _pick(rng, BRIGHT), 20),
        "hat2": _jit(rng, _pick(rng, BRIGHT), 20),
        "glasses": _jit(
            rng, _pick(rng, ((25, 25, 25), (120, 60, 20), (180, 30, 40), (30, 60, 160))), 8
        ),
        "tear": _c((120, 190, 250)),
        "white": _c((252, 252, 252)),
    }


# ---------------------------------------------------------------- mouth
@dataclass
class Mouth:
    """Mouth parameters from the mouth stream (never the label)."""

    kind: str
    width: float
    bend: float
    thick: float
    tilt: float
    open_h: float
    teeth: bool
    tongue: bool
    lip_th: float
    alpha: float
    seed: int


def sample_mouth(mr: Rng) -> Mouth:
    """Sample the mouth parameters; about 15% are subtle (small, faint or slightly bent)."""
    kind = _pick(mr, ("line", "open", "lips", "ticks"), (0.42, 0.3, 0.16, 0.12))
    m = Mouth(
        kind=kind,
        width=_u(mr, 0.85, 1.15),
        bend=_u(mr, 0.34, 0.75),
        thick=_u(mr, 0.85, 1.4),
        tilt=float(mr.normal(0.0, 0.04)),
        open_h=_u(mr, 0.35, 0.75),
        teeth=bool(mr.random() < 0.5),
        tongue=bool(mr.random() < 0.35),
        lip_th=_u(mr, 0.1, 0.18),
        alpha=1.0,
        seed=int(mr.integers(2**31)),
    )
    subtle, how = mr.random() < 0.15, int(mr.integers(3))
    if subtle and how == 0:
        m.width *= _u(mr, 0.55, 0.7)
    elif subtle and how == 1:
        m.alpha = _u(mr, 0.45, 0.65)
    elif subtle:
        m.bend, m.tilt, m.open_h = _u(mr, 0.22, 0.3), 0.0, min(m.open_h, 0.4)
    return m


def draw_mouth(
    p: Painter,
    f: Face,
    m: Mouth,
    sign: int,
    c: dict[str, Col],
    min_px: float,
    min_hw: float,
    min_lw: float,
    kinds: dict[str, str] | None = None,
    outline: bool = True,
    contrast: bool = True,
    surface: float = 1.0,
) -> None:
    """Draw the mouth; ``sign`` (+1 happy, -1 sad) only flips the vertical bend."""
    kind = (kinds or {}).get(m.kind, m.kind)
    skin_l = _lum(c["skin"]) * surface
    if contrast and skin_l - _lum(c["ink"]) < 85:
        c = {
            **c,
            "ink": _mix(c["skin"], (255, 248, 240), 0.8) if skin_l < 130 else _c((12, 10, 12)),
        }
    s = p.fr.s
    hw = max(f.mouth_hw * m.width, min_hw / s)
    lw = max(f.lw * m.thick, min_lw / s)
    bend = float(np.clip(m.bend, max(min_px, 0.9 * lw * s) / (hw * s), 0.95))
    u = np.linspace(-1.0, 1.0, 25)
    curve = bend * (1.0 / 3.0 - u**2)
    ct, st = math.cos(m.tilt), math.sin(m.tilt)

    def to_local(uu: np.ndarray, v: np.ndarray) -> np.ndarray:
        x, y = uu * hw, sign * v * hw
        return np.stack([ct * x - st * y, f.mouth_y + st * x + ct * y], 1)

    saved_rng = p.rng
    p.rng = np.random.default_rng(m.seed)
    before = p.img.copy() if m.alpha < 1 else None
    if kind == "open":
        oh = m.open_h * max(bend, 0.3)
        lower = curve + oh * (1 - u**2)
        shape = to_local(np.r_[u, u[::-1]], np.r_[curve, lower[::-1]])
        p.fill(shape, c["mouth_dark"], edge=False)
        if m.teeth:
            tv = curve + 0.32 * oh * (1 - u**2)
            p.fill(to_local(np.r_[u, u[::-1]], np.r_[curve, tv[::-1]]), c["teeth"], edge=False)
        if m.tongue:
            k = np.abs(u) < 0.55
            tv = lower - 0.35 * oh * (1 - (u / 0.55) ** 2)
            p.fill(
                to_local(np.r_[u[k], u[k][::-1]], np.r_[lower[k], tv[k][::-1]]), c["tongue"], False
            )
        if outline:
            p.line(shape, c["ink"], 0.7 * lw, closed=True)
    elif kind == "lips":
        th = m.lip_th * (1 - u**2) ** 0.6
        y = sign * curve
        lips = np.r_[to_local(u, (y - 0.8 * th) * sign), to_local(u[::-1], ((y + th) * sign)[::-1])]
        p.fill(lips, c["lip"], edge=False)
        p.line(to_local(u, curve), c["ink"], 0.7 * lw)
    else:
        p.line(to_local(u, curve), c["ink"], lw)
        if kind == "ticks":
            for e in (-1.0, 1.0):
                v0 = bend * (1.0 / 3.0 - 1.0)
                tick = to_local(np.array([e * 0.93, e * 1.1]), np.array([v0 - 0.14, v0 + 0.14]))
                p.line(tick, c["ink"], 0.8 * lw)
    p.rng = saved_rng
    if before is not None:
        p.img[:] = before + (p.img - before) * m.alpha


# ---------------------------------------------------------------- face parts
def head_pts(f: Face, n: int = 64) -> np.ndarray:
    """The head outline."""
    t = np.linspace(0, TAU, n, endpoint=False)
    x, y = f.rx * np.cos(t), f.ry * np.sin(t)
    x *= 1.0 - f.chin * np.clip(np.sin(t), 0, 1) ** 2
    return np.stack([x, y], 1)


def hair_back(f: Face) -> np.ndarray:
    """Long hair behind the head."""
    top = ell(0, -0.05, f.rx * 1.16, f.ry * 1.14, 0, 30, math.pi, TAU)
    return np.r_[top, pts(f.rx * 1.2, 1.25, f.rx * 0.7, 1.45, -f.rx * 0.7, 1.45, -f.rx * 1.2, 1.25)]


def hair_front(f: Face) -> list[np.ndarray]:
    """Hair pieces drawn over the head top."""
    d = 0.45
    arc = ell(0, -0.02, f.rx * 1.06, f.ry * 1.07, 0, 30, math.pi + d, TAU - d)
    right, left = arc[-1], arc[0]
    mid = (f.side * 0.25, f.fringe)
    if f.hair in ("cap", "long", "bun"):
        return [np.r_[arc, bez(tuple(right), mid, tuple(left), 14)]] + (
            [ell(0, -f.ry * 1.12, 0.36, 0.3)] if f.hair == "bun" else []
        )
    if f.hair == "bangs":
        xs = np.linspace(right[0], left[0], 9)
        ys = np.interp(xs, [left[0], right[0]], [left[1], right[1]])
        ys = np.minimum(ys, f.fringe + 0.05) + np.where(np.arange(9) % 2 == 1, 0.12, -0.02)
        return [np.r_[arc, np.stack([xs, ys], 1)]]
    if f.hair == "spiky":
        t = np.linspace(math.pi + 0.3, TAU - 0.3, 13)
        r = np.where(np.arange(13) % 2 == 0, 1.0, 1.3)
        sp = np.stack([f.rx * r * np.cos(t), -0.05 + f.ry * r * np.sin(t)], 1)
        return [np.r_[sp, pts(right[0], f.fringe + 0.1, left[0], f.fringe + 0.1)]]
    if f.hair == "curly":
        t = np.linspace(math.pi + 0.15, TAU - 0.15, 9)
        return [ell(f.rx * 1.02 * math.cos(a), f.ry * 1.0 * math.sin(a), 0.27, 0.25) for a in t] + [
            np.r_[arc, bez(tuple(right), (0, f.fringe + 0.1), tuple(left), 10)]
        ]
    return []


def draw_hat(p: Painter, f: Face, c: dict[str, Col]) -> None:
    """A hat on the head top."""
    top = -f.ry * 0.78
    if f.hat == "top":
        p.fill(pts(-0.62, top - 1.0, 0.62, top - 1.0, 0.6, top, -0.6, top), c["hat"])
        p.fill(
            pts(-0.62, top - 0.3, 0.62, top - 0.3, 0.61, top - 0.12, -0.61, top - 0.12), c["hat2"]
        )
        p.fill(ell(0, top, 1.15, 0.12), c["hat"])
    elif f.hat == "beanie":
        p.fill(ell(0, top + 0.3, f.rx * 1.08, f.ry * 0.8, 0, 30, math.pi, TAU), c["hat"])
        p.fill(
            pts(
                -f.rx * 1.1,
                top + 0.15,
                f.rx * 1.1,
                top + 0.15,
                f.rx * 1.1,
                top + 0.42,
                -f.rx * 1.1,
                top + 0.42,
            ),
            c["hat2"],
        )
        p.fill(ell(0, top - 0.55, 0.2, 0.2), c["hat2"])
    elif f.hat == "cap":
        p.fill(ell(f.side * 0.9, top + 0.38, 0.85, 0.14), c["hat2"])
        p.fill(ell(0, top + 0.35, f.rx * 1.05, f.ry * 0.75, 0, 30, math.pi, TAU), c["hat"])
    elif f.hat == "party":
        tip = (f.side * 0.25, top - 1.1)
        p.fill(pts(-0.45, top + 0.08, 0.45, top + 0.08, *tip), c["hat"])
        p.line(bez((-0.3, top - 0.25), (0.0, top - 0.15), (0.3, top - 0.25), 8), c["hat2"], 0.08)
        p.fill(ell(tip[0], tip[1], 0.14, 0.14), c["hat2"])
    elif f.hat == "beret":
        p.fill(ell(f.side * 0.25, top + 0.02, 0.95, 0.3, f.side * 0.15), c["hat"])
        p.fill(ell(f.side * 0.2, top - 0.3, 0.06, 0.08), c["hat"])


def draw_eyes(p: Painter, f: Face, c: dict[str, Col]) -> None:
    """Both eyes."""
    r = f.eye_r
    lx, ly = f.look
    for side in (-1.0, 1.0):
        ex, ey = side * f.eye_dx, f.eye_y
        k = f.eye_kind
        if k == "dot":
            p.fill(ell(ex, ey, r * 0.55, r * 0.65), c["ink"], edge=False)
        elif k == "oval":
            p.fill(ell(ex, ey, r * 0.5, r * 0.9), c["ink"], edge=False)
            p.fill(ell(ex + r * 0.15, ey - r * 0.4, r * 0.17, r * 0.2), c["white"], edge=False)
        elif k in ("white", "googly", "real"):
            sx, sy = (1.0, 1.0) if k == "googly" else (1.3, 0.8)
            shape = (
                np.r_[
                    bez((-sx * r, 0), (0, -1.6 * sy * r), (sx * r, 0), 12),
                    bez((sx * r, 0), (0, 1.3 * sy * r), (-sx * r, 0), 12)[1:-1],
                ]
                if k == "real"
                else ell(0, 0, sx * r, sy * r)
            )
            p.fill(shape + np.array([ex, ey]), c["sclera"], edge=True)
            ir = r * (0.55 if k == "googly" else 0.6)
            ix, iy = ex + lx * r * 0.45, ey + ly * r * 0.3
            if k != "googly":
                p.fill(ell(ix, iy, ir, ir), c["iris"], edge=False)
            p.fill(ell(ix, iy, ir * 0.55, ir * 0.55), c["ink"], edge=False)
            p.fill(ell(ix + ir * 0.25, iy - ir * 0.3, ir * 0.18, ir * 0.18), c["white"], edge=False)
            if k == "real":
                p.line(
                    bez((ex - sx * r, ey), (ex, ey - 1.6 * sy * r), (ex + sx * r, ey), 12),
                    c["ink"],
                    0.6 * f.lw,
                )
        elif k == "anime":
            p.fill(ell(ex, ey, r * 0.95, r * 1.3), c["iris"])
            p.fill(
                ell(ex, ey + r * 0.35, r * 0.7, r * 0.75),
                _mix(c["iris"], (255, 255, 255), 0.35),
                edge=False,
            )
            p.fill(ell(ex, ey, r * 0.45, r * 0.6), c["ink"], edge=False)
            p.fill(ell(ex - r * 0.3, ey - r * 0.5, r * 0.3, r * 0.3), c["white"], edge=False)
            p.fill(ell(ex + r * 0.35, ey + r * 0.4, r * 0.13, r * 0.13), c["white"], edge=False)
            p.line(
                ell(ex, ey + r * 0.2, r * 1.15, r * 1.5, 0, 12, math.pi + 0.5, TAU - 0.3),
                c["ink"],
                1.2 * f.lw,
            )
        else:
            uu = np.linspace(-1, 1, 9)
            p.line(
                np.stack([ex + r * uu, ey + f.closed_dir * r * 0.45 * (uu**2 - 0.5)], 1),
                c["ink"],
                f.lw,
            )


def draw_features(
    p: Painter, f: Face, c: dict[str, Col], mouth_cb: Callable[[], None], pe: Painter | None = None
) -> None:
    """Cheeks, nose, eyes (with ``pe`` if given), brows, tears, the mouth and glasses."""
    if f.blush:
        for side in (-1.0, 1.0):
            p.fill(
                ell(side * (f.eye_dx + 0.08), f.nose_y + 0.08, 0.14, 0.08), c["blush"], False, 0.6
            )
    if f.freckles:
        for side in (-1.0, 1.0):
            for dx, dy in ((0.0, 0.0), (0.08, 0.05), (-0.07, 0.06), (0.03, 0.11)):
                p.fill(
                    ell(side * (f.eye_dx + dx), f.nose_y + dy, 0.018, 0.018), c["skin_dark"], False
                )
    ny = f.nose_y
    if f.nose == "dot":
        p.fill(ell(0, ny, 0.06, 0.045), c["skin_dark"], edge=False)
    elif f.nose == "hook":
        p.line(
            pts(0.02 * f.side, ny - 0.2, 0.07 * f.side, ny, -0.03 * f.side, ny + 0.03),
            c["ink"],
            0.7 * f.lw,
        )
    elif f.nose == "button":
        p.fill(ell(0, ny, 0.09, 0.08), _mix(c["skin"], (230, 60, 60), 0.5))
    elif f.nose == "shade":
        p.line(
            bez((0.05 * f.side, ny - 0.18), (0.1 * f.side, ny), (0.0, ny + 0.02), 8),
            c["skin_dark"],
            0.6 * f.lw,
        )
    draw_eyes(pe or p, f, c)
    if f.brow:
        for side in (-1.0, 1.0):
            y0 = f.eye_y - f.eye_r * 1.1 - f.brow_gap
            xi, xo = side * (f.eye_dx - f.brow_len / 2), side * (f.eye_dx + f.brow_len / 2)
            tilt = f.brow_tilt * f.brow_len / 2
            brow = bez((xi, y0 - tilt), ((xi + xo) / 2, y0 - f.brow_arch), (xo, y0 + tilt), 8)
            p.line(brow, c["brow"], f.brow_w)
    if f.tear:
        tx, ty = f.tear * f.eye_dx, f.eye_y + f.eye_r + 0.14
        drop = np.r_[pts(tx, ty - 0.13), ell(tx, ty, 0.05, 0.06, 0, 12, -0.3, math.pi + 0.3)]
        p.fill(drop, c["tear"])
    mouth_cb()
    if f.glasses != "none":
        r = max(f.eye_r * 1.9, 0.17)
        col = c["glasses"]
        for side in (-1.0, 1.0):
            ex = side * f.eye_dx
            if f.glasses == "rect":
                lens = pts(
                    ex - r,
                    f.eye_y - r * 0.75,
                    ex + r,
                    f.eye_y - r * 0.75,
                    ex + r,
                    f.eye_y + r * 0.7,
                    ex - r,
                    f.eye_y + r * 0.7,
                )
            else:
                lens = ell(ex, f.eye_y, r, r * 0.9, 0, 28)
            if f.glasses == "sun":
                p.fill(lens, _c((30, 30, 38)), edge=False, alpha=0.92)
            p.line(lens, col, 0.7 * f.lw, closed=True)
            p.line(
                pts(ex + side * r, f.eye_y - 0.05, side * f.rx * 0.98, f.eye_y - 0.02),
                col,
                0.6 * f.lw,
            )
        p.line(
            bez(
                (-f.eye_dx + r, f.eye_y - 0.03),
                (0, f.eye_y - 0.12),
                (f.eye_dx - r, f.eye_y - 0.03),
                6,
            ),
            col,
            0.6 * f.lw,
        )


def draw_person(
    ph: Painter,
    pf: Painter,
    f: Face,
    c: dict[str, Col],
    mouth_cb: Callable[[], None],
    body: str = "none",
    after_head: Callable[[], None] | None = None,
) -> None:
    """A whole character: hair, body, head, features, mouth, glasses and hat."""
    if f.hair == "long":
        ph.fill(hair_back(f), c["hair"])
    if body == "shoulders":
        w = f.rx * _u(ph.rng, 1.6, 2.2)
        torso = np.r_[
            pts(-w, 3.4),
            bez((-w, 1.9), (-w * 0.8, 1.3), (-0.3, 1.25), 10),
            bez((0.3, 1.25), (w * 0.8, 1.3), (w, 1.9), 10),
            pts(w, 3.4),
        ]
        ph.fill(pts(-0.26, 0.88 * f.ry, 0.26, 0.88 * f.ry, 0.3, 1.45, -0.3, 1.45), c["skin_dark"])
        ph.fill(torso, c["cloth"])
        ph.fill(pts(-0.32, 1.24, 0.32, 1.24, 0.0, 1.75), c["skin_dark"], edge=False)
        ph.line(pts(-0.42, 1.2, 0.0, 1.8, 0.42, 1.2), c["cloth2"], 0.07)
    elif body == "chibi":
        ph.fill(pts(-0.22, 2.0, -0.02, 2.0, -0.04, 2.75, -0.22, 2.75), c["cloth2"])
        ph.fill(pts(0.22, 2.0, 0.02, 2.0, 0.04, 2.75, 0.22, 2.75), c["cloth2"])
        ph.fill(ell(-0.18, 2.8, 0.16, 0.08), c["ink"])
        ph.fill(ell(0.18, 2.8, 0.16, 0.08), c["ink"])
        a1, a2 = _u(ph.rng, -0.5, 0.6), _u(ph.rng, -0.5, 0.6)
        for side, a in ((-1.0, a1), (1.0, a2)):
            hand = (side * (0.5 + 0.35 * math.cos(a)), 1.25 + 0.6 * math.sin(a))
            ph.line(pts(side * 0.35, 1.15, *hand), c["cloth"], 0.16)
            ph.fill(ell(hand[0], hand[1], 0.1, 0.1), c["skin"])
        ph.fill(pts(-0.38, 0.95, 0.38, 0.95, 0.5, 2.05, -0.5, 2.05), c["cloth"])
    elif body == "stick":
        y = f.ry
        arms = [(side * _u(ph.rng, 0.7, 1.1), y + _u(ph.rng, -0.1, 1.3)) for side in (-1.0, 1.0)]
        ph.line(pts(0, y, 0, y + 1.7), c["ink"], f.lw)
        ph.line(pts(*arms[0], 0, y + 0.55, *arms[1]), c["ink"], f.lw)
        ph.line(
            pts(-_u(ph.rng, 0.4, 0.8), y + 3.0, 0, y + 1.7, _u(ph.rng, 0.4, 0.8), y + 3.0),
            c["ink"],
            f.lw,
        )
    if f.ears:
        for side in (-1.0, 1.0):
            ph.fill(ell(side * f.rx * 0.97, 0.02, 0.15, 0.22), c["skin"])
    ph.fill(head_pts(f), c["skin"])
    if after_head is not None:
        after_head()
    for piece in hair_front(f):
        ph.fill(piece, c["hair"])
    draw_features(pf, f, c, mouth_cb)
    if f.hat != "none":
        draw_hat(ph, f, c)


# ---------------------------------------------------------------- layout
def place(
    rng: Rng,
    W: int,
    p: tuple[float, float, float, float] = (0.3, 0.4, 0.15, 0.15),
    rot: float = 0.12,
    sizes: tuple[tuple[float, float], ...] = (
        (0.36, 0.46),
        (0.22, 0.33),
        (0.14, 0.2),
        (0.42, 0.6),
    ),
    cy0: float = 0.47,
) -> Frame:
    """Face frame: frame-filling, normal, small/off-centre or cropped; maybe rotated."""
    mode = _pick(rng, (0, 1, 2, 3), p)
    R = _u(rng, *sizes[mode]) * W
    if mode == 2:
        cx, cy = W * _u(rng, 0.2, 0.8), W * _u(rng, 0.2, 0.8)
    elif mode == 3:
        a, d = _u(rng, 0, TAU), R * _u(rng, 0.35, 0.8)
        cx, cy = W / 2 + d * math.cos(a), W / 2 + d * math.sin(a)
    else:
        cx, cy = W * (0.5 + _u(rng, -0.1, 0.1)), W * (cy0 + _u(rng, -0.08, 0.08))
    ang = float(rng.normal(0, rot)) if rng.random() < 0.75 else _u(rng, -0.65, 0.65)
    fr = Frame(cx, cy, R, ang)
    keep = fr.px(pts(-0.6, -0.35, 0.6, -0.35, -0.6, 0.8, 0.6, 0.8))
    lo, hi = 0.06 * W, 0.94 * W
    fr.cx += max(0.0, lo - keep[:, 0].min()) - max(0.0, keep[:, 0].max() - hi)
    fr.cy += max(0.0, lo - keep[:, 1].min()) - max(0.0, keep[:, 1].max() - hi)
    return fr


def _face_box(fr: Frame, pad: float = 1.3) -> tuple[float, float, float, float]:
    """A pixel box (x0, y0, x1, y1) around the head."""
    q = fr.px(pts(-pad, -pad, pad, -pad, pad, pad, -pad, pad))
    return q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max()


def _overlaps(box: tuple[float, float, float, float], x: float, y: float, r: float) -> bool:
    """Whether a circle touches a box."""
    return box[0] - r < x < box[2] + r and box[1] - r < y < box[3] + r


def _canvas(W: int, col: Col) -> np.ndarray:
    """A flat float canvas."""
    img = np.empty((W, W, 3), F32)
    img[:] = col
    return img


def _gradient(W: int, top: Col, bottom: Col) -> np.ndarray:
    """A vertical gradient canvas."""
    t = np.linspace(0, 1, W, dtype=F32)[:, None, None]
    return np.broadcast_to(top * (1 - t) + bottom * t, (W, W, 3)).astype(F32)


def _vignette(img: np.ndarray, k: float) -> None:
    """Darken the corners."""
    W = img.shape[0]
    y, x = np.mgrid[0:W, 0:W].astype(F32) / W - 0.5
    img *= (1.0 - k * (x * x + y * y) * 2)[..., None]


# ---------------------------------------------------------------- styles
MouthFn = Callable[[Painter, Face, dict[str, Col]], None]


def s_watercolour(rng: Rng, mouth: MouthFn, W: int) -> np.ndarray:
    """A painted portrait on grainy paper."""
    img = _canvas(W, _jit(rng, (246, 241, 230), 5))
    tex, grain = _fbm(rng, W, W, W // 5, 3), _fbm(rng, W, W, 3, 2)
    bg = WashPainter(img, Frame.ident(), rng, tex, grain)
    for _ in range(int(rng.integers(1, 5))):
        col = _mix(_jit(rng, _pick(rng, BRIGHT[:8]), 30), (255, 255, 255), _u(rng, 0.5, 0.75))
        bg.fill_px(
            blob(rng, _u(rng, 0, W), _u(rng, 0, W), _u(rng, 0.2, 0.5) * W, rough=0.35),
            col,
            alpha=_u(rng, 0.25, 0.55),
        )
    fr = place(rng, W, (0.35, 0.45, 0.1, 0.1))
    f = sample_face(
        rng,
        ("dot", "oval", "white", "closed", "real"),
        hairs=("none", "cap", "bangs", "spiky", "curly", "bun"),  # washes are see-through
        lw=(0.035, 0.055),
    )
    skin = _mix(_jit(rng, _pick(rng, SKIN), 8), (255, 255, 255), _u(rng, 0.15, 0.4))
    c = base_colours(rng, skin)
    c["ink"] = _jit(rng, _pick(rng, ((50, 32, 25), (30, 30, 65), (40, 28, 36))), 8)
    c["cloth"] = _mix(c["cloth"], (255, 255, 255), 0.3)
    p = WashPainter(img, fr, rng, tex, grain)
    draw_person(
        p, p, f, c, lambda: mouth(p, f, c), body=_pick(rng, ("shoulders", "none"), (0.7, 0.3))
    )
    img *= (0.94 + 0.06 * grain)[..., None]
    return img


def _halftone(W: int, period: float, ang: float) -> np.ndarray:
    """A dot-screen coverage function in [0, 1] (use with a threshold)."""
    y, x = np.mgrid[0:W, 0:W].astype(F32)
    c, s = math.cos(ang), math.sin(ang)
    u, v = (c * x + s * y) * TAU / period, (-s * x + c * y) * TAU / period
    return (np.cos(u) * np.cos(v) + 1.0) / 2.0


def s_comic(rng: Rng, mouth: MouthFn, W: int) -> np.ndarray:
    """A comic panel: inked flat colours, halftone dots, speed lines, speech bubble."""
    img = _canvas(W, _jit(rng, _pick(rng, BRIGHT[:8]), 25))
    dots = _halftone(W, W / _u(rng, 28, 45), math.pi / 4)
    grad = np.linspace(_u(rng, 0.0, 0.4), _u(rng, 0.5, 0.9), W, dtype=F32)
    grad = grad[:, None] if rng.random() < 0.5 else grad[None, :]
    img *= (1.0 - 0.35 * (dots < grad))[..., None]
    fr = place(rng, W, (0.3, 0.45, 0.1, 0.15))
    ink = _c((15, 12, 15))
    flat = Painter(img, Frame.ident(), rng)
    if rng.random() < 0.45:
        cx, cy = fr.px(pts(0, 0))[0]
        for a in np.linspace(0, TAU, int(rng.integers(14, 30)), endpoint=False) + _u(rng, 0, 1):
            r0, r1 = fr.s * _u(rng, 1.5, 2.2), W * 1.5
            flat.fill_px(
                pts(
                    cx + r0 * math.cos(a),
                    cy + r0 * math.sin(a),
                    cx + r1 * math.cos(a - 0.03),
                    cy + r1 * math.sin(a - 0.03),
                    cx + r1 * math.cos(a + 0.03),
                    cy + r1 * math.sin(a + 0.03),
                ),
                ink,
                alpha=0.8,
            )
    f = sample_face(rng, ("dot", "oval", "white", "closed", "anime"), lw=(0.045, 0.07), p_hat=0.3)
    skin = _jit(rng, _pick(rng, SKIN + TOON_SKIN), 6)
    c = base_colours(rng, skin)
    c["ink"] = ink
    p = Painter(img, fr, rng, outline=ink, ow=_u(rng, 0.035, 0.06))
    light = np.array([_u(rng, -1, 1), _u(rng, -1, 0.3)])
    light = light / max(np.linalg.norm(light), 1e-3) * 0.28

    def shade() -> None:
        h = head_pts(f)
        a, b2 = fr.px(h), fr.px(h + light)
        box = _bbox(a, 2, W, W)
        if box is None:
            return
        y0, y1, x0, x1 = box
        m = np.clip(_mask(box, a) - _mask(box, b2), 0, 1) * (dots[y0:y1, x0:x1] > 0.55)
        img[y0:y1, x0:x1] *= (1.0 - 0.3 * m)[..., None]

    draw_person(p, p, f, c, lambda: mouth(p, f, c), _pick(rng, ("shoulders", "none")), shade)
    box = _face_box(fr, 1.2)
    for cx, cy in ((0.2, 0.18), (0.8, 0.18), (0.2, 0.82), (0.8, 0.82)):
        r = W * _u(rng, 0.13, 0.2)
        if rng.random() < 0.5 or _overlaps(box, cx * W, cy * W, r * 1.1):
            continue
        bx, by = cx * W, cy * W
        tail = pts(bx - 0.2 * r, by, bx + 0.2 * r, by, (bx + W / 2) / 2, (by + W / 2) / 2)
        flat.fill_px(tail, c["white"])
        flat.fill_px(ell(bx, by, r * 1.3, r * 0.85), c["white"])
        flat.line(ell(bx, by, r * 1.3, r * 0.85), ink, 2.0, closed=True)
        for k in range(3):
            yy = by + (k - 1) * r * 0.35
            xs = np.linspace(bx - r * 0.8, bx + r * 0.8, 12)
            flat.line(np.stack([xs, yy + r * 0.07 * np.sin(xs * 0.9)], 1), ink, 1.5)
        break
    edge = int(W * _u(rng, 0.02, 0.05))
    if rng.random() < 0.6:
        cv2.rectangle(img, (edge, edge), (W - edge, W - edge), (15, 12, 15), max(2, W // 60))
        img[:edge], img[-edge:], img[:, :edge], img[:, -edge:] = 250, 250, 250, 250
    return img


def s_clay(rng: Rng, mouth: MouthFn, W: int) -> np.ndarray:
    """Plasticine figure under soft studio light."""
    img = _gradient(
        W,
        _jit(rng, _pick(rng, ((220, 225, 235), (240, 225, 200), (200, 220, 210))), 15),
        _jit(rng, (150, 150, 160), 25),
    )
    _vignette(img, 0.35)
    fr = place(rng, W, (0.3, 0.45, 0.1, 0.15))
    light = (_u(rng, -0.8, 0.8), _u(rng, -0.9, -0.3))
    tex = (_fbm(rng, W, W, 6, 2) - 0.5) * 2
    p = ReliefPainter(
        img,
        fr,
        rng,
        light,
        k=_u(rng, 0.8, 1.3),
        spec=_u(rng, 0.1, 0.35),
        shadow=0.35,
        tex=tex,
        tex_amp=0.9,
    )
    f = sample_face(
        rng,
        ("dot", "white", "oval", "googly"),
        hairs=("none", "cap", "bun", "curly", "spiky", "long"),
        lw=(0.06, 0.09),
        p_hat=0.25,
    )
    skin = _jit(rng, _pick(rng, SKIN + TOON_SKIN), 10)
    c = base_colours(rng, skin)
    c["ink"] = _jit(rng, (40, 30, 30), 8)
    cx, cy = fr.px(pts(0, f.ry * 1.05))[0]
    floor = Painter(img, Frame.ident(), rng)
    floor.fill_px(ell(cx, cy, fr.s * 0.9, fr.s * 0.18), _c((0, 0, 0)), alpha=0.25)
    draw_person(p, p, f, c, lambda: mouth(p, f, c), _pick(rng, ("shoulders", "none")))
    return img


def _bricks(rng: Rng, W: int) -> np.ndarray:
    """A dim brick wall."""
    mortar = _jit(rng, (40, 38, 40), 6)
    img = _canvas(W, mortar)
    base = _jit(rng, _pick(rng, ((120, 50, 40), (90, 80, 80), (70, 60, 90), (60, 50, 40))), 10)
    bh = W / _u(rng, 8, 15)
    bw = bh * _u(rng, 1.8, 2.6)
    gap = max(1, round(bh * 0.1))
    for row in range(int(W / bh) + 1):
        x = -((row % 2) * bw / 2) - _u(rng, 0, bw / 2)
        while x < W:
            col = tuple(float(v) for v in base * _u(rng, 0.7, 1.2))
            cv2.rectangle(
                img,
                (int(x) + gap, int(row * bh) + gap),
                (int(x + bw) - gap, int((row + 1) * bh) - gap),
                col,
                -1,
            )
            x += bw
    img *= (0.7 + 0.6 * _fbm(rng, W, W, max(2, W // 40), 2))[..., None]
    return img * _u(rng, 0.25, 0.45)


def s_neon(rng: Rng, mouth: MouthFn, W: int) -> np.ndarray:
    """A neon-tube face sign on a dark brick wall."""
    img = _bricks(rng, W)
    fr = place(rng, W, (0.35, 0.45, 0.05, 0.15))
    tube = max(1.5, fr.s * _u(rng, 0.035, 0.055))
    p = NeonPainter(img, fr, rng, tube)
    f = sample_face(
        rng,
        ("dot", "white", "closed", "oval"),
        hairs=("none", "spiky", "cap", "curly"),
        p_hat=0.15,
        p_glasses=0.1,
    )
    cols = [_c(_pick(rng, NEON)) for _ in range(4)]
    c = base_colours(rng, cols[0])
    for key in ("hair", "hat", "hat2", "brow", "cloth", "cloth2"):
        c[key] = cols[1]
    for key in (
        "ink",
        "mouth_dark",
        "lip",
        "tongue",
        "sclera",
        "iris",
        "teeth",
        "white",
        "glasses",
        "tear",
        "blush",
        "skin_dark",
    ):
        c[key] = cols[2] if key not in ("ink", "mouth_dark", "lip") else cols[3]
    if rng.random() < 0.4:
        frame_col = _c(_pick(rng, NEON))
        if rng.random() < 0.5:
            p.line(ell(0, 0.1, 1.55, 1.55, 0, 60), frame_col, 0, closed=True)
        else:
            p.line(pts(-1.5, -1.5, 1.5, -1.5, 1.5, 1.6, -1.5, 1.6), frame_col, 0, closed=True)
    f.blush = f.freckles = False
    f.ears = False
    draw_person(p, p, f, c, lambda: mouth(p, f, c))
    return img


def _object_shape(rng: Rng, kind: str) -> np.ndarray:
    """Outline of an object in local units."""
    if kind == "egg":
        t = np.linspace(0, TAU, 48, endpoint=False)
        return np.stack([0.82 * np.cos(t) * (1 - 0.12 * np.sin(t)), 1.08 * np.sin(t)], 1)
    if kind == "lemon":
        t = np.linspace(0, TAU, 48, endpoint=False)
        r = 1 + 0.12 * np.cos(t) ** 8
        return np.stack([1.12 * r * np.cos(t), 0.82 * np.sin(t)], 1)
    if kind == "rock":
        return blob(rng, 0, 0, 1.0, 14, 0.12) * (1.1, 0.85)
    if kind == "pumpkin":
        t = np.linspace(0, TAU, 60, endpoint=False)
        return np.stack([1.15 * np.cos(t) * (1 + 0.04 * np.cos(6 * t)), 0.9 * np.sin(t)], 1)
    return ell(0, 0, 1.0, 0.97, 0, 48)


OBJECTS = {
    "orange": (245, 140, 30),
    "apple": (200, 30, 35),
    "green_apple": (150, 200, 60),
    "egg": (245, 235, 215),
    "tennis": (210, 230, 60),
    "rock": (150, 145, 140),
    "pumpkin": (240, 120, 20),
    "lemon": (250, 225, 60),
    "ball": (60, 120, 220),
}


def s_object(rng: Rng, mouth: MouthFn, W: int) -> np.ndarray:
    """A face drawn on a fruit, egg, ball or stone, on a table with other things."""
    horizon = _u(rng, 0.45, 0.72) * W
    img = _canvas(
        W,
        _jit(
            rng, _pick(rng, ((230, 225, 210), (190, 210, 230), (210, 200, 190), (90, 100, 120))), 15
        ),
    )
    wood = _jit(
        rng,
        _pick(
            rng, ((150, 100, 60), (200, 170, 130), (110, 70, 45), (235, 235, 235), (90, 140, 70))
        ),
        12,
    )
    y0 = int(horizon)
    streak = (
        cv2.resize(_fbm(rng, 8, W, 4, 2), (W, W - y0), interpolation=cv2.INTER_LINEAR)
        if y0 < W
        else None
    )
    if streak is not None:
        img[y0:] = wood * (0.8 + 0.4 * streak)[..., None]
        img[y0 : y0 + max(1, W // 100)] *= 0.8
    light = (_u(rng, -0.8, 0.8), _u(rng, -0.9, -0.3))
    fr = place(rng, W, (0.35, 0.45, 0.15, 0.05), rot=0.15)
    kinds = list(OBJECTS)
    flat = Painter(img, Frame.ident(), rng)
    box = _face_box(fr, 1.25)
    for _ in range(int(rng.integers(0, 4))):
        k = _pick(rng, kinds)
        r = fr.s * _u(rng, 0.4, 0.9)
        x, y = _u(rng, 0, W), horizon + _u(rng, 0.0, 0.3) * W - r * 0.5
        if _overlaps(box, x, y, r):
            continue
        other = Frame(x, y, r, _u(rng, -0.5, 0.5))
        flat.fill_px(ell(x, y + r * 0.85, r * 0.9, r * 0.2), _c((0, 0, 0)), alpha=0.25)
        ReliefPainter(img, other, rng, light, k=0.9, spec=0.3, shadow=0.2).fill(
            _object_shape(rng, k), _jit(rng, OBJECTS[k], 12)
        )
    kind = _pick(rng, kinds)
    gx, gy = fr.px(pts(0, 0.9))[0]
    flat.fill_px(ell(gx, gy, fr.s * 1.0, fr.s * 0.25), _c((0, 0, 0)), alpha=0.3)
    dimples = (_fbm(rng, W, W, 3, 1) - 0.5) * 2
    body = ReliefPainter(
        img,
        fr,
        rng,
        light,
        k=0.9,
        spec=0.35 if kind != "rock" else 0.05,
        shadow=0.25,
        tex=dimples,
        tex_amp=1.5 if kind in ("orange", "rock", "lemon") else 0.2,
    )
    shape = _object_shape(rng, kind)
    col = _jit(rng, OBJECTS[kind], 12)
    body.fill(shape, col)
    deco = Painter(img, fr, rng)
    if kind == "tennis":
        e = _side(rng)
        seam = bez((e * 0.35, -0.94), (e * 1.05, 0.0), (e * 0.35, 0.94), 20)
        deco.line(seam, _c((250, 250, 245)), 0.06)
    elif kind == "ball":
        for e in (-1.0, 1.0):
            seam = bez((e * 0.55, -0.83), (e * 1.0, 0.0), (e * 0.55, 0.83), 16)
            deco.line(seam, _mix(col, (0, 0, 0), 0.45), 0.05)
    elif kind == "pumpkin":
        for x in (-0.6, -0.25, 0.25, 0.6):
            deco.line(
                bez((x * 0.6, -0.85), (x * 1.35, 0.0), (x * 0.6, 0.85), 12),
                _mix(col, (80, 30, 0), 0.35),
                0.04,
                alpha=0.6,
            )
    if kind in ("apple", "green_apple", "pumpkin", "orange"):
        ReliefPainter(img, fr, rng, light, spec=0.1, shadow=0.2).line(
            pts(0, -0.85, 0.08 * _side(rng), -1.25), _c((90, 60, 30)), 0.1
        )
        if kind != "orange":
            ReliefPainter(img, fr, rng, light, spec=0.1, shadow=0.2).fill(
                ell(0.28, -1.1, 0.25, 0.1, -0.5), _c((70, 150, 50))
            )
    f = sample_face(
        rng,
        ("dot", "oval", "googly", "white", "closed"),
        (3, 2, 3, 1, 1),
        hairs=("none",),
        p_hat=0.08,
        p_glasses=0.08,
        lw=(0.045, 0.07),
    )
    f.ears, f.freckles, f.hair = False, False, "none"
    f.nose = _pick(rng, ("none", "dot", "hook"))
    c = base_colours(rng, col)
    c["ink"] = _jit(rng, _pick(rng, ((20, 20, 25), (30, 30, 120), (25, 25, 25))), 6)
    c["skin_dark"] = _mix(col, (40, 20, 10), 0.4)
    c["lip"] = _mix(col, (180, 30, 50), 0.6)
    pe = (
        ReliefPainter(img, fr, rng, light, k=0.8, spec=0.4, shadow=0.3)
        if f.eye_kind == "googly"
        else None
    )
    fp = Painter(img, fr, rng)
    draw_features(fp, f, c, lambda: mouth(fp, f, c), pe)
    if f.hat != "none":
        draw_hat(fp, f, c)
    return img


def _outdoor(rng: Rng, img: np.ndarray, ground: float) -> None:
    """Sky, sun, clouds, hills, trees, houses and flowers."""
    W = img.shape[0]
    p = Painter(img, Frame.ident(), rng, outline=_c((40, 35, 40)), ow=max(1.0, W / 180))
    img[:] = _gradient(W, _jit(rng, (90, 160, 240), 20), _jit(rng, (200, 230, 250), 10))
    if rng.random() < 0.6:
        p.fill_px(ell(_u(rng, 0, W), _u(rng, 0, 0.25) * W, W * 0.08, W * 0.08), _c((255, 220, 60)))
    for _ in range(int(rng.integers(1, 4))):
        x, y, r = _u(rng, 0, W), _u(rng, 0.05, 0.3) * W, W * _u(rng, 0.04, 0.08)
        for dx in (-1.0, 0.0, 1.0):
            p.fill_px(
                ell(x + dx * r * 1.1, y - (dx == 0) * r * 0.4, r * 1.1, r * 0.8),
                _c((250, 250, 252)),
                edge=False,
            )
    for _ in range(int(rng.integers(1, 3))):
        p.fill_px(
            ell(_u(rng, 0, W), ground + W * 0.05, W * _u(rng, 0.3, 0.6), W * _u(rng, 0.12, 0.25)),
            _jit(rng, (110, 180, 90), 20),
        )
    img[int(ground) :] = _jit(
        rng, _pick(rng, ((100, 175, 80), (200, 180, 140), (150, 150, 150))), 15
    )
    for _ in range(int(rng.integers(1, 5))):
        x, s = _u(rng, 0, W), W * _u(rng, 0.06, 0.14)
        y = ground + _u(rng, -0.02, 0.05) * W
        if rng.random() < 0.5:
            p.fill_px(
                pts(
                    x - s * 0.12,
                    y,
                    x + s * 0.12,
                    y,
                    x + s * 0.1,
                    y - s * 1.2,
                    x - s * 0.1,
                    y - s * 1.2,
                ),
                _c((120, 80, 40)),
            )
            p.fill_px(ell(x, y - s * 1.6, s * 0.7, s * 0.65), _jit(rng, (60, 150, 60), 20))
        else:
            p.fill_px(
                pts(x - s, y, x + s, y, x + s, y - s * 1.2, x - s, y - s * 1.2),
                _jit(rng, _pick(rng, BRIGHT), 20),
            )
            p.fill_px(
                pts(x - s * 1.2, y - s * 1.2, x + s * 1.2, y - s * 1.2, x, y - s * 2.0),
                _jit(rng, (160, 60, 50), 20),
            )
            p.fill_px(
                pts(
                    x - s * 0.25,
                    y,
                    x + s * 0.25,
                    y,
                    x + s * 0.25,
                    y - s * 0.6,
                    x - s * 0.25,
                    y - s * 0.6,
                ),
                _c((90, 60, 40)),
            )
    for _ in range(int(rng.integers(0, 12))):
        x, y = _u(rng, 0, W), _u(rng, ground, W)
        p.fill_px(ell(x, y, W * 0.012, W * 0.012), _jit(rng, _pick(rng, BRIGHT), 30), edge=False)


def _indoor(rng: Rng, img: np.ndarray, ground: float) -> None:
    """A wall with a window and a picture, and a floor."""
    W = img.shape[0]
    p = Painter(img, Frame.ident(), rng, outline=_c((40, 35, 40)), ow=max(1.0, W / 200))
    img[:] = _jit(
        rng, _pick(rng, ((240, 220, 190), (200, 220, 235), (230, 200, 210), (210, 230, 200))), 15
    )
    if rng.random() < 0.5:
        step = W / _u(rng, 6, 14)
        for k in range(int(W / step) + 1):
            cv2.line(
                img,
                (int(k * step), 0),
                (int(k * step), int(ground)),
                tuple(float(v) for v in img[0, 0] * 0.92),
                max(1, W // 60),
            )
    x, y, s = _u(rng, 0.05, 0.7) * W, _u(rng, 0.05, 0.3) * W, _u(rng, 0.15, 0.3) * W
    p.fill_px(
        pts(x, y, x + s, y, x + s, y + s * 0.8, x, y + s * 0.8), _jit(rng, (150, 200, 250), 15)
    )
    p.line(pts(x + s / 2, y, x + s / 2, y + s * 0.8), _c((250, 250, 250)), 3)
    x2 = _u(rng, 0.1, 0.8) * W
    p.fill_px(
        pts(x2, y, x2 + s * 0.6, y, x2 + s * 0.6, y + s * 0.45, x2, y + s * 0.45),
        _jit(rng, _pick(rng, BRIGHT), 30),
    )
    img[int(ground) :] = _jit(
        rng, _pick(rng, ((160, 110, 70), (120, 120, 130), (200, 190, 170))), 15
    )


def s_chibi(rng: Rng, mouth: MouthFn, W: int) -> np.ndarray:
    """A big-headed cartoon character with a small body in a busy scene."""
    img = np.zeros((W, W, 3), F32)
    ground = _u(rng, 0.55, 0.85) * W
    (_outdoor if rng.random() < 0.6 else _indoor)(rng, img, ground)
    R = W * _u(rng, 0.13, 0.25)
    cx = _u(rng, 0.2, 0.8) * W
    cy = min(ground - R * 2.4 + _u(rng, -0.1, 0.2) * W, W - 1.0 * R)
    cy = max(cy, 1.0 * R)
    fr = Frame(cx, cy, R, float(rng.normal(0, 0.15)))
    f = sample_face(
        rng,
        ("anime", "dot", "oval", "closed", "white"),
        (4, 2, 2, 1, 1),
        hairs=("bangs", "cap", "spiky", "long", "bun", "curly"),
        p_hat=0.35,
        p_glasses=0.1,
        lw=(0.04, 0.06),
    )
    f.eye_y = _u(rng, -0.05, 0.08)
    f.mouth_y = _u(rng, 0.45, 0.58)
    f.brow_gap = min(f.brow_gap, 0.12)
    f.blush = bool(rng.random() < 0.5)
    c = base_colours(rng, _jit(rng, _pick(rng, SKIN[:6] + TOON_SKIN[:2]), 6))
    ink = _c((35, 30, 40))
    c["ink"] = ink
    p = Painter(img, fr, rng, outline=ink, ow=_u(rng, 0.035, 0.05))
    Painter(img, fr, rng).fill(ell(0, 2.85, 0.7, 0.12), _c((0, 0, 0)), alpha=0.2)
    draw_person(p, p, f, c, lambda: mouth(p, f, c), "chibi")
    return img


def _bokeh(rng: Rng, W: int) -> np.ndarray:
    """An out-of-focus background: bokeh, plaster, a room or foliage."""
    kind = _pick(rng, ("bokeh", "wall", "room", "leaves"))
    img = _gradient(
        W, _jit(rng, _pick(rng, BRIGHT), 40) * 0.7, _jit(rng, _pick(rng, BRIGHT), 40) * 0.5
    )
    p = Painter(img, Frame.ident(), rng)
    if kind == "bokeh":
        for _ in range(int(rng.integers(10, 30))):
            r = W * _u(rng, 0.03, 0.1)
            p.fill_px(
                ell(_u(rng, 0, W), _u(rng, 0, W), r, r),
                _jit(rng, _pick(rng, NEON), 30),
                edge=False,
                alpha=_u(rng, 0.2, 0.6),
            )
        img[:] = _blur(img, W / 90)
    elif kind == "wall":
        base = _jit(
            rng, _pick(rng, ((200, 195, 185), (150, 170, 190), (190, 160, 140), (90, 90, 95))), 15
        )
        img[:] = base * (0.8 + 0.35 * _fbm(rng, W, W, max(2, W // 16), 4))[..., None]
    elif kind == "room":
        for _ in range(int(rng.integers(5, 12))):
            x, y = _u(rng, -0.1, 1) * W, _u(rng, -0.1, 1) * W
            w, h = W * _u(rng, 0.1, 0.5), W * _u(rng, 0.1, 0.6)
            p.fill_px(
                pts(x, y, x + w, y, x + w, y + h, x, y + h),
                _jit(rng, _pick(rng, BRIGHT), 40) * 0.8,
                edge=False,
            )
        img[:] = _blur(img, W / 60)
    else:
        for _ in range(int(rng.integers(20, 50))):
            r = W * _u(rng, 0.03, 0.09)
            p.fill_px(
                ell(_u(rng, 0, W), _u(rng, 0, W), r, r * 0.6, _u(rng, 0, 3)),
                _jit(rng, (70, 130, 60), 35),
                edge=False,
            )
        img[:] = _blur(img, W / 70)
    return img


def s_photo(rng: Rng, mouth: MouthFn, W: int) -> np.ndarray:
    """A photographic-ish head and shoulders."""
    img = _bokeh(rng, W)
    fr = place(rng, W, (0.4, 0.45, 0.0, 0.15), rot=0.1, cy0=0.42)
    light = (_u(rng, -0.9, 0.9), _u(rng, -0.8, -0.1))
    f = sample_face(
        rng,
        ("real", "real", "white", "closed"),
        hairs=("none", "cap", "long", "bun", "curly", "bangs"),
        hats=("beanie", "cap", "top", "beret"),
        p_hat=0.15,
        p_glasses=0.25,
        lw=(0.035, 0.05),
    )
    f.eye_r = _u(rng, 0.08, 0.11)
    f.nose = _pick(rng, ("shade", "hook", "dot"))
    f.brow = True
    f.brow_w = _u(rng, 0.045, 0.07)
    skin = _jit(rng, _pick(rng, SKIN), 8)
    c = base_colours(rng, skin)
    c["ink"] = _mix(skin, (25, 12, 10), 0.75)
    c["brow"] = _mix(c["hair"], (20, 10, 5), 0.3)
    c["mouth_dark"] = _mix(skin, (40, 5, 10), 0.8)
    c["cloth"] = _jit(rng, _pick(rng, BRIGHT), 25) * 0.85
    soft = ReliefPainter(img, fr, rng, light, k=0.45, spec=0.06, shadow=0.15, amb=0.55, rnd=1.0)
    feat = Painter(img, fr, rng)
    draw_person(
        soft, feat, f, c, lambda: mouth(feat, f, c), _pick(rng, ("shoulders", "shoulders", "none"))
    )
    img[:] = _blur(img, W / 300)
    g = np.linspace(_u(rng, 0.75, 1.05), _u(rng, 0.9, 1.15), W, dtype=F32)
    img *= (g[None, :] if rng.random() < 0.5 else g[::-1][None, :])[..., None]
    _vignette(img, _u(rng, 0.0, 0.5))
    return img


def _doodle(rng: Rng, p: Painter, W: int, box: tuple[float, float, float, float]) -> None:
    """One whiteboard doodle away from the face."""
    kind = _pick(rng, ("box", "arrow", "text", "circle", "chart", "star"))
    x, y, s = _u(rng, 0, W), _u(rng, 0, W), W * _u(rng, 0.08, 0.2)
    col = _pick(rng, ((25, 25, 30), (30, 60, 180), (190, 30, 40), (30, 130, 60)))
    col = _jit(rng, col, 10)
    t = max(1.5, W / 130)
    if _overlaps(box, x, y, s):
        return
    if kind == "box":
        p.line(
            pts(x - s, y - s * 0.6, x + s, y - s * 0.6, x + s, y + s * 0.6, x - s, y + s * 0.6),
            col,
            t,
            closed=True,
        )
    elif kind == "arrow":
        a = _u(rng, 0, TAU)
        ex, ey = x + s * math.cos(a), y + s * math.sin(a)
        p.line(pts(x - s * math.cos(a), y - s * math.sin(a), ex, ey), col, t)
        p.line(
            pts(
                ex - 0.4 * s * math.cos(a - 0.5),
                ey - 0.4 * s * math.sin(a - 0.5),
                ex,
                ey,
                ex - 0.4 * s * math.cos(a + 0.5),
                ey - 0.4 * s * math.sin(a + 0.5),
            ),
            col,
            t,
        )
    elif kind == "text":
        for k in range(int(rng.integers(1, 4))):
            xs = np.linspace(x - s, x + s * _u(rng, 0.2, 1.0), 30)
            p.line(
                np.stack(
                    [xs, y + k * s * 0.45 + s * 0.12 * np.sin(xs * _u(rng, 0.3, 0.6) * 256 / W)], 1
                ),
                col,
                t * 0.8,
            )
    elif kind == "circle":
        p.line(ell(x, y, s, s * _u(rng, 0.6, 1.0), 0, 30), col, t, closed=True)
    elif kind == "chart":
        p.line(pts(x - s, y - s, x - s, y + s, x + s, y + s), col, t)
        p.line(
            np.stack([np.linspace(x - s, x + s, 6), y + s - rng.uniform(0, 2 * s, 6)], 1), col, t
        )
    else:
        a = np.linspace(0, TAU * 2, 6)
        p.line(np.stack([x + s * np.sin(a), y - s * np.cos(a)], 1), col, t)


def s_whiteboard(rng: Rng, mouth: MouthFn, W: int) -> np.ndarray:
    """A marker stick figure on a whiteboard among other doodles."""
    img = _canvas(W, _jit(rng, (242, 243, 240), 4))
    yy, xx = np.mgrid[0:W, 0:W].astype(F32) / W
    gx, gy = _u(rng, 0, 1), _u(rng, 0, 1)
    img += (14 * np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / 0.08))[..., None]
    smudge = _fbm(rng, W, W, max(2, W // 10), 3)
    img -= (np.clip(smudge - 0.55, 0, 1) * 60)[..., None]
    streak = cv2.resize(_fbm(rng, W, 16, 2, 1), (W, W))
    fr = place(
        rng,
        W,
        (0.05, 0.4, 0.45, 0.1),
        rot=0.15,
        sizes=((0.25, 0.3), (0.16, 0.22), (0.14, 0.18), (0.3, 0.4)),
        cy0=0.35,
    )
    box = _face_box(fr, 1.3)
    bg = MarkerPainter(img, Frame.ident(), rng, streak)
    for _ in range(int(rng.integers(1, 6))):
        _doodle(rng, bg, W, box)
    ink = _jit(rng, _pick(rng, ((25, 25, 30), (30, 60, 180), (190, 30, 40), (30, 130, 60))), 10)
    f = sample_face(
        rng,
        ("dot", "oval", "closed"),
        (4, 1, 1),
        hairs=("none", "spiky", "curly", "cap"),
        hats=("top", "party", "cap"),
        p_hat=0.2,
        p_glasses=0.1,
        lw=(0.07, 0.1),
    )
    f.ears = f.blush = f.freckles = False
    f.nose = _pick(rng, ("none", "hook", "dot"))
    c = base_colours(rng, _c((243, 243, 240)))
    for key in c:
        if key not in ("skin", "white", "sclera"):
            c[key] = ink
    c["skin"] = ink
    c["sclera"] = c["white"] = _c((243, 243, 240))
    p = MarkerPainter(img, fr, rng, streak)
    draw_person(p, p, f, c, lambda: mouth(p, f, c), _pick(rng, ("stick", "stick", "none")))
    if rng.random() < 0.3:
        side = int(rng.integers(4))
        band = int(W * _u(rng, 0.03, 0.06))
        sl = [np.s_[:band], np.s_[-band:]][side % 2]
        metal = _c((175, 178, 185))
        if side < 2:
            img[sl] = metal
        else:
            img[:, sl] = metal
    if rng.random() < 0.5:
        q = W * 0.08
        src = np.float32([[0, 0], [W, 0], [W, W], [0, W]])
        dst = (src + rng.uniform(-q, q, (4, 2))).astype(np.float32)
        img = cv2.warpPerspective(
            img, cv2.getPerspectiveTransform(src, dst), (W, W), borderMode=cv2.BORDER_REPLICATE
        )
    return img


def s_cross_stitch(rng: Rng, mouth: MouthFn, W: int) -> np.ndarray:
    """An embroidered cross-stitch face on cloth, often in a wooden hoop."""
    N = int(rng.integers(28, 42))
    cp = max(2, W // N)
    N = min(N, W // cp)
    S = N * cp
    small = np.zeros((N, N, 3), F32)
    cov = np.zeros((N, N), F32)
    R = N * _u(rng, 0.3, 0.4)
    fr = Frame(
        N / 2 + _u(rng, -0.06, 0.06) * N,
        N * (0.47 + _u(rng, -0.05, 0.05)),
        R,
        float(rng.normal(0, 0.1)),
    )
    f = sample_face(
        rng,
        ("dot", "white", "oval"),
        (3, 2, 1),
        hairs=("none", "cap", "bangs", "spiky", "long"),
        hats=("beanie", "party", "top"),
        p_hat=0.15,
        p_glasses=0.08,
        lw=(0.6 / R, 0.9 / R),
    )
    f.eye_r = max(f.eye_r, 1.6 / R)
    f.freckles = False
    f.nose = _pick(rng, ("none", "dot", "button"))
    c = base_colours(rng, _jit(rng, _pick(rng, SKIN + TOON_SKIN), 6))
    c["ink"] = _jit(rng, _pick(rng, ((30, 25, 30), (120, 30, 40), (30, 40, 110))), 6)
    p = Painter(small, fr, rng, aa=False, cov=cov)
    draw_person(p, p, f, c, lambda: mouth(p, f, c), _pick(rng, ("shoulders", "none")))
    fabric = _jit(
        rng,
        _pick(
            rng, ((245, 242, 232), (236, 228, 210), (250, 250, 250), (220, 232, 245), (45, 45, 52))
        ),
        5,
    )
    out = _canvas(W, fabric)
    yy, xx = np.mgrid[0:W, 0:W]
    holes = ((xx % cp) == 0) & ((yy % cp) == 0)
    out[holes] *= 0.75
    out *= (0.92 + 0.12 * _fbm(rng, W, W, 2, 1))[..., None]
    t = np.zeros((cp * 4, cp * 4), np.uint8)
    th = max(2, cp)
    cv2.line(t, (2, 2), (cp * 4 - 3, cp * 4 - 3), 255, th, cv2.LINE_AA)
    cv2.line(t, (cp * 4 - 3, 2), (2, cp * 4 - 3), 255, th, cv2.LINE_AA)
    tile = cv2.resize(t, (cp, cp), interpolation=cv2.INTER_AREA).astype(F32) / 255
    a = np.tile(tile, (N, N)) * np.repeat(np.repeat(cov > 0.5, cp, 0), cp, 1)
    col = (
        np.repeat(np.repeat(small, cp, 0), cp, 1) * (0.8 + 0.25 * np.tile(tile, (N, N)))[..., None]
    )
    o = (W - S) // 2
    reg = out[o : o + S, o : o + S]
    reg += (col - reg) * a[..., None]
    if rng.random() < 0.6:
        table = _jit(
            rng, _pick(rng, ((150, 100, 60), (200, 180, 150), (90, 90, 100), (230, 230, 230))), 15
        )
        rr = W * _u(rng, 0.47, 0.56)
        dist = np.hypot(xx - W / 2, yy - W / 2)
        out[dist > rr] = table * (0.85 + 0.2 * _fbm(rng, W, W, 8, 2))[dist > rr][..., None]
        ring = (dist > rr - W * 0.035) & (dist <= rr)
        out[ring] = (
            _jit(rng, (200, 160, 110), 10) * (0.8 + 0.3 * ((yy[ring] - W / 2) < 0))[..., None]
        )
    return out


def s_paper_cut(rng: Rng, mouth: MouthFn, W: int) -> np.ndarray:
    """A paper-cut collage with torn coloured layers and drop shadows."""
    grain = _fbm(rng, W, W, 2, 2)
    img = _canvas(
        W,
        _jit(
            rng, _pick(rng, ((200, 170, 120), (235, 230, 220), (60, 70, 90), (170, 200, 220))), 15
        ),
    )
    img *= (0.92 + 0.1 * grain)[..., None]
    off = (W * _u(rng, -0.012, 0.012), W * _u(rng, 0.005, 0.018))
    bg = PaperPainter(img, Frame.ident(), rng, off, grain)
    for _ in range(int(rng.integers(2, 7))):
        bg.fill_px(
            blob(rng, _u(rng, 0, W), _u(rng, 0, W), W * _u(rng, 0.12, 0.35), 10, 0.3),
            _jit(rng, _pick(rng, BRIGHT), 30),
        )
    if rng.random() < 0.4:
        x, y, s = _u(rng, -0.1, 0.6) * W, _u(rng, -0.1, 0.6) * W, W * _u(rng, 0.3, 0.5)
        bg.fill_px(
            pts(x, y, x + s, y + s * 0.1, x + s * 0.95, y + s, x - s * 0.05, y + s * 0.9),
            _c((228, 226, 218)),
        )
        for k in range(8):
            yy = y + s * (0.12 + 0.1 * k)
            cv2.line(
                img,
                (int(x + s * 0.08), int(yy)),
                (int(x + s * 0.85), int(yy + s * 0.06)),
                (120, 120, 120),
                max(1, W // 128),
            )
    fr = place(rng, W, (0.3, 0.45, 0.1, 0.15))
    f = sample_face(
        rng,
        ("dot", "white", "oval", "closed"),
        hairs=("none", "cap", "bangs", "long", "spiky", "bun"),
        p_hat=0.3,
        lw=(0.05, 0.08),
    )
    c = base_colours(rng, _jit(rng, _pick(rng, SKIN + TOON_SKIN), 8))
    c["ink"] = _jit(rng, (30, 25, 35), 6)
    p = PaperPainter(img, fr, rng, off, grain)
    draw_person(p, p, f, c, lambda: mouth(p, f, c), _pick(rng, ("shoulders", "none")))
    return img


STYLE_FUNCS: dict[str, Callable[[Rng, MouthFn, int], np.ndarray]] = {
    "watercolour": s_watercolour,
    "comic": s_comic,
    "clay": s_clay,
    "neon": s_neon,
    "object": s_object,
    "chibi": s_chibi,
    "photo": s_photo,
    "whiteboard": s_whiteboard,
    "cross_stitch": s_cross_stitch,
    "paper_cut": s_paper_cut,
}
NO_CONTRAST = ("neon", "whiteboard", "watercolour")  # glow, outline-only, multiply
MOUTH_KINDS: dict[str, dict[str, str]] = {
    "cross_stitch": {"lips": "line", "ticks": "line"},
    "whiteboard": {"lips": "line"},
    "neon": {"lips": "line"},
}


# ---------------------------------------------------------------- rendering and output
def render(
    ss: np.random.SeedSequence, sign: int, size: int, style: str | None = None
) -> tuple[np.ndarray, str, int]:
    """Render one RGB image (``style`` forces a style, for inspection only).

    Returns (uint8 array, file extension, JPEG quality).
    """
    scene_ss, mouth_ss = ss.spawn(2)
    rng, mr = np.random.default_rng(scene_ss), np.random.default_rng(mouth_ss)
    m = sample_mouth(mr)
    W = max(2 * size, 96)
    picked = _pick(rng, STYLES)
    style = style or picked
    kinds = MOUTH_KINDS.get(style)
    scale = W / size

    def mouth(p: Painter, f: Face, c: dict[str, Col]) -> None:
        lo = (2.3, 4.5, 1.0) if style == "cross_stitch" else (2.2 * scale, 5.5 * scale, 1.6 * scale)
        surface = 0.75 if style in ("clay", "object", "photo") else 1.0
        draw_mouth(p, f, m, sign, c, *lo, kinds, style != "neon", style not in NO_CONTRAST, surface)

    img = STYLE_FUNCS[style](rng, mouth, W)
    return _finish(rng, img, size)


def _finish(rng: Rng, img: np.ndarray, size: int) -> tuple[np.ndarray, str, int]:
    """Resize and degrade (label-blind, local operations only) and pick a file format."""
    out = cv2.resize(np.clip(img, 0, 255), (size, size), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.15:
        out = cv2.GaussianBlur(out, (0, 0), _u(rng, 0.4, 0.8))
    if rng.random() < 0.1:
        k = _u(rng, 0.6, 0.8)
        small = cv2.resize(out, (max(8, int(size * k)),) * 2, interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (size, size), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        gain = _jit(rng, (1.0, 1.0, 1.0), 0.06) * _u(rng, 0.8, 1.15)
        gamma = _u(rng, 0.8, 1.25)
        out = 255.0 * (np.clip(out * gain, 0, 255) / 255.0) ** gamma + _u(rng, -15, 15)
    if rng.random() < 0.3:
        out = out + rng.normal(0, _u(rng, 2, 8), out.shape)
    if rng.random() < 0.07:
        out[:] = (out @ np.array([0.299, 0.587, 0.114]))[..., None]
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.1:
        ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 55))])
        if ok:
            out = cv2.imdecode(enc, cv2.IMREAD_UNCHANGED)
    jpeg = rng.random() < 0.45
    return out, ("jpg" if jpeg else "png"), int(rng.integers(45, 96))


def _marker(per_class: int, image_size: int, seed: int) -> dict[str, object]:
    """The marker contents identifying a set."""
    return {
        "generator": GENERATOR,
        "version": VERSION,
        "per_class": per_class,
        "image_size": image_size,
        "seed": seed,
    }


def _holds_set(out: Path, marker: dict[str, object]) -> bool:
    """Whether ``out`` already holds exactly this set."""
    try:
        found = json.loads((out / MARKER).read_text())
    except (OSError, ValueError):
        return False
    if found != marker:
        return False
    return all(
        (out / cls).is_dir()
        and sum(1 for q in (out / cls).iterdir() if q.suffix in (".png", ".jpg"))
        == marker["per_class"]
        for cls in CLASSES
    )


def generate(out: Path, per_class: int, image_size: int, seed: int) -> Path:
    """Write the fresh happy/sad set into ``out`` (atomically) and return ``out``."""
    if per_class < 1 or image_size < 32 or seed < 0:
        raise ValueError("need per_class >= 1, image_size >= 32 and seed >= 0")
    out = Path(out)
    marker = _marker(per_class, image_size, seed)
    if out.exists():
        if out.is_dir() and _holds_set(out, marker):
            return out
        if not out.is_dir() or any(out.iterdir()):
            raise FileExistsError(f"{out} exists and does not hold this fresh-faces set")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for ci, cls in enumerate(CLASSES):
            (tmp / cls).mkdir()
            sign = 1 if cls == "happy" else -1
            for i in range(per_class):
                arr, ext, quality = render(np.random.SeedSequence([seed, ci, i]), sign, image_size)
                im = Image.fromarray(arr)
                if ext == "jpg":
                    im.save(tmp / cls / f"{i:05d}.jpg", "JPEG", quality=quality)
                else:
                    im.save(tmp / cls / f"{i:05d}.png", "PNG")
        (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        os.chmod(tmp, 0o755)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out", type=Path, required=True, help="output folder (must not exist or be empty)"
    )
    ap.add_argument("--per-class", type=int, default=200, help="images per class")
    ap.add_argument("--image-size", type=int, default=128, help="square image size in pixels")
    ap.add_argument("--seed", type=int, default=0, help="random seed")
    args = ap.parse_args(argv)
    try:
        path = generate(args.out, args.per_class, args.image_size, args.seed)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
