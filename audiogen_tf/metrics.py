"""Audio quality metrics (NumPy / librosa) comparing a reference waveform with an estimate.

Every function takes 1-D float arrays ``(time,)``. When ``ref`` and ``est`` differ in length, both
are cut to the shorter one (vocoders often return a few samples more or less than the reference).
Distances are 0 for identical signals; ratios (SNR, SI-SDR) are ``inf`` for identical signals.

Example:
    >>> import numpy as np
    >>> from audiogen_tf import metrics
    >>> sr = 16000
    >>> ref = np.sin(2 * np.pi * 440 * np.arange(sr) / sr).astype(np.float32)
    >>> est = ref + 0.01 * np.random.default_rng(0).standard_normal(sr).astype(np.float32)
    >>> round(metrics.snr(ref, est))
    37
    >>> scores = metrics.evaluate_pair(ref, est, sr, with_pesq=False, with_stoi=False, with_dnsmos=False)
    >>> sorted(scores)[:3]
    ['f0_rmse_cents', 'log_spectral_distance', 'mcd']
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections import OrderedDict
from typing import Sequence

import numpy as np

#: Default MR-STFT resolutions as ``(n_fft, hop_length, win_length)``.
DEFAULT_RESOLUTIONS = ((512, 128, 512), (1024, 256, 1024), (2048, 512, 2048))

_MAG_FLOOR = 1e-7  # magnitude clamp of the Parallel WaveGAN STFT loss
_POWER_FLOOR = 1e-10


class MetricUnavailableWarning(UserWarning):
    """An optional metric (PESQ, STOI, DNSMOS, WER) could not be computed; the metric returns ``None``."""


def _one(x) -> np.ndarray:
    """``x`` as a checked float64 waveform ``(time,)``: 1-D, not empty, finite."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"metrics take 1-D waveforms (time,), got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError("empty waveform")
    if not np.all(np.isfinite(x)):
        raise ValueError("waveform contains NaN or Inf")
    return x


def _pair(ref, est) -> tuple[np.ndarray, np.ndarray]:
    ref = np.asarray(ref, dtype=np.float64)
    est = np.asarray(est, dtype=np.float64)
    if ref.ndim != 1 or est.ndim != 1:
        raise ValueError(f"metrics take 1-D waveforms (time,), got shapes {ref.shape} and {est.shape}")
    n = min(ref.shape[0], est.shape[0])
    if n == 0:
        raise ValueError("empty waveform")
    if not (np.all(np.isfinite(ref[:n])) and np.all(np.isfinite(est[:n]))):
        raise ValueError("waveform contains NaN or Inf")
    return ref[:n], est[:n]


def _stft_mag(x: np.ndarray, n_fft: int, hop: int, win: int) -> np.ndarray:
    import librosa

    if x.shape[0] < n_fft:  # reflect padding needs at least n_fft//2 + 1 samples
        x = np.pad(x, (0, n_fft - x.shape[0]))
    return np.abs(librosa.stft(x, n_fft=n_fft, hop_length=hop, win_length=win, window="hann", center=True))


def multi_resolution_stft_distance(
    ref, est, resolutions: Sequence[tuple[int, int, int]] = DEFAULT_RESOLUTIONS
) -> dict[str, float]:
    """Multi-resolution STFT distance of Parallel WaveGAN.

    For each resolution ``(n_fft, hop, win)`` with magnitudes ``S = |STFT(ref)|``, ``E = |STFT(est)|``
    (clamped at 1e-7)::

        spectral_convergence = ||S - E||_F / ||S||_F
        log_magnitude        = mean(|log S - log E|)

    Each term is averaged over the resolutions and ``total`` is their sum.

    Args:
        ref: reference waveform ``(time,)``.
        est: estimated waveform ``(time,)``.
        resolutions: ``(n_fft, hop_length, win_length)`` triples; Hann window, centred frames.

    Returns:
        ``{"spectral_convergence", "log_magnitude", "total"}`` (floats, 0 for identical signals).

    Example:
        >>> x = np.random.default_rng(0).standard_normal(16000)
        >>> multi_resolution_stft_distance(x, x)["total"]
        0.0

    Reference: Yamamoto et al., "Parallel WaveGAN", ICASSP 2020, eqs. (4)-(6).
    """
    ref, est = _pair(ref, est)
    if not resolutions:
        raise ValueError("resolutions must not be empty")
    sc, mag = [], []
    for n_fft, hop, win in resolutions:
        s = np.maximum(_stft_mag(ref, n_fft, hop, win), _MAG_FLOOR)
        e = np.maximum(_stft_mag(est, n_fft, hop, win), _MAG_FLOOR)
        sc.append(float(np.linalg.norm(s - e) / np.linalg.norm(s)))
        mag.append(float(np.mean(np.abs(np.log(s) - np.log(e)))))
    sc_mean, mag_mean = float(np.mean(sc)), float(np.mean(mag))
    return {"spectral_convergence": sc_mean, "log_magnitude": mag_mean, "total": sc_mean + mag_mean}


