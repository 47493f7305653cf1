"""Weight-norm removal and export endpoints shared by the mel-to-waveform GAN vocoders (HiFi-GAN, MelGAN,
Multi-band MelGAN): a mixin for a functional generator built from :mod:`audiogen_tf.layers.conv`.

It lives in ``zoo`` rather than ``audiogen_tf.layers`` because it knows vocoder models (mel in, audio out,
``n_mels`` and ``hop_length``, streaming chunks), not a layer; the generic folding it uses,
:func:`~audiogen_tf.layers.conv.fold_weight_norm`, stays with the layers.
"""

from __future__ import annotations

import keras

from audiogen_tf.layers.conv import count_params_folded, fold_weight_norm


class WeightNormModelMixin:
    """Adds ``remove_weight_norm()`` and vocoder export endpoints to a functional generator.

    The model must have the constructor arguments ``weight_norm``, ``export_layers`` and ``n_mels`` and an
    attribute ``hop_length`` (audio samples per mel frame).
    """

    def remove_weight_norm(self, export_layers=False):
        """An equivalent model of the same class with plain convs (see :func:`fold_weight_norm`).

        Args:
            export_layers: ``False``: Keras ``Conv1D`` / ``Conv1DTranspose``; ``True``: the export-friendly
                :class:`~audiogen_tf.layers.conv.PhaseConv1DTranspose` / :class:`~audiogen_tf.layers.conv.DilatedConv1D` (what :meth:`export_endpoints` exports).
        """
        config = self.get_config()
        if not config.get("weight_norm", False) and bool(config.get("export_layers", False)) == bool(export_layers):
            return self
        return fold_weight_norm(self, export_layers=export_layers)

    def count_params_folded(self) -> int:
        """Parameter count as plain convolutions (weight-norm ``g`` vectors not counted)."""
        return count_params_folded(self)

    def export_endpoints(self, chunk_frames=32, context_frames=8):
        """``[(name, function, input_specs)]`` for export, computed on ``remove_weight_norm(export_layers=True)``.

        Transposed convs run as :class:`~audiogen_tf.layers.conv.PhaseConv1DTranspose`, dilated convs as :class:`~audiogen_tf.layers.conv.DilatedConv1D` and
        reflection padding as concatenated slices, so a float32 ``.tflite`` is one XNNPACK partition even with
        the dynamic-length ``"synthesize"`` signature.

        - ``"synthesize"``: mel (1, None, n_mels) -> audio (1, frames * hop_length, 1).
        - ``"chunk"``: mel (1, chunk_frames + 2 * context_frames, n_mels) -> audio of the central
          ``chunk_frames`` frames, (1, chunk_frames * hop_length, 1). Stream by sliding the window by
          ``chunk_frames`` frames and padding the utterance with ``context_frames`` frames at both ends.

        Example:
            >>> # [name for name, fn, specs in model.export_endpoints()] == ["synthesize", "chunk"]
        """
        plain = self.remove_weight_norm(export_layers=True)
        n_mels, hop = self.n_mels, self.hop_length
        start, stop = context_frames * hop, (context_frames + chunk_frames) * hop

        def synthesize(mel):
            return plain(mel, training=False)

        def chunk(mel):
            return plain(mel, training=False)[:, start:stop, :]

        return [
            ("synthesize", synthesize, [keras.InputSpec(shape=(1, None, n_mels), dtype="float32", name="mel")]),
            (
                "chunk",
                chunk,
                [keras.InputSpec(shape=(1, chunk_frames + 2 * context_frames, n_mels), dtype="float32", name="mel")],
            ),
        ]
