"""Named presets for models: plain dicts of constructor arguments, looked up by name.

A model family registers its presets once (in its ``*_presets.py``) and gets ``from_preset``
through :class:`PresetMixin`. The registry knows no model: families register themselves.

Example:
    >>> from audiogen_tf.registry import list_presets
    >>> isinstance(list_presets(), dict)
    True
"""

from __future__ import annotations

import copy

from audiogen_tf.errors import ConfigError

# model class name -> {preset name -> dict of constructor arguments}
_PRESETS: dict[str, dict[str, dict]] = {}
# model class name -> model class
_MODELS: dict[str, type] = {}


def register_presets(model_cls: type, presets: dict[str, dict]) -> None:
    """Register ``presets`` (name -> constructor kwargs) for ``model_cls``."""
    _MODELS[model_cls.__name__] = model_cls
    table = _PRESETS.setdefault(model_cls.__name__, {})
    for name, kwargs in presets.items():
        table[name] = dict(kwargs)


def get_preset(model_cls_or_name, preset: str) -> dict:
    """Return a copy of the constructor kwargs of ``preset``; a clear error lists the known names."""
    name = model_cls_or_name if isinstance(model_cls_or_name, str) else model_cls_or_name.__name__
    table = _PRESETS.get(name, {})
    if preset not in table:
        known = ", ".join(sorted(table)) or "none"
        raise ConfigError(f"{name} has no preset '{preset}'. Known presets: {known}")
    return copy.deepcopy(table[preset])


def list_presets() -> dict[str, list[str]]:
    """Model class name -> sorted preset names, for every registered family."""
    return {name: sorted(table) for name, table in sorted(_PRESETS.items())}


def get_model_class(name: str) -> type:
    """The registered model class called ``name``."""
    if name not in _MODELS:
        raise ConfigError(f"Unknown model '{name}'. Known models: {', '.join(sorted(_MODELS)) or 'none'}")
    return _MODELS[name]


def _plain(value):
    """Tuples and tracked lists (nested) as plain lists, so a config is JSON and YAML friendly."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class ConstructorConfigMixin:
    """``get_config`` / ``from_config`` for a model whose config is exactly its constructor arguments.

    The constructor calls ``self.keep_config(arg=value, ...)`` once (after ``super().__init__``) with the
    normalized arguments: each becomes an attribute and ``get_config`` returns them all (sequences as plain
    lists) with the model's ``name``.
    """

    def keep_config(self, **arguments):
        self._config_keys = tuple(arguments)
        for key, value in arguments.items():
            setattr(self, key, value)

    def get_config(self):
        return {"name": self.name, **{key: _plain(getattr(self, key)) for key in self._config_keys}}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def shipped_weights_path(model_cls: type, weights: dict) -> str:
    """Path of the file a preset's ``"weights": {"file", "sha256", "module"}`` names: beside ``module`` (default
    the model's own module), inside the installed package."""
    from audiogen_tf.pretrained import packaged_file

    return packaged_file(weights.get("module", model_cls.__module__), weights["file"])


class PresetMixin:
    """Adds ``from_preset(name, **overrides)`` to a model whose constructor arguments are its config."""

    @classmethod
    def from_preset(cls, preset: str, **overrides):
        """Build ``preset`` (with constructor ``overrides``); a preset with shipped ``weights`` loads them, offline.

        A preset's ``"weights": {"file", "sha256", "module"}`` names a float16 file beside ``module`` (default the
        model's module; :mod:`audiogen_tf.pretrained`); its checksum is verified first. Overrides that change the
        architecture make the shipped weights unusable: pass ``weights=None`` to build it untrained.
        """
        kwargs = get_preset(cls, preset)
        shipped = kwargs.pop("weights", None)
        if "weights" in overrides:
            shipped = overrides.pop("weights")
        kwargs.update(overrides)
        model = cls(**kwargs)
        if shipped:
            from audiogen_tf.pretrained import load_weights

            load_weights(model, shipped_weights_path(cls, shipped), shipped["sha256"])
        return model

    @classmethod
    def presets(cls) -> list[str]:
        return sorted(_PRESETS.get(cls.__name__, {}))
