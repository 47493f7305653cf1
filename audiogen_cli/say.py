"""``audiogen say "TEXT" -o out.wav``: speak with a shipped voice, offline, with no training and no data.

Keras runs the voice's presets (:mod:`zoo.voices`); ``--tflite`` exports the voice once to a TFLite bundle
(float16, cached beside the output or in ``--bundle``) and speaks through :class:`tflite_export.Synthesizer`, which
uses LiteRT alone. Long text is split at sentence boundaries and streamed to the WAV sentence by sentence; ``--png``
writes the mel of the whole text and the alignment of each sentence (attention for Tacotron 2, durations for a CTC
TTS). ``--tts MODEL [--vocoder MODEL]`` speaks with models you trained instead of a registered voice: a Tacotron 2 or
a CTC-aligned TTS (``.keras`` or a preset with shipped weights), a vocoder or Griffin-Lim.

Like every writer, ``say`` replaces an existing ``-o`` only with ``--force`` (keeping ``OUT.bak``) and never writes
over one of its inputs; it reads at most :data:`MAX_TEXT_BYTES` of text; a cached bundle is checked by sha256.

With the bundle cached, ``say --tflite`` builds no Keras model and imports no TensorFlow (:func:`cached_voice`: the
voice's text front end and mel settings come from the bundle, the cache folder's name from a memo of the presets'
fingerprint): it starts in well under a second. TensorFlow is imported only to export a missing or damaged bundle.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

EXAMPLE = 'audiogen say "The train leaves at seven." -o out/say.wav --tflite --png'


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "say", help="speak text with a shipped voice (offline, no training)",
        epilog="Example:\n  " + EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("text", nargs="?", default=None, help="the text ('-' or --file: read it from stdin or a file)")
    p.add_argument("-o", "--out", default="say.wav", help="WAV to write (default: say.wav)")
    p.add_argument("--file", default=None, help="read the text from this UTF-8 file")
    p.add_argument("--voice", default=None, help="a voice of `audiogen say --list` (default: the shipped voice)")
    p.add_argument("--tts", default=None,
                   help="speak with this text-to-mel model instead of a voice: a trained Tacotron 2 or CTC TTS "
                        "(.keras, or a preset with shipped weights)")
    p.add_argument("--vocoder", default=None,
                   help="with --tts: the vocoder (.keras or preset, e.g. istft_vocoder_slt; default Griffin-Lim)")
    p.add_argument("--list", action="store_true", help="list the voices and exit")
    p.add_argument("--tflite", action="store_true", help="speak through the exported TFLite bundle (LiteRT only)")
    p.add_argument("--bundle", default=None,
                   help="--tflite: folder of the bundle (default: a cache folder under ~/.cache/audiogen)")
    p.add_argument("--png", action="store_true", help="also write OUT_mel.png and OUT_alignment.png")
    p.add_argument("--refine-iterations", type=int, default=None,
                   help="iSTFT vocoders: fast Griffin-Lim steps that make the predicted phase consistent (steadier "
                        "pitch, ~6x the vocoder's compute; "
                        "benchmarks/results/istft_vocoder_refine_sweep_valid_wer.md); "
                        "default: the voice's setting, 0 for --tts")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true",
                   help="replace an existing -o (the old one is kept as OUT.bak; never one of the inputs)")
    return p


#: the most text ``say`` reads (from the argument, --file or stdin): 1 MiB is about 20 hours of speech
MAX_TEXT_BYTES = 1 << 20


def default_voice() -> str:
    from zoo.voices import DEFAULT_VOICE

    return DEFAULT_VOICE


def _read_text(args) -> str:
    """The text of the argument, ``--file`` or stdin (``-``): at most :data:`MAX_TEXT_BYTES` are read (``--file
    /dev/zero`` must not fill the memory); NUL and other control characters are spoken as spaces later
    (:func:`audiogen_tf.text.normalize`)."""
    from audiogen_tf.errors import ConfigError

    cap = MAX_TEXT_BYTES

    def too_long(where):
        return ConfigError(f"{where}: text is longer than {cap} bytes (the limit of `audiogen say`, about "
                           f"{cap / 50000:.0f} hours of speech); split it into smaller files")

    if args.file:
        with open(args.file, "rb") as fh:
            data = fh.read(cap + 1)
        if len(data) > cap:
            raise too_long(args.file)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{args.file}: not UTF-8 text") from None
    if args.text == "-":
        stream = getattr(sys.stdin, "buffer", None)
        data = stream.read(cap + 1) if stream is not None else sys.stdin.read(cap + 1).encode("utf-8")
        if len(data) > cap:
            raise too_long("stdin")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError("stdin: not UTF-8 text") from None
    if args.text is None:
        raise ConfigError('say needs the text: audiogen say "Hello there." -o out.wav (or --file FILE)')
    if len(args.text.encode("utf-8", "surrogatepass")) > cap:
        raise too_long("the text argument")
    return args.text


def _models_fingerprint(args) -> str:
    """sha256 over ``--tts`` / ``--vocoder``: the bytes of a model file, or a preset's name and settings."""
    import hashlib
    import json

    digest = hashlib.sha256()
    for spec in (args.tts, args.vocoder):
        if spec and os.path.isfile(spec):
            with open(spec, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        else:
            from audiogen_tf import registry

            presets = {c: registry.get_preset(c, spec) for c, names in registry.list_presets().items()
                       if spec in names} if spec else {}
            digest.update(json.dumps([spec, presets], sort_keys=True, default=str).encode())
    return digest.hexdigest()


def bundle_folder(voice_name: str, args, refine: bool = False) -> str:
    """``--bundle`` or ``~/.cache/audiogen/voices/<voice>-<sha of its weights>`` (a new weight file, a new folder)."""
    if args.bundle:
        return args.bundle
    cache = os.environ.get("AUDIOGEN_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "audiogen")
    refined = "-refine" if refine else ""  # a bundle that also holds the vocoder's "synthesize_refined" signature
    if getattr(args, "tts", None):
        return os.path.join(cache, "voices", f"{voice_name}-{_models_fingerprint(args)[:12]}{refined}")
    from zoo.voices import voice_fingerprint

    digest = voice_fingerprint(voice_name, memo=os.path.join(cache, "voices", "fingerprints.json"))
    return os.path.join(cache, "voices", f"{voice_name}-{digest[:12]}{refined}")


def remove_stale_exports(folder: str, log=print) -> list[str]:
    """Delete ``<voice>.tmp<PID>`` export folders beside ``folder`` whose process is gone (an export killed by
    SIGKILL or a power cut); returns them."""
    import re
    import shutil

    from audiogen_tf.atomic import pid_alive

    parent = os.path.dirname(os.path.abspath(folder))
    removed = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        m = re.fullmatch(r".+\.tmp(\d+)", name)
        path = os.path.join(parent, name)
        if m and os.path.isdir(path) and not os.path.islink(path) and not pid_alive(int(m.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            log(f"removed {path}: an unfinished export of process {m.group(1)}, which no longer runs")
            removed.append(path)
    return removed


def usable_bundle(folder: str, log=print, checked: bool = True) -> bool:
    """True when ``folder`` holds a bundle that may be used as it is (LiteRT only, no TensorFlow import).

    Stale export folders beside it are removed; a cached bundle (``checked``) whose files do not match its
    ``sha256.json``, or that has none, is deleted (it will be exported again); the user's ``--bundle`` (``checked``
    False) is never deleted: without ``sha256.json`` it is used as it is, not matching it is an error.
    """
    import shutil

    from tflite_export.synthesizer import BUNDLE_FILE, damaged_bundle_files

    remove_stale_exports(folder, log)
    if os.path.exists(os.path.join(folder, BUNDLE_FILE)):
        damaged = damaged_bundle_files(folder)
        if damaged and not checked:  # the user's --bundle: never deleted
            from tflite_export.synthesizer import CHECKSUM_FILE, ModelFileError

            raise ModelFileError(os.path.join(folder, CHECKSUM_FILE), "corrupt",
                                 f"{', '.join(damaged)} do(es) not match it (damaged); remove the folder to export "
                                 "the voice again")
        if damaged or (damaged is None and checked):
            why = (f"{', '.join(damaged)} do(es) not match sha256.json (damaged)" if damaged
                   else "it has no sha256.json (written by an older version)")
            log(f"the cached bundle in {folder} cannot be trusted: {why}; exporting it again")
            shutil.rmtree(folder)
    return os.path.exists(os.path.join(folder, BUNDLE_FILE))


def tflite_engine(voice, folder: str, log=print, checked: bool = True):
    """Export ``voice`` to a float16 bundle in ``folder`` unless one is there; returns ``(engine, synthesizer)``.

    The export writes ``sha256.json`` (a sha256 per file); each use checks the files against it and exports again
    when one differs (a damaged cache). ``checked`` False (the user's ``--bundle``): a bundle without
    ``sha256.json`` is used as it is, one that does not match it is an error (the folder is not deleted).
    """
    import shutil

    from tflite_export.synthesizer import Synthesizer, export_bundle, write_bundle_checksums

    if not usable_bundle(folder, log, checked):
        start = time.perf_counter()
        log(f"exporting voice '{voice.name}' to a TFLite bundle in {folder} (once) ...")
        tmp = folder.rstrip("/") + f".tmp{os.getpid()}"
        duration_model = hasattr(voice.tts, "synthesize_ids")  # CTC TTS: one synthesize call, no decoder loop
        try:
            export_bundle(tmp, vocoder=voice.vocoder, quantization="float16", refine=voice.refine_iterations > 0,
                          **({"ctc_tts": voice.tts} if duration_model else {"tacotron2": voice.tts}))
            write_bundle_checksums(tmp)
            os.makedirs(os.path.dirname(os.path.abspath(folder)), exist_ok=True)
            if os.path.exists(folder):  # an incomplete folder (no synthesizer.json) from an interrupted export
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        finally:  # an error, Ctrl-C or SIGTERM midway: no half-written folder stays behind
            if os.path.isdir(tmp):
                shutil.rmtree(tmp, ignore_errors=True)
        log(f"  exported in {time.perf_counter() - start:.1f} s")
    synth = Synthesizer(folder)
    return bundle_engine(synth, voice.refine_iterations), synth


def bundle_engine(synth, refine_iterations: int = 0):
    """``sentence -> {"mel", "alignment", "audio"[, "durations"]}`` through a :class:`Synthesizer` (LiteRT)."""

    def engine(sentence):
        out = synth.text_to_mel(sentence)
        alignment = out.get("alignment")
        if alignment is None and "durations" in out:
            from audiogen_tf.durations import durations_to_alignment

            alignment = durations_to_alignment(out["durations"], len(out["mel"]))
        audio = synth.mel_to_audio(out["mel"], refine_iterations=refine_iterations)
        return {"mel": out["mel"], "alignment": alignment, "audio": audio,
                **({"durations": out["durations"]} if "durations" in out else {})}  # Voice.speak checks the frames

    return engine


class _BundleText:
    """What :class:`~zoo.voices.Voice` reads of its text-to-mel model (``frontend``, ``mel_config``), taken from an
    exported bundle: a cached voice speaks without building its Keras models (no TensorFlow import)."""

    def __init__(self, synth):
        import types

        self.frontend = synth.ctc_frontend if synth.tacotron2 is None else synth.frontend
        mel = synth.mel_config or {"sample_rate": synth.sample_rate,
                                   "hop_length": int((synth.voc if synth.vocoder is not None else synth.tts)
                                                     ["hop_length"])}
        self.mel_config = types.SimpleNamespace(**mel)


class _BundleVocoder:
    """The bundle's vocoder for :class:`~zoo.voices.Voice`'s refine check (a ``-refine`` bundle has the signature)."""

    def __init__(self, synth):
        self.synth = synth

    def synthesize_refined(self, mel, iterations):
        return self.synth.mel_to_audio(mel, refine_iterations=iterations)


def cached_voice(name: str, args, log=print):
    """``(voice, engine)`` of registered voice ``name`` from its TFLite bundle when one is ready (cached or
    ``--bundle``), with no Keras model built and no TensorFlow imported; ``None`` when it must be exported first."""
    from audiogen_tf.errors import ConfigError
    from zoo.voices import VOICES, Voice

    if name not in VOICES:
        raise ConfigError(f"unknown voice {name!r}; voices: {', '.join(sorted(VOICES))}")
    spec = VOICES[name]
    refine = args.refine_iterations if args.refine_iterations is not None else spec.get("refine_iterations", 0)
    if int(refine or 0) < 0:
        return None  # Voice.from_name says what is wrong
    folder = bundle_folder(name, args, refine=int(refine or 0) > 0)
    if not usable_bundle(folder, log, checked=not args.bundle):
        return None
    from tflite_export.synthesizer import Synthesizer

    synth = Synthesizer(folder)
    if synth.vocoder is None or (synth.tacotron2 is None and synth.ctc_tts is None):
        return None  # not a voice bundle: the export path reports it
    vocoder = _BundleVocoder(synth) if spec.get("vocoder") else None
    voice = Voice(_BundleText(synth), vocoder, pause_seconds=spec.get("pause_seconds", 0.15), name=name,
                  refine_iterations=refine)
    return voice, bundle_engine(synth, voice.refine_iterations)


def save_pngs(out_path: str, chunks, voice) -> list[str]:
    """``OUT_mel.png`` (the whole text) and ``OUT_alignment.png`` (one panel per sentence, at most 6)."""
    import numpy as np

    from audiogen_tf.plotting import save_spectrogram_png

    stem = os.path.splitext(out_path)[0]
    cfg = voice.mel_settings
    mel = np.concatenate([c.mel for c in chunks], axis=0)
    files = [save_spectrogram_png(f"{stem}_mel.png", [mel], [f"log-mel of {len(chunks)} sentence(s)"],
                                  cfg.sample_rate, cfg.hop_length)]
    shown = [c for c in chunks if c.alignment is not None][:6]
    if shown:
        files.append(save_spectrogram_png(
            f"{stem}_alignment.png", [np.asarray(c.alignment) for c in shown],
            [f"{c.text[:50]}" for c in shown], axis_labels=[("decoder step", "text symbol")] * len(shown)))
    return files


def say_command(args) -> dict | None:
    from audiogen_tf.errors import ConfigError
    from zoo.voices import Voice, list_voices

    if args.list:
        for name, description in list_voices().items():
            print(f"{name:14s} {description}")
        return None
    from audiogen_tf.atomic import keep_or_replace, refuse_own_input

    inputs = [args.file, args.tts, args.vocoder]
    outputs = [args.out] + ([os.path.splitext(args.out)[0] + f"_{k}.png" for k in ("mel", "alignment")]
                            if args.png else [])
    for path in outputs:  # refuse before any work; the .bak copies are made when the voice is ready to speak
        refuse_own_input(path, inputs)
        if not args.force:
            keep_or_replace(path, force=False)
    text = _read_text(args)
    t0 = time.perf_counter()
    engine = None  # sentence -> audio; None: the Keras models
    if args.tts:
        if args.voice:
            raise ConfigError("give either --voice or --tts (with --vocoder), not both")
        from audiogen_cli.export import resolve_model

        name = "custom"
        voice = Voice.from_models(resolve_model(args.tts), resolve_model(args.vocoder) if args.vocoder else None,
                                  refine_iterations=args.refine_iterations or 0)
    elif args.vocoder:
        raise ConfigError("--vocoder goes with --tts (a voice brings its own vocoder)")
    else:
        name = args.voice or default_voice()
        ready = cached_voice(name, args) if args.tflite else None  # a warm cache: LiteRT only, no TensorFlow
        voice, engine = ready if ready else (Voice.from_name(name, refine_iterations=args.refine_iterations), None)
    sentences = voice.check_text(text)  # a clear message before any export or synthesis
    loaded = time.perf_counter() - t0
    how = "Keras" if engine is None else "TFLite (LiteRT)"
    if args.tflite and engine is None:
        engine, _ = tflite_engine(voice, bundle_folder(name, args, refine=voice.refine_iterations > 0),
                                  checked=not args.bundle)
        how = "TFLite (LiteRT)"
    chunks = []  # mel and alignment only (for --png): the audio streams to the file
    progress = sys.stderr.isatty() and len(sentences) > 1  # sentences done / total, on a terminal

    def keep(chunk):
        if progress:
            print(f"\r  sentence {chunk.index}/{chunk.total}", end="", file=sys.stderr, flush=True)
        if args.png:
            chunk.audio = None
            chunks.append(chunk)

    backups = [b for b in (keep_or_replace(path, force=args.force, inputs=inputs) for path in outputs) if b]
    try:
        report = voice.say_to_file(text, args.out, seed=args.seed, engine=engine,
                                   on_chunk=keep if args.png or progress else None)
    finally:
        if progress:
            print(file=sys.stderr, flush=True)
    if voice.refine_iterations:
        how += f", vocoder phase refined by {voice.refine_iterations} consistency iterations"
    print(f"voice '{name}' through {how}: {report['sentences']} sentence(s), {report['seconds']:.2f} s of audio")
    print(f"  time to first audio {report['first_audio_seconds']:.2f} s (after {loaded:.1f} s loading), "
          f"real-time factor {report['real_time_factor']:.3f}")
    files = [report["path"]]
    if args.png:
        files += save_pngs(args.out, chunks, voice)
    for f in files:
        print(f"  wrote {f}")
    for b in backups:
        print(f"  kept the old file as {b}")
    report["files"] = files
    return report
