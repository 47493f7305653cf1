"""Speed of the iSTFT vocoder presets next to HiFi-GAN V1 and V2 on the same mel, in one run; streaming latency;
PESQ lost by float16 and dynamic-range TFLite files of the trained vocoder.

- Real-time factor (compute seconds per second of audio, batch 1, ``--frames`` mel frames) in TF
  (``tf.function``) and TFLite (``ai_edge_litert`` with XNNPACK, 2 threads, the dynamic-length ``synthesize``
  endpoint), each the best of interleaved rounds (``vocoder_speed.time_interleaved``) with the matmul peak of the
  same rounds; share of that peak from counted multiply-accumulates (``2 * MACs / time``).
- The first streaming chunk: the TFLite ``chunk`` endpoint (``chunk_frames`` + 2 x receptive-field frames of
  context) through ``tflite_export.streaming.stream_vocoder``, from a loaded interpreter; best of 5 utterances.
- Quantization (``--trained``): the trained model exported as float32, float16 and dynamic-range ``.tflite``,
  run on held-out utterances; PESQ-WB of each against the recordings and the PESQ lost against float32.

Usage:
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/istft_vocoder_speed.py \\
        --trained runs/istft_vocoder_speech/istft_vocoder_small.keras

Papers: Siuzdak 2023 (Vocos: frame-rate vocoders an order of magnitude faster than HiFi-GAN on CPU).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "benchmarks", "results", "istft_vocoder_speed.md")
QUANT_OUT = os.path.join(ROOT, "benchmarks", "results", "istft_vocoder_quantization.md")
SR = 22050


def istft_vocoder_macs_per_frame(model) -> int:
    """Multiply-accumulates of one frame of an ``ISTFTVocoder``: convs, MLPs, heads, prior and inverse-DFT matmul."""
    c = model.get_config()
    cfg = model.feature_settings
    bins = cfg.n_fft // 2 + 1
    dim, inter, k = c["dim"], c["intermediate_dim"], c["kernel_size"]
    macs = cfg.n_mels * dim * k  # input conv
    macs += c["num_blocks"] * (dim * k + 2 * dim * inter)  # depthwise conv + MLP per block
    macs += dim * bins * (3 if c["phase_head"] == "atan2" else 2)  # amplitude + phase head(s)
    macs += cfg.n_mels * bins if c["amplitude_prior"] == "pinv" else 0
    macs += 2 * bins * cfg.n_fft  # inverse DFT basis
    return int(macs)


def build(label):
    """(model for timing, MACs per second of audio) of ``label``."""
    import bench_utils as bu

    if label.startswith("hifigan"):
        from zoo.hifigan import HiFiGANGenerator

        model = HiFiGANGenerator.from_preset(label).remove_weight_norm()
        return model, bu.conv_macs_per_second_of_audio(model, SR, frames=64)
    from zoo.istft_vocoder import ISTFTVocoder

    model = ISTFTVocoder.from_preset(label)
    return model, istft_vocoder_macs_per_frame(model) * SR / model.hop_length


def tflite_synthesize(model, path):
    """Export the ``synthesize`` endpoint (export layers for HiFi-GAN) and return a runner ``mel -> audio``."""
    import bench_utils as bu
    from tflite_export.export import contains_flex_ops, export_tflite

    export_tflite(model, path, endpoint="synthesize")
    assert not contains_flex_ops(path), path
    interp = bu.tflite_interpreter(path, num_threads=2, allocate=False)
    runner = interp.get_signature_runner("synthesize")
    return lambda mel: next(iter(runner(mel=mel).values()))


def first_chunk(model, tmp, chunk_frames, mels):
    """(best first-chunk seconds, real-time factor, chunk/context) of the TFLite ``chunk`` endpoint on ``mels``."""
    from tflite_export.endpoints import Endpoint
    from tflite_export.export import export_tflite
    from tflite_export.runtime import TFLiteRunner
    from tflite_export.streaming import stream_vocoder, tflite_chunk_fn

    ctx = model.receptive_field_frames()
    eps = [Endpoint(*e) for e in model.export_endpoints(chunk_frames=chunk_frames, context_frames=ctx)]

    class _Chunk:
        name = model.name

        def export_endpoints(self):
            return eps

    path = os.path.join(tmp, f"{model.name}_chunk{chunk_frames}.tflite")
    export_tflite(_Chunk(), path, endpoint="chunk")
    fn = tflite_chunk_fn(TFLiteRunner(path, num_threads=2))
    fn(np.zeros((1, chunk_frames + 2 * ctx, model.n_mels), np.float32))  # allocate once, as an app would at start
    results = [stream_vocoder(fn, m, chunk_frames, ctx, model.hop_length, SR) for m in mels]
    return min(r.first_chunk_latency for r in results), min(r.rtf for r in results), ctx


def quantization_table(trained_path, manifest_path, n_utts, tmp):
    """Rows: PESQ-WB of float32 / float16 / dynamic TFLite on held-out utterances, and the PESQ lost vs float32."""
    import keras

    from audiogen_tf import audio as audio_io
    from audiogen_tf import manifest, metrics
    from tflite_export.export import export_tflite
    from tflite_export.runtime import TFLiteRunner

    if trained_path.endswith(".keras"):
        model = keras.saving.load_model(trained_path)
    else:  # a preset name with shipped weights, e.g. istft_vocoder_slt: what users get
        from zoo.istft_vocoder import ISTFTVocoder

        model = ISTFTVocoder.from_preset(trained_path)
    cfg = model.feature_settings
    held = [e for e in manifest.read_manifest(manifest_path) if e.get("split") in ("test", "valid")][:n_utts]
    clips = [audio_io.load(e["path"], sr=cfg.sample_rate)[0].astype(np.float32) for e in held]
    rows, base = [], None
    for mode in ("none", "float16", "dynamic"):
        path = os.path.join(tmp, f"trained_{mode}.tflite")
        export_tflite(model, path, quantization=mode, endpoint="synthesize")
        runner = TFLiteRunner(path, num_threads=2)
        pesq, err = [], 0.0
        for x in clips:
            mel = np.asarray(cfg.log_mel(x[None]), np.float32)
            y = np.asarray(next(iter(runner.run({"mel": mel}, signature="synthesize").values()))).reshape(-1)[: len(x)]
            ref = np.asarray(model(mel, training=False)).reshape(-1)[: len(x)]
            err = max(err, float(np.abs(y - ref).max()))
            pesq.append(metrics.pesq_wb(x, np.clip(y, -1, 1), cfg.sample_rate))
        mean = float(np.mean([p for p in pesq if p is not None]))
        base = mean if mode == "none" else base
        rows.append({"TFLite file": {"none": "float32", "float16": "float16 weights", "dynamic": "dynamic range int8"}[mode],
                     "size MB": os.path.getsize(path) / 1e6, "max abs diff vs Keras": err,
                     f"PESQ-WB ({len(clips)} held-out)": mean, "PESQ lost vs float32": base - mean})
    return rows


def write_quantization_page(args, command) -> int:
    """The quantization table alone (PESQ needs no quiet machine; the speed rounds do)."""
    import bench_utils as bu

    with tempfile.TemporaryDirectory() as tmp:
        rows = quantization_table(args.trained, args.manifest, args.quant_utterances, tmp)
    lost = {r["TFLite file"]: r["PESQ lost vs float32"] for r in rows}
    notes = [
        f"- `{args.trained}` exported three ways through the `synthesize` endpoint (builtin ops), each run with "
        f"`ai_edge_litert` (2 threads) on the first {args.quant_utterances} held-out festival utterances (splits "
        "test, valid); PESQ-WB of the clipped output against the recording, mean over utterances; max abs diff is "
        "against the Keras model on the same mel.",
        f"- PESQ-WB lost: float16 {lost['float16 weights']:+.3f}, dynamic-range int8 "
        f"{lost['dynamic range int8']:+.3f} (positive = worse than float32).",
        f"- Speed of the same presets: `{os.path.relpath(OUT, ROOT)}`.",
    ]
    text = bu.write_markdown_table(args.out, rows, "iSTFT vocoder: PESQ lost by float16 and dynamic-range TFLite",
                                   command, notes=notes)
    print(text)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--presets", default="istft_vocoder_tiny,istft_vocoder_small,istft_vocoder_vocos,hifigan_v1,hifigan_v2")
    ap.add_argument("--frames", type=int, default=431, help="mel frames per call (431 = 5.0 s at 22.05 kHz)")
    ap.add_argument("--budget", type=float, default=20.0, help="seconds of timing rounds per model")
    ap.add_argument("--chunk-frames", type=int, default=8)
    ap.add_argument("--trained", default=None,
                    help="trained .keras, or a preset with shipped weights (istft_vocoder_slt), for the "
                         "quantization table")
    ap.add_argument("--quantization-only", action="store_true",
                    help="only the quantization table of --trained (no timing: it can run beside a training), "
                         f"written to {os.path.relpath(QUANT_OUT, ROOT)} unless --out is given")
    ap.add_argument("--manifest", default=os.path.join(ROOT, "data", "speech", "manifest.csv"))
    ap.add_argument("--quant-utterances", type=int, default=8)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.quantization_only and not args.trained:
        ap.error("--quantization-only needs --trained")
    args.out = args.out or (QUANT_OUT if args.quantization_only else OUT)
    command = "TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/istft_vocoder_speed.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    if args.quantization_only:
        return write_quantization_page(args, command)

    import tensorflow as tf

    import bench_utils as bu
    from vocoder_speed import measure_peak, time_interleaved

    tf.get_logger().setLevel("ERROR")
    peak0 = max(measure_peak())
    rng = np.random.default_rng(0)
    mel = (rng.standard_normal((1, args.frames, 80)) - 4.0).astype(np.float32)
    rows, rtf = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for label in args.presets.split(","):
            model, macs = build(label)
            fn = tf.function(lambda x, m=model: m(x, training=False), autograph=False)
            mel_tf = tf.constant(mel)
            lite = tflite_synthesize(model, os.path.join(tmp, f"{label}.tflite"))
            diff = float(np.abs(np.asarray(lite(mel)).reshape(-1) - fn(mel_tf).numpy().reshape(-1)).max())
            best, peak = time_interleaved({"TF": lambda: fn(mel_tf), "TFLite": lambda: lite(mel)}, budget=args.budget)
            seconds = args.frames * 256 / SR
            flops = 2.0 * macs * seconds
            rtf[label] = {k: v / seconds for k, v in best.items()}
            rows.append({"model": label, "params M": model.count_params() / 1e6, "GMAC / s audio": macs / 1e9,
                         "TF RTF": rtf[label]["TF"], "TFLite RTF": rtf[label]["TFLite"],
                         "TF % peak": 100 * flops / best["TF"] / 1e9 / peak,
                         "TFLite % peak": 100 * flops / best["TFLite"] / 1e9 / peak,
                         "x faster than HiFi-GAN V1 (TFLite)": None, "TFLite vs TF max diff": diff,
                         "peak GFLOP/s of its rounds": peak})
            print(rows[-1], flush=True)
        if "hifigan_v1" in rtf:
            for r in rows:
                r["x faster than HiFi-GAN V1 (TFLite)"] = rtf["hifigan_v1"]["TFLite"] / rtf[r["model"]]["TFLite"]
        from zoo.istft_vocoder import ISTFTVocoder

        small = ISTFTVocoder.from_preset("istft_vocoder_small")
        mels = [(rng.standard_normal((1, 200, 80)) - 4.0).astype(np.float32) for _ in range(5)]
        latency, stream_rtf, ctx = first_chunk(small, tmp, args.chunk_frames, mels)
        quant = quantization_table(args.trained, args.manifest, args.quant_utterances, tmp) if args.trained else []

    ratio = rows[[r["model"] for r in rows].index("istft_vocoder_small")]["x faster than HiFi-GAN V1 (TFLite)"] \
        if "hifigan_v1" in rtf and "istft_vocoder_small" in rtf else None
    notes = [
        f"- Small preset vs HiFi-GAN V1 in TFLite: **{ratio:.1f}x faster** (target >= 10x)." if ratio else "",
        f"- First streaming chunk (`istft_vocoder_small`, TFLite `chunk` endpoint, {args.chunk_frames} frames of audio "
        f"= {args.chunk_frames * 256 / SR * 1000:.0f} ms per call with {ctx} frames of context on each side, interpreter "
        f"loaded; the endpoint computes only the frames that reach the chunk, `ISTFTVocoder.cropped_chunk`): "
        f"**{latency * 1000:.1f} ms** (target < 10 ms); streaming real-time factor {stream_rtf:.3f}.",
        f"- Input: a random log-mel of {args.frames} frames ({args.frames * 256 / SR:.2f} s of audio); every model "
        "gets the same mel. HiFi-GAN with weight norm folded; TFLite from the dynamic-length `synthesize` endpoint, "
        "builtin ops only, XNNPACK with 2 threads. Times are the best of interleaved rounds; % peak is "
        "2 x counted MACs / time over the matmul peak measured in the same rounds (iSTFT vocoder MACs: convs, MLPs, "
        "heads, amplitude prior and the inverse-DFT matmul; element-wise work not counted).",
        f"- Matmul peak at the start of the run: {peak0:.1f} GFLOP/s.",
    ]
    if quant:
        notes += ["", f"Quantization of the trained vocoder (`{args.trained}`), PESQ-WB against the recordings on "
                      f"{args.quant_utterances} held-out utterances:", "", bu.markdown_table(quant).rstrip("\n")]
    text = bu.write_markdown_table(args.out, rows, "iSTFT vocoder speed: TF and TFLite next to HiFi-GAN", command,
                                   notes=[n for n in notes if n is not None], peak_gflops=peak0)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
