"""Tacotron 2 (Shen et al. 2018): text -> log-mel with location-sensitive (or DCA) attention, presets, losses."""

from zoo.tacotron2.tacotron2_losses import (  # noqa: F401
    diagonality_score,
    guided_attention_loss,
    masked_mel_loss,
    stop_token_loss,
    tacotron2_losses,
)
from zoo.tacotron2.tacotron2_model import (  # noqa: F401
    LSTMStep,
    MaskedBiLSTM,
    Tacotron2,
    Tacotron2Decoder,
    Tacotron2Encoder,
    Tacotron2Postnet,
    tacotron2_dataset,
)
from zoo.tacotron2 import tacotron2_presets  # noqa: F401  (registers the presets)
