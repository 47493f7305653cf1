"""Constructor arguments are the config: for every registered model class, built from a preset,
``get_config()`` holds exactly the constructor's parameters (plus ``name``) and survives ``from_config``."""

import importlib
import inspect
import json
import os
import pkgutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

import zoo  # noqa: E402
from audiogen_tf.registry import get_model_class, list_presets  # noqa: E402

for _family in pkgutil.iter_modules(zoo.__path__):
    if _family.ispkg:
        importlib.import_module(f"zoo.{_family.name}")

# one preset per model class, the smallest one ("tiny" in its name) where there is one
CASES = sorted(
    (cls_name, next((p for p in presets if "tiny" in p), presets[0]))
    for cls_name, presets in list_presets().items()
)


def _constructor_parameters(cls):
    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name for p in params if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}


def test_every_family_registered_presets():
    assert len(CASES) >= 20, CASES


@pytest.mark.parametrize("cls_name,preset", CASES)
def test_config_is_the_constructor_arguments(cls_name, preset):
    cls = get_model_class(cls_name)
    model = cls.from_preset(preset)
    config = model.get_config()
    assert set(config) - {"name"} == _constructor_parameters(cls) - {"name"}, (
        f"{cls_name}: config keys differ from the constructor's parameters: "
        f"missing {sorted(_constructor_parameters(cls) - set(config) - {'name'})}, "
        f"extra {sorted(set(config) - _constructor_parameters(cls) - {'name'})}")
    assert config["name"] == model.name
    assert cls.from_config(config).get_config() == config
    json.dumps(config)  # plain values only: the config goes into .keras files and YAML recipes
