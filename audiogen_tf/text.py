"""Text front end for TTS: normalization, character or phoneme symbols, and a JSON-saveable symbol table.

Normalization reuses the speech corpus builder's rules (:func:`audiogen_tf.datasets.speech.normalize_text`:
numbers, years, times, money, ordinals, percents, abbreviations), then lowercases and keeps only the
characters of the symbol set. Phonemes come from libespeak-ng, either the copy in the pip package ``espeakng-loader`` or
``espeak-ng -q --ipa -v en-us`` (Debian ``espeak-ng``), one call per punctuation-delimited chunk so that the punctuation (and its pause) survives.

A :class:`SymbolTable` maps symbols to ids (``0`` is padding, ``1`` end of sequence); a
:class:`TextFrontEnd` bundles the normalization, the symbol kind, the table and a maximum length, and its
``get_config()`` is a plain dict a model stores in its own config (so the table is saved with the model).

Example:
    >>> fe = TextFrontEnd()
    >>> fe.normalize("Dr. Smith paid $5.")
    'doctor smith paid five dollars.'
    >>> fe.decode(fe.encode("Hi 2 you!"))
    'hi two you!~'

Paper: the character / phoneme inputs of Tacotron 2 (Shen et al. 2018, arXiv:1712.05884, Sec. 2.2).
"""

from __future__ import annotations

import ctypes
import functools
import json
import re
import shutil
import subprocess
import threading
import unicodedata

import numpy as np

from audiogen_tf.atomic import atomic_write_text
from audiogen_tf.datasets.speech import normalize_text as _speech_normalize
from audiogen_tf.datasets.speech import number_to_words
from audiogen_tf.errors import ConfigError, MissingToolError

PAD = "_"
EOS = "~"
PUNCTUATION = "!'\",.:;?- "
LETTERS = "abcdefghijklmnopqrstuvwxyz"
# IPA inventory produced by espeak-ng for English (and most other voices), stress and length marks included.
IPA = (
    "aɑɐɒɔæbβcçdɗɖðeəɘɚɛɜɝɞfɡɠɢhɦħɥiɨɪjʝkɫlɬɭʟmɱnŋɲɳɴoøɵɸœɶpqrɹɺɾɻʀʁɽsʂʃtʈθuʉʊvʋʌwʍxχyʏzʐʑʒʔʕ"
    "ɣɤɯɰʎʤʧᵻˈˌːˑʰʲʷ̩̃"
)
CHARACTER_SYMBOLS = [PAD, EOS] + list(PUNCTUATION) + list(LETTERS)
PHONEME_SYMBOLS = [PAD, EOS] + list(PUNCTUATION) + sorted(set(IPA) - set(PUNCTUATION))
#: the phoneme table the shipped voices were trained with (tacotron2_slt, ctc_tts_slt), frozen: their embedding rows
#: follow this order, so a preset with shipped weights names it instead of the default above, which may grow
PHONEME_SYMBOLS_V1 = ('_~!\'",.:;?- abcdefhijklmnopqrstuvwxyzæçðøħŋœɐɑɒɔɖɗɘəɚɛɜɝɞɠɡɢ'
                      'ɣɤɥɦɨɪɫɬɭɯɰɱɲɳɴɵɶɸɹɺɻɽɾʀʁʂʃʈʉʊʋʌʍʎʏʐʑʒʔʕʝʟʤʧʰʲʷˈ'
                      '\u02cc\u02d0\u02d1\u0303\u0329\u03b2\u03b8\u03c7\u1d7b')
#: the character table the shipped recognizer (ctc_recognizer_en) was trained with, frozen for the same reason
CHARACTER_SYMBOLS_V1 = '_~!\'",.:;?- abcdefghijklmnopqrstuvwxyz'
ESPEAK_PACKAGES = "espeak-ng (or, with no root: pip install espeakng-loader)"

_EXTRA_ABBREVIATIONS = {
    "st.": "saint", "mt.": "mount", "prof.": "professor", "capt.": "captain", "gen.": "general", "lt.": "lieutenant",
    "col.": "colonel", "sgt.": "sergeant", "no.": "number", "co.": "company", "ltd.": "limited", "ft.": "fort",
    "e.g.": "for example", "i.e.": "that is",
}


