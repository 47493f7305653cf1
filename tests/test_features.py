"""Parity of audiogen_tf.features with librosa 0.11 on real recordings and random signals.

Tolerances (written in each test): ``rel`` = max |ours - librosa| / max |librosa|.
"""


import librosa
import numpy as np
import pytest
import tensorflow as tf

from audiogen_tf import features as F
from audiogen_tf.errors import ConfigError

SR = 22050


def rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def _load(name, sr, seconds):
    """A "recording" made by the tests (tests/speech_fixture.py) at 48 kHz, resampled to ``sr`` (None: 48 kHz)."""
    from speech_fixture import noise_recording, speech_like

    y = speech_like(48000, seconds + 0.4) if name == "speech" else noise_recording(48000, seconds + 0.4)
    if sr is not None and sr != 48000:
        y = librosa.resample(y, orig_sr=48000, target_sr=sr)
    sr = sr or 48000
    start = int(0.2 * sr)  # skip the leading silence
    return np.ascontiguousarray(y[start : start + int(seconds * sr)], dtype=np.float32)


@pytest.fixture(scope="module")
def signals():
    rng = np.random.default_rng(0)
    return {
        "speech_22k": (_load("speech", SR, 1.0), SR),  # speech-like, resampled 48k -> 22.05k
        "noise_48k": (_load("noise", None, 0.5), 48000),  # coloured noise at its own rate
        "random_16k": ((0.3 * rng.standard_normal(8000)).astype(np.float32), 16000),
    }


SIGNAL_NAMES = ["speech_22k", "noise_48k", "random_16k"]


# ---------------------------------------------------------------------------------------------- STFT


@pytest.mark.parametrize("name", SIGNAL_NAMES)
@pytest.mark.parametrize(
    "n_fft,hop,win,pad_mode", [(1024, 256, None, "reflect"), (512, 128, 400, "constant"), (2048, 512, None, "reflect")]
)
def test_stft_matches_librosa(signals, name, n_fft, hop, win, pad_mode):
    """stft == librosa.stft(...).T: rel < 1e-4."""
    y, _ = signals[name]
    ref = librosa.stft(y, n_fft=n_fft, hop_length=hop, win_length=win, pad_mode=pad_mode).T
    out = F.stft(y, n_fft, hop, win, pad_mode=pad_mode).numpy()
    assert out.dtype == np.complex64
    assert rel(out, ref) < 1e-4


def test_stft_not_centered_matches_librosa(signals):
    y, _ = signals["random_16k"]
    ref = librosa.stft(y, n_fft=512, hop_length=160, center=False).T
    assert rel(F.stft(y, 512, 160, center=False), ref) < 1e-4


@pytest.mark.parametrize("name", SIGNAL_NAMES)
@pytest.mark.parametrize("n_fft,hop,win", [(1024, 256, None), (512, 128, 400)])
def test_istft_round_trip_and_librosa(signals, name, n_fft, hop, win):
    """istft(stft(x)) == x (max abs err < 1e-5); istft == librosa.istft (rel < 1e-4), with and without length."""
    y, _ = signals[name]
    spec = F.stft(y, n_fft, hop, win)
    back = F.istft(spec, hop, win, n_fft, length=len(y)).numpy()
    assert np.max(np.abs(back - y)) < 1e-5
    spec_np = spec.numpy().T
    ref = librosa.istft(spec_np, hop_length=hop, win_length=win, n_fft=n_fft, length=len(y))
    assert rel(back, ref) < 1e-4
    ref_nolen = librosa.istft(spec_np, hop_length=hop, win_length=win, n_fft=n_fft)
    assert rel(F.istft(spec, hop, win, n_fft), ref_nolen) < 1e-4
    # a length longer than the frames cover is zero-padded, as librosa does
    long = len(y) + 3 * hop
    ref_long = librosa.istft(spec_np, hop_length=hop, win_length=win, n_fft=n_fft, length=long)
    assert rel(F.istft(spec, hop, win, n_fft, length=long), ref_long) < 1e-4


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_magnitude_and_power(signals, power):
    """magnitude_spectrogram == |librosa.stft| ** power: rel < 1e-4."""
    for name in SIGNAL_NAMES:
        y, _ = signals[name]
        ref = np.abs(librosa.stft(y, n_fft=1024, hop_length=256, pad_mode="reflect")).T ** power
        assert rel(F.magnitude_spectrogram(y, 1024, 256, power=power), ref) < 1e-4


