"""Strategy selection, precision policy, global batch and sharding helpers, TPU static shapes of a recipe's data."""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf

from audiogen_tf.errors import ConfigError
from training import strategy as S


def test_default_strategy_without_tf_config_or_devices(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.delenv("TPU_NAME", raising=False)
    st = S.get_strategy(tpu=False)
    assert st is tf.distribute.get_strategy() and st.num_replicas_in_sync == 1
    assert S.num_workers(st) == 1 and S.worker_index(st) == 0 and S.is_chief(st)
    assert S.global_batch_size(8, st) == 8 and S.per_worker_batch_size(8, st) == 8


def test_tf_config_is_read(monkeypatch):
    cfg = {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 1}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(cfg))
    assert S._tf_config()["task"]["index"] == 1
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ConfigError, match="TF_CONFIG"):
        S._tf_config()
    monkeypatch.setenv("TF_CONFIG", "")
    assert S._tf_config() is None


def test_set_precision_switches_the_keras_policy():
    try:
        assert S.set_precision("mixed_bfloat16") == "mixed_bfloat16"
        layer = keras.layers.Dense(2)
        layer.build((None, 3))
        assert layer.compute_dtype == "bfloat16" and layer.variable_dtype == "float32"
        with pytest.raises(ConfigError, match="precision"):
            S.set_precision("float16")
    finally:
        S.set_precision("float32")
    assert keras.mixed_precision.global_policy().name == "float32"


def test_distribute_shards_and_batches():
    def fn(batch, n, i):
        return tf.data.Dataset.range(12).shard(n, i).batch(batch, drop_remainder=True)

    ds = S.distribute(tf.distribute.get_strategy(), fn, 4)
    assert [b.numpy().tolist() for b in ds] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    # two pipelines of a 2-replica job each read every second element: together the same global batches
    parts = [list(fn(2, 2, i).as_numpy_iterator()) for i in range(2)]
    assert sorted(np.concatenate([parts[0][0], parts[1][0]]).tolist()) == [0, 1, 2, 3]
    opts = S.shard_for_worker(tf.data.Dataset.range(4)).options()
    assert opts.experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.OFF


def test_static_shapes_detects_unknown_dimensions():
    ragged = tf.data.Dataset.range(5).map(lambda i: {"audio": tf.zeros([i + 1])}).batch(2)
    assert not S.fully_defined(ragged)
    with pytest.raises(ConfigError, match="audio"):
        S.static_shapes(ragged)
    fixed = tf.data.Dataset.range(5).map(lambda i: {"audio": tf.zeros([3])}).batch(2, drop_remainder=True)
    assert S.static_shapes(fixed) is fixed


def test_recipe_dataset_is_fully_static_for_tpu(tmp_path):
    """TPU mode: the recipe's input pipeline has a fully defined element_spec (batch included)."""
    from test_fault_tolerance import write_tiny_corpus, write_tiny_recipe

    from training.recipes import load_recipe, recipe_from_dict
    from training.run import dataset_fn

    data = write_tiny_corpus(tmp_path / "data", n=2)
    recipe = load_recipe(write_tiny_recipe(tmp_path / "tiny.yaml"), check_models=False)
    ds = S.static_shapes(dataset_fn(recipe, data)(4, 1, 0))  # what build_dataset does under a TPUStrategy
    spec = ds.element_spec
    assert spec["audio"].shape == (4, 1024) and spec["mel"].shape == (4, 16, 16)
    batch = next(iter(ds))
    assert batch["audio"].shape == (4, 1024) and np.all(np.isfinite(batch["mel"].numpy()))
    wavenet = recipe_from_dict({"family": "wavenet", "model_preset": "wavenet_tiny", "sample_rate": 8000,
                                "segment_length": 512}, check_models=False)
    ids, targets = dataset_fn(wavenet, data)(2, 1, 0).element_spec
    assert ids.shape == (2, 512) and targets.shape == (2, 512)
