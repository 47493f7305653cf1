"""The sentence grammar: deterministic, prefix-stable, unique, within word bounds, normalizable, wide in
vocabulary, and reachable from `audiogen data speech --generated-sentences N`."""

import os
import re
import subprocess
import sys

import pytest

from audiogen_tf.datasets import sentence_grammar
from audiogen_tf.datasets.sentence_grammar import MAX_SENTENCES, SHAPES, article, generate_sentences, ordinal, plural
from audiogen_tf.datasets.speech import normalize_text
from audiogen_tf.errors import ConfigError


@pytest.fixture(scope="module")
def five_thousand():
    return generate_sentences(5000)


def test_deterministic_and_prefix_stable(five_thousand):
    assert generate_sentences(5000) == five_thousand
    assert generate_sentences(300) == five_thousand[:300]
    assert generate_sentences(0) == []
    assert generate_sentences(50, seed=1) != five_thousand[:50]


def test_same_sentences_in_another_process(five_thousand):
    # the module file alone (not the package, whose imports are slow), under another hash seed
    code = (
        "import importlib.util as u, sys; s = u.spec_from_file_location('g', sys.argv[1]); m = u.module_from_spec(s); "
        "s.loader.exec_module(m); print('\\n'.join(m.generate_sentences(40)))"
    )
    out = subprocess.run([sys.executable, "-c", code, sentence_grammar.__file__], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONHASHSEED": "123"}).stdout
    assert out.splitlines() == five_thousand[:40]


def test_count_unique_word_bounds_and_punctuation(five_thousand):
    assert len(five_thousand) == 5000 and len(set(five_thousand)) == 5000
    for s in five_thousand:
        assert 5 <= len(s.split()) <= 16, s
        assert s[0].isupper() and s[-1] in ".?!" and "  " not in s, s


def test_sentences_normalize_to_words_only(five_thousand):
    digits = 0
    for s in five_thousand[:2000]:
        digits += bool(re.search(r"\d", s))
        norm = normalize_text(s)
        assert not re.search(r"\d", norm), (s, norm)
    assert digits > 200  # times, prices, years, ordinals, percents and decimals are exercised
    assert any(":" in s for s in five_thousand) and any("$" in s for s in five_thousand)
    assert any("%" in s for s in five_thousand) and any(re.search(r"\d(st|nd|rd|th)\b", s) for s in five_thousand)


def test_wide_vocabulary(five_thousand):
    words = {w for s in five_thousand for w in re.findall(r"[a-z']+", s.lower())}
    assert len(words) >= 1500, len(words)
    assert len(SHAPES) >= 30


def test_morphology():
    assert [plural(w) for w in ("box", "cherry", "key", "knife", "mouse", "bus driver", "sheep", "potato")] == [
        "boxes", "cherries", "keys", "knives", "mice", "bus drivers", "sheep", "potatoes"]
    assert [article(w) for w in ("apple", "umbrella", "uniform", "hour", "useful", "pear", "8-minute", "18-day")] == [
        "an", "an", "a", "an", "a", "a", "an", "an"]
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st"]


def test_bad_counts_are_config_errors():
    for bad in (-1, MAX_SENTENCES + 1, 2.5, "10"):
        with pytest.raises(ConfigError):
            generate_sentences(bad)


def test_cli_flag_reaches_build_speech_corpus(tmp_path, monkeypatch):
    import audiogen_tf.datasets.speech as speech
    from audiogen_cli import main

    calls = []

    def fake_build(out_dir, sentences=None, **kwargs):
        calls.append((out_dir, sentences, kwargs))
        return str(tmp_path / "manifest.csv")

    monkeypatch.setattr(speech, "build_speech_corpus", fake_build)
    assert main(["data", "speech", str(tmp_path), "--generated-sentences", "5"]) == 0
    assert main(["data", "speech", str(tmp_path)]) == 0
    assert main(["data", "speech", str(tmp_path), "--generated-sentences", "-1"]) == 2
    (out_dir, sentences, kwargs), (_, default, _) = calls
    assert out_dir == str(tmp_path) and kwargs["engine"] == "auto"
    assert sentences == speech.default_sentences() + generate_sentences(5)
    assert default is None  # no flag: the packaged sentences, as before