# ---------------------------------------------------------------------------------------------- mel


@pytest.mark.parametrize("htk", [False, True])
@pytest.mark.parametrize("norm", ["slaney", None])
def test_mel_filterbank_equals_librosa(htk, norm):
    """mel_filterbank == librosa.filters.mel(...).T: max abs err < 1e-7 (same float32 values)."""
    fb = F.mel_filterbank(16000, 512, 40, 20.0, 7600.0, htk, norm)
    ref = librosa.filters.mel(sr=16000, n_fft=512, n_mels=40, fmin=20.0, fmax=7600.0, htk=htk, norm=norm).T
    assert fb.shape == (257, 40) and fb.dtype == np.float32
    assert np.max(np.abs(fb - ref)) < 1e-7
    if norm is None:  # unnormalised triangles peak at most 1
        assert fb.max() <= 1.0 + 1e-6


@pytest.mark.parametrize("name", SIGNAL_NAMES)
@pytest.mark.parametrize("htk,norm", [(False, "slaney"), (True, "slaney"), (True, None), (False, None)])
@pytest.mark.parametrize("power", [1.0, 2.0])
def test_mel_spectrogram_matches_librosa(signals, name, htk, norm, power):
    """mel_spectrogram == librosa.feature.melspectrogram(...).T (Slaney and HTK): rel < 1e-4."""
    y, sr = signals[name]
    kw = dict(sr=sr, n_fft=1024, hop_length=256, n_mels=80, fmin=30.0, fmax=sr / 2 - 1000, power=power, htk=htk, norm=norm)
    ref = librosa.feature.melspectrogram(y=y, pad_mode="reflect", **kw).T
    out = F.mel_spectrogram(y, sr, 1024, 256, None, 80, 30.0, sr / 2 - 1000, power, htk, norm)
    assert rel(out, ref) < 1e-4


@pytest.mark.parametrize("name", SIGNAL_NAMES)
def test_log_mel_matches_librosa(signals, name):
    """log_mel_spectrogram == log(max(librosa mel, 1e-5)): max abs err < 1e-4 in the log domain."""
    y, sr = signals[name]
    cfg = F.MelConfig(sample_rate=sr, fmax=sr / 2)
    mel = librosa.feature.melspectrogram(
        y=y, sr=sr, n_fft=1024, hop_length=256, win_length=1024, n_mels=80, fmax=sr / 2, power=1.0, pad_mode="reflect"
    ).T
    ref = np.log(np.maximum(mel, 1e-5))
    out = cfg.log_mel(y).numpy()
    assert out.shape == (cfg.num_frames(len(y)), 80)
    assert np.max(np.abs(out - ref)) < 1e-4


def test_db_conversions_match_librosa(signals):
    """power_to_db / amplitude_to_db (ref 1 and 'max', top_db 80 / None): max abs err < 1e-3 dB; db_to_power rel < 1e-5."""
    y, sr = signals["speech_22k"]
    P = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=1024, hop_length=256, pad_mode="reflect")
    A = np.sqrt(P)
    assert np.max(np.abs(F.power_to_db(P.T) - librosa.power_to_db(P).T)) < 1e-3
    assert np.max(np.abs(F.power_to_db(P.T, ref="max") - librosa.power_to_db(P, ref=np.max).T)) < 1e-3
    assert np.max(np.abs(F.power_to_db(P.T, top_db=None) - librosa.power_to_db(P, top_db=None).T)) < 1e-3
    assert np.max(np.abs(F.amplitude_to_db(A.T) - librosa.amplitude_to_db(A).T)) < 1e-3
    assert np.max(np.abs(F.amplitude_to_db(A.T, ref="max") - librosa.amplitude_to_db(A, ref=np.max).T)) < 1e-3
    db = librosa.power_to_db(P, top_db=None)
    assert rel(F.db_to_power(db.T), librosa.db_to_power(db).T) < 1e-5
    assert rel(F.db_to_amplitude(db.T / 2), librosa.db_to_amplitude(db / 2).T) < 1e-5


