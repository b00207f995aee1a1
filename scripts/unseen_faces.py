"""Unseen faces: a fifth, independent happy/sad face generator (report only).

Written from a short written description of the task alone (a happy face's mouth
corners turn up, a sad face's turn down, and nothing else may depend on the
label), without reading any of the project's other image generators.

Every image is seeded from (seed, class index, image index). Its SeedSequence is
spawned into a "scene" stream (style, head, eyes, brows, hair, hat, tears, blush,
background, position, tilt, post-processing, degradations, file format) and a
"mouth" stream (mouth kind, width, bend, thickness, position). Neither stream
sees the label: the label only flips the sign of the mouth's bend, so a happy and
a sad image rendered from the same SeedSequence differ only around the mouth.

Eight styles: glossy 3-D emoji, anime, children's crayon drawing, pixel-art
sprite, flat vector avatar badge, photo-like portrait, whiteboard marker doodle
and woodcut print. About 15% of mouths are small, faint or only slightly bent,
but always correctly signed.

This is a held-out report set: use it only to report how a trained model
generalises, and never tune a default, threshold or augmentation on it.

Usage: python scripts/unseen_faces.py --out data/unseen_faces --per-class 200
"""

from __future__ import annotations

import argparse
import colorsys
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

CLASSES = ("happy", "sad")
VERSION = 1
MARKER = "UNSEEN_FACES.json"

STYLES = ("glossy", "anime", "crayon", "pixel", "badge", "photo", "marker", "woodcut")
MOUTHS = ("arc", "wobbly", "open", "dee", "grin", "lips")
MOUTH_P = (0.22, 0.1, 0.18, 0.16, 0.14, 0.2)
TAU = 2.0 * math.pi

Rng = np.random.Generator
Arr = np.ndarray
Look = dict[str, Any]


def _hexes(text: str) -> Arr:
    """RGB colours (float32, 0-1) from space-separated hex triplets."""
    return (
        np.array([[int(h[i : i + 2], 16) for i in (0, 2, 4)] for h in text.split()], np.float32)
        / 255
    )


SKIN = _hexes("ffe2c8 f6d0b2 ecbc98 d8a07a c08662 a46e4e 885a3e")
HAIR = _hexes("1c1818 422a1c 704a2a c49c5c e8d296 a44220 969696")
WHITE = np.array([1.0, 1.0, 1.0], np.float32)
DARK = np.array([0.08, 0.06, 0.06], np.float32)


# ----------------------------------------------------------------- small helpers
def _hsv(h: float, s: float, v: float) -> Arr:
    """An RGB colour (float32, 0-1) from hue, saturation and value."""
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v), np.float32)


def _lum(c: Arr) -> float:
    """Relative luminance of an RGB colour."""
    return float(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2])


def _pick(rng: Rng, weights: dict[str, float]) -> str:
    """One key of `weights`, drawn with probability proportional to its value."""
    keys = list(weights)
    p = np.array([weights[k] for k in keys], np.float64)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _colour(rng: Rng, s_max: float = 0.8) -> Arr:
    """A random background-ish colour."""
    return _hsv(rng.uniform(), rng.uniform(0.0, s_max), rng.uniform(0.25, 1.0))


def _ellipse(
    x: float, y: float, rx: float, ry: float = 0, a0: float = 0, a1: float = TAU, n: int = 40
) -> Arr:
    """Points on an ellipse arc (ry 0 means a circle; angles in radians, y down)."""
    t = np.linspace(a0, a1, n)
    ry = ry or rx
    return np.stack([x + rx * np.cos(t), y + ry * np.sin(t)], 1)


def _head(e: float, chin: float, t: Arr) -> Arr:
    """Superellipse head outline (exponent e) whose lower half narrows into a chin."""
    c, s = np.cos(t), np.sin(t)
    u = np.sign(c) * np.abs(c) ** (2.0 / e)
    v = np.sign(s) * np.abs(s) ** (2.0 / e)
    return np.stack([u * (1.0 - chin * np.clip(v, 0.0, None) ** 2), v], 1)


def _drop(x: float, y: float, r: float) -> Arr:
    """A tear or sweat drop: round bottom, pointed top."""
    arc = _ellipse(x, y, r, r, -0.15 * math.pi, 1.15 * math.pi, 24)
    return np.vstack([arc, [[x, y - 2.3 * r]]])


class Frame:
    """Maps face units (head radius 1, y down) to layer pixels."""

    def __init__(self, cx: float, cy: float, r: float, ax: float, ay: float) -> None:
        self.cx, self.cy, self.r, self.ax, self.ay = cx, cy, r, ax, ay

    def px(self, pts: Any) -> Arr:
        """Face units to pixels."""
        p, r = np.asarray(pts, np.float64), self.r
        return np.stack([self.cx + p[..., 0] * r * self.ax, self.cy + p[..., 1] * r * self.ay], -1)

    def grid(self, size: int) -> tuple[Arr, Arr]:
        """Face coordinates (U, V) of every layer pixel."""
        g = np.arange(size, dtype=np.float32)
        u = (g - self.cx) / (self.r * self.ax)
        v = (g - self.cy) / (self.r * self.ay)
        return np.meshgrid(u, v)


