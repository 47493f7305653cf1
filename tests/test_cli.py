"""The `audiogen` command: help texts, data building, folder manifests with unreadable files, and the demo."""

import os
import subprocess
import sys

import numpy as np
import pytest

from audiogen_tf import audio, manifest
from audiogen_cli import main


def test_help_has_examples():
    out = subprocess.run([sys.executable, "-m", "audiogen_cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "Examples:" in out.stdout and "audiogen demo" in out.stdout
    for command in ("demo", "models", "data"):
        sub = subprocess.run([sys.executable, "-m", "audiogen_cli", command, "--help"], capture_output=True, text=True)
        assert sub.returncode == 0 and "Example:" in sub.stdout


def test_data_manifest_reports_unreadable_files(tmp_path, capsys):
    audio.save(tmp_path / "good.wav", np.zeros(1600, np.float32) + 0.1, 16000)
    (tmp_path / "bad.wav").write_bytes(b"RIFF....garbage")
    assert main(["data", "manifest", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 files indexed, 1 skipped" in out and "bad.wav: corrupt" in out
    entries = manifest.read_manifest(tmp_path / "manifest.csv")
    assert [os.path.basename(e["path"]) for e in entries] == ["good.wav"] and entries[0]["duration"] == 0.1


def test_missing_tool_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no festival, no flite
    assert main(["data", "speech", str(tmp_path / "speech"), "--limit", "1"]) == 2
    assert "apt-get install" in capsys.readouterr().err


def test_demo_end_to_end(tmp_path, capsys):
    """The main job with a tiny training budget: every stage runs and writes what it says."""
    from audiogen_cli.demo import run_demo

    from zoo.voices import DEFAULT_VOICE

    rows = run_demo(out_dir=tmp_path / "out", data_dir=tmp_path / "data", train_seconds=5, num_examples=1,
                    corpus="notes")
    names = [r[0] for r in rows]
    assert names == [
        f"speak with voice '{DEFAULT_VOICE}' (TFLite)", "build built-in notes", "feature round trip (Griffin-Lim)",
        "train vocoder (HiFi-GAN tiny)", "synthesize with the vocoder", "export to TFLite and run",
    ]
    written = [f for r in rows for f in r[2]]
    assert all(os.path.exists(f) for f in written)
    assert any(f.endswith(".tflite") for f in written) and sum(f.endswith(".png") for f in written) == 2
    assert any(f.endswith("voice.wav") for f in written) and "first audio" in rows[0][3]
    assert "Flex ops: none" in rows[-1][3]
    out = capsys.readouterr().out
    assert "== summary" in out and "time to first audio" in out


def test_demo_trains_the_istft_vocoder_on_speech(tmp_path):
    """On speech the demo trains the small iSTFT vocoder (here on a made-up two-utterance corpus)."""
    import numpy as np

    from audiogen_cli.demo import run_demo
    from audiogen_tf import audio

    speech_dir = tmp_path / "data" / "speech"
    (speech_dir / "wavs").mkdir(parents=True)
    t = np.arange(22050 * 2) / 22050
    rows = ["path,text,split"]
    for i, split in enumerate(["train", "test"]):
        x = (0.3 * np.sin(2 * np.pi * (150 + 50 * i) * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32) / 2
        audio.save(str(speech_dir / "wavs" / f"u{i}.wav"), x, 22050)
        rows.append(f"{speech_dir / 'wavs' / f'u{i}.wav'},hello,{split}")
    (speech_dir / "manifest.csv").write_text("\n".join(rows) + "\n")
    result = run_demo(out_dir=tmp_path / "out", data_dir=tmp_path / "data", train_seconds=3, num_examples=1,
                      speak=False, corpus="speech")
    names = [r[0] for r in result]
    assert names[0] == "build festival speech corpus" and "train vocoder (iSTFT vocoder small)" in names
    assert "shipped vocoder (istft_vocoder_slt, no training)" in names  # the trained one, next to Griffin-Lim
    assert (tmp_path / "out" / "u1_istft_vocoder_slt.wav").stat().st_size > 0
    assert "Flex ops: none" in result[-1][3]
