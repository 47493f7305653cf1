"""Weight-normalized convolutions, reflection padding and the residual blocks shared by GAN vocoders.

Weight normalization (Salimans & Kingma 2016, "Weight Normalization: A Simple Reparameterization to
Accelerate Training of Deep Neural Networks") writes each output channel's kernel as
``w = g * v / ||v||``; the layers below store ``v`` and ``g`` and compute ``w`` on the fly.
:func:`fold_weight_norm` turns a model built with ``weight_norm=True`` into the same model built from
plain ``Conv1D`` / ``Conv1DTranspose`` / ``Conv2D`` layers holding the folded kernels (for export).

The block builders (:func:`hifigan_resblock1`, :func:`hifigan_resblock2`, :func:`melgan_resblock`) wire
tensors of a functional graph; they create only plain Keras layers and the layers of this module, with
explicit names, so models built from them save with ``safe_mode=True`` and fold by layer name.

Example:
    >>> import keras, numpy as np
    >>> conv = WeightNormConv1D(8, 3, padding="same")
    >>> tuple(conv(np.zeros((1, 16, 4), "float32")).shape)
    (1, 16, 8)
"""

from __future__ import annotations

import math

import keras
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


@register
class WeightNormConv1D(_WeightNormMixin, keras.layers.Conv1D):
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
class WeightNormConv2D(_WeightNormMixin, keras.layers.Conv2D):
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
    """Reflection padding of the time axis.

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
        return ops.pad(inputs, [[0, 0], list(self.padding), [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        t = input_shape[1]
        return (input_shape[0], None if t is None else t + sum(self.padding), input_shape[2])

    def get_config(self):
        return {**super().get_config(), "padding": list(self.padding)}


# ----------------------------------------------------------------------------------------------------------
# Factories and block builders (functional graph wiring)
# ----------------------------------------------------------------------------------------------------------


def conv1d(filters, kernel_size, *, weight_norm=True, spectral_norm=False, name=None, **kwargs):
    """A ``Conv1D`` layer: weight-normalized, spectral-normalized or plain."""
    if spectral_norm:
        return keras.layers.SpectralNormalization(
            keras.layers.Conv1D(filters, kernel_size, name=f"{name}_conv" if name else None, **kwargs), name=name
        )
    cls = WeightNormConv1D if weight_norm else keras.layers.Conv1D
    return cls(filters, kernel_size, name=name, **kwargs)


def conv1d_transpose(filters, kernel_size, *, weight_norm=True, name=None, **kwargs):
    """A ``Conv1DTranspose`` layer, weight-normalized or plain."""
    cls = WeightNormConv1DTranspose if weight_norm else keras.layers.Conv1DTranspose
    return cls(filters, kernel_size, name=name, **kwargs)


def conv2d(filters, kernel_size, *, weight_norm=True, name=None, **kwargs):
    """A ``Conv2D`` layer, weight-normalized or plain."""
    cls = WeightNormConv2D if weight_norm else keras.layers.Conv2D
    return cls(filters, kernel_size, name=name, **kwargs)


def hifigan_resblock1(x, channels, kernel_size, dilations=(1, 3, 5), *, slope=0.1, weight_norm=True, name="rb"):
    """HiFi-GAN ResBlock1: per dilation d, ``x += conv_1(lrelu(conv_d(lrelu(x))))`` (Kong et al. 2020).

    Args:
        x: tensor (batch, time, channels).
        channels, kernel_size: width and (odd) kernel of every conv; dilations: one pair of convs each.

    Example:
        >>> x = keras.Input((None, 8)); tuple(hifigan_resblock1(x, 8, 3).shape)
        (None, None, 8)
    """
    for j, d in enumerate(dilations):
        h = keras.layers.LeakyReLU(slope, name=f"{name}_act{j}a")(x)
        h = conv1d(channels, kernel_size, dilation_rate=d, padding="same", weight_norm=weight_norm,
                   name=f"{name}_conv{j}a")(h)
        h = keras.layers.LeakyReLU(slope, name=f"{name}_act{j}b")(h)
        h = conv1d(channels, kernel_size, padding="same", weight_norm=weight_norm, name=f"{name}_conv{j}b")(h)
        x = keras.layers.Add(name=f"{name}_add{j}")([x, h])
    return x


def hifigan_resblock2(x, channels, kernel_size, dilations=(1, 3), *, slope=0.1, weight_norm=True, name="rb"):
    """HiFi-GAN ResBlock2: per dilation d, ``x += conv_d(lrelu(x))`` (Kong et al. 2020, V3).

    Args:
        x: tensor (batch, time, channels).

    Example:
        >>> x = keras.Input((None, 8)); tuple(hifigan_resblock2(x, 8, 3).shape)
        (None, None, 8)
    """
    for j, d in enumerate(dilations):
        h = keras.layers.LeakyReLU(slope, name=f"{name}_act{j}")(x)
        h = conv1d(channels, kernel_size, dilation_rate=d, padding="same", weight_norm=weight_norm,
                   name=f"{name}_conv{j}")(h)
        x = keras.layers.Add(name=f"{name}_add{j}")([x, h])
    return x


def melgan_resblock(x, channels, dilation, *, kernel_size=3, slope=0.2, weight_norm=True, name="rb"):
    """MelGAN residual block: ``conv1x1(x) + conv1x1(lrelu(conv_k,d(reflect_pad(lrelu(x)))))`` (Kumar et al. 2019).

    Args:
        x: tensor (batch, time, channels); dilation of the kernel-3 conv.

    Example:
        >>> x = keras.Input((None, 8)); tuple(melgan_resblock(x, 8, 3).shape)
        (None, None, 8)
    """
    pad = dilation * (kernel_size - 1) // 2
    h = keras.layers.LeakyReLU(slope, name=f"{name}_act0")(x)
    h = ReflectionPad1D(pad, name=f"{name}_pad")(h)
    h = conv1d(channels, kernel_size, dilation_rate=dilation, weight_norm=weight_norm, name=f"{name}_conv0")(h)
    h = keras.layers.LeakyReLU(slope, name=f"{name}_act1")(h)
    h = conv1d(channels, 1, weight_norm=weight_norm, name=f"{name}_conv1")(h)
    s = conv1d(channels, 1, weight_norm=weight_norm, name=f"{name}_shortcut")(x)
    return keras.layers.Add(name=f"{name}_add")([s, h])


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


def fold_weight_norm(model):
    """Rebuild ``model`` with ``weight_norm=False`` and copy folded kernels by layer name.

    Args:
        model: a functional model whose constructor takes ``weight_norm`` and whose weighted layers have
            names independent of ``weight_norm`` (all models in ``zoo`` built from this module).

    Returns:
        A new model of the same class with plain conv layers; outputs match to float32 round-off.

    Example:
        >>> # plain = fold_weight_norm(HiFiGANGenerator.from_preset("hifigan_tiny"))
    """
    config = dict(model.get_config())
    if "weight_norm" not in config:
        raise ValueError(f"{type(model).__name__} has no 'weight_norm' constructor argument to fold.")
    config["weight_norm"] = False
    plain = type(model).from_config(config)
    for layer in model.layers:
        if not layer.weights:
            continue
        target = plain.get_layer(layer.name)
        if isinstance(layer, _WN_TYPES):
            target.set_weights(layer.folded_weights())
        else:
            target.set_weights(layer.get_weights())
    return plain


class WeightNormModelMixin:
    """Adds ``remove_weight_norm()`` and vocoder export endpoints to a functional generator.

    The model must have the constructor arguments ``weight_norm`` and ``n_mels`` and an attribute
    ``hop_length`` (audio samples per mel frame).
    """

    def remove_weight_norm(self):
        """An equivalent model of the same class whose convs are plain Keras convs (see :func:`fold_weight_norm`)."""
        if not self.get_config().get("weight_norm", False):
            return self
        return fold_weight_norm(self)

    def count_params_folded(self) -> int:
        """Parameter count as plain convolutions (weight-norm ``g`` vectors not counted)."""
        return count_params_folded(self)

    def export_endpoints(self, chunk_frames=32, context_frames=8):
        """``[(name, function, input_specs)]`` for export, computed on the weight-norm-folded model.

        - ``"synthesize"``: mel (1, None, n_mels) -> audio (1, frames * hop_length, 1).
        - ``"chunk"``: mel (1, chunk_frames + 2 * context_frames, n_mels) -> audio of the central
          ``chunk_frames`` frames, (1, chunk_frames * hop_length, 1). Stream by sliding the window by
          ``chunk_frames`` frames and padding the utterance with ``context_frames`` frames at both ends.

        Example:
            >>> # [name for name, fn, specs in model.export_endpoints()] == ["synthesize", "chunk"]
        """
        plain = self.remove_weight_norm()
        n_mels, hop = self.n_mels, self.hop_length
        start, stop = context_frames * hop, (context_frames + chunk_frames) * hop

        def synthesize(mel):
            return plain(mel, training=False)

        def chunk(mel):
            return plain(mel, training=False)[:, start:stop, :]

        return [
            ("synthesize", synthesize, [keras.InputSpec(shape=(1, None, n_mels), dtype="float32", name="mel")]),
            (
                "chunk",
                chunk,
                [keras.InputSpec(shape=(1, chunk_frames + 2 * context_frames, n_mels), dtype="float32", name="mel")],
            ),
        ]


def discriminator_conv_stack(x, specs, *, slope=0.1, weight_norm=True, spectral_norm=False,
                             reflect_first=False, name="d"):
    """Wire a strided 1-D conv discriminator; return ``[feature_1, ..., feature_k, score]``.

    Args:
        x: audio tensor (batch, time, 1).
        specs: ``[(filters, kernel, stride, groups), ...]``; every layer but the last is followed by a
            LeakyReLU and yields a feature map; the last one yields the score (batch, frames, filters).
            ``groups`` is reduced to the largest divisor valid for the channel counts.
        spectral_norm: use spectral instead of weight normalization.
        reflect_first: reflection-pad the first conv (MelGAN) instead of zero "same" padding.

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
        layer = conv1d(filters, kernel, strides=stride, groups=groups, padding=padding, weight_norm=weight_norm,
                       spectral_norm=spectral_norm, name=f"{name}_conv{i}")
        x = layer(x)
        if i < len(specs) - 1:
            x = keras.layers.LeakyReLU(slope, name=f"{name}_act{i}")(x)
        outputs.append(x)
        in_ch = filters
    return outputs
