"""HiFi-GAN generator: log-mel frames -> waveform with transposed convs and multi-receptive-field fusion.

Paper: Kong, Kim & Bae 2020, "HiFi-GAN: Generative Adversarial Networks for Efficient and High Fidelity
Speech Synthesis" (arXiv:2010.05646).
"""

from __future__ import annotations

import math

import keras

from audiogen_tf.features import CarriesFeatures, carried_mel_config
from audiogen_tf.layers.conv import (
    conv1d,
    conv1d_transpose,
)
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register
from zoo.hifigan.hifigan_blocks import hifigan_resblock1, hifigan_resblock2
from zoo.weight_norm_vocoder import WeightNormModelMixin


@register
class HiFiGANGenerator(CarriesFeatures, ConstructorConfigMixin, PresetMixin, WeightNormModelMixin, keras.Model):
    """HiFi-GAN generator: mel (batch, frames, n_mels) -> audio (batch, frames * hop_length, 1) in [-1, 1].

    Stage i: LeakyReLU, transposed conv (stride ``upsample_rates[i]``, channels halved), then the mean of
    one residual block per (kernel, dilations) pair (the paper's MRF module). ``hop_length`` is
    ``prod(upsample_rates)``. Parameter counts (``count_params_folded()``, each weight-normalized conv counted
    as the plain conv it folds into, i.e. kernel + bias, no ``g``): V1 13.92 M, V2 0.92 M, V3 1.46 M as in
    the paper's Table 1.

    Args:
        n_mels: mel bands of the input (default: ``mel_config``'s, else 80).
        upsample_rates: stride of each transposed conv.
        upsample_kernel_sizes: kernel of each transposed conv (2x the stride in the paper).
        upsample_initial_channel: channels after the input conv; halved at every stage.
        resblock: "1" (two convs per dilation, V1/V2) or "2" (one conv per dilation, V3).
        resblock_kernel_sizes: kernel of each parallel residual block of the MRF.
        resblock_dilation_sizes: dilations of each residual block.
        leaky_relu_slope: slope inside the network (the final activation before the output conv uses 0.01,
            the default slope of the reference implementation).
        weight_norm: wrap every conv in weight normalization (fold it away with ``remove_weight_norm()``).
        export_layers: build the export-friendly equivalent layers (needs ``weight_norm=False``): transposed
            convs as ``PhaseConv1DTranspose``, dilated convs as ``DilatedConv1D`` (same function; what
            ``remove_weight_norm(export_layers=True)`` and ``export_endpoints()`` use).
        mel_config: every :class:`~audiogen_tf.features.MelConfig` field of the input features (its
            ``hop_length`` must equal ``prod(upsample_rates)``); saved with the model, so a ``.keras`` file alone
            computes its own input mel (:meth:`features_of`). ``None`` only for files of older versions.

    Example:
        >>> import numpy as np
        >>> g = HiFiGANGenerator.from_preset("hifigan_tiny")
        >>> tuple(g(np.zeros((1, 10, 80), "float32")).shape)
        (1, 2560, 1)
    """

    def __init__(
        self,
        n_mels=None,
        upsample_rates=(8, 8, 2, 2),
        upsample_kernel_sizes=(16, 16, 4, 4),
        upsample_initial_channel=512,
        resblock="1",
        resblock_kernel_sizes=(3, 7, 11),
        resblock_dilation_sizes=((1, 3, 5), (1, 3, 5), (1, 3, 5)),
        leaky_relu_slope=0.1,
        weight_norm=True,
        export_layers=False,
        mel_config=None,
        name="hifigan_generator",
        **kwargs,
    ):
        upsample_rates = [int(u) for u in upsample_rates]
        upsample_kernel_sizes = [int(k) for k in upsample_kernel_sizes]
        resblock_kernel_sizes = [int(k) for k in resblock_kernel_sizes]
        resblock_dilation_sizes = [[int(d) for d in ds] for ds in resblock_dilation_sizes]
        resblock = str(resblock)
        mel_config, n_mels = carried_mel_config(mel_config, n_mels, math.prod(upsample_rates), "HiFiGANGenerator")
        if len(upsample_rates) != len(upsample_kernel_sizes):
            raise ValueError("upsample_rates and upsample_kernel_sizes must have the same length.")
        if len(resblock_kernel_sizes) != len(resblock_dilation_sizes):
            raise ValueError("resblock_kernel_sizes and resblock_dilation_sizes must have the same length.")
        if resblock not in ("1", "2"):
            raise ValueError(f"resblock must be '1' or '2', got {resblock!r}.")
        if export_layers and weight_norm:
            raise ValueError("export_layers=True needs weight_norm=False (see remove_weight_norm(export_layers=True)).")
        block_fn = hifigan_resblock1 if resblock == "1" else hifigan_resblock2
        plain = {"weight_norm": weight_norm, "export_layers": bool(export_layers)}

        mel = keras.Input((None, n_mels), name="mel")
        x = conv1d(upsample_initial_channel, 7, padding="same", **plain, name="conv_pre")(mel)
        for i, (u, k) in enumerate(zip(upsample_rates, upsample_kernel_sizes)):
            ch = upsample_initial_channel // (2 ** (i + 1))
            x = keras.layers.LeakyReLU(leaky_relu_slope, name=f"up{i}_act")(x)
            x = conv1d_transpose(ch, k, strides=u, padding="same", **plain, name=f"up{i}")(x)
            branches = [
                block_fn(x, ch, rk, rd, slope=leaky_relu_slope, **plain, name=f"mrf{i}_rb{j}")
                for j, (rk, rd) in enumerate(zip(resblock_kernel_sizes, resblock_dilation_sizes))
            ]
            x = keras.layers.Average(name=f"mrf{i}_mean")(branches) if len(branches) > 1 else branches[0]
        x = keras.layers.LeakyReLU(0.01, name="post_act")(x)
        x = conv1d(1, 7, padding="same", **plain, name="conv_post")(x)
        audio = keras.layers.Activation("tanh", name="audio", dtype="float32")(x)
        super().__init__(inputs=mel, outputs=audio, name=name, **kwargs)

        self.keep_config(n_mels=n_mels, upsample_rates=upsample_rates, upsample_kernel_sizes=upsample_kernel_sizes,
                         upsample_initial_channel=upsample_initial_channel, resblock=resblock,
                         resblock_kernel_sizes=resblock_kernel_sizes, resblock_dilation_sizes=resblock_dilation_sizes,
                         leaky_relu_slope=leaky_relu_slope, weight_norm=weight_norm, export_layers=bool(export_layers),
                         mel_config=mel_config)
        self.hop_length = math.prod(upsample_rates)
