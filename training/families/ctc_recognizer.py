"""The CTC recognizer on the training side: (mel, lengths) batches with transcripts, the model's CTC loss."""

from __future__ import annotations

import dataclasses

from training.families._text import UtteranceRecipe, utterance_family


@dataclasses.dataclass
class CTCRecognizerRecipe(UtteranceRecipe):
    """CTC recognizer: ``(mel, mel_lengths)`` -> per-frame symbol logits, CTC loss against the transcript.

    Args:
        model_preset, model_overrides: ``ctc_recognizer_small`` or ``ctc_recognizer_tiny`` and overrides.
        mel, bucket_boundaries, max_audio_length: as :class:`~training.families._text.UtteranceRecipe`.
    """

    model_preset: str = "ctc_recognizer_small"


FAMILIES = [utterance_family("ctc_recognizer", CTCRecognizerRecipe)]
