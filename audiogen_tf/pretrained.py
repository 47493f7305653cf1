"""Shipped weights: float16 ``.npz`` files inside the packages, checked by sha256 before a single byte is used.

A family ships a trained preset by adding ``"weights": {"file": NAME.npz, "sha256": HEX}`` to the preset dict; the
file lives beside the preset module (package data) with a model card ``NAME.md`` (command that reproduces it, data,
steps, minutes, held-out metrics, parameter count, sha256). ``PresetMixin.from_preset`` builds the model and calls
:func:`load_weights`, offline. The arrays are stored in ``model.weights`` order under their variable paths, in
float16 (half the bytes; the loss is measured on the model card), and read with ``allow_pickle=False``.

Example:
    >>> import keras, numpy as np, os, tempfile
    >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "w.npz")
    >>> digest = save_weights(m, path)
    >>> load_weights(m, path, digest) == len(m.weights)
    True
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

from audiogen_tf.errors import FileProblemError


class WeightsFileError(FileProblemError):
    """A shipped weight file is missing, truncated, altered (sha256 mismatch) or does not fit the model.

    ``problem``: ``missing``, ``checksum_mismatch``, ``corrupt``, ``wrong_weights``.
    """


def sha256_of(path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_weights(model, path, dtype: str = "float16") -> str:
    """Write ``model.weights`` as a ``.npz`` of ``dtype`` arrays (atomic, byte-reproducible); returns its sha256."""
    from audiogen_tf.atomic import atomic_path

    import io
    import zipfile

    arrays = {f"{i:04d}:{w.path}": np.asarray(w.numpy()).astype(dtype) for i, w in enumerate(model.weights)}
    with atomic_path(path, suffix=".npz") as tmp:
        # np.savez_compressed stamps each member with the current time; a fixed stamp makes the same weights the
        # same bytes (and sha256), so re-running the export of a shipped file does not change it.
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, array in arrays.items():
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, array, allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, buffer.getvalue())
    return sha256_of(path)


def load_weights(model, path, sha256: str) -> int:
    """Check ``path``'s sha256, then set ``model``'s weights from it (cast to each variable's dtype).

    Raises:
        WeightsFileError: naming the file: missing, a checksum that differs (truncated or altered), an unreadable
            archive, or arrays whose count, names or shapes do not fit the model.

    Returns:
        the number of weight tensors set.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise WeightsFileError(path, "missing", "the shipped weight file is not there; reinstall the package")
    got = sha256_of(path)
    if got != sha256:
        size = os.path.getsize(path)
        raise WeightsFileError(path, "checksum_mismatch",
                               f"sha256 {got[:16]}... of {size} bytes, expected {sha256[:16]}...: the file is "
                               f"truncated or altered; reinstall the package")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as err:  # zipfile.BadZipFile, ValueError, OSError
        raise WeightsFileError(path, "corrupt", f"{type(err).__name__}: {err}") from err
    names = sorted(arrays)
    variables = list(model.weights)
    if len(names) != len(variables):
        raise WeightsFileError(path, "wrong_weights", f"{len(names)} arrays for a model with {len(variables)} weights")
    problems = []
    for name, var in zip(names, variables):
        if tuple(arrays[name].shape) != tuple(var.shape):
            problems.append(f"{name}: shape {arrays[name].shape}, the model's {var.path} is {tuple(var.shape)}")
    if problems:
        raise WeightsFileError(path, "wrong_weights", "; ".join(problems[:5]))
    for name, var in zip(names, variables):
        var.assign(arrays[name].astype(var.dtype))
    return len(variables)


def packaged_file(module_name: str, filename: str) -> str:
    """Path of ``filename`` beside the module ``module_name`` (package data of a zoo family)."""
    import importlib

    module = importlib.import_module(module_name)
    return os.path.join(os.path.dirname(os.path.abspath(module.__file__)), filename)
