"""Encoder-decoder attention layers for sequence-to-sequence audio models (Tacotron 2), each with a step mode.

Attention over a memory ``(batch, time, memory_dim)`` with a boolean padding mask ``(batch, time)``:

- :class:`LocationSensitiveAttention` (Chorowski et al. 2015; Tacotron 2, Shen et al. 2018).
- :class:`DynamicConvolutionAttention` (Battenberg et al. 2020), purely location-relative with a
  causal beta-binomial prior, robust on long inputs.

The two share one decoding interface: ``precompute_memory(memory)`` once per utterance, then
``step(query, memory_projection, memory, mask, state) -> (context, weights, new_state)`` with
``state = (previous_weights, cumulative_weights)`` from ``get_initial_state(batch, time)``.

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