def test_power_to_db_top_db_is_per_item():
    """In a batch, top_db clips each spectrogram against its own max (librosa on each item alone)."""
    rng = np.random.default_rng(1)
    a = rng.uniform(0, 1, (2, 10, 8)).astype(np.float32) ** 8
    a[1] *= 1e-4
    out = F.power_to_db(a, top_db=20.0).numpy()
    for i in range(2):
        assert np.max(np.abs(out[i] - librosa.power_to_db(a[i], top_db=20.0))) < 1e-3


# ---------------------------------------------------------------------------------------------- MFCC


@pytest.mark.parametrize("name", SIGNAL_NAMES)
@pytest.mark.parametrize("n_mfcc,lifter,htk", [(20, 0, False), (13, 22, True)])
def test_mfcc_matches_librosa(signals, name, n_mfcc, lifter, htk):
    """mfcc == librosa.feature.mfcc(...).T (DCT-II ortho over power mel in dB): rel < 1e-4."""
    y, sr = signals[name]
    ref = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=n_mfcc, lifter=lifter, htk=htk, pad_mode="reflect").T
    out = F.mfcc(y, sr, n_mfcc=n_mfcc, lifter=lifter, htk=htk)
    assert rel(out, ref) < 1e-4


@pytest.mark.parametrize("lifter", [0, 22])
def test_mfcc_to_mel_matches_librosa(signals, lifter):
    """mfcc_to_mel == librosa.feature.inverse.mfcc_to_mel(...).T: rel < 1e-4."""
    y, sr = signals["speech_22k"]
    m = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20, lifter=lifter, pad_mode="reflect")
    ref = librosa.feature.inverse.mfcc_to_mel(m, n_mels=128, lifter=lifter).T
    assert rel(F.mfcc_to_mel(m.T, n_mels=128, lifter=lifter), ref) < 1e-4
    # keeping every coefficient makes the DCT invertible: mfcc_to_mel(mfcc(S_db)) == db_to_power(S_db)
    s_db = F.power_to_db(F.mel_spectrogram(y, sr, 2048, 512, n_mels=32, fmax=None, power=2.0))
    back = F.mfcc_to_mel(F.mfcc(S_db=s_db, n_mfcc=32), n_mels=32)
    assert rel(back, F.db_to_power(s_db)) < 1e-4


# ---------------------------------------------------------------------------------------------- inversion


@pytest.mark.parametrize("power,max_diff", [(1.0, 0.1), (2.0, 0.35)])
def test_mel_to_linear_vs_librosa_nnls(signals, power, max_diff):
    """mel_to_linear vs librosa's L-BFGS-B NNLS. The problem has many solutions (513 bins, 80 bands) and
    the two solvers stop at different ones, so: non-negative; mel residual <= librosa's (+1e-6 x max);
    no farther from the true |STFT| than librosa's; relative L2 difference of the magnitudes < 0.1 for a
    magnitude mel (measured 0.07) and < 0.35 for a power mel (measured 0.26, the square root amplifies it)."""
    y, sr = signals["speech_22k"]
    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=1024, hop_length=256, n_mels=80, fmax=8000.0, power=power, pad_mode="reflect")
    ref = librosa.feature.inverse.mel_to_stft(mel, sr=sr, n_fft=1024, power=power, fmax=8000.0).T
    out = F.mel_to_linear(mel.T, sr, 1024, fmax=8000.0, power=power).numpy()
    assert out.shape == ref.shape and out.min() >= 0
    fb = F.mel_filterbank(sr, 1024, 80, 0.0, 8000.0)
    res_ours = np.linalg.norm((out**power) @ fb - mel.T)
    res_ref = np.linalg.norm((ref**power) @ fb - mel.T)
    assert res_ours <= res_ref + 1e-6 * np.abs(mel).max()
    assert np.linalg.norm(out - ref) / np.linalg.norm(ref) < max_diff
    # and it is no farther from the true magnitude than librosa's estimate
    true = np.abs(librosa.stft(y, n_fft=1024, hop_length=256, pad_mode="reflect")).T
    assert np.linalg.norm(out - true) <= 1.01 * np.linalg.norm(ref - true)


