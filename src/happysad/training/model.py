"""Build a Keras model from the YAML layer list, with an output head sized to the classes.

Each `model.layers` item is instantiated with Hydra (`_target_` + kwargs), so any
`keras.layers.*` (or any importable layer class) works without a registry here. Errors name
the layer's index and target.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras
from omegaconf import DictConfig, OmegaConf

from happysad.config import BACKBONES
from happysad.errors import ConfigError, first_line
from happysad.specs import instantiate_spec


def build_layer(spec: DictConfig | dict, key: str) -> keras.layers.Layer:
    """Instantiate one layer; a bad target or kwarg becomes a ConfigError naming `key`."""
    return instantiate_spec(spec, key, expect=keras.layers.Layer, example="keras.layers.Conv2D")


def output_spec(n_classes: int, head: str) -> tuple[int, str]:
    """(units, activation) of the auto head: 1 sigmoid unit for 2 classes, softmax for more."""
    if head == "none":
        return 0, ""
    return (1, "sigmoid") if n_classes == 2 else (n_classes, "softmax")


def build_model(
    model_cfg: DictConfig,
    input_shape: tuple[int, int, int],
    n_classes: int,
    name: str | None = None,
) -> keras.Model:
    """Input (uint8 pixels as float) -> [Rescaling] -> [backbone] -> configured layers -> head."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    if model_cfg.input_scale is not None:
        x = keras.layers.Rescaling(float(model_cfg.input_scale), name="rescale")(x)
    if model_cfg.backbone:
        # Pretrained: BatchNorm always in inference mode (its ImageNet statistics must not
        # be overwritten by small batches, frozen or fine-tuned). From scratch: it learns.
        pretrained = model_cfg.weights is not None
        x = build_backbone(model_cfg, input_shape)(x, training=False if pretrained else None)
    for i, spec in enumerate(model_cfg.layers):
        key = f"model.layers[{i}]"
        layer = build_layer(spec, key)
        try:
            x = layer(x)
        except Exception as err:  # shape errors surface when the layer is called
            raise ConfigError(
                f"{key}: {spec.get('_target_')} cannot take input of shape {tuple(x.shape)}: "
                f"{first_line(err)}"
            ) from None
    return keras.Model(inputs, _head(x, model_cfg.head, n_classes), name=name or model_cfg.name)


def _head(x: Any, head: str, n_classes: int) -> Any:
    units, activation = output_spec(n_classes, head)
    if units:
        if len(x.shape) > 2:
            raise ConfigError(
                f"model.layers: the last layer outputs shape {tuple(x.shape)}; end the stack with "
                "Flatten or GlobalAveragePooling2D before the output head"
            )
        # float32 output even under mixed precision: probabilities and the loss stay stable.
        return keras.layers.Dense(units, activation=activation, name="output", dtype="float32")(x)
    want = 1 if n_classes == 2 else n_classes
    if x.shape[-1] not in (want, n_classes):
        raise ConfigError(
            f"model.head=none: the last layer has {x.shape[-1]} units but there are "
            f"{n_classes} classes (expected {want})"
        )
    return x


BACKBONE_LAYER = "backbone"


def build_backbone(model_cfg: DictConfig, input_shape: tuple[int, int, int]) -> keras.Model:
    """A keras.applications network without its classifier, named "backbone".

    `model.weights`: null (random init), imagenet (Keras' download, cached in ~/.keras/models;
    refused in seconds when offline and not cached) or a path to a weights file.
    """
    name = str(model_cfg.backbone)
    weights = model_cfg.weights
    if input_shape[-1] != 3:
        raise ConfigError(f"model.backbone={name}: needs RGB input (data.channels=3)")
    if weights == "imagenet":
        _check_imagenet_reachable(name)
    elif weights is not None and not Path(str(weights)).expanduser().is_file():
        raise ConfigError(
            f"model.weights={weights!r}: no such file (use imagenet, null or a weights file)"
        )
    ctor = getattr(keras.applications, BACKBONES[name])
    kwargs = dict(model_cfg.backbone_kwargs or {})
    try:
        net = ctor(
            include_top=False,
            weights="imagenet" if weights == "imagenet" else None,
            input_shape=input_shape,
            **kwargs,
        )
    except (TypeError, ValueError) as err:
        raise ConfigError(f"model.backbone={name}: {first_line(err)}") from None
    if weights not in (None, "imagenet"):
        try:
            net.load_weights(str(Path(str(weights)).expanduser()), skip_mismatch=False)
        except Exception as err:
            raise ConfigError(
                f"model.weights={weights!r}: does not fit {name} ({first_line(err)[:160]})"
            ) from None
    return keras.Model(net.input, net.output, name=BACKBONE_LAYER)


def _check_imagenet_reachable(name: str, timeout: float = 3.0) -> None:
    """Fail in seconds, not after a hanging download, when ImageNet weights cannot be had."""
    import socket

    cache = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"
    stem = {"mobilenet_v3": "weights_mobilenet_v3", "efficientnet": "efficientnet"}
    prefix = next((v for k, v in stem.items() if name.startswith(k)), name)
    if cache.is_dir() and any(p.name.startswith(prefix) for p in cache.iterdir()):
        return  # Keras finds its cached download
    try:
        socket.create_connection(("storage.googleapis.com", 443), timeout=timeout).close()
    except OSError:
        raise ConfigError(
            f"model.weights=imagenet: cannot download the ImageNet weights of {name} (no "
            f"network); put the file in {cache} (where Keras caches it), give a weights file "
            "path, or use model.weights=null to train from scratch"
        ) from None


