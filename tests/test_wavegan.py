"""WaveGAN / SpecGAN (Donahue et al. 2019): shapes, parameter counts, round trips, phase shuffle, WGAN-GP steps."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf

from audiogen_tf.errors import ConfigError
from audiogen_tf.layers.phase_shuffle import PhaseShuffle
from zoo.wavegan import SpecGANDiscriminator, SpecGANGenerator, WaveGANDiscriminator, WaveGANGenerator

SR = 16000
N = 16384


# ----------------------------------------------------------------------------- data


def sweeps(batch, rng):
    """Class 0: sine sweeps with a random start / end frequency, constant amplitude."""
    t = np.arange(N) / SR
    f0 = rng.uniform(200, 1000, (batch, 1))
    f1 = rng.uniform(1500, 4000, (batch, 1))
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * t[-1]))
    return (0.5 * np.sin(phase)).astype(np.float32)


def bursts(batch, rng):
    """Class 1: white-noise bursts with an exponential decay starting at a random onset."""
    out = np.zeros((batch, N), np.float32)
    for i in range(batch):
        onset = rng.integers(0, N // 2)
        env = np.exp(-np.arange(N - onset) / rng.uniform(800, 3000))
        out[i, onset:] = 0.5 * rng.standard_normal(N - onset) * env
    return out


def clips(batch, rng):
    """Half sweeps, half bursts: audio (batch, N, 1), labels (batch,)."""
    half = batch // 2
    audio = np.concatenate([sweeps(half, rng), bursts(batch - half, rng)])[..., None]
    labels = np.array([0] * half + [1] * (batch - half), np.int32)
    return tf.constant(audio), tf.constant(labels)


# ----------------------------------------------------------------------------- phase shuffle


def reference_shift(x, k, n):
    """NumPy reference: y[t] = x[t - k] with reflection padding of n at both ends."""
    padded = np.pad(x, [(n, n), (0, 0)], mode="reflect")
    return padded[n - k : n - k + x.shape[0]]


def test_phase_shuffle_identity_at_inference():
    layer = PhaseShuffle(n=2, seed=1)
    x = np.random.default_rng(0).standard_normal((4, 32, 3)).astype(np.float32)
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer(x, training=False), x)


def test_phase_shuffle_reflection_matches_numpy():
    layer = PhaseShuffle(n=2)
    x = np.arange(6, dtype=np.float32)[None, :, None].repeat(5, 0)
    shifts = tf.constant([-2, -1, 0, 1, 2])
    y = layer.shuffle(tf.constant(x), shifts).numpy()
    for b, k in enumerate([-2, -1, 0, 1, 2]):
        np.testing.assert_array_equal(y[b], reference_shift(x[b], k, 2))
    # explicit values: a shift by +2 reflects the start, a shift by -2 the end (no zeros enter)
    assert y[4, :, 0].tolist() == [2, 1, 0, 1, 2, 3]
    assert y[0, :, 0].tolist() == [2, 3, 4, 5, 4, 3]


def test_phase_shuffle_training_shifts_within_bounds_and_cover_range():
    n = 2
    layer = PhaseShuffle(n=n, seed=3)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((256, 40, 2)).astype(np.float32)
    y = layer(x, training=True).numpy()
    found = []
    for b in range(len(x)):
        ks = [k for k in range(-n, n + 1) if np.array_equal(y[b], reference_shift(x[b], k, n))]
        assert len(ks) == 1, f"example {b} is not a reflected shift in [-{n}, {n}]"
        found.append(ks[0])
    counts = np.bincount(np.array(found) + n, minlength=2 * n + 1)
    assert (counts > 256 / (2 * n + 1) / 2).all(), counts  # every shift occurs, roughly uniformly
    # seeded: a second layer with the same seed draws the same shifts
    np.testing.assert_array_equal(PhaseShuffle(n=n, seed=3)(x, training=True), y)


# ----------------------------------------------------------------------------- shapes, counts


def wavegan_params(d, latent=100, c=1, k=25):
    """Hand count of the paper's WaveGAN (Tables 2-3): G dense 100->256d, 5 transposed convs; D 5 convs + dense."""
    widths = [16 * d, 8 * d, 4 * d, 2 * d, d, c]
    g = latent * 256 * d + 256 * d + sum(k * a * b + b for a, b in zip(widths, widths[1:]))
    dw = [c, d, 2 * d, 4 * d, 8 * d, 16 * d]
    disc = sum(k * a * b + b for a, b in zip(dw, dw[1:])) + 256 * d + 1
    return g, disc


