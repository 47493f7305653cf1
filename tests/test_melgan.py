"""MelGAN (Kumar et al. 2019) and Multi-band MelGAN (Yang et al. 2020): paper parameter count, shapes,
round trips, weight-norm folding, sub-band generator / PQMF wiring, discriminator structure, training steps."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest

from audiogen_tf.layers.conv import WeightNormConv1D, WeightNormConv1DTranspose
from model_harness import check_build_and_shapes, check_config_round_trip, check_fit_lowers_loss, check_keras_save_load
from test_hifigan import HOP, N_MELS, mel_input, mel_l1, sine_batch
from zoo.melgan import MelGANGenerator, MelGANMultiScaleDiscriminator, MultiBandMelGANGenerator


def test_paper_parameter_count():
    # counted as plain convs (weight norm folded: kernel + bias per conv): 4,260,257 -> 4.26 M as in the paper
    model = MelGANGenerator.from_preset("melgan")
    n = model.count_params_folded()
    assert round(n / 1e6, 2) == 4.26
    assert model.hop_length == 256


def test_multiband_paper_preset():
    model = MultiBandMelGANGenerator.from_preset("multiband_melgan")
    assert model.hop_length == 200  # 2 x 5 x 5 sub-band samples per frame x 4 sub-bands
    # reported, not the paper's 1.91 M (see the preset's comment / report)
    print("multiband_melgan parameters (folded):", model.count_params_folded())
    mel = mel_input(16)  # reflection padding (dilation 27 at 2x the frame rate) needs >= 14 frames
    assert tuple(model(mel).shape) == (1, 3200, 1)


@pytest.mark.parametrize("cls,preset", [(MelGANGenerator, "melgan_tiny"), (MultiBandMelGANGenerator, "multiband_melgan_tiny")])
def test_shapes_round_trips_and_folding(cls, preset, tmp_path):
    model = cls.from_preset(preset)
    mel = mel_input(8, batch=2)
    check_build_and_shapes(model, mel, (2, 8 * HOP, 1))
    check_config_round_trip(model, mel)
    check_keras_save_load(model, mel, tmp_path)
    for layer in model.layers:
        if hasattr(layer, "g"):
            layer.g.assign(layer.g.numpy() * 1.3)
    plain = model.remove_weight_norm()
    assert not any(isinstance(l, (WeightNormConv1D, WeightNormConv1DTranspose)) for l in plain.layers)
    np.testing.assert_allclose(np.asarray(plain(mel)), np.asarray(model(mel)), atol=1e-6)
    assert plain.count_params() == model.count_params_folded()


def test_multiband_subbands_and_pqmf():
    model = MultiBandMelGANGenerator.from_preset("multiband_melgan_tiny")
    mel = mel_input(8)
    sub = np.asarray(model.subband_generator(mel))
    assert sub.shape == (1, 8 * HOP // 4, 4)
    assert model.subband_generator is model.subband_generator
    # the full-band output is the PQMF synthesis of the sub-band generator's output
    np.testing.assert_allclose(np.asarray(model.pqmf.synthesis(sub)), np.asarray(model(mel)), atol=1e-6)
    # and the sub-band generator trains the same variables
    assert {id(v) for v in model.subband_generator.trainable_variables} == {id(v) for v in model.trainable_variables}


def test_export_endpoints():
    model = MultiBandMelGANGenerator.from_preset("multiband_melgan_tiny")
    endpoints = {name: (fn, specs) for name, fn, specs in model.export_endpoints(chunk_frames=8, context_frames=8)}
    assert tuple(endpoints["chunk"][1][0].shape) == (1, 24, N_MELS)
    mel = mel_input(40)
    full = np.asarray(model(mel))
    out = np.asarray(endpoints["chunk"][0](mel[:, 8:32]))
    np.testing.assert_allclose(out, full[:, 16 * HOP : 24 * HOP], atol=1e-4)


def test_discriminator_structure_and_round_trip(tmp_path):
    audio = np.random.default_rng(0).uniform(-1, 1, (2, 1024, 1)).astype(np.float32)
    d = MelGANMultiScaleDiscriminator.from_preset("melgan_tiny")
    out = d(audio)
    assert isinstance(out, list) and [len(o) for o in out] == [7, 7]
    for entry in out:
        assert entry[-1].shape[-1] == 1 and all(f.shape[-1] > 1 for f in entry[:-1])
    assert out[0][-1].shape[1] == 1024 // 256 and out[1][-1].shape[1] == 512 // 256
    check_config_round_trip(d, audio)
    check_keras_save_load(d, audio, tmp_path)
    full = MelGANMultiScaleDiscriminator.from_preset("melgan")
    assert len(full.outputs) == 3 * 7


@pytest.mark.parametrize("cls,preset", [(MelGANGenerator, "melgan_tiny"), (MultiBandMelGANGenerator, "multiband_melgan_tiny")])
def test_few_steps_lower_mel_loss(cls, preset):
    model = cls.from_preset(preset)
    mel, audio = sine_batch()
    result = check_fit_lowers_loss(
        model, (mel, audio), steps=6, compile_kwargs={"optimizer": keras.optimizers.Adam(2e-3), "loss": mel_l1}
    )
    print(f"{preset} mel-L1:", [round(v, 3) for v in result["history"]])


def test_tflite_chunk_parity(tmp_path):
    from test_hifigan import export_chunk_parity

    model = MultiBandMelGANGenerator.from_preset("multiband_melgan_tiny")
    print("multiband_melgan_tiny chunk TFLite max abs error:", export_chunk_parity(model, tmp_path))