def set_backbone_trainable(model: keras.Model, unfreeze: int | None) -> int:
    """Freeze the backbone (unfreeze=0), or make its top `unfreeze` layers trainable (None: all).

    BatchNormalization layers stay frozen, so they run in inference mode with their
    pretrained statistics: small fine-tuning batches must not overwrite them. Returns the
    number of trainable backbone layers.
    """
    try:
        backbone = model.get_layer(BACKBONE_LAYER)
    except ValueError:
        return 0
    backbone.trainable = bool(unfreeze is None or unfreeze > 0)
    layers = backbone.layers
    start = 0 if unfreeze is None else max(len(layers) - int(unfreeze), 0)
    n = 0
    for i, layer in enumerate(layers):
        layer.trainable = (
            backbone.trainable
            and i >= start
            and not isinstance(layer, keras.layers.BatchNormalization)
        )
        n += int(layer.trainable and bool(layer.weights))
    return n


def warm_start(
    model_cfg: DictConfig,
    loaded: Any,
    input_shape: tuple[int, int, int],
    class_names: list[str],
) -> keras.Model:
    """A previous happysad model (`model.init_from`) to continue training from.

    Same classes in the same order: the whole model, output layer included. Other classes:
    everything up to the output layer, with a new head sized to the new classes.
    """
    src = loaded.model
    ref = f"model.init_from={model_cfg.init_from!r}"
    if tuple(src.input_shape[1:]) != tuple(input_shape):
        raise ConfigError(
            f"{ref}: the model takes images of shape {tuple(src.input_shape[1:])}, the data "
            f"config gives {tuple(input_shape)} (set data.image_size and data.channels to match)"
        )
    if list(loaded.metadata.class_names) == list(class_names):
        return src
    try:
        features = src.get_layer("output").input
    except ValueError:
        raise ConfigError(f"{ref}: the model has no layer named 'output' to replace") from None
    head = _head(features, "auto", len(class_names))
    return keras.Model(src.inputs, head, name=model_cfg.name)


def is_binary_output(model: keras.Model) -> bool:
    """True when the model emits one probability (of class index 1)."""
    return int(model.output_shape[-1]) == 1


@keras.saving.register_keras_serializable(package="happysad")
class SparseSmoothedCrossentropy(keras.losses.Loss):
    """Categorical cross-entropy with label smoothing, on integer labels (softmax heads)."""

    def __init__(self, label_smoothing: float = 0.0, name: str = "smoothed_ce", **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        n = keras.ops.shape(y_pred)[-1]
        onehot = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32"), n)
        return keras.losses.categorical_crossentropy(
            onehot, y_pred, label_smoothing=self.label_smoothing
        )

    def get_config(self) -> dict:
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def resolve_loss(model_cfg: DictConfig, model: keras.Model) -> Any:
    """`model.loss`: auto picks the cross-entropy for the head (with model.label_smoothing)."""
    loss, smoothing = model_cfg.loss, float(model_cfg.label_smoothing)
    if loss in (None, "auto"):
        if is_binary_output(model):
            return keras.losses.BinaryCrossentropy(label_smoothing=smoothing)
        if smoothing:
            return SparseSmoothedCrossentropy(smoothing)
        return "sparse_categorical_crossentropy"
    if isinstance(loss, DictConfig):
        return instantiate_spec(loss, "model.loss", example="keras.losses.BinaryFocalCrossentropy")
    return loss


def build_optimizer(opt_cfg: DictConfig, lr: float | None = None) -> keras.optimizers.Optimizer:
    """`optimizer.lr` (or `lr`) is passed as `learning_rate`; other keys go to it as is."""
    spec = OmegaConf.to_container(opt_cfg, resolve=True)
    assert isinstance(spec, dict)
    configured = spec.pop("lr")
    lr = configured if lr is None else lr
    return instantiate_spec(
        spec,
        f"optimizer._target_={spec.get('_target_')!r}",
        expect=keras.optimizers.Optimizer,
        example="keras.optimizers.Adam",
        name_target=False,
        learning_rate=float(lr),
    )


def build_metrics(names: list[str], binary: bool) -> list[Any]:
    """Keras metrics for per-epoch logging; precision/recall/auc only make sense for one sigmoid."""
    out: list[Any] = []
    for name in names:
        if name == "accuracy":
            out.append("accuracy")
        elif binary and name == "precision":
            out.append(keras.metrics.Precision(name="precision"))
        elif binary and name == "recall":
            out.append(keras.metrics.Recall(name="recall"))
        elif binary and name == "auc":
            out.append(keras.metrics.AUC(name="auc"))
        elif name in ("precision", "recall", "auc"):
            continue  # multiclass: computed after training by the evaluator, per class
        else:
            out.append(name)
    return out
