"""`happysad-export MODEL OUT --format onnx|litert|saved_model`: the model for elsewhere.

For deploying where happysad is not: a phone or an edge box (LiteRT), another language or
runtime (ONNX), TensorFlow Serving (SavedModel). The exported graph is the whole Keras model:
raw RGB pixels (0-255, float32, NHWC at the model's image size) in, probabilities out. On
stdout, one JSON object with what a caller needs besides the file: input shape and dtype,
class names, threshold, the preprocessing to reproduce and the calibration (docs/serving.md
shows plain onnxruntime and LiteRT code). The graph's outputs are **uncalibrated**: a model
trained with model.calibration=temperature answers in happysad after dividing the logits by
its temperature, and the contract's `calibration` gives T and the formula to do the same.
Loads the Keras model, so this command imports TensorFlow.

Exit status: 0 written, 2 usage (OUT exists), 4 the model cannot be loaded, 1 export failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from happysad.cli import MODEL_HELP
from happysad.errors import HappysadError, first_line, redact_text
from happysad.tracking import short_http_timeouts

# serving.export.FORMATS, without importing TensorFlow to parse the command line
# (tests/test_portable.py checks the two agree).
FORMATS = ("onnx", "litert", "saved_model")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="happysad-export",
        description="Export a trained happysad model to ONNX, LiteRT (.tflite) or SavedModel.",
    )
    p.add_argument(
        "model",
        help=MODEL_HELP,
    )
    p.add_argument(
        "out", help="file to write (onnx, litert) or folder (saved_model); must not exist"
    )
    p.add_argument("--format", choices=FORMATS, default="onnx")
    p.add_argument(
        "--tracking-uri", default=None, help="MLflow tracking URI for runs:/ and models:/"
    )
    p.add_argument(
        "--unsafe", action="store_true", help="allow models with Lambda layers (trusted only)"
    )
    p.add_argument(
        "--verbose", action="store_true", help="show TensorFlow's start-up log lines on stderr"
    )
    return p.parse_args(argv)


def _calibration(meta: Any, units: int) -> dict[str, Any] | None:
    """The temperature the exported graph's outputs need (None: the model has none)."""
    from happysad.evaluate import TEMPERATURE_FORMULAS

    if meta.calibration is None:
        return None
    return {
        "method": meta.calibration["method"],
        "temperature": meta.temperature,
        "formula": TEMPERATURE_FORMULAS["sigmoid" if units == 1 else "softmax"],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    if out.exists() or out.is_symlink():
        print(f"error: {out}: already exists; export to a new path", file=sys.stderr)
        return 2
    short_http_timeouts()  # an unreachable server: one line soon, not ~250 s of retries
    if args.verbose:
        from happysad.serving.quiet import set_verbose

        set_verbose()
    from happysad import api
    from happysad.serving.export import export_graph

    try:
        loaded = api.load(
            args.model, tracking_uri=args.tracking_uri, safe_mode=not args.unsafe, runtime="keras"
        )
    except HappysadError as err:
        print(f"error: {redact_text(str(err))}", file=sys.stderr)
        return err.exit_code
    model, meta = loaded.model, loaded.metadata
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        export_graph(model, out, args.format)
    except Exception as err:  # a converter's own error types: one line naming the format
        print(f"error: --format {args.format}: export failed ({first_line(err)})", file=sys.stderr)
        return 1
    units = int(model.output_shape[-1])
    contract = {
        "file": str(out),
        "format": args.format,
        "input": {
            "shape": [None, *[int(v) for v in tuple(model.input_shape)[1:]]],
            "dtype": "float32",
            "pixels": "raw RGB 0-255, NHWC (no scaling: the model rescales)",
        },
        "output": {
            "shape": [None, units],
            "meaning": "P(class_names[1])" if units == 1 else "softmax over class_names",
            "calibrated": False,  # the raw graph: apply `calibration` to answer as happysad
        },
        "class_names": meta.class_names,
        "threshold": meta.threshold,  # applies to the calibrated P(class_names[1])
        "preprocessing": meta.preprocessing.to_dict(),
        "calibration": _calibration(meta, units),
    }
    print(json.dumps(contract))
    return 0


if __name__ == "__main__":
    sys.exit(main())
