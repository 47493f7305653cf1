"""Held-out reconstruction quality of the latent-variable generators on the built-in 16 kHz notes.

Trains briefly (a time budget per model, CPU) a mel VAE, a mel VQ-VAE (+ its LSTM code prior) and a residual-VQ
waveform codec, then reports on the held-out ``test`` split:

- mel models: log-mel L1, and MR-STFT distance / SNR of the Griffin-Lim audio against the original note, next to
  Griffin-Lim of the true mel (the vocoder bound) and an untrained copy of the model;
- codebook usage (% of codes used on the test set) and perplexity; the prior's NLL per code against uniform;
- the codec: MR-STFT distance and SNR at its bitrate (and with fewer RVQ stages), against an untrained copy;
- VAE latent interpolation between two notes of different pitch with the F0 (pYIN) along the path.

Usage:
    python benchmarks/latent_models_quality.py [--budget 1.0] [--out benchmarks/latent_models_quality.md]

``--budget`` scales every training time budget (1.0: about 2.5 + 2.5 + 0.75 + 5.5 minutes of training, graph tracing
not counted).
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
import tensorflow as tf  # noqa: E402

from audiogen_tf import audio as audio_io  # noqa: E402
from audiogen_tf import metrics  # noqa: E402
from audiogen_tf.benchmark_utils import markdown_table, write_markdown_table  # noqa: E402
from audiogen_tf.datasets.notes import make_notes  # noqa: E402
from audiogen_tf.features import MelConfig, log_mel_to_audio  # noqa: E402
from audiogen_tf.layers.quantizers import codebook_perplexity, codebook_usage  # noqa: E402
from audiogen_tf.manifest import read_manifest  # noqa: E402
from training.vae_trainer import VAETrainer, VQVAETrainer  # noqa: E402
from zoo.vae import ConvVAE  # noqa: E402
from zoo.vqvae import VQVAE, AudioCodec, CodePrior, teacher_forcing_pair  # noqa: E402

SR = 16000
CLIP = 16384  # 64 mel frames at hop 256
MEL = MelConfig(sample_rate=SR, n_fft=1024, hop_length=256, win_length=1024, n_mels=80, fmin=0.0, fmax=8000.0)
FRAMES = CLIP // MEL.hop_length
VAE_BETA = 0.01
CODEC_L1_WEIGHT = 10.0  # with 1.0 the codec ignored the waveform (SNR ~0 dB); 30 was less stable
CODEC_LR = 5e-4  # with 1e-3 and no clipping one run collapsed (decoder output independent of its input)


class TimeBudget(keras.callbacks.Callback):
    """Stop ``fit`` once ``seconds`` have passed since the end of the first batch (graph tracing excluded).

    ``compile_seconds`` holds the duration of the first batch (tracing + one step).
    """

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds
        self.start = None
        self.compile_seconds = 0.0

    def on_train_begin(self, logs=None):
        self.begin = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.start is None:
            self.start = time.time()
            self.compile_seconds = self.start - self.begin
        elif time.time() - self.start > self.seconds:
            self.model.stop_training = True


def load_notes(root):
    manifest = make_notes(root, sample_rate=SR, progress=False)
    entries = read_manifest(manifest)
    data = {}
    for split in ("train", "valid", "test"):
        rows = [e for e in entries if e["split"] == split]
        audio = np.zeros((len(rows), CLIP), np.float32)
        for i, e in enumerate(rows):
            x, _ = audio_io.load(e["path"], sr=SR)
            audio[i, : min(CLIP, len(x))] = x[:CLIP]
        mel = np.asarray(MEL.log_mel(tf.constant(audio)))[:, :FRAMES, :]
        data[split] = {"audio": audio, "mel": mel.astype(np.float32), "rows": rows}
    return data


def griffin_lim(mel):
    return np.asarray(log_mel_to_audio(tf.constant(mel), MEL, n_iter=32, length=CLIP, seed=0))


def audio_scores(ref, est):
    """Mean MR-STFT distance and SNR over clips (time,)."""
    mr = [metrics.multi_resolution_stft_distance(r, e)["total"] for r, e in zip(ref, est)]
    sn = [metrics.snr(r, e) for r, e in zip(ref, est)]
    return float(np.mean(mr)), float(np.mean(sn))


def mel_rows(name, model_mels, test, gl_true):
    rows = []
    for label, mel in model_mels:
        audio = gl_true if mel is None else griffin_lim(mel)
        mel_l1 = 0.0 if mel is None else float(np.mean(np.abs(mel - test["mel"])))
        mr, sn = audio_scores(test["audio"], audio)
        rows.append({"model": name, "variant": label, "log-mel L1": mel_l1, "MR-STFT (GL audio)": mr,
                     "SNR dB (GL audio)": sn})
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=1.0, help="scale of every training time budget")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "latent_models_quality.md"))
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "audiogen_notes_16k"))
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    t_start = time.time()
    data = load_notes(args.data)
    train, test = data["train"], data["test"]
    print(f"notes: {len(train['rows'])} train, {len(data['valid']['rows'])} valid, {len(test['rows'])} test", flush=True)
    gl_true = griffin_lim(test["mel"])
    results, notes = [], []
    budget = lambda s: s * args.budget  # noqa: E731

    # ------------------------------------------------------------------ VAE (mel)
    vae = ConvVAE.from_preset("vae_mel_notes")
    untrained_vae = ConvVAE.from_config(vae.get_config())
    untrained_vae.set_weights(vae.get_weights())
    trainer = VAETrainer(vae, beta=VAE_BETA, kl_warmup_steps=500, reconstruction="mse")
    trainer.compile(optimizer=keras.optimizers.Adam(1e-3))
    t0 = time.time()
    hist = trainer.fit(train["mel"], batch_size=16, epochs=1000, verbose=0, callbacks=[TimeBudget(budget(150))])
    vae_steps = int(trainer.optimizer.iterations.numpy())
    ev = trainer.evaluate(test["mel"], batch_size=32, verbose=0, return_dict=True)
    print(f"VAE: {vae_steps} steps in {time.time() - t0:.0f} s; test {ev}", flush=True)
    vae_rec = np.asarray(vae(test["mel"])["reconstruction"])
    unt_rec = np.asarray(untrained_vae(test["mel"])["reconstruction"])
    results += mel_rows("VAE vae_mel_notes", [("Griffin-Lim of true mel (bound)", None),
                                              (f"trained ({vae_steps} steps)", vae_rec),
                                              ("untrained copy", unt_rec)], test, gl_true)
    notes.append(f"VAE: beta {VAE_BETA}, KL warm-up 500 steps, {vae_steps} Adam steps (batch 16) in "
                 f"{time.time() - t0:.0f} s; test reconstruction MSE {ev['reconstruction_loss']:.3f}, "
                 f"KL {ev['kl_loss']:.1f} nats; {len(hist.history['loss'])} epochs.")

    # ------------------------------------------------------------------ VQ-VAE (mel) + prior
    vq = VQVAE.from_preset("vqvae_mel")
    untrained_vq = VQVAE.from_config(vq.get_config())
    untrained_vq.set_weights(vq.get_weights())
    vtrainer = VQVAETrainer(vq, reconstruction="mse")
    vtrainer.compile(optimizer=keras.optimizers.Adam(1e-3))
    t0 = time.time()
    vtrainer.fit(train["mel"], batch_size=16, epochs=1000, verbose=0, callbacks=[TimeBudget(budget(150))])
    vq_steps = int(vtrainer.optimizer.iterations.numpy())
    vq_out = vq(test["mel"])
    test_codes = np.asarray(vq_out["codes"])
    usage = float(codebook_usage(test_codes, vq.codebook_size)) * 100
    perp = float(codebook_perplexity(test_codes, vq.codebook_size))
    train_usage = float(codebook_usage(vq.encode(train["mel"]), vq.codebook_size)) * 100
    uniform_usage = 100 * (1 - (1 - 1 / vq.codebook_size) ** test_codes.size)
    per_clip = float(np.mean([np.unique(c).size for c in test_codes]))  # sustained notes repeat their codes
    print(f"VQ-VAE: {vq_steps} steps in {time.time() - t0:.0f} s; usage {usage:.1f}% perplexity {perp:.1f}", flush=True)
    results += mel_rows("VQ-VAE vqvae_mel", [(f"trained ({vq_steps} steps)", np.asarray(vq_out["reconstruction"])),
                                             ("untrained copy", np.asarray(untrained_vq(test["mel"])["reconstruction"]))],
                        test, gl_true)
    results[-2]["codebook usage %"] = usage
    results[-2]["perplexity"] = perp
    results[-1]["codebook usage %"] = float(codebook_usage(untrained_vq(test["mel"])["codes"], vq.codebook_size)) * 100
    notes.append(f"VQ-VAE: {vq.codebook_size} codes of size {vq.embedding_dim}, EMA decay 0.99, commitment 0.25, "
                 "codebook initialised from the first batch, dead-code restarts (EMA count < 0.1 x mean) after 100 "
                 "steps, "
                 f"{vq_steps} Adam steps (batch 16) in {time.time() - t0:.0f} s; {test_codes.shape[1]} codes per clip "
                 f"({test_codes.shape[1] / (CLIP / SR):.1f} codes/s, {np.log2(vq.codebook_size):.0f} bits each); test "
                 f"usage {usage:.1f} %, perplexity {perp:.1f} of {vq.codebook_size}; {test_codes.size} test code vectors, so "
                 f"even a perfectly uniform code distribution would use {uniform_usage:.1f} % in expectation, but a test clip "
                 f"(a sustained note) uses only {per_clip:.1f} distinct codes of its {test_codes.shape[1]} on average, so "
                 f"the {len(test_codes)} test clips can reach at most {min(100, 100 * per_clip * len(test_codes) / vq.codebook_size):.0f} %; usage on "
                 f"the {train['mel'].shape[0]} training clips: {train_usage:.1f} %.")

    prior = CodePrior.from_preset("prior_vqvae_mel", units=128, num_layers=1)
    train_codes = np.asarray(vq.encode(train["mel"]))
    px, py = teacher_forcing_pair(train_codes, vq.codebook_size)
    prior.compile(optimizer=keras.optimizers.Adam(2e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    t0 = time.time()
    prior.fit(np.asarray(px), np.asarray(py), batch_size=32, epochs=1000, verbose=0,
              callbacks=[TimeBudget(budget(45))])
    nll_test = float(prior.negative_log_likelihood(test_codes))
    nll_train = float(prior.negative_log_likelihood(train_codes))
    sampled = prior.generate(test_codes.shape[1], batch_size=4, temperature=1.0, seed=0)
    sampled_mel = np.asarray(vq.decode(sampled))
    notes.append(f"Code prior (1-layer LSTM, 128 units) on the {len(train_codes)} training code sequences, "
                 f"{time.time() - t0:.0f} s: NLL {nll_train:.2f} (train) / {nll_test:.2f} (test) nats per code vs "
                 f"{np.log(vq.codebook_size):.2f} for a uniform prior. 4 sampled sequences decode to finite mels: "
                 f"{bool(np.all(np.isfinite(sampled_mel)))} (mean log-mel {sampled_mel.mean():.2f}, test "
                 f"{test['mel'].mean():.2f}).")
    print(notes[-1], flush=True)

    # ------------------------------------------------------------------ codec (waveform, RVQ)
    codec = AudioCodec.from_preset("codec_16khz_small")
    untrained_codec = AudioCodec.from_config(codec.get_config())
    untrained_codec.set_weights(codec.get_weights())
    ctrainer = VQVAETrainer(codec, reconstruction="waveform", l1_weight=CODEC_L1_WEIGHT)
    ctrainer.compile(optimizer=keras.optimizers.Adam(CODEC_LR, clipnorm=1.0))
    seg = 8000 // codec.hop_length * codec.hop_length
    rng = np.random.default_rng(0)

    def crops():
        while True:
            idx = rng.integers(0, len(train["audio"]), 8)
            starts = rng.integers(0, CLIP - seg, 8)
            yield np.stack([train["audio"][i, s: s + seg] for i, s in zip(idx, starts)])[..., None]

    ds = tf.data.Dataset.from_generator(crops, output_signature=tf.TensorSpec((8, seg, 1), tf.float32))
    t0 = time.time()
    cbudget = TimeBudget(budget(330))
    ctrainer.fit(ds, steps_per_epoch=10, epochs=100000, verbose=0, callbacks=[cbudget])
    codec_steps = int(ctrainer.optimizer.iterations.numpy())
    train_time = time.time() - t0
    n = CLIP // codec.hop_length * codec.hop_length
    ref = test["audio"][:, :n]
    for label, model in ((f"trained ({codec_steps} steps)", codec), ("untrained copy", untrained_codec)):
        stages = range(1, codec.num_quantizers + 1) if label.startswith("trained") else [1, codec.num_quantizers]
        for n_q in stages:
            codes = model.encode(ref[..., None], num_quantizers=n_q)
            est = np.asarray(model.decode(codes))[..., 0]
            mr, sn = audio_scores(ref, est)
            row = {"model": "codec codec_16khz_small", "variant": f"{label}, {n_q} RVQ stages",
                   "bitrate kbps": model.bitrate_kbps(n_q), "MR-STFT (audio)": mr, "SNR dB (audio)": sn}
            z = np.asarray(model.get_layer("encoder")(ref[..., None]))
            zq = np.asarray(model.quantizer.lookup(codes))
            row["latent rel. error"] = float(np.linalg.norm(z - zq) / np.linalg.norm(z))
            if n_q == codec.num_quantizers:
                c = np.asarray(codes)
                row["codebook usage %"] = 100 * float(np.mean([codebook_usage(c[..., i], model.codebook_size)
                                                               for i in range(n_q)]))
            results.append(row)
    # the decoder on the unquantized latent: what the trained encoder / decoder can do without the bottleneck
    est = np.asarray(codec.get_layer("decoder")(codec.get_layer("encoder")(ref[..., None])))[..., 0]
    mr, sn = audio_scores(ref, est)
    results.append({"model": "codec codec_16khz_small", "variant": "trained, unquantized latent (no bottleneck)",
                    "MR-STFT (audio)": mr, "SNR dB (audio)": sn})
    for label, est in (("silence baseline", np.zeros_like(ref)),
                       ("white noise at each clip's RMS", np.random.default_rng(0).normal(size=ref.shape)
                        * ref.std(axis=1, keepdims=True))):
        mr, sn = audio_scores(ref, est)
        results.append({"model": "codec codec_16khz_small", "variant": label, "MR-STFT (audio)": mr,
                        "SNR dB (audio)": sn})
    notes.append(f"Codec: hop {codec.hop_length} ({codec.frame_rate:.0f} frames/s), {codec.num_quantizers} x "
                 f"{codec.codebook_size} codes = {codec.bitrate_kbps():.1f} kbps; loss MR-STFT (SC + log-mag) + "
                 f"{CODEC_L1_WEIGHT:g} x L1 waveform, {codec_steps} Adam steps (lr {CODEC_LR:g}, clipnorm 1) (batch 8 x {seg} samples) in "
                 f"{train_time:.0f} s (of which {cbudget.compile_seconds:.0f} s graph tracing + first step); no "
                 f"adversarial loss. Quantizer dropout {codec.quantizer_dropout:g} (SoundStream): a training example "
                 "uses its first n ~ U{1..4} stages with that probability. Fewer RVQ stages decode the same model with "
                 "the first n codebooks only.")
    print(notes[-1], flush=True)

    # ------------------------------------------------------------------ VAE interpolation with F0
    rows = data["valid"]["rows"] + test["rows"] + train["rows"]
    mels = np.concatenate([data["valid"]["mel"], test["mel"], train["mel"]])
    audios = np.concatenate([data["valid"]["audio"], test["audio"], train["audio"]])
    pick = {}
    for i, r in enumerate(rows):
        if r["timbre"] == "flute" and int(r["pitch"]) in (55, 67) and int(r["pitch"]) not in pick:
            pick[int(r["pitch"])] = i
    a, b = pick[55], pick[67]
    f_a = np.nanmedian(metrics.f0(audios[a][:SR], SR, fmin=80.0, fmax=800.0)[0])
    f_b = np.nanmedian(metrics.f0(audios[b][:SR], SR, fmin=80.0, fmax=800.0)[0])
    _, path = vae.interpolate(mels[a], mels[b], steps=7)
    path_audio = griffin_lim(np.asarray(path))
    interp = []
    for k, x in enumerate(path_audio):
        t = k / 6
        hz, voiced = metrics.f0(x[:SR], SR, fmin=80.0, fmax=800.0)
        med = float(np.nanmedian(hz)) if voiced.any() else float("nan")
        glide = float(f_a ** (1 - t) * f_b**t)  # a glide linear in log-frequency
        interp.append({"step": k, "t": t, "median F0 Hz": med, "glide target Hz": glide,
                       "error semitones": 12 * np.log2(med / glide) if np.isfinite(med) else None,
                       "voiced %": 100 * float(voiced.mean())})
    inner = [r["median F0 Hz"] for r in interp[1:-1]]
    n_between = sum(1 for f in inner if np.isfinite(f) and min(f_a, f_b) * 2 ** (1 / 12) < f < max(f_a, f_b) / 2 ** (1 / 12))
    interp_note = (f"Interpolation between flute notes MIDI 55 ({rows[a]['split']}, F0 {f_a:.1f} Hz) and 67 "
                   f"({rows[b]['split']}, F0 {f_b:.1f} Hz) in the VAE latent space (posterior means, 7 points), "
                   "decoded mel -> Griffin-Lim -> pYIN (median over voiced frames). 'glide target' is the F0 a "
                   "glide linear in log-frequency would have. Inner points whose F0 lies strictly between the end "
                   f"pitches (more than a semitone from both): {n_between} of {len(inner)}.")

    total = time.time() - t_start
    notes += [
        "Held-out = the `test` split of `make_notes(sample_rate=16000)` (hash split, "
        f"{len(test['rows'])} one-second notes, 7 timbres, MIDI 48-72), padded to {CLIP} samples; log-mel "
        "80 bands, n_fft 1024, hop 256 (natural log). MR-STFT distance = `audiogen_tf.metrics."
        "multi_resolution_stft_distance` (total), SNR = `audiogen_tf.metrics.snr`, both averaged over clips.",
        "Mel models are judged through Griffin-Lim (32 iterations): SNR of Griffin-Lim audio is near or below 0 dB "
        "for any mel because the phase is re-estimated; the MR-STFT distance and the log-mel L1 are the meaningful "
        "columns there.",
        f"Whole script: {total / 60:.1f} min on a shared 2-core CPU.",
        "",
        interp_note,
        "",
        markdown_table(interp).rstrip("\n"),
    ]
    command = "python benchmarks/latent_models_quality.py" + (f" --budget {args.budget}" if args.budget != 1.0 else "")
    text = write_markdown_table(args.out, results, "Latent-variable generators: held-out quality on 16 kHz notes",
                                command, notes=notes)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
