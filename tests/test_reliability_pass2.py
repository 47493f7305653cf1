"""Regression tests of the second reliability pass (issue 41), part B: import overwrites and bounds, the run
lock, resuming with a changed recipe, align of too-short audio, evaluate of a 1-sample file.

Each test failed on the code before its mend (see docs/reliability.md, "Second pass").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from audiogen_cli import main
from audiogen_tf.torch_checkpoint import CheckpointLimitError, load_torch_checkpoint
from torch_bombs import write_deep_nesting, write_legacy_huge, write_stride0_zip, write_zip_bomb

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIX = os.path.join(HERE, "fixtures", "torch_import")


# ---------------------------------------------------------------------------------------------------------
# case 1 (import half): never replace an existing --out without --force; never an input, even with --force
# ---------------------------------------------------------------------------------------------------------


def _import_args(ckpt, out, *extra):
    return ["import", str(ckpt), "--arch", "hifigan", "--config", os.path.join(FIX, "hifigan_tiny_rb2_config.json"),
            "--out", str(out), *extra]


def test_import_refuses_existing_out_and_keeps_bak_with_force(tmp_path, capsys):
    out = tmp_path / "existing.keras"
    out.write_bytes(b"my own model")
    ckpt = os.path.join(FIX, "g_hifigan_tiny_rb2")
    assert main(_import_args(ckpt, out)) == 2
    assert "existing.keras: file exists; pass --force" in capsys.readouterr().err
    assert out.read_bytes() == b"my own model"
    assert main(_import_args(ckpt, out, "--force")) == 0
    assert (tmp_path / "existing.keras.bak").read_bytes() == b"my own model"
    assert out.read_bytes()[:2] == b"PK"


def test_import_never_writes_over_its_checkpoint_even_with_force(tmp_path, capsys):
    ckpt = tmp_path / "g.keras"  # a checkpoint that happens to end in .keras
    shutil.copy(os.path.join(FIX, "g_hifigan_tiny_rb2"), ckpt)
    before = ckpt.read_bytes()
    os.symlink(ckpt, tmp_path / "link.keras")
    for out in (ckpt, tmp_path / "link.keras"):
        assert main(_import_args(ckpt, out, "--force")) == 2
        assert "is also an input of this command" in capsys.readouterr().err
    assert ckpt.read_bytes() == before and not (tmp_path / "g.keras.bak").exists()


# ---------------------------------------------------------------------------------------------------------
# case 7: import bounds what it allocates
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("writer, message", [
    (write_stride0_zip, r"size \(20000, 20000\) with stride \(0, 0\) repeats the 4 elements"),
    (write_zip_bomb, r"inflates from 1.52 MiB to 1.5 GiB"),
    (write_legacy_huge, r"declares 1152921504606846976 elements .* but the file holds 16 bytes"),
    (write_deep_nesting, r"nested deeper than 100 levels"),
])
def test_import_refuses_hostile_files_in_one_line(tmp_path, writer, message):
    path = writer(tmp_path / "x.pt")
    with pytest.raises(CheckpointLimitError, match=message):
        load_torch_checkpoint(path)


def test_memo_index_and_memory_cap(tmp_path):
    (tmp_path / "memo.pt").write_bytes(b"\x80\x02K\x01r\x00\x00\x00\x08.")  # memo index 2^27: 2 GiB in C pickle
    with pytest.raises(CheckpointLimitError, match="stores object 134217728 in its memo"):
        load_torch_checkpoint(tmp_path / "memo.pt")
    ckpt = os.path.join(FIX, "g_hifigan_tiny_rb2")
    assert load_torch_checkpoint(ckpt, max_bytes=64 << 20)["generator"]
    with pytest.raises(CheckpointLimitError, match="over the import's memory cap of 100000 bytes"):
        load_torch_checkpoint(ckpt, max_bytes=100_000)


def _peak_rss_mb(args, cwd):
    """Peak RSS (MB) of ``audiogen ARGS`` in a fresh child, and its exit code and stderr."""
    code = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "print(p.returncode); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024); "
            "print(p.stderr.strip().splitlines()[-1] if p.stderr.strip() else '')")
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    out = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "audiogen_cli", *args], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=600).stdout.splitlines()
    return int(out[0]), float(out[1]), out[2] if len(out) > 2 else ""


@pytest.mark.parametrize("writer", [write_stride0_zip, write_zip_bomb])
def test_import_peak_memory_under_200_mb(tmp_path, writer):
    writer(tmp_path / "x.pt")
    rc, mb, err = _peak_rss_mb(["import", "x.pt", "--arch", "hifigan_v1", "--out", "x.keras"], tmp_path)
    assert rc == 2 and err.startswith("audiogen: error: x.pt: refused:"), err
    assert mb < 200, f"peak RSS {mb:.0f} MB"
    assert not (tmp_path / "x.keras").exists()


def test_import_help_says_it_bounds_memory(capsys):
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    assert "bounds what it allocates" in " ".join(capsys.readouterr().out.split())


# ---------------------------------------------------------------------------------------------------------
# case 11: align of audio too short for its text
# ---------------------------------------------------------------------------------------------------------

LONG_TEXT = ("Printing, in the only sense with which we are at present concerned, differs from most if not from all "
             "the arts.")


def _tone(path, seconds, sr=16000):
    import soundfile as sf

    t = np.arange(int(sr * seconds)) / sr
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 220 * t)).astype("float32"), sr)
    return str(path)


def test_align_refuses_audio_too_short_for_the_text(tmp_path, capsys):
    wav = _tone(tmp_path / "short.wav", 0.25)
    assert main(["align", wav, LONG_TEXT, "--out", str(tmp_path / "al")]) == 2
    err = capsys.readouterr().err
    assert "short.wav: too short (" in err and "token(s) would get 0 frames" in err
    assert not (tmp_path / "al" / "short_durations.json").exists()


# ---------------------------------------------------------------------------------------------------------
# case 15: evaluate of a folder holding a 1-sample WAV
# ---------------------------------------------------------------------------------------------------------


def test_evaluate_skips_a_one_sample_file_and_reports_the_others(tmp_path, capsys):
    import json

    import soundfile as sf

    for side in ("gen", "ref"):
        os.makedirs(tmp_path / side)
        _tone(tmp_path / side / "good.wav", 0.5)
        sf.write(str(tmp_path / side / "one.wav"), np.array([0.1], np.float32), 16000)
    out = tmp_path / "report"
    assert main(["evaluate", str(tmp_path / "gen"), "--reference", str(tmp_path / "ref"), "--no-dnsmos", "--no-f0",
                 "--out", str(out)]) == 0
    report = json.load(open(str(out) + ".json"))
    assert set(report["per_file"]) == {"good"}
    assert any("one.wav: too short (1 sample(s)" in reason for reason in report["skipped"])


# ---------------------------------------------------------------------------------------------------------
# cases 4, 5, 6: one training per run folder; resuming refuses feature / model changes before writing anything
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A finished 4-step tiny WaveNet run (one checkpoint), trained once for the tests below to copy."""
    from test_fault_injection import write_corpus, write_recipe

    root = tmp_path_factory.mktemp("trained")
    data = write_corpus(root / "data")
    recipe = write_recipe(root / "wn.yaml", steps=4)
    args = ["train", recipe, "--data", data, "--out", str(root / "RUN"), "--quiet"]
    assert main(args) == 0
    return root, args[:-3]


