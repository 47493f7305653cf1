"""The voice WER page's 20 sentences are unseen: none of them (nor any of their word 5-grams) is in the corpus text."""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_wer_sentences_are_not_in_the_training_text():
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    from voice_wer import SENTENCES

    from audiogen_tf.datasets.speech import default_sentences

    def words(t):
        return re.sub(r"[^a-z' ]", " ", t.lower()).split()

    corpus = default_sentences()
    grams = {tuple(w[i:i + 5]) for t in corpus for w in [words(t)] for i in range(len(w) - 4)}
    assert len(SENTENCES) == 20 and len(set(SENTENCES)) == 20
    for s in SENTENCES:
        w = words(s)
        assert s not in corpus
        assert not any(tuple(w[i:i + 5]) in grams for i in range(len(w) - 4)), s
