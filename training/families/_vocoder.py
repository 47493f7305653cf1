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
        losses: ``{name: weight}`` summed by the trainer (``GANTrainer.compile``): its own ``adversarial``,
            ``feature_matching``, ``mel``, ``stft``, and the terms the generator supplies (an iSTFT vocoder's
            ``amplitude``, ``phase``, ``real_imag``, ``consistency``, ``weighted_phase``, ``frame_rate_correlation``;
            Multi-band MelGAN's ``subband_stft``). The per-loss keys of earlier recipes (``mel_loss_weight``...)
            are read into it.
        loss_options: settings of those terms (``feature_matching_include_score``, ``weighted_phase_exponent``,
            ``stft_resolutions``, ``subband_stft_resolutions``).
        adversarial_loss, generator_warmup_steps, g_clipnorm, d_clipnorm: ``GANTrainer.compile``.
    """

    generator_preset: str = ""
    generator_overrides: dict = dataclasses.field(default_factory=dict)
    discriminator_preset: str = ""
    discriminator_overrides: dict = dataclasses.field(default_factory=dict)
    mel: dict = dataclasses.field(default_factory=dict)
    d_learning_rate: float | None = None
    adversarial_loss: str = "lsgan"
    losses: dict = dataclasses.field(default_factory=lambda: {"adversarial": 1.0, "feature_matching": 2.0,
                                                              "mel": 45.0})
    loss_options: dict = dataclasses.field(default_factory=dict)
    generator_warmup_steps: int = 0
    g_clipnorm: float | None = None
    d_clipnorm: float | None = None

    @staticmethod
    def migrate(data: dict) -> dict:
        """Recipe keys of earlier versions in today's form (per-loss weights into ``losses``)."""
        from training.gan_trainer import migrate_loss_keys

        return migrate_loss_keys(data, "vocoder")

    def mel_config(self):
        """The ``MelConfig`` of the features (``sample_rate`` from the recipe unless given)."""
        from audiogen_tf.features import MelConfig

        return MelConfig.from_dict({"sample_rate": self.sample_rate, **self.mel})

    def check(self):
        bad = super().check()
        if self.adversarial_loss not in ADVERSARIAL_LOSSES:
            bad.append(("adversarial_loss", f"must be one of {ADVERSARIAL_LOSSES}, got {self.adversarial_loss!r}"))
        if self.generator_warmup_steps < 0:
            bad.append(("generator_warmup_steps", f"must be >= 0, got {self.generator_warmup_steps}"))
        for name, weight in self.losses.items():
            if not isinstance(weight, (int, float)) or weight < 0:
                bad.append((f"losses.{name}", f"must be a number >= 0, got {weight!r}"))
        return bad + _mel_problems(self)

    def check_models(self):
        gen, disc = model_class(self.family, "generator"), model_class(self.family, "discriminator")
        bad = _preset_problems("generator_preset", gen, self.generator_preset, self.generator_overrides)
        bad += _preset_problems("discriminator_preset", disc, self.discriminator_preset, self.discriminator_overrides)
        from training.gan_trainer import TRAINER_LOSSES

        supplied = tuple(getattr(gen, "SUPPLIED_LOSSES", ()))
        for name in self.losses:
            if name not in TRAINER_LOSSES + supplied:
                bad.append((f"losses.{name}", f"unknown loss: the trainer computes {', '.join(TRAINER_LOSSES)}; "
                                              f"{gen.__name__} supplies {', '.join(supplied) or 'none of its own'}"))
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
    trainer.compile(g_optimizer=optimizer(recipe), d_optimizer=optimizer(recipe, d_lr), losses=recipe.losses,
                    loss_options=recipe.loss_options, adversarial_loss=recipe.adversarial_loss,
                    generator_warmup_steps=recipe.generator_warmup_steps, g_clipnorm=recipe.g_clipnorm,
                    d_clipnorm=recipe.d_clipnorm)
    return trainer


def dataset(recipe, source, batch_size, models, vocabulary, kw):
    """``{"audio", "mel"}`` batches of ``segment_length`` samples, the mel made with the recipe's settings."""
    from audiogen_tf.data import segment_dataset

    return segment_dataset(source, recipe.segment_length, batch_size, mel_config=recipe.mel_config(), **kw)


def vocoder_family(name: str) -> TrainFamily:
    """The training declaration of the GAN vocoder family ``name``."""
    return TrainFamily(name, GANVocoderRecipe, build_models, build_trainer, dataset)
