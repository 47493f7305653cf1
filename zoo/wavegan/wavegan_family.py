"""The wavegan folder's families (WaveGAN and SpecGAN), declared once for :mod:`zoo.families`."""

from zoo.families import ZooFamily
from zoo.wavegan import wavegan_presets  # noqa: F401  (registers the presets)
from zoo.wavegan.wavegan_specgan import SpecGANDiscriminator, SpecGANGenerator
from zoo.wavegan.wavegan_discriminator import WaveGANDiscriminator
from zoo.wavegan.wavegan_generator import WaveGANGenerator

FAMILIES = [
    ZooFamily("wavegan", WaveGANGenerator, WaveGANDiscriminator, synthesis="noise"),
    ZooFamily("specgan", SpecGANGenerator, SpecGANDiscriminator, synthesis="noise"),
]
