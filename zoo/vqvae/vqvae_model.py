"""VQ-VAE: a strided conv encoder, a vector quantizer (EMA codebook) and a mirrored conv decoder, over
log-mel frames or raw waveform.

Paper: van den Oord, Vinyals & Kavukcuoglu 2017, "Neural Discrete Representation Learning" (arXiv:1711.00937):
straight-through gradients, commitment loss with beta = 0.25, EMA codebook updates (appendix A.1). Train with
``training.vae_trainer.VQVAETrainer``; a prior over the codes is :class:`zoo.vqvae.vqvae_prior.CodePrior`.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from audiogen_tf.layers.quantizers import VectorQuantizer
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register


def residual_unit(x, channels, kernel_size=3, dilation=1, activation="relu", name="res"):
    """``x + conv1x1(act(conv_k,d(act(x))))``: the residual block of VQ-VAE's encoder/decoder (dilated as SoundStream)."""
    h = keras.layers.Activation(activation, name=f"{name}_act0")(x)
    h = keras.layers.Conv1D(channels, kernel_size, dilation_rate=dilation, padding="same", name=f"{name}_conv")(h)
    h = keras.layers.Activation(activation, name=f"{name}_act1")(h)
    h = keras.layers.Conv1D(x.shape[-1], 1, name=f"{name}_proj")(h)
    return keras.layers.Add(name=f"{name}_add")([x, h])


def build_conv_encoder(input_channels, channels, strides, out_dim, num_res_blocks=2, activation="relu",
                       input_shift=0.0, input_scale=1.0, name="encoder"):
    """Functional encoder (batch, time, input_channels) -> (batch, time / prod(strides), out_dim)."""
    x = keras.Input((None, input_channels), name="x")
    h = keras.layers.Rescaling(1.0 / input_scale, -input_shift / input_scale, name="standardize")(x)
    for i, (c, s) in enumerate(zip(channels, strides)):
        h = keras.layers.Conv1D(c, max(2 * s, 3), strides=s, padding="same", name=f"down{i}")(h)
        h = keras.layers.Activation(activation, name=f"down{i}_act")(h)
    for j in range(num_res_blocks):
        h = residual_unit(h, channels[-1], 3, 3**j, activation, name=f"enc_res{j}")
    h = keras.layers.Activation(activation, name="enc_out_act")(h)
    z = keras.layers.Conv1D(out_dim, 1, name="enc_out")(h)
    return keras.Model(x, z, name=name)


def build_conv_decoder(in_dim, channels, strides, output_channels, num_res_blocks=2, activation="relu",
                       output_activation=None, input_shift=0.0, input_scale=1.0, name="decoder"):
    """Functional decoder (batch, frames, in_dim) -> (batch, frames * prod(strides), output_channels)."""
    z = keras.Input((None, in_dim), name="z")
    h = keras.layers.Conv1D(channels[-1], 3, padding="same", name="dec_in")(z)
    for j in range(num_res_blocks):
        h = residual_unit(h, channels[-1], 3, 3**j, activation, name=f"dec_res{j}")
    up_channels = channels[::-1][1:] + [channels[0]]
    for i, (c, s) in enumerate(zip(up_channels, strides[::-1])):
        h = keras.layers.Activation(activation, name=f"up{i}_act")(h)
        h = keras.layers.Conv1DTranspose(c, max(2 * s, 3), strides=s, padding="same", name=f"up{i}")(h)
    h = keras.layers.Activation(activation, name="dec_out_act")(h)
    h = keras.layers.Conv1D(output_channels, 3, padding="same", name="dec_out")(h)
    if output_activation:
        h = keras.layers.Activation(output_activation, name="dec_out_squash")(h)
    else:
        h = keras.layers.Rescaling(input_scale, input_shift, name="destandardize")(h)
    return keras.Model(z, h, name=name)


