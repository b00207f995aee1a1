"""RandomAffine: one warp for rotation, zoom and translation, with their layers' meaning."""

from __future__ import annotations

import numpy as np
import pytest

from happysad.data.affine import RandomAffine


def _dot_image(size: int = 33) -> np.ndarray:
    """A black image with one white pixel at the centre and one to its right."""
    img = np.zeros((1, size, size, 1), dtype="float32")
    c = size // 2
    img[0, c, c] = img[0, c, c + 8] = 255.0
    return img


def _bright(img: np.ndarray) -> list[tuple[int, int]]:
    ys, xs = np.nonzero(img[0, ..., 0] > 127)
    return sorted(zip(ys.tolist(), xs.tolist(), strict=True))


def test_identity_ranges_and_inference_leave_the_image_alone() -> None:
    x = np.random.default_rng(0).uniform(0, 255, (4, 16, 16, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(RandomAffine(seed=1)(x, training=True)), x, atol=1e-3)
    layer = RandomAffine(rotation=0.1, zoom=(-0.3, 0.3), translation=0.2, seed=1)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)


def test_a_quarter_turn_moves_a_point_around_the_centre() -> None:
    """Up to +-90 degrees: wherever the off-centre dot lands, it stays 8 px from the centre,
    and the centre stays where it is."""
    x = _dot_image()
    out = np.asarray(RandomAffine(rotation=0.25, seed=4)(x, training=True))
    dots = _bright(out)
    assert (16, 16) in dots
    others = [p for p in dots if p != (16, 16)]
    assert others and all(abs(np.hypot(y - 16, x_ - 16) - 8) <= 1.5 for y, x_ in others)


def test_zoom_out_shrinks_distances_and_zoom_in_grows_them() -> None:
    x = _dot_image()
    out = np.asarray(RandomAffine(zoom=(1.0, 1.0), interpolation="nearest")(x, training=True))
    assert _bright(out) == [(16, 16), (16, 20)]  # twice as far out: the dot moves halfway in
    out = np.asarray(RandomAffine(zoom=(-0.5, -0.5), interpolation="nearest")(x, training=True))
    assert (16, 16) in _bright(out) and max(xx for _, xx in _bright(out)) == 32  # 8 -> 16 out


def test_translation_shifts_by_at_most_the_fraction() -> None:
    x = _dot_image(41)
    layer = RandomAffine(translation=0.1, interpolation="nearest", seed=0)
    batch = np.repeat(x, 16, axis=0)
    out = np.asarray(layer(batch, training=True))
    shifts = []
    for img in out:
        ys, xs = np.nonzero(img[..., 0] > 127)
        shifts.append((ys.min() - 20, xs.min() - 20))
    assert all(abs(dy) <= 4 and abs(dx) <= 4 for dy, dx in shifts)  # 10 % of 41 px
    assert len(set(shifts)) > 4  # each image its own shift


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
