"""Training time as a resource: a clock that survives resumes, a budget in minutes, learning-rate schedules over
steps or minutes, snapshots every N minutes, and warm starts from another run or a shipped preset.

These are recipe keys (``minutes``, ``lr_schedule``, ``schedule_over``, ``schedule_length``, ``schedule_start``,
``lr_final_fraction``, ``snapshot_minutes``, ``init_from``) that :func:`training.run.train` turns into the
callbacks below, so a run trained for a wall-clock budget on two CPU cores is reproduced by ``audiogen train``
alone. The clock (``clock.json`` in the run folder) counts the seconds spent in training batches over every
session, so a run stopped by the machine and resumed later still anneals on schedule.

Example:
    >>> clock = TrainingClock("runs/x")  # doctest: +SKIP
    >>> trainer.fit(ds, callbacks=[clock, StopAtMinutes(clock, 150), LearningRateSchedule(clock, ...)])  # doctest: +SKIP

Papers: Loshchilov & Hutter 2017 (SGDR: the cosine schedule).
"""

from __future__ import annotations

import json
import math
import os
import time

import keras

from audiogen_tf.atomic import atomic_write_text
from audiogen_tf.errors import ConfigError

CLOCK_FILE = "clock.json"
SNAPSHOT_DIR = "snapshots"


class TrainingClock(keras.callbacks.Callback):
    """Seconds spent training, over every session of a run folder (``clock.json``), written each epoch and at the end.

    The time from the start of ``fit`` to the end of its first batch (graph tracing) is not counted, so a
    resumed session does not charge its start-up to the budget.

    Attributes: ``train_seconds`` (all sessions), ``sessions``, ``minutes`` (property).
    """

    def __init__(self, run_dir: str | None = None, is_chief: bool = True):
        super().__init__()
        self.path = os.path.join(run_dir, CLOCK_FILE) if run_dir else None
        self.is_chief = is_chief
        saved = {}
        if self.path and os.path.exists(self.path):
            try:
                with open(self.path, encoding="utf-8") as f:
                    saved = json.load(f)
            except (OSError, ValueError) as err:
                raise ConfigError(f"{self.path}: unreadable training clock ({err}); fix or delete it") from err
        self.train_seconds = float(saved.get("train_seconds", 0.0))
        self.sessions = int(saved.get("sessions", 0))
        self.extra = {k: v for k, v in saved.items() if k not in ("train_seconds", "sessions")}
        self._last = None

    @property
    def minutes(self) -> float:
        return self.train_seconds / 60.0

    def on_train_begin(self, logs=None):
        self.sessions += 1
        self._last = None

    def on_train_batch_end(self, batch, logs=None):
        now = time.monotonic()
        if self._last is not None:
            self.train_seconds += now - self._last
        self._last = now

    def save(self):
        if self.path and self.is_chief:
            state = {**self.extra, "train_seconds": round(self.train_seconds, 3), "sessions": self.sessions}
            atomic_write_text(self.path, json.dumps(state, indent=1, sort_keys=True) + "\n")

    def on_epoch_end(self, epoch, logs=None):
        self.save()

    def on_train_end(self, logs=None):
        self.save()


class StopAtMinutes(keras.callbacks.Callback):
    """Stops ``fit`` once the clock reaches ``minutes`` of training (over every session)."""

    def __init__(self, clock: TrainingClock, minutes: float):
        super().__init__()
        self.clock, self.minutes = clock, float(minutes)
        self.reached = False

    def on_train_begin(self, logs=None):
        if self.clock.minutes >= self.minutes:
            self.reached = True
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        if self.clock.minutes >= self.minutes:
            self.reached = True
            self.model.stop_training = True


def cosine_scale(progress: float, final_fraction: float) -> float:
    """``1`` at ``progress`` 0, ``final_fraction`` at 1 and after, a half cosine in between."""
    progress = min(1.0, max(0.0, progress))
    return final_fraction + (1.0 - final_fraction) * 0.5 * (1.0 + math.cos(math.pi * progress))


