"""Multi-band MelGAN generator: a MelGAN body predicts PQMF sub-bands, a PQMF synthesis merges them.

Paper: Yang et al. 2020, "Multi-band MelGAN: Faster Waveform Generation for High-Quality Text-to-Speech"
(arXiv:2005.05106).
"""

from __future__ import annotations

import math

import keras

from audiogen_tf.features import CarriesFeatures, carried_mel_config
from audiogen_tf.layers.pqmf import PQMF
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register
from zoo.melgan.melgan_generator import melgan_stack
from zoo.weight_norm_vocoder import WeightNormModelMixin


@register
class MultiBandMelGANGenerator(CarriesFeatures, ConstructorConfigMixin, PresetMixin, WeightNormModelMixin, keras.Model):
    """Multi-band MelGAN: mel (batch, frames, n_mels) -> full-band audio (batch, frames * hop_length, 1).

    The MelGAN body outputs ``subbands`` tanh signals at ``prod(upsample_rates)`` samples per frame; the
    PQMF synthesis inside the model turns them into full-band audio, so
    ``hop_length = prod(upsample_rates) * subbands``. Reflection padding needs inputs longer than every pad:
    the "multiband_melgan" preset (dilation 27 at 2x the frame rate) needs >= 14 frames.

    Attributes:
        subband_generator: ``keras.Model`` sharing this model's layers, mel -> (batch, T / subbands, subbands)
            (for the sub-band multi-resolution STFT loss, compare with ``pqmf.analysis(audio)``).
        pqmf: the :class:`~audiogen_tf.layers.pqmf.PQMF` layer of the model.

    Args:
        n_mels: mel bands; channels: width after the input conv (384 in the paper);
        upsample_rates: transposed-conv strides of the sub-band signal; residual_dilations: dilations of each
        residual stack (1, 3, 9, 27: the paper's larger receptive field); subbands, pqmf_taps,
        pqmf_cutoff_ratio, pqmf_beta: the filter bank; leaky_relu_slope, weight_norm, export_layers,
        upsample_padding as in MelGAN.

        mel_config: every ``MelConfig`` field of the input features (``hop_length`` = the model's hop), saved
            with the model (:meth:`features_of`); ``None`` only for files of older versions (``n_mels`` then 80
            unless given).

    Example:
        >>> import numpy as np
        >>> g = MultiBandMelGANGenerator.from_preset("multiband_melgan_tiny")
        >>> tuple(g(np.zeros((1, 16, 80), "float32")).shape), tuple(g.subband_generator(np.zeros((1, 16, 80), "float32")).shape)
        ((1, 4096, 1), (1, 1024, 4))
    """

    def __init__(self, n_mels=None, channels=384, upsample_rates=(2, 5, 5), residual_dilations=(1, 3, 9, 27),
                 subbands=4, pqmf_taps=62, pqmf_cutoff_ratio=0.142, pqmf_beta=9.0, leaky_relu_slope=0.2,
                 weight_norm=True, export_layers=False, upsample_padding="same", mel_config=None, name="multiband_melgan_generator",
                 **kwargs):
        upsample_rates = [int(r) for r in upsample_rates]
        residual_dilations = [int(d) for d in residual_dilations]
        mel_config, n_mels = carried_mel_config(mel_config, n_mels, math.prod(upsample_rates) * subbands, "MultiBandMelGANGenerator")
        mel = keras.Input((None, n_mels), name="mel")
        x = melgan_stack(mel, channels=channels, upsample_rates=upsample_rates,
                         residual_dilations=residual_dilations, out_channels=subbands,
                         leaky_relu_slope=leaky_relu_slope, weight_norm=weight_norm, export_layers=export_layers,
                         upsample_padding=upsample_padding)
        sub = keras.layers.Activation("tanh", name="subbands", dtype="float32")(x)
        pqmf = PQMF(subbands, pqmf_taps, pqmf_cutoff_ratio, pqmf_beta, name="pqmf")
        audio = pqmf(sub, inverse=True)
        super().__init__(inputs=mel, outputs=audio, name=name, **kwargs)
        self.keep_config(n_mels=n_mels, channels=channels, upsample_rates=upsample_rates,
                         residual_dilations=residual_dilations, subbands=subbands, pqmf_taps=pqmf_taps,
                         pqmf_cutoff_ratio=pqmf_cutoff_ratio, pqmf_beta=pqmf_beta, leaky_relu_slope=leaky_relu_slope,
                         weight_norm=weight_norm, export_layers=bool(export_layers),
                         upsample_padding=upsample_padding, mel_config=mel_config)
        self.hop_length = math.prod(upsample_rates) * subbands

    #: loss terms this generator computes itself (a trainer asks for them by name: the recipe's ``losses``)
    SUPPLIED_LOSSES = ("subband_stft",)

    def supplied_losses(self, mel, audio, names, options=None, training=True):
        """``(audio (batch, time, 1), {"subband_stft": loss})``: the generated audio and the multi-resolution STFT
        loss of its sub-bands against the PQMF analysis of the recording ``audio`` (batch, time, 1), at
        ``options["subband_stft_resolutions"]`` (default Multi-band MelGAN's).

        Paper: Yang et al. 2020 (Multi-band MelGAN).
        """
        from audiogen_tf import losses as L

        sub = keras.ops.cast(self.subband_generator(mel, training=training), "float32")
        fake = keras.ops.cast(self.pqmf.synthesis(sub), "float32")
        real_sub, sub = L.crop_to_common_length(self.pqmf.analysis(keras.ops.cast(audio, "float32")), sub)
        resolutions = (options or {}).get("subband_stft_resolutions", L.MB_MELGAN_SUBBAND_STFT_RESOLUTIONS)
        sc, mag = L.multi_resolution_stft_loss(real_sub, sub, resolutions)
        return fake, {name: {"subband_stft": sc + mag}[name] for name in names}

    @property
    def pqmf(self):
        return self.get_layer("pqmf")

    @property
    def subband_generator(self):
        cached = self.__dict__.get("_subband_model")
        if cached is None:
            # kept out of Keras attribute tracking: it shares this model's layers and variables
            cached = keras.Model(self.input, self.get_layer("subbands").output, name=f"{self.name}_subbands")
            self.__dict__["_subband_model"] = cached
        return cached
