"""``audiogen align WAV TEXT [--model aligner.keras] --out DIR``: force-align a transcript to speech with a trained
CTC-aligned TTS model (its forward-sum aligner + monotonic alignment search); writes the token durations (JSON)
and a PNG of the soft and hard alignments over the mel. Without ``--model`` it uses the shipped ``ctc_tts_slt``
(trained on one female voice: on other voices the durations are rougher)."""

from __future__ import annotations

import argparse
import json
import os

EXAMPLE = 'audiogen align speech.wav "Hello there." --out out/align   # or --model runs/ctc_tts/model.keras'

#: the shipped CTC TTS whose aligner ``align`` uses when no ``--model`` is given
DEFAULT_ALIGNER = "ctc_tts_slt"


def add_parser(sub) -> argparse.ArgumentParser:
    """Register the ``align`` subcommand on an argparse ``sub``-parsers object."""
    p = sub.add_parser(
        "align", help="phoneme / character durations of a recording and its transcript (CTC-aligned TTS model)",
        epilog="Example:\n  " + EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("wav", help="the recording")
    p.add_argument("text", help="what it says")
    p.add_argument("--model", default=DEFAULT_ALIGNER,
                   help="a trained CTCTTS model: .keras, a run folder with model.keras, or a preset with shipped "
                        f"weights (default {DEFAULT_ALIGNER})")
    p.add_argument("--out", default="align", help="output folder (default: align)")
    return p


def _check_every_token_has_frames(wav, result, hop_seconds):
    """Refuse audio too short for its text: monotonic alignment gives each token at least one frame only when
    there are as many frames as tokens; otherwise some tokens would get 0 frames and the durations mean nothing."""
    from audiogen_tf.errors import AudioFileError

    frames, tokens = int(result["mel"].shape[0]), len(result["tokens"])
    empty = int(sum(1 for d in result["durations"].tolist() if int(d) == 0))
    if frames < tokens or empty:
        raise AudioFileError(wav, "too_short", f"{frames} frames ({frames * hop_seconds:.2f} s) for {tokens} tokens "
                                               f"of the text: {empty} token(s) would get 0 frames; each token needs "
                                               f"at least one frame, so at least {tokens * hop_seconds:.2f} s of audio")


def align_command(args) -> list[str]:
    """Load the model and the audio, align, write ``<stem>_durations.json`` and ``<stem>_alignment.png``."""
    import numpy as np

    from audiogen_tf import audio as audio_io
    from audiogen_tf.atomic import atomic_write_text
    from audiogen_cli.models import import_zoo
    from audiogen_tf.errors import ConfigError
    from audiogen_tf.plotting import save_spectrogram_png

    path = args.model
    if os.path.isdir(path):
        path = os.path.join(path, "model.keras")
    import_zoo()
    if os.path.isfile(path):
        from audiogen_tf.model_files import load_keras_model

        model, model_name = load_keras_model(path), os.path.abspath(path)
    elif path.endswith(".keras") or os.sep in path:
        raise ConfigError(f"{args.model}: no such model file (a .keras file, a run folder with model.keras or a "
                          f"preset such as {DEFAULT_ALIGNER})")
    else:
        from audiogen_cli.export import resolve_model

        model, model_name = resolve_model(path), path  # a preset: shipped weights load offline, sha256 checked
    if not hasattr(model, "align"):
        raise ConfigError(f"{path}: a {type(model).__name__} cannot align (train a ctc_tts model)")
    audio, sr = audio_io.load(args.wav, sr=model.sample_rate)
    result = model.align(args.text, audio=np.asarray(audio, np.float32).reshape(-1))
    cfg = model.feature_settings
    seconds = cfg.hop_length / cfg.sample_rate
    _check_every_token_has_frames(args.wav, result, seconds)
    start = 0
    tokens = []
    for symbol, d in zip(result["tokens"], result["durations"].tolist()):
        tokens.append({"symbol": symbol, "frames": int(d), "start": round(start * seconds, 4),
                       "end": round((start + d) * seconds, 4)})
        start += d
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.splitext(os.path.basename(args.wav))[0]
    doc = {"wav": os.path.abspath(args.wav), "text": args.text, "model": model_name,
           "symbol_type": model.frontend.symbol_type, "hop_seconds": seconds, "frames": int(result["mel"].shape[0]),
           "tokens": tokens}
    json_path = atomic_write_text(os.path.join(args.out, f"{stem}_durations.json"),
                                  json.dumps(doc, indent=1, ensure_ascii=False))
    png = save_spectrogram_png(
        os.path.join(args.out, f"{stem}_alignment.png"), [result["mel"], result["soft"], result["hard"]],
        [f"{stem}: log-mel", "soft alignment (forward-sum aligner)", "hard alignment (monotonic Viterbi)"],
        axis_labels=[("frame", "mel bin"), ("frame", "token"), ("frame", "token")])
    for f in (json_path, png):
        print(f)
    return [json_path, png]
