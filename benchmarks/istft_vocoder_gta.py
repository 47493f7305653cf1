"""Fine-tune the iSTFT vocoder on Tacotron 2's ground-truth-aligned (GTA) mels, then compare it behind Tacotron 2.

The shipped vocoder learned from mels of real audio; Tacotron 2's predicted mels are smoother, and on them it does
slightly worse than Griffin-Lim. Shen et al. (2018, Sec. 3.2) fine-tune the vocoder on GTA mels: Tacotron 2 run
teacher-forced on the training utterances, its predictions paired with the real audio.

1. GTA mels: every ``train`` utterance of ``--data`` goes through the Tacotron 2 of ``--tacotron2`` teacher-forced
   with ``training=False``, so pre-net dropout is OFF (``Tacotron2Decoder.call`` drops out only when training),
   the same as ``Tacotron2.synthesize(prenet_dropout=False)``, which the evaluation below uses: the vocoder learns
   the mels it will be given. Post-net dropout is off and batch norm uses its moving statistics. Each utterance runs
   alone (batch 1: no padding can leak into the post-net convolutions). The post-net mel is cut to the real mel's
   frame count (``1 + samples // hop`` with ``center=True``) and checked to have exactly that many frames; all of
   them are cached in ``OUT/gta_mels.npz`` (atomic) with the sha256 of the Tacotron 2 file and recomputed when it
   or the utterance list changes.
2. Data: random crops of ``--segment-frames`` F GTA frames starting at frame f, with the real samples
   ``[f * hop, (f + F) * hop)``: the convention of :func:`audiogen_tf.data.segment_dataset` (frame i centred on
   sample i * hop), f drawn so the samples stay inside the recording. Batches ``{"audio": (B, F * hop),
   "mel": (B, F, n_mels)}``: the vocoder mode of ``GANTrainer`` feeds ``mel`` to the generator and computes every
   loss (mel L1 from the mel of the generated and of the REAL audio, MR-STFT, weighted phase) against ``audio``,
   never against the GTA mel.
3. Fine-tuning: ``GANTrainer`` with the discriminator off and the ``weighted_phase`` loss set of
   ``istft_vocoder_speech.py``, AdamW (betas 0.8 / 0.99), constant or time-cosine learning rate, for a ``--minutes``
   budget over sessions (rerunning the same command resumes), final generator ``OUT/<name>.keras``.
4. Evaluation on the held-out sentences (first ``--eval-count`` of the test then valid split, as
   ``tacotron2_speech.py``): Tacotron 2 free-running mels (``prenet_dropout=False``) through the vocoder before and
   after fine-tuning and through Griffin-Lim (32 iterations), corpus WER by pocketsphinx; and the MR-STFT distance
   to the recordings of the vocoded GTA mels (and recorded mels) before / after. Writes ``--report``.

Usage:
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/istft_vocoder_gta.py \
        --tacotron2 benchmarks/out/tacotron2_speech/checkpoint/model.keras --minutes 30
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/istft_vocoder_gta.py --tacotron2 ... --evaluate

Papers: Shen et al. 2018 (Tacotron 2, GTA fine-tuning of the vocoder); Siuzdak 2023 (Vocos);
Yamamoto et al. 2020 (MR-STFT).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # istft_vocoder_speech, vocoder_speech_quality, ...

from istft_vocoder_speech import LOSS_SETS, time_cosine_callback  # noqa: E402

LOSSES = "weighted_phase"
CACHE_NAME = "gta_mels.npz"


# ------------------------------------------------------------------------------------------- GTA mels
def teacher_forcing_fn(tacotron):
    """``fn(ids (1, text), lengths (1,), mel (1, frames, n_mels)) -> post-net mel``, inference mode, one trace."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((1, None), tf.int32), tf.TensorSpec((1,), tf.int32),
                                  tf.TensorSpec((1, None, tacotron.n_mels), tf.float32)])
    def fn(ids, lengths, mel):
        return tacotron({"text_ids": ids, "text_lengths": lengths, "mel": mel}, training=False)["mel_after"]

    return fn


