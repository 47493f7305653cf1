"""The CNN encoders on the training side: classifiers of labelled clips (``num_classes`` from the labels)."""

from __future__ import annotations

import dataclasses

from training.families import TrainFamily, compiled, preset_model
from training.recipes import TrainRecipe, _length_mismatch, _preset_problems, model_class


@dataclasses.dataclass
class EncoderRecipe(TrainRecipe):
    """A CNN encoder trained as a classifier: audio (batch, num_samples) -> logits (batch, num_classes).

    Args:
        model_preset, model_overrides: ``mel_cnn*`` or ``waveform_cnn*`` preset and overrides (``num_classes`` is
            set from the labels).
        label_key: manifest column of the class.
    """

    model_preset: str = "mel_cnn"
    model_overrides: dict = dataclasses.field(default_factory=dict)
    label_key: str = "label"

    def check_models(self):
        cls = model_class("encoder", preset=self.model_preset)
        bad = _preset_problems("model_preset", cls, self.model_preset, self.model_overrides)
        if not bad:
            bad += _length_mismatch(cls, self.model_preset, self.model_overrides, "num_samples", self.segment_length,
                                    "encoder")
        return bad


def build_models(recipe, num_classes=None) -> dict:
    """The mel or waveform encoder of the preset, sized to the data's classes."""
    overrides = dict(recipe.model_overrides)
    if num_classes is not None:
        overrides["num_classes"] = int(num_classes)
    return preset_model(recipe, overrides)


def build_trainer(recipe, models):
    """The encoder compiled with softmax cross-entropy and accuracy."""
    import keras

    return compiled(recipe, models["model"], loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    metrics=["accuracy"])


def dataset(recipe, source, batch_size, models, vocabulary, kw):
    """``(audio, label)`` batches of ``segment_length`` samples."""
    from audiogen_tf.data import segment_dataset

    ds = segment_dataset(source, recipe.segment_length, batch_size, sample_rate=recipe.sample_rate,
                         label_key=recipe.label_key, label_vocabulary=vocabulary, **kw)
    return ds.map(lambda e: (e["audio"], e["label"]))


FAMILIES = [TrainFamily("encoder", EncoderRecipe, build_models, build_trainer, dataset, labels_size_model=True)]
