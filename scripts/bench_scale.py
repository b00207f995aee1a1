"""Scale benchmark: how time and memory grow with the number of images.

For each image side in --pixels and each count in --sizes, on a synthetic folder-per-class
tree (JPEGs written once into --work and reused; smaller sets are hard links to the first
files of the largest):

- a build child (no TensorFlow) times the first scan (empty cache), the cached rescan and
  the decode-cache build (`data.cache=disk`, the code `happysad-train` runs), and its peak
  anonymous memory;
- a training child (`happysad-train`, tiny_cnn, no augmentation, no callbacks, no tracking,
  no figures) reuses that scan and decode cache and trains --epochs epochs: the first epoch
  (graph tracing included) and the steady epochs (the mean of the others), and the peak
  anonymous memory of the training process.

Peak anonymous memory is sampled from RssAnon in /proc/<pid>/status every 10 ms in a thread,
not VmHWM: pages of the memory-mapped cache are reclaimable page cache, so they count in RSS
without being a risk. The growth section compares the smallest and largest count of each
image side: time should grow like the image count, anonymous memory should stay flat.

Epoch times are given in wall seconds and in the training process's CPU seconds (its own
user + system time: what other jobs on a shared machine change least).

`--probe` trains `scale_probe` instead of tiny_cnn: a model written into --work/conf that
average-pools 8x8 first, so an epoch at 224 px costs what the input pipeline costs (reading
the memory-mapped cache, batching, the transfer into TensorFlow) and not a convolution over
50,000 full-size images, which on 2 cores would take hours. The pipeline is what can grow
worse than linearly with the data; the model's arithmetic per image cannot.

Usage: python scripts/bench_scale.py [--sizes 1000,5000,20000,50000] [--pixels 64,224]
       [--epochs 3] [--probe] [--work DIR]
Prints one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import ROOT, child_env, console, emit, loadavg, machine, note, run_child

try:
    import happysad  # noqa: F401
except ImportError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT / "src"))

CLASSES = ("happy", "sad")


# --- the data -------------------------------------------------------------------------


def make_master(folder: Path, n: int, px: int, seed: int = 0) -> None:
    """n JPEGs of px x px (smooth random colour fields, every file different), written once."""
    import cv2
    import numpy as np

    marker = folder / "complete.json"
    if marker.is_file() and json.loads(marker.read_text()).get("n", 0) >= n:
        return
    rng = np.random.default_rng(seed)
    for i in range(n):
        cls = CLASSES[i % 2]
        path = folder / cls / f"{cls}_{i:06d}.jpg"
        if path.is_file():
            continue
        small = rng.integers(0, 256, size=(6, 6, 3), dtype=np.uint8)
        img = cv2.resize(small, (px, px), interpolation=cv2.INTER_LINEAR)
        img[0, :4, 0] = [(i >> s) & 0xFF for s in (0, 8, 16, 24)]
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
        if not ok:  # pragma: no cover
            raise RuntimeError("cv2.imencode failed")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buf.tobytes())
    marker.write_text(json.dumps({"n": n, "px": px}))


def link_subset(master: Path, out: Path, n: int) -> None:
    """out/<class>/ holds the first n files of master (hard links: no extra disk)."""
    marker = out / "complete.json"
    if marker.is_file():
        return
    for i in range(n):
        cls = CLASSES[i % 2]
        name = f"{cls}_{i:06d}.jpg"
        dest = out / cls / name
        if dest.exists():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(master / cls / name, dest)
        except OSError:
            shutil.copy2(master / cls / name, dest)
    marker.write_text(json.dumps({"n": n}))


# --- children ---------------------------------------------------------------------------


def _overrides(root: Path, px: int, cache_dir: Path) -> list[str]:
    return [
        "data=folder",
        f"data.root={root}",
        f"data.image_size=[{px},{px}]",
        "data.cache=disk",
        f"paths.cache_dir={cache_dir}",
    ]


def build_stage(root: Path, px: int, cache_dir: Path, out: Path) -> None:
    """The build child: first scan, cached rescan, split, decode-cache build (no TensorFlow)."""
    from happysad.api import compose
    from happysad.config import validate
    from happysad.data import loader, scan, split
    from happysad.data.image import Preprocessing
    from happysad.training.stages import SPLITS, _decode_splits

    cfg = validate(compose(_overrides(root, px, cache_dir)))
    d = cfg.data

    def do_scan() -> Any:
        return scan.scan_folder(
            d.root,
            extensions=list(d.extensions),
            recursive=bool(d.recursive),
            cache_dir=cfg.paths.cache_dir,
            max_file_bytes=int(float(d.max_file_mb) * 2**20),
        )

    t0 = time.perf_counter()
    first = do_scan()
    t1 = time.perf_counter()
    again = do_scan()
    t2 = time.perf_counter()
    splits = split.split_records(
        first.records,
        first.class_names,
        {k: float(d.split[k]) for k in SPLITS},
        seed=int(d.split.seed),
        group_duplicates=bool(d.split.group_duplicates),
    )
    prep = Preprocessing.from_data_config(d)
    t3 = time.perf_counter()
    _decode_splits(cfg, splits, prep)
    t4 = time.perf_counter()
    n = len(first.records)
    out.write_text(
        json.dumps(
            {
                "records": n,
                "rescan_cache_hits": again.cache_hits,
                "n_train": len(splits.train),
                "first_scan_s": round(t1 - t0, 3),
                "cached_rescan_s": round(t2 - t1, 3),
                "cache_build_s": round(t4 - t3, 3),
                "decoded_mb": round(loader.decoded_bytes(n, prep) / 2**20, 1),
                "auto_would_pick": loader.resolve_cache_mode("auto", loader.decoded_bytes(n, prep)),
            }
        )
    )


def old_build_stage(root: Path, px: int, cache_dir: Path, out: Path) -> None:
    """The baseline: the decode-cache build as it was before streaming (issue 15) - every
    image decoded into a list, `np.stack`ed, then saved - on the same files, same threads."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from happysad.api import compose
    from happysad.config import validate
    from happysad.data import scan
    from happysad.data.image import Preprocessing, preprocess_file_detailed
    from happysad.resources import available_cpus

    cfg = validate(compose(_overrides(root, px, cache_dir)))
    records = scan.scan_folder(cfg.data.root, cache_dir=cfg.paths.cache_dir).records
    prep = Preprocessing.from_data_config(cfg.data)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=available_cpus()) as pool:
        done = list(pool.map(lambda r: preprocess_file_detailed(r.path, prep), records))
    images = np.stack([img for img, _ in done])
    np.save(cache_dir / "baseline.npy", images)
    out.write_text(json.dumps({"old_cache_build_s": round(time.perf_counter() - t0, 3)}))
    (cache_dir / "baseline.npy").unlink()


