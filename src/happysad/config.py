"""Validate a composed config before any work starts (no TensorFlow, no file reads).

Structured schemas (dataclasses) catch unknown keys and wrong types in the fixed-shape
groups; explicit checks catch values that are the right type but wrong (ratios that do
not sum to 1, negative sizes...). Every error is one line that starts with the dotted key,
so a typo costs a second, not a minute of TensorFlow import.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from omegaconf import II, MISSING, SI, DictConfig, ListConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from happysad import IMAGE_EXTENSIONS
from happysad.errors import UNKNOWN_KEY, ConfigError, check_threshold, first_line

INTERPOLATIONS = ("area", "bilinear", "nearest", "cubic", "lanczos")
BAD_FILE_POLICIES = ("skip", "quarantine")
CACHE_MODES = ("auto", "memory", "disk", "none")
SOURCES = ("folder", "demo")
HEADS = ("auto", "none")
DIRECTIONS = ("maximize", "minimize")
STRATEGIES = ("auto", "default", "mirrored", "multi_worker")  # trainer.strategy
MIXED_PRECISION = (False, True, "float16", "bfloat16")  # trainer.mixed_precision
CALIBRATIONS = ("none", "temperature")  # model.calibration
# model.backbone -> its keras.applications class; each scales raw [0, 255] pixels itself.
BACKBONES = {
    "mobilenet_v3_small": "MobileNetV3Small",
    "mobilenet_v3_large": "MobileNetV3Large",
    "efficientnet_b0": "EfficientNetB0",
    "efficientnet_v2_b0": "EfficientNetV2B0",
}


# The schemas below are the one home of every default of their group: each conf/<group>/*.yaml
# starts from its schema (`defaults: [schema, _self_]`, see register_schemas) and holds only
# what differs from it; tests/test_defaults.py fails when a YAML repeats a default here.


@dataclass
class SplitConf:
    train: float = 0.7
    val: float = 0.2
    test: float = 0.1
    seed: int = II("seed")  # the run's top-level seed
    group_duplicates: bool = True  # identical file contents always land in the same split


@dataclass
class DemoConf:
    """The embedded synthetic face set (data=demo); scripts/make_demo_data.py and the
    Makefile's demo-data target read their sizes from here too."""

    per_class: int = 1500  # 3,000 faces: the wide variety needs them (docs/generalisation.md)
    image_size: int = 128
    seed: int = 0
    n_corrupt: int = 4  # corrupt files planted to exercise the cleaning report
    # wide: every nuisance drawn from a broad family (head shapes, line drawings, cluttered and
    # textured backgrounds, shading, thin or subtle mouths, grey and low-res images), so models
    # hold up on faces drawn by other code (docs/generalisation.md); classic: the version-1
    # drawing (with data.demo.subtle's share of barely curved mouths, as the wide one).
    variety: str = "wide"
    cues: float = 0.3  # wide: share of faces with a second cue (eyes, brows, tear; both classes)
    # share of barely curved mouths (both classes alike): 0.12 gave the most balanced errors
    # on other generators while the test split stayed >= 0.96 (docs/generalisation.md)
    subtle: float = 0.12
    # wide: share of mouths drawn close to the skin's tone (low contrast; both classes, never
    # on a subtle one): 0.25 balanced the errors on other generators (docs/generalisation.md)
    faint: float = 0.25
    # true: each happy face has a sad twin drawn from the same random numbers, so the pair
    # differs only in the mouth (and a cue's sign). Over 9 seeds every development set rose a
    # little but the held-out sets did not (docs/generalisation.md, session 10): off
    twins: bool = False
    # wide: share of closed mouths drawn as a row of dots (coal on a snowman, an LED sign,
    # beads, stitches), either class; 0 draws exactly the images of demo version 5
    dotted: float = 0.0


