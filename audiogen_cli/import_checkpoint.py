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
    """Run ``audiogen import``: read, map, check, save; prints what was imported. Returns the output path."""
    import keras

    from audiogen_tf.atomic import atomic_path
    from audiogen_tf.errors import ConfigError
    from audiogen_tf.torch_checkpoint import CheckpointFormatError, UnsafeCheckpointError
    from zoo.torch_import import import_checkpoint

    config_path = args.config or _default_config(args.checkpoint)
    config = _read_config(config_path) if config_path else None
    keep = True if args.keep_weight_norm else None
    try:
        model, info = import_checkpoint(args.checkpoint, args.arch, config=config, keep_weight_norm=keep)
    except (UnsafeCheckpointError, CheckpointFormatError, ValueError) as e:
        raise ConfigError(str(e)) from e
    out = args.out
    if not out.endswith(".keras"):
        raise ConfigError(f"{out}: the output must end in .keras")
    with atomic_path(out) as tmp:
        model.save(tmp)
    wn = "kept" if model.get_config().get("weight_norm") else "folded"
    print(f"imported {args.checkpoint} as {args.arch}: {type(model).__name__}, {model.count_params():,} parameters, "
          f"weight norm {wn}, {info['seconds']:.2f} s" + (f" (config {config_path})" if config_path else ""))
    print(f"wrote {out}")
    return out


def add_parser(sub):
    """Register the ``import`` subcommand on an ``argparse`` subparsers object."""
    import argparse

    p = sub.add_parser(
        "import", help="import a PyTorch vocoder checkpoint (HiFi-GAN, MelGAN) into a .keras model",
        description="Reads a torch.save checkpoint without torch and without running code from it "
                    "(torch.load(weights_only=True) semantics). Architectures: hifigan_v1, hifigan_v2, hifigan_v3, "
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
    return p
