"""Built-in datasets and readers for corpora users own; every builder writes a ``manifest.csv``.

- :func:`make_notes`: synthetic musical notes labelled by pitch and timbre (NumPy only).
- :func:`make_sfx`: synthetic sound effects labelled by class, 16384-sample clips for WaveGAN.
- :func:`build_speech_corpus`: an LJSpeech-style folder spoken by festival or flite.
- :func:`build_gm_notes`: NSynth-style General MIDI notes rendered by fluidsynth.
- :func:`build_drums`: labelled drum one-shots from Debian's Hydrogen kits, whole kits held out.
- :func:`ljspeech_entries`, :func:`nsynth_entries`, :func:`speech_commands_entries`: manifests of existing corpora.

Example:
    >>> import tempfile
    >>> from audiogen_tf.datasets import make_notes
    >>> from audiogen_tf.manifest import read_manifest
    >>> len(read_manifest(make_notes(tempfile.mkdtemp(), pitches=[60, 67], timbres=["flute"], progress=False)))
    4
"""

# name -> submodule; imported on first use (PEP 562), so ``audiogen_tf.datasets.speech`` (the text front end's number
# words) does not pull in every builder and SciPy
_WHERE = {
    "build_drums": "drums", "build_gm_notes": "fluidsynth_notes", "TIMBRES": "notes", "generate_note": "notes",
    "make_notes": "notes", "ljspeech_entries": "readers", "nsynth_entries": "readers",
    "speech_commands_entries": "readers", "SFX_CLASSES": "sfx", "generate_sfx": "sfx", "make_sfx": "sfx",
    "build_speech_corpus": "speech", "default_sentences": "speech", "normalize_text": "speech",
}


def __getattr__(name):
    import importlib

    if name in _WHERE.values():  # a submodule, as when this file imported them all
        return importlib.import_module(f"{__name__}.{name}")
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_WHERE))


__all__ = [
    "SFX_CLASSES",
    "TIMBRES",
    "build_drums",
    "build_gm_notes",
    "build_speech_corpus",
    "default_sentences",
    "generate_note",
    "generate_sfx",
    "ljspeech_entries",
    "make_notes",
    "make_sfx",
    "normalize_text",
    "nsynth_entries",
    "speech_commands_entries",
]
