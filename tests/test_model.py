"""Model building: every model config builds and runs; bad layer specs name the layer."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from happysad.config import with_defaults
from happysad.errors import ConfigError
from happysad.paths import config_dir

keras = pytest.importorskip("keras")
from happysad.training.model import build_model, build_optimizer, is_binary_output  # noqa: E402

MODELS = sorted(p.stem for p in (config_dir() / "model").glob("*.yaml"))


def model_cfg(name: str):
    """A model preset as the job sees it; backbones untrained (tests never download)."""
    cfg = with_defaults("model", OmegaConf.load(config_dir() / "model" / f"{name}.yaml"))
    if cfg.backbone:
        cfg.weights = None
    return cfg


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("n_classes", [2, 4])
def test_every_model_config_builds_and_predicts(name: str, n_classes: int) -> None:
    size = 256 if name == "seed_cnn" else 48
    model = build_model(model_cfg(name), (size, size, 3), n_classes)
    x = np.random.default_rng(0).integers(0, 255, (2, size, size, 3)).astype("float32")
    y = model.predict(x, verbose=0)
    if n_classes == 2:
        assert y.shape == (2, 1) and is_binary_output(model)
        assert ((y >= 0) & (y <= 1)).all()
    else:
        assert y.shape == (2, n_classes)
        np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


def test_seed_cnn_matches_the_notebook_layer_for_layer() -> None:
    model = build_model(model_cfg("seed_cnn"), (256, 256, 3), 2)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "InputLayer",
        "Rescaling",
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "Dense",
    ]
    # The notebook's parameter count: 3,696,625 trainable parameters.
    assert model.count_params() == 3_696_625
    assert model.layers[-1].activation.__name__ == "sigmoid"


@pytest.mark.parametrize(
    ("layers", "needle"),
    [
        (
            [{"_target_": "keras.layers.Conv2DD", "filters": 4}],
            "model.layers[0]: keras.layers.Conv2DD",
        ),
        ([{"_target_": "keras.layers.Conv2D", "filtres": 4, "kernel_size": 3}], "model.layers[0]"),
        (
            [
                {"_target_": "keras.layers.Flatten"},
                {"_target_": "keras.layers.Conv2D", "filters": 2, "kernel_size": 3},
            ],
            "model.layers[1]",
        ),
        (
            [{"_target_": "keras.layers.Conv2D", "filters": 2, "kernel_size": 3}],
            "end the stack with",
        ),
    ],
)
def test_bad_layers_name_the_layer(layers: list, needle: str) -> None:
    cfg = with_defaults("model", {"name": "bad", "input_scale": None, "layers": layers})
    with pytest.raises(ConfigError) as info:
        build_model(cfg, (16, 16, 3), 2)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_any_keras_layer_works_and_head_none_is_checked() -> None:
    cfg = with_defaults(
        "model",
        {
            "name": "custom",
            "input_scale": 0.5,
            "head": "none",
            "layers": [
                {"_target_": "keras.layers.SeparableConv2D", "filters": 4, "kernel_size": 3},
                {"_target_": "keras.layers.GlobalMaxPooling2D"},
                {"_target_": "keras.layers.Dense", "units": 3, "activation": "softmax"},
            ],
        },
    )
    assert build_model(cfg, (16, 16, 3), 3).output_shape == (None, 3)
    with pytest.raises(ConfigError, match=r"model\.head=none"):
        build_model(cfg, (16, 16, 3), 5)


def test_optimizer_from_config_and_bad_target() -> None:
    opt = build_optimizer(OmegaConf.load(config_dir() / "optimizer" / "sgd.yaml"))
    assert type(opt).__name__ == "SGD"
    assert float(opt.learning_rate.numpy()) == pytest.approx(0.01)
    with pytest.raises(ConfigError, match=r"optimizer._target_='keras.optimizers.Adamm'"):
        build_optimizer(OmegaConf.create({"_target_": "keras.optimizers.Adamm", "lr": 0.1}))
