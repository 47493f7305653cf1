"""HiFi-GAN presets: the paper's V1/V2/V3 generators (Kong et al. 2020, Table 1 / appendix) and a tiny one."""

from audiogen_tf.features import speech_mel_config
from audiogen_tf.registry import register_presets

from zoo.hifigan.hifigan_discriminators import HiFiGANDiscriminator, MultiPeriodDiscriminator, MultiScaleDiscriminator
from zoo.hifigan.hifigan_generator import HiFiGANGenerator

_V1_BLOCKS = {
    "resblock": "1",
    "resblock_kernel_sizes": [3, 7, 11],
    "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
}

_MEL = {"mel_config": speech_mel_config()}  # every generator carries the paper's input features

GENERATOR_PRESETS = {
    # 22.05 kHz, hop 256; 13.92 M parameters
    "hifigan_v1": {"upsample_rates": [8, 8, 2, 2], "upsample_kernel_sizes": [16, 16, 4, 4],
                   "upsample_initial_channel": 512, **_V1_BLOCKS, **_MEL},
    # same layout, 128 channels; 0.92 M parameters
    "hifigan_v2": {"upsample_rates": [8, 8, 2, 2], "upsample_kernel_sizes": [16, 16, 4, 4],
                   "upsample_initial_channel": 128, **_V1_BLOCKS, **_MEL},
    # ResBlock2, three stages; 1.46 M parameters
    "hifigan_v3": {"upsample_rates": [8, 8, 4], "upsample_kernel_sizes": [16, 16, 8],
                   "upsample_initial_channel": 256, "resblock": "2",
                   "resblock_kernel_sizes": [3, 5, 7],
                   "resblock_dilation_sizes": [[1, 2], [2, 6], [3, 12]], **_MEL},
    # for tests and smoke runs: hop 256, 32 -> 4 channels, ResBlock2 with two kernels
    "hifigan_tiny": {"upsample_rates": [8, 8, 4], "upsample_kernel_sizes": [16, 16, 8],
                     "upsample_initial_channel": 32, "resblock": "2",
                     "resblock_kernel_sizes": [3, 5],
                     "resblock_dilation_sizes": [[1, 2], [2, 6]], **_MEL},
}

DISCRIMINATOR_PRESETS = {
    "hifigan": {"periods": [2, 3, 5, 7, 11], "num_scales": 3, "width": 1.0},
    # channel widths scaled by 1/16 (at least 1 channel per group), for tests
    "hifigan_tiny": {"periods": [2, 3], "num_scales": 2, "width": 1.0 / 16},
}

register_presets(HiFiGANGenerator, GENERATOR_PRESETS)
register_presets(HiFiGANDiscriminator, DISCRIMINATOR_PRESETS)
register_presets(MultiPeriodDiscriminator, {k: {"periods": v["periods"], "width": v["width"]}
                                            for k, v in DISCRIMINATOR_PRESETS.items()})
register_presets(MultiScaleDiscriminator, {k: {"num_scales": v["num_scales"], "width": v["width"]}
                                           for k, v in DISCRIMINATOR_PRESETS.items()})
