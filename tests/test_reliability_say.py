"""Issue 41, `audiogen say` half: nothing overwritten, nothing cut, nothing exhausted, nothing left behind.

One test (or a few) per case of the issue's table (docs/reliability.md): the overwrite policy (1), long text never
cut (2), NUL bytes (3), the text size cap (8), the checked voice cache and audio (9), bundle paths confined (10), a
full disk (12), errors naming -o (13), SIGTERM and stale temporaries (14), progress on a terminal (16). The voices
are the untrained tiny presets: no Debian tool, no shipped weights, a few seconds each.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from audiogen_cli import main
from audiogen_tf.errors import ModelFileError, SynthesisError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _say(*args):
    return main(["say", *args, "--voice", "test_tiny"])


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("audiogen: error:") and "\n" not in err, err
    return err


def _dead_pid() -> int:
    """A process id that no process has now."""
    pid = 999_999
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


TEXT = "one two three"


@pytest.fixture(scope="module")
def cut_voice():
    """The tiny CTC TTS (untrained, seeded) + the tiny vocoder, its ``max_frames`` set to one frame more than its
    longest word of :data:`TEXT` needs: each word fits in one call, the whole sentence does not."""
    import keras

    from zoo.ctc_tts import CTCTTS
    from zoo.istft_vocoder import ISTFTVocoder
    from zoo.voices import Voice

    keras.utils.set_random_seed(0)
    base = CTCTTS.from_preset("ctc_tts_tiny")

    def need(text):
        return int(np.sum(base.synthesize(text, griffin_lim_iters=0)["durations"]))

    limit = max(need(word) for word in TEXT.split()) + 1
    assert need(TEXT) > limit
    tts = CTCTTS.from_config({**base.get_config(), "max_frames": limit})
    tts.set_weights(base.get_weights())
    return Voice.from_models(tts, ISTFTVocoder.from_preset("istft_vocoder_tiny"), name="cut")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, cut_voice):
    """The cut voice exported to a cached TFLite bundle, as `say --tflite` leaves it (with sha256.json)."""
    from audiogen_cli.say import tflite_engine

    folder = str(tmp_path_factory.mktemp("cache") / "voices" / "cut-0123456789ab")
    tflite_engine(cut_voice, folder, log=lambda *a: None)
    return folder


# ---------------------------------------------------------------------------------------------- 1: overwrite policy
def test_say_replaces_an_existing_file_only_with_force_and_keeps_a_bak(tmp_path, capsys):
    out = tmp_path / "old.wav"
    out.write_bytes(b"keep me")
    assert _say("Hi.", "-o", str(out)) == 2
    assert "file exists; pass --force" in _one_line_error(capsys) and out.read_bytes() == b"keep me"
    assert _say("Hi.", "-o", str(out), "--force") == 0
    assert sf.info(str(out)).frames > 0 and (tmp_path / "old.wav.bak").read_bytes() == b"keep me"
    assert "kept the old file as" in capsys.readouterr().out


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_say_never_writes_over_its_own_input(tmp_path, capsys, force):
    note = tmp_path / "note.txt"
    note.write_text("keep me", encoding="utf-8")
    assert _say("--file", str(note), "-o", str(note), *force) == 2
    assert "is also an input of this command" in _one_line_error(capsys)
    assert note.read_text(encoding="utf-8") == "keep me" and not (tmp_path / "note.txt.bak").exists()
    link = tmp_path / "link.wav"
    link.symlink_to(note)  # the same file under another name
    assert _say("--file", str(note), "-o", str(link), *force) == 2
    assert "is also an input" in _one_line_error(capsys) and note.read_text(encoding="utf-8") == "keep me"


# ---------------------------------------------------------------------------------------------- 2: long text not cut
def test_long_text_is_split_by_predicted_frames_not_cut(cut_voice):
    from zoo.voices import frames_needed_and_made

    text = TEXT
    whole = cut_voice.synthesize_sentence(text)
    needed, made = frames_needed_and_made(whole)
    assert needed > made == cut_voice.tts.max_frames  # one call cannot say it: the mel stops at max_frames
    chunks = list(cut_voice.speak(text))
    assert len(chunks) > 1 and {c.index for c in chunks} == {1} and chunks[0].total == 1
    assert " ".join(c.text for c in chunks).split() == text.split()  # every word, in order
    hop = cut_voice.mel_settings.hop_length
    for c in chunks:  # each piece's mel has every frame its durations ask for, its audio spans the mel
        ids = cut_voice.tts.frontend.encode(c.text)
        assert len(c.mel) >= len(ids) and len(c.audio) >= (len(c.mel) - 1) * hop


def test_a_word_longer_than_the_model_can_say_is_a_named_error():
    from zoo.ctc_tts import CTCTTS
    from zoo.voices import Voice

    voice = Voice.from_models(CTCTTS.from_preset("ctc_tts_tiny", max_frames=1), None)
    with pytest.raises(SynthesisError, match=r"needs \d+ frames of speech, the model makes at most 1 per call"):
        list(voice.speak("a"))


def test_tflite_long_text_is_split_too(cut_voice, bundle):
    from audiogen_cli.say import tflite_engine
    from tflite_export.synthesizer import Synthesizer

    text = TEXT
    with pytest.raises(SynthesisError, match=r"needs \d+ frames of speech, the exported model makes at most \d+"):
        Synthesizer(bundle).text_to_speech(text)  # the runtime alone refuses to return cut speech
    engine, _ = tflite_engine(cut_voice, bundle, log=lambda *a: None)
    chunks = list(cut_voice.speak(text, engine=engine))
    assert len(chunks) > 1 and " ".join(c.text for c in chunks).split() == text.split()


# ---------------------------------------------------------------------------------------------- 3: NUL bytes
def test_nul_and_control_characters_do_not_end_the_text():
    from audiogen_tf.text import TextFrontEnd, espeak_available, normalize, phonemize

    assert normalize("Hello\0world.\x07") == "hello world."
    if not espeak_available():
        pytest.skip("espeak-ng: pip install espeakng-loader (or sudo apt-get install espeak-ng)")
    frontend = TextFrontEnd(symbol_type="phonemes")  # what the shipped voice speaks from
    assert frontend.to_symbols("Hello\0world.") == frontend.to_symbols("Hello world.")
    assert phonemize("hello\0world") == phonemize("hello world")  # phonemize alone also reads past the NUL


# ---------------------------------------------------------------------------------------------- 8: text size cap
def test_text_inputs_have_a_size_cap(tmp_path, capsys, monkeypatch):
    import audiogen_cli.say as say

    monkeypatch.setattr(say, "MAX_TEXT_BYTES", 100)
    big = tmp_path / "big.txt"
    big.write_text("word " * 30, encoding="utf-8")
    out = tmp_path / "x.wav"
    assert _say("--file", str(big), "-o", str(out)) == 2
    assert f"{big}: text is longer than 100 bytes" in _one_line_error(capsys)
    start = time.perf_counter()
    assert _say("--file", "/dev/zero", "-o", str(out)) == 2  # endless: only cap + 1 bytes are read
    assert "/dev/zero: text is longer than 100 bytes" in _one_line_error(capsys)
    assert time.perf_counter() - start < 30
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"word " * 30)))
    assert _say("-", "-o", str(out)) == 2
    assert "stdin: text is longer than 100 bytes" in _one_line_error(capsys)
    assert _say("word " * 30, "-o", str(out)) == 2
    assert "the text argument: text is longer" in _one_line_error(capsys)
    assert not out.exists()
    big.write_text("Hi there.", encoding="utf-8")
    assert _say("--file", str(big), "-o", str(out)) == 0


# ---------------------------------------------------------------------------------------------- 9: cache and audio
def test_damaged_cached_bundle_is_detected_and_rebuilt(cut_voice, bundle, tmp_path):
    """Fault injection: 64 KiB of 0x7f in the middle of the cached vocoder, as in the issue."""
    from audiogen_cli.say import tflite_engine
    from tflite_export.synthesizer import damaged_bundle_files

    folder = str(tmp_path / "voices" / "cut-0123456789ab")
    shutil.copytree(bundle, folder)
    assert damaged_bundle_files(folder) == []
    vocoder = os.path.join(folder, "vocoder.tflite")
    size = os.path.getsize(vocoder)
    with open(vocoder, "r+b") as f:
        f.seek(size // 2)
        f.write(b"\x7f" * min(65536, size // 4))
    assert damaged_bundle_files(folder) == ["vocoder.tflite"]
    said = []
    engine, _ = tflite_engine(cut_voice, folder, log=said.append)
    assert "vocoder.tflite do(es) not match sha256.json (damaged)" in said[0] and "exporting" in said[1]
    assert damaged_bundle_files(folder) == []
    chunks = list(cut_voice.speak("Hi.", engine=engine))
    assert np.abs(chunks[0].audio).max() < 0.999


def test_a_cached_bundle_without_checksums_is_rebuilt_a_users_bundle_is_not(cut_voice, bundle, tmp_path):
    from audiogen_cli.say import tflite_engine
    from tflite_export.synthesizer import CHECKSUM_FILE

    folder = str(tmp_path / "mine")
    shutil.copytree(bundle, folder)
    os.remove(os.path.join(folder, CHECKSUM_FILE))
    said = []
    tflite_engine(cut_voice, folder, log=said.append, checked=False)  # --bundle: used as it is
    assert said == [] and not os.path.exists(os.path.join(folder, CHECKSUM_FILE))
    tflite_engine(cut_voice, folder, log=said.append)  # the cache: exported again, with checksums
    assert "it has no sha256.json" in said[0] and os.path.exists(os.path.join(folder, CHECKSUM_FILE))
    with open(os.path.join(folder, "ctc_tts.tflite"), "ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelFileError, match="ctc_tts.tflite do.es. not match it .damaged.; remove the folder"):
        tflite_engine(cut_voice, folder, log=said.append, checked=False)  # --bundle: an error, nothing deleted
    assert os.path.exists(os.path.join(folder, "ctc_tts.tflite"))


@pytest.mark.parametrize("audio, problem", [(np.full(4096, np.nan), "non_finite"), (np.ones(4096), "clipped"),
                                            (np.where(np.arange(4096) % 2, 1.0, -1.0), "clipped")])
def test_non_finite_or_clipped_audio_is_a_named_error(tmp_path, audio, problem):
    from zoo.voices import Voice

    voice = Voice.from_name("test_tiny")
    engine = lambda sentence: {"audio": audio, "mel": np.zeros((16, 80), np.float32)}  # noqa: E731
    with pytest.raises(SynthesisError, match="damaged model files") as err:
        voice.say_to_file("Hi.", tmp_path / "x.wav", engine=engine)
    assert err.value.problem == problem and os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------------------------- 10: bundle paths
def _bundle_with_vocoder_file(bundle, folder, name):
    shutil.copytree(bundle, folder)
    meta = os.path.join(folder, "synthesizer.json")
    with open(meta, encoding="utf-8") as f:
        config = json.load(f)
    config["vocoder"]["file"] = name
    with open(meta, "w", encoding="utf-8") as f:
        json.dump(config, f)
    return folder


@pytest.mark.parametrize("where", ["dotdot", "absolute", "symlink"])
def test_bundle_files_stay_inside_the_bundle_folder(bundle, tmp_path, where):
    from tflite_export.synthesizer import Synthesizer

    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "v.tflite"
    shutil.copy(os.path.join(bundle, "vocoder.tflite"), secret)  # a working model: it must still not be loaded
    name = {"dotdot": "../outside/v.tflite", "absolute": str(secret), "symlink": "link.tflite"}[where]
    folder = _bundle_with_vocoder_file(bundle, str(tmp_path / "b"), name)
    if where == "symlink":
        os.symlink(secret, os.path.join(folder, "link.tflite"))
    with pytest.raises(ModelFileError, match="inside the bundle folder|outside the bundle folder"):
        Synthesizer(folder)


def test_a_non_tflite_file_in_a_bundle_is_not_echoed(bundle, tmp_path):
    from tflite_export.synthesizer import Synthesizer

    folder = _bundle_with_vocoder_file(bundle, str(tmp_path / "b"), "secret.tflite")
    with open(os.path.join(folder, "secret.tflite"), "w") as f:
        f.write("root:SECRET-PASSWORD-HASH:0:0\n")
    with pytest.raises(ModelFileError, match="not tflite") as err:
        Synthesizer(folder)
    assert not any(piece in str(err.value) for piece in ("SECRET", "SECR", "ECRE", "CRET", "t:SE", ":SEC"))


# ---------------------------------------------------------------------------------------------- 12: full disk
def test_say_to_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, capsys):
    """Fault injection: the process's file-size limit (``ulimit -f``) at 2000 bytes; Python ignores SIGXFSZ, so the
    write fails as it does on a full disk."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    out = tmp_path / "full.wav"
    resource.setrlimit(resource.RLIMIT_FSIZE, (2_000, hard))
    try:
        code = _say("The train leaves at seven. It comes back at nine in the evening.", "-o", str(out))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert code == 2
    err = _one_line_error(capsys)
    assert f"{out}: unwritable (file size limit (ulimit -f) of 2000 bytes" in err and ".tmp-" not in err
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------------------------- 13: errors name -o
def test_an_unwritable_folder_names_the_output_not_the_temporary_file(tmp_path, capsys, monkeypatch):
    import errno
    import tempfile

    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
    else:  # root writes anywhere: the folder refuses as a read-only one would
        real = tempfile.mkstemp

        def refuse(*args, dir=None, prefix="", suffix="", **kwargs):
            if dir is not None and os.path.samefile(dir, folder):
                raise PermissionError(errno.EACCES, "Permission denied", os.path.join(dir, f"{prefix}abcd{suffix}"))
            return real(*args, dir=dir, prefix=prefix, suffix=suffix, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    try:
        assert _say("Hi.", "-o", str(folder / "x.wav")) == 2
    finally:
        folder.chmod(0o755)
    err = _one_line_error(capsys)
    assert f"{folder / 'x.wav'}: Permission denied" in err and ".tmp-" not in err


# ---------------------------------------------------------------------------------------------- 14: SIGTERM, leftovers
def test_sigterm_becomes_an_exception_so_cleanup_runs():
    from audiogen_tf.atomic import Terminated, sigterm_as_exception

    with pytest.raises(Terminated):
        with sigterm_as_exception():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_say_killed_by_sigterm_leaves_no_temporary_file(tmp_path):
    """Fault injection: SIGTERM while `say` streams sentences into its temporary WAV."""
    out = tmp_path / "out" / "long.wav"
    text = tmp_path / "long.txt"
    text.write_text("The train leaves at seven. " * 400, encoding="utf-8")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": REPO}
    proc = subprocess.Popen([sys.executable, "-m", "audiogen_cli", "say", "--file", str(text), "-o", str(out),
                             "--voice", "test_tiny"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if out.parent.is_dir() and any(n.startswith(".tmp-") for n in os.listdir(out.parent)):
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err[-2000:]
    assert "audiogen: terminated" in err and "Traceback" not in err
    assert os.listdir(out.parent) == []


def test_leftovers_of_dead_processes_are_removed_at_the_next_run(tmp_path, capsys):
    """A ``.tmp-<pid>-*`` file of a process killed by SIGKILL (no handler runs) goes at the next write in its folder;
    a live process's temporary file and other files stay."""
    dead, now = _dead_pid(), time.time()
    stale = tmp_path / f".tmp-{dead}-abcd1234.wav"
    live = tmp_path / f".tmp-{os.getpid()}-efgh5678.wav"
    young = tmp_path / f".tmp-{dead}-ijkl9012.wav"  # a process of another PID namespace may still be writing it
    other = tmp_path / ".tmp-notes.txt"
    for p in (stale, live, young, other):
        p.write_bytes(b"x" * 100)
    for p in (stale, live, other):
        os.utime(p, (now - 3600, now - 3600))
    assert _say("Hi.", "-o", str(tmp_path / "x.wav")) == 0
    assert not stale.exists() and live.exists() and young.exists() and other.exists()


def test_a_stale_export_folder_is_removed_and_an_interrupted_export_leaves_none(tmp_path, cut_voice, monkeypatch):
    import audiogen_cli.say as say
    import tflite_export.synthesizer as synthesizer

    voices = tmp_path / "voices"
    stale = voices / f"slt_ctc-0123456789ab.tmp{_dead_pid()}"
    stale.mkdir(parents=True)
    (stale / "vocoder.tflite").write_bytes(b"x" * 100)
    mine = voices / f"other.tmp{os.getpid()}"  # an export running now (this process)
    mine.mkdir()
    said = []
    assert say.remove_stale_exports(str(voices / "cut-0123"), log=said.append) == [str(stale)]
    assert not stale.exists() and mine.exists() and "no longer runs" in said[0]

    def interrupted(folder, **kwargs):  # Ctrl-C or SIGTERM (Terminated) midway through the export
        os.makedirs(folder)
        open(os.path.join(folder, "vocoder.tflite"), "wb").close()
        raise KeyboardInterrupt

    monkeypatch.setattr(synthesizer, "export_bundle", interrupted)
    with pytest.raises(KeyboardInterrupt):
        say.tflite_engine(cut_voice, str(voices / "cut-0123"), log=said.append)
    assert sorted(p.name for p in voices.iterdir()) == [mine.name]


# ---------------------------------------------------------------------------------------------- 16: progress
def test_say_shows_progress_on_a_terminal(tmp_path, capsys, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    assert _say("One. Two. Three.", "-o", str(tmp_path / "x.wav")) == 0
    shown = stderr.getvalue()
    assert "sentence 1/3" in shown and "sentence 3/3" in shown
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal (a log file): no progress lines
    assert _say("One. Two. Three.", "-o", str(tmp_path / "y.wav")) == 0
    assert "sentence 1/3" not in sys.stderr.getvalue()
