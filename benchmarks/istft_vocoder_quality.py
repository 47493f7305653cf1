"""Held-out quality of the trained iSTFT vocoder against Griffin-Lim from the same log-mel, and its learning curve.

Scores, on every held-out utterance of the festival corpus (split ``test`` by default: never trained on),
whole, for

- the trained vocoder (``--model``, default the run folder's ``istft_vocoder_small.keras``),
- Griffin-Lim, 32 and 64 iterations, from the SAME log-mel (``features.log_mel_to_audio``, NNLS mel inversion,
  fast Griffin-Lim with momentum 0.99, seed 0),
- the untrained vocoder (the training run's initial weights: the floor),

PESQ-WB, STOI, multi-resolution STFT distance, F0 RMSE (cents, on frames voiced in both) and voiced/unvoiced F1
(pYIN), mel-cepstral distortion (``metrics.vocoder_quality_row``), DNSMOS P.835 when ``speechmos`` is installed,
and the pocketsphinx word error rate of each system next to the recordings'. The same table is made for voices
that were never in training: flite's ``awb`` and ``rms`` speaking the held-out sentences. The learning curve
scores each snapshot the training script saved (``snapshots/min_XXX.weights.h5``) on the first
``--curve-utterances`` held-out utterances (PESQ-WB and STOI) against Griffin-Lim 64 on the same utterances.

Usage:
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/istft_vocoder_quality.py --run runs/istft_vocoder_speech

Papers: ITU-T P.862.2 (PESQ-WB); Taal et al. 2011 (STOI); Mauch & Dixon 2014 (pYIN); Kubichek 1993 (MCD);
Reddy et al. 2022 (DNSMOS P.835); Griffin & Lim 1984, Perraudin et al. 2013 (fast Griffin-Lim).
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))  # bench_utils.py
MD_OUT = os.path.join(ROOT, "benchmarks", "results", "istft_vocoder_quality.md")
KEYS = ("pesq_wb", "stoi", "mrstft", "f0_rmse_cents", "vuv_f1", "mcd")
OPTIONAL_ROWS = ("griffin_lim32", "untrained")  # file tags of the rows --leave-out may drop
LOWER_IS_BETTER = {"mrstft", "f0_rmse_cents", "mcd", "wer"}
LABELS = {"pesq_wb": "PESQ-WB ↑", "stoi": "STOI ↑", "mrstft": "MR-STFT ↓", "f0_rmse_cents": "F0 RMSE (cents) ↓",
          "vuv_f1": "V/UV F1 ↑", "mcd": "MCD (dB) ↓", "dnsmos_ovrl": "DNSMOS OVRL ↑", "wer": "WER ↓"}


def _mean(values):
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return (float(np.mean(vals)), float(np.std(vals)), len(vals)) if vals else (None, None, 0)


def _fmt(stat, digits=3):
    mean, std, n = stat
    return "n/a" if mean is None else f"{mean:.{digits}f} ± {std:.{digits}f}"


def utterance_word_errors(refs, hyps):
    """(word errors, reference words) per utterance as float arrays (a ``None`` hypothesis deletes every word)."""
    from audiogen_tf.metrics import normalize_words, word_edits

    words = np.array([len(normalize_words(ref)) for ref in refs], float)
    errors = np.array([n if hyp is None else word_edits(ref, hyp)[0] for ref, hyp, n in zip(refs, hyps, words)], float)
    return errors, words


def corpus_wer(refs, hyps):
    """Word errors over all utterances / reference words (``None`` hypotheses count as all words deleted)."""
    errors, words = utterance_word_errors(refs, hyps)
    return float(errors.sum() / max(1.0, words.sum()))


def paired_differences(results, texts, system, baseline, keys, num_resamples=2000, seed=0):
    """Rows of (system - baseline) mean differences per metric with a 95 % paired bootstrap interval over the
    utterances, and the system's corpus-WER gap to the recordings with its interval.

    The same resampled utterances score both systems, so what the utterances share (hard sentences, pYIN's
    misses on the recording) cancels; an interval that spans 0 says the held-out set cannot tell them apart.
    """
    rng = np.random.default_rng(seed)
    n = len(texts)
    draws = rng.integers(0, n, (int(num_resamples), n))

    def verdict(lo, hi, lower_is_better):
        if lo <= 0.0 <= hi:
            return "not resolved"
        return "better" if (hi < 0.0) == lower_is_better else "worse"

    def column(name, k):
        return np.array([np.nan if r.get(k) is None else r[k] for r in results[name]["rows"]], float)

    rows = []
    for k in keys:
        d = column(system, k) - column(baseline, k)
        if not np.isfinite(d).any():
            continue
        boot = np.nanmean(np.where(np.isfinite(d), d, np.nan)[draws], axis=1)
        lo, hi = np.nanpercentile(boot, [2.5, 97.5])
        rows.append({"metric": LABELS[k], "difference": f"{np.nanmean(d):+.3f}", "95% interval": f"[{lo:+.3f}, {hi:+.3f}]",
                     "verdict": verdict(lo, hi, k in LOWER_IS_BETTER)})
    e_sys, words = utterance_word_errors(texts, results[system]["hyps"])
    e_rec, _ = utterance_word_errors(texts, results["recordings"]["hyps"])
    gap = (e_sys.sum() - e_rec.sum()) / max(1.0, words.sum())
    boot = (e_sys[draws].sum(1) - e_rec[draws].sum(1)) / np.maximum(1.0, words[draws].sum(1))
    lo, hi = np.percentile(boot, [2.5, 97.5])
    rows.append({"metric": "WER gap to the recordings (bar +0.02)", "difference": f"{gap:+.3f}",
                 "95% interval": f"[{lo:+.3f}, {hi:+.3f}]",
                 "verdict": "within the bar" if hi <= 0.02 else ("over the bar" if lo > 0.02 else "not resolved")})
    return rows


def speak_flite(voice, sentences, folder):
    """Speak ``sentences`` with flite's ``voice`` into ``folder``; returns the wav paths (``None`` if flite is missing)."""
    if shutil.which("flite") is None:
        return None
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, text in enumerate(sentences):
        path = os.path.join(folder, f"{voice}_{i:02d}.wav")
        if not os.path.exists(path):
            subprocess.run(["flite", "-voice", voice, "-t", text, "-o", path], check=True, capture_output=True,
                           timeout=120)
        paths.append(path)
    return paths


