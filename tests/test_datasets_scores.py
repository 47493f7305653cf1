"""Score data (`audiogen data scores`): the event vocabulary and piano-roll without music21; a small chorale build,
its manifest, split, transpositions, licenses and cache with music21 (skipped with the pip line without it)."""

import os
import subprocess
import sys

import numpy as np
import pytest

from audiogen_tf.datasets import scores
from audiogen_tf.datasets.scores import (
    BOS, EOS, MUSIC_EXTRA, NOTE_ON, VOCAB, MissingPackageError, build_scores, decode_events, encode_events,
    parse_transpose, piano_roll, read_scores, roll_to_multi_hot, token_name, transpose_events,
)
from audiogen_tf.errors import ConfigError

try:
    import music21  # noqa: F401

    HAVE_MUSIC21 = True
except ImportError:
    HAVE_MUSIC21 = False
needs_music21 = pytest.mark.skipif(not HAVE_MUSIC21, reason=f"music21 is not installed: {MUSIC_EXTRA}")


# ------------------------------------------------------------------------------------ no music21 needed
def test_events_round_trip_with_long_gaps_unisons_and_velocities():
    notes = [(0, 3, 60, 100), (0, 40, 48, 40), (3, 5, 62, 100), (37, 40, 67, 100)]
    ev = encode_events(notes)
    assert ev[0] == BOS and ev[-1] == EOS and ev.dtype == np.int32 and ev.max() < VOCAB
    back, want = decode_events(ev), sorted(notes, key=lambda n: (n[0], n[2]))  # by onset, then pitch
    assert [n[:3] for n in back] == [n[:3] for n in want]
    assert all(abs(a[3] - b[3]) <= 4 for a, b in zip(back, want))  # 32 velocity bins of 4
    names = [token_name(t) for t in ev]
    assert names.count("SHIFT_16") == 2  # the 32-step gap is cut into 16-step shifts
    assert sum(n.startswith("VEL_") for n in names) == 2  # a velocity token only where the velocity changes
    # a unison (two voices on one pitch) is one sounding note, ending with the longer one
    ev = encode_events([(0, 4, 60, 80), (0, 8, 60, 80)])
    assert decode_events(ev) == [(0, 8, 60, 80)]
    # a re-struck pitch: off then on at the same time
    assert decode_events(encode_events([(0, 2, 60, 80), (2, 4, 60, 80)])) == [(0, 2, 60, 80), (2, 4, 60, 80)]


def test_decoding_sampled_nonsense_never_fails():
    rng = np.random.default_rng(0)
    notes = decode_events(rng.integers(0, VOCAB, 500))
    assert all(s < e and 0 <= p < 128 for s, e, p, _ in notes)


def test_transpose_events_and_range():
    ev = encode_events([(0, 2, 60, 80), (2, 4, 64, 80)])
    up = transpose_events(ev, 3)
    assert [p for _, _, p, _ in decode_events(up)] == [63, 67]
    assert transpose_events(encode_events([(0, 1, 126, 80)]), 3) is None
    assert parse_transpose("-1:1") == [-1, 0, 1] and parse_transpose("") == []
    with pytest.raises(ConfigError, match="--transpose"):
        parse_transpose("a:b")


def test_piano_roll_is_pitch_per_voice_per_step():
    soprano = [(0.0, 1.0, 67), (1.0, 0.5, 69)]
    bass = [(0.0, 2.0, 43)]
    roll = piano_roll([soprano, bass], quantum=0.5)
    assert roll.tolist() == [[67, 43], [67, 43], [69, 43], [0, 43]]
    hot = roll_to_multi_hot(roll)
    assert hot.shape == (4, 88) and hot.sum(axis=1).tolist() == [2, 2, 2, 1] and hot[0, 67 - 21] == 1


def test_missing_music21_names_the_pip_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "music21", None)  # import music21 -> ImportError
    with pytest.raises(MissingPackageError, match=r'pip install "audiogen-tf\[music\]"'):
        build_scores(tmp_path / "s", "chorales", limit=1, progress=False)
    with pytest.raises(ConfigError, match="unknown score corpus"):
        build_scores(tmp_path / "s", "madrigals")


