"""Deterministic synthetic sound effects labelled by class, sized for WaveGAN (16384 samples).

Classes: ``click`` (a few short filtered impulses), ``sweep_up`` / ``sweep_down`` (long
exponential sine chirps), ``noise_burst`` (band-limited noise with a fast attack and decay),
``drip`` (short sine "bloops" whose pitch rises), ``laser`` (fast falling square-wave zaps,
repeated) and ``whoosh`` (noise through a band-pass whose centre glides, with a slow swell).
Every clip is drawn from a generator seeded with ``(seed, class, index)``, so the same seed gives
identical files; events sit at random offsets with random frequencies and levels.

Example:
    >>> import tempfile
    >>> from audiogen_tf.datasets.sfx import make_sfx, generate_sfx
    >>> import numpy as np
    >>> generate_sfx("laser", 16000, 16384, np.random.default_rng(0)).shape
    (16384,)
    >>> manifest_path = make_sfx(tempfile.mkdtemp(), per_class=2, progress=False)

The clip length follows WaveGAN (Donahue et al., 2019, "Adversarial Audio Synthesis"), whose
generator outputs 16384 samples.
"""

from __future__ import annotations

import os
import zlib

import numpy as np
from scipy import signal

from audiogen_tf import audio as audio_io
from audiogen_tf.datasets._common import is_complete, progress_bar, split_of, write_stamp
from audiogen_tf.errors import ConfigError
from audiogen_tf.manifest import write_manifest

SFX_CLASSES = ("click", "sweep_up", "sweep_down", "noise_burst", "drip", "laser", "whoosh")


def _chirp_phase(f_start, f_end, n, sr):
    """Phase of an exponential chirp from ``f_start`` to ``f_end`` Hz over ``n`` samples."""
    f = f_start * (f_end / f_start) ** (np.arange(n) / max(n - 1, 1))
    return 2 * np.pi * np.cumsum(f) / sr


def _place(out, event, start):
    end = min(len(out), start + len(event))
    out[start:end] += event[: end - start]


def _fade(n, sr, attack=0.005, release=0.02):
    t = np.arange(n) / sr
    dur = n / sr
    return np.clip(t / attack, 0, 1) * np.clip((dur - t) / release, 0, 1)


def _click(rng, sr, n):
    out = np.zeros(n)
    for _ in range(rng.integers(1, 5)):
        length = int(0.004 * sr)
        imp = rng.standard_normal(length) * np.exp(-np.arange(length) / (0.0006 * sr))
        b, a = signal.butter(2, rng.uniform(1500, 6000) / (sr / 2), "highpass")
        _place(out, signal.lfilter(b, a, imp) * rng.uniform(0.5, 1.0), int(rng.integers(0, n - length)))
    return out


def _sweep(rng, sr, n, up):
    m = int(rng.uniform(0.55, 0.9) * n)
    lo, hi = rng.uniform(150, 400), rng.uniform(2500, 0.4 * sr)
    f0, f1 = (lo, hi) if up else (hi, lo)
    ev = np.sin(_chirp_phase(f0, f1, m, sr)) * _fade(m, sr, 0.02, 0.03)
    out = np.zeros(n)
    _place(out, ev, int(rng.integers(0, n - m + 1)))
    return out


def _noise_burst(rng, sr, n):
    m = int(rng.uniform(0.1, 0.35) * sr)
    t = np.arange(m) / sr
    ev = rng.standard_normal(m) * np.exp(-t / rng.uniform(0.03, 0.1)) * np.clip(t / 0.002, 0, 1)
    lo = rng.uniform(100, 800)
    hi = rng.uniform(3000, 0.45 * sr)
    b, a = signal.butter(2, [lo / (sr / 2), hi / (sr / 2)], "bandpass")
    out = np.zeros(n)
    _place(out, signal.lfilter(b, a, ev), int(rng.integers(0, n - m)))
    return out


def _drip(rng, sr, n):
    out = np.zeros(n)
    for _ in range(rng.integers(1, 4)):
        m = int(rng.uniform(0.05, 0.12) * sr)
        t = np.arange(m) / sr
        f0 = rng.uniform(500, 1200)
        ev = np.sin(_chirp_phase(f0, f0 * rng.uniform(1.8, 3.0), m, sr)) * np.exp(-t / 0.025) * np.clip(t / 0.001, 0, 1)
        _place(out, ev * rng.uniform(0.6, 1.0), int(rng.integers(0, n - m)))
    return out


def _laser(rng, sr, n):
    out = np.zeros(n)
    count = int(rng.integers(2, 5))
    m = int(rng.uniform(0.08, 0.16) * sr)
    gap = int(rng.uniform(0.02, 0.06) * sr)
    start = int(rng.integers(0, max(1, n - count * (m + gap))))
    f0, f1 = rng.uniform(2500, 4500), rng.uniform(200, 500)
    for i in range(count):
        ev = signal.square(_chirp_phase(f0, f1, m, sr)) * _fade(m, sr, 0.002, 0.01) * 0.6
        _place(out, ev, start + i * (m + gap))
    return out


