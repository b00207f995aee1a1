"""The newest held-out face generators (scripts/fresh_faces.py, outside_faces.py, distant_faces.py,
remote_faces.py, yonder_faces.py, farther_faces.py):
the label lives in the mouth only, and a generator never touches a folder it did not write."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import script_module


@pytest.fixture(
    scope="module",
    params=[
        "fresh_faces",
        "outside_faces",
        "distant_faces",
        "remote_faces",
        "yonder_faces",
        "farther_faces",
    ],
)
def gen(request: pytest.FixtureRequest):
    """Each generator script, loaded once for all the tests of this file."""
    return script_module(request.param)


def test_twins_differ_only_in_a_small_region(gen) -> None:
    """Rendered from one seed as happy and as sad, two images differ clearly (by more than 40
    grey levels) in a small patch only: nothing but the mouth may depend on the label. (A
    neon mouth's faint glow spreads further, so small differences are not counted.)"""
    for i in range(12):
        happy, ext_h, q_h = gen.render(np.random.SeedSequence([5, 0, i]), 1, 128)
        sad, ext_s, q_s = gen.render(np.random.SeedSequence([5, 0, i]), -1, 128)
        assert (ext_h, q_h) == (ext_s, q_s)
        changed = np.abs(happy.astype(int) - sad.astype(int)).max(axis=2) > 40
        assert changed.any(), f"image {i}: the label changed nothing"
        assert changed.mean() < 0.15, (
            f"image {i}: {changed.mean():.1%} of pixels depend on the label"
        )


def test_generate_writes_both_classes_and_reuses_the_same_set(gen, tmp_path: Path) -> None:
    out = gen.generate(tmp_path / "set", per_class=3, image_size=48, seed=2)
    files = {c: sorted(p.name for p in (out / c).iterdir()) for c in gen.CLASSES}
    assert all(len(v) == 3 for v in files.values())
    marker = json.loads((out / gen.MARKER).read_text())
    assert (marker["per_class"], marker["image_size"], marker["seed"]) == (3, 48, 2)
    stamp = (out / "happy" / files["happy"][0]).stat().st_mtime_ns
    assert gen.generate(out, per_class=3, image_size=48, seed=2) == out  # reused, not rewritten
    assert (out / "happy" / files["happy"][0]).stat().st_mtime_ns == stamp


def test_generate_never_writes_into_a_foreign_folder(gen, tmp_path: Path) -> None:
    user = tmp_path / "mine"
    user.mkdir()
    (user / "photo.jpg").write_bytes(b"user data")
    with pytest.raises(FileExistsError):
        gen.generate(user, per_class=2, image_size=48, seed=0)
    assert [p.name for p in user.iterdir()] == ["photo.jpg"]
    assert (user / "photo.jpg").read_bytes() == b"user data"
    assert not [p for p in tmp_path.iterdir() if p.name != "mine"]  # no temp folder left
    with pytest.raises(ValueError):
        gen.generate(tmp_path / "x", per_class=0, image_size=48, seed=0)
