"""StepCheckpoint resumes training exactly; TensorBoardAudio writes scalars, audio and spectrogram pictures;
TimeBudget stops fit on time."""

import glob
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf

from test_gan_trainer import (  # toy models following docs/contracts.md
    MEL, SR, adam, speech_segments, toy_critic, toy_discriminator, toy_generator, toy_noise_generator, vocoder_batch,
    vocoder_trainer, weights,
)
from training.callbacks import GENERATOR_PARTS, StepCheckpoint, TensorBoardAudio, TimeBudget, restore_latest
from training.gan_trainer import GANTrainer


@pytest.fixture
def deterministic_ops():
    tf.config.experimental.enable_op_determinism()
    yield
    try:
        from tensorflow.python.framework import config as tf_config

        tf_config.disable_op_determinism()
    except (ImportError, AttributeError):
        pass


def _wgan_trainer(model_seed, noise_seed):
    trainer = GANTrainer(
        toy_noise_generator(seed=model_seed), [toy_critic(seed=model_seed + 1)], mode="unconditional",
        latent_dim=16, seed=noise_seed,
    )
    lr = keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=2, decay_rate=0.9)
    trainer.compile(keras.optimizers.Adam(lr, 0.5, 0.9), keras.optimizers.Adam(2e-3, 0.5, 0.9),
                    adversarial_loss="wgan-gp", n_critic=2)
    return trainer


def _six_batches():
    audio = np.stack([speech_segments(2, offset=500 * k) for k in range(6)])  # 6 distinct batches of 2
    return tf.data.Dataset.from_tensor_slices({"audio": audio})


def test_resume_is_exact(tmp_path, deterministic_ops):
    ds = _six_batches()
    straight = _wgan_trainer(model_seed=0, noise_seed=7)
    straight.fit(ds, epochs=1, verbose=0)

    first = _wgan_trainer(model_seed=0, noise_seed=7)
    ckpt = StepCheckpoint(tmp_path / "ckpt", every_n_steps=3, keep_last=3)
    first.fit(ds.take(3), epochs=1, verbose=0, callbacks=[ckpt])
    assert [os.path.basename(p) for p in ckpt.checkpoints] == ["ckpt-3"]

    resumed = _wgan_trainer(model_seed=10, noise_seed=99)  # different weights and noise state until restored
    assert not np.array_equal(weights(resumed.generator)[0], weights(first.generator)[0])
    assert StepCheckpoint(tmp_path / "ckpt").restore_latest(resumed) == 3
    assert int(resumed.g_optimizer.iterations.numpy()) == 1 and int(resumed.d_optimizer.iterations.numpy()) == 3
    resumed.fit(ds.skip(3), epochs=1, verbose=0)

    for a, b in ((straight.generator, resumed.generator), (straight.discriminators[0], resumed.discriminators[0])):
        for x, y in zip(weights(a), weights(b)):
            np.testing.assert_array_equal(x, y)
    for opt in ("g_optimizer", "d_optimizer"):
        for x, y in zip(getattr(straight, opt).variables, getattr(resumed, opt).variables):
            np.testing.assert_array_equal(np.array(x), np.array(y))
    assert int(resumed.train_step_counter.numpy()) == 6


def test_no_save_after_non_finite_step_and_keep_last(tmp_path):
    good = vocoder_batch(2)
    bad = {k: v.copy() for k, v in good.items()}
    bad["audio"][0, 0] = np.inf
    ds = tf.data.Dataset.from_tensors(good).repeat(3).concatenate(tf.data.Dataset.from_tensors(bad))
    trainer = vocoder_trainer()
    ckpt = StepCheckpoint(tmp_path / "ck", every_n_steps=1, keep_last=2)
    trainer.fit(ds, epochs=1, verbose=0, callbacks=[ckpt])
    assert [os.path.basename(p) for p in ckpt.checkpoints] == ["ckpt-2", "ckpt-3"]
    assert ckpt.skipped_saves == 1 and int(trainer.skipped_steps_total.numpy()) == 1
    assert not glob.glob(str(tmp_path / "ck" / "ckpt-4*"))
    fresh = vocoder_trainer(seed=5)
    assert restore_latest(fresh, tmp_path / "ck") == 3
    assert restore_latest(vocoder_trainer(), tmp_path / "empty") is None


