"""CTC-aligned LSTM TTS: the model harness (shapes, config and .keras round trips, fit lowers the loss, TFLite
``synthesize`` parity), alignment invariants (durations sum to the frames, monotonic hard path), synthesis with the
static length regulator, the padded export equals the unpadded model, forced alignment, the dataset."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest

from model_harness import check_build_and_shapes, check_config_round_trip, check_export_parity, check_fit_lowers_loss, \
    check_keras_save_load
from zoo.ctc_tts import CTCTTS, ctc_tts_dataset


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    return CTCTTS.from_preset("ctc_tts_tiny")


def _inputs(model, texts=("hello there.", "hi!"), frames=(30, 14), seed=0):
    ids, lengths = model.frontend.encode_batch(list(texts))
    mel = np.random.default_rng(seed).normal(-5.0, 2.0, (len(texts), max(frames), 80)).astype("float32")
    return {"text_ids": ids, "text_lengths": lengths, "mel": mel, "mel_lengths": np.array(frames, np.int32)}


def test_harness_shapes_round_trips(tiny, tmp_path):
    x = _inputs(tiny)
    n = x["text_ids"].shape[1]
    check_build_and_shapes(tiny, x, {"mel": (2, 30, 80), "log_durations": (2, n), "durations": (2, n),
                                     "attn_log_probs": (2, 30, n), "attn_soft": (2, 30, n), "attn_hard": (2, 30, n)})
    check_config_round_trip(tiny, x)
    check_keras_save_load(tiny, x, tmp_path)


def test_alignment_invariants(tiny):
    x = _inputs(tiny)
    out = {k: np.asarray(v) for k, v in tiny(x).items()}
    d = out["durations"]
    assert d.sum(1).tolist() == [30, 14]  # every valid frame goes to one token
    assert np.all(d[0, : x["text_lengths"][0]] >= 1) and np.all(d[1, x["text_lengths"][1]:] == 0)
    path = out["attn_hard"][1, :14, : x["text_lengths"][1]].argmax(1)
    assert path[0] == 0 and path[-1] == x["text_lengths"][1] - 1 and np.all(np.diff(path) >= 0)
    np.testing.assert_allclose(out["attn_soft"][0, :30, :].sum(1), 1.0, atol=1e-5)
    assert out["attn_soft"][1, 14:].sum() == 0
    # the forward-sum loss reads log-probabilities, not the soft alignment (both came out as one tensor once,
    # which left the aligner unable to leave its prior on speech): soft = softmax over the tokens of log_probs
    lp, n1 = out["attn_log_probs"], x["text_lengths"][1]
    assert lp[:, :14].max() <= 1e-6 and lp[1, :14, n1:].max() <= -1e3
    z = lp[1, :14, :n1]
    np.testing.assert_allclose(np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(1,
                               keepdims=True), out["attn_soft"][1, :14, :n1], atol=1e-5)


def test_fit_lowers_the_loss_and_the_forward_sum_term():
    from audiogen_tf.alignment import forward_sum_loss

    keras.utils.set_random_seed(1)
    model = CTCTTS.from_preset("ctc_tts_tiny")
    x = _inputs(model, seed=3)
    y = {"mel": x["mel"], "mel_lengths": x["mel_lengths"]}

    def fs():
        return float(forward_sum_loss(model(x)["attn_log_probs"], x["text_lengths"], x["mel_lengths"]))

    before = fs()
    result = check_fit_lowers_loss(model, (x, y), steps=6, compile_kwargs={"optimizer": keras.optimizers.Adam(1e-2)})
    assert result["ratio"] < 0.9, result
    assert fs() < before


def test_synthesize_uses_predicted_durations(tiny):
    out = tiny.synthesize("hello.", griffin_lim_iters=2)
    n = len(out["durations"])
    assert n == len(tiny.frontend.encode("hello.")) and np.all(out["durations"] >= 1)
    assert out["mel"].shape == (int(out["durations"].sum()), 80)
    assert out["audio"].ndim == 1 and np.all(np.isfinite(out["audio"]))
    slow = tiny.synthesize("hello.", griffin_lim_iters=0, duration_scale=3.0)
    assert slow["mel"].shape[0] >= out["mel"].shape[0]


def test_tflite_synthesize_parity_and_padding(tiny, tmp_path):
    n = tiny.frontend.max_length
    ids = tiny.frontend.encode("hi there.")
    padded = np.zeros((1, n), np.int32)
    padded[0, : len(ids)] = ids
    lengths = np.array([len(ids)], np.int32)
    result = check_export_parity(tiny, {"synthesize": [padded, lengths]}, tmp_path, atol=1e-4)
    assert result["max_abs_error"] < 1e-4
    # the padded endpoint equals the unpadded model on the valid frames
    ref = tiny.synthesize_ids(ids[None], lengths)
    from ai_edge_litert.interpreter import Interpreter

    out = Interpreter(model_path=result["path"]).get_signature_runner("synthesize")(text_ids=padded, text_lengths=lengths)
    m = int(out["mel_lengths"][0])
    assert m == int(np.asarray(ref["mel_lengths"])[0])
    np.testing.assert_allclose(out["mel"][0, :m], np.asarray(ref["mel"])[0, :m], atol=1e-4)
    assert np.all(out["mel"][0, m:] == 0)


def test_forced_alignment(tiny):
    audio = np.random.default_rng(5).normal(0, 0.1, 22050 // 2).astype(np.float32)
    result = tiny.align("hi.", audio=audio)
    frames = 1 + len(audio) // 256
    assert result["hard"].shape == (frames, len(result["tokens"])) and result["durations"].sum() == frames
    assert "".join(result["tokens"]) == "hi.~"


def test_dataset_adds_mel_lengths(tmp_path):
    import soundfile as sf

    from audiogen_tf.manifest import write_manifest

    rng = np.random.default_rng(0)
    entries = []
    for i, text in enumerate(["one two.", "three"]):
        path = tmp_path / f"u{i}.wav"
        sf.write(path, (0.1 * rng.normal(size=11025 + 1000 * i)).astype(np.float32), 22050)
        entries.append({"path": str(path), "text": text})
    manifest = write_manifest(entries, tmp_path / "manifest.csv")
    model = CTCTTS.from_preset("ctc_tts_tiny")
    x, y = next(iter(ctc_tts_dataset(manifest, model.frontend, 2, model.feature_settings, shuffle=False)))
    assert set(x) == {"text_ids", "text_lengths", "mel", "mel_lengths"}
    assert sorted(np.asarray(x["mel_lengths"]).tolist()) == [44, 47]
    np.testing.assert_array_equal(x["mel_lengths"], y["mel_lengths"])


def test_synthesizer_bundle_speaks_in_one_call(tiny, tmp_path):
    """export_bundle(ctc_tts=...) -> Synthesizer.text_to_mel is one "synthesize" call, equal to Keras; with a vocoder."""
    from tflite_export.synthesizer import Synthesizer, export_bundle
    from zoo.istft_vocoder import ISTFTVocoder

    vocoder = ISTFTVocoder.from_preset("istft_vocoder_tiny")
    bundle = export_bundle(tmp_path / "bundle", vocoder=vocoder, ctc_tts=tiny, chunk_frames=16)
    synth = Synthesizer(bundle)
    out = synth.text_to_mel("hi there.")
    ref = tiny.synthesize("hi there.", griffin_lim_iters=0)
    assert out["steps"] == 1 and out["mel"].shape == ref["mel"].shape
    np.testing.assert_allclose(out["mel"], ref["mel"], atol=1e-4)
    np.testing.assert_array_equal(out["durations"], ref["durations"])
    audio = synth.text_to_speech("hi there.")
    assert audio.shape == (ref["mel"].shape[0] * 256,) and np.all(np.isfinite(audio))
    assert synth.sample_rate == 22050 and "text_to_mel_seconds" in synth.last_stats


def test_synthesizer_bundle_of_the_ctc_tts_alone(tiny, tmp_path):
    """A bundle with only the CTC TTS (text -> mel, as benchmarks/ctc_tts_speech.py exports it) loads and speaks."""
    from tflite_export.synthesizer import Synthesizer, export_bundle

    synth = Synthesizer(export_bundle(tmp_path / "bundle", ctc_tts=tiny))
    out = synth.ctc_text_to_mel("hi there.")
    np.testing.assert_allclose(out["mel"], tiny.synthesize("hi there.", griffin_lim_iters=0)["mel"], atol=1e-4)


def test_frame_stack_and_unstack_invert_each_other():
    from zoo.ctc_tts.ctc_tts_model import FrameStack, FrameUnstack

    x = np.arange(2 * 7 * 3, dtype="float32").reshape(2, 7, 3)
    mask = np.array([[1] * 7, [1] * 5 + [0] * 2], "float32")
    stacked, group_mask = FrameStack(3)(x, mask)
    assert tuple(stacked.shape) == (2, 3, 9)
    np.testing.assert_array_equal(np.asarray(group_mask), [[1, 1, 1], [1, 1, 0]])
    np.testing.assert_array_equal(np.asarray(stacked)[0, 0], x[0, :3].reshape(-1))
    np.testing.assert_array_equal(np.asarray(FrameUnstack(3)(stacked, x)), x)


def test_strided_decoder_lstm_round_trips_and_exports(tmp_path):
    keras.utils.set_random_seed(0)
    model = CTCTTS.from_preset("ctc_tts_tiny", decoder_lstm_stride=4)
    x = _inputs(model, frames=(30, 13))
    n = x["text_ids"].shape[1]
    check_build_and_shapes(model, x, {"mel": (2, 30, 80), "log_durations": (2, n), "durations": (2, n),
                                      "attn_log_probs": (2, 30, n), "attn_soft": (2, 30, n), "attn_hard": (2, 30, n)})
    check_config_round_trip(model, x)
    check_keras_save_load(model, x, tmp_path)
    ids = model.frontend.encode("hi there.")
    padded = np.zeros((1, model.frontend.max_length), np.int32)
    padded[0, : len(ids)] = ids
    result = check_export_parity(model, {"synthesize": [padded, np.array([len(ids)], np.int32)]}, tmp_path, atol=1e-4)
    assert result["max_abs_error"] < 1e-4
    with pytest.raises(Exception, match="decoder_lstm_stride"):
        CTCTTS.from_preset("ctc_tts_tiny", decoder_lstm_stride=0)
