"""Read PyTorch checkpoints (``torch.save`` files) into NumPy arrays without torch and without running their code.

A ``.pt`` / ``.pth`` / ``.pkl`` file written by ``torch.save`` is a pickle whose tensors refer to raw storages
kept beside it: since torch 1.6 a zip archive (``<name>/data.pkl`` plus ``<name>/data/<key>`` storage files),
before that one stream of several pickles followed by the storages ("legacy" format). A pickle can name any
importable callable and call it (``os.system`` included), so this reader follows the semantics of
``torch.load(weights_only=True)``: the unpickler resolves only an allow-list of globals (tensor and parameter
rebuilding, storage types, ``collections.OrderedDict``, a few builtins), each mapped to a NumPy implementation
of ours, and refuses everything else with :class:`UnsafeCheckpointError` before anything is called.

Tensors come back as C-contiguous ``numpy.ndarray`` (bfloat16 widened to float32); dicts, lists, tuples,
numbers and strings as themselves.

Example (not run here: it needs a checkpoint file):
    state = load_torch_checkpoint("g_02500000")["generator"]   # OrderedDict: key -> numpy array
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile

import numpy as np

__all__ = ["UnsafeCheckpointError", "CheckpointFormatError", "load_torch_checkpoint", "ALLOWED_GLOBALS"]


class UnsafeCheckpointError(pickle.UnpicklingError):
    """The checkpoint's pickle names a global outside the allow-list (it could run code); nothing was run."""


class CheckpointFormatError(ValueError):
    """The file is not a readable ``torch.save`` checkpoint (the message names the file and the problem)."""


# torch storage class name -> little-endian NumPy dtype of its elements
_STORAGE_DTYPES = {
    "DoubleStorage": "<f8",
    "FloatStorage": "<f4",
    "HalfStorage": "<f2",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}


class _StorageType:
    """Stands for a torch storage class (``torch.FloatStorage`` ...): only its element dtype is used."""

    def __init__(self, name):
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


