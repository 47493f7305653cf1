"""Held-out NLL per event of a trained composer against a smoothed n-gram and a uniform distribution, same split.

The model is a run of ``audiogen train composer`` (its ``model.keras`` or newest checkpoint). Scored: every event
after ``BOS`` (``EOS`` included) of the valid and test pieces of a score build, untransposed, each piece whole with
its own style and key. Baselines on the same events: interpolated Kneser-Ney n-grams (:mod:`audiogen_tf.ngram`)
counted on exactly the training rows the model saw (the train split with its transpositions), the order picked on
valid; a uniform distribution over the vocabulary; and the untrained model of the same preset.

Writes ``benchmarks/results/composer_chorales.md``.

Usage:
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/composer_chorales.py --data data/scores_chorales/manifest.csv \
        --run runs/composer_chorales [--orders 2,4,6,8,10] [--out benchmarks/results/composer_chorales.md]
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import shlex
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_utils.py sits beside this script
import bench_utils as bu  # noqa: E402
from audiogen_tf.datasets.scores import VOCAB, read_scores  # noqa: E402
from audiogen_tf.ngram import KneserNey  # noqa: E402

LN2 = math.log(2.0)


def _model_nll(model, rows):
    cond = {}
    if model.num_styles:
        cond["styles"] = [r["style_id"] for r in rows]
    if model.num_keys:
        cond["keys"] = [r["key_id"] for r in rows]
    return model.nll_per_event([r["events"] for r in rows], **cond)


def _run_facts(run_dir) -> str:
    """Steps and wall minutes of a run from its history.csv (what the page states about the training)."""
    path = os.path.join(run_dir, "history.csv")
    if not os.path.exists(path):
        return "no history.csv"
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return "empty history.csv"
    losses = ", ".join(f"{float(r.get('loss', 'nan')):.3f}" for r in rows)
    return f"training loss per epoch, nats/event: {losses}"


def _steps_trained(run_dir, recipe) -> int:
    """The step of what :func:`training.run.load_run` loads: the finished run's steps, or its newest checkpoint."""
    from training.fault_tolerance import checkpoint_paths

    model_file = os.path.join(run_dir, "model.keras")
    ckpts = checkpoint_paths(os.path.join(run_dir, "ckpt"))
    newest = max((int(p.rsplit("-", 1)[1]) for p in ckpts), default=0)
    if os.path.exists(model_file) and all(os.path.getmtime(p + ".index") <= os.path.getmtime(model_file)
                                          for p in ckpts if os.path.exists(p + ".index")):
        return recipe.steps  # a finished run (train() writes model.keras after its last step)
    return newest


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="data/scores_chorales/manifest.csv")
    p.add_argument("--run", default="runs/composer_chorales", help="run folder of `audiogen train composer`")
    p.add_argument("--orders", default="2,4,6,8,10", help="n-gram orders tried on valid")
    p.add_argument("--out", default="benchmarks/results/composer_chorales.md")
    p.add_argument("--command", default=None, help="the command line written on the page (default: this one)")
    p.add_argument("--note", action="append", default=[], help="a line added to the page's notes (repeatable)")
    args = p.parse_args(argv)

    from training.run import load_run
    from zoo.composer import EventComposer

    rows = read_scores(args.data)
    train = [r["events"] for r in rows if r["split"] == "train"]
    held = {s: [r for r in rows if r["split"] == s and r["transpose"] == 0] for s in ("valid", "test")}
    recipe, model = load_run(args.run)
    table, notes = [], []

    t0 = time.time()
    res = {s: _model_nll(model, held[s]) for s in held}
    model_seconds = time.time() - t0
    steps = _steps_trained(args.run, recipe)
    table.append({"model": f"EventComposer {recipe.model_preset} (trained, {steps} steps)",
                  "valid nats/event": res["valid"][0], "test nats/event": res["test"][0],
                  "test bits/event": res["test"][0] / LN2, "test events": res["test"][1]})

    orders = [int(o) for o in args.orders.split(",") if o.strip()]
    ngram_rows, best = [], None
    for n in orders:
        t = time.time()
        lm = KneserNey(n, VOCAB).fit(train)
        v, _ = lm.nll([r["events"] for r in held["valid"]])
        te, count = lm.nll([r["events"] for r in held["test"]])
        ngram_rows.append({"model": f"Kneser-Ney {n}-gram (D=0.75)", "valid nats/event": v, "test nats/event": te,
                           "test bits/event": te / LN2, "test events": count, "seconds": round(time.time() - t, 1)})
        if best is None or v < best[1]:
            best = (n, v)
        del lm
    for r in ngram_rows:
        if r["model"].startswith(f"Kneser-Ney {best[0]}-gram"):
            r["model"] += " (best on valid)"
    table += [{k: v for k, v in r.items() if k != "seconds"} for r in ngram_rows]

    import keras

    keras.utils.set_random_seed(0)  # the untrained row: the preset's initialization with seed 0
    untrained = EventComposer.from_preset(recipe.model_preset, **recipe.model_overrides)
    ures = {s: _model_nll(untrained, held[s]) for s in held}
    table.append({"model": f"EventComposer {recipe.model_preset} (untrained)", "valid nats/event": ures["valid"][0],
                  "test nats/event": ures["test"][0], "test bits/event": ures["test"][0] / LN2,
                  "test events": ures["test"][1]})
    u = math.log(VOCAB)
    table.append({"model": f"uniform over the {VOCAB} tokens", "valid nats/event": u, "test nats/event": u,
                  "test bits/event": u / LN2, "test events": res["test"][1]})

    t = time.time()
    sample = np.asarray(model.generate(256, style=[0], key=[7], temperature=1.0, seed=0, stop_at_eos=False))
    gen_seconds = time.time() - t
    best_row = next(r for r in ngram_rows if r["model"].endswith("(best on valid)"))
    gap_v, gap_t = res["valid"][0] - best_row["valid nats/event"], res["test"][0] - best_row["test nats/event"]
    notes += [
        f"Verdict: the trained model is {abs(gap_v):.3f} nats/event {'below' if gap_v < 0 else 'above'} the best "
        f"n-gram (order {best[0]}, picked on valid) on valid and {abs(gap_t):.3f} "
        f"{'below' if gap_t < 0 else 'above'} it on test; both are far below uniform ({u:.3f}).",
        "Made by: `audiogen data scores data/scores_chorales --corpus chorales --transpose=-3:3`, then "
        "`audiogen train composer --data data/scores_chorales/manifest.csv --out runs/composer_chorales` "
        "(training/configs/composer.yaml), then the command above.",
        f"Data: {args.data}: {len(set(r['piece'] for r in rows))} pieces; train {len(train)} sequences "
        f"({sum(len(s) for s in train)} events, transpositions included), valid {len(held['valid'])} and test "
        f"{len(held['test'])} untransposed pieces ({res['valid'][1]} and {res['test'][1]} scored events). The split "
        "is by piece (a CRC-32 hash of the piece id: 10% valid, 10% test); transpositions are of training pieces only.",
        f"Run: {args.run} ({_run_facts(args.run)}); scored: "
        + (f"model.keras after all {recipe.steps} steps" if steps >= recipe.steps else
           f"its newest checkpoint, step {steps} of the recipe's {recipe.steps} (the run was stopped before its end)")
        + f"; recipe {recipe.name}, batch {recipe.batch_size} x "
        f"{recipe.seq_length} events, Adam {recipe.learning_rate} x {recipe.lr_decay} per {recipe.steps_per_epoch} "
        f"steps. Scoring the model on both held-out splits took {model_seconds:.1f} s.",
        f"NLL per event is the mean -ln p of each event after BOS given all earlier ones (teacher forcing over the "
        f"whole piece; the model trained on {recipe.seq_length}-event windows). One event is a note-on, note-off, time shift of 1-16 "
        "sixteenths or velocity token (Performance-RNN style); a chorale has about 530 events. This is not the "
        "published JSB Chorales number (NLL per piano-roll frame of 88 binary keys at quarter-note steps, "
        "Boulanger-Lewandowski et al. 2012): the piano-rolls are written by the build (`roll/`), but no frame model "
        "is scored here.",
        "The music21 chorale corpus holds the same melody in several harmonizations, and a piece-level split does "
        "not separate them (nor does the published JSB split); long n-grams profit from such shared passages.",
        f"A 256-event sample (Keras generate, one tf.function) took {gen_seconds:.2f} s including tracing; "
        f"{int(np.sum((sample >= 3) & (sample < 131)))} note-ons.",
    ]
    notes = [f"- {n}" for n in notes + list(args.note)]
    command = args.command or "TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/composer_chorales.py " + shlex.join(
        argv if argv is not None else sys.argv[1:])
    return bu.write_markdown_table(args.out, table, "Composer on the Bach chorales: held-out NLL per event",
                                   command, notes=notes)


if __name__ == "__main__":
    print(main())
