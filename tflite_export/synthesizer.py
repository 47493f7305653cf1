"""On-device synthesis runtime: ``.tflite`` files + ``synthesizer.json`` -> audio, with no TensorFlow import.

This is exactly what runs on the phone: :class:`Synthesizer` loads the files with ``ai_edge_litert`` alone
(through :class:`~tflite_export.runtime.TFLiteRunner`) and runs

- mel -> audio, chunked and streaming, with the vocoder's ``"chunk"`` signature (:func:`tflite_export.streaming.stream_vocoder`);
- text -> speech when a Tacotron 2 file is present: the text front end (NumPy), ``"encode"`` once, then
  ``"decoder_step"`` in a loop with its state fed back until the stop token fires, ``"postnet"`` on the
  mel, then the vocoder;
- or, when a CTC-aligned TTS file is present (:class:`~zoo.ctc_tts.CTCTTS`), text -> mel in one ``"synthesize"``
  call (predicted durations, static-size length regulator), then the vocoder.

The bundle is written on the development machine by :func:`export_bundle` (imports TensorFlow lazily).
Every file is checked when it is loaded: a missing, empty, truncated or non-TFLite file (a WAV renamed
``.tflite``), a file of the wrong model (no ``"chunk"`` signature) or one built for other input shapes
raises :class:`~tflite_export.runtime.ModelFileError` naming the file and the problem.

Example:
    >>> export_bundle("out/bundle", vocoder=HiFiGANGenerator.from_preset("hifigan_tiny"))   # doctest: +SKIP
    >>> synth = Synthesizer("out/bundle")                                                   # doctest: +SKIP
    >>> audio = synth.mel_to_audio(mel)            # (frames * hop,) float32                 # doctest: +SKIP
    >>> for chunk in synth.stream(mel): play(chunk)                                         # doctest: +SKIP
    >>> audio = Synthesizer("out/tts_bundle").text_to_speech("Hello there.")                # doctest: +SKIP

Papers: Shen et al. 2018 (Tacotron 2), Kong et al. 2020 (HiFi-GAN).
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

from audiogen_tf.pretrained import sha256_of
from tflite_export.runtime import ModelFileError, TFLiteRunner
from tflite_export.streaming import LOG_FLOOR, StreamResult, mel_windows, stream_vocoder, tflite_chunk_fn

BUNDLE_FILE = "synthesizer.json"
STATE_NAMES = ("context", "attention_weights", "cumulative_weights", "attention_h", "attention_c",
               "decoder_h", "decoder_c")

#: a sha256 per file of a bundle, written by whoever caches the bundle (``audiogen say --tflite``)
CHECKSUM_FILE = "sha256.json"

__all__ = ["BUNDLE_FILE", "CHECKSUM_FILE", "Synthesizer", "damaged_bundle_files", "export_bundle",
           "write_bundle_checksums"]


def write_bundle_checksums(folder) -> str:
    """Write ``folder/sha256.json``: the sha256 of every file of the bundle (what :func:`damaged_bundle_files`
    checks before a cached bundle is used again)."""
    from audiogen_tf.atomic import atomic_write_text

    names = sorted(n for n in os.listdir(folder) if n != CHECKSUM_FILE and os.path.isfile(os.path.join(folder, n))
                   and not n.startswith("."))
    sums = {n: sha256_of(os.path.join(folder, n)) for n in names}
    return atomic_write_text(os.path.join(folder, CHECKSUM_FILE), json.dumps(sums, indent=1, sort_keys=True))


def damaged_bundle_files(folder) -> list[str] | None:
    """Files of the bundle in ``folder`` that are missing or differ from ``sha256.json`` (``[]``: all intact);
    ``None`` when the folder has no (readable) ``sha256.json``."""
    try:
        with open(os.path.join(folder, CHECKSUM_FILE), encoding="utf-8") as f:
            sums = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(sums, dict) or BUNDLE_FILE not in sums:
        return None
    damaged = []
    for name, want in sorted(sums.items()):
        path = os.path.join(folder, str(name))
        if os.path.basename(str(name)) != name or not os.path.isfile(path) or sha256_of(path) != want:
            damaged.append(str(name))
    return damaged


def _expect(runner: TFLiteRunner, signature: str, shapes: dict, what: str) -> None:
    """Raise ModelFileError unless ``runner`` has ``signature`` with inputs of these shapes (-1/None = any)."""
    keys = runner.signature_keys()
    if signature not in keys:
        raise ModelFileError(runner.path, "wrong_model",
                             f"it has signatures {keys}; a {what} needs a '{signature}' signature")
    details = {d["name"]: d for d in runner.input_details(signature)}
    for name, want in shapes.items():
        if name not in details:
            raise ModelFileError(runner.path, "wrong_model",
                                 f"signature '{signature}' has inputs {sorted(details)}; a {what} needs '{name}'")
        got = [int(x) for x in details[name]["shape_signature"]]
        ok = len(got) == len(want) and all(w is None or g == -1 or g == w for g, w in zip(got, want))
        if not ok:
            fmt = lambda s: "(" + ", ".join("None" if d in (None, -1) else str(d) for d in s) + ")"  # noqa: E731
            raise ModelFileError(runner.path, "wrong_input_shape",
                                 f"signature '{signature}' input '{name}' was built for shape {fmt(got)}, "
                                 f"the synthesizer expects {fmt(want)}; re-export with the bundle's settings")


# The keys each entry of synthesizer.json needs, and their types.
_REQUIRED = {
    "vocoder": {"file": str, "chunk_frames": int, "context_frames": int, "hop_length": int, "n_mels": int,
                "sample_rate": int},
    "tacotron2": {"file": str, "text_length": int, "n_mels": int, "sample_rate": int, "frontend": dict,
                  "reduction_factor": int, "max_decoder_steps": int, "stop_threshold": float},
    "ctc_tts": {"file": str, "text_length": int, "n_mels": int, "max_frames": int, "frontend": dict,
                "sample_rate": int},
}


def _check_structure(config, where: str) -> None:
    """Raise ``ModelFileError`` naming ``where`` unless ``config`` has the bundle's structure."""
    if not isinstance(config, dict):
        raise ModelFileError(where, "bad_structure", f"expected a JSON object with 'vocoder', 'tacotron2' or 'ctc_tts', "
                             f"got {type(config).__name__} {str(config)[:40]}")
    if not any(k in config for k in _REQUIRED):
        raise ModelFileError(where, "bad_structure", "no 'vocoder', 'tacotron2' or 'ctc_tts' entry")
    for entry, keys in _REQUIRED.items():
        if entry not in config:
            continue
        value = config[entry]
        if not isinstance(value, dict):
            raise ModelFileError(where, "bad_structure", f"'{entry}' must be an object, got {type(value).__name__}")
        missing = [k for k in keys if k not in value]
        if missing:
            raise ModelFileError(where, "bad_structure", f"'{entry}' lacks {', '.join(repr(k) for k in missing)}")
        for key, kind in keys.items():
            ok = isinstance(value[key], kind) and not isinstance(value[key], bool)
            if kind is float:
                ok = isinstance(value[key], (int, float)) and not isinstance(value[key], bool)
            if kind is int:
                ok = ok or (isinstance(value[key], float) and float(value[key]).is_integer())
            if not ok:
                raise ModelFileError(where, "bad_structure",
                                     f"'{entry}.{key}' must be {kind.__name__}, got {value[key]!r}")


