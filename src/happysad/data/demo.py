"""Deterministic synthetic happy/sad face dataset, drawn with OpenCV.

Why: the framework must run end to end (train, evaluate, serve) without downloading a real
dataset, in CI and on a laptop. The faces vary in everything *except* the label signal, which is
the sign of the mouth's curvature (smile: corners above the centre; frown: corners below), so a
small CNN can learn it while colour, position, size, noise and blur are nuisance factors.

Every image has its own sub-seed derived from ``(seed, class, index)``, so the same arguments give
byte-identical files and growing ``per_class`` keeps the first images unchanged. With twins
(``data.demo.twins``), ``happy_i`` and ``sad_i`` share one sub-seed ``(seed, 7, index)``: every
draw is label-independent, so the two differ only where the label is drawn. A few corrupt
files are planted on purpose so the data-cleaning path is exercised by the demo too.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from happysad.config import DemoConf
from happysad.data.progress import Progress

VERSION = 6
"""Bump whenever the drawing changes, so ``ensure_demo_dataset`` never reuses stale images.

2: the ``wide`` variety (domain randomisation) became the default.
3: cues drawn for both classes alike (each kind has a happy and a sad form, a tear is drawn on
either), and the share of subtle mouths is ``data.demo.subtle``.
4: a share ``data.demo.faint`` of wide mouths is drawn close to the skin's tone.
5: ``data.demo.twins`` (off by default: the same images as version 4): each happy face and its
sad namesake share their random draws.
6: a share ``data.demo.dotted`` of wide closed mouths is a row of dots (0, the default: the same
images as versions 4 and 5)."""

MARKER = "DEMO_DATASET.json"
CLASSES: tuple[str, str] = ("happy", "sad")

_SUBTLE_K = (0.04, 0.15)  # sag / half-width of a subtle mouth: correctly signed, barely curved
_FAINT_ALPHA = (0.35, 0.7)  # a faint mouth's colour: this far from the skin towards the ink
_PNG_FRACTION = 0.3  # the rest are JPEG, so both decoders are exercised
_TRUNCATE_FRACTION = 0.4
# The middle entry of a twin pair's sub-seed: neither a class index nor the corrupt files' 2.
_TWIN_STREAM = 7
_SHIFT = 4  # cv2 fixed-point bits: sub-pixel geometry keeps small faces smooth
_ONE = 1 << _SHIFT

_DEFAULT_STYLE: dict[str, Any] = {
    "palette": "default",  # "default" | "alt" (other background/skin colours)
    "scale_range": (0.55, 0.85),  # face height as a fraction of the image side
    "line_width_range": (0.02, 0.045),  # stroke width as a fraction of the image side
    "offset_range": 0.08,  # max face-centre offset from the image centre, fraction of the side
    "noise": 8.0,  # max std of the additive gaussian pixel noise (0-255 scale)
    "rotation_deg": 10.0,  # max absolute in-plane rotation of the face
    # "wide" | "classic" (the version-1 look, kept for the shifted evaluation set) and the
    # share of wide faces with a second cue: data.demo.variety / cues (config.DemoConf)
    "variety": DemoConf.variety,
    "cues": DemoConf.cues,
    "subtle": DemoConf.subtle,
    "faint": DemoConf.faint,
    "twins": DemoConf.twins,  # not a drawing: whether happy_i and sad_i share their draws
    "dotted": DemoConf.dotted,
}
# The default sizes are the config's (config.DemoConf, data.demo.*): written once, so
# `make demo-data`, scripts/make_demo_data.py and `make train` generate the same set.
_DEMO = DemoConf()
_VARIETIES = ("wide", "classic")
_PALETTES = ("default", "alt")

# Colours are RGB; the image is converted to BGR only when encoded.
_SKIN = {
    "default": [
        (255, 224, 196),
        (241, 194, 125),
        (224, 172, 105),
        (198, 134, 66),
        (141, 85, 36),
        (92, 56, 32),
        (250, 215, 80),  # classic smiley yellow
    ],
    "alt": [
        (120, 200, 110),
        (120, 160, 235),
        (185, 130, 215),
        (170, 170, 170),
        (240, 140, 60),
        (240, 150, 180),
    ],
}
_HAIR = {
    "default": [(25, 20, 20), (70, 45, 30), (120, 80, 45), (220, 190, 120), (160, 60, 30)],
    "alt": [(30, 60, 160), (20, 120, 60), (200, 60, 150), (240, 240, 240)],
}
_DARK_INK = [(20, 20, 25), (40, 25, 20), (25, 35, 70), (50, 50, 50)]
_LIGHT_INK = [(240, 240, 240), (250, 235, 220), (225, 225, 235)]
_DARK_MOUTH = [(130, 25, 35), (30, 20, 20), (90, 40, 30), (160, 40, 60), (60, 10, 10)]
_LIGHT_MOUTH = [(245, 205, 205), (250, 250, 250), (235, 130, 130)]


@dataclass(frozen=True)
class _Style:
    palette: str
    scale_range: tuple[float, float]
    line_width_range: tuple[float, float]
    offset_range: float
    noise: float
    rotation_deg: float
    variety: str
    cues: float
    subtle: float
    faint: float
    twins: bool
    dotted: float


def _range(key: str, value: Any, lo: float, hi: float) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"style[{key!r}] must be a (min, max) pair, got {value!r}") from None
    if not (lo <= a <= b <= hi):
        raise ValueError(f"style[{key!r}] must satisfy {lo} <= min <= max <= {hi}, got {value!r}")
    return (a, b)


def _scalar(key: str, value: Any, lo: float, hi: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"style[{key!r}] must be a number, got {value!r}") from None
    if not (lo <= v <= hi):
        raise ValueError(f"style[{key!r}] must be in [{lo}, {hi}], got {value!r}")
    return v


def _resolve_style(style: dict | None) -> _Style:
    """Merge ``style`` over the defaults; unknown keys fail loudly (a typo must not be ignored)."""
    style = dict(style or {})
    unknown = sorted(set(style) - set(_DEFAULT_STYLE))
    if unknown:
        raise ValueError(
            f"unknown style key {unknown[0]!r} (known: {', '.join(sorted(_DEFAULT_STYLE))})"
        )
    s = {**_DEFAULT_STYLE, **style}
    if s["palette"] not in _PALETTES:
        raise ValueError(f"style['palette'] must be one of {_PALETTES}, got {s['palette']!r}")
    if s["variety"] not in _VARIETIES:
        raise ValueError(f"style['variety'] must be one of {_VARIETIES}, got {s['variety']!r}")
    if not isinstance(s["twins"], bool):
        raise ValueError(f"style['twins'] must be true or false, got {s['twins']!r}")
    return _Style(
        palette=str(s["palette"]),
        scale_range=_range("scale_range", s["scale_range"], 0.2, 1.2),
        line_width_range=_range("line_width_range", s["line_width_range"], 0.005, 0.1),
        offset_range=_scalar("offset_range", s["offset_range"], 0.0, 0.3),
        noise=_scalar("noise", s["noise"], 0.0, 80.0),
        rotation_deg=_scalar("rotation_deg", s["rotation_deg"], 0.0, 45.0),
        variety=str(s["variety"]),
        cues=_scalar("cues", s["cues"], 0.0, 1.0),
        subtle=_scalar("subtle", s["subtle"], 0.0, 1.0),
        faint=_scalar("faint", s["faint"], 0.0, 1.0),
        twins=s["twins"],
        dotted=_scalar("dotted", s["dotted"], 0.0, 1.0),
    )


def _style_dict(st: _Style) -> dict[str, Any]:
    d = asdict(st)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def _args_dict(per_class: int, image_size: int, seed: int, n_corrupt: int, st: _Style) -> dict:
    return {
        "per_class": int(per_class),
        "image_size": int(image_size),
        "seed": int(seed),
        "n_corrupt": int(n_corrupt),
        "style": _style_dict(st),
    }


# --------------------------------------------------------------------------- drawing helpers


def _fp(v: float) -> int:
    return round(float(v) * _ONE)


def _pt(p: tuple[float, float]) -> tuple[int, int]:
    return (_fp(p[0]), _fp(p[1]))


def _pts(arr: np.ndarray) -> np.ndarray:
    return np.round(arr * _ONE).astype(np.int32).reshape(-1, 1, 2)


def _col(c: Any) -> tuple[int, int, int]:
    return tuple(min(255, max(0, round(float(x)))) for x in c)  # type: ignore[return-value]


def _lum(c: Any) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _pick(rng: np.random.Generator, items: list, jitter: float = 0.0) -> tuple[int, int, int]:
    base = np.asarray(items[int(rng.integers(len(items)))], dtype=np.float64)
    return _col(base + rng.uniform(-jitter, jitter, 3))


def _bg_colour(rng: np.random.Generator, palette: str) -> np.ndarray:
    if palette == "default":  # light, muted
        return rng.uniform(110, 250, 3)
    c = rng.uniform(10, 90, 3)  # dark and saturated
    c[int(rng.integers(3))] += rng.uniform(60, 140)
    return c


def _background(rng: np.random.Generator, size: int, palette: str) -> np.ndarray:
    c1 = np.clip(_bg_colour(rng, palette), 0, 255).astype(np.float32)
    c2 = np.clip(_bg_colour(rng, palette), 0, 255).astype(np.float32)
    theta = rng.uniform(0, 2 * math.pi)
    if rng.random() < 0.5:
        img = np.empty((size, size, 3), np.uint8)
        img[:] = np.round(c1).astype(np.uint8)
        return img
    ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)
    t = ramp[None, :] * np.float32(math.cos(theta)) + ramp[:, None] * np.float32(math.sin(theta))
    t -= t.min()
    t /= max(float(t.max()), 1e-6)
    img = c1 + (c2 - c1) * t[..., None]
    return np.round(img).astype(np.uint8)


class _Canvas:
    """An image plus the face's pose: draw in face-local coordinates (rotated, centred)."""

    def __init__(self, img: np.ndarray, cx: float, cy: float, angle: float) -> None:
        self.img, self.cx, self.cy, self.angle = img, cx, cy, angle
        self.ca, self.sa = math.cos(math.radians(angle)), math.sin(math.radians(angle))

    def P(self, lx: float, ly: float) -> tuple[float, float]:
        return (self.cx + lx * self.ca - ly * self.sa, self.cy + lx * self.sa + ly * self.ca)

    def PA(self, local: np.ndarray) -> np.ndarray:
        x, y = local[:, 0], local[:, 1]
        ca, sa = self.ca, self.sa
        return np.stack([self.cx + x * ca - y * sa, self.cy + x * sa + y * ca], axis=1)

    def ellipse(self, c: tuple[float, float], ax: float, ay: float, colour, thickness: int) -> None:
        axes = (max(_fp(ax), 1), max(_fp(ay), 1))
        cv2.ellipse(
            self.img, _pt(c), axes, self.angle, 0, 360, colour, thickness, cv2.LINE_AA, _SHIFT
        )

    def line(self, local: np.ndarray, colour, thickness: int, closed: bool = False) -> None:
        pts = [_pts(self.PA(local))]
        cv2.polylines(self.img, pts, closed, colour, thickness, cv2.LINE_AA, _SHIFT)