@dataclass
class DataConf:
    source: str = "folder"  # folder | demo
    root: str = MISSING  # one sub-folder per class (each data option sets it)
    # null: every non-hidden sub-folder, sorted by name. A list fixes the order (index i =
    # class i) and may select a subset of the folders.
    class_names: list[str] | None = None
    image_size: list[int] = field(default_factory=lambda: [64, 64])  # [height, width]
    channels: int = 3  # 3 = RGB, 1 = grayscale; images are converted, never rejected
    interpolation: str = "area"  # area | bilinear | nearest | cubic | lanczos (OpenCV resize)
    keep_aspect: bool = False  # true: letterbox-pad to image_size instead of stretching
    batch_size: int = 32
    split: SplitConf = field(default_factory=SplitConf)
    # case-insensitive; GIF: first frame; the one list predict and eval accept too
    extensions: list[str] = field(default_factory=lambda: list(IMAGE_EXTENSIONS))
    recursive: bool = True  # images in nested folders of a class folder belong to that class
    max_file_mb: float = 100.0  # larger files are reported and skipped without being read
    # Only regular files are read (a named pipe or a link to /dev/zero is reported, never
    # opened). false: a symlink whose target is outside data.root (and its class folders) is
    # reported and skipped; true: followed.
    follow_external_links: bool = False
    bad_files: str = "skip"  # skip | quarantine (move to quarantine_dir; never delete)
    quarantine_dir: str | None = None
    min_images_per_class: int = 2
    scan_cache: bool = True  # reuse per-file checks for unchanged files (size, mtime, inode, ctime)
    # Decoded uint8 images: memory | disk (memory-mapped .npy files under paths.cache_dir,
    # reused by later runs) | auto: memory while they take at most half of the available
    # memory (MemAvailable, capped by a cgroup limit), else disk | none (= memory, nothing kept)
    cache: str = "auto"
    cache_max_gb: float | None = 20.0  # the disk cache's budget (LRU eviction); null: none
    workers: int = 0  # decode threads; 0 = the CPUs this process may use
    demo: DemoConf | None = None  # data=demo: DemoConf's defaults
    # Keras layers, train batches only: the augment group (augment/<data>.yaml by default)
    augment: list[Any] = field(default_factory=list)
    # Face cropping (opt-in): crop the largest frontal face (OpenCV's Haar cascade, shipped
    # with happysad) plus face_margin x its size on each side, before resizing. Images with no
    # face found are used whole and listed in the cleaning report. Saved with the model.
    face_crop: bool = False
    face_margin: float = 0.25


@dataclass
class TrainerConf:
    epochs: int = 30  # the schedule group sets it per data source (schedule/folder.yaml: 20)
    threshold: float = 0.5  # binary decision threshold on P(class_names[1])
    verbose: Any = "auto"  # Keras progress: auto | 0 (silent) | 1 (bar) | 2 (one line per epoch)
    deterministic: bool = False  # true: TF op determinism (slower), fixed data order
    # TensorFlow's thread pools per job; 0 = the CPUs this process may use (affinity, cgroup
    # quota). ${happysad_threads:} is cpus // n_jobs under hydra/launcher=joblib (cpus_per_task
    # under submitit, num_cpus under ray) so parallel jobs do not oversubscribe, else 0.
    intra_op_threads: int = SI("${happysad_threads:}")
    inter_op_threads: int = SI("${happysad_threads:}")
    # Keras metrics reported per epoch
    metrics: list[str] = field(default_factory=lambda: ["accuracy", "precision", "recall", "auc"])
    # What a sweep optimises: a per-epoch metric (val_accuracy, val_loss, val_auc...) counts
    # at its best epoch, a final one (test_f1...) as logged; logged as the metric `objective`.
    objective: str = "val_accuracy"
    objective_direction: str = "maximize"  # maximize | minimize
    strategy: str = "auto"  # auto | default | mirrored | multi_worker; data.batch_size is global
    # false | true (= float16, for GPUs) | float16 | bfloat16 (TPUs, AMX CPUs); the trained
    # model is evaluated and saved in float32 (training/precision.py)
    mixed_precision: Any = False
    jit_compile: Any = "auto"  # XLA: auto = on with a GPU, off on CPU; true | false
    resume: str | None = None  # a run dir or MLflow run id to continue after a crash / kill
    backup: bool = True  # BackupAndRestore into <run dir>/backup each epoch (enables resume)


@dataclass
class InsightConf:
    gradcam: bool = True  # Grad-CAM grid for a sample of test images (right and wrong)
    # null: the last conv block whose map is >= 6 cells across (else the last); or a layer name
    gradcam_layer: str | None = None
    gradcam_images: int = 16  # how many test images in the grid
    report: bool = True  # self-contained report.html (MLflow's UI renders it)
    report_examples: int = 12  # most-wrong test images shown in the report


@dataclass
class FineTuneConf:
    epochs: int = 0  # phase 2 epochs after trainer.epochs of phase 1 (0: one phase)
    unfreeze: int | None = 30  # top N backbone layers trainable in phase 2 (null: all)
    lr: float = 1e-4  # phase 2 learning rate


