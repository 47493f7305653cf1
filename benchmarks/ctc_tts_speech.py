"""Train the CTC-aligned LSTM TTS (``ctc_tts_small``) on the festival corpus for at most 150 minutes, then judge it.

Training: the ``ctc_tts`` recipe through ``training.run.train`` on the ``train`` split for ``--minutes`` of wall
time (at most 150) counted over every invocation (``run/training_minutes.json``): rerunning the same command
resumes from the run folder with what is left of the budget.

Evaluation on the held-out sentences (manifest splits ``test`` then ``valid``):

- pocketsphinx WER of the synthesized speech through Griffin-Lim and, with ``--vocoder model.keras``, through that
  vocoder; with ``--recognizer model.keras`` (the zoo's CTC recognizer, ``benchmarks/ctc_recognizer_speech.py``)
  also its character error rate; the WER of the original recordings as the judge's floor;
- words skipped or repeated: deletions, and insertions that repeat a neighbouring reference word, in pocketsphinx's
  word alignment of each sentence; and tokens given no frame by the duration predictor (0 by construction:
  every token gets at least one frame, and the order is fixed);
- real-time factor of TFLite text -> mel in one ``synthesize`` call (``tflite_export.synthesizer.Synthesizer``),
  against Tacotron 2's ``encode`` + ``decoder_step`` loop + ``postnet`` measured in the same run when
  ``--tacotron2 model.keras`` is given (its WER through Griffin-Lim on the same sentences too).

Tacotron 2's reference figure: WER 0.177 on the first 12 held-out sentences (``--eval-count 12`` picks the same;
``benchmarks/results/tacotron2_slt.md``: the shipped ``tacotron2_slt``, phonemes, Griffin-Lim). ``--tacotron2`` and
``--vocoder`` take a ``.keras`` file or a preset name with shipped weights (``tacotron2_slt``, ``istft_vocoder_slt``).

``--model`` judges a model that is already trained (a ``.keras`` file or the shipped ``ctc_tts_slt``) and trains
nothing, e.g. to add the recognizer's CER on a machine where the run folder is gone.

Writes ``benchmarks/results/ctc_tts_speech.md`` (or ``--report``), audio and PNGs under ``--out``.

Example:
    python benchmarks/ctc_tts_speech.py --minutes 150 --recognizer runs/ctc_recognizer_speech/run/model.keras \
        --tacotron2 tacotron2_slt --vocoder istft_vocoder_slt
    python benchmarks/ctc_tts_speech.py --model ctc_tts_slt --recognizer ctc_recognizer.keras --report page.md
    python benchmarks/ctc_tts_speech.py --minutes 1 --preset ctc_tts_tiny --eval-count 2 --out /tmp/tts_smoke \
        --set model_overrides.frontend.max_length=256 --set model_overrides.max_frames=1000 \
        --report /tmp/tts_smoke/report.md
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from audiogen_tf import audio as audio_io  # noqa: E402
from audiogen_tf import metrics  # noqa: E402
from audiogen_tf.atomic import atomic_write_text  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_utils.py sits beside this script
from bench_utils import machine_info, markdown_table, train_within_budget  # noqa: E402
from audiogen_tf.manifest import read_manifest, write_manifest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TACOTRON2_WER = 0.177  # benchmarks/results/tacotron2_slt.md (the shipped tacotron2_slt)
MAX_MINUTES = 150.0


def skipped_and_repeated(reference: str, heard: str) -> tuple[int, int]:
    """(deleted reference words, inserted words equal to a neighbouring reference word) of the word alignment."""
    ref, hyp = metrics.normalize_words(reference), metrics.normalize_words(heard)
    n, m = len(ref), len(hyp)
    d = np.zeros((n + 1, m + 1), np.int32)
    d[:, 0], d[0, :] = np.arange(n + 1), np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]))
    i, j, skipped, repeated = n, m, 0, 0
    while i > 0 or j > 0:
        if i > 0 and j > 0 and d[i, j] == d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]):
            i, j = i - 1, j - 1
        elif i > 0 and d[i, j] == d[i - 1, j] + 1:
            skipped, i = skipped + 1, i - 1
        else:
            neighbours = {ref[k] for k in (i - 1, i) if 0 <= k < n}
            repeated += hyp[j - 1] in neighbours
            j -= 1
    return skipped, repeated


class Judge:
    """pocketsphinx WER (+ the recognizer's CER / WER when given), summed over sentences."""

    def __init__(self, recognizer=None):
        self.recognizer = recognizer
        self.sums = {}

    def __call__(self, key, text, audio, sr) -> dict:
        s = self.sums.setdefault(key, {"words": 0, "edits": 0, "chars": 0, "cedits": 0, "skipped": 0, "repeated": 0})
        heard = metrics.recognize(audio, sr) or ""
        e, n = metrics.word_edits(text, heard)
        sk, rp = skipped_and_repeated(text, heard)
        s.update(words=s["words"] + n, edits=s["edits"] + e, skipped=s["skipped"] + sk, repeated=s["repeated"] + rp)
        row = {f"wer_{key}": e / max(n, 1), f"heard_{key}": heard}
        if self.recognizer is not None:
            got = self.recognizer.transcribe(audio, sr, beam_width=16)
            ce, cn = metrics.character_edits(text, got)
            s.update(chars=s["chars"] + cn, cedits=s["cedits"] + ce)
            row[f"cer_{key}"] = ce / max(cn, 1)
        return row

    def summary(self, key) -> dict:
        s = self.sums.get(key)
        if not s:
            return {}
        out = {"WER (pocketsphinx)": s["edits"] / max(s["words"], 1), "words skipped": s["skipped"],
               "words repeated": s["repeated"]}
        if self.recognizer is not None:
            out["CER (zoo recognizer)"] = s["cedits"] / max(s["chars"], 1)
        return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=MAX_MINUTES)
    p.add_argument("--preset", default="ctc_tts_small")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--manifest", default=os.path.join(ROOT, "data", "speech", "manifest.csv"))
    p.add_argument("--eval-count", type=int, default=None, help="first N held-out sentences (default all)")
    p.add_argument("--recognizer", default=None, help="the zoo's CTC recognizer (.keras) for CER")
    p.add_argument("--vocoder", default=None, help="a trained zoo vocoder (.keras, or a preset with shipped weights) taking the 80-band mel")
    p.add_argument("--tacotron2", default=None, help="a trained Tacotron 2 (.keras, or tacotron2_slt): WER and RTF in the same run")
    p.add_argument("--model", default=None,
                   help="judge this trained CTC TTS (.keras, or a preset with shipped weights such as ctc_tts_slt) "
                        "instead of training one: no training minutes are spent or counted")
    p.add_argument("--griffin-lim-iters", type=int, default=32)
    p.add_argument("--timing-repeats", type=int, default=3)
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "ctc_tts_speech"))
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="more recipe overrides, e.g. --set model_overrides.dropout=0.2 (repeatable)")
    p.add_argument("--report", default=os.path.join(ROOT, "benchmarks", "results", "ctc_tts_speech.md"))
    args = p.parse_args(argv)
    if args.minutes > MAX_MINUTES:
        raise SystemExit(f"--minutes {args.minutes}: the issue allows at most {MAX_MINUTES:.0f} minutes of training")
    if not os.path.exists(args.manifest):
        raise SystemExit(f"{args.manifest}: missing; build it with `python -m audiogen_cli data speech DIR`")

    import keras
    import tensorflow as tf

    from audiogen_cli.export import resolve_model  # a .keras file or a preset name (shipped weights load)
    from audiogen_cli.models import import_zoo
    from audiogen_tf.features import log_mel_to_audio
    from audiogen_tf.plotting import save_spectrogram_png
    from tflite_export.synthesizer import Synthesizer, export_bundle
    from training.recipes import load_recipe

    import_zoo()
    entries = read_manifest(args.manifest)
    os.makedirs(args.out, exist_ok=True)
    held = [e for e in entries if e.get("split") == "test"] + [e for e in entries if e.get("split") == "valid"]
    held = held[: args.eval_count] if args.eval_count else held

    if args.model:
        model, result = resolve_model(args.model), None
    else:
        recipe = load_recipe("ctc_tts", [f"model_preset={args.preset}", f"batch_size={args.batch_size}",
                                         f"learning_rate={args.learning_rate}", "steps=1000000", "steps_per_epoch=50",
                                         "checkpoint_every=200", *args.overrides])
        train_manifest = write_manifest(
            [{"path": e["path"], "text": e["text"]} for e in entries if e.get("split") == "train"],
            os.path.join(args.out, "train_manifest.csv"), relative=False)
        result = train_within_budget(recipe, train_manifest, os.path.join(args.out, "run"), args.minutes)
        model = keras.saving.load_model(result.model_path)
    cfg = model.feature_settings
    recognizer, vocoder, taco = (resolve_model(x) if x else None
                                 for x in (args.recognizer, args.vocoder, args.tacotron2))
    judge = Judge(recognizer)

    bundle = export_bundle(os.path.join(args.out, "bundle"), ctc_tts=model)
    synth = Synthesizer(bundle)
    taco_synth = None
    if taco is not None:
        taco_synth = Synthesizer(export_bundle(os.path.join(args.out, "tacotron2_bundle"), tacotron2=taco))

    rows, rtf_ctc, rtf_taco, zero_tokens = [], [], [], 0
    wav_dir = os.path.join(args.out, "held_out")
    os.makedirs(wav_dir, exist_ok=True)
    for i, e in enumerate(held):
        stem = os.path.splitext(os.path.basename(e["path"]))[0]
        text = e["text"]
        original, _ = audio_io.load(e["path"], sr=cfg.sample_rate)
        row = {"id": stem, "text": text}
        row.update(judge("original", text, np.asarray(original, np.float32).reshape(-1), cfg.sample_rate))
        times = []
        for _ in range(max(1, args.timing_repeats)):
            start = time.perf_counter()
            out = synth.ctc_text_to_mel(text)
            times.append(time.perf_counter() - start)
        mel, durations = out["mel"], out["durations"]
        seconds = len(mel) * cfg.hop_length / cfg.sample_rate
        rtf_ctc.append(min(times) / max(seconds, 1e-6))
        zero_tokens += int(np.sum(durations < 1))
        gl = np.asarray(log_mel_to_audio(tf.constant(mel), cfg, n_iter=args.griffin_lim_iters,
                                         length=max(len(mel) - 1, 1) * cfg.hop_length, seed=i))
        audio_io.save(os.path.join(wav_dir, f"{stem}_ctc_tts_griffin_lim.wav"), np.clip(gl, -1, 1), cfg.sample_rate)
        row.update(judge("griffin_lim", text, gl, cfg.sample_rate))
        if vocoder is not None:
            voc = np.asarray(vocoder(mel[None], training=False)).reshape(-1)
            audio_io.save(os.path.join(wav_dir, f"{stem}_ctc_tts_vocoder.wav"), np.clip(voc, -1, 1), cfg.sample_rate)
            row.update(judge("vocoder", text, voc, cfg.sample_rate))
        save_spectrogram_png(os.path.join(wav_dir, f"{stem}_mel.png"), [mel], [f"{stem}: {text[:70]}"],
                             cfg.sample_rate, cfg.hop_length)
        if taco_synth is not None:
            t_taco = []
            for _ in range(max(1, args.timing_repeats)):  # best of as many calls as the CTC TTS gets
                start = time.perf_counter()
                tout = taco_synth.text_to_mel(text)
                t_taco.append(time.perf_counter() - start)
            tmel = tout["mel"]
            rtf_taco.append(min(t_taco) / max(len(tmel) * cfg.hop_length / cfg.sample_rate, 1e-6))
            tgl = np.asarray(log_mel_to_audio(tf.constant(tmel), cfg, n_iter=args.griffin_lim_iters, seed=i))
            row.update(judge("tacotron2", text, tgl, cfg.sample_rate))
            if vocoder is not None:
                tvoc = np.asarray(vocoder(tmel[None], training=False)).reshape(-1)
                row.update(judge("tacotron2_vocoder", text, tvoc, cfg.sample_rate))
        row["frames"] = len(mel)
        row["target_frames"] = cfg.num_frames(len(original))
        rows.append(row)
        print(f"[{i + 1}/{len(held)}] {stem}", file=sys.stderr, flush=True)

    table = [{"system": "original recordings", **judge.summary("original")},
             {"system": "CTC TTS + Griffin-Lim", **judge.summary("griffin_lim")}]
    if vocoder is not None:
        table.append({"system": f"CTC TTS + {type(vocoder).__name__}", **judge.summary("vocoder")})
    if taco is not None:
        table.append({"system": "Tacotron 2 + Griffin-Lim (same run)", **judge.summary("tacotron2")})
        if vocoder is not None:
            table.append({"system": f"Tacotron 2 + {type(vocoder).__name__} (same run)",
                          **judge.summary("tacotron2_vocoder")})
    speed = [{"model": "CTC TTS, TFLite, one synthesize call", "median RTF": float(np.median(rtf_ctc)),
              "best RTF": float(np.min(rtf_ctc))}]
    if rtf_taco:
        speed.append({"model": "Tacotron 2, TFLite encode + decoder_step loop + postnet",
                      "median RTF": float(np.median(rtf_taco)), "best RTF": float(np.min(rtf_taco))})
    curve = result.curve if result is not None else []
    if result is not None:
        trained = (f"Trained to step {result.step} in {result.total_minutes:.1f} min over all invocations (at most "
                   f"{MAX_MINUTES:.0f}; this one {result.minutes_now:.1f})")
        where = f"Model: `{result.model_path}`."
    else:
        trained = f"No training in this run: judges `{args.model}` (its training: the model card or its run's page)"
        where = ""
    info = machine_info()
    cmd = "python benchmarks/ctc_tts_speech.py " + " ".join(argv if argv is not None else sys.argv[1:])
    detail_keys = ["id", "text", "frames", "target_frames", "wer_griffin_lim", "heard_griffin_lim"] + \
        (["cer_griffin_lim"] if recognizer is not None else []) + (["wer_vocoder"] if vocoder is not None else []) + \
        (["wer_tacotron2"] if taco is not None else []) + \
        (["wer_tacotron2_vocoder"] if taco is not None and vocoder is not None else [])
    page = f"""# CTC-aligned LSTM TTS on the festival corpus

`{cmd.strip()}` ({args.model or args.preset}, {model.count_params():,} parameters, {model.frontend.symbol_type}, batch
{args.batch_size}, Adam {args.learning_rate}).

{trained} on {info.get('cpu', '')}
({info.get('nproc', '')} cores), TensorFlow {info.get('tensorflow', '')}. {where}

## Held-out sentences ({len(held)}, splits test + valid)

WER: pocketsphinx (bundled US English model, 16 kHz), total word edits / total reference words. CER: the zoo's CTC
recognizer (beam 16), total character edits / total characters. Words skipped: deletions in the word alignment of
what pocketsphinx heard; repeated: inserted words equal to a neighbouring reference word. Tacotron 2's figure on
this corpus: WER {TACOTRON2_WER} (`benchmarks/results/tacotron2_slt.md`, the shipped `tacotron2_slt`, Griffin-Lim).

{markdown_table(table)}

Tokens the duration predictor gave no frame: {zero_tokens} (0 by construction: every token gets at least one frame,
in text order, so the model cannot skip or repeat a token; the recognizer counts above judge the audio itself).

## Speed: text -> mel on this machine (TFLite, 2 threads, same run)

RTF = seconds of compute / seconds of speech, mel only (no vocoder); best of {args.timing_repeats} calls per sentence.

{markdown_table(speed)}

## Per sentence

{markdown_table([{k: r.get(k) for k in detail_keys} for r in rows])}

""" + (f"""
## Training curve (last 20 of the 50-step epochs)

{markdown_table(curve[-20:])}
""" if curve else "")
    atomic_write_text(args.report, page)
    print(markdown_table(table))
    print(markdown_table(speed))
    print(f"wrote {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
