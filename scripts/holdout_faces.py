"""A fourth, independent happy/sad face generator: a held-out report set.

This file was written from a short written description of the task only (happy
faces smile with the mouth's corners up, sad faces frown with them down; nothing
else may depend on the label), without reading the project's other image
generators or their tests. Its styles, colours and shapes are therefore an
independent guess at "happy vs sad faces".

It is a held-out REPORT set: use it to report how a trained model generalises to
faces drawn by somebody else. Never tune a default, a threshold, an augmentation
or a model choice on it, or it stops measuring anything.

Only the mouth depends on the label. Every image has two random streams derived
from (seed, class index, image index): the scene stream draws everything that is
not the mouth (style, head, eyes, brows, tears, blush, hair, hats, accessories,
background, size, position, tilt, lighting, degradations, file format) and the
mouth stream draws the mouth's kind and proportions. Neither stream branches on
the label and both draw the same numbers whatever it is; the label only picks the
sign of the mouth's bend (corners up for happy, down for sad).

Styles: shaded portrait with neck and shoulders (indoor or outdoor background),
minimal line-art icon with a misregistered tint, die-cut sticker with a white
border and drop shadow, low-poly facets, chalk on a blackboard, cross-stitch with
backstitched outlines, and stained glass with lead lines.

Usage: python scripts/holdout_faces.py --out DIR [--per-class 200] [--image-size 128] [--seed 0]
"""

from __future__ import annotations

import argparse
import itertools
import json
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
VERSION = 1
MARKER = "HOLDOUT_FACES.json"
STYLES = ("portrait", "lineart", "sticker", "lowpoly", "chalk", "stitch", "glass")
MOUTHS = ("arc", "wobbly", "lips", "open", "grin")
SS = 2  # supersampling factor of the drawing canvas

Col = tuple[float, float, float]
Gen = np.random.Generator


def _hexes(text: str) -> tuple[Col, ...]:
    """'ffe2c8 f3caaa' -> ((255, 226, 200), (243, 202, 170))."""
    return tuple(tuple(float(int(h[i : i + 2], 16)) for i in (0, 2, 4)) for h in text.split())  # type: ignore[misc]


HUMAN = _hexes("ffe2c8 f3caaa e4b48c cd966e b27a56 926446 765038 ecc48c")
FANTASY = _hexes("7ecc78 70aae8 b688de f6dc60 f8a6c4 f89c58 b0b2bc 60d2c8 e26e6e")
HAIR = _hexes("1c1816 422c1e 744e2c c49e5c e8d49c a04222 78787c e8e8e8 dc5aa0 5078dc")
VIVID = _hexes("dc3c3c f09628 f0d23c 50aa50 3c78d2 8250be 28283c e6e6e6 c85a96 2896a0")
CHALKS = _hexes("eeeee4 eeeee4 f4de78 f4a6b0 9cc4f4 aae2a4")
IRIS = _hexes("462d1e 3c6eaa 468250 6e5a3c")
PAPER = _hexes("faf8f0 ffffff ecf4fa faeee1")
CLOTH = _hexes("f0e8d2 fafaf6 dee8f0 d6c8b0")
BIG = {"skin", "ear", "neck", "shadow", "cloth", "hair", "hat", "hat2", "blush"}
MOUTH_ROLES = {"mouth_line", "mouth_edge", "mouth_dark", "lip", "teeth", "tongue", "tooth_line"}


@dataclass
class Prim:
    """One shape in face coordinates (head half-width 1, y down)."""

    role: str
    pts: np.ndarray
    fill: bool = True
    width: float = 0.0  # stroke width in face units (strokes only)
    closed: bool = True
    edge: bool = True  # fills: outlined in styles that outline
    fade: float = 0.0  # mouth only: mix toward the skin colour (low contrast)


# ----------------------------------------------------------------------------- geometry


def _ell(
    cx: float, cy: float, rx: float, ry: float, n: int = 36, a0: float = 0.0, a1: float = 6.2832
) -> np.ndarray:
    """Points on an ellipse, or on the arc a0..a1 of it."""
    full = abs(a1 - a0 - 2 * np.pi) < 1e-3
    t = np.linspace(a0, a1, n, endpoint=not full)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def _band(x: np.ndarray, top: np.ndarray, bot: np.ndarray) -> np.ndarray:
    """Closed polygon between two curves sampled at the same x."""
    return np.concatenate([np.stack([x, top], 1), np.stack([x[::-1], bot[::-1]], 1)])


def _poly(*xy: float) -> np.ndarray:
    return np.array(xy, float).reshape(-1, 2)


def _mouth_params(mrng: Gen) -> dict:
    """Draw the mouth's kind and proportions: always the same draws whatever the label."""
    m = {
        "kind": int(mrng.choice(5, p=[0.3, 0.12, 0.18, 0.25, 0.15])),
        "subtle": bool(mrng.random() < 0.15),
        "mode": int(mrng.integers(3)),
        "w": mrng.uniform(0.24, 0.44),
        "ratio": mrng.uniform(0.32, 0.7),
        "slight": mrng.uniform(0.17, 0.24),
        "p": mrng.uniform(1.7, 2.5),
        "thick": mrng.uniform(0.05, 0.085),
        "wf": mrng.uniform(1.5, 3.0),
        "wp": mrng.uniform(0, 2 * np.pi),
        "open_h": mrng.uniform(0.5, 0.9),
        "flat": mrng.uniform(0.0, 0.3),
        "q": mrng.uniform(0.7, 1.2),
        "grin_d": mrng.uniform(0.45, 0.75),
        "inner": mrng.uniform(0.05, 0.4),
        "teeth": bool(mrng.random() < 0.6),
        "teeth_h": mrng.uniform(0.22, 0.35),
        "tongue": bool(mrng.random() < 0.45),
        "tongue_w": mrng.uniform(0.45, 0.7),
        "tongue_h": mrng.uniform(0.3, 0.5),
        "n_teeth": int(mrng.integers(3, 6)),
        "tu": mrng.uniform(0.04, 0.08),
        "tl": mrng.uniform(0.05, 0.13),
        "ticks": bool(mrng.random() < 0.3),
        "dx": mrng.uniform(-0.03, 0.03),
        "fade": 0.0,
    }
    if m["subtle"]:  # about 15%: small, or low-contrast, or only slightly bent
        if m["mode"] == 0:
            m["w"] *= 0.7
        elif m["mode"] == 1:
            m["fade"] = 0.45
        else:  # open mouths keep their depth: an open slit would not read either way
            m["ratio"] = m["slight"]
            m["grin_d"] = max(0.4, m["slight"] * 2.0)
    return m


