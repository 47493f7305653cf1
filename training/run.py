"""Run a recipe: build the dataset, the model and its trainer inside the strategy scope, then ``fit`` with
fault-tolerant callbacks; running it again on the same folder resumes from the last good checkpoint.

A run folder holds ``recipe.yaml`` (the resolved recipe), ``ckpt/`` (``tf.train`` checkpoints: weights, both
optimizers of a GAN, the step counter, the noise state), ``history.csv`` and, at the end, ``model.keras``
(the generator, or the model). The data position is the step counter: the input pipeline is deterministic for
a seed, so a resumed run skips the batches already trained on and sees the very batches a straight run would.

Example:
    >>> from training.recipes import load_recipe
    >>> recipe = load_recipe("hifigan", ["generator_preset=hifigan_tiny", "steps=20"])   # doctest: +SKIP
    >>> result = train(recipe, data="data/notes/manifest.csv", out="runs/hifigan")      # doctest: +SKIP
    >>> result.step, result.resumed_from                                                # doctest: +SKIP
    (20, None)
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os

import keras
import tensorflow as tf

from audiogen_tf.errors import ConfigError
from training import budget as budget_callbacks
from training import console as training_console
from training import run_guard
from training import strategy as strategies
from training.callbacks import HistoryCSV
from training.fault_tolerance import FaultTolerantCheckpoint, NonFiniteGuard, StopAtStep, training_step
from training.families import train_family
from training.recipes import TrainRecipe, load_recipe, recipe_from_dict, save_recipe

log = logging.getLogger(__name__)

RECIPE_FILE = "recipe.yaml"
CHECKPOINT_DIR = "ckpt"
MODEL_FILE = "model.keras"


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` did.

    Args:
        step: the training step reached.
        resumed_from: the step restored from a checkpoint (``None``: a fresh start).
        history: ``fit``'s ``history.history`` (per-epoch logs) of this invocation.
        run_dir: the run folder; ``model_path``: the saved generator / model (``None`` on a non-chief worker or
            when training stopped on a non-finite loss).
        stopped_nonfinite: the training steps whose loss was not finite.
    """

    step: int
    resumed_from: int | None
    history: dict
    run_dir: str
    model_path: str | None
    stopped_nonfinite: list


# ----------------------------------------------------------------------------------------------
# Building blocks: each family declares them once (training/families/<family>.py)


def build_models(recipe: TrainRecipe, num_classes: int | None = None) -> dict:
    """The recipe's models: ``{"generator", "discriminators"}`` for GANs, ``{"model"}`` otherwise."""
    return train_family(recipe.family).build_models(recipe, num_classes)


def build_trainer(recipe: TrainRecipe, models: dict):
    """A compiled trainer: ``GANTrainer`` for the GANs, a VAE trainer, or the model itself (``compile``)."""
    return train_family(recipe.family).build_trainer(recipe, models)


def _labels(recipe, source, key):
    if not key:
        return None
    from audiogen_tf.manifest import load_entries
    from zoo.encoders.encoders_training import label_vocabulary

    vocab = label_vocabulary(load_entries(source), key)
    if not vocab:
        raise ConfigError(f"{recipe.name}: the data has no values in the label column {key!r}")
    return vocab


def dataset_fn(recipe: TrainRecipe, source, skip_batches: int = 0, vocabulary=None, models: dict | None = None):
    """``fn(batch_size, num_shards, shard_index) -> tf.data.Dataset`` of the recipe's training batches.

    Batches repeat forever with static shapes (``drop_remainder``); the first ``skip_batches`` are skipped (the
    data position of a resumed run). Elements: ``{"audio", "mel"}`` (vocoders), ``{"audio"[, "label"]}``
    (WaveGAN), ``(ids, targets)`` (WaveNet), ``(audio, label)`` (encoders): whatever the family declares.
    """
    family = train_family(recipe.family)
    common = dict(shuffle=True, seed=recipe.seed, deterministic=recipe.deterministic, cache=recipe.cache,
                  drop_remainder=True, repeat=True)

    def make(batch_size, num_shards, shard_index):
        kw = dict(common, num_shards=num_shards, shard_index=shard_index)
        ds = family.dataset(recipe, source, batch_size, models, vocabulary, kw)
        if skip_batches:
            ds = ds.skip(int(skip_batches))
        return ds

    return make


