"""Shared fixtures: tiny datasets, config composition, and running the real CLIs."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# Quiet TensorFlow in subprocesses; keep each job to the cores CI has.
CLI_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
CLI_ENV.pop("MLFLOW_TRACKING_URI", None)
# For subprocesses that import tests.helpers: the repo root, after an inherited PYTHONPATH
# (a worktree's src/ ahead of an editable install that points at another checkout).
ROOT_PYTHONPATH = os.pathsep.join(
    [*(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p), str(ROOT)]
)


def run_cli(
    name: str, *args: str, timeout: int = 600, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run an installed console script (happysad-train, -predict, -eval) for real."""
    return subprocess.run(
        [str(BIN / name), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**CLI_ENV, **(env or {})},
        cwd=ROOT,
    )


@pytest.fixture(autouse=True)
def _mlflow_environment_restored():
    """A test that calls `mlflow.set_tracking_uri` exports MLFLOW_TRACKING_URI (MLflow 3), and
    `tracking.uri` defaults to that variable: without this, a later in-process training in the
    same worker would log into that test's store."""
    names = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    saved = {name: os.environ.get(name) for name in names}
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def write_image(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 and rgb.shape[2] == 3 else rgb
    assert cv2.imwrite(str(path), bgr), path
    return path


def hash_tree(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every regular file (symlinks recorded by target)."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():
            out[rel] = "link:" + os.readlink(p)
        elif p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def shared_folder(tmp_path_factory: pytest.TempPathFactory, name: str, build) -> Path:
    """A folder built once per test run and shared by every xdist worker: pytest-xdist's
    recipe (a file lock in the workers' common temp folder). `build(path)` fills `path`;
    the folder is read-only for the tests that use it."""
    import fcntl

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # popen-gw0, popen-gw1... share their parent
    path, done = root / name, root / f"{name}.built"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(path, ignore_errors=True)  # a worker that failed half-way
            build(path)
            done.touch()
    return path


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic happy/sad set with planted corrupt files (session-wide, read-only)."""
    from happysad.data.demo import generate_demo_dataset

    # The classic drawing: tiny trainings on 40 faces per class must learn in a few epochs.
    return shared_folder(
        tmp_path_factory,
        "demo_faces",
        lambda out: generate_demo_dataset(
            out, per_class=40, image_size=64, seed=3, n_corrupt=4, style={"variety": "classic"}
        ),
    )


@pytest.fixture(scope="session")
def three_class_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three classes told apart by colour: small, easy, and not happy/sad."""
    root = tmp_path_factory.mktemp("three") / "colors"
    rng = np.random.default_rng(0)
    for cls, colour in {
        "red": (200, 30, 30),
        "green": (30, 200, 30),
        "blue": (30, 30, 200),
    }.items():
        for i in range(14):
            img = np.clip(rng.normal(colour, 25, size=(24, 24, 3)), 0, 255).astype(np.uint8)
            write_image(root / cls / f"{cls}_{i:02d}.png", img)
    return root


@pytest.fixture(scope="session")
def stage_run(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Every training stage called in-process once per test session (tests/test_stages.py):
    `experiment=quick tracking=none` on the tiny demo folder, one epoch.

    Tests that only read a trained model, its run dir or what a stage returned share it
    instead of training their own in a TensorFlow subprocess.
    """
    from happysad import api
    from happysad.config import validate
    from happysad.training import stages

    out = tmp_path_factory.mktemp("stage_run")
    run_dir = out / "run"
    overrides = [
        "experiment=quick",
        "tracking=none",
        *tiny_train_args(out, demo_data, "trainer.epochs=1", "trainer.verbose=0"),
        f"paths.run_dir={run_dir}",
    ]
    cfg = validate(api.compose(overrides))
    ctx = stages.open_context(cfg, run_dir, overrides, None)
    class_names, _ = stages.resolve_classes(cfg)
    callbacks = stages.build_callbacks(cfg)
    model = stages.build_model(ctx, class_names)
    data = stages.prepare_data(ctx, class_names)
    fitted = stages.fit(ctx, model, data, callbacks)
    summary = stages.evaluate(ctx, model, data, fitted)
    model_dir = stages.package(ctx, model, data, summary)
    return SimpleNamespace(
        cfg=cfg,
        ctx=ctx,
        run_dir=run_dir,
        model=model,
        data=data,
        fitted=fitted,
        summary=summary,
        model_dir=model_dir,
    )


# Augmentation of the shared tracked run: the report lists it, the params record it.
AUG_FLIP_SHIFT = (
    "data.augment=[{_target_: keras.layers.RandomFlip, mode: horizontal},"
    "{_target_: keras.layers.RandomTranslation, height_factor: 0.2, width_factor: 0.2}]"
)


@dataclass
class TrackedRun:
    """One real `happysad-train` run, logged to its own MLflow store (tracked_run)."""

    out: Path  # paths.output_dir: mlflow.db, mlartifacts/, runs/
    output: str  # what the CLI printed (stdout + stderr)

    @property
    def run_dir(self) -> Path:
        return next(self.out.rglob("model/MLmodel")).parent.parent

    @property
    def model_dir(self) -> Path:
        return self.run_dir / "model"

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.out / 'mlflow.db'}"


@pytest.fixture(scope="session")
def tracked_run(tmp_path_factory: pytest.TempPathFactory, demo_data: Path) -> TrackedRun:
    """The one end-to-end CLI training every read-only test shares (train, insight, serving,
    warm starts): 2 epochs of the tiny model on the demo folder, face crop, augmentation,
    Grad-CAM, TensorBoard and the model logged to MLflow. Trained once per test run."""

    def build(out: Path) -> None:
        res = run_cli(
            "happysad-train",
            *tiny_train_args(
                out,
                demo_data,
                "optimizer.lr=0.003",
                "data.face_crop=true",
                "insight.gradcam_images=6",
                AUG_FLIP_SHIFT,
            ),
        )
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        (out / "cli_output.txt").write_text(res.stdout + res.stderr)

    out = shared_folder(tmp_path_factory, "tracked_run", build)
    return TrackedRun(out, (out / "cli_output.txt").read_text())


def train_in_process(*overrides: str):
    """`happysad.api.train` in this process: the CLI's job (Hydra run dir, MLflow run, model)
    without a TensorFlow start-up per test. Keras' global dtype policy is restored after."""
    from happysad import api

    try:
        return api.train(list(overrides))
    finally:
        if "keras" in sys.modules:
            import keras

            keras.mixed_precision.set_global_policy("float32")


@pytest.fixture
def compose():
    """Compose conf/ with overrides through Hydra's compose API (what the CLI composes)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    import happysad.config  # noqa: F401  (registers the model schema with Hydra)
    from happysad.paths import config_dir

    def _compose(overrides: list[str] | None = None, hydra_cfg: bool = False):
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            return hydra_compose("config", overrides=overrides or [], return_hydra_config=hydra_cfg)

    yield _compose
    GlobalHydra.instance().clear()


def tiny_train_args(out: Path, data_root: Path, *extra: str) -> list[str]:
    """Overrides for a fast, isolated training run: tiny model, tiny images, own store."""
    return [
        "data=folder",
        f"data.root={data_root}",
        "augment=none",
        f"paths.output_dir={out}",
        "model=tiny_cnn",
        "data.image_size=[32,32]",
        "data.batch_size=16",
        "trainer.epochs=2",
        "trainer.verbose=2",
        *extra,
    ]


def poisoned_env(tmp_path: Path, names: tuple[str, ...]) -> tuple[dict[str, str], Path]:
    """An environment in which importing any of the packages `names` leaves a marker file and
    fails.

    "Fails before TensorFlow loads" or "predicts without MLflow" then becomes a fact a test can
    check (the marker does not exist), instead of a wall-clock bound that a loaded machine can
    break.
    """
    poison = tmp_path / "poison"
    marker = tmp_path / "imported"
    for name in names:
        pkg = poison / name
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / "__init__.py").write_text(
            f"open({str(marker)!r}, 'a').write({name!r} + '\\n')\n"
            f"raise ImportError({name!r} + ' must not be imported here')\n"
        )
    # Keep an inherited PYTHONPATH (e.g. a worktree's src/ ahead of an editable install).
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {"PYTHONPATH": os.pathsep.join([str(poison), str(ROOT), *inherited])}, marker


# Runs in the subprocess: MLflow loads the model folder and predicts a JSON request.
PYFUNC_PREDICT = """
import sys, pandas as pd, mlflow
frame = pd.read_json(sys.argv[2], orient="split")
print(mlflow.pyfunc.load_model(sys.argv[1]).predict(frame).to_json(orient="records"))
"""


def pyfunc_rows_without_tensorflow(model_dir: Path, frame: Any, tmp_path: Path) -> list[dict]:
    """The served model's answer to `frame` (a DataFrame) in a process where importing
    TensorFlow or Keras fails (and would leave a marker): the portable path, proven TF-free."""
    import json

    request = tmp_path / "request.json"
    request.write_text(frame.to_json(orient="split"))
    env, marker = poisoned_env(tmp_path, ("tensorflow", "keras"))
    res = subprocess.run(
        [sys.executable, "-c", PYFUNC_PREDICT, str(model_dir), str(request)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**CLI_ENV, **env},
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert not marker.exists()
    return json.loads(res.stdout)


def no_tensorflow_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """`poisoned_env` for tensorflow and keras."""
    return poisoned_env(tmp_path, ("tensorflow", "keras"))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MlflowServer:
    """A real `mlflow server` on 127.0.0.1 with a SQLite backend and a temp artifact root."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> MlflowServer:
        import time
        import urllib.request

        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [
                str(BIN / "mlflow"),
                "server",
                "--backend-store-uri",
                f"sqlite:///{self.workdir / 'mlflow.db'}",
                "--artifacts-destination",
                str(self.workdir / "artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=CLI_ENV,
            cwd=self.workdir,
            start_new_session=True,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited: {(self.workdir / 'server.log').read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(self.uri + "/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError("mlflow server did not answer /health in time")

    def stop(self) -> None:
        import signal

        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory):
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-server")).start()
    yield server
    server.stop()


def script_module(name: str) -> ModuleType:
    """scripts/<name>.py loaded as a module (scripts/ is not a package), for tests of a script's
    functions and constants. It is registered in sys.modules first, as an import would, so
    that a script's dataclasses can find their module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def untrained_small_cnn(size: int, n_classes: int):
    """The default model (small_cnn) with random weights and its output layer rescaled (as
    scripts/bench_portable.py does) so that different images get different classes."""
    import keras

    from happysad.training.model import build_model

    keras.utils.set_random_seed(n_classes)
    model = build_model(model_preset("small_cnn"), (size, size, 3), n_classes)
    rng = np.random.default_rng(n_classes)  # the tests' kind of image: a colour plus noise
    base = rng.integers(0, 256, (64, 1, 1, 3))
    probe = np.clip(base + rng.normal(0, 60, (64, size, size, 3)), 0, 255)
    return script_module("bench_portable").spread_untrained_output(model, probe)


def model_preset(name: str, **changes: object):
    """A conf/model preset with the schema's defaults, some keys changed (no Hydra compose)."""
    from omegaconf import OmegaConf

    from happysad.config import with_defaults
    from happysad.paths import config_dir

    cfg = with_defaults("model", OmegaConf.load(config_dir() / "model" / f"{name}.yaml"))
    for key, value in changes.items():
        OmegaConf.update(cfg, key, value)
    return cfg
