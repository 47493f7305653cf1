"""GANTrainer with tiny toy generators/discriminators that follow docs/contracts.md, on speech-like audio made by
the tests (tests/speech_fixture.py: no Debian sound files)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf

from audiogen_tf import losses as L
from audiogen_tf.features import MelConfig
from speech_fixture import speech_like
from training.gan_trainer import GANTrainer

SR, HOP, NMELS, SEG = 16000, 128, 40, 4096
MEL = MelConfig(sample_rate=SR, n_fft=512, hop_length=HOP, win_length=512, n_mels=NMELS, fmax=8000.0)


# ---------------------------------------------------------------------------------------------
# toy models following the contracts (also used by tests/test_callbacks.py)


def toy_generator(seed=0):
    """mel (B, frames, n_mels) -> audio (B, frames * HOP, 1)."""
    keras.utils.set_random_seed(seed)
    mel = keras.Input((None, NMELS))
    x = keras.layers.Conv1D(64, 3, padding="same", activation="leaky_relu")(mel)
    x = keras.layers.Conv1D(
        HOP, 3, padding="same", activation="tanh", kernel_initializer=keras.initializers.RandomNormal(stddev=0.01)
    )(x)
    return keras.Model(mel, keras.layers.Reshape((-1, 1))(x))


def toy_discriminator(seed=1):
    """audio (B, T, 1) -> two sub-discriminators, each [fmap_1, fmap_2, score]."""
    keras.utils.set_random_seed(seed)
    audio = keras.Input((None, 1))
    outs = []
    for pool in (1, 2):
        x = audio if pool == 1 else keras.layers.AveragePooling1D(pool, padding="same")(audio)
        f1 = keras.layers.Conv1D(8, 15, strides=4, padding="same", activation="leaky_relu")(x)
        f2 = keras.layers.Conv1D(16, 9, strides=4, padding="same", activation="leaky_relu")(f1)
        outs.append([f1, f2, keras.layers.Conv1D(1, 3, padding="same")(f2)])
    return keras.Model(audio, outs)


def toy_noise_generator(latent_dim=16, length=SEG, seed=0):
    """noise (B, latent_dim) -> audio (B, length, 1)."""
    keras.utils.set_random_seed(seed)
    z = keras.Input((latent_dim,))
    x = keras.layers.Dense((length // 64) * 16, activation="relu")(z)
    x = keras.layers.Reshape((length // 64, 16))(x)
    x = keras.layers.Conv1DTranspose(8, 16, strides=8, padding="same", activation="relu")(x)
    x = keras.layers.Conv1DTranspose(1, 16, strides=8, padding="same", activation="tanh")(x)
    return keras.Model(z, x)


def toy_critic(seed=1):
    """audio (B, T, 1) -> [[fmap, score (B, 1)]] (one sub-discriminator)."""
    keras.utils.set_random_seed(seed)
    audio = keras.Input((None, 1))
    f1 = keras.layers.Conv1D(8, 25, strides=4, padding="same", activation="leaky_relu")(audio)
    f2 = keras.layers.Conv1D(16, 25, strides=4, padding="same", activation="leaky_relu")(f1)
    score = keras.layers.Dense(1)(keras.layers.GlobalAveragePooling1D()(f2))
    return keras.Model(audio, [[f1, f2, score]])


def speech_segments(batch=4, seg=SEG, offset=0):
    """(batch, seg) float32 segments of a speech-like signal at 16 kHz."""
    x = speech_like(SR, seconds=3.0)
    x = 0.9 * x / max(1e-6, float(np.abs(x).max()))
    start = int(np.argmax(np.abs(x) > 0.05)) + offset
    segs = [x[start + i * seg // 2 : start + i * seg // 2 + seg] for i in range(batch)]
    return np.stack(segs).astype(np.float32)


def vocoder_batch(batch=4, offset=0):
    audio = speech_segments(batch, offset=offset)
    mel = MEL.log_mel(audio).numpy()[:, : SEG // HOP]  # frame i covers samples [i*hop, (i+1)*hop)
    return {"audio": audio, "mel": mel.astype(np.float32)}


def adam(lr):
    return keras.optimizers.Adam(lr, beta_1=0.8, beta_2=0.99)


def vocoder_trainer(seed=0, **compile_kwargs):
    trainer = GANTrainer(toy_generator(seed), [toy_discriminator(seed + 1)], mode="vocoder", mel_config=MEL, seed=seed)
    kwargs = dict(g_optimizer=adam(3e-3), d_optimizer=adam(2e-4))
    kwargs.update(compile_kwargs)
    trainer.compile(**kwargs)
    return trainer


def weights(model):
    return [np.array(w) for w in model.weights]


def same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def batch():
    return vocoder_batch()


# ---------------------------------------------------------------------------------------------


def test_vocoder_fit_lowers_mel_and_stft_losses(batch):
    trainer = vocoder_trainer(losses={"adversarial": 1.0, "feature_matching": 2.0, "mel": 45.0, "stft": 1.0})
    ds = tf.data.Dataset.from_tensors(batch).repeat(20)
    before = trainer.evaluate(ds.take(1), verbose=0, return_dict=True)
    history = trainer.fit(ds, epochs=1, verbose=0).history
    after = trainer.evaluate(ds.take(1), verbose=0, return_dict=True)
    assert after["mel_loss"] < 0.92 * before["mel_loss"], (before, after)
    assert after["stft_loss"] < 0.85 * before["stft_loss"], (before, after)
    assert int(trainer.g_optimizer.iterations.numpy()) == 20 and int(trainer.d_optimizer.iterations.numpy()) == 20
    for key in ("g_loss", "d_loss", "adv_loss", "fm_loss", "mel_loss", "stft_loss"):
        assert np.isfinite(history[key][-1]) and history[key][-1] > 0, key
    assert history["skipped_steps"][-1] == 0


def test_nan_batch_is_skipped_for_both_players(batch):
    trainer = vocoder_trainer()
    bad = {k: v.copy() for k, v in batch.items()}
    bad["audio"][1, 100] = np.nan
    bad["mel"][1, 3, 5] = np.nan
    g0, d0 = weights(trainer.generator), weights(trainer.discriminators[0])
    history = trainer.fit(tf.data.Dataset.from_tensors(bad), epochs=1, verbose=0).history
    assert same(g0, weights(trainer.generator)) and same(d0, weights(trainer.discriminators[0]))
    assert history["skipped_steps"][-1] == 1 and int(trainer.skipped_steps_total.numpy()) == 1
    assert int(trainer.g_optimizer.iterations.numpy()) == 0 and int(trainer.d_optimizer.iterations.numpy()) == 0
    assert not bool(trainer.last_step_finite.numpy())
    # a finite batch afterwards trains both, and the skipped NaN never reaches the running means
    history = trainer.fit(tf.data.Dataset.from_tensors(bad).concatenate(tf.data.Dataset.from_tensors(batch)),
                          epochs=1, verbose=0).history
    assert not same(g0, weights(trainer.generator)) and not same(d0, weights(trainer.discriminators[0]))
    assert np.isfinite(history["g_loss"][-1]) and np.isfinite(history["d_loss"][-1])
    assert history["skipped_steps"][-1] == 1 and int(trainer.skipped_steps_total.numpy()) == 2


def test_generator_warmup_then_discriminators_join(batch):
    trainer = vocoder_trainer(generator_warmup_steps=2)
    d0 = weights(trainer.discriminators[0])
    ds = tf.data.Dataset.from_tensors(batch).repeat(2)
    history = trainer.fit(ds, epochs=1, verbose=0).history
    assert same(d0, weights(trainer.discriminators[0]))
    assert int(trainer.d_optimizer.iterations.numpy()) == 0 and int(trainer.g_optimizer.iterations.numpy()) == 2
    assert history["adv_loss"][-1] == 0 and history["mel_loss"][-1] > 0
    trainer.fit(ds.take(1), epochs=1, verbose=0)
    assert not same(d0, weights(trainer.discriminators[0]))
    assert int(trainer.d_optimizer.iterations.numpy()) == 1 and int(trainer.g_optimizer.iterations.numpy()) == 3


def test_lr_schedule_and_explicit_clipping(batch):
    steps_per_epoch = 2
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=steps_per_epoch, decay_rate=0.999)
    trainer = vocoder_trainer(
        g_optimizer=keras.optimizers.SGD(schedule), d_optimizer=keras.optimizers.SGD(0.1),
        g_clipnorm=1e-3, d_clipnorm=1e-3,
    )
    g0, d0 = weights(trainer.generator), weights(trainer.discriminators[0])
    trainer.fit(tf.data.Dataset.from_tensors(batch).repeat(4), epochs=1, verbose=0)
    # HiFi-GAN style decay of 0.999 per epoch: lr = 0.1 * 0.999 ** (steps / steps_per_epoch)
    assert float(trainer.g_optimizer.learning_rate) == pytest.approx(0.1 * 0.999**2, rel=1e-6)
    for before, model in ((g0, trainer.generator), (d0, trainer.discriminators[0])):
        delta = np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(before, weights(model))))
        assert 0 < delta <= 4 * 0.1 * 1e-3 * (1 + 1e-4)  # 4 SGD steps of norm <= lr * clipnorm


class _ToyMultiband(keras.Model):
    """A functional generator that supplies its own sub-band STFT term, as Multi-band MelGAN's does."""

    SUPPLIED_LOSSES = ("subband_stft",)

    def supplied_losses(self, mel, audio, names, options=None, training=True):
        sub = self.subband_generator(mel, training=training)
        real_sub = self.pqmf.analysis(audio)[:, : sub.shape[1]]
        sc, mag = L.multi_resolution_stft_loss(real_sub, sub, L.MB_MELGAN_SUBBAND_STFT_RESOLUTIONS)
        return self.pqmf.synthesis(sub), {"subband_stft": sc + mag}


