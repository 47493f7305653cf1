"""Tacotron 2 (Shen et al. 2018): text ids -> log-mel frames with location-sensitive attention.

Encoder: embedding, 3 conv layers (5 x 512, batch norm, ReLU, dropout), bidirectional LSTM (256 per direction).
Decoder, one step: pre-net (2 x 256, ReLU, dropout 0.5, kept at inference) of the previous frame, attention
LSTM over [pre-net, previous context], attention (location-sensitive or DCA) queried by it, decoder LSTM over
[attention LSTM output, context], then linear projections of [decoder LSTM output, context] to ``r`` mel frames
and one stop logit. Post-net: 5 conv layers (512, tanh) predicting a residual.

The LSTM math is written with ``keras.ops`` (:class:`LSTMStep`), so the decoder step is a function of explicit,
fixed-shape state that exports to TFLite with builtin ops; training runs the same step under ``ops.scan``
(teacher forcing), and :meth:`Tacotron2.synthesize` under one ``tf.while_loop``.

Example:
    >>> import numpy as np
    >>> model = Tacotron2.from_preset("tacotron2_tiny")
    >>> ids, lengths = model.frontend.encode_batch(["hello there."])
    >>> out = model({"text_ids": ids, "text_lengths": lengths, "mel": np.zeros((1, 12, 80), "float32")})
    >>> tuple(out["mel_after"].shape), tuple(out["alignments"].shape)
    ((1, 12, 80), (1, 6, 13))

Paper: Shen et al. 2018, "Natural TTS Synthesis by Conditioning WaveNet on Mel Spectrogram Predictions"
(arXiv:1712.05884), Sec. 2.2-2.3. Reduction factor from Wang et al. 2017 (Tacotron, arXiv:1703.10135).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from audiogen_tf.errors import ConfigError
from audiogen_tf.features import CarriesFeatures, complete_mel_config, log_mel_to_audio
from audiogen_tf.layers.attention import DynamicConvolutionAttention, LocationSensitiveAttention
from audiogen_tf.registry import PresetMixin
from audiogen_tf.serialization import register
from audiogen_tf.text import TextFrontEnd
from zoo.tacotron2.tacotron2_losses import sequence_mask, tacotron2_losses

# Order of the decoder state tuple.
STATE_NAMES = ("context", "attention_weights", "cumulative_weights", "attention_h", "attention_c",
               "decoder_h", "decoder_c")


# ------------------------------------------------------------------------------------------- LSTM
@register
class LSTMStep(keras.layers.Layer):
    """One LSTM step with ``keras.ops`` (gates i, f, g, o; forget bias 1): ``(x, h, c) -> (h, c)``.

    Args:
        units: state size.
        input_dim: size of ``x`` (the weights are built in the constructor).

    Example:
        >>> import numpy as np
        >>> cell = LSTMStep(4, 3)
        >>> h, c = cell(np.zeros((2, 3), "float32"), np.zeros((2, 4), "float32"), np.zeros((2, 4), "float32"))
        >>> tuple(h.shape)
        (2, 4)

    Paper: Hochreiter & Schmidhuber 1997; the gate layout of Gers et al. 2000.
    """

    def __init__(self, units, input_dim, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.input_dim = int(input_dim)
        self.build()

    def build(self, *args, **kwargs):
        if self.built:
            return
        u = self.units
        self.kernel = self.add_weight(name="kernel", shape=(self.input_dim, 4 * u), initializer="glorot_uniform")
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(u, 4 * u), initializer="orthogonal")
        bias = np.zeros(4 * u, np.float32)
        bias[u : 2 * u] = 1.0
        self.bias = self.add_weight(name="bias", shape=(4 * u,), initializer=keras.initializers.Constant(bias))
        self.built = True

    def input_projection(self, x):
        """``x W + b`` for (..., input_dim) -> (..., 4 units)."""
        return ops.matmul(x, self.kernel) + self.bias

    def recurrent(self, projected, h, c):
        """Gates from the projected input (batch, 4 units) and the previous state -> (h, c)."""
        z = projected + ops.matmul(h, self.recurrent_kernel)
        i, f, g, o = ops.split(z, 4, axis=-1)
        c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
        return ops.sigmoid(o) * ops.tanh(c), c

    def call(self, x, h, c):
        return self.recurrent(self.input_projection(x), h, c)

    def compute_output_spec(self, x, h, c):
        # two distinct tensors (h, c): one object returned twice would be one tensor in a functional model
        return (keras.KerasTensor(tuple(h.shape), dtype=self.compute_dtype),
                keras.KerasTensor(tuple(c.shape), dtype=self.compute_dtype))

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, input_dim=self.input_dim)
        return config


def _reverse_within_length(x, mask):
    """Reverse each sequence of x (batch, time, dim) within its valid length (mask (batch, time) float)."""
    time = ops.shape(x)[1]
    lengths = ops.cast(ops.sum(mask, axis=1, keepdims=True), "int32")
    t = ops.expand_dims(ops.arange(time, dtype="int32"), 0)
    index = ops.where(t < lengths, lengths - 1 - t, t)  # (batch, time)
    permutation = ops.one_hot(index, time, dtype=x.dtype)  # (batch, time, time); a matmul, builtin in TFLite
    return ops.matmul(permutation, x)


@register
class MaskedBiLSTM(keras.layers.Layer):
    """Bidirectional LSTM over padded sequences; the backward pass starts at each sequence's real end.

    Args:
        units: units per direction; input_dim: feature size of the input.

    Call: ``layer(x, mask)`` with x (batch, time, input_dim), mask (batch, time) -> (batch, time, 2 units),
    zero at padding.
    """

    def __init__(self, units, input_dim, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.input_dim = int(input_dim)
        self.forward_cell = LSTMStep(units, input_dim, name="forward", dtype=self.dtype_policy)
        self.backward_cell = LSTMStep(units, input_dim, name="backward", dtype=self.dtype_policy)

    def build(self, *args, **kwargs):
        self.built = True

    def _run(self, cell, x, mask):
        projected = ops.transpose(cell.input_projection(x), (1, 0, 2))  # (time, batch, 4u)
        steps_mask = ops.expand_dims(ops.transpose(mask, (1, 0)), -1)  # (time, batch, 1)
        zeros = ops.zeros((ops.shape(x)[0], self.units), dtype=x.dtype)

        def body(carry, inputs):  # one sequence input: Keras' scan needs a static length for several
            xw, m = inputs[:, :-1], inputs[:, -1:]
            h, c = cell.recurrent(xw, carry[0], carry[1])
            new = (ops.where(m > 0, h, carry[0]), ops.where(m > 0, c, carry[1]))
            return new, new

        _, (hs, _) = ops.scan(body, (zeros, zeros), ops.concatenate([projected, steps_mask], axis=-1))
        return ops.transpose(hs, (1, 0, 2))

    def call(self, x, mask):
        mask = ops.cast(mask, x.dtype)
        forward = self._run(self.forward_cell, x, mask)
        backward = _reverse_within_length(self._run(self.backward_cell, _reverse_within_length(x, mask), mask), mask)
        return ops.concatenate([forward, backward], axis=-1) * ops.expand_dims(mask, -1)

    def compute_output_spec(self, x, mask):
        return keras.KerasTensor(tuple(x.shape[:-1]) + (2 * self.units,), dtype=self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, input_dim=self.input_dim)
        return config


# ------------------------------------------------------------------------------------------- encoder
@register
class Tacotron2Encoder(keras.layers.Layer):
    """Embedding -> conv stack (conv, batch norm, ReLU, dropout) -> masked bidirectional LSTM.

    Call: ``encoder(text_ids, text_lengths, training=None)`` with ids (batch, text) int32 and lengths (batch,)
    -> memory (batch, text, 2 lstm_units), zero at padding.
    """

    def __init__(self, vocabulary_size, embedding_dim=512, conv_layers=3, conv_filters=512, kernel_size=5,
                 lstm_units=256, dropout=0.5, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = int(vocabulary_size)
        self.embedding_dim = int(embedding_dim)
        self.conv_layers = int(conv_layers)
        self.conv_filters = int(conv_filters)
        self.kernel_size = int(kernel_size)
        self.lstm_units = int(lstm_units)
        self.dropout = float(dropout)
        p = self.dtype_policy
        self.embedding = keras.layers.Embedding(self.vocabulary_size, self.embedding_dim, name="embedding", dtype=p)
        self.convs, self.norms = [], []
        channels = self.embedding_dim
        for i in range(self.conv_layers):
            conv = keras.layers.Conv1D(self.conv_filters, self.kernel_size, padding="same", name=f"conv_{i}", dtype=p)
            norm = keras.layers.BatchNormalization(name=f"norm_{i}", dtype=p)
            conv.build((None, None, channels))
            norm.build((None, None, self.conv_filters))
            self.convs.append(conv)
            self.norms.append(norm)
            channels = self.conv_filters
        self.embedding.build((None, None))
        self.drop = keras.layers.Dropout(self.dropout, dtype=p)
        self.lstm = MaskedBiLSTM(self.lstm_units, channels, name="bilstm", dtype=p)

    def build(self, *args, **kwargs):
        self.built = True

    def call(self, text_ids, text_lengths, training=None):
        mask = sequence_mask(text_lengths, ops.shape(text_ids)[1], self.compute_dtype)
        m3 = ops.expand_dims(mask, -1)
        x = self.embedding(text_ids)
        for conv, norm in zip(self.convs, self.norms):
            x = self.drop(ops.relu(norm(conv(x * m3), training=training)), training=training)
        return self.lstm(x * m3, mask)

    def compute_output_spec(self, text_ids, text_lengths, training=None):
        return keras.KerasTensor(tuple(text_ids.shape) + (2 * self.lstm_units,), dtype=self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(vocabulary_size=self.vocabulary_size, embedding_dim=self.embedding_dim,
                      conv_layers=self.conv_layers, conv_filters=self.conv_filters, kernel_size=self.kernel_size,
                      lstm_units=self.lstm_units, dropout=self.dropout)
        return config


# ------------------------------------------------------------------------------------------- decoder
@register
class Tacotron2Decoder(keras.layers.Layer):
    """Autoregressive decoder: pre-net, attention LSTM, attention, decoder LSTM, frame and stop projections.

    Args:
        n_mels: mel bins; reduction_factor: frames per step ``r``; memory_dim: encoder output size.
        prenet_units: pre-net layer sizes; prenet_dropout: pre-net dropout (training and synthesis).
        decoder_units: size of both LSTMs; attention: ``"location"`` or ``"dca"``;
        attention_units, location_filters, location_kernel_size: attention sizes.

    Call (teacher forcing): ``decoder(memory, text_lengths, mel, training=None)`` with memory
    (batch, text, memory_dim), mel (batch, frames, n_mels) -> (mel (batch, frames, n_mels),
    stop_logits (batch, steps), alignments (batch, steps, text)); ``steps = ceil(frames / r)``.
    Step: ``step(previous_frame, state, memory_projection, memory, mask, prenet_masks=None)``
    -> (frames (batch, r, n_mels), stop_logit (batch,), weights (batch, text), new_state).
    """

    def __init__(self, n_mels=80, reduction_factor=1, memory_dim=512, prenet_units=(256, 256), prenet_dropout=0.5,
                 decoder_units=1024, attention="location", attention_units=128, location_filters=32,
                 location_kernel_size=31, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.n_mels = int(n_mels)
        self.reduction_factor = int(reduction_factor)
        self.memory_dim = int(memory_dim)
        self.prenet_units = [int(u) for u in prenet_units]
        self.prenet_dropout = float(prenet_dropout)
        self.decoder_units = int(decoder_units)
        self.attention_type = str(attention)
        self.attention_units = int(attention_units)
        self.location_filters = int(location_filters)
        self.location_kernel_size = int(location_kernel_size)
        self.seed = seed
        p = self.dtype_policy
        self.prenet_layers = []
        dim = self.n_mels
        for i, u in enumerate(self.prenet_units):
            layer = keras.layers.Dense(u, activation="relu", use_bias=False, name=f"prenet_{i}", dtype=p)
            layer.build((None, dim))
            self.prenet_layers.append(layer)
            dim = u
        d, m = self.decoder_units, self.memory_dim
        self.attention_rnn = LSTMStep(d, dim + m, name="attention_rnn", dtype=p)
        if self.attention_type == "location":
            self.attention = LocationSensitiveAttention(self.attention_units, self.location_filters,
                                                        self.location_kernel_size, name="attention", dtype=p)
        elif self.attention_type == "dca":
            self.attention = DynamicConvolutionAttention(self.attention_units, name="attention", dtype=p)
        else:
            raise ConfigError(f"attention must be 'location' or 'dca', got {attention!r}")
        self.attention.build((None, d), (None, None, m))
        self.decoder_rnn = LSTMStep(d, d + m, name="decoder_rnn", dtype=p)
        self.frame_projection = keras.layers.Dense(self.reduction_factor * self.n_mels, name="frame_projection",
                                                   dtype=p)
        self.stop_projection = keras.layers.Dense(1, name="stop_projection", dtype=p)
        self.frame_projection.build((None, d + m))
        self.stop_projection.build((None, d + m))
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, *args, **kwargs):
        self.built = True

    # -- pieces
    def initial_state(self, batch_size, text_length, dtype="float32"):
        """Zero state (see ``STATE_NAMES``): context (b, memory_dim), weights (b, text) x 2, LSTM h/c (b, units)."""
        previous, cumulative = self.attention.get_initial_state(batch_size, text_length, dtype=dtype)
        zeros = ops.zeros((batch_size, self.decoder_units), dtype=dtype)
        context = ops.zeros((batch_size, self.memory_dim), dtype=dtype)
        return (context, previous, cumulative, zeros, zeros, zeros, zeros)

    def prenet(self, frames, masks=None, dropout=False):
        """Pre-net of frames (..., n_mels); ``masks`` (list of (..., units_i), already scaled) or random dropout."""
        x = frames
        for i, layer in enumerate(self.prenet_layers):
            x = layer(x)
            if masks is not None:
                x = x * masks[i]
            elif dropout and self.prenet_dropout > 0:
                x = keras.random.dropout(x, self.prenet_dropout, seed=self.seed_generator)
        return x

    def core_step(self, prenet_out, state, memory_projection, memory, mask):
        """Recurrent part of a step -> (projection input (batch, units + memory_dim), new state)."""
        context, previous, cumulative, h1, c1, h2, c2 = state
        h1, c1 = self.attention_rnn(ops.concatenate([prenet_out, context], axis=-1), h1, c1)
        context, weights, (previous, cumulative) = self.attention.step(
            h1, memory_projection, memory, mask, (previous, cumulative))
        h2, c2 = self.decoder_rnn(ops.concatenate([h1, context], axis=-1), h2, c2)
        return ops.concatenate([h2, context], axis=-1), (context, previous, cumulative, h1, c1, h2, c2)

    def project(self, outputs):
        """(..., units + memory_dim) -> frames (..., r * n_mels), stop logits (...)."""
        return self.frame_projection(outputs), ops.squeeze(self.stop_projection(outputs), -1)

    def step(self, previous_frame, state, memory_projection, memory, mask, prenet_masks=None, dropout=False):
        """One decoder step (see the class docstring)."""
        out, state = self.core_step(self.prenet(previous_frame, prenet_masks, dropout), state, memory_projection,
                                    memory, mask)
        frames, stop = self.project(out)
        frames = ops.reshape(frames, (-1, self.reduction_factor, self.n_mels))
        return frames, stop, state[1], state

    # -- teacher forcing
    def call(self, memory, text_lengths, mel, training=None):
        r, m = self.reduction_factor, self.n_mels
        batch, frames = ops.shape(mel)[0], ops.shape(mel)[1]
        steps = (frames + r - 1) // r
        padded = ops.pad(mel, [[0, 0], [0, steps * r - frames], [0, 0]])
        groups = ops.reshape(padded, (batch, steps, r * m))
        previous = ops.concatenate([ops.zeros_like(groups[:, :1, -m:]), groups[:, :-1, -m:]], axis=1)
        x = self.prenet(previous, dropout=bool(training))
        text_length = ops.shape(memory)[1]
        mask = ops.cast(sequence_mask(text_lengths, text_length), "bool")
        memory_projection = self.attention.precompute_memory(memory)
        state = self.initial_state(batch, text_length, dtype=memory.dtype)

        def body(carry, x_t):
            _, new = self.core_step(x_t, carry, memory_projection, memory, mask)
            return new, new

        _, states = ops.scan(body, state, ops.transpose(x, (1, 0, 2)))
        contexts, weights, h2 = states[0], states[1], states[5]
        outputs = ops.transpose(ops.concatenate([h2, contexts], axis=-1), (1, 0, 2))  # (batch, steps, d + m)
        mel_frames, stop = self.project(outputs)
        mel_frames = ops.reshape(mel_frames, (batch, steps * r, m))[:, :frames]
        return mel_frames, stop, ops.transpose(weights, (1, 0, 2))

    def compute_output_spec(self, memory, text_lengths, mel, training=None):
        b, t = mel.shape[0], mel.shape[1]
        steps = None if t is None else -(-t // self.reduction_factor)
        return (keras.KerasTensor((b, t, self.n_mels), dtype=self.compute_dtype),
                keras.KerasTensor((b, steps), dtype=self.compute_dtype),
                keras.KerasTensor((b, steps, memory.shape[1]), dtype=self.compute_dtype))

    def get_config(self):
        config = super().get_config()
        config.update(n_mels=self.n_mels, reduction_factor=self.reduction_factor, memory_dim=self.memory_dim,
                      prenet_units=list(self.prenet_units), prenet_dropout=self.prenet_dropout,
                      decoder_units=self.decoder_units, attention=self.attention_type,
                      attention_units=self.attention_units, location_filters=self.location_filters,
                      location_kernel_size=self.location_kernel_size, seed=self.seed)
        return config


# ------------------------------------------------------------------------------------------- post-net
@register
class Tacotron2Postnet(keras.layers.Layer):
    """Conv stack (conv, batch norm, tanh except last, dropout) predicting a residual: (b, t, n_mels) -> same."""

    def __init__(self, n_mels=80, layers=5, filters=512, kernel_size=5, dropout=0.5, **kwargs):
        super().__init__(**kwargs)
        self.n_mels = int(n_mels)
        self.num_layers = int(layers)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.dropout = float(dropout)
        p = self.dtype_policy
        self.convs, self.norms = [], []
        channels = self.n_mels
        for i in range(self.num_layers):
            out = self.n_mels if i == self.num_layers - 1 else self.filters
            conv = keras.layers.Conv1D(out, self.kernel_size, padding="same", name=f"conv_{i}", dtype=p)
            norm = keras.layers.BatchNormalization(name=f"norm_{i}", dtype=p)
            conv.build((None, None, channels))
            norm.build((None, None, out))
            self.convs.append(conv)
            self.norms.append(norm)
            channels = out
        self.drop = keras.layers.Dropout(self.dropout, dtype=p)

    def build(self, *args, **kwargs):
        self.built = True

    def call(self, x, training=None):
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            x = norm(conv(x), training=training)
            if i < self.num_layers - 1:
                x = ops.tanh(x)
            x = self.drop(x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(n_mels=self.n_mels, layers=self.num_layers, filters=self.filters,
                      kernel_size=self.kernel_size, dropout=self.dropout)
        return config


# ------------------------------------------------------------------------------------------- model
@register
class Tacotron2(CarriesFeatures, PresetMixin, keras.Model):
    """Tacotron 2 text-to-mel model, trained teacher-forced with plain ``compile``/``fit``.

    Inputs (dict): ``text_ids`` (batch, text) int32 (0 = padding), ``text_lengths`` (batch,) int32,
    ``mel`` (batch, frames, n_mels) target log-mel (teacher forcing).
    Outputs (dict): ``mel_before`` and ``mel_after`` (batch, frames, n_mels) (before / after the post-net),
    ``stop_logits`` (batch, steps), ``alignments`` (batch, steps, text); ``steps = ceil(frames / r)``.
    ``fit`` takes ``(inputs, {"mel": ..., "mel_lengths": ...})`` (see :func:`tacotron2_dataset`); the loss
    (masked mel MSE before/after the post-net, stop BCE, optional guided attention) is computed in
    :meth:`compute_loss` from the weights given here, so ``compile(optimizer=...)`` needs no ``loss``.

    Args:
        frontend: :class:`audiogen_tf.text.TextFrontEnd` config (symbol table included); default characters.
        mel_config: :class:`audiogen_tf.features.MelConfig` dict of the targets (for Griffin-Lim audio).
        embedding_dim, encoder_conv_layers, encoder_conv_filters, encoder_kernel_size, encoder_lstm_units,
            encoder_dropout: encoder sizes (512, 3, 512, 5, 256, 0.5).
        attention: ``"location"`` (location-sensitive) or ``"dca"``; attention_units, location_filters,
            location_kernel_size: (128, 32, 31).
        prenet_units, prenet_dropout, decoder_units, reduction_factor: ([256, 256], 0.5, 1024, 1).
        postnet_layers, postnet_filters, postnet_kernel_size, postnet_dropout: (5, 512, 5, 0.5).
        max_decoder_steps, stop_threshold: synthesis guard and stop probability threshold.
        mel_l1_weight, stop_weight, stop_pos_weight, guided_attention_weight, guided_attention_sigma: loss weights.
        seed: pre-net dropout seed.

    Example:
        >>> model = Tacotron2.from_preset("tacotron2_tiny")
        >>> out = model.synthesize("hi.", max_decoder_steps=5, griffin_lim_iters=2)
        >>> out["mel"].shape[1], out["alignment"].shape[1]
        (80, 4)

    Paper: Shen et al. 2018 (arXiv:1712.05884).
    """

    def __init__(self, frontend=None, mel_config=None, embedding_dim=512, encoder_conv_layers=3,
                 encoder_conv_filters=512, encoder_kernel_size=5, encoder_lstm_units=256, encoder_dropout=0.5,
                 attention="location", attention_units=128, location_filters=32, location_kernel_size=31,
                 prenet_units=(256, 256), prenet_dropout=0.5, decoder_units=1024, reduction_factor=1,
                 postnet_layers=5, postnet_filters=512, postnet_kernel_size=5, postnet_dropout=0.5,
                 max_decoder_steps=1000, stop_threshold=0.5, mel_l1_weight=0.0, stop_weight=1.0,
                 stop_pos_weight=1.0, guided_attention_weight=0.0, guided_attention_sigma=0.2, seed=None,
                 name="tacotron2", **kwargs):
        frontend_obj = TextFrontEnd.from_config(frontend) if frontend is not None else TextFrontEnd()
        mel_cfg = complete_mel_config(mel_config, "Tacotron2")
        if int(reduction_factor) < 1:
            raise ConfigError(f"reduction_factor must be >= 1, got {reduction_factor}")
        n_mels = mel_cfg.n_mels
        encoder = Tacotron2Encoder(len(frontend_obj.table), embedding_dim, encoder_conv_layers,
                                   encoder_conv_filters, encoder_kernel_size, encoder_lstm_units, encoder_dropout,
                                   name="encoder")
        decoder = Tacotron2Decoder(n_mels, reduction_factor, 2 * int(encoder_lstm_units), prenet_units,
                                   prenet_dropout, decoder_units, attention, attention_units, location_filters,
                                   location_kernel_size, seed=seed, name="decoder")
        postnet = Tacotron2Postnet(n_mels, postnet_layers, postnet_filters, postnet_kernel_size, postnet_dropout,
                                   name="postnet")
        text_ids = keras.Input((None,), dtype="int32", name="text_ids")
        text_lengths = keras.Input((), dtype="int32", name="text_lengths")
        mel = keras.Input((None, n_mels), name="mel")
        memory = encoder(text_ids, text_lengths)
        mel_before, stop_logits, alignments = decoder(memory, text_lengths, mel)
        mel_after = keras.layers.Add(name="residual")([mel_before, postnet(mel_before)])
        outputs = {"mel_before": mel_before, "mel_after": mel_after, "stop_logits": stop_logits,
                   "alignments": alignments}
        super().__init__(inputs={"text_ids": text_ids, "text_lengths": text_lengths, "mel": mel}, outputs=outputs,
                         name=name, **kwargs)
        self.frontend = frontend_obj
        self.mel_config = mel_cfg
        self.n_mels = n_mels
        self.encoder, self.decoder, self.postnet = encoder, decoder, postnet
        self._args = dict(
            frontend=frontend_obj.get_config(), mel_config=mel_cfg.to_dict(), embedding_dim=int(embedding_dim),
            encoder_conv_layers=int(encoder_conv_layers), encoder_conv_filters=int(encoder_conv_filters),
            encoder_kernel_size=int(encoder_kernel_size), encoder_lstm_units=int(encoder_lstm_units),
            encoder_dropout=float(encoder_dropout), attention=str(attention), attention_units=int(attention_units),
            location_filters=int(location_filters), location_kernel_size=int(location_kernel_size),
            prenet_units=[int(u) for u in prenet_units], prenet_dropout=float(prenet_dropout),
            decoder_units=int(decoder_units), reduction_factor=int(reduction_factor),
            postnet_layers=int(postnet_layers), postnet_filters=int(postnet_filters),
            postnet_kernel_size=int(postnet_kernel_size), postnet_dropout=float(postnet_dropout),
            max_decoder_steps=int(max_decoder_steps), stop_threshold=float(stop_threshold),
            mel_l1_weight=float(mel_l1_weight), stop_weight=float(stop_weight),
            stop_pos_weight=float(stop_pos_weight), guided_attention_weight=float(guided_attention_weight),
            guided_attention_sigma=float(guided_attention_sigma), seed=seed,
        )
        self.reduction_factor = int(reduction_factor)
        names = ["mel_loss", "postnet_loss", "stop_loss"] + (["guided_attention_loss"] if guided_attention_weight else [])
        self._trackers = {k: keras.metrics.Mean(name=k) for k in names}
        self._synthesis_fn = None

    # -- config
    def get_config(self):
        return dict(self._args, prenet_units=list(self._args["prenet_units"]), name=self.name)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # -- training
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Masked Tacotron 2 loss (:func:`tacotron2_losses`); ``y`` = ``{"mel", "mel_lengths"}``."""
        a = self._args
        terms = tacotron2_losses(x, y, y_pred, self.reduction_factor, a["mel_l1_weight"], a["stop_weight"],
                                 a["stop_pos_weight"], a["guided_attention_weight"], a["guided_attention_sigma"])
        for k, v in terms.items():
            if k in self._trackers:
                self._trackers[k].update_state(v)
        return terms["loss"]

    # -- inference
    def encode_text(self, texts):
        """Text or list of texts -> (ids (batch, text) int32, lengths (batch,) int32) via the front end."""
        return self.frontend.encode_batch([texts] if isinstance(texts, str) else list(texts))

    def _build_synthesis_fn(self):
        decoder, r, m = self.decoder, self.reduction_factor, self.n_mels

        @tf.function(input_signature=[
            tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None,), tf.int32), tf.TensorSpec((), tf.int32),
            tf.TensorSpec((), tf.float32), tf.TensorSpec((), tf.int32), tf.TensorSpec((), tf.bool)])
        def synthesize_fn(text_ids, text_lengths, max_steps, threshold, seed, dropout):
            batch, text_length = tf.shape(text_ids)[0], tf.shape(text_ids)[1]
            memory = self.encoder(text_ids, text_lengths, training=False)
            mask = ops.cast(sequence_mask(text_lengths, text_length), "bool")
            projection = decoder.attention.precompute_memory(memory)
            state = decoder.initial_state(batch, text_length)
            keep = 1.0 - decoder.prenet_dropout

            def body(i, previous, state, finished, lengths, frames_ta, stop_ta, align_ta):
                masks = []
                for k, units in enumerate(decoder.prenet_units):
                    u = tf.random.stateless_uniform((batch, units), seed=tf.stack([seed, i * 8 + k]))
                    on = tf.cast(u < keep, tf.float32) / keep
                    masks.append(tf.where(dropout, on, tf.ones_like(on)))
                frames, stop, weights, state = decoder.step(previous, state, projection, memory, mask, masks)
                prob = tf.sigmoid(stop)
                lengths = tf.where(finished, lengths, lengths + 1)
                finished = finished | (prob > threshold)
                return (i + 1, frames[:, -1], state, finished, lengths, frames_ta.write(i, frames),
                        stop_ta.write(i, prob), align_ta.write(i, weights))

            def cond(i, previous, state, finished, *_):
                return (i < max_steps) & ~tf.reduce_all(finished)

            loop = tf.while_loop(
                cond, body,
                (tf.constant(0), tf.zeros((batch, m)), state, tf.zeros((batch,), tf.bool),
                 tf.zeros((batch,), tf.int32), tf.TensorArray(tf.float32, 0, dynamic_size=True),
                 tf.TensorArray(tf.float32, 0, dynamic_size=True), tf.TensorArray(tf.float32, 0, dynamic_size=True)),
                maximum_iterations=max_steps)
            steps, lengths, frames_ta, stop_ta, align_ta = loop[0], loop[4], loop[5], loop[6], loop[7]
            frames = tf.transpose(frames_ta.stack(), (1, 0, 2, 3))  # (batch, steps, r, m)
            mel_before = tf.reshape(frames, (batch, steps * r, m))
            mel_after = mel_before + self.postnet(mel_before, training=False)
            return {"mel_after": mel_after, "mel_before": mel_before,
                    "alignments": tf.transpose(align_ta.stack(), (1, 0, 2)),
                    "stop_probabilities": tf.transpose(stop_ta.stack(), (1, 0)), "lengths": lengths * r}

        return synthesize_fn

    def synthesize(self, text=None, ids=None, max_decoder_steps=None, stop_threshold=None, vocoder=None,
                   griffin_lim_iters=32, prenet_dropout=True, seed=0, return_audio=True):
        """Text (or ids) -> mel, alignment and audio, decoding in one ``tf.function`` until the stop token fires.

        Args:
            text: a string (normalized and encoded by :attr:`frontend`); or ``ids`` (text,) / (batch, text)
                int32 (0 = padding).
            max_decoder_steps: guard on the decoder steps (default: the model's).
            stop_threshold: stop probability threshold (default: the model's).
            vocoder: a Keras model mel (1, frames, n_mels) -> audio (1, samples[, 1]); default Griffin-Lim.
            griffin_lim_iters: Griffin-Lim iterations.
            prenet_dropout: keep pre-net dropout on (as in the paper); ``seed`` makes it repeatable.
            return_audio: also make the waveform.

        Returns:
            dict of NumPy arrays: ``mel`` (frames, n_mels) after the post-net, ``mel_before``, ``alignment``
            (steps, text), ``stop_probabilities`` (steps,), ``steps`` (int), ``audio`` (samples,), for one
            utterance; batched arrays (and a list of audios) when ``ids`` is 2-D.
        """
        if text is not None:
            ids_arr, lengths = self.encode_text(text)
            single = isinstance(text, str)
        else:
            if ids is None:
                raise ConfigError("synthesize() needs text or ids")
            ids_arr = np.asarray(ids, np.int32)
            single = ids_arr.ndim == 1
            ids_arr = ids_arr.reshape(1, -1) if single else ids_arr
            lengths = np.maximum((ids_arr != 0).sum(axis=1), 1).astype(np.int32)
        if self._synthesis_fn is None:
            self._synthesis_fn = self._build_synthesis_fn()
        max_steps = self._args["max_decoder_steps"] if max_decoder_steps is None else int(max_decoder_steps)
        threshold = self._args["stop_threshold"] if stop_threshold is None else float(stop_threshold)
        out = self._synthesis_fn(tf.constant(ids_arr), tf.constant(lengths), tf.constant(max_steps, tf.int32),
                                 tf.constant(threshold, tf.float32), tf.constant(seed, tf.int32),
                                 tf.constant(bool(prenet_dropout)))
        out = {k: v.numpy() for k, v in out.items()}
        r = self.reduction_factor
        result = {"mel": out["mel_after"], "mel_before": out["mel_before"], "alignment": out["alignments"],
                  "stop_probabilities": out["stop_probabilities"], "frames": out["lengths"]}
        if single:
            n = int(out["lengths"][0])
            result = {"mel": out["mel_after"][0, :n], "mel_before": out["mel_before"][0, :n],
                      "alignment": out["alignments"][0, : n // r], "stop_probabilities": out["stop_probabilities"][0],
                      "frames": n}
        result["steps"] = int(out["alignments"].shape[1])
        if return_audio:
            mels = [result["mel"]] if single else [out["mel_after"][i, : out["lengths"][i]] for i in range(len(ids_arr))]
            audios = [self.mel_to_audio(m, vocoder, griffin_lim_iters) for m in mels]
            result["audio"] = audios[0] if single else audios
        return result

    def mel_to_audio(self, mel, vocoder=None, griffin_lim_iters=32):
        """Log-mel (frames, n_mels) -> waveform (samples,) by ``vocoder`` or Griffin-Lim (``MelConfig``)."""
        mel = np.asarray(mel, np.float32)
        if vocoder is not None:
            return np.asarray(vocoder(mel[None], training=False)).reshape(-1)
        length = max(mel.shape[0] - 1, 0) * self.mel_config.hop_length
        return np.asarray(log_mel_to_audio(tf.constant(mel), self.mel_config, n_iter=griffin_lim_iters,
                                           length=length or None, seed=0))

    # -- export
    def export_endpoints(self, batch_size=1, text_length=None):
        """``[(name, function, input_specs)]`` with fixed shapes for TFLite; ``text_length`` ``N`` defaults to
        the front end's ``max_length`` (every accepted text fits, zero-padded).

        - ``"encode"``: ``text_ids (B, N) int32, text_lengths (B,) int32`` -> ``memory (B, N, E)``,
          ``memory_projection (B, N, A)``, ``memory_mask (B, N)`` float.
        - ``"decoder_step"``: ``previous_frame (B, n_mels)``, the state (``STATE_NAMES``), ``memory``,
          ``memory_projection``, ``memory_mask``, ``prenet_mask_i (B, units_i)`` (ones = no dropout, or
          Bernoulli(0.5) / 0.5 for the paper's inference dropout) -> ``frames (B, r, n_mels)``, ``stop_logit (B,)``
          and the new state.
        """
        b, dec = batch_size, self.decoder
        n = int(text_length or self.frontend.max_length)
        e, d = dec.memory_dim, dec.decoder_units
        a = e if dec.attention_type == "dca" else dec.attention_units
        f32 = tf.float32

        def encode(text_ids, text_lengths):
            memory = self.encoder(text_ids, text_lengths, training=False)
            return {"memory": memory, "memory_projection": dec.attention.precompute_memory(memory),
                    "memory_mask": sequence_mask(text_lengths, n)}

        state_shapes = [(b, e), (b, n), (b, n), (b, d), (b, d), (b, d), (b, d)]
        step_specs = [tf.TensorSpec((b, self.n_mels), f32, name="previous_frame")]
        step_specs += [tf.TensorSpec(s, f32, name=nm) for nm, s in zip(STATE_NAMES, state_shapes)]
        step_specs += [tf.TensorSpec((b, n, e), f32, name="memory"), tf.TensorSpec((b, n, a), f32, name="memory_projection"),
                       tf.TensorSpec((b, n), f32, name="memory_mask")]
        step_specs += [tf.TensorSpec((b, u), f32, name=f"prenet_mask_{i}") for i, u in enumerate(dec.prenet_units)]

        def decoder_step(previous_frame, *args):
            state = tuple(args[:7])
            memory, projection, mask = args[7:10]
            masks = list(args[10:])
            frames, stop, _, new_state = dec.step(previous_frame, state, projection, memory, mask > 0.5, masks)
            out = {"frames": frames, "stop_logit": stop}
            out.update({k: v for k, v in zip(STATE_NAMES, new_state)})
            return out

        return [
            ("encode", encode, [tf.TensorSpec((b, n), tf.int32, name="text_ids"),
                                tf.TensorSpec((b,), tf.int32, name="text_lengths")],
             "text ids of fixed length -> encoder memory, its attention projection and mask"),
            ("decoder_step", decoder_step, step_specs,
             "one decoder step with explicit state: r mel frames, stop logit, new state"),
        ]


def tacotron2_dataset(source, frontend, batch_size, mel_config=None, bucket_boundaries=None, **kwargs):
    """Padded, length-bucketed teacher-forcing batches ``(inputs, targets)`` for :class:`Tacotron2`.

    Args:
        source: manifest / folder / entries with a ``text`` column (see :func:`audiogen_tf.data.utterance_dataset`).
        frontend: a :class:`TextFrontEnd` (or its config dict), e.g. ``model.frontend``.
        batch_size: utterances per batch.
        mel_config: :class:`MelConfig` of the targets (the model's ``mel_config``; required).
        bucket_boundaries: audio lengths in samples separating the buckets.
        **kwargs: passed to ``utterance_dataset`` (``shuffle``, ``seed``, ``cache``, ``repeat``...).

    Returns:
        ``tf.data.Dataset`` of ``({"text_ids", "text_lengths", "mel"}, {"mel", "mel_lengths"})``.

    Example:
        >>> ds = tacotron2_dataset("data/speech/manifest.csv", TextFrontEnd(), 8, model.mel_config)  # doctest: +SKIP
    """
    from audiogen_tf.data import utterance_dataset

    if isinstance(frontend, dict):
        frontend = TextFrontEnd.from_config(frontend)
    if mel_config is None:
        raise ConfigError("tacotron2_dataset needs the mel_config of the model's targets (model.mel_config)")
    ds = utterance_dataset(source, batch_size, mel_config=mel_config, bucket_boundaries=bucket_boundaries,
                           text_key="text", **kwargs)
    report = ds.skip_report

    def encode_py(texts):
        ids, lengths = frontend.encode_batch([t.decode("utf-8") for t in texts.numpy()])
        return ids, lengths

    def to_pair(batch):
        ids, lengths = tf.py_function(encode_py, [batch["text"]], [tf.int32, tf.int32])
        ids.set_shape([None, None])
        lengths.set_shape([None])
        x = {"text_ids": ids, "text_lengths": lengths, "mel": batch["mel"]}
        return x, {"mel": batch["mel"], "mel_lengths": batch["mel_length"]}

    ds = ds.map(to_pair)
    ds.skip_report = report
    return ds
