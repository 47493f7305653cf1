"""benchmarks/istft_vocoder_gta.py: GTA mel cache (frame counts, reuse), aligned crops, a short fine-tune that saves
and lowers the loss on a fixed batch, on a 4-utterance speech-like corpus (no Debian files); the evaluation page
(pocketsphinx) is a slow test."""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf

from speech_fixture import speech_like

import istft_vocoder_gta as gta  # noqa: E402

SR = 22050
TEXTS = ["a cat sat.", "the dog ran home.", "hello there.", "one more time."]
F = 16  # crop frames


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """manifest (3 train + 1 test utterances of speech-like audio), an untrained tacotron2_tiny .keras, the vocoder."""
    import soundfile as sf

    from audiogen_tf.manifest import write_manifest
    from zoo.tacotron2 import Tacotron2

    root = tmp_path_factory.mktemp("gta")
    entries = []
    for i, text in enumerate(TEXTS):
        path = root / f"u{i}.wav"
        sf.write(path, speech_like(SR, seconds=0.7 + 0.1 * i, seed=i), SR, subtype="PCM_16")
        entries.append({"path": str(path), "text": text, "split": "test" if i == 3 else "train"})
    manifest = write_manifest(entries, root / "manifest.csv")
    keras.utils.set_random_seed(0)
    tacotron_path = str(root / "tacotron2_tiny.keras")
    Tacotron2.from_preset("tacotron2_tiny").save(tacotron_path)
    vocoder = gta.build_vocoder("istft_vocoder_tiny", seed=0)
    return {"root": root, "manifest": manifest, "tacotron": tacotron_path, "vocoder": vocoder}


@pytest.fixture(scope="module")
def gta_data(corpus):
    from audiogen_tf.manifest import read_manifest

    tacotron, sha = gta.load_tacotron(corpus["tacotron"], corpus["vocoder"])
    train = [e for e in read_manifest(corpus["manifest"]) if e["split"] == "train"]
    audios = gta.load_audio(train, SR)
    cache = str(corpus["root"] / "out" / gta.CACHE_NAME)
    mels, computed = gta.gta_mels(tacotron, sha, train, audios, cache)
    return {"tacotron": tacotron, "sha": sha, "train": train, "audios": audios, "mels": mels, "computed": computed,
            "cache": cache}


def test_gta_cache_has_real_frame_counts_and_is_reused(gta_data):
    d = gta_data
    cfg = d["tacotron"].mel_config
    assert d["computed"]
    for x, m in zip(d["audios"], d["mels"]):
        real = np.asarray(cfg.log_mel(tf.constant(x)))
        assert m.shape == real.shape == (1 + len(x) // cfg.hop_length, cfg.n_mels)
        assert np.all(np.isfinite(m))
    mtime = os.stat(d["cache"]).st_mtime_ns
    again, computed = gta.gta_mels(d["tacotron"], d["sha"], d["train"], d["audios"], d["cache"])
    assert not computed and os.stat(d["cache"]).st_mtime_ns == mtime
    for a, b in zip(again, d["mels"]):
        np.testing.assert_array_equal(a, b)
    # another Tacotron 2 (another sha) recomputes; this one gives the same mels again
    _, computed = gta.gta_mels(d["tacotron"], "0" * 64, d["train"], d["audios"], d["cache"])
    assert computed


def test_crops_are_aligned(gta_data):
    d = gta_data
    cfg = d["tacotron"].mel_config
    hop = cfg.hop_length
    # real mels in: the mel of each cropped audio equals the whole utterance's frames where its window is inside
    real = [np.asarray(cfg.log_mel(tf.constant(x))) for x in d["audios"]]
    ds, used = gta.crop_dataset(d["audios"], real, F, hop, batch_size=4, seed=3)
    assert used == 3
    batch = next(iter(ds))
    assert batch["audio"].shape == (4, F * hop) and batch["mel"].shape == (4, F, cfg.n_mels)
    crop_mel = np.asarray(cfg.log_mel(batch["audio"]))  # (4, F + 1, n_mels), centred on the crop
    inner = slice(cfg.n_fft // (2 * hop), F - cfg.n_fft // (2 * hop) + 1)  # windows inside the crop
    np.testing.assert_allclose(crop_mel[:, inner], np.asarray(batch["mel"])[:, inner], atol=2e-3)
    # GTA mels in: each crop is GTA frames [f, f + F) of one utterance with its samples [f * hop, (f + F) * hop)
    ds, _ = gta.crop_dataset(d["audios"], d["mels"], F, hop, batch_size=4, seed=5)
    batch = next(iter(ds))
    for audio, mel in zip(np.asarray(batch["audio"]), np.asarray(batch["mel"])):
        found = [(u, f) for u, m in enumerate(d["mels"]) for f in range(len(m) - F + 1)
                 if np.array_equal(m[f: f + F], mel)]
        assert len(found) == 1
        u, f = found[0]
        np.testing.assert_array_equal(audio, d["audios"][u][f * hop: (f + F) * hop])


def _args(corpus, out):
    return ["--tacotron2", corpus["tacotron"], "--vocoder", "istft_vocoder_tiny", "--data", corpus["manifest"],
            "--out", str(out), "--batch-size", "4", "--segment-frames", str(F), "--steps-per-epoch", "4",
            "--learning-rate", "3e-3", "--schedule", "constant", "--minutes", "10"]


def test_fine_tune_saves_and_lowers_the_loss(corpus, gta_data, tmp_path):
    from audiogen_tf.losses import mel_l1_loss

    out = tmp_path / "run"
    assert gta.main(_args(corpus, out) + ["--max-steps", "12", "--no-eval"]) == 0
    state = json.loads((out / "train_state.json").read_text())
    assert state["step"] == 12 and [h["step"] for h in state["history"]] == [4, 8, 12]
    path = out / "istft_vocoder_tiny.keras"
    assert path.exists() and (out / gta.CACHE_NAME).exists()
    # the loss on a fixed batch of GTA crops, before and after: the mel L1 against the REAL audio
    cfg = gta_data["tacotron"].mel_config
    ds, _ = gta.crop_dataset(gta_data["audios"], gta_data["mels"], F, cfg.hop_length, batch_size=8, seed=11)
    batch = next(iter(ds))
    before = gta.build_vocoder("istft_vocoder_tiny", seed=0)
    after = keras.saving.load_model(str(path), safe_mode=True)
    loss = {name: float(mel_l1_loss(batch["audio"], model(batch["mel"]), cfg))
            for name, model in (("before", before), ("after", after))}
    print("fixed-batch mel L1", loss)
    assert loss["after"] < 0.9 * loss["before"], loss


@pytest.mark.slow
def test_train_then_evaluate_writes_the_page(corpus, tmp_path):
    """The evaluation path (pocketsphinx, free-running synthesis, Griffin-Lim; about 20 s more), after training and
    alone."""
    out, report = tmp_path / "run", tmp_path / "report.md"
    args = _args(corpus, out) + ["--eval-count", "1", "--griffin-lim-iters", "2", "--report", str(report)]
    assert gta.main(args + ["--max-steps", "4"]) == 0
    assert "Trained 4 steps" in report.read_text()
    report.unlink()
    assert gta.main(args + ["--evaluate"]) == 0
    text = report.read_text()
    assert "Trained 4 steps" in text and "GTA (Tacotron 2 teacher-forced)" in text and "| u3 |" in text
    summary = json.loads((out / "evaluation.json").read_text())["summary"]
    assert summary["sentences"] == 1 and summary["GTA after"] > 0