def log_spectral_distance(ref, est, n_fft: int = 2048, hop: int = 512) -> float:
    """Log-spectral distance in dB.

    ``LSD = mean_t sqrt( mean_f (10 log10 |S(t,f)|^2 - 10 log10 |E(t,f)|^2)^2 )`` with the power
    floored at 1e-10.

    Args:
        ref: reference waveform ``(time,)``.
        est: estimated waveform ``(time,)``.
        n_fft: FFT size (window length, Hann window).
        hop: hop length in samples.

    Example:
        >>> x = np.random.default_rng(0).standard_normal(16000)
        >>> round(log_spectral_distance(x, 0.5 * x), 2)  # a 6 dB gain change
        6.02

    Reference: Gray & Markel, "Distance measures for speech processing", IEEE TASSP 1976; the
    frame-averaged form used for bandwidth extension (e.g. Kuleshov et al., "Audio Super
    Resolution using Neural Networks", 2017).
    """
    ref, est = _pair(ref, est)
    s = 10.0 * np.log10(np.maximum(_stft_mag(ref, n_fft, hop, n_fft) ** 2, _POWER_FLOOR))
    e = 10.0 * np.log10(np.maximum(_stft_mag(est, n_fft, hop, n_fft) ** 2, _POWER_FLOOR))
    return float(np.mean(np.sqrt(np.mean((s - e) ** 2, axis=0))))


def _mel_cepstra(x: np.ndarray, sr: int, n_mfcc: int, n_fft: int, hop: int, n_mels: int) -> np.ndarray:
    """Mel-cepstrum ``c_0 .. c_{n_mfcc-1}`` of each frame, shape (n_mfcc, frames).

    The real cepstrum of the natural-log mel amplitude spectrum ``x_m`` (``M = n_mels`` bands read as
    samples of ``log|X(w)|`` at ``w = pi (m + 1/2) / M``)::

        c_d = 1/M * sum_m x_m cos(pi d (m + 1/2) / M)      so that  x_m ~ c_0 + 2 sum_{d>=1} c_d cos(...)

    This is the scale the MCD constant ``10 sqrt(2) / ln 10`` is written for (an orthonormal DCT, as in
    ``librosa.feature.mfcc``, is larger by ``sqrt(2M)`` for ``d >= 1``).
    """
    import librosa
    import scipy.fft

    if x.shape[0] < n_fft:
        x = np.pad(x, (0, n_fft - x.shape[0]))
    mel = librosa.feature.melspectrogram(y=x, sr=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels, power=1.0)
    # scipy's unnormalised DCT-II is 2 * sum_m x_m cos(pi d (m + 1/2) / M).
    return scipy.fft.dct(np.log(np.maximum(mel, 1e-5)), type=2, axis=0)[:n_mfcc] / (2.0 * n_mels)


def mel_cepstral_distortion(
    ref,
    est,
    sr: int,
    n_mfcc: int = 13,
    dtw: bool = False,
    n_fft: int = 1024,
    hop: int = 256,
    n_mels: int = 40,
) -> float:
    """Mel-cepstral distortion in dB, optionally after DTW alignment.

    ``MCD = 10 / ln(10) * mean_t sqrt( 2 * sum_{d=1}^{n_mfcc-1} (c_d(t) - c'_d(t))^2 )``
    where ``c`` is the real cepstrum of the natural-log mel amplitude spectrum (see ``_mel_cepstra``;
    ``c_0``, the energy, is excluded, so a gain change costs nothing). With ``n_mfcc = n_mels`` it
    equals ``10 / ln(10)`` times the mean over frames of the standard deviation across mel bands of
    ``log mel_ref - log mel_est`` (Parseval). Without DTW the frames are paired by index (vocoder
    output is time-aligned with its reference); with DTW they are paired along the minimum-cost path
    of ``librosa.sequence.dtw`` (Euclidean cost) and the mean runs over the path. The default of 13
    coefficients follows the "MCD13" of TTS papers (whose cepstra, and so numbers, may be scaled
    differently: compare MCDs computed by one implementation only).

    Args:
        ref: reference waveform ``(time,)``.
        est: estimated waveform ``(time,)``; with ``dtw=True`` it may differ in length.
        sr: sample rate of both.
        n_mfcc: number of cepstral coefficients including ``c_0``.
        dtw: align the two cepstrum sequences with dynamic time warping first.
        n_fft, hop, n_mels: analysis settings of the mel spectrum.

    Example:
        >>> x = np.random.default_rng(0).standard_normal(16000)
        >>> mel_cepstral_distortion(x, np.roll(x, 160), 16000, dtw=True) < mel_cepstral_distortion(x, np.roll(x, 160), 16000)
        True

    Reference: Kubichek, "Mel-cepstral distance measure for objective speech quality assessment",
    IEEE PACRIM 1993.
    """
    if dtw:  # DTW handles different lengths itself
        ref, _ = _pair(ref, ref)
        est, _ = _pair(est, est)
    else:
        ref, est = _pair(ref, est)
    if n_mfcc < 2:
        raise ValueError("n_mfcc must be at least 2 (c0 is excluded)")
    a = _mel_cepstra(ref, sr, n_mfcc, n_fft, hop, n_mels)[1:]
    b = _mel_cepstra(est, sr, n_mfcc, n_fft, hop, n_mels)[1:]
    if dtw:
        import librosa

        _, path = librosa.sequence.dtw(X=a, Y=b, metric="euclidean")
        dist = np.linalg.norm(a[:, path[:, 0]] - b[:, path[:, 1]], axis=0)
    else:
        n = min(a.shape[1], b.shape[1])
        dist = np.linalg.norm(a[:, :n] - b[:, :n], axis=0)
    return float(10.0 / math.log(10.0) * np.mean(np.sqrt(2.0) * dist))


