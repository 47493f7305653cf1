"""CNN encoders (zoo.encoders), their conv blocks / SincNet filters and SpecAugment: shapes, round trips,
fit lowers the loss on real notes, TFLite parity of the builtin-ops mel encoder."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from audiogen_tf import augment  # noqa: E402
from audiogen_tf.datasets.notes import generate_note, make_notes  # noqa: E402
from audiogen_tf.layers.conv_blocks import SincConv1D  # noqa: E402
from model_harness import (  # noqa: E402
    check_build_and_shapes,
    check_config_round_trip,
    check_export_parity,
    check_fit_lowers_loss,
    check_keras_save_load,
)
from zoo.encoders import MelCNNEncoder, WaveformCNNEncoder  # noqa: E402
from zoo.encoders.encoders_training import load_labelled_clips, train_encoder  # noqa: E402

SR = 16000
TIMBRES = ["flute", "bell", "organ", "pluck"]


@pytest.fixture(scope="module")
def notes_batch():
    """16 real 1-s notes (4 timbres x 4 pitches) and their timbre ids."""
    rng = np.random.default_rng(0)
    x, y = [], []
    for ti, t in enumerate(TIMBRES):
        for p in (52, 57, 62, 67):
            x.append(generate_note(p, t, SR, 1.0, rng))
            y.append(ti)
    return np.stack(x).astype("float32"), np.asarray(y, "int32")


ENCODERS = [(MelCNNEncoder, "mel_cnn_tiny"), (WaveformCNNEncoder, "waveform_cnn_tiny")]


@pytest.mark.parametrize("cls,preset", ENCODERS)
def test_build_shapes_and_round_trips(cls, preset, notes_batch, tmp_path):
    model = cls.from_preset(preset, num_classes=4)
    x = notes_batch[0][:3]
    check_build_and_shapes(model, x, (3, 4))
    emb = model.embed(x)
    assert emb.shape == (3, model.embedding_dim) and np.all(np.isfinite(emb))
    # the embedding sub-model shares the layers (no extra weights) and agrees with the full model's layer
    assert {id(w) for w in model.embedding_model.weights} <= {id(w) for w in model.weights}
    np.testing.assert_allclose(model.embed(x[:, :, None]), emb, atol=1e-6)  # (n, time, 1) accepted
    check_config_round_trip(model, x)
    check_keras_save_load(model, x, tmp_path)
    loaded = keras.saving.load_model(os.path.join(tmp_path, f"{model.name}.keras"), safe_mode=True)
    np.testing.assert_allclose(loaded.embed(x), emb, atol=1e-5)


def test_full_presets_build():
    for cls, preset in [(MelCNNEncoder, "mel_cnn"), (WaveformCNNEncoder, "waveform_cnn")]:
        m = cls.from_preset(preset, num_classes=3)
        assert m.output_shape == (None, 3) and m.count_params() > 100_000


@pytest.mark.parametrize("cls,preset", ENCODERS)
def test_fit_lowers_loss_on_real_notes(cls, preset, notes_batch):
    model = cls.from_preset(preset, num_classes=4, dropout=0.0)
    out = check_fit_lowers_loss(
        model, notes_batch, steps=6,
        compile_kwargs=dict(optimizer=keras.optimizers.Adam(3e-3),
                            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
    )
    assert out["ratio"] < 0.9


def test_mel_encoder_tflite_builtin_parity(notes_batch, tmp_path):
    model = MelCNNEncoder.from_preset("mel_cnn_tiny", num_classes=4, tflite_compatible=True)
    ref = MelCNNEncoder.from_preset("mel_cnn_tiny", num_classes=4)
    ref.set_weights(model.get_weights())
    x = notes_batch[0][:1]
    np.testing.assert_allclose(model.predict(x, verbose=0), ref.predict(x, verbose=0), atol=1e-3)
    out = check_export_parity(model, x, tmp_path, atol=1e-4)
    assert out["max_abs_error"] < 1e-4
    assert not any(op.startswith("Flex") for op in out["ops"])


def _numpy_sinc_kernel(layer):
    low = layer.min_low_hz + np.abs(keras.ops.convert_to_numpy(layer.low_hz))
    high = np.clip(low + layer.min_band_hz + np.abs(keras.ops.convert_to_numpy(layer.band_hz)),
                   layer.min_low_hz, layer.sample_rate / 2)
    t = layer._t.astype(np.float64)[:, None]
    bp = 2 * high * np.sinc(2 * high * t) - 2 * low * np.sinc(2 * low * t)  # np.sinc = sin(pi x) / (pi x)
    return bp / (2 * (high - low)) * np.hamming(layer.kernel_size)[:, None], low, high


def test_sinc_conv_matches_numpy_and_is_band_pass():
    layer = SincConv1D(8, 129, sample_rate=SR, strides=2)
    x = np.random.default_rng(0).standard_normal((2, 1000, 1)).astype("float32")
    y = keras.ops.convert_to_numpy(layer(x))
    kern, low, high = _numpy_sinc_kernel(layer)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.kernel())[:, 0, :], kern, atol=1e-5)
    padded = np.pad(x[0, :, 0], (63, 64))  # TF "same" with stride 2: total pad 499 * 2 + 129 - 1000 = 127
    ref = np.stack([np.correlate(padded, kern[:, k], "valid")[::2] for k in range(8)], -1)
    np.testing.assert_allclose(y[0], ref, atol=1e-4)
    assert np.all(np.diff(low) > 0)  # mel-spaced, increasing cut-offs
    # each filter's frequency response peaks inside its pass band
    freqs = np.fft.rfftfreq(4096, 1 / SR)
    for k in range(8):
        peak = freqs[np.argmax(np.abs(np.fft.rfft(kern[:, k], 4096)))]
        assert low[k] - 60 <= peak <= high[k] + 60
    assert SincConv1D.from_config(layer.get_config()).kernel_size == 129


def test_spec_augment_masks():
    spec = tf.ones((50, 20))
    out = augment.spec_augment(spec, freq_mask_param=6, time_mask_param=7, num_freq_masks=2, num_time_masks=2,
                               mask_value=0.0, seed=1).numpy()
    masked_cols = np.all(out == 0, axis=0).sum()
    masked_rows = np.all(out == 0, axis=1).sum()
    assert masked_cols <= 12 and masked_rows <= 14 and set(np.unique(out)) <= {0.0, 1.0}
    x = tf.random.normal((8000,), seed=0)
    same = augment.waveform_spec_augment(x, freq_mask_param=0, time_mask_param=0)
    np.testing.assert_allclose(same.numpy(), x.numpy(), atol=1e-5)  # no mask: perfect reconstruction
    # one band of 60 of 257 bins removed from white noise: energy falls, never rises
    tf.random.set_seed(3)
    masked = augment.waveform_spec_augment(x, freq_mask_param=60, time_mask_param=0)
    assert float(tf.reduce_sum(masked**2)) <= float(tf.reduce_sum(x**2)) * 1.001


def test_train_encoder_from_manifest(tmp_path):
    manifest = make_notes(tmp_path / "notes", pitches=[55, 60, 65, 70], timbres=["flute", "bell"], variations=3,
                          seconds=0.5, progress=False)
    x, y, vocab = load_labelled_clips(manifest, "pitch", SR, 8000)
    assert vocab == ["55", "60", "65", "70"] and x.shape == (24, 8000) and set(y) == {0, 1, 2, 3}
    enc, vocab, hist = train_encoder(MelCNNEncoder.from_preset("mel_cnn_tiny", num_classes=2, num_samples=8000),
                                     manifest, "timbre", epochs=3, batch_size=8, learning_rate=3e-3,
                                     augment={"freq_mask_param": 8, "time_mask_param": 4}, valid_split=None)
    assert vocab == ["bell", "flute"]
    assert hist.history["loss"][-1] < hist.history["loss"][0]
