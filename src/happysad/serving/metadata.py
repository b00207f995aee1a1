"""What a saved model carries besides its weights: class names, preprocessing, threshold.

Part of the served model's own code (see `packaging.SERVED_CODE`): imports nothing beyond
numpy, OpenCV (through data/image.py) and, lazily, Keras, so it loads where happysad is not
installed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from happysad.data.image import Preprocessing
from happysad.errors import ModelLoadError, first_line

METADATA_FILE = "happysad.json"
KERAS_FILE = "model.keras"
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
