"""Hostile ``torch.save`` files for the import's bounds (issue 41, case 7), written by hand: no torch needed.

Each writer makes a small file that, read naively, allocates gigabytes or recurses without end. The
pickles are assembled from opcodes so that they can name torch's globals without torch being installed.
"""

from __future__ import annotations

import struct
import zipfile
import zlib

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class Tensor:
    """A float32 tensor to pickle as ``_rebuild_tensor_v2(storage, offset, size, stride, ...)``."""

    def __init__(self, key, numel, size, stride, offset=0):
        self.key, self.numel, self.size, self.stride, self.offset = key, numel, size, stride, offset


def _str(s: str) -> bytes:
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def _int(n: int) -> bytes:
    if 0 <= n < 256:
        return b"K" + bytes([n])
    if -2**31 <= n < 2**31:
        return b"J" + struct.pack("<i", n)
    raw = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw  # LONG1


def _ops(obj, legacy=False) -> bytes:
    if isinstance(obj, Tensor):
        pid = [_str("storage"), b"ctorch\nFloatStorage\n", _str(obj.key), _str("cpu"), _int(obj.numel)]
        if legacy:
            pid.append(b"N")
        return (b"ctorch._utils\n_rebuild_tensor_v2\n(" + b"(" + b"".join(pid) + b"tQ" + _int(obj.offset)
                + b"(" + b"".join(_int(n) for n in obj.size) + b"t"
                + b"(" + b"".join(_int(n) for n in obj.stride) + b"t"
                + b"\x89" + b"ccollections\nOrderedDict\n)R" + b"tR")
    if isinstance(obj, dict):
        return b"}(" + b"".join(_ops(k, legacy) + _ops(v, legacy) for k, v in obj.items()) + b"u"
    if isinstance(obj, list):
        return b"](" + b"".join(_ops(v, legacy) for v in obj) + b"e"
    if isinstance(obj, str):
        return _str(obj)
    if isinstance(obj, int):
        return _int(obj)
    raise TypeError(type(obj))


def pickle_bytes(obj, legacy=False) -> bytes:
    """A protocol-2 pickle of dicts, lists, str, int and :class:`Tensor` (torch's persistent-id layout)."""
    return b"\x80\x02" + _ops(obj, legacy) + b"."


def _zip(path, members):
    """Write a zip of ``(name, stored_or_deflated_bytes, method, crc, size)`` members (no zip64)."""
    out, central = bytearray(), bytearray()
    for name, data, method, crc, size in members:
        n = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size, len(n), 0)
        out += n + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(data),
                               size, len(n), 0, 0, 0, 0, 0, offset) + n
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    with open(path, "wb") as f:
        f.write(bytes(out) + bytes(central) + eocd)
    return str(path)


def _stored(name, data):
    return name, data, zipfile.ZIP_STORED, zlib.crc32(data), len(data)


def write_stride0_zip(path, n=20000):
    """A ~540-byte zip: a (n, n) float32 tensor rebuilt with stride (0, 0) from a 4-element storage."""
    pkl = pickle_bytes({"generator": {"conv_pre.weight": Tensor("0", 4, (n, n), (0, 0))}})
    return _zip(path, [_stored("archive/data.pkl", pkl), _stored("archive/data/0", bytes(16)),
                       _stored("archive/version", b"3\n")])


def write_zip_bomb(path, gib=1.5):
    """A ~1.5 MB zip whose storage member inflates to ``gib`` GiB of zeros (declared honestly in the pickle)."""
    numel = int(gib * 2**30) // 4
    chunk = 1 << 20
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(bytes(chunk)) + comp.flush(zlib.Z_FULL_FLUSH)  # self-contained, byte-aligned
    count = numel * 4 // chunk
    data = block * count + zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # + an empty final block
    crc = 0
    zeros = bytes(chunk)
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    pkl = pickle_bytes({"generator": {"conv_pre.weight": Tensor("0", numel, (numel,), (1,))}})
    return _zip(path, [_stored("archive/data.pkl", pkl), ("archive/data/0", data, zipfile.ZIP_DEFLATED, crc,
                                                           count * chunk), _stored("archive/version", b"3\n")])


def write_legacy_huge(path, numel=2**60):
    """A legacy-format file whose one storage claims ``numel`` float32 elements and holds 16 bytes."""
    head = b"".join(pickle_bytes(x) for x in (LEGACY_MAGIC, 1001, {"little_endian": 1}))
    body = pickle_bytes({"generator": {"w": Tensor("0", numel, (numel,), (1,))}}, legacy=True)
    keys = pickle_bytes(["0"])
    with open(path, "wb") as f:
        f.write(head + body + keys + struct.pack("<q", numel) + bytes(16))
    return str(path)


def write_deep_nesting(path, depth=200_000):
    """A legacy-format file whose object is ``depth`` nested lists (a few hundred kB)."""
    head = b"".join(pickle_bytes(x) for x in (LEGACY_MAGIC, 1001, {"little_endian": 1}))
    body = b"\x80\x02}" + _str("generator") + b"]" * depth + b"a" * (depth - 1) + b"s."
    with open(path, "wb") as f:
        f.write(head + body + pickle_bytes([]))
    return str(path)
