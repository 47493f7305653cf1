"""Copy PyTorch convolution weights (a state dict of NumPy arrays) into this library's Keras conv layers.

Knows layouts, not models: the per-family name mappings live beside each family
(``zoo/<family>/<family>_torch_import.py``) and call :meth:`TorchStateDict.load_conv` once per conv layer.

Layouts handled for each torch conv at ``prefix``:

- weight norm, old hooks: ``prefix.weight_g`` / ``prefix.weight_v``;
- weight norm, parametrizations (torch >= 2.1): ``prefix.parametrizations.weight.original0`` (g) /
  ``original1`` (v);
- spectral norm: ``prefix.weight_orig`` / ``weight_u`` / ``weight_v`` or ``prefix.parametrizations.weight.original``
  / ``parametrizations.weight.0._u`` / ``_v``;
- plain ``prefix.weight``; and ``prefix.bias`` in every case.

Kernel layouts: ``Conv1d`` (out, in/groups, k) -> Keras (k, in/groups, out); ``ConvTranspose1d`` (in, out, k) ->
Keras (k, out, in); ``Conv2d`` (out, in, kh, kw) -> Keras (kh, kw, in, out). torch's weight norm keeps one
``g`` per index of dim 0 (the output channel of a conv, the *input* channel of a transposed conv); this library's
weight-normalized layers keep one per output channel. So a conv's ``v`` and ``g`` are copied as they are, while a
transposed conv's are folded to the kernel and re-split per output channel (same function, a different
parametrization for fine-tuning). Spectral norm is folded with the stored ``u`` and ``v`` (torch's eval-mode
weight ``W / (u . W v)``, with ``|u . W v|``), and ``u`` becomes Keras' ``vector_u``, from which Keras' power
iteration continues in training.

Every key used is recorded; :meth:`TorchStateDict.check` raises :class:`ImportMismatchError` listing the missing
keys, the shape mismatches and the keys left over, so a wrong architecture fails with the list of differences.

Example:
    >>> import keras, numpy as np
    >>> from audiogen_tf.layers.conv import WeightNormConv1D
    >>> layer = WeightNormConv1D(4, 3); _ = layer(np.zeros((1, 5, 2), "float32"))
    >>> sd = TorchStateDict({"c.weight_v": np.ones((4, 2, 3), "float32"), "c.weight_g": np.full((4, 1, 1), 2.0),
    ...                      "c.bias": np.zeros(4, "float32")}, source="ckpt", arch="demo")
    >>> sd.load_conv(layer, "c"); sd.check()
    >>> round(float(np.asarray(layer.kernel)[0, 0, 0]), 4)  # 2 * 1 / sqrt(6)
    0.8165
"""

from __future__ import annotations

import numpy as np

__all__ = ["ImportMismatchError", "TorchStateDict", "fold_weight_norm_torch"]


class ImportMismatchError(ValueError):
    """A checkpoint does not fit the architecture; the message lists every key that did not match.

    Attributes:
        missing: torch keys the architecture needs that the checkpoint lacks.
        mismatched: ``(key, checkpoint_shape, expected_shape)`` triples.
        unexpected: checkpoint keys the architecture does not use.
    """

    def __init__(self, source, arch, missing=(), mismatched=(), unexpected=(), hint=""):
        self.missing, self.mismatched, self.unexpected = list(missing), list(mismatched), list(unexpected)
        lines = [f"{source}: the checkpoint does not match --arch {arch}"]
        for title, items in (("missing keys", self.missing),
                             ("shape mismatches (checkpoint vs architecture)",
                              [f"{k}: {tuple(a)} vs {tuple(b)}" for k, a, b in self.mismatched]),
                             ("unexpected keys", self.unexpected)):
            if items:
                shown = items[:12] + ([f"... and {len(items) - 12} more"] if len(items) > 12 else [])
                lines.append(f"  {len(items)} {title}:")
                lines += [f"    {item}" for item in shown]
        if hint:
            lines.append(f"  {hint}")
        super().__init__("\n".join(lines))


def fold_weight_norm_torch(g, v):
    """torch's ``weight_norm(dim=0)``: ``g * v / ||v||`` with the norm over every axis but 0."""
    v = np.asarray(v, np.float64)
    norm = np.sqrt(np.sum(v * v, axis=tuple(range(1, v.ndim)), keepdims=True))
    return (np.asarray(g, np.float64).reshape((-1,) + (1,) * (v.ndim - 1)) * v / norm).astype(np.float32)


