"""Regression tests of issue 17: every defect found by trying the zoo with bad input and faults, one test each
(the checkpoint damage itself is in test_fault_injection.py), then the CLI error boundary and the rule that
writers never replace a user's file without --force.

Each test failed on the code before the fix (commit 4a79860); docs/reliability.md shows the before/after table.
"""

import json
import os
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import soundfile as sf

from audiogen_cli import main
from test_fault_injection import write_corpus, write_recipe


def _tone(path, sr=8000, seconds=0.5, subtype="PCM_16"):
    t = np.arange(int(sr * seconds)) / sr
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 330 * t)).astype("float32"), sr, subtype=subtype)
    return str(path)


def _error_line(capsys):
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("audiogen: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def bad_audio(tmp_path):
    """Files the loader must refuse: NaN, all-Inf, one sample, two hours (at 100 Hz, 1.4 MB)."""
    folder = tmp_path / "bad"
    folder.mkdir()
    sf.write(str(folder / "nan.wav"), np.full(800, np.nan, np.float32), 8000, subtype="FLOAT")
    sf.write(str(folder / "inf.wav"), np.full(800, np.inf, np.float32), 8000, subtype="FLOAT")
    sf.write(str(folder / "one_sample.wav"), np.array([0.1], np.float32), 8000, subtype="PCM_16")
    sf.write(str(folder / "two_hours.wav"), np.zeros(100 * 7200, np.float32), 100, subtype="PCM_16")
    return folder


# ------------------------------------------------------------------------------------------------
# Data loss


def test_4_data_manifest_keeps_a_hand_written_manifest(tmp_path, capsys):
    _tone(tmp_path / "a.wav")
    hand = "path,text,speaker\na.wav,Hello there.,ann\n"
    (tmp_path / "manifest.csv").write_text(hand)
    assert main(["data", "manifest", str(tmp_path)]) == 2
    line = _error_line(capsys)
    assert "manifest.csv" in line and "--force" in line
    assert (tmp_path / "manifest.csv").read_text() == hand  # untouched
    assert main(["data", "manifest", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "manifest.csv.bak").read_text() == hand  # kept
    assert "path,duration" in (tmp_path / "manifest.csv").read_text()

    notes = tmp_path / "notes"  # a builder pointed at a folder holding the user's manifest
    notes.mkdir()
    (notes / "manifest.csv").write_text(hand)
    assert main(["data", "notes", str(notes)]) == 2
    assert "--force" in _error_line(capsys) and (notes / "manifest.csv").read_text() == hand


# ------------------------------------------------------------------------------------------------
# Wrong success


def test_5_train_reports_skipped_files(tmp_path, capsys):
    data = write_corpus(tmp_path / "data", n=1)
    sf.write(str(tmp_path / "data" / "nan.wav"), np.full(4000, np.nan, np.float32), 8000, subtype="FLOAT")
    (tmp_path / "m.csv").write_text("path\ndata/tone0.wav\ndata/missing.wav\ndata/nan.wav\n")
    recipe = write_recipe(tmp_path / "r.yaml", steps=1)
    assert main(["train", recipe, "--data", str(tmp_path / "m.csv"), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "skipped 2 of 3 file(s)" in out and "missing.wav: missing" in out and "nan.wav: non finite" in out
    assert data


def test_5_train_refuses_when_no_file_is_usable(tmp_path, capsys):
    sf.write(str(tmp_path / "one.wav"), np.array([0.1], np.float32), 8000, subtype="PCM_16")
    sf.write(str(tmp_path / "nan.wav"), np.full(800, np.nan, np.float32), 8000, subtype="FLOAT")
    (tmp_path / "m.csv").write_text("path\none.wav\nnan.wav\n")
    recipe = write_recipe(tmp_path / "r.yaml", steps=1)
    assert main(["train", recipe, "--data", str(tmp_path / "m.csv"), "--out", str(tmp_path / "run")]) == 2
    line = _error_line(capsys)
    assert "m.csv: 0 usable audio file(s) of 2" in line and "min_files=1" in line
    assert not os.path.exists(tmp_path / "run")  # refused before any work
    code = main(["train", recipe, "--data", str(tmp_path / "m.csv"), "--set", "min_files=0", "--out",
                 str(tmp_path / "run")])
    assert code == 2  # min_files must be >= 1
    assert "min_files" in _error_line(capsys)


def test_6_data_manifest_skips_what_the_loader_rejects(bad_audio, capsys):
    _tone(bad_audio / "good.wav")
    assert main(["data", "manifest", str(bad_audio)]) == 0
    out = capsys.readouterr().out
    assert "1 files indexed, 4 skipped" in out
    for name, problem in [("nan.wav", "non finite"), ("inf.wav", "non finite"), ("one_sample.wav", "too short"),
                          ("two_hours.wav", "too long")]:
        assert f"{name}: {problem}" in out, (name, out)
    from audiogen_tf.manifest import read_manifest

    assert [os.path.basename(e["path"]) for e in read_manifest(bad_audio / "manifest.csv")] == ["good.wav"]


def test_7_data_manifest_of_a_missing_folder_is_an_error(tmp_path, capsys):
    assert main(["data", "manifest", str(tmp_path / "nowhere")]) == 2
    assert "nowhere: no such folder" in _error_line(capsys)
    assert not os.path.exists(tmp_path / "nowhere")


def test_8_wav_cut_off_mid_data_is_corrupt(tmp_path):
    from audiogen_tf import audio
    from audiogen_tf.errors import AudioFileError

    full = _tone(tmp_path / "full.wav", sr=16000, seconds=1.0)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(open(full, "rb").read()[:1000])
    with pytest.raises(AudioFileError, match=r"cut.wav: corrupt \(truncated: the data chunk declares 32000 bytes"):
        audio.load(cut)
    with pytest.raises(AudioFileError, match="truncated"):
        audio.info(cut)
    assert audio.load(full)[0].shape == (16000,)  # a whole file still loads


# ------------------------------------------------------------------------------------------------
# Tracebacks instead of named errors


def _random_zip(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("weights.bin", os.urandom(256))
        z.writestr("notes.txt", "not a model")
    return str(path)


def test_9_synthesize_and_export_name_a_damaged_model_file(tmp_path, capsys):
    from zoo.wavegan.wavegan_generator import WaveGANGenerator

    good = tmp_path / "g.keras"
    WaveGANGenerator.from_preset("wavegan_conditional_tiny", slice_length=1024).save(str(good))
    blob = good.read_bytes()
    (tmp_path / "empty.keras").write_bytes(b"")
    (tmp_path / "truncated.keras").write_bytes(blob[: len(blob) // 2])
    _random_zip(tmp_path / "random.keras")
    (tmp_path / "voice.tflite").write_bytes(open(_tone(tmp_path / "v.wav"), "rb").read())
    cases = {"empty.keras": "empty", "truncated.keras": "truncated", "random.keras": "without config.json",
             "voice.tflite": "WAV audio file"}
    for name, problem in cases.items():
        assert main(["synthesize", str(tmp_path / name), "--num", "1", "--out", str(tmp_path / "o")]) == 2, name
        line = _error_line(capsys)
        assert name in line and problem in line and "File not found" not in line, line
    assert main(["export", str(tmp_path / "empty.keras"), "--out", str(tmp_path / "x.tflite")]) == 2
    line = _error_line(capsys)
    assert "empty.keras: empty" in line and "File not found" not in line


def test_10_data_manifest_of_a_file_is_an_error(tmp_path, capsys):
    path = _tone(tmp_path / "a.wav")
    assert main(["data", "manifest", path]) == 2
    assert "a.wav: is a file, not a folder" in _error_line(capsys)


def test_11_manifest_encoding_and_types_are_named_errors(tmp_path, capsys):
    from audiogen_tf.errors import ConfigError
    from audiogen_tf.manifest import read_manifest

    _tone(tmp_path / "a.wav")
    (tmp_path / "latin1.csv").write_bytes("path,text\na.wav,caf\xe9\n".encode("latin-1"))
    (tmp_path / "list.jsonl").write_text('{"path": "a.wav"}\n[1, 2]\n')
    (tmp_path / "number.jsonl").write_text('{"path": 5}\n')
    with pytest.raises(ConfigError, match=r"latin1.csv:2: not UTF-8"):
        read_manifest(tmp_path / "latin1.csv")
    with pytest.raises(ConfigError, match=r"list.jsonl:2: expected a JSON object.*got a list"):
        read_manifest(tmp_path / "list.jsonl")
    with pytest.raises(ConfigError, match=r"number.jsonl:1: 'path' must be a string, got 5"):
        read_manifest(tmp_path / "number.jsonl")
    recipe = write_recipe(tmp_path / "r.yaml", steps=1)
    for name in ("latin1.csv", "list.jsonl", "number.jsonl"):
        assert main(["train", recipe, "--data", str(tmp_path / name), "--out", str(tmp_path / "run")]) == 2
        assert name in _error_line(capsys)


def test_12_synthesizer_json_of_the_wrong_structure_names_the_file(tmp_path):
    from audiogen_tf.errors import ModelFileError
    from tflite_export.synthesizer import Synthesizer

    meta = tmp_path / "synthesizer.json"
    meta.write_text("5")
    with pytest.raises(ModelFileError, match=r"synthesizer.json: bad structure \(expected a JSON object"):
        Synthesizer(tmp_path)
    meta.write_text(json.dumps({"vocoder": {"chunk_frames": 32}}))
    with pytest.raises(ModelFileError, match=r"synthesizer.json: bad structure \('vocoder' lacks 'file'"):
        Synthesizer(tmp_path)


def test_13_full_disk_while_training_is_one_line_and_leaves_no_debris(tmp_path, capsys, monkeypatch):
    import tensorflow as tf

    data = write_corpus(tmp_path / "data")
    recipe = write_recipe(tmp_path / "r.yaml", steps=8)

    def full_disk(self, checkpoint_number=None, **kwargs):
        temp = os.path.join(self.directory, f"ckpt-{checkpoint_number}_temp")
        os.makedirs(temp, exist_ok=True)
        open(os.path.join(temp, "part-00000-of-00001.data-00000-of-00001.tempstate1"), "wb").write(b"\0" * 10)
        raise tf.errors.ResourceExhaustedError(None, None, f"{temp}/part-00000-of-00001.data-00000-of-00001"
                                               ".tempstate1; No space left on device")

    monkeypatch.setattr(tf.train.CheckpointManager, "save", full_disk)
    run = tmp_path / "run"
    assert main(["train", recipe, "--data", data, "--out", str(run), "--quiet"]) == 2
    line = _error_line(capsys)
    assert "could not save checkpoint ckpt-4" in line and "No space left on device" in line and "ckpt" in line
    assert os.listdir(run / "ckpt") == []  # no ckpt-4_temp/ left behind
    assert not os.path.exists(run / "history.csv") or os.path.getsize(run / "history.csv") > 0


def test_14_ctrl_c_during_training_says_how_to_resume(tmp_path, capsys, monkeypatch):
    from training.fault_tolerance import StopAtStep, training_step

    data = write_corpus(tmp_path / "data")
    recipe = write_recipe(tmp_path / "r.yaml", steps=8)
    real = StopAtStep.on_train_batch_end

    def ctrl_c(self, batch, logs=None):
        if training_step(self.model) == 5:
            raise KeyboardInterrupt
        return real(self, batch, logs)

    monkeypatch.setattr(StopAtStep, "on_train_batch_end", ctrl_c)
    run = tmp_path / "run"
    assert main(["train", recipe, "--data", data, "--out", str(run), "--quiet"]) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "interrupted" in err and "ckpt-4" in err and "Run the same command again to resume" in err


def test_15_png_renamed_mp3_and_symlink_loop(tmp_path, capfd):
    from audiogen_tf import audio
    from audiogen_tf.errors import AudioFileError

    (tmp_path / "picture.mp3").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    with pytest.raises(AudioFileError, match=r"picture.mp3: unsupported format \(not audio: the file is a PNG image"):
        audio.load(tmp_path / "picture.mp3")
    (tmp_path / "junk.mp3").write_bytes(b"hello, not an mp3 at all " * 20)
    with pytest.raises(AudioFileError, match=r"junk.mp3: corrupt \(not an MP3 stream"):
        audio.load(tmp_path / "junk.mp3")
    assert capfd.readouterr().err == ""  # no decoder (mpg123) was started to print on stderr
    os.symlink("loop.wav", tmp_path / "loop.wav")
    with pytest.raises(AudioFileError, match=r"loop.wav: unreadable \(symbolic link loop\)"):
        audio.load(tmp_path / "loop.wav")
    os.symlink("gone.wav", tmp_path / "dangling.wav")
    with pytest.raises(AudioFileError, match=r"dangling.wav: missing \(broken symbolic link to gone.wav\)"):
        audio.load(tmp_path / "dangling.wav")


def test_16_synthesize_help_example_exists_and_overrides_are_blamed(tmp_path, capsys):
    from audiogen_cli.synthesize import EXAMPLE
    from audiogen_tf.datasets.notes import make_notes

    example = EXAMPLE.split("--input ")[1].split()[0]
    assert example.startswith("data/notes/")
    make_notes(tmp_path / "data" / "notes", pitches=[60], timbres=["flute"], progress=False)
    assert os.path.isfile(tmp_path / example), example

    recipe = write_recipe(tmp_path / "r.yaml", steps=1)
    assert main(["train", recipe, "--data", str(tmp_path), "--set", "steps=2.5"]) == 2
    line = _error_line(capsys)
    assert line.startswith("audiogen: error: --set steps=2.5:") and "key 'steps' must be int" in line


def test_minor_negative_duration_is_refused(tmp_path):
    from audiogen_tf.errors import ConfigError
    from audiogen_tf.manifest import read_manifest

    (tmp_path / "m.csv").write_text("path,duration\na.wav,-1.5\n")
    with pytest.raises(ConfigError, match=r"m.csv:2: entry 1 has a bad duration -1.5"):
        read_manifest(tmp_path / "m.csv")


def test_minor_history_has_one_row_per_epoch_after_a_resume(tmp_path):
    """HistoryCSV replaces the rows of the epochs a resumed fit trains again (Keras' CSVLogger appends)."""
    from training.callbacks import HistoryCSV

    path = tmp_path / "history.csv"
    first = HistoryCSV(path, initial_epoch=0)
    first.on_train_begin()
    for epoch in range(3):
        first.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
    resumed = HistoryCSV(path, initial_epoch=2)  # the checkpoint was inside epoch 2
    resumed.on_train_begin()
    resumed.on_epoch_end(2, {"loss": 0.25, "mel_loss": 3.0})
    rows = path.read_text().splitlines()
    assert rows[0] == "epoch,loss,mel_loss" and [r.split(",")[0] for r in rows[1:]] == ["0", "1", "2"]
    assert rows[3] == "2,0.25,3.0" and rows[1].endswith(",NA")


# ------------------------------------------------------------------------------------------------
# The error boundary and the writers


def test_error_boundary_one_line_exit_2_and_debug_keeps_the_traceback(tmp_path, capsys):
    from audiogen_tf.errors import ConfigError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["data", "notes", str(blocker / "notes")]) == 2  # an OSError (not a directory)
    line = _error_line(capsys)
    assert str(blocker) in line and "Not a directory" in line
    with pytest.raises(ConfigError):
        main(["--debug", "data", "manifest", str(tmp_path / "nowhere")])
    with pytest.raises(ConfigError):
        main(["data", "manifest", str(tmp_path / "nowhere"), "--debug"])


def test_writers_refuse_to_overwrite_without_force_and_keep_a_backup(tmp_path, capsys):
    from zoo.wavegan.wavegan_generator import WaveGANGenerator

    target = tmp_path / "mine.tflite"
    target.write_bytes(b"user data")
    assert main(["export", "hifigan_tiny", "--out", str(target)]) == 2
    assert "mine.tflite: file exists; pass --force" in _error_line(capsys)
    assert target.read_bytes() == b"user data"

    model = tmp_path / "g.keras"
    WaveGANGenerator.from_preset("wavegan_conditional_tiny", slice_length=1024).save(str(model))
    out = tmp_path / "synth"
    args = ["synthesize", str(model), "--num", "1", "--label", "0", "--out", str(out)]
    assert main(args) == 0
    first = (out / "label0_sample_00.wav").read_bytes()
    capsys.readouterr()
    assert main(args + ["--seed", "5"]) == 2
    assert "label0_sample_00.wav: file exists; pass --force" in _error_line(capsys)
    assert (out / "label0_sample_00.wav").read_bytes() == first
    assert main(args + ["--seed", "5", "--force"]) == 0
    assert (out / "label0_sample_00.wav.bak").read_bytes() == first
    assert (out / "label0_sample_00.wav").read_bytes() != first

    gen = tmp_path / "gen"
    gen.mkdir()
    (gen / "evaluation.json").write_text("{}")
    assert main(["evaluate", str(gen), "--no-f0"]) == 2
    assert "evaluation.json: file exists" in _error_line(capsys)
