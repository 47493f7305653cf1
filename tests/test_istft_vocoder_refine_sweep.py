"""benchmarks/istft_vocoder_refine_sweep.py: one row per (model, iteration count) and the Griffin-Lim 64 baseline,
written atomically with its command; speech-like audio made by the tests (no Debian files)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from speech_fixture import speech_manifest

import istft_vocoder_refine_sweep  # noqa: E402

SR = 22050


def test_sweep_writes_a_row_per_model_and_iteration_count(tmp_path):
    manifest = speech_manifest(tmp_path, SR, seed=0)
    md = tmp_path / "sweep.md"
    assert istft_vocoder_refine_sweep.main(["--manifest", str(manifest), "--model", "tiny=istft_vocoder_tiny",
                                            "--iterations", "0,2", "--md", str(md)]) == 0
    text = md.read_text()
    assert "Command: `" in text and "--iterations 0,2" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "system" not in line and "---" not in line]
    assert [r.split(" | ")[0] for r in rows] == ["| Griffin-Lim 64 (baseline)", "| tiny + 0 iterations",
                                                 "| tiny + 2 iterations"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("sweep")] == ["sweep.md"]


def test_sweep_with_wer_adds_a_wer_column_and_a_recordings_row(tmp_path):
    import pytest
    pytest.importorskip("pocketsphinx", reason="the WER judge needs pocketsphinx: pip install -e '.[eval]'")
    manifest = speech_manifest(tmp_path, SR, seed=1)
    md = tmp_path / "sweep.md"
    assert istft_vocoder_refine_sweep.main(["--manifest", str(manifest), "--model", "tiny=istft_vocoder_tiny",
                                            "--iterations", "0", "--wer", "--md", str(md)]) == 0
    lines = [line for line in md.read_text().splitlines() if line.startswith("| ")]
    assert "WER ↓" in lines[0] and "STOI ↑" in lines[0]
    rows = {r.split(" | ")[0][2:]: r for r in lines[2:]}
    assert list(rows) == ["Griffin-Lim 64 (baseline)", "tiny + 0 iterations", "recordings"]
    wer = float(rows["recordings"].rstrip(" |").split(" | ")[-1])
    assert wer >= 0.0
