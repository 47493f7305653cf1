"""Symbolic music from the score corpus inside PyPI's ``music21`` wheel: event sequences and JSB-style piano-rolls.

:func:`build_scores` parses one corpus (``chorales``: Bach's four-part chorales; ``folk``: the Essen folksong
collection, monophonic), caches the parsed notes in the output folder (a rebuild does not touch music21), and
writes per piece:

- ``events/<piece>.npy``: int32 tokens of a Performance-RNN-style vocabulary (:data:`VOCAB`): ``BOS``, note-on
  and note-off for 128 pitches, time shifts of 1..16 steps of a sixteenth note (score time, not seconds),
  32 velocity bins, ``EOS`` (``PAD`` = 0 fills batches);
- ``roll/<piece>.npy``: int16 (steps, voices) MIDI pitch of each voice at each step of ``roll_quantum``
  quarter notes (0 = rest), the representation of the published JSB Chorales benchmark (Boulanger-Lewandowski et
  al. 2012: a set of active pitches per step, NLL per time step); :func:`roll_to_multi_hot` gives the 88-key frames.

``manifest.csv`` lists one row per piece (and per transposition of a training piece): ``path`` (events),
``roll``, ``label`` (the style = corpus name), ``key`` (``"G major"``), ``key_id`` (tonic pitch class + 12 for
minor), ``split`` (train / valid / test, by piece, from a hash of its id), ``transpose``, ``source`` (the music21
corpus path and number) and ``license`` (as the music21 corpus states it).

Example:
    >>> ev = encode_events([(0, 4, 60, 80), (0, 2, 64, 80), (2, 4, 65, 80)])
    >>> [token_name(t) for t in ev]  # doctest: +NORMALIZE_WHITESPACE
    ['BOS', 'VEL_20', 'ON_60', 'ON_64', 'SHIFT_2', 'OFF_64', 'ON_65', 'SHIFT_2', 'OFF_60', 'OFF_65', 'EOS']
    >>> decode_events(ev) == [(0, 4, 60, 80), (0, 2, 64, 80), (2, 4, 65, 80)]
    True
"""

from __future__ import annotations

import gzip
import json
import os
import re

import numpy as np

from audiogen_tf.atomic import atomic_path, atomic_write_bytes
from audiogen_tf.datasets._common import is_complete, progress_bar, split_of, write_stamp
from audiogen_tf.errors import AudiogenError, ConfigError
from audiogen_tf.manifest import read_manifest, write_manifest

MUSIC_EXTRA = 'pip install "audiogen-tf[music]"'

# ---------------------------------------------------------------------------------------------- vocabulary
PAD, BOS, EOS = 0, 1, 2
NOTE_ON = 3  # + pitch (0..127)
NOTE_OFF = NOTE_ON + 128
MAX_SHIFT = 16  # steps (a 4/4 bar of sixteenth notes)
TIME_SHIFT = NOTE_OFF + 128  # + (steps - 1)
VELOCITY_BINS = 32
VELOCITY = TIME_SHIFT + MAX_SHIFT  # + bin
VOCAB = VELOCITY + VELOCITY_BINS  # 307 tokens
STEP_QUARTERS = 0.25  # one time-shift step: a sixteenth note
DEFAULT_VELOCITY = 80  # scores without dynamics

#: style labels (conditioning ids are the index here, fixed so a model trained on one corpus keeps its ids)
STYLES = ("chorales", "folk")
PITCH_CLASSES = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")

MUSIC21_LICENSE = ("encoding distributed in the music21 corpus with the encoders' permission; some encodings may "
                   "restrict commercial use (music21 corpus/license.txt)")
