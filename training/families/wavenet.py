"""WaveNet on the training side: teacher forcing on mu-law ids with ``compile`` / ``fit``."""

from __future__ import annotations

import dataclasses

from training.families import TrainFamily, compiled, preset_model
from training.recipes import TrainRecipe, _mel_problems, _preset_problems, model_class


@dataclasses.dataclass
class WaveNetRecipe(TrainRecipe):
    """WaveNet with teacher forcing: mu-law ids (batch, time) [+ mel, global id] -> next-sample distribution.

    Args:
        model_preset, model_overrides: the WaveNet preset and constructor overrides.
        mel: ``MelConfig`` fields of the local conditioning (only for presets with ``local_channels``).
        global_key: manifest column of the global condition (presets with ``global_classes``).
    """

    model_preset: str = "wavenet_base"
    model_overrides: dict = dataclasses.field(default_factory=dict)
    mel: dict = dataclasses.field(default_factory=dict)
    global_key: str | None = None

    def mel_config(self):
        from audiogen_tf.features import MelConfig

        return MelConfig.from_dict({"sample_rate": self.sample_rate, **self.mel})

    def check(self):
        return super().check() + (_mel_problems(self) if self.mel else [])

    def check_models(self):
        return _preset_problems("model_preset", model_class("wavenet"), self.model_preset, self.model_overrides)


def build_trainer(recipe, models):
    """The model compiled with its likelihood: mixture of logistics or softmax cross-entropy over the ids."""
    import keras

    model = models["model"]
    if model.output_type == "mol":
        from zoo.wavenet.wavenet_model import DiscretizedLogisticMixtureLoss

        loss = DiscretizedLogisticMixtureLoss(model.quantization_channels, model.num_mixtures, model.log_scale_min)
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return compiled(recipe, model, loss=loss)


def dataset(recipe, source, batch_size, models, vocabulary, kw):
    """``(ids, targets)`` batches (plus the mel of a locally conditioned model, the global id of a global one)."""
    from zoo.wavenet.wavenet_model import wavenet_dataset

    model = (models or {}).get("model")
    q = model.quantization_channels if model is not None else 256
    mel = recipe.mel_config() if model is not None and model.local_channels else None
    return wavenet_dataset(source, recipe.segment_length, batch_size, recipe.sample_rate, quantization_channels=q,
                           mel_config=mel, global_key=recipe.global_key, **kw)


def build_models(recipe, num_classes=None) -> dict:
    """The WaveNet of the preset; a mel-conditioned one (vocoder mode) carries the recipe's mel."""
    from audiogen_tf.registry import get_preset

    overrides = dict(recipe.model_overrides)
    if {**get_preset(recipe.zoo_class(), recipe.model_preset), **overrides}.get("local_channels"):
        overrides.setdefault("mel_config", recipe.mel_config().to_dict())
    return preset_model(recipe, overrides)


FAMILIES = [TrainFamily("wavenet", WaveNetRecipe, build_models, build_trainer, dataset)]