def snr(ref, est) -> float:
    """Signal-to-noise ratio in dB: ``10 log10( sum ref^2 / sum (ref - est)^2 )``; ``inf`` if equal.

    Args:
        ref: clean reference ``(time,)``.
        est: estimate ``(time,)``.

    Example:
        >>> x = np.ones(100)
        >>> snr(x, x), round(snr(x, 1.1 * x), 1)
        (inf, 20.0)
    """
    ref, est = _pair(ref, est)
    noise = float(np.sum((ref - est) ** 2))
    signal = float(np.sum(ref**2))
    if noise == 0.0:
        return math.inf
    if signal == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def si_sdr(ref, est, zero_mean: bool = True) -> float:
    """Scale-invariant signal-to-distortion ratio in dB.

    With ``alpha = <est, ref> / ||ref||^2``: ``SI-SDR = 10 log10( ||alpha ref||^2 / ||alpha ref - est||^2 )``.
    Both signals are made zero-mean first, as the paper recommends. ``inf`` when ``est`` is a scaled
    copy of ``ref``.

    Args:
        ref: reference ``(time,)``.
        est: estimate ``(time,)``.
        zero_mean: subtract each signal's mean first.

    Example:
        >>> x = np.random.default_rng(0).standard_normal(1000)
        >>> si_sdr(x, 0.3 * x)
        inf

    Reference: Le Roux et al., "SDR - half-baked or well done?", ICASSP 2019, eq. (5).
    """
    ref, est = _pair(ref, est)
    if zero_mean:
        ref = ref - ref.mean()
        est = est - est.mean()
    ref_energy = float(np.dot(ref, ref))
    if ref_energy == 0.0:
        raise ValueError("si_sdr needs a reference with non-zero energy")
    target = (float(np.dot(est, ref)) / ref_energy) * ref
    noise = float(np.sum((target - est) ** 2))
    t = float(np.sum(target**2))
    # Exact scaled copies leave only round-off in ``noise``.
    if noise <= 1e-20 * max(t, 1e-300):
        return math.inf
    if t == 0.0:
        return -math.inf
    return 10.0 * math.log10(t / noise)


#: pYIN search range (Hz) of the pitch metrics: wide enough for sung notes; :func:`vocoder_quality_row`
#: narrows it to :data:`SPEECH_F0_RANGE`, which is faster and less prone to octave jumps on speech.
F0_RANGE = (50.0, 1000.0)
SPEECH_F0_RANGE = (50.0, 600.0)


