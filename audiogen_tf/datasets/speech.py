"""Speak a list of sentences with Debian's festival or flite into an LJSpeech-style corpus.

The result is a folder ``wavs/<id>.wav`` + ``metadata.csv`` (``id|text|normalized text``, no
header, as in LJSpeech) + ``manifest.csv`` (``path,text,speaker,duration,raw_text,split``; ``text``
is the normalized text, which is also what the synthesizer was given, so transcript and audio
agree word for word). Builds resume: wavs already made from the same text, engine and rate are
kept; every file is written atomically; sentences that fail are counted, listed in
``failures.txt`` and reported with a warning.

Example:
    >>> from audiogen_tf.datasets.speech import build_speech_corpus
    >>> manifest_path = build_speech_corpus("/tmp/slt", limit=3, progress=False)  # doctest: +SKIP

Voices: festival's ``cmu_us_slt_arctic_hts`` (Debian ``festvox-us-slt-hts``, an HTS voice built
on the CMU ARCTIC "slt" recordings, Kominek & Black 2004) or flite's ``slt``. The folder layout
follows the LJ Speech Dataset (Ito & Johnson, 2017).
"""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import tempfile
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

import numpy as np

from audiogen_tf import audio as audio_io
from audiogen_tf.datasets._common import progress_bar, split_of
from audiogen_tf.atomic import atomic_write_text
from audiogen_tf.errors import AudioFileError, ConfigError, MissingToolError
from audiogen_tf.manifest import write_manifest

FESTIVAL_VOICE = "cmu_us_slt_arctic_hts"
FESTIVAL_PACKAGES = "festival festvox-us-slt-hts"
FLITE_PACKAGES = "flite"
_STATE_NAME = ".speech_state.jsonl"

# ---------------------------------------------------------------------------------------------
# sentences and text normalization


def default_sentences() -> list[str]:
    """The sentences shipped with the package (``audiogen_tf/datasets/sentences.txt``)."""
    text = resources.files("audiogen_tf.datasets").joinpath("sentences.txt").read_text(encoding="utf-8")
    return sentences_from_text(text)


