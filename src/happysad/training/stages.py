"""The training job's stages: each takes what it needs and returns what the next one uses.

`job.train` calls them in order. They are plain functions over small objects (`RunContext`,
`DataBundle`, `FitResult`) so a test can run any of them in-process. Order is chosen to fail
cheaply: the model (and its config errors) is built before any data is scanned, and every
stage from `log_run_config` on runs inside the MLflow run, so a failure leaves a FAILED run
with whatever was logged so far.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from happysad.data.image import Preprocessing
from happysad.errors import ConfigError, DataError, first_line, redact, redact_file
from happysad.training import precision
from happysad.training.prior import AUTO
from happysad.training.resume import hydra_job_files, refuse_reused_run_dir

if TYPE_CHECKING:  # names for the annotations only: TensorFlow loads after config validation
    import keras
    import tensorflow as tf

    from happysad.data.scan import ScanResult
    from happysad.data.split import Splits
    from happysad.serving.loading import LoadedModel
    from happysad.tracking.tracker import Tracker

log = logging.getLogger("happysad.training")

SPLITS = ("train", "val", "test")


@dataclass
class RunContext:
    """What every stage shares: the validated config, where the run writes, how it tracks."""

    cfg: DictConfig
    run_dir: Path
    tracker: Tracker  # a NullTracker when nothing is tracked
    strategy: tf.distribute.Strategy
    chief: bool = True
    resuming: bool = False
    run_name: str = "default"
    tags: dict[str, str] = field(default_factory=dict)
    lr_scale: float = 1.0  # model.prior_lr_scale, once the built-in prior was applied
    t0: float = field(default_factory=time.time)


@dataclass
class DataBundle:
    """The data a run trains and evaluates on, and the reports made while preparing it."""

    class_names: list[str]
    prep: Preprocessing
    scanned: ScanResult
    splits: Splits
    arrays: dict[str, tuple[np.ndarray, np.ndarray]]  # split -> (uint8 images, labels)
    face_summary: dict | None
    fingerprint: str

    @property
    def eval_split(self) -> str:
        """test, else val, else train: the split the final metrics are reported on."""
        return next((s for s in ("test", "val") if len(self.splits[s])), "train")

    def paths(self, split: str) -> list[str]:
        return [r.relpath for r in self.splits[split]]

    def dataset(
        self, cfg: DictConfig, split: str, binary: bool, augmenter: keras.Layer | None = None
    ) -> tf.data.Dataset:
        """A tf.data pipeline over one split; the train split is shuffled and augmented."""
        from happysad.data import pipeline

        x, y = self.arrays[split]
        y = y.astype("float32").reshape(-1, 1) if binary else y
        return pipeline.make_dataset(
            x,
            y,
            int(cfg.data.batch_size),
            shuffle=split == "train",
            seed=int(cfg.seed),
            augment=augmenter if split == "train" else None,  # training batches only
        )


@dataclass
class FitResult:
    history: dict[str, list[float]]  # per epoch, complete across a resume (history.csv)
    epochs_run: int
    epochs_resumed: int  # epochs restored from the backup before this process trained
    seconds: float
    # The epoch whose weights the model ends with (1-based): EarlyStopping's best epoch when it
    # restores the best weights (callbacks.early_stopping.restore_best_weights), else the last.
    final_epoch: int = 0


@dataclass
class Calibration:
    """What `model.calibration` gave: the temperature the logits are divided by (1: none)."""

    method: str = "none"  # model.calibration
    temperature: float = 1.0
    val_ece_before: float | None = None
    val_ece_after: float | None = None
    n_val: int = 0  # the validation images T was fitted on (0: not fitted, T = 1)

    def apply(self, probs: np.ndarray) -> np.ndarray:
        from happysad.evaluate import apply_temperature

        return apply_temperature(probs, self.temperature)

    def record(self) -> dict[str, Any] | None:
        """happysad.json's `calibration` (ModelMetadata.calibration); None for none."""
        if self.method == "none":
            return None
        return {
            "method": self.method,
            "temperature": self.temperature,
            "fitted_on": "val" if self.n_val else None,  # None: not fitted, T = 1
            "n_images": self.n_val,
            "val_ece_before": self.val_ece_before,
            "val_ece_after": self.val_ece_after,
        }

    def metrics(self) -> dict[str, float]:
        """calibration_temperature and the validation ECE before and after it (MLflow)."""
        if self.method == "none":
            return {}
        out = {"calibration_temperature": self.temperature}
        if self.val_ece_before is not None and self.val_ece_after is not None:
            out["calibration_val_ece_before"] = self.val_ece_before
            out["calibration_val_ece_after"] = self.val_ece_after
        return out

    def describe(self) -> str:
        """One line for the run report's config summary."""
        if self.method == "none":
            return "none (model.calibration)"
        if not self.n_val:
            return f"{self.method}: not fitted, T = 1"
        return (
            f"{self.method}: T = {self.temperature:.3g} on {self.n_val} validation images "
            f"(val ECE {self.val_ece_before:.3f} -> {self.val_ece_after:.3f})"
        )


