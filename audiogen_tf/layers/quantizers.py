"""Vector quantizers: VQ-VAE's codebook layer (straight-through gradients, commitment loss, EMA codebook,
dead-code restarts) and the residual VQ of SoundStream / EnCodec.

Papers: van den Oord, Vinyals & Kavukcuoglu 2017, "Neural Discrete Representation Learning"
(arXiv:1711.00937; EMA updates in its appendix A.1); Zeghidour et al. 2021, "SoundStream: An End-to-End
Neural Audio Codec" (arXiv:2107.03312, Algorithm 1 residual VQ); Dhariwal et al. 2020, "Jukebox" (random
restarts of dead codes from the batch).

Example:
    >>> import keras, numpy as np
    >>> vq = VectorQuantizer(codebook_size=8, embedding_dim=4)
    >>> q, codes = vq(np.zeros((2, 5, 4), "float32"))
    >>> tuple(q.shape), tuple(codes.shape), keras.backend.standardize_dtype(codes.dtype)
    ((2, 5, 4), (2, 5), 'int32')
"""

from __future__ import annotations

import math

import keras
from keras import ops

from audiogen_tf.serialization import register


def _argmin_int32(x):
    """Argmin over the last axis as int32. On TensorFlow ``tf.argmin`` directly: ``keras.ops.argmin`` adds a
    negative-zero fix-up that fails under autograph and costs extra TFLite ops."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.argmin(x, axis=-1, output_type=tf.int32)
    return ops.cast(ops.argmin(x, axis=-1), "int32")


def codebook_histogram(codes, codebook_size):
    """Fraction of vectors assigned to each code: codes (...) int -> (codebook_size,) float32 summing to 1."""
    flat = ops.reshape(ops.convert_to_tensor(codes, "int32"), (-1,))
    return ops.mean(ops.one_hot(flat, codebook_size, dtype="float32"), axis=0)


def codebook_perplexity(codes, codebook_size):
    """``exp(entropy)`` of the code histogram: equals ``codebook_size`` when every code is used equally.

    Args:
        codes: int code ids of any shape.
        codebook_size: number of codes K.

    Example:
        >>> import numpy as np
        >>> float(codebook_perplexity(np.arange(16) % 8, 8))
        8.0
    """
    p = codebook_histogram(codes, codebook_size)
    return ops.exp(-ops.sum(p * ops.log(ops.maximum(p, 1e-10))))


def codebook_usage(codes, codebook_size):
    """Fraction of the codebook used at least once in ``codes`` (0..1)."""
    p = codebook_histogram(codes, codebook_size)
    return ops.mean(ops.cast(p > 0, "float32"))


@register
class VectorQuantizer(keras.layers.Layer):
    """Nearest-codeword quantizer: (..., embedding_dim) -> quantized vectors (same shape) and int32 codes (...).

    The forward output is ``x + stop_gradient(q - x)`` (straight-through: the decoder's gradient passes to the
    encoder unchanged). While training it adds ``commitment_cost * mean((x - sg(q))^2)`` with ``add_loss``
    (plus the codebook loss ``mean((sg(x) - q)^2)`` when ``use_ema=False``). With ``use_ema=True`` the codebook
    is not trained by gradients but updated in ``call(training=True)`` as exponential moving averages of the
    assignment counts ``N`` and sums ``m`` (decay ``decay``), with Laplace smoothing of the counts::

        N <- d N + (1 - d) n,   m <- d m + (1 - d) sum_{x -> k} x,
        N~ = (N + eps) / (sum N + K eps) * sum N,   e_k = m_k / N~_k

    Initialisation from data: the first training batch sets every code to a random vector of the batch and its
    EMA count to the batch's mean count per code (``N / K``), so no code starts "dead" and the codebook starts
    at the encoder's scale. Dead-code restarts (Jukebox): after ``restart_warmup_steps`` training steps, a code
    whose EMA count is below ``dead_code_threshold`` times the mean count ``sum(N) / K`` is moved to a random
    vector of the current batch and given the mean count, i.e. a grace period of about
    ``log(1 / dead_code_threshold) / (1 - decay)`` steps before it can be restarted again. Live codes are never
    touched.

    Args:
        codebook_size: number of codes K.
        embedding_dim: vector size D (last input axis).
        commitment_cost: beta of the commitment loss (0.25 in the paper).
        use_ema: EMA codebook updates (else a trainable codebook with the codebook loss).
        decay: EMA decay (0.99).
        epsilon: Laplace smoothing of the EMA counts.
        dead_code_threshold: a code is dead when its EMA count is below this fraction of the mean count
            (0 disables restarts).
        restart_warmup_steps: training steps before restarts may fire.
        data_init: initialise the codebook from the first training batch.
        seed: seed of the restarts and the initial codebook.

    Example:
        >>> import numpy as np
        >>> vq = VectorQuantizer(16, 8)
        >>> x = np.random.default_rng(0).normal(size=(4, 10, 8)).astype("float32")
        >>> q, codes = vq(x, training=True)      # updates the codebook (EMA) and restarts dead codes
        >>> tuple(q.shape), tuple(codes.shape)
        ((4, 10, 8), (4, 10))
    """

    def __init__(self, codebook_size, embedding_dim, commitment_cost=0.25, use_ema=True, decay=0.99,
                 epsilon=1e-5, dead_code_threshold=0.1, seed=None, restart_warmup_steps=100, data_init=True,
                 **kwargs):
        super().__init__(**kwargs)
        self.codebook_size = int(codebook_size)
        self.embedding_dim = int(embedding_dim)
        self.commitment_cost = float(commitment_cost)
        self.use_ema = bool(use_ema)
        self.decay = float(decay)
        self.epsilon = float(epsilon)
        self.dead_code_threshold = float(dead_code_threshold)
        self.seed = seed
        self.restart_warmup_steps = int(restart_warmup_steps)
        self.data_init = bool(data_init)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if input_shape[-1] != self.embedding_dim:
            raise ValueError(f"VectorQuantizer expects last dim {self.embedding_dim}, got {input_shape[-1]}")
        k, d = self.codebook_size, self.embedding_dim
        limit = math.sqrt(3.0 / d)  # unit-variance-ish uniform init
        self.codebook = self.add_weight(
            shape=(k, d), name="codebook", trainable=not self.use_ema,
            initializer=keras.initializers.RandomUniform(-limit, limit, seed=self.seed),
        )
        self.ema_count = self.add_weight(shape=(k,), name="ema_count", initializer="zeros", trainable=False)
        self.ema_sum = self.add_weight(shape=(k, d), name="ema_sum", initializer="zeros", trainable=False)
        self.steps = self.add_weight(shape=(), name="steps", initializer="zeros", trainable=False)
        self.built = True

    # -------------------------------------------------------------------------------- pure functions
    def distances(self, flat):
        """Squared distances (N, K) of flat vectors (N, D) to every code."""
        e = ops.convert_to_tensor(self.codebook)
        return (ops.sum(ops.square(flat), axis=-1, keepdims=True) - 2.0 * ops.matmul(flat, ops.transpose(e))
                + ops.sum(ops.square(e), axis=-1)[None, :])

    def get_codes(self, x):
        """Codes of ``x`` (..., D) -> int32 (...) (no side effects)."""
        flat = ops.reshape(x, (-1, self.embedding_dim))
        codes = _argmin_int32(self.distances(flat))
        return ops.reshape(codes, ops.shape(x)[:-1])

    def lookup(self, codes):
        """Code vectors of int ``codes`` (...) -> (..., D)."""
        return ops.take(self.codebook, ops.cast(codes, "int32"), axis=0)

    # -------------------------------------------------------------------------------- layer
    def call(self, x, training=False):
        x = ops.cast(x, "float32")
        if training and self.data_init:
            self._init_from_batch(ops.stop_gradient(ops.reshape(x, (-1, self.embedding_dim))))
        codes = self.get_codes(x)
        q = self.lookup(codes)
        if training:
            self.add_loss(self.commitment_cost * ops.mean(ops.square(x - ops.stop_gradient(q))))
            if not self.use_ema:
                self.add_loss(ops.mean(ops.square(ops.stop_gradient(x) - q)))
            self._update_codebook(ops.stop_gradient(ops.reshape(x, (-1, self.embedding_dim))),
                                  ops.reshape(codes, (-1,)))
        return x + ops.stop_gradient(q - x), codes

    def _random_rows(self, flat):
        """K random rows (K, D) of ``flat`` (N, D)."""
        idx = keras.random.randint((self.codebook_size,), 0, ops.shape(flat)[0], seed=self.seed_generator,
                                   dtype="int32")
        return ops.take(flat, idx, axis=0)

    def _init_from_batch(self, flat):
        """On the first training step (``steps == 0``): codes <- random batch vectors, counts <- N / K."""
        first = ops.equal(self.steps, 0.0)
        mean_count = ops.cast(ops.shape(flat)[0], "float32") / float(self.codebook_size)
        count = ops.where(first, ops.full((self.codebook_size,), mean_count), self.ema_count)
        codebook = ops.where(first, self._random_rows(flat), self.codebook)
        self.codebook.assign(codebook)
        self.ema_count.assign(count)
        self.ema_sum.assign(ops.where(first, codebook * count[:, None], self.ema_sum))

    def _update_codebook(self, flat, codes):
        """EMA step (if ``use_ema``) and dead-code restarts, from flat vectors (N, D) and their codes (N,)."""
        k = self.codebook_size
        onehot = ops.one_hot(codes, k, dtype="float32")
        if self.use_ema:
            count = self.decay * self.ema_count + (1.0 - self.decay) * ops.sum(onehot, axis=0)
            total = self.decay * self.ema_sum + (1.0 - self.decay) * ops.matmul(ops.transpose(onehot), flat)
            n = ops.sum(count)
            smoothed = (count + self.epsilon) / (n + k * self.epsilon) * n
            codebook = total / ops.maximum(smoothed, 1e-12)[:, None]
        else:
            count = self.decay * self.ema_count + (1.0 - self.decay) * ops.sum(onehot, axis=0)
            total = self.ema_sum
            codebook = ops.convert_to_tensor(self.codebook)
        if self.dead_code_threshold > 0:
            mean_count = ops.sum(count) / float(k)
            dead = ops.logical_and(count < self.dead_code_threshold * mean_count,
                                   self.steps >= float(self.restart_warmup_steps))
            fresh = self._random_rows(flat)
            codebook = ops.where(dead[:, None], fresh, codebook)
            count = ops.where(dead, mean_count, count)
            total = ops.where(dead[:, None], fresh * mean_count, total)
        self.steps.assign(self.steps + 1.0)
        self.ema_count.assign(count)
        self.ema_sum.assign(total)
        self.codebook.assign(codebook)

    def compute_output_spec(self, x, training=False):
        return (keras.KerasTensor(x.shape, "float32"), keras.KerasTensor(x.shape[:-1], "int32"))

    def get_config(self):
        config = super().get_config()
        config.update({
            "codebook_size": self.codebook_size, "embedding_dim": self.embedding_dim,
            "commitment_cost": self.commitment_cost, "use_ema": self.use_ema, "decay": self.decay,
            "epsilon": self.epsilon, "dead_code_threshold": self.dead_code_threshold, "seed": self.seed,
            "restart_warmup_steps": self.restart_warmup_steps, "data_init": self.data_init,
        })
        return config


@register
class ResidualVectorQuantizer(keras.layers.Layer):
    """Residual VQ: quantizer i codes the residual left by quantizers 0..i-1; the output is the sum of their codes.

    Quantizer dropout (SoundStream section 3.3): while training, with probability ``quantizer_dropout`` an
    example uses only its first ``n ~ U{1..N_q}`` stages (the rest are still fitted to their residuals but do
    not reach the decoder), so one model decodes at every bitrate and each stage learns to refine the previous.

    Args:
        num_quantizers: number of stages N_q.
        codebook_size, embedding_dim, commitment_cost, use_ema, decay, epsilon, dead_code_threshold, seed,
            restart_warmup_steps, data_init: as :class:`VectorQuantizer` (each stage gets ``seed + i``).
        quantizer_dropout: probability that a training example uses a random number of stages.

    Inputs (batch, ..., D) -> (quantized (batch, ..., D) straight-through, codes (batch, ..., N_q) int32).

    Example:
        >>> import numpy as np
        >>> rvq = ResidualVectorQuantizer(3, 16, 4)
        >>> q, codes = rvq(np.ones((1, 6, 4), "float32"))
        >>> tuple(codes.shape)
        (1, 6, 3)

    Paper: Zeghidour et al. 2021, SoundStream, Algorithm 1 and section 3.3.
    """

    def __init__(self, num_quantizers, codebook_size, embedding_dim, commitment_cost=0.25, use_ema=True,
                 decay=0.99, epsilon=1e-5, dead_code_threshold=0.1, seed=None, restart_warmup_steps=100,
                 data_init=True, quantizer_dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_quantizers = int(num_quantizers)
        self.codebook_size = int(codebook_size)
        self.embedding_dim = int(embedding_dim)
        self.commitment_cost = float(commitment_cost)
        self.use_ema = bool(use_ema)
        self.decay = float(decay)
        self.epsilon = float(epsilon)
        self.dead_code_threshold = float(dead_code_threshold)
        self.seed = seed
        self.restart_warmup_steps = int(restart_warmup_steps)
        self.data_init = bool(data_init)
        self.quantizer_dropout = float(quantizer_dropout)
        self.seed_generator = keras.random.SeedGenerator(None if seed is None else seed + 1000)
        self.quantizers = [
            VectorQuantizer(codebook_size, embedding_dim, commitment_cost, use_ema, decay, epsilon,
                            dead_code_threshold, seed=None if seed is None else seed + i,
                            restart_warmup_steps=restart_warmup_steps, data_init=data_init, name=f"vq_{i}")
            for i in range(self.num_quantizers)
        ]

    def build(self, input_shape):
        for vq in self.quantizers:
            vq.build(input_shape)
        self.built = True

    def _stages_per_example(self, x):
        """(batch, 1, ..., 1) float number of stages each example uses (quantizer dropout)."""
        batch = ops.shape(x)[0]
        shape = (batch,) + (1,) * (len(x.shape) - 1)
        n = ops.cast(keras.random.randint(shape, 1, self.num_quantizers + 1, seed=self.seed_generator), "float32")
        drop = keras.random.uniform(shape, seed=self.seed_generator) < self.quantizer_dropout
        return ops.where(drop, n, float(self.num_quantizers))

    def call(self, x, training=False):
        x = ops.cast(x, "float32")
        residual = x
        total = ops.zeros_like(x)
        codes = []
        n_used = self._stages_per_example(x) if (training and self.quantizer_dropout > 0) else None
        for i, vq in enumerate(self.quantizers):
            q, c = vq(residual, training=training)
            q = ops.stop_gradient(q)  # exact code vectors; the gradient goes straight through below
            residual = residual - q
            total = total + (q if n_used is None else q * ops.cast(n_used > i, "float32"))
            codes.append(c)
        return x + ops.stop_gradient(total - x), ops.stack(codes, axis=-1)

    def get_codes(self, x, num_quantizers=None):
        """Codes (..., n) int32 of ``x`` (..., D) using the first ``num_quantizers`` stages (no side effects)."""
        residual = ops.cast(x, "float32")
        codes = []
        for vq in self.quantizers[: num_quantizers or self.num_quantizers]:
            c = vq.get_codes(residual)
            residual = residual - vq.lookup(c)
            codes.append(c)
        return ops.stack(codes, axis=-1)

    def lookup(self, codes):
        """Sum of the code vectors of ``codes`` (..., n) (n <= N_q stages) -> (..., D)."""
        codes = ops.cast(codes, "int32")
        total = None
        for i in range(codes.shape[-1]):
            v = self.quantizers[i].lookup(codes[..., i])
            total = v if total is None else total + v
        return total

    def compute_output_spec(self, x, training=False):
        return (keras.KerasTensor(x.shape, "float32"),
                keras.KerasTensor(tuple(x.shape[:-1]) + (self.num_quantizers,), "int32"))

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_quantizers": self.num_quantizers, "codebook_size": self.codebook_size,
            "embedding_dim": self.embedding_dim, "commitment_cost": self.commitment_cost, "use_ema": self.use_ema,
            "decay": self.decay, "epsilon": self.epsilon, "dead_code_threshold": self.dead_code_threshold,
            "seed": self.seed, "restart_warmup_steps": self.restart_warmup_steps, "data_init": self.data_init,
            "quantizer_dropout": self.quantizer_dropout,
        })
        return config