#: control characters (C0 but tab and newlines, DEL, C1): spoken as a space
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def normalize(text: str, lowercase: bool = True) -> str:
    """Expand numbers and abbreviations into words, unify quotes and dashes, collapse spaces.

    Args:
        text: raw text.
        lowercase: lowercase the result (character models).

    Example:
        >>> normalize("Mr. Li met Prof. Wu at 7:30 with 3 friends.")
        'mister li met professor wu at seven thirty with three friends.'
    """
    text = _CONTROL.sub(" ", str(text))  # a NUL would end espeak's C string: "Hello\0world." said "Hello" only
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = text.replace("\u2014", ", ").replace("\u2013", " ")
    text = re.sub(
        r"(?<![\w.])(" + "|".join(re.escape(k) for k in _EXTRA_ABBREVIATIONS) + r")(?=\s|$)",
        lambda m: _EXTRA_ABBREVIATIONS[m.group(1).lower()], text, flags=re.IGNORECASE,
    )
    text = _speech_normalize(text)
    text = re.sub(r"\d+", lambda m: number_to_words(int(m.group(0))), text)  # digits left over (e.g. "3x")
    if lowercase:
        text = text.lower()
    return re.sub(r"\s+", " ", text).strip()


def _espeak_library_path():
    """``(library, data folder)`` of the pip package ``espeakng-loader``, or ``None`` when it is not installed."""
    try:
        import espeakng_loader
    except ImportError:
        return None
    return espeakng_loader.get_library_path(), espeakng_loader.get_data_path()


def espeak_available() -> bool:
    """``True`` when espeak-ng can phonemize: the pip package ``espeakng-loader`` or ``espeak-ng`` on ``PATH``."""
    return _espeak_library_path() is not None or shutil.which("espeak-ng") is not None


class _EspeakLibrary:
    """libespeak-ng through ctypes (the copy the pip wheel ``espeakng-loader`` ships): no Debian package needed.

    ``espeak_TextToPhonemes`` returns one clause per call and advances the text pointer; the library keeps global
    state, so calls are serialized by a lock.
    """

    _instance = None
    _lock = threading.Lock()

    def __init__(self, library_path: str, data_path: str):
        lib = ctypes.cdll.LoadLibrary(library_path)
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int]
        # AUDIO_OUTPUT_SYNCHRONOUS (2): no audio device is opened; the return value is the sample rate or an error.
        if lib.espeak_Initialize(2, 0, data_path.encode(), 0) <= 0:
            raise ConfigError(f"libespeak-ng at {library_path} failed to initialize with data {data_path}")
        self.lib = lib
        self.voice = None

    @classmethod
    def get(cls):
        paths = _espeak_library_path()
        if paths is None:
            return None
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls(*paths)
        return cls._instance

    def phonemes(self, chunk: str, voice: str) -> str:
        with self._lock:
            if voice != self.voice:
                if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                    raise ConfigError(f"espeak-ng has no voice {voice!r}")
                self.voice = voice
            text = ctypes.c_char_p(chunk.encode("utf-8"))
            pointer = ctypes.pointer(text)
            clauses = []
            while pointer.contents.value:
                # textmode 1 = UTF-8; phonememode 2 = IPA
                clauses.append(self.lib.espeak_TextToPhonemes(pointer, 1, 2).decode("utf-8"))
        return " ".join(" ".join(clauses).split())


