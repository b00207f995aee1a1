"""Calibration: the expected calibration error of every evaluation, the reliability diagram,
and temperature scaling (`model.calibration=temperature`) from the fit to every place a
packaged model's probabilities leave it.

The numbers are checked on hand-made arrays whose ECE is known, and the temperature fit on
synthetic predictions of a calibrated model whose logits were scaled by a known factor.
"""

from __future__ import annotations

import numpy as np
import pytest

# --------------------------------------------------------------------------- ECE


def _calibrated_binary(conf: float, n: int, right: int, positive: bool = True):
    """n predictions of confidence `conf`, `right` of them right (class 1 predicted if
    `positive`, else class 0)."""
    p = np.full(n, conf if positive else 1.0 - conf)
    y = np.full(n, 1 if positive else 0)
    y[right:] = 1 - y[right:]
    return y, p


def test_ece_of_a_perfectly_calibrated_model_is_zero() -> None:
    from happysad.evaluate import expected_calibration_error

    # In each bin the confidence is the fraction right: 0.8 -> 80 %, 0.6 -> 60 %, 0.95 -> 95 %,
    # for both predicted classes (binary confidence is max(p, 1 - p)).
    parts = [
        _calibrated_binary(0.8, 100, 80),
        _calibrated_binary(0.6, 50, 30, positive=False),
        _calibrated_binary(0.95, 200, 190),
    ]
    y = np.concatenate([a for a, _ in parts])
    p = np.concatenate([b for _, b in parts])
    assert expected_calibration_error(y, p) == pytest.approx(0.0, abs=1e-12)

    # Sampled from its own probabilities, a model is calibrated up to sampling noise.
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 50_000)
    y = (rng.uniform(0, 1, p.size) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.01


def test_ece_of_an_over_confident_model_is_its_gap() -> None:
    from happysad.evaluate import evaluate_predictions, expected_calibration_error

    # Says 0.97 and is right 3 times in 4: ECE = |0.75 - 0.97| = 0.22, whichever class.
    y, p = _calibrated_binary(0.97, 100, 75)
    assert expected_calibration_error(y, p) == pytest.approx(0.22)
    y0, p0 = _calibrated_binary(0.97, 100, 75, positive=False)
    assert expected_calibration_error(y0, p0) == pytest.approx(0.22)
    assert expected_calibration_error(y, p[:, None]) == pytest.approx(0.22)  # (N, 1) outputs

    # Two bins: 0.9 right half the time (gap 0.4, 60 %), 0.7 always right (gap 0.3, 40 %).
    probs = np.array([[0.9, 0.05, 0.05]] * 6 + [[0.1, 0.7, 0.2]] * 4)
    labels = np.array([0, 0, 0, 1, 2, 1] + [1] * 4)
    assert expected_calibration_error(labels, probs) == pytest.approx(0.6 * 0.4 + 0.4 * 0.3)

    # Every evaluation reports it, with the prefix of its split.
    ev = evaluate_predictions(y, p, ["happy", "sad"], prefix="test_")
    assert ev.metrics["test_ece"] == pytest.approx(0.22)
    ev = evaluate_predictions(labels, probs, ["a", "b", "c"], prefix="")
    assert ev.metrics["ece"] == pytest.approx(0.36)


def test_ece_uses_15_equal_width_bins_of_the_predicted_class_confidence() -> None:
    from happysad.evaluate import ECE_BINS, calibration_bins, top_label

    assert ECE_BINS == 15
    conf, right = top_label(np.array([1, 0, 0]), np.array([0.9, 0.2, 0.6]))
    np.testing.assert_allclose(conf, [0.9, 0.8, 0.6])
    np.testing.assert_array_equal(right, [1.0, 1.0, 0.0])  # 0.6 -> class 1, label 0: wrong
    # 0.8 and 0.9 share no bin of width 1/15 ([0.8, 0.867) and [0.867, 0.933)).
    mean, observed, counts, ece = calibration_bins(conf, right)
    np.testing.assert_allclose(mean[counts > 0], [0.6, 0.8, 0.9])
    np.testing.assert_array_equal(observed[counts > 0], [0.0, 1.0, 1.0])
    assert counts.sum() == 3 and (counts > 0).sum() == 3
    assert ece == pytest.approx((0.1 + 0.2 + 0.6) / 3)
    assert np.isnan(calibration_bins(np.array([]), np.array([]))[3])


# --------------------------------------------------------------------------- temperature


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("scale", [0.5, 2.5])
def test_the_temperature_fit_recovers_a_known_scaling_of_a_calibrated_binary_model(
    scale: float,
) -> None:
    """Labels drawn from sigmoid(z) (a calibrated model); the model under test outputs
    sigmoid(scale * z): over-confident for scale > 1. The fitted T is `scale`."""
    from happysad.evaluate import apply_temperature, expected_calibration_error, fit_temperature

    rng = np.random.default_rng(1)
    z = rng.normal(0.0, 2.0, 40_000)
    y = (rng.uniform(0, 1, z.size) < _sigmoid(z)).astype(int)
    probs = _sigmoid(scale * z).astype(np.float32)
    t = fit_temperature(y, probs)
    assert t == pytest.approx(scale, rel=0.05)
    fixed = apply_temperature(probs, t)
    assert fixed.dtype == np.float32 and fixed.shape == probs.shape
    np.testing.assert_allclose(fixed, _sigmoid(z), atol=0.02)
    assert expected_calibration_error(y, fixed) < 0.015 < expected_calibration_error(y, probs)
    np.testing.assert_array_equal(fixed >= 0.5, probs >= 0.5)  # the decisions stay


def test_the_temperature_fit_recovers_a_known_scaling_of_a_calibrated_softmax_model() -> None:
    from happysad.evaluate import apply_temperature, expected_calibration_error, fit_temperature

    rng = np.random.default_rng(2)
    z = rng.normal(0.0, 1.5, (30_000, 4))
    true = _softmax(z)
    y = (rng.uniform(0, 1, (len(z), 1)) > true.cumsum(axis=1)).sum(axis=1)
    probs = _softmax(3.0 * z)
    t = fit_temperature(y, probs)
    assert t == pytest.approx(3.0, rel=0.05)
    fixed = apply_temperature(probs, t)
    np.testing.assert_allclose(fixed, true, atol=0.02)
    np.testing.assert_array_equal(fixed.argmax(axis=1), probs.argmax(axis=1))
    assert expected_calibration_error(y, fixed) < 0.015 < expected_calibration_error(y, probs)


def test_temperature_one_is_the_identity_and_bad_inputs_are_refused() -> None:
    from happysad.evaluate import apply_temperature, fit_temperature

    p = np.array([0.2, 0.9], np.float32)
    assert apply_temperature(p, 1.0) is p
    np.testing.assert_allclose(apply_temperature(p, 2.0), _sigmoid(np.log(p / (1 - p)) / 2))
    with pytest.raises(ValueError):
        fit_temperature(np.array([], int), np.array([]))
    with pytest.raises(ValueError):
        fit_temperature(np.array([0, 1]), np.array([0.2, np.nan]))
    with pytest.raises(ValueError):
        fit_temperature(np.array([0, 3]), np.array([[0.5, 0.5], [0.1, 0.9]]))


# --------------------------------------------------------------------------- the diagram


def test_the_reliability_diagram_is_drawn_with_its_ece_in_the_title(tmp_path) -> None:
    from happysad.evaluate import expected_calibration_error
    from happysad.insight import figures as plots

    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, 300)
    y = (rng.uniform(0, 1, p.size) < p**0.5).astype(int)
    fig = plots.plot_calibration(y, p, ["happy", "sad"])
    ece = expected_calibration_error(y, p)
    top = fig.axes[0]
    assert f"ECE {ece:.3f}" in top.get_title() and "15 bins" in top.get_title()
    assert top.get_ylabel().startswith("accuracy")
    assert fig.axes[1].get_xlabel() == "confidence of the predicted class"
    # the diagonal, and one point per non-empty bin
    xs, ys = top.lines[0].get_data()
    assert list(xs) == [0, 1] and list(ys) == [0, 1]
    counts = fig.axes[1].patches
    assert sum(b.get_height() for b in counts) == 300 and len(counts) == 15
    fig = plots.plot_calibration(y, p, ["happy", "sad"], uncalibrated=p**0.9)
    assert "was" in fig.axes[0].get_title() and len(fig.axes[0].lines) == 3
    assert plots.save_figure(fig, tmp_path / "calibration.png").stat().st_size > 5000


