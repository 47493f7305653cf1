"""mixed_float16 training with dynamic loss scaling: GANTrainer (both players) and the VAE / VQ-VAE trainers."""

import contextlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf

from test_gan_trainer import adam, vocoder_batch, vocoder_trainer, weights, same
from training.gan_trainer import DynamicLossScale


@contextlib.contextmanager
def policy(name):
    """Set the global Keras dtype policy for the block and always restore float32 (no leak to other tests)."""
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.fixture(scope="module")
def batch():
    return vocoder_batch()


def test_dynamic_loss_scale_halves_on_overflow_and_grows():
    ls = DynamicLossScale(8.0, growth_steps=2)
    ls.update(tf.constant(False))
    assert float(ls.scale.numpy()) == 4.0
    ls.update(tf.constant(True)), ls.update(tf.constant(True))
    assert float(ls.scale.numpy()) == 8.0 and int(ls.good_steps.numpy()) == 0
    ls.update(tf.constant(False), active=tf.constant(False))  # a non-finite loss leaves the scale alone
    assert float(ls.scale.numpy()) == 8.0
    grads = ls.unscale([tf.constant([16.0]), None])
    assert float(grads[0][0]) == 2.0 and grads[1] is None


def test_gan_trains_under_mixed_float16_with_loss_scaling(batch):
    with policy("mixed_float16"):
        trainer = vocoder_trainer()
        assert trainer.generator.dtype_policy.name == "mixed_float16"
        assert trainer.g_loss_scale is not None and trainer.d_loss_scale is not None
        ds = tf.data.Dataset.from_tensors(batch).repeat(16)
        before = trainer.evaluate(ds.take(1), verbose=0, return_dict=True)
        history = trainer.fit(ds, epochs=1, verbose=0).history
        after = trainer.evaluate(ds.take(1), verbose=0, return_dict=True)
    assert keras.mixed_precision.global_policy().name == "float32"
    assert np.isfinite(after["mel_loss"]) and after["mel_loss"] < 0.97 * before["mel_loss"], (before, after)
    for key in ("g_loss", "d_loss", "mel_loss"):
        assert np.isfinite(history[key][-1]), key
    assert history["skipped_steps"][-1] == 0 and bool(trainer.last_step_finite.numpy())
    # the 2**15 start overflows float16 a few times: those updates are skipped and the scale halves
    overflows = int(history["loss_scale_overflows"][-1])
    g_steps, d_steps = int(trainer.g_optimizer.iterations.numpy()), int(trainer.d_optimizer.iterations.numpy())
    assert g_steps + d_steps == 2 * 16 - overflows and g_steps > 0 and d_steps > 0
    assert float(trainer.g_loss_scale.scale.numpy()) <= 2.0**15
    assert all(np.all(np.isfinite(w)) for w in weights(trainer.generator))


def test_overflowing_scale_skips_update_without_marking_step_nonfinite(batch):
    with policy("mixed_float16"):
        trainer = vocoder_trainer(initial_loss_scale=1e30)  # scaled float16 gradients surely overflow
        g0, d0 = weights(trainer.generator), weights(trainer.discriminators[0])
        history = trainer.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0).history
    assert same(g0, weights(trainer.generator)) and same(d0, weights(trainer.discriminators[0]))
    assert int(trainer.g_optimizer.iterations.numpy()) == 0 and int(trainer.d_optimizer.iterations.numpy()) == 0
    assert float(trainer.d_loss_scale.scale.numpy()) == pytest.approx(5e29, rel=1e-6)
    assert history["skipped_steps"][-1] == 0 and history["loss_scale_overflows"][-1] >= 1
    assert bool(trainer.last_step_finite.numpy())


def test_nan_batch_under_mixed_float16_is_skipped_and_keeps_scale(batch):
    with policy("mixed_float16"):
        trainer = vocoder_trainer(initial_loss_scale=256.0)
        bad = {k: v.copy() for k, v in batch.items()}
        bad["audio"][0, 10] = np.nan
        history = trainer.fit(tf.data.Dataset.from_tensors(bad), epochs=1, verbose=0).history
    assert history["skipped_steps"][-1] == 1 and not bool(trainer.last_step_finite.numpy())
    assert float(trainer.d_loss_scale.scale.numpy()) == 256.0  # a non-finite loss is not an overflow


def test_loss_scale_optimizer_is_unwrapped_and_float32_has_no_scaling(batch):
    trainer = vocoder_trainer()
    assert trainer.g_loss_scale is None and "loss_scale_overflows" not in [m.name for m in trainer.metrics]
    wrapped = keras.optimizers.LossScaleOptimizer(adam(1e-3), initial_scale=64.0, dynamic_growth_steps=10)
    trainer = vocoder_trainer(g_optimizer=wrapped)
    assert not isinstance(trainer.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert float(trainer.g_loss_scale.scale.numpy()) == 64.0 and trainer.g_loss_scale.growth_steps == 10
    trainer.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0)
    assert int(trainer.g_optimizer.iterations.numpy()) == 1


