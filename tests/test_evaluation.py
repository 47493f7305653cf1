"""`audiogen evaluate`: pairing by name, per-file and corpus metrics, encoder judgements, JSON/markdown output."""

import json
import os

import numpy as np
import pytest

from audiogen_tf import audio, manifest
from audiogen_cli import main
from audiogen_tf.evaluation import evaluate_folder, write_report

SR = 16000


def _tone(freq, seconds=0.5):
    t = np.arange(int(SR * seconds)) / SR
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def folders(tmp_path):
    ref, gen = tmp_path / "ref", tmp_path / "gen"
    rng = np.random.default_rng(0)
    for name, freq, noise_db in [("a", 220.0, 30.0), ("b", 330.0, 10.0)]:
        x = _tone(freq)
        noise = rng.standard_normal(len(x)).astype(np.float32)
        noise *= np.sqrt(np.mean(x**2) / np.mean(noise**2) / 10 ** (noise_db / 10))
        audio.save(ref / f"{name}.wav", x, SR)
        audio.save(gen / f"{name}_voc.wav", x + noise, SR, subtype="FLOAT")
    audio.save(gen / "unpaired_voc.wav", _tone(440.0), SR)
    (ref / "c.wav").write_bytes(b"")  # an empty reference with no generated twin: ignored
    return ref, gen


def test_paired_metrics_and_report(folders, tmp_path):
    ref, gen = folders
    report = evaluate_folder(gen, ref, suffix="_voc", with_f0=False, progress=False)
    assert report["counts"] == {"generated": 3, "reference": 3, "paired": 2}
    assert report["per_file"]["a"]["snr"] == pytest.approx(30.0, abs=0.2)
    assert report["per_file"]["b"]["snr"] == pytest.approx(10.0, abs=0.2)
    assert report["per_file"]["a"]["mrstft"] < report["per_file"]["b"]["mrstft"]
    assert report["corpus"]["snr"] == pytest.approx(20.0, abs=0.2)
    json_path, md_path = write_report(report, tmp_path / "eval")
    assert json.load(open(json_path))["per_file"]["b"]["snr"] == pytest.approx(10.0, abs=0.2)
    text = open(md_path).read()
    assert "## Corpus means" in text and "| a |" in text


def test_encoder_judgement_with_labels(folders):
    ref, gen = folders

    class ToyEncoder:
        """Embeds by power-spectrum centroid (in 2 Hz bins) and level; classifies below / above 300 Hz."""

        def embed(self, clips, batch_size=32):
            spec = np.abs(np.fft.rfft(clips, axis=-1)) ** 2  # power: the tone dominates the noise
            centroid = (spec * np.arange(spec.shape[-1])).sum(-1) / spec.sum(-1)
            return np.stack([centroid, np.log(spec.sum(-1))], axis=-1)

        def classify(self, clips, batch_size=32):
            c = self.embed(clips)[:, 0]
            return np.stack([-(c - 150), c - 150], axis=-1)

    report = evaluate_folder(gen, ref, suffix="_voc", with_f0=False, progress=False, encoder=ToyEncoder(),
                             labels={"a": 0, "b": 1, "unpaired": 1})
    judged = report["encoder"]
    assert judged["num_generated"] == 3 and judged["num_real"] == 2  # the empty c.wav is skipped and reported
    assert any("c.wav: empty" in reason for reason in report["skipped"])
    assert judged["accuracy"] == pytest.approx(1.0)
    assert np.isfinite(judged["frechet_distance"]) and judged["inception_score"] >= 1.0


def test_cli_evaluate_with_a_zoo_encoder(folders, tmp_path, capsys):
    from zoo.encoders.encoders_mel_cnn import MelCNNEncoder

    ref, gen = folders
    os.remove(ref / "c.wav")
    encoder = MelCNNEncoder.from_preset("mel_cnn_tiny", num_classes=2, num_samples=8000)
    encoder.save(tmp_path / "enc.keras")
    manifest.write_manifest(
        [{"path": str(gen / f"{s}_voc.wav"), "label": lab} for s, lab in [("a", "low"), ("b", "high"), ("unpaired", "high")]],
        tmp_path / "labels.csv",
    )
    code = main(["evaluate", str(gen), "--reference", str(ref), "--suffix", "_voc", "--no-f0",
                 "--encoder", str(tmp_path / "enc.keras"), "--labels", str(tmp_path / "labels.csv"),
                 "--out", str(tmp_path / "report")])
    assert code == 0
    data = json.load(open(tmp_path / "report.json"))
    assert data["counts"]["paired"] == 2 and "frechet_distance" in data["encoder"] and "accuracy" in data["encoder"]
    assert "## Encoder judgements" in capsys.readouterr().out


def test_no_common_names_is_a_clear_error(tmp_path, capsys):
    audio.save(tmp_path / "g" / "x.wav", _tone(100), SR)
    audio.save(tmp_path / "r" / "y.wav", _tone(100), SR)
    assert main(["evaluate", str(tmp_path / "g"), "--reference", str(tmp_path / "r")]) == 2
    assert "no file names in common" in capsys.readouterr().err


def test_pitch_and_dnsmos_numbers_in_the_report(folders, tmp_path, monkeypatch, capsys):
    import sys

    ref, gen = folders
    monkeypatch.setitem(sys.modules, "speechmos", None)  # DNSMOS unavailable: None and one reason
    report = evaluate_folder(gen, ref, suffix="_voc", progress=False, with_wer=False)
    a = report["per_file"]["a"]
    assert a["f0_rmse_cents"] < 5.0 and a["vuv_f1"] > 0.9  # a tone at 30 dB SNR keeps its pitch
    assert a["dnsmos_ovrl"] is None and report["corpus"]["dnsmos_ovrl"] is None
    assert sum("DNSMOS not computed" in reason for reason in report["skipped"]) == 1
    assert report["corpus"]["vuv_f1"] == pytest.approx(np.mean([s["vuv_f1"] for s in report["per_file"].values()]))
    code = main(["evaluate", str(gen), "--reference", str(ref), "--suffix", "_voc", "--no-dnsmos",
                 "--f0-range", "50", "600", "--out", str(tmp_path / "report")])
    assert code == 0
    data = json.load(open(tmp_path / "report.json"))
    assert "vuv_f1" in data["corpus"] and "f0_rmse_cents" in data["corpus"]
    assert not any(k.startswith("dnsmos") for k in data["corpus"])
    assert "| vuv_f1 |" in capsys.readouterr().out