def _mouth(m: dict, s: int, top: float, bottom: float, pos: float, r_out: float) -> list[Prim]:
    """The mouth: s=+1 bends the corners up (happy), s=-1 down (sad); all else is shared.

    Shapes are built with the corners at y=0 and the body at y>0, then multiplied
    by s about the mouth's vertical centre, so both labels fill the same box."""
    u = np.linspace(-1.0, 1.0, 41)
    kind, sub, fade = MOUTHS[m["kind"]], m["subtle"], m["fade"]
    w = max(m["w"], (5.5 if sub else 7.0) / r_out)  # output pixels, so it stays readable
    dmin = (2.6 if sub else 3.4) / r_out
    bend = 1.0 - np.abs(u) ** m["p"]
    env = np.sqrt(np.clip(1 - u**2, 0, 1))
    if kind in ("open", "grin"):
        h = max(m["open_h" if kind == "open" else "grin_d"] * w, 2.3 * dmin)
        ext = h
    else:
        h = max(m["ratio"] * w, dmin)
        ext = h + (m["tu"] + m["tl"] if kind == "lips" else 0.0)
    k = min(1.0, 0.92 * (bottom - top) / ext)
    w, h, ext = w * k, h * k, ext * k
    my = top + ext / 2 + pos * max(0.0, bottom - top - ext)
    x = m["dx"] + w * u
    th = max(m["thick"] * (0.7 if sub else 1.0), 1.6 / r_out)
    out: list[Prim] = []

    def add(role: str, pts: np.ndarray, fill: bool = True, width: float = 0.0) -> None:
        out.append(Prim(role, pts, fill, width, fill, role == "lip", fade))

    def curve(y: np.ndarray) -> np.ndarray:
        return my + s * (y - ext / 2)

    if kind in ("arc", "wobbly"):
        y = h * bend
        if kind == "wobbly":
            y = y + 0.09 * h * np.sin(m["wf"] * np.pi * u + m["wp"]) * (1 - u**2)
        pts = np.stack([x, curve(y)], 1)
        add("mouth_line", pts, False, th)
        if m["ticks"]:  # little dimple strokes across the corners
            for end, nxt in ((0, 2), (-1, -3)):
                tan = pts[end] - pts[nxt]
                nrm = np.array([-tan[1], tan[0]]) / (np.hypot(*tan) + 1e-9)
                add(
                    "mouth_line",
                    np.stack([pts[end] - nrm * 0.09, pts[end] + nrm * 0.09]),
                    False,
                    th,
                )
    elif kind == "lips":  # closed-lip smile / pout
        yc = curve(h * bend) + (ext - h) / 2 * s
        add("lip", _band(x, yc - m["tu"] * k * env**1.2, yc + m["tl"] * k * env))
        add("mouth_line", np.stack([x, yc], 1), False, th * 0.7)
    else:  # open: "D" laugh / upside-down "D" wail; grin: a crescent of teeth
        if kind == "open":
            e1, e2 = curve(m["flat"] * h * bend), curve(h * env ** m["q"])
        else:
            e1, e2 = curve(m["inner"] * h * bend), curve(h * bend)
        top_e, bot_e = np.minimum(e1, e2), np.maximum(e1, e2)
        add("mouth_dark", _band(x, top_e, bot_e))
        teeth_b = top_e
        if kind == "grin":
            teeth_b = bot_e
            add("teeth", _band(x, top_e, bot_e))
            add("tooth_line", np.stack([x, (top_e + bot_e) / 2], 1)[4:-4], False, th * 0.35)
        else:  # upper teeth hang from the top edge, the tongue sits on the bottom one
            if m["teeth"]:
                teeth_b = top_e + np.minimum(bot_e - top_e, m["teeth_h"] * h)
                add("teeth", _band(x, top_e, teeth_b))
            if m["tongue"]:
                hump = m["tongue_h"] * h * np.sqrt(np.clip(1 - (u / m["tongue_w"]) ** 2, 0, 1))
                add("tongue", _band(x, np.maximum(bot_e - hump, teeth_b), bot_e))
        if m["teeth"] or kind == "grin":
            for xt in np.linspace(-0.6, 0.6, m["n_teeth"]):
                i = int(np.argmin(np.abs(u - xt)))
                if teeth_b[i] - top_e[i] > 1.5 / r_out:
                    seg = _poly(x[i], top_e[i], x[i], teeth_b[i])
                    add("tooth_line", seg, False, th * 0.3)
        out.append(Prim("mouth_edge", _band(x, top_e, bot_e), False, th * 0.55, fade=fade))
    return out


def _head(rng: Gen, a: float) -> np.ndarray:
    """Head outline: ellipse, rounded square or egg, height 2a, width 2."""
    hp = 2.0 if rng.random() < 0.6 else rng.uniform(2.2, 3.0)
    egg = rng.uniform(-0.12, 0.12)
    t = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    c, sn = np.cos(t), np.sin(t)
    hx, hy = np.sign(c) * np.abs(c) ** (2 / hp), np.sign(sn) * np.abs(sn) ** (2 / hp)
    return np.stack([hx * (1 - egg * hy), a * hy], 1)


