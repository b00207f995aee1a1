"""Decode-once loading, the disk cache, and the tf.data pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from happysad.data.image import Preprocessing
from happysad.data.loader import load_images
from happysad.data.scan import scan_folder

tf = pytest.importorskip("tensorflow")
from happysad.data.pipeline import make_dataset  # noqa: E402


def test_load_images_shapes_labels_and_cache(demo_data: Path, tmp_path: Path) -> None:
    res = scan_folder(demo_data)
    prep = Preprocessing(image_size=(24, 32))
    x, y = load_images(res.records, prep, cache_dir=tmp_path)
    assert x.shape == (len(res.records), 24, 32, 3) and x.dtype == np.uint8
    assert list(y) == [r.label for r in res.records]
    cached = list(tmp_path.glob("images-*.npy"))
    assert len(cached) == 1
    x2, _ = load_images(res.records, prep, cache_dir=tmp_path)
    np.testing.assert_array_equal(x, x2)
    # A different preprocessing setting must not be served from that cache.
    x3, _ = load_images(res.records, Preprocessing(image_size=(16, 16)), cache_dir=tmp_path)
    assert x3.shape[1:3] == (16, 16) and len(list(tmp_path.glob("images-*.npy"))) == 2


def test_dataset_batches_and_shuffles_per_epoch() -> None:
    x = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1).repeat(2, 1).repeat(2, 2)
    y = np.arange(10)
    ds = make_dataset(x, y, batch_size=4, shuffle=True, seed=0)
    epochs = [np.concatenate([b[1].numpy() for b in ds]) for _ in range(2)]
    assert [len(b[1]) for b in ds] == [4, 4, 2]
    assert sorted(epochs[0]) == list(range(10)) and list(epochs[0]) != list(epochs[1])
    plain = make_dataset(x, y, batch_size=4)
    assert list(np.concatenate([b[1].numpy() for b in plain])) == list(range(10))
    assert next(iter(plain))[0].dtype == tf.uint8  # scaling happens in the model, not here


def test_memory_mapped_cache_streams_the_same_batches(tmp_path: Path) -> None:
    x = np.random.default_rng(0).integers(0, 255, (23, 4, 4, 3), dtype=np.uint8)
    y = np.arange(23).astype(np.float32).reshape(-1, 1)
    np.save(tmp_path / "x.npy", x)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    plain = [(a.numpy(), b.numpy()) for a, b in make_dataset(mm, y, batch_size=5)]
    assert [len(b) for _, b in plain] == [5, 5, 5, 5, 3]
    np.testing.assert_array_equal(np.concatenate([a for a, _ in plain]), x)
    shuffled = [
        (a.numpy(), b.numpy()) for a, b in make_dataset(mm, y, batch_size=5, shuffle=True, seed=1)
    ]
    xs = np.concatenate([a for a, _ in shuffled])
    ys = np.concatenate([b for _, b in shuffled]).astype(int).ravel()
    assert sorted(ys) == list(range(23)) and list(ys) != list(range(23))
    np.testing.assert_array_equal(xs, x[ys])  # images stay paired with their labels
