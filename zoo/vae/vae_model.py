"""Convolutional variational autoencoder over fixed-size log-mel clips or raw waveform segments.

Paper: Kingma & Welling 2014, "Auto-Encoding Variational Bayes" (arXiv:1312.6114): Gaussian posterior
``q(z|x) = N(mu, diag(exp(log_var)))`` sampled with the reparameterization ``z = mu + exp(log_var / 2) * eps``;
beta weighting of the KL term as Higgins et al. 2017 (beta-VAE); optional class conditioning of encoder and
decoder as the conditional VAE of Sohn et al. 2015. Training (reconstruction + beta * KL with warm-up) lives in
``training.vae_trainer.VAETrainer``.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register


@register
class GaussianSampling(keras.layers.Layer):
    """Reparameterized sample ``mu + exp(log_var / 2) * eps`` while training, ``mu`` at inference.

    Args:
        seed: seed of the noise generator.

    Inputs ``[mu, log_var]`` each (batch, latent_dim) -> (batch, latent_dim).

    Example:
        >>> import numpy as np
        >>> z = GaussianSampling(seed=0)([np.zeros((2, 3), "float32"), np.zeros((2, 3), "float32")], training=True)
        >>> tuple(z.shape)
        (2, 3)
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        mean, log_var = inputs
        if not training:
            return mean
        eps = keras.random.normal(ops.shape(mean), dtype=mean.dtype, seed=self.seed_generator)  # float16 under mixed precision
        return mean + ops.exp(0.5 * log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def kl_divergence(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) summed over the latent axis: (batch, latent) -> (batch,)."""
    return -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)


@register
class ConvVAE(ConstructorConfigMixin, PresetMixin, keras.Model):
    """Conv VAE: x (batch, input_length, input_channels) -> {"reconstruction", "z_mean", "z_log_var"}.

    ``input_type="mel"``: x is a log-mel clip (batch, frames, n_mels); ``"waveform"``: x is a segment
    (batch, samples, 1) and the decoder ends in tanh. Encoder: strided Conv1D + LeakyReLU stages, flatten,
    dense heads for ``z_mean`` / ``z_log_var`` (one global latent vector per clip). Decoder: dense, reshape,
    Conv1DTranspose stages mirrored. Inputs are standardized inside the model as ``(x - input_shift) /
    input_scale`` and outputs mapped back, so presets can take raw log-mels. With ``num_classes > 0`` the model
    takes ``[x, label]`` (label (batch,) int32) and both halves see a learned class embedding.

    Args:
        input_type: ``"mel"`` or ``"waveform"``.
        input_length: frames (mel) or samples (waveform); a multiple of ``prod(strides)``.
        input_channels: n_mels (mel) or 1 (waveform).
        channels: Conv1D channels per encoder stage (mirrored in the decoder).
        strides: time stride per stage.
        kernel_size: conv kernel size.
        latent_dim: size of z.
        num_classes: 0 for an unconditional model, else the number of labels.
        class_embedding_dim: size of the class embedding.
        input_shift, input_scale: standardization of x (e.g. -5 and 3 for natural-log mels).
        seed: seed of the reparameterization noise.

    Example:
        >>> import numpy as np
        >>> vae = ConvVAE.from_preset("vae_mel_tiny")
        >>> out = vae(np.zeros((2, 16, 16), "float32"))
        >>> tuple(out["reconstruction"].shape), tuple(out["z_mean"].shape)
        ((2, 16, 16), (2, 4))
    """

    def __init__(self, input_type="mel", input_length=64, input_channels=80, channels=(64, 128, 128),
                 strides=(2, 2, 2), kernel_size=5, latent_dim=16, num_classes=0, class_embedding_dim=16,
                 input_shift=0.0, input_scale=1.0, seed=None, name="conv_vae", **kwargs):
        if input_type not in ("mel", "waveform"):
            raise ValueError(f"input_type must be 'mel' or 'waveform', got {input_type!r}")
        channels, strides = [int(c) for c in channels], [int(s) for s in strides]
        if len(channels) != len(strides):
            raise ValueError("channels and strides must have the same length")
        down = math.prod(strides)
        if input_length % down:
            raise ValueError(f"input_length {input_length} is not a multiple of prod(strides) = {down}")
        cond = int(num_classes) > 0
        x_name = "mel" if input_type == "mel" else "audio"

        # ---- encoder
        x_in = keras.Input((input_length, input_channels), name=x_name)
        enc_inputs = [x_in]
        h = keras.layers.Rescaling(1.0 / input_scale, -input_shift / input_scale, name="standardize")(x_in)
        for i, (c, s) in enumerate(zip(channels, strides)):
            h = keras.layers.Conv1D(c, kernel_size, strides=s, padding="same", name=f"enc_conv{i}")(h)
            h = keras.layers.LeakyReLU(0.2, name=f"enc_act{i}")(h)
        h = keras.layers.Flatten(name="enc_flatten")(h)
        if cond:
            lab_e = keras.Input((), dtype="int32", name="label")
            enc_inputs.append(lab_e)
            emb = keras.layers.Embedding(num_classes, class_embedding_dim, name="enc_class_embedding")(lab_e)
            h = keras.layers.Concatenate(name="enc_concat")([h, emb])
        z_mean = keras.layers.Dense(latent_dim, name="z_mean")(h)
        z_log_var = keras.layers.Dense(latent_dim, name="z_log_var", kernel_initializer="zeros")(h)
        encoder = keras.Model(enc_inputs if cond else x_in, [z_mean, z_log_var], name="encoder")

        # ---- decoder
        z_in = keras.Input((latent_dim,), name="z")
        dec_inputs = [z_in]
        h = z_in
        if cond:
            lab_d = keras.Input((), dtype="int32", name="label")
            dec_inputs.append(lab_d)
            emb = keras.layers.Embedding(num_classes, class_embedding_dim, name="dec_class_embedding")(lab_d)
            h = keras.layers.Concatenate(name="dec_concat")([h, emb])
        h = keras.layers.Dense((input_length // down) * channels[-1], name="dec_dense")(h)
        h = keras.layers.LeakyReLU(0.2, name="dec_dense_act")(h)
        h = keras.layers.Reshape((input_length // down, channels[-1]), name="dec_reshape")(h)
        up_channels = channels[::-1][1:] + [channels[0]]
        for i, (c, s) in enumerate(zip(up_channels, strides[::-1])):
            h = keras.layers.Conv1DTranspose(c, kernel_size, strides=s, padding="same", name=f"dec_up{i}")(h)
            h = keras.layers.LeakyReLU(0.2, name=f"dec_act{i}")(h)
        h = keras.layers.Conv1D(input_channels, kernel_size, padding="same", name="dec_out")(h)
        if input_type == "waveform":
            h = keras.layers.Activation("tanh", name="dec_tanh")(h)
        else:
            h = keras.layers.Rescaling(input_scale, input_shift, name="destandardize")(h)
        decoder = keras.Model(dec_inputs if cond else z_in, h, name="decoder")

        # ---- whole model
        x = keras.Input((input_length, input_channels), name=x_name)
        inputs = [x]
        if cond:
            label = keras.Input((), dtype="int32", name="label")
            inputs.append(label)
        mean, log_var = encoder(inputs if cond else x)
        z = GaussianSampling(seed=seed, name="sampling")([mean, log_var])
        recon = decoder([z, label] if cond else z)
        outputs = {
            "reconstruction": keras.layers.Identity(name="reconstruction")(recon),
            "z_mean": keras.layers.Identity(name="z_mean_out")(mean),
            "z_log_var": keras.layers.Identity(name="z_log_var_out")(log_var),
        }
        super().__init__(inputs=inputs if cond else x, outputs=outputs, name=name, **kwargs)

        self.keep_config(input_type=input_type, input_length=int(input_length), input_channels=int(input_channels),
                         channels=channels, strides=strides, kernel_size=int(kernel_size),
                         latent_dim=int(latent_dim), num_classes=int(num_classes),
                         class_embedding_dim=int(class_embedding_dim), input_shift=float(input_shift),
                         input_scale=float(input_scale), seed=seed)

    # ------------------------------------------------------------------------------ generative API
    def _with_label(self, t, label, n):
        if not self.num_classes:
            return t
        if label is None:
            raise ValueError("this VAE is class-conditional: pass label=")
        label = ops.cast(ops.convert_to_tensor(label), "int32")
        if len(label.shape) == 0:
            label = ops.full((n,), label, dtype="int32")
        return [t, label]

    def encode(self, x, label=None):
        """Posterior parameters of x (batch, input_length, input_channels) -> (z_mean, z_log_var), each (batch, latent_dim)."""
        x = ops.convert_to_tensor(x, "float32")
        return self.get_layer("encoder")(self._with_label(x, label, ops.shape(x)[0]), training=False)

    def decode(self, z, label=None):
        """Decode z (batch, latent_dim) -> (batch, input_length, input_channels)."""
        z = ops.convert_to_tensor(z, "float32")
        return self.get_layer("decoder")(self._with_label(z, label, ops.shape(z)[0]), training=False)

    def sample(self, n, label=None, temperature=1.0, seed=None):
        """Decode ``n`` draws z ~ N(0, temperature^2 I) -> (n, input_length, input_channels)."""
        z = keras.random.normal((int(n), self.latent_dim), stddev=float(temperature), seed=seed)
        return self.decode(z, label)

    def interpolate(self, a, b, steps=8, label=None):
        """Decode the straight line between the posterior means of clips a and b.

        Args:
            a, b: clips (input_length, input_channels) or (1, input_length, input_channels).
            steps: points on the path, ends included.
            label: class id for a conditional model.

        Returns:
            ``(z_path (steps, latent_dim), decoded (steps, input_length, input_channels))``.
        """
        a = ops.reshape(ops.convert_to_tensor(a, "float32"), (1, self.input_length, self.input_channels))
        b = ops.reshape(ops.convert_to_tensor(b, "float32"), (1, self.input_length, self.input_channels))
        za, _ = self.encode(a, label)
        zb, _ = self.encode(b, label)
        t = ops.reshape(ops.linspace(0.0, 1.0, int(steps)), (-1, 1))
        z = (1.0 - t) * za + t * zb
        return z, self.decode(z, label)

    def export_endpoints(self, batch_size=1):
        """``[("decode", fn, specs)]``: z (batch, latent_dim) [, label (batch,) int32] -> decoded clip."""
        specs = [keras.InputSpec(shape=(batch_size, self.latent_dim), dtype="float32", name="z")]
        if self.num_classes:
            specs.append(keras.InputSpec(shape=(batch_size,), dtype="int32", name="label"))
            return [("decode", lambda z, label: self.decode(z, label), specs, "latent -> clip")]
        return [("decode", lambda z: self.decode(z), specs, "latent -> clip")]
