"""Manifest entries from corpora users already have: LJSpeech, NSynth, Speech Commands.

Each reader returns a list of manifest dicts (absolute ``path`` plus the corpus' labels) that
:func:`audiogen_tf.manifest.write_manifest` saves and every pipeline of the library reads.

Example:
    >>> from audiogen_tf.datasets.readers import ljspeech_entries
    >>> from audiogen_tf.manifest import write_manifest
    >>> write_manifest(ljspeech_entries("/data/LJSpeech-1.1"), "/data/lj.csv")  # doctest: +SKIP

Formats: the LJ Speech Dataset (Ito & Johnson, 2017), NSynth (Engel et al., 2017) and Speech
Commands (Warden, 2018, "Speech Commands: A Dataset for Limited-Vocabulary Speech Recognition").
"""

from __future__ import annotations

import json
import os
import re
import warnings

from audiogen_tf import audio as audio_io
from audiogen_tf.errors import AudioFileError, ConfigError

BACKGROUND_NOISE_DIR = "_background_noise_"


def _duration(path: str) -> float | None:
    try:
        return round(audio_io.info(path)[2], 6)
    except AudioFileError:
        return None


def _warn_missing(kind: str, root: str, missing: list[str]) -> None:
    if missing:
        warnings.warn(
            f"{kind} at {root}: {len(missing)} listed files are missing or unreadable and were left out "
            f"(first: {missing[0]})",
            RuntimeWarning,
            stacklevel=3,
        )


def ljspeech_entries(root, with_duration: bool = True, speaker: str = "ljspeech") -> list[dict]:
    """Entries of an LJSpeech-style folder: ``metadata.csv`` (``id|text|normalized``) and ``wavs/<id>.wav``.

    Args:
        root: folder holding ``metadata.csv`` and ``wavs/``.
        with_duration: read each wav's header for ``duration`` (and leave out unreadable files).
        speaker: value of the ``speaker`` column.

    Returns:
        ``[{"path", "text" (normalized column, else the raw one), "raw_text", "speaker", "duration"}]``
        in metadata order; wavs that are missing are left out with a warning.
    """
    root = os.path.abspath(os.fspath(root))
    meta = os.path.join(root, "metadata.csv")
    if not os.path.isfile(meta):
        raise ConfigError(f"{root}: not an LJSpeech-style folder (no metadata.csv)")
    entries, missing = [], []
    with open(meta, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split("|")  # LJSpeech uses bare pipes with no CSV quoting
            if len(parts) < 2:
                raise ConfigError(f"{meta}:{lineno}: expected 'id|text|normalized text', got {line[:80]!r}")
            uid, raw = parts[0].strip(), parts[1].strip()
            norm = parts[2].strip() if len(parts) > 2 and parts[2].strip() else raw
            path = os.path.join(root, "wavs", uid + ".wav")
            entry = {"path": path, "text": norm, "raw_text": raw, "speaker": speaker}
            if with_duration:
                seconds = _duration(path)
                if seconds is None:
                    missing.append(path)
                    continue
                entry["duration"] = seconds
            elif not os.path.isfile(path):
                missing.append(path)
                continue
            entries.append(entry)
    _warn_missing("LJSpeech", root, missing)
    return entries


def _split_from_name(root: str) -> str | None:
    m = re.search(r"(train|valid|test)", os.path.basename(os.path.normpath(root)))
    return m.group(1) if m else None


def nsynth_entries(root, with_duration: bool = False, split: str | None = None) -> list[dict]:
    """Entries of an NSynth split folder: ``examples.json`` and ``audio/<note_str>.wav``.

    Args:
        root: e.g. ``nsynth-valid/``.
        with_duration: read each wav's header (NSynth notes are all 4.0 s, which is used otherwise).
        split: value of the ``split`` column; by default taken from the folder name
            (``nsynth-train`` -> ``train``), else left out.

    Returns:
        ``[{"path", "label" (instrument family), "pitch", "velocity", "instrument", "family",
        "source", "qualities", "duration", "split"}]`` sorted by note name.
    """
    root = os.path.abspath(os.fspath(root))
    meta = os.path.join(root, "examples.json")
    if not os.path.isfile(meta):
        raise ConfigError(f"{root}: not an NSynth folder (no examples.json)")
    with open(meta, encoding="utf-8") as f:
        try:
            examples = json.load(f)
        except json.JSONDecodeError as err:
            raise ConfigError(f"{meta}: not valid JSON ({err})") from err
    split = split or _split_from_name(root)
    entries, missing = [], []
    for name in sorted(examples):
        ex = examples[name]
        path = os.path.join(root, "audio", name + ".wav")
        seconds = _duration(path) if with_duration else (4.0 if os.path.isfile(path) else None)
        if seconds is None:
            missing.append(path)
            continue
        entry = {
            "path": path,
            "label": ex.get("instrument_family_str", ""),
            "pitch": int(ex["pitch"]),
            "velocity": int(ex["velocity"]),
            "instrument": ex.get("instrument_str", ""),
            "family": ex.get("instrument_family_str", ""),
            "source": ex.get("instrument_source_str", ""),
            "qualities": ";".join(ex.get("qualities_str", [])),
            "duration": seconds,
        }
        if split:
            entry["split"] = split
        entries.append(entry)
    _warn_missing("NSynth", root, missing)
    return entries


def _read_list(path: str) -> set[str]:
    if not os.path.isfile(path):
        return set()
    with open(path, encoding="utf-8") as f:
        return {line.strip().replace("\\", "/") for line in f if line.strip()}


def speech_commands_entries(root, with_duration: bool = False) -> list[dict]:
    """Entries of a Speech Commands folder: one sub-folder per word, split lists beside them.

    Files named in ``validation_list.txt`` / ``testing_list.txt`` get ``split`` ``valid`` / ``test``,
    all others ``train``; ``_background_noise_`` is left out. The speaker is the file-name part
    before ``_nohash_``.

    Args:
        root: the folder holding the word folders.
        with_duration: read each wav's header (clips are at most 1 s).

    Returns:
        ``[{"path", "label", "speaker", "split", "duration"?}]`` sorted by path.
    """
    root = os.path.abspath(os.fspath(root))
    if not os.path.isdir(root):
        raise ConfigError(f"{root}: not a folder")
    valid = _read_list(os.path.join(root, "validation_list.txt"))
    test = _read_list(os.path.join(root, "testing_list.txt"))
    entries, missing = [], []
    for label in sorted(os.listdir(root)):
        folder = os.path.join(root, label)
        if label == BACKGROUND_NOISE_DIR or label.startswith(".") or not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if not name.lower().endswith(".wav"):
                continue
            rel = f"{label}/{name}"
            path = os.path.join(folder, name)
            entry = {
                "path": path,
                "label": label,
                "speaker": name.split("_nohash_")[0] if "_nohash_" in name else os.path.splitext(name)[0],
                "split": "test" if rel in test else "valid" if rel in valid else "train",
            }
            if with_duration:
                seconds = _duration(path)
                if seconds is None:
                    missing.append(path)
                    continue
                entry["duration"] = seconds
            entries.append(entry)
    _warn_missing("Speech Commands", root, missing)
    if not entries:
        raise ConfigError(f"{root}: no word folders with .wav files (Speech Commands layout)")
    return entries
