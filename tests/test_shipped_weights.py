"""Every shipped weight file: beside its family, sha256 as its preset says, a model card, 40 MB in all, and it loads.

The shipped vocoder also has to sound trained: on a new sentence festival's slt voice speaks (the voice it was
trained on; skipped without festival) its PESQ-WB is far above an untrained copy's and within 0.4 of Griffin-Lim 32
from the same log-mel (on the 12 held-out corpus utterances it beats Griffin-Lim 64 in 9: the card has the table).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from audiogen_tf.pretrained import sha256_of
from audiogen_tf.registry import _PRESETS, get_model_class, shipped_weights_path
from zoo.families import zoo_families

zoo_families()  # imports every family's presets module

SHIPPED = [(cls_name, preset, kwargs["weights"]) for cls_name, table in sorted(_PRESETS.items())
           for preset, kwargs in sorted(table.items()) if kwargs.get("weights")]


def _path(cls_name, weights):
    return shipped_weights_path(get_model_class(cls_name), weights)


def test_something_ships_and_all_of_it_fits_in_40_mb():
    assert SHIPPED, "no preset ships weights"
    total = sum(os.path.getsize(_path(c, w)) for c, _, w in SHIPPED)
    assert total <= 40e6, f"shipped weights take {total / 1e6:.1f} MB (limit 40 MB)"


@pytest.mark.parametrize("cls_name, preset, weights", SHIPPED, ids=[p for _, p, _ in SHIPPED])
def test_file_checksum_and_card(cls_name, preset, weights):
    path = _path(cls_name, weights)
    assert sha256_of(path) == weights["sha256"], f"{path} is not the file its preset names"
    card = open(os.path.splitext(path)[0] + ".md", encoding="utf-8").read()
    for needed in (weights["sha256"], "Parameters:", "Data:", "Training:", "Steps:", "Held-out metrics",
                   "Reproduce"):
        assert needed in card, f"model card of {preset} lacks {needed!r}"


@pytest.mark.parametrize("cls_name, preset, weights", SHIPPED, ids=[p for _, p, _ in SHIPPED])
def test_loads_through_from_preset(cls_name, preset, weights):
    cls = get_model_class(cls_name)
    model = cls.from_preset(preset)
    untrained = cls.from_preset(preset, weights=None)
    assert any(not np.allclose(a.numpy(), b.numpy()) for a, b in zip(model.weights, untrained.weights))


def test_shipped_vocoder_is_trained_on_a_festival_sentence(tmp_path):
    from audiogen_tf import audio as audio_io
    from audiogen_tf import features, metrics
    from audiogen_tf.datasets import speech
    from zoo.istft_vocoder import ISTFTVocoder

    if not speech.festival_available():
        pytest.skip("festival is not installed (apt-get install festival festvox-us-slt-hts)")
    pytest.importorskip("pesq")
    vocoder = ISTFTVocoder.from_preset("istft_vocoder_slt")
    cfg = vocoder.feature_settings
    path = str(tmp_path / "s.wav")
    speech._speak("festival", None, "The farmer sold apples and pears at the market.", path, timeout=60)
    y, _ = audio_io.load(path, sr=cfg.sample_rate)
    log_mel = np.asarray(cfg.log_mel(y[None]))
    voc = np.clip(np.asarray(vocoder(log_mel, training=False)).reshape(-1), -1, 1)
    gl = np.asarray(features.log_mel_to_audio(log_mel[0], cfg, n_iter=32, length=len(y), seed=0)).reshape(-1)
    untrained = np.clip(np.asarray(ISTFTVocoder.from_preset("istft_vocoder_slt", weights=None)(
        log_mel, training=False)).reshape(-1), -1, 1)
    n = min(len(y), len(voc), len(gl), len(untrained))
    p_voc, p_gl, p_untrained = (metrics.pesq_wb(y[:n], x[:n], cfg.sample_rate) for x in (voc, gl, untrained))
    assert p_voc > p_untrained + 1.0 and p_voc > p_gl - 0.4, (
        f"shipped vocoder PESQ-WB {p_voc:.2f}, Griffin-Lim 32 {p_gl:.2f}, untrained {p_untrained:.2f}")