def score_systems(systems, utterances, cfg, with_dnsmos, sample_dir=None, n_samples=3):
    """{system: {"rows": [metric rows], "hyps": [recognized text], "seconds": compute}} over ``utterances``.

    ``utterances``: list of ``(name, audio, text)``; ``systems``: name -> (fn(log_mel, n) -> audio, file tag).
    """
    from audiogen_tf import audio as audio_io
    from audiogen_tf import metrics

    out = {name: {"rows": [], "hyps": [], "seconds": 0.0} for name in systems}
    out["recordings"] = {"rows": [], "hyps": [], "seconds": 0.0}
    for i, (utt, x, text) in enumerate(utterances):
        log_mel = cfg.log_mel(x[None, :])
        out["recordings"]["hyps"].append(metrics.recognize(x, cfg.sample_rate))
        if with_dnsmos:
            out["recordings"]["rows"].append(metrics._dnsmos_keys(x, cfg.sample_rate))
        if sample_dir and i < n_samples:
            audio_io.save(os.path.join(sample_dir, f"{utt}_original.wav"), x, cfg.sample_rate)
        for name, (fn, tag) in systems.items():
            t0 = time.perf_counter()
            y = np.asarray(fn(log_mel, len(x)), np.float32).reshape(-1)[: len(x)]
            out[name]["seconds"] += time.perf_counter() - t0
            y = np.clip(y, -1.0, 1.0)
            out[name]["rows"].append(metrics.vocoder_quality_row(x, y, cfg.sample_rate, with_dnsmos=with_dnsmos))
            out[name]["hyps"].append(metrics.recognize(y, cfg.sample_rate))
            if sample_dir and i < n_samples:
                audio_io.save(os.path.join(sample_dir, f"{utt}_{tag}.wav"), y, cfg.sample_rate)
        print(f"  scored {utt} ({len(x) / cfg.sample_rate:.1f} s)", flush=True)
    return out