def f0(
    audio, sr: int, fmin: float = 50.0, fmax: float = 1000.0, frame_length: int | None = None, hop_length: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fundamental frequency with probabilistic YIN (``librosa.pyin``).

    pYIN is used (not plain YIN) because it also decides voicing with an HMM; it runs about 60 ms per
    second of 16 kHz audio (plus a one-off numba compile of a few seconds in a fresh process).

    Args:
        audio: waveform ``(time,)``.
        sr: sample rate.
        fmin, fmax: search range in Hz.
        frame_length: analysis window; default the power of two covering 40 ms (at least
            ``2 * sr / fmin`` samples so a period of ``fmin`` fits twice).
        hop_length: default ``frame_length // 4``.

    Returns:
        ``(f0_hz, voiced)``: float arrays ``(frames,)`` with ``nan`` on unvoiced frames, and bool flags.

    Example:
        >>> hz, voiced = f0(np.sin(2 * np.pi * 440 * np.arange(16000) / 16000), 16000)

    Reference: Mauch & Dixon, "pYIN: a fundamental frequency estimator using probabilistic
    threshold distributions", ICASSP 2014.
    """
    import librosa

    x = np.asarray(audio, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"f0 takes a 1-D waveform (time,), got shape {x.shape}")
    if frame_length is None:
        need = max(0.04 * sr, 2.0 * sr / fmin + 2)
        frame_length = int(2 ** math.ceil(math.log2(need)))
    if hop_length is None:
        hop_length = frame_length // 4
    if x.shape[0] < frame_length:
        x = np.pad(x, (0, frame_length - x.shape[0]))
    hz, voiced, _ = librosa.pyin(
        x, fmin=fmin, fmax=fmax, sr=sr, frame_length=frame_length, hop_length=hop_length
    )
    hz = np.where(voiced, hz, np.nan)
    return hz, np.asarray(voiced, dtype=bool)


_F0_CACHE: OrderedDict = OrderedDict()
_F0_CACHE_SIZE = 64


def _f0_cached(x: np.ndarray, sr: int, fmin: float, fmax: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`f0` of ``x``, remembered by content for the last 64 signals (read-only arrays).

    pYIN is by far the slowest metric; a benchmark compares one reference with several systems, so
    the reference's track is computed once per process.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    key = (hashlib.sha1(x.tobytes()).hexdigest(), x.shape[0], int(sr), float(fmin), float(fmax))
    hit = _F0_CACHE.get(key)
    if hit is not None:
        _F0_CACHE.move_to_end(key)
        return hit
    hz, voiced = f0(x, sr, fmin, fmax)
    hz.setflags(write=False)
    voiced.setflags(write=False)
    _F0_CACHE[key] = (hz, voiced)
    while len(_F0_CACHE) > _F0_CACHE_SIZE:
        _F0_CACHE.popitem(last=False)
    return hz, voiced


def _f0_pair(ref, est, sr, fmin, fmax):
    """pYIN tracks of both whole signals (cached), cut to the frames both have."""
    f_ref, v_ref = _f0_cached(_one(ref), sr, fmin, fmax)
    f_est, v_est = _f0_cached(_one(est), sr, fmin, fmax)
    n = min(len(f_ref), len(f_est))
    return f_ref[:n], v_ref[:n], f_est[:n], v_est[:n]


def f0_rmse(ref, est, sr: int, unit: str = "cents", fmin: float = 50.0, fmax: float = 1000.0) -> float:
    """Root-mean-square F0 error over the frames voiced in both signals.

    ``cents``: ``sqrt(mean (1200 log2(f_est / f_ref))^2)``; ``hz``: ``sqrt(mean (f_est - f_ref)^2)``.
    ``nan`` when no frame is voiced in both. Pitch and voicing come from :func:`f0` (pYIN).

    Args:
        ref, est: waveforms ``(time,)``.
        sr: sample rate.
        unit: ``"cents"`` or ``"hz"``.
        fmin, fmax: pYIN search range.

    Example:
        >>> t = np.arange(16000) / 16000
        >>> round(f0_rmse(np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 440 * t), 16000))  # an octave
        1200

    Reference: F0 RMSE as reported for neural vocoders, e.g. Engel et al., "DDSP", ICLR 2020 (F0 L1)
    and Morrison et al., "Chunked autoregressive GAN", ICLR 2022 (pitch error in cents).
    """
    if unit not in ("cents", "hz"):
        raise ValueError(f"unit must be 'cents' or 'hz', got {unit!r}")
    return _f0_rmse_of_tracks(*_f0_pair(ref, est, sr, fmin, fmax), unit=unit)


def _f0_rmse_of_tracks(f_ref, v_ref, f_est, v_est, unit: str = "cents") -> float:
    both = v_ref & v_est
    if not np.any(both):
        return math.nan
    a, b = f_ref[both], f_est[both]
    err = 1200.0 * np.log2(b / a) if unit == "cents" else b - a
    return float(np.sqrt(np.mean(err**2)))


def _f1_of_flags(v_ref: np.ndarray, v_est: np.ndarray) -> float:
    """F1 of the estimated voiced flags against the reference's; ``nan`` when neither has a voiced frame."""
    tp = int(np.sum(v_ref & v_est))
    wrong = int(np.sum(v_ref != v_est))  # false positives + false negatives
    if tp + wrong == 0:
        return math.nan
    return 2.0 * tp / (2.0 * tp + wrong)


def voicing_error(ref, est, sr: int, fmin: float = 50.0, fmax: float = 1000.0) -> float:
    """Fraction of frames whose pYIN voicing decision differs between ``ref`` and ``est``.

    Args:
        ref, est: waveforms ``(time,)``.
        sr: sample rate.
        fmin, fmax: pYIN search range.

    Example:
        >>> tone = np.sin(2 * np.pi * 300 * np.arange(16000) / 16000)
        >>> voicing_error(tone, np.zeros(16000), 16000) > 0.9
        True

    Reference: the voicing decision error of Nakatani & Irino, "Robust and accurate fundamental
    frequency estimation based on dominant harmonic components", JASA 2004.
    """
    _, v_ref, _, v_est = _f0_pair(ref, est, sr, fmin, fmax)
    return float(np.mean(v_ref != v_est))


