"""``audiogen synthesize RUN_DIR_OR_MODEL``: audio (WAV) and spectrogram pictures (PNG) from a trained model.

Vocoders turn mel files (``.npy``, (frames, n_mels)) or audio files (their log-mel) into audio; unconditional
models (WaveGAN, SpecGAN, WaveNet) draw ``--num`` clips from noise, of ``--label`` for a conditional model.
Imports ``training`` and ``zoo`` lazily.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

EXAMPLE = (
    "audiogen synthesize runs/hifigan --input data/notes/wavs/note_000.wav --out out/synth\n"
    "  audiogen synthesize runs/wavegan --num 4 --label 2 --seed 1 --out out/wavegan\n"
    "  audiogen synthesize model.keras --input mel.npy --sample-rate 22050"
)

VOCODERS = ("HiFiGANGenerator", "MelGANGenerator", "MultiBandMelGANGenerator")


def add_parser(sub) -> argparse.ArgumentParser:
    """Register the ``synthesize`` subcommand on an argparse ``sub``-parsers object."""
    p = sub.add_parser(
        "synthesize", help="generate audio (WAV + spectrogram PNG) with a trained run or a .keras model",
        epilog="Example:\n  " + EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", help="a run folder of `audiogen train` or a .keras generator")
    p.add_argument("--input", nargs="*", default=[], help="vocoders: mel .npy files (frames, n_mels) or audio files")
    p.add_argument("--out", default="synth", help="output folder (default: synth)")
    p.add_argument("--num", type=int, default=4, help="unconditional models: clips to draw (default: 4)")
    p.add_argument("--label", type=int, default=None, help="conditional models: the class to draw")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    p.add_argument("--seconds", type=float, default=0.5, help="WaveNet: seconds per clip (default: 0.5)")
    p.add_argument("--sample-rate", type=int, default=None,
                   help="sample rate for a bare .keras model (a run folder knows its own)")
    return p


def _load(path):
    """(recipe or None, model)."""
    if os.path.isdir(path):
        from training.run import load_run

        return load_run(path)
    import keras

    from audiogen_tf.cli.models import import_zoo
    from audiogen_tf.errors import ConfigError

    if not os.path.isfile(path):
        raise ConfigError(f"{path}: neither a run folder nor a model file")
    import_zoo()  # registers every zoo class for deserialization
    return None, keras.saving.load_model(path)


def _hop_of(model) -> int:
    cfg = model.get_config()
    hop = int(np.prod(cfg.get("upsample_rates", [256])))
    return hop * int(cfg.get("subbands", 1))


def _mel_config(recipe, model, sample_rate):
    from audiogen_tf.features import MelConfig

    if recipe is not None and hasattr(recipe, "mel_config"):
        return recipe.mel_config()
    sr = int(sample_rate or 22050)
    hop = _hop_of(model)
    n_mels = int(model.inputs[0].shape[-1])
    return MelConfig(sample_rate=sr, n_fft=4 * hop, hop_length=hop, win_length=4 * hop, n_mels=n_mels,
                     fmax=min(8000.0, sr / 2))


def _write(out_dir, stem, audio, sr, spectrograms, titles, hop):
    from audiogen_tf import audio as audio_io
    from audiogen_tf.plotting import save_spectrogram_png

    wav = audio_io.save(os.path.join(out_dir, f"{stem}.wav"), np.clip(audio, -1.0, 1.0), sr)
    png = save_spectrogram_png(os.path.join(out_dir, f"{stem}.png"), spectrograms, titles=titles, sample_rate=sr,
                               hop_length=hop)
    return [wav, png]


def synthesize_command(args) -> list[str]:
    """Run ``audiogen synthesize``; returns the files written."""
    import tensorflow as tf

    from audiogen_tf import audio as audio_io
    from audiogen_tf.errors import ConfigError
    from audiogen_tf.features import MelConfig

    recipe, model = _load(args.model)
    kind = type(model).__name__
    os.makedirs(args.out, exist_ok=True)
    files = []
    if kind in VOCODERS:
        if not args.input:
            raise ConfigError("a vocoder needs --input mel .npy or audio files")
        cfg = _mel_config(recipe, model, args.sample_rate)
        for path in args.input:
            stem = os.path.splitext(os.path.basename(path))[0]
            if path.endswith(".npy"):
                mel = np.load(path).astype(np.float32)
                mel = mel[None] if mel.ndim == 2 else mel
                if mel.ndim != 3 or mel.shape[-1] != cfg.n_mels:
                    raise ConfigError(f"{path}: expected a mel (frames, {cfg.n_mels}), got shape {mel.shape}")
            else:
                x, _ = audio_io.load(path, sr=cfg.sample_rate)
                mel = cfg.log_mel(tf.constant(x[None, :])).numpy()
            y = np.asarray(model(mel, training=False))[0, :, 0]
            got = cfg.log_mel(tf.constant(y[None, :])).numpy()[0]
            files += _write(args.out, f"{stem}_synth", y, cfg.sample_rate, [mel[0], got],
                            [f"{stem}: input mel", f"{stem}: {kind} output"], cfg.hop_length)
        return _report(files)
    if kind in ("WaveGANGenerator", "SpecGANGenerator", "WaveNet"):
        sr = int(getattr(recipe, "sample_rate", None) or args.sample_rate or 16000)
        n = int(args.num)
        if kind == "WaveNet":
            gid = None
            if model.global_classes:
                gid = np.full((n,), args.label or 0, np.int32)
            if model.local_channels:
                raise ConfigError("this WaveNet is mel-conditioned; synthesize supports unconditional WaveNets")
            ids = model.generate(int(args.seconds * sr), batch_size=n, global_id=gid, seed=args.seed)
            clips = np.asarray(model.ids_to_audio(ids))
        else:
            labels = None
            if getattr(model, "num_classes", 0):
                if args.label is None:
                    raise ConfigError(f"this {kind} is class-conditional: pass --label (0..{model.num_classes - 1})")
                labels = np.full((n,), args.label, np.int32)
            clips = np.asarray(model.generate(batch_size=n, labels=labels, seed=args.seed))
        clips = clips.reshape(n, -1)
        cfg = MelConfig(sample_rate=sr, n_fft=512, hop_length=128, win_length=512, n_mels=64, fmax=sr / 2)
        short = max(0, cfg.n_fft + 1 - clips.shape[1])  # the picture's reflect padding needs > n_fft / 2 samples
        mels = cfg.log_mel(tf.constant(np.pad(clips, [(0, 0), (0, short)]).astype(np.float32))).numpy()
        tag = f"label{args.label}_" if args.label is not None else ""
        for i in range(n):
            files.append(audio_io.save(os.path.join(args.out, f"{tag}sample_{i:02d}.wav"), np.clip(clips[i], -1, 1), sr))
        from audiogen_tf.plotting import save_spectrogram_png

        files.append(save_spectrogram_png(os.path.join(args.out, f"{tag}samples.png"), list(mels),
                                          titles=[f"{kind} sample {i}" for i in range(n)], sample_rate=sr,
                                          hop_length=cfg.hop_length))
        return _report(files)
    raise ConfigError(f"{args.model}: a {kind} does not generate audio (synthesize takes vocoders, WaveGAN, "
                      "SpecGAN and WaveNet)")


def _report(files):
    for f in files:
        print(f)
    return files
