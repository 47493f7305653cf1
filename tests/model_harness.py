"""The one test harness every model family calls: build and shapes, config and ``.keras`` round-trips,
a few ``fit`` steps that lower the loss, and TFLite export parity.

Each check asserts and returns the numbers it measured (for printing / reports), so a family's own
test file stays short:

Example:
    >>> model = HiFiGANGenerator.from_preset("hifigan_tiny")                          # doctest: +SKIP
    >>> mel = np.random.rand(1, 8, 80).astype("float32")                            # doctest: +SKIP
    >>> check_build_and_shapes(model, mel, (1, 8 * 256, 1))                          # doctest: +SKIP
    >>> check_config_round_trip(model, mel)                                          # doctest: +SKIP
    >>> check_keras_save_load(model, mel, tmp_path)                                  # doctest: +SKIP
    >>> check_export_parity(model, mel, tmp_path, quantization="float16", atol=1e-2)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import tensorflow as tf

from tflite_export.endpoints import get_endpoints
from tflite_export.export import DEFAULT_ATOL, check_parity, contains_flex_ops, export_tflite, list_tflite_ops


# ---------------------------------------------------------------------------------------- helpers
def _numpy_tree(outputs):
    return keras.tree.map_structure(lambda t: np.asarray(keras.ops.convert_to_numpy(t)), outputs)


def _flat(outputs) -> list[np.ndarray]:
    return [np.asarray(x) for x in keras.tree.flatten(_numpy_tree(outputs))]


def _predict(model, inputs):
    return _numpy_tree(model(inputs, training=False))


def max_abs_diff(a, b) -> float:
    """Max abs difference between two output structures of the same layout."""
    fa, fb = _flat(a), _flat(b)
    assert len(fa) == len(fb), f"output count differs: {len(fa)} vs {len(fb)}"
    err = 0.0
    for x, y in zip(fa, fb):
        assert x.shape == y.shape, f"output shape differs: {x.shape} vs {y.shape}"
        if x.size:
            err = max(err, float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))))
    return err


def _shape_matches(got, want) -> bool:
    want = tuple(want)
    return len(got) == len(want) and all(w is None or w == g for g, w in zip(got, want))


def random_inputs_for(endpoint, dynamic_dim: int = 16, seed: int = 0) -> list[np.ndarray]:
    """Fresh random inputs for an endpoint's specs: ``None`` batch -> 1, other ``None`` dims -> ``dynamic_dim``."""
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in endpoint.input_signature:
        shape = [(1 if i == 0 else dynamic_dim) if d is None else int(d) for i, d in enumerate(spec.shape)]
        dtype = np.dtype(keras.backend.standardize_dtype(getattr(spec, "dtype", None) or "float32"))
        if dtype.kind == "f":
            arrays.append(rng.uniform(-1.0, 1.0, shape).astype(dtype))
        else:
            arrays.append(rng.integers(0, 2, shape).astype(dtype))
    return arrays


# ---------------------------------------------------------------------------------------- checks
def check_build_and_shapes(model, inputs, expected_shapes) -> dict:
    """The model runs on ``inputs``, outputs are finite and have ``expected_shapes`` (``None`` = any size).

    Args:
        model: a built ``keras.Model``.
        inputs: what ``model(...)`` takes (array, list or dict).
        expected_shapes: one shape tuple, or a list / dict of them matching the outputs.

    Returns:
        ``{"params": int, "output_shapes": [...]}``.
    """
    outputs = _predict(model, inputs)
    flat = _flat(outputs)
    if isinstance(expected_shapes, dict):
        assert isinstance(outputs, dict), f"expected dict outputs {sorted(expected_shapes)}, got {type(outputs)}"
        assert set(outputs) == set(expected_shapes), f"output keys {sorted(outputs)} != {sorted(expected_shapes)}"
        pairs = [(k, np.asarray(outputs[k]).shape, expected_shapes[k]) for k in expected_shapes]
    else:
        wanted = [expected_shapes] if expected_shapes and not isinstance(expected_shapes[0], (list, tuple)) else list(expected_shapes)
        assert len(wanted) == len(flat), f"{len(flat)} outputs, expected {len(wanted)}"
        pairs = [(i, x.shape, w) for i, (x, w) in enumerate(zip(flat, wanted))]
    for name, got, want in pairs:
        assert _shape_matches(got, want), f"output {name}: shape {got}, expected {tuple(want)}"
    for i, x in enumerate(flat):
        if x.dtype.kind == "f":
            assert np.all(np.isfinite(x)), f"output {i} has non-finite values"
    return {"params": int(model.count_params()), "output_shapes": [x.shape for x in flat]}


def check_config_round_trip(model, inputs, atol: float = 1e-6) -> dict:
    """``from_config(get_config())`` rebuilds the same architecture; with equal weights the outputs are equal.

    Returns:
        ``{"max_abs_diff": float, "num_weights": int}``.
    """
    config = model.get_config()
    json.dumps(config)  # every constructor argument must be JSON-serializable
    clone = type(model).from_config(config)
    assert json.dumps(clone.get_config(), sort_keys=True, default=str) == json.dumps(
        config, sort_keys=True, default=str
    ), "get_config() of the rebuilt model differs"
    weights = model.get_weights()
    clone_weights = clone.get_weights()
    assert [w.shape for w in weights] == [w.shape for w in clone_weights], "weight shapes differ after from_config"
    clone.set_weights(weights)
    err = max_abs_diff(_predict(model, inputs), _predict(clone, inputs))
    assert err <= atol, f"outputs differ after config round-trip: {err:.3g} > {atol:g}"
    return {"max_abs_diff": err, "num_weights": len(weights)}


