"""Real-time factor of every GAN vocoder preset at batch 1: TensorFlow (graph, XLA) and TFLite (XNNPACK).

For each generator preset (HiFi-GAN v1/v2/v3/tiny, MelGAN, melgan_tiny, Multi-band MelGAN,
multiband_melgan_tiny) with weight norm folded (``remove_weight_norm()``), on one random log-mel of
``--frames`` frames (86 frames = 22016 samples, about 1 s at 22.05 kHz; the multiband_melgan preset is a
16 kHz / hop-200 model, so 17200 samples = 1.075 s):

- TF: ``tf.function(model(mel, training=False))`` with XLA off, and with ``jit_compile=True``;
- TFLite: ``tflite_export.export.export_tflite(model, path, endpoint="synthesize")`` run by
  ``bench_utils.tflite_interpreter`` (XNNPACK default delegate, ``num_threads=2``); the
  endpoint exports ``remove_weight_norm(export_layers=True)``: transposed convs as
  ``audiogen_tf.layers.conv.PhaseConv1DTranspose``, dilated convs as ``DilatedConv1D``, reflection padding
  (``ReflectionPad1D``) as concatenated slices;

each timed after warm-up as the best of N calls. Beside the real-time factor (compute seconds per
second of audio) it reports the model's multiply-accumulates per second of audio
(``bench_utils.conv_macs_per_second_of_audio``) and the fraction of this machine's float32 matmul
peak (``bench_utils.matmul_peak_gflops``, measured in the same run) that ``2 * MACs / seconds``
reaches, and checks the targets of the issue: HiFi-GAN V1 at >= 80 % of peak in TF and in TFLite; no
preset's TFLite more than 15 % slower than its TF run.

Investigation (the gaps to the targets): each preset is also run in TF with the export layers, exported
with the plain Keras layers (``Conv1DTranspose`` -> ``TRANSPOSE_CONV``, dilated ``Conv1D`` ->
space-to-batch: the export before the library had the export layers), and exported with a fixed input
length; and single layers at HiFi-GAN V1 shapes (transposed conv, dilated and plain convs, reflection
padding) are timed in TF and TFLite next to the library's formulations, to find where the time goes.

Usage:
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/vocoder_speed.py
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/vocoder_speed.py --presets hifigan_tiny --no-layers --out /tmp/v.md
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_utils.py sits beside this script
import bench_utils as bu  # noqa: E402
from tflite_export.endpoints import Endpoint  # noqa: E402

tf.get_logger().setLevel("ERROR")  # matmul_peak_gflops retraces its tf.function on every call (harmless)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "vocoder_speed.md")
PEAK_TARGET = 0.80  # HiFi-GAN V1: fraction of the matmul peak, in TF and in TFLite
TFLITE_SLOWDOWN = 1.15  # every preset: TFLite time <= 1.15 x TF time

# label, family, preset name, sample rate of its output
PRESETS = [
    ("HiFi-GAN V1", "hifigan", "hifigan_v1", 22050),
    ("HiFi-GAN V2", "hifigan", "hifigan_v2", 22050),
    ("HiFi-GAN V3", "hifigan", "hifigan_v3", 22050),
    ("HiFi-GAN tiny", "hifigan", "hifigan_tiny", 22050),
    ("MelGAN", "melgan", "melgan", 22050),
    ("MelGAN tiny", "melgan", "melgan_tiny", 22050),
    ("Multi-band MelGAN", "multiband", "multiband_melgan", 16000),
    ("Multi-band MelGAN tiny", "multiband", "multiband_melgan_tiny", 22050),
]


def build(family: str, preset: str):
    """The generator of ``preset`` with weight norm folded into plain Keras convs (``remove_weight_norm()``)."""
    if family == "hifigan":
        from zoo.hifigan.hifigan_generator import HiFiGANGenerator as cls
        import zoo.hifigan.hifigan_presets  # noqa: F401  (registers the presets)
    elif family == "melgan":
        from zoo.melgan.melgan_generator import MelGANGenerator as cls
        import zoo.melgan.melgan_presets  # noqa: F401
    else:
        from zoo.melgan.melgan_multiband_generator import MultiBandMelGANGenerator as cls
        import zoo.melgan.melgan_presets  # noqa: F401
    return cls.from_preset(preset).remove_weight_norm()


def measure_peak() -> tuple[float, float]:
    """The float32 matmul throughput of this machine now, GFLOP/s: (n=2048 best of 6, n=1024 best of 20).

    Under load, short calls catch quiet moments more often than long ones; the short n=1024 runs keep the peak
    comparable with the millisecond-long layer timings. The benchmark divides by the highest value seen.
    """
    return (bu.matmul_peak_gflops(n=2048, repeats=6, warmup=1), bu.matmul_peak_gflops(n=1024, repeats=20, warmup=2))


def xnnpack_fraction(interp) -> str:
    """``"<d> delegate node(s) / <n>"``: XNNPACK partitions (each a DELEGATE node) among all listed nodes.

    One partition means the whole graph runs in XNNPACK; more partitions mean ops XNNPACK cannot take
    (dynamic shapes, MIRROR_PAD, ...) run on the builtin kernels in between.
    """
    try:
        ops = interp._get_ops_details()
    except Exception:  # private API; informational only
        return "?"
    names = [o.get("op_name", "") for o in ops]
    delegated = sum(1 for n in names if "DELEGATE" in n.upper())
    return f"{delegated} delegate node(s) / {len(names)}"


def tflite_runner(model, path, endpoint, mel, tmp_ref):
    """Export ``model`` through ``endpoint`` (a name or an Endpoint), load it with XNNPACK; return (run, diff, info)."""
    from tflite_export.export import export_tflite

    start = time.perf_counter()
    export_tflite(model, path, endpoint=endpoint)
    convert_s = time.perf_counter() - start
    key = endpoint if isinstance(endpoint, str) else endpoint.name
    interp = bu.tflite_interpreter(path, num_threads=2, allocate=False)
    runner = interp.get_signature_runner(key)
    out = next(iter(runner(mel=mel).values()))
    info = f"converted in {convert_s:.0f} s, {xnnpack_fraction(interp)}"
    return (lambda x: runner(mel=x)), float(np.max(np.abs(out - tmp_ref))), info


def fixed_endpoint(model, frames):
    """A ``synthesize_fixed`` endpoint: the model on a mel of exactly (1, frames, n_mels)."""
    return Endpoint("synthesize_fixed", lambda m: model(m, training=False),
                    [keras.InputSpec(shape=(1, frames, model.inputs[0].shape[-1]), dtype="float32", name="mel")])


def time_interleaved(fns: dict, budget: float, min_rounds: int = 3, max_rounds: int = 10):
    """Best seconds of each zero-argument callable, timed in interleaved rounds, and the peak of the same rounds.

    Each round calls every function once (results forced to host memory) and then measures the matmul peak
    (``matmul_peak_gflops(n=1024, repeats=2)``), so the variants and the peak they are compared with see the
    same machine load; the number of rounds fills ``budget`` seconds (within [min_rounds, max_rounds]).

    Returns:
        ``({name: best_seconds}, peak_gflops)`` where the peak is the best of the rounds.
    """
    start = time.perf_counter()
    for f in fns.values():  # warm-up
        bu.force(f())
    once = time.perf_counter() - start
    rounds = int(min(max_rounds, max(min_rounds, budget // max(once, 1e-6))))
    times = {name: [] for name in fns}
    peaks = []
    for _ in range(rounds):
        for name, f in fns.items():
            t0 = time.perf_counter()
            bu.force(f())
            times[name].append(time.perf_counter() - t0)
        peaks.append(bu.matmul_peak_gflops(n=1024, repeats=2, warmup=1))
    return {name: min(ts) for name, ts in times.items()}, max(peaks)


def bench_preset(family, preset, sr, frames, args, tmp):
    """Main-table row, reformulation-table row and notes of one preset."""
    model = build(family, preset)
    mel = np.random.default_rng(0).standard_normal((1, frames, model.n_mels)).astype(np.float32) - 4.0
    macs, kinds = bu.conv_macs_per_second_of_audio(model, sr, frames=frames, by_kind=True)
    mel_tf = tf.constant(mel)
    notes = {"kinds": {k: v / macs for k, v in kinds.items()}, "parity": []}

    fn = tf.function(lambda x: model(x, training=False), jit_compile=False, autograph=False)
    ref = fn(mel_tf).numpy()
    seconds_audio = ref.shape[1] / sr
    fns = {"TF": lambda: fn(mel_tf)}
    xla_error = None
    if not args.no_xla:
        try:
            xfn = tf.function(lambda x: model(x, training=False), jit_compile=True, autograph=False)
            notes["parity"].append(f"XLA diff {np.max(np.abs(xfn(mel_tf).numpy() - ref)):.1e}")
            fns["XLA"] = lambda: xfn(mel_tf)
        except Exception as e:  # report, don't stop the table
            xla_error = f"failed: {type(e).__name__}"
    if not args.no_tflite:
        run, diff, info = tflite_runner(model, os.path.join(tmp, f"{preset}.tflite"), "synthesize", mel, ref)
        notes["parity"].append(f"TFLite diff {diff:.1e} ({info})")
        fns["TFLite"] = lambda run=run: run(mel)
    if args.reformulate and not args.no_tflite:
        # Investigation: the export layers in TF; the plain Keras layers exported; a fixed input length.
        export = model.remove_weight_norm(export_layers=True)
        efn = tf.function(lambda x: export(x, training=False), jit_compile=False, autograph=False)
        notes["parity"].append(f"export-layers TF diff {np.max(np.abs(efn(mel_tf).numpy() - ref)):.1e}")
        fns["TF export layers"] = lambda: efn(mel_tf)
        keras_ep = Endpoint("synthesize", lambda m: model(m, training=False),
                            [keras.InputSpec(shape=(1, None, model.n_mels), dtype="float32", name="mel")])
        run, diff, info = tflite_runner(model, os.path.join(tmp, f"{preset}_keras.tflite"), keras_ep, mel, ref)
        notes["parity"].append(f"Keras-layers TFLite diff {diff:.1e} ({info})")
        fns["TFLite Keras layers"] = lambda run=run: run(mel)
        run, diff, info = tflite_runner(export, os.path.join(tmp, f"{preset}_fixed.tflite"),
                                        fixed_endpoint(export, frames), mel, ref)
        notes["parity"].append(f"export-layers fixed-shape TFLite diff {diff:.1e} ({info})")
        fns["TFLite fixed"] = lambda run=run: run(mel)

    best, peak = time_interleaved(fns, budget=args.budget)
    flops = 2.0 * macs * seconds_audio
    pct = lambda t: 100 * flops / t / 1e9 / peak  # noqa: E731
    row = {"preset": preset, "params M": model.count_params() / 1e6, "GMAC / s audio": macs / 1e9,
           "audio s": seconds_audio, "peak GFLOP/s": peak}
    t_tf = best["TF"]
    row["TF RTF"] = t_tf / seconds_audio
    row["TF % peak"] = pct(t_tf)
    if "XLA" in best:
        row["XLA RTF"] = best["XLA"] / seconds_audio
        row["XLA % peak"] = pct(best["XLA"])
    elif xla_error:
        row["XLA RTF"] = xla_error
    t_lite = best.get("TFLite")
    if t_lite is not None:
        row["TFLite RTF"] = t_lite / seconds_audio
        row["TFLite % peak"] = pct(t_lite)
        row["TFLite / TF time"] = t_lite / t_tf

    verdicts, ok = [], True
    if preset == "hifigan_v1":
        for name, t in (("TF", t_tf), ("TFLite", t_lite)):
            if t is not None:
                ok &= pct(t) >= 100 * PEAK_TARGET
                verdicts.append(f"{name} {pct(t):.0f}% {'>=' if pct(t) >= 100 * PEAK_TARGET else '<'} 80% peak")
    if t_lite is not None:
        ratio = t_lite / t_tf
        ok &= ratio <= TFLITE_SLOWDOWN
        verdicts.append(f"TFLite/TF {ratio:.2f} {'<=' if ratio <= TFLITE_SLOWDOWN else '>'} 1.15")
    row["target met"] = ("yes" if ok else "no") + (" (" + "; ".join(verdicts) + ")" if verdicts else "")

    alt = None
    if "TF export layers" in best:
        alt = {"preset": preset, "TF RTF": row["TF RTF"],
               "TF export layers RTF": best["TF export layers"] / seconds_audio,
               "TFLite RTF": row["TFLite RTF"], "TFLite fixed RTF": best["TFLite fixed"] / seconds_audio,
               "TFLite Keras layers RTF": best["TFLite Keras layers"] / seconds_audio}
        best_tf = min(t_tf, best["TF export layers"])
        best_lite = min(t_lite, best["TFLite fixed"])
        alt["best TF % peak"] = pct(best_tf)
        alt["best TFLite % peak"] = pct(best_lite)
        alt["TFLite / best TF time"] = t_lite / best_tf
        alt["Keras-layers TFLite / TF time"] = best["TFLite Keras layers"] / t_tf
    del model, fns
    return row, alt, notes


# ------------------------------------------------------------------------------------ layer study
def make_transpose_fns(length, in_ch, out_ch, k, stride, rng):
    """TF conv1d_transpose ("same") and the library's exact phase form (``PhaseConv1DTranspose``), (1, length, in_ch)."""
    from audiogen_tf.layers.conv import PhaseConv1DTranspose

    w = (rng.standard_normal((k, out_ch, in_ch)) / math.sqrt(k * in_ch)).astype(np.float32)
    w_tf = tf.constant(w)
    phase_layer = PhaseConv1DTranspose(out_ch, k, stride, use_bias=False)
    phase_layer.build((1, length, in_ch))
    phase_layer.set_transpose_weights(w)
    spec = tf.TensorSpec((1, length, in_ch), tf.float32)

    @tf.function(input_signature=[spec], autograph=False)
    def transpose(x):
        return tf.nn.conv1d_transpose(x, w_tf, (1, length * stride, out_ch), stride, padding="SAME")

    @tf.function(input_signature=[spec], autograph=False)
    def phase(x):  # pad, one conv with stride * out channels, depth-to-space reshape, crop
        return phase_layer(x)

    return {"tf.nn.conv1d_transpose": transpose, "PhaseConv1DTranspose (phase conv + reshape)": phase}


