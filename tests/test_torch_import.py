"""PyTorch checkpoint import: the restricted reader, parity with the reference code in Keras and TFLite, errors.

The fixtures in ``tests/fixtures/torch_import`` were made once by running jik876/hifi-gan and
kan-bayashi/ParallelWaveGAN (see the README there); these tests need neither torch nor the network.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile

import keras
import numpy as np
import pytest
import yaml

from audiogen_cli import main
from audiogen_tf.torch_checkpoint import CheckpointFormatError, UnsafeCheckpointError, load_torch_checkpoint
from audiogen_tf.torch_import import ImportMismatchError
from tflite_export.export import contains_flex_ops, export_tflite, list_tflite_ops
from tflite_export.runtime import TFLiteRunner
from zoo.hifigan.hifigan_torch_import import import_hifigan_discriminator, import_hifigan_generator
from zoo.melgan.melgan_torch_import import import_melgan_generator
from zoo.torch_import import import_checkpoint, torch_import_archs

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "torch_import")
ATOL = 1e-4
# (checkpoint, arch, config file, reference output)
GENERATORS = [
    ("g_hifigan_tiny_rb1", "hifigan", "hifigan_tiny_rb1_config.json", "hifigan_tiny_rb1_audio.npy"),  # legacy format
    ("g_hifigan_tiny_rb2", "hifigan", "hifigan_tiny_rb2_config.json", "hifigan_tiny_rb2_audio.npy"),  # parametrizations
    ("melgan_tiny.pkl", "melgan", "melgan_tiny_config.yml", "melgan_tiny_audio.npy"),  # odd upsampling rate 5
    ("multiband_melgan_tiny.pkl", "multiband_melgan", "multiband_melgan_tiny_config.yml",
     "multiband_melgan_tiny_audio.npy"),
]


def _fix(name):
    return os.path.join(FIX, name)


def _config(name):
    with open(_fix(name)) as f:
        return yaml.safe_load(f) if name.endswith(".yml") else json.load(f)


def _mel():
    return np.load(_fix("mel.npy"))[None].astype("float32")  # (1, frames, 80)


def _import(ckpt, arch, config, keep=False):
    model, _ = import_checkpoint(_fix(ckpt), arch, config=_config(config), keep_weight_norm=keep)
    return model


# ---------------------------------------------------------------------------------------------------------
# the reader
# ---------------------------------------------------------------------------------------------------------


def test_reader_both_file_formats_and_layouts():
    legacy = load_torch_checkpoint(_fix("g_hifigan_tiny_rb1"))["generator"]  # torch < 1.6 stream format
    zipped = load_torch_checkpoint(_fix("g_hifigan_tiny_rb2"))["generator"]  # zip format
    assert legacy["conv_pre.weight_v"].shape == (32, 80, 7) and legacy["conv_pre.weight_g"].shape == (32, 1, 1)
    assert zipped["conv_pre.parametrizations.weight.original1"].shape == (32, 80, 7)
    assert all(isinstance(v, np.ndarray) and v.dtype == np.float32 for v in zipped.values())
    do = load_torch_checkpoint(_fix("do_hifigan_small"))
    assert do["steps"] == 0 and do["optim_d"]["param_groups"][0]["betas"] == (0.8, 0.99)
    assert "msd.discriminators.0.convs.0.weight_orig" not in do["msd"]  # keys are relative to the module
    assert do["msd"]["discriminators.0.convs.0.weight_orig"].shape == (4, 1, 15)  # spectral norm


class _Exploit:
    """Pickles as a call of os.system, as a malicious checkpoint would."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"generator": _Exploit(marker)}, protocol=2)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:  # the torch.save zip layout
        z.writestr("archive/data.pkl", payload)
        z.writestr("archive/version", "3\n")
    (tmp_path / "evil.pt").write_bytes(buf.getvalue())
    with pytest.raises(UnsafeCheckpointError, match=r"evil\.pt: refused to load: the pickle asks for posix\.system"):
        load_torch_checkpoint(tmp_path / "evil.pt")
    # the legacy stream format: magic number pickle first, then the payload
    (tmp_path / "evil_legacy.pt").write_bytes(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
                                              + pickle.dumps(1001, protocol=2) + pickle.dumps({}, protocol=2)
                                              + payload)
    with pytest.raises(UnsafeCheckpointError, match="system"):
        load_torch_checkpoint(tmp_path / "evil_legacy.pt")
    # a bare pickle calling builtins.eval is refused at its first global, before the call
    (tmp_path / "eval.pt").write_bytes(b"cbuiltins\neval\n(Vprint(1)\ntR.")
    with pytest.raises(UnsafeCheckpointError, match="builtins.eval"):
        load_torch_checkpoint(tmp_path / "eval.pt")
    assert not marker.exists()
    assert main(["import", str(tmp_path / "evil.pt"), "--arch", "hifigan_v1", "--out",
                 str(tmp_path / "x.keras")]) == 2
    assert not marker.exists() and not (tmp_path / "x.keras").exists()


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "a.pt").write_bytes(b"hello world")
    with pytest.raises(CheckpointFormatError, match="a.pt"):
        load_torch_checkpoint(tmp_path / "a.pt")
    with pytest.raises(CheckpointFormatError, match="no such file"):
        load_torch_checkpoint(tmp_path / "missing.pt")


