"""Distant faces: an independent, report-only happy/sad image set.

This generator was written from a short task description only ("a happy face's mouth corners
turn up, a sad face's mouth corners turn down") without reading the project's other generators
or its training-data generator. Every image is a scene drawn from a label-blind random stream;
the label only flips the sign of the mouth's bend.

Styles:

- stained_glass: a leaded church-window portrait over Voronoi glass panes.
- chalkboard: chalk lines on a smudged blackboard with scribbled clutter.
- linocut: a one-colour woodcut/linocut print with carved background and hatching.
- origami: a faceted folded-paper head on a table or cutting mat.
- toy_minifig: a blocky toy minifigure head with printed features.
- carnival_mask: a theatre/carnival mask with eye holes, trim, feathers and curtains.
- animal: cat, dog, bear, panda, frog and mouse faces.
- sky_face: suns, moons, clouds and flowers with faces.
- balloon: a party balloon with a face drawn in marker among other balloons.
- stone_relief: a carved stone, marble, terracotta or bronze relief, lit from above.
- sticky_note: a marker face on a sticky note on a desk, cork board, fridge or wall.
- led_matrix: a dot-matrix LED sign showing a face.

Seeding: image ``i`` of either class uses ``ss = np.random.SeedSequence([seed, i])``; its two
children (the ones a fresh ``ss.spawn(2)`` gives) drive the scene and the mouth. The scene stream
picks the style, layout, head, eyes, brows, colours, background, clutter and finishing (lighting,
noise, blur, JPEG); the mouth stream picks the mouth's width, bend magnitude, shape, thickness,
open/closed, teeth, lips and colours (styles may swap a mouth colour for a fixed one when it would
not contrast with the scene). The label touches neither stream: it only sets ``sign``
(+1 happy, -1 sad), which mirrors the mouth so its corners turn up or down. A happy and a sad
image with the same ``(seed, i)`` are twins that differ only around the mouth.

Report-only: never use this set to tune a default, pick a model or choose a threshold; it is
meant to stay unseen.
"""

from __future__ import annotations

import argparse
import colorsys
import functools
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

CLASSES = ("happy", "sad")
MARKER = "DISTANT_FACES.json"
GENERATOR = "distant_faces"
VERSION = 1
STYLES = (
    "stained_glass",
    "chalkboard",
    "linocut",
    "origami",
    "toy_minifig",
    "carnival_mask",
    "animal",
    "sky_face",
    "balloon",
    "stone_relief",
    "sticky_note",
    "led_matrix",
)

_SHIFT = 4
_ONE = float(1 << _SHIFT)
_AA = cv2.LINE_AA
_TAU = 2.0 * math.pi

RGB = tuple[float, float, float]
Rng = np.random.Generator


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _pick(rng: Rng, seq: Sequence[Any]) -> Any:
    """Pick one element of ``seq`` uniformly."""
    return seq[int(rng.integers(len(seq)))]


def _hsv(h: float, s: float, v: float) -> RGB:
    """HSV in [0, 1] to an RGB tuple in [0, 255]."""
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))
    return (r * 255.0, g * 255.0, b * 255.0)


def _lum(c: Sequence[float]) -> float:
    """Approximate luminance of an RGB tuple."""
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _rgb3(v: Sequence[float]) -> RGB:
    """A colour as a plain 3-tuple of floats."""
    return (float(v[0]), float(v[1]), float(v[2]))


def _scale(c: Sequence[float], k: float) -> RGB:
    """Scale a colour, clipped to [0, 255]."""
    return _rgb3([min(max(x * k, 0.0), 255.0) for x in c])


def _mix(a: Sequence[float], b: Sequence[float], t: float) -> RGB:
    """Linear mix of two colours."""
    return _rgb3([x * (1.0 - t) + y * t for x, y in zip(a, b, strict=True)])


def _jit(rng: Rng, c: Sequence[float], amt: float = 12.0) -> RGB:
    """Jitter a colour per channel."""
    return _rgb3([min(max(x + rng.uniform(-amt, amt), 0.0), 255.0) for x in c])


def _contrast_pick(
    pal: Sequence[Sequence[float]],
    u: float,
    against: Sequence[Sequence[float]],
    min_d: float = 80.0,
) -> RGB:
    """First palette colour (cyclically from index ``u * len``) whose luminance differs from every
    colour in ``against`` by ``min_d``; black or white if none does."""
    n = len(pal)
    k0 = int(u * n) % n
    for k in range(n):
        c = pal[(k0 + k) % n]
        if all(abs(_lum(c) - _lum(b)) >= min_d for b in against):
            return _rgb3(c)
    dark = min(abs(_lum(b) - 20.0) for b in against)
    light = min(abs(_lum(b) - 245.0) for b in against)
    return (20.0, 18.0, 20.0) if dark >= light else (245.0, 245.0, 240.0)


def _col(color: Any) -> Any:
    """Colour argument in the form OpenCV drawing functions accept."""
    if np.isscalar(color):
        return float(color)
    return tuple(float(x) for x in color)


def _ell(
    cx: float,
    cy: float,
    rx: float,
    ry: float,
    ang: float = 0.0,
    n: int = 48,
    a0: float = 0.0,
    a1: float = _TAU,
) -> np.ndarray:
    """Points of an (arc of an) ellipse rotated by ``ang`` radians."""
    full = abs(a1 - a0) >= _TAU - 1e-9
    a = np.linspace(a0, a1, n, endpoint=not full)
    x, y = rx * np.cos(a), ry * np.sin(a)
    c, s = math.cos(ang), math.sin(ang)
    return np.stack([cx + c * x - s * y, cy + s * x + c * y], axis=1)


def _rrect(x0: float, y0: float, x1: float, y1: float, r: float, n: int = 8) -> np.ndarray:
    """Rounded rectangle polygon."""
    r = min(r, (x1 - x0) / 2, (y1 - y0) / 2)
    pts = []
    for (cx, cy), a0 in (
        ((x1 - r, y0 + r), -math.pi / 2),
        ((x1 - r, y1 - r), 0.0),
        ((x0 + r, y1 - r), math.pi / 2),
        ((x0 + r, y0 + r), math.pi),
    ):
        a = np.linspace(a0, a0 + math.pi / 2, n)
        pts.append(np.stack([cx + r * np.cos(a), cy + r * np.sin(a)], axis=1))
    return np.concatenate(pts)


def _blob(rng: Rng, rx: float, ry: float, amp: float, n: int = 72) -> np.ndarray:
    """A wobbly closed ellipse (hand-drawn head outline)."""
    a = np.linspace(0.0, _TAU, n, endpoint=False)
    r = np.ones(n)
    for k in (2, 3, 5):
        r += amp * rng.uniform(-1, 1) * np.cos(k * a + rng.uniform(0, _TAU)) / (k / 2)
    return np.stack([rx * r * np.cos(a), ry * r * np.sin(a)], axis=1)


def _wobble(rng: Rng, pts: np.ndarray, amp: float, knots: int = 6) -> np.ndarray:
    """Add a smooth random offset to a polyline (hand-drawn look)."""
    n = len(pts)
    idx = np.arange(n)
    kx = np.linspace(0, n - 1, knots)
    off = np.stack(
        [np.interp(idx, kx, rng.uniform(-amp, amp, knots)) for _ in range(2)],
        axis=1,
    )
    return pts + off


@functools.lru_cache(maxsize=8)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinate grids (x, y) for a square canvas."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    xs.setflags(write=False)
    ys.setflags(write=False)
    return xs, ys


def _noise(rng: Rng, size: int, cells: int, aspect: float = 1.0) -> np.ndarray:
    """Smooth noise of roughly unit amplitude (cubic upsampling of a coarse grid)."""
    rows = max(2, cells)
    cols = max(2, round(cells * aspect))
    small = rng.standard_normal((rows, cols), dtype=np.float32)
    return cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)


def _fine(rng: Rng, size: int) -> np.ndarray:
    """Per-pixel white noise."""
    return rng.standard_normal((size, size), dtype=np.float32)


def _vgrad(
    size: int, top: Sequence[float], bottom: Sequence[float], power: float = 1.0
) -> np.ndarray:
    """Vertical gradient image (float32 RGB)."""
    t = (np.linspace(0.0, 1.0, size, dtype=np.float32) ** power)[:, None, None]
    a = np.asarray(top, np.float32)[None, None, :]
    b = np.asarray(bottom, np.float32)[None, None, :]
    return np.broadcast_to(a * (1 - t) + b * t, (size, size, 3)).copy()


def _blend(img: np.ndarray, color: Sequence[float], alpha: np.ndarray) -> np.ndarray:
    """Alpha-blend a flat colour over a float image."""
    a = alpha[..., None]
    return img * (1.0 - a) + np.asarray(color, np.float32) * a


