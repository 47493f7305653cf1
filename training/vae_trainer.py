"""Trainers for latent-variable models: ``VAETrainer`` (reconstruction + beta * KL with linear warm-up) and
``VQVAETrainer`` (reconstruction + the quantizers' commitment losses, with codebook perplexity / usage metrics).

Both are ``keras.Model`` wrappers whose ``train_step`` / ``test_step`` make ``fit()`` / ``evaluate()`` train the
wrapped model; they are never exported. Metrics are ``keras.metrics.Mean`` trackers.

Papers: Kingma & Welling 2014 (VAE); Higgins et al. 2017 (beta-VAE); Bowman et al. 2016 (KL annealing);
van den Oord et al. 2017 (VQ-VAE); Zeghidour et al. 2021 (SoundStream: waveform + multi-resolution spectral
reconstruction losses).

Example:
    >>> import keras, numpy as np
    >>> from zoo.vae import ConvVAE
    >>> trainer = VAETrainer(ConvVAE.from_preset("vae_mel_tiny"), beta=0.01, kl_warmup_steps=100)
    >>> trainer.compile(optimizer=keras.optimizers.Adam(1e-3))
    >>> history = trainer.fit(np.random.randn(16, 16, 16).astype("float32"), batch_size=8, verbose=0)
    >>> sorted(history.history)
    ['beta', 'kl_loss', 'loss', 'reconstruction_loss']
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from audiogen_tf.layers.quantizers import codebook_perplexity, codebook_usage
from audiogen_tf.losses import multi_resolution_stft_loss

#: STFT resolutions (fft, hop, win) for 16 kHz waveform reconstruction losses.
DEFAULT_STFT_RESOLUTIONS = ((2048, 512, 2048), (1024, 256, 1024), (512, 128, 512), (256, 64, 256))

RECONSTRUCTION_LOSSES = ("mse", "l1", "waveform")


def reconstruction_loss(x, y, kind="mse", stft_resolutions=DEFAULT_STFT_RESOLUTIONS, l1_weight=1.0):
    """Reconstruction loss between x and its reconstruction y, both (batch, time, channels).

    ``"mse"`` / ``"l1"``: mean over all elements. ``"waveform"``: multi-resolution STFT loss (spectral
    convergence + log magnitude, Parallel WaveGAN) plus ``l1_weight`` times the mean absolute sample error.
    """
    if kind == "mse":
        return ops.mean(ops.square(x - y))
    if kind == "l1":
        return ops.mean(ops.abs(x - y))
    if kind == "waveform":
        sc, mag = multi_resolution_stft_loss(x, y, resolutions=stft_resolutions)
        return sc + mag + l1_weight * ops.mean(ops.abs(x - y))
    raise ValueError(f"reconstruction loss must be one of {RECONSTRUCTION_LOSSES}, got {kind!r}")


def _unpack(data, input_key=None):
    """(x, label or None) from a batch: array, (x,), (x, label), or a dict with ``input_key`` and maybe ``label``.

    A waveform (batch, time) is given a channel axis.
    """
    label = None
    if isinstance(data, dict):
        key = input_key or ("mel" if "mel" in data else "audio")
        x, label = data[key], data.get("label")
    elif isinstance(data, (tuple, list)):
        x = data[0]
        label = data[1] if len(data) > 1 else None
    else:
        x = data
    x = ops.cast(x, "float32")
    if len(x.shape) == 2:
        x = ops.expand_dims(x, -1)
    return x, label


def _float32(outputs):
    """Float outputs cast to float32 (a ``mixed_float16`` model computes in float16); integer codes kept."""
    return tf.nest.map_structure(lambda t: ops.cast(t, "float32") if "float" in str(t.dtype) else t, outputs)


class _TrainerBase(keras.Model):
    def __init__(self, model, input_key=None, **kwargs):
        super().__init__(**kwargs)
        self.model = model
        self.input_key = input_key

    def call(self, inputs, training=False):
        return self.model(inputs, training=training)

    def _model_inputs(self, x, label):
        return [x, label] if label is not None and getattr(self.model, "num_classes", 0) else x

    def _fit_step(self, loss, variables, grads_from):
        # mixed_float16: compile() wrapped the optimizer in a keras LossScaleOptimizer; the gradients are of the
        # scaled loss, which it unscales (skipping, and halving its scale, a step whose gradients overflow).
        scale = None
        if isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer):
            scale = ops.cast(self.optimizer.scale_loss(1.0), loss.dtype)
        grads = grads_from.gradient(loss, variables, output_gradients=scale)
        self.optimizer.apply_gradients(zip(grads, variables))


class VAETrainer(_TrainerBase):
    """Trains a :class:`zoo.vae.ConvVAE` with ``loss = reconstruction + beta_t * KL``.

    ``KL`` is the mean over the batch of the KL divergence summed over latent dimensions; ``beta_t`` grows
    linearly from 0 to ``beta`` over the first ``kl_warmup_steps`` optimizer steps (0: constant ``beta``).

    Args:
        vae: the model (outputs ``reconstruction``, ``z_mean``, ``z_log_var``).
        beta: weight of the KL term (1 is the ELBO with a unit-variance Gaussian up to scale).
        kl_warmup_steps: length of the linear warm-up.
        reconstruction: ``"mse"``, ``"l1"`` or ``"waveform"`` (MR-STFT + L1), see :func:`reconstruction_loss`.
        stft_resolutions, l1_weight: for ``"waveform"``.
        input_key: key of x when batches are dicts (default ``"mel"`` if present, else ``"audio"``).

    Metrics: ``loss``, ``reconstruction_loss``, ``kl_loss``, ``beta``.

    Example:
        >>> trainer = VAETrainer(vae, beta=1e-3, kl_warmup_steps=500)   # doctest: +SKIP
        >>> trainer.compile(optimizer="adam"); trainer.fit(dataset)     # doctest: +SKIP
    """

    def __init__(self, vae, beta=1.0, kl_warmup_steps=0, reconstruction="mse",
                 stft_resolutions=DEFAULT_STFT_RESOLUTIONS, l1_weight=1.0, input_key=None, name="vae_trainer",
                 **kwargs):
        super().__init__(vae, input_key=input_key, name=name, **kwargs)
        if reconstruction not in RECONSTRUCTION_LOSSES:
            raise ValueError(f"reconstruction must be one of {RECONSTRUCTION_LOSSES}, got {reconstruction!r}")
        self.vae = vae
        self.beta = float(beta)
        self.kl_warmup_steps = int(kl_warmup_steps)
        self.reconstruction = reconstruction
        self.stft_resolutions = tuple(tuple(r) for r in stft_resolutions)
        self.l1_weight = float(l1_weight)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.recon_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self.beta_tracker = keras.metrics.Mean(name="beta")

    @property
    def metrics(self):
        return [self.loss_tracker, self.recon_tracker, self.kl_tracker, self.beta_tracker]

    def beta_at(self, step):
        """KL weight after ``step`` optimizer steps (linear warm-up)."""
        if self.kl_warmup_steps <= 0:
            return ops.convert_to_tensor(self.beta, "float32")
        frac = ops.minimum(ops.cast(step, "float32") / float(self.kl_warmup_steps), 1.0)
        return self.beta * frac

    def _compute_losses(self, data, training):
        x, label = _unpack(data, self.input_key)
        out = _float32(self.vae(self._model_inputs(x, label), training=training))
        recon = reconstruction_loss(x, out["reconstruction"], self.reconstruction, self.stft_resolutions,
                                    self.l1_weight)
        kl = ops.mean(-0.5 * ops.sum(1.0 + out["z_log_var"] - ops.square(out["z_mean"]) - ops.exp(out["z_log_var"]),
                                     axis=-1))
        beta = self.beta_at(self.optimizer.iterations if self.optimizer is not None else 0)
        return recon + beta * kl, recon, kl, beta

    def _track(self, total, recon, kl, beta):
        self.loss_tracker.update_state(total)
        self.recon_tracker.update_state(recon)
        self.kl_tracker.update_state(kl)
        self.beta_tracker.update_state(beta)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        with tf.GradientTape() as tape:
            total, recon, kl, beta = self._compute_losses(data, True)
        self._fit_step(total, self.vae.trainable_variables, tape)
        return self._track(total, recon, kl, beta)

    def test_step(self, data):
        return self._track(*self._compute_losses(data, False))


class VQVAETrainer(_TrainerBase):
    """Trains a VQ-VAE or a residual-VQ codec with ``loss = reconstruction + sum(commitment losses)``.

    The model's quantizers add their commitment losses with ``add_loss`` and update their EMA codebooks in
    the training forward pass. The model outputs a dict with the reconstruction (``"reconstruction"`` or
    ``"audio"``) and ``"codes"`` ((batch, frames) or (batch, frames, n_q)); perplexity and usage are
    averaged over quantizers.

    Args:
        model: a :class:`zoo.vqvae.VQVAE` or :class:`zoo.vqvae.AudioCodec`.
        reconstruction: ``"mse"``, ``"l1"`` or ``"waveform"``.
        stft_resolutions, l1_weight: for ``"waveform"``.
        input_key: key of x when batches are dicts.

    Metrics: ``loss``, ``reconstruction_loss``, ``vq_loss``, ``perplexity``, ``usage`` (fraction of codes
    used in the batch).

    Example:
        >>> from zoo.vqvae import AudioCodec
        >>> trainer = VQVAETrainer(AudioCodec.from_preset("codec_tiny"), reconstruction="waveform")
    """

    def __init__(self, model, reconstruction="mse", stft_resolutions=DEFAULT_STFT_RESOLUTIONS, l1_weight=1.0,
                 input_key=None, name="vqvae_trainer", **kwargs):
        super().__init__(model, input_key=input_key, name=name, **kwargs)
        if reconstruction not in RECONSTRUCTION_LOSSES:
            raise ValueError(f"reconstruction must be one of {RECONSTRUCTION_LOSSES}, got {reconstruction!r}")
        self.reconstruction = reconstruction
        self.stft_resolutions = tuple(tuple(r) for r in stft_resolutions)
        self.l1_weight = float(l1_weight)
        self.trackers = {k: keras.metrics.Mean(name=k) for k in
                         ("loss", "reconstruction_loss", "vq_loss", "perplexity", "usage")}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _compute_losses(self, data, training):
        x, _ = _unpack(data, self.input_key)
        out = _float32(self.model(x, training=training))
        y = out["reconstruction"] if "reconstruction" in out else out["audio"]
        recon = reconstruction_loss(x, y, self.reconstruction, self.stft_resolutions, self.l1_weight)
        vq = ops.sum(ops.stack([ops.cast(l, "float32") for l in self.model.losses])) if (
            training and self.model.losses) else ops.convert_to_tensor(0.0)
        codes = out["codes"]
        k = self.model.codebook_size
        if len(codes.shape) == 3:
            stages = range(codes.shape[-1])
            perp = ops.mean(ops.stack([codebook_perplexity(codes[..., i], k) for i in stages]))
            usage = ops.mean(ops.stack([codebook_usage(codes[..., i], k) for i in stages]))
        else:
            perp, usage = codebook_perplexity(codes, k), codebook_usage(codes, k)
        return recon + vq, recon, vq, perp, usage

    def _track(self, values):
        for tracker, v in zip(self.trackers.values(), values):
            tracker.update_state(v)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        with tf.GradientTape() as tape:
            values = self._compute_losses(data, True)
        self._fit_step(values[0], self.model.trainable_variables, tape)
        return self._track(values)

    def test_step(self, data):
        return self._track(self._compute_losses(data, False))
