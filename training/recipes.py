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

RECIPE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs")
RECONSTRUCTIONS = ("mse", "l1", "waveform")
ON_NONFINITE = ("skip", "stop")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
ADVERSARIAL_LOSSES = ("lsgan", "hinge", "wgan-gp")
LR_SCHEDULES = ("constant", "cosine")

# The recipe dataclass of each family lives in its training file (training/families/<family>.py), declared once
# there: ``train_family(name).recipe``.


def __getattr__(name):
    if name == "FAMILIES":
        return families()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def families() -> tuple[str, ...]:
    """The names of every family a recipe can train (from :mod:`training.families`)."""
    from training.families import train_families

    return tuple(sorted(train_families()))


def model_class(family: str, role: str = "generator", preset: str | None = None):
    """The zoo class of ``family``'s generator (or model) or discriminator (a preset picks among alternatives)."""
    from zoo.families import zoo_family

    return zoo_family(family).model_class(role, preset)


@dataclasses.dataclass
class TrainRecipe:
    """Fields every recipe has (see the family dataclasses for the model and loss fields).

    Args:
        family: one of :func:`families` (``"hifigan"``, ``"wavegan"``, ``"tacotron2"``, ``"vae"``, ``"codec"``...).
        name: free text (default: the file name).
        data: manifest, folder or glob of audio, or a list of them (the CLI's ``--data`` overrides it).
        data_split: train on the entries whose ``split`` column has this value only (e.g. ``train``).
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
        minutes: stop once this many minutes were spent training, over every session of the run (``None``: only
            ``steps`` ends it); the clock is the run folder's ``clock.json`` (:mod:`training.budget`).
        lr_schedule: ``"constant"`` or ``"cosine"`` (from the base rate to ``lr_final_fraction`` of it).
        schedule_over: the cosine's axis, ``"steps"`` or ``"minutes"`` of the training clock (a run stopped by the
            clock still anneals); ``schedule_length``: its span (default ``steps`` or ``minutes``);
            ``schedule_start``: the base rate is held until this step / minute.
        snapshot_minutes: save the generator's weights every this many training minutes (``snapshots/``).
        init_from: warm start: a run folder, a ``.keras`` / ``.weights.h5`` file or a trained preset whose weights
            are copied where names and shapes match (once, when the run starts from step 0).
    """

    family: str = ""
    name: str = ""
    data: str | list | None = None
    data_split: str | None = None
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
    minutes: float | None = None
    lr_schedule: str = "constant"
    schedule_over: str = "steps"
    schedule_length: float | None = None
    schedule_start: float = 0.0
    lr_final_fraction: float = 0.05
    snapshot_minutes: float | None = None
    init_from: str | None = None

    def to_dict(self) -> dict:
        """Plain dict of every field (YAML-ready)."""
        return dataclasses.asdict(self)

    def check(self) -> list[tuple[str, str]]:
        """``[(key, problem), ...]`` of values out of range (empty when the recipe is valid)."""
        bad = []
        if self.family not in families():
            bad.append(("family", f"must be one of {families()}, got {self.family!r}"))
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
        if self.lr_schedule not in LR_SCHEDULES:
            bad.append(("lr_schedule", f"must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}"))
        if self.schedule_over not in ("steps", "minutes"):
            bad.append(("schedule_over", f"must be 'steps' or 'minutes', got {self.schedule_over!r}"))
        elif self.lr_schedule == "cosine" and self.schedule_over == "minutes" and not (self.schedule_length
                                                                                       or self.minutes):
            bad.append(("schedule_length", "a cosine over minutes needs schedule_length or minutes"))
        for key in ("minutes", "schedule_length", "snapshot_minutes"):
            value = getattr(self, key)
            if value is not None and not value > 0:
                bad.append((key, f"must be > 0 (or null), got {value}"))
        if not 0 <= self.lr_final_fraction <= 1:
            bad.append(("lr_final_fraction", f"must be in [0, 1], got {self.lr_final_fraction}"))
        return bad

    def check_models(self) -> list[tuple[str, str]]:
        """Problems with the preset names (imports the zoo family)."""
        return []

    def zoo_class(self, role: str = "generator"):
        """The zoo class the recipe builds for ``role`` (its preset picks among a family's alternatives)."""
        preset = getattr(self, "model_preset", None) or getattr(self, f"{role}_preset", None)
        return model_class(self.family, role, preset)


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

        return {**get_preset(self.zoo_class(), self.model_preset), **self.model_overrides}

    def check_models(self):
        return _preset_problems("model_preset", self.zoo_class(), self.model_preset, self.model_overrides)



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
    """A recipe file: the path itself, or a bundled recipe by name (``"hifigan"`` -> ``training/configs/hifigan.yaml``)."""
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

    from training.families import train_families

    family = data.get("family")
    if family not in train_families():
        raise ConfigError(f"{where('family')} key 'family' must be one of {sorted(train_families())}, got {family!r}")
    cls = train_families()[family].recipe
    if hasattr(cls, "migrate"):  # keys of earlier versions (e.g. per-loss weights) in today's form
        data = cls.migrate(data)
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
        the recipe dataclass its family declares (:mod:`training.families`), e.g. ``GANVocoderRecipe``.

    Raises:
        ConfigError: unknown key or bad value, naming the key and the file.

    Example:
        >>> load_recipe("wavegan", ["n_critic=0"])  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        audiogen_tf.errors.ConfigError: .../wavegan.yaml: key 'n_critic' must be >= 1, got 0
    """
    path = recipe_path(path)
    return recipe_from_dict(read_recipe_file(path), source=path, overrides=overrides, check_models=check_models)


def _merged(base: dict, over: dict) -> dict:
    """``base`` with ``over``'s keys on top; mappings (``mel``, ``generator_overrides``...) merge key by key."""
    out = dict(base)
    for key, value in over.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def read_recipe_file(path, _seen=()) -> dict:
    """A recipe file's keys, with its ``include:`` (a base recipe: a path relative to the file, or a bundled name)
    read first and overridden by the file's own keys, as DAC's ``$include`` (all but the base's ``name``); includes
    may nest, not loop.

    Raises:
        ConfigError: not valid YAML, not a mapping, a missing or looping include.
    """
    import yaml

    path = os.path.abspath(os.fspath(path))
    if path in _seen:
        raise ConfigError(f"{path}: includes itself ({' -> '.join(list(_seen) + [path])})")
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a recipe must be a mapping of key: value, got {type(data).__name__}")
    base = data.pop("include", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise ConfigError(f"{path}: 'include' must be a recipe file or a bundled recipe name, got {base!r}")
    beside = os.path.join(os.path.dirname(path), base)
    try:
        base_path = recipe_path(beside if os.path.isfile(beside) else base)
    except ConfigError as err:
        raise ConfigError(f"{path}: include {base!r}: {err}") from err
    base_data = read_recipe_file(base_path, (*_seen, path))
    base_data.pop("name", None)  # a recipe is named by its own file (or its own name: key), not by its base
    return _merged(base_data, data)


def save_recipe(recipe: TrainRecipe, path) -> str:
    """Write ``recipe`` as YAML (atomically); returns the path."""
    import yaml

    from audiogen_tf.atomic import atomic_write_text

    return atomic_write_text(path, yaml.safe_dump(recipe.to_dict(), sort_keys=False))
