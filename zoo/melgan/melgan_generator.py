"""MelGAN generator: mel frames -> waveform with transposed convs and dilated residual stacks.

Paper: Kumar et al. 2019, "MelGAN: Generative Adversarial Networks for Conditional Waveform Synthesis"
(arXiv:1910.06711), appendix A.
"""

from __future__ import annotations

import math

import keras

from audiogen_tf.features import CarriesFeatures, carried_mel_config
from audiogen_tf.layers.conv import ReflectionPad1D, conv1d, conv1d_transpose
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register
from zoo.melgan.melgan_blocks import melgan_resblock
from zoo.weight_norm_vocoder import WeightNormModelMixin


def melgan_stack(mel, *, channels, upsample_rates, residual_dilations, out_channels, leaky_relu_slope, weight_norm,
                 export_layers=False, upsample_padding="same"):
    """Wire the MelGAN generator body on ``mel`` (batch, frames, n_mels) -> tanh output (batch, T, out_channels).

    Reflection-padded kernel-7 input conv to ``channels``; per stage a LeakyReLU, a transposed conv with
    kernel ``2 * rate`` and stride ``rate`` halving the channels, and one :func:`melgan_resblock` per
    dilation; LeakyReLU, reflection-padded kernel-7 output conv, tanh. ``export_layers``,
    ``upsample_padding``: see :class:`MelGANGenerator`.
    """
    if upsample_padding not in ("same", "reference"):
        raise ValueError(f"upsample_padding must be 'same' or 'reference', got {upsample_padding!r}.")
    if export_layers and weight_norm:
        raise ValueError("export_layers=True needs weight_norm=False (see remove_weight_norm(export_layers=True)).")
    plain = {"weight_norm": weight_norm, "export_layers": bool(export_layers)}
    x = ReflectionPad1D(3, name="pad_pre")(mel)
    x = conv1d(channels, 7, **plain, name="conv_pre")(x)
    for i, r in enumerate(upsample_rates):
        ch = channels // (2 ** (i + 1))
        x = keras.layers.LeakyReLU(leaky_relu_slope, name=f"up{i}_act")(x)
        if upsample_padding == "reference" and r % 2:
            # the reference code's ConvTranspose1d(padding=r // 2 + 1, output_padding=1) keeps the full output
            # from r // 2 + 1 on; Keras "same" would start one sample earlier, at (2r - r) // 2
            x = conv1d_transpose(ch, 2 * r, strides=r, padding="valid", **plain, name=f"up{i}")(x)
            x = keras.layers.Cropping1D((r // 2 + 1, r - r // 2 - 1), name=f"up{i}_crop")(x)
        else:
            x = conv1d_transpose(ch, 2 * r, strides=r, padding="same", **plain, name=f"up{i}")(x)
        for j, d in enumerate(residual_dilations):
            x = melgan_resblock(x, ch, d, slope=leaky_relu_slope, **plain, name=f"stack{i}_rb{j}")
    x = keras.layers.LeakyReLU(leaky_relu_slope, name="post_act")(x)
    x = ReflectionPad1D(3, name="pad_post")(x)
    x = conv1d(out_channels, 7, **plain, name="conv_post")(x)
    return x


@register
class MelGANGenerator(CarriesFeatures, ConstructorConfigMixin, PresetMixin, WeightNormModelMixin, keras.Model):
    """MelGAN generator: mel (batch, frames, n_mels) -> audio (batch, frames * hop_length, 1) in [-1, 1].

    ``hop_length = prod(upsample_rates)``. Reflection padding needs inputs longer than the largest pad of
    each stage (the "melgan" preset needs >= 4 frames, dilation 9 at 8x the frame rate is then fine).
    The "melgan" preset has 4.26 M parameters as in the paper,
    counted with ``count_params_folded()`` (each weight-normalized conv counted as its plain conv).

    Args:
        n_mels: mel bands of the input.
        channels: channels after the input conv (512 in the paper); halved at every upsampling stage.
        upsample_rates: transposed-conv strides (kernel = 2 x stride).
        residual_dilations: dilations of the residual blocks after each upsampling (3 ** j in the paper).
        leaky_relu_slope: 0.2 in the paper.
        weight_norm: weight-normalize every conv (fold with ``remove_weight_norm()``).
        export_layers: build the export-friendly equivalent layers (needs ``weight_norm=False``): transposed
            convs as ``PhaseConv1DTranspose``, dilated convs as ``DilatedConv1D`` (same function; what
            ``remove_weight_norm(export_layers=True)`` and ``export_endpoints()`` use).
        upsample_padding: "same" (Keras "same" transposed convs) or "reference" (the crop of the reference
            code, kan-bayashi/ParallelWaveGAN and descriptinc/melgan-neurips; it differs by one sample for odd
            rates only; checkpoint import uses it).

        mel_config: every ``MelConfig`` field of the input features (``hop_length`` = the model's hop), saved
            with the model (:meth:`features_of`); ``None`` only for files of older versions (``n_mels`` then 80
            unless given).

    Example:
        >>> import numpy as np
        >>> g = MelGANGenerator.from_preset("melgan_tiny")
        >>> tuple(g(np.zeros((1, 10, 80), "float32")).shape)
        (1, 2560, 1)
    """

    def __init__(self, n_mels=None, channels=512, upsample_rates=(8, 8, 2, 2), residual_dilations=(1, 3, 9),
                 leaky_relu_slope=0.2, weight_norm=True, export_layers=False, upsample_padding="same", mel_config=None,
                 name="melgan_generator", **kwargs):
        upsample_rates = [int(r) for r in upsample_rates]
        residual_dilations = [int(d) for d in residual_dilations]
        mel_config, n_mels = carried_mel_config(mel_config, n_mels, math.prod(upsample_rates), "MelGANGenerator")
        mel = keras.Input((None, n_mels), name="mel")
        x = melgan_stack(mel, channels=channels, upsample_rates=upsample_rates,
                         residual_dilations=residual_dilations, out_channels=1,
                         leaky_relu_slope=leaky_relu_slope, weight_norm=weight_norm, export_layers=export_layers,
                         upsample_padding=upsample_padding)
        audio = keras.layers.Activation("tanh", name="audio", dtype="float32")(x)
        super().__init__(inputs=mel, outputs=audio, name=name, **kwargs)
        self.keep_config(n_mels=n_mels, channels=channels, upsample_rates=upsample_rates,
                         residual_dilations=residual_dilations, leaky_relu_slope=leaky_relu_slope,
                         weight_norm=weight_norm, export_layers=bool(export_layers),
                         upsample_padding=upsample_padding, mel_config=mel_config)
        self.hop_length = math.prod(upsample_rates)
