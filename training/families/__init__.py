"""The training side of each model family, declared once in ``training/families/<family>.py``.

A family file holds ``FAMILIES = [TrainFamily(...), ...]``: the recipe dataclass, how the recipe builds the
models, compiles the trainer and makes the training batches, and (for SpecGAN) a step that prepares the recipe
from the data. :func:`train_families` collects every module of this package that declares ``FAMILIES`` (modules
whose name starts with ``_`` hold shared helpers), so :mod:`training.run`, :mod:`training.recipes`, the CLI and
the benchmarks look a family up instead of branching on recipe types. The model side of a family is its
:class:`zoo.families.ZooFamily` of the same name.

Example:
    >>> all(fam.zoo.name == name and fam.recipe.__name__.endswith("Recipe") for name, fam in train_families().items())
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
class TrainFamily:
    """How a recipe of family ``name`` trains.

    Args:
        name: the recipe's ``family`` (the name of its :class:`zoo.families.ZooFamily`).
        recipe: the recipe dataclass (a :class:`training.recipes.TrainRecipe`).
        build_models: ``fn(recipe, num_classes) -> {"generator", "discriminators"}`` or ``{"model"}``.
        build_trainer: ``fn(recipe, models) -> compiled trainer`` (a ``GANTrainer``, a VAE trainer or the model).
        dataset: ``fn(recipe, source, batch_size, models, vocabulary, kwargs) -> tf.data.Dataset`` of training
            batches (``kwargs``: sharding, shuffling, caching, ``repeat``, ``drop_remainder``).
        prepare: ``fn(recipe, source) -> recipe`` run once before a run starts (SpecGAN's data moments), or None.
        labels_size_model: the model's ``num_classes`` comes from the labels of the data (encoders, VAE).
        check_data: ``fn(recipe, source, verbose) -> (entries, skipped)`` for data that is not audio (scores);
            ``None``: every manifest file is decoded as audio (:func:`training.run.check_data`).
    """

    name: str
    recipe: type
    build_models: Callable
    build_trainer: Callable
    dataset: Callable
    prepare: Callable | None = None
    labels_size_model: bool = False
    check_data: Callable | None = None

    @property
    def zoo(self):
        """The model side of the family."""
        from zoo.families import zoo_family

        return zoo_family(self.name)


@functools.lru_cache(maxsize=None)
def train_families() -> dict[str, TrainFamily]:
    """``{name: TrainFamily}`` of every module of this package that declares ``FAMILIES``."""
    found: dict[str, TrainFamily] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for fam in getattr(module, "FAMILIES", ()):
            if fam.name in found:
                raise ConfigError(f"{module.__name__}: family {fam.name!r} is declared twice")
            found[fam.name] = fam
    return found


def train_family(name: str) -> TrainFamily:
    """The training declaration of ``name``; a ``ConfigError`` lists the known families."""
    families = train_families()
    if name not in families:
        raise ConfigError(f"no training recipe for family {name!r}; known: {', '.join(sorted(families))}")
    return families[name]


def optimizer(recipe, learning_rate=None):
    """Adam (AdamW with ``weight_decay``) of the recipe, with its per-"epoch" exponential decay."""
    import keras

    lr = float(learning_rate if learning_rate is not None else recipe.learning_rate)
    if recipe.lr_decay != 1.0:  # once per "epoch" of steps_per_epoch steps, as torch's ExponentialLR per epoch
        lr = keras.optimizers.schedules.ExponentialDecay(lr, recipe.steps_per_epoch, recipe.lr_decay, staircase=True)
    if recipe.weight_decay:
        return keras.optimizers.AdamW(lr, weight_decay=recipe.weight_decay, beta_1=recipe.beta_1, beta_2=recipe.beta_2,
                                      epsilon=recipe.epsilon)
    return keras.optimizers.Adam(lr, beta_1=recipe.beta_1, beta_2=recipe.beta_2, epsilon=recipe.epsilon)


def compiled(recipe, model, **compile_kwargs):
    """``model`` compiled with the recipe's optimizer, its slots built (a checkpoint restores them before ``fit``)."""
    model.compile(optimizer=optimizer(recipe), **compile_kwargs)
    model.optimizer.build(model.trainable_variables)
    return model


def preset_model(recipe, overrides=None):
    """``{"model": ...}`` of a single-model recipe: its preset with ``overrides`` (default the recipe's)."""
    cls = recipe.zoo_class()
    over = dict(recipe.model_overrides if overrides is None else overrides)
    return {"model": cls.from_preset(recipe.model_preset, **over)}