# --- start ------------------------------------------------------------------------------


def configure_tensorflow(cfg: DictConfig) -> tf.distribute.Strategy:
    """Threads, the distribution strategy and determinism, before TensorFlow's first op."""
    import keras
    import tensorflow as tf

    from happysad.resources import available_cpus
    from happysad.training.distribute import make_strategy

    t = cfg.trainer
    threading = tf.config.threading
    # 0 = the CPUs this process may use (affinity and cgroup quota; TensorFlow itself would
    # count the machine's cores and oversubscribe a container limited to a few of them).
    intra = int(t.intra_op_threads) or available_cpus()
    inter = int(t.inter_op_threads) or available_cpus()
    try:
        if threading.get_intra_op_parallelism_threads() != intra:
            threading.set_intra_op_parallelism_threads(intra)
        if threading.get_inter_op_parallelism_threads() != inter:
            threading.set_inter_op_parallelism_threads(inter)
    except RuntimeError:  # already initialised (e.g. a second job in the same process)
        if t.intra_op_threads or t.inter_op_threads:  # only what was asked for is worth a warning
            log.warning("TensorFlow already initialised: trainer.*_op_threads ignored for this job")
    strategy = make_strategy(str(t.strategy))
    keras.utils.set_random_seed(int(cfg.seed))
    policy = precision.set_policy(t.mixed_precision)
    if policy != precision.FLOAT32:
        log.info("trainer.mixed_precision=%s: training computes in %s", t.mixed_precision, policy)
    if t.deterministic:
        tf.config.experimental.enable_op_determinism()
    return strategy


def open_context(
    cfg: DictConfig,
    run_dir: str | Path,
    overrides: list[str],
    extra_tags: dict[str, str] | None,
) -> RunContext:
    """Check the tracking server, configure TensorFlow, decide who is the chief."""
    from happysad.paths import project_root
    from happysad.tracking.params import run_name
    from happysad.tracking.tracker import (
        TAG_INIT_FROM,
        TAG_MODEL_NAME,
        TAG_OVERRIDES,
        TAG_RUN_DIR,
        NullTracker,
        git_info,
        open_tracker,
    )
    from happysad.training.distribute import is_chief

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if not cfg.trainer.resume:
        refuse_reused_run_dir(run_dir, hydra_wrote=hydra_job_files())
    from happysad.serving.quiet import filtered_stderr

    tracker = open_tracker(cfg.tracking)  # before any data or model work: checks the server
    with filtered_stderr():  # TensorFlow's first import and device probe: no absl chatter
        strategy = configure_tensorflow(cfg)
    chief = is_chief(strategy)
    if not chief:
        # Workers other than the chief train in lockstep but write nothing to the run:
        # their files go to a scratch dir that is removed at the end, and they don't track.
        tracker = NullTracker(cfg.tracking)
        run_dir = Path(tempfile.mkdtemp(prefix="happysad-worker-"))
        cfg.paths.run_dir = str(run_dir)
    tags = {
        TAG_OVERRIDES: " ".join(overrides) or "(none)",
        TAG_RUN_DIR: str(run_dir),
        TAG_MODEL_NAME: str(cfg.model.name),
        **git_info(project_root()),
        **({TAG_INIT_FROM: str(cfg.model.init_from)} if cfg.model.init_from else {}),
        **(extra_tags or {}),
    }
    name = str(cfg.tracking.run_name or run_name(overrides, str(cfg.model.name)))
    return RunContext(
        cfg=cfg,
        run_dir=run_dir,
        tracker=tracker,
        strategy=strategy,
        chief=chief,
        resuming=bool(cfg.trainer.resume),
        run_name=name,
        tags=tags,
    )


def resolve_classes(cfg: DictConfig) -> tuple[list[str], list[str]]:
    """(class names, sub-folders not among them), known before any data work: a folder's
    from its sub-folder names, the demo's without generating it."""
    from happysad.data import demo, scan

    d = cfg.data
    wanted = list(d.class_names) if d.class_names else None
    if d.source == "demo":
        return wanted or list(demo.CLASSES), []
    return scan.discover_classes(d.root, wanted)