@functools.lru_cache(maxsize=4096)
def _espeak(chunk: str, voice: str) -> str:
    library = _EspeakLibrary.get()
    if library is not None:
        return library.phonemes(chunk, voice)
    out = subprocess.run(
        ["espeak-ng", "-q", "--ipa", "-v", voice, chunk], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    return " ".join(out.split())


def phonemize(text: str, voice: str = "en-us") -> str:
    """IPA phonemes of (normalized) ``text`` by espeak-ng, punctuation kept between the chunks.

    The pip package ``espeakng-loader`` (libespeak-ng 1.52 in the wheel) is used when installed, else the
    ``espeak-ng`` program. Their outputs differ in a few vowels (1.52 writes ``ɔːɹ`` where Debian's 1.51 writes
    ``oːɹ``); the shipped voice was trained on the library's.

    Args:
        text: text, ideally already :func:`normalize`\\ d.
        voice: espeak-ng voice.

    Raises:
        MissingToolError: neither ``espeakng-loader`` nor ``espeak-ng`` is installed.

    Example:
        >>> phonemize("hello, world")  # doctest: +SKIP
        'həlˈoʊ, wˈɜːld'
    """
    if not espeak_available():
        raise MissingToolError("espeak-ng", ESPEAK_PACKAGES)
    text = _CONTROL.sub(" ", text)  # espeak takes a C string: nothing after a NUL would be read
    parts = re.split(r"([!,.:;?]+)", text)
    out = []
    for part in parts:
        if re.fullmatch(r"[!,.:;?]+", part or ""):
            out.append(part)
        elif part.strip():
            words = re.sub(r"[\"'\-]", " ", part).strip()
            if words:
                out.append((" " if out else "") + _espeak(words, voice))
    return re.sub(r"\s+", " ", "".join(out)).strip()


def split_sentences(text: str, max_chars: int = 160) -> list[str]:
    """Split ``text`` into sentences of at most ``max_chars`` characters, for synthesis one at a time.

    Breaks after ``.``, ``!``, ``?`` (and at blank lines); a sentence longer than ``max_chars`` is broken after
    ``,``, ``;`` or ``:``, then between words. Whitespace-only pieces are dropped.

    Example:
        >>> split_sentences("Hello there. How are you?  Fine!")
        ['Hello there.', 'How are you?', 'Fine!']
        >>> split_sentences("one, two, three, four", max_chars=10)
        ['one, two,', 'three,', 'four']
    """
    def pack(units, joiner=" "):
        """Greedily join ``units`` into pieces of at most ``max_chars``."""
        out, current = [], ""
        for unit in units:
            candidate = f"{current}{joiner}{unit}" if current else unit
            if len(candidate) <= max_chars:
                current = candidate
            else:
                if current:
                    out.append(current)
                current = unit
        return out + ([current] if current else [])

    pieces = []
    for sentence in re.split(r"(?<=[.!?])\s+|\n\s*\n", str(text)):
        sentence = " ".join(sentence.split())
        if len(sentence) <= max_chars:
            pieces += [sentence] if sentence else []
            continue
        units = []
        for clause in re.split(r"(?<=[,;:])\s+", sentence):
            if len(clause) <= max_chars:
                units.append(clause)
                continue
            words = []
            for word in clause.split(" "):  # a "word" longer than a piece is cut into pieces
                words += [word[i:i + max_chars] for i in range(0, len(word), max_chars)]
            units += pack(words)
        pieces += pack(units)
    return pieces


class SymbolTable:
    """Symbols <-> integer ids; id 0 is padding, id 1 end of sequence.

    Args:
        symbols: list of single- or multi-character symbols; the first two must be padding and end.

    Example:
        >>> table = SymbolTable(CHARACTER_SYMBOLS)
        >>> table.from_ids(table.to_ids("ab c"))
        'ab c~'
    """

    def __init__(self, symbols):
        symbols = list(symbols)
        if len(symbols) < 3 or symbols[0] != PAD or symbols[1] != EOS:
            raise ConfigError(f"symbols must start with the padding '{PAD}' and end '{EOS}' symbols, got {symbols[:3]}")
        if len(set(symbols)) != len(symbols):
            raise ConfigError("symbols must be unique")
        self.symbols = symbols
        self._ids = {s: i for i, s in enumerate(symbols)}
        self._max_len = max(len(s) for s in symbols)

    @property
    def pad_id(self) -> int:
        return 0

    @property
    def eos_id(self) -> int:
        return 1

    def __len__(self) -> int:
        return len(self.symbols)

    def __eq__(self, other) -> bool:
        return isinstance(other, SymbolTable) and other.symbols == self.symbols

    def split(self, text: str) -> tuple[list[str], list[str]]:
        """Greedy longest-match split -> (known symbols, unknown characters)."""
        known, unknown, i = [], [], 0
        while i < len(text):
            for n in range(min(self._max_len, len(text) - i), 0, -1):
                if text[i : i + n] in self._ids and text[i : i + n] not in (PAD, EOS):
                    known.append(text[i : i + n])
                    i += n
                    break
            else:
                unknown.append(text[i])
                i += 1
        return known, unknown

    def to_ids(self, text: str, add_eos: bool = True) -> list[int]:
        """Ids of the known symbols of ``text`` (unknown characters are dropped), then the end id."""
        ids = [self._ids[s] for s in self.split(text)[0]]
        return ids + [self.eos_id] if add_eos else ids

    def from_ids(self, ids) -> str:
        """Text of ``ids``; padding ids are skipped."""
        return "".join(self.symbols[int(i)] for i in np.asarray(ids).reshape(-1) if int(i) != self.pad_id)

    def to_json(self) -> str:
        return json.dumps({"symbols": self.symbols}, ensure_ascii=False)

    def save(self, path) -> str:
        """Write ``{"symbols": [...]}`` as JSON (atomically)."""
        atomic_write_text(path, self.to_json())
        return str(path)

    @classmethod
    def load(cls, path) -> "SymbolTable":
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f)["symbols"])


