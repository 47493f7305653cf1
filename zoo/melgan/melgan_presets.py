"""MelGAN and Multi-band MelGAN presets (Kumar et al. 2019; Yang et al. 2020) and tiny test versions."""

from audiogen_tf.features import speech_mel_config
from audiogen_tf.registry import register_presets

from zoo.melgan.melgan_discriminators import MelGANMultiScaleDiscriminator
from zoo.melgan.melgan_generator import MelGANGenerator
from zoo.melgan.melgan_multiband_generator import MultiBandMelGANGenerator

GENERATOR_PRESETS = {
    # 22.05 kHz, hop 256, 4.26 M parameters
    "melgan": {"channels": 512, "upsample_rates": [8, 8, 2, 2], "residual_dilations": [1, 3, 9],
               "mel_config": speech_mel_config()},
    "melgan_tiny": {"channels": 32, "upsample_rates": [8, 8, 4], "residual_dilations": [1, 3],
                    "mel_config": speech_mel_config()},
}

MULTIBAND_PRESETS = {
    # the paper's sub-band generator: 384 channels, upsampling 2 x 5 x 5 = 50 sub-band samples per frame,
    # 4 sub-bands -> hop 200 (12.5 ms at 16 kHz), residual stacks with dilations 1, 3, 9, 27
    "multiband_melgan": {"channels": 384, "upsample_rates": [2, 5, 5], "residual_dilations": [1, 3, 9, 27],
                         "subbands": 4, "mel_config": speech_mel_config(hop_length=200, win_length=800, fmin=80.0,
                                                                         fmax=7600.0)},
    # hop 256 (8 x 8 x 4 sub-bands) to pair with the 22.05 kHz / hop 256 data of the other vocoders
    "multiband_melgan_tiny": {"channels": 32, "upsample_rates": [8, 8], "residual_dilations": [1, 3],
                              "subbands": 4, "mel_config": speech_mel_config()},
}

DISCRIMINATOR_PRESETS = {
    "melgan": {"num_scales": 3, "width": 1.0},
    "melgan_tiny": {"num_scales": 2, "width": 1.0 / 8},
}

register_presets(MelGANGenerator, GENERATOR_PRESETS)
register_presets(MultiBandMelGANGenerator, MULTIBAND_PRESETS)
register_presets(MelGANMultiScaleDiscriminator, DISCRIMINATOR_PRESETS)
