"""Training recipes: one small dataclass of hyper-parameters per model family, loaded and checked from YAML.

A recipe names the model presets (plus constructor overrides), the data, the log-mel features, the *global*
batch size, optimizers, loss weights, the step budget, the checkpoint schedule and the run's numerics
(precision, seed, determinism). :func:`load_recipe` reads a YAML file (this module is the only place that
reads YAML; the library never does), applies ``key=value`` overrides and validates everything before any work
starts: an unknown key or a bad value raises :class:`audiogen_tf.errors.ConfigError` naming the key and the file.

Example:
    >>> r = load_recipe("hifigan", overrides=["steps=10", "mel.n_mels=40", "generator_preset=hifigan_tiny"])
    >>> type(r).__name__, r.steps, r.mel["n_mels"], r.generator_preset
    ('GANVocoderRecipe', 10, 40, 'hifigan_tiny')

Papers: Kong et al. 2020 (HiFi-GAN), Kumar et al. 2019 (MelGAN), Yang et al. 2020 (Multi-band MelGAN),
Donahue et al. 2019 (WaveGAN), van den Oord et al. 2016 (WaveNet), Shen et al. 2018 (Tacotron 2), Kingma &
Welling 2014 (VAE), van den Oord et al. 2017 (VQ-VAE), Zeghidour et al. 2021 (SoundStream), Kalchbrenner et al.
2018 (WaveRNN) for the defaults of the bundled recipes.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from audiogen_tf.errors import ConfigError

RECIPE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "recipes")

VOCODER_FAMILIES = ("hifigan", "melgan", "multiband_melgan", "istft_vocoder")
MODEL_FAMILIES = ("tacotron2", "vae", "vqvae", "codec", "frame_rnn", "wavernn", "ctc_recognizer", "ctc_tts")
FAMILIES = VOCODER_FAMILIES + ("wavegan", "specgan", "wavenet", "encoder") + MODEL_FAMILIES
RECONSTRUCTIONS = ("mse", "l1", "waveform")
ON_NONFINITE = ("skip", "stop")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
ADVERSARIAL_LOSSES = ("lsgan", "hinge", "wgan-gp")

# family -> (generator / model class, discriminator class or None), as "module:Class"
MODEL_CLASSES = {
    "hifigan": ("zoo.hifigan.hifigan_generator:HiFiGANGenerator", "zoo.hifigan.hifigan_discriminators:HiFiGANDiscriminator"),
    "melgan": ("zoo.melgan.melgan_generator:MelGANGenerator", "zoo.melgan.melgan_discriminators:MelGANMultiScaleDiscriminator"),
    "multiband_melgan": ("zoo.melgan.multiband_melgan_generator:MultiBandMelGANGenerator",
                         "zoo.melgan.melgan_discriminators:MelGANMultiScaleDiscriminator"),
    "istft_vocoder": ("zoo.istft_vocoder.istft_vocoder_model:ISTFTVocoder",
                      "zoo.istft_vocoder.istft_vocoder_discriminators:ISTFTVocoderDiscriminator"),
    "wavegan": ("zoo.wavegan.wavegan_generator:WaveGANGenerator", "zoo.wavegan.wavegan_discriminator:WaveGANDiscriminator"),
    "specgan": ("zoo.wavegan.specgan:SpecGANGenerator", "zoo.wavegan.specgan:SpecGANDiscriminator"),
    "wavenet": ("zoo.wavenet.wavenet_model:WaveNet", None),
    "encoder": ("zoo.encoders.mel_cnn_encoder:MelCNNEncoder", None),
    "tacotron2": ("zoo.tacotron2.tacotron2_model:Tacotron2", None),
    "vae": ("zoo.vae.vae_model:ConvVAE", None),
    "vqvae": ("zoo.vqvae.vqvae_model:VQVAE", None),
    "codec": ("zoo.vqvae.codec_model:AudioCodec", None),
    "frame_rnn": ("zoo.rnn.frame_rnn_model:FrameRNN", None),
    "wavernn": ("zoo.rnn.wavernn_model:WaveRNN", None),
    "ctc_recognizer": ("zoo.ctc_recognizer.ctc_recognizer_model:CTCRecognizer", None),
    "ctc_tts": ("zoo.ctc_tts.ctc_tts_model:CTCTTS", None),
}
_PRESET_MODULES = {"melgan": "zoo.melgan.melgan_presets", "multiband_melgan": "zoo.melgan.melgan_presets",
                   "hifigan": "zoo.hifigan.hifigan_presets", "istft_vocoder": "zoo.istft_vocoder.istft_vocoder_presets",
                   "wavenet": "zoo.wavenet.wavenet_presets",
                   "encoder": "zoo.encoders.encoder_presets", "tacotron2": "zoo.tacotron2.tacotron2_presets",
                   "vae": "zoo.vae.vae_presets", "vqvae": "zoo.vqvae.vqvae_presets", "codec": "zoo.vqvae.vqvae_presets",
                   "frame_rnn": "zoo.rnn.rnn_presets", "wavernn": "zoo.rnn.rnn_presets",
                   "ctc_recognizer": "zoo.ctc_recognizer.ctc_recognizer_presets", "ctc_tts": "zoo.ctc_tts.ctc_tts_presets"}


def import_class(spec: str):
    """``"module:Class"`` -> the class (imports the module, which registers its presets)."""
    import importlib

    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)


def model_class(family: str, role: str = "generator", preset: str | None = None):
    """The zoo class of ``family``'s generator (or model) or discriminator; encoders pick by preset name."""
    import importlib

    if family in _PRESET_MODULES:
        importlib.import_module(_PRESET_MODULES[family])
    gen, disc = MODEL_CLASSES[family]
    if family == "encoder":
        mel = import_class(gen)
        wave = import_class("zoo.encoders.waveform_cnn_encoder:WaveformCNNEncoder")
        return wave if preset in wave.presets() else mel
    spec = gen if role == "generator" else disc
    return import_class(spec) if spec else None