class Pen:
    """Paints shapes into a premultiplied RGBA float layer in one drawing style."""

    def __init__(self, size: int, kind: str, aa: bool, soft: float, texture: Arr | None) -> None:
        self.size, self.kind, self.aa, self.soft, self.texture = size, kind, aa, soft, texture
        self.layer = np.zeros((size, size, 4), np.float32)
        self.rng: Rng | None = None

    def _wobble(self, pts: Arr, amount: float) -> Arr:
        """Hand-drawn jitter: a slow drift plus a little per-point noise."""
        assert self.rng is not None
        n = len(pts)
        anchors = self.rng.normal(0.0, amount, (5, 2))
        idx = np.linspace(0, 4, n)
        drift = np.stack([np.interp(idx, np.arange(5), anchors[:, k]) for k in range(2)], 1)
        return pts + drift + self.rng.normal(0.0, amount * 0.2, pts.shape)

    def _mask(
        self, polys: list[Arr], width: float, fill: bool, closed: bool, soft: float
    ) -> tuple[Arr, tuple[slice, slice]]:
        allp = np.concatenate(polys)
        pad = width / 2 + 3 * soft + 3
        x0, y0 = np.clip(np.floor(allp.min(0) - pad).astype(int), 0, self.size)
        x1, y1 = np.clip(np.ceil(allp.max(0) + pad).astype(int) + 1, 0, self.size)
        if x1 - x0 < 1 or y1 - y0 < 1:  # off the layer: paint nothing
            return np.zeros((0, 0), np.float32), (slice(0, 0), slice(0, 0))
        m = np.zeros((y1 - y0, x1 - x0), np.uint8)
        qs = [np.round((p - (x0, y0)) * 16).astype(np.int32).reshape(-1, 1, 2) for p in polys]
        line = cv2.LINE_AA if self.aa else cv2.LINE_8
        if fill:
            cv2.fillPoly(m, qs, 255, line, shift=4)
        if width > 0:
            cv2.polylines(m, qs, closed, 255, max(1, round(width)), line, shift=4)
        f = m.astype(np.float32) / 255.0
        if soft > 0:
            f = cv2.GaussianBlur(f, (0, 0), soft)
        return f, (slice(y0, y1), slice(x0, x1))

    def _paint(self, m: Arr, sl: tuple[slice, slice], colour: Arr) -> None:
        lay = self.layer[sl]
        a = m[..., None]
        lay[..., :3] = lay[..., :3] * (1 - a) + a * colour
        lay[..., 3:] = lay[..., 3:] * (1 - a) + a

    def fill(
        self, pts: Arr, colour: Arr, alpha: float = 1, soft: float = -1, field: Arr | None = None
    ) -> None:
        """Fill a closed polygon (pixels) with a colour or a per-pixel colour field."""
        if self.kind == "crayon":
            pts = self._wobble(pts, 0.02 * float(np.ptp(pts, 0).max()))  # colouring-in slop
        m, sl = self._mask([pts], 0, True, True, self.soft if soft < 0 else soft)
        if self.texture is not None:
            m = m * self.texture[sl]
        self._paint(m * alpha, sl, colour if field is None else field[sl])

    def stroke(
        self, pts: Arr, colour: Arr, width: float, closed: bool = False, alpha: float = 1.0
    ) -> None:
        """Stroke a polyline (pixels) of the given width."""
        polys = [pts]
        if self.kind == "crayon":
            polys = [self._wobble(pts, 0.12 * width + 0.4), self._wobble(pts, 0.12 * width + 0.4)]
            width *= 0.8
        elif self.kind == "marker":
            polys = [self._wobble(pts, 0.12 * width)]
            alpha *= 0.92
        m, sl = self._mask(polys, width, False, closed, self.soft)
        if self.texture is not None:
            m = m * self.texture[sl] ** 0.5
        self._paint(m * alpha, sl, colour)

    def clip_circle(self, cx: float, cy: float, r: float) -> None:
        """Keep only what lies inside a circle."""
        m = np.zeros((self.size, self.size), np.uint8)
        q = np.round(_ellipse(cx, cy, r, r, n=120) * 16).astype(np.int32).reshape(-1, 1, 2)
        cv2.fillPoly(m, [q], 255, cv2.LINE_AA, shift=4)
        self.layer *= (m.astype(np.float32) / 255.0)[..., None]


# ---------------------------------------------------------------- scene choices
def _look(style: str, rng: Rng) -> Look:
    """Colours, proportions and feature probabilities of one face (scene stream)."""
    human = np.clip(SKIN[int(rng.integers(len(SKIN)))] * rng.uniform(0.95, 1.04), 0, 1)
    pale = SKIN[int(rng.integers(3))]
    fantasy = _hsv(rng.uniform(), rng.uniform(0.3, 0.7), rng.uniform(0.7, 1.0))
    yellow = _hsv(rng.uniform(0.11, 0.15), rng.uniform(0.7, 0.95), rng.uniform(0.93, 1.0))
    hair = HAIR[int(rng.integers(len(HAIR)))]
    if rng.uniform() < 0.25:
        hair = _hsv(rng.uniform(), rng.uniform(0.4, 0.9), rng.uniform(0.35, 0.9))
    u = rng.uniform()
    lk: Look = {"skin": human, "ink": DARK * rng.uniform(0.6, 1.6)}
    lk.update(inside=np.array([0.36, 0.07, 0.09], np.float32) * rng.uniform(0.7, 1.1))
    lk.update(teeth=np.array([0.98, 0.97, 0.94], np.float32), lip=None, hair=hair)
    lk.update(iris=_hsv(rng.uniform(0.0, 0.7), rng.uniform(0.4, 0.9), rng.uniform(0.3, 0.8)))
    lk.update(lw=rng.uniform(0.05, 0.075), mouth_lw=rng.uniform(0.055, 0.08))
    lk.update(outline=0.0, outline_col=DARK, hair_p=0.5, hair_mode="fill", pen="clean", soft=0.0)
    lk.update(eyes={"dot": 0.3, "oval": 0.3, "ring": 0.2, "arc": 0.12, "line": 0.08})
    lk.update(hair_kinds={"cap": 0.35, "spiky": 0.25, "bangs": 0.2, "long": 0.12, "bun": 0.08})
    lk.update(hat_p=0.12, glasses_p=0.1, body_p=0.0, ears_p=0.3, nose_p=0.4)
    lk.update(brow_p=0.4, blush_p=0.25, tear_p=0.15, sweat_p=0.1, k=1.08, reach=1.8)
    lk.update(mouth_w=1.0, mouth_r=1.0, mouth_y=(0.3, 0.68), eye_ey=(-0.3, -0.06))
    if style == "glossy":
        lk.update(skin=yellow if u < 0.6 else fantasy, lw=rng.uniform(0.06, 0.09))
        lk.update(ink=np.array([0.32, 0.17, 0.06], np.float32) * rng.uniform(0.5, 1.0))
        lk.update(eyes={"oval": 0.5, "dot": 0.15, "arc": 0.15, "ring": 0.2}, hair_p=0.1)
        lk.update(tear_p=0.25, sweat_p=0.15, blush_p=0.35, nose_p=0.05, brow_p=0.3, ears_p=0.0)
        lk.update(mouth_lw=rng.uniform(0.065, 0.09))
        if rng.uniform() < 0.35:
            lk.update(outline=rng.uniform(0.02, 0.035), outline_col=lk["skin"] * 0.55)
    elif style == "anime":
        lk.update(skin=pale if u < 0.85 else fantasy, eyes={"anime": 1.0}, hair_p=0.95)
        lk.update(hair_kinds={"spiky": 0.45, "bangs": 0.35, "long": 0.2})
        lk.update(lw=rng.uniform(0.03, 0.045))
        lk.update(mouth_w=0.5, mouth_r=1.35, mouth_y=(0.5, 0.7), mouth_lw=rng.uniform(0.04, 0.055))
        lk.update(outline=rng.uniform(0.018, 0.03), outline_col=np.array([0.35, 0.2, 0.18]))
        lk.update(nose_p=0.5, brow_p=0.85, blush_p=0.45, body_p=0.35, k=1.15, reach=2.6)
        lk.update(eye_ey=(-0.04, 0.1), ink=np.array([0.22, 0.1, 0.1], np.float32))
        lk["inside"] = np.array([0.55, 0.14, 0.2], np.float32)
    elif style == "crayon":
        crayons = [yellow, fantasy, pale, _hsv(rng.uniform(), 0.8, 0.95)]
        skin = crayons[int(rng.integers(4))]
        skin = skin if _lum(skin) > 0.55 else 0.45 * skin + 0.55  # children colour faces lightly
        lk.update(skin=skin, pen="crayon", lw=rng.uniform(0.06, 0.09))
        lk.update(ink=_hsv(rng.uniform(), rng.uniform(0.5, 1.0), rng.uniform(0.15, 0.4)))
        lk.update(outline=rng.uniform(0.05, 0.08), mouth_lw=rng.uniform(0.07, 0.1), ears_p=0.25)
        lk.update(hair_kinds={"strands": 0.5, "spiky": 0.25, "cap": 0.25}, hair_p=0.6)
        lk["outline_col"] = lk["ink"] if rng.uniform() < 0.6 else _hsv(rng.uniform(), 0.8, 0.5)
    elif style == "pixel":
        lk.update(skin=[yellow, human, fantasy][int(rng.integers(3))], outline=0.01)
        lk.update(eyes={"dot": 0.45, "oval": 0.4, "line": 0.15}, mouth_w=1.15, mouth_r=1.1)
        lk.update(glasses_p=0.08, nose_p=0.0, brow_p=0.15, ears_p=0.2, k=1.0)
    elif style == "badge":
        lk.update(skin=human if u < 0.8 else fantasy, body_p=1.0, k=1.9, reach=2.6, hair_p=0.8)
        lk.update(eyes={"dot": 0.4, "oval": 0.3, "arc": 0.2, "line": 0.1}, ears_p=0.6)
        lk["badge"] = _hsv(rng.uniform(), rng.uniform(0.2, 0.7), rng.uniform(0.55, 0.95))
    elif style == "photo":
        lip = human * np.array([1.0, 0.66, 0.66], np.float32) * rng.uniform(0.62, 0.8)
        lk.update(skin=human if u < 0.9 else fantasy, eyes={"ring": 1.0}, lip=lip, soft=0.7)
        lk.update(ink=np.array([0.25, 0.12, 0.1], np.float32), lw=rng.uniform(0.035, 0.05))
        lk.update(mouth_lw=rng.uniform(0.04, 0.055), brow_p=0.9, nose_p=1.0, body_p=0.6)
        lk.update(hair_kinds={"cap": 0.4, "long": 0.35, "bun": 0.1, "bangs": 0.15}, hair_p=0.85)
        lk.update(k=1.12, reach=3.4, mouth_y=(0.4, 0.7), ears_p=0.7, tear_p=0.08, sweat_p=0.05)
        lk.update(inside=np.array([0.22, 0.05, 0.06], np.float32))
        lk.update(teeth=np.array([0.9, 0.88, 0.82], np.float32))
    elif style == "marker":
        pens = [(0.08, 0.08, 0.1), (0.1, 0.2, 0.7), (0.75, 0.1, 0.12), (0.1, 0.5, 0.2)]
        ink = np.array(pens[int(rng.integers(4))], np.float32)
        lk.update(ink=ink, pen="marker", outline=rng.uniform(0.05, 0.08), outline_col=ink)
        lk.update(lw=rng.uniform(0.06, 0.085), mouth_lw=rng.uniform(0.065, 0.09), inside=ink)
        lk.update(hair_mode="stroke", hair_kinds={"strands": 0.5, "cap": 0.25, "spiky": 0.25})
        lk.update(skin=np.array([0.95, 0.95, 0.95], np.float32), hair=ink, blush_p=0.1, ears_p=0.35)
        lk.update(eyes={"dot": 0.35, "ring": 0.25, "oval": 0.2, "arc": 0.2}, teeth=WHITE * 0.96)
    elif style == "woodcut":
        paper, ink = np.array([0.95, 0.94, 0.9], np.float32), np.array([0.05, 0.05, 0.05])
        lk.update(skin=paper, ink=ink, inside=ink, teeth=paper, hair=ink, outline_col=ink)
        lk.update(outline=rng.uniform(0.06, 0.09), lw=rng.uniform(0.06, 0.09), blush_p=0.0)
        lk.update(mouth_lw=rng.uniform(0.07, 0.1), eyes={"oval": 0.4, "ring": 0.3, "dot": 0.3})
    if abs(_lum(lk["ink"]) - _lum(lk["skin"])) < 0.4:  # keep features readable on any skin
        lk["ink"] = DARK if _lum(lk["skin"]) > 0.45 else WHITE * 0.95
    if abs(_lum(lk["inside"]) - _lum(lk["skin"])) < 0.25:
        lk["inside"] = DARK if _lum(lk["skin"]) > 0.4 else np.array([0.9, 0.4, 0.45], np.float32)
    return lk


