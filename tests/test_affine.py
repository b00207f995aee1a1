"""RandomAffine: one warp for rotation, zoom and translation, with their layers' meaning."""

from __future__ import annotations

import math

import numpy as np
import pytest

from happysad.data.affine import RandomAffine


def test_identity_ranges_and_inference_leave_the_image_alone() -> None:
    x = np.random.default_rng(0).uniform(0, 255, (4, 16, 16, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(RandomAffine(seed=1)(x, training=True)), x, atol=1e-3)
    layer = RandomAffine(rotation=0.1, zoom=(-0.3, 0.3), translation=0.2, seed=1)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)


def _dots() -> np.ndarray:
    """Four dots of different values: any wrong turn, flip or shift moves one of them."""
    x = np.zeros((1, 21, 21, 1), dtype="float32")
    x[0, 3, 5], x[0, 10, 10], x[0, 6, 15], x[0, 14, 4] = 255, 100, 50, 200
    return x


@pytest.mark.parametrize(
    ("params", "keras_layer"),
    [
        ((math.pi / 2, 1.0, (0.0, 0.0)), ("RandomRotation", {"factor": (0.25, 0.25)})),
        ((0.0, 2.0, (0.0, 0.0)), ("RandomZoom", {"height_factor": (1.0, 1.0)})),
        ((0.0, 0.5, (0.0, 0.0)), ("RandomZoom", {"height_factor": (-0.5, -0.5)})),
        (
            (0.0, 1.0, (0.2, 0.1)),
            ("RandomTranslation", {"height_factor": (0.1, 0.1), "width_factor": (0.2, 0.2)}),
        ),
    ],
)
def test_each_motion_matches_the_keras_layer_it_replaces(params: tuple, keras_layer: tuple) -> None:
    """With the random draw fixed, one warp puts every pixel where Keras' own layer does."""
    import keras

    angle, scale, shift = params
    name, kwargs = keras_layer
    theirs = getattr(keras.layers, name)(**kwargs, fill_mode="constant", interpolation="nearest")
    ours = RandomAffine(fill_mode="constant", interpolation="nearest")
    x = _dots()
    got = np.asarray(ours.warp(x, [angle], [scale], [list(shift)]))
    np.testing.assert_array_equal(got, np.asarray(theirs(x, training=True)))
    assert not np.array_equal(got, x)


def test_draws_cover_the_ranges() -> None:
    """Rotation, zoom and shift are drawn per image, over the whole range."""
    layer = RandomAffine(rotation=0.25, zoom=(-0.5, 1.0), translation=0.2, seed=0)
    outs = np.asarray(layer(np.repeat(_dots(), 64, axis=0), training=True))
    assert len({o.tobytes() for o in outs}) == 64  # each image its own warp
    # where the brightest dot went: spread over the frame, not stuck near its start (3, 5)
    spots = [np.unravel_index(np.argmax(o[..., 0]), o.shape[:2]) for o in outs]
    ys, xs = zip(*spots, strict=True)
    assert max(ys) - min(ys) >= 8 and max(xs) - min(xs) >= 8


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"rotation": 0.7}, "rotation"),
        ({"zoom": (0.5, 0.1)}, "zoom"),
        ({"translation": 1.2}, "translation"),
    ],
)
def test_bad_ranges_name_the_argument(kwargs: dict, word: str) -> None:
    with pytest.raises(ValueError, match=rf"^{word}="):
        RandomAffine(**kwargs)


def test_config_round_trip_and_use_in_a_tf_data_pipeline() -> None:
    import tensorflow as tf

    from happysad.data.augment import augment_batches, build_augmenter

    specs = [
        {
            "_target_": "happysad.data.affine.RandomAffine",
            "rotation": 0.05,
            "zoom": [-0.2, 0.4],
            "translation": 0.15,
        },
    ]
    augmenter = build_augmenter(specs, seed=3)
    layer = augmenter.layers[0]
    assert RandomAffine.from_config(layer.get_config()).get_config() == layer.get_config()
    x = np.random.default_rng(1).uniform(0, 255, (8, 24, 24, 3)).astype("float32")
    ds = augment_batches(tf.data.Dataset.from_tensor_slices((x, np.zeros(8))).batch(4), augmenter)
    out = np.concatenate([np.asarray(b) for b, _ in ds])
    assert out.shape == x.shape and out.dtype == np.float32
    assert not np.allclose(out, x)  # it did augment
    assert out.min() >= 0.0 and out.max() <= 255.0