def _draw_head(
    rng: np.random.Generator, cv: _Canvas, rx: float, ry: float, skin, lw: float, st: _Style
) -> None:
    """Hair cap and ears behind the face, the face, and an outline where contrast is low."""
    s = float(cv.img.shape[0])
    if rng.random() < 0.35:
        hair = _pick(rng, _HAIR[st.palette], jitter=12)
        cv.ellipse(cv.P(0, -ry * rng.uniform(0.12, 0.25)), rx * 1.08, ry * 0.95, hair, -1)
    if rng.random() < 0.3:
        ear_y = -ry * rng.uniform(0.0, 0.15)
        ear = _col(np.asarray(skin) * 0.9)
        for side in (-1, 1):
            cv.ellipse(cv.P(side * rx * 0.97, ear_y), rx * 0.15, ry * 0.2, ear, -1)
    cx, cy = cv.cx, cv.cy
    cv.ellipse((cx, cy), rx, ry, skin, -1)
    bg_at_face = cv.img[int(np.clip(cy, 0, s - 1)), int(np.clip(cx - rx - 2, 0, s - 1))]
    if rng.random() < 0.6 or abs(_lum(skin) - _lum(bg_at_face)) < 35:
        outline = _col(np.asarray(skin) * 0.45)
        cv.ellipse((cx, cy), rx, ry, outline, max(1, round(lw * 0.8)))


