"""Neural audio codec with residual vector quantization (SoundStream / EnCodec style), waveform in and out.

Papers: Zeghidour et al. 2021, "SoundStream: An End-to-End Neural Audio Codec" (arXiv:2107.03312): strided
conv encoder with dilated residual units (dilations 1, 3, 9), ELU, residual VQ, mirrored decoder with
transposed convs; Defossez et al. 2022, "High Fidelity Neural Audio Compression" (EnCodec, arXiv:2210.13438).
Trained here with waveform + multi-resolution STFT reconstruction losses (``training.vae_trainer.VQVAETrainer``
with ``reconstruction="waveform"``); the adversarial losses of the papers are optional and not wired.
"""

from __future__ import annotations

import math

import keras

from audiogen_tf.layers.quantizers import ResidualVectorQuantizer
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register
from zoo.vqvae.vqvae_model import residual_unit


def _codec_encoder(channels, strides, embedding_dim, dilations, name="encoder"):
    x = keras.Input((None, 1), name="audio")
    h = keras.layers.Conv1D(channels, 7, padding="same", name="enc_in")(x)
    c = channels
    for i, s in enumerate(strides):
        for j, d in enumerate(dilations):
            h = residual_unit(h, c, 7, d, "elu", name=f"enc{i}_res{j}")
        c *= 2
        h = keras.layers.Activation("elu", name=f"enc{i}_act")(h)
        h = keras.layers.Conv1D(c, 2 * s, strides=s, padding="same", name=f"enc{i}_down")(h)
    h = keras.layers.Activation("elu", name="enc_out_act")(h)
    z = keras.layers.Conv1D(embedding_dim, 3, padding="same", name="enc_out")(h)
    return keras.Model(x, z, name=name)


def _codec_decoder(channels, strides, embedding_dim, dilations, name="decoder"):
    z = keras.Input((None, embedding_dim), name="z")
    c = channels * 2 ** len(strides)
    h = keras.layers.Conv1D(c, 7, padding="same", name="dec_in")(z)
    for i, s in enumerate(strides[::-1]):
        c //= 2
        h = keras.layers.Activation("elu", name=f"dec{i}_act")(h)
        h = keras.layers.Conv1DTranspose(c, 2 * s, strides=s, padding="same", name=f"dec{i}_up")(h)
        for j, d in enumerate(dilations):
            h = residual_unit(h, c, 7, d, "elu", name=f"dec{i}_res{j}")
    h = keras.layers.Activation("elu", name="dec_out_act")(h)
    h = keras.layers.Conv1D(1, 7, padding="same", name="dec_out")(h)
    y = keras.layers.Activation("tanh", name="dec_tanh")(h)
    return keras.Model(z, y, name=name)


