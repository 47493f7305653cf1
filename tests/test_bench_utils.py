"""Tests of benchmarks/bench_utils.py (the benchmarks' helpers): timing, matmul peak, tables, TFLite interpreter."""

import math
import os
import time

import numpy as np
import pytest

import bench_utils as bu


class _Lazy:
    """Stands in for an async tensor: records whether .numpy() was called."""

    forced = 0

    def numpy(self):
        _Lazy.forced += 1
        return np.zeros(1)


def test_time_call_counts_warmup_and_repeats_and_forces_results():
    calls = []

    def fn(delay, tag=None):
        calls.append(tag)
        time.sleep(delay)
        return {"a": _Lazy(), "b": [_Lazy(), 3]}

    _Lazy.forced = 0
    timing = bu.time_call(fn, 0.01, tag="x", repeats=4, warmup=2)
    assert len(calls) == 6 and set(calls) == {"x"}
    assert _Lazy.forced == 12  # two tensors per call, warm-up included
    assert len(timing.times) == 4
    assert timing.best == min(timing.times) and timing.best >= 0.01
    assert timing.best <= timing.median <= max(timing.times)
    best, median, _ = timing  # unpacks like a tuple
    assert (best, median) == (timing.best, timing.median)
    with pytest.raises(ValueError):
        bu.time_call(fn, 0.0, repeats=0)


def test_real_time_factor():
    assert bu.real_time_factor(0.5, 2.0) == 0.25
    assert bu.real_time_factor(3.0, 1.5) == 2.0
    with pytest.raises(ValueError):
        bu.real_time_factor(1.0, 0.0)
    with pytest.raises(ValueError):
        bu.real_time_factor(-1.0, 1.0)


def test_matmul_peak_is_positive_and_finite():
    # A comparison of two timings is flaky on a shared machine; the peak only has to be a sane number.
    n = 256
    peak = bu.matmul_peak_gflops(n=n, repeats=3, warmup=1)
    assert math.isfinite(peak) and peak > 0.1
    assert bu.matmul_peak_gflops(n=64, dtype="float64", repeats=2, warmup=1) > 0.0


def test_markdown_table_formats_and_escapes():
    text = bu.markdown_table(
        [{"model": "a|b", "rtf": 0.123456, "ok": True}, {"model": "c", "mos": None, "snr": math.inf}]
    )
    lines = text.strip().splitlines()
    assert lines[0] == "| model | rtf | ok | mos | snr |"
    assert lines[1] == "| --- | --- | --- | --- | --- |"
    assert lines[2] == "| a\\|b | 0.1235 | yes |  |  |"
    assert lines[3] == "| c |  |  |  | inf |"
    assert bu.markdown_table([]) == "(no rows)\n"


