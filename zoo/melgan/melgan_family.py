"""The melgan folder's families (MelGAN and Multi-band MelGAN), declared once for :mod:`zoo.families`."""

from zoo.families import ZooFamily
from zoo.melgan import melgan_presets  # noqa: F401  (registers the presets)
from zoo.melgan.melgan_discriminators import MelGANMultiScaleDiscriminator
from zoo.melgan.melgan_generator import MelGANGenerator
from zoo.melgan.melgan_multiband_generator import MultiBandMelGANGenerator

FAMILIES = [
    ZooFamily("melgan", MelGANGenerator, MelGANMultiScaleDiscriminator, synthesis="vocoder", features="mel_config"),
    ZooFamily("multiband_melgan", MultiBandMelGANGenerator, MelGANMultiScaleDiscriminator, synthesis="vocoder",
              features="mel_config"),
]
