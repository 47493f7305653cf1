"""benchmarks/drums_classifier.py scores a saved classifier on a drums folder (tiny fake set, untrained model)."""

import json
import os

import numpy as np

from audiogen_tf import audio
from audiogen_tf.manifest import write_manifest

import drums_classifier  # benchmarks/ is on sys.path (tests/conftest.py)


def test_nearest_distances():
    a = np.array([[0.0, 0.0], [3.0, 4.0]])
    b = np.array([[0.0, 1.0], [3.0, 0.0]])
    assert np.allclose(drums_classifier.nearest_distances(a, b), [1.0, 4.0])


def test_scores_a_saved_classifier(tmp_path):
    from zoo.encoders import MelCNNEncoder
    import zoo.encoders.encoders_presets  # noqa: F401

    rng = np.random.default_rng(0)
    for split, n in (("train", 6), ("valid", 4), ("test", 4)):
        entries = []
        for i in range(n):
            label = ("kick", "snare")[i % 2]
            path = audio.save(tmp_path / "audio" / f"{split}-{i}.wav", 0.1 * rng.standard_normal(4096), 16000)
            entries.append({"path": path, "label": label, "split": split, "kit": f"{split}kit"})
        write_manifest(entries, tmp_path / f"{split}.csv")
    model = MelCNNEncoder.from_preset("mel_cnn_tiny", num_classes=2, num_samples=4096)
    model.save(tmp_path / "model.keras")
    out = tmp_path / "result.md"
    drums_classifier.main(["--model", str(tmp_path / "model.keras"), "--data-dir", str(tmp_path), "--out", str(out),
                           "--resamples", "5"])
    text = out.read_text()
    assert "| test | 4 | 2 |" in text and "Test confusion matrix" in text and "white noise" in text
    summary = json.loads((tmp_path / "result.json").read_text())
    assert summary["classes"] == ["kick", "snare"] and len(summary["test_confusion"]) == 2
    assert os.path.exists(out)
