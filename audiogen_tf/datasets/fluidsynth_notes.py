"""Render NSynth-style single notes of General MIDI instruments with fluidsynth.

One Standard MIDI File (format 0) is written for the whole set: every note gets its own slot
(the note held for 75% of ``seconds``, as NSynth holds 3 s of 4 s, then released; an
"all sound off" controller ends the slot), and program changes fall between slots. fluidsynth
renders it in a single call with reverb and chorus off, and the notes are cut out of the render at
their slot offsets. Files are named ``<instrument>-<pitch>-<velocity>.wav`` like NSynth's
``note_str`` (e.g. ``acoustic_grand_piano-060-100``).

Example:
    >>> from audiogen_tf.datasets.fluidsynth_notes import build_gm_notes
    >>> manifest_path = build_gm_notes("/tmp/gm", programs=(0,), pitches=(60,), velocities=(100,))  # doctest: +SKIP

Follows the note layout of the NSynth dataset (Engel et al., 2017, "Neural Audio Synthesis of
Musical Notes with WaveNet Autoencoders") and the Standard MIDI File 1.0 specification.
"""

from __future__ import annotations

import os
import struct
import subprocess
import tempfile

import numpy as np
import soundfile as sf

from audiogen_tf import audio as audio_io
from audiogen_tf.datasets._common import is_complete, progress_bar, require_tool, split_of, write_stamp
from audiogen_tf.errors import ConfigError, MissingToolError
from audiogen_tf.manifest import write_manifest

DEFAULT_SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
FLUIDSYNTH_PACKAGES = "fluidsynth fluid-soundfont-gm"

#: General MIDI level 1 program names (program number = index), snake_case.
GM_PROGRAMS = (
    "acoustic_grand_piano bright_acoustic_piano electric_grand_piano honky_tonk_piano electric_piano_1 "
    "electric_piano_2 harpsichord clavinet celesta glockenspiel music_box vibraphone marimba xylophone "
    "tubular_bells dulcimer drawbar_organ percussive_organ rock_organ church_organ reed_organ accordion "
    "harmonica tango_accordion acoustic_guitar_nylon acoustic_guitar_steel electric_guitar_jazz "
    "electric_guitar_clean electric_guitar_muted overdriven_guitar distortion_guitar guitar_harmonics "
    "acoustic_bass electric_bass_finger electric_bass_pick fretless_bass slap_bass_1 slap_bass_2 synth_bass_1 "
    "synth_bass_2 violin viola cello contrabass tremolo_strings pizzicato_strings orchestral_harp timpani "
    "string_ensemble_1 string_ensemble_2 synth_strings_1 synth_strings_2 choir_aahs voice_oohs synth_voice "
    "orchestra_hit trumpet trombone tuba muted_trumpet french_horn brass_section synth_brass_1 synth_brass_2 "
    "soprano_sax alto_sax tenor_sax baritone_sax oboe english_horn bassoon clarinet piccolo flute recorder "
    "pan_flute blown_bottle shakuhachi whistle ocarina lead_square lead_sawtooth lead_calliope lead_chiff "
    "lead_charang lead_voice lead_fifths lead_bass_and_lead pad_new_age pad_warm pad_polysynth pad_choir "
    "pad_bowed pad_metallic pad_halo pad_sweep fx_rain fx_soundtrack fx_crystal fx_atmosphere fx_brightness "
    "fx_goblins fx_echoes fx_sci_fi sitar banjo shamisen koto kalimba bagpipe fiddle shanai tinkle_bell agogo "
    "steel_drums woodblock taiko_drum melodic_tom synth_drum reverse_cymbal guitar_fret_noise breath_noise "
    "seashore bird_tweet telephone_ring helicopter applause gunshot"
).split()
assert len(GM_PROGRAMS) == 128

#: GM instrument families (8 programs each), named like NSynth's ``instrument_family_str`` where they overlap.
GM_FAMILIES = (
    "keyboard chromatic_percussion organ guitar bass string ensemble brass reed flute synth_lead synth_pad "
    "synth_effects ethnic percussive sound_effects"
).split()

_TICKS_PER_QUARTER = 1000
_US_PER_QUARTER = 1_000_000  # with 1000 ticks per quarter: one tick is one millisecond


def _vlq(value: int) -> bytes:
    """MIDI variable-length quantity."""
    value = int(value)
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def midi_file_bytes(events, ticks_per_quarter: int = _TICKS_PER_QUARTER, us_per_quarter: int = _US_PER_QUARTER) -> bytes:
    """A format-0 Standard MIDI File from ``(tick, status_and_data_bytes)`` events (sorted stably by tick)."""
    track = bytearray()
    track += b"\x00\xff\x51\x03" + struct.pack(">I", us_per_quarter)[1:]  # set tempo
    now = 0
    for tick, data in sorted(events, key=lambda e: e[0]):
        track += _vlq(tick - now) + bytes(data)
        now = tick
    track += b"\x00\xff\x2f\x00"  # end of track
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, ticks_per_quarter)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


def note_str(program: int, pitch: int, velocity: int) -> str:
    """NSynth-style note name, e.g. ``acoustic_grand_piano-060-100``."""
    return f"{GM_PROGRAMS[program]}-{int(pitch):03d}-{int(velocity):03d}"


