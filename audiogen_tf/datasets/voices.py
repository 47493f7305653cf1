"""Gather many voices, human and synthetic, from Debian packages into one multi-speaker speech corpus (no text).

A vocoder needs no transcripts, only many voices: the universal vocoder learns from this corpus. Sources, each
used only where its package is installed (:data:`VOICES` lists them, with package, license, language and gender):

- human recordings: the Asterisk prompts (``asterisk-core-sounds-{en,es,fr,it}-g722``: Allison en-US and es-MX,
  June fr-CA, Carlo it; G.722 at 16 kHz, decoded by PyPI's ``g722``, the ``voices`` extra) and the Menardi it
  prompts (``asterisk-prompt-it-menardi-wav``, 8 kHz WAV);
- festival voices cut from real speakers (diphone / LPC / cluster units / HTS) in English, Italian, Russian,
  Catalan and Czech, speaking the packaged sentences of their language (``voice_texts/*.txt``);
- flite's awb and rms (male, held out as unseen voices).

Every utterance is trimmed of leading and trailing silence, loudness-normalised, band-limited to ``bandwidth``
Hz (default 8000, the mel's ``fmax``: above it the mel says nothing and most sources hold nothing, so the vocoder
must not learn one voice's high band) and resampled to ``sample_rate``. The ``bandwidth`` column keeps each file's
real band (G.722: 7000 Hz, the 8 kHz prompts: 4000 Hz). Voices marked ``unseen`` are held out whole (split
``unseen``); the others split train / valid / test by utterance.

Output (``out_dir``): ``wavs/<voice>/<id>.wav``, ``manifest.csv`` (every file: ``path, speaker, voice, language,
gender, kind, source, license, bandwidth, duration, text, split``; ``text``: what a synthetic voice was given,
empty for the prompts, which come without transcripts), ``train.csv`` (the train split, rows of small voices
repeated so that each voice gives about the same seconds per epoch, at most ``max_repeat`` times),
``valid.csv``, ``test.csv``, ``unseen.csv`` and ``voices.json`` (the summary). Builds resume: files already written
with the same settings are kept.

Example:
    >>> from audiogen_tf.datasets.voices import available_voices
    >>> sorted(v.name for v in available_voices())  # doctest: +SKIP
    ['allison_en', 'allison_es', ...]
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import subprocess
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from audiogen_tf import audio as audio_io
from audiogen_tf.atomic import atomic_write_text
from audiogen_tf.datasets._common import is_complete, progress_bar, split_of, write_stamp
from audiogen_tf.errors import AudioFileError, ConfigError, MissingToolError
from audiogen_tf.manifest import write_manifest

ASTERISK_SOUNDS = "/usr/share/asterisk/sounds"
FESTIVAL_VOICE_ROOTS = ("/usr/share/festival/voices", "/usr/lib/festival/voices", "/usr/local/share/festival/voices")
TEXT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "voice_texts")
G722_EXTRA = 'pip install "audiogen-tf[voices]"  (the PyPI package g722)'
#: asterisk prompt names that are not speech (tones, silence files)
NON_SPEECH = ("beep", "beeperr", "tone", "silence", "ring", "music", "dial")


@dataclasses.dataclass(frozen=True)
class VoiceSource:
    """One voice of the corpus and where it comes from.

    Args:
        name: the voice's id in the corpus (``<speaker>_<language code>``).
        speaker: the person (Allison speaks two corpus voices).
        language: BCP 47 tag; gender: ``"f"`` or ``"m"``.
        kind: ``"human"`` (recordings), ``"festival"`` or ``"flite"`` (speech synthesized from a real speaker's units).
        package: the Debian package; license: its license as its copyright file states it.
        location: recordings: the folder under ``ASTERISK_SOUNDS``; festival: the voice name; flite: the voice.
        codec: recordings: ``"g722"`` or ``"wav"``; text: festival / flite: the sentence file (``voice_texts/``,
            ``"en"`` = the packaged English sentences) and ``encoding`` its text encoding for the voice.
        bandwidth: Hz of real content in the source (G.722 7000, 16 kHz voices 8000, 8 kHz prompts 4000).
        unseen: held out whole: never trained on, judged as a voice the vocoder never heard.
    """

    name: str
    speaker: str
    language: str
    gender: str
    kind: str
    package: str
    license: str
    location: str
    codec: str = ""
    text: str = ""
    encoding: str = "utf-8"
    bandwidth: int = 8000
    unseen: bool = False


_AST_LICENSE = "CC-BY-SA-3.0 (Asterisk core sound prompts, Digium)"
_FEST_LICENSE = "free use and distribution with notice (Festvox / CSTR)"
VOICES = (
    VoiceSource("allison_en", "allison", "en-US", "f", "human", "asterisk-core-sounds-en-g722", _AST_LICENSE,
                "en_US_f_Allison", codec="g722", bandwidth=7000),
    VoiceSource("allison_es", "allison", "es-MX", "f", "human", "asterisk-core-sounds-es-g722", _AST_LICENSE,
                "es_MX_f_Allison", codec="g722", bandwidth=7000),
    VoiceSource("carlo_it", "carlo", "it-IT", "m", "human", "asterisk-core-sounds-it-g722", _AST_LICENSE,
                "it_IT_m_Carlo", codec="g722", bandwidth=7000),
    VoiceSource("june_fr", "june", "fr-CA", "f", "human", "asterisk-core-sounds-fr-g722", _AST_LICENSE,
                "fr_CA_f_June", codec="g722", bandwidth=7000, unseen=True),
    VoiceSource("menardi_it", "menardi", "it-IT", "f", "human", "asterisk-prompt-it-menardi-wav",
                "CC-BY-SA-3.0 (Marco Menardi)", "it_IT_f_Menardi", codec="wav", bandwidth=4000, unseen=True),
    VoiceSource("slt_en", "slt", "en-US", "f", "festival", "festvox-us-slt-hts", "BSD-3-clause / EST (CMU ARCTIC, HTS)",
                "cmu_us_slt_arctic_hts", text="en", bandwidth=8000),
    VoiceSource("kal_en", "kal", "en-US", "m", "festival", "festvox-kallpc16k", _FEST_LICENSE, "kal_diphone",
                text="en"),
    VoiceSource("ked_en", "ked", "en-US", "m", "festival", "festvox-kdlpc16k", _FEST_LICENSE, "ked_diphone",
                text="en"),
    VoiceSource("lp_it", "lp", "it-IT", "f", "festival", "festvox-italp16k", "GPL-2+ (IFM / ISTC-CNR)", "lp_diphone",
                text="it", encoding="iso-8859-1"),
    VoiceSource("pc_it", "pc", "it-IT", "m", "festival", "festvox-itapc16k", "GPL-2+ (IFM / ISTC-CNR)", "pc_diphone",
                text="it", encoding="iso-8859-1"),
    VoiceSource("nsh_ru", "nsh", "ru-RU", "m", "festival", "festvox-ru", "BSD-like (festvox-ru)",
                "msu_ru_nsh_clunits", text="ru"),
    VoiceSource("ona_ca", "ona", "ca-ES", "f", "festival", "festvox-ca-ona-hts", "LGPL-2.1+ / BSD-3-clause (UPC)",
                "upc_ca_ona_hts", text="ca", encoding="iso-8859-15"),
    VoiceSource("dita_cs", "dita", "cs-CZ", "f", "festival", "festvox-czech-dita", "GPL-2+ (Brailcom)", "czech_dita",
                text="cs", encoding="iso-8859-2", unseen=True),
    VoiceSource("ph_cs", "ph", "cs-CZ", "m", "festival", "festvox-czech-ph", "GPL-2+ (Brailcom)", "czech_ph",
                text="cs", encoding="iso-8859-2", unseen=True),
    VoiceSource("awb_en", "awb", "en-GB", "m", "flite", "flite", "flite license (CMU, free with notice)", "awb",
                text="en", unseen=True),
    VoiceSource("rms_en", "rms", "en-US", "m", "flite", "flite", "flite license (CMU, free with notice)", "rms",
                text="en", unseen=True),
)


def voice_source(name: str) -> VoiceSource:
    """The :class:`VoiceSource` called ``name`` (ConfigError listing the names otherwise)."""
    for v in VOICES:
        if v.name == name:
            return v
    raise ConfigError(f"unknown voice {name!r}; the voices are: {', '.join(v.name for v in VOICES)}")


def _festival_voice_installed(voice: str) -> bool:
    import shutil

    if shutil.which("text2wave") is None:
        return False
    return any(glob.glob(os.path.join(root, "*", voice)) for root in FESTIVAL_VOICE_ROOTS)


def _flite_voices() -> set[str]:
    import shutil

    if shutil.which("flite") is None:
        return set()
    try:
        out = subprocess.run(["flite", "-lv"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return set(out.replace("Voices available:", "").split())


def _g722_available() -> bool:
    try:
        import G722  # noqa: F401  (PyPI g722)
    except ImportError:
        return False
    return True


def voice_status(voice: VoiceSource, sounds_root: str = ASTERISK_SOUNDS) -> str | None:
    """``None`` when ``voice`` can be built here, else why not (a missing package or pip extra)."""
    if voice.kind == "human":
        folder = os.path.join(sounds_root, voice.location)
        if not glob.glob(os.path.join(folder, "**", f"*.{voice.codec}"), recursive=True):
            return f"package {voice.package} is not installed"
        if voice.codec == "g722" and not _g722_available():
            return f"the G.722 decoder is missing: {G722_EXTRA}"
        return None
    if voice.kind == "festival":
        return None if _festival_voice_installed(voice.location) else f"package {voice.package} is not installed"
    return None if voice.location in _flite_voices() else f"package {voice.package} is not installed"


def available_voices(sounds_root: str = ASTERISK_SOUNDS) -> list[VoiceSource]:
    """The voices of :data:`VOICES` whose packages (and decoder) are installed here."""
    return [v for v in VOICES if voice_status(v, sounds_root) is None]


def install_line(missing: list[VoiceSource]) -> str:
    """The ``apt-get install`` line for the Debian packages of ``missing`` voices."""
    packages = sorted({v.package for v in missing} | ({"festival"} if any(v.kind == "festival" for v in missing)
                                                       else set()))
    return "sudo apt-get install " + " ".join(packages)


def voice_sentences(text: str) -> list[str]:
    """The sentences a synthetic voice speaks: ``"en"`` the packaged English ones, else ``voice_texts/<text>.txt``."""
    from audiogen_tf.datasets.speech import default_sentences, sentences_from_text

    if text == "en":
        return default_sentences()
    with open(os.path.join(TEXT_DIR, f"{text}.txt"), encoding="utf-8") as f:
        return sentences_from_text(f.read())


# ---------------------------------------------------------------------------------------------
# reading one utterance


def decode_g722(path: str) -> np.ndarray:
    """A G.722 file (64 kbit/s, 16 kHz) as float32 samples in [-1, 1]."""
    try:
        import G722
    except ImportError as err:
        raise ConfigError(f"{path}: G.722 needs the decoder: {G722_EXTRA}") from err
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        raise AudioFileError(path, "empty", "0 bytes")
    pcm = np.asarray(G722.G722(16000, 64000).decode(data), dtype=np.float32) / 32768.0
    if pcm.size == 0:
        raise AudioFileError(path, "corrupt", "the G.722 decoder returned no samples")
    return pcm


def _band_limit(x: np.ndarray, sr: int, bandwidth: int, res_type: str) -> np.ndarray:
    """``x`` with nothing above ``bandwidth`` Hz: through ``2 * bandwidth`` Hz and back (soxr's anti-alias filter)."""
    if 2 * bandwidth >= sr:
        return x
    low = audio_io.resample(x, sr, 2 * bandwidth, res_type)
    return audio_io.resample(low, 2 * bandwidth, sr, res_type)[: len(x)]


def prepare_utterance(x: np.ndarray, sr: int, sample_rate: int, bandwidth: int, top_db: float = 40.0,
                      target_dbfs: float = -23.0, res_type: str = "soxr_hq") -> np.ndarray:
    """Trim silence at both ends (a 50 ms margin kept), normalise the level, band-limit, resample to ``sample_rate``."""
    x = np.asarray(x, np.float32).reshape(-1)
    _, (start, end) = audio_io.trim_silence(x, sr, top_db=top_db, frame_length=1024, hop_length=256)
    margin = int(0.05 * sr)
    x = x[max(0, start - margin): min(len(x), end + margin)]
    x = audio_io.resample(x, sr, sample_rate, res_type)
    x = _band_limit(x, sample_rate, bandwidth, res_type)
    return audio_io.rms_normalize(x, target_dbfs, peak_limit=0.95)


def _recordings(voice: VoiceSource, sounds_root: str) -> list[tuple[str, str]]:
    """``(utterance id, path)`` of a prompt folder's speech files (tones and silence files left out)."""
    folder = os.path.join(sounds_root, voice.location)
    found = []
    for path in sorted(glob.glob(os.path.join(folder, "**", f"*.{voice.codec}"), recursive=True)):
        uid = os.path.splitext(os.path.relpath(path, folder))[0]
        if any(word in uid.lower() for word in NON_SPEECH):
            continue
        found.append((uid, path))
    return found


def _read_recording(voice: VoiceSource, path: str) -> tuple[np.ndarray, int]:
    if voice.codec == "g722":
        return decode_g722(path), 16000
    x, sr = audio_io.load(path)
    return x.reshape(-1), sr


def _synthesize(voice: VoiceSource, text: str, folder: str, timeout: float) -> tuple[np.ndarray, int]:
    """Speak ``text`` with a festival or flite voice; the audio at the voice's own rate."""
    import soundfile as sf

    from audiogen_tf.datasets.speech import _speak

    fd, tmp = tempfile.mkstemp(prefix=".tmp-voice-", suffix=".wav", dir=folder)
    os.close(fd)
    try:
        spoken = _normalized(text) if voice.text == "en" else text
        _speak(voice.kind, voice.location, spoken, tmp, timeout, encoding=voice.encoding)
        x, sr = sf.read(tmp, dtype="float32", always_2d=True)
        return x.mean(axis=1), int(sr)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


# ---------------------------------------------------------------------------------------------
# the builder


def _balanced(train: list[dict], max_repeat: int) -> list[dict]:
    """Rows of voices with fewer seconds repeated (at most ``max_repeat`` times) towards the median voice's seconds."""
    seconds: dict[str, float] = {}
    for e in train:
        seconds[e["voice"]] = seconds.get(e["voice"], 0.0) + float(e["duration"])
    if not seconds:
        return []
    median = float(np.median(list(seconds.values())))
    out = []
    for e in train:
        repeat = int(min(max_repeat, max(1, round(median / max(seconds[e["voice"]], 1e-9)))))
        out.extend([e] * repeat)
    return out


def build_voices_corpus(
    out_dir,
    voices=None,
    sample_rate: int = 22050,
    bandwidth: int = 8000,
    max_utterances: int | None = None,
    unseen_utterances: int = 40,
    min_seconds: float = 0.5,
    max_seconds: float = 15.0,
    max_repeat: int = 4,
    workers: int = 2,
    progress: bool = True,
    timeout: float = 120.0,
    sounds_root: str = ASTERISK_SOUNDS,
) -> str:
    """Build the multi-speaker corpus in ``out_dir`` from the installed voices; returns ``manifest.csv``'s path.

    Args:
        out_dir: folder to fill (created).
        voices: names from :data:`VOICES` to build (default: every installed one). A named voice that is not
            installed is an error; by default missing ones are reported with their apt-get line.
        sample_rate: Hz of the written audio (22050: the vocoders' rate).
        bandwidth: Hz above which every file is emptied (default 8000, the vocoders' mel ``fmax``).
        max_utterances: at most this many utterances per voice (default: all).
        unseen_utterances: utterances kept per held-out voice (they are only judged).
        min_seconds, max_seconds: utterances shorter or longer after trimming are left out (counted).
        max_repeat: ``train.csv`` repeats a small voice's rows at most this many times.
        workers: festival / flite processes at once.
        progress: a progress bar per voice and the summary.
        sounds_root: where the Asterisk prompt folders are (tests point it at a fixture).

    Returns:
        Path of ``manifest.csv``.

    Raises:
        MissingToolError: none of the voices is installed (names the Debian packages).
        ConfigError: a named voice is unknown or not installed, or the G.722 decoder is missing for it.
    """
    out_dir = os.fspath(out_dir)
    chosen = [voice_source(n) for n in voices] if voices else list(VOICES)
    status = {v.name: voice_status(v, sounds_root) for v in chosen}
    missing = [v for v in chosen if status[v.name] is not None]
    if voices and missing:
        raise ConfigError("; ".join(f"voice {v.name}: {status[v.name]}" for v in missing)
                          + f". Install with: {install_line(missing)}")
    usable = [v for v in chosen if status[v.name] is None]
    if not usable:
        raise MissingToolError("any voice package of the corpus", install_line(missing)[len("sudo apt-get install "):])
    if missing and progress:
        print(f"voices: {len(missing)} of {len(chosen)} voice(s) not available: "
              + ", ".join(f"{v.name} ({status[v.name]})" for v in missing))
        apt = [v for v in missing if "not installed" in status[v.name]]
        if apt:
            print(f"  add them with: {install_line(apt)}")
    config = {"voices": [v.name for v in usable], "sample_rate": sample_rate, "bandwidth": bandwidth,
              "max_utterances": max_utterances, "unseen_utterances": unseen_utterances, "min_seconds": min_seconds,
              "max_seconds": max_seconds, "max_repeat": max_repeat, "version": 3}
    manifest_path = os.path.join(out_dir, "manifest.csv")
    if is_complete(out_dir, config):
        if progress:
            print(f"voices: {out_dir} is complete")
        return manifest_path

    entries, dropped = [], {}
    for voice in usable:
        entries.extend(_build_voice(voice, out_dir, sample_rate, bandwidth, max_utterances, unseen_utterances,
                                    min_seconds, max_seconds, workers, progress, timeout, sounds_root, dropped))
    if not entries:
        raise ConfigError(f"{out_dir}: no utterance was kept from {len(usable)} voice(s)")
    by_split = {s: [e for e in entries if e["split"] == s] for s in ("train", "valid", "test", "unseen")}
    for split, rows in by_split.items():
        rows = _balanced(rows, max_repeat) if split == "train" else rows
        if rows:
            write_manifest(rows, os.path.join(out_dir, f"{split}.csv"))
    summary = _summary(entries, dropped, missing, status)
    atomic_write_text(os.path.join(out_dir, "voices.json"), json.dumps(summary, indent=1) + "\n")
    write_manifest(entries, manifest_path)
    write_stamp(out_dir, config)
    if progress:
        print(summary_table(summary))
    return manifest_path


def _build_voice(voice, out_dir, sample_rate, bandwidth, max_utterances, unseen_utterances, min_seconds,
                 max_seconds, workers, progress, timeout, sounds_root, dropped) -> list[dict]:
    """Write one voice's utterances (kept ones reused) and return their manifest entries."""
    folder = os.path.join(out_dir, "wavs", voice.name)
    os.makedirs(folder, exist_ok=True)
    if voice.kind == "human":
        items = [(uid, path, None) for uid, path in _recordings(voice, sounds_root)]
    else:
        items = [(f"{voice.speaker.upper()}-{i + 1:04d}", None, s) for i, s in enumerate(voice_sentences(voice.text))]
    # the split follows the sentence, so a held-out sentence is unheard in every voice of its language (English:
    # the same ids, hence the same test sentences, as `audiogen data speech`)
    split_keys = {uid: f"{'SLT' if voice.text == 'en' else voice.text}-{uid.rsplit('-', 1)[-1]}" if voice.text
                  else f"{voice.name}/{uid}" for uid, _, _ in items}
    limit = unseen_utterances if voice.unseen else max_utterances
    if limit is not None:
        items = items[: int(limit)]
    band = min(bandwidth, voice.bandwidth)

    def work(item):
        uid, src, text = item
        target = os.path.join(folder, uid.replace(os.sep, "__") + ".wav")
        if os.path.isfile(target):
            try:
                sr, _, seconds = audio_io.info(target)
                if sr == sample_rate:
                    return uid, target, seconds, None
            except AudioFileError:
                pass
        try:
            x, sr = _read_recording(voice, src) if src else _synthesize(voice, text, folder, timeout)
            if not np.all(np.isfinite(x)) or not np.any(np.abs(x) > 1e-3):
                return uid, target, 0.0, "silent or non-finite"
            y = prepare_utterance(x, sr, sample_rate, band)
        except (AudioFileError, RuntimeError, OSError, subprocess.SubprocessError) as err:
            return uid, target, 0.0, f"{type(err).__name__}: {err}"
        seconds = len(y) / sample_rate
        if not min_seconds <= seconds <= max_seconds:
            return uid, target, seconds, f"{seconds:.2f} s after trimming (kept {min_seconds}-{max_seconds} s)"
        audio_io.save(target, y, sample_rate)
        return uid, target, seconds, None

    with ThreadPoolExecutor(max_workers=max(1, int(workers) if voice.kind != "human" else 1)) as pool:
        results = list(progress_bar(pool.map(work, items), progress, total=len(items), desc=f"voice {voice.name}"))
    texts = {uid: (text if voice.text != "en" else _normalized(text)) for uid, _, text in items if text}
    entries = []
    for uid, target, seconds, problem in results:
        if problem is not None:
            dropped.setdefault(voice.name, []).append(f"{uid}: {problem}")
            continue
        entries.append({
            "path": target, "speaker": voice.speaker, "voice": voice.name, "language": voice.language,
            "gender": voice.gender, "kind": voice.kind, "source": voice.package, "license": voice.license,
            "bandwidth": band, "duration": round(seconds, 4), "text": texts.get(uid, ""),
            "split": "unseen" if voice.unseen else split_of(split_keys[uid], valid=0.05, test=0.05),
        })
    if len(dropped.get(voice.name, [])) == len(results) and results:
        warnings.warn(f"voice {voice.name}: every utterance was dropped; first: {dropped[voice.name][0]}",
                      RuntimeWarning, stacklevel=2)
    return entries


def _normalized(text: str) -> str:
    from audiogen_tf.datasets.speech import normalize_text

    return normalize_text(text)


def _summary(entries, dropped, missing, status) -> dict:
    voices: dict[str, dict] = {}
    for e in entries:
        v = voices.setdefault(e["voice"], {"speaker": e["speaker"], "language": e["language"], "gender": e["gender"],
                                           "kind": e["kind"], "source": e["source"], "license": e["license"],
                                           "bandwidth": e["bandwidth"], "files": {}, "seconds": 0.0})
        v["files"][e["split"]] = v["files"].get(e["split"], 0) + 1
        v["seconds"] = round(v["seconds"] + float(e["duration"]), 2)
    for name, problems in dropped.items():
        voices.setdefault(name, {"files": {}, "seconds": 0.0})["dropped"] = len(problems)
        voices[name]["dropped_examples"] = problems[:5]
    return {"voices": voices, "missing": {v.name: status[v.name] for v in missing}}


def summary_table(summary: dict) -> str:
    """A markdown table of the corpus: voice, language, gender, kind, files per split, minutes, dropped."""
    lines = ["| voice | language | gender | kind | train | valid | test | unseen | minutes | dropped |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, v in sorted(summary["voices"].items()):
        f = v.get("files", {})
        lines.append(f"| {name} | {v.get('language', '')} | {v.get('gender', '')} | {v.get('kind', '')} | "
                     f"{f.get('train', 0)} | {f.get('valid', 0)} | {f.get('test', 0)} | {f.get('unseen', 0)} | "
                     f"{v.get('seconds', 0.0) / 60:.1f} | {v.get('dropped', 0)} |")
    for name, why in sorted(summary.get("missing", {}).items()):
        lines.append(f"| {name} | | | | | | | | | not built: {why} |")
    return "\n".join(lines)
