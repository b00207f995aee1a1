"""Bounded memory: streaming decode, data.cache=auto, the cache budget, killed builds,
`happysad-cache`, and the CPUs/memory a job may use (affinity, cgroups). No TensorFlow."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from happysad import resources
from happysad.cli import cache as cache_cli
from happysad.data import cache, loader
from happysad.data.image import Preprocessing, preprocess_file
from happysad.data.scan import scan_folder

from .conftest import CLI_ENV, ROOT

OLD = time.time() - 3600  # an mtime older than cache.TMP_GRACE_S


@pytest.fixture(scope="module")
def records(demo_data: Path) -> list:
    return scan_folder(demo_data).records


# --- streaming decode ---------------------------------------------------------------------


@pytest.mark.parametrize("prep", [Preprocessing(image_size=(20, 28)), Preprocessing(channels=1)])
def test_streaming_decode_in_small_chunks_equals_decoding_all_then_stacking(
    records: list, prep: Preprocessing, tmp_path: Path
) -> None:
    old_path = np.stack([preprocess_file(r.path, prep) for r in records])  # what main did
    mem, y, _ = loader.load_images_with_faces(records, prep, workers=2, chunk_size=3)
    assert isinstance(mem, np.ndarray) and not isinstance(mem, np.memmap)
    np.testing.assert_array_equal(mem, old_path)
    disk, _, _ = loader.load_images_with_faces(
        records, prep, workers=2, cache_dir=tmp_path, chunk_size=3
    )
    assert isinstance(disk, np.memmap)
    np.testing.assert_array_equal(disk, old_path)
    assert list(y) == [r.label for r in records]
    assert not list(tmp_path.glob("*.tmp-*"))  # the temp file became the entry


def test_streaming_decode_keeps_face_boxes(records: list, tmp_path: Path) -> None:
    prep = Preprocessing(image_size=(32, 32), face_crop=True)
    _, _, small = loader.load_images_with_faces(records[:12], prep, chunk_size=2)
    _, _, whole = loader.load_images_with_faces(records[:12], prep, chunk_size=100)
    assert small is not None and small.shape == (12, 4)
    np.testing.assert_array_equal(small, whole)


def test_a_failed_build_leaves_no_temp_file(records: list, tmp_path: Path) -> None:
    broken = [*records[:5], records[0]._replace(path="/no/such.png")]
    with pytest.raises(OSError):
        loader.load_images_with_faces(broken, Preprocessing(image_size=(8, 8)), cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- data.cache=auto ----------------------------------------------------------------------


def test_auto_picks_disk_when_memory_would_not_fit() -> None:
    prep = Preprocessing(image_size=(224, 224))
    n_bytes = loader.decoded_bytes(50_000, prep)
    assert n_bytes == 50_000 * 224 * 224 * 3
    assert (
        loader.resolve_cache_mode("auto", n_bytes, available=12 * 2**30) == "disk"
    )  # 7.5 GB > half
    assert loader.resolve_cache_mode("auto", n_bytes, available=64 * 2**30) == "memory"
    assert loader.resolve_cache_mode("memory", n_bytes, available=1) == "memory"  # as asked
    assert loader.resolve_cache_mode("disk", 1, available=2**40) == "disk"


def _data_cfg(tmp_path: Path, **data: object) -> object:
    return OmegaConf.create(
        {
            "data": {"cache": "auto", "cache_max_gb": None, "workers": 1, **data},
            "paths": {"cache_dir": str(tmp_path / "cache")},
        }
    )


def test_a_run_with_cache_auto_writes_a_disk_cache_when_memory_is_short(
    records: list, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from happysad.data.split import split_records
    from happysad.training.stages import _decode_splits

    splits = split_records(
        records, ["happy", "sad"], {"train": 0.6, "val": 0.2, "test": 0.2}, seed=0
    )
    prep = Preprocessing(image_size=(64, 64))
    cfg = _data_cfg(tmp_path)
    monkeypatch.setenv(resources.MEM_AVAILABLE_ENV, "0.5")  # 0.5 MB "available"
    loaded = _decode_splits(cfg, splits, prep)
    assert all(isinstance(x, np.memmap) for x, _, _ in loaded.values())
    assert len(list((tmp_path / "cache").glob("images-*.npy"))) == 3
    monkeypatch.setenv(resources.MEM_AVAILABLE_ENV, "4096")
    loaded = _decode_splits(_data_cfg(tmp_path / "b"), splits, prep)
    assert not any(isinstance(x, np.memmap) for x, _, _ in loaded.values())
    assert not (tmp_path / "b" / "cache").exists()


# --- budget, eviction, temp files ---------------------------------------------------------


def _fake_entry(folder: Path, key: str, n_bytes: int, mtime: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"images-{key}.npy"
    np.save(path, np.zeros(n_bytes, dtype=np.uint8))
    os.utime(path, (mtime, mtime))


def test_eviction_keeps_the_budget_and_drops_least_recently_used_first(tmp_path: Path) -> None:
    now = time.time()
    for i, key in enumerate(["aa", "bb", "cc", "dd"]):
        _fake_entry(tmp_path, key, 1000, now - 100 * (4 - i))  # aa oldest
    np.save(tmp_path / "faces-bb.npy", np.zeros(10, np.int32))
    gone = cache.evict(tmp_path, budget_bytes=2500, keep={"aa"})
    assert gone == ["bb", "cc"]  # aa is this run's; bb and cc were the oldest others
    left = cache.entries(tmp_path)
    assert [e.key for e in left] == ["aa", "dd"]
    assert sum(e.size for e in left) <= 2500
    assert not (tmp_path / "faces-bb.npy").exists()  # whole entries go


def test_builds_stay_within_the_budget_and_a_hit_counts_as_use(
    records: list, tmp_path: Path
) -> None:
    sizes = [(8, 8), (9, 9), (10, 10)]
    one = loader.decoded_bytes(len(records), Preprocessing(image_size=(10, 10))) + 200
    budget = 2 * one + 100  # room for two entries, not three
    for s in sizes[:2]:
        loader.load_images_with_faces(
            records, Preprocessing(image_size=s), cache_dir=tmp_path, max_cache_bytes=budget
        )
    first = cache.entries(tmp_path)[0].key  # (8, 8), the older one
    time.sleep(0.05)
    loader.load_images_with_faces(records, Preprocessing(image_size=(8, 8)), cache_dir=tmp_path)
    assert cache.entries(tmp_path)[-1].key == first  # the hit made it the most recent
    loader.load_images_with_faces(
        records, Preprocessing(image_size=sizes[2]), cache_dir=tmp_path, max_cache_bytes=budget
    )
    left = cache.entries(tmp_path)
    assert len(left) == 2 and first in {e.key for e in left}  # (9, 9) was evicted
    assert sum(e.size for e in left) <= budget


def test_a_leftover_temp_file_is_cleaned_at_the_next_build(records: list, tmp_path: Path) -> None:
    stale = tmp_path / "images-0123.tmp-999999.npy"
    young = tmp_path / "images-4567.tmp-999998.npy"
    for p in (stale, young):
        p.write_bytes(b"half a cache")
    os.utime(stale, (OLD, OLD))
    loader.load_images_with_faces(records[:4], Preprocessing(image_size=(8, 8)), cache_dir=tmp_path)
    assert not stale.exists()
    assert young.exists()  # might be a build that has not locked its file yet


def test_a_killed_build_is_cleaned_but_a_running_one_is_not(tmp_path: Path) -> None:
    tmp = tmp_path / "images-abcd.tmp-1.npy"
    code = (
        "import sys, time; from pathlib import Path; from happysad.data import cache\n"
        f"with cache.locked(Path({str(tmp)!r})):\n"
        "    print('locked', flush=True); time.sleep(60)\n"
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=CLI_ENV
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "locked"
        os.utime(tmp, (OLD, OLD))
        assert cache.clean_temp(tmp_path) == [] and tmp.exists()  # still being written
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
        assert cache.clean_temp(tmp_path) == [tmp] and not tmp.exists()
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()


# --- happysad-cache -----------------------------------------------------------------------


def test_cache_command_lists_trims_and_clears(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    now = time.time()
    for i, key in enumerate(["aa", "bb", "cc"]):
        _fake_entry(tmp_path, key, 2**20, now - 100 * (3 - i))
    (tmp_path / "scan-0123456789abcdef.json").write_text("{}")
    assert cache_cli.main(["list", "--dir", str(tmp_path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [e["key"] for e in listed["entries"]] == ["aa", "bb", "cc"]
    assert listed["other_files"] == ["scan-0123456789abcdef.json"]
    assert listed["total_bytes"] >= 3 * 2**20
    assert cache_cli.main(["clear", "--dir", str(tmp_path), "--to-gb", str(2.5 / 1024)]) == 0
    assert [e.key for e in cache.entries(tmp_path)] == ["bb", "cc"]
    assert cache_cli.main(["clear", "--dir", str(tmp_path)]) == 0
    assert "deleted 3 files" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
    assert cache_cli.main(["clear", "--dir", str(tmp_path), "--to-gb", "-1"]) == 2


def test_python_m_happysad_cache_lists_a_folder(tmp_path: Path) -> None:
    _fake_entry(tmp_path, "ee", 4096, time.time())
    res = subprocess.run(
        [sys.executable, "-m", "happysad", "cache", "list", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=CLI_ENV,
        cwd=ROOT,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "1 entries" in res.stdout and "ee" in res.stdout


# --- CPUs and memory this process may use -------------------------------------------------


def _cgroup_v2(tmp_path: Path, cpu_max: str | None, mem: tuple[str, str] | None = None) -> Path:
    root = tmp_path / "cg"
    job = root / "jobs" / "one"
    job.mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory\n")
    if cpu_max is not None:
        (job / "cpu.max").write_text(cpu_max + "\n")
    (root / "cpu.max").write_text("max 100000\n")
    if mem is not None:
        (job / "memory.max").write_text(mem[0] + "\n")
        (job / "memory.current").write_text(mem[1] + "\n")
        (job / "memory.stat").write_text("anon 1\ninactive_file 1048576\n")
    proc = tmp_path / "proc_cgroup"
    proc.write_text("0::/jobs/one\n")
    return proc


def test_cpus_follow_the_cgroup_quota_and_the_affinity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    proc = _cgroup_v2(tmp_path, "150000 100000")  # 1.5 CPUs
    assert resources.cgroup_cpu_limit(tmp_path / "cg", proc) == 1.5
    assert resources.available_cpus(tmp_path / "cg", proc) == 2
    assert resources.available_cpus(tmp_path / "none", proc) == 16  # no cgroup: affinity
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert resources.available_cpus(tmp_path / "cg", proc) == 1


def test_cpus_from_a_cgroup_v1_quota(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    cpu = tmp_path / "cg" / "cpu,cpuacct" / "job"
    cpu.mkdir(parents=True)
    (cpu / "cpu.cfs_quota_us").write_text("300000\n")
    (cpu / "cpu.cfs_period_us").write_text("100000\n")
    proc = tmp_path / "proc_cgroup"
    proc.write_text("4:memory:/job\n3:cpu,cpuacct:/job\n0::/\n")
    assert resources.available_cpus(tmp_path / "cg", proc) == 3
    (cpu / "cpu.cfs_quota_us").write_text("-1\n")  # unlimited
    assert resources.available_cpus(tmp_path / "cg", proc) == 8


def test_decode_threads_follow_available_cpus(
    records: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    import concurrent.futures as cf

    seen = []
    real = cf.ThreadPoolExecutor

    def spy(max_workers: int | None = None, **kw: object) -> cf.ThreadPoolExecutor:
        seen.append(max_workers)
        return real(max_workers=max_workers, **kw)

    monkeypatch.setattr(loader, "ThreadPoolExecutor", spy)
    monkeypatch.setattr(loader, "available_cpus", lambda: 3)
    loader.load_images_with_faces(records[:4], Preprocessing(image_size=(8, 8)))
    assert seen == [3]


def test_available_memory_from_meminfo_the_cgroup_and_the_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(resources.MEM_AVAILABLE_ENV, raising=False)
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 65536000 kB\nMemAvailable: 8388608 kB\n")  # 8 GiB
    proc = _cgroup_v2(tmp_path, None, mem=(str(4 * 2**30), str(3 * 2**30)))
    got = resources.available_memory_bytes(tmp_path / "cg", proc, meminfo)
    assert got == 2**30 + 2**20  # the cgroup's 1 GiB left (+ reclaimable page cache) < 8 GiB
    got = resources.available_memory_bytes(tmp_path / "none", proc, meminfo)
    assert got == 8 * 2**30
    monkeypatch.setenv(resources.MEM_AVAILABLE_ENV, "100")
    assert resources.available_memory_bytes(tmp_path / "cg", proc, meminfo) == 100 * 2**20
