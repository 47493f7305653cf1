"""PyTorch import table: per architecture, max |diff| to the reference output in Keras and in TFLite, import time,
and the error messages of the refused cases; written to ``benchmarks/results/torch_import.md``.

Reads the checkpoints and reference outputs that ``tests/fixtures/torch_import/make_fixtures.py`` writes (the test
fixtures, and with ``--full DIR`` the paper-sized V1/V2/V3, MelGAN, Multi-band MelGAN and discriminators, made by
running the reference PyTorch code; tens of MB, not in the repository). No torch is needed here.

Run:
    python benchmarks/torch_import.py [--full /work/fixtures_build/full] [--out benchmarks/results/torch_import.md]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pickle
import sys
import tempfile
import time
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import yaml  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_utils.py sits beside this script
import bench_utils as bu  # noqa: E402
from audiogen_tf.torch_checkpoint import load_torch_checkpoint  # noqa: E402
from tflite_export.export import contains_flex_ops, export_tflite  # noqa: E402
from tflite_export.runtime import TFLiteRunner  # noqa: E402
from zoo.torch_import import import_checkpoint  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.relpath(os.path.join(HERE, "..", "tests", "fixtures", "torch_import"))


def _config(path):
    if path is None or not os.path.exists(path):
        return None
    with open(path) as f:
        return yaml.safe_load(f) if path.endswith(".yml") else json.load(f)


def vocos_row(folder, label, ckpt, config, ref, tmp):
    """A Vocos row: its (1, frames, 100) mel; the reference (centre padding) stops one hop before our output."""
    mel = np.load(os.path.join(os.path.dirname(FIX), "vocos_import", "vocos_mel.npy")).astype("float32")
    expected = np.load(os.path.join(folder, ref)).reshape(-1)
    model, info = import_checkpoint(os.path.join(folder, ckpt), "vocos", config=os.path.join(folder, config))
    n = expected.size
    keras_err = float(np.abs(np.asarray(model(mel)).reshape(-1)[:n] - expected).max())
    start = time.perf_counter()
    path = export_tflite(model, os.path.join(tmp, f"{label}.tflite"), endpoint="synthesize")
    export_s = time.perf_counter() - start
    out = np.asarray(next(iter(TFLiteRunner(path).run(mel, signature="synthesize").values()))).reshape(-1)[:n]
    return {"architecture": label, "--arch": "vocos", "checkpoint": ckpt,
            "parameters": f"{model.count_params() / 1e6:.3f} M",
            "max abs diff Keras": f"{keras_err:.1e}", "max abs diff TFLite": f"{float(np.abs(out - expected).max()):.1e}",
            "builtin ops only": "yes" if not contains_flex_ops(path) else "NO",
            "import s": round(info["seconds"], 2), "TFLite export s": round(export_s, 1)}


def generator_row(folder, label, ckpt, arch, config, ref, tmp):
    mel = np.load(os.path.join(folder, "mel.npy"))[None].astype("float32")
    expected = np.load(os.path.join(folder, ref))[None]
    cfg = _config(os.path.join(folder, config)) if config else None
    model, info = import_checkpoint(os.path.join(folder, ckpt), arch, config=cfg)
    keras_err = float(np.abs(np.asarray(model(mel)) - expected).max())
    start = time.perf_counter()
    path = export_tflite(model, os.path.join(tmp, f"{label}.tflite"), endpoint="synthesize")
    export_s = time.perf_counter() - start
    out = next(iter(TFLiteRunner(path).run(mel, signature="synthesize").values()))
    return {"architecture": label, "--arch": arch, "checkpoint": ckpt,
            "parameters": f"{model.count_params() / 1e6:.3f} M",
            "max abs diff Keras": f"{keras_err:.1e}", "max abs diff TFLite": f"{float(np.abs(out - expected).max()):.1e}",
            "builtin ops only": "yes" if not contains_flex_ops(path) else "NO",
            "import s": round(info["seconds"], 2), "TFLite export s": round(export_s, 1)}


def discriminator_row(folder, label, ckpt, outputs):
    model, info = import_checkpoint(os.path.join(folder, ckpt), "hifigan_discriminator")
    audio = np.load(os.path.join(folder, "disc_audio.npy"))[None]
    ref = np.load(os.path.join(folder, outputs))
    worst = 0.0
    for i, sub in enumerate(model(audio)):
        for j, fmap in enumerate(sub):
            fmap, expected = np.asarray(fmap), ref[f"d{i}_fmap{j}"]
            if fmap.ndim == 4:
                fmap = fmap.transpose(0, 3, 1, 2)
            elif j == len(sub) - 1 and i < 5:
                fmap, expected = fmap[..., 0], ref[f"d{i}_score"]
            else:
                fmap = fmap.transpose(0, 2, 1)
            worst = max(worst, float(np.abs(fmap - expected).max()))
    return {"architecture": label, "--arch": "hifigan_discriminator", "checkpoint": ckpt,
            "parameters": f"{model.count_params() / 1e6:.3f} M", "max abs diff Keras": f"{worst:.1e}",
            "max abs diff TFLite": "(not exported: training only)", "builtin ops only": "",
            "import s": round(info["seconds"], 2), "TFLite export s": None}


def error_cases(tmp):
    """(case, message) of the refusals: malicious pickle, wrong arch, missing / extra / misshapen keys."""
    from zoo.hifigan.hifigan_torch_import import import_hifigan_generator

    class Exploit:
        def __reduce__(self):
            return (os.system, ("touch /tmp/pwned_by_checkpoint",))

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"generator": Exploit()}, protocol=2))
    evil = os.path.join(tmp, "evil.pt")
    with open(evil, "wb") as f:
        f.write(buf.getvalue())
    cases = [("a pickle whose __reduce__ calls os.system", lambda: import_checkpoint(evil, "hifigan_v1")),
             ("a tiny ResBlock2 generator with --arch hifigan_v3",
              lambda: import_checkpoint(os.path.join(FIX, "g_hifigan_tiny_rb2"), "hifigan_v3")),
             ("a ParallelWaveGAN MelGAN with --arch hifigan_v1",
              lambda: import_checkpoint(os.path.join(FIX, "melgan_tiny.pkl"), "hifigan_v1")),
             ("a Multi-band MelGAN with --arch melgan",
              lambda: import_checkpoint(os.path.join(FIX, "multiband_melgan_tiny.pkl"), "melgan")),
             ("an unknown --arch", lambda: import_checkpoint(os.path.join(FIX, "g_hifigan_tiny_rb2"), "univnet"))]
    state = dict(load_torch_checkpoint(os.path.join(FIX, "g_hifigan_tiny_rb1"))["generator"])
    del state["ups.1.weight_g"], state["ups.1.weight_v"]
    state["extra.weight"] = np.zeros(3, "float32")
    state["conv_post.bias"] = np.zeros(2, "float32")
    config = _config(os.path.join(FIX, "hifigan_tiny_rb1_config.json"))
    cases.append(("a state dict with ups.1 deleted, an extra key and a wrong conv_post.bias",
                  lambda: import_hifigan_generator(state, arch="hifigan", config=config, source="g_edited")))
    out = []
    for name, fn in cases:
        try:
            fn()
            out.append((name, "(no error!)"))
        except Exception as e:  # noqa: BLE001 - the message is what we show
            out.append((name, f"{type(e).__name__}: {e}"))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", default=None, help="folder of paper-sized checkpoints from make_fixtures.py --full")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "torch_import.md"))
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        specs = [(FIX, "HiFi-GAN tiny ResBlock1 (legacy format)", "g_hifigan_tiny_rb1", "hifigan",
                  "hifigan_tiny_rb1_config.json", "hifigan_tiny_rb1_audio.npy"),
                 (FIX, "HiFi-GAN tiny ResBlock2 (parametrizations)", "g_hifigan_tiny_rb2", "hifigan",
                  "hifigan_tiny_rb2_config.json", "hifigan_tiny_rb2_audio.npy"),
                 (FIX, "MelGAN tiny (PWG, rates 5 4)", "melgan_tiny.pkl", "melgan", "melgan_tiny_config.yml",
                  "melgan_tiny_audio.npy"),
                 (FIX, "Multi-band MelGAN tiny (PWG)", "multiband_melgan_tiny.pkl", "multiband_melgan",
                  "multiband_melgan_tiny_config.yml", "multiband_melgan_tiny_audio.npy")]
        if args.full:
            specs += [(args.full, f"HiFi-GAN {v.upper()} (paper size)", f"g_hifigan_{v}", f"hifigan_{v}",
                       f"hifigan_{v}_config.json", f"hifigan_{v}_audio.npy") for v in ("v1", "v2", "v3")]
            specs += [(args.full, "MelGAN (PWG, paper size)", "melgan.pkl", "melgan", "melgan_config.yml",
                       "melgan_audio.npy"),
                      (args.full, "Multi-band MelGAN (PWG v2 size)", "multiband_melgan.pkl", "multiband_melgan",
                       "multiband_melgan_config.yml", "multiband_melgan_audio.npy")]
        for spec in specs:
            print("...", spec[1], flush=True)
            rows.append(generator_row(spec[0], spec[1], *spec[2:], tmp))
        vocos_fix = os.path.join(os.path.dirname(FIX), "vocos_import")
        rows.append(vocos_row(vocos_fix, "Vocos mel tiny (centre head)", "vocos_tiny.pt", "vocos_tiny_config.yaml",
                              "vocos_tiny_audio.npy", tmp))
        rows.append(vocos_row(vocos_fix, "Vocos mel tiny ('same' head)", "vocos_tiny_same.pt",
                              "vocos_tiny_same_config.yaml", "vocos_tiny_same_audio.npy", tmp))
        if args.full:
            rows.append(vocos_row(args.full, "Vocos mel (paper size, 24 kHz, 100 mels)", "vocos_mel.pt",
                                  "vocos_mel_config.yaml", "vocos_mel_audio.npy", tmp))
        rows.append(discriminator_row(FIX, "HiFi-GAN MPD + MSD, channels / 32", "do_hifigan_small",
                                      "do_hifigan_small_outputs.npz"))
        if args.full:
            rows.append(discriminator_row(args.full, "HiFi-GAN MPD + MSD (paper size)", "do_hifigan",
                                          "do_hifigan_outputs.npz"))
        errors = error_cases(tmp)
    notes = [
        "Reference outputs: the reference PyTorch code (jik876/hifi-gan, kan-bayashi/ParallelWaveGAN, gemelo-ai/vocos) "
        "run in eval mode on the same random-initialised weights and input (`tests/fixtures/torch_import/README.md`, "
        "`tests/fixtures/vocos_import/README.md`). Input: 24 mel frames (Vocos: 40 frames of 100 mels, compared on the "
        "reference's (frames - 1) x hop samples); discriminators: 1000 samples, max over every feature map and score.",
        "Import time: reading the checkpoint with the restricted unpickler (no torch), building the Keras model "
        "and copying the weights (weight norm folded for generators, kept for discriminators). TFLite: the "
        "existing `export_tflite(model, endpoint='synthesize')` path, dynamic length, run with ai_edge_litert. "
        "Times are wall seconds on the shared machine (see the load average above); most of an import is building "
        "the Keras graph.",
        "",
        "## Refused checkpoints and their messages",
        "",
    ]
    for name, message in errors:
        notes += [f"**{name}**", "", "```", message, "```", ""]
    command = "python benchmarks/torch_import.py" + (f" --full {args.full}" if args.full else "")
    bu.write_markdown_table(args.out, rows, "PyTorch checkpoint import: parity and time", command, notes=notes)
    print(bu.markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