class AnonSampler:
    """Peak RssAnon of one process, sampled in a thread from /proc/<pid>/status."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.peak_kb = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, pid: int) -> None:
        self._thread = threading.Thread(target=self._run, args=(pid,), daemon=True)
        self._thread.start()

    def _run(self, pid: int) -> None:
        status = Path(f"/proc/{pid}/status")
        while not self._stop.is_set():
            try:
                text = status.read_text()
            except OSError:  # exited
                return
            for line in text.splitlines():
                if line.startswith("RssAnon:"):
                    self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                    self.samples += 1
                    break
            self._stop.wait(self.interval)

    def stop(self) -> float:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return round(self.peak_kb / 1024, 1)


def run_sampled(cmd: list[str], log: Path, env: dict[str, str]) -> dict[str, Any]:
    """run_child plus the child's peak anonymous memory."""
    sampler = AnonSampler()
    proc = run_child(cmd, log, env=env, on_start=sampler.start)
    proc["peak_anon_mb"] = sampler.stop()
    proc["anon_samples"] = sampler.samples
    return proc


def _timer_override(path: Path) -> str:
    return f"+callbacks.bench_timer={{_target_:_bench_common.epoch_timer,path:'{path}'}}"


PROBE_MODEL = """\
# Written by scripts/bench_scale.py --probe: pools 8x8 first, so an epoch costs what the input
# pipeline costs, not a convolution over every full-size image.
defaults:
  - schema
  - _self_

name: scale_probe
input_scale: 0.00392156862745098
layers:
  - {_target_: keras.layers.AveragePooling2D, pool_size: 8}
  - {_target_: keras.layers.Conv2D, filters: 8, kernel_size: 3, padding: same, activation: relu}
  - {_target_: keras.layers.GlobalAveragePooling2D}
head: auto
loss: auto
"""


