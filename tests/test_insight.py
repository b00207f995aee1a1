"""Augmentation, face cropping, Grad-CAM, the run report and the generalisation check."""

from __future__ import annotations

import base64
import csv
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from omegaconf import OmegaConf

from happysad.config import validate, with_defaults
from happysad.data import faces
from happysad.data.demo import _render_face, _resolve_style
from happysad.data.image import Preprocessing, preprocess_bytes_detailed
from happysad.data.loader import cache_key, load_images_with_faces
from happysad.data.scan import scan_folder
from happysad.errors import ConfigError

from .conftest import AUG_FLIP_SHIFT, ROOT, TrackedRun, run_cli, script_module, write_image

# The classic drawing: these tests check where a small model looks, and need the mouth to be
# the only label signal.
_CLASSIC = _resolve_style({"variety": "classic"})


def _face(seed: int, happy: bool = True, size: int = 128) -> tuple[np.ndarray, dict]:
    return _render_face(np.random.default_rng([seed, 7]), happy, size, _CLASSIC)


def _detected_face(size: int = 128) -> tuple[np.ndarray, dict, faces.FaceBox]:
    """The first demo face (by seed) the cascade finds; about half of them are found."""
    for seed in range(40):
        img, meta = _face(seed, size=size)
        found = faces.detect_faces(img)
        if found:
            return img, meta, found[0]
    raise AssertionError("the cascade found no face in 40 demo faces")


# --------------------------------------------------------------------------- face crop


def test_preprocessing_face_fields_default_off_for_old_models() -> None:
    old = {"image_size": [64, 64], "channels": 3, "interpolation": "area", "keep_aspect": False}
    prep = Preprocessing.from_dict(old)
    assert prep.face_crop is False and prep.face_margin == 0.25
    new = Preprocessing(image_size=(32, 32), face_crop=True, face_margin=0.1)
    assert Preprocessing.from_dict(json.loads(json.dumps(new.to_dict()))) == new


def test_cascade_finds_the_face_around_the_mouth() -> None:
    img, meta, box = _detected_face()
    mouth = meta["mouth"]
    crop = faces.crop_box(img.shape, box, margin=0.25)
    assert box.w >= 0.35 * img.shape[1]  # a face, not a stray eye-sized blob
    assert (mouth[:, 0] >= crop.x).all() and (mouth[:, 0] <= crop.x + crop.w).all()
    assert (mouth[:, 1] >= crop.y).all() and (mouth[:, 1] <= crop.y + crop.h).all()


def test_face_crop_falls_back_to_the_whole_image_without_a_face() -> None:
    blank = np.full((96, 96, 3), 180, np.uint8)
    out, box = faces.crop_largest_face(blank, margin=0.25)
    assert box is None and out is blank
    assert (
        faces.detect_faces(np.random.default_rng(0).integers(0, 255, (80, 80, 3), np.uint8)) == []
    )


def test_face_crop_is_part_of_the_one_preprocessing_function(tmp_path: Path) -> None:
    img, _, box = _detected_face()
    path = write_image(tmp_path / "face.png", img)
    data = path.read_bytes()
    on = Preprocessing(image_size=(32, 32), face_crop=True, face_margin=0.0)
    off = Preprocessing(image_size=(32, 32))
    x_on, b_on = preprocess_bytes_detailed(data, on)
    x_off, b_off = preprocess_bytes_detailed(data, off)
    assert b_off is None and b_on is not None and abs(b_on.w - box.w) <= 2
    assert x_on.shape == x_off.shape == (32, 32, 3) and not np.array_equal(x_on, x_off)
    # The crop equals cropping by hand then the ordinary resize.
    import cv2

    manual = cv2.resize(
        img[b_on.y : b_on.y + b_on.h, b_on.x : b_on.x + b_on.w],
        (32, 32),
        interpolation=cv2.INTER_AREA,
    )
    assert np.abs(manual.astype(int) - x_on.astype(int)).max() <= 2  # PNG round trip is lossless


