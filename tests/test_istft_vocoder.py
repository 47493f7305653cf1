"""Frame-rate iSTFT vocoder: presets and parameter counts, shapes, round trips, carried features, spectral
losses, a few GANTrainer steps that lower the loss on speech-like audio, TFLite parity of both endpoints."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest

from audiogen_tf import losses as L
from audiogen_tf.features import MelConfig
from model_harness import (
    check_build_and_shapes,
    check_config_round_trip,
    check_export_parity,
    check_fit_lowers_loss,
    check_keras_save_load,
)
from training.gan_trainer import GANTrainer
from zoo.istft_vocoder import ISTFTVocoder
from zoo.istft_vocoder.istft_vocoder_presets import HIFIGAN_MEL

SR, HOP = 22050, 256


def voiced(seconds=0.75, f0=140.0, seed=0):
    """A vowel-like test signal: harmonics of a gliding f0 with a formant-ish envelope, and a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.1 * np.sin(2 * np.pi * 2 * t))) / SR
    x = sum(np.sin(k * phase) / k * np.exp(-((k * f0 - 700) / 900) ** 2) for k in range(1, 30))
    return (0.3 * x / np.abs(x).max() + 0.003 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    return ISTFTVocoder.from_preset("istft_vocoder_tiny")


def mel_of(model, audio):
    return np.asarray(model.features_of(audio[None]))[:, : audio.size // HOP]


@pytest.mark.parametrize("preset,millions", [("istft_vocoder_vocos", 13.72), ("istft_vocoder_small", 3.72)])
def test_preset_sizes(preset, millions):
    assert ISTFTVocoder.from_preset(preset).count_params() / 1e6 == pytest.approx(millions, abs=0.01)


def test_shapes_round_trips_and_receptive_field(tiny, tmp_path):
    mel = np.random.default_rng(0).normal(-5, 1, (2, 12, 80)).astype(np.float32)
    check_build_and_shapes(tiny, mel, (2, 12 * HOP, 1))
    check_config_round_trip(tiny, mel)
    check_keras_save_load(tiny, mel, tmp_path)
    log_amp, phase = tiny.spectrum_generator(mel)
    assert tuple(log_amp.shape) == tuple(phase.shape) == (2, 12, 513)
    np.testing.assert_allclose(np.asarray(tiny.spectrum_to_audio(log_amp, phase)), np.asarray(tiny(mel)), atol=1e-6)
    # measured receptive field never exceeds the declared one
    from tflite_export.streaming import receptive_field_frames

    measured = receptive_field_frames(lambda m: tiny(m), 80, HOP, frames=64)
    assert measured <= tiny.receptive_field_frames()


def test_carries_its_features_and_refuses_missing_settings(tiny, tmp_path):
    assert tiny.get_config()["mel_config"] == HIFIGAN_MEL
    path = os.path.join(tmp_path, "v.keras")
    tiny.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = voiced()
    assert loaded.feature_settings == MelConfig.from_dict(HIFIGAN_MEL)
    np.testing.assert_allclose(np.asarray(loaded.features_of(x[None])), np.asarray(MelConfig.from_dict(HIFIGAN_MEL).log_mel(x[None])))
    mel = mel_of(loaded, x)
    np.testing.assert_allclose(np.asarray(loaded(mel)), np.asarray(tiny(mel)), atol=1e-6)
    with pytest.raises(ValueError, match="needs mel_config"):
        ISTFTVocoder(dim=8)
    with pytest.raises(ValueError, match="missing"):
        ISTFTVocoder(mel_config={"sample_rate": 22050})


def test_amplitude_prior_inverts_the_mel():
    # untrained, the log-amplitude is the pseudo-inverse-mel amplitude plus a small dense output: its mel
    # is already close to the input mel
    keras.utils.set_random_seed(1)
    model = ISTFTVocoder.from_preset("istft_vocoder_tiny")
    x = voiced()
    mel = mel_of(model, x)
    audio = np.asarray(model(mel))[0, :, 0]
    err_prior = np.abs(mel_of(model, audio) - mel)[:, 4:-4].mean()
    err_silence = np.abs(mel_of(model, np.zeros_like(x)) - mel)[:, 4:-4].mean()
    assert err_prior < 0.5 * err_silence


def test_phase_losses_are_anti_wrapped():
    rng = np.random.default_rng(0)
    p = rng.uniform(-np.pi, np.pi, (1, 6, 9)).astype(np.float32)
    for loss in L.phase_losses(p, p + 2 * np.pi):
        assert float(loss) < 1e-5
    ip, gd, iaf = L.phase_losses(p, p + 0.3)
    assert float(ip) == pytest.approx(0.3, abs=1e-5) and float(gd) < 1e-5 and float(iaf) < 1e-5


def test_spectral_losses_vanish_on_the_true_spectrum():
    from audiogen_tf.features import stft

    x = voiced(0.5)[None]
    S = np.asarray(stft(x, 1024, 256))[:, : x.shape[1] // HOP]
    log_amp, phase = np.log(np.maximum(np.abs(S), 1e-5)), np.angle(S)
    terms = L.spectral_losses(x, log_amp, phase, x, {"n_fft": 1024, "hop_length": 256, "win_length": 1024})
    for name, value in terms.items():
        assert float(value) < 1e-3, (name, float(value))


def test_weighted_phase_exponent_moves_the_weight_to_the_harmonics():
    """Exponent 1 weighs each bin pair by energy: a phase error on the noise floor between harmonics barely counts,
    one on a harmonic counts fully; exponent 0.25 lets the many quiet bins weigh far more."""
    rng = np.random.default_rng(0)
    amp = np.full((1, 8, 64), 1e-3, np.float32)
    amp[..., 8::8] = 1.0  # harmonics every 8 bins
    phase = rng.uniform(-np.pi, np.pi, amp.shape).astype(np.float32)
    floor_error, harmonic_error = phase.copy(), phase.copy()
    floor_error[:, 4:, amp[0, 0] < 1] += 0.5  # the phase advance of every noise-floor bin changes at frame 4
    harmonic_error[:, 4:, amp[0, 0] == 1] += 0.5
    iaf = {e: [float(L.weighted_phase_losses(phase, p, amp, exponent=e)[1]) for p in (floor_error, harmonic_error)]
           for e in (0.25, 1.0)}
    assert iaf[1.0][0] < 0.01 * iaf[1.0][1]
    assert iaf[0.25][0] > 0.1 * iaf[0.25][1]


def test_gan_trainer_spectral_steps_lower_the_loss(tiny):
    model = ISTFTVocoder.from_config(tiny.get_config())
    audio = np.stack([voiced(8192 / SR, f0) [:8192] for f0 in (120.0, 190.0)])
    mel = np.asarray(model.features_of(audio))[:, : 8192 // HOP]
    trainer = GANTrainer(model, [], mode="vocoder", mel_config=model.feature_settings)
    losses = {"mel": 45.0, "stft": 2.5, "amplitude": 45.0, "phase": 100.0, "real_imag": 45.0, "consistency": 20.0}
    trainer.compile(g_optimizer=keras.optimizers.AdamW(2e-3), d_optimizer=keras.optimizers.AdamW(2e-3),
                    generator_warmup_steps=10**9, losses=losses)
    result = check_fit_lowers_loss(trainer, {"audio": audio, "mel": mel}, steps=6, loss_key="g_loss")
    print("istft_vocoder_tiny g_loss:", result["history"])


def test_spectral_weights_need_a_frame_rate_generator():
    from audiogen_tf.errors import ConfigError
    from zoo.hifigan import HiFiGANGenerator

    trainer = GANTrainer(HiFiGANGenerator.from_preset("hifigan_tiny"), [], mode="vocoder", mel_config=MelConfig())
    with pytest.raises(ConfigError, match="unknown loss 'phase'.*HiFiGANGenerator supplies none of its own"):
        trainer.compile(g_optimizer=keras.optimizers.Adam(), d_optimizer=keras.optimizers.Adam(),
                        losses={"mel": 45.0, "phase": 1.0})


def test_export_parity_synthesize_and_chunk(tiny, tmp_path):
    rng = np.random.default_rng(5)
    ctx = tiny.receptive_field_frames()
    inputs = {"synthesize": rng.normal(-5, 1, (1, 40, 80)).astype(np.float32),
              "chunk": rng.normal(-5, 1, (1, 32 + 2 * ctx, 80)).astype(np.float32)}
    result = check_export_parity(tiny, inputs, tmp_path, atol=1e-4)
    assert "ATAN2" in result["ops"] and ({"BATCH_MATMUL", "FULLY_CONNECTED"} & set(result["ops"]))
    print("istft_vocoder_tiny TFLite errors:", result["errors"])


def test_streamed_chunks_equal_offline_in_the_interior(tiny):
    from tflite_export.streaming import check_vocoder_streaming, keras_chunk_fn

    mel = np.random.default_rng(6).normal(-5, 1, (100, 80)).astype(np.float32)
    ctx = tiny.receptive_field_frames()
    report = check_vocoder_streaming(lambda m: tiny(m), keras_chunk_fn(tiny), mel, 32, ctx, HOP)
    assert report["max_abs_error_vs_padded_offline"] < 1e-4
    assert report["max_abs_error_interior"] < 1e-4


@pytest.mark.parametrize("heads", [{}, {"phase_head": "direct", "amplitude_prior": "none"}])
def test_cropped_chunk_equals_the_whole_window_interior(heads):
    """The chunk endpoint computes only the frames that reach its centre; same audio as the whole window."""
    keras.utils.set_random_seed(1)
    model = ISTFTVocoder.from_preset("istft_vocoder_tiny", **heads)
    ctx = model.receptive_field_frames()
    rng = np.random.default_rng(7)
    for extra in (0, 3):   # the receptive field, and more context than it needs
        window = rng.normal(-5, 1, (1, 8 + 2 * (ctx + extra), 80)).astype(np.float32)
        whole = np.asarray(model(window))[:, (ctx + extra) * HOP: (ctx + extra + 8) * HOP]
        cropped = np.asarray(model.cropped_chunk(window, 8, ctx + extra))
        assert cropped.shape == whole.shape == (1, 8 * HOP, 1)
        np.testing.assert_allclose(cropped, whole, atol=1e-5)
    with pytest.raises(ValueError, match="context_frames"):
        model.cropped_chunk(window, 8, ctx - 1)


def test_recipe_trains_then_cli_synthesizes_exports_and_evaluates(tmp_path, capsys):
    """audiogen train / synthesize (run folder and bare .keras) / export / evaluate with the family."""
    import csv

    import soundfile as sf

    from audiogen_cli import main
    from training.recipes import load_recipe
    from training.run import train

    data = tmp_path / "data"
    data.mkdir()
    with open(data / "manifest.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["path"])
        w.writeheader()
        for i, f0 in enumerate((110.0, 160.0, 220.0)):
            sf.write(data / f"v{i}.wav", voiced(0.6, f0, seed=i), SR)
            w.writerow({"path": str(data / f"v{i}.wav")})
    assert load_recipe("istft_vocoder").generator_preset == "istft_vocoder_small"
    recipe = load_recipe("istft_vocoder", ["steps=2", "steps_per_epoch=2", "checkpoint_every=2", "batch_size=2",
                                           "generator_preset=istft_vocoder_tiny",
                                           "discriminator_preset=istft_vocoder_tiny", "generator_warmup_steps=1"])
    run = tmp_path / "run"
    result = train(recipe, data=str(data / "manifest.csv"), out=str(run), verbose=0)
    assert result.step == 2 and os.path.exists(result.model_path)
    assert {"phase_loss", "amplitude_loss", "d_loss"} <= set(result.history)

    out = tmp_path / "synth"
    assert main(["synthesize", str(run), "--input", str(data / "v0.wav"), "--out", str(out)]) == 0
    y, sr = sf.read(out / "v0_synth.wav")
    assert sr == SR and abs(len(y) - int(0.6 * SR)) <= HOP and np.all(np.isfinite(y))
    # a bare .keras file knows its own features: no run folder, no --sample-rate
    out2 = tmp_path / "synth2"
    assert main(["synthesize", result.model_path, "--input", str(data / "v0.wav"), "--out", str(out2)]) == 0
    np.testing.assert_allclose(sf.read(out2 / "v0_synth.wav")[0], y, atol=1e-4)
    # --refine-iterations: the model's own synthesize_refined (0 iterations is the plain output)
    out3 = tmp_path / "synth3"
    assert main(["synthesize", result.model_path, "--input", str(data / "v0.wav"), "--out", str(out3),
                 "--refine-iterations", "4"]) == 0
    refined = sf.read(out3 / "v0_synth.wav")[0]
    assert refined.shape == y.shape and np.all(np.isfinite(refined)) and np.max(np.abs(refined - y)) > 1e-3

    tfl = tmp_path / "v.tflite"
    assert main(["export", result.model_path, "--format", "tflite", "--out", str(tfl), "--refine"]) == 0
    assert os.path.getsize(tfl) > 0
    from tflite_export.runtime import TFLiteRunner

    assert TFLiteRunner(str(tfl)).signature_keys() == ["chunk", "synthesize", "synthesize_refined"]

    ref = tmp_path / "ref"
    ref.mkdir()
    sf.write(ref / "v0_synth.wav", voiced(0.6, 110.0, seed=0)[: len(y)], SR)
    assert main(["evaluate", str(out), "--reference", str(ref), "--no-f0", "--out", str(tmp_path / "eval")]) == 0


def test_synthesizer_bundle_streams_the_offline_audio(tiny, tmp_path):
    """export_bundle takes the vocoder's receptive field as context: LiteRT chunks equal Keras away from the ends;
    with refine=True the bundle's "synthesize_refined" signature equals Keras' synthesize_refined."""
    from tflite_export.runtime import ModelFileError
    from tflite_export.synthesizer import Synthesizer, export_bundle

    bundle = export_bundle(tmp_path / "bundle", vocoder=tiny, chunk_frames=16, refine=True)
    synth = Synthesizer(bundle)
    assert synth.sample_rate == SR and synth.voc["context_frames"] == tiny.receptive_field_frames()
    mel = np.random.default_rng(7).normal(-5, 1, (80, 80)).astype(np.float32)
    streamed = synth.mel_to_audio(mel)
    offline = np.asarray(tiny(mel[None])).reshape(-1)
    edge = tiny.receptive_field_frames() * HOP
    assert streamed.shape == offline.shape
    assert np.abs(streamed - offline)[edge:-edge].max() < 1e-4
    # the refined path: one "synthesize_refined" call with a run-time iteration count, = Keras synthesize_refined
    refined = synth.mel_to_audio(mel, refine_iterations=5)
    keras_refined = np.asarray(tiny.synthesize_refined(mel[None], 5)).reshape(-1)
    assert refined.shape == keras_refined.shape
    assert np.abs(refined - keras_refined).max() < 1e-4 * max(1.0, np.abs(keras_refined).max())
    assert synth.last_stats["refine_iterations"] == 5 and synth.last_stats["chunks"] == 1
    with pytest.raises(ValueError, match=">= 0"):
        synth.mel_to_audio(mel, refine_iterations=-1)
    synth.vocoder.signature_keys = lambda: ["chunk", "synthesize"]  # a bundle exported without refine=True
    with pytest.raises(ModelFileError, match="refine=True"):
        synth.mel_to_audio(mel, refine_iterations=2)
    with pytest.raises(ValueError, match="int8"):
        export_bundle(tmp_path / "int8", vocoder=tiny, quantization="int8", refine=True)
    from zoo.hifigan import HiFiGANGenerator

    with pytest.raises(ValueError, match="no predicted phase to refine"):
        export_bundle(tmp_path / "hifigan", vocoder=HiFiGANGenerator.from_preset("hifigan_tiny"), refine=True)


def test_synthesize_refined_starts_at_the_plain_output_and_makes_the_phase_consistent(tiny):
    """0 iterations give the model's own audio; 8 consistency steps from its phase bring the STFT of the audio
    closer to the amplitude it predicted (the untrained tiny model's phase is far from consistent)."""
    from audiogen_tf.features import spectral_convergence

    mel = tiny.feature_settings.log_mel(voiced()[None])
    plain = np.asarray(tiny(mel, training=False))[..., 0]
    same = np.asarray(tiny.synthesize_refined(mel, 0))
    assert same.shape == plain.shape
    np.testing.assert_allclose(same, plain, atol=1e-4)
    log_amp, _ = tiny.spectrum_generator(mel, training=False)
    magnitude = np.exp(np.minimum(np.asarray(log_amp), tiny.polar.max_log_amplitude))
    refined = tiny.synthesize_refined(mel, 8)
    before, after = (float(spectral_convergence(magnitude, y)[0]) for y in (plain, refined))
    assert after < 0.8 * before, (before, after)


def test_frame_rate_correlation_loss_hears_a_frame_rate_buzz_in_noise():
    """A click every hop (what a phase repeating every frame makes of noise) against noise scores about 1;
    another draw of noise scores near 0; a signal against itself scores 0, voiced or not."""
    rng = np.random.default_rng(0)
    noise = (0.1 * rng.standard_normal((2, 8192))).astype(np.float32)
    buzz = np.zeros_like(noise)
    buzz[:, ::HOP] = 0.5
    buzz += 0.01 * noise
    vowel = np.stack([voiced(8192 / SR, 140.0)[:8192]] * 2)
    assert float(L.frame_rate_correlation_loss(noise, noise, HOP)) == 0.0
    assert float(L.frame_rate_correlation_loss(vowel, vowel, HOP)) == 0.0
    assert float(L.frame_rate_correlation_loss(noise, buzz, HOP)) > 0.8
    other = (0.1 * rng.standard_normal((2, 8192))).astype(np.float32)
    assert float(L.frame_rate_correlation_loss(noise, other, HOP)) < 0.1
