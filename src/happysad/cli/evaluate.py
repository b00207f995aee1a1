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

from happysad.cli import MODEL_HELP, model_command_start
from happysad.errors import (
    HappysadError,
    redact_text,
)
from happysad.serving.portable import RUNTIMES


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="happysad-eval", description="Evaluate a trained happysad model on a folder of images."
    )
    p.add_argument(
        "model",
        help=MODEL_HELP,
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
    p.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default="auto",
        help="auto: the model's portable ONNX copy when it has one (no TensorFlow), else Keras "
        "(and Keras with --out: its Grad-CAM figures need it); portable: ONNX or fail, no "
        "Grad-CAM figures; keras: always Keras (loads TensorFlow)",
    )
    p.add_argument(
        "--verbose", action="store_true", help="show TensorFlow's start-up log lines on stderr"
    )
    return p.parse_args(argv)


def run(args: argparse.Namespace) -> dict:
    """The evaluation behind the command line: `happysad.api.evaluate`."""
    from happysad import api

    return api.evaluate(
        args.model,
        args.data_root,
        threshold=args.threshold,
        batch_size=args.batch_size,
        out=args.out,
        tracking_uri=args.tracking_uri,
        runtime=args.runtime,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    refused = model_command_start(args.threshold, args.batch_size, args.verbose)
    if refused is not None:
        return refused
    from happysad.data.progress import log_to_stderr

    log_to_stderr()
    try:
        result = run(args)
    except HappysadError as err:
        print(f"error: {redact_text(str(err))}", file=sys.stderr)
        return err.exit_code
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"scan: {result['scan']}")
        print(f"metrics: {result['headline']} (threshold {result['threshold']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
