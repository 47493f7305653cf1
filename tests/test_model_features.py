"""Models own their features: a ``.keras`` vocoder loaded alone, in a fresh process with nothing but
``keras.saving.load_model``, makes the very mel its training pipeline made and the same audio.

Also: the family registry (every recipe family has a zoo side and a training side), and no silent ``MelConfig()``.
"""

import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from audiogen_tf.errors import ConfigError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A fresh interpreter: import the zoo (it registers the classes), load the file, compute the mel of the training
# audio with the model's own settings and vocode the training mel.
_LOADER = r"""
import json, sys
import numpy as np
import keras
from zoo.families import zoo_families
zoo_families()
model = keras.saving.load_model(sys.argv[1])
batch = np.load(sys.argv[2])
mel = np.asarray(model.features_of(batch["utterance"][None]))[0]
audio = np.asarray(model(batch["mel"], training=False))
np.savez(sys.argv[3], mel=mel, audio=audio)
print(json.dumps(model.feature_settings.to_dict()))
"""


def _locate(segment, hop, manifest, sample_rate):
    """(the utterance holding ``segment``, the segment's start sample, a multiple of ``hop``)."""
    from audiogen_tf import audio as audio_io
    from audiogen_tf.manifest import load_entries

    for entry in load_entries(manifest):
        x, _ = audio_io.load(entry["path"], sr=sample_rate)
        for start in range(0, len(x) - len(segment) + 1, hop):
            if np.allclose(x[start: start + len(segment)], segment, atol=1e-6):
                return x.astype(np.float32), start
    raise AssertionError("the training segment is in no file of the manifest")


@pytest.fixture(scope="module")
def notes_16k(tmp_path_factory):
    from audiogen_tf.datasets.notes import make_notes

    return make_notes(tmp_path_factory.mktemp("notes"), sample_rate=16000, seconds=0.5, pitches=range(60, 64),
                      timbres=["flute", "organ"], variations=1, progress=False)


@pytest.mark.parametrize("family, preset", [("hifigan", "hifigan_tiny"), ("istft_vocoder", "istft_vocoder_tiny")])
def test_keras_vocoder_alone_reproduces_training_features_and_output(tmp_path, notes_16k, family, preset):
    from training.recipes import load_recipe
    from training.run import build_models, dataset_fn, save_model

    # features unlike any default: 16 kHz, 40 mels, fmax 7 kHz, log floor 1e-4
    recipe = load_recipe(family, [f"generator_preset={preset}", f"discriminator_preset={preset}",
                                  "sample_rate=16000", "mel.sample_rate=16000", "mel.n_mels=40", "mel.fmax=7000.0",
                                  "mel.log_floor=0.0001", "batch_size=2", "segment_length=4096"])
    generator = build_models(recipe)["generator"]
    batch = next(iter(dataset_fn(recipe, notes_16k)(2, 1, 0)))
    audio, mel = np.asarray(batch["audio"]), np.asarray(batch["mel"])
    expected = np.asarray(generator(mel, training=False))
    path = save_model(generator, tmp_path / "vocoder.keras")
    # the training mel of a segment is the utterance's mel at the segment's frames: find the utterance and offset
    hop = recipe.mel_config().hop_length
    utterance, start = _locate(audio[0], hop, notes_16k, recipe.sample_rate)
    np.savez(tmp_path / "batch.npz", utterance=utterance, mel=mel)

    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", _LOADER, path, str(tmp_path / "batch.npz"), str(tmp_path / "out.npz")],
                          capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    settings = json.loads(done.stdout.strip().splitlines()[-1])
    assert settings == recipe.mel_config().to_dict()
    got = np.load(tmp_path / "out.npz")
    frames = mel.shape[1]  # the training pipeline's mel, from the file alone
    np.testing.assert_allclose(got["mel"][start // hop: start // hop + frames], mel[0], atol=2e-4)
    np.testing.assert_allclose(got["audio"], expected, atol=1e-6)


def test_every_vocoder_preset_carries_complete_features():
    from audiogen_tf.features import MelConfig
    from zoo.families import zoo_families

    fields = {f for f in MelConfig.__dataclass_fields__}
    for fam in zoo_families().values():
        if fam.features != "mel_config":
            continue
        for preset in fam.generator.presets():
            from audiogen_tf.registry import get_preset

            assert set(get_preset(fam.generator, preset)["mel_config"]) == fields, (fam.name, preset)


def test_no_silent_default_mel():
    from audiogen_tf.features import log_mel_to_audio
    from audiogen_tf.losses import MelL1Loss, mel_l1_loss
    from zoo.hifigan.hifigan_generator import HiFiGANGenerator

    x = np.zeros((1, 2048), "float32")
    with pytest.raises(ConfigError, match="mel_config"):
        mel_l1_loss(x, x, None)
    with pytest.raises(ConfigError, match="mel_config"):
        MelL1Loss()
    with pytest.raises(ConfigError, match="MelConfig"):
        log_mel_to_audio(np.zeros((4, 80), "float32"), None)
    bare = HiFiGANGenerator.from_preset("hifigan_tiny", mel_config=None)  # as a file of an older version loads
    with pytest.raises(ConfigError, match="carries no mel settings"):
        bare.feature_settings
    carried = HiFiGANGenerator.from_preset("hifigan_tiny").mel_config
    with pytest.raises(ConfigError, match="hop_length"):
        HiFiGANGenerator.from_preset("hifigan_tiny", mel_config={**carried, "hop_length": 200})

def test_every_recipe_family_is_registered_on_both_sides():
    from training.families import train_families
    from training.recipes import RECIPE_DIR, load_recipe
    from zoo.families import zoo_families

    assert set(train_families()) <= set(zoo_families())
    for name in sorted(f[:-5] for f in os.listdir(RECIPE_DIR) if f.endswith(".yaml")):
        recipe = load_recipe(name, check_models=False)
        assert type(recipe) is train_families()[recipe.family].recipe