def _hair(rng: Rng, kind: str, e: float, chin: float, anime: bool) -> tuple[list, list]:
    """Back and front hair polygons (or polylines for "strands") in face units."""
    back: list[Arr] = []
    front: list[Arr] = []
    side_y = rng.uniform(-0.25, 0.15)
    top_y = rng.uniform(-0.75, -0.6) if anime else rng.uniform(-0.8, -0.55)
    grow = rng.uniform(1.04, 1.12)
    nb = int(rng.integers(3, 8))
    depth = rng.uniform(0.1, 0.22) if anime else rng.uniform(0.04, 0.1)
    yb = rng.uniform(0.4, 1.3)
    if kind == "none":
        return back, front
    if kind == "strands":
        for t in np.linspace(math.pi + 0.35, TAU - 0.35, int(rng.integers(7, 16))):
            p0 = _head(e, chin, np.array([t]))[0] * 0.97
            p1 = p0 * rng.uniform(1.2, 1.45)
            mid = (p0 + p1) / 2 + rng.normal(0, 0.05, 2)
            front.append(np.stack([p0, mid, p1]))
        return back, front
    d = math.asin(float(np.clip(side_y / grow, -0.9, 0.9)))
    t = np.linspace(math.pi - d, TAU + d, 60)
    outer = _head(e, chin, t) * grow
    if kind == "spiky":
        n = int(rng.integers(5, 10))
        tri = np.abs(((t - t[0]) / (t[-1] - t[0]) * n) % 1.0 - 0.5) * 2.0
        outer = outer * (1.0 + rng.uniform(0.1, 0.25) * (1.0 - tri))[:, None]
    xs = np.linspace(outer[-1, 0], outer[0, 0], 48)
    xn = xs / max(abs(float(outer[0, 0])), 1e-3)
    hl = side_y + (top_y - side_y) * np.sqrt(np.clip(1.0 - xn**2, 0.0, 1.0))
    if kind in ("spiky", "bangs"):
        hl = hl + depth * (1.0 - np.abs((xn * nb / 2.0) % 1.0 - 0.5) * 2.0)
    front.append(np.vstack([outer, np.stack([xs, hl], 1)]))
    if kind == "long":
        top = _ellipse(0, 0, 1.12, 1.12, math.pi, TAU, 40)
        back.append(np.vstack([top, [[1.16, yb], [0.0, yb + 0.12], [-1.16, yb]]]))
    elif kind == "bun":
        back.append(_ellipse(rng.uniform(-0.3, 0.3), -1.05, rng.uniform(0.28, 0.4)))
    return back, front


def _hat(rng: Rng) -> list[tuple[Arr, Arr]]:
    """A hat as (polygon, colour) pairs in face units."""
    kind = _pick(rng, {"beanie": 0.35, "top": 0.2, "party": 0.25, "cap": 0.2})
    c1, c2 = _hsv(rng.uniform(), 0.7, 0.8), _hsv(rng.uniform(), 0.5, 0.95)
    band = np.array([[-1.1, -0.8], [1.1, -0.8], [1.1, -0.62], [-1.1, -0.62]])
    if kind == "beanie":
        dome = _ellipse(0, -0.72, 1.06, 0.6, math.pi, TAU)
        return [(dome, c1), (band, c2), (_ellipse(0, -1.35, 0.15), c2)]
    if kind == "top":
        crown = np.array([[-0.6, -1.6], [0.6, -1.6], [0.62, -0.8], [-0.62, -0.8]])
        brim = _ellipse(0, -0.8, 1.3, 0.14)
        return [(brim, c1), (crown, c1), (band * [0.57, 0.5] + [0, -0.5], c2)]
    if kind == "party":
        cone = np.array([[-0.55, -0.74], [0.55, -0.8], [0.12, -1.65]])
        return [(cone, c1), (_ellipse(0.12, -1.68, 0.13), c2)]
    dome = _ellipse(0, -0.66, 1.02, 0.55, math.pi, TAU)
    return [(dome, c1), (_ellipse(0.6, -0.68, 0.6, 0.1), c2)]


