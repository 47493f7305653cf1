"""The consistency refinement on device: a trained iSTFT vocoder's ``"synthesize_refined"`` TFLite signature
(float32 and float16 bundles) against the same refinement in Keras, the plain vocoder and Griffin-Lim 64, on
held-out utterances.

For each system: PESQ-WB, F0 RMSE (cents) and V/UV F1 against the recording, the largest difference from the Keras
refinement (relative to the Keras output's peak), and compute as seconds per second of audio with its ratio to
Griffin-Lim 64, all measured in one run on this machine next to its float32 matmul peak. The TFLite rows run
through :class:`tflite_export.Synthesizer` (LiteRT alone), as ``audiogen say --tflite --refine-iterations`` does.

Usage:
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/istft_vocoder_refine_tflite.py --model istft_vocoder_slt \
        --split valid --iterations 32 --md benchmarks/results/istft_vocoder_refine_tflite.md

Papers: Masuyama et al. 2019, "Deep Griffin-Lim iteration"; Perraudin et al. 2013 (fast Griffin-Lim).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _timed(fn):
    start = time.perf_counter()
    out = np.asarray(fn(), np.float32).reshape(-1)
    return out, time.perf_counter() - start


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="istft_vocoder_slt", help="trained preset or .keras file")
    ap.add_argument("--manifest", default=os.path.join(ROOT, "data", "speech", "manifest.csv"))
    ap.add_argument("--split", default="valid")
    ap.add_argument("--iterations", type=int, default=32)
    ap.add_argument("--max-utterances", type=int, default=None)
    ap.add_argument("--quantizations", default="none,float16", help="bundles to export and score (none = float32)")
    ap.add_argument("--md", default=None, help="write the page here (atomic, with the machine)")
    args = ap.parse_args(argv)

    from audiogen_cli.export import resolve_model
    from bench_utils import markdown_table, matmul_peak_gflops, write_markdown_table
    from audiogen_tf import audio as audio_io
    from audiogen_tf import manifest, metrics
    from audiogen_tf.features import log_mel_to_audio
    from tflite_export.synthesizer import Synthesizer, export_bundle

    started = time.time()
    peak = matmul_peak_gflops()
    model = resolve_model(args.model)
    cfg = model.feature_settings
    sr, k = cfg.sample_rate, args.iterations
    held = [e for e in manifest.read_manifest(args.manifest) if e.get("split") == args.split][: args.max_utterances]
    if not held:
        raise SystemExit(f"{args.manifest}: no utterances in split {args.split!r}")

    workdir = tempfile.mkdtemp(prefix="refine_tflite_")
    synths, sizes, export_seconds = {}, {}, {}
    quantizations = args.quantizations.split(",")
    for quantization in quantizations:
        t0 = time.perf_counter()
        folder = export_bundle(os.path.join(workdir, quantization), vocoder=model, quantization=quantization,
                               refine=True)
        export_seconds[quantization] = time.perf_counter() - t0
        sizes[quantization] = os.path.getsize(os.path.join(folder, "vocoder.tflite")) / 1e6
        synths[quantization] = Synthesizer(folder)

    keras_refined = f"Keras + {k} iterations"
    kind = {q: "float32" if q == "none" else q for q in quantizations}
    systems = {
        "Griffin-Lim 64 (baseline)": lambda mel, n: log_mel_to_audio(mel[0], cfg, n_iter=64, length=n, seed=0),
        "Keras vocoder": lambda mel, n: model(mel, training=False),
        keras_refined: lambda mel, n: model.synthesize_refined(mel, k),
        f"TFLite {kind[quantizations[0]]} vocoder (streamed chunks)":
            lambda mel, n: synths[quantizations[0]].mel_to_audio(mel),
        **{f"TFLite {kind[q]} + {k} iterations": (lambda mel, n, q=q: synths[q].mel_to_audio(mel, refine_iterations=k))
           for q in quantizations},
    }
    scores = {name: [] for name in systems}
    seconds = {name: 0.0 for name in systems}
    deviation = {name: 0.0 for name in systems}
    audio_seconds = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", metrics.MetricUnavailableWarning)
        first = held[0]
        x = audio_io.load(first["path"], sr=sr)[0].astype(np.float32)
        for fn in systems.values():  # warm-up: tracing, interpreter allocation
            fn(np.asarray(cfg.log_mel(x[None])), len(x))
        for e in held:
            x = audio_io.load(e["path"], sr=sr)[0].astype(np.float32)
            mel = np.asarray(cfg.log_mel(x[None]))
            audio_seconds += len(x) / sr
            outputs = {}
            for name, fn in systems.items():
                y, dt = _timed(lambda: fn(mel, len(x)))
                seconds[name] += dt
                outputs[name] = y[: len(x)]
            reference = outputs[keras_refined]
            for name, y in outputs.items():
                deviation[name] = max(deviation[name],
                                      float(np.abs(y - reference).max() / max(np.abs(reference).max(), 1e-9)))
                y = np.clip(y, -1.0, 1.0)
                scores[name].append((metrics.pesq_wb(x, y, sr), metrics.f0_rmse(x, y, sr, fmin=50.0, fmax=600.0),
                                     metrics.voicing_f1(x, y, sr, fmin=50.0, fmax=600.0)))
            print(f"  scored {os.path.basename(e['path'])}", flush=True)

    gl = seconds["Griffin-Lim 64 (baseline)"]
    rows = []
    for name in systems:
        a = np.array(scores[name], float)
        refined = "iterations" in name
        rows.append({
            "system": name, "PESQ-WB ↑": f"{np.nanmean(a[:, 0]):.3f}", "F0 RMSE (cents) ↓": f"{np.nanmean(a[:, 1]):.2f}",
            "V/UV F1 ↑": f"{np.nanmean(a[:, 2]):.3f}",
            "max difference from Keras refined (of its peak)": f"{deviation[name]:.1e}" if refined else "",
            "seconds per second of audio": f"{seconds[name] / audio_seconds:.4f}",
            "ratio to Griffin-Lim 64": f"{seconds[name] / gl:.2f}x",
        })
    notes = [
        f"Model `{args.model}`; split `{args.split}` of `{os.path.relpath(args.manifest, ROOT)}`: {len(held)} "
        f"utterances ({audio_seconds:.1f} s); pYIN over 50-600 Hz; {k} consistency iterations (momentum 0.99).",
        "Vocoder files with the `synthesize_refined` signature: " + ", ".join(
            f"{kind[q]} {sizes[q]:.2f} MB (exported in {export_seconds[q]:.0f} s)" for q in quantizations)
        + "; builtin ops only (the export refuses Flex ops).",
        "Compute: one process, the 2 cores, the first utterance run once untimed first; the TFLite rows use "
        "LiteRT through `Synthesizer` (2 threads). The refined rows are offline (one call per utterance: the "
        "consistency steps span the utterance), the plain TFLite row streams chunks.",
        f"Script wall time {(time.time() - started) / 60:.1f} min.",
    ]
    print(markdown_table(rows) + "\n".join(notes))
    if args.md:
        write_markdown_table(args.md, rows, "Consistency refinement of the iSTFT vocoder on device (TFLite) vs Keras",
                             "TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/istft_vocoder_refine_tflite.py "
                             + " ".join(argv if argv is not None else sys.argv[1:]), notes=notes, peak_gflops=peak)
    return 0


if __name__ == "__main__":
    sys.exit(main())
