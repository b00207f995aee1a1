"""Package a trained model with what it needs to be used: class names and preprocessing.

One format everywhere: an MLflow pyfunc model directory holding the `.keras` file and a
`happysad.json` metadata file. The same directory is saved into the run dir (usable with
no tracking server) and logged to MLflow (`runs:/<id>/model`, `models:/<name>/<v>`), and
`mlflow models serve` answers base64 images with class names and probabilities.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from happysad.data.image import INTERPOLATIONS, ImageDecodeError, Preprocessing, preprocess_bytes
from happysad.errors import HappysadError, ModelLoadError, first_line
from happysad.evaluate import predict_labels

METADATA_FILE = "happysad.json"
KERAS_FILE = "model.keras"
MODEL_DIR = "model"  # in a run dir
# What mlflow.pyfunc.save_model writes at the top of a model folder (MLflow 3).
_MODEL_DIR_FILES = {
    "MLmodel",
    "artifacts",
    "conda.yaml",
    "input_example.json",
    "python_env.yaml",
    "python_model.pkl",
    "requirements.txt",
    "serving_input_example.json",
    "registered_model_meta",
    "metadata",
    "code",
}
INPUT_COLUMN = "image_b64"


@dataclass
class ModelMetadata:
    class_names: list[str]
    preprocessing: Preprocessing
    threshold: float = 0.5
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "class_names": self.class_names,
            "preprocessing": self.preprocessing.to_dict(),
            "threshold": self.threshold,
            **self.extra,
        }

    @classmethod
    def from_dict(cls, d: dict) -> ModelMetadata:
        known = {"class_names", "preprocessing", "threshold"}
        return cls(
            class_names=list(d["class_names"]),
            preprocessing=Preprocessing.from_dict(d["preprocessing"]),
            threshold=float(d.get("threshold", 0.5)),
            extra={k: v for k, v in d.items() if k not in known},
        )


MAX_MODEL_SIDE = 4096  # an image_size side beyond this is not a model of ours


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _metadata_problem(d: Any) -> str | None:
    """The first invalid field of a happysad.json as `field=value: why`, or None if valid.

    A model folder may come from anywhere (a download, a registry): its metadata sizes the
    decode and indexes the class names, so nothing in it is used unchecked.
    """
    if not isinstance(d, dict):
        return f"top level: expected an object, got {type(d).__name__}"
    names = d.get("class_names")
    if (
        not isinstance(names, list)
        or len(names) < 2
        or not all(isinstance(n, str) and n.strip() for n in names)
        or len(set(names)) != len(names)
    ):
        return f"class_names={names!r}: must be a list of at least 2 distinct non-empty names"
    threshold = d.get("threshold", 0.5)
    if not _number(threshold) or not 0.0 < threshold < 1.0:
        return f"threshold={threshold!r}: must be a number strictly between 0 and 1"
    prep = d.get("preprocessing")
    if not isinstance(prep, dict):
        return f"preprocessing={prep!r}: must be an object"
    size = prep.get("image_size")
    if (
        not isinstance(size, list)
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in size)
        or not all(1 <= v <= MAX_MODEL_SIDE for v in size)
    ):
        return (
            f"preprocessing.image_size={size!r}: must be [height, width], "
            f"integers in 1..{MAX_MODEL_SIDE}"
        )
    checks: list[tuple[str, Any, bool, str]] = [
        ("channels", prep.get("channels", 3), prep.get("channels", 3) in (1, 3), "must be 1 or 3"),
        (
            "interpolation",
            prep.get("interpolation", "area"),
            prep.get("interpolation", "area") in INTERPOLATIONS,
            f"must be one of {', '.join(INTERPOLATIONS)}",
        ),
    ]
    for key in ("keep_aspect", "face_crop"):
        checks.append(
            (
                key,
                prep.get(key, False),
                isinstance(prep.get(key, False), bool),
                "must be true or false",
            )
        )
    margin = prep.get("face_margin", 0.25)
    checks.append(
        (
            "face_margin",
            margin,
            _number(margin) and 0.0 <= margin <= 2.0,
            "must be a number in [0, 2]",
        )
    )
    for key, value, ok, why in checks:
        if not ok or (key == "channels" and isinstance(value, bool)):
            return f"preprocessing.{key}={value!r}: {why}"
    return None


def read_metadata(path: Path) -> ModelMetadata:
    """A model's happysad.json, validated; ModelLoadError naming the file and the field."""
    try:
        d = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as err:
        raise ModelLoadError(f"{path}: cannot read ({first_line(err)})") from None
    except ValueError as err:
        raise ModelLoadError(f"{path}: not valid JSON ({first_line(err)})") from None
    problem = _metadata_problem(d)
    if problem:
        raise ModelLoadError(f"{path}: {problem}")
    return ModelMetadata.from_dict(d)


