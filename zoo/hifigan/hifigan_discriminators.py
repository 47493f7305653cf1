"""HiFi-GAN discriminators: multi-period (MPD) and multi-scale (MSD), and both together.

Output contract (shared by every discriminator of ``zoo``): the model maps audio (batch, time, 1) to a
Python list with one entry per sub-discriminator; each entry is a list
``[feature_map_1, ..., feature_map_k, score]`` (score last). Keras functional models keep this nesting,
so ``model(audio)`` and a model reloaded from ``.keras`` return it as is.

Paper: Kong, Kim & Bae 2020, "HiFi-GAN" (MPD, section 2.2; MSD after MelGAN, section 2.3).
"""

from __future__ import annotations

import keras
from keras import ops

from audiogen_tf.layers.conv import conv2d, discriminator_conv_stack
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register

_MPD_CHANNELS = (32, 128, 512, 1024, 1024)
_MSD_SPECS = (  # (filters, kernel, stride, groups)
    (128, 15, 1, 1),
    (128, 41, 2, 4),
    (256, 41, 2, 16),
    (512, 41, 4, 16),
    (1024, 41, 4, 16),
    (1024, 41, 1, 16),
    (1024, 5, 1, 1),
)


def _scaled(channels, width):
    return max(1, int(round(channels * width)))


