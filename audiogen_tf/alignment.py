"""CTC and alignment ops: CTC loss and decoding, the forward-sum alignment loss, the beta-binomial prior,
monotonic alignment search (Viterbi over a soft alignment), the binarization loss and a static-shape length
regulator.

Text-to-frame alignment as in RAD-TTS / FastPitch: an aligner scores every (mel frame, text token) pair; the
**forward-sum** loss is the CTC of the frame sequence against the token sequence ``1..N`` (every token visited
once, in order; class 0 is a blank), so it sums the probability of every monotonic alignment; the static
**beta-binomial prior** pushes the soft alignment towards the diagonal early in training; the **monotonic
alignment search** (MAS) takes the most likely monotonic path as the hard alignment, whose column sums are the
token durations; the **binarization** term pulls the soft alignment towards that hard one.

Example:
    >>> import numpy as np
    >>> logp = np.log(np.array([[.9, .1], [.6, .4], [.2, .8]], "float32"))   # 3 frames x 2 tokens
    >>> monotonic_alignment_search(logp).argmax(1).tolist(), durations_from_alignment(monotonic_alignment_search(logp)).tolist()
    ([0, 0, 1], [2, 1])

Papers: Graves et al. 2006 (CTC); Badlani et al. 2021, "One TTS Alignment To Rule Them All" (arXiv:2108.10447);
Kim et al. 2020, "Glow-TTS" (monotonic alignment search, arXiv:2005.11129); Ren et al. 2019, "FastSpeech"
(length regulator, arXiv:1905.09263).
"""

from __future__ import annotations

import numpy as np
from keras import ops

from audiogen_tf.layers.attention import beta_binomial_pmf

NEG_INF = -1e4  # a large negative logit: exp() underflows to 0 and stays finite in float32 and float16


# ------------------------------------------------------------------------------------------- CTC
def ctc_loss(labels, logits, label_lengths, logit_lengths, blank=0, per_symbol=True):
    """Mean CTC loss of a batch (``tf.nn.ctc_loss``).

    Off TPU the labels go to TensorFlow's fused CTC kernel as a ``SparseTensor`` (loss and gradient in one pass):
    on 2 CPU cores the CTC TTS's forward-sum loss of a festival batch (16 x 399 frames) took 39 ms against 1842 ms
    on the dense-label path (``keras.ops.ctc_loss``), which runs the forward-backward recursion as a ``scan`` of
    small ops. TPUs take dense labels only, so there it is the dense path. Both give the
    same loss and gradient. An item whose labels cannot fit its frames (fewer frames than labels plus a blank
    between repeats) has no path: it counts 0 in both, so one bad utterance does not poison a batch.

    Args:
        labels: int (batch, max_label) class ids, padded with anything (only ``label_lengths`` are read).
        logits: (batch, frames, classes) unnormalized scores.
        label_lengths, logit_lengths: int (batch,).
        blank: the blank class id.
        per_symbol: divide each item's negative log-likelihood by its label length before the mean.

    Returns:
        scalar float32.
    """
    labels, label_lengths = ops.cast(labels, "int32"), ops.cast(label_lengths, "int32")
    logits, logit_lengths = ops.cast(logits, "float32"), ops.cast(logit_lengths, "int32")
    if _dense_ctc_only():
        nll = ops.ctc_loss(labels, logits, label_lengths, logit_lengths, mask_index=blank)
        nll = ops.where(_impossible(labels, label_lengths, logit_lengths), 0.0, nll)
    else:
        nll = _sparse_ctc_nll(labels, logits, label_lengths, logit_lengths, blank)
    if per_symbol:
        nll = nll / ops.maximum(ops.cast(label_lengths, "float32"), 1.0)
    return ops.mean(nll)


def _dense_ctc_only() -> bool:
    """True on a TPU, where ``tf.nn.ctc_loss`` takes dense labels only."""
    import tensorflow as tf

    return bool(tf.config.list_logical_devices("TPU"))