def _eye(pen: Pen, fr: Frame, kind: str, x: float, y: float, r: float, lk: Look, d: int) -> None:
    """One eye of the given kind at (x, y), size r (face units)."""
    ink, lw = lk["ink"], max(lk["lw"] * fr.r, 1.0)
    if kind == "dot":
        pen.fill(fr.px(_ellipse(x, y, r * 0.75)), ink)
    elif kind == "oval":
        pen.fill(fr.px(_ellipse(x, y, r * 0.62, r * 1.15)), ink)
        if pen.aa and r * fr.r > 4:
            pen.fill(fr.px(_ellipse(x - r * 0.2, y - r * 0.5, r * 0.22)), WHITE)
    elif kind == "ring":
        white = WHITE * (0.92 if lk["soft"] else 1.0)
        pen.fill(fr.px(_ellipse(x, y, r * 1.25, r * 0.85)), white)
        pen.fill(fr.px(_ellipse(x, y, r * 0.62)), lk["iris"])
        pen.fill(fr.px(_ellipse(x, y, r * 0.32)), DARK)
        pen.fill(fr.px(_ellipse(x - r * 0.22, y - r * 0.25, r * 0.14)), WHITE)
        if lk["soft"]:
            pen.stroke(fr.px(_ellipse(x, y - r * 0.05, r * 1.3, r * 0.95, math.pi, TAU)), ink, lw)
        else:
            pen.stroke(fr.px(_ellipse(x, y, r * 1.25, r * 0.85)), ink, lw * 0.6, closed=True)
    elif kind == "anime":
        pen.fill(fr.px(_ellipse(x, y, r * 0.95, r * 1.3)), WHITE)
        pen.fill(fr.px(_ellipse(x, y + r * 0.12, r * 0.75, r * 1.1)), lk["iris"])
        light = np.clip(lk["iris"] * 1.5 + 0.1, 0, 1)
        pen.fill(fr.px(_ellipse(x, y + r * 0.5, r * 0.55, r * 0.55)), light, alpha=0.6)
        pen.fill(fr.px(_ellipse(x, y + r * 0.15, r * 0.33, r * 0.55)), DARK)
        pen.fill(fr.px(_ellipse(x - r * 0.28, y - r * 0.3, r * 0.26)), WHITE)
        pen.fill(fr.px(_ellipse(x + r * 0.25, y + r * 0.55, r * 0.11)), WHITE)
        lash = _ellipse(x, y, r * 1.05, r * 1.38, math.pi + 0.15, TAU - 0.15, 30)
        pen.stroke(fr.px(lash), DARK, lw * 2.2)
    elif kind == "arc":
        a0 = math.pi if d > 0 else 0.0
        pen.stroke(fr.px(_ellipse(x, y, r, r * 0.75, a0, a0 + math.pi, 24)), ink, lw)
    else:
        pen.stroke(fr.px([[x - r, y], [x + r, y]]), ink, lw)


