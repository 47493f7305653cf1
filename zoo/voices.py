"""Shipped voices: a text-to-mel preset and a vocoder preset that speak together, with no training and no data.

A voice names two presets of the zoo (their shipped weights load offline through ``from_preset`` and are checked
by sha256) and how to join them. :meth:`Voice.speak` splits long text at sentence boundaries
(:func:`audiogen_tf.text.split_sentences`), synthesizes one sentence at a time and yields its audio, so a caller
streams a long text to a file without holding it all (:meth:`Voice.say_to_file` does: temporary file, then rename).

Text that cannot be spoken (empty, or with no symbol the voice knows) raises :class:`~audiogen_tf.errors.ConfigError`
with a message for the user; a sentence of a longer text with nothing to say is skipped and counted.

Example:
    >>> voice = Voice.from_name("test_tiny")        # untrained tiny presets: noise, but the whole path runs
    >>> chunks = list(voice.speak("Hello there. How are you?"))
    >>> [c.text for c in chunks]
    ['Hello there.', 'How are you?']
    >>> chunks[0].audio.dtype.name
    'float32'

Papers: Shen et al. 2018 (Tacotron 2); the vocoder's own family.
"""

from __future__ import annotations

import dataclasses
import os
import time

import numpy as np

from audiogen_tf.errors import ConfigError, SynthesisError
from audiogen_tf.text import split_sentences

#: name -> {"tts": (zoo family, class name, preset), "vocoder": (family, class, preset) or None for Griffin-Lim, ...}.
#: ``test_tiny`` is untrained (tests, docs); shipped voices carry weights in their presets.
VOICES: dict[str, dict] = {
    "test_tiny": {
        "tts": ("tacotron2", "Tacotron2", "tacotron2_tiny"),
        "vocoder": ("istft_vocoder", "ISTFTVocoder", "istft_vocoder_tiny"),
        "description": "untrained tiny presets (tests only: noise)",
        "pause_seconds": 0.1,
    },
    "slt": {
        "tts": ("tacotron2", "Tacotron2", "tacotron2_slt"),
        "vocoder": ("istft_vocoder", "ISTFTVocoder", "istft_vocoder_slt"),
        "description": "festival's slt (US English, female): Tacotron 2 on espeak-ng phonemes + iSTFT vocoder, "
                       "both trained on 2 CPU cores",
        "pause_seconds": 0.15,
    },
    "slt_ctc": {
        "tts": ("ctc_tts", "CTCTTS", "ctc_tts_slt"),
        "vocoder": ("istft_vocoder", "ISTFTVocoder", "istft_vocoder_slt"),
        "description": "festival's slt (US English, female): LSTM TTS with CTC-learned durations (no attention: "
                       "cannot skip or repeat) on espeak-ng phonemes + iSTFT vocoder, both trained on 2 CPU cores",
        "pause_seconds": 0.15,
    },
}


#: the voice ``audiogen say`` uses when none is named
DEFAULT_VOICE = "slt_ctc"


def voice_fingerprint(name: str, memo: str | None = None) -> str:
    """sha256 over a voice's presets (with their weight files' sha256): names a cached export of exactly them.

    The presets live in modules that import TensorFlow. With ``memo`` (a JSON file, e.g. in the cache folder) the
    fingerprint is kept there beside the size and modification time of every source file the presets are made of
    (:func:`_preset_sources`); while none of them changed it is read back without importing a model (``say --tflite``
    with a warm cache runs on LiteRT alone), else it is computed and the memo rewritten.
    """
    if name not in VOICES:
        raise ConfigError(f"unknown voice {name!r}; voices: {', '.join(sorted(VOICES))}")
    stamp = _preset_sources(name) if memo else None
    if memo:
        import json

        try:
            with open(memo, encoding="utf-8") as fh:
                known = json.load(fh)
            entry = known.get(name) if isinstance(known, dict) else None
            if isinstance(entry, dict) and entry.get("sources") == stamp and isinstance(entry.get("sha256"), str):
                return entry["sha256"]
        except (OSError, ValueError):
            known = {}
    digest = _voice_fingerprint(name)
    if memo:
        from audiogen_tf.atomic import atomic_write_text

        known = known if isinstance(known, dict) else {}
        known[name] = {"sources": stamp, "sha256": digest}
        try:
            os.makedirs(os.path.dirname(os.path.abspath(memo)), exist_ok=True)
            atomic_write_text(memo, json.dumps(known, indent=1, sort_keys=True) + "\n")
        except OSError:  # a read-only cache: the next call computes it again
            pass
    return digest


