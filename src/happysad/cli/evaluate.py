"""`happysad-eval MODEL DATA_ROOT`: re-evaluate a saved model on a folder-per-class dataset.

The folder's class sub-folders must carry the model's class names (a subset is allowed);
bad files are skipped and counted exactly as in training. Prints the metrics as one line
(or JSON) and, with --out, writes the figures a training run draws of its evaluation
(confusion matrix, ROC/PR, samples, calibration, threshold, Grad-CAM, most-wrong examples;
no training curves), with the same code.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from happysad.errors import DataError, HappysadError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="happysad-eval", description="Evaluate a trained happysad model on a folder of images."
    )
    p.add_argument(
        "model", help="model folder, run dir, runs:/<id>/model or models:/<name>/<version>"
    )
    p.add_argument("data_root", help="folder with one sub-folder per class")
    p.add_argument(
        "--threshold", type=float, default=None, help="binary threshold (default: the model's)"
    )
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument(
        "--out", default=None, help="folder for metrics.json, plots and the cleaning report"
    )
    p.add_argument(
        "--tracking-uri", default=None, help="MLflow tracking URI for runs:/ and models:/"
    )
    return p.parse_args(argv)


def run(args: argparse.Namespace) -> dict:
    from happysad.data.loader import load_images
    from happysad.data.scan import scan_folder
    from happysad.evaluate import evaluate_predictions, format_metrics
    from happysad.paths import default_tracking_uri
    from happysad.serving.packaging import load_model

    loaded = load_model(args.model, tracking_uri=args.tracking_uri or default_tracking_uri())
    names = loaded.metadata.class_names
    folders = sorted(
        c.name for c in Path(args.data_root).iterdir() if c.is_dir() and not c.name.startswith(".")
    )
    present = [n for n in names if (Path(args.data_root) / n).is_dir()]
    unknown = [f for f in folders if f not in names]
    if not present:
        raise DataError(
            f"{args.data_root}: no sub-folder named after the model's classes ({', '.join(names)})"
        )
    scanned = scan_folder(args.data_root, class_names=present)
    # Labels must be the model's indices, not positions in the subset found on disk.
    index = {n: i for i, n in enumerate(names)}
    records = [r.__class__(**{**r.__dict__, "label": index[r.class_name]}) for r in scanned.records]
    if not records:
        raise DataError(f"{args.data_root}: no usable images ({scanned.summary()})")
    images, labels = load_images(records, loaded.metadata.preprocessing)
    probs = loaded.predict_arrays(images, batch_size=args.batch_size)
    threshold = loaded.metadata.threshold if args.threshold is None else args.threshold
    ev = evaluate_predictions(labels, probs, names, threshold, prefix="")
    result = {
        "model": args.model,
        "data_root": args.data_root,
        "scan": scanned.summary(),
        "threshold": threshold,
        "metrics": ev.metrics,
        "ignored_folders": unknown,
    }
    if args.out:
        from happysad.insight.artifacts import EvalFigures, draw_evaluation

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(result, indent=2))
        scanned.write_report(out / "cleaning_report.csv")
        draw_evaluation(
            EvalFigures(
                ev=ev,
                images=images,
                paths=[r.relpath for r in records],
                plot_dir=out,
                threshold=threshold,
                eval_split="evaluated",
                model=getattr(loaded, "model", None),
            )
        )
    result["headline"] = format_metrics(ev.metrics, prefix="")
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threshold is not None and not 0.0 < args.threshold < 1.0:
        print(
            f"error: --threshold={args.threshold}: must be strictly between 0 and 1",
            file=sys.stderr,
        )
        return 2
    root = Path(args.data_root)
    if not root.is_dir():
        print(f"error: {args.data_root}: not a folder", file=sys.stderr)
        return 3
    try:
        result = run(args)
    except HappysadError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"scan: {result['scan']}")
        print(f"metrics: {result['headline']} (threshold {result['threshold']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
