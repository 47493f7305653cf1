"""HiFi-GAN (Kong et al. 2020): paper parameter counts, shapes, round trips, weight-norm folding,
discriminator output structure, streaming endpoints and a few mel-L1 training steps."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import librosa
import numpy as np
import pytest
import tensorflow as tf

from audiogen_tf.layers.conv import WeightNormConv1D, WeightNormConv1DTranspose, WeightNormConv2D
from model_harness import check_build_and_shapes, check_config_round_trip, check_fit_lowers_loss, check_keras_save_load
from zoo.hifigan import HiFiGANDiscriminator, HiFiGANGenerator, MultiPeriodDiscriminator, MultiScaleDiscriminator

SR, HOP, N_MELS = 22050, 256, 80
_FB = librosa.filters.mel(sr=SR, n_fft=1024, n_mels=N_MELS, fmin=0.0, fmax=8000.0).T.astype(np.float32)


def log_mel(audio):
    """(batch, time) -> log-mel (batch, time // HOP, N_MELS), HiFi-GAN style natural log with floor 1e-5."""
    pad = (1024 - HOP) // 2
    audio = tf.pad(audio, [[0, 0], [pad, pad]], mode="REFLECT")
    mag = tf.abs(tf.signal.stft(audio, 1024, HOP, 1024, pad_end=False))
    return tf.math.log(tf.maximum(tf.matmul(mag, _FB), 1e-5))


def mel_l1(y_true, y_pred):
    return tf.reduce_mean(tf.abs(log_mel(y_true[..., 0]) - log_mel(y_pred[..., 0])))


def sine_batch(frames=16, freq=440.0):
    t = np.arange(frames * HOP) / SR
    audio = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)[None, :, None]
    return log_mel(audio[..., 0]).numpy(), audio


def mel_input(frames=10, batch=1, seed=0):
    return np.random.default_rng(seed).normal(-4.0, 1.0, (batch, frames, N_MELS)).astype(np.float32)


@pytest.fixture(scope="module")
def tiny():
    return HiFiGANGenerator.from_preset("hifigan_tiny")


@pytest.mark.parametrize("preset,millions", [("hifigan_v1", 13.92), ("hifigan_v2", 0.92), ("hifigan_v3", 1.46)])
def test_paper_parameter_counts(preset, millions):
    # counted as plain convs (weight norm folded: kernel + bias per conv, no g); the paper's Table 1 truncates
    # to 0.01 M (V1 13,926,017 -> 13.92; V2 925,985 -> 0.92; V3 1,462,273 -> 1.46)
    model = HiFiGANGenerator.from_preset(preset)
    n = model.count_params_folded()
    assert int(n / 1e4) / 100 == pytest.approx(millions)
    assert model.remove_weight_norm().count_params() == n


def test_shapes_and_round_trips(tiny, tmp_path):
    mel = mel_input(10, batch=2)
    check_build_and_shapes(tiny, mel, (2, 10 * HOP, 1))
    assert np.all(np.abs(np.asarray(tiny(mel))) <= 1.0)
    assert tiny.hop_length == HOP
    check_config_round_trip(tiny, mel)
    check_keras_save_load(tiny, mel, tmp_path)


def test_weight_norm_layer_math():
    layer = WeightNormConv1D(6, 5, dilation_rate=2, padding="same")
    x = np.random.default_rng(0).standard_normal((1, 20, 3)).astype(np.float32)
    layer(x)
    # g starts at ||v||, so the initial kernel is v
    np.testing.assert_allclose(np.asarray(layer.kernel), layer.v.numpy(), atol=1e-6)
    layer.g.assign(np.arange(1, 7, dtype=np.float32))
    v = layer.v.numpy()
    expected = v / np.sqrt((v**2).sum(axis=(0, 1), keepdims=True)) * np.arange(1, 7)
    np.testing.assert_allclose(np.asarray(layer.kernel), expected, rtol=1e-5, atol=1e-6)
    plain = layer.to_plain()
    assert type(plain) is keras.layers.Conv1D
    np.testing.assert_allclose(np.asarray(plain(x)), np.asarray(layer(x)), atol=1e-5)
    for wn in (WeightNormConv1DTranspose(4, 8, strides=4, padding="same"), WeightNormConv2D(4, (5, 1), padding="same")):
        shape = (1, 6, 3) if isinstance(wn, WeightNormConv1DTranspose) else (1, 9, 2, 3)
        x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
        wn(x)
        wn.g.assign(wn.g.numpy() * 1.7)
        np.testing.assert_allclose(np.asarray(wn.to_plain()(x)), np.asarray(wn(x)), atol=1e-5)


