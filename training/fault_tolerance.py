"""Fault tolerance for long runs: scheduled checkpoints that never store a non-finite state, resume with a
fall-back past a corrupt latest checkpoint, and a non-finite-loss policy (skip the update or stop).

It extends :class:`training.callbacks.StepCheckpoint` (one checkpoint mechanism): the same ``tf.train``
checkpoints (written to temporary files and indexed only once complete, the newest ``keep_last`` kept) for a
``GANTrainer`` (generator, discriminators, both optimizers, step counter, noise state) or any compiled Keras model
(weights and optimizer), refusing to save when a loss or a weight is not finite.

Example:
    >>> ckpt = FaultTolerantCheckpoint("runs/a/ckpt", every_n_steps=500, keep_last=3)   # doctest: +SKIP
    >>> step = ckpt.restore(trainer) or 0       # newest readable checkpoint, a warning per corrupt one  # doctest: +SKIP
    >>> trainer.fit(ds, callbacks=[ckpt, NonFiniteGuard("stop"), StopAtStep(10000)])    # doctest: +SKIP
"""

from __future__ import annotations

import glob
import logging
import os
import re
import shutil
import time
import warnings

import keras
import numpy as np
import tensorflow as tf

from training.callbacks import StepCheckpoint, _step_of

log = logging.getLogger(__name__)


class CheckpointFallbackWarning(UserWarning):
    """The newest checkpoint could not be read; an older one was used."""


def _weights_module(model) -> tf.Module:
    module = tf.Module(name=f"{model.name}_weights")
    module.weights_list = list(model.weights)
    return module


def checkpoint_items(model) -> dict:
    """Trackable training state of ``model``: ``model.checkpoint_items()`` (``GANTrainer``) or weights + optimizer."""
    if hasattr(model, "checkpoint_items"):
        return model.checkpoint_items()
    items = {"model": _weights_module(model)}
    if getattr(model, "optimizer", None) is not None:
        items["optimizer"] = model.optimizer
    return items


def training_step(model) -> int:
    """Steps trained so far (the ``GANTrainer`` counter, else the optimizer's iterations)."""
    return _step_of(model)


def weights_finite(model) -> bool:
    """True when every weight of ``model`` is finite."""
    for w in model.weights:
        value = np.asarray(w.numpy() if hasattr(w, "numpy") else w)
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            return False
    return True


STATE_FILE = "checkpoint"
_DATA_RE = re.compile(r"^(?P<prefix>.+-(?P<step>\d+))\.(?:index|data-\d+-of-\d+)$")


def _read_state(directory):
    """``(state, problem)``: the parsed ``checkpoint`` state file, or ``None`` and why it is unusable
    (``problem`` is ``None`` when the file is simply absent)."""
    from google.protobuf import text_format
    from tensorflow.python.checkpoint.checkpoint_management import CheckpointState

    path = os.path.join(directory, STATE_FILE)
    if not os.path.exists(path):
        return None, None
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        state = text_format.Parse(text, CheckpointState())
    except Exception as err:  # ParseError, UnicodeDecodeError, OSError
        return None, f"unreadable ({type(err).__name__}: {str(err).splitlines()[0][:120] if str(err) else ''})"
    if not state.model_checkpoint_path:
        return None, "empty" if not text.strip() else "names no checkpoint"
    return state, None


def _absolute(directory, prefix) -> str:
    return prefix if os.path.isabs(prefix) else os.path.join(directory, prefix)


def checkpoint_paths(directory) -> list[str]:
    """Prefixes of the checkpoints listed in ``directory``'s state file, oldest first ([] if it is absent or garbled)."""
    directory = os.fspath(directory)
    state, _ = _read_state(directory)
    return [_absolute(directory, p) for p in state.all_model_checkpoint_paths] if state else []


def _step_number(prefix) -> int:
    match = re.search(r"-(\d+)$", prefix)
    return int(match.group(1)) if match else -1


