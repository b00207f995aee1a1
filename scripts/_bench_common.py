"""Helpers shared by scripts/bench_*.py: child processes with peak RSS, an epoch timer, the machine.

Nothing here imports TensorFlow at module level: the benchmark parents stay light and every
measured variant runs in its own child process (fresh TensorFlow, its own peak RSS).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
BIN = Path(sys.executable).parent


def loadavg() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def machine() -> dict[str, Any]:
    """CPU model and count, Python and library versions (read without importing TF)."""
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    libs = {}
    for pkg in ("tensorflow", "keras", "numpy", "opencv-python-headless"):
        try:
            libs[pkg] = version(pkg)
        except PackageNotFoundError:
            libs[pkg] = None
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        **libs,
    }


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This checkout's src/ and scripts/ first on the path; quiet TensorFlow; no outside MLflow."""
    env = dict(os.environ)
    paths = [str(ROOT / "src"), str(SCRIPTS)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("MLFLOW_TRACKING_URI", None)
    env.update(extra or {})
    return env


def console(name: str) -> list[str]:
    """An installed console script (what users run), else the equivalent `python -m`."""
    exe = BIN / name
    if exe.is_file():
        return [str(exe)]
    module = {
        "happysad-train": "happysad.cli.train",
        "happysad-predict": "happysad.cli.predict",
        "happysad-eval": "happysad.cli.evaluate",
    }[name]
    return [sys.executable, "-m", module]


def run_child(
    cmd: list[str],
    log: Path,
    env: dict[str, str] | None = None,
    timeout: float = 3600,
    on_start: Any = None,
) -> dict[str, Any]:
    """Run cmd to completion; return its exit code, wall time, start time and peak RSS.

    `on_start(pid)` is called once the child runs (e.g. to sample its memory).

    The peak RSS is that one child's (`os.wait4` rusage), not the maximum over all children.
    stdout+stderr go to `log` (the tail is returned when the child fails).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    load_start = loadavg()
    with log.open("wb") as fh:
        t0 = time.time()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env or child_env())
        if on_start is not None:
            on_start(proc.pid)
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.time() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        wall = time.time() - t0
    rc = os.waitstatus_to_exitcode(status)
    proc.returncode = rc  # reaped by wait4; keep Popen from waiting again
    out: dict[str, Any] = {
        "rc": rc,
        "wall_s": round(wall, 2),
        "t_start": t0,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
        "loadavg_start": load_start,
        "loadavg_end": loadavg(),
    }
    if rc != 0:
        out["log_tail"] = log.read_text(errors="replace")[-2000:]
    return out


def epoch_timer(path: str, stop_at_val_accuracy: float | None = None) -> Any:
    """A Keras callback that records wall-clock times of every epoch into `path` (JSON).

    Built by a factory so that it can be named as a Hydra `_target_`
    (`+callbacks.bench_timer={_target_:_bench_common.epoch_timer,path:...}`) and so that
    importing this module never imports Keras. Per epoch: begin, validation begin
    (`on_test_begin`), end (absolute `time.time()`), and the epoch's logs. With
    `stop_at_val_accuracy`, training stops once val_accuracy reaches it.
    """
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.record: dict[str, Any] = {"train_begin": None, "epochs": []}
            self._current: dict[str, Any] | None = None

        def on_train_begin(self, logs: dict | None = None) -> None:
            self.record["train_begin"] = time.time()

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self._current = {
                "epoch": epoch,
                "begin": time.time(),
                "val_begin": None,
                "cpu_begin": time.process_time(),
                "cpu_val_begin": None,
            }

        def on_test_begin(self, logs: dict | None = None) -> None:
            if self._current is not None and self._current["val_begin"] is None:
                self._current["val_begin"] = time.time()
                self._current["cpu_val_begin"] = time.process_time()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            cur = self._current or {"epoch": epoch, "begin": None, "val_begin": None}
            cur["end"] = time.time()
            cur["cpu_end"] = time.process_time()
            cur["logs"] = {k: float(v) for k, v in (logs or {}).items()}
            self.record["epochs"].append(cur)
            self._current = None
            tmp = Path(f"{path}.tmp")
            tmp.write_text(json.dumps(self.record))
            os.replace(tmp, path)
            acc = cur["logs"].get("val_accuracy")
            if stop_at_val_accuracy is not None and acc is not None and acc >= stop_at_val_accuracy:
                self.model.stop_training = True

    return EpochTimer()


def summarize_epochs(
    record: dict[str, Any], n_train: int, t_start: float | None = None, target: float = 0.95
) -> dict[str, Any]:
    """Throughput and time-to-accuracy from an epoch_timer record.

    `images_per_s`: training images per second of the training part of each epoch (from
    epoch begin to validation begin), epochs 2+ only, so graph tracing in epoch 1 is
    excluded; `images_per_s_incl_first_epoch` counts every epoch; `images_per_cpu_s` is
    per second of the process's CPU time (all threads), epochs 2+. `time_to_target_s` is
    from `t_start` (the process launch) to the end of the first epoch whose val_accuracy
    reaches `target`; `fit_time_to_target_s` is from the start of `fit`.
    """
    epochs = record.get("epochs", [])
    train_times = [(e.get("val_begin") or e["end"]) - e["begin"] for e in epochs]
    cpu_times = [(e.get("cpu_val_begin") or e["cpu_end"]) - e["cpu_begin"] for e in epochs]
    out: dict[str, Any] = {"epochs": len(epochs)}
    if len(train_times) >= 2:
        out["images_per_s"] = round(n_train * (len(train_times) - 1) / sum(train_times[1:]), 2)
        # Per CPU-second of this process (all its threads): less sensitive to other
        # processes on a shared machine than wall-clock throughput.
        out["images_per_cpu_s"] = round(n_train * (len(cpu_times) - 1) / sum(cpu_times[1:]), 2)
    else:
        out["images_per_s"] = None
        out["images_per_cpu_s"] = None
    if train_times:
        out["images_per_s_incl_first_epoch"] = round(
            n_train * len(train_times) / sum(train_times), 2
        )
        out["first_epoch_train_s"] = round(train_times[0], 2)
    accs = [e["logs"].get("val_accuracy") for e in epochs]
    valid = [a for a in accs if a is not None]
    out["best_val_accuracy"] = round(max(valid), 4) if valid else None
    out["val_accuracy_per_epoch"] = [round(a, 4) if a is not None else None for a in accs]
    hit = next((i for i, a in enumerate(accs) if a is not None and a >= target), None)
    out["reached_target"] = hit is not None
    if hit is not None:
        end = epochs[hit]["end"]
        out["epochs_to_target"] = hit + 1
        out["time_to_target_s"] = round(end - t_start, 2) if t_start else None
        out["fit_time_to_target_s"] = round(end - record["train_begin"], 2)
    else:
        out["epochs_to_target"] = None
        out["time_to_target_s"] = None
        out["fit_time_to_target_s"] = None
    if epochs and record.get("train_begin"):
        out["fit_s"] = round(epochs[-1]["end"] - record["train_begin"], 2)
    return out


def emit(result: dict[str, Any]) -> None:
    """The benchmark's one JSON line on stdout (everything else goes to stderr or log files)."""
    sys.stdout.write(json.dumps(result, sort_keys=False) + "\n")
    sys.stdout.flush()


def note(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
