"""Prediction benchmark: batch prediction over a folder vs the forward-pass ceiling.

Generates --n-images demo faces (no corrupt files), builds the default model (conf's
`model` and `data.image_size`, freshly initialised: the arithmetic is what matters, not the
weights), saves it with `happysad.serving.packaging.save_model` and loads it back with
`load_model`, as `happysad-predict` does. Then, alternating, --repeats times each:

  predict_files: `happysad.serving.predict.predict_files(loaded, files)` over the folder's files
                 (read, decode, resize, batch, forward pass, labels);
  ceiling:       the same model on the same images already decoded in memory, the faster
                 of `model.predict(x)` and `model.predict_on_batch` per batch.

Reports the median images/s of each and their ratio; also the decode+resize rate alone,
the rate decode-then-forward would have with no overlap at all (1 / (1/decode + 1/ceiling)),
and the cold-start wall time of one `happysad-predict MODEL one.jpg` process.

Also, on --photos large JPEGs (3000x2000, smooth colour fields with noise, like a camera's
photo): the time to preprocess each to the model input (64 px and 224 px) with happysad's
reduced-size JPEG decode against a full decode and the same resize, and how far apart the
two model inputs are (mean and max absolute difference in pixel levels).

`--tf-threads 1 --decode-workers 1` on 2 cores runs the model on one core and decoding on
the other: what a machine with a core to spare for decoding would give.

Usage: python scripts/bench_predict.py [--n-images 1000] [--photos 20] [--work DIR]
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import ROOT, console, emit, loadavg, machine, note, run_child

try:
    import happysad  # noqa: F401
except ImportError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT / "src"))


def photo_decode(n: int, size: tuple[int, int] = (2000, 3000)) -> dict:
    """Reduced-size vs full JPEG decode of n camera-sized photos, to 64 and 224 px inputs."""
    import cv2
    import numpy as np

    from happysad.data.image import Preprocessing, decode, preprocess_bytes, resize

    rng = np.random.default_rng(0)
    blobs = []
    for _ in range(n):
        small = rng.integers(0, 256, size=(12, 18, 3), dtype=np.uint8)
        img = cv2.resize(small, (size[1], size[0]), interpolation=cv2.INTER_CUBIC)
        img = cv2.add(img, rng.integers(0, 24, size=img.shape, dtype=np.uint8))
        _, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        blobs.append(buf.tobytes())
    out: dict = {"photos": n, "photo_px": f"{size[1]}x{size[0]}"}
    for side in (64, 224):
        prep = Preprocessing(image_size=(side, side))
        t0 = time.perf_counter()
        reduced = [preprocess_bytes(b, prep) for b in blobs]
        t1 = time.perf_counter()
        full = [resize(decode(b), prep) for b in blobs]  # no target: a full-size decode
        t2 = time.perf_counter()
        diff = np.abs(np.stack(reduced).astype(np.int16) - np.stack(full).astype(np.int16))
        out[f"{side}px"] = {
            "reduced_ms_per_photo": round(1000 * (t1 - t0) / n, 2),
            "full_ms_per_photo": round(1000 * (t2 - t1) / n, 2),
            "speedup": round((t2 - t1) / (t1 - t0), 2),
            "mean_abs_diff_levels": round(float(diff.mean()), 3),
            "max_abs_diff_levels": int(diff.max()),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n-images", type=int, default=1000)
    p.add_argument("--image-size", type=int, default=128, help="generated image side (px)")
    p.add_argument("--batch-size", type=int, default=64, help="happysad-predict's default")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument(
        "--tf-threads",
        type=int,
        default=0,
        help="TensorFlow intra/inter-op threads (0: its default, every CPU); with "
        "--decode-workers 1 and --tf-threads 1 on 2 cores, decoding gets a core of its own",
    )
    p.add_argument(
        "--decode-workers", type=int, default=0, help="predict_files' decode threads (0: CPUs)"
    )
    p.add_argument("--photos", type=int, default=20, help="3000x2000 JPEGs for the decode test")
    p.add_argument("--work", type=Path, default=None, help="work folder (default: a temp dir)")
    p.add_argument("--keep", action="store_true", help="keep the temp work folder")
    a = p.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    load_start = loadavg()
    tmp = None
    if a.work is None:
        work = tmp = Path(tempfile.mkdtemp(prefix="happysad-bench-predict-"))
    else:
        work = a.work.resolve()
        if work.exists() and any(work.iterdir()):
            print(f"error: --work {work} is not empty", file=sys.stderr)
            return 2
    try:
        import numpy as np
        from hydra import compose, initialize_config_dir

        from happysad.data.demo import generate_demo_dataset
        from happysad.data.image import Preprocessing, preprocess_file
        from happysad.paths import config_dir
        from happysad.resources import available_cpus
        from happysad.serving.predict import expand_inputs

        data = work / "data"
        per_class = (a.n_images + 1) // 2
        note(f"generating {2 * per_class} images ({a.image_size}px) into {data}")
        generate_demo_dataset(data, per_class=per_class, image_size=a.image_size, n_corrupt=0)
        files, _ = expand_inputs([str(data)], recursive=True)
        n = len(files)

        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            cfg = compose("config")
        d = cfg.data
        prep = Preprocessing.from_data_config(d)

        import keras
        import tensorflow as tf

        if a.tf_threads:
            tf.config.threading.set_intra_op_parallelism_threads(a.tf_threads)
            tf.config.threading.set_inter_op_parallelism_threads(a.tf_threads)

        from happysad.serving import packaging
        from happysad.serving.predict import predict_files
        from happysad.training import model as model_lib

        keras.utils.set_random_seed(0)
        model = model_lib.build_model(cfg.model, (*prep.image_size, prep.channels), 2)
        x_all = np.stack([preprocess_file(f, prep) for f in files])
        meta = packaging.ModelMetadata(class_names=["happy", "sad"], preprocessing=prep)
        model_dir = packaging.save_model(model, meta, work / "model", example=x_all[0])
        loaded = packaging.load_model(str(model_dir))
        bs = a.batch_size

        # Warm-up: trace the predict function for full and partial batches, fill caches.
        predict_files(loaded, files[: bs + 1], batch_size=bs)
        loaded.model.predict(x_all[: bs + 1], batch_size=bs, verbose=0)

        def on_batch() -> np.ndarray:
            m = loaded.model
            return np.concatenate(
                [np.asarray(m.predict_on_batch(x_all[i : i + bs])) for i in range(0, n, bs)]
            )

        on_batch()
        t_files, t_predict, t_on_batch, t_decode = [], [], [], []
        preds = None
        workers = a.decode_workers or available_cpus()
        for r in range(a.repeats):
            note(f"repeat {r + 1}/{a.repeats}")
            t0 = time.perf_counter()
            preds = predict_files(loaded, files, batch_size=bs, workers=a.decode_workers)
            t_files.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            probs = loaded.model.predict(x_all, batch_size=bs, verbose=0)
            t_predict.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            on_batch()
            t_on_batch.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(lambda f: preprocess_file(f, prep), files))
            t_decode.append(time.perf_counter() - t0)
        assert preds is not None
        errors = sum(1 for q in preds if q.error)
        # Same model, same pixels: the two paths must agree.
        p_files = np.asarray([q.probabilities["sad"] for q in preds if not q.error])
        max_diff = float(np.max(np.abs(p_files - probs[:, 0]))) if not errors else None

        note(f"reduced vs full decode of {a.photos} 3000x2000 JPEGs")
        photos = photo_decode(a.photos) if a.photos else None

        one = files[0]
        note("cold start: happysad-predict on one image")
        cold = run_child([*console("happysad-predict"), str(model_dir), one], work / "cold.log")

        ips_files = n / statistics.median(t_files)
        # The ceiling is the faster of the two ways to run the forward pass on tensors
        # already in memory: one model.predict() over all of them, or predict_on_batch per
        # batch (what predict_files uses).
        ips_predict = n / statistics.median(t_predict)
        ips_on_batch = n / statistics.median(t_on_batch)
        ips_ceiling = max(ips_predict, ips_on_batch)
        ratio = ips_files / ips_ceiling
        ips_decode = n / statistics.median(t_decode)
        # If decoding and the forward pass could not overlap at all (both need the cores):
        serial_bound = 1 / (1 / ips_decode + 1 / ips_ceiling)
        out = {
            "bench": "predict",
            "n_images": n,
            "generated_px": a.image_size,
            "model": str(cfg.model.name),
            "model_input": list(prep.image_size),
            "batch_size": bs,
            "tf_threads": a.tf_threads or "default",
            "decode_workers": workers,
            "repeats": a.repeats,
            "predict_files_images_per_s": round(ips_files, 1),
            "ceiling_images_per_s": round(ips_ceiling, 1),
            "predict_over_ceiling": round(ratio, 3),
            "ceiling_model_predict_images_per_s": round(ips_predict, 1),
            "ceiling_predict_on_batch_images_per_s": round(ips_on_batch, 1),
            "decode_resize_only_images_per_s": round(ips_decode, 1),
            "decode_then_forward_images_per_s": round(serial_bound, 1),
            "predict_over_decode_then_forward": round(ips_files / serial_bound, 3),
            "predict_files_s": [round(t, 3) for t in t_files],
            "model_predict_s": [round(t, 3) for t in t_predict],
            "predict_on_batch_s": [round(t, 3) for t in t_on_batch],
            "max_abs_prob_diff": max_diff,
            "errors": errors,
            "large_jpeg_decode": photos,
            "cold_start_s": cold["wall_s"],
            "cold_start_rc": cold["rc"],
            "cold_start_peak_rss_mb": cold["peak_rss_mb"],
            "targets_met": {"predict>=0.85x_ceiling": ratio >= 0.85},
            "machine": machine(),
            "loadavg_start": load_start,
            "loadavg_end": loadavg(),
        }
        emit(out)
        return 0 if cold["rc"] == 0 and errors == 0 else 1
    finally:
        if tmp is not None and not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
