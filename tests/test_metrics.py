"""Tests of audiogen_tf.metrics on signals whose answers are known."""

import math
import sys
import warnings

import numpy as np
import pytest

from audiogen_tf import metrics as M

SR = 16000


def _sine(freq, seconds=1.0, sr=SR, amp=0.5):
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _speechlike(seconds=2.0, sr=SR, seed=0, f0_scale=1.0):
    """Harmonic 'voice' with a gliding F0, vowel-like spectral tilt, syllable envelope, breath noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    f0 = f0_scale * (120 + 60 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    formant_gain = lambda hz: np.exp(-((hz - 700) / 400) ** 2) + 0.5 * np.exp(-((hz - 1800) / 500) ** 2) + 0.05
    x = sum(formant_gain(k * 150.0) * np.sin(k * phase) for k in range(1, 30))
    env = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None) ** 0.5
    x = env * x + 0.003 * rng.standard_normal(n)
    return (0.3 * x / np.max(np.abs(x))).astype(np.float32)


def _note_sequence(sr=SR, seed=1):
    """A melody of distinct notes and noise bursts: different spectra over time, for DTW tests."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, f in enumerate([220, 330, 262, 440, 196, 523, 294, 392]):
        seg = _sine(f, 0.12, sr) + 0.5 * _sine(2 * f, 0.12, sr)
        if i % 3 == 2:
            seg = seg + 0.2 * rng.standard_normal(seg.shape[0]).astype(np.float32)
        parts.append(seg * np.hanning(seg.shape[0]).astype(np.float32))
    return np.concatenate(parts)


def _add_noise(x, snr_db, seed=0, orthogonal=False):
    """x plus white noise scaled to exactly ``snr_db`` (optionally zero-mean and orthogonal to x)."""
    noise = np.random.default_rng(seed).standard_normal(x.shape[0])
    if orthogonal:
        noise -= noise.mean()
        noise -= np.dot(noise, x) / np.dot(x, x) * x
    noise *= np.sqrt(np.sum(x.astype(np.float64) ** 2) / np.sum(noise**2) / 10 ** (snr_db / 10))
    return x + noise


@pytest.fixture(scope="module")
def speech():
    return _speechlike()


def test_identical_signals_give_zero_distance_and_infinite_ratio(speech):
    mr = M.multi_resolution_stft_distance(speech, speech)
    assert mr == {"spectral_convergence": 0.0, "log_magnitude": 0.0, "total": 0.0}
    assert M.log_spectral_distance(speech, speech) == 0.0
    assert M.mel_cepstral_distortion(speech, speech, SR) == 0.0
    assert M.mel_cepstral_distortion(speech, speech, SR, dtw=True) == 0.0
    assert M.snr(speech, speech) == math.inf
    assert M.si_sdr(speech, speech) == math.inf
    x64 = speech.astype(np.float64)
    assert M.si_sdr(x64, 0.3 * x64) == math.inf  # scale-invariant
    assert M.si_sdr(speech, 0.3 * speech) > 140.0  # float32 rounding of the scaled copy only


@pytest.mark.parametrize("snr_db", [30.0, 10.0, 0.0, -5.0])
def test_snr_of_added_noise_matches(speech, snr_db):
    noisy = _add_noise(speech, snr_db)
    assert M.snr(speech, noisy) == pytest.approx(snr_db, abs=0.1)
    # SI-SDR equals SNR when the noise is orthogonal to a zero-mean reference; a gain on the
    # estimate changes SNR but not SI-SDR.
    ref = speech.astype(np.float64) - speech.mean()
    noisy = _add_noise(ref, snr_db, orthogonal=True)
    assert M.si_sdr(ref, noisy) == pytest.approx(snr_db, abs=0.01)
    assert M.si_sdr(ref, 2.0 * noisy) == pytest.approx(snr_db, abs=0.01)
    assert M.snr(ref, 2.0 * noisy) < snr_db - 1.0


