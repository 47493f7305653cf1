"""``audiogen synthesize RUN_DIR_OR_MODEL``: audio (WAV) and spectrogram pictures (PNG) from a trained model.

Vocoders (HiFi-GAN, MelGAN, WaveRNN) turn mel files (``.npy``, (frames, n_mels)) or audio files (their log-mel)
into audio; Tacotron 2 speaks ``--text`` (Griffin-Lim audio + mel and alignment pictures); unconditional models
(WaveGAN, SpecGAN, WaveNet, VAE, FrameRNN) draw ``--num`` clips from noise, of ``--label`` for a conditional model;
VQ-VAEs and codecs reconstruct ``--input`` audio through their codes.
Imports ``training`` and ``zoo`` lazily.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

EXAMPLE = (
    "audiogen synthesize runs/hifigan --input data/notes/audio/flute_060_00.wav --out out/synth\n"
    "  audiogen synthesize runs/wavegan --num 4 --label 2 --seed 1 --out out/wavegan\n"
    "  audiogen synthesize model.keras --input mel.npy --sample-rate 22050\n"
    "  audiogen synthesize runs/tacotron2 --text \"Hello there.\" --out out/tts"
)


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
    p.add_argument("--text", action="append", default=[], help="Tacotron 2: a sentence to speak (repeatable)")
    p.add_argument("--frames", type=int, default=64, help="FrameRNN: frames to generate per clip (default: 64)")
    p.add_argument("--griffin-lim-iters", type=int, default=None,
                   help="Griffin-Lim iterations of mel models (default: the recipe's, else 32)")
    p.add_argument("--refine-iterations", type=int, default=0,
                   help="iSTFT vocoders: fast Griffin-Lim steps that make the predicted phase consistent, on the "
                        "predicted amplitude (default 0: the plain output; 64 costs about Griffin-Lim 64, see "
                        "benchmarks/results/istft_vocoder_refinement.md)")
    p.add_argument("--sample-rate", type=int, default=None,
                   help="sample rate for a bare .keras model (a run folder knows its own)")
    p.add_argument("--force", action="store_true",
                   help="replace files already in --out (each old one is kept as FILE.bak)")
    return p


_FORCE = False  # set by synthesize_command from --force


def _guard(path) -> str:
    """``path`` after checking that writing it replaces no file (unless --force, which keeps a .bak copy)."""
    from audiogen_tf.atomic import keep_or_replace

    keep_or_replace(path, force=_FORCE)
    return path


def _load(path):
    """(recipe or None, model)."""
    if os.path.isdir(path):
        from training.run import load_run

        return load_run(path)
    from audiogen_cli.models import import_zoo
    from audiogen_tf.errors import ModelFileError
    from audiogen_tf.model_files import load_keras_model

    if not os.path.exists(path):
        raise ModelFileError(path, "missing", "neither a run folder nor a model file")
    import_zoo()  # registers every zoo class for deserialization
    return None, load_keras_model(path)


def _mel_config(recipe, model, sample_rate):
    """The vocoder's own mel settings; only a model file of an older version (no ``mel_config``) gets the run's
    recipe or, for a bare file, the documented stand-in below (22050 Hz unless ``--sample-rate``)."""
    import sys

    from audiogen_tf.features import MelConfig

    if getattr(model, "has_features", False):
        return model.feature_settings
    if recipe is not None and hasattr(recipe, "mel_config"):
        return recipe.mel_config()
    print(f"note: this {type(model).__name__} file carries no mel settings (saved by an older version); using "
          "n_fft = win = 4 x hop, fmax = min(8000, sr / 2) at --sample-rate (default 22050)", file=sys.stderr)
    sr = int(sample_rate or 22050)
    hop, n_mels = int(model.hop_length), int(model.n_mels)
    return MelConfig(sample_rate=sr, n_fft=4 * hop, hop_length=hop, win_length=4 * hop, n_mels=n_mels,
                     fmax=min(8000.0, sr / 2))


def _write(out_dir, stem, audio, sr, spectrograms, titles, hop):
    from audiogen_tf import audio as audio_io
    from audiogen_tf.plotting import save_spectrogram_png

    wav = audio_io.save(_guard(os.path.join(out_dir, f"{stem}.wav")), np.clip(audio, -1.0, 1.0), sr)
    png = save_spectrogram_png(_guard(os.path.join(out_dir, f"{stem}.png")), spectrograms, titles=titles, sample_rate=sr,
                               hop_length=hop)
    return [wav, png]


def synthesize_command(args) -> list[str]:
    """Run ``audiogen synthesize``; returns the files written."""
    from audiogen_tf.errors import ConfigError
    from zoo.families import family_of

    global _FORCE
    _FORCE = bool(getattr(args, "force", False))
    recipe, model = _load(args.model)
    kind = type(model).__name__
    family = family_of(model)
    handler = SYNTHESIS.get(family.synthesis if family is not None else None)
    if handler is None:
        raise ConfigError(f"{args.model}: a {kind} does not generate audio (synthesize takes vocoders, WaveGAN, "
                          "SpecGAN, WaveNet, WaveRNN, Tacotron 2, VAE, VQ-VAE, codec and FrameRNN models)")
    os.makedirs(args.out, exist_ok=True)
    return _report(handler(args, recipe, model))


def _vocode(args, recipe, model, autoregressive=False) -> list[str]:
    """Each ``--input`` (a mel .npy or audio, whose mel the model's own settings make) -> ``<stem>_synth.wav`` + PNG."""
    import tensorflow as tf

    from audiogen_tf import audio as audio_io
    from audiogen_tf.errors import ConfigError

    kind = type(model).__name__
    files = []
    if not args.input:
        raise ConfigError("a vocoder needs --input mel .npy or audio files")
    cfg = _mel_config(recipe, model, args.sample_rate)
    from zoo.voices import check_refine_iterations

    refine = check_refine_iterations(model, getattr(args, "refine_iterations", 0))
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
        if autoregressive:
            y = np.asarray(model.ids_to_audio(model.generate(mel, seed=args.seed)))[0]
        elif refine:
            y = np.asarray(model.synthesize_refined(mel, refine))[0]
        else:
            y = np.asarray(model(mel, training=False))[0, :, 0]
        got = cfg.log_mel(tf.constant(y[None, :])).numpy()[0]
        files += _write(args.out, f"{stem}_synth", y, cfg.sample_rate, [mel[0], got],
                        [f"{stem}: input mel", f"{stem}: {kind} output"], cfg.hop_length)
    return files


def _gan_clips(args, model, n, sr):
    """(n, samples) drawn by a WaveGAN / SpecGAN generator."""
    labels = _class_ids(args, model, type(model).__name__, n)
    return np.asarray(model.generate(batch_size=n, labels=labels, seed=args.seed))


def _wavenet_clips(args, model, n, sr):
    """(n, samples) of ``--seconds`` sampled by an unconditional WaveNet (of ``--label`` with global classes)."""
    from audiogen_tf.errors import ConfigError

    gid = None
    if model.global_classes:
        gid = np.full((n,), args.label or 0, np.int32)
    if model.local_channels:
        raise ConfigError("this WaveNet is mel-conditioned; synthesize supports unconditional WaveNets")
    ids = model.generate(int(args.seconds * sr), batch_size=n, global_id=gid, seed=args.seed)
    return np.asarray(model.ids_to_audio(ids))


def _noise(args, recipe, model, draw=_gan_clips) -> list[str]:
    """``--num`` clips drawn from noise (WaveGAN, SpecGAN, WaveNet), of ``--label`` for a conditional model."""
    import tensorflow as tf

    from audiogen_tf import audio as audio_io
    from audiogen_tf.features import MelConfig

    kind = type(model).__name__
    files = []
    sr = int(getattr(recipe, "sample_rate", None) or args.sample_rate or 16000)
    n = int(args.num)
    clips = draw(args, model, n, sr).reshape(n, -1)
    cfg = MelConfig(sample_rate=sr, n_fft=512, hop_length=128, win_length=512, n_mels=64, fmax=sr / 2)
    short = max(0, cfg.n_fft + 1 - clips.shape[1])  # the picture's reflect padding needs > n_fft / 2 samples
    mels = cfg.log_mel(tf.constant(np.pad(clips, [(0, 0), (0, short)]).astype(np.float32))).numpy()
    tag = f"label{args.label}_" if args.label is not None else ""
    for i in range(n):
        files.append(audio_io.save(_guard(os.path.join(args.out, f"{tag}sample_{i:02d}.wav")),
                                   np.clip(clips[i], -1, 1), sr))
    from audiogen_tf.plotting import save_spectrogram_png

    files.append(save_spectrogram_png(_guard(os.path.join(args.out, f"{tag}samples.png")), list(mels),
                                      titles=[f"{kind} sample {i}" for i in range(n)], sample_rate=sr,
                                      hop_length=cfg.hop_length))
    return files


def _gl_iters(args, recipe):
    if args.griffin_lim_iters is not None:
        return int(args.griffin_lim_iters)
    return int(getattr(recipe, "griffin_lim_iters", 32))


def _save_png(path, spectrograms, titles, sr=None, hop=None):
    from audiogen_tf.plotting import save_spectrogram_png

    return save_spectrogram_png(_guard(path), spectrograms, titles=titles, sample_rate=sr, hop_length=hop)


def _save_wav(path, audio, sr):
    from audiogen_tf import audio as audio_io

    return audio_io.save(_guard(path), np.clip(np.asarray(audio, np.float32).reshape(-1), -1.0, 1.0), sr)


def _tacotron2(args, recipe, model) -> list[str]:
    """Each ``--text``: ``tts_NN.wav`` (Griffin-Lim), ``tts_NN_mel.png`` and ``tts_NN_alignment.png``."""
    from audiogen_tf.errors import ConfigError

    if not args.text:
        raise ConfigError('Tacotron 2 needs --text "a sentence" (repeatable)')
    cfg = model.mel_config
    files = []
    for i, text in enumerate(args.text):
        out = model.synthesize(text=text, griffin_lim_iters=_gl_iters(args, recipe), seed=args.seed)
        stem = os.path.join(args.out, f"tts_{i:02d}")
        files.append(_save_wav(f"{stem}.wav", out["audio"], cfg.sample_rate))
        files.append(_save_png(f"{stem}_mel.png", [out["mel_before"], out["mel"]],
                               [f"{text[:60]}: mel before post-net", "mel after post-net"], cfg.sample_rate,
                               cfg.hop_length))
        files.append(_save_png(f"{stem}_alignment.png", [out["alignment"]],
                               [f"alignment (decoder step x text position), {out['steps']} steps"]))
    return files


def _ctc_tts(args, recipe, model) -> list[str]:
    """Each ``--text``: ``tts_NN.wav`` (Griffin-Lim) and ``tts_NN_mel.png`` (predicted durations, one call)."""
    from audiogen_tf.errors import ConfigError

    if not args.text:
        raise ConfigError('a CTC-aligned TTS model needs --text "a sentence" (repeatable)')
    cfg = model.feature_settings
    files = []
    for i, text in enumerate(args.text):
        out = model.synthesize(text, griffin_lim_iters=_gl_iters(args, recipe), seed=args.seed)
        stem = os.path.join(args.out, f"tts_{i:02d}")
        files.append(_save_wav(f"{stem}.wav", out["audio"], cfg.sample_rate))
        files.append(_save_png(f"{stem}_mel.png", [out["mel"]], [f"{text[:60]}: mel ({len(out['durations'])} tokens)"],
                               cfg.sample_rate, cfg.hop_length))
    return files


def _draws(args, recipe, model, clips_or_mels, is_mel, cfg, kind):
    """Write ``sample_NN.wav`` per draw (mels through Griffin-Lim) and one ``samples.png``."""
    import tensorflow as tf

    from audiogen_tf.features import log_mel_to_audio

    tag = f"label{args.label}_" if args.label is not None else ""
    x = np.asarray(clips_or_mels, np.float32)
    files = []
    if is_mel:
        mels = list(x)
        audio = np.asarray(log_mel_to_audio(tf.constant(x), cfg, n_iter=_gl_iters(args, recipe), seed=args.seed))
    else:
        audio = x.reshape(x.shape[0], -1)
        short = max(0, cfg.n_fft + 1 - audio.shape[1])
        mels = list(cfg.log_mel(tf.constant(np.pad(audio, [(0, 0), (0, short)]))).numpy())
    for i, a in enumerate(audio):
        files.append(_save_wav(os.path.join(args.out, f"{tag}sample_{i:02d}.wav"), a, cfg.sample_rate))
    files.append(_save_png(os.path.join(args.out, f"{tag}samples.png"), mels,
                           [f"{kind} sample {i}" for i in range(len(mels))], cfg.sample_rate, cfg.hop_length))
    return files


def _recipe_mel(recipe, sr=16000):
    from audiogen_tf.features import MelConfig

    if recipe is not None and hasattr(recipe, "mel_config"):
        return recipe.mel_config()
    return MelConfig(sample_rate=sr, n_fft=512, hop_length=128, win_length=512, n_mels=64, fmax=sr / 2)


def _class_ids(args, model, kind, n):
    """(n,) int32 ids of ``--label`` for a class-conditional model, None for an unconditional one."""
    from audiogen_tf.errors import ConfigError

    if not getattr(model, "num_classes", 0):
        return None
    if args.label is None:
        raise ConfigError(f"this {kind} is class-conditional: pass --label (0..{model.num_classes - 1})")
    return np.full((n,), args.label, np.int32)


def _vae(args, recipe, model) -> list[str]:
    """``--num`` draws z ~ N(0, I) decoded (of ``--label`` for a conditional VAE)."""
    label = _class_ids(args, model, "ConvVAE", args.num)
    x = np.asarray(model.sample(args.num, label=label, seed=args.seed))
    cfg = _recipe_mel(recipe, args.sample_rate or 16000)
    return _draws(args, recipe, model, x, model.input_type == "mel", cfg, "ConvVAE")


def _frame_rnn(args, recipe, model) -> list[str]:
    """``--num`` clips of ``--frames`` frames from a silent start (of ``--label`` with classes)."""
    class_id = _class_ids(args, model, "FrameRNN", args.num)
    frames = np.asarray(model.generate(args.frames, class_id=class_id, batch_size=args.num))
    return _draws(args, recipe, model, frames, True, model.get_mel_config(), "FrameRNN")


def _reconstruct(args, recipe, model) -> list[str]:
    """VQ-VAE / codec: each ``--input`` audio file through its codes, ``<stem>_recon.wav`` + a before/after PNG."""
    import math

    import tensorflow as tf

    from audiogen_tf import audio as audio_io
    from audiogen_tf.errors import ConfigError
    from audiogen_tf.features import log_mel_to_audio

    if not args.input:
        raise ConfigError(f"a {type(model).__name__} reconstructs audio: pass --input audio files")
    sr = int(getattr(recipe, "sample_rate", None) or args.sample_rate or getattr(model, "sample_rate", 16000))
    cfg = _recipe_mel(recipe, sr)
    mel_model = getattr(model, "input_type", "waveform") == "mel"
    down = math.prod(model.strides)
    files = []
    for path in args.input:
        stem = os.path.splitext(os.path.basename(path))[0]
        x, _ = audio_io.load(path, sr=sr)
        if mel_model:
            mel = cfg.log_mel(tf.constant(x[None, :])).numpy()
            n = mel.shape[1] // down * down
            if n < down:
                raise ConfigError(f"{path}: too short for {down} frames")
            out = model(mel[:, :n], training=False)
            y = np.asarray(log_mel_to_audio(tf.constant(np.asarray(out["reconstruction"])), cfg,
                                            n_iter=_gl_iters(args, recipe), seed=args.seed))[0]
        else:
            n = len(x) // down * down
            if n < down:
                raise ConfigError(f"{path}: shorter than the model's hop {down}")
            x = x[:n]
            out = model(x[None, :, None].astype(np.float32), training=False)
            y = np.asarray(out["audio"] if "audio" in out else out["reconstruction"])[0, :, 0]
        codes = np.asarray(out["codes"])
        from audiogen_tf.atomic import atomic_path

        with atomic_path(_guard(os.path.join(args.out, f"{stem}_codes.npy"))) as tmp:
            np.save(tmp, codes[0])
        files.append(os.path.join(args.out, f"{stem}_codes.npy"))
        files.append(_save_wav(os.path.join(args.out, f"{stem}_recon.wav"), y, sr))
        short = cfg.n_fft + 1
        pics = [cfg.log_mel(tf.constant(np.pad(a, (0, short))[None].astype(np.float32))).numpy()[0]
                for a in (np.asarray(x), y)]
        files.append(_save_png(os.path.join(args.out, f"{stem}_recon.png"), pics,
                               [f"{stem}: input", f"{stem}: {type(model).__name__} reconstruction"], sr,
                               cfg.hop_length))
    return files


# a zoo family's ``synthesis`` (zoo/<family>/<family>_family.py) -> what synthesize does with its model
SYNTHESIS = {
    "vocoder": _vocode,
    "autoregressive_vocoder": lambda args, recipe, model: _vocode(args, recipe, model, autoregressive=True),
    "noise": _noise,
    "autoregressive": lambda args, recipe, model: _noise(args, recipe, model, _wavenet_clips),
    "tacotron2": _tacotron2,
    "ctc_tts": _ctc_tts,
    "latent": _vae,
    "frames": _frame_rnn,
    "reconstruct": _reconstruct,
}


def _report(files):
    for f in files:
        print(f)
    return files
