"""Spectrogram pictures (matplotlib, headless) for the CLI, the demo and TensorBoard."""

from __future__ import annotations

import io
import os

import numpy as np

from audiogen_tf.atomic import atomic_path


def _figure(spectrograms, titles=None, sample_rate=None, hop_length=None, axis_labels=None, columns=1):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spectrograms = [np.asarray(s, np.float32) for s in spectrograms]
    titles = list(titles) if titles is not None else [""] * len(spectrograms)
    axis_labels = list(axis_labels) if axis_labels is not None else [None] * len(spectrograms)
    columns = max(1, min(int(columns), len(spectrograms)))
    rows = -(-len(spectrograms) // columns)
    size = (8, 2.4 * rows) if columns == 1 else (3.6 * columns, 2.6 * rows)
    fig, axes = plt.subplots(rows, columns, figsize=size, squeeze=False)
    for ax in axes.flat[len(spectrograms):]:
        ax.set_visible(False)
    for ax, spec, title, labels in zip(axes.flat, spectrograms, titles, axis_labels):
        frames = spec.shape[0]
        extent = None
        xlabel = "frame"
        if sample_rate and hop_length:
            extent = [0, frames * hop_length / sample_rate, 0, spec.shape[1]]
            xlabel = "seconds"
        image = ax.imshow(spec.T, origin="lower", aspect="auto", interpolation="nearest", extent=extent)
        ax.set_title(title, fontsize=9)
        xlabel, ylabel = labels if labels else (xlabel, "bin")
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        fig.colorbar(image, ax=ax, pad=0.01)
    fig.tight_layout()
    return fig


def save_spectrogram_png(path, spectrograms, titles=None, sample_rate=None, hop_length=None, axis_labels=None,
                         columns: int = 1) -> str:
    """Write one PNG with a panel per spectrogram (each ``(frames, bins)``), atomically.

    Args:
        path: output ``.png`` file.
        spectrograms: list of arrays ``(frames, bins)``, e.g. log-mels.
        titles: one title per panel.
        sample_rate, hop_length: label the time axis in seconds when both are given.
        axis_labels: one ``(x label, y label)`` per panel (e.g. ``("decoder step", "text symbol")`` for an
            attention alignment), or None for the defaults.
        columns: panels side by side per row (1: one above the other).
    """
    import matplotlib.pyplot as plt

    path = os.fspath(path)
    fig = _figure(spectrograms, titles, sample_rate, hop_length, axis_labels, columns)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=100)
    finally:
        plt.close(fig)
    return path


def spectrogram_figure_array(spectrograms, titles=None, sample_rate=None, hop_length=None) -> np.ndarray:
    """The same picture as :func:`save_spectrogram_png`, as an RGB ``uint8`` array ``(height, width, 3)``."""
    import matplotlib.pyplot as plt

    fig = _figure(spectrograms, titles, sample_rate, hop_length)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=80)
    finally:
        plt.close(fig)
    buf.seek(0)
    image = plt.imread(buf, format="png")
    return (np.clip(image[..., :3], 0, 1) * 255).astype(np.uint8)
