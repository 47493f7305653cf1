"""MelGAN multi-scale discriminator: three window-based conv discriminators on audio pooled 1x, 2x, 4x.

Output contract: audio (batch, time, 1) -> list over scales of ``[feature_map_1, ..., feature_map_6, score]``
(score last, (batch, frames, 1)); the nesting survives ``.keras`` save/load.

Paper: Kumar et al. 2019, "MelGAN", section 2.2 and appendix A (weight normalization everywhere).
"""

from __future__ import annotations

import keras

from audiogen_tf.layers.conv import discriminator_conv_stack
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register

_SPECS = (  # (filters, kernel, stride, groups)
    (16, 15, 1, 1),
    (64, 41, 4, 4),
    (256, 41, 4, 16),
    (1024, 41, 4, 64),
    (1024, 41, 4, 256),
    (1024, 5, 1, 1),
)


@register
class MelGANMultiScaleDiscriminator(ConstructorConfigMixin, PresetMixin, keras.Model):
    """MelGAN discriminator block repeated on average-pooled audio (pool 4, stride 2).

    Args:
        num_scales: sub-discriminators (3 in the paper).
        width: multiplier of the channel counts (16 ... 1024); 1.0 in the paper.
        leaky_relu_slope: 0.2 in the paper.
        weight_norm: weight-normalize every conv.

    Example:
        >>> d = MelGANMultiScaleDiscriminator(num_scales=2, width=1 / 16)
        >>> [len(o) for o in d(keras.ops.zeros((1, 512, 1)))]
        [7, 7]
    """

    def __init__(self, num_scales=3, width=1.0, leaky_relu_slope=0.2, weight_norm=True,
                 name="melgan_multi_scale_discriminator", **kwargs):
        audio = keras.Input((None, 1), name="audio")
        specs = [(max(1, int(round(f * width))), k, s, g) for f, k, s, g in _SPECS] + [(1, 3, 1, 1)]
        outputs, x = [], audio
        for i in range(int(num_scales)):
            if i > 0:
                x = keras.layers.AveragePooling1D(4, strides=2, padding="same", name=f"pool{i}")(x)
            outputs.append(discriminator_conv_stack(x, specs, slope=leaky_relu_slope, weight_norm=weight_norm,
                                                    reflect_first=True, name=f"d{i}"))
        super().__init__(inputs=audio, outputs=outputs, name=name, **kwargs)
        self.keep_config(num_scales=int(num_scales), width=float(width), leaky_relu_slope=float(leaky_relu_slope),
                         weight_norm=bool(weight_norm))