def voicing_f1(ref, est, sr: int, fmin: float = 50.0, fmax: float = 1000.0) -> float:
    """F1 score of the estimate's pYIN voiced/unvoiced decisions, with the reference's as the truth.

    Voiced is the positive class: ``F1 = 2 TP / (2 TP + FP + FN)`` over frames, in [0, 1], 1 when
    the decisions agree everywhere. Unlike :func:`voicing_error` it is not inflated by long silences
    that both signals leave unvoiced. ``nan`` when neither signal has a voiced frame.

    Args:
        ref, est: waveforms ``(time,)``.
        sr: sample rate.
        fmin, fmax: pYIN search range.

    Example:
        >>> tone = np.sin(2 * np.pi * 300 * np.arange(16000) / 16000)
        >>> voicing_f1(tone, tone, 16000), voicing_f1(tone, np.zeros(16000), 16000)
        (1.0, 0.0)

    Reference: the V/UV F1 reported for neural vocoders, e.g. Morrison et al., "Chunked
    autoregressive GAN for conditional waveform synthesis", ICLR 2022.
    """
    _, v_ref, _, v_est = _f0_pair(ref, est, sr, fmin, fmax)
    return _f1_of_flags(v_ref, v_est)


def pitch_scores(ref, est, sr: int, fmin: float = 50.0, fmax: float = 1000.0) -> dict[str, float]:
    """F0 RMSE (cents), V/UV F1 and voicing error from one pYIN pass per signal.

    pYIN takes about 0.3-0.5 s per second of audio on this project's 2-core machine, so the three
    numbers share the tracks, and each signal's track is also cached (by content) for later calls.

    Args:
        ref, est: waveforms ``(time,)``; the tracks are cut to the frames both have.
        sr: sample rate.
        fmin, fmax: pYIN search range.

    Returns:
        ``{"f0_rmse_cents", "vuv_f1", "voicing_error"}`` as in :func:`f0_rmse`, :func:`voicing_f1`
        and :func:`voicing_error`.

    Example:
        >>> tone = np.sin(2 * np.pi * 300 * np.arange(16000) / 16000)
        >>> pitch_scores(tone, tone, 16000)
        {'f0_rmse_cents': 0.0, 'vuv_f1': 1.0, 'voicing_error': 0.0}
    """
    f_ref, v_ref, f_est, v_est = _f0_pair(ref, est, sr, fmin, fmax)
    return {
        "f0_rmse_cents": _f0_rmse_of_tracks(f_ref, v_ref, f_est, v_est, unit="cents"),
        "vuv_f1": _f1_of_flags(v_ref, v_est),
        "voicing_error": float(np.mean(v_ref != v_est)),
    }


def _unavailable(metric: str, reason: str) -> None:
    warnings.warn(f"{metric} not computed: {reason}", MetricUnavailableWarning, stacklevel=3)
    return None


def pesq_wb(ref, est, sr: int) -> float | None:
    """Wide-band PESQ (MOS-LQO, about 1.0-4.6) via the optional ``pesq`` package.

    Both signals are resampled to 16 kHz first. Returns ``None`` and warns
    :class:`MetricUnavailableWarning` with the reason when ``pesq`` is not installed or rejects the
    input (e.g. no speech detected).

    Args:
        ref: clean reference ``(time,)``.
        est: degraded signal ``(time,)``.
        sr: sample rate of both.

    Example:
        >>> t = np.arange(32000) / 16000
        >>> tone = (0.3 * np.sin(2 * np.pi * 220 * t) * np.sin(2 * np.pi * t) ** 2).astype("float32")
        >>> round(pesq_wb(tone, tone, 16000), 2)
        4.64

    Reference: ITU-T P.862.2 (2007), wide-band extension of PESQ.
    """
    try:
        from pesq import PesqError, pesq
    except ImportError:
        return _unavailable("PESQ", "the 'pesq' package is not installed (pip install pesq)")
    from audiogen_tf.audio import resample

    ref, est = _pair(ref, est)
    if not (np.any(ref) and np.any(est)):
        return _unavailable("PESQ", "a signal is all zeros")
    ref16 = resample(ref.astype(np.float32), sr, 16000)
    est16 = resample(est.astype(np.float32), sr, 16000)
    try:
        return float(pesq(16000, ref16, est16, "wb"))
    except PesqError as err:
        return _unavailable("PESQ", f"{type(err).__name__}: {err}")


