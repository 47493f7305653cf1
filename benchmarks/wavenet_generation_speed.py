"""Samples per second of naive vs cached (queue) WaveNet generation at several depths.

For 1, 2 and 3 dilation cycles of 10 layers (receptive fields 1025, 2048, 3071 samples; 32 residual /
32 dilation / 64 skip channels, 256-way softmax, batch 1) both generators run their whole sampling loop in one
``tf.function``: the naive one runs the full network over the last receptive field of samples for each new
sample (Paine et al. 2016's baseline), the cached one steps every layer once with its activation queue
(Paine et al. 2016, "Fast Wavenet Generation Algorithm"). Both use the same pre-drawn noise, and the
benchmark checks that their common samples are identical. Writes ``benchmarks/results/wavenet_generation_speed.md``.

Usage:
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/wavenet_generation_speed.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_utils.py sits beside this script
import bench_utils as bu  # noqa: E402
from zoo.wavenet import WaveNet, wavenet_generation  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "wavenet_generation_speed.md")
WIDTHS = {"residual_channels": 32, "dilation_channels": 32, "skip_channels": 64}


def measure(num_cycles: int, naive_samples: int, cached_samples: int, repeats: int) -> dict:
    model = WaveNet(layers_per_cycle=10, num_cycles=num_cycles, **WIDTHS)
    noise = wavenet_generation.draw_noise(model, cached_samples, batch_size=1, seed=0)
    naive = bu.time_call(model.generate, noise=noise[:, :naive_samples], method="naive", repeats=repeats, warmup=1)
    cached = bu.time_call(model.generate, noise=noise, method="cached", repeats=repeats, warmup=1)
    a = model.generate(noise=noise[:, :naive_samples], method="naive").numpy()
    b = model.generate(noise=noise, method="cached").numpy()[:, :naive_samples]
    naive_sps = naive_samples / naive.best
    cached_sps = cached_samples / cached.best
    return {
        "cycles x layers": f"{num_cycles} x 10",
        "receptive field": model.receptive_field,
        "params": model.count_params(),
        "naive samples/s": naive_sps,
        "cached samples/s": cached_sps,
        "speedup": cached_sps / naive_sps,
        "identical samples": bool(np.array_equal(a, b)),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (smoke run)")
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args(argv)
    naive_n, cached_n, repeats = (20, 200, 1) if args.quick else (100, 1000, 3)
    rows = []
    for cycles in (1, 2, 3):
        row = measure(cycles, naive_n, cached_n, repeats)
        print(row, flush=True)
        rows.append(row)
    speedups = [r["speedup"] for r in rows]
    grows = all(b > a for a, b in zip(speedups, speedups[1:]))
    notes = [
        f"Naive: {naive_n} samples per run; cached: {cached_n} samples per run; best of {repeats} runs after one "
        "warm-up (tracing) run; wall clock, batch 1, float32 on CPU.",
        "Both generators draw from the same uniform noise (Gumbel-max sampling); 'identical samples' compares "
        f"their first {naive_n} ids.",
        f"Speedup grows with the receptive field: {grows}.",
        "The machine is shared with other jobs, so absolute numbers are noisy; the ratio is what matters.",
    ]
    bu.write_markdown_table(args.out, rows, "WaveNet generation speed: naive vs cached (Paine et al. 2016)",
                            "TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/wavenet_generation_speed.py",
                            notes=notes)
    print(open(args.out).read())
    return 0 if grows and all(r["identical samples"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