def test_paper_preset_parameter_count():
    g_ref, d_ref = wavegan_params(64)
    g, d = WaveGANGenerator.from_preset("wavegan"), WaveGANDiscriminator.from_preset("wavegan")
    print(f"\nwavegan: G {g.count_params():,} (hand {g_ref:,}), D {d.count_params():,} (hand {d_ref:,})")
    assert (g.count_params(), d.count_params()) == (g_ref, d_ref) == (19_065_345, 17_427_969)
    # SpecGAN: the same widths with 5x5 kernels -> the same counts
    sg, sd = SpecGANGenerator.from_preset("specgan"), SpecGANDiscriminator.from_preset("specgan")
    print(f"specgan: G {sg.count_params():,}, D {sd.count_params():,}")
    assert (sg.count_params(), sd.count_params()) == (g_ref, d_ref)


@pytest.mark.parametrize("preset", ["wavegan_tiny", "wavegan_conditional_tiny"])
def test_wavegan_shapes(preset):
    g, d = WaveGANGenerator.from_preset(preset), WaveGANDiscriminator.from_preset(preset)
    z = g.sample_latent(2, seed=0)
    label = tf.constant([0, 1])
    audio = g([z, label]) if g.num_classes else g(z)
    assert audio.shape == (2, 16384, 1)
    assert float(tf.reduce_max(tf.abs(audio))) <= 1.0
    out = d([audio, label]) if d.num_classes else d(audio)
    assert len(out) == 1 and len(out[0]) == 6  # one sub-discriminator: 5 feature maps + score
    assert [tuple(f.shape) for f in out[0]] == [
        (2, 4096, 4), (2, 1024, 8), (2, 256, 16), (2, 64, 32), (2, 16, 64), (2, 1)]
    sym = d([keras.Input((16384, 1)), keras.Input((), dtype="int32")] if d.num_classes else keras.Input((16384, 1)))
    assert len(sym) == 1 and len(sym[0]) == 6


def test_slice_length_is_a_parameter():
    g = WaveGANGenerator.from_preset("wavegan_tiny", slice_length=4096)
    d = WaveGANDiscriminator.from_preset("wavegan_tiny", slice_length=4096)
    assert len([l for l in g.layers if "upconv" in l.name]) == 4
    audio = g(g.sample_latent(1))
    assert audio.shape == (1, 4096, 1)
    assert d(audio)[0][-1].shape == (1, 1)
    with pytest.raises(ConfigError):
        WaveGANGenerator(slice_length=10000)
    with pytest.raises(ConfigError):
        WaveGANGenerator.from_preset("no_such_preset")


def test_generate_and_export_endpoints():
    g = WaveGANGenerator.from_preset("wavegan_conditional_tiny")
    assert g.generate(2, labels=[0, 1], seed=1).shape == (2, 16384, 1)
    [(name, fn, specs)] = g.export_endpoints()
    assert name == "generate"
    assert [tuple(s.shape) for s in specs] == [(1, 16), (1,)]
    concrete = tf.function(fn).get_concrete_function(*specs)
    z = tf.random.uniform((1, 16), -1, 1)
    np.testing.assert_allclose(concrete(z, tf.constant([1])), g([z, tf.constant([1])]), atol=1e-6)


