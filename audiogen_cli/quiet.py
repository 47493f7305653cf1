"""Keep TensorFlow's C++ log lines off the terminal of ``audiogen`` commands (``--verbose`` shows them).

``TF_CPP_MIN_LOG_LEVEL`` must be set before TensorFlow is first imported, and even then TensorFlow 2.1x prints
some lines while its shared libraries load, before absl logging is initialised and before the level is read
(``I0000 ... cudart_stub.cc] Could not find cuda drivers``, ``WARNING: All log messages before
absl::InitializeLog() ...``). So, unless ``--verbose`` is given:

- ``TF_CPP_MIN_LOG_LEVEL`` defaults to 3 (a user's own value is kept): no ``oneDNN custom operations`` info, no
  ``E0000 ... cuInit`` error on a machine without a GPU. ``TF_ENABLE_ONEDNN_OPTS`` is left alone (numerics stay);
- the first ``import tensorflow`` (whoever triggers it, lazily) runs with file descriptor 2 sent to a temporary
  file; afterwards every line of it is written back to stderr except C++ log lines below the log level.

Nothing is imported here: commands that never touch TensorFlow do not pay for it.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

QUIET_LEVEL = "3"
ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
# absl / TSL log lines: "I0000 00:00:1796.96   16264 cudart_stub.cc:31] ..." and "2025-09-17 14:44:05.157: I ext/x.cc:32] ..."
_LOG_LINE = re.compile(
    r"^(?:(?P<a>[IWEF])\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: (?P<b>[IWEF]) \S+:\d+\])"
)
_SEVERITY = "IWEF"


def log_level(environ=None) -> int:
    """The effective ``TF_CPP_MIN_LOG_LEVEL`` (0 when unset or not a number)."""
    value = (os.environ if environ is None else environ).get("TF_CPP_MIN_LOG_LEVEL", "0").strip()
    return int(value) if value.isdigit() else 0


def is_hidden(line: str, level: int) -> bool:
    """Whether a stderr line is a TensorFlow C++ log line that ``level`` hides (the absl preamble too)."""
    if level >= 1 and line.strip() == ABSL_PREAMBLE:
        return True
    match = _LOG_LINE.match(line)
    if not match:
        return False
    return _SEVERITY.index(match.group("a") or match.group("b")) < level


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader of ``tensorflow`` with fd 2 captured, then writes back what the level allows."""

    def __init__(self, loader, level: int):
        self.loader = loader
        self.level = level

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile() as captured:
            os.dup2(captured.fileno(), 2)
            try:
                self.loader.exec_module(module)
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)
                captured.seek(0)
                text = captured.read().decode("utf-8", errors="replace")
                kept = [line for line in text.splitlines(keepends=True) if not is_hidden(line, self.level)]
                if kept:
                    sys.stderr.write("".join(kept))
                    sys.stderr.flush()


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Wraps the loader of the first ``import tensorflow``, then steps out of ``sys.meta_path``."""

    def __init__(self, level: int):
        self.level = level

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        remove_finder()
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader, self.level)
        return spec


def remove_finder() -> None:
    """Take the import hook out of ``sys.meta_path`` (a no-op once TensorFlow was imported)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietTensorFlowFinder)]


_VERBOSE = False


def verbose_requested() -> bool:
    """Whether this ``audiogen`` command was given ``--verbose`` (``train`` and ``demo`` then show Keras' own bar)."""
    return _VERBOSE


def quiet_tensorflow(verbose: bool = False) -> None:
    """Silence TensorFlow's C++ logging for this process unless ``verbose``; see the module docstring.

    Call it before anything imports TensorFlow. With ``verbose`` the environment is left as it is.
    """
    global _VERBOSE
    _VERBOSE = bool(verbose)
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", QUIET_LEVEL)
    level = log_level()
    if level == 0 or "tensorflow" in sys.modules or not hasattr(os, "dup2"):
        return
    remove_finder()
    sys.meta_path.insert(0, _QuietTensorFlowFinder(level))
