"""Grad-CAM: which pixels pushed the model towards the class it predicted.

Grad-CAM (Selvaraju et al., 2017) weights the feature maps of a convolutional layer by the
spatially averaged gradient of the class score, sums them and keeps the positive part; the
coarse map is upsampled to the input size and scaled to [0, 1] per image.

- The layer: by default the output of the *last conv block whose map is at least 6 cells
  across* (a conv block: a Conv2D-like layer plus the element-wise layers right after it,
  BatchNormalization, ReLU, Activation, Dropout...), else of the last conv block. A coarser
  map cannot point at a mouth: small_cnn's fifth block is 4x4 at 64 px, so its map is taken
  after the fourth block's ReLU (8x8). Any stack with a conv layer works; name another layer
  (``insight.gradcam_layer`` / ``--explain-layer``) to look elsewhere.
- The score: the logit of the explained class when the model ends in a sigmoid/softmax Dense
  (as the ``head: auto`` models do), so saturated probabilities (p = 1.0) still have a
  gradient; for a binary model the logit of class 0 is ``-z``. Other heads use log p.

TensorFlow is imported lazily; ``select_samples`` and ``overlay`` are plain numpy. Nothing here
draws a figure (``figures.gradcam`` draws, ``explain`` writes files), so figures may import this
module without a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

_CONV_TYPES = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose")
_ELEMENTWISE_TYPES = (
    "BatchNormalization",
    "LayerNormalization",
    "GroupNormalization",
    "ReLU",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "Softmax",
    "Activation",
    "Dropout",
    "SpatialDropout2D",
    "GaussianNoise",
    "GaussianDropout",
    "Identity",
)


class GradCamError(ValueError):
    """The model has no usable layer for Grad-CAM (or the named one is unusable)."""


def _is_4d(layer: Any) -> bool:
    """Whether ``layer`` has a (batch, height, width, channels) output, i.e. a spatial map."""
    try:
        return len(layer.output.shape) == 4
    except (AttributeError, ValueError):
        return False


_MIN_CELLS = 6  # a map this many cells across (or more) can point at a part of a face


def find_gradcam_layer(model: Any, name: str | None = None) -> str:
    """The layer Grad-CAM reads: `name` if given (checked), else the output of the last conv
    block with a map at least 6 cells across (of the last conv block when none is)."""
    layers = list(model.layers)
    spatial = [layer.name for layer in layers if _is_4d(layer)]
    if name:
        try:
            layer = model.get_layer(name)
        except ValueError:
            raise GradCamError(
                f"gradcam layer {name!r} is not in the model (layers with a spatial output: "
                f"{', '.join(spatial) or 'none'})"
            ) from None
        if not _is_4d(layer):
            raise GradCamError(
                f"gradcam layer {name!r} outputs shape {tuple(layer.output.shape)}; pick one "
                f"with a (batch, height, width, channels) output: {', '.join(spatial) or 'none'}"
            )
        return name
    conv = [i for i, layer in enumerate(layers) if type(layer).__name__ in _CONV_TYPES]
    conv = [i for i in conv if _is_4d(layers[i])]
    if not conv:
        raise GradCamError(
            "the model has no 2D convolution layer for Grad-CAM; name a layer with a spatial "
            f"output instead ({', '.join(spatial) or 'none'})"
        )
    fine = [
        i for i in conv if all(d is None or d >= _MIN_CELLS for d in layers[i].output.shape[1:3])
    ]
    i = (fine or conv)[-1]
    shape = tuple(layers[i].output.shape)
    while (
        i + 1 < len(layers)
        and type(layers[i + 1]).__name__ in _ELEMENTWISE_TYPES
        and tuple(layers[i + 1].output.shape) == shape
    ):
        i += 1
    return layers[i].name


def _score_head(model: Any) -> tuple[Any, bool]:
    """(the output Dense layer, True) when the model ends in a sigmoid/softmax Dense."""
    import keras

    last = model.layers[-1]
    if isinstance(last, keras.layers.Dense):
        act = getattr(last.activation, "__name__", "")
        if act in ("sigmoid", "softmax"):
            return last, True
    return last, False


def gradcam(
    model: Any,
    images: np.ndarray,
    class_index: Sequence[int] | np.ndarray | None = None,
    layer_name: str | None = None,
    batch_size: int = 32,
    threshold: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Grad-CAM heatmaps for `images` (uint8 or float pixels as the model takes them).

    Returns (heatmaps float32 (N, H, W) in [0, 1], explained class index (N,), the model's
    probabilities ((N,) binary / (N, C)), the layer name). The explained class defaults to
    the predicted one (binary: P >= threshold means class 1).
    """
    import keras
    import tensorflow as tf

    layer_name = find_gradcam_layer(model, layer_name)
    feat_layer = model.get_layer(layer_name)
    head, use_logits = _score_head(model)
    second = head.input if use_logits else model.output
    grad_model = keras.Model(model.inputs, [feat_layer.output, second])
    binary = int(model.output_shape[-1]) == 1
    n = len(images)
    h, w = images.shape[1:3]
    heat = np.zeros((n, h, w), dtype=np.float32)
    probs_out = np.zeros((n,) if binary else (n, int(model.output_shape[-1])), dtype=np.float32)
    explained = np.zeros(n, dtype=np.int64)
    for start in range(0, n, batch_size):
        x = tf.convert_to_tensor(np.asarray(images[start : start + batch_size]), tf.float32)
        with tf.GradientTape() as tape:
            feats, pre = grad_model(x, training=False)
            if use_logits:
                # Under mixed precision `pre` is float16 while the head is float32.
                pre = tf.cast(pre, head.kernel.dtype)
                logits = tf.matmul(pre, head.kernel) + head.bias
                probs = head.activation(logits)
            else:
                probs = pre
            p = probs.numpy()
            p = p[:, 0] if binary else p
            if class_index is None:
                cls = (p >= threshold).astype(np.int64) if binary else p.argmax(axis=1)
            else:
                cls = np.asarray(class_index[start : start + batch_size], dtype=np.int64)
            if binary:
                sign = tf.constant(np.where(cls == 1, 1.0, -1.0), tf.float32)
                if use_logits:
                    score = logits[:, 0] * sign
                else:
                    pz = tf.clip_by_value(probs[:, 0], 1e-7, 1 - 1e-7)
                    score = tf.where(sign > 0, tf.math.log(pz), tf.math.log(1 - pz))
            else:
                idx = tf.constant(np.stack([np.arange(len(cls)), cls], axis=1), tf.int32)
                chosen = tf.gather_nd(logits if use_logits else probs, idx)
                score = chosen if use_logits else tf.math.log(tf.maximum(chosen, 1e-7))
            total = tf.reduce_sum(score)
        grads = tape.gradient(total, feats)
        if grads is None:
            raise GradCamError(
                f"gradcam layer {layer_name!r} gets no gradient from the output; pick a "
                "convolution (or later) layer"
            )
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(weights * feats, axis=-1)).numpy()
        for j, m in enumerate(cam):
            heat[start + j] = _normalise(_upsample(m, h, w))
        probs_out[start : start + len(cls)] = p
        explained[start : start + len(cls)] = cls
    return heat, explained, probs_out, layer_name


