"""The built-in face prior: what it fits, what it gives, and that folder runs start from it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from happysad.data.demo import _render_face, _resolve_style

from .conftest import model_preset, run_cli, tiny_train_args

keras = pytest.importorskip("keras")
from happysad.training import model as model_lib  # noqa: E402
from happysad.training.prior import PRIOR_DIR, apply_prior, load_prior  # noqa: E402


def faces(n: int, size: int = 64, variety: str = "wide") -> tuple[np.ndarray, np.ndarray]:
    """Demo faces drawn with seeds the prior never saw; label 1 = sad."""
    st = _resolve_style({"variety": variety})
    imgs = [_render_face(np.random.default_rng([987, i]), i % 2 == 0, 128, st)[0] for i in range(n)]
    import cv2

    x = np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA) for im in imgs])
    return x.astype(np.float32), (np.arange(n) % 2).astype(np.float32)


def test_the_prior_ships_with_its_provenance() -> None:
    prior = load_prior()
    assert prior is not None, f"no prior in {PRIOR_DIR}"
    assert prior.class_names == ["happy", "sad"]
    info = json.loads((PRIOR_DIR / "faces_small_cnn.json").read_text())
    assert info["model"] == "small_cnn" and info["test_metrics"]["test_accuracy"] >= 0.95


def test_small_cnn_starts_from_the_prior_and_already_tells_faces_apart() -> None:
    prior = load_prior()
    model = model_lib.build_model(model_preset("small_cnn"), (64, 64, 3), 2)
    x, y = faces(60)
    before = float(((model.predict(x, verbose=0)[:, 0] > 0.5) == y).mean())
    assert apply_prior(model, prior, ["happy", "sad"]) == "faces_small_cnn (with its head)"
    after = float(((model.predict(x, verbose=0)[:, 0] > 0.5) == y).mean())
    assert after >= 0.85 and after > before + 0.15, (before, after)


def test_other_classes_get_a_new_head_and_keep_the_features() -> None:
    prior = load_prior()
    model = model_lib.build_model(model_preset("small_cnn"), (96, 96, 3), 3)  # any image size
    head_before = [w.numpy().copy() for w in model.get_layer("output").weights]
    done = apply_prior(model, prior, ["angry", "happy", "sad"])
    assert done == "faces_small_cnn (with a new head for these classes)"
    np.testing.assert_array_equal(model.weights[0].numpy(), prior.arrays[0])
    for w, before in zip(model.get_layer("output").weights, head_before, strict=True):
        np.testing.assert_array_equal(w.numpy(), before)  # untouched: sized for 3 classes


@pytest.mark.parametrize(
    ("name", "shape"),
    [("tiny_cnn", (64, 64, 3)), ("seed_cnn", (64, 64, 3)), ("small_cnn", (64, 64, 1))],
)
def test_a_model_the_prior_does_not_fit_is_left_as_built(name: str, shape: tuple) -> None:
    model = model_lib.build_model(model_preset(name), shape, 2)
    before = [w.numpy().copy() for w in model.weights]
    assert apply_prior(model, load_prior(), ["happy", "sad"]) is None
    for w, b in zip(model.weights, before, strict=True):
        np.testing.assert_array_equal(w.numpy(), b)


def test_faces_default_to_the_prior_folders_and_the_demo_to_scratch(compose) -> None:
    """The face prior belongs to face tasks: data=faces starts from it (with the face crop and
    face augmentation); a generic folder starts from random weights at the full rate."""
    faces = compose(["data=faces", "data.root=/tmp"])
    assert faces.model.init_from == "auto" and faces.model.prior_lr_scale == 0.3
    assert faces.data.face_crop and faces.data.augment and faces.data.source == "folder"
    folder = compose(["data=folder", "data.root=/tmp"])
    assert folder.model.init_from is None and folder.model.prior_lr_scale == 1.0
    assert not folder.data.face_crop and not folder.data.augment
    assert compose([]).model.init_from is None
    assert compose(["data=faces", "data.root=/tmp", "init=scratch"]).model.init_from is None
    assert compose(["data=folder", "data.root=/tmp", "init=prior"]).model.init_from == "auto"
    cfg = compose(["data=folder", "data.root=/tmp", "model.init_from=/some/run"])
    assert cfg.model.init_from == "/some/run"  # the command line wins over the group


@pytest.mark.slow
def test_a_folder_run_records_where_its_weights_started(demo_data: Path, tmp_path: Path) -> None:
    """small_cnn on a folder with init=prior (data=faces' start) starts from the prior:
    validation accuracy is high after one epoch, and the run's tag says where the weights came
    from (models the prior does not fit are covered above, without training)."""
    out = tmp_path / "prior"
    res = run_cli(
        "happysad-train",
        *tiny_train_args(out, demo_data, "model=small_cnn", "data.image_size=[64,64]"),
        "trainer.epochs=1",
        "init=prior",
    )
    assert res.returncode == 0, res.stderr[-3000:]
    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("happysad")
    (run,) = client.search_runs([exp.experiment_id])
    assert run.data.tags["happysad.init_from"] == "auto: faces_small_cnn (with its head), lr x 0.3"
    assert run.data.params["optimizer.lr"] == "0.001"  # as configured; the tag says x 0.3
    lr = [m.value for m in client.get_metric_history(run.info.run_id, "lr")]
    assert lr and max(lr) <= 3e-4 * 1.0001, lr  # the rate used: 0.3 x 1e-3 at the peak
    assert run.data.metrics["val_accuracy"] >= 0.8
