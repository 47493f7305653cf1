"""Held-out accuracy of the drum-class judge (issue 39) on kits it never heard, and its embedding's reference distances.

The classifier is trained by the recipe (``training/configs/drums_classifier.yaml``) on the ``train`` kits of
``audiogen data drums``; this script only scores it. For the ``valid`` and ``test`` kits it reports the accuracy
(with a bootstrap spread), the per-class accuracy and the test confusion matrix. In the classifier's embedding it
reports the Fréchet distance from the training clips to each held-out split, to white noise and to silence-padded
clicks (for scale), and the distance of each held-out clip to its nearest training clip (the baseline that a
generator's nearest-neighbour distance is compared with when checking that it does not copy).

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/drums_classifier.py \\
        --model runs/drums_classifier/model.keras --data-dir /work/data/drums

Writes ``benchmarks/results/drums_classifier.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from audiogen_tf import judge  # noqa: E402
from audiogen_tf.atomic import atomic_write_text  # noqa: E402
from audiogen_tf.manifest import load_entries  # noqa: E402
from bench_utils import markdown_table, write_markdown_table  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def nearest_distances(a, b) -> np.ndarray:
    """Euclidean distance of each row of ``a`` to its nearest row of ``b``."""
    d2 = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(d2.min(axis=1), 0.0))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="the trained classifier (.keras), e.g. RUN/model.keras")
    ap.add_argument("--data-dir", required=True, help="the folder `audiogen data drums` built")
    ap.add_argument("--resamples", type=int, default=200, help="bootstrap resamples of the accuracies")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "drums_classifier.md"))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()

    import zoo.encoders  # noqa: F401  (registers the encoder classes for safe loading)
    from audiogen_tf.model_files import load_keras_model
    from zoo.encoders.encoders_training import label_vocabulary, load_labelled_clips

    model = load_keras_model(args.model)
    sr, n = int(model.sample_rate), int(model.num_samples)
    vocab = label_vocabulary(load_entries(os.path.join(args.data_dir, "train.csv")), "label")
    if len(vocab) != model.output_shape[-1]:
        raise SystemExit(f"{args.model}: {model.output_shape[-1]} classes, train.csv has {len(vocab)}")
    clips, labels, emb = {}, {}, {}
    for split in ("train", "valid", "test"):
        x, y, _ = load_labelled_clips(os.path.join(args.data_dir, f"{split}.csv"), "label", sr, n,
                                      vocabulary=vocab)
        clips[split], labels[split] = x, y
        emb[split] = model.embed(x).astype(np.float64)

    rows, per_class, summary = [], {}, {"classes": vocab}
    for split in ("train", "valid", "test"):
        logits = model.classify(clips[split])
        pred = np.argmax(logits, -1)
        correct = (pred == labels[split]).astype(np.float64)
        _, std = judge.bootstrap(np.mean, correct, num_resamples=args.resamples)
        present = sorted(set(labels[split].tolist()))
        class_acc = {vocab[c]: float(correct[labels[split] == c].mean()) for c in present}
        per_class[split] = class_acc
        rows.append({"split": split, "clips": len(correct), "classes": len(present), "accuracy": float(correct.mean()),
                     "bootstrap std": std, "worst class": min(class_acc, key=class_acc.get),
                     "worst class accuracy": min(class_acc.values()), "chance (1/classes)": 1.0 / len(present)})
        if split == "test":
            conf = np.zeros((len(vocab), len(vocab)), int)
            for t, p in zip(labels[split], pred):
                conf[t, p] += 1
            summary["test_confusion"] = conf.tolist()
    summary["accuracy"] = rows
    summary["per_class"] = per_class

    rng = np.random.default_rng(0)
    noise = (0.1 * rng.standard_normal((len(clips["test"]), n))).astype(np.float32)
    clicks = np.zeros((len(clips["test"]), n), np.float32)
    clicks[:, :32] = rng.uniform(-0.9, 0.9, (len(clicks), 32))
    fd_rows = []
    for name, e in (("valid kits (real, held out)", emb["valid"]), ("test kits (real, held out)", emb["test"]),
                    ("white noise", model.embed(noise).astype(np.float64)),
                    ("32-sample clicks", model.embed(clicks).astype(np.float64))):
        m, s = judge.bootstrap(judge.frechet_distance, e, emb["train"], num_resamples=20)
        nn = nearest_distances(e, emb["train"])
        fd_rows.append({"against train kits": name, "clips": len(e), "Fréchet distance": judge.frechet_distance(
            e, emb["train"]), "bootstrap mean": m, "bootstrap std": s, "nearest-train distance median": float(
            np.median(nn)), "nearest-train distance p10": float(np.percentile(nn, 10))})
    nn_train = []
    for i in range(len(emb["train"])):  # leave-one-out within the training kits
        others = np.delete(emb["train"], i, axis=0)
        nn_train.append(nearest_distances(emb["train"][i : i + 1], others)[0])
    fd_rows.append({"against train kits": "train kits themselves (leave one out)", "clips": len(emb["train"]),
                    "nearest-train distance median": float(np.median(nn_train)),
                    "nearest-train distance p10": float(np.percentile(nn_train, 10))})
    summary["frechet"] = fd_rows

    class_rows = [{"class": c, **{s: per_class[s].get(c) for s in ("train", "valid", "test")},
                   "test clips": int((labels["test"] == i).sum())} for i, c in enumerate(vocab)]
    conf_rows = [{"true \\ predicted": vocab[i], **{vocab[j]: summary["test_confusion"][i][j]
                                                   for j in range(len(vocab))}} for i in range(len(vocab))]
    notes = [
        f"Model: `{args.model}` ({model.count_params()} parameters, {sr} Hz, {n} samples); data: `{args.data_dir}` "
        f"(train / valid / test = {len(labels['train'])} / {len(labels['valid'])} / {len(labels['test'])} clips, "
        "whole kits held out). Scored in "
        f"{time.perf_counter() - t0:.0f} s.",
        "",
        "### Per-class accuracy", "", markdown_table(class_rows),
        "### Test confusion matrix (rows: true class)", "", markdown_table(conf_rows),
        "### Distances in the classifier's embedding", "",
        "Fréchet distance to the training clips, and each clip's Euclidean distance to its nearest training clip. "
        "A generator's clips should sit near the held-out kits' figures, far below noise; a nearest-train distance "
        "far below the held-out kits' would mean copying.", "",
        markdown_table(fd_rows),
    ]
    write_markdown_table(args.out, rows, "Drum-class judge: accuracy on held-out kits",
                         "TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/drums_classifier.py --model "
                         f"{args.model} --data-dir {args.data_dir}", notes=notes)
    atomic_write_text(os.path.splitext(args.out)[0] + ".json", json.dumps(summary, indent=1) + "\n")
    print(open(args.out, encoding="utf-8").read())


if __name__ == "__main__":
    sys.exit(main())
