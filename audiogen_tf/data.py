"""tf.data input pipelines: aligned (audio, mel) segments for vocoders, bucketed utterances for TTS.

Every pipeline reads a manifest, folder or glob (:func:`audiogen_tf.manifest.load_entries`), decodes
files in parallel (``tf.audio.decode_wav`` in-graph for 16-bit WAV already at the target rate,
``soundfile`` + ``librosa`` resampling through ``tf.numpy_function`` for everything else, and
``tensorflow-io`` when asked and importable), mixes down to mono and computes log-mel features on
the fly with :mod:`audiogen_tf.features`. Files that cannot be used are skipped and recorded in a
:class:`SkipReport` (path, problem, detail) that is attached to the returned dataset as
``dataset.skip_report``; ``on_error="raise"`` makes them fatal instead.

Example:
    >>> ds = segment_dataset("data/ljspeech/metadata.csv", segment_length=8192, batch_size=16,
    ...                      sample_rate=22050, mel_config=MelConfig())        # doctest: +SKIP
    >>> batch = next(iter(ds)); batch["audio"].shape, batch["mel"].shape          # doctest: +SKIP
    (TensorShape([16, 8192]), TensorShape([16, 32, 80]))
    >>> print(ds.skip_report.summary())                                           # doctest: +SKIP

Element keys follow ``docs/contracts.md``: ``audio`` (batch, time) float32, ``mel``
(batch, frames, n_mels) float32, ``audio_length``/``mel_length``/``label`` int32, ``text`` string.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import threading

import numpy as np
import soundfile as sf
import tensorflow as tf

from audiogen_tf import audio as audio_io
from audiogen_tf.errors import AudioFileError, ConfigError
from audiogen_tf.manifest import load_entries

AUTOTUNE = tf.data.AUTOTUNE
DECODERS = ("auto", "soundfile", "tf_wav", "tfio")
_SOUNDFILE, _TF_WAV, _TFIO = 0, 1, 2


# ----------------------------------------------------------------------------------------------
# Skipped-file bookkeeping


class SkipReport:
    """Files a pipeline skipped, with the reason (``AudioFileError.problem``); thread-safe.

    A file is counted once even when it is met again in a later epoch.

    Example:
        >>> r = SkipReport(); r.add("/data/a.wav", "corrupt", "bad header"); len(r)
        1
        >>> print(r.summary())
        1 file(s) skipped: corrupt=1
          /data/a.wav: corrupt (bad header)
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._skipped: dict[str, tuple[str, str]] = {}

    def add(self, path, problem: str, detail: str = "") -> None:
        """Record that ``path`` was skipped because of ``problem``."""
        with self._lock:
            self._skipped.setdefault(str(path), (problem, detail))

    def add_error(self, err: AudioFileError) -> None:
        """Record an :class:`AudioFileError`."""
        self.add(err.path, err.problem, err.detail)

    @property
    def skipped(self) -> list[tuple[str, str, str]]:
        """``[(path, problem, detail), ...]`` in the order met."""
        with self._lock:
            return [(p, prob, det) for p, (prob, det) in self._skipped.items()]

    def problems(self) -> dict[str, str]:
        """``{path: problem}``."""
        return {p: prob for p, prob, _ in self.skipped}

    def counts(self) -> dict[str, int]:
        """Number of skipped files per problem."""
        return dict(collections.Counter(prob for _, prob, _ in self.skipped))

    def __len__(self) -> int:
        with self._lock:
            return len(self._skipped)

    def __bool__(self) -> bool:
        return True

    def summary(self, max_files: int = 20) -> str:
        """Human-readable report: counts per problem, then up to ``max_files`` paths."""
        items = self.skipped
        if not items:
            return "0 files skipped"
        counts = ", ".join(f"{k}={v}" for k, v in sorted(self.counts().items()))
        lines = [f"{len(items)} file(s) skipped: {counts}"]
        for path, prob, det in items[:max_files]:
            lines.append(f"  {path}: {prob}" + (f" ({det})" if det else ""))
        if len(items) > max_files:
            lines.append(f"  ... and {len(items) - max_files} more")
        return "\n".join(lines)

    __str__ = summary

    def __repr__(self) -> str:
        return f"SkipReport({len(self)} skipped: {self.counts()})"


