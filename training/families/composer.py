"""The composer on the training side: teacher forcing over event windows of a score build, plain ``compile`` /
``fit`` with the PAD-masked cross-entropy (nats per event)."""

from __future__ import annotations

import dataclasses

from training.families import TrainFamily, compiled, preset_model
from training.recipes import TrainRecipe, _preset_problems


@dataclasses.dataclass
class ComposerRecipe(TrainRecipe):
    """EventComposer next-event prediction: windows of ``seq_length + 1`` events of the manifest's training split.

    ``sample_rate`` and ``segment_length`` are unused (symbolic data).

    Args:
        model_preset, model_overrides: an ``EventComposer`` preset and constructor overrides.
        seq_length: events per training example; ``hop``: events between window starts (default half a window).
        split: the manifest split trained on (``train``; its transposed copies included).
        conditioned: feed each piece's style and key (the preset must have ``num_styles`` / ``num_keys``).
    """

    model_preset: str = "composer_chorales"
    model_overrides: dict = dataclasses.field(default_factory=dict)
    seq_length: int = 256
    hop: int | None = None
    split: str = "train"
    conditioned: bool = True

    def check(self):
        bad = super().check()
        if self.seq_length < 2:
            bad.append(("seq_length", f"must be >= 2, got {self.seq_length}"))
        if self.hop is not None and self.hop < 1:
            bad.append(("hop", f"must be >= 1 (or null), got {self.hop}"))
        if self.split not in ("train", "valid", "test"):
            bad.append(("split", f"must be train, valid or test, got {self.split!r}"))
        return bad

    def check_models(self):
        return _preset_problems("model_preset", self.zoo_class(), self.model_preset, self.model_overrides)


def composer_check_data(recipe, source, verbose=1):
    """The score rows of ``source`` (event files read and checked), none skipped: ``(rows, [])``."""
    from audiogen_tf.datasets.scores import read_scores
    from audiogen_tf.errors import ConfigError

    rows = read_scores(source, split=recipe.split)
    if len(rows) < recipe.min_files:
        raise ConfigError(f"{source}: {len(rows)} piece(s) in split {recipe.split!r}, fewer than "
                          f"min_files={recipe.min_files}")
    if verbose:
        print(f"{source}: {len(rows)} sequences in split {recipe.split!r}, "
              f"{sum(len(r['events']) for r in rows)} events")
    return rows, []


def composer_batches(recipe, source, batch_size, models, vocabulary, kw):
    """``({"events", "style", "key"}, next events)`` batches of ``seq_length`` events."""
    from zoo.composer.composer_model import composer_dataset

    model = (models or {}).get("model")
    conditioned = recipe.conditioned and (model is None or bool(model.num_styles or model.num_keys))
    kw = {k: v for k, v in kw.items() if k in ("shuffle", "seed", "repeat", "drop_remainder", "num_shards",
                                               "shard_index")}
    ds = composer_dataset(source, recipe.seq_length, batch_size, split=recipe.split, hop=recipe.hop,
                          conditioned=conditioned, **kw)
    if model is not None and conditioned and not (model.num_styles and model.num_keys):
        drop = [k for k, n in (("style", model.num_styles), ("key", model.num_keys)) if not n]
        ds = ds.map(lambda x, y: ({k: v for k, v in x.items() if k not in drop}, y))
    return ds


FAMILIES = [
    TrainFamily("composer", ComposerRecipe, lambda recipe, num_classes=None: preset_model(recipe),
                lambda recipe, models: compiled(recipe, models["model"], loss=models["model"].default_loss()),
                composer_batches, check_data=composer_check_data),
]
