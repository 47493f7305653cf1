"""`audiogen say`: text to a WAV with a voice, Keras or the TFLite bundle, and one-line messages for bad text.

Runs the untrained ``test_tiny`` voice (the shipped voice's checks are in its model card's tests and benchmark page).
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from audiogen_cli import main


def _say(tmp_path, *args):
    return main(["say", *args, "--voice", "test_tiny"])


def test_say_writes_wav_and_pictures(tmp_path, capsys):
    out = tmp_path / "hello.wav"
    assert _say(tmp_path, "Hello there. How are you?", "-o", str(out), "--png") == 0
    printed = capsys.readouterr().out
    assert "2 sentence(s)" in printed and "time to first audio" in printed and "real-time factor" in printed
    for name in ("hello.wav", "hello_mel.png", "hello_alignment.png"):
        assert (tmp_path / name).stat().st_size > 0 and name in printed
    audio, sr = sf.read(out)
    assert sr == 22050 and len(audio) > 0 and np.isfinite(audio).all()


def test_say_tflite_bundle_is_made_once_and_reused(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AUDIOGEN_CACHE", str(tmp_path / "cache"))
    assert _say(tmp_path, "Hello.", "-o", str(tmp_path / "a.wav"), "--tflite") == 0
    first = capsys.readouterr().out
    assert "exporting voice" in first and "TFLite (LiteRT)" in first
    assert _say(tmp_path, "Hello.", "-o", str(tmp_path / "b.wav"), "--tflite") == 0
    assert "exporting voice" not in capsys.readouterr().out
    assert sf.info(str(tmp_path / "b.wav")).samplerate == 22050


@pytest.mark.parametrize("text, message", [
    ("", "Text is empty"),
    ("   ", "Text is empty"),
    ("日本語 ©", "Nothing to say"),
])
def test_text_with_nothing_to_say_is_one_line(tmp_path, capsys, text, message):
    out = tmp_path / "x.wav"
    assert _say(tmp_path, text, "-o", str(out)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("audiogen: error:") and message in err and "\n" not in err
    assert not out.exists()


def test_digits_symbols_accents_and_long_text_are_spoken(tmp_path, capsys):
    long_text = ("The meeting moved to 3:45 on May 2nd; bring $20, 50% of the notes & a pen! " * 22)[:1800]
    for i, text in enumerate(["42", "Room 101, 7.5 kg & 3 % @ noon", "Café über naïve.", long_text]):
        out = tmp_path / f"t{i}.wav"
        assert _say(tmp_path, text, "-o", str(out)) == 0, capsys.readouterr().err
        assert sf.info(str(out)).frames > 0
    assert "sentence(s)" in capsys.readouterr().out


def test_text_from_file_and_missing_text(tmp_path, capsys):
    path = tmp_path / "text.txt"
    path.write_text("From a file.", encoding="utf-8")
    assert _say(tmp_path, "--file", str(path), "-o", str(tmp_path / "f.wav")) == 0
    assert _say(tmp_path, "-o", str(tmp_path / "g.wav")) == 2
    assert "say needs the text" in capsys.readouterr().err
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00bad")
    assert _say(tmp_path, "--file", str(bad), "-o", str(tmp_path / "h.wav")) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_list_voices(capsys):
    assert main(["say", "--list"]) == 0
    assert "test_tiny" in capsys.readouterr().out


def test_truncated_shipped_weights_are_one_line_naming_the_file(tmp_path, capsys, monkeypatch):
    """A voice whose shipped weight file was cut short (a broken download or copy) says so, naming the file."""
    import audiogen_tf.pretrained as pretrained
    import zoo.voices as voices
    from audiogen_tf.registry import _PRESETS, get_preset, register_presets
    from zoo.istft_vocoder import ISTFTVocoder

    weights = tmp_path / "istft_vocoder_cut.npz"
    digest = pretrained.save_weights(ISTFTVocoder.from_preset("istft_vocoder_tiny"), str(weights))
    weights.write_bytes(weights.read_bytes()[:1000])
    register_presets(ISTFTVocoder, {"istft_vocoder_cut": {**get_preset(ISTFTVocoder, "istft_vocoder_tiny"),
                                                          "weights": {"file": weights.name, "sha256": digest}}})
    monkeypatch.setattr(pretrained, "packaged_file", lambda module, name: str(tmp_path / name))
    monkeypatch.setitem(voices.VOICES, "cut", {**voices.VOICES["test_tiny"],
                                               "vocoder": ("istft_vocoder", "ISTFTVocoder", "istft_vocoder_cut")})
    try:
        out = tmp_path / "x.wav"
        assert main(["say", "Hello.", "-o", str(out), "--voice", "cut"]) == 2
    finally:
        _PRESETS["ISTFTVocoder"].pop("istft_vocoder_cut")
    err = capsys.readouterr().err.strip()
    assert err.startswith("audiogen: error:") and "\n" not in err
    assert "istft_vocoder_cut.npz" in err and "truncated or altered" in err
    assert not out.exists()


@pytest.fixture(scope="module")
def ctc_tts_file(tmp_path_factory):
    """An untrained tiny CTC TTS saved as a .keras file: what `audiogen train ctc_tts` leaves."""
    from zoo.ctc_tts import CTCTTS

    path = tmp_path_factory.mktemp("ctc") / "ctc_tts.keras"
    CTCTTS.from_preset("ctc_tts_tiny", max_frames=120).save(path)
    return str(path)


@pytest.mark.parametrize("tflite", [False, True])
def test_say_with_a_ctc_tts_model_and_a_vocoder(tmp_path, capsys, monkeypatch, ctc_tts_file, tflite):
    """--tts takes the CTC-aligned TTS (the alternative to Tacotron 2): Keras, or its one-call TFLite bundle; with
    --refine-iterations the iSTFT vocoder's phase is refined (Keras: synthesize_refined; TFLite: the bundle's
    "synthesize_refined" signature, in a bundle folder of its own)."""
    monkeypatch.setenv("AUDIOGEN_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "ctc.wav"
    args = ["say", "Hi there.", "-o", str(out), "--tts", ctc_tts_file, "--vocoder", "istft_vocoder_tiny", "--png",
            "--refine-iterations", "2"]
    assert main(args + (["--tflite"] if tflite else [])) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert ("TFLite (LiteRT)" if tflite else "Keras") in printed and "1 sentence(s)" in printed
    assert "refined by 2 consistency iterations" in printed
    if tflite:
        assert [p.name.endswith("-refine") for p in (tmp_path / "cache" / "voices").iterdir()] == [True]
    assert (tmp_path / "ctc_alignment.png").stat().st_size > 0
    audio, sr = sf.read(out)
    assert sr == 22050 and len(audio) > 0 and np.isfinite(audio).all()


def test_refining_a_griffin_lim_voice_is_one_line(tmp_path, capsys, ctc_tts_file):
    assert main(["say", "Hi.", "-o", str(tmp_path / "x.wav"), "--tts", ctc_tts_file, "--refine-iterations", "4"]) == 2
    err = capsys.readouterr().err
    assert "no predicted phase to refine" in err and "\n" not in err.strip()


def test_export_refine_of_a_vocoder_without_phase_is_one_line(tmp_path, capsys):
    assert main(["export", "hifigan_tiny", "--refine", "--out", str(tmp_path / "h.tflite")]) == 2
    err = capsys.readouterr().err
    assert "no predicted phase to refine" in err and not (tmp_path / "h.tflite").exists()


def test_say_vocoder_without_tts_is_one_line(tmp_path, capsys):
    assert main(["say", "Hi.", "-o", str(tmp_path / "x.wav"), "--vocoder", "istft_vocoder_tiny"]) == 2
    assert "--vocoder goes with --tts" in capsys.readouterr().err