def checkpoints_on_disk(directory) -> list[str]:
    """Prefixes of every checkpoint with a file (``.index`` or a data shard) in ``directory``, oldest step first."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        return []
    prefixes = set()
    for name in os.listdir(directory):
        match = _DATA_RE.match(name)
        if match and os.path.isfile(os.path.join(directory, name)):
            prefixes.add(os.path.join(directory, match.group("prefix")))
    return sorted(prefixes, key=_step_number)


def remove_partial_saves(directory) -> list[str]:
    """Delete the ``<prefix>_temp`` folders a save leaves when it dies midway (never a complete checkpoint)."""
    removed = []
    for path in glob.glob(os.path.join(glob.escape(os.fspath(directory)), "*_temp")):
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def verify_checkpoint(prefix) -> str | None:
    """``None`` when every file of the checkpoint ``prefix`` reads back intact, else the problem in a few words.

    Reads every tensor, so TensorFlow checks each one's CRC32C: truncation, zeroed or flipped bytes, a missing
    shard or a missing index all show up here, before the model sees the checkpoint.
    """
    if not os.path.exists(prefix + ".index"):
        return "its .index file is missing"
    try:
        reader = tf.train.load_checkpoint(prefix)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except Exception as err:  # OpError (DataLoss, OutOfRange, NotFound), IndexError, ValueError...
        text = str(err).strip()
        return f"{type(err).__name__}: {text.splitlines()[0][:160]}" if text else type(err).__name__
    return None


def _unique(path) -> str:
    candidate, n = path, 1
    while os.path.exists(candidate):
        candidate, n = f"{path}.{n}", n + 1
    return candidate


def _set_aside(directory, prefix) -> list[str]:
    """Move a damaged checkpoint's files to ``directory/corrupt/`` (never deleted); the new paths."""
    bad_dir = os.path.join(directory, "corrupt")
    os.makedirs(bad_dir, exist_ok=True)
    moved = []
    for f in glob.glob(glob.escape(prefix) + ".*"):
        if _DATA_RE.match(os.path.basename(f)):
            dest = _unique(os.path.join(bad_dir, os.path.basename(f)))
            shutil.move(f, dest)
            moved.append(dest)
    return moved


def _write_state(directory, prefixes, old_state) -> None:
    """Rewrite the state file listing ``prefixes`` (oldest first) with timestamps, so that a new
    ``tf.train.CheckpointManager`` keeps rotating them (without timestamps it silently forgets them)."""
    state_path = os.path.join(directory, STATE_FILE)
    if not prefixes:
        if os.path.exists(state_path):
            os.remove(state_path)
        return
    known = {}
    if old_state is not None:
        known = {_absolute(directory, p): t for p, t in zip(old_state.all_model_checkpoint_paths,
                                                           old_state.all_model_checkpoint_timestamps)}
    stamps = []
    for p in prefixes:
        stamp = known.get(p)
        if stamp is None:
            stamp = os.path.getmtime(p + ".index") if os.path.exists(p + ".index") else time.time()
        stamps.append(stamp)
    stamps = [max(stamps[:i + 1]) for i in range(len(stamps))]  # never decreasing, oldest first
    preserved = old_state.last_preserved_timestamp if old_state is not None and old_state.last_preserved_timestamp \
        else min(stamps) - 1.0
    from google.protobuf import text_format
    from tensorflow.python.checkpoint.checkpoint_management import CheckpointState

    from audiogen_tf.atomic import atomic_write_text

    names = [os.path.basename(p) for p in prefixes]  # relative to the folder, as CheckpointManager writes them
    state = CheckpointState(model_checkpoint_path=names[-1], all_model_checkpoint_paths=names,
                            all_model_checkpoint_timestamps=stamps,
                            last_preserved_timestamp=min(preserved, min(stamps) - 1e-3))
    atomic_write_text(state_path, text_format.MessageToString(state))


