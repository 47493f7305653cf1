"""FrameRNN (next log-mel frame, stacked LSTM / GRU): shapes, round trips, fit on real note mels, explicit-state
steps and generation equal to teacher forcing, the copy-last-frame start, the dataset and the builtin-ops step export."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf

from audiogen_tf.datasets.notes import generate_note
from audiogen_tf.features import MelConfig
from audiogen_tf.layers.recurrent import RecurrentStack
from model_harness import (
    check_build_and_shapes,
    check_config_round_trip,
    check_export_parity,
    check_fit_lowers_loss,
    check_keras_save_load,
)
from zoo.rnn import FrameRNN, copy_last_frame_loss, frame_pairs, frame_rnn_dataset
from zoo.rnn.rnn_presets import NOTES_MEL


def _note_mels(n=4, seconds=0.4):
    """Real log-mels (n, frames, 40) of synthetic notes at 16 kHz."""
    cfg = MelConfig.from_dict(NOTES_MEL)
    rng = np.random.default_rng(0)
    timbres = ["flute", "string", "bell", "organ"]
    audio = np.stack([generate_note(55 + 3 * i, timbres[i % 4], 16000, seconds, rng) for i in range(n)])
    return np.asarray(cfg.log_mel(audio), "float32")


def _cond(n_mels=40, batch=2, frames=9, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "frames": rng.normal(-5, 2, (batch, frames, n_mels)).astype("float32"),
        "class_id": (np.arange(batch) % 3).astype("int32"),
        "condition": rng.normal(size=(batch, 5)).astype("float32"),
    }


@pytest.fixture(scope="module")
def conditioned():
    keras.utils.set_random_seed(0)
    return FrameRNN.from_preset("frame_rnn_tiny", cell_type="gru", num_classes=3, condition_dim=5,
                                residual_output=False)


def test_recurrent_stack_step_equals_sequence():
    for cell in ("lstm", "gru"):
        rnn = RecurrentStack(8, num_layers=2, cell_type=cell, residual=True)
        x = np.random.default_rng(1).normal(size=(2, 6, 3)).astype("float32")
        init = [np.random.default_rng(2).normal(size=s).astype("float32") for s in rnn.state_shapes(2)]
        full, final = rnn(x, initial_states=init, return_states=True)
        states, ys = init, []
        for t in range(6):
            y, states = rnn.step(x[:, t], states)
            ys.append(np.asarray(y))
        np.testing.assert_allclose(np.stack(ys, 1), np.asarray(full), atol=1e-5)
        for a, b in zip(states, final):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
        assert len(states) == 2 * (2 if cell == "lstm" else 1)


def test_shapes_and_round_trips(conditioned, tmp_path):
    keras.utils.set_random_seed(0)
    tiny = FrameRNN.from_preset("frame_rnn_tiny")
    x = np.random.default_rng(0).normal(-5, 2, (2, 9, 40)).astype("float32")
    check_build_and_shapes(tiny, x, (2, 9, 40))
    check_config_round_trip(tiny, x)
    check_keras_save_load(tiny, x, tmp_path)
    inputs = _cond()
    check_build_and_shapes(conditioned, inputs, (2, 9, 40))
    check_config_round_trip(conditioned, inputs)
    check_keras_save_load(conditioned, inputs, tmp_path)
    base = conditioned(inputs).numpy()
    other = dict(inputs, class_id=(inputs["class_id"] + 1) % 3)
    assert np.max(np.abs(conditioned(other).numpy() - base)) > 1e-4  # the class changes the prediction
    other = dict(inputs, condition=inputs["condition"] * 0.0)
    assert np.max(np.abs(conditioned(other).numpy() - base)) > 1e-4  # so does the conditioning vector


def test_untrained_residual_model_copies_last_frame_and_fit_lowers_loss():
    keras.utils.set_random_seed(0)
    mel = _note_mels()
    x, y = frame_pairs(mel)
    model = FrameRNN.from_preset("frame_rnn_tiny")
    np.testing.assert_allclose(model(x).numpy(), x, atol=1e-6)  # zero-initialised delta: copy-last baseline
    baseline = copy_last_frame_loss(mel, "l1")
    res = check_fit_lowers_loss(model, (x, y), steps=8,
                                compile_kwargs={"optimizer": keras.optimizers.Adam(1e-3), "loss": "mae"})
    assert abs(res["loss_before"] - baseline) < 1e-3 * max(1.0, baseline)
    assert res["loss_after"] < baseline, (res, baseline)  # (benchmarks/rnn_generators.py trains it further)


def test_step_and_generation_equal_teacher_forcing(conditioned):
    keras.utils.set_random_seed(0)
    for model, inputs in [
        (FrameRNN.from_preset("frame_rnn_tiny", cell_type="lstm"), None),
        (conditioned, _cond(frames=7)),
    ]:
        x = inputs["frames"] if inputs else np.random.default_rng(3).normal(-5, 2, (2, 7, 40)).astype("float32")
        cid = inputs["class_id"] if inputs else None
        cond = inputs["condition"] if inputs else None
        full = model(inputs if inputs else x).numpy()
        states, ys = model.initial_states(2), []
        for t in range(x.shape[1]):
            y, states = model.step(x[:, t], states, cid, cond)
            ys.append(y.numpy())
        np.testing.assert_allclose(np.stack(ys, 1), full, atol=1e-5)
        # generation: 3 priming frames, 5 generated; feeding them back teacher-forced gives the same frames
        gen = model.generate(5, priming=x[:, :3], class_id=cid, condition=cond).numpy()
        assert gen.shape == (2, 5, 40)
        seq = np.concatenate([x[:, :3], gen[:, :-1]], axis=1)
        tf_out = model(dict(inputs, frames=seq) if inputs else seq).numpy()
        np.testing.assert_allclose(tf_out[:, 2:], gen, atol=1e-4)
    # default priming is one silent frame
    assert model.generate(4, class_id=cid, condition=cond).shape == (2, 4, 40)


def test_step_endpoint_exports_to_builtin_tflite(conditioned, tmp_path):
    pytest.importorskip("ai_edge_litert")
    (name, fn, specs, _), = conditioned.export_endpoints(batch_size=1)
    assert name == "step" and all(s.shape.is_fully_defined() for s in specs)
    concrete = tf.function(fn, input_signature=specs, autograph=False).get_concrete_function()
    ops = {op.type for op in concrete.graph.get_operations()}
    assert not ops & {"While", "StatelessWhile", "TensorListReserve"}, "step must be loop-free"
    rng = np.random.default_rng(0)
    inputs = [rng.normal(-5, 2, (1, 40)).astype("float32")]
    inputs += [rng.normal(size=s.shape).astype("float32") * 0.5 for s in specs[1:-2]]
    inputs += [np.array([2], "int32"), rng.normal(size=(1, 5)).astype("float32")]
    res = check_export_parity(conditioned, {"step": inputs}, tmp_path, atol=1e-4)
    assert res["max_abs_error"] < 1e-4 and not any(o.startswith("Flex") for o in res["ops"])


def test_dataset_and_griffin_lim_audio(tmp_path):
    from audiogen_tf.datasets.notes import make_notes

    manifest = make_notes(str(tmp_path / "notes"), pitches=[60, 67], timbres=["flute", "bell"], variations=1,
                          seconds=0.5, progress=False)
    ds = frame_rnn_dataset(manifest, 16, 2, NOTES_MEL, label_key="timbre", deterministic=True, seed=0)
    feats, targets = next(iter(ds))
    assert feats["frames"].shape == (2, 16, 40) and targets.shape == (2, 16, 40)
    np.testing.assert_array_equal(feats["frames"].numpy()[:, 1:], targets.numpy()[:, :-1])  # shifted by one frame
    assert set(feats["class_id"].numpy().tolist()) <= {0, 1}
    model = FrameRNN.from_preset("frame_rnn_tiny")
    frames = model.generate(6, priming=targets[:1, :4])
    audio = model.to_audio(frames, n_iter=2)
    assert audio.shape[-1] == 5 * 128 and np.all(np.isfinite(audio.numpy()))
    # any vocoder callable replaces Griffin-Lim
    assert model.to_audio(frames, vocoder=lambda m: tf.zeros([1, m.shape[1] * 128, 1])).shape == (1, 6 * 128)
