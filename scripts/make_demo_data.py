"""Generate the synthetic happy/sad demo dataset into a new folder.

Usage: python scripts/make_demo_data.py --out data/demo [--per-class N] [--image-size PX]
       [--seed S] [--n-corrupt K] [--style '{"palette": "alt"}']

Every size defaults to the config's `data.demo.*` (the schema, happysad.config.DemoConf),
i.e. the set `happysad-train` generates by default; `--help` prints the values.
Refuses a non-empty --out (exit 2) rather than mixing with or deleting existing files.
Prints a one-line JSON summary on success.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

try:
    from happysad.config import DemoConf
    from happysad.data.demo import generate_demo_dataset
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from happysad.config import DemoConf
    from happysad.data.demo import generate_demo_dataset


def parser() -> argparse.ArgumentParser:
    """The command line; every default is data.demo.* from the config schema."""
    demo = DemoConf()
    p = argparse.ArgumentParser(description="Generate the synthetic happy/sad demo dataset.")
    p.add_argument("--out", required=True, type=Path, help="new (or empty) output folder")
    p.add_argument(
        "--per-class",
        type=int,
        default=demo.per_class,
        help="images per class (default: data.demo.per_class=%(default)s)",
    )
    p.add_argument(
        "--image-size",
        type=int,
        default=demo.image_size,
        help="square side in px (default: data.demo.image_size=%(default)s)",
    )
    p.add_argument("--seed", type=int, default=demo.seed, help="random seed (default: %(default)s)")
    p.add_argument(
        "--n-corrupt",
        type=int,
        default=demo.n_corrupt,
        help="bad files to plant (default: %(default)s)",
    )
    p.add_argument("--style", default=None, help='JSON style dict, e.g. \'{"palette": "alt"}\'')
    return p


def main(argv: list[str] | None = None) -> int:
    a = parser().parse_args(argv)

    if a.out.exists() and (not a.out.is_dir() or any(a.out.iterdir())):
        print(
            f"error: {a.out} already exists and is not empty; choose another --out", file=sys.stderr
        )
        return 2
    try:
        style = json.loads(a.style) if a.style else None
        if style is not None and not isinstance(style, dict):
            raise ValueError("--style must be a JSON object")
        t0 = time.perf_counter()
        info = generate_demo_dataset(
            a.out,
            per_class=a.per_class,
            image_size=a.image_size,
            seed=a.seed,
            n_corrupt=a.n_corrupt,
            style=style,
        )
    except (ValueError, FileExistsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    summary = {
        "out": str(a.out),
        "counts": info["counts"],
        "args": info["args"],
        "seconds": round(time.perf_counter() - t0, 2),
    }
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
