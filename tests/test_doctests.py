"""Run every ``>>>`` docstring example of the library packages, one test per module.

The design says docstring examples run or are not written as ``>>>`` examples. Modules are found on disk
(not by importing packages) so that collection imports nothing; ``__main__.py`` files are left out because
importing them runs a program. Each module's examples start from the same seeds, so printed numbers are
reproducible, and they run in a scratch folder so that a relative path written by an example lands
there. ``# doctest: +SKIP`` is kept for examples that need a file, a trained model or a system tool.
"""

import doctest
import importlib
import io
import pathlib
import random

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("audiogen_tf", "zoo", "training", "tflite_export", "audiogen_cli")  # those present
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_names():
    """Dotted names of every module under PACKAGES whose source holds a ``>>>`` line."""
    names = []
    for package in PACKAGES:
        if not (ROOT / package).is_dir():
            continue
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "__main__.py" or ">>>" not in path.read_text(encoding="utf-8"):
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join(parts))
    return names


MODULES = _module_names()


def test_modules_were_found():
    """Guard against a layout change that would silently make the parametrized test below empty."""
    assert len(MODULES) > 40, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    """Every example in module ``name`` gives the output its docstring shows (run in a scratch folder)."""
    import keras

    module = importlib.import_module(name)
    monkeypatch.chdir(tmp_path)
    random.seed(0)
    np.random.seed(0)
    keras.utils.set_random_seed(0)
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    for test in doctest.DocTestFinder().find(module, name):
        if test.examples:
            runner.run(test, out=report.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed\n{report.getvalue()}"
