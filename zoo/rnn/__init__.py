"""Autoregressive recurrent generators: FrameRNN (next log-mel frame, LSTM/GRU) and WaveRNN (sample-level GRU vocoder)."""

from zoo.rnn.rnn_frame_rnn import (  # noqa: F401
    FrameRNN,
    copy_last_frame_loss,
    frame_pairs,
    frame_rnn_dataset,
)
from zoo.rnn.rnn_wavernn import WaveRNN, audio_to_16bit, wavernn_dataset, wavernn_pairs  # noqa: F401
from zoo.rnn import rnn_presets  # noqa: F401  (registers the presets)