def test_face_crops_are_cached_with_their_boxes(tmp_path: Path, monkeypatch) -> None:
    img, _, _ = _detected_face(96)
    write_image(tmp_path / "data" / "a" / "face.png", img)
    write_image(tmp_path / "data" / "b" / "blank.png", np.full((96, 96, 3), 200, np.uint8))
    records = scan_folder(tmp_path / "data").records
    prep = Preprocessing(image_size=(24, 24), face_crop=True)
    assert cache_key(records, prep) != cache_key(records, Preprocessing(image_size=(24, 24)))
    cache = tmp_path / "cache"
    x, _, boxes = load_images_with_faces(records, prep, cache_dir=cache)
    assert boxes is not None and boxes.shape == (2, 4)
    assert boxes[0, 2] > 0 and (boxes[1] == -1).all()  # face found / used whole
    import happysad.data.loader as loader

    def boom(*_a, **_k):
        raise AssertionError("decoded again instead of using the cache")

    monkeypatch.setattr(loader, "preprocess_file_detailed", boom)
    x2, _, boxes2 = load_images_with_faces(records, prep, cache_dir=cache)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(boxes, boxes2)
    # Crops made by another detector (an older OpenCV, the former numpy cascade) are not reused.
    plain = Preprocessing(image_size=(24, 24))
    before, before_plain = cache_key(records, prep), cache_key(records, plain)
    monkeypatch.setattr(faces, "DETECTOR", "numpy-haar-0.1")
    assert cache_key(records, prep) != before
    assert cache_key(records, plain) == before_plain  # no face crop: no detector in the key


def test_the_detector_is_opencvs_own_cascade_classifier() -> None:
    """OpenCV's C++ detector (4.x) with the cascade the package ships, not a re-implementation."""
    import cv2

    assert int(cv2.__version__.split(".")[0]) == 4
    assert isinstance(faces.load_cascade(), cv2.CascadeClassifier)
    assert faces.DETECTOR.startswith(f"opencv-{cv2.__version__}:")
    with pytest.raises(ValueError, match="not an OpenCV cascade"):
        faces.load_cascade(ROOT / "pyproject.toml")


def test_images_without_a_face_are_noted_in_the_cleaning_report(tmp_path: Path) -> None:
    from happysad.insight.artifacts import FALLBACK_ACTION, face_crop_notes

    rec = [
        SimpleNamespace(path=f"/d/{n}.png", relpath=f"{n}.png", class_name="happy") for n in "ab"
    ]
    splits = {"train": rec, "val": [], "test": []}
    (tmp_path / "cleaning_report.csv").write_text("path,class_name,reason,action\n")
    boxes = np.array([[1, 2, 30, 30], [-1, -1, -1, -1]], np.int32)
    summary = face_crop_notes(splits, {"train": boxes, "val": boxes[:0], "test": None}, tmp_path)
    assert summary == {"per_split": {"train": [1, 2], "val": [0, 0]}, "fallback": ["/d/b.png"]}
    rows = list(csv.DictReader((tmp_path / "cleaning_report.csv").open()))
    assert rows == [
        {
            "path": "/d/b.png",
            "class_name": "happy",
            "reason": "face_crop: no face found",
            "action": FALLBACK_ACTION,
        }
    ]
    per_file = list(csv.DictReader((tmp_path / "face_crop.csv").open()))
    assert [r["face_found"] for r in per_file] == ["1", "0"]
    assert face_crop_notes(splits, {"train": None}, tmp_path / "off") is None


# --------------------------------------------------------------------------- config


def test_new_keys_are_validated(compose) -> None:
    validate(compose(["data.face_crop=true", "data.face_margin=0.5", AUG_FLIP_SHIFT]))
    with pytest.raises(ConfigError, match=r"data.augment\[0\].*_target_"):
        validate(compose(["data.augment=[{mode: horizontal}]"]))
    with pytest.raises(ConfigError, match=r"data\.face_margin"):
        validate(compose(["data.face_margin=-1"]))
    with pytest.raises(ConfigError, match=r"insight\.gradcam_images"):
        validate(compose(["insight.gradcam_images=0"]))
    with pytest.raises(ConfigError, match=r"insight\.nope"):
        validate(compose(["+insight.nope=1"]))
    cfg = compose()  # the default config: demo data, augmented; no face crop; report on
    kinds = [a._target_.rsplit(".", 1)[-1] for a in cfg.data.augment]
    assert kinds[0] == "RandomFlip" and "RandomZoom" in kinds and cfg.data.face_crop is False
    assert all(
        a.get("mode", "horizontal") == "horizontal" for a in cfg.data.augment
    )  # no upside down
    assert cfg.insight.gradcam and cfg.insight.report
    # One augmentation group for every data source, each with its measured default.
    assert list(compose(["data=folder"]).data.augment) == []
    assert compose(["data=folder", "augment=faces"]).data.augment == cfg.data.augment
    assert list(compose(["augment=none"]).data.augment) == []