class TextFrontEnd:
    """Normalization + symbols + table + length limit: ``encode(text) -> int32 ids``.

    Args:
        symbol_type: ``"characters"`` or ``"phonemes"`` (needs espeak-ng).
        symbols: the table's symbols (default: the set of ``symbol_type``).
        max_length: longest accepted id sequence (end symbol included).
        voice: espeak-ng voice for phonemes.

    Example:
        >>> fe = TextFrontEnd(max_length=10)
        >>> fe.encode("abc").tolist()
        [12, 13, 14, 1]
        >>> TextFrontEnd.from_config(fe.get_config()).table == fe.table
        True
    """

    def __init__(self, symbol_type: str = "characters", symbols=None, max_length: int = 256, voice: str = "en-us"):
        if symbol_type not in ("characters", "phonemes"):
            raise ConfigError(f"symbol_type must be 'characters' or 'phonemes', got {symbol_type!r}")
        self.symbol_type = symbol_type
        self.voice = voice
        self.max_length = int(max_length)
        default = CHARACTER_SYMBOLS if symbol_type == "characters" else PHONEME_SYMBOLS
        self.table = SymbolTable(symbols if symbols is not None else default)

    def normalize(self, text: str) -> str:
        return normalize(text, lowercase=True)

    def to_symbols(self, text: str) -> str:
        """Normalized text, phonemized for ``"phonemes"``."""
        text = self.normalize(text)
        return phonemize(text, self.voice) if self.symbol_type == "phonemes" and text else text

    def encode(self, text: str) -> np.ndarray:
        """Text -> int32 ids (end symbol appended).

        Raises:
            ConfigError: empty text, text with no known symbol, or more than ``max_length`` ids.
        """
        if not isinstance(text, str) or not text.strip():
            raise ConfigError("Text is empty: give at least one word to synthesize.")
        symbols = self.to_symbols(text)
        known, unknown = self.table.split(symbols)
        if not [s for s in known if s != " "]:
            shown = "".join(sorted(set(unknown)))[:40]
            raise ConfigError(
                f"Text {text[:60]!r} has no known {self.symbol_type[:-1]} symbol (unknown: {shown!r}); "
                "use English letters, digits and punctuation."
            )
        ids = self.table.to_ids(symbols)
        if len(ids) > self.max_length:
            raise ConfigError(
                f"Text is too long: {len(ids)} symbols > max_length {self.max_length}; split it into sentences."
            )
        return np.asarray(ids, dtype=np.int32)

    def encode_batch(self, texts) -> tuple[np.ndarray, np.ndarray]:
        """List of texts -> (ids (batch, max_len) int32 zero-padded, lengths (batch,) int32)."""
        seqs = [self.encode(t) for t in texts]
        lengths = np.array([len(s) for s in seqs], np.int32)
        out = np.zeros((len(seqs), int(lengths.max())), np.int32)
        for i, s in enumerate(seqs):
            out[i, : len(s)] = s
        return out, lengths

    def decode(self, ids) -> str:
        return self.table.from_ids(ids)

    def get_config(self) -> dict:
        return {"symbol_type": self.symbol_type, "symbols": list(self.table.symbols), "max_length": self.max_length,
                "voice": self.voice}

    @classmethod
    def from_config(cls, config: dict) -> "TextFrontEnd":
        return cls(**config)