# ----------------------------------------------------------------------------------------------
# The recipes


@dataclasses.dataclass
class TrainRecipe:
    """Fields every recipe has (see the family dataclasses for the model and loss fields).

    Args:
        family: one of :data:`FAMILIES` (``"hifigan"``, ``"wavegan"``, ``"tacotron2"``, ``"vae"``, ``"codec"``...).
        name: free text (default: the file name).
        data: manifest, folder or glob of audio (the CLI's ``--data`` overrides it).
        sample_rate: Hz the audio is loaded at.
        batch_size: *global* batch size (all replicas together).
        segment_length: samples per training example.
        learning_rate, beta_1, beta_2, weight_decay: Adam (``weight_decay`` set: AdamW).
        epsilon: Adam's epsilon (Keras' default 1e-7; PyTorch's, used by the reference HiFi-GAN code, is 1e-8).
        lr_decay: the learning rate is multiplied by this once every ``steps_per_epoch`` steps (HiFi-GAN: 0.999
            per epoch, torch's ``ExponentialLR``); 1.0 keeps it constant.
        steps: training steps in all; ``steps_per_epoch``: steps per progress bar / Keras epoch.
        checkpoint_every: checkpoint period in steps; ``keep_last``: checkpoints kept.
        on_nonfinite: ``"skip"`` the update of a step with a non-finite loss or ``"stop"`` training there.
        precision: ``"float32"``, ``"mixed_float16"`` or ``"mixed_bfloat16"`` (a TPU uses bfloat16).
        seed: seeds weights, data order and noise; ``deterministic``: also turn on op determinism.
        cache: keep decoded audio in memory.
        min_files: refuse to train when fewer usable audio files remain after the unusable ones (missing,
            corrupt, truncated, NaN/Inf, under 10 ms or over 10 min) are skipped.
    """

    family: str = ""
    name: str = ""
    data: str | None = None
    sample_rate: int = 22050
    batch_size: int = 16
    segment_length: int = 8192
    learning_rate: float = 2e-4
    beta_1: float = 0.9
    beta_2: float = 0.999
    weight_decay: float | None = None
    epsilon: float = 1e-7
    lr_decay: float = 1.0
    steps: int = 10000
    steps_per_epoch: int = 100
    checkpoint_every: int = 500
    keep_last: int = 3
    on_nonfinite: str = "skip"
    precision: str = "float32"
    seed: int = 0
    deterministic: bool = False
    cache: bool = True
    min_files: int = 1

    def to_dict(self) -> dict:
        """Plain dict of every field (YAML-ready)."""
        return dataclasses.asdict(self)

    def check(self) -> list[tuple[str, str]]:
        """``[(key, problem), ...]`` of values out of range (empty when the recipe is valid)."""
        bad = []
        if self.family not in FAMILIES:
            bad.append(("family", f"must be one of {FAMILIES}, got {self.family!r}"))
        for key in ("sample_rate", "batch_size", "segment_length", "steps", "steps_per_epoch", "checkpoint_every",
                    "keep_last", "min_files"):
            if getattr(self, key) < 1:
                bad.append((key, f"must be >= 1, got {getattr(self, key)}"))
        if not self.learning_rate > 0:
            bad.append(("learning_rate", f"must be > 0, got {self.learning_rate}"))
        if not self.epsilon > 0:
            bad.append(("epsilon", f"must be > 0, got {self.epsilon}"))
        if not 0 < self.lr_decay <= 1:
            bad.append(("lr_decay", f"must be in (0, 1], got {self.lr_decay}"))
        for key in ("beta_1", "beta_2"):
            if not 0 <= getattr(self, key) < 1:
                bad.append((key, f"must be in [0, 1), got {getattr(self, key)}"))
        if self.on_nonfinite not in ON_NONFINITE:
            bad.append(("on_nonfinite", f"must be one of {ON_NONFINITE}, got {self.on_nonfinite!r}"))
        if self.precision not in PRECISIONS:
            bad.append(("precision", f"must be one of {PRECISIONS}, got {self.precision!r}"))
        return bad

    def check_models(self) -> list[tuple[str, str]]:
        """Problems with the preset names (imports the zoo family)."""
        return []


