"""WaveGAN and SpecGAN (Donahue, McAuley & Puckette 2019, "Adversarial Audio Synthesis")."""

from zoo.wavegan.wavegan_discriminator import WaveGANDiscriminator
from zoo.wavegan.wavegan_generator import WaveGANGenerator
from zoo.wavegan.wavegan_specgan import SpecGANDiscriminator, SpecGANGenerator
from zoo.wavegan import wavegan_presets  # noqa: F401  (registers the presets)
