"""Attention layers for sequence-to-sequence and autoregressive audio models, each with a step mode.

Encoder-decoder (content / location) attention over a memory ``(batch, time, memory_dim)`` with a boolean
padding mask ``(batch, time)``:

- :class:`AdditiveAttention` (Bahdanau et al. 2015), one query or a batch of queries at once.
- :class:`LocationSensitiveAttention` (Chorowski et al. 2015; Tacotron 2, Shen et al. 2018).
- :class:`DynamicConvolutionAttention` (Battenberg et al. 2020), purely location-relative with a
  causal beta-binomial prior, robust on long inputs.

The three share one decoding interface: ``precompute_memory(memory)`` once per utterance, then
``step(query, memory_projection, memory, mask, state) -> (context, weights, new_state)`` with
``state = (previous_weights, cumulative_weights)`` from ``get_initial_state(batch, time)``.

Self-attention: :class:`SinusoidalPositionEmbedding` (Vaswani et al. 2017) and
:class:`MultiHeadSelfAttention` with optional Shaw et al. (2018) clipped relative positions, a causal
option, a key padding mask and a ``step`` over a fixed-length key/value cache plus an index (static
shapes, so it exports to TFLite with builtin ops).

Masked positions get exactly zero weight: energies there are replaced by a large negative number before
the softmax and the weights are multiplied by the mask after it.

Example:
    >>> import numpy as np
    >>> att = LocationSensitiveAttention(units=16, location_filters=4, location_kernel_size=5)
    >>> memory = np.random.rand(2, 7, 8).astype("float32"); mask = np.ones((2, 7), bool)
    >>> proj = att.precompute_memory(memory)
    >>> state = att.get_initial_state(2, 7)
    >>> ctx, w, state = att.step(np.zeros((2, 6), "float32"), proj, memory, mask, state)
    >>> tuple(ctx.shape), tuple(w.shape)
    ((2, 8), (2, 7))
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from audiogen_tf.serialization import register

_NEG = -1e9


# --------------------------------------------------------------------------------------- helpers
def _full_mask(memory):
    return ops.ones(ops.shape(memory)[:2], dtype="bool")


def masked_softmax(energies, mask=None, axis=-1):
    """Softmax over ``axis`` where ``mask`` False positions get exactly zero weight.

    Args:
        energies: (..., time) float.
        mask: bool (or 0/1) broadcastable to ``energies``; ``None`` = all valid.

    Example:
        >>> import numpy as np
        >>> masked_softmax(np.zeros((1, 3), "float32"), np.array([[True, True, False]])).numpy().tolist()
        [[0.5, 0.5, 0.0]]
    """
    dtype = energies.dtype
    energies = ops.cast(energies, "float32")  # -1e9 and the exp stay finite under mixed precision
    if mask is None:
        return ops.cast(ops.softmax(energies, axis=axis), dtype)
    mask = ops.cast(mask, "bool")
    energies = ops.where(mask, energies, _NEG)
    weights = ops.softmax(energies, axis=axis) * ops.cast(mask, "float32")
    return ops.cast(weights, dtype)


def _weighted_sum(weights, memory):
    """(batch, time) x (batch, time, dim) -> (batch, dim); (batch, steps, time) -> (batch, steps, dim)."""
    if len(weights.shape) == 2:
        return ops.squeeze(ops.matmul(ops.expand_dims(weights, 1), memory), 1)
    return ops.matmul(weights, memory)


def _shifted_frames(x, left, right):
    """(batch, time) -> (batch, time, left + 1 + right): frame[t, k] = x[t - left + k], zero outside."""
    time = x.shape[1]
    padded = ops.pad(x, [[0, 0], [left, right]])
    if time is None:
        time = ops.shape(x)[1]
    frames = [padded[:, k : k + time] for k in range(left + 1 + right)]
    return ops.stack(frames, axis=-1)


def _build(layer, shape):
    """Build a sub-layer once (the parent may build lazily from ``step`` / ``precompute_memory``)."""
    if not layer.built:
        layer.build(shape)


def beta_binomial_pmf(length: int, alpha: float, beta: float) -> np.ndarray:
    """Beta-binomial pmf over ``0..length-1`` (n = length - 1), the DCA prior filter.

    Example:
        >>> p = beta_binomial_pmf(11, 0.1, 0.9); round(float(p.sum()), 6), bool(p[0] > p[1])
        (1.0, True)
    """
    n = length - 1

    def log_beta(a, b):
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)

    logs = [
        math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
        + log_beta(k + alpha, n - k + beta) - log_beta(alpha, beta)
        for k in range(length)
    ]
    return np.exp(np.array(logs, dtype=np.float64)).astype("float32")


class _MemoryAttentionBase(keras.layers.Layer):
    """Shared decoding interface of the encoder-decoder attentions (not registered, not used directly)."""

    def _cast(self, x):
        return ops.cast(x, self.compute_dtype)

    def _ensure_built(self, query_shape, memory_shape):
        if not self.built:
            self.build(tuple(query_shape), tuple(memory_shape))

    def get_initial_state(self, batch_size, time, dtype="float32"):
        """Zero ``(previous_weights, cumulative_weights)``, each (batch, time)."""
        zeros = ops.zeros((batch_size, time), dtype=dtype)
        return (zeros, zeros)

    def _scan(self, queries, memory, mask):
        """Run ``step`` over queries (batch, steps, q_dim) from the initial state -> contexts, weights."""
        memory_projection = self.precompute_memory(memory)
        if mask is None:
            mask = _full_mask(memory)
        batch, time = ops.shape(memory)[0], ops.shape(memory)[1]
        previous, cumulative = self.get_initial_state(batch, time, dtype=memory.dtype)
        context = ops.zeros_like(memory[:, 0, :])

        def body(carry, query):
            # keras.ops.scan stacks outputs shaped like the carry, so the carry holds the context too;
            # the new previous weights are this step's weights.
            context, weights, new_state = self.step(query, memory_projection, memory, mask, carry[:2])
            new_carry = (new_state[0], new_state[1], context)
            return new_carry, new_carry

        _, (weights, _, contexts) = ops.scan(body, (previous, cumulative, context), ops.transpose(queries, (1, 0, 2)))
        return ops.transpose(contexts, (1, 0, 2)), ops.transpose(weights, (1, 0, 2))

    def compute_output_spec(self, query, memory, memory_mask=None):
        """(context, weights) specs: (batch[, steps], m_dim) and (batch[, steps], time)."""
        lead = tuple(query.shape[:-1])
        shapes = lead + (memory.shape[-1],), lead + (memory.shape[1],)
        return tuple(keras.KerasTensor(s, dtype=self.compute_dtype) for s in shapes)


# --------------------------------------------------------------------------------------- additive
@register
class AdditiveAttention(_MemoryAttentionBase):
    """Additive (content) attention: ``e_j = v^T tanh(W q + V m_j + b)``, weights = masked softmax(e).

    Args:
        units: attention dimension of ``W``, ``V`` and ``v``.

    Call: ``layer(query, memory, memory_mask=None)`` with query (batch, q_dim) -> context (batch, m_dim),
    weights (batch, time); or queries (batch, steps, q_dim) -> contexts (batch, steps, m_dim),
    weights (batch, steps, time). ``memory_mask`` (batch, time) bool marks valid positions.
    Step mode: ``step(query, memory_projection, memory, mask, state=None)`` with
    ``memory_projection = precompute_memory(memory)``; the state is passed through unchanged.

    Example:
        >>> import numpy as np
        >>> att = AdditiveAttention(8)
        >>> ctx, w = att(np.zeros((2, 4), "float32"), np.ones((2, 5, 3), "float32"))
        >>> tuple(ctx.shape), tuple(w.shape)
        ((2, 3), (2, 5))

    Paper: Bahdanau, Cho & Bengio 2015, "Neural Machine Translation by Jointly Learning to Align and
    Translate" (arXiv:1409.0473), Appendix A.1.2.
    """

    def __init__(self, units=128, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.query_dense = keras.layers.Dense(self.units, use_bias=False, name="query_dense", dtype=self.dtype_policy)
        self.memory_dense = keras.layers.Dense(self.units, use_bias=True, name="memory_dense", dtype=self.dtype_policy)

    def build(self, query_shape, memory_shape=None, **kwargs):
        if memory_shape is None:
            raise ValueError("AdditiveAttention is called as layer(query, memory, memory_mask=None).")
        _build(self.query_dense, (None, query_shape[-1]))
        _build(self.memory_dense, (None, None, memory_shape[-1]))
        self.v = self.add_weight(name="v", shape=(self.units,), initializer="glorot_uniform")
        self.built = True

    def precompute_memory(self, memory):
        """``V m + b`` for every memory frame: (batch, time, m_dim) -> (batch, time, units)."""
        _build(self.memory_dense, (None, None, memory.shape[-1]))
        return self.memory_dense(memory)

    def energies(self, query, memory_projection):
        """Query (batch, q_dim) -> (batch, time); queries (batch, steps, q_dim) -> (batch, steps, time)."""
        q = self.query_dense(query)
        if len(q.shape) == 2:
            return ops.sum(ops.tanh(ops.expand_dims(q, 1) + memory_projection) * self._cast(self.v), axis=-1)
        hidden = ops.tanh(ops.expand_dims(q, 2) + ops.expand_dims(memory_projection, 1))  # (b, s, t, u)
        return ops.sum(hidden * self._cast(self.v), axis=-1)

    def step(self, query, memory_projection, memory, mask=None, state=None):
        """One decoder step: -> (context (batch, m_dim), weights (batch, time), state unchanged)."""
        self._ensure_built(query.shape, memory.shape)
        query, memory_projection, memory = self._cast(query), self._cast(memory_projection), self._cast(memory)
        weights = masked_softmax(self.energies(query, memory_projection), mask)
        return _weighted_sum(weights, memory), weights, state

    def call(self, query, memory, memory_mask=None):
        proj = self.precompute_memory(memory)
        mask = memory_mask
        if mask is not None and len(query.shape) == 3:
            mask = ops.expand_dims(mask, 1)
        weights = masked_softmax(self.energies(query, proj), mask)
        return _weighted_sum(weights, memory), weights

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units)
        return config


# --------------------------------------------------------------------------------------- location-sensitive
@register
class LocationSensitiveAttention(_MemoryAttentionBase):
    """Location-sensitive attention: ``e_j = v^T tanh(W q + V m_j + U f_j + b)`` with location features
    ``f = conv(previous weights, cumulative weights)``.

    Args:
        units: attention dimension (128 in Tacotron 2).
        location_filters: conv filters over the attention weights (32).
        location_kernel_size: conv length (31, "same" padding).
        use_previous_weights: convolve ``[previous, cumulative]`` weights (2 channels, as common Tacotron 2
            implementations do); ``False`` convolves the cumulative weights only (the paper's wording).

    Call: ``layer(queries, memory, memory_mask=None)``; queries (batch, steps, q_dim) are attended one after
    the other from the initial state -> contexts (batch, steps, m_dim), weights (batch, steps, time); a single
    query (batch, q_dim) -> one step from the initial state.
    Step mode: ``state = get_initial_state(batch, time)``, ``proj = precompute_memory(memory)``,
    ``step(query, proj, memory, mask, state) -> (context, weights, (weights, cumulative + weights))``.

    Example:
        >>> import numpy as np
        >>> att = LocationSensitiveAttention()
        >>> ctx, w = att(np.zeros((1, 3, 16), "float32"), np.ones((1, 9, 4), "float32"))
        >>> tuple(ctx.shape), tuple(w.shape)
        ((1, 3, 4), (1, 3, 9))

    Paper: Chorowski et al. 2015, "Attention-Based Models for Speech Recognition" (arXiv:1506.07503), Sec. 2.2;
    Shen et al. 2018, "Natural TTS Synthesis by Conditioning WaveNet on Mel Spectrogram Predictions"
    (arXiv:1712.05884), Sec. 2.3.
    """

    def __init__(self, units=128, location_filters=32, location_kernel_size=31, use_previous_weights=True, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.location_filters = int(location_filters)
        self.location_kernel_size = int(location_kernel_size)
        self.use_previous_weights = bool(use_previous_weights)
        self.query_dense = keras.layers.Dense(self.units, use_bias=False, name="query_dense", dtype=self.dtype_policy)
        self.memory_dense = keras.layers.Dense(self.units, use_bias=False, name="memory_dense", dtype=self.dtype_policy)
        self.location_conv = keras.layers.Conv1D(
            self.location_filters,
            self.location_kernel_size,
            padding="same",
            use_bias=False,
            name="location_conv",
            dtype=self.dtype_policy,
        )
        self.location_dense = keras.layers.Dense(
            self.units, use_bias=False, name="location_dense", dtype=self.dtype_policy
        )

    def build(self, query_shape, memory_shape=None, **kwargs):
        if memory_shape is None:
            raise ValueError("LocationSensitiveAttention is called as layer(query, memory, memory_mask=None).")
        _build(self.query_dense, (None, query_shape[-1]))
        _build(self.memory_dense, (None, None, memory_shape[-1]))
        _build(self.location_conv, (None, None, 2 if self.use_previous_weights else 1))
        _build(self.location_dense, (None, None, self.location_filters))
        self.v = self.add_weight(name="v", shape=(self.units,), initializer="glorot_uniform")
        self.b = self.add_weight(name="b", shape=(self.units,), initializer="zeros")
        self.built = True

    def precompute_memory(self, memory):
        """``V m`` once per utterance: (batch, time, m_dim) -> (batch, time, units)."""
        _build(self.memory_dense, (None, None, memory.shape[-1]))
        return self.memory_dense(memory)

    def location_features(self, state):
        """(previous, cumulative) weights, each (batch, time) -> (batch, time, units)."""
        previous, cumulative = state
        if self.use_previous_weights:
            x = ops.stack([previous, cumulative], axis=-1)
        else:
            x = ops.expand_dims(cumulative, -1)
        return self.location_dense(self.location_conv(x))

    def step(self, query, memory_projection, memory, mask, state):
        """One decoder step: query (batch, q_dim) -> (context (batch, m_dim), weights (batch, time), new state)."""
        self._ensure_built(query.shape, memory.shape)
        query, memory_projection, memory = self._cast(query), self._cast(memory_projection), self._cast(memory)
        state = tuple(self._cast(x) for x in state)
        q = ops.expand_dims(self.query_dense(query), 1)
        hidden = ops.tanh(q + memory_projection + self.location_features(state) + self._cast(self.b))
        weights = masked_softmax(ops.sum(hidden * self._cast(self.v), axis=-1), mask)
        new_state = (weights, state[1] + weights)
        return _weighted_sum(weights, memory), weights, new_state

    def call(self, query, memory, memory_mask=None):
        if len(query.shape) == 2:
            mask = _full_mask(memory) if memory_mask is None else memory_mask
            state = self.get_initial_state(ops.shape(memory)[0], ops.shape(memory)[1], dtype=memory.dtype)
            context, weights, _ = self.step(query, self.precompute_memory(memory), memory, mask, state)
            return context, weights
        return self._scan(query, memory, memory_mask)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            location_filters=self.location_filters,
            location_kernel_size=self.location_kernel_size,
            use_previous_weights=self.use_previous_weights,
        )
        return config


# --------------------------------------------------------------------------------------- dynamic convolution
@register
class DynamicConvolutionAttention(_MemoryAttentionBase):
    """Dynamic convolution attention (DCA): location-relative energies from static and query-dependent
    (dynamic) filters over the previous weights, plus the log of a causal beta-binomial prior filter.

    ``e_j = v^T tanh(W f_j + U g_j + b) + log(max((P * a_prev)_j, 1e-6))`` with ``f = F * a_prev``,
    ``g = G(q) * a_prev``, ``G(q) = V_G tanh(W_G q + b_G)``. The prior only moves mass forward by
    ``0..prior_length-1`` positions, so the alignment advances monotonically; it never looks at the memory
    content, which keeps it stable on long inputs.

    Args:
        units: attention dimension (128).
        static_filters, static_kernel_size: fixed filters ``F`` (8 of length 21).
        dynamic_filters, dynamic_kernel_size: filters ``G(q)`` predicted from the query (8 of length 21).
        dynamic_hidden_units: hidden size of the filter-predicting MLP (128).
        prior_length, prior_alpha, prior_beta: beta-binomial prior filter (11, 0.1, 0.9).
        prior_floor: floor inside the log of the prior term (1e-6).

    Call / step: as :class:`LocationSensitiveAttention` (``memory_projection`` is ignored;
    ``precompute_memory`` returns the memory). The initial previous weights are one-hot on the first frame.

    Example:
        >>> import numpy as np
        >>> att = DynamicConvolutionAttention(units=16)
        >>> ctx, w = att(np.zeros((1, 4, 8), "float32"), np.ones((1, 30, 5), "float32"))
        >>> tuple(ctx.shape), tuple(w.shape)
        ((1, 4, 5), (1, 4, 30))

    Paper: Battenberg et al. 2020, "Location-Relative Attention Mechanisms for Robust Long-Form Speech
    Synthesis" (arXiv:1910.10288), Sec. 2.2.3 and Table 1.
    """

    def __init__(
        self,
        units=128,
        static_filters=8,
        static_kernel_size=21,
        dynamic_filters=8,
        dynamic_kernel_size=21,
        dynamic_hidden_units=128,
        prior_length=11,
        prior_alpha=0.1,
        prior_beta=0.9,
        prior_floor=1e-6,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if static_kernel_size % 2 == 0 or dynamic_kernel_size % 2 == 0:
            raise ValueError("static_kernel_size and dynamic_kernel_size must be odd (centred filters).")
        self.units = int(units)
        self.static_filters = int(static_filters)
        self.static_kernel_size = int(static_kernel_size)
        self.dynamic_filters = int(dynamic_filters)
        self.dynamic_kernel_size = int(dynamic_kernel_size)
        self.dynamic_hidden_units = int(dynamic_hidden_units)
        self.prior_length = int(prior_length)
        self.prior_alpha = float(prior_alpha)
        self.prior_beta = float(prior_beta)
        self.prior_floor = float(prior_floor)
        self.static_conv = keras.layers.Conv1D(
            self.static_filters,
            self.static_kernel_size,
            padding="same",
            use_bias=False,
            name="static_conv",
            dtype=self.dtype_policy,
        )
        self.static_dense = keras.layers.Dense(self.units, use_bias=False, name="static_dense", dtype=self.dtype_policy)
        self.filter_hidden = keras.layers.Dense(
            self.dynamic_hidden_units, activation="tanh", name="filter_hidden", dtype=self.dtype_policy
        )
        self.filter_dense = keras.layers.Dense(
            self.dynamic_filters * self.dynamic_kernel_size,
            use_bias=False,
            name="filter_dense",
            dtype=self.dtype_policy,
        )
        self.dynamic_dense = keras.layers.Dense(
            self.units, use_bias=False, name="dynamic_dense", dtype=self.dtype_policy
        )
        # Causal prior: prior[j] = sum_k P[k] a[j - k]; frames hold a[j - L + 1 .. j], so the taps are reversed.
        self._prior_taps = beta_binomial_pmf(self.prior_length, self.prior_alpha, self.prior_beta)[::-1].copy()

    def build(self, query_shape, memory_shape=None, **kwargs):
        _build(self.static_conv, (None, None, 1))
        _build(self.static_dense, (None, None, self.static_filters))
        _build(self.filter_hidden, (None, query_shape[-1]))
        _build(self.filter_dense, (None, self.dynamic_hidden_units))
        _build(self.dynamic_dense, (None, None, self.dynamic_filters))
        self.v = self.add_weight(name="v", shape=(self.units,), initializer="glorot_uniform")
        self.b = self.add_weight(name="b", shape=(self.units,), initializer="zeros")
        self.built = True

    def get_initial_state(self, batch_size, time, dtype="float32"):
        """``(previous_weights, cumulative_weights)``: one-hot on frame 0, and zeros; each (batch, time)."""
        first = ops.cast(ops.equal(ops.arange(time), 0), dtype)
        previous = ops.zeros((batch_size, time), dtype=dtype) + first
        return (previous, ops.zeros((batch_size, time), dtype=dtype))

    def precompute_memory(self, memory):
        """DCA ignores the memory content: returns ``memory`` (kept for a common interface)."""
        return memory

    def prior_log(self, previous):
        """``log(max(P * a_prev, floor))`` with the causal beta-binomial filter: (batch, time) -> (batch, time)."""
        frames = _shifted_frames(previous, self.prior_length - 1, 0)
        prior = ops.sum(frames * ops.convert_to_tensor(self._prior_taps, dtype=previous.dtype), axis=-1)
        return ops.log(ops.maximum(prior, self.prior_floor))

    def energies(self, query, previous):
        """Query (batch, q_dim), previous weights (batch, time) -> energies (batch, time)."""
        static = self.static_dense(self.static_conv(ops.expand_dims(previous, -1)))
        k = self.dynamic_kernel_size
        filters = ops.reshape(self.filter_dense(self.filter_hidden(query)), (-1, self.dynamic_filters, k))
        frames = _shifted_frames(previous, k // 2, k // 2)  # (batch, time, k)
        dynamic = self.dynamic_dense(ops.matmul(frames, ops.transpose(filters, (0, 2, 1))))
        hidden = ops.tanh(static + dynamic + self._cast(self.b))
        return ops.sum(hidden * self._cast(self.v), axis=-1) + self.prior_log(previous)

    def step(self, query, memory_projection, memory, mask, state):
        """One decoder step: query (batch, q_dim) -> (context (batch, m_dim), weights (batch, time), new state)."""
        self._ensure_built(query.shape, memory.shape)
        query, memory = self._cast(query), self._cast(memory)
        state = tuple(self._cast(x) for x in state)
        weights = masked_softmax(self.energies(query, state[0]), mask)
        return _weighted_sum(weights, memory), weights, (weights, state[1] + weights)

    def call(self, query, memory, memory_mask=None):
        if len(query.shape) == 2:
            mask = _full_mask(memory) if memory_mask is None else memory_mask
            state = self.get_initial_state(ops.shape(memory)[0], ops.shape(memory)[1], dtype=memory.dtype)
            context, weights, _ = self.step(query, memory, memory, mask, state)
            return context, weights
        return self._scan(query, memory, memory_mask)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            static_filters=self.static_filters,
            static_kernel_size=self.static_kernel_size,
            dynamic_filters=self.dynamic_filters,
            dynamic_kernel_size=self.dynamic_kernel_size,
            dynamic_hidden_units=self.dynamic_hidden_units,
            prior_length=self.prior_length,
            prior_alpha=self.prior_alpha,
            prior_beta=self.prior_beta,
            prior_floor=self.prior_floor,
        )
        return config


# --------------------------------------------------------------------------------------- self-attention
@register
class SinusoidalPositionEmbedding(keras.layers.Layer):
    """Sinusoidal absolute position encodings ``[sin(p w_i), cos(p w_i)]`` with ``w_i = 1 / max_wavelength^(2i/d)``.

    Args:
        max_wavelength: the longest wavelength (10000).

    Call: ``layer(inputs, start_index=0)`` with inputs (batch, time, dim) -> encodings (batch, time, dim)
    for positions ``start_index .. start_index + time - 1`` (add them to the inputs). ``start_index`` may be
    a scalar int tensor (the cache index of a decoding step).

    Example:
        >>> import numpy as np
        >>> pe = SinusoidalPositionEmbedding()(np.zeros((2, 5, 8), "float32"))
        >>> tuple(pe.shape), float(pe[0, 0, 4])
        ((2, 5, 8), 1.0)

    Paper: Vaswani et al. 2017, "Attention Is All You Need" (arXiv:1706.03762), Sec. 3.5.
    """

    def __init__(self, max_wavelength=10000.0, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = float(max_wavelength)

    def call(self, inputs, start_index=0):
        dim = inputs.shape[-1]
        half = dim // 2
        time = inputs.shape[1] if inputs.shape[1] is not None else ops.shape(inputs)[1]
        positions = ops.cast(ops.arange(time), self.compute_dtype) + ops.cast(start_index, self.compute_dtype)
        inv_freq = np.power(self.max_wavelength, -np.arange(half, dtype=np.float64) * 2.0 / dim).astype("float32")
        angles = ops.expand_dims(positions, -1) * ops.convert_to_tensor(inv_freq, dtype=self.compute_dtype)
        pe = ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)
        if dim % 2:
            pe = ops.pad(pe, [[0, 0], [0, 1]])
        return ops.zeros_like(inputs) + ops.expand_dims(pe, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(max_wavelength=self.max_wavelength)
        return config


@register
class MultiHeadSelfAttention(keras.layers.Layer):
    """Multi-head scaled dot-product self-attention with optional clipped relative positions, causal masking,
    a key padding mask, and a single-step mode over a fixed-length key/value cache.

    Args:
        num_heads: heads ``H``.
        key_dim: size per head of queries, keys and values.
        output_dim: output channels (``None``: the input channels).
        causal: position ``i`` attends to ``j <= i`` only.
        max_relative_position: ``k`` of Shaw et al.; relative distances are clipped to ``[-k, k]`` and get
            learned key (and value) embeddings. 0 disables relative positions (use
            :class:`SinusoidalPositionEmbedding` on the inputs for absolute positions).
        relative_values: also add relative embeddings to the values (Shaw et al. eq. 3).
        dropout: dropout on the attention weights (training only).
        use_bias: biases in the projections.

    Call: ``layer(inputs, padding_mask=None, training=None)`` with inputs (batch, time, dim) and padding_mask
    (batch, time) bool (True = real frame) -> (batch, time, output_dim). Padded keys get zero weight.
    Step mode: ``cache = get_initial_cache(batch, max_length)`` (keys and values, each
    (batch, H, max_length, key_dim)), then ``step(x_t, cache, index) -> (y_t, new_cache)`` with x_t
    (batch, dim) and ``index`` the int position of x_t; the cache is written at ``index`` and keys
    ``0..index`` are attended (causal by construction). Shapes stay static, so the step exports to TFLite.

    Example:
        >>> import numpy as np
        >>> mhsa = MultiHeadSelfAttention(2, 4, causal=True, max_relative_position=3)
        >>> y = mhsa(np.zeros((1, 5, 8), "float32"))
        >>> cache = mhsa.get_initial_cache(1, 16)
        >>> y0, cache = mhsa.step(np.zeros((1, 8), "float32"), cache, 0)
        >>> tuple(y.shape), tuple(y0.shape), tuple(cache[0].shape)
        ((1, 5, 8), (1, 8), (1, 2, 16, 4))

    Papers: Vaswani et al. 2017 (arXiv:1706.03762), Sec. 3.2; Shaw, Uszkoreit & Vaswani 2018,
    "Self-Attention with Relative Position Representations" (arXiv:1803.02155), Sec. 3.
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        output_dim=None,
        causal=False,
        max_relative_position=0,
        relative_values=True,
        dropout=0.0,
        use_bias=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.key_dim = int(key_dim)
        self.output_dim = None if output_dim is None else int(output_dim)
        self.causal = bool(causal)
        self.max_relative_position = int(max_relative_position)
        self.relative_values = bool(relative_values)
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        inner = self.num_heads * self.key_dim
        self.query_dense = keras.layers.Dense(inner, use_bias=self.use_bias, name="query", dtype=self.dtype_policy)
        self.key_dense = keras.layers.Dense(inner, use_bias=self.use_bias, name="key", dtype=self.dtype_policy)
        self.value_dense = keras.layers.Dense(inner, use_bias=self.use_bias, name="value", dtype=self.dtype_policy)
        self.output_dense = None  # created in build (output_dim may come from the input)
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def build(self, inputs_shape, padding_mask_shape=None, **kwargs):
        dim = inputs_shape[-1]
        for layer in (self.query_dense, self.key_dense, self.value_dense):
            layer.build((None, None, dim))
        self.output_dense = keras.layers.Dense(
            self.output_dim or dim, use_bias=self.use_bias, name="output", dtype=self.dtype_policy
        )
        _build(self.output_dense, (None, None, self.num_heads * self.key_dim))
        if self.max_relative_position > 0:
            n = 2 * self.max_relative_position + 1
            self.relative_key = self.add_weight(
                name="relative_key", shape=(n, self.key_dim), initializer="glorot_uniform"
            )
            if self.relative_values:
                self.relative_value = self.add_weight(
                    name="relative_value", shape=(n, self.key_dim), initializer="glorot_uniform"
                )
        self.built = True

    # -- pieces
    def _cast(self, x):
        return ops.cast(x, self.compute_dtype)

    def _heads(self, x):
        """(batch, time, H * d) -> (batch, H, time, d)."""
        x = ops.reshape(x, (ops.shape(x)[0], -1, self.num_heads, self.key_dim))
        return ops.transpose(x, (0, 2, 1, 3))

    def _relative_index(self, query_positions, key_positions):
        """(tq,), (tk,) int -> (tq, tk) indices into the relative tables: clip(j - i, -k, k) + k."""
        k = self.max_relative_position
        distance = ops.expand_dims(key_positions, 0) - ops.expand_dims(query_positions, 1)
        return ops.clip(distance, -k, k) + k

    def _attend(self, q, k, v, mask, rel_index, training=None):
        """q (b, H, tq, d), k/v (b, H, tk, d), mask broadcastable to (b, H, tq, tk) -> (b, tq, H * d)."""
        logits = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2)))
        if rel_index is not None:
            rel_k = ops.take(self._cast(self.relative_key), rel_index, axis=0)  # (tq, tk, d)
            logits = logits + ops.einsum("bhqd,qkd->bhqk", q, rel_k)
        logits = logits / math.sqrt(self.key_dim)
        weights = masked_softmax(logits, mask)
        weights = self.dropout_layer(weights, training=training)
        out = ops.matmul(weights, v)
        if rel_index is not None and self.relative_values:
            rel_v = ops.take(self._cast(self.relative_value), rel_index, axis=0)
            out = out + ops.einsum("bhqk,qkd->bhqd", weights, rel_v)
        out = ops.transpose(out, (0, 2, 1, 3))
        return ops.reshape(out, (ops.shape(out)[0], -1, self.num_heads * self.key_dim))

    def call(self, inputs, padding_mask=None, training=None):
        q = self._heads(self.query_dense(inputs))
        k = self._heads(self.key_dense(inputs))
        v = self._heads(self.value_dense(inputs))
        time = inputs.shape[1] if inputs.shape[1] is not None else ops.shape(inputs)[1]
        positions = ops.arange(time)
        mask = None
        if self.causal:
            mask = ops.expand_dims(positions, 0) <= ops.expand_dims(positions, 1)  # (tq, tk)
            mask = ops.reshape(mask, (1, 1, time, time))
        if padding_mask is not None:
            key_mask = ops.reshape(ops.cast(padding_mask, "bool"), (ops.shape(inputs)[0], 1, 1, time))
            mask = key_mask if mask is None else ops.logical_and(mask, key_mask)
        rel_index = self._relative_index(positions, positions) if self.max_relative_position > 0 else None
        return self.output_dense(self._attend(q, k, v, mask, rel_index, training))

    # -- step mode
    def get_initial_cache(self, batch_size, max_length, dtype="float32"):
        """Zero ``(keys, values)`` cache, each (batch, num_heads, max_length, key_dim)."""
        shape = (batch_size, self.num_heads, max_length, self.key_dim)
        return (ops.zeros(shape, dtype=dtype), ops.zeros(shape, dtype=dtype))

    def step(self, x, cache, index):
        """One position: x (batch, dim) or (batch, 1, dim), cache (keys, values), index int of shape () or (1,)
        -> (y (batch, output_dim), new cache with x's key/value written at ``index``)."""
        if len(x.shape) == 2:
            x = ops.expand_dims(x, 1)
        if not self.built:
            self.build(tuple(x.shape))
        x = self._cast(x)
        keys, values = self._cast(cache[0]), self._cast(cache[1])
        max_length = keys.shape[2]
        index = ops.reshape(ops.cast(index, "int32"), ())
        positions = ops.arange(max_length, dtype="int32")
        write = ops.reshape(ops.equal(positions, index), (1, 1, max_length, 1))
        keys = ops.where(write, self._heads(self.key_dense(x)), keys)
        values = ops.where(write, self._heads(self.value_dense(x)), values)
        q = self._heads(self.query_dense(x))
        mask = ops.reshape(positions <= index, (1, 1, 1, max_length))
        rel_index = None
        if self.max_relative_position > 0:
            rel_index = self._relative_index(ops.reshape(index, (1,)), positions)
        y = self.output_dense(self._attend(q, keys, values, mask, rel_index))
        return ops.squeeze(y, 1), (keys, values)

    def compute_output_shape(self, inputs_shape, padding_mask_shape=None):
        return tuple(inputs_shape)[:-1] + (self.output_dim or inputs_shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            key_dim=self.key_dim,
            output_dim=self.output_dim,
            causal=self.causal,
            max_relative_position=self.max_relative_position,
            relative_values=self.relative_values,
            dropout=self.dropout,
            use_bias=self.use_bias,
        )
        return config
