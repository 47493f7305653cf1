"""The tutorial's MFCC path measured: MFCC -> mel -> linear -> Griffin-Lim against log-mel -> Griffin-Lim.

For every held-out festival utterance (manifest splits ``test`` then ``valid``) at 22.05 kHz:

- **mel (baseline)**: the HiFi-GAN / Tacotron 2 log-mel (80 Slaney mels, n_fft 1024, hop 256, magnitude) ->
  :func:`audiogen_tf.features.log_mel_to_audio` (NNLS mel -> linear, fast Griffin-Lim);
- **MFCC k** for k in ``--coefficients``: the power mel of the same filterbank in dB (``top_db`` 80) ->
  the first k DCT-II coefficients (:func:`~audiogen_tf.features.mfcc`) -> zero-padded inverse DCT
  (:func:`~audiogen_tf.features.mfcc_to_mel`) -> NNLS to a linear power spectrum, square root
  (:func:`~audiogen_tf.features.mel_to_linear`, ``power=2``) -> the same Griffin-Lim. ``k = 80`` keeps every
  coefficient, so it differs from the baseline only by the 80 dB floor and power vs magnitude mel.

Scores against the original recording: wide-band PESQ, STOI, and pocketsphinx word error rate (summed edits /
summed reference words) next to the WER of the original recording. Griffin-Lim uses a fixed seed per utterance,
the same for every row.

Writes ``benchmarks/results/mfcc_inversion.md`` (or ``--report``).

Example:
    python benchmarks/mfcc_inversion.py
    python benchmarks/mfcc_inversion.py --count 2 --report /tmp/mfcc.md
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from audiogen_tf import audio as audio_io  # noqa: E402
from audiogen_tf import metrics  # noqa: E402
from audiogen_tf.atomic import atomic_write_text  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_utils.py sits beside this script
from bench_utils import machine_info, markdown_table  # noqa: E402
from audiogen_tf.features import (MelConfig, griffin_lim, log_mel_to_audio, mel_spectrogram, mel_to_linear,  # noqa: E402
                                  mfcc, mfcc_to_mel, power_to_db)
from audiogen_tf.manifest import read_manifest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MANIFEST = "/work/main/data/speech/manifest.csv"


def held_out(manifest: str, count: int | None) -> list[dict]:
    """Entries of split ``test`` then ``valid`` (the sentences no model of the zoo trained on)."""
    entries = read_manifest(manifest)
    rows = [e for e in entries if e.get("split") == "test"] + [e for e in entries if e.get("split") == "valid"]
    if not rows:
        raise SystemExit(f"{manifest}: no rows with split test or valid")
    return rows[:count] if count else rows


def mfcc_resynthesis(audio: np.ndarray, cfg: MelConfig, n_mfcc: int, n_iter: int, seed: int, top_db: float) -> np.ndarray:
    """audio -> MFCC (n_mfcc) -> power mel -> linear magnitude -> Griffin-Lim audio of the same length."""
    kw = cfg.mel_kwargs()
    kw["power"] = 2.0
    mel_power = mel_spectrogram(tf.constant(audio), **kw)
    coeffs = mfcc(S_db=power_to_db(mel_power, top_db=top_db), n_mfcc=n_mfcc)
    mel_back = mfcc_to_mel(coeffs, n_mels=cfg.n_mels)
    lin = mel_to_linear(mel_back, cfg.sample_rate, cfg.n_fft, cfg.fmin, cfg.fmax, cfg.htk, cfg.norm, power=2.0)
    y = griffin_lim(lin, n_iter, cfg.hop_length, cfg.win_length, cfg.n_fft, "hann", cfg.center, len(audio),
                    seed=seed)
    return np.asarray(y, np.float32)


def mel_resynthesis(audio: np.ndarray, cfg: MelConfig, n_iter: int, seed: int) -> np.ndarray:
    """audio -> log-mel (the model features) -> Griffin-Lim audio of the same length."""
    return np.asarray(log_mel_to_audio(cfg.log_mel(tf.constant(audio)), cfg, n_iter=n_iter, length=len(audio),
                                       seed=seed), np.float32)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--manifest", default=DEFAULT_MANIFEST)
    p.add_argument("--count", type=int, default=None, help="first N held-out utterances (default all)")
    p.add_argument("--coefficients", default="13,20,40,80")
    p.add_argument("--griffin-lim-iters", type=int, default=32)
    p.add_argument("--top-db", type=float, default=80.0)
    p.add_argument("--out", default=None, help="folder for the resynthesized WAVs (default: none written)")
    p.add_argument("--report", default=os.path.join(ROOT, "benchmarks", "results", "mfcc_inversion.md"))
    args = p.parse_args(argv)
    if not os.path.exists(args.manifest):
        raise SystemExit(f"{args.manifest}: no manifest; build one with `python -m audiogen_cli data speech DIR`")

    cfg = MelConfig()  # the HiFi-GAN / Tacotron 2 mel of the zoo
    ks = [int(k) for k in args.coefficients.split(",")]
    methods = ["mel"] + [f"mfcc{k}" for k in ks]
    entries = held_out(args.manifest, args.count)
    per = {m: {"pesq": [], "stoi": [], "edits": 0} for m in methods + ["original"]}
    words = 0
    t0 = time.time()
    detail = []
    for i, e in enumerate(entries):
        audio, _ = audio_io.load(e["path"], sr=cfg.sample_rate)
        audio = np.asarray(audio, np.float32).reshape(-1)
        edits, n = metrics.word_edits(e["text"], metrics.recognize(audio, cfg.sample_rate) or "")
        per["original"]["edits"] += edits
        words += n
        row = {"id": os.path.splitext(os.path.basename(e["path"]))[0], "words": n, "wer_original": edits / max(n, 1)}
        for m in methods:
            y = mel_resynthesis(audio, cfg, args.griffin_lim_iters, seed=i) if m == "mel" else \
                mfcc_resynthesis(audio, cfg, int(m[4:]), args.griffin_lim_iters, seed=i, top_db=args.top_db)
            if args.out:
                os.makedirs(args.out, exist_ok=True)
                audio_io.save(os.path.join(args.out, f"{row['id']}_{m}.wav"), y, cfg.sample_rate)
            pq = metrics.pesq_wb(audio, y, cfg.sample_rate)
            st = metrics.stoi(audio, y, cfg.sample_rate)
            ed, _ = metrics.word_edits(e["text"], metrics.recognize(y, cfg.sample_rate) or "")
            per[m]["pesq"].append(pq)
            per[m]["stoi"].append(st)
            per[m]["edits"] += ed
            row[f"pesq_{m}"] = pq
            row[f"wer_{m}"] = ed / max(n, 1)
        detail.append(row)
        print(f"[{i + 1}/{len(entries)}] {row['id']} {time.time() - t0:.0f}s", file=sys.stderr, flush=True)

    def mean(xs):
        xs = [x for x in xs if x is not None]
        return float(np.mean(xs)) if xs else None

    label = {"mel": "log-mel (80) -> Griffin-Lim"}
    label.update({f"mfcc{k}": f"MFCC {k} -> mel -> linear -> Griffin-Lim" for k in ks})
    rows = [{"path": "original recording", "PESQ-WB": None, "STOI": None,
             "WER (pocketsphinx)": per["original"]["edits"] / max(words, 1)}]
    for m in methods:
        rows.append({"path": label[m], "PESQ-WB": mean(per[m]["pesq"]), "STOI": mean(per[m]["stoi"]),
                     "WER (pocketsphinx)": per[m]["edits"] / max(words, 1)})
    info = machine_info()
    cmd = "python benchmarks/mfcc_inversion.py" + (f" --count {args.count}" if args.count else "")
    page = f"""# MFCC inversion vs mel inversion (the tutorial's MFCC path)

