"""What the text / utterance families share on the training side: whole-utterance recipes (length buckets), a
model that carries the recipe's mel and is its own loss, and batches from the family's zoo data adapter."""

from __future__ import annotations

import dataclasses

from training.families import TrainFamily, compiled, preset_model
from training.recipes import ModelRecipe


@dataclasses.dataclass
class UtteranceRecipe(ModelRecipe):
    """Whole utterances with a ``text`` column (``segment_length`` unused), bucketed by length.

    Args:
        model_preset, model_overrides: the preset and its overrides (the loss weights live in the preset).
        mel: ``MelConfig`` fields of the model's mel (passed to it as ``mel_config``).
        bucket_boundaries: audio lengths in samples separating the length buckets (``None``: one bucket).
        max_audio_length: drop longer utterances (samples; ``None``: keep all).
    """

    bucket_boundaries: list | None = None
    max_audio_length: int | None = None

    def check(self):
        bad = super().check()
        if self.bucket_boundaries is not None and any(int(b) < 1 for b in self.bucket_boundaries):
            bad.append(("bucket_boundaries", f"must be positive sample counts, got {self.bucket_boundaries}"))
        return bad


@dataclasses.dataclass
class SpeechSynthesisRecipe(UtteranceRecipe):
    """An utterance recipe of a text-to-speech model (Tacotron 2, CTC TTS).

    Args:
        griffin_lim_iters: Griffin-Lim iterations of ``audiogen synthesize``.
    """

    griffin_lim_iters: int = 32

    def check(self):
        bad = super().check()
        if self.griffin_lim_iters < 1:
            bad.append(("griffin_lim_iters", f"must be >= 1, got {self.griffin_lim_iters}"))
        return bad


def build_models(recipe, num_classes=None) -> dict:
    """The model of the preset, carrying the recipe's mel (``mel_config``)."""
    overrides = dict(recipe.model_overrides)
    overrides.setdefault("mel_config", recipe.mel_config().to_dict())
    return preset_model(recipe, overrides)


def build_trainer(recipe, models):
    """The model compiled with the recipe's optimizer (its ``compute_loss`` is the loss)."""
    return compiled(recipe, models["model"])


def utterance_family(name: str, recipe: type) -> TrainFamily:
    """A family whose batches come from its zoo data adapter (:attr:`zoo.families.ZooFamily.dataset`, called as
    ``fn(source, frontend, batch_size, mel_config, bucket_boundaries=..., max_audio_length=..., **kw)``)."""

    def dataset(recipe, source, batch_size, models, vocabulary, kw):
        from zoo.families import zoo_family

        model = (models or {}).get("model")
        frontend = model.frontend if model is not None else recipe.model_kwargs().get("frontend") or {}
        return zoo_family(name).dataset(source, frontend, batch_size, recipe.mel_config(),
                                        bucket_boundaries=recipe.bucket_boundaries,
                                        max_audio_length=recipe.max_audio_length, **kw)

    return TrainFamily(name, recipe, build_models, build_trainer, dataset)
