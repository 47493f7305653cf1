"""Import jik876/hifi-gan PyTorch checkpoints: generators (``g_*`` files) and discriminators (``do_*`` files).

The reference code (Kong et al. 2020, github.com/jik876/hifi-gan ``models.py``) names its modules
``conv_pre``, ``ups.{i}``, ``resblocks.{i * num_kernels + j}.convs1/convs2.{k}`` (ResBlock1) or ``.convs.{k}``
(ResBlock2), ``conv_post``; its discriminators ``mpd.discriminators.{d}.convs.{k}`` / ``.conv_post`` and
``msd.discriminators.{d}.convs.{k}`` / ``.conv_post``. The Keras layers of :class:`HiFiGANGenerator` and
:class:`HiFiGANDiscriminator` (built with ``padding="symmetric"``, the reference's zero padding) have the same
topology, so import is a name mapping plus the kernel layout change of :mod:`audiogen_tf.torch_import`.

Example (not run here: it needs a checkpoint):
    g = import_hifigan_generator(load_torch_checkpoint("g_02500000"), arch="hifigan_v1")
"""

from __future__ import annotations

from audiogen_tf.torch_import import ImportMismatchError, TorchStateDict
from zoo.hifigan.hifigan_discriminators import HiFiGANDiscriminator
from zoo.hifigan.hifigan_generator import HiFiGANGenerator
from zoo.hifigan.hifigan_presets import GENERATOR_PRESETS

GENERATOR_ARCHS = ("hifigan_v1", "hifigan_v2", "hifigan_v3", "hifigan")
DISCRIMINATOR_ARCHS = ("hifigan_discriminator",)
_CONFIG_KEYS = ("upsample_rates", "upsample_kernel_sizes", "upsample_initial_channel", "resblock",
                "resblock_kernel_sizes", "resblock_dilation_sizes")
_REFERENCE_PERIODS = (2, 3, 5, 7, 11)  # hard-coded in the reference MultiPeriodDiscriminator
_REFERENCE_SCALES = 3


def generator_config_from_json(config: dict, source="config.json") -> dict:
    """jik876's ``config.json`` (dict) -> :class:`HiFiGANGenerator` constructor arguments (without n_mels)."""
    missing = [k for k in _CONFIG_KEYS if k not in config]
    if missing:
        raise ValueError(f"{source}: a HiFi-GAN config needs {', '.join(missing)}")
    kwargs = {k: config[k] for k in _CONFIG_KEYS}
    for u, k in zip(kwargs["upsample_rates"], kwargs["upsample_kernel_sizes"]):
        if (int(k) - int(u)) % 2:
            raise ValueError(f"{source}: upsample kernel {k} with rate {u}: the reference pads (k - u) // 2 and its "
                             "output is then one sample longer than frames x hop; only even k - u is supported")
    return kwargs


def _generator_pairs(model: HiFiGANGenerator):
    """(Keras layer name, torch prefix) for every conv of the generator."""
    cfg = model.get_config()
    nk = len(cfg["resblock_kernel_sizes"])
    pairs = [("conv_pre", "conv_pre")]
    for i in range(len(cfg["upsample_rates"])):
        pairs.append((f"up{i}", f"ups.{i}"))
        for j, dilations in enumerate(cfg["resblock_dilation_sizes"]):
            rb = f"resblocks.{i * nk + j}"
            for k in range(len(dilations)):
                if cfg["resblock"] == "1":
                    pairs += [(f"mrf{i}_rb{j}_conv{k}a", f"{rb}.convs1.{k}"),
                              (f"mrf{i}_rb{j}_conv{k}b", f"{rb}.convs2.{k}")]
                else:
                    pairs.append((f"mrf{i}_rb{j}_conv{k}", f"{rb}.convs.{k}"))
    pairs.append(("conv_post", "conv_post"))
    return pairs


