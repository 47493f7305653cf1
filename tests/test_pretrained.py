"""Shipped weights: float16 .npz round trip, sha256 checked before use, named errors for a missing, truncated,
altered or mismatched file, and from_preset loading a preset's weights."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from audiogen_tf.pretrained import WeightsFileError, load_weights, save_weights, sha256_of
from audiogen_tf.registry import register_presets
from zoo.istft_vocoder import ISTFTVocoder
from zoo.istft_vocoder.istft_vocoder_presets import PRESETS


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    model = ISTFTVocoder.from_preset("istft_vocoder_tiny")
    path = str(tmp_path_factory.mktemp("w") / "tiny.npz")
    return model, path, save_weights(model, path)


def test_same_weights_same_bytes(shipped, tmp_path):
    model, _, digest = shipped
    assert save_weights(model, tmp_path / "again.npz") == digest  # no time stamp inside: reproducible sha256


def test_round_trip_in_float16(shipped):
    model, path, digest = shipped
    assert digest == sha256_of(path)
    other = ISTFTVocoder.from_preset("istft_vocoder_tiny")
    assert load_weights(other, path, digest) == len(model.weights)
    mel = np.random.default_rng(0).normal(-5, 1, (1, 20, 80)).astype(np.float32)
    a, b = np.asarray(model(mel)), np.asarray(other(mel))
    assert np.abs(a - b).max() <= 1e-2 * max(1e-3, np.abs(a).max())  # float16 weights
    for w, v in zip(model.weights, other.weights):
        np.testing.assert_allclose(v.numpy(), w.numpy().astype(np.float16).astype(np.float32))


def test_truncated_altered_missing_and_mismatched_files_name_the_file(shipped, tmp_path):
    model, path, digest = shipped
    data = open(path, "rb").read()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsFileError, match=r"truncated\.npz: checksum mismatch.*truncated or altered") as err:
        load_weights(model, truncated, digest)
    assert err.value.problem == "checksum_mismatch" and err.value.path == str(truncated)
    altered = tmp_path / "altered.npz"
    altered.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    with pytest.raises(WeightsFileError, match="altered.npz: checksum mismatch"):
        load_weights(model, altered, digest)
    with pytest.raises(WeightsFileError, match="nothere.npz: missing"):
        load_weights(model, tmp_path / "nothere.npz", digest)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip at all")
    with pytest.raises(WeightsFileError, match="garbage.npz: corrupt"):
        load_weights(model, garbage, sha256_of(garbage))
    bigger = ISTFTVocoder.from_preset("istft_vocoder_tiny", dim=48)
    with pytest.raises(WeightsFileError, match="wrong weights.*shape"):
        load_weights(bigger, path, digest)


@pytest.fixture
def scratch_presets():
    """Names registered by a test, removed afterwards so no other test sees them."""
    from audiogen_tf import registry

    names = []
    yield names
    for name in names:
        registry._PRESETS["ISTFTVocoder"].pop(name, None)


def test_from_preset_loads_shipped_weights(shipped, scratch_presets):
    model, path, digest = shipped
    scratch_presets += ["test_shipped_tiny", "test_broken_tiny"]
    register_presets(ISTFTVocoder, {"test_shipped_tiny": {**PRESETS["istft_vocoder_tiny"],
                                                          "weights": {"file": path, "sha256": digest}}})
    loaded = ISTFTVocoder.from_preset("test_shipped_tiny")
    np.testing.assert_allclose(loaded.weights[0].numpy(), model.weights[0].numpy().astype(np.float16), rtol=0)
    assert "weights" not in loaded.get_config()
    fresh = ISTFTVocoder.from_preset("test_shipped_tiny", weights=None)  # untrained on request
    assert not np.allclose(fresh.weights[0].numpy(), loaded.weights[0].numpy())
    register_presets(ISTFTVocoder, {"test_broken_tiny": {**PRESETS["istft_vocoder_tiny"],
                                                         "weights": {"file": path, "sha256": "0" * 64}}})
    with pytest.raises(WeightsFileError, match="checksum mismatch"):
        ISTFTVocoder.from_preset("test_broken_tiny")
