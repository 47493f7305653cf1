"""EventComposer: an LSTM / GRU language model over note events, conditioned on a style and a key.

Tokens are the Performance-RNN-style vocabulary of :mod:`audiogen_tf.datasets.scores` (note-on / note-off per
pitch, time shifts, velocity bins, ``BOS`` / ``EOS``, ``PAD`` = 0). Teacher forcing trains it with plain
``compile`` / ``fit`` (:func:`event_pairs`, :func:`masked_token_loss`); an optional local self-attention over the
last ``attention_window`` outputs follows the attention RNN of Magenta's melody models. :meth:`EventComposer.generate`
samples with temperature, priming and the condition, the whole loop in one ``tf.function``;
:meth:`EventComposer.step` is the explicit-state single step (Gumbel-max sampling from given noise) that
:meth:`EventComposer.export_endpoints` exports to a builtin-ops ``.tflite``.

Example:
    >>> import numpy as np
    >>> m = EventComposer.from_preset("composer_tiny")
    >>> seq = np.array([[1, 200, 63, 262, 191, 2]], "int32")
    >>> x, y = event_pairs(seq, style=[0], key=[7])
    >>> tuple(m(x).shape)
    (1, 5, 307)
    >>> tuple(m.generate(8, style=[0], key=[7], seed=1).shape)
    (1, 8)

Papers: Oore et al. 2018, "This Time with Feeling: Learning Expressive Musical Performance" (Performance RNN's
event vocabulary); Boulanger-Lewandowski et al. 2012 (JSB Chorales); Hochreiter & Schmidhuber 1997 (LSTM).
"""

from __future__ import annotations

import weakref

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from audiogen_tf.layers.recurrent import RecurrentStack, explicit_state_step
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register

PAD, BOS, EOS = 0, 1, 2  # as audiogen_tf.datasets.scores
_NEG = -1e9
_COMPILED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@register
class AddOverTime(keras.layers.Layer):
    """``x`` (batch, time, d) + ``c`` (batch, d): the same condition vector added at every step."""

    def call(self, inputs):
        x, c = inputs
        return x + ops.expand_dims(c, 1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


@register
class LocalSelfAttention(keras.layers.Layer):
    """Causal single-head dot-product attention over the last ``window`` steps (the current one included).

    ``call``: (batch, time, d) -> (batch, time, value_dim) context. ``step`` keeps the last ``window`` inputs as an explicit
    memory (batch, window, d) and a bias (batch, window) (0 where a step was seen, -1e9 before the start), so the
    single step is loop-free and equals ``call`` at that step.

    Args:
        window: steps attended (>= 1).
        key_dim: width of queries and keys.
        value_dim: width of the values (the context).
    """

    def __init__(self, window, key_dim=64, value_dim=64, **kwargs):
        super().__init__(**kwargs)
        self.window = int(window)
        self.key_dim = int(key_dim)
        self.value_dim = int(value_dim)
        self.query = keras.layers.Dense(self.key_dim, use_bias=False, name="query")
        self.key = keras.layers.Dense(self.key_dim, use_bias=False, name="key")
        self.value = keras.layers.Dense(self.value_dim, use_bias=False, name="value")

    def build(self, input_shape):
        for layer in (self.query, self.key, self.value):
            layer.build(tuple(input_shape))
        self.built = True

    def call(self, x):
        q, k, v = self.query(x), self.key(x), self.value(x)
        scores = ops.matmul(q, ops.transpose(k, (0, 2, 1))) / float(np.sqrt(self.key_dim))
        t = ops.shape(x)[1]
        i = ops.expand_dims(ops.arange(t), 1)
        j = ops.expand_dims(ops.arange(t), 0)
        allowed = ops.logical_and(j <= i, j > i - self.window)
        scores = ops.where(ops.expand_dims(allowed, 0), scores, _NEG)
        return ops.matmul(ops.softmax(scores, axis=-1), v)

    def initial_memory(self, batch_size, width):
        return ops.zeros((batch_size, self.window, width), "float32"), ops.full((batch_size, self.window), _NEG, "float32")

    def step(self, x_t, memory, bias):
        """``x_t`` (batch, d), memory (batch, window, d), bias (batch, window) -> (context, memory, bias)."""
        memory = ops.concatenate([memory[:, 1:], ops.expand_dims(x_t, 1)], axis=1)
        bias = ops.concatenate([bias[:, 1:], ops.zeros_like(bias[:, :1])], axis=1)
        q = self.query(x_t)
        k, v = self.key(memory), self.value(memory)
        scores = ops.sum(ops.expand_dims(q, 1) * k, axis=-1) / float(np.sqrt(self.key_dim)) + bias
        w = ops.softmax(scores, axis=-1)
        return ops.sum(ops.expand_dims(w, -1) * v, axis=1), memory, bias

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.value_dim,)

    def get_config(self):
        return {**super().get_config(), "window": self.window, "key_dim": self.key_dim, "value_dim": self.value_dim}