# ---------------------------------------------------------------------------------------------------------
# parity with the reference outputs
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ckpt,arch,config,ref", GENERATORS, ids=[g[0] for g in GENERATORS])
def test_generator_parity_keras_and_tflite(ckpt, arch, config, ref, tmp_path):
    mel, expected = _mel(), np.load(_fix(ref))[None]
    model = _import(ckpt, arch, config)
    assert not model.get_config()["weight_norm"]
    keras_err = float(np.abs(np.asarray(model(mel)) - expected).max())
    assert keras_err < ATOL, keras_err
    kept = _import(ckpt, arch, config, keep=True)
    assert kept.get_config()["weight_norm"]
    assert float(np.abs(np.asarray(kept(mel)) - expected).max()) < ATOL
    # TFLite: the existing export path, builtin ops only, dynamic-length "synthesize" signature
    path = export_tflite(model, tmp_path / "m.tflite", endpoint="synthesize")
    assert not contains_flex_ops(path), sorted(list_tflite_ops(path))
    out = TFLiteRunner(path).run(mel, signature="synthesize")
    tflite_err = float(np.abs(next(iter(out.values())) - expected).max())
    print(f"\n{ckpt}: max |diff| keras {keras_err:.2e}, tflite {tflite_err:.2e}")
    assert tflite_err < ATOL, tflite_err


def test_discriminator_parity():
    """Every feature map and score of the reference MPD + MSD (spectral norm on the first scale)."""
    disc = import_hifigan_discriminator(load_torch_checkpoint(_fix("do_hifigan_small")))
    ref = np.load(_fix("do_hifigan_small_outputs.npz"))
    outs = disc(np.load(_fix("disc_audio.npy"))[None])
    assert len(outs) == 8  # 5 periods + 3 scales
    worst = 0.0
    for i, sub in enumerate(outs):
        for j, fmap in enumerate(sub):
            fmap = np.asarray(fmap)
            expected = ref[f"d{i}_fmap{j}"]
            if fmap.ndim == 4:  # (batch, frames, period, ch) -> torch (batch, ch, frames, period)
                fmap = fmap.transpose(0, 3, 1, 2)
            elif j == len(sub) - 1 and i < 5:  # period score (batch, frames * period, 1): torch's flatten
                fmap, expected = fmap[..., 0], ref[f"d{i}_score"]
            else:
                fmap = fmap.transpose(0, 2, 1)
            assert fmap.shape == expected.shape, (i, j, fmap.shape, expected.shape)
            worst = max(worst, float(np.abs(fmap - expected).max()))
    assert worst < ATOL, worst
    assert disc.get_config()["weight_norm"] and disc.get_config()["padding"] == "symmetric"


# ---------------------------------------------------------------------------------------------------------
# errors: they list what did not match
# ---------------------------------------------------------------------------------------------------------


