"""Train Tacotron 2 (``tacotron2_small``) on the festival speech corpus, then judge it on held-out sentences.

Training: teacher forcing with guided attention (Tachibana et al. 2017) for ``--minutes`` of wall time, with a
checkpoint (``.keras`` with the optimizer state + ``state.json``) after every chunk of steps; rerunning the
same command resumes. Evaluation on the held-out sentences (manifest split ``test``, then ``valid``):

- diagonality score (attention mass within 10 % of the diagonal) of the free-running and the teacher-forced
  alignments;
- alignment + mel plots (PNG) and Griffin-Lim audio (WAV) of every synthesized sentence;
- word error rate by pocketsphinx (CMU Sphinx, its bundled US English model, 16 kHz) of the synthesized
  speech, next to the WER of the original recordings and of their Griffin-Lim resynthesis (the vocoder's floor).

Writes ``benchmarks/results/tacotron2_speech.md`` (or ``--report``).

Example:
    python benchmarks/tacotron2_speech.py --minutes 60
    python benchmarks/tacotron2_speech.py --minutes 4 --eval-count 3 --out /tmp/t2_smoke --report /tmp/t2_smoke/report.md

Paper: Shen et al. 2018 (arXiv:1712.05884); guided attention: Tachibana et al. 2017 (arXiv:1710.08969).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from audiogen_tf import audio as audio_io  # noqa: E402
from audiogen_tf.atomic import atomic_write_text  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_utils.py sits beside this script
from bench_utils import machine_info, markdown_table  # noqa: E402
from audiogen_tf.features import MelConfig, log_mel_to_audio  # noqa: E402
from audiogen_tf.manifest import read_manifest  # noqa: E402
from audiogen_tf.plotting import save_spectrogram_png  # noqa: E402
from zoo.tacotron2 import Tacotron2, diagonality_score, tacotron2_dataset  # noqa: E402
from training.callbacks import TimeBudget  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ------------------------------------------------------------------------------------------- WER
def word_error_rate(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word edits, reference words) by Levenshtein distance over lowercased words without punctuation."""
    clean = lambda s: "".join(c if c.isalnum() or c in " '" else " " for c in s.lower()).split()  # noqa: E731
    ref, hyp = clean(reference), clean(hypothesis)
    d = np.arange(len(hyp) + 1)
    for i, r in enumerate(ref, 1):
        prev, d[0] = d.copy(), i
        for j, h in enumerate(hyp, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (r != h))
    return int(d[len(hyp)]), len(ref)


class Recognizer:
    """pocketsphinx with its bundled English model; ``transcribe(audio, sr) -> str``."""

    def __init__(self):
        from pocketsphinx import Decoder

        self.decoder = Decoder(samprate=16000, loglevel="FATAL")

    def transcribe(self, audio, sr) -> str:
        x = audio_io.resample(np.asarray(audio, np.float32), sr, 16000) if sr != 16000 else audio
        x = np.asarray(x, np.float32)
        peak = float(np.max(np.abs(x))) if x.size else 0.0
        if peak > 0:
            x = 0.9 * x / peak
        pcm = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, full_utt=True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        return hyp.hypstr if hyp is not None else ""


# ------------------------------------------------------------------------------------------- training
def warm_start(model, source_path):
    """Copy each weight of the trained model at ``source_path`` into the one at the same position in ``model``
    when their paths and shapes match.

    The symbol embedding changes shape with the symbol set (characters -> phonemes) and is left as initialized;
    what the decoder, attention and post-net learned about speech carries over. Returns (copied, skipped) paths.
    """
    source = keras.saving.load_model(source_path, safe_mode=True)
    ids, lengths = model.encode_text("warm start")
    model({"text_ids": ids, "text_lengths": lengths, "mel": np.zeros((1, 8, model.mel_config.n_mels), "float32")})
    if len(source.weights) != len(model.weights):
        raise ValueError(f"{source_path} has {len(source.weights)} weights, the new model {len(model.weights)}: "
                         "not the same architecture")
    copied, skipped = [], []
    for w, src in zip(model.weights, source.weights):  # by position: layer names repeat across sub-layers
        if src.path == w.path and tuple(src.shape) == tuple(w.shape):
            w.assign(src.numpy())
            copied.append(w.path)
        else:
            skipped.append(w.path)
    return copied, skipped


