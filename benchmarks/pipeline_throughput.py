"""Throughput of the tf.data pipeline (decode + resample + log-mel, batched) against a librosa loop.

Generates ~90 s of audio: 24 synthetic 3-second files at 22050 Hz (16-bit WAV, decoded in-graph)
and the 9 real alsa recordings (48 kHz, resampled), then times one pass of each over the same files
with the same mel parameters (MelConfig defaults: 22050 Hz, n_fft 1024, hop 256, 80 mels,
fmax 8000, magnitude mel, natural log with floor 1e-5, reflect-padded centred frames):

- ours: ``audiogen_tf.data.utterance_dataset(..., batch_size=8, mel_config=MelConfig())``
- librosa: ``librosa.load(path, sr=22050)`` + ``librosa.feature.melspectrogram`` + log, one file at a time

and writes ``benchmarks/results/pipeline_throughput.md``.

Usage:
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/pipeline_throughput.py
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import soundfile as sf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SR = 22050
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "pipeline_throughput.md")


def make_corpus(folder: str) -> list[str]:
    """24 synthetic 3 s files at 22050 Hz plus the alsa recordings (48 kHz) if installed."""
    rng = np.random.default_rng(0)
    paths = []
    for i in range(24):
        t = np.arange(3 * SR) / SR
        f0 = 110.0 * 2 ** (i / 12)
        x = sum(0.3 / k * np.sin(2 * np.pi * k * f0 * t) for k in range(1, 6))
        x = x * np.exp(-t * (0.5 + i % 4)) + 0.01 * rng.standard_normal(t.size)
        p = os.path.join(folder, f"synth{i:02d}.wav")
        sf.write(p, (0.8 * x / np.max(np.abs(x))).astype(np.float32), SR, subtype="PCM_16")
        paths.append(p)
    for src in sorted(glob.glob("/usr/share/sounds/alsa/*.wav")):
        dst = os.path.join(folder, "alsa_" + os.path.basename(src))
        shutil.copy(src, dst)
        paths.append(dst)
    return paths


def run_ours(paths, cfg):
    from audiogen_tf.data import utterance_dataset

    start = time.perf_counter()
    ds = utterance_dataset([{"path": p} for p in paths], 8, mel_config=cfg, shuffle=False, text_key=None)
    samples = frames = 0
    for batch in ds:
        samples += int(batch["audio_length"].numpy().sum())
        frames += int(batch["mel_length"].numpy().sum())
    return time.perf_counter() - start, samples, frames, ds


def run_librosa(paths, cfg):
    import librosa

    start = time.perf_counter()
    samples = frames = 0
    mels = {}
    for p in paths:
        y, _ = librosa.load(p, sr=SR)
        m = librosa.feature.melspectrogram(
            y=y, sr=SR, n_fft=cfg.n_fft, hop_length=cfg.hop_length, win_length=cfg.win_length, window="hann",
            center=True, pad_mode="reflect", power=cfg.power, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax,
            htk=cfg.htk, norm=cfg.norm,
        )
        mels[p] = np.log(np.maximum(m, cfg.log_floor)).T
        samples += y.size
        frames += m.shape[1]
    return time.perf_counter() - start, samples, frames, mels


def main() -> None:
    import tensorflow as tf

    from audiogen_tf.data import utterance_dataset
    from audiogen_tf.features import MelConfig

    cfg = MelConfig(sample_rate=SR)
    folder = tempfile.mkdtemp(prefix="pipeline_bench_")
    try:
        paths = make_corpus(folder)
        total_s = sum(sf.info(p).duration for p in paths)
        # warm up both (imports, numba/soxr initialisation, tf runtime) on one file
        run_librosa(paths[:1], cfg)
        run_ours(paths[:1], cfg)
        rows = []
        for rep in (1, 2, 3):
            t, n, f, _ = run_ours(paths, cfg)
            rows.append(("ours", rep, t, n, f))
            t, n, f, mels = run_librosa(paths, cfg)
            rows.append(("librosa", rep, t, n, f))
        # parity: same mel from both on a resampled real recording and a synthetic file
        check = [p for p in paths if "alsa_" in p][:1] + paths[:1]
        ds = utterance_dataset([{"path": p} for p in check], 1, mel_config=cfg, shuffle=False, deterministic=True,
                               include_path=True, text_key=None)
        diffs = []
        for b in ds:
            p = b["path"][0].numpy().decode()
            ours = b["mel"][0, : int(b["mel_length"][0])].numpy()
            diffs.append(float(np.max(np.abs(ours - mels[p]))))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    best = {}
    for name, rep, t, n, f in rows:
        if name not in best or t < best[name][0]:
            best[name] = (t, n, f)
    lines = [
        "# tf.data pipeline throughput",
        "",
        f"{len(paths)} files, {total_s:.1f} s of audio (24 synthetic 3 s files at 22050 Hz 16-bit WAV, decoded in-graph;"
        f" {len(paths) - 24} alsa recordings at 48 kHz, resampled with soxr_hq). Log-mel: MelConfig defaults"
        f" (n_fft {cfg.n_fft}, hop {cfg.hop_length}, {cfg.n_mels} mels, fmax {cfg.fmax}, magnitude, log floor"
        f" {cfg.log_floor}).",
        "",
        "- ours: `utterance_dataset(files, batch_size=8, mel_config=MelConfig(), shuffle=False)`, one full pass"
        " including building the dataset (header scan, graph tracing).",
        "- librosa: a Python loop of `librosa.load(path, sr=22050)` + `librosa.feature.melspectrogram(...,"
        " pad_mode='reflect')` + `log(max(mel, 1e-5))`.",
        "",
        "| pipeline | pass | wall s | audio s / wall s | mel frames / s |",
        "|---|---|---|---|---|",
    ]
    for name, rep, t, n, f in rows:
        lines.append(f"| {name} | {rep} | {t:.2f} | {n / SR / t:.1f} | {f / t:.0f} |")
    ratio = best["librosa"][0] / best["ours"][0]
    lines += [
        "",
        f"Best pass: ours {best['ours'][1] / SR / best['ours'][0]:.1f} audio s/s, librosa"
        f" {best['librosa'][1] / SR / best['librosa'][0]:.1f} audio s/s: **ours / librosa = {ratio:.2f}x**.",
        f"Mel parity (ours vs librosa, max |difference| of log-mel on {len(diffs)} files): "
        + ", ".join(f"{d:.2e}" for d in diffs) + ".",
        "",
        f"Machine: `nproc` = {os.cpu_count()}, CPU only, TensorFlow {tf.__version__}; load average at the end"
        f" {os.getloadavg()[0]:.2f} (the cores were shared with other jobs, so absolute numbers are noisy).",
        "",
        "Command:",
        "",
        "```",
        "TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/pipeline_throughput.py",
        "```",
        "",
    ]
    text = "\n".join(lines)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(OUT))
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, OUT)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
