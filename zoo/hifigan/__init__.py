"""HiFi-GAN (Kong et al. 2020): generator, multi-period and multi-scale discriminators, presets."""

from zoo.hifigan.hifigan_discriminators import (  # noqa: F401
    HiFiGANDiscriminator,
    MultiPeriodDiscriminator,
    MultiScaleDiscriminator,
)
from zoo.hifigan.hifigan_generator import HiFiGANGenerator  # noqa: F401
from zoo.hifigan import hifigan_presets  # noqa: F401  (registers the presets)
