"""Portable (ONNX) vs Keras prediction: cold start of one image, batch throughput, agreement.

Builds the default model (conf/model/small_cnn.yaml, 64x64, freshly initialised: the
arithmetic is what matters, not the weights) and saves it with
`happysad.serving.packaging.save_model`, which writes its ONNX copy. Then:

  cold:       `happysad-predict MODEL one.jpg` as a fresh process, alternating
              `--runtime portable` and `--runtime keras` on the model folder and the portable
              runtime on its `runs:/` URI in a local SQLite store, --repeats times each:
              median wall time and median peak RSS of the child, and the Keras ratios;
  throughput: `predict_files` over --n-images demo faces in this process, each runtime
              (median images/s of --batch-repeats runs), beside the Keras forward-pass
              ceiling on the same images already decoded;
  agreement:  on the same images, class equal and max |probability difference| for the
              default model, a 3-class softmax one and, with --transfer, mobilenet_v3_small
              (weights=null: no download).

Usage: python scripts/bench_portable.py [--repeats 5] [--n-images 1000] [--transfer]
Prints one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import ROOT, console, emit, loadavg, machine, note, run_child

try:
    import happysad  # noqa: F401
except ImportError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT / "src"))

SIZE = 64
# Linux carries a parent's peak RSS into a child it forks (through exec), so wait4's figure
# for a child of this process (over 1 GB once TensorFlow is loaded here) would hide the
# child's own; GNU time forks from a process of a few MB and reports the child's peak.
TIME = Path("/usr/bin/time")


def spread_untrained_output(model: Any, probe: Any) -> Any:
    """Rescale a fresh model's output layer so its logits are centred and spread (std 2) over
    ``probe`` (the images it will be asked about): untouched, small_cnn's five BatchNorm blocks
    at their initial statistics give every image the same class, and class agreement between
    runtimes then proves nothing."""
    import keras
    import numpy as np

    out = model.get_layer("output")
    features = keras.Model(model.inputs, out.input).predict(np.asarray(probe, "float32"), verbose=0)
    kernel, _ = out.get_weights()
    kernel = kernel * (2.0 / np.maximum((features @ kernel).std(axis=0), 1e-6))
    out.set_weights([kernel, -(features @ kernel).mean(axis=0)])
    return model


def build_and_save(preset: str, n_classes: int, out: Path, probe: Any, **changes: Any) -> Path:
    """A freshly initialised conf/model preset (its outputs spread over ``probe``), packaged as
    training packages it."""
    import numpy as np
    from omegaconf import OmegaConf

    from happysad.config import with_defaults
    from happysad.data.image import Preprocessing
    from happysad.paths import config_dir
    from happysad.serving.packaging import ModelMetadata, save_model
    from happysad.training.model import build_model

    cfg = with_defaults("model", OmegaConf.load(config_dir() / "model" / f"{preset}.yaml"))
    for key, value in changes.items():
        OmegaConf.update(cfg, key, value)
    model = spread_untrained_output(build_model(cfg, (SIZE, SIZE, 3), n_classes), probe)
    names = [f"c{i}" for i in range(n_classes)]
    meta = ModelMetadata(names, Preprocessing(image_size=(SIZE, SIZE)))
    return save_model(model, meta, out, example=np.zeros((SIZE, SIZE, 3), np.uint8))


def log_to_store(model_dir: Path, work: Path) -> tuple[str, str]:
    """Log the model to a fresh local SQLite store, as training does: (runs:/ URI, store)."""
    import mlflow

    from happysad.serving.metadata import METADATA_FILE, read_metadata
    from happysad.serving.packaging import log_model

    uri = f"sqlite:///{work / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    try:
        # Artifacts in the work folder: a SQLite store's default root is ./mlruns.
        exp = mlflow.create_experiment("bench", (work / "mlartifacts").as_uri())
        with mlflow.start_run(experiment_id=exp) as run:
            log_model(model_dir, read_metadata(model_dir / "artifacts" / METADATA_FILE))
    finally:
        mlflow.set_tracking_uri(None)
    return f"runs:/{run.info.run_id}/model", uri


def cold_starts(
    model_dir: Path, image: str, repeats: int, work: Path, runs_uri: tuple[str, str]
) -> dict[str, Any]:
    """Alternate the runtimes so a change in machine load hits all alike."""
    runs: dict[str, list[dict]] = {"portable": [], "keras": [], "portable_runs_uri": []}
    for i in range(repeats):
        for runtime in runs:
            cmd = [*console("happysad-predict"), str(model_dir), image, "--runtime", runtime]
            if runtime == "portable_runs_uri":
                cmd = [*console("happysad-predict"), runs_uri[0], image, "--runtime", "portable"]
                cmd += ["--tracking-uri", runs_uri[1]]
            rss_file = work / f"cold_{runtime}_{i}.rss"
            if TIME.is_file():  # its own tiny process forks the child: see peak_rss_mb
                cmd = [str(TIME), "-f", "%M", "-o", str(rss_file), *cmd]
            res = run_child(cmd, work / f"cold_{runtime}_{i}.log")
            if res["rc"] != 0:
                raise RuntimeError(f"{runtime} cold start failed: {res.get('log_tail')}")
            if rss_file.is_file():
                res["peak_rss_mb"] = round(int(rss_file.read_text().split()[-1]) / 1024, 1)
            runs[runtime].append(res)
    out: dict[str, Any] = {"repeats": repeats}
    for runtime, rs in runs.items():
        out[runtime] = {
            "median_wall_s": round(statistics.median(r["wall_s"] for r in rs), 3),
            "median_peak_rss_mb": round(statistics.median(r["peak_rss_mb"] for r in rs), 1),
            "wall_s": [r["wall_s"] for r in rs],
        }
    p, k = out["portable"], out["keras"]
    out["keras_over_portable_wall"] = round(k["median_wall_s"] / p["median_wall_s"], 1)
    out["keras_over_portable_rss"] = round(k["median_peak_rss_mb"] / p["median_peak_rss_mb"], 1)
    return out


def throughput(model_dir: Path, files: list[str], repeats: int) -> dict[str, Any]:
    """predict_files images/s per runtime, and Keras' forward pass on decoded images."""
    import numpy as np

    from happysad.data.image import preprocess_file
    from happysad.serving.loading import load_model
    from happysad.serving.predict import predict_files

    out: dict[str, Any] = {"n_images": len(files)}
    for runtime in ("portable", "keras"):
        loaded = load_model(str(model_dir), runtime=runtime)
        predict_files(loaded, files[:64])  # warm-up: graph tracing, thread pools
        rates = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            predict_files(loaded, files)
            rates.append(len(files) / (time.perf_counter() - t0))
        out[f"{runtime}_predict_files_img_s"] = round(statistics.median(rates), 1)
        if runtime == "keras":
            x = np.stack([preprocess_file(f, loaded.metadata.preprocessing) for f in files])
            rates = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                loaded.predict_arrays(x)
                rates.append(len(files) / (time.perf_counter() - t0))
            out["keras_forward_ceiling_img_s"] = round(statistics.median(rates), 1)
    out["portable_over_keras"] = round(
        out["portable_predict_files_img_s"] / out["keras_predict_files_img_s"], 2
    )
    return out