def _face(rng: Gen, a: float, mouth: dict, s: int, r_out: float, style: str) -> list[Prim]:
    """All shapes of one face in drawing order; only the mouth's sign depends on s."""
    P: list[Prim] = []

    def F(role: str, pts: np.ndarray, edge: bool = True) -> None:
        P.append(Prim(role, pts, edge=edge))

    def L(role: str, pts: np.ndarray, width: float, closed: bool = False) -> None:
        P.append(Prim(role, pts, False, width, closed))

    head = _head(rng, a)
    right = head[head[:, 0] > 0]
    right = right[np.argsort(right[:, 1])]
    ey, ex = rng.uniform(-0.28, -0.05) * a, rng.uniform(0.3, 0.44)
    er, easp = rng.uniform(0.07, 0.16), rng.uniform(0.8, 1.35)
    eye_kind = int(rng.integers(5))
    if style == "portrait" and rng.random() < 0.7:
        eye_kind = 2
    gaze = rng.uniform(-0.3, 0.3, 2) * er
    arc_up = rng.random() < 0.5
    ew = rng.uniform(0.035, 0.06)
    has_brow, tilt = rng.random() < 0.7, rng.uniform(-0.45, 0.45)
    blen, bgap = rng.uniform(0.2, 0.3), rng.uniform(0.08, 0.16)
    bw, bcurv = rng.uniform(0.03, 0.065), rng.uniform(-0.04, 0.08)
    nose_kind = int(rng.integers(4))
    nose_y, nose_w = ey + rng.uniform(0.26, 0.34) * a, rng.uniform(0.06, 0.12)
    has_ears, ear_rx, ear_ry = rng.random() < 0.55, rng.uniform(0.12, 0.17), rng.uniform(0.18, 0.25)
    earring = rng.random() < 0.3
    hair_kind = int(rng.integers(7))
    hair_len, hair_wide = rng.uniform(0.2, 1.5) * a, rng.uniform(1.1, 1.3)
    brow_top = ey - er * easp - bgap - bw
    hl = min(rng.uniform(-0.8, -0.5) * a, brow_top - 0.06)  # hairline, always above the brows
    side_y = rng.uniform(ey - 0.25, ey - 0.05)
    fringe_q, fringe_wave, fringe_n = (
        rng.uniform(1.5, 4.0),
        rng.uniform(0, 0.06),
        rng.integers(3, 8),
    )
    spiky = rng.random() < 0.25
    blush, freckles, tears = rng.random() < 0.3, rng.random() < 0.15, rng.random() < 0.18
    tear_side, two_tears = (1 if rng.random() < 0.5 else -1), rng.random() < 0.4
    glasses, square_glasses = rng.random() < 0.18, rng.random() < 0.5
    hat_kind = int(rng.integers(1, 6)) if rng.random() < 0.3 else 0
    hat_h, hat_side = rng.uniform(0.6, 1.0), (1 if rng.random() < 0.5 else -1)
    body = rng.random() < (0.9 if style == "portrait" else 0.35)
    neck_w, sh_rx, sh_ry = rng.uniform(0.2, 0.3), rng.uniform(1.5, 2.3), rng.uniform(0.55, 0.85)
    pos = rng.uniform(0.25, 0.7)
    fr = rng.uniform(0, 2 * np.pi, 4)
    frk = rng.uniform(-1, 1, (10, 2))

    if body:  # neck, shoulders, neckline and the shadow under the chin
        y0, y1 = a * 0.55, a + 0.9
        F("neck", _poly(-neck_w, y0, neck_w, y0, neck_w * 1.1, y1, -neck_w * 1.1, y1))
        bust = _ell(0, a + 0.45 + sh_ry, sh_rx, sh_ry, 30, np.pi, 2 * np.pi)
        F("cloth", np.concatenate([bust, [[sh_rx, a + 9], [-sh_rx, a + 9]]]))
        F("neck", _ell(0, a + 0.45, neck_w * 1.05, 0.22, 24, 0, np.pi), False)
        F("shadow", _ell(0, a * 0.92, neck_w * 1.15, 0.2, 24), False)
    if hair_kind == 2:  # long hair falling behind the head
        top = _ell(0, -0.02, hair_wide, 1.08 * a, 30, np.pi, 2 * np.pi)
        F("hair", np.concatenate([[[-hair_wide, hair_len]], top, [[hair_wide, hair_len]]]))
    elif hair_kind == 3:  # afro
        r = rng.uniform(1.3, 1.55)
        wob = 1 + 0.05 * np.sin(14 * np.linspace(0, 2 * np.pi, 90, endpoint=False) + fr[0])
        F("hair", (_ell(0, 0, r, r, 90) * wob[:, None]) + [0, -0.2 * a])
    elif hair_kind == 4:  # bun
        F("hair", _ell(0, -1.05 * a, 0.34, 0.3, 30))
    if has_ears:
        ye = ey + 0.12
        for sd in (-1, 1):
            xe = sd * float(np.interp(ye, right[:, 1], right[:, 0])) * 0.96
            F("ear", _ell(xe, ye, ear_rx, ear_ry, 30))
            inner = _ell(0, ye, ear_rx * 0.45, ear_ry * 0.5, 12, -np.pi / 2, np.pi / 2)
            L("nose", inner * [sd, 1] + [xe + sd * 0.03, 0], 0.025)
            if earring:
                F("metal", _ell(xe, ye + ear_ry + 0.05, 0.05, 0.05, 16))
    F("skin", head)
    if hair_kind:  # the cap of hair over the top of the head, its fringe above the brows
        grow = 1.0 if spiky else 1.06
        alpha = np.arcsin(-np.clip(side_y / (a * grow), -0.99, 0.99))
        ang = np.linspace(np.pi + alpha, 2 * np.pi - alpha, 40)
        arc = np.stack([grow * np.cos(ang), a * grow * np.sin(ang) - 0.01], 1)
        if spiky:
            arc = arc * (1 + 0.12 * np.abs(np.sin(7 * ang + fr[1])))[:, None]
        fx = np.linspace(arc[-1, 0], -arc[-1, 0], 30)
        fy = side_y + (hl - side_y) * (1 - np.abs(fx / arc[-1, 0]) ** fringe_q)
        fy = fy + fringe_wave * np.sin(fringe_n * np.pi * fx + fr[2])
        lim = np.where(np.abs(fx) < ex + 0.35, brow_top - 0.04, side_y)
        F("hair", np.concatenate([arc, np.stack([fx, np.minimum(fy, lim)], 1)]))
    if blush:
        for sd in (-1, 1):
            F("blush", _ell(sd * (ex + 0.1), ey + er * easp + 0.16, 0.15, 0.085, 24), False)
    if freckles:
        for fx_, fy_ in frk:
            F("freckle", _ell(fx_ * 0.45, ey + er + 0.15 + fy_ * 0.06, 0.02, 0.02, 8), False)
    big = 1.25 if eye_kind == 4 else 1.0
    for cx in (-ex, ex):
        gx, gy = cx + gaze[0], ey + gaze[1]
        if eye_kind == 0:  # dots
            F("pupil", _ell(cx, ey, er * 0.55, er * 0.55 * easp, 20))
            F("glint", _ell(cx + er * 0.2, ey - er * 0.2, er * 0.15, er * 0.15, 10), False)
        elif eye_kind in (1, 4):  # round white eyes (4: big cartoon eyes)
            F("eye_white", _ell(cx, ey, er * big, er * easp * big, 30))
            F("iris", _ell(gx, gy, er * 0.6, er * 0.6, 20))
            F("pupil", _ell(gx, gy, er * 0.32, er * 0.32, 16), False)
            F("glint", _ell(gx + er * 0.18, gy - er * 0.2, er * 0.14, er * 0.14, 10), False)
        elif eye_kind == 2:  # almond with an upper lid
            up = _ell(cx, ey, er * 1.3, er * 0.6, 18, np.pi, 2 * np.pi)
            F("eye_white", np.concatenate([up, _ell(cx, ey, er * 1.3, er * 0.45, 18, 0, np.pi)]))
            F("iris", _ell(cx + gaze[0] / 2, ey, er * 0.42, er * 0.42, 18), False)
            F("pupil", _ell(cx + gaze[0] / 2, ey, er * 0.21, er * 0.21, 12), False)
            L("eye_line", up, ew * 1.1)
        else:  # closed eyes, a curved line either way up (whatever the label)
            ue = np.linspace(-1, 1, 15)
            yy = ey + (-1 if arc_up else 1) * er * 0.5 * (1 - ue**2)
            L("eye_line", np.stack([cx + er * 1.1 * ue, yy], 1), ew)
    if glasses:
        r = er * big * 1.5 + 0.05
        for cx in (-ex, ex):
            ring = _ell(cx, ey, r, r * 0.9, 36)
            if square_glasses:
                ring = np.clip(ring, [cx - r * 0.95, ey - r * 0.8], [cx + r * 0.95, ey + r * 0.8])
            L("glasses", ring, 0.04, True)
        L("glasses", _poly(-ex + r * 0.9, ey, ex - r * 0.9, ey), 0.04)
    if has_brow:  # any tilt, worried or cross, for both labels
        ub = np.linspace(-1, 1, 9)
        for sd in (-1, 1):
            by = brow_top + bw / 2 - bcurv * (1 - ub**2) + sd * ub * np.tan(tilt) * blen / 2
            L("brow", np.stack([sd * ex + ub * blen / 2, by], 1), bw)
    if nose_kind == 1:
        L("nose", _poly(0.02, ey + 0.08, -0.03, nose_y, nose_w * 0.6, nose_y), 0.03)
    elif nose_kind == 2:
        for sd in (-1, 1):
            F("nose", _ell(sd * nose_w * 0.45, nose_y - 0.02, 0.025, 0.02, 10))
    elif nose_kind == 3:
        L("nose", _ell(0, nose_y - nose_w * 0.6, nose_w, nose_w * 0.6, 15, 0.3, np.pi - 0.3), 0.03)
    if tears:
        for k in range(2 if two_tears else 1):
            tx = (tear_side if k == 0 else -tear_side) * (ex + er * 0.6)
            ty = ey + er * easp + 0.1 + 0.04 * k
            F(
                "tear",
                np.concatenate([_ell(tx, ty, 0.055, 0.055, 16, -0.35, 3.49), [[tx, ty - 0.13]]]),
            )
    mouth_top = max(nose_y if nose_kind else ey + 0.26 * a, ey + er * easp) + 0.08
    P.extend(_mouth(mouth, s, mouth_top, 0.84 * a, pos, r_out))
    hb = hl - 0.02
    if hat_kind in (1, 2):  # beanie with a pompom / cap with a visor
        al = np.arcsin(-np.clip((hb + 0.05) / (1.1 * a), -0.99, 0.99))
        dome = _ell(0, -0.05, 1.1, 1.12 * a, 36, np.pi + al, 2 * np.pi - al)
        F("hat", dome)
        xb = dome[0, 0] - 0.03
        if hat_kind == 1:
            F("hat2", _poly(xb, hb - 0.2, -xb, hb - 0.2, -xb, hb, xb, hb))
            F("hat2", _ell(0, -1.17 * a - 0.05, 0.18, 0.18, 20))
        else:
            F("hat2", _ell(hat_side * 0.55, hb, 0.8, 0.13, 30))
    elif hat_kind == 3:  # top hat
        ht = hb - hat_h - 0.2
        F("hat", _ell(0, hb, 1.2, 0.16, 36))
        F("hat", _poly(-0.7, hb, 0.7, hb, 0.65, ht, -0.65, ht))
        F("hat2", _poly(-0.69, hb - 0.04, 0.69, hb - 0.04, 0.68, hb - 0.2, -0.68, hb - 0.2))
    elif hat_kind in (4, 5):  # bow / flower
        bx, by = hat_side * 0.58, -0.82 * a
        for k in range(2 if hat_kind == 4 else 5):
            if hat_kind == 4:
                d = 0.32 * (2 * k - 1)
                F("hat", _poly(bx, by, bx + d, by - 0.2, bx + d, by + 0.2))
            else:
                an = fr[3] + k * 2 * np.pi / 5
                F("hat", _ell(bx + 0.13 * np.cos(an), by + 0.13 * np.sin(an), 0.1, 0.1, 14))
        F("hat2", _ell(bx, by, 0.08, 0.08, 14))
    return P


