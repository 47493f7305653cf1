"""Word error rate of a voice on 20 sentences that are not in its training text, through Keras and through TFLite.

Each sentence is spoken by ``audiogen say`` (the voice's Keras models, then its float16 TFLite bundle through
LiteRT) and by festival's slt voice (the "recordings": the voice the corpus was made with, when festival is
installed), and recognized by pocketsphinx (``metrics.recognize``). The page gives the corpus-level WER of each,
the gap to the recordings, the Keras / TFLite agreement (mel max |diff|, frames) and the time to first audio and
real-time factor of both paths. Bar (issue 14): WER at most the recordings' + 0.10.

The awkward-input table runs `audiogen say` on empty, digit, symbol, non-ASCII, accented and 5000-character text and
on a truncated copy of the shipped weight file, with the exit code and the message the user sees.

Usage:
    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/voice_wer.py --voice slt
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
MD_OUT = os.path.join(ROOT, "benchmarks", "results", "voice_wer.md")

#: Twenty sentences written for this page; the test checks that none is in the corpus' sentence list.
SENTENCES = [
    "The library closes early on Sundays during the summer.",
    "Please turn off the lights when you leave the kitchen.",
    "My brother bought a green bicycle last week.",
    "The river was too cold for swimming in April.",
    "She wrote a long letter to her grandmother.",
    "We need three more chairs for the dinner party.",
    "The captain warned us about strong winds near the island.",
    "A small dog was sleeping under the wooden bench.",
    "The museum has a new exhibit about ancient ships.",
    "Could you send me the address of the hotel?",
    "The bakery on the corner sells fresh bread every morning.",
    "He forgot his umbrella at the bus stop.",
    "The children planted tomatoes in the back garden.",
    "Our neighbors are moving to a bigger house in May.",
    "The teacher asked everyone to read the first chapter.",
    "There is a loud noise coming from the engine.",
    "The farmer sold apples and pears at the market.",
    "I will call you as soon as the train arrives.",
    "The movie was longer than we expected.",
    "Snow covered the roads and the trains were late.",
]


def corpus_wer(refs, hyps):
    """Word errors over reference words, for the whole list (``None`` hypotheses count as all deleted)."""
    from audiogen_tf import metrics

    errors = words = 0
    for ref, hyp in zip(refs, hyps):
        n = len(re.sub(r"[^a-z' ]", " ", ref.lower()).split())
        errors += metrics.word_error_rate(ref, hyp or "") * n
        words += n
    return errors / max(words, 1)


def _say_in_process(argv):
    """Run ``audiogen say ARGV`` in this process; returns (exit code, stdout, stderr)."""
    import contextlib
    import io

    from audiogen_cli import main as cli_main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(["say", *argv])
    return code, out.getvalue(), err.getvalue()


def error_cases(name: str, work: str) -> list[dict]:
    """Issue 14's awkward inputs through ``audiogen say`` (exit code and what the user sees), and a truncated copy
    of the voice's first shipped weight file (the package is untouched: the loader is pointed at the copy)."""
    import audiogen_tf.pretrained as pretrained
    from audiogen_tf.registry import get_preset, shipped_weights_path
    from zoo.voices import VOICES

    long_text = " ".join(SENTENCES * 12)[:5000]
    cases = [("empty", ""), ("digits", "42 and 1999"), ("symbols", "@#$% & * ~"),
             ("non-ASCII (Japanese)", "日本語のテキスト"), ("accents", "Café über naïve."),
             (f"{len(long_text)} characters", long_text)]
    rows = []
    for label, text in cases:
        path = os.path.join(work, f"case_{len(rows)}.wav")
        start = time.time()
        code, out, err = _say_in_process([text, "-o", path, "--voice", name])
        seen = err.strip() or next((line for line in out.splitlines() if "sentence(s)" in line), out.strip())
        if code == 0:
            import soundfile as sf

            seen = f"spoken: {sf.info(path).duration:.1f} s of audio; {seen}"
        rows.append({"input": label, "exit code": code, "what the user sees": seen.replace("|", "/"),
                     "seconds": f"{time.time() - start:.1f}"})
    import importlib
    import shutil

    family, class_name, preset = VOICES[name]["tts"]
    cls = getattr(importlib.import_module(f"zoo.{family}"), class_name)
    shipped = get_preset(cls, preset).get("weights")
    if shipped:
        real = shipped_weights_path(cls, shipped)
        cut = os.path.join(work, shipped["file"])
        shutil.copyfile(real, cut)
        with open(cut, "r+b") as fh:
            fh.truncate(os.path.getsize(cut) // 2)
        original = pretrained.packaged_file
        pretrained.packaged_file = lambda module, filename: cut if filename == shipped["file"] else original(
            module, filename)
        try:
            code, out, err = _say_in_process(["Hello.", "-o", os.path.join(work, "cut.wav"), "--voice", name])
        finally:
            pretrained.packaged_file = original
        rows.append({"input": f"`{shipped['file']}` cut to half its size", "exit code": code,
                     "what the user sees": err.strip().replace(work + os.sep, ""), "seconds": ""})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--voice", default=None, help="voice name (default: the shipped one)")
    ap.add_argument("--tts", default=None,
                    help="score models instead of a voice: a Tacotron 2 or CTC TTS (.keras or preset), as "
                         "`audiogen say --tts` speaks them (give --md too: the page is the shipped voice's)")
    ap.add_argument("--vocoder", default=None, help="with --tts: the vocoder (.keras or preset; default Griffin-Lim)")
    ap.add_argument("--md", default=MD_OUT)
    ap.add_argument("--limit", type=int, default=None, help="smoke runs: the first N sentences")
    ap.add_argument("--skip-error-cases", action="store_true", help="leave out the awkward-input table")
    ap.add_argument("--refine-iterations", type=int, default=None,
                    help="iSTFT vocoder: consistency iterations (Keras synthesize_refined, the bundle's "
                         "synthesize_refined signature); default the voice's setting, 0 with --tts")
    args = ap.parse_args(argv)
    command = "TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/voice_wer.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))

    from audiogen_cli.say import tflite_engine
    from audiogen_tf import audio as audio_io
    from audiogen_tf import metrics
    from audiogen_tf.datasets import speech
    from bench_utils import markdown_table, write_markdown_table
    from zoo.voices import DEFAULT_VOICE, Voice

    sentences = SENTENCES[: args.limit]
    if args.tts:
        from audiogen_cli.export import resolve_model

        if os.path.abspath(args.md) == os.path.abspath(MD_OUT):
            raise SystemExit("--tts: give --md PAGE (the default page is the shipped voice's)")
        name = f"--tts {args.tts}" + (f" --vocoder {args.vocoder}" if args.vocoder else " (Griffin-Lim)")
        voice = Voice.from_models(resolve_model(args.tts), resolve_model(args.vocoder) if args.vocoder else None,
                                  refine_iterations=args.refine_iterations or 0)
        args.skip_error_cases = True  # they are the shipped voice's (its weight file, its CLI path)
    else:
        name = args.voice or DEFAULT_VOICE
        voice = Voice.from_name(name, refine_iterations=args.refine_iterations)
    label = name + (f" + {voice.refine_iterations} consistency iterations" if voice.refine_iterations else "")
    sr = voice.sample_rate
    work = tempfile.mkdtemp(prefix="voice_wer_")
    engine, _ = tflite_engine(voice, os.path.join(work, "bundle"))
    rows, hyps = [], {"keras": [], "tflite": [], "recordings": []}
    timing = {"keras": [], "tflite": []}
    have_festival = speech.festival_available()
    for i, text in enumerate(sentences):
        row = {"id": i + 1, "text": text}
        outs = {}
        for how, eng in (("keras", None), ("tflite", engine)):
            path = os.path.join(work, f"{how}_{i:02d}.wav")
            chunks = []
            report = voice.say_to_file(text, path, engine=eng, on_chunk=chunks.append)
            outs[how] = chunks
            timing[how].append((report["first_audio_seconds"], report["synthesis_seconds"], report["seconds"]))
            y, _ = audio_io.load(path, sr=sr)
            heard = metrics.recognize(y, sr)
            hyps[how].append(heard)
            row[f"wer_{how}"] = round(metrics.word_error_rate(text, heard or ""), 3)
            row[f"heard_{how}"] = heard or ""
        mk, mt = outs["keras"][0].mel, outs["tflite"][0].mel
        n = min(len(mk), len(mt))
        row["frames keras / tflite"] = f"{len(mk)} / {len(mt)}"
        row["mel max |diff| (common frames)"] = float(np.max(np.abs(mk[:n] - mt[:n]))) if n else float("nan")
        if have_festival:
            path = os.path.join(work, f"festival_{i:02d}.wav")
            speech._speak("festival", None, speech.normalize_text(text), path, timeout=60)
            y, _ = audio_io.load(path, sr=16000)
            heard = metrics.recognize(y, 16000)
            hyps["recordings"].append(heard)
            row["wer_recordings"] = round(metrics.word_error_rate(text, heard or ""), 3)
        rows.append(row)
        print(f"[{i + 1}/{len(sentences)}] keras {row['wer_keras']} tflite {row['wer_tflite']} "
              f"rec {row.get('wer_recordings', '-')}: {text}", flush=True)

    summary = {how: corpus_wer(sentences, hyps[how]) for how in ("keras", "tflite")}
    rec = corpus_wer(sentences, hyps["recordings"]) if have_festival else None
    table = [{"system": f"voice `{label}`, {how}", "WER": f"{summary[how]:.3f}",
              "gap to recordings": f"{summary[how] - rec:+.3f}" if rec is not None else "n/a",
              "bar (<= +0.10)": ("met" if summary[how] - rec <= 0.10 else "NOT met") if rec is not None else "n/a",
              "time to first audio (s)": f"{np.median([t[0] for t in timing[how]]):.2f}",
              "real-time factor": f"{sum(t[1] for t in timing[how]) / sum(t[2] for t in timing[how]):.3f}"}
             for how in ("keras", "tflite")]
    if rec is not None:
        table.append({"system": "recordings (festival slt)", "WER": f"{rec:.3f}", "gap to recordings": "",
                      "bar (<= +0.10)": "", "time to first audio (s)": "", "real-time factor": ""})
    diffs = [r["mel max |diff| (common frames)"] for r in rows]
    same_len = sum(r["frames keras / tflite"].split(" / ")[0] == r["frames keras / tflite"].split(" / ")[1]
                   for r in rows)
    notes = [
        f"{len(sentences)} sentences written for this page, none in the training corpus (tests/test_voice_wer_sentences.py "
        "checks). WER: pocketsphinx (bundled US English model, 16 kHz), corpus level (word errors / reference words).",
        "",
        f"Keras and TFLite (float16 bundle, LiteRT"
        + (", pre-net dropout off in both" if voice.has_prenet_dropout else "")
        + f"): same number of frames in "
        f"{same_len} of {len(rows)} sentences; mel max |diff| over common frames median {np.median(diffs):.3f}, "
        f"max {np.max(diffs):.3f} (log-mel units). Time to first audio: median over sentences, after loading.",
    ]
    notes += ["", "## Per sentence", "", markdown_table(rows)]
    if not args.skip_error_cases:
        notes += ["", "## Awkward input and a damaged install", "",
                  "`audiogen say TEXT -o x.wav --voice " + name + "` (Keras path) on issue 14's cases; a truncated "
                  "weight file is a copy of the shipped one cut in half (the loader is pointed at the copy).", "",
                  markdown_table(error_cases(name, work))]
    write_markdown_table(args.md, table, f"Voice `{label}`: word error rate on unseen sentences", command,
                         notes=notes)
    print(open(args.md, encoding="utf-8").read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
