"""Export Keras models to a SavedModel with one signature per endpoint, and to a builtin-ops ``.tflite``.

Endpoints (``model.export_endpoints()`` or one ``"serve"`` over the model's inputs, the signature
``model.export()`` also writes) become ``tf.function`` signatures of one SavedModel, then
``tf.lite.TFLiteConverter.from_saved_model`` makes one ``.tflite`` holding every signature. Files are
written atomically. Every export can be checked with :func:`check_parity` against the Keras model.

Quantization modes and the default parity tolerance for unit-scale outputs (:data:`DEFAULT_ATOL`):

=========  ==============================================================  ======
mode       converter settings                                               atol
=========  ==============================================================  ======
none       float32                                                          1e-4
float16    weights stored as float16                                        1e-2
dynamic    int8 weights, float activations (dynamic-range)                  5e-2
int8       int8 weights and activations, float I/O; needs a representative   1.5e-1
           dataset; builtin int8 kernels only
=========  ==============================================================  ======

Example:
    >>> import keras, numpy as np
    >>> x = keras.Input((None, 1)); model = keras.Model(x, keras.layers.Conv1D(4, 3, padding="same")(x))
    >>> path = export_tflite(model, "/tmp/m.tflite")                      # doctest: +SKIP
    >>> check_parity(model, path, np.random.rand(1, 64, 1).astype("float32"), atol=1e-4)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import warnings

import keras
import numpy as np
import tensorflow as tf

from audiogen_tf.atomic import atomic_write_bytes

from tflite_export.endpoints import Endpoint, get_endpoints
from tflite_export.runtime import ModelFileError, TFLiteRunner, list_ops

QUANTIZATION_MODES = ("none", "float16", "dynamic", "int8")
DEFAULT_ATOL = {"none": 1e-4, "float16": 1e-2, "dynamic": 5e-2, "int8": 1.5e-1}
ENDPOINTS_FILE = os.path.join("assets.extra", "audiogen_endpoints.json")

__all__ = [
    "DEFAULT_ATOL",
    "QUANTIZATION_MODES",
    "Endpoint",
    "ExportError",
    "ModelFileError",
    "ParityError",
    "check_parity",
    "contains_flex_ops",
    "export_saved_model",
    "export_tflite",
    "list_tflite_ops",
    "saved_model_signatures",
]


class ExportError(RuntimeError):
    """An export step failed; the message names the step / quantization mode and the reason."""


class ParityError(ExportError, AssertionError):
    """The exported model's output differs from the Keras output by more than the tolerance."""


# ---------------------------------------------------------------------------------------- helpers
def _tensor_specs(endpoint: Endpoint) -> list[tf.TensorSpec]:
    names = endpoint.input_names()
    specs = []
    for spec, name in zip(endpoint.input_signature, names):
        dtype = getattr(spec, "dtype", None) or "float32"
        shape = tuple(None if d is None else int(d) for d in spec.shape)
        specs.append(tf.TensorSpec(shape=shape, dtype=tf.as_dtype(keras.backend.standardize_dtype(dtype)), name=name))
    return specs


def outputs_as_dict(outputs) -> dict:
    """Name the outputs of an endpoint the way its signature does: a dict keeps its keys, else ``output_{i}``."""
    if isinstance(outputs, dict):
        flat = {}
        for k, v in outputs.items():
            name = re.sub(r"[^A-Za-z0-9_]", "_", str(k))
            if isinstance(v, (list, tuple, dict)):
                for j, t in enumerate(keras.tree.flatten(v)):
                    flat[f"{name}_{j}"] = t
            else:
                flat[name] = v
        return flat
    flat = keras.tree.flatten(outputs)
    return {f"output_{i}": t for i, t in enumerate(flat)}


def _signature_fn(endpoint: Endpoint):
    fn = endpoint.function

    def signature(*args):
        return outputs_as_dict(fn(*args))

    signature.__name__ = endpoint.name
    return signature


def _select(endpoints: list[Endpoint], wanted) -> list[Endpoint]:
    if wanted is None:
        return endpoints
    wanted = [wanted] if isinstance(wanted, (str, Endpoint)) else list(wanted)
    by_name = {e.name: e for e in endpoints}
    chosen = []
    for w in wanted:
        if isinstance(w, Endpoint):
            chosen.append(w)
        elif w in by_name:
            chosen.append(by_name[w])
        else:
            raise ExportError(f"Unknown endpoint '{w}'. The model offers: {sorted(by_name)}")
    return chosen


def _replace_dir(tmp: str, directory: str) -> None:
    """Move the finished ``tmp`` folder to ``directory``, replacing an old export only once the new one is complete."""
    old = None
    if os.path.exists(directory):
        old = tempfile.mkdtemp(prefix=".old-", dir=os.path.dirname(directory))
        os.rmdir(old)
        os.replace(directory, old)
    os.replace(tmp, directory)
    if old:
        shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------------------------------- SavedModel
