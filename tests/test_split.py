"""Splitting: file-level, stratified, seeded, no overlap, duplicates kept together."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from happysad.data.scan import ImageRecord
from happysad.data.split import _allocate, split_records


def records(n_per_class: dict[str, int], dup_every: int = 0) -> list[ImageRecord]:
    out = []
    for label, (cls, n) in enumerate(n_per_class.items()):
        for i in range(n):
            sha = f"{cls}-{i // 2 if dup_every and i % dup_every < 2 else i}"
            out.append(
                ImageRecord(f"/d/{cls}/{i}.png", f"{cls}/{i}.png", cls, label, sha, 8, 8, 3, 10)
            )
    return out


RATIOS = {"train": 0.7, "val": 0.2, "test": 0.1}


def test_deterministic_for_a_seed_and_different_across_seeds() -> None:
    recs = records({"happy": 50, "sad": 50})
    a = split_records(recs, ["happy", "sad"], RATIOS, seed=1)
    b = split_records(list(reversed(recs)), ["happy", "sad"], RATIOS, seed=1)
    c = split_records(recs, ["happy", "sad"], RATIOS, seed=2)
    for s in ("train", "val", "test"):
        assert sorted(r.relpath for r in a[s]) == sorted(r.relpath for r in b[s])
    assert sorted(r.relpath for r in a.test) != sorted(r.relpath for r in c.test)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_stratified_and_disjoint_and_complete() -> None:
    recs = records({"happy": 100, "sad": 40, "meh": 20})
    sp = split_records(recs, ["happy", "sad", "meh"], RATIOS, seed=0)
    counts = sp.counts()
    assert counts["train"] == {"happy": 70, "sad": 28, "meh": 14}
    assert counts["val"] == {"happy": 20, "sad": 8, "meh": 4}
    assert counts["test"] == {"happy": 10, "sad": 4, "meh": 2}
    sets = [{r.relpath for r in sp[s]} for s in ("train", "val", "test")]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert set().union(*sets) == {r.relpath for r in recs}


def test_identical_contents_stay_in_one_split_and_are_reported() -> None:
    recs = records({"happy": 40, "sad": 40}, dup_every=5)
    sp = split_records(recs, ["happy", "sad"], RATIOS, seed=0)
    where = {r.relpath: s for s in ("train", "val", "test") for r in sp[s]}
    by_hash: dict[str, set[str]] = {}
    for r in recs:
        by_hash.setdefault(r.sha256, set()).add(where[r.relpath])
    assert all(len(v) == 1 for v in by_hash.values())
    assert sp.duplicates and all(len(set(d["splits"].split("|"))) == 1 for d in sp.duplicates)
    # Without grouping, a duplicate that lands in two splits is reported as such.
    loose = split_records(recs, ["happy", "sad"], RATIOS, seed=0, group_duplicates=False)
    assert any(len(set(d["splits"].split("|"))) > 1 for d in loose.duplicates)
    assert "across splits" in loose.summary()


def test_small_classes_still_get_every_nonzero_split() -> None:
    assert _allocate(5, RATIOS) == {"train": 3, "val": 1, "test": 1}
    assert _allocate(10, {"train": 0.8, "val": 0.2, "test": 0.0}) == {
        "train": 8,
        "val": 2,
        "test": 0,
    }
    assert sum(_allocate(7, RATIOS).values()) == 7


@pytest.mark.parametrize("n", [1, 2, 3, 17, 101])
def test_allocation_always_sums(n: int) -> None:
    assert sum(_allocate(n, RATIOS).values()) == n


def test_manifest_lists_every_file_once(tmp_path: Path) -> None:
    recs = records({"happy": 10, "sad": 10})
    sp = split_records(recs, ["happy", "sad"], RATIOS, seed=0)
    rows = list(csv.DictReader(sp.write_manifest(tmp_path / "m.csv").open()))
    assert sorted(r["relpath"] for r in rows) == sorted(r.relpath for r in recs)
    assert {r["split"] for r in rows} == {"train", "val", "test"}
    assert all(len(r["sha256"]) > 0 for r in rows)
