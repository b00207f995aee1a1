"""The portable (ONNX) copy of a model: written with every model, agrees with Keras, and lets
predict, evaluate and the served pyfunc answer without importing TensorFlow.

"Without TensorFlow" is checked as a fact, not a time: the subprocess's PYTHONPATH starts
with packages named tensorflow, keras, hydra and mlflow that leave a marker file and raise
on import (the marker-package technique of conftest.no_tensorflow_env, extended here).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .conftest import (
    CLI_ENV,
    ROOT,
    poisoned_env,
    pyfunc_rows_without_tensorflow,
    run_cli,
    untrained_small_cnn,
    write_image,
)

N_IMAGES = 36
SIZE = 32


def _save(tmp: Path, n_classes: int, name: str) -> Path:
    from happysad.data.image import Preprocessing
    from happysad.serving.packaging import ModelMetadata, save_model

    # The default model (small_cnn): Rescaling, Conv/BatchNorm/ReLU, pooling, auto head.
    model = untrained_small_cnn(SIZE, n_classes)
    names = ["happy", "sad"] if n_classes == 2 else ["red", "green", "blue"][:n_classes]
    meta = ModelMetadata(names, Preprocessing(image_size=(SIZE, SIZE)))
    example = np.zeros((SIZE, SIZE, 3), np.uint8)
    return save_model(model, meta, tmp / name, example=example)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A sigmoid (2-class) and a softmax (3-class) model folder, built once (untrained:
    agreement is about arithmetic, and random weights spread the probabilities)."""
    tmp = tmp_path_factory.mktemp("portable")
    return {"sigmoid": _save(tmp, 2, "sigmoid"), "softmax": _save(tmp, 3, "softmax")}


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Images of varied content and size (decode + resize are part of the path)."""
    tmp = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(7)
    out = []
    for i in range(N_IMAGES):
        h, w = rng.integers(20, 70, size=2)
        base = rng.integers(0, 256, size=3)
        img = np.clip(base + rng.normal(0, 60, size=(h, w, 3)), 0, 255).astype(np.uint8)
        out.append(write_image(tmp / f"img_{i:02d}.png", img))
    return out


def _artifacts(model_dir: Path) -> Path:
    return model_dir / "artifacts"


def yaml_artifacts(model_dir: Path) -> dict[str, str]:
    """The pyfunc's artifacts as the MLmodel file records them (name -> path)."""
    import yaml

    flavor = yaml.safe_load((model_dir / "MLmodel").read_text())["flavors"]["python_function"]
    return {k: v["path"] for k, v in flavor["artifacts"].items()}


def test_every_saved_model_carries_a_recorded_onnx_copy(models: dict[str, Path]) -> None:
    for kind, units in (("sigmoid", 1), ("softmax", 3)):
        art = _artifacts(models[kind])
        assert (art / "model.keras").is_file() and (art / "model.onnx").is_file()
        entry = json.loads((art / "happysad.json").read_text())["portable"]
        assert entry["file"] == "model.onnx" and entry["format"] == "onnx"
        assert entry["input"]["shape"] == [None, SIZE, SIZE, 3]
        assert entry["input"]["dtype"] == "float32" and entry["input"]["name"]
        assert entry["output"]["shape"] == [None, units]


def test_the_served_requirements_of_a_portable_model_leave_tensorflow_out(
    models: dict[str, Path],
) -> None:
    reqs = (models["sigmoid"] / "requirements.txt").read_text().split()
    names = {r.split("==")[0] for r in reqs}
    assert "onnxruntime" in names and not names & {"tensorflow", "keras"}, names
    art = yaml_artifacts(models["sigmoid"])
    assert art["portable_model"].endswith("model.onnx")


@pytest.mark.parametrize("kind", ["sigmoid", "softmax"])
def test_the_onnx_copy_and_keras_agree_on_every_image(
    models: dict[str, Path], images: list[Path], kind: str
) -> None:
    from happysad import api

    onnx = api.load(str(models[kind]), runtime="portable")
    keras_model = api.load(str(models[kind]), runtime="keras")
    assert (onnx.runtime, keras_model.runtime) == ("onnx", "keras")
    a = api.predict(onnx, [str(p) for p in images])
    b = api.predict(keras_model, [str(p) for p in images])
    assert len(a) == len(b) == N_IMAGES
    for x, y in zip(a, b, strict=True):
        assert x.error is None and x.class_name == y.class_name, (x, y)
        assert x.probability == pytest.approx(y.probability, abs=1e-4)
        for name, p in x.probabilities.items():
            assert p == pytest.approx(y.probabilities[name], abs=1e-4)
    assert len({r.class_name for r in b}) > 1  # a model answering one class proves little


