"""Import gemelo-ai/vocos mel-vocoder checkpoints into :class:`ISTFTVocoder`.

The reference (Siuzdak 2023, github.com/gemelo-ai/vocos) names its modules ``backbone.embed`` (Conv1d, kernel 7),
``backbone.norm`` (LayerNorm), ``backbone.convnext.{i}.dwconv`` (depthwise Conv1d) / ``.norm`` / ``.pwconv1`` /
``.pwconv2`` (Linear) / ``.gamma`` (layer scale), ``backbone.final_layer_norm`` and ``head.out`` (Linear to
``n_fft + 2``: log-magnitudes, then phases); ``head.istft.window`` and the feature extractor's buffers are
recomputed here. ``ISTFTVocoder(phase_head="direct", amplitude_prior="none", max_log_amplitude=log(100))`` has
the same topology; the inverse STFT follows the head's ``padding`` ("center" or "same"), and the mel settings
(torchaudio's HTK mel, no area normalisation, log floor 1e-7) come from the checkpoint's ``config.yaml``.

Example (not run here: it needs a checkpoint):
    v, info = import_checkpoint("pytorch_model.bin", arch="vocos", config="config.yaml")
"""

from __future__ import annotations

import math

from audiogen_tf.torch_import import ImportMismatchError, TorchStateDict
from zoo.istft_vocoder.istft_vocoder_model import ISTFTVocoder

ARCHS = ("vocos",)


def _state_dict(checkpoint, source, arch):
    """The generator's tensors: a bare state dict, or a Lightning checkpoint's ``state_dict`` (discriminators dropped)."""
    if not isinstance(checkpoint, dict):
        raise ImportMismatchError(source, arch, hint=f"expected a state dict, got {type(checkpoint).__name__}")
    state = checkpoint.get("state_dict", checkpoint)
    keep = ("backbone.", "head.", "feature_extractor.")
    return {k: v for k, v in state.items() if k.startswith(keep)}


def _config(config, source):
    """(mel settings, backbone args, head args) from Vocos' YAML config (dict with feature_extractor/backbone/head)."""
    if config is None:
        raise ValueError(f"{source}: --arch vocos needs the checkpoint's config.yaml (--config)")
    if "model" in config and "init_args" in config["model"]:  # a training config: the model part
        config = config["model"]["init_args"]
    try:
        fe, bb, head = (config[k]["init_args"] for k in ("feature_extractor", "backbone", "head"))
    except (KeyError, TypeError) as err:
        raise ValueError(f"{source}: config has no feature_extractor / backbone / head init_args ({err})") from err
    if not str(config["feature_extractor"].get("class_path", "")).endswith("MelSpectrogramFeatures"):
        raise ValueError(f"{source}: only the mel Vocos is supported, got {config['feature_extractor'].get('class_path')}")
    if not str(config["head"].get("class_path", "")).endswith("ISTFTHead"):
        raise ValueError(f"{source}: only the ISTFTHead is supported, got {config['head'].get('class_path')}")
    if bb.get("adanorm_num_embeddings"):
        raise ValueError(f"{source}: AdaLayerNorm backbones (EnCodec Vocos) are not supported")
    n_fft, hop = int(fe.get("n_fft", 1024)), int(fe.get("hop_length", 256))
    mel = {"sample_rate": int(fe.get("sample_rate", 24000)), "n_fft": n_fft, "hop_length": hop, "win_length": n_fft,
           "n_mels": int(fe.get("n_mels", 100)), "fmin": 0.0, "fmax": None, "power": 1.0, "htk": True, "norm": None,
           "center": fe.get("padding", "center") == "center", "log_floor": 1e-7}
    if int(head.get("n_fft", n_fft)) != n_fft or int(head.get("hop_length", hop)) != hop:
        raise ValueError(f"{source}: head n_fft/hop ({head.get('n_fft')}/{head.get('hop_length')}) differ from the "
                         f"features' ({n_fft}/{hop})")
    return mel, bb, head


