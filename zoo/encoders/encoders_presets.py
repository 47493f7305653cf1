"""Presets of the CNN encoders: plain dicts of constructor arguments (``num_classes`` is set per task).

``*_tiny`` presets keep 1 s of 16 kHz audio as input but use few, narrow layers so tests and the CPU
benchmark run in seconds; the full presets follow the VGGish / PANNs (mel) and SincNet (waveform) sizes.
"""

from audiogen_tf.registry import register_presets

from zoo.encoders.encoders_mel_cnn import MelCNNEncoder
from zoo.encoders.encoders_waveform_cnn import WaveformCNNEncoder

MEL_CNN_PRESETS = {
    "mel_cnn": {
        "sample_rate": 16000, "num_samples": 16000, "n_fft": 512, "hop_length": 160, "n_mels": 64,
        "filters": [64, 128, 256, 512], "convs_per_block": 2, "embedding_dim": 256, "dropout": 0.2,
    },
    "mel_cnn_tiny": {
        "sample_rate": 16000, "num_samples": 16000, "n_fft": 512, "hop_length": 256, "n_mels": 32,
        "filters": [8, 16, 32], "convs_per_block": 2, "embedding_dim": 32, "dropout": 0.1,
    },
}

WAVEFORM_CNN_PRESETS = {
    "waveform_cnn": {
        "sample_rate": 16000, "num_samples": 16000, "frontend": "sinc", "frontend_filters": 80,
        "frontend_kernel": 251, "frontend_stride": 2, "frontend_pool": 4, "filters": [64, 128, 128, 256],
        "convs_per_block": 2, "block_pool": 4, "embedding_dim": 256, "dropout": 0.2,
    },
    "waveform_cnn_tiny": {
        "sample_rate": 16000, "num_samples": 16000, "frontend": "sinc", "frontend_filters": 16,
        "frontend_kernel": 101, "frontend_stride": 4, "frontend_pool": 4, "filters": [16, 32, 32],
        "convs_per_block": 1, "block_pool": 4, "embedding_dim": 32, "dropout": 0.1,
    },
}

register_presets(MelCNNEncoder, MEL_CNN_PRESETS)
register_presets(WaveformCNNEncoder, WAVEFORM_CNN_PRESETS)