@register
class EventComposer(ConstructorConfigMixin, PresetMixin, keras.Model):
    """Next-event logits: events (batch, time) int32 [+ style (batch,), key (batch,)] -> (batch, time, vocab_size).

    Output ``t`` is the distribution of event ``t + 1`` given events ``0..t`` and the condition. Inputs are a dict
    ``{"events", "style", "key"}`` (``style`` only when ``num_styles > 0``, ``key`` when ``num_keys > 0``), or the
    events tensor alone for an unconditioned model.

    Args:
        vocab_size: tokens (307 for :mod:`audiogen_tf.datasets.scores`).
        embedding_dim: width of the event embedding.
        units: hidden size of every recurrent layer.
        num_layers: stacked recurrent layers (residual after the first).
        cell_type: ``"lstm"`` or ``"gru"``.
        num_styles: style classes (``audiogen_tf.datasets.scores.STYLES``), 0 for none.
        num_keys: key classes (24: tonic pitch class + 12 for minor), 0 for none.
        attention_window: steps of local self-attention over the recurrent outputs (0: none).
        attention_dim: query / key width of that attention.
        dropout: dropout on the embedding and before the output layer (training only).

    Example:
        >>> m = EventComposer(vocab_size=20, embedding_dim=8, units=16, num_styles=2, num_keys=0, attention_window=4)
        >>> tuple(m({"events": np.ones((2, 7), "int32"), "style": np.array([0, 1], "int32")}).shape)
        (2, 7, 20)

    Paper: Oore et al. 2018 (Performance RNN), teacher forcing; attention as Magenta's Attention RNN (Bahdanau-style
    attention over the last outputs).
    """

    def __init__(
        self,
        vocab_size=307,
        embedding_dim=64,
        units=256,
        num_layers=2,
        cell_type="lstm",
        num_styles=2,
        num_keys=24,
        attention_window=0,
        attention_dim=64,
        dropout=0.0,
        name="event_composer",
        **kwargs,
    ):
        vocab_size, embedding_dim, units, num_layers = int(vocab_size), int(embedding_dim), int(units), int(num_layers)
        num_styles, num_keys, attention_window, attention_dim = (int(num_styles), int(num_keys), int(attention_window),
                                                                 int(attention_dim))
        events = keras.Input((None,), dtype="int32", name="events")
        inputs = {"events": events}
        h = keras.layers.Embedding(vocab_size, embedding_dim, name="event_embedding")(events)
        conds = []
        if num_styles:
            s = inputs["style"] = keras.Input((), dtype="int32", name="style")
            conds.append(keras.layers.Embedding(num_styles, embedding_dim, name="style_embedding")(s))
        if num_keys:
            k = inputs["key"] = keras.Input((), dtype="int32", name="key")
            conds.append(keras.layers.Embedding(num_keys, embedding_dim, name="key_embedding")(k))
        if conds:
            c = conds[0] if len(conds) == 1 else keras.layers.Add(name="condition")(conds)
            h = AddOverTime(name="add_condition")([h, c])
        if dropout:
            h = keras.layers.Dropout(float(dropout), name="input_dropout")(h)
        h = RecurrentStack(units, num_layers, cell_type, residual=True, name="rnn")(h)
        if attention_window:
            ctx = LocalSelfAttention(attention_window, attention_dim, units, name="attention")(h)
            h = keras.layers.Concatenate(name="with_context")([h, ctx])
        if dropout:
            h = keras.layers.Dropout(float(dropout), name="output_dropout")(h)
        logits = keras.layers.Dense(vocab_size, name="logits")(h)
        super().__init__(inputs=inputs if len(inputs) > 1 else events, outputs=logits, name=name, **kwargs)
        self.keep_config(vocab_size=vocab_size, embedding_dim=embedding_dim, units=units, num_layers=num_layers,
                         cell_type=cell_type, num_styles=num_styles, num_keys=num_keys,
                         attention_window=attention_window, attention_dim=attention_dim, dropout=float(dropout))

    # ---------------------------------------------------------------- loss
    def default_loss(self):
        """Cross-entropy on the logits, ``PAD`` targets ignored (nats per event)."""
        return masked_token_loss

    # ---------------------------------------------------------------- single step
    @property
    def rnn(self) -> RecurrentStack:
        return self.get_layer("rnn")

    def state_shapes(self, batch_size=1) -> list[tuple]:
        """Flat state: the recurrent states (batch, units) per layer, then (attention) memory
        (batch, window, units) and bias (batch, window)."""
        shapes = list(self.rnn.state_shapes(batch_size))
        if self.attention_window:
            shapes += [(batch_size, self.attention_window, self.units), (batch_size, self.attention_window)]
        return shapes

    def initial_states(self, batch_size=1) -> list:
        """The states before the first event (zeros; attention bias -1e9: nothing seen)."""
        states = list(self.rnn.initial_states(batch_size))
        if self.attention_window:
            states += list(self.get_layer("attention").initial_memory(batch_size, self.units))
        return states

    def _condition(self, style, key):
        c = []
        if self.num_styles:
            if style is None:
                raise ValueError("this EventComposer is conditioned on a style: pass style (batch,) int32")
            c.append(self.get_layer("style_embedding")(ops.cast(style, "int32")))
        if self.num_keys:
            if key is None:
                raise ValueError("this EventComposer is conditioned on a key: pass key (batch,) int32 (0..23)")
            c.append(self.get_layer("key_embedding")(ops.cast(key, "int32")))
        if not c:
            return None
        return c[0] if len(c) == 1 else c[0] + c[1]

    def step_logits(self, event, states, style=None, key=None):
        """One event with explicit state: ``event`` (batch,) int32 -> ``(logits (batch, vocab), new_states)``;
        equal to the teacher-forced output at that step."""
        h = self.get_layer("event_embedding")(ops.cast(event, "int32"))
        c = self._condition(style, key)
        if c is not None:
            h = h + c
        n = len(self.rnn.state_shapes(1))
        y, rnn_states = self.rnn.step(h, list(states[:n]))
        new_states = list(rnn_states)
        if self.attention_window:
            ctx, memory, bias = self.get_layer("attention").step(y, states[n], states[n + 1])
            y = ops.concatenate([y, ctx], axis=-1)
            new_states += [memory, bias]
        return self.get_layer("logits")(y), new_states

    def step(self, event, states, style=None, key=None, noise=None, inv_temperature=None):
        """One event with explicit state, sampling included (Gumbel-max from uniform ``noise`` (batch, vocab)).

        Args:
            event: the current event (batch,) int32 (``BOS`` first).
            states: flat state list (:meth:`initial_states`).
            style, key: (batch,) int32 conditions (as the model has them).
            noise: uniform (0, 1) numbers (batch, vocab_size).
            inv_temperature: (batch,) 1 / temperature (1: the model's distribution; larger is more greedy).

        Returns:
            ``(next_event (batch,) int32, logits (batch, vocab_size), new_states)``.
        """
        logits, new_states = self.step_logits(event, states, style, key)
        scaled = logits if inv_temperature is None else logits * ops.expand_dims(ops.cast(inv_temperature, "float32"), -1)
        g = -ops.log(-ops.log(ops.cast(noise, "float32")))
        # tf.math.argmax: keras.ops.argmax adds a -0.0 fix-up (BitwiseAnd) without a builtin TFLite kernel
        ids = tf.math.argmax(scaled + g, axis=-1, output_type=tf.int32)
        return ids, logits, new_states

    # ---------------------------------------------------------------- generation
    def draw_noise_t(self, t, batch_size=1, seed=0):
        """The uniform noise (batch, vocab_size) of sampling step ``t`` (stateless from ``(seed, t)``), what
        :meth:`generate` uses; a loop over the exported step with it samples the same events."""
        return tf.random.stateless_uniform(tf.stack([batch_size, self.vocab_size]),
                                           seed=tf.stack([tf.cast(seed, tf.int32), tf.cast(t, tf.int32)]),
                                           minval=1e-6, maxval=1.0 - 1e-6)

    def _compiled_generate(self):
        if self not in _COMPILED:
            def run(num_events, priming, style, key, inv_temperature, seed, stop_at_eos):
                batch = tf.shape(priming)[0]
                states = [tf.tile(s, [batch] + [1] * (len(s.shape) - 1)) for s in self.initial_states(1)]
                num_priming = tf.shape(priming)[1]

                def prime_body(t, states):
                    _, new_states = self.step_logits(priming[:, t], states, style, key)
                    return t + 1, [tf.ensure_shape(n, s.shape) for n, s in zip(new_states, states)]

                _, states = tf.while_loop(lambda t, *_: t < num_priming - 1, prime_body, (tf.constant(0), states))
                out_ta = tf.TensorArray(tf.int32, size=num_events, element_shape=tf.TensorShape([None]))
                done0 = tf.zeros([batch], tf.bool)

                def gen_body(t, event, states, done, out_ta):
                    noise = self.draw_noise_t(t, batch, seed)
                    ids, _, new_states = self.step(event, states, style, key, noise, inv_temperature)
                    states = [tf.ensure_shape(n, s.shape) for n, s in zip(new_states, states)]
                    ids = tf.ensure_shape(tf.where(done, tf.zeros_like(ids), ids), event.shape)
                    out_ta = out_ta.write(t, ids)
                    done = tf.logical_or(done, tf.logical_and(stop_at_eos, tf.equal(ids, EOS)))
                    return t + 1, ids, states, done, out_ta

                _, _, _, _, out_ta = tf.while_loop(
                    lambda t, *_: t < num_events, gen_body,
                    (tf.constant(0), priming[:, num_priming - 1], states, done0, out_ta))
                return tf.transpose(out_ta.stack(), [1, 0])

            _COMPILED[self] = tf.function(run, reduce_retracing=True)
        return _COMPILED[self]

    def generate(self, num_events, priming=None, style=None, key=None, temperature=1.0, seed=0, batch_size=1,
                 stop_at_eos=True):
        """Sample ``num_events`` events after ``priming``, the whole loop in one ``tf.function``.

        Args:
            num_events: events to sample.
            priming: (batch, n >= 1) int32 events fed first (default ``[BOS]``); they are not returned.
            style, key: (batch,) int32 conditions (a scalar or a length-1 list is repeated over the batch).
            temperature: > 0; divides the logits (below 1: more conservative).
            seed: the sampling noise is ``stateless_uniform`` of ``(seed, step)``: the same seed, the same piece.
            batch_size: pieces when nothing else gives the batch.
            stop_at_eos: after an ``EOS`` a sequence continues with ``PAD``.

        Returns:
            (batch, num_events) int32 events.

        Example:
            >>> ev = EventComposer.from_preset("composer_tiny").generate(16, style=[0], key=[2], temperature=0.9)
        """
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if priming is not None:
            priming = np.asarray(priming, np.int32)
            if priming.ndim == 1:
                priming = priming[None]
            if priming.ndim != 2 or priming.shape[1] < 1:
                raise ValueError(f"priming must be (batch, events >= 1), got shape {priming.shape}")
            batch_size = priming.shape[0]
        conds = {}
        for name, value, n in (("style", style, self.num_styles), ("key", key, self.num_keys)):
            if value is None:
                conds[name] = None
                continue
            v = np.asarray(value, np.int32).reshape(-1)
            if n and (v.min() < 0 or v.max() >= n):
                raise ValueError(f"{name} ids must be in 0..{n - 1}, got {v.tolist()}")
            conds[name] = v
        sizes = {len(v) for v in conds.values() if v is not None and len(v) > 1}
        if len(sizes) > 1:
            raise ValueError(f"style and key give different batch sizes {sorted(sizes)}")
        if sizes and priming is None:
            batch_size = sizes.pop()
        for name, v in conds.items():
            if v is not None and len(v) == 1:
                conds[name] = np.repeat(v, batch_size)
        if priming is None:
            priming = np.full((batch_size, 1), BOS, np.int32)
        inv_t = np.full((priming.shape[0],), 1.0 / float(temperature), np.float32)
        out = self._compiled_generate()(tf.constant(int(num_events)), tf.constant(priming), conds["style"],
                                        conds["key"], tf.constant(inv_t), tf.constant(int(seed), tf.int32),
                                        tf.constant(bool(stop_at_eos)))
        return out

    # ---------------------------------------------------------------- evaluation
    def nll_per_event(self, sequences, styles=None, keys=None, batch_size=8) -> tuple[float, int]:
        """Mean negative log-likelihood (nats) of every event after the first, over whole sequences.

        Args:
            sequences: list of int32 event arrays (each ``BOS ... EOS``).
            styles, keys: per-sequence condition ids (as the model has them).

        Returns:
            ``(nats per event, number of events scored)``.
        """
        total, count = 0.0, 0
        order = np.argsort([len(s) for s in sequences])
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            n = max(len(sequences[j]) for j in idx)
            batch = np.zeros((len(idx), n), np.int32)
            for r, j in enumerate(idx):
                batch[r, :len(sequences[j])] = sequences[j]
            x, y = event_pairs(batch, None if styles is None else np.asarray(styles)[idx],
                               None if keys is None else np.asarray(keys)[idx])
            if not self.num_styles:
                x.pop("style", None)
            if not self.num_keys:
                x.pop("key", None)
            logits = self(x if len(x) > 1 else x["events"], training=False)
            logp = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1).numpy()
            y = np.asarray(y)
            picked = np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]
            mask = y != PAD
            total -= float(picked[mask].sum())
            count += int(mask.sum())
        return total / max(count, 1), count

    # ---------------------------------------------------------------- export
    def export_endpoints(self, batch_size=1):
        """``[("step", fn, specs)]``: one event with explicit state, every shape fixed.

        ``step(event (B,) int32, state_0, ..., state_k[, style (B,)][, key (B,)], noise (B, vocab),
        inv_temperature (B,)) -> [next_event (B,) int32, logits (B, vocab), new_state_0, ..., new_state_k]``;
        feed ``next_event`` back as ``event`` (``BOS`` first, zero states, attention bias -1e9).
        """
        trailing = []
        if self.num_styles:
            trailing.append(tf.TensorSpec((batch_size,), tf.int32, name="style"))
        if self.num_keys:
            trailing.append(tf.TensorSpec((batch_size,), tf.int32, name="key"))
        trailing += [tf.TensorSpec((batch_size, self.vocab_size), tf.float32, name="noise"),
                     tf.TensorSpec((batch_size,), tf.float32, name="inv_temperature")]

        def step(event, states, *rest):
            rest = list(rest)
            style = rest.pop(0) if self.num_styles else None
            key = rest.pop(0) if self.num_keys else None
            noise, inv_t = rest
            ids, logits, new_states = self.step(event, states, style, key, noise, inv_t)
            return [ids, logits], new_states

        step_fn, specs = explicit_state_step(step, [tf.TensorSpec((batch_size,), tf.int32, name="event")],
                                             self.state_shapes(batch_size), trailing)
        return [("step", step_fn, specs, "one note event with explicit recurrent (and attention) state, "
                                         "Gumbel-max sampling from noise")]


