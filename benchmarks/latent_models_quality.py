"""Held-out reconstruction quality of the latent-variable generators on the built-in 16 kHz notes.

Trains briefly (a time budget per model, CPU) a mel VAE, a mel VQ-VAE (+ its LSTM code prior) and a residual-VQ
waveform codec, then reports on the held-out ``test`` split:

- mel models: log-mel L1, and MR-STFT distance / SNR of the Griffin-Lim audio against the original note, next to
  Griffin-Lim of the true mel (the vocoder bound) and an untrained copy of the model;
- codebook usage (% of codes used on the test set and on 350 fresh renditions of the notes) and perplexity; the
  prior's NLL per code against uniform;
- the class distribution of decoded prior samples by a timbre classifier trained on the real clips, against the
  data's and against uniformly random codes;
- the codec: MR-STFT distance and SNR at its bitrate (and with fewer RVQ stages), against an untrained copy;
- latent interpolation between two notes of different pitch with the F0 (pYIN) along the path, for the
  unconditional VAE and a timbre-conditional one.

Usage:
    python benchmarks/latent_models_quality.py [--budget 1.0] [--out benchmarks/results/latent_models_quality.md]

``--budget`` scales every training time budget (1.0: about 2.5 + 2.5 + 0.75 + 5.5 + 2.5 minutes of training, graph
tracing not counted).
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
from audiogen_tf import judge  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_utils.py sits beside this script
from bench_utils import markdown_table, write_markdown_table  # noqa: E402
from audiogen_tf.datasets.notes import make_notes  # noqa: E402
from audiogen_tf.features import MelConfig, log_mel_to_audio  # noqa: E402
from audiogen_tf.layers.quantizers import codebook_perplexity, codebook_usage  # noqa: E402
from audiogen_tf.manifest import read_manifest  # noqa: E402
from training.vae_trainer import VAETrainer, VQVAETrainer  # noqa: E402
from zoo.encoders.encoders_training import compile_classifier, labelled_dataset  # noqa: E402
from zoo.encoders.encoders_mel_cnn import MelCNNEncoder  # noqa: E402
from zoo.vae import ConvVAE  # noqa: E402
from zoo.vqvae import VQVAE, AudioCodec, CodePrior, teacher_forcing_pair  # noqa: E402
from training.callbacks import TimeBudget  # noqa: E402

SR = 16000
CLIP = 16384  # 64 mel frames at hop 256
MEL = MelConfig(sample_rate=SR, n_fft=1024, hop_length=256, win_length=1024, n_mels=80, fmin=0.0, fmax=8000.0)
FRAMES = CLIP // MEL.hop_length
VAE_BETA = 0.01
CVAE_BETA = 0.05  # the timbre-conditional VAE: a stronger KL keeps its 8-d latent smooth enough to glide in pitch
CODEC_L1_WEIGHT = 10.0  # with 1.0 the codec ignored the waveform (SNR ~0 dB); 30 was less stable
CODEC_LR = 5e-4  # with 1e-3 and no clipping one run collapsed (decoder output independent of its input)


def time_budget(seconds):
    """The wall-clock budget of these runs; graph tracing (the first batch, ``compile_seconds``) is not charged."""
    return TimeBudget(seconds, exclude_first_batch=True)


def untrained_copy(model):
    """A model of the same config holding ``model``'s current (initial) weights: the untrained baseline."""
    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


def load_notes(root, seed=0):
    manifest = make_notes(root, sample_rate=SR, progress=False, seed=seed)
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


def timbre_ids(rows, timbres):
    """Class ids (n,) int32 of manifest rows by their ``timbre`` column."""
    return np.array([timbres.index(r["timbre"]) for r in rows], np.int32)


def train_timbre_classifier(train, test, timbres, epochs=40, seed=0):
    """A ``mel_cnn_tiny`` timbre classifier trained on the real training notes -> (encoder, held-out accuracy).

    The judge of the prior's samples: it only ever sees real clips in training.
    """
    keras.utils.set_random_seed(seed)
    enc = MelCNNEncoder.from_preset("mel_cnn_tiny", num_classes=len(timbres), num_samples=SR)
    compile_classifier(enc, 1e-3)
    augment = {"freq_mask_param": 16, "time_mask_param": 8}  # as in benchmarks/encoder_accuracy_fad.py
    ids = timbre_ids(train["rows"], timbres)
    enc.fit(labelled_dataset(train["audio"][:, :SR], ids, 32, augment=augment, seed=seed), epochs=epochs,
            shuffle=False, verbose=0)
    return enc, judge.accuracy(enc.classify(test["audio"][:, :SR]), timbre_ids(test["rows"], timbres))


