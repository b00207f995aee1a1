"""`happysad-train`'s precheck and run-dir guard, in-process: argv in, what is composed, the
one error line and the exit status out (the subprocess tests in test_reliability and
test_adversarial prove the wiring once)."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from happysad.cli import precheck
from happysad.cli.train import RunDirGuard
from happysad.errors import ConfigError

SECRET = "s3cr3t-precheck"


@pytest.mark.parametrize(
    ("argv", "rest", "user_dir"),
    [
        (["--config-dir", "/c", "a=1"], ["a=1"], "/c"),
        (["-cd", "/c", "a=1"], ["a=1"], "/c"),
        (["a=1", "--config-dir=/c"], ["a=1"], "/c"),
        (["a=1", "b=2"], ["a=1", "b=2"], None),
    ],
)
def test_the_config_dir_is_taken_out_of_argv(
    argv: list[str], rest: list[str], user_dir: str | None
) -> None:
    assert precheck.split_config_dir(argv) == (rest, user_dir)


def test_neutral_flags_and_hydra_overrides_are_left_out() -> None:
    argv = ["--cfg", "job", "-p", "trainer", "--resolve", "a=1", "hydra.run.dir=x", "+b=2"]
    assert precheck.precheck_overrides(argv) == (["a=1", "+b=2"], False)
    assert precheck.precheck_overrides(["--multirun", "a=1,2"]) == (["a=1,2"], True)
    assert precheck.precheck_overrides(["hydra/launcher=basic", "~c"]) == (["~c"], False)


@pytest.mark.parametrize("flag", ["--config-name=other", "--help", "--info", "-cn"])
def test_a_flag_that_changes_what_is_composed_leaves_argv_to_hydra(flag: str) -> None:
    assert precheck.precheck_overrides([flag, "a=1"]) is None
    assert precheck.variants([flag, "a=1"]) is None
    assert precheck.precheck([flag, "model=nope"]) == 0  # Hydra reports, not the precheck


def test_a_multirun_is_prechecked_value_by_value() -> None:
    overrides, multirun = precheck.precheck_overrides(
        ["-m", "model=tiny_cnn,small_cnn", "hydra.sweep.dir=x", "optimizer.lr=1e-3,3e-4,1e-4"]
    )
    assert multirun and overrides == ["model=tiny_cnn,small_cnn", "optimizer.lr=1e-3,3e-4,1e-4"]
    variants = precheck.sweep_variants(
        [*overrides, "trainer.epochs=2", "optimizer.lr2=interval(0,1)"]
    )
    assert variants == [
        ["model=tiny_cnn", "optimizer.lr=0.001", "trainer.epochs=2"],
        ["model=small_cnn", "optimizer.lr=0.001", "trainer.epochs=2"],
        ["model=tiny_cnn", "optimizer.lr=0.0003", "trainer.epochs=2"],
        ["model=tiny_cnn", "optimizer.lr=0.0001", "trainer.epochs=2"],
    ]


def test_a_long_sweep_is_checked_up_to_the_cap() -> None:
    values = ",".join(str(i) for i in range(1, 100))
    found = precheck.variants(["-m", f"trainer.epochs={values}"])
    assert found is not None
    assert len(found[0]) == precheck.MAX_COMPOSES
    assert found[0][:2] == [["trainer.epochs=1"], ["trainer.epochs=2"]]


def test_hydras_own_grammar_error_is_left_to_hydra() -> None:
    assert precheck.variants(["-m", "a=[1,"]) is None
    assert precheck.precheck(["-m", "a=[1,"]) == 0


def test_a_good_command_line_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert precheck.first_error(["model=tiny_cnn", "trainer.epochs=2"]) is None
    assert precheck.precheck(["-m", "model=tiny_cnn,small_cnn", "hydra.run.dir=x"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["model=nope"], "error: model=nope: no such option in conf/model/"),
        (["-m", "optimizer.lr=1e-3,3e-4", "model=tiny_cnn,nope"], "error: model=nope: no such"),
        (["--cfg", "job", "experiment=nope"], "error: experiment=nope: no such option"),
    ],
)
def test_a_bad_override_is_one_line_and_exit_status_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert precheck.precheck(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(expected), err
    assert len(err.strip().splitlines()) == 1, err


def test_the_users_config_dir_is_composed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "mine.yaml").write_text("defaults:\n  - tiny_cnn\n  - _self_\n")
    assert precheck.precheck(["model=mine"]) == 2  # not in happysad's conf/
    capsys.readouterr()
    assert precheck.precheck(["--config-dir", str(tmp_path), "model=mine"]) == 0
    assert precheck.precheck(["--config-dir", str(tmp_path / "nowhere"), "a=1"]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_the_error_line_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    assert precheck.precheck([f"tracking.uri=https://u:{SECRET}@h", "model=nope"]) == 2
    assert precheck.precheck([f"model=https://u:{SECRET}@h"]) == 2
    err = capsys.readouterr().err
    assert SECRET not in err and "***" in err, err


# --- the run-dir guard: raise for the API, exit for the CLI -------------------------------


def _reused_run_dir(tmp_path: Path) -> Path:
    rd = tmp_path / "earlier"
    rd.mkdir()
    (rd / "history.csv").write_text("epoch,loss\n0,0.5\n")
    return rd


def _hydra_config(run_dir: Path, resume: str | None = None) -> object:
    return OmegaConf.create(
        {"hydra": {"run": {"dir": str(run_dir)}}, "trainer": {"resume": resume}}
    )


def test_the_guard_raises_by_default(tmp_path: Path) -> None:
    """happysad.api.train's mode: the caller gets the ConfigError."""
    rd = _reused_run_dir(tmp_path)
    assert RunDirGuard.exit_on_refusal is False
    with pytest.raises(ConfigError, match="already holds a run"):
        RunDirGuard().on_run_start(_hydra_config(rd))
    RunDirGuard().on_run_start(_hydra_config(tmp_path / "fresh"))  # a new dir passes
    RunDirGuard().on_run_start(_hydra_config(rd, resume=str(rd)))  # resume checks elsewhere


def test_the_guard_exits_in_one_line_in_cli_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rd = _reused_run_dir(tmp_path)
    monkeypatch.setattr(RunDirGuard, "exit_on_refusal", True)
    with pytest.raises(SystemExit) as exited:
        RunDirGuard().on_run_start(_hydra_config(rd))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: hydra.run.dir={rd}: already holds a run (history.csv)")
    assert len(err.strip().splitlines()) == 1


def test_main_stops_at_the_precheck_and_leaves_the_guard_in_api_mode(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from happysad.cli import train

    monkeypatch.setattr("sys.argv", ["happysad-train", "model=nope"])
    with pytest.raises(SystemExit) as exited:
        train.main()
    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith("error: model=nope: no such option")
    assert RunDirGuard.exit_on_refusal is False
