"""CNN audio encoders (mel-spectrogram VGG-style and raw-waveform SincNet-style) for classifying and judging audio."""

from zoo.encoders.encoders_mel_cnn import MelCNNEncoder  # noqa: F401
from zoo.encoders.encoders_waveform_cnn import WaveformCNNEncoder  # noqa: F401
from zoo.encoders import encoders_presets  # noqa: F401  (registers the presets)
