"""The wheel, installed where the checkout cannot be imported, trains from an empty folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from .conftest import CLI_ENV, ROOT
from .test_api import MY_MODEL

pytestmark = pytest.mark.slow

SKIP = ("outputs", ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache")


def _run(*cmd: object, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    res = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, env=env, timeout=900
    )
    assert res.returncode == 0, f"{cmd}:\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
    return res


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the happysad wheel; its dependencies come from this venv.

    A path line in a .pth file puts this venv's site-packages on sys.path without running
    the .pth files inside it, so the checkout's editable install stays invisible.
    """
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, symlinks=True, ignore=shutil.ignore_patterns(*SKIP))
    pip = (sys.executable, "-m", "pip")
    _run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp / "dist", src, cwd=tmp)
    (wheel,) = (tmp / "dist").glob("happysad-*.whl")
    venv = tmp / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp)
    py = venv / "bin" / "python"
    _run(*pip, "--python", py, "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp)
    purelib = _run(py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp)
    deps = sysconfig.get_path("purelib")  # this venv's: tensorflow, mlflow, hydra...
    (Path(purelib.stdout.strip()) / "happysad_test_deps.pth").write_text(deps + "\n")
    return venv


def _clean_env() -> dict[str, str]:
    env = dict(CLI_ENV)
    for key in ("PYTHONPATH", "HAPPYSAD_ROOT", "HAPPYSAD_CONFIG_DIR", "MLFLOW_TRACKING_URI"):
        env.pop(key, None)
    return env


def test_the_wheel_trains_from_an_empty_directory_with_a_users_model(
    installed: Path, demo_data: Path, tmp_path: Path
) -> None:
    from mlflow.tracking import MlflowClient

    work = tmp_path / "empty"
    work.mkdir()
    env = _clean_env()
    code = "import happysad; print(happysad.__file__)"
    where = _run(installed / "bin" / "python", "-c", code, cwd=work, env=env)
    assert Path(where.stdout.strip()).is_relative_to(installed), where.stdout
    conf = tmp_path / "my_conf"
    (conf / "model").mkdir(parents=True)
    (conf / "model" / "my_cnn.yaml").write_text(MY_MODEL)

    args = ["data=folder", f"data.root={demo_data}", "augment=none", "data.image_size=[32,32]"]
    args += ["data.batch_size=16", "trainer.epochs=1", "trainer.verbose=2"]
    train = installed / "bin" / "happysad-train"
    _run(train, "--config-dir", conf, "model=my_cnn", *args, cwd=work, env=env)

    out = work / "outputs"
    assert list(out.glob("runs/*/*/model/MLmodel")), sorted(p.name for p in out.rglob("*"))[:50]
    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("happysad")
    (run,) = client.search_runs([exp.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params["model.name"] == "my_cnn"
    assert run.data.tags["happysad.run_dir"].startswith(str(work.resolve() / "outputs"))
