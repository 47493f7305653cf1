"""``audiogen train RECIPE``: train a recipe into a run folder; the same command again resumes it.

Imports ``training`` lazily (the CLI is the one place that wires the packages together).
"""

from __future__ import annotations

import argparse
import os
import sys

EXAMPLE = (
    "audiogen train hifigan --data data/notes/manifest.csv --out runs/hifigan \\\n"
    "      --set generator_preset=hifigan_tiny --set discriminator_preset=hifigan_tiny --set steps=2000\n"
    "  # run it again to resume from the last checkpoint; recipes: hifigan, melgan, multiband_melgan, wavegan,\n"
    "  # wavenet, encoders (training/configs/*.yaml) or any YAML file of the same keys"
)


def add_parser(sub) -> argparse.ArgumentParser:
    """Register the ``train`` subcommand on an argparse ``sub``-parsers object."""
    p = sub.add_parser(
        "train", help="train (or resume) a recipe: GAN vocoders, WaveGAN, WaveNet, encoders",
        epilog="Example:\n  " + EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("recipe", help="a recipe YAML file or a bundled recipe name (e.g. hifigan)")
    p.add_argument("--data", default=None, help="training audio: manifest, folder or glob (overrides the recipe)")
    p.add_argument("--out", default=None, help="run folder (default: runs/<recipe name>); rerun to resume")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a recipe key, e.g. --set steps=100 --set mel.n_mels=40 (repeatable)")
    p.add_argument("--tpu", default=None, help="TPU name or address ('local' for a TPU VM); default: auto-detect")
    p.add_argument("--quiet", action="store_true",
                   help="only the log lines (one per steps_per_epoch steps), no live line on a terminal; "
                        "`audiogen --verbose train` shows Keras' own progress bar with every metric instead")
    p.add_argument("--force", action="store_true",
                   help="start from step 0 when no checkpoint of the run can be restored (the damaged ones are "
                        "kept in ckpt/corrupt/), or when the recipe changes the run's features or model (the old "
                        "run is moved to OUT.old-<time>)")
    return p


def train_command(args) -> int:
    """Run ``audiogen train`` from parsed arguments; returns the exit code."""
    from audiogen_cli.quiet import verbose_requested
    from training.recipes import load_recipe
    from training.run import train

    recipe = load_recipe(args.recipe, args.overrides)  # every key checked before any work starts
    run_dir = args.out or os.path.join("runs", recipe.name)
    try:
        verbose = 2 if args.quiet else ("keras" if verbose_requested() else 1)
        result = train(recipe, data=args.data, out=run_dir, tpu=args.tpu, verbose=verbose,
                       force=getattr(args, "force", False))
    except KeyboardInterrupt:
        from training.fault_tolerance import checkpoint_paths

        kept = checkpoint_paths(os.path.join(run_dir, "ckpt"))
        where = (f"the newest checkpoint is {kept[-1]}" if kept else "no checkpoint was written yet")
        print(f"\naudiogen: interrupted; {where}. Run the same command again to resume.", file=sys.stderr)
        return 130
    if result.stopped_nonfinite and recipe.on_nonfinite == "stop":
        print(f"stopped at step {result.step}: non-finite loss (on_nonfinite=stop); checkpoints in {result.run_dir}/ckpt")
        return 3
    print(f"step {result.step} of {recipe.steps}; run folder {result.run_dir}"
          + (f"; model {result.model_path}" if result.model_path else ""))
    return 0