def _draw_face(pen: Pen, fr: Frame, rng: Rng, style: str, lk: Look) -> None:
    """Everything but the mouth, from the scene stream only."""
    R = fr.r
    anime = style == "anime"
    e = rng.uniform(2.0, 2.3) if anime else rng.uniform(1.9, 3.0)
    chin = rng.uniform(0.25, 0.4) if anime else rng.uniform(0.0, 0.2)
    head = _head(e, chin, np.linspace(0, TAU, 120, endpoint=False))
    hp = fr.px(head)
    skin, ink, hair = lk["skin"], lk["ink"], lk["hair"]
    lw = max(lk["lw"] * R, 1.0)
    kind = _pick(rng, lk["hair_kinds"]) if rng.uniform() < lk["hair_p"] else "none"
    back, front = _hair(rng, kind, e, chin, anime)
    U, V = fr.grid(pen.size)
    light = np.array([rng.uniform(-0.7, 0.7), rng.uniform(-0.8, 0.3), 1.0], np.float32)
    light /= np.linalg.norm(light)
    hair_field = None
    if style in ("photo", "woodcut", "anime"):
        n = rng.normal(0, 1, (pen.size, pen.size)).astype(np.float32)
        n = cv2.GaussianBlur(n, (0, 0), sigmaX=0.8, sigmaY=max(R * 0.12, 1.0))
        n /= n.std() + 1e-6
        if style == "woodcut":
            hair_field = np.where((n > 0.8)[..., None], lk["skin"], ink).astype(np.float32)
        else:
            hair_field = np.clip(hair[None, None] * (0.85 + 0.2 * n[..., None]), 0, 1)
            hair_field = hair_field.astype(np.float32)

    def paint_hair(polys: list[Arr]) -> None:
        for p in polys:
            if lk["hair_mode"] == "stroke" or kind == "strands":
                pen.stroke(fr.px(p), hair, lw, closed=kind != "strands")
            else:
                pen.fill(fr.px(p), hair, field=hair_field)

    badge = (fr.cx, fr.cy + 0.45 * R * fr.ay, 1.9 * R)
    if style == "badge":
        pen.fill(_ellipse(badge[0], badge[1], badge[2], n=120), lk["badge"])
    if rng.uniform() < lk["body_p"]:
        shirt = _hsv(rng.uniform(), rng.uniform(0.2, 0.8), rng.uniform(0.3, 0.9))
        neck = [[-0.3, 0.5], [0.3, 0.5], [0.34, 1.45], [-0.34, 1.45]]
        pen.fill(fr.px(neck), skin * 0.82)
        pen.fill(fr.px(_ellipse(0, 2.2, 1.65, 0.9, n=60)), shirt)
        if rng.uniform() < 0.5:
            pen.fill(fr.px([[-0.3, 1.26], [0.3, 1.26], [0.0, 1.62]]), skin * 0.82)
    paint_hair(back)
    if style == "badge":
        pen.clip_circle(*badge)
        if rng.uniform() < 0.5:
            ring = _ellipse(badge[0], badge[1], badge[2] * 0.985, n=120)
            pen.stroke(ring, WHITE * rng.uniform(0.2, 1.0), max(R * 0.06, 1.0), closed=True)
    if rng.uniform() < lk["ears_p"]:
        for side in (-1.0, 1.0):
            ear = fr.px(_ellipse(side * 0.98, 0.05, 0.16, 0.2))
            pen.fill(ear, skin * 0.93)
            if lk["outline"]:
                pen.stroke(ear, lk["outline_col"], max(lk["outline"] * R * 0.8, 1.0), True)
    if style == "glossy":
        pen.fill(fr.px(head + np.array([0.05, 0.09])), DARK, alpha=0.28, soft=0.06 * R)
        d = np.sqrt((U + 0.3) ** 2 + (V + 0.45) ** 2)
        rim = np.clip((np.sqrt(U**2 + V**2) - 0.7) / 0.3, 0, 1)
        shade = np.clip(1.15 - 0.42 * d, 0.55, 1.2) * (1 - 0.2 * rim)
        pen.fill(hp, skin, field=np.clip(skin[None, None] * shade[..., None], 0, 1))
    elif style in ("photo", "woodcut"):
        nz = np.sqrt(np.clip(1 - (0.92 * U) ** 2 - (0.92 * V) ** 2, 0.02, 1))
        dot = (0.92 * U * light[0] + 0.92 * V * light[1] + nz * light[2]) / np.sqrt(
            0.85 * (U**2 + V**2) + nz**2
        )
        if style == "photo":
            shade = (0.42 + 0.68 * np.clip(dot, 0, 1))[..., None]
            field = skin[None, None] * shade + np.array([0.05, 0.01, 0.0]) * (1 - shade)
            pen.fill(hp, skin, field=np.clip(field, 0, 1).astype(np.float32), soft=R * 0.02)
        else:
            spacing = rng.uniform(5.0, 8.0)
            ang = rng.uniform(0, math.pi)
            phase = (U * math.cos(ang) + V * math.sin(ang)) * R / spacing * TAU
            rho = np.sqrt(U**2 + V**2)
            carve = (np.sin(phase) > 0.1) & (rho > 0.84) & (dot < 0.55)
            pen.fill(hp, skin, field=np.where(carve[..., None], ink, skin).astype(np.float32))
    elif style == "marker":
        if rng.uniform() < 0.3:
            pen.fill(hp, _hsv(rng.uniform(), 0.5, 0.9), alpha=0.3)
    elif style == "pixel":
        pen.fill(hp, skin * 0.78)
        pen.fill(fr.px(head * 0.88 - [0.05, 0.07]), skin)
    else:
        pen.fill(hp, skin)
    if lk["outline"]:
        pen.stroke(hp, lk["outline_col"], max(lk["outline"] * R, 1.0), closed=True)
    if style == "glossy":
        hi = fr.px(_ellipse(-0.08, -0.64, 0.5, 0.2))
        pen.fill(hi, WHITE, alpha=rng.uniform(0.3, 0.6), soft=0.05 * R)
    # cheeks, eyes, brows, nose
    ex = rng.uniform(0.36, 0.46) if anime else rng.uniform(0.26, 0.44)
    ey = rng.uniform(*lk["eye_ey"])
    er = rng.uniform(0.15, 0.21) if anime else rng.uniform(0.07, 0.13)
    if style == "pixel":
        er = max(er, 1.1 / R)
    if rng.uniform() < lk["blush_p"]:
        pink = np.array([0.95, 0.42, 0.5], np.float32)
        for side in (-1.0, 1.0):
            cheek = fr.px(_ellipse(side * (ex + 0.1), ey + er + 0.12, 0.13, 0.07))
            pen.fill(cheek, pink, alpha=rng.uniform(0.3, 0.6), soft=0.02 * R if pen.aa else 0)
    eye_kind = _pick(rng, lk["eyes"])
    arc_dir = 1 if rng.uniform() < 0.5 else -1
    for side in (-1.0, 1.0):
        _eye(pen, fr, eye_kind, side * ex, ey, er, lk, arc_dir)
    if rng.uniform() < lk["brow_p"]:
        by = ey - er * (1.6 if anime else 1.8) - 0.07
        tilt, arch = rng.uniform(-0.08, 0.08), rng.uniform(0.0, 0.05)
        for side in (-1.0, 1.0):
            bx = side * np.array([ex - er, ex, ex + er * 1.1])
            brow = np.stack([bx, by + np.array([tilt, -arch, -tilt * 0.3])], 1)
            pen.stroke(fr.px(brow), hair if style == "photo" else ink, lw * 0.9)
    if rng.uniform() < lk["nose_p"]:
        ny = rng.uniform(0.1, 0.2)
        if style == "photo":
            pen.fill(fr.px(_ellipse(0, ny, 0.1, 0.045)), DARK, alpha=0.25, soft=R * 0.03)
            pen.stroke(fr.px([[0.02, -0.1], [0.03, ny - 0.06]]), WHITE, lw, alpha=0.18)
        elif rng.uniform() < 0.5:
            pen.fill(fr.px(_ellipse(0, ny, 0.035)), ink)
        else:
            pen.stroke(fr.px([[0.02, ny - 0.16], [-0.05, ny], [0.04, ny]]), ink, lw * 0.7)
    paint_hair(front)
    if rng.uniform() < lk["hat_p"]:
        for poly, col in _hat(rng):
            if lk["hair_mode"] == "stroke":
                pen.stroke(fr.px(poly), ink, lw, closed=True)
            else:
                pen.fill(fr.px(poly), col)
    if style not in ("anime", "pixel") and rng.uniform() < lk["glasses_p"]:
        gr, shades = er * 1.9, rng.uniform() < 0.3
        for side in (-1.0, 1.0):
            lens = fr.px(_ellipse(side * ex, ey, gr, gr * 0.8))
            if shades:
                pen.fill(lens, DARK, alpha=0.9)
            pen.stroke(lens, ink, lw * 0.7, closed=True)
        pen.stroke(fr.px([[-ex + gr, ey], [ex - gr, ey]]), ink, lw * 0.7)
    drops = []
    if rng.uniform() < lk["tear_p"]:
        for side in (-1.0, 1.0) if rng.uniform() < 0.6 else (1.0,):
            drops.append(_drop(side * (ex + er * 0.3), ey + er * 1.3 + 0.12, 0.055))
    if rng.uniform() < lk["sweat_p"]:
        drops.append(_drop(0.74 * (1 if rng.uniform() < 0.5 else -1), -0.5, 0.09))
    blue = np.array([0.45, 0.75, 1.0], np.float32)
    for drop in drops:
        pen.fill(fr.px(drop), blue)
        pen.stroke(fr.px(drop), blue * 0.6, max(lw * 0.4, 1.0), closed=True)


# ------------------------------------------------------------------------ mouth
def _mouth_spec(rng: Rng) -> dict[str, Any]:
    """All mouth parameters, drawn in a fixed order from the mouth stream."""
    u = rng.uniform
    sp: dict[str, Any] = {"kind": MOUTHS[int(rng.choice(len(MOUTHS), p=MOUTH_P))]}
    sp.update(w=u(0.24, 0.46), r=u(0.4, 0.8), p=u(1.7, 2.6), open=u(0.0, 1.0), k1=u(0.15, 0.5))
    sp.update(teeth=u() < 0.6, dimples=u() < 0.25, wob_a=u(0.07, 0.12), wob_f=u(2.5, 4.0))
    sp.update(wob_ph=u(0, TAU), tu=u(0.035, 0.06), tl=u(0.05, 0.1), lw=u(0.85, 1.2), pos=u())
    sp.update(dx=u(-0.04, 0.04), subtle=u() < 0.15, sub=int(rng.integers(3)), small=u(0.55, 0.7))
    sp.update(faint=u(0.4, 0.55), slight=u(0.2, 0.3))
    return sp