def build_dataset(recipe: TrainRecipe, source, strategy=None, skip_batches: int = 0, vocabulary=None, models=None):
    """The training input under ``strategy``: global batches, one shard per input pipeline, static shapes on TPU.

    Args:
        recipe: the run's recipe (``batch_size`` is global).
        source: manifest, folder or glob.
        strategy: from :func:`training.strategy.get_strategy` (default: the current one).
        skip_batches: batches already trained on (resume).

    Returns:
        a ``tf.data.Dataset`` (one replica) or a ``tf.distribute.DistributedDataset``.
    """
    strategy = strategy or tf.distribute.get_strategy()
    fn = dataset_fn(recipe, source, skip_batches, vocabulary, models)
    if strategies.is_tpu(strategy):
        inner = fn

        def fn(batch_size, num_shards, shard_index):  # noqa: F811  (TPUs need fully static shapes)
            return strategies.static_shapes(inner(batch_size, num_shards, shard_index))

    return strategies.distribute(strategy, fn, recipe.batch_size)


# ----------------------------------------------------------------------------------------------
# The run


def _resolve_recipe(recipe, run_dir, overrides):
    """The run's recipe: given one, or the run folder's ``recipe.yaml`` (rerun), or a path / bundled name."""
    if isinstance(recipe, TrainRecipe):
        return recipe
    if recipe is None:
        if run_dir is None:
            raise ConfigError("give a recipe or a run folder holding one")
        stored = os.path.join(run_dir, RECIPE_FILE)
        if not os.path.exists(stored):
            raise ConfigError(f"{run_dir}: no {RECIPE_FILE}; give a recipe")
        recipe = stored
    return load_recipe(recipe, overrides)


def recipe_entries(recipe: TrainRecipe, source) -> list[dict]:
    """The manifest entries of ``source`` (one source or a list of them, concatenated), only those whose ``split``
    column is ``recipe.data_split`` when it is set.

    Raises:
        ConfigError: ``data_split`` is set and no entry of ``source`` has that split.
    """
    from audiogen_tf.manifest import load_entries

    sources = source if isinstance(source, list) and not (source and isinstance(source[0], dict)) else [source]
    entries = [e for s in sources for e in load_entries(s)]
    if recipe.data_split:
        kept = [e for e in entries if e.get("split") == recipe.data_split]
        if not kept:
            raise ConfigError(f"{recipe.name}: no entry of {source} has split {recipe.data_split!r} (data_split)")
        return kept
    return entries


def check_data(recipe: TrainRecipe, source, verbose: int = 1):
    """The usable entries of ``source`` and the skipped files, checked as the loader will read them.

    Every file is decoded once (:func:`audiogen_tf.audio.check`): missing, unreadable, corrupt or truncated,
    NaN/Inf, under 10 ms and over 10 min files are skipped and reported (printed when ``verbose``).

    Returns:
        ``(entries, skipped)``: a list of manifest entries and a list of ``AudioFileError``.

    Raises:
        ConfigError: fewer usable files than ``recipe.min_files``.
    """
    from audiogen_tf import audio
    from audiogen_tf.errors import AudioFileError

    entries, skipped = [], []
    for entry in recipe_entries(recipe, source):
        try:
            audio.check(entry["path"])
            entries.append(entry)
        except AudioFileError as err:
            skipped.append(err)
    if skipped and verbose:
        counts = {}
        for err in skipped:
            counts[err.problem] = counts.get(err.problem, 0) + 1
        print(f"{source}: skipped {len(skipped)} of {len(entries) + len(skipped)} file(s) "
              f"({', '.join(f'{k}={v}' for k, v in sorted(counts.items()))}):")
        for err in skipped[:20]:
            print(f"  skipped {err}")
        if len(skipped) > 20:
            print(f"  ... and {len(skipped) - 20} more")
    if len(entries) < recipe.min_files:
        first = f"; first: {skipped[0]}" if skipped else ""
        raise ConfigError(f"{source}: {len(entries)} usable audio file(s) of {len(entries) + len(skipped)}, fewer "
                          f"than min_files={recipe.min_files}{first}")
    return entries, skipped


