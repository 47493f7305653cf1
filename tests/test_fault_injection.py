"""Fault injection: a finished run's checkpoints are damaged in every way a disk or a person can damage them, and
the same training command is run again.

The rerun must resume from the newest intact checkpoint or stop with a named error (``CheckpointError``); it never
starts over from step 0 on top of good checkpoints, and no checkpoint is lost (damaged ones are moved to
``ckpt/corrupt/``, intact ones stay listed). A full disk during a save stops with a named error and leaves the
earlier checkpoints and ``history.csv`` intact.

The run is a tiny WaveNet (a few seconds a run); the checkpoint code is the same for every family (the GAN
trainer's fall-back is tested in test_fault_tolerance.py). ``DAMAGES`` is also used by
``docs/reliability_table.py`` to write the matrix in ``docs/reliability.md``.
"""

import os
import pathlib
import shutil
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import soundfile as sf

STEPS = 12  # the finished run: checkpoints at 4, 8, 12
RECIPE = """
family: wavenet
sample_rate: 8000
batch_size: 2
segment_length: 512
model_preset: wavenet_tiny
learning_rate: 1.0e-3
steps: {steps}
steps_per_epoch: 4
checkpoint_every: 4
keep_last: 10
on_nonfinite: stop
seed: 0
"""


def write_corpus(folder, n=2, sr=8000):
    """Two short tones (16-bit WAV)."""
    os.makedirs(folder, exist_ok=True)
    t = np.arange(sr // 2) / sr
    for i in range(n):
        sf.write(os.path.join(folder, f"tone{i}.wav"), (0.3 * np.sin(2 * np.pi * (220 + 110 * i) * t)).astype("float32"),
                 sr, subtype="PCM_16")
    return str(folder)


def write_recipe(path, steps=STEPS):
    with open(path, "w") as f:
        f.write(RECIPE.format(steps=steps))
    return str(path)


# ------------------------------------------------------------------------------------------------
# The damage: each function takes the run's ckpt folder and returns the step the rerun must resume from
# (None: it must stop with CheckpointError).


def _data(ckpt, step):
    return os.path.join(ckpt, f"ckpt-{step}.data-00000-of-00001")


def truncate_newest(ckpt):
    path = _data(ckpt, 12)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)
    return 8


def zero_length_newest(ckpt):
    open(_data(ckpt, 12), "wb").close()
    return 8


def zero_bytes_newest(ckpt):
    """Same size, every byte zero (a sector lost in a crash)."""
    path = _data(ckpt, 12)
    size = os.path.getsize(path)
    with open(path, "wb") as f:
        f.write(bytes(size))
    return 8


