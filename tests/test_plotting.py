"""Spectrogram / alignment pictures: panels, axis labels, atomic PNG writes."""

import os

import numpy as np

from audiogen_tf import plotting


def test_axis_labels_per_panel_and_defaults():
    import matplotlib.pyplot as plt

    fig = plotting._figure([np.zeros((5, 3)), np.zeros((7, 4))], ["alignment", "mel"],
                           axis_labels=[("decoder step", "text symbol"), None])
    try:
        axes = [ax for ax in fig.get_axes() if ax.get_title()]  # the panels, not their colorbars
        assert (axes[0].get_xlabel(), axes[0].get_ylabel()) == ("decoder step", "text symbol")
        assert (axes[1].get_xlabel(), axes[1].get_ylabel()) == ("frame", "bin")
    finally:
        plt.close(fig)


def test_save_png_writes_a_complete_file_and_no_temporary(tmp_path):
    path = plotting.save_spectrogram_png(tmp_path / "a.png", [np.random.default_rng(0).normal(size=(20, 8))],
                                         axis_labels=[("decoder step", "text symbol")])
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(tmp_path) == ["a.png"]