def test_generator_parts_warm_start_a_new_discriminator(tmp_path):
    """A checkpoint saved without discriminators continues its generator under a new one (parts=GENERATOR_PARTS);
    the full restore refuses, because the new discriminator's variables have no saved values."""
    solo = GANTrainer(toy_generator(0), [], mode="vocoder", mel_config=MEL, seed=0)
    solo.compile(g_optimizer=adam(3e-3), d_optimizer=adam(2e-4))
    ckpt = StepCheckpoint(tmp_path / "ck", every_n_steps=2)
    solo.fit(tf.data.Dataset.from_tensors(vocoder_batch(2)).repeat(2), epochs=1, verbose=0, callbacks=[ckpt])

    def adversarial():
        trainer = GANTrainer(toy_generator(3), [toy_discriminator(4)], mode="vocoder", mel_config=MEL, seed=0)
        trainer.compile(g_optimizer=adam(3e-3), d_optimizer=adam(2e-4))
        return trainer

    with pytest.raises(AssertionError, match="not bound"):
        restore_latest(adversarial(), tmp_path / "ck")
    warm = adversarial()
    fresh_d = weights(warm.discriminators[0])
    assert restore_latest(warm, tmp_path / "ck", parts=GENERATOR_PARTS) == 2
    for x, y in zip(weights(solo.generator), weights(warm.generator)):
        np.testing.assert_array_equal(x, y)
    assert int(warm.g_optimizer.iterations.numpy()) == 2
    for x, y in zip(fresh_d, weights(warm.discriminators[0])):
        np.testing.assert_array_equal(x, y)
    warm.fit(tf.data.Dataset.from_tensors(vocoder_batch(2)), epochs=1, verbose=0)  # the optimizer moments fit
    with pytest.raises(ValueError, match="no checkpoint items"):
        restore_latest(warm, tmp_path / "ck", parts=["generator", "critic"])


def _read_events(log_dir):
    records = {}
    for path in glob.glob(os.path.join(log_dir, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                records.setdefault(value.tag, []).append((event.step, value))
    return records


def test_tensorboard_audio_writes_scalars_audio_and_spectrograms(tmp_path):
    batch = vocoder_batch(2)
    trainer = vocoder_trainer()
    examples = {"mel": batch["mel"], "audio": batch["audio"]}
    cb = TensorBoardAudio(tmp_path / "tb", examples, SR, every_n_epochs=2, mel_config=MEL)
    trainer.fit(tf.data.Dataset.from_tensors(batch), epochs=4, verbose=0, callbacks=[cb])
    records = _read_events(str(tmp_path / "tb"))

    steps = [s for s, _ in records["g_loss"]]
    assert steps == [1, 2, 3, 4]
    scalar = tf.make_ndarray(records["mel_loss"][0][1].tensor)
    assert np.isfinite(scalar) and scalar > 0

    generated = records["generated_audio"]
    assert [s for s, _ in generated] == [2, 4]  # every 2 epochs
    clips = tf.make_ndarray(generated[-1][1].tensor)
    assert clips.shape[0] == 2
    wav, rate = tf.audio.decode_wav(clips[0, 0])
    assert int(rate) == SR and wav.shape == (batch["audio"].shape[1], 1)
    expected = np.clip(trainer.generator(batch["mel"][:1]).numpy()[0], -1, 1)
    np.testing.assert_allclose(wav.numpy(), expected, atol=1.0 / 32767 + 1e-6)  # 16-bit PCM
    assert len(records["reference_audio"]) == 1

    pictures = records["spectrogram"]
    assert [s for s, _ in pictures] == [2, 4]
    fields = tf.make_ndarray(pictures[-1][1].tensor)
    image = tf.io.decode_png(fields[2]).numpy()
    assert image.shape == (int(fields[1]), int(fields[0]), 3) and image.std() > 0


def _tiny_fit(budget, steps=20):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((steps, 2), "float32")
    model.fit(x, x[:, :1], batch_size=1, epochs=1, verbose=0, callbacks=[budget])
    return budget


def test_time_budget_stops_fit_by_seconds_deadline_and_after_tracing():
    """A spent budget stops fit after the batch that spent it; the first batch can be left uncharged."""
    assert _tiny_fit(TimeBudget(seconds=0.0)).batches == 1
    assert _tiny_fit(TimeBudget(deadline=time.time() - 1)).batches == 1
    uncharged = _tiny_fit(TimeBudget(0.0, exclude_first_batch=True))
    assert uncharged.batches == 2 and uncharged.compile_seconds > 0
    assert _tiny_fit(TimeBudget(seconds=3600.0)).batches == 20
    with pytest.raises(ValueError, match="exactly one"):
        TimeBudget()
    with pytest.raises(ValueError, match="exactly one"):
        TimeBudget(1.0, deadline=time.time())
