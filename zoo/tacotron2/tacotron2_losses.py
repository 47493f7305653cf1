"""Tacotron 2 losses (masked mel MSE/L1, stop-token BCE, guided attention) and an alignment diagonality score.

All losses ignore padding: mel frames at or beyond ``mel_lengths`` and text positions at or beyond
``text_lengths`` carry no weight. Stop targets are 1 from the decoder step holding the last real frame on
(padded steps included, which teaches the model to keep the stop token on).

Example:
    >>> import numpy as np
    >>> a = np.eye(4, dtype="float32")[None]            # (batch, steps, text)
    >>> float(guided_attention_loss(a, [4], [4])) < 0.05, round(diagonality_score(a[0]), 3)
    (True, 1.0)

Papers: Shen et al. 2018 (arXiv:1712.05884), Sec. 2.3 (losses of Tacotron 2); Tachibana, Uenoyama & Aihara
2017, "Efficiently Trainable Text-to-Speech System Based on Deep Convolutional Networks with Guided
Attention" (arXiv:1710.08969), Sec. 4.1 (guided attention, g = 0.2).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def sequence_mask(lengths, max_length, dtype="float32"):
    """(batch,) lengths -> (batch, max_length) 1.0 for positions < length."""
    lengths = ops.cast(ops.reshape(lengths, (-1,)), "int32")
    return ops.cast(ops.expand_dims(ops.arange(max_length), 0) < ops.expand_dims(lengths, 1), dtype)


def decoder_lengths(mel_lengths, reduction_factor):
    """Decoder steps that hold real frames: ``ceil(mel_lengths / r)``."""
    mel_lengths = ops.cast(ops.reshape(mel_lengths, (-1,)), "int32")
    return (mel_lengths + reduction_factor - 1) // reduction_factor


def masked_mel_loss(target, prediction, mel_lengths, l1_weight=0.0):
    """Mean squared (+ ``l1_weight`` x mean absolute) error over the real frames only.

    Args:
        target, prediction: (batch, frames, n_mels).
        mel_lengths: (batch,) real frames per utterance.
        l1_weight: weight of the L1 term (0 = MSE only).

    Example:
        >>> import numpy as np
        >>> t = np.zeros((1, 4, 2), "float32"); p = t.copy(); p[0, 3] = 9.0
        >>> float(masked_mel_loss(t, p, [3]))
        0.0
    """
    target = ops.cast(target, "float32")
    prediction = ops.cast(prediction, "float32")
    mask = ops.expand_dims(sequence_mask(mel_lengths, ops.shape(target)[1]), -1)
    count = ops.maximum(ops.sum(mask) * ops.cast(ops.shape(target)[-1], "float32"), 1.0)
    diff = (prediction - target) * mask
    loss = ops.sum(ops.square(diff)) / count
    if l1_weight:
        loss = loss + l1_weight * ops.sum(ops.abs(diff)) / count
    return loss


def stop_targets(mel_lengths, num_steps, reduction_factor=1):
    """(batch, num_steps) 1.0 from the step holding frame ``mel_length - 1`` on, else 0.0."""
    last = ops.expand_dims(decoder_lengths(mel_lengths, reduction_factor) - 1, 1)
    return ops.cast(ops.expand_dims(ops.arange(num_steps), 0) >= last, "float32")


def stop_token_loss(stop_logits, mel_lengths, reduction_factor=1, pos_weight=1.0):
    """Binary cross-entropy of the stop logits (batch, steps) against :func:`stop_targets`.

    ``pos_weight`` up-weights the (rare) stop steps.
    """
    logits = ops.cast(stop_logits, "float32")
    targets = stop_targets(mel_lengths, ops.shape(logits)[1], reduction_factor)
    # numerically stable BCE with logits: max(x,0) - x z + log(1 + exp(-|x|))
    bce_pos = ops.softplus(-logits)  # -log sigmoid(x)
    bce_neg = ops.softplus(logits)  # -log(1 - sigmoid(x))
    return ops.mean(pos_weight * targets * bce_pos + (1.0 - targets) * bce_neg)


def guided_attention_weights(text_lengths, dec_lengths, num_text, num_steps, sigma=0.2):
    """Penalty ``W[s, n] = 1 - exp(-(n/N - s/S)^2 / (2 sigma^2))`` per utterance, 0 outside the real region.

    Args:
        text_lengths, dec_lengths: (batch,) ``N`` and ``S`` of each utterance.
        num_text, num_steps: padded sizes. Returns (batch, num_steps, num_text).
    """
    n_len = ops.cast(ops.reshape(text_lengths, (-1, 1, 1)), "float32")
    s_len = ops.cast(ops.reshape(dec_lengths, (-1, 1, 1)), "float32")
    n = ops.reshape(ops.cast(ops.arange(num_text), "float32"), (1, 1, -1))
    s = ops.reshape(ops.cast(ops.arange(num_steps), "float32"), (1, -1, 1))
    w = 1.0 - ops.exp(-ops.square(n / ops.maximum(n_len, 1.0) - s / ops.maximum(s_len, 1.0)) / (2.0 * sigma**2))
    valid = ops.cast((n < n_len) & (s < s_len), "float32")
    return w * valid, valid


def guided_attention_loss(alignments, text_lengths, dec_lengths, sigma=0.2):
    """Mean of ``alignments * W`` over the real (step, text) cells (Tachibana et al. 2017).

    Args:
        alignments: (batch, steps, text) attention weights.
        text_lengths: (batch,) real text symbols; dec_lengths: (batch,) real decoder steps.
        sigma: width ``g`` of the allowed band (0.2).
    """
    alignments = ops.cast(alignments, "float32")
    shape = ops.shape(alignments)
    w, valid = guided_attention_weights(text_lengths, dec_lengths, shape[2], shape[1], sigma)
    return ops.sum(alignments * w) / ops.maximum(ops.sum(valid), 1.0)


def tacotron2_losses(inputs, targets, outputs, reduction_factor=1, mel_l1_weight=0.0, stop_weight=1.0,
                     stop_pos_weight=1.0, guided_attention_weight=0.0, guided_attention_sigma=0.2):
    """All loss terms of a teacher-forced batch -> dict with ``loss`` (the weighted sum) and each term.

    Args:
        inputs: dict with ``text_lengths`` (batch,).
        targets: dict with ``mel`` (batch, frames, n_mels) and ``mel_lengths`` (batch,).
        outputs: the model's dict: ``mel_before``, ``mel_after``, ``stop_logits``, ``alignments``.
    """
    mel, mel_lengths = targets["mel"], targets["mel_lengths"]
    out = {
        "mel_loss": masked_mel_loss(mel, outputs["mel_before"], mel_lengths, mel_l1_weight),
        "postnet_loss": masked_mel_loss(mel, outputs["mel_after"], mel_lengths, mel_l1_weight),
        "stop_loss": stop_token_loss(outputs["stop_logits"], mel_lengths, reduction_factor, stop_pos_weight),
    }
    total = out["mel_loss"] + out["postnet_loss"] + stop_weight * out["stop_loss"]
    if guided_attention_weight:
        out["guided_attention_loss"] = guided_attention_loss(
            outputs["alignments"], inputs["text_lengths"], decoder_lengths(mel_lengths, reduction_factor),
            guided_attention_sigma,
        )
        total = total + guided_attention_weight * out["guided_attention_loss"]
    out["loss"] = total
    return out


def diagonality_score(alignment, text_length=None, decoder_length=None, band=0.1) -> float:
    """Mean over decoder steps of the attention mass within ``band`` of the diagonal (1 = on the diagonal).

    Positions are normalized, ``|(n + 0.5)/N - (s + 0.5)/S| <= band``; a uniform alignment scores about
    ``2 * band``. A batch (batch, steps, text) with per-utterance lengths gives the mean score.

    Args:
        alignment: (steps, text) or (batch, steps, text) weights.
        text_length, decoder_length: real sizes (int or (batch,)); default the full sizes.
        band: half-width of the band as a fraction of the axes.

    Example:
        >>> import numpy as np
        >>> diagonality_score(np.eye(8)), round(diagonality_score(np.full((40, 40), 1 / 40)), 2)
        (1.0, 0.2)
    """
    a = np.asarray(keras.ops.convert_to_numpy(alignment), dtype=np.float64)
    if a.ndim == 3:
        b = a.shape[0]
        tl = np.broadcast_to(np.asarray(a.shape[2] if text_length is None else text_length), (b,))
        dl = np.broadcast_to(np.asarray(a.shape[1] if decoder_length is None else decoder_length), (b,))
        return float(np.mean([diagonality_score(a[i], int(tl[i]), int(dl[i]), band) for i in range(b)]))
    n_len = a.shape[1] if text_length is None else int(text_length)
    s_len = a.shape[0] if decoder_length is None else int(decoder_length)
    a = a[:s_len, :n_len]
    n = (np.arange(n_len) + 0.5) / n_len
    s = (np.arange(s_len) + 0.5) / s_len
    inside = np.abs(n[None, :] - s[:, None]) <= band
    return float(np.mean(np.sum(a * inside, axis=1)))
