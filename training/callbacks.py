"""Keras callbacks for the trainers: step checkpoints that resume exactly, TensorBoard audio/spectrograms, and a
wall-clock training budget.

Example:
    >>> ckpt = StepCheckpoint("runs/hifigan/ckpt", every_n_steps=1000, keep_last=3)  # doctest: +SKIP
    >>> ckpt.restore_latest(trainer)  # after trainer.compile(...); None when there is nothing to resume  # doctest: +SKIP
    >>> trainer.fit(dataset, callbacks=[ckpt, TensorBoardAudio("runs/hifigan/tb", examples, 22050)])  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import os
import time

import keras
import numpy as np
import tensorflow as tf

log = logging.getLogger(__name__)


class TimeBudget(keras.callbacks.Callback):
    """Stops ``fit`` once a wall-clock budget is spent (checked after every batch).

    Args:
        seconds: budget counted from the start of ``fit`` or, with ``exclude_first_batch``, from the end of the
            first batch (so graph tracing is not charged to training).
        deadline: alternatively an absolute ``time.time()`` at which to stop.
        exclude_first_batch: see ``seconds``; ``compile_seconds`` then holds the first batch's duration.

    Attributes after ``fit``: ``batches`` (batches run), ``start`` (``time.time()`` the budget started counting,
    ``None`` if no batch ran), ``compile_seconds``.
    """

    def __init__(self, seconds: float | None = None, deadline: float | None = None, exclude_first_batch=False):
        super().__init__()
        if (seconds is None) == (deadline is None):
            raise ValueError("TimeBudget needs exactly one of seconds or deadline")
        self.seconds, self.deadline, self.exclude_first_batch = seconds, deadline, bool(exclude_first_batch)
        self.start, self.batches, self.compile_seconds = None, 0, 0.0

    def on_train_begin(self, logs=None):
        self.begin = time.time()
        self.start = None if self.exclude_first_batch else self.begin

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        now = time.time()
        if self.start is None:  # end of the first batch with exclude_first_batch
            self.start, self.compile_seconds = now, now - self.begin
            return
        if (self.deadline is not None and now >= self.deadline) or (
                self.seconds is not None and now - self.start > self.seconds):
            self.model.stop_training = True


class HistoryCSV(keras.callbacks.Callback):
    """Per-epoch logs in a CSV file (``epoch`` then the sorted metric names), rewritten atomically each epoch.

    Unlike ``keras.callbacks.CSVLogger(append=True)``, a resumed run replaces the rows of the epochs it trains
    again (no epoch is listed twice), and a failure (a full disk) leaves the previous complete file, never a
    truncated or 0-byte one.

    Args:
        path: the CSV file.
        initial_epoch: the first epoch this ``fit`` trains; rows from it on are dropped when training begins.
    """

    def __init__(self, path, initial_epoch: int = 0):
        super().__init__()
        self.path = os.fspath(path)
        self.initial_epoch = int(initial_epoch)
        self.rows: list[dict] = []
        self.columns: list[str] = []

    def on_train_begin(self, logs=None):
        import csv

        self.rows, self.columns = [], []
        if os.path.exists(self.path):
            try:
                with open(self.path, encoding="utf-8", newline="") as f:
                    reader = csv.DictReader(f)
                    self.columns = [c for c in (reader.fieldnames or []) if c != "epoch"]
                    for row in reader:
                        try:
                            if int(row.get("epoch", "")) < self.initial_epoch:
                                self.rows.append(row)
                        except ValueError:
                            continue
            except (OSError, UnicodeDecodeError, csv.Error) as err:
                log.warning("%s: unreadable (%s); starting a new history", self.path, err)
                self.rows, self.columns = [], []

    def on_epoch_end(self, epoch, logs=None):
        import csv
        import io

        from audiogen_tf.atomic import atomic_write_text

        row = {"epoch": str(int(epoch))}
        for key, value in (logs or {}).items():
            try:
                row[key] = repr(float(np.asarray(value)))
            except (TypeError, ValueError):
                row[key] = str(value)
        self.rows = [r for r in self.rows if r.get("epoch") != row["epoch"]] + [row]
        self.columns += sorted(k for k in row if k != "epoch" and k not in self.columns)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=["epoch", *self.columns], restval="NA", extrasaction="ignore",
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_text(self.path, buf.getvalue())


def _checkpoint_for(trainer) -> tf.train.Checkpoint:
    if not hasattr(trainer, "checkpoint_items"):
        raise TypeError("StepCheckpoint needs a trainer with checkpoint_items() (e.g. training.gan_trainer.GANTrainer)")
    return tf.train.Checkpoint(**trainer.checkpoint_items())


def _step_of(trainer) -> int:
    counter = getattr(trainer, "train_step_counter", None)
    if counter is not None:
        return int(counter.numpy())
    return int(trainer.optimizer.iterations.numpy())


#: the parts of a ``GANTrainer`` checkpoint that continue a generator under a new discriminator (warm start)
GENERATOR_PARTS = ("generator", "g_optimizer", "train_step", "skipped_steps", "seed_state")


def restore_latest(trainer, directory, parts=None) -> int | None:
    """Restore the newest checkpoint in ``directory`` into a compiled ``trainer``.

    Restores generator, discriminators, both optimizers (moments, iteration counts), the step counter and the
    noise generator state, so training continues exactly where it stopped. With ``parts`` only those items of
    ``trainer.checkpoint_items()`` are restored (each must be in the checkpoint); e.g. :data:`GENERATOR_PARTS`
    continues a generator trained without discriminators when a new, freshly initialised discriminator joins.

    Args:
        trainer: a compiled ``GANTrainer`` (its optimizers are built by ``compile``).
        directory: the folder of a :class:`StepCheckpoint`.
        parts: names of the checkpoint items to restore (default: all).

    Returns:
        the restored step, or ``None`` when the folder holds no checkpoint.

    Example:
        >>> restore_latest(trainer, "runs/ckpt")  # doctest: +SKIP
        3
    """
    path = tf.train.latest_checkpoint(os.fspath(directory))
    if path is None:
        return None
    if parts is None:
        checkpoint = _checkpoint_for(trainer)
    else:
        items = trainer.checkpoint_items()
        unknown = sorted(set(parts) - set(items))
        if unknown:
            raise ValueError(f"restore_latest: the trainer has no checkpoint items {unknown}; it has {sorted(items)}")
        checkpoint = tf.train.Checkpoint(**{name: items[name] for name in parts})
    status = checkpoint.restore(path)
    status.assert_existing_objects_matched()
    return _step_of(trainer)


class StepCheckpoint(keras.callbacks.Callback):
    """Save the trainer's full state every ``every_n_steps`` training steps (``tf.train.CheckpointManager``).

    A checkpoint is written only when the last step's losses are finite; the manager keeps the newest
    ``keep_last`` and writes its index only after the data files are complete, so a crash never leaves a
    half-written latest checkpoint.

    Args:
        directory: folder of the checkpoints (``ckpt-<step>.index`` / ``.data-*`` and ``checkpoint``).
        every_n_steps: save period in training steps (the trainer's own step counter).
        keep_last: checkpoints kept.
        save_on_train_end: also save when ``fit`` ends (if the state is finite).

    Example:
        >>> cb = StepCheckpoint("/tmp/run/ckpt", every_n_steps=500)  # doctest: +SKIP
        >>> cb.restore_latest(trainer)  # doctest: +SKIP
    """

    def __init__(self, directory, every_n_steps=1000, keep_last=3, save_on_train_end=False):
        super().__init__()
        if int(every_n_steps) < 1:
            raise ValueError(f"every_n_steps must be >= 1, got {every_n_steps}")
        self.directory = os.fspath(directory)
        self.every_n_steps = int(every_n_steps)
        self.keep_last = int(keep_last)
        self.save_on_train_end = bool(save_on_train_end)
        self._manager = None
        self._manager_owner = None
        self._last_saved = None
        self.skipped_saves = 0

    def _manager_for(self, trainer):
        if self._manager is None or self._manager_owner is not trainer:
            ckpt = _checkpoint_for(trainer)
            self._manager = tf.train.CheckpointManager(ckpt, self.directory, max_to_keep=self.keep_last)
            self._manager_owner = trainer
        return self._manager

    def restore_latest(self, trainer) -> int | None:
        """Restore the newest checkpoint of this callback's folder into ``trainer``; the restored step or ``None``."""
        return restore_latest(trainer, self.directory)

    @staticmethod
    def _finite(trainer, logs) -> bool:
        flag = getattr(trainer, "last_step_finite", None)
        if flag is not None and not bool(flag.numpy()):
            return False
        for key, value in (logs or {}).items():
            if key.endswith("loss"):
                try:
                    if not math.isfinite(float(np.asarray(value))):
                        return False
                except (TypeError, ValueError):
                    continue
        return True

    def save(self, trainer, logs=None) -> str | None:
        """Write a checkpoint now (unless the state is non-finite); its path or ``None``."""
        step = _step_of(trainer)
        if not self._finite(trainer, logs):
            self.skipped_saves += 1
            log.warning("StepCheckpoint: not saving step %d, the last loss is not finite", step)
            return None
        path = self._manager_for(trainer).save(checkpoint_number=step)
        self._last_saved = step
        return path

    def on_train_batch_end(self, batch, logs=None):
        step = _step_of(self.model)
        if step % self.every_n_steps == 0 and step != self._last_saved:
            self.save(self.model, logs)

    def on_train_end(self, logs=None):
        if self.save_on_train_end and _step_of(self.model) != self._last_saved:
            self.save(self.model, logs)

    @property
    def checkpoints(self) -> list[str]:
        """Paths of the kept checkpoints, oldest first."""
        state = tf.train.get_checkpoint_state(self.directory)
        return list(state.all_model_checkpoint_paths) if state else []


# ---------------------------------------------------------------------------------------------
# TensorBoard


def _metadata(plugin_name: str, content: bytes = b""):
    from tensorflow.core.framework import summary_pb2

    meta = summary_pb2.SummaryMetadata()
    meta.plugin_data.plugin_name = plugin_name
    meta.plugin_data.content = content
    return meta


def write_scalar(name, value, step):
    """``tf.summary.scalar``; without TensorBoard installed, the same record written with ``tf.summary.write``."""
    try:
        return tf.summary.scalar(name, value, step=step)
    except Exception as err:  # TBNotInstalledError
        if "TensorBoard is not installed" not in str(err):
            raise
        return tf.summary.write(name, tf.constant(float(value), tf.float32), step=step, metadata=_metadata("scalars"))


def write_audio(name, audio, sample_rate, step, max_outputs=3):
    """``tf.summary.audio`` of (k, time, channels) in [-1, 1]; a WAV-encoded fallback record without TensorBoard."""
    audio = tf.clip_by_value(tf.convert_to_tensor(audio, tf.float32), -1.0, 1.0)
    try:
        return tf.summary.audio(name, audio, int(sample_rate), step=step, max_outputs=max_outputs, encoding="wav")
    except Exception as err:
        if "TensorBoard is not installed" not in str(err):
            raise
        clips = audio[:max_outputs]
        wavs = [tf.audio.encode_wav(clips[i], int(sample_rate)) for i in range(int(clips.shape[0]))]
        tensor = tf.stack([tf.stack([w, tf.constant(b"")]) for w in wavs])  # (k, 2): wav, label
        # AudioPluginData{encoding: WAV (= 11)}: field 2, varint.
        return tf.summary.write(name, tensor, step=step, metadata=_metadata("audio", b"\x10\x0b"))


def write_image(name, image_uint8, step):
    """``tf.summary.image`` of one RGB uint8 image (height, width, 3); a PNG-encoded fallback without TensorBoard."""
    image = np.asarray(image_uint8, np.uint8)
    try:
        return tf.summary.image(name, image[None], step=step, max_outputs=1)
    except Exception as err:
        if "TensorBoard is not installed" not in str(err):
            raise
        png = tf.io.encode_png(image)
        tensor = tf.stack([tf.constant(str(image.shape[1]).encode()), tf.constant(str(image.shape[0]).encode()), png])
        return tf.summary.write(name, tensor, step=step, metadata=_metadata("images"))


def alignment_image(alignments, lengths=None, max_outputs=3) -> np.ndarray:
    """Attention alignments as one RGB ``uint8`` picture ``(height, width, 3)``, a panel per example.

    Args:
        alignments: (batch, decoder_steps, text_len) attention weights (e.g. Tacotron 2's ``"alignments"``).
        lengths: optional (batch, 2) valid ``(decoder_steps, text_len)`` per example; panels are cropped to them.
        max_outputs: panels drawn.

    Example:
        >>> alignment_image(np.eye(6)[None]).dtype
        dtype('uint8')
    """
    from audiogen_tf.plotting import spectrogram_figure_array

    alignments = np.asarray(alignments, np.float32)
    if alignments.ndim == 2:
        alignments = alignments[None]
    if alignments.ndim != 3:
        raise ValueError(f"alignments must be (batch, decoder_steps, text_len), got shape {alignments.shape}")
    panels, titles = [], []
    for i in range(min(int(max_outputs), alignments.shape[0])):
        a = alignments[i]
        if lengths is not None:
            a = a[: int(lengths[i][0]), : int(lengths[i][1])]
        panels.append(a)
        titles.append(f"example {i}: alignment (x: decoder step, y: encoder step)")
    return spectrogram_figure_array(panels, titles)


class TensorBoardAudio(keras.callbacks.Callback):
    """Write the epoch's scalars, generated audio, log-mel spectrograms and attention alignments to TensorBoard.

    Args:
        log_dir: event-file folder.
        examples: fixed validation inputs: ``{"mel": (k, frames, n_mels), "audio": (k, time) optional}`` for a
            vocoder, ``{"noise": (k, latent_dim), "label": (k,) optional}`` for an unconditional GAN, an array
            fed to the generator as is, or ``None`` (no audio; with ``alignment_fn`` only alignments).
        sample_rate: Hz of the generated audio.
        every_n_epochs: audio and pictures period (scalars are written every epoch).
        max_outputs: clips written per epoch.
        mel_config: ``MelConfig`` of the pictures (default: ``MelConfig(sample_rate=sample_rate)``).
        alignment_fn: optional ``fn(model) -> (k, decoder_steps, text_len)`` attention alignments of the fixed
            examples (e.g. ``lambda m: m(val_inputs)["alignments"]`` for Tacotron 2), written as the image
            ``"alignment"`` at each evaluation; it may also return ``(alignments, lengths (k, 2))`` to crop padding.

    Example:
        >>> cb = TensorBoardAudio("runs/tb", {"mel": val["mel"][:3], "audio": val["audio"][:3]}, 22050)  # doctest: +SKIP
        >>> cb = TensorBoardAudio("runs/tb", None, 22050,
        ...                       alignment_fn=lambda m: m(val_inputs, training=False)["alignments"])  # doctest: +SKIP
    """

    def __init__(self, log_dir, examples, sample_rate, every_n_epochs=1, max_outputs=3, mel_config=None,
                 alignment_fn=None):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        if examples is not None and not isinstance(examples, dict):
            examples = {"input": examples}
        self.examples = {k: np.asarray(v) for k, v in examples.items()} if examples is not None else None
        self.alignment_fn = alignment_fn
        self.sample_rate = int(sample_rate)
        self.every_n_epochs = max(1, int(every_n_epochs))
        self.max_outputs = int(max_outputs)
        self.mel_config = mel_config
        self._writer = None
        self._wrote_reference = False

    @property
    def writer(self):
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        return self._writer

    def _generator_input(self):
        ex = self.examples
        if "mel" in ex:
            return ex["mel"].astype(np.float32)
        if "noise" in ex:
            noise = ex["noise"].astype(np.float32)
            return [noise, ex["label"].astype(np.int32)] if "label" in ex else noise
        return ex["input"]

    def generate(self) -> np.ndarray:
        """Generated audio of the examples: float32 (k, time, 1)."""
        generator = getattr(self.model, "generator", self.model)
        audio = np.asarray(generator(self._generator_input(), training=False))
        if audio.ndim == 2:
            audio = audio[..., None]
        return audio[: self.max_outputs].astype(np.float32)

    def _log_mel(self, audio):
        from audiogen_tf.features import MelConfig

        cfg = self.mel_config or MelConfig(sample_rate=self.sample_rate, fmax=None)
        return np.asarray(cfg.log_mel(tf.convert_to_tensor(audio, tf.float32))), cfg.hop_length

    def _spectrogram_image(self, generated, reference=None):
        from audiogen_tf.plotting import spectrogram_figure_array

        specs, titles = [], []
        gen_mel, hop = self._log_mel(generated[..., 0])
        for i in range(gen_mel.shape[0]):
            if reference is not None and i < reference.shape[0]:
                ref_mel, _ = self._log_mel(reference[i])
                specs.append(ref_mel)
                titles.append(f"example {i}: reference")
            specs.append(gen_mel[i])
            titles.append(f"example {i}: generated")
        return spectrogram_figure_array(specs, titles, sample_rate=self.sample_rate, hop_length=hop)

    def write_alignments(self, step):
        """Write the ``alignment_fn`` alignments of the fixed examples as the image ``"alignment"``."""
        out = self.alignment_fn(self.model)
        lengths = None
        if isinstance(out, (tuple, list)) and len(out) == 2:
            out, lengths = out
            lengths = np.asarray(lengths)
        write_image("alignment", alignment_image(np.asarray(out), lengths, self.max_outputs), step)

    def _step(self):
        counter = getattr(self.model, "train_step_counter", None)
        if counter is None and getattr(self.model, "optimizer", None) is not None:
            counter = self.model.optimizer.iterations  # a plain Keras model (e.g. Tacotron 2)
        return int(counter.numpy()) if counter is not None else 0

    def on_epoch_end(self, epoch, logs=None):
        step = self._step()
        with self.writer.as_default():
            for key, value in (logs or {}).items():
                try:
                    write_scalar(key, float(np.asarray(value)), step)
                except (TypeError, ValueError):
                    continue
            if (epoch + 1) % self.every_n_epochs == 0 and self.alignment_fn is not None:
                self.write_alignments(step)
            if (epoch + 1) % self.every_n_epochs == 0 and self.examples is not None:
                generated = self.generate()
                reference = self.examples.get("audio")
                if reference is not None:
                    reference = reference[: self.max_outputs].astype(np.float32)
                    if not self._wrote_reference:
                        write_audio("reference_audio", reference[..., None], self.sample_rate, step, self.max_outputs)
                        self._wrote_reference = True
                write_audio("generated_audio", generated, self.sample_rate, step, self.max_outputs)
                write_image("spectrogram", self._spectrogram_image(generated, reference), step)
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.flush()
