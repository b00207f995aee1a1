"""Warm start vs training from scratch, on a small set of differently drawn faces.

1. Pretrain once with the default config on the demo faces (or reuse --pretrained).
2. For each seed, train twice on a small folder of faces from the independent generator
   (scripts/alt_faces.py, --per-class images per class): from scratch, and warm-started
   with ``model.init_from=<the pretrained run>``.
3. Evaluate both on held-out sets nobody trained on: more faces from the independent
   generator (another seed) and the demo generator in the shifted style.

Prints one JSON line per run, then a Markdown table (mean and min-max over seeds).

    .venv/bin/python scripts/warm_start.py --out outputs/warm_start --seeds 1 2 3
    .venv/bin/python scripts/warm_start.py --out /tmp/w --tiny     # seconds: the mechanism
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import alt_faces  # noqa: E402
from generalisation import SHIFTED_STYLE, evaluate  # noqa: E402

TINY = ["model=tiny_cnn", "data.image_size=[32,32]", "trainer.epochs=2", "callbacks=none"]


def _train(out: Path, name: str, overrides: list[str]) -> Path:
    run_root = out / "runs" / name
    cmd = [
        str(Path(sys.executable).parent / "happysad-train"),
        f"paths.output_dir={run_root}",
        "trainer.verbose=0",
        f"tracking.run_name=warm-start-{name}",
        *overrides,
    ]
    t0 = time.time()
    res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})
    if res.returncode != 0:
        sys.stderr.write(res.stderr[-4000:])
        raise SystemExit(f"training {name} failed (exit {res.returncode})")
    print(f"trained {name} in {time.time() - t0:.0f} s", file=sys.stderr)
    return next(run_root.rglob("model/MLmodel")).parent.parent


def _mean(values: list[float]) -> str:
    text = f"{statistics.mean(values):.3f}"
    return text + (f" ({min(values):.3f}-{max(values):.3f})" if len(values) > 1 else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--pretrained", type=Path, help="a run dir to start from (else trained here)")
    ap.add_argument("--per-class", type=int, default=50, help="small training set, per class")
    ap.add_argument("--eval-per-class", type=int, default=200)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--tiny", action="store_true")
    args = ap.parse_args()
    out = args.out.resolve()
    size = 64 if args.tiny else 128
    per_class = 12 if args.tiny else args.per_class
    eval_n = 10 if args.tiny else args.eval_per_class
    extra = TINY if args.tiny else ["callbacks.tensorboard=null"]

    from happysad.data.demo import ensure_demo_dataset

    small = alt_faces.generate(out / "sets" / "small", per_class, size, seed=101)
    sets = {
        "alt": alt_faces.generate(out / "sets" / "alt_eval", eval_n, size, seed=202),
        "shifted": ensure_demo_dataset(
            out / "sets" / "shifted",
            per_class=eval_n,
            image_size=size,
            seed=303,
            n_corrupt=0,
            style=SHIFTED_STYLE,
        ),
    }
    demo_extra = ["data.demo.per_class=20", "data.demo.image_size=64"] if args.tiny else []
    pretrained = args.pretrained or _train(out, "pretrained", [*extra, *demo_extra])
    results = []
    for seed in args.seeds:
        common = ["data=folder", f"data.root={small}", f"seed={seed}", *extra]
        for method, more in (
            ("scratch", ["init=scratch"]),  # folders otherwise start from the built-in prior
            ("warm_start", [f"model.init_from={pretrained}"]),
        ):
            run_dir = _train(out, f"{method}_seed{seed}", [*common, *more])
            r = {"method": method, "seed": seed, "run_dir": str(run_dir), **evaluate(run_dir, sets)}
            print(json.dumps(r), flush=True)
            results.append(r)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    lines = [
        f"| method | seeds | alt faces ({eval_n}/class) | shifted demo ({eval_n}/class) | fit s |",
        "|---|---|---|---|---|",
    ]
    for method in ("scratch", "warm_start"):
        rs = [r for r in results if r["method"] == method]
        lines.append(
            f"| {method} | {len(rs)} | {_mean([r['alt_accuracy'] for r in rs])} | "
            f"{_mean([r['shifted_accuracy'] for r in rs])} | "
            f"{statistics.mean(r['fit_seconds'] for r in rs):.0f} |"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
