"""Held-out reconstruction quality of the latent-variable generators on the festival speech corpus (16 kHz).

The speech half of the latent-variable benchmark (the notes half is ``latent_models_quality.py``, whose presets,
mel settings, loss weights and time-budget callback this script reuses). Trains from scratch, each for a wall-time
budget on a shared CPU, on the ``train`` split of ``data/speech/manifest.csv`` (resampled to 16 kHz):

- the mel VAE ``vae_mel_notes`` and the mel VQ-VAE ``vqvae_mel`` on random 64-frame log-mel crops, then the
  VQ-VAE's LSTM code prior on the training codes;
- the residual-VQ waveform codec ``codec_16khz_small`` (MR-STFT + 10 x L1, quantizer dropout) on random
  8000-sample crops.

On each whole held-out utterance (split ``test``) it reports log-mel L1 (mel models), MR-STFT distance, SNR,
PESQ-WB and STOI (mean ± std over utterances): mel models reconstruct the log-mel in consecutive 64-frame chunks
(the last one padded with silence), stitched, then Griffin-Lim (32 iterations); the codec encodes / decodes the
waveform (padded to a multiple of its hop) with 1-4 RVQ stages. Baselines: Griffin-Lim of the true mel (the bound
of the mel models), untrained copies, the codec's unquantized latent, silence and noise. Codebook usage and
perplexity on the held-out and the training utterances. A few WAVs go to ``runs/latent_speech/``.

Usage:
    python benchmarks/latent_models_speech.py [--budget 1.0] [--out benchmarks/results/latent_models_speech.md]

``--budget`` scales every training time budget (1.0: 3 + 3 + 1 + 6 minutes of training, graph tracing not counted).

Papers: Kingma & Welling 2014 (VAE); van den Oord et al. 2017 (VQ-VAE); Zeghidour et al. 2021 (SoundStream);
Griffin & Lim 1984; Yamamoto et al. 2020 (MR-STFT); ITU-T P.862.2 (PESQ-WB); Taal et al. 2011 (STOI).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from latent_models_quality import (  # noqa: E402
    CODEC_L1_WEIGHT, CODEC_LR, FRAMES, MEL, SR, VAE_BETA, time_budget, untrained_copy,
)

from audiogen_tf import audio as audio_io  # noqa: E402
from audiogen_tf import metrics  # noqa: E402
from bench_utils import write_markdown_table  # noqa: E402
from audiogen_tf.features import log_mel_to_audio  # noqa: E402
from audiogen_tf.layers.quantizers import codebook_perplexity, codebook_usage  # noqa: E402
from audiogen_tf.manifest import read_manifest  # noqa: E402
from training.vae_trainer import VAETrainer, VQVAETrainer  # noqa: E402
from zoo.vae import ConvVAE  # noqa: E402
from zoo.vqvae import VQVAE, AudioCodec, CodePrior, teacher_forcing_pair  # noqa: E402

PRIOR_WINDOW = 32  # codes per prior training / test sequence (2 s at 16 codes/s)
PRIOR_TRAIN_STRIDE = 8  # overlapping training windows (4x the data); held-out windows do not overlap
N_WAVS = 3  # test utterances saved as WAVs


def load_speech(manifest):
    """{split: [{"name", "audio" (time,), "mel" (frames, 80), "text"}]} at 16 kHz."""
    data = {"train": [], "valid": [], "test": []}
    for e in read_manifest(manifest):
        x, _ = audio_io.load(e["path"], sr=SR)
        x = np.asarray(x, np.float32)
        mel = np.asarray(MEL.log_mel(tf.constant(x)), np.float32)
        data[e["split"]].append({"name": os.path.splitext(os.path.basename(e["path"]))[0], "audio": x, "mel": mel,
                                 "text": e.get("text", "")})
    return data


def chunk_mel(mel):
    """(frames, 80) -> (n_chunks, FRAMES, 80), the last chunk padded by repeating the last frame.

    The utterances end in silence (log-mel about -9.7), so the pad is in-distribution; padding with digital
    silence (log 1e-5 = -11.5) instead would show the models something no training crop contains.
    """
    n = math.ceil(len(mel) / FRAMES)
    return np.pad(mel, ((0, n * FRAMES - len(mel)), (0, 0)), mode="edge").reshape(n, FRAMES, mel.shape[1])


def mel_crops(utts, batch, rng):
    """Endless batches (batch, FRAMES, 80) of random crops of the utterances' log-mels."""
    while True:
        out = []
        for i in rng.integers(0, len(utts), batch):
            m = utts[i]["mel"]
            if len(m) < FRAMES:
                m = chunk_mel(m)[0]
            s = int(rng.integers(0, len(m) - FRAMES + 1))
            out.append(m[s: s + FRAMES])
        yield np.stack(out)