def _mel_problems(recipe, hop_of_model=None) -> list[tuple[str, str]]:
    from audiogen_tf.features import MelConfig

    names = {f.name for f in dataclasses.fields(MelConfig)}
    bad = [(f"mel.{k}", f"unknown MelConfig field; known: {sorted(names)}") for k in recipe.mel if k not in names]
    if bad:
        return bad
    cfg = recipe.mel_config()
    if cfg.sample_rate != recipe.sample_rate:
        bad.append(("mel.sample_rate", f"{cfg.sample_rate} differs from sample_rate {recipe.sample_rate}"))
    if recipe.segment_length % cfg.hop_length:
        bad.append(("segment_length", f"{recipe.segment_length} is not a multiple of mel.hop_length {cfg.hop_length}"))
    if hop_of_model is not None and hop_of_model != cfg.hop_length:
        bad.append(("mel.hop_length", f"{cfg.hop_length} differs from the generator's upsampling {hop_of_model}"))
    return bad


def _preset_problems(key, cls, preset, overrides) -> list[tuple[str, str]]:
    import inspect

    if preset not in cls.presets():
        return [(key, f"{cls.__name__} has no preset {preset!r}; known: {', '.join(cls.presets())}")]
    params = inspect.signature(cls.__init__).parameters
    allowed = {n for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)} - {"self"}
    return [(f"{key.replace('preset', 'overrides')}.{k}", f"not an argument of {cls.__name__}")
            for k in overrides if k not in allowed]


def _length_mismatch(cls, preset, overrides, key, segment_length, what) -> list[tuple[str, str]]:
    """``[("segment_length", problem)]`` when the preset's ``key`` (with overrides) is set and differs."""
    from audiogen_tf.registry import get_preset

    value = {**get_preset(cls, preset), **overrides}.get(key)
    if value is not None and int(value) != segment_length:
        return [("segment_length", f"{segment_length} differs from the {what}'s {key} {value}")]
    return []


