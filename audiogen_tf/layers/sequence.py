"""Small layers for padded sequences with explicit lengths: masks from lengths, masking, strided lengths, and a
strided conv whose output does not depend on how much padding follows the sequence.

With these, a model run on a sequence zero-padded to a fixed export length gives the same outputs on the valid
frames as on the unpadded sequence (what a fixed-shape TFLite endpoint needs).

Example:
    >>> import numpy as np
    >>> x = np.ones((2, 5, 3), "float32")
    >>> m = MaskFromLengths()(x, np.array([5, 2]))
    >>> np.asarray(m).tolist()
    [[1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0, 0.0]]
    >>> np.asarray(StridedLengths(2)(np.array([5, 2]))).tolist()
    [3, 1]
"""

from __future__ import annotations

import keras
from keras import ops

from audiogen_tf.serialization import register


@register
class MaskFromLengths(keras.layers.Layer):
    """``(x (batch, time, ...), lengths (batch,))`` -> float mask (batch, time), 1 on the first ``lengths`` steps."""

    def call(self, x, lengths):
        t = ops.arange(ops.shape(x)[1], dtype="int32")
        mask = ops.expand_dims(t, 0) < ops.expand_dims(ops.cast(lengths, "int32"), 1)
        return ops.cast(mask, self.compute_dtype)

    def compute_output_shape(self, x_shape, lengths_shape=None):
        return tuple(x_shape[:2])


@register
class ApplyMask(keras.layers.Layer):
    """``(x (batch, time, channels), mask (batch, time))`` -> ``x * mask`` (zero at padding)."""

    def call(self, x, mask):
        return x * ops.cast(ops.expand_dims(mask, -1), x.dtype)

    def compute_output_shape(self, x_shape, mask_shape=None):
        return tuple(x_shape)


@register
class StridedLengths(keras.layers.Layer):
    """Lengths after a stride: ``ceil(lengths / stride)`` (int32), matching :func:`strided_conv`'s output frames."""

    def __init__(self, stride=2, **kwargs):
        super().__init__(**kwargs)
        self.stride = int(stride)

    def call(self, lengths):
        lengths = ops.cast(lengths, "int32")
        return (lengths + self.stride - 1) // self.stride

    def compute_output_shape(self, shape):
        return tuple(shape)

    def compute_output_spec(self, lengths):
        return keras.KerasTensor(tuple(lengths.shape), dtype="int32")

    def get_config(self):
        return {**super().get_config(), "stride": self.stride}


def strided_conv(x, filters, kernel_size, stride, name, activation=None):
    """Zero-pad ``kernel_size // 2`` frames on both sides, then a ``valid`` conv of ``stride``: ``ceil(time / stride)``
    output frames whose left alignment does not depend on the total length (unlike ``padding="same"``, whose
    left padding changes with the parity of the length)."""
    if kernel_size % 2 != 1:
        raise ValueError(f"{name}: kernel_size must be odd, got {kernel_size}")
    x = keras.layers.ZeroPadding1D(kernel_size // 2, name=f"{name}_pad")(x)
    return keras.layers.Conv1D(filters, kernel_size, strides=stride, padding="valid", activation=activation,
                               name=name)(x)
