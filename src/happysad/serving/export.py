"""Export a Keras model to a portable inference graph (ONNX, LiteRT, SavedModel).

Training writes the ONNX copy every model carries (`write_portable`, called by
`packaging.save_model`); `happysad-export` writes any of the three formats on demand. The
graph is the whole Keras model, Rescaling included: raw pixels (0-255, float32, NHWC) in,
probabilities out, exactly the Keras model's preprocessing contract.

Imports Keras (and through it TensorFlow): training and export only, never predict.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from happysad.errors import first_line
from happysad.serving.portable import INPUT_DTYPE, ONNX_FORMAT, OnnxModel
from happysad.serving.quiet import filtered_stderr

log = logging.getLogger("happysad")

FORMATS = ("onnx", "litert", "saved_model")
# The ONNX graph must answer what Keras answers: checked on a probe batch after export.
AGREE_ATOL = 1e-4


def _input_spec(model: Any) -> Any:
    import keras

    shape = tuple(model.input_shape)
    return keras.InputSpec(shape=(None, *shape[1:]), dtype=INPUT_DTYPE)


def export_graph(model: Any, out: Path, fmt: str) -> Path:
    """Write `model` as `fmt` to `out` (a file for onnx/litert, a folder for saved_model).

    An explicit input signature: a model loaded from .keras has never been called, and
    Keras' ONNX export refuses such a model without one.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format={fmt!r}: expected one of {', '.join(FORMATS)}")
    kwargs: dict[str, Any] = {"format": "tf_saved_model" if fmt == "saved_model" else fmt}
    kwargs["input_signature"] = [_input_spec(model)]
    # tf2onnx's NumPy deprecation notes are not ours to fix; the converters' grappler runs
    # log `I0000 ... Starting new session` through absl, past TF_CPP_MIN_LOG_LEVEL.
    # Its INFO lines (opset, optimizer passes) reach a training run's console through
    # Hydra's root logger: warnings only.
    converter_log = logging.getLogger("tf2onnx")
    level = converter_log.level
    converter_log.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings(), filtered_stderr():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            model.export(str(out), verbose=False, **kwargs)
    finally:
        converter_log.setLevel(level)
    return out


def probe_images(model: Any, n: int = 8, seed: int = 0) -> np.ndarray:
    """Raw-pixel images of the model's input shape: what predict feeds it."""
    shape = tuple(model.input_shape)[1:]
    return np.random.default_rng(seed).integers(0, 256, (n, *shape)).astype(np.float32)


def max_disagreement(model: Any, graph: OnnxModel) -> float:
    """The largest |Keras - ONNX| probability on a probe batch."""
    x = probe_images(model)
    want = np.asarray(model.predict_on_batch(x), dtype=np.float64)
    got = np.asarray(graph.predict_on_batch(x), dtype=np.float64)
    if want.shape != got.shape:
        return float("inf")
    return float(np.max(np.abs(want - got))) if want.size else 0.0


def portable_entry(model: Any, file_name: str, input_name: str) -> dict[str, Any]:
    """The happysad.json `portable` record: what a plain onnxruntime user needs to know."""
    shape = [None, *[int(v) for v in tuple(model.input_shape)[1:]]]
    units = int(model.output_shape[-1])
    return {
        "file": file_name,
        "format": ONNX_FORMAT,
        "input": {
            "name": input_name,
            "shape": shape,
            "dtype": INPUT_DTYPE,
            "pixels": "raw RGB 0-255, NHWC",
        },
        "output": {
            "shape": [None, units],
            "meaning": "P(class_names[1])" if units == 1 else "softmax over class_names",
            # happysad.json's `calibration` (a temperature), if any, is applied after the graph
            "calibrated": False,
        },
    }


def _has_lambda(model: Any) -> bool:
    """Keras refuses Lambda layers in safe mode; an ONNX copy must not be a way around that."""
    import keras

    stack = list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop()
        if isinstance(layer, keras.layers.Lambda):
            return True
        stack.extend(getattr(layer, "layers", []))  # nested models (a transfer backbone)
    return False


def write_portable(model: Any, out: Path) -> dict[str, Any] | None:
    """Export the ONNX copy to `out` and check it against Keras; its metadata entry, or None.

    Never raises: a model that does not export (an exotic layer, a missing converter) or
    whose graph disagrees with Keras keeps its Keras file only, with a warning.
    """
    if _has_lambda(model):
        log.warning(
            "no portable model: the model has a Lambda layer (arbitrary code); it stays a "
            "Keras model, loaded only with --unsafe"
        )
        return None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp_file = Path(tmp) / out.name
            export_graph(model, tmp_file, ONNX_FORMAT)
            graph = OnnxModel(tmp_file)
            gap = max_disagreement(model, graph)
            if not gap <= AGREE_ATOL:
                log.warning(
                    "no portable model: the ONNX graph differs from Keras by %.2g (> %g); "
                    "predict will use Keras",
                    gap,
                    AGREE_ATOL,
                )
                return None
            out.write_bytes(tmp_file.read_bytes())
    except Exception as err:  # any export failure: keep the Keras model, say why
        log.warning(
            "no portable model (ONNX export failed: %s); predict will use Keras", first_line(err)
        )
        return None
    return portable_entry(model, out.name, graph.input_name)
