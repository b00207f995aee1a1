"""The MLflow pyfunc: a DataFrame column of base64 image bytes -> class name + probabilities.

Part of the served model's own code (see `packaging.SERVED_CODE`): it runs inside
`mlflow.pyfunc.load_model` and `mlflow models serve`, where happysad may not be installed,
so it imports only the few happysad modules that are copied into the model folder.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from happysad.data.image import ImageDecodeError, preprocess_bytes
from happysad.evaluate import predict_labels
from happysad.serving.metadata import INPUT_COLUMN, ModelMetadata, load_keras


class HappysadPyfunc(mlflow.pyfunc.PythonModel):
    """Serving wrapper: a DataFrame column of base64 image bytes -> class name + probabilities."""

    def load_context(self, context: Any) -> None:
        meta = json.loads(Path(context.artifacts["metadata"]).read_text())
        self.metadata = ModelMetadata.from_dict(meta)
        self.model = load_keras(Path(context.artifacts["keras_model"]))

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        prep = self.metadata.preprocessing
        names = self.metadata.class_names
        images, errors = [], []
        for value in model_input[INPUT_COLUMN]:
            try:
                data = value if isinstance(value, bytes) else base64.b64decode(value, validate=True)
                images.append(preprocess_bytes(data, prep))
                errors.append("")
            except (ImageDecodeError, ValueError) as err:
                h, w = prep.image_size
                images.append(np.zeros((h, w, prep.channels), dtype=np.uint8))
                errors.append(f"{err}")
        probs = self.model.predict(np.stack(images), verbose=0)
        probs = probs[:, 0] if probs.shape[-1] == 1 else probs
        pred, conf = predict_labels(probs, self.metadata.threshold)
        out = pd.DataFrame({"class_name": [names[i] for i in pred], "probability": conf})
        full = np.stack([1 - probs, probs], axis=1) if probs.ndim == 1 else probs
        for i, name in enumerate(names):
            out[f"p_{name}"] = full[:, i]
        out["error"] = errors
        bad = out["error"] != ""
        out.loc[bad, "class_name"] = ""
        if bad.any():
            # null, not NaN: bare NaN is not valid JSON for strict clients of the server.
            cols = ["probability"] + [f"p_{n}" for n in names]
            out[cols] = out[cols].astype(object)
            out.loc[bad, cols] = None
        return out