def _to_keras(w, kind):
    """Torch kernel -> Keras kernel for ``kind`` in conv1d / conv1d_transpose / conv2d."""
    if kind == "conv2d":
        return np.transpose(w, (2, 3, 1, 0))
    return np.transpose(w, (2, 1, 0))


class TorchStateDict:
    """A torch state dict (key -> NumPy array) being copied into Keras layers, with bookkeeping of keys.

    Args:
        tensors: mapping of torch parameter names to arrays (``load_torch_checkpoint(...)["generator"]``).
        source: the checkpoint's path, for messages.
        arch: the architecture name asked for, for messages.
    """

    def __init__(self, tensors, source, arch):
        self.tensors = {str(k): v for k, v in tensors.items()}
        self.source, self.arch = str(source), str(arch)
        self.used = set()
        self.missing, self.mismatched = [], []

    def has(self, key):
        return key in self.tensors

    def _take(self, key):
        self.used.add(key)
        return np.asarray(self.tensors[key])

    def take(self, key, shape):
        """The array at ``key`` as float32 if it has ``shape``; else record it as missing / mismatched, return None."""
        if not self.has(key):
            self.missing.append(key)
            return None
        value = self._take(key).astype(np.float32)
        if tuple(value.shape) != tuple(shape):
            self.mismatched.append((key, value.shape, tuple(shape)))
            return None
        return value

    def ignore(self, prefix):
        """Mark every key under ``prefix`` as used (buffers the Keras model recomputes, e.g. windows)."""
        for key in self.tensors:
            if key.startswith(prefix):
                self.used.add(key)

    def weight_layout(self, prefix) -> str:
        """"weight_norm", "spectral_norm", "plain" or "missing" for the conv at ``prefix``."""
        if self.has(f"{prefix}.weight_v") and self.has(f"{prefix}.weight_g"):
            return "weight_norm"
        if self.has(f"{prefix}.parametrizations.weight.original1"):
            return "weight_norm"
        if self.has(f"{prefix}.weight_orig") or self.has(f"{prefix}.parametrizations.weight.original"):
            return "spectral_norm"
        if self.has(f"{prefix}.weight"):
            return "plain"
        return "missing"

    def conv_weights(self, prefix):
        """``{"kernel" (folded, torch layout), "g", "v" (weight norm only), "u" (spectral norm only), "bias"}``."""
        layout = self.weight_layout(prefix)
        out = {}
        if layout == "missing":
            self.missing.append(f"{prefix}.weight (or weight_g/weight_v, parametrizations.weight.*)")
            return None
        if layout == "weight_norm":
            if self.has(f"{prefix}.weight_v"):
                g, v = self._take(f"{prefix}.weight_g"), self._take(f"{prefix}.weight_v")
            else:
                g = self._take(f"{prefix}.parametrizations.weight.original0")
                v = self._take(f"{prefix}.parametrizations.weight.original1")
            if g.size != v.shape[0]:
                self.mismatched.append((f"{prefix} weight_g", g.shape, (v.shape[0],) + (1,) * (v.ndim - 1)))
                return None
            out.update(kernel=fold_weight_norm_torch(g, v), g=g.reshape(-1), v=v)
        elif layout == "spectral_norm":
            if self.has(f"{prefix}.weight_orig"):
                w = self._take(f"{prefix}.weight_orig")
                u, v = self._take(f"{prefix}.weight_u"), self._take(f"{prefix}.weight_v")
            else:
                w = self._take(f"{prefix}.parametrizations.weight.original")
                u = self._take(f"{prefix}.parametrizations.weight.0._u")
                v = self._take(f"{prefix}.parametrizations.weight.0._v")
            mat = w.reshape(w.shape[0], -1).astype(np.float64)
            # |u . W v|: a spectral norm never run in training mode can hold u, v with u . W v < 0; torch's eval
            # pass then flips the layer's sign, its first training pass (power iteration, sigma > 0) does not, nor
            # does Keras' (its power iteration is sign-blind). Trained checkpoints have sigma > 0 either way.
            sigma = abs(float(np.dot(u.astype(np.float64), mat @ v.astype(np.float64))))
            out.update(kernel=(w / sigma).astype(np.float32), u=u.astype(np.float32))
        else:
            out["kernel"] = self._take(f"{prefix}.weight").astype(np.float32)
        if self.has(f"{prefix}.bias"):
            out["bias"] = self._take(f"{prefix}.bias").astype(np.float32)
        return out

    def load_conv(self, layer, prefix, kind=None):
        """Copy the torch conv at ``prefix`` into the Keras conv ``layer`` (weight norm, spectral norm or plain).

        Args:
            layer: a built ``WeightNormConv1D/1DTranspose/2D``, ``keras.layers.SpectralNormalization`` around a
                conv, or a plain ``Conv1D`` / ``Conv1DTranspose`` / ``Conv2D`` / ``PhaseConv1DTranspose``.
            prefix: the torch module path, e.g. ``"resblocks.3.convs1.0"``.
            kind: "conv1d", "conv1d_transpose" or "conv2d" (default: from the layer's class).
        """
        import keras

        from audiogen_tf.layers.conv import PhaseConv1DTranspose, WeightNormConv1DTranspose, _WeightNormMixin

        inner = layer.layer if isinstance(layer, keras.layers.SpectralNormalization) else layer
        if kind is None:
            if isinstance(inner, (keras.layers.Conv1DTranspose, PhaseConv1DTranspose)):
                kind = "conv1d_transpose"
            elif isinstance(inner, keras.layers.Conv2D):
                kind = "conv2d"
            else:
                kind = "conv1d"
        w = self.conv_weights(prefix)
        if w is None:
            return
        kernel = _to_keras(w["kernel"], kind)
        if isinstance(inner, PhaseConv1DTranspose):
            expected = (inner.kernel_size, inner.filters, int(inner.kernel.shape[1]))
        elif isinstance(inner, _WeightNormMixin):
            expected = tuple(inner.v.shape)
        else:
            expected = tuple(inner.kernel.shape)
        if kernel.shape != expected:
            self.mismatched.append((f"{prefix}.weight", w["kernel"].shape, _from_keras_shape(expected, kind)))
            return
        use_bias = getattr(inner, "use_bias", True)
        if use_bias and "bias" not in w:
            self.missing.append(f"{prefix}.bias")
            return
        if not use_bias and "bias" in w:
            self.mismatched.append((f"{prefix}.bias", w["bias"].shape, ()))
            return
        if use_bias and w["bias"].shape != (expected[-2 if kind == "conv1d_transpose" else -1],):
            self.mismatched.append((f"{prefix}.bias", w["bias"].shape, (expected[-2 if kind == "conv1d_transpose"
                                                                                 else -1],)))
            return
        bias = [w["bias"]] if use_bias else []
        if isinstance(inner, _WeightNormMixin):
            if "v" in w and not isinstance(inner, WeightNormConv1DTranspose):
                v, g = _to_keras(w["v"], kind), w["g"]  # same parametrization: copied as is
            else:  # per-output-channel norm of the folded kernel: g * v / ||v|| == kernel
                v = kernel
                axes = tuple(a for a in range(kernel.ndim) if a != (kernel.ndim - 2 if inner._transposed
                                                                     else kernel.ndim - 1))
                g = np.sqrt(np.sum(kernel.astype(np.float64) ** 2, axis=axes)).astype(np.float32)
            inner.v.assign(v)
            inner.g.assign(g)
            if use_bias:
                inner.bias.assign(bias[0])
        elif isinstance(inner, PhaseConv1DTranspose):
            inner.set_transpose_weights(kernel, *bias)
        else:
            inner.set_weights([kernel] + bias)
        if isinstance(layer, keras.layers.SpectralNormalization) and "u" in w:
            layer.vector_u.assign(w["u"].reshape(1, -1))

    def check(self, hint=""):
        """Raise :class:`ImportMismatchError` if a key was missing, mismatched or left unused."""
        unexpected = sorted(k for k in self.tensors if k not in self.used)
        if self.missing or self.mismatched or unexpected:
            raise ImportMismatchError(self.source, self.arch, self.missing, self.mismatched, unexpected, hint)


def _from_keras_shape(shape, kind):
    """A Keras kernel shape written in the torch layout (for messages)."""
    if kind == "conv2d":
        kh, kw, cin, cout = shape
        return (cout, cin, kh, kw)
    return tuple(reversed(shape))