def build_model(ctx: RunContext, class_names: list[str]) -> keras.Model:
    """The compiled model: from the layer list (and backbone), or warm-started from an
    earlier model (`model.init_from`); config errors surface here, before any data work."""
    from happysad.tracking.tracker import TAG_PRECISION
    from happysad.training import model as model_lib

    cfg = ctx.cfg
    prep = Preprocessing.from_data_config(cfg.data)
    shape = (*prep.image_size, prep.channels)
    with ctx.strategy.scope():  # variables (model and optimizer) must live in the strategy
        if cfg.model.init_from and cfg.model.init_from != AUTO:
            model = model_lib.warm_start(cfg.model, load_init_model(cfg), shape, class_names)
            policy = precision.global_policy()
            if policy != precision.FLOAT32:  # saved models are float32: train as asked
                model = precision.with_policy(model, policy)
        else:
            model = model_lib.build_model(cfg.model, shape, len(class_names))
            if cfg.model.init_from == AUTO:
                _start_from_prior(ctx, model, class_names)
        if backbone_frozen(cfg):
            model_lib.set_backbone_trainable(model, 0)
    compile_model(ctx, model)
    ctx.tags[TAG_PRECISION] = precision.trained_policy(model)  # what it computes in, as built
    return model


def _start_from_prior(ctx: RunContext, model: keras.Model, class_names: list[str]) -> None:
    """`model.init_from=auto`: the built-in face prior when it fits the model, else scratch."""
    from happysad.tracking.tracker import TAG_INIT_FROM
    from happysad.training.prior import apply_prior, load_prior

    prior = None if ctx.cfg.model.backbone else load_prior()
    done = apply_prior(model, prior, class_names) if prior is not None else None
    if done:
        ctx.lr_scale = float(ctx.cfg.model.prior_lr_scale)
        log.info(
            "model.init_from=auto: starting from the built-in prior %s, at optimizer.lr x %g "
            "(model.prior_lr_scale)",
            done,
            ctx.lr_scale,
        )
        done = f"{done}, lr x {ctx.lr_scale:g}"
    else:
        log.info("model.init_from=auto: no built-in prior fits this model; from scratch")
    ctx.tags[TAG_INIT_FROM] = f"auto: {done or 'from scratch (no prior fits)'}"


def backbone_frozen(cfg: DictConfig) -> bool:
    """Phase 1 trains on a frozen backbone only when it is pretrained (weights or init_from):
    a random backbone (weights=null) must learn from the start."""
    warm = cfg.model.init_from not in (None, AUTO)  # auto never applies to backbones
    return bool(cfg.model.freeze_backbone and (cfg.model.weights or warm))


def load_init_model(cfg: DictConfig) -> LoadedModel:
    """The happysad model `model.init_from` names (run dir, model folder, runs:/, models:/)."""
    from happysad.errors import ModelLoadError
    from happysad.paths import default_tracking_uri
    from happysad.serving.packaging import load_model

    uri = str(cfg.tracking.uri) if cfg.tracking.enabled else default_tracking_uri()
    try:
        return load_model(str(cfg.model.init_from), tracking_uri=uri)
    except ModelLoadError as err:
        raise ConfigError(f"model.init_from={cfg.model.init_from!r}: {err}") from None


def compile_model(ctx: RunContext, model: keras.Model, lr: float | None = None) -> None:
    """Compile with the configured optimizer (at `lr` if given), loss and metrics."""
    from happysad.training import model as model_lib

    cfg = ctx.cfg
    if lr is None and ctx.lr_scale != 1.0:
        lr = float(cfg.optimizer.lr) * ctx.lr_scale
    with ctx.strategy.scope():
        model.compile(
            optimizer=model_lib.build_optimizer(cfg.optimizer, lr=lr),
            loss=model_lib.resolve_loss(cfg.model, model),
            metrics=model_lib.build_metrics(
                list(cfg.trainer.metrics), model_lib.is_binary_output(model)
            ),
            jit_compile=cfg.trainer.jit_compile,
        )


def build_callbacks(cfg: DictConfig) -> list[keras.callbacks.Callback]:
    """The configured Keras callbacks (`callbacks.<name>`, null entries skipped)."""
    from happysad.specs import instantiate_spec

    return [
        instantiate_spec(spec, f"callbacks.{name}", example="keras.callbacks.EarlyStopping")
        for name, spec in (cfg.callbacks or {}).items()
        if spec is not None
    ]


