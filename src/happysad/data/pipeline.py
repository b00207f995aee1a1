"""tf.data pipelines over decoded uint8 arrays: shuffle (train only), batch, prefetch.

Pixels stay uint8 until the model's own Rescaling layer, so the pipeline does no float
work and the same arrays feed training, evaluation and prediction. Images are never handed
to tf.data whole: it shuffles and batches indices, and each batch is gathered from the numpy
array (in memory) or the memory-mapped file (the disk cache). `from_tensor_slices(images)`
would copy the data set into a tensor and `shuffle(n)` over images would hold another copy
in its buffer: 3x the data set where this holds it once (memory) or not at all (disk). The one exception to uint8 is the
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
    """A batched dataset of (uint8 images, labels); reshuffled every epoch if asked.

    `augment` (a Keras layer/Sequential, see `data/augment.py`) is applied to each batch in
    training mode: pass it for the training split only.
    """
    ds = _indexed_dataset(images, labels, batch_size, shuffle, seed)
    ds = _maybe_augment(ds, augment, labels)
    return _shard_by_data(ds.prefetch(tf.data.AUTOTUNE))


def _maybe_augment(ds: tf.data.Dataset, augment: Any | None, labels: Any) -> tf.data.Dataset:
    if augment is None:
        return ds
    if labels is None:
        raise ValueError("augmentation needs (images, labels) batches")
    from happysad.data.augment import augment_batches

    return augment_batches(ds, augment)


def _shard_by_data(ds: tf.data.Dataset) -> tf.data.Dataset:
    """In-memory data has no files to shard: multi-worker strategies split it by element."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def _indexed_dataset(
    images: np.ndarray, labels: np.ndarray | None, batch_size: int, shuffle: bool, seed: int | None
) -> tf.data.Dataset:
    """Shuffle indices (cheap), then gather each batch from the array or memory-mapped file."""
    n = len(images)
    shape = (None, *images.shape[1:])
    ds = tf.data.Dataset.range(n)
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)

    def gather(idx: np.ndarray) -> np.ndarray:
        order = np.sort(idx)  # sequential reads from the file
        return np.asarray(images[order])[np.argsort(np.argsort(idx))]

    def load(idx: tf.Tensor):
        x = tf.numpy_function(gather, [idx], tf.uint8, stateful=False)
        x.set_shape(shape)
        if labels is None:
            return x
        y = tf.gather(tf.constant(labels), idx)
        return x, y

    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
