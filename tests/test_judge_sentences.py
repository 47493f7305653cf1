"""The vocoder judge sets (benchmarks/judge_sentences.txt, A, and judge_sentences_b.txt, B) are unseen text:
none of their sentences, nor any of their word 5-grams, is in the corpus text (the packaged sentences and 20000
generated ones) or in the voice WER page's sentences; B shares none with A either, nor within itself; comment
lines are not spoken."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JUDGE = os.path.join(ROOT, "benchmarks", "judge_sentences.txt")
JUDGE_B = os.path.join(ROOT, "benchmarks", "judge_sentences_b.txt")


def _words(text):
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


def _grams(text):
    w = _words(text)
    return {tuple(w[i:i + 5]) for i in range(len(w) - 4)}


def test_judge_sentences_are_not_in_any_training_text():
    from voice_wer import SENTENCES

    from audiogen_tf.datasets.sentence_grammar import generate_sentences
    from audiogen_tf.datasets.speech import default_sentences, sentences_from_text

    seen = set(default_sentences() + generate_sentences(20000) + list(SENTENCES))
    grams = set().union(*map(_grams, seen))
    for path, count in ((JUDGE, 100), (JUDGE_B, 200)):  # B is checked against A as well
        with open(path, encoding="utf-8") as f:
            judge = sentences_from_text(f.read())
        assert len(judge) == count and len(set(judge)) == count, path
        assert not any(s.startswith("#") for s in judge)
        own = [g for s in judge for g in _grams(s)]
        assert len(own) == len(set(own)), f"{path}: sentences share a 5-gram"
        for s in judge:
            assert s not in seen
            assert not _grams(s) & grams, s
        seen.update(judge)
        grams.update(own)


def test_sentence_files_skip_comment_lines():
    from audiogen_tf.datasets.speech import sentences_from_text

    assert sentences_from_text("# a comment\n\n  One.  \nTwo.\n#x\n") == ["One.", "Two."]