def _draw_eyes(
    rng: np.random.Generator, cv: _Canvas, rx: float, ry: float, skin, ink, lw: float
) -> tuple[float, float, float, float]:
    """Eyes (four styles), sometimes eyebrows and glasses; returns (y, height, x, radius)."""
    thick = max(1, round(lw))
    ey = -ry * rng.uniform(0.12, 0.32)
    ex = rx * rng.uniform(0.3, 0.5)
    er = rx * rng.uniform(0.08, 0.17)
    ery = er * rng.uniform(0.8, 1.4)
    eye_style = int(rng.choice(4, p=[0.45, 0.35, 0.12, 0.08]))
    pupil_off = rng.uniform(-0.3, 0.3, 2) * er
    pupil_col = _pick(rng, _DARK_INK, jitter=10)
    for side in (-1, 1):
        c = cv.P(side * ex, ey)
        if eye_style == 0:  # solid dots
            cv.ellipse(c, er * 0.8, ery * 0.8, ink, -1)
        elif eye_style == 1:  # white with a pupil
            cv.ellipse(c, er, ery, (250, 250, 250), -1)
            cv.ellipse(c, er, ery, _col(np.asarray(skin) * 0.4), max(1, round(lw * 0.5)))
            pc = cv.P(side * ex + pupil_off[0], ey + pupil_off[1])
            cv.ellipse(pc, er * 0.45, er * 0.45, pupil_col, -1)
        elif eye_style == 2:  # rings
            cv.ellipse(c, er, ery, ink, max(1, round(lw * 0.7)))
        else:  # dashes
            cv.line(np.array([[side * ex - er, ey], [side * ex + er, ey]]), ink, thick)

    # Eyebrows: tilt is random and label-independent (so it is noise, not a shortcut).
    if rng.random() < 0.45:
        by = ey - ery - rx * rng.uniform(0.08, 0.18)
        half = er * rng.uniform(0.8, 1.3)
        tilt = math.radians(rng.uniform(-12, 12))
        for side in (-1, 1):
            dx, dy = half * math.cos(tilt), half * math.sin(tilt) * side
            cv.line(np.array([[side * ex - dx, by - dy], [side * ex + dx, by + dy]]), ink, thick)

    if eye_style != 3 and rng.random() < 0.1:  # glasses
        gr = max(er, ery) * 1.6
        gt = max(1, round(lw * 0.7))
        for side in (-1, 1):
            cv.ellipse(cv.P(side * ex, ey), gr, gr, ink, gt)
        cv.line(np.array([[-ex + gr, ey], [ex - gr, ey]]), ink, gt)
    return ey, ery, ex, er


