"""The drums builder on fake Hydrogen kits written by the test (no Debian package, nothing under /usr/share)."""

import csv
import json
import os
import zlib

import numpy as np
import pytest
import soundfile as sf

from audiogen_cli import main
from audiogen_tf.datasets import drums
from audiogen_tf.errors import MissingToolError

SR = 8000  # the fake samples' rate; the builder resamples to 16 kHz


def _hit(key, seconds=0.3, delay=0.05):
    """A decaying noise burst after ``delay`` s of silence, its own for every ``key`` (the builder drops copies)."""
    t = np.arange(int(seconds * SR)) / SR
    x = 0.3 * np.random.default_rng(zlib.crc32(key.encode())).standard_normal(len(t)) * np.exp(-t / 0.05)
    return np.concatenate([np.zeros(int(delay * SR)), x]).astype(np.float32)


def _kit(root, name, author, instruments, license_text="GPL", fmt="wav", long_sound=False):
    """Write ``root/name/drumkit.xml`` and one sample file per layer; ``instruments``: ``{name: layers}``."""
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    parts = []
    for i, (inst, layers) in enumerate(instruments.items()):
        xml_layers = []
        for k in range(layers):
            file = f"{inst.replace(' ', '_')}_{k}.{fmt}"
            seconds = 3.0 if long_sound else 0.3
            sf.write(os.path.join(folder, file), _hit(f"{name}/{file}", seconds), SR)
            xml_layers.append(f"<layer><filename>{file}</filename><min>{k / layers}</min>"
                              f"<max>{(k + 1) / layers}</max></layer>")
        parts.append(f"<instrument><id>{i}</id><name>{inst}</name>{''.join(xml_layers)}</instrument>")
    lic = f"<license>{license_text}</license>" if license_text else ""
    with open(os.path.join(folder, "drumkit.xml"), "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0"?><drumkit_info xmlns="http://www.hydrogen-music.org/drumkit">'
                f"<name>{name}</name><author>{author}</author>{lic}<instrumentList>{''.join(parts)}"
                "</instrumentList></drumkit_info>")
    return folder


STANDARD = {"Kick": 2, "Snare Rock": 2, "Closed HH": 1, "Open HH": 1, "Tom Low": 1, "Crash": 1, "Ride Jazz": 1,
            "Hand Clap": 1}


@pytest.fixture()
def fake_system(tmp_path):
    """Five fake kits by five authors (one with an odd extra instrument), a copyright file and a dpkg list."""
    kits_root = tmp_path / "drumkits"
    kits = [
        _kit(kits_root, "Alpha Kit", "Ann", {**STANDARD, "Whistle": 1, "Snare Roll": 1}),
        _kit(kits_root, "Beta v2", "Bob &lt;bob@example.org&gt;", STANDARD, license_text="", fmt="flac"),
        _kit(kits_root, "Gamma", "Cy", STANDARD, license_text="CC-BY 3.0"),
        _kit(kits_root, "Delta", "Di", STANDARD, license_text="Creative Commons 0"),
        _kit(kits_root, "Epsilon", "Ed", STANDARD, license_text="GPL", long_sound=True),
        _kit(kits_root, "NonFree", "Nn", STANDARD, license_text="CC-BY-NC 3.0"),
    ]
    broken = kits_root / "Broken"
    broken.mkdir()
    (broken / "drumkit.xml").write_text("<drumkit_info><name>Broken</name><author>A <b></author>", encoding="utf-8")
    kits.append(str(broken))
    copyright_path = tmp_path / "copyright"
    copyright_path.write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "Files: drumkits/Beta.h2drumkit\nCopyright: Bob\nLicense: GPL-2+\n long text\n\n"
        "Files:\n drumkits/Alpha?Kit.h2drumkit\n drumkits/Epsilon.h2drumkit\nCopyright: Ann\nLicense: GPL-2\n",
        encoding="utf-8",
    )
    info = tmp_path / "dpkg"
    info.mkdir()
    lines = [os.path.join(k, "drumkit.xml") for k in kits] + [str(copyright_path).replace(
        "copyright", "doc/hydrogen-drumkits/copyright")]
    (info / "hydrogen-drumkits.list").write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.makedirs(tmp_path / "doc" / "hydrogen-drumkits")
    os.replace(copyright_path, tmp_path / "doc" / "hydrogen-drumkits" / "copyright")
    return info


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("name,label", [
    ("Kick (Tama Superstar 22\")", "kick"), ("c3 - bass drum 1", "kick"), ("BassDrum", "kick"),
    ("Hi Hat Opened", "open_hihat"), ("Hat Op Dirty", "open_hihat"), ("Side OHH", "open_hihat"),
    ("Closed HH 2", "closed_hihat"), ("VariBreaks Hat 1 Cl", "closed_hihat"), ("f#3 - hi-hat closed", "closed_hihat"),
    ("Pedal HH", "pedal_hihat"), ("Hi-Hat Pedal (Paiste)", "pedal_hihat"), ("Pearl Side Stick", "rim"),
    ("Rim Click (Pearl)", "rim"), ("Stick", "rim"), ("Snare Rimshot (Pearl)", "snare"), ("Hand Clap", "clap"),
    ("tomhi2", "tom"), ("Pearl Tom Floor", "tom"), ("Ride (Custom, Zagrebin 22\")", "ride"), ("ride-cup", "ride_bell"),
    ("Zildjian Splash", "crash"), ("China (Paiste)", "crash"), ("Conga 1", "hand_drum"), ("Cowbell", "cowbell"),
])
def test_classify_instrument_table(name, label):
    assert drums.classify_instrument(name) == (label, "")


