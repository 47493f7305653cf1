"""Shared pytest setup: quiet TensorFlow logs, deterministic seeds, a scratch folder fixture."""

import os
import random
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

# tests/ holds shared helpers (model_harness.py) imported as top-level modules; the benchmark scripts the tests
# drive (benchmarks/*.py) are imported the same way.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))


@pytest.fixture(autouse=True)
def _deterministic_seeds():
    """Seed Python and NumPy for every test, and Keras too once it is imported (cheap tests stay TF-free)."""
    random.seed(0)
    np.random.seed(0)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(0)
    yield


@pytest.fixture
def seed():
    """Seed Python, NumPy and the Keras backend with 1234; returns the seed."""
    import keras

    keras.utils.set_random_seed(1234)
    return 1234


@pytest.fixture
def rng():
    """A seeded ``np.random.Generator``."""
    return np.random.default_rng(1234)


@pytest.fixture
def out_dir(tmp_path):
    """A fresh ``tmp_path / "out"`` folder for files a test writes."""
    path = tmp_path / "out"
    path.mkdir()
    return path
