"""FrameRNN and WaveRNN on the training side: teacher forcing with ``compile`` / ``fit``."""

from __future__ import annotations

import dataclasses

from training.families import TrainFamily, compiled, preset_model
from training.recipes import ModelRecipe, _mel_problems


@dataclasses.dataclass
class FrameRNNRecipe(ModelRecipe):
    """FrameRNN next-frame prediction with teacher forcing: frames (batch, num_frames, n_mels) -> next frames.

    ``segment_length`` is unused: examples are ``(num_frames + 1) * hop_length`` samples.

    Args:
        model_preset, model_overrides: a ``FrameRNN`` preset (``n_mels`` / ``mel_config`` set from ``mel``).
        mel: ``MelConfig`` of the frames.
        num_frames: frames per training example.
        loss: Keras regression loss of the frames (``mae`` or ``mse``).
    """

    model_preset: str = "frame_rnn_full"
    num_frames: int = 64
    loss: str = "mae"

    def check(self):
        bad = super().check()
        if self.num_frames < 1:
            bad.append(("num_frames", f"must be >= 1, got {self.num_frames}"))
        if self.loss not in ("mae", "mse"):
            bad.append(("loss", f"must be 'mae' or 'mse', got {self.loss!r}"))
        return bad


@dataclasses.dataclass
class WaveRNNRecipe(ModelRecipe):
    """WaveRNN with teacher forcing: previous ids (batch, segment_length) + mel -> next-sample logits.

    Args:
        model_preset, model_overrides: a ``WaveRNN`` preset (``n_mels`` / ``hop_length`` set from ``mel``).
        mel: ``MelConfig`` of the conditioning; ``segment_length`` must be a multiple of its ``hop_length``.
    """

    model_preset: str = "wavernn_full"

    def check(self):
        return super().check() + [p for p in _mel_problems(self) if p[0] == "segment_length"]


def build_frame_rnn(recipe, num_classes=None) -> dict:
    """FrameRNN carrying the recipe's mel (``n_mels`` and ``mel_config``)."""
    cfg = recipe.mel_config()
    overrides = dict(recipe.model_overrides)
    overrides.setdefault("n_mels", cfg.n_mels)
    overrides.setdefault("mel_config", cfg.to_dict())
    return preset_model(recipe, overrides)


def build_wavernn(recipe, num_classes=None) -> dict:
    """WaveRNN conditioned on, and carrying, the recipe's mel (``n_mels``, ``hop_length``, ``mel_config``)."""
    cfg = recipe.mel_config()
    overrides = dict(recipe.model_overrides)
    overrides.setdefault("n_mels", cfg.n_mels)
    overrides.setdefault("hop_length", cfg.hop_length)
    overrides.setdefault("mel_config", cfg.to_dict())
    return preset_model(recipe, overrides)


def frame_rnn_batches(recipe, source, batch_size, models, vocabulary, kw):
    """``(frames, next frames)`` pairs of ``num_frames`` frames."""
    from zoo.rnn.rnn_frame_rnn import frame_rnn_dataset

    return frame_rnn_dataset(source, recipe.num_frames, batch_size, recipe.mel_config(), **kw)


def wavernn_batches(recipe, source, batch_size, models, vocabulary, kw):
    """``((previous ids, mel), next ids)`` batches of ``segment_length`` samples."""
    from zoo.rnn.rnn_wavernn import wavernn_dataset

    model = (models or {}).get("model")
    output = model.output_type if model is not None else recipe.model_kwargs().get("output", "mulaw")
    q = model._quantization_arg if model is not None else 256
    return wavernn_dataset(source, recipe.segment_length, batch_size, recipe.mel_config(), output=output,
                           quantization_channels=q, **kw)


FAMILIES = [
    TrainFamily("frame_rnn", FrameRNNRecipe, build_frame_rnn,
                lambda recipe, models: compiled(recipe, models["model"], loss=recipe.loss), frame_rnn_batches),
    TrainFamily("wavernn", WaveRNNRecipe, build_wavernn,
                lambda recipe, models: compiled(recipe, models["model"], loss=models["model"].default_loss()),
                wavernn_batches),
]