def sentences_from_text(text: str) -> list[str]:
    """One sentence per non-empty line; lines starting with ``#`` are comments."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_IRREGULAR = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                      "nine": "ninth", "twelve": "twelfth"}
_ABBREVIATIONS = {"mr.": "mister", "mrs.": "missus", "ms.": "miz", "dr.": "doctor",
                  "jr.": "junior", "sr.": "senior", "vs.": "versus", "etc.": "et cetera"}


def number_to_words(n: int) -> str:
    """English words of a non-negative integer, e.g. ``1203 -> "one thousand two hundred three"``."""
    n = int(n)
    if n < 0:
        return "minus " + number_to_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_to_words(rest))
    for value, name in _SCALES:
        if n >= value:
            rest = n % value
            return number_to_words(n // value) + " " + name + ("" if rest == 0 else " " + number_to_words(rest))
    raise AssertionError(n)


def ordinal_words(n: int) -> str:
    """``21 -> "twenty first"``."""
    words = number_to_words(n).split()
    last = words[-1]
    if last in _ORDINAL_IRREGULAR:
        last = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return " ".join(words[:-1] + [last])


def year_words(n: int) -> str:
    """Years the way they are read aloud: ``1987 -> "nineteen eighty seven"``, ``2005 -> "two thousand five"``."""
    if 2000 <= n < 2010 or not 1100 <= n < 2100:
        return number_to_words(n)
    hi, lo = divmod(n, 100)
    if lo == 0:
        return number_to_words(hi) + " hundred"
    return number_to_words(hi) + (" oh " + _ONES[lo] if lo < 10 else " " + number_to_words(lo))


def _time_words(m: re.Match) -> str:
    h, mi = int(m.group(1)), int(m.group(2))
    if mi == 0:
        return number_to_words(h) + " o'clock"
    return number_to_words(h) + (" oh " + _ONES[mi] if mi < 10 else " " + number_to_words(mi))


def _money_words(m: re.Match) -> str:
    dollars = int(m.group(1).replace(",", ""))
    cents = int(m.group(2)) if m.group(2) else 0
    out = number_to_words(dollars) + (" dollar" if dollars == 1 else " dollars")
    if cents:
        out += " " + number_to_words(cents) + (" cent" if cents == 1 else " cents")
    return out


def _plain_number(m: re.Match) -> str:
    raw = m.group(0)
    if "." in raw:
        whole, frac = raw.split(".")
        return number_to_words(int(whole.replace(",", ""))) + " point " + " ".join(_ONES[int(d)] for d in frac)
    if "," not in raw and len(raw) == 4:
        return year_words(int(raw))
    return number_to_words(int(raw.replace(",", "")))


def normalize_text(text: str) -> str:
    """Expand numbers, times, money, ordinals, percents and common abbreviations into words.

    Example:
        >>> normalize_text("Dr. Patel paid $5 at 7:45 on the 3rd, 1,200 times in 1987.")
        'doctor Patel paid five dollars at seven forty five on the third, one thousand two hundred times in nineteen eighty seven.'
    """
    text = text.replace("|", ",")
    text = re.sub(r"\b(\w+\.)", lambda m: _ABBREVIATIONS.get(m.group(1).lower(), m.group(1)), text)
    text = re.sub(r"\b(\d{1,2}):(\d{2})\b", _time_words, text)
    text = re.sub(r"\$(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{2}))?", _money_words, text)
    text = re.sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: ordinal_words(int(m.group(1))), text)
    text = re.sub(r"(\d)\s*%", r"\1 percent", text)
    text = re.sub(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", _plain_number, text)
    text = text.replace("-", " ").replace("&", " and ")
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------------------------------------
# engines


def festival_available() -> bool:
    """True when ``text2wave`` and the ``cmu_us_slt_arctic_hts`` voice are installed."""
    import shutil

    if shutil.which("text2wave") is None:
        return False
    roots = ["/usr/share/festival/voices", "/usr/lib/festival/voices", "/usr/local/share/festival/voices"]
    return any(glob.glob(os.path.join(r, "*", FESTIVAL_VOICE)) for r in roots)


def flite_available() -> bool:
    """True when ``flite`` is on ``PATH``."""
    import shutil

    return shutil.which("flite") is not None


def _flite_voice() -> str | None:
    try:
        out = subprocess.run(["flite", "-lv"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return "slt" if re.search(r"\bslt\b", out) else None


def resolve_engine(engine: str = "auto") -> str:
    """``"festival"`` or ``"flite"``: the engine to use, or :class:`MissingToolError`."""
    if engine not in ("auto", "festival", "flite"):
        raise ConfigError(f"engine must be 'auto', 'festival' or 'flite', got {engine!r}")
    if engine in ("auto", "festival") and festival_available():
        return "festival"
    if engine == "festival":
        raise MissingToolError(f"festival with the {FESTIVAL_VOICE} voice", FESTIVAL_PACKAGES)
    if flite_available():
        return "flite"
    if engine == "flite":
        raise MissingToolError("flite", FLITE_PACKAGES)
    raise MissingToolError("festival or flite", f"{FESTIVAL_PACKAGES} (or: {FLITE_PACKAGES})")


def _speak(engine: str, voice: str | None, text: str, wav_path: str, timeout: float, encoding: str = "utf-8") -> None:
    """Run the synthesizer once, writing ``wav_path``; raises RuntimeError with its stderr on failure.

    ``voice``: festival's voice name (default slt) or flite's; ``encoding``: the text file's, as the voice's
    front end reads it (festival's Czech voices read ISO-8859-2, its Italian and Catalan ones ISO-8859-1/15).
    """
    folder = os.path.dirname(wav_path)
    fd, txt = tempfile.mkstemp(prefix=".tmp-", suffix=".txt", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding=encoding) as f:
            f.write(text + "\n")
        if engine == "festival":
            cmd = ["text2wave", "-eval", f"(voice_{voice or FESTIVAL_VOICE})", txt, "-o", wav_path]
        else:
            cmd = ["flite"] + (["-voice", voice] if voice else []) + ["-f", txt, "-o", wav_path]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not os.path.isfile(wav_path) or os.path.getsize(wav_path) <= 44:
            raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}: {proc.stderr.strip()[-300:]}")
    finally:
        os.remove(txt)


# ---------------------------------------------------------------------------------------------
# the builder


def _read_state(path: str) -> dict:
    state = {}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                    state[rec["id"]] = rec
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a crash
    return state


def build_speech_corpus(
    out_dir,
    sentences=None,
    sample_rate: int = 22050,
    engine: str = "auto",
    limit: int | None = None,
    workers: int = 2,
    progress: bool = True,
    timeout: float = 120.0,
    voice: str | None = None,
) -> str:
    """Speak ``sentences`` into an LJSpeech-style folder and return the path of its ``manifest.csv``.

    Args:
        out_dir: folder to fill (created); holds ``wavs/``, ``metadata.csv``, ``manifest.csv``.
        sentences: list of strings, or a path to a text file with one sentence per line (``#`` lines are comments);
            ``None`` uses the packaged ``sentences.txt`` (374 sentences).
        sample_rate: output rate in Hz (the voices' own rates are resampled with librosa).
        engine: ``"auto"`` (festival if its slt voice is installed, else flite), ``"festival"`` or ``"flite"``.
        limit: speak only the first ``limit`` sentences.
        workers: synthesizer processes run at once.
        progress: show a tqdm bar.
        timeout: seconds allowed per sentence.
        voice: a flite voice (``flite -lv``: ``slt``, ``kal``, ``awb``, ``rms``...) for speaker variety; the
            ``speaker`` column is its name. Default: festival's slt, or flite's slt.

    Returns:
        Path of ``manifest.csv`` (``path,text,speaker,duration,raw_text,split``).

    Raises:
        MissingToolError: neither engine is installed (names the Debian packages).
        RuntimeError: every sentence failed.

    Example:
        >>> build_speech_corpus("/tmp/slt", ["Hello there, world."], engine="flite", progress=False)  # doctest: +SKIP
    """
    out_dir = os.fspath(out_dir)
    engine = resolve_engine(engine)
    if voice is not None and engine != "flite":
        raise ConfigError(f"voice {voice!r} needs engine='flite' (festival speaks its slt voice only)")
    chosen = voice
    voice = FESTIVAL_VOICE if engine == "festival" else (voice or _flite_voice())
    speaker = chosen if chosen else ("slt" if voice in ("slt", FESTIVAL_VOICE) else "flite_default")
    if sentences is None:
        sentences = default_sentences()
    elif isinstance(sentences, (str, os.PathLike)):
        with open(sentences, encoding="utf-8") as f:
            sentences = sentences_from_text(f.read())
    sentences = [" ".join(str(s).split()) for s in sentences]
    if limit is not None:
        sentences = sentences[: int(limit)]
    if not sentences:
        raise ConfigError("no sentences to speak")

    wav_dir = os.path.join(out_dir, "wavs")
    os.makedirs(wav_dir, exist_ok=True)
    state_path = os.path.join(out_dir, _STATE_NAME)
    state = _read_state(state_path)
    lock = threading.Lock()
    items = [(f"SLT-{i + 1:04d}", s, normalize_text(s)) for i, s in enumerate(sentences)]

    def kept(uid: str, norm: str, path: str) -> float | None:
        rec = state.get(uid)
        if not rec or rec.get("text") != norm or rec.get("engine") != engine or rec.get("sample_rate") != sample_rate \
                or rec.get("voice") != chosen:
            return None
        try:
            sr, _, seconds = audio_io.info(path)
        except AudioFileError:
            return None
        return seconds if sr == sample_rate and seconds > 0.05 else None

    def work(item):
        uid, raw, norm = item
        path = os.path.join(wav_dir, uid + ".wav")
        seconds = kept(uid, norm, path)
        if seconds is not None:
            return uid, seconds, None, True
        fd, tmp = tempfile.mkstemp(prefix=".tmp-raw-", suffix=".wav", dir=wav_dir)
        os.close(fd)
        try:
            _speak(engine, voice, norm, tmp, timeout)
            x, _ = audio_io.load(tmp, sr=sample_rate)
            if not np.any(np.abs(x) > 1e-3):
                raise RuntimeError("the synthesizer produced silence")
            audio_io.save(path, audio_io.peak_normalize(x, 0.95) if np.max(np.abs(x)) > 0.99 else x, sample_rate)
        except (RuntimeError, OSError, subprocess.SubprocessError, AudioFileError) as err:
            return uid, 0.0, f"{type(err).__name__}: {err}", False
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        rec = {"id": uid, "text": norm, "engine": engine, "sample_rate": sample_rate}
        if chosen:
            rec["voice"] = chosen
        with lock, open(state_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
        return uid, len(x) / sample_rate, None, False

    with ThreadPoolExecutor(max_workers=max(1, int(workers))) as pool:
        results = list(progress_bar(pool.map(work, items), progress, total=len(items), desc=f"speech ({engine})"))

    entries, meta_lines, failures = [], [], []
    n_kept = 0
    for (uid, raw, norm), (_, seconds, error, was_kept) in zip(items, results):
        if error is not None:
            failures.append(f"{uid}|{raw}|{error}")
            continue
        n_kept += was_kept
        meta_lines.append(f"{uid}|{raw}|{norm}")
        entries.append(
            {
                "path": os.path.join(wav_dir, uid + ".wav"),
                "text": norm,
                "speaker": speaker,
                "duration": round(seconds, 4),
                "raw_text": raw,
                "split": split_of(uid, valid=0.05, test=0.05),
            }
        )
    failures_path = os.path.join(out_dir, "failures.txt")
    if failures:
        atomic_write_text(failures_path, "\n".join(failures) + "\n")
    if not entries:
        raise RuntimeError(f"speech corpus: every sentence failed with {engine}; first error: {failures[0]}")
    if failures:
        warnings.warn(
            f"speech corpus: {len(failures)} of {len(items)} sentences failed (listed in {failures_path}); "
            f"first: {failures[0]}",
            RuntimeWarning,
            stacklevel=2,
        )
    elif os.path.exists(failures_path):
        os.remove(failures_path)
    atomic_write_text(os.path.join(out_dir, "metadata.csv"), "\n".join(meta_lines) + "\n")
    manifest_path = write_manifest(entries, os.path.join(out_dir, "manifest.csv"))
    if progress:
        print(f"speech corpus: {len(entries) - n_kept} spoken, {n_kept} kept, {len(failures)} failed -> {out_dir}")
    return manifest_path
