"""CNN audio encoders (mel-spectrogram VGG-style and raw-waveform SincNet-style) for classifying and judging audio."""

from zoo.encoders.mel_cnn_encoder import MelCNNEncoder  # noqa: F401
from zoo.encoders.waveform_cnn_encoder import WaveformCNNEncoder  # noqa: F401
from zoo.encoders import encoder_presets  # noqa: F401  (registers the presets)