# ------------------------------------------------------------------------------- data
def event_pairs(sequences, style=None, key=None):
    """Events (batch, time) -> (inputs ``{"events": x[:, :-1], "style", "key"}``, targets ``x[:, 1:]``).

    Example:
        >>> x, y = event_pairs(np.array([[1, 5, 6, 2]]), style=[0])
        >>> np.asarray(x["events"]).tolist(), np.asarray(y).tolist(), np.asarray(x["style"]).tolist()
        ([[1, 5, 6]], [[5, 6, 2]], [0])
    """
    seq = np.asarray(sequences, np.int32)
    x = {"events": seq[:, :-1]}
    if style is not None:
        x["style"] = np.asarray(style, np.int32).reshape(-1)
    if key is not None:
        x["key"] = np.asarray(key, np.int32).reshape(-1)
    return x, seq[:, 1:]


@register
def masked_token_loss(y_true, logits):
    """Mean cross-entropy (nats) over the non-``PAD`` targets of a batch."""
    y_true = ops.cast(y_true, "int32")
    ce = ops.sparse_categorical_crossentropy(y_true, ops.cast(logits, "float32"), from_logits=True)
    mask = ops.cast(ops.not_equal(y_true, PAD), "float32")
    return ops.sum(ce * mask) / ops.maximum(ops.sum(mask), 1.0)


