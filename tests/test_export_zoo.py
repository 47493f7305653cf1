"""Every tiny zoo preset exports through every endpoint to a builtin-ops ``.tflite`` that matches Keras;
quantization modes with stated tolerances on one vocoder; SavedModel and the ``audiogen export`` CLI."""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from audiogen_cli.export import build_preset, exportable_presets, resolve_model
from tflite_export.endpoints import Endpoint, get_endpoints
from tflite_export.export import (
    ExportError,
    check_parity,
    contains_flex_ops,
    export_saved_model,
    export_tflite,
    list_tflite_ops,
    saved_model_signatures,
)
from tflite_export.quantization import quantize_all, sample_inputs
from tflite_export.runtime import TFLiteRunner

TINY = exportable_presets(tiny_only=True)
FLOAT32_ATOL = 1e-4
# Ops that would mean a training-only branch or an unfolded weight norm reached the exported graph.
TRAINING_OPS = {"RANDOM_UNIFORM", "RANDOM_STANDARD_NORMAL", "MULTINOMIAL", "FlexRandomUniform", "FlexDropout"}
WEIGHT_NORM_OPS = {"SQRT", "RSQRT", "L2_NORMALIZATION", "SQUARE", "SUM"}


def test_catalog_covers_every_generator_family():
    classes = {c for c, _ in TINY}
    for name in ("HiFiGANGenerator", "MelGANGenerator", "MultiBandMelGANGenerator", "WaveGANGenerator",
                 "SpecGANGenerator", "WaveNet", "MelCNNEncoder", "WaveformCNNEncoder", "FrameRNN", "WaveRNN",
                 "Tacotron2", "ConvVAE", "VQVAE", "CodePrior", "AudioCodec"):
        assert name in classes, f"{name} has no exportable tiny preset"
    assert not any("Discriminator" in c for c, _ in exportable_presets())  # training-only


@pytest.mark.parametrize("cls_name,preset", TINY, ids=[p for _, p in TINY])
def test_tiny_preset_exports_with_parity(cls_name, preset, tmp_path):
    keras.utils.set_random_seed(0)
    model = build_preset(cls_name, preset)
    path = export_tflite(model, tmp_path / f"{preset}.tflite")
    ops = list_tflite_ops(path)
    assert not contains_flex_ops(path), sorted(ops)
    assert not ops & TRAINING_OPS, f"training-only ops exported: {sorted(ops & TRAINING_OPS)}"
    runner = TFLiteRunner(path)
    endpoints = get_endpoints(model)
    assert sorted(runner.signature_keys()) == sorted(e.name for e in endpoints)
    errors = {}
    for i, ep in enumerate(endpoints):
        x = sample_inputs(model, ep, seed=100 + i)  # fresh inputs, not the ones of any earlier check
        errors[ep.name] = check_parity(model, path, x, atol=FLOAT32_ATOL, signature=ep.name)
    print(f"\n{preset}: {os.path.getsize(path)} B, max abs errors {errors}")
    if model.get_config().get("weight_norm"):
        assert not ops & WEIGHT_NORM_OPS, f"weight norm left in the graph: {sorted(ops & WEIGHT_NORM_OPS)}"
        plain = build_preset(cls_name, preset, weight_norm=False)
        plain_ops = list_tflite_ops(export_tflite(plain, tmp_path / "plain.tflite"))
        assert ops == plain_ops, f"ops differ from the plain-conv model: {sorted(ops ^ plain_ops)}"
        # same number of weights as the plain-conv model: the g/v pairs were folded into one kernel
        assert os.path.getsize(path) <= os.path.getsize(tmp_path / "plain.tflite") * 1.01


def test_dropout_is_not_exported(tmp_path):
    """The encoders train with dropout; the export equals the inference pass (run twice: deterministic)."""
    model = build_preset("MelCNNEncoder", "mel_cnn_tiny")
    assert model.get_config()["dropout"] > 0
    path = export_tflite(model, tmp_path / "enc.tflite")
    runner = TFLiteRunner(path)
    x = sample_inputs(model, "serve", seed=3)
    a, b = runner.run(x[0]), runner.run(x[0])
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert check_parity(model, path, x, atol=FLOAT32_ATOL) < FLOAT32_ATOL


# ---------------------------------------------------------------------------------------- quantization
# Stated tolerances for the HiFi-GAN tiny "chunk" on real notes mels (untrained weights, output peak ~1):
# multi-resolution STFT distance (spectral convergence + log magnitude) to the float model.
QUANT_MR_STFT = {"none": 1e-3, "float16": 0.05, "dynamic": 0.5, "int8": 1.5}
QUANT_MAX_ABS = {"none": 1e-4, "float16": 1e-2, "dynamic": 0.1, "int8": 0.5}