def _preset_sources(name: str) -> list:
    """``[[file, size, mtime_ns]]`` of the Python files a voice's presets are built from: its families' zoo folders,
    ``audiogen_tf`` (mel settings, text symbols) and this module (the voice table)."""
    import glob

    import audiogen_tf

    here = os.path.dirname(os.path.abspath(__file__))
    folders = [os.path.join(here, VOICES[name][role][0]) for role in ("tts", "vocoder") if VOICES[name].get(role)]
    files = [os.path.abspath(__file__)] + sorted(
        f for d in folders + [os.path.dirname(os.path.abspath(audiogen_tf.__file__))]
        for f in glob.glob(os.path.join(d, "*.py")))
    stamp = []
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            continue
        stamp.append([f, st.st_size, st.st_mtime_ns])
    return stamp


def _voice_fingerprint(name: str) -> str:
    """The fingerprint itself: imports the voice's zoo families (Keras) to read their presets."""
    import hashlib
    import importlib
    import json

    from audiogen_tf.registry import get_preset

    parts = []
    for role in ("tts", "vocoder"):
        if VOICES[name].get(role):
            family, class_name, preset = VOICES[name][role]
            cls = getattr(importlib.import_module(f"zoo.{family}"), class_name)
            parts.append([role, class_name, preset, get_preset(cls, preset)])
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def list_voices() -> dict[str, str]:
    """``{name: description}`` of the registered voices."""
    return {name: spec.get("description", "") for name, spec in VOICES.items()}


def _build(family: str, class_name: str, preset: str):
    """``zoo.<family>.<class_name>.from_preset(preset)``."""
    import importlib

    try:
        cls = getattr(importlib.import_module(f"zoo.{family}"), class_name)
    except (ImportError, AttributeError) as err:
        raise ConfigError(f"voice needs zoo.{family}.{class_name}: {err}") from None
    return cls.from_preset(preset)


def _mel_settings(model):
    """``model``'s mel settings as a ``MelConfig``: ``feature_settings`` of a family that carries its features,
    else its ``mel_config`` (Tacotron 2 holds a ``MelConfig``), or None."""
    import sys

    features = sys.modules.get("audiogen_tf.features")  # not imported: no model carries features (no TensorFlow)
    if features is not None and isinstance(model, features.CarriesFeatures):
        return model.feature_settings
    return getattr(model, "mel_config", None)


@dataclasses.dataclass
class SpokenChunk:
    """One synthesized sentence: its text, audio (samples,) float32 and the mel and alignment it came from."""

    text: str
    audio: np.ndarray
    mel: np.ndarray
    alignment: np.ndarray | None
    seconds: float
    index: int = 0  #: 1-based number of the sentence of the text this piece belongs to (progress)
    total: int = 0  #: sentences in the text


class RefinedVocoder:
    """``vocoder(mel)`` with its phase made consistent: calls ``vocoder.synthesize_refined(mel, iterations)``
    (an iSTFT vocoder), shaped like the plain call (batch, samples, 1), for a text-to-mel model's ``vocoder=``."""

    def __init__(self, vocoder, iterations: int):
        self.vocoder, self.iterations = vocoder, int(iterations)

    def __call__(self, mel, training=False):
        return np.asarray(self.vocoder.synthesize_refined(mel, self.iterations))[..., None]


def check_refinable(vocoder) -> None:
    """``ConfigError`` unless ``vocoder`` has a predicted phase to refine (``synthesize_refined``: iSTFT vocoders)."""
    if not hasattr(vocoder, "synthesize_refined"):
        kind = "Griffin-Lim voice" if vocoder is None else type(vocoder).__name__
        raise ConfigError(f"a {kind} has no predicted phase to refine (iSTFT vocoders only)")


