"""The data set as MLflow dataset inputs, one per split, so runs can be filtered by data.

MLflow's runs table shows a Dataset column and each run page its datasets, from
`mlflow.log_input`. The images themselves stay where they are: each split is a metadata-only
dataset whose source is the data folder, whose digest is that split's own fingerprint (the
same files in the same split give the same digest; train, validation and test differ) and
whose profile counts its images per class.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

# Imported by the training job once it tracks (prepare_data), never by predict or the CLIs' start.
from mlflow.data.dataset_source_registry import resolve_dataset_source
from mlflow.data.meta_dataset import MetaDataset

# MLflow stores at most 36 characters of a digest; the full fingerprint is in the profile
# and in the run's `dataset_fingerprint` tag.
DIGEST_CHARS = 16
CONTEXTS = {"train": "training", "val": "validation", "test": "test"}


def digest(fingerprint: str) -> str:
    """The dataset digest MLflow shows: the split fingerprint's first DIGEST_CHARS characters."""
    return fingerprint[:DIGEST_CHARS]


def dataset_name(root: str | Path, split: str) -> str:
    """`faces-train`: the data folder's name and the split (a name per split, because MLflow
    keeps one profile per name and digest)."""
    return f"{Path(str(root)).name or 'data'}-{split}"


class SplitDataset(MetaDataset):
    """A metadata-only MLflow dataset with a profile (MetaDataset has none)."""

    def __init__(self, profile: dict[str, Any], **kwargs: Any) -> None:
        self._profile = profile
        super().__init__(**kwargs)

    @property
    def profile(self) -> dict[str, Any]:
        return self._profile

    def to_dict(self) -> dict[str, str]:
        return {**super().to_dict(), "profile": json.dumps(self._profile)}


def split_datasets(
    root: str | Path,
    fingerprint: str,
    counts: dict[str, dict[str, int]],
    split_fingerprints: dict[str, str],
) -> list[tuple[SplitDataset, str]]:
    """(MLflow dataset, context) for every split that has images: digest from the split's own
    fingerprint, the whole data set's fingerprint in the profile."""
    with warnings.catch_warnings():  # "can be interpreted in multiple ways": both are local
        warnings.simplefilter("ignore", UserWarning)
        source = resolve_dataset_source(str(Path(str(root)).resolve()))
    out = []
    for split, context in CONTEXTS.items():
        per_class = counts.get(split, {})
        if not sum(per_class.values()):
            continue
        profile = {"num_images": sum(per_class.values()), "classes": per_class}
        profile["fingerprint"] = fingerprint
        profile["split_fingerprint"] = split_fingerprints[split]
        dataset = SplitDataset(
            profile,
            source=source,
            name=dataset_name(root, split),
            digest=digest(split_fingerprints[split]),
        )
        out.append((dataset, context))
    return out