class _Polyphase(keras.layers.Layer):
    """Stand-in PQMF: perfect-reconstruction polyphase split into 4 bands."""

    def analysis(self, audio):
        return tf.reshape(audio, (tf.shape(audio)[0], -1, 4))

    def synthesis(self, bands):
        return tf.reshape(bands, (tf.shape(bands)[0], -1, 1))


def toy_multiband_generator(seed=0):
    keras.utils.set_random_seed(seed)
    mel = keras.Input((None, NMELS))
    x = keras.layers.Conv1D(32, 3, padding="same", activation="leaky_relu")(mel)
    x = keras.layers.Conv1D(HOP, 3, padding="same", activation="tanh",
                            kernel_initializer=keras.initializers.RandomNormal(stddev=0.01))(x)
    sub = keras.layers.Reshape((-1, 4))(x)  # (B, T / 4, 4)
    subband_generator = keras.Model(mel, sub)
    pqmf = _Polyphase()
    full = _ToyMultiband(mel, keras.layers.Reshape((-1, 1))(sub), name="toy_multiband")
    full.subband_generator = subband_generator
    full.pqmf = pqmf
    return full


def test_multiband_subband_stft_and_hinge(batch):
    trainer = GANTrainer(toy_multiband_generator(), [toy_discriminator()], mode="vocoder", mel_config=MEL)
    trainer.compile(adam(3e-3), adam(2e-4), adversarial_loss="hinge",
                    losses={"adversarial": 2.5, "stft": 0.5, "subband_stft": 0.5})
    assert trainer.supplied_terms == ("subband_stft",)
    ds = tf.data.Dataset.from_tensors(batch).repeat(12)
    hist = trainer.fit(ds, epochs=1, verbose=0).history
    assert np.isfinite(hist["stft_loss"][-1]) and hist["stft_loss"][-1] > 0
    assert hist["mel_loss"][-1] == 0 and hist["fm_loss"][-1] == 0 and hist["subband_stft_loss"][-1] > 0
    before = vocoder_trainer()  # an untrained toy of the same shape as the reference point
    e0 = before.evaluate(ds.take(1), verbose=0, return_dict=True)
    e1 = trainer.evaluate(ds.take(1), verbose=0, return_dict=True)
    assert e1["stft_loss"] < e0["stft_loss"]