@dataclasses.dataclass
class GANVocoderRecipe(TrainRecipe):
    """A GAN vocoder (HiFi-GAN, MelGAN, Multi-band MelGAN, iSTFT vocoder): mel (batch, frames, n_mels) -> audio (batch, time, 1).

    Args:
        generator_preset, generator_overrides: generator preset and constructor overrides.
        discriminator_preset, discriminator_overrides: the same for the discriminator.
        mel: ``MelConfig`` fields (``hop_length`` must equal the generator's total upsampling).
        d_learning_rate: discriminator learning rate (default: ``learning_rate``).
        adversarial_loss, adversarial_weight, mel_loss_weight, feature_matching_weight,
        feature_matching_include_score, stft_loss_weight, subband_stft_loss_weight, generator_warmup_steps,
        g_clipnorm, d_clipnorm: ``GANTrainer.compile``.
        amplitude_loss_weight, phase_loss_weight, real_imag_loss_weight, consistency_loss_weight: the frame-level
            losses of a frame-rate (iSTFT) generator (``GANTrainer.compile``; family ``istft_vocoder``).
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
                    "real_imag_loss_weight", "consistency_loss_weight", "weighted_phase_loss_weight"):
            if getattr(self, key) < 0:
                bad.append((key, f"must be >= 0, got {getattr(self, key)}"))
        if self.subband_stft_loss_weight > 0 and self.family != "multiband_melgan":
            bad.append(("subband_stft_loss_weight", "needs family multiband_melgan"))
        return bad + _mel_problems(self)

    def check_models(self):
        gen, disc = model_class(self.family, "generator"), model_class(self.family, "discriminator")
        bad = _preset_problems("generator_preset", gen, self.generator_preset, self.generator_overrides)
        bad += _preset_problems("discriminator_preset", disc, self.discriminator_preset, self.discriminator_overrides)
        if not bad:
            from audiogen_tf.registry import get_preset

            kwargs = {**get_preset(gen, self.generator_preset), **self.generator_overrides}
            if "mel_config" in kwargs:  # a generator that carries its features is given the recipe's mel
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


@dataclasses.dataclass
class WaveGANRecipe(TrainRecipe):
    """WaveGAN: noise (batch, latent_dim) [+ label (batch,)] -> audio (batch, slice_length, 1), WGAN-GP.

    Args:
        generator_preset, generator_overrides, discriminator_preset, discriminator_overrides: the pair.
        label_key: manifest column of the class for a conditional preset (``None``: unconditional).
        d_learning_rate: critic learning rate (default: ``learning_rate``).
        adversarial_loss, gp_weight, n_critic: ``GANTrainer.compile`` (paper: WGAN-GP, 10, 5).
    """

    generator_preset: str = "wavegan"
    generator_overrides: dict = dataclasses.field(default_factory=dict)
    discriminator_preset: str = "wavegan"
    discriminator_overrides: dict = dataclasses.field(default_factory=dict)
    label_key: str | None = None
    d_learning_rate: float | None = None
    adversarial_loss: str = "wgan-gp"
    gp_weight: float = 10.0
    n_critic: int = 5

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
class WaveNetRecipe(TrainRecipe):
    """WaveNet with teacher forcing: mu-law ids (batch, time) [+ mel, global id] -> next-sample distribution.

    Args:
        model_preset, model_overrides: the WaveNet preset and constructor overrides.
        mel: ``MelConfig`` fields of the local conditioning (only for presets with ``local_channels``).
        global_key: manifest column of the global condition (presets with ``global_classes``).
    """

    model_preset: str = "wavenet_base"
    model_overrides: dict = dataclasses.field(default_factory=dict)
    mel: dict = dataclasses.field(default_factory=dict)
    global_key: str | None = None

    def mel_config(self):
        from audiogen_tf.features import MelConfig

        return MelConfig.from_dict({"sample_rate": self.sample_rate, **self.mel})

    def check(self):
        return super().check() + (_mel_problems(self) if self.mel else [])

    def check_models(self):
        return _preset_problems("model_preset", model_class("wavenet"), self.model_preset, self.model_overrides)


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


def _mel_key_problems(recipe) -> list[tuple[str, str]]:
    """Unknown ``mel`` keys and a sample rate that differs from the recipe's."""
    from audiogen_tf.features import MelConfig

    names = {f.name for f in dataclasses.fields(MelConfig)}
    bad = [(f"mel.{k}", f"unknown MelConfig field; known: {sorted(names)}") for k in recipe.mel if k not in names]
    if not bad and recipe.mel_config().sample_rate != recipe.sample_rate:
        bad.append(("mel.sample_rate", f"{recipe.mel_config().sample_rate} differs from sample_rate {recipe.sample_rate}"))
    return bad


