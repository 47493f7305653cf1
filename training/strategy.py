"""Pick the ``tf.distribute`` strategy, the mixed-precision policy, and shape datasets for it.

One function, :func:`get_strategy`, chooses: a TPU (``TPUClusterResolver``) when asked for or found,
``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` is set, ``MirroredStrategy`` for several GPUs, the
default strategy otherwise. Datasets are built inside its scope with *global* batch sizes
(:func:`global_batch_size`), each worker reading its own shard (:func:`shard_for_worker`,
:func:`distribute_options`) and, on a TPU, with fully static shapes (:func:`static_shapes`).

Example:
    >>> strategy = get_strategy()
    >>> strategy.num_replicas_in_sync >= 1
    True
    >>> global_batch_size(8, strategy) == 8 * strategy.num_replicas_in_sync
    True

Follows the TensorFlow distributed-training guide (``tf.distribute``) and the Keras mixed-precision guide.
"""

from __future__ import annotations

import json
import logging
import os

import tensorflow as tf

from audiogen_tf.errors import ConfigError

log = logging.getLogger(__name__)

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def _tf_config() -> dict | None:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return None
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ConfigError(f"TF_CONFIG is not valid JSON: {err}") from err
    return config if config.get("cluster") else None


def get_strategy(tpu: str | bool | None = None) -> tf.distribute.Strategy:
    """The distribution strategy for this machine (or cluster).

    Args:
        tpu: ``None``: use a TPU only when one is found (Cloud TPU VM / ``TPU_NAME``); a name or ``grpc://``
            address (or ``True`` / ``"local"`` for the local TPU): a TPU is required; ``False``: never a TPU.

    Returns:
        ``TPUStrategy``, ``MultiWorkerMirroredStrategy`` (``TF_CONFIG`` set), ``MirroredStrategy`` (> 1 GPU),
        or the default strategy.

    Example:
        >>> get_strategy(tpu=False).num_replicas_in_sync
        1
    """
    if tpu is not False:
        resolver = None
        name = "" if tpu in (None, True, "local") else str(tpu)
        if tpu in (True, "local"):
            name = "local"
        try:
            if tpu is not None or os.environ.get("TPU_NAME") or os.path.exists("/dev/accel0"):
                resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=name or None)
        except (ValueError, RuntimeError) as err:
            if tpu is not None:
                raise ConfigError(f"no TPU found for tpu={tpu!r}: {err}") from err
        if resolver is not None:
            if name != "local":
                tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
            log.info("TPU strategy on %s", resolver.master())
            return tf.distribute.TPUStrategy(resolver)
    if _tf_config() is not None:
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_tpu(strategy: tf.distribute.Strategy | None = None) -> bool:
    """True for a ``TPUStrategy``."""
    strategy = strategy or tf.distribute.get_strategy()
    return isinstance(strategy, (tf.distribute.TPUStrategy, tf.distribute.experimental.TPUStrategy))


def set_precision(precision: str = "float32", strategy: tf.distribute.Strategy | None = None) -> str:
    """Set the global Keras dtype policy; returns the policy name in effect.

    Args:
        precision: ``"float32"``, ``"mixed_float16"`` (GPU) or ``"mixed_bfloat16"``; on a TPU
            ``"mixed_float16"`` is turned into ``"mixed_bfloat16"`` (TPUs compute in bfloat16).
        strategy: used to detect a TPU (default: the current strategy).

    Example:
        >>> set_precision("float32")
        'float32'
    """
    import keras

    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "mixed_float16" and strategy is not None and is_tpu(strategy):
        precision = "mixed_bfloat16"
    keras.mixed_precision.set_global_policy(precision)
    return precision


def num_workers(strategy: tf.distribute.Strategy | None = None) -> int:
    """Worker processes taking part (1 unless ``MultiWorkerMirroredStrategy`` / a TPU pod)."""
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or isinstance(strategy, tf.distribute.TPUStrategy):
        return 1
    spec = resolver.cluster_spec().as_dict()
    return max(1, len(spec.get("worker", [])) + len(spec.get("chief", [])))


def worker_index(strategy: tf.distribute.Strategy | None = None) -> int:
    """This worker's index (0 = the chief, which writes checkpoints and logs)."""
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or isinstance(strategy, tf.distribute.TPUStrategy):
        return 0
    task_type, task_id = resolver.task_type, resolver.task_id
    spec = resolver.cluster_spec().as_dict()
    if task_type == "worker" and "chief" in spec:
        return int(task_id) + 1
    return int(task_id or 0)


def is_chief(strategy: tf.distribute.Strategy | None = None) -> bool:
    """True on the worker that writes checkpoints, logs and progress bars."""
    return worker_index(strategy) == 0


def global_batch_size(per_replica: int, strategy: tf.distribute.Strategy | None = None) -> int:
    """Global batch size of ``per_replica`` examples on every replica in sync."""
    strategy = strategy or tf.distribute.get_strategy()
    return int(per_replica) * int(strategy.num_replicas_in_sync)


def per_worker_batch_size(global_batch: int, strategy: tf.distribute.Strategy | None = None) -> int:
    """This worker's share of a global batch; a ``ConfigError`` unless it divides evenly among replicas."""
    strategy = strategy or tf.distribute.get_strategy()
    replicas = int(strategy.num_replicas_in_sync)
    if int(global_batch) % replicas:
        raise ConfigError(f"batch_size {global_batch} is not divisible by the {replicas} replicas in sync")
    return int(global_batch) // num_workers(strategy)


