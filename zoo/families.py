"""The zoo's families, each declared once in its own folder: ``zoo/<folder>/<folder>_family.py``.

A family file holds ``FAMILIES = [ZooFamily(...), ...]`` (a folder may hold several, e.g. a model and its
multi-band variant) and imports its presets module, so declaring a family registers
its presets. :func:`zoo_families` collects them the way :func:`zoo.torch_import.torch_import_archs` collects the
torch importers: training, the CLI and the benchmarks look a family up here instead of branching on class names.

Example:
    >>> all(family_of(fam.generator) is fam and fam.generator.presets() for fam in zoo_families().values())
    True
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil
from typing import Callable

from audiogen_tf.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class ZooFamily:
    """What a model family is, as the rest of the project needs to know it.

    Args:
        name: the family name recipes use (their ``family`` key).
        generator: the generator (GANs) or the model class.
        discriminator: the discriminator class of a GAN (training only, never exported), or ``None``.
        synthesis: how ``audiogen synthesize`` uses a trained model: ``"vocoder"`` (mel -> audio in one call),
            ``"autoregressive_vocoder"`` (mel -> ids -> audio), ``"noise"`` (GANs draw audio clips), ``"autoregressive"``
            (samples clips step by step), ``"tacotron2"``,
            ``"ctc_tts"`` (text -> mel -> audio), ``"latent"`` and ``"frames"`` (draw mels), ``"reconstruct"``
            (audio -> codes -> audio), or ``None`` (no audio out: encoders, recognizers).
        alternatives: further model classes of the family, chosen by preset name.
        training_only: more classes used only in training (sub-discriminators with presets of their own).
        dataset: the family's data adapter ``fn(source, ...) -> tf.data.Dataset`` where it has its own.
        export_overrides: constructor overrides that make the generator's presets export with builtin TFLite ops.
        features: ``"mel_config"`` when the models carry a complete :class:`~audiogen_tf.features.MelConfig`
            (their feature frontend, saved in ``.keras`` files and exported bundles); ``None`` otherwise.
    """

    name: str
    generator: type
    discriminator: type | None = None
    synthesis: str | None = None
    alternatives: tuple = ()
    training_only: tuple = ()
    dataset: Callable | None = None
    export_overrides: dict = dataclasses.field(default_factory=dict)
    features: str | None = None

    @property
    def classes(self) -> tuple:
        """Every model class of the family (generator first)."""
        return tuple(c for c in (self.generator, self.discriminator, *self.alternatives, *self.training_only) if c)

    def model_class(self, role: str = "generator", preset: str | None = None):
        """The class of ``role`` (``"generator"`` or ``"discriminator"``); a preset of an alternative picks it."""
        if role == "discriminator":
            return self.discriminator
        for cls in self.alternatives:
            if preset is not None and preset in cls.presets():
                return cls
        return self.generator


@functools.lru_cache(maxsize=None)
def zoo_families() -> dict[str, ZooFamily]:
    """``{name: ZooFamily}`` of every ``zoo/<folder>/<folder>_family.py`` (imports them, registering presets)."""
    import zoo

    found: dict[str, ZooFamily] = {}
    for info in sorted(pkgutil.iter_modules(zoo.__path__), key=lambda i: i.name):
        if not info.ispkg:
            continue
        name = f"zoo.{info.name}.{info.name}_family"
        if importlib.util.find_spec(name) is None:
            continue
        for fam in importlib.import_module(name).FAMILIES:
            if fam.name in found:
                raise ConfigError(f"{name}: family {fam.name!r} is declared twice")
            found[fam.name] = fam
    return found


def zoo_family(name: str) -> ZooFamily:
    """The family called ``name``; a ``ConfigError`` lists the known ones."""
    families = zoo_families()
    if name not in families:
        raise ConfigError(f"unknown model family {name!r}; known: {', '.join(sorted(families))}")
    return families[name]


def family_of(model_or_class) -> ZooFamily | None:
    """The family a model (or model class) belongs to, ``None`` for a class of no family."""
    cls = model_or_class if isinstance(model_or_class, type) else type(model_or_class)
    for fam in zoo_families().values():
        if cls in fam.classes:
            return fam
    return None


def training_only_classes() -> set[str]:
    """Names of the classes that exist only to train others (discriminators): never exported."""
    names = set()
    for fam in zoo_families().values():
        names.update(c.__name__ for c in (fam.discriminator, *fam.training_only) if c is not None)
    return names
