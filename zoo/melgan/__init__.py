"""MelGAN (Kumar et al. 2019) and Multi-band MelGAN (Yang et al. 2020): generators, discriminator, presets."""

from zoo.melgan.melgan_discriminators import MelGANMultiScaleDiscriminator  # noqa: F401
from zoo.melgan.melgan_generator import MelGANGenerator  # noqa: F401
from zoo.melgan.melgan_multiband_generator import MultiBandMelGANGenerator  # noqa: F401
from zoo.melgan import melgan_presets  # noqa: F401  (registers the presets)
