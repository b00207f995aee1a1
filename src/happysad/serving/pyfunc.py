"""The MLflow pyfunc: a DataFrame column of base64 image bytes -> class name + probabilities.

Every row gets an answer (a row that is not an image gets its reason in `error`), within the
request limits of the server's environment (`ServingLimits`: HAPPYSAD_MAX_ROWS,
HAPPYSAD_MAX_IMAGE_MB, read on every request); the model's metadata is validated and matched
to the model when it loads.

Part of the served model's own code (see `packaging.SERVED_CODE`): it runs inside
`mlflow.pyfunc.load_model` and `mlflow models serve`, where happysad may not be installed,
so it imports only the few happysad modules that are copied into the model folder. With a
portable copy logged beside the Keras file it answers through onnxruntime and never imports
TensorFlow (HAPPYSAD_RUNTIME=keras asks for Keras). Either engine's probabilities get the
model's calibration (its temperature, `ModelMetadata.calibrate`), as in happysad-predict.
"""

from __future__ import annotations

import base64
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from happysad.data.image import ImageDecodeError, preprocess_bytes
from happysad.errors import HappysadError
from happysad.evaluate import predict_labels
from happysad.serving.metadata import INPUT_COLUMN, check_model_matches, load_keras, read_metadata
from happysad.serving.portable import (
    PORTABLE_ARTIFACT,
    RUNTIMES,
    OnnxModel,
    onnxruntime_available,
)

log = logging.getLogger(__name__)

# Request limits of the served pyfunc, from the server's environment (read on every request).
MAX_ROWS_ENV, DEFAULT_MAX_ROWS = "HAPPYSAD_MAX_ROWS", 256
MAX_IMAGE_MB_ENV, DEFAULT_MAX_IMAGE_MB = "HAPPYSAD_MAX_IMAGE_MB", 20.0
# Which engine the served model runs: auto (the ONNX copy when logged with one), portable, keras.
RUNTIME_ENV = "HAPPYSAD_RUNTIME"


def _engine(artifacts: dict[str, str], runtime: str) -> Any:
    """The logged ONNX copy (no TensorFlow) unless asked for Keras or the model has none."""
    from happysad.errors import ConfigError

    if runtime not in RUNTIMES:
        raise ConfigError(f"{RUNTIME_ENV}={runtime!r}: expected one of {', '.join(RUNTIMES)}")
    onnx_path = artifacts.get(PORTABLE_ARTIFACT)
    if runtime == "auto" and not onnxruntime_available():
        onnx_path = None  # an environment without onnxruntime: Keras, as for older models
    if runtime != "keras" and onnx_path:
        return OnnxModel(Path(onnx_path))
    if runtime == "portable":
        raise ConfigError(f"{RUNTIME_ENV}=portable: this model was logged without an ONNX copy")
    return load_keras(Path(artifacts["keras_model"]))


@dataclass(frozen=True)
class ServingLimits:
    """Caps on one request: rows, and encoded bytes per image (the pixel cap is image.py's)."""

    max_rows: int = DEFAULT_MAX_ROWS
    max_image_mb: float = DEFAULT_MAX_IMAGE_MB

    @property
    def max_image_bytes(self) -> int:
        return int(self.max_image_mb * 2**20)

    @classmethod
    def from_env(cls) -> ServingLimits:
        """From HAPPYSAD_MAX_ROWS / HAPPYSAD_MAX_IMAGE_MB; a bad value is one ConfigError line."""
        from happysad.errors import ConfigError

        values: dict[str, float] = {}
        for env, default, kind in (
            (MAX_ROWS_ENV, DEFAULT_MAX_ROWS, int),
            (MAX_IMAGE_MB_ENV, DEFAULT_MAX_IMAGE_MB, float),
        ):
            raw = os.environ.get(env, "").strip()
            try:
                values[env] = kind(raw) if raw else default
            except ValueError:
                values[env] = 0
            if values[env] <= 0:
                raise ConfigError(f"{env}={raw!r}: must be a positive {kind.__name__}")
        return cls(int(values[MAX_ROWS_ENV]), float(values[MAX_IMAGE_MB_ENV]))