def make_dilated_fns(length, ch, k, dilation, rng):
    """A "same" dilated conv: Keras' path (space-to-batch on CPU), the native dilated op (``DilatedConv1D``),
    per-tap matmuls, undilated."""
    from audiogen_tf.layers.conv import DilatedConv1D

    w = (rng.standard_normal((k, ch, ch)) / math.sqrt(k * ch)).astype(np.float32)
    w_tf = tf.constant(w)
    dilated_layer = DilatedConv1D(ch, k, dilation_rate=dilation, padding="same", use_bias=False)
    dilated_layer.build((1, length, ch))
    dilated_layer.set_weights([w])
    pad = dilation * (k - 1) // 2
    spec = tf.TensorSpec((1, length, ch), tf.float32)

    @tf.function(input_signature=[spec], autograph=False)
    def keras_path(x):  # what keras.layers.Conv1D runs on the TF backend: space-to-batch when dilated (CPU)
        return tf.nn.convolution(x, w_tf, strides=1, padding="SAME", dilations=dilation)

    @tf.function(input_signature=[spec], autograph=False)
    def conv(x):  # tf.nn.conv1d(dilations=d): the Conv2D op with its own dilation attribute, no space-to-batch
        return dilated_layer(x)

    @tf.function(input_signature=[spec], autograph=False)
    def taps(x):  # sum over taps of shifted (T, C) @ (C, C): no space-to-batch, no im2col copy
        xp = tf.pad(x[0], [[pad, pad], [0, 0]])
        y = tf.matmul(xp[0:length], w_tf[0])
        for j in range(1, k):
            y += tf.matmul(xp[j * dilation : j * dilation + length], w_tf[j])
        return y[None]

    fns = {f"tf.nn.convolution d={dilation} (Keras Conv1D)": keras_path}
    if dilation > 1:
        fns["DilatedConv1D: tf.nn.conv1d(dilations=d)"] = conv
    fns["sum of per-tap matmuls"] = taps
    if dilation > 1:
        @tf.function(input_signature=[spec], autograph=False)
        def undilated(x):  # same MACs, no dilation: the cost of the dilation itself
            return tf.nn.conv1d(x, w_tf, 1, padding="SAME")

        fns["(undilated conv, same MACs)"] = undilated
    return fns


