"""Train a small WaveNet for a few minutes on the built-in synthetic notes (8 kHz, 8-bit mu-law) and compare its
held-out negative log-likelihood (bits per sample) with the entropy of the mu-law histogram of the data.

The histogram entropy is what a model that ignores the past (i.i.d. samples from the amplitude distribution)
achieves at best; a WaveNet that uses its receptive field should land well below it. Both numbers are
measured on the held-out notes (``split`` in {valid, test} of the manifest), the histogram also as the
cross-entropy of the held-out ids under the training histogram (the fair unigram baseline).

Training: teacher forcing with plain ``compile``/``fit`` on :func:`zoo.wavenet.wavenet_dataset` segments
(sparse categorical cross-entropy on the shifted targets), Adam, for a fixed wall-clock budget.
Writes ``benchmarks/results/wavenet_notes_nll.md``.

Usage:
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/wavenet_notes_nll.py [--minutes 8]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from audiogen_tf import audio as audio_io  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_utils.py sits beside this script
import bench_utils as bu  # noqa: E402
from audiogen_tf.datasets.notes import make_notes  # noqa: E402
from audiogen_tf.manifest import read_manifest  # noqa: E402
from zoo.wavenet import WaveNet, teacher_forcing_pair, wavenet_dataset  # noqa: E402
from training.callbacks import TimeBudget  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "wavenet_notes_nll.md")
SR = 8000
Q = 256
MODEL = {"residual_channels": 32, "dilation_channels": 32, "skip_channels": 64, "layers_per_cycle": 8, "num_cycles": 2}


def entropy_bits(counts: np.ndarray) -> float:
    p = counts / counts.sum()
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def held_out_nll_bits(model, clips, batch=8) -> float:
    """Mean -log2 p(x_t | x_<t) over every sample of the held-out clips (teacher forcing, whole clips)."""
    total, count = 0.0, 0
    for i in range(0, len(clips), batch):
        x, y = teacher_forcing_pair(np.stack(clips[i : i + batch]), Q)
        logp = model.log_prob(y, model(x, training=False))
        total += -float(keras.ops.sum(logp)) / math.log(2.0)
        count += int(np.prod(y.shape))
    return total / count


def run(minutes: float = 8.0, data_dir: str | None = None, segment_length: int = 2000, batch_size: int = 8,
        max_eval_files: int | None = None, seed: int = 0) -> dict:
    """Build the notes, train for ``minutes``, return the measured numbers."""
    keras.utils.set_random_seed(seed)
    data_dir = data_dir or os.path.join(tempfile.gettempdir(), "audiogen_notes_8k")
    manifest = make_notes(data_dir, sample_rate=SR, seconds=1.0, progress=False)
    entries = read_manifest(manifest)
    train = [e for e in entries if e["split"] == "train"]
    held = [e for e in entries if e["split"] != "train"][:max_eval_files]
    train_probe = train[:: max(1, len(train) // 24)][:24]  # a spread of training notes, to show the generalization gap

    train_ids = np.concatenate([audio_io.mu_law_encode(audio_io.load(e["path"], sr=SR)[0]) for e in train])
    held_clips = [audio_io.load(e["path"], sr=SR)[0].astype("float32") for e in held]
    held_ids = np.concatenate([audio_io.mu_law_encode(c) for c in held_clips])
    train_hist = np.bincount(train_ids, minlength=Q).astype(np.float64)
    held_hist = np.bincount(held_ids, minlength=Q).astype(np.float64)
    held_entropy = entropy_bits(held_hist)
    p_train = (train_hist + 1.0) / (train_hist.sum() + Q)  # add-one smoothed unigram
    unigram_xent = float(-(held_hist * np.log2(p_train)).sum() / held_hist.sum())

    model = WaveNet(**MODEL)
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0), loss=model.default_loss())
    ds = wavenet_dataset(train, segment_length, batch_size, SR, quantization_channels=Q, repeat=True, cache=True,
                         seed=seed)
    before = held_out_nll_bits(model, held_clips[:8])
    start = time.perf_counter()
    history = model.fit(ds, epochs=100000, steps_per_epoch=50, verbose=0, shuffle=False,
                        callbacks=[TimeBudget(minutes * 60.0)])
    train_seconds = time.perf_counter() - start
    steps = int(model.optimizer.iterations.numpy())
    nll = held_out_nll_bits(model, held_clips)
    per_timbre = {}
    for e, clip in zip(held, held_clips):
        per_timbre.setdefault(e["timbre"], []).append(clip)
    per_timbre = {k: held_out_nll_bits(model, v) for k, v in sorted(per_timbre.items())}
    train_nll = held_out_nll_bits(model, [audio_io.load(e["path"], sr=SR)[0].astype("float32") for e in train_probe])
    return {
        "train_files": len(train),
        "held_out_files": len(held),
        "held_out_samples": int(held_ids.size),
        "receptive_field": model.receptive_field,
        "params": model.count_params(),
        "steps": steps,
        "train_seconds": train_seconds,
        "final_train_loss_bits": float(history.history["loss"][-1]) / math.log(2.0),
        "nll_before_bits": before,
        "nll_bits": nll,
        "train_notes_nll_bits": train_nll,
        "nll_bits_by_timbre": per_timbre,
        "histogram_entropy_bits": held_entropy,
        "unigram_cross_entropy_bits": unigram_xent,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=8.0, help="training wall-clock budget")
    parser.add_argument("--data-dir", default=None, help="where to build the notes (default: a temp folder)")
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args(argv)
    r = run(args.minutes, args.data_dir)
    print(r, flush=True)
    rows = [
        {"quantity": "held-out NLL of the trained WaveNet", "bits/sample": r["nll_bits"]},
        {"quantity": "NLL on 24 training notes (same evaluation)", "bits/sample": r["train_notes_nll_bits"]},
        {"quantity": "held-out NLL before training (8 notes)", "bits/sample": r["nll_before_bits"]},
        {"quantity": "entropy of the held-out mu-law histogram", "bits/sample": r["histogram_entropy_bits"]},
        {"quantity": "held-out cross-entropy under the training histogram", "bits/sample": r["unigram_cross_entropy_bits"]},
        {"quantity": "uniform over 256 classes", "bits/sample": 8.0},
    ]
    notes = [
        f"Data: audiogen_tf.datasets.notes.make_notes(sample_rate={SR}, seconds=1.0), defaults otherwise: "
        f"{r['train_files']} training notes, {r['held_out_files']} held-out notes (valid + test splits), "
        f"{r['held_out_samples']} held-out samples, 8-bit mu-law.",
        f"Model: WaveNet({', '.join(f'{k}={v}' for k, v in MODEL.items())}), one-hot input, 256-way softmax; "
        f"receptive field {r['receptive_field']} samples, {r['params']} parameters.",
        f"Training: {r['steps']} Adam steps (lr 1e-3, clipnorm 1) of batch 8 x 2000-sample segments in {r['train_seconds']:.0f} s "
        f"of wall clock on a shared 2-core CPU; training loss over the last (up to 50) steps "
        f"{r['final_train_loss_bits']:.3f} bits/sample.",
        "NLL: -log2 p(x_t | x_<t) averaged over every sample of the whole held-out notes (teacher forcing, "
        "starting from silence).",
        "Held-out NLL by timbre (bits/sample): "
        + ", ".join(f"{k} {v:.2f}" for k, v in r["nll_bits_by_timbre"].items()) + ".",
        f"Gap to the histogram entropy: {r['histogram_entropy_bits'] - r['nll_bits']:.2f} bits/sample.",
    ]
    bu.write_markdown_table(args.out, rows, "WaveNet on the built-in notes: held-out NLL vs mu-law histogram entropy",
                            f"TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/wavenet_notes_nll.py --minutes {args.minutes:g}",
                            notes=notes)
    print(open(args.out).read())
    return 0 if r["nll_bits"] < r["histogram_entropy_bits"] - 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