def _mouth_shapes(sp: dict[str, Any], s: float, w: float, b: float) -> tuple[list, float]:
    """Mouth drawing ops (op, role, points, width factor), centred; and half height.

    s = +1 turns the corners up (happy), s = -1 down (sad); nothing else uses s.
    """
    u = np.linspace(-1.0, 1.0, 41)
    x = w * u
    c = 1.0 - np.abs(u) ** sp["p"]
    ops: list[tuple[str, str, Arr, float]] = []

    def pts(y: Arr, xx: Arr = x) -> Arr:
        return np.stack([xx, y], 1)

    kind = sp["kind"]
    if kind in ("arc", "wobbly"):
        y = s * b * c
        if kind == "wobbly":
            wob = np.sin(sp["wob_f"] * math.pi * u + sp["wob_ph"]) * np.sqrt(1 - u**2)
            y = y + sp["wob_a"] * b * wob
        ops.append(("line", "ink", pts(y), 1.0 if kind == "arc" else 0.85))
        if kind == "arc" and sp["dimples"]:
            for i, j in ((0, 1), (-1, -2)):
                p0 = np.array([x[i], y[i]])
                d = np.array([x[j] - x[i], y[j] - y[i]])
                n = np.array([-d[1], d[0]]) / (np.linalg.norm(d) + 1e-9) * 0.16 * w
                ops.append(("line", "ink", np.stack([p0 - n, p0 + n]), 0.75))
    elif kind in ("open", "dee"):
        if kind == "open":
            top = s * sp["k1"] * b * c
            bot = s * max(min(b * (1.3 + 0.7 * sp["open"]), 0.8 * w), b * (sp["k1"] + 0.5)) * c
        else:
            cd = np.sqrt(1.0 - u**2)
            top = s * 0.04 * b * cd
            bot = s * max(min(b * (1.2 + 0.8 * sp["open"]), 0.75 * w), b) * cd
        poly = np.vstack([pts(top), pts(bot)[::-1]])
        ops.append(("fill", "inside", poly, 0.0))
        if sp["teeth"]:
            band = top + 0.34 * (bot - top)
            ops.append(("fill", "teeth", np.vstack([pts(top), pts(band)[::-1]]), 0.0))
        ops.append(("loop", "rim", poly, 0.8))
    elif kind == "grin":
        xg = x * 1.12
        top = s * b * 0.9 * c
        bot = top + s * w * (0.3 + 0.25 * sp["open"]) * c**0.7
        poly = np.vstack([pts(top, xg), pts(bot, xg)[::-1]])
        ops.append(("fill", "teeth", poly, 0.0))
        ops.append(("line", "ink", pts((top + bot) / 2, xg), 0.45))
        for k in (7, 14, 20, 26, 33):
            ops.append(("line", "ink", np.array([[xg[k], top[k]], [xg[k], bot[k]]]), 0.45))
        ops.append(("loop", "rim", poly, 0.8))
    else:
        yc = s * b * c
        env = (1.0 - u**2) ** 0.6 * (w / 0.35)
        poly = np.vstack([pts(yc - sp["tu"] * env), pts(yc + sp["tl"] * env)[::-1]])
        ops.append(("fill", "lip", poly, 0.0))
        ops.append(("line", "seam", pts(yc), 0.55))
    ys = np.concatenate([o[2][:, 1] for o in ops])
    mid = (ys.min() + ys.max()) / 2
    return [(o, r, p - [0.0, mid], f) for o, r, p, f in ops], float(ys.max() - ys.min()) / 2


def _draw_mouth(pen: Pen, fr: Frame, rng: Rng, style: str, lk: Look, s: float, up: float) -> None:
    """The mouth, from the mouth stream; `s` (+1 happy, -1 sad) flips only its bend."""
    sp = _mouth_spec(rng)
    if style == "pixel" and sp["kind"] in ("open", "dee"):
        sp.update(kind="open", k1=max(sp["k1"], 0.6))  # a blocky D reads as a box
    elif style == "pixel" and sp["kind"] == "wobbly":
        sp["kind"] = "arc"  # a wobble on a coarse grid reads as a squiggle
    w, r, faint = sp["w"] * lk["mouth_w"], sp["r"] * lk["mouth_r"], 0.0
    if sp["subtle"]:
        if sp["sub"] == 0:
            w *= sp["small"]
        elif sp["sub"] == 1 and style != "woodcut":
            faint = sp["faint"]
        else:
            r = sp["slight"] * (1.5 if style == "pixel" else 1.0)
    min_px = 1.6 if style == "pixel" else 1.5 * up
    w = max(w, (2.5 if style == "pixel" else 4.0 * up) / fr.r)  # never a speck
    b = max(r * w, min_px / fr.r)
    _, hh = _mouth_shapes(sp, 1.0, w, b)
    lo, hi = lk["mouth_y"][0] + hh, lk["mouth_y"][1] - hh
    my = lo + sp["pos"] * (hi - lo) if hi > lo else (lk["mouth_y"][0] + lk["mouth_y"][1]) / 2
    ops, _ = _mouth_shapes(sp, s, w, b)
    skin, lip, ink = lk["skin"], lk["lip"], lk["ink"]
    gap = abs(_lum(ink if lip is None else lip) - _lum(skin))
    faint = min(faint, max(0.0, 1 - 0.2 / max(gap, 1e-3)))  # faint, yet still visible
    roles = {"ink": ink, "inside": lk["inside"], "teeth": lk["teeth"], "seam": ink}
    roles.update(rim=ink if lip is None else lip * 0.8, lip=ink if lip is None else lip)
    roles = {k: np.asarray(v, np.float32) * (1 - faint) + skin * faint for k, v in roles.items()}
    lwpx = max(lk["mouth_lw"] * sp["lw"] * fr.r, 1.0 if style == "pixel" else up)
    for op, role, p, f in ops:
        if role == "seam" and lip is None:
            continue
        q = fr.px(p + np.array([sp["dx"], my]))
        if op == "fill":
            pen.fill(q, roles[role])
        else:
            pen.stroke(q, roles[role], max(lwpx * f, 1.0), closed=op == "loop")


