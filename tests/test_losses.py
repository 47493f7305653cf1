"""Losses of audiogen_tf.losses on inputs whose values are known by hand or by librosa."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import librosa
import numpy as np
import pytest
import tensorflow as tf

from audiogen_tf import losses as L
from audiogen_tf.errors import ConfigError
from audiogen_tf.features import MelConfig

MEL = MelConfig(sample_rate=16000, n_fft=512, hop_length=128, win_length=512, n_mels=40, fmax=8000.0)


def _noise(shape, seed=0, scale=0.3):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def test_stft_magnitude_matches_librosa():
    x = _noise((2, 4096))
    ours = np.asarray(L.stft_magnitude(x, 1024, 120, 600))
    ref = np.abs(librosa.stft(x, n_fft=1024, hop_length=120, win_length=600, center=True, pad_mode="reflect"))
    ref = np.swapaxes(ref, -1, -2)
    assert ours.shape == ref.shape
    assert np.max(np.abs(ours - np.sqrt(np.maximum(ref**2, 1e-7)))) / ref.max() < 1e-4


def test_mr_stft_identical_is_zero_and_scaled_by_hand():
    x = _noise((2, 8192, 1))
    sc, mag = L.multi_resolution_stft_loss(x, x)
    assert float(sc) == pytest.approx(0.0, abs=1e-6) and float(mag) == pytest.approx(0.0, abs=1e-6)
    # y_pred = x / 2: spectral convergence = ||S - S/2|| / ||S|| = 0.5; log magnitude = log 2 (bins above the floor).
    sc, mag = L.multi_resolution_stft_loss(x, 0.5 * x)
    assert float(sc) == pytest.approx(0.5, abs=1e-3)
    assert float(mag) == pytest.approx(np.log(2.0), abs=2e-3)
    keras_loss = L.MultiResolutionSTFTLoss()
    assert float(keras_loss(x, 0.5 * x)) == pytest.approx(float(sc + mag), rel=1e-5)


def test_mr_stft_subbands_fold_into_batch():
    x = _noise((2, 1024, 4))
    sc, mag = L.multi_resolution_stft_loss(x, 0.5 * x, L.MB_MELGAN_SUBBAND_STFT_RESOLUTIONS)
    assert float(sc) == pytest.approx(0.5, abs=1e-3)
    assert float(mag) == pytest.approx(np.log(2.0), abs=5e-3)


def test_mel_l1_against_librosa():
    x, y = _noise((2, 4096), 0), _noise((2, 4096), 1)
    ours = float(L.mel_l1_loss(x, y[..., None], MEL))

    def ref_log_mel(a):
        m = librosa.feature.melspectrogram(
            y=a, sr=16000, n_fft=512, hop_length=128, win_length=512, n_mels=40, fmax=8000.0, power=1.0,
            pad_mode="reflect",
        )
        return np.log(np.maximum(m, 1e-5))

    ref = float(np.mean(np.abs(ref_log_mel(x) - ref_log_mel(y))))
    assert ours == pytest.approx(ref, rel=1e-3)
    assert float(L.mel_l1_loss(x, x, MEL)) == 0.0
    assert float(L.mel_l1_loss(x, 0.5 * x, MEL)) == pytest.approx(np.log(2.0), abs=1e-3)
    assert float(L.MelL1Loss(MEL)(x, 0.5 * x)) == pytest.approx(np.log(2.0), abs=1e-3)


def test_reconstruction_gradients_finite_on_silence():
    silent = tf.zeros((1, 4096, 1))
    target = tf.constant(_noise((1, 4096, 1)))
    with tf.GradientTape() as tape:
        tape.watch(silent)
        sc, mag = L.multi_resolution_stft_loss(target, silent)
        total = sc + mag + L.mel_l1_loss(target, silent, MEL)
    grad = tape.gradient(total, silent)
    assert np.isfinite(float(total)) and np.all(np.isfinite(grad.numpy()))
    quiet = tf.constant(_noise((1, 4096, 1), 7, scale=1e-3))
    with tf.GradientTape() as tape:
        tape.watch(quiet)
        sc, mag = L.multi_resolution_stft_loss(target, quiet)
        total = sc + mag + L.mel_l1_loss(target, quiet, MEL)
    grad = tape.gradient(total, quiet).numpy()
    assert np.all(np.isfinite(grad)) and np.any(grad != 0)


def _nested(real_scores, fake_scores):
    """Two sub-discriminators following the contract: [[fmap, score], [fmap, score]]."""
    r = [[np.ones((1, 3, 2), np.float32), np.array(s, np.float32)] for s in real_scores]
    f = [[np.zeros((1, 3, 2), np.float32), np.array(s, np.float32)] for s in fake_scores]
    return r, f


def test_lsgan_by_hand():
    real, fake = _nested([[0.5, 1.5], [1.0]], [[0.2], [0.0, 1.0]])
    # D: sub 0: mean((r-1)^2) = 0.25, mean(f^2) = 0.04; sub 1: 0 + mean([0, 1]) = 0.5  -> 0.79
    assert float(L.lsgan_discriminator_loss(real, fake)) == pytest.approx(0.79, abs=1e-6)
    # G: sub 0: (0.2-1)^2 = 0.64; sub 1: mean([1, 0]) = 0.5 -> 1.14
    assert float(L.lsgan_generator_loss(fake)) == pytest.approx(1.14, abs=1e-6)
    assert float(L.lsgan_discriminator_loss([np.ones(4)], [np.zeros(4)])) == 0.0


def test_hinge_and_wgan_by_hand():
    real, fake = [np.array([0.5, 2.0], np.float32)], [np.array([-2.0, 0.5], np.float32)]
    assert float(L.hinge_discriminator_loss(real, fake)) == pytest.approx(0.25 + 0.75)
    assert float(L.hinge_generator_loss(fake)) == pytest.approx(0.75)
    assert float(L.wgan_discriminator_loss(real, fake)) == pytest.approx(-0.75 - 1.25)
    assert float(L.wgan_generator_loss(fake)) == pytest.approx(0.75)
    g, d = L.get_adversarial_losses("wgan-gp")
    assert g is L.wgan_generator_loss and d is L.wgan_discriminator_loss
    with pytest.raises(ConfigError):
        L.get_adversarial_losses("vanilla-ish")


@pytest.mark.parametrize("norm, expected", [(1.0, 0.0), (3.0, 4.0)])
def test_gradient_penalty_linear_critic(norm, expected):
    # D(x) = <w, x> has gradient w everywhere: penalty = (||w|| - 1)^2 whatever the interpolation.
    w = _noise((1, 64, 1), 3)
    w = tf.constant(w / np.linalg.norm(w) * norm)
    critic = lambda a: [[tf.reduce_sum(a * w, axis=[1, 2])]]  # noqa: E731
    real, fake = tf.constant(_noise((3, 64, 1), 4)), tf.constant(_noise((3, 64, 1), 5))
    gp = L.gradient_penalty(critic, real, fake, seed=keras.random.SeedGenerator(0))
    assert float(gp) == pytest.approx(expected, abs=1e-4)


def test_feature_matching_by_hand_and_gradient_only_to_fake():
    real, _ = _nested([[1.0], [1.0]], [])
    fake = [[tf.Variable(np.zeros((1, 3, 2), np.float32)), np.zeros(1, np.float32)] for _ in range(2)]
    real_t = [[tf.constant(real[i][0]), real[i][1]] for i in range(2)]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(real_t[0][0])
        fm = L.feature_matching_loss(real_t, fake)
    # two sub-discriminators x one map each, mean |1 - 0| = 1
    assert float(fm) == pytest.approx(2.0)
    assert tape.gradient(fm, fake[0][0]) is not None
    assert tape.gradient(fm, real_t[0][0]) is None
    assert float(L.feature_matching_loss(real, real)) == 0.0


def test_keras_loss_configs_round_trip():
    loss = L.MultiResolutionSTFTLoss(resolutions=[(256, 64, 256)])
    again = L.MultiResolutionSTFTLoss.from_config(loss.get_config())
    assert again.resolutions == ((256, 64, 256),)
    mel = L.MelL1Loss(MEL)
    assert L.MelL1Loss.from_config(mel.get_config()).mel_config == MEL


def test_feature_matching_can_include_the_score():
    """HiFi-GAN's reference matches the conv_post output too; MelGAN / PWG stop before it (the default)."""
    import numpy as np

    from audiogen_tf.losses import feature_matching_loss

    real = [[np.ones((1, 4, 2), "float32"), np.zeros((1, 4, 1), "float32")]]
    fake = [[np.ones((1, 4, 2), "float32"), np.full((1, 4, 1), 0.5, "float32")]]
    assert float(feature_matching_loss(real, fake)) == 0.0
    assert float(feature_matching_loss(real, fake, include_score=True)) == 0.5