def check_refine_iterations(vocoder, iterations) -> int:
    """``iterations`` as an int >= 0; ``ConfigError`` unless it is 0 or ``vocoder`` is an iSTFT vocoder."""
    iterations = int(iterations or 0)
    if iterations < 0:
        raise ConfigError(f"refine iterations must be >= 0, got {iterations}")
    if iterations:
        check_refinable(vocoder)
    return iterations


#: audio with more than this fraction of its samples at full scale (|x| >= 0.999) is refused: a damaged model
#: file gives +-1.0 on every sample; the shipped voice reaches full scale on none, the untrained test voice (noise)
#: on about 6%
CLIP_FRACTION = 0.25


def frames_needed_and_made(out: dict) -> tuple[int, int]:
    """``(frames the durations ask for, frames of the mel)`` of a synthesis output; ``(0, 0)`` without durations
    (Tacotron 2 decides its length by its stop token)."""
    durations = out.get("durations")
    if durations is None:
        return 0, 0
    return int(np.sum(np.asarray(durations, np.int64))), int(np.asarray(out["mel"]).shape[0])


def check_audio(audio, what: str = "audio") -> np.ndarray:
    """``audio`` as (samples,) float32 in [-1, 1]; ``SynthesisError`` naming ``what`` when it has NaN / inf or more
    than :data:`CLIP_FRACTION` of its samples at full scale (what a damaged model file gives)."""
    audio = np.asarray(audio, np.float32).reshape(-1)
    bad = int(np.size(audio) - np.count_nonzero(np.isfinite(audio)))
    if bad:
        raise SynthesisError(f"{what}: the synthesized audio has {bad} NaN or infinite samples of {audio.size} "
                             "(damaged model files?)", problem="non_finite")
    full = int(np.count_nonzero(np.abs(audio) >= 0.999))
    if audio.size and full > CLIP_FRACTION * audio.size:
        raise SynthesisError(f"{what}: the synthesized audio is clipped at full scale ({full} of {audio.size} "
                             "samples at +-1.0; damaged model files?)", problem="clipped")
    return np.clip(audio, -1.0, 1.0)


