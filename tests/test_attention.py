"""Attention layers: NumPy references, masking, step == full sequence, DCA monotonicity, saving and TFLite steps."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

from audiogen_tf.layers.attention import (  # noqa: E402
    DynamicConvolutionAttention,
    LocationSensitiveAttention,
    beta_binomial_pmf,
    masked_softmax,
)

RNG = np.random.default_rng(7)


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _softmax(e, mask=None):
    e = np.where(mask, e, -np.inf) if mask is not None else e
    w = np.exp(e - e.max(-1, keepdims=True))
    return w / w.sum(-1, keepdims=True)


def _memory(batch=2, time=9, dim=5, lengths=(9, 6), seed=0):
    rng = np.random.default_rng(seed)
    memory = rng.normal(size=(batch, time, dim)).astype("float32")
    mask = np.arange(time)[None, :] < np.array(lengths)[:, None]
    return memory, mask


# ------------------------------------------------------------------------------ masked softmax
def test_masked_softmax_uniform_and_exact_zeros():
    w = _np(masked_softmax(np.full((2, 3), 4.2, "float32"), np.array([[1, 1, 1], [1, 1, 0]], bool)))
    np.testing.assert_allclose(w[0], [1 / 3] * 3, atol=1e-7)
    np.testing.assert_allclose(w[1], [0.5, 0.5, 0.0], atol=1e-7)
    assert w[1, 2] == 0.0


# ------------------------------------------------------------------------------ location-sensitive
def _lsa_numpy(att, queries, memory, mask):
    """NumPy reference of Tacotron 2 location-sensitive attention, run over the queries from zero state."""
    Wq = _np(att.query_dense.kernel)
    Vm = _np(att.memory_dense.kernel)
    K = _np(att.location_conv.kernel)  # (k, 2, filters)
    U = _np(att.location_dense.kernel)
    v, b = _np(att.v), _np(att.b)
    batch, time, _ = memory.shape
    k = K.shape[0]
    prev = np.zeros((batch, time))
    cum = np.zeros((batch, time))
    contexts, alignments = [], []
    for s in range(queries.shape[1]):
        x = np.pad(np.stack([prev, cum], -1), [(0, 0), ((k - 1) // 2, k // 2), (0, 0)])
        f = np.stack([np.einsum("bki,kif->bf", x[:, t : t + k], K) for t in range(time)], 1)
        hidden = np.tanh((queries[:, s] @ Wq)[:, None] + memory @ Vm + f @ U + b)
        w = _softmax(hidden @ v, mask)
        contexts.append(np.einsum("bt,btd->bd", w, memory))
        alignments.append(w)
        prev, cum = w, cum + w
    return np.stack(contexts, 1), np.stack(alignments, 1)


def test_location_sensitive_matches_numpy_and_step():
    memory, mask = _memory()
    queries = RNG.normal(size=(2, 5, 6)).astype("float32")
    att = LocationSensitiveAttention(units=16, location_filters=4, location_kernel_size=5)
    att(queries, memory, mask)
    for w in att.weights:  # non-trivial location weights / bias so the location path matters
        w.assign(RNG.normal(scale=0.5, size=w.shape).astype("float32"))
    ctx, w = att(queries, memory, mask)
    ref_ctx, ref_w = _lsa_numpy(att, queries, memory, mask)
    np.testing.assert_allclose(_np(w), ref_w, atol=1e-5)
    np.testing.assert_allclose(_np(ctx), ref_ctx, atol=1e-5)
    np.testing.assert_allclose(_np(w).sum(-1), 1.0, atol=1e-6)
    assert np.all(_np(w)[1, :, 6:] == 0.0)
    # step by step with explicit state == full sequence
    proj = att.precompute_memory(memory)
    state = att.get_initial_state(2, 9)
    for s in range(5):
        c_s, w_s, state = att.step(queries[:, s], proj, memory, mask, state)
        np.testing.assert_allclose(_np(w_s), _np(w)[:, s], atol=1e-6)
        np.testing.assert_allclose(_np(c_s), _np(ctx)[:, s], atol=1e-5)
    np.testing.assert_allclose(_np(state[1]), _np(w).sum(1), atol=1e-5)
    # padded memory values change nothing
    other = memory.copy()
    other[1, 6:] = -50.0
    ctx2, w2 = att(queries, other, mask)
    np.testing.assert_allclose(_np(ctx2), _np(ctx), atol=1e-5)
    np.testing.assert_allclose(_np(w2), _np(w), atol=1e-6)


def test_location_sensitive_defaults_are_tacotron2():
    att = LocationSensitiveAttention()
    att(np.zeros((1, 2, 8), "float32"), np.zeros((1, 40, 3), "float32"))
    assert tuple(att.location_conv.kernel.shape) == (31, 2, 32)
    assert tuple(att.location_dense.kernel.shape) == (32, 128)
    assert tuple(att.memory_dense.kernel.shape) == (3, 128)


# ------------------------------------------------------------------------------ DCA
def test_beta_binomial_prior_matches_scipy():
    from scipy.stats import betabinom

    p = beta_binomial_pmf(11, 0.1, 0.9)
    np.testing.assert_allclose(p, betabinom.pmf(np.arange(11), 10, 0.1, 0.9), rtol=1e-5)


def test_dca_monotonic_masked_and_step():
    keras.utils.set_random_seed(3)
    time, steps = 48, 40
    memory, mask = _memory(batch=3, time=time, dim=4, lengths=(48, 30, 48), seed=1)
    att = DynamicConvolutionAttention(units=32, dynamic_hidden_units=16)
    queries = np.random.default_rng(2).normal(scale=2.0, size=(3, steps, 10)).astype("float32")
    ctx, w = att(queries, memory, mask)
    w = _np(w)
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-5)
    assert np.all(w[1, :, 30:] == 0.0)
    # monotonic: each alignment stochastically dominates the previous one (its CDF is never above the
    # previous CDF, up to the 1e-6 prior floor), so the centroid never moves back; and it does advance
    cdf = np.cumsum(w, -1)
    assert (cdf[:, 1:] - cdf[:, :-1]).max() < 1e-4
    centroid = (w * np.arange(time)).sum(-1)
    assert np.all(np.diff(centroid, axis=1) >= -1e-4), np.diff(centroid, axis=1).min()
    assert np.all(centroid[:, -1] > centroid[:, 0] + 5.0)
    # padded memory values change nothing; step == full sequence
    other = memory.copy()
    other[1, 30:] = 99.0
    np.testing.assert_allclose(_np(att(queries, other, mask)[0]), _np(ctx), atol=1e-5)
    state = att.get_initial_state(3, time)
    for s in range(3):
        c_s, w_s, state = att.step(queries[:, s], att.precompute_memory(memory), memory, mask, state)
        np.testing.assert_allclose(_np(w_s), w[:, s], atol=1e-6)


def test_dca_prior_only_is_a_forward_shift():
    """With v = 0 the energies are the log prior alone: weights = (P * a_prev) renormalized over valid frames."""
    att = DynamicConvolutionAttention(units=8, dynamic_hidden_units=8)
    memory, mask = _memory(batch=2, time=16, dim=3, lengths=(16, 12))
    att(np.zeros((2, 1, 4), "float32"), memory, mask)
    att.v.assign(np.zeros(8, "float32"))
    p = beta_binomial_pmf(11, 0.1, 0.9)
    prev = np.zeros((2, 16)); prev[:, 0] = 1.0
    state = att.get_initial_state(2, 16)
    for _ in range(4):
        _, w, state = att.step(RNG.normal(size=(2, 4)).astype("float32"), memory, memory, mask, state)
        want = np.stack([np.convolve(r, p)[:16] for r in prev])
        want = np.where(mask, np.maximum(want, 1e-6), 0.0)
        want /= want.sum(-1, keepdims=True)
        np.testing.assert_allclose(_np(w), want, atol=1e-6)
        prev = want


# ------------------------------------------------------------------------------ config, saving, gradients
def _functional_models():
    q = keras.Input((4, 6), name="queries")
    mem = keras.Input((9, 5), name="memory")
    m = keras.Input((9,), dtype="bool", name="memory_mask")
    models = {}
    for cls, kw in [
        (LocationSensitiveAttention, dict(units=8, location_filters=3, location_kernel_size=5)),
        (DynamicConvolutionAttention, dict(units=8, dynamic_hidden_units=8, static_kernel_size=5, prior_length=5)),
    ]:
        ctx, w = cls(**kw)(q, mem, memory_mask=m)
        models[cls.__name__] = keras.Model([q, mem, m], [ctx, w])
    return models


def _inputs_for(name):
    memory, mask = _memory()
    return [RNG.normal(size=(2, 4, 6)).astype("float32"), memory, mask]


def test_config_round_trip_keras_save_load_and_gradients(tmp_path):
    for name, model in _functional_models().items():
        inputs = _inputs_for(name)
        want = [_np(t) for t in keras.tree.flatten(model(inputs))]
        # layer get_config round trip
        for layer in model.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            config = layer.get_config()
            clone = type(layer).from_config(config)
            assert clone.get_config() == config
        # .keras save / load (safe mode)
        path = str(tmp_path / f"{name}.keras")
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
        got = [_np(t) for t in keras.tree.flatten(loaded(inputs))]
        for a, b in zip(want, got):
            np.testing.assert_allclose(a, b, atol=1e-6, err_msg=name)
        # gradients reach every trainable weight
        with tf.GradientTape() as tape:
            out = keras.tree.flatten(model(inputs, training=True))
            loss = ops.sum(ops.square(out[0] - 0.3))
        grads = tape.gradient(loss, model.trainable_weights)
        for var, g in zip(model.trainable_weights, grads):
            assert g is not None, f"{name}: no gradient for {var.path}"
            g = _np(g)
            assert np.all(np.isfinite(g)) and np.abs(g).max() > 0, f"{name}: zero gradient for {var.path}"


# ------------------------------------------------------------------------------ TFLite
def _export_and_check(endpoint, inputs, tmp_path, name):
    pytest.importorskip("ai_edge_litert")
    from tflite_export.export import check_parity, contains_flex_ops, export_tflite, list_tflite_ops

    class Wrapper:
        def export_endpoints(self):
            return [endpoint]

    wrapper = Wrapper()
    wrapper.name = name
    path = export_tflite(wrapper, str(tmp_path / f"{name}.tflite"))
    assert not contains_flex_ops(path)
    print(name, sorted(list_tflite_ops(path)))
    return check_parity(wrapper, path, inputs, atol=1e-4, signature=endpoint.name)


@pytest.mark.parametrize("cls", [LocationSensitiveAttention, DynamicConvolutionAttention])
def test_memory_attention_step_exports_to_tflite(cls, tmp_path):
    from tflite_export.endpoints import Endpoint

    B, T, Q, M = 1, 20, 6, 5
    att = cls()
    att(np.zeros((B, 2, Q), "float32"), np.zeros((B, T, M), "float32"))
    memory, _ = _memory(batch=B, time=T, dim=M, lengths=(T,))
    projection = _np(att.precompute_memory(memory))

    def step(query, memory_projection, memory, mask, previous, cumulative):
        ctx, w, (p, c) = att.step(query, memory_projection, memory, mask, (previous, cumulative))
        return {"context": ctx, "weights": w, "previous": p, "cumulative": c}

    specs = [
        tf.TensorSpec((B, Q), tf.float32, name="query"),
        tf.TensorSpec(projection.shape, tf.float32, name="memory_projection"),
        tf.TensorSpec((B, T, M), tf.float32, name="memory"),
        tf.TensorSpec((B, T), tf.bool, name="mask"),
        tf.TensorSpec((B, T), tf.float32, name="previous"),
        tf.TensorSpec((B, T), tf.float32, name="cumulative"),
    ]
    prev = np.random.default_rng(0).dirichlet(np.ones(T), size=B).astype("float32")
    inputs = [RNG.normal(size=(B, Q)).astype("float32"), projection, memory, np.arange(T)[None] < 15, prev, prev * 3.0]
    err = _export_and_check(Endpoint("step", step, specs), inputs, tmp_path, f"{cls.__name__}_step")
    print(f"{cls.__name__} step: TFLite max abs err {err:.2e}")
    assert err < 1e-4

