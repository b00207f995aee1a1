"""Batch prediction keeps each file's own answer: order, bad files between good ones, batches
split across decode threads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .conftest import write_image


class MeanBrightness:
    """A stand-in model whose answer is each image's own mean level / 255: any mix-up of rows,
    batches or files shows as a wrong probability."""

    def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(len(x), -1).mean(axis=1, keepdims=True) / 255.0


@pytest.mark.parametrize("batch_size,workers", [(4, 2), (5, 3), (64, 1)])
def test_every_file_gets_its_own_prediction(tmp_path: Path, batch_size: int, workers: int) -> None:
    from happysad.data.image import Preprocessing
    from happysad.serving.packaging import LoadedModel, ModelMetadata
    from happysad.serving.predict import predict_files

    files, levels = [], {}
    for i in range(13):
        level = 10 + 17 * i
        path = write_image(tmp_path / f"img{i:02d}.png", np.full((24, 20, 3), level, np.uint8))
        files.append(str(path))
        levels[str(path)] = level
        if i % 4 == 1:  # a bad file after every few good ones, inside batches
            bad = tmp_path / f"bad{i:02d}.jpg"
            bad.write_bytes(b"\xff\xd8\xff broken")
            files.append(str(bad))
    files.append(str(tmp_path / "missing.png"))
    loaded = LoadedModel(
        MeanBrightness(), ModelMetadata(["dark", "bright"], Preprocessing(image_size=(8, 8))), "x"
    )
    preds = predict_files(loaded, files, batch_size=batch_size, workers=workers)
    assert [p.path for p in preds] == files
    for p in preds:
        if p.path in levels:
            assert p.error is None
            assert p.probabilities["bright"] == pytest.approx(levels[p.path] / 255, abs=1e-6)
            assert p.class_name == ("bright" if levels[p.path] > 127.5 else "dark")
        else:
            assert p.class_name is None and p.error
    assert sum(p.error is not None for p in preds) == 4  # 3 broken + 1 missing
    assert "unreadable" in preds[-1].error