def _sparse_ctc_nll(labels, logits, label_lengths, logit_lengths, blank):
    """Per-item CTC negative log-likelihood through the fused kernel (blank moved to the last class, as it wants)."""
    import tensorflow as tf

    width = tf.shape(labels)[1]
    # an item with no path (labels plus a blank between repeats need more frames than it has) goes in with its
    # first label only (the kernel rejects empty labels), so its loss and gradient stay finite; it counts 0 below.
    # The kernel's own ignore_longer_outputs_than_inputs sees only the label count, not the blanks repeats need.
    impossible = _impossible(labels, label_lengths, logit_lengths)
    valid = tf.sequence_mask(tf.where(impossible, tf.minimum(label_lengths, 1), label_lengths), width)
    where = tf.where(valid)
    values = tf.gather_nd(labels, where)
    values = tf.where(values > blank, values - 1, values)  # ids above the blank move down one
    logits = tf.concat([logits[:, :, :blank], logits[:, :, blank + 1:], logits[:, :, blank:blank + 1]], axis=2)
    sparse = tf.SparseTensor(where, values, tf.cast(tf.stack([tf.shape(labels)[0], width]), tf.int64))
    nll = tf.compat.v1.nn.ctc_loss(sparse, logits, logit_lengths, preprocess_collapse_repeated=False,
                                   ctc_merge_repeated=True, ignore_longer_outputs_than_inputs=True, time_major=False)
    return tf.where(impossible, 0.0, nll)


def _impossible(labels, label_lengths, logit_lengths):
    """True where the labels plus a blank between repeated labels need more frames than the item has."""
    width = ops.shape(labels)[1]
    valid = ops.arange(width) < ops.expand_dims(label_lengths, 1)
    repeats = ops.sum(ops.cast((labels[:, 1:] == labels[:, :-1]) & valid[:, 1:], "int32"), axis=1)
    return label_lengths + repeats > logit_lengths


def ctc_decode(logits, logit_lengths, beam_width=1, blank=0):
    """Greedy (``beam_width=1``) or beam-search CTC decoding -> list of int id arrays (blanks and repeats removed).

    Args:
        logits: (batch, frames, classes); logit_lengths: int (batch,).
        beam_width: 1 for greedy (best path), more for ``tf.nn.ctc_beam_search_decoder``.

    Example:
        >>> x = np.log(np.array([[[.1, .9, 0], [.1, .9, 0], [.9, .1, 0], [.1, .8, .1], [.1, .1, .8]]], "float32") + 1e-6)
        >>> [a.tolist() for a in ctc_decode(x, np.array([5]))]
        [[1, 1, 2]]
    """
    strategy = "greedy" if int(beam_width) <= 1 else "beam_search"
    kw = {} if strategy == "greedy" else {"beam_width": int(beam_width), "top_paths": 1}
    decoded, _ = ops.ctc_decode(ops.cast(logits, "float32"), ops.cast(logit_lengths, "int32"), strategy=strategy,
                                mask_index=blank, **kw)
    out = np.asarray(ops.convert_to_numpy(decoded[0]))
    return [row[(row >= 0) & (row != blank)].astype(np.int64) for row in out]


# ------------------------------------------------------------------------------------------- prior
def beta_binomial_prior(text_length: int, mel_length: int, scaling: float = 1.0) -> np.ndarray:
    """Static alignment prior (mel_length, text_length): row ``t`` is the beta-binomial pmf over the tokens with
    ``alpha = scaling * (t + 1)``, ``beta = scaling * (T - t)``, so its mass moves along the diagonal
    (Badlani et al. 2021, Sec. 3.2)."""
    t = np.arange(1, mel_length + 1)
    rows = [beta_binomial_pmf(int(text_length), scaling * float(i), scaling * float(mel_length - i + 1)) for i in t]
    return np.stack(rows).astype(np.float32)


