"""Shared fixtures: tiny datasets, config composition, and running the real CLIs."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

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


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic happy/sad set with planted corrupt files (session-wide, read-only)."""
    from happysad.data.demo import generate_demo_dataset

    out = tmp_path_factory.mktemp("demo") / "faces"
    # The classic drawing: tiny trainings on 40 faces per class must learn in a few epochs.
    generate_demo_dataset(
        out, per_class=40, image_size=64, seed=3, n_corrupt=4, style={"variety": "classic"}
    )
    return out


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


def no_tensorflow_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment in which importing tensorflow or keras leaves a marker file and fails.

    "Fails before TensorFlow loads" then becomes a fact a test can check (the marker does not
    exist), instead of a wall-clock bound that a loaded machine can break.
    """
    poison = tmp_path / "no_tensorflow"
    marker = tmp_path / "tensorflow_was_imported"
    for name in ("tensorflow", "keras"):
        pkg = poison / name
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / "__init__.py").write_text(
            f"open({str(marker)!r}, 'a').write({name!r} + '\\n')\n"
            f"raise ImportError({name!r} + ' must not be imported here')\n"
        )
    # Keep an inherited PYTHONPATH (e.g. a worktree's src/ ahead of an editable install).
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    path = os.pathsep.join([str(poison), str(ROOT), *inherited])
    return {"PYTHONPATH": path}, marker


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


def model_preset(name: str, **changes: object):
    """A conf/model preset with the schema's defaults, some keys changed (no Hydra compose)."""
    from omegaconf import OmegaConf

    from happysad.config import with_defaults
    from happysad.paths import config_dir

    cfg = with_defaults("model", OmegaConf.load(config_dir() / "model" / f"{name}.yaml"))
    for key, value in changes.items():
        OmegaConf.update(cfg, key, value)
    return cfg
