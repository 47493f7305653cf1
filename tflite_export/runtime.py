"""Run an exported ``.tflite`` on device-like terms: NumPy in, NumPy out, no TensorFlow import.

Only ``numpy`` and ``ai_edge_litert`` are imported here, so this module is what a phone-side or
server-side consumer of our ``.tflite`` files needs. Every signature (endpoint) of the file can be
run; dynamic dimensions are resized per call; bad files and bad inputs raise errors naming the
file and the problem.

Example:
    >>> runner = TFLiteRunner("hifigan_tiny.tflite")          # doctest: +SKIP
    >>> runner.signatures()                                  # doctest: +SKIP
    {'serve': {'inputs': ['mel'], 'outputs': ['output_0']}}
    >>> audio = runner.run(mel)["output_0"]                  # doctest: +SKIP
"""

from __future__ import annotations

import os

import numpy as np

from audiogen_tf.errors import FileProblemError, ModelFileError  # noqa: F401  (no TensorFlow behind this import)

TFLITE_FILE_IDENTIFIER = b"TFL3"


def _read_model_bytes(path) -> bytes:
    """Read and sanity-check a ``.tflite`` file (identifier and flatbuffer structure) before the interpreter sees it."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelFileError(path, "missing", "no such file")
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        raise ModelFileError(path, "empty", "0 bytes")
    if len(data) < 8 or data[4:8] != TFLITE_FILE_IDENTIFIER:
        kind = _guess_kind(data)
        raise ModelFileError(  # no byte of the file in the message: it may be any file
            path, "not_tflite", (f"this is {kind}; " if kind else "")
            + f"file identifier is not {TFLITE_FILE_IDENTIFIER.decode()!r}, that of a TFLite flatbuffer"
        )
    _check_flatbuffer(path, data)
    return data


def _guess_kind(data: bytes) -> str:
    """What a non-TFLite file looks like, from its magic bytes ('' when unknown)."""
    from audiogen_tf.filetypes import guess_kind

    return guess_kind(data)


def _check_flatbuffer(path: str, data: bytes) -> None:
    """Walk the model's tables with the generated schema reader; a truncated buffer reads out of range."""
    from ai_edge_litert import schema_py_generated as schema

    try:
        model = schema.Model.GetRootAs(data, 0)
        for s in range(model.SubgraphsLength()):
            sub = model.Subgraphs(s)
            for t in range(sub.TensorsLength()):
                tensor = sub.Tensors(t)
                if tensor.Buffer() >= model.BuffersLength():
                    raise ValueError(f"tensor {t} points to buffer {tensor.Buffer()} of {model.BuffersLength()}")
            for o in range(sub.OperatorsLength()):
                if sub.Operators(o).OpcodeIndex() >= model.OperatorCodesLength():
                    raise ValueError(f"operator {o} has an unknown opcode index")
        for b in range(model.BuffersLength()):
            buf = model.Buffers(b)
            if buf.Offset() > 1:  # large models (> 2 GB) keep buffers after the flatbuffer
                if buf.Offset() + buf.Size() > len(data):
                    raise ValueError(f"buffer {b} ends at byte {buf.Offset() + buf.Size()} of {len(data)}")
            else:
                buf.DataLength()
    except ModelFileError:
        raise
    except Exception as e:  # struct.error / IndexError on a cut buffer
        raise ModelFileError(path, "truncated", f"{len(data)} bytes, flatbuffer reads past its end: {e}") from e


def list_ops(path) -> set[str]:
    """Names of the operators used in every subgraph of a ``.tflite`` (builtins like ``CONV_2D``, Flex ops like ``FlexRFFT``).

    Example:
        >>> "FULLY_CONNECTED" in list_ops("model.tflite")   # doctest: +SKIP
        True
    """
    from ai_edge_litert import schema_py_generated as schema

    data = _read_model_bytes(path)
    code_names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    model = schema.Model.GetRootAs(data, 0)
    opcodes = []
    for i in range(model.OperatorCodesLength()):
        oc = model.OperatorCodes(i)
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        if code == schema.BuiltinOperator.CUSTOM:
            custom = oc.CustomCode()
            opcodes.append(custom.decode() if custom else "CUSTOM")
        else:
            opcodes.append(code_names.get(code, f"BUILTIN_{code}"))
    used = set()
    for s in range(model.SubgraphsLength()):
        sub = model.Subgraphs(s)
        for o in range(sub.OperatorsLength()):
            used.add(opcodes[sub.Operators(o).OpcodeIndex()])
    return used


