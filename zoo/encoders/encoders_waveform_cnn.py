"""Waveform CNN audio encoder: raw audio -> strided conv or SincNet band-pass filters -> 1-D conv blocks -> embedding.

Front end as in SincNet (Ravanelli & Bengio 2018, "Speaker Recognition from Raw Waveform with SincNet") or a
plain learned strided convolution (Dai et al. 2017, "Very Deep Convolutional Neural Networks for Raw
Waveforms"), then stacks of conv-BN-ReLU with max pooling, global pooling, a linear embedding and a head.
"""

from __future__ import annotations

import keras

from audiogen_tf.layers.conv_blocks import SincConv1D, conv1d_block
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register
from zoo.encoders.encoders_mel_cnn import EncoderMixin, _pool_head


@register
class WaveformCNNEncoder(ConstructorConfigMixin, EncoderMixin, PresetMixin, keras.Model):
    """Audio classifier / embedder on the raw waveform: audio (batch, time) -> class logits (batch, num_classes).

    Front end (``"sinc"``: :class:`SincConv1D` learnable band-pass filters; ``"conv"``: a learned ``Conv1D``)
    with stride ``frontend_stride``, then BatchNorm -> ReLU -> max pooling by ``frontend_pool``; one
    :func:`conv1d_block` per entry of ``filters`` (pooling ``block_pool``); global pooling; ``Dense(embedding_dim)``
    named ``"embedding"`` -> ReLU -> dropout -> ``Dense(num_classes)`` logits.

    Args:
        num_classes: classes of the head.
        sample_rate: Hz of the input audio.
        num_samples: input length in samples (``None``: any length).
        frontend: "sinc" or "conv".
        frontend_filters, frontend_kernel, frontend_stride, frontend_pool: the first layer.
        filters: channels of each 1-D conv block.
        kernel_size: kernel of the block convs.
        convs_per_block: convs per block.
        block_pool: max-pooling factor after each block.
        embedding_dim: size of the embedding.
        pooling: global pooling, "avg", "max" or "avgmax".
        dropout: dropout before the logits.

    Example:
        >>> import numpy as np
        >>> enc = WaveformCNNEncoder.from_preset("waveform_cnn_tiny", num_classes=5)
        >>> enc(np.zeros((2, 16000), "float32")).shape
        TensorShape([2, 5])
    """

    def __init__(
        self,
        num_classes: int = 10,
        sample_rate: int = 16000,
        num_samples: int | None = 16000,
        frontend: str = "sinc",
        frontend_filters: int = 64,
        frontend_kernel: int = 251,
        frontend_stride: int = 2,
        frontend_pool: int = 4,
        filters=(64, 128, 128, 256),
        kernel_size: int = 3,
        convs_per_block: int = 2,
        block_pool: int = 4,
        embedding_dim: int = 128,
        pooling: str = "avgmax",
        dropout: float = 0.2,
        **kwargs,
    ):
        if frontend not in ("sinc", "conv"):
            raise ValueError(f"frontend must be 'sinc' or 'conv', got {frontend!r}")
        audio = keras.Input((num_samples,), name="audio")
        x = keras.layers.Reshape((-1, 1), name="to_channels")(audio)
        if frontend == "sinc":
            x = SincConv1D(frontend_filters, frontend_kernel, sample_rate=sample_rate, strides=frontend_stride,
                           name="frontend")(x)
        else:
            x = keras.layers.Conv1D(frontend_filters, frontend_kernel, strides=frontend_stride, padding="same",
                                    use_bias=False, name="frontend")(x)
        x = keras.layers.BatchNormalization(name="frontend_bn")(x)
        x = keras.layers.ReLU(name="frontend_relu")(x)
        if frontend_pool and frontend_pool > 1:
            x = keras.layers.MaxPooling1D(frontend_pool, padding="same", name="frontend_pool")(x)
        for i, f in enumerate(filters):
            x = conv1d_block(x, int(f), num_convs=convs_per_block, kernel_size=kernel_size, pool_size=block_pool,
                             name=f"block{i}")
        x = _pool_head(x, pooling, "global")
        emb = keras.layers.Dense(embedding_dim, name="embedding")(x)
        h = keras.layers.ReLU(name="embedding_relu")(emb)
        if dropout:
            h = keras.layers.Dropout(dropout, name="dropout")(h)
        logits = keras.layers.Dense(num_classes, name="logits")(h)
        super().__init__(inputs=audio, outputs=logits, **kwargs)

        self.keep_config(num_classes=int(num_classes), sample_rate=int(sample_rate),
                         num_samples=None if num_samples is None else int(num_samples), frontend=frontend,
                         frontend_filters=int(frontend_filters), frontend_kernel=int(frontend_kernel),
                         frontend_stride=int(frontend_stride), frontend_pool=int(frontend_pool),
                         filters=[int(f) for f in filters], kernel_size=int(kernel_size),
                         convs_per_block=int(convs_per_block), block_pool=int(block_pool),
                         embedding_dim=int(embedding_dim), pooling=pooling, dropout=float(dropout))
