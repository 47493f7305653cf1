"""Sweep the consistency iterations of ``ISTFTVocoder.synthesize_refined`` for several trained vocoders on one
held-out split, against Griffin-Lim 64 from the same log-mel: PESQ-WB, STOI, F0 RMSE (cents), V/UV F1, MR-STFT,
and with ``--wer`` the corpus-level pocketsphinx WER of each system and of the recordings.

It picks the vocoder and the iteration count on the ``valid`` split before ``istft_vocoder_quality.py`` judges
the pick on ``test`` (so the test split never chooses). Models: trained preset names (e.g. ``istft_vocoder_slt``)
or ``.keras`` files, each as ``label=spec``.

Usage:
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/istft_vocoder_refine_sweep.py --split valid \
        --model v2=istft_vocoder_slt --model harmonic_tail=runs/istft_harm/istft_vocoder_small.keras \
        --iterations 0,32,64 --md benchmarks/results/istft_vocoder_refine_sweep_valid.md

Paper: Masuyama et al. 2019, "Deep Griffin-Lim iteration"; Perraudin et al. 2013 (fast Griffin-Lim).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", default=os.path.join(ROOT, "data", "speech", "manifest.csv"))
    ap.add_argument("--split", default="valid")
    ap.add_argument("--model", action="append", required=True, help="label=trained preset or .keras file")
    ap.add_argument("--iterations", default="0,32,64", help="comma-separated consistency iteration counts")
    ap.add_argument("--max-utterances", type=int, default=None)
    ap.add_argument("--wer", action="store_true", help="also pocketsphinx WER (corpus level) with a recordings row")
    ap.add_argument("--md", default=None, help="write the page here (atomic, with the machine)")
    args = ap.parse_args(argv)

    from audiogen_cli.export import resolve_model
    from bench_utils import markdown_table, write_markdown_table
    from istft_vocoder_quality import corpus_wer
    from audiogen_tf import audio as audio_io
    from audiogen_tf import manifest, metrics
    from audiogen_tf.features import log_mel_to_audio

    start = time.time()
    models = {}
    for spec in args.model:
        label, _, path = spec.partition("=")
        models[label] = resolve_model(path)
    counts = [int(k) for k in args.iterations.split(",")]
    cfg = next(iter(models.values())).feature_settings
    sr = cfg.sample_rate
    held = [e for e in manifest.read_manifest(args.manifest) if e.get("split") == args.split][: args.max_utterances]
    if not held:
        raise SystemExit(f"{args.manifest}: no utterances in split {args.split!r}")
    scores, hyps = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", metrics.MetricUnavailableWarning)
        for e in held:
            x = audio_io.load(e["path"], sr=sr)[0].astype(np.float32)
            log_mel = cfg.log_mel(x[None])
            outputs = {"Griffin-Lim 64 (baseline)": log_mel_to_audio(log_mel[0], cfg, n_iter=64, length=len(x), seed=0)}
            for label, model in models.items():
                for k in counts:
                    outputs[f"{label} + {k} iterations"] = model.synthesize_refined(log_mel, k)[0]
            if args.wer:
                hyps.setdefault("recordings", []).append(metrics.recognize(x, sr))
            for name, y in outputs.items():
                y = np.clip(np.asarray(y, np.float32).reshape(-1)[: len(x)], -1, 1)
                scores.setdefault(name, []).append(
                    (metrics.pesq_wb(x, y, sr), metrics.f0_rmse(x, y, sr, fmin=50.0, fmax=600.0),
                     metrics.voicing_f1(x, y, sr, fmin=50.0, fmax=600.0),
                     metrics.multi_resolution_stft_distance(x, y)["total"], metrics.stoi(x, y, sr)))
                if args.wer:
                    hyps.setdefault(name, []).append(metrics.recognize(y, sr))
    texts = [e["text"] for e in held]
    base = np.array(scores["Griffin-Lim 64 (baseline)"], float)
    rows = []
    for name, scored in scores.items():
        a = np.array(scored, float)
        row = {"system": name, "PESQ-WB ↑": f"{np.nanmean(a[:, 0]):.3f}", "STOI ↑": f"{np.nanmean(a[:, 4]):.3f}",
               "F0 RMSE (cents) ↓": f"{np.nanmean(a[:, 1]):.2f}", "V/UV F1 ↑": f"{np.nanmean(a[:, 2]):.3f}",
               "MR-STFT ↓": f"{np.nanmean(a[:, 3]):.3f}",
               "F0 better than GL 64 in": f"{int(np.sum(a[:, 1] < base[:, 1]))}/{len(a)}"}
        if args.wer:
            row["WER ↓"] = f"{corpus_wer(texts, hyps[name]):.3f}"
        rows.append(row)
    if args.wer:
        rows.append({"system": "recordings", "WER ↓": f"{corpus_wer(texts, hyps['recordings']):.3f}"})
    note = (f"Split `{args.split}` of `{os.path.relpath(args.manifest, ROOT)}`: {len(held)} utterances; pYIN over "
            f"50-600 Hz; {time.time() - start:.0f} s.")
    print(markdown_table(rows) + note)
    if args.md:
        write_markdown_table(args.md, rows, "Consistency iterations of trained iSTFT vocoders against Griffin-Lim 64",
                             "TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/istft_vocoder_refine_sweep.py "
                             + " ".join(argv if argv is not None else sys.argv[1:]), notes=note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
