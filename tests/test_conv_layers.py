"""Export-friendly conv layers: reflection padding as concatenated slices, the transposed conv as a phase
(sub-pixel) conv, the dilated conv as the native op; each against its Keras / NumPy reference, through
weight-norm folding of the vocoders, ``.keras`` round trips (old configs included) and the TFLite op list."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf

from audiogen_tf.layers.conv import (
    DilatedConv1D,
    GroupedConv1D,
    PhaseConv1DTranspose,
    ReflectionPad1D,
    WeightNormConv1D,
    WeightNormConv1DTranspose,
    conv1d,
    phase_kernel,
    transpose_kernel,
)
from zoo.hifigan import HiFiGANGenerator
from zoo.melgan import MelGANGenerator, MultiBandMelGANGenerator

ATOL = 1e-5


def _rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("padding", [3, (2, 0), (0, 4), (1, 5), 0])
def test_reflection_pad_is_bit_identical_to_numpy_reflect(padding):
    x = _rand((2, 7, 3))
    pad = (padding, padding) if isinstance(padding, int) else padding
    expected = np.pad(x, [(0, 0), pad, (0, 0)], mode="reflect")
    layer = ReflectionPad1D(padding)
    np.testing.assert_array_equal(np.asarray(layer(x)), expected)
    # dynamic length (the exported "synthesize" signature) gives the same
    fn = tf.function(layer, input_signature=[tf.TensorSpec((None, None, 3), tf.float32)])
    np.testing.assert_array_equal(fn(x).numpy(), expected)
    assert ReflectionPad1D.from_config(layer.get_config()).padding == layer.padding


def test_reflection_pad_rejects_too_short_input():
    with pytest.raises(ValueError, match="time steps"):
        ReflectionPad1D(4)(_rand((1, 4, 2)))


@pytest.mark.parametrize("kernel,stride", [(16, 8), (4, 2), (10, 5), (5, 2), (7, 3), (3, 4), (1, 1)])
@pytest.mark.parametrize("length", [1, 9])
def test_phase_conv_transpose_matches_keras(kernel, stride, length):
    x = _rand((2, length, 3), seed=length)
    ref = keras.layers.Conv1DTranspose(5, kernel, strides=stride, padding="same", activation="tanh")
    ref(x)
    ref.bias.assign(_rand((5,), seed=1))
    layer = PhaseConv1DTranspose.from_transpose(ref)
    assert layer.kernel.shape == (-(-kernel // stride), 3, stride * 5)
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(ref(x)), atol=ATOL)
    # kernel layouts convert both ways exactly
    w = ref.get_weights()[0]
    np.testing.assert_array_equal(transpose_kernel(phase_kernel(w, stride), kernel, stride), w)
    np.testing.assert_array_equal(layer.transpose_weights()[0], w)
    # a config round trip plus set_transpose_weights gives the same layer
    twin = PhaseConv1DTranspose.from_config(layer.get_config())
    twin(x)
    twin.set_transpose_weights(*ref.get_weights())
    np.testing.assert_array_equal(np.asarray(twin(x)), np.asarray(layer(x)))


def test_phase_conv_transpose_dynamic_batch_and_length():
    ref = keras.layers.Conv1DTranspose(4, 16, strides=8, padding="same")
    x = _rand((3, 11, 6))
    ref(x)
    layer = PhaseConv1DTranspose.from_transpose(ref)
    fn = tf.function(layer, input_signature=[tf.TensorSpec((None, None, 6), tf.float32)])
    np.testing.assert_allclose(fn(x).numpy(), np.asarray(ref(x)), atol=ATOL)
    assert layer.compute_output_shape((None, 11, 6)) == (None, 88, 4)


@pytest.mark.parametrize("padding", ["same", "valid", "causal"])
@pytest.mark.parametrize("dilation", [1, 3])
def test_dilated_conv_matches_keras_conv1d(padding, dilation):
    x = _rand((2, 25, 4))
    ref = keras.layers.Conv1D(6, 5, dilation_rate=dilation, padding=padding, activation="relu")
    ref(x)
    ref.bias.assign(_rand((6,), seed=2))
    layer = DilatedConv1D.from_config(ref.get_config())
    layer(x)
    layer.set_weights(ref.get_weights())
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(ref(x)), atol=ATOL)
    fn = tf.function(layer, input_signature=[tf.TensorSpec((None, None, 4), tf.float32)])
    np.testing.assert_allclose(fn(x).numpy(), np.asarray(ref(x)), atol=ATOL)


def _perturbed(model, seed=0):
    """Move g away from ||v|| and give every bias a value, so folding is not trivially the identity."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if hasattr(layer, "g"):
            layer.g.assign(layer.g.numpy() * rng.uniform(0.5, 1.5, layer.g.shape).astype(np.float32))
        if getattr(layer, "bias", None) is not None:
            layer.bias.assign(0.1 * rng.standard_normal(layer.bias.shape).astype(np.float32))
    return model


CASES = [(HiFiGANGenerator, "hifigan_tiny"), (MelGANGenerator, "melgan_tiny"),
         (MultiBandMelGANGenerator, "multiband_melgan_tiny")]