def test_generalisation_script_variants_are_valid_configs(compose) -> None:
    VARIANTS = script_module("generalisation").VARIANTS
    default = OmegaConf.to_container(compose().data.augment)
    assert default and OmegaConf.to_container(compose(VARIANTS["augment"]).data.augment) == default
    assert list(compose(VARIANTS["baseline"]).data.augment) == []
    for overrides in VARIANTS.values():  # every variant composes and validates
        validate(compose(overrides))


def test_emoji_set_copies_the_listed_faces_and_refuses_what_it_should(tmp_path: Path) -> None:
    """scripts/emoji_set.py on a stand-in for the npm packages: every listed face lands in its
    class folder, a missing image or a non-empty output folder is a one-line error (exit 2)."""
    emoji_set = script_module("emoji_set")
    modules = tmp_path / "node_modules"
    for vendor in emoji_set.VENDORS:
        src = modules / f"emoji-datasource-{vendor}" / "img" / vendor / "64"
        for code in emoji_set.HAPPY + emoji_set.SAD:
            write_image(src / f"{code}.png", np.full((8, 8, 3), 200, np.uint8))
    out = tmp_path / "emoji"
    assert emoji_set.main([str(modules), str(out)]) == 0
    happy, sad = sorted((out / "happy").iterdir()), sorted((out / "sad").iterdir())
    assert len(happy) == 4 * len(emoji_set.HAPPY) and len(sad) == 4 * len(emoji_set.SAD)
    assert (out / "sad" / "apple_1f641.png").is_file()  # slightly frowning face
    assert not set(emoji_set.HAPPY) & set(emoji_set.SAD)
    assert emoji_set.main([str(modules), str(out)]) == 2  # not empty: nothing overwritten
    (modules / "emoji-datasource-google" / "img" / "google" / "64" / "1f622.png").unlink()
    assert emoji_set.main([str(modules), str(tmp_path / "partial")]) == 2
    assert not (tmp_path / "partial").exists()  # checked before anything is copied


# --------------------------------------------------------------------------- augmentation


def test_augmentation_changes_training_batches_but_not_eval(compose) -> None:
    pytest.importorskip("tensorflow")
    from happysad.data.augment import build_augmenter
    from happysad.data.pipeline import make_dataset

    cfg = compose([AUG_FLIP_SHIFT])
    aug = build_augmenter(cfg.data.augment, seed=0)
    assert [type(layer).__name__ for layer in aug.layers] == ["RandomFlip", "RandomTranslation"]
    x = np.stack([_face(i, size=32)[0] for i in range(8)])
    y = np.arange(8, dtype=np.float32)
    train = make_dataset(x, y, batch_size=8, augment=aug)
    ev = make_dataset(x, y, batch_size=8)
    (xa, ya), (xb, _) = next(iter(train)), next(iter(train))
    xe, ye = next(iter(ev))
    np.testing.assert_array_equal(xe.numpy(), x)  # evaluation batches are the images as is
    np.testing.assert_array_equal(ya.numpy(), y)  # labels are never touched
    assert (
        xa.dtype.name == "float32"
        and 0.0 <= float(xa.numpy().min()) <= float(xa.numpy().max()) <= 255.0
    )
    assert not np.allclose(xa.numpy(), x) and not np.allclose(
        xa.numpy(), xb.numpy()
    )  # new each epoch
    assert ye.dtype.name == "float32"


def test_bad_augmentation_layer_names_the_item(compose) -> None:
    pytest.importorskip("keras")
    from happysad.data.augment import build_augmenter

    cfg = compose(
        ["data.augment=[{_target_: keras.layers.RandomFlip},{_target_: keras.layers.Nope}]"]
    )
    with pytest.raises(ConfigError, match=r"data.augment\[1\]: keras.layers.Nope"):
        build_augmenter(cfg.data.augment, seed=0)
    assert build_augmenter([], seed=0) is None


# --------------------------------------------------------------------------- Grad-CAM


def _model(name: str, size: int = 32):
    from happysad.paths import config_dir
    from happysad.training.model import build_model

    cfg = with_defaults("model", OmegaConf.load(config_dir() / "model" / f"{name}.yaml"))
    return build_model(cfg, (size, size, 3), 2)


