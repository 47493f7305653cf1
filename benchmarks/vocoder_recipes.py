"""Recipes of the speech-vocoder benchmark (Multi-band MelGAN, HiFi-GAN V2): one small dataclass per recipe.

Used by benchmarks/vocoder_speech_quality.py only; the library's recipes are training/recipes.py.

Example:
    >>> from vocoder_recipes import vocoder_recipe
    >>> r = vocoder_recipe("multiband_melgan")
    >>> r.generator_preset, r.stft_loss_weight, r.subband_stft_loss_weight, r.adversarial_weight
    ('multiband_melgan', 0.5, 0.5, 2.5)

Papers: Yang et al. 2020 (Multi-band MelGAN: Adam 1e-3, full-band + sub-band MR-STFT 0.5 + 0.5, adversarial 2.5
with the MelGAN multi-scale discriminator, no feature matching, generator pre-training); Kong et al. 2020
(HiFi-GAN: AdamW 2e-4, betas 0.8 / 0.99, 45 x mel L1 + 2 x feature matching + LSGAN).
"""

from __future__ import annotations

import dataclasses

from audiogen_tf.errors import ConfigError


@dataclasses.dataclass
class VocoderRecipe:
    """Hyper-parameters of one GAN vocoder run (model presets, optimizers, loss weights, warm-up share).

    Args:
        name: recipe name.
        family: ``"multiband_melgan"`` or ``"hifigan"`` (which zoo classes to build).
        generator_preset, discriminator_preset: preset names in ``zoo``.
        g_learning_rate, d_learning_rate, beta_1, beta_2, weight_decay: Adam (``weight_decay=None``) or AdamW.
        g_clipnorm: global-norm clipping of G's gradients (``None``: off).
        adversarial_loss, adversarial_weight, mel_loss_weight, feature_matching_weight, stft_loss_weight,
        subband_stft_loss_weight: ``GANTrainer.compile`` loss recipe.
        adversarial_fraction: share of the time budget, at its end, trained with the discriminator on (the rest
            is generator warm-up on the reconstruction losses only).
        sample_rate, n_mels, fmax, mel: the log-mel features: the generator preset's own ``mel_config`` with these
            fields (``mel``: any other ``MelConfig`` fields) replaced; the generator carries the result.

    Example:
        >>> vocoder_recipe("hifigan_v2").mel_loss_weight
        45.0
    """

    name: str
    family: str
    generator_preset: str
    discriminator_preset: str
    g_learning_rate: float
    d_learning_rate: float
    beta_1: float = 0.9
    beta_2: float = 0.999
    weight_decay: float | None = None
    g_clipnorm: float | None = None
    adversarial_loss: str = "lsgan"
    adversarial_weight: float = 1.0
    mel_loss_weight: float = 0.0
    feature_matching_weight: float = 0.0
    stft_loss_weight: float = 0.0
    subband_stft_loss_weight: float = 0.0
    adversarial_fraction: float = 0.3
    sample_rate: int = 22050
    n_mels: int = 80
    fmax: float | None = 8000.0
    mel: dict = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "VocoderRecipe":
        """Build from a dict (e.g. parsed YAML); unknown keys raise ``ConfigError``."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ConfigError(f"unknown VocoderRecipe keys: {sorted(unknown)}; known: {sorted(names)}")
        return cls(**d)

    def build_generator(self, **overrides):
        """The generator of the family (:mod:`zoo.families`) from its preset, carrying :meth:`mel_config`."""
        from zoo.families import zoo_family

        cls = zoo_family(self.family).generator
        return cls.from_preset(self.generator_preset, mel_config=self.mel_config().to_dict(), **overrides)

    def build_discriminators(self) -> list:
        """The family's discriminator (one multi-scale MelGAN model, or HiFi-GAN's MPD + MSD model)."""
        from zoo.families import zoo_family

        return [zoo_family(self.family).discriminator.from_preset(self.discriminator_preset)]

    def mel_config(self, hop_length: int | None = None):
        """``MelConfig`` of the recipe: the generator preset's ``mel_config`` with the recipe's fields."""
        from audiogen_tf.features import MelConfig
        from audiogen_tf.registry import get_preset
        from zoo.families import zoo_family

        carried = get_preset(zoo_family(self.family).generator, self.generator_preset)["mel_config"]
        cfg = MelConfig.from_dict({**carried, "sample_rate": self.sample_rate, "n_mels": self.n_mels,
                                   "fmax": self.fmax, **self.mel})
        if hop_length is not None and int(hop_length) != cfg.hop_length:
            raise ConfigError(f"{self.name}: the generator's hop {hop_length} differs from its mel's {cfg.hop_length}")
        return cfg

    def optimizers(self):
        """``(g_optimizer, d_optimizer)``."""
        import keras

        def make(lr, clipnorm=None):
            kw = {"learning_rate": lr, "beta_1": self.beta_1, "beta_2": self.beta_2}
            if clipnorm:
                kw["clipnorm"] = clipnorm
            if self.weight_decay is None:
                return keras.optimizers.Adam(**kw)
            return keras.optimizers.AdamW(weight_decay=self.weight_decay, **kw)

        return make(self.g_learning_rate, self.g_clipnorm), make(self.d_learning_rate)

    def compile_kwargs(self) -> dict:
        """Loss keyword arguments of ``GANTrainer.compile`` (``losses`` by name)."""
        weights = {"adversarial": self.adversarial_weight, "mel": self.mel_loss_weight,
                   "feature_matching": self.feature_matching_weight, "stft": self.stft_loss_weight,
                   "subband_stft": self.subband_stft_loss_weight}
        return {"adversarial_loss": self.adversarial_loss, "losses": {k: v for k, v in weights.items() if v > 0}}


RECIPES = {
    "multiband_melgan": VocoderRecipe(
        name="multiband_melgan", family="multiband_melgan", generator_preset="multiband_melgan",
        discriminator_preset="melgan", g_learning_rate=1e-3, d_learning_rate=1e-3, g_clipnorm=10.0,
        adversarial_loss="lsgan", adversarial_weight=2.5, stft_loss_weight=0.5, subband_stft_loss_weight=0.5,
        mel={"win_length": 1024, "fmin": 0.0},  # the features this benchmark's tables were measured with
    ),
    "hifigan_v2": VocoderRecipe(
        name="hifigan_v2", family="hifigan", generator_preset="hifigan_v2", discriminator_preset="hifigan",
        g_learning_rate=2e-4, d_learning_rate=2e-4, beta_1=0.8, beta_2=0.99, weight_decay=0.01,
        adversarial_loss="lsgan", adversarial_weight=1.0, mel_loss_weight=45.0, feature_matching_weight=2.0,
    ),
}


def vocoder_recipe(name: str, **overrides) -> VocoderRecipe:
    """A copy of the named recipe with ``overrides`` applied."""
    if name not in RECIPES:
        raise ConfigError(f"unknown vocoder recipe {name!r}; known: {sorted(RECIPES)}")
    return dataclasses.replace(RECIPES[name], **overrides)