# --------------------------------------------------------------------------- config, metadata


def test_model_calibration_is_validated_naming_the_key() -> None:
    from happysad import api
    from happysad.config import validate
    from happysad.errors import ConfigError

    assert validate(api.compose([])).model.calibration == "none"  # the default
    assert validate(api.compose(["model.calibration=temperature"])).model.calibration
    with pytest.raises(ConfigError) as info:
        validate(api.compose(["model.calibration=platt"]))
    msg = str(info.value)
    assert msg.startswith("model.calibration='platt': ") and "none, temperature" in msg, msg


def test_the_metadata_carries_a_checked_temperature_and_old_models_have_none(tmp_path) -> None:
    import json

    from happysad.data.image import Preprocessing
    from happysad.errors import ModelLoadError
    from happysad.serving.metadata import ModelMetadata, read_metadata

    old = ModelMetadata(["happy", "sad"], Preprocessing(image_size=(8, 8)))
    path = tmp_path / "happysad.json"
    path.write_text(json.dumps(old.to_dict()))
    assert "calibration" not in old.to_dict()
    loaded = read_metadata(path)
    p = np.array([0.3, 0.8], np.float32)
    assert loaded.calibration is None and loaded.temperature == 1.0 and loaded.calibrate(p) is p

    entry = {"method": "temperature", "temperature": 2.0, "fitted_on": "val"}
    path.write_text(json.dumps({**old.to_dict(), "calibration": entry}))
    loaded = read_metadata(path)
    assert loaded.temperature == 2.0 and "calibration" not in loaded.extra
    assert loaded.to_dict()["calibration"] == entry  # saved again as it was
    np.testing.assert_allclose(loaded.calibrate(p), _sigmoid(np.log(p / (1 - p)) / 2), rtol=1e-6)
    for bad, field in (
        ({"method": "temperature", "temperature": 0}, "calibration.temperature"),
        ({"method": "temperature", "temperature": "2"}, "calibration.temperature"),
        ({"method": "platt", "a": 1.0}, "calibration.method"),
        ([2.0], "calibration"),
    ):
        path.write_text(json.dumps({**old.to_dict(), "calibration": bad}))
        with pytest.raises(ModelLoadError, match=rf"happysad.json: {field}="):
            read_metadata(path)


