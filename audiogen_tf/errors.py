"""Error types of audiogen-tf: one per kind of failure, each naming what went wrong and where."""

from __future__ import annotations


class FileProblemError(ValueError):
    """A file could not be used; the message names the file and the problem.

    Attributes:
        path: the file path as given.
        problem: a short machine-readable key (see the subclasses).
        detail: free text from the underlying library, if any.
    """

    def __init__(self, path, problem: str, detail: str = ""):
        self.path = str(path)
        self.problem = problem
        self.detail = detail
        text = f"{self.path}: {problem.replace('_', ' ')}"
        if detail:
            text += f" ({detail})"
        super().__init__(text)


class AudioFileError(FileProblemError):
    """A single audio file could not be used: it is missing, corrupt, empty, non-finite, too long,
    at the wrong rate or of an unsupported format.

    The message always names the file and the problem, e.g.
    ``AudioFileError: /data/a.wav: corrupt or truncated (Error opening ...: File contains data in an unknown format)``.

    Attributes:
        path: the file path as given.
        problem: a short machine-readable key: ``missing``, ``corrupt``, ``empty``, ``non_finite``,
            ``too_long``, ``unsupported_format``, ``wrong_rate``, ``wrong_shape``.
        detail: free text from the underlying library, if any.
    """


class ConfigError(ValueError):
    """A preset, recipe or constructor argument is unknown or out of range."""


class MissingToolError(RuntimeError):
    """A system tool (festival, flite, fluidsynth, espeak-ng, ...) that a builder needs is not installed.

    The message names the Debian packages that provide it.
    """

    def __init__(self, tool: str, debian_packages: str):
        self.tool = tool
        self.debian_packages = debian_packages
        super().__init__(
            f"'{tool}' is not installed. Install it with: sudo apt-get install {debian_packages}"
        )
