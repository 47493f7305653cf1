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


#: temporary files are named ``.tmp-<pid>-<random><suffix>``: the writer's process id tells a leftover of a killed
#: process (removed by the next writer in that folder, :func:`remove_stale_temporaries`) from one being written
TMP_PREFIX = ".tmp-"
#: a leftover is removed only when its process is gone and it is older than this (seconds): a process of another
#: PID namespace (a container) writing to the same folder is not mistaken for a dead one while it writes
STALE_SECONDS = 60.0
_SWEPT: set = set()  # folders this process has already swept of leftovers


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (on this machine's process table)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except OSError:
        return False
    return True


def remove_stale_temporaries(folder, min_age: float = STALE_SECONDS) -> list[str]:
    """Delete ``.tmp-<pid>-*`` files in ``folder`` left by a process that no longer runs (killed by SIGKILL or a
    power cut: no handler ran); returns their paths. Errors (a read-only folder) are ignored."""
    import re
    import time

    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    now = time.time()
    for name in names:
        m = re.match(re.escape(TMP_PREFIX) + r"(\d+)-", name)
        if not m or pid_alive(int(m.group(1))):
            continue
        full = os.path.join(folder, name)
        try:
            if os.path.isfile(full) and not os.path.islink(full) and now - os.path.getmtime(full) >= min_age:
                os.remove(full)
                removed.append(full)
        except OSError:
            pass
    return removed


@contextlib.contextmanager
def atomic_path(path, suffix: str | None = None):
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``, on error deleted.

    The temporary file is ``.tmp-<pid>-XXXX<suffix>``; leftovers of dead processes in the folder are removed at the
    first write there.
    Errors name ``path``, never the temporary file (also when the folder cannot be written).

    Args:
        path: the final file.
        suffix: the temporary file's ending (default: that of ``path``, so writers that infer the
            format from the name, like soundfile or matplotlib, still work).
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        try:
            os.makedirs(folder, exist_ok=True)
            if folder not in _SWEPT:  # once per folder and process: a builder writes thousands of files into one
                _SWEPT.add(folder)
                remove_stale_temporaries(folder)
            fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-",
                                       suffix=os.path.splitext(path)[1] if suffix is None else suffix, dir=folder)
            os.close(fd)
            yield tmp
            os.chmod(tmp, _umask_mode())
            os.replace(tmp, path)
        except OSError as err:  # name the file the caller asked for, not the temporary one
            if (err.filename is None or err.filename == tmp or os.path.basename(str(err.filename)).startswith(
                    TMP_PREFIX)) and err.errno is not None:
                raise OSError(err.errno, err.strerror or str(err), path) from err
            raise
    finally:
        if tmp is not None and os.path.exists(tmp):
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


def _same_file(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` name one file (also through links, or when one does not exist yet)."""
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def refuse_own_input(path, inputs=()) -> None:
    """Refuse an output ``path`` that is one of the command's own ``inputs`` (by path, link or inode).

    No ``--force`` allows this: writing the output would destroy the input it is made from.

    Raises:
        InputOverwriteError: ``path`` is the same file as one of ``inputs``.

    Example:
        >>> refuse_own_input("/tmp/a.wav", ["/tmp/b.txt"])  # different files: nothing happens
    """
    from audiogen_tf.errors import InputOverwriteError

    path = os.fspath(path)
    for src in inputs:
        if src is None or src == "-":
            continue
        src = os.fspath(src)
        if _same_file(path, src):
            raise InputOverwriteError(path, src)


def keep_or_replace(path, force: bool = False, what: str = "file", inputs=()) -> str | None:
    """Guard a writer that would replace ``path``: refuse unless ``force``, and keep a ``.bak`` copy when forced.

    This is the one overwrite policy of every writer (``say``, ``import``, ``export``, ``data``, ...).

    Args:
        path: the file (or folder) about to be written.
        force: replace an existing one (``--force``).
        what: the word used in the error message.
        inputs: the command's input files; ``path`` being one of them is refused even with ``force``
            (see :func:`refuse_own_input`).

    Returns:
        the ``.bak`` path when an existing file was kept, else ``None``.

    Raises:
        OverwriteError: ``path`` exists and ``force`` is false.
        InputOverwriteError: ``path`` is one of ``inputs``.

    Example:
        >>> import os, tempfile
        >>> p = os.path.join(tempfile.mkdtemp(), "m.csv"); _ = atomic_write_text(p, "path\\n")
        >>> keep_or_replace(p)  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        audiogen_tf.errors.OverwriteError: .../m.csv: file exists; pass --force to replace it (...)
        >>> keep_or_replace(p, force=True).endswith("m.csv.bak")
        True
    """
    import shutil

    from audiogen_tf.errors import OverwriteError

    path = os.fspath(path)
    refuse_own_input(path, inputs)
    if not os.path.lexists(path):
        return None
    if not force:
        raise OverwriteError(path, what)
    backup = path.rstrip(os.sep) + ".bak"
    if os.path.isdir(backup) and not os.path.islink(backup):
        shutil.rmtree(backup)
    elif os.path.lexists(backup):
        os.remove(backup)
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.copytree(path, backup, symlinks=True)
    else:
        shutil.copy2(path, backup)
    return backup


class Terminated(KeyboardInterrupt):
    """SIGTERM raised as an exception (a ``KeyboardInterrupt``, like Ctrl-C): ``finally`` blocks run, so atomic
    writers delete their temporary files and code that stops cleanly on Ctrl-C also stops cleanly on SIGTERM."""


@contextlib.contextmanager
def sigterm_as_exception():
    """While inside, SIGTERM raises :class:`Terminated` instead of killing the process at once (which would leave
    ``.tmp-*`` files). Does nothing outside the main thread or when a SIGTERM handler is already installed.

    Example:
        >>> with sigterm_as_exception():
        ...     pass
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None):
        yield
        return

    def handler(signum, frame):
        raise Terminated(f"terminated by signal {signum}")

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def write_failure_reason(path) -> str:
    """Why writing ``path`` probably failed, for libraries (libsndfile) that report only "System error": the free
    space of its file system and the process's file-size limit (``ulimit -f``)."""
    import resource

    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    reasons = []
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
        if soft != resource.RLIM_INFINITY:
            reasons.append(f"file size limit (ulimit -f) of {soft} bytes")
    except (OSError, ValueError):
        pass
    try:
        st = os.statvfs(folder)
        free = st.f_bavail * st.f_frsize
        if free < (16 << 20):
            reasons.insert(0, f"no space left: {free} bytes free in {folder}")
    except OSError:
        pass
    return " or ".join(reasons) if reasons else "the write failed (disk full, quota or I/O error)"