def restore_with_fallback(model, directory, start_over: bool = False, repair: bool = True) -> int | None:
    """Restore the newest *intact* checkpoint of ``directory`` into a compiled ``model``.

    The candidates are the checkpoints named in the ``checkpoint`` state file *and* those found on disk, so a
    garbled, empty or deleted state file never hides good checkpoints. Each candidate, newest first, is read back
    in full (:func:`verify_checkpoint`); a damaged one (truncated, zeroed, bit-flipped, a shard or its index
    missing, or non-finite weights) is moved to ``directory/corrupt/`` with a :class:`CheckpointFallbackWarning`
    and the previous one is tried. The state file is then rewritten to list every remaining checkpoint (with
    timestamps, so that they keep rotating), and a garbled one is kept as ``corrupt/checkpoint``.

    Args:
        model: a compiled ``GANTrainer`` or Keras model (optimizers built).
        directory: the checkpoint folder.
        start_over: when *no* checkpoint is intact, move them all aside and return ``None`` (a fresh start)
            instead of raising.
        repair: move damaged files aside and rewrite the state file; ``False`` only reads (e.g. ``synthesize``).

    Returns:
        the restored training step, or ``None`` when the folder holds no checkpoint at all.

    Raises:
        CheckpointError: there are checkpoint files but none is intact (and not ``start_over``); nothing is moved.
        ConfigError: an intact checkpoint of a different model (the recipe changed); nothing is moved.
    """
    from audiogen_tf.errors import CheckpointError, ConfigError

    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        return None
    if repair:
        remove_partial_saves(directory)
    state, state_problem = _read_state(directory)
    listed = [_absolute(directory, p) for p in state.all_model_checkpoint_paths] if state else []
    candidates = sorted(set(listed) | set(checkpoints_on_disk(directory)), key=_step_number)
    candidates = [p for p in candidates if glob.glob(glob.escape(p) + ".*")]  # listed ones with files
    if state_problem and candidates:
        warnings.warn(f"{os.path.join(directory, STATE_FILE)} is {state_problem}; found "
                      f"{', '.join(os.path.basename(p) for p in candidates)} on disk", CheckpointFallbackWarning,
                      stacklevel=2)
    damaged = []  # (prefix, problem), newest first
    chosen, step = None, None
    for path in reversed(candidates):
        problem = verify_checkpoint(path)
        if problem is None:
            try:
                status = tf.train.Checkpoint(**checkpoint_items(model)).restore(path)
                status.assert_existing_objects_matched()
            except (AssertionError, ValueError, tf.errors.OpError) as err:
                raise ConfigError(f"checkpoint {path} does not match the model (was the recipe changed?): "
                                  f"{str(err).splitlines()[0][:300] if str(err) else type(err).__name__}") from err
            problem = None if weights_finite(model) else "it holds non-finite weights"
        if problem is None:
            chosen, step = path, training_step(model)
            break
        damaged.append((path, problem))
    if chosen is None and damaged and not start_over:
        found = "; ".join(f"{os.path.basename(p)}: {why}" for p, why in damaged)
        raise CheckpointError(f"{directory}: no checkpoint can be restored ({found}). The files are left as they "
                              "are; rerun with --force to move them to corrupt/ and start from step 0")
    for path, problem in damaged:
        after = os.path.basename(chosen) if chosen else "none (starting from step 0, as asked)"
        warnings.warn(f"checkpoint {path} could not be restored ({problem}); falling back to {after}",
                      CheckpointFallbackWarning, stacklevel=2)
    if repair:
        for path, _ in damaged:
            _set_aside(directory, path)
        if state_problem:
            bad_dir = os.path.join(directory, "corrupt")
            os.makedirs(bad_dir, exist_ok=True)
            shutil.move(os.path.join(directory, STATE_FILE), _unique(os.path.join(bad_dir, STATE_FILE)))
        bad = {p for p, _ in damaged}
        remaining = [p for p in candidates if p not in bad]
        if damaged or state_problem or remaining != listed:
            _write_state(directory, remaining, state)
    return step