def check_keras_save_load(model, inputs, tmp_path, atol: float = 1e-6) -> dict:
    """``model.save(.keras)`` then ``keras.saving.load_model(safe_mode=True)`` gives equal outputs.

    Returns:
        ``{"max_abs_diff": float, "file_bytes": int}``.
    """
    path = os.path.join(os.fspath(tmp_path), f"{model.name}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(model), f"loaded {type(loaded).__name__}, saved {type(model).__name__}"
    err = max_abs_diff(_predict(model, inputs), _predict(loaded, inputs))
    assert err <= atol, f"outputs differ after .keras save/load: {err:.3g} > {atol:g}"
    return {"max_abs_diff": err, "file_bytes": os.path.getsize(path)}


def _one_batch_dataset(dataset):
    if isinstance(dataset, tf.data.Dataset):
        return dataset.take(1).cache().repeat()
    if isinstance(dataset, (tuple, list)):
        return tf.data.Dataset.from_tensors(tuple(dataset)).repeat()
    return tf.data.Dataset.from_tensors(dataset).repeat()


def check_fit_lowers_loss(model_or_trainer, dataset, steps: int = 5, compile_kwargs=None, loss_key: str = "loss") -> dict:
    """A few ``fit`` steps on one batch lower that batch's loss.

    Each step runs as a one-step epoch on the same batch, so ``history[loss_key][0]`` is the loss before any
    update and the last entry the loss after ``steps - 1`` updates. Works for trainers with a custom
    ``train_step`` (pass their metric name as ``loss_key``).

    Args:
        model_or_trainer: a ``keras.Model``; compiled here when ``compile_kwargs`` is given.
        dataset: a ``tf.data.Dataset`` of batches (its first batch is used) or an ``(x, y)`` tuple of arrays.
        steps: number of training steps (>= 2).

    Returns:
        ``{"loss_before": float, "loss_after": float, "ratio": float, "history": [...]}``.
    """
    assert steps >= 2, "need at least 2 steps to see a change"
    if compile_kwargs is not None:
        model_or_trainer.compile(**compile_kwargs)
    assert model_or_trainer.compiled, "model is not compiled: pass compile_kwargs"
    history = model_or_trainer.fit(
        _one_batch_dataset(dataset), epochs=steps, steps_per_epoch=1, shuffle=False, verbose=0
    )
    keys = sorted(history.history)
    assert loss_key in history.history, f"fit() reported {keys}, no '{loss_key}'"
    losses = [float(v) for v in history.history[loss_key]]
    assert all(np.isfinite(losses)), f"non-finite loss: {losses}"
    before, after = losses[0], losses[-1]
    assert after < before, f"loss did not fall in {steps} steps: {before:.4g} -> {after:.4g}"
    return {"loss_before": before, "loss_after": after, "ratio": after / before if before else float("nan"), "history": losses}


def check_export_parity(
    model,
    inputs,
    tmp_path,
    quantization: str = "none",
    atol: float | None = 1e-4,
    representative_dataset=None,
    endpoints=None,
) -> dict:
    """Export every endpoint to one builtin-ops ``.tflite``, run it in ``ai_edge_litert``, compare with Keras.

    Args:
        model: the model (its ``export_endpoints()`` or its default ``"serve"`` endpoint).
        inputs: inputs of the single endpoint (array / list in argument order / dict), or a dict
            endpoint name -> such inputs; endpoints without inputs get fresh random ones from their specs.
        tmp_path: folder for the ``.tflite``.
        quantization: ``"none"``, ``"float16"``, ``"dynamic"``, ``"int8"``.
        atol: tolerance on the max abs error (``None``: the default for the mode, ``DEFAULT_ATOL``).
        representative_dataset: for int8; by default the given inputs.
        endpoints: a subset of endpoint names (default all).

    Returns:
        ``{"quantization", "file_bytes", "errors": {endpoint: err}, "max_abs_error", "ops": [...]}``.
    """
    atol = DEFAULT_ATOL[quantization] if atol is None else atol
    eps = get_endpoints(model)
    if endpoints is not None:
        eps = [e for e in eps if e.name in set(endpoints)]
    names = [e.name for e in eps]
    if isinstance(inputs, dict) and set(inputs) <= set(names) and inputs:
        per_endpoint = dict(inputs)
    else:
        assert len(eps) == 1 or inputs is None, f"model has endpoints {names}: pass inputs as a dict endpoint -> inputs"
        per_endpoint = {names[0]: inputs} if inputs is not None else {}
    for i, ep in enumerate(eps):
        if per_endpoint.get(ep.name) is None:
            per_endpoint[ep.name] = random_inputs_for(ep, seed=i)
    if quantization == "int8" and representative_dataset is None:
        def representative_dataset():
            for ep in eps:
                x = per_endpoint[ep.name]
                xs = list(x) if isinstance(x, (list, tuple)) else [x]
                feed = x if isinstance(x, dict) else dict(zip(ep.input_names(), xs))
                yield (ep.name, feed) if len(eps) > 1 else feed

    path = os.path.join(os.fspath(tmp_path), f"{model.name}_{quantization}.tflite")
    export_tflite(
        model, path, quantization=quantization, representative_dataset=representative_dataset, endpoint=endpoints
    )
    ops = sorted(list_tflite_ops(path))
    assert not contains_flex_ops(path), f"{path} uses Flex ops: {[o for o in ops if o.startswith('Flex')]}"
    errors = {}
    for ep in eps:
        errors[ep.name] = check_parity(model, path, per_endpoint[ep.name], atol=atol, signature=ep.name)
    return {
        "quantization": quantization,
        "file_bytes": os.path.getsize(path),
        "errors": errors,
        "max_abs_error": max(errors.values()),
        "ops": ops,
        "path": path,
    }
