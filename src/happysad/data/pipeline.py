"""tf.data pipelines over decoded uint8 arrays: shuffle (train only), batch, prefetch.

Pixels stay uint8 until the model's own Rescaling layer, so the pipeline does no float
work and the same arrays feed training, evaluation and prediction. In-memory arrays are
sliced by tf.data directly; memory-mapped arrays (the disk cache) are read batch by batch,
so a dataset larger than RAM never has to fit in it. The one exception to uint8 is the
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
    if isinstance(images, np.memmap):
        ds = _memmap_dataset(images, labels, batch_size, shuffle, seed)
        return _shard_by_data(_maybe_augment(ds, augment, labels).prefetch(tf.data.AUTOTUNE))
    tensors = images if labels is None else (images, labels)
    ds = tf.data.Dataset.from_tensor_slices(tensors)
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = _maybe_augment(ds.batch(batch_size), augment, labels)
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


def _memmap_dataset(
    images: np.memmap, labels: np.ndarray | None, batch_size: int, shuffle: bool, seed: int | None
) -> tf.data.Dataset:
    """Shuffle indices (cheap), then gather each batch from the memory-mapped file."""
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
