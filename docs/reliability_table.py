"""Write docs/reliability.md: every case of issue 17 run against the code before the fixes and after, then the
fault-injection matrix (each kind of checkpoint damage, and what the rerun of the same command did).

Each case runs the real ``audiogen`` command (or, for the three library-only cases, a line of Python) in a fresh
folder, in a subprocess with ``PYTHONPATH`` set to the checkout under test, and records the exit code and the
message a user sees. Training uses a tiny WaveNet recipe (seconds per run); the checkpoint code is shared by
every family.

Usage (about 30 minutes on 2 busy CPU cores):
    git -C /work/main worktree add /tmp/before 4a79860
    python docs/reliability_table.py --before /tmp/before --after . --out docs/reliability.md
    python docs/reliability_table.py --from-json /tmp/reliability.json --out docs/reliability.md  # re-render only

The second pass (issue 41) adds its own section at the end (the first pass stays as generated):
    git -C /work/main worktree add /tmp/before41 7249115
    python docs/reliability_table.py --pass2 --before /tmp/before41 --after . --out docs/reliability.md
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from test_fault_injection import DAMAGES, write_corpus, write_recipe  # noqa: E402

NOISE = re.compile(r"cudart_stub|absl::|cuda_platform|cuInit|UserWarning|data_adapter|oneDNN|rebuild TensorFlow|"
                   r"cpu_feature_guard|^\s*$|WARNING: All log messages|^Epoch \d|- \d+m?s/step|^\d+/\d+ |"
                   r"self\.data_adapter|indexing:|notes:|warnings\.warn|return restore_with_fallback|"
                   r"Instructions for updating|update_checkpoint_state|Use `tf.train.CheckpointManager`")
T = ["--quiet"]


def clean_lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if not NOISE.search(line)]


def summarize(rc: int, out: str, err: str, want=None, api=False) -> str:
    """The message a user sees: the error line, a traceback's last line and length, or the line ``want`` matches.

    ``api``: a line of Python, where raising a named error *is* the right outcome: shown as "raises ...".
    """
    lines = clean_lines(out) + clean_lines(err)
    tb = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
    if tb:
        tail = [line for line in lines[tb[0]:] if line and not line.startswith(" ")]
        last = tail[-1][:220] if tail else ""
        return f"raises {last}" if api else f"traceback ({len(lines) - tb[0]} lines): {last}"
    shown = []
    for line in lines:
        if ((want and re.search(want, line)) or line.startswith("audiogen: error:") or "interrupted" in line) \
                and line.strip() not in shown:
            shown.append(line.strip())
    return " / ".join(s[:260] for s in (shown or [line.strip() for line in lines[-1:]])[:3])


def run(repo, args, cwd, python=None, env_extra=None, timeout=900):
    env = dict(os.environ, PYTHONPATH=repo, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", PYTHONHASHSEED="0")
    env.update(env_extra or {})
    cmd = [sys.executable, "-c", python] if python else [sys.executable, "-m", "audiogen_cli", *args]
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def tone(path, sr=8000, seconds=0.5):
    t = np.arange(int(sr * seconds)) / sr
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 330 * t)).astype("float32"), sr, subtype="PCM_16")
    return str(path)


def listing(ckpt):
    state = os.path.join(ckpt, "checkpoint")
    text = open(state, encoding="utf-8", errors="replace").read() if os.path.exists(state) else ""
    listed = re.findall(r'all_model_checkpoint_paths: "([^"]+)"', text)
    on_disk = sorted({m.group(1) for f in os.listdir(ckpt) if (m := re.match(r"(ckpt-\d+)\.index$", f))},
                     key=lambda s: int(s.split("-")[1])) if os.path.isdir(ckpt) else []
    corrupt = sorted(os.listdir(os.path.join(ckpt, "corrupt"))) if os.path.isdir(os.path.join(ckpt, "corrupt")) else []
    return listed, on_disk, corrupt


FULL_DISK = """
import os, sys, tensorflow as tf
real = tf.train.CheckpointManager.save
def full_disk(self, checkpoint_number=None, **kw):
    temp = os.path.join(self.directory, f"ckpt-{checkpoint_number}_temp")
    os.makedirs(temp, exist_ok=True)
    open(os.path.join(temp, "part-00000-of-00001.data-00000-of-00001.tempstate1"), "wb").write(bytes(64))
    raise tf.errors.ResourceExhaustedError(None, None, temp + "/part-00000-of-00001.data-00000-of-00001.tempstate1; "
                                           "No space left on device")
