"""Issue 21 item 7: one error line for a bad sweep value or a missing launcher plugin,
`happysad-train --help` without internal options, time-throttled non-terminal progress."""

from __future__ import annotations

import importlib.util
import itertools
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from happysad.cli import precheck
from happysad.data import progress
from happysad.data.progress import Progress
from happysad.paths import INTERNAL_OPTIONS, config_dir

from .conftest import no_tensorflow_env, run_cli

RAY_INSTALLED = importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is not None


# --- bad values inside a -m sweep ----------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "key"),
    [
        (["-m", "data.split.train=0.7,0.5"], "data.split="),  # composes, fails validation
        (["-m", "trainer.epochs=2,abc"], "trainer.epochs=abc"),  # fails composition
        (["-m", "optimizer.lr=1e-3,3e-4", "model.input_scale=-1"], "model.input_scale="),
    ],
)
def test_a_bad_sweep_value_is_one_line_naming_the_key(argv, key, capsys) -> None:
    assert precheck.precheck(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {key}"), err
    assert err.count("\n") == 1, err


def test_a_good_sweep_and_a_shown_config_pass_the_precheck() -> None:
    assert (
        precheck.first_error(["-m", "optimizer.lr=1e-3,3e-4", "model=tiny_cnn,small_cnn"]) is None
    )
    # --cfg shows the composed config as it is, valid or not: that is how one inspects it.
    assert precheck.first_error(["--cfg", "job", "data.split.train=0.5"]) is None
    assert precheck.first_error(["data.split.train=0.5"]).startswith("error: data.split=")


def test_a_sweep_with_an_invalid_value_stops_before_tensorflow(tmp_path: Path) -> None:
    env, marker = no_tensorflow_env(tmp_path)
    res = run_cli(
        "happysad-train", "-m", "data.split.train=0.5,0.7", f"paths.output_dir={tmp_path}", env=env
    )
    assert res.returncode == 2, res.stderr[-2000:]
    assert res.stderr.splitlines() == [res.stderr.strip()], res.stderr  # one line, no traceback
    assert res.stderr.startswith("error: data.split=") and "sum to 1" in res.stderr
    assert not marker.exists()
    assert not (tmp_path / "multiruns").exists()  # no sweep dir, no parent run


# --- a launcher whose plugin is not installed ----------------------------------------------


def test_the_extra_that_installs_a_plugin_comes_from_the_package_metadata() -> None:
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert "hydra-ray-launcher" in pyproject
    assert precheck.plugin_packages().get("hydra-ray-launcher") == "ray"
    assert precheck.plugin_error(["hydra/launcher=joblib"], None) is None  # installed


@pytest.mark.skipif(RAY_INSTALLED, reason="the ray launcher plugin is installed here")
def test_a_missing_launcher_plugin_names_the_extra(tmp_path: Path) -> None:
    want = "error: hydra/launcher=ray: its plugin (hydra-ray-launcher) is not installed: "
    want += "pip install 'happysad[ray]'"
    assert precheck.plugin_error(["hydra/launcher=ray"], None) == want
    env, marker = no_tensorflow_env(tmp_path)
    res = run_cli("happysad-train", "-m", "hydra/launcher=ray", "trainer.epochs=1,2", env=env)
    assert (res.returncode, res.stderr.strip()) == (2, want), res.stderr[-2000:]
    assert not marker.exists()


def test_an_unknown_launcher_names_its_group(capsys) -> None:
    assert precheck.precheck(["-m", "hydra/launcher=nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: hydra/launcher=nope: no such option in conf/hydra/launcher/")
    assert "joblib" in err


def test_an_unknown_option_does_not_offer_the_schema(capsys) -> None:
    assert precheck.precheck(["model=nope"]) == 2
    err = capsys.readouterr().err
    assert "small_cnn" in err and "schema" not in err, err


# --- --help --------------------------------------------------------------------------------


def _groups_section(text: str) -> dict[str, list[str]]:
    body = text.split("== Configuration groups ==", 1)[1].split("== Config ==", 1)[0]
    out = {}
    for line in body.splitlines():
        if ": " in line and not line.startswith("Compose"):
            group, options = line.split(": ", 1)
            out[group] = options.split(", ")
    return out


def _expected_groups() -> dict[str, list[str]]:
    """Every conf/ group and option a user picks, read from the files: schemas and the
    per-data-source defaults (options of a `${data}` group named after a data source that only
    pick other options) left out."""
    conf = config_dir()
    defaults = yaml.safe_load((conf / "config.yaml").read_text())["defaults"]
    by_data = {g for d in defaults if isinstance(d, dict) for g, o in d.items() if o == "${data}"}
    sources = {p.stem for p in (conf / "data").glob("*.yaml")}
    out = {}
    for folder in sorted(p for p in conf.iterdir() if p.is_dir() and p.name != "hydra"):
        pointers = {
            p.stem
            for p in folder.glob("*.yaml")
            if "defaults" in (yaml.safe_load(p.read_text()) or {})
        }
        options = {p.stem for p in folder.glob("*.yaml")} - (
            sources & pointers if folder.name in by_data else set()
        )
        out[folder.name] = sorted(options)
    return out


def test_help_lists_the_user_facing_options_only(tmp_path: Path) -> None:
    env, marker = no_tensorflow_env(tmp_path)
    res = run_cli("happysad-train", "--help", env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.startswith("happysad-train is powered by Hydra.")
    groups = _groups_section(res.stdout)
    assert groups == _expected_groups()
    assert groups["init"] == ["prior", "scratch"] and "demo" not in groups["augment"]
    assert "faces" in groups["augment"]  # a list of its own, and data=faces' default
    assert groups["data"] == ["demo", "faces", "folder"]  # the data sources themselves stay
    listed = {o for options in groups.values() for o in options}
    assert not listed & INTERNAL_OPTIONS
    assert "trainer:\n  epochs:" in res.stdout  # the config section is still there
    assert not marker.exists()


# --- progress without a terminal -----------------------------------------------------------


class Clock:
    """progress.time.monotonic, moved by the test: the step's items take the time it says."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 0.0
        monkeypatch.setattr(progress, "time", SimpleNamespace(monotonic=lambda: self.now))


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "happysad.progress"]


def _run(clock: Clock, total: int, seconds_per_item: float, desc: str) -> list[float]:
    """Update a Progress item by item; returns the clock at each log line."""
    times: list[float] = []
    handler = logging.Handler()
    handler.emit = lambda record: times.append(clock.now)  # type: ignore[method-assign]
    progress.log.addHandler(handler)
    try:
        with Progress(total, desc) as p:
            for _ in range(total):
                clock.now += seconds_per_item
                p.update()
    finally:
        progress.log.removeHandler(handler)
    return times


def test_a_fast_step_logs_only_its_final_line(monkeypatch, caplog) -> None:
    monkeypatch.setenv("HAPPYSAD_PROGRESS", "log")
    caplog.set_level(logging.INFO, logger="happysad.progress")
    _run(Clock(monkeypatch), 1000, 0.0001, "decode")  # 1000 items in 0.1 s
    lines = _lines(caplog)
    assert len(lines) == 1 and lines[0].startswith("decode: 100% (1000/1000"), lines


def test_a_slow_step_logs_at_most_once_per_interval(monkeypatch, caplog) -> None:
    monkeypatch.setenv("HAPPYSAD_PROGRESS", "log")
    monkeypatch.setattr(progress, "MIN_INTERVAL", 5.0)
    caplog.set_level(logging.INFO, logger="happysad.progress")
    times = _run(Clock(monkeypatch), 1000, 0.02, "scan")  # 20 s: 2 s per 10%
    lines = _lines(caplog)
    assert len(lines) == 4, lines  # at ~5, 10, 15 s and the final line, not one per 10%
    assert lines[-1].startswith("scan: 100% (1000/1000")
    shown = times[:-1]  # the final line comes whenever the step ends
    assert all(b - a >= 5.0 - 1e-6 for a, b in itertools.pairwise(shown)), times
    assert shown[0] >= 5.0 - 1e-6, times


def test_a_very_slow_step_still_logs_every_tenth(monkeypatch, caplog) -> None:
    monkeypatch.setenv("HAPPYSAD_PROGRESS", "log")
    caplog.set_level(logging.INFO, logger="happysad.progress")
    _run(Clock(monkeypatch), 1000, 1.0, "crop")  # 100 s per 10%: far over the interval
    lines = _lines(caplog)
    assert [line.split(" (")[0] for line in lines] == [f"crop: {p}%" for p in range(10, 101, 10)]
