"""Sharded TFRecord files of pre-computed examples (audio, mel, label, text, ...), written atomically.

Each example is a ``tf.train.Example`` that describes itself: a float array ``k`` is stored as raw
little-endian float32 bytes with its shape in ``k/shape``; an integer array as an int64 list with
``k/shape``; integer and float scalars as one-element lists; strings (scalars) as bytes. The reader infers the
schema from the first record, so the files need no side file. Examples are dealt round-robin over
the shards and read back by interleaving the shards one record at a time, which restores the
written order exactly.

Example:
    >>> paths = write_tfrecords(segment_ds.unbatch(), "/tmp/tfr/train", num_shards=4)   # doctest: +SKIP
    >>> ds = tfrecord_dataset("/tmp/tfr/train-*.tfrecord", batch_size=16)                # doctest: +SKIP
"""

from __future__ import annotations

import glob
import os
import tempfile

import numpy as np
import tensorflow as tf

from audiogen_tf.errors import ConfigError

AUTOTUNE = tf.data.AUTOTUNE


def _bytes(values):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))


def _int64(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def _float(values):
    return tf.train.Feature(float_list=tf.train.FloatList(value=values))


def _encode(value) -> dict:
    """Features of one value under key "" (the value) and "/shape" (arrays only)."""
    if isinstance(value, (bytes, str)):
        return {"": _bytes([value.encode("utf-8") if isinstance(value, str) else value])}
    arr = np.asarray(value)
    kind = arr.dtype.kind
    if kind in "SUO" and arr.ndim == 0:
        v = arr.item()
        return {"": _bytes([v.encode("utf-8") if isinstance(v, str) else bytes(v)])}
    if kind in "iub":
        flat = arr.astype(np.int64).reshape(-1).tolist()
        return {"": _int64(flat)} if arr.ndim == 0 else {"": _int64(flat), "/shape": _int64(arr.shape)}
    if kind == "f":
        if arr.ndim == 0:
            return {"": _float([float(arr)])}
        return {"": _bytes([arr.astype("<f4").tobytes()]), "/shape": _int64(arr.shape)}
    raise ConfigError(f"cannot store a value of dtype {arr.dtype} in a TFRecord")


def _trim(example: dict) -> dict:
    """Cut ``k`` to ``k_length`` (padding of utterance batches) along its first axis."""
    out = dict(example)
    for key, value in example.items():
        n = example.get(f"{key}_length")
        if n is not None and np.ndim(value) >= 1:
            out[key] = np.asarray(value)[: int(n)]
    return out


def serialize_example(example: dict) -> bytes:
    """One ``tf.train.Example`` (bytes) from a dict of NumPy values, strings or scalars."""
    features = {}
    for key, value in _trim(example).items():
        if "/" in key:
            raise ConfigError(f"feature names may not contain '/': {key!r}")
        for suffix, feature in _encode(value).items():
            features[key + suffix] = feature
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def _iterate(examples):
    if isinstance(examples, tf.data.Dataset):
        spec = examples.element_spec
        if not isinstance(spec, dict):
            raise ConfigError("write_tfrecords needs a dataset of dicts")
        audio = spec.get("audio")
        if audio is not None and audio.shape.rank == 2:  # batched: write one example per row
            examples = examples.unbatch()
        return examples.as_numpy_iterator()
    return iter(examples)


def write_tfrecords(dataset_or_examples, out_prefix, num_shards: int = 1, compression: str | None = None) -> list[str]:
    """Write examples round-robin into ``{out_prefix}-{i:05d}-of-{n:05d}.tfrecord`` files, atomically.

    Args:
        dataset_or_examples: a ``tf.data.Dataset`` of dicts (batched ones are unbatched, and
            ``audio``/``mel`` cut to ``audio_length``/``mel_length`` when present) or an iterable of
            dicts of NumPy values / strings / scalars.
        out_prefix: path prefix of the shards.
        num_shards: number of files.
        compression: ``None`` or ``"GZIP"``.

    Returns:
        The shard paths. Every shard is written to a temporary file in the same folder and renamed
        only when all are complete, so a crash never leaves a partial set.

    Example:
        >>> write_tfrecords([{"audio": np.zeros(4, np.float32), "label": 3}], "/tmp/x/ex")  # doctest: +SKIP
    """
    if num_shards < 1:
        raise ConfigError(f"num_shards must be >= 1, got {num_shards}")
    out_prefix = os.fspath(out_prefix)
    folder = os.path.dirname(os.path.abspath(out_prefix))
    os.makedirs(folder, exist_ok=True)
    finals = [f"{out_prefix}-{i:05d}-of-{num_shards:05d}.tfrecord" for i in range(num_shards)]
    temps = []
    for _ in finals:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".tfrecord", dir=folder)
        os.close(fd)
        temps.append(tmp)
    options = tf.io.TFRecordOptions(compression_type=compression or "")
    writers = [tf.io.TFRecordWriter(t, options) for t in temps]
    try:
        count = 0
        for i, example in enumerate(_iterate(dataset_or_examples)):
            writers[i % num_shards].write(serialize_example(example))
            count += 1
        for w in writers:
            w.close()
        if count == 0:
            raise ConfigError("write_tfrecords: no examples to write")
        for tmp, final in zip(temps, finals):
            os.replace(tmp, final)
    except BaseException:
        for w in writers:
            w.close()
        for t in temps:
            if os.path.exists(t):
                os.remove(t)
        raise
    return finals


