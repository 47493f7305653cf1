"""The hifigan folder's families (HiFi-GAN), declared once for :mod:`zoo.families`."""

from zoo.families import ZooFamily
from zoo.hifigan import hifigan_presets  # noqa: F401  (registers the presets)
from zoo.hifigan.hifigan_discriminators import HiFiGANDiscriminator, MultiPeriodDiscriminator, MultiScaleDiscriminator
from zoo.hifigan.hifigan_generator import HiFiGANGenerator

FAMILIES = [ZooFamily("hifigan", HiFiGANGenerator, HiFiGANDiscriminator, synthesis="vocoder",
                      training_only=(MultiPeriodDiscriminator, MultiScaleDiscriminator), features="mel_config")]
