"""VQ-VAE and the residual-VQ codec on the training side: ``VQVAETrainer`` on mel or waveform clips."""

from __future__ import annotations

import dataclasses

from training.families import TrainFamily, optimizer, preset_model
from training.families._clips import clip_dataset
from training.recipes import RECONSTRUCTIONS, ModelRecipe, _waveform_loss_problems


@dataclasses.dataclass
class VQVAERecipe(ModelRecipe):
    """VQ-VAE (``family: vqvae``, mel or waveform) or residual-VQ codec (``family: codec``, waveform).

    Args:
        model_preset, model_overrides: a ``VQVAE`` / ``AudioCodec`` preset and overrides.
        mel: ``MelConfig`` of mel VQ-VAEs (``n_mels`` must equal ``input_channels``).
        reconstruction: ``VQVAETrainer`` loss: ``mse``, ``l1`` or ``waveform`` (multi-resolution STFT + L1).
    """

    model_preset: str = "vqvae_mel"
    reconstruction: str = "mse"

    def check(self):
        bad = super().check()
        if self.reconstruction not in RECONSTRUCTIONS:
            bad.append(("reconstruction", f"must be one of {RECONSTRUCTIONS}, got {self.reconstruction!r}"))
        bad += _waveform_loss_problems(self)
        return bad

    def check_models(self):
        import math

        bad = super().check_models()
        if not bad:
            kw = self.model_kwargs()
            down = math.prod(int(s) for s in kw.get("strides", [1]))
            if self.family == "vqvae" and kw.get("input_type", "mel") == "mel":
                cfg = self.mel_config()
                if int(kw.get("input_channels", 80)) != cfg.n_mels:
                    bad.append(("mel.n_mels", f"{cfg.n_mels} differs from the model's input_channels"))
                if self.segment_length // cfg.hop_length < down:
                    bad.append(("segment_length", f"{self.segment_length} gives fewer than {down} frames"))
            elif self.segment_length % down:
                bad.append(("segment_length", f"{self.segment_length} is not a multiple of the model's hop {down}"))
        return bad


def build_trainer(recipe, models):
    """``VQVAETrainer`` with the recipe's reconstruction loss."""
    from training.vae_trainer import VQVAETrainer

    model = models["model"]
    trainer = VQVAETrainer(model, reconstruction=recipe.reconstruction)
    trainer.compile(optimizer=optimizer(recipe))
    trainer.optimizer.build(model.trainable_variables)
    return trainer


def dataset(recipe, source, batch_size, models, vocabulary, kw):
    """Clips of a whole number of code frames of mel, or waveform segments (the codec: always waveform)."""
    import math

    mel_input = recipe.family != "codec" and recipe.model_kwargs().get("input_type", "mel") == "mel"
    frames = None
    if mel_input:
        down = math.prod(int(s) for s in recipe.model_kwargs().get("strides", [2, 2]))
        frames = (recipe.segment_length // recipe.mel_config().hop_length) // down * down
    return clip_dataset(recipe, source, batch_size, vocabulary, kw, mel_input, frames)


def _build(recipe, num_classes=None):
    return preset_model(recipe)


FAMILIES = [TrainFamily("vqvae", VQVAERecipe, _build, build_trainer, dataset),
            TrainFamily("codec", VQVAERecipe, _build, build_trainer, dataset)]