def gta_mel(fn, tacotron, text, audio, path):
    """(GTA mel (frames, n_mels), real mel) of one utterance; the frame counts must agree."""
    import tensorflow as tf

    cfg = tacotron.mel_config
    real = np.asarray(cfg.log_mel(tf.constant(audio)), np.float32)
    frames = cfg.num_frames(len(audio))
    assert real.shape[0] == frames, f"{path}: log_mel gave {real.shape[0]} frames, expected {frames}"
    ids, lengths = tacotron.encode_text(text)
    gta = np.asarray(fn(ids, lengths, real[None]))[0][:frames]
    assert gta.shape == real.shape, (f"{path}: teacher-forced mel has {gta.shape[0]} frames, the real mel of its "
                                     f"{len(audio)} samples {frames}")
    return gta, real


def load_audio(entries, sample_rate):
    from audiogen_tf import audio as audio_io

    return [audio_io.load(e["path"], sr=sample_rate)[0].astype(np.float32) for e in entries]


def gta_mels(tacotron, tacotron_sha, entries, audios, cache_path):
    """GTA mels of ``entries`` (list of (frames, n_mels)), from ``cache_path`` when it matches; and whether computed.

    The cache holds the sha256 of the Tacotron 2 file and the utterance paths; either differing recomputes it.
    Every mel's frame count is checked against its audio (``MelConfig.num_frames``), cached or not.
    """
    from audiogen_tf.atomic import atomic_path

    cfg = tacotron.mel_config
    paths = [os.path.abspath(e["path"]) for e in entries]
    mels, computed = None, False
    if os.path.exists(cache_path):
        with np.load(cache_path, allow_pickle=False) as z:
            if str(z["tacotron2_sha256"]) == tacotron_sha and list(z["paths"]) == paths:
                mels = np.split(z["mels"], np.cumsum(z["frames"])[:-1])
                print(f"GTA mels of {len(mels)} utterances from {cache_path}", flush=True)
            else:
                print(f"{cache_path} is of another Tacotron 2 or utterance list: recomputing", flush=True)
    if mels is None:
        fn = teacher_forcing_fn(tacotron)
        start, mels = time.perf_counter(), []
        for i, (e, x) in enumerate(zip(entries, audios)):
            mels.append(gta_mel(fn, tacotron, e["text"], x, e["path"])[0])
            if (i + 1) % 50 == 0:
                print(f"  GTA {i + 1}/{len(entries)} ({time.perf_counter() - start:.0f} s)", flush=True)
        with atomic_path(cache_path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, tacotron2_sha256=np.array(tacotron_sha), paths=np.array(paths),
                     frames=np.array([len(m) for m in mels], np.int64), mels=np.concatenate(mels, 0))
        computed = True
        print(f"GTA mels of {len(mels)} utterances in {time.perf_counter() - start:.0f} s -> {cache_path}", flush=True)
    for path, x, m in zip(paths, audios, mels):
        assert m.shape == (cfg.num_frames(len(x)), cfg.n_mels), (
            f"{path}: GTA mel {m.shape} but its {len(x)} samples have {cfg.num_frames(len(x))} frames")
    return mels, computed


# ------------------------------------------------------------------------------------------- data
def crop_dataset(audios, mels, segment_frames, hop_length, batch_size, seed=0):
    """Shuffled, repeated batches ``{"audio": (B, F * hop), "mel": (B, F, n_mels)}`` of aligned random crops.

    A crop is mel frames ``[f, f + F)`` with samples ``[f * hop, (f + F) * hop)`` (frame i centred on sample
    i * hop, as ``segment_dataset``); f is uniform over the starts whose samples lie inside the utterance.
    Utterances shorter than ``F * hop`` samples are left out. Returns (dataset, utterances used).
    """
    import tensorflow as tf

    F, hop = int(segment_frames), int(hop_length)
    L = F * hop
    keep = [i for i, x in enumerate(audios) if len(x) >= L]
    if not keep:
        raise ValueError(f"no utterance has the {L} samples of a {F}-frame crop")
    n_mels = mels[keep[0]].shape[1]
    audio = tf.RaggedTensor.from_row_lengths(np.concatenate([audios[i] for i in keep]),
                                             [len(audios[i]) for i in keep])
    mel = tf.RaggedTensor.from_row_lengths(np.concatenate([mels[i] for i in keep], 0).astype(np.float32),
                                           [len(mels[i]) for i in keep])
    ds = tf.data.Dataset.from_tensor_slices({"audio": audio, "mel": mel})
    ds = ds.shuffle(len(keep), seed=seed, reshuffle_each_iteration=True).repeat()
    rand = tf.data.Dataset.random(seed=seed + 1, rerandomize_each_iteration=True)

    def crop(elem, rnd):
        x, m = elem["audio"], elem["mel"]
        starts = (tf.shape(x)[0] - L) // hop + 1
        f = tf.cast(tf.math.floormod(rnd, tf.cast(starts, tf.int64)), tf.int32)
        return {"audio": tf.ensure_shape(x[f * hop: f * hop + L], [L]),
                "mel": tf.ensure_shape(m[f: f + F], [F, n_mels])}

    ds = tf.data.Dataset.zip((ds, rand)).map(crop, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE), len(keep)