`{cmd}` ({len(entries)} held-out festival utterances, splits test + valid, {words} words; {time.time() - t0:.0f} s on
{info.get('cpu', '')} ({info.get('nproc', '')} cores), TensorFlow {tf.__version__}).

Features: 22.05 kHz, n_fft 1024, hop 256, 80 Slaney mels up to 8 kHz (the zoo's Tacotron 2 / HiFi-GAN mel). The MFCCs
are the orthonormal DCT-II of the power mel in dB (librosa's convention, 80 dB range), truncated to k coefficients;
inversion zero-pads the DCT, inverts it, solves the non-negative least squares mel -> linear problem (FISTA, 100
steps) and runs {args.griffin_lim_iters} iterations of fast Griffin-Lim (momentum 0.99, seeded random phase). PESQ-WB and STOI
are against the original recording; WER is pocketsphinx (bundled US English model) summed over all utterances.

{markdown_table(rows)}

What it shows: truncating the cepstrum smooths the spectral envelope along frequency and removes the harmonic
fine structure (pitch), which Griffin-Lim cannot restore; the table measures how much of intelligibility (STOI, WER)
and quality (PESQ) each coefficient count keeps. The 80-coefficient row keeps every coefficient (a lossless DCT),
so its gap to the log-mel row is the 80 dB floor and the power (not magnitude) mel.

## Per utterance

{markdown_table(detail)}
"""
    atomic_write_text(args.report, page)
    print(markdown_table(rows))
    print(f"wrote {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