def test_remove_weight_norm(tiny):
    mel = mel_input(12)
    for layer in tiny.layers:  # move g away from ||v|| so the fold is not trivially v
        if hasattr(layer, "g"):
            layer.g.assign(layer.g.numpy() * np.linspace(0.5, 1.5, layer.g.shape[0]).astype(np.float32))
    plain = tiny.remove_weight_norm()
    assert not any(isinstance(l, (WeightNormConv1D, WeightNormConv1DTranspose)) for l in plain.layers)
    assert any(type(l) is keras.layers.Conv1DTranspose for l in plain.layers)
    np.testing.assert_allclose(np.asarray(plain(mel)), np.asarray(tiny(mel)), atol=1e-6)


def test_export_endpoints_stream_like_full_synthesis(tiny):
    endpoints = {name: (fn, specs) for name, fn, specs in tiny.export_endpoints(chunk_frames=8, context_frames=8)}
    assert set(endpoints) == {"synthesize", "chunk"}
    assert tuple(endpoints["synthesize"][1][0].shape) == (1, None, N_MELS)
    assert tuple(endpoints["chunk"][1][0].shape) == (1, 24, N_MELS)
    mel = mel_input(40)
    full = np.asarray(tiny(mel))
    np.testing.assert_allclose(np.asarray(endpoints["synthesize"][0](mel)), full, atol=1e-5)
    # the chunk of frames [16, 24) computed from the window [8, 32) equals the full synthesis there
    out = np.asarray(endpoints["chunk"][0](mel[:, 8:32]))
    assert out.shape == (1, 8 * HOP, 1)
    np.testing.assert_allclose(out, full[:, 16 * HOP : 24 * HOP], atol=1e-4)


def _check_structure(outputs, expected_lengths):
    assert isinstance(outputs, list) and [len(o) for o in outputs] == expected_lengths
    for entry in outputs:
        assert isinstance(entry, list)
        score = entry[-1]
        assert score.shape[0] == 2 and score.shape[-1] == 1 and len(score.shape) == 3
        for fmap in entry[:-1]:
            assert fmap.shape[0] == 2 and fmap.shape[-1] > 1


def test_discriminators_structure_and_round_trip(tmp_path):
    audio = np.random.default_rng(0).uniform(-1, 1, (2, 1024, 1)).astype(np.float32)
    mpd = MultiPeriodDiscriminator.from_preset("hifigan_tiny")
    _check_structure(mpd(audio), [6, 6])
    msd = MultiScaleDiscriminator.from_preset("hifigan_tiny")
    _check_structure(msd(audio), [8, 8])
    assert isinstance(msd.get_layer("s_s0_conv0"), keras.layers.SpectralNormalization)
    assert isinstance(msd.get_layer("s_s1_conv0"), WeightNormConv1D)
    both = HiFiGANDiscriminator.from_preset("hifigan_tiny")
    out = both(audio)
    _check_structure(out, [6, 6, 8, 8])
    # period fold: the 2-D feature maps of period p have width p
    assert out[1][0].shape[2] == 3
    check_config_round_trip(both, audio)
    check_keras_save_load(both, audio, tmp_path)


def test_paper_discriminator_builds():
    d = HiFiGANDiscriminator.from_preset("hifigan")
    assert len(d.outputs) == 5 * 6 + 3 * 8  # 5 MPD x (5 fmaps + score), 3 MSD x (7 fmaps + score)


def test_few_steps_lower_mel_loss(tiny):
    model = HiFiGANGenerator.from_config(tiny.get_config())
    mel, audio = sine_batch()
    result = check_fit_lowers_loss(
        model, (mel, audio), steps=6, compile_kwargs={"optimizer": keras.optimizers.Adam(2e-3), "loss": mel_l1}
    )
    print("hifigan_tiny mel-L1:", result["history"])


def export_chunk_parity(model, tmp_path):
    """Export the "chunk" endpoint to a builtin-ops .tflite and return its max abs error against Keras."""
    from tflite_export.endpoints import Endpoint
    from tflite_export.export import check_parity, contains_flex_ops, export_tflite

    endpoints = [Endpoint(*e) for e in model.export_endpoints()]  # (name, function, specs) tuples

    class _WithEndpoints:  # tflite_export.get_endpoints() wants Endpoint objects; zoo cannot import them
        name = model.name

        def export_endpoints(self):
            return endpoints

    path = os.path.join(os.fspath(tmp_path), f"{model.name}.tflite")
    export_tflite(_WithEndpoints(), path, endpoint=["chunk"])
    assert not contains_flex_ops(path)
    mel = mel_input(48)
    return check_parity(endpoints[1].function, path, mel, atol=1e-4, signature="chunk")


def test_tflite_chunk_parity(tiny, tmp_path):
    print("hifigan_tiny chunk TFLite max abs error:", export_chunk_parity(tiny, tmp_path))