def make_pad_fns(length, ch, pad):
    """Reflection padding of the time axis: ``tf.pad(mode="REFLECT")`` (TFLite MIRROR_PAD) and the library's
    ``ReflectionPad1D`` (concat of reversed slices)."""
    from audiogen_tf.layers.conv import ReflectionPad1D

    pad_layer = ReflectionPad1D(pad)
    spec = tf.TensorSpec((1, length, ch), tf.float32)

    @tf.function(input_signature=[spec], autograph=False)
    def mirror(x):
        return tf.pad(x, [[0, 0], [pad, pad], [0, 0]], mode="REFLECT")

    @tf.function(input_signature=[spec], autograph=False)
    def concat(x):
        return pad_layer(x)

    return {"tf.pad REFLECT": mirror, "ReflectionPad1D (concat of reversed slices)": concat}


def tflite_of(fn, resolver="AUTO"):
    """Convert a fixed-shape tf.function to a TFLite interpreter (XNNPACK with AUTO) and return a callable."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    cf = fn.get_concrete_function()
    conv = tf.lite.TFLiteConverter.from_concrete_functions([cf], fn)
    blob = conv.convert()
    interp = Interpreter(model_content=blob, num_threads=2,
                         experimental_op_resolver_type=getattr(OpResolverType, resolver))
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0]["index"], interp.get_output_details()[0]["index"]

    def run(x):
        interp.set_tensor(inp, x)
        interp.invoke()
        return interp.get_tensor(out)

    ops = sorted({o["op_name"] for o in interp._get_ops_details()}) if hasattr(interp, "_get_ops_details") else []
    return run, ops


def layer_study(budget, rng):
    """Rows of achieved GFLOP/s for layers at HiFi-GAN V1 shapes, each formulation in TF and in TFLite."""
    rows = []
    cases = [
        ("transposed up0: 86 x 512 -> 256, k16 s8", "t", (86, 512, 256, 16, 8)),
        ("transposed up1: 688 x 256 -> 128, k16 s8", "t", (688, 256, 128, 16, 8)),
        ("conv k7 d3: 5504 x 128", "d", (5504, 128, 7, 3)),
        ("conv k11 d5: 5504 x 128", "d", (5504, 128, 11, 5)),
        ("conv k7 d1: 5504 x 128", "d", (5504, 128, 7, 1)),
        ("conv k7 d3: 22016 x 32", "d", (22016, 32, 7, 3)),
        ("reflection pad 9: 5504 x 128 (MelGAN)", "p", (5504, 128, 9)),
        ("reflection pad 9: 22016 x 32 (MelGAN)", "p", (22016, 32, 9)),
    ]
    for title, kind, shape in cases:
        if kind == "t":
            length, cin, cout, k, s = shape
            fns = make_transpose_fns(length, cin, cout, k, s, rng)
            macs = length * k * cin * cout
            x = rng.standard_normal((1, length, cin)).astype(np.float32)
        elif kind == "p":
            length, ch, pad = shape
            fns = make_pad_fns(length, ch, pad)
            macs = 0
            x = rng.standard_normal((1, length, ch)).astype(np.float32)
        else:
            length, ch, k, d = shape
            fns = make_dilated_fns(length, ch, k, d, rng)
            macs = length * k * ch * ch
            x = rng.standard_normal((1, length, ch)).astype(np.float32)
        x_tf = tf.constant(x)
        ref, calls, meta = None, {}, {}
        for name, fn in fns.items():
            out = fn(x_tf).numpy()
            if ref is None:
                ref = out
            meta[name] = {"max diff": float(np.max(np.abs(out - ref))) if "undilated" not in name else None}
            calls[(name, "TF")] = lambda fn=fn: fn(x_tf)
            try:
                run, ops = tflite_of(fn)
                calls[(name, "TFLite")] = lambda run=run: run(x)
                meta[name]["TFLite ops"] = " ".join(o for o in ops if o != "DELEGATE") or "DELEGATE"
                if kind == "t":
                    run_nd, _ = tflite_of(fn, "BUILTIN_WITHOUT_DEFAULT_DELEGATES")
                    calls[(name, "TFLite no-XNNPACK")] = lambda run_nd=run_nd: run_nd(x)
            except Exception as e:
                meta[name]["TFLite ops"] = f"conversion failed: {type(e).__name__}"
        best, peak = time_interleaved(calls, budget=budget)
        gflops = (lambda sec: 2 * macs / sec / 1e9) if macs else (lambda sec: None)
        share = (lambda sec: 100 * 2 * macs / sec / 1e9 / peak) if macs else (lambda sec: None)
        for name in fns:
            t = best[(name, "TF")]
            row = {"layer": title, "formulation": name, "max diff": meta[name]["max diff"], "peak GFLOP/s": peak,
                   "TF ms": 1e3 * t, "TF GFLOP/s": gflops(t), "TF % peak": share(t)}
            if (name, "TFLite") in best:
                t_l = best[(name, "TFLite")]
                row.update({"TFLite ms": 1e3 * t_l, "TFLite % peak": share(t_l)})
            if (name, "TFLite no-XNNPACK") in best:
                row["TFLite no-XNNPACK ms"] = 1e3 * best[(name, "TFLite no-XNNPACK")]
            row["TFLite ops"] = meta[name]["TFLite ops"]
            rows.append(row)
            print(bu.markdown_table([row]).splitlines()[-1], flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="*", default=[p[2] for p in PRESETS])
    parser.add_argument("--frames", type=int, default=86)
    parser.add_argument("--budget", type=float, default=6.0, help="seconds of timed rounds per preset")
    parser.add_argument("--no-xla", action="store_true")
    parser.add_argument("--no-tflite", action="store_true")
    parser.add_argument("--no-reformulate", dest="reformulate", action="store_false",
                        help="skip the export-layers TF, Keras-layers TFLite and fixed-shape variants")
    parser.add_argument("--no-layers", action="store_true", help="skip the per-layer study")
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    load_start = os.getloadavg()

    # For the record; every row is compared with the peak measured in its own interleaved rounds.
    peaks = [measure_peak()]
    print(f"matmul peak {peaks[0]} GFLOP/s", flush=True)
    rows, alt_rows, extra = [], [], {}
    with tempfile.TemporaryDirectory(prefix="vocoder-speed-") as tmp:
        for _label, family, preset, sr in PRESETS:
            if preset not in args.presets:
                continue
            row, alt, notes = bench_preset(family, preset, sr, args.frames, args, tmp)
            rows.append(row)
            if alt:
                alt_rows.append(alt)
            extra[preset] = notes
            print(bu.markdown_table([row]).splitlines()[-1], alt, notes, f"{time.perf_counter() - t0:.0f}s", flush=True)
    peaks.append(measure_peak())
    layer_rows = [] if args.no_layers else layer_study(budget=min(args.budget, 1.5),
                                                       rng=np.random.default_rng(1))
    peaks.append(measure_peak())
    load_end = os.getloadavg()
    elapsed = time.perf_counter() - t0

    fmt = lambda la: " ".join(f"{v:.2f}" for v in la)  # noqa: E731
    notes = [
        f"Input: one random log-mel of {args.frames} frames (batch 1, 80 mels); the same array goes to TF and TFLite. "
        "Weight norm folded (`remove_weight_norm()`). RTF = best wall-clock seconds of one call / seconds of audio "
        "produced. Timing: after one warm-up call of each, all variants of a preset (TF, XLA, TFLite and the "
        "variants of the investigation below) are called in interleaved rounds, each round ending with "
        "`matmul_peak_gflops(n=1024, repeats=2)`; best of 3-10 rounds (about "
        f"{args.budget:.0f} s per preset). Interleaving gives every variant and the peak the same machine load.",
        "`% peak` = achieved GFLOP/s (2 x conv/dense MACs of the call / seconds) / `peak GFLOP/s`, the best float32 "
        "matmul throughput of the same rounds. MACs from `conv_macs_per_second_of_audio` (PQMF synthesis not "
        "counted). For the record, `matmul_peak_gflops` (n=2048 best of 6 / n=1024 best of 20) at the start, after "
        "the presets and at the end: " + ", ".join(f"{a:.0f} / {b:.0f}" for a, b in peaks) + " GFLOP/s.",
        "TF: `tf.function(model(mel, training=False))` (XLA off) and the same with `jit_compile=True` (XLA), "
        "`model = remove_weight_norm()` (plain Keras `Conv1D` / `Conv1DTranspose`). "
        "TFLite: `export_tflite(model, path, endpoint=\"synthesize\")` (float32, builtin ops) run through "
        "`tflite_interpreter(path, num_threads=2)` (XNNPACK default delegate) and its `synthesize` signature runner "
        "(input length dynamic, as exported); the endpoint exports `remove_weight_norm(export_layers=True)`: "
        "`PhaseConv1DTranspose`, `DilatedConv1D` and `ReflectionPad1D` as concatenated slices "
        "(`audiogen_tf/layers/conv.py`).",
        f"Targets: HiFi-GAN V1 >= {PEAK_TARGET:.0%} of peak in TF and in TFLite; every preset TFLite time <= "
        f"{TFLITE_SLOWDOWN:.2f} x TF time.",
        f"**Load**: load average {fmt(load_start)} at the start, {fmt(load_end)} at the end, on {os.cpu_count()} "
        "cores shared with other jobs (a training run was going on): absolute numbers are noisy and low. "
        f"Re-run on a quiet machine. Whole run: {elapsed:.0f} s.",
        "",
        "Per preset: parity (max |difference| to the TF output, float32), conversion, XNNPACK delegate partitions "
        "(`_get_ops_details()`: DELEGATE nodes / all nodes), MAC split:",
        "",
    ]
    for preset, n in extra.items():
        kinds = ", ".join(f"{k} {100 * v:.0f}%" for k, v in sorted(n["kinds"].items(), key=lambda kv: -kv[1]))
        notes.append(f"- {preset}: " + "; ".join(n["parity"]) + f"; MACs: {kinds}.")
    if alt_rows:
        notes += [
            "",
            "## Export layers and export variants of each preset",
            "",
            "Same input, same weights, outputs equal to float32 round-off (diffs above), timed in the same rounds as "
            "the main table. `TF export layers`: `remove_weight_norm(export_layers=True)` in TF (every \"same\" "
            "`Conv1DTranspose` (kernel k, stride s) as `PhaseConv1DTranspose`: one conv over the input zero-padded by "
            "T - 1 = ceil(k/s) - 1 with T taps and s x filters outputs (tap j of phase r = W[(T-1-j) s + r]), a "
            "reshape that interleaves the s phases (sub-pixel / depth-to-space) and a crop starting at (k - s) // 2; "
            "every dilated `Conv1D` as `DilatedConv1D` (`tf.nn.conv1d(dilations=d)`)). `TFLite` is the main table's "
            "export (these layers, dynamic length). `TFLite fixed`: the same layers exported with the input fixed to "
            f"(1, {args.frames}, 80). `TFLite Keras layers`: the plain Keras-layer model exported as it was before "
            "the export layers existed (`TRANSPOSE_CONV`, dilated convs through SpaceToBatchND / BatchToSpaceND); "
            "its reflection padding is the library's concat form already (`ReflectionPad1D` computes it that way "
            "for every model now), so the `MIRROR_PAD` cost shows only in the layer table and in the previous run "
            "(before / after below). `best`: the fastest TF / TFLite variant.",
            "",
            bu.markdown_table(alt_rows).rstrip("\n"),
        ]
    if layer_rows:
        notes += [
            "",
            "## Layers at HiFi-GAN V1 shapes",
            "",
            "Single layers at batch 1, float32, fixed shapes; each formulation is exactly equivalent to the first one "
            "of its layer (`max diff` = max |difference| of the outputs; the undilated conv is only a cost reference "
            "with the same MACs). TFLite: the same tf.function converted with `from_concrete_functions`, XNNPACK, "
            "2 threads; for the transposed conv also without any delegate (builtin kernels). All formulations of a "
            "layer, in TF and TFLite, are timed in interleaved rounds with the matmul peak (`peak GFLOP/s`).",
            "",
            bu.markdown_table(layer_rows).rstrip("\n"),
        ]
    ba = before_after(rows)
    if ba:
        notes += [
            "",
            "## Before / after the export layers",
            "",
            "`before`: the previous run of this script (2026-11-25 06:56 UTC, load average ~14) when the export "
            "was the plain Keras-layer model (`MIRROR_PAD`, `TRANSPOSE_CONV`, space-to-batch dilated convs); `now`: "
            "this run. Different runs on a loaded shared machine: compare ratios, not absolute times. The TF model "
            "of HiFi-GAN is the same in both runs, so its change of `% peak` is the machine load (and the peak "
            "measured in the rounds), not the library change; MelGAN's TF model differs only by `ReflectionPad1D` "
            "(concat form, faster in TF too). The same-run comparison of the change is `Keras-layers TFLite / TF "
            "time` in the export table above (without the `MIRROR_PAD` part).",
            "",
            bu.markdown_table(ba).rstrip("\n"),
        ]
    notes += ["", "## Findings", ""] + findings(rows, alt_rows, layer_rows) + ["", "## Mechanisms", ""] + MECHANISMS
    text = bu.write_markdown_table(
        args.out, rows, "GAN vocoder speed (batch 1, CPU)",
        "TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/vocoder_speed.py" + (" " + " ".join(argv or sys.argv[1:])).rstrip(),
        notes=notes, peak_gflops=max([max(p) for p in peaks] + [r["peak GFLOP/s"] for r in rows + layer_rows]),
    )
    print(text)
    print(f"wrote {args.out} in {elapsed:.0f} s")


MECHANISMS = [
    "Checked in the op lists and the layer table (they hold across runs; whole-model timings under heavy load "
    "vary by up to 2x between runs, so a difference of less than ~1.5x between two whole-model cells is not a "
    "finding on a shared machine):",
    "",
    "- **TFLite `MIRROR_PAD`** (Keras `ReflectionPad1D`, `ops.pad(mode=\"reflect\")`, used by MelGAN and "
    "Multi-band MelGAN before every residual-block conv and around the input/output convs) has no XNNPACK kernel: "
    "each one splits the delegated graph and runs the builtin kernel, which is ~10-40x slower than the same padding "
    "written as `concat([flip(x[:, 1:p+1]), x, flip(x[:, -p-1:-1])], axis=1)` (STRIDED_SLICE + REVERSE_V2 + "
    "CONCATENATION, bit-identical output). It was the main reason MelGAN's TFLite run was several times slower "
    "than TF; `ReflectionPad1D` now computes the concat form (for training and export alike).",
    "- **TFLite `TRANSPOSE_CONV`** (Keras `Conv1DTranspose`) runs far below the conv speed in XNNPACK and in the "
    "builtin kernel. The exactly equivalent polyphase form -- y_full[q s + r] = sum_j x[q + j - (T - 1)] . "
    "W[(T - 1 - j) s + r], i.e. one stride-1 conv with T = ceil(k/s) taps and s x filters outputs over the input "
    "zero-padded by T - 1 on both sides, a reshape (1, L + T - 1, s * F) -> (1, (L + T - 1) s, F) and the crop "
    "[(k - s) // 2 : (k - s) // 2 + L s] (TF \"same\"), bias added after -- is a plain CONV_2D that XNNPACK runs at "
    "conv speed (outputs equal to ~2e-6, float32 summation order). In TF, `Conv2DBackpropInput` and the polyphase "
    "conv are about equally fast (mixed results across runs; the polyphase form won by up to ~2x only at the short, "
    "wide first stage, 86 x 512 k16 s8, <1% of V1's MACs): the polyphase form is a TFLite fix. It is the "
    "library's `PhaseConv1DTranspose` (kernel stored as (T, in, s x filters), crop with constant slice bounds so "
    "the dynamic-length export keeps a constant-shape RESHAPE and STRIDED_SLICE), built by "
    "`remove_weight_norm(export_layers=True)` and used by `export_endpoints()`.",
    "- **Dynamic input length** (`synthesize` takes (1, None, 80)): Keras' dilated `Conv1D` goes through "
    "`tf.nn.convolution`, which on CPU wraps the conv in SpaceToBatchND / BatchToSpaceND; with a dynamic length "
    "their paddings are computed at run time (SHAPE, FLOOR_MOD, PACK, ... in the graph), so the converter cannot "
    "fold them into a dilated CONV_2D and XNNPACK cannot take them: the HiFi-GAN graphs split into 17-42 delegate "
    "partitions. With a fixed length the same model is one XNNPACK partition (see `delegate node(s)` above). "
    "`tf.nn.conv1d(..., dilations=d)` (the Conv2D op with its own dilation attribute) converts to one dilated "
    "CONV_2D even with a dynamic length and runs at the same speed in TF (layer table); the library's "
    "`DilatedConv1D` (a `Conv1D` subclass, same weights) calls it, and `keras.ops.conv` does not (it is "
    "`tf.nn.convolution`, the space-to-batch path). V3 (79% of MACs in dilated convs) gains most.",
    "- **Partitions left with a dynamic length**: with the export layers the dynamic `synthesize` graph has no "
    "SpaceToBatchND, TRANSPOSE_CONV or MIRROR_PAD left, but XNNPACK still leaves some elementwise ops between the "
    "convs (LEAKY_RELU, PAD, MUL of the MRF mean; checked on small graphs: conv -> LEAKY_RELU -> conv is 2 "
    "partitions with a dynamic length, 1 with a fixed one) to the builtin kernels, hence the remaining delegate "
    "node counts above; the fixed-length export of the same layers is one partition. The `TFLite fixed` column "
    "shows what that is worth.",
    "- **Dilation itself is not a cost** in either runtime: a dilated conv runs about as fast as the undilated conv "
    "with the same MACs (layer table); the per-tap matmul formulation is slower in TFLite and mixed in TF.",
    "- **XLA** (`jit_compile=True`) does not beat the default TF graph for these conv stacks on CPU.",
    "- **The peak**: `matmul_peak_gflops(n=2048)` is the lowest of the measurements here; n=1024 matmuls and the "
    "HiFi-GAN-sized convs themselves reach well above it in quiet moments, so `% peak` depends strongly on which "
    "peak is used and on the load at the moment of measuring; this script compares every call with the best "
    "matmul of the same interleaved rounds.",
]


# The previous run (2026-11-25 06:56 UTC, load average ~14, same script) before the library had the export
# layers: TF % peak, TFLite % peak, TFLite / TF time of each preset (TFLite then exported MIRROR_PAD,
# TRANSPOSE_CONV and space-to-batch dilated convs).
BEFORE = {
    "hifigan_v1": (47.86, 23.06, 2.075),
    "hifigan_v2": (57.69, 50.01, 1.154),
    "hifigan_v3": (68.15, 48.65, 1.401),
    "hifigan_tiny": (4.961, 8.396, 0.591),
    "melgan": (27.86, 5.809, 4.797),
    "melgan_tiny": (3.763, 2.326, 1.618),
    "multiband_melgan": (43.63, 7.617, 5.728),
    "multiband_melgan_tiny": (2.608, 0.9252, 2.819),
}


def before_after(rows) -> list[dict]:
    """Rows comparing :data:`BEFORE` with this run's main table (different runs: load differs)."""
    out = []
    for r in rows:
        b = BEFORE.get(r["preset"])
        if b is None or "TFLite / TF time" not in r:
            continue
        out.append({"preset": r["preset"], "TF % peak before": b[0], "TF % peak now": r["TF % peak"],
                    "TFLite % peak before": b[1], "TFLite % peak now": r["TFLite % peak"],
                    "TFLite / TF before": b[2], "TFLite / TF now": r["TFLite / TF time"]})
    return out


