"""``audiogen demo``: the main job, end to end on the built-in notes, with nothing else to install.

Stages: build the dataset; resynthesize held-out notes through the feature round trip
(log-mel -> Griffin-Lim); train a small HiFi-GAN vocoder briefly with ``model.fit``; synthesize the
same notes with it; export it to TFLite and run it with ``ai_edge_litert``. Writes ``out/*.wav``,
spectrogram PNGs and a summary table of what was written and how long each stage took.
"""

from __future__ import annotations

import contextlib
import os
import time

import numpy as np

#: The demo's features: 16 kHz notes, hop 256 (the tiny HiFi-GAN upsamples 8 x 8 x 4).
DEMO_MEL = dict(sample_rate=16000, n_fft=1024, hop_length=256, win_length=1024, n_mels=80, fmin=0.0, fmax=8000.0)


class _Stages:
    """Times named stages and collects the files each one wrote, for the closing summary."""

    def __init__(self):
        self.rows: list[tuple[str, float, list[str], str]] = []

    @contextlib.contextmanager
    def stage(self, name: str):
        print(f"\n== {name}", flush=True)
        record = {"files": [], "note": ""}
        start = time.perf_counter()
        yield record
        self.rows.append((name, time.perf_counter() - start, record["files"], record["note"]))

    def summary(self) -> str:
        lines = ["", "== summary", f"{'stage':<28} {'seconds':>8}  files  note"]
        for name, seconds, files, note in self.rows:
            lines.append(f"{name:<28} {seconds:8.1f}  {len(files):5d}  {note}")
        total = sum(r[1] for r in self.rows)
        lines.append(f"{'total':<28} {total:8.1f}")
        written = [f for r in self.rows for f in r[2]]
        if written:
            lines.append("written:")
            lines.extend(f"  {f}" for f in written)
        return "\n".join(lines)


def _held_out_notes(entries, count):
    test = [e for e in entries if e.get("split") == "test"] or entries
    # one clip per timbre first, so the demo shows variety
    chosen, seen = [], set()
    for e in test:
        if e.get("timbre", e.get("label")) not in seen:
            chosen.append(e)
            seen.add(e.get("timbre", e.get("label")))
    chosen += [e for e in test if e not in chosen]
    return chosen[:count]


def run_demo(out_dir="out", data_dir="data", train_seconds=240.0, num_examples=4, train_vocoder=True):
    """Run every stage of the demo and print a summary; returns the summary rows."""
    from audiogen_tf import audio, features, manifest, metrics
    from audiogen_tf.datasets import notes
    from audiogen_tf.plotting import save_spectrogram_png

    os.makedirs(out_dir, exist_ok=True)
    stages = _Stages()
    mel_config = features.MelConfig(**DEMO_MEL)

    with stages.stage("build built-in notes") as rec:
        notes_dir = os.path.join(data_dir, "notes")
        manifest_path = notes.make_notes(notes_dir, sample_rate=mel_config.sample_rate, progress=True)
        entries = manifest.read_manifest(manifest_path)
        rec["note"] = f"{len(entries)} notes in {notes_dir}"

    examples = _held_out_notes(entries, num_examples)
    clips = []
    for e in examples:
        x, _ = audio.load(e["path"], sr=mel_config.sample_rate)
        x = x[: len(x) // mel_config.hop_length * mel_config.hop_length]
        clips.append((os.path.splitext(os.path.basename(e["path"]))[0], x))

    with stages.stage("feature round trip (Griffin-Lim)") as rec:
        distances = []
        for name, x in clips:
            log_mel = mel_config.log_mel(x[None, :])
            y = features.log_mel_to_audio(log_mel, mel_config, n_iter=64, length=len(x))[0].numpy()
            rec["files"].append(audio.save(os.path.join(out_dir, f"{name}_original.wav"), x, mel_config.sample_rate))
            rec["files"].append(audio.save(os.path.join(out_dir, f"{name}_griffin_lim.wav"), y, mel_config.sample_rate))
            rec["files"].append(
                save_spectrogram_png(
                    os.path.join(out_dir, f"{name}_griffin_lim.png"),
                    [log_mel[0].numpy(), mel_config.log_mel(y[None, :])[0].numpy()],
                    titles=[f"{name}: original log-mel", "Griffin-Lim resynthesis (64 iterations)"],
                    sample_rate=mel_config.sample_rate, hop_length=mel_config.hop_length,
                )
            )
            distances.append(metrics.multi_resolution_stft_distance(x, y)["total"])
        rec["note"] = f"MR-STFT distance to original: {np.mean(distances):.3f}"

    if train_vocoder:
        from audiogen_cli.demo_vocoder import vocoder_stages

        vocoder_stages(stages, mel_config, manifest_path, clips, out_dir, train_seconds)

    print(stages.summary(), flush=True)
    return stages.rows
