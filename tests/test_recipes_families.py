"""Recipes of the newer families (Tacotron 2, VAE, codec, VQ-VAE, FrameRNN, WaveRNN, SpecGAN): bundled YAML validates,
bad values fail early naming the key, a tiny preset trains 2 steps through ``training.run.train`` and
``audiogen synthesize`` writes its WAV / PNG outputs from the run folder."""

import csv
import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import soundfile as sf

from audiogen_cli import main
from audiogen_tf.errors import ConfigError
from training.recipes import load_recipe
from training.run import train

SPEECH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "speech", "manifest.csv")
COMMON = ["steps=2", "steps_per_epoch=2", "checkpoint_every=2", "batch_size=2"]
MEL16 = "mel={n_fft: 256, hop_length: 64, win_length: 256, n_mels: 16, fmax: 8000.0}"
MEL40 = "mel={n_fft: 512, hop_length: 128, win_length: 512, n_mels: 40, fmax: 8000.0}"
TINY = {
    "tacotron2": ["model_preset=tacotron2_tiny", "bucket_boundaries=null"],
    "vae": ["model_preset=vae_mel_tiny", "sample_rate=16000", "segment_length=1024", MEL16],
    "codec": ["model_preset=codec_tiny", "segment_length=2560"],
    "vqvae": ["model_preset=vqvae_mel_tiny", "sample_rate=16000", "segment_length=1024", MEL16],
    "frame_rnn": ["model_preset=frame_rnn_tiny", "sample_rate=16000", "num_frames=8", MEL40],
    "wavernn": ["model_preset=wavernn_tiny", "sample_rate=16000", "segment_length=512", MEL40],
    "specgan": ["generator_preset=specgan_tiny", "discriminator_preset=specgan_tiny", "n_critic=1", "moment_batches=2"],
}