def export_saved_model(model, directory, endpoints=None) -> str:
    """Write one SavedModel with a signature per endpoint (``tf.saved_model.save`` of ``tf.function`` signatures).

    Args:
        model: a built ``keras.Model``; its ``export_endpoints()`` (or one ``"serve"`` endpoint) is used.
        directory: output folder; written to a temp folder beside it, then renamed.
        endpoints: ``None`` for all of the model's endpoints, or names / :class:`Endpoint` objects.

    Returns:
        the directory path.

    Example:
        >>> export_saved_model(model, "out/hifigan_savedmodel")   # doctest: +SKIP
    """
    directory = os.path.abspath(os.fspath(directory))
    chosen = _select(get_endpoints(model), endpoints)
    parent = os.path.dirname(directory)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-savedmodel-", dir=parent)
    try:
        module = tf.Module()
        signatures = {}
        for ep in chosen:
            try:
                fn = tf.function(_signature_fn(ep), input_signature=_tensor_specs(ep), autograph=False)
                signatures[ep.name] = fn.get_concrete_function()
            except Exception as e:
                raise ExportError(f"Endpoint '{ep.name}' could not be traced: {type(e).__name__}: {e}") from e
        # Track the tf.Variables the traced functions capture (as keras.export.ExportArchive does), so the
        # converter sees them as read-only and freezes them into constants.
        captured, seen = [], set()
        for cf in signatures.values():
            for v in cf.variables:
                if id(v) not in seen:
                    seen.add(id(v))
                    captured.append(v)
        module.captured_variables = captured
        target = os.path.join(tmp, "model")
        # No "serving_default" alias: the TFLite converter would merge it with the first endpoint.
        tf.saved_model.save(module, target, signatures=signatures)
        meta = {
            "model": type(model).__name__,
            "endpoints": [
                {"name": ep.name, "inputs": ep.input_names(), "description": ep.description} for ep in chosen
            ],
        }
        os.makedirs(os.path.join(target, "assets.extra"), exist_ok=True)
        with open(os.path.join(target, ENDPOINTS_FILE), "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=2)
        _replace_dir(target, directory)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return directory


def saved_model_signatures(directory) -> list[str]:
    """Endpoint signature keys of a SavedModel: ours from its endpoints file, else all keys but the ``serving_default`` alias."""
    directory = os.fspath(directory)
    meta_path = os.path.join(directory, ENDPOINTS_FILE)
    if os.path.isfile(meta_path):
        with open(meta_path, encoding="utf-8") as f:
            return [e["name"] for e in json.load(f)["endpoints"]]
    from tensorflow.core.protobuf import saved_model_pb2

    pb = os.path.join(directory, "saved_model.pb")
    if not os.path.isfile(pb):
        raise ExportError(f"{directory}: not a SavedModel folder (no saved_model.pb)")
    sm = saved_model_pb2.SavedModel()
    with open(pb, "rb") as f:
        sm.ParseFromString(f.read())
    keys = sorted({k for mg in sm.meta_graphs for k in mg.signature_def if not k.startswith("__")})
    if len(keys) > 1 and "serving_default" in keys:
        keys.remove("serving_default")
    return keys


# ---------------------------------------------------------------------------------------- TFLite
def _as_generator(representative_dataset, signature_keys, input_names):
    """Normalize a representative dataset to the converter's form (a callable yielding samples)."""
    if representative_dataset is None:
        return None
    multi = len(signature_keys) > 1

    def norm(sample, key=None):
        if isinstance(sample, tuple) and len(sample) == 2 and isinstance(sample[0], str):
            key, sample = sample
        if isinstance(sample, dict):
            feed = {k: np.asarray(v) for k, v in sample.items()}
        else:
            arrays = [sample] if not isinstance(sample, (list, tuple)) else list(sample)
            key = key or (signature_keys[0] if not multi else None)
            if key is None:
                raise ExportError(
                    "int8 calibration of several endpoints needs samples as (endpoint, {input: array}) "
                    f"or a dict endpoint -> samples; endpoints: {signature_keys}"
                )
            feed = dict(zip(input_names[key], (np.asarray(a) for a in arrays)))
        feed = {k: v.astype(np.float32) if v.dtype == np.float64 else v for k, v in feed.items()}
        if multi:
            return (key, feed)
        return feed

    def gen():
        if isinstance(representative_dataset, dict):
            for key, samples in representative_dataset.items():
                for s in samples() if callable(samples) else samples:
                    yield norm(s, key)
        else:
            source = representative_dataset() if callable(representative_dataset) else representative_dataset
            for s in source:
                yield norm(s)

    return gen


def _explain_converter_error(e: Exception) -> str:
    """The useful lines of a converter error: the MLIR ``error:`` messages and the list of TF Select ops."""
    lines = []
    for line in str(e).splitlines():
        line = line.strip()
        if "error:" in line:
            line = line.split("error:", 1)[1].strip()
            if line.startswith("loc(") and "): " in line:  # drop the MLIR source location
                line = line[line.rfind("): ") + 3 :].strip()
        elif not line.startswith(("TF Select ops:", "Flex ops:")):
            continue
        if line and line not in lines and not line.startswith("failed while converting"):
            lines.append(line[:300])
        if len(lines) >= 6:
            break
    return "; ".join(lines) or (str(e).strip().splitlines() or [type(e).__name__])[0][:300]


def export_tflite(
    model_or_saved_model_dir,
    path,
    quantization: str = "none",
    representative_dataset=None,
    allow_flex: bool = False,
    endpoint=None,
) -> str:
    """Convert a model (or a SavedModel folder) to one ``.tflite`` holding each endpoint as a signature.

    Args:
        model_or_saved_model_dir: a ``keras.Model`` (exported through :func:`export_saved_model`) or a SavedModel path.
        path: output ``.tflite`` path, written atomically.
        quantization: ``"none"``, ``"float16"``, ``"dynamic"`` or ``"int8"`` (see the module table).
        representative_dataset: int8 only: iterable or callable yielding samples, each an array, a list of arrays
            (one per input), a dict input -> array, or ``(endpoint, dict)``; or a dict endpoint -> such samples.
        allow_flex: allow TensorFlow (Flex) ops; without it only TFLite builtin ops are accepted.
        endpoint: ``None`` for every endpoint, or a name / list of names.

    Returns:
        the ``.tflite`` path.

    Raises:
        ExportError: naming the quantization mode and why conversion failed (e.g. an op without a builtin kernel).

    Example:
        >>> export_tflite(model, "out/model_f16.tflite", quantization="float16")   # doctest: +SKIP
    """
    if quantization not in QUANTIZATION_MODES:
        raise ExportError(f"Unknown quantization '{quantization}'. Choose one of {QUANTIZATION_MODES}.")
    if quantization == "int8" and representative_dataset is None:
        raise ExportError(
            "quantization='int8' needs a representative_dataset (a few typical inputs) to calibrate activation ranges."
        )
    path = os.path.abspath(os.fspath(path))
    with tempfile.TemporaryDirectory(prefix="audiogen-export-") as tmp:
        if isinstance(model_or_saved_model_dir, (str, os.PathLike)):
            sm_dir = os.fspath(model_or_saved_model_dir)
            keys = saved_model_signatures(sm_dir)
            if endpoint is not None:
                wanted = [endpoint] if isinstance(endpoint, str) else list(endpoint)
                unknown = [w for w in wanted if w not in keys]
                if unknown:
                    raise ExportError(f"{sm_dir}: no signature {unknown}; signatures: {keys}")
                keys = wanted
        else:
            sm_dir = export_saved_model(model_or_saved_model_dir, os.path.join(tmp, "saved_model"), endpoint)
            keys = saved_model_signatures(sm_dir)
        input_names = _signature_input_names(sm_dir, keys)

        converter = tf.lite.TFLiteConverter.from_saved_model(sm_dir, signature_keys=keys)
        ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8 if quantization == "int8" else tf.lite.OpsSet.TFLITE_BUILTINS]
        if allow_flex:
            ops.append(tf.lite.OpsSet.SELECT_TF_OPS)
        converter.target_spec.supported_ops = ops
        if quantization != "none":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantization == "float16":
            converter.target_spec.supported_types = [tf.float16]
        if quantization == "int8":
            converter.representative_dataset = _as_generator(representative_dataset, keys, input_names)
        try:
            with warnings.catch_warnings():  # int8 calibration runs TF's own (deprecated) interpreter
                warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated.*")
                data = converter.convert()
        except ExportError:
            raise
        except Exception as e:
            hint = "" if allow_flex else " Only TFLite builtin ops are allowed (pass allow_flex=True to accept Flex ops)."
            if quantization == "int8":
                hint += " int8 needs an int8 kernel for every op; try quantization='dynamic'."
            raise ExportError(
                f"TFLite conversion with quantization='{quantization}' of endpoints {keys} failed: "
                f"{_explain_converter_error(e)}.{hint}"
            ) from e
    atomic_write_bytes(path, data)
    if quantization == "int8" and "QUANTIZE" not in list_ops(path):
        ops = sorted(list_ops(path))
        os.remove(path)
        raise ExportError(
            f"quantization='int8' left the model in float: none of its ops {ops} got an int8 kernel. "
            "Use quantization='dynamic' or 'float16' for this model."
        )
    if not allow_flex and contains_flex_ops(path):  # the converter should have refused already
        os.remove(path)
        raise ExportError(f"{path}: conversion produced Flex ops {sorted(_flex(list_ops(path)))} without allow_flex.")
    return path


