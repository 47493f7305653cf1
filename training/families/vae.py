"""The conv VAE on the training side: ``VAETrainer`` on mel or waveform clips (classes from the labels)."""

from __future__ import annotations

import dataclasses

from training.families import TrainFamily, optimizer, preset_model
from training.families._clips import clip_dataset
from training.recipes import RECONSTRUCTIONS, ModelRecipe, _waveform_loss_problems


@dataclasses.dataclass
class VAERecipe(ModelRecipe):
    """Conv VAE on log-mel clips (batch, input_length, n_mels) or waveform segments (batch, input_length, 1).

    Args:
        model_preset, model_overrides: a ``ConvVAE`` preset and overrides (``num_classes`` set from the labels).
        mel: ``MelConfig`` of mel presets (``n_mels`` must equal ``input_channels``; a segment of
            ``segment_length`` samples must give at least ``input_length`` frames).
        beta, kl_warmup_steps, reconstruction: ``VAETrainer`` (KL weight, its linear warm-up, ``mse``/``l1``/``waveform``).
        label_key: manifest column of the class for a conditional model (``None``: unconditional).
    """

    model_preset: str = "vae_mel_notes"
    beta: float = 1.0
    kl_warmup_steps: int = 0
    reconstruction: str = "mse"
    label_key: str | None = None

    def check(self):
        bad = super().check()
        if self.beta < 0 or self.kl_warmup_steps < 0:
            bad.append(("beta", f"beta and kl_warmup_steps must be >= 0, got {self.beta}, {self.kl_warmup_steps}"))
        if self.reconstruction not in RECONSTRUCTIONS:
            bad.append(("reconstruction", f"must be one of {RECONSTRUCTIONS}, got {self.reconstruction!r}"))
        bad += _waveform_loss_problems(self)
        return bad

    def check_models(self):
        bad = super().check_models()
        if not bad:
            kw = self.model_kwargs()
            length = int(kw.get("input_length", 64))
            if kw.get("input_type", "mel") == "mel":
                cfg = self.mel_config()
                if int(kw.get("input_channels", 80)) != cfg.n_mels:
                    bad.append(("mel.n_mels", f"{cfg.n_mels} differs from the model's input_channels {kw.get('input_channels', 80)}"))
                if self.segment_length // cfg.hop_length < length:
                    bad.append(("segment_length", f"{self.segment_length} gives fewer than input_length={length} frames "
                                                  f"of hop {cfg.hop_length}"))
            elif self.segment_length != length:
                bad.append(("segment_length", f"{self.segment_length} differs from the model's input_length {length}"))
        return bad


def build_models(recipe, num_classes=None) -> dict:
    """The VAE of the preset (``num_classes`` from the data's labels when conditional)."""
    overrides = dict(recipe.model_overrides)
    if num_classes is not None:
        overrides["num_classes"] = int(num_classes)
    return preset_model(recipe, overrides)


def build_trainer(recipe, models):
    """``VAETrainer`` (KL weight ``beta`` with its warm-up, the recipe's reconstruction loss)."""
    from training.vae_trainer import VAETrainer

    model = models["model"]
    trainer = VAETrainer(model, beta=recipe.beta, kl_warmup_steps=recipe.kl_warmup_steps,
                         reconstruction=recipe.reconstruction)
    trainer.compile(optimizer=optimizer(recipe))
    trainer.optimizer.build(model.trainable_variables)
    return trainer


def dataset(recipe, source, batch_size, models, vocabulary, kw):
    """Clips of ``input_length`` mel frames, or waveform segments."""
    kwargs = recipe.model_kwargs()
    mel_input = kwargs.get("input_type", "mel") == "mel"
    return clip_dataset(recipe, source, batch_size, vocabulary, kw, mel_input, int(kwargs.get("input_length", 64)))


FAMILIES = [TrainFamily("vae", VAERecipe, build_models, build_trainer, dataset, labels_size_model=True)]