def test_gradcam_picks_the_last_conv_block_and_returns_unit_maps() -> None:
    pytest.importorskip("keras")
    import keras

    from happysad.insight.gradcam import GradCamError, find_gradcam_layer, gradcam

    small = _model("small_cnn", 64)  # blocks of 64, 32, 16, 8 and 4 cells across
    picked = small.get_layer(find_gradcam_layer(small))
    assert type(picked).__name__ == "ReLU"  # after a Conv2D -> BatchNorm -> ReLU
    i = small.layers.index(picked)
    assert type(small.layers[i - 2]).__name__ == "Conv2D"
    assert tuple(picked.output.shape[1:3]) == (8, 8)  # the fifth block (4x4) is too coarse
    assert type(small.layers[i + 1]).__name__ == "MaxPooling2D"
    coarse = _model("tiny_cnn", 4)  # maps of 4 and 2 cells: none is 6 across, the last one
    convs = [layer.name for layer in coarse.layers if type(layer).__name__ == "Conv2D"]
    assert find_gradcam_layer(coarse) == convs[-1]
    tiny = _model("tiny_cnn")
    assert type(tiny.get_layer(find_gradcam_layer(tiny))).__name__ == "Conv2D"
    x = np.stack([_face(i, size=32)[0] for i in range(5)]).astype(np.float32)
    heat, cls, probs, layer = gradcam(tiny, x, batch_size=2)
    assert layer == find_gradcam_layer(tiny)
    assert heat.shape == (5, 32, 32) and heat.dtype == np.float32
    assert heat.min() >= 0.0 and heat.max() <= 1.0 and probs.shape == (5,)
    np.testing.assert_array_equal(cls, (probs >= 0.5).astype(int))
    first_conv = next(layer.name for layer in tiny.layers if type(layer).__name__ == "Conv2D")
    heat2, *_ = gradcam(tiny, x, [0, 1, 0, 1, 0], layer_name=first_conv)
    assert heat2.shape == (5, 32, 32)
    with pytest.raises(GradCamError, match="not in the model"):
        find_gradcam_layer(tiny, "nope")
    with pytest.raises(GradCamError, match="no gradient"):
        gradcam(tiny, x[:1], layer_name="rescale")
    dense = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    with pytest.raises(GradCamError, match="no 2D convolution"):
        find_gradcam_layer(dense)


def test_sample_selection_covers_each_class_right_and_wrong() -> None:
    from happysad.insight.gradcam import select_samples

    y_true = np.array([0] * 10 + [1] * 10)
    y_pred = y_true.copy()
    y_pred[[0, 1, 12]] = 1 - y_pred[[0, 1, 12]]
    conf = np.linspace(0.5, 1.0, 20)
    idx = select_samples(y_true, y_pred, conf, 8, 2)
    assert len(idx) == 8 and len(set(idx.tolist())) == 8
    for c in (0, 1):
        mine = idx[y_true[idx] == c]
        assert (y_pred[mine] != c).any() and (y_pred[mine] == c).any()
    assert len(select_samples(y_true[:3], y_pred[:3], conf[:3], 16, 2)) == 3


@pytest.mark.slow
def test_gradcam_looks_at_the_mouth_of_a_trained_model() -> None:
    """Trained on faces whose only label signal is the mouth, Grad-CAM should point there."""
    keras = pytest.importorskip("keras")
    from happysad.insight.gradcam import gradcam

    keras.utils.set_random_seed(0)
    style = _CLASSIC

    def faces_for(seed: int, n: int, size: int = 48) -> tuple[np.ndarray, np.ndarray, list]:
        drawn = [
            _render_face(np.random.default_rng([seed, i]), i % 2 == 0, size, style)
            for i in range(n)
        ]
        return np.stack([img for img, _ in drawn]), (np.arange(n) % 2).astype(np.float32), drawn

    x, y, _ = faces_for(11, 360)  # label 1 = sad (odd i)
    xv, yv, _ = faces_for(13, 60)
    xt, yt, test = faces_for(12, 40)
    model = _model("small_cnn", 48)
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy", metrics=["accuracy"]
    )
    best = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", patience=16, restore_best_weights=True
    )
    model.fit(x, y, epochs=16, batch_size=32, verbose=0, validation_data=(xv, yv), callbacks=[best])
    heat, cls, _, _ = gradcam(model, xt)
    accuracy = float((cls == yt).mean())
    assert accuracy >= 0.75, accuracy
    k = 48 // 6
    mouth, corners = [], []
    for h, (_, meta) in zip(heat, test, strict=True):
        (x0, y0), (x1, y1) = meta["mouth"].min(axis=0), meta["mouth"].max(axis=0)
        box = h[max(0, int(y0) - 2) : int(y1) + 3, max(0, int(x0) - 2) : int(x1) + 3]
        mouth.append(box.mean())
        corners.append(
            np.mean([h[:k, :k].mean(), h[:k, -k:].mean(), h[-k:, :k].mean(), h[-k:, -k:].mean()])
        )
    assert np.mean(mouth) > 2 * np.mean(corners), (np.mean(mouth), np.mean(corners))


