"""Load a packaged model for prediction: its portable ONNX graph when it has one, else Keras.

Kept apart from packaging.py (which imports MLflow to write models) so that loading a local
model folder imports neither TensorFlow, Keras nor MLflow: `runs:/` and `models:/` URIs are
found directly in a local SQLite store (serving/local_store.py) and otherwise downloaded
with MLflow, and only `runtime="keras"` (or a model without a portable copy) imports Keras.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from happysad.errors import HappysadError, ModelLoadError, first_line, redact_text
from happysad.evaluate import predict_labels
from happysad.serving.local_store import local_model_dir
from happysad.serving.metadata import (
    KERAS_FILE,
    METADATA_FILE,
    ModelMetadata,
    check_model_matches,
    load_keras,
    read_metadata,
)
from happysad.serving.portable import RUNTIMES, OnnxModel, onnxruntime_available, portable_file


@dataclass
class LoadedModel:
    """A model (Keras or ONNX) plus its metadata: everything predict needs, no config required."""

    model: Any  # keras.Model or portable.OnnxModel
    metadata: ModelMetadata
    source: str
    keras_path: Path | None = None  # the model's .keras file, for `keras_model`
    safe_mode: bool = True
    _keras: Any = field(default=None, repr=False)

    @property
    def runtime(self) -> str:
        """ "onnx" or "keras": which engine answers."""
        return getattr(self.model, "runtime", "keras")

    @property
    def keras_model(self) -> Any:
        """The `keras.Model`, whichever engine answers predict: `model` may be the ONNX copy
        (runtime="auto"), so a Keras user asks for this; loaded once, on first use."""
        if self.runtime == "keras":
            return self.model
        if self._keras is None:
            if self.keras_path is None:
                raise ModelLoadError(f"{self.source}: no {KERAS_FILE} in this model (ONNX only)")
            from happysad.serving.quiet import import_tensorflow

            import_tensorflow()
            self._keras = load_keras(self.keras_path, self.safe_mode)
        return self._keras

    def predict_arrays(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """The model's probabilities for uint8 images, calibrated as the model says
        (`metadata.calibrate`: its temperature, if it has one), whichever engine answers:
        what predict, eval and the API report. `.model` / `.keras_model` give the raw graph."""
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
        return self.metadata.calibrate(probs[:, 0] if probs.shape[-1] == 1 else probs)

    def label(
        self, probs: np.ndarray, threshold: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        return predict_labels(probs, self.metadata.threshold if threshold is None else threshold)


def check_runtime(runtime: str) -> None:
    if runtime not in RUNTIMES:
        raise HappysadError(f"runtime={runtime!r}: expected one of {', '.join(RUNTIMES)}")


def _engine(
    keras_path: Path | None, meta: ModelMetadata, meta_path: Path, runtime: str, safe_mode: bool
) -> Any:
    """The ONNX graph (auto/portable, when recorded and present) or the Keras model."""
    onnx_path = portable_file(meta.extra, meta_path.parent) if runtime != "keras" else None
    if runtime == "auto" and not onnxruntime_available():
        onnx_path = None
    if runtime == "portable" and onnx_path is None:
        raise ModelLoadError(
            f"{meta_path.parent}: no portable (ONNX) copy recorded in {METADATA_FILE} "
            "(saved before portable copies, or its export failed); use --runtime keras"
        )
    if onnx_path is not None:
        try:
            return OnnxModel(onnx_path)
        except ModelLoadError as err:
            if runtime != "auto" or keras_path is None:
                raise
            # auto means "the ONNX copy if it answers, else Keras" (e.g. an opset newer than
            # this onnxruntime, or a damaged file): say so, and answer with the Keras model.
            warnings.warn(f"{err}; answering with the Keras model instead", stacklevel=2)
    if keras_path is None:
        raise ModelLoadError(f"{meta_path.parent}: no {KERAS_FILE} beside {METADATA_FILE}")
    from happysad.serving.quiet import import_tensorflow

    import_tensorflow()
    return load_keras(keras_path, safe_mode)


def _from_dir(model_dir: Path, source: str, safe_mode: bool, runtime: str) -> LoadedModel:
    meta_path = next(iter(sorted(model_dir.rglob(METADATA_FILE))), None)
    if meta_path is None:
        raise ModelLoadError(f"{source}: no {METADATA_FILE} inside; not a happysad model")
    keras_path = meta_path.parent / KERAS_FILE
    if not keras_path.is_file():
        keras_path = next(iter(sorted(model_dir.rglob(KERAS_FILE))), None)
    meta = read_metadata(meta_path)
    if keras_path is None and portable_file(meta.extra, meta_path.parent) is None:
        raise ModelLoadError(
            f"{source}: no {KERAS_FILE} + {METADATA_FILE} inside; not a happysad model"
        )
    model = _engine(keras_path, meta, meta_path, runtime, safe_mode)
    check_model_matches(model, meta, meta_path)
    return LoadedModel(model, meta, source, keras_path, safe_mode)


def _download(ref: str, tracking_uri: str | None) -> Path:
    """A runs:/ or models:/ model's local copy: the one place predict imports MLflow."""
    import mlflow

    from happysad.paths import use_mlflow_store

    if tracking_uri:
        use_mlflow_store(tracking_uri)
    try:
        return Path(mlflow.artifacts.download_artifacts(artifact_uri=ref))
    except Exception as err:
        raise ModelLoadError(f"{ref}: cannot download model ({first_line(err)})") from None


# A model "URL": MLflow would read it as an artifact server's address and fail obscurely.
_WEB_SCHEMES = ("http", "https", "ftp")


def is_uri(ref: str) -> bool:
    return "://" in ref or ref.startswith(("runs:/", "models:/"))


def load_model(
    ref: str, tracking_uri: str | None = None, safe_mode: bool = True, runtime: str = "keras"
) -> LoadedModel:
    """Load by local path (model dir, Hydra run dir, or .keras with happysad.json beside it)
    or by MLflow URI (`runs:/<id>/model`, `models:/<name>/<version>`, `models:/<name>@alias`).

    runtime: "keras" (the default here: callers of this function use `.model` as a Keras
    model, e.g. warm starts and Grad-CAM), "auto" (the ONNX copy if the model has one, else
    Keras: what `api.load`, the CLIs and the pyfunc use), "portable" (ONNX or ModelLoadError).
    """
    check_runtime(runtime)
    if ref.split("://", 1)[0].lower() in _WEB_SCHEMES:
        raise ModelLoadError(
            f"{redact_text(ref)}: a web address is not a model source; download the model "
            "folder (from a source you trust: a model is code) and give its path, or give "
            "runs:/<run_id>/model or models:/<name>/<version> with --tracking-uri"
        )
    if is_uri(ref):
        # A local SQLite store: the model is already a folder here; no MLflow import.
        local = local_model_dir(ref, tracking_uri) or _download(ref, tracking_uri)
        return _from_dir(local, ref, safe_mode, runtime)
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
        model = _engine(path, meta, meta_path, runtime, safe_mode)
        check_model_matches(model, meta, meta_path)
        return LoadedModel(model, meta, ref, path, safe_mode)
    if (path / "model" / "MLmodel").is_file():  # a Hydra run dir
        path = path / "model"
    return _from_dir(path, ref, safe_mode, runtime)