# ----------------------------------------------------------------------------- drawing


def _c(col: Col | np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in np.clip(col, 0, 255))


def _mix(a: Col, b: Col, t: float) -> Col:
    return tuple(np.asarray(a, float) * (1 - t) + np.asarray(b, float) * t)  # type: ignore[return-value]


def _mul(a: Col, f: float) -> Col:
    return tuple(np.clip(np.asarray(a, float) * f, 0, 255))  # type: ignore[return-value]


def _pick(rng: Gen, cols: tuple[Col, ...], amt: float) -> Col:
    """One colour of cols, jittered by up to amt per channel."""
    col = np.asarray(cols[rng.integers(len(cols))], float)
    return tuple(np.clip(col + rng.uniform(-amt, amt, 3), 0, 255))  # type: ignore[return-value]


def _fix(px: np.ndarray) -> list[np.ndarray]:
    return [np.round(px * 16).astype(np.int32)]


def _fill(img: np.ndarray, px: np.ndarray, col: Col | float) -> None:
    c = (float(col),) if np.isscalar(col) else _c(col)  # type: ignore[arg-type]
    cv2.fillPoly(img, _fix(px), c, cv2.LINE_AA, 4)


def _dashes(px: np.ndarray, closed: bool, step: float) -> list[np.ndarray]:
    """Cut a polyline into stitch-length segments with small gaps."""
    if closed:
        px = np.concatenate([px, px[:1]])
    s = np.concatenate([[0], np.cumsum(np.hypot(*np.diff(px, axis=0).T))])
    if s[-1] < step:
        return [px]
    q = np.linspace(0, s[-1], max(1, round(s[-1] / step)) + 1)
    pts = np.stack([np.interp(q, s, px[:, 0]), np.interp(q, s, px[:, 1])], 1)
    return [
        np.stack([p * 0.88 + n * 0.12, p * 0.12 + n * 0.88]) for p, n in itertools.pairwise(pts)
    ]


def _line(li: np.ndarray, lm: np.ndarray, px: np.ndarray, col: Col, w: float, closed: bool,
          dash: float) -> None:  # fmt: skip
    """A line into the line colour layer (hard, a little wider) and its mask (anti-aliased)."""
    th = max(1, round(w))
    for part in _dashes(px, closed, dash) if dash > 0 else [px]:
        cl = closed and dash <= 0
        cv2.polylines(li, _fix(part), cl, _c(col), th + 2, cv2.LINE_8, 4)
        cv2.polylines(lm, _fix(part), cl, 255, th, cv2.LINE_AA, 4)


ColFn = Callable[[Prim], "Col | None"]


