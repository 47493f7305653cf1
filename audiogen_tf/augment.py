"""SpecAugment-style time and frequency masking as tf functions for ``tf.data`` maps.

:func:`spec_augment` masks ``num_freq_masks`` bands of ``f ~ U[0, F]`` bins and ``num_time_masks`` spans of
``t ~ U[0, T]`` frames of a spectrogram (Park et al. 2019, "SpecAugment: A Simple Data Augmentation Method for
Automatic Speech Recognition"; time warping is left out). Models that take raw audio get the same masks
through :func:`waveform_spec_augment`: STFT, mask, inverse STFT (``tf.signal``), same length out.
:func:`augment_map` wraps either for ``dataset.map`` on dict or ``(x, y)`` elements.

Example:
    >>> import tensorflow as tf
    >>> ds = tf.data.Dataset.from_tensor_slices((tf.random.normal((8, 16000)), tf.zeros(8, tf.int32)))
    >>> ds = ds.map(augment_map(waveform=True, time_mask_param=10, freq_mask_param=20))
    >>> next(iter(ds))[0].shape
    TensorShape([16000])
"""

from __future__ import annotations

import tensorflow as tf


def _mask_axis(spec, axis: int, max_width: int, num_masks: int, seed=None):
    """Boolean keep-mask (True = keep) of the shape of ``spec`` with ``num_masks`` random spans zeroed on ``axis``."""
    shape = tf.shape(spec)
    size = shape[axis]
    positions = tf.range(size)
    keep = tf.ones([size], tf.bool)
    for _ in range(int(num_masks)):
        width = tf.random.uniform([], 0, max_width + 1, dtype=tf.int32, seed=seed)
        width = tf.minimum(width, size)
        start = tf.random.uniform([], 0, tf.maximum(size - width, 0) + 1, dtype=tf.int32, seed=seed)
        keep = keep & ~((positions >= start) & (positions < start + width))
    rank = spec.shape.rank
    axis = axis % rank
    bshape = [1] * rank
    bshape[axis] = -1
    return tf.broadcast_to(tf.reshape(keep, bshape), shape)


def spec_augment(spectrogram, freq_mask_param: int = 8, time_mask_param: int = 10, num_freq_masks: int = 1,
                 num_time_masks: int = 1, mask_value=None, seed=None):
    """Mask random frequency bands and time spans of one spectrogram (frames, bins) (or any (..., frames, bins)).

    Args:
        spectrogram: float tensor (..., frames, bins); the same masks apply to all leading dims.
        freq_mask_param: F, the largest band width in bins.
        time_mask_param: T, the largest span in frames.
        num_freq_masks, num_time_masks: how many bands / spans.
        mask_value: value written in the masks; ``None`` = the mean of the spectrogram (right for log-mels).
        seed: op seed of the random widths/positions.

    Returns:
        Tensor of the input's shape and dtype.

    Example:
        >>> spec_augment(tf.ones((100, 40)), freq_mask_param=5, time_mask_param=8).shape
        TensorShape([100, 40])
    """
    spec = tf.convert_to_tensor(spectrogram)
    keep = _mask_axis(spec, -1, freq_mask_param, num_freq_masks, seed) & _mask_axis(
        spec, -2, time_mask_param, num_time_masks, seed)
    fill = tf.reduce_mean(spec) if mask_value is None else tf.cast(mask_value, spec.dtype)
    return tf.where(keep, spec, tf.cast(fill, spec.dtype) * tf.ones_like(spec))


def waveform_spec_augment(audio, n_fft: int = 512, hop_length: int = 128, freq_mask_param: int = 16,
                          time_mask_param: int = 10, num_freq_masks: int = 1, num_time_masks: int = 1, seed=None):
    """SpecAugment on a waveform: STFT, zero random bands of bins and spans of frames, inverse STFT.

    Args:
        audio: float32 (time,) or (..., time).
        n_fft, hop_length: STFT size and hop (Hann window; perfect reconstruction when nothing is masked).
        freq_mask_param: F in STFT bins; time_mask_param: T in STFT frames; num_*: how many.
        seed: op seed.

    Returns:
        float32 of the input's shape.

    Example:
        >>> waveform_spec_augment(tf.zeros(16000)).shape
        TensorShape([16000])
    """
    x = tf.convert_to_tensor(audio, tf.float32)
    length = tf.shape(x)[-1]
    paddings = [[0, 0]] * (x.shape.rank - 1) + [[n_fft, n_fft]]
    padded = tf.pad(x, paddings)
    spec = tf.signal.stft(padded, n_fft, hop_length, n_fft, pad_end=True)
    masked = spec_augment(spec, freq_mask_param, time_mask_param, num_freq_masks, num_time_masks,
                          mask_value=0.0, seed=seed)
    y = tf.signal.inverse_stft(masked, n_fft, hop_length, n_fft,
                               window_fn=tf.signal.inverse_stft_window_fn(hop_length))
    y = y[..., n_fft: n_fft + length]
    return tf.ensure_shape(y, x.shape)


def augment_map(key: str = "audio", waveform: bool = True, **kwargs):
    """A ``dataset.map`` function applying :func:`waveform_spec_augment` (``waveform=True``) or :func:`spec_augment`.

    Elements may be dicts (``key`` is augmented), ``(x, y)`` / ``(x, y, w)`` tuples (``x`` is augmented) or a
    single tensor. Apply it before ``batch`` (each element gets its own masks). ``kwargs`` go to the masking.

    Example:
        >>> fn = augment_map(waveform=False, key="mel", freq_mask_param=4)
        >>> fn({"mel": tf.ones((20, 8))})["mel"].shape
        TensorShape([20, 8])
    """
    fn = waveform_spec_augment if waveform else spec_augment

    def apply(*element):
        if len(element) == 1 and isinstance(element[0], dict):
            e = dict(element[0])
            e[key] = fn(e[key], **kwargs)
            return e
        if len(element) == 1:
            return fn(element[0], **kwargs)
        return (fn(element[0], **kwargs),) + tuple(element[1:])

    return apply
