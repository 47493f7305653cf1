"""Tacotron 2 presets: the paper's sizes, a small one a 2-core CPU trains in about an hour, and a tiny one for tests.

All carry 80 log-mel bins at 22050 Hz, hop 256 (the HiFi-GAN mel, so a HiFi-GAN or iSTFT vocoder preset vocodes
them) and characters, except ``tacotron2_slt``: the small preset trained on espeak-ng phonemes of the festival slt
corpus, whose float16 weights ship beside this file.
"""

from audiogen_tf.features import speech_mel_config
from audiogen_tf.registry import register_presets
from audiogen_tf.text import PHONEME_SYMBOLS_V1

from zoo.tacotron2.tacotron2_model import Tacotron2

#: the symbol table tacotron2_slt was trained with (its embedding rows follow this order), frozen in audiogen_tf.text
SLT_SYMBOLS = PHONEME_SYMBOLS_V1

TACOTRON2_PRESETS = {
    # Shen et al. 2018, Sec. 2.2-2.3: 512-dim embedding and convs, BiLSTM 2 x 256, 2 x 1024 decoder LSTMs,
    # location-sensitive attention 128 (32 filters of length 31), pre-net 2 x 256, post-net 5 x 512, r = 1.
    "tacotron2": {"mel_config": speech_mel_config()},
    # ~1 hour on a 2-core CPU: smaller everything, 3 frames per step, guided attention to align fast (weight 10:
    # the loss is a mean over (step, text) cells, about 0.6 / text_length for a uniform alignment).
    "tacotron2_small": {
        "embedding_dim": 256, "encoder_conv_filters": 256, "encoder_lstm_units": 128, "attention_units": 128,
        "location_filters": 16, "prenet_units": [128, 128], "decoder_units": 512, "reduction_factor": 3,
        "postnet_filters": 256, "max_decoder_steps": 400, "guided_attention_weight": 10.0,
        "stop_pos_weight": 5.0, "mel_l1_weight": 1.0, "mel_config": speech_mel_config(),
    },
    # trained: the small preset on espeak-ng phonemes of the festival slt corpus (card: tacotron2_slt.md)
    "tacotron2_slt": {
        "embedding_dim": 256, "encoder_conv_filters": 256, "encoder_lstm_units": 128, "attention_units": 128,
        "location_filters": 16, "prenet_units": [128, 128], "decoder_units": 512, "reduction_factor": 3,
        "postnet_filters": 256, "max_decoder_steps": 400, "guided_attention_weight": 50.0,
        "stop_pos_weight": 5.0, "mel_l1_weight": 1.0, "mel_config": speech_mel_config(),
        "frontend": {"symbol_type": "phonemes", "symbols": list(SLT_SYMBOLS), "max_length": 256, "voice": "en-us"},
        "weights": {"file": "tacotron2_slt.npz",
                    "sha256": "894e83216c7a8a12296c9dab655a95daf1f83bf4c02fe23c12b198e709bce5c0"},
    },
    # for tests: a few thousand parameters per layer, r = 2.
    "tacotron2_tiny": {
        "embedding_dim": 16, "encoder_conv_layers": 2, "encoder_conv_filters": 16, "encoder_kernel_size": 3,
        "encoder_lstm_units": 8, "attention_units": 8, "location_filters": 4, "location_kernel_size": 5,
        "prenet_units": [16, 16], "decoder_units": 24, "reduction_factor": 2, "postnet_layers": 2,
        "postnet_filters": 16, "postnet_kernel_size": 3, "max_decoder_steps": 50, "guided_attention_weight": 1.0,
        "frontend": {"symbol_type": "characters", "max_length": 64}, "mel_config": speech_mel_config(),
    },
}

register_presets(Tacotron2, TACOTRON2_PRESETS)
