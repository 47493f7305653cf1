"""The ``audiogen`` command: the one place that wires all packages together (imports are lazy).

Example:
    audiogen demo --out out
    audiogen models
    audiogen data notes data/notes
"""

from __future__ import annotations

import argparse
import os
import sys

EXAMPLES = {
    "demo": "audiogen demo --out out            # speak with the shipped voice, train a vocoder on speech, export",
    "models": "audiogen models                    # every model and preset with its parameter count",
    "data": "audiogen data notes data/notes     # build the built-in synthetic notes",
    "evaluate": "audiogen evaluate out/gen --reference data/ref --encoder enc.keras  # JSON + markdown report",
    "train": "audiogen train hifigan --data data/notes/manifest.csv --out runs/hifigan  # rerun to resume",
    "synthesize": "audiogen synthesize runs/hifigan --input clip.wav --out out/synth  # WAV + spectrogram PNG",
    "export": "audiogen export hifigan_tiny --format tflite --quantization float16 --out hifigan.tflite",
    "import": "audiogen import g_02500000 --arch hifigan_v1 --out hifigan_v1.keras  # PyTorch checkpoint, no torch",
    "say": 'audiogen say "The train leaves at seven." -o out/say.wav   # speak with the shipped voice, offline',
    "align": 'audiogen align speech.wav "Hello." --model runs/ctc_tts/model.keras --out out/align  # durations + PNG',
    "gallery": "audiogen gallery --out site/          # listening page of every shipped model (site/index.html)",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audiogen",
        description="audiogen-tf: train, synthesize and export audio generators.",
        epilog="Examples:\n  " + "\n  ".join(EXAMPLES.values()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (also accepted after the subcommand)")
    parser.add_argument("--verbose", action="store_true",
                        help="let TensorFlow's C++ log lines through (also accepted after the subcommand)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo",
        help="the main job: data, feature round trip, a small vocoder, TFLite export",
        epilog="Example:\n  " + EXAMPLES["demo"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--out", default="out", help="folder for wavs, PNGs and models (default: out)")
    demo.add_argument("--data", default="data", help="folder for the built-in datasets (default: data)")
    demo.add_argument("--train-seconds", type=float, default=240.0, help="vocoder training budget in seconds")
    demo.add_argument("--examples", type=int, default=4, help="how many held-out clips to resynthesize")
    demo.add_argument("--skip-vocoder", action="store_true", help="only the feature round trip (Griffin-Lim)")
    demo.add_argument("--corpus", choices=["auto", "speech", "notes"], default="auto",
                      help="training data: auto = the festival speech corpus when festival is installed, else notes")
    demo.add_argument("--no-speak", action="store_true", help="skip speaking with the shipped voice")

    models = sub.add_parser(
        "models", help="list models and presets", epilog="Example:\n  " + EXAMPLES["models"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    models.add_argument("--no-count", action="store_true", help="skip building models to count parameters")

    data = sub.add_parser(
        "data", help="build a built-in dataset or a manifest", epilog="Example:\n  " + EXAMPLES["data"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data.add_argument("kind", choices=["notes", "sfx", "speech", "fluidsynth", "scores", "voices", "drums",
                                       "manifest"])
    data.add_argument("directory", help="output folder (for 'manifest': the folder of audio to index)")
    data.add_argument("--sample-rate", type=int, default=None, help="sample rate of the written audio")
    data.add_argument("--limit", type=int, default=None,
                      help="speech: only the first N sentences; scores: only the first N corpus files")
    data.add_argument("--engine", default="auto", help="speech: festival, flite or auto")
    data.add_argument("--generated-sentences", type=int, default=0, metavar="N",
                      help="speech: after the packaged sentences, also speak N sentences from the built-in "
                           "English grammar (deterministic; a larger N keeps the smaller N's sentences)")
    data.add_argument("--voices", default="",
                      help="voices: comma-separated voice names to build (default: every installed voice; "
                           "audiogen_tf.datasets.voices.VOICES lists them)")
    data.add_argument("--max-utterances", type=int, default=None, metavar="N",
                      help="voices: at most N utterances per training voice")
    data.add_argument("--corpus", default="chorales",
                      help="scores: the music21 corpus, chorales (Bach, 4 voices) or folk (Essen, 1 voice)")
    data.add_argument("--transpose", default="",
                      help="scores: semitone shifts added to training pieces only: --transpose=-3:3 (a range) or "
                           "--transpose=-2,2")
    data.add_argument("--roll-quantum", type=float, default=0.5,
                      help="scores: quarter notes per piano-roll step (0.5 eighths; 1.0 as the published JSB pickle)")
    data.add_argument("--num-samples", type=int, default=16384,
                      help="drums: samples per clip (default 16384, WaveGAN's length)")
    data.add_argument("--include-unclear", action="store_true",
                      help="drums: also keep kits whose licence is unclear (listed in summary.json)")
    data.add_argument("--seed", type=int, default=0)
    data.add_argument("--force", action="store_true",
                      help="replace a manifest.csv that `audiogen data` did not write (the old one is kept as "
                           "manifest.csv.bak)")
    evaluate = sub.add_parser(
        "evaluate", help="score generated audio against references (and in an encoder's embedding space)",
        epilog="Example:\n  " + EXAMPLES["evaluate"], formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    evaluate.add_argument("generated", help="folder of generated audio")
    evaluate.add_argument("--reference", default=None, help="folder of reference audio, paired by file name")
    evaluate.add_argument("--suffix", default="", help="ending of generated file names to drop before pairing")
    evaluate.add_argument("--sample-rate", type=int, default=None, help="load both sides at this rate")
    evaluate.add_argument("--encoder", default=None, help="a trained zoo encoder (.keras) for FD / IS / accuracy")
    evaluate.add_argument("--labels", default=None,
                          help="manifest of the generated files with the intended class in --label-key")
    evaluate.add_argument("--label-key", default="label")
    evaluate.add_argument("--no-f0", action="store_true",
                          help="skip the (slow) pitch metrics: F0 RMSE in cents, V/UV F1, voicing error")
    evaluate.add_argument("--f0-range", type=float, nargs=2, default=[50.0, 1000.0], metavar=("FMIN", "FMAX"),
                          help="pYIN search range in Hz (default 50 1000; metrics.vocoder_quality_row uses 50 600 for speech)")
    evaluate.add_argument("--no-dnsmos", action="store_true",
                          help="skip DNSMOS P.835 (about 1 s per file; needs speechmos and onnxruntime)")
    evaluate.add_argument("--text-manifest", default=None,
                          help="manifest with a 'text' column: word error rate of the generated speech by pocketsphinx "
                               "(default: a manifest with 'text' in --reference)")
    evaluate.add_argument("--recognizer", default=None,
                          help="the zoo's CTC recognizer, a .keras file or a preset (ctc_recognizer_en: the shipped "
                               "English one): character error rate next to pocketsphinx's WER")
    evaluate.add_argument("--out", default=None, help="output prefix (default: GENERATED/evaluation)")
    evaluate.add_argument("--force", action="store_true",
                          help="replace existing report files (the old ones are kept as .bak)")
    from audiogen_cli import synthesize as synthesize_cli, train as train_cli

    train_cli.add_parser(sub)
    synthesize_cli.add_parser(sub)
    from audiogen_cli import export as export_cli

    export_cli.add_parser(sub)
    from audiogen_cli import import_checkpoint as import_cli

    import_cli.add_parser(sub)
    from audiogen_cli import align as align_cli

    align_cli.add_parser(sub)
    from audiogen_cli import say as say_cli

    say_cli.add_parser(sub)
    from audiogen_cli import gallery as gallery_cli

    gallery_cli.add_parser(sub)
    return parser


def error_line(err: BaseException) -> str:
    """One line naming the file and the problem, for the CLI's error boundary."""
    if isinstance(err, OSError) and not _is_audiogen_error(err):
        where = err.filename if err.filename is not None else ""
        what = err.strerror or str(err) or type(err).__name__
        text = f"{where}: {what}" if where else what
        if getattr(err, "filename2", None):
            text += f" (-> {err.filename2})"
    else:
        text = str(err) or type(err).__name__
        if not _is_audiogen_error(err):
            text = f"{type(err).__name__}: {text}"
    parts = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(parts)


def _is_audiogen_error(err) -> bool:
    from audiogen_tf.errors import AudiogenError

    return isinstance(err, AudiogenError)


def _is_user_error(err) -> bool:
    """An error that the boundary reports in one line: ours, the operating system's, or TensorFlow's file I/O."""
    if _is_audiogen_error(err) or isinstance(err, OSError):
        return True
    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(err, tf.errors.OpError)


def _dispatch(args) -> int:
    if args.command == "demo":
        from audiogen_cli.demo import run_demo

        run_demo(
            out_dir=args.out, data_dir=args.data, train_seconds=args.train_seconds,
            num_examples=args.examples, train_vocoder=not args.skip_vocoder, speak=not args.no_speak,
            corpus=args.corpus,
        )
    elif args.command == "models":
        from audiogen_cli.models import list_models

        list_models(count=not args.no_count)
    elif args.command == "data":
        from audiogen_cli.data import build_data

        build_data(args)
    elif args.command == "evaluate":
        from audiogen_cli.evaluate import evaluate_command

        evaluate_command(args)
    elif args.command == "train":
        from audiogen_cli.train import train_command

        return train_command(args)
    elif args.command == "synthesize":
        from audiogen_cli.synthesize import synthesize_command

        synthesize_command(args)
    elif args.command == "export":
        from audiogen_cli.export import export_command

        export_command(args)
    elif args.command == "import":
        from audiogen_cli.import_checkpoint import import_command

        import_command(args)
    elif args.command == "say":
        from audiogen_cli.say import say_command

        say_command(args)
    elif args.command == "align":
        from audiogen_cli.align import align_command

        align_command(args)
    elif args.command == "gallery":
        from audiogen_cli.gallery import gallery_command

        gallery_command(args)
    return 0


def main(argv=None) -> int:
    """Run ``audiogen``; returns the exit code.

    The error boundary: any audiogen-tf error, ``OSError``, TensorFlow I/O error or model-loading error becomes
    one line ``audiogen: error: FILE: problem`` on stderr and exit code 2; Ctrl-C exits with 130 and a hint,
    SIGTERM with 143 (both after the temporary files are removed).
    ``--debug`` (anywhere on the line, or ``AUDIOGEN_DEBUG=1``) lets the traceback through instead.
    TensorFlow's C++ log lines stay off stderr unless ``--verbose`` is given (see :mod:`audiogen_cli.quiet`).
    """
    from audiogen_cli.quiet import quiet_tensorflow, remove_finder

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("AUDIOGEN_DEBUG", "") not in ("", "0")
    quiet_tensorflow(verbose="--verbose" in argv)
    argv = [a for a in argv if a not in ("--debug", "--verbose")]
    from audiogen_tf.atomic import Terminated, sigterm_as_exception

    try:
        args = _parser().parse_args(argv)
        with sigterm_as_exception():  # SIGTERM unwinds like Ctrl-C: writers delete their temporary files
            return _dispatch(args)
    except KeyboardInterrupt as err:
        if debug:
            raise
        terminated = isinstance(err, Terminated)
        print("\naudiogen: terminated" if terminated else "\naudiogen: interrupted", file=sys.stderr)
        return 143 if terminated else 130
    except Exception as err:
        if debug or not _is_user_error(err):
            raise
        print(f"audiogen: error: {error_line(err)}", file=sys.stderr)
        return 2
    finally:
        remove_finder()


if __name__ == "__main__":
    sys.exit(main())
