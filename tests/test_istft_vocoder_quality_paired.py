"""benchmarks/istft_vocoder_quality.paired_differences: paired bootstrap intervals that resolve a clear win, leave a
coin flip unresolved, and put the WER gap against the +0.02 bar (synthetic scores, no audio)."""

import numpy as np

import istft_vocoder_quality as q


def test_paired_differences_resolve_a_clear_win_and_not_a_coin_flip():
    rng = np.random.default_rng(0)
    n = 12
    base_pesq = rng.normal(3.0, 0.3, n)
    noise = rng.normal(0.0, 1.0, n)
    texts = ["the cat sat on the mat"] * n
    results = {
        "gl": {"rows": [{"pesq_wb": p, "f0_rmse_cents": 17.0 + e} for p, e in zip(base_pesq, noise)],
               "hyps": ["the cat sat on the mat"] * n},
        # PESQ +0.3 on every utterance (shared spread cancels); F0 a coin flip around the baseline
        "voc": {"rows": [{"pesq_wb": p + 0.3, "f0_rmse_cents": 17.0 + e + rng.normal(0, 2)}
                         for p, e in zip(base_pesq, noise)],
                "hyps": ["the cat sat on a mat"] * 6 + ["the cat sat on the mat"] * 6},
        "recordings": {"rows": [], "hyps": ["the cat sat on the mat"] * n},
    }
    rows = {r["metric"]: r for r in q.paired_differences(results, texts, "voc", "gl", ("pesq_wb", "f0_rmse_cents"))}
    assert rows["PESQ-WB ↑"]["verdict"] == "better" and rows["PESQ-WB ↑"]["difference"] == "+0.300"
    assert rows["F0 RMSE (cents) ↓"]["verdict"] == "not resolved"
    wer = rows["WER gap to the recordings (bar +0.02)"]
    assert wer["difference"] == f"{6 / 72:+.3f}" and wer["verdict"] in ("over the bar", "not resolved")
    lo, hi = (float(v) for v in wer["95% interval"].strip("[]").split(","))
    assert lo <= 6 / 72 <= hi