def _as_array(raw: bytes, dtype: str) -> np.ndarray:
    if dtype == "bfloat16":  # NumPy has no bfloat16: the upper 16 bits of a float32
        halves = np.frombuffer(raw, "<u2").astype(np.uint32)
        return (halves << 16).view(np.float32)
    return np.frombuffer(raw, dtype)


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    """``torch._utils._rebuild_tensor_v2`` in NumPy: a strided view of the storage, copied."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if not isinstance(storage, np.ndarray):
        raise pickle.UnpicklingError(f"tensor storage is {type(storage).__name__}, not a storage")
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise pickle.UnpicklingError(f"negative tensor size or stride {size} / {stride}")
    if size and 0 in size:
        return np.zeros(size, storage.dtype)
    last = int(storage_offset) + sum((n - 1) * s for n, s in zip(size, stride))
    if storage_offset < 0 or last >= storage.size:
        raise pickle.UnpicklingError(f"tensor of size {size} / stride {stride} at offset {storage_offset} "
                                     f"runs past its storage of {storage.size} elements")
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[int(storage_offset):], shape=size,
                                           strides=tuple(s * item for s in stride), writeable=False)
    return np.ascontiguousarray(view)


def _rebuild_tensor_v1(storage, storage_offset, size, stride):
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, *_ignored):
    """``torch._utils._rebuild_parameter``: a Parameter is its data here."""
    return data


def _rebuild_from_type_v2(func, new_type, args, state):
    """``torch._tensor._rebuild_from_type_v2`` (tensor subclasses such as Parameter): the rebuilt array."""
    return func(*args)


def _ordered_dict(*args):
    return collections.OrderedDict(*args)


class _TorchSize(tuple):
    """``torch.Size``: a tuple."""


def _device(*args):
    """``torch.device``: its description string."""
    return ":".join(str(a) for a in args)


def _codecs_encode(text, encoding="utf-8"):
    """``_codecs.encode``, which protocol-2 pickles use to store bytes."""
    if encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is not allowed")
    return str(text).encode(encoding)


# (module, name) -> our object. Anything else in a pickle is refused (torch.load(weights_only=True) semantics).
ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): _ordered_dict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor_v1,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch.nn.parameter", "Parameter"): "Parameter",  # only as the new_type argument of _rebuild_from_type_v2
    ("torch", "Tensor"): "Tensor",
    ("torch", "Size"): _TorchSize,
    ("torch", "device"): _device,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
    ("_codecs", "encode"): _codecs_encode,
    **{("torch", name): _StorageType(name) for name in _STORAGE_DTYPES},
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only :data:`ALLOWED_GLOBALS` and reads storages through ``load_storage``."""

    def __init__(self, file, load_storage, source, defer_tensors=False):
        super().__init__(file, encoding="utf-8")
        self._load_storage = load_storage
        self._defer_tensors = defer_tensors
        self._source = source
        self._storages = {}

    def find_class(self, module, name):
        found = ALLOWED_GLOBALS.get((module, name))
        if found is None:
            raise UnsafeCheckpointError(
                f"{self._source}: refused to load: the pickle asks for {module}.{name}, which is not a tensor, "
                "storage or container type (a checkpoint that names other callables can run code; "
                "torch.load(weights_only=True) refuses it too)")
        if self._defer_tensors and found in (_rebuild_tensor, _rebuild_tensor_v1):
            return _defer_tensor
        return found

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise pickle.UnpicklingError(f"{self._source}: unsupported persistent id {pid!r:.80}")
        storage_type, key = pid[1], str(pid[2])
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"{self._source}: storage of unknown type {storage_type!r:.80}")
        if key not in self._storages:
            self._storages[key] = self._load_storage(key, storage_type.dtype)
        storage = self._storages[key]
        if len(pid) > 5 and pid[5] is not None:  # legacy view: (view_key, offset, size)
            _, offset, size = pid[5]
            storage = storage[int(offset): int(offset) + int(size)]
        return storage


def _load_zip(archive: zipfile.ZipFile, source) -> object:
    names = archive.namelist()
    pickles = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if len(pickles) != 1:
        raise CheckpointFormatError(f"{source}: zip archive without exactly one <name>/data.pkl "
                                    f"(found {pickles[:3]}); not a torch.save checkpoint")
    prefix = pickles[0][: -len("data.pkl")]
    byteorder = prefix + "byteorder"
    if byteorder in names and archive.read(byteorder).strip() not in (b"little", b""):
        raise CheckpointFormatError(f"{source}: big-endian checkpoints are not supported")

    def load_storage(key, dtype):
        member = f"{prefix}data/{key}"
        try:
            raw = archive.read(member)
        except KeyError:
            raise CheckpointFormatError(f"{source}: storage {member} is missing from the archive") from None
        return _as_array(raw, dtype)

    with archive.open(pickles[0]) as f:
        return _RestrictedUnpickler(io.BytesIO(f.read()), load_storage, source).load()


_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def _load_legacy(f, source) -> object:
    """The pre-1.6 format: magic, protocol, sys_info, the object, the storage keys, then each storage's bytes."""

    def plain(what):  # the header pickles hold only numbers, strings and dicts of them
        return _RestrictedUnpickler(f, _no_storage, source).load()

    def _no_storage(key, dtype):
        raise pickle.UnpicklingError(f"{source}: storage reference in a checkpoint header")

    if plain("magic") != _LEGACY_MAGIC:
        raise CheckpointFormatError(f"{source}: not a torch.save checkpoint (neither a zip archive nor the "
                                    "legacy format's magic number)")
    plain("protocol")
    sys_info = plain("sys_info")
    if isinstance(sys_info, dict) and not sys_info.get("little_endian", True):
        raise CheckpointFormatError(f"{source}: big-endian checkpoints are not supported")
    pending = {}

    def defer(key, dtype):
        pending[key] = dtype
        return _Deferred(key)

    # storages follow the object in the stream: tensors are rebuilt once they are read
    obj = _RestrictedUnpickler(f, defer, source, defer_tensors=True).load()
    keys = _RestrictedUnpickler(f, _no_storage, source).load()
    storages = {}
    for key in keys:
        (count,) = struct.unpack("<q", f.read(8))
        dtype = pending.get(str(key))
        if dtype is None:
            raise CheckpointFormatError(f"{source}: storage {key} is not referenced by the checkpoint")
        width = 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize
        raw = f.read(count * width)
        if len(raw) != count * width:
            raise CheckpointFormatError(f"{source}: storage {key} is truncated")
        storages[str(key)] = _as_array(raw, dtype)
    return _resolve(obj, storages)


