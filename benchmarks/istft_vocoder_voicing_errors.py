"""Where a vocoder's voicing decisions differ from the recording's: pYIN frames voiced in the output but not in
the recording (false voiced) and the reverse, their level, whether they sit at a voicing edge, and the pitch pYIN
hears in the false-voiced frames against the vocoder's frame rate (sample rate / hop): a frame-rate vocoder whose
phase repeats from frame to frame turns noise (fricatives) into a buzz at that rate and its multiples.

A second table splits each system's F0 RMSE (cents, pYIN 50-600 Hz on frames voiced in both, as the quality
page) into gross errors (over 100 cents: octave jumps and voicing edges, a few frames that can carry half the
squared error) and the fine error of the rest, with its mean (a pitch bias) and the share of frames on the
recording's own pYIN bin (10 cents wide).

Usage:
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/istft_vocoder_voicing_errors.py --model istft_vocoder_slt \
        --split valid --md benchmarks/results/istft_vocoder_voicing_errors.md
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/istft_vocoder_voicing_errors.py --model v2=istft_vocoder_slt \
        --model tail=runs/istft_noise/istft_vocoder_small.keras --refine-iterations 64 --split valid
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def voicing_errors(ref, est, sr, frame_rate, fmin=50.0, fmax=1000.0):
    """Counts of false-voiced / false-unvoiced pYIN frames of ``est`` against ``ref``, with the recording's level (dB
    below its loudest frame) of the false-voiced ones, how many touch a voicing edge, and their pitch in Hz."""
    import librosa

    from audiogen_tf import metrics

    f_ref, v_ref, f_est, v_est = metrics._f0_pair(ref, est, sr, fmin, fmax)
    # metrics.f0's defaults: 40 ms (or two periods of fmin), a power of two, hop a quarter of it
    frame_length = 1 << int(np.ceil(np.log2(max(0.04 * sr, 2.0 * sr / fmin + 2))))
    rms = librosa.feature.rms(y=ref, frame_length=frame_length, hop_length=frame_length // 4)[0]
    n = min(len(v_ref), len(rms))
    v_ref, v_est, f_est, rms = v_ref[:n], v_est[:n], f_est[:n], rms[:n]
    level = 20.0 * np.log10(rms / max(float(rms.max()), 1e-12) + 1e-9)
    padded = np.pad(v_ref, 1)
    edge = padded[:-2] != padded[2:]  # a neighbour's voicing differs
    false_voiced, false_unvoiced = v_est & ~v_ref, v_ref & ~v_est
    return {"false_voiced": int(false_voiced.sum()), "false_unvoiced": int(false_unvoiced.sum()),
            "false_voiced_at_edges": int((false_voiced & edge).sum()), "levels_db": level[false_voiced].tolist(),
            "pitch_hz": f_est[false_voiced].tolist(), "frame_rate": frame_rate}


def f0_errors(ref, est, sr, fmin=50.0, fmax=600.0):
    """Cents errors of ``est``'s pYIN pitch against ``ref``'s on the frames voiced in both (the F0 RMSE's terms)."""
    from audiogen_tf import metrics

    f_ref, v_ref, f_est, v_est = metrics._f0_pair(ref, est, sr, fmin, fmax)
    both = v_ref & v_est
    return 1200.0 * np.log2(f_est[both] / f_ref[both])


def f0_error_row(name, errors, per_utterance_rmse, gross_cents=100.0):
    """One row of the F0 breakdown from the pooled cents errors of a system."""
    err = np.asarray(errors, dtype=np.float64)
    squared = err**2
    gross = np.abs(err) > gross_cents
    fine = err[~gross]
    return {"system": name, "F0 RMSE, mean of utterances (cents)": f"{np.mean(per_utterance_rmse):.2f}",
            "frames voiced in both": len(err), f"gross (> {gross_cents:.0f} cents)": int(gross.sum()),
            "their share of the squared error": f"{squared[gross].sum() / max(squared.sum(), 1e-12):.2f}",
            "fine RMSE": f"{np.sqrt(np.mean(fine**2)):.2f}" if len(fine) else "nan",
            "fine mean (bias)": f"{np.mean(fine):+.2f}" if len(fine) else "nan",
            "on the recording's pYIN bin": f"{np.mean(np.abs(err) < 5.0):.2f}" if len(err) else "nan"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", action="append", default=None,
                    help="trained preset or .keras vocoder, or label=path (repeatable; default istft_vocoder_slt)")
    ap.add_argument("--refine-iterations", type=int, action="append", default=[],
                    help="also each model + K consistency steps (ISTFTVocoder.synthesize_refined; repeatable)")
    ap.add_argument("--manifest", default=os.path.join(ROOT, "data", "speech", "manifest.csv"))
    ap.add_argument("--split", default="valid")
    ap.add_argument("--max-utterances", type=int, default=None)
    ap.add_argument("--md", default=None)
    args = ap.parse_args(argv)

    from audiogen_cli.export import resolve_model
    from bench_utils import markdown_table, write_markdown_table
    from audiogen_tf import audio as audio_io
    from audiogen_tf import manifest
    from audiogen_tf.features import log_mel_to_audio

    models = {}
    for spec in args.model or ["istft_vocoder_slt"]:
        label, _, path = spec.rpartition("=")
        models[label or "vocoder"] = resolve_model(path)
    model = next(iter(models.values()))
    cfg = model.feature_settings
    sr, frame_rate = cfg.sample_rate, cfg.sample_rate / cfg.hop_length
    held = [e for e in manifest.read_manifest(args.manifest) if e.get("split") == args.split][: args.max_utterances]
    if not held:
        raise SystemExit(f"{args.manifest}: no utterances in split {args.split!r}")
    totals, pitch_errors = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for e in held:
            x = audio_io.load(e["path"], sr=sr)[0].astype(np.float32)
            log_mel = cfg.log_mel(x[None])
            outputs = {}
            for label, m in models.items():
                outputs[label] = np.asarray(m(log_mel, training=False)).reshape(-1)[: len(x)]
                for k in args.refine_iterations:
                    outputs[f"{label} + {k} iterations"] = np.asarray(m.synthesize_refined(log_mel, k)).reshape(-1)
            outputs["Griffin-Lim 64"] = np.asarray(log_mel_to_audio(log_mel[0], cfg, n_iter=64, length=len(x), seed=0))
            for name, y in outputs.items():
                y = np.clip(y.reshape(-1)[: len(x)], -1, 1)
                err = f0_errors(x, y, sr)
                p = pitch_errors.setdefault(name, {"errors": [], "rmse": []})
                p["errors"] += err.tolist()
                if len(err):
                    p["rmse"].append(float(np.sqrt(np.mean(err**2))))
                r = voicing_errors(x, y, sr, frame_rate)
                t = totals.setdefault(name, {"false_voiced": 0, "false_unvoiced": 0, "false_voiced_at_edges": 0,
                                             "levels_db": [], "pitch_hz": []})
                for k in t:
                    t[k] += r[k]
    rows = []
    for name, t in totals.items():
        pitch = np.array(t["pitch_hz"])
        on_rate = (float(np.mean([np.min(np.abs(p / (frame_rate * np.arange(1, 8)) - 1)) < 0.03 for p in pitch]))
                   if len(pitch) else float("nan"))
        rows.append({"system": name, "false voiced": t["false_voiced"],
                     "of which at a voicing edge": t["false_voiced_at_edges"],
                     "their recording level, median (dB below peak)":
                         f"{np.median(t['levels_db']):.1f}" if t["levels_db"] else "nan",
                     "their pitch within 3 % of a multiple of the frame rate": f"{on_rate:.2f}",
                     "false unvoiced": t["false_unvoiced"]})
    f0_rows = [f0_error_row(name, p["errors"], p["rmse"]) for name, p in pitch_errors.items()]
    names = ", ".join(f"`{spec}`" for spec in args.model or ["istft_vocoder_slt"])
    note = [f"{names} on split `{args.split}` ({len(held)} utterances); pYIN (50-1000 Hz) frames; frame rate "
            f"of the vocoder {frame_rate:.1f} Hz.",
            "",
            "## F0 errors on the frames voiced in both (pYIN 50-600 Hz, as the quality page)",
            "",
            markdown_table(f0_rows).rstrip("\n"),
            "",
            "Gross: more than 100 cents off. Fine: the other frames; their mean is a pitch bias. pYIN reports pitch "
            "on bins 10 cents wide, so 'on the recording's pYIN bin' is the share of frames with no error at all."]
    print(markdown_table(rows) + "\n".join(note))
    if args.md:
        write_markdown_table(args.md, rows, "Voicing errors of a vocoder against Griffin-Lim 64",
                             "TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/istft_vocoder_voicing_errors.py "
                             + " ".join(argv if argv is not None else sys.argv[1:]), notes=note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
