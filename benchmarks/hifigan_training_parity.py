"""Training parity: jik876/hifi-gan's training step (its losses, AdamW, per-epoch LR decay) and ``GANTrainer``
start from the same weights and see the same batches; per-step losses are compared and plotted.

Four stages; the first two run in a side virtual environment with torch and import the reference code from a
checkout given on the command line (nothing of it is copied here), the last two in this project's environment:

    # 1. weights (a small generator and channel-scaled MPD + MSD from the reference models.py) and batches
    /work/venvs/torch/bin/python benchmarks/hifigan_training_parity.py prepare --hifigan HIFIGAN_CHECKOUT \
        --data data/speech/manifest.csv --dir runs/parity --steps 300
    # 2. the reference training step, per step: D update, then G update (train.py's loop body)
    /work/venvs/torch/bin/python benchmarks/hifigan_training_parity.py torch --hifigan HIFIGAN_CHECKOUT --dir runs/parity
    # 3. GANTrainer from the imported checkpoints (audiogen import), same batches
    python benchmarks/hifigan_training_parity.py keras --dir runs/parity
    # 4. compare: benchmarks/results/hifigan_training_parity.md + .png
    python benchmarks/hifigan_training_parity.py report --dir runs/parity

The reference's ``meldataset.py`` is written for old librosa / torch; stage 1 and 2 adapt two calls at run time
(``librosa.filters.mel`` by keyword, ``torch.stft`` with ``return_complex``) without changing what they compute.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))

# the small run: a HiFi-GAN generator of the hifigan_tiny shape, discriminators with channels / WIDTH_DIV
CONFIG = {
    "resblock": "2", "upsample_rates": [8, 8, 4], "upsample_kernel_sizes": [16, 16, 8],
    "upsample_initial_channel": 32, "resblock_kernel_sizes": [3, 5], "resblock_dilation_sizes": [[1, 2], [2, 6]],
    "learning_rate": 2e-4, "adam_b1": 0.8, "adam_b2": 0.99, "lr_decay": 0.999, "seed": 1234,
    "segment_size": 8192, "num_mels": 80, "n_fft": 1024, "hop_size": 256, "win_size": 1024,
    "sampling_rate": 22050, "fmin": 0, "fmax": 8000, "fmax_for_loss": None, "batch_size": 2,
}
WIDTH_DIV = 16
STEPS_PER_EPOCH = 50  # the reference decays the LR once per epoch: here an "epoch" is 50 batches


# ------------------------------------------------------------------------------------------------------------
# torch side (side venv)
# ------------------------------------------------------------------------------------------------------------


def _reference(hifigan_dir):
    """The reference modules, with the two API adaptations for current librosa / torch."""
    import librosa
    import torch

    sys.path.insert(0, os.path.abspath(hifigan_dir))
    import meldataset
    import models

    meldataset.librosa_mel_fn = lambda sr, n_fft, n_mels, fmin, fmax: librosa.filters.mel(
        sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    if not getattr(torch.stft, "_parity_wrapped", False):
        original = torch.stft

        def stft(*args, **kwargs):
            kwargs["return_complex"] = True
            return torch.view_as_real(original(*args, **kwargs))

        stft._parity_wrapped = True
        torch.stft = stft
    # the discriminators with every channel count divided by WIDTH_DIV (groups reduced to fit)
    src = open(os.path.join(hifigan_dir, "models.py")).read()
    div = lambda c: max(1, int(c) // WIDTH_DIV) if int(c) > 1 else 1  # noqa: E731
    src = re.sub(r"Conv2d\((\d+), (\d+),", lambda m: f"Conv2d({div(m.group(1))}, {div(m.group(2))},", src)
    src = re.sub(r"Conv1d\((\d+), (\d+), (\d+), (\d+), groups=(\d+)", lambda m: "Conv1d({}, {}, {}, {}, groups={}".format(
        div(m.group(1)), div(m.group(2)), m.group(3), m.group(4),
        math.gcd(int(m.group(5)), math.gcd(div(m.group(1)), div(m.group(2))))), src)
    src = re.sub(r"Conv1d\((\d+), (\d+), (\d+), 1, padding=(\d+)\)\)",
                 lambda m: f"Conv1d({div(m.group(1))}, {div(m.group(2))}, {m.group(3)}, 1, padding={m.group(4)}))",
                 src)
    small = types.ModuleType("models_small")
    small.__dict__["__file__"] = "models_small.py"
    exec(compile(src, "models_small.py", "exec"), small.__dict__)
    return models, small, meldataset


def prepare(args):
    import numpy as np
    import soundfile as sf
    import torch

    models, small, meldataset = _reference(args.hifigan)
    from env import AttrDict

    os.makedirs(args.dir, exist_ok=True)
    h = AttrDict(CONFIG)
    torch.manual_seed(h.seed)
    g, mpd, msd = models.Generator(h), small.MultiPeriodDiscriminator(), small.MultiScaleDiscriminator()
    torch.save({"generator": g.state_dict()}, os.path.join(args.dir, "g_init"))
    torch.save({"mpd": mpd.state_dict(), "msd": msd.state_dict(), "steps": 0, "epoch": 0},
               os.path.join(args.dir, "do_init"))
    with open(os.path.join(args.dir, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    # batches: random 8192-sample segments, normalised as the reference MelDataset does (normalize * 0.95)
    import csv

    import librosa

    folder = os.path.dirname(os.path.abspath(args.data))
    with open(args.data) as f:
        paths = [os.path.join(folder, r["path"]) for r in csv.DictReader(f) if r.get("split", "train") == "train"]
    rng = np.random.default_rng(0)
    n, seg = args.steps * h.batch_size, h.segment_size
    audio = np.zeros((n, seg), np.float32)
    for i in range(n):
        y, sr = sf.read(paths[rng.integers(len(paths))], dtype="float32")
        if sr != h.sampling_rate:
            raise SystemExit(f"{args.data}: {sr} Hz, the run needs {h.sampling_rate}")
        y = librosa.util.normalize(y) * 0.95
        start = rng.integers(0, max(1, len(y) - seg))
        piece = y[start:start + seg]
        audio[i, : len(piece)] = piece
    with torch.no_grad():
        mel = meldataset.mel_spectrogram(torch.from_numpy(audio), h.n_fft, h.num_mels, h.sampling_rate, h.hop_size,
                                         h.win_size, h.fmin, h.fmax).numpy()  # (n, 80, frames)
    np.savez(os.path.join(args.dir, "batches.npz"), audio=audio.reshape(args.steps, h.batch_size, seg),
             mel=mel.transpose(0, 2, 1).reshape(args.steps, h.batch_size, -1, h.num_mels))
    print(f"wrote {args.dir}: g_init, do_init, config.json, batches.npz ({args.steps} x {h.batch_size} x {seg})")


def run_torch(args):
    import itertools

    import numpy as np
    import torch
    import torch.nn.functional as F

    models, small, meldataset = _reference(args.hifigan)
    from env import AttrDict

    torch.set_num_threads(args.threads)
    h = AttrDict(json.load(open(os.path.join(args.dir, "config.json"))))
    g, mpd, msd = models.Generator(h), small.MultiPeriodDiscriminator(), small.MultiScaleDiscriminator()
    g.load_state_dict(torch.load(os.path.join(args.dir, "g_init"))["generator"])
    do = torch.load(os.path.join(args.dir, "do_init"))
    mpd.load_state_dict(do["mpd"])
    msd.load_state_dict(do["msd"])
    # train.py's optimizers and schedulers
    optim_g = torch.optim.AdamW(g.parameters(), h.learning_rate, betas=[h.adam_b1, h.adam_b2])
    optim_d = torch.optim.AdamW(itertools.chain(msd.parameters(), mpd.parameters()), h.learning_rate,
                                betas=[h.adam_b1, h.adam_b2])
    sched_g = torch.optim.lr_scheduler.ExponentialLR(optim_g, gamma=h.lr_decay, last_epoch=-1)
    sched_d = torch.optim.lr_scheduler.ExponentialLR(optim_d, gamma=h.lr_decay, last_epoch=-1)
    data = np.load(os.path.join(args.dir, "batches.npz"))
    steps = min(args.steps or len(data["audio"]), len(data["audio"]))
    g.train(), mpd.train(), msd.train()
    rows = []
    for step in range(steps):
        t0 = time.perf_counter()
        x = torch.from_numpy(data["mel"][step]).transpose(1, 2)
        y = torch.from_numpy(data["audio"][step]).unsqueeze(1)
        y_mel = meldataset.mel_spectrogram(y.squeeze(1), h.n_fft, h.num_mels, h.sampling_rate, h.hop_size,
                                           h.win_size, h.fmin, h.fmax_for_loss)
        # the body of train.py's loop
        y_g_hat = g(x)
        y_g_hat_mel = meldataset.mel_spectrogram(y_g_hat.squeeze(1), h.n_fft, h.num_mels, h.sampling_rate,
                                                 h.hop_size, h.win_size, h.fmin, h.fmax_for_loss)
        optim_d.zero_grad()
        y_df_hat_r, y_df_hat_g, _, _ = mpd(y, y_g_hat.detach())
        loss_disc_f, _, _ = models.discriminator_loss(y_df_hat_r, y_df_hat_g)
        y_ds_hat_r, y_ds_hat_g, _, _ = msd(y, y_g_hat.detach())
        loss_disc_s, _, _ = models.discriminator_loss(y_ds_hat_r, y_ds_hat_g)
        loss_disc_all = loss_disc_s + loss_disc_f
        loss_disc_all.backward()
        optim_d.step()
        optim_g.zero_grad()
        loss_mel = F.l1_loss(y_mel, y_g_hat_mel) * 45
        y_df_hat_r, y_df_hat_g, fmap_f_r, fmap_f_g = mpd(y, y_g_hat)
        y_ds_hat_r, y_ds_hat_g, fmap_s_r, fmap_s_g = msd(y, y_g_hat)
        loss_fm_f = models.feature_loss(fmap_f_r, fmap_f_g)
        loss_fm_s = models.feature_loss(fmap_s_r, fmap_s_g)
        loss_gen_f, _ = models.generator_loss(y_df_hat_g)
        loss_gen_s, _ = models.generator_loss(y_ds_hat_g)
        loss_gen_all = loss_gen_s + loss_gen_f + loss_fm_s + loss_fm_f + loss_mel
        loss_gen_all.backward()
        optim_g.step()
        with torch.no_grad():  # feature matching without the last map (conv_post), GANTrainer's definition
            fm_no_post = sum(torch.mean(torch.abs(r - f)) for dr, dg in zip(fmap_f_r + fmap_s_r, fmap_f_g + fmap_s_g)
                             for r, f in zip(dr[:-1], dg[:-1]))
        rows.append({"step": step, "d_loss": loss_disc_all.item(), "mel_loss": loss_mel.item() / 45,
                     "fm_loss": (loss_fm_f + loss_fm_s).item() / 2, "fm_loss_no_post": float(fm_no_post),
                     "adv_loss": (loss_gen_f + loss_gen_s).item(), "g_loss": loss_gen_all.item(),
                     "lr": optim_g.param_groups[0]["lr"], "seconds": time.perf_counter() - t0})
        if (step + 1) % STEPS_PER_EPOCH == 0:  # train.py steps its schedulers once per epoch
            sched_g.step()
            sched_d.step()
        if step % 10 == 0:
            print(json.dumps({k: round(v, 4) for k, v in rows[-1].items()}), flush=True)
    with open(os.path.join(args.dir, "torch_losses.json"), "w") as f:
        json.dump(rows, f)


# ------------------------------------------------------------------------------------------------------------
# Keras side (this project's environment)
# ------------------------------------------------------------------------------------------------------------


def run_keras(args):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    import tensorflow as tf

    sys.path.insert(0, os.path.join(HERE, ".."))
    from audiogen_tf.features import MelConfig
    from training.gan_trainer import GANTrainer
    from zoo.torch_import import import_checkpoint

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    h = json.load(open(os.path.join(args.dir, "config.json")))
    g, _ = import_checkpoint(os.path.join(args.dir, "g_init"), "hifigan", config=h, keep_weight_norm=True)
    d, _ = import_checkpoint(os.path.join(args.dir, "do_init"), "hifigan_discriminator")
    loss_mel = MelConfig(sample_rate=h["sampling_rate"], n_fft=h["n_fft"], hop_length=h["hop_size"],
                         win_length=h["win_size"], n_mels=h["num_mels"], fmin=h["fmin"], fmax=h["fmax_for_loss"])
    trainer = GANTrainer(g, [d], mode="vocoder", mel_config=loss_mel, seed=0)

    def optimizer():
        decay = h["lr_decay"] if args.lr_decay is None else args.lr_decay
        lr = keras.optimizers.schedules.ExponentialDecay(h["learning_rate"], STEPS_PER_EPOCH, decay, staircase=True)
        return keras.optimizers.AdamW(lr, weight_decay=0.01, beta_1=h["adam_b1"], beta_2=h["adam_b2"],
                                      epsilon=args.epsilon)

    from training.gan_trainer import migrate_loss_keys

    trainer.compile(g_optimizer=optimizer(), d_optimizer=optimizer(), adversarial_loss="lsgan",
                    **migrate_loss_keys({"mel_loss_weight": 45.0, "feature_matching_weight": 2.0,
                                         **json.loads(args.compile_args)}))
    step_fn = tf.function(trainer.train_step)
    data = np.load(os.path.join(args.dir, "batches.npz"))
    steps = min(args.steps or len(data["audio"]), len(data["audio"]))
    rows = []
    for step in range(steps):
        t0 = time.perf_counter()
        for m in trainer.metrics:
            m.reset_state()
        logs = step_fn({"audio": data["audio"][step], "mel": data["mel"][step]})
        lr = float(trainer.g_optimizer.learning_rate) if not callable(trainer.g_optimizer._learning_rate) else \
            float(trainer.g_optimizer._learning_rate(trainer.g_optimizer.iterations - 1))
        rows.append({"step": step, **{k: float(logs[k]) for k in ("d_loss", "mel_loss", "fm_loss", "adv_loss",
                                                                     "g_loss")},
                     "lr": lr, "seconds": time.perf_counter() - t0})
        if step % 10 == 0:
            print(json.dumps({k: round(v, 4) for k, v in rows[-1].items()}), flush=True)
    name = args.name or "keras_losses"
    with open(os.path.join(args.dir, f"{name}.json"), "w") as f:
        json.dump(rows, f)


def report(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    ref = json.load(open(os.path.join(args.dir, "torch_losses.json")))
    runs = {name: json.load(open(os.path.join(args.dir, f"{name}.json"))) for name in args.runs}
    keys = [("mel_loss", "mel L1 (unweighted)"), ("fm_loss", "feature matching (unweighted)"),
            ("adv_loss", "generator adversarial (LSGAN)"), ("d_loss", "discriminator (LSGAN)")]
    fig, axes = plt.subplots(2, 2, figsize=(12, 7))
    for ax, (key, title) in zip(axes.ravel(), keys):
        ax.plot([r[key] for r in ref], label="jik876 train.py (torch)", lw=1)
        if key == "fm_loss":
            ax.plot([r["fm_loss_no_post"] for r in ref], label="torch, without conv_post maps", lw=1, ls=":")
        for name, rows in runs.items():
            ax.plot([r[key] for r in rows], label=f"GANTrainer ({name})", lw=1)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
    fig.tight_layout()
    png = os.path.join(HERE, "results", "hifigan_training_parity.png")
    fig.savefig(png, dpi=90)
    lines = []
    for name, rows in runs.items():
        n = min(len(ref), len(rows))
        lines.append(f"\n### GANTrainer run `{name}` against the reference, {n} steps\n")
        lines.append("| loss | step 0 torch | step 0 GANTrainer | rel. diff step 0 | mean rel. diff steps 0-9 | "
                     "mean rel. diff all | mean torch last 50 | mean GANTrainer last 50 |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for key, title in keys + [("g_loss", "generator total")]:
            a = np.array([r[key] for r in ref[:n]])
            b = np.array([r[key] for r in rows[:n]])
            rel = np.abs(a - b) / np.maximum(np.abs(a), 1e-8)
            lines.append(f"| {title} | {a[0]:.4f} | {b[0]:.4f} | {rel[0]:.2%} | {rel[:10].mean():.2%} | "
                         f"{rel.mean():.2%} | {a[-50:].mean():.4f} | {b[-50:].mean():.4f} |")
    with open(os.path.join(args.dir, "report_tables.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {png}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="stage", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--hifigan", required=True, help="checkout of jik876/hifi-gan (models.py, meldataset.py, env.py)")
    p.add_argument("--data", required=True, help="manifest.csv of 22.05 kHz speech")
    p.add_argument("--dir", required=True)
    p.add_argument("--steps", type=int, default=300)
    t = sub.add_parser("torch")
    t.add_argument("--hifigan", required=True)
    t.add_argument("--dir", required=True)
    t.add_argument("--steps", type=int, default=0)
    t.add_argument("--threads", type=int, default=1)
    k = sub.add_parser("keras")
    k.add_argument("--dir", required=True)
    k.add_argument("--steps", type=int, default=0)
    k.add_argument("--threads", type=int, default=1)
    k.add_argument("--epsilon", type=float, default=1e-8, help="AdamW epsilon (torch's default 1e-8; Keras' 1e-7)")
    k.add_argument("--lr-decay", type=float, default=None, help="per-epoch LR decay (default: the config's 0.999)")
    k.add_argument("--compile-args", default="{}", help="extra GANTrainer.compile arguments as JSON")
    k.add_argument("--name", default=None, help="output name (default keras_losses)")
    r = sub.add_parser("report")
    r.add_argument("--dir", required=True)
    r.add_argument("--runs", nargs="+", default=["keras_losses"])
    args = ap.parse_args(argv)
    {"prepare": prepare, "torch": run_torch, "keras": run_keras, "report": report}[args.stage](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
