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
        sample_rate, n_mels, fmax: the log-mel features (``hop_length`` is the generator's total upsampling).

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
        """The generator from its preset (``n_mels`` from the recipe)."""
        if self.family == "multiband_melgan":
            from zoo.melgan.multiband_melgan_generator import MultiBandMelGANGenerator as cls
        elif self.family == "hifigan":
            from zoo.hifigan.hifigan_generator import HiFiGANGenerator as cls
        else:
            raise ConfigError(f"unknown vocoder family {self.family!r}")
        return cls.from_preset(self.generator_preset, n_mels=self.n_mels, **overrides)

    def build_discriminators(self) -> list:
        """The discriminators (one multi-scale MelGAN model, or HiFi-GAN's MPD + MSD model)."""
        if self.family == "multiband_melgan":
            from zoo.melgan.melgan_discriminators import MelGANMultiScaleDiscriminator as cls
        else:
            from zoo.hifigan.hifigan_discriminators import HiFiGANDiscriminator as cls
        return [cls.from_preset(self.discriminator_preset)]

    def mel_config(self, hop_length: int):
        """``MelConfig`` of the recipe with the generator's hop (n_fft = win = 1024)."""
        from audiogen_tf.features import MelConfig

        return MelConfig(sample_rate=self.sample_rate, n_fft=1024, hop_length=int(hop_length), win_length=1024,
                         n_mels=self.n_mels, fmax=self.fmax)

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
        """Loss keyword arguments of ``GANTrainer.compile``."""
        return {
            "adversarial_loss": self.adversarial_loss,
            "adversarial_weight": self.adversarial_weight,
            "mel_loss_weight": self.mel_loss_weight,
            "feature_matching_weight": self.feature_matching_weight,
            "stft_loss_weight": self.stft_loss_weight,
            "subband_stft_loss_weight": self.subband_stft_loss_weight,
        }


RECIPES = {
    "multiband_melgan": VocoderRecipe(
        name="multiband_melgan", family="multiband_melgan", generator_preset="multiband_melgan",
        discriminator_preset="melgan", g_learning_rate=1e-3, d_learning_rate=1e-3, g_clipnorm=10.0,
        adversarial_loss="lsgan", adversarial_weight=2.5, stft_loss_weight=0.5, subband_stft_loss_weight=0.5,
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
