"""Vocos mel-vocoder checkpoints import into ISTFTVocoder: reference output to 1e-4 in Keras and TFLite (builtin
ops), for the head's centre and "same" paddings; a wrong checkpoint lists what did not match."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from audiogen_tf.torch_import import ImportMismatchError
from tflite_export.export import contains_flex_ops, export_tflite
from tflite_export.runtime import TFLiteRunner
from zoo.torch_import import import_checkpoint

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "vocos_import")
MEL = np.load(os.path.join(FIX, "vocos_mel.npy"))


@pytest.mark.parametrize("name", ["vocos_tiny", "vocos_tiny_same"])
def test_keras_and_tflite_equal_the_reference(name, tmp_path):
    model, info = import_checkpoint(os.path.join(FIX, f"{name}.pt"), arch="vocos",
                                    config=os.path.join(FIX, f"{name}_config.yaml"))
    ref = np.load(os.path.join(FIX, f"{name}_audio.npy"))[0]
    y = np.asarray(model(MEL))[0, :, 0]
    assert y.shape == (MEL.shape[1] * 256,)
    n = ref.size  # centre padding: the reference (torch.istft) stops one hop earlier
    assert np.abs(y[:n] - ref).max() < 1e-4
    cfg = model.feature_settings
    assert (cfg.sample_rate, cfg.n_mels, cfg.htk, cfg.norm, cfg.log_floor) == (24000, 100, True, None, 1e-7)
    path = os.path.join(tmp_path, f"{name}.tflite")
    export_tflite(model, path, endpoint="synthesize")
    assert not contains_flex_ops(path)
    out = TFLiteRunner(path).run({"mel": MEL}, signature="synthesize")
    lite = np.asarray(next(iter(out.values()))).reshape(-1)
    assert np.abs(lite[:n] - ref).max() < 1e-4
    print(f"{name}: Keras {np.abs(y[:n] - ref).max():.2e}, TFLite {np.abs(lite[:n] - ref).max():.2e}, "
          f"import {info['seconds']:.2f} s")


def test_wrong_checkpoint_lists_what_did_not_match(tmp_path):
    from audiogen_tf.torch_checkpoint import load_torch_checkpoint
    from zoo.istft_vocoder.istft_vocoder_torch_import import import_vocos

    import yaml

    state = dict(load_torch_checkpoint(os.path.join(FIX, "vocos_tiny.pt")))
    config = yaml.safe_load(open(os.path.join(FIX, "vocos_tiny_config.yaml")))
    broken = {k: v for k, v in state.items() if k != "backbone.convnext.1.gamma"}
    broken["backbone.extra.weight"] = np.zeros(3, np.float32)
    with pytest.raises(ImportMismatchError) as err:
        import_vocos(broken, config=config, source="broken.pt")
    text = str(err.value)
    assert "backbone.convnext.1.gamma" in text and "backbone.extra.weight" in text
    wider = {**config, "backbone": {**config["backbone"], "init_args": {**config["backbone"]["init_args"], "dim": 48}}}
    wider["head"] = {**config["head"], "init_args": {**config["head"]["init_args"], "dim": 48}}
    with pytest.raises(ImportMismatchError, match="backbone.embed.weight"):
        import_vocos(state, config=wider, source="wider.pt")
    with pytest.raises(ValueError, match="needs the checkpoint's config.yaml"):
        import_vocos(state, config=None, source="noconfig.pt")
