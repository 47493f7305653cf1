"""ConvVAE (Kingma & Welling 2014) and VAETrainer: shapes, round trips, reparameterization, KL and its warm-up,
class conditioning, sample / interpolate, a few fit steps and TFLite parity of the decoder."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest

from model_harness import (
    check_build_and_shapes,
    check_config_round_trip,
    check_export_parity,
    check_fit_lowers_loss,
    check_keras_save_load,
)
from training.vae_trainer import VAETrainer
from zoo.vae import ConvVAE, GaussianSampling, kl_divergence


def mel_batch(batch=4, frames=16, n_mels=16, seed=0):
    """Log-mel-like clips: a few harmonic ridges over a floor, in natural-log units."""
    rng = np.random.default_rng(seed)
    x = np.full((batch, frames, n_mels), -9.0, np.float32)
    for i in range(batch):
        f0 = rng.integers(1, 4)
        for h in range(f0, n_mels, f0 + 2):
            x[i, :, h] = -2.0 + rng.normal(0, 0.3, frames)
    return x


def test_shapes_and_round_trips(tmp_path):
    vae = ConvVAE.from_preset("vae_mel_tiny")
    x = mel_batch()
    check_build_and_shapes(vae, x, {"reconstruction": (4, 16, 16), "z_mean": (4, 4), "z_log_var": (4, 4)})
    check_config_round_trip(vae, x)
    check_keras_save_load(vae, x, tmp_path)
    wave = ConvVAE.from_preset("vae_waveform_tiny")
    a = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 256, 1)).astype(np.float32)
    out = check_build_and_shapes(wave, a, {"reconstruction": (2, 256, 1), "z_mean": (2, 4), "z_log_var": (2, 4)})
    assert np.max(np.abs(np.asarray(wave(a)["reconstruction"]))) <= 1.0  # tanh output
    check_keras_save_load(wave, a, tmp_path)
    assert out["params"] > 0


def test_conditional_vae_uses_the_label(tmp_path):
    vae = ConvVAE.from_preset("vae_mel_tiny", num_classes=3)
    x = mel_batch(2)
    labels = np.array([0, 2], np.int32)
    check_config_round_trip(vae, [x, labels])
    check_keras_save_load(vae, [x, labels], tmp_path)
    z = np.zeros((2, 4), np.float32)
    a, b = np.asarray(vae.decode(z, label=0)), np.asarray(vae.decode(z, label=2))
    assert np.max(np.abs(a - b)) > 1e-4, "the decoder ignores the class"
    with pytest.raises(ValueError, match="label"):
        vae.decode(z)


def test_reparameterization_statistics_and_kl():
    layer = GaussianSampling(seed=1)
    mean = np.full((4000, 2), 3.0, np.float32)
    log_var = np.full((4000, 2), np.log(4.0), np.float32)
    z = np.asarray(layer([mean, log_var], training=True))
    assert abs(z.mean() - 3.0) < 0.1 and abs(z.std() - 2.0) < 0.1
    np.testing.assert_array_equal(np.asarray(layer([mean, log_var], training=False)), mean)
    # closed form KL(N(m, s^2) || N(0, 1)) = 0.5 (s^2 + m^2 - 1 - log s^2), summed over dims
    m = np.array([[0.5, -1.0]], np.float32)
    lv = np.array([[0.2, -0.7]], np.float32)
    want = 0.5 * np.sum(np.exp(lv) + m**2 - 1.0 - lv)
    np.testing.assert_allclose(np.asarray(kl_divergence(m, lv)), [want], rtol=1e-5)


def test_kl_warmup_is_linear():
    trainer = VAETrainer(ConvVAE.from_preset("vae_mel_tiny"), beta=0.5, kl_warmup_steps=100)
    got = [float(trainer.beta_at(s)) for s in (0, 25, 50, 100, 400)]
    np.testing.assert_allclose(got, [0.0, 0.125, 0.25, 0.5, 0.5], atol=1e-7)
    assert float(VAETrainer(ConvVAE.from_preset("vae_mel_tiny"), beta=0.3).beta_at(0)) == pytest.approx(0.3)


def test_fit_lowers_loss_and_reports_trackers():
    keras.utils.set_random_seed(0)
    trainer = VAETrainer(ConvVAE.from_preset("vae_mel_tiny"), beta=0.01, kl_warmup_steps=4)
    result = check_fit_lowers_loss(trainer, (mel_batch(8),), steps=8,
                                   compile_kwargs={"optimizer": keras.optimizers.Adam(5e-3)},
                                   loss_key="reconstruction_loss")
    assert result["ratio"] < 0.95, result
    logs = trainer.evaluate(mel_batch(8), verbose=0, return_dict=True)
    assert set(logs) >= {"loss", "reconstruction_loss", "kl_loss", "beta"}
    assert logs["beta"] == pytest.approx(0.01)  # warm-up finished after 7 updates > 4
    print("VAE tiny reconstruction MSE:", result["history"])


def test_waveform_vae_trains_with_stft_loss():
    keras.utils.set_random_seed(0)
    t = np.arange(256) / 16000.0
    audio = np.stack([0.5 * np.sin(2 * np.pi * f * t) for f in (440.0, 660.0)])[..., None].astype(np.float32)
    trainer = VAETrainer(ConvVAE.from_preset("vae_waveform_tiny"), beta=1e-3, reconstruction="waveform",
                         stft_resolutions=((64, 16, 64), (128, 32, 128)))
    check_fit_lowers_loss(trainer, (audio,), steps=6, compile_kwargs={"optimizer": keras.optimizers.Adam(3e-3)})


def test_sample_interpolate_and_decode_parity(tmp_path):
    vae = ConvVAE.from_preset("vae_mel_tiny")
    x = mel_batch(2)
    assert tuple(vae.sample(3, seed=0).shape) == (3, 16, 16)
    np.testing.assert_array_equal(np.asarray(vae.sample(2, seed=5)), np.asarray(vae.sample(2, seed=5)))
    z, path = vae.interpolate(x[0], x[1], steps=5)
    assert tuple(z.shape) == (5, 4) and tuple(path.shape) == (5, 16, 16)
    mean, _ = vae.encode(x)
    np.testing.assert_allclose(np.asarray(z)[[0, -1]], np.asarray(mean), atol=1e-5)
    np.testing.assert_allclose(np.asarray(z)[2], np.asarray(mean).mean(0), atol=1e-5)
    full = np.asarray(vae(x)["reconstruction"])
    np.testing.assert_allclose(np.asarray(path)[[0, -1]], full, atol=1e-4)
    z0 = np.random.default_rng(0).normal(size=(1, 4)).astype(np.float32)
    result = check_export_parity(vae, z0, tmp_path, atol=1e-4)
    print("VAE decode TFLite max abs error:", result["max_abs_error"])
