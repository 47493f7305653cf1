"""HiFi-GAN residual blocks of the multi-receptive-field fusion (Kong et al. 2020, section 2.1 and figure 1).

The builders wire tensors of a functional graph; they create only plain Keras layers and the convs of
:mod:`audiogen_tf.layers.conv`, with explicit names, so a generator built from them saves with
``safe_mode=True`` and folds its weight norm by layer name.
"""

from __future__ import annotations

import keras

from audiogen_tf.layers.conv import conv1d


def hifigan_resblock1(x, channels, kernel_size, dilations=(1, 3, 5), *, slope=0.1, weight_norm=True,
                      export_layers=False, name="rb"):
    """HiFi-GAN ResBlock1: per dilation d, ``x += conv_1(lrelu(conv_d(lrelu(x))))`` (Kong et al. 2020).

    Args:
        x: tensor (batch, time, channels).
        channels, kernel_size: width and (odd) kernel of every conv; dilations: one pair of convs each.

    Example:
        >>> x = keras.Input((None, 8)); tuple(hifigan_resblock1(x, 8, 3).shape)
        (None, None, 8)
    """
    for j, d in enumerate(dilations):
        h = keras.layers.LeakyReLU(slope, name=f"{name}_act{j}a")(x)
        h = conv1d(channels, kernel_size, dilation_rate=d, padding="same", weight_norm=weight_norm,
                   export_layers=export_layers, name=f"{name}_conv{j}a")(h)
        h = keras.layers.LeakyReLU(slope, name=f"{name}_act{j}b")(h)
        h = conv1d(channels, kernel_size, padding="same", weight_norm=weight_norm, export_layers=export_layers,
                   name=f"{name}_conv{j}b")(h)
        x = keras.layers.Add(name=f"{name}_add{j}")([x, h])
    return x


def hifigan_resblock2(x, channels, kernel_size, dilations=(1, 3), *, slope=0.1, weight_norm=True,
                      export_layers=False, name="rb"):
    """HiFi-GAN ResBlock2: per dilation d, ``x += conv_d(lrelu(x))`` (Kong et al. 2020, V3).

    Args:
        x: tensor (batch, time, channels).

    Example:
        >>> x = keras.Input((None, 8)); tuple(hifigan_resblock2(x, 8, 3).shape)
        (None, None, 8)
    """
    for j, d in enumerate(dilations):
        h = keras.layers.LeakyReLU(slope, name=f"{name}_act{j}")(x)
        h = conv1d(channels, kernel_size, dilation_rate=d, padding="same", weight_norm=weight_norm,
                   export_layers=export_layers, name=f"{name}_conv{j}")(h)
        x = keras.layers.Add(name=f"{name}_add{j}")([x, h])
    return x
