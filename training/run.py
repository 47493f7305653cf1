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
from audiogen_tf.registry import get_preset
from training import strategy as strategies
from training.callbacks import HistoryCSV
from training.fault_tolerance import FaultTolerantCheckpoint, NonFiniteGuard, StopAtStep, training_step
from training.recipes import (
    CTCRecognizerRecipe,
    CTCTTSRecipe,
    EncoderRecipe,
    FrameRNNRecipe,
    GANVocoderRecipe,
    ModelRecipe,
    SpecGANRecipe,
    Tacotron2Recipe,
    TrainRecipe,
    VAERecipe,
    VQVAERecipe,
    WaveGANRecipe,
    WaveNetRecipe,
    WaveRNNRecipe,
    load_recipe,
    model_class,
    recipe_from_dict,
    save_recipe,
)

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
# Building blocks


def _preset_model(cls, preset, overrides):
    return cls.from_preset(preset, **overrides)


def build_models(recipe: TrainRecipe, num_classes: int | None = None) -> dict:
    """The recipe's models: ``{"generator", "discriminators"}`` for GANs, ``{"model"}`` otherwise."""
    fam = recipe.family
    if isinstance(recipe, GANVocoderRecipe):
        gen_over = dict(recipe.generator_overrides)
        gen_cls = model_class(fam, "generator")
        if "mel_config" in get_preset(gen_cls, recipe.generator_preset):  # carries its features: give it the recipe's
            gen_over.setdefault("mel_config", recipe.mel_config().to_dict())
        else:
            gen_over.setdefault("n_mels", recipe.mel_config().n_mels)
        gen = _preset_model(gen_cls, recipe.generator_preset, gen_over)
        disc = _preset_model(model_class(fam, "discriminator"), recipe.discriminator_preset, recipe.discriminator_overrides)
        return {"generator": gen, "discriminators": [disc]}
    if isinstance(recipe, WaveGANRecipe):
        gen = _preset_model(model_class(fam, "generator"), recipe.generator_preset, recipe.generator_overrides)
        disc = _preset_model(model_class(fam, "discriminator"), recipe.discriminator_preset, recipe.discriminator_overrides)
        return {"generator": gen, "discriminators": [disc]}
    if isinstance(recipe, WaveNetRecipe):
        return {"model": _preset_model(model_class(fam), recipe.model_preset, recipe.model_overrides)}
    if isinstance(recipe, EncoderRecipe):
        overrides = dict(recipe.model_overrides)
        if num_classes is not None:
            overrides["num_classes"] = int(num_classes)
        cls = model_class("encoder", preset=recipe.model_preset)
        return {"model": _preset_model(cls, recipe.model_preset, overrides)}
    if isinstance(recipe, ModelRecipe):
        overrides = dict(recipe.model_overrides)
        cfg = recipe.mel_config()
        if isinstance(recipe, (Tacotron2Recipe, CTCRecognizerRecipe)):
            overrides.setdefault("mel_config", cfg.to_dict())
        elif isinstance(recipe, FrameRNNRecipe):
            overrides.setdefault("n_mels", cfg.n_mels)
            overrides.setdefault("mel_config", cfg.to_dict())
        elif isinstance(recipe, WaveRNNRecipe):
            overrides.setdefault("n_mels", cfg.n_mels)
            overrides.setdefault("hop_length", cfg.hop_length)
        elif isinstance(recipe, VAERecipe) and num_classes is not None:
            overrides["num_classes"] = int(num_classes)
        return {"model": _preset_model(model_class(fam), recipe.model_preset, overrides)}
    raise ConfigError(f"no builder for family {fam!r}")


def _optimizer(recipe, learning_rate=None):
    lr = float(learning_rate if learning_rate is not None else recipe.learning_rate)
    if recipe.lr_decay != 1.0:  # once per "epoch" of steps_per_epoch steps, as torch's ExponentialLR per epoch
        lr = keras.optimizers.schedules.ExponentialDecay(lr, recipe.steps_per_epoch, recipe.lr_decay, staircase=True)
    if recipe.weight_decay:
        return keras.optimizers.AdamW(lr, weight_decay=recipe.weight_decay, beta_1=recipe.beta_1, beta_2=recipe.beta_2,
                                      epsilon=recipe.epsilon)
    return keras.optimizers.Adam(lr, beta_1=recipe.beta_1, beta_2=recipe.beta_2, epsilon=recipe.epsilon)


