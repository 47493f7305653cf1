"""The training console (training/console.py): log lines with only the active losses, step/total, s/step and the
time left; the GANTrainer's active terms; a 4-step `audiogen train` that prints them and no shuffle warning."""

import io
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import pytest
import tensorflow as tf

from training.budget import StopAtMinutes, TrainingClock
from training.console import TrainingConsole, format_duration
from training.gan_trainer import GANTrainer

#: what a GANTrainer with a mel + weighted-phase recipe logs (Keras' bar prints all of it)
ALL_LOGS = {"adv_loss": 0.0, "amplitude_loss": 5.57, "d_loss": 0.0, "fm_loss": 0.0, "g_loss": 39.8, "gp": 0.0,
            "mel_loss": 0.291, "phase_loss": 4.12, "skipped_steps": 0.0, "stft_loss": 1.24, "wasserstein": 0.0,
            "weighted_phase_loss": 2.36}


class _Trainer:
    """Stands in for a trainer: a step counter and the terms it says are active."""

    def __init__(self, active=("g_loss", "mel_loss", "stft_loss", "weighted_phase_loss")):
        self.train_step_counter = tf.Variable(0, dtype=tf.int64)
        self.active = list(active)
        self.stop_training = False

    def active_losses(self, step):
        return self.active


def _drive(console, model, steps, logs):
    console.set_model(model)
    console.on_train_begin()
    console.on_epoch_begin(0)
    for i in range(steps):
        model.train_step_counter.assign_add(1)
        console.on_train_batch_end(i, logs)
    console.on_train_end()


def _names(line):
    """The loss names of a log line (the words followed by a number between the step and the first '|')."""
    words = line.split("|")[0].split()[2:]
    return words[0::2]


def test_line_shows_active_losses_step_total_rate_and_time_left():
    stream = io.StringIO()
    console = TrainingConsole(total_steps=8, every=2, stream=stream, outputs=[("checkpoints", "runs/x/ckpt")])
    _drive(console, _Trainer(), 4, ALL_LOGS)
    text = stream.getvalue()
    assert text.splitlines()[0].split() == ["checkpoints:", "runs/x/ckpt"]
    assert [line.split()[:2] for line in console.lines] == [["step", "2/8"], ["step", "4/8"]]
    for line in console.lines:
        assert _names(line) == ["g_loss", "mel_loss", "stft_loss", "weighted_phase_loss"], line
        assert " s/step | " in line and line.endswith(" left"), line
    console.total_steps = 4
    assert console.format_line(ALL_LOGS).endswith(" s/step | done")
    assert "trained 4 step(s)" in text and "graph tracing" in text
    assert "\r" not in text  # not a terminal: no live line


def test_without_active_losses_every_log_but_zero_counters_is_shown():
    class Plain(_Trainer):
        active_losses = None

    console = TrainingConsole(total_steps=2, every=1, stream=io.StringIO())
    _drive(console, Plain(), 2, {"loss": 0.5, "kl_loss": 0.0, "skipped_steps": 0.0, "loss_scale_overflows": 2.0})
    assert _names(console.lines[-1]) == ["loss", "kl_loss", "loss_scale_overflows"]


def test_time_left_takes_the_sooner_of_steps_and_minutes_budget():
    clock = TrainingClock(None)
    clock.train_seconds = 60.0 * 9.5  # half a minute left of a 10-minute budget
    console = TrainingConsole(total_steps=10**6, every=1, budget=StopAtMinutes(clock, 10), stream=io.StringIO())
    _drive(console, _Trainer(), 3, ALL_LOGS)
    line = console.lines[-1]
    assert line.split()[1].startswith("3/~") and line.endswith("30s left (time budget)"), line
    assert [format_duration(s) for s in (41.2, 725, 3725)] == ["41s", "12m05s", "1h02m"]


def test_live_line_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    console = TrainingConsole(total_steps=100, every=50, stream=stream)
    _drive(console, _Trainer(), 2, ALL_LOGS)
    text = stream.getvalue()
    assert text.startswith("\r\x1b[K[" + "-" * 20 + "] 1/50 step 1/100  g_loss "), text  # redrawn in place
    assert "\r\x1b[Kstep 2/100  g_loss " in text  # the closing line replaces the live one


