"""CTC and alignment ops (audiogen_tf.alignment) and the character error rate: CTC loss against a brute-force sum
over paths, greedy / beam decoding, MAS against a brute-force search, forward-sum loss falls on a toy alignment,
the beta-binomial prior, binarization and the static-shape length regulator."""

import itertools
import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf

from audiogen_tf.alignment import (batch_log_prior, batch_monotonic_alignment_search, beta_binomial_prior,
                                   binarization_loss, ctc_decode, ctc_loss, durations_from_alignment,
                                   forward_sum_loss, length_regulate, monotonic_alignment_search)
from audiogen_tf.metrics import character_edits, character_error_rate


def _collapse(path, blank=0):
    out, prev = [], None
    for s in path:
        if s != prev and s != blank:
            out.append(s)
        prev = s
    return out


def _brute_ctc_nll(logits, labels):
    """-log sum over every frame path that collapses to ``labels`` (NumPy, tiny sizes only)."""
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    total = -np.inf
    for path in itertools.product(range(logits.shape[1]), repeat=logits.shape[0]):
        if _collapse(path) == list(labels):
            total = np.logaddexp(total, sum(logp[t, s] for t, s in enumerate(path)))
    return -total


def test_ctc_loss_equals_brute_force_sum_over_paths():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 5, 3)).astype(np.float32)
    labels = np.array([[1, 2], [2, 0]], np.int32)
    label_lengths, logit_lengths = np.array([2, 1]), np.array([5, 4])
    want = [_brute_ctc_nll(logits[0, :5], [1, 2]), _brute_ctc_nll(logits[1, :4], [2])]
    got = float(ctc_loss(labels, logits, label_lengths, logit_lengths, per_symbol=False))
    assert got == pytest.approx(np.mean(want), rel=1e-4)
    per_symbol = float(ctc_loss(labels, logits, label_lengths, logit_lengths))
    assert per_symbol == pytest.approx((want[0] / 2 + want[1]) / 2, rel=1e-4)


@pytest.mark.parametrize("blank", [0, 2])
def test_fused_sparse_ctc_equals_the_dense_path_in_loss_and_gradient(blank):
    """The CPU / GPU path (sparse labels, fused kernel) against keras.ops.ctc_loss (dense labels, the TPU path):
    repeated labels, padding, a blank that is not class 0, an item too long for its frames and one whose labels fit
    its frames but not with the blank its repeat needs (both count 0, with a finite gradient)."""
    import tensorflow as tf
    from keras import ops

    from audiogen_tf import alignment

    rng = np.random.default_rng(1)
    logits = tf.constant(rng.normal(size=(5, 9, 5)).astype(np.float32))
    labels = np.array([[1, 1, 3, 4], [3, 4, 0, 0], [4, 3, 1, 1], [1, 3, 4, 1], [1, 1, 3, 4]], np.int32)
    labels = np.where(labels == blank, 0 if blank else 2, labels)  # no label is the blank
    # the last two cannot fit: 4 labels in 3 frames; 3 labels in 3 frames, but "1 1" needs a blank between
    label_lengths, logit_lengths = np.array([4, 2, 3, 4, 3]), np.array([9, 6, 9, 3, 3])

    def both(x):
        sparse = alignment._sparse_ctc_nll(tf.constant(labels), x, tf.constant(label_lengths, tf.int32),
                                           tf.constant(logit_lengths, tf.int32), blank)
        dense = ops.ctc_loss(labels, x, label_lengths, logit_lengths, mask_index=blank)
        return sparse, dense

    with tf.GradientTape(persistent=True) as tape:
        tape.watch(logits)
        sparse, dense = both(logits)
        fin_s, fin_d, all_s = tf.reduce_sum(sparse[:3]), tf.reduce_sum(dense[:3]), tf.reduce_sum(sparse)
    np.testing.assert_allclose(sparse.numpy()[:3], dense.numpy()[:3], rtol=1e-5)
    assert sparse.numpy()[3:].tolist() == [0.0, 0.0] and np.isfinite(tape.gradient(all_s, logits).numpy()).all()
    assert float(alignment.ctc_loss(labels, logits, label_lengths, logit_lengths, blank=blank, per_symbol=False)) == \
        pytest.approx(float(tf.reduce_sum(dense[:3])) / 5, rel=1e-5)
    np.testing.assert_allclose(tape.gradient(fin_s, logits).numpy()[:3], tape.gradient(fin_d, logits).numpy()[:3],
                               atol=1e-5)


