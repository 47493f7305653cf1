"""Deterministic synthetic musical notes labelled by pitch (MIDI number) and timbre (NumPy only).

Each note is additive synthesis: a sum of sinusoidal partials whose frequency ratios and
amplitudes depend on the timbre (a flute-like near-sine, a sawtooth-like string, an odd-harmonic
clarinet, inharmonic bell and marimba-like bars, a drawbar organ, a decaying pluck), shaped by an
ADSR envelope per timbre (percussive timbres: per-partial exponential decays), with vibrato,
small random detuning and amplitude jitter per variation, and a little envelope-following noise.
A random generator seeded from ``(seed, pitch, timbre, variation)`` makes every file
reproducible bit for bit and independent of which other notes are built.

Example:
    >>> import tempfile
    >>> from audiogen_tf.datasets.notes import make_notes, generate_note
    >>> import numpy as np
    >>> x = generate_note(69, "flute", 16000, 0.5, np.random.default_rng(0))
    >>> x.shape, x.dtype
    ((8000,), dtype('float32'))
    >>> manifest_path = make_notes(tempfile.mkdtemp(), pitches=[60, 64], timbres=["flute", "bell"], progress=False)

Follows the additive-synthesis view of NSynth-like notes (Engel et al., 2017, "Neural Audio
Synthesis of Musical Notes with WaveNet Autoencoders"); bell partial ratios are the classic
free-bar / church-bell ratios (Fletcher & Rossing, "The Physics of Musical Instruments").
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field

import numpy as np

from audiogen_tf import audio as audio_io
from audiogen_tf.datasets._common import is_complete, progress_bar, split_of, write_stamp
from audiogen_tf.errors import ConfigError
from audiogen_tf.manifest import write_manifest


@dataclass(frozen=True)
class Timbre:
    """Recipe of one timbre.

    Args:
        ratios: partial frequencies as multiples of F0.
        amplitudes: partial amplitudes (same length as ``ratios``).
        attack, decay, sustain, release: ADSR times (s) and sustain level; ``sustain=0`` with
            ``decay_rates`` makes a percussive (struck/plucked) note.
        decay_rates: per-partial exponential decay rates (1/s) multiplied into the envelope, or ``()``.
        vibrato_cents, vibrato_hz: vibrato depth and rate.
        noise: level of envelope-shaped white noise relative to the peak.
    """

    ratios: tuple
    amplitudes: tuple
    attack: float
    decay: float
    sustain: float
    release: float
    decay_rates: tuple = field(default=())
    vibrato_cents: float = 0.0
    vibrato_hz: float = 5.0
    noise: float = 0.003


def _harmonics(n, amp):
    ks = np.arange(1, n + 1)
    return tuple(float(k) for k in ks), tuple(float(amp(k)) for k in ks)


_SAW = _harmonics(16, lambda k: 1.0 / k)
_CLAR = _harmonics(15, lambda k: (1.0 / k) if k % 2 else 0.04 / k)
_FLUTE = ((1.0, 2.0, 3.0, 4.0), (1.0, 0.35, 0.12, 0.04))
_ORGAN = ((1.0, 2.0, 3.0, 4.0, 6.0, 8.0), (1.0, 0.6, 0.35, 0.3, 0.15, 0.1))
_PLUCK = _harmonics(12, lambda k: 1.0 / k**1.3)

#: The built-in timbres. Percussive ones (bell, marimba, pluck) decay; the others sustain.
TIMBRES: dict[str, Timbre] = {
    "flute": Timbre(*_FLUTE, attack=0.07, decay=0.1, sustain=0.85, release=0.12, vibrato_cents=14.0, vibrato_hz=5.0, noise=0.02),
    "string": Timbre(*_SAW, attack=0.09, decay=0.15, sustain=0.8, release=0.15, vibrato_cents=18.0, vibrato_hz=5.7, noise=0.004),
    "clarinet": Timbre(*_CLAR, attack=0.03, decay=0.08, sustain=0.9, release=0.08, vibrato_cents=3.0, vibrato_hz=4.5, noise=0.006),
    "organ": Timbre(*_ORGAN, attack=0.01, decay=0.02, sustain=1.0, release=0.05, noise=0.002),
    "bell": Timbre(
        ratios=(1.0, 2.0, 2.4, 3.0, 4.2, 5.4, 6.8),  # inharmonic, church-bell-like partial ratios
        amplitudes=(1.0, 0.45, 0.35, 0.25, 0.2, 0.12, 0.08),
        attack=0.002, decay=0.0, sustain=0.0, release=0.05,
        decay_rates=(1.2, 2.0, 2.6, 3.2, 4.5, 6.0, 8.0), noise=0.002,
    ),
    "marimba": Timbre(
        ratios=(1.0, 3.93, 9.2), amplitudes=(1.0, 0.25, 0.06),  # tuned-bar ratios
        attack=0.002, decay=0.0, sustain=0.0, release=0.03, decay_rates=(4.0, 9.0, 18.0), noise=0.003,
    ),
    "pluck": Timbre(
        *_PLUCK, attack=0.003, decay=0.0, sustain=0.0, release=0.05,
        decay_rates=tuple(2.0 + 1.2 * k for k in range(12)), noise=0.004,
    ),
}

DEFAULT_TIMBRES = ("flute", "string", "clarinet", "organ", "bell", "marimba", "pluck")


def midi_to_hz(pitch: float) -> float:
    """Equal-tempered frequency of a MIDI note number (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((float(pitch) - 69.0) / 12.0)


def _envelope(t: Timbre, n: int, sr: int, note_off: float) -> np.ndarray:
    """ADSR amplitude envelope of ``n`` samples with the key released at ``note_off`` seconds."""
    time = np.arange(n) / sr
    a, d = max(t.attack, 1.0 / sr), max(t.decay, 1.0 / sr)
    env = np.where(
        time < a,
        time / a,
        np.where(time < a + d, 1.0 - (1.0 - t.sustain) * (time - a) / d, t.sustain),
    )
    if t.sustain == 0.0:  # percussive: the partial decays carry the shape; keep the body at 1
        env = np.minimum(time / a, 1.0)
    level_at_off = np.interp(note_off, time, env) if n else 0.0
    rel = np.clip(1.0 - (time - note_off) / max(t.release, 1.0 / sr), 0.0, 1.0) * level_at_off
    return np.where(time < note_off, env, rel).astype(np.float64)


def generate_note(
    pitch: float,
    timbre: str,
    sample_rate: int = 16000,
    seconds: float = 1.0,
    rng: np.random.Generator | None = None,
    velocity: float = 0.8,
) -> np.ndarray:
    """Synthesize one note.

    Args:
        pitch: MIDI note number (60 = middle C, 69 = A4 = 440 Hz).
        timbre: a key of :data:`TIMBRES`.
        sample_rate: Hz.
        seconds: length; the key is released at 80% of it so the release fits.
        rng: source of the small random variations (detune up to +-4 cents, partial-amplitude
            jitter, vibrato phase, noise); ``None`` gives the plain, noise-free note.
        velocity: peak amplitude in (0, 1].

    Returns:
        float32 array of shape ``(round(seconds * sample_rate),)`` with peak ``velocity``.

    Example:
        >>> x = generate_note(60, "clarinet", 16000, 0.25, np.random.default_rng(1))
    """
    if timbre not in TIMBRES:
        raise ConfigError(f"unknown timbre {timbre!r}; choose from {sorted(TIMBRES)}")
    t = TIMBRES[timbre]
    n = int(round(seconds * sample_rate))
    if n <= 0:
        raise ConfigError(f"seconds={seconds} gives no samples at {sample_rate} Hz")
    time = np.arange(n, dtype=np.float64) / sample_rate
    if rng is not None:
        detune = rng.uniform(-4.0, 4.0)
        jitter = rng.uniform(0.8, 1.2, size=len(t.amplitudes))
        vib_phase = rng.uniform(0, 2 * np.pi)
        partial_phases = rng.uniform(0, 2 * np.pi, size=len(t.ratios))
    else:
        detune, jitter, vib_phase = 0.0, np.ones(len(t.amplitudes)), 0.0
        partial_phases = np.zeros(len(t.ratios))
    f0 = midi_to_hz(pitch) * 2.0 ** (detune / 1200.0)
    # vibrato fades in over 0.25 s, as players do
    depth = t.vibrato_cents * np.clip(time / 0.25, 0.0, 1.0)
    inst = f0 * 2.0 ** (depth * np.sin(2 * np.pi * t.vibrato_hz * time + vib_phase) / 1200.0)
    phase = 2 * np.pi * np.cumsum(inst) / sample_rate
    nyquist_guard = 0.45 * sample_rate
    out = np.zeros(n, dtype=np.float64)
    for i, (ratio, amp) in enumerate(zip(t.ratios, t.amplitudes)):
        if f0 * ratio >= nyquist_guard or amp == 0.0:
            continue
        partial = amp * jitter[i] * np.sin(ratio * phase + partial_phases[i])
        if t.decay_rates:
            partial *= np.exp(-t.decay_rates[i] * time)
        out += partial
    out *= _envelope(t, n, sample_rate, note_off=0.8 * seconds)
    peak = np.max(np.abs(out))
    if peak > 0:
        out /= peak
    if rng is not None and t.noise > 0:
        env = np.abs(out)
        # smooth |x| into an amplitude follower (about 5 ms) so the noise breathes with the note
        k = max(1, int(0.005 * sample_rate))
        env = np.convolve(env, np.ones(k) / k, mode="same")
        out += t.noise * env / (env.max() + 1e-12) * rng.standard_normal(n)
    peak = np.max(np.abs(out))
    if peak > 0:
        out *= velocity / peak
    return out.astype(np.float32)


def note_name(timbre: str, pitch: int, variation: int) -> str:
    """File stem of a note, e.g. ``flute_060_00``."""
    return f"{timbre}_{int(pitch):03d}_{int(variation):02d}"


def make_notes(
    out_dir,
    sample_rate: int = 16000,
    seconds: float = 1.0,
    pitches=range(48, 73),
    timbres=DEFAULT_TIMBRES,
    variations: int = 2,
    seed: int = 0,
    progress: bool = True,
) -> str:
    """Write a folder of synthetic notes (``audio/*.wav``) and its ``manifest.csv``.

    Args:
        out_dir: folder to fill (created).
        sample_rate: Hz.
        seconds: length of each note.
        pitches: MIDI note numbers.
        timbres: names from :data:`TIMBRES`.
        variations: renditions per (pitch, timbre), each with its own detune/jitter/noise.
        seed: base seed; the same seed gives identical files.
        progress: show a tqdm bar.

    Returns:
        Path of ``manifest.csv``, with columns ``path,label,duration,pitch,timbre,variation,split``
        (``label`` is the timbre). A folder already built with the same arguments is left as is.

    Example:
        >>> import tempfile
        >>> m = make_notes(tempfile.mkdtemp(), pitches=[60], timbres=["organ"], progress=False)
    """
    out_dir = os.fspath(out_dir)
    pitches = [int(p) for p in pitches]
    timbres = list(timbres)
    for name in timbres:
        if name not in TIMBRES:
            raise ConfigError(f"unknown timbre {name!r}; choose from {sorted(TIMBRES)}")
    if int(variations) < 1:
        raise ConfigError(f"variations must be >= 1, got {variations}")
    config = {
        "builder": "notes",
        "version": 1,
        "sample_rate": int(sample_rate),
        "seconds": float(seconds),
        "pitches": pitches,
        "timbres": timbres,
        "variations": int(variations),
        "seed": int(seed),
    }
    manifest_path = os.path.join(out_dir, "manifest.csv")
    if is_complete(out_dir, config):
        return manifest_path
    os.makedirs(os.path.join(out_dir, "audio"), exist_ok=True)
    jobs = [(tb, p, v) for tb in timbres for p in pitches for v in range(int(variations))]
    entries = []
    for timbre, pitch, var in progress_bar(jobs, progress, total=len(jobs), desc="notes"):
        rng = np.random.default_rng([int(seed), pitch, zlib.crc32(timbre.encode()), var])
        velocity = float(rng.uniform(0.5, 0.9))
        x = generate_note(pitch, timbre, sample_rate, seconds, rng, velocity=velocity)
        name = note_name(timbre, pitch, var)
        path = os.path.join(out_dir, "audio", name + ".wav")
        audio_io.save(path, x, sample_rate)
        entries.append(
            {
                "path": path,
                "label": timbre,
                "duration": round(len(x) / sample_rate, 6),
                "pitch": pitch,
                "timbre": timbre,
                "variation": var,
                "split": split_of(name),
            }
        )
    write_manifest(entries, manifest_path)
    write_stamp(out_dir, config)
    return manifest_path