def _upsample(m: np.ndarray, h: int, w: int) -> np.ndarray:
    """The coarse layer map resized to the input (bilinear), so it can lie over the image."""
    import cv2

    return cv2.resize(m.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def _normalise(m: np.ndarray) -> np.ndarray:
    """Positive part scaled to [0, 1] per image (all zeros when there is no evidence)."""
    m = np.maximum(m, 0.0)
    top = float(m.max()) if m.size else 0.0
    return (m / top).astype(np.float32) if top > 0 else np.zeros_like(m, dtype=np.float32)


def overlay(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """Blend a [0, 1] heatmap (jet colours: red = most evidence) over a uint8 image."""
    from matplotlib import colormaps

    img = np.asarray(image)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    img = img.astype(np.float32)
    if img.max() <= 1.0:
        img = img * 255.0
    heat = np.clip(np.asarray(heatmap, dtype=np.float32), 0.0, 1.0)
    if heat.shape != img.shape[:2]:
        heat = _upsample(heat, *img.shape[:2])
    colour = colormaps["jet"](heat)[..., :3] * 255.0
    out = (1.0 - alpha) * img + alpha * colour
    return np.clip(out.round(), 0, 255).astype(np.uint8)


def select_samples(
    y_true: np.ndarray, y_pred: np.ndarray, confidence: np.ndarray, n: int, n_classes: int
) -> np.ndarray:
    """Indices to explain: every class, misclassified and correct, deterministic.

    Each true class gets an equal share; within it up to half are misclassified (most
    confidently wrong first), the rest correct ones spread from least to most confident.
    Shares a class cannot fill go to the others. Ordered by class, wrong first.
    """
    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
    confidence = np.asarray(confidence, dtype=float)
    n = min(int(n), len(y_true))
    picked: dict[int, list[int]] = {}
    pools: dict[int, tuple[list[int], list[int]]] = {}
    for c in range(n_classes):
        idx = np.flatnonzero(y_true == c)
        wrong = idx[y_pred[idx] != c]
        wrong = list(wrong[np.argsort(-confidence[wrong], kind="stable")])
        right = idx[y_pred[idx] == c]
        right = right[np.argsort(confidence[right], kind="stable")]
        pools[c] = (wrong, list(right))
        picked[c] = []
    quota = {c: n // n_classes + (1 if c < n % n_classes else 0) for c in range(n_classes)}

    def spread(items: list[int], k: int) -> list[int]:
        if k >= len(items):
            return list(items)
        pos = np.linspace(0, len(items) - 1, k).round().astype(int)
        return [items[i] for i in pos]

    for c in range(n_classes):
        wrong, right = pools[c]
        k_wrong = min(len(wrong), max(1, quota[c] // 2) if quota[c] else 0)
        k_right = min(len(right), quota[c] - k_wrong)
        k_wrong = min(len(wrong), quota[c] - k_right)  # too few right ones: more wrong
        picked[c] = wrong[:k_wrong] + spread(right, k_right)
    missing = n - sum(len(v) for v in picked.values())
    for c in range(n_classes):  # classes with spare images fill the others' shares
        if missing <= 0:
            break
        wrong, right = pools[c]
        spare = [i for i in wrong + right if i not in picked[c]]
        extra = spare[:missing]
        picked[c] += extra
        missing -= len(extra)
    out: list[int] = []
    for c in range(n_classes):
        chosen = picked[c]
        out += [i for i in chosen if y_pred[i] != c] + [i for i in chosen if y_pred[i] == c]
    return np.asarray(out, dtype=np.int64)
