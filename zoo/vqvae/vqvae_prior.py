"""Autoregressive LSTM prior over VQ-VAE code sequences, with a single-step function (explicit state) for export.

Paper: van den Oord et al. 2017 (VQ-VAE, section 3.2: fit an autoregressive prior over the discrete latents
after training, then sample codes and decode them); an LSTM language model over the codes in place of the
paper's PixelCNN / WaveNet prior (Hochreiter & Schmidhuber 1997).
"""

from __future__ import annotations

import keras
from keras import ops

from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register


def teacher_forcing_pair(codes, codebook_size):
    """Codes (batch, T) -> (inputs, targets): inputs are the codes shifted right with BOS id ``codebook_size`` first.

    Example:
        >>> import numpy as np
        >>> x, y = teacher_forcing_pair(np.array([[3, 1, 2]]), 4)
        >>> np.asarray(x).tolist(), np.asarray(y).tolist()
        ([[4, 3, 1]], [[3, 1, 2]])
    """
    codes = ops.cast(ops.convert_to_tensor(codes), "int32")
    bos = ops.full_like(codes[:, :1], codebook_size)
    return ops.concatenate([bos, codes[:, :-1]], axis=1), codes


@register
class CodePrior(ConstructorConfigMixin, PresetMixin, keras.Model):
    """LSTM prior p(c_t | c_<t): tokens (batch, T) int32 (BOS = ``codebook_size``) -> logits (batch, T, codebook_size).

    Train with ``compile(loss=SparseCategoricalCrossentropy(from_logits=True))`` on
    :func:`teacher_forcing_pair` of the training-set codes; :meth:`generate` samples new sequences and
    :meth:`step` runs one token with explicit LSTM states (the ``"step"`` export endpoint).

    Args:
        codebook_size: K, the number of codes (the vocabulary has K + 1 entries with BOS).
        embedding_dim: token embedding size.
        units: LSTM units per layer.
        num_layers: stacked LSTM layers.

    Example:
        >>> import numpy as np
        >>> prior = CodePrior.from_preset("prior_tiny")
        >>> tuple(prior(np.zeros((2, 5), "int32")).shape)
        (2, 5, 16)
        >>> tuple(prior.generate(6, batch_size=2, seed=0).shape)
        (2, 6)
    """

    def __init__(self, codebook_size=256, embedding_dim=64, units=256, num_layers=2, name="code_prior", **kwargs):
        tokens = keras.Input((None,), dtype="int32", name="tokens")
        h = keras.layers.Embedding(int(codebook_size) + 1, embedding_dim, name="embedding")(tokens)
        for i in range(int(num_layers)):
            h = keras.layers.LSTM(units, return_sequences=True, name=f"lstm{i}")(h)
        logits = keras.layers.Dense(int(codebook_size), name="logits")(h)
        super().__init__(inputs=tokens, outputs=logits, name=name, **kwargs)
        self.keep_config(codebook_size=int(codebook_size), embedding_dim=int(embedding_dim), units=int(units),
                         num_layers=int(num_layers))
        self._generate_fns = {}

    # ------------------------------------------------------------------------------ one step
    def initial_state(self, batch_size=1):
        """Zero LSTM states ``[h_0, c_0, h_1, c_1, ...]``, each (batch, units)."""
        return [ops.zeros((batch_size, self.units)) for _ in range(2 * self.num_layers)]

    def step(self, token, states):
        """One token with explicit state: token (batch,) int32, states as :meth:`initial_state` ->
        ``(logits (batch, K), new_states)``."""
        h = self.get_layer("embedding")(ops.cast(token, "int32"))
        new_states = []
        for i in range(self.num_layers):
            cell = self.get_layer(f"lstm{i}").cell
            h, (hh, cc) = cell(h, [states[2 * i], states[2 * i + 1]], training=False)
            new_states += [hh, cc]
        return self.get_layer("logits")(h), new_states

    def export_endpoints(self, batch_size=1):
        """``[("step", fn, specs)]``: (token (batch,) int32, h_0, c_0, ...) -> [logits, h_0', c_0', ...]."""
        specs = [keras.InputSpec(shape=(batch_size,), dtype="int32", name="token")]
        for i in range(self.num_layers):
            specs += [keras.InputSpec(shape=(batch_size, self.units), dtype="float32", name=f"h_{i}"),
                      keras.InputSpec(shape=(batch_size, self.units), dtype="float32", name=f"c_{i}")]

        def step_fn(token, *states):
            logits, new_states = self.step(token, list(states))
            return [logits] + list(new_states)

        return [("step", step_fn, specs, "one prior step with explicit LSTM state")]

    # ------------------------------------------------------------------------------ sampling
    def generate(self, num_steps, batch_size=1, temperature=1.0, seed=0):
        """Sample code sequences (batch, num_steps) int32 by Gumbel-max on ``logits / temperature``.

        The whole loop runs in one ``tf.function`` (``keras.ops.fori_loop`` over :meth:`step`); the Gumbel
        noise is drawn up front from ``seed``, so equal seeds give equal codes.
        """
        import tensorflow as tf

        num_steps, batch_size = int(num_steps), int(batch_size)
        key = (num_steps, batch_size)
        if key not in self._generate_fns:
            def run(gumbel, inv_temp):
                def body(i, carry):
                    token, codes, states = carry
                    logits, states = self.step(token, states)
                    g = ops.take(gumbel, i, axis=1)
                    nxt = ops.cast(ops.argmax(logits * inv_temp + g, axis=-1), "int32")
                    codes = codes + ops.expand_dims(nxt, 1) * ops.cast(
                        ops.expand_dims(ops.one_hot(i, num_steps), 0), "int32")
                    return nxt, codes, states

                init = (ops.full((batch_size,), self.codebook_size, dtype="int32"),
                        ops.zeros((batch_size, num_steps), dtype="int32"), self.initial_state(batch_size))
                return ops.fori_loop(0, num_steps, body, init)[1]

            self._generate_fns[key] = tf.function(run, autograph=False)
        u = keras.random.uniform((batch_size, num_steps, self.codebook_size), 1e-6, 1.0 - 1e-6, seed=seed)
        gumbel = -ops.log(-ops.log(u))
        return self._generate_fns[key](gumbel, ops.convert_to_tensor(1.0 / float(temperature), "float32"))

    def sample(self, vqvae, num_frames, batch_size=1, temperature=1.0, seed=0):
        """Generate code sequences and decode them with ``vqvae`` (a :class:`~zoo.vqvae.VQVAE` or anything with
        ``decode(codes)``): -> ``(codes (batch, num_frames), decoded (batch, num_frames * hop, channels))``."""
        codes = self.generate(num_frames, batch_size, temperature, seed)
        return codes, vqvae.decode(codes)

    def negative_log_likelihood(self, codes):
        """Mean NLL in nats per code of sequences (batch, T) under the prior (compare with ``log K`` for uniform)."""
        x, y = teacher_forcing_pair(codes, self.codebook_size)
        logits = self(x, training=False)
        return ops.mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))