# ------------------------------------------------------------------- background
def _background(rng: Rng, style: str, n: int) -> Arr:
    """A label-free background (n x n RGB float)."""
    pref = {"crayon": ("paper", 0.75), "marker": ("board", 0.85), "woodcut": ("wood", 1.0)}
    pref.update(pixel=("pixel", 0.55), photo=("photo", 0.6))
    generic = {"plain": 0.2, "gradient": 0.25, "pattern": 0.2, "clutter": 0.15, "photo": 0.2}
    kind = _pick(rng, generic)
    if style in pref and rng.uniform() < pref[style][1]:
        kind = pref[style][0]
    yy, xx = (np.mgrid[0:n, 0:n].astype(np.float32) + 0.5) / n
    c1, c2 = _colour(rng), _colour(rng)
    a = rng.uniform(0, TAU)
    xr = xx * math.cos(a) - yy * math.sin(a)
    yr = xx * math.sin(a) + yy * math.cos(a)
    if kind == "plain":
        return np.broadcast_to(c1, (n, n, 3)).astype(np.float32)
    if kind == "gradient":
        if rng.uniform() < 0.5:
            t = np.clip(xr - xr.min(), 0, None) / (xr.max() - xr.min())
        else:
            t = np.clip(np.hypot(xx - rng.uniform(), yy - rng.uniform()) * 1.3, 0, 1)
        return (c1 * (1 - t[..., None]) + c2 * t[..., None]).astype(np.float32)
    if kind == "pattern":
        per = rng.uniform(0.05, 0.2)
        pk = _pick(rng, {"stripes": 1, "checks": 1, "dots": 1})
        if pk == "stripes":
            m = np.sin(TAU * xr / per) > 0
        elif pk == "checks":
            m = (np.floor(xr / per) + np.floor(yr / per)) % 2 == 0
        else:
            m = ((xr / per) % 1 - 0.5) ** 2 + ((yr / per) % 1 - 0.5) ** 2 < 0.08
        m = cv2.GaussianBlur(m.astype(np.float32), (0, 0), 0.7)[..., None]
        return (c1 * (1 - m) + c2 * m).astype(np.float32)
    if kind in ("clutter", "pixel"):
        cells = int(rng.choice([12, 16, 24])) if kind == "pixel" else n
        img = np.empty((cells, cells, 3), np.uint8)
        img[:] = (c1 * 255).astype(np.uint8)
        for _ in range(int(rng.integers(8, 26))):
            col = tuple(int(v) for v in (_colour(rng, 0.6) * 255))
            p = (rng.uniform(-0.1, 1.1, 2) * cells).astype(int)
            q = (rng.uniform(0.03, 0.3, 2) * cells).astype(int) + 1
            shape = int(rng.integers(4))
            line = cv2.LINE_8 if kind == "pixel" else cv2.LINE_AA
            if shape == 0:
                cv2.rectangle(img, tuple(p), tuple(p + q), col, -1, line)
            elif shape == 1:
                cv2.circle(img, tuple(p), int(q[0]), col, -1, line)
            elif shape == 2:
                cv2.line(img, tuple(p), tuple(p + q * 2), col, max(1, cells // 60), line)
            else:
                tri = np.array([p, p + q * (1, 0), p + q * (0, 1)], np.int32)
                cv2.fillPoly(img, [tri], col, line)
        f = img.astype(np.float32) / 255
        if kind == "pixel":
            return cv2.resize(f, (n, n), interpolation=cv2.INTER_NEAREST)
        return cv2.GaussianBlur(f, (0, 0), rng.uniform(0.3, 2.5)) if rng.uniform() < 0.5 else f
    if kind == "photo":
        img = (c1 * (1 - yy[..., None]) + c2 * yy[..., None]).astype(np.float32)
        for _ in range(int(rng.integers(5, 12))):
            ctr = tuple(int(v) for v in rng.uniform(0, n, 2))
            ax = tuple(int(v) for v in rng.uniform(0.08, 0.4, 2) * n)
            col = tuple(float(v) for v in _colour(rng, 0.6))
            cv2.ellipse(img, ctr, ax, rng.uniform(0, 180), 0, 360, col, -1)
        img = cv2.GaussianBlur(img, (0, 0), n * rng.uniform(0.04, 0.1))
        bokeh = np.zeros((n, n), np.float32)
        for _ in range(int(rng.integers(0, 8))):
            ctr = tuple(int(v) for v in rng.uniform(0, n, 2))
            cv2.circle(bokeh, ctr, int(rng.uniform(0.02, 0.07) * n), 1.0, -1)
        bokeh = cv2.GaussianBlur(bokeh, (0, 0), n * 0.008)[..., None]
        return np.clip(img + 0.3 * bokeh * _hsv(rng.uniform(), 0.3, 1.0), 0, 1)
    if kind == "paper":
        base = np.array([rng.uniform(0.93, 0.99), rng.uniform(0.91, 0.97), rng.uniform(0.84, 0.94)])
        grain = cv2.GaussianBlur(rng.normal(0, 0.02, (n, n)).astype(np.float32), (0, 0), 0.7)
        img = np.clip(base[None, None] + grain[..., None], 0, 1).astype(np.float32)
        if rng.uniform() < 0.35:
            sp = n * rng.uniform(0.07, 0.12)
            for y in np.arange(rng.uniform(0, sp), n, sp):
                img[int(y)] = img[int(y)] * 0.7 + np.array([0.55, 0.68, 0.92]) * 0.3
            img[:, int(n * 0.1)] = img[:, int(n * 0.1)] * 0.6 + np.array([0.9, 0.4, 0.4]) * 0.4
        return img
    if kind == "board":
        v = rng.uniform(0.86, 0.95)
        img = np.full((n, n, 3), v, np.float32) * np.array([0.99, 1.0, 1.02], np.float32)
        img += (0.07 * np.exp(-((xr - rng.uniform(0.2, 0.9)) ** 2) / 0.03))[..., None]
        ghost = np.zeros((n, n), np.float32)
        for _ in range(int(rng.integers(2, 7))):
            pts = np.cumsum(rng.normal(0, n * 0.04, (12, 2)), 0) + rng.uniform(0, n, 2)
            cv2.polylines(ghost, [pts.astype(np.int32)], False, 1.0, max(2, n // 40))
        ghost = cv2.GaussianBlur(ghost, (0, 0), 1.5)
        img -= (rng.uniform(0.04, 0.1) * ghost)[..., None]
        if rng.uniform() < 0.3:
            img[: max(2, n // 30)] = 0.62
        return np.clip(img, 0, 1)
    # woodcut block: ink with white gouges, or paper with a radiating print
    img = np.full((n, n), 0.06 if rng.uniform() < 0.5 else 0.95, np.float32)
    ink = img[0, 0] < 0.5
    base = rng.uniform(0, math.pi)
    for _ in range(int(rng.integers(30, 90)) if ink else int(rng.integers(18, 40))):
        p = rng.uniform(0, n, 2)
        ang = base + rng.normal(0, 0.25) if ink else rng.uniform(0, TAU)
        ln = n * rng.uniform(0.03, 0.1) if ink else n
        start = p if ink else np.array([n / 2, n / 2])
        end = start + ln * np.array([math.cos(ang), math.sin(ang)])
        a, b = tuple(start.astype(int)), tuple(end.astype(int))
        cv2.line(img, a, b, 0.92 if ink else 0.06, int(rng.integers(1, 4)))
    return np.repeat(img[..., None], 3, 2)


def _texture(rng: Rng, style: str, n: int) -> Arr | None:
    """Waxy crayon or streaky marker coverage (multiplies pen alpha)."""
    if style not in ("crayon", "marker"):
        return None
    k = np.zeros((9, 9), np.float32)
    k[4, :] = 1
    rot = cv2.getRotationMatrix2D((4, 4), rng.uniform(0, 180), 1.0)
    k = cv2.warpAffine(k, rot, (9, 9))
    streak = cv2.filter2D(rng.normal(0, 1, (n, n)).astype(np.float32), -1, k / k.sum())
    streak /= streak.std() + 1e-6
    if style == "marker":
        return np.clip(0.93 + 0.06 * streak, 0.75, 1.0)
    fine = cv2.GaussianBlur(rng.normal(0, 1, (n, n)).astype(np.float32), (0, 0), 0.6)
    fine /= fine.std() + 1e-6
    return np.clip(0.78 + 0.25 * streak + 0.2 * fine, 0.1, 1.0)


# ---------------------------------------------------------------- post-process
def _post(img: Arr, rng: Rng, style: str) -> Arr:
    """Style finish: photo grain and vignette, woodcut thresholding."""
    n = img.shape[0]
    if style == "photo":
        yy, xx = (np.mgrid[0:n, 0:n].astype(np.float32) + 0.5) / n
        r2 = ((xx - 0.5) ** 2 + (yy - 0.5) ** 2) * 2
        img = img * (1 - rng.uniform(0.15, 0.5) * r2[..., None] ** 1.2)
        img = img + rng.normal(0, rng.uniform(0.015, 0.045), (n, n, 1)).astype(np.float32)
        img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 0.6)
    elif style == "woodcut":
        lum = img @ np.array([0.299, 0.587, 0.114], np.float32)
        grain = rng.normal(0, 1, (n, n)).astype(np.float32)
        grain = cv2.GaussianBlur(grain, (0, 0), 3.0, sigmaY=0.6)
        lum = lum + 0.12 * grain / (grain.std() + 1e-6)
        bw = cv2.GaussianBlur((lum > 0.5).astype(np.float32), (0, 0), 0.5)[..., None]
        paper = np.array([rng.uniform(0.9, 1.0), rng.uniform(0.86, 0.96), rng.uniform(0.75, 0.9)])
        inks = [(0.04, 0.04, 0.04), (0.3, 0.06, 0.05), (0.05, 0.1, 0.3)]
        ink = np.array(inks[int(rng.choice(3, p=[0.7, 0.15, 0.15]))])
        img = ink * (1 - bw) + paper * bw
    return np.clip(img, 0, 1).astype(np.float32)


def _degrade(img: Arr, rng: Rng) -> tuple[Arr, str, int]:
    """Label-free degradations at final size; returns image, file type, JPEG quality."""
    n = img.shape[0]
    if rng.uniform() < 0.2:
        m = max(8, int(n * rng.uniform(0.4, 0.65)))
        small = cv2.resize(img, (m, m), interpolation=cv2.INTER_AREA)
        how = [cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_CUBIC][int(rng.integers(3))]
        img = cv2.resize(small, (n, n), interpolation=how)
    if rng.uniform() < 0.25:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.0) * n / 128)
    if rng.uniform() < 0.3:
        img = img * (1 + rng.uniform(-0.15, 0.15, 3)).astype(np.float32)
    if rng.uniform() < 0.25:
        if rng.uniform() < 0.5:
            img = np.clip(img, 0, 1) ** rng.uniform(0.6, 1.6)
        else:
            img = img * rng.uniform(0.65, 1.35)
    if rng.uniform() < 0.12:
        img = np.repeat((img @ np.array([0.299, 0.587, 0.114], np.float32))[..., None], 3, 2)
    if rng.uniform() < 0.3:
        img = img + rng.normal(0, rng.uniform(0.01, 0.05), img.shape).astype(np.float32)
    jpg = rng.uniform() < 0.5
    quality = int(rng.integers(30, 96))
    return np.clip(img, 0, 1), "jpg" if jpg else "png", quality


# ----------------------------------------------------------------------- render
def render(ss: np.random.SeedSequence, image_size: int, happy: bool) -> tuple[Arr, str, int]:
    """One face as uint8 RGB, its file type and JPEG quality; only the mouth sees `happy`."""
    scene_ss, mouth_ss = ss.spawn(2)
    rng, mrng = np.random.default_rng(scene_ss), np.random.default_rng(mouth_ss)
    size = 2 * image_size
    style = STYLES[int(rng.integers(len(STYLES)))]
    lk = _look(style, rng)
    bg = _background(rng, style, size)
    r_obj = rng.uniform(0.35, 0.95) * size / 2
    R = r_obj / lk["k"]
    angle = rng.uniform(-25, 25)
    ax, ay = rng.uniform(0.88, 1.1), rng.uniform(0.9, 1.12)
    slack = max(0.0, size / 2 - r_obj)
    cx, cy = size / 2 + rng.uniform(-1, 1, 2) * slack
    if style == "pixel":
        grid = int(rng.choice([20, 24, 28, 32]))
        rl, big = 0.4 * grid, int(grid * 1.8)
    else:
        rl, big = R, int(2 * R * lk["reach"]) + 8
    cl = big / 2
    fr = Frame(cl, cl - (0.45 * rl * ay if style == "badge" else 0.0), rl, ax, ay)
    pen = Pen(big, lk["pen"], style != "pixel", lk["soft"], _texture(rng, style, big))
    pen.rng = rng
    _draw_face(pen, fr, rng, style, lk)
    pen.rng = mrng
    _draw_mouth(pen, fr, mrng, style, lk, 1.0 if happy else -1.0, size / image_size)
    rot = cv2.getRotationMatrix2D((cl, cl), angle, R / rl)
    rot[:, 2] += (cx - cl, cy - cl)
    flags = cv2.INTER_NEAREST if style == "pixel" else cv2.INTER_LINEAR
    lay = cv2.warpAffine(pen.layer, rot, (size, size), flags=flags, borderValue=(0, 0, 0, 0))
    img = lay[..., :3] + bg * (1 - lay[..., 3:])
    img = _post(img, rng, style)
    img = cv2.resize(img, (image_size, image_size), interpolation=cv2.INTER_AREA)
    img, ext, quality = _degrade(img, rng)
    return (img * 255 + 0.5).astype(np.uint8), ext, quality


# --------------------------------------------------------------------- generate
def _marker(per_class: int, image_size: int, seed: int) -> dict[str, Any]:
    """The marker JSON that identifies one generated set."""
    head = {"generator": "unseen_faces", "version": VERSION, "classes": list(CLASSES)}
    return head | {"per_class": per_class, "image_size": image_size, "seed": seed}


def _holds(out: Path, expected: dict[str, Any]) -> bool:
    """Whether `out` already holds exactly this set."""
    try:
        return json.loads((out / MARKER).read_text()) == expected
    except (OSError, ValueError):
        return False


def generate(out: Path, per_class: int, image_size: int, seed: int) -> Path:
    """Write out/happy and out/sad (per_class images each, square image_size px, a mix of .png and .jpg); return out.

    If out already holds exactly this set (same marker JSON) return at once; if out is
    non-empty with anything else raise FileExistsError; never delete or overwrite
    existing files.
    """
    out = Path(out)
    if per_class < 1 or image_size < 32 or seed < 0:
        raise ValueError("need per_class >= 1, image_size >= 32 and seed >= 0")
    expected = _marker(per_class, image_size, seed)
    if out.exists():
        if _holds(out, expected):
            return out
        if not out.is_dir() or any(out.iterdir()):
            raise FileExistsError(f"{out} exists and holds something else")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        for ci, name in enumerate(CLASSES):
            folder = tmp / name
            folder.mkdir()
            for i in range(per_class):
                ss = np.random.SeedSequence([seed, ci, i])
                arr, ext, quality = render(ss, image_size, ci == 0)
                path = folder / f"{name}_{i:05d}.{ext}"
                if ext == "jpg":
                    Image.fromarray(arr, "RGB").save(path, "JPEG", quality=quality)
                else:
                    Image.fromarray(arr, "RGB").save(path, "PNG")
        (tmp / MARKER).write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
        try:
            os.replace(tmp, out)
        except OSError as exc:
            if _holds(out, expected):
                return out
            raise FileExistsError(f"{out} appeared while generating") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description="Write the held-out unseen_faces report set.")
    ap.add_argument("--out", type=Path, required=True, help="output folder (new or empty)")
    ap.add_argument("--per-class", type=int, default=200)
    ap.add_argument("--image-size", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    try:
        print(generate(a.out, a.per_class, a.image_size, a.seed))
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