def test_quantize_all_on_a_vocoder(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_preset("HiFiGANGenerator", "hifigan_tiny")
    rows = quantize_all(model, "chunk", out_dir=tmp_path)
    by = {r["mode"]: r for r in rows}
    for r in rows:
        print(f"\n{r['mode']:8s} {r['file_bytes']:>8} B  MR-STFT {r['mr_stft']:.4f}  max abs {r['max_abs_error']:.2e}")
    assert all(r["status"] == "ok" for r in rows), [r["message"] for r in rows]
    for mode in by:
        assert by[mode]["metric"] == "mr_stft"
        assert by[mode]["mr_stft"] <= QUANT_MR_STFT[mode], (mode, by[mode]["mr_stft"])
        assert by[mode]["max_abs_error"] <= QUANT_MAX_ABS[mode], (mode, by[mode]["max_abs_error"])
        assert not contains_flex_ops(by[mode]["path"])
    size = {m: by[m]["file_bytes"] for m in by}
    assert size["float16"] < 0.7 * size["none"] and size["dynamic"] < 0.5 * size["none"]
    assert size["int8"] < 0.5 * size["none"]
    assert "QUANTIZE" in list_tflite_ops(by["int8"]["path"])
    assert by["none"]["mr_stft"] < by["float16"]["mr_stft"] < by["int8"]["mr_stft"]


def test_quantize_all_non_vocoder_reports_max_abs_and_refuses_clearly(tmp_path):
    model = build_preset("FrameRNN", "frame_rnn_tiny")
    rows = quantize_all(model, "step", out_dir=tmp_path, modes=("none", "dynamic"))
    assert [r["metric"] for r in rows] == ["max_abs", "max_abs"]
    assert rows[0]["error"] < 1e-4 and rows[1]["error"] < 0.1

    class Cumprod:  # no builtin kernel: every mode is refused with the converter's reason
        name = "cumprod"

        def export_endpoints(self):
            return [Endpoint("serve", lambda x: tf.math.cumprod(x, axis=-1), [tf.TensorSpec((1, 8), tf.float32, name="x")])]

    rows = quantize_all(Cumprod(), "serve", out_dir=tmp_path, modes=("none", "int8"))
    assert [r["status"] for r in rows] == ["refused", "refused"]
    assert "quantization='none'" in rows[0]["message"] and "allow_flex" in rows[0]["message"]
    with pytest.raises(ExportError, match="quantization='int8'"):
        quantize_all(Cumprod(), "serve", out_dir=tmp_path, modes=("int8",), strict=True)
    with pytest.raises(ExportError, match="Unknown quantization"):
        quantize_all(model, "step", out_dir=tmp_path, modes=("int4",))


# ---------------------------------------------------------------------------------------- SavedModel + CLI
def test_saved_model_has_every_endpoint(tmp_path):
    model = build_preset("WaveNet", "wavenet_tiny_conditional")
    sm = export_saved_model(model, tmp_path / "sm")
    assert saved_model_signatures(sm) == ["step", "upsample"]
    loaded = tf.saved_model.load(sm)
    mel = sample_inputs(model, "upsample", seed=5)[0]
    got = loaded.signatures["upsample"](mel=tf.constant(mel))["output_0"].numpy()
    np.testing.assert_allclose(got, np.asarray(model.upsample(mel)), atol=1e-5)


def test_cli_export(tmp_path, capsys):
    from audiogen_cli import main
    from audiogen_tf.errors import ConfigError

    out = tmp_path / "melgan_chunk.tflite"
    assert main(["export", "melgan_tiny", "--quantization", "float16", "--endpoint", "chunk", "--out", str(out)]) == 0
    assert TFLiteRunner(out).signature_keys() == ["chunk"]
    assert "bytes" in capsys.readouterr().out
    model = build_preset("WaveGANGenerator", "wavegan_tiny")
    model.save(tmp_path / "wg.keras")
    assert main(["export", str(tmp_path / "wg.keras"), "--format", "saved_model", "--out", str(tmp_path / "wg")]) == 0
    assert saved_model_signatures(tmp_path / "wg") == ["generate"]
    assert main(["export", "no_such_preset", "--out", str(tmp_path / "x.tflite")]) == 2
    assert "hifigan_tiny" in capsys.readouterr().err  # lists the known presets
    assert main(["export", "melgan_tiny", "--endpoint", "step", "--out", str(tmp_path / "x.tflite")]) == 2
    with pytest.raises(ConfigError, match="Class:preset|neither"):
        resolve_model("definitely_not_a_model")
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    assert "audiogen export hifigan_tiny" in capsys.readouterr().out
