"""What one training step of the speech vocoders costs on this machine, and what a time budget buys.

For each vocoder recipe of ``benchmarks/vocoder_recipes.py`` (Multi-band MelGAN, HiFi-GAN V2) it builds the
same ``GANTrainer`` as ``vocoder_speech_quality.py`` on segments of ``data/speech`` and times, after one
untimed step (graph tracing), ``--steps`` steps of

- the generator warm-up (reconstruction losses only, discriminator off), and
- the adversarial game (discriminator update + generator update with adversarial and feature-matching terms),

then writes the seconds per step, the steps a 2-hour budget buys at that rate, and that count as a fraction of
the step counts the papers train for, next to the float32 matmul peak measured in the same run.

Usage:
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/vocoder_train_step_cost.py --steps 3
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# Steps the papers train for (generator updates): Kong et al. 2020 report HiFi-GAN trained up to 2.5 M steps
# (500 k in their ablations); Yang et al. 2020 pre-train the Multi-band MelGAN generator for 200 k steps and
# train 1 M steps in all.
PAPER_STEPS = {"hifigan_v2": (500_000, "500 k (ablations) to 2.5 M"), "multiband_melgan": (1_000_000, "1 M")}
SEGMENTS = {"hifigan_v2": 8192, "multiband_melgan": 8000}  # multiples of the hops 256 and 200


def time_steps(trainer, dataset, steps):
    """Seconds per step over ``steps`` steps of ``trainer.fit`` after one untimed step (tracing)."""
    trainer.fit(dataset, epochs=1, steps_per_epoch=1, verbose=0)
    start = time.perf_counter()
    trainer.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
    return (time.perf_counter() - start) / steps


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["multiband_melgan", "hifigan_v2"], choices=sorted(SEGMENTS))
    ap.add_argument("--steps", type=int, default=3, help="timed steps per phase")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--budget-hours", type=float, default=2.0)
    ap.add_argument("--manifest", default=os.path.join(ROOT, "data", "speech", "manifest.csv"))
    ap.add_argument("--md", default=os.path.join(ROOT, "benchmarks", "results", "vocoder_train_step_cost.md"))
    args = ap.parse_args(argv)
    if not os.path.exists(args.manifest):
        sys.exit(f"{args.manifest} is missing: build it with `audiogen data speech data/speech` (needs festival)")

    import tensorflow as tf

    from audiogen_tf import manifest
    from bench_utils import matmul_peak_gflops, write_markdown_table
    from audiogen_tf.data import segment_dataset
    from training.gan_trainer import GANTrainer
    from vocoder_recipes import vocoder_recipe

    peak = matmul_peak_gflops()
    train = [e for e in manifest.read_manifest(args.manifest) if e.get("split", "train") == "train"]
    rows = []
    for name in args.models:
        recipe = vocoder_recipe(name)
        for phase, warmup in (("generator warm-up", 10**12), ("adversarial", 0)):
            tf.keras.backend.clear_session()
            generator = recipe.build_generator()
            cfg = recipe.mel_config(int(generator.hop_length))
            discriminators = recipe.build_discriminators()
            trainer = GANTrainer(generator, discriminators, mode="vocoder", mel_config=cfg, seed=0)
            g_opt, d_opt = recipe.optimizers()
            trainer.compile(g_optimizer=g_opt, d_optimizer=d_opt, generator_warmup_steps=warmup,
                            **recipe.compile_kwargs())
            dataset = segment_dataset(train[:64], segment_length=SEGMENTS[name], batch_size=args.batch_size,
                                      mel_config=cfg, shuffle=True, seed=0, repeat=True, cache=True)
            seconds = time_steps(trainer, dataset, args.steps)
            in_budget = args.budget_hours * 3600.0 / seconds
            paper, paper_text = PAPER_STEPS[name]
            rows.append({
                "recipe": name, "phase": phase,
                "G / D parameters (M)": f"{generator.count_params() / 1e6:.2f} / "
                                        f"{sum(d.count_params() for d in discriminators) / 1e6:.2f}",
                "batch x samples": f"{args.batch_size} x {SEGMENTS[name]}",
                "s / step": seconds, f"steps in {args.budget_hours:g} h": int(in_budget),
                "paper's steps": paper_text, "fraction of paper": in_budget / paper,
            })
            print(rows[-1], flush=True)
    command = "python benchmarks/vocoder_train_step_cost.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    notes = [
        f"Timed with {tf.config.threading.get_intra_op_parallelism_threads() or 'all'} intra-op threads after one "
        "untimed step (graph tracing); the same trainer, recipes and data as `vocoder_speech_quality.py`.",
        "Fraction of paper: steps the budget buys at this rate over the generator steps the paper trains "
        "(warm-up and adversarial steps together); Kong et al. 2020 (HiFi-GAN), Yang et al. 2020 (Multi-band "
        "MelGAN).",
    ]
    write_markdown_table(args.md, rows, "Vocoder training step cost on this machine", command, notes,
                         peak_gflops=peak)
    print(f"wrote {args.md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
