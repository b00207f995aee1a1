"""Blind held-out generator of synthetic happy and sad face images.

This module was written from a short written description of the task only
("a happy face smiles, the mouth corners turn up ...; a sad face frowns, the
corners turn down ...; everything that is not the expression must not depend on
the label"), *without* reading any of the project's other face generators.  It
is meant as an independent, held-out report set: never tune anything on it.

What it draws
-------------
Every image is one face, built as a list of vector parts in a face-local frame
(head, optional ears / hair / nose / blush / freckles / glasses, two eyes,
optional brows, the mouth) and rendered in one of eight drawing styles:

* ``flat``        - flat vector icon, no outlines, optional flat side shadow;
* ``comic``       - thick black outlines, halftone shading, glossy highlight,
                    sunburst / halftone / flat comic backgrounds;
* ``pixel``       - drawn without anti-aliasing on a 40-64 px grid, then blown
                    up with nearest-neighbour (optionally posterised);
* ``paper``       - paper cut-outs: slightly ragged shapes with drop shadows on
                    a fibrous card background;
* ``watercolour`` - soft, blotchy washes with darkened pigment edges on paper,
                    sometimes with a misregistered pen outline;
* ``clay``        - 3-D shaded plasticine: every part is embossed (or, for the
                    mouth, carved) and lit by one light with a specular spot;
* ``sketch``      - pencil / ballpoint lines drawn in several jittered passes,
                    hatching on the shadow side, on white, cream or graph paper;
* ``neon``        - glowing neon tubes on a dark wall.

The expression
--------------
Happy: the mouth corners are *higher* than the middle of the mouth (image y
points down), from a faint bend to a broad grin; closed line, lips, or open
(D-shaped, optionally showing teeth and a tongue).  Eyes may narrow (a lower
lid pushed up into a crescent) or close into upward arcs; cheek creases and
smile dimples may appear.

Sad: the mouth is the happy mouth mirrored vertically (corners *lower* than
the middle), from slight to deep; the lower lip may be pushed out (pout).
Inner ends of the brows rise, upper lids may droop towards the outer corners
or the eyes may shut in drooping lines, and tears may run.

Everything that is not the expression (style, head shape, size, position,
rotation up to about +-35 degrees, colours, background, lighting, noise, the
mouth type and size, the expression intensity, file format, rendering noise)
is drawn from random streams that never see the label; the label only drives
one separate stream for the expression-specific details (sign of the mouth
curvature, eye/brow/tear/pout/dimple choices).

Output: ``out/happy/*.png|jpg`` and ``out/sad/*.png|jpg`` (RGB, square), plus a
marker ``out/.blind_faces.json`` holding the arguments.  Each image depends
only on ``(seed, class_index, i)``.

CLI::

    python scripts/blind_faces.py --out DIR --per-class N --size PX --seed S
"""

from __future__ import annotations

import argparse
import colorsys
import json
import os
import shutil
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

CLASSES = ("happy", "sad")
STYLES = ("flat", "comic", "pixel", "paper", "watercolour", "clay", "sketch", "neon")
MARKER = ".blind_faces.json"
VERSION = 1
SUPERSAMPLE = 2
_SHIFT = 4  # fixed-point bits for cv2 drawing
_ONE = float(1 << _SHIFT)

# --------------------------------------------------------------------------- colours


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb((h % 360.0) / 360.0, s, v), np.float32)


def _luma(c: np.ndarray) -> float:
    return float(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2])


