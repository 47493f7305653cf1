"""Frame-rate iSTFT vocoder (Vocos / APNet2 / FreeV family): mel -> amplitude and phase -> inverse STFT."""

from zoo.istft_vocoder.istft_vocoder_discriminators import ISTFTVocoderDiscriminator  # noqa: F401
from zoo.istft_vocoder.istft_vocoder_model import ISTFTVocoder  # noqa: F401
from zoo.istft_vocoder import istft_vocoder_presets  # noqa: F401  (registers the presets)
