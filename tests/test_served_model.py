"""The logged MLflow model is self-contained: code, not a pickle; its own happysad modules; pins.

"Loads where happysad is not installed" is checked literally: a subprocess whose PYTHONPATH
holds only a `happysad.py` that raises ImportError, so the installed (editable) happysad
cannot be imported and only the copy inside the model folder can serve.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from .conftest import CLI_ENV, ROOT, TrackedRun, run_cli, write_image

# Runs in the subprocess: load the model folder with MLflow alone, predict, say what it used.
LOAD_AND_PREDICT = """
import json, sys
import mlflow, pandas as pd
frame = pd.read_json(sys.argv[2], orient="split")
out = mlflow.pyfunc.load_model(sys.argv[1]).predict(frame)
import happysad
print(json.dumps({
    "rows": json.loads(out.to_json(orient="records")),
    "happysad_file": happysad.__file__,
    "modules": sorted(m for m in sys.modules if m.startswith("happysad")),
}))
"""


def _served_modules() -> set[str]:
    """Module names of the .py files packaging.SERVED_CODE copies into the model."""
    from happysad.serving.packaging import SERVED_CODE

    names = set()
    for rel in SERVED_CODE:
        if rel.endswith(".py"):
            parts = ["happysad", *Path(rel).with_suffix("").parts]
            names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _poisoned_env(tmp_path: Path) -> dict[str, str]:
    """PYTHONPATH = only a folder whose happysad.py refuses to import (no checkout, no src/)."""
    poison = tmp_path / "poison"
    poison.mkdir(exist_ok=True)
    (poison / "happysad.py").write_text(
        "raise ImportError('the installed happysad must not be used: the model brings its own')\n"
    )
    env = {k: v for k, v in CLI_ENV.items() if k != "PYTHONPATH"}
    return {**env, "PYTHONPATH": str(poison), "TF_CPP_MIN_LOG_LEVEL": "3"}


def test_the_pyfunc_imports_only_the_modules_copied_into_the_model() -> None:
    """A new import in the serving code must be added to SERVED_CODE (or the model breaks)."""
    code = (
        "import sys, happysad.serving.pyfunc, happysad.data.faces\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('happysad', 'hydra',"
        " 'omegaconf', 'tensorflow')))))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=CLI_ENV, timeout=300
    )
    assert res.returncode == 0, res.stderr[-2000:]
    imported = set(res.stdout.split())
    assert "happysad.serving.pyfunc" in imported
    assert imported <= _served_modules(), imported - _served_modules()


def test_the_copied_code_is_the_packages_and_the_cascade_comes_with_it(tmp_path: Path) -> None:
    from happysad.serving import packaging

    with packaging._served_code() as code:
        files = {p.relative_to(code).as_posix() for p in code.rglob("*") if p.is_file()}
        assert (code / "data" / "image.py").read_bytes() == (
            ROOT / "src" / "happysad" / "data" / "image.py"
        ).read_bytes()
    assert "data/cascades/haarcascade_frontalface_default.xml.gz" in files
    assert not any("__pycache__" in f or f.startswith(("training/", "cli/", "api/")) for f in files)
    reqs = packaging._requirements()
    assert [r.split("==")[0] for r in reqs] == [
        "tensorflow",
        "keras",
        "mlflow",
        "opencv-python-headless",
        "pillow",
        "numpy",
        "pandas",
    ]
    assert all(len(r.split("==")) == 2 and r.split("==")[1][0].isdigit() for r in reqs)


@pytest.fixture
def trained_faces(tracked_run: TrackedRun) -> tuple[Path, str]:
    """The shared end-to-end run (conftest.py tracked_run): a face-cropping model in MLflow."""
    # Models-from-code: MLflow's "serialized using CloudPickle" warning is gone.
    assert "cloudpickle" not in tracked_run.output.lower()
    return tracked_run.out, tracked_run.output


def _request(demo_data: Path, tmp_path: Path) -> tuple[pd.DataFrame, list[Path]]:
    """The serving contract (docs/serving.md): a column of base64 image bytes."""
    files = [sorted((demo_data / c).glob("*.jpg"))[0] for c in ("happy", "sad")]
    blank = write_image(tmp_path / "blank.png", np.full((40, 40, 3), 128, np.uint8))
    files.append(blank)
    frame = pd.DataFrame({"image_b64": [base64.b64encode(f.read_bytes()).decode() for f in files]})
    frame.loc[len(frame)] = ["bm90IGFuIGltYWdl"]  # "not an image"
    return frame, files


def _predict_without_happysad(model_dir: Path, frame: pd.DataFrame, tmp_path: Path) -> dict:
    request = tmp_path / "request.json"
    request.write_text(frame.to_json(orient="split"))
    res = subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, str(model_dir), str(request)],
        capture_output=True,
        text=True,
        env=_poisoned_env(tmp_path),
        cwd=tmp_path,  # not the checkout: its src/ must not be found either
        timeout=600,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-4000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def _check_model_folder(model_dir: Path) -> None:
    names = {p.name for p in model_dir.iterdir()}
    assert "python_model.pkl" not in names  # no pickled object
    flavor = yaml.safe_load((model_dir / "MLmodel").read_text())["flavors"]["python_function"]
    assert flavor["loader_module"] == "mlflow.pyfunc.loaders.code_model"
    assert "python_model" not in flavor and flavor["code"] == "code"
    assert (model_dir / "model_code.py").is_file()
    assert (model_dir / "code" / "happysad" / "serving" / "pyfunc.py").is_file()
    reqs = (model_dir / "requirements.txt").read_text().split()
    # Trained models carry an ONNX copy: the served environment needs no TensorFlow.
    names = {r.split("==")[0] for r in reqs}
    assert names >= {"onnxruntime", "opencv-python-headless"} and "tensorflow" not in names
    assert all("==" in r for r in reqs), reqs


@pytest.mark.slow
def test_the_logged_model_predicts_where_happysad_is_not_installed(
    trained_faces: tuple[Path, str], demo_data: Path, tmp_path: Path
) -> None:
    import mlflow

    from happysad.serving.packaging import load_model
    from happysad.serving.predict import predict_files

    out, _ = trained_faces
    run_model = next(out.rglob("model/MLmodel")).parent
    client = mlflow.MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("happysad").experiment_id])
    mlflow.set_tracking_uri(f"sqlite:///{out / 'mlflow.db'}")
    logged = Path(
        mlflow.artifacts.download_artifacts(
            f"runs:/{run.info.run_id}/model", dst_path=str(tmp_path / "logged")
        )
    )
    frame, files = _request(demo_data, tmp_path)
    expected = predict_files(load_model(str(run_model)), [str(f) for f in files])
    assert load_model(str(run_model)).metadata.preprocessing.face_crop  # faces.py is exercised
    for model_dir in (run_model, logged):
        _check_model_folder(model_dir)
        result = _predict_without_happysad(model_dir, frame, tmp_path)
        # The model's own copy served, and only the modules it carries were imported.
        assert Path(result["happysad_file"]).is_relative_to(model_dir / "code")
        assert set(result["modules"]) <= _served_modules()
        rows = result["rows"]
        assert len(rows) == 4
        for row, want in zip(rows, expected, strict=False):
            assert row["error"] == "" and row["class_name"] == want.class_name
            assert row["probability"] == pytest.approx(want.probability, abs=1e-5)
            assert row["p_happy"] + row["p_sad"] == pytest.approx(1.0, abs=1e-6)
        assert rows[3]["error"] == "not a decodable image" and rows[3]["class_name"] == ""
        assert rows[3]["probability"] is None
    # happysad-predict still reads the folder (the code/ copy is ignored there).
    res = run_cli("happysad-predict", str(run_model), str(files[0]), "--json")
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout)["class_name"] == expected[0].class_name


# Pickles as models logged before models-from-code hold them: the pyfunc object, with no
# state, by reference to the class's two earlier homes.
OLD_PICKLES = {
    module: b"\x80\x04c" + module.encode() + b"\nHappysadPyfunc\n)\x81."
    for module in ("happysad.packaging", "happysad.serving.packaging")
}


@pytest.mark.slow
@pytest.mark.parametrize("module", sorted(OLD_PICKLES))
def test_models_pickled_by_earlier_versions_still_load(module: str, tmp_path: Path) -> None:
    """Old run dirs and registry versions hold python_model.pkl; they keep predicting."""
    import keras
    import mlflow

    from happysad.data.image import Preprocessing
    from happysad.serving.packaging import ModelMetadata, load_model

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Rescaling(1 / 255)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    model.save(tmp_path / "model.keras")
    meta = ModelMetadata(["calm", "angry"], Preprocessing(image_size=(8, 8)))
    (tmp_path / "happysad.json").write_text(json.dumps(meta.to_dict()))

    class Placeholder(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):  # pragma: no cover
            raise AssertionError("replaced by the old pickle below")

    old = tmp_path / "old_model"
    mlflow.pyfunc.save_model(
        str(old),
        python_model=Placeholder(),
        artifacts={
            "keras_model": str(tmp_path / "model.keras"),
            "metadata": str(tmp_path / "happysad.json"),
        },
    )
    (old / "python_model.pkl").write_bytes(OLD_PICKLES[module])
    img = write_image(tmp_path / "x.png", np.full((8, 8, 3), 30, np.uint8))
    frame = pd.DataFrame({"image_b64": [base64.b64encode(img.read_bytes()).decode()]})
    out = mlflow.pyfunc.load_model(str(old)).predict(frame)
    p_angry = float(model.predict(np.full((1, 8, 8, 3), 30, np.uint8), verbose=0)[0, 0])
    assert out["p_angry"][0] == pytest.approx(p_angry, abs=1e-5)
    assert out["class_name"][0] == ("angry" if p_angry >= 0.5 else "calm")
    assert load_model(str(old)).metadata.class_names == ["calm", "angry"]
