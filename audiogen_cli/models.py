"""``audiogen models``: every registered model family and preset, with parameter counts."""

from __future__ import annotations


def import_zoo() -> list[str]:
    """Import every ``zoo`` family (each declares itself in ``zoo/<folder>/<folder>_family.py``, registering its
    presets); returns the family names."""
    from zoo.families import zoo_families

    return list(zoo_families())


def _tensors(tensors, names=None) -> str:
    """``name (None, 80, 1), ...`` of a model's (possibly nested) inputs or outputs, the first few."""
    import keras

    flat = keras.tree.flatten(tensors)
    names = list(names) if names is not None and len(names) == len(flat) else [getattr(t, "name", "?") for t in flat]
    shown = [f"{n} {tuple(t.shape)}" if not n.startswith("keras_tensor") else f"{tuple(t.shape)}"
             for n, t in zip(names[:3], flat[:3])]
    more = f" (+{len(flat) - 3} more)" if len(flat) > 3 else ""
    return ", ".join(shown) + more


def io_summary(model) -> str:
    """What a functional model consumes and produces, e.g. ``consumes mel (None, None, 80) -> produces ...``."""
    return f"consumes {_tensors(model.inputs)} -> produces {_tensors(model.outputs, getattr(model, 'output_names', None))}"


def list_models(count: bool = True) -> list[tuple[str, str, int | None]]:
    """Print and return ``(model, preset, parameters)`` rows; paper-sized presets are built to count."""
    from audiogen_tf import registry

    import_zoo()
    rows = []
    for model_name, presets in registry.list_presets().items():
        cls = registry.get_model_class(model_name)
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        print(f"{model_name}: {doc}")
        small = next((p for p in presets if "tiny" in p), presets[0]) if presets else None
        if small is not None:
            import keras

            try:
                print(f"  {io_summary(cls.from_preset(small))}")
            except Exception as err:  # a family that cannot be built alone still lists its presets
                print(f"  (inputs/outputs unavailable: {type(err).__name__}: {err})")
            keras.backend.clear_session(free_memory=False)  # a tiny model: no gc.collect (~0.2 s a family)
        for preset in presets:
            params = None
            if count:
                import keras

                model = cls.from_preset(preset, weights=None)  # counting needs no weight file read
                params = int(sum(int(__import__("numpy").prod(w.shape)) for w in model.weights))
                keras.backend.clear_session()
            rows.append((model_name, preset, params))
            shown = f"{params / 1e6:8.2f} M" if params is not None else ""
            shipped = registry.get_preset(cls, preset).get("weights")
            trained = f" trained weights (card: {shipped['file'].replace('.npz', '.md')})" if shipped else ""
            print(f"  {preset:<32} {shown}{trained}")
    return rows
