"""Export endpoints: the named functions with input specs that a model offers for SavedModel / TFLite export.

A model that needs fixed shapes or several entry points (a streaming vocoder chunk, an
autoregressive step with explicit state, codec encode/decode) defines ``export_endpoints()``
returning a list of :class:`Endpoint` or, since ``zoo`` may not import ``tflite_export``, plain
``(name, function, input_signature[, description])`` tuples or dicts with those keys; :func:`get_endpoints`
turns them into :class:`Endpoint` objects. A model without it gets one ``"serve"`` endpoint over
its ``keras.Input``\\ s (:func:`default_endpoints`). The function of an endpoint takes one positional
tensor per spec, in order, and returns a tensor, a list/tuple of tensors or a dict of tensors.

Example:
    >>> import keras
    >>> x = keras.Input((None, 1), name="audio")
    >>> model = keras.Model(x, keras.layers.Dense(2)(x))
    >>> [(e.name, e.input_names()) for e in get_endpoints(model)]
    [('serve', ['audio'])]
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import keras

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Endpoint:
    """One exported function: a signature of the SavedModel and of the ``.tflite``.

    Args:
        name: signature key, a Python identifier (``"serve"``, ``"step"``, ``"encode"``).
        function: callable taking one positional tensor per entry of ``input_signature``.
        input_signature: list of ``tf.TensorSpec`` or ``keras.InputSpec`` (``None`` dims are dynamic;
            give fixed shapes for streaming / step endpoints). Spec names become the input names.
        description: free text shown by ``audiogen export`` listings.

    Example:
        >>> import keras
        >>> ep = Endpoint("step", lambda x: x * 2.0, [keras.InputSpec(shape=(1, 256, 1), name="chunk")])
        >>> ep.input_names()
        ['chunk']
    """

    name: str
    function: Callable[..., Any]
    input_signature: list = field(default_factory=list)
    description: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name) or keyword.iskeyword(self.name):
            raise ValueError(f"Endpoint name {self.name!r} must be a Python identifier (letters, digits, _).")
        if not callable(self.function):
            raise ValueError(f"Endpoint '{self.name}': function {self.function!r} is not callable.")
        if not isinstance(self.input_signature, (list, tuple)) or not self.input_signature:
            raise ValueError(
                f"Endpoint '{self.name}': input_signature must be a non-empty list of "
                "tf.TensorSpec / keras.InputSpec, one per positional argument."
            )
        self.input_signature = list(self.input_signature)
        for spec in self.input_signature:
            if _spec_shape(spec) is None:
                raise ValueError(
                    f"Endpoint '{self.name}': spec {spec!r} has no shape; give every input a shape "
                    "(use None for dynamic dimensions)."
                )

    def input_names(self) -> list[str]:
        """Names of the inputs in order: the spec's name, or ``input_{i}`` when it has none."""
        names = []
        for i, spec in enumerate(self.input_signature):
            name = getattr(spec, "name", None)
            names.append(_sanitize(name) if name else f"input_{i}")
        if len(set(names)) != len(names):
            raise ValueError(f"Endpoint '{self.name}': input names {names} are not unique.")
        return names


def _spec_shape(spec):
    shape = getattr(spec, "shape", None)
    if shape is None:
        return None
    try:
        return tuple(None if d is None else int(d) for d in shape)
    except TypeError:  # tf.TensorShape with unknown rank
        return None


def _sanitize(name: str) -> str:
    name = str(name).split(":")[0]
    name = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return name if _NAME_RE.match(name) else f"x_{name}"


def default_endpoints(model) -> list[Endpoint]:
    """One ``"serve"`` endpoint calling ``model(inputs, training=False)`` over the model's ``keras.Input``\\ s.

    Args:
        model: a built functional ``keras.Model`` (or any model with ``.inputs``).

    Example:
        >>> import keras
        >>> a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
        >>> m = keras.Model([a, b], keras.layers.Concatenate()([a, b]))
        >>> default_endpoints(m)[0].input_names()
        ['a', 'b']
    """
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ValueError(
            f"Model {getattr(model, 'name', model)!r} has no keras.Input tensors; build it functionally "
            "or define export_endpoints()."
        )
    specs = [
        keras.InputSpec(shape=tuple(t.shape), dtype=t.dtype, name=_sanitize(getattr(t, "name", None) or f"input_{i}"))
        for i, t in enumerate(inputs)
    ]
    struct = getattr(model, "_inputs_struct", None)

    def serve(*args):
        if struct is not None:
            packed = keras.tree.pack_sequence_as(struct, list(args))
        else:
            packed = args[0] if len(args) == 1 else list(args)
        return model(packed, training=False)

    return [Endpoint("serve", serve, specs, description=f"{getattr(model, 'name', 'model')} forward pass")]


def as_endpoint(item) -> Endpoint:
    """An :class:`Endpoint` from an Endpoint, a ``(name, function, input_signature[, description])`` tuple or a dict."""
    if isinstance(item, Endpoint):
        return item
    if isinstance(item, dict):
        return Endpoint(**item)
    if isinstance(item, (tuple, list)) and len(item) in (3, 4):
        return Endpoint(*item)
    raise ValueError(
        "export_endpoints() must return Endpoint objects or (name, function, input_signature) tuples, "
        f"got {item!r}"
    )


class EndpointList:
    """A fixed list of endpoints presented as a model (for :func:`~tflite_export.export.export_tflite`): a model's
    endpoints with non-default options (``vocoder.export_endpoints(refine=True)``) or endpoints of several models."""

    def __init__(self, endpoints, name: str):
        self._eps, self.name = list(endpoints), name

    def export_endpoints(self):
        return self._eps


def get_endpoints(model) -> list[Endpoint]:
    """The model's ``export_endpoints()`` if it has one, else :func:`default_endpoints`; names checked unique.

    ``export_endpoints()`` may return :class:`Endpoint` objects, ``(name, function, input_signature[, description])``
    tuples or dicts with those keys.

    Example:
        >>> class Step:
        ...     def export_endpoints(self):
        ...         return [("step", lambda x: x, [keras.InputSpec(shape=(1, 4), name="x")])]
        >>> get_endpoints(Step())[0].name
        'step'
    """
    if hasattr(model, "export_endpoints"):
        endpoints = [as_endpoint(e) for e in model.export_endpoints()]
    else:
        endpoints = default_endpoints(model)
    if not endpoints:
        raise ValueError(f"{type(model).__name__}.export_endpoints() returned no endpoint.")
    names = [ep.name for ep in endpoints]
    if len(set(names)) != len(names):
        raise ValueError(f"Endpoint names must be unique, got {names}.")
    return endpoints
