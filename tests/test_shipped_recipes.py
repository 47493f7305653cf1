"""The recipes of shipped and in-training models run through `audiogen train`'s path for a few steps on tiny data
(the tiny presets stand in for the real sizes): istft_vocoder_slt's two stages in one run folder, and the
universal vocoder's recipe."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import soundfile as sf

from audiogen_tf.manifest import write_manifest
from training.recipes import load_recipe
from training.run import train

TINY = ["generator_preset=istft_vocoder_tiny", "discriminator_preset=istft_vocoder_tiny", "batch_size=2",
        "segment_length=2048", "steps_per_epoch=2", "checkpoint_every=2", "snapshot_minutes=null"]


@pytest.fixture(scope="module")
def speech_manifests(tmp_path_factory):
    """Two manifests (two 'voices') of 22.05 kHz harmonic tones with train / test splits."""
    folder = tmp_path_factory.mktemp("voices")
    t = np.arange(int(0.4 * 22050)) / 22050
    paths = []
    for voice, f0 in (("a", 110.0), ("b", 210.0)):
        rows = []
        for i, split in enumerate(["train", "train", "test"]):
            x = sum(np.sin(2 * np.pi * f0 * (1 + 0.05 * i) * k * t) / k for k in range(1, 6)) * 0.2
            path = os.path.join(folder, f"{voice}{i}.wav")
            sf.write(path, x.astype(np.float32), 22050)
            rows.append({"path": path, "split": split})
        paths.append(write_manifest(rows, os.path.join(folder, f"{voice}.csv")))
    return paths


def test_istft_vocoder_slt_stages_run_in_one_folder(speech_manifests, tmp_path):
    run = str(tmp_path / "run")
    data = f"data=[{speech_manifests[0]}, {speech_manifests[1]}]"
    first = load_recipe("istft_vocoder_slt", TINY + [data, "steps=2"])
    assert first.data_split == "train" and first.minutes == 100 and first.schedule_length == 150
    result = train(first, out=run, verbose=0)
    assert result.step == 2 and os.path.exists(os.path.join(run, "clock.json"))
    second = load_recipe("istft_vocoder_slt_stage2", TINY + [data, "steps=4"])
    assert (second.minutes, second.schedule_length, second.losses) == (130, 130, first.losses)
    resumed = train(second, out=run, verbose=0)
    assert resumed.resumed_from == 2 and resumed.step == 4


def test_istft_vocoder_universal_recipe_runs(speech_manifests, tmp_path):
    recipe = load_recipe("istft_vocoder_universal", TINY + ["init_from=null", "steps=2", "generator_warmup_steps=1"])
    assert recipe.init_from is None and recipe.losses["weighted_phase"] == 10.0
    result = train(recipe, data=speech_manifests[1], out=str(tmp_path / "run"), verbose=0)
    assert result.step == 2 and result.model_path
