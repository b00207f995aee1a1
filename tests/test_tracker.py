"""The tracker the job gets: MLflow when tracking is on and reachable, a null tracker else."""

from __future__ import annotations

import inspect
import logging
from pathlib import Path

import pytest
from omegaconf import DictConfig, OmegaConf

from happysad.config import TrackingConf
from happysad.tracking.tracker import NullTracker, Tracker, TrackingUnavailable, open_tracker

from .conftest import free_port


def _cfg(tmp_path: Path, **over: object) -> DictConfig:
    """A tracking group as validate() returns it: the schema's defaults, then `over`."""
    given = {
        "uri": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "experiment": "t",
        "artifact_location": str(tmp_path / "artifacts"),
        "connect_timeout": 2,
        **over,
    }
    return OmegaConf.merge(OmegaConf.structured(TrackingConf), given)


def test_tracking_off_gives_a_null_tracker_that_writes_nothing(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, enabled=False)
    tracker = open_tracker(cfg)
    assert type(tracker) is NullTracker and not tracker.enabled
    report = tmp_path / "metrics.json"
    report.write_text("{}")
    with tracker.run("name", {"tag": "v"}) as t:
        t.log_params({"a": 1})
        t.log_metrics({"loss": 1.0}, step=1)
        t.set_tags({"b": "2"})
        t.log_artifact(report)
        t.log_artifacts(tmp_path)
        assert t.register_model("runs:/x/model", "m") is None
        assert t.logged_epochs() == set()
    assert tracker.run_id is None
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "artifacts").exists()


def test_tracking_on_gives_a_tracker_that_records(tmp_path: Path) -> None:
    tracker = open_tracker(_cfg(tmp_path))
    assert type(tracker) is Tracker and tracker.enabled
    with tracker.run("name", {}):
        tracker.log_metrics({"loss": 0.5}, step=1)
    assert tracker.run_id and tracker.logged_epochs() == {1}
    assert (tmp_path / "mlflow.db").is_file()


def test_a_down_server_is_an_error_or_a_null_tracker(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # check_reachable sets these for the process (if unset): set here, undone after the test.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
    uri = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(TrackingUnavailable, match=r"tracking\.required=false"):
        open_tracker(_cfg(tmp_path, uri=uri))
    with caplog.at_level(logging.WARNING, logger="happysad.tracking.tracker"):
        tracker = open_tracker(_cfg(tmp_path, uri=uri, required=False))
    assert type(tracker) is NullTracker
    assert "training without MLflow" in caplog.text


def test_the_null_tracker_overrides_every_public_method() -> None:
    """A method added to Tracker but not to NullTracker would track with tracking off."""
    public = {n for n, v in vars(Tracker).items() if callable(v) and not n.startswith("_")}
    missing = sorted(n for n in public if n not in vars(NullTracker) and n != "run")
    assert not missing, f"NullTracker must override: {missing}"
    for name in public - {"run"}:  # and with the same signature, so it stands in anywhere
        real, null = (
            inspect.signature(getattr(Tracker, name)),
            inspect.signature(getattr(NullTracker, name)),
        )
        assert list(real.parameters) == list(null.parameters), name