def build_gm_notes(
    out_dir,
    programs=(0, 24, 40, 73),
    pitches=range(48, 73),
    velocities=(64, 100),
    seconds: float = 1.0,
    sample_rate: int = 16000,
    soundfont: str = DEFAULT_SOUNDFONT,
    gain: float = 1.0,
    tail: float = 0.5,
    progress: bool = True,
) -> str:
    """Render one note per (program, pitch, velocity) and write ``audio/*.wav`` + ``manifest.csv``.

    Args:
        out_dir: folder to fill (created).
        programs: General MIDI program numbers 0-127 (0 piano, 24 nylon guitar, 40 violin, 73 flute).
        pitches: MIDI note numbers.
        velocities: MIDI velocities 1-127.
        seconds: length of each note file; the key is held for 75% of it.
        sample_rate: Hz (fluidsynth renders at this rate directly).
        soundfont: a General MIDI ``.sf2``.
        gain: fluidsynth's master gain (the render is float; it is scaled down as a whole if it would clip).
        tail: extra silence (s) between slots, so no release rings into the next note.
        progress: show a tqdm bar while cutting the notes.

    Returns:
        Path of ``manifest.csv`` (``path,label,duration,family,instrument,pitch,program,split,velocity``;
        ``label`` is the instrument). A folder already built with the same arguments is left as is.

    Raises:
        MissingToolError: fluidsynth or the soundfont is missing.
    """
    out_dir = os.fspath(out_dir)
    exe = require_tool("fluidsynth", FLUIDSYNTH_PACKAGES)
    if not os.path.isfile(soundfont):
        raise MissingToolError(f"soundfont {soundfont}", FLUIDSYNTH_PACKAGES)
    programs, pitches, velocities = [int(p) for p in programs], [int(p) for p in pitches], [int(v) for v in velocities]
    if not all(0 <= p < 128 for p in programs) or not all(0 <= p < 128 for p in pitches):
        raise ConfigError("programs and pitches must be in 0..127")
    if not all(1 <= v < 128 for v in velocities):
        raise ConfigError("velocities must be in 1..127")
    config = {
        "builder": "gm_notes",
        "version": 1,
        "programs": programs,
        "pitches": pitches,
        "velocities": velocities,
        "seconds": float(seconds),
        "sample_rate": int(sample_rate),
        "soundfont": os.path.abspath(soundfont),
        "gain": float(gain),
        "tail": float(tail),
    }
    manifest_path = os.path.join(out_dir, "manifest.csv")
    if is_complete(out_dir, config):
        return manifest_path

    slot_ms = int(round((seconds + tail) * 1000))
    hold_ms = int(round(0.75 * seconds * 1000))
    notes = [(prog, p, v) for prog in programs for p in pitches for v in velocities]
    events = []
    current = None
    for i, (prog, pitch, vel) in enumerate(notes):
        t0 = i * slot_ms
        if prog != current:
            events.append((t0, (0xC0, prog)))
            current = prog
        events.append((t0 + 1, (0x90, pitch, vel)))  # note on one tick after any program change
        events.append((t0 + 1 + hold_ms, (0x80, pitch, 0)))
        events.append((t0 + slot_ms - 2, (0xB0, 120, 0)))  # all sound off
    events.append((len(notes) * slot_ms, (0xB0, 121, 0)))  # reset controllers: keeps the last slot whole

    os.makedirs(os.path.join(out_dir, "audio"), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".tmp-render-") as tmp:
        midi_path = os.path.join(tmp, "notes.mid")
        wav_path = os.path.join(tmp, "render.wav")
        with open(midi_path, "wb") as f:
            f.write(midi_file_bytes(events))
        cmd = [exe, "-ni", "-q", "-R", "0", "-C", "0", "-g", str(gain), "-r", str(int(sample_rate)),
               "-T", "wav", "-O", "float", "-F", wav_path, soundfont, midi_path]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not os.path.isfile(wav_path):
            raise RuntimeError(f"fluidsynth failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
        render, sr = sf.read(wav_path, dtype="float32", always_2d=True)
    render = render.mean(axis=1)
    peak = float(np.max(np.abs(render))) if render.size else 0.0
    if not np.isfinite(peak) or peak == 0.0:
        raise RuntimeError(f"fluidsynth rendered {'silence' if peak == 0.0 else 'NaN/Inf'} from {soundfont}")
    if peak > 0.99:  # one scale for the whole render keeps the velocities' loudness ratios
        render *= 0.99 / peak
    if sr != sample_rate:  # fluidsynth clamps rates it does not support
        render = audio_io.resample(render, sr, sample_rate)
    n = int(round(seconds * sample_rate))
    entries = []
    for i, (prog, pitch, vel) in progress_bar(list(enumerate(notes)), progress, total=len(notes), desc="gm notes"):
        start = int(round((i * slot_ms + 1) / 1000.0 * sample_rate))
        clip = render[start : start + n]
        clip = np.pad(clip, (0, n - len(clip)))
        name = note_str(prog, pitch, vel)
        path = audio_io.save(os.path.join(out_dir, "audio", name + ".wav"), clip, sample_rate)
        entries.append(
            {
                "path": path,
                "label": GM_PROGRAMS[prog],
                "duration": round(n / sample_rate, 6),
                "instrument": GM_PROGRAMS[prog],
                "family": GM_FAMILIES[prog // 8],
                "program": prog,
                "pitch": pitch,
                "velocity": vel,
                "split": split_of(name),
            }
        )
    write_manifest(entries, manifest_path)
    write_stamp(out_dir, config)
    return manifest_path