def event_windows(sequences, length: int, hop: int | None = None) -> np.ndarray:
    """Cut sequences into windows of ``length + 1`` events (input and shifted target), ``hop`` apart (default
    ``length // 2``), the last window of each sequence padded with ``PAD``.

    Example:
        >>> event_windows([np.arange(1, 8)], 4, 2).tolist()
        [[1, 2, 3, 4, 5], [3, 4, 5, 6, 7]]
        >>> event_windows([np.arange(1, 8)], 4, 4).tolist()
        [[1, 2, 3, 4, 5], [5, 6, 7, 0, 0]]
    """
    length = int(length)
    hop = int(hop or max(1, length // 2))
    rows = []
    for seq in sequences:
        seq = np.asarray(seq, np.int32)
        start = 0
        while True:
            w = seq[start:start + length + 1]
            rows.append(np.pad(w, (0, length + 1 - len(w))))
            if start + length + 1 >= len(seq):
                break
            start += hop
    return np.stack(rows) if rows else np.zeros((0, length + 1), np.int32)


def composer_dataset(source, seq_length, batch_size, split="train", hop=None, shuffle=True, seed=0, repeat=True,
                     drop_remainder=True, num_shards=1, shard_index=0, conditioned=True, **_ignored):
    """Teacher-forcing batches of a score build (:func:`audiogen_tf.datasets.scores.build_scores`).

    Args:
        source: the ``manifest.csv`` of a score build (or its rows from ``read_scores``).
        seq_length: events per example (windows of ``seq_length + 1``, :func:`event_windows`).
        batch_size: examples per batch.
        split: the manifest split to use (``None``: all rows).
        hop: events between window starts (default half a window).
        conditioned: also give ``"style"`` and ``"key"`` (the piece's corpus and key).

    Returns:
        ``tf.data.Dataset`` of ``({"events" (B, seq_length), "style" (B,), "key" (B,)}, targets (B, seq_length))``.
    """
    from audiogen_tf.datasets.scores import read_scores
    from audiogen_tf.errors import ConfigError

    rows = read_scores(source, split=split) if not isinstance(source, list) else source
    if not rows:
        raise ConfigError(f"{source}: no score rows in split {split!r}")
    windows, styles, keys = [], [], []
    for r in rows:
        w = event_windows([r["events"]], seq_length, hop)
        windows.append(w)
        styles += [r["style_id"]] * len(w)
        keys += [r["key_id"]] * len(w)
    w = np.concatenate(windows)
    ds = tf.data.Dataset.from_tensor_slices(((w, np.asarray(styles, np.int32), np.asarray(keys, np.int32))))
    if num_shards > 1:
        ds = ds.shard(num_shards, shard_index)
    if shuffle:
        ds = ds.shuffle(min(len(w), 20000), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()

    def split_pair(win, s, k):
        x = {"events": win[:-1]}
        if conditioned:
            x.update(style=s, key=k)
        return x, win[1:]

    return ds.map(split_pair).batch(batch_size, drop_remainder=drop_remainder).prefetch(2)
