"""Atomic file writes: data go to a temporary file in the target's folder, renamed over it once complete.

A crash or an exception midway leaves the old file (or no file), never a half-written one.

Example:
    >>> import os, tempfile
    >>> from audiogen_tf.atomic import atomic_path, atomic_write_text
    >>> folder = tempfile.mkdtemp()
    >>> with atomic_path(os.path.join(folder, "a.txt")) as tmp:
    ...     _ = open(tmp, "w").write("hello")
    >>> open(os.path.join(folder, "a.txt")).read()
    'hello'
"""

from __future__ import annotations

import contextlib
import os
import tempfile


def _umask_mode() -> int:
    """The mode a plainly created file would get (``mkstemp`` alone would give 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_path(path, suffix: str | None = None):
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``, on error deleted.

    Args:
        path: the final file.
        suffix: the temporary file's ending (default: that of ``path``, so writers that infer the
            format from the name, like soundfile or matplotlib, still work).
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1] if suffix is None else suffix, dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_write_text(path, text: str) -> str:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns ``path``."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return os.fspath(path)


def atomic_write_bytes(path, data: bytes) -> str:
    """Write ``data`` to ``path`` atomically; returns ``path``."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
    return os.fspath(path)
