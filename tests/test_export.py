"""Export core: SavedModel with several signatures, builtin-ops TFLite in four quantization modes,
the TensorFlow-free runtime, parity checks, error cases, and the shared model harness itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from audiogen_tf.serialization import register
from model_harness import (
    check_build_and_shapes,
    check_config_round_trip,
    check_export_parity,
    check_fit_lowers_loss,
    check_keras_save_load,
)
from tflite_export.endpoints import Endpoint, default_endpoints, get_endpoints
from tflite_export.export import (
    DEFAULT_ATOL,
    ExportError,
    ParityError,
    check_parity,
    contains_flex_ops,
    export_saved_model,
    export_tflite,
    list_tflite_ops,
    saved_model_signatures,
)
from tflite_export.runtime import ModelFileError, TFLiteRunner

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@register
class TinyExportNet(keras.Model):
    """Conv1D + Dense over a waveform of any length; a streaming ``step`` endpoint with fixed shapes.

    Args:
        channels: Conv1D filters.
        hidden: Dense width (large enough that weight quantization shows in the file size).
        chunk: samples per call of the fixed-shape ``step`` endpoint.
    """

    def __init__(self, channels=16, hidden=96, chunk=32, **kwargs):
        audio = keras.Input((None, 1), name="audio")
        state = keras.Input((hidden,), name="state")
        h = keras.layers.Conv1D(channels, 5, padding="same", activation="tanh", name="conv")(audio)
        h = keras.layers.Dense(hidden, activation="tanh", name="hidden")(h)
        frames = keras.layers.Dense(1, name="head")(h)
        pooled = keras.layers.Add(name="mix")([keras.layers.GlobalAveragePooling1D()(h), state])
        super().__init__(inputs=[audio, state], outputs={"frames": frames, "state_out": pooled}, **kwargs)
        self.channels, self.hidden, self.chunk = channels, hidden, chunk

    def get_config(self):
        return {"channels": self.channels, "hidden": self.hidden, "chunk": self.chunk, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def export_endpoints(self):
        serve = default_endpoints(self)[0]

        def step(state, chunk):  # argument order differs from the model's inputs on purpose
            out = self([chunk, state], training=False)
            return {"frames": out["frames"], "state_out": out["state_out"]}

        specs = [
            keras.InputSpec(shape=(1, self.hidden), dtype="float32", name="state"),
            keras.InputSpec(shape=(1, self.chunk, 1), dtype="float32", name="chunk"),
        ]
        return [serve, Endpoint("step", step, specs, description="one fixed-size chunk with state")]


def conv_dense(width=128, channels=32):
    """A plain functional Conv1D + Dense model (default endpoint only); 4k-weight Dense so quantization shows."""
    x = keras.Input((None, 1), name="audio")
    h = keras.layers.Conv1D(channels, 5, padding="same", activation="relu")(x)
    h = keras.layers.Dense(width, activation="relu")(h)
    return keras.Model(x, keras.layers.Dense(2)(h), name="conv_dense")


def audio_batch(batch=2, length=200, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (batch, length, 1)).astype("float32")


@pytest.fixture(scope="module")
def plain():
    keras.utils.set_random_seed(1)
    return conv_dense()


@pytest.fixture(scope="module")
def plain_tflite(plain, tmp_path_factory):
    return export_tflite(plain, tmp_path_factory.mktemp("plain") / "plain.tflite")


@pytest.fixture(scope="module")
def two():
    keras.utils.set_random_seed(2)
    return TinyExportNet()


@pytest.fixture(scope="module")
def two_tflite(two, tmp_path_factory):
    return export_tflite(two, tmp_path_factory.mktemp("two") / "two.tflite")


# ---------------------------------------------------------------------------------------- endpoints
def test_default_endpoint_is_serve_over_model_inputs(plain, two):
    (ep,) = get_endpoints(plain)
    assert ep.name == "serve" and ep.input_names() == ["audio"]
    assert tuple(ep.input_signature[0].shape) == (None, None, 1)
    assert [e.name for e in get_endpoints(two)] == ["serve", "step"]
    assert get_endpoints(two)[0].input_names() == ["audio", "state"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"name": "bad name", "function": abs, "input_signature": [tf.TensorSpec((1,))]}, "identifier"),
        ({"name": "ok", "function": 3, "input_signature": [tf.TensorSpec((1,))]}, "not callable"),
        ({"name": "ok", "function": abs, "input_signature": []}, "non-empty"),
    ],
)
def test_endpoint_rejects_bad_declarations(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Endpoint(**kwargs)


def test_dict_input_model_exports_through_the_default_endpoint(tmp_path):
    a, b = keras.Input((None, 1), name="wave"), keras.Input((3,), name="cond")
    h = keras.layers.Conv1D(3, 3, padding="same")(a)
    y = keras.layers.Add()([h, keras.layers.Reshape((1, 3))(keras.layers.Dense(3)(b))])
    model = keras.Model({"wave": a, "cond": b}, y)
    inputs = {"wave": audio_batch(2, 40), "cond": np.ones((2, 3), "float32")}
    result = check_export_parity(model, inputs, tmp_path, atol=1e-5)
    assert result["errors"]["serve"] <= 1e-5


# ---------------------------------------------------------------------------------------- SavedModel
def test_saved_model_has_one_signature_per_endpoint_and_replaces_atomically(two, tmp_path):
    target = tmp_path / "sm"
    export_saved_model(two, target)
    assert saved_model_signatures(target) == ["serve", "step"]
    loaded = tf.saved_model.load(str(target))
    assert {"serve", "step"} <= set(loaded.signatures)
    state = np.zeros((1, two.hidden), "float32")
    chunk = audio_batch(1, two.chunk)
    out = loaded.signatures["step"](state=tf.constant(state), chunk=tf.constant(chunk))
    want = two([chunk, state])
    np.testing.assert_allclose(out["frames"].numpy(), want["frames"].numpy(), atol=1e-6)
    # re-export over the old folder: replaced, and no temp folders left beside it
    export_saved_model(two, target, endpoints=["step"])
    assert saved_model_signatures(target) == ["step"]
    assert sorted(os.listdir(tmp_path)) == ["sm"]
    with pytest.raises(ExportError, match="Unknown endpoint 'nope'"):
        export_saved_model(two, tmp_path / "sm2", endpoints=["nope"])


def test_keras_model_export_dir_converts_too(plain, tmp_path):
    """A folder written by ``model.export()`` (serve + serving_default) converts to one 'serve' signature."""
    plain.export(str(tmp_path / "keras_export"), format="tf_saved_model", verbose=False)
    path = export_tflite(tmp_path / "keras_export", tmp_path / "k.tflite")
    assert TFLiteRunner(path).signature_keys() == ["serve"]
    assert check_parity(plain, path, audio_batch(), atol=1e-5) <= 1e-5


# ---------------------------------------------------------------------------------------- TFLite float
def test_float_export_is_builtin_only_and_matches_keras_at_any_length(plain, plain_tflite):
    ops = list_tflite_ops(plain_tflite)
    assert {"CONV_2D", "FULLY_CONNECTED"} <= ops
    assert not contains_flex_ops(plain_tflite)
    errors = [check_parity(plain, plain_tflite, audio_batch(b, n, seed=n), atol=1e-5) for b, n in [(1, 50), (3, 333)]]
    print(f"\nfloat32 parity errors at lengths 50 / 333: {errors}, ops: {sorted(ops)}")
    runner = TFLiteRunner(plain_tflite)
    assert runner.run(audio_batch(3, 333))["output_0"].shape == (3, 333, 2)


def test_parity_detects_a_different_model(plain_tflite):
    other = conv_dense()
    err = check_parity(other, plain_tflite, audio_batch())
    assert err > 1e-2
    with pytest.raises(ParityError, match="exceeds atol"):
        check_parity(other, plain_tflite, audio_batch(), atol=1e-4)


def test_two_endpoints_in_one_tflite(two, two_tflite):
    runner = TFLiteRunner(two_tflite)
    sigs = runner.signatures()
    assert set(sigs) == {"serve", "step"}
    assert set(sigs["step"]["inputs"]) == {"state", "chunk"}
    assert set(sigs["step"]["outputs"]) == {"frames", "state_out"}
    state = np.random.default_rng(0).normal(size=(1, two.hidden)).astype("float32")
    chunk = audio_batch(1, two.chunk)
    # a positional list follows the endpoint's argument order (state, chunk); a dict goes by name
    err_step = check_parity(two, two_tflite, [state, chunk], signature="step", atol=1e-5)
    err_serve = check_parity(
        two, two_tflite, {"audio": audio_batch(2, 77), "state": np.zeros((2, two.hidden), "float32")},
        signature="serve", atol=1e-5,
    )
    print(f"\ntwo endpoints parity: step {err_step:.2e}, serve {err_serve:.2e}")
    # the step endpoint has fixed shapes: a wrong chunk length is refused with the input named
    with pytest.raises(ValueError, match=r"'chunk' expects shape \(1, 32, 1\), got \(1, 33, 1\)"):
        runner.run(signature="step", state=state, chunk=audio_batch(1, 33))
    with pytest.raises(ValueError, match="pass them by name"):
        runner.run(state, chunk, signature="step")
    with pytest.raises(ValueError, match="several signatures"):
        runner.run({"state": state, "chunk": chunk})
    with pytest.raises(ValueError, match=r"missing \['chunk'\]"):
        runner.run(signature="step", state=state)


def test_single_endpoint_export(two, tmp_path):
    path = export_tflite(two, tmp_path / "step.tflite", endpoint="step")
    assert TFLiteRunner(path).signature_keys() == ["step"]
    assert not contains_flex_ops(path)


# ---------------------------------------------------------------------------------------- quantization
@pytest.fixture(scope="module")
def float_size(plain_tflite):
    return os.path.getsize(plain_tflite)


@pytest.mark.parametrize("mode", ["float16", "dynamic", "int8"])
def test_quantization_modes_convert_shrink_and_stay_close(plain, plain_tflite, float_size, mode, tmp_path):
    calib = [audio_batch(1, 100, seed=s) for s in range(8)]
    path = export_tflite(plain, tmp_path / f"{mode}.tflite", quantization=mode, representative_dataset=calib)
    size = os.path.getsize(path)
    x = audio_batch(2, 120, seed=99)
    err = check_parity(plain, path, x)
    scale = float(np.max(np.abs(plain(x).numpy())))
    print(f"\n{mode}: {size} bytes (float32 {float_size}), max abs error {err:.2e} (output scale {scale:.2f})")
    assert not contains_flex_ops(path)
    assert err <= DEFAULT_ATOL[mode]
    assert err > 0  # it did quantize something
    assert size < 0.75 * float_size
    ops = list_tflite_ops(path)
    if mode == "int8":
        assert "QUANTIZE" in ops and "DEQUANTIZE" in ops
    if mode == "float16":
        assert "DEQUANTIZE" in ops


def test_int8_with_several_endpoints_calibrates_by_endpoint(two, tmp_path):
    result = check_export_parity(two, None, tmp_path, quantization="int8", atol=None)
    print(f"\nint8 two endpoints: {result['file_bytes']} bytes, errors {result['errors']}")
    assert set(result["errors"]) == {"serve", "step"}


# ---------------------------------------------------------------------------------------- errors
def test_unknown_mode_and_int8_without_data_raise_clear_errors(plain, tmp_path):
    with pytest.raises(ExportError, match="Unknown quantization 'int4'"):
        export_tflite(plain, tmp_path / "x.tflite", quantization="int4")
    with pytest.raises(ExportError, match="int8.*representative_dataset"):
        export_tflite(plain, tmp_path / "x.tflite", quantization="int8")
    assert not (tmp_path / "x.tflite").exists()


class _CumprodModel:
    """Not a Keras model: anything with export_endpoints() exports. cumprod has no TFLite builtin kernel."""

    name = "cumprod"

    def export_endpoints(self):
        return [Endpoint("serve", lambda x: tf.math.cumprod(x, axis=-1), [tf.TensorSpec((1, 8), tf.float32, name="x")])]


def test_non_builtin_op_fails_without_flex_and_converts_with_it(tmp_path):
    model = _CumprodModel()
    with pytest.raises(ExportError, match=r"quantization='none'.*allow_flex=True") as info:
        export_tflite(model, tmp_path / "c.tflite")
    print("\nExportError:", str(info.value)[:300])
    assert not (tmp_path / "c.tflite").exists()
    path = export_tflite(model, tmp_path / "c.tflite", allow_flex=True)
    assert contains_flex_ops(path)
    assert any(op.startswith("Flex") for op in list_tflite_ops(path))


def test_int8_that_quantizes_nothing_is_an_error(tmp_path):
    class SinModel:  # zoo-style: plain (name, function, specs) tuples, since zoo cannot import Endpoint
        name = "sin"

        def export_endpoints(self):
            return [("serve", tf.math.sin, [tf.TensorSpec((1, 8), tf.float32, name="x")])]

    calib = [np.random.default_rng(s).uniform(size=(1, 8)).astype("float32") for s in range(4)]
    with pytest.raises(ExportError, match=r"quantization='int8' left the model in float.*SIN"):
        export_tflite(SinModel(), tmp_path / "sin.tflite", quantization="int8", representative_dataset=calib)
    assert not (tmp_path / "sin.tflite").exists()


def test_runner_rejects_bad_files(plain_tflite, tmp_path):
    with pytest.raises(ModelFileError, match="missing"):
        TFLiteRunner(tmp_path / "none.tflite")
    text = tmp_path / "notes.tflite"
    text.write_text("this is not a model at all")
    with pytest.raises(ModelFileError, match=r"notes.tflite: not tflite"):
        TFLiteRunner(text)
    empty = tmp_path / "empty.tflite"
    empty.write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty"):
        TFLiteRunner(empty)
    data = open(plain_tflite, "rb").read()
    for n in (64, len(data) // 2, len(data) - 8):
        cut = tmp_path / f"cut{n}.tflite"
        cut.write_bytes(data[:n])
        with pytest.raises(ModelFileError, match=rf"cut{n}.tflite: (truncated|corrupt)"):
            TFLiteRunner(cut)


def test_runner_rejects_bad_inputs(plain_tflite):
    runner = TFLiteRunner(plain_tflite)
    with pytest.raises(ValueError, match=r"'audio' expects rank 3 shape \(None, None, 1\), got shape \(2, 100\)"):
        runner.run(np.zeros((2, 100), "float32"))
    with pytest.raises(ValueError, match=r"axis 2 must be 1"):
        runner.run(np.zeros((2, 100, 2), "float32"))
    with pytest.raises(ValueError, match="expects dtype float32, got int32"):
        runner.run(np.zeros((2, 100, 1), "int32"))
    with pytest.raises(ValueError, match="no signature 'step'"):
        runner.run(np.zeros((2, 100, 1), "float32"), signature="step")
    # float64 is the NumPy default: accepted and cast
    assert runner.run(np.zeros((1, 10, 1)))["output_0"].dtype == np.float32


def test_runtime_does_not_import_tensorflow(plain_tflite):
    code = (
        "import sys, numpy as np\n"
        "from tflite_export.runtime import TFLiteRunner, list_ops\n"
        f"r = TFLiteRunner({str(plain_tflite)!r})\n"
        "out = r.run(np.zeros((1, 20, 1), 'float32'))\n"
        "assert 'CONV_2D' in list_ops(r.path)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print('TF_MODULES', bad)\n"
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "TF_MODULES []" in proc.stdout, proc.stdout


# ---------------------------------------------------------------------------------------- harness
def test_harness_on_a_registered_functional_model(two, tmp_path):
    x = [audio_batch(2, 64), np.zeros((2, two.hidden), "float32")]
    shapes = check_build_and_shapes(two, x, {"frames": (2, 64, 1), "state_out": (2, two.hidden)})
    cfg = check_config_round_trip(two, x)
    saved = check_keras_save_load(two, x, tmp_path)
    export = check_export_parity(
        two, {"serve": {"audio": audio_batch(1, 50), "state": x[1][:1]}}, tmp_path, quantization="none", atol=1e-5
    )
    print(f"\nharness: {shapes}, config {cfg}, .keras {saved}, export {export['errors']} {export['file_bytes']} B")
    assert cfg["max_abs_diff"] == 0.0 and saved["max_abs_diff"] == 0.0
    assert set(export["errors"]) == {"serve", "step"}  # 'step' got fresh random inputs from its specs
    with pytest.raises(AssertionError, match="frames"):
        check_build_and_shapes(two, x, {"frames": (2, 65, 1), "state_out": (2, None)})


def test_harness_fit_lowers_loss_and_float16_parity(tmp_path):
    keras.utils.set_random_seed(3)
    model = conv_dense(width=16, channels=8)
    x = audio_batch(4, 64)
    y = np.concatenate([np.sin(3 * x), x**2], axis=-1).astype("float32")
    fit = check_fit_lowers_loss(model, (x, y), steps=5, compile_kwargs={"optimizer": keras.optimizers.Adam(1e-2), "loss": "mse"})
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    fit_ds = check_fit_lowers_loss(model, ds, steps=3)
    export = check_export_parity(model, x, tmp_path, quantization="float16", atol=DEFAULT_ATOL["float16"])
    print(f"\nfit: {fit['history']}, dataset fit {fit_ds['history']}, float16 export {export['max_abs_error']:.2e}")
    assert fit["loss_after"] < fit["loss_before"]
    assert json.dumps(export["ops"])
    untrained = conv_dense(width=16, channels=8)
    with pytest.raises(AssertionError, match="compile"):
        check_fit_lowers_loss(untrained, (x, y), steps=3)


def test_scalar_input_runs_twice(tmp_path):
    """LiteRT reshapes a fed scalar to (1,); the runner keeps checking against the file's own signature."""
    import tensorflow as tf

    from tflite_export.runtime import TFLiteRunner

    class Offset(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([3], tf.float32, name="x"), tf.TensorSpec([], tf.int32, name="i")])
        def shift(self, x, i):
            return {"y": x + tf.cast(i, tf.float32)}

    module = Offset()
    path = tmp_path / "scalar.tflite"
    converter = tf.lite.TFLiteConverter.from_concrete_functions([module.shift.get_concrete_function()], module)
    path.write_bytes(converter.convert())
    runner = TFLiteRunner(str(path))
    for i in (1, 2):
        out = runner.run({"x": np.zeros(3, np.float32), "i": np.array(i, np.int32)})
        np.testing.assert_allclose(out["y"], [i, i, i])