def _u8(img: np.ndarray) -> np.ndarray:
    """Clip a float image to uint8."""
    return np.clip(img, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# Geometry: face frame and drawing pen
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Xf:
    """Similarity transform from face-local units (radius 1, y down) to canvas pixels."""

    cx: float
    cy: float
    s: float
    ang: float = 0.0

    def apply(self, pts: Any) -> np.ndarray:
        """Map local points (N, 2) to canvas coordinates."""
        p = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        c, s = math.cos(self.ang), math.sin(self.ang)
        x, y = p[:, 0] * self.s, p[:, 1] * self.s
        return np.stack([self.cx + c * x - s * y, self.cy + s * x + c * y], axis=1)

    def local(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Local coordinates of every canvas pixel."""
        xs, ys = _grid(size)
        dx, dy = xs - np.float32(self.cx), ys - np.float32(self.cy)
        c, s = math.cos(self.ang), math.sin(self.ang)
        return (c * dx + s * dy) / self.s, (-s * dx + c * dy) / self.s


_IDENT = Xf(0.0, 0.0, 1.0, 0.0)


class Pen:
    """Anti-aliased drawing in face-local units, optionally mirrored into a coverage mask."""

    def __init__(self, img: np.ndarray, xf: Xf, mask: np.ndarray | None = None) -> None:
        self.img, self.xf, self.mask = img, xf, mask

    def _p(self, pts: Any) -> list[np.ndarray]:
        return [np.round(self.xf.apply(pts) * _ONE).astype(np.int32).reshape(-1, 1, 2)]

    def _t(self, th: float) -> int:
        return max(1, round(th * self.xf.s))

    def fill(self, pts: Any, color: Any, mval: float = 255) -> None:
        """Fill a polygon."""
        p = self._p(pts)
        cv2.fillPoly(self.img, p, _col(color), _AA, _SHIFT)
        if self.mask is not None:
            cv2.fillPoly(self.mask, p, float(mval), _AA, _SHIFT)

    def line(
        self, pts: Any, color: Any, th: float, closed: bool = False, mval: float = 255
    ) -> None:
        """Stroke a polyline of local thickness ``th``."""
        p, t = self._p(pts), self._t(th)
        cv2.polylines(self.img, p, closed, _col(color), t, _AA, _SHIFT)
        if self.mask is not None:
            cv2.polylines(self.mask, p, closed, float(mval), t, _AA, _SHIFT)

    def ellipse(
        self,
        cx: float,
        cy: float,
        rx: float,
        ry: float,
        color: Any,
        th: float | None = None,
        ang: float = 0.0,
        mval: float = 255,
    ) -> None:
        """Filled (th=None) or stroked ellipse."""
        pts = _ell(cx, cy, rx, ry, ang)
        if th is None:
            self.fill(pts, color, mval)
        else:
            self.line(pts, color, th, True, mval)


@dataclass
class Scene:
    """Canvas size and the label-blind scene stream."""

    rng: Rng
    C: int


def _place(
    sc: Scene,
    lo: float = 0.35,
    hi: float = 0.95,
    mouth_y: float = 0.45,
    max_rot: float = 25.0,
) -> Xf:
    """Pick face scale (diameter lo..hi of the frame), position and tilt; keep the mouth inside."""
    rng, C = sc.rng, sc.C
    R = rng.uniform(lo, hi) * C / 2
    ang = math.radians(float(np.clip(rng.normal(0.0, 10.0), -max_rot, max_rot)))
    A = max(0.03 * C, C / 2 - 0.8 * R)
    cx = C / 2 + rng.uniform(-A, A)
    cy = C / 2 + rng.uniform(-A, A)
    mx, my = Xf(cx, cy, R, ang).apply([(0.0, mouth_y)])[0]
    cx += float(np.clip(mx, 0.17 * C, 0.83 * C) - mx)
    cy += float(np.clip(my, 0.17 * C, 0.83 * C) - my)
    return Xf(cx, cy, R, ang)


# --------------------------------------------------------------------------------------------
# The mouth: the only label-dependent part
# --------------------------------------------------------------------------------------------

_LIPS: tuple[RGB, ...] = (
    (196, 42, 54),
    (170, 30, 64),
    (222, 96, 116),
    (140, 44, 44),
    (120, 48, 92),
    (214, 70, 60),
    (232, 128, 138),
)
_INSIDE: tuple[RGB, ...] = ((70, 12, 22), (42, 10, 14), (96, 22, 34), (34, 20, 32), (60, 20, 20))
_TEETH: tuple[RGB, ...] = ((246, 246, 240), (255, 250, 228), (236, 238, 244))
_TONGUE: tuple[RGB, ...] = ((232, 104, 116), (210, 80, 96), (240, 130, 140))


@dataclass(frozen=True)
class MouthSpec:
    """Mouth parameters drawn from the mouth stream (never from the label)."""

    kind: str
    w: float
    ratio: float
    hook: float
    p: float
    thick: float
    open_h: float
    teeth: bool
    teeth_frac: float
    tongue: bool
    tongue_frac: float
    lip_u: float
    lip_l: float
    ticks: bool
    tick_len: float
    dx: float
    dy: float
    u: float
    u2: float
    lip: RGB
    inside: RGB
    teeth_col: RGB
    tongue_col: RGB
    wobble: float
    wseed: int


def _sample_mouth(rng: Rng) -> MouthSpec:
    """Draw all mouth parameters from the mouth stream."""
    return MouthSpec(
        kind=_pick(rng, ("line", "line", "line", "open", "open", "lips")),
        w=rng.uniform(0.45, 0.9),
        ratio=rng.uniform(0.12, 0.4),
        hook=rng.uniform(0.2, 0.45) if rng.random() < 0.25 else 0.0,
        p=rng.uniform(1.6, 3.0),
        thick=rng.uniform(0.045, 0.11),
        open_h=rng.uniform(0.2, 0.5),
        teeth=bool(rng.random() < 0.5),
        teeth_frac=rng.uniform(0.22, 0.4),
        tongue=bool(rng.random() < 0.45),
        tongue_frac=rng.uniform(0.3, 0.5),
        lip_u=rng.uniform(0.05, 0.1),
        lip_l=rng.uniform(0.07, 0.13),
        ticks=bool(rng.random() < 0.18),
        tick_len=rng.uniform(0.12, 0.22),
        dx=rng.uniform(-0.04, 0.04),
        dy=rng.uniform(-0.04, 0.04),
        u=rng.random(),
        u2=rng.random(),
        lip=_pick(rng, _LIPS),
        inside=_pick(rng, _INSIDE),
        teeth_col=_pick(rng, _TEETH),
        tongue_col=_pick(rng, _TONGUE),
        wobble=rng.uniform(0.0, 0.25),
        wseed=int(rng.integers(2**31)),
    )


@dataclass(frozen=True)
class Mouth:
    """Mouth polylines/polygons in face-local units."""

    kind: str
    center: np.ndarray
    top_mid: tuple[float, float]
    thick: float
    outline: np.ndarray | None = None
    teeth: np.ndarray | None = None
    teeth_edge: np.ndarray | None = None
    tongue: np.ndarray | None = None
    lip_u: np.ndarray | None = None
    lip_l: np.ndarray | None = None
    ticks: tuple[np.ndarray, ...] = ()

    def shifted(self, dx: float, dy: float) -> Mouth:
        """Copy moved by (dx, dy) (e.g. for a drop shadow)."""
        d = np.array([dx, dy])

        def mv(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a + d

        return Mouth(
            kind=self.kind,
            center=self.center + d,
            top_mid=(self.top_mid[0] + dx, self.top_mid[1] + dy),
            thick=self.thick,
            outline=mv(self.outline),
            teeth=mv(self.teeth),
            teeth_edge=mv(self.teeth_edge),
            tongue=mv(self.tongue),
            lip_u=mv(self.lip_u),
            lip_l=mv(self.lip_l),
            ticks=tuple(t + d for t in self.ticks),
        )


def _make_mouth(
    ms: MouthSpec,
    sign: int,
    at: tuple[float, float],
    R: float,
    C: int,
    *,
    wscale: float = 1.0,
    max_w: float = 1.1,
    max_ext: float = 0.46,
    min_w: float = 0.0,
    min_bend: float = 0.0,
    thick: float | None = None,
    kinds: Sequence[str] = ("line", "open", "lips"),
) -> Mouth:
    """Build the mouth for face radius ``R`` px on a ``C`` px canvas.

    The shape is computed for a smile and mirrored vertically when ``sign`` is -1, so the
    corners turn up (happy) or down (sad). Sizes have floors in canvas units so the bend stays
    visible after the image is shrunk to 64 px.
    """
    px = C / R  # one canvas width in face units
    w = max(ms.w * wscale, 0.15 * px, min_w)
    w = min(w, max(max_w, min_w), 0.42 * px)
    th = thick if thick is not None else max(ms.thick, 0.022 * px)
    b = max(ms.ratio * w, (0.055 if ms.hook > 0 else 0.042) * px, 1.2 * th, min_bend)
    b = min(b, 0.5 * w)
    t = np.linspace(-1.0, 1.0, 41)
    a = np.abs(t)
    f = np.clip((a - ms.hook) / (1.0 - ms.hook), 0.0, 1.0) ** 2 if ms.hook > 0 else a**ms.p
    x = t * w / 2
    yc = b * (0.5 - f)
    wv = np.zeros_like(t)
    if ms.wobble > 0:
        wr = np.random.default_rng(ms.wseed)
        ph = wr.uniform(0, _TAU, 2)
        fr = wr.uniform(1.0, 3.0, 2)
        wv = (
            ms.wobble
            * th
            * (
                0.6 * np.sin(fr[0] * math.pi * t + ph[0])
                + 0.4 * np.sin(fr[1] * math.pi * t + ph[1])
            )
        )
    ox, oy = at[0] + ms.dx, at[1] + ms.dy

    def pts(ys: np.ndarray, sel: np.ndarray | None = None) -> np.ndarray:
        p = np.stack([x + ox, ys + wv + oy], axis=1)
        return p if sel is None else p[sel]

    kind = ms.kind if ms.kind in kinds else "line"
    h = 0.0
    if kind == "open":
        h = min(ms.open_h * w, max_ext - b)
        if h < max(0.12 * w, 2.5 * th):
            kind = "line"
    lu = ll = 0.0
    if kind == "lips":
        lu, ll = max(ms.lip_u, 0.02 * px), max(ms.lip_l, 0.025 * px)
        k = min(1.0, max(max_ext - b, 0.0) / (lu + ll))
        if k < 0.6:
            kind = "line"
        lu, ll = lu * k, ll * k
    out: dict[str, Any] = {}
    corner = float(yc[0])
    mid = len(t) // 2
    if kind == "open":
        up = yc - 0.12 * h * (1 - t**2) - h / 2
        lo = yc + h * (1 - t**2) ** 0.7 - h / 2
        corner = float(up[0])
        if sign < 0:
            up, lo = -lo, -up
        out["outline"] = np.concatenate([pts(up), pts(lo)[::-1]])
        tb = None
        if ms.teeth:
            tb = up + ms.teeth_frac * (lo - up)
            out["teeth"] = np.concatenate([pts(up), pts(tb)[::-1]])
            out["teeth_edge"] = pts(tb)
        if ms.tongue:
            sel = a <= 0.7
            tt = lo - ms.tongue_frac * (lo - up) * np.sqrt(np.clip(1 - (t / 0.7) ** 2, 0, 1))
            if tb is not None:
                tt = np.maximum(tt, tb)
            out["tongue"] = np.concatenate([pts(lo, sel), pts(tt, sel)[::-1]])
        center = pts((up + lo) / 2)
        top_mid = (float(ox), float(up[mid] + wv[mid] + oy))
    else:
        ycs = sign * yc
        center = pts(ycs)
        top_mid = (float(ox), float(ycs[mid] + wv[mid] + oy - th / 2))
        if kind == "lips":
            bow = 1 - 0.35 * np.exp(-((t / 0.16) ** 2))
            top = ycs - lu * np.sqrt(np.clip(1 - t**2, 0, 1)) * bow
            bot = ycs + ll * np.clip(1 - t**2, 0, 1) ** 0.6
            out["lip_u"] = np.concatenate([pts(ycs), pts(top)[::-1]])
            out["lip_l"] = np.concatenate([pts(ycs), pts(bot)[::-1]])
            top_mid = (float(ox), float(top[mid] + wv[mid] + oy))
    ticks: list[np.ndarray] = []
    if ms.ticks:
        tl = ms.tick_len * w
        for sx in (-1.0, 1.0):
            cxk = sx * w / 2
            seg = np.array(
                [
                    [cxk - sx * 0.1 * tl, corner - 0.5 * tl],
                    [cxk + sx * 0.15 * tl, corner + 0.5 * tl],
                ]
            )
            seg[:, 1] *= sign
            ticks.append(seg + np.array([ox, oy + wv[0]]))
    return Mouth(kind=kind, center=center, top_mid=top_mid, thick=th, ticks=tuple(ticks), **out)


def _draw_mouth(
    pen: Pen,
    m: Mouth,
    ink: Any,
    *,
    inside: Any = None,
    teeth: Any = None,
    tongue: Any = None,
    lip: Any = None,
    lip2: Any = None,
    seam: Any = None,
    th_scale: float = 1.0,
    inside_m: float = 255,
    outline: bool = True,
) -> None:
    """Draw a mouth with a style's colours (``None`` fills fall back to strokes/ink)."""
    th = m.thick * th_scale
    if m.kind == "line":
        pen.line(m.center, ink, th)
    elif m.kind == "open":
        assert m.outline is not None
        pen.fill(m.outline, ink if inside is None else inside, inside_m)
        if teeth is not None and m.teeth is not None:
            pen.fill(m.teeth, teeth)
        if tongue is not None and m.tongue is not None:
            pen.fill(m.tongue, tongue)
        if outline:
            pen.line(m.outline, ink, th * 0.6, closed=True)
    else:
        assert m.lip_u is not None and m.lip_l is not None
        if lip is None:
            pen.line(m.lip_u, ink, th * 0.5, closed=True)
            pen.line(m.lip_l, ink, th * 0.5, closed=True)
        else:
            pen.fill(m.lip_u, lip)
            pen.fill(m.lip_l, lip if lip2 is None else lip2)
            if outline:
                pen.line(m.lip_u, ink, th * 0.3, closed=True)
                pen.line(m.lip_l, ink, th * 0.3, closed=True)
        pen.line(m.center, ink if seam is None else seam, th * 0.55)
    for tk in m.ticks:
        pen.line(tk, ink, th * 0.6)


# --------------------------------------------------------------------------------------------
# Eyes, brows, nose (scene stream, label-blind)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Feat:
    """Eye, brow, nose and mouth-position parameters from the scene stream."""

    eye: str
    ex: float
    ey: float
    erx: float
    ery: float
    look: float
    hl: bool
    brow: bool
    bdy: float
    blen: float
    bth: float
    btilt: float
    barch: float
    nose: str
    ny: float
    ns: float
    my: float
    blush: bool


def _sample_feat(
    rng: Rng,
    eyes: Sequence[str] = ("dot", "oval", "white", "ring"),
    noses: Sequence[str] = ("none", "none", "dot", "line", "button"),
    brow_p: float = 0.4,
    blush_p: float = 0.2,
    my: tuple[float, float] = (0.4, 0.52),
) -> Feat:
    """Sample generic facial features."""
    erx = rng.uniform(0.07, 0.13)
    return Feat(
        eye=_pick(rng, eyes),
        ex=rng.uniform(0.27, 0.4),
        ey=rng.uniform(-0.3, -0.1),
        erx=erx,
        ery=erx * rng.uniform(1.0, 1.5),
        look=rng.uniform(-0.35, 0.35),
        hl=bool(rng.random() < 0.5),
        brow=bool(rng.random() < brow_p),
        bdy=rng.uniform(0.1, 0.2),
        blen=rng.uniform(0.16, 0.28),
        bth=rng.uniform(0.035, 0.06),
        btilt=rng.uniform(-0.12, 0.12),
        barch=rng.uniform(-0.01, 0.05),
        nose=_pick(rng, noses),
        ny=rng.uniform(0.08, 0.2),
        ns=rng.uniform(0.05, 0.09),
        my=rng.uniform(*my),
        blush=bool(rng.random() < blush_p),
    )


def _draw_feat(
    pen: Pen,
    ft: Feat,
    ink: Any,
    px: float,
    *,
    white: Any = None,
    th: float = 0.05,
    blush: Any = None,
    nose_col: Any = None,
    brow_col: Any = None,
) -> None:
    """Draw eyes, brows, nose (and optional blush) in a given palette; ``px`` = C / R."""
    th = max(th, 0.014 * px)
    rx = max(ft.erx, 0.02 * px)
    ry = max(ft.ery, 0.02 * px)
    if blush is not None and ft.blush:
        for sx in (-1, 1):
            pen.ellipse(sx * (ft.ex + 0.16), 0.2, 0.13, 0.08, blush)
    for sx in (-1, 1):
        cx, cy = sx * ft.ex, ft.ey
        k = ft.eye
        if k in ("dot", "oval"):
            ery = rx if k == "dot" else ry * 1.15
            pen.ellipse(cx, cy, rx, ery, ink)
            if ft.hl and white is not None:
                pen.ellipse(cx - 0.3 * rx, cy - 0.35 * ery, 0.3 * rx, 0.3 * rx, white)
        elif k == "white":
            wcol = white if white is not None else ink
            pen.ellipse(cx, cy, rx * 1.3, ry * 1.2, wcol)
            pen.ellipse(cx, cy, rx * 1.3, ry * 1.2, ink, th=th * 0.6)
            pr = 0.6 * rx
            pen.ellipse(cx + ft.look * rx * 0.6, cy + 0.1 * ry, pr, pr, ink)
        elif k == "ring":
            pen.ellipse(cx, cy, rx * 1.1, ry * 1.1, ink, th=th * 0.7)
            pen.ellipse(cx + ft.look * rx * 0.5, cy, 0.42 * rx, 0.42 * rx, ink)
        elif k == "bar":
            pen.line([(cx - rx * 1.1, cy), (cx + rx * 1.1, cy)], ink, max(th, 0.8 * rx))
        elif k == "square":
            pen.fill(
                [(cx - rx, cy - ry), (cx + rx, cy - ry), (cx + rx, cy + ry), (cx - rx, cy + ry)],
                ink,
            )
        if ft.brow:
            by = cy - ry * 1.2 - ft.bdy
            half = ft.blen / 2
            xs = np.linspace(cx - half, cx + half, 7)
            ys = by + sx * ft.btilt * (xs - cx) - ft.barch * (1 - ((xs - cx) / half) ** 2)
            pen.line(np.stack([xs, ys], 1), ink if brow_col is None else brow_col, max(ft.bth, th))
    nc = ink if nose_col is None else nose_col
    if ft.nose == "dot":
        for sx in (-1, 1):
            pen.ellipse(sx * 0.05, ft.ny, 0.028, 0.022, nc)
    elif ft.nose == "line":
        s = ft.ns
        pen.line(
            [(0.02, ft.ny - 2 * s), (-0.6 * s, ft.ny + 0.4 * s), (0.4 * s, ft.ny + 0.6 * s)],
            nc,
            th * 0.7,
        )
    elif ft.nose == "button":
        pen.ellipse(0.0, ft.ny, ft.ns, ft.ns * 0.8, nc)
    elif ft.nose == "tri":
        s = ft.ns
        pen.fill([(0.0, ft.ny + s), (-0.8 * s, ft.ny - 0.5 * s), (0.8 * s, ft.ny - 0.5 * s)], nc)


# --------------------------------------------------------------------------------------------
# Backgrounds (scene stream)
# --------------------------------------------------------------------------------------------


def _bg_grad(rng: Rng, C: int) -> np.ndarray:
    h = rng.random()
    top = _hsv(h, rng.uniform(0.05, 0.5), rng.uniform(0.6, 0.98))
    bot = _hsv(h + rng.uniform(-0.15, 0.15), rng.uniform(0.05, 0.6), rng.uniform(0.35, 0.9))
    return _vgrad(C, top, bot)


def _soft_blobs(rng: Rng, img: np.ndarray, C: int, n: int, color: RGB, alpha: float) -> np.ndarray:
    """Blend soft white-ish blobs (clouds, haze) over an image."""
    m = np.zeros((C, C), np.uint8)
    for _ in range(n):
        cx, cy = rng.uniform(-0.1, 1.1) * C, rng.uniform(0.0, 0.7) * C
        for _k in range(int(rng.integers(3, 7))):
            r = C * rng.uniform(0.03, 0.09)
            cv2.circle(
                m,
                (int(cx + rng.uniform(-2.5, 2.5) * r), int(cy + rng.uniform(-0.6, 0.6) * r)),
                int(r),
                255,
                -1,
                _AA,
            )
    mf = cv2.GaussianBlur(m.astype(np.float32) / 255.0, (0, 0), C * 0.012)
    return _blend(img, color, mf * alpha)


def _bg_sky(rng: Rng, C: int) -> np.ndarray:
    top = _jit(rng, (70, 130, 215), 25)
    bot = _jit(rng, (190, 220, 245), 15)
    img = _vgrad(C, top, bot)
    return _soft_blobs(rng, img, C, int(rng.integers(0, 4)), (250, 250, 252), 0.9)


def _bg_grass(rng: Rng, C: int) -> np.ndarray:
    img = _bg_sky(rng, C)
    hz = int(C * rng.uniform(0.45, 0.8))
    g1 = _jit(rng, (110, 170, 70), 25)
    g2 = _scale(g1, rng.uniform(0.55, 0.8))
    img[hz:] = _vgrad(C, g1, g2)[: C - hz]
    for _ in range(int(C * 0.8)):
        x = rng.uniform(0, C)
        y = rng.uniform(hz, C + 5)
        hgt = C * rng.uniform(0.015, 0.05)
        col = _scale(g1, rng.uniform(0.6, 1.2))
        cv2.line(
            img,
            (int(x), int(y)),
            (int(x + rng.uniform(-0.4, 0.4) * hgt), int(y - hgt)),
            col,
            1,
            _AA,
        )
    return img


def _bg_room(rng: Rng, C: int) -> np.ndarray:
    wall = _hsv(rng.random(), rng.uniform(0.08, 0.4), rng.uniform(0.7, 0.95))
    img = _vgrad(C, wall, _scale(wall, 0.85))
    pat = int(rng.integers(3))
    if pat == 1:
        step = C * rng.uniform(0.06, 0.14)
        for x in np.arange(rng.uniform(0, step), C, step):
            cv2.rectangle(img, (int(x), 0), (int(x + step * 0.4), C), _scale(wall, 1.07), -1)
    elif pat == 2:
        step = C * rng.uniform(0.07, 0.12)
        col = _scale(wall, rng.uniform(0.8, 0.9))
        for y in np.arange(step / 2, C, step):
            for x in np.arange((y // step % 2) * step / 2, C, step):
                cv2.circle(img, (int(x), int(y)), max(1, int(step * 0.12)), col, -1, _AA)
    fy = int(C * rng.uniform(0.68, 0.9))
    floor = _hsv(rng.uniform(0.05, 0.12), rng.uniform(0.3, 0.6), rng.uniform(0.35, 0.7))
    img[fy:] = floor
    for x in np.arange(rng.uniform(0, C * 0.2), C, C * rng.uniform(0.12, 0.25)):
        cv2.line(img, (int(x), fy), (int(x), C), _scale(floor, 0.8), 1, _AA)
    cv2.rectangle(img, (0, fy - int(C * 0.025)), (C, fy), (235, 232, 225), -1)
    return img


def _bg_wood(rng: Rng, C: int, base: RGB | None = None) -> np.ndarray:
    base = base or _hsv(rng.uniform(0.05, 0.11), rng.uniform(0.35, 0.65), rng.uniform(0.45, 0.85))
    xs, ys = _grid(C)
    coord = ys if rng.random() < 0.5 else xs
    g = 0.5 + 0.5 * np.sin(coord * (rng.uniform(0.12, 0.3) * 256 / C) + 4.0 * _noise(rng, C, 4))
    g = g**3 + 0.15 * _noise(rng, C, 40, 0.2)
    return np.asarray(base, np.float32) * (0.82 + 0.22 * g[..., None])


def _bg_cork(rng: Rng, C: int) -> np.ndarray:
    base = _jit(rng, (190, 145, 95), 15)
    img = np.empty((C, C, 3), np.float32)
    img[:] = base
    sp = cv2.GaussianBlur(_fine(rng, C), (0, 0), 1.2)
    return img * (1.0 + 0.45 * sp[..., None])


def _bg_checks(rng: Rng, C: int) -> np.ndarray:
    a = _hsv(rng.random(), rng.uniform(0.2, 0.6), rng.uniform(0.6, 0.95))
    b = _mix(a, (255, 255, 255), 0.6)
    xs, ys = _grid(C)
    step = C * rng.uniform(0.06, 0.15)
    k = ((xs // step + ys // step) % 2).astype(np.float32)
    img = np.asarray(a, np.float32) * k[..., None] + np.asarray(b, np.float32) * (1 - k[..., None])
    return img


def _bg_bokeh(rng: Rng, C: int) -> np.ndarray:
    img = _bg_grad(rng, C) * 0.7
    lay = np.zeros((C, C, 3), np.float32)
    for _ in range(int(rng.integers(6, 16))):
        col = _hsv(rng.random(), rng.uniform(0.3, 0.8), 1.0)
        cv2.circle(
            lay,
            (int(rng.uniform(0, C)), int(rng.uniform(0, C))),
            int(C * rng.uniform(0.03, 0.12)),
            _scale(col, rng.uniform(0.2, 0.5)),
            -1,
            _AA,
        )
    return img + cv2.GaussianBlur(lay, (0, 0), C * 0.02)


def _bg_any(rng: Rng, C: int) -> np.ndarray:
    """One of the generic backgrounds."""
    fn = _pick(rng, (_bg_grad, _bg_sky, _bg_grass, _bg_room, _bg_wood, _bg_checks, _bg_bokeh))
    return fn(rng, C)


# --------------------------------------------------------------------------------------------
# Styles. Each returns a uint8 RGB canvas of size C x C.
# --------------------------------------------------------------------------------------------


def _s_stained_glass(sc: Scene, ms: MouthSpec, sign: int) -> np.ndarray:
    """Leaded glass window portrait."""
    rng, C = sc.rng, sc.C
    img = np.zeros((C, C, 3), np.uint8)
    lead = _jit(rng, (36, 34, 32), 10)
    lw = max(2, round(C * rng.uniform(0.011, 0.018)))
    h0 = rng.random()
    pal = [
        _hsv(
            h0 + rng.normal(0, 0.1) + (0.5 if rng.random() < 0.35 else 0.0),
            rng.uniform(0.45, 0.9),
            rng.uniform(0.45, 0.9),
        )
        for _ in range(5)
    ]
    sub = cv2.Subdiv2D((0, 0, C, C))
    for p in rng.uniform(1, C - 1, (int(rng.integers(14, 36)), 2)):
        sub.insert((float(p[0]), float(p[1])))
    facets, _ = sub.getVoronoiFacetList([])
    polys = [np.round(f).astype(np.int32) for f in facets]
    for f in polys:
        cv2.fillPoly(img, [f], _scale(_pick(rng, pal), rng.uniform(0.85, 1.1)))
    for f in polys:
        cv2.polylines(img, [f], True, lead, lw, _AA)

    xf = _place(sc, 0.4, 0.95)
    pen = Pen(img, xf)
    px = C / xf.s
    L = lw / xf.s
    face = _pick(
        rng,
        (
            (242, 205, 160),
            (250, 228, 205),
            (205, 226, 245),
            (238, 236, 214),
            (246, 204, 212),
            (218, 240, 204),
            (250, 236, 168),
        ),
    )
    face = _jit(rng, face, 10)
    if rng.random() < 0.5:  # halo
        gold = _jit(rng, (240, 196, 70), 20)
        pen.ellipse(0, -0.15, 1.4, 1.4, gold)
        for k in range(12):
            a = k * _TAU / 12
            pen.line([(0, -0.15), (1.4 * math.cos(a), -0.15 + 1.4 * math.sin(a))], lead, L)
        pen.ellipse(0, -0.15, 1.4, 1.4, lead, th=L * 1.2)
    if rng.random() < 0.65:  # robe
        robe = _pick(rng, pal)
        body = [(-1.6, 2.6), (-1.3, 1.15), (-0.35, 0.9), (0.35, 0.9), (1.3, 1.15), (1.6, 2.6)]
        pen.fill(body, robe)
        pen.line(body, lead, L, closed=True)
        pen.line([(0.0, 0.95), (0.0, 2.6)], lead, L)
        pen.line([(-0.8, 1.05), (-0.9, 2.6)], lead, L)
        pen.line([(0.8, 1.05), (0.9, 2.6)], lead, L)
    head = _ell(0, 0, 0.95, 1.07, n=64)
    pen.fill(head, face)
    hair_col = _pick(
        rng,
        (
            (120, 70, 30),
            (235, 190, 70),
            (170, 60, 30),
            (40, 35, 40),
            (60, 80, 170),
            (150, 150, 150),
        ),
    )
    arc = _ell(0, 0, 0.97, 1.1, a0=math.pi + 0.3, a1=_TAU - 0.3, n=30)
    hx = np.linspace(arc[-1, 0], arc[0, 0], 20)
    hy = -0.52 + 0.24 * (hx / 0.95) ** 2
    hair = np.concatenate([arc, np.stack([hx, hy], 1)])
    pen.fill(hair, hair_col)
    for x0 in rng.uniform(-0.6, 0.6, int(rng.integers(1, 4))):
        y0 = -0.52 + 0.24 * (x0 / 0.95) ** 2
        x1 = x0 * 1.25
        pen.line([(x0, y0), (x1, -1.1 * math.sqrt(max(0.0, 1 - (x1 / 0.97) ** 2)))], lead, L)
    pen.line(hair, lead, L, closed=True)
    ft = _sample_feat(
        rng, eyes=("white", "dot", "oval"), noses=("line", "line", "none"), brow_p=0.7
    )
    iris = _pick(rng, ((60, 110, 200), (70, 150, 90), (120, 80, 40), (40, 40, 60)))
    if ft.eye == "white":
        for sx in (-1, 1):
            cx = sx * ft.ex
            pen.ellipse(cx, ft.ey, 0.15, 0.095, (245, 245, 240))
            pen.ellipse(cx, ft.ey, 0.075, 0.075, iris)
            pen.ellipse(cx, ft.ey, 0.03, 0.03, lead)
            pen.ellipse(cx, ft.ey, 0.15, 0.095, lead, th=L * 0.8)
        ft = Feat(**{**ft.__dict__, "eye": "none"})
    if rng.random() < 0.4:
        for sx in (-1, 1):
            pen.ellipse(sx * (ft.ex + 0.17), 0.2, 0.12, 0.1, (235, 140, 150))
            pen.ellipse(sx * (ft.ex + 0.17), 0.2, 0.12, 0.1, lead, th=L * 0.7)
    _draw_feat(pen, ft, lead, px, th=L)
    pen.line(head, lead, L * 1.4, closed=True)
    m = _make_mouth(ms, sign, (0.0, ft.my), xf.s, C)
    red = _scale(ms.lip, 0.9)
    _draw_mouth(
        pen,
        m,
        lead,
        inside=(120, 20, 40),
        teeth=(240, 240, 228),
        tongue=ms.tongue_col,
        lip=red,
        th_scale=max(1.0, L / m.thick),
    )
    f = img.astype(np.float32)
    tex = 1.0 + 0.12 * _noise(rng, C, 9) + 0.05 * cv2.blur(_fine(rng, C), (3, 3))
    xs, ys = _grid(C)
    gx, gy = rng.uniform(0.2, 0.8) * C, rng.uniform(0.0, 0.5) * C
    glow = np.exp(-((xs - gx) ** 2 + (ys - gy) ** 2) / (2 * (0.6 * C) ** 2))
    f *= (tex * (0.75 + 0.4 * glow))[..., None]
    return _u8(f)


def _s_chalkboard(sc: Scene, ms: MouthSpec, sign: int) -> np.ndarray:
    """Chalk drawing on a blackboard."""
    rng, C = sc.rng, sc.C
    board = _jit(
        rng, _pick(rng, ((34, 58, 44), (30, 32, 35), (34, 42, 58), (46, 50, 46), (22, 50, 42))), 6
    )
    bg = np.empty((C, C, 3), np.float32)
    bg[:] = board
    bg += (np.clip(_noise(rng, C, 5), 0, None) * rng.uniform(6, 22))[..., None]
    sw = np.zeros((C, C), np.uint8)
    for _ in range(int(rng.integers(0, 4))):
        p = rng.uniform(0, C, (3, 2))
        cv2.polylines(sw, [p.astype(np.int32)], False, 255, int(C * rng.uniform(0.05, 0.12)), _AA)
    bg += (cv2.GaussianBlur(sw, (0, 0), C * 0.02).astype(np.float32) / 255 * rng.uniform(8, 20))[
        ..., None
    ]
    if rng.random() < 0.5:  # wooden frame
        fw = int(C * rng.uniform(0.04, 0.07))
        wood = _bg_wood(rng, C)
        side = int(rng.integers(4))
        sl = [np.s_[:fw, :], np.s_[-fw:, :], np.s_[:, :fw], np.s_[:, -fw:]][side]
        bg[sl] = wood[sl]
    lay = np.zeros((C, C, 3), np.uint8)
    msk = np.zeros((C, C), np.uint8)
    xf = _place(sc, 0.35, 0.9)
    chalk = (238, 238, 228)
    pastel = ((238, 238, 228), (250, 235, 140), (245, 175, 190), (160, 210, 245), (190, 240, 180))
    cpen = Pen(lay, _IDENT, msk)
    for _ in range(int(rng.integers(0, 7))):
        for _try in range(12):
            x, y = rng.uniform(0.03, 0.9, 2) * C
            if math.hypot(x - xf.cx, y - xf.cy) > 1.35 * xf.s + 0.08 * C:
                break
        else:
            continue
        hgt = C * rng.uniform(0.025, 0.05)
        col = _scale(_pick(rng, pastel), rng.uniform(0.6, 0.9))
        for k in range(int(rng.integers(2, 7))):
            pts = np.stack(
                [
                    x + k * hgt * 0.8 + rng.uniform(0, 0.6, 4) * hgt,
                    y + rng.uniform(-0.5, 0.5, 4) * hgt,
                ],
                1,
            )
            cpen.line(pts, col, max(1.0, C * 0.006))
    pen = Pen(lay, xf, msk)
    px = C / xf.s
    fcol = chalk if rng.random() < 0.6 else _pick(rng, pastel)
    th = max(rng.uniform(0.035, 0.06), 0.024 * px)
    head = _blob(rng, 1.0, rng.uniform(0.95, 1.15), 0.04)
    pen.line(head, fcol, th, closed=True)
    if rng.random() < 0.3:
        pen.line(_wobble(rng, head * 1.02, 0.03), fcol, th * 0.5, closed=True)
    if rng.random() < 0.5:
        for sx in (-1, 1):
            pen.line(
                _ell(sx * 1.0, 0.0, 0.14, 0.2, a0=-math.pi / 2, a1=math.pi / 2, n=12) * [sx, 1],
                fcol,
                th,
            )
    hair = int(rng.integers(4))
    if hair == 1:  # spikes
        a = np.linspace(math.pi + 0.5, _TAU - 0.5, 13)
        r = np.where(np.arange(13) % 2 == 0, 1.0, 1.25)
        pen.line(np.stack([r * np.cos(a), 1.05 * r * np.sin(a)], 1), fcol, th * 0.8)
    elif hair == 2:  # curls
        for a in np.linspace(math.pi + 0.5, _TAU - 0.5, 7):
            pen.ellipse(math.cos(a) * 1.0, math.sin(a) * 1.05, 0.13, 0.13, fcol, th=th * 0.7)
    elif hair == 3:  # strands
        for x0 in np.linspace(-0.4, 0.4, 5):
            pen.line([(x0, -1.0), (x0 * 1.3 + 0.1, -1.35)], fcol, th * 0.7)
    ft = _sample_feat(rng, eyes=("dot", "oval", "ring", "bar"), brow_p=0.35)
    _draw_feat(pen, ft, fcol, px, th=th)
    mcol = pastel[int(ms.u * len(pastel)) % len(pastel)] if ms.u2 < 0.5 else fcol
    m = _make_mouth(ms, sign, (0.0, ft.my), xf.s, C)
    _draw_mouth(pen, m, mcol, inside=_scale(mcol, 0.35), inside_m=90, teeth=mcol, outline=True)
    streak = cv2.resize(
        rng.standard_normal((C, max(2, C // 4)), dtype=np.float32),
        (C, C),
        interpolation=cv2.INTER_LINEAR,
    )
    grain = np.clip(0.8 + 0.25 * streak + 0.12 * _fine(rng, C), 0.2, 1.0)
    alpha = (msk.astype(np.float32) / 255.0) * grain
    out = bg * (1 - alpha[..., None]) + lay.astype(np.float32) * grain[..., None]
    return _u8(out)


def _s_linocut(sc: Scene, ms: MouthSpec, sign: int) -> np.ndarray:
    """One-colour relief print: carved background, hatched shading, ink texture."""
    rng, C = sc.rng, sc.C
    ink = _pick(rng, ((18, 18, 22), (25, 32, 70), (120, 22, 28), (26, 56, 38), (62, 40, 26)))
    paper = _jit(rng, (238, 230, 212), 8)
    ink_m = np.zeros((C, C), np.uint8)
    mg = int(C * rng.uniform(0.0, 0.07))
    ink_m[mg : C - mg, mg : C - mg] = 255
    xf = _place(sc, 0.4, 0.9)
    fx, fy = xf.cx, xf.cy
    ct = max(1, round(C * rng.uniform(0.008, 0.014)))
    sp = C * rng.uniform(0.028, 0.05)
    pat = int(rng.integers(4))
    if pat == 0:  # wavy horizontal carving
        xs = np.linspace(0, C, 24)
        amp, fr = sp * rng.uniform(0.0, 0.4), rng.uniform(0.02, 0.06)
        for y in np.arange(rng.uniform(0, sp), C, sp):
            pts = np.stack([xs, y + amp * np.sin(xs * fr + y)], 1).astype(np.int32)
            cv2.polylines(ink_m, [pts], False, 0, ct, _AA)
    elif pat == 1:  # sunburst
        n = int(rng.integers(16, 36))
        a0 = rng.uniform(0, _TAU)
        for k in range(n):
            a = a0 + k * _TAU / n
            wdg = np.array(
                [
                    [fx, fy],
                    [fx + 2 * C * math.cos(a - 0.03), fy + 2 * C * math.sin(a - 0.03)],
                    [fx + 2 * C * math.cos(a + 0.03), fy + 2 * C * math.sin(a + 0.03)],
                ]
            ).astype(np.int32)
            cv2.fillPoly(ink_m, [wdg], 0, _AA)
    elif pat == 2:  # rings
        for r in np.arange(xf.s * 1.2, 1.5 * C, sp):
            cv2.circle(ink_m, (int(fx), int(fy)), int(r), 0, ct, _AA)
    else:  # gouge marks
        for _ in range(int(C * 0.6)):
            x, y = rng.uniform(0, C, 2)
            a = rng.uniform(-0.4, 0.4)
            ln = C * rng.uniform(0.02, 0.05)
            cv2.line(
                ink_m,
                (int(x), int(y)),
                (int(x + ln * math.cos(a)), int(y + ln * math.sin(a))),
                0,
                ct,
                _AA,
            )
    pen = Pen(ink_m, xf)
    px = C / xf.s
    th = max(rng.uniform(0.05, 0.08), 0.025 * px)
    if rng.random() < 0.5:  # shoulders in ink with carved folds
        body = [(-1.7, 2.8), (-1.4, 1.2), (-0.4, 0.95), (0.4, 0.95), (1.4, 1.2), (1.7, 2.8)]
        pen.fill(body, 255)
        for x0 in (-0.9, -0.45, 0.45, 0.9):
            pen.line([(x0, 1.3), (x0 * 1.2, 2.8)], 0, th * 0.35)
    rx, ry = 0.95, rng.uniform(1.0, 1.12)
    head = _ell(0, 0, rx, ry, n=72)
    pen.fill(_ell(0, 0, rx + 0.12, ry + 0.12, n=72), 0)
    pen.line(head, 255, th, closed=True)
    la = rng.uniform(0, _TAU)
    A = np.zeros((C, C), np.uint8)
    pa = Pen(A, xf)
    pa.fill(head, 255)
    pa.fill(_ell(-0.22 * math.cos(la), -0.22 * math.sin(la), rx, ry, n=72), 0)
    H = np.zeros((C, C), np.uint8)
    hs = max(3.0, C * rng.uniform(0.018, 0.028))
    ha = rng.uniform(0, math.pi)
    d = np.array([math.cos(ha), math.sin(ha)])
    nrm = np.array([-d[1], d[0]])
    for o in np.arange(-C, C, hs):
        p0 = np.array([C / 2, C / 2]) + nrm * o - d * 1.5 * C
        p1 = p0 + d * 3 * C
        cv2.line(
            H,
            tuple(int(v) for v in p0),
            tuple(int(v) for v in p1),
            255,
            max(1, int(hs * 0.35)),
            _AA,
        )
    ink_m = np.maximum(ink_m, np.minimum(A, H))
    pen = Pen(ink_m, xf)
    if rng.random() < 0.8:  # hair block with carved strands
        arc = _ell(0, 0, rx + 0.04, ry + 0.06, a0=math.pi + 0.25, a1=_TAU - 0.25, n=30)
        hx = np.linspace(arc[-1, 0], arc[0, 0], 20)
        hy = -0.5 * ry + 0.25 * (hx / rx) ** 2 + rng.uniform(-0.08, 0.05)
        pen.fill(np.concatenate([arc, np.stack([hx, hy], 1)]), 255)
        for x0 in np.linspace(-0.6, 0.6, int(rng.integers(4, 9))):
            pen.line([(x0, -0.55 * ry), (x0 * 1.1, -0.95 * ry)], 0, th * 0.3)
    ft = _sample_feat(
        rng, eyes=("oval", "white", "dot", "bar"), noses=("line", "line", "dot"), brow_p=0.6
    )
    _draw_feat(pen, ft, 255, px, white=0, th=th)
    m = _make_mouth(ms, sign, (0.0, ft.my), xf.s, C)
    _draw_mouth(
        pen, m, 255, inside=255, teeth=0, lip=255, seam=0, th_scale=max(1.0, 0.8 * th / m.thick)
    )
    Ib = cv2.GaussianBlur(ink_m.astype(np.float32), (0, 0), C * 0.003)
    Ib += 45.0 * cv2.GaussianBlur(_fine(rng, C), (0, 0), 1.0)
    a = np.clip((Ib - 110.0) / 40.0, 0.0, 1.0)
    speck = cv2.GaussianBlur(_fine(rng, C), (0, 0), 1.2) > 0.55
    a = a * np.where(speck, rng.uniform(0.55, 0.8), rng.uniform(0.9, 1.0)).astype(np.float32)
    pap = np.empty((C, C, 3), np.float32)
    pap[:] = paper
    pap *= (1.0 + 0.03 * _fine(rng, C) + 0.03 * _noise(rng, C, 6))[..., None]
    return _u8(_blend(pap, ink, a))


def _s_origami(sc: Scene, ms: MouthSpec, sign: int) -> np.ndarray:
    """Faceted folded-paper head."""
    rng, C = sc.rng, sc.C
    kind = int(rng.integers(3))
    if kind == 0:
        img = _bg_wood(
            rng, C, _hsv(rng.uniform(0.06, 0.1), rng.uniform(0.2, 0.4), rng.uniform(0.7, 0.9))
        )
    elif kind == 1:  # cutting mat
        img = np.empty((C, C, 3), np.float32)
        mat = _jit(rng, (40, 95, 75), 12)
        img[:] = mat
        step = C * rng.uniform(0.06, 0.1)
        for v in np.arange(rng.uniform(0, step), C, step):
            cv2.line(img, (int(v), 0), (int(v), C), _scale(mat, 1.4), 1, _AA)
            cv2.line(img, (0, int(v)), (C, int(v)), _scale(mat, 1.4), 1, _AA)
    else:
        img = _bg_grad(rng, C)
    base = (
        _hsv(rng.random(), rng.uniform(0.4, 0.85), rng.uniform(0.65, 0.95))
        if rng.random() < 0.75
        else _pick(rng, ((240, 238, 230), (196, 160, 112), (40, 40, 44)))
    )
    xf = _place(sc, 0.4, 0.88)
    px = C / xf.s
    shape = int(rng.integers(3))
    n = _pick(rng, (6, 8, 8, 10))
    a = np.linspace(0, _TAU, n, endpoint=False) + math.pi / n + rng.uniform(-0.05, 0.05)
    ry = rng.uniform(0.92, 1.08)
    V = np.stack([np.cos(a), ry * np.sin(a)], 1) * (1 + rng.uniform(-0.03, 0.03, (n, 1)))
    ears: list[np.ndarray] = []
    if shape == 1:  # cat ears
        for sx in (-1, 1):
            ears.append(np.array([[sx * 0.95, -0.35], [sx * 0.8, -1.35], [sx * 0.25, -0.85]]))
    elif shape == 2:  # bear-ish square ears
        for sx in (-1, 1):
            ears.append(
                np.array(
                    [[sx * 0.45, -0.8], [sx * 0.55, -1.25], [sx * 1.0, -1.2], [sx * 0.95, -0.5]]
                )
            )
    sh = np.zeros((C, C), np.uint8)
    ps = Pen(sh, Xf(xf.cx + 0.03 * C, xf.cy + 0.045 * C, xf.s, xf.ang))
    ps.fill(V, 255)
    for e in ears:
        ps.fill(e, 255)
    shb = cv2.GaussianBlur(sh, (0, 0), C * 0.015).astype(np.float32) / 255.0
    img *= (1.0 - 0.45 * shb)[..., None]
    img = _u8(img)
    pen = Pen(img, xf)
    la = rng.uniform(math.pi, _TAU)
    c0 = np.array([rng.uniform(-0.08, 0.08), rng.uniform(-0.15, 0.05)])
    fold = _mix(base, (255, 255, 255), 0.25)
    for e in ears:
        mid = e.mean(0)
        for k in range(len(e)):
            tri = np.array([mid, e[k], e[(k + 1) % len(e)]])
            pen.fill(
                tri, _scale(base, 0.8 + 0.15 * math.cos(k * 2.1 + la) + rng.uniform(-0.05, 0.05))
            )
        pen.line(e, _scale(base, 0.6), 0.012 * px, closed=True)
    for k in range(n):
        p1, p2 = V[k], V[(k + 1) % n]
        am = math.atan2((p1[1] + p2[1]) / 2, (p1[0] + p2[0]) / 2)
        shade = 0.86 + 0.16 * math.cos(am - la) + rng.uniform(-0.04, 0.04)
        pen.fill(np.array([c0, p1, p2]), _scale(base, shade))
    for k in range(n):
        pen.line([c0, V[k]], fold, 0.008 * px)
    if rng.random() < 0.5:
        pen.line([V[n // 2], V[0]] if n % 2 == 0 else [V[0], V[n // 2]], fold, 0.008 * px)
    pen.line(V, _scale(base, 0.65), 0.01 * px, closed=True)
    dark = _lum(base) > 110
    feat = (25, 22, 24) if dark else (245, 242, 232)
    er = max(rng.uniform(0.08, 0.13), 0.022 * px)
    ex, ey = rng.uniform(0.3, 0.42), rng.uniform(-0.3, -0.12)
    ek = int(rng.integers(3))
    for sx in (-1, 1):
        cx = sx * ex
        if ek == 0:
            pen.fill([(cx, ey - er * 1.3), (cx + er, ey), (cx, ey + er * 1.3), (cx - er, ey)], feat)
        elif ek == 1:
            pen.ellipse(cx, ey, er, er, feat)
        else:
            pen.ellipse(cx, ey, er * 1.2, er * 1.2, (245, 245, 240))
            pen.ellipse(cx, ey, er * 0.6, er * 0.6, (20, 20, 22))
    if rng.random() < 0.6:
        ny = rng.uniform(0.08, 0.18)
        pen.fill([(-0.08, ny - 0.04), (0.08, ny - 0.04), (0.0, ny + 0.07)], feat)
    my = rng.uniform(0.4, 0.5)
    light = ((245, 240, 230), (250, 215, 120), (240, 170, 180), (170, 215, 245))
    darks = ((40, 30, 30), (120, 20, 32), (30, 40, 95), (20, 20, 20))
    strip = _contrast_pick(
        darks if dark else light, ms.u, (_scale(base, 0.8), _scale(base, 1.0)), 80
    )
    m = _make_mouth(ms, sign, (0.0, my), xf.s, C, kinds=("line", "open"))
    _draw_mouth(pen, m.shifted(0.02, 0.03), _scale(base, 0.55), inside=_scale(base, 0.55))
    _draw_mouth(
        pen,
        m,
        strip,
        inside=strip,
        teeth=(250, 250, 245) if dark else None,
        tongue=ms.tongue_col if dark else None,
    )
    f = img.astype(np.float32) + 4.0 * _fine(rng, C)[..., None]
    return _u8(f)


def _s_toy_minifig(sc: Scene, ms: MouthSpec, sign: int) -> np.ndarray:
    """Blocky toy minifigure head with printed features."""
    rng, C = sc.rng, sc.C
    bk = int(rng.integers(3))
    if bk == 0:  # studded baseplate
        plate = _hsv(rng.random(), rng.uniform(0.4, 0.85), rng.uniform(0.45, 0.85))
        img = np.empty((C, C, 3), np.float32)
        img[:] = plate
        step = C * rng.uniform(0.07, 0.12)
        r = int(step * 0.33)
        off = rng.uniform(0, step, 2)
        for y in np.arange(off[1], C + step, step):
            for x in np.arange(off[0], C + step, step):
                cv2.circle(img, (int(x + 1), int(y + 2)), r, _scale(plate, 0.7), -1, _AA)
                cv2.circle(img, (int(x), int(y)), r, _scale(plate, 1.1), -1, _AA)
                cv2.circle(img, (int(x), int(y)), r, _scale(plate, 0.85), 1, _AA)
    elif bk == 1:
        img = _bg_bokeh(rng, C)
    else:
        img = _bg_grad(rng, C)
    img = _u8(img)
    xf = _place(sc, 0.35, 0.8, mouth_y=0.38)
    px = C / xf.s
    skin = (
        _jit(rng, (248, 198, 36), 8)
        if rng.random() < 0.5
        else _pick(
            rng,
            (
                (236, 190, 150),
                (200, 140, 100),
                (140, 90, 60),
                (120, 200, 120),
                (150, 190, 240),
                (235, 235, 235),
            ),
        )
    )
    shirt = _hsv(rng.random(), rng.uniform(0.4, 0.9), rng.uniform(0.3, 0.9))
    pen = Pen(img, xf)
    torso = [(-1.15, 1.0), (1.15, 1.0), (1.7, 2.8), (-1.7, 2.8)]
    pen.fill(torso, shirt)
    if rng.random() < 0.5:
        pen.ellipse(0, 1.7, 0.35, 0.35, _hsv(rng.random(), 0.6, 0.95))
    pen.fill(_rrect(-0.5, 0.75, 0.5, 1.02, 0.05), _scale(skin, 0.8))
    M = np.zeros((C, C), np.uint8)
    hp = Pen(img, xf, M)
    hw = rng.uniform(0.8, 0.9)
    hp.fill(_rrect(-hw, -0.9, hw, 0.82, rng.uniform(0.18, 0.32)), skin)
    hp.fill(_rrect(-0.45, -1.1, 0.45, -0.85, 0.02), _scale(skin, 0.95))
    hp.ellipse(0, -1.1, 0.45, 0.09, _scale(skin, 1.08))
    hat = rng.random()
    if hat < 0.3:  # hair piece
        hc = _pick(rng, ((60, 40, 25), (20, 20, 20), (200, 150, 60), (150, 60, 30)))
        hp.fill(
            np.concatenate(
                [
                    _ell(0, -0.62, hw + 0.1, 0.55, a0=math.pi, a1=_TAU, n=30),
                    [[hw + 0.1, -0.4], [-hw - 0.1, -0.4]],
                ]
            ),
            hc,
        )
    ft = _sample_feat(
        rng, eyes=("dot", "oval", "dot"), noses=("none", "none", "none", "dot"), brow_p=0.35
    )
    ft = Feat(**{**ft.__dict__, "hl": ft.hl or rng.random() < 0.4})
    ink = (22, 20, 20)
    _draw_feat(pen, ft, ink, px, white=(250, 250, 250), th=0.05)
    m = _make_mouth(ms, sign, (0.0, 0.36), xf.s, C, max_w=1.15)
    lip = _contrast_pick((ms.lip, (120, 20, 30), ink), 0.0, (skin,), 60)
    _draw_mouth(
        pen,
        m,
        ink,
        inside=(30, 20, 20),
        teeth=(250, 250, 250),
        tongue=(220, 70, 80),
        lip=lip,
        seam=ink,
    )
    lx, _ly = xf.local(C)
    cyl = 0.66 + 0.4 * np.sqrt(np.clip(1 - (lx / hw) ** 2, 0, 1))
    spec = 0.45 * np.exp(-(((lx + 0.45 * hw) / 0.09) ** 2))
    a = M.astype(np.float32)[..., None] / 255.0
    f = img.astype(np.float32)
    shaded = f * cyl[..., None] + 255.0 * spec[..., None]
    f = f * (1 - a) + shaded * a
    return _u8(f)


def _s_carnival_mask(sc: Scene, ms: MouthSpec, sign: int) -> np.ndarray:
    """Theatre/carnival mask with eye holes, trim and decorations."""
    rng, C = sc.rng, sc.C
    bk = int(rng.integers(3))
    xs, ys = _grid(C)
    if bk == 0:  # velvet curtain
        cc = _hsv(
            _pick(rng, (0.0, 0.97, 0.75, 0.62, 0.33)), rng.uniform(0.6, 0.9), rng.uniform(0.35, 0.6)
        )
        fr = rng.uniform(0.08, 0.18) * 256 / C
        fold = 0.5 + 0.5 * np.sin(xs * fr + 1.5 * _noise(rng, C, 3))
        img = np.asarray(cc, np.float32) * (0.35 + 0.75 * fold**1.5)[..., None]
    elif bk == 1:  # dark with confetti and streamers
        img = _vgrad(C, _jit(rng, (30, 20, 45), 10), _jit(rng, (10, 8, 16), 5))
        for _ in range(int(rng.integers(20, 60))):
            x, y = rng.uniform(0, C, 2)
            cv2.circle(
                img,
                (int(x), int(y)),
                max(1, int(C * rng.uniform(0.004, 0.01))),
                _hsv(rng.random(), 0.7, 0.95),
                -1,
                _AA,
            )
        for _ in range(int(rng.integers(1, 4))):
            tt = np.linspace(0, 1, 30)
            x0, y0 = rng.uniform(0, C, 2)
            pts = np.stack(
                [x0 + tt * C * rng.uniform(-1, 1), y0 + C * 0.1 * np.sin(tt * 9 + x0)], 1
            )
            cv2.polylines(
                img,
                [pts.astype(np.int32)],
                False,
                _hsv(rng.random(), 0.7, 0.9),
                max(1, int(C * 0.008)),
                _AA,
            )
    else:  # stage spotlight
        gx, gy = rng.uniform(0.3, 0.7) * C, rng.uniform(0.2, 0.6) * C
        spot = np.exp(-((xs - gx) ** 2 + (ys - gy) ** 2) / (2 * (0.35 * C) ** 2))
        tone = _jit(rng, (200, 180, 140), 30)
        img = (np.asarray(tone, np.float32) * (0.1 + 0.8 * spot)[..., None]).astype(np.float32)
    xf = _place(sc, 0.4, 0.9, mouth_y=0.5)
    px = C / xf.s
    img = _u8(img)
    pen = Pen(img, xf)
    th_sh = np.linspace(0, _TAU, 96, endpoint=False)
    st = np.sin(th_sh)
    shape = np.stack(
        [0.9 * np.cos(th_sh) * (1 - 0.16 * np.maximum(st, 0)), st * np.where(st > 0, 1.08, 0.95)], 1
    )
    if rng.random() < 0.5:  # feathers
        n = int(rng.integers(5, 11))
        fc = _hsv(rng.random(), rng.uniform(0.5, 0.9), rng.uniform(0.6, 0.95))
        for k in range(n):
            a = math.radians(-160 + 140 * k / max(1, n - 1))
            cx, cy = 0.9 * math.cos(a), -0.35 + 1.0 * math.sin(a)
            col = _scale(fc, rng.uniform(0.7, 1.15))
            pen.ellipse(cx, cy, 0.6, 0.14, col, ang=a)
            pen.line(
                [
                    (cx - 0.5 * math.cos(a), cy - 0.5 * math.sin(a)),
                    (cx + 0.55 * math.cos(a), cy + 0.55 * math.sin(a)),
                ],
                _scale(col, 0.6),
                0.015,
            )
    if rng.random() < 0.3:  # stick
        pen.line([(0.75, 0.5), (1.7, 2.6)], _jit(rng, (150, 110, 50), 20), 0.07)
    mcol = _pick(
        rng,
        (
            (238, 232, 220),
            (218, 172, 64),
            (192, 196, 206),
            (32, 30, 36),
            (170, 26, 36),
            (40, 62, 150),
            (30, 112, 72),
        ),
    )
    trim = _pick(rng, ((230, 190, 70), (240, 240, 235), (20, 20, 22), (200, 40, 60)))
    if abs(_lum(trim) - _lum(mcol)) < 50:
        trim = (20, 20, 22) if _lum(mcol) > 120 else (230, 190, 70)
    M = np.zeros((C, C), np.uint8)
    mp = Pen(img, xf, M)
    mp.fill(shape, mcol)
    col2 = mcol
    if rng.random() < 0.25:  # harlequin half, same lightness class as the main colour
        light = _lum(mcol) > 110
        col2 = _hsv(rng.random(), rng.uniform(0.3, 0.5) if light else 0.8, 1.0 if light else 0.45)
        half = np.concatenate([shape[(shape[:, 0] <= 0)], [[0.0, 1.08], [0.0, -0.95]]])
        ang = np.arctan2(half[:, 1], half[:, 0] + 1e-9)
        order = np.argsort(np.where(ang < 0, ang + _TAU, ang))
        pen.fill(half[order], col2)
    deco = int(rng.integers(4))
    if deco == 1:
        for x0 in np.linspace(-0.45, 0.45, 5):
            d = 0.07
            pen.fill([(x0, -0.7 - d), (x0 + d, -0.7), (x0, -0.7 + d), (x0 - d, -0.7)], trim)
    elif deco == 2:
        for sx in (-1, 1):
            tt = np.linspace(0, 3 * math.pi, 30)
            rr = 0.02 + 0.05 * tt / math.pi
            pen.line(
                np.stack([sx * (0.72 + rr * np.cos(tt)), -0.45 + rr * np.sin(tt)], 1), trim, 0.02
            )
    elif deco == 3:
        for k in range(14):
            a = k * _TAU / 14
            pen.ellipse(0.72 * math.cos(a), 0.77 * math.sin(a), 0.025, 0.025, trim)
    ey = rng.uniform(-0.3, -0.15)
    ex, ew, eh = rng.uniform(0.32, 0.4), rng.uniform(0.17, 0.24), rng.uniform(0.08, 0.12)
    hole = (14, 10, 16)
    tx = np.linspace(-1, 1, 21)
    for sx in (-1, 1):
        top = np.stack([sx * ex + tx * ew, ey - eh * np.cos(tx * math.pi / 2)], 1)
        bot = np.stack([sx * ex + tx * ew, ey + 0.8 * eh * np.cos(tx * math.pi / 2)], 1)
        eye = np.concatenate([top, bot[::-1]])
        pen.fill(eye, hole)
        pen.line(eye, trim, max(0.025, 0.012 * px), closed=True)
    pen.line(shape, trim, max(0.04, 0.015 * px), closed=True)
    light_mask = _lum(mcol) > 110
    inks = (
        (22, 12, 16),
        (100, 10, 28),
        (26, 20, 64),
        (236, 200, 90),
        (246, 242, 232),
        (232, 70, 80),
    )
    ink = _contrast_pick(inks, ms.u, (mcol, col2), 90)
    lip = _contrast_pick((ms.lip, ink), 0.0, (mcol, col2), 60)
    m = _make_mouth(ms, sign, (0.0, 0.5), xf.s, C, max_w=1.0)
    _draw_mouth(
        pen,
        m,
        ink,
        inside=hole if light_mask else ink,
        teeth=(245, 242, 232) if light_mask else None,
        lip=lip,
        seam=ink,
    )
    lx, ly = xf.local(C)
    sh = 0.78 + 0.32 * np.sqrt(np.clip(1 - (lx / 0.9) ** 2, 0, 1)) - 0.08 * ly
    edge = cv2.GaussianBlur(M, (0, 0), 0.08 * xf.s).astype(np.float32) / 255.0
    a = M.astype(np.float32)[..., None] / 255.0
    f = img.astype(np.float32)
    f = f * (1 - a) + f * (sh * (0.7 + 0.3 * edge))[..., None] * a
    return _u8(f)


def _s_animal(sc: Scene, ms: MouthSpec, sign: int) -> np.ndarray:
    """Cat, dog, bear, panda, frog or mouse face."""
    rng, C = sc.rng, sc.C
    sp = _pick(rng, ("cat", "dog", "bear", "panda", "frog", "mouse"))
    img = _u8(_pick(rng, (_bg_grass, _bg_room, _bg_sky, _bg_grad, _bg_checks, _bg_wood))(rng, C))
    xf = _place(sc, 0.4, 0.9, mouth_y=0.5)
    px = C / xf.s
    fur = {
        "cat": ((228, 142, 62), (150, 150, 160), (235, 215, 180), (60, 55, 60), (240, 238, 232)),
        "dog": ((200, 150, 90), (130, 85, 50), (240, 235, 225), (55, 48, 45), (225, 180, 100)),
        "bear": ((140, 95, 60), (100, 68, 46), (200, 150, 80), (236, 236, 232)),
        "panda": ((242, 242, 236),),
        "frog": ((92, 180, 72), (150, 200, 60), (60, 160, 140), (220, 110, 50)),
        "mouse": ((160, 160, 166), (170, 130, 100), (240, 236, 236)),
    }[sp]
    fc = _jit(rng, _pick(rng, fur), 10)
    muz = _mix(fc, (250, 246, 236), rng.uniform(0.45, 0.75))
    dark = (32, 24, 24)
    pink = _jit(rng, (235, 140, 150), 10)
    under = fc
    M = np.zeros((C, C), np.uint8)
    hp = Pen(img, xf, M)
    pen = Pen(img, xf)
    outline = rng.random() < 0.5
    oc = _scale(fc, 0.45)
    ow = 0.015 * px
    head = _ell(0, 0, 1.0, 1.0)
    my, wscale, max_w = 0.5, 0.8, 0.9
    if sp == "cat":
        for sx in (-1, 1):
            ear = np.array([[sx * 0.95, -0.3], [sx * 0.78, -1.3], [sx * 0.22, -0.85]])
            hp.fill(ear, fc)
            hp.fill(ear * 0.75 + np.array([sx * 0.15, -0.2]), pink)
            if outline:
                pen.line(ear, oc, ow, closed=True)
        head = _ell(0, 0, 1.05, 0.9)
        my, wscale = 0.5, 0.7
    elif sp in ("bear", "panda", "mouse"):
        er, ed = (0.45, 0.8) if sp == "mouse" else (0.3, 0.74)
        ec = dark if sp == "panda" else fc
        for sx in (-1, 1):
            hp.ellipse(sx * ed, -ed, er, er, ec)
            hp.ellipse(
                sx * ed, -ed, er * 0.6, er * 0.6, pink if sp == "mouse" else _scale(ec, 1.25)
            )
            if outline:
                pen.ellipse(sx * ed, -ed, er, er, oc, th=ow)
        head = _ell(0, 0.02, 0.9, 0.86) if sp == "mouse" else head
        wscale = 0.65 if sp == "mouse" else 0.75
    elif sp == "frog":
        for sx in (-1, 1):
            hp.ellipse(sx * 0.5, -0.55, 0.34, 0.32, fc)
        head = _ell(0, 0.1, 1.1, 0.8)
        my, wscale, max_w = 0.36, 1.45, 1.5
    elif sp == "dog":
        head = _ell(0, 0, 0.95, 1.02)
        my, wscale = 0.55, 0.85
    hp.fill(head, fc)
    if outline:
        pen.line(head, oc, ow, closed=True)
    if sp == "dog":
        ec = _scale(fc, rng.uniform(0.5, 0.8))
        for sx in (-1, 1):
            hp.ellipse(sx * 0.9, 0.0, 0.27, 0.6, ec, ang=sx * 0.25)
        if rng.random() < 0.4:
            pen.ellipse(0.35 * _pick(rng, (-1, 1)), -0.2, 0.26, 0.24, ec)
    if sp == "panda":
        for sx in (-1, 1):
            pen.ellipse(sx * 0.36, -0.12, 0.21, 0.25, dark, ang=sx * rng.uniform(-0.15, 0.15))
    if sp == "frog":
        for sx in (-1, 1):
            pen.ellipse(sx * 0.5, -0.58, 0.22, 0.22, (248, 248, 240))
            pen.ellipse(sx * 0.5, -0.58, 0.11, 0.08, dark)
        for sx in (-1, 1):
            pen.ellipse(sx * 0.09, 0.05, 0.03, 0.025, _scale(fc, 0.4))
        if rng.random() < 0.4:
            for sx in (-1, 1):
                pen.ellipse(sx * 0.72, 0.25, 0.12, 0.08, _mix(fc, pink, 0.6))
    else:
        if sp != "panda" and (rng.random() < 0.8 or _lum(fc) < 110):
            pen.ellipse(0, 0.44, 0.5, 0.34, muz)
            under = muz
        ey, ex = rng.uniform(-0.25, -0.1), rng.uniform(0.3, 0.4)
        er = max(rng.uniform(0.08, 0.12), 0.022 * px)
        for sx in (-1, 1):
            if sp == "cat":
                iris = _pick(rng, ((120, 190, 70), (230, 190, 50), (90, 160, 220)))
                pen.ellipse(sx * ex, ey, er * 1.4, er * 1.15, iris)
                pen.ellipse(sx * ex, ey, er * 0.35, er * 1.05, dark)
                pen.ellipse(sx * ex, ey, er * 1.4, er * 1.15, dark, th=0.012 * px)
            elif sp == "panda":
                pen.ellipse(sx * 0.36, -0.1, er * 0.9, er * 0.9, (245, 245, 240))
                pen.ellipse(sx * 0.36, -0.1, er * 0.5, er * 0.5, dark)
            else:
                pen.ellipse(sx * ex, ey, er, er * 1.1, dark)
                pen.ellipse(sx * ex - 0.3 * er, ey - 0.35 * er, 0.3 * er, 0.3 * er, (250, 250, 250))
        if sp == "cat" or sp == "mouse":
            pen.fill([(-0.08, 0.2), (0.08, 0.2), (0.0, 0.29)], pink)
        else:
            pen.ellipse(0, 0.22, 0.13, 0.085, dark)
            pen.ellipse(-0.04, 0.19, 0.04, 0.02, (200, 200, 200))
        if sp in ("cat", "mouse"):
            wc = _mix(fc, (30, 30, 30) if _lum(fc) > 120 else (250, 250, 250), 0.6)
            for sx in (-1, 1):
                for dyw in (-0.08, 0.0, 0.08):
                    pen.line(
                        [(sx * 0.62, 0.26 + dyw * 0.3), (sx * 1.2, 0.22 + dyw * 1.6)],
                        wc,
                        0.007 * px,
                    )
    fac = np.clip(cv2.GaussianBlur(M, (0, 0), 0.12 * xf.s).astype(np.float32) / 255.0, 0, 1)
    furn = cv2.resize(
        rng.standard_normal((max(2, C // 2), max(2, C // 10)), dtype=np.float32), (C, C)
    )
    a = M.astype(np.float32) / 255.0
    f = img.astype(np.float32) * (1 + a * (0.07 * furn - 0.22 * (1 - fac)))[..., None]
    img = _u8(f)
    pen = Pen(img, xf)
    ink = dark if _lum(under) > 110 else (240, 235, 230)
    if sp == "frog":
        ink = _scale(fc, 0.3)
    m = _make_mouth(
        ms, sign, (0.0, my), xf.s, C, wscale=wscale, max_w=max_w, kinds=("line", "open")
    )
    if sp not in ("frog",) and ms.u2 < 0.5:
        pen.line([(0.0, 0.28), m.top_mid], ink, m.thick * 0.6)
    _draw_mouth(pen, m, ink, inside=ms.inside, teeth=ms.teeth_col, tongue=ms.tongue_col)
    return img


def _s_sky_face(sc: Scene, ms: MouthSpec, sign: int) -> np.ndarray:
    """Sun, moon, cloud or flower with a face."""
    rng, C = sc.rng, sc.C
    kind = _pick(rng, ("sun", "moon", "cloud", "flower"))
    if kind == "moon":
        img = _vgrad(C, _jit(rng, (12, 18, 48), 8), _jit(rng, (30, 40, 90), 12))
        for _ in range(int(rng.integers(15, 50))):
            x, y = rng.uniform(0, C, 2)
            cv2.circle(
                img,
                (int(x), int(y)),
                max(1, int(C * rng.uniform(0.002, 0.007))),
                (240, 240, 220),
                -1,
                _AA,
            )
    elif kind == "sun" and rng.random() < 0.4:
        img = _vgrad(C, _jit(rng, (250, 170, 90), 15), _jit(rng, (120, 70, 140), 20))
    elif kind == "flower" and rng.random() < 0.6:
        img = _bg_grass(rng, C)
    else:
        img = _bg_sky(rng, C)
    lo, hi = (0.35, 0.7) if kind in ("sun", "flower") else (0.4, 0.9)
    xf = _place(sc, lo, hi, mouth_y=0.42)
    px = C / xf.s
    img = _u8(img)
    pen = Pen(img, xf)
    lx, ly = xf.local(C)
    r2 = lx**2 + ly**2
    if kind == "sun":
        rc = _jit(rng, (250, 200, 60), 15)
        n = int(rng.integers(9, 18))
        a0 = rng.uniform(0, _TAU)
        wavy = rng.random() < 0.4
        for k in range(n):
            a = a0 + k * _TAU / n
            r1 = 1.4 + (0.25 if k % 2 == 0 else 0.0)
            hw = math.pi / n * 0.55
            if wavy:
                tt = np.linspace(1.05, r1 + 0.1, 10)
                pts = np.stack(
                    [
                        tt * np.cos(a + 0.08 * np.sin(tt * 9)),
                        tt * np.sin(a + 0.08 * np.sin(tt * 9)),
                    ],
                    1,
                )
                pen.line(pts, rc, 0.06)
            else:
                pen.fill(
                    [
                        (1.02 * math.cos(a - hw), 1.02 * math.sin(a - hw)),
                        (r1 * math.cos(a), r1 * math.sin(a)),
                        (1.02 * math.cos(a + hw), 1.02 * math.sin(a + hw)),
                    ],
                    rc,
                )
        inner, outer = _jit(rng, (255, 238, 130), 10), _jit(rng, (250, 170, 40), 15)
        ink = _pick(rng, ((140, 60, 20), (90, 40, 20), (170, 40, 30)))
    elif kind == "moon":
        glow = np.exp(-np.clip(r2 - 1, 0, None) * 3.0) * (r2 > 1)
        f = img.astype(np.float32) + (glow * 60.0)[..., None]
        img[:] = _u8(f)
        inner, outer = _jit(rng, (240, 238, 215), 8), _jit(rng, (200, 200, 186), 10)
        ink = _pick(rng, ((70, 70, 95), (60, 55, 50), (40, 50, 90)))
    elif kind == "cloud":
        for _ in range(int(rng.integers(0, 3))):
            c2 = Xf(rng.uniform(0, C), rng.uniform(0, C * 0.5), C * rng.uniform(0.05, 0.1), 0.0)
            p2 = Pen(img, c2)
            for bx, by, br in ((-0.6, 0.0, 0.5), (0.0, -0.3, 0.65), (0.6, 0.0, 0.5)):
                p2.ellipse(bx, by, br, br, (248, 248, 252))
        inner, outer = (252, 252, 254), _jit(rng, (210, 220, 235), 10)
        ink = _pick(rng, ((60, 80, 130), (50, 50, 60), (90, 70, 130)))
    else:
        pc = _hsv(
            _pick(rng, (0.0, 0.95, 0.85, 0.75, 0.08, 0.6, 0.14)),
            rng.uniform(0.4, 0.85),
            rng.uniform(0.75, 1.0),
        )
        pen.line([(0.0, 0.9), (rng.uniform(-0.3, 0.3), 3.0)], (60, 140, 50), 0.14)
        for sx in (-1, 1):
            pen.ellipse(sx * 0.45, 1.7, 0.45, 0.16, (70, 160, 60), ang=sx * -0.5)
        n = int(rng.integers(5, 13))
        a0 = rng.uniform(0, _TAU)
        for k in range(n):
            a = a0 + k * _TAU / n
            pc2 = _scale(pc, rng.uniform(0.85, 1.05))
            pen.ellipse(1.3 * math.cos(a), 1.3 * math.sin(a), 0.55, 0.3 * 8 / max(n, 6), pc2, ang=a)
            pen.ellipse(
                1.3 * math.cos(a),
                1.3 * math.sin(a),
                0.55,
                0.3 * 8 / max(n, 6),
                _scale(pc, 0.7),
                th=0.02,
                ang=a,
            )
        ctr = _pick(rng, ((250, 205, 50), (240, 150, 40), (120, 70, 32), (250, 232, 130)))
        inner, outer = _scale(ctr, 1.08), _scale(ctr, 0.88)
        ink = (70, 40, 20) if _lum(ctr) > 130 else (250, 240, 205)
    if kind == "cloud":
        cl = np.zeros((C, C), np.uint8)
        cp = Pen(cl, xf)
        cp.ellipse(0, 0.15, 1.15, 0.72, 255)
        for bx, by, br in (
            (-0.6, -0.4, 0.5),
            (0.05, -0.55, 0.6),
            (0.65, -0.35, 0.48),
            (-1.05, 0.2, 0.42),
            (1.05, 0.2, 0.42),
        ):
            cp.ellipse(bx + rng.uniform(-0.05, 0.05), by + rng.uniform(-0.05, 0.05), br, br, 255)
        a = cl.astype(np.float32) / 255.0
        t = np.clip((ly + 0.2) / 1.0, 0, 1)
    else:
        a = np.clip((1.0 - np.sqrt(r2)) * xf.s, 0, 1)
        t = np.clip(r2, 0, 1)
    col = (
        np.asarray(inner, np.float32) * (1 - t[..., None])
        + np.asarray(outer, np.float32) * t[..., None]
    )
    f = img.astype(np.float32) * (1 - a[..., None]) + col * a[..., None]
    img[:] = _u8(f)
    if kind == "moon":
        for _ in range(int(rng.integers(3, 8))):
            for _try in range(10):
                cx, cy = rng.uniform(-0.8, 0.8, 2)
                if (cy < -0.4 or abs(cx) > 0.62) and cx * cx + cy * cy < 0.7:
                    break
            else:
                continue
            cr = rng.uniform(0.06, 0.16)
            pen.ellipse(cx, cy, cr, cr, _scale(outer, 0.88))
            pen.ellipse(cx + 0.015, cy + 0.015, cr, cr, _scale(outer, 0.75), th=0.015)
    ft = _sample_feat(
        rng,
        eyes=("dot", "oval", "ring", "white"),
        noses=("none", "none", "button", "line"),
        brow_p=0.25,
        blush_p=0.45,
        my=(0.38, 0.48),
    )
    _draw_feat(
        pen, ft, ink, px, white=(255, 255, 250), th=0.05, blush=_mix(outer, (240, 110, 120), 0.45)
    )
    mink = ink if ms.u < 0.6 or _lum(ink) > 128 else _scale(ink, 0.7)
    m = _make_mouth(ms, sign, (0.0, ft.my), xf.s, C)
    lip = _contrast_pick((ms.lip, mink), 0.0, (inner, outer), 60)
    _draw_mouth(pen, m, mink, inside=ms.inside, teeth=ms.teeth_col, tongue=ms.tongue_col, lip=lip)
    return img


def _balloon(img: np.ndarray, C: int, xf: Xf, col: RGB, string_len: float = 3.5) -> np.ndarray:
    """Draw one shaded balloon in the frame ``xf`` and return its coverage mask."""
    pen = Pen(img, xf)
    tt = np.linspace(0, 1, 20)
    pen.line(np.stack([0.1 * np.sin(tt * 9), 1.12 + tt * string_len], 1), (230, 230, 230), 0.025)
    pen.fill([(0, 1.02), (-0.09, 1.16), (0.09, 1.16)], _scale(col, 0.8))
    a = np.linspace(0, _TAU, 72, endpoint=False)
    s = np.sin(a)
    shape = np.stack([0.92 * np.cos(a) * (1 - 0.12 * np.maximum(s, 0)), 1.05 * s], 1)
    M = np.zeros((C, C), np.uint8)
    Pen(img, xf, M).fill(shape, col)
    lx, ly = xf.local(C)
    d = np.sqrt((lx + 0.35) ** 2 + (ly + 0.45) ** 2)
    shade = np.clip(1.15 - 0.4 * d, 0.45, 1.2)
    am = M.astype(np.float32)[..., None] / 255.0
    f = img.astype(np.float32)
    img[:] = _u8(f * (1 - am) + f * shade[..., None] * am)
    return M


def _s_balloon(sc: Scene, ms: MouthSpec, sign: int) -> np.ndarray:
    """A balloon with a marker face among other balloons."""
    rng, C = sc.rng, sc.C
    bk = int(rng.integers(3))
    if bk == 0:
        img = _bg_sky(rng, C)
    elif bk == 1:  # party wall with bunting
        img = _bg_room(rng, C)
        for _ in range(int(rng.integers(1, 3))):
            y0 = rng.uniform(0.05, 0.35) * C
            xs = np.linspace(-0.1 * C, 1.1 * C, 12)
            ys = y0 + 0.06 * C * np.sin(np.linspace(0, math.pi, 12))
            cv2.polylines(
                img, [np.stack([xs, ys], 1).astype(np.int32)], False, (80, 80, 80), 1, _AA
            )
            for k in range(11):
                x0, x1 = xs[k] + 0.1 * (xs[1] - xs[0]), xs[k + 1] - 0.1 * (xs[1] - xs[0])
                yy = (ys[k] + ys[k + 1]) / 2
                tri = np.array([[x0, yy], [x1, yy], [(x0 + x1) / 2, yy + 0.08 * C]]).astype(
                    np.int32
                )
                cv2.fillPoly(img, [tri], _hsv(rng.random(), 0.7, 0.9), _AA)
    else:
        img = _bg_grad(rng, C)
    img = _u8(img)
    xf = _place(sc, 0.35, 0.8, mouth_y=0.35)
    for _ in range(int(rng.integers(1, 6))):
        r = C * rng.uniform(0.08, 0.18)
        oxf = Xf(rng.uniform(0, C), rng.uniform(0, C), r, math.radians(rng.uniform(-20, 20)))
        if math.hypot(oxf.cx - xf.cx, oxf.cy - xf.cy) < 0.6 * (xf.s + r):
            continue
        _balloon(img, C, oxf, _hsv(rng.random(), rng.uniform(0.5, 0.9), rng.uniform(0.6, 0.95)))
    col = _hsv(rng.random(), rng.uniform(0.45, 0.95), rng.uniform(0.6, 1.0))
    _balloon(img, C, xf, col)
    px = C / xf.s
    shaded = _scale(col, 0.8)  # balloon colour around the mouth after shading
    ink = (20, 20, 24) if _lum(shaded) > 120 else (248, 248, 248)
    pen = Pen(img, xf)
    ft = _sample_feat(
        rng,
        eyes=("dot", "oval", "ring", "bar"),
        noses=("none", "none", "line", "dot"),
        brow_p=0.3,
        my=(0.32, 0.42),
    )
    _draw_feat(pen, ft, ink, px, th=0.045)
    alt = _scale(ms.lip, 0.6)
    mcol = alt if ms.u > 0.7 and abs(_lum(shaded) - _lum(alt)) > 100 else ink
    m = _make_mouth(ms, sign, (0.0, ft.my), xf.s, C, kinds=("line", "open"))
    _draw_mouth(pen, m, mcol)
    hl = np.zeros((C, C), np.uint8)
    Pen(hl, xf).ellipse(-0.42, -0.5, 0.13, 0.24, 255, ang=0.5)
    hla = cv2.GaussianBlur(hl, (0, 0), 0.04 * xf.s).astype(np.float32) / 255.0 * 0.75
    return _u8(_blend(img.astype(np.float32), (255, 255, 255), hla))


def _s_stone_relief(sc: Scene, ms: MouthSpec, sign: int) -> np.ndarray:
    """Carved stone/bronze relief lit from above."""
    rng, C = sc.rng, sc.C
    mat = _pick(rng, ("stone", "sandstone", "marble", "bronze", "terracotta", "slate"))
    xf = _place(sc, 0.4, 0.9)
    R = xf.s
    lx, ly = xf.local(C)
    H = (0.02 * _noise(rng, C, 8) + 0.004 * cv2.GaussianBlur(_fine(rng, C), (0, 0), 1.0)) * R
    if rng.random() < 0.6:  # raised plaque
        P = np.zeros((C, C), np.uint8)
        pp = Pen(P, xf)
        if rng.random() < 0.5:
            pp.ellipse(0, 0.05, 1.38, 1.42, 255)
        else:
            pp.fill(_rrect(-1.35, -1.4, 1.35, 1.5, 0.2), 255)
        H += 0.1 * R * cv2.GaussianBlur(P, (0, 0), 0.02 * R).astype(np.float32) / 255.0
    ry = rng.uniform(1.0, 1.12)
    d = 1 - lx**2 - (ly / ry) ** 2
    H += 0.26 * R * np.sqrt(np.clip(d, 0, 1))
    Z = np.zeros((C, C), np.uint8)  # raised details
    G = np.zeros((C, C), np.uint8)  # incised details
    pz, pg = Pen(Z, xf), Pen(G, xf)
    px = C / R
    if rng.random() < 0.7:
        arc = _ell(0, 0, 1.0, ry + 0.04, a0=math.pi + 0.3, a1=_TAU - 0.3, n=30)
        hx = np.linspace(arc[-1, 0], arc[0, 0], 20)
        hair = np.concatenate([arc, np.stack([hx, -0.5 * ry + 0.24 * hx**2], 1)])
        pz.fill(hair, 255)
        for x0 in np.linspace(-0.65, 0.65, int(rng.integers(5, 10))):
            pg.line([(x0, -0.5 * ry + 0.24 * x0**2 - 0.03), (x0 * 1.15, -0.9 * ry)], 255, 0.02 * px)
    ft = _sample_feat(rng, eyes=("oval", "dot"), noses=("none",), brow_p=0.7)
    er = max(ft.erx * 1.2, 0.025 * px)
    for sx in (-1, 1):
        ex = sx * ft.ex
        de = 1 - ((lx - ex) / (er * 1.5)) ** 2 - ((ly - ft.ey) / er) ** 2
        H += 0.05 * R * np.sqrt(np.clip(de, 0, 1))
        pg.ellipse(ex, ft.ey, er * 0.45, er * 0.45, 255)
        pg.ellipse(ex, ft.ey, er * 1.5, er, 255, th=0.012 * px)
        if ft.brow:
            pz.line(
                [
                    (ex - 0.15, ft.ey - er - 0.1 + sx * ft.btilt * -0.15),
                    (ex + 0.15, ft.ey - er - 0.1 + sx * ft.btilt * 0.15),
                ],
                255,
                0.03 * px,
            )
    pz.fill([(0.0, -0.05), (-0.1, 0.2), (0.1, 0.2)], 255)
    m = _make_mouth(ms, sign, (0.0, ft.my), R, C)
    _draw_mouth(pg, m, 255, inside=255, teeth=0, lip=0, seam=255, outline=False, th_scale=1.1)
    if m.kind == "lips":
        assert m.lip_u is not None and m.lip_l is not None
        pz.fill(m.lip_u, 255)
        pz.fill(m.lip_l, 255)
    Zb = cv2.GaussianBlur(Z, (0, 0), 0.006 * C).astype(np.float32) / 255.0
    Gb = cv2.GaussianBlur(G, (0, 0), 0.004 * C).astype(np.float32) / 255.0
    H += 0.06 * R * Zb - 0.08 * R * Gb
    H = cv2.GaussianBlur(H, (0, 0), 0.004 * C)
    gx = cv2.Sobel(H, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(H, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    norm = np.sqrt(gx * gx + gy * gy + 1.0)
    az = rng.uniform(math.radians(200), math.radians(340))
    el = rng.uniform(math.radians(30), math.radians(55))
    L = (math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el))
    diff = np.clip((-gx * L[0] - gy * L[1] + L[2]) / norm, 0, 1)
    cav = cv2.GaussianBlur(G, (0, 0), 0.008 * C).astype(np.float32) / 255.0
    base = {
        "stone": (150, 148, 142),
        "sandstone": (205, 175, 130),
        "marble": (228, 226, 220),
        "bronze": (160, 108, 55),
        "terracotta": (190, 100, 65),
        "slate": (100, 105, 112),
    }[mat]
    base = _jit(rng, base, 10)
    alb = np.empty((C, C, 3), np.float32)
    alb[:] = base
    alb *= (1.0 + 0.08 * _noise(rng, C, 12) + 0.05 * _fine(rng, C))[..., None]
    if mat == "marble":
        vein = np.abs(np.sin(6.0 * _noise(rng, C, 4) + lx * 2.0)) ** 0.15
        alb *= (0.8 + 0.2 * vein)[..., None]
    if mat == "bronze":
        pat = np.clip(cav * 2 + 0.4 * _noise(rng, C, 6) - 0.3, 0, 1)
        alb = _blend(alb, (80, 140, 110), pat * rng.uniform(0.3, 0.8))
    shade = 0.3 + 1.0 * diff
    f = alb * shade[..., None] * (1.0 - 0.8 * np.clip(1.6 * cav, 0, 1))[..., None]
    if mat == "bronze":
        hv = np.clip((-gx * L[0] - gy * L[1] + L[2] + 1.0) / (norm * 1.4), 0, 1)
        f += (255.0 * 0.5 * hv**20)[..., None]
    return _u8(f)


def _s_sticky_note(sc: Scene, ms: MouthSpec, sign: int) -> np.ndarray:
    """Marker face on a sticky note in an office scene."""
    rng, C = sc.rng, sc.C
    bk = int(rng.integers(4))
    if bk == 0:
        img = _bg_wood(rng, C)
    elif bk == 1:
        img = _bg_cork(rng, C)
    elif bk == 2:  # fridge / whiteboard
        img = _vgrad(C, _jit(rng, (240, 242, 244), 8), _jit(rng, (200, 205, 210), 10))
    else:  # monitor bezel
        img = np.empty((C, C, 3), np.float32)
        img[:] = _jit(rng, (40, 42, 46), 8)
        e = int(C * rng.uniform(0.1, 0.3))
        img[e:, e:] = _vgrad(C - e, (60, 90, 140), (30, 50, 90))
    notes = ((250, 235, 110), (250, 170, 200), (160, 230, 150), (150, 210, 250), (250, 190, 100))
    inks = ((20, 20, 26), (30, 45, 150), (170, 25, 35), (85, 25, 115), (25, 95, 45))
    img = _u8(img)
    xf = _place(sc, 0.36, 0.8)
    for _ in range(int(rng.integers(0, 5))):
        oxf = Xf(
            rng.uniform(0, C),
            rng.uniform(0, C),
            C * rng.uniform(0.08, 0.16),
            math.radians(rng.uniform(-20, 20)),
        )
        if math.hypot(oxf.cx - xf.cx, oxf.cy - xf.cy) < 0.8 * xf.s:
            continue
        op = Pen(img, oxf)
        op.fill(_rrect(-1, -1, 1, 1, 0.03), _jit(rng, _pick(rng, notes), 10))
        oi = _pick(rng, inks)
        for k in range(int(rng.integers(0, 4))):
            xs = np.linspace(-0.7, rng.uniform(-0.2, 0.7), 10)
            op.line(np.stack([xs, -0.5 + 0.35 * k + 0.06 * rng.uniform(-1, 1, 10)], 1), oi, 0.06)
        if bk == 1:
            op.ellipse(0, -0.8, 0.12, 0.12, _hsv(rng.random(), 0.8, 0.9))
    if bk == 0 and rng.random() < 0.6:  # a pen on the desk
        x0, y0 = rng.uniform(0, C, 2)
        a = rng.uniform(0, math.pi)
        ln = C * 0.45
        cv2.line(
            img,
            (int(x0), int(y0)),
            (int(x0 + ln * math.cos(a)), int(y0 + ln * math.sin(a))),
            _hsv(rng.random(), 0.7, 0.8),
            max(2, int(C * 0.03)),
            _AA,
        )
    sh = np.zeros((C, C), np.uint8)
    Pen(sh, Xf(xf.cx + 0.02 * C, xf.cy + 0.03 * C, xf.s, xf.ang)).fill(
        _rrect(-1.15, -1.15, 1.15, 1.15, 0.03), 255
    )
    sha = cv2.GaussianBlur(sh, (0, 0), 0.015 * C).astype(np.float32) / 255.0
    img = _u8(img.astype(np.float32) * (1 - 0.4 * sha)[..., None])
    nc = _jit(rng, _pick(rng, notes), 10)
    M = np.zeros((C, C), np.uint8)
    Pen(img, xf, M).fill(_rrect(-1.15, -1.15, 1.15, 1.15, 0.03), nc)
    pen = Pen(img, xf)
    pen.fill(_rrect(-1.15, -1.15, 1.15, -0.85, 0.02), _scale(nc, 0.95))
    px = C / xf.s
    ink = _pick(rng, inks)
    th = max(rng.uniform(0.035, 0.075), 0.02 * px)
    if rng.random() < 0.55:
        pen.line(
            _wobble(rng, _blob(rng, 0.92, rng.uniform(0.85, 0.95), 0.03), 0.02),
            ink,
            th,
            closed=True,
        )
    if rng.random() < 0.25:
        xs = np.linspace(-0.5, 0.5, 9)
        pen.line(np.stack([xs, -0.9 - 0.08 * (np.arange(9) % 2)], 1), ink, th * 0.7)
    ft = _sample_feat(
        rng, eyes=("dot", "oval", "ring", "bar", "white"), brow_p=0.3, blush_p=0.0, my=(0.38, 0.5)
    )
    _draw_feat(pen, ft, ink, px, white=nc, th=th)
    mi = ink if ms.u < 0.65 else _contrast_pick(inks, ms.u2, (nc,), 90)
    m = _make_mouth(ms, sign, (0.0, ft.my), xf.s, C, kinds=("line", "open"))
    _draw_mouth(pen, m, mi, inside=mi, teeth=nc)
    lx, ly = xf.local(C)
    g = 1.03 - 0.06 * np.clip((ly + 1.15) / 2.3, 0, 1) * np.clip((lx + 1.15) / 2.3, 0, 1)
    a = M.astype(np.float32)[..., None] / 255.0
    f = img.astype(np.float32)
    return _u8(f * (1 - a) + f * g[..., None] * a)


def _s_led_matrix(sc: Scene, ms: MouthSpec, sign: int) -> np.ndarray:
    """Dot-matrix LED sign showing a face."""
    rng, C = sc.rng, sc.C
    bk = int(rng.integers(3))
    if bk == 0:  # night street
        img = _vgrad(C, _jit(rng, (10, 14, 34), 6), _jit(rng, (40, 36, 50), 10))
        for _ in range(int(rng.integers(10, 40))):
            x, y = rng.uniform(0, C), rng.uniform(0.3, 1.0) * C
            cv2.circle(
                img,
                (int(x), int(y)),
                max(1, int(C * 0.006)),
                _hsv(rng.uniform(0.05, 0.15), 0.5, 0.9),
                -1,
                _AA,
            )
        img = cv2.GaussianBlur(img, (0, 0), 1.2)
    elif bk == 1:  # day with buildings
        img = _bg_sky(rng, C)
        for _ in range(int(rng.integers(2, 6))):
            x0 = rng.uniform(-0.1, 0.9) * C
            w = rng.uniform(0.1, 0.3) * C
            top = rng.uniform(0.3, 0.7) * C
            cv2.rectangle(
                img, (int(x0), int(top)), (int(x0 + w), C), _jit(rng, (120, 120, 130), 30), -1
            )
    else:  # brick wall
        img = np.empty((C, C, 3), np.float32)
        brick = _jit(rng, (150, 70, 50), 20)
        img[:] = _scale(brick, 0.6)
        bh = C * rng.uniform(0.05, 0.08)
        for r, y in enumerate(np.arange(0, C, bh)):
            for x in np.arange(-(r % 2) * bh, C, 2 * bh):
                cv2.rectangle(
                    img,
                    (int(x + 1), int(y + 1)),
                    (int(x + 2 * bh - 2), int(y + bh - 2)),
                    _jit(rng, brick, 15),
                    -1,
                )
    xf = _place(sc, 0.45, 0.95, mouth_y=0.42, max_rot=12.0)
    img = _u8(img)
    hs = 1.2
    G = int(rng.integers(16, 29))
    cell = 2 * hs / G
    K = 4
    Gk = G * K
    grid = np.zeros((Gk, Gk), np.uint8)
    gp = Pen(grid, Xf(Gk / 2, Gk / 2, Gk / (2 * hs), 0.0))
    pen = Pen(img, xf)
    if rng.random() < 0.5:  # pole
        pen.fill([(-0.1, 1.2), (0.1, 1.2), (0.1, 5.0), (-0.1, 5.0)], (110, 112, 118))
    housing = _jit(rng, (52, 54, 58), 10)
    pen.fill(_rrect(-hs * 1.1, -hs * 1.1, hs * 1.1, hs * 1.1, 0.06), housing)
    pen.fill(_rrect(-hs, -hs, hs, hs, 0.02), (12, 12, 14))
    for sx in (-1, 1):
        for sy in (-1, 1):
            pen.ellipse(sx * hs * 1.05, sy * hs * 1.05, 0.025, 0.025, (150, 150, 150))
    th = cell
    if rng.random() < 0.7:
        gp.line(_ell(0, 0, 1.0, rng.uniform(0.95, 1.05), n=64), 255, th, closed=True)
    er = max(rng.uniform(0.08, 0.14), 0.8 * cell)
    ex, ey = rng.uniform(0.3, 0.42), rng.uniform(-0.35, -0.15)
    sq = rng.random() < 0.5
    for sx in (-1, 1):
        if sq:
            gp.fill(
                [
                    (sx * ex - er, ey - er),
                    (sx * ex + er, ey - er),
                    (sx * ex + er, ey + er),
                    (sx * ex - er, ey + er),
                ],
                255,
            )
        else:
            gp.ellipse(sx * ex, ey, er, er * 1.2, 255)
    m = _make_mouth(
        ms,
        sign,
        (0.0, 0.42),
        xf.s,
        C,
        thick=th,
        min_bend=2.5 * cell,
        min_w=7 * cell,
        max_w=1.3,
        max_ext=0.62,
    )
    _draw_mouth(gp, m, 255, inside=255, lip=255, seam=255)
    lit = cv2.resize(grid, (G, G), interpolation=cv2.INTER_AREA) > 80
    led = _pick(
        rng,
        (
            (255, 50, 30),
            (255, 170, 30),
            (70, 255, 100),
            (235, 240, 255),
            (70, 150, 255),
            (60, 240, 240),
        ),
    )
    lx, ly = xf.local(C)
    u, v = (lx + hs) / cell, (ly + hs) / cell
    inside = (u >= 0) & (u < G) & (v >= 0) & (v < G)
    iu = np.clip(np.floor(u), 0, G - 1).astype(np.int32)
    iv = np.clip(np.floor(v), 0, G - 1).astype(np.int32)
    fu, fv = u - iu - 0.5, v - iv - 0.5
    spot = np.exp(-(fu * fu + fv * fv) / (2 * 0.2**2)) * inside
    on = lit[iv, iu] & inside
    inten = np.where(on, 1.0, 0.08) * spot
    ledc = np.asarray(led, np.float32)
    f = img.astype(np.float32)
    f += ledc * inten[..., None]
    f += 255.0 * 0.7 * (spot**3 * on)[..., None]
    glow = cv2.GaussianBlur((on * spot).astype(np.float32), (0, 0), max(1.0, cell * xf.s * 0.7))
    f += ledc * (0.8 * glow)[..., None]
    return _u8(f)


_STYLE_FUNCS: dict[str, Callable[[Scene, MouthSpec, int], np.ndarray]] = {
    "stained_glass": _s_stained_glass,
    "chalkboard": _s_chalkboard,
    "linocut": _s_linocut,
    "origami": _s_origami,
    "toy_minifig": _s_toy_minifig,
    "carnival_mask": _s_carnival_mask,
    "animal": _s_animal,
    "sky_face": _s_sky_face,
    "balloon": _s_balloon,
    "stone_relief": _s_stone_relief,
    "sticky_note": _s_sticky_note,
    "led_matrix": _s_led_matrix,
}


# --------------------------------------------------------------------------------------------
# Finishing, rendering, writing
# --------------------------------------------------------------------------------------------


def _finish(rng: Rng, img: np.ndarray, flat_ok: bool = True) -> tuple[np.ndarray, str, int]:
    """Label-blind photographic finishing: light, tint, contrast, blur, noise, JPEG.

    ``flat_ok`` False skips the contrast reduction for styles that are already low-contrast.
    """
    n = img.shape[0]
    f = img.astype(np.float32)
    if rng.random() < 0.3:  # directional light / vignette
        xs, ys = _grid(n)
        a = rng.uniform(0, _TAU)
        ramp = ((xs - n / 2) * math.cos(a) + (ys - n / 2) * math.sin(a)) / (n / 2)
        f *= (1.0 + rng.uniform(0.15, 0.4) * ramp)[..., None]
    if rng.random() < 0.2:
        f *= np.asarray([rng.uniform(0.8, 1.15) for _ in range(3)], np.float32)
    flat = rng.random() < 0.12
    mid, k, dim = rng.uniform(90, 170), rng.uniform(0.55, 0.75), rng.uniform(0.55, 0.8)
    if flat and flat_ok:  # low contrast around a fixed grey
        f = mid + (f - mid) * k
    elif rng.random() < 0.1:
        f *= dim
    if rng.random() < 0.18:
        f = cv2.GaussianBlur(f, (0, 0), rng.uniform(0.4, 1.0) * n / 128)
    if rng.random() < 0.3:
        f += rng.normal(0.0, rng.uniform(3.0, 12.0), f.shape).astype(np.float32)
    out = _u8(f)
    if rng.random() < 0.35:
        return out, "jpg", int(rng.integers(30, 91))
    return out, "png", 95


def _children(ss: np.random.SeedSequence) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    """The two children ``ss.spawn(2)`` gives a fresh ``ss``, without mutating ``ss``."""
    key = tuple(ss.spawn_key)
    return (
        np.random.SeedSequence(ss.entropy, spawn_key=(*key, 0), pool_size=ss.pool_size),
        np.random.SeedSequence(ss.entropy, spawn_key=(*key, 1), pool_size=ss.pool_size),
    )


def render(
    ss: np.random.SeedSequence, sign: int, size: int, style: str | None = None
) -> tuple[np.ndarray, str, int]:
    """Render one (size, size, 3) RGB image; return (image, "png" or "jpg", JPEG quality).

    ``ss`` is the scene seed sequence; its scene and mouth streams are its first two spawned
    children (computed without consuming ``ss``, so the same object can render both twins).
    ``sign`` is +1 (happy) or -1 (sad) and only flips the mouth; ``style`` forces a style.
    """
    if sign not in (1, -1):
        raise ValueError("sign must be +1 (happy) or -1 (sad)")
    if style is not None and style not in _STYLE_FUNCS:
        raise ValueError(f"unknown style {style!r}; choose from {', '.join(STYLES)}")
    scene_ss, mouth_ss = _children(ss)
    rng = np.random.default_rng(scene_ss)
    ms = _sample_mouth(np.random.default_rng(mouth_ss))
    name = style if style is not None else STYLES[int(rng.integers(len(STYLES)))]
    canvas = _STYLE_FUNCS[name](Scene(rng, 2 * size), ms, sign)
    small = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    return _finish(rng, small, flat_ok=name not in ("stone_relief", "led_matrix"))


def _meta(per_class: int, image_size: int, seed: int) -> dict[str, Any]:
    return {
        "generator": GENERATOR,
        "version": VERSION,
        "per_class": per_class,
        "image_size": image_size,
        "seed": seed,
        "classes": list(CLASSES),
    }


def _holds_set(out: Path, meta: dict[str, Any]) -> bool:
    """True if ``out`` already holds exactly this set (marker and file counts)."""
    marker = out / MARKER
    if not out.is_dir() or not marker.is_file():
        return False
    try:
        if json.loads(marker.read_text()) != meta:
            return False
    except (OSError, ValueError):
        return False
    want = {f"{i:05d}" for i in range(meta["per_class"])}
    for name in CLASSES:
        d = out / name
        if not d.is_dir():
            return False
        files = [p for p in d.iterdir() if p.suffix in (".png", ".jpg")]
        if len(files) != meta["per_class"] or {p.stem for p in files} != want:
            return False
    return True


def generate(out: Path, per_class: int, image_size: int, seed: int) -> Path:
    """Write the set to ``out`` atomically (or return ``out`` if it already holds it)."""
    if per_class < 1 or image_size < 32 or seed < 0:
        raise ValueError("need per_class >= 1, image_size >= 32 and seed >= 0")
    out = Path(out)
    meta = _meta(per_class, image_size, seed)
    empty_dir = False
    if out.exists() or out.is_symlink():
        if _holds_set(out, meta):
            return out
        if out.is_dir() and not out.is_symlink() and not any(out.iterdir()):
            empty_dir = True
        else:
            raise FileExistsError(f"{out} exists and does not hold this distant-faces set")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name in CLASSES:
            (tmp / name).mkdir()
        for i in range(per_class):
            for c, name in enumerate(CLASSES):
                img, ext, q = render(
                    np.random.SeedSequence([seed, i]), 1 if c == 0 else -1, image_size
                )
                path = tmp / name / f"{i:05d}.{ext}"
                params = [cv2.IMWRITE_JPEG_QUALITY, int(q)] if ext == "jpg" else []
                if not cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), params):
                    raise OSError(f"could not write {path}")
        (tmp / MARKER).write_text(json.dumps(meta, indent=2) + "\n")
        if empty_dir:
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="output folder")
    ap.add_argument("--per-class", type=int, default=200, help="images per class")
    ap.add_argument("--image-size", type=int, default=128, help="image side in pixels")
    ap.add_argument("--seed", type=int, default=0, help="base seed")
    args = ap.parse_args(argv)
    try:
        path = generate(args.out, args.per_class, args.image_size, args.seed)
    except (FileExistsError, ValueError) as exc:
        print(f"distant_faces: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
