"""Training stability over seeds and independently made data sets: how fast, how steady.

For every variant (a list of happysad-train overrides), data set and seed, this trains with
the real CLI on a folder of faces and reads the run's history.csv. Per run it reports:

- ``epoch_095`` / ``seconds_095``: the first epoch whose val_accuracy reaches 0.95, and the
  fitting time up to its end (epoch count x the run's mean epoch time); null if never;
- ``max_drop``: after val_accuracy first passes 0.9, the largest fall below the best value
  seen so far (0.05 or less is "stable");
- ``best_val``, ``test_accuracy``, ``epochs``.

It prints one JSON line per run, then a Markdown table of means and spreads (min-max) per
variant and data set. Data sets are generated once under --out/data and reused:

- ``alt``: scripts/alt_faces.py, a generator that shares no code or geometry with the demo;
- ``pil``: scripts/pil_faces.py, a third one (Pillow emoji, doodles, avatars); ``alt13`` /
  ``pil5`` pick another generator seed;
- ``shifted``: the demo generator in the generalisation check's shifted style;
- ``demo``: the demo generator's own style (what `make train` trains on).

    .venv/bin/python scripts/stability.py --out outputs/stability --seeds 1 2 3 \\
        --datasets alt shifted --variant default= --variant lr3e-4="optimizer.lr=3e-4"
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def make_dataset(kind: str, out: Path, per_class: int, size: int) -> Path:
    """Generate (once) a face folder of one of the known kinds; return its root."""
    root = out / "data" / f"{kind}_n{per_class}_px{size}"
    if (root / ".ready").is_file():
        return root
    if kind.startswith("alt"):
        import alt_faces

        seed = int(kind[3:] or 11)
        alt_faces.generate(root, per_class=per_class, size=size, seed=seed)
    elif kind.startswith("pil"):
        import pil_faces

        pil_faces.generate(root, per_class=per_class, size=size, seed=int(kind[3:] or 21))
    else:
        from generalisation import SHIFTED_STYLE
        from happysad.data.demo import generate_demo_dataset

        style = SHIFTED_STYLE if kind == "shifted" else None
        generate_demo_dataset(
            root, per_class=per_class, image_size=size, seed=23, n_corrupt=0, style=style
        )
    (root / ".ready").write_text("ok")
    return root


def read_history(run_dir: Path) -> dict[str, list[float]]:
    with (run_dir / "history.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    keys = [k for k in rows[0] if k != "epoch"] if rows else []
    return {k: [float(r[k]) for r in rows if r.get(k)] for k in keys}


def summarise(hist: dict[str, list[float]], fit_seconds: float) -> dict:
    val = hist.get("val_accuracy", [])
    per_epoch = fit_seconds / max(len(val), 1)
    first = next((i + 1 for i, v in enumerate(val) if v >= 0.95), None)
    passed = next((i for i, v in enumerate(val) if v > 0.9), None)
    drop = 0.0
    if passed is not None:
        best = val[passed]
        for v in val[passed:]:
            best = max(best, v)
            drop = max(drop, best - v)
    return {
        "epoch_095": first,
        "seconds_095": round(first * per_epoch, 1) if first else None,
        "max_drop": round(drop, 4),
        "best_val": max(val) if val else None,
        "epochs": len(val),
        "val_curve": [round(v, 3) for v in val],
    }


def run_one(root: Path, overrides: list[str], seed: int, out: Path) -> dict:
    run_out = out / "runs"
    tag = f"{root.name}-s{seed}-{time.time_ns()}"
    run_dir = run_out / tag
    cmd = [
        str(Path(sys.executable).parent / "happysad-train"),
        "data=folder",
        f"data.root={root}",
        f"seed={seed}",
        f"paths.output_dir={run_out}",
        f"hydra.run.dir={run_dir}",
        "tracking=none",
        "insight.gradcam=false",
        "insight.report=false",
        "callbacks.tensorboard=null",
        "callbacks.model_checkpoint=null",
        "trainer.verbose=0",
        *overrides,
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-1:] or ["?"]}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    result = summarise(read_history(run_dir), float(metrics["fit_seconds"]))
    result["test_accuracy"] = metrics.get("test_accuracy")
    result["fit_seconds"] = round(float(metrics["fit_seconds"]), 1)
    return result


def _spread(values: list[float | None], fmt: str = "{:.3f}") -> str:
    got = [v for v in values if v is not None]
    if not got:
        return "never"
    text = fmt.format(statistics.mean(got))
    if len(got) > 1:
        text += f" ({fmt.format(min(got))}-{fmt.format(max(got))})"
    if len(got) < len(values):
        text += f" [{len(values) - len(got)} never]"
    return text


def table(results: list[dict]) -> str:
    lines = [
        "| variant | data | seeds | s to 0.95 | epoch to 0.95 | max drop after 0.9 "
        "| best val | test acc |",
        "|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in results:
        groups.setdefault((r["variant"], r["data"]), []).append(r)
    for (variant, data), rs in groups.items():
        ok = [r for r in rs if "error" not in r]
        lines.append(
            f"| {variant} | {data} | {len(ok)} | "
            f"{_spread([r['seconds_095'] for r in ok], '{:.0f}')} | "
            f"{_spread([r['epoch_095'] for r in ok], '{:.1f}')} | "
            f"{_spread([r['max_drop'] for r in ok])} | "
            f"{_spread([r['best_val'] for r in ok])} | "
            f"{_spread([r['test_accuracy'] for r in ok])} |"
        )
    return "\n".join(lines)


def plot_curves(results: list[dict], path: Path) -> None:
    """Validation accuracy per epoch, one panel per data set, one line per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = sorted({r["data"] for r in results})
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 3.6), squeeze=False)
    colours = {}
    for ax, data in zip(axes[0], datasets, strict=True):
        for r in (r for r in results if r["data"] == data and r.get("val_curve")):
            c = colours.setdefault(r["variant"], f"C{len(colours)}")
            xs = range(1, len(r["val_curve"]) + 1)
            ax.plot(xs, r["val_curve"], color=c, alpha=0.8, label=f"{r['variant']} s{r['seed']}")
        ax.axhline(0.95, color="0.5", linestyle=":", linewidth=1)
        ax.set(title=data, xlabel="epoch", ylabel="val accuracy", ylim=(0.45, 1.01))
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--datasets", nargs="+", default=["alt", "shifted"])
    ap.add_argument("--per-class", type=int, default=600)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument(
        "--variant",
        action="append",
        default=[],
        help='name=overrides, e.g. lr3e-4="optimizer.lr=3e-4" (repeatable; "default=" = none)',
    )
    ap.add_argument("--plot", type=Path, help="also draw the validation curves to this PNG")
    ap.add_argument(
        "--replot", type=Path, nargs="+", help="only draw --plot from earlier JSON-line logs"
    )
    args = ap.parse_args()
    if args.replot:
        lines = [ln for f in args.replot for ln in f.read_text().splitlines()]
        runs = [json.loads(ln) for ln in lines if ln.startswith("{")]
        plot_curves([r for r in runs if isinstance(r, dict) and "val_curve" in r], args.plot)
        return
    variants = [v.split("=", 1) for v in (args.variant or ["default="])]
    roots = {d: make_dataset(d, args.out, args.per_class, args.size) for d in args.datasets}
    results = []
    for name, overrides in variants:
        for data, root in roots.items():
            for seed in args.seeds:
                r = run_one(root, shlex.split(overrides), seed, args.out)
                r.update(variant=name, data=data, seed=seed, overrides=overrides)
                print(json.dumps(r), flush=True)
                results.append(r)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    print(table(results))
    if args.plot:
        plot_curves(results, args.plot)


if __name__ == "__main__":
    main()
