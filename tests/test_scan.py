"""Scanning and cleaning: bad files are reported and skipped, user data is never touched."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from happysad.data.image import Preprocessing, decode, preprocess_bytes
from happysad.data.scan import discover_classes, scan_folder
from happysad.errors import DataError

from .conftest import hash_tree, write_image


def _face(seed: int, size: int = 20) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    """Two classes of valid images plus one of each kind of bad file."""
    root = tmp_path / "data"
    for cls in ("happy", "sad"):
        for i in range(4):
            write_image(root / cls / f"{cls}{i}.jpg", _face(i + (10 if cls == "sad" else 0)))
    happy = root / "happy"
    (happy / "empty.jpg").write_bytes(b"")
    (happy / "text.jpg").write_text("definitely not a jpeg")
    (happy / "page.png").write_text("<html><body>404</body></html>")
    good = (root / "happy" / "happy0.jpg").read_bytes()
    (happy / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (happy / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (happy / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (happy / "notes.txt").write_text("labels by Ann")
    (happy / "labels.csv").write_text("a,b\n")
    # Valid but unusual: upper-case extension, grayscale, RGBA, 16-bit, nested folder.
    write_image(root / "sad" / "UPPER.JPG", _face(99))
    cv2.imwrite(str(root / "sad" / "gray.png"), _face(5)[:, :, 0])
    rgba = np.dstack([_face(6), np.full((20, 20), 128, np.uint8)])
    cv2.imwrite(str(root / "sad" / "rgba.png"), rgba)
    cv2.imwrite(str(root / "sad" / "deep16.png"), (_face(7).astype(np.uint16) * 257))
    write_image(root / "sad" / "nested" / "deeper" / "inner.png", _face(8))
    (root / "sad" / "dangling.jpg").symlink_to(root / "nowhere.jpg")
    return root


def test_bad_files_are_reported_and_valid_ones_used(messy: Path) -> None:
    res = scan_folder(messy, extensions=[".jpg", ".jpeg", ".png"])
    reasons = {Path(r.path).name: r.reason for r in res.rejected}
    assert reasons["empty.jpg"] == "empty file"
    assert reasons["text.jpg"] == "not a decodable image"
    assert reasons["page.png"] == "not a decodable image"
    assert (
        reasons["truncated.jpg"] in {"not a decodable image"}
        or "truncated" in reasons["truncated.jpg"]
    )
    assert reasons[".DS_Store"] == "system file"
    assert reasons["Thumbs.db"] == "system file"
    assert reasons["notes.txt"].startswith("not an image extension")
    assert reasons["labels.csv"].startswith("not an image extension")
    assert reasons["dangling.jpg"] == "broken symlink"
    used = {r.relpath for r in res.records}
    assert {
        "sad/UPPER.JPG",
        "sad/gray.png",
        "sad/rgba.png",
        "sad/deep16.png",
        "sad/nested/deeper/inner.png",
    } <= used
    assert res.counts() == {"happy": 4, "sad": 9}
    assert all(r.channels == 3 for r in res.records)
    assert "skipped" in res.summary() and "empty file" in res.summary()


def test_truncated_jpeg_is_not_silently_used(messy: Path) -> None:
    res = scan_folder(messy, extensions=[".jpg", ".png"])
    # OpenCV may decode a truncated JPEG partially; either way it must not crash the scan and
    # the file must be accounted for exactly once.
    names = [Path(r.path).name for r in res.rejected] + [Path(r.path).name for r in res.records]
    assert names.count("truncated.jpg") == 1


def test_scan_never_modifies_the_data_folder(messy: Path, tmp_path: Path) -> None:
    before = hash_tree(messy)
    res = scan_folder(messy, extensions=[".jpg", ".png"])
    res.write_report(tmp_path / "report.csv")
    assert hash_tree(messy) == before


def test_quarantine_moves_bad_files_intact(messy: Path, tmp_path: Path) -> None:
    before = hash_tree(messy)
    q = tmp_path / "quarantine"
    res = scan_folder(messy, extensions=[".jpg", ".png"], quarantine_dir=q)
    moved = hash_tree(q)
    after = hash_tree(messy)
    assert "happy/empty.jpg" in moved and "happy/notes.txt" in moved
    for rel, digest in moved.items():
        assert before[rel] == digest  # arrived byte-for-byte
        assert rel not in after
    assert set(after) | set(moved) == set(before)
    # Symlinks are reported, not moved (a moved relative link would dangle).
    links = {r.path for r in res.rejected if "a symlink: not moved" in r.reason}
    assert {Path(p).name for p in links} == {"dangling.jpg"}
    assert all(r.action == "quarantined" for r in res.rejected if r.path not in links)
    assert {k: v for k, v in before.items() if k not in moved} == after  # the rest untouched


def test_class_discovery_and_order(messy: Path) -> None:
    assert discover_classes(messy) == (["happy", "sad"], [])
    assert discover_classes(messy, ["sad", "happy"]) == (["sad", "happy"], [])
    res = scan_folder(messy, class_names=["sad", "happy"], extensions=[".jpg", ".png"])
    assert {r.class_name: r.label for r in res.records} == {"sad": 0, "happy": 1}


@pytest.mark.parametrize(
    ("setup", "needle"),
    [
        (lambda root: None, "does not exist"),
        (lambda root: root.write_text("x"), "is a file"),
        (lambda root: (root / "only").mkdir(parents=True), "at least 2 classes"),
    ],
)
def test_root_errors_are_one_line_and_name_the_folder(tmp_path: Path, setup, needle: str) -> None:
    root = tmp_path / "imgs"
    setup(root)
    with pytest.raises(DataError) as info:
        discover_classes(root)
    assert needle in str(info.value) and str(root) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_configured_class_is_named(messy: Path) -> None:
    with pytest.raises(DataError, match=r"data\.class_names: no folder .*angry"):
        discover_classes(messy, ["happy", "angry"])


def test_empty_class_stops_with_what_is_missing(messy: Path) -> None:
    shutil.rmtree(messy / "sad")
    (messy / "sad").mkdir()
    with pytest.raises(DataError, match=r"sad: 0 usable image"):
        scan_folder(messy, extensions=[".jpg", ".png"], min_images_per_class=2)


def test_preprocessing_converts_every_layout() -> None:
    prep = Preprocessing(image_size=(8, 10))
    gray = cv2.imencode(".png", np.full((4, 4), 200, np.uint8))[1].tobytes()
    rgba = cv2.imencode(
        ".png", np.dstack([np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8)])
    )[1].tobytes()
    deep = cv2.imencode(".png", np.full((4, 4, 3), 65535, np.uint16))[1].tobytes()
    for data in (gray, rgba, deep):
        out = preprocess_bytes(data, prep)
        assert out.shape == (8, 10, 3) and out.dtype == np.uint8
    assert preprocess_bytes(gray, prep).min() == 200
    assert preprocess_bytes(rgba, prep).min() == 255  # fully transparent -> white, not black
    assert preprocess_bytes(deep, prep).min() == 255
    bgr = np.zeros((4, 4, 3), np.uint8)
    bgr[:, :, 2] = 255  # pure red in OpenCV's BGR
    assert tuple(decode(cv2.imencode(".png", bgr)[1].tobytes())[0, 0]) == (255, 0, 0)  # RGB
    letterboxed = preprocess_bytes(gray, Preprocessing(image_size=(8, 16), keep_aspect=True))
    assert letterboxed.shape == (8, 16, 3) and letterboxed[:, 0].max() == 0
    assert preprocess_bytes(gray, Preprocessing(image_size=(8, 8), channels=1)).shape == (8, 8, 1)


def _png_header_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_the_whole_bad_file_corpus(tmp_path: Path) -> None:
    """Every kind of odd file a class folder can hold: used correctly or reported."""
    import io
    import os
    import resource

    from PIL import Image

    root = tmp_path / "data"
    for cls in ("happy", "sad"):
        for i in range(3):
            write_image(root / cls / f"ok{i}.png", _face(i + (50 if cls == "sad" else 0)))
    h = root / "happy"

    def pil(path: Path, img: Image.Image, fmt: str, **kw) -> None:
        buf = io.BytesIO()
        img.save(buf, format=fmt, **kw)
        path.write_bytes(buf.getvalue())

    pil(h / "palette.png", Image.new("P", (12, 12), 3), "PNG")
    pil(h / "cmyk.jpg", Image.new("CMYK", (12, 12), (0, 255, 255, 0)), "JPEG")
    frames = [Image.new("P", (12, 12), c) for c in (1, 2, 3)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    (h / "animated.gif").write_bytes(buf.getvalue())
    pil(h / "photo.webp", Image.new("RGB", (12, 12), (10, 200, 10)), "WEBP")
    pil(h / "old.bmp", Image.new("RGB", (12, 12), (200, 10, 10)), "BMP")
    write_image(h / "dot.png", np.full((1, 1, 3), 77, np.uint8))
    (h / "bomb.png").write_bytes(_png_header_bomb(50000, 50000))
    good = (h / "ok0.png").read_bytes()
    (h / "cut.png").write_bytes(good[: len(good) // 2])
    (h / "page.png").write_text("<!doctype html><title>x</title>")
    # A symlink loop inside the class folder, and a loop of file links.
    (h / "loop").symlink_to(h, target_is_directory=True)
    (h / "a.jpg").symlink_to(h / "b.jpg")
    (h / "b.jpg").symlink_to(h / "a.jpg")
    locked = h / "locked.png"
    write_image(locked, _face(9))
    locked.chmod(0)
    before = hash_tree(root / "sad")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    res = scan_folder(root, extensions=[".png", ".jpg", ".gif", ".webp", ".bmp"])
    locked.chmod(0o644)
    reasons = {Path(r.path).name: r.reason for r in res.rejected}
    used = {Path(r.path).name for r in res.records}
    assert {"palette.png", "cmyk.jpg", "animated.gif", "photo.webp", "old.bmp", "dot.png"} <= used
    assert reasons["bomb.png"].startswith("image too large")
    assert (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0 < 500_000
    )  # KB: never allocated
    assert reasons["cut.png"] == "not a decodable image"
    assert reasons["page.png"] == "not a decodable image"
    assert reasons["a.jpg"] == reasons["b.jpg"] == "broken symlink"
    if os.geteuid() != 0:  # root reads anything
        assert reasons["locked.png"] == "unreadable (permission denied)"
    assert not any("loop" in r.relpath.split("/")[1:-1] for r in res.records)  # link not followed
    assert hash_tree(root / "sad") == before


def test_scan_cache_reuses_unchanged_files_and_notices_changes(messy: Path, tmp_path: Path) -> None:
    exts = [".jpg", ".png"]
    cache = tmp_path / "cache"
    first = scan_folder(messy, extensions=exts, cache_dir=cache)
    assert first.cache_hits == 0
    second = scan_folder(messy, extensions=exts, cache_dir=cache)
    assert second.cache_hits > 0 and "reused from the scan cache" in second.summary()
    assert [(r.relpath, r.sha256) for r in second.records] == [
        (r.relpath, r.sha256) for r in first.records
    ]
    assert [(r.path, r.reason) for r in second.rejected] == [
        (r.path, r.reason) for r in first.rejected
    ]
    # A file fixed in place (new bytes, new mtime) is re-read; the rest are not.
    fixed = messy / "happy" / "text.jpg"
    write_image(fixed, _face(123))
    third = scan_folder(messy, extensions=exts, cache_dir=cache)
    assert "happy/text.jpg" in {r.relpath for r in third.records}
    assert third.cache_hits == second.cache_hits - 1


def test_scan_cache_full_records_equal_and_follow_the_extension_list(
    messy: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = scan_folder(messy, extensions=[".jpg", ".png"], cache_dir=cache)
    again = scan_folder(messy, extensions=[".jpg", ".png"], cache_dir=cache)
    assert again.records == first.records  # every field, rebuilt from the cached row
    assert again.cache_hits == len(first.records) + 4  # + empty, text, page, truncated
    # Narrowing data.extensions drops cached PNGs at once, even though they are unchanged.
    jpg_only = scan_folder(messy, extensions=[".jpg"], cache_dir=cache)
    assert {Path(r.path).suffix.lower() for r in jpg_only.records} == {".jpg"}
    assert any("not an image extension (.png)" in r.reason for r in jpg_only.rejected)
    widened = scan_folder(messy, extensions=[".jpg", ".png"], cache_dir=cache)
    assert widened.records == first.records


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: "{not json",
        lambda text: text.replace('"stamps":[', '"stamps":[1,'),  # columns of unequal length
        lambda text: text.replace('"version":4', '"version":3'),
        lambda text: '{"version":4,"paths":7}',
    ],
    ids=["garbage", "ragged", "old-version", "wrong-types"],
)
def test_a_damaged_scan_cache_is_ignored_not_trusted(messy: Path, tmp_path: Path, damage) -> None:
    cache = tmp_path / "cache"
    first = scan_folder(messy, extensions=[".jpg", ".png"], cache_dir=cache)
    (cache_file,) = cache.glob("scan-*.json")
    cache_file.write_text(damage(cache_file.read_text()))
    again = scan_folder(messy, extensions=[".jpg", ".png"], cache_dir=cache)
    assert again.cache_hits == 0 and again.records == first.records
    assert scan_folder(messy, extensions=[".jpg", ".png"], cache_dir=cache).cache_hits > 0


def test_image_sizes_from_header_bytes_match_pillow() -> None:
    import io

    from PIL import Image

    from happysad.data.image import _jpeg_size, _png_size, header_size

    rng = np.random.default_rng(0)
    blobs = []
    for h, w in [(1, 1), (7, 13), (480, 640), (2000, 31)]:
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        for ext, params in [
            (".png", []),
            (".jpg", []),
            (".jpg", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]),
        ]:
            blobs.append(cv2.imencode(ext, img, params)[1].tobytes())
        blobs.append(cv2.imencode(".jpg", img[:, :, 0])[1].tobytes())
        pil = Image.fromarray(img)
        for mode, fmt in [("CMYK", "JPEG"), ("RGBA", "PNG"), ("L", "PNG")]:
            buf = io.BytesIO()
            pil.convert(mode).save(buf, fmt)
            blobs.append(buf.getvalue())
        exif = Image.Exif()
        exif[274] = 6  # rotated: the stored size is what counts, as for Pillow and OpenCV
        buf = io.BytesIO()
        pil.save(buf, "JPEG", exif=exif)
        blobs.append(buf.getvalue())
    for data in blobs:
        with Image.open(io.BytesIO(data)) as im:
            expected = im.size
        assert (_png_size(data) or _jpeg_size(data)) == expected
        assert header_size(data) == expected
        for cut in (0, 3, 11, 23, 40):  # truncated headers: no answer, never an exception
            part = data[:cut]
            assert _png_size(part) in (None, expected) and _jpeg_size(part) in (None, expected)


def test_a_jpeg_with_two_frame_headers_is_capped_by_the_larger(monkeypatch) -> None:
    import struct

    from happysad.data.image import ImageDecodeError, decode

    small = cv2.imencode(".jpg", _face(1, 16))[1].tobytes()
    # A second start-of-frame claiming 30000 x 30000 pixels, right after the first.
    sof = small.index(b"\xff\xc0")
    (length,) = struct.unpack(">H", small[sof + 2 : sof + 4])
    frame = bytearray(small[sof : sof + 2 + length])
    frame[5:9] = struct.pack(">HH", 30000, 30000)
    crafted = small[: sof + 2 + length] + bytes(frame) + small[sof + 2 + length :]
    monkeypatch.setenv("OPENCV_IO_MAX_IMAGE_PIXELS", str(2**27))
    with pytest.raises(ImageDecodeError, match=r"30000x30000 = 900000000 pixels"):
        decode(crafted)


def test_a_jpeg_cannot_hide_its_real_frame_from_the_pixel_cap(monkeypatch) -> None:
    """FF 00 is filler to libjpeg (it resyncs byte by byte), not a segment with a length: a
    header walk that jumped by it would read a fake 1x1 frame hidden in a comment."""
    import struct

    from happysad.data.image import ImageDecodeError, decode, header_size

    real = cv2.imencode(".jpg", np.zeros((300, 400, 3), np.uint8))[1].tobytes()
    fake_sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 1, 1, 1) + b"\x01\x11\x00"
    comment = b"\xff\xfe" + struct.pack(">H", 2 + len(fake_sof) + 2) + fake_sof + b"\xff\xd9"
    crafted = b"\xff\xd8" + b"\xff\x00\x00\x06" + comment + real[2:]
    assert header_size(crafted) in (None, (400, 300))  # never the fake (1, 1)
    monkeypatch.setenv("OPENCV_IO_MAX_IMAGE_PIXELS", str(400 * 300 - 1))
    with pytest.raises(ImageDecodeError, match="too large"):
        decode(crafted)


def test_listing_follows_os_walk_order_and_names_an_unreadable_class_folder(
    tmp_path: Path, monkeypatch
) -> None:
    import os

    from happysad.data.scan import _list_files

    rng = np.random.default_rng(3)
    for i in range(40):
        depth = rng.integers(0, 4)
        parts = [f"d{rng.integers(0, 3)}" for _ in range(depth)]
        f = tmp_path.joinpath("cls", *parts, f"f{i}.png")
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"x")
    (tmp_path / "cls" / ".hidden").mkdir()
    (tmp_path / "cls" / ".hidden" / "h.png").write_bytes(b"x")
    expected = []
    for dirpath, dirnames, filenames in os.walk(tmp_path / "cls"):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        expected.extend(os.path.join(dirpath, f) for f in sorted(filenames))
    assert _list_files(tmp_path / "cls", True) == expected

    real_scandir = os.scandir

    def refuse(path):
        if str(path) == str(tmp_path / "cls"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", refuse)
    with pytest.raises(
        DataError, match=r"class folder .*cls: cannot be read \(Permission denied\)"
    ):
        _list_files(tmp_path / "cls", True)


def test_the_cleaning_report_has_one_header_across_writers(tmp_path: Path) -> None:
    """The scan writes the report, the face crop appends to it: same columns, one header."""
    import csv

    from happysad.data.scan import CLEANING_REPORT_COLUMNS, Rejected, write_cleaning_report

    report = tmp_path / "data" / "cleaning_report.csv"
    write_cleaning_report(report, [Rejected("/d/a.jpg", "happy", "not an image")])
    write_cleaning_report(report, [Rejected("/d/b.jpg", "sad", "no face", "used whole")], True)
    with report.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [
        list(CLEANING_REPORT_COLUMNS),
        ["/d/a.jpg", "happy", "not an image", "skipped"],
        ["/d/b.jpg", "sad", "no face", "used whole"],
    ]
    assert CLEANING_REPORT_COLUMNS == ("path", "class_name", "reason", "action")
    write_cleaning_report(report, [])  # a fresh write replaces the file
    assert report.read_text().splitlines() == [",".join(CLEANING_REPORT_COLUMNS)]
