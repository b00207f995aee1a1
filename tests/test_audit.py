"""Issue 24, the second adversarial review: each test rebuilds one attack or fault and
asserts the behaviour the fix gives (each failed on main before its fix)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from happysad.data.scan import scan_folder

from .conftest import hash_tree, write_image


def _img(seed: int, size: int = 20) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)


def _two_classes(root: Path, n: int = 3) -> Path:
    for cls in ("happy", "sad"):
        for i in range(n):
            write_image(root / cls / f"{cls}{i}.png", _img(i + (20 if cls == "sad" else 0)))
    return root


# --- B7: quarantine never moves a file whose real folder is outside data.root -------------


def test_quarantine_never_moves_files_through_a_class_folder_linked_to_home(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    (home / "sub").mkdir(parents=True)
    (home / ".bashrc").write_text("alias ll='ls -l'\n")
    (home / "notes.txt").write_text("my notes\n")
    (home / "sub" / "thesis.pdf").write_bytes(b"%PDF-1.4 thesis")
    write_image(home / "photo.png", _img(7))
    ds = tmp_path / "ds"
    for i in range(3):
        write_image(ds / "sad" / f"sad{i}.png", _img(i))
    (ds / "happy").symlink_to(home, target_is_directory=True)
    before = hash_tree(home)
    q = tmp_path / "quarantine"

    res = scan_folder(ds, extensions=[".png"], quarantine_dir=q)

    assert hash_tree(home) == before  # nothing moved out of the linked folder
    assert not q.exists() or not any(q.rglob("*"))
    names = {Path(r.path).name: r for r in res.rejected}
    assert set(names) == {".bashrc", "notes.txt", "thesis.pdf"}
    for r in names.values():
        assert r.action == "skipped"
        assert f"outside data.root={ds.resolve()}" in r.reason and "not moved" in r.reason
    assert res.counts() == {"happy": 1, "sad": 3}


def test_quarantine_still_moves_bad_files_that_really_lie_in_the_root(tmp_path: Path) -> None:
    root = _two_classes(tmp_path / "data")
    (root / "sad" / "notes.txt").write_text("not an image")
    q = tmp_path / "q"
    res = scan_folder(root, extensions=[".png"], quarantine_dir=q)
    assert [r.action for r in res.rejected] == ["quarantined"]
    assert (q / "sad" / "notes.txt").read_text() == "not an image"
