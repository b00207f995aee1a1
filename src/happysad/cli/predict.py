"""`happysad-predict MODEL INPUT...`: print `path<TAB>class<TAB>probability` per image.

MODEL is a local model folder (e.g. outputs/runs/<date>/<time>/model, or the run dir),
`runs:/<run_id>/model`, `models:/<name>/<version>` or `models:/<name>@<alias>`. INPUT is files,
folders or globs.
With `--explain DIR`, a Grad-CAM picture per image is written to DIR and its path is added as
a fourth column (or an "explanation" key with --json).
The model's portable ONNX copy answers when it has one (`--runtime auto`): no TensorFlow,
Keras, Hydra or MLflow import for a local model folder. `--runtime keras` and `--explain`
load the Keras model (TensorFlow).
Exit status: 0 all predicted, 1 some inputs failed (the rest are still printed), 2 usage,
4 the model cannot be loaded.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from happysad.cli import MODEL_HELP, model_command_start
from happysad.errors import (
    HappysadError,
    redact_text,
)
from happysad.serving.portable import RUNTIMES


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="happysad-predict",
        description="Predict class names with probabilities for images, using a trained happysad model.",
    )
    p.add_argument(
        "model",
        help=MODEL_HELP,
    )
    p.add_argument("inputs", nargs="+", help="image files, folders, or glob patterns")
    p.add_argument("--json", action="store_true", help="print one JSON object per line instead")
    p.add_argument("--recursive", action="store_true", help="descend into sub-folders of folders")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="binary decision threshold (default: the one saved with the model)",
    )
    p.add_argument(
        "--tracking-uri",
        default=None,
        help="MLflow tracking URI for runs:/ and models:/ (default: $MLFLOW_TRACKING_URI "
        "or the project's outputs/mlflow.db)",
    )
    p.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default="auto",
        help="auto: the model's portable ONNX copy when it has one (no TensorFlow; fast), "
        "else Keras; portable: ONNX or fail; keras: always Keras (loads TensorFlow)",
    )
    p.add_argument(
        "--explain",
        metavar="DIR",
        default=None,
        help="write a Grad-CAM heatmap overlay per image into DIR (<name>.gradcam.png); "
        "needs the Keras model, so it loads TensorFlow (slower start)",
    )
    p.add_argument(
        "--explain-layer",
        default=None,
        help="layer for --explain (default: the last conv block with a map >= 6 cells across)",
    )
    p.add_argument(
        "--verbose", action="store_true", help="show TensorFlow's start-up log lines on stderr"
    )
    p.add_argument(
        "--unsafe",
        action="store_true",
        help="allow models with Lambda layers (runs arbitrary code: trusted models only)",
    )
    return p.parse_args(argv)


def _names_as_bytes(stream: Any) -> None:
    """A path from a file name that is not UTF-8 goes out as its own bytes (as `ls` writes it
    into a pipe, so it can be used again), not as a UnicodeEncodeError that loses every row
    after it on a strict UTF-8 stdout."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="surrogateescape")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    refused = model_command_start(args.threshold, args.batch_size, args.verbose)
    if refused is not None:
        return refused
    _names_as_bytes(sys.stdout)
    if args.explain and args.runtime == "portable":
        print(
            "error: --explain: Grad-CAM needs the Keras model; drop --runtime portable",
            file=sys.stderr,
        )
        return 2
    from happysad import api
    from happysad.data.progress import log_to_stderr

    log_to_stderr()  # a big folder shows progress on stderr; results stay alone on stdout
    runtime = "keras" if args.explain else args.runtime  # Grad-CAM differentiates the model
    try:
        loaded = api.load(
            args.model, tracking_uri=args.tracking_uri, safe_mode=not args.unsafe, runtime=runtime
        )
        predictions = api.predict(
            loaded,
            args.inputs,
            recursive=args.recursive,
            batch_size=args.batch_size,
            threshold=args.threshold,
        )
    except HappysadError as err:
        print(f"error: {redact_text(str(err))}", file=sys.stderr)
        return err.exit_code
    explained: dict[str, str] = {}
    if args.explain:
        from happysad.insight.explain import explain_files
        from happysad.insight.gradcam import GradCamError

        try:
            explained = explain_files(
                loaded, predictions, args.explain, args.explain_layer, batch_size=args.batch_size
            )
        except GradCamError as err:
            print(f"error: --explain: {err}", file=sys.stderr)
            return 2
    for r in predictions:
        if args.json:
            row = r.to_dict()
            if r.path in explained:
                row["explanation"] = explained[r.path]
            print(json.dumps(row))
        elif r.error:
            print(f"error: {r.path}: {r.error}", file=sys.stderr)
        else:
            extra = f"\t{explained[r.path]}" if r.path in explained else ""
            print(f"{r.path}\t{r.class_name}\t{r.probability:.4f}{extra}")
    n_bad = sum(1 for r in predictions if r.error)
    if args.json and n_bad:
        for r in predictions:
            if r.error:
                print(f"error: {r.path}: {r.error}", file=sys.stderr)
    return 1 if n_bad else 0


if __name__ == "__main__":
    sys.exit(main())