def ensure_demo_data(cfg: DictConfig) -> None:
    """Generate the embedded demo set on first use (reused afterwards); no-op for folders."""
    from happysad.data import demo

    d = cfg.data
    if d.source != "demo":
        return
    log.info("demo data: %s (generated on first use, then reused)", d.root)
    try:
        demo.ensure_demo_dataset(
            d.root,
            per_class=int(d.demo.per_class),
            image_size=int(d.demo.image_size),
            seed=int(d.demo.seed),
            n_corrupt=int(d.demo.n_corrupt),
            style={
                "variety": str(d.demo.variety),
                "cues": float(d.demo.cues),
                "subtle": float(d.demo.subtle),
                "faint": float(d.demo.faint),
                "twins": bool(d.demo.twins),
                "dotted": float(d.demo.dotted),
            },
        )
    except (ValueError, FileExistsError) as err:
        raise DataError(f"data.root={str(d.root)!r}: {err}") from None


def log_run_config(ctx: RunContext) -> None:
    """The resolved config as params and artifacts, and the state file `trainer.resume` reads."""
    from happysad.tracking.params import chosen_params
    from happysad.tracking.tracker import TAG_DISTRIBUTE, flatten
    from happysad.training.distribute import describe
    from happysad.training.resume import write_state

    cfg, tracker = ctx.cfg, ctx.tracker
    if ctx.resuming:
        log.info("resuming %s (MLflow run %s)", ctx.run_dir, tracker.run_id)
        return
    dist = describe(ctx.strategy)
    dist["global_batch_size"] = int(cfg.data.batch_size)
    dist["per_replica_batch_size"] = int(cfg.data.batch_size) // max(dist["num_replicas"], 1)
    if dist["num_replicas"] > 1:
        log.info("distributed: %s", dist)
    resolved = redact(OmegaConf.to_container(cfg, resolve=True))  # no secret leaves the process
    write_state(ctx.run_dir, tracker.run_id, str(cfg.tracking.uri) if tracker.enabled else None)
    (ctx.run_dir / "config_resolved.yaml").write_text(OmegaConf.to_yaml(resolved))
    for hydra_file in sorted((ctx.run_dir / ".hydra").glob("*.yaml")):
        redact_file(hydra_file)  # resume puts the secrets back from the command line
    # Params are what the user chose; where the run wrote stays in config_resolved.yaml.
    folders = [str(ctx.run_dir), str(cfg.paths.output_dir)]
    params = chosen_params(flatten(resolved), folders)
    tracker.log_params(params)
    tracker.set_tags({f"{TAG_DISTRIBUTE}{k}": str(v) for k, v in dist.items()})
    tracker.log_artifact(ctx.run_dir / "config_resolved.yaml", "config")
    tracker.log_artifacts(ctx.run_dir / ".hydra", "config/hydra")


# --- data -------------------------------------------------------------------------------