#: Adam's learning rate of a new model; a resumed run keeps its checkpoint's unless ``--lr`` is given
DEFAULT_LR = 1e-3
#: the training manifest when ``--data`` is not given (and of history rows from before the data was recorded)
DEFAULT_DATA = os.path.join("data", "speech", "manifest.csv")


def held_out_entries(entries, count):
    """The first ``count`` utterances of the test split, then the valid split: the evaluation sentences (a corpus
    that adds generated sentences after the packaged ones keeps the packaged corpus' own first)."""
    held = [e for e in entries if e.get("split") == "test"] + [e for e in entries if e.get("split") == "valid"]
    return held[:count]


def learning_rate_of(optimizer) -> float:
    """The optimizer's current learning rate, to 6 significant digits (float32 1e-3 reads as 0.001)."""
    return float(f"{float(keras.ops.convert_to_numpy(optimizer.learning_rate)):.6g}")


def load_or_build(ckpt_dir, preset, lr, seed, guided_attention_weight=None, symbol_type=None, init_from=None):
    path = os.path.join(ckpt_dir, "model.keras")
    state_path = os.path.join(ckpt_dir, "state.json")
    if os.path.exists(path) and os.path.exists(state_path):
        model = keras.saving.load_model(path, safe_mode=True)
        with open(state_path) as f:
            state = json.load(f)
        current = learning_rate_of(model.optimizer)
        print(f"resumed from {path}: {state['steps']} steps, {state['minutes']:.1f} min trained, "
              f"learning rate {current:g}", flush=True)
        if lr is not None and lr != current:
            model.optimizer.learning_rate.assign(lr)  # a step decay: Adam's moments carry on
            print(f"learning rate {current:g} -> {lr:g} from step {state['steps'] + 1}", flush=True)
        return model, state
    keras.utils.set_random_seed(seed)
    overrides = {} if guided_attention_weight is None else {"guided_attention_weight": guided_attention_weight}
    if symbol_type:
        overrides["frontend"] = {"symbol_type": symbol_type}
    model = Tacotron2.from_preset(preset, **overrides)
    state = {"steps": 0, "minutes": 0.0, "history": []}
    if init_from:
        copied, skipped = warm_start(model, init_from)
        print(f"warm start from {init_from}: {len(copied)} weights copied, not copied: {skipped}", flush=True)
        state["warm_start"] = {"from": os.path.relpath(init_from, ROOT), "copied": len(copied), "skipped": skipped}
    model.compile(optimizer=keras.optimizers.Adam(DEFAULT_LR if lr is None else lr, clipnorm=1.0))
    return model, state


def save_checkpoint(model, state, ckpt_dir):
    os.makedirs(ckpt_dir, exist_ok=True)
    tmp = os.path.join(ckpt_dir, "model.tmp.keras")
    model.save(tmp)
    os.replace(tmp, os.path.join(ckpt_dir, "model.keras"))
    atomic_write_text(os.path.join(ckpt_dir, "state.json"), json.dumps(state, indent=1))


