"""Two worker processes on loopback with TF_CONFIG train like one process on the same global batch.

Run as a script (``python tests/test_multiworker.py --worker I --ports P0,P1 --out F``) it is one worker.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

GLOBAL_BATCH = 8
STEPS = 5


def _data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(GLOBAL_BATCH * STEPS, 8)).astype("float32")
    y = (np.sin(x @ rng.normal(size=(8, 1))) + 0.1 * x[:, :1]).astype("float32")
    return x, y


def train_tiny(out_path=None):
    """Train a tiny MLP for STEPS steps under ``get_strategy()``; returns (losses, weights)."""
    import keras
    import tensorflow as tf

    from training.strategy import distribute, get_strategy, is_chief, prepare_model

    strategy = get_strategy(tpu=False)
    with strategy.scope():
        init = keras.initializers.GlorotUniform
        model = keras.Sequential([
            keras.Input((8,)),
            keras.layers.Dense(16, activation="tanh", kernel_initializer=init(seed=1)),
            keras.layers.Dense(1, kernel_initializer=init(seed=2)),
        ])
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    prepare_model(model, strategy)
    x, y = _data()

    def dataset_fn(batch, num_shards, shard_index):
        ds = tf.data.Dataset.from_tensor_slices((x, y)).shard(num_shards, shard_index)
        return ds.batch(batch, drop_remainder=True).repeat()

    ds = distribute(strategy, dataset_fn, GLOBAL_BATCH)
    history = model.fit(ds, epochs=STEPS, steps_per_epoch=1, verbose=0)
    losses = np.asarray(history.history["loss"], np.float64)
    weights = [np.asarray(w) for w in model.get_weights()]
    if out_path:
        np.savez(out_path, losses=losses, chief=is_chief(strategy), replicas=strategy.num_replicas_in_sync,
                 **{f"w{i}": w for i, w in enumerate(weights)})
    return losses, weights


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def test_two_workers_match_single_process(tmp_path):
    ports = _free_ports(2)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", PYTHONHASHSEED="0")
    env.pop("TF_CONFIG", None)
    procs, outs = [], []
    try:
        for i in range(2):
            out = tmp_path / f"worker{i}.npz"
            outs.append(out)
            cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(i),
                   "--ports", ",".join(map(str, ports)), "--out", str(out)]
            procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        single_losses, single_weights = train_tiny()  # meanwhile, in this process with the default strategy
        deadline = time.monotonic() + 150
        logs = []
        for p in procs:
            try:
                logs.append(p.communicate(timeout=max(1.0, deadline - time.monotonic()))[0])
            except subprocess.TimeoutExpired:
                pytest.fail("a worker did not finish in time")
        for p, log in zip(procs, logs):
            assert p.returncode == 0, log[-3000:]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)

    results = [np.load(o) for o in outs]
    assert [bool(r["chief"]) for r in results] == [True, False]
    assert all(int(r["replicas"]) == 2 for r in results)
    n = len(single_weights)
    for i in range(n):  # both workers end with identical weights ...
        np.testing.assert_array_equal(results[0][f"w{i}"], results[1][f"w{i}"])
    for i in range(n):  # ... equal to one process on the same global batches
        np.testing.assert_allclose(results[0][f"w{i}"], single_weights[i], rtol=1e-5, atol=1e-6)
    for r in results:
        np.testing.assert_allclose(r["losses"], single_losses, rtol=1e-5, atol=1e-7)
    assert single_losses[-1] < single_losses[0]  # and it trained


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", type=int, required=True)
    parser.add_argument("--ports", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    workers = [f"127.0.0.1:{p}" for p in args.ports.split(",")]
    os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": args.worker}})
    import keras

    keras.config.disable_traceback_filtering()
    train_tiny(args.out)
