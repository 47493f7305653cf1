"""ConvVAE presets: tiny ones for tests, note-sized ones for 16 kHz one-second notes (hop 256 -> 64 frames)."""

from audiogen_tf.registry import register_presets

from zoo.vae.vae_model import ConvVAE

PRESETS = {
    # tests: 16 frames x 16 mels, 4-d latent
    "vae_mel_tiny": {"input_type": "mel", "input_length": 16, "input_channels": 16, "channels": [8, 16],
                     "strides": [2, 2], "kernel_size": 3, "latent_dim": 4, "input_shift": -5.0, "input_scale": 3.0},
    # tests: 256-sample segments
    "vae_waveform_tiny": {"input_type": "waveform", "input_length": 256, "input_channels": 1, "channels": [8, 16],
                          "strides": [4, 4], "kernel_size": 7, "latent_dim": 4},
    # 16 kHz notes: 64 frames (16384 samples, hop 256) x 80 mels, 32-d latent, ~1.2 M parameters
    "vae_mel_notes": {"input_type": "mel", "input_length": 64, "input_channels": 80, "channels": [128, 128, 256],
                      "strides": [2, 2, 2], "kernel_size": 5, "latent_dim": 32, "input_shift": -5.0,
                      "input_scale": 3.0},
    # the same notes, conditioned on the timbre (7 classes) with an 8-d latent: the latent is left with pitch and
    # loudness, and a straight line between two notes glides through the pitches in between (beta 0.05)
    "vae_mel_notes_timbre": {"input_type": "mel", "input_length": 64, "input_channels": 80,
                             "channels": [128, 128, 256], "strides": [2, 2, 2], "kernel_size": 5, "latent_dim": 8,
                             "num_classes": 7, "input_shift": -5.0, "input_scale": 3.0},
    # 16 kHz waveform segments of 16384 samples (1.02 s), downsampled 256x
    "vae_waveform_notes": {"input_type": "waveform", "input_length": 16384, "input_channels": 1,
                           "channels": [32, 64, 128, 128], "strides": [4, 4, 4, 4], "kernel_size": 9,
                           "latent_dim": 64},
}

register_presets(ConvVAE, PRESETS)
