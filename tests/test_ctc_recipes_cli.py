"""The CTC families end to end on a tiny made-up corpus: bundled recipes validate, a tiny preset trains 2 steps through
``training.run.train``, then ``audiogen synthesize`` (CTC TTS), ``audiogen align`` (durations JSON + PNG) and
``audiogen evaluate --recognizer`` (character error rate next to pocketsphinx)."""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import soundfile as sf

from audiogen_cli import main
from audiogen_tf.errors import ConfigError
from training.recipes import load_recipe
from training.run import train

SR = 22050
COMMON = ["steps=2", "steps_per_epoch=2", "checkpoint_every=2", "batch_size=2", "bucket_boundaries=null"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Four 'utterances' of pitched noise with texts, and their manifest."""
    from audiogen_tf.manifest import write_manifest

    root = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(0)
    entries = []
    for i, text in enumerate(["one two.", "three four.", "hi there.", "good day."]):
        t = np.arange(int(SR * (0.5 + 0.1 * i))) / SR
        x = 0.3 * np.sin(2 * np.pi * (120 + 20 * i) * t) + 0.02 * rng.normal(size=t.size)
        path = root / f"u{i}.wav"
        sf.write(path, x.astype(np.float32), SR)
        entries.append({"path": str(path), "text": text})
    return write_manifest(entries, root / "manifest.csv"), root


def test_bundled_recipes_validate_and_name_bad_keys():
    assert type(load_recipe("ctc_tts")).__name__ == "CTCTTSRecipe"
    assert type(load_recipe("ctc_recognizer")).__name__ == "CTCRecognizerRecipe"
    assert load_recipe("ctc_tts").model_preset == "ctc_tts_small"
    with pytest.raises(ConfigError, match=r"ctc_recognizer\.yaml[:,] key 'bucket_boundaries'"):
        load_recipe("ctc_recognizer", ["bucket_boundaries=[0]"])
    with pytest.raises(ConfigError, match=r"ctc_tts\.yaml[:,] key 'model_preset'"):
        load_recipe("ctc_tts", ["model_preset=ctc_tts_huge"])


def test_recipes_train_then_cli_synthesizes_aligns_and_evaluates(corpus, tmp_path, capsys):
    manifest, root = corpus
    tts_run, rec_run = tmp_path / "tts", tmp_path / "rec"
    tts = train(load_recipe("ctc_tts", COMMON + ["model_preset=ctc_tts_tiny"]), data=manifest, out=str(tts_run),
                verbose=0)
    assert tts.step == 2 and os.path.exists(tts.model_path)
    assert {"mel_loss", "duration_loss", "forward_sum_loss", "binarization_loss"} <= set(tts.history)
    rec = train(load_recipe("ctc_recognizer", COMMON + ["model_preset=ctc_recognizer_tiny"]), data=manifest,
                out=str(rec_run), verbose=0)
    assert rec.step == 2 and os.path.exists(rec.model_path) and np.all(np.isfinite(rec.history["loss"]))

    out = tmp_path / "synth"
    assert main(["synthesize", str(tts_run), "--text", "Hello.", "--out", str(out), "--griffin-lim-iters", "2"]) == 0
    assert sorted(os.listdir(out)) == ["tts_00.wav", "tts_00_mel.png"]
    assert sf.read(out / "tts_00.wav")[0].size > 0

    aligned = tmp_path / "align"
    assert main(["align", str(root / "u2.wav"), "hi there.", "--model", tts.model_path, "--out", str(aligned)]) == 0
    doc = json.load(open(aligned / "u2_durations.json"))
    assert "".join(t["symbol"] for t in doc["tokens"]) == "hi there.~"
    assert sum(t["frames"] for t in doc["tokens"]) == doc["frames"] == 1 + int(SR * 0.7) // 256
    assert os.path.getsize(aligned / "u2_alignment.png") > 0
    assert main(["align", str(root / "u2.wav"), "hi", "--model", rec.model_path, "--out", str(aligned)]) == 2
    assert "cannot align" in capsys.readouterr().err

    gen = tmp_path / "gen"
    gen.mkdir()
    for i in range(2):
        sf.write(gen / f"u{i}.wav", sf.read(root / f"u{i}.wav")[0], SR)
    assert main(["evaluate", str(gen), "--reference", str(root), "--no-f0", "--no-dnsmos",
                 "--recognizer", rec.model_path, "--out", str(tmp_path / "eval")]) == 0
    report = json.load(open(tmp_path / "eval.json"))
    assert report["corpus"]["cer"] is not None and report["corpus"]["cer"] >= 0
    assert set(report["per_file"]["u0"]) >= {"cer", "wer_recognizer"}
    assert "recognizer" in report["transcripts"]["u0"]
