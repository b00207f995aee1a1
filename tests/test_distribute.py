"""Scale out and serve: strategies from config, two real workers, a served model, the registry."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from .conftest import BIN, CLI_ENV, ROOT, free_port, run_cli, tiny_train_args

pytestmark = pytest.mark.slow


def _runs(out: Path) -> list:
    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("happysad")
    return client.search_runs([exp.experiment_id]) if exp else []


def test_mirrored_strategy_runs_on_cpu(tmp_path: Path, demo_data: Path) -> None:
    res = run_cli(
        "happysad-train",
        *tiny_train_args(tmp_path, demo_data, "trainer.strategy=mirrored", "trainer.epochs=1"),
    )
    assert res.returncode == 0, res.stderr[-3000:]
    (run,) = _runs(tmp_path)
    assert run.data.tags["happysad.distribute.strategy"] == "MirroredStrategy"
    assert run.data.tags["happysad.distribute.num_replicas"] == "1"
    assert run.data.tags["happysad.distribute.global_batch_size"] == "16"


def test_two_workers_train_one_run(tmp_path: Path, demo_data: Path) -> None:
    """MultiWorkerMirroredStrategy with two processes on 127.0.0.1: one run, all epochs, a model."""
    ports = [free_port(), free_port()]
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    for index in range(2):
        env = {
            **CLI_ENV,
            "TF_CONFIG": json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}
            ),
        }
        args = tiny_train_args(
            tmp_path,
            demo_data,
            "trainer.strategy=multi_worker",
            "trainer.epochs=3",
            "callbacks.early_stopping=null",
            "data.batch_size=16",
            f"hydra.run.dir={tmp_path}/hydra/worker{index}",
        )
        procs.append(
            subprocess.Popen(
                [str(BIN / "happysad-train"), *args],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-4000:]
    runs = _runs(tmp_path)
    assert len(runs) == 1  # only the chief (worker 0) tracked
    run = runs[0]
    assert run.data.tags["happysad.distribute.strategy"] == "MultiWorkerMirroredStrategy"
    assert run.data.tags["happysad.distribute.num_replicas"] == "2"
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [1, 2, 3]
    assert run.data.tags["happysad.run_dir"] == str(tmp_path / "hydra" / "worker0")
    # The chief kept the model; worker 1 wrote nothing but Hydra's own job files.
    assert (tmp_path / "hydra" / "worker0" / "model" / "MLmodel").is_file()
    assert not (tmp_path / "hydra" / "worker1" / "model").exists()
    res = run_cli(
        "happysad-predict",
        str(tmp_path / "hydra" / "worker0" / "model"),
        str(next((demo_data / "sad").glob("sad_0*.png"))),
    )
    assert res.returncode == 0 and res.stdout.split("\t")[1] in {"happy", "sad"}


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory, demo_data: Path) -> Path:
    out = tmp_path_factory.mktemp("reg")
    res = run_cli(
        "happysad-train",
        *tiny_train_args(out, demo_data, "trainer.epochs=2", "tracking.register_as=faces"),
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return out


def test_register_as_makes_models_uri_work(registered: Path, demo_data: Path) -> None:
    (run,) = _runs(registered)
    assert run.data.tags["registered_model"] == "models:/faces/1"
    res = run_cli(
        "happysad-predict",
        "models:/faces/1",
        str(demo_data / "happy"),
        "--json",
        "--tracking-uri",
        f"sqlite:///{registered / 'mlflow.db'}",
    )
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    good = [r for r in rows if "error" not in r]
    assert len(good) >= 30 and all(r["class_name"] in {"happy", "sad"} for r in good)
    assert sorted(r["error"] for r in rows if "error" in r) == [
        "empty file",
        "not a decodable image",
    ]


def test_mlflow_models_serve_answers_image_requests(registered: Path, demo_data: Path) -> None:
    (run,) = _runs(registered)
    port = free_port()
    env = {
        **CLI_ENV,
        "MLFLOW_TRACKING_URI": f"sqlite:///{registered / 'mlflow.db'}",
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }
    proc = subprocess.Popen(
        [
            str(BIN / "mlflow"),
            "models",
            "serve",
            "-m",
            f"runs:/{run.info.run_id}/model",
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        cwd=registered,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 180
        while True:
            assert proc.poll() is None, proc.stdout.read()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                assert time.time() < deadline, "server did not come up"
                time.sleep(0.5)
        images = [sorted((demo_data / c).glob("*.jpg"))[0] for c in ("happy", "sad")]
        body = {
            "dataframe_split": {
                "columns": ["image_b64"],
                "data": [[base64.b64encode(p.read_bytes()).decode()] for p in images],
            }
        }
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=60) as r:
            preds = json.loads(r.read())["predictions"]
        assert len(preds) == 2
        for p in preds:
            assert p["class_name"] in {"happy", "sad"} and 0.5 <= p["probability"] <= 1.0
            assert abs(p["p_happy"] + p["p_sad"] - 1.0) < 1e-5 and p["error"] == ""
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
