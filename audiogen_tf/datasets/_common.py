"""Helpers shared by the dataset builders: deterministic splits, tool checks, build stamps."""

from __future__ import annotations

import json
import os
import shutil
import zlib

from audiogen_tf.errors import MissingToolError
from audiogen_tf.atomic import atomic_write_text
from audiogen_tf.manifest import read_manifest


def split_of(key: str, valid: float = 0.1, test: float = 0.1) -> str:
    """Deterministic ``train``/``valid``/``test`` split from a stable hash (CRC-32) of ``key``."""
    u = (zlib.crc32(key.encode("utf-8")) % 10000) / 10000.0
    if u < test:
        return "test"
    if u < test + valid:
        return "valid"
    return "train"


def require_tool(tool: str, debian_packages: str) -> str:
    """Full path of ``tool`` on ``PATH``, or :class:`MissingToolError` naming the Debian packages."""
    found = shutil.which(tool)
    if found is None:
        raise MissingToolError(tool, debian_packages)
    return found


def progress_bar(iterable, enabled: bool, total: int | None = None, desc: str = ""):
    """``tqdm`` over ``iterable`` when ``enabled``, else the iterable itself."""
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False)


STAMP_NAME = "build_config.json"


def is_complete(out_dir: str, config: dict, manifest_name: str = "manifest.csv") -> bool:
    """True when ``out_dir`` holds a build with the same ``config`` whose manifest files all exist."""
    stamp = os.path.join(out_dir, STAMP_NAME)
    manifest_path = os.path.join(out_dir, manifest_name)
    if not (os.path.isfile(stamp) and os.path.isfile(manifest_path)):
        return False
    try:
        with open(stamp, encoding="utf-8") as f:
            if json.load(f) != json.loads(json.dumps(config)):
                return False
        entries = read_manifest(manifest_path)
    except (ValueError, OSError):
        return False
    return bool(entries) and all(os.path.isfile(e["path"]) for e in entries)


def write_stamp(out_dir: str, config: dict) -> None:
    """Record the ``config`` of a finished build (written last, atomically)."""
    atomic_write_text(os.path.join(out_dir, STAMP_NAME), json.dumps(config, indent=1, sort_keys=True) + "\n")


def read_stamp(out_dir: str) -> dict | None:
    """The config of the build in ``out_dir``, or ``None``."""
    try:
        with open(os.path.join(out_dir, STAMP_NAME), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
