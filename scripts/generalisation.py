"""Generalisation check: train on the demo faces, evaluate on differently drawn faces.

For each variant (a list of happysad-train overrides) this trains one model with the real
CLI, then evaluates it on two fresh sets the training never saw:

- ``in_dist``: the demo generator with its default style and another seed (same distribution);
- ``shifted``: another seed *and* other style parameters (colours, face sizes, line widths,
  positions, noise, rotation; ``SHIFTED_STYLE`` below);
- ``alt``: faces from an independent generator (scripts/alt_faces.py) that shares no drawing
  code or geometry with the demo's, so the check cannot pass by memorising one routine;
- ``pil``: faces from a third generator (scripts/pil_faces.py: Pillow emoji, doodles and
  avatars), written after the demo's wide variety;
- ``subtle``: the demo's drawing with every mouth barely curved and no cues (the hard cases);
- ``sketch``: scripts/sketch_faces.py, written from a description of happy and sad faces
  without reading any other generator (used while choosing the version-3 defaults);
- ``blind``: scripts/blind_faces.py, written the same way *after* those defaults were frozen:
  report only, never to choose anything (its version-3 results were then seen);
- ``holdout``: scripts/holdout_faces.py, written the same way while the version-4 defaults
  were chosen and first run after they were frozen: report only;
- ``unseen``: scripts/unseen_faces.py, written the same way while the five-block small_cnn
  was chosen and first run after it was frozen: report only;
- ``fresh``: scripts/fresh_faces.py (ten styles, from watercolour portraits to cross-stitch),
  written the same way after the five-block defaults were frozen and first run on them:
  report only;
- ``outside``: scripts/outside_faces.py (twelve styles, from mosaics to snowmen and robots),
  written the same way while session 8 measured candidate defaults and first run after they
  were settled; a development set since session 11 looked at which of its faces fail;
- ``distant``: scripts/distant_faces.py (twelve styles, from stained glass and chalkboards to
  animals, carnival masks and LED signs), written the same way while session 9 measured
  mixed precision and first run after its defaults were frozen; a development set since
  session 11 looked at which of its faces fail;
- ``remote``: scripts/remote_faces.py (twelve styles, from denim embroidery and pool tiles
  under ripples to coins, road signs and thermal-camera images), written the same way in
  session 9 and first run in session 10, on the old and the new defaults, after the new ones
  were frozen (report only);
- ``yonder``: scripts/yonder_faces.py (twelve styles, from knitted wool, pizza and pebbles
  to circuit boards, blueprints, tattoos and X-ray negatives), written the same way in
  session 10 and first run in session 11, on the defaults and on the AdamW candidate after it
  was frozen (report only);
- ``farther``: scripts/farther_faces.py, written the same way in session 11 and not yet run
  on any model: the next change to the defaults is reported on it (report only).

Every set reports accuracy, per-class recall and ECE (and the ECE without the model's
temperature when it has one).

``--vary-data`` trains each seed on its own demo data set (``data.demo.seed`` = the seed), so
the spread covers independently made training sets, not only initialisations.

``--eval-only RUN_DIR... --ensemble K`` evaluates each K consecutive run dirs as one model: the
mean of their probabilities (what an ensemble of K seeds would answer; docs/generalisation.md,
session 11).

It prints a Markdown table (in-distribution accuracy, shifted accuracy, the gap) and writes
``results.json``. The gap, not the in-distribution score, is the number to improve.

    .venv/bin/python scripts/generalisation.py --out outputs/generalisation
    .venv/bin/python scripts/generalisation.py --out /tmp/g --variants baseline augment --seeds 1 2
    .venv/bin/python scripts/generalisation.py --out /tmp/g --tiny      # seconds: checks the mechanism
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SHIFTED_STYLE = {
    "palette": "alt",  # other skin / hair / background colours
    "scale_range": (0.35, 0.6),  # smaller faces (train: 0.55-0.85 of the side)
    "line_width_range": (0.01, 0.025),  # thinner strokes (train: 0.02-0.045)
    "offset_range": 0.2,  # off-centre (train: 0.08)
    "noise": 16.0,  # noisier (train: 8)
    "rotation_deg": 20.0,  # more tilted (train: 10)
    "variety": "classic",  # the version-1 drawing routine, only restyled
    "twins": False,  # independent faces, like every evaluation set
    "dotted": 0.0,
}

NO_AUGMENT = "augment=none"
VARIANTS: dict[str, list[str]] = {
    "baseline": [NO_AUGMENT],
    "augment": [],  # the default: augment=faces (conf/augment/faces.yaml)
    "augment_light": ["augment=light"],
    "augment_gray": ["+data.augment=[{_target_: keras.layers.RandomGrayscale, factor: 0.5}]"],
    "face_crop": [NO_AUGMENT, "data.face_crop=true"],
    "augment_face_crop": ["data.face_crop=true"],
    # Transfer presets, untrained here (no downloads): what their architecture alone gives.
    "mobilenet_v3_small": [
        "model=mobilenet_v3_small",
        "model.weights=null",
        "data.image_size=[96,96]",
    ],
    "efficientnet_b0": ["model=efficientnet_b0", "model.weights=null", "data.image_size=[96,96]"],
}

TINY = [
    "model=tiny_cnn",
    "data.image_size=[32,32]",
    "data.batch_size=16",
    "trainer.epochs=2",
    "callbacks=none",
    "data.demo.per_class=20",
    "data.demo.image_size=64",
]


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


SUBTLE_STYLE = {"cues": 0.0, "subtle": 1.0, "twins": False, "dotted": 0.0}  # all barely curved
# The demo-drawn evaluation sets hold independent faces, never twins (data.demo.twins), and
# no dotted mouths (data.demo.dotted): the same sets every session has measured on, whatever
# the training set's settings.
IN_DIST_STYLE = {"twins": False, "dotted": 0.0}
ALL_SETS = (
    "in_dist",
    "shifted",
    "subtle",
    "alt",
    "pil",
    "sketch",
    "blind",
    "holdout",
    "unseen",
    "fresh",
    "outside",
    "distant",
    "remote",
    "yonder",
    "farther",
)
# Sets kept unseen for the next change to the defaults: evaluated only when named in --sets.
RESERVED_SETS = ("farther",)


def make_sets(
    out: Path, per_class: int, image_size: int, seed: int, names: tuple[str, ...] = ALL_SETS
) -> dict[str, Path]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import alt_faces
    import pil_faces
    from happysad.data.demo import ensure_demo_dataset

    common = {"per_class": per_class, "image_size": image_size, "n_corrupt": 0}
    makers = {
        "in_dist": lambda p: ensure_demo_dataset(p, seed=seed, style=IN_DIST_STYLE, **common),
        "shifted": lambda p: ensure_demo_dataset(p, seed=seed + 1, style=SHIFTED_STYLE, **common),
        "subtle": lambda p: ensure_demo_dataset(p, seed=seed + 4, style=SUBTLE_STYLE, **common),
        "alt": lambda p: alt_faces.generate(p, per_class, image_size, seed=seed + 2),
        "pil": lambda p: pil_faces.generate(p, per_class, image_size, seed=seed + 3),
    }
    try:
        import blind_faces  # held out: written after the version-3 defaults were frozen
        import distant_faces  # first run after session 9's defaults were frozen; development
        import farther_faces  # held out: not yet run on any model (kept for the next change)
        import fresh_faces  # held out: written after the five-block defaults were frozen
        import holdout_faces  # held out: first run after the version-4 defaults were frozen
        import outside_faces  # first run after session 8's defaults were settled; development
        import remote_faces  # held out: first run after session 10's defaults were frozen
        import sketch_faces
        import unseen_faces  # held out: first run after the five-block model was frozen
        import yonder_faces  # held out: first run in session 11 (defaults, AdamW candidate)

        makers["sketch"] = lambda p: sketch_faces.generate(p, per_class, image_size, seed + 5)
        makers["blind"] = lambda p: blind_faces.generate(p, per_class, image_size, seed + 6)
        makers["holdout"] = lambda p: holdout_faces.generate(p, per_class, image_size, seed + 7)
        makers["unseen"] = lambda p: unseen_faces.generate(p, per_class, image_size, seed + 8)
        makers["fresh"] = lambda p: fresh_faces.generate(p, per_class, image_size, seed + 9)
        makers["outside"] = lambda p: outside_faces.generate(p, per_class, image_size, seed + 10)
        makers["distant"] = lambda p: distant_faces.generate(p, per_class, image_size, seed + 11)
        makers["remote"] = lambda p: remote_faces.generate(p, per_class, image_size, seed + 12)
        makers["yonder"] = lambda p: yonder_faces.generate(p, per_class, image_size, seed + 13)
        makers["farther"] = lambda p: farther_faces.generate(p, per_class, image_size, seed + 14)
    except ImportError:
        pass
    return {n: makers[n](out / "sets" / n) for n in names if n in makers}


def train_variant(out: Path, name: str, overrides: list[str], seed: int) -> Path:
    """Train with the real CLI; return the run dir."""
    run_root = out / "runs" / f"{name}_seed{seed}"
    cmd = [
        _bin("happysad-train"),
        f"paths.output_dir={run_root}",
        f"paths.demo_dir={out / 'demo_data'}",  # one training set for every variant
        f"seed={seed}",
        "trainer.verbose=2",
        f"tracking.run_name=generalisation-{name}-seed{seed}",
        *overrides,
    ]
    t0 = time.time()
    res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})
    if res.returncode != 0:
        sys.stderr.write(res.stdout[-3000:] + res.stderr[-5000:])
        raise SystemExit(f"training {name} failed (exit {res.returncode})")
    print(f"trained {name} seed {seed} in {time.time() - t0:.0f} s", file=sys.stderr)
    newest = max(run_root.rglob("model/MLmodel"), key=lambda p: p.stat().st_mtime)
    return newest.parent.parent  # this run's, when an earlier one trained into the same --out


def evaluate(run_dir: Path | list[Path], sets: dict[str, Path]) -> dict[str, float]:
    """Every set's accuracy, AUC, ECE and per-class recall for one run dir, or for an
    ensemble of run dirs (`--ensemble K`): the mean of the members' probabilities (each with
    its own calibration), thresholded like the first member. Members must share class names
    and preprocessing."""
    import numpy as np

    from happysad.data.loader import load_images
    from happysad.data.scan import scan_folder
    from happysad.evaluate import evaluate_predictions
    from happysad.serving.packaging import load_model

    dirs = [Path(d) for d in run_dir] if isinstance(run_dir, list) else [Path(run_dir)]
    models = [load_model(str(d)) for d in dirs]
    loaded = models[0]
    names = loaded.metadata.class_names
    for d, m in zip(dirs[1:], models[1:], strict=True):
        if (m.metadata.class_names, m.metadata.preprocessing) != (
            names,
            loaded.metadata.preprocessing,
        ):
            raise SystemExit(f"--ensemble: {d} has other classes or preprocessing than {dirs[0]}")
    out: dict[str, float] = {}
    for key, root in sets.items():
        scanned = scan_folder(root, class_names=names)
        x, y = load_images(scanned.records, loaded.metadata.preprocessing)
        probs = np.mean([m.predict_arrays(x) for m in models], axis=0)
        ev = evaluate_predictions(y, probs, names, loaded.metadata.threshold, prefix="")
        if len(models) == 1 and loaded.metadata.calibration:  # ECE without the temperature
            saved, loaded.metadata.calibration = loaded.metadata.calibration, None
            raw = loaded.predict_arrays(x)
            loaded.metadata.calibration = saved
            raw_ev = evaluate_predictions(y, raw, names, loaded.metadata.threshold, prefix="")
            out[f"{key}_ece_raw"] = raw_ev.metrics["ece"]
        out[f"{key}_accuracy"] = ev.metrics["accuracy"]
        out[f"{key}_roc_auc"] = ev.metrics.get("roc_auc", float("nan"))
        out[f"{key}_ece"] = ev.metrics.get("ece", float("nan"))
        for name in names:
            out[f"{key}_recall_{name}"] = ev.metrics[f"recall_{name}"]
        out[f"{key}_n"] = ev.metrics["n_images"]
    runs = [json.loads((d / "metrics.json").read_text()) for d in dirs]
    if len(runs) > 1:  # the members' own test splits differ: their mean, and the total fit
        out["members"] = len(runs)
        out["test_accuracy"] = float(np.mean([m["test_accuracy"] for m in runs]))
        out["epochs_run"] = round(float(np.mean([m["epochs_run"] for m in runs])), 1)
        out["fit_seconds"] = float(sum(m["fit_seconds"] for m in runs))
        return out
    metrics = runs[0]
    out["test_accuracy"] = metrics["test_accuracy"]
    out["epochs_run"] = metrics["epochs_run"]
    out["fit_seconds"] = metrics["fit_seconds"]
    for k in ("test_ece", "final_epoch", "calibration_temperature"):
        if k in metrics:
            out[k] = metrics[k]
    return out


def _recalls(r: dict, key: str) -> str:
    rec = [v for k, v in r.items() if k.startswith(f"{key}_recall_")]
    return "/".join(f"{v:.2f}" for v in rec)


def table(results: list[dict]) -> str:
    """Per run: accuracy (and per-class recall, class order) on every set; then per variant:
    mean (min-max) over the seeds."""
    keys = [k for k in ALL_SETS if any(f"{k}_accuracy" in r for r in results)]
    lines = [
        "| variant | seed | test (split) | " + " | ".join(keys) + " | epochs | fit s |",
        "|---|---|---|" + "---|" * len(keys) + "---|---|",
    ]
    for r in results:
        cells = [
            f"{r[f'{k}_accuracy']:.3f} ({_recalls(r, k)})" if f"{k}_accuracy" in r else "-"
            for k in keys
        ]
        lines.append(
            f"| {r['variant']} | {r['seed']} | {r['test_accuracy']:.3f} | "
            + " | ".join(cells)
            + f" | {r['epochs_run']} | {r['fit_seconds']:.0f} |"
        )
    by_variant: dict[str, list[dict]] = {}
    for r in results:
        by_variant.setdefault(r["variant"], []).append(r)
    lines += ["", "| variant | seeds | " + " | ".join(keys) + " | fit s |"]
    lines.append("|---|---|" + "---|" * len(keys) + "---|")
    for name, rs in by_variant.items():
        cells = []
        for key in [f"{k}_accuracy" for k in keys] + ["fit_seconds"]:
            v = [r[key] for r in rs if key in r]
            if not v:
                cells.append("-")
                continue
            cell = f"{sum(v) / len(v):.3f}" if key != "fit_seconds" else f"{sum(v) / len(v):.0f}"
            if len(v) > 1:
                cell += f" ({min(v):.3f}-{max(v):.3f})" if key != "fit_seconds" else ""
            cells.append(cell)
        lines.append(f"| {name} | {len(rs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="folder for the sets, runs and results.json")
    p.add_argument("--variants", nargs="+", default=["baseline", "augment"], choices=VARIANTS)
    p.add_argument("--seeds", nargs="+", type=int, default=[42])
    p.add_argument("--eval-only", nargs="+", default=[], help="run dirs to evaluate, no training")
    p.add_argument(
        "--ensemble",
        type=int,
        default=1,
        help="with --eval-only: average the probabilities of each K consecutive run dirs",
    )
    p.add_argument("--per-class", type=int, default=200, help="images per class in each eval set")
    p.add_argument("--set-seed", type=int, default=1000, help="generator seed of the eval sets")
    p.add_argument("--tiny", action="store_true", help="tiny model and data: checks the mechanism")
    p.add_argument(
        "--vary-data", action="store_true", help="each seed trains on its own demo data set"
    )
    p.add_argument(
        "--sets",
        nargs="+",
        default=[s for s in ALL_SETS if s not in RESERVED_SETS],
        choices=ALL_SETS,
        help=f"default: all but {', '.join(RESERVED_SETS)} (report only; name it to run it)",
    )
    p.add_argument("--name", help="label the runs with this name instead of the variant's")
    p.add_argument("overrides", nargs="*", help="extra happysad-train overrides for every variant")
    args = p.parse_args(argv)
    if args.ensemble != 1 and (args.ensemble < 1 or len(args.eval_only) % args.ensemble):
        p.error(
            f"--ensemble {args.ensemble}: needs --eval-only with a multiple of "
            f"{args.ensemble} run dirs (got {len(args.eval_only)})"
        )
    out = Path(args.out).resolve()
    per_class = 10 if args.tiny else args.per_class
    sets = make_sets(out, per_class, 64 if args.tiny else 128, args.set_seed, tuple(args.sets))
    extra = (TINY if args.tiny else ["callbacks.tensorboard=null"]) + list(args.overrides)
    saved = out / "results.json"  # runs of earlier invocations into the same --out are kept
    results = json.loads(saved.read_text()) if saved.exists() else []
    k = args.ensemble
    groups = [args.eval_only[i : i + k] for i in range(0, len(args.eval_only), k)]
    for i, group in enumerate(groups):  # a run evaluated before gets the new sets added
        run = " + ".join(group)  # an ensemble's members, in order
        same = [r for r in results if Path(r["run_dir"]) == Path(run)]
        entry = same[0] if same else {"variant": args.name or "eval", "seed": i, "run_dir": run}
        entry.update(evaluate([Path(d) for d in group], sets))
        results += [] if same else [entry]
        saved.write_text(json.dumps(results, indent=2))
    for name in args.variants if not args.eval_only else []:
        for seed in args.seeds:
            data = [f"data.demo.seed={seed}"] if args.vary_data else []
            label = args.name or name
            run_dir = train_variant(out, label, [*extra, *VARIANTS[name], *data], seed)
            r = {"variant": label, "seed": seed, "run_dir": str(run_dir), **evaluate(run_dir, sets)}
            results = [o for o in results if (o["variant"], o["seed"]) != (label, seed)] + [r]
            (out / "results.json").write_text(json.dumps(results, indent=2))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