def prepare_data(ctx: RunContext, class_names: list[str]) -> DataBundle:
    """Scan -> split -> decode (cached) -> arrays; the cleaning, split and face reports."""
    from happysad.data import scan, split
    from happysad.insight.artifacts import face_crop_notes
    from happysad.tracking.tracker import (
        COMPARE_METRIC,
        PENDING_STEP,
        TAG_CLASS_NAMES,
        TAG_DATA,
        TAG_DATASET_FINGERPRINT,
    )

    cfg, tracker, d = ctx.cfg, ctx.tracker, ctx.cfg.data
    scanned = scan.scan_folder(
        d.root,
        class_names=class_names,
        extensions=list(d.extensions),
        recursive=bool(d.recursive),
        workers=int(d.workers),
        quarantine_dir=d.quarantine_dir if d.bad_files == "quarantine" else None,
        min_images_per_class=int(d.min_images_per_class),
        cache_dir=cfg.paths.cache_dir if d.scan_cache else None,
        max_file_bytes=int(float(d.max_file_mb) * 2**20),
        follow_external_links=bool(d.follow_external_links),
    )
    log.info("scan %s: %s", d.root, scanned.summary())
    data_dir = ctx.run_dir / "data"
    scanned.write_report(data_dir / "cleaning_report.csv")
    splits = split.split_records(
        scanned.records,
        class_names,
        {k: float(d.split[k]) for k in SPLITS},
        seed=int(d.split.seed),
        group_duplicates=bool(d.split.group_duplicates),
    )
    log.info("split: %s", splits.summary())
    splits.write_manifest(data_dir / "split_manifest.csv")
    splits.write_duplicates(data_dir / "duplicates.csv")
    summary = {
        "scan": scanned.summary(),
        "split": splits.summary(),
        "counts": splits.counts(),
        "rejected": len(scanned.rejected),
        "class_names": class_names,
    }
    (data_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    tracker.log_artifacts(data_dir, "data")  # before decoding: a failure there keeps them
    fingerprint = splits.fingerprint()
    tracker.set_tags({TAG_DATASET_FINGERPRINT: fingerprint, TAG_CLASS_NAMES: ",".join(class_names)})
    if tracker.enabled:  # the runs table's Dataset column: one input per split
        from happysad.tracking.datasets import split_datasets  # imports MLflow

        by_split = {s: splits.fingerprint(s) for s in SPLITS}
        tracker.log_datasets(split_datasets(d.root, fingerprint, splits.counts(), by_split))
    counts = {f"n_{s}": len(splits[s]) for s in SPLITS} | {"n_rejected": len(scanned.rejected)}
    tracker.set_tags({f"{TAG_DATA}{k}": str(v) for k, v in counts.items()})  # facts, not metrics
    if len(splits.test) and not ctx.resuming:  # the first metric: the compare view's default
        tracker.log_metrics({COMPARE_METRIC: float("nan")}, step=PENDING_STEP)  # (tracker.py)

    prep = Preprocessing.from_data_config(d)
    loaded = _decode_splits(cfg, splits, prep)
    face_summary = face_crop_notes(splits, {s: f for s, (_, _, f) in loaded.items()}, data_dir)
    if face_summary is not None:  # face_crop.csv and the updated cleaning report
        tracker.log_artifacts(data_dir, "data")
    return DataBundle(
        class_names=class_names,
        prep=prep,
        scanned=scanned,
        splits=splits,
        arrays={s: (x, y) for s, (x, y, _) in loaded.items()},
        face_summary=face_summary,
        fingerprint=fingerprint,
    )


def _decode_splits(cfg: DictConfig, splits: Splits, prep: Preprocessing) -> dict[str, tuple]:
    """Decode every split once; `data.cache=auto` picks memory or disk for all of them."""
    from happysad.data import loader

    d = cfg.data
    n_bytes = loader.decoded_bytes(sum(len(splits[s]) for s in SPLITS), prep)
    mode = loader.resolve_cache_mode(str(d.cache), n_bytes)
    log.info("decode cache: %s (data.cache=%s; %.1f MB decoded)", mode, d.cache, n_bytes / 2**20)
    cache_dir = Path(cfg.paths.cache_dir) if mode == "disk" else None
    budget = None if d.cache_max_gb is None else int(float(d.cache_max_gb) * 2**30)
    keys = {loader.cache_key(splits[s], prep) for s in SPLITS if len(splits[s])}
    t0 = time.time()
    loaded = {
        s: loader.load_images_with_faces(
            splits[s],
            prep,
            workers=int(d.workers),
            cache_dir=cache_dir,
            max_cache_bytes=budget,
            keep_keys=keys,
        )
        for s in SPLITS
    }
    log.info("decoded %d images in %.1f s", sum(len(splits[s]) for s in SPLITS), time.time() - t0)
    return loaded


# --- fit --------------------------------------------------------------------------------


def _verbose(setting: Any) -> int:
    if setting == "auto":
        return 1 if sys.stdout.isatty() else 2
    return int(setting)


def _fit_phase(
    ctx: RunContext,
    model: keras.Model,
    data: DataBundle,
    callbacks: list[keras.callbacks.Callback],
    augmenter: keras.Layer | None,
    phase: int,
    start: int,
    end: int,
) -> int:
    """One model.fit from epoch `start` to `end` (continuous numbering across phases);
    returns the restored epoch count (epochs done before this process trained)."""
    from happysad.training.callbacks import EpochBookkeeping, InterruptWatch, PhaseLogger
    from happysad.training.model import is_binary_output
    from happysad.training.resume import HISTORY_FILE

    cfg = ctx.cfg
    binary = is_binary_output(model)
    has_val = len(data.splits.val) > 0
    # One callback journals, backs up and records each epoch, in that order, and on resume
    # reconciles the three (see callbacks.EpochBookkeeping).
    bookkeeping = EpochBookkeeping(ctx.run_dir, ctx.tracker, bool(cfg.trainer.backup), start)
    peak = float(cfg.model.fine_tune.lr if phase == 2 else cfg.optimizer.lr * ctx.lr_scale)
    for cb in callbacks:  # schedules span this phase (training/schedule.py)
        if hasattr(cb, "set_span"):
            cb.set_span(start, end, peak)
    model._initial_epoch = None  # Keras keeps a restored epoch from the last fit: clear it
    # `phase` tells the two phases of a fine-tuned run apart; one phase: no such metric.
    phase_logger = [PhaseLogger(phase)] if cfg.model.fine_tune.epochs else []
    try:
        model.fit(
            data.dataset(cfg, "train", binary, augmenter),
            validation_data=data.dataset(cfg, "val", binary) if has_val else None,
            initial_epoch=start,
            epochs=end,
            callbacks=[*callbacks, *phase_logger, bookkeeping, InterruptWatch()],
            verbose=_verbose(cfg.trainer.verbose),
            shuffle=False,  # the train dataset reshuffles itself each epoch
        )
    except KeyboardInterrupt:
        interrupted = ctx.run_dir / "checkpoints" / "interrupted.keras"
        interrupted.parent.mkdir(parents=True, exist_ok=True)
        model.save(interrupted)  # first: a SIGTERM's grace period may not outlast MLflow
        with contextlib.suppress(BaseException):  # a tracking failure or a second Ctrl-C
            bookkeeping.record_backed_up()
        log.warning(
            "interrupted: model saved to %s; last completed epoch is in %s",
            interrupted,
            ctx.run_dir / "backup",
        )
        ctx.tracker.log_artifact(ctx.run_dir / HISTORY_FILE, "history")
        raise
    return bookkeeping.restored


def _enter_fine_tuning(ctx: RunContext, model: keras.Model, start: int, resumed: bool) -> None:
    """Phase 2: unfreeze the top of the backbone and recompile at model.fine_tune.lr.

    The phase-1 model is saved first and the phase-1 backup removed (its optimizer state
    does not fit the phase-2 optimizer), so a kill from here on resumes into phase 2.
    """
    from happysad.training import model as model_lib
    from happysad.training.resume import BACKUP_DIR, backup_epoch, update_state

    weights = ctx.run_dir / "checkpoints" / "phase1.weights.h5"
    if not resumed:
        weights.parent.mkdir(parents=True, exist_ok=True)
        model.save_weights(str(weights))
        update_state(ctx.run_dir, phase2_start=start)
        shutil.rmtree(ctx.run_dir / BACKUP_DIR, ignore_errors=True)
    elif (backup_epoch(ctx.run_dir) or 0) <= start:  # killed before phase 2's first backup
        model.load_weights(str(weights))
        shutil.rmtree(ctx.run_dir / BACKUP_DIR, ignore_errors=True)
    ft = ctx.cfg.model.fine_tune
    if backbone_frozen(ctx.cfg):  # else the backbone trained in phase 1 already: keep it so
        n = model_lib.set_backbone_trainable(model, ft.unfreeze)
        log.info("fine-tuning: %d backbone layers trainable", n)
    log.info("phase 2 from epoch %d at lr %g", start, ft.lr)
    compile_model(ctx, model, lr=float(ft.lr))


def fit(
    ctx: RunContext,
    model: keras.Model,
    data: DataBundle,
    callbacks: list[keras.callbacks.Callback],
    augmenter: keras.Layer | None = None,
) -> FitResult:
    """Train: one phase, or a frozen-backbone phase then fine-tuning, numbered continuously."""
    import keras

    from happysad.training.resume import HISTORY_FILE, read_history, read_state

    cfg = ctx.cfg
    if not len(data.splits.val):
        no_val = (keras.callbacks.EarlyStopping, keras.callbacks.ModelCheckpoint)
        callbacks = [c for c in callbacks if not isinstance(c, no_val)]
        log.warning("data.split.val=0: no validation split; EarlyStopping/ModelCheckpoint disabled")
    t_fit = time.time()
    phase2_start = read_state(ctx.run_dir).get("phase2_start") if ctx.resuming else None
    restored = 0
    if phase2_start is None:
        restored = _fit_phase(ctx, model, data, callbacks, augmenter, 1, 0, int(cfg.trainer.epochs))
    if cfg.model.fine_tune.epochs:
        start = len(read_history(ctx.run_dir / HISTORY_FILE).get("loss", []))
        start = int(phase2_start) if phase2_start is not None else start
        _enter_fine_tuning(ctx, model, start, resumed=phase2_start is not None)
        end = start + int(cfg.model.fine_tune.epochs)
        again = _fit_phase(ctx, model, data, callbacks, augmenter, 2, start, end)
        restored = restored if phase2_start is None else again
    seconds = time.time() - t_fit
    history = read_history(ctx.run_dir / HISTORY_FILE)
    epochs_run = len(history.get("loss", []))
    log.info("trained to epoch %d in %.1f s", epochs_run, seconds)
    final = _final_epoch(callbacks, epochs_run)
    if final != epochs_run:
        monitor = next(
            (c.monitor for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)), "?"
        )
        log.info(
            "final weights: epoch %d's (the best %s, restored by EarlyStopping)", final, monitor
        )
    ctx.tracker.log_artifact(ctx.run_dir / HISTORY_FILE)
    return FitResult(history, epochs_run, restored, seconds, final)


