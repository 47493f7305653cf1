"""The istft_vocoder folder's families (the iSTFT vocoder), declared once for :mod:`zoo.families`."""

from zoo.families import ZooFamily
from zoo.istft_vocoder import istft_vocoder_presets  # noqa: F401  (registers the presets)
from zoo.istft_vocoder.istft_vocoder_discriminators import ISTFTVocoderDiscriminator
from zoo.istft_vocoder.istft_vocoder_model import ISTFTVocoder

FAMILIES = [ZooFamily("istft_vocoder", ISTFTVocoder, ISTFTVocoderDiscriminator, synthesis="vocoder",
                      features="mel_config")]
