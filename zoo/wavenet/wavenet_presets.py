"""WaveNet presets: the paper-sized 8-bit mu-law model (van den Oord et al. 2016; 3 cycles of 10 layers, as in
common reproductions), a mel-conditioned MoL vocoder (Parallel WaveNet / Tacotron 2 style) and tiny ones for tests."""

from audiogen_tf.features import speech_mel_config
from audiogen_tf.registry import register_presets

from zoo.wavenet.wavenet_model import WaveNet

PRESETS = {
    # unconditional 8-bit mu-law, receptive field 3070 samples (~0.19 s at 16 kHz)
    "wavenet_base": {"residual_channels": 64, "dilation_channels": 64, "skip_channels": 256, "end_channels": 256,
                     "layers_per_cycle": 10, "num_cycles": 3},
    # mel-conditioned vocoder, 10-component mixture of logistics over 16-bit mu-law, hop 256 (22.05 kHz)
    "wavenet_mol_vocoder": {"quantization_channels": 65536, "input_type": "scalar", "output": "mol",
                            "num_mixtures": 10, "residual_channels": 128, "dilation_channels": 128,
                            "skip_channels": 128, "layers_per_cycle": 10, "num_cycles": 3,
                            "local_channels": 80, "upsample_factors": [4, 4, 4, 4], "mel_config": speech_mel_config()},
    # for tests and smoke runs: receptive field 32
    "wavenet_tiny": {"residual_channels": 16, "dilation_channels": 16, "skip_channels": 32,
                     "layers_per_cycle": 4, "num_cycles": 2},
    # tiny conditional model: 4 speakers, 8 mel bands at hop 16
    "wavenet_tiny_conditional": {"residual_channels": 16, "dilation_channels": 16, "skip_channels": 32,
                                 "layers_per_cycle": 4, "num_cycles": 2, "global_classes": 4,
                                 "global_channels": 8, "local_channels": 8, "upsample_factors": [4, 4],
                                 "mel_config": speech_mel_config(sample_rate=16000, n_fft=64, hop_length=16,
                                                                 win_length=64, n_mels=8, fmax=8000.0)},
}

register_presets(WaveNet, PRESETS)
