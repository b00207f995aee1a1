"""Face detection benchmark: images/s of data/faces.py, optionally against another version of it.

Generates demo faces (the 'wide' variety) and faces from scripts/alt_faces.py, some of them
upscaled so the shrink-before-detect path runs too, decodes them once, then times
`detect_faces` on every image. With --ref, the faces.py of that git revision (e.g. the numpy
re-implementation of the cascade before OpenCV's own detector) runs on the same images, and
the two are compared: speed ratio, same found/not-found decision, overlap (IoU) of the
largest face where both found one.

Usage: python scripts/bench_faces.py [--per-class 100] [--ref GIT_REV] [--work DIR]
Prints one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import ROOT, emit, loadavg, machine

try:
    import happysad  # noqa: F401
except ImportError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT / "src"))


def images(work: Path, per_class: int) -> list[Any]:
    """Decoded RGB images: demo faces at 128 px, alt faces at 160 px, a third upscaled x4."""
    import cv2

    import alt_faces
    from happysad.data.demo import generate_demo_dataset
    from happysad.data.image import decode

    generate_demo_dataset(
        work / "demo", per_class=per_class, image_size=128, seed=5, n_corrupt=0,
        style={"variety": "wide"},
    )  # fmt: skip
    alt_faces.generate(work / "alt", per_class=per_class, size=160, seed=6)
    out = []
    for i, path in enumerate(sorted(p for p in work.rglob("*") if p.suffix in (".png", ".jpg"))):
        img = decode(path.read_bytes())
        if i % 3 == 0:
            img = cv2.resize(img, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
        out.append(img)
    return out


def module_at(ref: str, work: Path) -> ModuleType:
    """data/faces.py as it was at git revision `ref`, imported under another name."""
    text = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:src/happysad/data/faces.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = work / "faces_ref.py"
    path.write_text(text)
    # Its cascade file is looked up beside the module, as in the package.
    here = Path(importlib.util.find_spec("happysad.data.faces").origin).with_name("cascades")
    shutil.copytree(here, work / "cascades", dirs_exist_ok=True)
    spec = importlib.util.spec_from_file_location("faces_ref", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def timed(mod: ModuleType, imgs: list[Any]) -> tuple[float, list[Any]]:
    mod.detect_faces(imgs[0])  # load the cascade outside the timing
    t0 = time.perf_counter()
    found = [mod.detect_faces(img) for img in imgs]
    return time.perf_counter() - t0, found


def iou(a: Any, b: Any) -> float:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / (a.area + b.area - inter)


def main(argv: list[str] | None = None) -> int:
    import cv2
    import numpy as np

    from happysad.data import faces

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--per-class", type=int, default=100)
    p.add_argument("--ref", help="git revision whose data/faces.py to compare against")
    p.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    args = p.parse_args(argv)
    work = Path(args.work or tempfile.mkdtemp(prefix="bench_faces_"))
    try:
        imgs = images(work, args.per_class)
        secs, found = timed(faces, imgs)
        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        secs_1, _ = timed(faces, imgs)
        cv2.setNumThreads(threads)
        result: dict[str, Any] = {
            "bench": "faces",
            "images": len(imgs),
            "detector": getattr(faces, "DETECTOR", "numpy"),
            "images_per_s": round(len(imgs) / secs, 1),
            "images_per_s_one_thread": round(len(imgs) / secs_1, 1),
            "found": sum(bool(f) for f in found),
        }
        if args.ref:
            old = module_at(args.ref, work)
            old_secs, old_found = timed(old, imgs)
            same = [bool(a) == bool(b) for a, b in zip(found, old_found, strict=True)]
            ious = [iou(a[0], b[0]) for a, b in zip(found, old_found, strict=True) if a and b]
            result |= {
                "ref": args.ref,
                "ref_images_per_s": round(len(imgs) / old_secs, 1),
                "ref_found": sum(bool(f) for f in old_found),
                "speedup": round(old_secs / secs, 1),
                "speedup_one_thread": round(old_secs / secs_1, 1),
                "same_decision": round(float(np.mean(same)), 4),
                "largest_face_iou_median": round(float(np.median(ious)), 3) if ious else None,
            }
        result |= {"machine": machine(), "loadavg": loadavg()}
        emit(result)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