# ------------------------------------------------------------------------------------------- models
def vocoder_name(spec):
    return os.path.splitext(os.path.basename(spec))[0] if spec.endswith(".keras") else spec


def build_vocoder(spec, seed):
    """The vocoder before fine-tuning: a ``.keras`` file or an ``ISTFTVocoder`` preset (seeded: same init each call)."""
    import keras

    from zoo.istft_vocoder import ISTFTVocoder

    if spec.endswith(".keras"):
        return keras.saving.load_model(spec, safe_mode=True, compile=False)
    keras.utils.set_random_seed(seed)
    return ISTFTVocoder.from_preset(spec)


def load_tacotron(path, vocoder):
    import keras

    from audiogen_tf.errors import ConfigError
    from audiogen_tf.pretrained import sha256_of
    from zoo import tacotron2  # noqa: F401  (registers Tacotron2 for loading)

    tacotron = keras.saving.load_model(path, safe_mode=True, compile=False)
    if tacotron.mel_config.to_dict() != vocoder.feature_settings.to_dict():
        raise ConfigError(f"{path}: Tacotron 2's mel {tacotron.mel_config.to_dict()} differs from the vocoder's "
                          f"{vocoder.feature_settings.to_dict()}")
    return tacotron, sha256_of(path)


# ------------------------------------------------------------------------------------------- evaluation
def evaluate(tacotron, before, after, entries, out_dir, griffin_lim_iters=32, save_wavs=3):
    """Per-sentence rows and a summary: corpus WER of free-running Tacotron 2 through each system, MR-STFT of the
    vocoded GTA and recorded mels against the recordings."""
    import warnings

    from audiogen_tf import audio as audio_io
    from audiogen_tf import metrics

    cfg = tacotron.mel_config
    fn = teacher_forcing_fn(tacotron)
    r = tacotron.reduction_factor
    max_steps = tacotron.get_config()["max_decoder_steps"]
    os.makedirs(out_dir, exist_ok=True)
    systems = ("recordings", "griffin_lim", "before", "after")
    totals = {k: [0, 0] for k in systems}
    wer_ok = True
    rows = []

    def vocode(model, mel):
        return np.asarray(model(mel[None], training=False)).reshape(-1)

    def mrstft(ref, est):
        return metrics.multi_resolution_stft_distance(ref, est)["total"]

    for i, e in enumerate(entries):
        x = load_audio([e], cfg.sample_rate)[0]
        gta, real = gta_mel(fn, tacotron, e["text"], x, e["path"])
        syn = tacotron.synthesize(e["text"], max_decoder_steps=min(max_steps, 3 * len(real) // r + 10),
                                  prenet_dropout=False, return_audio=False)
        speech = {"recordings": x, "griffin_lim": tacotron.mel_to_audio(syn["mel"], None, griffin_lim_iters),
                  "before": vocode(before, syn["mel"]), "after": vocode(after, syn["mel"])}
        stem = os.path.splitext(os.path.basename(e["path"]))[0]
        row = {"id": stem, "frames": int(syn["frames"]), "target_frames": len(real)}
        heard = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", metrics.MetricUnavailableWarning)
            for name in systems:
                hyp = metrics.recognize(speech[name], cfg.sample_rate)
                if hyp is None:
                    wer_ok = False
                    continue
                edits, words = metrics.word_edits(e["text"], hyp)
                totals[name][0] += edits
                totals[name][1] += words
                row[f"WER {name}"] = edits / max(words, 1)
                heard[name] = hyp
        gta_gl = tacotron.mel_to_audio(gta, None, griffin_lim_iters)
        row.update({"GTA before": mrstft(x, vocode(before, gta)), "GTA after": mrstft(x, vocode(after, gta)),
                    "GTA Griffin-Lim": mrstft(x, gta_gl),
                    "recorded before": mrstft(x, vocode(before, real)),
                    "recorded after": mrstft(x, vocode(after, real)),
                    "recorded Griffin-Lim": mrstft(x, tacotron.mel_to_audio(real, None, griffin_lim_iters))})
        if i < save_wavs:
            for name in ("griffin_lim", "before", "after"):
                audio_io.save(os.path.join(out_dir, f"{stem}_tacotron2_{name}.wav"), np.clip(speech[name], -1, 1),
                              cfg.sample_rate)
        row["heard (after)"] = heard.get("after")
        rows.append(row)
        print(f"{stem}: WER GL {row.get('WER griffin_lim')} before {row.get('WER before')} after "
              f"{row.get('WER after')} | MR-STFT GTA before {row['GTA before']:.3f} after {row['GTA after']:.3f}",
              flush=True)
    summary = {"sentences": len(rows), "wer_available": wer_ok}
    for name in systems:
        summary[f"wer_{name}"] = totals[name][0] / totals[name][1] if wer_ok and totals[name][1] else None
        summary[f"words_{name}"] = totals[name][1]
    for key in ("GTA before", "GTA after", "GTA Griffin-Lim", "recorded before", "recorded after",
                "recorded Griffin-Lim"):
        summary[key] = float(np.mean([row[key] for row in rows])) if rows else None
    return rows, summary


def write_report(path, command, args, state, tacotron_sha, rows, summary):
    from audiogen_tf.atomic import atomic_write_text
    from bench_utils import machine_info, markdown_table
    from tacotron2_speech import thin_rows

    info = machine_info(peak_gflops=0.0)
    sessions = state.get("sessions", 0)
    lines = [
        "# iSTFT vocoder fine-tuned on Tacotron 2's ground-truth-aligned mels",
        "",
        f"Command: `{command}`",
        "",
        "(The same command with `--evaluate` re-scores the saved generator without training.)",
        "",
        f"Tacotron 2: `{os.path.relpath(os.path.abspath(args.tacotron2), ROOT)}` (sha256 {tacotron_sha[:16]}...); "
        f"vocoder before fine-tuning: `{args.vocoder}`; training data: the `train` split of "
        f"`{os.path.relpath(os.path.abspath(args.data), ROOT)}`.",
        "",
        f"GTA mels: Tacotron 2 teacher-forced in inference mode (pre-net dropout off, as "
        f"`synthesize(prenet_dropout=False)` below), post-net output, cut to each recording's frame count. "
        f"Crops of {state.get('segment_frames', args.segment_frames)} frames with the real audio they cover; losses "
        f"`{LOSSES}` ({', '.join(f'{k} {v:g}' for k, v in LOSS_SETS[LOSSES].items())}) against the real audio; "
        f"AdamW {state.get('learning_rate', args.learning_rate):g}, {state.get('schedule', args.schedule)} "
        f"schedule, batch {state.get('batch_size', args.batch_size)}.",
        "",
        f"Trained {state.get('step', 0)} steps in {state.get('train_seconds', 0.0) / 60:.1f} min "
        f"({sessions} session{'s' if sessions != 1 else ''}) on: {info['cpu']} ({info['nproc']} cores, load "
        f"{info['load_average']}), TensorFlow {info['tensorflow']}.",
        "",
        f"## Held-out sentences ({summary['sentences']}: test split, then valid)",
        "",
        "Word error rate by pocketsphinx (bundled US English model, 16 kHz; `audiogen_tf.metrics.recognize`) of "
        "Tacotron 2's free-running mels (pre-net dropout off) through each system, corpus level (word edits over "
        "reference words):",
        "",
    ]
    if summary["wer_available"]:
        names = {"recordings": "recordings (reference)", "griffin_lim": f"Tacotron 2 + Griffin-Lim "
                 f"{args.griffin_lim_iters} iterations", "before": "Tacotron 2 + vocoder before fine-tuning",
                 "after": "Tacotron 2 + vocoder after GTA fine-tuning"}
        lines.append(markdown_table([{"system": label, "WER": summary[f"wer_{k}"], "words": summary[f"words_{k}"]}
                                     for k, label in names.items()]))
    else:
        lines.append("(pocketsphinx is not installed: `pip install pocketsphinx`)\n")
    lines += [
        "Multi-resolution STFT distance (Parallel WaveGAN's, `audiogen_tf.metrics.multi_resolution_stft_distance`, "
        "lower is better) to the recordings, mean over the sentences: the teacher-forced (GTA) mels of the same "
        "sentences, and the recorded mels (copy synthesis, to see what fine-tuning costs on real mels):",
        "",
        markdown_table([{"mel": label, "vocoder before": summary[f"{key} before"],
                         "vocoder after": summary[f"{key} after"],
                         f"Griffin-Lim {args.griffin_lim_iters}": summary[f"{key} Griffin-Lim"]}
                        for key, label in (("GTA", "GTA (Tacotron 2 teacher-forced)"), ("recorded", "recorded"))]),
        "Per sentence (`frames`: of the free-running mel; `target_frames`: of the recording):",
        "",
        markdown_table(rows),
    ]
    hist = state.get("history", [])
    if hist:
        lines += ["## Training curve (epoch means)", "", markdown_table(thin_rows(hist, 20))]
    samples = os.path.relpath(os.path.join(os.path.abspath(args.out), "eval"), ROOT)
    lines += [f"Samples (first sentences): `{samples}` (not committed).", ""]
    atomic_write_text(path, "\n".join(lines))
    return path


# ------------------------------------------------------------------------------------------- main
def history_callback(state, optimizer):
    """Keras callback: each epoch's mean losses, step, minutes and learning rate appended to ``state["history"]``."""
    import keras
    from tacotron2_speech import learning_rate_of

    class _History(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            row = {"step": int(state["step"]), "minutes": round(state["train_seconds"] / 60.0, 3),
                   "lr": learning_rate_of(optimizer)}
            row.update({k: float(logs[k]) for k in ("g_loss", "mel_loss", "stft_loss", "weighted_phase_loss")
                        if k in logs})
            state.setdefault("history", []).append(row)

    return _History()


def max_steps_callback(state, max_steps):
    import keras

    class _MaxSteps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if state["step"] >= max_steps:
                self.model.stop_training = True

    return _MaxSteps()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tacotron2", required=True, help="the trained Tacotron 2 (.keras) whose mels the vocoder gets")
    ap.add_argument("--vocoder", default="istft_vocoder_slt", help="ISTFTVocoder preset or .keras file to start from")
    ap.add_argument("--data", default=os.path.join(ROOT, "data", "speech", "manifest.csv"))
    ap.add_argument("--out", default=os.path.join(ROOT, "runs", "istft_gta"))
    ap.add_argument("--report", default=os.path.join(ROOT, "benchmarks", "results", "istft_vocoder_gta.md"))
    ap.add_argument("--minutes", type=float, default=30.0, help="training wall-time budget over all sessions")
    ap.add_argument("--stop-after-minutes", type=float, default=None, help="stop this session after these minutes")
    ap.add_argument("--max-steps", type=int, default=None, help="stop once the run has trained this many steps")
    ap.add_argument("--learning-rate", type=float, default=1e-4)
    ap.add_argument("--schedule", choices=["cosine", "constant"], default="cosine",
                    help="cosine: over the time budget (istft_vocoder_speech.time_cosine_callback)")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--segment-frames", type=int, default=32)
    ap.add_argument("--steps-per-epoch", type=int, default=100)
    ap.add_argument("--checkpoint-every", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--evaluate", action="store_true", help="only evaluate OUT/<name>.keras and write the report")
    ap.add_argument("--no-eval", action="store_true", help="train only (no evaluation, no report)")
    ap.add_argument("--eval-count", type=int, default=12)
    ap.add_argument("--griffin-lim-iters", type=int, default=32)
    args = ap.parse_args(argv)
    command = "TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/istft_vocoder_gta.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv) if a != "--evaluate")  # the training run

    import keras
    import tensorflow as tf

    from audiogen_tf.errors import ConfigError
    from audiogen_tf.manifest import read_manifest
    from training.callbacks import StepCheckpoint, TimeBudget
    from training.gan_trainer import GANTrainer
    from bench_utils import atomic_json, clock_callback, start_session

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    ckpt_dir, state_path = os.path.join(out, "ckpt"), os.path.join(out, "train_state.json")
    name = vocoder_name(args.vocoder)
    final_path = os.path.join(out, f"{name}.keras")
    entries = read_manifest(args.data)

    generator = build_vocoder(args.vocoder, args.seed)
    tacotron, tacotron_sha = load_tacotron(args.tacotron2, generator)
    cfg = generator.feature_settings
    loss_weights = LOSS_SETS[LOSSES]
    run_key = {"vocoder": args.vocoder, "tacotron2_sha256": tacotron_sha,
               "data": os.path.relpath(os.path.abspath(args.data), ROOT), "batch_size": args.batch_size,
               "segment_frames": args.segment_frames, "seed": args.seed, "minutes": args.minutes,
               "learning_rate": args.learning_rate, "schedule": args.schedule, "losses": LOSSES, **loss_weights}
    state = {**run_key, "train_seconds": 0.0, "step": 0, "sessions": 0, "history": []}
    if os.path.exists(state_path) and (args.evaluate or tf.train.latest_checkpoint(ckpt_dir)):
        with open(state_path, encoding="utf-8") as fh:
            saved = json.load(fh)
        if any(saved.get(k) != v for k, v in run_key.items()):
            raise ConfigError(f"{out} holds a run with {({k: saved.get(k) for k in run_key})}; use another --out")
        state.update(saved)

    if not args.evaluate:
        train = [e for e in entries if e.get("split", "train") == "train"]
        audios = load_audio(train, cfg.sample_rate)
        mels, _ = gta_mels(tacotron, tacotron_sha, train, audios, os.path.join(out, CACHE_NAME))
        dataset, used = crop_dataset(audios, mels, args.segment_frames, cfg.hop_length, args.batch_size,
                                     seed=args.seed + state["sessions"])
        before_weights = [w.numpy() for w in generator.weights]
        trainer = GANTrainer(generator, [], mode="vocoder", mel_config=cfg, seed=args.seed)
        g_opt = keras.optimizers.AdamW(args.learning_rate, beta_1=0.8, beta_2=0.99, weight_decay=0.01)
        d_opt = keras.optimizers.AdamW(args.learning_rate, beta_1=0.8, beta_2=0.99, weight_decay=0.01)
        from training.gan_trainer import migrate_loss_keys

        trainer.compile(g_optimizer=g_opt, d_optimizer=d_opt, generator_warmup_steps=10**12,
                        **migrate_loss_keys(loss_weights))
        checkpoint = StepCheckpoint(ckpt_dir, every_n_steps=args.checkpoint_every, keep_last=2,
                                    save_on_train_end=True)
        start_session(checkpoint, trainer, state)
        budget = 60.0 * args.minutes
        session = budget - state["train_seconds"]
        if args.stop_after_minutes is not None:
            session = min(session, 60.0 * args.stop_after_minutes)
        if args.max_steps is not None and state["step"] >= args.max_steps:
            session = 0.0
        print(f"{name}: {generator.count_params()} parameters, {used}/{len(train)} training utterances; training "
              f"{max(session, 0.0):.0f} s from step {state['step']} ({state['train_seconds']:.0f} s done)", flush=True)
        if session > 1.0:
            callbacks = [TimeBudget(session), checkpoint, clock_callback(state, state_path, args.checkpoint_every),
                         history_callback(state, g_opt)]
            if args.schedule == "cosine":
                callbacks.append(time_cosine_callback(state, g_opt, args.learning_rate, budget))
            if args.max_steps is not None:
                callbacks.append(max_steps_callback(state, args.max_steps))
            trainer.fit(dataset, epochs=10**6, steps_per_epoch=args.steps_per_epoch, verbose=2, callbacks=callbacks)
        atomic_json(state_path, state)
        generator.save(final_path + ".tmp.keras")
        os.replace(final_path + ".tmp.keras", final_path)
        print(f"trained {state['step']} steps in {state['train_seconds'] / 60:.1f} min; saved {final_path}", flush=True)
        if args.no_eval:
            return 0
        before = build_vocoder(args.vocoder, args.seed)
        for w, v in zip(before.weights, before_weights):  # sanity: the same starting point as the run
            if not np.array_equal(w.numpy(), v):
                raise ConfigError(f"rebuilding {args.vocoder} did not give the weights training started from")
        after = generator
    else:
        if not os.path.exists(final_path):
            raise ConfigError(f"{final_path} is missing: train first (the same command without --evaluate)")
        before, after = generator, keras.saving.load_model(final_path, safe_mode=True, compile=False)

    from tacotron2_speech import held_out_entries  # the same evaluation sentences as Tacotron 2's page

    held = held_out_entries(entries, args.eval_count)
    rows, summary = evaluate(tacotron, before, after, held, os.path.join(out, "eval"), args.griffin_lim_iters)
    print(json.dumps(summary, indent=1), flush=True)
    atomic_json(os.path.join(out, "evaluation.json"), {"summary": summary, "rows": rows, "step": state["step"]})
    print(f"wrote {write_report(args.report, command, args, state, tacotron_sha, rows, summary)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