def _state_dict(checkpoint, key, source, arch):
    """The state dict under ``key`` of a checkpoint dict, or the checkpoint itself if it is a bare state dict."""
    if not isinstance(checkpoint, dict):
        raise ImportMismatchError(source, arch, missing=[key],
                                  hint=f"the checkpoint holds a {type(checkpoint).__name__}, not a dict of tensors")
    if key in checkpoint and isinstance(checkpoint[key], dict):
        return checkpoint[key]
    if checkpoint and all(hasattr(v, "shape") for v in checkpoint.values()):
        return checkpoint
    model = checkpoint.get("model")
    hint = ("hint: it holds model.generator, a ParallelWaveGAN checkpoint: try --arch melgan or multiband_melgan"
            if isinstance(model, dict) and "generator" in model else
            f"top-level keys: {', '.join(map(str, list(checkpoint)[:10]))}")
    raise ImportMismatchError(source, arch, missing=[key], hint=hint)


def _guess(state) -> str:
    """A hint naming what the checkpoint looks like."""
    keys = list(state)
    if any(k.startswith("melgan.") for k in keys):
        return "hint: its keys (melgan.*) are those of a ParallelWaveGAN MelGAN generator: try --arch melgan"
    if any(k.startswith("mpd.") or k.startswith("msd.") for k in keys):
        return "hint: it holds HiFi-GAN discriminators: try --arch hifigan_discriminator"
    for name in ("hifigan_v1", "hifigan_v2", "hifigan_v3"):
        preset = GENERATOR_PRESETS[name]
        w = state.get("conv_pre.weight_v", state.get("conv_pre.parametrizations.weight.original1",
                                                     state.get("conv_pre.weight")))
        n_res = len({k.split(".")[1] for k in keys if k.startswith("resblocks.")})
        if w is not None and w.shape[0] == preset["upsample_initial_channel"] and \
                n_res == len(preset["upsample_rates"]) * len(preset["resblock_kernel_sizes"]):
            return f"hint: its shapes are those of --arch {name}"
    return "hint: for a custom generator pass --arch hifigan with its config.json (--config)"


def import_hifigan_generator(checkpoint, arch="hifigan_v1", config=None, keep_weight_norm=False,
                             source="checkpoint") -> HiFiGANGenerator:
    """Build a :class:`HiFiGANGenerator` holding the weights of a jik876/hifi-gan generator checkpoint.

    Args:
        checkpoint: the loaded ``g_*`` file (``{"generator": state_dict}``) or a bare state dict.
        arch: "hifigan_v1", "hifigan_v2", "hifigan_v3", or "hifigan" with ``config``.
        config: the checkpoint's ``config.json`` as a dict (needed for "hifigan"; for V1-V3 it must agree).
        keep_weight_norm: keep weight-normalized layers (fine-tuning) instead of folding them (inference).
        source: the checkpoint path, for messages.

    Returns:
        The generator; mel (batch, frames, n_mels) -> audio (batch, frames * hop, 1), as the reference's
        ``generator(mel.transpose(1, 2))`` transposed.

    Raises:
        ImportMismatchError: missing / unexpected keys or shape mismatches, listed.
    """
    if arch not in GENERATOR_ARCHS:
        raise ValueError(f"unknown HiFi-GAN generator arch {arch!r}; one of {', '.join(GENERATOR_ARCHS)}")
    state = _state_dict(checkpoint, "generator", source, arch)
    if arch == "hifigan":
        if config is None:
            raise ValueError(f"{source}: --arch hifigan needs the checkpoint's config.json (--config)")
        kwargs = generator_config_from_json(config)
    else:
        kwargs = {k: GENERATOR_PRESETS[arch][k] for k in _CONFIG_KEYS}
        if config is not None:
            given = generator_config_from_json(config)
            differ = [k for k in _CONFIG_KEYS if _norm(given[k]) != _norm(kwargs[k])]
            if differ:
                raise ImportMismatchError(source, arch, hint="config.json differs from the preset in " + ", ".join(
                    f"{k} ({given[k]} vs {kwargs[k]})" for k in differ) + "; use --arch hifigan")
    w = state.get("conv_pre.weight_v", state.get("conv_pre.parametrizations.weight.original1",
                                                 state.get("conv_pre.weight")))
    n_mels = int(w.shape[1]) if w is not None and getattr(w, "ndim", 0) == 3 else 80
    model = HiFiGANGenerator(n_mels=n_mels, weight_norm=True, **kwargs)
    sd = TorchStateDict(state, source, arch)
    for layer_name, prefix in _generator_pairs(model):
        sd.load_conv(model.get_layer(layer_name), prefix)
    sd.check(hint=_guess(state))
    return model if keep_weight_norm else model.remove_weight_norm()


