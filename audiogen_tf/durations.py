"""Durations (frames per token) as a hard alignment, in NumPy: no TensorFlow, so the on-device ``say --tflite`` path
draws a CTC TTS's alignment without importing the model's module."""

from __future__ import annotations

import numpy as np


def durations_to_alignment(durations, frames: int | None = None) -> np.ndarray:
    """Frames per token (tokens,) -> the hard alignment (frames, tokens), 1 where a frame belongs to a token (the
    picture ``audiogen say --png`` draws for a duration model; rows past the last token stay 0).

    Example:
        >>> durations_to_alignment([2, 1]).tolist()
        [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
    """
    durations = np.maximum(np.asarray(durations, np.int64).reshape(-1), 0)
    ends = np.cumsum(durations)
    total = int(ends[-1]) if durations.size else 0
    frames = total if frames is None else int(frames)
    token_of_frame = np.searchsorted(ends, np.arange(min(frames, total)), side="right")
    alignment = np.zeros((frames, durations.size), np.float32)
    alignment[np.arange(token_of_frame.size), token_of_frame] = 1.0
    return alignment