def _degrade(rng: np.random.Generator, img: np.ndarray, st: _Style) -> np.ndarray:
    """Camera-ish degradations: occasional blur, then noise and a small gain/offset."""
    s = float(img.shape[0])
    blur = rng.random() < 0.2
    sigma = rng.uniform(0.4, 1.2) * s / 128
    noise_std = rng.uniform(0.0, st.noise)
    gain, bias = rng.uniform(0.9, 1.1), rng.uniform(-12, 12)
    if blur:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    out = img.astype(np.float32) * np.float32(gain) + np.float32(bias)
    if noise_std > 0:
        out += rng.standard_normal(out.shape, dtype=np.float32) * np.float32(noise_std)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _render_face(
    rng: np.random.Generator, happy: bool, size: int, st: _Style
) -> tuple[np.ndarray, dict[str, Any]]:
    """Draw one RGB face. All random draws are label-independent; the label only flips the sign
    of the mouth curvature, so nothing else can leak the class (in the wide variety, cues
    on some faces add a second sign for either class; ``style['cues']=0`` turns them off)."""
    if st.variety == "wide":
        return _render_wide(rng, happy, size, st)
    s = float(size)
    img = _background(rng, size, st.palette)

    # Face geometry; local coordinates are relative to the face centre before rotation.
    ry = rng.uniform(*st.scale_range) * s / 2
    rx = ry * rng.uniform(0.72, 0.95)
    cx = s / 2 + rng.uniform(-1, 1) * st.offset_range * s
    cy = s / 2 + rng.uniform(-1, 1) * st.offset_range * s
    cv = _Canvas(img, cx, cy, rng.uniform(-st.rotation_deg, st.rotation_deg))
    lw = max(1.0, rng.uniform(*st.line_width_range) * s)

    skin = _pick(rng, _SKIN[st.palette], jitter=15)
    dark_face = _lum(skin) < 110
    ink = _pick(rng, _LIGHT_INK if dark_face else _DARK_INK, jitter=10)
    mouth_col = _pick(rng, _LIGHT_MOUTH if dark_face else _DARK_MOUTH, jitter=10)
    _draw_head(rng, cv, rx, ry, skin, lw, st)
    ey, _, _, _ = _draw_eyes(rng, cv, rx, ry, skin, ink, lw)

    # Mouth geometry is sampled before the nose so the nose can stay clear of it.
    hw = rx * rng.uniform(0.38, 0.62)
    my = ry * rng.uniform(0.38, 0.55)
    hard = bool(rng.random() < st.subtle)
    open_mouth = bool(rng.random() < 0.25) and not hard
    k = rng.uniform(*_SUBTLE_K) if hard else rng.uniform(0.3, 0.7)  # sag / half-width
    if open_mouth:
        k = max(k, 0.45)
    mouth_thick = max(1, round(lw * rng.uniform(1.0, 1.6)))

    nose_style = int(rng.choice(4, p=[0.5, 0.2, 0.15, 0.15]))  # 0 = none
    mouth_top = my - k * hw / 2 - mouth_thick
    ny = ey + 0.55 * (mouth_top - ey)
    nl = 0.3 * (mouth_top - ey)
    if nose_style == 1:  # short vertical line
        cv.line(np.array([[0, ny - nl / 2], [0, ny + nl / 2]]), ink, max(1, round(lw * 0.7)))
    elif nose_style == 2:  # dot
        cv.ellipse(cv.P(0, ny), nl * 0.3, nl * 0.25, _col(np.asarray(skin) * 0.6), -1)
    elif nose_style == 3:  # "L"
        nose = np.array([[0, ny - nl / 2], [-nl * 0.2, ny + nl / 2], [nl * 0.2, ny + nl / 2]])
        cv.line(nose, ink, max(1, round(lw * 0.7)))

    # The label: a parabola whose centre sags below the corners (smile) or rises above (frown).
    sag = (1.0 if happy else -1.0) * k * hw
    xs = np.linspace(-hw, hw, 25)
    ys = my + sag * (1 - (xs / hw) ** 2) - sag / 2  # centred on my whatever the sign
    curve = cv.PA(np.stack([xs, ys], axis=1))
    aa = cv2.LINE_AA
    if open_mouth:
        cv2.fillPoly(img, [_pts(curve)], mouth_col, aa, _SHIFT)  # closed by the chord
        cv2.polylines(img, [_pts(curve)], True, mouth_col, max(1, mouth_thick // 2), aa, _SHIFT)
    else:
        cv2.polylines(img, [_pts(curve)], False, mouth_col, mouth_thick, aa, _SHIFT)

    meta = {
        "hard": hard,
        "curvature": float(sag / hw),  # > 0 smile, < 0 frown (image y points down)
        "mouth": curve,  # (25, 2) pixel coordinates of the mouth curve
        "faint": False,  # the classic variety draws no faint mouths
    }
    return _degrade(rng, img, st), meta


# --------------------------------------------------------------------------- the wide variety
# Domain randomisation: a model trained on one drawing routine learns that routine (test
# accuracy 0.99, 0.72 on faces drawn by other code). Drawing every nuisance from a broader
# family than any one generator uses makes "the mouth's curve" the only thing that holds
# across the whole training set.


def _clutter(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Soft blobs and strokes behind the face: backgrounds elsewhere are rarely plain."""
    s = img.shape[0]
    layer = img.copy()
    for _ in range(int(rng.integers(2, 8))):
        colour = _col(rng.uniform(0, 255, 3))
        c = (_fp(rng.uniform(0, s)), _fp(rng.uniform(0, s)))
        if rng.random() < 0.7:
            axes = (
                max(_fp(rng.uniform(0.05, 0.35) * s), 1),
                max(_fp(rng.uniform(0.05, 0.35) * s), 1),
            )
            cv2.ellipse(
                layer, c, axes, rng.uniform(0, 180), 0, 360, colour, -1, cv2.LINE_AA, _SHIFT
            )
        else:
            end = (_fp(rng.uniform(0, s)), _fp(rng.uniform(0, s)))
            width = max(1, round(rng.uniform(0.005, 0.03) * s))
            cv2.line(layer, c, end, colour, width, cv2.LINE_AA, _SHIFT)
    blur = rng.uniform(0.0, 0.04) * s
    if blur > 0.5:
        layer = cv2.GaussianBlur(layer, (0, 0), blur)
    alpha = rng.uniform(0.3, 1.0)
    return cv2.addWeighted(layer, alpha, img, 1.0 - alpha, 0.0)


def _value_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    grid = rng.random((cells + 1, cells + 1)).astype(np.float32)
    return cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)


def _head_outline(rng: np.random.Generator, rx: float, ry: float) -> np.ndarray | None:
    """Face-local points of a superellipse (round to squarish), or None for an ellipse."""
    if rng.random() < 0.6:
        return None
    p = rng.uniform(2.5, 5.0)
    t = np.linspace(0, 2 * math.pi, 72, endpoint=False)
    c, si = np.cos(t), np.sin(t)
    x = rx * np.sign(c) * np.abs(c) ** (2 / p)
    y = ry * np.sign(si) * np.abs(si) ** (2 / p)
    return np.stack([x, y], axis=1)


def _wide_head(
    rng: np.random.Generator, cv: _Canvas, rx: float, ry: float, skin, ink, lw: float, line: bool
) -> None:
    """The head: filled (maybe shaded and textured) or, for line drawings, only its outline."""
    s = cv.img.shape[0]
    outline = _head_outline(rng, rx, ry)
    shade_dir, shade_amt = rng.uniform(0, 2 * math.pi), rng.uniform(0.0, 0.35)
    texture_amt = rng.uniform(0.0, 0.3) if rng.random() < 0.4 else 0.0
    rim = _col(np.asarray(skin) * rng.uniform(0.3, 0.7))
    rim_w = max(1, round(lw * rng.uniform(0.5, 1.2)))
    if not line and rng.random() < 0.3:  # hair cap behind the face
        hair = _pick(rng, _HAIR["default"] + _HAIR["alt"], jitter=12)
        cv.ellipse(cv.P(0, -ry * rng.uniform(0.12, 0.25)), rx * 1.08, ry * 0.95, hair, -1)
    mask = np.zeros((s, s), np.uint8)
    if outline is None:
        axes = (max(_fp(rx), 1), max(_fp(ry), 1))
        cv2.ellipse(mask, _pt((cv.cx, cv.cy)), axes, cv.angle, 0, 360, 255, -1, cv2.LINE_AA, _SHIFT)
    else:
        cv2.fillPoly(mask, [_pts(cv.PA(outline))], 255, cv2.LINE_AA, _SHIFT)
    if not line:
        yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
        ramp = ((xx - cv.cx) * math.cos(shade_dir) + (yy - cv.cy) * math.sin(shade_dir)) / max(
            rx, 1
        )
        gain = 1.0 + shade_amt * ramp
        if texture_amt:
            gain += (_value_noise(rng, s, 10) - 0.5) * texture_amt
        face = np.asarray(skin, np.float32) * gain[..., None]
        a = mask.astype(np.float32)[..., None] / 255.0
        cv.img[:] = np.clip(cv.img * (1 - a) + face * a, 0, 255).astype(np.uint8)
    if line or rng.random() < 0.6:
        colour = ink if line else rim
        if outline is None:
            cv.ellipse((cv.cx, cv.cy), rx, ry, colour, rim_w)
        else:
            cv.line(outline, colour, rim_w, closed=True)


def _wide_mouth(
    rng: np.random.Generator,
    cv: _Canvas,
    happy: bool,
    rx: float,
    ry: float,
    colour,
    lw: float,
    subtle: float,
    faint_colour: tuple[int, int, int] | None,
    dotted: float = 0.0,
) -> tuple[np.ndarray, float, bool, bool]:
    """A smile or frown of any width, depth, thickness and profile: (curve, sag/hw, hard,
    faint). A share ``subtle`` of mouths is barely curved: what separates a slight smile from
    a slight frown is the model's hardest lesson, and both classes get the same share of it.
    ``faint_colour`` (when given) replaces ``colour`` unless the mouth is barely curved: a
    mouth both faint and flat is one a person could not call either. A share ``dotted`` of
    closed mouths is a row of 5-9 dots along the same curve."""
    hw = rx * rng.uniform(0.25, 0.6)
    my = ry * rng.uniform(0.3, 0.6)
    hard = bool(rng.random() < subtle)
    k = rng.uniform(*_SUBTLE_K) if hard else rng.uniform(0.15, 0.7)
    q = rng.uniform(1.6, 3.0)  # 2: a parabola; higher: a flatter bottom, like a "U"
    thick = max(1, round(lw * rng.uniform(0.5, 1.6)))
    open_mouth = bool(rng.random() < 0.25) and not hard
    teeth = rng.random() < 0.5
    if open_mouth:
        k = max(k, 0.45)
    faint = faint_colour is not None and not hard
    if faint:
        colour = faint_colour
    sag = (1.0 if happy else -1.0) * k * hw
    xs = np.linspace(-hw, hw, 25)
    ys = my + sag * (1 - np.abs(xs / hw) ** q) - sag / 2
    curve = cv.PA(np.stack([xs, ys], axis=1))
    aa = cv2.LINE_AA
    if open_mouth:
        cv2.fillPoly(cv.img, [_pts(curve)], colour, aa, _SHIFT)
        if teeth:  # a white band along the chord
            band = np.stack([xs * 0.8, np.full_like(xs, my - sag / 2)], axis=1)
            cv.line(band, (250, 250, 250), max(1, round(abs(sag) * 0.35)))
        cv2.polylines(cv.img, [_pts(curve)], True, colour, max(1, thick // 2), aa, _SHIFT)
    elif dotted and rng.random() < dotted:  # no draw at 0: version 5's images stay the same
        # separate dots (coal, LEDs, beads) that never touch: evenly spaced in x, so the gap
        # between two is at least about a quarter of a dot's width
        n = int(rng.integers(5, 10))
        length = float(np.linalg.norm(np.diff(curve, axis=0), axis=1).sum())
        radius = max(0.8, length / (n - 1) * rng.uniform(0.15, 0.3))
        at = np.linspace(0, len(curve) - 1, n)
        for x, y in zip(
            np.interp(at, np.arange(len(curve)), curve[:, 0]),
            np.interp(at, np.arange(len(curve)), curve[:, 1]),
            strict=True,
        ):
            cv.ellipse((float(x), float(y)), radius, radius, colour, -1)
    else:
        cv2.polylines(cv.img, [_pts(curve)], False, colour, thick, aa, _SHIFT)
    return curve, float(sag / hw), hard, faint


def _wide_cues(
    rng: np.random.Generator, cv: _Canvas, happy: bool, geo: dict, ink, lw: float, share: float
) -> None:
    """A second cue on a share of faces, drawn for both classes alike so that no cue is a
    shortcut to one class (version 2 drew brows and tears on sad faces only, and a model
    trained on it called cue-less sad faces happy). Each kind has a happy and a sad form:
    closed eyes (arcs bulging up when happy, down when sad), brows (arched and raised when
    happy, raised at their inner ends when sad); a tear (of joy or of grief) is the same on
    either. Every random number is drawn whatever the label."""
    roll, kind, tilt = rng.random(), rng.integers(3), rng.uniform(14, 28)
    side_t = 1 if rng.random() < 0.5 else -1
    if roll >= share:
        return
    ex, ey, er, rx = geo["ex"], geo["ey"], geo["er"], geo["rx"]
    thick = max(1, round(lw))
    if kind == 0:  # closed eyes: happy arcs bulge upwards, sad ones hang down
        bulge = -0.6 if happy else 0.45
        for side in (-1, 1):
            cv.ellipse(cv.P(side * ex, ey), er * 1.4, er * 1.4, geo["skin"], -1)
            xs = np.linspace(-er * 1.1, er * 1.1, 12)
            arc = np.stack([side * ex + xs, ey + er * bulge * (1 - (xs / (er * 1.1)) ** 2)], 1)
            cv.line(arc, ink, thick)
    elif kind == 1:  # brows
        by = ey - er * 1.3 - rx * 0.12
        half = er * 1.2
        for side in (-1, 1):
            if happy:  # arched and raised
                xs = np.linspace(-half, half, 10)
                arc = np.stack([side * ex + xs, by - er * 0.3 - er * 0.4 * (1 - (xs / half) ** 2)])
                cv.line(arc.T, ink, thick)
            else:  # the worried brow: inner ends raised
                t = math.radians(tilt)
                dx, dy = half * math.cos(t), half * math.sin(t) * side
                brow = np.array([[side * ex - dx, by - dy], [side * ex + dx, by + dy]])
                cv.line(brow, ink, thick)
    else:  # a tear under one eye, whichever the label
        c = cv.P(side_t * ex, ey + er * 2.2)
        cv.ellipse(c, er * 0.45, er * 0.75, (90, 160, 255), -1)


def _render_wide(
    rng: np.random.Generator, happy: bool, size: int, st: _Style
) -> tuple[np.ndarray, dict[str, Any]]:
    """One face of the wide variety; label-independent draws, as in the classic one."""
    s = float(size)
    palette = "alt" if rng.random() < 0.4 else "default"
    line = bool(rng.random() < 0.2)  # a line drawing on paper
    if line:
        img = np.full((size, size, 3), round(rng.uniform(200, 255)), np.uint8)
    else:
        img = _background(rng, size, palette)
        if rng.random() < 0.5:
            img = _clutter(rng, img)
    lo, hi = st.scale_range
    ry = rng.uniform(max(0.2, lo - 0.2), min(1.2, hi + 0.05)) * s / 2
    rx = ry * rng.uniform(0.72, 1.05)
    off = min(0.3, st.offset_range + 0.07)
    cx, cy = s / 2 + rng.uniform(-1, 1) * off * s, s / 2 + rng.uniform(-1, 1) * off * s
    rot = min(45.0, st.rotation_deg + 10.0)
    cv = _Canvas(img, cx, cy, rng.uniform(-rot, rot))
    lo_w, hi_w = st.line_width_range
    lw = max(1.0, rng.uniform(max(0.005, lo_w * 0.5), hi_w) * s)
    skin = _pick(rng, _SKIN[palette], jitter=20)
    if line:
        skin = _col(img[0, 0])
    dark_face = _lum(skin) < 110
    ink = _pick(rng, _LIGHT_INK if dark_face else _DARK_INK, jitter=10)
    mouth_col = (
        ink
        if line or rng.random() < 0.3
        else _pick(rng, _LIGHT_MOUTH if dark_face else _DARK_MOUTH, jitter=10)
    )
    # Faint: the mouth's colour pulled towards the skin (low contrast), either class. Faces
    # drawn elsewhere often have dark mouths on dark skin or pale ones on pale skin; a model
    # that never saw one reads the missing frown as a smile (version 3: sad recall 0.87 on
    # scripts/alt_faces.py, happy 0.98; docs/generalisation.md).
    faint, alpha = rng.random() < st.faint, rng.uniform(*_FAINT_ALPHA)
    skin_a = np.asarray(skin, np.float64)
    faint_colour = _col(skin_a + alpha * (np.asarray(mouth_col, np.float64) - skin_a))
    _wide_head(rng, cv, rx, ry, skin, ink, lw, line)
    eye_rng = np.random.default_rng(rng.integers(1 << 32))  # eyes: as many draws as they like
    ey, ery, ex, er = _draw_eyes(eye_rng, cv, rx, ry, skin, ink, lw)
    geo = {"ex": ex, "ey": ey, "er": max(er, ery), "rx": rx, "skin": skin}
    _wide_cues(rng, cv, happy, geo, ink, lw, st.cues)
    curve, curvature, hard, faint = _wide_mouth(
        rng, cv, happy, rx, ry, mouth_col, lw, st.subtle, faint_colour if faint else None, st.dotted
    )
    out = _degrade(rng, cv.img, st)
    if rng.random() < 0.15:  # grey
        out = np.repeat(cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    if rng.random() < 0.15:  # low resolution, scaled back up
        small = max(8, round(size * rng.uniform(0.25, 0.5)))
        out = cv2.resize(
            cv2.resize(out, (small, small), interpolation=cv2.INTER_AREA), (size, size)
        )
    return out, {"hard": hard, "curvature": curvature, "mouth": curve, "faint": faint}


def _encode(rng: np.random.Generator, rgb: np.ndarray, ext: str) -> bytes:
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if ext == ".png":
        params = [cv2.IMWRITE_PNG_COMPRESSION, 3]
    else:
        params = [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(75, 96))]
    ok, buf = cv2.imencode(ext, bgr, params)
    if not ok:  # pragma: no cover - cv2 only fails here on a broken build
        raise RuntimeError(f"cv2 could not encode {ext}")
    return buf.tobytes()


def _corrupt_files(seed: int, n: int, size: int, st: _Style) -> list[tuple[str, bytes]]:
    """The bad files a real scraped dataset tends to have, cycling through four kinds."""
    files: list[tuple[str, bytes]] = []
    for i in range(n):
        cls, cycle, kind = CLASSES[i % 2], i // 4, i % 4
        if kind == 0:
            files.append((f"{cls}/{cls}_empty_{cycle:02d}.jpg", b""))
        elif kind == 1:
            files.append((f"{cls}/{cls}_text_{cycle:02d}.png", b"this is not an image\n"))
        elif kind == 2:
            rng = np.random.default_rng([seed, 2, cycle])
            face, _ = _render_face(rng, bool(cycle % 2 == 0), size, st)
            data = _encode(rng, face, ".jpg")
            name = f"{cls}/{cls}_truncated_{cycle:02d}.jpg"
            files.append((name, data[: int(len(data) * _TRUNCATE_FRACTION)]))
        else:
            name = "notes.txt" if cycle == 0 else f"notes_{cycle:02d}.txt"
            text = b"Demo dataset notes: not an image; the cleaning step should skip this file.\n"
            files.append((f"{cls}/{name}", text))
    return files


def _write_dataset(target: Path, args: dict, st: _Style) -> dict[str, Any]:
    per_class, size, seed = args["per_class"], args["image_size"], args["seed"]
    counts = {"happy": 0, "sad": 0, "jpg": 0, "png": 0, "corrupt": 0}
    hard_files: list[str] = []
    with Progress(per_class * len(CLASSES), "demo faces") as bar:
        for ci, cls in enumerate(CLASSES):
            (target / cls).mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                # per-image sub-seed; twins share theirs, so they differ only in the label
                rng = np.random.default_rng([seed, _TWIN_STREAM, i] if st.twins else [seed, ci, i])
                ext = ".png" if rng.random() < _PNG_FRACTION else ".jpg"
                face, meta = _render_face(rng, cls == "happy", size, st)
                rel = f"{cls}/{cls}_{i:05d}{ext}"
                (target / rel).write_bytes(_encode(rng, face, ext))
                counts[cls] += 1
                counts[ext[1:]] += 1
                if meta["hard"]:
                    hard_files.append(rel)
                bar.update()
    corrupt = _corrupt_files(seed, args["n_corrupt"], size, st)
    for rel, data in corrupt:
        (target / rel).write_bytes(data)
    counts["corrupt"] = len(corrupt)
    info = {
        "version": VERSION,
        "args": args,
        "classes": list(CLASSES),
        "counts": counts,
        "corrupt_files": [rel for rel, _ in corrupt],
        "hard_files": hard_files,
    }
    text = json.dumps(info, indent=2, sort_keys=True) + "\n"
    (target / MARKER).write_text(text, encoding="utf-8")
    return json.loads(text)


def _check_args(per_class: int, image_size: int, n_corrupt: int) -> None:
    if int(per_class) < 1:
        raise ValueError(f"per_class must be >= 1, got {per_class}")
    if not 32 <= int(image_size) <= 2048:
        raise ValueError(f"image_size must be in [32, 2048], got {image_size}")
    if int(n_corrupt) < 0:
        raise ValueError(f"n_corrupt must be >= 0, got {n_corrupt}")


def _is_nonempty_dir(p: Path) -> bool:
    return p.is_dir() and any(p.iterdir())


def generate_demo_dataset(
    out_dir: str | Path,
    per_class: int = _DEMO.per_class,
    image_size: int = _DEMO.image_size,
    seed: int = _DEMO.seed,
    n_corrupt: int = _DEMO.n_corrupt,
    style: dict | None = None,
) -> dict:
    """Write the dataset to ``out_dir`` and return its marker dict.

    Files are generated in a temporary sibling and moved into place with one ``os.replace``, so
    an interrupted run never leaves a half dataset behind. Refuses (FileExistsError) to touch an
    existing non-empty ``out_dir``: it may hold user files.
    """
    _check_args(per_class, image_size, n_corrupt)
    st = _resolve_style(style)
    args = _args_dict(per_class, image_size, seed, n_corrupt, st)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a directory")
    if _is_nonempty_dir(out):
        raise FileExistsError(f"{out} already exists and is not empty")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    try:
        info = _write_dataset(tmp, args, st)
        if out.is_dir() and not any(out.iterdir()):
            with contextlib.suppress(OSError):  # racing creator; replace below decides
                out.rmdir()
        try:
            os.replace(tmp, out)
        except OSError:
            if out.exists():
                raise FileExistsError(f"{out} appeared while generating") from None
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return info


def _read_marker(path: Path) -> dict | None:
    try:
        return json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _as_current(have: dict) -> dict:
    """A version-4 or -5 set's (version, args) as version 6 would write them: version 6
    without twins and dots draws byte-identical images, so a run started before an upgrade
    still resumes on its data."""
    style = (have.get("args") or {}).get("style")
    if not isinstance(style, dict):
        return have
    if have.get("version") == 4 and "twins" not in style:
        have, style = {**have, "version": 5}, {**style, "twins": False}
    if have.get("version") == 5 and "dotted" not in style:
        have, style = {**have, "version": 6}, {**style, "dotted": 0.0}
    return {**have, "args": {**have["args"], "style": style}}


def ensure_demo_dataset(
    out_dir: str | Path,
    per_class: int = _DEMO.per_class,
    image_size: int = _DEMO.image_size,
    seed: int = _DEMO.seed,
    n_corrupt: int = _DEMO.n_corrupt,
    *,
    style: dict | None = None,
) -> Path:
    """Return ``out_dir`` holding the demo dataset for these args, generating it only if missing.

    Reuses a matching dataset (cheap: reads one JSON file), so every training run can call this.
    Never deletes anything: a folder with other args or other content is an error to resolve by
    hand. Safe under concurrent callers, because generation ends with one atomic rename.
    """
    _check_args(per_class, image_size, n_corrupt)
    out = Path(out_dir)
    st = _resolve_style(style)
    want = {"version": VERSION, "args": _args_dict(per_class, image_size, seed, n_corrupt, st)}
    want = json.loads(json.dumps(want))

    def check_existing() -> bool:
        if not out.exists() or (out.is_dir() and not any(out.iterdir())):
            return False
        info = _read_marker(out)
        have = None if info is None else {"version": info.get("version"), "args": info.get("args")}
        if have is None or _as_current(have) != want:
            what = "other demo-dataset args" if info is not None else "files that are not this demo"
            raise ValueError(
                f"{out} already exists with {what}; delete it or choose another data.root"
            )
        return True

    if check_existing():
        return out
    try:
        generate_demo_dataset(out, per_class, image_size, seed, n_corrupt, style)
    except FileExistsError:
        if not check_existing():  # pragma: no cover - only if it vanished again meanwhile
            raise
    return out


__all__ = ["CLASSES", "MARKER", "VERSION", "ensure_demo_dataset", "generate_demo_dataset"]
