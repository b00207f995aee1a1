"""The one image preprocessing function shared by scan, training, evaluation, predict and serving.

Images are decoded with OpenCV from bytes (so a file is read once and hashed from the same
bytes), converted to 8-bit RGB (or grayscale) whatever their depth or channel count, and
resized to the model's input size. Pixels stay uint8 in [0, 255]: the model's first layer
scales them, so no caller can forget or duplicate the scaling. With `face_crop` the largest
face (see `data/faces.py`) is cropped, with a margin, before resizing; an image without a
detectable face is used whole.
"""

from __future__ import annotations

import functools
import os
import stat
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

if TYPE_CHECKING:
    from happysad.data.faces import FaceBox

INTERPOLATIONS = {
    "area": cv2.INTER_AREA,
    "bilinear": cv2.INTER_LINEAR,
    "nearest": cv2.INTER_NEAREST,
    "cubic": cv2.INTER_CUBIC,
    "lanczos": cv2.INTER_LANCZOS4,
}


class ImageDecodeError(ValueError):
    """The bytes are not an image OpenCV can decode; the message says why in a few words."""


DEFAULT_MAX_FILE_BYTES = 100 * 2**20  # data.max_file_mb's default
_KINDS = {
    stat.S_IFIFO: "named pipe",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFSOCK: "socket",
    stat.S_IFDIR: "folder",
}


class NotReadable(ImageDecodeError):
    """A file the scan must not read: not a regular file, or over the size cap."""


def file_kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "special file")


def too_large(size: int, max_bytes: int) -> str:
    return f"too large ({size / 2**20:.1f} MB > data.max_file_mb={max_bytes / 2**20:g})"


