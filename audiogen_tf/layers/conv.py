"""Weight-normalized convolutions, reflection padding and export-friendly convs for GAN vocoders.

Weight normalization (Salimans & Kingma 2016, "Weight Normalization: A Simple Reparameterization to
Accelerate Training of Deep Neural Networks") writes each output channel's kernel as
``w = g * v / ||v||``; the layers below store ``v`` and ``g`` and compute ``w`` on the fly.
:func:`fold_weight_norm` turns a model built with ``weight_norm=True`` into the same model built from
plain ``Conv1D`` / ``Conv1DTranspose`` / ``Conv2D`` layers holding the folded kernels; with
``export_layers=True`` it builds the export-friendly equivalents instead: :class:`PhaseConv1DTranspose`
(a transposed conv as one ordinary conv + depth-to-space reshape, the sub-pixel form of Shi et al. 2016,
"Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel Convolutional Neural
Network") and :class:`DilatedConv1D` (a dilated conv as the native dilated conv op, no space-to-batch).
Both compute the same function as the Keras layers they replace and convert to TFLite ops that XNNPACK
delegates (``CONV_2D``, ``RESHAPE``, ``STRIDED_SLICE``), also with a dynamic input length.

Family blocks built from these layers live with their family (``zoo/hifigan/hifigan_blocks.py``,
``zoo/melgan/melgan_blocks.py``), and so does the vocoder mixin that exports them
(``zoo/weight_norm_vocoder.py``); :func:`discriminator_conv_stack` stays here, shared by several families.

Example:
    >>> import keras, numpy as np
    >>> conv = WeightNormConv1D(8, 3, padding="same")
    >>> tuple(conv(np.zeros((1, 16, 4), "float32")).shape)
    (1, 16, 8)
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from audiogen_tf.serialization import register


class _WeightNormMixin:
    """Replaces the kernel variable of a Keras conv layer by ``g * v / ||v||`` (norm per output channel)."""

    _plain_class = None  # the Keras layer class this one folds into
    _transposed = False

    def build(self, input_shape):
        input_channel = int(input_shape[-1])
        self._input_channel = input_channel
        self.input_spec = keras.layers.InputSpec(min_ndim=self.rank + 2, axes={-1: input_channel})
        if self._transposed:
            kernel_shape = tuple(self.kernel_size) + (self.filters, input_channel)
        else:
            if input_channel % self.groups != 0:
                raise ValueError(
                    f"{self.name}: input channels ({input_channel}) must be divisible by groups ({self.groups})."
                )
            kernel_shape = tuple(self.kernel_size) + (input_channel // self.groups, self.filters)
        self.v = self.add_weight(
            name="v",
            shape=kernel_shape,
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            trainable=True,
            dtype=self.dtype,
        )
        # g starts at ||v|| so that the initial kernel equals v (as torch.nn.utils.weight_norm does).
        self.g = self.add_weight(
            name="g",
            shape=(self.filters,),
            initializer="ones",
            trainable=True,
            dtype=self.dtype,
        )
        self.g.assign(ops.sqrt(ops.sum(ops.square(self.v), axis=self._norm_axes())))
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                trainable=True,
                dtype=self.dtype,
            )
        else:
            self.bias = None
        self.built = True

    def _norm_axes(self):
        """Kernel axes reduced by the norm: all but the output-channel axis."""
        ndim = self.rank + 2
        out_axis = ndim - 2 if self._transposed else ndim - 1
        return tuple(a for a in range(ndim) if a != out_axis)

    @property
    def kernel(self):
        if not self.built:
            raise AttributeError("You must build the layer before accessing `kernel`.")
        v = ops.convert_to_tensor(self.v)
        norm = ops.sqrt(ops.sum(ops.square(v), axis=self._norm_axes(), keepdims=True) + 1e-12)
        g = ops.convert_to_tensor(self.g)
        shape = [1] * (self.rank + 2)
        shape[-2 if self._transposed else -1] = self.filters
        return v * ops.reshape(g, shape) / norm

    @kernel.setter
    def kernel(self, value):  # the Keras base classes assign `self.kernel` in their own build()
        raise AttributeError(f"{type(self).__name__}.kernel is computed from v and g; assign those.")

    # Keras' conv layers save [kernel, bias]; save our own variables (v, g, bias) the generic way
    def save_own_variables(self, store):
        keras.layers.Layer.save_own_variables(self, store)

    def load_own_variables(self, store):
        keras.layers.Layer.load_own_variables(self, store)

    def folded_weights(self) -> list:
        """``[kernel, bias]`` (or ``[kernel]``) as NumPy arrays for the equivalent plain layer."""
        weights = [ops.convert_to_numpy(self.kernel)]
        if self.use_bias:
            weights.append(ops.convert_to_numpy(self.bias))
        return weights

    def to_plain(self):
        """A built plain Keras layer with the same config and the folded kernel."""
        layer = self._plain_class.from_config(self.get_config())
        layer.build((None,) * (self.rank + 1) + (self._input_channel,))
        layer.set_weights(self.folded_weights())
        return layer


class _SplitGroupsMixin:
    """Runs a grouped convolution (``groups > 1``) as one plain convolution per group, concatenated.

    The same function, but Keras sends grouped convolutions on TensorFlow through XLA, whose CPU gradient of a
    grouped convolution is very slow: on this project's 2-core machine forward + backward of a 256-group
    ``Conv1D`` (1024 channels, kernel 41, stride 4, batch 8 x 512 steps) took 29 s against 0.09 s split by
    group, which made one MelGAN / HiFi-GAN discriminator step (grouped multi-scale discriminators) cost minutes.
    """

    def _grouped(self):
        return self.groups > 1 and self.data_format == "channels_last" and self.padding != "causal"

    def convolution_op(self, inputs, kernel):
        if not self._grouped():
            return super().convolution_op(inputs, kernel)
        pieces = zip(ops.split(inputs, self.groups, axis=-1), ops.split(kernel, self.groups, axis=-1))
        return ops.concatenate([
            ops.conv(x, k, strides=list(self.strides), padding=self.padding, dilation_rate=self.dilation_rate,
                     data_format=self.data_format)
            for x, k in pieces
        ], axis=-1)

    def call(self, inputs):  # keras.layers.Conv1D.call calls ops.conv itself, not convolution_op
        if not self._grouped():
            return super().call(inputs)
        outputs = self.convolution_op(inputs, self.kernel)
        if self.use_bias:
            outputs = ops.add(outputs, ops.reshape(self.bias, (1,) * (self.rank + 1) + (self.filters,)))
        return self.activation(outputs) if self.activation is not None else outputs


@register
class GroupedConv1D(_SplitGroupsMixin, keras.layers.Conv1D):
    """``keras.layers.Conv1D`` whose ``groups > 1`` convolution runs group by group (fast gradients on CPU).

    Same arguments, weights and outputs as ``keras.layers.Conv1D``; :func:`conv1d` builds it for plain and
    spectral-normalized grouped convolutions.

    Example:
        >>> tuple(GroupedConv1D(8, 5, groups=4, padding="same")(keras.ops.ones((1, 10, 8))).shape)
        (1, 10, 8)
    """


@register
class WeightNormConv1D(_SplitGroupsMixin, _WeightNormMixin, keras.layers.Conv1D):
    """``keras.layers.Conv1D`` with weight normalization (variables ``v``, ``g``, ``bias``).

    Args: as ``keras.layers.Conv1D``; input (batch, time, channels) -> (batch, time', filters).

    Example:
        >>> tuple(WeightNormConv1D(4, 3, dilation_rate=2, padding="same")(keras.ops.ones((1, 10, 2))).shape)
        (1, 10, 4)

    Paper: Salimans & Kingma 2016.
    """

    _plain_class = keras.layers.Conv1D


@register
class WeightNormConv1DTranspose(_WeightNormMixin, keras.layers.Conv1DTranspose):
    """``keras.layers.Conv1DTranspose`` with weight normalization (norm per output channel).

    Args: as ``keras.layers.Conv1DTranspose``; (batch, time, channels) -> (batch, time * strides, filters)
        with ``padding="same"``.

    Example:
        >>> tuple(WeightNormConv1DTranspose(4, 16, strides=8, padding="same")(keras.ops.ones((1, 10, 2))).shape)
        (1, 80, 4)

    Paper: Salimans & Kingma 2016.
    """

    _plain_class = keras.layers.Conv1DTranspose
    _transposed = True


@register
class WeightNormConv2D(_SplitGroupsMixin, _WeightNormMixin, keras.layers.Conv2D):
    """``keras.layers.Conv2D`` with weight normalization, used by the HiFi-GAN period discriminator.

    Args: as ``keras.layers.Conv2D``; input (batch, height, width, channels).

    Example:
        >>> tuple(WeightNormConv2D(4, (5, 1), strides=(3, 1), padding="same")(keras.ops.ones((1, 9, 2, 1))).shape)
        (1, 3, 2, 4)

    Paper: Salimans & Kingma 2016.
    """

    _plain_class = keras.layers.Conv2D


@register
class ReflectionPad1D(keras.layers.Layer):
    """Reflection padding of the time axis (as ``torch.nn.ReflectionPad1d``; each pad < time steps).

    Computed as ``concat([flip(x[:, 1:left+1]), x, flip(x[:, -right-1:-1])])``, bit-identical to
    ``ops.pad(x, ..., mode="reflect")`` but exported without TFLite's ``MIRROR_PAD`` (not delegated to XNNPACK).

    Args:
        padding: int (both sides) or (left, right). Input (batch, time, channels).

    Example:
        >>> keras.ops.convert_to_numpy(ReflectionPad1D(2)(keras.ops.reshape(keras.ops.arange(4.0), (1, 4, 1))))[0, :, 0].tolist()
        [2.0, 1.0, 0.0, 1.0, 2.0, 3.0, 2.0, 1.0]
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = (int(padding), int(padding)) if isinstance(padding, int) else tuple(int(p) for p in padding)

    def call(self, inputs):
        # == ops.pad(mode="reflect"), written as reversed edge slices concatenated to the input: TFLite's
        # MIRROR_PAD has no XNNPACK kernel, STRIDED_SLICE + REVERSE_V2 + CONCATENATION do (bit-identical).
        left, right = self.padding
        length = inputs.shape[1]
        if length is not None and max(left, right) >= length:
            raise ValueError(f"{self.name}: reflection padding {self.padding} needs more than "
                             f"{max(left, right)} time steps, got {length}.")
        parts = [inputs]
        if left:
            parts.insert(0, ops.flip(inputs[:, 1 : left + 1], axis=1))
        if right:
            parts.append(ops.flip(inputs[:, -right - 1 : -1], axis=1))
        return ops.concatenate(parts, axis=1) if len(parts) > 1 else inputs

    def compute_output_shape(self, input_shape):
        t = input_shape[1]
        return (input_shape[0], None if t is None else t + sum(self.padding), input_shape[2])

    def get_config(self):
        return {**super().get_config(), "padding": list(self.padding)}


def phase_kernel(kernel, strides: int):
    """``Conv1DTranspose`` kernel (k, filters, channels) -> phase-conv kernel (T, channels, s * filters).

    ``T = ceil(k / s)``; tap j of output phase r is ``kernel[(T - 1 - j) * s + r].T`` (zero where the index >= k).

    Example:
        >>> import numpy as np
        >>> phase_kernel(np.ones((16, 4, 3), "float32"), 8).shape
        (2, 3, 32)
    """
    w = np.asarray(kernel)
    k, filters, channels = w.shape
    s = int(strides)
    taps = -(-k // s)
    padded = np.zeros((taps * s, filters, channels), w.dtype)
    padded[:k] = w
    # padded[(T - 1 - j) * s + r, f, c] -> out[j, c, r, f]
    out = padded.reshape(taps, s, filters, channels)[::-1].transpose(0, 3, 1, 2)
    return np.ascontiguousarray(out).reshape(taps, channels, s * filters)


def transpose_kernel(kernel, kernel_size: int, strides: int):
    """Inverse of :func:`phase_kernel`: (T, channels, s * filters) -> (kernel_size, filters, channels)."""
    w = np.asarray(kernel)
    taps, channels, sf = w.shape
    s = int(strides)
    out = w.reshape(taps, channels, s, sf // s)[::-1].transpose(0, 2, 3, 1).reshape(taps * s, sf // s, channels)
    return np.ascontiguousarray(out[: int(kernel_size)])


@register
class PhaseConv1DTranspose(keras.layers.Layer):
    """``Conv1DTranspose(padding="same")`` as one stride-1 conv and a depth-to-space reshape (export-friendly).

    For kernel k and stride s, with ``T = ceil(k / s)`` taps: the input is zero-padded by T - 1 steps on both
    sides; one conv with kernel (T, channels, s * filters) computes the s output phases at once (tap j of
    phase r is ``W[(T - 1 - j) s + r]`` of the transposed-conv kernel W); a reshape (batch, L + T - 1, s * filters)
    -> (batch, (L + T - 1) s, filters) interleaves them and the crop starting at ``max(k - s, 0) // 2`` keeps
    L * s samples, TF's "same" output. Same function as ``keras.layers.Conv1DTranspose`` (float32 round-off),
    but TFLite gets ``CONV_2D`` + ``RESHAPE`` + ``STRIDED_SLICE`` (XNNPACK runs them at conv speed) instead of
    ``TRANSPOSE_CONV``, 3-9x slower there.

    Args:
        filters, kernel_size, strides, activation, use_bias, kernel_initializer, bias_initializer: as
            ``keras.layers.Conv1DTranspose`` with padding "same" (no dilation, no output_padding).
            Input (batch, time, channels) -> (batch, time * strides, filters).

    Weights: ``kernel`` (T, channels, strides * filters) and ``bias`` (filters,); :meth:`set_transpose_weights`
    / :meth:`transpose_weights` convert from / to the ``Conv1DTranspose`` layout (kernel_size, filters, channels).

    Example:
        >>> import numpy as np
        >>> t = keras.layers.Conv1DTranspose(4, 16, strides=8, padding="same"); x = np.ones((1, 10, 2), "float32")
        >>> y = t(x); p = PhaseConv1DTranspose(4, 16, 8); _ = p(x); p.set_transpose_weights(*t.get_weights())
        >>> bool(np.allclose(p(x), y, atol=1e-5)), tuple(p(x).shape)
        (True, (1, 80, 4))

    Paper: the sub-pixel convolution of Shi et al. 2016 (arXiv:1609.05158), applied to a 1-D transposed conv.
    """

    def __init__(self, filters, kernel_size, strides=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size[0] if isinstance(kernel_size, (list, tuple)) else kernel_size)
        self.strides = int(strides[0] if isinstance(strides, (list, tuple)) else strides)
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.taps = -(-self.kernel_size // self.strides)
        self.crop = max(self.kernel_size - self.strides, 0) // 2
        self.input_spec = keras.layers.InputSpec(ndim=3)

    @classmethod
    def from_transpose(cls, layer):
        """A built :class:`PhaseConv1DTranspose` equal to a built ``keras.layers.Conv1DTranspose`` (weights copied)."""
        if (layer.padding != "same" or tuple(layer.dilation_rate) != (1,) or layer.output_padding is not None
                or layer.data_format != "channels_last"):
            raise ValueError(f"{layer.name}: only padding='same', channels_last, no dilation or output_padding.")
        new = cls(layer.filters, layer.kernel_size, layer.strides, activation=layer.activation,
                  use_bias=layer.use_bias, name=layer.name, dtype=layer.dtype_policy)
        new.build((None, None, int(layer.kernel.shape[-1])))
        new.set_transpose_weights(*layer.get_weights())
        return new

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.input_spec = keras.layers.InputSpec(ndim=3, axes={-1: channels})
        self.kernel = self.add_weight(name="kernel", shape=(self.taps, channels, self.strides * self.filters),
                                      initializer=self.kernel_initializer, trainable=True, dtype=self.dtype)
        self.bias = (self.add_weight(name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                                     trainable=True, dtype=self.dtype) if self.use_bias else None)
        self.built = True

    def set_transpose_weights(self, kernel, bias=None):
        """Load a ``Conv1DTranspose`` kernel (kernel_size, filters, channels) and bias (filters,)."""
        weights = [phase_kernel(kernel, self.strides)]
        if self.use_bias:
            weights.append(np.asarray(bias))
        self.set_weights(weights)

    def transpose_weights(self) -> list:
        """``[kernel, bias]`` in the ``Conv1DTranspose`` layout (kernel (kernel_size, filters, channels))."""
        weights = [transpose_kernel(ops.convert_to_numpy(self.kernel), self.kernel_size, self.strides)]
        if self.use_bias:
            weights.append(ops.convert_to_numpy(self.bias))
        return weights

    def call(self, inputs):
        taps, s = self.taps, self.strides
        x = inputs
        if taps > 1:
            x = ops.pad(x, [[0, 0], [taps - 1, taps - 1], [0, 0]])
        z = ops.conv(x, self.kernel, strides=1, padding="valid")  # (batch, L + T - 1, s * filters)
        if self.use_bias:
            z = z + ops.tile(self.bias, [s])  # the same bias for every phase (folds into the conv's bias)
        # static batch (1 in the export signatures) keeps the reshape's shape a constant for XNNPACK
        batch = inputs.shape[0] if inputs.shape[0] is not None else ops.shape(inputs)[0]
        z = ops.reshape(z, (batch, -1, self.filters))  # (batch, (L + T - 1) * s, filters)
        right = (taps - 1) * s - self.crop  # samples past the "same" output; constant slice bounds
        z = z[:, self.crop : -right] if right else z[:, self.crop :]
        return self.activation(z) if self.activation is not None else z

    def compute_output_shape(self, input_shape):
        t = input_shape[1]
        return (input_shape[0], None if t is None else t * self.strides, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


@register
class DilatedConv1D(keras.layers.Conv1D):
    """``keras.layers.Conv1D`` (stride 1, one group, channels_last) run as the native dilated conv op.

    On the TensorFlow backend ``keras.ops.conv`` goes through ``tf.nn.convolution``, which wraps a dilated
    conv in SpaceToBatchND / BatchToSpaceND; with a dynamic input length their paddings are computed at run
    time and the TFLite graph keeps them (not delegated to XNNPACK). This layer calls
    ``tf.nn.conv1d(..., dilations=d)`` instead: one dilated ``CONV_2D`` in TFLite, same weights, config and
    output as ``Conv1D`` (other backends use ``keras.ops.conv``).

    Args: as ``keras.layers.Conv1D``; input (batch, time, channels) -> (batch, time', filters).

    Example:
        >>> tuple(DilatedConv1D(4, 3, dilation_rate=2, padding="same")(keras.ops.ones((1, 10, 2))).shape)
        (1, 10, 4)
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if tuple(self.strides) != (1,) or self.groups != 1 or self.data_format != "channels_last":
            raise ValueError(f"{type(self).__name__}: only strides=1, groups=1, channels_last.")

    def call(self, inputs):
        if keras.backend.backend() != "tensorflow" or int(self.dilation_rate[0]) == 1:
            return super().call(inputs)
        import tensorflow as tf

        x, padding = inputs, self.padding
        if padding == "causal":
            x = ops.pad(x, self._compute_causal_padding())
            padding = "valid"
        kernel = ops.convert_to_tensor(self.kernel, dtype=x.dtype)
        y = tf.nn.conv1d(x, kernel, stride=1, padding=padding.upper(), dilations=int(self.dilation_rate[0]))
        if self.use_bias:
            y = y + self.bias
        return self.activation(y) if self.activation is not None else y


# ----------------------------------------------------------------------------------------------------------
# Factories and block builders (functional graph wiring)
# ----------------------------------------------------------------------------------------------------------


def conv1d(filters, kernel_size, *, weight_norm=True, spectral_norm=False, export_layers=False, name=None, **kwargs):
    """A ``Conv1D`` layer: weight-normalized, spectral-normalized or plain.

    ``export_layers=True`` (plain only) makes a dilated stride-1 conv a :class:`DilatedConv1D`.
    """
    if export_layers and (weight_norm or spectral_norm):
        raise ValueError("export_layers=True builds plain layers: pass weight_norm=False, spectral_norm=False.")
    if export_layers and _as_int(kwargs.get("dilation_rate", 1)) > 1 and _as_int(kwargs.get("strides", 1)) == 1 \
            and kwargs.get("groups", 1) == 1:
        return DilatedConv1D(filters, kernel_size, name=name, **kwargs)
    plain = GroupedConv1D if kwargs.get("groups", 1) != 1 else keras.layers.Conv1D
    if spectral_norm:
        return keras.layers.SpectralNormalization(
            plain(filters, kernel_size, name=f"{name}_conv" if name else None, **kwargs), name=name
        )
    cls = WeightNormConv1D if weight_norm else plain
    return cls(filters, kernel_size, name=name, **kwargs)


def conv1d_transpose(filters, kernel_size, *, weight_norm=True, export_layers=False, name=None, **kwargs):
    """A ``Conv1DTranspose`` layer, weight-normalized or plain.

    ``export_layers=True`` (plain only) gives the equivalent :class:`PhaseConv1DTranspose` when
    ``padding="same"`` (no dilation, no output_padding).
    """
    if export_layers and weight_norm:
        raise ValueError("export_layers=True builds plain layers: pass weight_norm=False.")
    if export_layers and kwargs.get("padding") == "same" and _as_int(kwargs.get("dilation_rate", 1)) == 1 \
            and kwargs.get("output_padding") is None:
        keep = {k: kwargs[k] for k in ("strides", "activation", "use_bias", "kernel_initializer", "bias_initializer")
                if k in kwargs}
        return PhaseConv1DTranspose(filters, kernel_size, name=name, **keep)
    cls = WeightNormConv1DTranspose if weight_norm else keras.layers.Conv1DTranspose
    return cls(filters, kernel_size, name=name, **kwargs)


def _as_int(value) -> int:
    return int(value[0]) if isinstance(value, (list, tuple)) else int(value)


def conv2d(filters, kernel_size, *, weight_norm=True, name=None, **kwargs):
    """A ``Conv2D`` layer, weight-normalized or plain."""
    cls = WeightNormConv2D if weight_norm else keras.layers.Conv2D
    return cls(filters, kernel_size, name=name, **kwargs)


# ----------------------------------------------------------------------------------------------------------
# Folding
# ----------------------------------------------------------------------------------------------------------

_WN_TYPES = (WeightNormConv1D, WeightNormConv1DTranspose, WeightNormConv2D)


def count_params_folded(model) -> int:
    """Parameters of ``model`` counted as plain convs: each weight-normalized kernel counts once (no ``g``)."""
    total = 0
    for layer in _walk(model):
        if isinstance(layer, _WN_TYPES):
            total += int(layer.v.numpy().size) + (layer.filters if layer.use_bias else 0)
        elif not getattr(layer, "_layers", None) or isinstance(layer, keras.layers.SpectralNormalization):
            total += sum(int(w.numpy().size) for w in layer.trainable_weights)
    return total


def _walk(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _walk(layer)
        else:
            yield layer


def _copy_weights(source, target):
    """Copy ``source``'s weights into the equivalent ``target`` (weight norm folded, kernel layout converted)."""
    if isinstance(source, _WN_TYPES):
        weights = source.folded_weights()
    elif isinstance(source, PhaseConv1DTranspose) and not isinstance(target, PhaseConv1DTranspose):
        weights = source.transpose_weights()
    else:
        weights = source.get_weights()
    if isinstance(target, PhaseConv1DTranspose) and not isinstance(source, PhaseConv1DTranspose):
        target.set_transpose_weights(*weights)
    else:
        target.set_weights(weights)


def fold_weight_norm(model, export_layers=False):
    """Rebuild ``model`` with ``weight_norm=False`` and copy folded kernels by layer name.

    Args:
        model: a functional model whose constructor takes ``weight_norm`` and whose weighted layers have
            names independent of ``weight_norm`` (all models in ``zoo`` built from this module).
        export_layers: build the export-friendly equivalents (:class:`PhaseConv1DTranspose` for "same"
            transposed convs, :class:`DilatedConv1D` for dilated convs); needs an ``export_layers``
            constructor argument. ``False`` gives plain Keras ``Conv1D`` / ``Conv1DTranspose`` layers.

    Returns:
        A new model of the same class with plain conv layers; outputs match to float32 round-off.

    Example:
        >>> # plain = fold_weight_norm(HiFiGANGenerator.from_preset("hifigan_tiny"), export_layers=True)
    """
    config = dict(model.get_config())
    if "weight_norm" not in config:
        raise ValueError(f"{type(model).__name__} has no 'weight_norm' constructor argument to fold.")
    config["weight_norm"] = False
    if "export_layers" in config:
        config["export_layers"] = bool(export_layers)
    elif export_layers:
        raise ValueError(f"{type(model).__name__} has no 'export_layers' constructor argument.")
    plain = type(model).from_config(config)
    for layer in model.layers:
        if not layer.weights:
            continue
        _copy_weights(layer, plain.get_layer(layer.name))
    return plain


def discriminator_conv_stack(x, specs, *, slope=0.1, weight_norm=True, spectral_norm=False,
                             reflect_first=False, symmetric_padding=False, name="d"):
    """Wire a strided 1-D conv discriminator; return ``[feature_1, ..., feature_k, score]``.

    Args:
        x: audio tensor (batch, time, 1).
        specs: ``[(filters, kernel, stride, groups), ...]``; every layer but the last is followed by a
            LeakyReLU and yields a feature map; the last one yields the score (batch, frames, filters).
            ``groups`` is reduced to the largest divisor valid for the channel counts.
        spectral_norm: use spectral instead of weight normalization.
        reflect_first: reflection-pad the first conv (MelGAN) instead of zero "same" padding.
        symmetric_padding: zero-pad ``(kernel - 1) // 2`` steps on both sides and convolve "valid" (as
            PyTorch's ``Conv1d(padding=(kernel - 1) // 2)``) instead of Keras "same", which for a strided conv
            may put the odd zero on the right only.

    Example:
        >>> x = keras.Input((None, 1)); outs = discriminator_conv_stack(x, [(4, 15, 1, 1), (1, 3, 1, 1)])
        >>> [t.shape for t in outs]
        [(None, None, 4), (None, None, 1)]
    """
    outputs = []
    in_ch = x.shape[-1]
    for i, (filters, kernel, stride, groups) in enumerate(specs):
        groups = math.gcd(int(groups), math.gcd(int(in_ch), int(filters)))
        padding = "same"
        if i == 0 and reflect_first:
            x = ReflectionPad1D((kernel - 1) // 2, name=f"{name}_pad{i}")(x)
            padding = "valid"
        elif symmetric_padding:
            x = keras.layers.ZeroPadding1D((kernel - 1) // 2, name=f"{name}_pad{i}")(x)
            padding = "valid"
        layer = conv1d(filters, kernel, strides=stride, groups=groups, padding=padding, weight_norm=weight_norm,
                       spectral_norm=spectral_norm, name=f"{name}_conv{i}")
        x = layer(x)
        if i < len(specs) - 1:
            x = keras.layers.LeakyReLU(slope, name=f"{name}_act{i}")(x)
        outputs.append(x)
        in_ch = filters
    return outputs
