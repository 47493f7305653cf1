"""The multi-speaker voices corpus builder (`audiogen data voices`), on fake prompt folders made here."""

import csv
import json
import os

import numpy as np
import pytest

from audiogen_tf import audio as audio_io
from audiogen_tf.datasets import voices
from audiogen_tf.errors import ConfigError


def _utterance(sr, seconds=1.2, f0=140.0, pad=0.4):
    """A voiced-like harmonic tone between stretches of near silence."""
    t = np.arange(int(seconds * sr)) / sr
    tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8 if sr > 8000 else 4)) * 0.2
    gap = np.zeros(int(pad * sr), np.float32)
    return np.concatenate([gap, tone.astype(np.float32), gap])


def _prompts(root, folder, sr, names, codec="wav"):
    path = os.path.join(root, folder)
    os.makedirs(os.path.join(path, "digits"), exist_ok=True)
    for i, name in enumerate(names):
        x = _utterance(sr, f0=120.0 + 10 * i)
        target = os.path.join(path, name + "." + codec)
        if codec == "wav":
            audio_io.save(target, x, sr)
        else:
            import G722

            pcm = (np.clip(x, -1, 1) * 32767).astype(np.int16)
            with open(target, "wb") as f:
                f.write(bytes(G722.G722(16000, 64000).encode(pcm)))
    return path


def _rows(path):
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_unseen_voice_is_held_out_whole_trimmed_and_band_limited(tmp_path):
    root = tmp_path / "sounds"
    _prompts(root, "it_IT_f_Menardi", 8000, ["hello", "digits/1", "beep", "queue-thankyou"])
    out = tmp_path / "corpus"
    manifest = voices.build_voices_corpus(out, voices=["menardi_it"], sounds_root=str(root), progress=False)
    rows = _rows(manifest)
    assert len(rows) == 3  # the beep is not speech
    assert {r["split"] for r in rows} == {"unseen"} and {r["bandwidth"] for r in rows} == {"4000"}
    assert {r["voice"] for r in rows} == {"menardi_it"} and {r["gender"] for r in rows} == {"f"}
    assert all(r["license"] and r["source"] == "asterisk-prompt-it-menardi-wav" for r in rows)
    sr, _, seconds = audio_io.info(os.path.join(out, rows[0]["path"]) if not os.path.isabs(rows[0]["path"])
                                   else rows[0]["path"])
    assert sr == 22050 and 1.2 <= seconds < 1.5  # 0.8 s of silence trimmed, 50 ms margins kept
    assert (out / "unseen.csv").exists() and not (out / "train.csv").exists()
    summary = json.loads((out / "voices.json").read_text())
    assert summary["voices"]["menardi_it"]["files"] == {"unseen": 3}
    # a rerun with the same settings keeps everything
    assert voices.build_voices_corpus(out, voices=["menardi_it"], sounds_root=str(root), progress=False) == manifest


def test_band_limit_removes_content_above_the_bandwidth():
    sr = 22050
    t = np.arange(sr) / sr
    x = (0.3 * np.sin(2 * np.pi * 500 * t) + 0.3 * np.sin(2 * np.pi * 9500 * t)).astype(np.float32)
    y = voices._band_limit(x, sr, 8000, "soxr_hq")
    spec = np.abs(np.fft.rfft(y))
    freqs = np.fft.rfftfreq(len(y), 1 / sr)
    assert spec[np.argmin(np.abs(freqs - 9500))] < 1e-3 * spec[np.argmin(np.abs(freqs - 500))]


def test_g722_voice_splits_by_utterance_and_balances_train(tmp_path):
    pytest.importorskip("G722", reason='needs the G.722 decoder: pip install "audiogen-tf[voices]"')
    root = tmp_path / "sounds"
    _prompts(root, "en_US_f_Allison", 16000, [f"prompt-{i:02d}" for i in range(30)], codec="g722")
    out = tmp_path / "corpus"
    voices.build_voices_corpus(out, voices=["allison_en"], sounds_root=str(root), progress=False)
    rows = _rows(out / "manifest.csv")
    assert len(rows) == 30 and {r["bandwidth"] for r in rows} == {"7000"}
    assert {r["split"] for r in rows} <= {"train", "valid", "test"} and "train" in {r["split"] for r in rows}
    assert len(_rows(out / "train.csv")) == sum(r["split"] == "train" for r in rows)


def test_balanced_repeats_small_voices_up_to_the_cap():
    train = [{"voice": "big", "duration": 1.0}] * 40 + [{"voice": "small", "duration": 1.0}] * 5 + \
            [{"voice": "mid", "duration": 1.0}] * 20
    out = voices._balanced(train, max_repeat=3)
    counts = {v: sum(e["voice"] == v for e in out) for v in ("big", "mid", "small")}
    assert counts == {"big": 40, "mid": 20, "small": 15}


def test_named_voice_that_is_not_installed_names_the_package(tmp_path):
    with pytest.raises(ConfigError, match="apt-get install .*asterisk-core-sounds-fr-g722"):
        voices.build_voices_corpus(tmp_path / "c", voices=["june_fr"], sounds_root=str(tmp_path / "none"),
                                   progress=False)
    with pytest.raises(ConfigError, match="unknown voice 'bob'.*allison_en"):
        voices.build_voices_corpus(tmp_path / "c", voices=["bob"], progress=False)


def test_missing_g722_extra_is_one_clear_line(tmp_path, monkeypatch):
    root = tmp_path / "sounds"
    os.makedirs(root / "en_US_f_Allison")
    (root / "en_US_f_Allison" / "a.g722").write_bytes(b"\x00" * 100)
    monkeypatch.setattr(voices, "_g722_available", lambda: False)
    with pytest.raises(ConfigError, match=r'pip install "audiogen-tf\[voices\]"'):
        voices.build_voices_corpus(tmp_path / "c", voices=["allison_en"], sounds_root=str(root), progress=False)


def test_catalogue_holds_out_human_and_unseen_language_voices_of_both_genders():
    unseen = [v for v in voices.VOICES if v.unseen]
    assert sum(v.kind == "human" for v in unseen) >= 2
    trained_languages = {v.language for v in voices.VOICES if not v.unseen}
    new_language = [v for v in unseen if v.kind == "festival" and v.language not in trained_languages]
    assert {v.gender for v in new_language} == {"f", "m"}
    assert {v.name for v in unseen} >= {"awb_en", "rms_en"}
    for v in voices.VOICES:
        if v.text and v.text != "en":
            assert len(voices.voice_sentences(v.text)) >= 25
    assert voices.install_line([voices.voice_source("ph_cs")]) == "sudo apt-get install festival festvox-czech-ph"