CORPORA = {
    "chorales": {
        "what": "J. S. Bach, four-part chorales (music21 corpus 'bach', Riemenschneider numbering)",
        "license": "composition public domain (J. S. Bach, 1685-1750); " + MUSIC21_LICENSE,
        "voices": 4,
    },
    "folk": {
        "what": "Essen folksong collection, ABC by Seymour Schlien (music21 corpus 'essenFolksong')",
        "license": ("traditional melodies; Essen encodings distributed by permission of E. Dahlig-Turek for "
                    "non-commercial use (music21 corpus/essenFolksong/license.txt)"),
        "voices": 1,
    },
}
_SATB = ("soprano", "alto", "tenor", "bass")


class MissingPackageError(AudiogenError, RuntimeError):
    """An optional Python package is not installed; the message names the pip line."""


def token_name(token: int) -> str:
    """Readable name of a token (``ON_60``, ``SHIFT_4``, ``VEL_20``...)."""
    t = int(token)
    if t in (PAD, BOS, EOS):
        return ("PAD", "BOS", "EOS")[t]
    if t < NOTE_OFF:
        return f"ON_{t - NOTE_ON}"
    if t < TIME_SHIFT:
        return f"OFF_{t - NOTE_OFF}"
    if t < VELOCITY:
        return f"SHIFT_{t - TIME_SHIFT + 1}"
    if t < VOCAB:
        return f"VEL_{t - VELOCITY}"
    raise ValueError(f"token {t} is outside the vocabulary of {VOCAB}")


