"""The vocoder half of ``audiogen demo``: train a vocoder briefly, synthesize, export to TFLite.

On speech (the festival corpus) the small iSTFT vocoder, which learns fastest on two cores (mel L1 + MR-STFT +
amplitude-weighted phase losses, no discriminator); on the built-in notes a tiny HiFi-GAN.
Imports ``zoo``, ``training`` and ``tflite_export`` (the CLI is the one place allowed to wire them).
"""

from __future__ import annotations

import os
import time

import numpy as np


def _hifigan_trainer(mel_config, keras):
    """A tiny HiFi-GAN carrying ``mel_config`` and its GANTrainer (a short warm-up on reconstruction losses)."""
    from training.gan_trainer import GANTrainer
    from zoo.hifigan.hifigan_discriminators import HiFiGANDiscriminator
    from zoo.hifigan.hifigan_generator import HiFiGANGenerator

    generator = HiFiGANGenerator.from_preset("hifigan_tiny", mel_config=mel_config.to_dict())  # it carries its mel
    discriminator = HiFiGANDiscriminator.from_preset("hifigan_tiny")
    trainer = GANTrainer(generator, [discriminator], mode="vocoder", mel_config=mel_config, seed=0)
    trainer.compile(
        g_optimizer=keras.optimizers.AdamW(2e-3, beta_1=0.8, beta_2=0.99),
        d_optimizer=keras.optimizers.AdamW(2e-3, beta_1=0.8, beta_2=0.99),
        adversarial_loss="lsgan",
        # The multi-resolution STFT loss (Parallel WaveGAN) keeps silences quiet early on: at ~300 steps it
        # halves the demo's MR-STFT distance to the original (7.3 -> 3.4, measured on the built-in notes).
        losses={"adversarial": 1.0, "feature_matching": 2.0, "mel": 45.0, "stft": 2.5},
        generator_warmup_steps=300,  # reconstruction losses only at first, so a few minutes give usable audio
    )
    return generator, trainer


def _istft_trainer(mel_config, keras):
    """The small iSTFT vocoder on ``mel_config`` and a GANTrainer with reconstruction + phase losses (no D)."""
    from training.gan_trainer import GANTrainer
    from zoo.istft_vocoder import ISTFTVocoder

    generator = ISTFTVocoder.from_preset("istft_vocoder_small", weights=None, mel_config=mel_config.to_dict())
    trainer = GANTrainer(generator, [], mode="vocoder", mel_config=mel_config, seed=0)
    trainer.compile(
        g_optimizer=keras.optimizers.AdamW(5e-4, beta_1=0.8, beta_2=0.99, weight_decay=0.01),
        d_optimizer=keras.optimizers.AdamW(5e-4, beta_1=0.8, beta_2=0.99),
        generator_warmup_steps=10**12, losses={"mel": 45.0, "stft": 2.5, "weighted_phase": 10.0},
    )
    return generator, trainer


def compare_with_griffin_lim(rec, mel_config, clips, out_dir, stem, title, synthesize, score):
    """Vocode each held-out clip next to its Griffin-Lim resynthesis (written by the round-trip stage).

    Writes ``<clip>_<stem>.wav`` and a three-panel PNG (original, Griffin-Lim, ``title``) per clip, adds them to
    the stage's files and returns ``(vocoder scores, Griffin-Lim scores)``, each ``score(reference, audio)``.
    """
    from audiogen_tf import audio
    from audiogen_tf.plotting import save_spectrogram_png

    sr, hop = mel_config.sample_rate, mel_config.hop_length
    ours, griffin_scores = [], []
    for name, x in clips:
        log_mel = mel_config.log_mel(x[None, :])
        y = synthesize(log_mel)[: len(x)]
        rec["files"].append(audio.save(os.path.join(out_dir, f"{name}_{stem}.wav"), y, sr))
        griffin, _ = audio.load(os.path.join(out_dir, f"{name}_griffin_lim.wav"))
        rec["files"].append(save_spectrogram_png(
            os.path.join(out_dir, f"{name}_{stem}.png"),
            [log_mel[0].numpy(), mel_config.log_mel(griffin[None, :])[0].numpy(),
             mel_config.log_mel(y[None, :])[0].numpy()],
            titles=[f"{name}: original", "Griffin-Lim (64 iterations)", title], sample_rate=sr, hop_length=hop))
        n = min(len(x), len(y), len(griffin))
        ours.append(score(x[:n], y[:n]))
        griffin_scores.append(score(x[:n], griffin[:n]))
    return ours, griffin_scores