def test_generate_endpoint_runs_in_tflite(tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    g = WaveGANGenerator.from_preset("wavegan_conditional_tiny")
    [(name, fn, specs)] = g.export_endpoints()
    archive = keras.export.ExportArchive()
    archive.track(g)
    archive.add_endpoint(name, fn, input_signature=specs)
    archive.write_out(str(tmp_path / "sm"), verbose=False)
    tflite = tf.lite.TFLiteConverter.from_saved_model(str(tmp_path / "sm"), signature_keys=["generate"]).convert()
    runner = Interpreter(model_content=tflite).get_signature_runner("generate")
    z = np.random.default_rng(0).uniform(-1, 1, (1, 16)).astype(np.float32)
    out = list(runner(z=z, label=np.array([1], np.int32)).values())[0]
    np.testing.assert_allclose(out, g([tf.constant(z), tf.constant([1])]), atol=1e-5)  # float32 export
    # the (name, function, specs) triple is what tflite_export's Endpoint is built from
    endpoints = pytest.importorskip("tflite_export.endpoints")
    assert endpoints.Endpoint(name, fn, specs).input_names() == ["z", "label"]


def test_discriminator_export_parity(tmp_path):
    harness = pytest.importorskip("model_harness")
    d = WaveGANDiscriminator.from_preset("wavegan_tiny", seed=0)
    x = np.random.default_rng(0).standard_normal((1, 16384, 1)).astype(np.float32)
    report = harness.check_export_parity(d, x, tmp_path)  # phase shuffle is the identity at inference
    print(f"\nwavegan_tiny critic TFLite max |err| {report['max_abs_error']:.2e}")
    assert report["max_abs_error"] < 1e-4


def test_discriminator_phase_shuffle_only_in_training():
    d = WaveGANDiscriminator.from_preset("wavegan_tiny", seed=1)
    x = tf.random.normal((4, 16384, 1), seed=0)
    infer = d(x)[0][-1]
    np.testing.assert_array_equal(infer, d(x, training=False)[0][-1])
    assert float(tf.reduce_max(tf.abs(d(x, training=True)[0][-1] - infer))) > 1e-4
    # no phase shuffle -> training and inference agree
    d0 = WaveGANDiscriminator.from_preset("wavegan_tiny", phase_shuffle=0)
    np.testing.assert_allclose(d0(x, training=True)[0][-1], d0(x)[0][-1], atol=1e-6)


def test_specgan_shapes_conditional():
    g = SpecGANGenerator.from_preset("specgan_tiny", num_classes=3)
    d = SpecGANDiscriminator.from_preset("specgan_tiny", num_classes=3)
    label = tf.constant([0, 2])
    spec = g([g.sample_latent(2), label])
    assert spec.shape == (2, 128, 128, 1)
    out = d([spec, label])
    assert [tuple(f.shape) for f in out[0]] == [
        (2, 64, 64, 4), (2, 32, 32, 8), (2, 16, 16, 16), (2, 8, 8, 32), (2, 4, 4, 64), (2, 1)]
    assert g.generate(2, labels=[1, 2], n_iter=2).shape == (2, 16384, 1)


# ----------------------------------------------------------------------------- round trips


def _call(model, x, label):
    return model([x, label], training=False) if model.num_classes else model(x, training=False)


@pytest.mark.parametrize(
    "cls,preset,make",
    [
        (WaveGANGenerator, "wavegan_conditional_tiny", lambda: tf.random.uniform((2, 16), -1, 1, seed=1)),
        (WaveGANDiscriminator, "wavegan_conditional_tiny", lambda: tf.random.normal((2, 16384, 1), seed=2)),
        (WaveGANDiscriminator, "wavegan_tiny", lambda: tf.random.normal((2, 16384, 1), seed=3)),
        (SpecGANDiscriminator, "specgan_tiny", lambda: tf.random.normal((2, 128, 128, 1), seed=4)),
    ],
)
def test_config_and_keras_round_trip(cls, preset, make, tmp_path):
    model = cls.from_preset(preset, seed=7) if cls is WaveGANDiscriminator else cls.from_preset(preset)
    x, label = make(), tf.constant([1, 0])
    ref = tf.nest.flatten(_call(model, x, label))

    clone = cls.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    clone.set_weights(model.get_weights())
    for a, b in zip(ref, tf.nest.flatten(_call(clone, x, label))):
        np.testing.assert_allclose(a, b, atol=1e-6)

    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is cls and loaded.get_config() == model.get_config()
    out = _call(loaded, x, label)
    if cls is not WaveGANGenerator and cls is not SpecGANGenerator:
        assert len(out) == 1  # nested discriminator structure survives loading
    for a, b in zip(ref, tf.nest.flatten(out)):
        np.testing.assert_allclose(a, b, atol=1e-6)


# ----------------------------------------------------------------------------- SpecGAN


def test_specgan_normalization_round_trip_and_griffin_lim(tmp_path):
    rng = np.random.default_rng(0)
    audio, _ = clips(8, rng)
    from zoo.wavegan.wavegan_specgan import log_magnitude, spectrogram_moments

    mean, std = spectrogram_moments(audio)
    g = SpecGANGenerator.from_preset("specgan_tiny", spec_mean=mean, spec_std=std)
    spec = g.audio_to_spec(audio)
    assert spec.shape == (8, 128, 128, 1)
    assert float(tf.reduce_max(tf.abs(spec))) <= 1.0
    # per-bin normalization: real data has ~zero mean per bin
    assert np.abs(spec.numpy().mean(axis=(0, 1, 3))).max() < 0.2
    # denormalize inverts normalize wherever nothing was clipped
    logmag = log_magnitude(audio).numpy()
    back = g.denormalize(spec).numpy()
    unclipped = np.abs(spec.numpy()[..., 0]) < 0.999
    np.testing.assert_allclose(back[unclipped], logmag[unclipped], atol=1e-3)

    # Griffin-Lim from the normalized spectrogram of a 1 kHz tone gives back a 1 kHz tone
    tone = tf.constant(0.5 * np.sin(2 * np.pi * 1000 * np.arange(N) / SR), tf.float32)[None]
    rec = g.to_audio(g.audio_to_spec(tone), n_iter=16, seed=0)
    assert rec.shape == (1, 16384, 1)
    spectrum = np.abs(np.fft.rfft(rec.numpy()[0, :, 0]))
    assert abs(np.argmax(spectrum) * SR / N - 1000) < 20

    # moments travel with the config and the .keras file
    g.save(str(tmp_path / "s.keras"))
    loaded = keras.saving.load_model(str(tmp_path / "s.keras"))
    np.testing.assert_allclose(loaded.get_config()["spec_mean"], mean, rtol=1e-6)
    z = g.sample_latent(1, seed=2)
    np.testing.assert_allclose(loaded(z), g(z), atol=1e-6)


# ----------------------------------------------------------------------------- WGAN-GP


def critic_score(d, x, label):
    return d([x, label], training=True)[0][-1] if d.num_classes else d(x, training=True)[0][-1]


def wgan_gp_steps(g, d, real_fn, rounds, n_critic=5, lr=1e-3, gp_weight=10.0, seed=0):
    """WGAN-GP (Gulrajani et al. 2017) as in the paper: n_critic critic updates per generator update."""
    d_opt = keras.optimizers.Adam(lr, beta_1=0.5, beta_2=0.9)
    g_opt = keras.optimizers.Adam(lr, beta_1=0.5, beta_2=0.9)
    rng = np.random.default_rng(seed)

    def fake(batch, label):
        z = tf.random.uniform((batch, g.latent_dim), -1, 1)
        return g([z, label], training=True) if g.num_classes else g(z, training=True)

    @tf.function
    def d_step(real, label):
        batch = tf.shape(real)[0]
        x_fake = fake(batch, label)
        eps = tf.random.uniform(tf.concat([[batch], tf.ones([tf.rank(real) - 1], tf.int32)], 0))
        x_hat = eps * real + (1 - eps) * x_fake
        with tf.GradientTape() as tape:
            with tf.GradientTape() as gp_tape:
                gp_tape.watch(x_hat)
                s_hat = critic_score(d, x_hat, label)
            grad = gp_tape.gradient(s_hat, x_hat)
            norm = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=tf.range(1, tf.rank(grad))) + 1e-12)
            gp = tf.reduce_mean(tf.square(norm - 1.0))
            w = tf.reduce_mean(critic_score(d, real, label)) - tf.reduce_mean(critic_score(d, x_fake, label))
            loss = -w + gp_weight * gp
        d_opt.apply_gradients(zip(tape.gradient(loss, d.trainable_variables), d.trainable_variables))
        return w

    @tf.function
    def g_step(label):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(critic_score(d, fake(tf.shape(label)[0], label), label))
        g_opt.apply_gradients(zip(tape.gradient(loss, g.trainable_variables), g.trainable_variables))
        return loss

    for _ in range(rounds):
        for _ in range(n_critic):
            real, label = real_fn(8, rng)
            d_step(real, label)
        g_step(label)