def import_vocos(checkpoint, arch="vocos", config=None, keep_weight_norm=False, source="checkpoint") -> ISTFTVocoder:
    """Build an :class:`ISTFTVocoder` holding a Vocos mel vocoder's weights.

    Args:
        checkpoint: the loaded ``pytorch_model.bin`` (state dict) or a Lightning ``.ckpt`` (``state_dict``).
        config: Vocos' ``config.yaml`` as a dict (the released one, or a training config's ``model.init_args``).
        keep_weight_norm: unused (Vocos has no weight norm).

    Returns:
        The vocoder: mel (batch, frames, n_mels) -> audio (batch, frames * hop, 1); its first
        ``(frames - 1) * hop`` samples are the reference's ``head(backbone(mel))`` with centre padding, all of them
        with "same" padding.

    Raises:
        ImportMismatchError: missing / unexpected keys or shape mismatches, listed.
    """
    if arch not in ARCHS:
        raise ValueError(f"unknown Vocos arch {arch!r}; one of {', '.join(ARCHS)}")
    mel, bb, head = _config(config, source)
    state = _state_dict(checkpoint, source, arch)
    dim, inter, layers = int(bb["dim"]), int(bb["intermediate_dim"]), int(bb["num_layers"])
    n_mels = int(bb.get("input_channels", mel["n_mels"]))
    if n_mels != mel["n_mels"]:
        raise ValueError(f"{source}: backbone input_channels {n_mels} differ from the features' n_mels {mel['n_mels']}")
    model = ISTFTVocoder(mel_config=mel, dim=dim, intermediate_dim=inter, num_blocks=layers, kernel_size=7,
                         phase_head="direct", amplitude_prior="none", max_log_amplitude=math.log(1e2),
                         istft_padding=head.get("padding", "same"))
    sd = TorchStateDict(state, source, arch)
    bins = mel["n_fft"] // 2 + 1

    def dense(layer_name, prefix, n_in, n_out, rows=slice(None)):
        w = sd.take(f"{prefix}.weight", (n_out, n_in) if rows == slice(None) else (2 * bins, n_in))
        b = sd.take(f"{prefix}.bias", (n_out,) if rows == slice(None) else (2 * bins,))
        if w is not None and b is not None:
            model.get_layer(layer_name).set_weights([w[rows].T, b[rows]])

    def norm(layer_name, prefix):
        g, b = sd.take(f"{prefix}.weight", (dim,)), sd.take(f"{prefix}.bias", (dim,))
        if g is not None and b is not None:
            model.get_layer(layer_name).set_weights([g, b])

    w, b = sd.take("backbone.embed.weight", (dim, n_mels, 7)), sd.take("backbone.embed.bias", (dim,))
    if w is not None and b is not None:
        model.get_layer("embed").set_weights([w.transpose(2, 1, 0), b])
    norm("embed_norm", "backbone.norm")
    for i in range(layers):
        p = f"backbone.convnext.{i}"
        w, b = sd.take(f"{p}.dwconv.weight", (dim, 1, 7)), sd.take(f"{p}.dwconv.bias", (dim,))
        if w is not None and b is not None:  # torch (dim, 1, k) -> Keras depthwise (k, dim, 1)
            model.get_layer(f"block{i}_dwconv").set_weights([w.transpose(2, 0, 1), b])
        norm(f"block{i}_norm", f"{p}.norm")
        dense(f"block{i}_pwconv1", f"{p}.pwconv1", dim, inter)
        dense(f"block{i}_pwconv2", f"{p}.pwconv2", inter, dim)
        gamma = sd.take(f"{p}.gamma", (dim,))
        if gamma is not None:
            model.get_layer(f"block{i}_scale").set_weights([gamma])
    norm("final_norm", "backbone.final_layer_norm")
    dense("amplitude", "head.out", dim, bins, rows=slice(0, bins))
    sd.used.discard("head.out.weight")  # taken once per half; count it once
    dense("phase", "head.out", dim, bins, rows=slice(bins, 2 * bins))
    sd.ignore("head.istft.")  # the Hann window, recomputed
    sd.ignore("feature_extractor.")  # torchaudio's window and HTK filterbank, recomputed from the config
    sd.check(hint="a Vocos mel vocoder (backbone.convnext.*, head.out) is expected")
    return model


def _import(checkpoint, arch, config, keep_weight_norm, source):
    return import_vocos(checkpoint, arch=arch, config=config, keep_weight_norm=keep_weight_norm, source=source)


TORCH_IMPORTERS = {
    "vocos": (_import, "gemelo-ai/vocos mel vocoder (pytorch_model.bin or a Lightning .ckpt, with its config.yaml)"),
}