def stoi(ref, est, sr: int, extended: bool = False) -> float | None:
    """Short-time objective intelligibility (0-1) via the optional ``pystoi`` package.

    ``pystoi`` resamples to 10 kHz itself. Returns ``None`` and warns
    :class:`MetricUnavailableWarning` when ``pystoi`` is not installed.

    Args:
        ref: clean reference ``(time,)``.
        est: processed signal ``(time,)``.
        sr: sample rate of both.
        extended: compute ESTOI (Jensen & Taal 2016) instead.

    Example:
        >>> t = np.arange(32000) / 16000
        >>> tone = (0.3 * np.sin(2 * np.pi * 220 * t) * np.sin(2 * np.pi * t) ** 2).astype("float32")
        >>> round(stoi(tone, tone, 16000), 3)
        1.0

    Reference: Taal et al., "An algorithm for intelligibility prediction of time-frequency weighted
    noisy speech", IEEE TASLP 2011.
    """
    try:
        from pystoi import stoi as _stoi
    except ImportError:
        return _unavailable("STOI", "the 'pystoi' package is not installed (pip install pystoi)")
    ref, est = _pair(ref, est)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(_stoi(ref, est, sr, extended=extended))
    for w in caught:  # pystoi warns (and returns 1e-5) when the signal is too short
        if "not enough stft frames" in str(w.message).lower():
            return _unavailable("STOI", str(w.message))
        warnings.warn(w.message, w.category, stacklevel=2)
    return value


def dnsmos(audio, sr: int) -> dict[str, float] | None:
    """DNSMOS P.835: predicted speech quality (SIG), background (BAK) and overall (OVRL) MOS, 1-5.

    A non-intrusive judge (no reference needed): Microsoft's DNSMOS ONNX models as shipped in the
    optional ``speechmos`` package, run on CPU by ``onnxruntime``. The audio is resampled to 16 kHz
    and clipped to [-1, 1] (what writing a 16-bit file would do); ``speechmos`` tiles clips shorter
    than 9.01 s and averages 9.01 s windows of longer ones. About 1 s per clip on 2 CPU cores.
    Returns ``None`` and warns :class:`MetricUnavailableWarning` when ``speechmos`` or
    ``onnxruntime`` is not installed (``pip install audiogen-tf[eval]``).

    Args:
        audio: mono speech ``(time,)``.
        sr: its sample rate.

    Returns:
        ``{"sig", "bak", "ovrl"}`` (floats, higher is better) or ``None``.

    Example:
        >>> speech, sr = audiogen_tf.audio.load("speech.wav")  # doctest: +SKIP
        >>> dnsmos(speech, sr)  # doctest: +SKIP
        {'sig': 3.39, 'bak': 4.01, 'ovrl': 3.11}

    Reference: Reddy, Gopal & Cutler, "DNSMOS P.835: a non-intrusive perceptual objective speech
    quality metric to evaluate noise suppressors", ICASSP 2022.
    """
    x = _one(audio)
    try:
        from speechmos import dnsmos as _dnsmos
    except ImportError as err:  # speechmos imports onnxruntime (and requests) at the top
        return _unavailable(
            "DNSMOS", f"{err} (pip install speechmos onnxruntime requests, or audiogen-tf[eval])"
        )
    from audiogen_tf.audio import resample

    if not np.any(x):
        return _unavailable("DNSMOS", "the signal is all zeros")
    x16 = np.clip(resample(x.astype(np.float32), int(sr), 16000), -1.0, 1.0).astype(np.float32)
    scores = _dnsmos.run(x16, 16000)
    return {"sig": float(scores["sig_mos"]), "bak": float(scores["bak_mos"]), "ovrl": float(scores["ovrl_mos"])}


def _dnsmos_keys(est, sr) -> dict[str, float | None]:
    scores = dnsmos(est, sr)
    return {f"dnsmos_{k}": (None if scores is None else scores[k]) for k in ("sig", "bak", "ovrl")}


