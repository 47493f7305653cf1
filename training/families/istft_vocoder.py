"""The iSTFT vocoder on the training side: a GAN vocoder (:mod:`training.families._vocoder`) whose frame-level
amplitude / phase losses the recipe turns on."""

from training.families._vocoder import vocoder_family

FAMILIES = [vocoder_family("istft_vocoder")]
