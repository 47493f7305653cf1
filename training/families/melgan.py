"""MelGAN and Multi-band MelGAN on the training side: GAN vocoders (:mod:`training.families._vocoder`)."""

from training.families._vocoder import vocoder_family

FAMILIES = [vocoder_family("melgan"), vocoder_family("multiband_melgan")]