class Synthesizer:
    """Mel-to-audio (chunked, streaming) and text-to-speech from ``.tflite`` files, TensorFlow-free.

    Args:
        bundle: folder with ``synthesizer.json`` (written by :func:`export_bundle`), or ``None`` with ``config``.
        config: the bundle dict itself (``{"vocoder": {...}, "tacotron2": {...}}``); file paths relative to
            ``bundle`` (or absolute). Paths read from ``synthesizer.json`` must stay inside ``bundle``.
        num_threads: interpreter threads (XNNPACK).

    Example:
        >>> synth = Synthesizer("out/bundle")                     # doctest: +SKIP
        >>> audio = synth.mel_to_audio(mel)                        # doctest: +SKIP
        >>> synth.last_stats["first_chunk_latency"], synth.last_stats["rtf"]   # doctest: +SKIP
    """

    def __init__(self, bundle=None, config: dict | None = None, num_threads: int = 2):
        self.root = os.fspath(bundle) if bundle is not None else ""
        config_from_file = config is None
        if config is None:
            if bundle is None:
                raise ValueError("Synthesizer needs a bundle folder or a config dict")
            meta = os.path.join(self.root, BUNDLE_FILE)
            if not os.path.isfile(meta):
                raise ModelFileError(meta, "missing", "no synthesizer.json: write the bundle with export_bundle()")
            try:
                with open(meta, encoding="utf-8") as f:
                    config = json.load(f)
            except (ValueError, UnicodeDecodeError) as e:
                raise ModelFileError(meta, "corrupt", f"not JSON: {e}") from e
        _check_structure(config, os.path.join(self.root, BUNDLE_FILE) if config_from_file else "<config>")
        self.config = config
        self._confined = config_from_file  # files named by a synthesizer.json stay inside its folder
        self.num_threads = num_threads
        self.last_stats: dict = {}
        self.vocoder = self.tacotron2 = self.ctc_tts = None
        if "vocoder" in config:
            self._load_vocoder(config["vocoder"])
        if "tacotron2" in config:
            self._load_tacotron2(config["tacotron2"])
        if "ctc_tts" in config:
            self._load_ctc_tts(config["ctc_tts"])
        if self.vocoder is None and self.tacotron2 is None and self.ctc_tts is None:
            raise ValueError("the bundle has neither a vocoder nor a tacotron2 / ctc_tts entry")

    def _path(self, name, entry: str):
        """The file of entry ``entry``; from a ``synthesizer.json`` it must lie inside the bundle folder (no absolute
        path, no ``..``, no link out): a bundle from elsewhere must not make us open other files."""
        if not self._confined:
            return name if os.path.isabs(name) else os.path.join(self.root, name)
        where = os.path.join(self.root, BUNDLE_FILE)
        shown = repr(name) if len(name) <= 80 else repr(name[:77] + "...")
        if not name or os.path.isabs(name) or ".." in name.replace("\\", "/").split("/"):
            raise ModelFileError(where, "bad_structure", f"'{entry}.file' must name a file inside the bundle folder, "
                                 f"got {shown}")
        full = os.path.join(self.root, name)
        root = os.path.realpath(self.root)
        if os.path.commonpath([root, os.path.realpath(full)]) != root:
            raise ModelFileError(where, "bad_structure", f"'{entry}.file' {shown} is a link to outside the bundle "
                                 "folder")
        return full

    # ------------------------------------------------------------------ loading
    def _load_vocoder(self, cfg):
        self.voc = dict(cfg)
        self.vocoder = TFLiteRunner(self._path(cfg["file"], "vocoder"), num_threads=self.num_threads)
        width = int(cfg["chunk_frames"]) + 2 * int(cfg["context_frames"])
        _expect(self.vocoder, "chunk", {"mel": (1, width, int(cfg["n_mels"]))}, "vocoder")
        self._chunk = tflite_chunk_fn(self.vocoder, "chunk")

    def _load_tacotron2(self, cfg):
        self.tts = dict(cfg)
        runner = TFLiteRunner(self._path(cfg["file"], "tacotron2"), num_threads=self.num_threads)
        n, m = int(cfg["text_length"]), int(cfg["n_mels"])
        _expect(runner, "encode", {"text_ids": (1, n), "text_lengths": (1,)}, "Tacotron 2 model")
        _expect(runner, "decoder_step", {"previous_frame": (1, m)}, "Tacotron 2 model")
        _expect(runner, "postnet", {"mel": (1, None, m)}, "Tacotron 2 model")
        self.tacotron2 = runner
        if self.vocoder is not None and int(self.voc["n_mels"]) != m:
            raise ModelFileError(runner.path, "wrong_input_shape",
                                 f"Tacotron 2 makes {m} mel bands, the vocoder takes {self.voc['n_mels']}")
        self._check_same_features(cfg, runner.path, "Tacotron 2")
        from audiogen_tf.text import TextFrontEnd  # NumPy-only front end

        self.frontend = TextFrontEnd.from_config(cfg["frontend"])

    def _load_ctc_tts(self, cfg):
        self.ctc = dict(cfg)
        runner = TFLiteRunner(self._path(cfg["file"], "ctc_tts"), num_threads=self.num_threads)
        n, m = int(cfg["text_length"]), int(cfg["n_mels"])
        _expect(runner, "synthesize", {"text_ids": (1, n), "text_lengths": (1,)}, "CTC TTS model")
        self.ctc_tts = runner
        if self.vocoder is not None and int(self.voc["n_mels"]) != m:
            raise ModelFileError(runner.path, "wrong_input_shape",
                                 f"the CTC TTS makes {m} mel bands, the vocoder takes {self.voc['n_mels']}")
        self._check_same_features(cfg, runner.path, "the CTC TTS")
        from audiogen_tf.text import TextFrontEnd  # NumPy-only front end

        self.ctc_frontend = TextFrontEnd.from_config(cfg["frontend"])
        if self.tacotron2 is None:
            self.tts = self.ctc

    def _check_same_features(self, cfg, path, what):
        """The text model's mel settings must be the vocoder's (both carried in the bundle since issue 16)."""
        theirs = cfg.get("mel_config")
        ours = self.voc.get("mel_config") if self.vocoder is not None else None
        if theirs and ours and theirs != ours:
            diff = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
            raise ModelFileError(path, "wrong_model", f"{what} makes mels with other settings than the vocoder "
                                 f"takes (they differ in {diff})")

    @property
    def mel_config(self) -> dict | None:
        """The mel settings the bundle's vocoder (else its text model) was trained with; ``None`` in bundles
        written before models carried their features."""
        entry = self.voc if self.vocoder is not None else self.tts
        return dict(entry["mel_config"]) if entry and entry.get("mel_config") else None

    # ------------------------------------------------------------------ mel -> audio
    @property
    def sample_rate(self) -> int:
        return int((self.voc if self.vocoder is not None else self.tts)["sample_rate"])

    def _check_mel(self, mel):
        mel = np.asarray(mel, np.float32)
        if mel.ndim == 3 and mel.shape[0] == 1:
            mel = mel[0]
        if mel.ndim != 2 or mel.shape[1] != int(self.voc["n_mels"]):
            raise ValueError(f"mel must be (frames, {self.voc['n_mels']}) log-mel, got shape {mel.shape}")
        if not np.all(np.isfinite(mel)):
            raise ValueError("mel has NaN or infinite values")
        return mel

    def stream(self, mel):
        """Yield the audio chunk by chunk (each ``chunk_frames * hop_length`` samples, the last one cut)."""
        if self.vocoder is None:
            raise ValueError("this bundle has no vocoder")
        mel = self._check_mel(mel)
        c, k, hop = int(self.voc["chunk_frames"]), int(self.voc["context_frames"]), int(self.voc["hop_length"])
        windows, frames = mel_windows(mel, c, k, float(self.voc.get("pad_value", LOG_FLOOR)))
        remaining = frames * hop
        for w in windows:
            piece = np.asarray(self._chunk(w), np.float32).reshape(-1)[:remaining]
            remaining -= piece.size
            yield piece

    def mel_to_audio(self, mel, refine_iterations: int = 0) -> np.ndarray:
        """Log-mel (frames, n_mels) -> waveform (frames * hop_length,) float32, streamed through ``"chunk"``.

        With ``refine_iterations`` > 0 the vocoder's ``"synthesize_refined"`` signature (an iSTFT vocoder exported
        with ``export_bundle(..., refine=True)``) makes its phase consistent by that many fast Griffin-Lim steps, in
        one offline call over the utterance (no streaming: the steps span the whole utterance).

        Timing of the run is in :attr:`last_stats` (``first_chunk_latency``, ``rtf``, ``chunks``).
        """
        if self.vocoder is None:
            raise ValueError("this bundle has no vocoder")
        mel = self._check_mel(mel)
        refine_iterations = int(refine_iterations)
        if refine_iterations < 0:
            raise ValueError(f"refine_iterations must be >= 0, got {refine_iterations}")
        if refine_iterations:
            return self._refined(mel, refine_iterations)
        out: StreamResult = stream_vocoder(self._chunk, mel, int(self.voc["chunk_frames"]),
                                           int(self.voc["context_frames"]), int(self.voc["hop_length"]),
                                           self.sample_rate, float(self.voc.get("pad_value", LOG_FLOOR)))
        self.last_stats = {"first_chunk_latency": out.first_chunk_latency, "rtf": out.rtf,
                           "chunks": len(out.chunk_seconds), "audio_seconds": out.audio_seconds}
        return out.audio

    @property
    def can_refine(self) -> bool:
        """True when the vocoder file has the ``"synthesize_refined"`` signature."""
        return self.vocoder is not None and "synthesize_refined" in self.vocoder.signature_keys()

    def _refined(self, mel, iterations: int) -> np.ndarray:
        if not self.can_refine:
            raise ModelFileError(self.vocoder.path, "wrong_model",
                                 f"it has signatures {self.vocoder.signature_keys()}; refinement needs an iSTFT "
                                 "vocoder exported with its 'synthesize_refined' signature "
                                 "(export_bundle(..., refine=True))")
        start = time.perf_counter()
        out = self.vocoder.run({"mel": mel[None], "iterations": np.asarray([iterations], np.int32)},
                               signature="synthesize_refined")
        audio = np.asarray(next(iter(out.values())), np.float32).reshape(-1)
        seconds = time.perf_counter() - start
        audio_seconds = len(audio) / self.sample_rate
        self.last_stats = {"first_chunk_latency": seconds, "rtf": seconds / max(audio_seconds, 1e-9), "chunks": 1,
                           "audio_seconds": audio_seconds, "refine_iterations": iterations}
        return audio

    # ------------------------------------------------------------------ text -> speech
    def ctc_text_to_mel(self, text: str) -> dict:
        """Text -> log-mel with the CTC-aligned TTS in one ``"synthesize"`` call.

        Returns:
            ``{"mel": (frames, n_mels), "durations": (tokens,) frames per token, "steps": 1}``. The mel stops at the
            model's ``max_frames``: when ``durations`` sum to more, the end of the text is missing (split it).
        """
        if self.ctc_tts is None:
            raise ValueError("this bundle has no ctc_tts entry")
        n = int(self.ctc["text_length"])
        ids = np.asarray(self.ctc_frontend.encode(text), np.int32).reshape(-1)
        if ids.size > n:
            raise ValueError(f"text encodes to {ids.size} symbols; the exported model takes at most {n}")
        text_ids = np.zeros((1, n), np.int32)
        text_ids[0, : ids.size] = ids
        out = self.ctc_tts.run({"text_ids": text_ids, "text_lengths": np.asarray([ids.size], np.int32)},
                               signature="synthesize")
        frames = int(np.asarray(out["mel_lengths"]).reshape(-1)[0])
        return {"mel": np.asarray(out["mel"])[0, :frames], "durations": np.asarray(out["durations"])[0, : ids.size],
                "steps": 1}

    def text_to_mel(self, text: str, max_decoder_steps: int | None = None, prenet_dropout: bool = False,
                    seed: int = 0, stop_threshold: float | None = None) -> dict:
        """Text -> log-mel with Tacotron 2: ``encode``, ``decoder_step`` loop until the stop token, ``postnet``.

        Args:
            text: the sentence (normalized and encoded by the bundle's front end).
            max_decoder_steps: guard on the decoder steps (default: the model's).
            prenet_dropout: keep pre-net dropout on (Bernoulli(0.5) masks from ``seed``) as in the paper;
                off by default (deterministic).
            stop_threshold: stop probability that ends decoding (default: the model's).

        Returns:
            ``{"mel": (frames, n_mels) after the post-net, "mel_before", "stop_probabilities" (steps,),
            "steps": int, "alignment": (steps, text symbols)}``.
        """
        if self.tacotron2 is None and self.ctc_tts is not None:
            return self.ctc_text_to_mel(text)
        if self.tacotron2 is None:
            raise ValueError("this bundle has no tacotron2 entry: text-to-speech needs the Tacotron 2 .tflite")
        cfg, run = self.tts, self.tacotron2
        n = int(cfg["text_length"])
        ids = np.asarray(self.frontend.encode(text), np.int32).reshape(-1)
        if ids.size > n:
            raise ValueError(f"text encodes to {ids.size} symbols; the exported encoder takes at most {n}")
        text_ids = np.zeros((1, n), np.int32)
        text_ids[0, : ids.size] = ids
        enc = run.run({"text_ids": text_ids, "text_lengths": np.asarray([max(ids.size, 1)], np.int32)},
                      signature="encode")
        details = {d["name"]: d for d in run.input_details("decoder_step")}
        state = {s: np.zeros(details[s]["shape"], np.float32) for s in STATE_NAMES}
        if cfg.get("attention") == "dca":  # dynamic convolution attention starts on the first symbol
            state["attention_weights"][:, 0] = 1.0
        mask_names = sorted((k for k in details if k.startswith("prenet_mask_")), key=lambda k: int(k.rsplit("_", 1)[1]))
        rng = np.random.default_rng(seed)
        m, r = int(cfg["n_mels"]), int(cfg["reduction_factor"])
        previous = np.zeros((1, m), np.float32)
        steps = int(max_decoder_steps or cfg["max_decoder_steps"])
        threshold = float(cfg["stop_threshold"] if stop_threshold is None else stop_threshold)
        frames, stops, alignment = [], [], []
        for _ in range(steps):
            feed = {"previous_frame": previous, **state, "memory": enc["memory"],
                    "memory_projection": enc["memory_projection"], "memory_mask": enc["memory_mask"]}
            for name in mask_names:
                shape = details[name]["shape"]
                feed[name] = ((rng.uniform(size=shape) < 0.5) / 0.5).astype(np.float32) if prenet_dropout \
                    else np.ones(shape, np.float32)
            out = run.run(feed, signature="decoder_step")
            state = {s: out[s] for s in STATE_NAMES}
            alignment.append(np.asarray(out["attention_weights"][0]))
            frames.append(out["frames"][0])
            previous = out["frames"][:, -1]
            prob = 1.0 / (1.0 + np.exp(-float(np.asarray(out["stop_logit"]).reshape(-1)[0])))
            stops.append(prob)
            if prob > threshold:
                break
        mel_before = np.concatenate(frames, axis=0).reshape(-1, m)[None]
        mel = run.run({"mel": mel_before}, signature="postnet")
        mel = next(iter(mel.values()))[0]
        length = max(ids.size, 1)
        return {"mel": mel, "mel_before": mel_before[0], "stop_probabilities": np.asarray(stops), "steps": len(stops),
                "alignment": np.stack(alignment)[:, :length]}

    def text_to_speech(self, text: str, refine_iterations: int = 0, **kwargs) -> np.ndarray:
        """Text -> waveform: :meth:`text_to_mel` then :meth:`mel_to_audio` (``refine_iterations`` as there);
        ``last_stats`` has both timings."""
        if self.vocoder is None:
            raise ValueError("this bundle has no vocoder")
        t0 = time.perf_counter()
        out = self.text_to_mel(text, **kwargs)
        mel = out["mel"]
        if "durations" in out and int(np.sum(out["durations"])) > len(mel):
            from audiogen_tf.errors import SynthesisError

            raise SynthesisError(f"{text[:60]!r} needs {int(np.sum(out['durations']))} frames of speech, the exported "
                                 f"model makes at most {len(mel)}: split the text (zoo.voices.Voice.speak does)",
                                 problem="cut")
        t_mel = time.perf_counter() - t0
        audio = self.mel_to_audio(mel, refine_iterations=refine_iterations)
        self.last_stats.update(text_to_mel_seconds=t_mel, total_seconds=time.perf_counter() - t0)
        return audio

    def __repr__(self):
        parts = [f"vocoder={self.vocoder.path!r}"] if self.vocoder else []
        parts += [f"tacotron2={self.tacotron2.path!r}"] if self.tacotron2 else []
        parts += [f"ctc_tts={self.ctc_tts.path!r}"] if self.ctc_tts else []
        return f"Synthesizer({', '.join(parts)})"