# ---------------------------------------------------------------------------------------------
# VAE / VQ-VAE trainers: tiny toy models following their contracts (mixed-precision-safe layers)


class ToyVAE(keras.Model):
    """(batch, 16, 16) -> {"reconstruction", "z_mean", "z_log_var"} with a per-frame 4-d latent."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.enc = keras.layers.Dense(32, activation="tanh")
        self.mean, self.log_var = keras.layers.Dense(4), keras.layers.Dense(4)
        self.dec = [keras.layers.Dense(32, activation="tanh"), keras.layers.Dense(16)]
        self.seed_generator = keras.random.SeedGenerator(0)

    def call(self, x, training=False):
        h = self.enc(x)
        mean, log_var = self.mean(h), self.log_var(h)
        z = mean
        if training:
            eps = keras.random.normal(keras.ops.shape(mean), dtype=mean.dtype, seed=self.seed_generator)
            z = mean + keras.ops.exp(0.5 * log_var) * eps
        y = self.dec[1](self.dec[0](z))
        return {"reconstruction": y, "z_mean": mean, "z_log_var": log_var}


class ToyVQVAE(keras.Model):
    """(batch, 16, 16) -> {"reconstruction", "codes" (batch, 16)}; nearest-codeword VQ in float32 + commitment loss."""

    codebook_size = 8

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.enc = keras.layers.Dense(4)
        self.dec = [keras.layers.Dense(32, activation="tanh"), keras.layers.Dense(16)]
        self.codebook = self.add_weight(shape=(8, 4), initializer=keras.initializers.RandomNormal(stddev=0.5),
                                        name="codebook", autocast=False)

    def call(self, x, training=False):
        ops = keras.ops
        z = ops.cast(self.enc(x), "float32")
        cb = ops.cast(self.codebook, "float32")
        codes = ops.argmin(ops.sum(ops.square(z[..., None, :] - cb), axis=-1), axis=-1)
        q = ops.take(cb, codes, axis=0)
        if training:
            sg = ops.stop_gradient
            self.add_loss(ops.mean(ops.square(sg(z) - q)) + 0.25 * ops.mean(ops.square(z - sg(q))))
        q = z + ops.stop_gradient(q - z)
        return {"reconstruction": self.dec[1](self.dec[0](ops.cast(q, self.compute_dtype))), "codes": codes}


def _structured_frames(n=32):
    rng = np.random.default_rng(0)
    base = np.sin(np.linspace(0, 6, 16))[:, None] * np.cos(np.linspace(0, 3, 16))[None]
    return (base[None] * rng.uniform(0.5, 1.5, (n, 1, 1)) + 0.05 * rng.standard_normal((n, 16, 16))).astype("float32")


def test_vae_and_vqvae_train_under_mixed_float16():
    from training.vae_trainer import VAETrainer, VQVAETrainer

    x = _structured_frames()
    with policy("mixed_float16"):
        keras.utils.set_random_seed(0)
        results = {}
        for name, trainer in (("vae", VAETrainer(ToyVAE(), beta=1e-3)), ("vqvae", VQVAETrainer(ToyVQVAE()))):
            # plain SGD: an unscaled update would be 2**15 times too small (Adam would hide that)
            trainer.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9))
            assert isinstance(trainer.optimizer, keras.optimizers.LossScaleOptimizer)  # Keras wraps it
            before = trainer.evaluate(x, batch_size=8, verbose=0, return_dict=True)["reconstruction_loss"]
            history = trainer.fit(x, batch_size=8, epochs=4, verbose=0).history["reconstruction_loss"]
            after = trainer.evaluate(x, batch_size=8, verbose=0, return_dict=True)["reconstruction_loss"]
            results[name] = (before, history, after, float(trainer.optimizer.dynamic_scale.numpy()))
            assert trainer.model.dtype_policy.name == "mixed_float16"
    assert keras.mixed_precision.global_policy().name == "float32"
    for name, (before, history, after, scale) in results.items():
        assert all(np.isfinite(history)) and np.isfinite(after), (name, history)
        assert history[-1] < history[0] and after < 0.5 * before, (name, before, history, after)
        assert 1.0 <= scale <= 2.0**15, (name, scale)


def test_gan_recipe_trains_with_mixed_float16(tmp_path):
    """`precision: mixed_float16` is accepted for a GAN recipe; loss-scale overflows never count as non-finite."""
    from test_fault_tolerance import write_tiny_corpus, write_tiny_recipe
    from training.recipes import load_recipe
    from training.run import train

    data = write_tiny_corpus(tmp_path / "data", n=2)
    recipe = load_recipe(write_tiny_recipe(tmp_path / "tiny.yaml"),
                         ["precision=mixed_float16", "steps=4", "steps_per_epoch=4", "checkpoint_every=4",
                          "deterministic=false", "on_nonfinite=stop"])
    try:
        result = train(recipe, data=data, out=tmp_path / "run", verbose=0)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert result.step == 4 and result.stopped_nonfinite == [] and result.model_path
    assert "loss_scale_overflows" in result.history and np.isfinite(result.history["mel_loss"][-1])