def test_known_values_for_a_gain_change(speech):
    # |E| = |S| / 2 everywhere: SC = 0.5 and |log S - log E| = ln 2 in every bin (no clamp hit).
    x = speech + 0.01 * np.random.default_rng(3).standard_normal(speech.shape[0])
    mr = M.multi_resolution_stft_distance(x, 0.5 * x)
    assert mr["spectral_convergence"] == pytest.approx(0.5, rel=1e-6)
    assert mr["log_magnitude"] == pytest.approx(math.log(2.0), rel=1e-6)
    assert mr["total"] == pytest.approx(0.5 + math.log(2.0), rel=1e-6)
    assert M.log_spectral_distance(x, 0.5 * x) == pytest.approx(20 * math.log10(2.0), rel=1e-6)
    # A gain is a shift of c0 only, which MCD excludes.
    assert M.mel_cepstral_distortion(x, 0.5 * x, SR) == pytest.approx(0.0, abs=1e-6)


def test_distances_grow_monotonically_with_noise(speech):
    levels = [40.0, 30.0, 20.0, 10.0, 0.0]
    noisy = [_add_noise(speech, s, seed=7) for s in levels]
    mr = [M.multi_resolution_stft_distance(speech, y) for y in noisy]
    for key in ("spectral_convergence", "log_magnitude", "total"):
        values = [m[key] for m in mr]
        assert all(a < b for a, b in zip(values, values[1:])), (key, values)
    lsd = [M.log_spectral_distance(speech, y) for y in noisy]
    assert all(a < b for a, b in zip(lsd, lsd[1:])), lsd
    mcd = [M.mel_cepstral_distortion(speech, y, SR) for y in noisy]
    assert all(a < b for a, b in zip(mcd, mcd[1:])), mcd


def test_mcd_with_dtw_handles_a_time_shift():
    x = _note_sequence()
    shift = int(0.03 * SR)
    shifted = np.concatenate([np.zeros(shift, np.float32), x])
    plain = M.mel_cepstral_distortion(x, shifted, SR)
    aligned = M.mel_cepstral_distortion(x, shifted, SR, dtw=True)
    assert aligned < 0.5 * plain, (aligned, plain)
    # MCD scale: the formula's constant applied to a hand-computed distance of single frames.
    a = M._mel_cepstra(x.astype(np.float64), SR, 13, 1024, 256, 40)[1:]
    b = M._mel_cepstra(shifted[: x.shape[0]].astype(np.float64), SR, 13, 1024, 256, 40)[1:]
    expected = 10 * math.sqrt(2) / math.log(10) * np.mean(np.sqrt(np.sum((a - b) ** 2, axis=0)))
    assert plain == pytest.approx(expected, rel=1e-9)


def _mcd_by_hand(ref, est, n_mfcc, n_mels=40, n_fft=1024, hop=256):
    """MCD written out: log mel amplitudes, an explicit cosine matrix for c_d, the Kubichek formula."""
    import librosa

    def cepstra(x):
        mel = librosa.feature.melspectrogram(y=x.astype(np.float64), sr=SR, n_fft=n_fft, hop_length=hop,
                                             n_mels=n_mels, power=1.0)
        m = np.arange(n_mels)
        basis = np.cos(np.pi * np.arange(n_mfcc)[:, None] * (m[None, :] + 0.5) / n_mels) / n_mels
        return basis @ np.log(np.maximum(mel, 1e-5))

    diff = cepstra(ref)[1:] - cepstra(est)[1:]
    per_frame = 10.0 / np.log(10.0) * np.sqrt(2.0 * np.sum(diff**2, axis=0))
    return float(np.mean(per_frame))


def test_mcd_matches_the_formula_on_true_cepstra(speech):
    noisy = _add_noise(speech, 10.0, seed=4)
    assert M.mel_cepstral_distortion(speech, noisy, SR) == pytest.approx(_mcd_by_hand(speech, noisy, 13), rel=1e-9)
    # With every coefficient kept, Parseval makes MCD the dB-scaled spread across mel bands of the
    # log-mel difference: 10/ln10 * mean_t std_m(log mel_ref - log mel_est).
    import librosa

    mels = [librosa.feature.melspectrogram(y=x.astype(np.float64), sr=SR, n_fft=1024, hop_length=256, n_mels=40,
                                           power=1.0) for x in (speech, noisy)]
    delta = np.log(np.maximum(mels[0], 1e-5)) - np.log(np.maximum(mels[1], 1e-5))
    expected = 10.0 / np.log(10.0) * np.mean(np.std(delta, axis=0))
    assert M.mel_cepstral_distortion(speech, noisy, SR, n_mfcc=40) == pytest.approx(expected, rel=1e-9)
    # Standard dB scale: a few dB for white noise at 10 dB SNR, not tens.
    assert 1.0 < M.mel_cepstral_distortion(speech, noisy, SR) < 10.0


