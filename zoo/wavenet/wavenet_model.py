"""WaveNet: a causal stack of dilated gated residual blocks over mu-law class ids, with a 256-way softmax or a
discretized mixture of logistics output, global and local conditioning, teacher-forced training.

Papers: van den Oord et al. 2016, "WaveNet: A Generative Model for Raw Audio" (arXiv:1609.03499);
Salimans et al. 2017, "PixelCNN++" (arXiv:1701.05517) and van den Oord et al. 2018, "Parallel WaveNet"
(arXiv:1711.10433) for the discretized mixture of logistics.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from audiogen_tf.errors import ConfigError
from audiogen_tf.features import CarriesFeatures, carried_mel_config
from audiogen_tf.layers.causal import (
    CausalConv1D,
    ClassInputEncoding,
    GatedResidualBlock,
    mu_law_decode_ops,
    mu_law_encode_ops,
    receptive_field,
    upsample_local_conditioning,
)
from audiogen_tf.registry import PresetMixin
from audiogen_tf.serialization import register


# ------------------------------------------------------------------------------- mixture of logistics
def _mol_split(params, num_mixtures, log_scale_min):
    m = num_mixtures
    logit_probs = params[..., :m]
    means = params[..., m : 2 * m]
    log_scales = ops.maximum(params[..., 2 * m : 3 * m], log_scale_min)
    return logit_probs, means, log_scales


def mol_log_prob(ids, params, num_classes, num_mixtures, log_scale_min=-7.0):
    """Log-probability (nats) of class ids under a discretized mixture of logistics over ``num_classes`` bins in [-1, 1].

    Bin ``i`` has centre ``2 i / (Q - 1) - 1`` and half-width ``1 / (Q - 1)``; the first and last bins take the
    whole tails (PixelCNN++ eq. 2).

    Args:
        ids: int class ids (batch, time).
        params: (batch, time, 3 * num_mixtures): mixture logits, means, log scales.
        num_classes: ``Q``.

    Returns:
        (batch, time) log-probabilities.

    Example:
        >>> p = np.zeros((1, 1, 3), "float32")
        >>> float(mol_log_prob(np.array([[128]]), p, 256, 1)[0, 0]) < 0
        True
    """
    logit_probs, means, log_scales = _mol_split(ops.cast(params, "float32"), num_mixtures, log_scale_min)
    ids = ops.cast(ids, "int32")
    x = ops.expand_dims(2.0 * ops.cast(ids, "float32") / float(num_classes - 1) - 1.0, -1)
    half = 1.0 / float(num_classes - 1)
    centered = x - means
    inv_s = ops.exp(-log_scales)
    plus_in = inv_s * (centered + half)
    min_in = inv_s * (centered - half)
    log_cdf_plus = plus_in - ops.softplus(plus_in)  # log sigmoid(plus_in): lowest bin takes (-inf, edge]
    log_one_minus_cdf_min = -ops.softplus(min_in)  # log(1 - sigmoid(min_in)): highest bin takes [edge, inf)
    cdf_delta = ops.sigmoid(plus_in) - ops.sigmoid(min_in)
    mid_in = inv_s * centered
    log_pdf_mid = mid_in - log_scales - 2.0 * ops.softplus(mid_in) + math.log(2.0 * half)
    log_delta = ops.where(cdf_delta > 1e-5, ops.log(ops.maximum(cdf_delta, 1e-12)), log_pdf_mid)
    low = ops.expand_dims(ids <= 0, -1)
    high = ops.expand_dims(ids >= num_classes - 1, -1)
    log_probs = ops.where(low, log_cdf_plus, ops.where(high, log_one_minus_cdf_min, log_delta))
    log_probs = log_probs + ops.log_softmax(logit_probs, axis=-1)
    return ops.logsumexp(log_probs, axis=-1)


def mol_sample(params, noise, num_classes, num_mixtures, log_scale_min=-7.0, temperature=1.0):
    """Sample class ids from mixture-of-logistics parameters with given uniform noise.

    Args:
        params: (batch, 3 * num_mixtures).
        noise: uniform in (0, 1), (batch, num_mixtures + 1): Gumbel noise for the component, then one
            uniform for the logistic.
        temperature: scales the component logits (divided) and the logistic scale (multiplied).

    Returns:
        int32 ids (batch,).
    """
    logit_probs, means, log_scales = _mol_split(params, num_mixtures, log_scale_min)
    t = ops.maximum(ops.cast(temperature, "float32"), 1e-6)
    gumbel = -ops.log(-ops.log(noise[..., :num_mixtures]))
    k = ops.argmax(logit_probs / t + gumbel, axis=-1)
    sel = ops.one_hot(k, num_mixtures, dtype=params.dtype)
    mean = ops.sum(means * sel, axis=-1)
    scale = ops.exp(ops.sum(log_scales * sel, axis=-1))
    u = noise[..., num_mixtures]
    x = ops.clip(mean + t * scale * (ops.log(u) - ops.log(1.0 - u)), -1.0, 1.0)
    return ops.cast(ops.floor((x + 1.0) / 2.0 * (num_classes - 1) + 0.5), "int32")


def softmax_sample(logits, noise, temperature=1.0):
    """Gumbel-max sampling: argmax(logits / temperature - log(-log(noise))) -> int32 ids (batch,)."""
    t = ops.maximum(ops.cast(temperature, "float32"), 1e-6)
    return ops.cast(ops.argmax(logits / t - ops.log(-ops.log(noise)), axis=-1), "int32")


@register
class DiscretizedLogisticMixtureLoss(keras.losses.Loss):
    """Negative log-likelihood (nats per sample) of class ids under a discretized mixture of logistics.

    Args:
        num_classes: quantization bins ``Q`` over [-1, 1].
        num_mixtures: mixture components.
        log_scale_min: floor of the log scales.

    Example:
        >>> loss = DiscretizedLogisticMixtureLoss(256, 2)
        >>> float(loss(np.array([[3, 200]]), np.zeros((1, 2, 6), "float32"))) > 0
        True

    Paper: Salimans et al. 2017, "PixelCNN++" (arXiv:1701.05517).
    """

    def __init__(self, num_classes=256, num_mixtures=10, log_scale_min=-7.0, name="mol_nll", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes = int(num_classes)
        self.num_mixtures = int(num_mixtures)
        self.log_scale_min = float(log_scale_min)

    def call(self, y_true, y_pred):
        return -mol_log_prob(y_true, y_pred, self.num_classes, self.num_mixtures, self.log_scale_min)

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes, num_mixtures=self.num_mixtures, log_scale_min=self.log_scale_min)
        return config


# ------------------------------------------------------------------------------- the network
def _wire(layers: dict, ids, local=None, global_id=None, mask=None, last_only=False):
    """The WaveNet forward pass over given layers: ids (batch, time) -> outputs (batch, time, out_dim).

    ``local`` is the upsampled conditioning (batch, time, local_channels); ``mask`` (batch, time, 1) zeroes the
    inputs of every causal conv at positions before the start of the sequence (used by the naive generator
    to run a fixed receptive-field window exactly like the zero padding of a shorter sequence); ``last_only``
    applies the output head to the last time step only (batch, 1, out_dim).
    """
    h = layers["encoder"](ids)
    if mask is not None:
        h = h * mask
    h = layers["causal_conv"](h)
    g = layers["global_embedding"](global_id) if global_id is not None else None
    skips = []
    extra = ([g] if g is not None else []) + ([local] if local is not None else [])
    for block in layers["blocks"]:
        block_in = [h] + extra if extra else h
        h, s = block(block_in) if mask is None else block(block_in, mask_input=mask)
        skips.append(s)
    total = layers["skip_sum"](skips) if len(skips) > 1 else skips[0]
    if last_only:
        total = total[:, -1:]
    y = layers["head_act1"](total)
    y = layers["head_conv1"](y)
    y = layers["head_act2"](y)
    return layers["head_out"](y)


@register
class WaveNet(CarriesFeatures, PresetMixin, keras.Model):
    """WaveNet: mu-law class ids (batch, time) -> next-sample logits (batch, time, Q) or MoL parameters (batch, time, 3M).

    Output ``t`` is the distribution of sample ``t`` given inputs ``0..t``; train with inputs shifted right by
    one (:func:`teacher_forcing_pair`). Inputs are a tensor of ids, or a dict with ``"audio_ids"``,
    ``"global_id"`` (batch,) int32 when ``global_classes > 0`` and ``"mel"`` (batch, frames, local_channels)
    when ``local_channels > 0`` (frames * hop_length == time).

    Args:
        quantization_channels: number of classes ``Q`` (256 = 8-bit mu-law).
        residual_channels, dilation_channels, skip_channels: widths of the residual stream, gate and skips.
        end_channels: width of the 1x1 conv after the skip sum (0: ``skip_channels``).
        kernel_size: taps of the dilated convs; ``initial_kernel_size`` of the first causal conv.
        layers_per_cycle: layers of one dilation cycle ``1, 2, ..., 2**(layers_per_cycle - 1)``.
        num_cycles: cycles stacked.
        input_type: ``"one_hot"``, ``"embedding"`` (size ``embedding_dim``) or ``"scalar"``.
        output: ``"softmax"`` (logits over ``Q``) or ``"mol"`` (``num_mixtures`` logistics, PixelCNN++).
        log_scale_min: floor of the MoL log scales.
        global_classes, global_channels: speaker / class embedding added in every gate (0: none).
        local_channels: channels of the local conditioning frames (e.g. n_mels; 0: none).
        mel_config: of a mel-conditioned model (vocoder mode): every ``MelConfig`` field of its conditioning
            (``n_mels = local_channels``, ``hop_length = prod(upsample_factors)``), saved with it.
        upsample_factors, upsample_mode: frames -> samples (product = hop length; "transposed" or "repeat").

    Example:
        >>> import numpy as np
        >>> m = WaveNet.from_preset("wavenet_tiny")
        >>> tuple(m(np.zeros((2, 100), "int32")).shape)
        (2, 100, 256)
        >>> ids = m.generate(16, batch_size=1, seed=0)    # (1, 16) int32

    Paper: van den Oord et al. 2016, "WaveNet: A Generative Model for Raw Audio" (arXiv:1609.03499).
    """

    def __init__(
        self,
        quantization_channels=256,
        residual_channels=32,
        dilation_channels=32,
        skip_channels=64,
        end_channels=0,
        kernel_size=2,
        initial_kernel_size=2,
        layers_per_cycle=10,
        num_cycles=2,
        input_type="one_hot",
        embedding_dim=32,
        output="softmax",
        num_mixtures=10,
        log_scale_min=-7.0,
        global_classes=0,
        global_channels=16,
        local_channels=0,
        upsample_factors=(16, 16),
        upsample_mode="transposed",
        mel_config=None,
        name="wavenet",
        **kwargs,
    ):
        if output not in ("softmax", "mol"):
            raise ValueError(f"output must be 'softmax' or 'mol', got {output!r}")
        quantization_channels = int(quantization_channels)
        end_channels = int(end_channels) or int(skip_channels)
        upsample_factors = [int(f) for f in upsample_factors]
        if mel_config is not None and not local_channels:
            raise ConfigError("WaveNet: mel_config is for a mel-conditioned model (local_channels > 0)")
        mel_config, _ = carried_mel_config(mel_config, local_channels or None, math.prod(upsample_factors), "WaveNet")
        dilations = [2**i for i in range(int(layers_per_cycle))] * int(num_cycles)
        global_channels_arg = int(global_channels)
        global_channels = global_channels_arg if global_classes else 0
        out_dim = quantization_channels if output == "softmax" else 3 * int(num_mixtures)

        encoder = ClassInputEncoding(quantization_channels, input_type, embedding_dim, name="input_encoding")
        layers = {
            "encoder": encoder,
            "causal_conv": CausalConv1D(residual_channels, initial_kernel_size, name="causal_conv"),
            "global_embedding": (
                keras.layers.Embedding(int(global_classes), global_channels, name="global_embedding")
                if global_classes else None
            ),
            "blocks": [
                GatedResidualBlock(
                    residual_channels, dilation_channels, skip_channels, kernel_size, d,
                    global_channels=global_channels, local_channels=int(local_channels),
                    residual=(i < len(dilations) - 1), name=f"block{i}",
                )
                for i, d in enumerate(dilations)
            ],
            "skip_sum": keras.layers.Add(name="skip_sum"),
            "head_act1": keras.layers.ReLU(name="head_relu1"),
            "head_conv1": keras.layers.Dense(end_channels, name="head_conv1"),
            "head_act2": keras.layers.ReLU(name="head_relu2"),
            "head_out": keras.layers.Dense(out_dim, name="logits" if output == "softmax" else "mol_params", dtype="float32"),
        }

        ids = keras.Input((None,), dtype="int32", name="audio_ids")
        inputs = {"audio_ids": ids}
        gid = local = None
        if global_classes:
            gid = inputs["global_id"] = keras.Input((), dtype="int32", name="global_id")
        if local_channels:
            mel = inputs["mel"] = keras.Input((None, int(local_channels)), name="mel")
            local = upsample_local_conditioning(mel, upsample_factors, upsample_mode, name="upsample")
        outputs = _wire(layers, ids, local, gid)
        super().__init__(inputs=inputs if len(inputs) > 1 else ids, outputs=outputs, name=name, **kwargs)

        self.quantization_channels = quantization_channels
        self.residual_channels = int(residual_channels)
        self.dilation_channels = int(dilation_channels)
        self.skip_channels = int(skip_channels)
        self.end_channels = end_channels
        self.kernel_size = int(kernel_size)
        self.initial_kernel_size = int(initial_kernel_size)
        self.layers_per_cycle = int(layers_per_cycle)
        self.num_cycles = int(num_cycles)
        self.input_type = input_type
        self.embedding_dim = int(embedding_dim)
        self.output_type = output
        self.num_mixtures = int(num_mixtures)
        self.log_scale_min = float(log_scale_min)
        self.global_classes = int(global_classes)
        self.global_channels = global_channels
        self._global_channels_arg = global_channels_arg
        self.local_channels = int(local_channels)
        self.upsample_factors = upsample_factors
        self.upsample_mode = upsample_mode
        self.mel_config = mel_config
        self.dilations = dilations
        self.out_dim = out_dim

    def get_config(self):
        return {
            "quantization_channels": self.quantization_channels,
            "residual_channels": self.residual_channels,
            "dilation_channels": self.dilation_channels,
            "skip_channels": self.skip_channels,
            "end_channels": self.end_channels,
            "kernel_size": self.kernel_size,
            "initial_kernel_size": self.initial_kernel_size,
            "layers_per_cycle": self.layers_per_cycle,
            "num_cycles": self.num_cycles,
            "input_type": self.input_type,
            "embedding_dim": self.embedding_dim,
            "output": self.output_type,
            "num_mixtures": self.num_mixtures,
            "log_scale_min": self.log_scale_min,
            "global_classes": self.global_classes,
            "global_channels": self._global_channels_arg,
            "local_channels": self.local_channels,
            "upsample_factors": list(self.upsample_factors),
            "upsample_mode": self.upsample_mode,
            "mel_config": self.mel_config,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # ---------------------------------------------------------------- structure
    @property
    def receptive_field(self) -> int:
        """Samples one output sees: ``(initial_kernel_size - 1) + (kernel_size - 1) * sum(dilations) + 1``."""
        return receptive_field(self.dilations, self.kernel_size, self.initial_kernel_size)

    @property
    def hop_length(self) -> int:
        """Samples per local-conditioning frame (product of ``upsample_factors``)."""
        return int(np.prod(self.upsample_factors))

    def network_layers(self) -> dict:
        """The layers of the forward pass by role (encoder, causal_conv, global_embedding, blocks, head...)."""
        blocks = [self.get_layer(f"block{i}") for i in range(len(self.dilations))]
        return {
            "encoder": self.get_layer("input_encoding"),
            "causal_conv": self.get_layer("causal_conv"),
            "global_embedding": self.get_layer("global_embedding") if self.global_classes else None,
            "blocks": blocks,
            "skip_sum": self.get_layer("skip_sum") if len(blocks) > 1 else None,
            "head_act1": self.get_layer("head_relu1"),
            "head_conv1": self.get_layer("head_conv1"),
            "head_act2": self.get_layer("head_relu2"),
            "head_out": self.get_layer("logits" if self.output_type == "softmax" else "mol_params"),
        }

    def forward_upsampled(self, ids, local=None, global_id=None, mask=None, last_only=False):
        """The forward pass with already upsampled local conditioning (batch, time, local_channels)."""
        return _wire(self.network_layers(), ids, local, global_id, mask, last_only)

    def upsample(self, mel):
        """Local conditioning frames (batch, frames, local_channels) -> per sample (batch, frames * hop, local_channels)."""
        x = ops.convert_to_tensor(mel, "float32")
        for i in range(len(self.upsample_factors)):
            x = self.get_layer(f"upsample{i}")(x)
            if self.upsample_mode == "transposed" and i < len(self.upsample_factors) - 1:
                x = self.get_layer(f"upsample{i}_act")(x)
        return x

    # ---------------------------------------------------------------- training
    def default_loss(self):
        """Sparse categorical cross-entropy on logits (softmax) or the discretized-logistic NLL (mol), in nats."""
        if self.output_type == "softmax":
            return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        return DiscretizedLogisticMixtureLoss(self.quantization_channels, self.num_mixtures, self.log_scale_min)

    def log_prob(self, targets, outputs):
        """Log-probabilities (nats) of target ids (batch, time) under model outputs (batch, time, out_dim)."""
        if self.output_type == "softmax":
            logp = ops.log_softmax(ops.cast(outputs, "float32"), axis=-1)
            return ops.take_along_axis(logp, ops.expand_dims(ops.cast(targets, "int32"), -1), axis=-1)[..., 0]
        return mol_log_prob(targets, outputs, self.quantization_channels, self.num_mixtures, self.log_scale_min)

    def ids_to_audio(self, ids):
        """Class ids -> waveform in [-1, 1] (mu-law decoding)."""
        return mu_law_decode_ops(ids, self.quantization_channels)

    # ---------------------------------------------------------------- generation (see wavenet_generation)
    def initial_queues(self, batch_size=1):
        """Zero activation queues for :meth:`step`: ``[(batch, k0 - 1, enc_dim), (batch, d_i (k - 1), residual)...]``."""
        from zoo.wavenet import wavenet_generation

        return wavenet_generation.initial_queues(self, batch_size)

    def step(self, x_t, queues, global_id=None, local_t=None):
        """One sample with explicit state: x_t (batch,) int32 ids -> (outputs_t (batch, out_dim), new_queues)."""
        from zoo.wavenet import wavenet_generation

        return wavenet_generation.step(self, x_t, queues, global_id, local_t)

    def generate(self, num_samples=None, batch_size=1, global_id=None, mel=None, temperature=1.0, seed=0,
                 noise=None, method="cached", return_outputs=False):
        """Sample ids (batch, num_samples) in one ``tf.function`` (see :func:`zoo.wavenet.wavenet_generation.generate`)."""
        from zoo.wavenet import wavenet_generation

        return wavenet_generation.generate(
            self, num_samples, batch_size=batch_size, global_id=global_id, mel=mel, temperature=temperature,
            seed=seed, noise=noise, method=method, return_outputs=return_outputs,
        )

    def export_endpoints(self, batch_size=1, mel_frames=None):
        """``[(name, function, input_specs)]``: ``"step"`` (fixed shapes) and, with local conditioning, ``"upsample"``."""
        from zoo.wavenet import wavenet_generation

        return wavenet_generation.export_endpoints(self, batch_size, mel_frames)


# ------------------------------------------------------------------------------- data
def teacher_forcing_pair(audio, quantization_channels=256):
    """Waveform (batch, time) in [-1, 1] -> (inputs, targets) int32 ids (batch, time).

    ``targets`` are the mu-law ids of the audio; ``inputs`` the same shifted right by one with the silence id
    ``Q // 2`` first, so output ``t`` predicts sample ``t`` from samples ``< t``.

    Example:
        >>> x, y = teacher_forcing_pair(np.zeros((1, 4), "float32"))
        >>> np.asarray(x).tolist(), np.asarray(y).tolist()
        ([[128, 128, 128, 128]], [[128, 128, 128, 128]])
    """
    targets = mu_law_encode_ops(audio, quantization_channels)
    first = ops.full_like(targets[:, :1], quantization_channels // 2)
    inputs = ops.concatenate([first, targets[:, :-1]], axis=1)
    return inputs, targets


def wavenet_dataset(source, segment_length, batch_size, sample_rate, quantization_channels=256, mel_config=None,
                    global_key=None, **segment_kwargs):
    """Teacher-forcing batches ``(inputs, targets)`` from audio files (via :func:`audiogen_tf.data.segment_dataset`).

    Args:
        source: manifest, folder, glob or entries.
        segment_length: samples per example (a multiple of the hop length with ``mel_config``).
        batch_size: examples per batch.
        sample_rate: target rate.
        quantization_channels: mu-law classes.
        mel_config: local conditioning frames ``"mel"`` (batch, segment_length // hop, n_mels) when given.
        global_key: manifest column used as ``"global_id"`` (batch,) int32 when given.
        **segment_kwargs: passed on (``shuffle``, ``seed``, ``repeat``, ``cache``...).

    Returns:
        ``tf.data.Dataset`` of ``(ids, targets)`` or ``({"audio_ids", "mel", "global_id"}, targets)``.

    Example:
        >>> ds = wavenet_dataset("notes/manifest.csv", 4000, 8, 8000)   # doctest: +SKIP
    """
    from audiogen_tf.data import segment_dataset

    ds = segment_dataset(source, segment_length, batch_size, sample_rate=sample_rate, mel_config=mel_config,
                         label_key=global_key, **segment_kwargs)

    def to_pair(element):
        x, y = teacher_forcing_pair(element["audio"], quantization_channels)
        if mel_config is None and global_key is None:
            return x, y
        inputs = {"audio_ids": x}
        if mel_config is not None:
            inputs["mel"] = element["mel"]
        if global_key is not None:
            inputs["global_id"] = element["label"]
        return inputs, y

    import tensorflow as tf

    return ds.map(to_pair, num_parallel_calls=tf.data.AUTOTUNE)