class TFLiteRunner:
    """Load a ``.tflite`` with ``ai_edge_litert`` and run any of its signatures on NumPy arrays.

    Args:
        path: the ``.tflite`` file.
        num_threads: CPU threads of the interpreter.

    Example:
        >>> r = TFLiteRunner("model.tflite")                       # doctest: +SKIP
        >>> out = r.run(np.zeros((1, 100, 1), "float32"), signature="serve")  # doctest: +SKIP
        >>> out = r.run(signature="step", chunk=chunk, state=state)            # doctest: +SKIP
    """

    def __init__(self, path, num_threads: int = 2):
        from ai_edge_litert.interpreter import Interpreter

        self.path = os.fspath(path)
        data = _read_model_bytes(self.path)
        self.size_bytes = len(data)
        try:
            self.interpreter = Interpreter(model_content=data, num_threads=num_threads)
        except (ValueError, RuntimeError) as e:
            raise ModelFileError(self.path, "corrupt", str(e).strip().splitlines()[0] if str(e).strip() else "") from e
        self._signature_list = self.interpreter.get_signature_list()
        self._runners = {}
        if not self._signature_list:
            # A model converted without signatures: expose the main graph as "serving_default".
            self.interpreter.allocate_tensors()

    # ------------------------------------------------------------------ introspection
    def signatures(self) -> dict[str, dict[str, list[str]]]:
        """Signature key -> ``{"inputs": [...], "outputs": [...]}`` (the file's order, not necessarily the argument order)."""
        return {
            key: {"inputs": [d["name"] for d in self.input_details(key)], "outputs": self.output_names(key)}
            for key in self.signature_keys()
        }

    def signature_keys(self) -> list[str]:
        return sorted(self._signature_list) if self._signature_list else ["serving_default"]

    def _key(self, signature):
        keys = self.signature_keys()
        if signature is None:
            if len(keys) == 1:
                return keys[0]
            raise ValueError(f"{self.path}: has several signatures {keys}; pass signature=...")
        if signature not in keys:
            raise ValueError(f"{self.path}: no signature '{signature}'. Signatures: {keys}")
        return signature

    def _runner(self, key):
        if key not in self._runners:
            self._runners[key] = self.interpreter.get_signature_runner(key)
        return self._runners[key]

    def input_details(self, signature=None) -> list[dict]:
        """Inputs of a signature: dicts with ``name``, ``shape_signature`` (-1 = dynamic), ``dtype``, ``quantization``.

        Read once per signature, before any run: LiteRT's signature runner reports a scalar input as shape
        ``(1,)`` once it has been fed, which would make the second call's shape check fail.
        """
        key = self._key(signature)
        cache = self.__dict__.setdefault("_input_details_cache", {})
        if key not in cache:
            cache[key] = self._read_input_details(key)
        return [dict(d) for d in cache[key]]

    def _read_input_details(self, key) -> list[dict]:
        if not self._signature_list:
            out = [dict(d) for d in self.interpreter.get_input_details()]
        else:
            details = self._runner(key).get_input_details()
            out = [dict(details[name], name=name) for name in self._signature_list[key]["inputs"]]
        for d in out:
            d["shape_signature"] = np.asarray(d.get("shape_signature", d["shape"]))
        return out

    def output_names(self, signature=None) -> list[str]:
        key = self._key(signature)
        if not self._signature_list:
            return [d["name"] for d in self.interpreter.get_output_details()]
        details = self._runner(key).get_output_details()
        return [name for name, _ in sorted(details.items(), key=lambda kv: kv[1]["index"])]

    # ------------------------------------------------------------------ running
    def _check_input(self, detail, value, key):
        name, want_dtype = detail["name"], np.dtype(detail["dtype"])
        arr = np.asarray(value)
        sig = [int(d) for d in detail["shape_signature"]]
        if arr.ndim != len(sig):
            raise ValueError(
                f"{self.path}: signature '{key}' input '{name}' expects rank {len(sig)} shape {_fmt(sig)}, "
                f"got shape {arr.shape}"
            )
        for axis, (want, got) in enumerate(zip(sig, arr.shape)):
            if want != -1 and want != got:
                raise ValueError(
                    f"{self.path}: signature '{key}' input '{name}' expects shape {_fmt(sig)}, got {arr.shape} "
                    f"(axis {axis} must be {want})"
                )
        if arr.dtype != want_dtype:
            scale, zero = detail.get("quantization", (0.0, 0))
            if want_dtype in (np.int8, np.uint8, np.int16) and arr.dtype.kind == "f" and scale:
                info = np.iinfo(want_dtype)
                arr = np.clip(np.round(arr / scale + zero), info.min, info.max).astype(want_dtype)
            elif np.can_cast(arr.dtype, want_dtype, casting="same_kind") and arr.dtype.kind == want_dtype.kind:
                arr = arr.astype(want_dtype)
            else:
                raise ValueError(
                    f"{self.path}: signature '{key}' input '{name}' expects dtype {want_dtype.name}, got {arr.dtype.name}"
                )
        return np.ascontiguousarray(arr)

    def run(self, *args, signature=None, dequantize: bool = True, **kwargs) -> dict[str, np.ndarray]:
        """Run one signature.

        Args:
            *args: a single dict name -> array, or one array when the signature has one input (a TFLite
                file does not keep the argument order, so several inputs go by name).
            signature: signature key; may be omitted when the file has one signature.
            dequantize: turn int8/uint8 outputs back into float32 with their quantization parameters.
            **kwargs: inputs by name (instead of positional arrays).

        Returns:
            dict output name -> NumPy array (ordered like :meth:`output_names`).
        """
        key = self._key(signature)
        details = self.input_details(key)
        names = [d["name"] for d in details]
        if len(args) == 1 and isinstance(args[0], dict):
            feed = dict(args[0])
        elif not args:
            feed = {}
        elif len(args) == 1 and len(names) == 1:
            feed = {names[0]: args[0]}
        else:
            raise ValueError(
                f"{self.path}: signature '{key}' takes {len(names)} inputs {names}; pass them by name "
                f"(a dict or keyword arguments), got {len(args)} positional array(s)"
            )
        feed.update(kwargs)
        unknown = sorted(set(feed) - set(names))
        missing = [n for n in names if n not in feed]
        if unknown or missing:
            raise ValueError(
                f"{self.path}: signature '{key}' takes inputs {names}; missing {missing}, unknown {unknown}"
            )
        feed = {d["name"]: self._check_input(d, feed[d["name"]], key) for d in details}
        try:
            if self._signature_list:
                raw = self._runner(key)(**feed)
                order = self.output_names(key)
                out_details = self._runner(key).get_output_details()
                outputs = {n: raw[n] for n in order}
            else:
                interp = self.interpreter
                for d in details:
                    interp.resize_tensor_input(d["index"], feed[d["name"]].shape, strict=False)
                interp.allocate_tensors()
                for d in details:
                    interp.set_tensor(d["index"], feed[d["name"]])
                interp.invoke()
                out_details = {d["name"]: d for d in interp.get_output_details()}
                outputs = {n: interp.get_tensor(d["index"]) for n, d in out_details.items()}
        except (RuntimeError, ValueError) as e:
            raise ValueError(f"{self.path}: signature '{key}' failed to run: {e}") from e
        if dequantize:
            for n, arr in outputs.items():
                scale, zero = out_details[n].get("quantization", (0.0, 0))
                if arr.dtype in (np.int8, np.uint8, np.int16) and scale:
                    outputs[n] = ((arr.astype(np.float32) - zero) * scale).astype(np.float32)
        return {n: np.array(v) for n, v in outputs.items()}

    __call__ = run

    def __repr__(self):
        return f"TFLiteRunner({self.path!r}, signatures={self.signature_keys()}, {self.size_bytes} bytes)"


def _fmt(sig):
    return "(" + ", ".join("None" if d == -1 else str(d) for d in sig) + ")"
