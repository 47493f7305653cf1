"""A training console a person can read: a line every N steps with only the losses that are active, the time
per step, the step of the total and the time left; once at the start, where the run's files go.

Keras' own progress bar prints every metric of a trainer, including the terms a recipe switched off (a
GANTrainer without a discriminator reports ``adv_loss: 0.0000e+00 - d_loss: 0.0000e+00 - gp: ...``) and, on a
slow first step, a time per step that counts graph tracing. :class:`TrainingConsole` asks the trainer which
terms are active (``trainer.active_losses(step)``; a trainer without that method shows every log), measures
the time per step from the second step on, and takes the time left from the step budget or a time budget
(a recipe's ``minutes``: :class:`training.budget.StopAtMinutes`; :class:`training.callbacks.TimeBudget`),
whichever ends first. On a terminal it also redraws one live line each batch (a bar over the current epoch).

Example:
    >>> console = TrainingConsole(total_steps=2000, every=100, outputs=[("checkpoints", "runs/x/ckpt")])
    >>> format_duration(3725.0)
    '1h02m'
    >>> trainer.fit(dataset, epochs=20, steps_per_epoch=100, callbacks=[console], verbose=0)  # doctest: +SKIP
    step 100/2000  g_loss 61.2  mel_loss 1.21  stft_loss 2.84 | 0.412 s/step | 13m03s left
"""

from __future__ import annotations

import os
import shutil
import sys
import time

import keras
import numpy as np

#: log entries that count problems rather than measure a loss: shown only when not zero
COUNTERS = ("skipped_steps", "loss_scale_overflows")


