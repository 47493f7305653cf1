"""Built-in datasets: synthetic notes and sound effects, spoken corpus, GM notes, corpus readers."""

import collections
import json
import os
import shutil
import time

import numpy as np
import pytest

from audiogen_tf import audio
from audiogen_tf.datasets import fluidsynth_notes, notes, readers, sfx, speech
from audiogen_tf.errors import ConfigError, MissingToolError
from audiogen_tf.manifest import read_manifest, write_manifest


def _peak_hz(x, sr):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)), n=4 * len(x)))
    return np.fft.rfftfreq(4 * len(x), 1.0 / sr)[np.argmax(spec)]


def _cents(f, ref):
    return 1200.0 * np.log2(f / ref)


def _files_bytes(folder):
    out = {}
    for d, _, names in os.walk(folder):
        for n in names:
            if n.endswith((".wav", ".csv")):
                with open(os.path.join(d, n), "rb") as f:
                    out[os.path.relpath(os.path.join(d, n), folder)] = f.read()
    return out


# ------------------------------------------------------------------------------------------------
# synthetic notes


@pytest.mark.parametrize("timbre", sorted(notes.TIMBRES))
def test_note_f0_matches_pitch(timbre):
    rng = np.random.default_rng(3)
    for pitch in (48, 60, 72):
        x = notes.generate_note(pitch, timbre, 16000, 1.0, rng)
        assert x.dtype == np.float32 and x.shape == (16000,)
        assert 0.1 < np.max(np.abs(x)) <= 1.0
        assert abs(_cents(_peak_hz(x, 16000), notes.midi_to_hz(pitch))) < 30, (timbre, pitch)


def test_timbres_differ_in_spectrum_and_envelope():
    sr = 16000
    feats = {}
    for t in notes.TIMBRES:
        x = notes.generate_note(57, t, sr, 1.0, None)
        spec = np.abs(np.fft.rfft(x))
        f0 = notes.midi_to_hz(57)
        harm = [spec[int(round(k * f0))] for k in range(1, 9)]  # 1 Hz bins
        late = np.sqrt(np.mean(x[int(0.6 * sr) : int(0.75 * sr)] ** 2)) / np.sqrt(np.mean(x[: int(0.2 * sr)] ** 2))
        feats[t] = (np.array(harm) / harm[0], late)
    # clarinet: odd harmonics dominate even ones; string (sawtooth): strong 2nd harmonic
    cl = feats["clarinet"][0]
    assert cl[2] > 5 * cl[1] and cl[4] > 5 * cl[3]
    assert feats["string"][0][1] > 0.3
    assert feats["flute"][0][3] < 0.1
    # percussive timbres decay, sustained ones do not
    for t in ("bell", "marimba", "pluck"):
        assert feats[t][1] < 0.5, t
    for t in ("flute", "string", "clarinet", "organ"):
        assert feats[t][1] > 0.7, t


def test_make_notes_deterministic_complete_and_idempotent(tmp_path):
    kwargs = dict(pitches=[50, 64, 71], timbres=["flute", "bell", "string"], variations=2, progress=False)
    m1 = notes.make_notes(tmp_path / "a", seed=7, **kwargs)
    notes.make_notes(tmp_path / "b", seed=7, **kwargs)
    notes.make_notes(tmp_path / "c", seed=8, **kwargs)
    a, b, c = (_files_bytes(tmp_path / d) for d in "abc")
    assert a == b and len(a) == 3 * 3 * 2 + 1
    assert a.keys() == c.keys() and a != c  # another seed, other renditions
    entries = read_manifest(m1)
    assert collections.Counter(e["label"] for e in entries) == {"flute": 6, "bell": 6, "string": 6}
    assert collections.Counter(int(e["pitch"]) for e in entries) == {50: 6, 64: 6, 71: 6}
    for e in entries:
        assert e["label"] == e["timbre"] and e["duration"] == 1.0 and e["split"] in {"train", "valid", "test"}
        x, sr = audio.load(e["path"])
        assert sr == 16000 and 0.3 < np.max(np.abs(x)) <= 1.0
        assert abs(_cents(_peak_hz(x, sr), notes.midi_to_hz(int(e["pitch"])))) < 30
    # variations of one note differ; a second build with the same arguments rewrites nothing
    v0, _ = audio.load(tmp_path / "a" / "audio" / "flute_064_00.wav")
    v1, _ = audio.load(tmp_path / "a" / "audio" / "flute_064_01.wav")
    assert np.max(np.abs(v0 - v1)) > 0.05
    before = os.path.getmtime(m1)
    time.sleep(0.01)
    assert notes.make_notes(tmp_path / "a", seed=7, **kwargs) == m1 and os.path.getmtime(m1) == before
    with pytest.raises(ConfigError, match="unknown timbre"):
        notes.make_notes(tmp_path / "d", timbres=["kazoo"], progress=False)