def _whoosh(rng, sr, n):
    m = int(rng.uniform(0.5, 0.9) * n)
    noise = rng.standard_normal(m)
    # band-pass with a gliding centre: process in short blocks with a moving 2nd-order filter
    centers = np.geomspace(rng.uniform(300, 600), rng.uniform(1500, 3000), num=32)
    if rng.uniform() < 0.5:
        centers = centers[::-1]
    block = int(np.ceil(m / len(centers)))
    ev = np.zeros(m)
    zi = np.zeros(4)
    for i, fc in enumerate(centers):
        b, a = signal.butter(2, [fc / 1.5 / (sr / 2), min(fc * 1.5, 0.45 * sr) / (sr / 2)], "bandpass")
        seg = noise[i * block : (i + 1) * block]
        ev[i * block : i * block + len(seg)], zi = signal.lfilter(b, a, seg, zi=zi)
    swell = np.sin(np.pi * np.arange(m) / m) ** 2
    out = np.zeros(n)
    _place(out, ev * swell, int(rng.integers(0, n - m + 1)))
    return out


_MAKERS = {
    "click": _click,
    "sweep_up": lambda rng, sr, n: _sweep(rng, sr, n, True),
    "sweep_down": lambda rng, sr, n: _sweep(rng, sr, n, False),
    "noise_burst": _noise_burst,
    "drip": _drip,
    "laser": _laser,
    "whoosh": _whoosh,
}


def generate_sfx(
    label: str, sample_rate: int = 16000, num_samples: int = 16384, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Synthesize one effect of class ``label``.

    Args:
        label: one of :data:`SFX_CLASSES`.
        sample_rate: Hz.
        num_samples: clip length (16384 for WaveGAN).
        rng: random generator for the event parameters (default: seeded with 0).

    Returns:
        float32 array ``(num_samples,)``, peak in [0.5, 0.95].
    """
    if label not in _MAKERS:
        raise ConfigError(f"unknown sound-effect class {label!r}; choose from {list(SFX_CLASSES)}")
    if num_samples < int(0.25 * sample_rate):
        raise ConfigError(f"num_samples={num_samples} is too short for sound effects at {sample_rate} Hz (>= 0.25 s)")
    rng = np.random.default_rng(0) if rng is None else rng
    x = _MAKERS[label](rng, sample_rate, num_samples)
    x = x + 1e-4 * rng.standard_normal(num_samples)  # a faint noise floor, as any recording has
    x = x / np.max(np.abs(x)) * rng.uniform(0.5, 0.95)
    return x.astype(np.float32)


def make_sfx(
    out_dir,
    sample_rate: int = 16000,
    num_samples: int = 16384,
    per_class: int = 64,
    classes=SFX_CLASSES,
    seed: int = 0,
    progress: bool = True,
) -> str:
    """Write ``per_class`` clips of each class to ``out_dir/audio/`` and a ``manifest.csv``.

    Args:
        out_dir: folder to fill (created).
        sample_rate: Hz.
        num_samples: samples per clip (16384 = WaveGAN's output length).
        per_class: clips per class.
        classes: subset of :data:`SFX_CLASSES`.
        seed: base seed; the same seed gives identical files.
        progress: show a tqdm bar.

    Returns:
        Path of ``manifest.csv`` (columns ``path,label,duration,split``). A folder already built with
        the same arguments is left as is.

    Example:
        >>> import tempfile
        >>> m = make_sfx(tempfile.mkdtemp(), per_class=4, progress=False)
    """
    out_dir = os.fspath(out_dir)
    classes = list(classes)
    for c in classes:
        if c not in _MAKERS:
            raise ConfigError(f"unknown sound-effect class {c!r}; choose from {list(SFX_CLASSES)}")
    config = {
        "builder": "sfx",
        "version": 1,
        "sample_rate": int(sample_rate),
        "num_samples": int(num_samples),
        "per_class": int(per_class),
        "classes": classes,
        "seed": int(seed),
    }
    manifest_path = os.path.join(out_dir, "manifest.csv")
    if is_complete(out_dir, config):
        return manifest_path
    jobs = [(c, i) for c in classes for i in range(int(per_class))]
    entries = []
    for label, i in progress_bar(jobs, progress, total=len(jobs), desc="sfx"):
        rng = np.random.default_rng([int(seed), zlib.crc32(label.encode()), i])
        x = generate_sfx(label, sample_rate, num_samples, rng)
        name = f"{label}_{i:04d}"
        path = audio_io.save(os.path.join(out_dir, "audio", name + ".wav"), x, sample_rate)
        entries.append(
            {"path": path, "label": label, "duration": round(num_samples / sample_rate, 6), "split": split_of(name)}
        )
    write_manifest(entries, manifest_path)
    write_stamp(out_dir, config)
    return manifest_path
