"""Mixed precision: which Keras dtype policy training computes in, and a float32 copy after.

`trainer.mixed_precision`:
- `false`: float32 everywhere;
- `true` or `float16`: `mixed_float16`, for GPUs with tensor cores;
- `bfloat16`: `mixed_bfloat16`, for TPUs and CPUs with bfloat16 matrix units (AMX). On this
  project's 2-core AVX512-BF16 machine it did not pay: the demo's fit took 0.93x float32's in
  one benchmark and its training phase 1.15x in another, i.e. no gain beyond noise
  (`scripts/bench_precision.py`, docs/generalisation.md), so nothing turns it on by itself.

Mixed precision is a way to train faster, not part of the model: once training ends, the
model is rebuilt in float32 with the same weights (`float32_copy`), so evaluation,
calibration, the saved `.keras`, its ONNX copy and every later prediction compute alike
whatever the machine that trained it. The variables were float32 all along (Keras keeps them
so under a mixed policy), so the copy is exact. A warm start loads such a float32 model and
is rebuilt in the mixed policy (`with_policy`) before it trains.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FLOAT32 = "float32"
# CPU flags (Linux /proc/cpuinfo) that run bfloat16 matrix arithmetic natively
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def cpu_has_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU lists a native bfloat16 instruction set (Linux; else False): the
    benchmark reports it beside its figures."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(BF16_FLAGS & set(line.partition(":")[2].split()))
    return False


def policy_name(setting: Any) -> str:
    """The Keras dtype policy for a `trainer.mixed_precision` setting."""
    if setting is True or setting == "float16":
        return "mixed_float16"
    if setting == "bfloat16":
        return "mixed_bfloat16"
    return FLOAT32


def set_policy(setting: Any) -> str:
    """Set Keras' global dtype policy from the setting; returns the policy's name.

    Global in Keras: set for every job (a sweep's previous job may have changed it).
    """
    import keras

    name = policy_name(setting)
    keras.mixed_precision.set_global_policy(name)
    return name


def global_policy() -> str:
    """The name of Keras' global dtype policy: what the next model built computes in."""
    import keras

    return str(keras.mixed_precision.global_policy().name)


HEAD = "output"  # the classifier head's layer name: it always computes in float32


def _with_policies(node: Any, name: str) -> Any:
    """A serialized model config with every DTypePolicy set to `name`, except the head's
    (float32 under any policy)."""
    if isinstance(node, dict):
        if node.get("class_name") == "DTypePolicy" and isinstance(node.get("config"), dict):
            return {**node, "config": {**node["config"], "name": name}}
        layer_config = node.get("config")
        if isinstance(layer_config, dict) and layer_config.get("name") == HEAD:
            return node
        return {k: _with_policies(v, name) for k, v in node.items()}
    if isinstance(node, list):
        return [_with_policies(v, name) for v in node]
    return node


def _computing_layers(model: Any) -> list[Any]:
    """Every layer that computes, nested ones included: not the input layers and containers
    (an InputLayer takes the global policy whatever its model computes in)."""
    import keras

    return [
        layer
        for layer in model._flatten_layers(include_self=True)
        if not isinstance(layer, (keras.layers.InputLayer, keras.Model))
    ]


def computes_in_float32(model: Any) -> bool:
    """Whether every layer (nested ones included) computes in float32."""
    return all(layer.dtype_policy.compute_dtype == FLOAT32 for layer in _computing_layers(model))


def with_policy(model: Any, name: str) -> Any:
    """An uncompiled copy of `model` whose layers compute under policy `name` (all but the
    float32 head), with the same weights: the variables stay float32 under any policy.

    The config comes from the live model in this process, so it is rebuilt without safe
    mode (a Lambda layer the user allowed stays allowed) and without its compile settings
    (a custom loss need not be registered; the copy gets no optimizer state).
    """
    import keras

    config = keras.saving.serialize_keras_object(model)
    config.pop("compile_config", None)
    copy = keras.saving.deserialize_keras_object(_with_policies(config, name), safe_mode=False)
    copy.set_weights(model.get_weights())
    return copy


def trained_policy(model: Any) -> str:
    """The policy `model` computes in: its first mixed layer's, else float32 (the head of a
    mixed model is float32 on purpose)."""
    return next(
        (
            layer.dtype_policy.name
            for layer in _computing_layers(model)
            if layer.dtype_policy.compute_dtype != FLOAT32
        ),
        FLOAT32,
    )


def float32_copy(model: Any) -> Any:
    """`model` rebuilt in float32 with the same weights (itself when it already is float32);
    the copy is not compiled. Also resets the global policy to float32."""
    import keras

    keras.mixed_precision.set_global_policy(FLOAT32)
    trained = trained_policy(model)
    if trained == FLOAT32:
        return model
    copy = with_policy(model, FLOAT32)
    log.info("trained in %s; the model is kept in float32", trained)
    return copy


def reset() -> None:
    """Back to Keras' float32 global policy (after a job, whatever happened in it); a job
    that failed before importing Keras does not import it now."""
    keras = sys.modules.get("keras")
    if keras is not None:
        keras.mixed_precision.set_global_policy(FLOAT32)