def test_griffin_lim_matches_librosa_and_beats_random_phase(signals):
    """griffin_lim(init=None, momentum=0.99, 32 iters) vs librosa.griffinlim: waveform rel < 2e-3 and
    spectral convergence within 0.01; it beats random phase: SC < 0.5 x SC(random phase)."""
    y, sr = signals["speech_22k"]
    S = np.abs(librosa.stft(y, n_fft=1024, hop_length=256, pad_mode="reflect"))
    ref = librosa.griffinlim(S, n_iter=32, hop_length=256, init=None, momentum=0.99, pad_mode="reflect", length=len(y))
    out = F.griffin_lim(S.T, n_iter=32, hop_length=256, init=None, momentum=0.99, length=len(y)).numpy()
    assert rel(out, ref) < 2e-3
    sc_ours = float(F.spectral_convergence(S.T, out, 1024, 256))
    sc_ref = float(F.spectral_convergence(S.T, ref, 1024, 256))
    assert abs(sc_ours - sc_ref) < 0.01
    rng = np.random.default_rng(0)
    random_phase = F.istft(S.T * np.exp(2j * np.pi * rng.random(S.T.shape)), 256, length=len(y))
    sc_random = float(F.spectral_convergence(S.T, random_phase, 1024, 256))
    assert sc_ours < 0.5 * sc_random, (sc_ours, sc_random)
    # random init and plain Griffin-Lim also converge below random phase
    out_rand = F.griffin_lim(S.T, n_iter=16, hop_length=256, seed=3, length=len(y))
    assert float(F.spectral_convergence(S.T, out_rand, 1024, 256)) < 0.7 * sc_random


def test_griffin_lim_is_batched():
    """A batch (2, 2, frames, bins) gives the same as each item alone (max abs err < 1e-4)."""
    rng = np.random.default_rng(2)
    S = np.abs(F.stft(rng.standard_normal((2, 2, 4096)).astype(np.float32) * 0.1, 512, 128)).astype(np.float32)
    out = F.griffin_lim(S, n_iter=8, hop_length=128, init=None).numpy()
    assert out.shape == (2, 2, 4096)
    single = F.griffin_lim(S[1, 0], n_iter=8, hop_length=128, init=None).numpy()
    assert np.max(np.abs(out[1, 0] - single)) < 1e-4


def test_log_mel_to_audio_beats_random_phase(signals):
    """The Griffin-Lim baseline: the log-mel of its output is closer to the input log-mel than random phase is."""
    y = _load("speech", 16000, 0.5)
    cfg = F.MelConfig(sample_rate=16000, n_fft=512, hop_length=128, win_length=512, n_mels=64)
    lm = cfg.log_mel(y)
    out = F.log_mel_to_audio(lm, cfg, n_iter=32, length=len(y), seed=0)
    assert out.shape == (len(y),)
    err = float(tf.reduce_mean(tf.abs(cfg.log_mel(out) - lm)))
    S = F.mel_to_linear(tf.exp(lm), 16000, 512, fmax=cfg.fmax).numpy()
    rng = np.random.default_rng(0)
    rand = F.istft(S * np.exp(2j * np.pi * rng.random(S.shape)), 128, length=len(y))
    err_rand = float(tf.reduce_mean(tf.abs(cfg.log_mel(rand) - lm)))
    assert err < 0.7 * err_rand, (err, err_rand)


# ---------------------------------------------------------------------------------------------- graph, batch, grad


