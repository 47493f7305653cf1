"""What the GAN vocoder families share on the training side: the recipe, the generator carrying the recipe's mel,
the ``GANTrainer`` in vocoder mode and (audio, mel) batches.

A GAN vocoder family's own file is then one line: ``FAMILIES = [vocoder_family("<family>")]``.
"""

from __future__ import annotations

import dataclasses

from training.families import TrainFamily, optimizer
from training.recipes import ADVERSARIAL_LOSSES, TrainRecipe, _mel_problems, _preset_problems, model_class


@dataclasses.dataclass
class GANVocoderRecipe(TrainRecipe):
    """A GAN vocoder (every family built by :func:`vocoder_family`): mel (batch, frames, n_mels) -> audio (batch, time, 1).

    Args:
        generator_preset, generator_overrides: generator preset and constructor overrides.
        discriminator_preset, discriminator_overrides: the same for the discriminator.
        mel: ``MelConfig`` fields (``hop_length`` must equal the generator's total upsampling).
        d_learning_rate: discriminator learning rate (default: ``learning_rate``).
        adversarial_loss, adversarial_weight, mel_loss_weight, feature_matching_weight,
        feature_matching_include_score, stft_loss_weight, subband_stft_loss_weight, generator_warmup_steps,
        g_clipnorm, d_clipnorm: ``GANTrainer.compile``.
        amplitude_loss_weight, phase_loss_weight, real_imag_loss_weight, consistency_loss_weight: the frame-level
            losses of a frame-rate generator with ``spectrum_generator`` (``GANTrainer.compile``).
    """

    generator_preset: str = ""
    generator_overrides: dict = dataclasses.field(default_factory=dict)
    discriminator_preset: str = ""
    discriminator_overrides: dict = dataclasses.field(default_factory=dict)
    mel: dict = dataclasses.field(default_factory=dict)
    d_learning_rate: float | None = None
    adversarial_loss: str = "lsgan"
    adversarial_weight: float = 1.0
    mel_loss_weight: float = 45.0
    feature_matching_weight: float = 2.0
    feature_matching_include_score: bool = False
    stft_loss_weight: float = 0.0
    subband_stft_loss_weight: float = 0.0
    generator_warmup_steps: int = 0
    g_clipnorm: float | None = None
    d_clipnorm: float | None = None
    amplitude_loss_weight: float = 0.0
    phase_loss_weight: float = 0.0
    real_imag_loss_weight: float = 0.0
    consistency_loss_weight: float = 0.0
    weighted_phase_loss_weight: float = 0.0
    weighted_phase_exponent: float = 0.25
    frame_rate_correlation_loss_weight: float = 0.0

    def mel_config(self):
        """The ``MelConfig`` of the features (``sample_rate`` from the recipe unless given)."""
        from audiogen_tf.features import MelConfig

        return MelConfig.from_dict({"sample_rate": self.sample_rate, **self.mel})

    def check(self):
        bad = super().check()
        if self.adversarial_loss not in ADVERSARIAL_LOSSES:
            bad.append(("adversarial_loss", f"must be one of {ADVERSARIAL_LOSSES}, got {self.adversarial_loss!r}"))
        for key in ("adversarial_weight", "mel_loss_weight", "feature_matching_weight", "stft_loss_weight",
                    "subband_stft_loss_weight", "generator_warmup_steps", "amplitude_loss_weight", "phase_loss_weight",
                    "real_imag_loss_weight", "consistency_loss_weight", "weighted_phase_loss_weight",
                    "weighted_phase_exponent", "frame_rate_correlation_loss_weight"):
            if getattr(self, key) < 0:
                bad.append((key, f"must be >= 0, got {getattr(self, key)}"))
        return bad + _mel_problems(self)

    def check_models(self):
        gen, disc = model_class(self.family, "generator"), model_class(self.family, "discriminator")
        bad = _preset_problems("generator_preset", gen, self.generator_preset, self.generator_overrides)
        bad += _preset_problems("discriminator_preset", disc, self.discriminator_preset, self.discriminator_overrides)
        if self.subband_stft_loss_weight > 0 and not hasattr(gen, "subband_generator"):
            bad.append(("subband_stft_loss_weight", f"needs a sub-band generator; {gen.__name__} has none"))
        if not bad:
            from audiogen_tf.registry import get_preset

            kwargs = {**get_preset(gen, self.generator_preset), **self.generator_overrides}
            if "upsample_rates" not in kwargs:  # a frame-rate generator takes its hop from the recipe's mel
                return bad
            hop = 1
            for r in kwargs.get("upsample_rates", []):
                hop *= int(r)
            hop *= int(kwargs.get("subbands", 1))
            bad += [p for p in _mel_problems(self, hop) if p[0] == "mel.hop_length"]
            n_mels = kwargs.get("n_mels")
            if n_mels is not None and int(n_mels) != self.mel_config().n_mels:
                bad.append(("generator_overrides.n_mels", f"{n_mels} differs from mel.n_mels {self.mel_config().n_mels}"))
        return bad


