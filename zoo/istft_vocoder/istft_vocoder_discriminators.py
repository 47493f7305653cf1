"""Discriminators of the iSTFT vocoder's optional adversarial stage: HiFi-GAN's multi-period discriminator and a
multi-resolution spectrogram discriminator, in one model (the pairing of Vocos).

Papers: Kong et al. 2020 (multi-period discriminator); Jang et al. 2021, "UnivNet" (multi-resolution
spectrogram discriminator); Siuzdak 2023 (Vocos uses both).
"""

from __future__ import annotations

import keras

from audiogen_tf.layers.conv import conv2d
from audiogen_tf.layers.spectral import STFTMagnitude
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register
from zoo.hifigan.hifigan_discriminators import _period_discriminator, _scaled

#: (n_fft, hop, win) of each spectrogram sub-discriminator (UnivNet's MRD)
MRD_RESOLUTIONS = ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240))


def _spectrogram_discriminator(audio, resolution, width, weight_norm, slope, name):
    """One MRD branch: linear STFT magnitude (batch, frames, bins, 1) -> 2-D convs; feature maps + score."""
    n_fft, hop, win = (int(v) for v in resolution)
    mag = STFTMagnitude(n_fft=n_fft, hop_length=hop, win_length=win, name=f"{name}_stft")(audio)
    x = keras.layers.Reshape((-1, n_fft // 2 + 1, 1), name=f"{name}_image")(mag)
    outputs = []
    specs = [((3, 9), (1, 1)), ((3, 9), (1, 2)), ((3, 9), (1, 2)), ((3, 9), (1, 2)), ((3, 3), (1, 1))]
    for i, (kernel, strides) in enumerate(specs):
        x = conv2d(_scaled(32, width), kernel, strides=strides, padding="same", weight_norm=weight_norm,
                   name=f"{name}_conv{i}")(x)
        x = keras.layers.LeakyReLU(slope, name=f"{name}_act{i}")(x)
        outputs.append(x)
    x = conv2d(1, (3, 3), padding="same", weight_norm=weight_norm, name=f"{name}_post")(x)
    return outputs + [keras.layers.Reshape((-1, 1), name=f"{name}_score")(x)]


@register
class ISTFTVocoderDiscriminator(ConstructorConfigMixin, PresetMixin, keras.Model):
    """Multi-period + multi-resolution spectrogram discriminator: audio (batch, time, 1) -> sub-discriminator lists.

    The output list holds one ``[feature_map_1, ..., feature_map_k, score]`` per period, then one per resolution
    (the ``GANTrainer`` contract).

    Args:
        periods: MPD periods (HiFi-GAN: 2, 3, 5, 7, 11).
        resolutions: ``(n_fft, hop, win)`` of each spectrogram branch.
        width: channel multiplier (1 = the papers' widths).
        leaky_relu_slope, weight_norm: as in HiFi-GAN.

    Example:
        >>> d = ISTFTVocoderDiscriminator.from_preset("istft_vocoder_tiny")
        >>> len(d(keras.ops.zeros((1, 4096, 1))))
        4
    """

    def __init__(self, periods=(2, 3, 5, 7, 11), resolutions=MRD_RESOLUTIONS, width=1.0, leaky_relu_slope=0.1,
                 weight_norm=True, name="istft_vocoder_discriminator", **kwargs):
        periods = [int(p) for p in periods]
        resolutions = [[int(v) for v in r] for r in resolutions]
        audio = keras.Input((None, 1), name="audio")
        outputs = [_period_discriminator(audio, p, width, weight_norm, leaky_relu_slope, f"p{p}") for p in periods]
        outputs += [_spectrogram_discriminator(audio, r, width, weight_norm, leaky_relu_slope, f"r{i}")
                    for i, r in enumerate(resolutions)]
        super().__init__(inputs=audio, outputs=outputs, name=name, **kwargs)
        self.keep_config(periods=periods, resolutions=resolutions, width=float(width),
                         leaky_relu_slope=float(leaky_relu_slope), weight_norm=bool(weight_norm))

