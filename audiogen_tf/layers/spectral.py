"""Keras layers that turn raw audio into spectral features inside a model: STFT magnitude, (log-)mel, MFCC.

Input ``(batch, time)`` or ``(batch, time, 1)``; output ``(batch, frames, bins)``. The default mode
uses :mod:`audiogen_tf.features` (``tf.signal`` FFT). With ``tflite_compatible=True`` the windowed DFT
is a strided 1-D convolution whose kernel holds the precomputed ``window * cos`` and
``window * sin`` rows (framing and DFT in one builtin ``CONV_2D``), reflect padding is ``MIRROR_PAD``,
and the rest is ``SQRT``/``MAXIMUM``/``BATCH_MATMUL``/``LOG``/``REDUCE_MAX``: a model holding these
layers converts with ``TFLITE_BUILTINS`` only, so it can take raw audio on a phone. Both modes agree
with librosa (max abs err / max abs ref < 1e-4, tests/test_spectral_layers.py).

Example:
    >>> import keras
    >>> from audiogen_tf.layers.spectral import MelSpectrogram
    >>> inp = keras.Input((22050,))
    >>> model = keras.Model(inp, MelSpectrogram(n_mels=80, log=True)(inp))
    >>> model.output_shape
    (None, 87, 80)
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from audiogen_tf import features
from audiogen_tf.serialization import register

_TINY = float(np.finfo(np.float32).tiny)


def _dft_kernel(n_fft: int, win_length: int, window: str) -> np.ndarray:
    """Conv kernel (n_fft, 1, 2 * bins): the real and imaginary DFT rows times the window."""
    win = features.window_array(window, win_length, n_fft)
    n = np.arange(n_fft)
    k = np.arange(n_fft // 2 + 1)
    ang = 2.0 * np.pi * np.outer(n, k) / n_fft  # (n_fft, bins)
    kern = np.concatenate([win[:, None] * np.cos(ang), -win[:, None] * np.sin(ang)], axis=1)
    return kern[:, None, :].astype(np.float32)


class _SpectralBase(keras.layers.Layer):
    """Shared STFT-magnitude front end of the spectral layers."""

    def __init__(
        self,
        n_fft=1024,
        hop_length=256,
        win_length=None,
        window="hann",
        center=True,
        pad_mode="reflect",
        power=1.0,
        tflite_compatible=False,
        **kwargs,
    ):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.n_fft = int(n_fft)
        self.hop_length = int(hop_length)
        self.win_length = int(win_length) if win_length else None
        self.window = window
        self.center = bool(center)
        self.pad_mode = features.pad_mode_key(pad_mode)
        self.power = float(power)
        self.tflite_compatible = bool(tflite_compatible)
        self._kernel = None

    def _magnitude(self, x):
        """(batch, time[, 1]) -> |STFT| ** power (batch, frames, bins), float32."""
        x = ops.cast(x, "float32")
        if len(x.shape) == 3:
            x = x[..., 0]
        if not self.tflite_compatible:
            return features.magnitude_spectrogram(
                x, self.n_fft, self.hop_length, self.win_length, self.window, self.center, self.pad_mode, self.power
            )
        if self._kernel is None:
            self._kernel = _dft_kernel(self.n_fft, self.win_length or self.n_fft, self.window)
        x = x[..., None]
        if self.center:
            p = self.n_fft // 2
            x = ops.pad(x, [[0, 0], [p, p], [0, 0]], mode=self.pad_mode)
        spec = ops.conv(x, ops.convert_to_tensor(self._kernel), strides=self.hop_length, padding="valid")
        bins = self.n_fft // 2 + 1
        re, im = spec[..., :bins], spec[..., bins:]
        p2 = re * re + im * im
        if self.power == 2.0:
            return p2
        p2 = ops.maximum(p2, _TINY)
        return ops.sqrt(p2) if self.power == 1.0 else ops.power(p2, self.power / 2.0)

    def _frames(self, time):
        if time is None:
            return None
        if self.center:
            return 1 + time // self.hop_length
        return 1 + (time - self.n_fft) // self.hop_length

    def get_config(self):
        config = super().get_config()
        config.update(
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.window,
            center=self.center,
            pad_mode=self.pad_mode,
            power=self.power,
            tflite_compatible=self.tflite_compatible,
        )
        return config


@register
class STFTMagnitude(_SpectralBase):
    """``|STFT(audio)| ** power`` as a layer, like ``np.abs(librosa.stft(...)).T ** power``.

    Args:
        n_fft, hop_length, win_length, window, center, pad_mode: as :func:`audiogen_tf.features.stft`.
        power: 1 (magnitude) or 2 (power).
        tflite_compatible: windowed DFT as a strided convolution (TFLite builtin ops only).

    Input (batch, time) or (batch, time, 1); output (batch, frames, n_fft // 2 + 1).

    Example:
        >>> STFTMagnitude(n_fft=512, hop_length=128)(np.zeros((2, 4096), "float32")).shape
        TensorShape([2, 33, 257])
    """

    def call(self, inputs):
        return self._magnitude(inputs)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self._frames(input_shape[1]), self.n_fft // 2 + 1)


@register
class MelSpectrogram(_SpectralBase):
    """(Log-)mel spectrogram layer; arguments are the fields of :class:`audiogen_tf.features.MelConfig`.

    Args:
        sample_rate, n_fft, hop_length, win_length, n_mels, fmin, fmax, power, htk, norm, center,
        log_floor: as ``MelConfig``.
        log: return ``log(max(mel, log_floor))`` (``MelConfig.log_mel``) instead of the mel.
        pad_mode, window: padding mode and window name.
        tflite_compatible: windowed DFT as a strided convolution (TFLite builtin ops only).

    Input (batch, time) or (batch, time, 1); output (batch, frames, n_mels).
    Parity: ``librosa.feature.melspectrogram`` (and its log), max |err| / max |ref| < 1e-4.

    Example:
        >>> cfg = features.MelConfig(sample_rate=16000, n_fft=512, hop_length=128, win_length=512)
        >>> layer = MelSpectrogram.from_mel_config(cfg)
        >>> layer(np.zeros((1, 16000), "float32")).shape
        TensorShape([1, 126, 80])
    """

    def __init__(
        self,
        sample_rate=22050,
        n_fft=1024,
        hop_length=256,
        win_length=1024,
        n_mels=80,
        fmin=0.0,
        fmax=8000.0,
        power=1.0,
        htk=False,
        norm="slaney",
        center=True,
        log_floor=1e-5,
        log=True,
        pad_mode="reflect",
        window="hann",
        tflite_compatible=False,
        **kwargs,
    ):
        super().__init__(n_fft, hop_length, win_length, window, center, pad_mode, power, tflite_compatible, **kwargs)
        self.sample_rate = int(sample_rate)
        self.n_mels = int(n_mels)
        self.fmin = float(fmin)
        self.fmax = None if fmax is None else float(fmax)
        self.htk = bool(htk)
        self.norm = norm
        self.log_floor = float(log_floor)
        self.log = bool(log)
        self._fb = features.mel_filterbank(
            self.sample_rate, self.n_fft, self.n_mels, self.fmin, self.fmax, self.htk, self.norm
        )

    @classmethod
    def from_mel_config(cls, config: features.MelConfig, **kwargs):
        """Build from a :class:`MelConfig` (plus ``log``, ``tflite_compatible``, ...)."""
        return cls(**config.to_dict(), **kwargs)

    def mel_config(self) -> features.MelConfig:
        """The equivalent :class:`MelConfig`."""
        return features.MelConfig(
            sample_rate=self.sample_rate, n_fft=self.n_fft, hop_length=self.hop_length,
            win_length=self.win_length or self.n_fft, n_mels=self.n_mels, fmin=self.fmin, fmax=self.fmax,
            power=self.power, htk=self.htk, norm=self.norm, center=self.center, log_floor=self.log_floor,
        )

    def call(self, inputs):
        mel = ops.matmul(self._magnitude(inputs), ops.convert_to_tensor(self._fb))
        if self.log:
            mel = ops.log(ops.maximum(mel, self.log_floor))
        return mel

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self._frames(input_shape[1]), self.n_mels)

    def get_config(self):
        config = super().get_config()
        config.update(
            sample_rate=self.sample_rate, n_mels=self.n_mels, fmin=self.fmin, fmax=self.fmax, htk=self.htk,
            norm=self.norm, log_floor=self.log_floor, log=self.log,
        )
        return config


@register
class MFCC(_SpectralBase):
    """MFCC layer like ``librosa.feature.mfcc``: orthonormal DCT-II of the power mel in dB (``top_db`` per item).

    Args:
        sample_rate, n_mfcc, n_fft, hop_length, win_length, n_mels, fmin, fmax, htk, norm, center,
        pad_mode, window, top_db, lifter: as :func:`audiogen_tf.features.mfcc` (librosa's defaults).
        tflite_compatible: windowed DFT as a strided convolution (TFLite builtin ops only).

    Input (batch, time) or (batch, time, 1); output (batch, frames, n_mfcc).
    Parity: max |err| / max |ref| < 1e-4.

    Example:
        >>> MFCC(n_mfcc=13)(np.zeros((2, 22050), "float32")).shape
        TensorShape([2, 44, 13])
    """

    def __init__(
        self,
        sample_rate=22050,
        n_mfcc=20,
        n_fft=2048,
        hop_length=512,
        win_length=None,
        n_mels=128,
        fmin=0.0,
        fmax=None,
        htk=False,
        norm="slaney",
        center=True,
        pad_mode="reflect",
        window="hann",
        top_db=80.0,
        lifter=0,
        tflite_compatible=False,
        **kwargs,
    ):
        kwargs.pop("power", None)
        super().__init__(n_fft, hop_length, win_length, window, center, pad_mode, 2.0, tflite_compatible, **kwargs)
        self.sample_rate = int(sample_rate)
        self.n_mfcc = int(n_mfcc)
        self.n_mels = int(n_mels)
        self.fmin = float(fmin)
        self.fmax = None if fmax is None else float(fmax)
        self.htk = bool(htk)
        self.norm = norm
        self.top_db = None if top_db is None else float(top_db)
        self.lifter = float(lifter)
        self._fb = features.mel_filterbank(
            self.sample_rate, self.n_fft, self.n_mels, self.fmin, self.fmax, self.htk, self.norm
        )
        dct = features.dct_matrix(self.n_mels, self.n_mfcc)
        if self.lifter > 0:
            dct = dct * features._lifter_np(self.n_mfcc, self.lifter)[None, :]
        self._dct = dct.astype(np.float32)

    def call(self, inputs):
        mel = ops.matmul(self._magnitude(inputs), ops.convert_to_tensor(self._fb))
        db = ops.log(ops.maximum(mel, 1e-10)) * (10.0 / np.log(10.0))
        if self.top_db is not None:
            peak = ops.max(db, axis=(-2, -1), keepdims=True)
            db = ops.maximum(db, peak - self.top_db)
        return ops.matmul(db, ops.convert_to_tensor(self._dct))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self._frames(input_shape[1]), self.n_mfcc)

    def get_config(self):
        config = super().get_config()
        config.pop("power")
        config.update(
            sample_rate=self.sample_rate, n_mfcc=self.n_mfcc, n_mels=self.n_mels, fmin=self.fmin, fmax=self.fmax,
            htk=self.htk, norm=self.norm, top_db=self.top_db, lifter=self.lifter,
        )
        return config