def batch_log_prior(text_lengths, mel_lengths, max_text: int, max_mel: int, scaling: float = 1.0) -> np.ndarray:
    """log prior (batch, max_mel, max_text), 0 outside each item's (mel, text) box (NumPy; for ``tf.numpy_function``)."""
    out = np.zeros((len(text_lengths), max_mel, max_text), np.float32)
    for b, (n, t) in enumerate(zip(np.asarray(text_lengths).tolist(), np.asarray(mel_lengths).tolist())):
        n, t = max(int(n), 1), max(int(t), 1)
        out[b, :t, :n] = np.log(np.maximum(beta_binomial_prior(n, t, scaling), 1e-8))
    return out


# ------------------------------------------------------------------------------------------- MAS
def monotonic_alignment_search(log_probs, text_length: int | None = None, mel_length: int | None = None) -> np.ndarray:
    """Most likely monotonic hard alignment of one utterance: (frames, tokens) log-probs -> 0/1 matrix.

    Every frame is assigned exactly one token; the path starts at token 0 on frame 0, ends at the last token on the
    last frame and moves by 0 or 1 token per frame (so every token gets at least one frame when
    ``frames >= tokens``). Dynamic programming ``Q[t, n] = logp[t, n] + max(Q[t-1, n], Q[t-1, n-1])``, then
    backtracking (Glow-TTS's MAS). Padding outside ``(mel_length, text_length)`` is zero in the output.

    Args:
        log_probs: (frames, tokens) float, e.g. the aligner's log soft alignment.
        text_length, mel_length: the valid box (default the whole matrix).

    Returns:
        float32 (frames, tokens) one-hot rows inside the valid box.
    """
    lp = np.asarray(log_probs, np.float64)
    T = int(mel_length if mel_length is not None else lp.shape[0])
    N = int(text_length if text_length is not None else lp.shape[1])
    out = np.zeros(lp.shape, np.float32)
    if T <= 0 or N <= 0:
        return out
    if T < N:  # fewer frames than tokens: no path visits every token; give the frames to the first tokens in order
        out[np.arange(T), np.arange(T)] = 1.0
        return out
    lp = lp[:T, :N]
    q = np.full((T, N), -np.inf)
    q[0, 0] = lp[0, 0]
    for t in range(1, T):
        shifted = np.concatenate([[-np.inf], q[t - 1, :-1]])
        q[t] = lp[t] + np.maximum(q[t - 1], shifted)
    n = N - 1
    for t in range(T - 1, -1, -1):
        out[t, n] = 1.0
        if t > 0 and n > 0 and (n > t - 1 or q[t - 1, n - 1] >= q[t - 1, n]):
            n -= 1
    return out


def batch_monotonic_alignment_search(log_probs, text_lengths, mel_lengths) -> np.ndarray:
    """:func:`monotonic_alignment_search` over a batch: (batch, frames, tokens) -> (batch, frames, tokens) float32."""
    lp = np.asarray(log_probs)
    return np.stack([monotonic_alignment_search(lp[b], int(n), int(t))
                     for b, (n, t) in enumerate(zip(np.asarray(text_lengths), np.asarray(mel_lengths)))]).astype(np.float32)


def durations_from_alignment(hard):
    """Frames per token: column sums of a hard alignment (..., frames, tokens) -> int (..., tokens)."""
    return np.asarray(hard).sum(axis=-2).astype(np.int32)