def _waveform_loss_problems(recipe) -> list[tuple[str, str]]:
    """The multi-resolution STFT loss needs segments longer than its largest FFT (2048 samples)."""
    if recipe.reconstruction == "waveform" and recipe.segment_length <= 2048:
        return [("segment_length", f"{recipe.segment_length} is too short for reconstruction 'waveform' "
                                   "(multi-resolution STFT up to n_fft 2048): use more than 2048 or 'l1'")]
    return []


@dataclasses.dataclass
class ModelRecipe(TrainRecipe):
    """A single model from a zoo preset (``model_preset`` + ``model_overrides``) with log-mel features ``mel``."""

    model_preset: str = ""
    model_overrides: dict = dataclasses.field(default_factory=dict)
    mel: dict = dataclasses.field(default_factory=dict)

    def mel_config(self):
        """The ``MelConfig`` of the features (``sample_rate`` from the recipe unless given)."""
        from audiogen_tf.features import MelConfig

        return MelConfig.from_dict({"sample_rate": self.sample_rate, **self.mel})

    def check(self):
        return super().check() + _mel_key_problems(self)

    def model_kwargs(self) -> dict:
        """The preset's constructor arguments with the overrides applied."""
        from audiogen_tf.registry import get_preset

        return {**get_preset(model_class(self.family), self.model_preset), **self.model_overrides}

    def check_models(self):
        return _preset_problems("model_preset", model_class(self.family), self.model_preset, self.model_overrides)


@dataclasses.dataclass
class Tacotron2Recipe(ModelRecipe):
    """Tacotron 2: text ids (batch, text) + teacher-forced mel (batch, frames, n_mels) -> mel, stop, alignment.

    ``segment_length`` is unused (whole utterances); the data needs a ``text`` column. The loss weights live in
    the model preset (``model_overrides.guided_attention_weight=...``).

    Args:
        model_preset, model_overrides: ``tacotron2``, ``tacotron2_small`` or ``tacotron2_tiny`` and overrides.
        mel: ``MelConfig`` fields of the targets (passed to the model as ``mel_config``).
        bucket_boundaries: audio lengths in samples separating the length buckets (``None``: one bucket).
        max_audio_length: drop longer utterances (samples; ``None``: keep all).
        griffin_lim_iters: Griffin-Lim iterations of ``audiogen synthesize``.
    """

    model_preset: str = "tacotron2"
    bucket_boundaries: list | None = None
    max_audio_length: int | None = None
    griffin_lim_iters: int = 32

    def check(self):
        bad = super().check()
        if self.bucket_boundaries is not None and any(int(b) < 1 for b in self.bucket_boundaries):
            bad.append(("bucket_boundaries", f"must be positive sample counts, got {self.bucket_boundaries}"))
        if self.griffin_lim_iters < 1:
            bad.append(("griffin_lim_iters", f"must be >= 1, got {self.griffin_lim_iters}"))
        return bad


@dataclasses.dataclass
class CTCTTSRecipe(Tacotron2Recipe):
    """LSTM TTS with a CTC (forward-sum) alignment: ``(text_ids, text_lengths, mel, mel_lengths)`` -> mel, durations.

    The batches are Tacotron 2's plus the mel lengths as an input; the loss weights (mel, duration, forward-sum,
    binarization and its start step) live in the model preset (``model_overrides.binarization_start_steps=...``).

    Args:
        model_preset, model_overrides: ``ctc_tts_small`` or ``ctc_tts_tiny`` and overrides.
        mel, bucket_boundaries, max_audio_length, griffin_lim_iters: as :class:`Tacotron2Recipe`.
    """

    model_preset: str = "ctc_tts_small"


