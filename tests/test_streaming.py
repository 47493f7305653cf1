"""Streaming synthesis equals offline synthesis: chunked vocoders (Keras and TFLite), WaveNet and WaveRNN one
sample per call with their state fed back, compared with the teacher-forced Keras forward pass."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from audiogen_cli.export import build_preset
from tflite_export.export import export_tflite
from tflite_export.runtime import TFLiteRunner
from tflite_export.streaming import (
    StepLoop,
    check_vocoder_streaming,
    chunk_geometry,
    keras_chunk_fn,
    keras_endpoint_fn,
    mel_windows,
    receptive_field_frames,
    tflite_chunk_fn,
    tflite_endpoint_fn,
    wavenet_stream,
    wavernn_stream,
)

STREAM_ATOL = 1e-4  # streamed vs offline, float32, on every sample >= context_frames from the ends

VOCODERS = [("HiFiGANGenerator", "hifigan_tiny"), ("MelGANGenerator", "melgan_tiny"),
            ("MultiBandMelGANGenerator", "multiband_melgan_tiny")]


def test_mel_windows_cover_the_utterance():
    mel = np.arange(70 * 2, dtype="float32").reshape(70, 2)
    windows, frames = mel_windows(mel, 32, 8, pad_value=-1.0)
    assert frames == 70 and len(windows) == 3
    centre = np.concatenate([w[0, 8:40] for w in windows])[:70]
    np.testing.assert_array_equal(centre, mel)
    assert np.all(windows[0][0, :8] == -1.0) and np.all(windows[-1][0, -8:] == -1.0)
    with pytest.raises(ValueError, match="one utterance"):
        mel_windows(np.zeros((2, 10, 2)), 4, 1)


@pytest.mark.parametrize("cls_name,preset", VOCODERS, ids=[p for _, p in VOCODERS])
def test_vocoder_streaming_equals_offline(cls_name, preset, tmp_path):
    keras.utils.set_random_seed(0)
    model = build_preset(cls_name, preset)
    chunk, context = chunk_geometry(model)
    assert (chunk, context) == (32, 8)
    synth = keras_endpoint_fn(model, "synthesize")
    offline = lambda mel: synth({"mel": mel})["output_0"]  # noqa: E731
    rf = receptive_field_frames(offline, model.n_mels, model.hop_length)
    assert rf <= context, f"receptive field {rf} frames exceeds the {context} context frames"
    mel = np.random.default_rng(1).uniform(-8, 1, (77, model.n_mels)).astype("float32")  # 3 chunks, last partial
    runner = TFLiteRunner(export_tflite(model, tmp_path / "v.tflite", endpoint="chunk"))
    for kind, fn in (("keras", keras_chunk_fn(model)), ("tflite", tflite_chunk_fn(runner))):
        r = check_vocoder_streaming(offline, fn, mel, chunk, context, model.hop_length)
        print(f"\n{preset} {kind}: rf {rf} frames, interior err {r['max_abs_error_interior']:.2e}, vs padded offline "
              f"{r['max_abs_error_vs_padded_offline']:.2e}, edges {r['max_abs_error_edges']:.2e} (peak {r['peak']:.2f}), "
              f"first chunk {1e3 * r['first_chunk_latency']:.1f} ms, RTF {r['rtf']:.3f}")
        assert r["audio"].shape == (77 * model.hop_length,)
        assert r["max_abs_error_interior"] < STREAM_ATOL
        assert r["max_abs_error_vs_padded_offline"] < STREAM_ATOL
        assert r["chunks"] == 3 and r["first_chunk_latency"] > 0 and r["rtf"] > 0


def test_step_loop_feeds_state_back():
    loop = StepLoop(lambda f: {"y": f["s"] * 2 + f["x"]}, {"s": np.ones(1)}, {"s": "y"})
    assert [float(loop({"x": np.zeros(1)})["y"][0]) for _ in range(3)] == [2.0, 4.0, 8.0]


def _shifted(ids, silence):
    return np.concatenate([[silence], ids[:-1]]).astype("int32")[None]


def test_wavenet_tflite_steps_equal_teacher_forced_keras(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_preset("WaveNet", "wavenet_tiny")
    q = model.quantization_channels
    runner = TFLiteRunner(export_tflite(model, tmp_path / "wn.tflite"))
    n = 96  # > receptive field (31): the queues wrap around
    out = wavenet_stream(tflite_endpoint_fn(runner, "step"), runner.input_details("step"), n, q, seed=3)
    ref = np.asarray(model(_shifted(out.extra["ids"], q // 2), training=False))[0]
    err = float(np.abs(ref - out.extra["logits"]).max())
    print(f"\nwavenet_tiny: {n} TFLite steps, logits err {err:.2e}, first step {1e3 * out.first_chunk_latency:.2f} ms, "
          f"RTF {out.rtf:.2f} at 16 kHz")
    assert model.receptive_field < n
    assert err < STREAM_ATOL
    assert len(set(out.extra["ids"].tolist())) > 1  # it sampled, not a constant


def test_conditional_wavenet_upsample_and_steps(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_preset("WaveNet", "wavenet_tiny_conditional")
    q = model.quantization_channels
    runner = TFLiteRunner(export_tflite(model, tmp_path / "wnc.tflite"))
    mel = np.random.default_rng(2).uniform(-1, 1, (1, 4, model.local_channels)).astype("float32")
    local = runner.run({"mel": mel}, signature="upsample")["output_0"][0]
    n = local.shape[0]
    out = wavenet_stream(tflite_endpoint_fn(runner, "step"), runner.input_details("step"), n, q, global_id=2,
                         local=local, seed=4)
    inputs = {"audio_ids": _shifted(out.extra["ids"], q // 2), "global_id": np.array([2], "int32"), "mel": mel}
    ref = np.asarray(model(inputs, training=False))[0]
    assert np.abs(ref - out.extra["logits"]).max() < STREAM_ATOL


@pytest.mark.parametrize("preset", ["wavernn_tiny"])
def test_wavernn_tflite_steps_equal_teacher_forced_keras(preset, tmp_path):
    keras.utils.set_random_seed(0)
    model = build_preset("WaveRNN", preset)
    runner = TFLiteRunner(export_tflite(model, tmp_path / "wr.tflite"))
    frames = runner.input_details("condition")[0]["shape"][1]
    mel = np.random.default_rng(5).uniform(-6, 0, (1, frames, model.n_mels)).astype("float32")
    cond = runner.run({"mel": mel}, signature="condition")["output_0"][0]
    n = 300
    out = wavernn_stream(tflite_endpoint_fn(runner, "step"), runner.input_details("step"), cond[:n],
                         model.quantization_channels, seed=6, silence_id=model.silence_id)
    ids = out.extra["ids"]
    full = np.concatenate([ids, np.zeros(frames * model.hop_length - n, "int32")])
    ref = np.asarray(model({"audio_ids": _shifted(full, model.silence_id), "mel": mel}, training=False))[0, :n]
    err = float(np.abs(ref - out.extra["logits"]).max())
    print(f"\n{preset}: {n} TFLite steps, logits err {err:.2e}, RTF {out.rtf:.2f}")
    assert err < STREAM_ATOL
    # the Keras step endpoint, streamed the same way with the same noise seed, draws the same samples
    keras_out = wavernn_stream(keras_endpoint_fn(model, "step"), runner.input_details("step"), cond[:40],
                               model.quantization_channels, seed=6, silence_id=model.silence_id)
    np.testing.assert_array_equal(keras_out.extra["ids"], ids[:40])
