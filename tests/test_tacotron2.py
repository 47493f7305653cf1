"""Tacotron 2 (Shen et al. 2018): shapes, round trips with the symbol table, masked losses, guided attention,
diagonality, fit on real utterances, synthesis stopping, step endpoint == training step, TFLite step parity."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest

from model_harness import check_build_and_shapes, check_config_round_trip, check_export_parity, check_fit_lowers_loss, \
    check_keras_save_load
from tflite_export.endpoints import get_endpoints
from zoo.tacotron2 import Tacotron2, diagonality_score, guided_attention_loss, masked_mel_loss, stop_token_loss, \
    tacotron2_dataset
from zoo.tacotron2.tacotron2_losses import guided_attention_weights, stop_targets
from zoo.tacotron2.tacotron2_model import STATE_NAMES

MANIFEST = os.path.join(os.path.dirname(__file__), "..", "data", "speech", "manifest.csv")


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    return Tacotron2.from_preset("tacotron2_tiny")


def _inputs(model, texts=("hello there.", "hi!"), frames=11, seed=0):
    ids, lengths = model.frontend.encode_batch(list(texts))
    mel = np.random.default_rng(seed).normal(-4.0, 2.0, (len(texts), frames, 80)).astype("float32")
    return {"text_ids": ids, "text_lengths": lengths, "mel": mel}


def test_shapes(tiny):
    x = _inputs(tiny)
    out = check_build_and_shapes(tiny, x, {"mel_before": (2, 11, 80), "mel_after": (2, 11, 80),
                                           "stop_logits": (2, 6), "alignments": (2, 6, 13)})
    align = np.asarray(tiny(x, training=False)["alignments"])
    np.testing.assert_allclose(align.sum(-1), 1.0, atol=1e-5)
    assert np.all(align[1, :, 4:] == 0.0)  # "hi!~" has 4 symbols: padding gets no attention
    assert out["params"] > 1000


def test_paper_preset_sizes():
    model = Tacotron2.from_preset("tacotron2")
    assert model.decoder.decoder_units == 1024 and model.encoder.lstm_units == 256
    assert model.encoder.conv_filters == 512 and model.postnet.num_layers == 5 and model.reduction_factor == 1
    small = Tacotron2.get_config(Tacotron2.from_preset("tacotron2_small"))
    assert small["reduction_factor"] == 3 and small["mel_config"]["sample_rate"] == 22050


def test_config_and_keras_round_trip_keep_symbol_table(tmp_path):
    symbols = ["_", "~", " ", ".", "a", "b", "e", "h", "i", "l", "o", "r", "t"]
    model = Tacotron2.from_preset("tacotron2_tiny", frontend={"symbols": symbols, "max_length": 40})
    x = _inputs(model)
    check_config_round_trip(model, x)
    check_keras_save_load(model, x, tmp_path)
    loaded = keras.saving.load_model(tmp_path / f"{model.name}.keras", safe_mode=True)
    assert loaded.frontend.table.symbols == symbols and loaded.frontend.max_length == 40
    assert loaded.get_config() == model.get_config()


def test_text_padding_does_not_change_outputs(tiny):
    x = _inputs(tiny)
    wider = dict(x, text_ids=np.pad(x["text_ids"], [[0, 0], [0, 5]]))
    a, b = tiny(x, training=False), tiny(wider, training=False)
    np.testing.assert_allclose(np.asarray(a["mel_after"]), np.asarray(b["mel_after"]), atol=1e-5)
    np.testing.assert_allclose(np.asarray(b["alignments"])[..., 13:], 0.0)


def test_masked_losses_ignore_padding():
    rng = np.random.default_rng(0)
    target = rng.normal(size=(2, 9, 4)).astype("float32")
    pred = target + 0.5
    lengths = np.array([9, 5])
    garbage = pred.copy()
    garbage[1, 5:] = 1e3
    assert float(masked_mel_loss(target, pred, lengths)) == pytest.approx(0.25, rel=1e-5)
    assert float(masked_mel_loss(target, garbage, lengths)) == pytest.approx(0.25, rel=1e-5)
    assert float(masked_mel_loss(target, pred, lengths, l1_weight=1.0)) == pytest.approx(0.75, rel=1e-5)
    # stop targets: step holding the last real frame (r = 2) and all later steps
    np.testing.assert_array_equal(np.asarray(stop_targets([5, 6], 4, 2)), [[0, 0, 1, 1], [0, 0, 1, 1]])
    perfect = np.where(np.asarray(stop_targets([5], 4, 2)) > 0, 30.0, -30.0)
    assert float(stop_token_loss(perfect, [5], 2)) < 1e-6
    assert float(stop_token_loss(-perfect, [5], 2)) > 10


def test_guided_attention_loss_on_known_alignments():
    n = 10
    diagonal = np.eye(n, dtype="float32")[None]
    anti = diagonal[:, ::-1].copy()
    w, valid = guided_attention_weights([n], [n], n, n, 0.2)
    w = np.asarray(w)[0]
    s_idx, n_idx = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    np.testing.assert_allclose(w, 1 - np.exp(-((n_idx / n - s_idx / n) ** 2) / (2 * 0.2**2)), atol=1e-6)
    d, a = float(guided_attention_loss(diagonal, [n], [n])), float(guided_attention_loss(anti, [n], [n]))
    assert d == pytest.approx(0.0, abs=1e-6)
    assert a == pytest.approx(float(np.sum(anti[0] * w) / n**2), rel=1e-5) and a > 0.05
    # cells outside (text_length, decoder_length) are ignored
    padded = np.pad(diagonal, [[0, 0], [0, 3], [0, 4]])
    padded[0, n:, :] = 1.0
    assert float(guided_attention_loss(padded, [n], [n])) == pytest.approx(d, abs=1e-6)


def test_diagonality_score():
    assert diagonality_score(np.eye(20)) == pytest.approx(1.0)
    stretched = np.repeat(np.eye(10), 3, axis=0)  # 30 steps over 10 symbols
    assert diagonality_score(stretched) == pytest.approx(1.0)
    assert diagonality_score(np.full((30, 10), 0.1)) == pytest.approx(0.2, abs=0.02)
    assert diagonality_score(np.eye(20)[::-1]) < 0.15
    batch = np.stack([np.pad(np.eye(5), [[0, 2], [0, 3]]), np.full((7, 8), 1 / 8)])
    assert diagonality_score(batch, [5, 8], [5, 7]) == pytest.approx((1.0 + diagonality_score(batch[1])) / 2)


@pytest.mark.skipif(not os.path.exists(MANIFEST), reason="data/speech not built (audiogen data speech)")
def test_fit_lowers_loss_on_real_utterances():
    from audiogen_tf.manifest import read_manifest

    keras.utils.set_random_seed(1)
    model = Tacotron2.from_preset("tacotron2_tiny")
    entries = sorted(read_manifest(MANIFEST), key=lambda e: e["duration"])[:3]
    ds = tacotron2_dataset(entries, model.frontend, 3, model.mel_config, shuffle=False)
    x, y = next(iter(ds))
    assert x["mel"].shape[0] == 3 and int(np.max(y["mel_lengths"])) == x["mel"].shape[1]
    result = check_fit_lowers_loss(model, ds, steps=6,
                                   compile_kwargs={"optimizer": keras.optimizers.Adam(1e-2)})
    assert result["ratio"] < 0.9, result


def test_synthesize_stops_by_stop_token_or_max_length():
    keras.utils.set_random_seed(2)
    model = Tacotron2.from_preset("tacotron2_tiny")
    stop_bias = model.decoder.stop_projection.bias
    stop_bias.assign([-50.0])  # never fires
    out = model.synthesize("hello.", max_decoder_steps=7, griffin_lim_iters=2)
    assert out["steps"] == 7 and out["mel"].shape == (14, 80) and out["alignment"].shape == (7, 7)
    assert out["audio"].ndim == 1 and out["audio"].size == 13 * 256 and np.all(np.isfinite(out["audio"]))
    stop_bias.assign([50.0])  # fires at once
    out = model.synthesize(ids=np.array([3, 4, 1], "int32"), max_decoder_steps=7, return_audio=False)
    assert out["steps"] == 1 and out["mel"].shape == (2, 80)
    # a vocoder model replaces Griffin-Lim
    mel_in = keras.Input((None, 80))
    vocoder = keras.Model(mel_in, keras.layers.Dense(4)(mel_in))
    out = model.synthesize("hi", vocoder=vocoder)
    assert out["audio"].shape == (2 * 4,)


def _check_step_equals_training(tiny):
    x = _inputs(tiny, texts=("hello there.",), frames=10)
    ref = tiny(x, training=False)
    eps = {e[0]: e[1] for e in tiny.export_endpoints(batch_size=1, text_length=16)}
    ids = np.pad(x["text_ids"], [[0, 0], [0, 16 - x["text_ids"].shape[1]]])
    enc = eps["encode"](ids, x["text_lengths"])
    dec, r = tiny.decoder, tiny.reduction_factor
    state = [np.asarray(s) for s in dec.initial_state(1, 16)]
    masks = [np.ones((1, u), "float32") for u in dec.prenet_units]
    previous = np.zeros((1, 80), "float32")
    frames, stops, aligns = [], [], []
    for s in range(5):
        out = eps["decoder_step"](previous, *state, enc["memory"], enc["memory_projection"], enc["memory_mask"], *masks)
        state = [np.asarray(out[k]) for k in STATE_NAMES]
        frames.append(np.asarray(out["frames"])[0])
        stops.append(float(out["stop_logit"][0]))
        aligns.append(state[1][0, :13])
        previous = x["mel"][:, (s + 1) * r - 1]  # teacher forcing: last real frame of this step
    np.testing.assert_allclose(np.concatenate(frames), np.asarray(ref["mel_before"])[0], atol=1e-5)
    np.testing.assert_allclose(stops, np.asarray(ref["stop_logits"])[0], atol=1e-5)
    np.testing.assert_allclose(np.stack(aligns), np.asarray(ref["alignments"])[0], atol=1e-6)


def test_decoder_step_endpoint_equals_training_step(tiny):
    _check_step_equals_training(tiny)


def test_dca_attention_option():
    keras.utils.set_random_seed(3)
    model = Tacotron2.from_preset("tacotron2_tiny", attention="dca")
    assert model.get_config()["attention"] == "dca"
    align = np.asarray(model(_inputs(model), training=False)["alignments"])
    assert align.shape == (2, 6, 13) and np.allclose(align.sum(-1), 1.0, atol=1e-5)
    _check_step_equals_training(model)


def test_tflite_decoder_step_parity(tiny, tmp_path):
    rng = np.random.default_rng(0)
    n, dec = tiny.frontend.max_length, tiny.decoder
    ids = np.zeros((1, n), "int32")
    ids[0, :9] = rng.integers(2, len(tiny.frontend.table), 9)
    lengths = np.array([9], "int32")
    eps = {e.name: e for e in get_endpoints(tiny)}
    assert set(eps) == {"encode", "decoder_step"}
    enc = tiny.export_endpoints(1, n)[0][1](ids, lengths)
    state = [rng.normal(size=s.shape).astype("float32") * 0.5 for s in eps["decoder_step"].input_signature[1:8]]
    state[1] = np.asarray(enc["memory_mask"]) / 9.0
    step_inputs = [rng.normal(size=(1, 80)).astype("float32")] + state + [
        np.asarray(enc["memory"]), np.asarray(enc["memory_projection"]), np.asarray(enc["memory_mask"])]
    step_inputs += [(rng.random((1, u)) < 0.5).astype("float32") * 2.0 for u in dec.prenet_units]
    result = check_export_parity(tiny, {"encode": [ids, lengths], "decoder_step": step_inputs}, tmp_path, atol=1e-4)
    assert not any(op.startswith("Flex") for op in result["ops"])
    assert result["errors"]["decoder_step"] < 1e-4 and result["errors"]["encode"] < 1e-4
