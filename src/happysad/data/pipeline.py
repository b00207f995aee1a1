"""tf.data pipelines over decoded uint8 arrays: shuffle (train only), batch, prefetch.

Pixels stay uint8 until the model's own Rescaling layer, so the pipeline does no float
work and the same arrays feed training, evaluation and prediction. The one exception is the
optional `augment` step (training batches only, see `data/augment.py`), which emits float32
pixels still in [0, 255].
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray | None,
    batch_size: int,
    shuffle: bool = False,
    seed: int | None = None,
    augment: Any | None = None,
) -> tf.data.Dataset:
    """A batched dataset of (uint8 images, float32/int labels); shuffled per epoch if asked.

    `augment` (a Keras layer/Sequential, see `data/augment.py`) is applied to each batch in
    training mode: pass it for the training split only.
    """
    tensors = images if labels is None else (images, labels)
    ds = tf.data.Dataset.from_tensor_slices(tensors)
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment is not None:
        if labels is None:
            raise ValueError("augmentation needs (images, labels) batches")
        from happysad.data.augment import augment_batches

        ds = augment_batches(ds, augment)
    return ds.prefetch(tf.data.AUTOTUNE)