def _epochs(record: dict[str, Any], n_train: int) -> dict[str, Any]:
    epochs = record.get("epochs", [])
    whole = [e["end"] - e["begin"] for e in epochs]
    train = [(e.get("val_begin") or e["end"]) - e["begin"] for e in epochs]
    cpu = [e["cpu_end"] - e["cpu_begin"] for e in epochs if "cpu_end" in e]
    out: dict[str, Any] = {"epochs": len(epochs)}
    if whole:
        out["first_epoch_s"] = round(whole[0], 3)
    if len(whole) >= 2:
        out["steady_epoch_s"] = round(sum(whole[1:]) / len(whole[1:]), 3)
        out["steady_train_images_per_s"] = round(n_train * len(train[1:]) / sum(train[1:]), 1)
    if cpu:
        out["first_epoch_cpu_s"] = round(cpu[0], 3)
    if len(cpu) >= 2:
        out["steady_epoch_cpu_s"] = round(sum(cpu[1:]) / len(cpu[1:]), 3)
    return out


def measure(
    root: Path,
    px: int,
    n: int,
    work: Path,
    epochs: int,
    model: str,
    keep_cache: bool,
    baseline: bool = False,
    config_dir: Path | None = None,
) -> dict[str, Any]:
    here = work / f"px{px}_n{n}"
    if here.exists():
        shutil.rmtree(here)
    cache_dir = here / "cache"
    env = child_env()
    res: dict[str, Any] = {"px": px, "n": n}
    build_json = here / "build.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--stage", "build"]
    cmd += [
        "--root",
        str(root),
        "--px",
        str(px),
        "--cache",
        str(cache_dir),
        "--out",
        str(build_json),
    ]
    note(f"px={px} n={n}: scan + cache build")
    proc = run_sampled(cmd, here / "log_build.txt", env)
    res["build_process"] = proc
    if proc["rc"] != 0:
        return res
    res.update(json.loads(build_json.read_text()))
    res["build_peak_anon_mb"] = proc["peak_anon_mb"]
    if baseline:  # the same build the old way, in its own process (same files, scan cached)
        cmd[cmd.index("build")] = "old_build"
        cmd[cmd.index(str(build_json))] = str(here / "old_build.json")
        note(f"px={px} n={n}: baseline build (list + np.stack)")
        old = run_sampled(cmd, here / "log_old_build.txt", env)
        if old["rc"] == 0:
            res.update(json.loads((here / "old_build.json").read_text()))
            res["old_build_peak_anon_mb"] = old["peak_anon_mb"]
    entries = sorted(p.name for p in cache_dir.glob("images-*.npy"))
    timer = here / "timer.json"
    cmd = [
        *console("happysad-train"),
        *(["--config-dir", str(config_dir)] if config_dir else []),
        *_overrides(root, px, cache_dir),
        f"model={model}",
        "augment=none",
        "callbacks=none",
        "tracking=none",
        "insight.gradcam=false",
        "insight.report=false",
        f"trainer.epochs={epochs}",
        "trainer.verbose=2",
        f"paths.output_dir={here / 'outputs'}",
        f"hydra.run.dir={here / 'run'}",
        _timer_override(timer),
    ]
    note(f"px={px} n={n}: train {epochs} epochs")
    proc = run_sampled(cmd, here / "log_train.txt", env)
    res["train_process"] = proc
    res["train_peak_anon_mb"] = proc["peak_anon_mb"]
    res["train_peak_rss_mb"] = proc["peak_rss_mb"]
    res["train_reused_cache"] = sorted(p.name for p in cache_dir.glob("images-*.npy")) == entries
    with contextlib.suppress(OSError, ValueError):  # no timer file: the run failed early
        res.update(_epochs(json.loads(timer.read_text()), int(res["n_train"])))
    if not keep_cache:
        shutil.rmtree(cache_dir, ignore_errors=True)  # 50k at 224 px is 7 GB
    return res