def train(model, state, entries, args, ckpt_dir):
    cfg = model.mel_config
    boundaries = [int(s * cfg.sample_rate) for s in (2.5, 3.5, 4.5, 5.5)]
    ds = tacotron2_dataset(entries, model.frontend, args.batch_size, mel_config=cfg, bucket_boundaries=boundaries,
                           shuffle=True, seed=args.seed, cache=True, repeat=True)
    start = time.time()
    deadline = start + max(0.0, args.minutes - state["minutes"]) * 60.0
    while time.time() < deadline:
        chunk_start = time.time()
        budget = TimeBudget(deadline=deadline)
        hist = model.fit(ds, epochs=1, steps_per_epoch=args.chunk_steps, verbose=0, shuffle=False,
                         callbacks=[budget])
        logs = {k: float(v[-1]) for k, v in hist.history.items()}
        state["steps"] += budget.batches
        state["minutes"] += (time.time() - chunk_start) / 60.0
        state["history"].append({"steps": state["steps"], "minutes": round(state["minutes"], 2),
                                 "batch_size": args.batch_size, "data": os.path.relpath(args.data, ROOT),
                                 "utterances": len(entries),
                                 "lr": learning_rate_of(model.optimizer), **logs})
        print(f"[{state['minutes']:6.1f} min] steps {state['steps']:5d} "
              + " ".join(f"{k}={v:.4f}" for k, v in logs.items()), flush=True)
        save_checkpoint(model, state, ckpt_dir)
    return state


