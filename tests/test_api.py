"""The Python API and `python -m happysad`: the CLI's code paths, callable from a notebook."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from happysad import api
from happysad.errors import ConfigError, DataError

from .conftest import CLI_ENV, ROOT, run_cli, tiny_train_args

MY_MODEL = """\
defaults:
  - schema
  - _self_

name: my_cnn
layers:
  - {_target_: keras.layers.Conv2D, filters: 4, kernel_size: 3, activation: relu}
  - {_target_: keras.layers.GlobalAveragePooling2D}
"""


@pytest.fixture
def user_conf(tmp_path: Path) -> Path:
    """A user's own config folder that adds one model YAML."""
    conf = tmp_path / "my_conf"
    (conf / "model").mkdir(parents=True)
    (conf / "model" / "my_cnn.yaml").write_text(MY_MODEL)
    return conf


def test_a_user_config_dir_composes_on_top_of_the_packaged_configs(user_conf: Path) -> None:
    cfg = api.compose(["model=my_cnn", "optimizer=sgd"], config_dir=user_conf)
    assert cfg.model.name == "my_cnn"
    assert cfg.model.layers[0].filters == 4
    assert cfg.model.head == "auto"  # filled from happysad's model schema
    assert cfg.optimizer._target_.endswith("SGD")  # happysad's own groups still compose
    with pytest.raises(ConfigError, match="model=my_cnn: no such option"):
        api.compose(["model=my_cnn"])  # without the folder, the option does not exist


def test_compose_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^trainer\.epochz=1: unknown key"):
        api.compose(["trainer.epochz=1"])
    with pytest.raises(ConfigError, match=r"config_dir=.*: not a folder"):
        api.compose([], config_dir="/no/such/folder")


def test_cli_config_dir_picks_up_a_users_model(user_conf: Path) -> None:
    res = run_cli("happysad-train", "--config-dir", user_conf, "model=my_cnn", "--cfg", "job")
    assert res.returncode == 0, res.stderr
    assert "name: my_cnn" in res.stdout
    bad = run_cli("happysad-train", f"--config-dir={user_conf}", "model=my_cnnn")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1].startswith("error: model=my_cnnn: no such option")


def test_python_m_happysad_dispatches_to_the_console_scripts() -> None:
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "happysad", *args],
            capture_output=True,
            text=True,
            env=CLI_ENV,
            cwd=ROOT,
            timeout=300,
        )

    res = run("train", "model=tiny_cnn", "--cfg", "job")
    assert res.returncode == 0, res.stderr
    assert "name: tiny_cnn" in res.stdout
    res = run("predict", "--help")
    assert res.returncode == 0 and "usage: happysad-predict" in res.stdout
    res = run("eval", "/no/model", "/no/such/folder")
    assert res.returncode == 3 and "error: /no/such/folder: not a folder" in res.stderr
    res = run("fly")
    assert res.returncode == 2 and "fly: unknown command" in res.stderr


def test_train_refuses_a_missing_data_root_and_leaves_no_run_dir(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(DataError, match="nowhere"):
        api.train(tiny_train_args(out, tmp_path / "nowhere"))
    runs = out / "runs"
    assert not runs.exists() or not any(runs.rglob(".hydra"))


@pytest.mark.slow
def test_notebook_trains_twice_then_predicts_and_evaluates(demo_data: Path, tmp_path: Path) -> None:
    """One Python process, as a notebook would: train, train again, predict, evaluate."""
    from mlflow.tracking import MlflowClient

    out = tmp_path / "out"
    first = api.train(tiny_train_args(out, demo_data, "trainer.epochs=1"))
    second = api.train(tiny_train_args(out, demo_data, "trainer.epochs=1", "optimizer.lr=0.01"))

    assert first.run_id and second.run_id and first.run_id != second.run_id
    assert first.run_dir != second.run_dir
    assert first.class_names == ["happy", "sad"]
    assert first.model_uri == f"runs:/{first.run_id}/model"
    assert 0.0 <= first.metrics["test_accuracy"] <= 1.0
    # The run dir is the CLI's: Hydra's record of the config and overrides, the log.
    assert (first.run_dir / ".hydra" / "overrides.yaml").is_file()
    assert (first.run_dir / "train.log").stat().st_size > 0
    client = MlflowClient(tracking_uri=first.tracking_uri)
    for r in (first, second):
        assert client.get_run(r.run_id).info.status == "FINISHED"
    assert client.get_run(second.run_id).data.params["optimizer.lr"] == "0.01"

    image = next((demo_data / "happy").glob("*.png"))
    by_uri = api.predict(first.model_uri, [image], tracking_uri=first.tracking_uri)
    by_result = api.predict(second, str(image))
    for preds in (by_uri, by_result):
        (p,) = preds
        assert p.error is None and p.class_name in first.class_names
        assert 0.0 <= p.probability <= 1.0
        assert set(p.probabilities) == set(first.class_names)
    missing = api.predict(first, [tmp_path / "missing.png"])
    assert missing[0].error and missing[0].class_name is None

    ev = api.evaluate(first, demo_data)
    assert 0.0 <= ev["metrics"]["accuracy"] <= 1.0
    assert ev["scan"] and ev["threshold"] == pytest.approx(0.5)
