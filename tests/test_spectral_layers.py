"""Spectral Keras layers: librosa parity in both modes, config and .keras round trips, TFLite builtins-only export.

Tolerances: ``rel`` = max |ours - reference| / max |reference| < 1e-4 unless written otherwise.
"""

import dataclasses

import keras
import librosa
import numpy as np
import pytest
import tensorflow as tf

from audiogen_tf import features as F
from audiogen_tf.layers.spectral import MFCC, MelSpectrogram, STFTMagnitude

SR = 16000
N = 8000


def rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.fixture(scope="module")
def batch():
    """(2, N): speech-like audio (made at 48 kHz, resampled to 16 kHz) and white noise."""
    from speech_fixture import speech_like

    rng = np.random.default_rng(0)
    noise = (0.3 * rng.standard_normal(N)).astype(np.float32)
    speech = librosa.resample(speech_like(48000, seconds=1.0), orig_sr=48000, target_sr=SR)[3200: 3200 + N]
    return np.stack([speech, noise]).astype(np.float32)


def _refs(x):
    """librosa references for the layer settings used below, each (frames, bins)."""
    stft = np.abs(librosa.stft(x, n_fft=512, hop_length=128, pad_mode="reflect")).T
    mel = librosa.feature.melspectrogram(
        y=x, sr=SR, n_fft=512, hop_length=128, win_length=400, n_mels=64, fmin=20.0, fmax=7600.0, power=1.0,
        htk=True, pad_mode="reflect",
    ).T
    mfcc = librosa.feature.mfcc(y=x, sr=SR, n_mfcc=13, n_fft=512, hop_length=128, n_mels=40, lifter=22, pad_mode="reflect").T
    return stft, mel, mfcc


def _layers(tflite_compatible):
    return (
        STFTMagnitude(n_fft=512, hop_length=128, tflite_compatible=tflite_compatible),
        MelSpectrogram(SR, 512, 128, 400, 64, 20.0, 7600.0, htk=True, log=False, tflite_compatible=tflite_compatible),
        MFCC(SR, n_mfcc=13, n_fft=512, hop_length=128, n_mels=40, lifter=22, tflite_compatible=tflite_compatible),
    )


def _model(tflite_compatible, time=N, channel_axis=True):
    inp = keras.Input((time, 1) if channel_axis else (time,))
    return keras.Model(inp, [layer(inp) for layer in _layers(tflite_compatible)])


@pytest.mark.parametrize("tflite_compatible", [False, True])
def test_layers_match_librosa(batch, tflite_compatible):
    """STFTMagnitude / MelSpectrogram (HTK, win 400) / MFCC (lifter 22) == librosa: rel < 1e-4, both modes,
    inputs (batch, time) and (batch, time, 1)."""
    for channel_axis in (True, False):
        model = _model(tflite_compatible, channel_axis=channel_axis)
        outs = model(batch[..., None] if channel_axis else batch)
        for i in range(2):
            for out, ref in zip(outs, _refs(batch[i])):
                assert rel(out[i], ref) < 1e-4
    assert model.output_shape == [(None, 63, 257), (None, 63, 64), (None, 63, 13)]


def test_log_mel_layer_equals_features_and_dynamic_time(batch):
    """MelSpectrogram(log=True) == MelConfig.log_mel, also with an unknown time length. Max abs err in the log
    domain (= relative error of each mel bin, down to the 1e-5 floor) < 1e-4 with tf.signal, < 5e-4 with the
    convolution DFT (float32 sums of 512 products; measured 1.1e-4 on a bin at 1e-4)."""
    cfg = F.MelConfig(sample_rate=SR, n_fft=512, hop_length=128, win_length=512, n_mels=80, fmax=8000.0)
    ref = cfg.log_mel(batch).numpy()
    for tfl, tol in ((False, 1e-4), (True, 5e-4)):
        inp = keras.Input((None,))
        model = keras.Model(inp, MelSpectrogram.from_mel_config(cfg, tflite_compatible=tfl)(inp))
        assert model.output_shape == (None, None, 80)
        assert np.max(np.abs(model(batch).numpy() - ref)) < tol


def test_get_config_round_trip():
    """get_config holds every MelConfig field; from_config rebuilds an equal layer."""
    layer = MelSpectrogram(22050, 1024, 256, 800, 100, 50.0, None, 2.0, True, None, False, 1e-4, log=True, tflite_compatible=True)
    config = layer.get_config()
    for field in dataclasses.fields(F.MelConfig):
        assert field.name in config, field.name
    assert {"log", "tflite_compatible", "pad_mode"} <= set(config)
    again = MelSpectrogram.from_config(config)
    assert again.get_config() == config
    assert again.mel_config() == F.MelConfig(22050, 1024, 256, 800, 100, 50.0, None, 2.0, True, None, False, 1e-4)
    for cls in (STFTMagnitude, MFCC):
        conf = cls(tflite_compatible=True).get_config()
        assert cls.from_config(conf).get_config() == conf


def test_keras_save_load_round_trip(batch, tmp_path):
    """A functional model with the three layers saves to .keras and loads with safe_mode=True: equal outputs."""
    model = _model(False)
    path = str(tmp_path / "spectral.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    for a, b in zip(model(batch[..., None]), loaded(batch[..., None])):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert isinstance(loaded.layers[2], MelSpectrogram) or any(isinstance(l, MelSpectrogram) for l in loaded.layers)


def test_layer_gradient_is_finite(batch):
    """Gradients flow through both modes (finite, non-zero), so the layers can sit inside a trained model."""
    for tfl in (False, True):
        layer = MelSpectrogram(SR, 512, 128, 512, 40, tflite_compatible=tfl)
        x = tf.constant(batch)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_mean(layer(x))
        g = tape.gradient(loss, x).numpy()
        assert np.all(np.isfinite(g)) and np.abs(g).max() > 0


def test_tflite_builtins_only_export_matches_keras_and_librosa(batch, tmp_path):
    """Raw audio -> (STFT, mel, MFCC) converts with TFLITE_BUILTINS only, runs in ai_edge_litert, and matches
    the Keras output (rel < 1e-4) and librosa (rel < 1e-4)."""
    from ai_edge_litert.interpreter import Interpreter

    model = _model(True)
    export_dir = str(tmp_path / "saved")
    model.export(export_dir, format="tf_saved_model", verbose=False)
    converter = tf.lite.TFLiteConverter.from_saved_model(export_dir)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    flat = converter.convert()

    interp = Interpreter(model_content=flat)
    inp = interp.get_input_details()[0]
    interp.resize_tensor_input(inp["index"], [2, N, 1])
    interp.allocate_tensors()
    interp.set_tensor(inp["index"], batch[..., None])
    interp.invoke()
    tfl_outs = [interp.get_tensor(d["index"]) for d in interp.get_output_details()]

    keras_outs = [o.numpy() for o in model(batch[..., None])]
    refs = [_refs(batch[i]) for i in range(2)]
    matched = 0
    for tfl_out in tfl_outs:  # output order of the signature is not guaranteed: match by shape
        for k, keras_out in enumerate(keras_outs):
            if keras_out.shape == tfl_out.shape:
                assert rel(tfl_out, keras_out) < 1e-4
                for i in range(2):
                    assert rel(tfl_out[i], refs[i][k]) < 1e-4
                matched += 1
    assert matched == 3