# --------------------------------------------------------------------------- plots + report


def test_calibration_and_threshold_numbers() -> None:
    from happysad.insight.figures import calibration_bins, threshold_sweep

    score = np.array([0.05, 0.15, 0.95, 0.85])
    mean, observed, counts, ece = calibration_bins(score, np.array([0, 0, 1, 1]), 10)
    assert counts.sum() == 4 and ece == pytest.approx(0.1)
    assert np.isnan(mean[5]) and observed[9] == 1.0
    sweep = threshold_sweep(
        np.array([0, 1, 1]), np.array([0.2, 0.6, 0.9]), np.array([0.0, 0.5, 0.95])
    )
    np.testing.assert_allclose(sweep["recall"], [1.0, 1.0, 0.0])
    np.testing.assert_allclose(sweep["precision"][:2], [2 / 3, 1.0])
    assert np.isnan(sweep["precision"][2]) and sweep["accuracy"][1] == 1.0


def _fake_eval(n: int = 30):
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    p = np.clip(y * 0.7 + rng.uniform(0, 0.3, n), 0, 1)
    return y, p


def test_report_is_one_self_contained_page(tmp_path: Path) -> None:
    from happysad.insight import figures as plots
    from happysad.insight.gradcam import overlay
    from happysad.insight.report import ReportInputs, build_report

    y, p = _fake_eval()
    names = ["happy", "s<a>d"]
    pred = (p >= 0.5).astype(int)
    conf = np.where(pred == 1, p, 1 - p)
    imgs = np.stack([_face(i, size=32)[0] for i in range(4)])
    heat = np.tile(np.linspace(0, 1, 32, dtype=np.float32), (4, 32, 1))
    figs = {
        "curves": plots.plot_history({"loss": [0.7, 0.5], "val_loss": [0.8, 0.6]}),
        "confusion_matrix": plots.plot_confusion_matrix(np.array([[14, 1], [2, 13]]), names),
        "roc_pr": plots.plot_roc_pr(y, p, names),
        "calibration": plots.plot_calibration(y, p, names),
        "threshold": plots.plot_threshold(y, p, names, 0.5),
        "gradcam": plots.plot_gradcam_grid(
            imgs,
            np.stack([overlay(a, h) for a, h in zip(imgs, heat, strict=True)]),
            y[:4],
            pred[:4],
            conf[:4],
            names,
            "re_lu_3",
        ),
        "most_wrong": plots.plot_sample_grid(imgs, y[:4], pred[:4], conf[:4], names),
    }
    files = {k: plots.save_figure(f, tmp_path / f"{k}.png") for k, f in figs.items()}
    html = build_report(
        ReportInputs(
            title="run <report>",
            class_names=names,
            metrics={"test_accuracy": 0.9, "test_precision_happy": 0.95, "test_n_images": 30},
            settings={"model": "small_cnn"},
            config_yaml="data:\n  root: /x\n",
            split_counts={"train": {"happy": 10, "s<a>d": 11}, "test": {"happy": 3, "s<a>d": 3}},
            scan_summary="34 files, 4 skipped",
            rejected=[
                {
                    "path": "/x/bad.jpg",
                    "class_name": "happy",
                    "reason": "empty file",
                    "action": "skipped",
                }
            ],
            duplicates=[
                {
                    "sha256": "ab",
                    "files": "a.png|b.png",
                    "classes": "happy|happy",
                    "splits": "train|test",
                }
            ],
            face_crop={"per_split": {"train": [5, 21]}, "fallback": ["/x/c.png"]},
            plots=files,
        )
    )
    for section in (
        "config",
        "data",
        "metrics",
        "curves",
        "roc-pr",
        "calibration",
        "threshold",
        "gradcam",
        "examples",
    ):
        assert f"id='{section}'" in html, section
    assert html.count("data:image/png;base64,") == len(files)
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert "s&lt;a&gt;d" in html and "s<a>d" not in html  # text from the run is escaped
    assert "1 across splits" in html and "bad.jpg" in html and "used whole" in html
    one = html.split("data:image/png;base64,", 1)[1].split('"', 1)[0]
    assert base64.b64decode(one)[:8] == b"\x89PNG\r\n\x1a\n"