def vocoder_stages(stages, mel_config, manifest_path, clips, out_dir, train_seconds, family="hifigan"):
    """Train, synthesize and export a vocoder (``"hifigan"``: tiny HiFi-GAN; ``"istft"``: small iSTFT vocoder)."""
    import keras

    from audiogen_cli.quiet import verbose_requested
    from audiogen_tf import audio, manifest, metrics
    from audiogen_tf.data import segment_dataset
    from tflite_export.export import export_tflite, list_tflite_ops
    from tflite_export.runtime import TFLiteRunner
    from training.callbacks import TimeBudget
    from training.console import TrainingConsole

    keras.utils.set_random_seed(0)
    sr, hop = mel_config.sample_rate, mel_config.hop_length
    model_dir = os.path.join(out_dir, "vocoder")
    os.makedirs(model_dir, exist_ok=True)
    label = "iSTFT vocoder small" if family == "istft" else "HiFi-GAN tiny"
    stem = "istft_vocoder" if family == "istft" else "hifigan"

    with stages.stage(f"train vocoder ({label})") as rec:
        train = [e for e in manifest.read_manifest(manifest_path) if e.get("split", "train") == "train"]
        dataset = segment_dataset(
            train, segment_length=32 * hop, batch_size=8, sample_rate=sr, mel_config=mel_config,
            shuffle=True, seed=0, repeat=True,
        )
        generator, trainer = (_istft_trainer if family == "istft" else _hifigan_trainer)(mel_config, keras)
        budget = TimeBudget(train_seconds)
        model_path = os.path.join(model_dir, f"{stem}.keras")
        if verbose_requested():  # Keras' own per-epoch line with every metric
            shown, fit_verbose = [], 2
        else:  # the active losses, s/step and time left every 100 steps
            shown, fit_verbose = [TrainingConsole(every=100, budget=budget, outputs=[
                ("checkpoints", f"none (a {train_seconds:.0f} s run)"), ("model", f"{model_path} (at the end)")])], 0
        # shuffle=False: the dataset shuffles itself (Keras warns that fit's default shuffle=True is ignored)
        history = trainer.fit(dataset, epochs=10_000, steps_per_epoch=25, callbacks=[budget, *shown],
                              verbose=fit_verbose, shuffle=False)
        mel_losses = history.history.get("mel_loss", [float("nan")])
        steps = int(trainer.train_step_counter.numpy())
        rec["note"] = f"{steps} steps, mel L1 {mel_losses[0]:.3f} -> {mel_losses[-1]:.3f}"
        generator.save(model_path)
        rec["files"].append(model_path)

    with stages.stage("synthesize with the vocoder") as rec:
        vocoder_d, griffin_d = compare_with_griffin_lim(
            rec, mel_config, clips, out_dir, stem, f"{label} after {steps} steps",
            synthesize=lambda log_mel: generator(log_mel, training=False).numpy().reshape(-1),
            score=lambda ref, y: metrics.multi_resolution_stft_distance(ref, y)["total"])
        rec["note"] = f"MR-STFT distance: vocoder {np.mean(vocoder_d):.3f}, Griffin-Lim {np.mean(griffin_d):.3f}"

    with stages.stage("export to TFLite and run") as rec:
        plain = generator.remove_weight_norm() if hasattr(generator, "remove_weight_norm") else generator
        path = export_tflite(plain, os.path.join(model_dir, f"{stem}.tflite"), endpoint="synthesize")
        rec["files"].append(path)
        runner = TFLiteRunner(path, num_threads=2)
        name, x = clips[0]
        log_mel = mel_config.log_mel(x[None, :]).numpy()
        start = time.perf_counter()
        outputs = runner.run(log_mel)
        y_lite = np.asarray(next(iter(outputs.values()))).reshape(-1)
        seconds = time.perf_counter() - start
        y_keras = plain(log_mel, training=False).numpy().reshape(-1)
        rec["files"].append(audio.save(os.path.join(out_dir, f"{name}_{stem}_tflite.wav"), y_lite[: len(x)], sr))
        flex = sorted(op for op in list_tflite_ops(path) if "Flex" in op)
        n = min(len(y_lite), len(y_keras))
        rec["note"] = (
            f"{os.path.getsize(path) / 1e3:.0f} kB, max |TFLite - Keras| {np.max(np.abs(y_lite[:n] - y_keras[:n])):.1e}, "
            f"real-time factor {seconds / (len(x) / sr):.3f}, Flex ops: {flex or 'none'}"
        )


def shipped_vocoder_stage(stages, mel_config, clips, out_dir, preset="istft_vocoder_slt"):
    """Resynthesize the held-out clips with the shipped trained vocoder (no training) next to Griffin-Lim.

    Runs only when the clips' mel is the preset's (the festival speech corpus); PESQ-WB when ``pesq`` is installed.
    """
    from audiogen_tf import metrics
    from zoo.istft_vocoder import ISTFTVocoder

    vocoder = ISTFTVocoder.from_preset(preset)
    if vocoder.feature_settings.to_dict() != mel_config.to_dict():
        return False
    with stages.stage(f"shipped vocoder ({preset}, no training)") as rec:
        ours, griffin_scores = compare_with_griffin_lim(
            rec, mel_config, clips, out_dir, preset, f"shipped {preset}",
            synthesize=lambda log_mel: np.clip(vocoder(log_mel, training=False).numpy().reshape(-1), -1.0, 1.0),
            score=lambda ref, y: metrics.pesq_wb(ref, y, mel_config.sample_rate))
        if all(v is not None for v in ours + griffin_scores):
            rec["note"] = f"PESQ-WB: shipped vocoder {np.mean(ours):.2f}, Griffin-Lim {np.mean(griffin_scores):.2f}"
        else:
            rec["note"] = "PESQ-WB not measured (pip install pesq)"
    return True