def test_write_markdown_table_is_atomic_and_complete(tmp_path, monkeypatch):
    import tensorflow as tf

    path = tmp_path / "sub" / "bench.md"
    rows = [{"model": "hifigan_tiny", "rtf": 0.05}, {"model": "wavenet_tiny", "rtf": 1.5}]
    text = bu.write_markdown_table(path, rows, "Vocoder speed", "python benchmarks/x.py --tiny",
                                   notes=["2 threads", "idle machine"], peak_gflops=123.4)
    assert path.read_text() == text
    assert text.startswith("# Vocoder speed\n")
    assert "`python benchmarks/x.py --tiny`" in text
    assert f"{os.cpu_count()} cores" in text and f"TensorFlow {tf.__version__}" in text
    assert "123.4 GFLOP/s" in text
    assert "| wavenet_tiny | 1.5 |" in text and "## Notes" in text and "idle machine" in text
    assert sorted(os.listdir(path.parent)) == ["bench.md"]  # no temp file left behind

    # A failure while replacing leaves the old file untouched and no temp file.
    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(bu.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        bu.write_markdown_table(path, [{"x": 1}], "Other", "cmd", peak_gflops=1.0)
    assert path.read_text() == text
    assert sorted(os.listdir(path.parent)) == ["bench.md"]


def test_machine_info_fields():
    info = bu.machine_info(peak_gflops=99.0)
    assert info["nproc"] == os.cpu_count()
    assert info["matmul_peak_gflops_float32"] == 99.0
    assert info["tensorflow"] and info["python"] and info["cpu"]


@pytest.fixture(scope="module")
def tiny_tflite(tmp_path_factory):
    import tensorflow as tf

    w = np.linspace(-1, 1, 8 * 4, dtype=np.float32).reshape(8, 4)

    @tf.function(input_signature=[tf.TensorSpec((2, 8), tf.float32)])
    def dense(x):
        return tf.nn.tanh(tf.matmul(x, w) + 0.5)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([dense.get_concrete_function()], dense)
    blob = converter.convert()
    path = tmp_path_factory.mktemp("tflite") / "dense.tflite"
    path.write_bytes(blob)
    return path, blob, w


def test_tflite_interpreter_runs_the_model(tiny_tflite):
    path, blob, w = tiny_tflite
    x = np.random.default_rng(0).standard_normal((2, 8)).astype(np.float32)
    expected = np.tanh(x @ w + 0.5)
    for source in (path, str(path), blob):
        interp = bu.tflite_interpreter(source, num_threads=2)
        inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
        interp.set_tensor(inp["index"], x)
        interp.invoke()
        np.testing.assert_allclose(interp.get_tensor(out["index"]), expected, atol=1e-5)
    with pytest.raises(FileNotFoundError):
        bu.tflite_interpreter(path.parent / "missing.tflite")


def test_conv_macs_per_second_of_audio_counts_each_layer_kind():
    import keras

    from audiogen_tf.layers.conv import WeightNormConv1D

    sr, frames = 100, 10
    x = keras.Input((None, 4))
    a = keras.layers.Conv1D(8, 3, padding="same", name="c")(x)                      # 10 * 3*4*8   = 960
    b = keras.layers.Conv1D(8, 3, dilation_rate=2, padding="valid", name="d")(a)    # 6  * 3*8*8   = 1152
    c = keras.layers.Conv1DTranspose(2, 4, strides=2, padding="same", name="t")(b)  # 6  * 4*2*8   = 384
    d = WeightNormConv1D(2, 5, padding="same", groups=2, name="wn")(c)              # 12 * 5*1*2   = 120
    e = keras.layers.Dense(3, name="fc")(d)                                         # 12 * 2*3     = 72
    img = keras.layers.Reshape((12, 3, 1))(e)
    f = keras.layers.Conv2D(2, (3, 1), padding="valid", name="c2")(img)             # 10*3 * 3*1*2 = 180
    out = keras.layers.Reshape((30, 2))(f)
    model = keras.Model(x, out)
    total, kinds = bu.conv_macs_per_second_of_audio(model, sample_rate=sr, frames=frames, by_kind=True)
    seconds = 30 / sr  # 30 output samples
    expected = {"conv1d": 960 + 120, "conv1d_dilated": 1152, "conv1d_transpose": 384, "dense": 72, "conv2d": 180}
    assert kinds == pytest.approx({k: v / seconds for k, v in expected.items()})
    assert total == pytest.approx(sum(expected.values()) / seconds)
    # "same"-padded layers only: MACs grow with the input exactly as the audio does
    y = keras.layers.Conv1DTranspose(8, 8, strides=4, padding="same")(x)
    y = keras.layers.Conv1D(1, 7, dilation_rate=3, padding="same")(y)
    same = keras.Model(x, y)
    per_second = (8 * 4 * 8 + 4 * 7 * 8) * sr / 4.0  # per input frame: transposed 8*4*8; 4 samples of 7*8
    for shape in [(1, 5, 4), (1, 40, 4)]:
        assert bu.conv_macs_per_second_of_audio(same, sr, input_shape=shape) == pytest.approx(per_second)
    with pytest.raises(ValueError):
        bu.conv_macs_per_second_of_audio(keras.Model([x, keras.Input((3,))], out), sr)


def test_conv_macs_of_a_vocoder_match_the_closed_form():
    pytest.importorskip("zoo.hifigan.hifigan_presets")
    from zoo.hifigan.hifigan_generator import HiFiGANGenerator

    g = HiFiGANGenerator.from_preset("hifigan_tiny")  # 32 ch; up 8, 8, 4; ResBlock2 kernels (3, 5) x 2 dilations
    frames, hop, sr = 10, 256, 22050
    per_frame = 7 * 80 * 32  # conv_pre
    ch, t = 32, 1
    for u, k in zip((8, 8, 4), (16, 16, 8)):
        per_frame += t * k * ch * (ch // 2)  # transposed conv: input positions x kernel
        ch, t = ch // 2, t * u
        per_frame += t * 2 * (3 + 5) * ch * ch  # two convs per kernel
    per_frame += t * 7 * ch  # conv_post
    expected = per_frame * frames / (frames * hop / sr)
    assert bu.conv_macs_per_second_of_audio(g, sr, frames=frames) == pytest.approx(expected)
    assert bu.conv_macs_per_second_of_audio(g.remove_weight_norm(), sr, frames=frames) == pytest.approx(expected)


def test_train_within_budget_counts_minutes_over_invocations(tmp_path):
    """The budget caps the whole resumable run: a rerun gets what is left, then trains nothing."""
    import json

    from bench_utils import train_within_budget

    calls = []

    class Result:
        def __init__(self, step, path):
            self.step, self.model_path = step, path

    def fake_train(recipe, data, out, verbose, callbacks):
        budget = callbacks[0]
        calls.append(budget.seconds)
        path = tmp_path / "model.keras"
        path.write_text("model")
        (tmp_path / "history.csv").write_text("epoch,loss\n1,2.5\n2,1.5\n")
        return Result(100 * len(calls), str(path))

    ledger = tmp_path / "training_minutes.json"
    ledger.write_text(json.dumps({"minutes": 100.0, "step": 50, "invocations": [{"minutes": 100.0, "step": 50}]}))
    run = train_within_budget("recipe", "data.csv", str(tmp_path), 150.0, train_fn=fake_train)
    assert calls[0] == pytest.approx(50.0 * 60.0)        # what was left, not the whole 150 minutes again
    assert run.step == 100 and run.total_minutes >= 100.0
    assert run.curve == [{"epoch": 1, "loss": 2.5}, {"epoch": 2, "loss": 1.5}]
    assert len(json.loads(ledger.read_text())["invocations"]) == 2

    data = json.loads(ledger.read_text())
    ledger.write_text(json.dumps({**data, "minutes": 150.0}))
    spent = train_within_budget("recipe", "data.csv", str(tmp_path), 150.0, train_fn=fake_train)
    assert len(calls) == 1 and spent.minutes_now == 0.0    # budget spent: the saved model, no training
    assert spent.model_path == str(tmp_path / "model.keras") and spent.step == 100


def test_train_within_budget_keeps_the_minutes_of_a_killed_invocation(tmp_path):
    """The ledger is written after every epoch, so an invocation that never returns (a session's end) still
    counts; the next invocation marks it interrupted and gets only what is left."""
    import json

    from bench_utils import train_within_budget

    class Killed(Exception):
        pass

    def killed_after_one_epoch(recipe, data, out, verbose, callbacks):
        callbacks[1].on_epoch_end(0)
        raise Killed

    with pytest.raises(Killed):
        train_within_budget("recipe", "data.csv", str(tmp_path), 150.0, train_fn=killed_after_one_epoch)
    ledger = json.loads((tmp_path / "training_minutes.json").read_text())
    assert ledger["invocations"][-1]["in_progress"] is True

    budgets = []

    class Result:
        step, model_path = 7, str(tmp_path / "model.keras")

    def finishing(recipe, data, out, verbose, callbacks):
        budgets.append(callbacks[0].seconds)
        return Result()

    ledger["minutes"] = ledger["invocations"][-1]["minutes"] = 40.0   # as if the killed one ran 40 minutes
    (tmp_path / "training_minutes.json").write_text(json.dumps(ledger))
    run = train_within_budget("recipe", "data.csv", str(tmp_path), 150.0, train_fn=finishing)
    assert budgets == [pytest.approx(110.0 * 60.0)]
    first, second = json.loads((tmp_path / "training_minutes.json").read_text())["invocations"]
    assert first.get("interrupted") is True and "in_progress" not in first
    assert second["step"] == 7 and "in_progress" not in second and run.step == 7


def test_atomic_json_writes_whole_files_and_leaves_no_temporaries(tmp_path):
    path = tmp_path / "state.json"
    bu.atomic_json(str(path), {"step": 3, "sessions": 1})
    bu.atomic_json(str(path), {"step": 4, "sessions": 1})
    import json

    assert json.loads(path.read_text()) == {"step": 4, "sessions": 1}
    assert os.listdir(tmp_path) == ["state.json"]


class _Counter:
    def __init__(self):
        self.value = 0

    def numpy(self):
        return self.value


def test_clock_callback_adds_this_session_to_the_earlier_ones_and_saves_every_n_steps(tmp_path):
    import json
    from types import SimpleNamespace

    path = str(tmp_path / "train_state.json")
    state = {"train_seconds": 100.0, "step": 0, "sessions": 1}
    clock = bu.clock_callback(state, path, every_n_steps=2)
    counter = _Counter()
    clock.set_model(SimpleNamespace(train_step_counter=counter))
    clock.on_train_begin()
    counter.value = 1
    clock.on_train_batch_end(0)
    assert not os.path.exists(path)  # step 1: not a multiple of 2
    counter.value = 2
    clock.on_train_batch_end(1)
    assert json.loads(open(path).read())["step"] == 2
    counter.value = 3
    clock.on_train_end()
    saved = json.loads(open(path).read())
    assert saved["step"] == 3 and saved["train_seconds"] >= 100.0 and saved == state


def test_start_session_restores_only_a_resumed_run(capsys):
    class _Checkpoint:
        calls = 0

        def restore_latest(self, trainer):
            _Checkpoint.calls += 1
            return 40

    fresh = {"sessions": 0, "step": 0, "train_seconds": 0.0}
    bu.start_session(_Checkpoint(), None, fresh)
    assert fresh == {"sessions": 1, "step": 0, "train_seconds": 0.0} and _Checkpoint.calls == 0
    resumed = {"sessions": 1, "step": 0, "train_seconds": 65.0}
    bu.start_session(_Checkpoint(), None, resumed)
    assert resumed["step"] == 40 and resumed["sessions"] == 2
    assert "resumed at step 40, 65 s trained" in capsys.readouterr().out
