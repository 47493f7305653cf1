"""Every shipped weight file: beside its family, sha256 as its preset says, a model card, 40 MB in all, and it loads.

The shipped vocoders also have to sound trained (``istft_vocoder_slt_consistent`` with the 32 consistency iterations
it is meant for): on a new sentence festival's slt voice speaks (the voice it was
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


@pytest.mark.parametrize("preset, refine", [("istft_vocoder_slt", 0), ("istft_vocoder_slt_consistent", 32)])
def test_shipped_vocoder_is_trained_on_a_festival_sentence(tmp_path, preset, refine):
    from audiogen_tf import audio as audio_io
    from audiogen_tf import features, metrics
    from audiogen_tf.datasets import speech
    from zoo.istft_vocoder import ISTFTVocoder

    if not speech.festival_available():
        pytest.skip("festival is not installed (apt-get install festival festvox-us-slt-hts)")
    pytest.importorskip("pesq")
    vocoder = ISTFTVocoder.from_preset(preset)
    cfg = vocoder.feature_settings
    path = str(tmp_path / "s.wav")
    speech._speak("festival", None, "The farmer sold apples and pears at the market.", path, timeout=60)
    y, _ = audio_io.load(path, sr=cfg.sample_rate)
    log_mel = np.asarray(cfg.log_mel(y[None]))
    voc = vocoder.synthesize_refined(log_mel, refine) if refine else vocoder(log_mel, training=False)
    voc = np.clip(np.asarray(voc).reshape(-1), -1, 1)
    gl = np.asarray(features.log_mel_to_audio(log_mel[0], cfg, n_iter=32, length=len(y), seed=0)).reshape(-1)
    untrained = np.clip(np.asarray(ISTFTVocoder.from_preset(preset, weights=None)(
        log_mel, training=False)).reshape(-1), -1, 1)
    n = min(len(y), len(voc), len(gl), len(untrained))
    p_voc, p_gl, p_untrained = (metrics.pesq_wb(y[:n], x[:n], cfg.sample_rate) for x in (voc, gl, untrained))
    assert p_voc > p_untrained + 1.0 and p_voc > p_gl - 0.4, (
        f"shipped vocoder {preset} (+ {refine} iterations) PESQ-WB {p_voc:.2f}, Griffin-Lim 32 {p_gl:.2f}, untrained {p_untrained:.2f}")


def test_shipped_ctc_tts_aligns_its_own_speech_where_it_put_the_tokens(tmp_path):
    """``audiogen align`` with no ``--model`` uses the shipped ``ctc_tts_slt``: on speech the shipped model itself
    made (its mel through Griffin-Lim, so no Debian file is needed) the aligner finds token boundaries within a
    few frames of the durations the model chose, and every token gets at least one frame."""
    import json

    from audiogen_cli import main
    from audiogen_tf import audio as audio_io
    from zoo.ctc_tts import CTCTTS

    text = "The farmer sold apples and pears at the market."
    tts = CTCTTS.from_preset("ctc_tts_slt")
    out = tts.synthesize(text, griffin_lim_iters=32)
    wav = str(tmp_path / "own.wav")
    audio_io.save(wav, np.clip(np.asarray(out["audio"]).reshape(-1), -1, 1), tts.sample_rate)
    assert main(["align", wav, text, "--out", str(tmp_path / "align")]) == 0
    doc = json.load(open(tmp_path / "align" / "own_durations.json", encoding="utf-8"))
    found = np.array([t["frames"] for t in doc["tokens"]])
    assert doc["model"] == "ctc_tts_slt" and len(found) == len(out["durations"]) and found.min() >= 1
    boundary_error = np.abs(np.cumsum(found) - np.cumsum(out["durations"]))
    assert np.median(boundary_error) <= 2 and boundary_error.max() <= 10, boundary_error.tolist()


def test_shipped_character_presets_use_the_frozen_symbol_table():
    """The shipped recognizer's output rows follow CHARACTER_SYMBOLS_V1 (today also the default table)."""
    from audiogen_tf.registry import get_preset
    from audiogen_tf.text import CHARACTER_SYMBOLS, CHARACTER_SYMBOLS_V1

    assert "".join(CHARACTER_SYMBOLS) == CHARACTER_SYMBOLS_V1
    frontend = get_preset(get_model_class("CTCRecognizer"), "ctc_recognizer_en")["frontend"]
    assert frontend["symbol_type"] == "characters" and "".join(frontend["symbols"]) == CHARACTER_SYMBOLS_V1