def build_trainer(recipe: TrainRecipe, models: dict):
    """A compiled trainer: ``GANTrainer`` for the GANs, the model itself (``compile``) otherwise."""
    if "generator" in models:
        from training.gan_trainer import GANTrainer

        vocoder = isinstance(recipe, GANVocoderRecipe)
        gen = models["generator"]
        trainer = GANTrainer(
            gen, models["discriminators"], mode="vocoder" if vocoder else "unconditional",
            latent_dim=getattr(gen, "latent_dim", 100), mel_config=recipe.mel_config() if vocoder else None,
            seed=recipe.seed,
        )
        d_lr = recipe.d_learning_rate if recipe.d_learning_rate is not None else recipe.learning_rate
        common = dict(g_optimizer=_optimizer(recipe), d_optimizer=_optimizer(recipe, d_lr),
                      adversarial_loss=recipe.adversarial_loss)
        if vocoder:
            trainer.compile(
                **common, adversarial_weight=recipe.adversarial_weight, mel_loss_weight=recipe.mel_loss_weight,
                feature_matching_weight=recipe.feature_matching_weight,
                feature_matching_include_score=recipe.feature_matching_include_score,
                stft_loss_weight=recipe.stft_loss_weight,
                subband_stft_loss_weight=recipe.subband_stft_loss_weight,
                generator_warmup_steps=recipe.generator_warmup_steps, g_clipnorm=recipe.g_clipnorm,
                d_clipnorm=recipe.d_clipnorm, amplitude_loss_weight=recipe.amplitude_loss_weight,
                phase_loss_weight=recipe.phase_loss_weight, real_imag_loss_weight=recipe.real_imag_loss_weight,
                consistency_loss_weight=recipe.consistency_loss_weight,
                weighted_phase_loss_weight=recipe.weighted_phase_loss_weight,
            )
        else:
            trainer.compile(**common, gp_weight=recipe.gp_weight, n_critic=recipe.n_critic)
        return trainer
    model = models["model"]
    if isinstance(recipe, (VAERecipe, VQVAERecipe)):
        from training.vae_trainer import VAETrainer, VQVAETrainer

        if isinstance(recipe, VAERecipe):
            trainer = VAETrainer(model, beta=recipe.beta, kl_warmup_steps=recipe.kl_warmup_steps,
                                 reconstruction=recipe.reconstruction)
        else:
            trainer = VQVAETrainer(model, reconstruction=recipe.reconstruction)
        trainer.compile(optimizer=_optimizer(recipe))
        trainer.optimizer.build(model.trainable_variables)
        return trainer
    if isinstance(recipe, (Tacotron2Recipe, CTCRecognizerRecipe)):
        model.compile(optimizer=_optimizer(recipe))  # the loss is the model's compute_loss
    elif isinstance(recipe, FrameRNNRecipe):
        model.compile(optimizer=_optimizer(recipe), loss=recipe.loss)
    elif isinstance(recipe, WaveRNNRecipe):
        model.compile(optimizer=_optimizer(recipe), loss=model.default_loss())
    elif isinstance(recipe, WaveNetRecipe):
        if model.output_type == "mol":
            from zoo.wavenet.wavenet_model import DiscretizedLogisticMixtureLoss

            loss = DiscretizedLogisticMixtureLoss(model.quantization_channels, model.num_mixtures, model.log_scale_min)
        else:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(optimizer=_optimizer(recipe), loss=loss)
    else:
        model.compile(optimizer=_optimizer(recipe), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
    model.optimizer.build(model.trainable_variables)  # so that a checkpoint restores its moments before fit
    return model


def _labels(recipe, source, key):
    if not key:
        return None
    from audiogen_tf.manifest import load_entries
    from zoo.encoders.encoder_training import label_vocabulary

    vocab = label_vocabulary(load_entries(source), key)
    if not vocab:
        raise ConfigError(f"{recipe.name}: the data has no values in the label column {key!r}")
    return vocab


def dataset_fn(recipe: TrainRecipe, source, skip_batches: int = 0, vocabulary=None, models: dict | None = None):
    """``fn(batch_size, num_shards, shard_index) -> tf.data.Dataset`` of the recipe's training batches.

    Batches repeat forever with static shapes (``drop_remainder``); the first ``skip_batches`` are skipped (the
    data position of a resumed run). Elements: ``{"audio", "mel"}`` (vocoders), ``{"audio"[, "label"]}``
    (WaveGAN), ``(ids, targets)`` (WaveNet), ``(audio, label)`` (encoders).
    """
    from audiogen_tf.data import segment_dataset

    common = dict(shuffle=True, seed=recipe.seed, deterministic=recipe.deterministic, cache=recipe.cache,
                  drop_remainder=True, repeat=True)

    def make(batch_size, num_shards, shard_index):
        shards = dict(num_shards=num_shards, shard_index=shard_index)
        if isinstance(recipe, GANVocoderRecipe):
            ds = segment_dataset(source, recipe.segment_length, batch_size, mel_config=recipe.mel_config(),
                                 **shards, **common)
        elif isinstance(recipe, SpecGANRecipe):
            gen = (models or {}).get("generator")
            if gen is None:
                raise ConfigError("a SpecGAN dataset needs the generator (its spectrogram normalization)")
            ds = segment_dataset(source, recipe.segment_length, batch_size, sample_rate=recipe.sample_rate,
                                 label_key=recipe.label_key, label_vocabulary=vocabulary, **shards, **common)
            ds = ds.map(lambda e: {"audio": gen.audio_to_spec(e["audio"]),
                                   **({"label": e["label"]} if "label" in e else {})})
        elif isinstance(recipe, WaveGANRecipe):
            ds = segment_dataset(source, recipe.segment_length, batch_size, sample_rate=recipe.sample_rate,
                                 label_key=recipe.label_key, label_vocabulary=vocabulary, **shards, **common)
            ds = ds.map(lambda e: {k: v for k, v in e.items() if k in ("audio", "label")})
        elif isinstance(recipe, WaveNetRecipe):
            from zoo.wavenet.wavenet_model import wavenet_dataset

            model = (models or {}).get("model")
            q = model.quantization_channels if model is not None else 256
            mel = recipe.mel_config() if model is not None and model.local_channels else None
            ds = wavenet_dataset(source, recipe.segment_length, batch_size, recipe.sample_rate, quantization_channels=q,
                                 mel_config=mel, global_key=recipe.global_key, **shards, **common)
        elif isinstance(recipe, EncoderRecipe):
            ds = segment_dataset(source, recipe.segment_length, batch_size, sample_rate=recipe.sample_rate,
                                 label_key=recipe.label_key, label_vocabulary=vocabulary, **shards, **common)
            ds = ds.map(lambda e: (e["audio"], e["label"]))
        elif isinstance(recipe, ModelRecipe):
            ds = _model_dataset(recipe, source, batch_size, (models or {}).get("model"), vocabulary,
                                dict(shards, **common))
        else:
            raise ConfigError(f"no dataset for family {recipe.family!r}")
        if skip_batches:
            ds = ds.skip(int(skip_batches))
        return ds

    return make


def _model_dataset(recipe, source, batch_size, model, vocabulary, kw):
    """Training batches of the single-model families (Tacotron 2, VAE, VQ-VAE, codec, FrameRNN, WaveRNN)."""

    from audiogen_tf.data import segment_dataset

    cfg = recipe.mel_config()
    if isinstance(recipe, (CTCTTSRecipe, CTCRecognizerRecipe)):
        if isinstance(recipe, CTCTTSRecipe):
            from zoo.ctc_tts.ctc_tts_model import ctc_tts_dataset as make
        else:
            from zoo.ctc_recognizer.ctc_recognizer_model import ctc_recognizer_dataset as make
        frontend = model.frontend if model is not None else recipe.model_kwargs().get("frontend") or {}
        return make(source, frontend, batch_size, cfg, bucket_boundaries=recipe.bucket_boundaries,
                    max_audio_length=recipe.max_audio_length, **kw)
    if isinstance(recipe, Tacotron2Recipe):
        from zoo.tacotron2.tacotron2_model import tacotron2_dataset

        frontend = model.frontend if model is not None else recipe.model_kwargs().get("frontend") or {}
        return tacotron2_dataset(source, frontend, batch_size, mel_config=cfg,
                                 bucket_boundaries=recipe.bucket_boundaries,
                                 max_audio_length=recipe.max_audio_length, **kw)
    if isinstance(recipe, FrameRNNRecipe):
        from zoo.rnn.frame_rnn_model import frame_rnn_dataset

        return frame_rnn_dataset(source, recipe.num_frames, batch_size, cfg, **kw)
    if isinstance(recipe, WaveRNNRecipe):
        from zoo.rnn.wavernn_model import wavernn_dataset

        output = model.output_type if model is not None else recipe.model_kwargs().get("output", "mulaw")
        q = model._quantization_arg if model is not None else 256
        return wavernn_dataset(source, recipe.segment_length, batch_size, cfg, output=output,
                               quantization_channels=q, **kw)
    mel_input = recipe.family != "codec" and recipe.model_kwargs().get("input_type", "mel") == "mel"
    label_key = getattr(recipe, "label_key", None)
    ds = segment_dataset(source, recipe.segment_length, batch_size, mel_config=cfg if mel_input else None,
                         sample_rate=None if mel_input else recipe.sample_rate, label_key=label_key,
                         label_vocabulary=vocabulary, **kw)
    if mel_input:
        kwargs = recipe.model_kwargs()
        if isinstance(recipe, VAERecipe):
            frames = int(kwargs.get("input_length", 64))
        else:  # a whole number of code frames
            down = math.prod(int(s) for s in kwargs.get("strides", [2, 2]))
            frames = (recipe.segment_length // cfg.hop_length) // down * down

        def pick(e):
            out = {"mel": e["mel"][:, :frames]}
            if label_key:
                out["label"] = e["label"]
            return out
    else:
        def pick(e):
            out = {"audio": e["audio"][..., None] if len(e["audio"].shape) == 2 else e["audio"]}
            if label_key:
                out["label"] = e["label"]
            return out
    return ds.map(pick)


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


def _same_recipe(stored_path, recipe) -> list[str]:
    import yaml

    with open(stored_path, encoding="utf-8") as f:
        stored = yaml.safe_load(f) or {}
    new = recipe.to_dict()
    return sorted(k for k in set(stored) | set(new) if stored.get(k) != new.get(k))


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
    from audiogen_tf.manifest import load_entries

    entries, skipped = [], []
    for entry in load_entries(source):
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
        verbose: ``fit`` progress bars (1), one line per epoch (2) or none (0); only the chief prints.
        callbacks: more Keras callbacks.
        dataset: a ready ``tf.data.Dataset`` of training batches to use instead of the recipe's data (its first
            batches are *not* skipped on resume).
        force: when every checkpoint of the run folder is damaged, move them to ``ckpt/corrupt/`` and start from
            step 0 (without it that is a ``CheckpointError``).

    Returns:
        a :class:`TrainResult`.

    Raises:
        ConfigError: a bad recipe, no data or too few usable files, before any training.
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
        usable, skipped = check_data(recipe, source, verbose=verbose)
        if skipped:  # train on the usable files only (the same list again on every rerun)
            source = usable
    os.makedirs(run_dir, exist_ok=True)

    strategy = strategy or strategies.get_strategy(tpu)
    chief = strategies.is_chief(strategy)
    # mixed_float16: GANTrainer compiles with dynamic loss scaling of both players (loss_scale='auto').
    if recipe.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(recipe.seed)
    policy = strategies.set_precision(recipe.precision, strategy)

    if isinstance(recipe, SpecGANRecipe) and source is not None and "spec_mean" not in recipe.generator_overrides:
        recipe = dataclasses.replace(recipe, generator_overrides={**recipe.generator_overrides,
                                                                  **specgan_moments(recipe, source)})
    stored = os.path.join(run_dir, RECIPE_FILE)
    if os.path.exists(stored):
        changed = _same_recipe(stored, recipe)
        if changed:
            log.warning("%s: recipe differs from the stored one in %s; resuming with the new values", run_dir, changed)
    if chief:
        save_recipe(recipe, stored)

    try:
        vocabulary = None
        if source is not None and isinstance(recipe, (EncoderRecipe, WaveGANRecipe, VAERecipe)):
            vocabulary = _labels(recipe, source, recipe.label_key)
        with strategy.scope():
            models = build_models(recipe, num_classes=len(vocabulary) if vocabulary else None)
            trainer = build_trainer(recipe, models)
            strategies.prepare_model(trainer, strategy)
        ckpt = FaultTolerantCheckpoint(os.path.join(run_dir, CHECKPOINT_DIR), every_n_steps=recipe.checkpoint_every,
                                       keep_last=recipe.keep_last, is_chief=chief)
        restored = FaultTolerantCheckpoint(os.path.join(run_dir, CHECKPOINT_DIR)).restore(trainer, start_over=force)
        start = restored or 0
        if dataset is None:
            dataset = build_dataset(recipe, source, strategy, skip_batches=start, vocabulary=vocabulary, models=models)
        guard = NonFiniteGuard(recipe.on_nonfinite)
        history = {}
        if start < recipe.steps:
            per_epoch = recipe.steps_per_epoch
            cbs = [ckpt, guard, StopAtStep(recipe.steps), *callbacks]
            if chief:  # a resumed run replaces the rows of the epochs it trains again
                cbs.append(HistoryCSV(os.path.join(run_dir, "history.csv"), initial_epoch=start // per_epoch))
            if verbose and chief:
                print(f"{recipe.name}: {'resuming at' if restored else 'starting at'} step {start} of {recipe.steps} "
                      f"({strategy.num_replicas_in_sync} replica(s), {policy})")
            fit = trainer.fit(dataset, initial_epoch=start // per_epoch, epochs=math.ceil(recipe.steps / per_epoch),
                              steps_per_epoch=per_epoch, callbacks=cbs, verbose=verbose if chief else 0)
            history = fit.history
        step = training_step(trainer)
        model_path = None
        if chief and not (guard.nonfinite_steps and recipe.on_nonfinite == "stop"):
            model_path = save_model(models.get("generator", models.get("model")), os.path.join(run_dir, MODEL_FILE))
        return TrainResult(step=step, resumed_from=restored, history=history, run_dir=run_dir, model_path=model_path,
                           stopped_nonfinite=list(guard.nonfinite_steps))
    finally:
        if policy != "float32":
            keras.mixed_precision.set_global_policy("float32")


def specgan_moments(recipe, source) -> dict:
    """``{"spec_mean", "spec_std"}``: per-bin log-magnitude moments (lists of ``spec_size`` floats) of the data.

    Reads ``recipe.moment_batches`` batches in file order (Donahue et al. 2019 normalize every frequency bin with
    dataset moments).
    """
    import numpy as np

    from audiogen_tf.data import segment_dataset
    from audiogen_tf.registry import get_preset
    from zoo.wavegan.specgan import spectrogram_moments

    gen = model_class(recipe.family, "generator")
    kw = {**get_preset(gen, recipe.generator_preset), **recipe.generator_overrides}
    ds = segment_dataset(source, recipe.segment_length, recipe.batch_size, sample_rate=recipe.sample_rate,
                         shuffle=False, seed=recipe.seed, drop_remainder=False, repeat=False)
    audio = np.concatenate([np.asarray(e["audio"]).reshape(len(e["audio"]), -1)
                            for e in ds.take(recipe.moment_batches)])
    mean, std = spectrogram_moments(audio, int(kw.get("n_fft", 256)), int(kw.get("hop_length", 128)),
                                    int(kw.get("spec_size", 128)))
    return {"spec_mean": [float(v) for v in mean], "spec_std": [float(v) for v in std]}


def save_model(model, path) -> str:
    """Save a Keras model atomically; returns the path."""
    from audiogen_tf.atomic import atomic_path

    with atomic_path(path) as tmp:
        model.save(tmp)
    return os.fspath(path)


def load_run(run_dir):
    """``(recipe, model)`` of a run folder: the recipe and the generator (or model) at its newest readable checkpoint.

    Falls back to ``model.keras`` when the folder has no checkpoint.
    """
    recipe = load_recipe(os.path.join(run_dir, RECIPE_FILE), check_models=False)
    ckpt_dir = os.path.join(run_dir, CHECKPOINT_DIR)
    vocabulary = None
    if isinstance(recipe, (EncoderRecipe, VAERecipe)) and recipe.data and recipe.label_key:
        vocabulary = _labels(recipe, recipe.data, recipe.label_key)
    models = build_models(recipe, num_classes=len(vocabulary) if vocabulary else None)
    trainer = build_trainer(recipe, models)
    step = FaultTolerantCheckpoint(ckpt_dir).restore(trainer, repair=False)  # reading a run never moves its files
    model = models.get("generator", models.get("model"))
    if step is None:
        path = os.path.join(run_dir, MODEL_FILE)
        if not os.path.exists(path):
            raise ConfigError(f"{run_dir}: no checkpoint and no {MODEL_FILE} to synthesize from")
        from audiogen_tf.model_files import load_keras_model

        model = load_keras_model(path)
    return recipe, model


__all__ = ["TrainResult", "build_dataset", "build_models", "build_trainer", "dataset_fn", "load_run", "recipe_from_dict",
           "save_model", "train"]
