"""Speech quality of a GAN vocoder trained on the festival corpus against Griffin-Lim from the same log-mel.

Trains the Multi-band MelGAN preset (or HiFi-GAN V2) on ``data/speech`` (split ``train``) for a wall-time
budget: generator warm-up on the reconstruction losses for the first part of the budget (Multi-band MelGAN
pre-trains its generator the same way), then the adversarial game for the last ``--adversarial-fraction``.
Then, on the whole held-out utterances (split ``test``), it scores the multi-resolution STFT distance, wide-band
PESQ and STOI of

- the trained vocoder (and the generator as it was at the end of warm-up),
- Griffin-Lim from the SAME log-mel (``features.log_mel_to_audio``, 32 and 64 iterations, fixed seed),
- an untrained copy of the vocoder (same initial weights; the floor),

and writes ``benchmarks/results/vocoder_speech_quality.md`` (atomically) plus wavs of three test utterances under the
run folder. Checkpoints (``training.callbacks.StepCheckpoint``) and the training clock live in the run folder,
so a rerun with the same ``--out`` resumes where the last one stopped (``--no-resume`` starts over).

Usage:
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/vocoder_speech_quality.py --minutes 60

Papers: Yang et al. 2020 (Multi-band MelGAN); Kong et al. 2020 (HiFi-GAN); Griffin & Lim 1984 with the fast
(momentum) variant of Perraudin et al. 2013; Yamamoto et al. 2020 (MR-STFT); ITU-T P.862.2 (PESQ-WB);
Taal et al. 2011 (STOI).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))  # bench_utils.py
MD_OUT = os.path.join(ROOT, "benchmarks", "results", "vocoder_speech_quality.md")
FOREVER = 10**12  # warm-up "steps" while the adversarial phase has not started


def _load_test(entries, sr):
    from audiogen_tf import audio

    out = []
    for e in entries:
        x, _ = audio.load(e["path"], sr=sr)
        out.append((os.path.splitext(os.path.basename(e["path"]))[0], x.astype(np.float32)))
    return out


def _score(ref, est, sr):
    from audiogen_tf import metrics

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", metrics.MetricUnavailableWarning)
        return {
            "mrstft": metrics.multi_resolution_stft_distance(ref, est)["total"],
            "pesq_wb": metrics.pesq_wb(ref, est, sr),
            "stoi": metrics.stoi(ref, est, sr),
        }


def _mean(values):
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return (float(np.mean(vals)) if vals else None), (float(np.std(vals)) if vals else None), len(vals)


def _fmt(stat):
    mean, std, n = stat
    return "n/a" if mean is None else f"{mean:.3f} ± {std:.3f}"


def evaluate(systems, test, cfg, sample_dir, n_samples=3):
    """Scores of every system on every test utterance: {system: {"scores": [...], "seconds": compute s}}."""
    from audiogen_tf import audio

    os.makedirs(sample_dir, exist_ok=True)
    results = {name: {"scores": [], "seconds": 0.0} for name in systems}
    audio_seconds = 0.0
    for i, (utt, x) in enumerate(test):
        log_mel = cfg.log_mel(x[None, :])
        audio_seconds += len(x) / cfg.sample_rate
        if i < n_samples:
            audio.save(os.path.join(sample_dir, f"{utt}_original.wav"), x, cfg.sample_rate)
        for name, (fn, tag) in systems.items():
            start = time.perf_counter()
            y = np.asarray(fn(log_mel, len(x)), np.float32).reshape(-1)[: len(x)]
            results[name]["seconds"] += time.perf_counter() - start
            results[name]["scores"].append(_score(x, y, cfg.sample_rate))
            if i < n_samples and tag:
                audio.save(os.path.join(sample_dir, f"{utt}_{tag}.wav"), np.clip(y, -1, 1), cfg.sample_rate)
        print(f"  scored {utt} ({len(x) / cfg.sample_rate:.1f} s)", flush=True)
    for r in results.values():
        r["rtf"] = r["seconds"] / audio_seconds
    return results, audio_seconds


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="training wall-time budget (all sessions)")
    ap.add_argument("--out", default="runs/vocoder_speech", help="run folder (checkpoints, generator, wavs)")
    ap.add_argument("--model", choices=["multiband_melgan", "hifigan_v2"], default="multiband_melgan")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--segment-length", type=int, default=8000, help="samples per training segment (x hop)")
    ap.add_argument("--adversarial-fraction", type=float, default=None,
                    help="share of the budget, at its end, with the discriminator on (default: the recipe's 0.3)")
    ap.add_argument("--checkpoint-every", type=int, default=100, help="StepCheckpoint period in steps")
    ap.add_argument("--steps-per-epoch", type=int, default=25, help="fit() logging period in steps")
    ap.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                    help="continue from the run folder's checkpoint (default) or start over")
    ap.add_argument("--manifest", default=os.path.join(ROOT, "data", "speech", "manifest.csv"))
    ap.add_argument("--md", default=MD_OUT, help="markdown table to write")
    ap.add_argument("--max-test", type=int, default=None, help="score only the first N test utterances (smoke)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--note", action="append", default=[], help="extra line for the Notes of the markdown page")
    args = ap.parse_args(argv)
    command = "TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/vocoder_speech_quality.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))

    import keras
    import tensorflow as tf

    from audiogen_tf import manifest
    from bench_utils import (atomic_json, clock_callback, machine_info, matmul_peak_gflops, start_session,
                             write_markdown_table)
    from training.callbacks import TimeBudget
    from audiogen_tf.data import segment_dataset
    from audiogen_tf.errors import ConfigError
    from audiogen_tf.features import log_mel_to_audio
    from training.callbacks import StepCheckpoint
    from training.gan_trainer import GANTrainer
    from vocoder_recipes import vocoder_recipe  # benchmarks/vocoder_recipes.py, beside this script

    t_script = time.perf_counter()
    peak = matmul_peak_gflops()
    print(f"matmul peak {peak:.1f} GFLOP/s", flush=True)
    overrides = {} if args.adversarial_fraction is None else {"adversarial_fraction": args.adversarial_fraction}
    recipe = vocoder_recipe(args.model, **overrides)
    out = os.path.abspath(args.out)
    ckpt_dir = os.path.join(out, "ckpt")
    state_path = os.path.join(out, "train_state.json")
    os.makedirs(out, exist_ok=True)
    run_key = {"model": args.model, "batch_size": args.batch_size, "segment_length": args.segment_length,
               "seed": args.seed}
    state = {**run_key, "train_seconds": 0.0, "step": 0, "adversarial_from_step": None, "sessions": 0}
    if args.resume and os.path.exists(state_path) and tf.train.latest_checkpoint(ckpt_dir):
        with open(state_path, encoding="utf-8") as fh:
            saved = json.load(fh)
        if any(saved.get(k) != v for k, v in run_key.items()):
            raise ConfigError(f"{out} holds a run with {({k: saved.get(k) for k in run_key})}; "
                              f"use another --out or --no-resume")
        state.update(saved)
    elif os.path.isdir(ckpt_dir):
        for name in os.listdir(ckpt_dir):  # --no-resume (or a clock-less folder): start over
            os.remove(os.path.join(ckpt_dir, name))

    keras.utils.set_random_seed(args.seed)
    generator = recipe.build_generator()
    hop = int(generator.hop_length)
    cfg = recipe.mel_config(hop)
    if args.segment_length % hop:
        raise ConfigError(f"--segment-length {args.segment_length} is not a multiple of the hop {hop}")
    discriminators = recipe.build_discriminators()
    trainer = GANTrainer(generator, discriminators, mode="vocoder", mel_config=cfg, seed=args.seed)
    g_opt, d_opt = recipe.optimizers()
    trainer.compile(g_optimizer=g_opt, d_optimizer=d_opt, generator_warmup_steps=FOREVER, **recipe.compile_kwargs())
    checkpoint = StepCheckpoint(ckpt_dir, every_n_steps=args.checkpoint_every, keep_last=2, save_on_train_end=True)
    start_session(checkpoint, trainer, state)

    all_train = manifest.read_manifest(args.manifest)
    train = [e for e in all_train if e.get("split", "train") == "train"]
    test = [e for e in all_train if e.get("split") == "test"][: args.max_test]
    dataset = segment_dataset(train, segment_length=args.segment_length, batch_size=args.batch_size,
                              mel_config=cfg, shuffle=True, seed=args.seed + state["sessions"], repeat=True,
                              cache=True)

    budget = 60.0 * args.minutes
    switch_at = (1.0 - recipe.adversarial_fraction) * budget
    clock = clock_callback(state, state_path, args.checkpoint_every)
    warmup_keras = os.path.join(out, f"{args.model}_warmup.keras")

    def run_phase(seconds, label):
        print(f"{label}: {seconds:.0f} s from step {state['step']}", flush=True)
        trainer.fit(dataset, epochs=10**6, steps_per_epoch=args.steps_per_epoch, verbose=2,
                    callbacks=[TimeBudget(seconds), checkpoint, clock])

    if state["train_seconds"] < switch_at and state["adversarial_from_step"] is None:
        run_phase(switch_at - state["train_seconds"], "generator warm-up (reconstruction losses only)")
    if state["adversarial_from_step"] is None:
        generator.save(warmup_keras)
    if recipe.adversarial_fraction > 0 and state["train_seconds"] < budget:
        if state["adversarial_from_step"] is None:
            state["adversarial_from_step"] = int(trainer.train_step_counter.numpy())
        trainer.generator_warmup_steps = max(1, int(state["adversarial_from_step"]))
        trainer.make_train_function(force=True)  # the warm-up step count is read when the step is traced
        try:
            run_phase(budget - state["train_seconds"], "adversarial phase")
        except Exception as err:  # report and still score what was trained (a rerun resumes from the checkpoint)
            import traceback

            traceback.print_exc()
            state["adversarial_error"] = f"{type(err).__name__}: {err}"[:300]
    steps = int(trainer.train_step_counter.numpy())
    atomic_json(state_path, state)
    model_path = os.path.join(out, f"{args.model}.keras")
    generator.save(model_path)
    print(f"trained {steps} steps in {state['train_seconds']:.0f} s; saved {model_path}", flush=True)

    # ------------------------------------------------------------------ evaluation on whole test utterances
    keras.utils.set_random_seed(args.seed)
    untrained = recipe.build_generator()  # same seed and build order as the trained copy: its initial weights
    warmup_gen = None
    if os.path.exists(warmup_keras):
        try:
            warmup_gen = keras.saving.load_model(warmup_keras)
        except Exception as err:  # the end-of-warm-up row is extra; never lose the main table over it
            print(f"could not load {warmup_keras}: {err}", flush=True)

    def vocoder_fn(model):
        return lambda log_mel, n: model(log_mel, training=False)[0, :, 0]

    def gl_fn(n_iter):
        return lambda log_mel, n: log_mel_to_audio(log_mel[0], cfg, n_iter=n_iter, length=n, seed=args.seed)

    nice = {"multiband_melgan": "Multi-band MelGAN", "hifigan_v2": "HiFi-GAN V2"}[args.model]
    adv_from = state["adversarial_from_step"]
    trained_name = f"{nice}, trained ({steps} steps)"
    systems = {trained_name: (vocoder_fn(generator), "vocoder")}
    if warmup_gen is not None and adv_from is not None and adv_from < steps:
        systems[f"{nice}, end of warm-up ({adv_from} steps, no adversarial)"] = (vocoder_fn(warmup_gen), "warmup")
    systems["Griffin-Lim, 32 iterations"] = (gl_fn(32), "griffin_lim32")
    systems["Griffin-Lim, 64 iterations"] = (gl_fn(64), "griffin_lim64")
    systems[f"{nice}, untrained (floor)"] = (vocoder_fn(untrained), "untrained")
    test_audio = _load_test(test, cfg.sample_rate)
    print(f"scoring {len(test_audio)} test utterances", flush=True)
    results, audio_seconds = evaluate(systems, test_audio, cfg, os.path.join(out, "samples"))

    summary = {}
    for name, r in results.items():
        summary[name] = {k: _mean([s[k] for s in r["scores"]]) for k in ("mrstft", "pesq_wb", "stoi")}
    gl_names = ["Griffin-Lim, 32 iterations", "Griffin-Lim, 64 iterations"]
    # better Griffin-Lim: lower MR-STFT distance, ties broken by PESQ (decided before looking at the vocoder)
    gl_best = min(gl_names, key=lambda n: (summary[n]["mrstft"][0], -(summary[n]["pesq_wb"][0] or 0)))
    rows = []
    for name, r in results.items():
        s = summary[name]
        role = "baseline" if name == gl_best else ("floor" if "untrained" in name else "")
        rows.append({
            "system": name + (" **(baseline)**" if name == gl_best else ""),
            "MR-STFT distance (lower is better)": _fmt(s["mrstft"]),
            "PESQ-WB (higher is better)": _fmt(s["pesq_wb"]) + ("" if s["pesq_wb"][2] == len(r["scores"])
                                                                else f" ({s['pesq_wb'][2]}/{len(r['scores'])} scored)"),
            "STOI (higher is better)": _fmt(s["stoi"]),
            "real-time factor": r["rtf"],
            "role": role,
        })
    voc, base = summary[trained_name], summary[gl_best]

    def beats(metric, lower):
        a, b = voc[metric][0], base[metric][0]
        if a is None or b is None:
            return False
        return a < b if lower else a > b

    wins = {"MR-STFT": beats("mrstft", True), "PESQ-WB": beats("pesq_wb", False), "STOI": beats("stoi", False)}
    per_utt = {}
    for key, lower in (("mrstft", True), ("pesq_wb", False), ("stoi", False)):
        n_win = 0
        for a, b in zip(results[trained_name]["scores"], results[gl_best]["scores"]):
            if a[key] is not None and b[key] is not None and ((a[key] < b[key]) if lower else (a[key] > b[key])):
                n_win += 1
        per_utt[key] = n_win
    verdict = (f"**The trained vocoder beats Griffin-Lim ({gl_best}) on all three metrics.**" if all(wins.values())
               else "**The trained vocoder does NOT beat Griffin-Lim on all three metrics**: it loses on "
               + ", ".join(k for k, v in wins.items() if not v) + f" (baseline {gl_best}; numbers in the table).")
    warm_steps = adv_from if adv_from is not None else steps
    adv_steps = steps - warm_steps
    n_params = generator.count_params()
    d_params = sum(d.count_params() for d in discriminators)
    total_min = (time.perf_counter() - t_script) / 60
    notes = [
        verdict + f" Per utterance, the vocoder is better than the baseline on MR-STFT in {per_utt['mrstft']}, "
        f"PESQ-WB in {per_utt['pesq_wb']} and STOI in {per_utt['stoi']} of {len(test_audio)} test utterances.",
        "",
        f"- Data: `data/speech` (festival, voice slt, 22050 Hz): {len(train)} `train` utterances for training; "
        f"scores are means (± std across utterances) over the {len(test_audio)} `test` utterances, whole "
        f"({audio_seconds:.1f} s of audio), never seen in training.",
        f"- Features: log-mel {cfg.to_dict()} (hop = the generator's total upsampling {hop}); every system gets the "
        "same log-mel of the original utterance.",
        f"- Model: `{recipe.generator_preset}` generator ({n_params / 1e6:.2f} M parameters) against "
        f"`{recipe.discriminator_preset}` discriminators ({d_params / 1e6:.2f} M); recipe "
        f"`vocoder_recipes.vocoder_recipe({args.model!r})`: {recipe.compile_kwargs()}, "
        f"G lr {recipe.g_learning_rate}, D lr {recipe.d_learning_rate}, betas ({recipe.beta_1}, {recipe.beta_2}), "
        f"G clipnorm {recipe.g_clipnorm}.",
        f"- Training: {steps} steps of batch {args.batch_size} x {args.segment_length} samples "
        f"({args.segment_length / cfg.sample_rate:.2f} s) in {state['train_seconds'] / 60:.1f} min of training "
        f"wall time ({state['train_seconds'] / max(steps, 1):.2f} s/step on average, {state['sessions']} "
        f"session(s)); generator warm-up on the reconstruction losses only for steps 0-{warm_steps}, then "
        + (f"the adversarial phase (discriminator on, adversarial weight {recipe.adversarial_weight}) for "
           f"{adv_steps} steps (the last {recipe.adversarial_fraction:.0%} of the time budget)."
           if adv_steps > 0 else "no adversarial phase (budget spent on warm-up)."),
        f"- Griffin-Lim: `audiogen_tf.features.log_mel_to_audio` (NNLS mel inversion, fast Griffin-Lim with "
        f"momentum 0.99, random phase with seed {args.seed}) at 32 and 64 iterations; the baseline is the better "
        f"of the two by MR-STFT distance: {gl_best}.",
        "- The untrained row is the same generator with its initial weights (the floor). PESQ returns nothing "
        "(\"no utterances detected\") for some near-silent outputs; such cells say how many utterances were scored.",
        "- Metrics: `audiogen_tf.metrics.multi_resolution_stft_distance` (FFT 512/1024/2048, spectral "
        "convergence + log magnitude; not the training loss's resolutions), `pesq_wb` (P.862.2 at 16 kHz), "
        "`stoi` (pystoi). Real-time factor: compute seconds / audio seconds on this shared CPU.",
        f"- Wavs of the first 3 test utterances (original, vocoder, Griffin-Lim, untrained) are in "
        f"`{os.path.relpath(os.path.join(out, 'samples'), ROOT)}/` (not committed); generator: "
        f"`{os.path.relpath(model_path, ROOT)}`.",
        f"- Wall time of this script run: {total_min:.1f} min. The 2 cores were shared with other jobs, so the "
        f"step rate (and the matmul peak, measured at the start of this run: {peak:.1f} GFLOP/s) varies.",
    ]
    notes += [f"- {line}" for line in args.note]
    if state.get("adversarial_error"):
        notes.append(f"- PROBLEM: the adversarial phase stopped with {state['adversarial_error']}.")
    text = write_markdown_table(args.md, rows, f"Vocoder speech quality: {nice} vs Griffin-Lim", command,
                                notes=notes, peak_gflops=peak)
    print(text, flush=True)
    print(f"wrote {args.md}", flush=True)
    print(json.dumps({"machine": machine_info(peak)}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
