"""Pseudo-QMF (cosine-modulated) filter bank: split audio into sub-bands and merge it back.

Follows the near-perfect-reconstruction design used by Multi-band MelGAN (Yang et al. 2020): a Kaiser
windowed-sinc prototype low-pass ``h`` (``taps + 1`` coefficients, cut-off ``cutoff_ratio * pi``),
cosine-modulated into ``subbands`` analysis filters
``h_k(n) = 2 h(n) cos((2k+1) pi / (2K) (n - N/2) + (-1)^k pi / 4)`` and synthesis filters with the
phase sign flipped (Nguyen 1994, "Near-perfect-reconstruction pseudo-QMF banks").
Both filters are centred (``N/2`` samples of zero padding each side), so analysis followed by
synthesis has no delay.

Example:
    >>> import numpy as np
    >>> pqmf = PQMF()
    >>> x = np.random.randn(1, 1024, 1).astype("float32")
    >>> tuple(pqmf.analysis(x).shape), tuple(pqmf.synthesis(pqmf.analysis(x)).shape)
    ((1, 256, 4), (1, 1024, 1))
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from audiogen_tf.serialization import register


def pqmf_filters(subbands=4, taps=62, cutoff_ratio=0.142, beta=9.0):
    """Analysis and synthesis filters as NumPy arrays of shape (taps + 1, subbands).

    Example:
        >>> h, g = pqmf_filters(); h.shape
        (63, 4)
    """
    if taps % 2:
        raise ValueError(f"taps must be even, got {taps}.")
    if not 0.0 < cutoff_ratio < 1.0:
        raise ValueError(f"cutoff_ratio must be in (0, 1), got {cutoff_ratio}.")
    n = np.arange(taps + 1) - taps / 2.0
    wc = np.pi * cutoff_ratio
    # sinc low-pass with cut-off wc: sin(wc n) / (pi n), value wc / pi at n = 0
    proto = (wc / np.pi) * np.sinc(wc * n / np.pi) * np.kaiser(taps + 1, beta)
    k = np.arange(subbands)[:, None]
    arg = (2 * k + 1) * (np.pi / (2 * subbands)) * n[None, :]
    phase = ((-1.0) ** k) * np.pi / 4
    analysis = 2 * proto[None, :] * np.cos(arg + phase)
    synthesis = 2 * proto[None, :] * np.cos(arg - phase)
    return analysis.T.astype(np.float32), synthesis.T.astype(np.float32)


@register
class PQMF(keras.layers.Layer):
    """Pseudo-QMF analysis/synthesis filter bank as strided convolutions (fixed, non-trainable).

    ``call(x)`` runs :meth:`analysis`; ``call(x, inverse=True)`` runs :meth:`synthesis`.

    Args:
        subbands: number of bands K; the audio length must be a multiple of K.
        taps: filter order N (the filters have N + 1 coefficients).
        cutoff_ratio: prototype cut-off as a fraction of pi.
        beta: Kaiser window beta.

    Example:
        >>> tuple(PQMF(subbands=4).synthesis(keras.ops.zeros((2, 50, 4))).shape)
        (2, 200, 1)

    Paper: Yang et al. 2020, "Multi-band MelGAN"; Nguyen 1994 (PQMF design).
    """

    def __init__(self, subbands=4, taps=62, cutoff_ratio=0.142, beta=9.0, **kwargs):
        super().__init__(**kwargs)
        self.subbands = int(subbands)
        self.taps = int(taps)
        self.cutoff_ratio = float(cutoff_ratio)
        self.beta = float(beta)
        h, g = pqmf_filters(self.subbands, self.taps, self.cutoff_ratio, self.beta)
        self._analysis_kernel = h[:, None, :]  # (N+1, 1, K): one input channel, K outputs
        # synthesis: sum_k conv(upsample_K(x_k), g_k) * K  -> kernel (N+1, K, 1)
        self._synthesis_kernel = (g * self.subbands)[:, :, None]
        self._pad = self.taps // 2

    def analysis(self, audio):
        """(batch, time, 1) -> (batch, time // subbands, subbands)."""
        x = ops.pad(audio, [[0, 0], [self._pad, self._pad], [0, 0]])
        kernel = ops.convert_to_tensor(self._analysis_kernel, dtype=x.dtype)
        return ops.conv(x, kernel, strides=self.subbands, padding="valid")

    def synthesis(self, subband_audio):
        """(batch, frames, subbands) -> (batch, frames * subbands, 1)."""
        x = subband_audio
        k = self.subbands
        # zero insertion: (B, F, K) -> (B, F, K_phase, K_band) with the sample at phase 0 -> (B, F*K, K)
        x = ops.expand_dims(x, 2)
        x = ops.pad(x, [[0, 0], [0, 0], [0, k - 1], [0, 0]])
        shape = ops.shape(subband_audio)
        x = ops.reshape(x, (shape[0], shape[1] * k, k))
        x = ops.pad(x, [[0, 0], [self._pad, self._pad], [0, 0]])
        kernel = ops.convert_to_tensor(self._synthesis_kernel, dtype=x.dtype)
        return ops.conv(x, kernel, strides=1, padding="valid")

    def call(self, inputs, inverse=False):
        return self.synthesis(inputs) if inverse else self.analysis(inputs)

    def compute_output_spec(self, inputs, inverse=False):
        b, t, _ = inputs.shape
        if inverse:
            shape = (b, None if t is None else t * self.subbands, 1)
        else:
            shape = (b, None if t is None else t // self.subbands, self.subbands)
        return keras.KerasTensor(shape, dtype=inputs.dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "subbands": self.subbands,
            "taps": self.taps,
            "cutoff_ratio": self.cutoff_ratio,
            "beta": self.beta,
        }