# ---------------------------------------------------------------------------------------- export side
def export_bundle(out_dir, vocoder=None, tacotron2=None, quantization: str = "none", sample_rate: int | None = None,
                  chunk_frames: int = 32, context_frames: int | None = None, text_length: int | None = None,
                  representative_dataset=None, ctc_tts=None, refine: bool = False) -> str:
    """Write ``vocoder.tflite`` / ``tacotron2.tflite`` and ``synthesizer.json`` for :class:`Synthesizer` (needs TF).

    Args:
        out_dir: bundle folder (created).
        vocoder: a zoo vocoder (HiFi-GAN, MelGAN, Multi-band MelGAN, iSTFT vocoder); exported with ``"synthesize"``
            and ``"chunk"`` (``chunk_frames`` frames with ``context_frames`` of context each side; default the
            vocoder's ``receptive_field_frames()`` where it declares one, so chunks equal the offline output, else 8).
        tacotron2: a :class:`~zoo.tacotron2.Tacotron2`; exported with ``"encode"``, ``"decoder_step"``
            (``text_length`` symbols, default the front end's ``max_length``) and a ``"postnet"`` endpoint.
        quantization: the mode for both files (see :mod:`tflite_export.export`).
        sample_rate: of the vocoder's audio (default the Tacotron 2 mel config's, else 22050).
        representative_dataset: int8 only, for the vocoder's ``chunk`` (default: built-in notes mels).
        ctc_tts: a :class:`~zoo.ctc_tts.CTCTTS`; exported with its one-call ``"synthesize"`` signature
            (``text_length`` symbols, default its export length; ``max_frames`` output frames). Without a Tacotron 2
            in the bundle, :meth:`Synthesizer.text_to_mel` and ``text_to_speech`` use it.
        refine: also export an iSTFT vocoder's ``"synthesize_refined"`` signature (its phase made consistent by a
            run-time number of fast Griffin-Lim steps: ``Synthesizer.mel_to_audio(mel, refine_iterations=32)``);
            not with ``quantization="int8"`` (whose file holds ``"chunk"`` only).

    Returns:
        the bundle folder.

    Example:
        >>> export_bundle("out/tts", vocoder=hifigan, tacotron2=taco)          # doctest: +SKIP
    """
    import keras

    from audiogen_tf.atomic import atomic_write_text
    from tflite_export.endpoints import Endpoint, EndpointList, get_endpoints
    from tflite_export.export import export_tflite

    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    config = {"format": 1}
    if tacotron2 is not None:
        mc = tacotron2.mel_config
        sample_rate = sample_rate or int(mc.sample_rate)
        n = int(text_length or tacotron2.frontend.max_length)
        eps = [e for e in get_endpoints(_TextLength(tacotron2, n)) if e.name in ("encode", "decoder_step")]
        m = int(tacotron2.n_mels)
        postnet = Endpoint("postnet", lambda mel: mel + tacotron2.postnet(mel, training=False),
                           [keras.InputSpec(shape=(1, None, m), dtype="float32", name="mel")],
                           "mel before -> mel after the post-net")
        export_tflite(EndpointList(eps + [postnet], "tacotron2"), os.path.join(out_dir, "tacotron2.tflite"),
                      quantization=quantization if quantization != "int8" else "dynamic")
        args = tacotron2.get_config()
        config["tacotron2"] = {
            "file": "tacotron2.tflite", "text_length": n, "n_mels": m,
            "reduction_factor": int(tacotron2.reduction_factor), "attention": tacotron2.decoder.attention_type,
            "frontend": tacotron2.frontend.get_config(), "sample_rate": sample_rate,
            "max_decoder_steps": int(args.get("max_decoder_steps", 1000)),
            "stop_threshold": float(args.get("stop_threshold", 0.5)), "mel_config": mc.to_dict(),
        }
    if ctc_tts is not None:
        mc = ctc_tts.feature_settings
        sample_rate = sample_rate or int(mc.sample_rate)
        n = int(text_length or ctc_tts.export_text_length or ctc_tts.frontend.max_length)
        eps = [_as_ep(e) for e in ctc_tts.export_endpoints(text_length=n)]
        export_tflite(EndpointList(eps, "ctc_tts"), os.path.join(out_dir, "ctc_tts.tflite"),
                      quantization=quantization if quantization != "int8" else "dynamic")
        config["ctc_tts"] = {"file": "ctc_tts.tflite", "text_length": n, "n_mels": int(ctc_tts.n_mels),
                             "max_frames": int(ctc_tts.max_frames), "frontend": ctc_tts.frontend.get_config(),
                             "sample_rate": int(sample_rate), "mel_config": mc.to_dict()}
    if vocoder is not None:
        carried = vocoder.feature_settings if getattr(vocoder, "has_features", False) else None
        sample_rate = sample_rate or (carried.sample_rate if carried else int(getattr(vocoder, "sample_rate", 22050)))
        if context_frames is None:
            context_frames = vocoder.receptive_field_frames() if hasattr(vocoder, "receptive_field_frames") else 8
        if refine:
            from zoo.voices import check_refinable

            check_refinable(vocoder)  # ConfigError (a ValueError) for a vocoder without a predicted phase
        if refine and quantization == "int8":
            raise ValueError("refine=True with quantization='int8': the int8 vocoder file holds 'chunk' only")
        extra = {"refine": True} if refine else {}
        eps = [_as_ep(e) for e in vocoder.export_endpoints(chunk_frames=chunk_frames, context_frames=context_frames,
                                                           **extra)]
        calib = representative_dataset
        if quantization == "int8" and calib is None:
            from tflite_export.quantization import vocoder_representative_dataset

            calib = {"chunk": vocoder_representative_dataset(vocoder, eps[1])}
        export_tflite(EndpointList(eps, getattr(vocoder, "name", "vocoder")), os.path.join(out_dir, "vocoder.tflite"),
                      quantization=quantization, representative_dataset=calib,
                      endpoint=["chunk"] if quantization == "int8" else None)
        config["vocoder"] = {
            "file": "vocoder.tflite", "model": type(vocoder).__name__, "chunk_frames": int(chunk_frames),
            "context_frames": int(context_frames), "hop_length": int(vocoder.hop_length),
            "n_mels": int(vocoder.n_mels), "sample_rate": int(sample_rate), "pad_value": LOG_FLOOR,
            "quantization": quantization, **({"mel_config": carried.to_dict()} if carried else {}),
        }
    if len(config) == 1:
        raise ValueError("export_bundle needs a vocoder and/or a tacotron2 or ctc_tts model")
    atomic_write_text(os.path.join(out_dir, BUNDLE_FILE), json.dumps(config, indent=2))
    return out_dir


def _as_ep(item):
    from tflite_export.endpoints import as_endpoint

    return as_endpoint(item)


class _TextLength:
    """Tacotron 2 endpoints with a given text length."""

    def __init__(self, model, n):
        self.model, self.n = model, n

    def export_endpoints(self):
        return self.model.export_endpoints(text_length=self.n)