def _render(prims: list[Prim], T: np.ndarray, base: np.ndarray, fcol: ColFn, lcol: ColFn,
            lw: float, fade_to: Col, lines: np.ndarray | None = None, dash: float = 0.0,
            jit: np.ndarray | None = None) -> tuple[np.ndarray, ...]:  # fmt: skip
    """Draw shapes in order, later fills hiding earlier lines.

    Returns the fill image, fill mask, line colour layer and line mask (see _over).
    T maps face units to canvas pixels; strokes are p.width face units wide, the
    outlines of fills lw pixels."""
    S = base.shape[0]
    img, fm = base.copy(), np.zeros((S, S), np.uint8)
    li = np.zeros_like(base)
    lm = np.zeros((S, S), np.uint8) if lines is None else lines.copy()
    A, t = T[:, :2], T[:, 2]
    scale = float(np.sqrt(abs(np.linalg.det(A))))
    for k, p in enumerate(prims):
        px = p.pts @ A.T + t
        width = p.width * scale
        if p.fill:
            c = fcol(p)
            if c is not None:
                _fill(img, px, _mix(c, fade_to, p.fade))
                _fill(fm, px, 255)
            _fill(lm, px, 0)
            width = lw if p.edge else 0.0
        c = lcol(p) if width > 0 else None
        if c is not None:
            c = _mix(c, fade_to, p.fade)
            _line(li, lm, px, c, width, p.fill or p.closed, dash)
            if jit is not None:
                _line(li, lm, px + jit[k], c, width * 0.6, p.fill or p.closed, dash)
    return img, fm, li, lm


def _over(img: np.ndarray, li: np.ndarray, lm: np.ndarray) -> np.ndarray:
    a = lm.astype(np.float32)[..., None] / 255
    return (img * (1 - a) + li * a).astype(np.uint8)


def _grad(S: int, c1: Col, c2: Col, ang: float) -> np.ndarray:
    y, x = np.mgrid[0:S, 0:S].astype(np.float32) / S
    t = np.clip((x - 0.5) * np.cos(ang) + (y - 0.5) * np.sin(ang) + 0.5, 0, 1)[..., None]
    return (np.asarray(c1, np.float32) * (1 - t) + np.asarray(c2, np.float32) * t).astype(np.uint8)


def _lowfreq(rng: Gen, S: int, cells: int) -> np.ndarray:
    small = rng.random((cells, cells)).astype(np.float32)
    return cv2.resize(small, (S, S), interpolation=cv2.INTER_CUBIC)


def _colours(rng: Gen, p_human: float) -> dict[str, Col]:
    """The scene's colour for every role (the same draws for both labels)."""
    human, fantasy = _pick(rng, HUMAN, 12), _pick(rng, FANTASY, 12)
    skin = human if rng.random() < p_human else fantasy
    hair, hat, hat2, cloth = _pick(rng, HAIR, 14), *(_pick(rng, VIVID, 25) for _ in range(3))
    lum = 0.3 * skin[0] + 0.59 * skin[1] + 0.11 * skin[2]
    return {
        "skin": skin, "ear": _mul(skin, 0.94), "neck": _mul(skin, 0.86),
        "shadow": _mul(skin, 0.7), "cloth": cloth, "hair": hair, "hat": hat, "hat2": hat2,
        "eye_white": (244, 242, 236), "iris": _pick(rng, IRIS, 15), "pupil": (18, 16, 20),
        "glint": (255, 255, 255), "eye_line": (25, 20, 22), "brow": _mul(hair, 0.55),
        "nose": _mul(skin, 0.62), "blush": _mix(skin, (235, 80, 90), 0.35),
        "freckle": _mul(skin, 0.66), "tear": (150, 205, 250),
        "glasses": _pick(rng, _hexes("1e1e23 962828 283c8c c8aa46"), 0),
        "metal": _pick(rng, _hexes("e6be46 c8c8d2"), 0),
        "mouth_line": _mix(_mul(skin, 0.25), (60, 10, 15), 0.4), "mouth_edge": _mul(skin, 0.3),
        "mouth_dark": (70, 18, 24), "teeth": (250, 248, 240), "tongue": (225, 95, 105),
        "tooth_line": (150, 140, 140),
        "lip": _mix(_mul(skin, 0.72 if lum > 110 else 0.8), (190, 60, 70), 0.35),
    }  # fmt: skip


# ----------------------------------------------------------------------------- styles


def _shade(rng: Gen, img: np.ndarray, fm: np.ndarray, rpx: float, c: np.ndarray,
           strength: float) -> np.ndarray:  # fmt: skip
    """Round-looking light: darker toward silhouette edges, a directional gradient, a highlight."""
    S = img.shape[0]
    ang = rng.uniform(0, 2 * np.pi)
    dist = cv2.distanceTransform((fm > 127).astype(np.uint8), cv2.DIST_L2, 5)
    y, x = np.mgrid[0:S, 0:S].astype(np.float32)
    g = np.clip(((x - c[0]) * np.cos(ang) + (y - c[1]) * np.sin(ang)) / (1.3 * rpx), -1, 1)
    hx, hy = c[0] - np.cos(ang) * 0.35 * rpx, c[1] - np.sin(ang) * 0.35 * rpx
    hi = np.exp(-((x - hx) ** 2 + (y - hy) ** 2) / (2 * (0.3 * rpx) ** 2))
    shade = 0.7 + 0.3 * np.clip(dist / (0.35 * rpx), 0, 1) ** 0.6 - strength * g
    shade = cv2.GaussianBlur(shade.astype(np.float32), (0, 0), 0.04 * rpx + 0.5)
    a = fm.astype(np.float32)[..., None] / 255
    lit = img * shade[..., None] + 40 * strength * hi[..., None]
    return np.clip(img * (1 - a) + lit * a, 0, 255).astype(np.uint8)