def test_default_notes_build_fast(tmp_path):
    start = time.perf_counter()
    entries = read_manifest(notes.make_notes(tmp_path, progress=False))
    elapsed = time.perf_counter() - start
    assert len(entries) == 25 * len(notes.DEFAULT_TIMBRES) * 2
    assert {e["split"] for e in entries} == {"train", "valid", "test"}
    assert elapsed < 15.0


# ------------------------------------------------------------------------------------------------
# sound effects


def _sfx_features(x, sr=16000):
    frame, hop = 512, 256
    frames = np.lib.stride_tricks.sliding_window_view(x, frame)[::hop] * np.hanning(frame)
    spec = np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-10
    freqs = np.fft.rfftfreq(frame, 1.0 / sr)
    energy = spec.sum(1)
    w = energy / energy.sum()
    t = np.arange(len(energy))
    logc = np.log((spec * freqs).sum(1) / energy + 1.0)
    tm, cm = (w * t).sum(), (w * logc).sum()
    slope = (w * (t - tm) * (logc - cm)).sum() / ((w * (t - tm) ** 2).sum() + 1e-9)
    edges = np.geomspace(50, sr / 2, 17)
    bands = np.array([np.log((spec[:, (freqs >= lo) & (freqs < hi)].sum(1) * w).sum() + 1e-10) for lo, hi in zip(edges[:-1], edges[1:])])
    active = np.mean(10 * np.log10(energy / energy.max()) > -20)
    flatness = (w * np.exp(np.mean(np.log(spec), 1)) / np.mean(spec, 1)).sum()
    return np.concatenate([bands - bands.max(), [10 * slope, 5 * active, 5 * flatness]])


def test_sfx_clips_deterministic_and_separable(tmp_path):
    m = sfx.make_sfx(tmp_path / "a", per_class=16, seed=1, progress=False)
    sfx.make_sfx(tmp_path / "b", per_class=16, seed=1, progress=False)
    assert _files_bytes(tmp_path / "a") == _files_bytes(tmp_path / "b")
    entries = read_manifest(m)
    assert collections.Counter(e["label"] for e in entries) == {c: 16 for c in sfx.SFX_CLASSES}
    feats, labels, index = [], [], []
    for e in entries:
        x, sr = audio.load(e["path"])
        assert x.shape == (16384,) and sr == 16000 and 0.4 < np.max(np.abs(x)) <= 1.0
        assert e["duration"] == pytest.approx(16384 / 16000)
        feats.append(_sfx_features(x))
        labels.append(e["label"])
        index.append(int(os.path.basename(e["path"]).rsplit("_", 1)[1][:4]))
    feats, labels, index = np.array(feats), np.array(labels), np.array(index)
    train, test = index % 2 == 0, index % 2 == 1
    mu, sd = feats[train].mean(0), feats[train].std(0) + 1e-6
    z = (feats - mu) / sd
    centroids = {c: z[train & (labels == c)].mean(0) for c in sfx.SFX_CLASSES}
    pred = [min(centroids, key=lambda c: np.sum((v - centroids[c]) ** 2)) for v in z[test]]
    accuracy = np.mean(np.array(pred) == labels[test])
    assert accuracy >= 0.85, accuracy  # nearest centroid; chance is 1/7


def test_sweeps_go_the_right_way():
    for label, sign in (("sweep_up", 1), ("sweep_down", -1)):
        x = sfx.generate_sfx(label, 16000, 16384, np.random.default_rng(5))
        f = _sfx_features(x)
        assert np.sign(f[-3]) == sign


# ------------------------------------------------------------------------------------------------
# spoken corpus


def test_sentences_are_many_varied_and_plain():
    s = speech.default_sentences()
    assert len(s) >= 300 and len(set(s)) == len(s)
    assert all(x.isascii() for x in s)
    words = [len(x.split()) for x in s]
    assert min(words) >= 4 and max(words) <= 20 and max(words) >= 16
    assert sum(x.endswith("?") for x in s) >= 30 and sum(any(c.isdigit() for c in x) for x in s) >= 30


def test_normalize_text():
    assert speech.normalize_text("Dr. Lee paid $1,250.50 at 7:05 on the 21st.") == (
        "doctor Lee paid one thousand two hundred fifty dollars fifty cents at seven oh five on the twenty first."
    )
    assert speech.normalize_text("In 1987, 12% of 2,000 people | 3.5 km.") == (
        "In nineteen eighty seven, twelve percent of two thousand people , three point five km."
    )
    assert speech.number_to_words(1_000_017) == "one million seventeen"