def _signature_input_names(sm_dir, keys) -> dict[str, list[str]]:
    """Endpoint -> input names in argument order, from our endpoints file when present."""
    meta_path = os.path.join(sm_dir, ENDPOINTS_FILE)
    if os.path.isfile(meta_path):
        with open(meta_path, encoding="utf-8") as f:
            return {e["name"]: e["inputs"] for e in json.load(f)["endpoints"]}
    from tensorflow.core.protobuf import saved_model_pb2

    sm = saved_model_pb2.SavedModel()
    with open(os.path.join(sm_dir, "saved_model.pb"), "rb") as f:
        sm.ParseFromString(f.read())
    out = {}
    for mg in sm.meta_graphs:
        for k in keys:
            if k in mg.signature_def:
                out[k] = sorted(mg.signature_def[k].inputs)
    return out


def _flex(ops):
    return {o for o in ops if o.startswith("Flex")}


def list_tflite_ops(path) -> set[str]:
    """Operator names used by a ``.tflite`` in all subgraphs (``CONV_2D``, ``FULLY_CONNECTED``, ``FlexRFFT``...)."""
    return list_ops(path)


def contains_flex_ops(path) -> bool:
    """Whether a ``.tflite`` needs the Flex (TensorFlow ops) delegate."""
    return bool(_flex(list_ops(path)))


