"""InverseSTFT: parity with librosa.istft and audiogen_tf.features.istft (TF and TFLite, dynamic length, builtin
ops only), streaming chunks equal to the offline output."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import librosa
import numpy as np
import pytest
import scipy.signal
import tensorflow as tf

from audiogen_tf import features
from audiogen_tf.layers.istft import (InverseSTFT, analysis_basis, centered_stft, consistent_audio, stream_istft,
                                      synthesis_basis)
from tflite_export.export import contains_flex_ops, export_tflite, list_tflite_ops
from tflite_export.runtime import TFLiteRunner


def _speechlike(n=12000, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 22050.0
    x = 0.3 * np.sin(2 * np.pi * 180 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t)) + 0.05 * rng.standard_normal(n)
    return x.astype(np.float32)


def _spectrum(x, n_fft=1024, hop=256, win=None):
    S = librosa.stft(x, n_fft=n_fft, hop_length=hop, win_length=win, center=True, pad_mode="reflect")
    return S.real.T[None].astype(np.float32), S.imag.T[None].astype(np.float32), S


@pytest.mark.parametrize("n_fft,hop,win", [(1024, 256, None), (512, 128, 400), (256, 64, None)])
@pytest.mark.parametrize("output_length", ["frames", "istft"])
def test_matches_librosa_and_features(n_fft, hop, win, output_length):
    re, im, S = _spectrum(_speechlike(), n_fft, hop, win)
    frames = re.shape[1]
    length = frames * hop if output_length == "frames" else None
    layer = InverseSTFT(n_fft, hop, win, output_length=output_length)
    ours = np.asarray(layer(re, im))[0]
    ref = librosa.istft(S, hop_length=hop, win_length=win, n_fft=n_fft, length=length)
    theirs = np.asarray(features.istft(tf.complex(re, im), hop, win, n_fft, length=length))[0]
    assert ours.shape == ref.shape == theirs.shape
    assert np.abs(ours - ref).max() < 1e-5
    assert np.abs(ours - theirs).max() < 1e-5


def test_inconsistent_spectra_match_librosa():
    # random spectra are no STFT of anything: the layer must still do exactly what librosa does
    rng = np.random.default_rng(1)
    re, im = rng.standard_normal((2, 1, 23, 513)).astype(np.float32)
    ours = np.asarray(InverseSTFT(1024, 256)(re, im))[0]
    ref = librosa.istft((re + 1j * im)[0].T, hop_length=256, n_fft=1024, length=23 * 256)
    assert np.abs(ours - ref).max() < 1e-5


def test_basis_is_the_inverse_real_dft():
    rng = np.random.default_rng(2)
    spec = rng.standard_normal(33) + 1j * rng.standard_normal(33)
    spec[0] = spec[0].real
    spec[-1] = spec[-1].real
    basis = synthesis_basis(64, window="boxcar")
    ours = np.concatenate([spec.real, spec.imag]) @ basis
    np.testing.assert_allclose(ours, np.fft.irfft(spec, 64), atol=1e-6)


def test_same_padding_is_vocos_istft():
    """padding="same": windowed inverse FFT, overlap-add, (win - hop) / 2 trimmed at both ends, envelope-normalised."""
    rng = np.random.default_rng(4)
    n_fft, hop, frames = 64, 16, 9
    spec = rng.standard_normal((frames, 33)) + 1j * rng.standard_normal((frames, 33))
    win = scipy.signal.get_window("hann", n_fft, fftbins=True)
    total = (frames - 1) * hop + n_fft
    y, env = np.zeros(total), np.zeros(total)
    for t in range(frames):
        y[t * hop : t * hop + n_fft] += np.fft.irfft(spec[t], n_fft) * win
        env[t * hop : t * hop + n_fft] += win**2
    pad = (n_fft - hop) // 2
    ref = (y / env)[pad:-pad]
    layer = InverseSTFT(n_fft, hop, padding="same")
    ours = np.asarray(layer(spec.real[None].astype(np.float32), spec.imag[None].astype(np.float32)))[0]
    assert ours.shape == ref.shape == (frames * hop,)
    assert np.abs(ours - ref).max() < 1e-5
    streamed = stream_istft(layer.chunk, layer.finish, spec.real[None], spec.imag[None], 4, n_fft, hop, padding="same")
    assert np.abs(streamed - ours).max() < 1e-5


def test_bad_geometry_is_refused():
    with pytest.raises(ValueError, match="multiple of hop_length"):
        InverseSTFT(1000, 256)
    with pytest.raises(ValueError, match="output_length"):
        InverseSTFT(1024, 256, output_length="same")
    with pytest.raises(ValueError, match="padding"):
        InverseSTFT(1024, 256, padding="valid")


@pytest.mark.parametrize("chunk", [1, 3, 8, 50])
def test_streaming_chunks_equal_offline(chunk):
    re, im, _ = _spectrum(_speechlike(9000, seed=3))
    layer = InverseSTFT(1024, 256)
    offline = np.asarray(layer(re, im))[0]
    streamed = stream_istft(layer.chunk, layer.finish, re, im, chunk, 1024, 256)
    assert streamed.shape == offline.shape
    assert np.abs(streamed - offline).max() < 1e-6


def test_tflite_builtin_ops_dynamic_length_and_chunks(tmp_path):
    layer = InverseSTFT(1024, 256)
    path = os.path.join(tmp_path, "istft.tflite")
    export_tflite(layer, path)
    assert not contains_flex_ops(path), sorted(list_tflite_ops(path))
    runner = TFLiteRunner(path)
    for n in (4000, 12000):  # two lengths through the same dynamic signature
        re, im, S = _spectrum(_speechlike(n, seed=n))
        out = runner.run({"real": re, "imag": im}, signature="istft")
        y = np.asarray(next(iter(out.values()))).reshape(-1)
        ref = librosa.istft(S, hop_length=256, n_fft=1024, length=re.shape[1] * 256)
        assert y.shape == ref.shape
        assert np.abs(y - ref).max() < 1e-5

    re, im, _ = _spectrum(_speechlike(16 * 256 * 3 - 256, seed=9))  # 48 frames = 3 chunks of 16
    assert re.shape[1] == 48

    def chunk_fn(r, i, ola, wss):
        out = runner.run({"real": r, "imag": i, "ola_tail": ola, "wss_tail": wss}, signature="istft_chunk")
        return [out[k] for k in sorted(out)]  # output_0 audio, output_1 ola tail, output_2 window-sum tail

    def finish_fn(ola, wss):
        out = runner.run({"ola_tail": ola, "wss_tail": wss}, signature="istft_finish")
        return next(iter(out.values()))

    streamed = stream_istft(chunk_fn, finish_fn, re, im, 16, 1024, 256)
    offline = np.asarray(layer(re, im))[0]
    assert np.abs(streamed - offline).max() < 1e-5


def test_centered_stft_is_the_centred_stft():
    """Hop-block framing + the analysis basis = features.stft (reflect-padded, centred) on its first frames."""
    x = _speechlike(40 * 256)
    S = np.asarray(features.stft(tf.constant(x[None]), 1024, 256))[:, :40]
    re, im = centered_stft(tf.constant(x[None]), 40, 1024, 256, analysis_basis(1024))
    scale = np.abs(S).max()
    assert np.abs(np.asarray(re) - S.real).max() < 1e-5 * scale
    assert np.abs(np.asarray(im) - S.imag).max() < 1e-5 * scale
    # two frames (512 samples, no longer than the 512-sample padding): reflected again, as numpy.pad
    short = x[: 2 * 256]
    padded = np.pad(short, 512, mode="reflect")
    frames = np.stack([padded[i * 256 : i * 256 + 1024] for i in range(2)]) * scipy.signal.get_window("hann", 1024)
    want = np.fft.rfft(frames, axis=-1)
    re, im = centered_stft(tf.constant(short[None]), 2, 1024, 256, analysis_basis(1024))
    assert np.abs(np.asarray(re)[0] - want.real).max() < 1e-4 and np.abs(np.asarray(im)[0] - want.imag).max() < 1e-4


@pytest.mark.parametrize("iterations", [0, 1, 6])
def test_consistent_audio_is_fast_griffin_lim_from_a_given_phase(iterations):
    """Real-arithmetic fast Griffin-Lim (builtin ops) = features.griffin_lim(init_phase=...) (complex, tf.signal)."""
    x = _speechlike(30 * 256)
    magnitude = np.abs(np.asarray(features.stft(tf.constant(x[None]), 1024, 256))[:, :30]).astype(np.float32)
    phase = np.random.default_rng(1).uniform(-np.pi, np.pi, magnitude.shape).astype(np.float32)
    ours = np.asarray(consistent_audio(magnitude, phase, InverseSTFT(1024, 256), tf.constant(iterations)))
    theirs = np.asarray(features.griffin_lim(magnitude, n_iter=iterations, hop_length=256, n_fft=1024,
                                             length=30 * 256, init_phase=phase))
    assert ours.shape == theirs.shape == (1, 30 * 256)
    assert np.abs(ours - theirs).max() < 1e-4 * np.abs(theirs).max()
    with pytest.raises(ValueError, match="centred"):
        consistent_audio(magnitude, phase, InverseSTFT(1024, 256, padding="same"), 1)