def griffin_lim(mel, length):
    return np.asarray(log_mel_to_audio(tf.constant(mel), MEL, n_iter=32, length=length, seed=0))


def score(ref, est, ref_mel=None, est_mel=None):
    """Per-utterance metrics of est against ref (time,)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", metrics.MetricUnavailableWarning)
        s = {"mrstft": metrics.multi_resolution_stft_distance(ref, est)["total"], "snr": metrics.snr(ref, est),
             "pesq": metrics.pesq_wb(ref, est, SR), "stoi": metrics.stoi(ref, est, SR)}
    if ref_mel is not None:
        s["mel_l1"] = float(np.mean(np.abs(ref_mel - est_mel)))
        s["mel_mse"] = float(np.mean(np.square(ref_mel - est_mel)))
    return s


def mean_std(scores, key):
    """'mean ± std' over utterances; '(n/N scored)' appended when some utterances have no score."""
    vals = [s[key] for s in scores if s.get(key) is not None and math.isfinite(s[key])]
    if not vals:
        return "n/a"
    text = f"{np.mean(vals):.3f} ± {np.std(vals):.3f}"
    return text if len(vals) == len(scores) else text + f" ({len(vals)}/{len(scores)} scored)"


COLUMNS = ("model", "variant", "bitrate kbps", "log-mel L1", "MR-STFT", "SNR dB", "PESQ-WB", "STOI",
           "usage % held-out", "perplexity held-out", "held-out code vectors", "usage % train", "perplexity train")


def summary_row(model, variant, scores, **extra):
    """A table row (every column of COLUMNS, in order) of mean ± std scores plus ``extra`` columns."""
    row = dict.fromkeys(COLUMNS)
    row.update({"model": model, "variant": variant, "MR-STFT": mean_std(scores, "mrstft"),
                "SNR dB": mean_std(scores, "snr"), "PESQ-WB": mean_std(scores, "pesq"),
                "STOI": mean_std(scores, "stoi")})
    if scores and "mel_l1" in scores[0]:
        row["log-mel L1"] = mean_std(scores, "mel_l1")
    unknown = set(extra) - set(COLUMNS)
    if unknown:
        raise KeyError(f"unknown columns {sorted(unknown)}")
    row.update(extra)
    return row


def usage_pct(codes, k):
    return 100 * float(codebook_usage(np.asarray(codes).reshape(-1), k))


def perplexity(codes, k):
    return float(codebook_perplexity(np.asarray(codes).reshape(-1), k))


def uniform_usage_pct(n, k):
    """Expected usage % of n codes drawn uniformly from k."""
    return 100 * (1 - (1 - 1 / k) ** n)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=1.0, help="scale of every training time budget")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "latent_models_speech.md"))
    parser.add_argument("--manifest", default=os.path.join(ROOT, "data", "speech", "manifest.csv"))
    parser.add_argument("--wav-dir", default=os.path.join(ROOT, "runs", "latent_speech"))
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    t_start = time.time()
    data = load_speech(args.manifest)
    train, test = data["train"], data["test"]
    test_seconds = sum(len(u["audio"]) for u in test) / SR
    print(f"speech: {len(train)} train, {len(data['valid'])} valid, {len(test)} test utterances "
          f"({test_seconds:.1f} s held out); loaded in {time.time() - t_start:.0f} s", flush=True)
    os.makedirs(args.wav_dir, exist_ok=True)
    for u in test[:N_WAVS]:
        audio_io.save(os.path.join(args.wav_dir, f"{u['name']}_original.wav"), u["audio"], SR)

    def save_wavs(tag, outputs):
        for u, y in zip(test[:N_WAVS], outputs):
            audio_io.save(os.path.join(args.wav_dir, f"{u['name']}_{tag}.wav"), np.clip(y, -1, 1), SR)

    results, notes = [], []
    budget = lambda s: s * args.budget  # noqa: E731
    rng = np.random.default_rng(0)
    mel_spec = tf.TensorSpec((16, FRAMES, MEL.n_mels), tf.float32)

    def mel_dataset():
        return tf.data.Dataset.from_generator(lambda: mel_crops(train, 16, rng), output_signature=mel_spec)

    def eval_mel_model(recon_fn, tag=None):
        """Scores of a chunked mel reconstruction + Griffin-Lim on every test utterance."""
        scores, audios = [], []
        for u in test:
            chunks = chunk_mel(u["mel"])
            mel = np.asarray(recon_fn(chunks), np.float32).reshape(-1, MEL.n_mels)[: len(u["mel"])]
            y = griffin_lim(mel, len(u["audio"]))
            scores.append(score(u["audio"], y, u["mel"], mel))
            audios.append(y)
        if tag:
            save_wavs(tag, audios)
        return scores

    # ------------------------------------------------------------------ Griffin-Lim of the true mel
    t0 = time.time()
    gl_scores = eval_mel_model(lambda chunks: chunks, "griffinlim_true_mel")
    print(f"Griffin-Lim of the true mel scored in {time.time() - t0:.0f} s", flush=True)
    results.append(summary_row("mel models", "Griffin-Lim of true mel (bound)", gl_scores))

    # ------------------------------------------------------------------ VAE (mel)
    vae = ConvVAE.from_preset("vae_mel_notes")
    untrained_vae = untrained_copy(vae)
    trainer = VAETrainer(vae, beta=VAE_BETA, kl_warmup_steps=500, reconstruction="mse")
    trainer.compile(optimizer=keras.optimizers.Adam(1e-3))
    t0 = time.time()
    vbudget = time_budget(budget(180))
    vhist = trainer.fit(mel_dataset(), steps_per_epoch=10, epochs=100000, verbose=0, callbacks=[vbudget])
    vae_steps = int(trainer.optimizer.iterations.numpy())
    vae_time = time.time() - t0
    test_chunks = np.concatenate([chunk_mel(u["mel"]) for u in test])
    ev = trainer.evaluate(test_chunks, batch_size=32, verbose=0, return_dict=True)
    print(f"VAE: {vae_steps} steps in {vae_time:.0f} s; test chunks {ev}", flush=True)
    vae_scores = eval_mel_model(lambda c: vae(c)["reconstruction"], "vae")
    vae_mse = float(np.mean([s["mel_mse"] for s in vae_scores]))
    results.append(summary_row("VAE vae_mel_notes", f"trained ({vae_steps} steps)", vae_scores))
    results.append(summary_row("VAE vae_mel_notes", "untrained copy",
                               eval_mel_model(lambda c: untrained_vae(c)["reconstruction"])))
    notes.append(f"VAE: one global latent of {vae.latent_dim} dims per 64-frame (1.02 s) chunk, beta {VAE_BETA}, "
                 f"KL warm-up 500 steps, {vae_steps} Adam steps (lr 1e-3, batch 16 random crops) in {vae_time:.0f} s "
                 f"(of which {vbudget.compile_seconds:.0f} s graph tracing + first step); reconstruction MSE "
                 f"{vhist.history['reconstruction_loss'][-1]:.3f} on the last 10 training batches, "
                 f"{vae_mse:.3f} on the held-out utterances (stitched chunks, padding excluded; KL {ev['kl_loss']:.1f} "
                 f"nats per chunk on the {len(test_chunks)} held-out chunks).")
    print(notes[-1], flush=True)

    # ------------------------------------------------------------------ VQ-VAE (mel) + prior
    vq = VQVAE.from_preset("vqvae_mel")
    untrained_vq = untrained_copy(vq)
    vtrainer = VQVAETrainer(vq, reconstruction="mse")
    vtrainer.compile(optimizer=keras.optimizers.Adam(1e-3))
    t0 = time.time()
    qbudget = time_budget(budget(180))
    qhist = vtrainer.fit(mel_dataset(), steps_per_epoch=10, epochs=100000, verbose=0, callbacks=[qbudget])
    vq_steps = int(vtrainer.optimizer.iterations.numpy())
    vq_time = time.time() - t0
    k = vq.codebook_size

    def utterance_codes(model, utts):
        """Code sequence of each whole utterance (chunked; codes of the silence padding dropped)."""
        out = []
        for u in utts:
            c = np.asarray(model.encode(chunk_mel(u["mel"]))).reshape(-1)
            out.append(c[: math.ceil(len(u["mel"]) / vq.hop)])
        return out

    test_codes = utterance_codes(vq, test)
    train_codes = utterance_codes(vq, train)
    n_test_codes = sum(len(c) for c in test_codes)
    n_train_codes = sum(len(c) for c in train_codes)
    vq_usage = usage_pct(np.concatenate(test_codes), k)
    vq_perp = perplexity(np.concatenate(test_codes), k)
    vq_train_usage = usage_pct(np.concatenate(train_codes), k)
    vq_train_perp = perplexity(np.concatenate(train_codes), k)
    unt_codes = np.concatenate(utterance_codes(untrained_vq, test))
    print(f"VQ-VAE: {vq_steps} steps in {vq_time:.0f} s; held-out usage {vq_usage:.1f} % perplexity {vq_perp:.1f}; "
          f"train usage {vq_train_usage:.1f} %", flush=True)
    vq_scores = eval_mel_model(lambda c: vq(c)["reconstruction"], "vqvae")
    vq_mse = float(np.mean([s["mel_mse"] for s in vq_scores]))
    results.append(summary_row("VQ-VAE vqvae_mel", f"trained ({vq_steps} steps)", vq_scores,
                               **{"usage % held-out": vq_usage, "perplexity held-out": vq_perp,
                                  "held-out code vectors": n_test_codes, "usage % train": vq_train_usage,
                                  "perplexity train": vq_train_perp}))
    results.append(summary_row("VQ-VAE vqvae_mel", "untrained copy",
                               eval_mel_model(lambda c: untrained_vq(c)["reconstruction"]),
                               **{"usage % held-out": usage_pct(unt_codes, k),
                                  "perplexity held-out": perplexity(unt_codes, k),
                                  "held-out code vectors": n_test_codes}))
    notes.append(f"VQ-VAE: {k} codes of size {vq.embedding_dim}, hop {vq.hop} frames ({SR / MEL.hop_length / vq.hop:.1f} "
                 f"codes/s, {np.log2(k):.0f} bits each = {SR / MEL.hop_length / vq.hop * np.log2(k) / 1000:.3f} kbps), "
                 "EMA codebook (decay 0.99, commitment 0.25, initialised from the first batch, dead-code restarts), "
                 f"{vq_steps} Adam steps (lr 1e-3, batch 16 random crops) in {vq_time:.0f} s (of which "
                 f"{qbudget.compile_seconds:.0f} s graph tracing + first step); reconstruction MSE "
                 f"{qhist.history['reconstruction_loss'][-1]:.3f} on the last 10 training batches, "
                 f"{vq_mse:.3f} on the held-out utterances (stitched, padding excluded). Codebook usage (% of the {k} codes "
                 f"used at least once): {vq_usage:.1f} % on the {n_test_codes} held-out code vectors (a uniform draw of "
                 f"{n_test_codes} codes would use {uniform_usage_pct(n_test_codes, k):.1f} % in expectation), "
                 f"{vq_train_usage:.1f} % on the {n_train_codes} training code vectors; perplexity {vq_perp:.1f} "
                 f"(held-out) / {vq_train_perp:.1f} (train) of {k}. The untrained copy's codebook is its random "
                 "initialisation (the data initialisation happens on the first training batch), hence its low usage.")
    print(notes[-1], flush=True)

    def windows(seqs, stride=PRIOR_WINDOW):
        w = [s[i: i + PRIOR_WINDOW] for s in seqs for i in range(0, len(s) - PRIOR_WINDOW + 1, stride)]
        return np.stack(w).astype(np.int32)

    # the training windows overlap (stride 8) and the valid split selects the epoch: without both, the LSTM
    # memorised the ~370 training windows within the minute (NLL 0.29 train / 8.2 held-out, worse than uniform)
    train_win, test_win = windows(train_codes), windows(test_codes)
    valid_win = windows(utterance_codes(vq, data["valid"]))
    prior = CodePrior.from_preset("prior_vqvae_mel", units=128, num_layers=1)
    px, py = teacher_forcing_pair(windows(train_codes, PRIOR_TRAIN_STRIDE), k)
    vx, vy = teacher_forcing_pair(valid_win, k)
    prior.compile(optimizer=keras.optimizers.Adam(2e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    t0 = time.time()
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    phist = prior.fit(np.asarray(px), np.asarray(py), batch_size=32, epochs=1000, verbose=0,
                      validation_data=(np.asarray(vx), np.asarray(vy)),
                      callbacks=[time_budget(budget(60)), stopper])
    prior_time = time.time() - t0
    prior_epochs = len(phist.history["loss"])
    best_epoch = int(np.argmin(phist.history["val_loss"])) + 1
    nll_test = float(prior.negative_log_likelihood(test_win))
    nll_train = float(prior.negative_log_likelihood(train_win))
    nll_valid = float(prior.negative_log_likelihood(valid_win))
    unigram = np.bincount(np.concatenate(train_codes), minlength=k) + 1.0
    nll_unigram = float(-np.mean(np.log(unigram / unigram.sum())[test_win.reshape(-1)]))
    sampled = prior.generate(64, batch_size=2, temperature=1.0, seed=0)
    sampled_mel = np.asarray(vq.decode(sampled))
    if np.all(np.isfinite(sampled_mel)):
        for i, m in enumerate(sampled_mel):
            audio_io.save(os.path.join(args.wav_dir, f"prior_sample{i}.wav"),
                          np.clip(griffin_lim(m, len(m) * MEL.hop_length), -1, 1), SR)
    notes.append(f"Code prior (1-layer LSTM, 128 units) on the {len(px)} overlapping (stride {PRIOR_TRAIN_STRIDE}) "
                 f"training windows of {PRIOR_WINDOW} codes ({PRIOR_WINDOW * vq.hop * MEL.hop_length / SR:.2f} s), "
                 f"{prior_epochs} epochs in {prior_time:.0f} s, weights of the epoch with the lowest NLL on the "
                 f"{len(valid_win)} windows of the `valid` split (epoch {best_epoch}): NLL {nll_train:.2f} (train, "
                 f"{len(train_win)} disjoint windows) / {nll_valid:.2f} (valid) / {nll_test:.2f} (the "
                 f"{len(test_win)} held-out windows) nats per code vs "
                 f"{np.log(k):.2f} for a uniform prior and {nll_unigram:.2f} for the training unigram (add-one) on the "
                 f"held-out windows. 2 sampled sequences of 64 codes (4 s) decode to finite mels: "
                 f"{bool(np.all(np.isfinite(sampled_mel)))} (mean log-mel {sampled_mel.mean():.2f}, held-out "
                 f"{np.mean([u['mel'].mean() for u in test]):.2f}); saved as prior_sample*.wav (Griffin-Lim). A first run "
                 "trained on disjoint windows for the whole minute without validation memorised them: NLL 0.29 "
                 "(train) / 8.21 (held-out), worse than uniform.")
    print(notes[-1], flush=True)

    # ------------------------------------------------------------------ codec (waveform, RVQ)
    codec = AudioCodec.from_preset("codec_16khz_small")
    untrained_codec = untrained_copy(codec)
    ctrainer = VQVAETrainer(codec, reconstruction="waveform", l1_weight=CODEC_L1_WEIGHT)
    ctrainer.compile(optimizer=keras.optimizers.Adam(CODEC_LR, clipnorm=1.0))
    hop = codec.hop_length
    seg = 8000 // hop * hop
    long_train = [u["audio"] for u in train if len(u["audio"]) > seg]

    def crops():
        while True:
            idx = rng.integers(0, len(long_train), 8)
            yield np.stack([long_train[i][s: s + seg] for i in idx
                            for s in [int(rng.integers(0, len(long_train[i]) - seg + 1))]])[..., None]

    ds = tf.data.Dataset.from_generator(crops, output_signature=tf.TensorSpec((8, seg, 1), tf.float32))
    t0 = time.time()
    cbudget = time_budget(budget(360))
    ctrainer.fit(ds, steps_per_epoch=10, epochs=100000, verbose=0, callbacks=[cbudget])
    codec_steps = int(ctrainer.optimizer.iterations.numpy())
    codec_time = time.time() - t0
    print(f"codec: {codec_steps} steps in {codec_time:.0f} s", flush=True)

    def padded(x):
        n = math.ceil(len(x) / hop) * hop
        return np.pad(x, (0, n - len(x)))[None, :, None]

    def codec_eval(model, n_q, tag=None):
        scores, audios, codes = [], [], []
        for u in test:
            c = model.encode(padded(u["audio"]), num_quantizers=n_q)
            y = np.asarray(model.decode(c))[0, : len(u["audio"]), 0]
            scores.append(score(u["audio"], y))
            audios.append(y)
            codes.append(np.asarray(c)[0])
        if tag:
            save_wavs(tag, audios)
        return scores, np.concatenate(codes)

    t0 = time.time()
    train_codec_codes = np.concatenate([np.asarray(codec.encode(padded(u["audio"])))[0] for u in train])
    n_test_frames = None
    for label, model in ((f"trained ({codec_steps} steps)", codec), ("untrained copy", untrained_codec)):
        trained = model is codec
        for n_q in (range(1, codec.num_quantizers + 1) if trained else (1, codec.num_quantizers)):
            tag = f"codec_{model.bitrate_kbps(n_q):g}kbps" if trained and n_q in (1, codec.num_quantizers) else None
            scores, codes = codec_eval(model, n_q, tag)
            n_test_frames = len(codes)
            stage = codes[:, n_q - 1]
            extra = {"bitrate kbps": model.bitrate_kbps(n_q), "usage % held-out": usage_pct(stage, model.codebook_size),
                     "perplexity held-out": perplexity(stage, model.codebook_size),
                     "held-out code vectors": len(stage)}
            if trained:
                extra["usage % train"] = usage_pct(train_codec_codes[:, n_q - 1], model.codebook_size)
                extra["perplexity train"] = perplexity(train_codec_codes[:, n_q - 1], model.codebook_size)
            results.append(summary_row("codec codec_16khz_small", f"{label}, {n_q} RVQ stages", scores, **extra))
    # the decoder on the unquantized latent: what the trained encoder / decoder can do without the bottleneck
    scores = []
    for u in test:
        y = np.asarray(codec.get_layer("decoder")(codec.get_layer("encoder")(padded(u["audio"]))))[0, : len(u["audio"]), 0]
        scores.append(score(u["audio"], y))
    results.append(summary_row("codec codec_16khz_small", "trained, unquantized latent (no bottleneck)", scores))
    noise_rng = np.random.default_rng(0)
    for label, fn in (("silence baseline", np.zeros_like),
                      ("white noise at each utterance's RMS",
                       lambda x: (noise_rng.normal(size=x.shape) * x.std()).astype(np.float32))):
        results.append(summary_row("codec codec_16khz_small", label, [score(u["audio"], fn(u["audio"])) for u in test]))
    print(f"codec scored in {time.time() - t0:.0f} s", flush=True)
    notes.append(f"Codec: hop {hop} ({codec.frame_rate:.0f} frames/s), {codec.num_quantizers} x {codec.codebook_size} "
                 f"codes = {codec.bitrate_kbps():.1f} kbps; loss MR-STFT (SC + log-mag) + {CODEC_L1_WEIGHT:g} x L1 "
                 f"waveform, {codec_steps} Adam steps (lr {CODEC_LR:g}, clipnorm 1, batch 8 random crops of {seg} "
                 f"samples) in {codec_time:.0f} s (of which {cbudget.compile_seconds:.0f} s graph tracing + first "
                 f"step); no adversarial loss. Quantizer dropout {codec.quantizer_dropout:g} (SoundStream). Fewer RVQ "
                 "stages decode the same model with the first n codebooks only. The usage / perplexity columns of a "
                 "codec row are those of its n-th (last added) stage's codebook: on the "
                 f"{n_test_frames} held-out frames (a uniform draw of {n_test_frames} codes would use "
                 f"{uniform_usage_pct(n_test_frames, codec.codebook_size):.1f} % of {codec.codebook_size} in "
                 f"expectation, so 100 % is out of reach) and on the {len(train_codec_codes)} frames of the "
                 f"{len(train)} training utterances.")
    print(notes[-1], flush=True)

    total = time.time() - t_start
    issue_target = [("VQ-VAE", vq_usage)] + [
        (f"codec stage {r['variant'].split(', ')[1].split()[0]}", r["usage % held-out"]) for r in results
        if r["variant"].startswith("trained (") and r["model"].startswith("codec")]
    notes += [
        f"Held-out = the `test` split of `data/speech/manifest.csv` ({len(test)} whole festival utterances, voice "
        f"slt, {test_seconds:.1f} s in all), resampled 22050 -> 16000 Hz; trained on the {len(train)} `train` "
        "utterances. Log-mel: 80 bands, n_fft 1024, hop 256, natural log (floor 1e-5), as in the notes benchmark. "
        "Each cell is mean ± std over the held-out utterances. MR-STFT distance = `audiogen_tf.metrics."
        "multi_resolution_stft_distance` (total, lower is better), SNR = `metrics.snr`, PESQ-WB = `metrics.pesq_wb` "
        "(P.862.2, 1-4.6), STOI = `metrics.stoi` (pystoi, 0-1); the silence baseline has no PESQ (all-zero signal).",
        "Mel models are judged through Griffin-Lim (32 iterations, fixed seed): the whole utterance's log-mel is cut "
        "into consecutive 64-frame chunks (the last padded by repeating the utterance's last frame, silence), each chunk is "
        "reconstructed, the chunks are stitched and trimmed, and the log-mel L1 is against the true log-mel of the "
        "utterance. The SNR of Griffin-Lim audio is near or below 0 dB for any mel (the phase is re-estimated), so "
        "the MR-STFT, PESQ, STOI and log-mel L1 columns are the meaningful ones there, and 'Griffin-Lim of true mel' "
        "is the best any mel model can reach through this vocoder.",
        "Untrained copies have the same initial weights as the trained models; for the codec, 'unquantized latent' "
        "decodes the trained encoder's output without the RVQ bottleneck. The untrained codec's codebooks are random "
        "(not yet initialised from data), so its usage columns say nothing about quality.",
        "Codebook usage after training against the issue's 80 % target (held-out): "
        + ", ".join(f"{n} {u:.1f} %" for n, u in issue_target)
        + f"; see the VQ-VAE and codec notes for the number of held-out code vectors behind each figure.",
        f"WAVs of the first {N_WAVS} held-out utterances (original, Griffin-Lim of the true mel, VAE, VQ-VAE, codec "
        "at the lowest and highest bitrate) and 2 prior samples are in `runs/latent_speech/` (not in the repo).",
        f"Whole script: {total / 60:.1f} min on a shared 2-core CPU (another training job running).",
    ]
    command = ("TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 OMP_NUM_THREADS=1 nice -n 5 "
               "python benchmarks/latent_models_speech.py" + (f" --budget {args.budget}" if args.budget != 1.0 else ""))
    text = write_markdown_table(args.out, results, "Latent-variable generators: held-out quality on 16 kHz speech",
                                command, notes=notes)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