def distribute_options(policy: str = "data") -> tf.data.Options:
    """``tf.data.Options`` with the auto-shard policy ``"data"``, ``"file"``, ``"auto"`` or ``"off"``.

    Use ``"off"`` when the dataset is already sharded per worker (:func:`shard_for_worker`).
    """
    policies = {
        "data": tf.data.experimental.AutoShardPolicy.DATA,
        "file": tf.data.experimental.AutoShardPolicy.FILE,
        "auto": tf.data.experimental.AutoShardPolicy.AUTO,
        "off": tf.data.experimental.AutoShardPolicy.OFF,
    }
    if policy not in policies:
        raise ConfigError(f"auto-shard policy must be one of {sorted(policies)}, got {policy!r}")
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = policies[policy]
    return options


def shard_for_worker(dataset: tf.data.Dataset, strategy: tf.distribute.Strategy | None = None) -> tf.data.Dataset:
    """This worker's shard of an *unbatched* dataset (every ``num_workers``-th element), auto-sharding off."""
    strategy = strategy or tf.distribute.get_strategy()
    n = num_workers(strategy)
    if n > 1:
        dataset = dataset.shard(n, worker_index(strategy))
    return dataset.with_options(distribute_options("off"))


def static_shapes(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Check that every component of ``dataset.element_spec`` has a fully defined shape (TPU); returns it.

    Raises:
        ConfigError: naming the components with unknown dimensions (batch with ``drop_remainder=True`` and
            crop/pad to fixed lengths first).
    """
    bad = []

    def visit(spec, path):
        if isinstance(spec, dict):
            for k, v in spec.items():
                visit(v, f"{path}.{k}" if path else str(k))
        elif isinstance(spec, (tuple, list)):
            for i, v in enumerate(spec):
                visit(v, f"{path}[{i}]")
        elif hasattr(spec, "shape") and not spec.shape.is_fully_defined():
            bad.append(f"{path or 'element'} {spec.shape}")

    visit(dataset.element_spec, "")
    if bad:
        raise ConfigError("a TPU needs static shapes; these are not fully defined: " + ", ".join(bad))
    return dataset


def fully_defined(dataset: tf.data.Dataset) -> bool:
    """True when every component of ``dataset.element_spec`` has a fully defined shape."""
    try:
        static_shapes(dataset)
    except ConfigError:
        return False
    return True


def distribute(strategy: tf.distribute.Strategy, dataset_fn, global_batch: int):
    """A dataset for ``fit`` under ``strategy``, each input pipeline reading its own shard.

    Args:
        strategy: from :func:`get_strategy`.
        dataset_fn: ``dataset_fn(batch_size, num_shards, shard_index) -> tf.data.Dataset`` of batches of
            ``batch_size`` (the per-replica size under a multi-replica strategy).
        global_batch: examples per training step over all replicas.

    Returns:
        ``dataset_fn(global_batch, 1, 0)`` on one replica, else a ``tf.distribute.DistributedDataset`` from
        ``strategy.distribute_datasets_from_function`` (pipeline ``i`` of ``n`` reads shard ``i``).

    Example:
        >>> ds = distribute(tf.distribute.get_strategy(),
        ...                 lambda b, n, i: tf.data.Dataset.range(8).shard(n, i).batch(b, drop_remainder=True), 4)
        >>> [x.numpy().tolist() for x in ds]
        [[0, 1, 2, 3], [4, 5, 6, 7]]
    """
    replicas = int(strategy.num_replicas_in_sync)
    if int(global_batch) % replicas:
        raise ConfigError(f"batch_size {global_batch} is not divisible by the {replicas} replicas in sync")
    if replicas == 1 and num_workers(strategy) == 1:
        return dataset_fn(int(global_batch), 1, 0)

    def per_pipeline(ctx: tf.distribute.InputContext):
        batch = ctx.get_per_replica_batch_size(int(global_batch))
        ds = dataset_fn(batch, ctx.num_input_pipelines, ctx.input_pipeline_id)
        return ds.with_options(distribute_options("off"))

    return strategy.distribute_datasets_from_function(per_pipeline)


def prepare_model(model, strategy: tf.distribute.Strategy | None = None):
    """Make a compiled Keras model ``fit`` under ``MultiWorkerMirroredStrategy``; returns ``model``.

    Keras 3.x builds a model before ``fit`` by averaging the first batch over replicas with
    ``strategy.reduce(MEAN, batch)``, which fails for a nested batch under ``MultiWorkerMirroredStrategy``.
    The batch is only needed for its shapes, so on several workers this takes the local replica's share
    instead. A no-op otherwise.
    """
    import types

    strategy = strategy or tf.distribute.get_strategy()
    if num_workers(strategy) <= 1 or not hasattr(model, "_symbolic_build"):
        return model

    def local(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, it in iterator:
                data_batch = tf.nest.map_structure(local, next(it))
                break
        with strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    model._maybe_symbolic_build = types.MethodType(_maybe_symbolic_build, model)
    _patch_multiworker_log_reduction()
    return model


def _patch_multiworker_log_reduction():
    """Keras 3.x reduces ``fit``'s scalar logs across workers with ``reduce(MEAN, v, axis=0)``, which fails on a
    scalar; average the replicas' values (``axis=None``) instead. Only multi-worker collectives are affected."""
    try:
        from keras.src.backend.tensorflow import trainer as tf_trainer
    except ImportError:  # another Keras layout: nothing to patch
        return
    original = tf_trainer.reduce_per_replica
    if getattr(original, "_audiogen_patched", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and num_workers(strategy) > 1 and not is_tpu(strategy):

            def mean(v):
                if isinstance(v, tf.distribute.DistributedValues) or tf.is_tensor(v):
                    return strategy.reduce("MEAN", v, axis=None)
                return v

            return tf.nest.map_structure(mean, values)
        return original(values, strategy, reduction)

    reduce_per_replica._audiogen_patched = True
    tf_trainer.reduce_per_replica = reduce_per_replica