def growth(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Smallest vs largest count per image side: time ratios against the count ratio."""
    out: dict[str, Any] = {}
    for px in sorted({r["px"] for r in runs}):
        ok = sorted(
            (r for r in runs if r["px"] == px and "steady_epoch_s" in r), key=lambda r: r["n"]
        )
        if len(ok) < 2:
            continue
        lo, hi = ok[0], ok[-1]
        k = hi["n"] / lo["n"]
        g: dict[str, Any] = {"from_n": lo["n"], "to_n": hi["n"], "images_ratio": round(k, 3)}
        for key in (
            "first_scan_s",
            "cached_rescan_s",
            "cache_build_s",
            "first_epoch_s",
            "steady_epoch_s",
            "first_epoch_cpu_s",
            "steady_epoch_cpu_s",
        ):
            if key not in hi or key not in lo:
                continue
            ratio = hi[key] / lo[key] if lo[key] else None
            g[f"{key}_ratio"] = round(ratio, 3) if ratio else None
            # 1.0 = grows exactly like the image count; the target is within 15 %.
            g[f"{key}_ratio_over_images_ratio"] = round(ratio / k, 3) if ratio else None
        for key in ("train_peak_anon_mb", "build_peak_anon_mb", "old_build_peak_anon_mb"):
            if key in hi and key in lo:
                g[f"{key}_growth"] = round(hi[key] - lo[key], 1)
        out[f"{px}px"] = g
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000,5000,20000,50000", help="image counts, comma-separated")
    p.add_argument("--pixels", default="64,224", help="image sides, comma-separated")
    p.add_argument(
        "--sizes-by-px",
        default=None,
        help="per side, e.g. '64:500,1000,2000;224:500,1000' (overrides --sizes/--pixels)",
    )
    p.add_argument("--epochs", type=int, default=3, help="epochs per training (first + steady)")
    p.add_argument("--model", default="tiny_cnn")
    p.add_argument(
        "--probe", action="store_true", help="train scale_probe (8x8 pooling first), not --model"
    )
    p.add_argument("--work", type=Path, default=None, help="work folder; the data is reused")
    p.add_argument("--keep-cache", action="store_true", help="keep each decode cache")
    p.add_argument(
        "--baseline",
        action="store_true",
        help="also build each cache the pre-streaming way (list + np.stack) for its peak memory",
    )
    p.add_argument("--stage", choices=["build", "old_build"], help=argparse.SUPPRESS)
    p.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--px", type=int, help=argparse.SUPPRESS)
    p.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.stage:
        {"build": build_stage, "old_build": old_build_stage}[a.stage](a.root, a.px, a.cache, a.out)
        return 0

    if a.sizes_by_px:
        plan = {
            int(px): [int(n) for n in ns.split(",")]
            for px, ns in (part.split(":") for part in a.sizes_by_px.split(";"))
        }
    else:
        sizes = [int(n) for n in a.sizes.split(",")]
        plan = {int(px): sizes for px in a.pixels.split(",")}
    load_start = loadavg()
    work = (a.work or Path(tempfile.gettempdir()) / "happysad-bench-scale").resolve()
    config_dir = None
    if a.probe:
        config_dir = work / "conf"
        (config_dir / "model").mkdir(parents=True, exist_ok=True)
        (config_dir / "model" / "scale_probe.yaml").write_text(PROBE_MODEL)
        a.model = "scale_probe"
    runs: list[dict[str, Any]] = []
    t_bench = time.time()
    for px, sizes in plan.items():
        master = work / "data" / f"px{px}" / "master"
        note(f"data: {max(sizes)} images of {px} px in {master} (reused when present)")
        t0 = time.perf_counter()
        make_master(master, max(sizes), px)
        gen_s = round(time.perf_counter() - t0, 2)
        for n in sorted(sizes):
            root = work / "data" / f"px{px}" / f"n{n}"
            link_subset(master, root, n)
            r = measure(
                root, px, n, work / "runs", a.epochs, a.model, a.keep_cache, a.baseline, config_dir
            )
            r["data_generation_s"] = gen_s
            runs.append(r)
            with (work / "runs.jsonl").open("a") as fh:  # partial results survive a kill
                fh.write(json.dumps(r) + "\n")
    failed = [
        (r["px"], r["n"])
        for r in runs
        if r.get("build_process", {}).get("rc") != 0 or r.get("train_process", {}).get("rc") != 0
    ]
    emit(
        {
            "bench": "scale",
            "command": " ".join(["scripts/bench_scale.py", *(argv or sys.argv[1:])]),
            "model": a.model,
            "epochs": a.epochs,
            "cache": "disk",
            "runs": runs,
            "growth": growth(runs),
            "failed": failed,
            "seconds": round(time.time() - t_bench, 1),
            "machine": machine(),
            "loadavg_start": load_start,
            "loadavg_end": loadavg(),
        }
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