def test_draw_evaluation_draws_every_figure_and_the_report_embeds_them(
    tmp_path: Path, compose
) -> None:
    """The one drawing path of the training job and happysad-eval, each figure best-effort."""
    pytest.importorskip("keras")
    from happysad.evaluate import evaluate_predictions
    from happysad.insight.artifacts import (
        EvalFigures,
        ReportContext,
        draw_evaluation,
        write_run_report,
    )

    model = _model("tiny_cnn")
    y = np.arange(12) % 2
    images = np.stack([_face(i, happy=c == 0, size=32)[0] for i, c in enumerate(y)])
    probs = model.predict(images.astype(np.float32), verbose=0)[:, 0]
    ev = evaluate_predictions(y, probs, ["happy", "sad"], 0.5)
    paths = [f"{['happy', 'sad'][c]}/cost_${i}_to_${i + 5}.png" for i, c in enumerate(y)]
    run_dir = tmp_path / "run"
    made, notes = draw_evaluation(
        EvalFigures(
            ev=ev,
            images=images,
            paths=paths,
            plot_dir=run_dir / "plots",
            threshold=0.5,
            history={"loss": [0.7, 0.6], "val_loss": [0.7, 0.65]},
            model=model,
            gradcam_images=4,
            most_wrong=4,
        )
    )
    everything = ["curves", "confusion_matrix", "roc_pr", "samples", "calibration", "threshold"]
    assert list(made) == [*everything, "gradcam", "most_wrong"] and notes == []
    assert all(p == run_dir / "plots" / f"{k}.png" for k, p in made.items())
    assert all(p.stat().st_size > 5000 for p in made.values())

    # As happysad-eval calls it: no history, no model, no most-wrong grid.
    made, notes = draw_evaluation(
        EvalFigures(
            ev=ev, images=images, paths=paths, plot_dir=tmp_path / "ev", threshold=0.5, most_wrong=0
        )
    )
    assert list(made) == everything[1:] and notes == []

    # A model Grad-CAM cannot explain costs the figure, not the evaluation.
    made, notes = draw_evaluation(
        EvalFigures(
            ev=ev,
            images=images,
            paths=paths,
            plot_dir=tmp_path / "nocam",
            threshold=0.5,
            model=model,
            gradcam_layer="nope",
        )
    )
    assert "gradcam" not in made and "most_wrong" in made
    assert len(notes) == 1 and notes[0].startswith("No Grad-CAM: ") and "nope" in notes[0]

    splits = SimpleNamespace(
        counts=lambda: {"test": {"happy": 6, "sad": 6}}, summary=lambda: "12 test images"
    )
    report = write_run_report(
        ReportContext(
            cfg=compose([f"paths.run_dir={run_dir}"]),
            model=model,
            ev=ev,
            eval_split="test",
            run_dir=run_dir,
            splits=splits,
            scan_summary="12 images, none skipped",
            face_summary=None,
            run_id=None,
            run_name="a run",
            epochs_run=2,
            notes=[],
        )
    )
    assert report == run_dir / "report.html"
    html = report.read_text()
    assert html.count("data:image/png;base64,") == 7  # every figure but the sample grid
    assert "id='gradcam'" in html and "id='examples'" in html and "a run" in html


# --------------------------------------------------------------------------- end to end


@pytest.fixture
def trained_insight(tracked_run: TrackedRun) -> Path:
    """The shared end-to-end run (conftest.py tracked_run): face crop, augmentation, Grad-CAM."""
    assert "face crop: a face was found in" in tracked_run.output
    return tracked_run.out