def _bg_room(rng: Gen, S: int) -> np.ndarray:
    """A blurred indoor wall (windows, pictures, floor) or outdoor scene behind a portrait."""
    if rng.random() < 0.55:
        wall = _mix(rng.uniform(70, 230, 3), (150, 150, 150), rng.uniform(0.2, 0.6))
        dark = _c(_mul(wall, 0.5))
        img = _grad(S, wall, _mul(wall, rng.uniform(0.55, 0.9)), rng.uniform(0, 2 * np.pi))
        for _ in range(int(rng.integers(1, 4))):
            x0, y0 = (rng.uniform(-0.2, 0.9, 2) * S).astype(int)
            x1, y1 = x0 + int(rng.uniform(0.15, 0.5) * S), y0 + int(rng.uniform(0.15, 0.5) * S)
            window = rng.random() < 0.4
            col = _pick(rng, _hexes("d7e8fa") if window else VIVID, 20)
            cv2.rectangle(img, (x0, y0), (x1, y1), dark, -1)
            cv2.rectangle(img, (x0 + 5, y0 + 5), (x1 - 5, y1 - 5), _c(col), -1)
            if window:
                cv2.line(img, ((x0 + x1) // 2, y0), ((x0 + x1) // 2, y1), dark, 4)
        img[int(rng.uniform(0.7, 0.98) * S) :] = np.uint8(
            _mul(_pick(rng, _hexes("785a3c"), 40), 0.9)
        )
    else:
        sky = _pick(rng, _hexes("78aaeb f0aa78 aab4be 5a78be"), 20)
        hz = int(rng.uniform(0.45, 0.8) * S)
        img = _grad(S, sky, _mix(sky, (255, 255, 255), 0.5), np.pi / 2)
        img[hz:] = np.uint8(_pick(rng, _hexes("5a8c46 c8b482 6e6e73"), 20))
        for _ in range(int(rng.integers(3, 9))):
            cx, r = int(rng.uniform(0, S)), rng.uniform(0.06, 0.25) * S
            col = _c(_pick(rng, _hexes("326432 50505a 96826e"), 25))
            cv2.ellipse(
                img, (cx, hz), (int(r), int(r * rng.uniform(0.6, 1.8))), 0, 180, 360, col, -1
            )
    return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.01, 0.035) * S)


