"""Presets of the WaveGAN / SpecGAN family: plain dicts of constructor arguments.

Each preset names a generator/discriminator pair; ``"generator"`` and ``"discriminator"`` hold
the constructor kwargs of :class:`WaveGANGenerator` / :class:`WaveGANDiscriminator` (or the
SpecGAN pair). Paper presets follow Donahue et al. 2019, "Adversarial Audio Synthesis":
d = 64, latent 100, 16384-sample slices at 16 kHz, phase shuffle n = 2; SpecGAN uses 128x128
log-magnitude spectrograms (n_fft 256, hop 128). ``*_tiny`` presets keep every shape of the paper
(16384 samples, 128x128 spectrogram) but use d = 4 so tests run in seconds; a shorter slice
(e.g. ``slice_length=4096``, one layer fewer) is an override away.
"""

from audiogen_tf.registry import register_presets

from zoo.wavegan.wavegan_specgan import SpecGANDiscriminator, SpecGANGenerator
from zoo.wavegan.wavegan_discriminator import WaveGANDiscriminator
from zoo.wavegan.wavegan_generator import WaveGANGenerator

WAVEGAN_PRESETS = {
    "wavegan": {
        "generator": {"latent_dim": 100, "model_dim": 64, "slice_length": 16384},
        "discriminator": {"model_dim": 64, "slice_length": 16384, "phase_shuffle": 2},
    },
    "wavegan_conditional": {
        "generator": {"latent_dim": 100, "model_dim": 64, "slice_length": 16384, "num_classes": 10},
        "discriminator": {"model_dim": 64, "slice_length": 16384, "phase_shuffle": 2, "num_classes": 10},
    },
    "wavegan_tiny": {
        "generator": {"latent_dim": 16, "model_dim": 4, "slice_length": 16384},
        "discriminator": {"model_dim": 4, "slice_length": 16384, "phase_shuffle": 2},
    },
    "wavegan_conditional_tiny": {
        "generator": {"latent_dim": 16, "model_dim": 4, "slice_length": 16384, "num_classes": 2,
                      "label_embedding_dim": 4},
        "discriminator": {"model_dim": 4, "slice_length": 16384, "phase_shuffle": 2, "num_classes": 2},
    },
}

SPECGAN_PRESETS = {
    "specgan": {
        "generator": {"latent_dim": 100, "model_dim": 64, "spec_size": 128, "sample_rate": 16000,
                      "n_fft": 256, "hop_length": 128},
        "discriminator": {"model_dim": 64, "spec_size": 128},
    },
    "specgan_tiny": {
        "generator": {"latent_dim": 16, "model_dim": 4, "spec_size": 128, "sample_rate": 16000,
                      "n_fft": 256, "hop_length": 128},
        "discriminator": {"model_dim": 4, "spec_size": 128},
    },
}


def split(presets: dict, role: str) -> dict:
    """Preset name -> kwargs of one role (``"generator"`` or ``"discriminator"``)."""
    return {name: dict(pair[role]) for name, pair in presets.items()}


register_presets(WaveGANGenerator, split(WAVEGAN_PRESETS, "generator"))
register_presets(WaveGANDiscriminator, split(WAVEGAN_PRESETS, "discriminator"))
register_presets(SpecGANGenerator, split(SPECGAN_PRESETS, "generator"))
register_presets(SpecGANDiscriminator, split(SPECGAN_PRESETS, "discriminator"))