@pytest.mark.slow
def test_training_logs_gradcam_report_and_face_notes(trained_insight: Path) -> None:
    from mlflow.tracking import MlflowClient

    from .test_train import _artifacts, _only_run

    client, run = _only_run(trained_insight)
    arts = _artifacts(client, run.info.run_id)
    for name in (
        "report.html",
        "plots/gradcam.png",
        "plots/calibration.png",
        "plots/threshold.png",
        "plots/most_wrong.png",
        "data/face_crop.csv",
    ):
        assert name in arts, name
    assert run.data.params["data.face_crop"] == "True"
    assert run.data.params["data.augment.0._target_"] == "keras.layers.RandomFlip"
    assert isinstance(client, MlflowClient)
    html = Path(
        client.download_artifacts(run.info.run_id, "report.html", str(trained_insight))
    ).read_text()
    assert html.count("data:image/png;base64,") == 7  # every plot, embedded
    assert "Face crop" in html and "RandomFlip, RandomTranslation" in html
    run_dir = next(trained_insight.rglob("model/MLmodel")).parent.parent
    rows = list(csv.DictReader((run_dir / "data" / "cleaning_report.csv").open()))
    assert sum(r["action"] == "skipped" for r in rows) == 4  # the planted bad files
    face_rows = list(csv.DictReader((run_dir / "data" / "face_crop.csv").open()))
    assert len(face_rows) == 80
    n_whole = sum(r["face_found"] == "0" for r in face_rows)
    assert sum(r["action"] == "used whole image" for r in rows) == n_whole
    meta = json.loads(next((run_dir / "model").rglob("happysad.json")).read_text())
    assert meta["preprocessing"]["face_crop"] is True


@pytest.mark.slow
def test_predict_and_serving_crop_faces_and_explain(trained_insight: Path, tmp_path: Path) -> None:
    import mlflow
    import pandas as pd

    from happysad.data.image import preprocess_file
    from happysad.serving.packaging import load_model

    model_dir = next(trained_insight.rglob("model/MLmodel")).parent
    img, _, _ = _detected_face()
    face = write_image(tmp_path / "in" / "face.png", img)
    blank = write_image(tmp_path / "in" / "sub" / "face.png", np.full((90, 90, 3), 120, np.uint8))
    res = run_cli(
        "happysad-predict",
        str(model_dir),
        str(face),
        str(blank),
        "--json",
        "--explain",
        str(tmp_path / "why"),
    )
    assert res.returncode == 0, res.stderr[-2000:]
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [Path(r["explanation"]).name for r in rows] == ["face.gradcam.png", "face_2.gradcam.png"]
    assert all(Path(r["explanation"]).stat().st_size > 5000 for r in rows)
    loaded = load_model(str(model_dir))
    prep = loaded.metadata.preprocessing
    assert prep.face_crop
    raw = loaded.model.predict(preprocess_file(str(face), prep)[None], verbose=0)[:, 0]
    p_cropped = float(loaded.metadata.calibrate(raw)[0])  # with the model's temperature
    assert rows[0]["probabilities"]["sad"] == pytest.approx(p_cropped, abs=1e-5)
    served = mlflow.pyfunc.load_model(str(model_dir)).predict(
        pd.DataFrame({"image_b64": [base64.b64encode(face.read_bytes()).decode()]})
    )
    assert served["p_sad"][0] == pytest.approx(p_cropped, abs=1e-5)  # serving crops too


