"""``audiogen models``: every registered model family and preset, with parameter counts."""

from __future__ import annotations

import importlib
import pkgutil


def import_zoo() -> list[str]:
    """Import every ``zoo`` family so that its presets register; returns the family names."""
    import zoo

    names = []
    for info in pkgutil.iter_modules(zoo.__path__):
        if info.ispkg:
            importlib.import_module(f"zoo.{info.name}")
            names.append(info.name)
    return names


def list_models(count: bool = True) -> list[tuple[str, str, int | None]]:
    """Print and return ``(model, preset, parameters)`` rows; paper-sized presets are built to count."""
    from audiogen_tf import registry

    import_zoo()
    rows = []
    for model_name, presets in registry.list_presets().items():
        cls = registry.get_model_class(model_name)
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        print(f"{model_name}: {doc}")
        for preset in presets:
            params = None
            if count:
                import keras

                model = cls.from_preset(preset)
                params = int(sum(int(__import__("numpy").prod(w.shape)) for w in model.weights))
                keras.backend.clear_session()
            rows.append((model_name, preset, params))
            shown = f"{params / 1e6:8.2f} M" if params is not None else ""
            print(f"  {preset:<32} {shown}")
    return rows
