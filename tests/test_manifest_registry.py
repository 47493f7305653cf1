"""Manifest format (CSV/JSONL round trip, relative paths, clear errors) and the preset registry."""

import os

import pytest

from audiogen_tf import manifest, registry
from audiogen_tf.errors import ConfigError


@pytest.mark.parametrize("name", ["m.csv", "m.jsonl"])
def test_manifest_round_trip(tmp_path, name):
    (tmp_path / "wavs").mkdir()
    entries = [
        {"path": str(tmp_path / "wavs" / "a.wav"), "text": "Hello, world.", "speaker": "slt", "duration": 1.5},
        {"path": str(tmp_path / "wavs" / "b.wav"), "label": "flute", "pitch": 60},
    ]
    path = manifest.write_manifest(entries, tmp_path / name)
    raw = open(path).read()
    assert str(tmp_path) not in raw  # stored relative to the manifest's folder
    back = manifest.read_manifest(path)
    assert [e["path"] for e in back] == [e["path"] for e in entries]
    assert back[0]["text"] == "Hello, world." and back[0]["duration"] == 1.5
    assert str(back[1]["pitch"]) == "60" and "text" not in back[1]


def test_manifest_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        manifest.read_manifest(tmp_path / "none.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("file,label\na.wav,x\n")
    with pytest.raises(ConfigError, match="'path' column"):
        manifest.read_manifest(bad)
    bad.write_text("path,duration\na.wav,long\n")
    with pytest.raises(ConfigError, match="bad duration"):
        manifest.read_manifest(bad)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"path": "a.wav"}\n{oops\n')
    with pytest.raises(ConfigError, match="bad.jsonl:2"):
        manifest.read_manifest(bad)
    with pytest.raises(ConfigError, match="no audio files"):
        manifest.load_entries(str(tmp_path / "*.wav"))


def test_entries_from_folder(tmp_path):
    for rel in ["x/a.wav", "x/y/b.flac", "x/notes.txt"]:
        os.makedirs(os.path.dirname(tmp_path / rel), exist_ok=True)
        (tmp_path / rel).write_bytes(b"0")
    found = [os.path.relpath(e["path"], tmp_path) for e in manifest.load_entries(tmp_path / "x")]
    assert found == ["x/a.wav", os.path.join("x", "y", "b.flac")]


def test_registry_presets():
    class Toy(registry.PresetMixin):
        def __init__(self, width=1, depth=1):
            self.width, self.depth = width, depth

    registry.register_presets(Toy, {"toy_tiny": {"width": 2}, "toy_big": {"width": 64, "depth": 8}})
    m = Toy.from_preset("toy_big", depth=3)
    assert (m.width, m.depth) == (64, 3)
    assert Toy.presets() == ["toy_big", "toy_tiny"]
    assert registry.get_model_class("Toy") is Toy
    with pytest.raises(ConfigError, match="Known presets: toy_big, toy_tiny"):
        Toy.from_preset("toy_huge")
    # presets are copied: changing the returned dict does not change the registry
    registry.get_preset(Toy, "toy_tiny")["width"] = 999
    assert Toy.from_preset("toy_tiny").width == 2
