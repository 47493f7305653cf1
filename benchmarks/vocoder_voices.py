"""Judge vocoders voice by voice on the multi-speaker corpus (`audiogen data voices`): seen voices' held-out
utterances and voices never trained on, each against Griffin-Lim 64 from the same log-mel.

Per voice: PESQ-WB, STOI, MR-STFT, F0 RMSE (cents), V/UV F1, MCD and DNSMOS OVRL of every system (one call, no
refinement), the paired (system - Griffin-Lim 64) difference with a 95 % bootstrap interval over the utterances, and
on English voices the pocketsphinx WER gap to the recordings (prompts without a transcript are judged against what
the recognizer hears in the recording). The first system is the one judged; ``--compare`` adds others beside it.

Usage:
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/vocoder_voices.py --model runs/istft_universal \
        --compare istft_vocoder_slt --manifest data/voices/manifest.csv --md benchmarks/results/vocoder_voices.md
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

BASELINE = "Griffin-Lim 64"
BAR = ("pesq_wb", "stoi", "mrstft", "f0_rmse_cents", "vuv_f1")


def load_vocoder(spec: str, weights: str | None = None):
    """A vocoder from a run folder of `audiogen train`, a ``.keras`` file or a preset; ``weights`` (a snapshot
    ``.weights.h5``) replaces its weights."""
    if os.path.isdir(spec):
        from training.run import load_run

        _, model = load_run(spec)
    else:
        from audiogen_cli.export import resolve_model

        model = resolve_model(spec)
    if weights:
        model.load_weights(weights)
    return model


def voice_utterances(manifest: str, splits, per_voice: int, voices=None):
    """``{voice: [entry, ...]}``: the first ``per_voice`` entries of each voice in ``splits``."""
    from audiogen_tf.manifest import read_manifest

    out: dict[str, list] = {}
    for e in read_manifest(manifest):
        if e.get("split") not in splits or (voices and e["voice"] not in voices):
            continue
        rows = out.setdefault(e["voice"], [])
        if len(rows) < per_voice:
            rows.append(e)
    return out


def judge_voice(entries, systems, cfg, with_dnsmos):
    """Score one voice: ``(results, texts)`` as :func:`istft_vocoder_quality.score_systems` gives them."""
    from audiogen_tf import audio as audio_io
    from istft_vocoder_quality import score_systems

    utterances = []
    for e in entries:
        x, _ = audio_io.load(e["path"], sr=cfg.sample_rate)
        utterances.append((os.path.splitext(os.path.basename(e["path"]))[0], x.astype(np.float32), e.get("text", "")))
    results = score_systems(systems, utterances, cfg, with_dnsmos)
    # prompts come without transcripts: what the recognizer hears in the recording is the reference
    texts = [t or (h or "") for (_, _, t), h in zip(utterances, results["recordings"]["hyps"])]
    return results, texts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="run folder, .keras or preset of the judged vocoder")
    ap.add_argument("--weights", default=None, help="a snapshot .weights.h5 for --model")
    ap.add_argument("--name", default=None, help="the judged system's name in the tables")
    ap.add_argument("--compare", action="append", default=[], help="more vocoders beside it (presets, .keras)")
    ap.add_argument("--manifest", default=os.path.join(ROOT, "data", "voices", "manifest.csv"))
    ap.add_argument("--splits", default="test,unseen")
    ap.add_argument("--voices", default="", help="only these voices (comma-separated)")
    ap.add_argument("--per-voice", type=int, default=12)
    ap.add_argument("--no-dnsmos", action="store_true")
    ap.add_argument("--md", default=os.path.join(ROOT, "benchmarks", "results", "vocoder_voices.md"))
    args = ap.parse_args(argv)

    from audiogen_tf import metrics
    from audiogen_tf.features import log_mel_to_audio
    from bench_utils import machine_info
    from istft_vocoder_quality import KEYS, LABELS, paired_differences, table

    model = load_vocoder(args.model, args.weights)
    cfg = model.feature_settings
    name = args.name or os.path.basename(os.path.normpath(args.model))

    def vocoder_fn(m):
        return lambda log_mel, n: m(log_mel, training=False)[0, :, 0]

    systems = {name: (vocoder_fn(model), "judged"),
               BASELINE: ((lambda log_mel, n: log_mel_to_audio(log_mel[0], cfg, n_iter=64, length=n, seed=0)), "gl64")}
    for spec in args.compare:
        systems[f"`{spec}`"] = (vocoder_fn(load_vocoder(spec)), "compared")
    dnsmos = False
    if not args.no_dnsmos:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", metrics.MetricUnavailableWarning)
            dnsmos = metrics.dnsmos(np.sin(np.arange(16000) / 5.0).astype(np.float32), 16000) is not None
    keys = KEYS + (("dnsmos_ovrl",) if dnsmos else ())
    by_voice = voice_utterances(args.manifest, set(args.splits.split(",")), args.per_voice,
                                set(filter(None, args.voices.split(","))))
    from audiogen_tf.manifest import read_manifest

    info = {e["voice"]: e for e in read_manifest(args.manifest)}
    t0 = time.time()
    lines = [f"# Vocoders voice by voice: `{name}` against Griffin-Lim 64", "",
             f"Command: `TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/vocoder_voices.py "
             f"{shlex.join(argv if argv is not None else sys.argv[1:])}`", "",
             f"Data: `{args.manifest}` (`audiogen data voices`), splits {args.splits}, the first {args.per_voice} "
             "utterances of each voice; one call per utterance, no refinement. Verdicts are paired 95 % bootstrap "
             "intervals of (system - Griffin-Lim 64) over the voice's utterances: an interval that spans 0 is "
             "*not resolved*.", ""]
    header, lines = lines, []
    verdicts, raw = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", metrics.MetricUnavailableWarning)
        for voice, entries in sorted(by_voice.items(), key=lambda kv: (kv[1][0]["split"] != "unseen", kv[0])):
            e0 = info[voice]
            print(f"voice {voice}: {len(entries)} utterances", flush=True)
            results, texts = judge_voice(entries, systems, cfg, dnsmos)
            english = e0["language"].startswith("en")
            rows, summary = table(results, texts, BASELINE, keys)
            diffs = paired_differences(results, texts, name, BASELINE, keys)
            if not english:
                rows = [{k: v for k, v in r.items() if k != LABELS["wer"]} for r in rows]
                diffs = [d for d in diffs if not d["metric"].startswith("WER")]
            kind = "unseen" if entries[0]["split"] == "unseen" else "seen (held-out utterances)"
            lines += [f"## {voice}: {kind}, {e0['language']}, {'female' if e0['gender'] == 'f' else 'male'}, "
                      f"{e0['kind']} ({e0['source']})", "", _md(rows), "", _md(diffs), ""]
            verdicts[voice] = {d["metric"]: d["verdict"] for d in diffs}
            raw[voice] = {"split": entries[0]["split"], "summary": summary, "differences": diffs}
    bar = [LABELS[k] for k in BAR]
    summary_rows = []
    for voice, v in verdicts.items():
        row = {"voice": voice, "split": raw[voice]["split"]}
        # a metric without a difference: the system had no voiced frame where the recording has (pYIN): a loss
        row.update({m: v.get(m, "worse (no voiced frame)") for m in bar})
        row["meets the bar"] = "yes" if all(v.get(m) == "better" for m in bar) else "no"
        summary_rows.append(row)
    lines = header + ["## Verdicts against Griffin-Lim 64 (the bar: better on all five, interval excluding 0)", "",
                      _md(summary_rows), ""] + lines
    lines += [f"Measured on {machine_info().get('cpu', 'this machine')} in {(time.time() - t0) / 60:.1f} min.", ""]
    from audiogen_tf.atomic import atomic_write_text

    os.makedirs(os.path.dirname(os.path.abspath(args.md)), exist_ok=True)
    atomic_write_text(args.md, "\n".join(lines))
    atomic_write_text(os.path.splitext(args.md)[0] + ".json", json.dumps(raw, indent=1, default=str) + "\n")
    print(f"wrote {args.md}")
    return 0


def _md(rows) -> str:
    from bench_utils import markdown_table

    return markdown_table(rows)


if __name__ == "__main__":
    raise SystemExit(main())