def _pattern(rng: Gen, S: int) -> np.ndarray:
    """Stripes, polka dots, checks or plain, in two related colours."""
    c1, c2 = _pick(rng, VIVID, 30), _pick(rng, VIVID, 30)
    c2 = _mix(c1, c2, 0.35)
    y, x = np.mgrid[0:S, 0:S].astype(np.float32)
    per, ang, kind = rng.uniform(0.06, 0.16) * S, rng.uniform(0, np.pi), rng.integers(4)
    if kind == 0:
        m = ((x * np.cos(ang) + y * np.sin(ang)) % per) < per / 2
    elif kind == 1:
        m = np.hypot((x % per) - per / 2, (y % per) - per / 2) < per * 0.25
    else:
        m = (((x // per) + (y // per)) % 2 == 0) & (kind == 2)
    return np.where(m[..., None], np.uint8(c2), np.uint8(c1))


def _style(name: str, rng: Gen, prims: list[Prim], pal: dict[str, Col], T: np.ndarray,
           S: int, rpx: float) -> np.ndarray:  # fmt: skip
    """Render the shapes in one style on an S x S canvas (RGB uint8); rpx = head half-width."""
    centre, skin = T[:, 2], pal["skin"]
    ink = _pick(rng, _hexes("141216 231e3c 3c1e14"), 10)
    lw = rng.uniform(0.03, 0.06) * rpx

    def colour(p: Prim) -> Col:
        return pal[p.role]

    if name == "portrait":
        thin = ("eye_white", "lip", "iris", "tear")
        img, fm, li, lm = _render(
            prims, T, _bg_room(rng, S), colour,
            lambda p: _mul(pal[p.role], 0.55) if p.role in thin or not p.fill else None,
            max(1.0, 0.02 * rpx), skin,
        )  # fmt: skip
        out = _over(img, li, lm)
        out = _shade(rng, out, np.maximum(fm, lm), rpx, centre, rng.uniform(0.1, 0.3))
        return cv2.GaussianBlur(out, (0, 0), 0.6 * SS)
    if name == "lineart":
        paper = _pick(rng, PAPER, 5)
        base = np.full((S, S, 3), paper, np.uint8)
        if rng.random() < 0.4:  # a round badge behind the icon
            badge = _c(_mix(paper, _pick(rng, VIVID, 0), 0.25))
            radius = int(rpx * rng.uniform(1.4, 1.9))
            cv2.circle(base, (int(centre[0]), int(centre[1])), radius, badge, -1, cv2.LINE_AA)
        dark = {"pupil", "mouth_dark", "freckle", "eye_line"}
        img, _, li, lm = _render(
            prims, T, base, lambda p: ink if p.role in dark else paper,
            lambda p: ink if p.role != "glint" else None, lw, paper,
        )  # fmt: skip
        out = _over(img, li, lm)
        if rng.random() < 0.5:  # a flat tint printed slightly off register under the ink
            T2 = T.copy()
            T2[:, 2] += rng.normal(0, 0.04 * rpx, 2)
            tint = {r: _mix(paper, pal[r], 0.55) for r in BIG | {"iris", "lip", "tongue"}}
            blank = np.full((S, S, 3), paper, np.uint8)
            timg = _render(prims, T2, blank, lambda p: tint.get(p.role, paper), lambda p: None,
                           0, paper)[0]  # fmt: skip
            out = (out * (timg / np.float32(paper).clip(1))).clip(0, 255).astype(np.uint8)
        return out
    if name == "sticker":
        bg = _pattern(rng, S)
        white = np.full((S, S, 3), 255, np.uint8)
        img, fm, li, lm = _render(prims, T, white, colour, lambda p: ink, lw, skin)
        content, mask = _over(img, li, lm), np.maximum(fm, lm)
        b = max(2, int(rng.uniform(0.07, 0.14) * rpx))
        border = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * b + 1,) * 2))
        border = cv2.GaussianBlur(border, (0, 0), 0.8).astype(np.float32)[..., None] / 255
        d, ang = rng.uniform(0.04, 0.12) * rpx, rng.uniform(0, 2 * np.pi)
        M = np.float32([[1, 0, d * np.cos(ang)], [0, 1, d * np.sin(ang)]])
        shadow = cv2.GaussianBlur(cv2.warpAffine(border[..., 0], M, (S, S)), (0, 0), 0.05 * rpx + 1)
        out = bg.astype(np.float32) * (1 - rng.uniform(0.3, 0.6) * shadow[..., None])
        out = out * (1 - border) + rng.uniform(242, 255) * border
        a = mask.astype(np.float32)[..., None] / 255
        return (out * (1 - a) + content * a).clip(0, 255).astype(np.uint8)
    if name == "lowpoly":
        c1, c2 = _pick(rng, VIVID, 30), _pick(rng, VIVID, 30)
        ang = rng.uniform(0, 2 * np.pi)
        base = _grad(S, _mix(c1, (128, 128, 128), 0.3), _mix(c2, (40, 40, 40), 0.3), ang)
        big = [p for p in prims if p.role in BIG]
        img, fm, _, _ = _render(big, T, base, colour, lambda p: None, 0, skin)
        img = _shade(rng, img, fm, rpx, centre, rng.uniform(0.25, 0.45))
        sp = S / rng.uniform(7, 12)
        gx, gy = np.meshgrid(np.arange(0, S + 1, sp), np.arange(0, S + 1, sp))
        pts = np.stack([gx.ravel(), gy.ravel()], 1) + rng.uniform(-0.35, 0.35, (gx.size, 2)) * sp
        mask = (fm > 127).astype(np.uint8)
        cnts, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        step = max(1, int(sp / 2.5))
        pts = np.concatenate([pts, *(c[::step, 0].astype(float) for c in cnts)])
        sd = cv2.Subdiv2D((0, 0, S, S))
        sd.insert([(float(px), float(py)) for px, py in np.clip(pts, 0, S - 1e-3)])
        blur = cv2.GaussianBlur(img, (0, 0), sp / 5)
        out = img.copy()
        for tri in sd.getTriangleList().reshape(-1, 3, 2):
            if tri.min() >= -1 and tri.max() <= S + 1:
                cx, cy = np.clip(tri.mean(0), 0, S - 1).astype(int)
                cv2.fillConvexPoly(out, np.round(tri).astype(np.int32), _c(blur[cy, cx]))
        feats = []
        for p in prims:  # features on top, with few vertices (the mouth keeps enough to bend)
            if p.role not in BIG:
                st = max(1, len(p.pts) // (20 if p.role in MOUTH_ROLES else 7))
                pts = p.pts[::st] if p.closed else np.concatenate([p.pts[:-1:st], p.pts[-1:]])
                feats.append(Prim(p.role, pts, p.fill, p.width, p.closed, p.edge, p.fade))
        img, _, li, lm = _render(feats, T, out, colour, lambda p: _mul(pal[p.role], 0.7),
                                 max(1.0, 0.02 * rpx), skin)  # fmt: skip
        return _over(img, li, lm)
    if name == "chalk":
        board = _pick(rng, _hexes("223e30 26282c 1c283c"), 8)
        base = np.full((S, S, 3), board, np.float32) * (0.85 + 0.3 * _lowfreq(rng, S, 5))[..., None]
        base = base.clip(0, 255).astype(np.uint8)
        grp = [_pick(rng, CHALKS, 0) for _ in range(4)]
        feature = grp[0] if rng.random() < 0.4 else CHALKS[0]
        alpha = dict(skin=0.18, ear=0.18, neck=0.15, shadow=0.08, hair=0.35, hat=0.4, hat2=0.5,
                     cloth=0.3, eye_white=0.4, iris=0.6, pupil=0.95, teeth=0.9, tongue=0.5,
                     lip=0.45, blush=0.35, tear=0.5, metal=0.8, freckle=0.7)  # fmt: skip
        tone = dict(skin=grp[1], ear=grp[1], neck=grp[1], hair=grp[2], hat=grp[3], hat2=grp[3],
                    cloth=grp[3], blush=CHALKS[3], tongue=CHALKS[3], lip=CHALKS[3],
                    tear=CHALKS[4])  # fmt: skip
        jit = rng.normal(0, 0.012 * rpx, (len(prims), 2))
        img, _, li, lm = _render(
            prims, T, base,
            lambda p: _mix(board, tone.get(p.role, feature), alpha.get(p.role, 0.0)),
            lambda p: tone.get(p.role, feature) if p.role != "glint" else None,
            lw * 1.4, board, jit=jit,
        )  # fmt: skip
        out = _over(img, li, lm).astype(np.float32)
        grain = cv2.blur(rng.random((S, S)).astype(np.float32), (5, 1))
        tex = np.clip((grain - 0.15) * 2.2, 0.3, 1)[..., None]
        return (base + (out - base) * tex).clip(0, 255).astype(np.uint8)
    if name == "stitch":
        cloth = _pick(rng, CLOTH, 6)
        n = max(8, round(S / float(np.clip(2 * rpx / rng.uniform(13, 19), 5, S / 14))))
        cell = S / n
        base = np.full((S, S, 3), cloth, np.uint8)
        for k in range(n + 1):  # the weave of the canvas
            v = round(k * cell)
            cv2.line(base, (v, 0), (v, S), _c(_mul(cloth, 0.93)), 1)
            cv2.line(base, (0, v), (S, v), _c(_mul(cloth, 0.93)), 1)
        plain = ("brow", "glasses", "metal")
        art, fm, li, lm = _render(
            prims, T, np.zeros((S, S, 3), np.uint8), colour,
            lambda p: _mul(pal[p.role], 0.45) if p.fill else pal[p.role] if p.role in plain else ink,
            max(2.0, 0.45 * cell), skin, dash=cell,
        )  # fmt: skip
        w = fm.astype(np.float32) / 255
        cov = cv2.resize(w, (n, n), interpolation=cv2.INTER_AREA)
        mean = cv2.resize(art * w[..., None], (n, n), interpolation=cv2.INTER_AREA)
        mean = mean / np.maximum(cov, 1e-3)[..., None] + rng.uniform(-10, 10, (n, n, 1))
        out = base.copy()
        th = max(1, round(cell * 0.32))
        for i, j in zip(*np.nonzero(cov > 0.45), strict=True):  # one cross per covered cell
            x0, y0 = round((j * cell + 0.6) * 16), round((i * cell + 0.6) * 16)
            x1, y1 = round(((j + 1) * cell - 0.6) * 16), round(((i + 1) * cell - 0.6) * 16)
            cv2.line(out, (x0, y0), (x1, y1), _c(mean[i, j] * 0.9), th, cv2.LINE_AA, 4)
            cv2.line(out, (x1, y0), (x0, y1), _c(mean[i, j] + 12), th, cv2.LINE_AA, 4)
        return _over(out, li, lm)
    # stained glass: Voronoi panes behind, the face as panes, everything leaded
    sd = cv2.Subdiv2D((0, 0, S, S))
    sd.insert(
        [(float(v[0]), float(v[1])) for v in rng.uniform(0, S - 1e-3, (rng.integers(18, 45), 2))]
    )
    base, lead = np.zeros((S, S, 3), np.uint8), np.zeros((S, S), np.uint8)
    lead_w = max(2, int(rng.uniform(0.008, 0.014) * S))
    panes = [_pick(rng, VIVID, 30) for _ in range(5)]
    for f in sd.getVoronoiFacetList([])[0]:
        _fill(base, f, panes[rng.integers(5)])
        cv2.polylines(lead, _fix(f), True, 255, lead_w, cv2.LINE_AA, 4)
    gpal = {r: _mix(c, (255, 255, 255), 0.15) for r, c in pal.items()}
    img, fm, li, lm = _render(prims, T, base, lambda p: gpal[p.role], lambda p: (28, 28, 32),
                              max(2.0, rng.uniform(0.045, 0.075) * rpx), gpal["skin"],
                              lines=lead)  # fmt: skip
    y, x = np.mgrid[0:S, 0:S].astype(np.float32)
    glow = 1.15 - 0.4 * np.hypot(x - rng.uniform(0, S), y - rng.uniform(0, S)) / S
    mottle = 0.85 + 0.3 * _lowfreq(rng, S, int(rng.integers(8, 16)))
    img = (img * (glow * mottle)[..., None]).clip(0, 255).astype(np.uint8)
    return cv2.GaussianBlur(_over(img, li, lm), (0, 0), 0.5 * SS)


# ----------------------------------------------------------------------------- images


def _degrade(rng: Gen, img: np.ndarray, size: int, r_out: float) -> np.ndarray:
    """Lighting, colour cast, vignette, low resolution, blur, noise or grain, grayscale."""
    sev = float(np.clip((r_out - 12) / 24, 0.2, 1.0))  # small faces get milder damage
    u = rng.random(8)
    gains, contrast, bright = (
        rng.uniform(0.82, 1.18, 3),
        rng.uniform(0.75, 1.2),
        rng.uniform(-0.1, 0.1),
    )
    gamma, vig, low = rng.uniform(0.7, 1.4), rng.uniform(0.2, 0.5), rng.uniform(0.5, 0.8)
    sigma, noise, grain = rng.uniform(0.3, 1.1), rng.uniform(0.01, 0.045), rng.uniform(0.03, 0.07)
    nearest = rng.random() < 0.5
    out = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    if u[0] < 0.35:
        out = out * gains
    if u[1] < 0.4:
        out = (out - 0.5) * contrast + 0.5 + bright
    if u[2] < 0.2:
        out = np.clip(out, 0, 1) ** gamma
    if u[3] < 0.25:
        y, x = (np.mgrid[0:size, 0:size].astype(np.float32) + 0.5) / size - 0.5
        out = out * (1 - vig * (x**2 + y**2) * 2)[..., None]
    out = np.clip(out, 0, 1).astype(np.float32)
    if u[4] < 0.2:
        small = max(8, int(size * (1 - (1 - low) * sev)))
        out = cv2.resize(out, (small, small), interpolation=cv2.INTER_AREA)
        up = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
        out = cv2.resize(out, (size, size), interpolation=up)
    if u[5] < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), sigma * sev)
    if u[6] < 0.35:
        out = out + rng.normal(0, noise * sev, out.shape).astype(np.float32)
    elif u[6] < 0.55:  # film grain: clumped, luminance only
        g = cv2.GaussianBlur(rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), 0.7)
        out = out + (grain * sev * g / (g.std() + 1e-6))[..., None]
    if u[7] < 0.12:
        out = np.repeat((out @ np.float32([0.299, 0.587, 0.114]))[..., None], 3, 2)
    return (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)