@pytest.fixture
def run_setup(trained_run, tmp_path, monkeypatch):
    """``audiogen train`` arguments of a copy of the trained run in ``tmp_path/RUN`` (the working directory)."""
    root, args = trained_run
    monkeypatch.chdir(tmp_path)
    shutil.copytree(root / "RUN", tmp_path / "RUN")
    return args + ["--out", "RUN", "--quiet"]


def test_second_training_in_a_run_folder_is_refused_naming_the_pid(run_setup, tmp_path, capsys):
    import json
    import socket

    from training.run_guard import RunLock, _start_ticks

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        json.dump({"pid": sleeper.pid, "host": socket.gethostname(), "started": "now",
                   "ticks": _start_ticks(sleeper.pid)}, open("RUN/train.lock", "w"))
        before = sorted(os.listdir("RUN/ckpt"))
        assert main(run_setup + ["--set", "steps=8"]) == 2
        err = capsys.readouterr().err
        assert f"another `audiogen train` (PID {sleeper.pid}" in err and "RUN/train.lock" in err
        assert sorted(os.listdir("RUN/ckpt")) == before and "steps: 4" in open("RUN/recipe.yaml").read()
    finally:
        sleeper.kill()
        sleeper.wait()
    said = []
    with RunLock("RUN", announce=said.append):  # the lock's process is gone: taken over, with a message
        assert json.load(open("RUN/train.lock"))["pid"] == os.getpid()
    assert said and f"taking over a stale lock of PID {sleeper.pid}" in said[0]
    assert not os.path.exists("RUN/train.lock")


def test_resume_refuses_a_model_change_before_rewriting_the_recipe(run_setup, tmp_path, capsys):
    assert main(run_setup) == 0
    os.remove("RUN/model.keras")  # an interrupted run: synthesize must rebuild it from recipe.yaml + ckpt
    stored = open("RUN/recipe.yaml").read()
    assert main(run_setup + ["--set", "model_preset=wavenet_base", "--set", "steps=8"]) == 2
    err = capsys.readouterr().err
    assert "cannot resume with a recipe that changes the features or the model (model_preset: wavenet_tiny -> " \
           "wavenet_base)" in err and "--force" in err
    assert open("RUN/recipe.yaml").read() == stored
    assert main(["synthesize", "RUN", "--num", "1", "--seconds", "0.05", "--out", "synth"]) == 0


def test_resume_refuses_a_feature_change_and_force_moves_the_old_run_aside(run_setup, tmp_path, capsys):
    assert main(run_setup) == 0
    capsys.readouterr()
    assert main(run_setup + ["--set", "mel.fmax=1500"]) == 2
    assert "mel.fmax: None -> 1500" in capsys.readouterr().err
    assert main(run_setup + ["--set", "steps=8"]) == 0  # a budget key: allowed, with a note
    out = capsys.readouterr().out
    assert "resuming with changed budget keys: steps: 4 -> 8" in out and "resuming at step 4" in out
    assert main(run_setup + ["--set", "mel.fmax=1500", "--force"]) == 0
    out = capsys.readouterr().out
    aside = [d for d in os.listdir(".") if d.startswith("RUN.old-")]
    assert len(aside) == 1 and "the old run was moved to RUN.old-" in out and "starting at step 0" in out
    assert os.path.exists(os.path.join(aside[0], "ckpt", "ckpt-8.index"))
    assert "fmax: 1500" in open("RUN/recipe.yaml").read()
