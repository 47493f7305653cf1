"""HiFi-GAN on the training side: a GAN vocoder (:mod:`training.families._vocoder`)."""

from training.families._vocoder import vocoder_family

FAMILIES = [vocoder_family("hifigan")]
