"""The vqvae folder's families (VQ-VAE, the residual-VQ codec and the code prior), declared once for :mod:`zoo.families`."""

from zoo.families import ZooFamily
from zoo.vqvae import vqvae_presets  # noqa: F401  (registers the presets)
from zoo.vqvae.vqvae_codec import AudioCodec
from zoo.vqvae.vqvae_prior import CodePrior
from zoo.vqvae.vqvae_model import VQVAE

FAMILIES = [
    ZooFamily("vqvae", VQVAE, synthesis="reconstruct"),
    ZooFamily("codec", AudioCodec, synthesis="reconstruct"),
    ZooFamily("code_prior", CodePrior),
]