def check_model_matches(model: Any, meta: ModelMetadata, meta_path: Path) -> None:
    """The metadata must describe this model: input size/channels and number of classes."""
    prep = meta.preprocessing
    try:
        shape = tuple(model.input_shape)[1:]
        units = int(model.output_shape[-1])
    except (AttributeError, TypeError, ValueError, IndexError):
        return  # not a single-input, single-output model: Keras will say so on predict
    want = (*prep.image_size, prep.channels)
    if all(v is not None for v in shape) and tuple(shape) != want:
        raise ModelLoadError(
            f"{meta_path}: preprocessing.image_size={list(prep.image_size)} and "
            f"channels={prep.channels} do not match the model's input {tuple(shape)}"
        )
    n = len(meta.class_names)
    if units not in {n, 1 if n == 2 else n}:  # a binary model: 1 sigmoid or 2 softmax units
        raise ModelLoadError(
            f"{meta_path}: class_names has {n} names but the model has {units} output(s)"
        )


@dataclass
class LoadedModel:
    """A Keras model plus its metadata: everything predict needs, no config required."""

    model: Any  # keras.Model
    metadata: ModelMetadata
    source: str

    def predict_arrays(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        # predict_on_batch, not predict: Keras' predict() builds and traces a new tf.data
        # pipeline on every call (~0.2 s on a 2-core CPU), more than the forward pass of a
        # 64-image chunk; predict_files calls this once per chunk.
        outs = [
            np.asarray(self.model.predict_on_batch(images[i : i + batch_size]))
            for i in range(0, len(images), batch_size)
        ]
        if not outs:
            return self.model.predict(images, batch_size=batch_size, verbose=0)
        probs = np.concatenate(outs)
        return probs[:, 0] if probs.shape[-1] == 1 else probs

    def label(
        self, probs: np.ndarray, threshold: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        return predict_labels(probs, self.metadata.threshold if threshold is None else threshold)


def _load_keras(path: Path, safe_mode: bool = True) -> Any:
    """Keras safe mode refuses Lambda layers (arbitrary code) unless explicitly disabled."""
    import keras

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=safe_mode)
    except ValueError as err:
        if "safe_mode" in str(err) or "unsafe" in str(err).lower():
            raise ModelLoadError(
                f"{path}: the model contains a Lambda layer (arbitrary Python code); refused in "
                "safe mode. Load it with --unsafe only if you trust where it came from"
            ) from None
        raise ModelLoadError(f"{path}: cannot load ({first_line(err)})") from None


# Request limits of the served pyfunc, from the server's environment (read on every request).
MAX_ROWS_ENV, DEFAULT_MAX_ROWS = "HAPPYSAD_MAX_ROWS", 256
MAX_IMAGE_MB_ENV, DEFAULT_MAX_IMAGE_MB = "HAPPYSAD_MAX_IMAGE_MB", 20.0


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
        self.model = _load_keras(Path(context.artifacts["keras_model"]))
        check_model_matches(self.model, self.metadata, meta_path)
        ServingLimits.from_env()  # a bad limit fails the server at start, not each request

    def output_columns(self) -> list[str]:
        names = self.metadata.class_names
        return ["class_name", "probability", *[f"p_{n}" for n in names], "error"]

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        limits = ServingLimits.from_env()
        prep = self.metadata.preprocessing
        names = self.metadata.class_names
        n = len(model_input)
        if INPUT_COLUMN not in model_input:
            values: list[Any] = [None] * n
            errors = [f"no {INPUT_COLUMN} column in the request"] * n
        else:
            values = list(model_input[INPUT_COLUMN])
            errors = [""] * n
        good: list[int] = []
        images: list[np.ndarray] = []
        if n > limits.max_rows:
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
            probs = probs[:, 0] if probs.shape[-1] == 1 else probs
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


def _signature(class_names: list[str]) -> Any:
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    outputs = [ColSpec("string", "class_name"), ColSpec("double", "probability")]
    outputs += [ColSpec("double", f"p_{n}") for n in class_names] + [ColSpec("string", "error")]
    return ModelSignature(inputs=Schema([ColSpec("string", INPUT_COLUMN)]), outputs=Schema(outputs))


def encode_image_b64(image_rgb: np.ndarray) -> str:
    """PNG-encode an RGB uint8 image as base64 text (the serving request format)."""
    import cv2

    if image_rgb.shape[-1] == 1:
        bgr = image_rgb[:, :, 0]
    else:
        bgr = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", bgr)
    if not ok:
        raise ValueError("could not encode image as PNG")
    return base64.b64encode(buf.tobytes()).decode("ascii")


def _requirements() -> list[str]:
    """Pinned to what trained the model; given explicitly so MLflow skips slow inference."""
    from importlib.metadata import version

    pkgs = ["tensorflow", "keras", "mlflow", "opencv-python-headless", "numpy", "pandas"]
    out = []
    for p in pkgs:
        try:
            out.append(f"{p}=={version(p)}")
        except Exception:
            out.append(p)
    return out


def _model_kwargs(
    keras_path: Path, meta_path: Path, meta: ModelMetadata, example: np.ndarray | None
) -> dict:
    kwargs: dict[str, Any] = {
        "python_model": HappysadPyfunc(),
        "artifacts": {"keras_model": str(keras_path), "metadata": str(meta_path)},
        "signature": _signature(meta.class_names),
        "pip_requirements": _requirements(),
    }
    if example is not None:
        kwargs["input_example"] = pd.DataFrame({INPUT_COLUMN: [encode_image_b64(example)]})
    return kwargs


def _check_replaceable(out_dir: Path) -> None:
    """Refuse (one line, naming the path) to replace a folder that is not a model of ours."""
    if not out_dir.exists() and not out_dir.is_symlink():
        return
    if out_dir.is_dir() and not out_dir.is_symlink():
        names = {p.name for p in out_dir.iterdir()}
        if not names:
            return
        ours = {"MLmodel", "artifacts"} <= names and names <= _MODEL_DIR_FILES
        if ours and (out_dir / "artifacts" / METADATA_FILE).is_file():
            return
    raise HappysadError(
        f"{out_dir}: exists and is not a happysad model folder; refusing to replace it "
        "(move it away or save elsewhere)"
    )


def save_model(
    model: Any, meta: ModelMetadata, out_dir: str | Path, example: np.ndarray | None = None
) -> Path:
    """Write the MLflow model directory to out_dir.

    An existing out_dir is replaced only if it is a model this function wrote (MLmodel and
    happysad.json, nothing else at the top) or empty; any other folder is refused, never deleted.
    """
    out_dir = Path(out_dir)
    _check_replaceable(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        keras_path, meta_path = Path(tmp) / KERAS_FILE, Path(tmp) / METADATA_FILE
        model.save(keras_path)
        meta_path.write_text(json.dumps(meta.to_dict(), indent=2))
        if out_dir.is_symlink() or out_dir.is_file():
            raise HappysadError(f"{out_dir}: not a folder; refusing to replace it with the model")
        if out_dir.exists():
            _check_replaceable(out_dir)
            shutil.rmtree(out_dir)
        mlflow.pyfunc.save_model(
            path=str(out_dir), **_model_kwargs(keras_path, meta_path, meta, example)
        )
    return out_dir


def log_model(
    model_dir: str | Path,
    meta: ModelMetadata,
    example: np.ndarray | None = None,
    name: str = "model",
) -> Any:
    """Log an already-saved model directory to the active MLflow run as `name`."""
    model_dir = Path(model_dir)
    art = model_dir / "artifacts"
    return mlflow.pyfunc.log_model(
        name=name, **_model_kwargs(art / KERAS_FILE, art / METADATA_FILE, meta, example)
    )


def _from_dir(model_dir: Path, source: str, safe_mode: bool) -> LoadedModel:
    keras_path = next(iter(sorted(model_dir.rglob(KERAS_FILE))), None)
    meta_path = next(iter(sorted(model_dir.rglob(METADATA_FILE))), None)
    if keras_path is None or meta_path is None:
        raise ModelLoadError(
            f"{source}: no {KERAS_FILE} + {METADATA_FILE} inside; not a happysad model"
        )
    meta = read_metadata(meta_path)
    model = _load_keras(keras_path, safe_mode)
    check_model_matches(model, meta, meta_path)
    return LoadedModel(model, meta, source)


def load_model(ref: str, tracking_uri: str | None = None, safe_mode: bool = True) -> LoadedModel:
    """Load by local path (model dir, Hydra run dir, or .keras with happysad.json beside it)
    or by MLflow URI (`runs:/<id>/model`, `models:/<name>/<version>`, `models:/<name>@alias`)."""
    if "://" in ref or ref.startswith(("runs:/", "models:/")):
        if tracking_uri:
            mlflow.set_tracking_uri(tracking_uri)
            mlflow.set_registry_uri(tracking_uri)
        try:
            local = mlflow.artifacts.download_artifacts(artifact_uri=ref)
        except Exception as err:
            msg = first_line(err)
            raise ModelLoadError(f"{ref}: cannot download model ({msg})") from None
        return _from_dir(Path(local), ref, safe_mode)
    path = Path(ref)
    if not path.exists():
        raise ModelLoadError(f"{ref}: no such file or folder")
    if path.is_file():
        meta_path = path.parent / METADATA_FILE
        if path.suffix != ".keras" or not meta_path.is_file():
            raise ModelLoadError(
                f"{ref}: expected a model folder, or a .keras file with {METADATA_FILE} beside it"
            )
        meta = read_metadata(meta_path)
        model = _load_keras(path, safe_mode)
        check_model_matches(model, meta, meta_path)
        return LoadedModel(model, meta, ref)
    if (path / "model" / "MLmodel").is_file():  # a Hydra run dir
        path = path / "model"
    return _from_dir(path, ref, safe_mode)
