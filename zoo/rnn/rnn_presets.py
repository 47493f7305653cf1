"""Presets of the recurrent generators: plain dicts of constructor arguments, registered by name.

Example:
    >>> from zoo.rnn import FrameRNN, WaveRNN
    >>> FrameRNN.presets(), WaveRNN.presets()
    (['frame_rnn_full', 'frame_rnn_tiny'], ['wavernn_full', 'wavernn_tiny', 'wavernn_tiny_coarse_fine'])
"""

from audiogen_tf.features import speech_mel_config
from audiogen_tf.registry import register_presets
from zoo.rnn.rnn_frame_rnn import FrameRNN
from zoo.rnn.rnn_wavernn import WaveRNN

# 16 kHz notes / tests: 40 bands, hop 128 (8 ms frames)
NOTES_MEL = {"sample_rate": 16000, "n_fft": 512, "hop_length": 128, "win_length": 512, "n_mels": 40,
             "fmin": 0.0, "fmax": 8000.0, "power": 1.0, "htk": False, "norm": "slaney", "center": True,
             "log_floor": 1e-5}

FRAME_RNN_PRESETS = {
    "frame_rnn_tiny": {"n_mels": 40, "units": 64, "num_layers": 2, "cell_type": "lstm", "prenet_units": 64,
                       "mel_config": NOTES_MEL},
    # Tacotron-2-sized decoder stack (2 x 1024 LSTM, 256-wide pre-net) on 80-band 22.05 kHz mels, no attention
    "frame_rnn_full": {"n_mels": 80, "units": 1024, "num_layers": 2, "cell_type": "lstm", "prenet_units": 256,
                       "mel_config": speech_mel_config()},
}

WAVERNN_PRESETS = {
    "wavernn_tiny": {"n_mels": 40, "hop_length": 128, "rnn_units": 64, "fc_units": 64, "cond_channels": 16,
                     "output": "mulaw", "mel_config": NOTES_MEL},
    "wavernn_tiny_coarse_fine": {"n_mels": 40, "hop_length": 128, "rnn_units": 64, "fc_units": 64,
                                 "cond_channels": 16, "output": "coarse_fine", "mel_config": NOTES_MEL},
    # the paper's WaveRNN-896: 896 state units split coarse / fine, 16-bit output; 80-band mels, hop 256
    "wavernn_full": {"n_mels": 80, "hop_length": 256, "rnn_units": 896, "fc_units": 896, "cond_channels": 128,
                     "output": "coarse_fine", "mel_config": speech_mel_config()},
}

register_presets(FrameRNN, FRAME_RNN_PRESETS)
register_presets(WaveRNN, WAVERNN_PRESETS)
