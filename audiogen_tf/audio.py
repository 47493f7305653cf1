"""Audio I/O and sample-level transforms (NumPy).

``load`` and ``save`` sit on ``soundfile`` (WAV, FLAC, OGG, and MP3 where the installed libsndfile
has it) and resample with ``librosa``. Audio is float32 in [-1, 1], shaped ``(time,)`` when mono
and ``(time, channels)`` otherwise. Every problem with a file raises :class:`AudioFileError`
naming the file and the problem, so a pipeline can skip it and report it.

Example:
    >>> import numpy as np, tempfile, os
    >>> from audiogen_tf import audio
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> _ = audio.save(path, 0.5 * np.sin(np.arange(16000) / 10.0), 16000)
    >>> x, sr = audio.load(path, sr=8000)
    >>> x.shape, sr
    ((8000,), 8000)
"""

from __future__ import annotations

import errno
import os
import stat

import numpy as np
import soundfile as sf

from audiogen_tf.errors import AudioFileError
from audiogen_tf.atomic import atomic_path

#: Files longer than this (seconds) are refused by default: a guard against a stray hour-long file.
DEFAULT_MAX_SECONDS = 600.0
#: Files shorter than this (seconds) hold no usable sound (e.g. a 1-sample file); :func:`check` refuses them.
DEFAULT_MIN_SECONDS = 0.01


def _extension_format(path: str) -> str | None:
    ext = os.path.splitext(path)[1].lstrip(".").upper()
    return ext or None


def supported_formats() -> set[str]:
    """File extensions (upper case) that the installed libsndfile can read and write."""
    return set(sf.available_formats())


def info(path) -> tuple[int, int, float]:
    """``(sample_rate, channels, seconds)`` of ``path`` without decoding it.

    Checks first that the file exists and is readable, that its first bytes are audio of a kind its name allows
    (a PNG renamed ``.mp3`` is named as a PNG, and no decoder is started on it) and that a WAV file holds the
    whole data chunk its header declares (a file cut off mid-data is ``corrupt``, not shorter audio).
    """
    path = os.fspath(path)
    _check_exists(path)
    _check_content_kind(path)
    try:
        meta = sf.info(path)
    except Exception as err:  # soundfile raises LibsndfileError / RuntimeError / TypeError
        raise AudioFileError(path, _classify_open_error(path), str(err)) from err
    return meta.samplerate, meta.channels, meta.duration


