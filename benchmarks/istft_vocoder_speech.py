"""Train the frame-rate iSTFT vocoder on the festival corpus for a wall-time budget (resumable), with snapshots.

Training (``fit`` through ``GANTrainer`` with the discriminator off): 45 x mel L1 + 2.5 x multi-resolution STFT
(``--losses reconstruction``, the default), or with APNet2's frame-level terms at the vocoder's own STFT added
(``--losses apnet2``: 45 x log-amplitude MSE, 100 x (instantaneous phase + group delay + instantaneous angular
frequency, anti-wrapped), 45 x real/imaginary L1, 20 x STFT consistency; measured slower to learn here, see
``istft_vocoder_quality.md``), or with 10 x amplitude-weighted group delay + instantaneous frequency
(``--losses weighted_phase``, :func:`audiogen_tf.losses.weighted_phase_losses`: phase asked for only where the
target has energy; ``--losses harmonic_phase``: the same terms with energy weights, exponent 1, so the harmonics'
phase advance dominates; ``--losses harmonic_phase_noise`` adds 10 x
:func:`audiogen_tf.losses.frame_rate_correlation_loss`, against a frame-rate buzz in fricatives, and
``harmonic_phase_noise_consistent`` 20 x STFT consistency on top), AdamW (lr 5e-4, betas 0.8 / 0.99) whose learning rate follows a cosine over the *time* budget (so a run stopped
by the clock still anneals). Every ``--snapshot-minutes`` of training time the generator is saved as
``snapshots/min_XXX.weights.h5``: ``benchmarks/istft_vocoder_quality.py`` scores them for the learning curve.
Checkpoints (``StepCheckpoint``) and the training clock live in the run folder; rerunning the same command
resumes, and the budget counts the minutes of every session. ``--minutes`` may grow or shrink between sessions
(like a staged recipe): the learning-rate cosine spans ``--schedule-minutes`` (default ``--minutes``) of the session
that runs, and ``train_state.json`` keeps each session's budget in ``budget_history``.

With ``--adversarial-after-minutes M`` the MPD + multi-resolution spectrogram discriminator joins once M minutes of
training time are spent (LSGAN, 2 x feature matching, D AdamW 2e-4), so an adversarial tail fits inside the same
budget; ``--extra-manifest`` adds voices (their ``train`` split) for speaker variety. ``--init-from RUN`` starts a
new folder from RUN's latest generator, optimizer and clock (e.g. an adversarial tail, with a new discriminator,
branched from a reconstruction-only run); the narrow ``istft_vocoder_cpu`` discriminator (1/16 width) costs
0.5 s/step here where the full-width one costs 10.

Usage:
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/istft_vocoder_speech.py --minutes 150
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/istft_vocoder_speech.py --minutes 150 --losses weighted_phase \
        --adversarial-after-minutes 100 --extra-manifest data/speech_flite_kal/manifest.csv --out runs/istft_adv
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/istft_vocoder_speech.py --minutes 150 --losses weighted_phase \
        --adversarial-after-minutes 130 --discriminator-preset istft_vocoder_cpu \
        --extra-manifest data/speech_flite_kal/manifest.csv --init-from runs/istft_tail --out runs/istft_gan

Papers: Siuzdak 2023 (Vocos); Ai & Ling 2023 (APNet), Du et al. 2023 (APNet2); Lv et al. 2024 (FreeV);
Kong et al. 2020 (mel L1 weight 45); Yamamoto et al. 2020 (MR-STFT); Loshchilov & Hutter 2017 (cosine schedule).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

#: --losses: "reconstruction" (mel L1 + MR-STFT, as Vocos' reconstruction terms) or "apnet2" (+ APNet2's frame terms)
LOSS_SETS = {
    "reconstruction": {"mel_loss_weight": 45.0, "stft_loss_weight": 2.5},
    "apnet2": {"mel_loss_weight": 45.0, "stft_loss_weight": 2.5, "amplitude_loss_weight": 45.0,
               "phase_loss_weight": 100.0, "real_imag_loss_weight": 45.0, "consistency_loss_weight": 20.0},
    "weighted_phase": {"mel_loss_weight": 45.0, "stft_loss_weight": 2.5, "weighted_phase_loss_weight": 10.0},
    # the same terms weighted by energy (exponent 1): the harmonics' phase advance dominates (aimed at F0)
    "harmonic_phase": {"mel_loss_weight": 45.0, "stft_loss_weight": 2.5, "weighted_phase_loss_weight": 10.0,
                       "weighted_phase_exponent": 1.0},
    # + the recording's autocorrelation at lags of 1-3 hops (against the frame-rate buzz in fricatives)
    "harmonic_phase_noise": {"mel_loss_weight": 45.0, "stft_loss_weight": 2.5, "weighted_phase_loss_weight": 10.0,
                             "weighted_phase_exponent": 1.0, "frame_rate_correlation_loss_weight": 10.0},
    # + 20 x STFT consistency (APNet2's weight): 64 consistency steps at inference took valid F0 RMSE from 21.3 to
    # 16.4 cents (istft_vocoder_refine_sweep_valid.md); this asks the network itself for a consistent spectrum
    "harmonic_phase_noise_consistent": {"mel_loss_weight": 45.0, "stft_loss_weight": 2.5,
                                        "weighted_phase_loss_weight": 10.0, "weighted_phase_exponent": 1.0,
                                        "frame_rate_correlation_loss_weight": 10.0, "consistency_loss_weight": 20.0},
}


def time_cosine_callback(state, optimizer, base_lr, budget_seconds, final_fraction=0.05, start_seconds=0.0):
    """Keras callback: learning rate = cosine of the training time spent (``state["train_seconds"]``) between
    ``start_seconds`` (``base_lr`` until then) and ``budget_seconds`` (``final_fraction * base_lr`` from then)."""
    import keras

    class _TimeCosine(keras.callbacks.Callback):
        def _set(self):
            span = max(budget_seconds - start_seconds, 1e-9)
            progress = min(1.0, max(0.0, (state["train_seconds"] - start_seconds) / span))
            scale = final_fraction + (1.0 - final_fraction) * 0.5 * (1.0 + math.cos(math.pi * progress))
            optimizer.learning_rate.assign(base_lr * scale)

        def on_train_begin(self, logs=None):
            self._set()

        def on_train_batch_begin(self, batch, logs=None):
            if batch % 10 == 0:
                self._set()

    return _TimeCosine()


def snapshot_callback(state, generator, folder, every_minutes):
    """Keras callback: save the generator's weights each ``every_minutes`` of training time (learning curve)."""
    import keras

    class _Snapshots(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            minute = int(state["train_seconds"] // (60 * every_minutes) * every_minutes)
            if minute > state.get("last_snapshot_minute", 0):
                os.makedirs(folder, exist_ok=True)
                path = os.path.join(folder, f"min_{minute:03d}.weights.h5")
                tmp = path + ".tmp.weights.h5"
                generator.save_weights(tmp)
                os.replace(tmp, path)
                state["last_snapshot_minute"] = minute
                state.setdefault("snapshots", {})[str(minute)] = int(state["step"])
                print(f"snapshot {path} at step {state['step']}", flush=True)

    return _Snapshots()


def warm_start(trainer, state, source):
    """Continue the run in ``source``: its latest checkpoint's generator, generator optimizer and step counter
    (``GENERATOR_PARTS``: a discriminator new to this run starts fresh) and its clock, snapshots and budget history."""
    from audiogen_tf.errors import ConfigError
    from training.callbacks import GENERATOR_PARTS, restore_latest

    state_path = os.path.join(source, "train_state.json")
    if not os.path.exists(state_path):
        raise ConfigError(f"--init-from {source}: no train_state.json there (not a run folder of this script)")
    with open(state_path, encoding="utf-8") as fh:
        saved = json.load(fh)
    step = restore_latest(trainer, os.path.join(source, "ckpt"), parts=GENERATOR_PARTS)
    if step is None:
        raise ConfigError(f"--init-from {source}: no checkpoint in {os.path.join(source, 'ckpt')}")
    for key in ("train_seconds", "sessions", "snapshots", "last_snapshot_minute", "budget_history"):
        if key in saved:
            state[key] = saved[key]
    state["step"] = step
    state["init_from"] = {"run": os.path.relpath(source, ROOT), "step": step,
                          "minute": round(saved["train_seconds"] / 60.0, 2)}
    print(f"warm start from {source} at step {step} ({saved['train_seconds'] / 60:.1f} min)", flush=True)


def warm_start_from_weights(generator, state, preset, minutes, step):
    """Continue a trained preset's shipped weights (e.g. ``istft_vocoder_slt``, whose run folder is gone): its
    generator weights only (the optimizer starts fresh), with the clock set to the ``minutes`` it was trained, so
    the budget counts them. The trainer's step counter starts at 0; ``state["init_from"]`` keeps the source's step."""
    from audiogen_tf.errors import ConfigError
    from zoo.istft_vocoder import ISTFTVocoder

    if minutes is None:
        raise ConfigError(f"--init-from {preset}: a trained preset needs --init-minutes (the minutes its card "
                          "says it was trained), so the budget counts them")
    source = ISTFTVocoder.from_preset(preset)
    if source.get_config() != generator.get_config():
        raise ConfigError(f"--init-from {preset}: its architecture differs from --preset; pick the matching preset")
    generator.set_weights(source.get_weights())
    state["train_seconds"] = 60.0 * minutes
    state["budget_history"] = [{"from_minute": 0.0, "minutes": minutes, "schedule_minutes": None,
                                "weights": preset}]
    state["init_from"] = {"weights": preset, "step": step, "minute": minutes}
    print(f"warm start from the weights of {preset} ({minutes:.1f} min, step {step}; fresh optimizer)", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=150.0, help="training wall-time budget over all sessions")
    ap.add_argument("--stop-after-minutes", type=float, default=None,
                    help="stop this session after this many minutes (the cosine still spans --schedule-minutes)")
    ap.add_argument("--schedule-start-minutes", type=float, default=0.0,
                    help="the cosine starts at this minute of the clock (--learning-rate until then): a tail "
                         "branched from trained weights (--init-from, --init-minutes) gets its own warm restart "
                         "(Loshchilov & Hutter 2017) instead of the end of the first run's cosine")
    ap.add_argument("--schedule-minutes", type=float, default=None,
                    help="training minutes the learning-rate cosine spans (default: --minutes); a stage that "
                         "stops early on a longer schedule sets --minutes below it")
    ap.add_argument("--out", default="runs/istft_vocoder_speech")
    ap.add_argument("--preset", default="istft_vocoder_small")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--segment-length", type=int, default=8192)
    ap.add_argument("--learning-rate", type=float, default=5e-4)
    ap.add_argument("--snapshot-minutes", type=float, default=10.0)
    ap.add_argument("--checkpoint-every", type=int, default=500)
    ap.add_argument("--steps-per-epoch", type=int, default=100)
    ap.add_argument("--manifest", default=os.path.join(ROOT, "data", "speech", "manifest.csv"))
    ap.add_argument("--losses", choices=sorted(LOSS_SETS), default="reconstruction")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--adversarial-after-minutes", type=float, default=None,
                    help="training minutes after which the discriminator (--discriminator-preset: MPD + "
                         "multi-resolution spectrogram) joins with LSGAN + 2 x feature matching (default: never)")
    ap.add_argument("--discriminator-preset", default="istft_vocoder")
    ap.add_argument("--d-learning-rate", type=float, default=2e-4)
    ap.add_argument("--init-from", default=None,
                    help="a run folder of this script: a new --out starts from its latest checkpoint's generator "
                         "(weights, optimizer, step) and its training clock, so the budget counts its minutes too; "
                         "a new discriminator (--adversarial-after-minutes) starts fresh. Or a trained preset "
                         "(e.g. istft_vocoder_slt): its shipped weights, a fresh optimizer, --init-minutes on the clock")
    ap.add_argument("--init-minutes", type=float, default=None,
                    help="with a trained preset as --init-from: the minutes it was trained (from its card)")
    ap.add_argument("--init-step", type=int, default=0,
                    help="with a trained preset as --init-from: its step count (from its card; recorded only)")
    ap.add_argument("--extra-manifest", action="append", default=[],
                    help="more training voices: the 'train' split of this manifest joins (repeatable), e.g. "
                         "data/speech_flite_kal/manifest.csv built by benchmarks/ctc_recognizer_speech.py")
    args = ap.parse_args(argv)
    loss_weights = LOSS_SETS[args.losses]

    import keras
    import tensorflow as tf

    from audiogen_tf import manifest
    from audiogen_tf.data import segment_dataset
    from audiogen_tf.errors import ConfigError
    from training.callbacks import StepCheckpoint, TimeBudget
    from training.gan_trainer import GANTrainer
    from bench_utils import atomic_json, clock_callback, start_session
    from zoo.istft_vocoder import ISTFTVocoder, ISTFTVocoderDiscriminator

    out = os.path.abspath(args.out)
    ckpt_dir, state_path = os.path.join(out, "ckpt"), os.path.join(out, "train_state.json")
    os.makedirs(out, exist_ok=True)
    run_key = {"preset": args.preset, "batch_size": args.batch_size, "segment_length": args.segment_length,
               "seed": args.seed, "learning_rate": args.learning_rate, "losses": args.losses,
               **loss_weights}
    if args.adversarial_after_minutes is not None:  # keys only when used: earlier runs still resume
        run_key.update(adversarial_after_minutes=args.adversarial_after_minutes,
                       discriminator_preset=args.discriminator_preset, d_learning_rate=args.d_learning_rate)
    if args.schedule_start_minutes:  # a key only when used: earlier runs still resume
        run_key["schedule_start_minutes"] = args.schedule_start_minutes
    if args.extra_manifest:
        run_key["extra_manifests"] = [os.path.relpath(os.path.abspath(m), ROOT) for m in args.extra_manifest]
    state = {**run_key, "train_seconds": 0.0, "step": 0, "sessions": 0}
    if os.path.exists(state_path) and tf.train.latest_checkpoint(ckpt_dir):
        with open(state_path, encoding="utf-8") as fh:
            saved = json.load(fh)
        if any(saved.get(k) != v for k, v in run_key.items()):
            raise ConfigError(f"{out} holds a run with {({k: saved.get(k) for k in run_key})}; use another --out")
        state.update(saved)

    keras.utils.set_random_seed(args.seed)
    generator = ISTFTVocoder.from_preset(args.preset)
    cfg = generator.feature_settings
    adversarial = args.adversarial_after_minutes is not None
    discriminators = [ISTFTVocoderDiscriminator.from_preset(args.discriminator_preset)] if adversarial else []
    trainer = GANTrainer(generator, discriminators, mode="vocoder", mel_config=cfg, seed=args.seed)
    g_opt = keras.optimizers.AdamW(args.learning_rate, beta_1=0.8, beta_2=0.99, weight_decay=0.01)
    d_opt = keras.optimizers.AdamW(args.d_learning_rate if adversarial else args.learning_rate, beta_1=0.8,
                                   beta_2=0.99, weight_decay=0.01)
    extra = {"adversarial_loss": "lsgan", "feature_matching_weight": 2.0} if adversarial else {}
    from training.gan_trainer import migrate_loss_keys

    # The discriminator stays idle (no loss, no update) until the step the clock crosses the switch minute;
    # a resumed session starts from the recorded step.
    trainer.compile(g_optimizer=g_opt, d_optimizer=d_opt,
                    generator_warmup_steps=state.get("adversarial_from_step", 10**12),
                    **migrate_loss_keys({**loss_weights, **extra}))
    checkpoint = StepCheckpoint(ckpt_dir, every_n_steps=args.checkpoint_every, keep_last=2, save_on_train_end=True)
    if args.init_from and not tf.train.latest_checkpoint(ckpt_dir):
        if os.path.isdir(args.init_from):
            warm_start(trainer, state, os.path.abspath(args.init_from))
        else:
            warm_start_from_weights(generator, state, args.init_from, args.init_minutes, args.init_step)
    start_session(checkpoint, trainer, state)

    entries = manifest.read_manifest(args.manifest)
    train = [e for e in entries if e.get("split", "train") == "train"]
    for extra_manifest in args.extra_manifest:
        train += [e for e in manifest.read_manifest(extra_manifest) if e.get("split", "train") == "train"]
    dataset = segment_dataset(train, segment_length=args.segment_length, batch_size=args.batch_size,
                              mel_config=cfg, shuffle=True, seed=args.seed + state["sessions"], repeat=True,
                              cache=True)
    budget = 60.0 * args.minutes
    schedule_minutes = args.schedule_minutes if args.schedule_minutes is not None else args.minutes
    history = state.setdefault("budget_history", [])
    if not history or (history[-1]["minutes"], history[-1]["schedule_minutes"]) != (args.minutes, schedule_minutes):
        history.append({"from_minute": round(state["train_seconds"] / 60.0, 2), "minutes": args.minutes,
                        "schedule_minutes": schedule_minutes})
    state.update(minutes=args.minutes, schedule_minutes=schedule_minutes)
    session = budget - state["train_seconds"]
    if args.stop_after_minutes is not None:
        session = min(session, 60.0 * args.stop_after_minutes)
    print(f"{args.preset}: {generator.count_params()} parameters, {len(train)} training utterances; "
          f"training {session:.0f} s from step {state['step']} ({state['train_seconds']:.0f} s done)", flush=True)
    def fit_for(seconds):
        callbacks = [TimeBudget(seconds), checkpoint, clock_callback(state, state_path, args.checkpoint_every),
                     time_cosine_callback(state, g_opt, args.learning_rate, 60.0 * schedule_minutes,
                                          start_seconds=60.0 * args.schedule_start_minutes),
                     snapshot_callback(state, generator, os.path.join(out, "snapshots"), args.snapshot_minutes)]
        trainer.fit(dataset, epochs=10**6, steps_per_epoch=args.steps_per_epoch, verbose=2, callbacks=callbacks)

    session_end = state["train_seconds"] + session
    if adversarial and "adversarial_from_step" not in state and session > 0:
        switch = 60.0 * args.adversarial_after_minutes
        if switch - state["train_seconds"] > 1.0:
            fit_for(min(session, switch - state["train_seconds"]))
        if state["train_seconds"] >= switch - 5.0:
            state["adversarial_from_step"] = int(state["step"])
            trainer.generator_warmup_steps = int(state["step"])
            trainer.make_train_function(force=True)  # the warm-up step is read when the step is traced
            atomic_json(state_path, state)
            print(f"discriminator joins at step {state['step']} ({state['train_seconds'] / 60:.1f} min)", flush=True)
    if session_end - state["train_seconds"] > 1.0:
        fit_for(session_end - state["train_seconds"])
    atomic_json(state_path, state)
    path = os.path.join(out, f"{args.preset}.keras")
    generator.save(path + ".tmp.keras")
    os.replace(path + ".tmp.keras", path)
    print(f"trained {state['step']} steps in {state['train_seconds'] / 60:.1f} min; saved {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
