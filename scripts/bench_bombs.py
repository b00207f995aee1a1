"""Bombs under the caps (issue 24: B2, B3, the tiled TIFF): time and peak memory of one served row each.

Each bomb is rebuilt by the helpers in tests/test_audit.py and sent through the serving
path (`HappysadPyfunc.predict`, the code `mlflow models serve` runs) with a stand-in model, in
its own child process so the peak RSS is that row's alone. Usage:

    PYTHONPATH=src python scripts/bench_bombs.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import base64, json, resource, sys, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd
from tests.test_audit import _stand_in_model, write_png_bomb, write_scan_bomb, write_tiled_tiff
from happysad.serving.pyfunc import HappysadPyfunc

kind, tmp = sys.argv[1], Path(tempfile.mkdtemp())
if kind == "png16":
    path = write_png_bomb(tmp / "bomb.png", 11000, 11000)
elif kind == "tiff_tiles":
    path = write_tiled_tiff(tmp / "tiles.tif", 12288)
else:
    import cv2
    big = np.random.default_rng(0).integers(0, 255, (1024, 1024, 3), dtype=np.uint8)
    ok, enc = cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    scan = b"\\xff\\xda\\x00\\x08\\x01\\x01\\x00\\x01\\x01\\x00"
    path = tmp / "scans.jpg"
    path.write_bytes(enc.tobytes()[:-2] + scan * 10_000 + b"\\xff\\xd9")
served = HappysadPyfunc()
stand_in = _stand_in_model()
served.metadata, served.model = stand_in.metadata, stand_in.model
row = base64.b64encode(path.read_bytes()).decode()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
out = served.predict(None, pd.DataFrame({"image_b64": [row]}))
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"bomb": kind, "file_mb": round(path.stat().st_size / 2**20, 2),
    "seconds": round(seconds, 3), "peak_rss_mb": round(peak / 1024),
    "row_rss_mb": round((peak - before) / 1024), "error": out["error"][0]}))
"""


def main() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    for kind in ("png16", "jpeg_scans", "tiff_tiles"):
        res = subprocess.run(
            [sys.executable, "-c", CHILD, kind], capture_output=True, text=True, env=env, cwd=ROOT
        )
        line = res.stdout.strip().splitlines()[-1] if res.stdout.strip() else res.stderr[-500:]
        print(json.dumps(json.loads(line)) if line.startswith("{") else line)


if __name__ == "__main__":
    main()
