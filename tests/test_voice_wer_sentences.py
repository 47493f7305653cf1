"""The voice WER page's 20 sentences are unseen: none of them (nor any of their word 5-grams) is in the corpus text,
the packaged sentences followed by 20000 generated ones (`audiogen data speech --generated-sentences`)."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_wer_sentences_are_not_in_the_training_text():
    from voice_wer import SENTENCES

    from audiogen_tf.datasets.sentence_grammar import generate_sentences
    from audiogen_tf.datasets.speech import default_sentences

    def words(t):
        return re.sub(r"[^a-z' ]", " ", t.lower()).split()

    corpus = default_sentences() + generate_sentences(20000)
    grams = {tuple(w[i:i + 5]) for t in corpus for w in [words(t)] for i in range(len(w) - 4)}
    assert len(SENTENCES) == 20 and len(set(SENTENCES)) == 20
    for s in SENTENCES:
        w = words(s)
        assert s not in corpus
        assert not any(tuple(w[i:i + 5]) in grams for i in range(len(w) - 4)), s


def test_held_out_corpus_sentences_share_nothing_with_generated_ones():
    """The corpus' own held-out sentences (test and valid splits of the packaged ones, by id) stay unseen when a
    corpus adds generated sentences: no generated sentence shares a word 5-gram with them."""
    from audiogen_tf.datasets._common import split_of
    from audiogen_tf.datasets.sentence_grammar import generate_sentences
    from audiogen_tf.datasets.speech import default_sentences

    def words(t):
        return re.sub(r"[^a-z' ]", " ", t.lower()).split()

    held_out = [s for i, s in enumerate(default_sentences())
                if split_of(f"SLT-{i + 1:04d}", valid=0.05, test=0.05) != "train"]
    assert len(held_out) == 30
    grams = {tuple(w[i:i + 5]) for t in generate_sentences(20000) for w in [words(t)] for i in range(len(w) - 4)}
    for s in held_out:
        w = words(s)
        assert not any(tuple(w[i:i + 5]) in grams for i in range(len(w) - 4)), s
