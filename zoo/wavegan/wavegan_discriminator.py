"""WaveGAN discriminator (critic): audio -> [[feature maps..., score]] via strided 1-D convs and phase shuffle.

Follows Donahue, McAuley & Puckette 2019, "Adversarial Audio Synthesis" (Table 3, WaveGAN D);
the class-conditional variant uses a projection head (Miyato & Koyama 2018, "cGANs with Projection
Discriminator").
"""

from __future__ import annotations

import keras
from keras import tree

from audiogen_tf.layers.phase_shuffle import PhaseShuffle
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register
from zoo.wavegan.wavegan_generator import num_upsampling_layers


class NestedOutputsMixin:
    """Keeps the declared nested output structure: Keras unwraps a single-entry output list, we do not.

    A discriminator returns one entry per sub-discriminator, ``[[feat_1, ..., feat_k, score]]``,
    even when there is only one.
    """

    def call(self, inputs, training=None, mask=None, **kwargs):
        outputs = super().call(inputs, training=training, mask=mask, **kwargs)
        return tree.pack_sequence_as(self._outputs_struct, tree.flatten(outputs))


def projection_head(features, label, num_classes: int, score, name: str = "projection"):
    """Projection conditioning: score + <embed(label), features>; features (batch, f), label (batch,)."""
    width = features.shape[-1]
    e = keras.layers.Embedding(num_classes, width, name=f"{name}_embedding")(label)
    proj = keras.layers.Dot(axes=1, name=f"{name}_dot")([features, e])
    return keras.layers.Add(name="score")([score, proj])


@register
class WaveGANDiscriminator(ConstructorConfigMixin, NestedOutputsMixin, PresetMixin, keras.Model):
    """WaveGAN critic: audio (batch, slice_length, channels) [+ label (batch,)] -> [[feat_1, ..., feat_k, score]].

    k strided 1-D convs (kernel 25, stride 4, widths d, 2d, 4d, 8d, 16d for the paper's k = 5),
    each followed by LeakyReLU(0.2) and, except the last, phase shuffle (n = 2); then flatten and
    a dense layer to one unbounded score (a WGAN-GP critic). ``feat_i`` are the LeakyReLU outputs
    (batch, slice_length / 4**i, d * 2**(i-1)); ``score`` is (batch, 1). With ``num_classes > 0``
    the inputs are ``[audio, label]`` and a projection term ``<embed(label), h>`` is added to the
    score (h: the flattened last feature map).

    Args:
        model_dim: d (paper: 64).
        slice_length: input samples, 16 * stride**k (paper: 16384).
        channels: audio channels (1).
        kernel_size: conv kernel length (paper: 25).
        stride: downsampling factor per layer (paper: 4).
        phase_shuffle: n of phase shuffle, 0 disables it (paper: 2).
        leaky_relu_alpha: negative slope (paper: 0.2).
        num_classes: 0 for the unconditional critic, else the number of labels.
        seed: seed of the phase-shuffle random generators.

    Example:
        >>> import numpy as np
        >>> d = WaveGANDiscriminator.from_preset("wavegan_tiny")
        >>> out = d(np.zeros((2, 16384, 1), "float32"))
        >>> len(out), len(out[0]), tuple(out[0][-1].shape)
        (1, 6, (2, 1))
    """

    def __init__(
        self,
        model_dim: int = 64,
        slice_length: int = 16384,
        channels: int = 1,
        kernel_size: int = 25,
        stride: int = 4,
        phase_shuffle: int = 2,
        leaky_relu_alpha: float = 0.2,
        num_classes: int = 0,
        seed: int | None = None,
        **kwargs,
    ):
        num_layers = num_upsampling_layers(slice_length, stride)
        audio = keras.Input((slice_length, channels), name="audio")
        inputs = audio
        if num_classes:
            label = keras.Input((), dtype="int32", name="label")
            inputs = [audio, label]
        h = audio
        features = []
        for i in range(num_layers):
            h = keras.layers.Conv1D(
                model_dim * 2**i, kernel_size, strides=stride, padding="same", name=f"conv_{i}"
            )(h)
            h = keras.layers.LeakyReLU(negative_slope=leaky_relu_alpha, name=f"lrelu_{i}")(h)
            features.append(h)
            if phase_shuffle and i < num_layers - 1:
                layer_seed = None if seed is None else seed + i
                h = PhaseShuffle(phase_shuffle, seed=layer_seed, name=f"phase_shuffle_{i}")(h)
        flat = keras.layers.Flatten(name="flatten")(h)
        score = keras.layers.Dense(1, name="dense" if num_classes else "score")(flat)
        if num_classes:
            score = projection_head(flat, label, num_classes, score)
        super().__init__(inputs=inputs, outputs=[features + [score]], **kwargs)

        self.keep_config(model_dim=model_dim, slice_length=slice_length, channels=channels,
                         kernel_size=kernel_size, stride=stride, phase_shuffle=phase_shuffle,
                         leaky_relu_alpha=leaky_relu_alpha, num_classes=num_classes, seed=seed)

