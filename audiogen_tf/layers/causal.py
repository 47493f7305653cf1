"""Causal dilated convolutions and gated residual blocks with a single-step (queue) mode, for autoregressive audio.

Every layer here runs two ways with the same weights: on a whole sequence (teacher forcing, ``call``) and
one time step at a time with explicit state (``step``). The state of a causal conv with kernel ``k`` and
dilation ``d`` is a queue of its last ``d * (k - 1)`` inputs, oldest first, so one new sample costs one
small matmul per layer (Paine et al. 2016, "Fast Wavenet Generation Algorithm", arXiv:1611.09482).
Queues have fixed shapes and are updated with slicing and concatenation only (TFLite builtin ops).

Also: the mu-law companding of :mod:`audiogen_tf.audio` in ``keras.ops`` (for tf.data and graphs), an
input encoding for class ids (one-hot, embedding or scalar) and the local-conditioning upsampler.

Example:
    >>> import numpy as np
    >>> conv = CausalConv1D(4, 2, dilation_rate=2)
    >>> y = conv(np.zeros((1, 10, 3), "float32"))
    >>> q = conv.initial_queue(1, 3)
    >>> y_t, q = conv.step(np.zeros((1, 3), "float32"), q)
    >>> tuple(y.shape), tuple(y_t.shape), tuple(q.shape)
    ((1, 10, 4), (1, 4), (1, 2, 3))
"""

from __future__ import annotations

import keras
from keras import ops

from audiogen_tf.serialization import register


# --------------------------------------------------------------------------------------- mu-law (keras.ops)
def mu_law_encode_ops(audio, quantization_channels: int = 256):
    """Mu-law compand ``audio`` in [-1, 1] and quantize to int32 ids in ``[0, Q - 1]`` (same curve as
    :func:`audiogen_tf.audio.mu_law_encode`, computed in float32).

    Args:
        audio: float tensor of any shape, e.g. (batch, time).
        quantization_channels: ``Q`` (256 for 8-bit WaveNet).

    Example:
        >>> int(mu_law_encode_ops(0.0))
        128
    """
    mu = float(quantization_channels - 1)
    x = ops.clip(ops.cast(audio, "float32"), -1.0, 1.0)
    y = ops.sign(x) * ops.log1p(mu * ops.abs(x)) / ops.log1p(mu)
    return ops.cast(ops.floor((y + 1.0) / 2.0 * mu + 0.5), "int32")


def mu_law_decode_ops(ids, quantization_channels: int = 256):
    """Invert :func:`mu_law_encode_ops`: int ids in ``[0, Q - 1]`` -> float32 in [-1, 1].

    Example:
        >>> float(mu_law_decode_ops(255))
        1.0
    """
    mu = float(quantization_channels - 1)
    y = 2.0 * ops.cast(ids, "float32") / mu - 1.0
    return ops.sign(y) * (ops.exp(ops.abs(y) * ops.log1p(mu)) - 1.0) / mu


# --------------------------------------------------------------------------------------- layers
@register
class ClassInputEncoding(keras.layers.Layer):
    """Class ids (batch, time) or (batch,) int -> vectors (batch, time, dim) / (batch, dim).

    Args:
        num_classes: number of ids ``Q``.
        mode: ``"one_hot"`` (dim ``Q``), ``"embedding"`` (learned, dim ``embedding_dim``) or ``"scalar"``
            (dim 1, the bin centre ``2 id / (Q - 1) - 1`` in [-1, 1]).
        embedding_dim: size of the learned embedding.

    Example:
        >>> import numpy as np
        >>> tuple(ClassInputEncoding(8)(np.array([[1, 2]])).shape)
        (1, 2, 8)
    """

    MODES = ("one_hot", "embedding", "scalar")

    def __init__(self, num_classes, mode="one_hot", embedding_dim=32, **kwargs):
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        self.num_classes = int(num_classes)
        self.mode = mode
        self.embedding_dim = int(embedding_dim)
        self.embedding = (
            keras.layers.Embedding(self.num_classes, self.embedding_dim, name="embedding") if mode == "embedding" else None
        )

    @property
    def output_dim(self) -> int:
        return {"one_hot": self.num_classes, "embedding": self.embedding_dim, "scalar": 1}[self.mode]

    def build(self, input_shape):
        if self.embedding is not None and not self.embedding.built:
            self.embedding.build(input_shape)
        self.built = True

    def call(self, ids):
        ids = ops.cast(ids, "int32")
        if self.mode == "one_hot":
            return ops.one_hot(ids, self.num_classes, dtype=self.compute_dtype)
        if self.mode == "embedding":
            return self.embedding(ids)
        x = 2.0 * ops.cast(ids, self.compute_dtype) / float(self.num_classes - 1) - 1.0
        return ops.expand_dims(x, -1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes, mode=self.mode, embedding_dim=self.embedding_dim)
        return config


