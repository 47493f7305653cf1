"""Presets of the VQ-VAE, the residual-VQ codec and the code prior: tiny ones for tests, fuller ones for
16 kHz notes / speech."""

from audiogen_tf.registry import register_presets

from zoo.vqvae.vqvae_codec import AudioCodec
from zoo.vqvae.vqvae_prior import CodePrior
from zoo.vqvae.vqvae_model import VQVAE

VQVAE_PRESETS = {
    # tests: 16 mels, hop 4 frames, 16 codes of size 8
    "vqvae_mel_tiny": {"input_type": "mel", "input_channels": 16, "channels": [16, 16], "strides": [2, 2],
                       "num_res_blocks": 1, "embedding_dim": 8, "codebook_size": 16, "input_shift": -5.0,
                       "input_scale": 3.0, "seed": 0},
    "vqvae_waveform_tiny": {"input_type": "waveform", "input_channels": 1, "channels": [8, 16], "strides": [4, 4],
                            "num_res_blocks": 1, "embedding_dim": 8, "codebook_size": 16, "seed": 0},
    # 80-mel clips (16 kHz, hop 256), 4x time downsampling (1 code per 64 ms), 256 codes of size 64
    "vqvae_mel": {"input_type": "mel", "input_channels": 80, "channels": [128, 128], "strides": [2, 2],
                  "num_res_blocks": 2, "embedding_dim": 64, "codebook_size": 256, "input_shift": -5.0,
                  "input_scale": 3.0, "seed": 0},
    # waveform, 64x downsampling (250 codes/s at 16 kHz), 512 codes (the paper's speech model used 512 codes)
    "vqvae_waveform": {"input_type": "waveform", "input_channels": 1, "channels": [64, 128, 128],
                       "strides": [4, 4, 4], "num_res_blocks": 2, "embedding_dim": 64, "codebook_size": 512,
                       "seed": 0},
}

CODEC_PRESETS = {
    # tests: hop 8, 2 stages of 16 codes
    "codec_tiny": {"sample_rate": 16000, "channels": 4, "strides": [2, 4], "embedding_dim": 8, "num_quantizers": 2,
                   "codebook_size": 16, "dilations": [1, 3], "seed": 0},
    # small 16 kHz codec: hop 320 (50 frames/s), 4 stages x 1024 codes = 2.0 kbps
    "codec_16khz_small": {"sample_rate": 16000, "channels": 16, "strides": [2, 4, 5, 8], "embedding_dim": 64,
                          "num_quantizers": 4, "codebook_size": 1024, "dilations": [1, 3, 9], "seed": 0},
    # SoundStream-like 16 kHz codec: hop 320, 8 stages x 1024 codes = 4.0 kbps
    "codec_16khz_4kbps": {"sample_rate": 16000, "channels": 32, "strides": [2, 4, 5, 8], "embedding_dim": 128,
                          "num_quantizers": 8, "codebook_size": 1024, "dilations": [1, 3, 9], "seed": 0},
    # SoundStream's 24 kHz layout: hop 320 (75 frames/s), 8 x 1024 codes = 6.0 kbps
    "codec_24khz_6kbps": {"sample_rate": 24000, "channels": 32, "strides": [2, 4, 5, 8], "embedding_dim": 128,
                          "num_quantizers": 8, "codebook_size": 1024, "dilations": [1, 3, 9], "seed": 0},
}

PRIOR_PRESETS = {
    "prior_tiny": {"codebook_size": 16, "embedding_dim": 8, "units": 16, "num_layers": 1},
    "prior_vqvae_mel": {"codebook_size": 256, "embedding_dim": 64, "units": 256, "num_layers": 2},
}

register_presets(VQVAE, VQVAE_PRESETS)
register_presets(AudioCodec, CODEC_PRESETS)
register_presets(CodePrior, PRIOR_PRESETS)