def float32_copy(ctx: RunContext, model: keras.Model) -> keras.Model:
    """The trained model as evaluated and shipped: in float32, whatever training computed in
    (`trainer.mixed_precision`), so every later prediction matches the run's own figures."""
    with ctx.strategy.scope():
        return precision.float32_copy(model)


def _final_epoch(callbacks: list[keras.callbacks.Callback], epochs_run: int) -> int:
    """Which epoch's weights the model holds after fit: a swinging run must not end on a bad
    epoch, so EarlyStopping(restore_best_weights=True) puts back its best one (also when it
    never stopped early); this says which, so the run records it."""
    import keras

    for cb in callbacks:
        if (
            isinstance(cb, keras.callbacks.EarlyStopping)
            and cb.restore_best_weights
            and cb.best_weights is not None
        ):
            return int(cb.best_epoch) + 1
    return epochs_run


# --- calibrate ----------------------------------------------------------------------------


def _predict(ctx: RunContext, model: keras.Model, images: np.ndarray) -> np.ndarray:
    """The model's raw probabilities: (N,) for a sigmoid output, (N, C) for a softmax."""
    from happysad.data.pipeline import make_dataset

    # Batches gathered from the array (or the memory-mapped cache): Keras would copy a whole
    # numpy array into a tensor first.
    probs = model.predict(make_dataset(images, None, int(ctx.cfg.data.batch_size)), verbose=0)
    return probs[:, 0] if probs.ndim == 2 and probs.shape[1] == 1 else probs