@dataclasses.dataclass
class CTCRecognizerRecipe(ModelRecipe):
    """CTC recognizer: ``(mel, mel_lengths)`` -> per-frame symbol logits, CTC loss against the transcript.

    ``segment_length`` is unused (whole utterances); the data needs a ``text`` column.

    Args:
        model_preset, model_overrides: ``ctc_recognizer_small`` or ``ctc_recognizer_tiny`` and overrides.
        mel: ``MelConfig`` fields of the input (passed to the model as ``mel_config``).
        bucket_boundaries: audio lengths in samples separating the length buckets (``None``: one bucket).
        max_audio_length: drop longer utterances (samples; ``None``: keep all).
    """

    model_preset: str = "ctc_recognizer_small"
    bucket_boundaries: list | None = None
    max_audio_length: int | None = None

    def check(self):
        bad = super().check()
        if self.bucket_boundaries is not None and any(int(b) < 1 for b in self.bucket_boundaries):
            bad.append(("bucket_boundaries", f"must be positive sample counts, got {self.bucket_boundaries}"))
        return bad


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


RECIPE_CLASSES = {"hifigan": GANVocoderRecipe, "melgan": GANVocoderRecipe, "multiband_melgan": GANVocoderRecipe,
                  "istft_vocoder": GANVocoderRecipe,
                  "wavegan": WaveGANRecipe, "wavenet": WaveNetRecipe, "encoder": EncoderRecipe,
                  "specgan": SpecGANRecipe,
                  "tacotron2": Tacotron2Recipe, "vae": VAERecipe, "vqvae": VQVAERecipe, "codec": VQVAERecipe,
                  "frame_rnn": FrameRNNRecipe, "wavernn": WaveRNNRecipe,
                  "ctc_recognizer": CTCRecognizerRecipe, "ctc_tts": CTCTTSRecipe}


# ----------------------------------------------------------------------------------------------
# Loading and validation


def _check_type(value, annotation) -> tuple[bool, Any]:
    """(ok, coerced value) of ``value`` against a field annotation (str form, from ``__future__`` annotations)."""
    hint = annotation if not isinstance(annotation, str) else annotation.replace(" ", "")
    options = hint.split("|")
    if value is None:
        return "None" in options, None
    for option in options:
        if option == "bool" and isinstance(value, bool):
            return True, value
        if option == "int" and isinstance(value, int) and not isinstance(value, bool):
            return True, value
        if option == "float":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return True, float(value)
            if isinstance(value, str):
                try:
                    return True, float(value)  # YAML 1.1 reads "1e-3" as a string
                except ValueError:
                    pass
        if option == "str" and isinstance(value, str):
            return True, value
        if option == "dict" and isinstance(value, dict):
            return True, dict(value)
        if option == "list" and isinstance(value, (list, tuple)):
            return True, list(value)
    return False, value