class LearningRateSchedule(keras.callbacks.Callback):
    """Sets each optimizer's learning rate to ``base * cosine_scale(progress)`` before every ``every``-th batch.

    Args:
        optimizers: ``[(optimizer, base_learning_rate), ...]`` (a GAN has two).
        over: ``"steps"`` (progress from the trainer's step counter) or ``"minutes"`` (from ``clock``).
        length: steps or minutes the cosine spans; ``start``: the base rate is held until then (a tail branched
            from a trained model gets its own warm restart this way).
        final_fraction: the rate at the end, as a fraction of the base.
        step_fn: ``() -> int``, the trainer's step (for ``over="steps"``).
    """

    def __init__(self, optimizers, over: str, length: float, start: float = 0.0, final_fraction: float = 0.05,
                 clock: TrainingClock | None = None, step_fn=None, every: int = 1):
        super().__init__()
        if over not in ("steps", "minutes"):
            raise ConfigError(f"schedule_over must be 'steps' or 'minutes', got {over!r}")
        self.optimizers, self.over, self.length, self.start = list(optimizers), over, float(length), float(start)
        self.final_fraction, self.clock, self.step_fn, self.every = float(final_fraction), clock, step_fn, int(every)

    def position(self) -> float:
        return self.clock.minutes if self.over == "minutes" else float(self.step_fn())

    def scale(self) -> float:
        span = max(self.length - self.start, 1e-9)
        return cosine_scale((self.position() - self.start) / span, self.final_fraction)

    def _set(self):
        s = self.scale()
        for opt, base in self.optimizers:
            opt.learning_rate.assign(base * s)

    def on_train_begin(self, logs=None):
        self._set()

    def on_train_batch_begin(self, batch, logs=None):
        if batch % self.every == 0:
            self._set()


