"""benchmarks/istft_vocoder_speech.py: a staged budget (a first stage that stops early on a longer learning-rate
schedule, then a second stage with a new budget) resumes the same run and records each stage in
``budget_history``; ``--init-from`` continues that generator in a new folder where a new discriminator joins;
speech-like audio made by the tests (no Debian files)."""

import json
import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from speech_fixture import speech_like

import istft_vocoder_speech  # noqa: E402

SR = 22050


def test_staged_budget_resumes_and_records_each_stage(tmp_path):
    import soundfile as sf

    from audiogen_tf.manifest import write_manifest

    entries = []
    for i in range(3):
        path = tmp_path / f"u{i}.wav"
        sf.write(path, speech_like(SR, seconds=0.8, seed=i), SR, subtype="PCM_16")
        entries.append({"path": str(path), "text": "a b", "split": "train"})
    manifest = write_manifest(entries, tmp_path / "manifest.csv")
    out = tmp_path / "run"
    common = ["--preset", "istft_vocoder_tiny", "--batch-size", "2", "--segment-length", "4096",
              "--steps-per-epoch", "4", "--checkpoint-every", "8", "--manifest", str(manifest), "--out", str(out)]
    assert istft_vocoder_speech.main(common + ["--minutes", "0.2", "--schedule-minutes", "0.5"]) == 0
    first = json.loads((out / "train_state.json").read_text())
    assert first["train_seconds"] >= 11.0 and first["step"] > 0
    assert istft_vocoder_speech.main(common + ["--minutes", "0.35"]) == 0  # a new budget: the same run resumes
    state = json.loads((out / "train_state.json").read_text())
    assert state["step"] > first["step"] and state["train_seconds"] >= 20.0
    assert state["sessions"] == 2
    assert [(h["minutes"], h["schedule_minutes"]) for h in state["budget_history"]] == [(0.2, 0.5), (0.35, 0.35)]
    assert (out / "istft_vocoder_tiny.keras").exists()

    tail = tmp_path / "adversarial"  # a new discriminator: warm start from the run above, its clock included
    # It joins where the inherited clock stands and 0.1 min more follow; budgets counted from the measured clock,
    # not from the 0.35 asked for, which a loaded machine overshoots (then no time would be left for the tail).
    start = state["train_seconds"] / 60.0
    adversarial = ["--adversarial-after-minutes", str(start), "--discriminator-preset", "istft_vocoder_tiny",
                   "--init-from", str(out), "--minutes", str(start + 0.1)]
    common[-1] = str(tail)
    assert istft_vocoder_speech.main(common + adversarial) == 0
    warm = json.loads((tail / "train_state.json").read_text())
    assert warm["init_from"]["step"] == state["step"] and warm["adversarial_from_step"] == state["step"]
    assert warm["step"] > state["step"] and warm["train_seconds"] >= 26.0 and warm["sessions"] == 3
    assert len(warm["budget_history"]) == 3


def test_init_from_a_trained_preset_needs_its_minutes_and_its_architecture(tmp_path):
    import pytest

    from audiogen_tf.errors import ConfigError
    from zoo.istft_vocoder import ISTFTVocoder

    tiny = ISTFTVocoder.from_preset("istft_vocoder_tiny")
    with pytest.raises(ConfigError, match="--init-minutes"):
        istft_vocoder_speech.warm_start_from_weights(tiny, {}, "istft_vocoder_slt", None, 0)
    with pytest.raises(ConfigError, match="architecture differs"):
        istft_vocoder_speech.warm_start_from_weights(tiny, {}, "istft_vocoder_slt", 130.0, 50542)


def test_time_cosine_restarts_at_the_schedule_start():
    """start_seconds: the base rate until then, a full cosine from there to the budget's end (a tail's warm restart)."""
    import keras

    state = {"train_seconds": 0.0}
    opt = keras.optimizers.SGD(1.0)
    callback = istft_vocoder_speech.time_cosine_callback(state, opt, 1e-3, 150.0, final_fraction=0.05,
                                                         start_seconds=130.0)
    rates = []
    for seconds in (0.0, 130.0, 140.0, 150.0, 200.0):
        state["train_seconds"] = seconds
        callback.on_train_begin()
        rates.append(float(opt.learning_rate.numpy()))
    np.testing.assert_allclose(rates, [1e-3, 1e-3, 1e-3 * (0.05 + 0.95 * 0.5), 5e-5, 5e-5], rtol=1e-5)