def test_read_scores_rejects_other_manifests(tmp_path):
    from audiogen_tf.manifest import write_manifest

    path = write_manifest([{"path": "a.wav", "label": "flute"}], tmp_path / "manifest.csv")
    with pytest.raises(ConfigError, match="not a score row"):
        read_scores(path)


# ------------------------------------------------------------------------------------ with music21
@needs_music21
def test_chorale_build_manifest_split_transpositions_and_cache(tmp_path, monkeypatch):
    out = tmp_path / "chorales"
    manifest = build_scores(out, "chorales", transpose=[-1, 2], limit=5, progress=False)
    rows = read_scores(manifest)
    originals = [r for r in rows if r["transpose"] == 0]
    assert len(originals) == 5 and {r["split"] for r in originals} <= {"train", "valid", "test"}
    for r in rows:
        assert r["label"] == "chorales" and r["source"].startswith("music21:bach/")
        assert "public domain" in r["license"] and "license.txt" in r["license"]
        assert r["events"][0] == BOS and r["events"][-1] == EOS and int(r["num_events"]) == len(r["events"])
        roll = scores.load_roll(r)
        assert roll.shape == (int(r["roll_steps"]), 4) and roll.max() < 100
        assert r["key"].split()[1] in ("major", "minor") and 0 <= r["key_id"] < 24
        if r["transpose"]:
            assert r["split"] == "train"  # augmentation only for training pieces
            orig = next(o for o in originals if o["piece"] == r["piece"])
            assert (r["key_id"] % 12 - orig["key_id"] % 12) % 12 == r["transpose"] % 12
            np.testing.assert_array_equal(transpose_events(orig["events"], r["transpose"]), r["events"])
    assert sum(r["transpose"] != 0 for r in rows) == 2 * sum(r["split"] == "train" for r in originals)
    # the split is a hash of the piece: the same again, in any build
    again = read_scores(build_scores(tmp_path / "again", "chorales", limit=5, progress=False))
    assert {r["piece"]: r["split"] for r in again} == {r["piece"]: r["split"] for r in originals}
    # a rebuild with other settings reads the cache, without music21
    monkeypatch.setitem(sys.modules, "music21", None)
    rebuilt = read_scores(build_scores(out, "chorales", transpose=[], roll_quantum=1.0, limit=5, progress=False))
    assert len(rebuilt) == 5 and all(r["roll_quantum"] == "1.0" for r in rebuilt)


@needs_music21
def test_folk_tune_is_one_voice():
    from music21 import converter

    abc = "X:1\nT:Test tune\nM:4/4\nL:1/8\nK:D\nDEFG A2B2|A4 d4|]\n"
    rec = scores._piece_record(converter.parse(abc, format="abc"), "t1", "abc:test", voices=1)
    assert len(rec["voices"]) == 1 and rec["mode"] == "major"
    ev = scores.piece_events(rec)
    notes = decode_events(ev)
    assert [p for _, _, p, _ in notes] == [62, 64, 66, 67, 69, 71, 69, 74]
    assert notes[4][:2] == (8, 12)  # A2 (a quarter) starts at beat 3 = step 8 of sixteenths
    assert ev[1] - NOTE_ON != 62  # a velocity token comes first


@needs_music21
def test_cli_builds_scores(tmp_path):
    out = tmp_path / "cli"
    proc = subprocess.run([sys.executable, "-m", "audiogen_cli", "data", "scores", str(out), "--corpus", "chorales",
                           "--limit", "2", "--transpose=-1:1"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "manifest.csv" in proc.stdout and (out / "manifest.csv").exists()
    bad = subprocess.run([sys.executable, "-m", "audiogen_cli", "data", "scores", str(out), "--transpose", "x"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("audiogen: error:") and "--transpose" in bad.stderr


@pytest.mark.slow
@needs_music21
def test_folk_corpus_builds(tmp_path):
    rows = read_scores(build_scores(tmp_path / "folk", "folk", limit=1, progress=False))
    assert len(rows) > 100 and all(r["voices"] == "1" and r["label"] == "folk" for r in rows)
    assert all("non-commercial" in r["license"] for r in rows)