def calibrate(ctx: RunContext, model: keras.Model, data: DataBundle) -> Calibration:
    """`model.calibration=temperature`: one temperature T fitted on the validation split's
    predictions (minimal NLL of softmax(logits / T); evaluate.fit_temperature), after fit and
    before the test evaluation. No validation split, or no T to fit: one warning, T = 1."""
    from happysad.evaluate import apply_temperature, expected_calibration_error, fit_temperature

    method = str(ctx.cfg.model.calibration)
    if method == "none":
        return Calibration()
    x_val, y_val = data.arrays["val"]
    if not len(y_val):
        log.warning("model.calibration=%s: no validation split to fit on; T = 1", method)
        return Calibration(method)
    probs = _predict(ctx, model, x_val)
    if not np.isfinite(probs).all():
        log.warning("model.calibration=%s: non-finite validation probabilities; T = 1", method)
        return Calibration(method)
    before = expected_calibration_error(y_val, probs)
    try:
        t = fit_temperature(y_val, probs)
    except ValueError as err:
        log.warning("model.calibration=%s: %s; T = 1 (uncalibrated)", method, err)
        return Calibration(method, 1.0, before, before)
    after = expected_calibration_error(y_val, apply_temperature(probs, t))
    log.info(
        "model.calibration=%s: T = %.4g on %d validation images; val ECE %.4f -> %.4f",
        method,
        t,
        len(y_val),
        before,
        after,
    )
    if data.eval_split == "val":
        log.warning("no test split: the val metrics are measured on the images T was fitted on")
    return Calibration(method, t, before, after, len(y_val))


# --- evaluate, draw, package --------------------------------------------------------------


