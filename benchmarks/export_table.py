"""Export table: every zoo generator's ``.tflite`` size per quantization mode, real-time factor in TensorFlow and in
TFLite (XNNPACK, 2 threads) and the latency of the first streaming call, written to
``benchmarks/results/export_table.md``.

Paper-size presets are used where the whole run fits in about ten minutes on a shared 2-core machine; the rest
use tiny presets (the ``preset`` column says which). The matmul peak and the load average are measured in the
same run, since the machine is shared.

Run:
    python benchmarks/export_table.py [--out benchmarks/results/export_table.md] [--budget 600] [--tiny]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_utils.py sits beside this script
import bench_utils as bu  # noqa: E402
from audiogen_cli.export import build_preset  # noqa: E402
from tflite_export.export import ExportError, export_tflite  # noqa: E402
from tflite_export.quantization import (  # noqa: E402
    _sampled_representative_dataset,
    endpoint_by_name,
    is_vocoder,
    sample_inputs,
    vocoder_representative_dataset,
)
from tflite_export.runtime import TFLiteRunner  # noqa: E402
from tflite_export.streaming import keras_endpoint_fn  # noqa: E402

MODES = ("none", "float16", "dynamic", "int8")

# (class, paper preset, tiny preset, endpoint timed for the RTF, streaming endpoint, sample rate, audio kind)
# audio kind: "vocoder" (1 s of mel through synthesize), "clip" (one generated clip), "sample" (one audio sample
# per step), "frame" (one mel frame per step), "mel_steps" (Tacotron 2: r frames per decoder step), "encode".
ROWS = [
    ("HiFiGANGenerator", "hifigan_v1", "hifigan_tiny", "synthesize", "chunk", 22050, "vocoder"),
    ("HiFiGANGenerator", "hifigan_v2", "hifigan_tiny", "synthesize", "chunk", 22050, "vocoder"),
    ("MelGANGenerator", "melgan", "melgan_tiny", "synthesize", "chunk", 22050, "vocoder"),
    ("MultiBandMelGANGenerator", "multiband_melgan", "multiband_melgan_tiny", "synthesize", "chunk", 22050, "vocoder"),
    ("WaveGANGenerator", "wavegan", "wavegan_tiny", "generate", None, 16000, "clip"),
    ("SpecGANGenerator", "specgan", "specgan_tiny", "generate", None, 16000, "spec_clip"),
    ("WaveNet", "wavenet_base", "wavenet_tiny", "step", "step", 16000, "sample"),
    ("WaveRNN", "wavernn_full", "wavernn_tiny", "step", "step", 22050, "sample"),
    ("FrameRNN", "frame_rnn_full", "frame_rnn_tiny", "step", "step", 22050, "frame"),
    ("Tacotron2", "tacotron2", "tacotron2_tiny", "decoder_step", "decoder_step", 22050, "mel_steps"),
    ("ConvVAE", "vae_waveform_notes", "vae_waveform_tiny", "decode", None, 16000, "clip"),
    ("VQVAE", "vqvae_waveform", "vqvae_waveform_tiny", "decode", None, 16000, "clip"),
    ("AudioCodec", "codec_16khz_4kbps", "codec_tiny", "decode", None, 16000, "clip"),
    ("CodePrior", "prior_vqvae_mel", "prior_tiny", "step", "step", None, "code"),
    ("MelCNNEncoder", "mel_cnn", "mel_cnn_tiny", "serve", None, 16000, "encode"),
    ("WaveformCNNEncoder", "waveform_cnn", "waveform_cnn_tiny", "serve", None, 16000, "encode"),
]


def _inputs_and_seconds(model, ep, kind, sr):
    """Inputs for one timed call and the seconds of audio that call produces (None: not audio)."""
    if kind == "vocoder":
        frames = int(round(sr / model.hop_length))
        return sample_inputs(model, ep, dynamic_frames=frames), frames * model.hop_length / sr
    x = sample_inputs(model, ep, dynamic_frames=64)
    if kind == "sample":
        return x, 1.0 / sr
    if kind == "frame":
        return x, model.get_mel_config().hop_length / sr if hasattr(model, "get_mel_config") else 256 / sr
    if kind == "mel_steps":
        mc = model.mel_config
        return x, model.reduction_factor * mc.hop_length / mc.sample_rate
    if kind in ("clip", "encode"):
        out = keras_endpoint_fn(model, ep.name)(dict(zip(ep.input_names(), x)))
        n = x[0].shape[1] if kind == "encode" else next(iter(out.values())).shape[1]
        return x, n / sr
    if kind == "spec_clip":  # a (S, S) spectrogram at hop 128 (SpecGAN, 16 kHz)
        out = next(iter(keras_endpoint_fn(model, ep.name)(dict(zip(ep.input_names(), x))).values()))
        return x, out.shape[1] * 128 / sr
    return x, None


def measure(cls_name, preset, timed, stream, sr, kind, tmp, repeats):
    keras.backend.clear_session()
    model = build_preset(cls_name, preset)
    params = int(sum(int(np.prod(w.shape)) for w in model.weights))
    row = {"model": cls_name, "preset": preset, "params (M)": round(params / 1e6, 3)}
    ep = endpoint_by_name(model, timed)
    # file sizes per mode (of the timed endpoint plus the streaming one)
    names = sorted({timed} | ({stream} if stream else set()))
    paths = {}
    for mode in MODES:
        calib = None
        if mode == "int8":
            calib = {}
            for n in names:
                calib_ep = endpoint_by_name(model, n)
                calib[n] = (vocoder_representative_dataset(model, calib_ep, count=4) if is_vocoder(model)
                            else _sampled_representative_dataset(model, calib_ep, count=4))
        try:
            t0 = time.perf_counter()
            p = export_tflite(model, os.path.join(tmp, f"{preset}_{mode}.tflite"), quantization=mode,
                              representative_dataset=calib, endpoint=names)
            paths[mode] = p
            row[f"{mode} KB"] = round(os.path.getsize(p) / 1024, 1)
            print(f"  {preset} {mode}: {os.path.getsize(p)} B in {time.perf_counter() - t0:.1f} s", flush=True)
        except ExportError as e:
            row[f"{mode} KB"] = "refused"
            print(f"  {preset} {mode}: refused: {str(e)[:200]}", flush=True)
    x, seconds = _inputs_and_seconds(model, ep, kind, sr)
    feed = dict(zip(ep.input_names(), x))
    tf_fn = keras_endpoint_fn(model, timed)
    t_tf = bu.time_call(tf_fn, feed, repeats=repeats, warmup=1).median
    runner = TFLiteRunner(paths["none"], num_threads=2)
    t_lite = bu.time_call(runner.run, feed, signature=timed, repeats=repeats, warmup=1).median
    row["TF ms/call"] = round(1e3 * t_tf, 2)
    row["TFLite ms/call"] = round(1e3 * t_lite, 2)
    row["audio ms/call"] = round(1e3 * seconds, 3) if seconds else "-"
    row["RTF TF"] = round(t_tf / seconds, 3) if seconds else "-"
    row["RTF TFLite"] = round(t_lite / seconds, 3) if seconds else "-"
    if stream:
        sep = endpoint_by_name(model, stream)
        sfeed = dict(zip(sep.input_names(), sample_inputs(model, sep, seed=1)))
        row["first chunk ms (TFLite)"] = round(1e3 * bu.time_call(runner.run, sfeed, signature=stream, repeats=repeats,
                                                                   warmup=1).median, 2)
    else:
        row["first chunk ms (TFLite)"] = "-"
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                                                      "export_table.md"))
    parser.add_argument("--budget", type=float, default=600.0, help="seconds; later rows fall back to tiny presets")
    parser.add_argument("--tiny", action="store_true", help="tiny presets only")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    load_before = os.getloadavg()
    peak = bu.matmul_peak_gflops()
    rows = []
    with tempfile.TemporaryDirectory(prefix="export-table-") as tmp:
        for i, (cls_name, paper, tiny, timed, stream, sr, kind) in enumerate(ROWS):
            elapsed = time.perf_counter() - start
            # spend the budget on paper presets while the remaining rows can still run tiny
            use_paper = not args.tiny and elapsed < args.budget * (i + 1) / len(ROWS)
            preset = paper if use_paper else tiny
            print(f"[{elapsed:6.1f} s] {cls_name} {preset}", flush=True)
            try:
                row = measure(cls_name, preset, timed, stream, sr, kind, tmp, args.repeats)
            except Exception as e:  # record and go on: the table says what failed
                row = {"model": cls_name, "preset": preset, "params (M)": f"failed: {type(e).__name__}: {str(e)[:120]}"}
            row["paper size"] = "yes" if use_paper else "tiny"
            rows.append(row)
            for f in os.listdir(tmp):
                os.remove(os.path.join(tmp, f))
    peak_after = bu.matmul_peak_gflops(repeats=3, warmup=1)
    total = time.perf_counter() - start
    notes = [
        f"Total run {total:.0f} s; load average before {tuple(round(v, 2) for v in load_before)}, after "
        f"{tuple(round(v, 2) for v in os.getloadavg())}; float32 matmul peak {peak:.1f} GFLOP/s at the start, "
        f"{peak_after:.1f} GFLOP/s at the end (the machine is shared with other jobs: compare rows, not absolutes).",
        "Sizes: one `.tflite` per mode holding the timed and the streaming endpoint (int8 calibrated per endpoint "
        "on 4 inputs: log-mels of the built-in notes through `segment_dataset` for vocoders, "
        "sampled inputs otherwise). `refused` = the converter could not make builtin int8 kernels (ExportError).",
        "RTF = median wall time of one call / seconds of audio that call yields (< 1 is faster than real time). "
        "Vocoders: `synthesize` on 1 s of mel; WaveNet / WaveRNN `step`: one audio sample per call, so RTF = "
        "per-call time x sample rate (TensorFlow pays its per-call dispatch overhead on every sample: the models' "
        "own `generate()` loops run inside one `tf.function`); FrameRNN: one mel frame (its mel hop at 22.05 kHz); "
        "Tacotron 2 `decoder_step`: r frames (excludes encoder, post-net and vocoder); WaveGAN / VAE / VQ-VAE / codec: "
        "one clip; SpecGAN: one 128-frame spectrogram at hop 128 (Griffin-Lim not included); encoders: 1 s clip. "
        "CodePrior steps are codes, not audio (no RTF).",
        "TFLite: `ai_edge_litert` Interpreter, float32 file, XNNPACK delegate, 2 threads. TF: the same endpoint as a "
        "traced `tf.function`, eager call per invocation. Median of "
        f"{args.repeats} calls after one warm-up.",
        "First chunk: one call of the streaming endpoint in TFLite (vocoder `chunk`: 32 frames + 2 x 8 context; "
        "autoregressive `step`: one sample / frame / decoder step) = latency to the first audio.",
    ]
    text = bu.write_markdown_table(args.out, rows, "Export table: TFLite size, speed and streaming latency",
                                   "python benchmarks/export_table.py", notes=notes, peak_gflops=peak)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
