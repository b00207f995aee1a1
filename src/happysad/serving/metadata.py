"""What a saved model carries besides its weights: class names, preprocessing, threshold,
calibration.

The metadata file may come from anywhere (a download, a registry), so it is validated on load
(`read_metadata`) and matched to the model it describes (`check_model_matches`); either fails
with one line naming the file and the field.

Part of the served model's own code (see `packaging.SERVED_CODE`): imports nothing beyond
numpy, OpenCV and Pillow (through data/image.py) and, lazily, Keras, so it loads where
happysad is not installed. A model's portable (ONNX) copy is recorded under `portable`
(serving/portable.py). Its `calibration` (model.calibration=temperature) is the temperature
every predict path applies to the graph's probabilities (`ModelMetadata.calibrate`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from happysad.data.image import INTERPOLATIONS, Preprocessing
from happysad.errors import ModelLoadError, first_line
from happysad.evaluate import apply_temperature
from happysad.serving.portable import PORTABLE_KEY, portable_problem

METADATA_FILE = "happysad.json"
KERAS_FILE = "model.keras"
INPUT_COLUMN = "image_b64"
CALIBRATION_KEY = "calibration"  # happysad.json: {"method": "temperature", "temperature": T}
CALIBRATION_METHODS = ("temperature",)


@dataclass
class ModelMetadata:
    class_names: list[str]
    preprocessing: Preprocessing
    threshold: float = 0.5
    extra: dict[str, Any] = field(default_factory=dict)
    # {"method": "temperature", "temperature": T, ...}; None: the graph's probabilities as is
    # (model.calibration=none, and every model saved before calibration existed)
    calibration: dict[str, Any] | None = None

    @property
    def temperature(self) -> float:
        """The temperature the graph's logits are divided by (1.0: uncalibrated)."""
        return float(self.calibration["temperature"]) if self.calibration else 1.0

    def calibrate(self, probs: np.ndarray) -> np.ndarray:
        """The graph's probabilities as this model answers them: sigmoid(logit(p) / T) or
        softmax(log p / T). Every path that predicts with a packaged model calls this
        (LoadedModel.predict_arrays, the served pyfunc); T = 1 returns `probs` unchanged."""
        return apply_temperature(probs, self.temperature)

    def to_dict(self) -> dict:
        out = {
            "class_names": self.class_names,
            "preprocessing": self.preprocessing.to_dict(),
            "threshold": self.threshold,
            **self.extra,
        }
        if self.calibration is not None:
            out[CALIBRATION_KEY] = self.calibration
        return out

    @classmethod
    def from_dict(cls, d: dict) -> ModelMetadata:
        known = {"class_names", "preprocessing", "threshold", CALIBRATION_KEY}
        calibration = d.get(CALIBRATION_KEY)
        return cls(
            class_names=list(d["class_names"]),
            preprocessing=Preprocessing.from_dict(d["preprocessing"]),
            threshold=float(d.get("threshold", 0.5)),
            extra={k: v for k, v in d.items() if k not in known},
            calibration=dict(calibration) if calibration is not None else None,
        )


MAX_MODEL_SIDE = 4096  # an image_size side beyond this is not a model of ours


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def calibration_problem(entry: Any) -> str | None:
    """Why a happysad.json `calibration` entry is unusable as `field=value: why`, or None.

    A method this version does not know is refused rather than ignored: its probabilities
    would be silently uncalibrated."""
    if not isinstance(entry, dict):
        return f"{CALIBRATION_KEY}={entry!r}: must be an object"
    method = entry.get("method")
    if method not in CALIBRATION_METHODS:
        return (
            f"{CALIBRATION_KEY}.method={method!r}: must be one of "
            f"{', '.join(CALIBRATION_METHODS)} (a newer happysad's model?)"
        )
    t = entry.get("temperature")
    if not _number(t) or not math.isfinite(t) or t <= 0:
        return f"{CALIBRATION_KEY}.temperature={t!r}: must be a positive number"
    return None


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
    if d.get(CALIBRATION_KEY) is not None and (problem := calibration_problem(d[CALIBRATION_KEY])):
        return problem
    if PORTABLE_KEY in d:
        return portable_problem(d[PORTABLE_KEY])
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


def load_keras(path: Path, safe_mode: bool = True) -> Any:
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