def _norm(value):
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    return str(value) if isinstance(value, str) else int(value)


def _discriminator_pairs(model: HiFiGANDiscriminator):
    cfg = model.get_config()
    pairs = []
    for d, p in enumerate(cfg["periods"]):
        pairs += [(f"p{p}_conv{k}", f"mpd.discriminators.{d}.convs.{k}") for k in range(5)]
        pairs.append((f"p{p}_post", f"mpd.discriminators.{d}.conv_post"))
    for d in range(cfg["num_scales"]):
        pairs += [(f"s_s{d}_conv{k}", f"msd.discriminators.{d}.convs.{k}") for k in range(7)]
        pairs.append((f"s_s{d}_conv7", f"msd.discriminators.{d}.conv_post"))
    return pairs


def import_hifigan_discriminator(checkpoint, keep_weight_norm=True, source="checkpoint") -> HiFiGANDiscriminator:
    """Build a :class:`HiFiGANDiscriminator` (MPD then MSD) from a jik876/hifi-gan ``do_*`` checkpoint.

    The reference's periods (2, 3, 5, 7, 11) and three scales are fixed; the channel width is read from the
    checkpoint (1.0 for the reference, smaller for a scaled-down test copy). The model uses
    ``padding="symmetric"`` so every conv and pooling pads as the reference does; its outputs are, per
    sub-discriminator, the reference's ``fmap`` list (feature maps, conv_post output last), with the period
    feature maps laid out (batch, frames, period, channels) and the score (batch, frames * period, 1).

    Args:
        checkpoint: the loaded ``do_*`` file (``{"mpd": ..., "msd": ...}``).
        keep_weight_norm: keep weight-normalized layers (the default: a discriminator is for fine-tuning).
        source: the checkpoint path, for messages.
    """
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("mpd"), dict) \
            or not isinstance(checkpoint.get("msd"), dict):
        keys = ", ".join(map(str, list(checkpoint)[:10])) if isinstance(checkpoint, dict) else type(checkpoint)
        raise ImportMismatchError(source, "hifigan_discriminator", missing=["mpd", "msd"],
                                  hint=f"a do_* checkpoint holds 'mpd' and 'msd' state dicts; found: {keys}")
    state = {f"mpd.{k}": v for k, v in checkpoint["mpd"].items()}
    state.update({f"msd.{k}": v for k, v in checkpoint["msd"].items()})
    first = state.get("mpd.discriminators.0.convs.0.weight_v",
                      state.get("mpd.discriminators.0.convs.0.parametrizations.weight.original1"))
    width = 1.0 if first is None else float(first.shape[0]) / 32.0
    model = HiFiGANDiscriminator(periods=_REFERENCE_PERIODS, num_scales=_REFERENCE_SCALES, width=width,
                                 weight_norm=True, padding="symmetric")
    sd = TorchStateDict(state, source, "hifigan_discriminator")
    for layer_name, prefix in _discriminator_pairs(model):
        sd.load_conv(model.get_layer(layer_name), prefix)
    sd.check()
    if keep_weight_norm:
        return model
    from audiogen_tf.layers.conv import fold_weight_norm

    return fold_weight_norm(model)



def _import_generator(checkpoint, arch, config, keep_weight_norm, source):
    return import_hifigan_generator(checkpoint, arch=arch, config=config, keep_weight_norm=keep_weight_norm,
                                    source=source)


def _import_discriminator(checkpoint, arch, config, keep_weight_norm, source):
    return import_hifigan_discriminator(checkpoint, keep_weight_norm=keep_weight_norm, source=source)


# what zoo.torch_import collects: arch -> (importer, what it reads)
TORCH_IMPORTERS = {
    "hifigan_v1": (_import_generator, "jik876/hifi-gan generator V1 (g_* file)"),
    "hifigan_v2": (_import_generator, "jik876/hifi-gan generator V2 (g_* file)"),
    "hifigan_v3": (_import_generator, "jik876/hifi-gan generator V3 (g_* file)"),
    "hifigan": (_import_generator, "jik876/hifi-gan generator of any config.json (g_* file + --config)"),
    "hifigan_discriminator": (_import_discriminator, "jik876/hifi-gan MPD + MSD (do_* file), for fine-tuning"),
}
