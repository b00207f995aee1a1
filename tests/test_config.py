"""Config: every option of every group composes and validates; bad values name their key."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from happysad.config import validate
from happysad.errors import ConfigError
from happysad.paths import config_dir

from .conftest import no_tensorflow_env, run_cli

GROUPS = [
    "data",
    "augment",
    "model",
    "init",
    "optimizer",
    "callbacks",
    "schedule",
    "trainer",
    "tracking",
    "insight",
    "paths",
]


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (config_dir() / group).glob("*.yaml"))


@pytest.mark.parametrize(
    "override",
    [f"{g}={o}" for g in GROUPS for o in options(g)]
    + [f"experiment={o}" for o in options("experiment")],
)
def test_every_option_composes_and_validates(compose, override: str) -> None:
    cfg = compose([override], hydra_cfg=True)
    validate(cfg)
    # Everything but the run dir (which only exists inside a running app) resolves.
    container = OmegaConf.to_container(cfg.data, resolve=True)
    assert Path(container["root"]).is_absolute()


def test_defaults_are_the_documented_ones(compose, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    cfg = compose()
    assert cfg.data.source == "demo"
    assert (cfg.data.split.train, cfg.data.split.val, cfg.data.split.test) == (0.7, 0.2, 0.1)
    assert cfg.model.name == "small_cnn"
    assert cfg.tracking.uri.startswith("sqlite:////")  # absolute path, not relative to a run dir
    assert cfg.tracking.uri.endswith("/outputs/mlflow.db")


def test_the_optimizer_and_warm_up_follow_the_data_source(compose) -> None:
    """The demo's measured rate (3e-3 after a 5-epoch warm-up) stays with the demo: folders keep
    Adam at 1e-3 and a 1-epoch warm-up, and picking an optimizer gets that optimizer's rate."""
    demo = compose()
    assert demo.optimizer._target_ == "keras.optimizers.Adam" and demo.optimizer.lr == 3e-3
    assert demo.callbacks.lr_schedule.warmup_epochs == 5
    assert demo.callbacks.lr_schedule.max_warmup_share == 0.25  # trainer.epochs=5 still decays
    for source in ("folder", "faces"):
        cfg = compose([f"data={source}", "data.root=/tmp"])
        sched = cfg.callbacks.lr_schedule
        assert (cfg.optimizer.lr, sched.warmup_epochs, sched.max_warmup_share) == (1e-3, 1, 1.0)
    for preset in ("quick", "transfer", "seed"):  # measured at Adam's 1e-3, on any data
        assert compose([f"experiment={preset}"]).optimizer.lr == 1e-3, preset
    sgd = OmegaConf.load(config_dir() / "optimizer" / "sgd.yaml")
    assert compose(["optimizer=sgd"]).optimizer == sgd
    assert compose(["optimizer=adam"]).optimizer.lr == 1e-3


def test_seed_experiment_is_the_seed_network(compose) -> None:
    cfg = compose(["experiment=seed"])
    assert list(cfg.data.image_size) == [256, 256]
    targets = [layer._target_.split(".")[-1] for layer in cfg.model.layers]
    assert targets == [
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
    ]
    assert [layer.get("filters") for layer in cfg.model.layers if "filters" in layer] == [
        16,
        32,
        16,
    ]
    assert cfg.model.layers[-1].units == 256 and cfg.model.head == "auto"