def _check_corpus(out, n, sample_rate):
    meta = (out / "metadata.csv").read_text().splitlines()
    assert len(meta) == n and all(len(line.split("|")) == 3 for line in meta)
    entries = read_manifest(out / "manifest.csv")
    assert [os.path.basename(e["path"]) for e in entries] == [line.split("|")[0] + ".wav" for line in meta]
    durations = []
    for e, line in zip(entries, meta):
        assert e["text"] == line.split("|")[2] and e["speaker"] == "slt"
        x, sr = audio.load(e["path"])
        assert sr == sample_rate and np.max(np.abs(x)) <= 1.0 and np.sqrt(np.mean(x**2)) > 0.01
        assert e["duration"] == pytest.approx(len(x) / sr, abs=1e-3)
        durations.append(e["duration"])
    return entries, durations


SENTENCES = ["Hello there.", "The train leaves at 7:45 from platform 3.", "Where did you park the long blue car this cold morning, before we all walked down to the busy market together?"]


@pytest.mark.parametrize("engine", ["festival", "flite"])
def test_speech_corpus(tmp_path, engine):
    available = speech.festival_available() if engine == "festival" else speech.flite_available()
    if not available:
        pytest.skip(f"{engine} is not installed (apt-get install {speech.FESTIVAL_PACKAGES if engine == 'festival' else 'flite'})")
    out = tmp_path / engine
    speech.build_speech_corpus(out, SENTENCES[:2], sample_rate=16000, engine=engine, progress=False)
    first = os.path.getmtime(out / "wavs" / "SLT-0001.wav")
    time.sleep(0.01)
    # resume: the two finished wavs are kept, the third is spoken
    speech.build_speech_corpus(out, SENTENCES, sample_rate=16000, engine=engine, progress=False)
    assert os.path.getmtime(out / "wavs" / "SLT-0001.wav") == first
    entries, durations = _check_corpus(out, 3, 16000)
    assert entries[1]["text"] == "The train leaves at seven forty five from platform three."
    assert entries[1]["raw_text"] == SENTENCES[1]
    assert durations[0] < durations[1] < durations[2] and 0.3 < durations[0] < 3.0
    assert not any(n.startswith(".tmp-") for n in os.listdir(out / "wavs"))


def test_speech_failures_are_counted(tmp_path, monkeypatch):
    if not speech.flite_available():
        pytest.skip("flite is not installed (apt-get install flite)")
    real = speech._speak

    def flaky(engine, voice, text, wav_path, timeout):
        if "fail" in text:
            raise RuntimeError("synthetic failure")
        return real(engine, voice, text, wav_path, timeout)

    monkeypatch.setattr(speech, "_speak", flaky)
    with pytest.warns(RuntimeWarning, match="1 of 3 sentences failed"):
        m = speech.build_speech_corpus(tmp_path, ["One two three.", "Please fail now.", "Four five six."], engine="flite", progress=False)
    assert len(read_manifest(m)) == 2
    assert "SLT-0002" in (tmp_path / "failures.txt").read_text()
    with pytest.raises(RuntimeError, match="every sentence failed"):
        speech.build_speech_corpus(tmp_path / "x", ["This will fail."], engine="flite", progress=False)


def test_missing_tools_name_debian_packages(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingToolError, match="festvox-us-slt-hts"):
        speech.build_speech_corpus(tmp_path / "s", ["Hi there you."], progress=False)
    with pytest.raises(MissingToolError, match="apt-get install flite"):
        speech.build_speech_corpus(tmp_path / "s", ["Hi there you."], engine="flite", progress=False)
    with pytest.raises(MissingToolError, match="fluidsynth fluid-soundfont-gm"):
        fluidsynth_notes.build_gm_notes(tmp_path / "g", programs=(0,), pitches=(60,), velocities=(100,), progress=False)


# ------------------------------------------------------------------------------------------------
# General MIDI notes


def test_midi_file_bytes():
    data = fluidsynth_notes.midi_file_bytes([(0, (0xC0, 0)), (1, (0x90, 60, 100)), (200, (0x80, 60, 0))])
    assert data[:4] == b"MThd" and data[14:18] == b"MTrk" and data.endswith(b"\x00\xff\x2f\x00")
    assert fluidsynth_notes._vlq(0) == b"\x00" and fluidsynth_notes._vlq(200) == b"\x81\x48"
    assert fluidsynth_notes._vlq(0x0FFFFFFF) == b"\xff\xff\xff\x7f"


