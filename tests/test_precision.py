"""Mixed precision: the policy a setting resolves to, and the float32 model kept after."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from happysad.training import precision


@pytest.mark.parametrize(
    ("setting", "want"),
    [
        (False, "float32"),
        (True, "mixed_float16"),
        ("float16", "mixed_float16"),
        ("bfloat16", "mixed_bfloat16"),
    ],
)
def test_policy_name(setting: object, want: str) -> None:
    assert precision.policy_name(setting) == want


def test_cpu_flags_decide_native_bfloat16(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n\nflags\t: amx_bf16\n")
    assert not precision.cpu_has_bf16(info)  # the first CPU's flags line decides
    info.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16 avx512_vnni\n")
    assert precision.cpu_has_bf16(info)
    assert not precision.cpu_has_bf16(tmp_path / "missing")


def _mixed_model():
    import keras

    inner = keras.Sequential(
        [keras.layers.Conv2D(4, 3, use_bias=False), keras.layers.BatchNormalization()],
        name="block",
    )
    inputs = keras.Input((12, 12, 3))
    x = inner(keras.layers.Rescaling(1 / 255)(inputs))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.ReLU()(x))
    outputs = keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="output")(x)
    return keras.Model(inputs, outputs)


def test_float32_copy_keeps_the_weights_and_computes_in_float32() -> None:
    import keras

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (32, 12, 12, 3)).astype("float32")
    y = rng.integers(0, 2, (32, 1)).astype("float32")
    try:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        model = _mixed_model()
        model.get_layer("block").layers[1].trainable = False  # a frozen BatchNorm

        def unregistered_loss(y_true, y_pred):  # a user's loss Keras cannot deserialize
            return keras.losses.binary_crossentropy(y_true, y_pred)

        model.compile(optimizer="adam", loss=unregistered_loss)
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)  # moves weights and BN statistics
        copy = precision.float32_copy(model)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert copy is not model
    assert precision.computes_in_float32(copy)
    assert copy.get_layer("block").layers[0].dtype_policy.name == "float32"  # nested too
    assert not precision.computes_in_float32(model)  # the trained model is left as it was
    assert not copy.compiled and getattr(copy, "optimizer", None) is None  # no compile settings
    assert copy.get_layer("block").layers[1].trainable is False
    for a, b in zip(model.get_weights(), copy.get_weights(), strict=True):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a, b)
    # Same function up to bfloat16 rounding (8 bits of mantissa) in the original.
    want = model.predict_on_batch(x).astype(np.float64)
    got = copy.predict_on_batch(x).astype(np.float64)
    assert np.max(np.abs(want - got)) < 0.03
    assert np.std(got) > 0  # not a constant function: the comparison means something


def test_float32_model_is_returned_as_is() -> None:
    import keras

    keras.mixed_precision.set_global_policy("float32")
    model = _mixed_model()
    assert precision.float32_copy(model) is model


def test_augmentation_stays_float32_under_a_mixed_policy() -> None:
    """Augmentation transforms pixels in the input pipeline: bfloat16 would round them."""
    import keras

    from happysad.data.augment import build_augmenter

    specs = [
        {"_target_": "keras.layers.RandomRotation", "factor": 0.05},
        {"_target_": "keras.layers.RandomContrast", "factor": 0.3},
    ]
    try:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        augmenter = build_augmenter(specs, seed=0)
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"  # left as set
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert {layer.dtype_policy.name for layer in augmenter.layers} == {"float32"}
    x = np.linspace(0, 255, 2 * 8 * 8 * 3, dtype="float32").reshape(2, 8, 8, 3)
    out = np.asarray(augmenter(x, training=True))
    assert out.dtype == np.float32
    # bfloat16 holds 8 significant bits: from 128 up it has whole numbers only
    big = out[out > 130]
    assert big.size and np.any(np.abs(big - np.round(big)) > 1e-3)


def test_a_float32_model_can_be_rebuilt_to_train_mixed() -> None:
    """A warm start loads a float32 model: rebuilt under the mixed policy (all but the head,
    which stays float32) it trains as `trainer.mixed_precision` asks."""
    import keras

    model = _mixed_model()  # built under float32 here
    mixed = precision.with_policy(model, "mixed_bfloat16")
    policies = {
        layer.name: layer.dtype_policy.name
        for layer in mixed._flatten_layers()
        if not isinstance(layer, (keras.Model, keras.layers.InputLayer))  # they compute nothing
    }
    assert policies.pop("output") == "float32"
    assert set(policies.values()) == {"mixed_bfloat16"}
    for a, b in zip(model.get_weights(), mixed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_reset_restores_float32() -> None:
    import keras

    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    precision.reset()
    assert keras.mixed_precision.global_policy().name == "float32"
