"""Speech-like test signals made by the tests themselves (no Debian sound files): a source-filter model.

A glottal pulse train with a moving pitch (jitter, declination) is shaped by three formant resonators per vowel,
syllable by syllable, with fricative noise onsets and short pauses: the harmonics, formants, onsets and silences
that the feature, vocoder and PQMF tests need from "real speech", deterministic for a seed.

Example:
    >>> x = speech_like(16000, seconds=1.0)
    >>> x.shape, x.dtype, bool(abs(x).max() <= 0.71)
    ((16000,), dtype('float32'), True)
"""

from __future__ import annotations

import functools

import numpy as np

# F1, F2, F3 (Hz) of five vowels (Peterson & Barney 1952, male averages, rounded).
VOWELS = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410))
BANDWIDTHS = (80.0, 100.0, 140.0)
BREATH, FLOOR = 1.0, 3e-4  # aspiration noise (relative to the pulses), noise floor


def _resonator(x, freq, bandwidth, sr):
    """Second-order all-pole resonance at ``freq`` with unit gain at DC."""
    from scipy.signal import lfilter

    r = np.exp(-np.pi * bandwidth / sr)
    a = [1.0, -2.0 * r * np.cos(2.0 * np.pi * freq / sr), r * r]
    return lfilter([sum(a)], a, x)


@functools.lru_cache(maxsize=16)
def _speech(sr: int, seconds: float, seed: int, lead: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(round(sr * seconds))
    out = np.zeros(n)
    pos = int(lead * sr)
    syllable = 0
    while pos < n - int(0.12 * sr):
        length = min(int(rng.uniform(0.16, 0.30) * sr), n - pos)
        t = np.arange(length) / sr
        # pitch: declining over the utterance, a rise-fall per syllable, 1 % jitter
        f0 = 135.0 - 25.0 * pos / n + 15.0 * np.sin(np.pi * t / t[-1]) * (1.0 + 0.01 * rng.standard_normal(length))
        phase = np.cumsum(f0 / sr)
        pulses = np.diff(np.floor(phase), prepend=0.0)  # one impulse per glottal period
        k = np.arange(int(0.008 * sr)) / sr  # a smooth glottal pulse: about -12 dB per octave above 500 Hz
        glottal = np.convolve(pulses, (k / 0.0006) * np.exp(1.0 - k / 0.0006), mode="same")
        glottal = glottal - glottal.mean() + BREATH * rng.standard_normal(length) * glottal.std()
        voiced = glottal
        for freq, bw in zip(VOWELS[syllable % len(VOWELS)], BANDWIDTHS):
            voiced = voiced + 0.6 * _resonator(glottal, min(freq, 0.45 * sr), bw, sr)
        attack, release = int(0.03 * sr), int(0.06 * sr)
        env = np.ones(length)
        env[:attack] = np.linspace(0.0, 1.0, attack)
        env[-release:] = np.minimum(env[-release:], np.linspace(1.0, 0.0, release))
        segment = voiced * env / (np.abs(voiced).max() + 1e-9)
        if syllable % 3 == 1:  # a fricative onset: high-passed noise
            k = min(int(0.05 * sr), length)
            hiss = np.diff(rng.standard_normal(k + 1)) * np.hanning(k) * 0.25
            segment[:k] += hiss
        out[pos: pos + length] += segment * rng.uniform(0.6, 1.0)
        syllable += 1
        # inside a word a short gap; between words (every 1-3 syllables) a pause, as in read speech
        word_end = rng.random() < 0.45
        pos += length + int((rng.uniform(0.12, 0.30) if word_end else rng.uniform(0.01, 0.04)) * sr)
    out += FLOOR * np.convolve(rng.standard_normal(n), np.ones(4) / 4, mode="same")  # a room's noise floor
    return (0.7 * out / np.abs(out).max()).astype(np.float32)


def speech_like(sr: int = 16000, seconds: float = 2.0, seed: int = 0, lead: float = 0.15) -> np.ndarray:
    """(time,) float32 speech-like signal at ``sr``, peak 0.7, starting after ``lead`` seconds of near-silence."""
    return _speech(int(sr), float(seconds), int(seed), float(lead)).copy()


def noise_recording(sr: int = 48000, seconds: float = 0.5, seed: int = 1) -> np.ndarray:
    """(time,) float32 coloured (1/f) noise with a slow level drift: a stand-in for a real noise recording."""
    rng = np.random.default_rng(seed)
    n = int(round(sr * seconds))
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / sr)
    spectrum /= np.sqrt(np.maximum(f, 20.0))
    x = np.fft.irfft(spectrum, n) * (1.0 + 0.3 * np.sin(2 * np.pi * 1.5 * np.arange(n) / sr))
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def write_speech_wav(path, sr: int = 48000, seconds: float = 2.0) -> str:
    """A 16-bit mono WAV of :func:`speech_like` (a recording at its own rate, for tests that resample files)."""
    import soundfile as sf

    sf.write(str(path), speech_like(sr, seconds), sr, subtype="PCM_16")
    return str(path)


def speech_manifest(folder, sr: int = 22050, seconds: float = 1.0, seed: int = 0, split: str = "valid",
                    text: str = "a b") -> str:
    """A one-utterance manifest (``speech_like`` audio as a 16-bit WAV in ``folder``) for benchmark smoke tests."""
    import os

    import soundfile as sf

    from audiogen_tf.manifest import write_manifest

    path = os.path.join(os.fspath(folder), f"u{seed}.wav")
    sf.write(path, speech_like(sr, seconds=seconds, seed=seed), sr, subtype="PCM_16")
    return write_manifest([{"path": path, "text": text, "split": split}],
                          os.path.join(os.fspath(folder), "manifest.csv"))