@register
class PeriodFold(keras.layers.Layer):
    """Reflect-pad audio to a multiple of ``period`` and fold it to 2-D: (batch, time, 1) -> (batch, time/p, p, 1).

    Args:
        period: fold width p (the time axis must be longer than p - 1).

    Example:
        >>> tuple(PeriodFold(3)(keras.ops.ones((2, 10, 1))).shape)
        (2, 4, 3, 1)
    """

    def __init__(self, period, **kwargs):
        super().__init__(**kwargs)
        self.period = int(period)

    def call(self, inputs):
        p = self.period
        shape = ops.shape(inputs)
        frames = (shape[1] + p - 1) // p
        if p > 1:
            inputs = ops.pad(inputs, [[0, 0], [0, p - 1], [0, 0]], mode="reflect")
        inputs = inputs[:, : frames * p, :]
        return ops.reshape(inputs, (shape[0], frames, p, shape[2]))

    def compute_output_shape(self, input_shape):
        t = input_shape[1]
        frames = None if t is None else -(-t // self.period)
        return (input_shape[0], frames, self.period, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "period": self.period}


def _check_padding(padding):
    if padding not in ("same", "symmetric"):
        raise ValueError(f"padding must be 'same' or 'symmetric', got {padding!r}.")
    return padding


def _conv2d_padded(x, filters, kernel, stride, weight_norm, padding, name):
    """Conv over frames; "symmetric" zero-pads (kernel - 1) // 2 frames on both sides (the reference code)."""
    if padding == "symmetric":
        x = keras.layers.ZeroPadding2D((((kernel - 1) // 2, (kernel - 1) // 2), (0, 0)), name=f"{name}_pad")(x)
    return conv2d(filters, (kernel, 1), strides=(stride, 1), padding="valid" if padding == "symmetric" else "same",
                  weight_norm=weight_norm, name=name)(x)


def _period_discriminator(audio, period, width, weight_norm, slope, name, padding="same"):
    x = PeriodFold(period, name=f"{name}_fold")(audio)
    outputs = []
    for i, ch in enumerate(_MPD_CHANNELS):
        stride = 3 if i < len(_MPD_CHANNELS) - 1 else 1
        x = _conv2d_padded(x, _scaled(ch, width), 5, stride, weight_norm, padding, f"{name}_conv{i}")
        x = keras.layers.LeakyReLU(slope, name=f"{name}_act{i}")(x)
        outputs.append(x)
    x = _conv2d_padded(x, 1, 3, 1, weight_norm, padding, f"{name}_post")
    score = keras.layers.Reshape((-1, 1), name=f"{name}_score")(x)
    return outputs + [score]


def _scale_discriminators(audio, num_scales, width, weight_norm, slope, name, padding="same"):
    results = []
    x = audio
    specs = [(_scaled(f, width), k, s, g) for f, k, s, g in _MSD_SPECS] + [(1, 3, 1, 1)]
    for i in range(num_scales):
        if i > 0 and padding == "symmetric":  # torch AvgPool1d(4, 2, padding=2): zeros count in the mean
            x = keras.layers.ZeroPadding1D(2, name=f"{name}_pool{i}_pad")(x)
            x = keras.layers.AveragePooling1D(4, strides=2, padding="valid", name=f"{name}_pool{i}")(x)
        elif i > 0:
            x = keras.layers.AveragePooling1D(4, strides=2, padding="same", name=f"{name}_pool{i}")(x)
        # the paper applies spectral normalization to the discriminator on raw audio, weight norm to the others
        results.append(
            discriminator_conv_stack(x, specs, slope=slope, weight_norm=weight_norm, spectral_norm=(i == 0),
                                     symmetric_padding=(padding == "symmetric"), name=f"{name}_s{i}")
        )
    return results


@register
class MultiPeriodDiscriminator(ConstructorConfigMixin, PresetMixin, keras.Model):
    """HiFi-GAN multi-period discriminator: audio folded with each period, 2-D convs with (5, 1) kernels.

    Args:
        periods: one sub-discriminator per period.
        width: multiplier of the channel counts (32, 128, 512, 1024, 1024); 1.0 in the paper.
        leaky_relu_slope: activation slope.
        weight_norm: weight-normalize every conv.
        padding: "same" (Keras "same": for strided convs the extra zero goes right) or "symmetric"
            ((kernel - 1) // 2 zeros on both sides, as the reference PyTorch code; what checkpoint import uses).

    Returns (call): list over periods of ``[f_1, ..., f_5, score]``; f_i (batch, frames_i, period, ch_i),
    score (batch, frames_5 * period, 1).

    Example:
        >>> d = MultiPeriodDiscriminator(periods=[2, 3], width=1 / 16)
        >>> out = d(keras.ops.zeros((1, 300, 1))); len(out), len(out[0]), tuple(out[0][-1].shape)
        (2, 6, (1, 4, 1))
    """

    def __init__(self, periods=(2, 3, 5, 7, 11), width=1.0, leaky_relu_slope=0.1, weight_norm=True,
                 padding="same", name="multi_period_discriminator", **kwargs):
        periods = [int(p) for p in periods]
        padding = _check_padding(padding)
        audio = keras.Input((None, 1), name="audio")
        outputs = [_period_discriminator(audio, p, width, weight_norm, leaky_relu_slope, f"p{p}", padding)
                   for p in periods]
        super().__init__(inputs=audio, outputs=outputs, name=name, **kwargs)
        self.keep_config(periods=periods, width=float(width), leaky_relu_slope=float(leaky_relu_slope),
                         weight_norm=bool(weight_norm), padding=padding)


@register
class MultiScaleDiscriminator(ConstructorConfigMixin, PresetMixin, keras.Model):
    """HiFi-GAN multi-scale discriminator: grouped strided 1-D convs on audio average-pooled 1x, 2x, 4x.

    The first sub-discriminator (raw audio) uses spectral normalization, the others weight normalization.

    Args:
        num_scales: number of sub-discriminators (3 in the paper).
        width: multiplier of the channel counts (128 ... 1024); 1.0 in the paper.
        leaky_relu_slope: activation slope.
        weight_norm: weight-normalize the convs of scales > 0.
        padding: "same" or "symmetric" (the reference code: symmetric zero padding of every conv, average
            pooling over 2 zeros padded on both sides, zeros counted in the mean); see MultiPeriodDiscriminator.

    Returns (call): list over scales of ``[f_1, ..., f_7, score]``; f_i (batch, frames_i, ch_i), score
    (batch, frames, 1).

    Example:
        >>> d = MultiScaleDiscriminator(num_scales=2, width=1 / 16)
        >>> [len(o) for o in d(keras.ops.zeros((1, 256, 1)))]
        [8, 8]
    """

    def __init__(self, num_scales=3, width=1.0, leaky_relu_slope=0.1, weight_norm=True, padding="same",
                 name="multi_scale_discriminator", **kwargs):
        padding = _check_padding(padding)
        audio = keras.Input((None, 1), name="audio")
        outputs = _scale_discriminators(audio, int(num_scales), width, weight_norm, leaky_relu_slope, "s", padding)
        super().__init__(inputs=audio, outputs=outputs, name=name, **kwargs)
        self.keep_config(num_scales=int(num_scales), width=float(width), leaky_relu_slope=float(leaky_relu_slope),
                         weight_norm=bool(weight_norm), padding=padding)


@register
class HiFiGANDiscriminator(ConstructorConfigMixin, PresetMixin, keras.Model):
    """MPD and MSD in one model: the output list holds the period sub-discriminators, then the scale ones.

    Args:
        periods: periods of the MPD; num_scales: scales of the MSD; width, leaky_relu_slope, weight_norm,
            padding as in :class:`MultiPeriodDiscriminator`.

    Example:
        >>> d = HiFiGANDiscriminator.from_preset("hifigan_tiny")
        >>> len(d(keras.ops.zeros((1, 512, 1))))
        4
    """

    def __init__(self, periods=(2, 3, 5, 7, 11), num_scales=3, width=1.0, leaky_relu_slope=0.1,
                 weight_norm=True, padding="same", name="hifigan_discriminator", **kwargs):
        periods = [int(p) for p in periods]
        padding = _check_padding(padding)
        audio = keras.Input((None, 1), name="audio")
        outputs = [_period_discriminator(audio, p, width, weight_norm, leaky_relu_slope, f"p{p}", padding)
                   for p in periods]
        outputs += _scale_discriminators(audio, int(num_scales), width, weight_norm, leaky_relu_slope, "s", padding)
        super().__init__(inputs=audio, outputs=outputs, name=name, **kwargs)
        self.keep_config(periods=periods, num_scales=int(num_scales), width=float(width),
                         leaky_relu_slope=float(leaky_relu_slope), weight_norm=bool(weight_norm), padding=padding)
