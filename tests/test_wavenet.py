"""WaveNet (van den Oord et al. 2016): shapes, receptive field and causality, round trips, a few fit steps on real
audio, fast (queue) generation identical to naive generation, conditioning, the MoL head and the export step."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf

from audiogen_tf import audio as audio_io
from audiogen_tf.layers.causal import CausalConv1D, mu_law_decode_ops, mu_law_encode_ops, receptive_field
from model_harness import check_build_and_shapes, check_config_round_trip, check_fit_lowers_loss, check_keras_save_load
from zoo.wavenet import WaveNet, teacher_forcing_pair, wavenet_generation
from zoo.wavenet.wavenet_model import mol_log_prob



@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    return WaveNet.from_preset("wavenet_tiny")


@pytest.fixture(scope="module")
def conditional():
    keras.utils.set_random_seed(1)
    return WaveNet.from_preset("wavenet_tiny_conditional")


def _ids(batch, time, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (batch, time)).astype("int32")


def _cond_inputs(model, batch=2, frames=5, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "audio_ids": _ids(batch, frames * model.hop_length, seed),
        "mel": rng.normal(size=(batch, frames, model.local_channels)).astype("float32"),
        "global_id": np.arange(batch, dtype="int32") % model.global_classes,
    }


def test_mu_law_ops_match_numpy():
    x = np.linspace(-1.0, 1.0, 4001).astype("float32")
    ref = audio_io.mu_law_encode(x, 8)
    got = np.asarray(mu_law_encode_ops(x, 256))
    assert np.max(np.abs(got - ref)) <= 1 and np.mean(got != ref) < 1e-3
    codes = np.arange(256)
    np.testing.assert_allclose(np.asarray(mu_law_decode_ops(codes, 256)), audio_io.mu_law_decode(codes, 8), atol=1e-6)


def test_build_shapes_and_receptive_field(tiny):
    out = check_build_and_shapes(tiny, _ids(2, 100), (2, 100, 256))
    assert out["params"] > 0
    assert tiny.receptive_field == receptive_field([1, 2, 4, 8] * 2) == (2 - 1) + 15 * 2 * (2 - 1) + 1 == 32
    big = WaveNet(layers_per_cycle=10, num_cycles=3, kernel_size=3, initial_kernel_size=4, residual_channels=4,
                  dilation_channels=4, skip_channels=4)
    assert big.receptive_field == 3 + 3 * 1023 * 2 + 1


def test_causality_and_receptive_field_empirically(tiny):
    """Changing input t0 changes exactly outputs t0 .. t0 + receptive_field - 1."""
    x = _ids(1, 120, seed=3)
    y = x.copy()
    t0 = 40
    y[0, t0] = (y[0, t0] + 77) % 256
    a, b = tiny(x).numpy(), tiny(y).numpy()
    changed = np.where(np.max(np.abs(a - b), axis=-1)[0] > 1e-6)[0]
    assert changed.min() == t0
    assert changed.max() == t0 + tiny.receptive_field - 1
    np.testing.assert_array_equal(a[:, :t0], b[:, :t0])


def test_causal_conv_step_matches_full_conv():
    conv = CausalConv1D(5, 3, dilation_rate=4)
    x = np.random.default_rng(0).normal(size=(2, 30, 3)).astype("float32")
    full = conv(x).numpy()
    q = conv.initial_queue(2, 3)
    steps = []
    for t in range(30):
        y, q = conv.step(x[:, t], q)
        steps.append(y.numpy())
    np.testing.assert_allclose(np.stack(steps, 1), full, atol=1e-5)


def test_config_and_keras_round_trip(tiny, conditional, tmp_path):
    ids = _ids(2, 64)
    assert check_config_round_trip(tiny, ids)["max_abs_diff"] == 0.0
    check_keras_save_load(tiny, ids, tmp_path)
    inputs = _cond_inputs(conditional)
    check_config_round_trip(conditional, inputs)
    check_keras_save_load(conditional, inputs, tmp_path)
    mol = WaveNet.from_preset("wavenet_tiny", output="mol", num_mixtures=3, input_type="embedding", embedding_dim=8)
    check_keras_save_load(mol, ids, tmp_path)


def test_fit_lowers_loss_on_speech_like_audio():
    from speech_fixture import speech_like

    keras.utils.set_random_seed(0)
    audio = speech_like(8000, seconds=1.0)
    seg = np.stack([audio[4000:5024], audio[6000:7024]]).astype("float32")
    x, y = teacher_forcing_pair(seg)
    model = WaveNet.from_preset("wavenet_tiny")
    res = check_fit_lowers_loss(model, (np.asarray(x), np.asarray(y)), steps=8,
                                compile_kwargs={"optimizer": keras.optimizers.Adam(3e-3), "loss": model.default_loss()})
    assert res["loss_after"] < 0.9 * res["loss_before"], res


def test_teacher_forcing_pair_shift():
    audio = np.array([[0.0, 0.5, -0.5, 1.0]], "float32")
    x, y = teacher_forcing_pair(audio)
    y_ref = audio_io.mu_law_encode(audio, 8)
    np.testing.assert_array_equal(np.asarray(y), y_ref)
    np.testing.assert_array_equal(np.asarray(x), np.concatenate([[[128]], y_ref[:, :-1]], 1))


def test_cached_generation_equals_naive(tiny):
    """Same noise -> identical ids for the queue generator and the naive one, past the receptive field."""
    n = 3 * tiny.receptive_field
    noise = wavenet_generation.draw_noise(tiny, n, batch_size=2, seed=7)
    fast, fast_out = tiny.generate(noise=noise, return_outputs=True)
    slow, slow_out = tiny.generate(noise=noise, method="naive", return_outputs=True)
    np.testing.assert_array_equal(fast.numpy(), slow.numpy())
    np.testing.assert_allclose(fast_out.numpy(), slow_out.numpy(), atol=1e-4)
    # and equal to the teacher-forced forward pass over the generated sequence
    inputs = np.concatenate([np.full((2, 1), 128), fast.numpy()[:, :-1]], 1).astype("int32")
    np.testing.assert_allclose(tiny(inputs).numpy(), fast_out.numpy(), atol=1e-4)
    assert len(np.unique(fast.numpy())) > 10  # really sampled, not a constant
    # the seed path is deterministic
    np.testing.assert_array_equal(tiny.generate(40, seed=3).numpy(), tiny.generate(40, seed=3).numpy())


def test_conditioning_shapes_effect_and_generation(conditional):
    inputs = _cond_inputs(conditional, batch=2, frames=5)
    out = check_build_and_shapes(conditional, inputs, (2, 5 * conditional.hop_length, 256))
    assert out["params"] > 0
    up = conditional.upsample(inputs["mel"])
    assert tuple(up.shape) == (2, 5 * conditional.hop_length, conditional.local_channels)
    base = conditional(inputs).numpy()
    other_speaker = dict(inputs, global_id=(inputs["global_id"] + 1) % conditional.global_classes)
    assert np.max(np.abs(conditional(other_speaker).numpy() - base)) > 1e-4
    other_mel = dict(inputs, mel=inputs["mel"] * 0.0)
    assert np.max(np.abs(conditional(other_mel).numpy() - base)) > 1e-4
    # fast == naive with both kinds of conditioning
    noise = wavenet_generation.draw_noise(conditional, 5 * conditional.hop_length, batch_size=2, seed=1)
    kw = dict(mel=inputs["mel"], global_id=inputs["global_id"], noise=noise, return_outputs=True)
    fast, fast_out = conditional.generate(**kw)
    slow, _ = conditional.generate(method="naive", **kw)
    assert fast.shape == (2, 5 * conditional.hop_length)
    np.testing.assert_array_equal(fast.numpy(), slow.numpy())
    tf_inputs = dict(inputs, audio_ids=np.concatenate([np.full((2, 1), 128), fast.numpy()[:, :-1]], 1).astype("int32"))
    np.testing.assert_allclose(conditional(tf_inputs).numpy(), fast_out.numpy(), atol=1e-4)


def test_mixture_of_logistics_head():
    keras.utils.set_random_seed(0)
    model = WaveNet.from_preset("wavenet_tiny", output="mol", num_mixtures=3, input_type="scalar")
    out = model(_ids(1, 16)).numpy()
    assert out.shape == (1, 16, 9)
    # the discretized mixture is a distribution over the 256 bins: probabilities sum to 1
    params = np.repeat(out[:, :4], 256, axis=0).reshape(256, 4, 9)
    ids = np.repeat(np.arange(256)[:, None], 4, axis=1)
    total = np.exp(np.asarray(mol_log_prob(ids, params, 256, 3))).sum(axis=0)
    np.testing.assert_allclose(total, 1.0, atol=1e-3)
    noise = wavenet_generation.draw_noise(model, 80, batch_size=1, seed=2)
    fast = model.generate(noise=noise).numpy()
    slow = model.generate(noise=noise, method="naive").numpy()
    np.testing.assert_array_equal(fast, slow)
    assert fast.min() >= 0 and fast.max() <= 255
    # a few fit steps with the MoL loss lower it
    x, y = teacher_forcing_pair(np.sin(np.arange(2 * 512) * 0.05).reshape(2, 512).astype("float32") * 0.5)
    check_fit_lowers_loss(model, (np.asarray(x), np.asarray(y)), steps=5,
                          compile_kwargs={"optimizer": keras.optimizers.Adam(3e-3), "loss": model.default_loss()})


def test_step_endpoint_is_export_ready(conditional):
    endpoints = {name: (fn, specs) for name, fn, specs in conditional.export_endpoints(batch_size=1, mel_frames=4)}
    assert set(endpoints) == {"step", "upsample"}
    fn, specs = endpoints["step"]
    assert all(s.shape.is_fully_defined() for s in specs)
    shapes = wavenet_generation.queue_shapes(conditional, 1)
    assert [tuple(s.shape) for s in specs[1 : 1 + len(shapes)]] == shapes
    concrete = tf.function(fn, input_signature=specs, autograph=False).get_concrete_function()
    out_shapes = [tuple(o.shape) for o in concrete.structured_outputs]
    assert out_shapes == [(1, 256)] + shapes  # the state keeps its fixed shapes
    ops = {op.type for op in concrete.graph.get_operations()}
    assert not ops & {"While", "StatelessWhile", "TensorListReserve"}, "step must be loop-free"
    # stepping the exported function reproduces the model's teacher-forced outputs
    inputs = _cond_inputs(conditional, batch=1, frames=2)
    local = conditional.upsample(inputs["mel"]).numpy()
    full = conditional(inputs).numpy()
    queues = [np.zeros(s, "float32") for s in shapes]
    for t in range(local.shape[1]):  # the model's input at t is audio_ids[t] (already shifted)
        res = concrete(inputs["audio_ids"][:, t], *queues, inputs["global_id"], local[:, t])
        np.testing.assert_allclose(res[0].numpy(), full[:, t], atol=1e-4)
        queues = [q.numpy() for q in res[1:]]


def test_step_exports_to_builtin_tflite(tiny, tmp_path):
    pytest.importorskip("ai_edge_litert")
    from tflite_export.endpoints import Endpoint
    from tflite_export.export import check_parity, contains_flex_ops, export_tflite

    class StepOnly:  # adapts the (name, fn, specs) tuples to tflite_export's Endpoint objects
        name = "wavenet_step"

        def export_endpoints(self):
            return [Endpoint(n, f, s) for n, f, s in tiny.export_endpoints(batch_size=1)]

    wrapper = StepOnly()
    path = export_tflite(wrapper, str(tmp_path / "wavenet_step.tflite"))
    assert not contains_flex_ops(path)
    specs = tiny.export_endpoints()[0][2]
    rng = np.random.default_rng(0)
    inputs = [np.array([37], "int32")] + [rng.normal(size=s.shape).astype("float32") for s in specs[1:]]
    err = check_parity(wrapper, path, inputs, atol=1e-4, signature="step")
    assert err <= 1e-4


@pytest.mark.slow
def test_training_on_notes_beats_histogram_entropy(tmp_path):
    """A few minutes of teacher forcing on the built-in notes: held-out NLL well below the mu-law histogram entropy."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks", "wavenet_notes_nll.py")
    spec = importlib.util.spec_from_file_location("wavenet_notes_nll", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    r = bench.run(minutes=3.0, data_dir=str(tmp_path / "notes"))
    print(r)
    assert r["nll_bits"] < r["nll_before_bits"] - 2.0
    assert r["nll_bits"] < r["histogram_entropy_bits"] - 1.0, r
    assert r["nll_bits"] < r["unigram_cross_entropy_bits"] - 1.0, r
