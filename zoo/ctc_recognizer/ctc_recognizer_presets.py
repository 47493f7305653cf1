"""CTC recognizer presets: a CPU preset for the festival + flite corpora, its trained weights (``ctc_recognizer_en``,
float16 beside this file, card ``ctc_recognizer_en.md``) and a tiny one for tests.

Both take the zoo's TTS mel (22.05 kHz, n_fft 1024, hop 256, 80 Slaney mels up to 8 kHz, magnitude, log floor
1e-5), so the recognizer can also judge a TTS model's mel directly, and transcribe characters.
"""

from audiogen_tf.features import speech_mel_config
from audiogen_tf.registry import register_presets
from audiogen_tf.text import CHARACTER_SYMBOLS_V1

from zoo.ctc_recognizer.ctc_recognizer_model import CTCRecognizer

TTS_MEL = speech_mel_config()  # the HiFi-GAN mel, so the zoo vocoders speak its output

PRESETS = {
    # 2 strided convs (time stride 4: 46 ms per output frame), 3 BiLSTMs of 2 x 192: 2.91 M parameters
    "ctc_recognizer_small": {"mel_config": TTS_MEL, "conv_filters": [256, 256], "conv_strides": [2, 2],
                             "lstm_units": [192, 192, 192], "dropout": 0.2,
                             "spec_augment": {"freq_masks": 2, "freq_width": 10, "time_masks": 2, "time_width": 20}},
    # trained: ctc_recognizer_small on festival slt + flite kal, rms + 1804 generated sentences, 90 min on 2 cores
    # (card: ctc_recognizer_en.md); the architecture and character table are repeated so tuning the CPU preset or
    # growing the default table cannot move the shipped file's layout
    "ctc_recognizer_en": {"mel_config": TTS_MEL,
                          "frontend": {"symbol_type": "characters", "symbols": list(CHARACTER_SYMBOLS_V1),
                                       "max_length": 256},
                          "conv_filters": [256, 256], "conv_strides": [2, 2], "lstm_units": [192, 192, 192],
                          "dropout": 0.2,
                          "spec_augment": {"freq_masks": 2, "freq_width": 10, "time_masks": 2, "time_width": 20},
                          "weights": {"file": "ctc_recognizer_en.npz",
                                      "sha256": "5dee4940df4d5d6ac8d4393198b1bab864be048c86b37f73ec51fbb07fe99e19"}},
    # for tests and smoke runs
    "ctc_recognizer_tiny": {"mel_config": TTS_MEL, "conv_filters": [16, 16], "conv_strides": [2, 2],
                            "kernel_size": 3, "lstm_units": [8], "dropout": 0.0, "export_frames": 64},
}

register_presets(CTCRecognizer, PRESETS)
