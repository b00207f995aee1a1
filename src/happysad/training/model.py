"""Build a Keras model from the YAML layer list, with an output head sized to the classes.

Each `model.layers` item is instantiated with Hydra (`_target_` + kwargs), so any
`keras.layers.*` (or any importable layer class) works without a registry here. Errors name
the layer's index and target.
"""

from __future__ import annotations

from typing import Any

import keras
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from happysad.errors import ConfigError


def _first_line(err: BaseException) -> str:
    """The most specific message in an exception chain, on one line."""
    while err.__cause__ is not None and isinstance(err, InstantiationException):
        err = err.__cause__
    text = str(err).strip().splitlines()
    return (
        text[-1]
        if isinstance(err, InstantiationException) and text
        else (text[0] if text else type(err).__name__)
    )


def build_layer(spec: DictConfig | dict, key: str) -> keras.layers.Layer:
    """Instantiate one layer; a bad target or kwarg becomes a ConfigError naming `key`."""
    target = spec.get("_target_")
    try:
        layer = instantiate(spec, _convert_="all")
    except InstantiationException as err:
        msg = _first_line(err)
        if "Error locating target" in str(err) or "not found" in msg.lower():
            msg = f"cannot import {target!r} (is it spelled right? e.g. keras.layers.Conv2D)"
        raise ConfigError(f"{key}: {target}: {msg}") from None
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{key}: {target}: {_first_line(err)}") from None
    if not isinstance(layer, keras.layers.Layer):
        raise ConfigError(f"{key}: {target} built a {type(layer).__name__}, not a keras layer")
    return layer


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
    """Input (uint8 pixels as float) -> Rescaling -> configured layers -> head."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    scale = model_cfg.get("input_scale")
    if scale is not None:
        x = keras.layers.Rescaling(float(scale), name="rescale")(x)
    for i, spec in enumerate(model_cfg.layers):
        key = f"model.layers[{i}]"
        layer = build_layer(spec, key)
        try:
            x = layer(x)
        except Exception as err:  # shape errors surface when the layer is called
            raise ConfigError(
                f"{key}: {spec.get('_target_')} cannot take input of shape {tuple(x.shape)}: "
                f"{_first_line(err)}"
            ) from None
    units, activation = output_spec(n_classes, model_cfg.get("head", "auto"))
    if units:
        if len(x.shape) > 2:
            raise ConfigError(
                f"model.layers: the last layer outputs shape {tuple(x.shape)}; end the stack with "
                "Flatten or GlobalAveragePooling2D before the output head"
            )
        # float32 output even under mixed precision: probabilities and the loss stay stable.
        x = keras.layers.Dense(units, activation=activation, name="output", dtype="float32")(x)
    else:
        want = 1 if n_classes == 2 else n_classes
        if x.shape[-1] not in (want, n_classes):
            raise ConfigError(
                f"model.head=none: the last layer has {x.shape[-1]} units but there are "
                f"{n_classes} classes (expected {want})"
            )
    return keras.Model(inputs, x, name=name or str(model_cfg.get("name", "happysad")))


def is_binary_output(model: keras.Model) -> bool:
    """True when the model emits one probability (of class index 1)."""
    return int(model.output_shape[-1]) == 1


def resolve_loss(model_cfg: DictConfig, model: keras.Model) -> Any:
    loss = model_cfg.get("loss", "auto")
    if loss in (None, "auto"):
        return (
            "binary_crossentropy" if is_binary_output(model) else "sparse_categorical_crossentropy"
        )
    if isinstance(loss, DictConfig):
        return instantiate(loss, _convert_="all")
    return loss


def build_optimizer(opt_cfg: DictConfig) -> keras.optimizers.Optimizer:
    """`optimizer.lr` is passed as `learning_rate`; other keys go to the optimizer as is."""
    spec = OmegaConf.to_container(opt_cfg, resolve=True)
    assert isinstance(spec, dict)
    lr = spec.pop("lr")
    target = spec.get("_target_")
    try:
        opt = instantiate(spec, learning_rate=float(lr))
    except InstantiationException as err:
        msg = _first_line(err)
        if "Error locating target" in str(err):
            msg = f"cannot import {target!r} (e.g. keras.optimizers.Adam)"
        raise ConfigError(f"optimizer._target_={target!r}: {msg}") from None
    if not isinstance(opt, keras.optimizers.Optimizer):
        raise ConfigError(
            f"optimizer._target_={target!r}: built a {type(opt).__name__}, not a keras optimizer"
        )
    return opt


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
