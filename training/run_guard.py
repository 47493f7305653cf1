"""Guards of a run folder: one ``audiogen train`` at a time (a lock file naming its PID), and a resumed run
refuses recipe changes that alter its features or architecture.

Two trainings in one folder would overwrite each other's checkpoints from step 0; a resumed run on other
features or another model would continue from weights that do not fit them. Budget keys (steps, learning
rates, batch size, minutes, checkpoint period, loss weights...) may change between sessions; everything else
is refused unless ``force``, which moves the old run aside (``RUN.old-<time>``) and starts over.

Example:
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with RunLock(folder) as lock:
    ...     os.path.exists(lock.path)
    True
    >>> os.path.exists(os.path.join(folder, LOCK_FILE))
    False
    >>> resume_changes({"steps": 10, "mel": {"fmax": 4000}}, {"steps": 20, "mel": {"fmax": 1500}})
    (['steps: 10 -> 20'], ['mel.fmax: 4000 -> 1500'])
"""

from __future__ import annotations

import json
import os
import socket
import time

from audiogen_tf.errors import AudiogenError, ConfigError

LOCK_FILE = "train.lock"

#: keys that set how long and how fast a run trains, not what it learns from or what it is: they may change
#: when a run is resumed (with a note)
BUDGET_KEYS = frozenset({
    "name", "data", "data_split", "batch_size", "learning_rate", "d_learning_rate", "beta_1", "beta_2", "weight_decay", "epsilon",
    "lr_decay", "steps", "steps_per_epoch", "checkpoint_every", "keep_last", "on_nonfinite", "seed", "deterministic",
    "cache", "min_files", "minutes", "lr_schedule", "schedule_over", "schedule_length", "schedule_start",
    "lr_final_fraction", "snapshot_minutes", "init_from", "g_clipnorm", "d_clipnorm", "generator_warmup_steps",
    "kl_warmup_steps", "n_critic", "beta", "gp_weight", "griffin_lim_iters", "bucket_boundaries", "moment_batches",
    "lambdas", "adversarial_from_step", "losses", "loss_options",
})
_BUDGET_SUFFIXES = ("_weight", "_weights", "_learning_rate")


class RunLockedError(AudiogenError, RuntimeError):
    """Another live process trains in this run folder (the message names its PID)."""


def _is_budget(key: str) -> bool:
    top = key.split(".")[0]
    return top in BUDGET_KEYS or top.endswith(_BUDGET_SUFFIXES)


def _flat(d, prefix="") -> dict:
    out = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict) and v:
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def resume_changes(stored: dict, new: dict) -> tuple[list[str], list[str]]:
    """``(allowed, refused)``: the keys whose value differs between the stored recipe and the new one, as
    ``"key: old -> new"`` (dict fields by dotted key, e.g. ``mel.fmax``); allowed ones are budget keys."""
    old_flat, new_flat = _flat(stored), _flat(new)
    allowed, refused = [], []
    for key in sorted(set(old_flat) | set(new_flat)):
        a, b = old_flat.get(key), new_flat.get(key)
        if a == b or (a in (None, {}) and b in (None, {})):
            continue
        (allowed if _is_budget(key) else refused).append(f"{key}: {a!r} -> {b!r}".replace("'", ""))
    return allowed, refused


def check_resume(stored_path, recipe, run_dir, force: bool = False) -> tuple[list[str], list[str]]:
    """Compare the run's stored recipe with ``recipe`` before anything is written.

    Returns:
        ``(allowed, refused)`` changes (see :func:`resume_changes`); ``refused`` is non-empty only with ``force``.

    Raises:
        ConfigError: a change alters the features or the architecture and ``force`` is false.
    """
    import yaml

    try:
        with open(stored_path, encoding="utf-8") as f:
            stored = yaml.safe_load(f) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ConfigError(f"{stored_path}: cannot read the run's stored recipe ({type(err).__name__}); pass --force "
                          "to move the old run aside and start over") from err
    if not isinstance(stored, dict):
        stored = {}
    if hasattr(recipe, "migrate"):  # a run stored by an earlier version: its keys in today's form
        stored = recipe.migrate(stored)
    new = yaml.safe_load(yaml.safe_dump(recipe.to_dict()))  # compared as it would be stored (YAML types)
    allowed, refused = resume_changes(stored, new)
    if refused and not force:
        shown = "; ".join(refused[:6]) + (f"; and {len(refused) - 6} more" if len(refused) > 6 else "")
        raise ConfigError(f"{run_dir}: cannot resume with a recipe that changes the features or the model ({shown}): "
                          "its checkpoints were trained on the stored recipe. Use another --out for a new run, or "
                          "--force to move this run aside and start over")
    return allowed, refused


