"""Make the built-in face prior (src/happysad/training/priors/) from a `make train`-style run.

The prior is the weights of `model=small_cnn` trained on the wide demo faces; `data=folder`
runs start from it (`model.init_from=auto`, src/happysad/training/prior.py). This script either
trains that run itself, with the real CLI, or takes the model of a run that already exists:

    .venv/bin/python scripts/make_prior.py                       # trains (about 10 min on 2 cores)
    .venv/bin/python scripts/make_prior.py --from-run outputs/runs/2026-11-30/12-00-00-000000

It rebuilds small_cnn from the current configs, copies the run's weights into it (so a run of
another architecture is refused with the shapes that differ), and writes <name>.npz and
<name>.json (classes, source run, its overrides and test metrics, git commit) to --out.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["data=demo", "model=small_cnn", "init=scratch", "trainer.verbose=2"]


def train_run(out: Path, seed: int) -> Path:
    cmd = [str(Path(sys.executable).parent / "happysad-train"), *TRAIN, f"seed={seed}"]
    cmd += [f"paths.output_dir={out}", "tracking.run_name=make-prior"]
    subprocess.run(cmd, check=True)
    return next(out.rglob("model/MLmodel")).parent.parent


def _overrides(run: Path) -> list[str] | None:
    import yaml

    path = run / ".hydra" / "overrides.yaml"
    return yaml.safe_load(path.read_text()) if path.is_file() else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--from-run", type=Path, help="a run dir holding model/ (default: train one)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--work", type=Path, default=ROOT / "outputs" / "prior")
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "happysad" / "training" / "priors")
    ap.add_argument("--name", default="faces_small_cnn")
    args = ap.parse_args(argv)

    from happysad.api import compose
    from happysad.config import validate
    from happysad.serving.packaging import load_model
    from happysad.training import model as model_lib
    from happysad.training.prior import save_prior

    run = args.from_run or train_run(args.work, args.seed)
    loaded = load_model(str(run))
    cfg = validate(compose(["model=small_cnn"]))
    names = list(loaded.metadata.class_names)
    shape = tuple(loaded.model.input_shape[1:])
    fresh = model_lib.build_model(cfg.model, shape, len(names))
    fresh.set_weights(loaded.model.get_weights())  # refuses another architecture
    metrics = json.loads((run / "metrics.json").read_text())
    resolved = (run / "config_resolved.yaml").read_text()
    git = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], text=True, capture_output=True
    ).stdout.strip()
    info = {
        "model": "small_cnn",
        "trained_input_shape": list(shape),
        "source_run": str(run),
        "source_overrides": _overrides(run),
        "data_root": next(
            (
                ln.split(":", 1)[1].strip()
                for ln in resolved.splitlines()
                if ln.strip().startswith("root:")
            ),
            None,
        ),
        "test_metrics": {k: v for k, v in metrics.items() if k.startswith("test_")},
        "git_commit": git,
        "made": time.strftime("%Y-%m-%d"),
    }
    path = save_prior(fresh, names, info, args.name, args.out)
    print(json.dumps({"prior": str(path), "bytes": path.stat().st_size, **info}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