def test_gm_notes(tmp_path):
    if shutil.which("fluidsynth") is None or not os.path.isfile(fluidsynth_notes.DEFAULT_SOUNDFONT):
        pytest.skip("fluidsynth / the GM soundfont is not installed (apt-get install fluidsynth fluid-soundfont-gm)")
    m = fluidsynth_notes.build_gm_notes(tmp_path, programs=(0,), pitches=(69,), velocities=(64, 110), progress=False)
    entries = read_manifest(m)
    assert [os.path.basename(e["path"]) for e in entries] == ["acoustic_grand_piano-069-064.wav", "acoustic_grand_piano-069-110.wav"]
    rms = []
    for e in entries:
        assert e["instrument"] == "acoustic_grand_piano" and e["family"] == "keyboard" and e["pitch"] == "69"
        x, sr = audio.load(e["path"])
        assert sr == 16000 and x.shape == (16000,) and np.max(np.abs(x)) <= 1.0
        onset = np.argmax(np.abs(x) > 0.05 * np.max(np.abs(x)))
        assert onset < 0.03 * sr  # the note starts at the start of its file
        assert abs(_cents(_peak_hz(x, sr), 440.0)) < 30
        rms.append(np.sqrt(np.mean(x**2)))
    assert rms[1] > 1.5 * rms[0]  # velocity 110 is louder than 64


# ------------------------------------------------------------------------------------------------
# readers


def _tone(path, seconds=0.25, sr=16000):
    audio.save(path, 0.3 * np.sin(np.arange(int(sr * seconds)) * 0.1), sr)


def test_ljspeech_reader(tmp_path):
    (tmp_path / "wavs").mkdir()
    _tone(tmp_path / "wavs" / "LJ001-0001.wav", 0.5)
    _tone(tmp_path / "wavs" / "LJ001-0002.wav", 0.25)
    (tmp_path / "metadata.csv").write_text(
        'LJ001-0001|He said "yes" in 1887.|He said "yes" in eighteen eighty-seven.\n'
        "LJ001-0002|No normalized text here.|\n"
        "LJ001-0003|This wav is missing.|This wav is missing.\n"
    )
    with pytest.warns(RuntimeWarning, match="1 listed files are missing"):
        entries = readers.ljspeech_entries(tmp_path)
    assert [e["text"] for e in entries] == ['He said "yes" in eighteen eighty-seven.', "No normalized text here."]
    assert entries[0]["raw_text"] == 'He said "yes" in 1887.' and entries[0]["duration"] == pytest.approx(0.5)
    back = read_manifest(write_manifest(entries, tmp_path / "lj.csv"))
    assert [(e["path"], e["text"], e["duration"]) for e in back] == [(e["path"], e["text"], e["duration"]) for e in entries]


def test_nsynth_reader(tmp_path):
    root = tmp_path / "nsynth-valid"
    (root / "audio").mkdir(parents=True)
    examples = {}
    for name, pitch, vel, fam in (("bass_synthetic_033-022-050", 22, 50, "bass"), ("keyboard_acoustic_004-060-127", 60, 127, "keyboard")):
        _tone(root / "audio" / f"{name}.wav", 0.2)
        examples[name] = {"note_str": name, "pitch": pitch, "velocity": vel, "instrument_str": name.rsplit("-", 2)[0],
                          "instrument_family_str": fam, "instrument_source_str": "acoustic", "qualities_str": ["bright", "percussive"]}
    (root / "examples.json").write_text(json.dumps(examples))
    entries = readers.nsynth_entries(root, with_duration=True)
    assert [(e["label"], e["pitch"], e["velocity"], e["split"]) for e in entries] == [("bass", 22, 50, "valid"), ("keyboard", 60, 127, "valid")]
    assert entries[1]["instrument"] == "keyboard_acoustic_004" and entries[1]["qualities"] == "bright;percussive"
    back = read_manifest(write_manifest(entries, root / "m.csv"))
    assert [int(e["pitch"]) for e in back] == [22, 60] and back[0]["duration"] == pytest.approx(0.2)
    with pytest.raises(ConfigError, match="examples.json"):
        readers.nsynth_entries(tmp_path)


def test_speech_commands_reader(tmp_path):
    for rel in ("yes/aa11_nohash_0.wav", "yes/bb22_nohash_0.wav", "no/aa11_nohash_1.wav", "no/cc33_nohash_0.wav", "_background_noise_/white.wav"):
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        _tone(tmp_path / rel)
    (tmp_path / "validation_list.txt").write_text("yes/bb22_nohash_0.wav\n")
    (tmp_path / "testing_list.txt").write_text("no/cc33_nohash_0.wav\n")
    entries = readers.speech_commands_entries(tmp_path, with_duration=True)
    got = {(e["label"], e["speaker"], e["split"]) for e in entries}
    assert got == {("yes", "aa11", "train"), ("yes", "bb22", "valid"), ("no", "aa11", "train"), ("no", "cc33", "test")}
    assert all(e["duration"] == pytest.approx(0.25) for e in entries)
    back = read_manifest(write_manifest(entries, tmp_path / "m.csv"))
    assert sorted(e["path"] for e in back) == sorted(e["path"] for e in entries)
