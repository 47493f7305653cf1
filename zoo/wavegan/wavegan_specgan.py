"""SpecGAN: a DCGAN on normalized 128x128 log-magnitude spectrograms, inverted to audio with Griffin-Lim.

Follows Donahue, McAuley & Puckette 2019, "Adversarial Audio Synthesis" (Sec. 4, Tables 4-5):
16 kHz audio, STFT with 16 ms windows and 8 ms hop (n_fft 256, hop 128), 128 frames x 128 bins
(DC..8 kHz minus the Nyquist bin) for 16384 samples, natural log of the magnitude, each frequency
bin normalized to zero mean / unit variance with dataset moments, clipped to 3 std and rescaled
to [-1, 1]. Spectrogram tensors are (batch, frames, bins, channels) = (batch, 128, 128, 1).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from audiogen_tf import features
from audiogen_tf.errors import ConfigError
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register
from zoo.wavegan.wavegan_discriminator import NestedOutputsMixin, projection_head
from zoo.wavegan.wavegan_generator import label_embedding, num_upsampling_layers

LOG_EPS = 1e-6


def log_magnitude(audio, n_fft: int = 256, hop_length: int = 128, spec_size: int = 128):
    """Log-magnitude STFT cropped to ``spec_size`` frames x ``spec_size`` bins.

    Args:
        audio: float (batch, time) or (batch, time, 1); time = spec_size * hop_length.

    Returns:
        float32 (batch, spec_size, spec_size): ``log(|STFT| + 1e-6)``, centred frames, Nyquist bin
        and the trailing frame dropped.

    Example:
        >>> log_magnitude(tf.zeros([2, 16384])).shape
        TensorShape([2, 128, 128])
    """
    audio = tf.convert_to_tensor(audio, tf.float32)
    if audio.shape.rank == 3:
        audio = audio[..., 0]
    mag = tf.abs(features.stft(audio, n_fft=n_fft, hop_length=hop_length))
    return tf.math.log(mag[:, :spec_size, :spec_size] + LOG_EPS)


def spectrogram_moments(audio, n_fft: int = 256, hop_length: int = 128, spec_size: int = 128):
    """Per-frequency-bin mean and std of the log-magnitude over a batch of clips (batch, time[, 1]).

    Returns:
        (mean, std), float32 NumPy arrays (spec_size,), std floored at 1e-3.
    """
    logs = log_magnitude(audio, n_fft, hop_length, spec_size).numpy().reshape(-1, spec_size)
    return logs.mean(0).astype(np.float32), np.maximum(logs.std(0), 1e-3).astype(np.float32)


@register
class SpecGANGenerator(ConstructorConfigMixin, PresetMixin, keras.Model):
    """SpecGAN generator: z (batch, latent_dim) [+ label] -> normalized spectrogram (batch, S, S, channels) in [-1, 1].

    Dense to (4, 4, 16d), ReLU, then k transposed 2-D convs (5x5, stride 2; ReLU, tanh last) with
    widths 8d, 4d, 2d, d, channels (k = 5 for S = 128). The per-bin dataset moments used to
    normalize real spectrograms (``spec_mean``, ``spec_std``, lists of S floats; ``None`` =
    0 / 1) are part of the config, so :meth:`to_audio` inverts the generator's output.

    Args:
        latent_dim: size of z (paper: 100).
        model_dim: d (paper: 64).
        spec_size: S, frames = bins = 4 * 2**k (paper: 128).
        channels: spectrogram channels (1).
        kernel_size, stride: 5 and 2 as in the paper.
        num_classes, label_embedding_dim: class conditioning as in :class:`WaveGANGenerator`.
        sample_rate, n_fft, hop_length: STFT of the data (16000, 256, 128); need n_fft // 2 == S.
        spec_mean, spec_std: per-bin moments of the log-magnitude, from :func:`spectrogram_moments`.
        clip_std: clip normalized values at this many std, then divide by it (paper: 3).

    Example:
        >>> import numpy as np
        >>> g = SpecGANGenerator.from_preset("specgan_tiny")
        >>> spec = g(np.zeros((1, 16), "float32"))
        >>> spec.shape, g.to_audio(spec, n_iter=2).shape
        (TensorShape([1, 128, 128, 1]), TensorShape([1, 16384, 1]))
    """

    def __init__(
        self,
        latent_dim: int = 100,
        model_dim: int = 64,
        spec_size: int = 128,
        channels: int = 1,
        kernel_size: int = 5,
        stride: int = 2,
        num_classes: int = 0,
        label_embedding_dim: int = 10,
        sample_rate: int = 16000,
        n_fft: int = 256,
        hop_length: int = 128,
        spec_mean=None,
        spec_std=None,
        clip_std: float = 3.0,
        **kwargs,
    ):
        if n_fft // 2 != spec_size:
            raise ConfigError(f"n_fft // 2 must equal spec_size ({spec_size}), got n_fft={n_fft}")
        num_layers = num_upsampling_layers(spec_size, stride, base_length=4)
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
        h = keras.layers.Reshape((4, 4, top), name="reshape")(h)
        h = keras.layers.ReLU(name="dense_relu")(h)
        for i in range(num_layers):
            last = i == num_layers - 1
            h = keras.layers.Conv2DTranspose(
                channels if last else top // 2 ** (i + 1),
                kernel_size,
                strides=stride,
                padding="same",
                activation="tanh" if last else "relu",
                name=f"upconv_{i}",
            )(h)
        super().__init__(inputs=inputs, outputs=h, **kwargs)

        self.keep_config(latent_dim=latent_dim, model_dim=model_dim, spec_size=spec_size, channels=channels,
                         kernel_size=kernel_size, stride=stride, num_classes=num_classes,
                         label_embedding_dim=label_embedding_dim, sample_rate=sample_rate, n_fft=n_fft,
                         hop_length=hop_length, spec_mean=None, spec_std=None, clip_std=clip_std)
        self.slice_length = spec_size * hop_length
        self.set_normalization(spec_mean, spec_std)

    def set_normalization(self, mean=None, std=None):
        """Set the per-bin moments (spec_size,) of the log-magnitude (``None`` -> 0 and 1)."""
        size = self.spec_size
        mean = np.zeros(size, np.float32) if mean is None else np.asarray(mean, np.float32)
        std = np.ones(size, np.float32) if std is None else np.asarray(std, np.float32)
        if mean.shape != (size,) or std.shape != (size,):
            raise ConfigError(f"spec_mean / spec_std must have shape ({size},)")
        self._spec_mean, self._spec_std = mean, std
        self.spec_mean, self.spec_std = mean.tolist(), std.tolist()  # the config's values

    def normalize(self, log_mag):
        """Log-magnitude (batch, S, S) -> normalized spectrogram (batch, S, S, 1) in [-1, 1]."""
        x = (tf.convert_to_tensor(log_mag, tf.float32) - self._spec_mean) / self._spec_std
        return tf.clip_by_value(x, -self.clip_std, self.clip_std)[..., None] / self.clip_std

    def denormalize(self, spec):
        """Normalized spectrogram (batch, S, S, 1) -> log-magnitude (batch, S, S)."""
        spec = tf.convert_to_tensor(spec, tf.float32)[..., 0]
        return spec * self.clip_std * self._spec_std + self._spec_mean

    def audio_to_spec(self, audio):
        """Audio (batch, slice_length[, 1]) -> the discriminator's input (batch, S, S, 1)."""
        return self.normalize(log_magnitude(audio, self.n_fft, self.hop_length, self.spec_size))

    def to_audio(self, spec, n_iter: int = 16, seed=None):
        """Normalized spectrogram (batch, S, S, 1) -> audio (batch, slice_length, 1) by Griffin-Lim (paper: 16 iterations)."""
        mag = tf.exp(self.denormalize(spec))
        # restore the dropped Nyquist bin (zero) and trailing frame (zero) for the inverse STFT
        mag = tf.pad(mag, [[0, 0], [0, 1], [0, 1]])
        audio = features.griffin_lim(
            mag, n_iter=n_iter, hop_length=self.hop_length, n_fft=self.n_fft,
            length=self.slice_length, seed=seed,
        )
        return audio[..., None]

    def sample_latent(self, batch_size: int, seed=None):
        """z ~ U(-1, 1) of shape (batch_size, latent_dim)."""
        return keras.random.uniform((batch_size, self.latent_dim), -1.0, 1.0, seed=seed)

    def generate(self, batch_size: int = 1, labels=None, n_iter: int = 16, seed=None):
        """Sample ``batch_size`` clips of audio (batch, slice_length, 1) through Griffin-Lim."""
        z = self.sample_latent(batch_size, seed=seed)
        if self.num_classes:
            if labels is None:
                raise ConfigError("this generator is class-conditional: pass labels (batch,) int")
            spec = self([z, tf.convert_to_tensor(labels, tf.int32)], training=False)
        else:
            spec = self(z, training=False)
        return self.to_audio(spec, n_iter=n_iter)

    def export_endpoints(self) -> list:
        """Fixed-shape endpoints ``[("generate", fn, specs)]`` (name, function, input specs).

        ``generate``: z (1, latent_dim) [+ label (1,) int32] -> normalized spectrogram (1, S, S, 1).
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


@register
class SpecGANDiscriminator(ConstructorConfigMixin, NestedOutputsMixin, PresetMixin, keras.Model):
    """SpecGAN critic: normalized spectrogram (batch, S, S, channels) [+ label] -> [[feat_1, ..., feat_k, score]].

    k strided 2-D convs (5x5, stride 2, widths d, 2d, 4d, 8d, 16d), LeakyReLU(0.2) after each,
    flatten, dense to one score; no phase shuffle (as in the paper). The input is a spectrogram,
    not audio: feed real clips through :meth:`SpecGANGenerator.audio_to_spec`.

    Args:
        model_dim: d (paper: 64).
        spec_size: S = 4 * 2**k (paper: 128).
        channels, kernel_size, stride, leaky_relu_alpha: 1, 5, 2, 0.2.
        num_classes: 0, or the number of labels for a projection critic with inputs [spec, label].

    Example:
        >>> import numpy as np
        >>> d = SpecGANDiscriminator.from_preset("specgan_tiny")
        >>> tuple(d(np.zeros((2, 128, 128, 1), "float32"))[0][-1].shape)
        (2, 1)
    """

    def __init__(
        self,
        model_dim: int = 64,
        spec_size: int = 128,
        channels: int = 1,
        kernel_size: int = 5,
        stride: int = 2,
        leaky_relu_alpha: float = 0.2,
        num_classes: int = 0,
        **kwargs,
    ):
        num_layers = num_upsampling_layers(spec_size, stride, base_length=4)
        spec = keras.Input((spec_size, spec_size, channels), name="spectrogram")
        inputs = spec
        if num_classes:
            label = keras.Input((), dtype="int32", name="label")
            inputs = [spec, label]
        h = spec
        feats = []
        for i in range(num_layers):
            h = keras.layers.Conv2D(model_dim * 2**i, kernel_size, strides=stride, padding="same", name=f"conv_{i}")(h)
            h = keras.layers.LeakyReLU(negative_slope=leaky_relu_alpha, name=f"lrelu_{i}")(h)
            feats.append(h)
        flat = keras.layers.Flatten(name="flatten")(h)
        score = keras.layers.Dense(1, name="dense" if num_classes else "score")(flat)
        if num_classes:
            score = projection_head(flat, label, num_classes, score)
        super().__init__(inputs=inputs, outputs=[feats + [score]], **kwargs)

        self.keep_config(model_dim=model_dim, spec_size=spec_size, channels=channels,
                         kernel_size=kernel_size, stride=stride, leaky_relu_alpha=leaky_relu_alpha,
                         num_classes=num_classes)

