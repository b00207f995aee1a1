"""Package a trained model with what it needs to be used: class names and preprocessing.

One format everywhere: an MLflow pyfunc model directory holding the `.keras` file, its
portable ONNX copy (`model.onnx`, serving/export.py; predict and serve use it without
TensorFlow) and a `happysad.json` metadata file. The same directory is saved into the run dir (usable with
no tracking server) and logged to MLflow (`runs:/<id>/model`, `models:/<name>/<v>`), and
`mlflow models serve` answers base64 images with class names and probabilities. Beside
the pyfunc flavor, MLflow's `tensorflow` flavor points at the same `.keras` file, so
`mlflow.tensorflow.load_model(uri)` gives the Keras model back.

The MLflow model is self-contained: it is logged from code (serving/model_code.py, no pickled
object), carries the few happysad modules its pyfunc imports (SERVED_CODE, in its `code/`
folder) and pins the exact versions of everything else, so it loads and predicts in a Python
that has no happysad installed. Its pyfunc (serving/pyfunc.py) answers every row, with a
per-row `error`, within the request limits (`ServingLimits`); a model's metadata is validated
and matched to the model on every load (serving/metadata.py), here and in the pyfunc.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from happysad.errors import HappysadError
from happysad.serving.export import write_portable
from happysad.serving.loading import LoadedModel, load_model
from happysad.serving.metadata import (
    INPUT_COLUMN,
    KERAS_FILE,
    METADATA_FILE,
    ModelMetadata,
    check_model_matches,
    read_metadata,
)
from happysad.serving.portable import ONNX_FILE, PORTABLE_ARTIFACT, PORTABLE_KEY, portable_file
from happysad.serving.pyfunc import HappysadPyfunc, ServingLimits

__all__ = [
    "INPUT_COLUMN",
    "KERAS_FILE",
    "METADATA_FILE",
    "MODEL_DIR",
    "HappysadPyfunc",  # models logged before models-from-code unpickle it from here
    "LoadedModel",
    "ModelMetadata",
    "ServingLimits",
    "check_model_matches",
    "encode_image_b64",
    "load_model",
    "log_model",
    "read_metadata",
    "save_model",
]

MODEL_DIR = "model"  # in a run dir
MODEL_CODE = Path(__file__).with_name("model_code.py")  # MLflow's python_model (from code)
_PACKAGE = Path(__file__).resolve().parents[1]
# The happysad modules the pyfunc imports at predict time (paths under the package), copied
# into the model's code/ folder so it loads where happysad is not installed. Kept small on
# purpose; tests/test_served_model.py checks that importing the pyfunc needs nothing else.
SERVED_CODE = (
    "__init__.py",
    "errors.py",
    "evaluate.py",
    "data/__init__.py",
    "data/image.py",
    "data/faces.py",
    "data/cascades",
    "serving/__init__.py",
    "serving/metadata.py",
    "serving/portable.py",
    "serving/pyfunc.py",
)
# What mlflow.pyfunc.save_model writes at the top of a model folder (MLflow 3).
_MODEL_DIR_FILES = {
    "MLmodel",
    "artifacts",
    "conda.yaml",
    "input_example.json",
    "python_env.yaml",
    "python_model.pkl",  # models saved before models-from-code
    MODEL_CODE.name,
    "requirements.txt",
    "serving_input_example.json",
    "registered_model_meta",
    "metadata",
    "code",
}


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


# What the served model imports from outside its own code/ folder, pinned to what trained it.
SERVING_REQUIREMENTS = (
    "tensorflow",
    "keras",
    "mlflow",
    "opencv-python-headless",
    "pillow",  # data/image.py reads each image's header (the pixel cap) before decoding
    "numpy",
    "pandas",
)
# The same for a model logged with its ONNX copy: the pyfunc answers through onnxruntime, so
# the server's environment has no TensorFlow (hundreds of MB smaller, a fast cold start).
PORTABLE_SERVING_REQUIREMENTS = (
    "mlflow",
    "opencv-python-headless",
    "pillow",
    "numpy",
    "pandas",
    "onnxruntime",
)


def _requirements(portable: bool = False) -> list[str]:
    """`name==version` as installed now: an env MLflow builds for the model (`mlflow models
    serve` without --env-manager local) gets the stack that trained it, not today's releases."""
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for p in PORTABLE_SERVING_REQUIREMENTS if portable else SERVING_REQUIREMENTS:
        try:
            out.append(f"{p}=={version(p)}")
        except PackageNotFoundError:
            if p != "mlflow":
                raise
            out.append(f"mlflow-skinny=={version('mlflow-skinny')}")  # skinny-only installs
    return out