# --------------------------------------------------------------------------- packaged models

SIZE = 16
TEMPERATURES = {"sigmoid": 0.25, "softmax": 3.0}


def _save_calibrated(tmp, kind: str):
    from happysad.data.image import Preprocessing
    from happysad.serving.packaging import ModelMetadata, save_model

    from .conftest import untrained_small_cnn

    n = 2 if kind == "sigmoid" else 3
    model = untrained_small_cnn(SIZE, n)
    names = ["happy", "sad"] if n == 2 else ["red", "green", "blue"]
    calibration = {"method": "temperature", "temperature": TEMPERATURES[kind]}
    meta = ModelMetadata(names, Preprocessing(image_size=(SIZE, SIZE)), calibration=calibration)
    return save_model(model, meta, tmp / kind, example=np.zeros((SIZE, SIZE, 3), np.uint8))


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A sigmoid and a softmax model folder (untrained: the arithmetic is what is checked)
    saved with a temperature, and images of varied content at the model's size."""
    from .conftest import write_image

    tmp = tmp_path_factory.mktemp("calibrated")
    rng = np.random.default_rng(5)
    images = []
    for i in range(12):
        img = np.clip(rng.integers(0, 256, 3) + rng.normal(0, 70, (SIZE, SIZE, 3)), 0, 255)
        images.append(write_image(tmp / "img" / f"img_{i:02d}.png", img.astype(np.uint8)))
    return {
        "sigmoid": _save_calibrated(tmp, "sigmoid"),
        "softmax": _save_calibrated(tmp, "softmax"),
        "images": images,
    }


def _pixels(paths) -> np.ndarray:
    from happysad.data.image import Preprocessing, preprocess_file

    return np.stack(
        [preprocess_file(str(p), Preprocessing(image_size=(SIZE, SIZE))) for p in paths]
    )


@pytest.mark.parametrize("kind", ["sigmoid", "softmax"])
@pytest.mark.parametrize("runtime", ["portable", "keras"])
def test_a_loaded_model_answers_its_calibrated_probabilities(
    calibrated: dict, kind: str, runtime: str
) -> None:
    """LoadedModel (predict, eval, the API) divides the logits by the stored temperature,
    whichever engine answers; `.model` stays the raw graph."""
    from happysad import api
    from happysad.evaluate import apply_temperature

    loaded = api.load(str(calibrated[kind]), runtime=runtime)
    assert loaded.runtime == ("onnx" if runtime == "portable" else "keras")
    x = _pixels(calibrated["images"])
    raw = np.asarray(loaded.model.predict_on_batch(x))
    raw = raw[:, 0] if raw.shape[-1] == 1 else raw
    want = apply_temperature(raw.astype(np.float64), TEMPERATURES[kind])
    got = loaded.predict_arrays(x, batch_size=5)
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert np.abs(got - raw).max() > 0.01  # the temperature changed something
    preds = api.predict(loaded, [str(p) for p in calibrated["images"]])
    names = loaded.metadata.class_names
    for pred, p in zip(preds, got, strict=True):
        full = [1 - p, p] if kind == "sigmoid" else list(p)
        assert [pred.probabilities[n] for n in names] == pytest.approx(full, abs=1e-6)
        assert pred.probability == pytest.approx(max(full), abs=1e-6)