def evaluate_pair(
    ref, est, sr: int, with_f0: bool = True, with_pesq: bool = True, with_stoi: bool = True,
    with_dnsmos: bool = True, f0_range: tuple[float, float] = F0_RANGE,
) -> dict[str, float | None]:
    """All metrics of this module for one (reference, estimate) pair.

    Args:
        ref: reference waveform ``(time,)``.
        est: estimated waveform ``(time,)``.
        sr: sample rate.
        with_f0: include the pYIN metrics (``f0_rmse_cents``, ``vuv_f1``, ``voicing_error``) of
            :func:`pitch_scores`: pitch of each signal is estimated once.
        with_pesq: include ``pesq_wb`` (``None`` when unavailable).
        with_stoi: include ``stoi`` (``None`` when unavailable).
        with_dnsmos: include ``dnsmos_sig``, ``dnsmos_bak``, ``dnsmos_ovrl`` of the estimate
            (:func:`dnsmos`; ``None`` when unavailable).
        f0_range: pYIN ``(fmin, fmax)`` in Hz.

    Returns:
        dict with ``mrstft_sc``, ``mrstft_logmag``, ``mrstft``, ``log_spectral_distance``, ``mcd``,
        ``snr``, ``si_sdr`` and the optional keys above.

    Example:
        >>> ref = np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)
        >>> est = ref + 0.01 * np.random.default_rng(0).standard_normal(16000)
        >>> round(evaluate_pair(ref, est, 16000, with_dnsmos=False)["snr"])
        37
    """
    full_ref, full_est = ref, est
    ref, est = _pair(ref, est)
    mr = multi_resolution_stft_distance(ref, est)
    out: dict[str, float | None] = {
        "mrstft_sc": mr["spectral_convergence"],
        "mrstft_logmag": mr["log_magnitude"],
        "mrstft": mr["total"],
        "log_spectral_distance": log_spectral_distance(ref, est),
        "mcd": mel_cepstral_distortion(ref, est, sr),
        "snr": snr(ref, est),
        "si_sdr": si_sdr(ref, est) if np.any(ref != ref.mean()) else math.nan,
    }
    if with_f0:
        out.update(pitch_scores(full_ref, full_est, sr, *f0_range))
    if with_pesq:
        out["pesq_wb"] = pesq_wb(ref, est, sr)
    if with_stoi:
        out["stoi"] = stoi(ref, est, sr)
    if with_dnsmos:
        out.update(_dnsmos_keys(full_est, sr))
    return out


#: The columns of a vocoder comparison table (:func:`vocoder_quality_row`), in order.
VOCODER_ROW_KEYS = ("pesq_wb", "stoi", "mrstft", "f0_rmse_cents", "vuv_f1", "mcd")
#: Metrics where a larger value is better; for every other key of this module smaller is better.
HIGHER_IS_BETTER = frozenset(
    {"pesq_wb", "stoi", "vuv_f1", "snr", "si_sdr", "dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl"}
)


def vocoder_quality_row(
    ref, est, sr: int, *, f0_range: tuple[float, float] = SPEECH_F0_RANGE, with_dnsmos: bool = False
) -> dict[str, float | None]:
    """One row of a vocoder comparison table: PESQ-WB, STOI, MR-STFT, F0 RMSE, V/UV F1, MCD.

    The pitch numbers come from one pYIN pass per signal, and the reference's track is cached, so
    comparing several systems against the same recording runs pYIN on it once. PESQ/STOI are
    ``None`` (with a :class:`MetricUnavailableWarning`) when their packages are missing. Which
    direction is better: :data:`HIGHER_IS_BETTER`.

    Args:
        ref: the recording ``(time,)``.
        est: the vocoder's (or Griffin-Lim's) output ``(time,)``; cut to the shorter of the two.
        sr: sample rate of both.
        f0_range: pYIN ``(fmin, fmax)``; the default :data:`SPEECH_F0_RANGE` suits speech.
        with_dnsmos: add ``dnsmos_sig``, ``dnsmos_bak``, ``dnsmos_ovrl`` of ``est`` (:func:`dnsmos`).

    Returns:
        ``{key: value}`` for the keys of :data:`VOCODER_ROW_KEYS` in that order (``mrstft`` is the
        total of :func:`multi_resolution_stft_distance`, ``mcd`` :func:`mel_cepstral_distortion`
        without DTW), then the DNSMOS keys when asked.

    Example:
        >>> ref = np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)
        >>> row = vocoder_quality_row(ref, ref, 16000)
        >>> list(row) == list(VOCODER_ROW_KEYS), (row["mrstft"], row["f0_rmse_cents"], row["vuv_f1"], row["mcd"])
        (True, (0.0, 0.0, 1.0, 0.0))
    """
    r, e = _pair(ref, est)
    pitch = pitch_scores(ref, est, sr, *f0_range)
    row: dict[str, float | None] = {
        "pesq_wb": pesq_wb(r, e, sr),
        "stoi": stoi(r, e, sr),
        "mrstft": multi_resolution_stft_distance(r, e)["total"],
        "f0_rmse_cents": pitch["f0_rmse_cents"],
        "vuv_f1": pitch["vuv_f1"],
        "mcd": mel_cepstral_distortion(r, e, sr),
    }
    if with_dnsmos:
        row.update(_dnsmos_keys(est, sr))
    return row

# ------------------------------------------------------------------------------------------- word error rate


def normalize_words(text: str) -> list[str]:
    """Lowercased words of ``text`` with punctuation stripped (apostrophes inside words kept).

    Example:
        >>> normalize_words("Hello, World! It's 5 o'clock.")
        ['hello', 'world', "it's", '5', "o'clock"]
    """
    cleaned = "".join(c if c.isalnum() or c == "'" else " " for c in str(text).lower())
    return [w.strip("'") for w in cleaned.split() if w.strip("'")]