@pytest.mark.parametrize("cls,preset", CASES)
def test_export_layers_fold_round_trips(cls, preset, tmp_path):
    model = _perturbed(cls.from_preset(preset))
    mel = _rand((2, 17, 80)) - 4.0
    ref = np.asarray(model(mel))
    export = model.remove_weight_norm(export_layers=True)
    kinds = {type(layer) for layer in export.layers}
    assert PhaseConv1DTranspose in kinds and DilatedConv1D in kinds
    assert keras.layers.Conv1DTranspose not in kinds and not kinds & {WeightNormConv1D, WeightNormConv1DTranspose}
    assert export.get_config()["export_layers"] is True and export.get_config()["weight_norm"] is False
    np.testing.assert_allclose(np.asarray(export(mel)), ref, atol=ATOL)
    assert export.count_params() == model.count_params_folded()
    # back to Keras layers (exact kernel conversion), and idempotent calls
    plain = export.remove_weight_norm()
    assert any(type(layer) is keras.layers.Conv1DTranspose for layer in plain.layers)
    np.testing.assert_allclose(np.asarray(plain(mel)), ref, atol=ATOL)
    assert export.remove_weight_norm(export_layers=True) is export
    np.testing.assert_allclose(np.asarray(plain.remove_weight_norm(export_layers=True)(mel)), ref, atol=ATOL)
    # .keras round trip of the export model
    path = os.path.join(os.fspath(tmp_path), "export.keras")
    export.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is cls and loaded.export_layers
    np.testing.assert_allclose(np.asarray(loaded(mel)), np.asarray(export(mel)), atol=1e-6)


def test_old_configs_and_default_layers_unchanged(tmp_path):
    model = _perturbed(HiFiGANGenerator.from_preset("hifigan_tiny"))
    config = model.get_config()
    assert config["export_layers"] is False
    # default models keep the Keras / weight-norm classes, so the weight paths of saved files are unchanged
    assert not {type(layer) for layer in model.layers} & {PhaseConv1DTranspose, DilatedConv1D}
    old = {k: v for k, v in config.items() if k != "export_layers"}  # a config saved before the argument existed
    rebuilt = HiFiGANGenerator.from_config(old)
    rebuilt.set_weights(model.get_weights())
    mel = _rand((1, 9, 80)) - 4.0
    np.testing.assert_array_equal(np.asarray(rebuilt(mel)), np.asarray(model(mel)))
    with pytest.raises(ValueError, match="weight_norm=False"):
        HiFiGANGenerator.from_config({**old, "export_layers": True})


def test_exported_graph_has_no_slow_ops(tmp_path):
    """The dynamic-length "synthesize" .tflite: no MIRROR_PAD / TRANSPOSE_CONV / SPACE_TO_BATCH_ND, parity."""
    from ai_edge_litert.interpreter import Interpreter
    from tflite_export.export import export_tflite

    for cls, preset in CASES[:2]:
        model = _perturbed(cls.from_preset(preset))
        path = os.path.join(os.fspath(tmp_path), f"{preset}.tflite")
        export_tflite(model, path, endpoint="synthesize")
        interp = Interpreter(model_path=path, num_threads=2)
        ops = {o["op_name"] for o in interp._get_ops_details()}
        assert not ops & {"MIRROR_PAD", "TRANSPOSE_CONV", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"}, ops
        mel = _rand((1, 13, 80)) - 4.0
        out = next(iter(interp.get_signature_runner("synthesize")(mel=mel).values()))
        np.testing.assert_allclose(out, np.asarray(model(mel)), atol=ATOL)


@pytest.mark.parametrize("groups,padding", [(4, "same"), (16, "valid")])
def test_grouped_convs_run_group_by_group_with_keras_results(groups, padding):
    """GroupedConv1D and a grouped WeightNormConv1D equal keras.layers.Conv1D(groups=...) with the same
    kernel, and their gradients agree (the split path replaces Keras' slow XLA grouped convolution)."""
    x = tf.random.stateless_normal((2, 64, 32), seed=(1, 2))
    ref = keras.layers.Conv1D(32, 9, strides=2, groups=groups, padding=padding)
    ours = GroupedConv1D(32, 9, strides=2, groups=groups, padding=padding)
    wn = WeightNormConv1D(32, 9, strides=2, groups=groups, padding=padding)
    for layer in (ref, ours, wn):
        layer(x)
    ours.set_weights(ref.get_weights())
    wn.bias.assign(ref.bias)
    wn.v.assign(ref.kernel)
    wn.g.assign(tf.norm(tf.reshape(ref.kernel, (-1, 32)), axis=0))

    def grads(layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(layer(x) ** 2)
        return y, tape.gradient(y, x)

    y_ref, g_ref = grads(ref)
    for layer in (ours, wn):
        np.testing.assert_allclose(layer(x), ref(x), rtol=1e-5, atol=1e-5)
        y, g = grads(layer)
        np.testing.assert_allclose(g, g_ref, rtol=1e-4, atol=1e-4)
    assert conv1d(32, 9, groups=4, weight_norm=False).__class__ is GroupedConv1D
    assert conv1d(32, 9, weight_norm=False).__class__ is keras.layers.Conv1D
