"""`audiogen train` / `audiogen synthesize` / `audiogen models`: help with examples, early recipe errors,
a tiny run trained then synthesized (WAV + PNG), unconditional sampling from a .keras generator."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import soundfile as sf

from audiogen_cli import main
from test_fault_tolerance import write_tiny_corpus, write_tiny_recipe


@pytest.mark.parametrize("command, example", [("train", "audiogen train hifigan"),
                                              ("synthesize", "audiogen synthesize runs/")])
def test_help_shows_an_example(command, example, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "Example:" in out and example in out


def test_bad_override_fails_before_any_work(tmp_path, capsys):
    recipe = write_tiny_recipe(tmp_path / "tiny.yaml")
    code = main(["train", recipe, "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--set", "stepz=3"])
    err = capsys.readouterr().err
    assert code == 2 and "unknown key 'stepz'" in err and "tiny.yaml" in err
    assert not os.path.exists(tmp_path / "run")  # nothing started
    code = main(["train", recipe, "--out", str(tmp_path / "run")])  # no data anywhere
    assert code == 2 and "no training data" in capsys.readouterr().err


def test_train_then_rerun_then_synthesize(tmp_path, capsys):
    data = write_tiny_corpus(tmp_path / "data", n=2)
    recipe = write_tiny_recipe(tmp_path / "tiny.yaml", steps=4, checkpoint_every=2, deterministic="false")
    run = str(tmp_path / "run")
    assert main(["train", recipe, "--data", data, "--out", run, "--quiet"]) == 0
    assert "step 4 of 4" in capsys.readouterr().out
    assert sorted(os.listdir(os.path.join(run, "ckpt"))) == ["checkpoint", "ckpt-2.data-00000-of-00001", "ckpt-2.index",
                                                              "ckpt-4.data-00000-of-00001", "ckpt-4.index"]
    assert main(["train", recipe, "--data", data, "--out", run, "--quiet"]) == 0  # done already: resumes at the end
    assert "step 4 of 4" in capsys.readouterr().out

    clip = os.path.join(data, "tone0.wav")
    mel = np.random.default_rng(0).normal(-4, 1, size=(10, 16)).astype("float32")
    np.save(tmp_path / "m.npy", mel)
    out = tmp_path / "synth"
    assert main(["synthesize", run, "--input", clip, str(tmp_path / "m.npy"), "--out", str(out)]) == 0
    assert sorted(os.listdir(out)) == ["m_synth.png", "m_synth.wav", "tone0_synth.png", "tone0_synth.wav"]
    y, sr = sf.read(out / "m_synth.wav")
    assert sr == 8000 and len(y) == 10 * 64 and np.all(np.isfinite(y)) and np.std(y) > 0
    y, _ = sf.read(out / "tone0_synth.wav")
    assert abs(len(y) - 4000) <= 64  # one hop per mel frame
    assert main(["synthesize", run, "--out", str(out)]) == 2  # a vocoder needs --input
    assert "--input" in capsys.readouterr().err


def test_synthesize_unconditional_generator(tmp_path):
    from zoo.wavegan.wavegan_generator import WaveGANGenerator

    path = str(tmp_path / "g.keras")
    WaveGANGenerator.from_preset("wavegan_conditional_tiny", slice_length=1024).save(path)
    out = tmp_path / "wg"
    assert main(["synthesize", path, "--num", "2", "--label", "1", "--seed", "3", "--out", str(out)]) == 0
    assert sorted(os.listdir(out)) == ["label1_sample_00.wav", "label1_sample_01.wav", "label1_samples.png"]
    a, sr = sf.read(out / "label1_sample_00.wav")
    b, _ = sf.read(out / "label1_sample_01.wav")
    assert sr == 16000 and len(a) == 1024 and not np.array_equal(a, b)  # two different draws
    assert main(["synthesize", path, "--num", "1", "--out", str(out)]) == 2  # conditional: --label required


def test_models_prints_inputs_and_outputs(capsys):
    from audiogen_cli.models import io_summary
    from zoo.hifigan.hifigan_generator import HiFiGANGenerator
    from zoo.wavegan.wavegan_generator import WaveGANGenerator

    import zoo.hifigan  # noqa: F401  (registers the presets)

    assert io_summary(HiFiGANGenerator.from_preset("hifigan_tiny")) == (
        "consumes mel (None, None, 80) -> produces audio (None, None, 1)")
    text = io_summary(WaveGANGenerator.from_preset("wavegan_conditional_tiny"))
    assert text.startswith("consumes z (None, 16), label (None,) -> produces") and "(None, 16384, 1)" in text
