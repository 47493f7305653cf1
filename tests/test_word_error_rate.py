"""Word error rate (metrics.word_error_rate / recognize) and its use in evaluate_folder / `audiogen evaluate`."""

import json
import os
import shutil
import subprocess
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from audiogen_tf import audio, manifest, metrics
from audiogen_tf.evaluation import evaluate_folder, find_text_manifest, report_markdown, write_report

SENTENCES = {
    "stella": "Please call Stella and ask her to bring these things with her from the store.",
    "fox": "The quick brown fox jumps over the lazy dog.",
}


def test_word_error_rate_on_known_strings():
    assert metrics.word_error_rate("The cat sat on the mat.", "the cat sat on a mat") == pytest.approx(1 / 6)
    assert metrics.word_error_rate("Hello, World!", "hello world") == 0.0  # case and punctuation ignored
    assert metrics.word_error_rate("a b c d", "a c d") == 0.25  # one deletion
    assert metrics.word_error_rate("a b", "x a b y z") == 1.5  # three insertions: can exceed 1
    assert metrics.word_error_rate("one two three", "") == 1.0
    assert metrics.word_error_rate("", "") == 0.0 and metrics.word_error_rate("...", "word") == float("inf")
    assert metrics.word_edits("it's a test", "its a test") == (1, 3)  # apostrophes stay inside words
    assert metrics.normalize_words("  Don't STOP--now. ") == ["don't", "stop", "now"]


def test_recognize_without_pocketsphinx_warns_and_returns_none(monkeypatch):
    monkeypatch.setitem(sys.modules, "pocketsphinx", None)  # import now raises ImportError
    with pytest.warns(metrics.MetricUnavailableWarning, match="pocketsphinx"):
        assert metrics.recognize(np.zeros(16000, np.float32), 16000) is None


def _speak(text, path):
    """Speak ``text`` into ``path`` with festival's slt HTS voice, named (festival's default voice changes with
    the voices installed, e.g. festvox-suopuhe-mv), or else flite; skip when neither is there."""
    from audiogen_tf.datasets.speech import FESTIVAL_VOICE, festival_available

    if festival_available():
        subprocess.run(["text2wave", "-eval", f"(voice_{FESTIVAL_VOICE})", "-o", str(path)], input=text.encode(),
                       check=True, capture_output=True)
    elif shutil.which("flite"):
        subprocess.run(["flite", "-t", text, "-o", str(path)], check=True, capture_output=True)
    else:
        pytest.skip("needs festival (apt install festival festvox-us-slt-hts) or flite (apt install flite)")
    return str(path)


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    pytest.importorskip("pocketsphinx", reason="the WER judge needs pocketsphinx (pip install pocketsphinx)")
    folder = tmp_path_factory.mktemp("tts")
    return {k: _speak(t, folder / f"{k}.wav") for k, t in SENTENCES.items()}


def test_recognize_synthetic_speech_has_low_wer(speech):
    x, sr = audio.load(speech["stella"])
    heard = metrics.recognize(x, sr)
    wer = metrics.word_error_rate(SENTENCES["stella"], heard)
    assert wer < 0.5, heard
    # a different sentence is judged far worse: the judge really listens
    assert metrics.word_error_rate(SENTENCES["fox"], heard) > 0.9


@pytest.fixture(scope="module")
def folders(speech, tmp_path_factory):
    """reference/ with a manifest that has texts; generated/ says the right sentence once and the wrong once."""
    root = tmp_path_factory.mktemp("eval")
    ref, gen = root / "reference", root / "generated"
    ref.mkdir(), gen.mkdir()
    for stem in ("a", "b"):
        shutil.copy(speech["stella"], ref / f"{stem}.wav")
    shutil.copy(speech["stella"], gen / "a.wav")
    shutil.copy(speech["fox"], gen / "b.wav")  # says something else than its text
    rows = [{"path": f"{s}.wav", "text": SENTENCES["stella"]} for s in ("a", "b")]
    manifest.write_manifest(rows, ref / "manifest.csv")
    return ref, gen


def test_evaluate_folder_reports_per_file_and_corpus_wer(folders, tmp_path):
    ref, gen = folders
    assert find_text_manifest(ref) == str(ref / "manifest.csv") and find_text_manifest(gen) is None
    report = evaluate_folder(gen, ref, with_f0=False, progress=False)
    wer_a, wer_b = report["per_file"]["a"]["wer"], report["per_file"]["b"]["wer"]
    assert wer_a < 0.5 and wer_b > 0.9, report["transcripts"]
    n = len(metrics.normalize_words(SENTENCES["stella"]))
    assert report["corpus"]["wer"] == pytest.approx((wer_a * n + wer_b * n) / (2 * n))  # total edits / total words
    assert report["counts"]["transcribed"] == 2 and report["transcripts"]["b"]["text"] == SENTENCES["stella"]
    assert "mcd" in report["per_file"]["a"]  # paired metrics still there
    md = report_markdown(report)
    assert "| wer |" in md and "Transcripts (pocketsphinx)" in md
    json_path, _ = write_report(report, tmp_path / "ev")
    assert json.load(open(json_path))["corpus"]["wer"] == pytest.approx(report["corpus"]["wer"])


def test_evaluate_folder_without_judge_reports_skipped(folders, monkeypatch):
    ref, gen = folders
    monkeypatch.setitem(sys.modules, "pocketsphinx", None)
    with warnings.catch_warnings():
        warnings.simplefilter("error", metrics.MetricUnavailableWarning)  # caught inside, never escapes
        report = evaluate_folder(gen, None, texts=str(ref / "manifest.csv"), with_f0=False, progress=False)
    assert "wer" not in report["corpus"] and "transcripts" not in report
    assert any("WER not computed" in r and "pocketsphinx" in r for r in report["skipped"])


def test_cli_evaluate_with_text_manifest(folders, tmp_path, capsys):
    from audiogen_cli import main

    ref, gen = folders
    texts = tmp_path / "texts.jsonl"
    manifest.write_manifest([{"path": str(gen / "a.wav"), "text": SENTENCES["stella"]}], texts)
    out = tmp_path / "cli"
    assert main(["evaluate", str(gen), "--text-manifest", str(texts), "--out", str(out)]) == 0
    report = json.load(open(str(out) + ".json"))
    assert set(report["transcripts"]) == {"a"} and report["corpus"]["wer"] < 0.5
    assert "Transcripts" in capsys.readouterr().out


def test_recognize_does_not_depend_on_what_it_heard_before():
    """The same audio decodes to the same words after noise: a WER must not depend on the order of the files."""
    from speech_fixture import speech_like

    pytest.importorskip("pocketsphinx")
    sr = 16000
    x = speech_like(sr)
    first = metrics.recognize(x, sr)
    metrics.recognize(np.random.default_rng(0).standard_normal(2 * sr).astype(np.float32) * 0.1, sr)
    assert metrics.recognize(x, sr) == first
