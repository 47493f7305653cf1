"""Train the zoo's CTC recognizer on festival + flite voices, then judge it against pocketsphinx on held-out speech.

Corpora (built when missing, one folder per voice, the same 374 sentences and the same train / valid / test split
of each sentence id): festival's slt (``--festival-manifest``, default ``data/speech/manifest.csv``) and the flite
voices ``--train-voices`` (default kal, rms) go into training (their ``train`` split only); the flite voices
``--unseen-voices`` (default awb, slt) are never trained on.

Training: the ``ctc_recognizer`` recipe (``--preset``, default ``ctc_recognizer_small``) through
``training.run.train`` for ``--minutes`` of wall time counted over every invocation (``run/training_minutes.json``):
rerunning the same command resumes from the run folder with what is left of the budget.

Evaluation on the held-out sentences (splits ``test`` + ``valid``) of every voice: the recognizer's character and
word error rates (greedy and beam search, ``--beam-width``) next to pocketsphinx's word error rate on the same files.
Rates are total edits / total reference characters or words.

Writes ``benchmarks/results/ctc_recognizer_speech.md`` (or ``--report``) and the model to ``RUN/model.keras``.

Example:
    python benchmarks/ctc_recognizer_speech.py --minutes 90
    python benchmarks/ctc_recognizer_speech.py --minutes 1 --preset ctc_recognizer_tiny --eval-count 2 \
        --out /tmp/rec_smoke --report /tmp/rec_smoke/report.md
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from audiogen_tf import audio as audio_io  # noqa: E402
from audiogen_tf import metrics  # noqa: E402
from audiogen_tf.atomic import atomic_write_text  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_utils.py sits beside this script
from bench_utils import machine_info, markdown_table, train_within_budget  # noqa: E402
from audiogen_tf.manifest import read_manifest, write_manifest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def voice_manifest(data_root: str, voice: str, limit: int | None = None) -> str:
    """The flite ``voice`` corpus (built on first use: about a minute per voice)."""
    from audiogen_tf.datasets.speech import build_speech_corpus

    folder = os.path.join(data_root, f"speech_flite_{voice}")
    path = os.path.join(folder, "manifest.csv")
    if not os.path.exists(path):
        print(f"building {folder} (flite voice {voice})", file=sys.stderr, flush=True)
        build_speech_corpus(folder, engine="flite", voice=voice, progress=False, limit=limit)
    return path


def held_out(entries, count=None):
    rows = [e for e in entries if e.get("split") == "test"] + [e for e in entries if e.get("split") == "valid"]
    return rows[:count] if count else rows


def score_set(model, entries, beam_width: int) -> tuple[dict, list]:
    """Recognizer CER / WER (greedy, beam) and pocketsphinx WER over ``entries``."""
    sums = {k: 0 for k in ("chars", "words", "cer_greedy", "wer_greedy", "cer_beam", "wer_beam", "wer_ps")}
    rows = []
    for e in entries:
        audio, sr = audio_io.load(e["path"], sr=model.sample_rate)
        audio = np.asarray(audio, np.float32).reshape(-1)
        greedy = model.transcribe(audio, beam_width=1)
        beam = model.transcribe(audio, beam_width=beam_width)
        ps = metrics.recognize(audio, sr) or ""
        ce, n = metrics.character_edits(e["text"], greedy)
        we, w = metrics.word_edits(e["text"], greedy)
        cb, _ = metrics.character_edits(e["text"], beam)
        wb, _ = metrics.word_edits(e["text"], beam)
        wp, _ = metrics.word_edits(e["text"], ps)
        for k, v in (("chars", n), ("words", w), ("cer_greedy", ce), ("wer_greedy", we), ("cer_beam", cb),
                     ("wer_beam", wb), ("wer_ps", wp)):
            sums[k] += v
        rows.append({"id": os.path.splitext(os.path.basename(e["path"]))[0], "text": e["text"], "recognizer": beam,
                     "pocketsphinx": ps})
    c, w = max(sums["chars"], 1), max(sums["words"], 1)
    return ({"utterances": len(entries), "CER greedy": sums["cer_greedy"] / c, "CER beam": sums["cer_beam"] / c,
             "WER greedy": sums["wer_greedy"] / w, "WER beam": sums["wer_beam"] / w,
             "WER pocketsphinx": sums["wer_ps"] / w}, rows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=90.0)
    p.add_argument("--preset", default="ctc_recognizer_small")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--festival-manifest", default=os.path.join(ROOT, "data", "speech", "manifest.csv"))
    p.add_argument("--extra-train-manifest", default=None,
                   help="more training speech (its train split, less any sentence of the judged corpora), "
                        "e.g. data/speech_large/manifest.csv for more sentence variety")
    p.add_argument("--data-root", default=os.path.join(ROOT, "data"), help="where the flite voice corpora live")
    p.add_argument("--train-voices", default="kal,rms")
    p.add_argument("--unseen-voices", default="awb,slt")
    p.add_argument("--voice-limit", type=int, default=None, help="flite corpora: first N sentences (smoke runs)")
    p.add_argument("--eval-count", type=int, default=None, help="first N held-out utterances per voice")
    p.add_argument("--beam-width", type=int, default=16)
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "ctc_recognizer_speech"))
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="more recipe overrides, e.g. --set model_overrides.dropout=0.2 (repeatable)")
    p.add_argument("--report", default=os.path.join(ROOT, "benchmarks", "results", "ctc_recognizer_speech.md"))
    args = p.parse_args(argv)

    import keras

    from training.recipes import load_recipe

    if not os.path.exists(args.festival_manifest):
        raise SystemExit(f"{args.festival_manifest}: missing; build it with `python -m audiogen_cli data speech DIR`")
    train_voices = [v for v in args.train_voices.split(",") if v]
    unseen = [v for v in args.unseen_voices.split(",") if v]
    corpora = {"festival slt": read_manifest(args.festival_manifest)}
    for v in train_voices + unseen:
        corpora[f"flite {v}"] = read_manifest(voice_manifest(args.data_root, v, args.voice_limit))
    trained_on = ["festival slt"] + [f"flite {v}" for v in train_voices]
    train_entries = [{"path": e["path"], "text": e["text"]} for name in trained_on for e in corpora[name]
                     if e.get("split") == "train"]
    if args.extra_train_manifest:
        known = {e["text"] for entries in corpora.values() for e in entries}  # held out, or trained on already
        rows = [{"path": e["path"], "text": e["text"]} for e in read_manifest(args.extra_train_manifest)
                if e.get("split") == "train" and e["text"] not in known]
        train_entries += rows
        trained_on_text = f"{', '.join(trained_on)} and {len(rows)} utterances of {args.extra_train_manifest}"
    else:
        trained_on_text = ", ".join(trained_on)
    os.makedirs(args.out, exist_ok=True)
    train_manifest = write_manifest(train_entries, os.path.join(args.out, "train_manifest.csv"), relative=False)

    recipe = load_recipe("ctc_recognizer", [f"model_preset={args.preset}", f"batch_size={args.batch_size}",
                                            f"learning_rate={args.learning_rate}", "steps=1000000",
                                            "steps_per_epoch=50", "checkpoint_every=200", *args.overrides])
    result = train_within_budget(recipe, train_manifest, os.path.join(args.out, "run"), args.minutes)
    from audiogen_cli.models import import_zoo

    import_zoo()
    model = keras.saving.load_model(result.model_path)

    table, detail = [], []
    for name, entries in corpora.items():
        scores, rows = score_set(model, held_out(entries, args.eval_count), args.beam_width)
        table.append({"voice": name, "in training": "yes" if name in trained_on else "no (unseen)", **scores})
        detail += [{"voice": name, **r} for r in rows[:4]]
        print(f"{name}: {scores}", file=sys.stderr, flush=True)
    curve = result.curve
    info = machine_info()
    cmd = "python benchmarks/ctc_recognizer_speech.py " + " ".join(argv if argv is not None else sys.argv[1:])
    page = f"""# CTC recognizer on festival + flite voices, against pocketsphinx

`{cmd.strip()}` ({args.preset}, {model.count_params():,} parameters, batch {args.batch_size}, Adam
{args.learning_rate}; trained on the `train` split of {trained_on_text}: {len(train_entries)} utterances).

Trained to step {result.step} in {result.total_minutes:.1f} min over all invocations (this one {result.minutes_now:.1f}) on {info.get('cpu', '')} ({info.get('nproc', '')}
cores), TensorFlow {info.get('tensorflow', '')}. Model: `{result.model_path}`.

## Held-out sentences (splits test + valid)

CER / WER: total character / word edits over total reference characters / words (lowercase, no punctuation).
Greedy: best path; beam: `ctc_decode` beam search of width {args.beam_width}. pocketsphinx: its bundled US English
model on the same files.

{markdown_table(table)}

## Examples

{markdown_table(detail)}

## Training curve (per 50-step epoch)

{markdown_table(curve[-20:])}
"""
    atomic_write_text(args.report, page)
    print(markdown_table(table))
    print(f"wrote {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