# ----------------------------------------------------------------------------------------------
# Sources and decoding


def tfio_available() -> bool:
    """Whether ``tensorflow_io`` imports (it does not with TF 2.21; the pipelines never need it)."""
    try:
        import tensorflow_io  # noqa: F401
    except Exception:  # ImportError, or a NotFoundError from a .so built for another TF
        return False
    return True


@dataclasses.dataclass
class _Prepared:
    entries: list
    backend: list
    file_sr: list


def _scan_entry(path: str, sample_rate: int, decoder: str, max_seconds, max_samples) -> tuple[int, int]:
    """Header check of one file (raises AudioFileError); returns (backend, file sample rate)."""
    file_sr, _, seconds = audio_io.info(path)
    meta = sf.info(path)
    if meta.frames == 0:
        raise AudioFileError(path, "empty", "no samples")
    if max_seconds is not None and seconds > max_seconds:
        raise AudioFileError(path, "too_long", f"{seconds:.1f} s is over the limit of {max_seconds:.1f} s")
    if max_samples is not None and int(round(seconds * sample_rate)) > max_samples:
        raise AudioFileError(path, "too_long", f"{seconds:.2f} s is over max_audio_length={max_samples} samples")
    if decoder in ("auto", "tf_wav") and meta.format == "WAV" and meta.subtype == "PCM_16" and file_sr == sample_rate:
        # tf.audio.decode_wav fails the whole pipeline on a truncated data chunk: check its size first.
        if meta.frames * meta.channels * 2 <= os.path.getsize(path) - 44:
            return _TF_WAV, file_sr
    if decoder == "tfio" and os.path.splitext(path)[1].lower() in (".wav", ".flac", ".ogg", ".mp3"):
        if os.path.splitext(path)[1].lower() != ".wav" or meta.subtype == "PCM_16":
            return _TFIO, file_sr
    return _SOUNDFILE, file_sr


def _prepare(source, sample_rate, decoder, report, on_error, max_seconds, max_samples=None, prescan=True):
    if on_error not in ("skip", "raise"):
        raise ConfigError(f"on_error must be 'skip' or 'raise', got {on_error!r}")
    if decoder not in DECODERS:
        raise ConfigError(f"decoder must be one of {DECODERS}, got {decoder!r}")
    if decoder == "tfio" and not tfio_available():
        raise ConfigError("decoder='tfio' needs tensorflow-io, which does not import here; use decoder='auto'")
    entries = load_entries(source)
    if not entries:
        raise ConfigError(f"{source}: no entries")
    out = _Prepared([], [], [])
    for e in entries:
        path = os.fspath(e["path"])
        backend, file_sr = _SOUNDFILE, 0
        if prescan:
            try:
                backend, file_sr = _scan_entry(path, sample_rate, decoder, max_seconds, max_samples)
            except AudioFileError as err:
                if on_error == "raise":
                    raise
                report.add_error(err)
                continue
        out.entries.append(dict(e, path=path))
        out.backend.append(backend)
        out.file_sr.append(file_sr)
    if not out.entries:
        raise ConfigError(f"{source}: every file was skipped\n{report.summary()}")
    return out


def _label_ids(entries, label_key, vocabulary):
    """int32 ids for ``entry[label_key]`` (-1 when missing) and the vocabulary used."""
    values = [e.get(label_key) for e in entries]
    present = [str(v) for v in values if v is not None]
    if vocabulary is None:
        if present and all(v.lstrip("-").isdigit() for v in present):
            return [int(v) if v is not None else -1 for v in values], None
        vocabulary = sorted(set(present))
    index = {v: i for i, v in enumerate(vocabulary)}
    unknown = sorted(set(present) - set(index))
    if unknown:
        raise ConfigError(f"labels {unknown[:5]} are not in the label vocabulary")
    return [index[str(v)] if v is not None else -1 for v in values], list(vocabulary)