@pytest.mark.parametrize("kind", ["sigmoid", "softmax"])
def test_the_served_model_answers_calibrated_probabilities_on_both_engines(
    calibrated: dict, kind: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The MLflow pyfunc: its ONNX engine in a process where TensorFlow cannot be imported,
    and its Keras engine (HAPPYSAD_RUNTIME=keras), both equal to calibrating the raw graph."""

    import cv2
    import mlflow
    import pandas as pd

    from happysad import api
    from happysad.evaluate import apply_temperature
    from happysad.serving.packaging import encode_image_b64

    from .conftest import pyfunc_rows_without_tensorflow

    rgb = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in calibrated["images"]]
    frame = pd.DataFrame({"image_b64": [encode_image_b64(x) for x in rgb]})
    loaded = api.load(str(calibrated[kind]), runtime="keras")
    names = loaded.metadata.class_names
    raw = np.asarray(loaded.model.predict_on_batch(_pixels(calibrated["images"])))
    raw = raw[:, 0] if kind == "sigmoid" else raw
    want = apply_temperature(raw.astype(np.float64), TEMPERATURES[kind])
    want = np.stack([1 - want, want], axis=1) if kind == "sigmoid" else want

    onnx_rows = pyfunc_rows_without_tensorflow(calibrated[kind], frame, tmp_path)
    monkeypatch.setenv("HAPPYSAD_RUNTIME", "keras")
    keras_rows = mlflow.pyfunc.load_model(str(calibrated[kind])).predict(frame)
    for rows in (pd.DataFrame(onnx_rows), keras_rows):
        got = rows[[f"p_{n}" for n in names]].to_numpy(dtype=float)
        np.testing.assert_allclose(got, want, atol=1e-5)
        np.testing.assert_allclose(rows["probability"], want.max(axis=1), atol=1e-5)


def test_predict_prints_calibrated_probabilities_without_tensorflow(
    calibrated: dict, tmp_path
) -> None:
    import json

    from happysad import api

    from .conftest import poisoned_env, run_cli

    env, marker = poisoned_env(tmp_path, ("tensorflow", "keras", "hydra", "mlflow"))
    files = [str(p) for p in calibrated["images"][:6]]
    res = run_cli("happysad-predict", calibrated["sigmoid"], *files, "--json", env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    assert not marker.exists(), marker.read_text()
    got = [json.loads(line)["probabilities"]["sad"] for line in res.stdout.splitlines()]
    loaded = api.load(str(calibrated["sigmoid"]), runtime="keras")
    np.testing.assert_allclose(got, loaded.predict_arrays(_pixels(files)), atol=1e-5)


def test_export_says_the_graph_is_uncalibrated_and_gives_the_temperature(
    calibrated: dict, tmp_path
) -> None:
    import json
    import subprocess
    import sys

    from .conftest import CLI_ENV, ROOT

    out = tmp_path / "faces.onnx"
    cmd = [sys.executable, "-m", "happysad", "export", str(calibrated["sigmoid"]), str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=CLI_ENV, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    contract = json.loads(res.stdout)
    assert contract["output"]["calibrated"] is False
    cal = contract["calibration"]
    assert cal["method"] == "temperature" and cal["temperature"] == TEMPERATURES["sigmoid"]
    assert "/ T" in cal["formula"] and "log(q / (1 - q))" in cal["formula"]
    entry = json.loads((calibrated["sigmoid"] / "artifacts" / "happysad.json").read_text())
    assert entry["portable"]["output"]["calibrated"] is False


# --------------------------------------------------------------------------- training


def test_a_temperature_calibrated_training_records_t_and_evaluates_with_it(
    demo_data, tmp_path
) -> None:
    """model.calibration=temperature, in-process, tracked: T fitted on val is in the packaged
    model's metadata and in MLflow with the val ECE before/after; test_ece is measured on
    the probabilities predict answers (the calibrated ones)."""
    import csv
    import json

    from mlflow.tracking import MlflowClient

    from happysad import api
    from happysad.evaluate import expected_calibration_error

    from .conftest import tiny_train_args, train_in_process

    out = tmp_path / "cal"
    result = train_in_process(
        *tiny_train_args(out, demo_data, "model.calibration=temperature", "trainer.verbose=0")
    )
    m = result.metrics
    t = m["calibration_temperature"]
    meta = json.loads((result.model_dir / "artifacts" / "happysad.json").read_text())
    cal = meta["calibration"]
    assert cal["method"] == "temperature" and cal["temperature"] == pytest.approx(t)
    assert t > 0 and 0 <= m["test_ece"] <= 1
    rows = list(csv.DictReader((result.run_dir / "data" / "split_manifest.csv").open()))
    # Fitted (unless the 16 validation predictions separate the classes: then T = 1). On so
    # few images the NLL's T need not lower the ECE: both are logged, not compared.
    if cal["fitted_on"] == "val":
        assert t != 1.0 and cal["n_images"] == sum(r["split"] == "val" for r in rows)
    for key in ("calibration_val_ece_before", "calibration_val_ece_after"):
        assert 0 <= m[key] <= 1 and cal[key.replace("calibration_", "")] == m[key]

    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    logged = client.get_run(result.run_id).data.metrics
    for key in ("test_ece", "calibration_temperature"):
        assert logged[key] == pytest.approx(m[key]), key
    assert json.loads((result.run_dir / "metrics.json").read_text())["test_ece"] == m["test_ece"]
    arts = {a.path for a in client.list_artifacts(result.run_id, "plots")}
    assert "plots/calibration.png" in arts
    assert "calibration: temperature" in (result.run_dir / "report.html").read_text()

    # What happysad-predict answers on the test files is what test_ece was measured on.
    test = [r for r in rows if r["split"] == "test"]
    preds = api.predict(result.model_dir, [str(demo_data / r["relpath"]) for r in test])
    names = result.class_names
    probs = np.array([[p.probabilities[n] for n in names] for p in preds])
    labels = np.array([int(r["label"]) for r in test])
    assert expected_calibration_error(labels, probs[:, 1]) == pytest.approx(m["test_ece"], abs=1e-5)


def test_no_temperature_is_fitted_to_separable_or_chance_predictions() -> None:
    """Both ends of the search: all right (NLL falls as T -> 0) and worse than chance (NLL
    falls as T -> infinity). The training stage then warns and keeps T = 1."""
    from happysad.evaluate import fit_temperature

    with pytest.raises(ValueError, match="separate the classes"):
        fit_temperature(np.array([0, 1, 1, 0]), np.array([0.2, 0.7, 0.9, 0.4]))
    with pytest.raises(ValueError, match="no better than chance"):
        fit_temperature(np.array([1, 0, 0, 1]), np.array([0.2, 0.7, 0.9, 0.4]))


def test_without_a_validation_split_the_stage_warns_once_and_keeps_t_1(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from types import SimpleNamespace

    from omegaconf import OmegaConf

    from happysad.training.stages import Calibration, calibrate

    cfg = OmegaConf.create({"model": {"calibration": "temperature"}, "data": {"batch_size": 4}})
    empty = (np.zeros((0, 8, 8, 3), np.uint8), np.zeros(0, np.int64))
    data = SimpleNamespace(arrays={"val": empty}, eval_split="test")
    with caplog.at_level("WARNING", logger="happysad.training"):
        got = calibrate(SimpleNamespace(cfg=cfg), model=None, data=data)
    assert got.temperature == 1.0 and got.record()["fitted_on"] is None
    assert [r.getMessage() for r in caplog.records] == [
        "model.calibration=temperature: no validation split to fit on; T = 1"
    ]
    assert got.metrics() == {"calibration_temperature": 1.0}
    assert Calibration().record() is None and Calibration().metrics() == {}  # none


def test_constant_or_non_finite_predictions_have_no_temperature_to_fit() -> None:
    """Nothing to fit is said as such (one ValueError the calibrate stage turns into a warning
    and T = 1), not as 'every prediction right'."""
    from happysad.evaluate import fit_temperature

    with pytest.raises(ValueError, match="every prediction is the same"):
        fit_temperature(np.array([0, 1, 0, 1]), np.full(4, 0.5))
    with pytest.raises(ValueError, match="non-finite"):
        fit_temperature(np.array([0, 1]), np.array([np.nan, 0.3]))