# ------------------------------------------------------------------------------------------- losses
def forward_sum_loss(attn_log_probs, text_lengths, mel_lengths, blank_logit=-1.0):
    """Forward-sum (CTC) alignment loss of Badlani et al. 2021, mean over the batch of ``-log P / text_length``.

    The aligner's per-frame token scores (batch, frames, tokens) get a blank class 0 with the constant score
    ``blank_logit`` in front; padded tokens are masked out; the CTC target of every item is ``1..text_length``.

    Args:
        attn_log_probs: (batch, frames, tokens) log soft alignment (log-softmax over tokens, prior included).
        text_lengths, mel_lengths: int (batch,).
    """
    x = ops.cast(attn_log_probs, "float32")
    b, n = ops.shape(x)[0], ops.shape(x)[2]
    token_mask = ops.expand_dims(ops.arange(n) < ops.expand_dims(ops.cast(text_lengths, "int32"), 1), 1)  # (b,1,N)
    x = ops.where(token_mask, x, NEG_INF)
    blank = ops.full_like(x[:, :, :1], blank_logit)
    logits = ops.log_softmax(ops.concatenate([blank, x], axis=-1), axis=-1)
    targets = ops.broadcast_to(ops.expand_dims(ops.arange(1, n + 1, dtype="int32"), 0), (b, n))
    return ctc_loss(targets, logits, text_lengths, mel_lengths, blank=0, per_symbol=True)


def binarization_loss(hard, soft, eps=1e-12):
    """``-sum(hard * log soft) / sum(hard)``: the KL from the hard (MAS) to the soft alignment up to a constant."""
    hard = ops.cast(hard, "float32")
    logs = ops.log(ops.maximum(ops.cast(soft, "float32"), eps))
    return -ops.sum(hard * logs) / ops.maximum(ops.sum(hard), 1.0)


# ------------------------------------------------------------------------------------------- regulator
def length_regulate(encodings, durations, max_frames: int):
    """Repeat each token's encoding ``durations[n]`` times into ``max_frames`` static frames (FastSpeech).

    Frame ``t`` takes token ``#{n : cumsum(d)_n <= t}`` (a compare-and-sum, then a one-hot matmul: builtin TFLite
    ops, static shapes); frames past ``sum(d)`` are zero. Also returns each frame's position inside its token
    (0 at the token's first frame, towards 1 at its last) and the frame mask.

    Args:
        encodings: (batch, tokens, dim); durations: (batch, tokens) non-negative (int or rounded float).
        max_frames: the static number of output frames.

    Returns:
        ``(frames (batch, max_frames, dim), position (batch, max_frames, 1), mask (batch, max_frames) float)``.

    Example:
        >>> x = np.arange(6, dtype="float32").reshape(1, 3, 2)
        >>> f, p, m = length_regulate(x, np.array([[1, 0, 2]]), 4)
        >>> np.asarray(f)[0, :, 0].tolist(), np.asarray(m)[0].tolist()
        ([0.0, 4.0, 4.0, 0.0], [1.0, 1.0, 1.0, 0.0])
    """
    d = ops.cast(durations, "float32")
    n = ops.shape(encodings)[1]
    ends = ops.cumsum(d, axis=1)  # (b, N)
    t = ops.cast(ops.arange(max_frames), "float32")
    t = ops.reshape(t, (1, -1, 1))
    index = ops.sum(ops.cast(ops.expand_dims(ends, 1) <= t, "int32"), axis=-1)  # (b, F)
    total = ends[:, -1:]  # (b, 1)
    mask = ops.cast(ops.squeeze(t, -1) < total, "float32")  # (b, F)
    onehot = ops.one_hot(ops.minimum(index, n - 1), n, dtype=encodings.dtype) * ops.cast(ops.expand_dims(mask, -1),
                                                                                         encodings.dtype)
    frames = ops.matmul(onehot, encodings)
    starts = ends - d
    start_t = ops.sum(onehot * ops.cast(ops.expand_dims(starts, 1), encodings.dtype), axis=-1)
    dur_t = ops.sum(onehot * ops.cast(ops.expand_dims(d, 1), encodings.dtype), axis=-1)
    position = (ops.cast(ops.squeeze(t, -1), encodings.dtype) - start_t) / ops.maximum(dur_t, 1.0)
    return frames, ops.expand_dims(position * ops.cast(mask, encodings.dtype), -1), mask
