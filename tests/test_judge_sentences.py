"""The vocoder judge set (benchmarks/judge_sentences.txt) is unseen text: none of its sentences, nor any of
their word 5-grams, is in the corpus text (the packaged sentences and 20000 generated ones) or in the voice WER
page's sentences, and comment lines are not spoken."""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JUDGE = os.path.join(ROOT, "benchmarks", "judge_sentences.txt")


def _words(text):
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


def test_judge_sentences_are_not_in_any_training_text():
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    from voice_wer import SENTENCES

    from audiogen_tf.datasets.sentence_grammar import generate_sentences
    from audiogen_tf.datasets.speech import default_sentences, sentences_from_text

    with open(JUDGE, encoding="utf-8") as f:
        judge = sentences_from_text(f.read())
    assert len(judge) == 100 and len(set(judge)) == 100
    assert not any(s.startswith("#") for s in judge)
    seen = default_sentences() + generate_sentences(20000) + list(SENTENCES)
    grams = {tuple(w[i:i + 5]) for t in seen for w in [_words(t)] for i in range(len(w) - 4)}
    for s in judge:
        w = _words(s)
        assert s not in seen
        assert not any(tuple(w[i:i + 5]) in grams for i in range(len(w) - 4)), s


def test_sentence_files_skip_comment_lines():
    from audiogen_tf.datasets.speech import sentences_from_text

    assert sentences_from_text("# a comment\n\n  One.  \nTwo.\n#x\n") == ["One.", "Two."]
