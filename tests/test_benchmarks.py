"""The benchmark scripts run end to end on tiny sizes and print one JSON line each.

Behaviour only: the keys are there and the numbers are numbers. Timings are not asserted
(the figures in the README come from full-size runs on a quiet machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CLI_ENV, ROOT

SCRIPTS = ROOT / "scripts"


def run_bench(name: str, *args: str, timeout: int = 300) -> dict:
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**CLI_ENV, "PYTHONPATH": str(ROOT / "src")},
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, proc.stdout
    out = json.loads(lines[0])
    assert len(out["loadavg_start"]) == 3 and len(out["loadavg_end"]) == 3
    assert out["machine"]["cpus"] >= 1
    return out


def test_bench_scan_reports_first_and_cached_scan(tmp_path: Path) -> None:
    out = run_bench("bench_scan.py", "--n-files", "120", "--work", str(tmp_path / "w"))
    assert out["bench"] == "scan" and out["n_files"] == out["records"] == 120
    assert out["rescan_cache_hits"] == 120 and out["rescan_same_records"] is True
    assert out["first_scan_s"] > 0 and out["cached_rescan_s"] > 0
    assert out["rescan_over_first"] > 0
    assert out["bad_config_rc"] == 2
    assert out["bad_config_message"].startswith("error: data.split=")
    assert set(out["targets_met"]) == {"rescan<=5%_of_first", "bad_config<=2s"}


@pytest.mark.slow
def test_bench_predict_compares_with_the_ceiling(tmp_path: Path) -> None:
    out = run_bench(
        "bench_predict.py", "--n-images", "40", "--repeats", "1", "--work", str(tmp_path / "w")
    )
    assert out["bench"] == "predict" and out["n_images"] == 40 and out["errors"] == 0
    for key in ("predict_files_images_per_s", "ceiling_images_per_s", "cold_start_s"):
        assert out[key] > 0, key
    assert out["predict_over_ceiling"] == pytest.approx(
        out["predict_files_images_per_s"] / out["ceiling_images_per_s"], rel=0.01
    )
    assert out["max_abs_prob_diff"] < 1e-4  # predict_files and the ceiling agree
    assert out["cold_start_rc"] == 0
    assert "predict>=0.85x_ceiling" in out["targets_met"]


@pytest.mark.slow
def test_bench_train_measures_the_four_variants(tmp_path: Path) -> None:
    out = run_bench(
        "bench_train.py",
        *("--per-class", "12", "--image-size", "32", "--seed-image-size", "32"),
        *("--seed-epochs", "2", "--throughput-epochs", "2", "--default-epochs", "2"),
        *("--rounds", "2"),
        *("--happysad-args", "tracking=none", "callbacks.tensorboard=null"),
        *("--work", str(tmp_path / "w")),
        timeout=600,
    )
    assert out["bench"] == "train"
    assert out["data"]["n_train"] > 0 and out["data"]["n_val"] > 0
    assert set(out["variants"]) == {"a", "b", "c", "c_seed", "d"}
    for name, v in out["variants"].items():
        assert v["process"]["rc"] == 0, (name, v["process"])
        assert v["epochs"] == 2, name
        assert v["images_per_s"] > 0, name
        assert isinstance(v["reached_target"], bool)
    for name in ("b", "d"):
        v = out["variants"][name]
        assert v["process"]["peak_rss_mb"] > 0
        assert v["same_val_files_as_a"] is True
        assert v["run_train_images_per_second"] > 0
    assert out["variants"]["a"]["val_accuracy_per_epoch"][0] is not None
    assert set(out["ratios"]) >= {
        "b_over_a",
        "b_over_c",
        "a_over_c_seed",
        "d_time_over_a_time_to_target",
    }
    assert out["ratios"]["b_over_c"] == pytest.approx(
        out["images_per_s"]["b"] / out["images_per_s"]["c"], rel=0.01
    )
    inter = out["interleaved"]
    assert inter["process"]["rc"] == 0, inter["process"]
    assert set(inter["images_per_s"]) == {"a", "b", "c", "c_seed"}
    assert all(v > 0 for v in inter["images_per_s"].values())
    assert inter["epochs_counted"] == {"a": 1, "b": 1, "c": 1, "c_seed": 1}
    assert out["throughput_targets_from"] == "interleaved"
    assert set(out["targets_met"]) == {
        "b_over_c>=0.90",
        "b_over_a>=1.2",
        "d_to_target<=a/10",
        "d_peak_rss<=2.5GB",
    }


@pytest.mark.slow
def test_bench_scale_reports_time_and_anonymous_memory_per_size(tmp_path: Path) -> None:
    out = run_bench(
        "bench_scale.py",
        *("--sizes", "40,80", "--pixels", "32", "--epochs", "2", "--work", str(tmp_path / "w")),
        "--probe",
        timeout=600,
    )
    assert out["bench"] == "scale" and out["failed"] == [] and out["model"] == "scale_probe"
    assert [(r["px"], r["n"]) for r in out["runs"]] == [(32, 40), (32, 80)]
    for r in out["runs"]:
        assert r["records"] == r["n"] and r["rescan_cache_hits"] == r["n"]
        assert r["train_reused_cache"] is True  # training read the cache the build child wrote
        assert r["epochs"] == 2
        for key in (
            "first_scan_s",
            "cached_rescan_s",
            "cache_build_s",
            "first_epoch_s",
            "steady_epoch_s",
            "steady_epoch_cpu_s",
            "train_peak_anon_mb",
            "build_peak_anon_mb",
        ):
            assert r[key] > 0, key
        assert r["train_peak_anon_mb"] <= r["train_peak_rss_mb"]
    g = out["growth"]["32px"]
    assert g["from_n"] == 40 and g["to_n"] == 80 and g["images_ratio"] == 2
    assert g["steady_epoch_s_ratio_over_images_ratio"] > 0
    assert g["steady_epoch_cpu_s_ratio_over_images_ratio"] > 0
    assert "train_peak_anon_mb_growth" in g
    assert not list((tmp_path / "w" / "runs").rglob("images-*.npy"))  # caches removed


@pytest.mark.slow
def test_bench_precision_compares_settings_against_float32(demo_data: Path, tmp_path: Path) -> None:
    out = run_bench(
        "bench_precision.py",
        *("--settings", "false", "bfloat16", "--repeats", "1", "--work", str(tmp_path / "w")),
        *("data=folder", f"data.root={demo_data}", "model=tiny_cnn", "augment=none"),
        *("data.image_size=[32,32]", "trainer.epochs=1", "callbacks.tensorboard=null"),
        timeout=600,
    )
    assert out["bench"] == "precision" and out["baseline"] == "false"
    assert isinstance(out["cpu_bf16"], bool)
    base, bf16 = out["settings"]["false"], out["settings"]["bfloat16"]
    assert len(bf16["fit_seconds"]) == 1 and bf16["fit_seconds"][0] > 0
    assert bf16["fit_ratio_to_baseline"] == pytest.approx(
        bf16["fit_seconds_median"] / base["fit_seconds_median"], abs=0.002
    )
    assert all(0.0 <= a <= 1.0 for a in base["test_accuracy"] + bf16["test_accuracy"])