def evaluate(
    ctx: RunContext,
    model: keras.Model,
    data: DataBundle,
    fitted: FitResult,
    calibration: Calibration | None = None,
) -> dict[str, Any]:
    """Metrics on the test split (else val, else train), the figures and the run report, on
    the probabilities the packaged model will answer (`calibration` applied)."""
    from happysad.evaluate import evaluate_predictions, format_metrics, objective_value
    from happysad.insight.artifacts import (
        EvalFigures,
        ReportContext,
        draw_evaluation,
        write_run_report,
    )

    cfg, tracker, split = ctx.cfg, ctx.tracker, data.eval_split
    calibration = calibration or Calibration()
    if split != "test":
        log.warning("data.split.test=0: reporting metrics on the %s split instead", split)
    x_eval, y_eval = data.arrays[split]
    raw = _predict(ctx, model, x_eval)
    threshold = float(cfg.trainer.threshold)
    ev = evaluate_predictions(
        y_eval, calibration.apply(raw), data.class_names, threshold, prefix=f"{split}_"
    )
    summary: dict[str, Any] = dict(ev.metrics) | calibration.metrics()
    trained = fitted.epochs_run - fitted.epochs_resumed
    summary["epochs_run"] = fitted.epochs_run
    summary["final_epoch"] = fitted.final_epoch or fitted.epochs_run
    summary["fit_seconds"] = fitted.seconds
    summary["train_images_per_second"] = (
        len(data.splits.train) * trained / max(fitted.seconds, 1e-9)
    )
    for k in ("val_accuracy", "val_loss"):
        if k in fitted.history:
            values = fitted.history[k]
            summary[f"best_{k}"] = max(values) if "accuracy" in k else min(values)
    objective = objective_value(cfg.trainer, fitted.history, summary)
    if objective is None:
        log.warning(
            "trainer.objective=%s: this run has no such metric (per-epoch: %s)",
            cfg.trainer.objective,
            ", ".join(sorted(fitted.history)) or "none",
        )
    else:
        summary["objective"] = objective
    tracker.log_metrics({k: v for k, v in summary.items() if isinstance(v, int | float)})
    (ctx.run_dir / "metrics.json").write_text(json.dumps(summary, indent=2))
    tracker.log_artifact(ctx.run_dir / "metrics.json")
    log.info(
        "%s metrics (%d images): %s", split, len(y_eval), format_metrics(ev.metrics, f"{split}_")
    )

    ins = cfg.insight
    _, notes = draw_evaluation(
        EvalFigures(
            ev=ev,
            images=x_eval,
            paths=data.paths(split),
            plot_dir=ctx.run_dir / "plots",
            threshold=threshold,
            eval_split=split,
            history=fitted.history,
            model=model,
            gradcam=bool(ins.gradcam),
            gradcam_layer=ins.gradcam_layer,
            gradcam_images=int(ins.gradcam_images),
            most_wrong=int(ins.report_examples) if ins.report else 0,
            uncalibrated=raw if calibration.temperature != 1.0 else None,
        )
    )
    tracker.log_artifacts(ctx.run_dir / "plots", "plots")
    if ins.report:
        context = ReportContext(
            cfg=cfg,
            model=model,
            ev=ev,
            eval_split=split,
            run_dir=ctx.run_dir,
            splits=data.splits,
            scan_summary=data.scanned.summary(),
            face_summary=data.face_summary,
            run_id=tracker.run_id,
            run_name=ctx.run_name,
            epochs_run=fitted.epochs_run,
            notes=notes,
            calibration=calibration.describe(),
        )
        try:  # like the figures, the report never costs the run its model
            tracker.log_artifact(write_run_report(context))
        except Exception as err:
            log.warning("no run report: %s", first_line(err))
    tb = cfg.callbacks.get("tensorboard") if cfg.callbacks else None
    if tb is not None and tb.get("log_dir"):
        tracker.log_artifacts(tb.log_dir, "tensorboard")
    return summary


def package(
    ctx: RunContext,
    model: keras.Model,
    data: DataBundle,
    summary: dict[str, Any],
    calibration: Calibration | None = None,
) -> Path:
    """Save the model with its class names, preprocessing and calibration (the temperature
    predict, eval and serving apply); log (and register) it."""
    from happysad import __version__
    from happysad.serving import packaging

    cfg, tracker = ctx.cfg, ctx.tracker
    meta = packaging.ModelMetadata(
        class_names=data.class_names,
        preprocessing=data.prep,
        threshold=float(cfg.trainer.threshold),
        extra={
            "run_id": tracker.run_id,
            "model_name": str(cfg.model.name),
            "dataset_fingerprint": data.fingerprint,
            "happysad_version": __version__,
        },
        calibration=calibration.record() if calibration else None,
    )
    x_eval = data.arrays[data.eval_split][0]
    example = x_eval[0] if len(x_eval) else None
    model_dir = packaging.save_model(
        model, meta, ctx.run_dir / packaging.MODEL_DIR, example=example
    )
    if tracker.enabled and cfg.tracking.log_model:
        info = packaging.log_model(model_dir, meta, example=example)
        summary["model_uri"] = f"runs:/{tracker.run_id}/model"  # what the README documents
        if cfg.tracking.register_as:
            summary["registered_version"] = tracker.register_model(
                info.model_uri, str(cfg.tracking.register_as)
            )
    summary.update(
        model_dir=str(model_dir),
        run_id=tracker.run_id,
        run_dir=str(ctx.run_dir),
        class_names=list(data.class_names),
    )
    tracker.log_metrics({"total_seconds": time.time() - ctx.t0})
    return model_dir
