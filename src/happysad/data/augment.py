"""Training-time augmentation from config: a list of Keras preprocessing layers.

Where it runs, and why: in the tf.data pipeline, on training batches only, not inside the
model. The saved model is then exactly the inference graph (no Random* layers to skip when
picking the Grad-CAM layer, nothing augmentation-specific to load in predict or serving, and
old models are unaffected by the augmentation config), and the validation, test, predict and
serving inputs cannot be augmented by construction because they never pass through here.
Batches are augmented in the pipeline's own threads and prefetched while the model trains.

Pixels are still in [0, 255] here (the model's first layer scales them), which is the
default ``value_range`` of RandomContrast / RandomBrightness. Each layer gets ``seed`` from
the run's seed unless the config gives one, so a run's augmentation is reproducible.
"""

from __future__ import annotations

import inspect
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf


def build_augmenter(specs: ListConfig | list | None, seed: int | None = None) -> Any | None:
    """A keras.Sequential of the configured layers, or None when the list is empty.

    A bad target or keyword raises ConfigError naming ``data.augment[i]``. The layers
    compute in float32 whatever `trainer.mixed_precision` trains in: they transform pixels
    in the input pipeline, where bfloat16 would round them (8 bits of mantissa) and run
    emulated, slower image kernels.
    """
    if not specs:
        return None
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        return _build(specs, seed)
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _build(specs: ListConfig | list, seed: int | None) -> Any:
    import keras

    from happysad.specs import instantiate_spec

    layers = []
    for i, spec in enumerate(specs):
        plain = (
            OmegaConf.to_container(spec, resolve=True)
            if isinstance(spec, DictConfig)
            else dict(spec)
        )
        if seed is not None and "seed" not in plain and _accepts_seed(plain.get("_target_")):
            plain["seed"] = int(seed) + i
        key = f"data.augment[{i}]"
        layers.append(
            instantiate_spec(
                plain, key, expect=keras.layers.Layer, example="keras.layers.RandomFlip"
            )
        )
    return keras.Sequential(layers, name="augment")


def _accepts_seed(target: Any) -> bool:
    from hydra.utils import get_class

    try:
        return "seed" in inspect.signature(get_class(str(target))).parameters
    except Exception:  # unknown target: build_layer reports it
        return False


def augment_batches(ds: Any, augmenter: Any) -> Any:
    """Map a batched (images, labels) dataset through the augmenter in training mode.

    Images come out float32 in [0, 255] (layers that can overshoot are clipped to it).
    """
    import tensorflow as tf

    def apply(x: Any, y: Any) -> tuple[Any, Any]:
        out = augmenter(tf.cast(x, tf.float32), training=True)
        return tf.clip_by_value(out, 0.0, 255.0), y

    return ds.map(apply, num_parallel_calls=tf.data.AUTOTUNE)
