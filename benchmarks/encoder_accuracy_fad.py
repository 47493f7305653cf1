"""Held-out accuracy of the CNN encoders on the built-in corpora, and Fréchet-distance sanity checks in their spaces.

For each encoder (tiny presets: ``mel_cnn_tiny``, ``waveform_cnn_tiny``) and task (notes by timbre, notes by
pitch, sound effects by class) the encoder is trained with plain ``compile``/``fit`` on the ``train`` split
and scored on the held-out ``valid`` + ``test`` splits, chance level beside it. Then, in each trained
encoder's embedding space, the Fréchet distance (``audiogen_tf.judge``) from the training clips to:
held-out real clips, held-out clips with white noise at 10 dB SNR, an untrained generator's output
(``zoo.wavegan`` tiny generator if present, else a random Conv1DTranspose stack) and white noise, each with a
bootstrap mean and std. The expected order is held-out < noisy held-out < {untrained generator, white noise}.

Writes ``benchmarks/results/encoder_accuracy_fad.md``. Keep it under 10 minutes on 2 shared cores:

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/encoder_accuracy_fad.py
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from audiogen_tf import judge  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_utils.py sits beside this script
from bench_utils import machine_info, markdown_table  # noqa: E402
from audiogen_tf.datasets.notes import make_notes  # noqa: E402
from audiogen_tf.datasets.sfx import make_sfx  # noqa: E402
from zoo.encoders import MelCNNEncoder, WaveformCNNEncoder  # noqa: E402
from zoo.encoders.encoders_training import (  # noqa: E402
    compile_classifier,
    labelled_dataset,
    load_labelled_clips,
)

SR = 16000
N = 16000
HELD_OUT = ("valid", "test")


def untrained_generator(n: int, seed: int = 0) -> tuple[np.ndarray, str]:
    """``n`` clips (n, N) from an untrained generator: zoo.wavegan's tiny generator if importable, else our own."""
    keras.utils.set_random_seed(seed)
    try:
        from zoo.wavegan import WaveGANGenerator

        gen = WaveGANGenerator.from_preset("wavegan_tiny")
        z = np.random.default_rng(seed).uniform(-1, 1, (n, gen.latent_dim)).astype("float32")
        out = gen.predict(z, batch_size=32, verbose=0)
        name = "untrained WaveGAN (wavegan_tiny)"
    except ImportError:
        z = keras.Input((16,))
        h = keras.layers.Reshape((16, 64))(keras.layers.Dense(16 * 64, activation="relu")(z))
        for i, f in enumerate((32, 16, 8, 4, 1)):
            h = keras.layers.Conv1DTranspose(f, 25, strides=4, padding="same",
                                             activation="tanh" if f == 1 else "relu")(h)
        gen = keras.Model(z, h)
        out = gen.predict(np.random.default_rng(seed).uniform(-1, 1, (n, 16)).astype("float32"), verbose=0)
        name = "untrained Conv1DTranspose generator"
    return judge.fit_length(out, N), name


def add_noise(x, snr_db, rng):
    """White noise at ``snr_db`` below each clip's power."""
    p = np.mean(x**2, axis=1, keepdims=True)
    return (x + rng.standard_normal(x.shape) * np.sqrt(p / 10 ** (snr_db / 10))).astype("float32")


