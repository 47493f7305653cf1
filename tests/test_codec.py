"""Residual VQ (SoundStream, Zeghidour et al. 2021) and the RVQ audio codec: residual error falls with more
stages, quantizer dropout decodes a prefix of the stages per example, lookup == quantized output, bitrate,
round trips, a few fit steps with the waveform loss, and TFLite parity of encode (codes exact) and decode (< 1e-4)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest

from audiogen_tf.layers.quantizers import ResidualVectorQuantizer
from model_harness import (
    check_build_and_shapes,
    check_config_round_trip,
    check_export_parity,
    check_fit_lowers_loss,
    check_keras_save_load,
)
from training.vae_trainer import VQVAETrainer
from zoo.vqvae import AudioCodec


def test_rvq_residual_error_decreases_with_more_quantizers():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 4)).astype(np.float32)
    rvq = ResidualVectorQuantizer(4, 16, 4, decay=0.8, seed=0)
    for _ in range(30):  # EMA updates = online k-means on each stage's residual
        rvq(x, training=True)
    errors = [float(np.mean(np.sum((x - np.asarray(rvq.lookup(rvq.get_codes(x, n)))) ** 2, -1))) for n in range(1, 5)]
    base = float(np.mean(np.sum(x**2, -1)))
    print("RVQ squared error by stages:", base, errors)
    assert errors[0] < base
    assert all(b < a for a, b in zip(errors, errors[1:])), errors
    q, codes = rvq(x)
    assert codes.shape == (512, 4)
    np.testing.assert_array_equal(np.asarray(codes), np.asarray(rvq.get_codes(x)))
    np.testing.assert_allclose(np.asarray(q), np.asarray(rvq.lookup(codes)), atol=1e-5)


def test_rvq_straight_through_and_commitment_losses():
    import tensorflow as tf

    rvq = ResidualVectorQuantizer(3, 8, 2, seed=1)
    x = tf.constant(np.random.default_rng(2).normal(size=(10, 2)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        q, _ = rvq(x, training=True)
        y = tf.reduce_sum(3.0 * q)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 3.0, atol=1e-6)
    assert len(rvq.losses) == 3  # one commitment loss per stage


def test_rvq_quantizer_dropout_uses_a_prefix_of_the_stages():
    x = np.random.default_rng(4).normal(size=(64, 4)).astype(np.float32)
    rvq = ResidualVectorQuantizer(3, 8, 4, quantizer_dropout=1.0, seed=2)
    rvq(x, training=True)  # data initialisation of the codebooks
    books = [vq.codebook.numpy().copy() for vq in rvq.quantizers]  # the training call quantizes with these
    q, codes = rvq(x, training=True)
    q, codes = np.asarray(q), np.asarray(codes)
    parts = np.stack([books[i][codes[:, i]] for i in range(3)])  # (3, 64, 4)
    prefixes = np.cumsum(parts, axis=0)
    err = np.abs(prefixes - q[None]).max(-1)  # (3, 64)
    n_used = np.argmin(err, axis=0) + 1
    assert np.all(err.min(0) < 1e-4)  # every example decodes exactly its first n stages
    assert set(n_used.tolist()) == {1, 2, 3}, np.bincount(n_used)
    # inference always uses every stage
    q_inf, codes_inf = rvq(x, training=False)
    np.testing.assert_allclose(np.asarray(q_inf), np.asarray(rvq.lookup(codes_inf)), atol=1e-5)


@pytest.fixture(scope="module")
def tiny():
    return AudioCodec.from_preset("codec_tiny")


def test_codec_shapes_bitrate_and_round_trips(tiny, tmp_path):
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 256, 1)).astype(np.float32)
    check_build_and_shapes(tiny, audio, {"audio": (2, 256, 1), "codes": (2, 32, 2)})
    assert tiny.hop_length == 8 and tiny.frame_rate == 2000.0
    assert tiny.bitrate_kbps() == pytest.approx(2000 * 2 * 4 / 1000)
    assert tiny.bitrate_kbps(1) == pytest.approx(8.0)
    check_config_round_trip(tiny, audio)
    check_keras_save_load(tiny, audio, tmp_path)
    codes = tiny.encode(audio)
    np.testing.assert_array_equal(np.asarray(codes), np.asarray(tiny(audio)["codes"]))
    np.testing.assert_allclose(np.asarray(tiny.decode(codes)), np.asarray(tiny(audio)["audio"]), atol=1e-5)
    assert tuple(tiny.encode(audio, num_quantizers=1).shape) == (2, 32, 1)
    assert tuple(tiny.decode(codes[..., :1]).shape) == (2, 256, 1)


def test_paper_sized_presets_bitrate():
    cfg = AudioCodec.from_preset  # building the full model is not needed for the arithmetic, but checks the preset
    codec = cfg("codec_16khz_4kbps")
    assert codec.hop_length == 320 and codec.bitrate_kbps() == pytest.approx(4.0)
    assert AudioCodec.from_preset("codec_24khz_6kbps").bitrate_kbps() == pytest.approx(6.0)


def test_codec_fit_lowers_waveform_loss():
    keras.utils.set_random_seed(0)
    t = np.arange(512) / 16000.0
    audio = np.stack([0.5 * np.sin(2 * np.pi * f * t) for f in (300.0, 500.0, 800.0, 1200.0)])[..., None]
    codec = AudioCodec.from_preset("codec_tiny")
    trainer = VQVAETrainer(codec, reconstruction="waveform", stft_resolutions=((128, 32, 128), (64, 16, 64)))
    result = check_fit_lowers_loss(trainer, (audio.astype(np.float32),), steps=6,
                                   compile_kwargs={"optimizer": keras.optimizers.Adam(3e-3)},
                                   loss_key="reconstruction_loss")
    print("codec_tiny reconstruction loss:", result["history"])


def test_codec_export_parity(tiny, tmp_path):
    endpoints = {name: specs for name, _, specs, _ in tiny.export_endpoints(num_samples=256)}
    assert tuple(endpoints["encode"][0].shape) == (1, 256, 1)
    assert tuple(endpoints["decode"][0].shape) == (1, 32, 2)
    audio = np.random.default_rng(3).uniform(-0.5, 0.5, (1, 8000, 1)).astype(np.float32)  # default: 0.5 s
    codes = np.asarray(tiny.encode(audio))
    result = check_export_parity(tiny, {"encode": audio, "decode": codes}, tmp_path, atol=1e-4)
    assert result["errors"]["encode"] == 0.0  # codes compared exactly
    print("codec_tiny TFLite errors:", result["errors"], "ops:", result["ops"])
