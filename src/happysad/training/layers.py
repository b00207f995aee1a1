"""Keras layers happysad's model configs can name by `_target_` (registered, so saved models
load in predict and serving without unsafe deserialization)."""

from __future__ import annotations

from typing import Any

import keras


@keras.saving.register_keras_serializable(package="happysad")
class PerImageStandardization(keras.layers.Layer):
    """Scale each image to zero mean and unit variance (over its pixels and channels).

    Brightness and contrast then mean nothing to the layers after it: the same face drawn
    lighter or with less contrast (another generator, another camera, or the brightness and
    contrast augmentation) gives the same input, in training and at inference alike.
    """

    def __init__(self, epsilon: float = 1e-3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, x: Any) -> Any:
        x = keras.ops.cast(x, self.compute_dtype)
        mean = keras.ops.mean(x, axis=(1, 2, 3), keepdims=True)
        var = keras.ops.var(x, axis=(1, 2, 3), keepdims=True)
        return (x - mean) / keras.ops.sqrt(var + self.epsilon)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "epsilon": self.epsilon}
