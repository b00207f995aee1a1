"""Predict class names for image files with a packaged model (path or MLflow URI).

Class names and preprocessing come from the model's own metadata, never from the current
config or a hard-coded "< 0.5 means happy". A file that cannot be read is reported and the
others still run.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from happysad import IMAGE_EXTENSIONS
from happysad.data.image import ImageDecodeError, Preprocessing, preprocess_file
from happysad.data.progress import Progress
from happysad.resources import available_cpus
from happysad.serving.loading import LoadedModel


@dataclass
class Prediction:
    path: str
    class_name: str | None
    probability: float | None
    probabilities: dict[str, float] | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _match(parts: list[str], pats: list[str]) -> bool:
    """glob's rules for one relative path: `*` stays in a component, a whole `**` spans any
    number of them, and wildcards skip names starting with a dot."""
    if not pats:
        return not parts
    head = pats[0]
    if head == "**":
        return _match(parts, pats[1:]) or (
            bool(parts) and not parts[0].startswith(".") and _match(parts[1:], pats)
        )
    if not parts:
        return False
    if glob.has_magic(head) and parts[0].startswith(".") and not head.startswith("."):
        return False
    return fnmatch.fnmatch(parts[0], head) and _match(parts[1:], pats[1:])


def recursive_glob(pattern: str) -> list[str]:
    """Files matching a pattern with `**`, without following symlinked folders.

    glob.glob(recursive=True) follows them, so a link to a parent folder repeats the tree
    ~40 levels deep (and two such links, 2^40 times). Folders reached through a link are not
    entered, as in the training scan; linked files are listed.
    """
    comps = pattern.split(os.sep)
    fixed = next((i for i, c in enumerate(comps) if glob.has_magic(c)), len(comps))
    base = os.sep.join(comps[:fixed]) or (os.sep if pattern.startswith(os.sep) else "")
    pats = [c for c in comps[fixed:] if c]
    out = []
    for dirpath, dirnames, filenames in os.walk(base or os.curdir, followlinks=False):
        dirnames.sort()
        rel = os.path.relpath(dirpath, base or os.curdir)
        parts = [] if rel == os.curdir else rel.split(os.sep)
        for name in sorted(filenames):
            if _match([*parts, name], pats):
                out.append(os.path.join(dirpath, name) if base else os.path.join(*parts, name))
    return sorted(out)


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
            found = recursive_glob(item) if "**" in item else glob.glob(item)
            matches = sorted(f for f in found if Path(f).is_file())
            if not matches:
                errors.append(Prediction(item, None, None, error="pattern matches no files"))
            files.extend(matches)
        else:
            errors.append(Prediction(item, None, None, error="no such file or folder"))
    return files, errors


def _decode_part(
    paths: list[str], prep: Preprocessing, out: np.ndarray, errors: list[str | None], start: int
) -> None:
    """Decode paths[j] into out[start + j]; a file that cannot be used gets its reason in
    errors[start + j] instead (the row of `out` is then left as it was)."""
    for j, path in enumerate(paths, start):
        try:
            out[j] = preprocess_file(path, prep)
        except ImageDecodeError as err:
            errors[j] = str(err)
        except OSError as err:
            errors[j] = f"unreadable ({err.strerror or err})"


def _submit_chunk(
    pool: ThreadPoolExecutor, chunk: list[str], prep: Preprocessing, n_workers: int
) -> tuple[np.ndarray, list[str | None], list[Future]]:
    """Start decoding one chunk straight into its batch array: one task per worker, not per
    file (a task per file spent more on thread hand-offs and the GIL than small decodes)."""
    h, w = prep.image_size
    out = np.empty((len(chunk), h, w, prep.channels), dtype=np.uint8)
    errors: list[str | None] = [None] * len(chunk)
    step = -(-len(chunk) // n_workers)
    futures = [
        pool.submit(_decode_part, chunk[k : k + step], prep, out, errors, k)
        for k in range(0, len(chunk), step)
    ]
    return out, errors, futures


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
    n_workers = workers or available_cpus()
    chunks = [files[i : i + batch_size] for i in range(0, len(files), batch_size)]
    with ThreadPoolExecutor(max_workers=n_workers) as pool, Progress(len(files), "predict") as bar:
        # The next chunk decodes in the threads while this one runs through the model.
        ahead = _submit_chunk(pool, chunks[0], prep, n_workers) if chunks else None
        for k, chunk in enumerate(chunks):
            assert ahead is not None
            images, errors, futures = ahead
            for f in futures:
                f.result()
            if k + 1 < len(chunks):
                ahead = _submit_chunk(pool, chunks[k + 1], prep, n_workers)
            good = [i for i, e in enumerate(errors) if e is None]
            probs_by_idx: dict[int, np.ndarray] = {}
            if good:
                batch = images if len(good) == len(chunk) else images[good]
                probs = loaded.predict_arrays(batch, batch_size=batch_size)
                for j, i in enumerate(good):
                    probs_by_idx[i] = probs[j]
            bar.update(len(chunk))
            for i, path in enumerate(chunk):
                if i not in probs_by_idx:
                    out.append(Prediction(path, None, None, error=errors[i]))
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