def test_wrong_arch_lists_mismatches():
    ckpt = load_torch_checkpoint(_fix("g_hifigan_tiny_rb2"))
    with pytest.raises(ImportMismatchError) as err:
        import_hifigan_generator(ckpt, arch="hifigan_v3", source="g_hifigan_tiny_rb2")
    text = str(err.value)
    assert "does not match --arch hifigan_v3" in text and "shape mismatches" in text
    assert "conv_pre.weight: (32, 80, 7) vs (256, 80, 7)" in text
    with pytest.raises(ImportMismatchError, match="model.generator(.|\n)*try --arch hifigan_v1"):
        import_melgan_generator(ckpt, arch="melgan", source="g_hifigan_tiny_rb2")
    with pytest.raises(ImportMismatchError, match=r"melgan\.1\.weight(.|\n)*try --arch hifigan_v1"):
        import_melgan_generator(ckpt["generator"], arch="melgan", source="g_hifigan_tiny_rb2")
    with pytest.raises(ImportMismatchError, match="try --arch melgan"):
        import_hifigan_generator(load_torch_checkpoint(_fix("melgan_tiny.pkl"))["model"]["generator"],
                                 arch="hifigan_v1")
    with pytest.raises(ImportMismatchError, match="try --arch multiband_melgan"):
        import_melgan_generator(load_torch_checkpoint(_fix("multiband_melgan_tiny.pkl")), arch="melgan")
    with pytest.raises(ValueError, match="unknown --arch 'univnet'; known: .*hifigan_v1.*vocos"):
        import_checkpoint(_fix("g_hifigan_tiny_rb2"), "univnet")


def test_missing_unexpected_and_misshapen_keys_are_listed():
    state = dict(load_torch_checkpoint(_fix("g_hifigan_tiny_rb1"))["generator"])
    config = _config("hifigan_tiny_rb1_config.json")
    del state["ups.1.weight_g"], state["ups.1.weight_v"]
    state["extra.weight"] = np.zeros(3, "float32")
    state["conv_post.bias"] = np.zeros(2, "float32")
    with pytest.raises(ImportMismatchError) as err:
        import_hifigan_generator(state, arch="hifigan", config=config)
    e = err.value
    assert e.missing == ["ups.1.weight (or weight_g/weight_v, parametrizations.weight.*)"]
    assert e.unexpected == ["extra.weight", "ups.1.bias"]  # its weight is missing, so the bias is left over
    assert e.mismatched == [("conv_post.bias", (2,), (1,))]
    assert "1 missing keys" in str(e) and "2 unexpected keys" in str(e)
    with pytest.raises(ValueError, match="needs the checkpoint's config.json"):
        import_hifigan_generator(state, arch="hifigan")
    with pytest.raises(ImportMismatchError, match="config.json differs from the preset in upsample_rates"):
        import_hifigan_generator(state, arch="hifigan_v1", config=config)


def test_archs_are_declared_by_the_families():
    assert {"hifigan_v1", "hifigan_v2", "hifigan_v3", "hifigan", "hifigan_discriminator", "melgan",
            "multiband_melgan"} <= set(torch_import_archs())


def test_cli_import(tmp_path, capsys):
    out = tmp_path / "g.keras"
    assert main(["import", _fix("g_hifigan_tiny_rb2"), "--arch", "hifigan", "--config",
                 _fix("hifigan_tiny_rb2_config.json"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "weight norm folded" in printed and str(out) in printed
    model = keras.saving.load_model(str(out), safe_mode=True)
    expected = np.load(_fix("hifigan_tiny_rb2_audio.npy"))[None]
    assert float(np.abs(np.asarray(model(_mel())) - expected).max()) < ATOL
    out2 = tmp_path / "mb.keras"
    assert main(["import", _fix("multiband_melgan_tiny.pkl"), "--arch", "multiband_melgan", "--config",
                 _fix("multiband_melgan_tiny_config.yml"), "--keep-weight-norm", "--out", str(out2)]) == 0
    assert "weight norm kept" in capsys.readouterr().out
    # a wrong --arch: exit status 2 and the list of differences on stderr, no file written
    bad = tmp_path / "bad.keras"
    assert main(["import", _fix("melgan_tiny.pkl"), "--arch", "hifigan_v2", "--out", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "does not match --arch hifigan_v2" in err and "missing keys" in err and not bad.exists()