def build_models(recipe, num_classes=None) -> dict:
    """The generator (carrying the recipe's mel as its ``mel_config``) and the discriminator."""
    gen_cls, disc_cls = recipe.zoo_class("generator"), recipe.zoo_class("discriminator")
    overrides = dict(recipe.generator_overrides)
    overrides.setdefault("mel_config", recipe.mel_config().to_dict())
    gen = gen_cls.from_preset(recipe.generator_preset, **overrides)
    disc = disc_cls.from_preset(recipe.discriminator_preset, **recipe.discriminator_overrides)
    return {"generator": gen, "discriminators": [disc]}


def build_trainer(recipe, models):
    """``GANTrainer`` in vocoder mode, compiled with the recipe's losses."""
    from training.gan_trainer import GANTrainer

    trainer = GANTrainer(models["generator"], models["discriminators"], mode="vocoder",
                         mel_config=recipe.mel_config(), seed=recipe.seed)
    d_lr = recipe.d_learning_rate if recipe.d_learning_rate is not None else recipe.learning_rate
    trainer.compile(
        g_optimizer=optimizer(recipe), d_optimizer=optimizer(recipe, d_lr), adversarial_loss=recipe.adversarial_loss,
        adversarial_weight=recipe.adversarial_weight, mel_loss_weight=recipe.mel_loss_weight,
        feature_matching_weight=recipe.feature_matching_weight,
        feature_matching_include_score=recipe.feature_matching_include_score,
        stft_loss_weight=recipe.stft_loss_weight, subband_stft_loss_weight=recipe.subband_stft_loss_weight,
        generator_warmup_steps=recipe.generator_warmup_steps, g_clipnorm=recipe.g_clipnorm,
        d_clipnorm=recipe.d_clipnorm, amplitude_loss_weight=recipe.amplitude_loss_weight,
        phase_loss_weight=recipe.phase_loss_weight, real_imag_loss_weight=recipe.real_imag_loss_weight,
        consistency_loss_weight=recipe.consistency_loss_weight,
        weighted_phase_loss_weight=recipe.weighted_phase_loss_weight,
        weighted_phase_exponent=recipe.weighted_phase_exponent,
        frame_rate_correlation_loss_weight=recipe.frame_rate_correlation_loss_weight,
    )
    return trainer


def dataset(recipe, source, batch_size, models, vocabulary, kw):
    """``{"audio", "mel"}`` batches of ``segment_length`` samples, the mel made with the recipe's settings."""
    from audiogen_tf.data import segment_dataset

    return segment_dataset(source, recipe.segment_length, batch_size, mel_config=recipe.mel_config(), **kw)


def vocoder_family(name: str) -> TrainFamily:
    """The training declaration of the GAN vocoder family ``name``."""
    return TrainFamily(name, GANVocoderRecipe, build_models, build_trainer, dataset)