@contextmanager
def _served_code() -> Iterator[Path]:
    """A temporary `happysad/` holding only SERVED_CODE, for MLflow's code_paths."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "happysad"
        for rel in SERVED_CODE:
            src, dst = _PACKAGE / rel, root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(src, dst)
        yield root


def _model_kwargs(
    keras_path: Path, meta_path: Path, meta: ModelMetadata, example: np.ndarray | None, code: Path
) -> dict:
    """Models-from-code (no pickle) with its code and exact requirements: self-contained."""
    artifacts = {"keras_model": str(keras_path), "metadata": str(meta_path)}
    onnx_path = portable_file(meta.extra, meta_path.parent)
    if onnx_path is not None:
        artifacts[PORTABLE_ARTIFACT] = str(onnx_path)
    kwargs: dict[str, Any] = {
        "python_model": str(MODEL_CODE),
        "code_paths": [str(code)],
        "artifacts": artifacts,
        "signature": _signature(meta.class_names),
        "pip_requirements": _requirements(portable=onnx_path is not None),
    }
    if example is not None:
        kwargs["input_example"] = pd.DataFrame({INPUT_COLUMN: [encode_image_b64(example)]})
    return kwargs


# MLflow's own TensorFlow flavor, as mlflow.tensorflow.load_model reads it for a Keras 3 model
# (model_type keras, the `keras` module, the .keras format), pointing at the .keras file the
# pyfunc already carries in artifacts/: one copy of the weights, and no TensorFlow in the
# requirements (they are the served pyfunc's: see PORTABLE_SERVING_REQUIREMENTS).
KERAS_FLAVOR = "tensorflow"


def _add_keras_flavor(mlflow_model: Any) -> None:
    """`mlflow.tensorflow.load_model(uri)` gives the keras.Model back from the same MLmodel."""
    from importlib.metadata import version

    mlflow_model.add_flavor(
        KERAS_FLAVOR,
        code=None,
        data=f"artifacts/{KERAS_FILE}",
        model_type="keras",
        keras_module="keras",
        keras_version=version("keras"),
        save_format="keras",
    )


def _save_pyfunc_with_keras(path: str, mlflow_model: Any = None, **kwargs: Any) -> None:
    """mlflow.pyfunc.save_model, with the Keras flavor in the same MLmodel."""
    from mlflow.models import Model

    mlflow_model = mlflow_model if mlflow_model is not None else Model()
    _add_keras_flavor(mlflow_model)
    mlflow.pyfunc.save_model(path=path, mlflow_model=mlflow_model, **kwargs)


# What Model.log saves a logged model with (a "flavor": anything with save_model).
_PYFUNC_WITH_KERAS = SimpleNamespace(__name__="mlflow.pyfunc", save_model=_save_pyfunc_with_keras)


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


def with_portable(meta: ModelMetadata, entry: dict[str, Any] | None) -> ModelMetadata:
    """A copy of meta recording the portable copy (or none: a stale record is dropped)."""
    extra = {k: v for k, v in meta.extra.items() if k != PORTABLE_KEY}
    if entry is not None:
        extra[PORTABLE_KEY] = entry
    return replace(meta, extra=extra)


def save_model(
    model: Any, meta: ModelMetadata, out_dir: str | Path, example: np.ndarray | None = None
) -> Path:
    """Write the MLflow model directory to out_dir: model.keras, its ONNX copy (model.onnx,
    unless the export fails: then a warning and Keras only) and happysad.json.

    An existing out_dir is replaced only if it is a model this function wrote (MLmodel and
    happysad.json, nothing else at the top) or empty; any other folder is refused, never deleted.
    """
    out_dir = Path(out_dir)
    _check_replaceable(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        keras_path, meta_path = Path(tmp) / KERAS_FILE, Path(tmp) / METADATA_FILE
        model.save(keras_path)
        meta = with_portable(meta, write_portable(model, Path(tmp) / ONNX_FILE))
        meta_path.write_text(json.dumps(meta.to_dict(), indent=2))
        if out_dir.is_symlink() or out_dir.is_file():
            raise HappysadError(f"{out_dir}: not a folder; refusing to replace it with the model")
        if out_dir.exists():
            _check_replaceable(out_dir)
            shutil.rmtree(out_dir)
        with _served_code() as code:
            _save_pyfunc_with_keras(
                str(out_dir), **_model_kwargs(keras_path, meta_path, meta, example, code)
            )
    return out_dir


def log_model(
    model_dir: str | Path,
    meta: ModelMetadata,
    example: np.ndarray | None = None,
    name: str = "model",
) -> Any:
    """Log an already-saved model directory to the active MLflow run as `name` (what
    mlflow.pyfunc.log_model does, with the Keras flavor beside pyfunc)."""
    from mlflow.models import Model

    model_dir = Path(model_dir)
    art = model_dir / "artifacts"
    with _served_code() as code:
        # The metadata as saved (it records the portable copy), not the caller's.
        saved = read_metadata(art / METADATA_FILE)
        return Model.log(
            artifact_path=None,
            name=name,
            flavor=_PYFUNC_WITH_KERAS,
            flavor_name="pyfunc.ModelFromCode",  # what mlflow.pyfunc.log_model records
            **_model_kwargs(art / KERAS_FILE, art / METADATA_FILE, saved, example, code),
        )