@pytest.mark.parametrize("name", ["Snare Roll", "Sabian Hat Semi-Open", "Crash/Ride Bell (Paiste)", "Hat Choke"])
def test_left_out_by_rule(name):
    label, note = drums.classify_instrument(name)
    assert label is None and note


@pytest.mark.parametrize("name", ["Whistle", "17", "Sample: beats_01.flac", "Hat Ring 1", "redo super opaco"])
def test_unmapped(name):
    assert drums.classify_instrument(name) == (None, "")


def test_build_maps_splits_and_records_licences(fake_system, tmp_path):
    out = tmp_path / "out"
    path = drums.build_drums(out, dpkg_info=fake_system, num_samples=4096, min_groups=2, min_files=2, progress=False)
    rows = _rows(path)
    assert {r["label"] for r in rows} == {"kick", "snare", "closed_hihat", "open_hihat", "tom", "crash", "ride",
                                          "clap"}
    # every clip: 16 kHz, fixed length, peak-normalised, starting near its attack
    for r in rows[:6] + rows[-6:]:
        x, sr = sf.read(os.path.join(out, r["path"]))
        assert sr == 16000 and x.shape == (4096,)
        assert 0.9 < np.max(np.abs(x)) <= 0.96
        assert np.argmax(np.abs(x) > 0.1) < int(0.01 * 16000)  # the 50 ms of silence are gone
    # the long kit was cut (fade-out to silence), the others padded
    long = [r for r in rows if r["kit"] == "Epsilon"]
    assert long and all(r["cut"] == "1" for r in long)
    x, _ = sf.read(os.path.join(out, long[0]["path"]))
    assert abs(x[-1]) < 1e-3
    # velocity layers, softest first
    assert sorted(r["velocity"] for r in rows if r["kit"] == "Gamma" and r["label"] == "kick") == ["0", "1"]
    # licences: Debian's name first, the XML's otherwise; the non-commercial kit is left out
    lic = {r["kit"]: r["license"] for r in rows}
    assert lic["Beta v2"] == "GPL-2+" and lic["Alpha Kit"] == "GPL-2" and lic["Gamma"] == "CC-BY 3.0"
    assert "NonFree" not in lic
    summary = drums.read_summary(out)
    assert set(summary["unclear_kits"]) == {"NonFree"}
    assert list(summary["bad_kits"]) == ["Broken"] and "drumkit.xml" in summary["bad_kits"]["Broken"]
    # split by kit group: each kit lies in one split, and train, valid and test are all used
    split_of_kit = {}
    for r in rows:
        assert split_of_kit.setdefault(r["kit"], r["split"]) == r["split"]
    assert set(split_of_kit.values()) == {"train", "valid", "test"}
    for split in ("train", "valid", "test"):
        part = _rows(out / f"{split}.csv")
        assert part and {r["split"] for r in part} == {split}
    assert sum(len(_rows(out / f"{s}.csv")) for s in ("train", "valid", "test")) == len(rows)
    stems = [os.path.splitext(os.path.basename(r["path"]))[0] for r in rows]
    assert len(set(stems)) == len(stems)  # unique file names across kits (audiogen evaluate pairs by name)
    # unmapped and left-out names are reported
    assert summary["unmapped"] == {"Whistle": 1}
    assert any(k.startswith("Snare Roll") for k in summary["excluded"])
    text = drums.format_summary(summary)
    assert "| kick |" in text and "Whistle (1)" in text and "test kits:" in text
    # deterministic: a second build into another folder gives the same manifest (paths aside)
    again = _rows(drums.build_drums(tmp_path / "again", dpkg_info=fake_system, num_samples=4096, min_groups=2,
                                    min_files=2, progress=False))
    assert [(r["kit"], r["label"], r["split"]) for r in again] == [(r["kit"], r["label"], r["split"]) for r in rows]