def test_greedy_and_beam_decoding():
    probs = np.array([[[.1, .8, .1], [.1, .8, .1], [.8, .1, .1], [.1, .8, .1], [.1, .1, .8], [.9, .05, .05]]], "f")
    logits = np.log(probs)
    assert [a.tolist() for a in ctc_decode(logits, np.array([6]))] == [[1, 1, 2]]
    assert [a.tolist() for a in ctc_decode(logits, np.array([6]), beam_width=8)] == [[1, 1, 2]]
    assert [a.tolist() for a in ctc_decode(logits, np.array([2]))] == [[1]]  # only the valid frames are read
    # beam search sums the paths of a labelling; greedy takes the single best path
    p = np.array([[[.4, .3, .3], [.4, .3, .3]]], "f")  # best path: blank blank; best labelling: "1" or "2"
    assert ctc_decode(np.log(p), np.array([2]))[0].tolist() == []
    assert len(ctc_decode(np.log(p), np.array([2]), beam_width=10)[0]) == 1


def _brute_mas(logp):
    t_len, n_len = logp.shape
    best, best_path = -np.inf, None
    for steps in itertools.product((0, 1), repeat=t_len - 1):  # token increments between frames
        path = np.concatenate([[0], np.cumsum(steps)])
        if path[-1] != n_len - 1:
            continue
        score = logp[np.arange(t_len), path].sum()
        if score > best:
            best, best_path = score, path
    return best_path, best


@pytest.mark.parametrize("seed", range(6))
def test_mas_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    t_len, n_len = int(rng.integers(3, 9)), int(rng.integers(1, 4))
    logp = rng.normal(size=(t_len, n_len))
    hard = monotonic_alignment_search(logp)
    path, score = _brute_mas(logp)
    np.testing.assert_array_equal(hard.argmax(1), path)
    assert np.all(hard.sum(1) == 1) and logp[hard > 0].sum() == pytest.approx(score)
    d = durations_from_alignment(hard)
    assert d.sum() == t_len and np.all(d >= 1)


def test_batch_mas_respects_lengths():
    rng = np.random.default_rng(7)
    logp = rng.normal(size=(2, 8, 4))
    hard = batch_monotonic_alignment_search(logp, [4, 2], [8, 5])
    np.testing.assert_array_equal(hard[1], np.pad(monotonic_alignment_search(logp[1, :5, :2]), [[0, 3], [0, 2]]))
    assert hard[1, 5:].sum() == 0 and hard[1, :, 2:].sum() == 0
    assert durations_from_alignment(hard).tolist()[1][:2] == monotonic_alignment_search(logp[1, :5, :2]).sum(0).tolist()