def test_shipped_phoneme_presets_use_the_frozen_symbol_table():
    """Shipped embeddings follow PHONEME_SYMBOLS_V1's order: each phoneme preset with weights names that table."""
    from audiogen_tf.registry import get_preset
    from audiogen_tf.text import PHONEME_SYMBOLS_V1

    phoneme_presets = [(c, p) for c, p, _ in SHIPPED
                       if get_preset(get_model_class(c), p).get("frontend", {}).get("symbol_type") == "phonemes"]
    assert {p for _, p in phoneme_presets} >= {"tacotron2_slt", "ctc_tts_slt"}
    for cls_name, preset in phoneme_presets:
        assert "".join(get_preset(get_model_class(cls_name), preset)["frontend"]["symbols"]) == PHONEME_SYMBOLS_V1


def test_shipped_recognizer_reads_what_the_shipped_tts_says():
    """The shipped recognizer ``ctc_recognizer_en`` transcribes the shipped CTC TTS's mel of new sentences (no
    Debian tool needed) with a low character error rate, where an untrained copy gets nearly everything wrong."""
    from audiogen_tf import metrics
    from zoo.ctc_recognizer import CTCRecognizer
    from zoo.ctc_tts import CTCTTS

    texts = ["The farmer sold apples and pears at the market.", "Please close the window before it rains."]
    tts = CTCTTS.from_preset("ctc_tts_slt")
    mels = [np.asarray(tts.synthesize(t, griffin_lim_iters=0)["mel"]).reshape(-1, tts.n_mels) for t in texts]
    reference = " ".join(texts)

    def cer(model):
        return metrics.character_error_rate(reference, " ".join(model.transcribe_mel(mels, beam_width=1)))

    trained, untrained = cer(CTCRecognizer.from_preset("ctc_recognizer_en")), cer(
        CTCRecognizer.from_preset("ctc_recognizer_small"))
    assert trained < 0.15 and untrained > 0.6, f"CER shipped {trained:.3f}, untrained {untrained:.3f}"


def test_evaluate_takes_the_shipped_recognizer_by_name(tmp_path):
    """``audiogen evaluate --recognizer ctc_recognizer_en`` (a preset, no .keras file) adds the CER column."""
    import json

    import soundfile as sf

    from audiogen_cli import main
    from audiogen_tf.manifest import write_manifest
    from zoo.ctc_tts import CTCTTS

    text = "Please close the window before it rains."
    tts = CTCTTS.from_preset("ctc_tts_slt")
    audio = np.clip(np.asarray(tts.synthesize(text, griffin_lim_iters=32)["audio"]).reshape(-1), -1, 1)
    gen, ref = tmp_path / "gen", tmp_path / "ref"
    gen.mkdir(), ref.mkdir()
    for folder in (gen, ref):
        sf.write(folder / "u0.wav", audio, tts.sample_rate)
    write_manifest([{"path": str(ref / "u0.wav"), "text": text}], ref / "manifest.csv")
    assert main(["evaluate", str(gen), "--reference", str(ref), "--no-f0", "--no-dnsmos",
                 "--recognizer", "ctc_recognizer_en", "--out", str(tmp_path / "eval")]) == 0
    report = json.load(open(tmp_path / "eval.json"))
    assert report["corpus"]["cer"] < 0.2, report["transcripts"]["u0"]
