"""Convolutional building blocks of audio classifiers: VGG-style 2-D and 1-D conv blocks, SincNet band-pass filters.

The block builders (:func:`conv2d_block`, :func:`conv1d_block`) wire tensors of a functional graph with
plain Keras layers under explicit names (conv -> batch norm -> ReLU, ``num_convs`` times, then pooling),
so models built from them save with ``safe_mode=True``. :class:`SincConv1D` is a learnable band-pass filter
bank whose kernels are windowed differences of two sinc low-pass filters; only the two cut-off frequencies
of each filter are trained.

Papers: Simonyan & Zisserman 2015, "Very Deep Convolutional Networks for Large-Scale Image Recognition"
(VGG blocks); Hershey et al. 2017, "CNN Architectures for Large-Scale Audio Classification"; Ravanelli &
Bengio 2018, "Speaker Recognition from Raw Waveform with SincNet" (arXiv:1808.00158).

Example:
    >>> import keras
    >>> x = keras.Input((64, 32, 1))
    >>> conv2d_block(x, 8, name="b0").shape
    (None, 32, 16, 8)
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from audiogen_tf.serialization import register


def conv2d_block(x, filters: int, *, num_convs: int = 2, kernel_size=3, pool_size=(2, 2), pool: str = "avg",
                 batch_norm: bool = True, name: str = "block"):
    """VGG-style 2-D block: (Conv2D -> BatchNorm -> ReLU) x ``num_convs``, then pooling.

    Args:
        x: functional tensor (batch, height, width, channels), e.g. (batch, frames, n_mels, 1).
        filters: output channels of every conv.
        num_convs: convolutions before the pooling.
        kernel_size: conv kernel ("same" padding).
        pool_size: pooling window and stride; ``None`` or ``(1, 1)`` for no pooling.
        pool: "avg" or "max".
        batch_norm: add BatchNormalization after each conv (the conv then has no bias).
        name: prefix of the layer names.

    Returns:
        (batch, height // ph, width // pw, filters).

    Example:
        >>> conv2d_block(keras.Input((16, 8, 1)), 4, name="b").shape
        (None, 8, 4, 4)
    """
    for i in range(int(num_convs)):
        x = keras.layers.Conv2D(filters, kernel_size, padding="same", use_bias=not batch_norm, name=f"{name}_conv{i}")(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = keras.layers.ReLU(name=f"{name}_relu{i}")(x)
    if pool_size is not None and tuple(np.atleast_1d(pool_size)) not in ((1,), (1, 1)):
        layer = keras.layers.AveragePooling2D if pool == "avg" else keras.layers.MaxPooling2D
        x = layer(pool_size, padding="same", name=f"{name}_pool")(x)
    return x


def conv1d_block(x, filters: int, *, num_convs: int = 2, kernel_size: int = 3, pool_size: int = 4, pool: str = "max",
                 batch_norm: bool = True, name: str = "block"):
    """1-D counterpart of :func:`conv2d_block`: (Conv1D -> BatchNorm -> ReLU) x ``num_convs``, then pooling.

    Args:
        x: functional tensor (batch, time, channels).
        filters, num_convs, kernel_size, pool, batch_norm, name: as :func:`conv2d_block`.
        pool_size: pooling window and stride along time; ``None`` or 1 for no pooling.

    Returns:
        (batch, time // pool_size, filters).

    Example:
        >>> conv1d_block(keras.Input((64, 2)), 4, name="b").shape
        (None, 16, 4)
    """
    for i in range(int(num_convs)):
        x = keras.layers.Conv1D(filters, kernel_size, padding="same", use_bias=not batch_norm, name=f"{name}_conv{i}")(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = keras.layers.ReLU(name=f"{name}_relu{i}")(x)
    if pool_size and int(pool_size) > 1:
        layer = keras.layers.AveragePooling1D if pool == "avg" else keras.layers.MaxPooling1D
        x = layer(int(pool_size), padding="same", name=f"{name}_pool")(x)
    return x


def _hz_to_mel(hz):
    return 2595.0 * np.log10(1.0 + np.asarray(hz, np.float64) / 700.0)


def _mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel, np.float64) / 2595.0) - 1.0)


@register
class SincConv1D(keras.layers.Layer):
    """Learnable band-pass filter bank (SincNet): each kernel is ``g[n] = w[n] * (2 f2 sinc(2 f2 n) - 2 f1 sinc(2 f1 n))``.

    Only the low cut-off ``f1 = min_low_hz + |low|`` and the bandwidth ``f2 - f1 = min_band_hz + |band|`` of each
    filter are weights (initialised mel-spaced between ``init_low_hz`` and Nyquist); ``w`` is a Hamming window
    and every kernel is divided by its pass-band gain ``2 (f2 - f1)``.

    Args:
        filters: number of band-pass filters (output channels).
        kernel_size: filter length in samples (made odd, symmetric around 0).
        sample_rate: Hz, to express the cut-offs in Hz.
        strides: hop of the convolution.
        padding: "same" or "valid".
        min_low_hz, min_band_hz: lower bounds of the low cut-off and bandwidth (Hz).
        init_low_hz: lowest cut-off at initialisation (Hz).

    Input (batch, time, 1); output (batch, frames, filters).

    Example:
        >>> SincConv1D(8, 65, sample_rate=16000, strides=4)(np.zeros((1, 1024, 1), "float32")).shape
        TensorShape([1, 256, 8])

    Paper: Ravanelli & Bengio 2018, "Speaker Recognition from Raw Waveform with SincNet".
    """

    def __init__(self, filters: int = 40, kernel_size: int = 251, sample_rate: int = 16000, strides: int = 1,
                 padding: str = "same", min_low_hz: float = 50.0, min_band_hz: float = 50.0,
                 init_low_hz: float = 30.0, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size) | 1  # odd, so the kernel is centred on n = 0
        self.sample_rate = int(sample_rate)
        self.strides = int(strides)
        self.padding = padding
        self.min_low_hz = float(min_low_hz)
        self.min_band_hz = float(min_band_hz)
        self.init_low_hz = float(init_low_hz)
        half = (self.kernel_size - 1) // 2
        self._t = (np.arange(-half, half + 1) / self.sample_rate).astype(np.float32)  # seconds
        self._window = np.hamming(self.kernel_size).astype(np.float32)

    def build(self, input_shape):
        high = self.sample_rate / 2.0 - (self.min_low_hz + self.min_band_hz)
        hz = _mel_to_hz(np.linspace(_hz_to_mel(self.init_low_hz), _hz_to_mel(high), self.filters + 1))
        self.low_hz = self.add_weight(
            shape=(self.filters,), name="low_hz",
            initializer=keras.initializers.Constant((hz[:-1] - self.min_low_hz).astype(np.float32)),
        )
        self.band_hz = self.add_weight(
            shape=(self.filters,), name="band_hz",
            initializer=keras.initializers.Constant(np.diff(hz).astype(np.float32)),
        )

    def cutoffs(self):
        """(low, high) cut-off frequencies in Hz, each (filters,)."""
        nyquist = self.sample_rate / 2.0
        low = self.min_low_hz + ops.abs(self.low_hz)
        high = ops.clip(low + self.min_band_hz + ops.abs(self.band_hz), self.min_low_hz, nyquist)
        return low, high

    def kernel(self):
        """The band-pass kernels (kernel_size, 1, filters)."""
        low, high = self.cutoffs()
        t = ops.convert_to_tensor(self._t)[:, None]  # (K, 1)

        def lowpass(f):  # 2 f sinc(2 f t), sinc(x) = sin(pi x) / (pi x); equals 2 f at t = 0
            arg = 2.0 * np.pi * f[None, :] * t
            safe = ops.where(ops.equal(arg, 0.0), ops.ones_like(arg), arg)
            return 2.0 * f[None, :] * ops.where(ops.equal(arg, 0.0), ops.ones_like(arg), ops.sin(safe) / safe)

        band = (lowpass(high) - lowpass(low)) / (2.0 * (high - low))[None, :]
        return (band * ops.convert_to_tensor(self._window)[:, None])[:, None, :]

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype)
        if len(x.shape) == 2:
            x = x[..., None]
        return ops.conv(x, ops.cast(self.kernel(), x.dtype), strides=self.strides, padding=self.padding)

    def compute_output_shape(self, input_shape):
        time = input_shape[1]
        if time is not None:
            time = -(-time // self.strides) if self.padding == "same" else (time - self.kernel_size) // self.strides + 1
        return (input_shape[0], time, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters, kernel_size=self.kernel_size, sample_rate=self.sample_rate, strides=self.strides,
            padding=self.padding, min_low_hz=self.min_low_hz, min_band_hz=self.min_band_hz,
            init_low_hz=self.init_low_hz,
        )
        return config