@dataclass
class ModelConf:
    name: str = MISSING
    # multiplies raw [0, 255] pixels: 1/255 like the CNN presets, so a model YAML that says
    # nothing trains on [0, 1] inputs; null with a backbone (which scales pixels itself)
    input_scale: float | None = 1 / 255
    backbone: str | None = None  # a keras.applications network under the layers (BACKBONES)
    backbone_kwargs: dict[str, Any] = field(default_factory=dict)
    weights: str | None = None  # the backbone's: imagenet | null | a weights file
    freeze_backbone: bool = True  # phase 1 trains the layers and head on a frozen backbone
    fine_tune: FineTuneConf = field(default_factory=FineTuneConf)
    # warm start: run dir | model folder | runs:/ | models:/ | auto (the built-in face prior
    # when it fits the model, else from scratch; the default for data=folder)
    init_from: str | None = None
    # multiplies optimizer.lr when init_from=auto applied the prior: a network that already
    # knows faces needs a gentler start than random weights (a sweep over optimizer.lr still
    # sweeps: every value is scaled alike)
    prior_lr_scale: float = 1.0
    layers: list[Any] = field(default_factory=list)  # Keras layers, each {_target_: ..., kwargs}
    head: str = "auto"  # auto: sigmoid/softmax output sized to the classes; none: the last layer
    loss: Any = "auto"  # auto, a Keras loss name, or a {_target_: ...} spec
    label_smoothing: float = 0.0  # for the auto loss
    # none | temperature: after fit, one temperature T fitted on the validation split
    # (minimal NLL of softmax(logits / T)); saved with the model, applied by predict, eval
    # and the served model, and the test split is evaluated with it. Off by default: the
    # demo models were slightly under-confident (T 0.35-0.65), and sharpening them halved the
    # ECE on faces like the training set's but doubled it on the most shifted face set (0.064
    # -> 0.117), where the model is most often wrong (docs/generalisation.md)
    calibration: str = "none"


@dataclass
class TrackingConf:
    enabled: bool = True
    uri: str | None = None  # tracking/local.yaml: $MLFLOW_TRACKING_URI, else outputs/mlflow.db
    artifact_location: str | None = None  # used when the experiment is created
    experiment: str = "happysad"
    run_name: str | None = None  # null: built from the overrides (or "default")
    tags: dict[str, Any] = field(default_factory=dict)
    log_model: bool = True
    register_as: str | None = None  # a name: register the run's model (models:/<name>/<version>)
    required: bool = True  # false: if the server is unreachable, train untracked with a warning
    connect_timeout: float = 5.0  # seconds for the start-up reachability check of http(s) URIs
    http_retries: int = 2  # MLflow client retries per call (its default of 7 can stall an epoch)
    http_timeout: int = 20  # seconds per MLflow HTTP request


_SCHEMAS = {
    "data": DataConf,
    "model": ModelConf,
    "trainer": TrainerConf,
    "tracking": TrackingConf,
    "insight": InsightConf,
}
_TOP_LEVEL = ("paths", "data", "model", "optimizer", "callbacks", "trainer", "tracking")


def register_schemas() -> None:
    """Offer each schema to Hydra as `<group>/schema` (model/schema, data/schema...): every
    YAML of these groups starts from it (`defaults: [schema, _self_]`), so all its keys exist
    at composition, can be set on the command line without a `+`, and take their defaults
    from this file alone."""
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    for group, schema in _SCHEMAS.items():
        store.store(group=group, name="schema", node=schema)


register_schemas()


def _fail(key: str, value: Any, why: str) -> None:
    raise ConfigError(f"{key}={value!r}: {why}")


def _merge_schema(cfg: DictConfig, group: str) -> DictConfig:
    """The group merged onto its schema (defaults filled in, types checked); errors name the key."""
    given = cfg.get(group)
    if given is not None and not isinstance(given, DictConfig):
        _fail(group, given, f"must be a mapping (pick one with {group}=<name>)")
    if isinstance(given, DictConfig):
        # As plain data: a node composed from `<group>/schema` is already typed, and Hydra
        # adds `+group.typo=1` to it; merged afresh, an unknown key fails here, naming it.
        given = OmegaConf.create(OmegaConf.to_container(given, resolve=False))
    try:
        return OmegaConf.merge(OmegaConf.structured(_SCHEMAS[group]), given or {})
    except OmegaConfBaseException as err:
        full_key = getattr(err, "full_key", None) or ""
        key = f"{group}.{full_key}" if full_key else group
        msg = first_line(err)
        if "not in struct" in msg or ("Key '" in msg and "not in" in msg):
            known = ", ".join(sorted(OmegaConf.structured(_SCHEMAS[group]).keys()))
            msg = f"{UNKNOWN_KEY} (did you mistype it? known keys of {group}: {known})"
        raise ConfigError(f"{key}: {msg}") from None