def class_shares(classifier, audio, num_classes):
    """Share of clips (n, time) the classifier assigns to each class, and its mean top probability."""
    probs = keras.ops.convert_to_numpy(keras.ops.softmax(classifier.classify(audio[:, :SR]), axis=-1))
    counts = np.bincount(np.argmax(probs, -1), minlength=num_classes)
    return counts / counts.sum(), float(np.mean(np.max(probs, -1)))


def total_variation(p, q):
    """Total variation distance between two discrete distributions (0: equal, 1: disjoint)."""
    return 0.5 * float(np.sum(np.abs(np.asarray(p) - np.asarray(q))))


def expected_sampling_tv(p, n, trials=2000, seed=0):
    """Mean total variation between ``p`` and the empirical shares of ``n`` draws from ``p`` (the noise floor)."""
    rng = np.random.default_rng(seed)
    return float(np.mean([total_variation(p, rng.multinomial(n, p) / n) for _ in range(trials)]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=1.0, help="scale of every training time budget")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "results", "latent_models_quality.md"))
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
    untrained_vae = untrained_copy(vae)
    trainer = VAETrainer(vae, beta=VAE_BETA, kl_warmup_steps=500, reconstruction="mse")
    trainer.compile(optimizer=keras.optimizers.Adam(1e-3))
    t0 = time.time()
    hist = trainer.fit(train["mel"], batch_size=16, epochs=1000, verbose=0, callbacks=[time_budget(budget(150))])
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
    untrained_vq = untrained_copy(vq)
    vtrainer = VQVAETrainer(vq, reconstruction="mse")
    vtrainer.compile(optimizer=keras.optimizers.Adam(1e-3))
    t0 = time.time()
    vtrainer.fit(train["mel"], batch_size=16, epochs=1000, verbose=0, callbacks=[time_budget(budget(150))])
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
              callbacks=[time_budget(budget(45))])
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

    # codebook usage on fresh renditions: the same note generator with another seed (new detune, jitter, noise),
    # 350 clips never seen in training, enough code vectors to show the usage the 37 test clips cannot.
    fresh = load_notes(args.data + "_seed1", seed=1)
    fresh_mel = np.concatenate([fresh[k]["mel"] for k in ("train", "valid", "test")])
    fresh_codes = np.asarray(vq.encode(fresh_mel))
    fresh_usage = float(codebook_usage(fresh_codes, vq.codebook_size)) * 100
    fresh_perp = float(codebook_perplexity(fresh_codes, vq.codebook_size))
    results.append({"model": "VQ-VAE vqvae_mel", "variant": f"trained, {len(fresh_mel)} fresh renditions (seed 1)",
                    "log-mel L1": float(np.mean(np.abs(np.asarray(vq(fresh_mel)["reconstruction"]) - fresh_mel))),
                    "codebook usage %": fresh_usage, "perplexity": fresh_perp})
    notes.append(f"Fresh renditions: `make_notes(seed=1)` renders every (pitch, timbre) again with new random detune, "
                 f"jitter and noise ({len(fresh_mel)} clips, {fresh_codes.size} code vectors, none seen in training): "
                 f"usage {fresh_usage:.1f} %, perplexity {fresh_perp:.1f}.")
    print(notes[-1], flush=True)

    # prior samples judged by a timbre classifier trained on the real training clips
    timbres = sorted({r["timbre"] for r in train["rows"]})
    classifier, clf_acc = train_timbre_classifier(train, test, timbres)
    test_labels = timbre_ids(test["rows"], timbres)
    clf_acc_gl = judge.accuracy(classifier.classify(gl_true[:, :SR]), test_labels)
    num_samples = 140
    prior_codes = prior.generate(test_codes.shape[1], batch_size=num_samples, temperature=1.0, seed=1)
    prior_audio = griffin_lim(np.asarray(vq.decode(prior_codes)))
    random_codes = np.random.default_rng(1).integers(0, vq.codebook_size, (num_samples, test_codes.shape[1]))
    random_audio = griffin_lim(np.asarray(vq.decode(random_codes.astype(np.int32))))
    data_share = np.bincount(timbre_ids(train["rows"], timbres), minlength=len(timbres))
    data_share = data_share / data_share.sum()
    judged = {"held-out real clips, Griffin-Lim of their true mel": class_shares(classifier, gl_true, len(timbres)),
              f"{num_samples} prior samples (LSTM prior -> VQ-VAE decoder -> Griffin-Lim)":
                  class_shares(classifier, prior_audio, len(timbres)),
              f"{num_samples} uniformly random code sequences (no prior)": class_shares(classifier, random_audio,
                                                                                    len(timbres))}
    class_rows = [{"source": "training data (labels)", **{t: float(v) for t, v in zip(timbres, data_share)},
                   "TV distance to data": 0.0, "mean top probability": None}]
    for label, (share, conf) in judged.items():
        class_rows.append({"source": label, **{t: float(v) for t, v in zip(timbres, share)},
                           "TV distance to data": total_variation(share, data_share), "mean top probability": conf})
    noise_tv = expected_sampling_tv(data_share, num_samples)
    prior_tv = class_rows[2]["TV distance to data"]
    class_note = (f"Prior samples by class: a `mel_cnn_tiny` timbre classifier trained on the {len(train['rows'])} real "
                  f"training clips only (held-out accuracy {clf_acc:.2f} on real audio, {clf_acc_gl:.2f} on their Griffin-Lim "
                  f"resynthesis, chance {1 / len(timbres):.2f}) "
                  f"labels {num_samples} decoded prior samples (temperature 1). Share of each class; total variation "
                  f"(TV) distance to the training data's class distribution. {num_samples} draws from the data's own "
                  f"distribution would be {noise_tv:.3f} away on average (sampling noise), so the prior's "
                  f"{prior_tv:.3f} is {'within' if prior_tv <= 2 * noise_tv else 'beyond'} twice that noise floor.")
    print(class_note, flush=True)

    # ------------------------------------------------------------------ codec (waveform, RVQ)
    codec = AudioCodec.from_preset("codec_16khz_small")
    untrained_codec = untrained_copy(codec)
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
    cbudget = time_budget(budget(330))
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
    # codebook usage of each RVQ stage on the fresh renditions (enough frames to fill 1024-code books)
    fresh_audio = np.concatenate([fresh[k]["audio"] for k in ("train", "valid", "test")])[:, :n]
    fresh_codes_codec = np.concatenate([np.asarray(codec.encode(fresh_audio[i: i + 50, :, None]))
                                        for i in range(0, len(fresh_audio), 50)])
    stage_usage = [100 * float(codebook_usage(fresh_codes_codec[..., i], codec.codebook_size))
                   for i in range(codec.num_quantizers)]
    stage_perp = [float(codebook_perplexity(fresh_codes_codec[..., i], codec.codebook_size))
                  for i in range(codec.num_quantizers)]
    results.append({"model": "codec codec_16khz_small",
                    "variant": f"trained, {len(fresh_audio)} fresh renditions (seed 1), mean over stages",
                    "codebook usage %": float(np.mean(stage_usage)), "perplexity": float(np.mean(stage_perp)),
                    "bitrate kbps": codec.bitrate_kbps()})
    notes.append(f"Codec codebook usage per RVQ stage on the fresh renditions ({fresh_codes_codec.shape[0] * fresh_codes_codec.shape[1]} "
                 f"frames): " + ", ".join(f"{u:.1f} %" for u in stage_usage) + "; perplexity "
                 + ", ".join(f"{p_:.0f}" for p_ in stage_perp) + f" of {codec.codebook_size}.")
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
    # the timbre-conditional VAE: the label carries the timbre, so the 8-d latent is left with pitch and loudness
    train_ids, test_ids = timbre_ids(train["rows"], timbres), timbre_ids(test["rows"], timbres)
    cvae = ConvVAE.from_preset("vae_mel_notes_timbre", num_classes=len(timbres))
    ctrainer_vae = VAETrainer(cvae, beta=CVAE_BETA, kl_warmup_steps=500, reconstruction="mse")
    ctrainer_vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    t0 = time.time()
    ctrainer_vae.fit(train["mel"], train_ids, batch_size=16, epochs=1000, verbose=0,
                     callbacks=[time_budget(budget(150))])
    cvae_steps = int(ctrainer_vae.optimizer.iterations.numpy())
    cev = ctrainer_vae.evaluate(test["mel"], test_ids, batch_size=32, verbose=0, return_dict=True)
    cvae_rec = np.asarray(cvae([test["mel"], test_ids])["reconstruction"])
    results += mel_rows("VAE vae_mel_notes_timbre", [(f"trained ({cvae_steps} steps), timbre label given", cvae_rec)],
                        test, gl_true)
    notes.append(f"Timbre-conditional VAE (`vae_mel_notes_timbre`, 8-d latent, beta {CVAE_BETA}): {cvae_steps} steps "
                 f"in {time.time() - t0:.0f} s; test reconstruction MSE {cev['reconstruction_loss']:.3f}, KL "
                 f"{cev['kl_loss']:.1f} nats. It trades reconstruction for a latent that orders pitch (below).")
    print(notes[-1], flush=True)

    rows = data["valid"]["rows"] + test["rows"] + train["rows"]
    mels = np.concatenate([data["valid"]["mel"], test["mel"], train["mel"]])
    audios = np.concatenate([data["valid"]["audio"], test["audio"], train["audio"]])

    def find(timbre, pitch):
        return next(i for i, r in enumerate(rows) if r["timbre"] == timbre and int(r["pitch"]) == pitch)

    def median_f0(x):
        hz, voiced = metrics.f0(x[:SR], SR, fmin=80.0, fmax=800.0)
        return (float(np.nanmedian(hz)) if voiced.any() else float("nan")), 100 * float(voiced.mean())

    paths = [("unconditional VAE, flute 55 -> 67", vae, None, "flute", 55, 67),
             ("timbre VAE, flute 55 -> 67", cvae, timbres.index("flute"), "flute", 55, 67),
             ("timbre VAE, organ 52 -> 64", cvae, timbres.index("organ"), "organ", 52, 64)]
    interp, path_notes = [], []
    for name, model, label, timbre, p_a, p_b in paths:
        a, b = find(timbre, p_a), find(timbre, p_b)
        f_a, f_b = median_f0(audios[a])[0], median_f0(audios[b])[0]
        _, path = model.interpolate(mels[a], mels[b], steps=7, label=label)
        f0s = []
        for k, x in enumerate(griffin_lim(np.asarray(path))):
            t = k / 6
            med, voiced = median_f0(x)
            glide = float(f_a ** (1 - t) * f_b**t)  # a glide linear in log-frequency
            f0s.append(med)
            interp.append({"path": name, "step": k, "t": t, "median F0 Hz": med, "glide target Hz": glide,
                           "error semitones": 12 * np.log2(med / glide) if np.isfinite(med) else None,
                           "voiced %": voiced})
        inner = f0s[1:-1]
        n_between = sum(1 for f in inner if np.isfinite(f) and min(f_a, f_b) * 2 ** (1 / 12) < f < max(f_a, f_b) / 2 ** (1 / 12))
        rising = bool(np.all(np.isfinite(f0s)) and np.all(np.diff(f0s) > 0))
        path_notes.append(f"{name} (end F0s {f_a:.1f} / {f_b:.1f} Hz): {n_between} of {len(inner)} inner points "
                          f"strictly between, F0 {'rises at every step' if rising else 'does not rise at every step'}")
    interp_note = ("Interpolation between two notes of the same timbre 12 semitones apart in the VAE latent space "
                   "(posterior means, 7 points), decoded mel -> Griffin-Lim -> pYIN (median over voiced frames). "
                   "'glide target' is the F0 a glide linear in log-frequency would have; an inner point counts as "
                   "between when it is more than a semitone from both ends. " + "; ".join(path_notes) + ".")
    print(interp_note, flush=True)

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
        "",
        class_note,
        "",
        markdown_table(class_rows).rstrip("\n"),
    ]
    command = "python benchmarks/latent_models_quality.py" + (f" --budget {args.budget}" if args.budget != 1.0 else "")
    text = write_markdown_table(args.out, results, "Latent-variable generators: held-out quality on 16 kHz notes",
                                command, notes=notes)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
