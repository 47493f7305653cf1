"""FrameRNN and WaveRNN on the built-in notes: held-out quality against simple baselines, and generation speed.

1. FrameRNN (``frame_rnn_tiny`` + timbre class conditioning) trains with teacher forcing (L1 on the next log-mel
   frame) for a wall-clock budget; its held-out L1 is compared with copying the last frame.
2. WaveRNN (``wavernn_tiny``, 8-bit mu-law, mel-conditioned) trains with teacher forcing; held-out bits per
   sample are compared with the untrained model and the entropy of the held-out mu-law histogram.
3. Generation speed, batch 1: the Keras ``generate()`` (whole loop in one ``tf.function``) against a Python loop over
   the exported builtin-ops TFLite ``step`` signature, and real time (frames or samples per second of audio).

Writes ``benchmarks/results/rnn_generators.md``.

Usage:
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/rnn_generators.py [--frame-minutes 2] [--wave-minutes 3] [--quick]
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

from audiogen_tf import audio as audio_io  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_utils.py sits beside this script
import bench_utils as bu  # noqa: E402
from audiogen_tf.datasets.notes import make_notes  # noqa: E402
from audiogen_tf.features import MelConfig  # noqa: E402
from audiogen_tf.manifest import read_manifest  # noqa: E402
from tflite_export.export import contains_flex_ops, export_tflite  # noqa: E402
from tflite_export.runtime import TFLiteRunner  # noqa: E402
from zoo.rnn import FrameRNN, WaveRNN, copy_last_frame_loss, frame_pairs, wavernn_pairs  # noqa: E402
from zoo.rnn.rnn_presets import NOTES_MEL  # noqa: E402
from training.callbacks import TimeBudget  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "rnn_generators.md")
SR, HOP, Q = 16000, 128, 256
PITCHES = range(48, 73, 2)


def entropy_bits(counts) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def load_notes(data_dir, quick):
    manifest = make_notes(data_dir, sample_rate=SR, seconds=1.0, pitches=PITCHES, progress=False)
    entries = read_manifest(manifest)
    if quick:
        entries = entries[::4]
    cfg = MelConfig.from_dict(NOTES_MEL)
    audio = np.stack([audio_io.load(e["path"], sr=SR)[0].astype("float32") for e in entries])
    mel = np.asarray(cfg.log_mel(audio), "float32")  # (N, 1 + len // hop, 40), frame i centred on sample i * hop
    timbres = sorted({e["timbre"] for e in entries})
    labels = np.array([timbres.index(e["timbre"]) for e in entries], "int32")
    train = np.array([e["split"] == "train" for e in entries])
    return audio, mel, labels, train, timbres


# ------------------------------------------------------------------------------- FrameRNN
def frame_quality(mel, labels, train, timbres, minutes, batch_size=16):
    keras.utils.set_random_seed(0)
    model = FrameRNN.from_preset("frame_rnn_tiny", num_classes=len(timbres))
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0), loss="mae")
    x_tr, y_tr = frame_pairs(mel[train])
    x_ho, y_ho = frame_pairs(mel[~train])
    feats_tr = {"frames": x_tr, "class_id": labels[train]}
    feats_ho = {"frames": x_ho, "class_id": labels[~train]}
    before = float(model.evaluate(feats_ho, y_ho, batch_size=64, verbose=0))
    start = time.perf_counter()
    model.fit(feats_tr, y_tr, batch_size=batch_size, epochs=100000, shuffle=True, verbose=0,
              callbacks=[TimeBudget(minutes * 60.0)])
    seconds = time.perf_counter() - start
    after = float(model.evaluate(feats_ho, y_ho, batch_size=64, verbose=0))
    return model, {
        "model": "FrameRNN (frame_rnn_tiny, 2 x 64 LSTM, timbre embedding)",
        "params": model.count_params(),
        "train_items": int(train.sum()),
        "held_out_items": int((~train).sum()),
        "steps": int(model.optimizer.iterations.numpy()),
        "train_seconds": seconds,
        "baseline_copy_last": copy_last_frame_loss(mel[~train], "l1"),
        "before": before,
        "after": after,
    }


# ------------------------------------------------------------------------------- WaveRNN
def wave_batches(audio, mel, batch_size, frames, rng):
    """Random aligned segments: audio from sample ``k * hop``, mel frames ``k .. k + frames - 1``."""
    n, max_k = audio.shape[0], (audio.shape[1] - frames * HOP) // HOP
    while True:
        idx = rng.integers(0, n, batch_size)
        ks = rng.integers(0, max_k + 1, batch_size)
        a = np.stack([audio[i, k * HOP : (k + frames) * HOP] for i, k in zip(idx, ks)])
        m = np.stack([mel[i, k : k + frames] for i, k in zip(idx, ks)])
        x, y = wavernn_pairs(a, m)
        yield {k: np.asarray(v) for k, v in x.items()}, np.asarray(y)


def held_out_bits(model, audio, mel, frames):
    """Bits per sample over fixed held-out segments (from sample ``2 * hop``), teacher-forced from silence."""
    a = audio[:, 2 * HOP : (2 + frames) * HOP]
    x, y = wavernn_pairs(a, mel[:, 2 : 2 + frames])
    x = {k: np.asarray(v) for k, v in x.items()}
    logits = model.predict(x, batch_size=a.shape[0], verbose=0)  # compiled; an eager call steps the RNN in Python
    return model.bits_per_sample(np.asarray(y), logits)


def wave_quality(audio, mel, train, minutes, batch_size=16, frames=4, eval_frames=48, max_eval=24):
    keras.utils.set_random_seed(0)
    model = WaveRNN.from_preset("wavernn_tiny", rnn_units=128, fc_units=128, cond_channels=32)
    model.compile(optimizer=keras.optimizers.Adam(2e-3, clipnorm=1.0), loss=model.default_loss())
    ho_audio, ho_mel = audio[~train][:max_eval], mel[~train][:max_eval]
    ho_ids = audio_io.mu_law_encode(ho_audio[:, 2 * HOP : (2 + eval_frames) * HOP], 8).ravel()
    tr_ids = audio_io.mu_law_encode(audio[train], 8).ravel()
    ho_hist = np.bincount(ho_ids, minlength=Q).astype(np.float64)
    p_tr = (np.bincount(tr_ids, minlength=Q) + 1.0) / (tr_ids.size + Q)
    before = held_out_bits(model, ho_audio, ho_mel, eval_frames)
    gen = wave_batches(audio[train], mel[train], batch_size, frames, np.random.default_rng(0))
    start = time.perf_counter()
    model.fit(gen, steps_per_epoch=20, epochs=100000, verbose=0, callbacks=[TimeBudget(minutes * 60.0)])
    seconds = time.perf_counter() - start
    after = held_out_bits(model, ho_audio, ho_mel, eval_frames)
    return model, {
        "model": "WaveRNN (wavernn_tiny, rnn_units=128, fc_units=128, cond_channels=32; 8-bit mu-law)",
        "params": model.count_params(),
        "held_out_items": int(ho_audio.shape[0]),
        "held_out_samples": int(ho_ids.size),
        "steps": int(model.optimizer.iterations.numpy()),
        "train_seconds": seconds,
        "histogram_entropy": entropy_bits(ho_hist),
        "unigram_xent": float(-(ho_hist * np.log2(p_tr)).sum() / ho_hist.sum()),
        "before": before,
        "after": after,
    }


# ------------------------------------------------------------------------------- speed
def _export_step(model, tmp):
    path = export_tflite(model, os.path.join(tmp, f"{model.name}_step.tflite"), endpoint="step")
    assert not contains_flex_ops(path)
    return TFLiteRunner(path, num_threads=1)


def frame_speed(model, label, n_frames, tmp, class_id=None):
    priming = np.full((1, 1, model.n_mels), model.silence_value, "float32")
    cid = None if class_id is None else np.array([class_id], "int32")
    t_keras = bu.time_call(model.generate, n_frames, priming=priming, class_id=cid, repeats=2, warmup=1).best
    runner = _export_step(model, tmp)
    shapes = model.state_shapes(1)
    frame, states = priming[:, 0], [np.zeros(s, "float32") for s in shapes]
    start = time.perf_counter()
    for _ in range(n_frames):
        feed = {"frame": frame, **{f"state_{i}": s for i, s in enumerate(states)}}
        if cid is not None:
            feed["class_id"] = cid
        out = runner.run(feed, signature="step")
        frame, states = out["output_0"], [out[f"output_{1 + i}"] for i in range(len(shapes))]
    t_lite = time.perf_counter() - start
    want = model.generate(n_frames, priming=priming, class_id=cid).numpy()[0, -1]
    real = model.get_mel_config().sample_rate / model.get_mel_config().hop_length
    return {
        "model": label, "unit": "frames", "params": model.count_params(), "generated": n_frames,
        "keras tf.function /s": n_frames / t_keras, "tflite step loop /s": n_frames / t_lite, "real time /s": real,
        "keras x real time": n_frames / t_keras / real, "tflite x real time": n_frames / t_lite / real,
        "tflite == keras (max abs)": float(np.max(np.abs(frame[0] - want))),
    }


def wave_speed(model, label, n_samples, tmp, sample_rate):
    frames = -(-n_samples // model.hop_length)
    mel = np.random.default_rng(0).normal(-5, 2, (1, frames, model.n_mels)).astype("float32")
    t_keras = bu.time_call(model.generate, mel, num_samples=n_samples, seed=1, repeats=2, warmup=1).best
    runner = _export_step(model, tmp)
    cond = np.asarray(model.condition(mel))
    noise = [model.draw_noise_t(t, 1, seed=1).numpy() for t in range(n_samples)]
    x, states = np.array([model.silence_id], "int32"), [np.zeros(s, "float32") for s in model.state_shapes(1)]
    got = []
    start = time.perf_counter()
    for t in range(n_samples):
        feed = {"x_prev": x, "cond_t": cond[:, t], "noise": noise[t], **{f"state_{i}": s for i, s in enumerate(states)}}
        out = runner.run(feed, signature="step")
        x, states = out["output_0"], [out[f"output_{2 + i}"] for i in range(len(states))]
        got.append(int(x[0]))
    t_lite = time.perf_counter() - start
    want = model.generate(mel, num_samples=n_samples, seed=1).numpy()[0]
    return {
        "model": label, "unit": "samples", "params": model.count_params(), "generated": n_samples,
        "keras tf.function /s": n_samples / t_keras, "tflite step loop /s": n_samples / t_lite,
        "real time /s": sample_rate, "keras x real time": n_samples / t_keras / sample_rate,
        "tflite x real time": n_samples / t_lite / sample_rate,
        "tflite == keras (max abs)": float(np.mean(np.asarray(got) != want)),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frame-minutes", type=float, default=1.5)
    parser.add_argument("--wave-minutes", type=float, default=4.0)
    parser.add_argument("--quick", action="store_true", help="a quarter of the notes, short runs (smoke test)")
    parser.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(), "audiogen_notes_16k_rnn"))
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    audio, mel, labels, train, timbres = load_notes(args.data_dir, args.quick)
    frame_model, fq = frame_quality(mel, labels, train, timbres, args.frame_minutes)
    print(fq, flush=True)
    wave_model, wq = wave_quality(audio, mel, train, args.wave_minutes)
    print(wq, flush=True)
    n_frames, n_samples, n_full = (50, 300, 64) if args.quick else (200, 1000, 128)
    speed = []
    full_mel = {**NOTES_MEL, "n_mels": 80, "sample_rate": 22050, "hop_length": 256, "n_fft": 1024, "win_length": 1024}
    jobs = [
        ("FrameRNN trained (tiny)", lambda tmp: frame_speed(frame_model, "FrameRNN trained (tiny)", n_frames, tmp, 0)),
        ("FrameRNN frame_rnn_full (untrained)", lambda tmp: frame_speed(
            FrameRNN.from_preset("frame_rnn_full", mel_config=full_mel), "FrameRNN frame_rnn_full (untrained)",
            n_frames // 5, tmp)),
        ("WaveRNN trained (tiny, 128 units)", lambda tmp: wave_speed(
            wave_model, "WaveRNN trained (tiny, 128 units)", n_samples, tmp, SR)),
        ("WaveRNN wavernn_full (896 units, coarse/fine; untrained)", lambda tmp: wave_speed(
            WaveRNN.from_preset("wavernn_full"), "WaveRNN wavernn_full (896 units, coarse/fine; untrained)", n_full,
            tmp, 22050)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for label, job in jobs:
            keras.utils.set_random_seed(0)
            try:
                speed.append(job(tmp))
            except Exception as e:  # keep the quality results even if one speed row fails
                speed.append({"model": label, "error": f"{type(e).__name__}: {str(e)[:200]}"})
    for r in speed:
        print(r, flush=True)
    frame_ok = fq["after"] < fq["baseline_copy_last"]
    wave_ok = wq["after"] < wq["histogram_entropy"] and wq["after"] < wq["before"]
    rows = [
        {"model": fq["model"], "metric": "held-out L1 on next log-mel frame (nats)", "trained": fq["after"],
         "untrained": fq["before"], "baseline": fq["baseline_copy_last"], "baseline is": "copy the last frame",
         "beats baseline": frame_ok},
        {"model": wq["model"], "metric": "held-out bits per sample", "trained": wq["after"], "untrained": wq["before"],
         "baseline": wq["histogram_entropy"], "baseline is": "entropy of the held-out mu-law histogram",
         "beats baseline": wave_ok},
    ]
    total = time.perf_counter() - t0
    from bench_utils import markdown_table

    notes = [
        f"Data: make_notes(sample_rate={SR}, seconds=1.0, pitches={PITCHES.start}..{PITCHES.stop - 1} step 2, 7 timbres, "
        f"2 variations){' (quick: every 4th note)' if args.quick else ''}; manifest split: train vs valid + test held out. "
        f"Log-mel: 40 bands, n_fft 512, hop {HOP} (125 frames/s), natural log with floor 1e-5.",
        f"FrameRNN: {fq['params']} params, {fq['steps']} Adam steps (lr 1e-3, batch 16 whole notes of 125 frame pairs) "
        f"in {fq['train_seconds']:.0f} s; {fq['train_items']} training / {fq['held_out_items']} held-out notes. "
        "The untrained model equals the baseline because its residual output layer starts at zero.",
        f"WaveRNN: {wq['params']} params, {wq['steps']} Adam steps (lr 2e-3, batch 16 x 512-sample segments with their "
        f"4 mel frames) in {wq['train_seconds']:.0f} s; evaluated teacher-forced on {wq['held_out_items']} held-out notes "
        f"x 6144 samples ({wq['held_out_samples']} samples). Held-out cross-entropy under the training "
        f"mu-law histogram: {wq['unigram_xent']:.3f} bits; uniform: 8 bits.",
        "",
        "### Generation speed (batch 1, CPU, float32)",
        "",
        markdown_table(speed).rstrip("\n"),
        "",
        "keras tf.function: the model's generate() (the whole autoregressive loop in one tf.function, tf.while_loop). "
        "tflite step loop: a Python loop calling the exported builtin-ops 'step' signature (explicit state in and out, "
        "static shapes, no Flex ops) with ai_edge_litert (1 thread), including the per-call Python overhead. "
        "The last column checks the TFLite loop against generate(): max abs difference of the last generated frame "
        "(frames), fraction of differing sampled ids (samples, same per-sample noise). Full presets run with random "
        "weights (speed only); their real-time rate is that of their own mel config (22.05 kHz, hop 256).",
        "The machine is shared with other jobs (see the load average), so absolute speeds are noisy.",
        f"Total runtime of the script: {total / 60:.1f} min.",
    ]
    cmd = "TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/rnn_generators.py"
    if args.quick:
        cmd += " --quick"
    elif (args.frame_minutes, args.wave_minutes) != (1.5, 4.0):
        cmd += f" --frame-minutes {args.frame_minutes} --wave-minutes {args.wave_minutes}"
    bu.write_markdown_table(args.out, rows, "FrameRNN and WaveRNN on the built-in notes", cmd, notes=notes)
    print(open(args.out).read())
    return 0 if frame_ok and wave_ok else 1


if __name__ == "__main__":
    sys.exit(main())
