"""benchmarks/ship_weights.py: a trained .keras whose config differs from its base preset (Tacotron 2 on phonemes)
becomes float16 weights, a card naming the differing keys, and a preset entry that rebuilds it with the weights."""

import ast
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np


import ship_weights  # noqa: E402

from audiogen_tf.pretrained import packaged_file  # noqa: E402
from audiogen_tf.registry import _PRESETS, register_presets  # noqa: E402
from zoo.tacotron2 import Tacotron2  # noqa: E402


def test_ship_a_tacotron2_with_changed_config(tmp_path, capsys, monkeypatch):
    trained = Tacotron2.from_preset("tacotron2_tiny", guided_attention_weight=7.0)
    path = tmp_path / "trained.keras"
    trained.save(path)
    state = tmp_path / "state.json"
    state.write_text('{"steps": 12, "minutes": 3.5}')
    assert ship_weights.main([str(path), "--family", "tacotron2", "--base-preset", "tacotron2_tiny",
                              "--name", "t2_test", "--folder", str(tmp_path), "--train-state", str(state)]) == 0
    printed = capsys.readouterr().out
    card = (tmp_path / "t2_test.md").read_text()
    assert "guided_attention_weight as trained" in card and "Steps: 12, minutes of training: 3.5" in card
    entry = ast.literal_eval(printed.split('"t2_test": ', 1)[1].rstrip().rstrip(","))
    assert entry["guided_attention_weight"] == 7.0 and entry["weights"]["file"] == "t2_test.npz"
    def beside_the_test(module, name):
        return str(tmp_path / name) if name == "t2_test.npz" else packaged_file(module, name)

    monkeypatch.setattr("audiogen_tf.pretrained.packaged_file", beside_the_test)
    register_presets(Tacotron2, {"t2_test": entry})
    try:
        shipped = Tacotron2.from_preset("t2_test")
    finally:
        _PRESETS["Tacotron2"].pop("t2_test")
    for a, b in zip(trained.weights, shipped.weights):
        np.testing.assert_allclose(b.numpy(), a.numpy().astype(np.float16).astype(np.float32))


def test_card_counts_the_steps_of_the_weights_a_run_continued():
    """A run warm-started from shipped weights (istft_vocoder_speech.py --init-from PRESET) counts their steps too."""
    state = {"step": 9159, "train_seconds": 9000.0,
             "init_from": {"weights": "istft_vocoder_slt", "step": 50542, "minute": 130.0}}
    line = ship_weights._steps_minutes(state)
    assert line.startswith("- Steps: 59701 (50542 of `istft_vocoder_slt`, then 9159)") and "150.0" in line
    assert ship_weights._steps_minutes({"step": 7, "train_seconds": 60.0}) == "- Steps: 7, minutes of training: 1.0"
