"""WaveRNN (sample-level GRU vocoder, mu-law or coarse/fine 16-bit): shapes, round trips, teacher-forcing pairs,
fit on real note audio, generation equal to teacher forcing, and the builtin-ops step export driven as a loop."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf

from audiogen_tf import audio as audio_io
from audiogen_tf.datasets.notes import generate_note
from audiogen_tf.features import MelConfig
from model_harness import (
    check_build_and_shapes,
    check_config_round_trip,
    check_export_parity,
    check_fit_lowers_loss,
    check_keras_save_load,
)
from zoo.rnn import WaveRNN, audio_to_16bit, wavernn_dataset, wavernn_pairs
from zoo.rnn.rnn_presets import NOTES_MEL


def _notes(n=2, samples=1024):
    """Real note audio (n, samples) at 16 kHz and its log-mel (n, samples // 128, 40)."""
    cfg = MelConfig.from_dict(NOTES_MEL)
    rng = np.random.default_rng(0)
    full = np.stack([generate_note(57 + 5 * i, ["flute", "string"][i % 2], 16000, 0.25, rng) for i in range(n)])
    start = 8 * 128  # frame i of the segment is frame 8 + i of the whole note (centred frames)
    audio = full[:, start:start + samples].astype("float32")
    mel = np.asarray(cfg.log_mel(full), "float32")[:, 8 : 8 + samples // 128]
    return audio, mel


@pytest.fixture(scope="module", params=["wavernn_tiny", "wavernn_tiny_coarse_fine"])
def model(request):
    keras.utils.set_random_seed(0)
    return WaveRNN.from_preset(request.param)


def test_pairs_match_numpy_references():
    audio, mel = _notes(1, 256)
    x, y = wavernn_pairs(audio, mel)
    ref = audio_io.mu_law_encode(audio, 8)
    assert np.mean(np.asarray(y) != ref) < 1e-3 and np.max(np.abs(np.asarray(y) - ref)) <= 1
    np.testing.assert_array_equal(np.asarray(x["audio_ids"])[:, 1:], np.asarray(y)[:, :-1])
    assert int(x["audio_ids"][0, 0]) == 128
    x, y = wavernn_pairs(audio, mel, "coarse_fine")
    ids16 = np.asarray(audio_to_16bit(audio))
    np.testing.assert_array_equal(np.asarray(y)[..., 0] * 256 + np.asarray(y)[..., 1], ids16)
    np.testing.assert_array_equal(np.asarray(x["coarse_ids"]), ids16 // 256)
    back = np.asarray(WaveRNN.from_preset("wavernn_tiny_coarse_fine").ids_to_audio(ids16))
    assert np.max(np.abs(back - audio)) <= 1.0 / 32768 + 1e-7  # 16-bit quantization error


def test_shapes_and_round_trips(model, tmp_path):
    # 2 mel frames (256 samples): the eager GRU runs a Python step per sample, and this test calls it 7 times
    audio, mel = _notes(2, 256)
    x, _ = wavernn_pairs(audio, mel, model.output_type)
    x = {k: np.asarray(v) for k, v in x.items()}
    want = (2, 256, 2, 256) if model.coarse_fine else (2, 256, 256)
    check_build_and_shapes(model, x, want)
    check_config_round_trip(model, x)
    check_keras_save_load(model, x, tmp_path)
    assert mel.shape[1] == 2 and model.condition(mel).shape == (2, 256, model.cond_channels)
    other = dict(x, mel=mel * 0.0)
    assert np.max(np.abs(model(other).numpy() - model(x).numpy())) > 1e-4  # the mel conditions the output


def test_fit_lowers_loss_on_notes():
    keras.utils.set_random_seed(0)
    audio, mel = _notes(2, 512)  # the loss ratio after 8 steps is the same as on 1024 samples (0.93)
    model = WaveRNN.from_preset("wavernn_tiny")
    x, y = wavernn_pairs(audio, mel)
    before_bits = model.bits_per_sample(y, model(x))
    assert abs(before_bits - 8.0) < 0.5  # untrained: about uniform over 256 classes
    res = check_fit_lowers_loss(model, (x, y), steps=8,
                                compile_kwargs={"optimizer": keras.optimizers.Adam(3e-3), "loss": model.default_loss()})
    assert res["loss_after"] < 0.95 * res["loss_before"], res


def test_generation_equals_teacher_forcing(model):
    """Logits of every generated step == the full-sequence model fed the generated samples; step loop == generate."""
    _, mel = _notes(2, 256)
    ids, logits = model.generate(mel, seed=5, return_outputs=True)
    ids = ids.numpy()
    assert ids.shape == (2, 256) and len(np.unique(ids)) > 5
    prev = np.concatenate([np.full((2, 1), model.silence_id), ids[:, :-1]], 1).astype("int32")
    inputs = {"audio_ids": prev, "mel": mel}
    if model.coarse_fine:
        inputs["coarse_ids"] = ids // 256
    np.testing.assert_allclose(model(inputs).numpy(), logits.numpy(), atol=1e-4)
    # an eager loop over the explicit-state step with the same per-sample noise draws the same samples
    cond = model.condition(mel)
    states, x = model.initial_states(2), np.full((2,), model.silence_id, "int32")
    for t in range(40):
        x, _, states = model.step(x, states, cond[:, t], model.draw_noise_t(t, 2, seed=5))
        assert np.array_equal(x.numpy(), ids[:, t]), t
    np.testing.assert_array_equal(model.generate(mel, num_samples=100, seed=5).numpy(), ids[:, :100])
    assert np.all(np.abs(model.ids_to_audio(ids).numpy()) <= 1.0)


def test_step_endpoints_export_to_builtin_tflite(model, tmp_path):
    pytest.importorskip("ai_edge_litert")
    from tflite_export.runtime import TFLiteRunner

    endpoints = {name: (fn, specs) for name, fn, specs, _ in model.export_endpoints(batch_size=1, mel_frames=8)}
    assert set(endpoints) == {"step", "condition"}
    fn, specs = endpoints["step"]
    assert all(s.shape.is_fully_defined() for s in specs)
    concrete = tf.function(fn, input_signature=specs, autograph=False).get_concrete_function()
    assert not {op.type for op in concrete.graph.get_operations()} & {"While", "StatelessWhile", "TensorListReserve"}
    _, mel = _notes(1, 1024)  # the default endpoints take 8 mel frames
    rng = np.random.default_rng(0)
    step_inputs = [np.array([model.silence_id - 3], "int32")]
    step_inputs += [rng.normal(size=s.shape).astype("float32") * 0.5 for s in specs[1:-2]]
    step_inputs += [np.asarray(model.condition(mel))[:, 7], rng.uniform(0.01, 0.99, specs[-1].shape).astype("float32")]
    res = check_export_parity(model, {"step": step_inputs, "condition": [mel]}, tmp_path, atol=1e-4)
    assert res["max_abs_error"] < 1e-4 and not any(o.startswith("Flex") for o in res["ops"])
    # drive the .tflite step as an on-device loop: same samples as the Keras generate()
    runner = TFLiteRunner(res["path"])
    n = 24
    want = model.generate(mel, num_samples=n, seed=2).numpy()[0]
    cond = runner.run({"mel": mel}, signature="condition")["output_0"]
    x = np.array([model.silence_id], "int32")
    states = [np.zeros(s.shape, "float32") for s in specs[1:-2]]
    got = []
    for t in range(n):
        feed = {"x_prev": x, "cond_t": cond[:, t], "noise": model.draw_noise_t(t, 1, seed=2).numpy()}
        feed.update({f"state_{i}": s for i, s in enumerate(states)})
        out = runner.run(feed, signature="step")
        x = out["output_0"]
        states = [out[f"output_{2 + i}"] for i in range(len(states))]
        got.append(int(x[0]))
    np.testing.assert_array_equal(got, want)


def test_dataset_from_notes(tmp_path):
    from audiogen_tf.datasets.notes import make_notes

    manifest = make_notes(str(tmp_path / "notes"), pitches=[60], timbres=["organ", "pluck"], variations=1,
                          seconds=0.3, progress=False)
    x, y = next(iter(wavernn_dataset(manifest, 512, 2, NOTES_MEL, output="coarse_fine", deterministic=True)))
    assert x["audio_ids"].shape == (2, 512) and x["mel"].shape == (2, 4, 40) and y.shape == (2, 512, 2)
    np.testing.assert_array_equal(x["coarse_ids"].numpy(), y.numpy()[..., 0])
