"""Presets of the composer: plain dicts of constructor arguments, registered by name.

Example:
    >>> from zoo.composer import EventComposer
    >>> EventComposer.presets()
    ['composer_chorales', 'composer_tiny', 'composer_tiny_attention']
"""

from audiogen_tf.registry import register_presets
from zoo.composer.composer_model import EventComposer

COMPOSER_PRESETS = {
    # tests: one 32-unit LSTM layer, conditioned on style and key
    "composer_tiny": {"vocab_size": 307, "embedding_dim": 16, "units": 32, "num_layers": 1, "cell_type": "lstm",
                      "num_styles": 2, "num_keys": 24},
    "composer_tiny_attention": {"vocab_size": 307, "embedding_dim": 16, "units": 32, "num_layers": 1,
                                "cell_type": "lstm", "num_styles": 2, "num_keys": 24, "attention_window": 8,
                                "attention_dim": 16},
    # the real one, sized for the ~170k training events of the chorales (x7 transpositions) on two CPU cores:
    # 2 x 256 LSTM, 32-step local attention, dropout 0.2
    "composer_chorales": {"vocab_size": 307, "embedding_dim": 64, "units": 256, "num_layers": 2, "cell_type": "lstm",
                          "num_styles": 2, "num_keys": 24, "attention_window": 32, "attention_dim": 64,
                          "dropout": 0.2},
}

register_presets(EventComposer, COMPOSER_PRESETS)
