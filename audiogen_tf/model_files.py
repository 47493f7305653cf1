"""Load a ``.keras`` model file, or say in one line which file is wrong and how.

``keras.saving.load_model`` reports an empty file as "File not found", a ``.tflite`` as "File format not
supported", a damaged zip as a UnicodeDecodeError. :func:`load_keras_model` checks the file first and turns
any loading failure into :class:`~audiogen_tf.errors.ModelFileError` naming the file.

Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "empty.keras"); _ = open(path, "wb")
    >>> load_keras_model(path)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    audiogen_tf.errors.ModelFileError: .../empty.keras: empty (0 bytes; a .keras model is a zip archive)
"""

from __future__ import annotations

import os
import zipfile

from audiogen_tf.errors import ModelFileError
from audiogen_tf.filetypes import file_kind


def check_keras_file(path) -> None:
    """Raise :class:`ModelFileError` unless ``path`` is a complete zip archive holding a Keras ``config.json``."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ModelFileError(path, "missing", "no such file")
    if os.path.isdir(path):
        raise ModelFileError(path, "not_a_keras_model", "is a folder (a SavedModel? give the .keras file)")
    if os.path.getsize(path) == 0:
        raise ModelFileError(path, "empty", "0 bytes; a .keras model is a zip archive")
    kind = file_kind(path)
    if not zipfile.is_zipfile(path):
        if kind == "a TFLite model":
            raise ModelFileError(path, "not_a_keras_model", "it is a TFLite model; this command takes a .keras file or a "
                                 "run folder (run .tflite files with tflite_export.synthesizer.Synthesizer)")
        if kind.startswith("a zip"):
            raise ModelFileError(path, "truncated", "the zip archive is cut off (its central directory is missing)")
        raise ModelFileError(path, "not_a_keras_model", (f"it is {kind}" if kind else "it is no zip archive")
                             + "; a .keras model is a zip archive")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        raise ModelFileError(path, "corrupt", f"damaged zip archive: {err}") from err
    if broken is not None:
        raise ModelFileError(path, "corrupt", f"member {broken} fails its CRC check")
    if "config.json" not in names:
        raise ModelFileError(path, "not_a_keras_model", "a zip archive without config.json")


def load_keras_model(path, safe_mode: bool = True, compile: bool = True):
    """``keras.saving.load_model(path)`` after :func:`check_keras_file`; any loading error is a ``ModelFileError``.

    The zoo's classes must be registered first (import the zoo families, e.g. ``import zoo.hifigan``).
    """
    import keras

    path = os.fspath(path)
    check_keras_file(path)
    try:
        return keras.saving.load_model(path, safe_mode=safe_mode, compile=compile)
    except Exception as err:  # ValueError, TypeError, KeyError, UnicodeDecodeError... from a damaged or foreign file
        text = str(err).strip().splitlines()
        raise ModelFileError(path, "corrupt", f"cannot load the Keras model: {type(err).__name__}: "
                             f"{text[0][:300] if text else ''}") from err