@pytest.fixture(scope="module")
def notes(tmp_path_factory):
    from audiogen_tf.datasets.notes import make_notes

    root = tmp_path_factory.mktemp("notes")
    manifest = make_notes(str(root), seconds=0.5, pitches=[60, 67], timbres=["flute", "bell"], variations=1,
                          progress=False)
    clip = str(root / "clip.wav")  # a short clip for the vocoder / reconstruction inputs
    first = next(csv.DictReader(open(manifest)))["path"]
    x, sr = sf.read(first if os.path.isabs(first) else os.path.join(os.path.dirname(manifest), first))
    sf.write(clip, x[: sr // 20], sr)
    return manifest, clip


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    if not os.path.exists(SPEECH):
        pytest.skip("data/speech/manifest.csv is not there (make it with `audiogen data speech`)")
    rows = list(csv.DictReader(open(SPEECH)))[:4]
    path = tmp_path_factory.mktemp("speech") / "manifest.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["path", "text"])
        w.writeheader()
        for r in rows:
            w.writerow({"path": os.path.join(os.path.dirname(SPEECH), r["path"]), "text": r["text"]})
    return str(path)


@pytest.mark.parametrize("name, cls", [("tacotron2", "Tacotron2Recipe"), ("vae", "VAERecipe"), ("codec", "VQVAERecipe"),
                                       ("vqvae", "VQVAERecipe"), ("frame_rnn", "FrameRNNRecipe"),
                                       ("wavernn", "WaveRNNRecipe"), ("specgan", "SpecGANRecipe")])
def test_bundled_recipe_validates(name, cls):
    r = load_recipe(name)
    assert type(r).__name__ == cls and r.family == name
    tiny = load_recipe(name, TINY[name])
    assert getattr(tiny, "model_preset", getattr(tiny, "generator_preset", "")).endswith("_tiny")


@pytest.mark.parametrize("name, overrides, key", [
    ("vae", ["model_preset=vae_mel_tiny", "mel.n_mels=80"], "mel.n_mels"),
    ("vae", ["reconstruction=ssim"], "reconstruction"),
    ("codec", ["model_preset=codec_tiny", "segment_length=1024"], "segment_length"),  # too short for the STFT loss
    ("codec", ["model_preset=codec_tiny", "segment_length=2564", "reconstruction=l1"], "segment_length"),  # hop 8
    ("tacotron2", ["model_preset=tacotron2_huge"], "model_preset"),
    ("tacotron2", ["bucket_boundaries=7"], "bucket_boundaries"),
    ("frame_rnn", ["num_frames=0"], "num_frames"),
    ("wavernn", ["segment_length=1000"], "segment_length"),
    ("vqvae", ["model_overrides.no_such_arg=1"], "model_overrides.no_such_arg"),
    ("specgan", ["segment_length=8192"], "segment_length"),  # 128 frames x hop 128
])
def test_bad_values_name_the_key(name, overrides, key):
    with pytest.raises(ConfigError, match=rf"{name}\.yaml[:,] key '{re.escape(key)}'"):
        load_recipe(name, overrides)


def _check_wav(path):
    x, sr = sf.read(path)
    assert sr > 0 and x.size > 0 and np.all(np.isfinite(x)) and np.max(np.abs(x)) <= 1.0
    return x


def _train(name, data, out):
    result = train(load_recipe(name, COMMON + TINY[name]), data=data, out=str(out), verbose=0)
    assert result.step == 2 and result.model_path and os.path.exists(result.model_path)
    assert all(np.isfinite(v).all() for v in result.history.values())
    assert {"loss", "d_loss"} & set(result.history)
    assert os.path.exists(os.path.join(str(out), "ckpt", "ckpt-2.index"))
    return result


def test_tacotron2_trains_and_speaks(speech, tmp_path, capsys):
    run = tmp_path / "run"
    result = _train("tacotron2", speech, run)
    assert {"mel_loss", "postnet_loss", "stop_loss"} <= set(result.history)
    out = tmp_path / "tts"
    assert main(["synthesize", str(run), "--text", "Hello there.", "--out", str(out), "--griffin-lim-iters", "2"]) == 0
    assert sorted(os.listdir(out)) == ["tts_00.wav", "tts_00_alignment.png", "tts_00_mel.png"]
    x = _check_wav(str(out / "tts_00.wav"))
    assert x.size >= 256  # at least a few frames at hop 256
    assert main(["synthesize", str(run), "--out", str(out)]) == 2  # no --text
    assert "--text" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["vae", "frame_rnn"])
def test_unconditional_families_train_and_draw(name, notes, tmp_path):
    manifest, _ = notes
    run = tmp_path / "run"
    _train(name, manifest, run)
    out = tmp_path / "synth"
    extra = ["--frames", "6"] if name == "frame_rnn" else []
    assert main(["synthesize", str(run), "--num", "2", "--out", str(out), "--griffin-lim-iters", "2", *extra]) == 0
    assert sorted(os.listdir(out)) == ["sample_00.wav", "sample_01.wav", "samples.png"]
    x = _check_wav(str(out / "sample_00.wav"))
    hop = 64 if name == "vae" else 128
    assert x.size >= (16 if name == "vae" else 6) * hop - hop  # input_length frames / --frames frames


@pytest.mark.parametrize("name", ["codec", "vqvae"])
def test_vq_families_train_and_reconstruct(name, notes, tmp_path):
    manifest, clip = notes
    run = tmp_path / "run"
    result = _train(name, manifest, run)
    assert {"vq_loss", "perplexity", "usage"} <= set(result.history)
    out = tmp_path / "synth"
    assert main(["synthesize", str(run), "--input", clip, "--out", str(out), "--griffin-lim-iters", "2"]) == 0
    assert sorted(os.listdir(out)) == ["clip_codes.npy", "clip_recon.png", "clip_recon.wav"]
    codes = np.load(out / "clip_codes.npy")
    assert codes.dtype.kind == "i" and codes.max() < 16  # codebook_size 16 in both tiny presets
    if name == "codec":
        assert codes.shape == (800 // 8, 2)  # 50 ms at 16 kHz, hop 8, 2 stages
        assert _check_wav(str(out / "clip_recon.wav")).size == 800
    else:
        _check_wav(str(out / "clip_recon.wav"))


def test_wavernn_trains_and_vocodes(notes, tmp_path):
    manifest, clip = notes
    run = tmp_path / "run"
    _train("wavernn", manifest, run)
    out = tmp_path / "synth"
    assert main(["synthesize", str(run), "--input", clip, "--out", str(out)]) == 0
    assert sorted(os.listdir(out)) == ["clip_synth.png", "clip_synth.wav"]
    _check_wav(str(out / "clip_synth.wav"))


def test_vae_loss_falls(notes, tmp_path):
    """Mean reconstruction loss of the second 24 steps is well under the first 24's. With random crops, 8-step
    epochs were too noisy (one seed in three did not fall, and CI hit it); over 8 seeds 24-step epochs fall to
    0.28-0.46 of the first, so 0.7 leaves a margin."""
    manifest, _ = notes
    overrides = ["steps=48", "steps_per_epoch=24", "checkpoint_every=48", "batch_size=4", "learning_rate=3e-3",
                 "beta=0.001"]
    result = train(load_recipe("vae", overrides + TINY["vae"]), data=manifest, out=str(tmp_path / "run"), verbose=0)
    first, last = result.history["reconstruction_loss"]
    assert last < 0.7 * first


def test_specgan_trains_on_normalized_spectrograms_and_draws(notes, tmp_path):
    import yaml

    from training.run import load_run

    manifest, _ = notes
    run = tmp_path / "run"
    result = _train("specgan", manifest, run)
    assert {"d_loss", "g_loss", "gp"} <= set(result.history)
    stored = yaml.safe_load(open(run / "recipe.yaml"))["generator_overrides"]  # data moments kept with the run
    assert len(stored["spec_mean"]) == 128 and min(stored["spec_std"]) >= 1e-3
    _, gen = load_run(str(run))
    np.testing.assert_allclose(gen.get_config()["spec_mean"], stored["spec_mean"], rtol=1e-6)
    out = tmp_path / "synth"
    assert main(["synthesize", str(run), "--num", "2", "--out", str(out)]) == 0
    assert sorted(os.listdir(out)) == ["sample_00.wav", "sample_01.wav", "samples.png"]
    assert _check_wav(str(out / "sample_00.wav")).size == 16384
