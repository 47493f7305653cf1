"""Training the CNN encoders as classifiers with plain ``compile``/``fit`` on a manifest and a label column.

The built-in corpora are small, so clips are loaded once into NumPy (:func:`load_labelled_clips`, cropped or
zero-padded to the encoder's input length), then fed through ``tf.data`` with optional SpecAugment-style
masking (:func:`audiogen_tf.augment.waveform_spec_augment`). Any manifest works: the notes (``label`` /
``timbre`` or ``pitch``), the sound effects (``label``) or a Speech Commands folder read by
``audiogen_tf.datasets.readers`` (written to a manifest or passed as a list of entries).

Example:
    >>> from audiogen_tf.datasets.notes import make_notes
    >>> manifest = make_notes("/tmp/notes", progress=False)                          # doctest: +SKIP
    >>> enc, vocab, hist = train_encoder("mel_cnn_tiny", manifest, "timbre", epochs=5)  # doctest: +SKIP
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from audiogen_tf import audio as audio_io
from audiogen_tf.augment import augment_map
from audiogen_tf.judge import fit_length
from audiogen_tf.manifest import load_entries


def label_vocabulary(entries, label_key: str) -> list[str]:
    """Sorted distinct values of ``label_key`` (numeric order when all are integers)."""
    values = {str(e[label_key]) for e in entries if e.get(label_key) not in (None, "")}
    if values and all(v.lstrip("-").isdigit() for v in values):
        return sorted(values, key=int)
    return sorted(values)


def load_labelled_clips(source, label_key: str = "label", sample_rate: int = 16000, num_samples: int = 16000,
                        split: str | None = None, vocabulary=None):
    """Clips and integer labels of a manifest (or folder, glob, list of entries).

    Args:
        source: anything :func:`audiogen_tf.manifest.load_entries` takes.
        label_key: manifest column holding the class.
        sample_rate: Hz to load at (resampled if needed).
        num_samples: clip length (cropped from the start / zero-padded).
        split: keep only entries whose ``split`` column equals this, or is in this list (``None``: all).
        vocabulary: class names in id order (default: from all entries of ``source``, so that splits agree).

    Returns:
        ``(audio float32 (n, num_samples), labels int32 (n,), vocabulary list[str])``.
    """
    entries = load_entries(source)
    vocabulary = list(vocabulary) if vocabulary is not None else label_vocabulary(entries, label_key)
    index = {v: i for i, v in enumerate(vocabulary)}
    if split is not None:
        wanted = {split} if isinstance(split, str) else set(split)
        entries = [e for e in entries if e.get("split") in wanted]
    clips, labels = [], []
    for e in entries:
        clips.append(audio_io.load(e["path"], sr=sample_rate)[0])
        labels.append(index[str(e[label_key])])
    audio = fit_length(clips, num_samples) if clips else np.zeros((0, num_samples), np.float32)
    return audio, np.asarray(labels, np.int32), vocabulary


def labelled_dataset(audio, labels, batch_size: int = 32, shuffle: bool = True, augment: dict | bool | None = None,
                     seed: int = 0) -> tf.data.Dataset:
    """``tf.data`` of ``(audio (batch, time), label (batch,))`` from arrays; ``augment``: SpecAugment kwargs or True."""
    ds = tf.data.Dataset.from_tensor_slices((np.asarray(audio, np.float32), np.asarray(labels, np.int32)))
    if shuffle:
        ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    if augment:
        kwargs = augment if isinstance(augment, dict) else {}
        ds = ds.map(augment_map(waveform=True, **kwargs), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def compile_classifier(encoder, learning_rate: float = 1e-3):
    """``compile`` with Adam, sparse categorical cross-entropy on logits and accuracy."""
    encoder.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return encoder


def train_encoder(encoder, source, label_key: str = "label", *, epochs: int = 10, batch_size: int = 32,
                  learning_rate: float = 1e-3, augment: dict | bool | None = None, train_split="train",
                  valid_split="valid", verbose: int = 0, seed: int = 0):
    """Train an encoder (instance or preset name) as a classifier of ``label_key`` on ``source``.

    Args:
        encoder: a built encoder, or a preset name (``num_classes`` is then the vocabulary size).
        source: manifest / folder / list of entries with ``label_key`` (and a ``split`` column if splits are used).
        label_key: the class column, e.g. ``"timbre"``, ``"pitch"``, ``"label"``.
        epochs, batch_size, learning_rate: of ``fit`` / Adam.
        augment: SpecAugment kwargs for :func:`audiogen_tf.augment.waveform_spec_augment`, True for defaults.
        train_split, valid_split: value(s) of the ``split`` column (``None``: all entries / no validation).
        verbose: ``fit`` verbosity.

    Returns:
        ``(encoder, vocabulary, history)``.
    """
    keras.utils.set_random_seed(seed)
    vocabulary = label_vocabulary(load_entries(source), label_key)
    if isinstance(encoder, str):
        from zoo.encoders.encoders_presets import MEL_CNN_PRESETS  # noqa: F401  (registers the presets)
        from zoo.encoders.encoders_mel_cnn import MelCNNEncoder
        from zoo.encoders.encoders_waveform_cnn import WaveformCNNEncoder

        cls = MelCNNEncoder if encoder in MelCNNEncoder.presets() else WaveformCNNEncoder
        encoder = cls.from_preset(encoder, num_classes=len(vocabulary))
    sr, n = encoder.sample_rate, encoder.num_samples or 16000
    x, y, _ = load_labelled_clips(source, label_key, sr, n, train_split, vocabulary)
    valid = None
    if valid_split is not None:
        vx, vy, _ = load_labelled_clips(source, label_key, sr, n, valid_split, vocabulary)
        valid = (vx, vy) if len(vy) else None
    compile_classifier(encoder, learning_rate)
    history = encoder.fit(labelled_dataset(x, y, batch_size, augment=augment, seed=seed), epochs=epochs,
                          validation_data=valid, shuffle=False, verbose=verbose)  # the dataset shuffles
    return encoder, vocabulary, history