def test_forward_sum_loss_equals_ctc_of_frames_against_tokens_and_falls_on_a_toy_alignment():
    # 2 tokens over 4 frames: the loss is the CTC of the frame sequence against "1 2" with a blank of score -1
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(1, 4, 2)).astype(np.float32)
    logp = np.log(np.exp(scores) / np.exp(scores).sum(-1, keepdims=True))
    want = _brute_ctc_nll(np.concatenate([np.full((4, 1), -1.0), logp[0]], -1), [1, 2]) / 2
    assert float(forward_sum_loss(logp, [2], [4])) == pytest.approx(want, rel=1e-4)
    # padded tokens and frames do not count
    padded = np.pad(logp, [[0, 0], [0, 3], [0, 2]], constant_values=-3.0)
    assert float(forward_sum_loss(padded, [2], [4])) == pytest.approx(want, rel=1e-4)

    # learn the scores of a toy utterance (8 frames, 3 tokens) by gradient descent on the forward-sum loss: it falls,
    # and MAS on the learned scores gives a complete monotonic alignment
    feats = np.eye(8, dtype=np.float32)[None]  # one feature per frame
    w = tf.Variable(np.zeros((8, 3), np.float32))
    opt = keras.optimizers.Adam(0.1)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = forward_sum_loss(tf.nn.log_softmax(tf.matmul(feats, w), -1), [3], [8])
        opt.apply_gradients([(tape.gradient(loss, w), w)])
        return loss

    losses = [float(step()) for _ in range(60)]
    assert losses[-1] < 0.5 * losses[0]
    # the data fixes only the order, so any monotonic split is a solution; the path must be monotonic and complete
    hard = monotonic_alignment_search(np.asarray(tf.nn.log_softmax(tf.matmul(feats, w), -1))[0])
    path = hard.argmax(1)
    assert path[0] == 0 and path[-1] == 2 and np.all(np.diff(path) >= 0) and set(path) == {0, 1, 2}


def test_beta_binomial_prior_is_diagonal_and_normalized():
    prior = beta_binomial_prior(5, 20)
    np.testing.assert_allclose(prior.sum(1), 1.0, atol=1e-5)
    peaks = prior.argmax(1)
    assert peaks[0] == 0 and peaks[-1] == 4 and np.all(np.diff(peaks) >= 0)
    lp = batch_log_prior([5, 2], [20, 6], 6, 22)
    np.testing.assert_allclose(lp[0, :20, :5], np.log(np.maximum(prior, 1e-8)), atol=1e-5)
    assert np.all(lp[1, 6:] == 0) and np.all(lp[1, :, 2:] == 0)


def test_model_prior_layer_matches_numpy():
    from zoo.ctc_tts.ctc_tts_model import AlignerScores

    layer = AlignerScores(prior_scaling=1.0)
    got = np.asarray(layer.log_prior(np.array([5, 2]), np.array([20, 6]), 6, 22))
    np.testing.assert_allclose(got, batch_log_prior([5, 2], [20, 6], 6, 22), atol=1e-3)


def test_binarization_loss():
    hard = np.array([[[1, 0], [0, 1]]], np.float32)
    soft = np.array([[[0.5, 0.5], [0.1, 0.9]]], np.float32)
    assert float(binarization_loss(hard, soft)) == pytest.approx(-(math.log(0.5) + math.log(0.9)) / 2, rel=1e-5)
    assert float(binarization_loss(hard, hard)) == pytest.approx(0.0, abs=1e-6)


def test_length_regulator_equals_repeat():
    rng = np.random.default_rng(3)
    enc = rng.normal(size=(2, 4, 3)).astype(np.float32)
    d = np.array([[2, 0, 3, 1], [1, 1, 0, 0]])
    frames, position, mask = length_regulate(enc, d, 8)
    for b in range(2):
        want = np.repeat(enc[b], d[b], axis=0)
        np.testing.assert_allclose(np.asarray(frames)[b, : len(want)], want, atol=1e-6)
        assert np.all(np.asarray(frames)[b, len(want):] == 0)
        assert np.asarray(mask)[b].tolist() == [1.0] * len(want) + [0.0] * (8 - len(want))
    assert np.asarray(position)[0, :6, 0].tolist() == pytest.approx([0, 0.5, 0, 1 / 3, 2 / 3, 0])
    # more frames than fit: cut at max_frames
    frames, _, mask = length_regulate(enc, np.full((2, 4), 5), 8)
    assert np.asarray(mask).sum() == 16


def test_character_error_rate():
    assert character_error_rate("The cat.", "the cat") == 0.0
    assert character_error_rate("The cat.", "the bat") == pytest.approx(1 / 7)
    assert character_edits("abc", "") == (3, 3)
    assert character_error_rate("ab", "abcd") == pytest.approx(1.0)
    assert character_error_rate("", "") == 0.0 and character_error_rate("", "x") == math.inf
    assert character_error_rate("Hello,   world!", "hello world") == 0.0
