"""`audiogen` commands are quiet: TensorFlow's C++ log lines stay off stderr unless --verbose is given."""

import os
import re
import subprocess
import sys

import pytest

from audiogen_cli import main, quiet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOISE = re.compile(r"cudart_stub|oneDNN custom operations|cuInit|absl::InitializeLog|^[IWEF]\d{4} \d\d:\d\d:", re.M)


def test_models_command_prints_no_tensorflow_log_lines():
    """A fresh process (TensorFlow not imported yet, no TF_CPP_MIN_LOG_LEVEL of the user): a clean stderr."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    code = ("import sys; from audiogen_cli import main; rc = main(['models', '--no-count']); "
            "print('tensorflow imported:', 'tensorflow' in sys.modules); sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "hifigan_tiny" in out.stdout and "tensorflow imported: True" in out.stdout
    assert not NOISE.search(out.stderr), out.stderr


def test_verbose_leaves_the_environment_alone(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    with pytest.raises(SystemExit):
        main(["--verbose", "models", "--help"])
    assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    with pytest.raises(SystemExit):
        main(["models", "--help", "--verbose"])  # accepted after the subcommand too
    assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    assert not any(isinstance(f, quiet._QuietTensorFlowFinder) for f in sys.meta_path)


def test_quiet_by_default_but_a_users_level_is_kept(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    with pytest.raises(SystemExit):
        main(["models", "--help"])
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == quiet.QUIET_LEVEL
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    with pytest.raises(SystemExit):
        main(["models", "--help"])
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"
    assert not any(isinstance(f, quiet._QuietTensorFlowFinder) for f in sys.meta_path)  # main() removes its hook


@pytest.mark.parametrize(
    "line, level, hidden",
    [
        ("I0000 00:00:1796122216.961324   16264 cudart_stub.cc:31] Could not find cuda drivers", 3, True),
        ("I0000 00:00:1796122216.961324   16264 cudart_stub.cc:31] Could not find cuda drivers", 1, True),
        ("I0000 00:00:1796122216.961324   16264 cudart_stub.cc:31] Could not find cuda drivers", 0, False),
        ("E0000 00:00:1796122221.232196   16264 cuda_platform.cc:52] failed call to cuInit: INTERNAL", 3, True),
        ("E0000 00:00:1796122221.232196   16264 cuda_platform.cc:52] failed call to cuInit: INTERNAL", 2, False),
        ("2025-09-17 14:44:05.157831: I external/local_xla/xla/tsl/cuda/cudart_stub.cc:32] Could not find", 2, True),
        ("2025-09-17 14:44:05.157831: I tensorflow/core/util/port.cc:153] oneDNN custom operations are on.", 1, True),
        ("F0000 00:00:1796122221.232196   16264 x.cc:1] Check failed", 3, False),
        (quiet.ABSL_PREAMBLE + "\n", 1, True),
        (quiet.ABSL_PREAMBLE + "\n", 0, False),
        ("UserWarning: something from Python during the import\n", 3, False),
    ],
)
def test_which_lines_are_hidden(line, level, hidden):
    assert quiet.is_hidden(line, level) == hidden


def test_log_level_reads_the_environment():
    assert quiet.log_level({}) == 0 and quiet.log_level({"TF_CPP_MIN_LOG_LEVEL": "2"}) == 2
    assert quiet.log_level({"TF_CPP_MIN_LOG_LEVEL": "loud"}) == 0