def velocity_bin(velocity: int) -> int:
    return min(VELOCITY_BINS - 1, max(0, int(velocity) * VELOCITY_BINS // 128))


def bin_velocity(b: int) -> int:
    """Lowest velocity of a bin (inverse of :func:`velocity_bin` for multiples of 4)."""
    return int(b) * 128 // VELOCITY_BINS


def encode_events(notes, bos_eos: bool = True) -> np.ndarray:
    """Notes ``[(start_step, end_step, pitch, velocity), ...]`` -> int32 tokens.

    At each time: note-offs, then a velocity token where the velocity changes, then note-ons; a pitch sounding in
    two voices at once (a unison) is one sounding note (its on at the first start, its off at the last end).
    """
    ons: dict[int, list] = {}
    offs: dict[int, list] = {}
    for start, end, pitch, vel in notes:
        start, end, pitch = int(start), int(end), int(pitch)
        if end <= start or not 0 <= pitch < 128:
            continue
        ons.setdefault(start, []).append((pitch, int(vel)))
        offs.setdefault(end, []).append(pitch)
    out = [BOS] if bos_eos else []
    sounding: dict[int, int] = {}
    now, vel_bin = 0, None
    for t in sorted(set(ons) | set(offs)):
        gap = t - now
        while gap > 0:
            k = min(gap, MAX_SHIFT)
            out.append(TIME_SHIFT + k - 1)
            gap -= k
        now = t
        for p in sorted(offs.get(t, [])):
            sounding[p] -= 1
            if sounding[p] == 0:
                del sounding[p]
                out.append(NOTE_OFF + p)
        for p, v in sorted(ons.get(t, [])):
            if p in sounding:
                sounding[p] += 1
                continue
            b = velocity_bin(v)
            if b != vel_bin:
                out.append(VELOCITY + b)
                vel_bin = b
            sounding[p] = 1
            out.append(NOTE_ON + p)
    if bos_eos:
        out.append(EOS)
    return np.asarray(out, np.int32)


def decode_events(tokens) -> list[tuple[int, int, int, int]]:
    """Tokens -> notes ``[(start_step, end_step, pitch, velocity)]`` sorted by start then pitch.

    Tolerant of sampled sequences: an off without an on is ignored, a second on of a sounding pitch restarts it,
    notes still sounding at the end (or at ``EOS``) end there.
    """
    notes, open_ = [], {}
    now, vel = 0, DEFAULT_VELOCITY

    def close(p):  # end pitch p's sounding note now (a zero-length one is dropped)
        if p in open_:
            s, v = open_.pop(p)
            if now > s:
                notes.append((s, now, p, v))

    for t in np.asarray(tokens).reshape(-1).tolist():
        if t == EOS:
            break
        if NOTE_ON <= t < NOTE_OFF:
            close(t - NOTE_ON)
            open_[t - NOTE_ON] = (now, vel)
        elif NOTE_OFF <= t < TIME_SHIFT:
            close(t - NOTE_OFF)
        elif TIME_SHIFT <= t < VELOCITY:
            now += t - TIME_SHIFT + 1
        elif VELOCITY <= t < VOCAB:
            vel = bin_velocity(t - VELOCITY)
    for p in list(open_):
        close(p)
    return sorted(notes, key=lambda n: (n[0], n[2], n[1]))


def transpose_events(tokens, semitones: int) -> np.ndarray | None:
    """Tokens with every note-on / note-off moved by ``semitones``; ``None`` if a pitch leaves 0..127."""
    x = np.asarray(tokens, np.int32).copy()
    on = (x >= NOTE_ON) & (x < NOTE_OFF)
    off = (x >= NOTE_OFF) & (x < TIME_SHIFT)
    pitches = np.concatenate([x[on] - NOTE_ON, x[off] - NOTE_OFF])
    if pitches.size and (pitches.min() + semitones < 0 or pitches.max() + semitones > 127):
        return None
    x[on | off] += int(semitones)
    return x


def piano_roll(notes_by_voice, quantum: float = 0.5) -> np.ndarray:
    """Voices of ``[(onset_quarters, duration_quarters, pitch), ...]`` -> int16 (steps, voices) pitch at each step
    start (0 = rest), ``quantum`` quarter notes per step."""
    end = max([on + d for voice in notes_by_voice for on, d, _ in voice] or [0.0])
    steps = int(np.ceil(end / quantum - 1e-6))
    roll = np.zeros((steps, len(notes_by_voice)), np.int16)
    for v, voice in enumerate(notes_by_voice):
        for on, d, p in voice:
            a, b = int(np.ceil(on / quantum - 1e-6)), int(np.ceil((on + d) / quantum - 1e-6))
            roll[a:b, v] = p
    return roll


def roll_to_multi_hot(roll, low: int = 21, high: int = 108) -> np.ndarray:
    """(steps, voices) pitches -> (steps, high - low + 1) float32 0/1 frames (88 piano keys by default)."""
    roll = np.asarray(roll)
    out = np.zeros((roll.shape[0], high - low + 1), np.float32)
    t, v = np.nonzero((roll >= low) & (roll <= high))
    out[t, roll[t, v] - low] = 1.0
    return out


def key_id(tonic_pc: int, mode: str) -> int:
    """0..23: tonic pitch class, + 12 for minor."""
    return int(tonic_pc) % 12 + (12 if mode == "minor" else 0)


def key_name(kid: int) -> str:
    return f"{PITCH_CLASSES[int(kid) % 12]} {'minor' if int(kid) >= 12 else 'major'}"


# ---------------------------------------------------------------------------------------------- parsing
def _require_music21():
    try:
        import music21  # noqa: F401
    except ImportError as err:
        raise MissingPackageError(f"building score data needs the music21 package: {MUSIC_EXTRA}") from err
    return music21


def _corpus_files(corpus: str, music21) -> list[str]:
    """The corpus paths (as ``corpus.parse`` takes them) of ``corpus``, sorted."""
    from music21 import corpus as m21corpus

    if corpus == "chorales":
        return list(m21corpus.chorales.Iterator(returnType="filename"))
    root = os.path.join(os.path.dirname(m21corpus.__file__), "essenFolksong")
    return sorted(f"essenFolksong/{os.path.splitext(f)[0]}" for f in os.listdir(root) if f.endswith(".abc"))


def _parts_of(score, voices: int):
    parts = [p for p in score.parts if len(p.flatten().notes)]
    if voices == 1:
        return parts[:1] if parts else None
    named = {}
    for p in parts:
        name = (p.partName or "").strip().lower()
        for v in _SATB:
            if name.startswith(v) and v not in named:
                named[v] = p
    if len(named) == 4:
        return [named[v] for v in _SATB]
    return parts if len(parts) == 4 else None


def _piece_record(score, piece_id: str, source: str, voices: int) -> dict | None:
    """Notes of one score (ties merged) in quarter notes, key and title; ``None`` if the voices do not fit."""
    score = score.stripTies()
    parts = _parts_of(score, voices)
    if parts is None:
        return None
    voice_notes = []
    for part in parts:
        notes = []
        for n in part.flatten().notes:
            d = float(n.quarterLength)
            if d <= 0:  # grace notes
                continue
            vel = n.volume.velocity if n.volume.velocity is not None else DEFAULT_VELOCITY
            top = max(p.midi for p in n.pitches)  # chords in a voice: its top note
            notes.append([round(float(n.offset), 4), round(d, 4), int(top), int(vel)])
        voice_notes.append(notes)
    if not any(voice_notes):
        return None
    k = score.analyze("key")
    title = score.metadata.title if score.metadata is not None and score.metadata.title else ""
    return {"id": piece_id, "source": source, "title": title, "tonic_pc": int(k.tonic.pitchClass),
            "mode": "minor" if k.mode == "minor" else "major", "voices": voice_notes}


def parse_corpus(corpus: str, cache_dir, limit: int | None = None, progress: bool = True) -> list[dict]:
    """Parsed pieces of ``corpus`` (cached as ``cache_dir/<corpus>-<music21 version>.json.gz``).

    Args:
        corpus: a key of :data:`CORPORA`.
        cache_dir: folder for the cache; an existing cache is read without importing music21.
        limit: parse only the first ``limit`` corpus files (tests); cached under its own name.
    """
    if corpus not in CORPORA:
        raise ConfigError(f"unknown score corpus {corpus!r}; known: {', '.join(CORPORA)}")
    os.makedirs(cache_dir, exist_ok=True)
    suffix = f"-first{int(limit)}" if limit else ""
    cached = [f for f in sorted(os.listdir(cache_dir)) if f.startswith(f"{corpus}{suffix}-m21-")]
    if cached:
        path = os.path.join(cache_dir, cached[-1])
        try:
            with gzip.open(path, "rt", encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError, EOFError):
            pass  # damaged cache: parse again
    music21 = _require_music21()
    from music21 import corpus as m21corpus

    voices = CORPORA[corpus]["voices"]
    files = _corpus_files(corpus, music21)[: limit or None]
    pieces = []
    for name in progress_bar(files, progress, total=len(files), desc=f"parsing {corpus}"):
        parsed = m21corpus.parse(name)
        scores = list(parsed.scores) if hasattr(parsed, "scores") and len(parsed.scores) else [parsed]
        for i, score in enumerate(scores):
            number = str(getattr(score.metadata, "number", None) or i + 1) if len(scores) > 1 else ""
            source = f"music21:{name}" + (f"#{number}" if number else "")
            piece_id = re.sub(r"[^A-Za-z0-9._-]+", "_", name.split("/", 1)[-1] + (f"_{number}" if number else ""))
            try:
                rec = _piece_record(score, piece_id, source, voices)
            except Exception:  # noqa: BLE001  (one unreadable tune never stops a corpus)
                rec = None
            if rec is not None:
                pieces.append(rec)
    ids = [p["id"] for p in pieces]
    if len(set(ids)) != len(ids):  # a few Essen numbers repeat inside a file
        seen: dict[str, int] = {}
        for p in pieces:
            n = seen[p["id"]] = seen.get(p["id"], 0) + 1
            if n > 1:
                p["id"] = f"{p['id']}-{n}"
    data = json.dumps(pieces, separators=(",", ":")).encode("utf-8")
    atomic_write_bytes(os.path.join(cache_dir, f"{corpus}{suffix}-m21-{music21.__version__}.json.gz"),
                       gzip.compress(data, mtime=0))
    return pieces


def piece_events(piece: dict) -> np.ndarray:
    """The tokens of a parsed piece (all voices on one time line, sixteenth-note steps)."""
    notes = []
    for voice in piece["voices"]:
        for on, d, p, v in voice:
            start = int(round(on / STEP_QUARTERS))
            end = max(start + 1, int(round((on + d) / STEP_QUARTERS)))
            notes.append((start, end, p, v))
    return encode_events(notes)


# ---------------------------------------------------------------------------------------------- build
def parse_transpose(text: str) -> list[int]:
    """``"-3:3"`` (a range, both ends included) or ``"-2,2"`` -> semitone shifts; ``""`` -> none.

    Example:
        >>> parse_transpose("-2:2"), parse_transpose("5,-5"), parse_transpose("")
        ([-2, -1, 0, 1, 2], [5, -5], [])
    """
    text = (text or "").strip()
    if not text:
        return []
    try:
        if ":" in text:
            lo, hi = (int(v) for v in text.split(":"))
            shifts = list(range(lo, hi + 1))
        else:
            shifts = [int(v) for v in text.split(",") if v.strip()]
    except ValueError as err:
        raise ConfigError(f"--transpose {text!r}: give a range like -3:3 or a list like -2,2") from err
    if any(abs(s) > 12 for s in shifts):
        raise ConfigError(f"--transpose {text!r}: shifts must be within an octave (-12..12)")
    return shifts


def build_scores(out_dir, corpus: str = "chorales", transpose=(), roll_quantum: float = 0.5, valid: float = 0.1,
                 test: float = 0.1, limit: int | None = None, progress: bool = True) -> str:
    """Write event sequences, piano-rolls and ``manifest.csv`` of one music21 corpus.

    Args:
        out_dir: folder to fill (``cache/``, ``events/``, ``roll/``, ``manifest.csv``).
        corpus: ``"chorales"`` or ``"folk"``.
        transpose: semitone shifts added for *training* pieces only (e.g. ``range(-3, 4)``; 0 is the original).
        roll_quantum: quarter notes per piano-roll step (0.5: eighth notes; 1.0: the quarter notes of the
            published JSB pickle; 0.25: sixteenths).
        valid, test: shares of pieces held out (by a hash of the piece id: deterministic, independent of order).
        limit: only the first ``limit`` corpus files (tests).

    Returns:
        the path of ``manifest.csv``. A folder built with the same arguments is left as is.

    Raises:
        MissingPackageError: music21 is missing and there is no cache.
        ConfigError: unknown corpus or bad arguments.
    """
    out_dir = os.fspath(out_dir)
    if corpus not in CORPORA:
        raise ConfigError(f"unknown score corpus {corpus!r}; known: {', '.join(CORPORA)}")
    if not roll_quantum > 0:
        raise ConfigError(f"roll_quantum must be > 0 quarter notes, got {roll_quantum}")
    shifts = sorted({int(s) for s in transpose} - {0})
    config = {"builder": "scores", "version": 1, "corpus": corpus, "transpose": shifts,
              "roll_quantum": float(roll_quantum), "valid": float(valid), "test": float(test),
              "limit": int(limit) if limit else None}
    manifest_path = os.path.join(out_dir, "manifest.csv")
    if is_complete(out_dir, config):
        return manifest_path
    pieces = parse_corpus(corpus, os.path.join(out_dir, "cache"), limit=limit, progress=progress)
    if not pieces:
        raise ConfigError(f"{corpus}: no usable pieces parsed")
    info = CORPORA[corpus]
    os.makedirs(os.path.join(out_dir, "events"), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "roll"), exist_ok=True)
    entries = []
    for piece in pieces:
        split = split_of(f"{corpus}/{piece['id']}", valid=valid, test=test)
        events = piece_events(piece)
        roll = piece_roll = piano_roll([[(on, d, p) for on, d, p, _ in v] for v in piece["voices"]], roll_quantum)
        kid = key_id(piece["tonic_pc"], piece["mode"])
        for shift in [0] + (shifts if split == "train" else []):
            ev = events if shift == 0 else transpose_events(events, shift)
            if ev is None:
                continue
            name = piece["id"] + (f"_t{shift:+d}" if shift else "")
            if shift:
                roll = np.where(piece_roll > 0, piece_roll + shift, 0).astype(np.int16)
            ev_path = _save_npy(os.path.join(out_dir, "events", name + ".npy"), ev)
            roll_path = _save_npy(os.path.join(out_dir, "roll", name + ".npy"), roll)
            k = (kid % 12 + shift) % 12 + (kid // 12) * 12
            entries.append({
                "path": ev_path, "label": corpus, "piece": piece["id"], "split": split, "transpose": shift,
                "key": key_name(k), "key_id": k, "num_events": int(len(ev)), "roll": os.path.relpath(roll_path, out_dir),
                "roll_steps": int(roll.shape[0]), "roll_quantum": float(roll_quantum), "voices": int(roll.shape[1]),
                "title": piece["title"], "source": piece["source"], "license": info["license"],
            })
    write_manifest(entries, manifest_path)
    write_stamp(out_dir, config)
    return manifest_path


def _save_npy(path, array) -> str:
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, array)
    return path


# ---------------------------------------------------------------------------------------------- reading
def read_scores(manifest, split: str | None = None, originals_only: bool = False) -> list[dict]:
    """Manifest rows of a score build with their arrays: ``events`` (int32), ``roll`` (int16), ``style_id``,
    ``key_id``, ``transpose`` (ints). ``split`` keeps one split; ``originals_only`` drops transposed copies.

    Raises:
        ConfigError: a row without score columns, or an unreadable ``.npy`` (naming the file).
    """
    rows = read_manifest(manifest) if isinstance(manifest, (str, os.PathLike)) else list(manifest)
    root = os.path.dirname(os.path.abspath(manifest)) if isinstance(manifest, (str, os.PathLike)) else ""
    out = []
    for row in rows:
        if split is not None and row.get("split") != split:
            continue
        if originals_only and int(row.get("transpose", 0) or 0) != 0:
            continue
        if "key_id" not in row or "label" not in row:
            raise ConfigError(f"{manifest}: row {row.get('path')} is not a score row (no key_id / label column); "
                              "build it with `audiogen data scores`")
        if row["label"] not in STYLES:
            raise ConfigError(f"{manifest}: unknown style {row['label']!r} (known: {', '.join(STYLES)})")
        try:
            events = np.load(row["path"]).astype(np.int32)
        except (OSError, ValueError) as err:
            raise ConfigError(f"{row['path']}: unreadable event file ({err})") from err
        if events.ndim != 1 or events.size < 2 or events.min() < 0 or events.max() >= VOCAB:
            raise ConfigError(f"{row['path']}: not an event sequence of the {VOCAB}-token vocabulary")
        rec = dict(row, events=events, style_id=STYLES.index(row["label"]), key_id=int(row["key_id"]),
                   transpose=int(row.get("transpose", 0) or 0))
        if row.get("roll"):
            roll_path = row["roll"] if os.path.isabs(row["roll"]) else os.path.join(root, row["roll"])
            rec["roll_path"] = roll_path
        out.append(rec)
    return out


def load_roll(record) -> np.ndarray:
    """The (steps, voices) int16 piano-roll of a :func:`read_scores` record."""
    return np.load(record["roll_path"])


__all__ = ["BOS", "CORPORA", "EOS", "MUSIC_EXTRA", "MissingPackageError", "PAD", "STYLES", "VOCAB", "build_scores", "load_roll",
           "decode_events", "encode_events", "parse_transpose", "key_id", "key_name", "parse_corpus", "piano_roll", "piece_events",
           "read_scores", "roll_to_multi_hot", "token_name", "transpose_events"]