def _get(rows, **match):
    for r in rows:
        if all(r.get(k) == v for k, v in match.items()):
            return r
    return None


def findings(rows, alt_rows, layer_rows) -> list[str]:
    """Sentences computed from this run's numbers (so a re-run keeps them true)."""
    out = []
    v1 = _get(rows, preset="hifigan_v1")
    if v1:
        out.append(
            f"- HiFi-GAN V1 reaches {v1['TF % peak']:.0f}% of the matmul peak in TF"
            + (f", {v1['XLA % peak']:.0f}% with XLA" if isinstance(v1.get("XLA % peak"), float) else "")
            + (f", {v1['TFLite % peak']:.0f}% in TFLite" if "TFLite % peak" in v1 else "")
            + " (target 80%)."
        )
    met = [r["preset"] for r in rows if str(r.get("target met", "")).startswith("yes")]
    out.append(f"- Presets meeting their targets in this run: {', '.join(met) or 'none'} of {len(rows)}.")
    slow = [f"{r['preset']} ({r['TFLite / TF time']:.2f}x)" for r in rows
            if isinstance(r.get("TFLite / TF time"), float) and r["TFLite / TF time"] > TFLITE_SLOWDOWN]
    if slow:
        out.append(f"- TFLite slower than TF by more than 15%: {', '.join(slow)}.")
    for r in alt_rows:
        main = _get(rows, preset=r["preset"])
        before = BEFORE.get(r["preset"])
        out.append(
            f"- {r['preset']}: TFLite / TF time {main['TFLite / TF time']:.2f} as exported"
            + (f" (previous run, before the export layers: {before[2]:.2f})" if before else "")
            + f"; Keras layers exported in this run {r['Keras-layers TFLite / TF time']:.2f}; "
            f"export layers + fixed length {r['TFLite fixed RTF'] / r['TF RTF']:.2f}; export layers in TF "
            f"{r['TF export layers RTF'] / r['TF RTF']:.2f}x the TF time; "
            f"TFLite / best TF {r['TFLite / best TF time']:.2f}; "
            f"best TF {r['best TF % peak']:.0f}% / best TFLite {r['best TFLite % peak']:.0f}% of peak."
        )
    by_layer = {}
    for r in layer_rows:
        by_layer.setdefault(r["layer"], []).append(r)
    for layer, rs in by_layer.items():
        base = rs[0]
        alts = []
        for r in rs[1:]:
            if isinstance(r.get("TF ms"), float):
                alts.append(f"{r['formulation']} {base['TF ms'] / r['TF ms']:.2f}x in TF"
                            + (f", {base['TFLite ms'] / r['TFLite ms']:.2f}x in TFLite"
                               if isinstance(r.get("TFLite ms"), float) and isinstance(base.get("TFLite ms"), float)
                               else ""))
        if isinstance(base.get("TF % peak"), float):
            where = f"{base['TF % peak']:.0f}% peak in TF" + (
                f", {base['TFLite % peak']:.0f}% in TFLite" if isinstance(base.get("TFLite % peak"), float) else "")
        else:
            where = f"{base['TF ms']:.2f} ms in TF" + (
                f", {base['TFLite ms']:.2f} ms in TFLite" if isinstance(base.get("TFLite ms"), float) else "")
        out.append(f"- {layer}: {base['formulation']} at {where}"
                   + "; speed-up of " + "; ".join(alts) + " (>1 = faster than the first formulation).")
    return out


if __name__ == "__main__":
    main()