# ------------------------------------------------------------------------------------------- evaluation
def evaluate(model, entries, args, out_dir):
    cfg: MelConfig = model.mel_config
    recognizer = Recognizer()
    rows, totals = [], {"original": [0, 0], "griffin_lim": [0, 0], "tacotron2": [0, 0]}
    r = model.reduction_factor
    os.makedirs(out_dir, exist_ok=True)
    for i, entry in enumerate(entries):
        text = entry["text"]
        audio, sr = audio_io.load(entry["path"], sr=cfg.sample_rate)
        mel = np.asarray(cfg.log_mel(tf.constant(audio)))
        resynth = np.asarray(log_mel_to_audio(tf.constant(mel), cfg, n_iter=args.griffin_lim_iters,
                                              length=len(audio), seed=0))
        # teacher-forced alignment (how well attention learned), then free-running synthesis
        ids, lengths = model.encode_text(text)
        tf_out = model({"text_ids": ids, "text_lengths": lengths, "mel": mel[None]}, training=False)
        tf_diag = diagonality_score(np.asarray(tf_out["alignments"])[0], int(lengths[0]), -(-len(mel) // r))
        max_steps = int(min(model.get_config()["max_decoder_steps"], 3 * len(mel) // r + 10))
        syn = model.synthesize(text, max_decoder_steps=max_steps, griffin_lim_iters=args.griffin_lim_iters, seed=i)
        diag = diagonality_score(syn["alignment"], int(lengths[0]))
        stem = os.path.splitext(os.path.basename(entry["path"]))[0]
        audio_io.save(os.path.join(out_dir, f"{stem}_tacotron2.wav"), syn["audio"], cfg.sample_rate)
        audio_io.save(os.path.join(out_dir, f"{stem}_griffin_lim.wav"), resynth, cfg.sample_rate)
        save_spectrogram_png(os.path.join(out_dir, f"{stem}_alignment.png"),
                             [syn["alignment"], np.asarray(tf_out["alignments"])[0], syn["mel"], mel],
                             ["alignment (synthesis): decoder step x text", "alignment (teacher forced)",
                              "synthesized log-mel", "recorded log-mel"],
                             axis_labels=[("decoder step", "text symbol")] * 2 + [("frame", "mel band")] * 2)
        row = {"id": stem, "text": text, "frames": syn["frames"], "target_frames": len(mel),
               "stopped": syn["frames"] < max_steps * r, "diagonality": diag, "diagonality_tf": tf_diag}
        for key, wav in (("original", audio), ("griffin_lim", resynth), ("tacotron2", syn["audio"])):
            hyp = recognizer.transcribe(wav, cfg.sample_rate)
            errors, words = word_error_rate(text, hyp)
            totals[key][0] += errors
            totals[key][1] += words
            row[f"wer_{key}"] = errors / max(words, 1)
            if key == "tacotron2":
                row["heard"] = hyp
        rows.append(row)
        print(f"{stem}: frames {row['frames']}/{row['target_frames']} diag {diag:.3f} (tf {tf_diag:.3f}) "
              f"WER orig {row['wer_original']:.2f} GL {row['wer_griffin_lim']:.2f} "
              f"taco {row['wer_tacotron2']:.2f} | heard: {row['heard']!r}", flush=True)
    summary = {k: v[0] / max(v[1], 1) for k, v in totals.items()}
    summary["diagonality"] = float(np.mean([r_["diagonality"] for r_ in rows]))
    summary["diagonality_tf"] = float(np.mean([r_["diagonality_tf"] for r_ in rows]))
    summary["stopped_fraction"] = float(np.mean([r_["stopped"] for r_ in rows]))
    return rows, summary


def thin_rows(rows, n):
    """About ``n`` evenly spaced rows, the last one always included."""
    kept = rows[:: max(1, len(rows) // n)]
    return kept if kept[-1] is rows[-1] else kept + rows[-1:]


def run_segments(history, key, current):
    """The run's value of ``key`` (``batch_size``, ``lr``), or, when a resumed run changed it, each value with the
    steps it trained (history rows without the key count as ``current``).

    >>> run_segments([{"steps": 50, "batch_size": 16}, {"steps": 100, "batch_size": 32}], "batch_size", 32)
    '16 (steps 1-50), 32 (steps 51-100)'
    """
    segments = []  # [value, first step, last step]
    last = 0
    for entry in history:
        size = entry.get(key, current)
        if segments and segments[-1][0] == size:
            segments[-1][2] = entry["steps"]
        else:
            segments.append([size, last + 1, entry["steps"]])
        last = entry["steps"]
    if len(segments) <= 1:
        return str(segments[0][0] if segments else current)
    return ", ".join(f"{size:g} (steps {first}-{end})" if isinstance(size, float) else
                     f"{size} (steps {first}-{end})" for size, first, end in segments)


def write_report(path, args, state, rows, summary, info, params):
    hist = state["history"]
    lines = [
        "# Tacotron 2 on the festival speech corpus",
        "",
        f"`python benchmarks/tacotron2_speech.py --data {os.path.relpath(args.data, ROOT)} --minutes {args.minutes}"
        f" --batch-size {args.batch_size} --preset {args.preset} --out {os.path.relpath(args.out, ROOT)}"
        + (f" --guided-attention-weight {args.guided_attention_weight:g}" if args.guided_attention_weight else "")
        + (f" --symbol-type {args.symbol_type}" if args.symbol_type else "")
        + (f" --init-from {os.path.relpath(args.init_from, ROOT)}" if args.init_from else "")
        + (f" --lr {args.lr:g}" if args.lr is not None else "")
        + f"` ({params:,} parameters, batch {run_segments(hist, 'batch_size', args.batch_size)}, Adam learning rate "
        f"{run_segments(hist, 'lr', DEFAULT_LR)}, "
        "guided attention).",
        "",
        f"Training data: {run_segments(hist, 'data', DEFAULT_DATA)} (its `train` split; the held-out sentences "
        "below are the first test / valid ones of the manifest, the packaged corpus' own when a corpus adds "
        "generated sentences after it).",
        "",
        f"Trained {state['steps']} steps in {state['minutes']:.1f} min on: {info['cpu']} ({info['nproc']} cores, "
        f"load {info['load_average']}), TensorFlow {info['tensorflow']}.",
        "",
    ]
    if state.get("warm_start"):
        ws = state["warm_start"]
        lines += [f"Warm start: {ws['copied']} weight tensors copied from `{ws['from']}` before the first step; "
                  f"not copied (new shape): {', '.join(ws['skipped']) or 'none'}. The steps and minutes above "
                  "count this run only.", ""]
    lines += [
        "## Held-out sentences",
        "",
        "Diagonality: attention mass within 10 % of the diagonal, mean over decoder steps (1 = diagonal, "
        "about 0.2 = uniform); `_tf` is the teacher-forced alignment. WER: pocketsphinx (bundled US English "
        "model, 16 kHz) against the normalized transcript.",
        "",
        markdown_table([{
            "sentences": len(rows), "diagonality": summary["diagonality"],
            "diagonality_tf": summary["diagonality_tf"], "stopped by stop token": summary["stopped_fraction"],
            "WER original": summary["original"], "WER Griffin-Lim resynthesis": summary["griffin_lim"],
            "WER Tacotron 2 + Griffin-Lim": summary["tacotron2"]}]),
        "",
        markdown_table([{k: v for k, v in r.items()} for r in rows]),
        "",
        "## Training curve",
        "",
        markdown_table(thin_rows(hist, 20)) if hist else "(no training in this run)",
        "",
        "## Alignments",
        "",
        "Each figure, top to bottom: the free-running alignment (decoder step x text symbol), the teacher-forced "
        "alignment, the synthesized log-mel and the recorded log-mel.",
        "",
    ]
    plot_dir = os.path.splitext(path)[0] + "_alignments"
    os.makedirs(plot_dir, exist_ok=True)
    for row in rows[: args.plots]:
        src = os.path.join(args.out, f"{row['id']}_alignment.png")
        dst = os.path.join(plot_dir, os.path.basename(src))
        shutil.copyfile(src, dst + ".tmp")
        os.replace(dst + ".tmp", dst)
        rel = os.path.relpath(dst, os.path.dirname(os.path.abspath(path)))
        lines += [f"{row['id']}: \"{row['text']}\" (diagonality {row['diagonality']:.3f})", "", f"![{row['id']}]({rel})", ""]
    lines += [f"All plots and WAVs: `{os.path.relpath(args.out, ROOT)}` (not committed).", ""]
    atomic_write_text(path, "\n".join(lines))
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=os.path.join(ROOT, "data", "speech", "manifest.csv"))
    p.add_argument("--preset", default="tacotron2_small")
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=None,
                   help=f"Adam's learning rate: a new model's (default {DEFAULT_LR:g}), or a resumed run's new one "
                        "(a step decay; default: keep the checkpoint's)")
    p.add_argument("--guided-attention-weight", type=float, default=None,
                   help="weight of the guided-attention loss (default: the preset's)")
    p.add_argument("--symbol-type", choices=["characters", "phonemes"], default=None,
                   help="text symbols of a new model (phonemes need espeak-ng; default: the preset's characters)")
    p.add_argument("--init-from", default=None,
                   help="a new model starts from this trained .keras model's weights where path and shape match "
                        "(e.g. a character model's decoder for a phoneme model)")
    p.add_argument("--report-only", action="store_true",
                   help="rewrite --report from the run's last evaluation.json (no training, no synthesis)")
    p.add_argument("--chunk-steps", type=int, default=50, help="steps between checkpoints")
    p.add_argument("--eval-count", type=int, default=12)
    p.add_argument("--plots", type=int, default=3, help="alignment plots copied next to the report")
    p.add_argument("--griffin-lim-iters", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "out", "tacotron2_speech"))
    p.add_argument("--report", default=os.path.join(ROOT, "benchmarks", "results", "tacotron2_speech.md"))
    p.add_argument("--progress", default=None,
                   help="a page listing every evaluation of this run (steps, minutes, loss, WER, diagonality), "
                        "kept in OUT/progress.json: a long run's learning curve across sessions")
    args = p.parse_args(argv)
    if not os.path.exists(args.data):
        sys.exit(f"{args.data} is missing: build it with `audiogen data speech` (needs festival or flite).")
    entries = read_manifest(args.data)
    train_entries = [e for e in entries if e.get("split") == "train"]
    held_out = held_out_entries(entries, args.eval_count)
    ckpt_dir = os.path.join(args.out, "checkpoint")
    if args.report_only:  # rewrite the page from the last evaluation, no training or synthesis
        with open(os.path.join(ckpt_dir, "state.json")) as f:
            state = json.load(f)
        with open(os.path.join(args.out, "evaluation.json")) as f:
            evaluation = json.load(f)
        params = keras.saving.load_model(os.path.join(ckpt_dir, "model.keras"), safe_mode=True).count_params()
        path = write_report(args.report, args, state, evaluation["rows"], evaluation["summary"],
                            machine_info(peak_gflops=0.0), params)
        print(f"wrote {path}")
        return
    model, state = load_or_build(ckpt_dir, args.preset, args.lr, args.seed, args.guided_attention_weight,
                                 args.symbol_type, args.init_from)
    print(f"{args.preset}: {model.count_params():,} parameters, {len(train_entries)} training utterances, "
          f"{len(held_out)} held out", flush=True)
    state = train(model, state, train_entries, args, ckpt_dir)
    rows, summary = evaluate(model, held_out, args, args.out)
    print(json.dumps(summary, indent=1), flush=True)
    atomic_write_text(os.path.join(args.out, "evaluation.json"), json.dumps({"summary": summary, "rows": rows},
                                                                           indent=1, default=float))
    path = write_report(args.report, args, state, rows, summary, machine_info(peak_gflops=0.0), model.count_params())
    print(f"wrote {path}")
    if args.progress:
        print(f"wrote {write_progress(args.progress, args, state, summary)}")


def _with_run_defaults(row):
    """A progress row from before the learning rate and data were recorded (it trained at the defaults), with
    them after ``batch``."""
    if "learning rate" in row and "data" in row:
        return row
    out = {}
    for key, value in row.items():
        if key in ("learning rate", "data"):
            continue
        out[key] = value
        if key == "batch":
            out["learning rate"] = row.get("learning rate", DEFAULT_LR)
            out["data"] = row.get("data", DEFAULT_DATA)
    return out


def write_progress(path, args, state, summary):
    """Add this evaluation to ``OUT/progress.json`` (one row per step count) and rewrite the progress page."""
    store = os.path.join(args.out, "progress.json")
    rows = []
    if os.path.exists(store):
        with open(store) as f:
            rows = [_with_run_defaults(r) for r in json.load(f)]
    last = state["history"][-1] if state["history"] else {}
    row = {"steps": state["steps"], "minutes": round(state["minutes"], 1),
           "batch": last.get("batch_size", args.batch_size), "learning rate": last.get("lr", DEFAULT_LR),
           "data": last.get("data", DEFAULT_DATA),
           "loss": last.get("loss"), "mel_loss": last.get("mel_loss"),
           "WER Tacotron 2 + Griffin-Lim": summary["tacotron2"], "WER recordings": summary["original"],
           "diagonality": summary["diagonality"], "stopped by stop token": summary["stopped_fraction"],
           "evaluated": time.strftime("%Y-%m-%d", time.gmtime())}
    rows = sorted([r for r in rows if r["steps"] != row["steps"]] + [row], key=lambda r: r["steps"])
    atomic_write_text(store, json.dumps(rows, indent=1, default=float))
    lines = [
        "# Tacotron 2 training progress",
        "",
        f"Every evaluation of the run in `{os.path.relpath(args.out, ROOT)}` ({args.eval_count} held-out festival "
        "sentences, "
        "pocketsphinx WER through Griffin-Lim, diagonality of the free-running attention), one row per "
        "evaluation; the run resumes across sessions. Evaluate the latest checkpoint without training by "
        "passing a `--minutes` no larger than the minutes already trained:",
        "",
        f"`python benchmarks/tacotron2_speech.py --minutes 0 --preset {args.preset} --out "
        f"{os.path.relpath(args.out, ROOT)} --report {os.path.relpath(args.out, ROOT)}/interim.md --progress "
        f"{os.path.relpath(path, ROOT)}`",
        "",
        f"Batch sizes so far: {run_segments(state['history'], 'batch_size', args.batch_size)}; learning rates: "
        f"{run_segments(state['history'], 'lr', DEFAULT_LR)}; data: "
        f"{run_segments(state['history'], 'data', DEFAULT_DATA)}.",
        "",
        markdown_table(rows),
    ]
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


if __name__ == "__main__":
    main()