def test_verbose_modes_of_train(tmp_path, monkeypatch):
    from test_fault_tolerance import write_tiny_recipe

    import training.run
    from audiogen_cli import main
    from training.console import for_run
    from training.recipes import load_recipe

    recipe = load_recipe(write_tiny_recipe(tmp_path / "tiny.yaml"), ["minutes=5"])
    cbs = [StopAtMinutes(TrainingClock(None), 5)]
    assert for_run(recipe, "run", cbs, "keras") == ([], 1) and for_run(recipe, "run", cbs, 0) == ([], 0)
    (default,), fit_verbose = for_run(recipe, "run", cbs, 1)
    assert fit_verbose == 0 and default.live is None and default.budget is cbs[0]
    assert (default.total_steps, default.every) == (recipe.steps, recipe.steps_per_epoch)
    assert for_run(recipe, "run", cbs, 2)[0][0].live is False

    seen = []
    monkeypatch.setattr("audiogen_cli.quiet._VERBOSE", False)  # restored after the test
    monkeypatch.setattr(training.run, "train", lambda *a, verbose, **k: seen.append(verbose) or 1 / 0)
    for args in (["train"], ["train", "--quiet"], ["--verbose", "train"]):
        with pytest.raises(ZeroDivisionError):
            main(args + [str(tmp_path / "tiny.yaml"), "--out", str(tmp_path / "run")])
    assert seen == [1, 2, "keras"]


def _trainer(generator, discriminators, **compile_kw):
    trainer = GANTrainer(generator, discriminators, mode=compile_kw.pop("mode", "vocoder"), seed=0)
    trainer.compile(keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4), **compile_kw)
    return trainer


def test_gan_trainer_active_losses_follow_weights_and_warmup():
    from zoo.hifigan.hifigan_discriminators import HiFiGANDiscriminator
    from zoo.hifigan.hifigan_generator import HiFiGANGenerator
    from zoo.istft_vocoder import ISTFTVocoder
    from zoo.wavegan import WaveGANDiscriminator, WaveGANGenerator

    istft = _trainer(ISTFTVocoder.from_preset("istft_vocoder_tiny", weights=None), [], generator_warmup_steps=10**12,
                     losses={"mel": 45.0, "stft": 2.5, "weighted_phase": 10.0})
    assert istft.active_losses(0) == ["g_loss", "mel_loss", "stft_loss", "weighted_phase_loss"]

    hifigan = _trainer(HiFiGANGenerator.from_preset("hifigan_tiny"), [HiFiGANDiscriminator.from_preset("hifigan_tiny")],
                       generator_warmup_steps=300)
    assert hifigan.active_losses(299) == ["mel_loss"]  # warm-up: the mel L1 alone
    assert hifigan.active_losses(300) == ["g_loss", "mel_loss", "adv_loss", "fm_loss", "d_loss"]

    wavegan = _trainer(WaveGANGenerator.from_preset("wavegan_tiny"), [WaveGANDiscriminator.from_preset("wavegan_tiny")],
                       mode="unconditional", adversarial_loss="wgan-gp", n_critic=5)
    assert wavegan.active_losses(0) == ["adv_loss", "d_loss", "gp", "wasserstein"]


def test_tiny_train_prints_readable_lines_and_no_shuffle_warning(tmp_path, capsys, recwarn):
    from test_fault_tolerance import write_tiny_corpus, write_tiny_recipe

    from audiogen_cli import main

    data = write_tiny_corpus(tmp_path / "data", n=2)
    recipe = write_tiny_recipe(tmp_path / "tiny.yaml", steps=4, steps_per_epoch=2, checkpoint_every=2,
                               deterministic="false")
    run = str(tmp_path / "run")
    assert main(["train", recipe, "--data", data, "--out", run, "--quiet"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("tiny: step ")]
    assert [line.split()[2] for line in lines] == ["2/4", "4/4"], out
    for line in lines:  # the tiny HiFi-GAN: no STFT term, no WGAN-GP, nothing skipped
        assert _names(line.removeprefix("tiny: ")) == ["g_loss", "mel_loss", "adv_loss", "fm_loss", "d_loss"], line
        assert " s/step | " in line and line.endswith((" left", "| done"))
    for what in ("checkpoints:", "history:", "tensorboard:", "model:"):
        assert f"tiny: {what}" in out
    assert os.path.join(run, "ckpt") in out and os.path.join(run, "history.csv") in out
    assert "0.0000e+00" not in out and "Epoch " not in out  # not Keras' bar
    shuffle = [str(w.message) for w in recwarn if "shuffle" in str(w.message)]
    assert not shuffle, shuffle


if __name__ == "__main__":
    pytest.main([__file__, "-q"])
