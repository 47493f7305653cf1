"""Phase shuffle: shift each example's activations in time by a random offset in ``[-n, n]``.

Follows Donahue, McAuley & Puckette 2019, "Adversarial Audio Synthesis" (WaveGAN), Sec. 3.3:
the critic sees its feature maps shifted by a random number of samples, filled in by
reflection at the edges, so it cannot rely on the exact phase of periodic artefacts.
"""

from __future__ import annotations

import keras
from keras import ops

from audiogen_tf.serialization import register


@register
class PhaseShuffle(keras.layers.Layer):
    """Randomly shift each example along time by k ~ U{-n..n}, reflection-padded; identity at inference.

    Output ``y[b, t] = x[b, t - k_b]`` where indices outside ``[0, time)`` are reflected
    (``x[-1] -> x[1]``, ``x[time] -> x[time - 2]``), so no zeros enter. One shift per example.

    Args:
        n: maximum shift in samples (the paper uses 2); must be < time.
        seed: int seed of the layer's ``keras.random.SeedGenerator``.
        inputs: (batch, time, channels) float.

    Returns:
        (batch, time, channels), same as the input.

    Example:
        >>> import numpy as np
        >>> layer = PhaseShuffle(n=2, seed=0)
        >>> x = np.random.randn(3, 16, 4).astype("float32")
        >>> bool(np.allclose(layer(x, training=False), x))
        True
        >>> tuple(layer(x, training=True).shape)
        (3, 16, 4)
    """

    def __init__(self, n: int = 2, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if n < 0:
            raise ValueError(f"PhaseShuffle n must be >= 0, got {n}")
        self.n = int(n)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def shuffle(self, inputs, shifts):
        """Apply given integer ``shifts`` (batch,) in ``[-n, n]`` to ``inputs`` (batch, time, channels)."""
        n = self.n
        time = ops.shape(inputs)[1]
        padded = ops.pad(inputs, [[0, 0], [n, n], [0, 0]], mode="reflect")
        # y[t] = x[t - k] = padded[t - k + n]
        start = n - ops.cast(shifts, "int32")
        idx = ops.arange(time, dtype="int32")[None, :, None] + start[:, None, None]
        return ops.take_along_axis(padded, idx, axis=1)

    def call(self, inputs, training=None):
        if not training or self.n == 0:
            return inputs
        batch = ops.shape(inputs)[0]
        shifts = keras.random.randint(
            (batch,), minval=-self.n, maxval=self.n + 1, dtype="int32", seed=self.seed_generator
        )
        return self.shuffle(inputs, shifts)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"n": self.n, "seed": self.seed})
        return config
