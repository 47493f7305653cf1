"""Files saved by older versions still load: ``.keras`` GAN vocoders from tests/fixtures/keras_v0 give the
outputs they gave when they were written (registered class names and layer names are part of the format)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import zoo.hifigan  # noqa: E402,F401  (registers the classes for deserialization)
import zoo.melgan  # noqa: E402,F401

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "keras_v0")


@pytest.mark.parametrize("name,input_key", [
    ("HiFiGANGenerator", "mel"), ("MelGANGenerator", "mel"), ("HiFiGANDiscriminator", "audio"),
])
def test_old_keras_file_loads_with_the_same_outputs(name, input_key):
    arrays = np.load(os.path.join(FIXTURES, "gan_vocoders_v0.npz"))
    model = keras.saving.load_model(os.path.join(FIXTURES, f"{name}_v0.keras"), safe_mode=True)
    assert type(model).__name__ == name
    outputs = keras.tree.flatten(model(arrays[input_key]))
    expected = sorted((k for k in arrays.files if k.startswith(f"{name}_out")), key=lambda k: int(k.rsplit("out", 1)[1]))
    assert len(outputs) == len(expected)
    for key, got in zip(expected, outputs):
        np.testing.assert_allclose(np.asarray(got), arrays[key], atol=1e-5, err_msg=f"{name}: {key}")
