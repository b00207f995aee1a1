"""Stratified, seeded, file-level train/val/test split with a manifest.

Unlike the seed notebook (which split a reshuffling dataset by batches, so its "test" set
changed every epoch and leaked into training), the split here is decided once per file,
per class, from a seed, and identical contents are kept in one split so a duplicated photo
cannot sit in both train and test.
"""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from happysad.data.scan import ImageRecord
from happysad.errors import DataError, csv_row
from happysad.paths import NAME_ERRORS, open_listing

SPLITS = ("train", "val", "test")


@dataclass
class Splits:
    class_names: list[str]
    train: list[ImageRecord]
    val: list[ImageRecord]
    test: list[ImageRecord]
    duplicates: list[dict] = field(default_factory=list)  # same content more than once

    def __getitem__(self, name: str) -> list[ImageRecord]:
        return getattr(self, name)

    def counts(self) -> dict[str, dict[str, int]]:
        out = {}
        for s in SPLITS:
            c: dict[str, int] = dict.fromkeys(self.class_names, 0)
            for r in self[s]:
                c[r.class_name] += 1
            out[s] = c
        return out

    def summary(self) -> str:
        parts = []
        for s, c in self.counts().items():
            parts.append(
                f"{s} {sum(c.values())} (" + ", ".join(f"{k} {v}" for k, v in c.items()) + ")"
            )
        line = "; ".join(parts)
        cross = [d for d in self.duplicates if len(set(d["splits"].split("|"))) > 1]
        conflicts = [d for d in self.duplicates if len(set(d["classes"].split("|"))) > 1]
        if self.duplicates:
            line += f"; {len(self.duplicates)} duplicated contents ({len(cross)} across splits"
            line += f", {len(conflicts)} with conflicting classes)"
        return line

    def fingerprint(self, split: str | None = None) -> str:
        """Hash of (file, class, split, content) for every used file: equal iff same data and
        split. With `split`, of that split's files only (its MLflow dataset digest)."""
        h = hashlib.sha256()
        for s in SPLITS if split is None else (split,):
            for r in sorted(self[s], key=lambda r: r.relpath):
                h.update(
                    f"{s}\t{r.relpath}\t{r.class_name}\t{r.sha256}\n".encode("utf-8", NAME_ERRORS)
                )
        return h.hexdigest()

    def write_manifest(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open_listing(path) as fh:
            w = csv.writer(fh)
            w.writerow(["relpath", "class_name", "label", "split", "sha256", "height", "width"])
            for s in SPLITS:
                for r in self[s]:
                    w.writerow(
                        csv_row([r.relpath, r.class_name, r.label, s, r.sha256, r.height, r.width])
                    )
        return path

    def write_duplicates(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open_listing(path) as fh:
            w = csv.DictWriter(fh, fieldnames=["sha256", "files", "classes", "splits"])
            w.writeheader()
            w.writerows(csv_row(d) for d in self.duplicates)
        return path


def _allocate(n: int, ratios: dict[str, float]) -> dict[str, int]:
    """Split n items by ratios (largest remainder); every split with ratio > 0 gets >= 1 if n allows."""
    raw = {k: n * v for k, v in ratios.items()}
    counts = {k: int(np.floor(v)) for k, v in raw.items()}
    rest = n - sum(counts.values())
    for k in sorted(raw, key=lambda k: (raw[k] - counts[k], ratios[k]), reverse=True)[:rest]:
        counts[k] += 1
    wanted = [k for k in ratios if ratios[k] > 0]
    if n >= len(wanted):
        for k in wanted:
            if counts[k] == 0:
                donor = max(counts, key=lambda d: counts[d])
                counts[donor] -= 1
                counts[k] += 1
    return counts


def split_records(
    records: list[ImageRecord],
    class_names: list[str],
    ratios: dict[str, float],
    seed: int,
    group_duplicates: bool = True,
) -> Splits:
    """Assign each file to train/val/test, stratified by class, deterministic for the seed."""
    by_hash: dict[str, list[ImageRecord]] = defaultdict(list)
    for r in sorted(records, key=lambda r: r.relpath):
        by_hash[r.sha256].append(r)

    # Units of assignment: a group of identical contents (or single files).
    units: dict[str, list[list[ImageRecord]]] = defaultdict(list)
    for group in by_hash.values():
        if group_duplicates:
            units[group[0].class_name].append(group)
        else:
            for r in group:
                units[r.class_name].append([r])

    out: dict[str, list[ImageRecord]] = {s: [] for s in SPLITS}
    where: dict[str, str] = {}
    rng = np.random.default_rng(seed)
    for cls in class_names:
        cls_units = sorted(units.get(cls, []), key=lambda g: g[0].relpath)
        order = rng.permutation(len(cls_units))
        n = _allocate(len(cls_units), ratios)
        bounds = {"train": (0, n["train"]), "val": (n["train"], n["train"] + n["val"])}
        bounds["test"] = (n["train"] + n["val"], len(cls_units))
        for s, (a, b) in bounds.items():
            for i in order[a:b]:
                for r in cls_units[i]:
                    out[s].append(r)
                    where[r.relpath] = s
    if not out["train"]:
        raise DataError(
            "data.split: the train split is empty; add images or raise data.split.train"
        )

    duplicates = []
    for sha, group in by_hash.items():
        if len(group) > 1:
            duplicates.append(
                {
                    "sha256": sha,
                    "files": "|".join(r.relpath for r in group),
                    "classes": "|".join(r.class_name for r in group),
                    "splits": "|".join(where[r.relpath] for r in group),
                }
            )
    return Splits(class_names, out["train"], out["val"], out["test"], duplicates)