def wasserstein_estimate(g, d, real, label):
    tf.random.set_seed(123)
    z = tf.random.uniform((real.shape[0], g.latent_dim), -1, 1, seed=5)
    x_fake = g([z, label], training=False) if g.num_classes else g(z, training=False)
    if isinstance(g, SpecGANGenerator):
        real = g.audio_to_spec(real)
    score = lambda x: d([x, label], training=False)[0][-1] if d.num_classes else d(x, training=False)[0][-1]
    return float(tf.reduce_mean(score(real)) - tf.reduce_mean(score(x_fake)))


@pytest.mark.parametrize("preset", ["wavegan_conditional_tiny", "specgan_tiny"])
def test_wgan_gp_critic_learns_to_separate(preset):
    keras.utils.set_random_seed(0)
    if preset.startswith("specgan"):
        g, d = SpecGANGenerator.from_preset(preset), SpecGANDiscriminator.from_preset(preset)
        moments_audio, _ = clips(8, np.random.default_rng(9))
        from zoo.wavegan.wavegan_specgan import spectrogram_moments

        g.set_normalization(*spectrogram_moments(moments_audio))

        def real_fn(batch, rng):
            audio, label = clips(batch, rng)
            return g.audio_to_spec(audio), label
    else:
        g, d = WaveGANGenerator.from_preset(preset), WaveGANDiscriminator.from_preset(preset, seed=0)
        real_fn = clips
    eval_real, eval_label = clips(16, np.random.default_rng(42))
    before = wasserstein_estimate(g, d, eval_real, eval_label)
    wgan_gp_steps(g, d, real_fn, rounds=3)
    after = wasserstein_estimate(g, d, eval_real, eval_label)
    print(f"\n{preset}: Wasserstein estimate {before:.4f} -> {after:.4f}")
    assert after > before + 0.1 and after > 0.1
