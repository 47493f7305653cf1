"""Inverse STFT as a Keras layer made of builtin TFLite ops: a fixed-basis matmul and a reshape overlap-add.

TFLite has no builtin inverse real FFT, so ``tf.signal.irfft`` in a model forces Flex ops. Here the inverse
DFT of each frame is one matmul of ``[real, imag]`` (frames, 2 * bins) with a fixed (2 * bins, n_fft) basis
that already holds the synthesis window; the overlap-add of frames ``hop`` apart (``n_fft`` a multiple of
``hop``) is ``n_fft / hop`` zero-padded slices added up, and the result is divided by the overlap-added squared
window (window-sum-square normalisation, as ``librosa.istft``). Every op (``BATCH_MATMUL``, ``RESHAPE``,
``STRIDED_SLICE``, ``PAD``, ``ADD``, ``DIV``, ``SELECT``) is a TFLite builtin and the frame count may be dynamic.

:meth:`InverseSTFT.chunk` is the streaming form: it takes a block of frames and the un-normalised overlap tail
of the previous block (and its window-sum tail), returns the samples no later frame can change, and the new
tails; concatenated chunks equal the offline output (:func:`stream_istft` runs that loop in NumPy-facing code).

Parity (tests/test_istft.py): equals ``audiogen_tf.features.istft`` and ``librosa.istft`` to 1e-5, in TF and in
TFLite.

Example:
    >>> import numpy as np
    >>> layer = InverseSTFT(n_fft=512, hop_length=128)
    >>> re, im = np.zeros((2, 10, 257), "float32"), np.zeros((2, 10, 257), "float32")
    >>> tuple(layer(re, im).shape)
    (2, 1280)

Papers: Griffin & Lim 1984 (least-squares overlap-add); Siuzdak 2023, "Vocos" (frame-rate vocoders that end in
an inverse STFT).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from audiogen_tf import features
from audiogen_tf.serialization import register

_TINY = float(np.finfo(np.float32).tiny)
OUTPUT_LENGTHS = ("frames", "istft")
PADDINGS = ("center", "same", "none")


def synthesis_basis(n_fft: int, win_length: int | None = None, window: str = "hann") -> np.ndarray:
    """(2 * bins, n_fft) matrix: ``[re, im] @ basis`` is the windowed inverse real DFT of one frame.

    Row ``k`` (real part) is ``c_k cos(2 pi k n / N) w[n] / N`` and row ``bins + k`` (imaginary part)
    ``-c_k sin(2 pi k n / N) w[n] / N``, with ``c_k = 1`` for DC and Nyquist and 2 otherwise (the Hermitian
    half-spectrum), exactly what ``irfft`` computes (the imaginary parts of DC and Nyquist are ignored).
    """
    win = features.window_array(window, win_length or n_fft, n_fft).astype(np.float64)
    bins = n_fft // 2 + 1
    k = np.arange(bins)[:, None]
    n = np.arange(n_fft)[None, :]
    weight = np.full((bins, 1), 2.0)
    weight[0] = 1.0
    if n_fft % 2 == 0:
        weight[-1] = 1.0
    ang = 2.0 * np.pi * k * n / n_fft
    re = weight * np.cos(ang) / n_fft * win[None, :]
    im = -weight * np.sin(ang) / n_fft * win[None, :]
    return np.concatenate([re, im], axis=0).astype(np.float32)


def analysis_basis(n_fft: int, win_length: int | None = None, window: str = "hann") -> np.ndarray:
    """(n_fft, 2 * bins) matrix: ``frame @ basis`` is ``[re, im]`` of the windowed real DFT of one frame
    (``re_k = sum_n x[n] w[n] cos(2 pi k n / N)``, ``im_k = -sum_n x[n] w[n] sin(2 pi k n / N)``, as ``rfft``)."""
    win = features.window_array(window, win_length or n_fft, n_fft).astype(np.float64)
    bins = n_fft // 2 + 1
    ang = 2.0 * np.pi * np.arange(n_fft)[:, None] * np.arange(bins)[None, :] / n_fft
    return np.concatenate([np.cos(ang) * win[:, None], -np.sin(ang) * win[:, None]], axis=1).astype(np.float32)


def _reflect_pad(audio, pad: int):
    """(batch, L) -> (batch, L + 2 pad), reflected without repeating the edge sample (``numpy.pad(mode="reflect")``,
    periodic with period ``2 (L - 1)`` when ``pad >= L``): one ``GATHER`` over computed indices."""
    length = ops.shape(audio)[1]
    period = 2 * (length - 1)
    k = ops.mod(ops.arange(-pad, length + pad), period)
    index = ops.where(k < length, k, period - k)
    return ops.take(audio, index, axis=1)


def centered_stft(audio, n_frames, n_fft: int, hop_length: int, basis):
    """First ``n_frames`` frames (re, im) (batch, n_frames, bins) of the centred (reflect-padded) STFT of
    ``audio`` (batch, n_frames * hop_length), in builtin TFLite ops (``GATHER`` for the reflection, ``RESHAPE``,
    slices, ``CONCATENATION``, ``BATCH_MATMUL``): the frames are ``n_fft / hop`` consecutive hop-blocks side by side.
    Equals ``features.stft(..., center=True)[:, :n_frames]`` (the last centred frame is not needed here), and is
    defined for any length of at least 2 samples (a signal shorter than the padding is reflected again, as
    ``numpy.pad``), where ``tf.pad(mode="REFLECT")`` needs a signal longer than ``n_fft // 2``."""
    ratio = n_fft // hop_length
    batch = ops.shape(audio)[0]
    padded = _reflect_pad(ops.cast(audio, "float32"), n_fft // 2)
    blocks = ops.reshape(padded, (batch, n_frames + ratio, hop_length))
    frames = ops.concatenate([blocks[:, m : m + n_frames, :] for m in range(ratio)], axis=-1)
    spec = ops.matmul(frames, ops.convert_to_tensor(basis))
    bins = n_fft // 2 + 1
    return spec[..., :bins], spec[..., bins:]


def consistent_audio(magnitude, phase, istft: "InverseSTFT", iterations, momentum: float = 0.99):
    """Fast Griffin-Lim started from ``phase``: audio (batch, frames * hop) whose STFT is made consistent with
    ``magnitude`` (batch, frames, bins) by ``iterations`` steps (a tensor, so one exported graph serves any count).

    The same iterates as :func:`audiogen_tf.features.griffin_lim` with ``init_phase`` (to float tolerance), in
    real arithmetic and builtin TFLite ops (``WHILE`` around :class:`InverseSTFT` and :func:`centered_stft`), so
    the refinement runs on device. ``istft`` must be centred with ``output_length="frames"``.

    Papers: Perraudin et al. 2013 (fast Griffin-Lim); Masuyama et al. 2019 (consistency steps after a network).
    """
    import tensorflow as tf

    if istft.padding != "center" or istft.output_length != "frames":
        raise ValueError("consistent_audio needs a centred InverseSTFT with output_length='frames'")
    magnitude = tf.cast(magnitude, tf.float32)
    n_frames = tf.shape(magnitude)[1]
    basis = tf.constant(analysis_basis(istft.n_fft, istft.win_length, istft.window))
    alpha = momentum / (1.0 + momentum)

    def rebuild(cos, sin):
        audio = istft(magnitude * cos, magnitude * sin)
        return centered_stft(audio, n_frames, istft.n_fft, istft.hop_length, basis)

    def body(i, cos, sin, prev_re, prev_im):
        re, im = rebuild(cos, sin)
        a_re, a_im = re - alpha * prev_re, im - alpha * prev_im
        modulus = tf.sqrt(a_re * a_re + a_im * a_im) + _TINY
        return i + 1, a_re / modulus, a_im / modulus, re, im

    phase = tf.cast(phase, tf.float32)
    zeros = tf.zeros_like(magnitude)
    _, cos, sin, _, _ = tf.while_loop(lambda i, *_: i < tf.cast(tf.reshape(iterations, []), tf.int32), body,
                                      (tf.constant(0), tf.cos(phase), tf.sin(phase), zeros, zeros))
    return istft(magnitude * cos, magnitude * sin)


def _overlap_add(frames, ratio: int, hop: int):
    """(batch, F, ratio * hop) frames ``hop`` apart -> (batch, (F + ratio - 1) * hop) by padded adds."""
    batch = ops.shape(frames)[0]
    n_frames = ops.shape(frames)[1]
    blocks = ops.reshape(frames, (batch, n_frames, ratio, hop))
    total = None
    for m in range(ratio):
        piece = ops.pad(blocks[:, :, m, :], [[0, 0], [m, ratio - 1 - m], [0, 0]])
        total = piece if total is None else total + piece
    return ops.reshape(total, (batch, (n_frames + ratio - 1) * hop))


@register
class InverseSTFT(keras.layers.Layer):
    """(real, imag) STFT frames (batch, frames, n_fft // 2 + 1) -> waveform (batch, samples), builtin TFLite ops.

    Args:
        n_fft: FFT size of the frames; must be a multiple of ``hop_length``.
        hop_length: samples between frames.
        win_length: synthesis window length (<= n_fft, centred), default ``n_fft``.
        window: scipy window name (periodic), as in :func:`audiogen_tf.features.stft`.
        padding: ``"center"``: the frames came from a centred STFT (``n_fft // 2`` samples trimmed at the start, as
            ``librosa.istft``); ``"same"``: ``(win_length - hop_length) // 2`` trimmed (Vocos' "same" padding, whose
            frames are not centred); ``"none"``: nothing trimmed.
        output_length: ``"frames"``: ``frames * hop_length`` samples, the vocoder convention (=
            ``librosa.istft(..., length=frames * hop)``); ``"istft"``: the whole inverse (``(frames - 1) *
            hop_length`` samples when centred, = ``librosa.istft`` without ``length``).

    Example:
        >>> import numpy as np
        >>> InverseSTFT(1024, 256, output_length="istft")(np.zeros((1, 5, 513), "float32"),
        ...                                               np.zeros((1, 5, 513), "float32")).shape[-1]
        1024
    """

    def __init__(self, n_fft=1024, hop_length=256, win_length=None, window="hann", padding="center",
                 output_length="frames", **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.n_fft = int(n_fft)
        self.hop_length = int(hop_length)
        self.win_length = int(win_length) if win_length else None
        self.window = str(window)
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
        self.padding = padding
        if self.n_fft % self.hop_length:
            raise ValueError(f"n_fft ({self.n_fft}) must be a multiple of hop_length ({self.hop_length})")
        if output_length not in OUTPUT_LENGTHS:
            raise ValueError(f"output_length must be one of {OUTPUT_LENGTHS}, got {output_length!r}")
        self.output_length = output_length
        self.ratio = self.n_fft // self.hop_length
        self.bins = self.n_fft // 2 + 1
        self._basis = synthesis_basis(self.n_fft, self.win_length, self.window)
        win = features.window_array(self.window, self.win_length or self.n_fft, self.n_fft)
        self._window_sq = (win.astype(np.float64) ** 2).astype(np.float32)

    # ------------------------------------------------------------------------------------------ pieces
    def frames_to_time(self, real, imag):
        """Windowed time frames (batch, F, n_fft) of the spectra: one matmul with the synthesis basis."""
        spec = ops.concatenate([ops.cast(real, "float32"), ops.cast(imag, "float32")], axis=-1)
        return ops.matmul(spec, ops.convert_to_tensor(self._basis))

    def _window_sum(self, n_frames):
        """Overlap-added squared window (1, (F + ratio - 1) * hop) for ``n_frames`` frames."""
        w2 = ops.convert_to_tensor(self._window_sq)[None, None, :]
        tiled = ops.ones((1, n_frames, 1), "float32") * w2
        return _overlap_add(tiled, self.ratio, self.hop_length)

    @staticmethod
    def _normalise(y, wss):
        return y / ops.where(wss > _TINY, wss, ops.ones_like(wss))

    # ------------------------------------------------------------------------------------------ offline
    @property
    def trim(self) -> int:
        """Samples dropped at the start of the overlap-added signal."""
        return trim_of(self.padding, self.n_fft, self.hop_length, self.win_length)

    def call(self, real, imag):
        n_frames = ops.shape(real)[1]
        y = _overlap_add(self.frames_to_time(real, imag), self.ratio, self.hop_length)
        y = self._normalise(y, self._window_sum(n_frames))
        start = self.trim
        return y[:, start : start + output_samples(n_frames, self.output_length, start, self.n_fft, self.hop_length)]

    def compute_output_shape(self, real_shape, imag_shape=None):
        frames = real_shape[1]
        if frames is None:
            return (real_shape[0], None)
        return (real_shape[0], output_samples(frames, self.output_length, self.trim, self.n_fft, self.hop_length))

    # ------------------------------------------------------------------------------------------ streaming
    @property
    def tail_length(self) -> int:
        """Samples of overlap state carried between chunks: ``n_fft - hop_length``."""
        return self.n_fft - self.hop_length

    def chunk(self, real, imag, ola_tail, wss_tail):
        """One streaming step: frames (batch, C, bins) plus the previous tails -> finished samples and new tails.

        Args:
            real, imag: (batch, C, bins) the next ``C`` frames.
            ola_tail: (batch, n_fft - hop) un-normalised overlap-add carried from the previous chunk (zeros first).
            wss_tail: (1 or batch, n_fft - hop) its window-sum-square (zeros first).

        Returns:
            ``(audio, ola_tail, wss_tail)``: ``audio`` (batch, C * hop) are the samples of the untrimmed signal
            (padded time, before the centre trim) that no later frame reaches, normalised like the offline layer.
        """
        n_frames = ops.shape(real)[1]
        done = n_frames * self.hop_length
        y = _overlap_add(self.frames_to_time(real, imag), self.ratio, self.hop_length)
        wss = self._window_sum(n_frames)
        tail = self.tail_length
        pad = [[0, 0], [0, done]]
        y = y + ops.pad(ops.cast(ola_tail, "float32"), pad)
        wss = wss + ops.pad(ops.cast(wss_tail, "float32"), pad)
        return self._normalise(y[:, :done], wss[:, :done]), y[:, done : done + tail], wss[:, done : done + tail]

    def finish(self, ola_tail, wss_tail):
        """Samples still in the tails after the last chunk, normalised (what the offline output ends with)."""
        return self._normalise(ops.cast(ola_tail, "float32"), ops.cast(wss_tail, "float32"))

    def export_endpoints(self, chunk_frames=16):
        """``[(name, function, input_specs)]`` of a standalone on-device inverse STFT (``tflite_export`` format).

        - ``"istft"``: real, imag (1, None, bins) -> audio (1, samples), any frame count.
        - ``"istft_chunk"``: real, imag (1, chunk_frames, bins), ola_tail, wss_tail (1, n_fft - hop) ->
          (audio (1, chunk_frames * hop), ola_tail, wss_tail): :meth:`chunk`.
        - ``"istft_finish"``: ola_tail, wss_tail -> the last samples (:meth:`finish`).
        """
        import keras as _keras

        bins, tail = self.bins, self.tail_length

        def spec(shape, name):
            return _keras.InputSpec(shape=shape, dtype="float32", name=name)

        return [
            ("istft", lambda real, imag: self(real, imag),
             [spec((1, None, bins), "real"), spec((1, None, bins), "imag")]),
            ("istft_chunk", lambda real, imag, ola_tail, wss_tail: self.chunk(real, imag, ola_tail, wss_tail),
             [spec((1, chunk_frames, bins), "real"), spec((1, chunk_frames, bins), "imag"),
              spec((1, tail), "ola_tail"), spec((1, tail), "wss_tail")]),
            ("istft_finish", lambda ola_tail, wss_tail: self.finish(ola_tail, wss_tail),
             [spec((1, tail), "ola_tail"), spec((1, tail), "wss_tail")]),
        ]

    def get_config(self):
        config = super().get_config()
        config.update(n_fft=self.n_fft, hop_length=self.hop_length, win_length=self.win_length, window=self.window,
                      padding=self.padding, output_length=self.output_length)
        return config


def trim_of(padding: str, n_fft: int, hop_length: int, win_length: int | None = None) -> int:
    """Samples :class:`InverseSTFT` drops at the start for ``padding``."""
    if padding == "center":
        return n_fft // 2
    if padding == "same":
        return ((win_length or n_fft) - hop_length) // 2
    return 0


def output_samples(n_frames, output_length: str, trim: int, n_fft: int, hop_length: int):
    """Output length of :class:`InverseSTFT`: ``frames * hop`` or the whole overlap-add less ``trim`` at both ends."""
    if output_length == "frames":
        return n_frames * hop_length
    return (n_frames - 1) * hop_length + n_fft - 2 * trim


def stream_istft(chunk_fn, finish_fn, real, imag, chunk_frames: int, n_fft: int, hop_length: int,
                 padding: str = "center", output_length: str = "frames", win_length: int | None = None):
    """Run a chunk function over the frames and stitch the output as :class:`InverseSTFT` would offline.

    Args:
        chunk_fn: ``(real, imag, ola_tail, wss_tail) -> (audio, ola_tail, wss_tail)`` (``InverseSTFT.chunk`` or an
            exported signature) on (1, C, bins) inputs; the last call gets the remaining frames, so a fixed-size
            endpoint needs a frame count that is a multiple of ``chunk_frames``.
        finish_fn: ``(ola_tail, wss_tail) -> audio`` (``InverseSTFT.finish``).
        real, imag: (1, frames, bins) arrays.
        chunk_frames: frames per call.

    Returns:
        float32 (samples,) equal to the offline layer's output.
    """
    real, imag = np.asarray(real, np.float32), np.asarray(imag, np.float32)
    n_frames = real.shape[1]
    tail = n_fft - hop_length
    ola, wss = np.zeros((1, tail), np.float32), np.zeros((1, tail), np.float32)
    pieces = []
    for start in range(0, n_frames, chunk_frames):
        re_, im_ = real[:, start : start + chunk_frames], imag[:, start : start + chunk_frames]
        out, ola, wss = (np.asarray(t, np.float32) for t in chunk_fn(re_, im_, ola, wss))
        pieces.append(out.reshape(-1))
    pieces.append(np.asarray(finish_fn(ola, wss), np.float32).reshape(-1))
    y = np.concatenate(pieces)
    start = trim_of(padding, n_fft, hop_length, win_length)
    return y[start : start + output_samples(n_frames, output_length, start, n_fft, hop_length)]