@register
class AudioCodec(ConstructorConfigMixin, PresetMixin, keras.Model):
    """RVQ codec: audio (batch, samples, 1) -> {"audio": (batch, samples, 1), "codes": (batch, samples / hop, n_q) int32}.

    ``samples`` must be a multiple of ``hop_length = prod(strides)``. The bitrate is
    ``frame_rate * num_quantizers * log2(codebook_size) / 1000`` kbps with ``frame_rate = sample_rate / hop``.

    Args:
        sample_rate: Hz (for :attr:`bitrate_kbps` only).
        channels: channels of the first conv; doubled at every downsampling stage.
        strides: downsampling factors (SoundStream: 2, 4, 5, 8).
        embedding_dim: latent / code vector size.
        num_quantizers: residual VQ stages N_q.
        codebook_size: codes per stage.
        dilations: dilations of the residual units in each stage.
        commitment_cost, decay, epsilon, dead_code_threshold, restart_warmup_steps: quantizer settings (see
            ``VectorQuantizer``).
        quantizer_dropout: probability that a training example uses only its first n ~ U{1..N_q} stages
            (SoundStream's quantizer dropout; makes every prefix of the stages a usable lower bitrate).
        seed: seed of the quantizers.

    Example:
        >>> import numpy as np
        >>> codec = AudioCodec.from_preset("codec_tiny")
        >>> out = codec(np.zeros((1, 256, 1), "float32"))
        >>> tuple(out["audio"].shape), tuple(out["codes"].shape), codec.bitrate_kbps()
        ((1, 256, 1), (1, 32, 2), 16.0)
    """

    def __init__(self, sample_rate=16000, channels=32, strides=(2, 4, 5, 8), embedding_dim=64, num_quantizers=8,
                 codebook_size=1024, dilations=(1, 3, 9), commitment_cost=0.25, decay=0.99, epsilon=1e-5,
                 dead_code_threshold=0.1, seed=None, restart_warmup_steps=100, quantizer_dropout=0.5,
                 name="audio_codec", **kwargs):
        strides, dilations = [int(s) for s in strides], [int(d) for d in dilations]
        encoder = _codec_encoder(int(channels), strides, embedding_dim, dilations)
        decoder = _codec_decoder(int(channels), strides, embedding_dim, dilations)
        rvq = ResidualVectorQuantizer(num_quantizers, codebook_size, embedding_dim, commitment_cost, True, decay,
                                      epsilon, dead_code_threshold, seed=seed,
                                      restart_warmup_steps=restart_warmup_steps,
                                      quantizer_dropout=quantizer_dropout, name="quantizer")
        x = keras.Input((None, 1), name="audio")
        q, codes = rvq(encoder(x))
        y = decoder(q)
        outputs = {"audio": keras.layers.Identity(name="audio_out")(y),
                   "codes": keras.layers.Identity(name="codes")(codes)}
        super().__init__(inputs=x, outputs=outputs, name=name, **kwargs)
        self.keep_config(sample_rate=int(sample_rate), channels=int(channels), strides=strides,
                         embedding_dim=int(embedding_dim), num_quantizers=int(num_quantizers),
                         codebook_size=int(codebook_size), dilations=dilations,
                         commitment_cost=float(commitment_cost), decay=float(decay), epsilon=float(epsilon),
                         dead_code_threshold=float(dead_code_threshold), seed=seed,
                         restart_warmup_steps=int(restart_warmup_steps), quantizer_dropout=float(quantizer_dropout))
        self.hop_length = math.prod(strides)

    @property
    def frame_rate(self) -> float:
        """Code frames per second."""
        return self.sample_rate / self.hop_length

    def bitrate_kbps(self, num_quantizers=None) -> float:
        """``frame_rate * n_q * log2(codebook_size) / 1000`` (all stages by default)."""
        n_q = self.num_quantizers if num_quantizers is None else int(num_quantizers)
        return self.frame_rate * n_q * math.log2(self.codebook_size) / 1000.0

    @property
    def quantizer(self):
        return self.get_layer("quantizer")

    def encode(self, audio, num_quantizers=None):
        """Codes of audio (batch, samples, 1) -> (batch, samples / hop, n_q) int32 (first ``num_quantizers`` stages)."""
        z = self.get_layer("encoder")(keras.ops.convert_to_tensor(audio, "float32"), training=False)
        return self.quantizer.get_codes(z, num_quantizers)

    def decode(self, codes):
        """Audio from codes (batch, frames, n) with n <= num_quantizers -> (batch, frames * hop, 1)."""
        return self.get_layer("decoder")(self.quantizer.lookup(codes), training=False)

    def export_endpoints(self, num_samples=None, batch_size=1):
        """Fixed-shape ``"encode"`` (audio (batch, num_samples, 1) -> codes int32) and ``"decode"`` (codes -> audio).

        ``num_samples`` defaults to 0.5 s rounded down to a multiple of ``hop_length``.
        """
        if num_samples is None:
            num_samples = max(1, (self.sample_rate // 2) // self.hop_length) * self.hop_length
        if num_samples % self.hop_length:
            raise ValueError(f"num_samples {num_samples} is not a multiple of hop_length {self.hop_length}")
        frames = num_samples // self.hop_length
        return [
            ("encode", lambda audio: self.encode(audio),
             [keras.InputSpec(shape=(batch_size, num_samples, 1), dtype="float32", name="audio")], "audio -> codes"),
            ("decode", lambda codes: self.decode(codes),
             [keras.InputSpec(shape=(batch_size, frames, self.num_quantizers), dtype="int32", name="codes")],
             "codes -> audio"),
        ]
