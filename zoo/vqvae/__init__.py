"""VQ-VAE (van den Oord et al. 2017), its LSTM code prior, and a residual-VQ audio codec (SoundStream / EnCodec).

The quantizers themselves live in :mod:`audiogen_tf.layers.quantizers`.
"""

from audiogen_tf.layers.quantizers import (  # noqa: F401
    ResidualVectorQuantizer,
    VectorQuantizer,
    codebook_perplexity,
    codebook_usage,
)
from zoo.vqvae.vqvae_codec import AudioCodec  # noqa: F401
from zoo.vqvae.vqvae_prior import CodePrior, teacher_forcing_pair  # noqa: F401
from zoo.vqvae.vqvae_model import VQVAE  # noqa: F401
from zoo.vqvae import vqvae_presets  # noqa: F401  (registers the presets)