def test_batch_dims_and_tf_data_graph_mode(signals):
    """Any leading batch dims; inside tf.data .map (graph) equals eager (max abs err < 1e-5)."""
    y, _ = signals["random_16k"]
    cfg = F.MelConfig(sample_rate=16000, n_fft=512, hop_length=128, win_length=400, n_mels=40)
    x = np.stack([np.stack([y, 0.5 * y, -y])] * 2)  # (2, 3, time)
    out = cfg.log_mel(x).numpy()
    assert out.shape == (2, 3, cfg.num_frames(len(y)), 40)
    single = cfg.log_mel(0.5 * y).numpy()
    assert np.max(np.abs(out[1, 1] - single)) < 1e-5

    ds = tf.data.Dataset.from_tensor_slices(x[0]).batch(3).map(
        lambda a: {"mel": cfg.log_mel(a), "mfcc": F.mfcc(a, 16000, n_fft=512, hop_length=128, n_mels=40)}
    )
    el = next(iter(ds))
    assert np.max(np.abs(el["mel"].numpy() - out[0])) < 1e-5
    assert np.max(np.abs(el["mfcc"].numpy() - F.mfcc(x[0], 16000, n_fft=512, hop_length=128, n_mels=40).numpy())) < 1e-3

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32)])
    def roundtrip(a):  # unknown batch and time
        return F.istft(F.stft(a, 512, 128), 128, length=8000)

    assert np.max(np.abs(roundtrip(x[0]).numpy() - x[0])) < 1e-5


def test_gradient_matches_finite_difference(signals):
    """d/dx sum(mel power spectrogram) (quadratic in x) equals the central finite difference (rel < 1e-2),
    and the log-mel / MFCC gradients are finite, also on digital silence."""
    y, _ = signals["random_16k"]
    x = tf.constant(y[:4000])
    d = tf.constant(np.random.default_rng(3).standard_normal(4000).astype(np.float32))

    def loss(a):
        return tf.reduce_sum(F.mel_spectrogram(a, 16000, 512, 128, n_mels=40, power=2.0))

    with tf.GradientTape() as tape:
        tape.watch(x)
        val = loss(x)
    g = tape.gradient(val, x)
    h = 1e-2
    fd = (loss(x + h * d) - loss(x - h * d)) / (2 * h)
    assert abs(float(tf.reduce_sum(g * d)) - float(fd)) < 1e-2 * abs(float(fd))

    for a in (x, tf.zeros([4000])):
        with tf.GradientTape() as tape:
            tape.watch(a)
            out = tf.reduce_sum(F.log_mel_spectrogram(a, 16000, 512, 128, n_mels=40)) + tf.reduce_sum(
                F.mfcc(a, 16000, n_fft=512, hop_length=128, n_mels=40)
            )
        grad = tape.gradient(out, a)
        assert np.all(np.isfinite(grad.numpy()))
    assert float(tf.reduce_max(tf.abs(g))) > 0


def test_mel_config():
    cfg = F.MelConfig(sample_rate=16000, n_fft=512, hop_length=128, win_length=512)
    assert F.MelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError):
        F.MelConfig.from_dict({"n_ftt": 3})
    for n in (1, 127, 128, 16000):
        assert cfg.log_mel(np.zeros(max(n, 300), np.float32)).shape[0] == cfg.num_frames(max(n, 300))
    nc = F.MelConfig(center=False, n_fft=512, hop_length=128, win_length=512)
    assert nc.log_mel(np.zeros(2000, np.float32)).shape[0] == nc.num_frames(2000)


@pytest.mark.parametrize("length", [1, 2, 5, 256])
def test_reflect_padding_of_short_signals_matches_numpy(length):
    """Shorter than n_fft // 2: NumPy (and librosa) reflect repeatedly, where TF's MirrorPad would fail."""
    x = np.random.default_rng(length).standard_normal((2, length)).astype(np.float32)
    want = np.pad(x, [(0, 0), (512, 512)], mode="reflect")
    np.testing.assert_allclose(F._pad_last(tf.constant(x), 512, 512, "reflect").numpy(), want)
    dynamic = tf.function(lambda a: F._pad_last(a, 512, 512, "reflect"),
                          input_signature=[tf.TensorSpec([2, None], tf.float32)])
    np.testing.assert_allclose(dynamic(x).numpy(), want)
    spec = F.stft(x, n_fft=1024, hop_length=256)  # no longer an error
    assert spec.shape[-2] == length // 256 + 1