BAD = [
    (["data.split.train=0.5"], "data.split"),
    (["data.split.val=-0.1", "data.split.train=0.9", "data.split.test=0.2"], "data.split.val"),
    (["data.image_size=[0,64]"], "data.image_size[0]"),
    (["data.image_size=[64]"], "data.image_size"),
    (["data.batch_size=-4"], "data.batch_size"),
    (["data.batch_size=abc"], "data.batch_size"),
    (["data.channels=2"], "data.channels"),
    (["data.interpolation=fancy"], "data.interpolation"),
    (["data.bad_files=quarantine"], "data.quarantine_dir"),
    (["data.cache=gpu"], "data.cache"),
    (["data.cache_max_gb=0"], "data.cache_max_gb"),
    (["data.cache_max_gb=-2.5"], "data.cache_max_gb"),
    (["data.demo.variety=baroque"], "data.demo.variety"),
    (["data.demo.cues=1.5"], "data.demo.cues"),
    (["data.max_file_mb=0"], "data.max_file_mb"),
    (["data.max_file_mb=lots"], "data.max_file_mb"),
    (["data.class_names=[happy]"], "data.class_names"),
    (["trainer.epochs=0"], "trainer.epochs"),
    (["trainer.threshold=1.5"], "trainer.threshold"),
    (["trainer.mixed_precision=fp8"], "trainer.mixed_precision"),
    (["trainer.mixed_precision=1"], "trainer.mixed_precision"),  # 1 == True, but not a bool
    (["optimizer.lr=-1"], "optimizer.lr"),
    (["model.head=maybe"], "model.head"),
    (["model.prior_lr_scale=0"], "model.prior_lr_scale"),
    (["model.layers=[]"], "model.layers"),
    (["model.calibration=platt"], "model.calibration"),
    (["+data.colour=red"], "data.colour"),
    (["+trainer.epoch=3"], "trainer.epoch"),
]


@pytest.mark.parametrize(("overrides", "key"), BAD)
def test_invalid_values_name_the_key(overrides: list[str], key: str) -> None:
    """Composition (a wrong type for a schema key) or validation (a wrong value) refuses
    it, in one line that starts with the key: what the CLI prints."""
    from happysad import api

    with pytest.raises(ConfigError) as info:
        validate(api.compose(overrides))
    msg = str(info.value)
    assert msg.startswith(key), msg
    assert "\n" not in msg


def test_cli_rejects_bad_value_in_one_line_before_tensorflow(tmp_path: Path) -> None:
    env, tf_marker = no_tensorflow_env(tmp_path)
    res = run_cli("happysad-train", "data.split.train=0.9", f"paths.output_dir={tmp_path}", env=env)
    assert res.returncode == 2, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith("error: data.split="), res.stderr
    assert "0.9" in lines[0]
    # Nothing was scanned, generated or tracked.
    assert not (tmp_path / "demo_data").exists()
    assert not (tmp_path / "mlflow.db").exists()
    # Validation happens before TensorFlow's multi-second import: it was never imported.
    assert not tf_marker.exists(), tf_marker.read_text()


def test_cli_help_and_cfg_are_fast() -> None:
    res = run_cli("happysad-train", "--cfg", "job", "trainer.epochs=7")
    assert res.returncode == 0, res.stderr
    assert "epochs: 7" in res.stdout


# --- the decision threshold: one check for the config, the API and both CLIs ----------------


@pytest.mark.parametrize("value", [0.0, 1.0, 1.5, -0.2])
def test_a_threshold_outside_0_1_is_refused_everywhere(
    compose, value: float, capsys: pytest.CaptureFixture[str]
) -> None:
    from happysad import api
    from happysad.cli import evaluate as cli_evaluate
    from happysad.cli import predict as cli_predict

    with pytest.raises(ConfigError, match=r"^trainer\.threshold="):
        validate(compose([f"trainer.threshold={value}"]))
    with pytest.raises(ConfigError, match=r"^threshold=.*strictly between 0 and 1"):
        api.predict("no/such/model", ["x.jpg"], threshold=value)  # before loading the model
    # The CLIs refuse it before anything is loaded (the model path does not exist).
    assert cli_predict.main(["no/such/model", "x.jpg", f"--threshold={value}"]) == 2
    assert cli_evaluate.main(["no/such/model", "no/such/data", f"--threshold={value}"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"error: --threshold={value}: must be strictly between 0 and 1"] * 2


def test_a_threshold_inside_0_1_passes(compose) -> None:
    from happysad.config import check_threshold

    validate(compose(["trainer.threshold=0.3"]))
    for ok in (None, 0.01, 0.5, 0.99):
        check_threshold(ok, "--threshold")
