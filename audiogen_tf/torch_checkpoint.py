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

What a hostile file can make the reader allocate is bounded before anything is allocated
(:class:`CheckpointLimitError`): each storage's declared size must equal the archive member or the bytes the
file really holds; a zip member inflating more than ``MAX_INFLATE_RATIO`` times is refused unread; a tensor view
that repeats its storage's elements (stride 0, overlapping strides) may not materialise more than its storage;
pickle memo indexes and the nesting of containers are bounded; and storages plus tensors together stay under
``max_bytes`` (default :data:`MAX_BYTES`).

Example (not run here: it needs a checkpoint file):
    state = load_torch_checkpoint("g_02500000")["generator"]   # OrderedDict: key -> numpy array
"""

from __future__ import annotations

import collections
import functools
import io
import os
import pickle
import pickletools
import struct
import zipfile

import numpy as np

__all__ = ["UnsafeCheckpointError", "CheckpointFormatError", "CheckpointLimitError", "load_torch_checkpoint",
           "ALLOWED_GLOBALS", "MAX_BYTES"]

MAX_BYTES = 4 << 30  # storages + rebuilt tensors of one checkpoint (HiFi-GAN's largest file, do_*, is ~0.9 GiB)
MAX_INFLATE_RATIO = 100  # torch.save stores members uncompressed; re-zipped float data compresses ~1.1x
MAX_DEPTH = 100  # nesting of dicts / lists / tuples (a state dict is 2-4 deep)
MAX_DIMS = 64
_SMALL = 1 << 20  # below this, a member's ratio or a view's repetition is not worth refusing


class UnsafeCheckpointError(pickle.UnpicklingError):
    """The checkpoint's pickle names a global outside the allow-list (it could run code); nothing was run."""


class CheckpointFormatError(ValueError):
    """The file is not a readable ``torch.save`` checkpoint (the message names the file and the problem)."""


class CheckpointLimitError(CheckpointFormatError):
    """The checkpoint declares more than it holds or more than the memory cap allows; refused before allocating."""


def _gib(n: int) -> str:
    return f"{n / 2**30:.3g} GiB" if n >= 2**30 else f"{n / 2**20:.3g} MiB" if n >= 2**20 else f"{n} bytes"