class Snapshots(keras.callbacks.Callback):
    """Saves ``model``'s weights as ``snapshots/min_XXX.weights.h5`` every ``every_minutes`` of training (the
    learning curve a benchmark scores later); ``snapshots.json`` maps each minute to its step."""

    def __init__(self, clock: TrainingClock, model, run_dir: str, every_minutes: float, step_fn, is_chief=True):
        super().__init__()
        self.clock, self.target, self.every, self.step_fn = clock, model, float(every_minutes), step_fn
        self.folder = os.path.join(run_dir, SNAPSHOT_DIR)
        self.index_path = os.path.join(self.folder, "snapshots.json")
        self.is_chief = is_chief
        self.index = {}
        if os.path.exists(self.index_path):
            with open(self.index_path, encoding="utf-8") as f:
                self.index = json.load(f)

    def on_train_batch_end(self, batch, logs=None):
        minute = int(self.clock.minutes // self.every) * self.every
        key = f"{minute:g}"
        if minute <= 0 or key in self.index or not self.is_chief:
            return
        from audiogen_tf.atomic import atomic_path

        os.makedirs(self.folder, exist_ok=True)
        name = f"min_{minute:03.0f}" if float(minute).is_integer() else f"min_{minute:07.3f}"
        path = os.path.join(self.folder, f"{name}.weights.h5")
        with atomic_path(path, suffix=".weights.h5") as tmp:
            self.target.save_weights(tmp)
        self.index[key] = int(self.step_fn())
        atomic_write_text(self.index_path, json.dumps(self.index, indent=1, sort_keys=True) + "\n")


def _source_weights(source: str, target) -> tuple[dict, str]:
    """``{variable path: array}`` of ``source``: a run folder (its ``model.keras`` or newest checkpoint), a
    ``.keras`` / ``.weights.h5`` file, or a preset name with shipped weights of ``target``'s class."""
    if os.path.isdir(source):
        from training.run import load_run

        _, model = load_run(source)
        return {v.path: v.numpy() for v in model.weights}, f"run {source}"
    if source.endswith(".keras"):
        from audiogen_tf.model_files import load_keras_model
        from zoo.families import zoo_families

        zoo_families()
        model = load_keras_model(source)
        return {v.path: v.numpy() for v in model.weights}, f"model {source}"
    if source.endswith(".weights.h5"):
        clone = type(target).from_config(target.get_config())
        clone.load_weights(source)
        return {v.path: v.numpy() for v in clone.weights}, f"weights {source}"
    cls = type(target)
    if not hasattr(cls, "presets") or source not in cls.presets():
        raise ConfigError(f"init_from {source!r}: not a run folder, a .keras / .weights.h5 file or a preset of "
                          f"{cls.__name__}")
    model = cls.from_preset(source)
    return {v.path: v.numpy() for v in model.weights}, f"preset {source}"


def warm_start(model, source: str) -> dict:
    """Copy into ``model`` every weight of ``source`` whose path and shape match (a warm start).

    Returns:
        ``{"source", "matched", "unmatched"}`` (counts; ``unmatched_names`` lists up to 10 of ``model``'s weights left
        as initialised).

    Raises:
        ConfigError: nothing matched (a different architecture).
    """
    weights, described = _source_weights(os.fspath(source), model)
    matched, unmatched = 0, []
    for v in model.weights:
        w = weights.get(v.path)
        if w is not None and tuple(w.shape) == tuple(v.shape):
            v.assign(w)
            matched += 1
        else:
            unmatched.append(v.path)
    if matched == 0:
        raise ConfigError(f"init_from {source!r}: none of {len(model.weights)} weights matched {described} "
                          "(a different architecture?)")
    return {"source": described, "matched": matched, "unmatched": len(unmatched), "unmatched_names": unmatched[:10]}


def _optimizers(trainer) -> list:
    """The trainer's optimizers: a GAN's two players' or a plain model's one."""
    found = [getattr(trainer, name, None) for name in ("g_optimizer", "d_optimizer")]
    found = [o for o in found if o is not None]
    if not found and getattr(trainer, "optimizer", None) is not None:
        found = [trainer.optimizer]
    return found


def base_learning_rates(trainer) -> list:
    """``[(optimizer, its learning rate now), ...]``: taken before a checkpoint restores annealed rates."""
    out = []
    for opt in _optimizers(trainer):
        lr = opt.learning_rate
        if hasattr(lr, "numpy") and not callable(getattr(opt, "_learning_rate", None)):
            out.append((opt, float(lr.numpy())))
    return out


def recipe_callbacks(recipe, run_dir, trainer, models, base_rates, is_chief=True) -> list:
    """The callbacks a recipe's budget keys ask for (a clock whenever any of them is set)."""
    from training.fault_tolerance import training_step

    wants_clock = recipe.minutes or recipe.snapshot_minutes or (recipe.lr_schedule == "cosine"
                                                                and recipe.schedule_over == "minutes")
    clock = TrainingClock(run_dir, is_chief) if wants_clock else None
    cbs = [clock] if clock else []
    if recipe.minutes:
        cbs.append(StopAtMinutes(clock, recipe.minutes))
    if recipe.lr_schedule == "cosine":
        length = recipe.schedule_length or (recipe.minutes if recipe.schedule_over == "minutes" else recipe.steps)
        if not base_rates:
            raise ConfigError(f"{recipe.name}: lr_schedule 'cosine' needs optimizers with a plain learning rate "
                              "(set lr_decay: 1.0)")
        cbs.append(LearningRateSchedule(base_rates, recipe.schedule_over, length, recipe.schedule_start,
                                        recipe.lr_final_fraction, clock=clock,
                                        step_fn=lambda: training_step(trainer)))
    if recipe.snapshot_minutes:
        cbs.append(Snapshots(clock, models.get("generator", models.get("model")), run_dir, recipe.snapshot_minutes,
                             step_fn=lambda: training_step(trainer), is_chief=is_chief))
    return cbs
