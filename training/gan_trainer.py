"""GANTrainer: a ``keras.Model`` whose ``fit()`` trains a generator against one or more discriminators.

Covers the vocoder GANs (MelGAN, Multi-band MelGAN, HiFi-GAN, Parallel WaveGAN style losses) and the
unconditional waveform GANs (WaveGAN / SpecGAN with WGAN-GP). Module contracts: ``docs/contracts.md``.

Example:
    >>> import keras
    >>> trainer = GANTrainer(generator, [discriminator], mode="vocoder", mel_config=mel_config)  # doctest: +SKIP
    >>> trainer.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.8, beta_2=0.99),
    ...                 d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.8, beta_2=0.99),
    ...                 adversarial_loss="lsgan", losses={"mel": 45.0, "feature_matching": 2.0, "adversarial": 1.0})  # doctest: +SKIP
    >>> trainer.fit(dataset, epochs=10)  # doctest: +SKIP

Papers: Kong et al. 2020 (HiFi-GAN: LSGAN + 2 x feature matching + 45 x mel L1); Yang et al. 2020
(Multi-band MelGAN: full-band + sub-band multi-resolution STFT, generator warm-up); Yamamoto et al. 2020
(Parallel WaveGAN); Donahue et al. 2019 (WaveGAN: WGAN-GP, 5 critic updates per generator update).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from audiogen_tf import losses as L
from audiogen_tf.errors import ConfigError

MODES = ("vocoder", "unconditional")
#: the loss terms the trainer computes itself; any other name in ``losses`` is one the generator supplies
TRAINER_LOSSES = ("adversarial", "feature_matching", "mel", "stft", "gradient_penalty")
DEFAULT_LOSSES = {"vocoder": {"adversarial": 1.0, "feature_matching": 2.0, "mel": 45.0},
                  "unconditional": {"adversarial": 1.0}}
#: the per-loss keyword of earlier versions (recipe keys and ``compile`` arguments) -> the loss it weighs
LEGACY_LOSS_KEYS = {
    "adversarial_weight": "adversarial", "feature_matching_weight": "feature_matching", "mel_loss_weight": "mel",
    "stft_loss_weight": "stft", "gp_weight": "gradient_penalty", "subband_stft_loss_weight": "subband_stft",
    "amplitude_loss_weight": "amplitude", "phase_loss_weight": "phase", "real_imag_loss_weight": "real_imag",
    "consistency_loss_weight": "consistency", "weighted_phase_loss_weight": "weighted_phase",
    "frame_rate_correlation_loss_weight": "frame_rate_correlation",
}
#: keywords of earlier versions that are now ``loss_options``
LEGACY_OPTION_KEYS = ("feature_matching_include_score", "weighted_phase_exponent", "stft_resolutions",
                      "subband_stft_resolutions")


def migrate_loss_keys(values: dict, mode: str = "vocoder") -> dict:
    """``values`` (a recipe's keys or ``compile`` keywords) with the per-loss keys of earlier versions folded into
    ``losses`` (over the mode's defaults, as those versions defaulted; a zero weight leaves the term out) and
    ``loss_options``; nothing else changes.

    Example:
        >>> migrate_loss_keys({"mel_loss_weight": 45.0, "stft_loss_weight": 2.5, "steps": 10})
        {'steps': 10, 'losses': {'adversarial': 1.0, 'feature_matching': 2.0, 'mel': 45.0, 'stft': 2.5}}
    """
    out = {k: v for k, v in values.items() if k not in LEGACY_LOSS_KEYS and k not in LEGACY_OPTION_KEYS}
    legacy = {LEGACY_LOSS_KEYS[k]: float(v) for k, v in values.items() if k in LEGACY_LOSS_KEYS and v is not None}
    options = {k: v for k, v in values.items() if k in LEGACY_OPTION_KEYS}
    if legacy:
        base = dict(out.get("losses") or DEFAULT_LOSSES[mode])
        if mode == "unconditional" and str(values.get("adversarial_loss", "")).lower() == "wgan-gp":
            base.setdefault("gradient_penalty", 10.0)
        out["losses"] = {name: weight for name, weight in {**base, **legacy}.items() if weight > 0}  # 0: unused
    if options:
        out["loss_options"] = {**(out.get("loss_options") or {}), **options}
    return out


def _replica_scale():
    """1 / replicas in sync, so per-replica mean losses add up to the global-batch mean when gradients are summed."""
    return 1.0 / float(tf.distribute.get_strategy().num_replicas_in_sync)


def _all_finite(tensors):
    flags = [tf.reduce_all(tf.math.is_finite(tf.cast(t, tf.float32))) for t in tensors if t is not None]
    if not flags:
        return tf.constant(True)
    return tf.reduce_all(tf.stack(flags))


def _normalize_outputs(out):
    """Discriminator output -> list of sub-discriminator lists ``[fmap_1, ..., fmap_k, score]`` (float32)."""
    out = tf.nest.map_structure(lambda t: tf.cast(t, tf.float32), out)
    if not isinstance(out, (list, tuple)):
        return [[out]]
    if all(isinstance(o, (list, tuple)) for o in out):
        return [list(o) for o in out]
    return [list(out)]


class DynamicLossScale(tf.Module):
    """Dynamic loss scale of one player for ``mixed_float16`` (the ``keras.optimizers.LossScaleOptimizer`` rule).

    The loss is multiplied by ``scale`` before the gradients and the gradients divided by it after; a step whose
    scaled gradients overflow is skipped and halves the scale (down to 1), ``growth_steps`` finite steps in a row
    double it (Micikevicius et al. 2018, "Mixed Precision Training").

    Args:
        initial_scale: starting scale (Keras: 2 ** 15).
        growth_steps: finite steps before the scale doubles (Keras: 2000).

    Example:
        >>> ls = DynamicLossScale(8.0, growth_steps=2)
        >>> ls.update(tf.constant(False)); float(ls.scale.numpy())
        4.0
    """

    def __init__(self, initial_scale=2.0**15, growth_steps=2000, name="loss_scale"):
        super().__init__(name=name)
        agg = tf.VariableAggregation.ONLY_FIRST_REPLICA
        self.growth_steps = max(1, int(growth_steps))
        self.scale = tf.Variable(float(initial_scale), dtype=tf.float32, trainable=False, name="scale", aggregation=agg)
        self.good_steps = tf.Variable(0, dtype=tf.int64, trainable=False, name="good_steps", aggregation=agg)

    def scale_loss(self, loss):
        return tf.cast(loss, tf.float32) * self.scale

    def unscale(self, grads):
        inv = 1.0 / self.scale
        return [None if g is None else g * tf.cast(inv, g.dtype) for g in grads]

    def update(self, grads_finite, active=True):
        """Halve after an overflow, double after ``growth_steps`` finite steps; no change when not ``active``."""
        active = tf.convert_to_tensor(active)
        good = tf.where(grads_finite, self.good_steps + 1, tf.zeros_like(self.good_steps))
        grow = good >= self.growth_steps
        scale = tf.where(grads_finite, tf.where(grow, self.scale * 2.0, self.scale), tf.maximum(self.scale * 0.5, 1.0))
        self.good_steps.assign(tf.where(active, tf.where(grow, tf.zeros_like(good), good), self.good_steps))
        self.scale.assign(tf.where(active, scale, self.scale))


def _unwrap_loss_scale_optimizer(optimizer):
    """(inner optimizer, (initial_scale, growth_steps) or None) of a possibly ``LossScaleOptimizer``-wrapped optimizer."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer.inner_optimizer, (float(optimizer.initial_scale), int(optimizer.dynamic_growth_steps))
    return optimizer, None


class GANTrainer(keras.Model):
    """Trains ``generator`` against ``discriminators`` with ``fit()``; never exported.

    Args:
        generator: vocoder mode: ``keras.Model`` mel (batch, frames, n_mels) -> audio (batch, frames * hop, 1);
            a generator with ``SUPPLIED_LOSSES`` and ``supplied_losses(mel, audio, names, options, training)`` computes
            those loss terms itself (an iSTFT vocoder's frame-level terms, Multi-band MelGAN's sub-band STFT).
            Unconditional mode: noise (batch, latent_dim) [and an int
            label (batch,)] -> audio (batch, time, 1).
        discriminators: list of ``keras.Model``; each maps audio (batch, time, 1) [and label] to a list with one
            entry per sub-discriminator, each ``[feature_map_1, ..., feature_map_k, score]``.
        mode: ``"vocoder"`` (data ``{"audio": (B, L), "mel": (B, L // hop, n_mels)}``) or ``"unconditional"``
            (data ``{"audio": (B, L)}`` plus optional ``"label"``).
        latent_dim: noise size in unconditional mode.
        conditional: unconditional mode only: feed ``label`` to G and D (default: G has two inputs).
        mel_config: ``MelConfig`` (or dict) of the mel L1 loss (HiFi-GAN uses the data's mel with fmax=None).
        seed: seed of the ``keras.random.SeedGenerator`` that draws noise and WGAN-GP interpolation weights.

    Example:
        >>> import keras
        >>> from zoo.wavegan import WaveGANDiscriminator, WaveGANGenerator
        >>> gen = WaveGANGenerator.from_preset("wavegan_tiny")
        >>> disc = WaveGANDiscriminator.from_preset("wavegan_tiny")
        >>> trainer = GANTrainer(gen, [disc], mode="unconditional", latent_dim=gen.latent_dim)
        >>> trainer.compile(keras.optimizers.Adam(1e-4, 0.5, 0.9), keras.optimizers.Adam(1e-4, 0.5, 0.9),
        ...                 adversarial_loss="wgan-gp", losses={"adversarial": 1.0, "gradient_penalty": 10.0}, n_critic=5)
    """

    def __init__(
        self,
        generator,
        discriminators,
        mode="vocoder",
        latent_dim=100,
        conditional=None,
        mel_config=None,
        seed=None,
        name="gan_trainer",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        if mode not in MODES:
            raise ConfigError(f"mode must be one of {MODES}, got {mode!r}")
        if not isinstance(discriminators, (list, tuple)):
            discriminators = [discriminators]
        self.generator = generator
        self.discriminators = list(discriminators)
        self.mode = mode
        self.latent_dim = int(latent_dim)
        if conditional is None:
            conditional = mode == "unconditional" and len(getattr(generator, "inputs", None) or []) > 1
        self.conditional = bool(conditional)
        if mel_config is not None and isinstance(mel_config, dict):
            from audiogen_tf.features import MelConfig

            mel_config = MelConfig.from_dict(mel_config)
        self.mel_config = mel_config
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Trainer state, saved by training.callbacks.StepCheckpoint.
        agg = tf.VariableAggregation.ONLY_FIRST_REPLICA
        self.train_step_counter = tf.Variable(0, dtype=tf.int64, trainable=False, name="train_step", aggregation=agg)
        self.skipped_steps_total = tf.Variable(0, dtype=tf.int64, trainable=False, name="skipped", aggregation=agg)
        self.last_step_finite = tf.Variable(True, dtype=tf.bool, trainable=False, name="last_finite", aggregation=agg)
        self.built = True

    # -----------------------------------------------------------------------------------------
    # configuration

    def compile(
        self,
        g_optimizer,
        d_optimizer,
        losses=None,
        loss_options=None,
        adversarial_loss="lsgan",
        n_critic=1,
        generator_warmup_steps=0,
        g_clipnorm=None,
        d_clipnorm=None,
        jit_compile=False,
        loss_scale="auto",
        initial_loss_scale=2.0**15,
        loss_scale_growth_steps=2000,
        **kwargs,
    ):
        """Set both optimizers and the losses: one mapping of name -> weight, summed by name.

        Args:
            g_optimizer, d_optimizer: Keras optimizers (learning-rate schedules and ``clipnorm`` go here, e.g.
                ``Adam(ExponentialDecay(2e-4, steps_per_epoch, 0.999))`` for HiFi-GAN's per-epoch decay).
            losses: ``{name: weight}``. The trainer's own terms: ``adversarial`` (G's term; Multi-band MelGAN and
                PWG use 2.5, WaveGAN 1), ``feature_matching`` (HiFi-GAN 2), ``mel`` (mel L1, HiFi-GAN 45), ``stft``
                (full-band multi-resolution STFT) and ``gradient_penalty`` (WGAN-GP's, 10). Any other name is a term
                the generator supplies itself (``generator.SUPPLIED_LOSSES`` and ``generator.supplied_losses``: an
                iSTFT vocoder's ``amplitude``, ``phase``, ``real_imag``, ``consistency``, ``weighted_phase``,
                ``frame_rate_correlation``; Multi-band MelGAN's ``subband_stft``), so the trainer knows no model
                internals. Default: vocoder mode ``{adversarial: 1, feature_matching: 2, mel: 45}``, unconditional
                mode ``{adversarial: 1}`` (+ ``gradient_penalty: 10`` with WGAN-GP).
            loss_options: settings of the terms: ``stft_resolutions`` (``(fft, hop, win)`` triples),
                ``feature_matching_include_score`` (also match each sub-discriminator's last output, as HiFi-GAN's
                reference code), and whatever the generator's terms read (``weighted_phase_exponent``,
                ``subband_stft_resolutions``).
            adversarial_loss: ``"lsgan"`` (HiFi-GAN, MelGAN variants), ``"hinge"`` or ``"wgan-gp"`` (WaveGAN).
            n_critic: discriminator updates per generator update (WaveGAN: 5). The discriminator trains every
                step; the generator on every ``n_critic``-th step.
            generator_warmup_steps: steps during which G trains on reconstruction losses only and D does not train
                (Multi-band MelGAN: 200k, Parallel WaveGAN: 100k).
            g_clipnorm, d_clipnorm: explicit global-norm gradient clipping (or pass ``clipnorm`` to the optimizers).
            jit_compile: XLA for the train step (off by default).
            loss_scale: dynamic loss scaling of both players (one :class:`DynamicLossScale` each): ``"auto"`` (on
                when the generator's or the global dtype policy is ``mixed_float16``), ``True`` or ``False``.
                Optimizers wrapped in ``keras.optimizers.LossScaleOptimizer`` are unwrapped and turn it on with
                their own scale settings. A scaled-gradient overflow skips that player's update and halves its scale
                but, unlike a non-finite loss, does not mark the step non-finite.
            initial_loss_scale, loss_scale_growth_steps: the scale's start and doubling period.

        Raises:
            ConfigError: a loss name neither the trainer nor the generator knows, a negative weight, reconstruction
                terms in unconditional mode, a mel loss without a mel.
        """
        g_optimizer, g_ls = _unwrap_loss_scale_optimizer(g_optimizer)
        d_optimizer, d_ls = _unwrap_loss_scale_optimizer(d_optimizer)
        if loss_scale == "auto":
            policies = {keras.mixed_precision.global_policy().name, getattr(self.generator.dtype_policy, "name", "")}
            loss_scale = "mixed_float16" in policies or g_ls is not None or d_ls is not None
        self.g_loss_scale = self.d_loss_scale = None
        if loss_scale:
            default = (float(initial_loss_scale), int(loss_scale_growth_steps))
            self.g_loss_scale = DynamicLossScale(*(g_ls or default), name="g_loss_scale")
            self.d_loss_scale = DynamicLossScale(*(d_ls or default), name="d_loss_scale")
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self.adversarial_loss = str(adversarial_loss).lower()
        self._g_adv_fn, self._d_adv_fn = L.get_adversarial_losses(self.adversarial_loss)
        self.use_gp = self.adversarial_loss == "wgan-gp"
        self.loss_weights = self._checked_losses(losses)
        self.loss_options = dict(loss_options or {})
        self.stft_resolutions = tuple(tuple(r) for r in self.loss_options.get("stft_resolutions",
                                                                              L.PWG_STFT_RESOLUTIONS))
        self.n_critic = max(1, int(n_critic))
        self.generator_warmup_steps = max(0, int(generator_warmup_steps))
        self.g_clipnorm = g_clipnorm
        self.d_clipnorm = d_clipnorm
        supplied = tuple(getattr(self.generator, "SUPPLIED_LOSSES", ()))
        self.supplied_terms = tuple(n for n in supplied if self.loss_weights.get(n, 0.0) > 0)
        if self.mode == "vocoder" and self.mel_config is None:
            if getattr(self.generator, "has_features", False):  # a generator that carries its features
                self.mel_config = self.generator.feature_settings
            elif self.weight("mel") > 0:
                raise ConfigError("the mel loss needs its mel: pass GANTrainer(mel_config=...) or a generator that "
                                  "carries its mel_config")
        kwargs.setdefault("auto_scale_loss", False)  # the players scale their own losses
        super().compile(optimizer=g_optimizer, jit_compile=jit_compile, **kwargs)
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator_variables)
        names = ["g_loss", "d_loss", "adv_loss", "fm_loss", "mel_loss", "stft_loss", "gp", "wasserstein"]
        names += [f"{n}_loss" for n in supplied]
        if self.mode == "unconditional":
            names = [n for n in names if n not in ("mel_loss", "stft_loss")]
            if self.weight("feature_matching") == 0:
                names.remove("fm_loss")
        self._trackers = {n: keras.metrics.Mean(name=n) for n in names}
        self._trackers["skipped_steps"] = keras.metrics.Sum(name="skipped_steps")
        if self.g_loss_scale is not None:
            self._trackers["loss_scale_overflows"] = keras.metrics.Sum(name="loss_scale_overflows")

    def _checked_losses(self, losses) -> dict:
        """``losses`` (or the mode's default) checked against the terms the trainer and the generator know."""
        if losses is None:
            losses = dict(DEFAULT_LOSSES[self.mode])
            if self.use_gp:
                losses["gradient_penalty"] = 10.0
        supplied = tuple(getattr(self.generator, "SUPPLIED_LOSSES", ()))
        known = TRAINER_LOSSES + supplied
        weights = {}
        for name, weight in dict(losses).items():
            if name not in known:
                raise ConfigError(f"unknown loss {name!r}: the trainer computes {', '.join(TRAINER_LOSSES)}; "
                                  f"{type(self.generator).__name__} supplies "
                                  f"{', '.join(supplied) if supplied else 'none of its own'}")
            if not float(weight) >= 0:
                raise ConfigError(f"loss {name!r}: weight must be >= 0, got {weight}")
            weights[name] = float(weight)
        if self.mode == "unconditional":
            recon = [n for n, w in weights.items() if w > 0 and n not in ("adversarial", "feature_matching",
                                                                        "gradient_penalty")]
            if recon:
                raise ConfigError(f"losses {recon} compare with a target: only a vocoder (mode='vocoder') has one")
        return weights

    def weight(self, name: str) -> float:
        """The weight of loss ``name`` (0 when the recipe does not use it)."""
        return self.loss_weights.get(name, 0.0)

    @property
    def discriminator_variables(self):
        out = []
        for d in self.discriminators:
            out.extend(d.trainable_variables)
        return out

    @property
    def metrics(self):
        return list(getattr(self, "_trackers", {}).values())

    def active_losses(self, step: int) -> list[str]:
        """The logged losses that carry a weighted term at ``step`` (what :mod:`training.console` shows).

        The reconstruction and spectral terms whose weight is not zero; the adversarial ones (``adv_loss``,
        ``fm_loss``, ``d_loss``, and ``gp`` / ``wasserstein`` under WGAN-GP) once there is a discriminator and the
        generator warm-up is over; ``g_loss`` (their weighted sum) when it sums more than one term.
        """
        g_terms = [name for name in ("mel", "stft", *self.supplied_terms) if self.weight(name) > 0]
        g_terms = [f"{name}_loss" for name in g_terms]
        d_terms = []
        if self.discriminators and int(step) >= self.generator_warmup_steps:
            g_terms += [tracker for name, tracker in (("adversarial", "adv_loss"), ("feature_matching", "fm_loss"))
                        if self.weight(name) > 0]
            d_terms = ["d_loss"] + (["gp", "wasserstein"] if self.use_gp else [])
        names = (["g_loss"] if len(g_terms) != 1 else []) + g_terms + d_terms
        return [name for name in names if name in getattr(self, "_trackers", {})]

    # -----------------------------------------------------------------------------------------
    # forward helpers

    def _conditioning(self, data):
        """(generator input, real audio (B, L, 1), label or None) from a data element."""
        if not isinstance(data, dict):
            raise ValueError("GANTrainer expects dict data elements ({'audio': ..., 'mel': ...}), got " + type(data).__name__)
        audio = tf.cast(data["audio"], tf.float32)
        if audio.shape.rank == 2:
            audio = audio[..., None]
        label = data.get("label") if self.conditional else None
        if self.mode == "vocoder":
            return tf.cast(data["mel"], tf.float32), audio, None
        batch = tf.shape(audio)[0]
        if hasattr(self.generator, "sample_latent"):  # the generator's own prior (WaveGAN/SpecGAN: U(-1, 1))
            noise = self.generator.sample_latent(batch, seed=self.seed_generator)
        else:
            noise = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        return noise, audio, label

    def _generate(self, g_input, label=None, training=True):
        """Generator forward: audio (B, T, 1)."""
        x = [g_input, label] if label is not None else g_input
        return tf.cast(self.generator(x, training=training), tf.float32)

    def _discriminate(self, audio, label=None, training=True):
        outs = []
        for d in self.discriminators:
            x = [audio, label] if label is not None else audio
            outs.extend(_normalize_outputs(d(x, training=training)))
        return outs

    @staticmethod
    def _match_length(real, fake):
        n = min(real.shape[1], fake.shape[1]) if real.shape[1] is not None and fake.shape[1] is not None else None
        if n is None:
            n = tf.minimum(tf.shape(real)[1], tf.shape(fake)[1])
        return real[:, :n], fake[:, :n]

    def _reconstruction_losses(self, real, fake):
        """The trainer's own terms on the audio: ``{"mel", "stft"}`` (zero where unweighted)."""
        zero = tf.constant(0.0)
        mel = L.mel_l1_loss(real, fake, self.mel_config) if self.weight("mel") > 0 else zero
        stft = zero
        if self.weight("stft") > 0:
            sc, mag = L.multi_resolution_stft_loss(real, fake, self.stft_resolutions)
            stft = sc + mag
        return {"mel": mel, "stft": stft}

    # -----------------------------------------------------------------------------------------
    # the two players

    def _backward(self, tape, loss, variables, loss_scale, finite_inputs):
        """Gradients of ``loss`` (scaled and unscaled with ``loss_scale`` when set).

        Returns (grads, finite: inputs and loss finite (and, without loss scaling, the gradients), ok: apply the
        update, overflow: finite loss whose scaled gradients are not finite).
        """
        with tape:  # record the scaling too
            scaled = loss * _replica_scale()
            if loss_scale is not None:
                scaled = loss_scale.scale_loss(scaled)
        grads = tape.gradient(scaled, variables)
        loss_ok = _all_finite(list(finite_inputs) + [loss])
        if loss_scale is not None:
            grads = loss_scale.unscale(grads)
        grads_ok = _all_finite([g for g in grads if g is not None])
        ok = tf.logical_and(loss_ok, grads_ok)
        if loss_scale is None:
            return grads, ok, ok, tf.constant(False)
        loss_scale.update(grads_ok, active=loss_ok)
        return grads, loss_ok, ok, tf.logical_and(loss_ok, tf.logical_not(grads_ok))

    def _discriminator_phase(self, g_input, real, label):
        """D update (applied only when everything is finite). Returns (d_loss, gp, wasserstein, finite, applied, overflow)."""
        fake = self._generate(g_input, label, training=True)
        real, fake = self._match_length(real, tf.stop_gradient(fake))
        d_vars = self.discriminator_variables
        with tf.GradientTape() as tape:
            real_out = self._discriminate(real, label)
            fake_out = self._discriminate(fake, label)
            d_adv = self._d_adv_fn(real_out, fake_out)
            gp = tf.constant(0.0)
            if self.use_gp:
                gp = L.gradient_penalty(lambda a: self._discriminate(a, label), real, fake, seed=self.seed_generator)
            d_loss = d_adv + self.weight("gradient_penalty") * gp
        grads, finite, ok, overflow = self._backward(tape, d_loss, d_vars, self.d_loss_scale, [real, g_input, fake])
        wasserstein = -L.wgan_discriminator_loss(real_out, fake_out)
        if self.d_clipnorm:
            grads, _ = tf.clip_by_global_norm(grads, self.d_clipnorm)
        self._apply_if(ok, self.d_optimizer, grads, d_vars)
        return d_loss, gp, wasserstein, finite, ok, overflow

    def _generator_phase(self, g_input, real, label, adversarial_on):
        """G update. Returns (g_loss, adv, fm, {term: value} of mel, stft and the supplied terms, finite, applied,
        overflow)."""
        g_vars = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            if self.supplied_terms:  # the generator computes its own terms (and the audio) in one forward pass
                fake, terms = self.generator.supplied_losses(g_input, real, self.supplied_terms, self.loss_options,
                                                             training=True)
                fake = tf.cast(fake, tf.float32)
                terms = {name: tf.cast(terms[name], tf.float32) for name in self.supplied_terms}
            else:
                fake, terms = self._generate(g_input, label, training=True), {}
            real_c, fake_c = self._match_length(real, fake)
            terms.update(self._reconstruction_losses(real_c, fake_c))
            recon = tf.add_n([self.weight(name) * value for name, value in terms.items()])

            def adversarial_terms():
                fake_out = self._discriminate(fake_c, label)
                adv = self._g_adv_fn(fake_out)
                fm = tf.constant(0.0)
                if self.weight("feature_matching") > 0:
                    real_out = self._discriminate(real_c, label)
                    fm = L.feature_matching_loss(real_out, fake_out,
                                                 bool(self.loss_options.get("feature_matching_include_score")))
                return tf.cast(adv, tf.float32), tf.cast(fm, tf.float32)

            if self.generator_warmup_steps > 0:
                adv, fm = tf.cond(adversarial_on, adversarial_terms, lambda: (tf.constant(0.0), tf.constant(0.0)))
            else:
                adv, fm = adversarial_terms()
            g_loss = recon + self.weight("adversarial") * adv + self.weight("feature_matching") * fm
        grads, finite, ok, overflow = self._backward(tape, g_loss, g_vars, self.g_loss_scale, [])
        if self.g_clipnorm:
            grads, _ = tf.clip_by_global_norm(grads, self.g_clipnorm)
        self._apply_if(ok, self.g_optimizer, grads, g_vars)
        return g_loss, adv, fm, terms, finite, ok, overflow

    @staticmethod
    def _apply_if(ok, optimizer, grads, variables):
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if not pairs:
            return

        def apply():
            optimizer.apply_gradients(pairs)
            return tf.constant(True)

        tf.cond(ok, apply, lambda: tf.constant(False))

    # -----------------------------------------------------------------------------------------
    # keras entry points

    def call(self, inputs, training=False):
        """Generator forward: mel (vocoder) or noise [, label] (unconditional) -> audio (batch, time, 1)."""
        if isinstance(inputs, dict):
            inputs = inputs["mel"] if self.mode == "vocoder" else inputs["noise"]
        return self.generator(inputs, training=training)

    def train_step(self, data):
        g_input, real, label = self._conditioning(data)
        step = self.train_step_counter
        adversarial_on = tf.greater_equal(step, self.generator_warmup_steps)
        zero = tf.constant(0.0)

        # 1) discriminator (skipped during generator warm-up)
        no = tf.constant(False)

        def d_phase():
            d_loss, gp, w, ok, applied, overflow = self._discriminator_phase(g_input, real, label)
            return tf.cast(d_loss, tf.float32), tf.cast(gp, tf.float32), tf.cast(w, tf.float32), ok, applied, overflow

        if self.generator_warmup_steps > 0:
            input_ok = _all_finite([real, g_input])
            d_loss, gp, wasserstein, d_ok, d_applied, d_overflow = tf.cond(
                adversarial_on, d_phase, lambda: (zero, zero, zero, input_ok, no, no)
            )
        else:
            d_loss, gp, wasserstein, d_ok, d_applied, d_overflow = d_phase()
        d_trained = tf.logical_and(adversarial_on, d_applied)

        # 2) generator, every n_critic-th step; never after a non-finite discriminator step
        def g_phase():
            return self._generator_phase(g_input, real, label, adversarial_on)

        term_names = ("mel", "stft", *self.supplied_terms)

        def g_skip():
            return zero, zero, zero, {name: zero for name in term_names}, tf.constant(True), no, no

        if self.n_critic > 1:
            do_g = tf.logical_and(tf.equal(step % self.n_critic, self.n_critic - 1), d_ok)
        else:
            do_g = d_ok
        g_loss, adv, fm, terms, g_ok, g_applied, g_overflow = tf.cond(do_g, g_phase, g_skip)
        g_trained = tf.logical_and(do_g, g_applied)

        step_ok = tf.logical_and(d_ok, g_ok)
        self.train_step_counter.assign_add(1)
        self.skipped_steps_total.assign_add(tf.cast(tf.logical_not(step_ok), tf.int64))
        self.last_step_finite.assign(step_ok)

        t = self._trackers
        updates = {
            "d_loss": (d_loss, d_trained),
            "gp": (gp, tf.logical_and(d_trained, self.use_gp)),
            "wasserstein": (wasserstein, d_trained),
            "g_loss": (g_loss, g_trained),
            "adv_loss": (adv, tf.logical_and(g_trained, adversarial_on)),
            "fm_loss": (fm, tf.logical_and(g_trained, adversarial_on)),
        }
        for name, value in terms.items():
            updates[f"{name}_loss"] = (value, g_trained)
        for name, (value, ok) in updates.items():
            if name in t:
                _update(t[name], value, ok)
        t["skipped_steps"].update_state(tf.cast(tf.logical_not(step_ok), tf.float32))
        if "loss_scale_overflows" in t:
            t["loss_scale_overflows"].update_state(tf.cast(d_overflow, tf.float32) + tf.cast(g_overflow, tf.float32))
        return {name: m.result() for name, m in t.items()}

    def test_step(self, data):
        g_input, real, label = self._conditioning(data)
        fake = self._generate(g_input, label, training=False)
        real, fake = self._match_length(real, fake)
        t = self._trackers
        if self.mode == "vocoder":
            if self.mel_config is None:
                raise ConfigError("evaluating a vocoder needs its mel: pass GANTrainer(mel_config=...)")
            t["mel_loss"].update_state(L.mel_l1_loss(real, fake, self.mel_config))
            sc, mag = L.multi_resolution_stft_loss(real, fake, self.stft_resolutions)
            t["stft_loss"].update_state(sc + mag)
        real_out = self._discriminate(real, label, training=False)
        fake_out = self._discriminate(fake, label, training=False)
        t["d_loss"].update_state(self._d_adv_fn(real_out, fake_out))
        t["wasserstein"].update_state(-L.wgan_discriminator_loss(real_out, fake_out))
        return {name: m.result() for name, m in t.items() if name in ("mel_loss", "stft_loss", "d_loss", "wasserstein")}

    # -----------------------------------------------------------------------------------------
    # state

    def checkpoint_items(self) -> dict:
        """Every trackable object of the training state (for ``tf.train.Checkpoint``)."""
        items = {
            "generator": _weights_container(self.generator),
            "g_optimizer": self.g_optimizer,
            "d_optimizer": self.d_optimizer,
            "train_step": self.train_step_counter,
            "skipped_steps": self.skipped_steps_total,
            "seed_state": self.seed_generator.state,
        }
        for i, d in enumerate(self.discriminators):
            items[f"discriminator_{i}"] = _weights_container(d)
        if getattr(self, "g_loss_scale", None) is not None:
            items["g_loss_scale"] = self.g_loss_scale
            items["d_loss_scale"] = self.d_loss_scale
        return items

    def generate(self, inputs, training=False):
        """Generated audio (batch, time, 1) from mel (vocoder) or noise [, label]."""
        return self.generator(inputs, training=training)


def _weights_container(model):
    """A ``tf.Module`` holding ``model.weights`` in order (Keras 3 functional models expose no checkpoint children)."""
    module = tf.Module(name=f"{model.name}_weights")
    module.weights_list = list(model.weights)
    return module


def _update(tracker, value, ok):
    """Add ``value`` to a Mean tracker only when ``ok`` (a NaN never reaches the running mean)."""
    ok = tf.convert_to_tensor(ok)
    value = tf.where(ok, tf.cast(value, tf.float32), 0.0)
    tracker.update_state(value, sample_weight=tf.cast(ok, tf.float32))
