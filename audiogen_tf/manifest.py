"""Manifests: the one list-of-files format that every dataset, builder and pipeline speaks.

A manifest is a CSV (header row) or JSONL file with one entry per audio file. Columns:
``path`` (required; relative paths are relative to the manifest's folder), and optionally
``text``, ``speaker``, ``label``, ``duration`` (seconds) and any other column (kept as strings).

Example:
    >>> import tempfile, os
    >>> from audiogen_tf import manifest
    >>> folder = tempfile.mkdtemp()
    >>> p = manifest.write_manifest([{"path": "a.wav", "label": "sine", "duration": 1.0}], os.path.join(folder, "m.csv"))
    >>> manifest.read_manifest(p)[0]["path"] == os.path.join(folder, "a.wav")
    True
"""

from __future__ import annotations

import csv
import glob
import io
import json
import math
import os

from audiogen_tf.atomic import atomic_write_text
from audiogen_tf.errors import ConfigError

STANDARD_COLUMNS = ("path", "text", "speaker", "label", "duration")
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".au")


def write_manifest(entries, path, relative: bool = True) -> str:
    """Write ``entries`` (dicts with at least ``path``) to ``path`` (``.csv`` or ``.jsonl``) atomically.

    Paths under the manifest's folder are stored relative to it when ``relative`` is true, so a
    dataset folder can be moved as a whole.
    """
    path = os.fspath(path)
    root = os.path.dirname(os.path.abspath(path))
    rows = []
    for e in entries:
        if "path" not in e:
            raise ConfigError(f"manifest entry without 'path': {e}")
        row = dict(e)
        p = os.path.abspath(row["path"]) if not os.path.isabs(row["path"]) else row["path"]
        if relative and os.path.commonpath([root, p]) == root:
            row["path"] = os.path.relpath(p, root)
        rows.append(row)
    if path.endswith(".jsonl"):
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    elif path.endswith(".csv"):
        extra = sorted({k for r in rows for k in r} - set(STANDARD_COLUMNS))
        columns = [c for c in STANDARD_COLUMNS if any(c in r for r in rows) or c == "path"] + extra
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({c: ("" if r.get(c) is None else r.get(c)) for c in columns})
        text = buf.getvalue()
    else:
        raise ConfigError(f"{path}: a manifest must end in .csv or .jsonl")
    return atomic_write_text(path, text)


def read_manifest(path) -> list[dict]:
    """Read a CSV or JSONL manifest; ``path`` values come back absolute, ``duration`` as float.

    Raises:
        ConfigError: the file is missing, has no ``path`` column, or a row is malformed
            (the message names the file and the line).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ConfigError(f"{path}: manifest not found")
    if os.path.isdir(path):
        raise ConfigError(f"{path}: is a folder, not a manifest file")
    root = os.path.dirname(os.path.abspath(path))
    try:
        with open(path, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte 0x{raw[err.start]:02x}); save the manifest as "
                          "UTF-8") from err
    entries: list[tuple[int, dict]] = []  # (line, entry)
    if path.endswith(".jsonl"):
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as err:
                raise ConfigError(f"{path}:{lineno}: not valid JSON ({err})") from err
            if not isinstance(value, dict):
                raise ConfigError(f"{path}:{lineno}: expected a JSON object such as {{\"path\": \"a.wav\"}}, "
                                  f"got a {type(value).__name__}")
            entries.append((lineno, value))
    else:
        try:
            reader = csv.DictReader(io.StringIO(text, newline=""))
            if reader.fieldnames is None or "path" not in reader.fieldnames:
                raise ConfigError(f"{path}: a CSV manifest needs a header row with a 'path' column")
            entries = [(reader.line_num, dict(r)) for r in reader]
        except csv.Error as err:
            raise ConfigError(f"{path}: not a valid CSV file ({err})") from err
    out = []
    for i, (line, e) in enumerate(entries, 1):
        where = f"{path}:{line}"
        if not e.get("path"):
            raise ConfigError(f"{where}: entry {i} has no path")
        if not isinstance(e["path"], str):
            raise ConfigError(f"{where}: 'path' must be a string, got {e['path']!r}")
        e = {k: v for k, v in e.items() if k is not None and v not in (None, "")}
        if not os.path.isabs(e["path"]):
            e["path"] = os.path.join(root, e["path"])
        if "duration" in e:
            try:
                e["duration"] = float(e["duration"])
            except (TypeError, ValueError) as err:
                raise ConfigError(f"{where}: entry {i} has a bad duration {e['duration']!r}") from err
            if not math.isfinite(e["duration"]) or e["duration"] < 0:
                raise ConfigError(f"{where}: entry {i} has a bad duration {e['duration']!r} "
                                  "(seconds, a finite number >= 0)")
        out.append(e)
    return out


def entries_from_glob(pattern_or_folder) -> list[dict]:
    """Entries ``{"path": ...}`` for every audio file matching a glob, or below a folder (recursively), sorted."""
    pattern = os.fspath(pattern_or_folder)
    if os.path.isdir(pattern):
        files = [
            os.path.join(d, f)
            for d, _, names in os.walk(pattern)
            for f in names
            if f.lower().endswith(AUDIO_EXTENSIONS)
        ]
    else:
        files = glob.glob(pattern, recursive=True)
    return [{"path": os.path.abspath(p)} for p in sorted(files)]


def load_entries(source) -> list[dict]:
    """A manifest file (``.csv``/``.jsonl``), a folder, a glob, or an already-made list of entries."""
    if isinstance(source, (list, tuple)):
        return [dict(e) for e in source]
    source = os.fspath(source)
    if source.endswith((".csv", ".jsonl")) and os.path.isfile(source):
        return read_manifest(source)
    entries = entries_from_glob(source)
    if not entries:
        raise ConfigError(f"{source}: no audio files found (looked for {', '.join(AUDIO_EXTENSIONS)})")
    return entries