def move_aside(run_dir) -> str:
    """Rename ``run_dir`` to ``run_dir.old-<YYYYmmdd-HHMMSS>`` (a free name); returns the new path."""
    base = f"{os.path.normpath(run_dir)}.old-{time.strftime('%Y%m%d-%H%M%S')}"
    target, n = base, 1
    while os.path.lexists(target):
        n += 1
        target = f"{base}-{n}"
    os.rename(run_dir, target)
    return target


def _start_ticks(pid: int):
    """The process's start time in clock ticks since boot (Linux ``/proc``), to tell a reused PID apart."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int, ticks) -> bool:
    """Whether the lock's process still runs: ``pid`` exists and started at ``ticks`` (not a reused PID)."""
    from audiogen_tf.atomic import pid_alive

    if not pid_alive(pid):
        return False
    now = _start_ticks(pid)
    return ticks is None or now is None or now == ticks


class RunLock:
    """``run_dir/train.lock`` held while a training runs: created exclusively with this PID, host and start
    time; a lock of a live process refuses (:class:`RunLockedError`), one of a dead process on this host is taken
    over with a message. Released (deleted) by :meth:`release` or on leaving a ``with`` block."""

    def __init__(self, run_dir, announce=print):
        self.run_dir = os.fspath(run_dir)
        self.path = os.path.join(self.run_dir, LOCK_FILE)
        self._announce = announce or (lambda *_: None)
        self.acquire()

    def _record(self) -> dict:
        return {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                "ticks": _start_ticks(os.getpid())}

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self._record(), f)
        return True

    def _holder(self) -> dict:
        try:
            with open(self.path, encoding="utf-8") as f:
                held = json.load(f)
            return held if isinstance(held, dict) else {}
        except (OSError, ValueError):
            return {}

    def acquire(self):
        os.makedirs(self.run_dir, exist_ok=True)
        for _ in range(3):
            if self._create():
                return self
            held = self._holder()
            pid = held.get("pid") if isinstance(held.get("pid"), int) else -1
            same_host = held.get("host", socket.gethostname()) == socket.gethostname()
            if pid == os.getpid() or (same_host and _alive(pid, held.get("ticks"))) or (held and not same_host):
                where = "" if same_host else f" on host {held.get('host')}"
                raise RunLockedError(
                    f"{self.run_dir}: another `audiogen train` (PID {pid}{where}, started {held.get('started', '?')}) "
                    f"is using this run folder; wait for it to end, stop it, or train into another --out "
                    f"(lock file {self.path})")
            try:  # a stale lock (its process is gone, or unreadable): take it over
                os.remove(self.path)
            except FileNotFoundError:
                pass
            self._announce(f"{self.run_dir}: taking over a stale lock of PID {pid if pid > 0 else '?'} "
                           f"(started {held.get('started', '?')}), which no longer runs")
        raise RunLockedError(f"{self.run_dir}: could not take the lock {self.path}")

    def release(self):
        """Delete the lock file if it is still this process's."""
        if self._holder().get("pid") == os.getpid():
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass

    def move_run_aside(self) -> str:
        """Move the whole run folder aside (:func:`move_aside`) and hold a fresh lock in a new, empty one."""
        self.release()
        target = move_aside(self.run_dir)
        self.acquire()
        return target

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