def table(results, texts, baseline, keys):
    """Markdown rows (mean ± std per metric, corpus WER) and a summary {system: {key: mean}}."""
    rows, summary = [], {}
    for name, r in results.items():
        s = {k: _mean([row.get(k) for row in r["rows"]]) for k in keys}
        wer = corpus_wer(texts, r["hyps"])
        summary[name] = {**{k: s[k][0] for k in keys}, "wer": wer}
        row = {"system": name + (" **(baseline)**" if name == baseline else "")}
        for k in keys:
            row[LABELS[k]] = "" if name == "recordings" and k != "dnsmos_ovrl" else _fmt(s[k])
        row[LABELS["wer"]] = f"{wer:.3f}"
        rows.append(row)
    return rows, summary


def beats(summary, system, baseline, keys):
    """{metric: True/False} — the system better than the baseline on each metric's mean."""
    won = {}
    for k in keys:
        a, b = summary[system].get(k), summary[baseline].get(k)
        won[k] = a is not None and b is not None and ((a < b) if k in LOWER_IS_BETTER else (a > b))
    return won


def better_worse(won):
    """``"X, Y and worse on Z"``: the metrics ``won`` (:func:`beats`) marks better, then worse ("nothing" if none)."""
    return ((", ".join(LABELS[k] for k, v in won.items() if v) or "nothing") + " and worse on "
            + (", ".join(LABELS[k] for k, v in won.items() if not v) or "nothing"))


def warm_start_note(state):
    """A sentence saying where a warm-started run began, or '' for a run from scratch."""
    init = state.get("init_from")
    if not init:
        return ""
    source = (f"the shipped weights of `{init['weights']}` (fresh optimizer)" if "weights" in init
              else f"run `{init['run']}`'s checkpoint (generator, optimizer)")
    return f" Warm start at minute {init['minute']:g}, step {init['step']}, from {source}."


