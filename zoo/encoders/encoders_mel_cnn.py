"""Mel-spectrogram CNN audio encoder: raw audio -> log-mel -> VGG-style conv blocks -> embedding -> class logits.

Follows the VGGish / PANNs CNN recipe (Hershey et al. 2017, "CNN Architectures for Large-Scale Audio
Classification"; Kong et al. 2020, "PANNs: Large-Scale Pretrained Audio Neural Networks for Audio Pattern
Recognition"): a batch-normalised log-mel input, blocks of two 3x3 conv-BN-ReLU layers with 2x2 pooling,
global pooling over time and frequency, a linear embedding and a classification head. The embedding is the
feature space in which :mod:`audiogen_tf.judge` measures Fréchet distances.
"""

from __future__ import annotations

import keras
import numpy as np

from audiogen_tf.layers.conv_blocks import conv2d_block
from audiogen_tf.layers.spectral import MelSpectrogram
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register


class EncoderMixin:
    """``embed`` / ``classify`` helpers shared by the encoders (an ``embedding_model`` sharing the layers)."""

    @property
    def embedding_model(self) -> keras.Model:
        """A functional model audio (batch, time) -> embedding (batch, embedding_dim) sharing this model's layers."""
        cached = self.__dict__.get("_embedding_model_cache")
        if cached is None:
            cached = keras.Model(self.inputs, self.get_layer("embedding").output, name=f"{self.name}_embedding")
            object.__setattr__(self, "_embedding_model_cache", cached)  # not tracked: no duplicate weights
        return cached

    @staticmethod
    def _as_batch(audio):
        x = np.asarray(audio, np.float32)
        if x.ndim == 3 and x.shape[-1] == 1:
            x = x[..., 0]
        return x[None] if x.ndim == 1 else x

    def embed(self, audio, batch_size: int = 32):
        """Embeddings (n, embedding_dim) float32 of audio (n, time) or (n, time, 1), computed in batches."""
        x = self._as_batch(audio)
        return np.asarray(self.embedding_model.predict(x, batch_size=batch_size, verbose=0), np.float32)

    def classify(self, audio, batch_size: int = 32):
        """Class logits (n, num_classes) float32 of audio (n, time) or (n, time, 1)."""
        x = self._as_batch(audio)
        return np.asarray(self.predict(x, batch_size=batch_size, verbose=0), np.float32)


def _pool_head(x, pooling: str, name: str):
    """Global pooling of (batch, ..., channels) with "avg", "max" or "avgmax" (their sum, as in PANNs)."""
    two_d = len(x.shape) == 4
    avg = (keras.layers.GlobalAveragePooling2D if two_d else keras.layers.GlobalAveragePooling1D)(name=f"{name}_avg")
    mx = (keras.layers.GlobalMaxPooling2D if two_d else keras.layers.GlobalMaxPooling1D)(name=f"{name}_max")
    if pooling == "avg":
        return avg(x)
    if pooling == "max":
        return mx(x)
    if pooling == "avgmax":
        return keras.layers.Add(name=f"{name}_avgmax")([avg(x), mx(x)])
    raise ValueError(f"pooling must be 'avg', 'max' or 'avgmax', got {pooling!r}")


@register
class MelCNNEncoder(ConstructorConfigMixin, EncoderMixin, PresetMixin, keras.Model):
    """Audio classifier / embedder: audio (batch, time) -> class logits (batch, num_classes).

    Log-mel (``MelSpectrogram`` layer) -> BatchNorm over mel bands -> one VGG block per entry of ``filters``
    ((3x3 conv-BN-ReLU) x ``convs_per_block``, 2x2 average pooling) -> global pooling -> ``Dense(embedding_dim)``
    named ``"embedding"`` -> ReLU -> dropout -> ``Dense(num_classes)`` logits. ``embed(audio)`` returns the
    embedding through ``embedding_model``.

    Args:
        num_classes: classes of the head.
        sample_rate: Hz of the input audio.
        num_samples: input length in samples (``None``: any length).
        n_fft, hop_length, n_mels, fmin, fmax: log-mel front end (win_length = n_fft).
        filters: channels of each conv block.
        convs_per_block: convs per block (VGG: 2).
        embedding_dim: size of the embedding.
        pooling: global pooling, "avg", "max" or "avgmax".
        dropout: dropout before the logits.
        tflite_compatible: builtin-ops mel front end (TFLite export without Flex ops).

    Example:
        >>> import numpy as np
        >>> enc = MelCNNEncoder.from_preset("mel_cnn_tiny", num_classes=5)
        >>> enc(np.zeros((2, 16000), "float32")).shape
        TensorShape([2, 5])
        >>> enc.embed(np.zeros((2, 16000), "float32")).shape
        (2, 32)
    """

    def __init__(
        self,
        num_classes: int = 10,
        sample_rate: int = 16000,
        num_samples: int | None = 16000,
        n_fft: int = 512,
        hop_length: int = 160,
        n_mels: int = 64,
        fmin: float = 30.0,
        fmax: float | None = None,
        filters=(32, 64, 128, 256),
        convs_per_block: int = 2,
        embedding_dim: int = 128,
        pooling: str = "avgmax",
        dropout: float = 0.2,
        tflite_compatible: bool = False,
        **kwargs,
    ):
        fmax_ = sample_rate / 2.0 if fmax is None else fmax
        audio = keras.Input((num_samples,), name="audio")
        mel = MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, win_length=n_fft, n_mels=n_mels,
            fmin=fmin, fmax=fmax_, log=True, tflite_compatible=tflite_compatible, name="log_mel",
        )(audio)
        x = keras.layers.BatchNormalization(axis=-1, name="mel_bn")(mel)  # per-band normalisation (PANNs' bn0)
        x = keras.layers.Reshape((-1, n_mels, 1), name="to_image")(x)
        for i, f in enumerate(filters):
            x = conv2d_block(x, int(f), num_convs=convs_per_block, pool_size=(2, 2), name=f"block{i}")
        x = _pool_head(x, pooling, "global")
        emb = keras.layers.Dense(embedding_dim, name="embedding")(x)
        h = keras.layers.ReLU(name="embedding_relu")(emb)
        if dropout:
            h = keras.layers.Dropout(dropout, name="dropout")(h)
        logits = keras.layers.Dense(num_classes, name="logits")(h)
        super().__init__(inputs=audio, outputs=logits, **kwargs)

        self.keep_config(num_classes=int(num_classes), sample_rate=int(sample_rate),
                         num_samples=None if num_samples is None else int(num_samples), n_fft=int(n_fft),
                         hop_length=int(hop_length), n_mels=int(n_mels), fmin=float(fmin),
                         fmax=None if fmax is None else float(fmax), filters=[int(f) for f in filters],
                         convs_per_block=int(convs_per_block), embedding_dim=int(embedding_dim), pooling=pooling,
                         dropout=float(dropout), tflite_compatible=bool(tflite_compatible))