def word_edits(reference_text: str, hypothesis_text: str) -> tuple[int, int]:
    """(word substitutions + deletions + insertions, reference words) between two normalized texts.

    Example:
        >>> word_edits("the cat sat", "the cat sat down")
        (1, 3)
    """
    ref, hyp = normalize_words(reference_text), normalize_words(hypothesis_text)
    row = np.arange(len(hyp) + 1)
    for i, r in enumerate(ref, 1):  # Levenshtein distance, one row at a time
        prev = row.copy()
        row[0] = i
        for j, h in enumerate(hyp, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (r != h))
    return int(row[len(hyp)]), len(ref)


def word_error_rate(reference_text: str, hypothesis_text: str) -> float:
    """Word error rate: word-level Levenshtein distance / reference words, on lowercased unpunctuated text.

    Can exceed 1 (insertions). An empty reference gives 0 for an empty hypothesis, else ``inf``.

    Args:
        reference_text: what was said.
        hypothesis_text: what a recognizer heard.

    Example:
        >>> word_error_rate("The cat sat on the mat.", "the cat sat on a mat")
        0.16666666666666666

    Reference: the NIST sclite WER (S + D + I) / N.
    """
    edits, n = word_edits(reference_text, hypothesis_text)
    if n == 0:
        return 0.0 if edits == 0 else math.inf
    return edits / n


def recognize(audio, sr: int) -> str | None:
    """Transcribe speech with pocketsphinx (CMU Sphinx, its bundled US English model) as the WER judge.

    The audio is resampled to 16 kHz and peak-normalized. Returns ``None`` and warns
    :class:`MetricUnavailableWarning` when the optional ``pocketsphinx`` package is not installed.

    Args:
        audio: mono speech ``(time,)``.
        sr: its sample rate.

    Example:
        >>> speech, sr = audiogen_tf.audio.load("speech.wav")  # doctest: +SKIP
        >>> recognize(speech, sr)  # doctest: +SKIP
        'hello world'

    Reference: Huggins-Daines et al. 2006, "PocketSphinx: a free, real-time continuous speech recognition system".
    """
    try:
        from pocketsphinx import Decoder
    except ImportError:
        return _unavailable("WER", "the 'pocketsphinx' package is not installed (pip install pocketsphinx)")
    from audiogen_tf.audio import resample

    x = np.asarray(audio, np.float32)
    if x.ndim != 1:
        raise ValueError(f"recognize takes mono audio (time,), got shape {x.shape}")
    if int(sr) != 16000:
        x = np.asarray(resample(x, int(sr), 16000), np.float32)
    x = np.nan_to_num(x)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak > 0:
        x = 0.9 * x / peak
    # A new decoder per utterance (about 0.7 s): a reused one carries state from what it decoded before (measured:
    # the same recording heard after noise decodes to other words, even with its CMN reset), so a WER would depend
    # on the order of the files.
    decoder = Decoder(samprate=16000, loglevel="FATAL")
    decoder.start_utt()
    decoder.process_raw((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes(), full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return hyp.hypstr if hyp is not None else ""


def _edit_distance(ref, hyp) -> int:
    """Levenshtein distance between two sequences (substitutions, deletions, insertions all cost 1)."""
    row = np.arange(len(hyp) + 1)
    for i, r in enumerate(ref, 1):
        prev = row.copy()
        row[0] = i
        for j, h in enumerate(hyp, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (r != h))
    return int(row[len(hyp)])


def normalize_characters(text: str) -> str:
    """Lowercased text with punctuation removed and runs of spaces collapsed (what CER compares).

    Example:
        >>> normalize_characters("Hello,  World!")
        'hello world'
    """
    return " ".join(normalize_words(text))


def character_edits(reference_text: str, hypothesis_text: str) -> tuple[int, int]:
    """(character edits, reference characters) between two texts after :func:`normalize_characters`."""
    ref, hyp = normalize_characters(reference_text), normalize_characters(hypothesis_text)
    return _edit_distance(ref, hyp), len(ref)


def character_error_rate(reference_text: str, hypothesis_text: str) -> float:
    """Character error rate: character-level Levenshtein distance / reference characters (spaces count).

    Both texts are lowercased with punctuation stripped (:func:`normalize_characters`). Can exceed 1; an empty
    reference gives 0 for an empty hypothesis, else ``inf``.

    Example:
        >>> character_error_rate("The cat.", "the bat")
        0.14285714285714285
    """
    edits, n = character_edits(reference_text, hypothesis_text)
    if n == 0:
        return 0.0 if edits == 0 else math.inf
    return edits / n