class FaultTolerantCheckpoint(StepCheckpoint):
    """``StepCheckpoint`` for any trainer or Keras model that never writes a non-finite state.

    Args:
        directory: checkpoint folder; on a non-chief worker of a multi-worker run the files go to a scratch
            folder beside it (every worker must take part in saving).
        every_n_steps: save period in training steps.
        keep_last: checkpoints kept.
        save_on_train_end: also save when ``fit`` ends (if the state is finite).
        is_chief: whether this process owns ``directory``.

    Example:
        >>> cb = FaultTolerantCheckpoint("/tmp/run/ckpt", every_n_steps=100)  # doctest: +SKIP
    """

    def __init__(self, directory, every_n_steps=1000, keep_last=3, save_on_train_end=True, is_chief=True):
        directory = os.fspath(directory)
        if not is_chief:
            directory = os.path.join(os.path.dirname(os.path.abspath(directory)), f".scratch-{os.getpid()}")
        super().__init__(directory, every_n_steps=every_n_steps, keep_last=keep_last,
                         save_on_train_end=save_on_train_end)
        self.is_chief = bool(is_chief)

    def _manager_for(self, trainer):
        if self._manager is None or self._manager_owner is not trainer:
            ckpt = tf.train.Checkpoint(**checkpoint_items(trainer))
            self._manager = tf.train.CheckpointManager(ckpt, self.directory, max_to_keep=self.keep_last)
            self._manager_owner = trainer
        return self._manager

    @staticmethod
    def _finite(trainer, logs) -> bool:
        return StepCheckpoint._finite(trainer, logs) and weights_finite(trainer)

    def restore(self, model, start_over: bool = False, repair: bool = True) -> int | None:
        """Restore the newest intact checkpoint (see :func:`restore_with_fallback`)."""
        return restore_with_fallback(model, self.directory, start_over=start_over, repair=repair)

    def restore_latest(self, trainer) -> int | None:
        return self.restore(trainer)

    def save(self, trainer, logs=None) -> str | None:
        """Write a checkpoint now (unless the state is non-finite); its path or ``None``.

        Raises:
            CheckpointError: the write failed (a full disk, a read-only folder...). The half-written files are
                removed and the earlier checkpoints stay intact and listed, so the same command resumes from them.
        """
        from audiogen_tf.errors import CheckpointError

        step = _step_of(trainer)
        try:
            return super().save(trainer, logs)
        except (tf.errors.OpError, OSError) as err:
            remove_partial_saves(self.directory)
            listed = set(checkpoint_paths(self.directory))
            for prefix in checkpoints_on_disk(self.directory):
                if _step_number(prefix) == step and prefix not in listed:
                    for f in glob.glob(glob.escape(prefix) + ".*"):
                        os.remove(f)
            self._manager = None  # its bookkeeping may now name a checkpoint that does not exist
            kept = checkpoint_paths(self.directory)
            left = (f"the newest intact checkpoint is {os.path.basename(kept[-1])}; free space and rerun the same "
                    "command to resume from it") if kept else "no earlier checkpoint exists"
            reason = getattr(err, "strerror", None) or str(getattr(err, "message", "") or err).splitlines()[0][:200]
            raise CheckpointError(f"{self.directory}: could not save checkpoint ckpt-{step} "
                                  f"({type(err).__name__}: {reason}); {left}") from err

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        if not self.is_chief and os.path.isdir(self.directory):
            shutil.rmtree(self.directory, ignore_errors=True)


class NonFiniteGuard(keras.callbacks.Callback):
    """Act on a step whose loss is not finite: ``"skip"`` (the update was not applied; go on) or ``"stop"``.

    A ``GANTrainer`` already skips non-finite updates and flags them (``last_step_finite``); for a plain Keras
    model a non-finite ``loss`` in the logs counts, and as ``fit`` has applied its update, ``"skip"`` stops too
    once the weights are non-finite. Either way the checkpoint callbacks refuse to save that state.

    Args:
        policy: ``"skip"`` or ``"stop"``.

    Attributes:
        nonfinite_steps: the training steps found non-finite.
    """

    def __init__(self, policy="skip"):
        super().__init__()
        if policy not in ("skip", "stop"):
            raise ValueError(f"policy must be 'skip' or 'stop', got {policy!r}")
        self.policy = policy
        self.nonfinite_steps: list[int] = []

    def on_train_batch_end(self, batch, logs=None):
        flag = getattr(self.model, "last_step_finite", None)
        finite = bool(flag.numpy()) if flag is not None else True
        value = (logs or {}).get("loss")
        if flag is None and value is not None:
            try:
                finite = bool(np.isfinite(float(np.asarray(value))))
            except (TypeError, ValueError):
                pass
        if finite:
            return
        step = training_step(self.model)
        self.nonfinite_steps.append(step)
        if self.policy == "stop":
            log.warning("non-finite loss at step %d: stopping (on_nonfinite=stop)", step)
            self.model.stop_training = True
        elif flag is None and not weights_finite(self.model):  # plain fit applied the update: nothing left to skip
            log.warning("non-finite loss at step %d made the weights non-finite: stopping; the last checkpoint is "
                        "the last finite state", step)
            self.model.stop_training = True
        else:
            log.warning("non-finite loss at step %d: update skipped (on_nonfinite=skip)", step)


class StopAtStep(keras.callbacks.Callback):
    """Stop ``fit`` once the training step reaches ``steps`` (so a resumed run ends where a straight one does)."""

    def __init__(self, steps: int):
        super().__init__()
        self.steps = int(steps)

    def on_train_batch_end(self, batch, logs=None):
        if training_step(self.model) >= self.steps:
            self.model.stop_training = True
