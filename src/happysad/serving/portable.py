"""The portable copy of a model: an ONNX graph run by onnxruntime, without TensorFlow.

`packaging.save_model` writes `model.onnx` beside `model.keras` (serving/export.py) and
records it in happysad.json under `portable`. Its contract is the Keras model's: raw pixels
(0-255, float32, NHWC at the metadata's image size) in, probabilities out (one sigmoid unit
or one softmax unit per class; uncalibrated: the model's temperature, if it has one, is
applied after, by `ModelMetadata.calibrate`). Loading it costs ~0.2 s and ~70 MB, against ~8 s and ~800 MB
for TensorFlow, so predict, evaluate and serve use it whenever it is there.

Part of the served model's own code (see `packaging.SERVED_CODE`): imports numpy and,
lazily, onnxruntime only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from happysad.errors import ModelLoadError, first_line

PORTABLE_KEY = "portable"  # happysad.json key
ONNX_FILE = "model.onnx"
ONNX_FORMAT = "onnx"
PORTABLE_ARTIFACT = "portable_model"  # its name among the logged MLflow model's artifacts
INPUT_DTYPE = "float32"
RUNTIMES = ("auto", "portable", "keras")


def portable_problem(entry: Any) -> str | None:
    """Why a happysad.json `portable` entry is unusable as `field=value: why`, or None."""
    if not isinstance(entry, dict):
        return f"{PORTABLE_KEY}={entry!r}: must be an object"
    name = entry.get("file")
    if not isinstance(name, str) or not name or Path(name).name != name or name in {".", ".."}:
        return f"{PORTABLE_KEY}.file={name!r}: must be a file name beside happysad.json"
    if not isinstance(entry.get("format"), str):
        return f"{PORTABLE_KEY}.format={entry.get('format')!r}: must be a string"
    return None


def onnxruntime_available() -> bool:
    """Whether `auto` can use the ONNX copy here (else it runs Keras, as for older models)."""
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def portable_file(meta_extra: dict[str, Any], meta_dir: Path) -> Path | None:
    """The ONNX file a model's metadata points to, if it records one and the file is there."""
    entry = meta_extra.get(PORTABLE_KEY)
    if not isinstance(entry, dict) or entry.get("format") != ONNX_FORMAT:
        return None
    path = meta_dir / str(entry.get("file"))
    return path if path.is_file() else None


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class OnnxModel:
    """An ONNX graph with the part of the Keras model API happysad's predict paths call.

    `input_shape`/`output_shape` (None for unknown dims) let `check_model_matches` test the
    metadata against the graph exactly as against a Keras model.
    """

    runtime = "onnx"

    def __init__(self, path: Path) -> None:
        try:
            import onnxruntime as ort
        except ImportError as err:
            raise ModelLoadError(
                f"{path}: onnxruntime is not installed ({first_line(err)}); "
                "use --runtime keras or `pip install onnxruntime`"
            ) from None
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = _threads()
        opts.log_severity_level = 3  # errors only: no start-up chatter on stderr
        # No busy-waiting between batches: predict decodes the next chunk in threads meanwhile,
        # and spinning workers took their cores (batch predict ran at 0.6x Keras' speed).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(
                str(path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own types for a bad file
            raise ModelLoadError(f"{path}: cannot load ONNX model ({first_line(err)})") from None
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelLoadError(f"{path}: expected one input and one output in the ONNX graph")
        self.path = path
        self.input_name = inputs[0].name
        self.input_shape = tuple(d if isinstance(d, int) else None for d in inputs[0].shape)
        self.output_shape = tuple(d if isinstance(d, int) else None for d in outputs[0].shape)

    def predict_on_batch(self, images: np.ndarray) -> np.ndarray:
        """Probabilities for raw pixels (uint8 or float, 0-255), shape (N, units)."""
        x = np.ascontiguousarray(images, dtype=np.float32)
        return self.session.run(None, {self.input_name: x})[0]

    def predict(self, images: np.ndarray, batch_size: int = 64, verbose: int = 0) -> np.ndarray:
        """Keras' `predict` signature, for callers written against a Keras model."""
        images = np.asarray(images)
        if not len(images):
            units = self.output_shape[-1] or 1
            return np.zeros((0, units), dtype=np.float32)
        return np.concatenate(
            [
                self.predict_on_batch(images[i : i + batch_size])
                for i in range(0, len(images), batch_size)
            ]
        )
