"""Error types of audiogen-tf: one per kind of failure, each naming what went wrong and where."""

from __future__ import annotations

import os


class AudiogenError(Exception):
    """Base of every audiogen-tf error: the ``audiogen`` command prints its message as one line, exit code 2."""


class FileProblemError(AudiogenError, ValueError):
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
        problem: a short machine-readable key: ``missing``, ``unreadable`` (permissions, a symbolic link loop),
            ``corrupt`` (also a WAV cut off mid-data), ``empty``, ``non_finite``, ``too_long``, ``too_short``,
            ``unsupported_format`` (also a file that is not audio, e.g. a PNG), ``wrong_rate``, ``wrong_shape``.
        detail: free text from the underlying library, if any.
    """


class ConfigError(AudiogenError, ValueError):
    """A preset, recipe or constructor argument is unknown or out of range."""


class ModelFileError(FileProblemError):
    """A model file (``.keras``, ``.tflite``, ``synthesizer.json``) could not be used.

    The message names the file and the problem, e.g. ``/m.keras: corrupt (not a zip archive; ...)``.

    Attributes:
        problem: ``missing``, ``empty``, ``not_tflite``, ``not_a_keras_model``, ``truncated``, ``corrupt``,
            ``wrong_model``, ``wrong_input_shape``, ``bad_structure``.
    """


class CheckpointError(AudiogenError, RuntimeError):
    """Training state could not be restored or saved: every checkpoint of a run is damaged, or a save failed
    (e.g. a full disk). The message names the folder and what is left intact; nothing good is deleted."""


class OverwriteError(AudiogenError, FileExistsError):
    """A writer was asked to replace an existing file it did not make; pass ``force=True`` (``--force``)."""

    def __init__(self, path, what: str = "file"):
        self.path = str(path)
        super().__init__(f"{self.path}: {what} exists; pass --force to replace it (the old one is kept as "
                         f"{os.path.basename(self.path)}.bak)")


class InputOverwriteError(OverwriteError):
    """A writer's output is one of the same command's inputs: refused even with ``--force``."""

    def __init__(self, path, input_path=None):
        self.path = str(path)
        self.input_path = str(input_path if input_path is not None else path)
        same = "" if self.input_path == self.path else f" ({self.input_path})"
        FileExistsError.__init__(self, f"{self.path}: is also an input of this command{same}; "
                                       "write the output to another file (--force does not allow this)")


class MissingToolError(AudiogenError, RuntimeError):
    """A system tool (festival, flite, fluidsynth, espeak-ng, ...) that a builder needs is not installed.

    The message names the Debian packages that provide it.
    """

    def __init__(self, tool: str, debian_packages: str):
        self.tool = tool
        self.debian_packages = debian_packages
        super().__init__(
            f"'{tool}' is not installed. Install it with: sudo apt-get install {debian_packages}"
        )


class SynthesisError(AudiogenError, RuntimeError):
    """Synthesized audio that cannot be trusted: non-finite values, clipped at full scale (damaged model files), or
    speech that does not cover every token of its text.

    Attributes:
        problem: ``non_finite``, ``clipped`` or ``cut``.
    """

    def __init__(self, message: str, problem: str = ""):
        self.problem = problem
        super().__init__(message)