# ---------------------------------------------------------------------------------------- parity
def check_parity(model_or_fn, tflite_path, inputs, atol=None, signature=None, input_names=None, num_threads=2) -> float:
    """Max absolute difference between the Keras (reference) outputs and the ``.tflite`` outputs on ``inputs``.

    Args:
        model_or_fn: a ``keras.Model`` (its endpoint ``signature`` is the reference) or a callable taking the
            inputs positionally.
        tflite_path: the exported file.
        inputs: one array, a list of arrays in argument order, or a dict input name -> array.
        atol: if given, raise :class:`ParityError` when the error exceeds it.
        signature: endpoint / signature key (may be omitted when the file has one).
        input_names: for a plain callable with several inputs: the names of its arguments in order.

    Returns:
        the max abs error over all outputs (float).

    Example:
        >>> err = check_parity(model, "m.tflite", np.zeros((1, 64, 1), "float32"), atol=1e-4)   # doctest: +SKIP
    """
    runner = TFLiteRunner(tflite_path, num_threads=num_threads)
    key = runner._key(signature)
    is_model = isinstance(model_or_fn, keras.Model) or hasattr(model_or_fn, "export_endpoints")
    if is_model:
        eps = {e.name: e for e in get_endpoints(model_or_fn)}
        if key not in eps:
            raise ExportError(f"{tflite_path}: signature '{key}' is not an endpoint of the model ({sorted(eps)})")
        fn, names = eps[key].function, eps[key].input_names()
    else:
        fn = model_or_fn
        names = list(input_names) if input_names else [d["name"] for d in runner.input_details(key)]
    if isinstance(inputs, dict):
        missing = [n for n in names if n not in inputs]
        if missing:
            raise ValueError(f"check_parity: inputs lack {missing}; the signature takes {names}")
        pos = [np.asarray(inputs[n]) for n in names]
    else:
        pos = [np.asarray(x) for x in inputs] if isinstance(inputs, (list, tuple)) else [np.asarray(inputs)]
        if len(pos) != len(names):
            raise ValueError(f"check_parity: got {len(pos)} inputs, the signature takes {names}")
        if len(pos) > 1 and not input_names and not is_model:
            raise ValueError("check_parity: a plain callable with several inputs needs input_names=[...]")
    ref = {k: np.asarray(keras.ops.convert_to_numpy(v)) for k, v in outputs_as_dict(fn(*pos)).items()}
    got = runner.run(dict(zip(names, pos)), signature=key)
    if set(ref) != set(got):
        if len(ref) != len(got):
            raise ParityError(f"{tflite_path}: outputs {sorted(got)} do not match the reference outputs {sorted(ref)}")
        ref = dict(zip(got, ref.values()))
    err = 0.0
    for name, want in ref.items():
        have = got[name]
        if have.shape != want.shape:
            raise ParityError(f"{tflite_path}: output '{name}' has shape {have.shape}, reference {want.shape}")
        if want.size:
            err = max(err, float(np.max(np.abs(have.astype(np.float64) - want.astype(np.float64)))))
    if atol is not None and not err <= atol:
        raise ParityError(f"{tflite_path}: signature '{key}' max abs error {err:.3g} exceeds atol {atol:g}")
    return err