def test_unconditional_wgan_gp_critic_learns(batch):
    real = {"audio": speech_segments(8)}
    trainer = GANTrainer(toy_noise_generator(), [toy_critic()], mode="unconditional", latent_dim=16, seed=0)
    trainer.compile(keras.optimizers.Adam(1e-4, 0.5, 0.9), keras.optimizers.Adam(3e-3, 0.5, 0.9),
                    adversarial_loss="wgan-gp", losses={"adversarial": 1.0, "gradient_penalty": 10.0}, n_critic=5)
    ds = tf.data.Dataset.from_tensors(real).repeat(30)
    before = trainer.evaluate(ds.take(2), verbose=0, return_dict=True)
    first = trainer.fit(ds.take(10), epochs=1, verbose=0).history
    hist = trainer.fit(ds.take(20), epochs=1, verbose=0).history
    after = trainer.evaluate(ds.take(2), verbose=0, return_dict=True)
    # 5 critic updates per generator update
    assert int(trainer.d_optimizer.iterations.numpy()) == 30 and int(trainer.g_optimizer.iterations.numpy()) == 6
    # the critic separates real speech from the generator's output: the Wasserstein estimate grows
    assert after["wasserstein"] > before["wasserstein"] + 0.1, (before, after)
    # the untrained critic is flat (gradient norm ~0, penalty ~1); the penalty pulls its gradient norm towards 1
    assert first["gp"][-1] > 0.5 and 0 <= hist["gp"][-1] < 0.5 * first["gp"][-1], (first["gp"], hist["gp"])
    assert hist["wasserstein"][-1] > first["wasserstein"][-1] and hist["skipped_steps"][-1] == 0
    assert "mel_loss" not in after


