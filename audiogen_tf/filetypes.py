"""What a file is, from its first bytes: so that errors can say "this is a PNG image" instead of a decoder's
"possibly a pipe?", and so that no decoder is ever started on a file that cannot be what its name says.

Example:
    >>> from audiogen_tf.filetypes import guess_kind
    >>> guess_kind(b"\\x89PNG\\r\\n\\x1a\\n....")
    'a PNG image'
    >>> guess_kind(b"RIFF\\x00\\x00\\x00\\x00WAVEfmt ")
    'a WAV audio file'
"""

from __future__ import annotations

# (magic, offset of ``extra``, extra, description); checked in order.
MAGIC = (
    (b"RIFF", 8, b"WAVE", "a WAV audio file"),
    (b"RIFX", 8, b"WAVE", "a WAV audio file"),
    (b"RF64", 8, b"WAVE", "a WAV audio file"),
    (b"FORM", 8, b"AIF", "an AIFF audio file"),
    (b"fLaC", 0, b"", "a FLAC audio file"),
    (b"OggS", 0, b"", "an Ogg audio file"),
    (b"ID3", 0, b"", "an MP3 audio file"),
    (b".snd", 0, b"", "an AU audio file"),
    (b"\x89PNG", 0, b"", "a PNG image"),
    (b"\xff\xd8\xff", 0, b"", "a JPEG image"),
    (b"GIF8", 0, b"", "a GIF image"),
    (b"%PDF", 0, b"", "a PDF document"),
    (b"PK\x03\x04", 0, b"", "a zip archive (a .keras model?)"),
    (b"\x89HDF", 0, b"", "an HDF5 file (a .h5 Keras model?)"),
    (b"\x93NUMPY", 0, b"", "a NumPy .npy array"),
    (b"\x1f\x8b", 0, b"", "a gzip archive"),
)

AUDIO_KINDS = {"a WAV audio file", "an AIFF audio file", "a FLAC audio file", "an Ogg audio file",
               "an MP3 audio file", "an AU audio file"}


def guess_kind(data: bytes) -> str:
    """A description of what ``data`` (a file's first bytes) looks like, '' when unknown.

    TFLite flatbuffers carry ``TFL3`` at byte 4; text is reported as ``text``.
    """
    for magic, offset, extra, kind in MAGIC:
        if data.startswith(magic) and (not extra or data[offset: offset + len(extra)] == extra):
            return kind
    if len(data) >= 8 and data[4:8] == b"TFL3":
        return "a TFLite model"
    if data and all(32 <= b < 127 or b in (9, 10, 13) for b in data[:64]):
        return "text"
    return ""


def file_kind(path, size: int = 64) -> str:
    """:func:`guess_kind` of the file at ``path`` ('' when it cannot be read)."""
    try:
        with open(path, "rb") as f:
            return guess_kind(f.read(size))
    except OSError:
        return ""


def looks_like_mp3(data: bytes) -> bool:
    """An ID3 tag or an MPEG audio frame header (11 set sync bits) at the start."""
    return data.startswith(b"ID3") or (len(data) >= 2 and data[0] == 0xFF and (data[1] & 0xE0) == 0xE0)