def test_conflicting_licences_are_unclear(tmp_path):
    kit = _kit(tmp_path, "Epsilon", "Ed", {"Kick": 1}, license_text="GPL")
    stanzas = [(["drumkits/Epsilon.h2drumkit"], "CC-BY-SA-3.0")]
    lic = drums.kit_license(drums.read_kit(kit), kit, stanzas)
    assert not lic["clear"] and "CC-BY-SA-3.0" in lic["why"]
    third = _kit(tmp_path, "Fs", "F", {"Kick": 1}, license_text="CC0")
    os.rename(os.path.join(third, "Kick_0.wav"), os.path.join(third, "86335__someone__kick.wav"))
    with open(os.path.join(third, "drumkit.xml"), encoding="utf-8") as f:
        xml = f.read().replace("Kick_0.wav", "86335__someone__kick.wav")
    with open(os.path.join(third, "drumkit.xml"), "w", encoding="utf-8") as f:
        f.write(xml)
    lic = drums.kit_license(drums.read_kit(third), third, [])
    assert not lic["clear"] and "freesound" in lic["why"]


def test_copies_are_kept_once(tmp_path):
    kit = _kit(tmp_path / "kits", "Dup", "Ann", {"Kick": 1, "Snare": 1, "Tom": 1})
    x, _ = sf.read(os.path.join(kit, "Kick_0.wav"))
    sf.write(os.path.join(kit, "Snare_0.wav"), x, SR)  # the same bytes
    sf.write(os.path.join(kit, "Tom_0.wav"), x, SR, subtype="FLOAT")  # the same sound, encoded otherwise
    (tmp_path / "hydrogen-drumkits.list").write_text(os.path.join(kit, "drumkit.xml") + "\n", encoding="utf-8")
    rows = _rows(drums.build_drums(tmp_path / "out", dpkg_info=tmp_path, num_samples=2048, min_groups=1,
                                   min_files=1, progress=False))
    assert [r["label"] for r in rows] == ["kick"]
    skipped = drums.read_summary(tmp_path / "out")["skipped"]
    assert skipped["same file as another sample"] == 1
    assert skipped["same sound as another sample (a scaled or re-encoded copy)"] == 1


def test_include_unclear_and_explicit_held_out_groups(fake_system, tmp_path):
    path = drums.build_drums(tmp_path / "all", dpkg_info=fake_system, num_samples=2048, include_unclear=True,
                             test_groups=["cy"], valid_groups=["di"], min_groups=2, min_files=2, progress=False)
    rows = _rows(path)
    assert "NonFree" in {r["kit"] for r in rows}
    assert {r["kit"] for r in rows if r["split"] == "test"} == {"Gamma"}
    assert {r["kit"] for r in rows if r["split"] == "valid"} == {"Delta"}


def test_split_groups_keeps_every_class_in_training():
    counts = {"a": {"kick": 5, "cowbell": 1}, "b": {"kick": 5}, "c": {"kick": 5, "snare": 2}, "d": {"snare": 3},
              "e": {"kick": 2}}
    out = drums.split_groups(counts, test=0.2, valid=0.2)
    assert out["a"] == "train"  # the only cowbell
    trained = {c for g, s in out.items() if s == "train" for c in counts[g]}
    assert trained == {"kick", "cowbell", "snare"}
    assert sorted(out.values()).count("test") == 1 and sorted(out.values()).count("valid") == 1
    assert out == drums.split_groups(counts, test=0.2, valid=0.2)


def test_missing_package_message(tmp_path):
    with pytest.raises(MissingToolError, match="sudo apt-get install hydrogen-drumkits"):
        drums.build_drums(tmp_path / "out", dpkg_info=tmp_path, progress=False)


def test_cli_missing_package_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(drums, "DPKG_INFO", str(tmp_path))
    assert main(["data", "drums", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "apt-get install hydrogen-drumkits" in err[0] and "Traceback" not in err[0]


def test_cli_builds_and_prints_summary(fake_system, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(drums, "DPKG_INFO", str(fake_system))
    out = tmp_path / "cli"
    assert main(["data", "drums", str(out), "--num-samples", "2048", "--sample-rate", "22050"]) == 0
    text = capsys.readouterr().out
    assert "| **all** |" in text and "wrote" in text
    x, sr = sf.read(os.path.join(out, _rows(out / "manifest.csv")[0]["path"]))
    assert sr == 22050 and len(x) == 2048
    summary = json.loads((out / "summary.json").read_text())
    assert summary["files"] == len(_rows(out / "manifest.csv"))
    # by default a class needs 8 distinct sounds: the fake kits' one-layer instruments (5 sounds) are left out
    assert summary["rare_classes"]["tom"] == {"kit_groups": 5, "files": 5}
    assert {r["label"] for r in _rows(out / "manifest.csv")} == {"kick", "snare"}