def _check_exists(path: str) -> None:
    try:
        st = os.stat(path)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise AudioFileError(path, "unreadable", "symbolic link loop") from err
        if os.path.islink(path):
            raise AudioFileError(path, "missing", f"broken symbolic link to {os.readlink(path)}") from err
        if err.errno == errno.ENOENT:
            raise AudioFileError(path, "missing", "no such file") from err
        raise AudioFileError(path, "unreadable", err.strerror or str(err)) from err
    if stat.S_ISDIR(st.st_mode):
        raise AudioFileError(path, "unsupported_format", "is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise AudioFileError(path, "unsupported_format", "not a regular file (a pipe or a device?)")
    if st.st_size == 0:
        raise AudioFileError(path, "empty", "file has 0 bytes")
    if not os.access(path, os.R_OK):
        raise AudioFileError(path, "unreadable", "permission denied")


def _check_content_kind(path: str) -> None:
    """Refuse a file whose first bytes say it is not audio, and a WAV whose data chunk is cut off."""
    from audiogen_tf.filetypes import AUDIO_KINDS, guess_kind, looks_like_mp3

    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError as err:
        raise AudioFileError(path, "unreadable", err.strerror or str(err)) from err
    kind = guess_kind(head)
    if kind and kind != "text" and kind not in AUDIO_KINDS:
        raise AudioFileError(path, "unsupported_format", f"not audio: the file is {kind}")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".mp3" and kind in ("", "text") and not looks_like_mp3(head):
        raise AudioFileError(path, "corrupt", "not an MP3 stream (no ID3 tag or MPEG frame header at the start)")
    if kind == "a WAV audio file":
        problem = _wav_truncation(path)
        if problem:
            raise AudioFileError(path, "corrupt", f"truncated: {problem}")


def _classify_open_error(path: str) -> str:
    fmt = _extension_format(path)
    if fmt is not None and fmt not in supported_formats() and fmt not in {"OGA", "OPUS"}:
        return "unsupported_format"
    return "corrupt"


def _wav_truncation(path: str) -> str | None:
    """Why a RIFF/WAVE file is cut off (its data chunk runs past the end of the file), or ``None``.

    A data size of 0 or 0xFFFFFFFF (a stream written before its length was known, or RF64) is not checked.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(12)
        order = "big" if head[:4] == b"RIFX" else "little"
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk = f.read(8)
            cid, n = chunk[:4], int.from_bytes(chunk[4:8], order)
            if cid == b"data":
                if n in (0, 0xFFFFFFFF) or head[:4] == b"RF64":
                    return None
                held = size - pos - 8
                return None if n <= held else f"the data chunk declares {n} bytes, the file holds {held}"
            pos += 8 + n + (n & 1)
    return None


def load(
    path,
    sr: int | None = None,
    mono: bool = True,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
    res_type: str = "soxr_hq",
) -> tuple[np.ndarray, int]:
    """Decode an audio file to float32 in [-1, 1].

    Args:
        path: file to read.
        sr: target sample rate; ``None`` keeps the file's rate. Resampling uses ``librosa.resample``.
        mono: average the channels to shape ``(time,)``; otherwise ``(time, channels)``.
        max_seconds: refuse files longer than this (``None`` for no limit).
        res_type: librosa resampler.

    Returns:
        ``(audio, sample_rate)``.

    Raises:
        AudioFileError: missing, empty, corrupt/truncated, unsupported format, too long, or
            containing NaN/Inf samples.
    """
    path = os.fspath(path)
    file_sr, _, seconds = info(path)
    if max_seconds is not None and seconds > max_seconds:
        raise AudioFileError(path, "too_long", f"{seconds:.1f} s is over the limit of {max_seconds:.1f} s")
    try:
        data, file_sr = sf.read(path, dtype="float32", always_2d=True)
    except Exception as err:
        raise AudioFileError(path, "corrupt", f"decoding failed: {err}") from err
    if data.shape[0] == 0:
        raise AudioFileError(path, "empty", "no samples")
    if not np.all(np.isfinite(data)):
        bad = int(np.size(data) - np.count_nonzero(np.isfinite(data)))
        raise AudioFileError(path, "non_finite", f"{bad} NaN/Inf samples")
    data = np.clip(data, -1.0, 1.0)
    audio = data.mean(axis=1) if mono else data
    if sr is not None and sr != file_sr:
        audio = resample(audio, file_sr, sr, res_type=res_type)
        file_sr = sr
    return np.ascontiguousarray(audio, dtype=np.float32), int(file_sr)


def check(path, max_seconds: float | None = DEFAULT_MAX_SECONDS,
          min_seconds: float | None = DEFAULT_MIN_SECONDS) -> tuple[int, int, float]:
    """Everything :func:`load` would refuse, found without keeping the audio: ``(sample_rate, channels, seconds)``.

    Decodes the file block by block (bounded memory) to find NaN/Inf samples and a data chunk that ends early.

    Raises:
        AudioFileError: missing, unreadable, empty, not audio, corrupt/truncated, too long, too short or
            non-finite.

    Example:
        >>> import numpy as np, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "nan.wav")
        >>> import soundfile; soundfile.write(path, np.full(800, np.nan, np.float32), 8000, subtype="FLOAT")
        >>> check(path)  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        audiogen_tf.errors.AudioFileError: .../nan.wav: non finite (800 NaN/Inf samples)
    """
    path = os.fspath(path)
    sr, channels, seconds = info(path)
    if max_seconds is not None and seconds > max_seconds:
        raise AudioFileError(path, "too_long", f"{seconds:.1f} s is over the limit of {max_seconds:.1f} s")
    if seconds <= 0:
        raise AudioFileError(path, "empty", "no samples")
    if min_seconds is not None and seconds < min_seconds:
        raise AudioFileError(path, "too_short", f"{seconds * sr:.0f} sample(s), under {min_seconds * 1000:.0f} ms")
    bad = frames = 0
    try:
        for block in sf.blocks(path, blocksize=1 << 16, dtype="float32", always_2d=True):
            frames += block.shape[0]
            bad += int(block.size - np.count_nonzero(np.isfinite(block)))
    except Exception as err:
        raise AudioFileError(path, "corrupt", f"decoding failed: {err}") from err
    if frames == 0:
        raise AudioFileError(path, "empty", "no samples")
    if bad:
        raise AudioFileError(path, "non_finite", f"{bad} NaN/Inf samples")
    return sr, channels, frames / sr


def resample(audio: np.ndarray, orig_sr: int, target_sr: int, res_type: str = "soxr_hq") -> np.ndarray:
    """Resample along the time axis (axis 0) with librosa."""
    import librosa

    if orig_sr == target_sr:
        return audio.astype(np.float32)
    out = librosa.resample(np.asarray(audio, np.float32).T, orig_sr=orig_sr, target_sr=target_sr, res_type=res_type)
    return np.ascontiguousarray(out.T, dtype=np.float32)


def save(path, audio, sr: int, subtype: str | None = None) -> str:
    """Write ``audio`` (``(time,)`` or ``(time, channels)``, float in [-1, 1]) atomically.

    The data go to a temporary file in the same folder, which is renamed over ``path`` only once
    complete, so a crash never leaves a half-written file. Samples outside [-1, 1] are clipped;
    NaN/Inf are refused.

    Returns:
        ``path``.
    """
    path = os.fspath(path)
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim not in (1, 2) or audio.shape[0] == 0:
        raise AudioFileError(path, "wrong_shape", f"expected (time,) or (time, channels), got {audio.shape}")
    if not np.all(np.isfinite(audio)):
        raise AudioFileError(path, "non_finite", "refusing to write NaN/Inf samples")
    fmt = _extension_format(path)
    if fmt is None or fmt not in supported_formats():
        raise AudioFileError(path, "unsupported_format", f"cannot write '{fmt}' with this libsndfile")
    with atomic_path(path) as tmp:
        sf.write(tmp, np.clip(audio, -1.0, 1.0), int(sr), format=fmt, subtype=subtype)
    return path


# ---------------------------------------------------------------------------------------------
# mu-law companding (ITU-T G.711 style continuous curve, quantized to 2**bits levels)


def mu_law_encode(audio, bits: int = 8) -> np.ndarray:
    """Compand ``audio`` in [-1, 1] and quantize to integers in ``[0, 2**bits - 1]``.

    Args:
        audio: float array in [-1, 1].
        bits: 8 (256 classes, WaveNet) or 16.
    """
    if bits not in (8, 16):
        raise ValueError(f"mu-law bits must be 8 or 16, got {bits}")
    mu = float(2**bits - 1)
    x = np.clip(np.asarray(audio, np.float64), -1.0, 1.0)
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    q = np.floor((y + 1.0) / 2.0 * mu + 0.5)
    return q.astype(np.int32)


def mu_law_decode(codes, bits: int = 8) -> np.ndarray:
    """Invert :func:`mu_law_encode`: integers in ``[0, 2**bits - 1]`` to float32 in [-1, 1]."""
    if bits not in (8, 16):
        raise ValueError(f"mu-law bits must be 8 or 16, got {bits}")
    mu = float(2**bits - 1)
    y = 2.0 * np.asarray(codes, np.float64) / mu - 1.0
    x = np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu
    return x.astype(np.float32)


# ---------------------------------------------------------------------------------------------
# level and spectral-tilt transforms


def peak_normalize(audio, peak: float = 0.95) -> np.ndarray:
    """Scale so that the largest absolute sample equals ``peak``; silence is returned unchanged."""
    audio = np.asarray(audio, np.float32)
    m = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio if m == 0.0 else (audio * (peak / m)).astype(np.float32)


def rms_normalize(audio, target_dbfs: float = -20.0, peak_limit: float = 1.0) -> np.ndarray:
    """Scale to an RMS of ``target_dbfs`` dB full scale, then limit the peak to ``peak_limit``."""
    audio = np.asarray(audio, np.float32)
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    if rms == 0.0:
        return audio
    out = audio * (10.0 ** (target_dbfs / 20.0) / rms)
    m = float(np.max(np.abs(out)))
    if m > peak_limit:
        out = out * (peak_limit / m)
    return out.astype(np.float32)


def pre_emphasis(audio, coef: float = 0.97) -> np.ndarray:
    """First-order high-pass ``y[n] = x[n] - coef * x[n-1]`` along axis 0 (``y[0] = x[0]``)."""
    x = np.asarray(audio, np.float32)
    y = x.copy()
    y[1:] -= coef * x[:-1]
    return y


def de_emphasis(audio, coef: float = 0.97) -> np.ndarray:
    """Invert :func:`pre_emphasis` with the IIR filter ``x[n] = y[n] + coef * x[n-1]``."""
    from scipy.signal import lfilter

    return lfilter([1.0], [1.0, -coef], np.asarray(audio, np.float64), axis=0).astype(np.float32)


def trim_silence(audio, sr: int | None = None, top_db: float = 40.0, frame_length: int = 2048, hop_length: int = 512):
    """Cut leading and trailing parts quieter than ``top_db`` below the peak (``librosa.effects.trim``).

    Returns:
        ``(trimmed, (start, end))`` sample indices into the input.
    """
    import librosa

    audio = np.asarray(audio, np.float32)
    trimmed, index = librosa.effects.trim(audio.T, top_db=top_db, frame_length=frame_length, hop_length=hop_length)
    return np.ascontiguousarray(trimmed.T), (int(index[0]), int(index[1]))
