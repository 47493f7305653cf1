"""Import kan-bayashi/ParallelWaveGAN MelGAN and Multi-band MelGAN generator checkpoints.

ParallelWaveGAN's ``MelGANGenerator`` (also its Multi-band MelGAN generator, with ``out_channels`` sub-bands and a
PQMF applied outside the module) is one ``torch.nn.Sequential`` named ``melgan``: reflection pad, input conv
(``melgan.1``), then per upsampling stage a LeakyReLU, a ``ConvTranspose1d`` and ``stacks`` ``ResidualStack``
modules (``stack.2`` dilated conv, ``stack.4`` 1x1 conv, ``skip_layer``), then LeakyReLU, pad, output conv and
tanh. The sizes (channels, upsampling scales, stacks, sub-bands) are read from the weights, the activation slope
and the remaining options from the checkpoint's ``config.yml`` when given; options this library's
:class:`MelGANGenerator` does not have (causal convs, kernel sizes other than 7 / 3, no bias, no final tanh) are
refused with the option named. The models are built with ``upsample_padding="reference"``, the transposed-conv
crop of the reference for odd scales.

Example (not run here: it needs a checkpoint):
    g = import_melgan_generator(load_torch_checkpoint("checkpoint-400000steps.pkl"), arch="multiband_melgan")
"""

from __future__ import annotations

from audiogen_tf.torch_import import ImportMismatchError, TorchStateDict
from zoo.melgan.melgan_generator import MelGANGenerator
from zoo.melgan.melgan_multiband_generator import MultiBandMelGANGenerator

ARCHS = ("melgan", "multiband_melgan")
# ParallelWaveGAN MelGANGenerator arguments this library supports, with the only value it supports
_FIXED = {"kernel_size": 7, "stack_kernel_size": 3, "bias": True, "nonlinear_activation": "LeakyReLU",
          "pad": "ReflectionPad1d", "use_final_nonlinear_activation": True, "use_causal_conv": False}


def _generator_state(checkpoint, source, arch):
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("model"), dict) and \
            isinstance(checkpoint["model"].get("generator"), dict):
        return checkpoint["model"]["generator"]
    if isinstance(checkpoint, dict) and checkpoint and all(hasattr(v, "shape") for v in checkpoint.values()):
        return checkpoint
    keys = ", ".join(map(str, list(checkpoint)[:10])) if isinstance(checkpoint, dict) else type(checkpoint).__name__
    hint = f"a ParallelWaveGAN checkpoint holds model.generator; found: {keys}"
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("generator"), dict):
        hint += " (a jik876/hifi-gan g_* file: try --arch hifigan_v1, hifigan_v2, hifigan_v3 or hifigan)"
    raise ImportMismatchError(source, arch, missing=["model.generator"], hint=hint)


def _weight(state, prefix):
    for key in (f"{prefix}.weight_v", f"{prefix}.parametrizations.weight.original1", f"{prefix}.weight"):
        if key in state:
            return state[key]
    return None


