"""`audiogen` starts like a tool (issue 40, item 7): building the parser imports no TensorFlow, and `say --tflite`
with a warm voice cache runs on LiteRT, the phonemizer and NumPy alone (no tensorflow, keras, librosa, scipy)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from audiogen_cli import main

HEAVY = ("tensorflow", "keras", "librosa", "scipy", "matplotlib", "numba")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _loaded_after(code: str, env=None) -> dict:
    """Run ``code`` in a fresh interpreter; then the heavy modules it left in ``sys.modules``."""
    probe = code + f"\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))\n"
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})})
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_parser_and_help_import_no_tensorflow():
    loaded = _loaded_after("import audiogen_cli\nparser = audiogen_cli._parser()\n"
                           "parser.parse_args(['say', 'Hello.', '--tflite'])\nparser.format_help()")
    assert not any(loaded.values()), loaded


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory):
    """A voice cache holding the test voice's bundle, made by `say --tflite` itself (the export needs Keras)."""
    root = tmp_path_factory.mktemp("fast")
    cache = root / "cache"
    mp = pytest.MonkeyPatch()
    mp.setenv("AUDIOGEN_CACHE", str(cache))
    try:
        assert main(["say", "Hello there.", "--voice", "test_tiny", "--tflite", "-o", str(root / "first.wav")]) == 0
    finally:
        mp.undo()
    return root, cache


def test_say_tflite_with_a_warm_cache_imports_no_tensorflow(warm_cache):
    root, cache = warm_cache
    out = root / "again.wav"
    loaded = _loaded_after(
        "from audiogen_cli import main\n"
        f"assert main(['say', 'Hello there.', '--voice', 'test_tiny', '--tflite', '-o', {str(out)!r}]) == 0",
        env={"AUDIOGEN_CACHE": str(cache)})
    assert not any(loaded.values()), loaded
    # the same bundle speaks the same samples as the run that built the Keras voice and exported it
    assert out.read_bytes() == (root / "first.wav").read_bytes()


def test_a_damaged_cache_is_exported_again_on_the_keras_path(warm_cache, tmp_path, capsys, monkeypatch):
    _, cache = warm_cache
    monkeypatch.setenv("AUDIOGEN_CACHE", str(cache))
    (folder,) = [p for p in (cache / "voices").iterdir() if p.is_dir()]
    with open(folder / "vocoder.tflite", "ab") as fh:
        fh.write(b"x")
    assert main(["say", "Hello there.", "--voice", "test_tiny", "--tflite", "-o", str(tmp_path / "b.wav")]) == 0
    printed = capsys.readouterr().out
    assert "cannot be trusted" in printed and "exporting voice 'test_tiny'" in printed
    from tflite_export.synthesizer import damaged_bundle_files

    assert (tmp_path / "b.wav").stat().st_size > 44 and damaged_bundle_files(str(folder)) == []  # the untrained
    # test voice gets new random weights when it is built again, so its samples differ from first.wav


def test_fingerprint_memo_is_the_fingerprint_and_follows_the_sources(tmp_path):
    from zoo.voices import _voice_fingerprint, voice_fingerprint

    memo = tmp_path / "fingerprints.json"
    digest = voice_fingerprint("test_tiny", memo=str(memo))
    assert digest == _voice_fingerprint("test_tiny") == voice_fingerprint("test_tiny")
    saved = json.loads(memo.read_text())
    saved["test_tiny"]["sha256"] = "0" * 64  # what a memo of other sources would hold ...
    memo.write_text(json.dumps(saved))
    assert voice_fingerprint("test_tiny", memo=str(memo)) == "0" * 64  # ... is read back while they match,
    saved["test_tiny"]["sources"][0][2] += 1  # and recomputed once a source file changed
    memo.write_text(json.dumps(saved))
    assert voice_fingerprint("test_tiny", memo=str(memo)) == digest
    memo.write_text("{not json")  # a broken memo is rewritten, never an error
    assert voice_fingerprint("test_tiny", memo=str(memo)) == digest
    assert json.loads(memo.read_text())["test_tiny"]["sha256"] == digest