class _Budget:
    """What one load may still allocate; every storage and rebuilt tensor takes its bytes from it first."""

    def __init__(self, source, max_bytes):
        self.source, self.max_bytes, self.left = source, int(max_bytes), int(max_bytes)

    def take(self, nbytes: int, what: str):
        if nbytes > self.left:
            raise CheckpointLimitError(
                f"{self.source}: refused: {what} needs {_gib(nbytes)}, over the import's memory cap of "
                f"{_gib(self.max_bytes)} ({_gib(self.max_bytes - self.left)} already taken)")
        self.left -= nbytes


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


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored, budget=None):
    """``torch._utils._rebuild_tensor_v2`` in NumPy: a strided view of the storage, copied (within ``budget``)."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if not isinstance(storage, np.ndarray):
        raise pickle.UnpicklingError(f"tensor storage is {type(storage).__name__}, not a storage")
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise pickle.UnpicklingError(f"negative tensor size or stride {size} / {stride}")
    if len(size) != len(stride) or len(size) > MAX_DIMS:
        raise pickle.UnpicklingError(f"tensor size {size:.80} and stride {stride:.80} do not fit together")
    if size and 0 in size:
        return np.zeros(size, storage.dtype)
    numel = int(np.prod(size, dtype=object)) if size else 1
    nbytes = numel * storage.itemsize
    if numel > storage.size and nbytes > _SMALL:
        source = budget.source if budget is not None else "checkpoint"
        raise CheckpointLimitError(
            f"{source}: refused: a tensor of size {size} with stride {stride} repeats the {storage.size} "
            f"elements of its storage and would take {_gib(nbytes)}")
    if budget is not None:
        budget.take(nbytes, f"a tensor of size {size}")
    last = int(storage_offset) + sum((n - 1) * s for n, s in zip(size, stride))
    if storage_offset < 0 or last >= storage.size:
        raise pickle.UnpicklingError(f"tensor of size {size} / stride {stride} at offset {storage_offset} "
                                     f"runs past its storage of {storage.size} elements")
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[int(storage_offset):], shape=size,
                                           strides=tuple(s * item for s in stride), writeable=False)
    return np.ascontiguousarray(view)


def _rebuild_tensor_v1(storage, storage_offset, size, stride, budget=None):
    return _rebuild_tensor(storage, storage_offset, size, stride, budget=budget)


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

    def __init__(self, file, load_storage, source, defer_tensors=False, budget=None):
        super().__init__(file, encoding="utf-8")
        self._load_storage = load_storage
        self._defer_tensors = defer_tensors
        self._source = source
        self._budget = budget
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
        if found in (_rebuild_tensor, _rebuild_tensor_v1):
            return functools.partial(found, budget=self._budget)
        return found

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise pickle.UnpicklingError(f"{self._source}: unsupported persistent id {pid!r:.80}")
        storage_type, key = pid[1], str(pid[2])
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"{self._source}: storage of unknown type {storage_type!r:.80}")
        if key not in self._storages:
            numel = pid[4] if len(pid) > 4 and isinstance(pid[4], int) else None
            self._storages[key] = self._load_storage(key, storage_type.dtype, numel)
        storage = self._storages[key]
        if len(pid) > 5 and pid[5] is not None:  # legacy view: (view_key, offset, size)
            _, offset, size = pid[5]
            storage = storage[int(offset): int(offset) + int(size)]
        return storage


def _width(dtype) -> int:
    return 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize


def _check_pickle(f, source):
    """Scan the pickle at ``f``'s position (then seek back) and refuse memo indexes beyond the bytes read so
    far: the C unpickler grows its memo to the index given (16 bytes asking for index 2^27 allocate 2 GiB)."""
    start = f.tell()
    try:
        for op, arg, pos in pickletools.genops(f):
            if op.name in ("PUT", "BINPUT", "LONG_BINPUT") and int(arg) > pos - start:
                raise CheckpointLimitError(f"{source}: refused: the pickle stores object {arg} in its memo, "
                                           f"more objects than its {pos - start} bytes so far can hold")
    except CheckpointFormatError:
        raise
    except (ValueError, TypeError) as e:  # pickletools' own complaints: a malformed stream
        raise CheckpointFormatError(f"{source}: not a readable torch.save checkpoint (pickle: {e})") from e
    f.seek(start)


def _check_depth(obj, source, limit=MAX_DEPTH):
    """Refuse containers nested deeper than ``limit``, walking without recursion."""
    todo = [(obj, 1)]
    seen = set()
    while todo:
        item, depth = todo.pop()
        if not isinstance(item, (dict, list, tuple)) or id(item) in seen:
            continue
        if depth > limit:
            raise CheckpointLimitError(f"{source}: refused: containers nested deeper than {limit} levels "
                                       "(a state dict is a few levels deep)")
        seen.add(id(item))
        children = list(item.keys()) + list(item.values()) if isinstance(item, dict) else item
        todo.extend((child, depth + 1) for child in children)


def _read_member(archive, info, source, budget, what) -> bytes:
    """A zip member's bytes, after checking its inflated size against its compressed size and the budget."""
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > _SMALL \
            and info.file_size > MAX_INFLATE_RATIO * max(info.compress_size, 1):
        raise CheckpointLimitError(
            f"{source}: refused: {info.filename} inflates from {_gib(info.compress_size)} to "
            f"{_gib(info.file_size)} ({info.file_size // max(info.compress_size, 1)}x; a zip bomb?)")
    budget.take(info.file_size, what)
    with archive.open(info) as f:  # reads at most info.file_size bytes
        return f.read(info.file_size)


def _load_zip(archive: zipfile.ZipFile, source, budget) -> object:
    names = archive.namelist()
    pickles = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if len(pickles) != 1:
        raise CheckpointFormatError(f"{source}: zip archive without exactly one <name>/data.pkl "
                                    f"(found {pickles[:3]}); not a torch.save checkpoint")
    prefix = pickles[0][: -len("data.pkl")]
    byteorder = prefix + "byteorder"
    if byteorder in names and archive.read(byteorder).strip() not in (b"little", b""):
        raise CheckpointFormatError(f"{source}: big-endian checkpoints are not supported")

    def load_storage(key, dtype, numel=None):
        member = f"{prefix}data/{key}"
        try:
            info = archive.getinfo(member)
        except KeyError:
            raise CheckpointFormatError(f"{source}: storage {member} is missing from the archive") from None
        if numel is not None and numel * _width(dtype) != info.file_size:
            raise CheckpointLimitError(f"{source}: refused: storage {member} declares {numel} elements "
                                       f"({_gib(numel * _width(dtype))}) but the archive holds {_gib(info.file_size)}")
        return _as_array(_read_member(archive, info, source, budget, f"storage {member}"), dtype)

    data = io.BytesIO(_read_member(archive, archive.getinfo(pickles[0]), source, budget, pickles[0]))
    _check_pickle(data, source)
    obj = _RestrictedUnpickler(data, load_storage, source, budget=budget).load()
    _check_depth(obj, source)
    return obj


