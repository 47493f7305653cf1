"""iSTFT vocoder presets: the published Vocos mel size, a small CPU preset (and its trained weights on the festival
slt voice, shipped as float16 beside this file), and a tiny one for tests.

All take the HiFi-GAN mel (22.05 kHz, n_fft 1024, hop 256, 80 Slaney mels up to 8 kHz, magnitude, log
floor 1e-5), so they drop in behind Tacotron 2, the CLI and the ``Synthesizer`` wherever a HiFi-GAN does.
"""

from audiogen_tf.features import speech_mel_config
from audiogen_tf.registry import register_presets

from zoo.istft_vocoder.istft_vocoder_discriminators import ISTFTVocoderDiscriminator
from zoo.istft_vocoder.istft_vocoder_model import ISTFTVocoder

HIFIGAN_MEL = speech_mel_config()

PRESETS = {
    # Vocos' mel-vocoder size (dim 512, MLP 1536, 8 blocks): 13.72 M parameters (Vocos 13.5 M; + the second phase head)
    "istft_vocoder_vocos": {"mel_config": HIFIGAN_MEL, "dim": 512, "intermediate_dim": 1536, "num_blocks": 8},
    # the CPU preset: 3.72 M parameters, trained on two cores
    "istft_vocoder_small": {"mel_config": HIFIGAN_MEL, "dim": 256, "intermediate_dim": 768, "num_blocks": 8},
    # trained: the small preset after 130 minutes on festival slt + flite kal (card: istft_vocoder_slt.md)
    "istft_vocoder_slt": {"mel_config": HIFIGAN_MEL, "dim": 256, "intermediate_dim": 768, "num_blocks": 8,
                          "weights": {"file": "istft_vocoder_slt.npz",
                                      "sha256": "85e869698a479f1c76d71de98f1848fc3c122e48e899264e133980fb881074db"}},
    # trained: istft_vocoder_slt + 20 minutes with the STFT consistency loss (150 in all), meant to be used with 64
    # consistency iterations (card: istft_vocoder_slt_consistent.md)
    "istft_vocoder_slt_consistent": {"mel_config": HIFIGAN_MEL, "dim": 256, "intermediate_dim": 768, "num_blocks": 8,
                                     "weights": {"file": "istft_vocoder_slt_consistent.npz",
                                                 "sha256": "1434d62d04a1bcbc460a6940c73f686ef38e3bde9f314e7ea8157ccd5a1ab10a"}},
    # for tests and smoke runs
    "istft_vocoder_tiny": {"mel_config": HIFIGAN_MEL, "dim": 32, "intermediate_dim": 64, "num_blocks": 2},
}

DISCRIMINATOR_PRESETS = {
    "istft_vocoder": {},
    # all five periods and three resolutions at 1/16 width: 0.5 s per adversarial step of the small preset on
    # two CPU cores (batch 16 x 8192 samples), against 10 s at full width
    "istft_vocoder_cpu": {"width": 1.0 / 16},
    "istft_vocoder_tiny": {"periods": [2, 3], "resolutions": [[512, 128, 512], [256, 64, 256]], "width": 1.0 / 16},
}

register_presets(ISTFTVocoder, PRESETS)
register_presets(ISTFTVocoderDiscriminator, DISCRIMINATOR_PRESETS)