def test_predict_cli_answers_without_tensorflow_keras_hydra_or_mlflow(
    models: dict[str, Path], images: list[Path], tmp_path: Path
) -> None:
    from happysad import api

    env, marker = poisoned_env(tmp_path, ("tensorflow", "keras", "hydra", "mlflow"))
    files = [str(p) for p in images[:8]]
    res = run_cli("happysad-predict", models["softmax"], *files, "--json", env=env, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert not marker.exists(), marker.read_text()
    assert res.stderr == ""  # no start-up chatter, no progress for 8 files
    got = [json.loads(line) for line in res.stdout.splitlines()]
    want = api.predict(api.load(str(models["softmax"]), runtime="keras"), files)
    assert [r["class_name"] for r in got] == [w.class_name for w in want]
    for r, w in zip(got, want, strict=True):
        assert r["probability"] == pytest.approx(w.probability, abs=1e-4)


def test_keras_runtime_starts_without_tensorflow_chatter_on_stderr(
    models: dict[str, Path], images: list[Path]
) -> None:
    """Default CLI environment (no TF_CPP_MIN_LOG_LEVEL set by the caller): no absl lines."""
    env = {k: v for k, v in CLI_ENV.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    cmd = [str(Path(sys.executable).parent / "happysad-predict"), str(models["sigmoid"])]
    cmd += [str(images[0]), "--runtime", "keras"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    for noise in ("I0000", "E0000", "cuInit", "absl::InitializeLog"):
        assert noise not in res.stderr, res.stderr
    portable = run_cli("happysad-predict", models["sigmoid"], images[0])
    assert res.stdout.split("\t")[1] == portable.stdout.split("\t")[1]


def test_eval_cli_answers_without_tensorflow(
    models: dict[str, Path], images: list[Path], tmp_path: Path
) -> None:
    root = tmp_path / "eval"
    for i, src in enumerate(images[:12]):
        dst = root / ("happy" if i % 2 else "sad") / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(src.read_bytes())
    env, marker = poisoned_env(tmp_path, ("tensorflow", "keras", "hydra", "mlflow"))
    res = run_cli("happysad-eval", models["sigmoid"], root, "--json", env=env, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert not marker.exists(), marker.read_text()
    assert json.loads(res.stdout)["metrics"]["n_images"] == 12


def test_runtime_portable_without_a_copy_is_one_line_naming_the_folder(
    models: dict[str, Path], images: list[Path], tmp_path: Path
) -> None:
    """A model saved before portable copies: auto falls back to Keras; portable refuses."""
    import shutil

    from happysad import api
    from happysad.errors import ModelLoadError

    old = tmp_path / "old"
    shutil.copytree(models["sigmoid"], old)
    meta_path = _artifacts(old) / "happysad.json"
    meta = json.loads(meta_path.read_text())
    del meta["portable"]
    meta_path.write_text(json.dumps(meta))
    (_artifacts(old) / "model.onnx").unlink()
    assert api.load(str(old)).runtime == "keras"
    with pytest.raises(ModelLoadError, match="no portable") as info:
        api.load(str(old), runtime="portable")
    assert "\n" not in str(info.value) and str(old) in str(info.value)
    res = run_cli("happysad-predict", old, images[0], "--runtime", "portable")
    assert res.returncode == 4 and res.stderr.count("\n") == 1, res.stderr


def test_a_portable_entry_pointing_outside_the_model_is_refused(
    models: dict[str, Path], tmp_path: Path
) -> None:
    import shutil

    from happysad import api
    from happysad.errors import ModelLoadError

    bad = tmp_path / "bad"
    shutil.copytree(models["sigmoid"], bad)
    meta_path = _artifacts(bad) / "happysad.json"
    meta = json.loads(meta_path.read_text())
    meta["portable"]["file"] = "../../elsewhere.onnx"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match=r"portable\.file="):
        api.load(str(bad))


def test_the_pyfunc_answers_where_tensorflow_cannot_be_imported(
    models: dict[str, Path], images: list[Path], tmp_path: Path
) -> None:
    import cv2
    import pandas as pd

    from happysad.serving.packaging import encode_image_b64

    rgb = cv2.cvtColor(cv2.imread(str(images[0])), cv2.COLOR_BGR2RGB)
    frame = pd.DataFrame({"image_b64": [encode_image_b64(rgb), "not base64!"]})
    rows = pyfunc_rows_without_tensorflow(models["softmax"], frame, tmp_path)
    assert rows[0]["class_name"] in {"red", "green", "blue"} and rows[0]["error"] == ""
    assert rows[1]["class_name"] == "" and "base64" in rows[1]["error"]


def test_a_model_that_cannot_be_exported_keeps_keras_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A Lambda layer (arbitrary code) gets no ONNX copy: safe mode still guards it."""
    import keras

    from happysad.data.image import Preprocessing
    from happysad.serving.packaging import ModelMetadata, save_model

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    meta = ModelMetadata(["a", "b"], Preprocessing(image_size=(8, 8)), extra={"portable": {}})
    with caplog.at_level("WARNING", logger="happysad"):
        model_dir = save_model(model, meta, tmp_path / "model")
    assert "no portable model" in caplog.text
    art = _artifacts(model_dir)
    assert (art / "model.keras").is_file() and not (art / "model.onnx").exists()
    assert "portable" not in json.loads((art / "happysad.json").read_text())


def test_tensorflow_start_up_chatter_is_dropped_and_real_lines_kept() -> None:
    from happysad.serving.quiet import drop_chatter

    chatter = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1796416108.685524    9910 port.cc:153] oneDNN custom operations are on.\n"
        "I0000 00:00:1796416108.686005    9910 cpu_feature_guard.cc:210] This TensorFlow binary\n"
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild.\n"
        "E0000 00:00:1796416111.595888    9910 cuda_platform.cc:52] failed call to cuInit: "
        "INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n"
    )
    real = (
        "E0000 00:00:1796416111.595888    9910 op_kernel.cc:1] real failure\n"
        "/x.py:7: UserWarning: a real warning\n"
    )
    assert drop_chatter(chatter) == ""
    assert drop_chatter(chatter + real) == real


def test_export_command_writes_a_graph_plain_onnxruntime_runs(
    models: dict[str, Path], tmp_path: Path
) -> None:
    """The deployer's path (docs/serving.md): the printed contract and onnxruntime alone."""
    import onnxruntime as ort

    from happysad import api

    out = tmp_path / "exported" / "faces.onnx"
    cmd = [sys.executable, "-m", "happysad", "export", str(models["softmax"]), str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=CLI_ENV, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    contract = json.loads(res.stdout)
    assert contract["input"]["shape"] == [None, SIZE, SIZE, 3]
    assert contract["class_names"] == ["red", "green", "blue"]
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(3).integers(0, 256, (5, SIZE, SIZE, 3)).astype(np.float32)
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    want = api.load(str(models["softmax"]), runtime="keras").model.predict_on_batch(x)
    np.testing.assert_allclose(got, want, atol=1e-4)
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=CLI_ENV, cwd=ROOT)
    assert (
        again.returncode == 2
        and again.stderr.strip() == f"error: {out}: already exists; export to a new path"
    )


def test_litert_and_saved_model_exports_answer_what_keras_answers(
    models: dict[str, Path], tmp_path: Path
) -> None:
    import tensorflow as tf

    from happysad import api
    from happysad.serving.export import export_graph

    model = api.load(str(models["sigmoid"]), runtime="keras").model
    out = export_graph(model, tmp_path / "faces.tflite", "litert")
    interpreter = tf.lite.Interpreter(model_path=str(out))
    x = np.random.default_rng(4).integers(0, 256, (3, SIZE, SIZE, 3)).astype(np.float32)
    inp = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(inp["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], x)
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(got, model.predict_on_batch(x), atol=1e-4)
    saved = tf.saved_model.load(str(export_graph(model, tmp_path / "sm", "saved_model")))
    np.testing.assert_allclose(saved.serve(x), model.predict_on_batch(x), atol=1e-4)


def test_runs_and_models_uris_of_a_local_store_answer_without_mlflow(
    models: dict[str, Path], images: list[Path], tmp_path: Path
) -> None:
    """The project's default store is SQLite on this disk: the model is found by a query."""
    import mlflow

    from happysad.serving.metadata import read_metadata
    from happysad.serving.packaging import log_model

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        meta = read_metadata(_artifacts(models["sigmoid"]) / "happysad.json")
        # Artifacts in tmp_path: a SQLite store's default root is ./mlruns (the checkout).
        exp = mlflow.create_experiment("portable", (tmp_path / "artifacts").as_uri())
        with mlflow.start_run(experiment_id=exp) as run:
            info = log_model(models["sigmoid"], meta)
        version = mlflow.register_model(info.model_uri, "faces").version
        mlflow.MlflowClient().set_registered_model_alias("faces", "best", version)
    finally:
        mlflow.set_tracking_uri(None)
    env, marker = poisoned_env(tmp_path, ("tensorflow", "keras", "hydra", "mlflow"))
    want = run_cli("happysad-predict", models["sigmoid"], images[0], env=env).stdout.split("\t")
    for ref in (f"runs:/{run.info.run_id}/model", f"models:/faces/{version}", "models:/faces@best"):
        res = run_cli("happysad-predict", ref, images[0], "--tracking-uri", uri, env=env)
        assert res.returncode == 0, (ref, res.stderr[-2000:])
        assert res.stdout.split("\t")[1:] == want[1:], ref
    assert not marker.exists(), marker.read_text()
    res = run_cli("happysad-predict", "models:/faces/9", images[0], "--tracking-uri", uri)
    assert res.returncode == 4 and res.stderr.startswith("error: models:/faces/9: "), res.stderr


@pytest.mark.slow
def test_bench_portable_prints_one_json_line(tmp_path: Path) -> None:
    """Keys and kinds only: timings are the script's report, never a test's verdict."""
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_portable.py"), "--repeats", "1"]
    cmd += ["--n-images", "24", "--batch-repeats", "1", "--work", str(tmp_path / "w")]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=CLI_ENV, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-3000:]
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 1, res.stdout
    out = json.loads(lines[0])
    for runtime in ("portable", "keras", "portable_runs_uri"):
        assert out["cold_one_image"][runtime]["median_wall_s"] > 0
        assert out["cold_one_image"][runtime]["median_peak_rss_mb"] > 0
    assert out["batch"]["portable_predict_files_img_s"] > 0
    for agreement in out["agreement"].values():
        assert agreement["n_images"] == 24 and agreement["class_mismatches"] == 0
        assert agreement["classes_seen"] >= 2  # one class for every image would prove little


def test_the_export_command_offers_the_formats_export_writes() -> None:
    from happysad.cli.export import FORMATS as offered
    from happysad.serving.export import FORMATS as written

    assert offered == written


def test_auto_answers_with_keras_when_the_onnx_copy_cannot_load(
    models: dict[str, Path], images: list[Path], tmp_path: Path
) -> None:
    """auto: the ONNX copy if it answers, else Keras (a damaged file, an opset too new for this
    onnxruntime); portable still refuses in one line."""
    import shutil

    from happysad import api
    from happysad.errors import ModelLoadError

    damaged = tmp_path / "model"
    shutil.copytree(models["sigmoid"], damaged)
    (onnx_file,) = damaged.rglob("*.onnx")
    onnx_file.write_bytes(b"not an onnx graph")
    with pytest.warns(UserWarning, match="answering with the Keras model"):
        loaded = api.load(damaged)
    assert loaded.runtime == "keras"
    want = api.load(models["sigmoid"], runtime="keras")
    got = api.predict(loaded, images[:4])
    for a, b in zip(got, api.predict(want, images[:4]), strict=True):
        assert a.class_name == b.class_name and a.probability == pytest.approx(b.probability)
    with pytest.raises(ModelLoadError, match="cannot load ONNX model"):
        api.load(damaged, runtime="portable")


def test_the_local_store_lookup_opens_a_path_with_uri_characters_read_only(
    tmp_path: Path,
) -> None:
    """A store under a folder named `a#b`: SQLite read the '#' as a URI fragment, dropped
    `?mode=ro` with it and created an empty file `a` beside the folder."""
    import sqlite3

    from happysad.serving.local_store import local_model_dir

    store = tmp_path / "a#b" / "mlflow.db"
    store.parent.mkdir()
    sqlite3.connect(store).close()  # a database without MLflow's tables
    assert local_model_dir("runs:/0123abcd/model", f"sqlite:///{store}") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a#b"]
