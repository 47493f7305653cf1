"""The rnn folder's families (FrameRNN and WaveRNN), declared once for :mod:`zoo.families`."""

from zoo.families import ZooFamily
from zoo.rnn import rnn_presets  # noqa: F401  (registers the presets)
from zoo.rnn.rnn_frame_rnn import FrameRNN, frame_rnn_dataset
from zoo.rnn.rnn_wavernn import WaveRNN, wavernn_dataset

FAMILIES = [
    ZooFamily("frame_rnn", FrameRNN, synthesis="frames", dataset=frame_rnn_dataset),
    ZooFamily("wavernn", WaveRNN, synthesis="autoregressive_vocoder", dataset=wavernn_dataset),
]
