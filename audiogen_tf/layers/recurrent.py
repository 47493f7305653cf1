"""Stacked LSTM / GRU blocks with an explicit-state single-step path for autoregressive generation and TFLite.

A :class:`RecurrentStack` runs a whole sequence with ``keras.layers.LSTM`` / ``keras.layers.GRU`` (teacher
forcing) and one time step with the same weights through the layers' cells (``LSTMCell`` / ``GRUCell``), the
state passed in and out as a flat list of ``(batch, units)`` tensors. The step is loop-free (matmuls, sigmoid,
tanh, split), so it converts to a builtin-ops ``.tflite`` with fully static shapes, unlike a Keras RNN layer with
a dynamic time axis (whose ``TensorList`` ops need Flex).

Example:
    >>> import numpy as np
    >>> rnn = RecurrentStack(8, num_layers=2, cell_type="lstm")
    >>> x = np.random.rand(2, 5, 3).astype("float32")
    >>> tuple(rnn(x).shape)
    (2, 5, 8)
    >>> y, states = rnn.step(x[:, 0], rnn.initial_states(2))
    >>> len(states), tuple(states[0].shape)   # [h1, c1, h2, c2]
    (4, (2, 8))

Cells: Hochreiter & Schmidhuber 1997 (LSTM, with forget gate, Gers et al. 2000); Cho et al. 2014 (GRU).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from audiogen_tf.serialization import register

CELL_TYPES = ("lstm", "gru")


def states_per_layer(cell_type: str) -> int:
    """State tensors per layer: 2 for an LSTM (``h``, ``c``), 1 for a GRU (``h``)."""
    if cell_type not in CELL_TYPES:
        raise ValueError(f"cell_type must be one of {CELL_TYPES}, got {cell_type!r}")
    return 2 if cell_type == "lstm" else 1


def explicit_state_step(step, leading_specs, state_shapes, trailing_specs=(), state_name="state"):
    """An export function and its input specs for a step whose state travels as explicit tensors.

    The exported signature is ``(*leading, state_0, ..., state_k, *trailing)`` (states float32, named
    ``{state_name}_{i}``); ``step(*leading, states, *trailing)`` returns ``(outputs, new_states)`` where
    ``outputs`` is a tensor or a list; the function returns ``[*outputs, *new_states]``. Shared by the
    sample- and frame-level generators (WaveNet queues, WaveRNN / FrameRNN recurrent state) so every shape is
    fixed and the ``.tflite`` needs no TensorList ops.

    Returns:
        ``(fn, specs)`` for a ``tflite_export`` endpoint.
    """
    leading_specs, trailing_specs = list(leading_specs), list(trailing_specs)
    n_lead, n_state = len(leading_specs), len(state_shapes)
    specs = leading_specs + [tf.TensorSpec(tuple(s), tf.float32, name=f"{state_name}_{i}")
                             for i, s in enumerate(state_shapes)] + trailing_specs

    def fn(*args):
        lead, states, trail = args[:n_lead], list(args[n_lead:n_lead + n_state]), args[n_lead + n_state:]
        outputs, new_states = step(*lead, states, *trail)
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        return outputs + list(new_states)

    return fn, specs


@register
class RecurrentStack(keras.layers.Layer):
    """``num_layers`` stacked LSTM or GRU layers, full-sequence ``call`` and explicit-state ``step``.

    Args:
        units: hidden size of every layer.
        num_layers: layers stacked (the output of layer ``i`` is the input of layer ``i + 1``).
        cell_type: ``"lstm"`` or ``"gru"`` (GRU with ``reset_after=True``, the Keras default).
        residual: add each layer's input to its output when the widths match (layers after the first).

    Call:
        ``x`` (batch, time, features) -> (batch, time, units); with ``initial_states`` (flat list of
        (batch, units), see :meth:`state_shapes`) and ``return_states=True`` also the final states.

    Example:
        >>> rnn = RecurrentStack(16, num_layers=1, cell_type="gru")
        >>> tuple(rnn(keras.ops.zeros((1, 7, 4))).shape)
        (1, 7, 16)
    """

    def __init__(self, units, num_layers=1, cell_type="lstm", residual=False, **kwargs):
        super().__init__(**kwargs)
        states_per_layer(cell_type)
        self.units = int(units)
        self.num_layers = int(num_layers)
        self.cell_type = cell_type
        self.residual = bool(residual)
        cls = keras.layers.LSTM if cell_type == "lstm" else keras.layers.GRU
        self.rnns = [
            cls(self.units, return_sequences=True, return_state=True, name=f"{cell_type}_{i}")
            for i in range(self.num_layers)
        ]

    def build(self, input_shape):
        shape = tuple(input_shape)
        for rnn in self.rnns:
            if not rnn.built:
                rnn.build(shape)
            shape = shape[:-1] + (self.units,)
        self.built = True

    @property
    def states_per_layer(self) -> int:
        return states_per_layer(self.cell_type)

    def state_shapes(self, batch_size=1) -> list[tuple]:
        """Shapes of the flat state list: ``[(batch, units)] * (num_layers * states_per_layer)``."""
        return [(batch_size, self.units)] * (self.num_layers * self.states_per_layer)

    def initial_states(self, batch_size=1) -> list:
        """Zero states, the flat list that :meth:`step` takes (``[h1, c1, h2, c2, ...]`` / ``[h1, h2, ...]``)."""
        return [ops.zeros(s, "float32") for s in self.state_shapes(batch_size)]

    def _layer_states(self, states, i):
        k = self.states_per_layer
        return list(states[i * k : (i + 1) * k])

    def call(self, x, initial_states=None, return_states=False, training=False):
        h = x
        final = []
        for i, rnn in enumerate(self.rnns):
            init = self._layer_states(initial_states, i) if initial_states is not None else None
            out = rnn(h, initial_state=init, training=training)
            y, layer_states = out[0], list(out[1:])
            h = y + h if (self.residual and i > 0) else y
            final += layer_states
        return (h, final) if return_states else h

    def step(self, x_t, states):
        """One time step with explicit state.

        Args:
            x_t: (batch, features) input of this step.
            states: flat list of (batch, units) tensors (:meth:`initial_states` at the start).

        Returns:
            ``(y_t (batch, units), new_states)``, the same values the full-sequence ``call`` gives at this step.
        """
        h = x_t
        new_states = []
        for i, rnn in enumerate(self.rnns):
            cell_states = self._layer_states(states, i)
            y, s = rnn.cell(h, cell_states, training=False)
            s = list(s) if isinstance(s, (list, tuple)) else [s]
            h = y + h if (self.residual and i > 0) else y
            new_states += s
        return h, new_states

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"units": self.units, "num_layers": self.num_layers, "cell_type": self.cell_type, "residual": self.residual}
        )
        return config
