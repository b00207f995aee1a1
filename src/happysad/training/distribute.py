"""tf.distribute strategies from config, and who is the chief.

`trainer.strategy`:
- `auto` (default): MirroredStrategy over all GPUs when there are several, else the default
  (single-device) strategy;
- `default`: the default strategy; `mirrored`: MirroredStrategy (all local GPUs, or the CPU);
- `multi_worker`: MultiWorkerMirroredStrategy driven by the standard `TF_CONFIG` variable.

Keras 3's `fit` does not run under MultiWorkerMirroredStrategy as released (keras-team/keras
#20585): building the model reduces a distributed input batch across workers, and the
per-step metric reduction asks for axis 0 of scalars. `patch_keras_for_multi_worker` swaps
those two internals for versions that work; it is applied only for `multi_worker`, only on
the Keras versions it was checked on, and `tests/test_distribute.py` trains two real workers
so a Keras upgrade that breaks it fails CI instead of a user's night run.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

log = logging.getLogger(__name__)

PATCHED_KERAS = ("3.",)  # major versions the patch was written against (checked on 3.15)


def patch_keras_for_multi_worker() -> None:
    """Make Keras 3 `fit`/`evaluate`/`predict` work under MultiWorkerMirroredStrategy."""
    import keras
    import tensorflow as tf
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer as tf_trainer

    if getattr(tf_trainer, "_happysad_patched", False):
        return
    if not keras.__version__.startswith(PATCHED_KERAS) or not hasattr(
        tf_trainer.TensorFlowTrainer, "_maybe_symbolic_build"
    ):
        raise RuntimeError(
            f"trainer.strategy=multi_worker: Keras {keras.__version__} is not a version the "
            "multi-worker patch was checked on (3.x); run tests/test_distribute.py"
        )

    def _maybe_symbolic_build(self: Any, iterator: Any = None, data_batch: Any = None) -> None:
        # Shapes are all that is needed: take this worker's local batch, don't all-reduce it.
        if self._distribute_strategy is None:
            return
        if iterator is not None:
            for _, _, it in iterator:
                batch = next(it)
                data_batch = tree.map_structure(
                    lambda x: (
                        self.distribute_strategy.experimental_local_results(x)[0]
                        if isinstance(x, tf.distribute.DistributedValues)
                        else x
                    ),
                    batch,
                )
                break
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    original_reduce = tf_trainer.reduce_per_replica

    def reduce_per_replica(values: Any, strategy: Any, reduction: str) -> Any:
        # Step outputs are scalars (loss, metrics): average them across replicas elementwise.
        if reduction in ("auto", "mean") and tf_trainer._collective_all_reduce_multi_worker(
            strategy
        ):
            return tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return original_reduce(values, strategy, reduction)

    tf_trainer.TensorFlowTrainer._maybe_symbolic_build = _maybe_symbolic_build
    tf_trainer.reduce_per_replica = reduce_per_replica
    tf_trainer._happysad_patched = True


def make_strategy(name: str) -> Any:
    """Build the configured strategy (must run before other TensorFlow work)."""
    import tensorflow as tf

    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            from happysad.errors import ConfigError

            raise ConfigError(
                "trainer.strategy=multi_worker: TF_CONFIG is not set "
                '(e.g. {"cluster": {"worker": ["host1:2222", "host2:2222"]}, "task": {"type": "worker", "index": 0}})'
            )
        patch_keras_for_multi_worker()
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "auto" and len(tf.config.list_physical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief(strategy: Any) -> bool:
    """Only the chief logs to MLflow and writes the run's files.

    With a `chief` job in TF_CONFIG that task is the chief; otherwise worker 0 is.
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    if "chief" in cluster:
        return resolver.task_type == "chief"
    return resolver.task_type == "worker" and int(resolver.task_id) == 0


def describe(strategy: Any) -> dict[str, Any]:
    """What to log about the strategy."""
    import tensorflow as tf

    name = type(strategy).__name__
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        name = "MultiWorkerMirroredStrategy"  # TF's class is CollectiveAllReduceStrategy
    return {
        "strategy": name,
        "num_replicas": int(strategy.num_replicas_in_sync),
    }