@register
class CausalConv1D(keras.layers.Conv1D):
    """Causal dilated 1-D convolution (left zero padding) with a one-sample ``step`` on a queue of past inputs.

    Output ``t`` is ``sum_j W[j] x[t - d (k - 1 - j)] + b``; ``step(x_t, queue)`` computes the same value from
    the current input and the queue of the last ``d (k - 1)`` inputs (oldest first) and returns the
    shifted queue.

    Args:
        filters: output channels.
        kernel_size: taps ``k``.
        dilation_rate: ``d``.
        **kwargs: other ``keras.layers.Conv1D`` arguments (``padding`` is always ``"causal"``, stride 1).

    Example:
        >>> CausalConv1D(8, 2, dilation_rate=4).queue_length
        4

    Paper: van den Oord et al. 2016, "WaveNet: A Generative Model for Raw Audio" (arXiv:1609.03499), Sec. 2.1.
    """

    def __init__(self, filters, kernel_size=2, dilation_rate=1, **kwargs):
        kwargs.pop("padding", None)
        kwargs.pop("strides", None)
        super().__init__(filters, kernel_size, strides=1, padding="causal", dilation_rate=dilation_rate, **kwargs)

    @property
    def queue_length(self) -> int:
        """Past inputs the step needs: ``dilation * (kernel_size - 1)``."""
        return int(self.dilation_rate[0]) * (int(self.kernel_size[0]) - 1)

    def initial_queue(self, batch_size, channels, dtype="float32"):
        """Zero queue (batch, queue_length, channels): the causal zero padding before the first sample."""
        return ops.zeros((batch_size, self.queue_length, channels), dtype=dtype)

    def step(self, x_t, queue):
        """One output sample: x_t (batch, in_channels), queue (batch, queue_length, in_channels)
        -> (y_t (batch, filters), new queue)."""
        k, d = int(self.kernel_size[0]), int(self.dilation_rate[0])
        x_new = ops.expand_dims(ops.cast(x_t, self.compute_dtype), 1)
        if k == 1:
            window, new_queue = x_new, queue
        else:
            taps = queue[:, 0 : self.queue_length : d, :]  # x[t - d(k-1)], ..., x[t - d]
            window = ops.concatenate([taps, x_new], axis=1)  # (batch, k, in)
            new_queue = ops.concatenate([queue[:, 1:, :], x_new], axis=1)
        in_ch = int(self.kernel.shape[1])
        flat = ops.reshape(window, (-1, k * in_ch))
        y = ops.matmul(flat, ops.reshape(self.kernel, (k * in_ch, self.filters)))
        if self.use_bias:
            y = y + self.bias
        if self.activation is not None:
            y = self.activation(y)
        return y, new_queue

    def get_config(self):
        config = super().get_config()
        config.pop("padding", None)
        config.pop("strides", None)
        return config


