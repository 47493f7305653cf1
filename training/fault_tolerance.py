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
import shutil
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


def checkpoint_paths(directory) -> list[str]:
    """Prefixes of the checkpoints listed in ``directory``'s index, oldest first."""
    state = tf.train.get_checkpoint_state(os.fspath(directory))
    return list(state.all_model_checkpoint_paths) if state else []


def _quarantine(directory, path, remaining):
    """Move a bad checkpoint's files to ``directory/corrupt/`` and drop it from the index."""
    bad_dir = os.path.join(directory, "corrupt")
    os.makedirs(bad_dir, exist_ok=True)
    for f in glob.glob(glob.escape(path) + ".*"):
        shutil.move(f, os.path.join(bad_dir, os.path.basename(f)))
    if remaining:
        tf.compat.v1.train.update_checkpoint_state(directory, remaining[-1], all_model_checkpoint_paths=remaining)
    else:
        index = os.path.join(directory, "checkpoint")
        if os.path.exists(index):
            os.remove(index)


def restore_with_fallback(model, directory) -> int | None:
    """Restore the newest *readable* checkpoint of ``directory`` into a compiled ``model``.

    A checkpoint that fails to load (truncated or corrupt files, or non-finite weights) is moved to
    ``directory/corrupt/`` with a :class:`CheckpointFallbackWarning`, and the previous one is tried. A readable
    checkpoint of a different model (the recipe changed) raises ``ConfigError`` and moves nothing.

    Args:
        model: a compiled ``GANTrainer`` or Keras model (optimizers built).
        directory: the checkpoint folder.

    Returns:
        the restored training step, or ``None`` when no checkpoint could be read.
    """
    from audiogen_tf.errors import ConfigError

    directory = os.fspath(directory)
    paths = checkpoint_paths(directory)
    while paths:
        path = paths[-1]
        try:
            status = tf.train.Checkpoint(**checkpoint_items(model)).restore(path)
            problem = None if weights_finite(model) else "it holds non-finite weights"
        except tf.errors.OpError as err:  # unreadable: truncated, corrupt (CRC mismatch) or missing files
            text = str(err).strip()
            problem = text.splitlines()[0][:200] if text else type(err).__name__
        except (AssertionError, ValueError) as err:  # readable but not this model: a different recipe
            raise ConfigError(f"checkpoint {path} does not match the model (was the recipe changed?): {err}") from err
        if problem is None:
            try:
                status.assert_existing_objects_matched()
            except AssertionError as err:
                raise ConfigError(f"checkpoint {path} does not match the model (was the recipe changed?): {err}") from err
            return training_step(model)
        paths = paths[:-1]
        fallback = os.path.basename(paths[-1]) if paths else "none (starting afresh)"
        warnings.warn(f"checkpoint {path} could not be restored ({problem}); falling back to {fallback}",
                      CheckpointFallbackWarning, stacklevel=2)
        _quarantine(directory, path, paths)
    return None


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

    def restore(self, model) -> int | None:
        """Restore the newest readable checkpoint (see :func:`restore_with_fallback`)."""
        return restore_with_fallback(model, self.directory)

    def restore_latest(self, trainer) -> int | None:
        return self.restore(trainer)

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