def read_regular_file(path: str | os.PathLike, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most max_bytes; NotReadable for anything else.

    Opened non-blocking and checked on the open descriptor (not by name), so a named pipe
    cannot hang the reader and a link to /dev/zero cannot be read until memory runs out,
    even if the entry is swapped between a scan's stat and this read.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotReadable(f"not a regular file ({file_kind(st.st_mode)})")
        if st.st_size > max_bytes:
            raise NotReadable(too_large(st.st_size, max_bytes))
        # Ask for the size fstat gave plus one byte (not max_bytes: CPython allocates what is
        # asked, 100 MB per small file); more keeps coming only if the file grew meanwhile.
        parts = []
        total, want = 0, st.st_size + 1
        while total <= max_bytes:
            part = os.read(fd, min(want, max_bytes + 1 - total))
            if not part:
                break
            parts.append(part)
            total += len(part)
            want = 1 << 20
    finally:
        os.close(fd)
    if total > max_bytes:  # grew while being read
        raise NotReadable(too_large(total, max_bytes))
    return parts[0] if len(parts) == 1 else b"".join(parts)


@dataclass(frozen=True)
class Preprocessing:
    """Everything needed to turn image bytes into a model input; saved with every model."""

    image_size: tuple[int, int] = (64, 64)  # (height, width)
    channels: int = 3
    interpolation: str = "area"
    keep_aspect: bool = False
    face_crop: bool = False  # crop the largest face (+ margin) before resizing; whole if none
    face_margin: float = 0.25  # added on every side, as a fraction of the face box's size

    def to_dict(self) -> dict:
        return {
            "image_size": list(self.image_size),
            "channels": self.channels,
            "interpolation": self.interpolation,
            "keep_aspect": self.keep_aspect,
            "face_crop": self.face_crop,
            "face_margin": self.face_margin,
        }

    @classmethod
    def from_data_config(cls, d: Any) -> Preprocessing:
        """From the `data` config group: the one place config keys map to preprocessing."""
        return cls(
            image_size=(int(d.image_size[0]), int(d.image_size[1])),
            channels=int(d.channels),
            interpolation=str(d.interpolation),
            keep_aspect=bool(d.keep_aspect),
            face_crop=bool(d.face_crop),
            face_margin=float(d.face_margin),
        )

    @classmethod
    def from_dict(cls, d: dict) -> Preprocessing:
        return cls(
            image_size=(int(d["image_size"][0]), int(d["image_size"][1])),
            channels=int(d.get("channels", 3)),
            interpolation=str(d.get("interpolation", "area")),
            keep_aspect=bool(d.get("keep_aspect", False)),
            face_crop=bool(d.get("face_crop", False)),  # models saved before face_crop: off
            face_margin=float(d.get("face_margin", 0.25)),
        )


DEFAULT_MAX_IMAGE_PIXELS = 2**27  # happysad/__init__.py sets it as OPENCV_IO_MAX_IMAGE_PIXELS
# Bumped whenever the same bytes and settings can give different model inputs (cache keys).
PIXELS_VERSION = 2  # 2: large JPEGs decoded at reduced size
_JPEG_REDUCED = {
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def max_image_pixels() -> int:
    """happysad's pixel cap, read on every call from OPENCV_IO_MAX_IMAGE_PIXELS.

    OpenCV reads that variable once, when cv2 is first imported; if something imported cv2
    before happysad set it, OpenCV's own cap is its default (2^30). This one holds either way.
    """
    raw = os.environ.get("OPENCV_IO_MAX_IMAGE_PIXELS", str(DEFAULT_MAX_IMAGE_PIXELS))
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        from happysad.errors import ConfigError

        raise ConfigError(f"OPENCV_IO_MAX_IMAGE_PIXELS={raw!r}: must be a positive integer")
    return value


@functools.cache
def _quiet_pillow() -> None:
    """Once: happysad enforces its own cap, so Pillow's warning past 89M pixels is noise."""
    import warnings

    from PIL import Image

    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the image header, without decoding pixels; None if unknown.

    PNG and JPEG headers are parsed here (a few struct reads: Pillow's lazy Image.open cost
    more than decoding a small image); other formats, and JPEGs whose markers do not parse,
    go to Pillow, which reads only the header too. Raises ImageDecodeError when the header
    claims more pixels than max_image_pixels().
    """
    cap = max_image_pixels()
    size = _png_size(data) or _jpeg_size(data)
    if size is not None:
        w, h = size
        if w * h > cap:
            raise ImageDecodeError(_too_large(f"{w}x{h} = {w * h}", cap))
        _check_decoded_bytes(w, h, *(_png_layout(data) or (3, 1)), cap)  # JPEG: 8-bit, <= 3
        if data[:2] == b"\xff\xd8":
            _check_jpeg_scans(data)
        return size
    import io

    from PIL import Image

    _quiet_pillow()
    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = int(im.size[0]), int(im.size[1])
            layout = len(im.getbands()), _PIL_SAMPLE_BYTES.get(im.mode, 1)
            tile = _tiff_tile(im)
    except Image.DecompressionBombError as err:  # over 2 x Image.MAX_IMAGE_PIXELS
        import re

        claimed = re.search(r"\((\d+) pixels\)", str(err))
        floor = 2 * int(Image.MAX_IMAGE_PIXELS or 0)
        if claimed and int(claimed[1]) > cap:
            raise ImageDecodeError(_too_large(claimed[1], cap)) from None
        if not claimed and floor >= cap:
            raise ImageDecodeError(_too_large(f"more than {floor}", cap)) from None
        return None  # the cap was raised past Pillow's: OpenCV's own check decides
    except Exception:  # a format Pillow does not know: OpenCV's own checks still apply
        return None
    if w * h > cap:
        raise ImageDecodeError(_too_large(f"{w}x{h} = {w * h}", cap))
    _check_decoded_bytes(w, h, *layout, cap)
    if tile is not None and tile[0] * tile[1] > max(w * h, MAX_TILE_PIXELS):
        raise ImageDecodeError(
            f"TIFF tiles of {tile[0]}x{tile[1]} pixels for a {w}x{h} image (each tile is "
            f"decoded whole: {tile[0] * tile[1] * 4 / 2**20:.0f} MB); refused without decoding"
        )
    return w, h


# OpenCV decodes a tiled TIFF one whole tile at a time (RGBA, 4 bytes a pixel) whatever the
# image size: a 0.42 MB TIFF of 16x16 pixels with huge tiles took 601 MB. Tiles up to the
# image's own size, or this many pixels (4 MB), are what writers use.
MAX_TILE_PIXELS = 2**20


def _tiff_tile(im: Any) -> tuple[int, int] | None:
    """(tile width, tile height) of a tiled TIFF, from its tags (Pillow reads only the
    header); None for other images."""
    tags = getattr(im, "tag_v2", None)
    if im.format != "TIFF" or tags is None or 322 not in tags or 323 not in tags:
        return None
    return int(tags[322]), int(tags[323])


# Bytes per sample of Pillow modes wider than 8 bits (the others: 1).
_PIL_SAMPLE_BYTES = {"I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2, "I": 4, "F": 4}
# Channels OpenCV decodes a PNG to (IMREAD_UNCHANGED), by IHDR colour type: grey, RGB,
# palette (RGB, or RGBA with transparency), grey+alpha (expanded to 4), RGBA.
_PNG_CHANNELS = {0: 1, 2: 3, 3: 4, 4: 4, 6: 4}


def _png_layout(data: bytes) -> tuple[int, int] | None:
    """(channels, bytes per sample) a PNG decodes to, from its IHDR; None if not a PNG."""
    if len(data) < 26 or data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR":
        return None
    depth, colour = data[24], data[25]
    return _PNG_CHANNELS.get(colour, 4), 2 if depth == 16 else 1


def _check_decoded_bytes(w: int, h: int, channels: int, sample_bytes: int, cap: int) -> None:
    """Refuse an image whose decoded pixels would take more bytes than an 8-bit RGB image at
    the pixel cap (3 x OPENCV_IO_MAX_IMAGE_PIXELS): a 0.94 MB 16-bit RGBA PNG of 11000x11000
    passed the pixel cap and took 6.5 GB to decode and convert."""
    decoded = w * h * channels * sample_bytes
    if decoded > 3 * cap:
        raise ImageDecodeError(
            f"image too large: its header claims {w}x{h} pixels x {channels} channels x "
            f"{8 * sample_bytes} bits = {decoded / 2**20:.0f} MB decoded > {3 * cap / 2**20:.0f} MB "
            "(3 x OPENCV_IO_MAX_IMAGE_PIXELS); refused without decoding"
        )


# A progressive JPEG is decoded once per scan: 10,000 empty scans in a 0.2 MB file took 38 s
# (0.1 s normally). Encoders write about 10 (libjpeg) and rarely more than a few dozen.
MAX_JPEG_SCANS = 256


def _check_jpeg_scans(data: bytes) -> None:
    """Refuse a JPEG with more than MAX_JPEG_SCANS start-of-scan markers, before decoding.

    Counted as FF DA byte pairs: in entropy-coded data every FF is followed by 00 or a
    restart marker, so the count is exact unless a comment holds the pair (then a few more)."""
    scans = data.count(b"\xff\xda")
    if scans > MAX_JPEG_SCANS:
        raise ImageDecodeError(
            f"JPEG with {scans} scans > {MAX_JPEG_SCANS} (each costs a pass over the image); "
            "refused without decoding"
        )


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Start-of-frame markers (the ones carrying the image size): C0-CF but DHT C4, JPG C8, DAC CC.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01}


def _png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk (always first, at a fixed offset)."""
    if len(data) < 24 or data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR":
        return None
    w, h = struct.unpack(">II", data[16:24])
    return (w, h) if w and h else None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's frame header, walking the markers before the scan data.

    The largest frame wins if a malformed file has several (Pillow takes the last one,
    libjpeg refuses the file): the pixel cap is checked against the worst case. None when
    the structure is not what it should be; the caller then asks Pillow.
    """
    if data[:3] != b"\xff\xd8\xff":
        return None
    best: tuple[int, int] | None = None
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _JPEG_STANDALONE:
            i += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no more frame headers
            break
        if marker < 0xC0:  # FF00 or a reserved marker: libjpeg resyncs byte by byte, not by
            return None  # a length, so a walk by lengths could differ from it: ask Pillow
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if length < 2:
            return None
        if marker in _JPEG_SOF:
            if i + 9 > n:
                return None
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            if not (h and w):  # height 0: defined later by a DNL marker; let Pillow decide
                return None
            if best is None or w * h > best[0] * best[1]:
                best = (w, h)
        i += 2 + length
    return best


def _too_large(claim: str, cap: int) -> str:
    return (
        f"image too large: its header claims {claim} pixels > {cap} "
        "(OPENCV_IO_MAX_IMAGE_PIXELS); refused without decoding"
    )


def _reduction(size: tuple[int, int], target: tuple[int, int]) -> int:
    """The largest JPEG scale-down (8, 4, 2) that keeps at least 4x the target size.

    4x, not 2x: from 1/8 scale to a target a quarter of that, the model input differed from
    the full decode's by ~3 levels on average (measured); from 4x, by under 0.5."""
    w, h = size
    th, tw = target
    for factor in (8, 4, 2):
        if w // factor >= 4 * tw and h // factor >= 4 * th:
            return factor
    return 1


def decode(data: bytes, target: tuple[int, int] | None = None) -> np.ndarray:
    """Decode image bytes to uint8 RGB (H, W, 3); grayscale, alpha and 16-bit are converted.

    The header's pixel count is checked against happysad's cap before any decoding. With a
    target (height, width), a JPEG much larger than it is decoded at 1/2, 1/4 or 1/8 scale
    by libjpeg itself (never below 4x the target), which costs a fraction of the memory
    and time. Only JPEG: for other formats OpenCV would decode in full and then shrink.
    """
    if not data:
        raise ImageDecodeError("empty file")
    size = header_size(data)
    flags = cv2.IMREAD_UNCHANGED
    if target is not None and size is not None and data[:3] == b"\xff\xd8\xff":
        factor = _reduction(size, target)
        if factor > 1:
            # IMREAD_UNCHANGED ignores EXIF orientation; the reduced read must too.
            flags = _JPEG_REDUCED[factor] | cv2.IMREAD_IGNORE_ORIENTATION
    buf = np.frombuffer(data, dtype=np.uint8)
    try:
        img = cv2.imdecode(buf, flags)
    except cv2.error as err:  # e.g. a header Pillow could not read, over OpenCV's own cap
        if "MAX_IMAGE_PIXELS" in str(err):
            raise ImageDecodeError(
                "image too large: its header claims more pixels than OpenCV's limit "
                "(OPENCV_IO_MAX_IMAGE_PIXELS); refused without decoding"
            ) from None
        raise ImageDecodeError(f"OpenCV refused it ({str(err).strip().splitlines()[-1]})") from None
    if img is None:
        raise ImageDecodeError("not a decodable image")
    if img.size == 0:
        raise ImageDecodeError("image has no pixels")
    return to_rgb8(img)


def to_rgb8(img: np.ndarray) -> np.ndarray:
    """Convert an OpenCV image of any depth/channel layout to uint8 RGB (H, W, 3)."""
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype in (np.float32, np.float64):
        img = np.clip(img * 255.0 if img.max() <= 1.0 else img, 0, 255).astype(np.uint8)
    elif img.dtype != np.uint8:
        img = cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    channels = img.shape[2]
    if channels == 1:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if channels == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if channels == 4:
        # Composite over white: transparent backgrounds (common in PNG faces) become white,
        # not the arbitrary colour stored under alpha=0.
        bgr = img[:, :, :3].astype(np.float32)
        alpha = img[:, :, 3:4].astype(np.float32) / 255.0
        out = bgr * alpha + 255.0 * (1.0 - alpha)
        return cv2.cvtColor(out.round().astype(np.uint8), cv2.COLOR_BGR2RGB)
    raise ImageDecodeError(f"unsupported channel count {channels}")


def resize(img: np.ndarray, prep: Preprocessing) -> np.ndarray:
    """Resize uint8 RGB to prep.image_size (stretch, or letterbox when keep_aspect)."""
    h, w = prep.image_size
    interp = INTERPOLATIONS[prep.interpolation]
    if prep.keep_aspect:
        scale = min(h / img.shape[0], w / img.shape[1])
        nh, nw = max(1, round(img.shape[0] * scale)), max(1, round(img.shape[1] * scale))
        small = cv2.resize(img, (nw, nh), interpolation=interp)
        out = np.zeros((h, w, 3), dtype=np.uint8)
        top, left = (h - nh) // 2, (w - nw) // 2
        out[top : top + nh, left : left + nw] = small
    elif img.shape[:2] == (h, w):
        out = img
    else:
        out = cv2.resize(img, (w, h), interpolation=interp)
    if prep.channels == 1:
        out = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)[:, :, None]
    return np.ascontiguousarray(out, dtype=np.uint8)


def crop_face(img: np.ndarray, prep: Preprocessing) -> tuple[np.ndarray, FaceBox | None]:
    """(largest face + margin, its box) when prep.face_crop; the whole image and None otherwise
    or when no face is found."""
    if not prep.face_crop:
        return img, None
    from happysad.data.faces import crop_largest_face

    return crop_largest_face(img, prep.face_margin)


def preprocess_bytes_detailed(
    data: bytes, prep: Preprocessing
) -> tuple[np.ndarray, FaceBox | None]:
    """Bytes -> (model input (H, W, C) uint8, face crop box or None): the single path."""
    # A face crop needs the image's full detail (the face may be a small part of it).
    target = None if prep.face_crop else prep.image_size
    img, box = crop_face(decode(data, target), prep)
    return resize(img, prep), box


def preprocess_bytes(data: bytes, prep: Preprocessing) -> np.ndarray:
    """Bytes -> model input (H, W, C) uint8: the single path used everywhere."""
    return preprocess_bytes_detailed(data, prep)[0]


def preprocess_file_detailed(path: str, prep: Preprocessing) -> tuple[np.ndarray, FaceBox | None]:
    return preprocess_bytes_detailed(read_regular_file(path), prep)


def preprocess_file(path: str, prep: Preprocessing) -> np.ndarray:
    return preprocess_bytes(read_regular_file(path), prep)
