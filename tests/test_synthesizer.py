"""The on-device Synthesizer: TensorFlow-free mel-to-audio and text-to-speech from exported files, equal to
the Keras models; clear errors for truncated, foreign, wrong-model and wrong-shape files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
import soundfile as sf

from audiogen_cli.export import build_preset
from tflite_export.export import export_tflite
from tflite_export.runtime import ModelFileError
from tflite_export.streaming import LOG_FLOOR, keras_endpoint_fn
from tflite_export.synthesizer import BUNDLE_FILE, Synthesizer, export_bundle

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ATOL = 1e-4
TEXT = "Hello there."


@pytest.fixture(scope="module")
def models():
    keras.utils.set_random_seed(0)
    return build_preset("HiFiGANGenerator", "hifigan_tiny"), build_preset("Tacotron2", "tacotron2_tiny")


@pytest.fixture(scope="module")
def bundle(models, tmp_path_factory):
    vocoder, taco = models
    return export_bundle(tmp_path_factory.mktemp("bundle"), vocoder=vocoder, tacotron2=taco)


def _padded_offline(vocoder, mel, context=8):
    synth = keras_endpoint_fn(vocoder, "synthesize")
    pad = np.full((1, context, mel.shape[-1]), LOG_FLOOR, "float32")
    audio = synth({"mel": np.concatenate([pad, mel[None], pad], axis=1)})["output_0"].reshape(-1)
    hop = vocoder.hop_length
    return audio[context * hop : context * hop + mel.shape[0] * hop]


def test_synthesizer_runs_without_tensorflow_and_matches_keras(models, bundle, tmp_path):
    vocoder, taco = models
    mel = np.random.default_rng(0).uniform(-8, 1, (45, vocoder.n_mels)).astype("float32")
    np.save(tmp_path / "mel.npy", mel)
    code = (
        "import sys, numpy as np\n"
        "from tflite_export.synthesizer import Synthesizer\n"
        f"s = Synthesizer({str(bundle)!r})\n"
        f"audio = s.mel_to_audio(np.load({str(tmp_path / 'mel.npy')!r}))\n"
        "stats = s.last_stats\n"
        f"tts = s.text_to_mel({TEXT!r}, max_decoder_steps=12, stop_threshold=2.0)\n"
        "speech = s.text_to_speech('Hi.', max_decoder_steps=6, stop_threshold=2.0)\n"
        "chunks = [c.size for c in s.stream(np.load(" + repr(str(tmp_path / "mel.npy")) + "))]\n"
        f"np.savez({str(tmp_path / 'out.npz')!r}, audio=audio, mel=tts['mel'], mel_before=tts['mel_before'],"
        " speech=speech, chunks=np.array(chunks))\n"
        "print('STATS', stats)\n"
        "print('TF_MODULES', sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf_keras')))\n"
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "TF_MODULES []" in proc.stdout, proc.stdout
    print("\n" + [line for line in proc.stdout.splitlines() if line.startswith("STATS")][0])
    out = np.load(tmp_path / "out.npz")
    hop = vocoder.hop_length
    assert out["audio"].shape == (45 * hop,)
    assert out["chunks"].tolist() == [32 * hop, 13 * hop]
    np.testing.assert_allclose(out["audio"], _padded_offline(vocoder, mel), atol=ATOL)
    ref = taco.synthesize(TEXT, max_decoder_steps=12, stop_threshold=2.0, prenet_dropout=False, return_audio=False)
    assert out["mel"].shape == ref["mel"].shape == (12 * taco.reduction_factor, taco.n_mels)
    err = float(np.abs(out["mel"] - ref["mel"]).max())
    print(f"text-to-mel TFLite vs Keras: 12 decoder steps, max abs err {err:.2e}")
    assert err < ATOL
    np.testing.assert_allclose(out["mel_before"], ref["mel_before"], atol=ATOL)
    assert out["speech"].shape == (6 * taco.reduction_factor * hop,) and np.all(np.isfinite(out["speech"]))


def test_stop_token_ends_decoding(bundle):
    synth = Synthesizer(bundle)
    out = synth.text_to_mel(TEXT, max_decoder_steps=12, stop_threshold=0.0)  # any probability > 0 stops
    assert out["steps"] == 1 and out["mel"].shape[0] == synth.tts["reduction_factor"]


def _copy_bundle(bundle, dest, replace=None, config=None):
    shutil.copytree(bundle, dest)
    if replace:
        for name, src in replace.items():
            if isinstance(src, bytes):
                (dest / name).write_bytes(src)
            else:
                shutil.copy(src, dest / name)
    if config:
        meta = json.loads((dest / BUNDLE_FILE).read_text())
        for part, values in config.items():
            meta[part].update(values)
        (dest / BUNDLE_FILE).write_text(json.dumps(meta))
    return dest


def test_bad_files_give_clear_errors(models, bundle, tmp_path):
    vocoder, _ = models
    data = open(os.path.join(bundle, "vocoder.tflite"), "rb").read()
    cut = _copy_bundle(bundle, tmp_path / "cut", {"vocoder.tflite": data[: len(data) // 2]})
    with pytest.raises(ModelFileError, match=r"vocoder.tflite: (truncated|corrupt)"):
        Synthesizer(cut)

    wav = tmp_path / "tone.wav"
    sf.write(wav, np.sin(np.arange(8000) / 5.0).astype("float32"), 16000)
    renamed = _copy_bundle(bundle, tmp_path / "wav", {"vocoder.tflite": wav})
    with pytest.raises(ModelFileError, match=r"vocoder.tflite: not tflite \(this is a WAV audio file; file identifier"):
        Synthesizer(renamed)

    wavenet = export_tflite(build_preset("WaveNet", "wavenet_tiny"), tmp_path / "wavenet.tflite")
    foreign = _copy_bundle(bundle, tmp_path / "foreign", {"vocoder.tflite": wavenet})
    with pytest.raises(ModelFileError, match=r"wrong model \(it has signatures \['step'\]; a vocoder needs a 'chunk'"):
        Synthesizer(foreign)
    swapped = _copy_bundle(bundle, tmp_path / "swapped", {"tacotron2.tflite": os.path.join(bundle, "vocoder.tflite")})
    with pytest.raises(ModelFileError, match=r"tacotron2.tflite: wrong model .*'encode'"):
        Synthesizer(swapped)

    other = tmp_path / "other"
    export_bundle(other, vocoder=vocoder, chunk_frames=16)  # built for (1, 32, 80) windows
    shapes = _copy_bundle(bundle, tmp_path / "shapes", {"vocoder.tflite": other / "vocoder.tflite"})
    with pytest.raises(ModelFileError, match=r"wrong input shape .*built for shape \(1, 32, 80\), the synthesizer "
                                             r"expects \(1, 48, 80\)"):
        Synthesizer(shapes)

    with pytest.raises(ModelFileError, match="missing"):
        Synthesizer(tmp_path / "nowhere")
    broken = _copy_bundle(bundle, tmp_path / "json", {BUNDLE_FILE: b"{not json"})
    with pytest.raises(ModelFileError, match="corrupt"):
        Synthesizer(broken)

    synth = Synthesizer(bundle)
    with pytest.raises(ValueError, match=r"mel must be \(frames, 80\) log-mel, got shape \(10, 40\)"):
        synth.mel_to_audio(np.zeros((10, 40), "float32"))
    with pytest.raises(ValueError, match="NaN"):
        synth.mel_to_audio(np.full((10, 80), np.nan, "float32"))
    with pytest.raises(ValueError, match="too long: 201 symbols > max_length 64|at most 64"):
        synth.text_to_mel("a" * 200)