def _make_loader(sample_rate, report, on_error, max_seconds, res_type):
    def load(path_bytes):
        path = path_bytes.decode("utf-8")
        try:
            try:
                x, _ = audio_io.load(path, sr=sample_rate, mono=True, max_seconds=max_seconds, res_type=res_type)
            except AudioFileError:
                raise
            except Exception as err:  # anything else from soundfile/librosa is a bad file too
                raise AudioFileError(path, "corrupt", f"{type(err).__name__}: {err}") from err
            return x, np.bool_(True)
        except AudioFileError as err:
            if on_error == "raise":
                raise
            report.add_error(err)
            return np.zeros((0,), np.float32), np.bool_(False)

    return load


def _decode_fn(sample_rate, report, on_error, max_seconds, res_type, backends):
    loader = _make_loader(sample_rate, report, on_error, max_seconds, res_type)

    def soundfile_branch(path):
        x, ok = tf.numpy_function(loader, [path], [tf.float32, tf.bool], stateful=True)
        x.set_shape([None])
        ok.set_shape([])
        return x, ok

    def wav_branch(path):
        wav, _ = tf.audio.decode_wav(tf.io.read_file(path))
        x = tf.reduce_mean(wav, axis=1)
        return x, tf.size(x) > 0

    def tfio_branch(path, file_sr):
        import tensorflow_io as tfio

        data = tf.io.read_file(path)
        ext = tf.strings.lower(tf.strings.split(path, ".")[-1])
        decoded = tf.case(
            [
                (tf.equal(ext, "flac"), lambda: tf.cast(tfio.audio.decode_flac(data, dtype=tf.int16), tf.float32) / 32768.0),
                (tf.equal(ext, "mp3"), lambda: tfio.audio.decode_mp3(data)),
                (tf.equal(ext, "ogg"), lambda: tfio.audio.decode_vorbis(data)),
            ],
            default=lambda: tf.cast(tfio.audio.decode_wav(data, dtype=tf.int16), tf.float32) / 32768.0,
        )
        x = tf.reduce_mean(decoded, axis=1)
        x = tfio.audio.resample(x, rate_in=tf.cast(file_sr, tf.int64), rate_out=sample_rate)
        ok = tf.logical_and(tf.size(x) > 0, tf.reduce_all(tf.math.is_finite(x)))
        return tf.clip_by_value(x, -1.0, 1.0), ok

    used = set(backends)

    def decode(elem):
        path, backend = elem["path"], elem["_backend"]
        if used == {_SOUNDFILE}:
            x, ok = soundfile_branch(path)
        elif used == {_TF_WAV}:
            x, ok = wav_branch(path)
        else:
            branches = [lambda: soundfile_branch(path), lambda: wav_branch(path)]
            if _TFIO in used:
                branches.append(lambda: tfio_branch(path, elem["_file_sr"]))
            x, ok = tf.switch_case(backend, branches)
            x.set_shape([None])
        out = {k: v for k, v in elem.items() if not k.startswith("_")}
        out["audio"], out["_ok"] = x, ok
        return out

    return decode


