"""Mixed-precision benchmark: `happysad-train` fitting time per `trainer.mixed_precision`.

Each setting trains the same config (default: the demo, `make train`'s job) in its own child
process, interleaved (A B A B ...) so that a change in the machine's load hits every setting
alike. Reported per setting: the `fit_seconds` of each run (the run's own figure: Keras `fit`,
validation included, no start-up or evaluation), their median, the test accuracy, and the
ratio of medians to the first setting (the baseline, float32 by default). The CPU's bfloat16
flags are printed too: where they are missing, bfloat16 is emulated and slower.

Usage: python scripts/bench_precision.py [--settings false bfloat16] [--repeats 2]
                                         [--work DIR] [overrides ...]
Prints one JSON line on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import console, loadavg, machine, note, run_child


def _cpu_bf16() -> bool:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from happysad.training.precision import cpu_has_bf16

    return cpu_has_bf16()


def _run(setting: str, i: int, work: Path, overrides: list[str]) -> dict[str, Any]:
    run_dir = work / "runs" / f"{setting}-{i}"
    cmd = [
        *console("happysad-train"),
        f"trainer.mixed_precision={setting}",
        *overrides,
        f"paths.output_dir={work / 'outputs'}",
        f"hydra.run.dir={run_dir}",
        "trainer.verbose=0",
        "tracking=none",
    ]
    note(f"({setting} #{i + 1}) {' '.join(cmd[1:])}")
    proc = run_child(cmd, work / f"log_{setting}-{i}.txt")
    if proc["rc"] != 0:
        raise SystemExit(f"happysad-train failed ({setting}):\n{proc.get('log_tail', '')}")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {
        "fit_seconds": round(float(metrics["fit_seconds"]), 2),
        "test_accuracy": metrics.get("test_accuracy"),
        "loadavg_start": proc["loadavg_start"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--settings", nargs="+", default=["false", "bfloat16"])
    p.add_argument("--repeats", type=int, default=2, help="runs per setting, interleaved")
    p.add_argument("--work", type=Path, help="scratch folder (default: a temp dir, removed)")
    p.add_argument("overrides", nargs="*", help="happysad-train overrides for every run")
    args = p.parse_args(argv)
    if args.repeats < 1:
        p.error("--repeats must be >= 1")

    work = args.work or Path(tempfile.mkdtemp(prefix="bench_precision-"))
    work.mkdir(parents=True, exist_ok=True)
    load_start = loadavg()
    runs: dict[str, list[dict[str, Any]]] = {s: [] for s in args.settings}
    try:
        for i in range(args.repeats):
            for setting in args.settings:
                runs[setting].append(_run(setting, i, work, list(args.overrides)))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)

    base = statistics.median(r["fit_seconds"] for r in runs[args.settings[0]])
    settings = {}
    for setting, rs in runs.items():
        med = statistics.median(r["fit_seconds"] for r in rs)
        settings[setting] = {
            "fit_seconds": [r["fit_seconds"] for r in rs],
            "fit_seconds_median": round(med, 2),
            "fit_ratio_to_baseline": round(med / base, 3) if base else None,
            "test_accuracy": [r["test_accuracy"] for r in rs],
        }
    print(
        json.dumps(
            {
                "bench": "precision",
                "baseline": args.settings[0],
                "overrides": list(args.overrides),
                "repeats": args.repeats,
                "cpu_bf16": _cpu_bf16(),
                "settings": settings,
                "machine": machine(),
                "loadavg_start": load_start,
                "loadavg_end": loadavg(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
