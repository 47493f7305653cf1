"""VectorQuantizer (van den Oord et al. 2017), VQ-VAE and its LSTM code prior: straight-through gradients,
commitment loss, EMA math on a toy case against NumPy, codebook initialisation from the first batch, dead-code
restarts (only for starved codes, only after the warm-up, not again during the grace period), perplexity, round
trips, fit, prior step == teacher-forced pass, and TFLite parity (codes exact, decode / prior step < 1e-4)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf

from audiogen_tf.layers.quantizers import VectorQuantizer, codebook_perplexity, codebook_usage
from model_harness import (
    check_build_and_shapes,
    check_config_round_trip,
    check_export_parity,
    check_fit_lowers_loss,
    check_keras_save_load,
)
from training.vae_trainer import VQVAETrainer
from zoo.vqvae import VQVAE, CodePrior, teacher_forcing_pair


def built_vq(codebook, steps=1, **kwargs):
    """A quantizer with the given codebook, past its data initialisation (``steps`` training steps done)."""
    codebook = np.asarray(codebook, np.float32)
    vq = VectorQuantizer(codebook.shape[0], codebook.shape[1], **kwargs)
    vq.build((None, codebook.shape[1]))
    vq.codebook.assign(codebook)
    vq.steps.assign(float(steps))
    return vq


def mel_batch(batch=4, frames=16, n_mels=16, seed=0):
    rng = np.random.default_rng(seed)
    x = np.full((batch, frames, n_mels), -9.0, np.float32)
    for i in range(batch):
        for h in range(1 + i % 3, n_mels, 3 + i % 2):
            x[i, :, h] = -2.0 + rng.normal(0, 0.3, frames)
    return x


# ------------------------------------------------------------------------------------------ quantizer
def test_nearest_code_and_straight_through_gradient():
    vq = built_vq([[0.0, 0.0], [1.0, 1.0], [-2.0, 3.0]])
    x = tf.constant([[[0.9, 1.2], [0.1, -0.2], [-1.5, 2.0]]])
    w = tf.constant(np.random.default_rng(0).normal(size=(1, 3, 2)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        q, codes = vq(x)
        y = tf.reduce_sum(w * q)
    np.testing.assert_array_equal(codes.numpy(), [[1, 0, 2]])
    np.testing.assert_allclose(q.numpy(), vq.codebook.numpy()[[1, 0, 2]][None], atol=1e-6)
    # straight-through: dL/dx = dL/dq
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), w.numpy(), atol=1e-6)


def test_commitment_loss_value():
    vq = built_vq([[0.0], [4.0]], commitment_cost=0.25, dead_code_threshold=0.0)
    x = np.array([[1.0], [3.0], [5.0]], np.float32)
    vq(x, training=True)
    # distances to the nearest code before the update: 1, 1, 1
    assert len(vq.losses) == 1
    assert float(vq.losses[0]) == pytest.approx(0.25 * 1.0)
    vq_grad = built_vq([[0.0], [4.0]], use_ema=False, dead_code_threshold=0.0)
    vq_grad(x, training=True)
    assert len(vq_grad.losses) == 2 and float(vq_grad.losses[1]) == pytest.approx(1.0)


def test_ema_update_matches_numpy():
    rng = np.random.default_rng(0)
    k, d, decay, eps = 3, 2, 0.9, 1e-3
    codebook = rng.normal(size=(k, d)).astype(np.float32)
    vq = built_vq(codebook, decay=decay, epsilon=eps, dead_code_threshold=0.0)
    count0 = np.array([2.0, 1.0, 0.5], np.float32)
    sum0 = codebook * count0[:, None]
    vq.ema_count.assign(count0)
    vq.ema_sum.assign(sum0)
    x = rng.normal(size=(10, d)).astype(np.float32)
    codes = np.argmin(((x[:, None] - codebook[None]) ** 2).sum(-1), axis=1)
    onehot = np.eye(k)[codes]
    count = decay * count0 + (1 - decay) * onehot.sum(0)
    total = decay * sum0 + (1 - decay) * onehot.T @ x
    n = count.sum()
    smoothed = (count + eps) / (n + k * eps) * n
    _, got_codes = vq(x, training=True)
    np.testing.assert_array_equal(got_codes.numpy(), codes)
    np.testing.assert_allclose(vq.ema_count.numpy(), count, rtol=1e-5)
    np.testing.assert_allclose(vq.ema_sum.numpy(), total, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(vq.codebook.numpy(), total / smoothed[:, None], rtol=1e-4, atol=1e-6)
    # inference does not touch the codebook
    before = vq.codebook.numpy().copy()
    vq(x, training=False)
    np.testing.assert_array_equal(vq.codebook.numpy(), before)


def test_dead_codes_restart_from_the_batch():
    codebook = np.array([[0.0, 0.0], [1.0, 0.0], [50.0, 50.0], [-50.0, 50.0]], np.float32)
    counts = np.array([5.0, 5.0, 0.45, 0.45], np.float32)  # mean ~2.7: codes 2, 3 are below 0.5 x mean
    vq = built_vq(codebook, steps=1000, decay=0.99, dead_code_threshold=0.5, seed=3)
    vq.ema_count.assign(counts)
    vq.ema_sum.assign(codebook * counts[:, None])
    x = np.random.default_rng(1).normal(0, 0.3, (32, 2)).astype(np.float32)
    vq(x, training=True)
    new, count = vq.codebook.numpy(), vq.ema_count.numpy()
    mean_count = 0.99 * counts.sum() / 4 + 0.01 * 32 / 4
    for k in (2, 3):  # restarted to a vector of the batch, with the mean count (a grace period)
        assert np.min(np.abs(x - new[k]).sum(-1)) < 1e-6, new[k]
        assert count[k] == pytest.approx(mean_count, rel=1e-4)
    assert np.all(count[:2] > 0.5)
    # live codes are not replaced by batch vectors
    assert min(np.min(np.abs(x - new[k]).sum(-1)) for k in (0, 1)) > 1e-6
    # the restarted codes are not restarted again on the next step (the old bug: every step)
    vq(x + 100.0, training=True)  # a batch far from everything: codes 2, 3 get no vectors
    np.testing.assert_allclose(vq.codebook.numpy()[2:], new[2:], atol=1e-4)


def test_no_restarts_before_warmup_and_data_init():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 5.0, (64, 3)).astype(np.float32)
    vq = VectorQuantizer(16, 3, decay=0.8, restart_warmup_steps=50, seed=0)
    vq.build((None, 3))
    vq(x, training=True)
    # first training batch: codes start as batch vectors (the encoder's scale) with count N / K, none is dead
    first = vq.codebook.numpy().copy()
    np.testing.assert_allclose(vq.ema_count.numpy().sum(), 64.0, rtol=1e-4)
    far = np.repeat(x[:1], 8, axis=0)  # every vector of these batches maps to one code
    used = int(np.asarray(vq.get_codes(far))[0])
    keep = [k for k in range(16) if k != used]
    for _ in range(25):
        vq(far, training=True)
    # during the warm-up the starved codes (count 4 * 0.8^25 = 0.015) keep their vectors: no restart churn
    count = vq.ema_count.numpy()
    assert count[keep].max() < 0.1 * count.mean()
    np.testing.assert_allclose(vq.codebook.numpy()[keep], first[keep], rtol=1e-2, atol=1e-3)
    # after the warm-up they are restarted from the batch
    vq.steps.assign(1000.0)
    vq(far, training=True)
    np.testing.assert_allclose(vq.codebook.numpy()[keep], np.repeat(x[:1], len(keep), 0), atol=1e-5)


def test_data_init_uses_batch_vectors():
    x = np.random.default_rng(0).normal(0, 7.0, (40, 4)).astype(np.float32)
    vq = VectorQuantizer(8, 4, seed=1)
    vq.build((None, 4))
    vq(x, training=False)  # inference never initialises
    assert vq.steps.numpy() == 0.0
    init = vq.codebook.numpy().copy()
    assert np.abs(init).max() < 1.0  # the random init is far from the data's scale (std 7)
    used_by_random_init = np.unique(np.asarray(vq.get_codes(x))).size
    _, codes = vq(x, training=True)
    # the codes of the first batch are computed against the data-initialised codebook
    assert np.unique(np.asarray(codes)).size > used_by_random_init
    assert np.unique(np.asarray(codes)).size >= 6
    assert vq.steps.numpy() == 1.0
    assert np.std(vq.codebook.numpy()) > 3.0  # at the data's scale
    np.testing.assert_allclose(vq.ema_count.numpy().sum(), 40.0, rtol=1e-4)


def test_perplexity_and_usage():
    k = 8
    uniform = np.tile(np.arange(k), 5)
    assert float(codebook_perplexity(uniform, k)) == pytest.approx(k, rel=1e-5)
    assert float(codebook_usage(uniform, k)) == pytest.approx(1.0)
    assert float(codebook_perplexity(np.zeros(40, np.int32), k)) == pytest.approx(1.0, rel=1e-5)
    half = np.tile(np.arange(k // 2), 3)
    assert float(codebook_perplexity(half, k)) == pytest.approx(k / 2, rel=1e-5)
    assert float(codebook_usage(half, k)) == pytest.approx(0.5)


# ------------------------------------------------------------------------------------------ VQ-VAE
@pytest.fixture(scope="module")
def tiny():
    return VQVAE.from_preset("vqvae_mel_tiny")


def test_vqvae_shapes_and_round_trips(tiny, tmp_path):
    x = mel_batch()
    check_build_and_shapes(tiny, x, {"reconstruction": (4, 16, 16), "codes": (4, 4)})
    check_config_round_trip(tiny, x)
    check_keras_save_load(tiny, x, tmp_path)
    np.testing.assert_array_equal(np.asarray(tiny.encode(x)), np.asarray(tiny(x)["codes"]))
    np.testing.assert_allclose(np.asarray(tiny.decode(tiny.encode(x))), np.asarray(tiny(x)["reconstruction"]),
                               atol=1e-5)
    wave = VQVAE.from_preset("vqvae_waveform_tiny")
    a = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 64, 1)).astype(np.float32)
    check_build_and_shapes(wave, a, {"reconstruction": (2, 64, 1), "codes": (2, 4)})


def test_vqvae_fit_lowers_loss_and_uses_codes():
    keras.utils.set_random_seed(0)
    # 8 steps only: a fast EMA (0.8) lets the data-initialised codebook follow the moving encoder
    model = VQVAE.from_preset("vqvae_mel_tiny", decay=0.8)
    trainer = VQVAETrainer(model)
    result = check_fit_lowers_loss(trainer, (mel_batch(8),), steps=8,
                                   compile_kwargs={"optimizer": keras.optimizers.Adam(3e-3)},
                                   loss_key="reconstruction_loss")
    logs = trainer.evaluate(mel_batch(8), verbose=0, return_dict=True)
    assert set(logs) >= {"loss", "reconstruction_loss", "vq_loss", "perplexity", "usage"}
    assert logs["perplexity"] > 2.0 and logs["usage"] > 0.2, logs
    print("VQ-VAE tiny reconstruction MSE:", result["history"], logs)


def test_vqvae_export_parity(tiny, tmp_path):
    x = mel_batch(1, frames=64)
    codes = np.asarray(tiny.encode(x))
    result = check_export_parity(tiny, {"encode": x, "decode": codes}, tmp_path, atol=1e-4)
    assert result["errors"]["encode"] == 0.0  # codes compared exactly
    print("VQ-VAE TFLite errors:", result["errors"])


# ------------------------------------------------------------------------------------------ prior
def test_prior_step_matches_teacher_forced_pass(tmp_path):
    prior = CodePrior.from_preset("prior_tiny", num_layers=2)
    codes = np.random.default_rng(0).integers(0, 16, (2, 6)).astype(np.int32)
    x, _ = teacher_forcing_pair(codes, 16)
    full = np.asarray(prior(x))
    states = prior.initial_state(2)
    for t in range(6):
        logits, states = prior.step(np.asarray(x)[:, t], states)
        np.testing.assert_allclose(np.asarray(logits), full[:, t], atol=1e-5)
    check_config_round_trip(prior, np.asarray(x))
    check_keras_save_load(prior, np.asarray(x), tmp_path)
    rng = np.random.default_rng(1)
    feed = [np.array([3], np.int32)] + [rng.normal(0, 0.5, (1, 16)).astype(np.float32) for _ in range(4)]
    result = check_export_parity(prior, feed, tmp_path, atol=1e-4)
    print("prior step TFLite max abs error:", result["max_abs_error"])


def test_prior_learns_codes_and_samples_deterministically():
    keras.utils.set_random_seed(0)
    prior = CodePrior.from_preset("prior_tiny")
    # a deterministic cycle 0, 1, ..., 7: the prior must learn it
    codes = np.tile(np.arange(8), (8, 2)).astype(np.int32)
    x, y = teacher_forcing_pair(codes, 16)
    check_fit_lowers_loss(prior, (np.asarray(x), np.asarray(y)), steps=5, compile_kwargs={
        "optimizer": keras.optimizers.Adam(3e-2),
        "loss": keras.losses.SparseCategoricalCrossentropy(from_logits=True)})
    nll = float(prior.negative_log_likelihood(codes))
    assert nll < np.log(16), nll
    a = np.asarray(prior.generate(10, batch_size=3, seed=7))
    b = np.asarray(prior.generate(10, batch_size=3, seed=7))
    assert a.shape == (3, 10) and a.dtype == np.int32 and a.min() >= 0 and a.max() < 16
    np.testing.assert_array_equal(a, b)
    cold = np.asarray(prior.generate(10, batch_size=2, temperature=1e-3, seed=1))
    np.testing.assert_array_equal(cold[0], cold[1])  # near-greedy sampling is the same for every row
    vqvae = VQVAE.from_preset("vqvae_mel_tiny")
    codes, mel = prior.sample(vqvae, 4, batch_size=2, seed=7)
    assert tuple(mel.shape) == (2, 16, 16)
    np.testing.assert_allclose(np.asarray(mel), np.asarray(vqvae.decode(codes)), atol=1e-6)