def format_duration(seconds: float) -> str:
    """``41s``, ``12m05s``, ``1h02m``: a duration as a person reads it."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _number(value) -> str:
    value = float(np.asarray(value))
    return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"


def active_losses(trainer, step: int) -> list[str] | None:
    """The log names ``trainer`` says are active at ``step`` (``None``: it does not say; show every log)."""
    fn = getattr(trainer, "active_losses", None)
    return list(fn(step)) if callable(fn) else None


def budget_seconds_left(budget) -> float | None:
    """Seconds left of a time budget callback (``StopAtMinutes`` or ``TimeBudget``), ``None`` when unknown."""
    if budget is None:
        return None
    clock = getattr(budget, "clock", None)
    if clock is not None:  # StopAtMinutes: the run's training clock, over every session
        return budget.minutes * 60.0 - clock.train_seconds
    if getattr(budget, "deadline", None) is not None:
        return budget.deadline - time.time()
    if getattr(budget, "seconds", None) is not None and getattr(budget, "start", None) is not None:
        return budget.seconds - (time.time() - budget.start)
    return None


def run_outputs(run_dir, recipe=None, callbacks=()) -> list[tuple[str, str]]:
    """``[(what, where), ...]`` a run writes: checkpoints, history, snapshots, TensorBoard logs, the model."""
    out = []
    if recipe is not None:
        out.append(("checkpoints", f"{os.path.join(run_dir, 'ckpt')} (every {recipe.checkpoint_every} steps, "
                                   f"last {recipe.keep_last} kept)"))
        out.append(("history", f"{os.path.join(run_dir, 'history.csv')} (a row per {recipe.steps_per_epoch} steps)"))
        if recipe.snapshot_minutes:
            out.append(("snapshots", f"{os.path.join(run_dir, 'snapshots')} (every {recipe.snapshot_minutes:g} "
                                     "training minutes)"))
    logs = sorted({os.fspath(cb.log_dir) for cb in callbacks if getattr(cb, "log_dir", None)})
    out.append(("tensorboard", ", ".join(logs) if logs else "none (pass a keras.callbacks.TensorBoard or "
                                                            "training.callbacks.TensorBoardAudio callback)"))
    if recipe is not None:
        out.append(("model", f"{os.path.join(run_dir, 'model.keras')} (at the end)"))
    return out


def for_run(recipe, run_dir, callbacks, verbose) -> tuple[list, int]:
    """``(console callbacks, fit's verbose)`` for :func:`training.run.train`'s ``verbose``.

    ``0``: nothing; ``1``: a :class:`TrainingConsole` (a line every ``steps_per_epoch`` steps, a live line on a
    terminal); ``2``: its lines only (``--quiet``); ``"keras"``: Keras' own progress bar with every metric.
    """
    if verbose == "keras":
        return [], 1
    if not verbose:
        return [], 0
    from training.budget import StopAtMinutes

    budget = next((cb for cb in callbacks if isinstance(cb, StopAtMinutes)), None)
    console = TrainingConsole(recipe.steps, every=recipe.steps_per_epoch, budget=budget, label=recipe.name,
                              outputs=run_outputs(run_dir, recipe, callbacks), live=None if verbose == 1 else False)
    return [console], 0


class TrainingConsole(keras.callbacks.Callback):
    """Readable progress for ``fit(..., verbose=0)``: a line every ``every`` steps, a live line on a terminal.

    Args:
        total_steps: the step the run ends at (``None``: only a time budget ends it; the total is then estimated).
        every: steps between log lines (a line also closes the run).
        budget: a time budget callback of the same ``fit`` (``StopAtMinutes`` or ``TimeBudget``) or ``None``.
        outputs: ``[(what, where), ...]`` printed once at the start (:func:`run_outputs`).
        stream: where to write (default ``sys.stdout``).
        live: redraw a live line each batch (default: when ``stream`` is a terminal).
        label: prefix of every line (e.g. the recipe name).
    """

    def __init__(self, total_steps: int | None = None, every: int = 100, budget=None, outputs=(), stream=None,
                 live: bool | None = None, label: str = ""):
        super().__init__()
        self.total_steps = None if total_steps is None else int(total_steps)
        self.every = max(1, int(every))
        self.budget = budget
        self.outputs = list(outputs)
        self.stream = stream
        self.live = live
        self.prefix = f"{label}: " if label else ""
        self.lines: list[str] = []  # every log line written (tests and callers read them)
        self.step = 0
        self._live_drawn = False

    # -- output ---------------------------------------------------------------------------------------------

    def _out(self):
        return self.stream if self.stream is not None else sys.stdout

    def _write(self, line: str):
        out = self._out()
        out.write(("\r\x1b[K" if self._live_drawn else "") + line + "\n")
        out.flush()
        self._live_drawn = False

    def _draw_live(self, line: str):
        out = self._out()
        width = shutil.get_terminal_size((120, 24)).columns - 1  # a wrapped line could not be redrawn in place
        out.write("\r\x1b[K" + line[:width])
        out.flush()
        self._live_drawn = True

    # -- measurements ---------------------------------------------------------------------------------------

    def seconds_per_step(self) -> float | None:
        """Mean seconds per step since the end of the first step of this ``fit`` (graph tracing excluded)."""
        if self._first_end is None or self.step <= self._first_step:
            return None
        return (self._last_end - self._first_end) / (self.step - self._first_step)

    def time_left(self) -> tuple[float | None, str]:
        """``(seconds, what bounds it)``: the steps left at the measured rate or the time budget, the sooner."""
        rate = self.seconds_per_step()
        by_steps = None
        if self.total_steps is not None and rate is not None:
            by_steps = max(0, self.total_steps - self.step) * rate
        by_budget = budget_seconds_left(self.budget)
        if by_budget is not None and (by_steps is None or by_budget < by_steps):
            return max(0.0, by_budget), "time budget"
        return by_steps, "steps"

    def _total_text(self, left, bound) -> str:
        if self.total_steps is not None and bound == "steps":
            return str(self.total_steps)
        rate = self.seconds_per_step()
        if bound == "time budget" and left is not None and rate:
            estimate = self.step + int(left / rate)
            return f"~{estimate}" if self.total_steps is None else f"~{min(estimate, self.total_steps)}"
        return str(self.total_steps) if self.total_steps is not None else "?"

    def losses_text(self, logs) -> str:
        """``name value`` pairs of the active losses in ``logs`` (counters of problems only when not zero)."""
        logs = logs or {}
        names = active_losses(self.model, self.step) if self.model is not None else None
        if names is None:
            names = [k for k in logs if k not in COUNTERS]
        parts = [f"{n} {_number(logs[n])}" for n in names if n in logs]
        parts += [f"{n} {_number(logs[n])}" for n in COUNTERS if n in logs and float(np.asarray(logs[n])) != 0]
        return "  ".join(parts)

    def format_line(self, logs) -> str:
        """One log line: step/total, the active losses, s/step, time left."""
        left, bound = self.time_left()
        rate = self.seconds_per_step()
        fields = [f"step {self.step}/{self._total_text(left, bound)}"]
        losses = self.losses_text(logs)
        head = "  ".join(fields + ([losses] if losses else []))
        if self.total_steps is not None and self.step >= self.total_steps:
            left_text = "done"
        elif left is None:
            left_text = "time left unknown"
        elif bound == "time budget" and left <= 0:
            left_text = "time budget spent"
        else:
            left_text = f"{format_duration(left)} left" + (" (time budget)" if bound == "time budget" else "")
        tail = [f"{rate:.3g} s/step" if rate is not None else "-- s/step", left_text]
        return self.prefix + head + " | " + " | ".join(tail)

    # -- keras hooks ----------------------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        from training.fault_tolerance import training_step

        self._live_drawn = False
        self._begin = time.time()
        self.step = self._start_step = training_step(self.model)
        self._first_end = self._last_end = None
        self._first_step = self.step
        self._epoch_batch = 0
        self._last_draw = 0.0
        self._last_logs = {}
        self._logged_step = None
        self._steps_in_epoch = None
        if self.live is None:
            self.live = bool(getattr(self._out(), "isatty", lambda: False)())
        for what, where in self.outputs:
            self._write(f"{self.prefix}{what + ':':<13}{where}")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_batch = 0
        self._steps_in_epoch = (self.params or {}).get("steps")

    def on_train_batch_end(self, batch, logs=None):
        now = time.time()
        self.step += 1
        self._epoch_batch += 1
        self._last_logs = logs or {}
        if self._first_end is None:
            self._first_end, self._first_step = now, self.step
            self._first_seconds = now - self._begin
        self._last_end = now
        if self.step % self.every == 0 or (self.total_steps is not None and self.step >= self.total_steps):
            line = self.format_line(logs)
            self._write(line)
            self.lines.append(line)
            self._logged_step = self.step
        elif self.live and now - self._last_draw > 0.25:
            self._last_draw = now
            n = self._steps_in_epoch or self.every
            done = min(self._epoch_batch, n)
            bar = "#" * (20 * done // n) + "-" * (20 - 20 * done // n)
            self._draw_live(f"[{bar}] {done}/{n} " + self.format_line(logs))

    def on_train_end(self, logs=None):
        trained = self.step - self._start_step
        if trained and self._logged_step != self.step:
            line = self.format_line(self._last_logs)
            self._write(line)
            self.lines.append(line)
        if not trained:
            return
        rate = self.seconds_per_step()
        why = ""
        if self.total_steps is None or self.step < self.total_steps:
            left = budget_seconds_left(self.budget)
            if getattr(self.budget, "reached", False) or (left is not None and left <= 0):
                why = ", stopped by the time budget"
        self._write(f"{self.prefix}trained {trained} step(s) in {format_duration(time.time() - self._begin)}"
                    f" (first step {self._first_seconds:.1f} s with graph tracing"
                    + (f", then {rate:.3g} s/step" if rate is not None else "") + f"){why}")
