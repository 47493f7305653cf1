"""Tacotron 2 on the training side: text + teacher-forced mel batches, the loss is the model's own."""

from __future__ import annotations

import dataclasses

from training.families._text import SpeechSynthesisRecipe, utterance_family


@dataclasses.dataclass
class Tacotron2Recipe(SpeechSynthesisRecipe):
    """Tacotron 2: text ids (batch, text) + teacher-forced mel (batch, frames, n_mels) -> mel, stop, alignment.

    ``segment_length`` is unused (whole utterances); the data needs a ``text`` column. The loss weights live in
    the model preset (``model_overrides.guided_attention_weight=...``).

    Args:
        model_preset, model_overrides: ``tacotron2``, ``tacotron2_small`` or ``tacotron2_tiny`` and overrides.
        mel, bucket_boundaries, max_audio_length: as :class:`~training.families._text.UtteranceRecipe`.
        griffin_lim_iters: as :class:`~training.families._text.SpeechSynthesisRecipe`.
    """

    model_preset: str = "tacotron2"


FAMILIES = [utterance_family("tacotron2", Tacotron2Recipe)]
