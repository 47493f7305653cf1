"""CTC recognizer: the model harness (shapes, config and .keras round trips, fit lowers the CTC loss, TFLite parity
of the fixed-length endpoint), padding invariance, decoding, the dataset and transcription."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest

from model_harness import check_build_and_shapes, check_config_round_trip, check_export_parity, check_fit_lowers_loss, \
    check_keras_save_load
from zoo.ctc_recognizer import CTCRecognizer, ctc_recognizer_dataset


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    return CTCRecognizer.from_preset("ctc_recognizer_tiny")


def _inputs(frames=(40, 21), seed=0):
    rng = np.random.default_rng(seed)
    mel = rng.normal(-5.0, 2.0, (len(frames), max(frames), 80)).astype("float32")
    return {"mel": mel, "mel_lengths": np.array(frames, np.int32)}


def test_harness_shapes_round_trips(tiny, tmp_path):
    x = _inputs()
    vocab = len(tiny.frontend.table)
    check_build_and_shapes(tiny, x, {"logits": (2, 10, vocab), "logit_lengths": (2,)})
    assert np.asarray(tiny(x)["logit_lengths"]).tolist() == [10, 6]
    check_config_round_trip(tiny, x)
    check_keras_save_load(tiny, x, tmp_path)


def test_padding_does_not_change_the_valid_logits(tiny):
    x = _inputs((23,), seed=1)
    ref = np.asarray(tiny(x)["logits"])
    padded = {"mel": np.pad(x["mel"], [[0, 0], [0, 17], [0, 0]], constant_values=-11.5), "mel_lengths": x["mel_lengths"]}
    out = np.asarray(tiny(padded)["logits"])
    np.testing.assert_allclose(out[:, : ref.shape[1]], ref, atol=1e-5)


def test_fit_lowers_the_ctc_loss():
    keras.utils.set_random_seed(1)
    model = CTCRecognizer.from_preset("ctc_recognizer_tiny")
    x = _inputs((40, 32), seed=2)
    labels = np.array([model.labels_of("abc"), np.pad(model.labels_of("da"), (0, 1))])
    y = {"labels": labels, "label_lengths": np.array([3, 2], np.int32)}
    result = check_fit_lowers_loss(model, (x, y), steps=6, compile_kwargs={"optimizer": keras.optimizers.Adam(1e-2)})
    assert result["ratio"] < 0.95, result


def test_tflite_endpoint_parity_and_equals_unpadded_model(tiny, tmp_path):
    n = tiny.export_frames
    x = _inputs((37,), seed=3)
    mel = np.pad(x["mel"], [[0, 0], [0, n - 37], [0, 0]], constant_values=-11.5)
    result = check_export_parity(tiny, {"logits": [mel, x["mel_lengths"]]}, tmp_path, atol=1e-4)
    assert result["max_abs_error"] < 1e-4
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=result["path"]).get_signature_runner("logits")
    out = runner(mel=mel, mel_lengths=x["mel_lengths"])
    want = np.asarray(tiny(x)["logits"])
    assert int(out["logit_lengths"][0]) == want.shape[1] == 10
    np.testing.assert_allclose(out["logits"][:, :10], want, atol=1e-4)


def test_decoding_and_transcription(tiny):
    vocab = len(tiny.frontend.table)
    a, b = tiny.labels_of("ab")
    logits = np.full((1, 6, vocab), -5.0, np.float32)
    for t, s in enumerate([a, a, 0, b, b, 0]):
        logits[0, t, s] = 5.0
    assert tiny.decode(logits, np.array([6])) == ["ab"]
    assert tiny.decode(logits, np.array([6]), beam_width=4) == ["ab"]
    text = tiny.transcribe(np.zeros(4000, np.float32), sr=16000)
    assert isinstance(text, str)
    assert tiny.labels_of("Hi, 2!").tolist() == tiny.frontend.table.to_ids("hi, two!", add_eos=False)


def test_dataset(tmp_path):
    import soundfile as sf

    from audiogen_tf.manifest import write_manifest

    rng = np.random.default_rng(0)
    entries = []
    for i, text in enumerate(["one two.", "three"]):
        path = tmp_path / f"u{i}.wav"
        sf.write(path, (0.1 * rng.normal(size=22050 // 2 + 1000 * i)).astype(np.float32), 22050)
        entries.append({"path": str(path), "text": text})
    manifest = write_manifest(entries, tmp_path / "manifest.csv")
    model = CTCRecognizer.from_preset("ctc_recognizer_tiny")
    ds = ctc_recognizer_dataset(manifest, model.frontend, 2, model.feature_settings, shuffle=False)
    x, y = next(iter(ds))
    assert x["mel"].shape[0] == 2 and x["mel"].shape[2] == 80
    assert sorted(np.asarray(y["label_lengths"]).tolist()) == [5, 8]
    assert sorted(np.asarray(x["mel_lengths"]).tolist()) == [44, 47]


def test_spec_augment_masks_in_training_only():
    from zoo.ctc_recognizer.ctc_recognizer_model import SpecAugment

    layer = SpecAugment(freq_masks=2, freq_width=10, time_masks=2, time_width=5, seed=0)
    x = np.ones((3, 50, 80), np.float32)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    y = np.asarray(layer(x, training=True))
    assert set(np.unique(y)) <= {0.0, 1.0} and 0 < (y == 0).mean() < 0.5
    zero_bins = (y == 0).all(axis=1).sum(axis=1)  # whole frequency bands masked per item
    assert np.all(zero_bins <= 20)
    model = CTCRecognizer.from_preset("ctc_recognizer_tiny", spec_augment={"freq_masks": 1, "time_masks": 1})
    check_config_round_trip(model, _inputs())  # identity at inference: equal outputs
