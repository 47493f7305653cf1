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

from audiogen_tf.datasets.drums import build_drums
from audiogen_tf.datasets.fluidsynth_notes import build_gm_notes
from audiogen_tf.datasets.notes import TIMBRES, generate_note, make_notes
from audiogen_tf.datasets.readers import ljspeech_entries, nsynth_entries, speech_commands_entries
from audiogen_tf.datasets.sfx import SFX_CLASSES, generate_sfx, make_sfx
from audiogen_tf.datasets.speech import build_speech_corpus, default_sentences, normalize_text

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
