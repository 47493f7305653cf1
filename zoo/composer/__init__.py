"""Symbolic music: an LSTM / GRU over note events (Performance-RNN-style vocabulary) with a style and key condition."""

from zoo.composer.composer_model import (  # noqa: F401
    AddOverTime,
    EventComposer,
    LocalSelfAttention,
    composer_dataset,
    event_pairs,
    event_windows,
    masked_token_loss,
)
from zoo.composer import composer_presets  # noqa: F401  (registers the presets)