def test_f0_of_a_sine_is_its_frequency():
    hz, voiced = M.f0(_sine(440.0), SR)
    assert voiced.mean() > 0.9
    assert np.nanmedian(hz) == pytest.approx(440.0, rel=0.01)
    assert np.all(np.isnan(hz[~voiced]))


def test_f0_rmse_of_an_octave_error_is_1200_cents():
    low, high = _sine(220.0), _sine(440.0)
    assert M.f0_rmse(low, high, SR) == pytest.approx(1200.0, rel=0.01)
    assert M.f0_rmse(low, low, SR) == 0.0
    assert M.f0_rmse(low, high, SR, unit="hz") == pytest.approx(220.0, rel=0.02)
    assert math.isnan(M.f0_rmse(low, np.zeros_like(low), SR))  # nothing voiced in both
    with pytest.raises(ValueError):
        M.f0_rmse(low, high, SR, unit="semitones")


def test_voicing_error_counts_disagreeing_frames():
    tone = _sine(300.0)
    half = tone.copy()
    half[SR // 2 :] = 0.0
    assert M.voicing_error(tone, tone, SR) == 0.0
    assert M.voicing_error(tone, np.zeros_like(tone), SR) > 0.9
    assert M.voicing_error(tone, half, SR) == pytest.approx(0.5, abs=0.1)


def test_pitch_scores_of_identical_signals_and_a_semitone_shift(speech):
    same = M.pitch_scores(speech, speech, SR)
    assert same == {"f0_rmse_cents": 0.0, "vuv_f1": 1.0, "voicing_error": 0.0}
    up = _speechlike(f0_scale=2 ** (1 / 12))  # the same voice a semitone higher
    shifted = M.pitch_scores(speech, up, SR)
    assert shifted["f0_rmse_cents"] == pytest.approx(100.0, abs=10.0), shifted
    assert shifted["vuv_f1"] > 0.9, shifted
    assert M.f0_rmse(_sine(220.0), _sine(220.0 * 2 ** (1 / 12)), SR) == pytest.approx(100.0, abs=3.0)


def test_voicing_f1_against_flags_counted_by_hand(speech):
    noise = 0.1 * np.random.default_rng(5).standard_normal(speech.shape[0]).astype(np.float32)
    assert M.voicing_f1(speech, noise, SR) < 0.3  # noise is (almost) never voiced
    tone = _sine(300.0)
    half = tone.copy()
    half[SR // 2 :] = 0.0
    assert M.voicing_f1(tone, tone, SR) == 1.0
    assert M.voicing_f1(tone, half, SR) == pytest.approx(2 / 3, abs=0.07)  # recall 1/2, precision 1
    assert M.voicing_f1(tone, np.zeros_like(tone), SR) == 0.0
    assert math.isnan(M.voicing_f1(np.zeros(SR), np.zeros(SR), SR))  # nothing voiced on either side
    # The same number from the pYIN flags, with TP / FP / FN counted here.
    mixed = _add_noise(speech, 5.0, seed=6)  # some frames lose their voicing
    _, v_ref = M.f0(speech, SR)
    _, v_est = M.f0(mixed, SR)
    n = min(len(v_ref), len(v_est))
    tp = np.sum(v_ref[:n] & v_est[:n])
    fp = np.sum(~v_ref[:n] & v_est[:n])
    fn = np.sum(v_ref[:n] & ~v_est[:n])
    assert M.voicing_f1(speech, mixed, SR) == pytest.approx(2 * tp / (2 * tp + fp + fn))


def test_one_pyin_pass_per_signal(monkeypatch, speech):
    calls = []
    real_f0 = M.f0

    def counting_f0(x, *args, **kwargs):
        calls.append(len(x))
        return real_f0(x, *args, **kwargs)

    monkeypatch.setattr(M, "f0", counting_f0)
    monkeypatch.setattr(M, "_F0_CACHE", type(M._F0_CACHE)())
    est_a = _add_noise(speech, 20.0, seed=1)
    est_b = _add_noise(speech, 10.0, seed=2)
    scores = M.pitch_scores(speech, est_a, SR)
    assert len(calls) == 2 and set(scores) == {"f0_rmse_cents", "vuv_f1", "voicing_error"}
    assert M.f0_rmse(speech, est_a, SR) == scores["f0_rmse_cents"] and len(calls) == 2  # cached tracks
    M.pitch_scores(speech, est_b, SR)
    assert len(calls) == 3  # the reference's track is reused for a second system
    hz, voiced = M._f0_cached(speech.astype(np.float64), SR, 50.0, 1000.0)
    assert not hz.flags.writeable and not voiced.flags.writeable


def test_dnsmos_missing_package_warns_and_returns_none(monkeypatch, speech):
    monkeypatch.setitem(sys.modules, "speechmos", None)
    with pytest.warns(M.MetricUnavailableWarning, match="DNSMOS.*pip install speechmos onnxruntime"):
        assert M.dnsmos(speech, SR) is None
    with pytest.warns(M.MetricUnavailableWarning, match="DNSMOS"):
        out = M.evaluate_pair(speech, speech, SR, with_f0=False, with_pesq=False, with_stoi=False)
    assert out["dnsmos_sig"] is None and out["dnsmos_bak"] is None and out["dnsmos_ovrl"] is None


def test_dnsmos_prefers_clean_speech_over_noisy(speech):
    pytest.importorskip("speechmos", reason="pip install speechmos onnxruntime requests")
    pytest.importorskip("onnxruntime", reason="pip install onnxruntime")
    from audiogen_tf.audio import resample

    clean = M.dnsmos(resample(speech, SR, 22050), 22050)  # resampled to 16 kHz inside
    loud_noisy = 3.0 * _add_noise(speech, 0.0, seed=3)
    assert np.max(np.abs(loud_noisy)) > 1.0  # clipped inside (speechmos refuses samples outside [-1, 1])
    noisy = M.dnsmos(loud_noisy, SR)
    assert set(clean) == {"sig", "bak", "ovrl"}
    assert all(1.0 <= v <= 5.0 for v in list(clean.values()) + list(noisy.values())), (clean, noisy)
    assert clean["bak"] > noisy["bak"] + 0.5 and clean["ovrl"] > noisy["ovrl"], (clean, noisy)
    with pytest.warns(M.MetricUnavailableWarning, match="all zeros"):
        assert M.dnsmos(np.zeros(SR), SR) is None


def test_vocoder_quality_row_has_the_table_columns(speech):
    est = _add_noise(speech, 15.0, seed=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", M.MetricUnavailableWarning)
        row = M.vocoder_quality_row(speech, est, SR)
    assert tuple(row) == M.VOCODER_ROW_KEYS
    assert row["mrstft"] == pytest.approx(M.multi_resolution_stft_distance(speech, est)["total"])
    assert row["mcd"] == pytest.approx(M.mel_cepstral_distortion(speech, est, SR))
    lo, hi = M.SPEECH_F0_RANGE
    assert row["f0_rmse_cents"] == M.f0_rmse(speech, est, SR, fmin=lo, fmax=hi)
    assert row["vuv_f1"] == M.voicing_f1(speech, est, SR, fmin=lo, fmax=hi)
    assert {"pesq_wb", "stoi", "vuv_f1"} <= M.HIGHER_IS_BETTER and "mcd" not in M.HIGHER_IS_BETTER
    # A vocoder's few extra samples at the end change nothing.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", M.MetricUnavailableWarning)
        longer = M.vocoder_quality_row(speech, np.concatenate([est, np.full(300, 0.01, np.float32)]), SR)
    assert longer == pytest.approx(row, nan_ok=True)


def test_pesq_wb_and_stoi_rank_noise_levels(speech):
    pytest.importorskip("pesq")
    pytest.importorskip("pystoi")
    clean = M.pesq_wb(speech, speech, SR)
    mid = M.pesq_wb(speech, _add_noise(speech, 20.0), SR)
    bad = M.pesq_wb(speech, _add_noise(speech, 0.0), SR)
    assert clean > 4.5 and clean > mid > bad >= 1.0, (clean, mid, bad)
    s_clean, s_mid, s_bad = (M.stoi(speech, y, SR) for y in (speech, _add_noise(speech, 10.0), _add_noise(speech, -10.0)))
    assert s_clean == pytest.approx(1.0, abs=1e-6) and s_clean > s_mid > s_bad, (s_clean, s_mid, s_bad)


def test_pesq_resamples_other_rates(speech):
    pytest.importorskip("pesq")
    from audiogen_tf.audio import resample

    x22 = resample(speech, SR, 22050)
    assert M.pesq_wb(x22, x22, 22050) > 4.5


def test_optional_metrics_return_none_with_a_reason_when_missing(monkeypatch, speech):
    monkeypatch.setitem(sys.modules, "pesq", None)  # makes `import pesq` raise ImportError
    monkeypatch.setitem(sys.modules, "pystoi", None)
    with pytest.warns(M.MetricUnavailableWarning, match="pesq"):
        assert M.pesq_wb(speech, speech, SR) is None
    with pytest.warns(M.MetricUnavailableWarning, match="pystoi"):
        assert M.stoi(speech, speech, SR) is None


def test_pesq_on_silence_returns_none_with_a_reason():
    pytest.importorskip("pesq")
    silence = np.zeros(SR, np.float32)
    with pytest.warns(M.MetricUnavailableWarning, match="PESQ"):
        assert M.pesq_wb(silence, silence, SR) is None


def test_evaluate_pair_reports_every_metric(speech):
    noisy = _add_noise(speech, 15.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", M.MetricUnavailableWarning)
        out = M.evaluate_pair(speech, noisy, SR)
    expected = {
        "mrstft_sc", "mrstft_logmag", "mrstft", "log_spectral_distance", "mcd", "snr", "si_sdr",
        "f0_rmse_cents", "vuv_f1", "voicing_error", "pesq_wb", "stoi", "dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl",
    }
    assert set(out) == expected
    assert out["snr"] == pytest.approx(15.0, abs=0.1)
    mr = M.multi_resolution_stft_distance(speech, noisy)
    assert out["mrstft"] == pytest.approx(mr["total"])
    assert out["mcd"] == pytest.approx(M.mel_cepstral_distortion(speech, noisy, SR))
    assert 0.0 <= out["voicing_error"] <= 1.0 and 0.0 <= out["vuv_f1"] <= 1.0
    assert out["vuv_f1"] == M.voicing_f1(speech, noisy, SR)
    lean = M.evaluate_pair(speech, speech, SR, with_f0=False, with_pesq=False, with_stoi=False, with_dnsmos=False)
    assert set(lean) == expected - {"f0_rmse_cents", "vuv_f1", "voicing_error", "pesq_wb", "stoi"} - {
        "dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl"}
    assert lean["mrstft"] == 0.0 and lean["snr"] == math.inf


def test_inputs_are_checked_and_lengths_trimmed(speech):
    with pytest.raises(ValueError, match="1-D"):
        M.snr(np.zeros((2, 100)), np.zeros((2, 100)))
    with pytest.raises(ValueError, match="NaN"):
        M.snr(np.full(10, np.nan), np.zeros(10))
    # A few extra samples at the end of the estimate (vocoder padding) are ignored.
    longer = np.concatenate([speech, np.ones(100, np.float32)])
    assert M.snr(speech, longer) == math.inf
    assert M.multi_resolution_stft_distance(speech, longer)["total"] == 0.0
    # Signals shorter than the FFT still work.
    short = speech[:300]
    assert M.multi_resolution_stft_distance(short, short)["total"] == 0.0
