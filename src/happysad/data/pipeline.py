"""tf.data pipelines over decoded uint8 arrays: shuffle (train only), batch, prefetch.

Pixels stay uint8 until the model's own Rescaling layer, so the pipeline does no float
work and the same arrays feed training, evaluation and prediction.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray | None,
    batch_size: int,
    shuffle: bool = False,
    seed: int | None = None,
) -> tf.data.Dataset:
    """A batched dataset of (uint8 images, float32/int labels); shuffled per epoch if asked."""
    tensors = images if labels is None else (images, labels)
    ds = tf.data.Dataset.from_tensor_slices(tensors)
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
