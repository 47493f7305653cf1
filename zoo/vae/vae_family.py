"""The vae folder's families (the conv VAE), declared once for :mod:`zoo.families`."""

from zoo.families import ZooFamily
from zoo.vae import vae_presets  # noqa: F401  (registers the presets)
from zoo.vae.vae_model import ConvVAE

FAMILIES = [ZooFamily("vae", ConvVAE, synthesis="latent")]
