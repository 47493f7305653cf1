"""The CTC-aligned TTS on the training side: text + mel + mel-length batches, the loss is the model's own."""

from __future__ import annotations

import dataclasses

from training.families._text import SpeechSynthesisRecipe, utterance_family


@dataclasses.dataclass
class CTCTTSRecipe(SpeechSynthesisRecipe):
    """LSTM TTS with a CTC (forward-sum) alignment: ``(text_ids, text_lengths, mel, mel_lengths)`` -> mel, durations.

    The loss weights (mel, duration, forward-sum, binarization and its start step) live in the model preset
    (``model_overrides.binarization_start_steps=...``).

    Args:
        model_preset, model_overrides: ``ctc_tts_small`` or ``ctc_tts_tiny`` and overrides.
        mel, bucket_boundaries, max_audio_length: as :class:`~training.families._text.UtteranceRecipe`.
        griffin_lim_iters: as :class:`~training.families._text.SpeechSynthesisRecipe`.
    """

    model_preset: str = "ctc_tts_small"


FAMILIES = [utterance_family("ctc_tts", CTCTTSRecipe)]
