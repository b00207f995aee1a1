"""Scan benchmark: first scan vs cached rescan of a large folder; bad-config latency.

Generates a folder-per-class tree of --n-files small images (32x32 PNG and JPEG, every file's
pixels differ, so every hash differs), then times `scan_folder(..., cache_dir=...)` on it
twice: the first scan (empty cache: read, decode and hash every file) and a rescan of the
unchanged folder (one stat per file, results reused). The files were just written, so the
first scan reads them from the page cache: its time is a best case, and the ratio a
conservative one. Then times `happysad-train data.split.train=0.9` (an invalid config: it
must exit 2 with one line, before TensorFlow loads) and `happysad-train --cfg job`.

Usage: python scripts/bench_scan.py [--n-files 20000] [--work DIR]
Prints one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import ROOT, console, emit, loadavg, machine, note, run_child

try:
    import happysad  # noqa: F401
except ImportError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT / "src"))


def make_files(root: Path, n: int, size: int, seed: int = 0) -> dict[str, int]:
    """n small images in root/happy and root/sad; one in four is a JPEG, the rest PNG."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    bases = [rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8) for _ in range(16)]
    counts = {"png": 0, "jpg": 0}
    for i in range(n):
        cls = ("happy", "sad")[i % 2]
        img = bases[i % 16].copy()
        # Stamp the index into the first pixels so no two files are identical.
        img[0, :4, 0] = [(i >> s) & 0xFF for s in (0, 8, 16, 24)]
        img[size // 2, size // 2] = rng.integers(0, 256, size=3, dtype=np.uint8)
        ext = ".jpg" if i % 4 == 3 else ".png"
        ok, buf = cv2.imencode(ext, img)
        if not ok:  # pragma: no cover
            raise RuntimeError("cv2.imencode failed")
        path = root / cls / f"{cls}_{i:06d}{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buf.tobytes())
        counts[ext[1:]] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n-files", type=int, default=20000)
    p.add_argument("--size", type=int, default=32, help="image side in px")
    p.add_argument("--work", type=Path, default=None, help="work folder (default: a temp dir)")
    p.add_argument("--keep", action="store_true", help="keep the temp work folder")
    a = p.parse_args(argv)

    from happysad.data.scan import scan_folder

    load_start = loadavg()
    tmp = None
    if a.work is None:
        work = tmp = Path(tempfile.mkdtemp(prefix="happysad-bench-scan-"))
    else:
        work = a.work.resolve()
        if work.exists() and any(work.iterdir()):
            print(f"error: --work {work} is not empty", file=sys.stderr)
            return 2
    try:
        data, cache = work / "data", work / "cache"
        note(f"writing {a.n_files} files of {a.size}x{a.size} px into {data}")
        t0 = time.perf_counter()
        counts = make_files(data, a.n_files, a.size)
        gen_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        first = scan_folder(data, cache_dir=cache)
        first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = scan_folder(data, cache_dir=cache)
        rescan_s = time.perf_counter() - t0
        same = [r.sha256 for r in first.records] == [r.sha256 for r in again.records]
        note(f"first scan {first_s:.2f} s, cached rescan {rescan_s:.3f} s")

        bad = run_child([*console("happysad-train"), "data.split.train=0.9"], work / "bad.log")
        bad_line = (work / "bad.log").read_text(errors="replace").strip().splitlines()
        cfg = run_child([*console("happysad-train"), "--cfg", "job"], work / "cfg.log")
        ratio = rescan_s / first_s if first_s else None
        out = {
            "bench": "scan",
            "n_files": a.n_files,
            "file_types": counts,
            "image_px": a.size,
            "generate_s": round(gen_s, 2),
            "first_scan_s": round(first_s, 4),
            "cached_rescan_s": round(rescan_s, 4),
            "rescan_over_first": round(ratio, 4) if ratio is not None else None,
            "first_scan_files_per_s": round(a.n_files / first_s, 1),
            "records": len(first.records),
            "rescan_cache_hits": again.cache_hits,
            "rescan_same_records": same,
            "bad_config_s": bad["wall_s"],
            "bad_config_rc": bad["rc"],
            "bad_config_message": bad_line[-1] if bad_line else "",
            "cfg_job_s": cfg["wall_s"],
            "targets_met": {
                "rescan<=5%_of_first": ratio is not None and ratio <= 0.05,
                "bad_config<=2s": bad["wall_s"] <= 2.0 and bad["rc"] == 2,
            },
            "machine": machine(),
            "loadavg_start": load_start,
            "loadavg_end": loadavg(),
        }
        emit(out)
        return 0 if same and bad["rc"] == 2 else 1
    finally:
        if tmp is not None and not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
