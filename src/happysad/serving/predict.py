"""Predict class names for image files with a packaged model (path or MLflow URI).

Class names and preprocessing come from the model's own metadata, never from the current
config or a hard-coded "< 0.5 means happy". A file that cannot be read is reported and the
others still run.
"""

from __future__ import annotations

import glob
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from happysad.data.image import ImageDecodeError, preprocess_file
from happysad.data.progress import Progress
from happysad.resources import available_cpus
from happysad.serving.packaging import LoadedModel

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff")


@dataclass
class Prediction:
    path: str
    class_name: str | None
    probability: float | None
    probabilities: dict[str, float] | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def expand_inputs(inputs: list[str], recursive: bool = False) -> tuple[list[str], list[Prediction]]:
    """Files as given; folders expanded to their image files; globs expanded (sorted).

    Returns (files, errors) where errors covers inputs that match nothing.
    """
    files: list[str] = []
    errors: list[Prediction] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            pattern = "**/*" if recursive else "*"
            found = sorted(
                str(f)
                for f in p.glob(pattern)
                if f.is_file()
                and f.suffix.lower() in IMAGE_EXTENSIONS
                and not f.name.startswith(".")
            )
            if not found:
                errors.append(Prediction(item, None, None, error="folder holds no image files"))
            files.extend(found)
        elif p.exists() or p.is_symlink():
            files.append(item)
        elif glob.has_magic(item):
            matches = sorted(f for f in glob.glob(item, recursive=True) if Path(f).is_file())
            if not matches:
                errors.append(Prediction(item, None, None, error="pattern matches no files"))
            files.extend(matches)
        else:
            errors.append(Prediction(item, None, None, error="no such file or folder"))
    return files, errors


def predict_files(
    loaded: LoadedModel,
    files: list[str],
    batch_size: int = 64,
    threshold: float | None = None,
    workers: int = 0,
) -> list[Prediction]:
    """One Prediction per file, in input order; unreadable files carry an error instead."""
    prep = loaded.metadata.preprocessing
    names = loaded.metadata.class_names
    out: list[Prediction] = []

    def load(path: str) -> np.ndarray | str:
        try:
            return preprocess_file(path, prep)
        except ImageDecodeError as err:
            return str(err)
        except OSError as err:
            return f"unreadable ({err.strerror or err})"

    n_workers = workers or available_cpus()
    chunks = [files[i : i + batch_size] for i in range(0, len(files), batch_size)]
    with ThreadPoolExecutor(max_workers=n_workers) as pool, Progress(len(files), "predict") as bar:
        # The next chunk decodes in the threads while this one runs through the model.
        ahead = [pool.submit(load, f) for f in chunks[0]] if chunks else []
        for k, chunk in enumerate(chunks):
            loaded_imgs = [f.result() for f in ahead]
            if k + 1 < len(chunks):
                ahead = [pool.submit(load, f) for f in chunks[k + 1]]
            good = [i for i, v in enumerate(loaded_imgs) if not isinstance(v, str)]
            probs_by_idx: dict[int, np.ndarray] = {}
            if good:
                batch = np.stack([loaded_imgs[i] for i in good])
                probs = loaded.predict_arrays(batch, batch_size=batch_size)
                for j, i in enumerate(good):
                    probs_by_idx[i] = probs[j]
            bar.update(len(chunk))
            for i, path in enumerate(chunk):
                if i not in probs_by_idx:
                    out.append(Prediction(path, None, None, error=str(loaded_imgs[i])))
                    continue
                p = np.asarray(probs_by_idx[i])
                label, conf = loaded.label(p[None, ...] if p.ndim else np.asarray([p]), threshold)
                full = [1.0 - float(p), float(p)] if p.ndim == 0 else [float(v) for v in p]
                out.append(
                    Prediction(
                        path,
                        names[int(label[0])],
                        float(conf[0]),
                        dict(zip(names, full, strict=True)),
                    )
                )
    return out