_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def _load_legacy(f, source, budget) -> object:
    """The pre-1.6 format: magic, protocol, sys_info, the object, the storage keys, then each storage's bytes."""

    def plain(what):  # the header pickles hold only numbers, strings and dicts of them
        _check_pickle(f, source)
        return _RestrictedUnpickler(f, _no_storage, source).load()

    def _no_storage(key, dtype):
        raise pickle.UnpicklingError(f"{source}: storage reference in a checkpoint header")

    here = f.tell()
    end = f.seek(0, io.SEEK_END)
    f.seek(here)
    if plain("magic") != _LEGACY_MAGIC:
        raise CheckpointFormatError(f"{source}: not a torch.save checkpoint (neither a zip archive nor the "
                                    "legacy format's magic number)")
    plain("protocol")
    sys_info = plain("sys_info")
    if isinstance(sys_info, dict) and not sys_info.get("little_endian", True):
        raise CheckpointFormatError(f"{source}: big-endian checkpoints are not supported")
    pending = {}

    def defer(key, dtype, numel=None):
        pending[key] = dtype
        return _Deferred(key)

    # storages follow the object in the stream: tensors are rebuilt once they are read
    _check_pickle(f, source)
    obj = _RestrictedUnpickler(f, defer, source, defer_tensors=True).load()
    _check_depth(obj, source)
    keys = plain("storage keys")
    if not isinstance(keys, (list, tuple)):
        raise CheckpointFormatError(f"{source}: the storage key list is a {type(keys).__name__}")
    storages = {}
    for key in keys:
        (count,) = struct.unpack("<q", f.read(8))
        dtype = pending.get(str(key))
        if dtype is None:
            raise CheckpointFormatError(f"{source}: storage {key} is not referenced by the checkpoint")
        nbytes = count * _width(dtype)
        if count < 0 or nbytes > end - f.tell():
            raise CheckpointLimitError(f"{source}: refused: storage {key} declares {count} elements "
                                       f"({_gib(nbytes)}) but the file holds {_gib(end - f.tell())} after it")
        budget.take(nbytes, f"storage {key}")
        storages[str(key)] = _as_array(f.read(nbytes), dtype)
    return _resolve(obj, storages, budget)


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


def _resolve(obj, storages, budget):
    if isinstance(obj, _DeferredTensor):
        storage, *rest = obj.args
        data = storages[storage.key]
        if storage.size is not None:
            data = data[storage.offset: storage.offset + storage.size]
        return _rebuild_tensor(data, *rest, budget=budget)
    if isinstance(obj, collections.OrderedDict):
        return collections.OrderedDict((k, _resolve(v, storages, budget)) for k, v in obj.items())
    if isinstance(obj, dict):
        return {k: _resolve(v, storages, budget) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_resolve(v, storages, budget) for v in obj]
    if isinstance(obj, tuple) and not isinstance(obj, _TorchSize):
        return tuple(_resolve(v, storages, budget) for v in obj)
    return obj


def load_torch_checkpoint(path_or_file, max_bytes: int = MAX_BYTES) -> object:
    """Load a ``torch.save`` file as nested dicts / lists with NumPy arrays, running none of its code.

    Args:
        path_or_file: path of a ``.pt`` / ``.pth`` / ``.pkl`` / ``.ckpt`` file (zip or legacy format), or a
            binary file object.
        max_bytes: cap on the storages and tensors it may allocate in all.

    Returns:
        The saved object, tensors as NumPy arrays (e.g. ``{"generator": OrderedDict(name -> array)}``).

    Raises:
        UnsafeCheckpointError: the pickle names a callable outside the allow-list (e.g. ``os.system``).
        CheckpointFormatError: missing file, not a checkpoint, truncated or big-endian.
        CheckpointLimitError: sizes, strides, nesting or inflation beyond the file's real content or ``max_bytes``.
    """
    source = path_or_file if isinstance(path_or_file, (str, os.PathLike)) else getattr(path_or_file, "name",
                                                                                        "<file>")
    if isinstance(path_or_file, (str, os.PathLike)):
        if not os.path.isfile(path_or_file):
            raise CheckpointFormatError(f"{source}: no such file")
        with open(path_or_file, "rb") as f:
            return _load_file(f, source, max_bytes)
    return _load_file(path_or_file, source, max_bytes)


def _load_file(f, source, max_bytes=MAX_BYTES):
    start = f.tell()
    head = f.read(4)
    f.seek(start)
    try:
        budget = _Budget(source, max_bytes)
        if head.startswith(b"PK"):
            with zipfile.ZipFile(f) as archive:
                return _load_zip(archive, source, budget)
        return _load_legacy(f, source, budget)
    except (UnsafeCheckpointError, CheckpointFormatError):
        raise
    except (pickle.UnpicklingError, EOFError, zipfile.BadZipFile, struct.error, ValueError, KeyError,
            IndexError, TypeError, AttributeError) as e:
        if isinstance(e, pickle.UnpicklingError) and str(e).startswith(str(source)):
            raise CheckpointFormatError(str(e)) from e
        raise CheckpointFormatError(f"{source}: not a readable torch.save checkpoint "
                                    f"({type(e).__name__}: {e})") from e
    except (MemoryError, RecursionError, OverflowError) as e:  # a bound above was not enough: still one line
        what = "memory" if isinstance(e, MemoryError) else "a limit"
        raise CheckpointLimitError(f"{source}: refused: reading it exhausted {what} ({type(e).__name__})") from e