def learning_curve(run, make_model, utterances, cfg, gl_scores, png_path):
    """[(minute, step, pesq, stoi)] of each snapshot on ``utterances``, and a PNG of PESQ and STOI against minutes."""
    from audiogen_tf import metrics

    if not utterances:  # --curve-utterances 0: no curve
        return []
    state = json.load(open(os.path.join(run, "train_state.json"), encoding="utf-8"))
    steps = state.get("snapshots", {})
    points = []
    model = make_model()
    for path in sorted(glob.glob(os.path.join(run, "snapshots", "min_*.weights.h5"))):
        minute = int(os.path.basename(path)[4:7])
        model.load_weights(path)
        pesq, stoi = [], []
        for _, x, _ in utterances:
            y = np.clip(np.asarray(model(cfg.log_mel(x[None, :]), training=False)).reshape(-1)[: len(x)], -1, 1)
            pesq.append(metrics.pesq_wb(x, y, cfg.sample_rate))
            stoi.append(metrics.stoi(x, y, cfg.sample_rate))
        points.append((minute, steps.get(str(minute)), _mean(pesq)[0], _mean(stoi)[0]))
        print(f"  snapshot {minute} min: PESQ {points[-1][2]:.3f} STOI {points[-1][3]:.3f}", flush=True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, idx, key, label in ((axes[0], 2, "pesq_wb", "PESQ-WB"), (axes[1], 3, "stoi", "STOI")):
        ax.plot([p[0] for p in points], [p[idx] for p in points], "o-", label="iSTFT vocoder (snapshots)")
        ax.axhline(gl_scores[key], color="tab:red", ls="--", label="Griffin-Lim 64 iterations")
        ax.set_xlabel("training minutes (2 CPU cores)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(f"Learning curve on {len(utterances)} held-out utterances")
    fig.tight_layout()
    tmp = png_path + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, png_path)
    return points


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", default="runs/istft_vocoder_speech", help="training run folder (benchmarks/istft_vocoder_speech.py)")
    ap.add_argument("--model", default=None, help="trained .keras (default: RUN/<preset>.keras)")
    ap.add_argument("--manifest", default=os.path.join(ROOT, "data", "speech", "manifest.csv"))
    ap.add_argument("--splits", default="test",
                    help="held-out splits of the manifest (test: the corpus' test set; all: every row, for a manifest "
                         "that is held out as a whole, such as the judge set)")
    ap.add_argument("--data", default="festival corpus (`audiogen data speech`, voice slt)",
                    help="what the manifest holds, for the page")
    ap.add_argument("--voices", default="awb,rms", help="flite voices never in training ('' to skip)")
    ap.add_argument("--voice-sentences", type=int, default=8)
    ap.add_argument("--curve-utterances", type=int, default=4, help="utterances of the learning curve (0: none)")
    ap.add_argument("--max-utterances", type=int, default=None, help="smoke runs")
    ap.add_argument("--refine-iterations", type=int, action="append", default=[],
                    help="also score the trained vocoder with its phase made consistent by this many fast "
                         "Griffin-Lim steps from the predicted phase (ISTFTVocoder.synthesize_refined; repeatable)")
    ap.add_argument("--ablation", action="append", default=[],
                    help="another run folder (other losses): its snapshots' curve is added to the page")
    ap.add_argument("--compare", action="append", default=[],
                    help="another vocoder to score next to the trained one: a preset with shipped weights "
                         "(istft_vocoder_slt) or a .keras file")
    ap.add_argument("--leave-out", default="",
                    help=f"comma-separated rows not to score, to save time on a large set: {', '.join(OPTIONAL_ROWS)}")
    ap.add_argument("--md", default=MD_OUT)
    args = ap.parse_args(argv)
    left_out = {t for t in args.leave_out.split(",") if t}
    if left_out - set(OPTIONAL_ROWS):
        ap.error(f"--leave-out: unknown rows {sorted(left_out - set(OPTIONAL_ROWS))} (choose from {', '.join(OPTIONAL_ROWS)})")
    command = "TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/istft_vocoder_quality.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))

    import keras

    from audiogen_tf import audio as audio_io
    from audiogen_tf import manifest, metrics
    from bench_utils import continued_steps, matmul_peak_gflops, write_markdown_table
    from audiogen_tf.features import log_mel_to_audio
    from zoo.istft_vocoder import ISTFTVocoder

    t_start = time.perf_counter()
    peak = matmul_peak_gflops()
    run = os.path.abspath(args.run)
    state = json.load(open(os.path.join(run, "train_state.json"), encoding="utf-8"))
    preset = state["preset"]
    model = keras.saving.load_model(args.model or os.path.join(run, f"{preset}.keras"))
    cfg = model.feature_settings
    keras.utils.set_random_seed(int(state.get("seed", 0)))
    untrained = ISTFTVocoder.from_preset(preset)  # the training run's initial weights (same seed, same build)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dnsmos_ok = metrics.dnsmos(np.sin(np.arange(16000) / 5.0).astype(np.float32), 16000) is not None
    keys = KEYS + (("dnsmos_ovrl",) if dnsmos_ok else ())

    splits = set(args.splits.split(","))
    held = [e for e in manifest.read_manifest(args.manifest)
            if "all" in splits or e.get("split") in splits][: args.max_utterances]
    utterances = []
    for e in held:
        x, _ = audio_io.load(e["path"], sr=cfg.sample_rate)
        utterances.append((os.path.splitext(os.path.basename(e["path"]))[0], x.astype(np.float32), e["text"]))
    texts = [u[2] for u in utterances]

    def vocoder_fn(m):
        return lambda log_mel, n: m(log_mel, training=False)[0, :, 0]

    def gl_fn(n_iter):
        return lambda log_mel, n: log_mel_to_audio(log_mel[0], cfg, n_iter=n_iter, length=n, seed=0)

    trained_name = f"iSTFT vocoder `{preset}`, trained ({continued_steps(state)} steps, {state['train_seconds'] / 60:.0f} min)"
    systems = {trained_name: (vocoder_fn(model), "vocoder"),
               "Griffin-Lim, 32 iterations": (gl_fn(32), "griffin_lim32"),
               "Griffin-Lim, 64 iterations": (gl_fn(64), "griffin_lim64"),
               f"iSTFT vocoder `{preset}`, untrained (floor)": (vocoder_fn(untrained), "untrained")}
    systems = {name: entry for name, entry in systems.items() if entry[1] not in left_out}
    refined = {}
    for k in args.refine_iterations:
        name = f"iSTFT vocoder `{preset}`, trained, + {k} consistency iterations"
        refined[name] = k
        systems[name] = ((lambda log_mel, n, k=k: model.synthesize_refined(log_mel, k)[0]), f"refined{k}")
    from audiogen_cli.export import resolve_model

    compared = {}
    for spec in args.compare:
        name = f"`{os.path.basename(spec)}` (compared)"
        compared[name] = spec
        systems[name] = (vocoder_fn(resolve_model(spec)), "compared_" + os.path.splitext(os.path.basename(spec))[0])
    baseline = "Griffin-Lim, 64 iterations"
    sample_dir = os.path.join(run, "samples")
    os.makedirs(sample_dir, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", metrics.MetricUnavailableWarning)
        print(f"scoring {len(utterances)} held-out utterances", flush=True)
        results = score_systems(systems, utterances, cfg, dnsmos_ok, sample_dir)
        rows, summary = table(results, texts, baseline, keys)
        won = beats(summary, trained_name, baseline, keys)
        wer_gap = summary[trained_name]["wer"] - summary["recordings"]["wer"]
        compare_sections = []
        for name, k in refined.items():
            rwon = beats(summary, name, baseline, keys)
            compare_sections.append(
                f"- With {k} consistency iterations (`synthesize_refined`) the vocoder is better than Griffin-Lim 64 "
                "on " + better_worse(rwon) + f"; WER gap to the recordings {summary[name]['wer'] - summary['recordings']['wer']:+.3f}.")
        for name, spec in compared.items():
            cwon = beats(summary, trained_name, name, keys)
            compare_sections.append(
                f"- Against {spec}: the trained vocoder is better on " + better_worse(cwon)
                + f"; WER {summary[trained_name]['wer']:.3f} vs {summary[name]['wer']:.3f}.")

        voice_sections = []
        voice_rows_all = []
        for voice in [v for v in args.voices.split(",") if v]:
            paths = speak_flite(voice, texts[: args.voice_sentences], os.path.join(run, "other_voices"))
            if paths is None:
                voice_sections.append(f"- flite is not installed: the {voice} table was not made (apt-get install flite).")
                continue
            vu = [(f"{voice}_{i:02d}", audio_io.load(p, sr=cfg.sample_rate)[0].astype(np.float32), texts[i])
                  for i, p in enumerate(paths)]
            print(f"scoring flite voice {voice}", flush=True)
            vsys = {k: v for k, v in systems.items() if "untrained" not in k and k != "Griffin-Lim, 32 iterations"}
            vres = score_systems(vsys, vu, cfg, dnsmos_ok)
            vrows, vsum = table(vres, [u[2] for u in vu], baseline, keys)
            vwon = beats(vsum, trained_name, baseline, keys)
            for r in vrows:
                r["system"] = f"{voice}: {r['system']}"
            voice_rows_all += vrows
            voice_sections.append(
                f"- flite `{voice}` ({len(vu)} sentences, 16 kHz resampled to {cfg.sample_rate}): the vocoder is better "
                f"than Griffin-Lim 64 on {', '.join(LABELS[k] for k, v in vwon.items() if v) or 'nothing'}"
                + (f"; worse on {', '.join(LABELS[k] for k, v in vwon.items() if not v)}" if not all(vwon.values()) else "")
                + f"; WER vocoder {vsum[trained_name]['wer']:.3f}, recordings {vsum['recordings']['wer']:.3f}, "
                  f"Griffin-Lim {vsum[baseline]['wer']:.3f}.")

        curve_utts = utterances[: args.curve_utterances]
        gl_curve = {k: _mean([r[k] for r in results[baseline]["rows"][: len(curve_utts)]])[0] for k in ("pesq_wb", "stoi")}
        png = os.path.splitext(args.md)[0] + "_curve.png"
        points = learning_curve(run, lambda: ISTFTVocoder.from_preset(preset), curve_utts, cfg, gl_curve, png)
        ablations = []
        for other in args.ablation:
            other_state = json.load(open(os.path.join(other, "train_state.json"), encoding="utf-8"))
            other_png = os.path.splitext(args.md)[0] + f"_curve_{os.path.basename(os.path.normpath(other))}.png"
            other_points = learning_curve(os.path.abspath(other), lambda p=other_state["preset"]: ISTFTVocoder.from_preset(p),
                                          curve_utts, cfg, gl_curve, other_png)
            weights = {k: v for k, v in other_state.items() if k.endswith("_loss_weight")}
            ablations.append(f"- `{os.path.relpath(os.path.abspath(other), ROOT)}` (loss weights {weights}, "
                             f"{continued_steps(other_state)} steps in {other_state['train_seconds'] / 60:.0f} min): "
                             + ", ".join(f"{m} min PESQ {p:.2f} / STOI {q:.3f}" for m, _, p, q in other_points)
                             + f" (`{os.path.basename(other_png)}`).")

    crossed = {k: next((p[0] for p in points if p[i] is not None and gl_curve[k] is not None and p[i] > gl_curve[k]), None)
               for k, i in (("pesq_wb", 2), ("stoi", 3))}
    all_won = all(won.values()) and wer_gap <= 0.02
    plain = " without consistency iterations" if refined else ""  # the refined rows get their own lines below
    verdict = (f"**The trained iSTFT vocoder{plain} beats Griffin-Lim 64 on every metric and its WER is within +0.02 "
               "of the recordings'.**" if all_won else
               f"**The quality bar is NOT met by the vocoder{plain}**: against Griffin-Lim 64 it is better on "
               + better_worse(won) + f"; WER gap to the recordings {wer_gap:+.3f} (bar: +0.02).")
    per_utt = {}
    for k in keys:
        a_rows, b_rows = results[trained_name]["rows"], results[baseline]["rows"]
        per_utt[k] = sum(1 for a, b in zip(a_rows, b_rows) if a.get(k) is not None and b.get(k) is not None
                         and ((a[k] < b[k]) if k in LOWER_IS_BETTER else (a[k] > b[k])))
    judged = [trained_name, *refined]
    paired = {name: paired_differences(results, texts, name, baseline, keys) for name in judged}
    paired_lines = []
    for name in judged:
        paired_lines += ["", f"{name} minus Griffin-Lim 64:", "", "| metric | difference | 95% interval | verdict |",
                         "|---|---|---|---|",
                         *[f"| {r['metric']} | {r['difference']} | {r['95% interval']} | {r['verdict']} |"
                           for r in paired[name]]]
    curve_rows = [{"snapshot (training minutes)": m, "step": s if s is not None else "", "PESQ-WB": f"{p:.3f}",
                   "STOI": f"{q:.3f}"} for m, s, p, q in points]
    audio_s = sum(len(u[1]) for u in utterances) / cfg.sample_rate
    gl_seconds = results[baseline]["seconds"]
    timed = {"vocoder": trained_name, **{f"vocoder + {k} iterations": name for name, k in refined.items()}}
    speed = ("- Synthesis compute in this run (seconds per second of audio, in one process on the 2 cores; ratio to "
             "Griffin-Lim 64): "
             + "; ".join(f"{label}: {results[name]['seconds'] / audio_s:.4f} "
                         f"({results[name]['seconds'] / gl_seconds:.2f}x)" for label, name in timed.items())
             + f"; Griffin-Lim 64: {gl_seconds / audio_s:.4f}.")
    notes = [
        verdict,
        "",
        "Per utterance, the vocoder beats Griffin-Lim 64 on " + ", ".join(
            f"{LABELS[k]} in {per_utt[k]}" for k in keys) + f" of {len(utterances)}.",
        "",
        f"- Data: {args.data}, {cfg.sample_rate} Hz; held-out splits "
        f"{sorted(splits)} of `{os.path.relpath(args.manifest, ROOT)}`: {len(utterances)} whole utterances ({audio_s:.1f} s), never trained on. WER is corpus-level "
        "(word errors / reference words) by pocketsphinx (`metrics.recognize`).",
        f"- Training: `benchmarks/istft_vocoder_speech.py`, {continued_steps(state)} steps of batch {state['batch_size']} x "
        f"{state['segment_length']} samples in {state['train_seconds'] / 60:.1f} min of wall clock on the 2 cores "
        f"({state['train_seconds'] / max(1, continued_steps(state)):.2f} s/step), "
        f"{state['sessions']} session(s); losses `{state.get('losses', 'mel + stft')}`"
        + (f", discriminators from minute {state['adversarial_after_minutes']:g}"
           if state.get("adversarial_after_minutes") is not None else ", reconstruction losses only (no discriminator)")
        + (f"; extra training data {state['extra_manifests']}" if state.get("extra_manifests") else "") + "."
        + warm_start_note(state) + (f" {state['note']}" if state.get("note") else ""),
        f"- Model: `{preset}` ({model.count_params() / 1e6:.2f} M parameters), features {cfg.to_dict()}.",
        speed,
        "- Griffin-Lim: NNLS mel inversion then fast Griffin-Lim (momentum 0.99, seed 0) from the same log-mel; the "
        "baseline is the 64-iteration run. The untrained row is the training run's initial weights."
        + (f" Not scored in this run (--leave-out): {', '.join(sorted(left_out))}." if left_out else ""),
        "- F0 RMSE and V/UV F1: pYIN (librosa) over 50-600 Hz on both signals; RMSE over frames voiced in both. MCD: "
        "mel-cepstral distortion without time warping (the signals are aligned)."
        + (" DNSMOS: P.835 OVRL by the `speechmos` ONNX models (non-intrusive)." if dnsmos_ok else
           " DNSMOS: not available here (pip install speechmos onnxruntime)."),
        f"- Reading MR-STFT and MCD: they span the whole band to {cfg.sample_rate // 2} Hz, the mel stops at fmax "
        f"{cfg.fmax or cfg.sample_rate / 2:.0f} Hz. Griffin-Lim from the mel (NNLS) has almost nothing above fmax: "
        "against slt's full-band recordings that costs it MR-STFT and MCD; flite's 16 kHz voices have nothing above "
        "8 kHz either, so there Griffin-Lim matches them while a vocoder trained on full-band slt adds a high band. "
        "PESQ-WB, STOI, F0, V/UV and WER only hear below 8 kHz.",
        *(["", "Refined and compared rows:", *compare_sections] if compare_sections else []),
        "",
        f"How sure (paired bootstrap over the {len(utterances)} utterances, 2000 resamples, seed 0; 'not resolved': "
        "the 95 % interval spans 0, or the bar for WER):",
        *paired_lines,
        "",
        "Voices never in training (same vocoder, same Griffin-Lim, the held-out sentences spoken by flite):",
        *voice_sections,
        "",
        *([f"Learning curve (first {len(curve_utts)} held-out utterances; Griffin-Lim 64 on the same: PESQ-WB "
           f"{gl_curve['pesq_wb']:.3f}, STOI {gl_curve['stoi']:.3f}); crossed Griffin-Lim on PESQ-WB at "
           f"{crossed['pesq_wb'] if crossed['pesq_wb'] is not None else 'no snapshot'} min, on STOI at "
           f"{crossed['stoi'] if crossed['stoi'] is not None else 'no snapshot'} min "
           f"(`{os.path.basename(png)}`):",
           "",
           "| snapshot (training minutes) | step | PESQ-WB | STOI |",
           "|---|---|---|---|",
           *[f"| {r['snapshot (training minutes)']} | {r['step']} | {r['PESQ-WB']} | {r['STOI']} |" for r in curve_rows],
           ""] if points else []),
        *(["Ablation (same model, other losses; same utterances as the learning curve):", *ablations, ""]
          if ablations else []),
        "Other voices table:",
        "",
        "| " + " | ".join(rows[0].keys()) + " |",
        "|" + "---|" * len(rows[0]),
        *["| " + " | ".join(str(r.get(k, "")) for k in rows[0].keys()) + " |" for r in voice_rows_all],
        "",
        f"- Script wall time {(time.perf_counter() - t_start) / 60:.1f} min; samples of the first 3 utterances in "
        f"`{os.path.relpath(sample_dir, ROOT)}/` (not committed).",
    ]
    text = write_markdown_table(args.md, rows, "iSTFT vocoder vs Griffin-Lim on held-out festival speech", command,
                                notes=notes, peak_gflops=peak)
    json_path = os.path.splitext(args.md)[0] + ".json"
    with open(json_path + ".tmp", "w", encoding="utf-8") as fh:
        json.dump({"summary": summary, "won": won, "wer_gap": wer_gap, "paired": paired, "curve": points,
                   "utterances": [u[0] for u in utterances],  # per-utterance scores, for pooling judge sets later
                   "per_utterance": {name: {"rows": r["rows"], "hyps": r["hyps"]} for name, r in results.items()}},
                  fh, indent=1, default=str)
    os.replace(json_path + ".tmp", json_path)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
