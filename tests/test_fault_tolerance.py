"""Fault tolerance of `audiogen train`: SIGKILL + rerun equals an uninterrupted run, a corrupt latest checkpoint
falls back to the previous one with a warning, and a non-finite loss never writes a checkpoint."""

import os
import shutil
import signal
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import soundfile as sf

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS = 24

TINY_RECIPE = f"""
family: hifigan
sample_rate: 8000
batch_size: 2
segment_length: 1024
generator_preset: hifigan_tiny
generator_overrides: {{upsample_rates: [8, 8], upsample_kernel_sizes: [16, 16], upsample_initial_channel: 16,
                      resblock_kernel_sizes: [3], resblock_dilation_sizes: [[1, 2]]}}
discriminator_preset: hifigan_tiny
discriminator_overrides: {{periods: [2], num_scales: 1}}
mel: {{n_fft: 256, hop_length: 64, win_length: 256, n_mels: 16, fmax: 4000.0}}
learning_rate: 1.0e-3
beta_1: 0.8
beta_2: 0.99
steps: {STEPS}
steps_per_epoch: 4
checkpoint_every: 4
keep_last: 3
on_nonfinite: skip
seed: 0
deterministic: true
"""


def write_tiny_corpus(folder, n=4, sr=8000, seconds=0.5):
    """A few 16-bit tones with a little noise (decoded in-graph, deterministic)."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    t = np.arange(int(sr * seconds)) / sr
    for i in range(n):
        x = 0.3 * np.sin(2 * np.pi * (200 + 110 * i) * t) + 0.01 * rng.normal(size=t.size)
        sf.write(os.path.join(folder, f"tone{i}.wav"), x.astype(np.float32), sr, subtype="PCM_16")
    return str(folder)


def write_tiny_recipe(path, **changes):
    text = TINY_RECIPE
    for key, value in changes.items():
        text = "\n".join(f"{key}: {value}" if line.startswith(f"{key}:") else line for line in text.splitlines())
    with open(path, "w") as f:
        f.write(text)
    return str(path)


def _cli(args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", PYTHONHASHSEED="0")
    env.pop("TF_CONFIG", None)
    return [sys.executable, "-m", "audiogen_cli", *args], env


def _checkpoint_state(ckpt_dir):
    import tensorflow as tf

    state = tf.train.get_checkpoint_state(str(ckpt_dir))
    return list(state.all_model_checkpoint_paths) if state else []


def _variables(path):
    import tensorflow as tf

    reader = tf.train.load_checkpoint(path)
    names = [n for n, _ in tf.train.list_variables(path) if n != "_CHECKPOINTABLE_OBJECT_GRAPH"]
    return {n: reader.get_tensor(n) for n in names}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """An uninterrupted run and a run SIGKILLed after its first checkpoint, then rerun (the same command)."""
    root = tmp_path_factory.mktemp("ft")
    data = write_tiny_corpus(root / "data")
    recipe = write_tiny_recipe(root / "tiny.yaml")
    straight_cmd, env = _cli(["train", recipe, "--data", data, "--out", str(root / "straight"), "--quiet"])
    killed_cmd, _ = _cli(["train", recipe, "--data", data, "--out", str(root / "killed"), "--quiet"])
    procs = []
    try:
        straight = subprocess.Popen(straight_cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True)
        procs.append(straight)
        victim = subprocess.Popen(killed_cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(victim)
        limit = 600  # seconds per phase: generous, the machine may be shared; idle it is ~20 s
        deadline = time.monotonic() + limit
        index = root / "killed" / "ckpt" / "checkpoint"
        while not index.exists() and victim.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        killed_at = [int(p.rsplit("-", 1)[1]) for p in _checkpoint_state(root / "killed" / "ckpt")]
        out, _ = straight.communicate(timeout=limit)
        assert straight.returncode == 0, out[-3000:]
        rerun = subprocess.run(killed_cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=limit)
        assert rerun.returncode == 0, (rerun.stdout + rerun.stderr)[-3000:]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=30)
    return {"root": root, "victim_rc": victim.returncode, "killed_at": killed_at, "rerun": rerun.stdout,
            "data": data, "recipe": recipe}


def test_sigkill_then_rerun_equals_uninterrupted_run(runs):
    root = runs["root"]
    assert runs["victim_rc"] == -signal.SIGKILL
    assert runs["killed_at"] and max(runs["killed_at"]) < STEPS, "the victim must die mid-run, after a checkpoint"
    assert f"resuming at step {max(runs['killed_at'])}" in runs["rerun"]
    a = _checkpoint_state(root / "straight" / "ckpt")
    b = _checkpoint_state(root / "killed" / "ckpt")
    assert [os.path.basename(p) for p in a] == [f"ckpt-{s}" for s in (STEPS - 8, STEPS - 4, STEPS)]  # keep_last=3
    assert os.path.basename(b[-1]) == f"ckpt-{STEPS}"
    va, vb = _variables(a[-1]), _variables(b[-1])
    assert va.keys() == vb.keys()
    names = [n for n in va if not n.startswith("save_counter/")]  # how many saves each run made: not training state
    # G's and D's weights (saved once, under their optimizers), both optimizers' moments, step counter, noise
    for part in ("g_optimizer/_trainable_variables/", "g_optimizer/_variables/", "d_optimizer/_trainable_variables/",
                 "d_optimizer/_variables/", "train_step/", "seed_state/"):
        assert any(n.startswith(part) for n in names), part
    for name in names:  # weights, both optimizers' moments and iterations, step counter, noise state
        np.testing.assert_allclose(va[name], vb[name], rtol=0, atol=1e-6, err_msg=name)
    first = _variables(a[0])  # and it trained: the weights moved since an earlier checkpoint
    assert any(not np.array_equal(first[n], va[n]) for n in names if n.startswith("g_optimizer/_trainable"))
    assert os.path.exists(root / "killed" / "model.keras")


def test_corrupt_latest_checkpoint_falls_back_with_warning(runs, tmp_path):
    import keras

    from training.fault_tolerance import CheckpointFallbackWarning
    from training.run import build_models, build_trainer
    from training.recipes import load_recipe

    ckpt = tmp_path / "ckpt"
    shutil.copytree(runs["root"] / "straight" / "ckpt", ckpt)
    latest = _checkpoint_state(ckpt)[-1]
    data_file = latest + ".data-00000-of-00001"
    blob = bytearray(open(data_file, "rb").read())
    blob[len(blob) // 2: len(blob) // 2 + 64] = os.urandom(64)  # flipped bytes: the CRC no longer matches
    open(data_file, "wb").write(bytes(blob))

    recipe = load_recipe(runs["recipe"])
    keras.utils.set_random_seed(0)
    trainer = build_trainer(recipe, build_models(recipe))
    from training.fault_tolerance import restore_with_fallback

    with pytest.warns(CheckpointFallbackWarning, match=f"ckpt-{STEPS}.*falling back to ckpt-{STEPS - 4}"):
        step = restore_with_fallback(trainer, ckpt)
    assert step == STEPS - 4
    assert os.path.basename(_checkpoint_state(ckpt)[-1]) == f"ckpt-{STEPS - 4}"
    assert os.path.exists(ckpt / "corrupt" / os.path.basename(data_file))  # kept aside, not deleted
    good = _variables(os.path.join(runs["root"], "straight", "ckpt", f"ckpt-{STEPS - 4}"))
    for i, w in enumerate(trainer.generator.trainable_variables):
        np.testing.assert_array_equal(np.asarray(w), good[f"g_optimizer/_trainable_variables/{i}/.ATTRIBUTES/VARIABLE_VALUE"])


def test_nonfinite_loss_never_overwrites_a_good_checkpoint(tmp_path):
    import keras
    import tensorflow as tf

    from training.recipes import load_recipe
    from training.run import build_dataset, train

    data = write_tiny_corpus(tmp_path / "data", n=2)
    recipe_file = write_tiny_recipe(tmp_path / "tiny.yaml")
    results = {}
    for policy in ("stop", "skip"):
        recipe = load_recipe(recipe_file, [f"on_nonfinite={policy}", "steps=8", "checkpoint_every=2",
                                               "steps_per_epoch=4", "deterministic=false"])
        keras.utils.set_random_seed(0)
        clean = build_dataset(recipe, data).take(8)

        def poison(i, batch):  # batch 4 (training step 5) holds a NaN sample
            bad = tf.equal(i, 4)
            audio = tf.where(bad, tf.fill(tf.shape(batch["audio"]), np.float32("nan")), batch["audio"])
            return {"audio": audio, "mel": batch["mel"]}

        ds = clean.enumerate().map(poison)
        out = tmp_path / policy
        results[policy] = (train(recipe, out=out, dataset=ds, verbose=0), out)

    stopped, out = results["stop"]
    assert stopped.stopped_nonfinite == [5] and stopped.step == 5
    assert [os.path.basename(p) for p in _checkpoint_state(out / "ckpt")] == ["ckpt-2", "ckpt-4"]
    assert stopped.model_path is None
    for value in _variables(str(out / "ckpt" / "ckpt-4")).values():
        assert np.all(np.isfinite(value)) if value.dtype.kind == "f" else True

    skipped, out = results["skip"]
    assert skipped.stopped_nonfinite == [5] and skipped.step == 8
    assert [os.path.basename(p) for p in _checkpoint_state(out / "ckpt")] == ["ckpt-4", "ckpt-6", "ckpt-8"]
    for value in _variables(str(out / "ckpt" / "ckpt-8")).values():
        assert np.all(np.isfinite(value)) if value.dtype.kind == "f" else True


def _tiny_regressor(units=4):
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units, kernel_initializer=keras.initializers.Ones()),
                              keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-2), loss="mse")
    model.optimizer.build(model.trainable_variables)
    return model


def test_plain_model_checkpoints_truncated_index_and_mismatch(tmp_path):
    import keras

    from audiogen_tf.errors import ConfigError
    from training.fault_tolerance import CheckpointFallbackWarning, FaultTolerantCheckpoint, restore_with_fallback

    x = np.random.default_rng(0).normal(size=(12, 3)).astype("float32")
    model = _tiny_regressor()
    cb = FaultTolerantCheckpoint(tmp_path / "ckpt", every_n_steps=2, keep_last=2)
    model.fit(x, x[:, :1] * 2, batch_size=2, epochs=1, callbacks=[cb], verbose=0)
    assert [os.path.basename(p) for p in cb.checkpoints] == ["ckpt-4", "ckpt-6"]
    at_4 = _variables(str(tmp_path / "ckpt" / "ckpt-4"))

    with open(tmp_path / "ckpt" / "ckpt-6.index", "r+b") as f:  # a torn write of the newest index
        f.truncate(10)
    fresh = _tiny_regressor()
    with pytest.warns(CheckpointFallbackWarning, match="ckpt-6.*falling back to ckpt-4"):
        assert restore_with_fallback(fresh, tmp_path / "ckpt") == 4
    np.testing.assert_array_equal(fresh.optimizer.iterations.numpy(), 4)
    assert any(np.array_equal(np.asarray(fresh.weights[0]), v) for v in at_4.values())

    other = _tiny_regressor(units=5)  # a different model: an error, and nothing is moved aside
    with pytest.raises(ConfigError, match="does not match the model"):
        restore_with_fallback(other, tmp_path / "ckpt")
    assert os.path.basename(_checkpoint_state(tmp_path / "ckpt")[-1]) == "ckpt-4"

    nan = _tiny_regressor()
    nan.layers[0].kernel.assign(np.full((3, 4), np.nan, "float32"))
    assert FaultTolerantCheckpoint(tmp_path / "nan", every_n_steps=1).save(nan) is None  # never a NaN checkpoint
    assert not os.path.exists(tmp_path / "nan" / "checkpoint")
    keras.backend.clear_session()