def _kind(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "null"
    if isinstance(value, (bool, np.bool_)):
        return "a boolean"
    if isinstance(value, (int, float, np.number)):
        return "a number"
    return f"a {type(value).__name__}"


def _too_large(n_bytes: int, limits: ServingLimits) -> str:
    return (
        f"image too large ({n_bytes / 2**20:.1f} MB > "
        f"{MAX_IMAGE_MB_ENV}={limits.max_image_mb:g}); refused without decoding"
    )


def request_bytes(value: Any, limits: ServingLimits) -> bytes:
    """One request cell -> the image's bytes; ImageDecodeError saying why not.

    Base64 text is measured before it is decoded, so an oversized row costs no copy.
    """
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
    elif isinstance(value, str):
        if len(value) * 3 // 4 > limits.max_image_bytes + 2:
            raise ImageDecodeError(_too_large(len(value) * 3 // 4, limits))
        try:
            data = base64.b64decode(value, validate=True)
        except ValueError:  # binascii.Error, or non-ASCII text
            raise ImageDecodeError(
                "not valid base64 (one unwrapped line, e.g. base64 -w0)"
            ) from None
    else:
        raise ImageDecodeError(f"expected base64 text in {INPUT_COLUMN}, got {_kind(value)}")
    if not data:
        raise ImageDecodeError("empty image")
    if len(data) > limits.max_image_bytes:
        raise ImageDecodeError(_too_large(len(data), limits))
    return data


class HappysadPyfunc(mlflow.pyfunc.PythonModel):
    """Serving wrapper: a DataFrame column of base64 image bytes -> class name + probabilities.

    Every row gets an answer: a row that is not an image (null, a number, bad base64, over a
    cap, undecodable) gets its reason in `error` and empty class/probabilities, and the other
    rows are predicted as usual. A request over HAPPYSAD_MAX_ROWS is refused row by row
    without decoding anything.
    """

    def load_context(self, context: Any) -> None:
        meta_path = Path(context.artifacts["metadata"])
        self.metadata = read_metadata(meta_path)
        self.model = _engine(context.artifacts, os.environ.get(RUNTIME_ENV, "auto"))
        check_model_matches(self.model, self.metadata, meta_path)
        try:
            ServingLimits.from_env()
        except HappysadError as err:
            # One line in the server's log now; each request then answers every row with
            # it (raised here, MLflow would print a 94-line traceback and serve nothing).
            log.error("error: %s", err)

    def output_columns(self) -> list[str]:
        names = self.metadata.class_names
        return ["class_name", "probability", *[f"p_{n}" for n in names], "error"]

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        try:
            limits = ServingLimits.from_env()
            bad_limit = ""
        except HappysadError as err:  # the server's setting: every row says what to fix
            limits, bad_limit = ServingLimits(), f"server setting {err}"
        prep = self.metadata.preprocessing
        names = self.metadata.class_names
        n = len(model_input)
        if bad_limit:
            values: list[Any] = [None] * n
            errors = [bad_limit] * n
        elif INPUT_COLUMN not in model_input:
            values = [None] * n
            errors = [f"no {INPUT_COLUMN} column in the request"] * n
        else:
            values = list(model_input[INPUT_COLUMN])
            errors = [""] * n
        good: list[int] = []
        images: list[np.ndarray] = []
        if n > limits.max_rows and not bad_limit:
            errors = [
                f"request has {n} rows > {MAX_ROWS_ENV}={limits.max_rows}; "
                f"send at most {limits.max_rows} per request"
            ] * n
        elif not any(errors):
            for i, value in enumerate(values):  # one row decoded at a time: bounded memory
                try:
                    images.append(preprocess_bytes(request_bytes(value, limits), prep))
                    good.append(i)
                except (ImageDecodeError, ValueError) as err:
                    errors[i] = str(err)
        rows: list[dict[str, Any]] = [
            {c: None for c in self.output_columns()} | {"class_name": "", "error": e}
            for e in errors
        ]
        if images:
            probs = np.asarray(self.model.predict(np.stack(images), verbose=0))
            # The model's temperature (model.calibration), as predict and eval apply it.
            probs = self.metadata.calibrate(probs[:, 0] if probs.shape[-1] == 1 else probs)
            pred, conf = predict_labels(probs, self.metadata.threshold)
            full = np.stack([1 - probs, probs], axis=1) if probs.ndim == 1 else probs
            for j, i in enumerate(good):
                rows[i]["class_name"] = names[int(pred[j])]
                rows[i]["probability"] = float(conf[j])
                for k, name in enumerate(names):
                    rows[i][f"p_{name}"] = float(full[j, k])
        out = pd.DataFrame(rows, columns=self.output_columns())
        cols = ["probability"] + [f"p_{c}" for c in names]
        bad = out["error"] != ""
        out[cols] = out[cols].astype(float if not bad.any() else object)
        # null, not NaN: bare NaN is not valid JSON for strict clients of the server.
        out.loc[bad, cols] = None
        return out
