"""WaveGAN and SpecGAN on the training side: WGAN-GP pairs trained unconditionally (or on class labels)."""

from __future__ import annotations

import dataclasses

from audiogen_tf.errors import ConfigError
from training.families import TrainFamily, optimizer
from training.recipes import ADVERSARIAL_LOSSES, TrainRecipe, _length_mismatch, _preset_problems, model_class


@dataclasses.dataclass
class WaveGANRecipe(TrainRecipe):
    """WaveGAN: noise (batch, latent_dim) [+ label (batch,)] -> audio (batch, slice_length, 1), WGAN-GP.

    Args:
        generator_preset, generator_overrides, discriminator_preset, discriminator_overrides: the pair.
        label_key: manifest column of the class for a conditional preset (``None``: unconditional).
        d_learning_rate: critic learning rate (default: ``learning_rate``).
        adversarial_loss, n_critic: ``GANTrainer.compile`` (paper: WGAN-GP, 5).
        losses: ``{name: weight}`` (``GANTrainer.compile``; paper: ``adversarial`` 1, ``gradient_penalty`` 10;
            ``gp_weight`` of earlier recipes is read into it).
    """

    generator_preset: str = "wavegan"
    generator_overrides: dict = dataclasses.field(default_factory=dict)
    discriminator_preset: str = "wavegan"
    discriminator_overrides: dict = dataclasses.field(default_factory=dict)
    label_key: str | None = None
    d_learning_rate: float | None = None
    adversarial_loss: str = "wgan-gp"
    losses: dict = dataclasses.field(default_factory=lambda: {"adversarial": 1.0, "gradient_penalty": 10.0})
    n_critic: int = 5

    @staticmethod
    def migrate(data: dict) -> dict:
        """Recipe keys of earlier versions in today's form (``gp_weight`` into ``losses``)."""
        from training.gan_trainer import migrate_loss_keys

        return migrate_loss_keys(data, "unconditional")

    def check(self):
        bad = super().check()
        if self.adversarial_loss not in ADVERSARIAL_LOSSES:
            bad.append(("adversarial_loss", f"must be one of {ADVERSARIAL_LOSSES}, got {self.adversarial_loss!r}"))
        if self.n_critic < 1:
            bad.append(("n_critic", f"must be >= 1, got {self.n_critic}"))
        return bad

    def check_models(self):
        gen, disc = model_class(self.family, "generator"), model_class(self.family, "discriminator")
        bad = _preset_problems("generator_preset", gen, self.generator_preset, self.generator_overrides)
        bad += _preset_problems("discriminator_preset", disc, self.discriminator_preset, self.discriminator_overrides)
        if not bad:
            bad += _length_mismatch(gen, self.generator_preset, self.generator_overrides, "slice_length",
                                    self.segment_length, "generator")
        return bad


@dataclasses.dataclass
class SpecGANRecipe(WaveGANRecipe):
    """SpecGAN: noise (batch, latent_dim) [+ label] -> normalized log-magnitude (batch, S, S, 1), WGAN-GP critic on
    spectrograms of the real audio; audio by Griffin-Lim.

    ``segment_length`` must equal ``spec_size * hop_length`` of the generator (16384 in the paper). The per-bin
    moments that normalize the spectrograms are estimated from the data when the run starts (unless
    ``generator_overrides`` has ``spec_mean`` / ``spec_std``) and stored in the run's ``recipe.yaml``.

    Args:
        generator_preset, generator_overrides, discriminator_preset, discriminator_overrides: the pair.
        moment_batches: batches of the data read to estimate the per-bin moments.
        (the rest as :class:`WaveGANRecipe`)
    """

    generator_preset: str = "specgan"
    discriminator_preset: str = "specgan"
    moment_batches: int = 8

    def check(self):
        bad = super().check()
        if self.moment_batches < 1:
            bad.append(("moment_batches", f"must be >= 1, got {self.moment_batches}"))
        return bad

    def check_models(self):
        gen, disc = model_class(self.family, "generator"), model_class(self.family, "discriminator")
        bad = _preset_problems("generator_preset", gen, self.generator_preset, self.generator_overrides)
        bad += _preset_problems("discriminator_preset", disc, self.discriminator_preset, self.discriminator_overrides)
        if not bad:
            from audiogen_tf.registry import get_preset

            kw = {**get_preset(gen, self.generator_preset), **self.generator_overrides}
            length = int(kw.get("spec_size", 128)) * int(kw.get("hop_length", 128))
            if length != self.segment_length:
                bad.append(("segment_length", f"{self.segment_length} differs from the generator's spec_size x "
                                              f"hop_length = {length}"))
            if int(kw.get("sample_rate", 16000)) != self.sample_rate:
                bad.append(("sample_rate", f"{self.sample_rate} differs from the generator's {kw.get('sample_rate')}"))
        return bad


