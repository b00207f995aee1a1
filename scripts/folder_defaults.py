"""Which start fits which folder: the folder defaults on a set that is not faces, and the face
preset against them on faces.

- **digits**: scikit-learn's bundled handwritten digits (1,797 8x8 images, 10 classes, shipped
  with the package: nothing is downloaded), upscaled to 64 px RGB PNGs. Arms: ``data=folder``
  (the default: random weights, full rate) and ``data=folder init=prior`` (the built-in face
  prior at 0.3 x the rate, the folder default before).
- **faces**: a folder of faces from an independent generator (scripts/sketch_faces.py, else
  scripts/alt_faces.py; ``--per-class`` per class), plus a held-out set of the same generator
  and one of the other. Arms: ``data=faces`` (face crop, face prior, face augmentation) and
  ``data=folder``.

Each arm trains once per seed with the real CLI; the run's own test split and the held-out
sets are evaluated. Prints one JSON line per run, then a Markdown table (mean and min-max over
the seeds) and writes results.json.

    .venv/bin/python scripts/folder_defaults.py --out outputs/folder_defaults --seeds 1 2 3
    .venv/bin/python scripts/folder_defaults.py --out /tmp/f --tiny      # seconds: the mechanism
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import alt_faces  # noqa: E402
from generalisation import evaluate, train_variant  # noqa: E402

TINY = ["model=tiny_cnn", "data.image_size=[32,32]", "trainer.epochs=2", "callbacks=none"]
ARMS = {
    "digits": {
        "folder (default)": ["data=folder"],
        "folder init=prior": ["data=folder", "init=prior"],
    },
    "faces": {"faces preset": ["data=faces"], "folder (default)": ["data=folder"]},
}


def make_digits(out: Path, size: int = 64) -> Path:
    """scikit-learn's digits as one folder per class of RGB PNGs (written once)."""
    import cv2
    import numpy as np
    from sklearn.datasets import load_digits

    marker = out / "DIGITS.json"
    if marker.exists():
        return out
    if out.exists() and any(out.iterdir()):  # never write over what is there
        raise FileExistsError(f"{out} is not empty and holds no digits set of this script")
    digits = load_digits()
    for i, (img, label) in enumerate(zip(digits.images, digits.target, strict=True)):
        grey = np.clip(img * (255.0 / 16.0), 0, 255).astype(np.uint8)
        big = cv2.resize(grey, (size, size), interpolation=cv2.INTER_CUBIC)
        folder = out / f"digit_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{i:04d}.png"), cv2.cvtColor(big, cv2.COLOR_GRAY2BGR))
    marker.write_text(json.dumps({"n": len(digits.images), "size": size}))
    return out


def face_generators():
    try:
        import sketch_faces

        return "sketch", sketch_faces.generate, "alt", alt_faces.generate
    except ImportError:
        return "alt", alt_faces.generate, None, None


def _mean(values: list[float]) -> str:
    if not values:
        return "-"
    text = f"{statistics.mean(values):.3f}"
    return text + (f" ({min(values):.3f}-{max(values):.3f})" if len(values) > 1 else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--per-class", type=int, default=600, help="face folder size, per class")
    ap.add_argument("--eval-per-class", type=int, default=200)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--tasks", nargs="+", default=list(ARMS), choices=list(ARMS))
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("overrides", nargs="*", help="extra happysad-train overrides for every run")
    args = ap.parse_args(argv)
    out = args.out.resolve()
    per_class = 12 if args.tiny else args.per_class
    eval_n = 10 if args.tiny else args.eval_per_class
    extra = (TINY if args.tiny else ["callbacks.tensorboard=null"]) + list(args.overrides)

    name, gen, other_name, other_gen = face_generators()
    roots = {}
    sets: dict[str, dict[str, Path]] = {"digits": {}, "faces": {}}
    if "digits" in args.tasks:
        roots["digits"] = make_digits(out / "sets" / "digits")
    if "faces" in args.tasks:
        roots["faces"] = gen(out / "sets" / f"{name}_train", per_class, 128, 101)
        sets["faces"][name] = gen(out / "sets" / f"{name}_eval", eval_n, 128, 202)
        if other_gen is not None:
            sets["faces"][other_name] = other_gen(
                out / "sets" / f"{other_name}_eval", eval_n, 128, 303
            )

    saved = out / "results.json"
    results = json.loads(saved.read_text()) if saved.exists() else []
    for task in args.tasks:
        for arm, overrides in ARMS[task].items():
            for seed in args.seeds:
                label = f"{task}-{arm.split()[0]}-{'prior' if 'init=prior' in arm else 'default'}"
                cmd = [*extra, *overrides, f"data.root={roots[task]}"]
                run_dir = train_variant(out, label, cmd, seed)
                r = {"task": task, "arm": arm, "seed": seed, "run_dir": str(run_dir)}
                r.update(evaluate(run_dir, sets[task]))
                print(json.dumps(r), flush=True)
                results = [
                    o for o in results if (o["task"], o["arm"], o["seed"]) != (task, arm, seed)
                ] + [r]
                saved.write_text(json.dumps(results, indent=2))

    lines = ["| task | arm | seeds | test (split) | held-out sets | epochs | fit s |"]
    lines.append("|---|---|---|---|---|---|---|")
    for task in ARMS:
        for arm in ARMS[task]:
            rs = [r for r in results if r["task"] == task and r["arm"] == arm]
            if not rs:
                continue
            held = sorted(
                {k[: -len("_accuracy")] for r in rs for k in r if k.endswith("_accuracy")}
                - {"test"}
            )
            cells = ", ".join(f"{h} {_mean([r[f'{h}_accuracy'] for r in rs])}" for h in held)
            lines.append(
                f"| {task} | {arm} | {len(rs)} | {_mean([r['test_accuracy'] for r in rs])} | "
                f"{cells or '-'} | {statistics.mean(r['epochs_run'] for r in rs):.1f} | "
                f"{statistics.mean(r['fit_seconds'] for r in rs):.0f} |"
            )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
