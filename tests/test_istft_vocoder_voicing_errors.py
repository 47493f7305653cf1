"""benchmarks/istft_vocoder_voicing_errors.py: a buzz at the frame rate where the recording is noise is counted as
false voiced, pitched at the frame rate; the recording against itself has no voicing errors."""

import numpy as np

import istft_vocoder_voicing_errors as ve

SR, HOP = 22050, 256


def test_a_frame_rate_buzz_in_noise_is_false_voiced_at_the_frame_rate():
    rng = np.random.default_rng(0)
    noise = (0.1 * rng.standard_normal(SR)).astype(np.float32)
    buzz = np.zeros(SR, np.float32)
    buzz[::HOP] = 0.5  # one click per frame: what a phase that repeats every frame sounds like
    buzz += 0.01 * noise
    r = ve.voicing_errors(noise, buzz, SR, SR / HOP)
    assert r["false_voiced"] > 10 and r["false_unvoiced"] == 0
    pitch = np.array(r["pitch_hz"])
    assert np.mean(np.min(np.abs(pitch[:, None] / (SR / HOP * np.arange(1, 8)) - 1), axis=1) < 0.03) > 0.9
    same = ve.voicing_errors(noise, noise, SR, SR / HOP)
    assert same["false_voiced"] == same["false_unvoiced"] == 0


def test_f0_error_row_splits_gross_from_fine_errors():
    row = ve.f0_error_row("x", [0.0, 0.0, 10.0, -10.0, 1200.0], [12.0, 14.0])
    assert row["F0 RMSE, mean of utterances (cents)"] == "13.00" and row["frames voiced in both"] == 5
    assert row["gross (> 100 cents)"] == 1 and row["their share of the squared error"] == "1.00"
    assert row["fine RMSE"] == "7.07" and row["fine mean (bias)"] == "+0.00"
    assert row["on the recording's pYIN bin"] == "0.40"


def test_f0_errors_of_a_detuned_tone():
    t = np.arange(SR) / SR
    tone = 0.5 * np.sin(2 * np.pi * 200.0 * t)
    sharp = 0.5 * np.sin(2 * np.pi * 200.0 * 2 ** (50 / 1200) * t)  # 50 cents sharp
    err = ve.f0_errors(tone, sharp, SR)
    assert len(err) > 20 and abs(np.median(err) - 50.0) < 10.0