@register
class VQVAE(ConstructorConfigMixin, PresetMixin, keras.Model):
    """VQ-VAE: x (batch, time, input_channels) -> {"reconstruction": same shape, "codes": (batch, time / hop) int32}.

    ``input_type="mel"``: x is log-mel (batch, frames, n_mels), standardized inside the model by
    ``input_shift`` / ``input_scale``; ``"waveform"``: x is audio (batch, samples, 1), tanh output. ``time`` must
    be a multiple of ``hop = prod(strides)``.

    Args:
        input_type: ``"mel"`` or ``"waveform"``.
        input_channels: n_mels or 1.
        channels: conv channels per downsampling stage.
        strides: stride per stage.
        num_res_blocks: residual units after the encoder's / before the decoder's strided convs.
        embedding_dim: code vector size D.
        codebook_size: number of codes K.
        commitment_cost: beta (0.25).
        decay, epsilon, dead_code_threshold, restart_warmup_steps: EMA codebook settings (see
            :class:`VectorQuantizer`; the codebook is initialised from the first training batch).
        input_shift, input_scale: standardization of mel inputs.
        seed: seed of the quantizer.

    Example:
        >>> import numpy as np
        >>> m = VQVAE.from_preset("vqvae_mel_tiny")
        >>> out = m(np.zeros((2, 16, 16), "float32"))
        >>> tuple(out["reconstruction"].shape), tuple(out["codes"].shape)
        ((2, 16, 16), (2, 4))
    """

    def __init__(self, input_type="mel", input_channels=80, channels=(128, 128), strides=(2, 2), num_res_blocks=2,
                 embedding_dim=64, codebook_size=256, commitment_cost=0.25, decay=0.99, epsilon=1e-5,
                 dead_code_threshold=0.1, input_shift=0.0, input_scale=1.0, seed=None, restart_warmup_steps=100,
                 name="vqvae", **kwargs):
        if input_type not in ("mel", "waveform"):
            raise ValueError(f"input_type must be 'mel' or 'waveform', got {input_type!r}")
        channels, strides = [int(c) for c in channels], [int(s) for s in strides]
        if len(channels) != len(strides):
            raise ValueError("channels and strides must have the same length")
        encoder = build_conv_encoder(input_channels, channels, strides, embedding_dim, num_res_blocks,
                                     input_shift=input_shift, input_scale=input_scale)
        decoder = build_conv_decoder(embedding_dim, channels, strides, input_channels, num_res_blocks,
                                     output_activation="tanh" if input_type == "waveform" else None,
                                     input_shift=input_shift, input_scale=input_scale)
        vq = VectorQuantizer(codebook_size, embedding_dim, commitment_cost, True, decay, epsilon,
                             dead_code_threshold, seed=seed, restart_warmup_steps=restart_warmup_steps,
                             name="quantizer")
        x = keras.Input((None, input_channels), name="mel" if input_type == "mel" else "audio")
        q, codes = vq(encoder(x))
        recon = decoder(q)
        outputs = {"reconstruction": keras.layers.Identity(name="reconstruction")(recon),
                   "codes": keras.layers.Identity(name="codes")(codes)}
        super().__init__(inputs=x, outputs=outputs, name=name, **kwargs)
        self.keep_config(input_type=input_type, input_channels=int(input_channels), channels=channels,
                         strides=strides, num_res_blocks=int(num_res_blocks), embedding_dim=int(embedding_dim),
                         codebook_size=int(codebook_size), commitment_cost=float(commitment_cost),
                         decay=float(decay), epsilon=float(epsilon), dead_code_threshold=float(dead_code_threshold),
                         input_shift=float(input_shift), input_scale=float(input_scale), seed=seed,
                         restart_warmup_steps=int(restart_warmup_steps))
        self.hop = math.prod(strides)

    @property
    def quantizer(self):
        return self.get_layer("quantizer")

    def encode(self, x):
        """Codes of x (batch, time, input_channels) -> (batch, time / hop) int32."""
        z = self.get_layer("encoder")(ops.convert_to_tensor(x, "float32"), training=False)
        return self.quantizer.get_codes(z)

    def decode(self, codes):
        """Reconstruction from codes (batch, frames) -> (batch, frames * hop, input_channels)."""
        return self.get_layer("decoder")(self.quantizer.lookup(codes), training=False)

    def export_endpoints(self, code_frames=16, batch_size=1):
        """``"encode"``: x (batch, code_frames * hop, C) -> codes; ``"decode"``: codes (batch, code_frames) int32 -> x."""
        t = int(code_frames) * self.hop
        return [
            ("encode", lambda x: self.encode(x),
             [keras.InputSpec(shape=(batch_size, t, self.input_channels), dtype="float32", name="x")],
             "input -> codes"),
            ("decode", lambda codes: self.decode(codes),
             [keras.InputSpec(shape=(batch_size, int(code_frames)), dtype="int32", name="codes")],
             "codes -> reconstruction"),
        ]