class Voice:
    """A text-to-mel model and a vocoder (or Griffin-Lim when ``vocoder`` is None) that speak text.

    Args:
        tts: a model with ``synthesize(text=..., vocoder=..., ...)`` (Tacotron 2, CTC TTS) and ``frontend``.
        vocoder: a mel -> audio Keras model with the same features, or None for Griffin-Lim.
        pause_seconds: silence written between sentences.
        name: the voice's name (messages, model cards).
        refine_iterations: with an iSTFT vocoder, fast Griffin-Lim steps that make its predicted phase consistent
            (``ISTFTVocoder.synthesize_refined``; 0: the plain vocoder).
    """

    def __init__(self, tts, vocoder=None, pause_seconds: float = 0.15, name: str = "voice",
                 refine_iterations: int = 0):
        self.tts = tts
        self.vocoder = vocoder
        self.pause_seconds = float(pause_seconds)
        self.name = name
        self.refine_iterations = check_refine_iterations(vocoder, refine_iterations)

    @classmethod
    def from_name(cls, name: str, refine_iterations: int | None = None) -> "Voice":
        """Build a registered voice from its presets (shipped weights load offline and are checked);
        ``refine_iterations`` None: the voice's own setting (0 unless its entry says)."""
        if name not in VOICES:
            raise ConfigError(f"unknown voice {name!r}; voices: {', '.join(sorted(VOICES))}")
        spec = VOICES[name]
        tts = _build(*spec["tts"])
        vocoder = _build(*spec["vocoder"]) if spec.get("vocoder") else None
        if refine_iterations is None:
            refine_iterations = spec.get("refine_iterations", 0)
        return cls(tts, vocoder, pause_seconds=spec.get("pause_seconds", 0.15), name=name,
                   refine_iterations=refine_iterations)

    @property
    def mel_settings(self):
        """The text-to-mel model's :class:`~audiogen_tf.features.MelConfig`."""
        return _mel_settings(self.tts)

    @property
    def has_prenet_dropout(self) -> bool:
        """True when the TTS has Tacotron 2's pre-net dropout (which :meth:`synthesize_sentence` turns off)."""
        import inspect

        return "prenet_dropout" in inspect.signature(self.tts.synthesize).parameters

    @property
    def sample_rate(self) -> int:
        return int(self.mel_settings.sample_rate)

    @property
    def max_chars(self) -> int:
        """Characters per synthesized piece: a sentence is split below the text encoder's symbol limit."""
        return max(16, int(self.tts.frontend.max_length * 0.6))

    def check_text(self, text) -> list[str]:
        """Sentences of ``text`` to speak; ``ConfigError`` with a user message when nothing can be spoken."""
        if not isinstance(text, str) or not text.strip():
            raise ConfigError("Text is empty: give at least one word to say.")
        sentences = [piece for s in split_sentences(text, self.max_chars) for piece in self._fit(s)]
        speakable = [s for s in sentences if self._known_symbols(s)]
        if not speakable:
            raise ConfigError(f"Nothing to say in {text[:60]!r}: it has no letter or digit this voice can speak "
                              "(English letters, digits and punctuation).")
        return speakable

    def _fit(self, sentence: str) -> list[str]:
        """``sentence``, or its halves (at clause, then word boundaries) until each encodes within the limit:
        normalization can lengthen text (``101`` -> ``one hundred one``)."""
        if len(sentence) < 8 or not self._too_long(sentence):
            return [sentence]
        halves = split_sentences(sentence, max_chars=max(4, (len(sentence) + 1) // 2))
        if len(halves) < 2:
            return [sentence]
        return [piece for half in halves for piece in self._fit(half)]

    def _too_long(self, sentence: str) -> bool:
        try:
            self.tts.frontend.encode(sentence)
        except ConfigError as err:
            return "too long" in str(err)
        return False

    def _known_symbols(self, sentence: str) -> bool:
        try:
            self.tts.frontend.encode(sentence)
        except ConfigError:
            return False
        return True

    @classmethod
    def from_models(cls, tts, vocoder=None, name: str = "custom", pause_seconds: float = 0.15,
                    refine_iterations: int = 0) -> "Voice":
        """A voice of two models you hold (a trained Tacotron 2 or CTC TTS, and a vocoder or None for
        Griffin-Lim): ``audiogen say --tts model.keras --vocoder preset``. Their mel settings must agree."""
        if not hasattr(tts, "synthesize") or not hasattr(tts, "frontend"):
            raise ConfigError(f"a {type(tts).__name__} cannot speak text: give a Tacotron 2 or a CTC TTS model")
        if vocoder is not None:
            mine, theirs = _mel_settings(tts), _mel_settings(vocoder)
            keys = ("sample_rate", "n_fft", "hop_length", "n_mels")
            if theirs is not None and any(getattr(mine, k) != getattr(theirs, k) for k in keys):
                raise ConfigError(f"{type(vocoder).__name__} takes another mel than {type(tts).__name__}: "
                                  + ", ".join(f"{k} {getattr(theirs, k)} vs {getattr(mine, k)}" for k in keys))
        return cls(tts, vocoder, pause_seconds=pause_seconds, name=name, refine_iterations=refine_iterations)

    def synthesize_sentence(self, sentence: str, seed: int = 0, griffin_lim_iters: int = 32) -> dict:
        """One sentence with the Keras models: ``{"audio", "mel", "alignment"}`` (Tacotron 2 with pre-net dropout
        off: deterministic, and what the TFLite bundle runs; a CTC TTS's alignment is its durations)."""
        extra = {"prenet_dropout": False} if self.has_prenet_dropout else {}
        vocoder = RefinedVocoder(self.vocoder, self.refine_iterations) if self.refine_iterations else self.vocoder
        return self.tts.synthesize(text=sentence, vocoder=vocoder, griffin_lim_iters=griffin_lim_iters,
                                   seed=seed, **extra)

    def speak(self, text: str, seed: int = 0, engine=None):
        """Yield a :class:`SpokenChunk` per sentence of ``text``, in order.

        Nothing is cut: when a duration model (CTC TTS) predicts more frames for a sentence than it can make in one
        call (``max_frames``), the sentence is split at clause, then word boundaries and each piece is spoken
        (:meth:`_spoken_pieces`). Every piece's audio is checked (:func:`check_audio`).

        Args:
            engine: ``sentence -> {"audio", "mel", "alignment"}`` (default :meth:`synthesize_sentence`, Keras);
                the CLI passes the TFLite bundle's.

        Raises:
            SynthesisError: audio with NaN / inf or clipped at full scale, or a single word longer than the model
                can say.
        """
        engine = engine or (lambda sentence: self.synthesize_sentence(sentence, seed=seed))
        sentences = self.check_text(text)
        for index, sentence in enumerate(sentences, 1):
            for piece, out, seconds in self._spoken_pieces(sentence, engine):
                audio = check_audio(out["audio"], f"voice '{self.name}', text {piece[:60]!r}")
                self._check_covered(piece, out, audio)
                yield SpokenChunk(piece, audio, np.asarray(out["mel"]), out.get("alignment"), seconds,
                                  index=index, total=len(sentences))

    def _spoken_pieces(self, sentence: str, engine) -> list:
        """``[(piece, engine output, seconds)]`` for ``sentence``: itself, or its halves (recursively) when the model
        predicted more frames than it made (a duration model's ``sum(durations)`` above its ``max_frames``)."""
        start = time.perf_counter()
        out = engine(sentence)
        seconds = time.perf_counter() - start
        needed, made = frames_needed_and_made(out)
        if needed <= made:
            return [(sentence, out, seconds)]
        halves = split_sentences(sentence, max_chars=max(1, (len(sentence) + 1) // 2))
        if len(halves) < 2:
            raise SynthesisError(f"voice '{self.name}': {sentence[:60]!r} needs {needed} frames of speech, the model "
                                 f"makes at most {made} per call", problem="cut")
        halves = [half for half in halves if self._known_symbols(half)]  # a lone "!" has nothing to say
        return [p for half in halves for p in self._spoken_pieces(half, engine)]

    def _check_covered(self, piece: str, out: dict, audio) -> None:
        """``SynthesisError`` unless the mel has every frame the durations ask for and the audio spans the mel."""
        needed, made = frames_needed_and_made(out)
        hop = int(self.mel_settings.hop_length)
        if needed > made or len(audio) < (made - 1) * hop:
            raise SynthesisError(f"voice '{self.name}': the speech of {piece[:60]!r} is cut ({made} of {needed} "
                                 f"frames, {len(audio)} samples for {made} frames of {hop})", problem="cut")

    def say_to_file(self, text: str, path, seed: int = 0, on_chunk=None, engine=None) -> dict:
        """Speak ``text`` into the WAV ``path`` sentence by sentence (temporary file, renamed when complete).

        Returns:
            dict: ``path``, ``seconds`` of audio, ``sentences``, ``first_audio_seconds`` (time to the first
            sentence's audio), ``synthesis_seconds`` and ``real_time_factor`` (synthesis time / audio time).
        """
        import soundfile as sf

        from audiogen_tf.atomic import atomic_path, write_failure_reason
        from audiogen_tf.errors import AudioFileError

        path = os.fspath(path)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        sr = self.sample_rate
        pause = np.zeros(int(self.pause_seconds * sr), np.float32)
        start = time.perf_counter()
        first, samples, sentences, synth = None, 0, 0, 0.0
        try:
            with atomic_path(path, suffix=".wav") as tmp:
                with sf.SoundFile(tmp, "w", samplerate=sr, channels=1, subtype="PCM_16", format="WAV") as fh:
                    for chunk in self.speak(text, seed=seed, engine=engine):
                        if first is None:
                            first = time.perf_counter() - start
                        elif len(pause):
                            fh.write(pause)
                            samples += len(pause)
                        fh.write(chunk.audio)
                        samples += len(chunk.audio)
                        sentences = chunk.index  # a sentence split to fit the model is one sentence
                        synth += chunk.seconds
                        if on_chunk is not None:
                            on_chunk(chunk)
        except sf.LibsndfileError as err:  # "System error." alone: a full disk or ``ulimit -f``
            raise AudioFileError(path, "unwritable", f"{write_failure_reason(path)}; libsndfile: {err}") from None
        seconds = samples / sr
        return {"path": path, "seconds": seconds, "sentences": sentences, "first_audio_seconds": first or 0.0,
                "synthesis_seconds": synth, "real_time_factor": synth / max(seconds, 1e-9)}