def infer_structure(state, source="checkpoint", arch="melgan"):
    """Channels, upsampling scales, stacks and output channels from the layer shapes of ``melgan.*``."""
    first = _weight(state, "melgan.1")
    if first is None:
        hint = ("hint: its keys (conv_pre, ups, resblocks) are those of a HiFi-GAN generator: try --arch hifigan_v1"
                if any(k.startswith("conv_pre") for k in state) else "")
        raise ImportMismatchError(source, arch, missing=["melgan.1.weight (the input conv)"], hint=hint)
    channels, n_mels = int(first.shape[0]), int(first.shape[1])
    index, scales, stacks = 3, [], None
    while _weight(state, f"melgan.{index}") is not None and _weight(state, f"melgan.{index}").ndim == 3 \
            and f"melgan.{index}.bias" in state and _weight(state, f"melgan.{index + 1}.stack.2") is not None:
        w = _weight(state, f"melgan.{index}")  # ConvTranspose1d (in, out, 2 * scale)
        scales.append(int(w.shape[2]) // 2)
        n = 0
        while _weight(state, f"melgan.{index + 1 + n}.stack.2") is not None:
            n += 1
        if stacks not in (None, n):
            raise ImportMismatchError(source, arch, hint=f"upsampling stages have {stacks} and {n} residual stacks")
        stacks = n
        index += 2 + n
    last = _weight(state, f"melgan.{index + 1}")
    if not scales or last is None:
        raise ImportMismatchError(source, arch, missing=[f"melgan.{index + 1}.weight (the output conv)"])
    return {"n_mels": n_mels, "channels": channels, "upsample_rates": scales,
            "residual_dilations": [3 ** j for j in range(stacks)], "out_channels": int(last.shape[0]),
            "_post_index": index + 1}


def import_melgan_generator(checkpoint, arch="melgan", config=None, keep_weight_norm=False,
                            source="checkpoint"):
    """Build a :class:`MelGANGenerator` / :class:`MultiBandMelGANGenerator` from a ParallelWaveGAN checkpoint.

    Args:
        checkpoint: the loaded ``checkpoint-*steps.pkl`` (``{"model": {"generator": ...}}``) or a bare state dict.
        arch: "melgan" (one output channel) or "multiband_melgan" (sub-bands merged by the model's PQMF, with
            ParallelWaveGAN's default filter bank: 62 taps, cut-off 0.142, beta 9).
        config: the checkpoint's ``config.yml`` as a dict (optional; gives the activation slope and is checked).
        keep_weight_norm: keep weight-normalized layers instead of folding them.
        source: the checkpoint path, for messages.

    Returns:
        The generator: mel (batch, frames, n_mels) -> audio (batch, frames * hop, 1).
    """
    if arch not in ARCHS:
        raise ValueError(f"unknown MelGAN arch {arch!r}; one of {', '.join(ARCHS)}")
    state = _generator_state(checkpoint, source, arch)
    found = infer_structure(state, source, arch)
    slope = 0.2
    params = (config or {}).get("generator_params", {}) if isinstance(config, dict) else {}
    pqmf = (config or {}).get("pqmf_params", {}) if isinstance(config, dict) else {}
    bad = [f"{k}={params[k]!r} (supported: {v!r})" for k, v in _FIXED.items() if k in params and params[k] != v]
    if bad:
        raise ValueError(f"{source}: generator options this library does not support: {', '.join(bad)}")
    if "nonlinear_activation_params" in params:
        slope = float(params["nonlinear_activation_params"].get("negative_slope", 0.01))
    out_channels = found["out_channels"]
    if arch == "melgan" and out_channels != 1:
        raise ImportMismatchError(source, arch, mismatched=[(f"melgan.{found['_post_index']}.weight out channels",
                                                             (out_channels,), (1,))],
                                  hint=f"{out_channels} output channels: a Multi-band MelGAN? try --arch "
                                       "multiband_melgan")
    if arch == "multiband_melgan" and out_channels == 1:
        raise ImportMismatchError(source, arch, mismatched=[(f"melgan.{found['_post_index']}.weight out channels",
                                                             (1,), ("subbands > 1",))],
                                  hint="one output channel: a full-band MelGAN? try --arch melgan")
    common = dict(n_mels=found["n_mels"], channels=found["channels"], upsample_rates=found["upsample_rates"],
                  residual_dilations=found["residual_dilations"], leaky_relu_slope=slope, weight_norm=True,
                  upsample_padding="reference")
    if arch == "melgan":
        model = MelGANGenerator(**common)
    else:
        model = MultiBandMelGANGenerator(subbands=out_channels, pqmf_taps=int(pqmf.get("taps", 62)),
                                         pqmf_cutoff_ratio=float(pqmf.get("cutoff_ratio", 0.142)),
                                         pqmf_beta=float(pqmf.get("beta", 9.0)), **common)
    sd = TorchStateDict(state, source, arch)
    sd.load_conv(model.get_layer("conv_pre"), "melgan.1")
    index = 3
    for i, _ in enumerate(found["upsample_rates"]):
        sd.load_conv(model.get_layer(f"up{i}"), f"melgan.{index}")
        for j, _ in enumerate(found["residual_dilations"]):
            stack = f"melgan.{index + 1 + j}"
            sd.load_conv(model.get_layer(f"stack{i}_rb{j}_conv0"), f"{stack}.stack.2")
            sd.load_conv(model.get_layer(f"stack{i}_rb{j}_conv1"), f"{stack}.stack.4")
            sd.load_conv(model.get_layer(f"stack{i}_rb{j}_shortcut"), f"{stack}.skip_layer")
        index += 2 + len(found["residual_dilations"])
    sd.load_conv(model.get_layer("conv_post"), f"melgan.{found['_post_index']}")
    # ParallelWaveGAN registers normalization statistics as buffers: not weights of the network
    sd.used.update(key for key in ("mean", "scale") if key in state)
    sd.check()
    return model if keep_weight_norm else model.remove_weight_norm()


def _import(checkpoint, arch, config, keep_weight_norm, source):
    return import_melgan_generator(checkpoint, arch=arch, config=config, keep_weight_norm=keep_weight_norm,
                                   source=source)


# what zoo.torch_import collects: arch -> (importer, what it reads)
TORCH_IMPORTERS = {
    "melgan": (_import, "kan-bayashi/ParallelWaveGAN MelGAN generator (checkpoint-*steps.pkl)"),
    "multiband_melgan": (_import, "kan-bayashi/ParallelWaveGAN Multi-band MelGAN generator (checkpoint-*steps.pkl)"),
}
