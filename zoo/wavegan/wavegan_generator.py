"""WaveGAN generator: latent vector (+ class label) -> 16384 samples of audio via strided 1-D transposed convs.

Follows Donahue, McAuley & Puckette 2019, "Adversarial Audio Synthesis" (Table 2, WaveGAN G).
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from audiogen_tf.errors import ConfigError
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register


def num_upsampling_layers(slice_length: int, stride: int, base_length: int = 16) -> int:
    """Number of stride-``stride`` layers between ``base_length`` frames and ``slice_length`` samples."""
    if slice_length % base_length:
        raise ConfigError(f"slice_length {slice_length} is not a multiple of {base_length}")
    ratio = slice_length // base_length
    layers = round(math.log(ratio, stride)) if ratio > 1 else 0
    if layers < 1 or stride**layers != ratio:
        raise ConfigError(
            f"slice_length must be {base_length} * {stride}**k with k >= 1 "
            f"(e.g. {base_length * stride**5} as in the paper, {base_length * stride**4}); got {slice_length}"
        )
    return layers


def label_embedding(num_classes: int, dim: int, name: str) -> keras.layers.Layer:
    """Embedding of an integer class label (batch,) -> (batch, dim)."""
    return keras.layers.Embedding(num_classes, dim)


@register
class WaveGANGenerator(ConstructorConfigMixin, PresetMixin, keras.Model):
    """WaveGAN generator: z (batch, latent_dim) [+ label (batch,)] -> audio (batch, slice_length, channels) in [-1, 1].

    Dense to (16, 16d), ReLU, then k transposed 1-D convs (kernel 25, stride 4; ReLU, tanh on the last)
    with widths 8d, 4d, 2d, d, channels for the paper's k = 5 (16384 samples). ``slice_length`` =
    16 * 4**k selects k: 16384 -> 5 layers, 4096 -> 4, 1024 -> 3; the dense layer always maps to
    16 frames of ``d * 2**(k-1)`` channels. With ``num_classes > 0`` the model is class-conditional:
    a label embedding (``label_embedding_dim``) is concatenated to z and the inputs are ``[z, label]``.

    Args:
        latent_dim: size of z (paper: 100, z ~ U(-1, 1)).
        model_dim: d, the model dimensionality (paper: 64).
        slice_length: output samples, 16 * stride**k (paper: 16384).
        channels: audio channels (1).
        kernel_size: transposed-conv kernel length (paper: 25).
        stride: upsampling factor per layer (paper: 4).
        num_classes: 0 for the unconditional model, else the number of labels.
        label_embedding_dim: size of the label embedding concatenated to z.

    Example:
        >>> import numpy as np
        >>> g = WaveGANGenerator.from_preset("wavegan_tiny")
        >>> g(np.zeros((2, 16), "float32")).shape
        TensorShape([2, 16384, 1])
    """

    def __init__(
        self,
        latent_dim: int = 100,
        model_dim: int = 64,
        slice_length: int = 16384,
        channels: int = 1,
        kernel_size: int = 25,
        stride: int = 4,
        num_classes: int = 0,
        label_embedding_dim: int = 10,
        **kwargs,
    ):
        num_layers = num_upsampling_layers(slice_length, stride)
        top = model_dim * 2 ** (num_layers - 1)

        z = keras.Input((latent_dim,), name="z")
        inputs = z
        h = z
        if num_classes:
            label = keras.Input((), dtype="int32", name="label")
            inputs = [z, label]
            e = label_embedding(num_classes, label_embedding_dim, "label_embedding")(label)
            h = keras.layers.Concatenate(name="z_label")([z, e])
        h = keras.layers.Dense(16 * top, name="dense")(h)
        h = keras.layers.Reshape((16, top), name="reshape")(h)
        h = keras.layers.ReLU(name="dense_relu")(h)
        for i in range(num_layers):
            last = i == num_layers - 1
            filters = channels if last else top // 2 ** (i + 1)
            h = keras.layers.Conv1DTranspose(
                filters,
                kernel_size,
                strides=stride,
                padding="same",
                activation="tanh" if last else "relu",
                name=f"upconv_{i}",
            )(h)
        super().__init__(inputs=inputs, outputs=h, **kwargs)

        self.keep_config(latent_dim=latent_dim, model_dim=model_dim, slice_length=slice_length,
                         channels=channels, kernel_size=kernel_size, stride=stride, num_classes=num_classes,
                         label_embedding_dim=label_embedding_dim)

    def sample_latent(self, batch_size: int, seed=None):
        """z ~ U(-1, 1) of shape (batch_size, latent_dim), as in the paper."""
        return keras.random.uniform((batch_size, self.latent_dim), -1.0, 1.0, seed=seed)

    def generate(self, batch_size: int = 1, labels=None, seed=None):
        """Sample ``batch_size`` clips (batch, slice_length, channels); ``labels`` (batch,) for the conditional model."""
        z = self.sample_latent(batch_size, seed=seed)
        if self.num_classes:
            if labels is None:
                raise ConfigError("this generator is class-conditional: pass labels (batch,) int")
            return self._generate_fn(z, tf.convert_to_tensor(labels, tf.int32))
        return self._generate_fn(z)

    @property
    def _generate_fn(self):
        if getattr(self, "_compiled_generate", None) is None:
            self._compiled_generate = tf.function(lambda *args: self(list(args) if len(args) > 1 else args[0], training=False))
        return self._compiled_generate

    def export_endpoints(self) -> list:
        """Fixed-shape endpoints for export: ``[("generate", fn, [tf.TensorSpec, ...])]`` (name, function, input specs).

        ``generate`` takes z (1, latent_dim) float32 [and label (1,) int32] and returns
        audio (1, slice_length, channels).
        """
        specs = [tf.TensorSpec((1, self.latent_dim), tf.float32, name="z")]
        if self.num_classes:
            specs.append(tf.TensorSpec((1,), tf.int32, name="label"))

            def generate(z, label):
                return self([z, label], training=False)
        else:

            def generate(z):
                return self(z, training=False)

        return [("generate", generate, specs)]