def agreement(model_dir: Path, files: list[str]) -> dict[str, Any]:
    """Class equal and max |p_onnx - p_keras| over every image and class."""
    from happysad.serving.loading import load_model
    from happysad.serving.predict import predict_files

    a = predict_files(load_model(str(model_dir), runtime="portable"), files)
    b = predict_files(load_model(str(model_dir), runtime="keras"), files)
    diffs = [
        abs(pa - b_.probabilities[name])
        for a_, b_ in zip(a, b, strict=True)
        for name, pa in (a_.probabilities or {}).items()
    ]
    return {
        "n_images": len(files),
        "class_mismatches": sum(x.class_name != y.class_name for x, y in zip(a, b, strict=True)),
        "max_abs_prob_diff": float(f"{max(diffs):.3g}"),
        "classes_seen": len({y.class_name for y in b}),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5, help="cold starts per runtime")
    p.add_argument("--n-images", type=int, default=1000)
    p.add_argument("--batch-repeats", type=int, default=3)
    p.add_argument("--transfer", action="store_true", help="also mobilenet_v3_small agreement")
    p.add_argument("--work", type=Path, default=None, help="work folder (default: a temp dir)")
    a = p.parse_args(argv)

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    from happysad.serving.quiet import import_tensorflow

    load_start = loadavg()
    work = a.work.resolve() if a.work else Path(tempfile.mkdtemp(prefix="happysad-bench-onnx-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        from happysad.data.demo import generate_demo_dataset
        from happysad.serving.predict import IMAGE_EXTENSIONS

        note(f"{a.n_images} demo faces")
        data = work / "faces"
        generate_demo_dataset(
            data, per_class=-(-a.n_images // 2), image_size=128, seed=0, n_corrupt=0
        )
        files = sorted(str(f) for f in data.rglob("*") if f.suffix.lower() in IMAGE_EXTENSIONS)[
            : a.n_images
        ]
        import_tensorflow()
        from happysad.data.image import Preprocessing, preprocess_file

        size = Preprocessing(image_size=(SIZE, SIZE))
        probe = [preprocess_file(f, size) for f in files]
        note("default model (small_cnn) + its ONNX copy")
        default = build_and_save("small_cnn", 2, work / "small_cnn", probe)
        note("cold starts")
        runs_uri = log_to_store(default, work)
        cold = cold_starts(default, files[0], a.repeats, work, runs_uri)
        note("throughput")
        batch = throughput(default, files, a.batch_repeats)
        note("agreement")
        agree = {"small_cnn": agreement(default, files)}
        three = build_and_save("small_cnn", 3, work / "small_cnn_3class", probe)
        agree["small_cnn_3class"] = agreement(three, files)
        if a.transfer:
            mobile = build_and_save("mobilenet_v3_small", 2, work / "mnv3", probe, weights=None)
            agree["mobilenet_v3_small"] = agreement(mobile, files)
        out = {
            "bench": "portable",
            "model": "small_cnn 64x64 (default), fresh weights",
            "cold_one_image": cold,
            "targets": {"wall_s": 0.5, "peak_rss_mb": 250, "runs_uri_wall_s": 1.5},
            "batch": batch,
            "agreement": agree,
            "loadavg_start": load_start,
            "loadavg_end": loadavg(),
            "machine": machine(),
        }
        emit(out)
        return 0
    finally:
        if a.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