def bit_flip_newest(ckpt):
    """One bit in the middle of the data: only the CRC32C of the tensor tells."""
    path = _data(ckpt, 12)
    blob = bytearray(open(path, "rb").read())
    blob[len(blob) // 2] ^= 0x10
    open(path, "wb").write(bytes(blob))
    return 8


def bit_flip_newest_index(ckpt):
    path = os.path.join(ckpt, "ckpt-12.index")
    blob = bytearray(open(path, "rb").read())
    blob[len(blob) // 3] ^= 0x01
    open(path, "wb").write(bytes(blob))
    return 8


def missing_shard_newest(ckpt):
    os.remove(_data(ckpt, 12))
    return 8


def deleted_index_newest(ckpt):
    os.remove(os.path.join(ckpt, "ckpt-12.index"))
    return 8


def garbled_state_file(ckpt):
    open(os.path.join(ckpt, "checkpoint"), "wb").write(b"\x00\xff garbage {{ model_checkpoint_path")
    return 12


def empty_state_file(ckpt):
    open(os.path.join(ckpt, "checkpoint"), "wb").close()
    return 12


def deleted_state_file(ckpt):
    os.remove(os.path.join(ckpt, "checkpoint"))
    return 12


def state_lists_only_newest(ckpt):
    """What the old fall-back left: older checkpoints on disk but not listed (never rotated, never fallen back to)."""
    with open(os.path.join(ckpt, "checkpoint"), "w") as f:
        f.write('model_checkpoint_path: "ckpt-12"\nall_model_checkpoint_paths: "ckpt-12"\n')
    return 12


def partial_save_left_behind(ckpt):
    """A save killed midway: a ``ckpt-16_temp/`` folder with a half-written shard."""
    os.makedirs(os.path.join(ckpt, "ckpt-16_temp"))
    open(os.path.join(ckpt, "ckpt-16_temp", "part-00000-of-00001.data-00000-of-00001.tempstate1"), "wb").write(b"x" * 99)
    return 12


def newest_two_damaged(ckpt):
    truncate_newest(ckpt)
    os.remove(os.path.join(ckpt, "ckpt-8.index"))
    return 4


def every_checkpoint_damaged(ckpt):
    for step in (4, 8, 12):
        open(_data(ckpt, step), "wb").close()
    return None


DAMAGES = {
    "truncated newest data shard (half its bytes)": truncate_newest,
    "newest data shard cut to 0 bytes": zero_length_newest,
    "newest data shard overwritten with zero bytes": zero_bytes_newest,
    "one bit flipped in the newest data shard": bit_flip_newest,
    "one bit flipped in the newest index": bit_flip_newest_index,
    "newest data shard missing": missing_shard_newest,
    "newest index deleted": deleted_index_newest,
    "garbled `checkpoint` state file": garbled_state_file,
    "empty `checkpoint` state file": empty_state_file,
    "deleted `checkpoint` state file": deleted_state_file,
    "state file lists only the newest (older ones unlisted)": state_lists_only_newest,
    "half-written `ckpt-16_temp/` left by a killed save": partial_save_left_behind,
    "newest two damaged (truncated shard, deleted index)": newest_two_damaged,
    "every checkpoint damaged": every_checkpoint_damaged,
}


def listed(ckpt):
    """The checkpoints the state file lists; each entry must be a plain name (relative to the folder)."""
    import re

    state = os.path.join(ckpt, "checkpoint")
    names = re.findall(r'all_model_checkpoint_paths: "([^"]+)"', open(state).read()) if os.path.exists(state) else []
    assert all("/" not in n for n in names), names
    return names


# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished 12-step run (checkpoints 4, 8, 12), trained once and copied for each test."""
    import keras

    from training.run import train

    root = tmp_path_factory.mktemp("fi")
    data = write_corpus(root / "data")
    recipe = write_recipe(root / "tiny.yaml")
    keras.utils.set_random_seed(0)
    result = train(recipe, data=data, out=root / "run", verbose=0)
    assert result.step == STEPS and listed(root / "run" / "ckpt") == ["ckpt-4", "ckpt-8", "ckpt-12"]
    return {"root": root, "data": data, "run": root / "run"}


def _copy(finished, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(finished["run"], run)
    return run


def _rerun(finished, run, steps=16, **kwargs):
    from training.run import train

    recipe = write_recipe(run.parent / "tiny16.yaml", steps=steps)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train(recipe, data=finished["data"], out=run, verbose=0, **kwargs)
    return result, [str(w.message) for w in caught if "Checkpoint" in type(w.message).__name__]


def _manager_tracks(ckpt):
    """The checkpoints a new ``tf.train.CheckpointManager`` keeps rotating (it silently drops any listed without a
    timestamp: then they are never deleted and never fallen back to)."""
    import tensorflow as tf

    manager = tf.train.CheckpointManager(tf.train.Checkpoint(), str(ckpt), max_to_keep=10)
    return [os.path.basename(p) for p in manager.checkpoints]


@pytest.mark.parametrize("name", list(DAMAGES))
def test_rerun_after_damage_resumes_from_newest_intact_or_stops(name, finished, tmp_path):
    """The rerun asks for the step it should resume from, so only the restore runs here (fast); the two tests
    below train on after the damage."""
    from audiogen_tf.errors import CheckpointError
    from training.fault_tolerance import verify_checkpoint

    run = _copy(finished, tmp_path)
    ckpt = run / "ckpt"
    history_before = open(run / "history.csv").read()
    expected = DAMAGES[name](str(ckpt))
    files_before = sorted(p for p in os.listdir(ckpt) if p.startswith("ckpt-") and not p.endswith("_temp"))

    if expected is None:  # nothing to resume from: a named error, and nothing is moved or deleted
        with pytest.raises(CheckpointError, match="no checkpoint can be restored.*--force"):
            _rerun(finished, run, steps=STEPS)
        assert sorted(p for p in os.listdir(ckpt) if p.startswith("ckpt-")) == files_before
        assert not os.path.exists(ckpt / "corrupt")
        result, _ = _rerun(finished, run, steps=4, force=True)  # asked to start over: damaged files kept aside
        assert result.resumed_from is None and result.step == 4
        assert {f"ckpt-{s}.data-00000-of-00001" for s in (4, 8, 12)} <= set(os.listdir(ckpt / "corrupt"))
        return

    result, messages = _rerun(finished, run, steps=expected)
    assert result.resumed_from == expected, messages  # never 0 / None over good checkpoints
    damaged = [s for s in (4, 8, 12) if s > expected]
    intact = [f"ckpt-{s}" for s in (4, 8, 12) if s <= expected]
    assert listed(ckpt) == intact and _manager_tracks(ckpt) == intact  # none lost, none forgotten
    for prefix in intact:
        assert verify_checkpoint(str(ckpt / prefix)) is None, prefix
    if damaged:  # the damaged files were moved aside, not deleted, with a warning
        assert any(f.startswith(f"ckpt-{damaged[-1]}.") for f in os.listdir(ckpt / "corrupt")), messages
        assert any("could not be restored" in m for m in messages)
    assert not [p for p in os.listdir(ckpt) if p.endswith("_temp")]
    assert open(run / "history.csv").read() == history_before


@pytest.mark.parametrize("damage, resumed", [(truncate_newest, 8), (garbled_state_file, 12)])
def test_rerun_trains_on_after_damage_without_overwriting(damage, resumed, finished, tmp_path, monkeypatch):
    """Defects 1-3: a truncated newest shard used to block every rerun (IndexError); a garbled state file made the
    rerun start at step 0 over ckpt-4/8/12; after a fall-back the older checkpoints were no longer listed."""
    run = _copy(finished, tmp_path)
    ckpt = run / "ckpt"
    damage(str(ckpt))
    monkeypatch.chdir(tmp_path)  # a relative run folder, as `--out run` gives
    result, _ = _rerun(finished, pathlib.Path("run"), steps=16)
    assert result.resumed_from == resumed and result.step == 16
    expected = [f"ckpt-{s}" for s in (4, 8, 12) if s <= resumed] + [f"ckpt-{s}" for s in range(resumed + 4, 17, 4)]
    assert listed(ckpt) == expected and _manager_tracks(ckpt) == expected
    epochs = [line.split(",")[0] for line in open(run / "history.csv").read().splitlines()[1:]]
    assert epochs == ["0", "1", "2", "3"]  # each epoch once, not 0-2 appended again


def test_full_disk_during_a_save_stops_with_a_named_error_and_keeps_everything(finished, tmp_path, monkeypatch):
    """The save of ckpt-16 fails as on a full disk (a half-written ``_temp`` folder, ResourceExhaustedError)."""
    import tensorflow as tf

    from audiogen_tf.errors import CheckpointError

    run = _copy(finished, tmp_path)
    ckpt = run / "ckpt"
    history = open(run / "history.csv").read()
    real_save = tf.train.CheckpointManager.save

    def full_disk(self, checkpoint_number=None, **kwargs):
        if checkpoint_number == 16:
            temp = os.path.join(self.directory, "ckpt-16_temp")
            os.makedirs(temp, exist_ok=True)
            open(os.path.join(temp, "part-00000-of-00001.data-00000-of-00001.tempstate9"), "wb").write(b"\0" * 64)
            raise tf.errors.ResourceExhaustedError(None, None, f"{temp}/part-00000-of-00001.data-00000-of-00001."
                                                   "tempstate9; No space left on device")
        return real_save(self, checkpoint_number=checkpoint_number, **kwargs)

    monkeypatch.setattr(tf.train.CheckpointManager, "save", full_disk)
    with pytest.raises(CheckpointError, match=r"could not save checkpoint ckpt-16 .*No space left.*ckpt-12"):
        _rerun(finished, run, steps=20)
    assert listed(ckpt) == ["ckpt-4", "ckpt-8", "ckpt-12"]
    assert not [p for p in os.listdir(ckpt) if "16" in p]  # no half-written checkpoint or _temp folder
    assert open(run / "history.csv").read().startswith(history) and os.path.getsize(run / "history.csv") > 0

    monkeypatch.setattr(tf.train.CheckpointManager, "save", real_save)  # space freed: the same command resumes
    result, _ = _rerun(finished, run, steps=20)
    assert result.resumed_from == 12 and result.step == 20
    assert listed(ckpt) == ["ckpt-4", "ckpt-8", "ckpt-12", "ckpt-16", "ckpt-20"]


def test_full_disk_while_writing_history_leaves_the_previous_file(finished, tmp_path, monkeypatch):
    """An ENOSPC from the history writer: a named OSError, the old history.csv whole, no temporary file."""
    import errno

    from audiogen_tf import atomic

    run = _copy(finished, tmp_path)
    history = open(run / "history.csv").read()
    real = atomic.atomic_write_text

    def no_space(path, text):
        if str(path).endswith("history.csv"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, text)

    monkeypatch.setattr(atomic, "atomic_write_text", no_space)
    with pytest.raises(OSError, match="No space left"):
        _rerun(finished, run)
    assert open(run / "history.csv").read() == history
    assert not [p for p in os.listdir(run) if p.startswith(".tmp-")]
    assert "ckpt-16" in listed(run / "ckpt")  # the checkpoint before the failed history row is kept


def test_resume_mid_epoch_writes_each_epoch_once(finished, tmp_path):
    """Minor defect: a resume from a checkpoint inside an epoch used to log that epoch twice."""
    run = _copy(finished, tmp_path)
    from training.run import train

    recipe = write_recipe(tmp_path / "a.yaml", steps=14)  # epoch 3 = steps 13-16: stopped inside it, saved at 14
    train(recipe, data=finished["data"], out=run, verbose=0)
    result = train(write_recipe(tmp_path / "b.yaml", steps=16), data=finished["data"], out=run, verbose=0)
    assert result.resumed_from == 14 and result.step == 16
    epochs = [line.split(",")[0] for line in open(run / "history.csv").read().splitlines()[1:]]
    assert epochs == ["0", "1", "2", "3"]