@pytest.mark.slow
def test_generalisation_check_reports_both_accuracies(tmp_path: Path) -> None:
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "generalisation.py"),
            "--out",
            str(tmp_path),
            "--tiny",
            "--variants",
            "baseline",
            "augment",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert [r["variant"] for r in results] == ["baseline", "augment"]
    for r in results:
        assert 0.0 <= r["in_dist_accuracy"] <= 1.0 and 0.0 <= r["shifted_accuracy"] <= 1.0
        assert r["in_dist_n"] == r["shifted_n"] == r["alt_n"] == 20
        assert 0.0 <= r["alt_accuracy"] <= 1.0
    # The third set comes from the independent generator, not the demo's.
    assert (tmp_path / "sets" / "alt" / ".alt_faces").is_file()
    assert not (tmp_path / "sets" / "alt" / "DEMO_DATASET.json").exists()
    for held_out, marker_file in (
        ("blind", ".blind_faces.json"),
        ("holdout", "HOLDOUT_FACES.json"),
        ("unseen", "UNSEEN_FACES.json"),
        ("fresh", "FRESH_FACES.json"),
        ("outside", "OUTSIDE_FACES.json"),
        ("distant", "DISTANT_FACES.json"),
        ("remote", "REMOTE_FACES.json"),
        ("yonder", "YONDER_FACES.json"),
    ):
        assert all(r[f"{held_out}_n"] == 20 for r in results)
        assert (tmp_path / "sets" / held_out / marker_file).is_file()
    assert not (tmp_path / "sets" / "farther").exists()  # reserved: run only when named
    marker = json.loads((tmp_path / "sets" / "shifted" / "DEMO_DATASET.json").read_text())
    assert marker["args"]["style"]["palette"] == "alt"  # drawn differently, other seed
    assert (
        marker["args"]["seed"]
        != json.loads((tmp_path / "sets" / "in_dist" / "DEMO_DATASET.json").read_text())["args"][
            "seed"
        ]
    )
    assert "| baseline |" in res.stdout and "| augment |" in res.stdout

    # --ensemble 2 averages the two runs' probabilities: the same accuracy as averaging what
    # happysad-predict's code path gives for each model, file by file.
    runs = [r["run_dir"] for r in results]
    script = [sys.executable, str(ROOT / "scripts" / "generalisation.py")]
    ens_out = tmp_path / "ensemble"
    common = ["--out", str(ens_out), "--tiny", "--sets", "in_dist", "--eval-only", *runs]
    bad = subprocess.run([*script, *common, "--ensemble", "3"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--ensemble 3" in bad.stderr
    res = subprocess.run(
        [*script, *common, "--ensemble", "2"], capture_output=True, text=True, timeout=600
    )
    assert res.returncode == 0, res.stderr[-3000:]
    (ens,) = json.loads((ens_out / "results.json").read_text())
    assert ens["members"] == 2 and ens["run_dir"] == " + ".join(runs)
    assert ens["fit_seconds"] == pytest.approx(sum(r["fit_seconds"] for r in results))
    from happysad import api

    per_model = [
        {
            p.path: p.probabilities["happy"]
            for p in api.predict(run, ens_out / "sets" / "in_dist", recursive=True)
        }
        for run in runs
    ]
    mean = {f: (per_model[0][f] + per_model[1][f]) / 2 for f in per_model[0]}
    right = [(p >= 0.5) == (Path(f).parent.name == "happy") for f, p in mean.items()]
    assert len(right) == ens["in_dist_n"] == 20
    assert ens["in_dist_accuracy"] == pytest.approx(sum(right) / len(right))
    happy = [p for f, p in mean.items() if Path(f).parent.name == "happy"]
    sad = [p for f, p in mean.items() if Path(f).parent.name == "sad"]
    pairs = [(h > s) + 0.5 * (h == s) for h in happy for s in sad]  # AUC: the mean's ranking
    assert ens["in_dist_roc_auc"] == pytest.approx(sum(pairs) / len(pairs), abs=1e-6)
    from happysad.evaluate import expected_calibration_error

    # ECE: the mean's values (P(sad), class 1), which neither member alone gives
    p_sad = np.array([1.0 - p for p in mean.values()])
    is_sad = np.array([Path(f).parent.name == "sad" for f in mean], dtype=np.int64)
    assert ens["in_dist_ece"] == pytest.approx(expected_calibration_error(is_sad, p_sad), abs=1e-5)


@pytest.mark.slow
def test_stability_and_warm_start_scripts_report_per_run_and_summary(tmp_path: Path) -> None:
    tiny = "model=tiny_cnn data.image_size=[32,32] trainer.epochs=2 augment=none"
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "stability.py"),
            "--out",
            str(tmp_path / "stab"),
            "--datasets",
            "alt",
            "--per-class",
            "12",
            "--size",
            "48",
            "--seeds",
            "1",
            "--variant",
            f"tiny={tiny}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    (run,) = json.loads((tmp_path / "stab" / "results.json").read_text())
    assert "error" not in run, run
    assert run["epochs"] == 2 and len(run["val_curve"]) == 2 and run["max_drop"] >= 0
    assert "| tiny | alt | 1 |" in res.stdout

    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "warm_start.py"),
            *("--out", str(tmp_path / "w"), "--tiny", "--seeds", "1"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    results = json.loads((tmp_path / "w" / "results.json").read_text())
    assert [r["method"] for r in results] == ["scratch", "warm_start"]
    for r in results:
        assert r["alt_n"] == r["shifted_n"] == 20 and 0.0 <= r["alt_accuracy"] <= 1.0
    assert "| warm_start | 1 |" in res.stdout
