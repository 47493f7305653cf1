"""MelGAN residual block (Kumar et al. 2019, appendix A), wired into a functional graph.

The builder creates only plain Keras layers and the layers of :mod:`audiogen_tf.layers.conv`, with explicit
names, so a generator built from it saves with ``safe_mode=True`` and folds its weight norm by layer name.
"""

from __future__ import annotations

import keras

from audiogen_tf.layers.conv import ReflectionPad1D, conv1d


def melgan_resblock(x, channels, dilation, *, kernel_size=3, slope=0.2, weight_norm=True, export_layers=False,
                    name="rb"):
    """MelGAN residual block: ``conv1x1(x) + conv1x1(lrelu(conv_k,d(reflect_pad(lrelu(x)))))`` (Kumar et al. 2019).

    Args:
        x: tensor (batch, time, channels); dilation of the kernel-3 conv.

    Example:
        >>> x = keras.Input((None, 8)); tuple(melgan_resblock(x, 8, 3).shape)
        (None, None, 8)
    """
    pad = dilation * (kernel_size - 1) // 2
    h = keras.layers.LeakyReLU(slope, name=f"{name}_act0")(x)
    h = ReflectionPad1D(pad, name=f"{name}_pad")(h)
    h = conv1d(channels, kernel_size, dilation_rate=dilation, weight_norm=weight_norm, export_layers=export_layers,
               name=f"{name}_conv0")(h)
    h = keras.layers.LeakyReLU(slope, name=f"{name}_act1")(h)
    h = conv1d(channels, 1, weight_norm=weight_norm, export_layers=export_layers, name=f"{name}_conv1")(h)
    s = conv1d(channels, 1, weight_norm=weight_norm, export_layers=export_layers, name=f"{name}_shortcut")(x)
    return keras.layers.Add(name=f"{name}_add")([s, h])