def audio_file_dataset(
    source,
    sample_rate: int,
    shuffle: bool = False,
    seed: int | None = None,
    deterministic: bool = False,
    num_shards: int = 1,
    shard_index: int = 0,
    label_key: str | None = None,
    label_vocabulary=None,
    text_key: str | None = None,
    include_path: bool = False,
    cache=False,
    on_error: str = "skip",
    decoder: str = "auto",
    max_seconds: float | None = audio_io.DEFAULT_MAX_SECONDS,
    max_samples: int | None = None,
    res_type: str = "soxr_hq",
    prescan: bool = True,
    report: SkipReport | None = None,
):
    """Decoded mono waveforms, one element per usable file: ``{"audio": (time,), ...}``.

    The building block of :func:`segment_dataset` and :func:`utterance_dataset`; see those for
    the arguments. The dataset carries ``skip_report`` and ``label_vocabulary`` attributes.

    Example:
        >>> ds = audio_file_dataset("/usr/share/sounds/alsa", 22050)   # doctest: +SKIP
    """
    report = SkipReport() if report is None else report
    if deterministic and seed is None:
        seed = 0
    if not 0 <= shard_index < num_shards:
        raise ConfigError(f"shard_index {shard_index} is not in [0, {num_shards})")
    prep = _prepare(source, sample_rate, decoder, report, on_error, max_seconds, max_samples, prescan)
    columns = {
        "path": [e["path"] for e in prep.entries],
        "_backend": np.asarray(prep.backend, np.int32),
        "_file_sr": np.asarray(prep.file_sr, np.int32),
    }
    vocabulary = None
    if label_key is not None:
        ids, vocabulary = _label_ids(prep.entries, label_key, label_vocabulary)
        columns["label"] = np.asarray(ids, np.int32)
    if text_key is not None:
        columns["text"] = [str(e.get(text_key, "")) for e in prep.entries]
    ds = tf.data.Dataset.from_tensor_slices(columns)
    if num_shards > 1:
        ds = ds.shard(num_shards, shard_index)
    n_files = len(prep.entries)
    if shuffle and not cache:  # shuffling paths is cheap; with a cache, shuffle the decoded audio instead
        ds = ds.shuffle(n_files, seed=seed, reshuffle_each_iteration=True)
    decode = _decode_fn(sample_rate, report, on_error, max_seconds, res_type, prep.backend)
    ds = ds.map(decode, num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    ds = ds.filter(lambda e: e["_ok"])
    drop = {"_ok"} | (set() if include_path else {"path"})
    ds = ds.map(lambda e: {k: v for k, v in e.items() if k not in drop})
    if max_samples is not None:
        ds = ds.map(lambda e: dict(e, audio=e["audio"][:max_samples]))
    if cache:
        ds = ds.cache(cache if isinstance(cache, str) else "")
        if shuffle:
            ds = ds.shuffle(min(n_files, 4096), seed=seed, reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.deterministic = bool(deterministic)
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.OFF if num_shards > 1 else tf.data.experimental.AutoShardPolicy.DATA
    )
    ds = ds.with_options(options)
    return _attach(ds, report, vocabulary)


def _attach(ds, report, vocabulary):
    ds.skip_report = report
    ds.label_vocabulary = vocabulary
    return ds


def _resolve_config(sample_rate, mel_config):
    if mel_config is None:
        if sample_rate is None:
            raise ConfigError("give sample_rate or mel_config")
        return int(sample_rate), None
    if isinstance(mel_config, dict):
        from audiogen_tf.features import MelConfig

        mel_config = MelConfig.from_dict(mel_config)
    if sample_rate is None:
        sample_rate = mel_config.sample_rate
    if int(sample_rate) != int(mel_config.sample_rate):
        raise ConfigError(f"sample_rate {sample_rate} differs from mel_config.sample_rate {mel_config.sample_rate}")
    return int(sample_rate), mel_config


# ----------------------------------------------------------------------------------------------
# Vocoder segments


def segment_dataset(
    source,
    segment_length: int,
    batch_size: int,
    sample_rate: int | None = None,
    mel_config=None,
    shuffle: bool = True,
    seed: int | None = None,
    deterministic: bool = False,
    cache=False,
    drop_remainder: bool = True,
    num_shards: int = 1,
    shard_index: int = 0,
    label_key: str | None = None,
    label_vocabulary=None,
    repeat: bool = False,
    on_error: str = "skip",
    decoder: str = "auto",
    max_seconds: float | None = audio_io.DEFAULT_MAX_SECONDS,
    res_type: str = "soxr_hq",
    report: SkipReport | None = None,
):
    """Random fixed-length waveform segments with their aligned log-mel frames (vocoder training).

    Each file gives one segment per epoch at a random offset (a multiple of ``hop_length`` when
    ``mel_config`` is given); files shorter than ``segment_length`` are zero-padded at the end. Mel
    frame ``i`` of a segment starting at sample ``s`` is frame ``s/hop + i`` of the whole (padded)
    utterance's log-mel, i.e. with ``center=True`` it is centred on sample ``s + i*hop`` and the
    reflect padding at the file's edges is that of the whole utterance.

    Args:
        source: manifest (``.csv``/``.jsonl``), folder, glob or list of entries.
        segment_length: samples per segment ``L`` (a multiple of ``mel_config.hop_length``).
        batch_size: segments per batch ``B``.
        sample_rate: target rate; files are resampled to it (defaults to ``mel_config.sample_rate``).
        mel_config: :class:`audiogen_tf.features.MelConfig` (or its dict); ``None`` for audio only.
        shuffle, seed, deterministic: order and offsets (``deterministic=False`` lets parallel
            decoding reorder files even without shuffling); with ``deterministic=True`` (seed defaults
            to 0) two datasets built alike yield identical batches.
        cache: ``True`` caches decoded audio in memory, a string caches to that file prefix.
        drop_remainder: drop the last partial batch, giving fully static shapes (TPU).
        num_shards, shard_index: this worker's share of the files (``tf.data.Dataset.shard``);
            with ``num_shards=1`` the ``tf.distribute`` auto-shard policy is set to DATA.
        label_key: manifest column turned into an int32 ``label`` (integers kept, strings indexed
            in sorted order or by ``label_vocabulary``); ``dataset.label_vocabulary`` lists them.
        repeat: repeat forever (new offsets and order every epoch).
        on_error: ``"skip"`` (record in ``dataset.skip_report``) or ``"raise"``: missing, empty and
            unreadable files then raise :class:`AudioFileError` when the dataset is built, files that
            fail while decoding (e.g. NaN samples) a ``tf.errors.InvalidArgumentError`` carrying the
            ``AudioFileError`` message when iterated.
        decoder: ``"auto"`` (in-graph ``tf.audio.decode_wav`` for 16-bit WAV at the target rate,
            soundfile otherwise), ``"soundfile"``, ``"tf_wav"`` (same as auto) or ``"tfio"``.
        max_seconds: longer files are skipped as ``too_long``.
        report: a :class:`SkipReport` to add to (a new one otherwise).

    Returns:
        ``tf.data.Dataset`` of ``{"audio": (B, L), "mel": (B, L // hop, n_mels)[, "label": (B,)]}``
        with attributes ``skip_report`` and ``label_vocabulary``.

    Example:
        >>> from audiogen_tf.features import MelConfig                      # doctest: +SKIP
        >>> ds = segment_dataset("wavs/", 8192, 16, mel_config=MelConfig())  # doctest: +SKIP

    Follows the random-segment training input of HiFi-GAN (Kong et al., 2020).
    """
    sample_rate, cfg = _resolve_config(sample_rate, mel_config)
    segment_length = int(segment_length)
    if cfg is not None and segment_length % cfg.hop_length:
        raise ConfigError(f"segment_length {segment_length} is not a multiple of hop_length {cfg.hop_length}")
    if deterministic and seed is None:
        seed = 0
    ds = audio_file_dataset(
        source, sample_rate, shuffle=shuffle, seed=seed, deterministic=deterministic, num_shards=num_shards,
        shard_index=shard_index, label_key=label_key, label_vocabulary=label_vocabulary, cache=cache,
        on_error=on_error, decoder=decoder, max_seconds=max_seconds, res_type=res_type, report=report,
    )
    report, vocabulary = ds.skip_report, ds.label_vocabulary
    if repeat:
        ds = ds.repeat()
    L = segment_length
    if cfg is None:
        hop, left, window, min_len = 1, 0, L, L
    else:
        hop = cfg.hop_length
        if cfg.center:  # whole-utterance reflect padding, then windows of L + n_fft starting at s
            left, window = cfg.n_fft // 2, L + cfg.n_fft
        else:  # frame i spans [s + i*hop, s + i*hop + n_fft)
            left, window = 0, L - hop + cfg.n_fft
        min_len = max(L, cfg.n_fft // 2 + 1)

    def crop(elem, rnd):
        x = elem["audio"]
        x = tf.pad(x, [[0, tf.maximum(min_len - tf.shape(x)[0], 0)]])
        n = tf.shape(x)[0]
        if cfg is not None and cfg.center:
            wide = tf.pad(x, [[left, left]], mode="REFLECT")
        else:
            wide = tf.pad(x, [[0, window - L]])
        starts = (n - L) // hop + 1
        start = tf.cast(tf.math.floormod(rnd, tf.cast(starts, tf.int64)), tf.int32) * hop
        out = {k: v for k, v in elem.items() if k != "audio"}
        out["_window"] = tf.ensure_shape(wide[start : start + window], [window])
        return out

    rand = tf.data.Dataset.random(seed=None if seed is None else seed + 1, rerandomize_each_iteration=True)
    ds = tf.data.Dataset.zip((ds, rand)).map(crop, num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if cfg is not None:
        mel_cfg = dataclasses.replace(cfg, center=False)
        frames = L // hop

    def features(batch):
        wide = batch.pop("_window")
        batch["audio"] = wide[:, left : left + L]
        if cfg is not None:
            batch["mel"] = tf.ensure_shape(mel_cfg.log_mel(wide)[:, :frames, :], [None, frames, cfg.n_mels])
        return batch

    ds = ds.map(features, num_parallel_calls=AUTOTUNE, deterministic=deterministic).prefetch(AUTOTUNE)
    return _attach(ds, report, vocabulary)


# ----------------------------------------------------------------------------------------------
# Whole utterances (TTS)


def utterance_dataset(
    source,
    batch_size: int,
    sample_rate: int | None = None,
    mel_config=None,
    bucket_boundaries=None,
    text_key: str | None = "text",
    label_key: str | None = None,
    label_vocabulary=None,
    shuffle: bool = True,
    seed: int | None = None,
    deterministic: bool = False,
    cache=False,
    drop_remainder: bool = False,
    max_audio_length: int | None = None,
    static_shapes: bool = False,
    num_shards: int = 1,
    shard_index: int = 0,
    repeat: bool = False,
    include_path: bool = False,
    on_error: str = "skip",
    decoder: str = "auto",
    max_seconds: float | None = audio_io.DEFAULT_MAX_SECONDS,
    res_type: str = "soxr_hq",
    report: SkipReport | None = None,
):
    """Whole utterances, zero-padded into batches, optionally bucketed by length (TTS training).

    Args:
        source: manifest, folder, glob or list of entries.
        batch_size: utterances per batch (per bucket).
        sample_rate, mel_config: as in :func:`segment_dataset`; the mel is that of the whole
            utterance (``mel_config.log_mel``) and padded with ``log(log_floor)``.
        bucket_boundaries: audio lengths in samples separating the buckets
            (``tf.data.Dataset.bucket_by_sequence_length``); ``None`` for one padded batch stream.
        text_key: manifest column passed through as a string ``text`` (``None`` to leave it out).
        label_key, label_vocabulary: as in :func:`segment_dataset`.
        max_audio_length: longer files are skipped as ``too_long`` (samples at ``sample_rate``).
        static_shapes: pad every batch to ``max_audio_length`` (required) with ``drop_remainder``,
            so that ``element_spec`` is fully defined (TPU).
        include_path: pass the file path through as ``path``.
        Others: as in :func:`segment_dataset`.

    Returns:
        ``tf.data.Dataset`` of ``{"audio": (B, T), "audio_length": (B,), "mel": (B, F, n_mels),
        "mel_length": (B,), "text": (B,), ["label": (B,)]}`` with ``skip_report``.

    Example:
        >>> ds = utterance_dataset("ljs/metadata.csv", 8, mel_config=MelConfig(),
        ...                        bucket_boundaries=[44100, 88200])             # doctest: +SKIP
    """
    sample_rate, cfg = _resolve_config(sample_rate, mel_config)
    if static_shapes:
        if max_audio_length is None:
            raise ConfigError("static_shapes=True needs max_audio_length")
        drop_remainder = True
    ds = audio_file_dataset(
        source, sample_rate, shuffle=shuffle, seed=seed, deterministic=deterministic, num_shards=num_shards,
        shard_index=shard_index, label_key=label_key, label_vocabulary=label_vocabulary, text_key=text_key,
        include_path=include_path, cache=cache, on_error=on_error, decoder=decoder, max_seconds=max_seconds,
        max_samples=max_audio_length, res_type=res_type, report=report,
    )
    report, vocabulary = ds.skip_report, ds.label_vocabulary
    if repeat:
        ds = ds.repeat()

    def features(elem):
        x = elem["audio"]
        elem["audio_length"] = tf.shape(x)[0]
        if cfg is not None:
            mel = cfg.log_mel(x)
            elem["mel"] = tf.ensure_shape(mel, [None, cfg.n_mels])
            elem["mel_length"] = tf.shape(mel)[0]
        return elem

    ds = ds.map(features, num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    spec = ds.element_spec
    t_len = max_audio_length if static_shapes else None
    padded_shapes = {k: tf.TensorShape([]) for k in spec}
    padded_shapes["audio"] = tf.TensorShape([t_len])
    padding_values = {k: (tf.constant("") if v.dtype == tf.string else tf.constant(0, v.dtype)) for k, v in spec.items()}
    padding_values["audio"] = tf.constant(0.0)
    if cfg is not None:
        padded_shapes["mel"] = tf.TensorShape([cfg.num_frames(t_len) if static_shapes else None, cfg.n_mels])
        padding_values["mel"] = tf.constant(float(np.log(cfg.log_floor)), tf.float32)
    if bucket_boundaries:
        boundaries = sorted(int(b) for b in bucket_boundaries)
        ds = ds.bucket_by_sequence_length(
            element_length_func=lambda e: e["audio_length"],
            bucket_boundaries=boundaries,
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            padded_shapes=padded_shapes,
            padding_values=padding_values,
            drop_remainder=drop_remainder,
        )
    else:
        ds = ds.padded_batch(batch_size, padded_shapes=padded_shapes, padding_values=padding_values,
                             drop_remainder=drop_remainder)
    if drop_remainder:  # bucket_by_sequence_length forgets the static batch size

        def static_batch(batch):
            return {k: tf.ensure_shape(v, [batch_size] + v.shape.as_list()[1:]) for k, v in batch.items()}

        ds = ds.map(static_batch)
    ds = ds.prefetch(AUTOTUNE)
    return _attach(ds, report, vocabulary)


def _tfrecord_api():  # re-exported lazily so that `from audiogen_tf.data import write_tfrecords` works
    from audiogen_tf import data_tfrecord

    return data_tfrecord


def write_tfrecords(*args, **kwargs):
    """See :func:`audiogen_tf.data_tfrecord.write_tfrecords`."""
    return _tfrecord_api().write_tfrecords(*args, **kwargs)


def tfrecord_dataset(*args, **kwargs):
    """See :func:`audiogen_tf.data_tfrecord.tfrecord_dataset`."""
    return _tfrecord_api().tfrecord_dataset(*args, **kwargs)