def train(recipe, data=None, out=None, overrides=(), strategy=None, tpu=None, verbose: int = 1, callbacks=(),
          dataset=None, force: bool = False) -> TrainResult:
    """Train (or resume) a recipe in a run folder.

    Args:
        recipe: a recipe object, a YAML path or a bundled name; ``None`` reruns ``out/recipe.yaml``.
        data: the training audio (manifest, folder, glob); overrides the recipe's ``data``.
        out: the run folder (default ``runs/<recipe name>``).
        overrides: ``["key=value", ...]`` applied to a recipe loaded here.
        strategy: a ``tf.distribute`` strategy (default: :func:`training.strategy.get_strategy` with ``tpu``).
        verbose: the console of :mod:`training.console` (1: a line every ``steps_per_epoch`` steps with the active
            losses, s/step and time left, a live line on a terminal), its lines only (2), none (0), or
            ``"keras"``: Keras' own progress bar with every metric; only the chief prints.
        callbacks: more Keras callbacks.
        dataset: a ready ``tf.data.Dataset`` of training batches to use instead of the recipe's data (its first
            batches are *not* skipped on resume).
        force: when every checkpoint of the run folder is damaged, move them to ``ckpt/corrupt/`` and start from
            step 0 (without it that is a ``CheckpointError``); when the recipe changes the stored one's features or
            model, move the old run aside (``out.old-<time>``) and start over (without it a ``ConfigError``).

    Returns:
        a :class:`TrainResult`.

    Raises:
        ConfigError: a bad recipe, no data or too few usable files, or a resume that changes the stored recipe's
            features or model, before any training (the stored ``recipe.yaml`` is rewritten only after the checks).
        RunLockedError: another live process trains in ``out`` (its PID is in ``out/train.lock``).
        CheckpointError: no checkpoint of the run can be restored (without ``force``), or a save failed.
    """
    recipe = _resolve_recipe(recipe, out, overrides)
    if data is not None:
        recipe = dataclasses.replace(recipe, data=os.fspath(data))
    source = recipe.data
    if source is None and dataset is None:
        raise ConfigError(f"{recipe.name}: no training data; set 'data' in the recipe or pass --data")
    run_dir = os.fspath(out or os.path.join("runs", recipe.name))
    if dataset is None:
        usable, skipped = (train_family(recipe.family).check_data or check_data)(recipe, source, verbose=verbose)
        if skipped or isinstance(source, list) or recipe.data_split:
            source = usable  # the usable files (of the split) only: the same list again on every rerun
    os.makedirs(run_dir, exist_ok=True)

    strategy = strategy or strategies.get_strategy(tpu)
    chief = strategies.is_chief(strategy)
    # mixed_float16: GANTrainer compiles with dynamic loss scaling of both players (loss_scale='auto').
    if recipe.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(recipe.seed)
    policy = strategies.set_precision(recipe.precision, strategy)

    family = train_family(recipe.family)
    if family.prepare is not None:  # e.g. SpecGAN's spectrogram moments of the data
        recipe = family.prepare(recipe, source)
    stored = os.path.join(run_dir, RECIPE_FILE)
    lock = run_guard.RunLock(run_dir, announce=print if verbose else None) if chief else None  # one run per folder
    try:
        if chief and os.path.exists(stored):  # checked before anything of the run is rewritten
            allowed, refused = run_guard.check_resume(stored, recipe, run_dir, force=force)
            if refused:  # only with force
                aside = lock.move_run_aside()
                print(f"{run_dir}: the recipe changes {', '.join(refused)}; --force: the old run was moved to "
                      f"{aside}, starting over")
            elif allowed and verbose:
                print(f"{run_dir}: resuming with changed budget keys: {', '.join(allowed)}")
        if chief:
            save_recipe(recipe, stored)
        vocabulary = None
        if source is not None:
            vocabulary = _labels(recipe, source, getattr(recipe, "label_key", None))
        with strategy.scope():
            models = build_models(recipe, num_classes=len(vocabulary) if vocabulary else None)
            trainer = build_trainer(recipe, models)
            strategies.prepare_model(trainer, strategy)
        ckpt = FaultTolerantCheckpoint(os.path.join(run_dir, CHECKPOINT_DIR), every_n_steps=recipe.checkpoint_every,
                                       keep_last=recipe.keep_last, is_chief=chief)
        base_rates = budget_callbacks.base_learning_rates(trainer)  # before a restore brings annealed rates back
        restored = FaultTolerantCheckpoint(os.path.join(run_dir, CHECKPOINT_DIR)).restore(trainer, start_over=force)
        start = restored or 0
        if not restored and recipe.init_from:
            report = budget_callbacks.warm_start(models.get("generator", models.get("model")), recipe.init_from)
            if verbose and chief:
                print(f"{recipe.name}: warm start from {report['source']}: {report['matched']} weights matched, "
                      f"{report['unmatched']} left as initialised")
        if dataset is None:
            dataset = build_dataset(recipe, source, strategy, skip_batches=start, vocabulary=vocabulary, models=models)
        guard = NonFiniteGuard(recipe.on_nonfinite)
        history = {}
        if start < recipe.steps:
            per_epoch = recipe.steps_per_epoch
            cbs = [ckpt, guard, StopAtStep(recipe.steps),
                   *budget_callbacks.recipe_callbacks(recipe, run_dir, trainer, models, base_rates, chief),
                   *callbacks]
            if chief:  # a resumed run replaces the rows of the epochs it trains again
                cbs.append(HistoryCSV(os.path.join(run_dir, "history.csv"), initial_epoch=start // per_epoch))
            if verbose and chief:
                print(f"{recipe.name}: {'resuming at' if restored else 'starting at'} step {start} of {recipe.steps} "
                      f"({strategy.num_replicas_in_sync} replica(s), {policy})")
            shown, fit_verbose = training_console.for_run(recipe, run_dir, cbs, verbose if chief else 0)
            # shuffle=False: the dataset shuffles itself (Keras warns that fit's default shuffle=True is ignored)
            fit = trainer.fit(dataset, initial_epoch=start // per_epoch, epochs=math.ceil(recipe.steps / per_epoch),
                              steps_per_epoch=per_epoch, callbacks=cbs + shown, verbose=fit_verbose, shuffle=False)
            history = fit.history
        step = training_step(trainer)
        model_path = None
        if chief and not (guard.nonfinite_steps and recipe.on_nonfinite == "stop"):
            model_path = save_model(models.get("generator", models.get("model")), os.path.join(run_dir, MODEL_FILE))
        return TrainResult(step=step, resumed_from=restored, history=history, run_dir=run_dir, model_path=model_path,
                           stopped_nonfinite=list(guard.nonfinite_steps))
    finally:
        if lock is not None:
            lock.release()
        if policy != "float32":
            keras.mixed_precision.set_global_policy("float32")


def save_model(model, path) -> str:
    """Save a Keras model atomically; returns the path."""
    from audiogen_tf.atomic import atomic_path

    with atomic_path(path) as tmp:
        model.save(tmp)
    return os.fspath(path)


def _model_file_is_newest(run_dir) -> bool:
    """Whether the run's ``model.keras`` exists and no checkpoint file was written after it."""
    import glob

    path = os.path.join(run_dir, MODEL_FILE)
    if not os.path.exists(path):
        return False
    written = os.path.getmtime(path)
    return all(os.path.getmtime(f) <= written for f in glob.glob(os.path.join(run_dir, CHECKPOINT_DIR, "*"))
               if os.path.isfile(f))


def load_run(run_dir):
    """``(recipe, model)`` of a run folder: the recipe and its newest generator (or model).

    A finished run's ``model.keras`` (newer than every checkpoint) is loaded alone: the model carries its own
    settings, so nothing of the training run is rebuilt. Otherwise (an interrupted or resumed run) the models and
    trainer are built from the recipe and the newest readable checkpoint is restored into them.
    """
    from audiogen_tf.model_files import load_keras_model
    from zoo.families import zoo_families

    recipe = load_recipe(os.path.join(run_dir, RECIPE_FILE), check_models=False)
    if _model_file_is_newest(run_dir):
        zoo_families()  # registers every zoo class for deserialization
        return recipe, load_keras_model(os.path.join(run_dir, MODEL_FILE))
    ckpt_dir = os.path.join(run_dir, CHECKPOINT_DIR)
    vocabulary = None
    if train_family(recipe.family).labels_size_model and recipe.data and recipe.label_key:
        vocabulary = _labels(recipe, recipe.data, recipe.label_key)
    models = build_models(recipe, num_classes=len(vocabulary) if vocabulary else None)
    trainer = build_trainer(recipe, models)
    step = FaultTolerantCheckpoint(ckpt_dir).restore(trainer, repair=False)  # reading a run never moves its files
    model = models.get("generator", models.get("model"))
    if step is None:
        path = os.path.join(run_dir, MODEL_FILE)
        if not os.path.exists(path):
            raise ConfigError(f"{run_dir}: no checkpoint and no {MODEL_FILE} to synthesize from")
        zoo_families()
        model = load_keras_model(path)
    return recipe, model


__all__ = ["TrainResult", "build_dataset", "build_models", "build_trainer", "dataset_fn", "load_run", "recipe_from_dict",
           "save_model", "train"]