tf.train.CheckpointManager.save = full_disk
from audiogen_cli import main
sys.exit(main(sys.argv[1:]))
"""


# ------------------------------------------------------------------------------------------------
# The cases: each returns (command shown, rc, message)


def _trained(repo, d, steps=12, extra=()):
    data = write_corpus(os.path.join(d, "data"))
    recipe = write_recipe(os.path.join(d, "wn.yaml"), steps=steps)
    rc, out, err = run(repo, ["train", recipe, "--data", data, "--out", "RUN", *T, *extra], d)
    assert rc == 0, err[-2000:]
    return recipe, data


def case_1(repo, d):
    recipe, data = _trained(repo, d)
    path = os.path.join(d, "RUN/ckpt/ckpt-12.data-00000-of-00001")
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)
    rc, out, err = run(repo, ["train", recipe, "--data", data, "--out", "RUN", "--set", "steps=16", *T], d)
    listed, disk, _ = listing(os.path.join(d, "RUN/ckpt"))
    return rc, summarize(rc, out, err, "resuming at|starting at") + f"; listed after: {', '.join(listed)}"


def case_2(repo, d):
    recipe, data = _trained(repo, d)
    open(os.path.join(d, "RUN/ckpt/checkpoint"), "w").write("garbage {{ not a checkpoint state")
    rc, out, err = run(repo, ["train", recipe, "--data", data, "--out", "RUN", "--set", "steps=16", *T], d)
    epochs = [r.split(",")[0] for r in open(os.path.join(d, "RUN/history.csv")).read().splitlines()[1:]]
    return rc, summarize(rc, out, err, "resuming at|starting at") + f"; history.csv epochs: {' '.join(epochs)}"


def case_3(repo, d):
    recipe, data = _trained(repo, d, extra=("--set", "keep_last=3"))
    os.remove(os.path.join(d, "RUN/ckpt/ckpt-12.index"))
    rc, out, err = run(repo, ["train", recipe, "--data", data, "--out", "RUN", "--set", "steps=16", "--set",
                              "keep_last=3", *T], d)
    said = summarize(rc, out, err, "resuming at step|starting at step|falling back")
    listed, disk, _ = listing(os.path.join(d, "RUN/ckpt"))
    return rc, f"{said}; listed after: {', '.join(listed) or '-'}; on disk: {', '.join(disk)}"


def case_4(repo, d):
    os.makedirs(os.path.join(d, "mine"))
    tone(os.path.join(d, "mine/a.wav"))
    open(os.path.join(d, "mine/manifest.csv"), "w").write("path,text,speaker\na.wav,Hello there.,ann\n")
    rc, out, err = run(repo, ["data", "manifest", "mine"], d)
    header = open(os.path.join(d, "mine/manifest.csv")).readline().strip()
    bak = os.path.exists(os.path.join(d, "mine/manifest.csv.bak"))
    return rc, summarize(rc, out, err, "files indexed") + f"; manifest.csv header now `{header}`, .bak: {'yes' if bak else 'no'}"


def case_5a(repo, d):
    data = write_corpus(os.path.join(d, "data"), n=1)
    sf.write(os.path.join(d, "data/nan.wav"), np.full(4000, np.nan, np.float32), 8000, subtype="FLOAT")
    open(os.path.join(d, "m.csv"), "w").write("path\ndata/tone0.wav\ndata/missing.wav\ndata/nan.wav\n")
    recipe = write_recipe(os.path.join(d, "wn.yaml"), steps=4)
    rc, out, err = run(repo, ["train", recipe, "--data", "m.csv", "--out", "RUN", *T], d)
    return rc, summarize(rc, out, err, "skipped \\d+ of|^step \\d+ of")


def case_5b(repo, d):
    sf.write(os.path.join(d, "one.wav"), np.array([0.1], np.float32), 8000, subtype="PCM_16")
    sf.write(os.path.join(d, "nan.wav"), np.full(800, np.nan, np.float32), 8000, subtype="FLOAT")
    open(os.path.join(d, "m.csv"), "w").write("path\none.wav\nnan.wav\n")
    recipe = write_recipe(os.path.join(d, "wn.yaml"), steps=4)
    rc, out, err = run(repo, ["train", recipe, "--data", "m.csv", "--out", "RUN", *T], d)
    return rc, summarize(rc, out, err, "^step \\d+ of")


def _bad_folder(d):
    folder = os.path.join(d, "bad")
    os.makedirs(folder)
    sf.write(os.path.join(folder, "nan.wav"), np.full(800, np.nan, np.float32), 8000, subtype="FLOAT")
    sf.write(os.path.join(folder, "inf.wav"), np.full(800, np.inf, np.float32), 8000, subtype="FLOAT")
    sf.write(os.path.join(folder, "one_sample.wav"), np.array([0.1], np.float32), 8000, subtype="PCM_16")
    sf.write(os.path.join(folder, "two_hours.wav"), np.zeros(100 * 7200, np.float32), 100, subtype="PCM_16")
    tone(os.path.join(folder, "good.wav"))
    return folder


def case_6(repo, d):
    _bad_folder(d)
    rc, out, err = run(repo, ["data", "manifest", "bad"], d)
    return rc, summarize(rc, out, err, "files indexed")


def case_7(repo, d):
    rc, out, err = run(repo, ["data", "manifest", "nowhere"], d)
    return rc, summarize(rc, out, err, "files indexed") + \
        f"; folder created: {'yes' if os.path.exists(os.path.join(d, 'nowhere')) else 'no'}"


def case_8(repo, d):
    full = tone(os.path.join(d, "full.wav"), sr=16000, seconds=1.0)
    open(os.path.join(d, "cut.wav"), "wb").write(open(full, "rb").read()[:1000])
    rc, out, err = run(repo, [], d, python="from audiogen_tf import audio; x, sr = audio.load('cut.wav'); "
                                           "print(f'loaded {len(x)} samples')")
    return rc, summarize(rc, out, err, "loaded", api=True)


def _keras_files(repo, d):
    code = ("from zoo.wavegan.wavegan_generator import WaveGANGenerator; "
            "WaveGANGenerator.from_preset('wavegan_conditional_tiny', slice_length=1024).save('g.keras')")
    assert run(repo, [], d, python=code)[0] == 0
    blob = open(os.path.join(d, "g.keras"), "rb").read()
    open(os.path.join(d, "empty.keras"), "wb").close()
    open(os.path.join(d, "truncated.keras"), "wb").write(blob[: len(blob) // 2])
    with zipfile.ZipFile(os.path.join(d, "random.keras"), "w") as z:
        z.writestr("weights.bin", os.urandom(256))
    open(os.path.join(d, "voice.tflite"), "wb").write(open(tone(os.path.join(d, "v.wav")), "rb").read())


def _synth(name):
    def case(repo, d):
        _keras_files(repo, d)
        rc, out, err = run(repo, ["synthesize", name, "--num", "1", "--out", "o"], d)
        return rc, summarize(rc, out, err)
    return case


def case_9e(repo, d):
    open(os.path.join(d, "empty.keras"), "wb").close()
    rc, out, err = run(repo, ["export", "empty.keras", "--out", "x.tflite"], d)
    return rc, summarize(rc, out, err)


def case_10(repo, d):
    tone(os.path.join(d, "a.wav"))
    rc, out, err = run(repo, ["data", "manifest", "a.wav"], d)
    return rc, summarize(rc, out, err)


def _manifest_case(name, text: bytes):
    def case(repo, d):
        tone(os.path.join(d, "a.wav"))
        open(os.path.join(d, name), "wb").write(text)
        recipe = write_recipe(os.path.join(d, "wn.yaml"), steps=4)
        rc, out, err = run(repo, ["train", recipe, "--data", name, "--out", "RUN", *T], d)
        return rc, summarize(rc, out, err, "^step \\d+ of")
    return case


def _synth_json(content):
    def case(repo, d):
        os.makedirs(os.path.join(d, "bundle"))
        open(os.path.join(d, "bundle/synthesizer.json"), "w").write(content)
        rc, out, err = run(repo, [], d, python="from tflite_export.synthesizer import Synthesizer; "
                                               "Synthesizer('bundle')")
        return rc, summarize(rc, out, err, api=True)
    return case


def case_13(repo, d):
    data = write_corpus(os.path.join(d, "data"))
    recipe = write_recipe(os.path.join(d, "wn.yaml"), steps=8)
    rc, out, err = run(repo, [], d, python=FULL_DISK.replace("sys.argv[1:]", repr(
        ["train", recipe, "--data", data, "--out", "RUN", "--quiet"])))
    left = sorted(os.listdir(os.path.join(d, "RUN/ckpt"))) if os.path.isdir(os.path.join(d, "RUN/ckpt")) else []
    hist = os.path.join(d, "RUN/history.csv")
    hist_note = f"{os.path.getsize(hist)}-byte history.csv" if os.path.exists(hist) else "no history.csv"
    return rc, summarize(rc, out, err) + f"; left in ckpt/: {', '.join(left) or 'nothing'}; {hist_note}"


def case_14(repo, d):
    data = write_corpus(os.path.join(d, "data"))
    recipe = write_recipe(os.path.join(d, "wn.yaml"), steps=400)
    env = dict(os.environ, PYTHONPATH=repo, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    p = subprocess.Popen([sys.executable, "-m", "audiogen_cli", "train", recipe, "--data", data, "--out", "RUN",
                          "--quiet"], cwd=d, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # a background shell ignores it
    index = os.path.join(d, "RUN/ckpt/checkpoint")
    deadline = time.time() + 600
    while not os.path.exists(index) and p.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)  # Ctrl-C
    out, err = p.communicate(timeout=300)
    lines = clean_lines(err)
    return p.returncode, summarize(p.returncode, out, err) + f" ({len(lines)} stderr line(s))"


def case_15a(repo, d):
    os.makedirs(os.path.join(d, "f"))
    open(os.path.join(d, "f/picture.mp3"), "wb").write(b"\x89PNG\r\n\x1a\n" + bytes(300))
    tone(os.path.join(d, "f/good.wav"))
    rc, out, err = run(repo, ["data", "manifest", "f"], d)
    mpg = [line for line in err.splitlines() if "mpg123" in line.lower() or "id3" in line.lower()]
    return rc, summarize(rc, out, err, "skipped .*picture") + f"; decoder lines on stderr: {len(mpg)}"


def case_15b(repo, d):
    os.makedirs(os.path.join(d, "f"))
    os.symlink("loop.wav", os.path.join(d, "f/loop.wav"))
    tone(os.path.join(d, "f/good.wav"))
    rc, out, err = run(repo, ["data", "manifest", "f"], d)
    return rc, summarize(rc, out, err, "skipped .*loop")


def case_16a(repo, d):
    rc, out, err = run(repo, ["synthesize", "--help"], d)
    example = re.search(r"--input (\S+\.wav)", out).group(1)
    run(repo, ["data", "notes", "data/notes"], d)
    return rc, f"example `{example}`: exists after `audiogen data notes data/notes`: " \
               f"{'yes' if os.path.exists(os.path.join(d, example)) else 'no'}"


def case_16b(repo, d):
    tone(os.path.join(d, "a.wav"))
    recipe = write_recipe(os.path.join(d, "wn.yaml"), steps=4)
    rc, out, err = run(repo, ["train", recipe, "--data", ".", "--set", "steps=2.5"], d)
    return rc, summarize(rc, out, err)


def case_minor_history(repo, d):
    recipe, data = _trained(repo, d, steps=14)  # epoch 3 (steps 13-16) stopped after step 14, saved at 14
    rc, out, err = run(repo, ["train", recipe, "--data", data, "--out", "RUN", "--set", "steps=16", *T], d)
    epochs = [r.split(",")[0] for r in open(os.path.join(d, "RUN/history.csv")).read().splitlines()[1:]]
    return rc, f"history.csv epochs: {' '.join(epochs)}"


def case_minor_duration(repo, d):
    tone(os.path.join(d, "a.wav"))
    open(os.path.join(d, "m.csv"), "w").write("path,duration\na.wav,-1.5\n")
    recipe = write_recipe(os.path.join(d, "wn.yaml"), steps=4)
    rc, out, err = run(repo, ["train", recipe, "--data", "m.csv", "--out", "RUN", *T], d)
    return rc, summarize(rc, out, err, "^step \\d+ of")


W = "audiogen train wn.yaml --data data --out RUN --quiet"
CASES = [
    ("1", "truncated newest checkpoint blocks every rerun", f"{W} (12 steps); truncate ckpt-12.data to half; "
     "rerun with --set steps=16", case_1),
    ("2", "garbled `ckpt/checkpoint` silently restarts", f"{W}; overwrite ckpt/checkpoint with garbage; rerun with "
     "--set steps=16", case_2),
    ("3", "a fall-back forgets the older checkpoints", f"{W} --set keep_last=3; delete ckpt-12.index; rerun with "
     "--set steps=16", case_3),
    ("4", "`data manifest` rewrites a hand-written manifest.csv", "audiogen data manifest mine  (mine/manifest.csv: "
     "path,text,speaker)", case_4),
    ("5a", "train never reports skipped files", "audiogen train wn.yaml --data m.csv  (good, missing, NaN)", case_5a),
    ("5b", "train on files that are all unusable", "audiogen train wn.yaml --data m.csv  (1-sample, NaN)", case_5b),
    ("6", "`data manifest` indexes files the loader rejects", "audiogen data manifest bad  (NaN, all-Inf, 1 sample, "
     "2 h, good)", case_6),
    ("7", "`data manifest` on a folder that does not exist", "audiogen data manifest nowhere", case_7),
    ("8", "WAV cut off mid-data loads silently", "python: audio.load('cut.wav')  (first 1000 bytes of 1 s)", case_8),
    ("9a", "synthesize: empty .keras", "audiogen synthesize empty.keras --num 1", _synth("empty.keras")),
    ("9b", "synthesize: truncated .keras", "audiogen synthesize truncated.keras --num 1", _synth("truncated.keras")),
    ("9c", "synthesize: zip of random files", "audiogen synthesize random.keras --num 1", _synth("random.keras")),
    ("9d", "synthesize: a .tflite that is a WAV", "audiogen synthesize voice.tflite --num 1", _synth("voice.tflite")),
    ("9e", "export: empty .keras", "audiogen export empty.keras --out x.tflite", case_9e),
    ("10", "`data manifest FILE`", "audiogen data manifest a.wav", case_10),
    ("11a", "manifest not UTF-8", "audiogen train wn.yaml --data latin1.csv",
     _manifest_case("latin1.csv", "path,text\na.wav,caf\xe9\n".encode("latin-1"))),
    ("11b", "JSONL line `[1, 2]`", "audiogen train wn.yaml --data list.jsonl",
     _manifest_case("list.jsonl", b'{"path": "a.wav"}\n[1, 2]\n')),
    ("11c", 'JSONL `{"path": 5}`', "audiogen train wn.yaml --data number.jsonl",
     _manifest_case("number.jsonl", b'{"path": 5}\n')),
    ("12a", "synthesizer.json holding `5`", "python: Synthesizer('bundle')", _synth_json("5")),
    ("12b", 'synthesizer.json `{"vocoder": {"chunk_frames": 32}}`', "python: Synthesizer('bundle')",
     _synth_json('{"vocoder": {"chunk_frames": 32}}')),
    ("13", "full disk while training", f"{W} with every checkpoint write failing (ResourceExhaustedError, ENOSPC)",
     case_13),
    ("14", "Ctrl-C during training", f"{W} (400 steps); SIGINT after the first checkpoint", case_14),
    ("15a", "a PNG renamed .mp3", "audiogen data manifest f  (picture.mp3, good.wav)", case_15a),
    ("15b", "a symlink loop", "audiogen data manifest f  (loop.wav -> loop.wav, good.wav)", case_15b),
    ("16a", "`synthesize --help` example path", "audiogen synthesize --help", case_16a),
    ("16b", "bad `--set steps=2.5` blames the YAML", "audiogen train wn.yaml --data . --set steps=2.5", case_16b),
    ("minor", "history.csv: two rows for one epoch after a resume", f"{W} --set steps=14; rerun with --set steps=16",
     case_minor_history),
    ("minor", "negative duration in a manifest", "audiogen train wn.yaml --data m.csv  (duration -1.5)",
     case_minor_duration),
]


# ------------------------------------------------------------------------------------------------
# Second pass (issue 41), part B: each case returns (rc, message, what was lost or left behind)

FIX = os.path.join(ROOT, "tests", "fixtures", "torch_import")
RSS = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
       "sys.stdout.write(p.stdout); sys.stderr.write(p.stderr); "
       "sys.stderr.write('\\nPEAK_RSS_KB %d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
       "sys.exit(p.returncode)")


def run_rss(repo, args, cwd):
    """``audiogen ARGS`` in a child of a fresh Python; returns rc, stdout, stderr and the child's peak RSS in MB."""
    env = dict(os.environ, PYTHONPATH=repo, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    p = subprocess.run([sys.executable, "-c", RSS, sys.executable, "-m", "audiogen_cli", *args], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=900)
    m = re.search(r"PEAK_RSS_KB (\d+)", p.stderr)
    return p.returncode, p.stdout, p.stderr.split("\nPEAK_RSS_KB")[0], int(m.group(1)) / 1024 if m else None


def _import_args(ckpt, out, *extra):
    return ["import", ckpt, "--arch", "hifigan", "--config", os.path.join(FIX, "hifigan_tiny_rb2_config.json"),
            "--out", out, *extra]


def case2_1_existing(repo, d):
    open(os.path.join(d, "existing.keras"), "w").write("my own model")
    rc, out, err = run(repo, _import_args(os.path.join(FIX, "g_hifigan_tiny_rb2"), "existing.keras"), d)
    kept = open(os.path.join(d, "existing.keras"), "rb").read() == b"my own model"
    bak = os.path.exists(os.path.join(d, "existing.keras.bak"))
    return rc, summarize(rc, out, err, "^wrote"), \
        ("existing.keras kept" if kept else "existing.keras replaced") + f", .bak: {'yes' if bak else 'no'}"


def case2_1_input(repo, d):
    shutil.copy(os.path.join(FIX, "g_hifigan_tiny_rb2"), os.path.join(d, "g.keras"))
    size = os.path.getsize(os.path.join(d, "g.keras"))
    rc, out, err = run(repo, _import_args("g.keras", "g.keras"), d)
    now = os.path.getsize(os.path.join(d, "g.keras"))
    return rc, summarize(rc, out, err, "^wrote"), \
        "the checkpoint g.keras kept" if now == size else f"the checkpoint g.keras ({size} bytes) overwritten " \
                                                          f"by the imported model ({now} bytes)"


def case2_4(repo, d):
    data = write_corpus(os.path.join(d, "data"))
    recipe = write_recipe(os.path.join(d, "wn.yaml"), steps=60)
    env = dict(os.environ, PYTHONPATH=repo, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    cmd = [sys.executable, "-m", "audiogen_cli", "train", recipe, "--data", data, "--out", "RUN", *T]
    procs = [subprocess.Popen(cmd, cwd=d, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=900), *p.communicate()) for p in procs]
    said = [f"{rc}: {summarize(rc, out, err, 'starting at|resuming at')}" for rc, out, err in results]
    rcs = "/".join(str(r[0]) for r in results)
    started = sum("starting at step 0" in s for s in said)
    return rcs, " // ".join(said), f"{started} of 2 trained from step 0 into the same RUN/ckpt"


def case2_5(repo, d):
    recipe, data = _trained(repo, d)
    os.remove(os.path.join(d, "RUN/model.keras"))  # an interrupted run
    rc, out, err = run(repo, ["train", recipe, "--data", data, "--out", "RUN", "--set", "model_preset=wavenet_base",
                              *T], d)
    said = summarize(rc, out, err, "starting at|resuming at")
    preset = re.search(r"model_preset: (\S+)", open(os.path.join(d, "RUN/recipe.yaml")).read()).group(1)
    rc2, out2, err2 = run(repo, ["synthesize", "RUN", "--num", "1", "--seconds", "0.05", "--out", "o"], d)
    return rc, said, f"recipe.yaml model_preset now {preset}; then `synthesize RUN`: exit {rc2}" + (
        f" ({summarize(rc2, out2, err2)[:160]})" if rc2 else "")


def case2_6(repo, d):
    recipe, data = _trained(repo, d)
    rc, out, err = run(repo, ["train", recipe, "--data", data, "--out", "RUN", "--set", "mel.fmax=1500",
                              "--set", "steps=16", *T], d)
    said = summarize(rc, out, err, "starting at|resuming at|differs from the stored")
    fmax = "fmax: 1500" in open(os.path.join(d, "RUN/recipe.yaml")).read()
    listed, _, _ = listing(os.path.join(d, "RUN/ckpt"))
    left = f"recipe.yaml {'now has' if fmax else 'kept without'} fmax 1500; checkpoints {', '.join(listed)}"
    if rc != 0:  # the mended code: --force moves the run aside and starts over
        rc2, out2, err2 = run(repo, ["train", recipe, "--data", data, "--out", "RUN", "--set", "mel.fmax=1500",
                                     "--set", "steps=16", "--force", *T], d)
        aside = [n for n in os.listdir(d) if n.startswith("RUN.old-")]
        left += f"; with --force: exit {rc2}, {summarize(rc2, out2, err2, 'moved to')[:200]}; old run in " \
                f"{'RUN.old-<time>' if aside else '(nowhere)'}"
    return rc, said, left


def _bomb_case(writer_name):
    def case(repo, d):
        import torch_bombs

        getattr(torch_bombs, writer_name)(os.path.join(d, "x.pt"))
        size = os.path.getsize(os.path.join(d, "x.pt"))
        rc, out, err, mb = run_rss(repo, ["import", "x.pt", "--arch", "hifigan_v1", "--out", "x.keras"], d)
        return rc, summarize(rc, out, err), f"file {size:,} bytes; peak RSS {mb:,.0f} MB"
    return case


def case2_11(repo, d):
    sr = 16000
    t = np.arange(sr // 4) / sr
    sf.write(os.path.join(d, "short.wav"), (0.3 * np.sin(2 * np.pi * 220 * t)).astype("float32"), sr)
    rc, out, err = run(repo, ["align", "short.wav", LONG_TEXT, "--out", "al"], d)
    doc = os.path.join(d, "al/short_durations.json")
    if os.path.exists(doc):
        tokens = json.load(open(doc))["tokens"]
        left = f"short_durations.json: {sum(t['frames'] == 0 for t in tokens)} of {len(tokens)} tokens with 0 frames"
    else:
        left = "nothing written"
    return rc, summarize(rc, out, err, "too short"), left


def case2_15(repo, d):
    sr = 16000
    t = np.arange(sr // 2) / sr
    for side in ("gen", "ref"):
        os.makedirs(os.path.join(d, side))
        sf.write(os.path.join(d, side, "good.wav"), (0.3 * np.sin(2 * np.pi * 220 * t)).astype("float32"), sr)
        sf.write(os.path.join(d, side, "one.wav"), np.array([0.1], np.float32), sr)
    rc, out, err = run(repo, ["evaluate", "gen", "--reference", "ref", "--no-dnsmos", "--no-f0", "--out", "rep"], d)
    if os.path.exists(os.path.join(d, "rep.json")):
        report = json.load(open(os.path.join(d, "rep.json")))
        left = f"report: per-file rows {sorted(report['per_file'])}; skipped: {'; '.join(report['skipped'])[:160]}"
    else:
        left = "no report"
    return rc, summarize(rc, out, err, "^wrote"), left


def case2_17(repo, d):
    home = os.path.join(d, "home")
    os.makedirs(home)
    open(os.path.join(home, ".festivalrc"), "w").write("(set! voice_default 'voice_czech_dita)\n")
    env = dict(os.environ, PYTHONPATH=repo, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", HOME=home)
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
                        os.path.join(repo, "tests/test_word_error_rate.py")], cwd=repo, env=env,
                       capture_output=True, text=True, timeout=900)
    summary = [line for line in p.stdout.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    failed = [line.split("::")[-1].split(" ")[0] for line in p.stdout.splitlines() if line.startswith("FAILED")]
    return p.returncode, (summary[-1] if summary else "")[:200], \
        ("failed: " + ", ".join(failed)) if failed else "-"


LONG_TEXT = ("Printing, in the only sense with which we are at present concerned, differs from most if not from all "
             "the arts.")
CASES2 = [
    ("1", "`import` replaces an existing --out", "audiogen import g_hifigan_tiny_rb2 --arch hifigan --config ... "
     "--out existing.keras", case2_1_existing),
    ("1", "`import` writes over its own input", "audiogen import g.keras --arch hifigan --config ... --out g.keras "
     " (g.keras: the checkpoint; with --force the same)", case2_1_input),
    ("4", "two trainings in one run folder", "two `audiogen train wn.yaml --data data --out RUN --quiet` (60 steps) "
     "started together", case2_4),
    ("5", "resume with another preset rewrites recipe.yaml first", f"{W} (12 steps); rm RUN/model.keras; rerun with "
     "--set model_preset=wavenet_base; audiogen synthesize RUN", case2_5),
    ("6", "resume on other features goes on", f"{W} (12 steps); rerun with --set mel.fmax=1500 --set steps=16",
     case2_6),
    ("7a", "import: stride-0 view of a 4-float storage", "audiogen import x.pt --arch hifigan_v1 --out x.keras  "
     "((20000, 20000) tensor, stride (0, 0))", _bomb_case("write_stride0_zip")),
    ("7b", "import: zip bomb", "audiogen import x.pt ...  (storage member inflating to 1.5 GiB)",
     _bomb_case("write_zip_bomb")),
    ("7c", "import: legacy file claiming 2^60 elements", "audiogen import x.pt ...  (legacy format)",
     _bomb_case("write_legacy_huge")),
    ("7d", "import: 200,000 nested lists", "audiogen import x.pt ...  (legacy format)",
     _bomb_case("write_deep_nesting")),
    ("11", "align: audio too short for the text", "audiogen align short.wav '<118-token sentence>' --out al  (0.25 s)",
     case2_11),
    ("15", "evaluate: a 1-sample WAV", "audiogen evaluate gen --reference ref --no-dnsmos --no-f0  (good.wav, "
     "one.wav of 1 sample)", case2_15),
    ("17", "WER tests use festival's default voice", "pytest tests/test_word_error_rate.py with another default "
     "festival voice (HOME/.festivalrc: voice_czech_dita)", case2_17),
]


def collect2(before, after, only=None, save=None):
    results = {"cases": []}
    work = tempfile.mkdtemp(prefix="reliability-")
    for cid, title, command, fn in CASES2:
        if only and cid not in only:
            continue
        row = {"id": cid, "title": title, "command": command}
        for label, repo in (("before", before), ("after", after)):
            d = tempfile.mkdtemp(dir=work)
            try:
                rc, message, left = fn(os.path.abspath(repo), d)
            except Exception as err:
                rc, message, left = "-", f"(case failed to run: {type(err).__name__}: {str(err)[:200]})", ""
            row[label] = {"rc": rc, "message": message, "left": left}
            print(f"{cid} {label}: rc {rc}: {message} || {left}", flush=True)
        results["cases"].append(row)
        if save:
            json.dump(results, open(save, "w"), indent=1)
    shutil.rmtree(work, ignore_errors=True)
    return results


PASS2_HEADING = "## Second pass: issue 41"


_MARKS = re.compile(r"\s*(\*\*(?:Lost|Left behind|Wrong output):\*\*.*)$")


def _part_a_rows(path):
    """Part A's table rows ``| N | case | command | before exit | before message | after exit | after message |``
    (cases 1 say half, 2, 3, 8, 9, 10, 12, 13, 14, 16), widened to this table's nine columns: what was lost or left
    behind is the message's text from its **Lost:** / **Left behind:** / **Wrong output:** mark on."""
    if not path or not os.path.exists(path):
        return None
    rows = []
    for line in open(path, encoding="utf-8"):
        if not re.match(r"\|\s*\d+[a-z]?\s*\|", line):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) == 7:
            cid, title, command, b_rc, b_msg, a_rc, a_msg = cells
            m = _MARKS.search(b_msg)
            b_left = m.group(1) if m else "-"
            b_msg = b_msg[: m.start()] if m else b_msg
            cells = [cid, title, command, b_rc, b_msg, b_left, a_rc, a_msg, "(in the message)"]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _part_a_notes(path) -> list[str]:
    """Part A's paragraphs around its table (how it measured, notes for the merge), as they are."""
    if not path or not os.path.exists(path):
        return []
    lines = [line.rstrip() for line in open(path, encoding="utf-8")]
    kept = [line for line in lines[1:] if not line.startswith("|")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")
    return text.splitlines()


def _case_order(row: str):
    m = re.match(r"\|\s*(\d+)([a-z]?)", row)
    return (int(m.group(1)), m.group(2)) if m else (99, "")


def render2(results, part_a=None, part_a_notes=()) -> str:
    out = [PASS2_HEADING, "",
           "Cases 1-17 of issue 41, each run before the mends and after. Part B's rows (import overwrite, 4, 5, 6, "
           "7, 11, 15, 17) are generated by `python docs/reliability_table.py --pass2 --before <checkout of 7249115> "
           "--after .` (before: 7249115, the tree before both parts' mends); part A's rows (the `say` half of 1, 2, 3, "
           "8, 9, 10, 12, 13, 14, 16) were measured by part A's own shell runs, not by this generator, and are "
           "copied from its notes (see *Part A's measurements* below). Training used the tiny WaveNet recipe "
           "above. The regression tests are `tests/test_reliability_pass2.py` (part B) and "
           "`tests/test_reliability_say.py` (part A).", "",
           "| # | case | command | before: exit | before: message | before: lost or left behind | after: exit | "
           "after: message | after: lost or left behind |",
           "|---|---|---|---|---|---|---|---|---|"]
    rows = []
    for row in results["cases"]:
        b, a = row["before"], row["after"]
        rows.append(f"| {row['id']} | {_cell(row['title'])} | `{_cell(row['command'])}` | {b['rc']} | "
                    f"{_cell(b['message'])} | {_cell(b['left'])} | {a['rc']} | {_cell(a['message'])} | "
                    f"{_cell(a['left'])} |")
    a_rows = part_a or []
    out += sorted(rows + a_rows, key=_case_order)
    if part_a is None:
        out += ["", "Part A's rows (the `say` half of 1, 2, 3, 8, 9, 10, 12, 13, 14, 16) are pending."]
    elif part_a_notes:
        out += ["", "### Part A's measurements", ""] + part_a_notes
    rss = [(r["id"], r["title"], r["before"]["left"], r["after"]["left"]) for r in results["cases"]
           if r["id"].startswith("7")]
    if rss:
        out += ["", "### Peak memory of `audiogen import` on hostile files (case 7)", "",
                "Peak RSS of the `audiogen import` process (`resource.getrusage(RUSAGE_CHILDREN).ru_maxrss` of a "
                "fresh parent). After the mend the checkpoint is read, within its bounds, before TensorFlow is "
                "loaded, so a refused file never costs TensorFlow's ~750 MB either.", "",
                "| # | file | before | after |", "|---|---|---|---|"]
        out += [f"| {i} | {_cell(t)} | {_cell(b)} | {_cell(a)} |" for i, t, b, a in rss]
    return "\n".join(out) + "\n"


def write_pass2(path, section):
    """Replace (or add) the second-pass section at the end of ``path``; the first pass above stays as it is."""
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
    if PASS2_HEADING in text:
        text = text[: text.index(PASS2_HEADING)]
    text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def fault_matrix(repo, work):
    """Each damage of tests/test_fault_injection.py on a copy of one finished 12-step run, then the same command
    with --set steps=16."""
    base = os.path.join(work, "base")
    os.makedirs(base)
    recipe, data = _trained(repo, base)
    rows = []
    for name, damage in DAMAGES.items():
        d = tempfile.mkdtemp(dir=work)
        shutil.copytree(os.path.join(base, "RUN"), os.path.join(d, "RUN"))
        expected = damage(os.path.join(d, "RUN", "ckpt"))
        rc, out, err = run(repo, ["train", recipe, "--data", data, "--out", "RUN", "--set", "steps=16", *T], d)
        listed, disk, corrupt = listing(os.path.join(d, "RUN/ckpt"))
        said = summarize(rc, out, err, "resuming at step|starting at step")
        rows.append({"damage": name, "expected": expected, "rc": rc, "said": said, "listed": listed, "disk": disk,
                     "corrupt": corrupt})
        print(f"  [{os.path.basename(repo)}] {name}: rc {rc}: {said[:120]}", flush=True)
    return rows


def collect(before, after, only=None, save=None):
    results = {"cases": [], "matrix": {}}
    work = tempfile.mkdtemp(prefix="reliability-")
    for cid, title, command, fn in CASES:
        if only and cid not in only:
            continue
        row = {"id": cid, "title": title, "command": command}
        for label, repo in (("before", before), ("after", after)):
            d = tempfile.mkdtemp(dir=work)
            try:
                rc, message = fn(os.path.abspath(repo), d)
            except Exception as err:  # the case's own set-up failed: show it rather than stop
                rc, message = "-", f"(case failed to run: {type(err).__name__}: {str(err)[:200]})"
            row[label] = {"rc": rc, "message": message}
            print(f"{cid} {label}: rc {rc}: {message}", flush=True)
        results["cases"].append(row)
        if save:
            json.dump(results, open(save, "w"), indent=1)
    if not only or "matrix" in only:
        for label, repo in (("before", before), ("after", after)):
            results["matrix"][label] = fault_matrix(os.path.abspath(repo), tempfile.mkdtemp(dir=work))
            if save:
                json.dump(results, open(save, "w"), indent=1)
    shutil.rmtree(work, ignore_errors=True)
    return results


def _cell(text):
    text = re.sub(re.escape(tempfile.gettempdir()) + r"/reliability-[^/\s]+/tmp[^/\s]+/", "", str(text))  # case folder
    text = re.sub(r"\S*/(wt17_before|wt17)/", "", text)  # the checkouts under test
    return text.replace("|", "\\|").replace("\n", " ")


def render(results) -> str:
    out = ["# Reliability: bad input and faults, before and after issue 17", "",
           "Generated by `python docs/reliability_table.py --before <checkout of 4a79860> --after .` (see its "
           "docstring). Each case ran the real command in a fresh folder; training used a tiny WaveNet recipe "
           "(`wavenet_tiny`, 8 kHz, batch 2, segments of 512, 4 steps per epoch, a checkpoint every 4 steps); the "
           "checkpoint code is the same for every family. Exit code 130 is Ctrl-C. The regression tests are "
           "`tests/test_reliability.py` (one per defect) and `tests/test_fault_injection.py` (the matrix below).",
           "", "## Cases", "",
           "| # | case | command | before: exit | before: message | after: exit | after: message |",
           "|---|---|---|---|---|---|---|"]
    for row in results["cases"]:
        b, a = row["before"], row["after"]
        out.append(f"| {row['id']} | {_cell(row['title'])} | `{_cell(row['command'])}` | {b['rc']} | "
                   f"{_cell(b['message'])} | {a['rc']} | {_cell(a['message'])} |")
    matrix = results.get("matrix") or {}
    if matrix:
        out += ["", "## Fault injection", "",
                "A finished 12-step run (checkpoints 4, 8, 12; `keep_last: 10`) is damaged, then the same command "
                "runs again with `--set steps=16`. *Should* is the newest intact checkpoint (or a named error when "
                "there is none). *Listed* is the `checkpoint` state file afterwards; *set aside* is `ckpt/corrupt/`.",
                "", "| damage | should resume at | before: exit, what the rerun did | before: listed after |"
                " after: exit, what the rerun did | after: listed after | after: set aside |",
                "|---|---|---|---|---|---|---|"]
        after = {r["damage"]: r for r in matrix.get("after", [])}
        for r in matrix.get("before", []):
            a = after.get(r["damage"], {})
            should = f"ckpt-{r['expected']}" if r["expected"] else "none: stop with a named error"
            out.append(f"| {_cell(r['damage'])} | {should} | {r['rc']}: {_cell(r['said'])} | "
                       f"{', '.join(r['listed']) or '-'} | {a.get('rc')}: {_cell(a.get('said', ''))} | "
                       f"{', '.join(a.get('listed', [])) or '-'} | {', '.join(a.get('corrupt', [])) or '-'} |")
        out += ["", "With `--force`, a run whose checkpoints are all damaged moves them to `ckpt/corrupt/` and starts "
                "from step 0 (tested in `tests/test_fault_injection.py`).", "",
                "Before the fixes, the fall-back rewrote the state file with paths relative to the working directory "
                "(`../../ckpt-8` for `--out RUN`), so after setting the newest aside it could not find the older "
                "ones and started from step 0 over them (the rows that say *starting at step 0*); damage that "
                "TensorFlow reports as an `IndexError` was not caught at all. After: every candidate is read back in "
                "full before use, the state file lists plain names with timestamps (so `CheckpointManager` keeps "
                "rotating them), and a garbled state file is set aside and rebuilt from the files on disk."]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", help="checkout of the code before the fixes (commit 4a79860)")
    ap.add_argument("--after", default=ROOT, help="checkout with the fixes (default: this one)")
    ap.add_argument("--out", default=os.path.join(HERE, "reliability.md"))
    ap.add_argument("--json", default=os.path.join(tempfile.gettempdir(), "reliability.json"))
    ap.add_argument("--from-json", default=None, help="re-render a previous run's results")
    ap.add_argument("--only", nargs="*", default=None, help="case ids (and/or 'matrix') to run")
    ap.add_argument("--merge", default=None, help="a previous run's JSON: rows of --only replace its rows")
    ap.add_argument("--pass2", action="store_true", help="the second pass (issue 41): write its section only")
    ap.add_argument("--part-a", default="/work/notes/reliability_part_a.md",
                    help="markdown whose `| N | ...` rows are part A's cases of the second pass")
    args = ap.parse_args()
    if args.pass2:
        if args.from_json:
            results = json.load(open(args.from_json))
        else:
            results = collect2(args.before, args.after, args.only, save=args.json + ".pass2.partial")
            if args.merge:
                old = json.load(open(args.merge))
                new = {(r["id"], r["title"]): r for r in results["cases"]}
                kept = [new.pop((r["id"], r["title"]), r) for r in old["cases"]]
                results = {"cases": kept + list(new.values())}
            json.dump(results, open(args.json + ".pass2", "w"), indent=1)
        write_pass2(args.out, render2(results, _part_a_rows(args.part_a), _part_a_notes(args.part_a)))
        print(f"wrote {args.out}")
        return
    if args.from_json:
        results = json.load(open(args.from_json))
    else:
        results = collect(args.before, args.after, args.only, save=args.json + ".partial")
        if args.merge:
            old = json.load(open(args.merge))
            def key(r):
                return r["title"] if r["id"] == "minor" else r["id"]

            new = {key(r): r for r in results["cases"]}
            old["cases"] = [new.get(key(r), r) for r in old["cases"]]
            old["matrix"] = results["matrix"] or old.get("matrix", {})
            results = old
        json.dump(results, open(args.json, "w"), indent=1)
    with open(args.out, "w") as f:
        f.write(render(results))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
