"""``audiogen import``: a PyTorch vocoder checkpoint -> a ``.keras`` model of the zoo (no torch needed).

Example:
    audiogen import g_02500000 --arch hifigan_v1 --out hifigan_v1.keras
    audiogen import checkpoint-400000steps.pkl --arch multiband_melgan --config config.yml --out mb_melgan.keras
"""

from __future__ import annotations

import os

EXAMPLE = "audiogen import g_02500000 --arch hifigan_v1 --out hifigan_v1.keras"


def _read_config(path):
    """A ``.json`` or ``.yml`` / ``.yaml`` training config as a dict."""
    from audiogen_tf.errors import ConfigError

    try:
        with open(path) as f:
            if path.endswith((".yml", ".yaml")):
                import yaml

                return yaml.safe_load(f)
            import json

            return json.load(f)
    except Exception as e:  # OSError, json's ValueError, yaml.YAMLError
        raise ConfigError(f"{path}: cannot read the config: {type(e).__name__}: {e}") from e


def _default_config(checkpoint):
    folder = os.path.dirname(os.path.abspath(checkpoint))
    for name in ("config.json", "config.yml", "config.yaml"):
        if os.path.isfile(os.path.join(folder, name)):
            return os.path.join(folder, name)
    return None


def import_command(args) -> str:
    """Run ``audiogen import``: check the output, read the checkpoint (within its bounds, before TensorFlow is
    loaded), map, check, save; prints what was imported. Returns the output path."""
    from audiogen_tf.atomic import atomic_path, keep_or_replace, refuse_own_input
    from audiogen_tf.errors import ConfigError
    from audiogen_tf.torch_checkpoint import CheckpointFormatError, UnsafeCheckpointError, load_torch_checkpoint

    out = args.out
    if not out.endswith(".keras"):
        raise ConfigError(f"{out}: the output must end in .keras")
    config_path = args.config or _default_config(args.checkpoint)
    force = getattr(args, "force", False)
    inputs = [args.checkpoint, config_path]
    refuse_own_input(out, inputs)  # refused before any work, --force or not
    if not force:
        keep_or_replace(out, force=False)
    config = _read_config(config_path) if config_path else None
    keep = True if args.keep_weight_norm else None
    try:
        gib = getattr(args, "max_memory_gib", None)
        if gib is not None and not gib > 0:
            raise ConfigError(f"--max-memory-gib {gib}: must be a positive number of GiB")
        checkpoint = load_torch_checkpoint(args.checkpoint, **({"max_bytes": int(gib * 2**30)} if gib else {}))
        from zoo.torch_import import import_checkpoint  # only now: a refused file never pays for TensorFlow

        model, info = import_checkpoint(args.checkpoint, args.arch, config=config, keep_weight_norm=keep,
                                        checkpoint=checkpoint)
    except (UnsafeCheckpointError, CheckpointFormatError, ValueError) as e:
        raise ConfigError(str(e)) from e
    backup = keep_or_replace(out, force=force, inputs=inputs)
    with atomic_path(out) as tmp:
        model.save(tmp)
    wn = "kept" if model.get_config().get("weight_norm") else "folded"
    print(f"imported {args.checkpoint} as {args.arch}: {type(model).__name__}, {model.count_params():,} parameters, "
          f"weight norm {wn}, {info['seconds']:.2f} s" + (f" (config {config_path})" if config_path else ""))
    print(f"wrote {out}" + (f" (the old one is kept as {backup})" if backup else ""))
    return out


def add_parser(sub):
    """Register the ``import`` subcommand on an ``argparse`` subparsers object."""
    import argparse

    p = sub.add_parser(
        "import", help="import a PyTorch vocoder checkpoint (HiFi-GAN, MelGAN) into a .keras model",
        description="Reads a torch.save checkpoint without torch and without running code from it "
                    "(torch.load(weights_only=True) semantics), and bounds what it allocates: declared sizes, "
                    "shapes and strides are checked against the file before allocating, under a memory cap "
                    "(--max-memory-gib). Architectures: hifigan_v1, hifigan_v2, hifigan_v3, "
                    "hifigan (any jik876 config.json), hifigan_discriminator (do_* file), melgan, multiband_melgan "
                    "(kan-bayashi/ParallelWaveGAN).",
        epilog="Examples:\n  " + EXAMPLE + "\n  audiogen import do_02500000 --arch hifigan_discriminator --out d.keras"
               "\n  audiogen import checkpoint-1000000steps.pkl --arch multiband_melgan --out mb.keras",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("checkpoint", help="the PyTorch checkpoint file")
    p.add_argument("--arch", required=True, help="architecture of the checkpoint (see above)")
    p.add_argument("--config", default=None,
                   help="training config (.json / .yml; default: config.json or config.yml beside the checkpoint)")
    p.add_argument("--keep-weight-norm", action="store_true",
                   help="keep weight-normalized layers for fine-tuning (default: folded, except discriminators)")
    p.add_argument("--out", required=True, help="output .keras file")
    p.add_argument("--force", action="store_true",
                   help="replace an existing --out (the old one is kept as OUT.bak; never the checkpoint or config)")
    p.add_argument("--max-memory-gib", type=float, default=None,
                   help="cap on what reading the checkpoint may allocate (default 4 GiB)")
    return p