class _Deferred:
    """A legacy-format storage not read yet (its bytes follow the pickle)."""

    def __init__(self, key, offset=0, size=None):
        self.key, self.offset, self.size = key, offset, size

    def __getitem__(self, item):  # legacy views: storage[offset:offset + size]
        return _Deferred(self.key, item.start, item.stop - item.start)


class _DeferredTensor:
    def __init__(self, args):
        self.args = args


def _defer_tensor(*args):
    return _DeferredTensor(args)


def _resolve(obj, storages):
    if isinstance(obj, _DeferredTensor):
        storage, *rest = obj.args
        data = storages[storage.key]
        if storage.size is not None:
            data = data[storage.offset: storage.offset + storage.size]
        return _rebuild_tensor(data, *rest)
    if isinstance(obj, collections.OrderedDict):
        return collections.OrderedDict((k, _resolve(v, storages)) for k, v in obj.items())
    if isinstance(obj, dict):
        return {k: _resolve(v, storages) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_resolve(v, storages) for v in obj]
    if isinstance(obj, tuple) and not isinstance(obj, _TorchSize):
        return tuple(_resolve(v, storages) for v in obj)
    return obj


def load_torch_checkpoint(path_or_file) -> object:
    """Load a ``torch.save`` file as nested dicts / lists with NumPy arrays, running none of its code.

    Args:
        path_or_file: path of a ``.pt`` / ``.pth`` / ``.pkl`` / ``.ckpt`` file (zip or legacy format), or a
            binary file object.

    Returns:
        The saved object, tensors as NumPy arrays (e.g. ``{"generator": OrderedDict(name -> array)}``).

    Raises:
        UnsafeCheckpointError: the pickle names a callable outside the allow-list (e.g. ``os.system``).
        CheckpointFormatError: missing file, not a checkpoint, truncated or big-endian.
    """
    source = path_or_file if isinstance(path_or_file, (str, os.PathLike)) else getattr(path_or_file, "name",
                                                                                        "<file>")
    if isinstance(path_or_file, (str, os.PathLike)):
        if not os.path.isfile(path_or_file):
            raise CheckpointFormatError(f"{source}: no such file")
        with open(path_or_file, "rb") as f:
            return _load_file(f, source)
    return _load_file(path_or_file, source)


def _load_file(f, source):
    start = f.tell()
    head = f.read(4)
    f.seek(start)
    try:
        if head.startswith(b"PK"):
            with zipfile.ZipFile(f) as archive:
                return _load_zip(archive, source)
        return _load_legacy(f, source)
    except (UnsafeCheckpointError, CheckpointFormatError):
        raise
    except (pickle.UnpicklingError, EOFError, zipfile.BadZipFile, struct.error, ValueError, KeyError,
            IndexError, TypeError, AttributeError) as e:
        if isinstance(e, pickle.UnpicklingError) and str(e).startswith(str(source)):
            raise CheckpointFormatError(str(e)) from e
        raise CheckpointFormatError(f"{source}: not a readable torch.save checkpoint "
                                    f"({type(e).__name__}: {e})") from e