def build_models(recipe, num_classes=None) -> dict:
    """The generator / critic pair from their presets (the class count is the preset's)."""
    gen = recipe.zoo_class("generator").from_preset(recipe.generator_preset, **recipe.generator_overrides)
    disc = recipe.zoo_class("discriminator").from_preset(recipe.discriminator_preset, **recipe.discriminator_overrides)
    return {"generator": gen, "discriminators": [disc]}


def build_trainer(recipe, models):
    """``GANTrainer`` in unconditional mode (WGAN-GP with ``n_critic`` critic steps by default)."""
    from training.gan_trainer import GANTrainer

    gen = models["generator"]
    trainer = GANTrainer(gen, models["discriminators"], mode="unconditional", latent_dim=getattr(gen, "latent_dim", 100),
                         seed=recipe.seed)
    d_lr = recipe.d_learning_rate if recipe.d_learning_rate is not None else recipe.learning_rate
    trainer.compile(g_optimizer=optimizer(recipe), d_optimizer=optimizer(recipe, d_lr),
                    adversarial_loss=recipe.adversarial_loss, losses=recipe.losses, n_critic=recipe.n_critic)
    return trainer


def _audio(recipe, source, batch_size, vocabulary, kw):
    from audiogen_tf.data import segment_dataset

    return segment_dataset(source, recipe.segment_length, batch_size, sample_rate=recipe.sample_rate,
                           label_key=recipe.label_key, label_vocabulary=vocabulary, **kw)


def wavegan_dataset(recipe, source, batch_size, models, vocabulary, kw):
    """``{"audio"[, "label"]}`` batches of ``segment_length`` samples."""
    ds = _audio(recipe, source, batch_size, vocabulary, kw)
    return ds.map(lambda e: {k: v for k, v in e.items() if k in ("audio", "label")})


def specgan_dataset(recipe, source, batch_size, models, vocabulary, kw):
    """``{"audio"[, "label"]}`` batches whose ``audio`` is the generator's normalized spectrogram of the clip."""
    gen = (models or {}).get("generator")
    if gen is None:
        raise ConfigError("a SpecGAN dataset needs the generator (its spectrogram normalization)")
    ds = _audio(recipe, source, batch_size, vocabulary, kw)
    return ds.map(lambda e: {"audio": gen.audio_to_spec(e["audio"]), **({"label": e["label"]} if "label" in e else {})})


def specgan_moments(recipe, source) -> dict:
    """``{"spec_mean", "spec_std"}``: per-bin log-magnitude moments (lists of ``spec_size`` floats) of the data.

    Reads ``recipe.moment_batches`` batches in file order (Donahue et al. 2019 normalize every frequency bin with
    dataset moments).
    """
    import numpy as np

    from audiogen_tf.data import segment_dataset
    from audiogen_tf.registry import get_preset
    from zoo.wavegan.wavegan_specgan import spectrogram_moments

    kw = {**get_preset(recipe.zoo_class("generator"), recipe.generator_preset), **recipe.generator_overrides}
    ds = segment_dataset(source, recipe.segment_length, recipe.batch_size, sample_rate=recipe.sample_rate,
                         shuffle=False, seed=recipe.seed, drop_remainder=False, repeat=False)
    audio = np.concatenate([np.asarray(e["audio"]).reshape(len(e["audio"]), -1)
                            for e in ds.take(recipe.moment_batches)])
    mean, std = spectrogram_moments(audio, int(kw.get("n_fft", 256)), int(kw.get("hop_length", 128)),
                                    int(kw.get("spec_size", 128)))
    return {"spec_mean": [float(v) for v in mean], "spec_std": [float(v) for v in std]}


def prepare_specgan(recipe, source):
    """The recipe with the data's spectrogram moments in ``generator_overrides`` (unless given)."""
    if source is None or "spec_mean" in recipe.generator_overrides:
        return recipe
    return dataclasses.replace(recipe, generator_overrides={**recipe.generator_overrides,
                                                            **specgan_moments(recipe, source)})


FAMILIES = [
    TrainFamily("wavegan", WaveGANRecipe, build_models, build_trainer, wavegan_dataset),
    TrainFamily("specgan", SpecGANRecipe, build_models, build_trainer, specgan_dataset, prepare=prepare_specgan),
]
