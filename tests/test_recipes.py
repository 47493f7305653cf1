"""Recipes: bundled YAML files load; unknown keys and bad values fail early, naming the key and the file."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from audiogen_tf.errors import ConfigError
from training.families._vocoder import GANVocoderRecipe
from training.families.composer import ComposerRecipe
from training.families.ctc_recognizer import CTCRecognizerRecipe
from training.families.ctc_tts import CTCTTSRecipe
from training.families.encoders import EncoderRecipe
from training.families.rnn import FrameRNNRecipe, WaveRNNRecipe
from training.families.tacotron2 import Tacotron2Recipe
from training.families.vae import VAERecipe
from training.families.vqvae import VQVAERecipe
from training.families.wavegan import SpecGANRecipe, WaveGANRecipe
from training.families.wavenet import WaveNetRecipe
from training.recipes import RECIPE_DIR, load_recipe, recipe_from_dict, recipe_path, save_recipe

BUNDLED = {"hifigan": GANVocoderRecipe, "melgan": GANVocoderRecipe, "multiband_melgan": GANVocoderRecipe,
           "istft_vocoder": GANVocoderRecipe,
           "wavegan": WaveGANRecipe, "wavenet": WaveNetRecipe, "encoders": EncoderRecipe,
           "specgan": SpecGANRecipe, "tacotron2": Tacotron2Recipe, "vae": VAERecipe, "vqvae": VQVAERecipe,
           "codec": VQVAERecipe, "frame_rnn": FrameRNNRecipe, "wavernn": WaveRNNRecipe,
           "ctc_recognizer": CTCRecognizerRecipe, "ctc_tts": CTCTTSRecipe, "composer": ComposerRecipe}


def test_every_bundled_recipe_loads_with_its_presets():
    """Every YAML of training/configs loads as its family's recipe type (a new family's recipe is found by the
    registry, with no list to extend); the table above pins the recipe types of the families of today."""
    from training.families import train_family

    names = sorted(f[:-5] for f in os.listdir(RECIPE_DIR) if f.endswith(".yaml"))
    assert set(BUNDLED) <= set(names)
    for name in names:
        recipe = load_recipe(name)  # also checks preset names and the mel hop against the generator
        assert type(recipe) is train_family(recipe.family).recipe and recipe.name == name
        assert name not in BUNDLED or type(recipe) is BUNDLED[name]
    hifi = load_recipe("hifigan")
    assert (hifi.losses["mel"], hifi.losses["feature_matching"], hifi.beta_1, hifi.mel_config().hop_length) == (45.0, 2.0, 0.8, 256)
    assert hifi.loss_options == {"feature_matching_include_score": True}
    assert load_recipe("wavegan").n_critic == 5
    assert load_recipe("multiband_melgan").mel_config().hop_length == 200  # 2 * 5 * 5 upsampling x 4 sub-bands


def test_overrides_are_parsed_as_yaml_and_reach_into_dicts():
    r = load_recipe("hifigan", ["steps=7", "learning_rate=1e-3", "deterministic=true", "mel.n_mels=40",
                                "generator_preset=hifigan_tiny", "generator_overrides.upsample_initial_channel=8",
                                "d_learning_rate=null"])
    assert (r.steps, r.learning_rate, r.deterministic, r.mel_config().n_mels) == (7, 1e-3, True, 40)
    assert r.generator_overrides == {"upsample_initial_channel": 8} and r.d_learning_rate is None


@pytest.mark.parametrize("override, key", [
    ("stepz=3", "stepz"),                                # unknown key
    ("steps=three", "steps"),                            # wrong type
    ("steps=2.5", "steps"),                              # float for an int
    ("batch_size=0", "batch_size"),                      # out of range
    ("on_nonfinite=ignore", "on_nonfinite"),             # not a choice
    ("precision=float16", "precision"),
    ("adversarial_loss=wgan", "adversarial_loss"),
    ("segment_length=8000", "segment_length"),           # not a multiple of the hop
    ("mel.n_melz=40", "mel.n_melz"),                     # unknown MelConfig field
    ("mel.hop_length=128", "mel.hop_length"),            # differs from the generator's upsampling
    ("generator_preset=hifigan_v9", "generator_preset"),  # unknown preset
    ("generator_overrides.bogus=1", "generator_overrides.bogus"),
])
def test_bad_values_raise_config_error_naming_key_and_file(override, key):
    with pytest.raises(ConfigError) as err:
        load_recipe("hifigan", [override])
    message = str(err.value)
    assert f"'{key}'" in message and "hifigan.yaml" in message, message


def test_unknown_key_in_a_file_names_the_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("family: wavenet\nmodel_preset: wavenet_tiny\nlearning_rat: 0.001\n")
    with pytest.raises(ConfigError, match=r"mine\.yaml: unknown key 'learning_rat'"):
        load_recipe(path)
    path.write_text("family: vocoderz\n")
    with pytest.raises(ConfigError, match=r"mine\.yaml: key 'family'"):
        load_recipe(path)
    with pytest.raises(ConfigError, match="no such recipe"):
        load_recipe(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="key=value"):
        load_recipe("wavenet", ["steps"])


def test_wavegan_slice_and_encoder_length_must_match_the_model():
    with pytest.raises(ConfigError, match="slice_length"):
        load_recipe("wavegan", ["segment_length=4096"])
    assert load_recipe("wavegan", ["segment_length=4096", "generator_overrides.slice_length=4096",
                                   "discriminator_overrides.slice_length=4096"]).segment_length == 4096
    with pytest.raises(ConfigError, match="num_samples"):
        load_recipe("encoders", ["segment_length=8000"])


def test_round_trip_through_yaml(tmp_path):
    r = load_recipe("melgan", ["steps=11", "seed=3"])
    path = save_recipe(r, tmp_path / "recipe.yaml")
    again = load_recipe(path)
    assert again == r
    assert recipe_from_dict(r.to_dict(), check_models=False) == r


def test_a_recipe_of_per_loss_keys_reads_into_the_losses_mapping(tmp_path):
    old = tmp_path / "old.yaml"
    text = open(recipe_path("multiband_melgan")).read().replace(
        "losses: {adversarial: 2.5, stft: 0.5, subband_stft: 0.5}",
        "adversarial_weight: 2.5\nmel_loss_weight: 0.0\nfeature_matching_weight: 0.0\nstft_loss_weight: 0.5\n"
        "subband_stft_loss_weight: 0.5")
    old.write_text(text)
    recipe = load_recipe(str(old))
    new = load_recipe("multiband_melgan")
    assert {k: v for k, v in recipe.losses.items() if v} == new.losses
    with pytest.raises(ConfigError, match="losses.phase.*unknown loss"):
        load_recipe("hifigan", ["losses.phase=1.0"])