@register
class GatedResidualBlock(keras.layers.Layer):
    """WaveNet residual block: dilated causal conv -> tanh(filter) * sigmoid(gate) -> 1x1 residual and 1x1 skip.

    Global conditioning (a vector per example) and local conditioning (a vector per time step) are projected
    by 1x1 convolutions (no bias) and added to the filter and gate pre-activations.

    Args:
        residual_channels: channels of the residual stream (input and output ``x``).
        dilation_channels: channels of the gated activation (the dilated conv outputs twice as many).
        skip_channels: channels of the skip output.
        kernel_size, dilation_rate: of the dilated causal conv.
        global_channels: size of the global conditioning vector (0: none).
        local_channels: channels of the (upsampled) local conditioning (0: none).
        residual: create the 1x1 residual conv (the last block of a stack only needs the skip).

    Call: ``block([x, g, c])`` with x (batch, time, residual_channels), g (batch, global_channels) and
    c (batch, time, local_channels) when enabled (pass ``block(x)`` when neither) -> ``[x_out, skip]``,
    (batch, time, residual_channels) and (batch, time, skip_channels).

    Example:
        >>> import numpy as np
        >>> b = GatedResidualBlock(8, 8, 16, dilation_rate=2)
        >>> [tuple(t.shape) for t in b(np.zeros((1, 5, 8), "float32"))]
        [(1, 5, 8), (1, 5, 16)]

    Paper: van den Oord et al. 2016, "WaveNet" (arXiv:1609.03499), Sec. 2.3-2.5, Fig. 4.
    """

    def __init__(
        self,
        residual_channels,
        dilation_channels,
        skip_channels,
        kernel_size=2,
        dilation_rate=1,
        global_channels=0,
        local_channels=0,
        residual=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.residual_channels = int(residual_channels)
        self.dilation_channels = int(dilation_channels)
        self.skip_channels = int(skip_channels)
        self.kernel_size = int(kernel_size)
        self.dilation_rate = int(dilation_rate)
        self.global_channels = int(global_channels)
        self.local_channels = int(local_channels)
        self.residual = bool(residual)
        two_d = 2 * self.dilation_channels
        self.dilated_conv = CausalConv1D(two_d, self.kernel_size, dilation_rate=self.dilation_rate, name="dilated_conv")
        self.global_proj = keras.layers.Dense(two_d, use_bias=False, name="global_proj") if self.global_channels else None
        self.local_proj = keras.layers.Dense(two_d, use_bias=False, name="local_proj") if self.local_channels else None
        self.skip_conv = keras.layers.Dense(self.skip_channels, name="skip_conv")
        self.res_conv = keras.layers.Dense(self.residual_channels, name="res_conv") if self.residual else None

    @property
    def queue_length(self) -> int:
        return self.dilated_conv.queue_length

    def _split(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            return inputs, None, None
        inputs = list(inputs)
        x = inputs.pop(0)
        g = inputs.pop(0) if self.global_channels else None
        c = inputs.pop(0) if self.local_channels else None
        return x, g, c

    def build(self, input_shape):
        if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0], (list, tuple)):
            shapes = list(input_shape)
        else:
            shapes = [input_shape]
        x_shape = tuple(shapes.pop(0))
        self.dilated_conv.build(x_shape)
        gated = x_shape[:-1] + (self.dilation_channels,)
        if self.global_proj is not None:
            self.global_proj.build(tuple(shapes.pop(0)))
        if self.local_proj is not None:
            self.local_proj.build(tuple(shapes.pop(0)))
        self.skip_conv.build(gated)
        if self.res_conv is not None:
            self.res_conv.build(gated)
        self.built = True

    def _gate(self, pre, g_proj, c_proj):
        if g_proj is not None:
            pre = pre + g_proj
        if c_proj is not None:
            pre = pre + c_proj
        f, g = pre[..., : self.dilation_channels], pre[..., self.dilation_channels :]
        return ops.tanh(f) * ops.sigmoid(g)

    def _outputs(self, x, z):
        skip = self.skip_conv(z)
        out = x + self.res_conv(z) if self.res_conv is not None else x
        return out, skip

    def call(self, inputs, mask_input=None):
        x, g, c = self._split(inputs)
        conv_in = x if mask_input is None else x * mask_input
        pre = self.dilated_conv(conv_in)
        g_proj = ops.expand_dims(self.global_proj(g), 1) if g is not None else None
        c_proj = self.local_proj(c) if c is not None else None
        z = self._gate(pre, g_proj, c_proj)
        out, skip = self._outputs(x, z)
        return [out, skip]

    def step(self, x_t, queue, global_t=None, local_t=None):
        """One time step: x_t (batch, residual_channels), queue (batch, queue_length, residual_channels),
        global_t (batch, global_channels), local_t (batch, local_channels) -> (x_out_t, skip_t, new_queue)."""
        pre, new_queue = self.dilated_conv.step(x_t, queue)
        g_proj = self.global_proj(global_t) if self.global_proj is not None else None
        c_proj = self.local_proj(local_t) if self.local_proj is not None else None
        z = self._gate(pre, g_proj, c_proj)
        out, skip = self._outputs(x_t, z)
        return out, skip, new_queue

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0], (list, tuple)):
            x_shape = tuple(input_shape[0])
        else:
            x_shape = tuple(input_shape)
        return [x_shape, x_shape[:-1] + (self.skip_channels,)]

    def get_config(self):
        config = super().get_config()
        config.update(
            residual_channels=self.residual_channels,
            dilation_channels=self.dilation_channels,
            skip_channels=self.skip_channels,
            kernel_size=self.kernel_size,
            dilation_rate=self.dilation_rate,
            global_channels=self.global_channels,
            local_channels=self.local_channels,
            residual=self.residual,
        )
        return config


def receptive_field(dilations, kernel_size=2, initial_kernel_size=2) -> int:
    """Samples an output of a causal stack sees: ``(k0 - 1) + sum_i d_i (k - 1) + 1``.

    Example:
        >>> receptive_field([1, 2, 4, 8] * 2)
        32
    """
    return int((initial_kernel_size - 1) + sum(int(d) for d in dilations) * (kernel_size - 1) + 1)


def upsample_local_conditioning(mel, factors, mode="transposed", name="upsample"):
    """Wire the local-conditioning upsampler: frames (batch, frames, channels) -> (batch, frames * prod(factors), channels).

    Args:
        mel: tensor (batch, frames, channels), e.g. log-mel frames.
        factors: upsampling factor of each stage (their product is the hop length).
        mode: ``"transposed"`` (learned transposed convs, kernel ``2 f``, "same" padding, tanh between
            stages; WaveNet Sec. 2.6) or ``"repeat"`` (each frame repeated ``f`` times).
        name: prefix of the layer names.

    Example:
        >>> m = keras.Input((None, 4)); upsample_local_conditioning(m, [2, 3]).shape
        (None, None, 4)
    """
    if mode not in ("transposed", "repeat"):
        raise ValueError(f"upsample mode must be 'transposed' or 'repeat', got {mode!r}")
    x = mel
    channels = int(mel.shape[-1])
    for i, f in enumerate(int(f) for f in factors):
        if mode == "repeat":
            x = keras.layers.UpSampling1D(f, name=f"{name}{i}")(x)
        else:
            x = keras.layers.Conv1DTranspose(channels, 2 * f, strides=f, padding="same", name=f"{name}{i}")(x)
            if i < len(factors) - 1:
                x = keras.layers.Activation("tanh", name=f"{name}{i}_act")(x)
    return x