def train_and_score(cls, preset, data, epochs, batch_size, lr, augment, seed=0):
    (xtr, ytr), (xte, yte), vocab = data
    keras.utils.set_random_seed(seed)
    enc = cls.from_preset(preset, num_classes=len(vocab), num_samples=N)
    compile_classifier(enc, lr)
    t0 = time.perf_counter()
    enc.fit(labelled_dataset(xtr, ytr, batch_size, augment=augment, seed=seed), epochs=epochs, shuffle=False,
            verbose=0)
    train_s = time.perf_counter() - t0
    logits = enc.classify(xte)
    acc = judge.accuracy(logits, yte)
    correct = (np.argmax(logits, -1) == yte).astype(float)
    _, acc_std = judge.bootstrap(np.mean, correct, num_resamples=200)
    return enc, acc, acc_std, train_s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(), "audiogen_encoder_bench"))
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--resamples", type=int, default=20, help="bootstrap resamples of each Fréchet distance")
    ap.add_argument("--no-augment", action="store_true", help="train without SpecAugment-style masking")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                                                  "encoder_accuracy_fad.md"))
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    augment = None if args.no_augment else {"freq_mask_param": 16, "time_mask_param": 8}

    notes = make_notes(os.path.join(args.data_dir, "notes"), sample_rate=SR, seconds=1.0, pitches=range(48, 73),
                       variations=3, progress=False)
    sfx = make_sfx(os.path.join(args.data_dir, "sfx"), sample_rate=SR, per_class=60, progress=False)
    tasks = {}
    for task, (manifest, key) in {"notes-timbre": (notes, "timbre"), "notes-pitch": (notes, "pitch"),
                                  "sfx-class": (sfx, "label")}.items():
        xtr, ytr, vocab = load_labelled_clips(manifest, key, SR, N, split="train")
        xte, yte, _ = load_labelled_clips(manifest, key, SR, N, split=HELD_OUT, vocabulary=vocab)
        tasks[task] = ((xtr, ytr), (xte, yte), vocab)
    print(f"data ready in {time.perf_counter() - t_start:.0f} s", flush=True)

    rng = np.random.default_rng(0)
    acc_rows, fd_rows, summary_rows = [], [], []
    gen_cache = {}
    for cls, preset in [(MelCNNEncoder, "mel_cnn_tiny"), (WaveformCNNEncoder, "waveform_cnn_tiny")]:
        for task, data in tasks.items():
            enc, acc, acc_std, train_s = train_and_score(cls, preset, data, args.epochs, args.batch_size, args.lr,
                                                         augment)
            (xtr, ytr), (xte, yte), vocab = data
            acc_rows.append({
                "encoder": preset, "task": task, "classes": len(vocab), "train clips": len(ytr),
                "held-out clips": len(yte), "held-out accuracy": acc, "bootstrap std": acc_std,
                "chance": 1.0 / len(vocab), "params": enc.count_params(), "train s": round(train_s, 1),
            })
            print(acc_rows[-1], flush=True)
            n = len(yte)
            if n not in gen_cache:
                gen_cache[n] = untrained_generator(n)
            gen_audio, gen_name = gen_cache[n]
            ref = enc.embed(xtr)
            candidates = {
                "real held-out": xte,
                "held-out + noise 30 dB SNR": add_noise(xte, 30.0, rng),
                "held-out + noise 10 dB SNR": add_noise(xte, 10.0, rng),
                "untrained generator": gen_audio,
                "white noise": (0.1 * rng.standard_normal((n, N))).astype("float32"),
            }
            fds = {}
            for name, audio in candidates.items():
                emb = enc.embed(audio)
                fds[name] = fd = judge.frechet_distance(emb, ref)
                m, s = judge.bootstrap(judge.frechet_distance, emb, ref, num_resamples=args.resamples)
                is_mean = judge.inception_score(judge.softmax(enc.classify(audio)))[0]
                fd_rows.append({"encoder": preset, "task": task, "compared with train clips": name, "clips": n,
                                "FD": fd, "FD bootstrap mean": m, "FD bootstrap std": s, "Inception Score": is_mean})
            real = fds["real held-out"]
            summary_rows.append({
                "encoder": preset, "task": task, **{f"FD {k}": v for k, v in fds.items()},
                "held-out < generator, noise": bool(real < min(fds["untrained generator"], fds["white noise"])),
                "held-out < 30 dB < 10 dB": bool(real < fds["held-out + noise 30 dB SNR"]
                                                 < fds["held-out + noise 10 dB SNR"]),
                "generator / held-out": fds["untrained generator"] / max(real, 1e-9),
            })

    total = time.perf_counter() - t_start
    info = machine_info(peak_gflops=0.0)
    ok_gen = sum(r["held-out < generator, noise"] for r in summary_rows)
    ok_noise = sum(r["held-out < 30 dB < 10 dB"] for r in summary_rows)
    page = [
        "# CNN encoders: held-out accuracy and Fréchet-distance sanity",
        "",
        "Command:",
        "",
        "```",
        "TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/encoder_accuracy_fad.py",
        "```",
        "",
        f"Data: built-in notes (`make_notes`, 16 kHz, 1 s, MIDI 48-72, 7 timbres, 3 variations) and sound effects "
        f"(`make_sfx`, 7 classes x 60, cropped to 1 s). Train on split `train`, score on `valid` + `test`. "
        f"Tiny presets, Adam lr {args.lr}, batch {args.batch_size}, {args.epochs} epochs, "
        f"SpecAugment-style masking {'off' if augment is None else augment} (waveform STFT domain).",
        "",
        "## Held-out accuracy",
        "",
        markdown_table(acc_rows).rstrip("\n"),
        "",
        "## Fréchet distance in each trained encoder's embedding space",
        "",
        "Reference: embeddings of all training clips of the task; each candidate set has as many clips as the "
        f"held-out split. Candidates: the real held-out clips; the same with white noise added at 30 dB and 10 dB "
        f"SNR; {gen_name} output (random latents, cropped to 1 s); white noise of std 0.1. Expected: held-out "
        "smallest, far below the untrained generator and white noise, and FD growing with the added noise.",
        "",
        markdown_table(summary_rows).rstrip("\n"),
        "",
        f"Held-out below generator and noise in {ok_gen} of {len(summary_rows)} encoder/task spaces; "
        f"monotone in added noise in {ok_noise} of {len(summary_rows)}.",
        "",
        f"### Bootstrap spread and Inception Score ({args.resamples} resamples with replacement of both sets; "
        "duplicated clips shrink the effective sample, so the bootstrap mean sits above the point estimate)",
        "",
        markdown_table(fd_rows).rstrip("\n"),
        "",
        f"Machine: {info['nproc']} cores ({info['cpu']}), TensorFlow {info['tensorflow']}, CPU only, shared with "
        f"other jobs (load average {info['load_average']} at the end). Total wall time {total:.0f} s.",
    ]
    text = "\n".join(page) + "\n"
    fd_, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".md", dir=os.path.dirname(os.path.abspath(args.out)))
    with os.fdopen(fd_, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, args.out)
    print(text)
    print(f"wrote {args.out} in {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
