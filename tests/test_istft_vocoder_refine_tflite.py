"""benchmarks/istft_vocoder_refine_tflite.py: Griffin-Lim, Keras and TFLite (float32 bundle) rows, the TFLite
refinement equal to the Keras one, written atomically with its command and the matmul peak."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from speech_fixture import speech_manifest

import istft_vocoder_refine_tflite  # noqa: E402

SR = 22050


def test_rows_and_the_float32_refinement_equals_keras(tmp_path):
    manifest = speech_manifest(tmp_path, SR, seed=0)
    md = tmp_path / "refine.md"
    assert istft_vocoder_refine_tflite.main(["--model", "istft_vocoder_tiny", "--manifest", str(manifest),
                                             "--iterations", "3", "--quantizations", "none", "--md", str(md)]) == 0
    text = md.read_text()
    assert "Command: `" in text and "--iterations 3" in text and "GFLOP/s" in text
    rows = {line.split(" | ")[0][2:]: line.rstrip(" |").split(" | ")
            for line in text.splitlines() if line.startswith("| ") and "system" not in line and "---" not in line}
    assert list(rows) == ["Griffin-Lim 64 (baseline)", "Keras vocoder", "Keras + 3 iterations",
                          "TFLite float32 vocoder (streamed chunks)", "TFLite float32 + 3 iterations"]
    assert float(rows["TFLite float32 + 3 iterations"][4]) < 1e-4
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("refine")] == ["refine.md"]
