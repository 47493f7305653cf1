"""CTC recognizer presets: a CPU preset for the festival + flite corpora and a tiny one for tests.

Both take the zoo's TTS mel (22.05 kHz, n_fft 1024, hop 256, 80 Slaney mels up to 8 kHz, magnitude, log floor
1e-5), so the recognizer can also judge a TTS model's mel directly, and transcribe characters.
"""

from audiogen_tf.features import speech_mel_config
from audiogen_tf.registry import register_presets

from zoo.ctc_recognizer.ctc_recognizer_model import CTCRecognizer

TTS_MEL = speech_mel_config()  # the HiFi-GAN mel, so the zoo vocoders speak its output

PRESETS = {
    # 2 strided convs (time stride 4: 46 ms per output frame), 3 BiLSTMs of 2 x 192: 2.91 M parameters
    "ctc_recognizer_small": {"mel_config": TTS_MEL, "conv_filters": [256, 256], "conv_strides": [2, 2],
                             "lstm_units": [192, 192, 192], "dropout": 0.2,
                             "spec_augment": {"freq_masks": 2, "freq_width": 10, "time_masks": 2, "time_width": 20}},
    # for tests and smoke runs
    "ctc_recognizer_tiny": {"mel_config": TTS_MEL, "conv_filters": [16, 16], "conv_strides": [2, 2],
                            "kernel_size": 3, "lstm_units": [8], "dropout": 0.0, "export_frames": 64},
}

register_presets(CTCRecognizer, PRESETS)