def with_defaults(group: str, node: DictConfig | dict) -> DictConfig:
    """One config group (e.g. a conf/model/*.yaml loaded on its own) with its schema's
    defaults filled in: what `validate` gives the job for that group."""
    node = OmegaConf.create(node)
    node.pop("defaults", None)  # Hydra's defaults list, when the YAML file is loaded as is
    return _merge_schema(OmegaConf.create({group: node}), group)


def with_schemas(cfg: DictConfig, groups: Iterable[str] = tuple(_SCHEMAS)) -> DictConfig:
    """A copy of a whole config with each of `groups` merged onto its schema: every key there,
    defaults filled in, types checked (a ConfigError names the key), interpolations still
    resolved against the whole config. No other check: `validate` is that plus the checks;
    code that reads a config it did not validate (the sweep callback) reads this."""
    out = cfg.copy()
    with open_dict(out):
        for group in groups:
            out[group] = _merge_schema(cfg, group)
    return out


def _positive_int(key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        _fail(key, value, "must be a positive integer")


def _check_data(d: DictConfig) -> None:
    if d.source not in SOURCES:
        _fail("data.source", d.source, f"must be one of {', '.join(SOURCES)}")
    size = d.image_size
    if not isinstance(size, ListConfig | list) or len(size) != 2:
        _fail(
            "data.image_size",
            OmegaConf.to_container(size) if size is not None else size,
            "must be [height, width]",
        )
    for i, v in enumerate(size):
        _positive_int(f"data.image_size[{i}]", v)
    if d.channels not in (1, 3):
        _fail("data.channels", d.channels, "must be 1 (grayscale) or 3 (RGB)")
    _positive_int("data.batch_size", d.batch_size)
    if d.interpolation not in INTERPOLATIONS:
        _fail("data.interpolation", d.interpolation, f"must be one of {', '.join(INTERPOLATIONS)}")
    ratios = {k: d.split[k] for k in ("train", "val", "test")}
    for k, v in ratios.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= v <= 1.0:
            _fail(f"data.split.{k}", v, "must be a number in [0, 1]")
    if not math.isclose(sum(ratios.values()), 1.0, abs_tol=1e-6):
        _fail(
            "data.split",
            ratios,
            f"train+val+test must sum to 1 (they sum to {sum(ratios.values()):g})",
        )
    if ratios["train"] <= 0:
        _fail("data.split.train", ratios["train"], "must be > 0: there is nothing to train on")
    mb = d.max_file_mb
    if isinstance(mb, bool) or not isinstance(mb, int | float) or not mb > 0:
        _fail("data.max_file_mb", mb, "must be a positive number of megabytes")
    if d.bad_files not in BAD_FILE_POLICIES:
        _fail("data.bad_files", d.bad_files, f"must be one of {', '.join(BAD_FILE_POLICIES)}")
    if d.bad_files == "quarantine" and not d.quarantine_dir:
        _fail(
            "data.quarantine_dir",
            d.quarantine_dir,
            "must name a folder when data.bad_files=quarantine",
        )
    if d.cache not in CACHE_MODES:
        _fail("data.cache", d.cache, f"must be one of {', '.join(CACHE_MODES)}")
    gb = d.cache_max_gb
    if gb is not None and (isinstance(gb, bool) or not isinstance(gb, int | float) or gb <= 0):
        _fail("data.cache_max_gb", gb, "must be a positive number of gigabytes (or null)")
    if d.min_images_per_class < 1:
        _fail("data.min_images_per_class", d.min_images_per_class, "must be >= 1")
    if d.workers < 0:
        _fail("data.workers", d.workers, "must be >= 0 (0 = one per CPU)")
    if not d.extensions:
        _fail("data.extensions", list(d.extensions), "must list at least one file extension")
    for i, ext in enumerate(d.extensions):
        if not str(ext).startswith("."):
            _fail(f"data.extensions[{i}]", ext, "must start with a dot, e.g. .jpg")
    if d.class_names is not None:
        names = list(d.class_names)
        if len(names) < 2:
            _fail("data.class_names", names, "must name at least 2 classes (or be null)")
        if len(set(names)) != len(names):
            _fail("data.class_names", names, "must not repeat a class")
    for i, layer in enumerate(d.augment):
        if not isinstance(layer, DictConfig) or not isinstance(layer.get("_target_"), str):
            _fail(
                f"data.augment[{i}]",
                layer,
                "needs a `_target_` naming a Keras layer, e.g. keras.layers.RandomFlip",
            )
    if isinstance(d.face_margin, bool) or not 0.0 <= float(d.face_margin) <= 2.0:
        _fail(
            "data.face_margin", d.face_margin, "must be a number in [0, 2] (fraction of the face)"
        )
    if d.source == "folder":
        _check_root(d)
    if d.source == "demo":
        if d.demo is None:
            _fail("data.demo", None, "must be set when data.source=demo")
        _positive_int("data.demo.per_class", d.demo.per_class)
        _positive_int("data.demo.image_size", d.demo.image_size)
        if d.demo.n_corrupt < 0:
            _fail("data.demo.n_corrupt", d.demo.n_corrupt, "must be >= 0")
        if d.demo.variety not in ("wide", "classic"):
            _fail("data.demo.variety", d.demo.variety, "must be one of wide, classic")
        for key in ("cues", "subtle", "faint"):
            if not 0.0 <= d.demo[key] <= 1.0:
                _fail(f"data.demo.{key}", d.demo[key], "must be in [0, 1]")


def _check_root(d: DictConfig) -> None:
    """data.root names one dataset folder; `~` is expanded (the value is updated).

    Refused at once: an interpolation that does not resolve (a traceback otherwise), an
    empty value (it would scan the working folder), and a filesystem root or the home
    folder itself (every sub-folder would become a class: 400k files scanned for minutes
    before the run failed)."""
    try:
        root = d.root
    except OmegaConfBaseException as err:
        raw = OmegaConf.to_container(d, resolve=False)["root"]  # type: ignore[index]
        _fail("data.root", raw, f"cannot be resolved ({first_line(err)})")
    if not isinstance(root, str) or not root.strip():
        _fail("data.root", root, "must name the dataset folder (one sub-folder per class)")
    path = os.path.abspath(os.path.expanduser(root))
    if path in (os.path.abspath(os.sep), os.path.abspath(os.path.expanduser("~"))) or (
        os.path.dirname(path) == path
    ):
        _fail(
            "data.root",
            root,
            "is a filesystem root or the home folder; point it at the dataset folder "
            "(one sub-folder per class)",
        )
    if root.startswith("~"):
        d.root = os.path.expanduser(root)


def _check_model(m: DictConfig) -> None:
    if len(m.layers) == 0:
        _fail("model.layers", list(m.layers), "must be a non-empty list of layers")
    for i, layer in enumerate(m.layers):
        if not isinstance(layer, DictConfig) or not isinstance(layer.get("_target_"), str):
            _fail(f"model.layers[{i}]", layer, "needs a `_target_` naming a Keras layer")
    if m.head not in HEADS:
        _fail("model.head", m.head, f"must be one of {', '.join(HEADS)}")
    if m.input_scale is not None and m.input_scale <= 0:
        _fail("model.input_scale", m.input_scale, "must be a positive number or null")
    if not m.prior_lr_scale > 0:
        _fail("model.prior_lr_scale", m.prior_lr_scale, "must be a positive number")
    if m.backbone is not None and m.backbone not in BACKBONES:
        _fail("model.backbone", m.backbone, f"must be null or one of {', '.join(BACKBONES)}")
    if m.backbone is not None and m.input_scale is not None:
        _fail(
            "model.input_scale",
            m.input_scale,
            "must be null with a backbone (the backbone scales pixels itself): add "
            "`input_scale: null` to the model's YAML",
        )
    if m.weights is not None and m.backbone is None:
        _fail("model.weights", m.weights, "needs model.backbone (the weights are the backbone's)")
    if not 0.0 <= m.label_smoothing < 1.0:
        _fail("model.label_smoothing", m.label_smoothing, "must be in [0, 1)")
    if m.calibration not in CALIBRATIONS:
        _fail("model.calibration", m.calibration, f"must be one of {', '.join(CALIBRATIONS)}")
    if m.fine_tune.epochs < 0:
        _fail("model.fine_tune.epochs", m.fine_tune.epochs, "must be >= 0")
    if m.fine_tune.epochs and m.backbone is None and m.init_from in (None, "auto"):
        _fail("model.fine_tune.epochs", m.fine_tune.epochs, "needs model.backbone (or init_from)")
    if m.fine_tune.lr <= 0:
        _fail("model.fine_tune.lr", m.fine_tune.lr, "must be a positive number")
    if m.fine_tune.unfreeze is not None and m.fine_tune.unfreeze < 0:
        _fail("model.fine_tune.unfreeze", m.fine_tune.unfreeze, "must be >= 0 or null (all)")


def _check_optimizer(o: DictConfig) -> None:
    if not isinstance(o, DictConfig) or not isinstance(o.get("_target_"), str):
        _fail("optimizer", o, "needs a `_target_`, e.g. keras.optimizers.Adam")
    lr = o.get("lr")
    if isinstance(lr, bool) or not isinstance(lr, int | float) or lr <= 0:
        _fail("optimizer.lr", lr, "must be a positive number")
    if "learning_rate" in o:
        _fail("optimizer.learning_rate", o.learning_rate, "use optimizer.lr for the learning rate")


def _check_callbacks(c: DictConfig) -> None:
    if not isinstance(c, DictConfig):
        _fail("callbacks", c, "must be a mapping of name -> {_target_: ...}")
    if c.get("reduce_lr") is not None and c.get("lr_schedule") is not None:
        _fail(
            "callbacks.reduce_lr",
            "set",
            "conflicts with callbacks.lr_schedule (it resets the rate every batch); "
            "pick one: schedule=plateau or schedule=cosine",
        )
    for name, cb in c.items():
        if cb is None:
            continue
        if not isinstance(cb, DictConfig) or not isinstance(cb.get("_target_"), str):
            _fail(f"callbacks.{name}", cb, "needs a `_target_`, e.g. keras.callbacks.EarlyStopping")


def _check_trainer(t: DictConfig) -> None:
    _positive_int("trainer.epochs", t.epochs)
    check_threshold(t.threshold, "trainer.threshold")
    if t.verbose not in ("auto", 0, 1, 2):
        _fail("trainer.verbose", t.verbose, "must be auto, 0, 1 or 2")
    if t.strategy not in STRATEGIES:
        _fail("trainer.strategy", t.strategy, f"must be one of {', '.join(STRATEGIES)}")
    mp = t.mixed_precision
    if not (isinstance(mp, bool) or (isinstance(mp, str) and mp in MIXED_PRECISION)):
        _fail(
            "trainer.mixed_precision",
            t.mixed_precision,
            "must be false, true (float16), float16 or bfloat16",
        )
    if t.jit_compile not in ("auto", True, False):
        _fail("trainer.jit_compile", t.jit_compile, "must be auto, true or false")
    for key in ("intra_op_threads", "inter_op_threads"):
        if t[key] < 0:
            _fail(f"trainer.{key}", t[key], "must be >= 0 (0 = the CPUs this process may use)")
    if t.resume and not t.backup:
        _fail(
            "trainer.backup", t.backup, "must be true to resume (trainer.resume needs the backup)"
        )
    if not t.objective:
        _fail("trainer.objective", t.objective, "must name a metric, e.g. val_accuracy")
    if t.objective_direction not in DIRECTIONS:
        _fail(
            "trainer.objective_direction",
            t.objective_direction,
            f"must be one of {', '.join(DIRECTIONS)}",
        )


def _check_insight(i: DictConfig) -> None:
    if i.gradcam_images < 1:
        _fail("insight.gradcam_images", i.gradcam_images, "must be >= 1")
    if i.report_examples < 0:
        _fail("insight.report_examples", i.report_examples, "must be >= 0")


def _check_tracking(t: DictConfig) -> None:
    if t.enabled and not t.uri:
        _fail("tracking.uri", t.uri, "must be set when tracking.enabled=true")
    if not t.experiment:
        _fail("tracking.experiment", t.experiment, "must be a non-empty name")


def validate(cfg: DictConfig) -> DictConfig:
    """Check the whole training config; return it with every schema's defaults filled in.

    The returned config is the one the job uses: the schemas are the single source of
    defaults, so no code needs `.get(key, default)` for a key a schema defines. Raises
    ConfigError naming the first bad key.
    """
    for key in _TOP_LEVEL:
        if key not in cfg or cfg[key] is None:
            _fail(key, None, f"is missing: pick one with {key}=<option>")
    out = with_schemas(cfg)
    _check_data(out.data)
    _check_model(out.model)
    _check_optimizer(out.optimizer)
    _check_callbacks(out.callbacks)
    _check_trainer(out.trainer)
    _check_tracking(out.tracking)
    _check_insight(out.insight)
    return out