def _schema(path: str, compression):
    """``{key: (kind, rank)}`` from the first record: kind in float/int/string, rank None for scalars."""
    first = next(iter(tf.data.TFRecordDataset(path, compression_type=compression or "").take(1)), None)
    if first is None:
        raise ConfigError(f"{path}: empty TFRecord file")
    feats = tf.train.Example.FromString(first.numpy()).features.feature
    schema = {}
    for key, f in feats.items():
        if key.endswith("/shape"):
            continue
        shape = feats.get(key + "/shape")
        rank = None if shape is None else len(shape.int64_list.value)
        which = f.WhichOneof("kind")
        if which == "bytes_list":
            kind = "string" if rank is None else "float"  # float arrays are raw float32 bytes
        elif which == "int64_list":
            kind = "int"
        else:
            kind = "float"
        schema[key] = (kind, rank)
    return schema


def _parser(schema):
    spec = {}
    for key, (kind, rank) in schema.items():
        if rank is None:
            dtype = {"float": tf.float32, "int": tf.int64, "string": tf.string}[kind]
            spec[key] = tf.io.FixedLenFeature([], dtype)
        else:
            spec[key + "/shape"] = tf.io.FixedLenFeature([rank], tf.int64)
            if kind == "float":
                spec[key] = tf.io.FixedLenFeature([], tf.string)
            else:
                spec[key] = tf.io.VarLenFeature(tf.int64)

    def parse(record):
        raw = tf.io.parse_single_example(record, spec)
        out = {}
        for key, (kind, rank) in schema.items():
            value = raw[key]
            if rank is not None:
                if kind == "float":
                    value = tf.io.decode_raw(value, tf.float32, little_endian=True)
                else:
                    value = tf.sparse.to_dense(value)
                value = tf.reshape(value, raw[key + "/shape"])
                value = tf.ensure_shape(value, [None] * rank)
            if kind == "int":
                value = tf.cast(value, tf.int32)
            out[key] = value
        return out

    return parse


def tfrecord_dataset(
    pattern,
    batch_size: int | None = None,
    shuffle: bool = False,
    seed: int | None = None,
    shuffle_buffer: int = 1024,
    num_shards: int = 1,
    shard_index: int = 0,
    drop_remainder: bool = False,
    compression: str | None = None,
):
    """Read examples written by :func:`write_tfrecords` back, in the written order unless shuffled.

    Args:
        pattern: glob of the shard files (e.g. ``"/data/train-*.tfrecord"``) or a list of paths.
        batch_size: ``None`` for single examples, else zero-padded batches.
        shuffle, seed, shuffle_buffer: shuffle shard order and examples.
        num_shards, shard_index: this worker's share of the files.
        drop_remainder: drop the last partial batch.
        compression: ``None`` or ``"GZIP"``, as written.

    Returns:
        ``tf.data.Dataset`` of dicts: float arrays float32, integers int32, strings ``tf.string``.

    Example:
        >>> ds = tfrecord_dataset("/tmp/x/ex-*.tfrecord")   # doctest: +SKIP
    """
    files = sorted(pattern) if isinstance(pattern, (list, tuple)) else sorted(glob.glob(os.fspath(pattern)))
    if not files:
        raise ConfigError(f"{pattern}: no TFRecord files found")
    schema = _schema(files[0], compression)
    ds = tf.data.Dataset.from_tensor_slices(files)
    if num_shards > 1:
        ds = ds.shard(num_shards, shard_index)
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.interleave(
        lambda f: tf.data.TFRecordDataset(f, compression_type=compression or ""),
        cycle_length=len(files), block_length=1, num_parallel_calls=AUTOTUNE, deterministic=not shuffle,
    )
    ds = ds.map(_parser(schema), num_parallel_calls=AUTOTUNE, deterministic=not shuffle)
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if batch_size is not None:
        ds = ds.padded_batch(batch_size, drop_remainder=drop_remainder)
    if num_shards > 1:  # sharded by hand: keep tf.distribute from sharding again
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
        ds = ds.with_options(options)
    return ds.prefetch(AUTOTUNE)