def _dist(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


_HUMAN = (
    np.array(
        [
            (255, 224, 196),
            (241, 194, 125),
            (224, 172, 105),
            (198, 134, 66),
            (141, 85, 36),
            (92, 56, 38),
            (255, 205, 148),
            (234, 192, 134),
            (250, 212, 182),
            (165, 112, 78),
        ],
        np.float32,
    )
    / 255.0
)
_HAIR = (
    np.array(
        [
            (22, 16, 12),
            (62, 40, 24),
            (112, 72, 36),
            (205, 165, 95),
            (232, 212, 150),
            (165, 62, 26),
            (135, 135, 140),
            (236, 236, 236),
        ],
        np.float32,
    )
    / 255.0
)


def _palette(r: np.random.Generator) -> dict[str, np.ndarray]:
    mode = r.choice(["human", "emoji", "fantasy", "pale"], p=[0.35, 0.3, 0.27, 0.08])
    if mode == "human":
        skin = np.clip(_HUMAN[r.integers(len(_HUMAN))] + r.normal(0, 0.03, 3), 0, 1)
    elif mode == "emoji":
        skin = _hsv(r.uniform(38, 56), r.uniform(0.6, 0.95), r.uniform(0.88, 1.0))
    elif mode == "fantasy":
        skin = _hsv(r.uniform(0, 360), r.uniform(0.2, 0.75), r.uniform(0.55, 0.98))
    else:
        skin = _hsv(r.uniform(0, 360), r.uniform(0, 0.1), r.uniform(0.78, 0.98))
    skin = skin.astype(np.float32)
    ls = _luma(skin)
    if ls > 0.42:
        ink = _hsv(r.uniform(0, 360), r.uniform(0, 0.6), r.uniform(0.04, 0.28))
    elif ls > 0.24:
        ink = _hsv(r.uniform(0, 360), r.uniform(0, 0.4), r.uniform(0.0, 0.07))
    else:
        ink = _hsv(r.uniform(20, 60), r.uniform(0, 0.25), r.uniform(0.86, 1.0))
    if abs(_luma(ink) - ls) < 0.28:
        ink = np.zeros(3, np.float32) if ls > 0.5 else np.ones(3, np.float32)
    mouth_in = (
        _hsv(r.uniform(-12, 12), r.uniform(0.45, 0.8), r.uniform(0.22, 0.45))
        if r.random() < 0.65
        else ink * 0.9 + 0.05
    )
    if abs(_luma(mouth_in) - ls) < 0.2:
        mouth_in = ink.copy()
    lip = np.clip(
        (skin * (1 - (m := r.uniform(0.3, 0.6))) + np.array([0.75, 0.2, 0.28]) * m) * 0.85, 0, 1
    )
    if r.random() < 0.7:
        hair = np.clip(_HAIR[r.integers(len(_HAIR))] + r.normal(0, 0.03, 3), 0, 1)
    else:
        hair = _hsv(r.uniform(0, 360), r.uniform(0.4, 0.9), r.uniform(0.3, 0.9))
    return {
        "skin": skin,
        "ink": ink.astype(np.float32),
        "mouth_in": np.asarray(mouth_in, np.float32),
        "teeth": _hsv(r.uniform(30, 60), r.uniform(0, 0.12), r.uniform(0.93, 1.0)),
        "tongue": _hsv(r.uniform(340, 365), r.uniform(0.35, 0.6), r.uniform(0.8, 0.95)),
        "lip": lip.astype(np.float32),
        "blush": _hsv(r.uniform(340, 375), r.uniform(0.35, 0.7), r.uniform(0.85, 1.0)),
        "tear": _hsv(r.uniform(185, 215), r.uniform(0.3, 0.6), r.uniform(0.9, 1.0)),
        "hair": hair.astype(np.float32),
        "white": _hsv(r.uniform(0, 360), r.uniform(0, 0.06), r.uniform(0.95, 1.0)),
        "iris": _hsv(r.uniform(0, 360), r.uniform(0.3, 0.9), r.uniform(0.25, 0.75)),
        "nose": np.clip(skin * r.uniform(0.75, 0.9), 0, 1).astype(np.float32),
        "clown": _hsv(r.uniform(-10, 10), r.uniform(0.7, 0.95), r.uniform(0.75, 0.95)),
        "glasses": _hsv(r.uniform(0, 360), r.uniform(0, 0.8), r.uniform(0.05, 0.6)),
    }


# --------------------------------------------------------------------------- geometry


@dataclass
class Part:
    role: str
    pts: np.ndarray  # (n, 2) face-local coordinates, y down, head half-width == 1
    color: np.ndarray
    width: float = 0.0  # > 0: a stroke (polyline) of that width, else a filled polygon
    closed: bool = False
    alpha: float = 1.0
    outline: bool = False  # outlined in outline styles (comic, pixel)
    solid: bool = False  # stays filled in line styles (sketch, neon)
    depth: float = 1.0  # clay: +1 embossed, -1 carved, 0 flat paint


@dataclass
class Scene:
    parts: list[Part]
    center: np.ndarray  # fraction of the canvas
    scale: float  # px per local unit, as a fraction of the canvas side
    angle: float
    light: float  # direction towards the light, radians, image frame
    pal: dict[str, np.ndarray]


def _arc(cx, cy, rx, ry, a0=0.0, a1=2 * np.pi, n=40) -> np.ndarray:
    t = np.linspace(a0, a1, n)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def _ellipse(cx, cy, rx, ry, n=40) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def _head_shape(r: np.random.Generator) -> np.ndarray:
    kind = r.choice(["ellipse", "squircle", "egg", "blob"], p=[0.33, 0.25, 0.27, 0.15])
    t = np.linspace(0, 2 * np.pi, 128, endpoint=False)
    c, s = np.cos(t), np.sin(t)
    ry = r.uniform(0.88, 1.2)
    if kind == "squircle":
        n = r.uniform(2.6, 5.0)
        x = np.sign(c) * np.abs(c) ** (2 / n)
        y = ry * np.sign(s) * np.abs(s) ** (2 / n)
    elif kind == "egg":
        k = r.uniform(-0.2, 0.22)
        x, y = c * (1 - k * s), ry * s
    elif kind == "blob":
        rad = np.ones_like(t)
        for j in (2, 3, 4, 5):
            rad += r.uniform(-0.045, 0.045) * np.cos(j * t + r.uniform(0, 2 * np.pi))
        x, y = rad * c, ry * rad * s
    else:
        x, y = c, ry * s
    return np.stack([x, y], 1)


def _clip(pts: np.ndarray, f, keep_above: bool) -> np.ndarray:
    """Clip a closed outline by the curve y = f(x).

    keep_above=True keeps the part with y <= f(x) (image y points down, so "above" the curve);
    False keeps y >= f(x).  Between leaving and re-entering, the result follows the curve.
    """
    g = f(pts[:, 0]) - pts[:, 1]
    if not keep_above:
        g = -g
    inside = g >= 0
    if inside.all():
        return pts
    if not inside.any():
        return pts[:1].repeat(3, 0)  # empty (zero-area) polygon
    start = int(np.argmin(inside))  # begin on an outside vertex
    n = len(pts)
    out: list[np.ndarray] = []
    exit_x = None
    for k in range(n):
        i, j = (start + k) % n, (start + k + 1) % n
        if inside[i] != inside[j]:
            t = g[i] / (g[i] - g[j])
            x = pts[i, 0] + t * (pts[j, 0] - pts[i, 0])
            if inside[j]:  # entering: follow the curve from the last exit
                if exit_x is not None:
                    xs = np.linspace(exit_x, x, 16)[1:-1]
                    out.extend(np.stack([xs, f(xs)], 1))
                out.append(np.array([x, f(np.array([x]))[0]]))
            else:
                out.append(np.array([x, f(np.array([x]))[0]]))
                exit_x = x
        if inside[j]:
            out.append(pts[j])
    if exit_x is not None and len(out) > 0:
        # the walk started outside, so the final exit is followed by the first entry
        first = out[0]
        xs = np.linspace(exit_x, first[0], 16)[1:-1]
        out.extend(np.stack([xs, f(xs)], 1))
    return np.asarray(out, np.float64)


def _clip_below(pts: np.ndarray, f) -> np.ndarray:
    """Keep the part of an outline with y <= f(x) (above the curve)."""
    return _clip(pts, f, keep_above=True)


def _clip_above(pts: np.ndarray, f) -> np.ndarray:
    """Keep the part of an outline with y >= f(x) (below the curve)."""
    return _clip(pts, f, keep_above=False)


def _teardrop(cx, cy, rad) -> np.ndarray:
    b = 0.65
    pts = _arc(cx, cy, rad, rad, -np.pi / 2 + b, 1.5 * np.pi - b, 24)
    return np.vstack([pts, [[cx, cy - 2.4 * rad]]])


def _rot(pts: np.ndarray, ang: float) -> np.ndarray:
    c, s = np.cos(ang), np.sin(ang)
    return pts @ np.array([[c, s], [-s, c]], np.float64)


# --------------------------------------------------------------------------- scene


def _scene(
    rn: np.random.Generator,
    re: np.random.Generator,
    happy: bool,
    res: int,
    scale_range: tuple[float, float] = (0.2, 0.34),
) -> Scene:
    """rn: label-blind nuisance stream.  re: expression stream (the only one the label steers)."""
    U = rn.uniform
    scale = U(*scale_range)
    px1 = 1.0 / (scale * res)  # one output pixel in local units
    head = _head_shape(rn)
    hbot, htop = head[:, 1].max(), head[:, 1].min()
    room = max(0.0, 0.5 - scale * 1.12)
    extra = 0.08 if rn.random() < 0.12 else 0.0
    center = np.array([0.5 + U(-room - extra, room + extra), 0.5 + U(-room - extra, room + extra)])
    angle = float(np.clip(rn.normal(0, 0.24), -0.6, 0.6))
    light = float(U(-np.pi, 0.0) if rn.random() < 0.8 else U(0.0, np.pi))
    pal = _palette(rn)
    ink, skin = pal["ink"], pal["skin"]

    # ---- eyes (nuisance)
    eye_kind = rn.choice(["dot", "oval", "white", "ring"], p=[0.3, 0.2, 0.35, 0.15])
    ex, ey = U(0.24, 0.4), U(-0.3, -0.04)
    erx = max(U(0.065, 0.14), 1.5 * px1)
    ery = min(erx * (U(0.9, 1.3) if eye_kind == "dot" else U(0.85, 1.6)), 0.21)
    ery = max(ery, 1.5 * px1)
    gaze = np.array([U(-0.3, 0.3), U(-0.3, 0.3)])
    spark = rn.random() < 0.6
    iris_frac = U(0.5, 0.8)
    # ---- brows (nuisance presence and size; the tilt is expression)
    brows = rn.random() < 0.55
    bl, bw, bgap = U(0.07, 0.15), max(U(0.025, 0.06), px1), U(0.06, 0.14)
    brow_col = ink if rn.random() < 0.7 else pal["hair"]
    # ---- mouth (nuisance: type, size, intensity)
    t = U(0.0, 1.0)  # expression intensity, faint .. exaggerated, label-blind
    w = U(0.2, 0.45)
    a_rel = 0.2 + 0.58 * t
    p = U(1.6, 4.5)
    mtype = rn.choice(["line", "lips", "open"], p=[0.45, 0.17, 0.38])
    lw = max(U(0.03, 0.075), 1.1 * px1)
    o_rel = U(0.25, 0.7) if mtype == "open" else 0.0
    ku, q = U(0.0, 1.0), U(1.6, 3.0)
    teeth, full_teeth, tongue = rn.random() < 0.5, rn.random() < 0.3, rn.random() < 0.35
    teeth_frac, tongue_w, tongue_h = U(0.3, 0.5), U(0.35, 0.6), U(0.3, 0.55)
    lip_th = U(0.03, 0.065)
    mx, tilt = U(-0.04, 0.04), U(-0.04, 0.04)
    # layout: the mouth's vertical extent is label-blind (it only depends on |curvature|)
    eye_bottom = ey + ery
    lo_hi = None
    for _ in range(8):
        a = max(w * a_rel, 1.6 * px1)
        o = w * o_rel
        pad = lw / 2 if mtype == "line" else lip_th if mtype == "lips" else 0.02
        half = (a + o) / 2 + pad
        lo, hi = eye_bottom + 0.1 + half, 0.74 * hbot - half
        if lo <= hi:
            lo_hi = (lo, hi)
            break
        w *= 0.88
    if lo_hi is None:
        lo_hi = (hi, hi)
    my = U(*lo_hi)
    mouth_top = my - half
    # ---- other nuisance features
    nose_kind = rn.choice(
        ["none", "dot", "button", "hook", "nostrils"], p=[0.35, 0.2, 0.2, 0.15, 0.1]
    )
    ny = eye_bottom + (mouth_top - eye_bottom) * U(0.35, 0.6)
    nose_r = U(0.03, 0.09)
    clown = rn.random() < 0.15
    ears = rn.random() < 0.3
    ear_y, ear_rx, ear_ry = ey + U(0.0, 0.15), U(0.12, 0.19), U(0.16, 0.25)
    hair_kind = rn.choice(["none", "cap", "spikes", "afro", "tuft"], p=[0.45, 0.2, 0.12, 0.1, 0.13])
    hair_wave, hair_freq, hair_phase, hair_slant = U(0.0, 0.06), U(4, 14), U(0, 6.3), U(-0.2, 0.2)
    blush = rn.random() < 0.3
    blush_dy, blush_r, blush_a = U(0.12, 0.25), U(0.07, 0.13), U(0.25, 0.5)
    freckles = rn.random() < 0.1
    freck = rn.uniform(-1, 1, (10, 2))
    glasses = rn.random() < 0.08
    glasses_round = rn.random() < 0.6
    eye_dx = U(-0.02, 0.02)

    # ---- expression stream (label only acts here)
    if happy:
        eye_mod = re.choice(["none", "narrow", "arc"], p=[0.45, 0.3, 0.25])
        cheeks, dimples = re.random() < 0.3, re.random() < 0.3
        brow_tilt, brow_arch = re.uniform(-0.1, 0.08), re.uniform(0.0, 0.05)
        tears = pout = False
    else:
        eye_mod = re.choice(["none", "droop", "closed"], p=[0.45, 0.42, 0.13])
        tears, pout = re.random() < 0.35, re.random() < 0.3
        brow_tilt, brow_arch = re.uniform(0.15, 0.8), re.uniform(-0.02, 0.04)
        cheeks = dimples = False
    lid_k = re.uniform(0.5, 1.0) * (0.6 + 0.4 * t)
    lid_c0 = re.uniform(0.3, 0.7)
    droop0, droop1 = re.uniform(0.0, 0.35), re.uniform(0.5, 1.1) * (0.6 + 0.4 * t)
    lid_line = re.random() < 0.7
    arc_rx, arc_ry = re.uniform(1.0, 1.3), re.uniform(0.45, 0.9)
    tear_both, tear_stream = re.random() < 0.5, re.random() < 0.35
    tear_dx, tear_r = re.uniform(-0.3, 0.7), re.uniform(0.035, 0.06)
    pout_w, pout_b = re.uniform(0.35, 0.6), re.uniform(0.035, 0.07)

    parts: list[Part] = []
    add = parts.append
    rim = lw * 0.6  # generic thin line width for extra creases

    # hair behind the head
    if hair_kind == "spikes":
        k = 2 * int(U(5, 9)) + 1
        ang = np.linspace(np.pi * 1.08, np.pi * 1.92, k)
        rad = np.where(np.arange(k) % 2 == 1, U(1.18, 1.35), 0.9)
        pts = np.stack([rad * np.cos(ang), rad * np.sin(ang) * abs(htop)], 1)
        add(Part("hair", np.vstack([pts, [[0.0, 0.0]]]), pal["hair"], outline=True))
    elif hair_kind == "afro":
        add(
            Part(
                "hair",
                _ellipse(0, htop * 0.35, U(1.12, 1.3), abs(htop) * U(0.85, 1.0), 60),
                pal["hair"],
                outline=True,
            )
        )
    if ears:
        for sgn in (-1, 1):
            add(Part("ear", _ellipse(sgn * 0.97, ear_y, ear_rx, ear_ry, 32), skin, outline=True))
            add(
                Part(
                    "line",
                    _arc(0, 0, ear_rx * 0.5, ear_ry * 0.55, -1.2, 1.2, 12) * np.array([sgn, 1])
                    + np.array([sgn * 0.97, ear_y]),
                    pal["nose"],
                    width=rim,
                    depth=-1,
                )
            )
    add(Part("head", head, skin, outline=True))

    # hair cap over the forehead, kept above brows and eyes
    brow_top = ey - ery - bgap - bw - 0.05 if brows else ey - ery - 0.05
    hl = brow_top - 0.06
    if hair_kind in ("cap", "spikes", "afro") and hl > htop + 0.18:

        def hairline(x, hl=hl):
            return hl + hair_slant * x - hair_wave * np.abs(np.sin(hair_freq * x + hair_phase))

        add(Part("hair", _clip_below(head * 1.04, hairline), pal["hair"], outline=True))
    elif hair_kind == "tuft":
        for j in range(int(U(1, 4))):
            x0 = U(-0.25, 0.25)
            cv = np.linspace(0, 1, 10)
            pts = np.stack([x0 + U(-0.25, 0.25) * cv**2, htop + 0.04 - U(0.15, 0.3) * cv], 1)
            add(Part("hair_line", pts, pal["hair"], width=max(lw, 0.035), depth=1))
            del j

    if blush:
        for sgn in (-1, 1):
            add(
                Part(
                    "blush",
                    _ellipse(sgn * (ex + 0.05), eye_bottom + blush_dy, blush_r * 1.3, blush_r, 28),
                    pal["blush"],
                    alpha=blush_a,
                    depth=0,
                )
            )
    if freckles:
        for fx, fy in freck:
            add(
                Part(
                    "freckle",
                    _ellipse(
                        np.sign(fx) * (ex + 0.1 * abs(fx)) * 1.0,
                        eye_bottom + 0.1 + 0.06 * fy,
                        0.012 + 1.0 * px1,
                        0.012 + 1.0 * px1,
                        10,
                    ),
                    pal["nose"] * 0.8,
                    solid=True,
                    depth=0,
                )
            )

    # ---- eyes
    for sgn in (-1, 1):
        cx, cy = sgn * ex + eye_dx, ey
        inner = -sgn  # direction towards the face centre

        def lower_lid(x, cx=cx, cy=cy):  # happy: lower lid pushed up into an upward arc
            d = np.clip((x - cx) / erx, -1, 1)
            f = cy + ery * lid_c0 - ery * lid_k * (1 - d**2)
            return np.maximum(f, cy - 0.35 * ery)

        def upper_lid(x, cx=cx, cy=cy, sgn=sgn):  # sad: upper lid droops towards the outer corner
            outer = np.clip(sgn * (x - cx) / erx, -1, 1)
            return cy - ery + ery * (droop0 + droop1 * (outer + 1) / 2)

        clip = None
        if eye_mod == "narrow":
            clip = lambda pts, f=lower_lid: _clip_below(pts, f)  # noqa: E731
        elif eye_mod == "droop":
            clip = lambda pts, f=upper_lid: _clip_above(pts, f)  # noqa: E731
        if eye_mod == "arc":
            pts = _arc(cx, cy + ery * 0.25, erx * arc_rx, ery * arc_ry, np.pi, 2 * np.pi, 20)
            add(
                Part(
                    "eye_line",
                    pts,
                    ink,
                    width=max(0.03, erx * 0.35, 1.2 * px1),
                    depth=-1,
                    solid=True,
                )
            )
            continue
        if eye_mod == "closed":
            tau = np.linspace(-1, 1, 16)
            pts = np.stack(
                [cx + inner * -1 * erx * 1.1 * tau, cy + ery * (0.4 * tau + 0.12 * (1 - tau**2))], 1
            )
            add(
                Part(
                    "eye_line",
                    pts,
                    ink,
                    width=max(0.03, erx * 0.3, 1.2 * px1),
                    depth=-1,
                    solid=True,
                )
            )
            continue
        c = clip or (lambda pts: pts)
        if eye_kind in ("dot", "oval"):
            add(Part("pupil", c(_ellipse(cx, cy, erx, ery, 36)), ink, solid=True, depth=1))
            if spark:
                sr = min(erx, ery) * 0.32
                add(
                    Part(
                        "spark",
                        c(_ellipse(cx - erx * 0.35, cy - ery * 0.4, sr, sr, 16)),
                        pal["white"],
                        solid=True,
                        depth=0,
                    )
                )
        elif eye_kind == "white":
            add(
                Part(
                    "eye_white",
                    c(_ellipse(cx, cy, erx, ery, 36)),
                    pal["white"],
                    outline=True,
                    depth=1,
                )
            )
            ir = min(erx, ery) * iris_frac
            gx, gy = cx + gaze[0] * (erx - ir), cy + gaze[1] * (ery - ir)
            add(Part("iris", c(_ellipse(gx, gy, ir, ir, 28)), pal["iris"], solid=True, depth=0.5))
            add(
                Part("pupil", c(_ellipse(gx, gy, ir * 0.5, ir * 0.5, 20)), ink, solid=True, depth=1)
            )
            if spark:
                add(
                    Part(
                        "spark",
                        c(_ellipse(gx - ir * 0.35, gy - ir * 0.35, ir * 0.28, ir * 0.28, 12)),
                        pal["white"],
                        solid=True,
                        depth=0,
                    )
                )
        else:  # ring
            add(
                Part(
                    "eye_white",
                    c(_ellipse(cx, cy, erx, ery, 36)),
                    pal["white"],
                    outline=True,
                    depth=1,
                )
            )
            ir = min(erx, ery) * 0.45
            add(
                Part(
                    "pupil",
                    c(_ellipse(cx + gaze[0] * erx * 0.4, cy + gaze[1] * ery * 0.4, ir, ir, 20)),
                    ink,
                    solid=True,
                    depth=1,
                )
            )
        if eye_mod == "droop" and lid_line:
            xs = np.linspace(cx - 1.15 * erx, cx + 1.15 * erx, 14)
            add(
                Part(
                    "eye_line",
                    np.stack([xs, upper_lid(xs)], 1),
                    ink,
                    width=max(0.025, 1.1 * px1),
                    depth=-1,
                )
            )
        if eye_mod == "narrow" and lid_line:
            xs = np.linspace(cx - 1.05 * erx, cx + 1.05 * erx, 14)
            add(
                Part(
                    "eye_line",
                    np.stack([xs, lower_lid(xs)], 1),
                    ink,
                    width=max(0.022, 1.1 * px1),
                    depth=-1,
                )
            )
        if cheeks:
            xs = np.linspace(cx - erx * 1.1, cx + erx * 1.1, 12)
            d = (xs - cx) / (erx * 1.1)
            ys = cy + ery + 0.07 + 0.05 * d**2
            add(Part("line", np.stack([xs, ys], 1), ink, width=max(rim, 1.0 * px1), depth=-1))
        if brows:
            tau = np.linspace(-1, 1, 14)  # -1 inner end, +1 outer end
            xs = cx - inner * bl * tau
            ys = cy - ery - bgap + brow_tilt * bl * tau - brow_arch * (1 - tau**2)
            add(Part("brow", np.stack([xs, ys], 1), brow_col, width=bw, depth=1))

    if glasses:  # independent of the eye state (drawn over open, narrowed or closed eyes)
        gr = max(erx, ery) * 1.55
        for sgn in (-1, 1):
            cx = sgn * ex + eye_dx
            if glasses_round:
                g = _ellipse(cx, ey, gr, gr * 0.9, 36)
            else:
                g = np.array([[-1.1, -0.75], [1.1, -0.75], [1.0, 0.8], [-1.0, 0.8]]) * gr + [cx, ey]
            add(Part("glasses", g, pal["glasses"], width=max(0.025, px1), closed=True, depth=1))
        add(
            Part(
                "glasses",
                np.array([[-ex + gr + eye_dx, ey], [ex - gr + eye_dx, ey]]),
                pal["glasses"],
                width=max(0.025, px1),
                depth=1,
            )
        )

    # ---- nose
    if nose_kind == "dot":
        add(Part("nose", _ellipse(0, ny, nose_r * 0.6, nose_r * 0.45, 16), ink, solid=True))
    elif nose_kind == "button":
        add(
            Part(
                "nose",
                _ellipse(0, ny, nose_r * 1.2, nose_r, 24),
                pal["clown"] if clown else pal["nose"],
                outline=True,
            )
        )
    elif nose_kind == "hook":
        side = 1 if rn.random() < 0.5 else -1
        pts = _arc(0, ny, nose_r * 0.8, nose_r * 1.3, -np.pi / 2, np.pi / 2, 14) * [side, 1]
        add(Part("line", pts, ink, width=max(rim, px1), depth=-1))
    elif nose_kind == "nostrils":
        for sgn in (-1, 1):
            add(
                Part(
                    "nose",
                    _ellipse(sgn * nose_r * 0.6, ny, nose_r * 0.3, nose_r * 0.22, 12),
                    ink,
                    solid=True,
                    depth=-1,
                )
            )

    # ---- mouth: built for "happy" (corners up), mirrored for "sad"
    sgn_m = 1.0 if happy else -1.0
    xs = np.linspace(-w, w, 41)
    f = 1 - np.abs(xs / w) ** p
    g = 1 - np.abs(xs / w) ** q

    def place(yoff: np.ndarray, x: np.ndarray = xs) -> np.ndarray:
        pts = np.stack([x, sgn_m * (yoff - (a + o) / 2)], 1)
        return _rot(pts, tilt) + np.array([mx, my])

    line_pts = place(a * f)
    if mtype == "line":
        add(Part("mouth", line_pts, ink, width=lw, depth=-1, solid=True))
    elif mtype == "lips":
        th = lip_th * (0.3 + 0.7 * (1 - (xs / w) ** 2))
        band = np.vstack([place(a * f - th), place(a * f + th)[::-1]])
        add(Part("lip", band, pal["lip"], outline=True))
        add(Part("mouth", line_pts, ink, width=max(lw * 0.45, px1), depth=-1, solid=True))
    else:
        upper, lower = a * ku * f, a * f + o * g
        add(
            Part(
                "mouth_in",
                np.vstack([place(upper), place(lower)[::-1]]),
                pal["mouth_in"],
                outline=True,
                solid=True,
                depth=-1,
            )
        )
        if teeth and full_teeth:
            add(
                Part(
                    "teeth",
                    np.vstack([place(upper), place(lower)[::-1]]),
                    pal["teeth"],
                    outline=True,
                    depth=0.5,
                )
            )
            add(
                Part(
                    "teeth_line",
                    place((upper + lower) / 2),
                    ink,
                    width=max(lw * 0.35, px1),
                    depth=-1,
                )
            )
        elif teeth:
            tb = np.minimum(upper + teeth_frac * (lower - upper), lower)
            add(
                Part(
                    "teeth",
                    np.vstack([place(upper), place(tb)[::-1]]),
                    pal["teeth"],
                    outline=True,
                    depth=0.5,
                )
            )
        if tongue and not (teeth and full_teeth):
            # tongue rests on whichever curve is lower in the image
            pu, pl = place(upper), place(lower)
            bottom, top = (pl, pu) if pl[20, 1] > pu[20, 1] else (pu, pl)
            sel = np.abs(xs) <= w * tongue_w
            xb = (xs[sel] / (w * tongue_w)).clip(-1, 1)
            hgt = (bottom[20, 1] - top[20, 1]) * tongue_h * np.sqrt(1 - xb**2)
            tt = bottom[sel].copy()
            tt[:, 1] = np.maximum(bottom[sel, 1] - hgt, top[sel, 1])
            add(
                Part(
                    "tongue",
                    np.vstack([bottom[sel], tt[::-1]]),
                    pal["tongue"],
                    outline=True,
                    depth=0.6,
                )
            )
    if pout and mtype != "open":
        sel = np.abs(xs) <= w * pout_w
        xb = (xs[sel] / (w * pout_w)).clip(-1, 1)
        top = line_pts[sel] + [0, lw * 0.3 if mtype == "line" else lip_th * 0.8]
        bot = top + np.stack([np.zeros_like(xb), pout_b * np.sqrt(1 - xb**2)], 1)
        add(Part("lip", np.vstack([top, bot[::-1]]), pal["lip"], outline=True))
    if dimples:
        for end in (0, -1):
            pt = line_pts[end]
            tang = line_pts[end] - line_pts[end + (3 if end == 0 else -3)]
            tang /= np.linalg.norm(tang) + 1e-9
            nrm = np.array([-tang[1], tang[0]])
            tau = np.linspace(-1, 1, 8)[:, None]
            pts = pt + tang * (0.03 + 0.015 * (1 - tau**2)) + nrm * 0.06 * tau
            add(Part("line", pts, ink, width=max(rim, px1), depth=-1))

    # ---- tears
    if tears:
        sides = (-1, 1) if tear_both else ((1,) if re.random() < 0.5 else (-1,))
        for sgn in sides:
            tx = sgn * (ex + tear_dx * erx) + eye_dx
            ty = ey + ery + 0.04 + tear_r * 2.4
            if tear_stream:
                ys = np.linspace(ey + ery * 0.6, ty + 0.18, 10)
                add(
                    Part(
                        "tear_line",
                        np.stack([tx + 0.01 * np.sin(ys * 20), ys], 1),
                        pal["tear"],
                        width=max(tear_r * 0.9, 1.2 * px1),
                        alpha=0.9,
                        depth=1,
                    )
                )
                ty += 0.18
            add(
                Part(
                    "tear",
                    _teardrop(tx, ty, tear_r),
                    pal["tear"],
                    outline=True,
                    depth=1,
                    alpha=0.95,
                )
            )

    return Scene(parts, center, scale, angle, light, pal)


# --------------------------------------------------------------------------- drawing helpers


@lru_cache(maxsize=8)
def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    return xx, yy


def _to_px(sc: Scene, pts: np.ndarray, n: int) -> np.ndarray:
    return sc.center * n + sc.scale * n * _rot(pts, -sc.angle)


def _mask(
    n: int, px: np.ndarray, width: float = 0.0, closed: bool = False, aa: bool = True
) -> np.ndarray:
    m = np.zeros((n, n), np.uint8)
    p = np.round(px * _ONE).astype(np.int32).reshape(-1, 1, 2)
    lt = cv2.LINE_AA if aa else cv2.LINE_8
    if width > 0:
        cv2.polylines(m, [p], closed, 255, max(1, round(width)), lt, _SHIFT)
    else:
        cv2.fillPoly(m, [p], 255, lt, _SHIFT)
    return m.astype(np.float32) * (1.0 / 255.0)


def _part_mask(
    sc: Scene, part: Part, n: int, aa=True, wscale=1.0, pts=None, as_outline=0.0
) -> np.ndarray:
    px = _to_px(sc, part.pts if pts is None else pts, n)
    if as_outline > 0:
        return _mask(n, px, as_outline, closed=True, aa=aa)
    w = part.width * sc.scale * n * wscale if part.width > 0 else 0.0
    return _mask(n, px, w, part.closed, aa)


def _comp(img: np.ndarray, a: np.ndarray, color) -> None:
    img += (np.asarray(color, np.float32) - img) * a[..., None]


def _blur(m: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0.3:
        return m
    if sigma > 6:
        f = int(sigma // 3)
        h, w = m.shape[:2]
        small = cv2.resize(m, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (0, 0), sigma / f)
        big = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        return cv2.GaussianBlur(big, (0, 0), 0.6 * f)  # hide the linear-interpolation facets
    return cv2.GaussianBlur(m, (0, 0), sigma)


def _noise(r: np.random.Generator, n: int, cells: int) -> np.ndarray:
    z = r.random((cells, cells)).astype(np.float32)
    return np.clip(cv2.resize(z, (n, n), interpolation=cv2.INTER_CUBIC), 0, 1)


def _jitter(
    r: np.random.Generator, pts: np.ndarray, amp: float, closed: bool, ctrl: int = 7
) -> np.ndarray:
    n = len(pts)
    k = np.linspace(0, n - 1, ctrl)
    off = r.normal(0, amp, (ctrl, 2))
    if closed:
        off[-1] = off[0]
    idx = np.arange(n)
    return pts + np.stack([np.interp(idx, k, off[:, 0]), np.interp(idx, k, off[:, 1])], 1)


def _light_vec(sc: Scene) -> np.ndarray:
    return np.array([np.cos(sc.light), np.sin(sc.light)])


def _crescent(sc: Scene, part: Part, n: int, m: np.ndarray, amount: float) -> np.ndarray:
    """Part of a shape facing away from the light (amount in px), for shadows and hatching."""
    d = _light_vec(sc) * amount / (sc.scale * n)
    d_local = _rot(d[None], sc.angle)[0]
    shifted = _part_mask(sc, part, n, pts=part.pts + d_local)
    return m * (1 - shifted)


def _contrast_colour(r: np.random.Generator, avoid: list[np.ndarray], dark=None) -> np.ndarray:
    best, best_d = None, -1.0
    for _ in range(25):
        mode = r.random()
        if dark is True:
            c = _hsv(r.uniform(0, 360), r.uniform(0.2, 0.9), r.uniform(0.03, 0.16))
        elif mode < 0.35:
            c = _hsv(r.uniform(0, 360), r.uniform(0.1, 0.5), r.uniform(0.75, 1.0))
        elif mode < 0.75:
            c = _hsv(r.uniform(0, 360), r.uniform(0.3, 1.0), r.uniform(0.3, 1.0))
        else:
            c = _hsv(r.uniform(0, 360), r.uniform(0, 0.15), r.uniform(0.05, 1.0))
        d = min(_dist(c, a) for a in avoid)
        if d > 0.3:
            return c
        if d > best_d:
            best, best_d = c, d
    return best


def _background(
    r: np.random.Generator, n: int, kinds: list[str], avoid: list[np.ndarray]
) -> np.ndarray:
    xx, yy = _grid(n)
    u, v = xx / n, yy / n
    base = _contrast_colour(r, avoid)
    alt = np.clip(base * r.uniform(0.6, 1.3) + r.normal(0, 0.08, 3), 0, 1).astype(np.float32)
    if r.random() < 0.4:
        alt = _contrast_colour(r, avoid)
    kind = kinds[r.integers(len(kinds))]
    phi = r.uniform(0, 2 * np.pi)
    if kind == "solid":
        t = np.zeros_like(u)
    elif kind == "linear":
        t = np.clip((u - 0.5) * np.cos(phi) + (v - 0.5) * np.sin(phi) + 0.5, 0, 1)
    elif kind == "radial":
        t = np.clip(np.hypot(u - r.uniform(0.2, 0.8), v - r.uniform(0.2, 0.8)) / 0.75, 0, 1)
    elif kind == "stripes":
        per = r.uniform(0.06, 0.2)
        t = ((((u * np.cos(phi) + v * np.sin(phi)) / per) % 1.0) < r.uniform(0.3, 0.6)).astype(
            np.float32
        )
    elif kind == "checker":
        c = r.uniform(0.07, 0.2)
        t = ((np.floor(u / c) + np.floor(v / c)) % 2).astype(np.float32)
    elif kind == "dots":
        c, rad = r.uniform(0.06, 0.14), r.uniform(0.2, 0.4)
        du = (u % c) / c - 0.5
        dv = ((v + (np.floor(u / c) % 2) * c / 2) % c) / c - 0.5
        t = (np.hypot(du, dv) < rad).astype(np.float32)
    elif kind == "rays":
        k = int(r.integers(8, 20))
        ang = np.arctan2(v - r.uniform(0.3, 0.7), u - r.uniform(0.3, 0.7)) + phi
        t = ((ang * k / (2 * np.pi)) % 1.0 < 0.5).astype(np.float32)
    elif kind == "clouds":
        t = _noise(r, n, int(r.integers(3, 7)))
    else:  # confetti
        t = np.zeros_like(u)
    img = base * (1 - t[..., None]) + alt * t[..., None]
    img = img.astype(np.float32)
    if kind == "confetti":
        for _ in range(int(r.integers(6, 18))):
            col = _contrast_colour(r, avoid)
            c = r.uniform(0, n, 2)
            s = r.uniform(0.015, 0.05) * n
            shape = r.integers(3)
            if shape == 0:
                px = _ellipse(c[0], c[1], s, s, 20)
            elif shape == 1:
                px = _rot(np.array([[-s, -s], [s, -s], [s, s], [-s, s]]), r.uniform(0, 3)) + c
            else:
                px = _rot(np.array([[0, -s], [s, s * 0.8], [-s, s * 0.8]]), r.uniform(0, 6)) + c
            _comp(img, _mask(n, px), col)
    return img


def _paper(r: np.random.Generator, n: int, tint=None) -> np.ndarray:
    base = (
        tint
        if tint is not None
        else _hsv(r.uniform(30, 60), r.uniform(0.0, 0.15), r.uniform(0.9, 1.0))
    )
    grain = _noise(r, n, max(4, n // 3)) - 0.5
    fib = _noise(r, n, 8) - 0.5
    img = base[None, None, :] * (1 + 0.05 * grain[..., None] + 0.05 * fib[..., None])
    return np.clip(img, 0, 1).astype(np.float32)


# --------------------------------------------------------------------------- styles


def _render_flat(sc: Scene, r: np.random.Generator, n: int) -> np.ndarray:
    kinds = ["solid", "linear", "radial", "stripes", "checker", "dots", "clouds", "confetti"]
    img = _background(r, n, kinds, [sc.pal["skin"]])
    shade = r.random() < 0.55
    amt = r.uniform(0.04, 0.1) * sc.scale * n
    for part in sc.parts:
        m = _part_mask(sc, part, n)
        _comp(img, m * part.alpha, part.color)
        if part.role == "head" and shade:
            _comp(img, _crescent(sc, part, n, m, amt) * 0.55, part.color * 0.78)
    return img


def _halftone(n: int, spacing: float, radius: float) -> np.ndarray:
    xx, yy = _grid(n)
    a, b = (xx + yy) * 0.7071, (xx - yy) * 0.7071
    du = (a % spacing) - spacing / 2
    dv = (b % spacing) - spacing / 2
    return np.clip(radius - np.hypot(du, dv) + 0.5, 0, 1)


def _render_comic(sc: Scene, r: np.random.Generator, n: int) -> np.ndarray:
    kinds = ["solid", "radial", "rays", "dots", "linear"]
    img = _background(r, n, kinds, [sc.pal["skin"]])
    black = (
        sc.pal["ink"] if _luma(sc.pal["ink"]) < 0.2 else np.array([0.05, 0.04, 0.05], np.float32)
    )
    ow = r.uniform(0.03, 0.06) * sc.scale * n
    ow = max(ow, 1.5 * SUPERSAMPLE)
    sp = n / r.uniform(18, 30)
    dots = _halftone(n, sp, sp * r.uniform(0.2, 0.35))
    highlight = r.random() < 0.6
    for part in sc.parts:
        if part.width > 0:
            col = part.color if part.role in ("tear_line", "hair_line") else black
            _comp(img, _part_mask(sc, part, n, wscale=1.25) * part.alpha, col)
            continue
        m = _part_mask(sc, part, n)
        _comp(img, m * part.alpha, part.color)
        if part.role == "head":
            cres = _crescent(sc, part, n, m, 0.12 * sc.scale * n)
            _comp(img, cres * dots * 0.6, black)
            if highlight:
                lv = _rot(_light_vec(sc)[None], sc.angle)[0]
                hp = _ellipse(lv[0] * 0.5, lv[1] * 0.5, 0.16, 0.09, 24)
                hp = _rot(hp - hp.mean(0), np.arctan2(lv[1], lv[0]) + np.pi / 2) + hp.mean(0)
                _comp(img, _part_mask(sc, part, n, pts=hp) * 0.85, np.ones(3))
        if part.outline:
            small = part.role in ("teeth", "tear", "iris", "tongue", "nose")
            _comp(img, _part_mask(sc, part, n, as_outline=ow * (0.55 if small else 1.0)), black)
    return img


def _render_pixel(sc: Scene, r: np.random.Generator, n: int) -> np.ndarray:
    kinds = ["solid", "linear", "checker", "stripes"]
    img = _background(r, n, kinds, [sc.pal["skin"]])
    outline = r.random() < 0.65
    dark = sc.pal["ink"] * 0.6
    for part in sc.parts:
        m = (_part_mask(sc, part, n, aa=False) > 0.5).astype(np.float32)
        _comp(img, m * (1.0 if part.alpha > 0.6 else 0.5), part.color)
        if (
            outline
            and part.outline
            and part.width == 0
            and part.role in ("head", "ear", "hair", "eye_white")
        ):
            _comp(img, _part_mask(sc, part, n, aa=False, as_outline=1.0), dark)
    if r.random() < 0.5:
        lv = r.integers(4, 8)
        img = np.round(img * (lv - 1)) / (lv - 1)
    return img.astype(np.float32)


def _render_paper(sc: Scene, r: np.random.Generator, n: int) -> np.ndarray:
    if r.random() < 0.5:
        img = _paper(r, n, _contrast_colour(r, [sc.pal["skin"]]))
    else:
        img = _paper(r, n)
        if _dist(img[n // 2, n // 2], sc.pal["skin"]) < 0.3:
            img = _paper(r, n, _contrast_colour(r, [sc.pal["skin"]]))
    tex = _noise(r, n, max(4, n // 4)) - 0.5
    off = -_light_vec(sc) * r.uniform(0.02, 0.045) * sc.scale * n
    off_local = _rot(off[None] / (sc.scale * n), sc.angle)[0]
    sig = r.uniform(0.01, 0.025) * sc.scale * n
    strength = r.uniform(0.3, 0.5)
    for part in sc.parts:
        pts = part.pts
        if part.width == 0 and len(pts) > 8:
            pts = _jitter(r, pts, 0.006, True, ctrl=max(6, len(pts) // 2))
        if part.role not in ("spark", "blush", "freckle"):
            sh = _blur(_part_mask(sc, part, n, pts=pts + off_local), sig)
            img *= (1 - strength * sh * part.alpha)[..., None]
        m = _part_mask(sc, part, n, pts=pts)
        col = np.clip(part.color[None, None, :] * (1 + 0.08 * tex[..., None]), 0, 1)
        img += (col - img) * (m * part.alpha)[..., None]
    return img


def _render_watercolour(sc: Scene, r: np.random.Generator, n: int) -> np.ndarray:
    img = _paper(r, n)
    paper = img.copy()
    unit = sc.scale * n
    if r.random() < 0.7:
        wash = _contrast_colour(r, [sc.pal["skin"]])
        blob = np.clip((_noise(r, n, int(r.integers(2, 5))) - 0.3) * 2.0, 0, 1)
        img *= 1 - (r.uniform(0.3, 0.7) * blob)[..., None] * (1 - wash)
    grain = 0.6 * _noise(r, n, max(4, n // 14)) + 0.4 * _noise(r, n, int(r.integers(3, 7)))
    pen = r.random() < 0.4
    pen_col = (
        sc.pal["ink"] if _luma(sc.pal["ink"]) < 0.3 else np.array([0.1, 0.08, 0.1], np.float32)
    )
    pen_off = _rot((r.normal(0, 0.02, 2))[None], 0)[0]
    for part in sc.parts:
        if part.width > 0:
            m = _blur(_part_mask(sc, part, n, wscale=0.9), 0.3 * SUPERSAMPLE)
            a = m * 0.9 * part.alpha
            if _luma(part.color) > 0.5:
                _comp(img, a, part.color)
            else:
                img *= 1 - a[..., None] * (1 - part.color)
            continue
        pts = _jitter(r, part.pts, 0.015 if part.role in ("head", "hair", "ear") else 0.006, True)
        m = _part_mask(sc, part, n, pts=pts)
        soft = _blur(m, 0.012 * unit)
        edge = np.clip(soft - _blur(soft, 0.04 * unit), 0, 1)
        a0 = r.uniform(0.55, 0.85) if part.role in ("head", "hair", "ear", "blush") else 0.95
        a = np.clip(soft * a0 * (0.75 + 0.5 * grain) + edge * 1.4 * a0, 0, 1) * part.alpha
        if part.role in ("head", "ear"):  # the face is painted on clean paper, not over the hair
            _comp(img, np.clip(soft * 1.2, 0, 1), paper)
        if _luma(part.color) > 0.5:  # light paint is opaque (gouache), dark paint glazes
            _comp(img, a, part.color)
        else:
            img *= 1 - a[..., None] * (1 - part.color)
        if pen and part.role in ("head", "eye_white", "mouth_in", "ear", "lip", "hair"):
            ol = _part_mask(sc, part, n, pts=part.pts + pen_off, as_outline=max(1.0, 0.018 * unit))
            _comp(img, ol * 0.85, pen_col)
    return img


def _render_clay(sc: Scene, r: np.random.Generator, n: int) -> np.ndarray:
    _, yy = _grid(n)
    top = _contrast_colour(r, [sc.pal["skin"]])
    bot = np.clip(top * r.uniform(0.55, 0.9), 0, 1)
    t = np.clip(yy / n * r.uniform(0.8, 1.4), 0, 1)[..., None]
    img = (top * (1 - t) + bot * t).astype(np.float32)
    unit = sc.scale * n
    lv = _light_vec(sc)
    L = np.array([lv[0], lv[1], r.uniform(0.6, 1.2)])
    L /= np.linalg.norm(L)
    H = L + np.array([0, 0, 1.0])
    H /= np.linalg.norm(H)
    amb, shin, ks = r.uniform(0.35, 0.5), r.uniform(8, 30), r.uniform(0.15, 0.4)
    head = next(p for p in sc.parts if p.role == "head")
    sh = _part_mask(
        sc, head, n, pts=head.pts * [1.0, 0.9] + _rot((-lv * 0.18)[None], sc.angle)[0] + [0, 0.15]
    )
    img *= (1 - 0.45 * _blur(sh, 0.12 * unit))[..., None]
    for part in sc.parts:
        m = _part_mask(sc, part, n)
        if part.depth == 0 or part.role == "spark":
            _comp(img, m * part.alpha, part.color)
            continue
        ext = np.ptp(_to_px(sc, part.pts, n), axis=0)
        size = part.width * unit if part.width > 0 else max(2.0, float(min(ext)))
        sig = float(np.clip(size * 0.3, 1.0, 0.3 * unit))
        h = _blur(m, sig) * part.depth
        gx = cv2.Sobel(h, cv2.CV_32F, 1, 0, ksize=3) / 8.0
        gy = cv2.Sobel(h, cv2.CV_32F, 0, 1, ksize=3) / 8.0
        k = sig * 2.2
        nx, ny, nz = -gx * k, -gy * k, np.ones_like(gx)
        norm = np.sqrt(nx * nx + ny * ny + 1)
        dif = np.clip((nx * L[0] + ny * L[1] + nz * L[2]) / norm, 0, 1)
        spec = np.clip((nx * H[0] + ny * H[1] + nz * H[2]) / norm, 0, 1) ** shin
        gloss = 2.0 if part.role in ("pupil", "tear", "eye_white") else 1.0
        col = (
            part.color[None, None, :] * (amb + (1 - amb) * dif)[..., None]
            + (ks * gloss * spec)[..., None]
        )
        img += (np.clip(col, 0, 1) - img) * (m * part.alpha)[..., None]
    return img


def _hatch(n: int, angle: float, spacing: float, width: float) -> np.ndarray:
    xx, yy = _grid(n)
    d = xx * np.cos(angle) + yy * np.sin(angle)
    return np.clip(width / 2 - np.abs((d % spacing) - spacing / 2) + 0.5, 0, 1)


def _render_sketch(sc: Scene, r: np.random.Generator, n: int) -> np.ndarray:
    kind = r.random()
    if kind < 0.2:
        img = _paper(r, n, _hsv(r.uniform(25, 40), r.uniform(0.25, 0.45), r.uniform(0.7, 0.85)))
    else:
        img = _paper(r, n)
    if r.random() < 0.2:
        gs = n / r.uniform(10, 20)
        grid = np.maximum(_hatch(n, 0, gs, 1.0), _hatch(n, np.pi / 2, gs, 1.0))
        _comp(img, grid * 0.35, _hsv(r.uniform(190, 220), 0.5, 0.8))
    pc = r.choice(["graphite", "blue", "brown"], p=[0.6, 0.2, 0.2])
    pen = {
        "graphite": _hsv(0, 0, r.uniform(0.12, 0.3)),
        "blue": _hsv(r.uniform(215, 235), r.uniform(0.6, 0.9), r.uniform(0.35, 0.55)),
        "brown": _hsv(r.uniform(15, 30), r.uniform(0.5, 0.8), r.uniform(0.2, 0.35)),
    }[pc]
    unit = sc.scale * n
    lw = max(1.0, r.uniform(0.012, 0.022) * unit)
    passes = int(r.integers(1, 4))
    wash = r.random() < 0.45
    hatch = _hatch(
        n, r.uniform(0.5, 1.1), max(3.0, unit * r.uniform(0.05, 0.09)), max(1.0, lw * 0.8)
    )

    def lines(pts: np.ndarray, closed: bool, width: float, alpha: float) -> None:
        for _ in range(passes):
            q = pts
            if closed:
                q = np.roll(q, int(r.integers(len(q))), axis=0)
                q = np.vstack([q, q[: max(2, len(q) // 12)]])
            q = _jitter(r, q, 0.012, False)
            _comp(img, _mask(n, _to_px(sc, q, n), width) * alpha, pen)

    for part in sc.parts:
        if part.width > 0:
            if part.role in ("tear_line",):
                lines(part.pts, False, lw, 0.7)
            else:
                lines(part.pts, False, float(np.clip(part.width * unit * 0.6, lw, 4 * lw)), 0.85)
            continue
        if part.role == "spark":
            _comp(img, _part_mask(sc, part, n), np.full(3, 0.97, np.float32))
            continue
        if part.role == "blush":
            for k in range(3):
                c = part.pts.mean(0) + np.array([(k - 1) * 0.05, 0.0])
                lines(c + np.array([[0.02, -0.04], [-0.02, 0.04]]), False, lw, 0.7)
            continue
        m = _part_mask(sc, part, n)
        if part.role == "head":
            if wash:
                _comp(img, m * r.uniform(0.2, 0.4), part.color)
            _comp(img, _crescent(sc, part, n, m, 0.15 * unit) * hatch * 0.5, pen)
        if part.role == "hair":
            if wash:
                _comp(img, m * 0.35, part.color)
            _comp(img, m * hatch * 0.6, pen)
        if part.role in ("mouth_in",):
            _comp(img, m * 0.85, pen * 0.8)
        elif part.solid:
            _comp(img, m * 0.92, pen)
            continue
        elif part.role in ("tongue", "lip") and wash:
            _comp(img, m * 0.4, part.color)
        lines(part.pts, True, lw, 0.85)
    return img


def _render_neon(sc: Scene, r: np.random.Generator, n: int) -> np.ndarray:
    base = _hsv(r.uniform(0, 360), r.uniform(0.2, 0.8), r.uniform(0.03, 0.14))
    xx, yy = _grid(n)
    vign = 1 - 0.6 * (((xx / n - 0.5) ** 2 + (yy / n - 0.5) ** 2) * 2)
    img = (base[None, None, :] * vign[..., None]).astype(np.float32)
    if r.random() < 0.3:
        bs = n / r.uniform(6, 12)
        br = np.maximum(_hatch(n, np.pi / 2, bs, 1.0), _hatch(n, 0, bs, 1.0))
        img += br[..., None] * base * 0.6
    h1 = r.uniform(0, 360)
    c1 = _hsv(h1, r.uniform(0.6, 1), 1)
    c2 = _hsv(h1 + r.uniform(90, 270), r.uniform(0.6, 1), 1) if r.random() < 0.6 else c1
    unit = sc.scale * n
    tw = max(1.5, r.uniform(0.02, 0.035) * unit)
    layer = np.zeros_like(img)
    acc = np.zeros(img.shape[:2], np.float32)
    for part in sc.parts:
        if part.role in ("blush", "freckle", "spark"):
            continue
        col = c1 if part.role in ("head", "ear", "hair", "hair_line") else c2
        if part.role in ("tear", "tear_line"):
            col = _hsv(195, 0.7, 1)
        if part.role in ("tongue", "lip"):
            col = _hsv(330, 0.6, 1)
        if part.width > 0:
            m = _part_mask(sc, part, n, wscale=0.8)
            m = np.maximum(m, _mask(n, _to_px(sc, part.pts, n), tw))
        elif part.solid and part.role != "mouth_in":
            m = _part_mask(sc, part, n)
        else:
            m = _part_mask(sc, part, n, as_outline=tw)
        layer += (col - layer) * m[..., None]
        acc = np.maximum(acc, m)
    glow = _blur(layer, 0.05 * unit) * 1.6 + _blur(layer, 0.015 * unit) * 1.0
    img = img + glow * r.uniform(0.6, 1.0)
    core = layer * 0.6 + 0.4
    img += (core - img) * acc[..., None]
    return np.clip(img, 0, 1)


_RENDER = {
    "flat": _render_flat,
    "comic": _render_comic,
    "pixel": _render_pixel,
    "paper": _render_paper,
    "watercolour": _render_watercolour,
    "clay": _render_clay,
    "sketch": _render_sketch,
    "neon": _render_neon,
}


# --------------------------------------------------------------------------- one image


def _post(img: np.ndarray, r: np.random.Generator, pixel: bool) -> np.ndarray:
    n = img.shape[0]
    xx, yy = _grid(n)
    phi = r.uniform(0, 2 * np.pi)
    ramp = ((xx / n - 0.5) * np.cos(phi) + (yy / n - 0.5) * np.sin(phi)) * 2
    img = img * (1 + r.uniform(0, 0.3) * ramp)[..., None]
    img = img * (1 + r.normal(0, 0.05, 3)).astype(np.float32)
    img = img * r.uniform(0.8, 1.15) + r.uniform(-0.06, 0.06)
    img = np.clip(img, 0, 1) ** r.uniform(0.8, 1.25)
    if not pixel and r.random() < 0.25:
        img = cv2.GaussianBlur(img, (0, 0), r.uniform(0.4, 1.0))
    sd = r.uniform(0, 0.035) if r.random() < 0.6 else 0.0
    if sd > 0:
        img = img + r.normal(0, sd, img.shape).astype(np.float32)
    return np.clip(img, 0, 1)


def render(seed: int, class_index: int, i: int, image_size: int) -> np.ndarray:
    """One RGB uint8 image for (seed, class_index, i)."""
    # four independent streams: nuisance (label-blind), expression, rendering noise, post-processing
    ss = np.random.SeedSequence([seed, class_index, i])
    rn, re, rr, rp = (np.random.default_rng(s) for s in ss.spawn(4))
    style = STYLES[int(rn.integers(len(STYLES)))]
    if style == "pixel":
        n = res = int(min(image_size, rn.integers(40, 65)))
        scale_range = (0.3, 0.42)
    else:
        n, res = image_size * SUPERSAMPLE, image_size
        scale_range = (0.2, 0.34)
    sc = _scene(rn, re, CLASSES[class_index] == "happy", res, scale_range)
    img = _RENDER[style](sc, rr, n).astype(np.float32)
    if style == "pixel":
        img = cv2.resize(img, (image_size, image_size), interpolation=cv2.INTER_NEAREST)
    else:
        img = cv2.resize(img, (image_size, image_size), interpolation=cv2.INTER_AREA)
    img = _post(img, rp, style == "pixel")
    return (img * 255 + 0.5).astype(np.uint8)


def _file_spec(seed: int, class_index: int, i: int) -> tuple[str, int]:
    r = np.random.default_rng(np.random.SeedSequence([seed, class_index, i, 7]))
    if r.random() < 0.5:
        return f"{i:05d}.png", 0
    return f"{i:05d}.jpg", int(r.integers(70, 96))


def _expected(per_class: int, seed: int) -> set[str]:
    return {
        f"{cls}/{_file_spec(seed, ci, i)[0]}"
        for ci, cls in enumerate(CLASSES)
        for i in range(per_class)
    } | {MARKER}


def _listing(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def generate(out: Path, per_class: int, image_size: int, seed: int) -> Path:
    """Write ``out/happy`` and ``out/sad`` (per_class images each); return ``out``.

    If ``out`` already holds exactly this set (same marker, same files) it returns at once.
    If ``out`` is non-empty with anything else it raises FileExistsError; nothing existing is
    ever deleted or overwritten.
    """
    out = Path(out)
    if per_class < 1 or image_size < 16 or seed < 0:
        raise ValueError("need per_class >= 1, image_size >= 16, seed >= 0")
    marker = {
        "generator": "scripts/blind_faces.py",
        "version": VERSION,
        "per_class": int(per_class),
        "image_size": int(image_size),
        "seed": int(seed),
        "classes": list(CLASSES),
    }
    if out.exists():
        if not out.is_dir():
            raise FileExistsError(f"{out} exists and is not a directory")
        if any(out.iterdir()):
            try:
                same = json.loads((out / MARKER).read_text()) == marker
            except (OSError, ValueError):
                same = False
            if same and _listing(out) == _expected(per_class, seed):
                return out
            raise FileExistsError(f"{out} is not empty and does not hold this exact set ({marker})")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    tmp.mkdir()
    try:
        for ci, cls in enumerate(CLASSES):
            (tmp / cls).mkdir()
            for i in range(per_class):
                name, quality = _file_spec(seed, ci, i)
                im = Image.fromarray(render(seed, ci, i, image_size), "RGB")
                with open(tmp / cls / name, "xb") as fh:
                    if quality:
                        im.save(fh, format="JPEG", quality=quality)
                    else:
                        im.save(fh, format="PNG")
        with open(tmp / MARKER, "x") as fh:
            json.dump(marker, fh, indent=2)
        os.rename(tmp, out)  # atomic; only succeeds onto a missing or empty directory
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # only our own partial output
        raise
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--per-class", type=int, default=400)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    out = generate(a.out, a.per_class, a.size, a.seed)
    print(f"{out}  ({time.perf_counter() - t0:.1f}s)")


if __name__ == "__main__":
    main()
