"""Transfer learning, warm starts, schedules and label smoothing: built from config, for real.

Backbones are built with `weights: null` or from a weights file the test writes (nothing is
downloaded); the ImageNet path is checked to fail in one line when the network is absent.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from happysad.errors import ConfigError

from .conftest import (
    CLI_ENV,
    ROOT,
    ROOT_PYTHONPATH,
    TrackedRun,
    model_preset,
    run_cli,
    tiny_train_args,
    train_in_process,
)

keras = pytest.importorskip("keras")
from happysad.training import model as model_lib  # noqa: E402
from happysad.training.schedule import WarmupCosineDecay  # noqa: E402


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "efficientnet_b0"])
def test_backbone_presets_build_untrained_or_from_a_weights_file(tmp_path: Path, name: str) -> None:
    cfg = model_preset(name, weights=None)
    model = model_lib.build_model(cfg, (32, 32, 3), 2)
    backbone = model.get_layer(model_lib.BACKBONE_LAYER)
    assert model.output_shape == (None, 1)
    # The backbone scales raw pixels itself: no Rescaling of ours in front of it.
    assert not any(layer.name == "rescale" for layer in model.layers)

    weights = tmp_path / f"{name}.weights.h5"
    backbone.save_weights(str(weights))
    again = model_lib.build_model(model_preset(name, weights=str(weights)), (32, 32, 3), 2)
    for a, b in zip(
        backbone.get_weights(),
        again.get_layer(model_lib.BACKBONE_LAYER).get_weights(),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)


def test_a_weights_file_that_does_not_fit_names_model_weights(tmp_path: Path) -> None:
    other = model_lib.build_model(model_preset("efficientnet_b0", weights=None), (32, 32, 3), 2)
    path = tmp_path / "effnet.weights.h5"
    other.get_layer(model_lib.BACKBONE_LAYER).save_weights(str(path))
    with pytest.raises(ConfigError, match=r"^model\.weights=.*does not fit mobilenet_v3_small"):
        model_lib.build_model(model_preset("mobilenet_v3_small", weights=str(path)), (32, 32, 3), 2)
    with pytest.raises(ConfigError, match=r"^model\.weights=.*no such file"):
        model_lib.build_model(
            model_preset("mobilenet_v3_small", weights="/no/such.h5"), (32, 32, 3), 2
        )


def test_imagenet_weights_offline_fail_in_one_line(tmp_path: Path, monkeypatch) -> None:
    import socket

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # nothing cached
    monkeypatch.setattr(socket, "create_connection", offline)
    with pytest.raises(ConfigError) as info:
        model_lib.build_model(model_preset("mobilenet_v3_small"), (32, 32, 3), 2)
    msg = str(info.value)
    assert msg.startswith("model.weights=imagenet") and "\n" not in msg
    assert "model.weights=null" in msg and str(tmp_path / "models") in msg


def test_unfreezing_the_top_keeps_batchnorm_frozen() -> None:
    model = model_lib.build_model(model_preset("mobilenet_v3_small", weights=None), (32, 32, 3), 2)
    backbone = model.get_layer(model_lib.BACKBONE_LAYER)
    assert model_lib.set_backbone_trainable(model, 0) == 0
    assert not backbone.trainable and not backbone.trainable_weights
    n = model_lib.set_backbone_trainable(model, 12)
    trainable = [layer for layer in backbone.layers if layer.trainable]
    assert 0 < n <= 12 and trainable
    assert all(layer in backbone.layers[-12:] for layer in trainable)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in trainable)
    assert model_lib.set_backbone_trainable(model, None) > n


def test_label_smoothing_reaches_both_heads() -> None:
    cfg = model_preset("tiny_cnn", label_smoothing=0.2)
    binary = model_lib.build_model(cfg, (16, 16, 3), 2)
    loss = model_lib.resolve_loss(cfg, binary)
    assert isinstance(loss, keras.losses.BinaryCrossentropy)
    assert loss.get_config()["label_smoothing"] == pytest.approx(0.2)
    multi = model_lib.build_model(cfg, (16, 16, 3), 3)
    loss = model_lib.resolve_loss(cfg, multi)
    y, p = np.array([0, 2]), np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], "float32")
    smooth = np.array([[0.2 / 3 + 0.8, 0.2 / 3, 0.2 / 3], [0.2 / 3, 0.2 / 3, 0.2 / 3 + 0.8]])
    expected = -(smooth * np.log(p)).sum(axis=1).mean()
    assert float(loss(y, p)) == pytest.approx(expected, rel=1e-5)
    assert (
        model_lib.resolve_loss(model_preset("tiny_cnn"), multi) == "sparse_categorical_crossentropy"
    )


def test_warmup_cosine_rises_peaks_and_decays_by_absolute_epoch() -> None:
    sched = WarmupCosineDecay(warmup_epochs=1, min_ratio=0.1, warmup_start=0.1)
    sched.steps = 10
    sched.set_span(0, 5, 1e-3)
    rates = [sched.rate(e, b) for e in range(5) for b in range(10)]
    assert rates[0] == pytest.approx(1e-4)
    assert rates[:10] == sorted(rates[:10])  # warm-up rises
    assert max(rates) == pytest.approx(1e-3, rel=1e-6)
    assert rates[10:] == sorted(rates[10:], reverse=True)  # then decays
    assert rates[-1] == pytest.approx(1e-4, rel=0.05)
    # A second phase gets its own span and peak, numbered on from where the first ended.
    sched.set_span(5, 7, 1e-4)
    assert sched.rate(5, 0) == pytest.approx(1e-5)
    assert sched.rate(6, 9) < sched.rate(6, 0) <= 1e-4


def test_warmup_is_capped_at_a_share_of_a_short_phase() -> None:
    """The demo's 5-epoch warm-up on a 4-epoch run: one epoch of warm-up, then decay, so the
    run still ends low instead of at its peak."""
    sched = WarmupCosineDecay(
        warmup_epochs=5, min_ratio=0.1, warmup_start=0.1, max_warmup_share=0.25
    )
    sched.steps = 10
    sched.set_span(0, 4, 1e-3)
    rates = [sched.rate(e, b) for e in range(4) for b in range(10)]
    peak = rates.index(max(rates))
    assert peak == 10 and max(rates) == pytest.approx(1e-3, rel=1e-6)
    assert rates[-1] == pytest.approx(1e-4, rel=0.05)
    sched.set_span(0, 32, 1e-3)  # a long phase keeps all five epochs
    assert sched.rate(4, 9) < sched.rate(5, 0) == pytest.approx(1e-3, rel=1e-6)
    with pytest.raises(ValueError, match="max_warmup_share"):
        WarmupCosineDecay(max_warmup_share=1.5)
    uncapped = WarmupCosineDecay(warmup_epochs=5)  # the class default: no cap
    uncapped.steps = 10
    uncapped.set_span(0, 4, 1e-3)
    assert uncapped.rate(3, 9) < 1e-3  # still rising in the last batch


# --- end to end ------------------------------------------------------------------------------


def _history(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "history.csv").open() as fh:
        return list(csv.DictReader(fh))


def _only_run(out: Path):
    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("happysad")
    runs = client.search_runs([exp.experiment_id], order_by=["attributes.start_time DESC"])
    return client, runs


@pytest.mark.slow
def test_mobilenet_trains_in_two_phases_in_one_run_and_predicts(
    tmp_path: Path, demo_data: Path
) -> None:
    from happysad import api

    out = tmp_path / "out"
    result = train_in_process(
        *tiny_train_args(
            out,
            demo_data,
            "model=mobilenet_v3_small",
            "model.weights=null",
            "trainer.epochs=1",
            "model.fine_tune.epochs=1",
            "schedule=constant",
            "insight.gradcam=false",
        )
    )
    run_dir = next(out.rglob("happysad_run.json")).parent
    assert result.run_dir == run_dir
    rows = _history(run_dir)
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    assert [float(r["phase"]) for r in rows] == [1.0, 2.0]
    assert float(rows[1]["lr"]) == pytest.approx(1e-4)  # phase 2 runs at model.fine_tune.lr
    client, runs = _only_run(out)
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    phases = client.get_metric_history(runs[0].info.run_id, "phase")
    assert sorted((m.step, m.value) for m in phases) == [(1, 1.0), (2, 2.0)]
    assert not (run_dir / "backup").exists()  # removed once every phase is done
    img = sorted((demo_data / "happy").glob("*.jpg"))[0]
    (pred,) = api.predict(run_dir, [img])  # a run dir is a model reference too
    assert not pred.error and pred.class_name in {"happy", "sad"}


@pytest.mark.slow
def test_warm_start_continues_or_replaces_the_head_and_logs_its_source(
    tmp_path: Path, demo_data: Path, three_class_data: Path, tracked_run: TrackedRun
) -> None:
    out = tmp_path / "out"
    source = tracked_run.run_dir  # the shared tiny run: a trained two-class model

    # the first also in bfloat16: the float32 model it loads is rebuilt to train mixed
    mixed = train_in_process(
        *tiny_train_args(
            out,
            demo_data,
            f"model.init_from={source}",
            "trainer.epochs=1",
            "trainer.mixed_precision=bfloat16",
        )
    )
    train_in_process(
        *tiny_train_args(out, three_class_data, f"model.init_from={source}", "trainer.epochs=1")
    )
    _, runs = _only_run(out)
    assert len(runs) == 2
    assert runs[1].data.tags["happysad.precision"] == "mixed_bfloat16"
    assert runs[0].data.tags["happysad.precision"] == "float32"  # the policy did not leak
    from happysad.serving.packaging import load_model
    from happysad.training.precision import computes_in_float32

    assert computes_in_float32(load_model(str(mixed.model_dir)).model)  # shipped in float32
    newest = runs[0]
    assert newest.data.tags["happysad.init_from"] == str(source)
    assert newest.data.params["model.init_from"] == str(source)
    model_dir = Path(newest.data.tags["happysad.run_dir"]) / "model"
    loaded = load_model(str(model_dir))
    assert loaded.metadata.class_names == ["blue", "green", "red"]
    new = loaded.model
    old = load_model(str(source / "model")).model
    assert new.output_shape == (None, 3)

    # Everything below the new head started from the earlier model's weights: one epoch of
    # training later, the first convolution still matches the source (a fresh one would not).
    def first_kernel(m):
        return next(la for la in m.layers if la.weights).get_weights()[0].ravel()

    assert np.corrcoef(first_kernel(new), first_kernel(old))[0, 1] > 0.9

    with pytest.raises(ConfigError, match=r"^model\.init_from=") as info:
        train_in_process(
            *tiny_train_args(out, demo_data, f"model.init_from={source}", "data.image_size=[24,24]")
        )
    assert info.value.exit_code == 2 and "\n" not in str(info.value)


@pytest.mark.slow
def test_a_crash_in_the_fine_tuning_phase_resumes_into_it(
    tmp_path: Path, demo_data: Path, tracked_run: TrackedRun
) -> None:
    source = tracked_run.run_dir  # the shared tiny run: a trained model to fine-tune
    out2 = tmp_path / "out2"
    args = tiny_train_args(
        out2,
        demo_data,
        f"model.init_from={source}",
        "trainer.epochs=2",
        "model.fine_tune.epochs=2",
        "callbacks.early_stopping=null",
        "insight.gradcam=false",
    )
    code = (
        f"from tests.helpers import train_and_crash; train_and_crash('after_backup', 3, {args!r})"
    )
    env = {**CLI_ENV, "PYTHONPATH": ROOT_PYTHONPATH}
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert res.returncode == 137, res.stderr[-3000:]
    run_dir = next(out2.rglob("happysad_run.json")).parent
    assert json.loads((run_dir / "happysad_run.json").read_text())["phase2_start"] == 2
    resume = [f"trainer.resume={run_dir}", f"paths.output_dir={out2}"]
    res = run_cli("happysad-train", *resume, env={"PYTHONPATH": ROOT_PYTHONPATH})
    assert res.returncode == 0, res.stderr[-3000:]
    rows = _history(run_dir)
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3]
    assert [float(r["phase"]) for r in rows] == [1.0, 1.0, 2.0, 2.0]
    client, runs = _only_run(out2)
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    steps = [m.step for m in client.get_metric_history(runs[0].info.run_id, "loss")]
    assert sorted(steps) == [1, 2, 3, 4]
