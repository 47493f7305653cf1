"""CTC-aligned LSTM TTS presets: a CPU preset trained within 150 minutes on two cores, its trained weights on the
festival slt voice (``ctc_tts_slt``, float16 beside this file, card ``ctc_tts_slt.md``), and a tiny one for tests.

Both predict the zoo's TTS mel (22.05 kHz, n_fft 1024, hop 256, 80 Slaney mels up to 8 kHz, magnitude, log floor
1e-5), the input of the Griffin-Lim baseline, the HiFi-GAN and the iSTFT vocoders and the CTC recognizer.
"""

from audiogen_tf.features import speech_mel_config
from audiogen_tf.registry import register_presets
from audiogen_tf.text import PHONEME_SYMBOLS_V1

from zoo.ctc_tts.ctc_tts_model import CTCTTS

TTS_MEL = speech_mel_config()  # the HiFi-GAN mel, so the zoo vocoders speak its output

PRESETS = {
    # the CPU preset on espeak-ng phonemes; max_frames 1000 = 11.6 s of speech per call. The decoder BiLSTM steps
    # over groups of 4 frames: a training step 1.7x faster than one step per frame (batch 16 of festival
    # sentences, 2 cores: 0.42-0.66 s against 0.87-1.09 s for the gradient). Aligner temperature 1.0: on
    # festival batches the forward-sum loss (aligner alone, Adam 1e-3) fell 2.7 -> 1.12 in 200 steps, against
    # 2.21 at 0.01 and 1.38 at 0.1 (3.0: 1.02)
    "ctc_tts_small": {"mel_config": TTS_MEL, "frontend": {"symbol_type": "phonemes", "max_length": 256},
                      "embedding_dim": 192, "encoder_lstm_units": 96, "aligner_dim": 80, "aligner_temperature": 1.0,
                      "duration_filters": 192, "decoder_filters": 192, "decoder_lstm_units": 192,
                      "decoder_lstm_stride": 4, "dropout": 0.1,
                      "binarization_start_steps": 1000, "max_frames": 1000},
    # trained: ctc_tts_small on espeak-ng phonemes of the festival slt corpus, 115 min on 2 cores (card: ctc_tts_slt.md)
    "ctc_tts_slt": {"mel_config": TTS_MEL,
                    "frontend": {"symbol_type": "phonemes", "symbols": list(PHONEME_SYMBOLS_V1), "max_length": 256,
                                 "voice": "en-us"},
                    "embedding_dim": 192, "encoder_lstm_units": 96, "aligner_dim": 80, "aligner_temperature": 1.0,
                    "duration_filters": 192, "decoder_filters": 192, "decoder_lstm_units": 192,
                    "decoder_lstm_stride": 4, "dropout": 0.1, "binarization_start_steps": 1000, "max_frames": 1000,
                    "weights": {"file": "ctc_tts_slt.npz",
                                "sha256": "b7d623246626bcdfe71f84f6ffe94c78eec95a1bfbd8496f0414777740eb78b1"}},
    # for tests: characters, a few thousand parameters per layer
    "ctc_tts_tiny": {"mel_config": TTS_MEL, "frontend": {"symbol_type": "characters", "max_length": 32},
                     "embedding_dim": 16, "encoder_conv_layers": 1, "encoder_kernel_size": 3, "encoder_lstm_units": 8,
                     "aligner_dim": 8, "aligner_temperature": 0.1, "duration_filters": 16, "decoder_conv_layers": 1,
                     "decoder_filters": 16,
                     "decoder_kernel_size": 3, "decoder_lstm_units": 8, "dropout": 0.0,
                     "binarization_start_steps": 0, "max_frames": 64},
}

register_presets(CTCTTS, PRESETS)