def test_conditional_wavegan_feeds_labels_to_both_players():
    keras.utils.set_random_seed(3)
    z, label = keras.Input((16,)), keras.Input((), dtype="int32")
    h = keras.layers.Concatenate()([z, keras.layers.Flatten()(keras.layers.Embedding(3, 4)(label))])
    h = keras.layers.Reshape((64, 1))(keras.layers.Dense(64)(h))
    gen = keras.Model([z, label], keras.layers.Conv1DTranspose(1, 16, strides=16, padding="same", activation="tanh")(h))
    audio, d_label = keras.Input((None, 1)), keras.Input((), dtype="int32")
    f = keras.layers.Conv1D(8, 25, strides=16, padding="same", activation="leaky_relu")(audio)
    pooled = keras.layers.GlobalAveragePooling1D()(f)
    proj = keras.layers.Flatten()(keras.layers.Embedding(3, 8)(d_label))  # projection discriminator
    score = keras.layers.Add()([keras.layers.Dense(1)(pooled), keras.layers.Dot(axes=1)([pooled, proj])])
    disc = keras.Model([audio, d_label], [[f, score]])
    trainer = GANTrainer(gen, [disc], mode="unconditional", latent_dim=16, seed=0)
    assert trainer.conditional
    trainer.compile(adam(1e-3), adam(1e-3), adversarial_loss="lsgan", losses={"adversarial": 1.0})
    embeddings = [l for m in (gen, disc) for l in m.layers if isinstance(l, keras.layers.Embedding)]
    e0 = [l.embeddings.numpy().copy() for l in embeddings]
    data = {"audio": speech_segments(4, seg=1024), "label": np.array([0, 1, 2, 1], np.int32)}
    hist = trainer.fit(tf.data.Dataset.from_tensors(data).repeat(3), epochs=1, verbose=0).history
    assert np.isfinite(hist["g_loss"][-1]) and np.isfinite(hist["d_loss"][-1])
    assert int(trainer.g_optimizer.iterations.numpy()) == 3
    # the label embeddings of both players received gradients
    assert len(embeddings) == 2
    assert all(not np.array_equal(a, l.embeddings.numpy()) for a, l in zip(e0, embeddings))
    assert "fm_loss" not in hist and "mel_loss" not in hist


def test_losses_are_one_mapping_and_old_keywords_migrate():
    from audiogen_tf.errors import ConfigError
    from training.gan_trainer import migrate_loss_keys

    trainer = GANTrainer(toy_generator(), [toy_discriminator()], mode="vocoder", mel_config=MEL)
    with pytest.raises(ConfigError, match="unknown loss 'mell'"):
        trainer.compile(adam(1e-3), adam(1e-3), losses={"mell": 45.0})
    with pytest.raises(ConfigError, match="weight must be >= 0"):
        trainer.compile(adam(1e-3), adam(1e-3), losses={"mel": -1.0})
    noise = GANTrainer(toy_noise_generator(), [toy_critic()], mode="unconditional", latent_dim=16)
    with pytest.raises(ConfigError, match="only a vocoder"):
        noise.compile(adam(1e-3), adam(1e-3), losses={"adversarial": 1.0, "mel": 45.0})
    assert migrate_loss_keys({"adversarial_weight": 2.5, "stft_loss_weight": 0.5, "subband_stft_loss_weight": 0.5,
                              "feature_matching_include_score": True}) == {
        "losses": {"adversarial": 2.5, "feature_matching": 2.0, "mel": 45.0, "stft": 0.5, "subband_stft": 0.5},
        "loss_options": {"feature_matching_include_score": True}}
    assert migrate_loss_keys({"adversarial_loss": "wgan-gp", "gp_weight": 5.0}, "unconditional") == {
        "adversarial_loss": "wgan-gp", "losses": {"adversarial": 1.0, "gradient_penalty": 5.0}}