def render_face(seed: int, class_index: int, index: int, size: int) -> tuple[np.ndarray, str, int]:
    """One image as (RGB uint8 array, file extension, JPEG quality)."""
    s = 1 if CLASSES[class_index] == "happy" else -1
    return _draw(np.random.SeedSequence([seed, class_index, index]), s, size)


def _draw(ss: np.random.SeedSequence, s: int, size: int) -> tuple[np.ndarray, str, int]:
    """Draw from the two streams of ss; s (+1 happy, -1 sad) only bends the mouth."""
    rng, mrng = (np.random.default_rng(c) for c in ss.spawn(2))
    mouth = _mouth_params(mrng)  # the mouth stream is used for nothing else
    S = SS * size
    style = STYLES[int(rng.integers(len(STYLES)))]
    p_human = {"portrait": 0.9, "lineart": 0.7, "stitch": 0.6, "lowpoly": 0.5}.get(style, 0.4)
    pal = _colours(rng, p_human)
    frac, rot = rng.uniform(0.35, 0.95), np.deg2rad(np.clip(rng.normal(0, 11), -25, 25))
    sx, a = rng.uniform(0.86, 1.1), rng.uniform(1.0, 1.28)  # width squash, head height/width
    R = frac * S / (2 * a)  # head half-width in canvas pixels; head height = frac * S
    prims = _face(rng, a, mouth, s, R / SS, style)
    m = 0.45 * frac * S
    cx, cy = rng.uniform(m, S - m, 2)
    A = R * np.array([[np.cos(rot) * sx, -np.sin(rot)], [np.sin(rot) * sx, np.cos(rot)]])
    T = np.concatenate([A, [[cx], [cy]]], 1)
    out = _degrade(rng, _style(style, rng, prims, pal, T, S, R), size, R / SS)
    jpg, quality = rng.random() < 0.5, int(rng.integers(35, 96))
    if not jpg and rng.random() < 0.2:  # a PNG that went through JPEG once
        buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 80))])[1]
        out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return out, (".jpg" if jpg else ".png"), quality


def _marker(per_class: int, image_size: int, seed: int) -> dict:
    return {"generator": "holdout_faces", "version": VERSION, "classes": list(CLASSES),
            "per_class": per_class, "image_size": image_size, "seed": seed}  # fmt: skip


def generate(out: Path, per_class: int, image_size: int, seed: int) -> Path:
    """Write out/happy and out/sad (per_class images each, square image_size px, a mix of .png and .jpg); return out.

    If out already holds exactly this set (same marker JSON) return at once; if out is
    non-empty with anything else raise FileExistsError; never delete or overwrite
    existing files. The set is written to a temporary sibling folder, then renamed."""
    out = Path(out)
    marker = _marker(per_class, image_size, seed)
    if out.exists():
        if not out.is_dir():
            raise FileExistsError(f"{out} exists and is not a directory")
        if any(out.iterdir()):
            try:
                same = json.loads((out / MARKER).read_text()) == marker
            except (OSError, ValueError):
                same = False
            if same:
                return out
            raise FileExistsError(f"{out} is not empty and does not hold this holdout set")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the set itself is not
    try:
        for ci, cls in enumerate(CLASSES):
            (tmp / cls).mkdir()
            for i in range(per_class):
                img, ext, q = render_face(seed, ci, i, image_size)
                flag = [cv2.IMWRITE_JPEG_QUALITY, q] if ext == ".jpg" else []
                path = tmp / cls / f"{cls}_{i:05d}{ext}"
                if not cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), flag):
                    raise OSError(f"could not write {path}")
        (tmp / MARKER).write_text(json.dumps(marker, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, out)  # fails rather than replace a folder that is no longer empty
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: write a held-out happy/sad face folder."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder to create (out/happy, out/sad)")
    ap.add_argument("--per-class", type=int, default=200, help="images per class (default 200)")
    ap.add_argument("--image-size", type=int, default=128, help="square side in px (default 128)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    path = generate(args.out, args.per_class, args.image_size, args.seed)
    took = time.perf_counter() - t0
    print(f"{path}: {args.per_class} per class at {args.image_size} px in {took:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
