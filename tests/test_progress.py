"""Progress for long steps: a bar on a terminal, a log line per ~10% otherwise, never stdout."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from happysad.data import progress
from happysad.data.progress import Progress


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "happysad.progress"]


def test_log_mode_writes_one_line_per_tenth(monkeypatch, caplog) -> None:
    monkeypatch.setenv("HAPPYSAD_PROGRESS", "log")
    # One line per 10% when no time passes between them (the time throttle: test_cli_polish).
    monkeypatch.setattr(progress, "MIN_INTERVAL", 0.0)
    caplog.set_level(logging.INFO, logger="happysad.progress")
    with Progress(1000, "decode") as p:
        for _ in range(1000):
            p.update()
    lines = _lines(caplog)
    assert len(lines) == 10
    assert lines[0].startswith("decode: 10% (100/1000") and lines[-1].startswith("decode: 100%")
    caplog.clear()
    with Progress(1000, "scan") as p:
        p.update(1000)  # one big step: one line, not ten
    assert len(_lines(caplog)) == 1
    caplog.clear()
    with Progress(10, "tiny") as p:  # under MIN_TOTAL: nothing to watch
        p.update(10)
    assert _lines(caplog) == []


def test_bar_mode_draws_on_stderr_only(monkeypatch, capsys) -> None:
    monkeypatch.setenv("HAPPYSAD_PROGRESS", "bar")
    with Progress(300, "predict") as p:
        for _ in range(300):
            p.update()
    out, err = capsys.readouterr()
    assert out == ""
    assert "predict" in err and "300/300" in err


def test_long_steps_report_progress(monkeypatch, caplog, tmp_path: Path) -> None:
    """Demo generation, scanning, decoding and batch prediction each report their own step."""
    from happysad.data.demo import generate_demo_dataset
    from happysad.data.image import Preprocessing
    from happysad.data.loader import load_images
    from happysad.data.scan import scan_folder
    from happysad.serving.packaging import LoadedModel, ModelMetadata
    from happysad.serving.predict import predict_files

    monkeypatch.setenv("HAPPYSAD_PROGRESS", "log")
    monkeypatch.setattr(progress, "MIN_TOTAL", 1)
    caplog.set_level(logging.INFO, logger="happysad.progress")
    generate_demo_dataset(tmp_path / "faces", per_class=10, image_size=32, seed=1, n_corrupt=0)
    scanned = scan_folder(tmp_path / "faces")
    prep = Preprocessing(image_size=(16, 16))
    load_images(scanned.records, prep)

    class Half:
        def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
            return np.full((len(x), 1), 0.5)

    loaded = LoadedModel(Half(), ModelMetadata(["happy", "sad"], prep), "fake")
    predict_files(loaded, [r.path for r in scanned.records], batch_size=8)
    steps = {line.split(":")[0] for line in _lines(caplog)}
    assert {"demo faces", "scan faces", "decode", "predict"} <= steps, steps
