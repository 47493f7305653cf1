"""Variational autoencoders (Kingma & Welling 2014) over log-mel clips and waveform segments."""

from zoo.vae.vae_model import ConvVAE, GaussianSampling, kl_divergence  # noqa: F401
from zoo.vae import vae_presets  # noqa: F401  (registers the presets)