def _parse_override(text: str):
    import yaml

    if "=" not in text:
        raise ConfigError(f"override {text!r} is not of the form key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as err:
        raise ConfigError(f"override {key}: cannot parse value {raw!r} ({err})") from err
    return key, value


def recipe_path(name_or_path) -> str:
    """A recipe file: the path itself, or a bundled recipe by name (``"hifigan"`` -> ``training/recipes/hifigan.yaml``)."""
    path = os.fspath(name_or_path)
    if os.path.isfile(path):
        return path
    bundled = os.path.join(RECIPE_DIR, f"{path}.yaml")
    if os.path.isfile(bundled):
        return bundled
    known = sorted(f[:-5] for f in os.listdir(RECIPE_DIR) if f.endswith(".yaml")) if os.path.isdir(RECIPE_DIR) else []
    raise ConfigError(f"{path}: no such recipe file; bundled recipes: {', '.join(known)}")


def recipe_from_dict(data: dict, source: str = "<dict>", overrides=(), check_models: bool = True) -> TrainRecipe:
    """Build and validate a recipe from a dict (e.g. parsed YAML) and ``key=value`` overrides.

    Args:
        data: recipe fields; ``family`` selects the dataclass.
        source: the file name used in error messages.
        overrides: ``["key=value", ...]``; values are parsed as YAML, dotted keys reach into dict fields
            (``mel.n_mels=40``, ``generator_overrides.channels=16``).
        check_models: also check preset names and constructor overrides (imports the zoo family).

    Raises:
        ConfigError: naming the key and ``source`` for an unknown key, a wrong type or a value out of range.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a recipe must be a mapping of key: value, got {type(data).__name__}")
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    given = {}  # top-level key -> the override text that set it (so that errors blame the override, not the file)
    for text in overrides or ():
        key, value = _parse_override(text)
        parts = key.split(".")
        given[parts[0]] = text
        if len(parts) == 1:
            data[key] = value
        else:
            target = data.setdefault(parts[0], {})
            if not isinstance(target, dict):
                raise ConfigError(f"--set {text}: {parts[0]} is not a mapping (in {source})")
            for p in parts[1:-1]:
                target = target.setdefault(p, {})
            target[parts[-1]] = value

    def where(key):
        return f"--set {given[key]}: in {source}," if key in given else f"{source}:"

    family = data.get("family")
    if family not in RECIPE_CLASSES:
        raise ConfigError(f"{where('family')} key 'family' must be one of {sorted(RECIPE_CLASSES)}, got {family!r}")
    cls = RECIPE_CLASSES[family]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = {name: f.type for name, f in fields.items()}
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            raise ConfigError(f"{where(key)} unknown key '{key}' for a {family} recipe; known keys: "
                              f"{', '.join(sorted(fields))}")
        ok, coerced = _check_type(value, hints[key])
        if not ok:
            raise ConfigError(f"{where(key)} key '{key}' must be {hints[key]}, got {value!r}")
        kwargs[key] = coerced
    if not kwargs.get("name"):
        kwargs["name"] = os.path.splitext(os.path.basename(source))[0]
    recipe = cls(**kwargs)
    problems = recipe.check()
    if not problems and check_models:
        problems = recipe.check_models()
    if problems:
        key, problem = problems[0]
        more = f" (and {len(problems) - 1} more: {', '.join(k for k, _ in problems[1:])})" if len(problems) > 1 else ""
        raise ConfigError(f"{where(key.split('.')[0])} key '{key}' {problem}{more}")
    return recipe


def load_recipe(path, overrides=(), check_models: bool = True) -> TrainRecipe:
    """Read a recipe YAML file (or a bundled recipe by name), apply overrides and validate it.

    Args:
        path: a ``.yaml`` file or a bundled recipe name (``hifigan``, ``melgan``, ``multiband_melgan``, ``wavegan``,
            ``wavenet``, ``encoders``, ``tacotron2``, ``vae``, ``vqvae``, ``codec``, ``frame_rnn``, ``wavernn``).
        overrides: ``["key=value", ...]`` (see :func:`recipe_from_dict`).
        check_models: also check preset names and constructor overrides.

    Returns:
        a :class:`GANVocoderRecipe`, :class:`WaveGANRecipe`, :class:`WaveNetRecipe`, :class:`EncoderRecipe`,
        :class:`Tacotron2Recipe`, :class:`VAERecipe`, :class:`VQVAERecipe`, :class:`FrameRNNRecipe` or
        :class:`WaveRNNRecipe`.

    Raises:
        ConfigError: unknown key or bad value, naming the key and the file.

    Example:
        >>> load_recipe("wavegan", ["n_critic=0"])  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        audiogen_tf.errors.ConfigError: .../wavegan.yaml: key 'n_critic' must be >= 1, got 0
    """
    import yaml

    path = recipe_path(path)
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from err
    return recipe_from_dict(data, source=path, overrides=overrides, check_models=check_models)


def save_recipe(recipe: TrainRecipe, path) -> str:
    """Write ``recipe`` as YAML (atomically); returns the path."""
    import yaml

    from audiogen_tf.atomic import atomic_write_text

    return atomic_write_text(path, yaml.safe_dump(recipe.to_dict(), sort_keys=False))
